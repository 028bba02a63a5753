"""A Model owns its C graph: what points into it from a C structure stays
alive until the C call returns, and copies and pickles are models of their
own. The cases that crashed run in a child interpreter, so a regression
fails the test instead of killing pytest."""
import os
import subprocess
import sys

from conftest import FIX, ROOT

MODEL = os.path.join(FIX, "mlp_linear_stack.onnx")
X_NPY = os.path.join(FIX, "mlp_linear_stack_in.npy")


def child(code, *args, cwd=None):
    """Runs code in a fresh interpreter on this lincomp; (exit status, output)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-c", code] + [str(a) for a in args], cwd=cwd,
                       capture_output=True, text=True, env=env, timeout=300)
    return r.returncode, r.stdout + r.stderr


TEACHER = """
import sys, weakref, numpy as np, lincomp
m, X = lincomp.load(sys.argv[1]), np.load(sys.argv[2])
refs, alive = [], []
def teacher():  # reachable only through the call's arguments
    t = lincomp.load(sys.argv[1])
    refs.append(weakref.ref(t))
    return t
# the progress callback runs inside lc_compress: is the teacher still there?
m.compress(X, threshold=0.8, finetune=1, train=X, teacher=teacher(),
           progress=lambda line: alive.append(refs[0]() is not None))
print("alive during the call", bool(alive) and all(alive))
print("gone after it", refs[0]() is None)
for i in range(5):  # freed memory reused by the next load: the crash of old
    s, r = m.compress(X, target_size=0.5, finetune=1, train=X, teacher=lincomp.load(sys.argv[1]))
print("teacher", r["finetune"]["target"])
"""


def test_temporary_teacher_lives_through_compress():
    status, out = child(TEACHER, MODEL, X_NPY)
    assert status == 0, out
    assert "alive during the call True" in out and "gone after it True" in out
    assert "teacher distill" in out


COPY = """
import copy, gc, sys, numpy as np, lincomp
m, X = lincomp.load(sys.argv[1]), np.load(sys.argv[2])
want = m.predict(X)
c = copy.deepcopy(m) if sys.argv[3] == "deep" else copy.copy(m)
print("own graph", c._ptr != m._ptr)
del m
gc.collect()
print("same outputs", np.array_equal(c.predict(X), want))
del c
gc.collect()
print("end")
"""


def test_copy_and_deepcopy_are_models_of_their_own():
    for how in ("shallow", "deep"):
        status, out = child(COPY, MODEL, X_NPY, how)
        assert status == 0, (how, out)
        assert "own graph True" in out and "same outputs True" in out and "end" in out, out


PICKLE = """
import pickle, sys, numpy as np, lincomp
if sys.argv[1] == "dump":
    m = lincomp.load(sys.argv[2])
    open("m.pkl", "wb").write(pickle.dumps(m))
    np.save("want.npy", m.predict(np.load(sys.argv[3])))
    print("same process", np.array_equal(pickle.loads(pickle.dumps(m)).predict(np.load(sys.argv[3])),
                                          np.load("want.npy")))
else:
    m = pickle.load(open("m.pkl", "rb"))
    print(m)
    print("same outputs", np.array_equal(m.predict(np.load(sys.argv[3])), np.load("want.npy")))
"""


def test_pickle_round_trips_across_processes(tmp):
    # the loading process is another one: a pickled pointer means nothing there
    status, out = child(PICKLE, "dump", MODEL, X_NPY, cwd=tmp)
    assert status == 0 and "same process True" in out, out
    status, out = child(PICKLE, "load", MODEL, X_NPY, cwd=tmp)
    assert status == 0, out
    assert "<lincomp.Model" in out and "same outputs True" in out, out
