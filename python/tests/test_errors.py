"""Bad arguments raise ValueError or lincomp.Error with a clear message, and
the interpreter lives on (each case runs here, in the test's process)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import lincomp
from conftest import FIX, LINCOMP, ROOT

M = os.path.join(FIX, "mlp_gemm.onnx")
X = np.load(os.path.join(FIX, "mlp_gemm_in.npy"))


@pytest.fixture
def m():
    return lincomp.load(M)


def test_wrong_shape(m):
    with pytest.raises(ValueError, match=r"shape \(n, 8\)"):
        m.predict(X[:, :5])
    with pytest.raises(ValueError, match="shape"):
        m.compress(np.zeros((4, 9), np.float32))
    with pytest.raises(ValueError, match="no samples"):
        m.predict(np.zeros((0, 8), np.float32))


def test_nan(m):
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="row 3, column 2"):
        m.predict(bad)
    with pytest.raises(ValueError, match="NaN"):
        m.compress(bad)


def test_wrong_dtype(m):
    with pytest.raises(ValueError, match="dtype"):
        m.predict(np.array([["a"] * 8]))
    with pytest.raises(ValueError, match="dtype"):
        m.predict(np.array([[object()] * 8], dtype=object))
    with pytest.raises(ValueError, match="dtype"):
        m.predict(X.astype(np.complex64))


def test_labels(m):
    with pytest.raises(ValueError, match="labels are needed"):
        m.evaluate(X, None)
    with pytest.raises(ValueError, match="64 labels"):
        m.evaluate(X, np.zeros(10, np.int64))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        m.evaluate(X, np.full(64, 7))
    with pytest.raises(ValueError, match="whole numbers"):
        m.evaluate(X, np.full(64, 0.5))
    with pytest.raises(ValueError, match="labels are needed"):
        m.compress(X, val=X)  # val without labels
    with pytest.raises(ValueError, match="labels are needed"):
        lincomp.train(X, None)


def test_library_errors_carry_status():
    with pytest.raises(lincomp.Error) as e:
        lincomp.load(b"this is not an ONNX model")
    assert e.value.status_name == "format error" and e.value.message
    with pytest.raises(lincomp.Error) as e:
        lincomp.load("/nonexistent/model.onnx")
    assert "/nonexistent/model.onnx" in e.value.message
    with pytest.raises(ValueError):
        lincomp.load(b"")
    with pytest.raises(ValueError):
        lincomp.load(42)


def test_bad_options_are_errors_not_crashes(m, tmp):
    with pytest.raises(lincomp.Error) as e:  # checked by lc_compress
        m.compress(X, threshold=1.5)
    assert e.value.status_name == "invalid argument"
    assert e.value.message.startswith("threshold") and "1.5" in e.value.message
    with pytest.raises(lincomp.Error) as e:
        m.compress(X, no_such_option=3)
    assert "no_such_option" in e.value.message
    with pytest.raises(lincomp.Error) as e:
        m.compress(X, target_size=0.5, max_drop=1)  # the library refuses both together
    assert "not both" in e.value.message
    with pytest.raises(lincomp.Error) as e:
        m.compress(X, max_drop=1)  # a certificate needs rows the search never saw
    assert "validation" in e.value.message
    with pytest.raises(lincomp.Error) as e:
        m.compress(X, lr=0.1)  # a fine-tuning option without fine-tuning
    assert "need finetune" in e.value.message
    (tmp / "box.csv").write_text("lo,hi\nnot,numbers\n")
    with pytest.raises(lincomp.Error) as e:  # a library error reading the box
        m.compress(X, prove=True, bounds=str(tmp / "box.csv"))
    assert e.value.status == 2  # LC_ERR_FORMAT
    assert e.value.status_name == "format error" and "box.csv" in e.value.message
    with pytest.raises(lincomp.Error):
        m.export_c(str(tmp / "x.txt"))  # not a .c path
    with pytest.raises(lincomp.Error):
        m.save(str(tmp / "no" / "such" / "dir.onnx"))
    # the model still works after every failure
    assert m.predict(X).shape == (64, 3)


def test_module_version():
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-m", "lincomp", "--version"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("lincomp %s (python), liblincomp " % lincomp.__version__)
    r = subprocess.run([sys.executable, "-m", "lincomp", "info", M], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and "467" in r.stdout


def test_missing_library_is_an_import_error(tmp):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
               LINCOMP_LIB=str(tmp / "liblincomp.so"))
    r = subprocess.run([sys.executable, "-c", "import lincomp"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 1 and "LINCOMP_LIB" in r.stderr and "Segmentation" not in r.stderr


def test_option_values_the_cli_refuses(m):
    # each was taken silently: 0 and a negative max_drop as "not set", a
    # negative thread count as the default, 2.7 epochs as 2
    Xv, yv = X, m.predict(X).argmax(1)
    for kw, msg in ((dict(target_size=0), r"target_size wants a number in \(0, 1\], got 0"),
                    (dict(target_size=float("nan")), "target_size wants"),
                    (dict(max_drop=-1, val=(Xv, yv)), "max_drop wants percentage points from 0 "
                                                      "to 100, got -1"),
                    (dict(threshold=0.9, threads=-1), "threads wants an integer from 1 to 1024"),
                    (dict(threshold=0.9, threads=0), "threads wants an integer from 1 to 1024"),
                    (dict(threshold=0.9, threads=2.5), "threads wants an integer"),
                    (dict(target_size=0.5, finetune=2.7), "finetune wants a positive number of "
                                                          "epochs, got 2.7"),
                    (dict(target_size=0.5, finetune=-1), "finetune wants a positive number"),
                    (dict(threshold=0.9, finetune=1, batch=8.5), "batch wants a positive integer"),
                    (dict(threshold=0.9, finetune=1, seed=-1), r"seed wants an integer from 0 to 2\^64")):
        with pytest.raises(lincomp.Error, match=msg) as e:
            m.compress(X, **kw)
        assert e.value.status_name == "invalid argument"
    with pytest.raises(lincomp.Error, match="target_size wants"):
        m.prune((X, yv), 0)
    with pytest.raises(lincomp.Error, match="epochs wants a positive integer, got 1.5"):
        m.prune((X, yv), 0.5, epochs=1.5)
    with pytest.raises(lincomp.Error, match="threads wants"):
        m.prune((X, yv), 0.5, threads=-1)
    with pytest.raises(lincomp.Error, match="threads wants"):
        m.analyze(X, threads=-1)
    with pytest.raises(lincomp.Error, match="epochs wants a positive integer, got 2.5"):
        lincomp.train(X, yv, epochs=2.5)
    with pytest.raises(lincomp.Error, match="epochs wants an integer"):
        m.compress(None, induce=True, target_size=0.5, train=(X, yv), val=(X, yv), epochs=1.5)
    with pytest.raises(lincomp.Error, match="target_size wants"):
        m.compress(None, induce=True, target_size=0, train=(X, yv), val=(X, yv))
    # whole numbers of any integer or float type are still numbers of epochs
    small, rep = m.compress(X, threshold=0.9, finetune=np.int64(1), threads=2.0, seed=3.0)
    assert rep["finetune"]["seed"] == 3 and small.params == rep["params_after"]
    small, rep = m.compress(X, threshold=0.9, finetune=0)  # 0, like None: no fine-tuning
    assert small.params == rep["params_after"]


def test_pairs_as_lists_or_tuples(m):
    # [X, y] is (X, y) wherever a pair is taken; prune read the list as X
    y = m.predict(X).argmax(1)
    y[::5] = (y[::5] + 1) % 3
    a, ra = m.prune((X, y), 0.5, val=(X, y), epochs=2, seed=1, threads=1)
    b, rb = m.prune([X, y], 0.5, val=[X, y], epochs=2, seed=1, threads=1)
    assert ra["params_after"] == rb["params_after"] and ra["accuracy_after"] == rb["accuracy_after"]
    assert np.array_equal(a.predict(X), b.predict(X))
    _, ra = m.compress(X, target_size=0.5, val=(X, y), finetune=1, train=(X, y), seed=1, threads=1)
    _, rb = m.compress(X, target_size=0.5, val=[X, y], finetune=1, train=[X, y], seed=1, threads=1)
    assert ra["params_after"] == rb["params_after"] and ra["accuracy_after"] == rb["accuracy_after"]
    # a list of two rows is still two rows of features, not a pair
    rows = [list(map(float, X[0])), list(map(float, X[1]))]
    _, rep = m.compress(X, threshold=0.9, finetune=1, train=rows, seed=1, threads=1)
    assert rep["params_after"] > 0


def test_compress_refuses_what_the_cli_refuses(m, tmp_path):
    """Combinations `lincomp compress` refuses are refused here too, with the
    same reason, rather than resolved by lc_compress's precedence."""
    np.save(tmp_path / "x.npy", X)
    cases = [(dict(threshold=0.9, target_size=0.5), ["--threshold", "0.9", "--target-size", "0.5"],
              "threshold"),
             (dict(prove=True, no_reconstruct=True), ["--prove", "--no-reconstruct"],
              "no.reconstruct"),
             (dict(prove=True, max_drop=1, val=(X, np.zeros(len(X), np.int64))),
              ["--prove", "--max-drop", "1", "--val", tmp_path / "x.npy"], "prove")]
    for kw, args, word in cases:
        with pytest.raises(lincomp.Error, match="cannot be combined"):
            m.compress(X, **kw)
        r = subprocess.run([LINCOMP, "compress", M, "--data", tmp_path / "x.npy",
                            "-o", tmp_path / "o.onnx", *args], capture_output=True, text=True)
        assert r.returncode == 2 and "cannot be combined" in r.stderr, (args, r.stderr)
    # a seed beyond 64 bits is refused, not wrapped round to a small one
    with pytest.raises(lincomp.Error, match="2\\^64"):
        m.compress(X, threshold=0.9, finetune=1, seed=2 ** 64 + 5)


def test_one_feature_model_takes_a_1d_array():
    """A 1-D array for a model of one input is n samples, as an NPY file of
    shape (n,) is for the CLI; for a wider model it is one sample."""
    x = np.linspace(-1, 1, 50).reshape(-1, 1).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    one, _ = lincomp.train(x, y, hidden=(4,), epochs=1, seed=0, threads=1)
    assert np.array_equal(one.predict(x[:, 0]), one.predict(x))
    wide = lincomp.load(M)
    assert wide.predict(X[0]).shape == (1, wide.output_width)
