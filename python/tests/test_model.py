"""The binding against the lincomp program on the same inputs: the same
outputs (within 1e-6), the same evaluation, analysis and info."""
import os

import numpy as np
import pytest

import lincomp
from conftest import FIX, cli, cli_json, manifest, read_csv


@pytest.mark.parametrize("model,inp,exp", manifest(), ids=[r[0] + ":" + r[1] for r in manifest()])
def test_predict_matches_cli(model, inp, exp, tmp):
    m = lincomp.load(os.path.join(FIX, model))
    X = np.load(os.path.join(FIX, inp))
    got = m.predict(X)
    cli("predict", os.path.join(FIX, model), "--data", os.path.join(FIX, inp), "-o", tmp / "p.csv")
    want = read_csv(tmp / "p.csv")
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-6
    # and PyTorch's own outputs (the fixture's), as the CLI tests allow
    assert np.abs(got - np.load(os.path.join(FIX, exp)).reshape(got.shape)).max() <= 1e-4


def test_load_bytes_equals_path():
    path = os.path.join(FIX, "mlp_bn_dropout.onnx")
    a = lincomp.load(path)
    with open(path, "rb") as f:
        b = lincomp.load(f.read())
    assert a.info() == b.info()
    X = np.load(os.path.join(FIX, "mlp_bn_dropout_in.npy"))
    assert np.array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("name", ["mlp_gemm", "mlp_residual"])
def test_info_matches_cli(name):
    """Also a residual model, whose graph holds copies the file does not."""
    path = os.path.join(FIX, name + ".onnx")
    m = lincomp.load(path)
    want = cli_json("info", path)
    got = m.info()
    for k in ("params", "file_params", "flops", "input_width", "output_width", "nodes"):
        assert got[k] == want[k], k
    assert m.params == want["params"] and m.flops == want["flops"]
    assert m.widths == [n["width"] for n in want["nodes"]]


def test_no_copy_for_float32_c_order():
    m = lincomp.load(os.path.join(FIX, "mlp_gemm.onnx"))
    X = np.load(os.path.join(FIX, "mlp_gemm_in.npy"))
    assert lincomp._as_x(X, 8) is X or np.shares_memory(lincomp._as_x(X, 8), X)
    # other dtypes and layouts are converted, with the same result
    y = m.predict(X)
    assert np.array_equal(m.predict(X.astype(np.float64)), y)
    assert np.array_equal(m.predict(np.asfortranarray(X)), y)
    assert np.array_equal(m.predict(X.tolist()), y)


def labels_for(m, X):
    return m.predict(X).argmax(1).astype(np.int64)


def test_evaluate_matches_cli(tmp):
    path = os.path.join(FIX, "mlp_gemm.onnx")
    m = lincomp.load(path)
    X = np.load(os.path.join(FIX, "mlp_gemm_in.npy"))
    y = (np.arange(len(X)) % 3).astype(np.int64)  # not the predictions: accuracy < 1
    np.save(tmp / "y.npy", y)
    want = cli_json("eval", path, "--data", os.path.join(FIX, "mlp_gemm_in.npy"),
                    "--labels", tmp / "y.npy")
    got = m.evaluate(X, y)
    assert got["samples"] == want["samples"]
    assert got["params"] == want["params"]
    assert abs(got["accuracy"] - want["accuracy"]) <= 1e-6  # the CLI prints 6 decimals
    assert abs(got["loss"] - want["loss"]) <= 1e-6
    assert 0 < got["accuracy"] < 1


def test_label_match_finds_a_renaming():
    """Labels numbered in a rotated order: the plain accuracy is low, the
    matched one is the accuracy of the true numbering, and the mapping is
    the rotation; checked against numpy's confusion counts."""
    m = lincomp.load(os.path.join(FIX, "mlp_gemm.onnx"))
    X = np.load(os.path.join(FIX, "mlp_gemm_in.npy"))
    pred = labels_for(m, X)
    k = m.output_width
    y = pred.copy()
    y[::7] = (y[::7] + 1) % k  # some rows wrong, so that accuracy < 1
    rot = (y + 1) % k          # the same labels, numbered one higher
    want_acc = float(np.mean(y == pred))
    got = m.label_match(X, rot)
    assert abs(got["accuracy"] - float(np.mean(rot == pred))) <= 1e-12
    assert abs(got["matched"] - want_acc) <= 1e-12
    present = np.unique(pred)  # classes never predicted match any label
    assert [got["mapping"][c] for c in present] == [int((c + 1) % k) for c in present]
    same = m.label_match(X, y)
    assert same["matched"] == same["accuracy"] == want_acc


def test_analyze_matches_cli():
    path = os.path.join(FIX, "mlp_linear_stack.onnx")
    inp = os.path.join(FIX, "mlp_linear_stack_in.npy")
    m = lincomp.load(path)
    got = m.analyze(np.load(inp))
    want = cli_json("analyze", path, "--data", inp)
    got.pop("model"), want.pop("model")
    assert got == want
    assert got["layers"][0]["always_active"] > 0


def test_save_to_bytes_export_c(tmp):
    m = lincomp.load(os.path.join(FIX, "mlp_gemm.onnx"))
    m.save(tmp / "m.onnx")
    with open(tmp / "m.onnx", "rb") as f:
        assert f.read() == m.to_bytes()
    back = lincomp.load(m.to_bytes())
    X = np.load(os.path.join(FIX, "mlp_gemm_in.npy"))
    assert np.array_equal(back.predict(X), m.predict(X))
    m.export_c(str(tmp / "net.c"), "net")
    assert "net_forward" in (tmp / "net.h").read_text()
    assert (tmp / "net.c").stat().st_size > 0
