"""Model.compress and lincomp.train against the lincomp program on the same
inputs: equal reports in every key but file names and timings, compressed
models whose outputs agree within 1e-6."""
import os
import re

import numpy as np
import pytest

import lincomp
from conftest import FIX, cli, cli_json, read_csv, strip

MODEL = os.path.join(FIX, "mlp_linear_stack.onnx")
X_ALL = np.load(os.path.join(FIX, "mlp_linear_stack_in.npy"))


def halves(tmp):
    """Calibration and validation halves, as files for the CLI (the
    validation labels go with --val-labels)."""
    n = len(X_ALL) // 2
    X, Xv = X_ALL[:n], X_ALL[n:2 * n]
    m = lincomp.load(MODEL)
    yv = m.predict(Xv).argmax(1).astype(np.int64)
    yv[::4] = (yv[::4] + 1) % 3  # some wrong labels: accuracy below 1
    np.save(tmp / "X.npy", X)
    np.save(tmp / "Xv.npy", Xv)
    np.save(tmp / "yv.npy", yv)
    return m, X, Xv, yv


def same_as_cli(tmp, m, X, py_kwargs, cli_args):
    small, rep = m.compress(X, **py_kwargs)
    want = cli_json("compress", MODEL, "--data", tmp / "X.npy", "-o", tmp / "c.onnx",
                    *cli_args)
    assert strip(rep) == strip(want)
    cli("predict", tmp / "c.onnx", "--data", tmp / "X.npy", "-o", tmp / "p.csv")
    got = small.predict(X)
    assert np.abs(got - read_csv(tmp / "p.csv")).max() <= 1e-6
    assert small.params == rep["params_after"] <= rep["params_before"]
    return small, rep


def test_compress_threshold(tmp):
    m, X, _, _ = halves(tmp)
    small, rep = same_as_cli(tmp, m, X, {}, [])
    assert small.params < m.params  # this fixture has many always-active neurons
    assert rep["calibration_max_abs_diff"] <= 1e-4  # tau 1: exact on the data
    _, rep = same_as_cli(tmp, m, X, {"threshold": 0.9}, ["--threshold", "0.9"])
    assert rep["threshold"] == 0.9


def test_compress_threshold_val_options(tmp):
    m, X, Xv, yv = halves(tmp)
    _, rep = same_as_cli(tmp, m, X, {"threshold": 0.95, "val": (Xv, yv), "layer_threshold": 2,
                                     "no_reconstruct": True},
                         ["--threshold", "0.95", "--val", tmp / "Xv.npy", "--val-labels",
                          tmp / "yv.npy", "--layer-threshold", "2", "--no-reconstruct"])
    assert rep["accuracy_before"] is not None


def test_compress_target_size(tmp):
    m, X, Xv, yv = halves(tmp)
    _, rep = same_as_cli(tmp, m, X, {"target_size": 0.5, "val": (Xv, yv)},
                         ["--target-size", "0.5", "--val", tmp / "Xv.npy", "--val-labels",
                          tmp / "yv.npy"])
    assert rep["size_ratio"] <= 0.5


def test_compress_joint(tmp):
    m, X, Xv, yv = halves(tmp)
    _, rep = same_as_cli(tmp, m, X, {"target_size": 0.3, "val": (Xv, yv), "joint": True},
                         ["--target-size", "0.3", "--joint", "--val", tmp / "Xv.npy", "--val-labels",
                          tmp / "yv.npy"])
    assert rep["size_ratio"] <= 0.3 and rep["budget"]["joint"]["met"]
    assert all("pruned" in l for l in rep["layers"])
    with pytest.raises(lincomp.Error):
        m.compress(X, threshold=0.9, joint=True)


def test_compress_search_rows(tmp):
    m, X, Xv, yv = halves(tmp)
    for rows in (0, len(Xv) + 7):
        _, rep = same_as_cli(tmp, m, X, {"target_size": 0.5, "val": (Xv, yv),
                                         "search_rows": rows},
                             ["--target-size", "0.5", "--val", tmp / "Xv.npy", "--val-labels",
                              tmp / "yv.npy", "--search-rows", str(rows)])
        assert rep["budget"]["score_rows"] == {"val": len(Xv), "calibration": 7 if rows else 0}
    for bad in ({"search_rows": -1}, {"search_rows": 2.5}, {"search_rows": 10, "val": None},
                {"search_rows": 10, "target_size": None, "max_drop": 1}):
        kw = {"target_size": 0.5, "val": (Xv, yv), **bad}
        with pytest.raises(lincomp.Error, match="search_rows"):
            m.compress(X, **kw)


def test_compress_max_drop(tmp):
    m, X, Xv, yv = halves(tmp)
    same_as_cli(tmp, m, X, {"max_drop": 5, "val": (Xv, yv)},
                ["--max-drop", "5", "--val", tmp / "Xv.npy", "--val-labels", tmp / "yv.npy"])


def test_compress_prove(tmp):
    m, X, _, _ = halves(tmp)
    small, rep = m.compress(X, prove="interval")
    want = cli_json("compress", MODEL, "--data", tmp / "X.npy", "-o", tmp / "c.onnx",
                    "--prove=interval")
    assert strip(rep) == strip(want)


def test_compress_finetune(tmp):
    m, X, Xv, yv = halves(tmp)
    same_as_cli(tmp, m, X, {"threshold": 0.8, "finetune": 2, "train": X, "seed": 3},
                ["--threshold", "0.8", "--finetune", "2", "--train", tmp / "X.npy", "--seed", "3"])


def test_compress_finetune_teacher_anneal(tmp):
    m, X, _, _ = halves(tmp)
    t, _ = m.compress(X, threshold=0.8)  # another model of the same widths
    t.save(tmp / "t.onnx")
    _, rep = same_as_cli(tmp, m, X, {"threshold": 0.8, "finetune": 2, "train": X, "teacher": t,
                                     "anneal": 0.25},
                         ["--threshold", "0.8", "--finetune", "2", "--train", tmp / "X.npy",
                          "--teacher", tmp / "t.onnx", "--anneal", "0.25"])
    assert rep["finetune"]["anneal"] == 0.25 and rep["finetune"]["teacher"] is None  # unnamed
    with pytest.raises(lincomp.Error, match="anneal"):
        m.compress(X, finetune=1, anneal=2)
    with pytest.raises(lincomp.Error, match="teacher"):
        m.compress(X, finetune=1, teacher=t, finetune_target="labels")


def test_compress_progress_callback(tmp):
    m, X, Xv, yv = halves(tmp)
    lines = []
    m.compress(X, target_size=0.5, val=(Xv, yv), finetune=1, progress=lines.append)
    # the stage lines of lincomp compress, in order, with the search's steps
    # and the fine-tuning epoch
    starts = [next(i for i, l in enumerate(lines) if l.startswith(s)) for s in
              ("statistics over %d samples" % len(X), "linear pieces of", "budget search on",
               "folding", "reconstruction on", "checking the folded model",
               "fine-tuning for 1 epochs", "fine-tuning epoch 1/1: loss")]
    assert starts == sorted(starts)
    # an exception in the callback does not lose the run
    def boom(line):
        raise RuntimeError("callback")
    small, rep = m.compress(X, threshold=0.9, progress=boom)
    assert small.params == rep["params_after"]


def test_compress_per_node_thresholds(tmp):
    m, X, _, _ = halves(tmp)
    names = [n["name"] for n in m.nodes][1:-1]
    every, rep_every = m.compress(X, threshold=0.9)
    # every node at 0.9 by name: the plan of the global threshold
    same, rep = m.compress(X, thresholds={n: 0.9 for n in names})
    assert rep["params_after"] == rep_every["params_after"] and rep["threshold"] is None
    assert rep["thresholds"] == {n: 0.9 for n in names}
    assert np.array_equal(same.predict(X), every.predict(X))
    # the first node at 2 (nothing folded there), the rest at the default 1
    _, rep = m.compress(X, thresholds={names[0]: 2.0})
    assert rep["thresholds"][names[0]] is None and rep["layers"][0]["width_after"] == \
        rep["layers"][0]["width_before"]
    with pytest.raises(lincomp.Error, match="no hidden node named"):
        m.compress(X, thresholds={"nope": 0.5})


def test_train_matches_cli(tmp):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    np.save(tmp / "X.npy", X)
    np.save(tmp / "y.npy", y)
    opts = dict(hidden=(16, 8), epochs=3, seed=5, threads=1)
    m, summary = lincomp.train(X, y, **opts)
    want = cli_json("train", "--train", tmp / "X.npy", "--labels", tmp / "y.npy", "-o",
                    tmp / "t.onnx", "--hidden", "16,8", "--epochs", "3", "--seed", "5",
                    "--threads", "1")
    assert strip(summary) == strip(want)
    cli("predict", tmp / "t.onnx", "--data", tmp / "X.npy", "-o", tmp / "p.csv")
    assert np.abs(m.predict(X) - read_csv(tmp / "p.csv")).max() <= 1e-6
    assert m.widths == [5, 16, 8, 3]


def test_compress_progress_bar(tmp, capfd):
    m, X, Xv, yv = halves(tmp)
    small, rep = m.compress(X, target_size=0.5, val=(Xv, yv), progress=True)
    err = capfd.readouterr().err
    assert "lincomp compress: statistics over %d samples\n" % len(X) in err
    bars = [s for s in err.split("\r") if s.startswith("budget search ") and "candidates" in s]
    assert bars and re.search(r" (\d+)/\1 candidates", bars[-1])  # the final state drawn
    assert "lincomp compress: folding\n" in err
    # quiet by default
    m.compress(X, threshold=0.9)
    assert capfd.readouterr().err == ""


def test_compress_induce_matches_cli(tmp):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    np.save(tmp / "X.npy", X)
    np.save(tmp / "y.npy", y)
    m, _ = lincomp.train(X, y, hidden=(16, 16), epochs=2, seed=1, threads=1)
    m.save(tmp / "m.onnx")
    lines = []
    small, rep = m.compress(X, induce=True, target_size=0.5, train=(X, y), val=(X, y),
                            test=(X, y), epochs=1, min_steps=20, finetune_epochs=1, threads=1,
                            progress=lines.append)
    want = cli_json("compress", tmp / "m.onnx", "--induce", "--target-size", "0.5", "--train",
                    tmp / "X.npy", "--val", tmp / "X.npy", "--test", tmp / "X.npy", "--data",
                    tmp / "X.npy", "--labels", tmp / "y.npy", "--epochs", "1", "--min-steps",
                    "20", "--finetune-epochs", "1", "--threads", "1", "-o", tmp / "c.onnx")
    assert strip(rep) == strip(want) and rep["method"] == "induce"
    assert lines[0].startswith("inducing linearity") and any(l.startswith("finetune ") for l in lines)
    cli("predict", tmp / "c.onnx", "--data", tmp / "X.npy", "-o", tmp / "p.csv")
    assert np.abs(small.predict(X) - read_csv(tmp / "p.csv")).max() <= 1e-6
    with pytest.raises(lincomp.Error, match="train"):
        m.compress(X, induce=True, target_size=0.5, val=(X, y))


def test_prune_matches_cli(tmp):
    """Model.prune (lc_prune_report) gives the report and the model of
    `lincomp prune`: with labels and validation data, and distilling
    towards the model itself without labels; bad options fail as the CLI's."""
    m, X, Xv, yv = halves(tmp)
    y = m.predict(X).argmax(1).astype(np.int64)
    np.save(tmp / "y.npy", y)
    epochs = []
    small, rep = m.prune((X, y), 0.6, val=(Xv, y), epochs=3, seed=2, start_acc=0.1,
                         progress=epochs.append)
    want = cli_json("prune", MODEL, "--train", tmp / "X.npy", "--labels", tmp / "y.npy",
                    "--val", tmp / "Xv.npy", "--val-labels", tmp / "y.npy",
                    "--target-size", "0.6", "--epochs", "3",
                    "--seed", "2", "--start-acc", "0.1", "-o", tmp / "p.onnx")
    assert strip(rep) == strip(want)
    assert [e["epoch"] for e in epochs] == [1, 2, 3] and rep["accuracy_after"] is not None
    cli("predict", tmp / "p.onnx", "--data", tmp / "X.npy", "-o", tmp / "p.csv")
    assert np.abs(small.predict(X) - read_csv(tmp / "p.csv")).max() <= 1e-6
    assert small.params == rep["params_after"] < m.params
    _, rep = m.prune(X, 0.8, epochs=2, finetune_target="distill", temperature=3)
    want = cli_json("prune", MODEL, "--train", tmp / "X.npy", "--target-size", "0.8",
                    "--epochs", "2", "--finetune-target", "distill", "--temperature", "3",
                    "-o", tmp / "q.onnx")
    assert strip(rep) == strip(want) and rep["training"]["temperature"] == 3
    with pytest.raises(lincomp.Error, match="labels"):
        m.prune(X, 0.5)
    with pytest.raises(lincomp.Error, match="quantile"):
        m.prune((X, y), 0.5, quantile=0)
    with pytest.raises(lincomp.Error, match="target"):
        m.prune((X, y), 1.5)
