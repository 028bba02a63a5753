"""lincomp.torch's own steps (export into memory, compress, ONNX bytes back)
with a stand-in for torch whose exporter writes a fixture model: runs where
torch is missing too. test_torch.py runs the real exporter."""
import os
import sys
import types

import numpy as np

import lincomp
from conftest import FIX, strip

MODEL = os.path.join(FIX, "mlp_linear_stack.onnx")


class FakeModule:
    def __init__(self):
        self.training = True
        self.modes = []

    def eval(self):
        self.training = False
        self.modes.append("eval")

    def train(self, mode=True):
        self.training = mode
        self.modes.append(mode)


def test_torch_glue(monkeypatch):
    calls = []

    def export(module, example, f, **kw):
        calls.append((module.training, kw))
        with open(MODEL, "rb") as src:
            f.write(src.read())

    fake = types.ModuleType("torch")
    fake.onnx = types.SimpleNamespace(export=export)
    monkeypatch.setitem(sys.modules, "torch", fake)
    import lincomp.torch as lt

    net = FakeModule()
    X = np.load(os.path.join(FIX, "mlp_linear_stack_in.npy"))
    onnx, rep = lt.compress(net, object(), X, threshold=0.99)
    # exported in eval mode, the module's mode restored, the batch axis dynamic
    assert calls[0][0] is False and net.training is True
    assert calls[0][1]["dynamic_axes"]["input"] == {0: "batch"}
    small = lincomp.load(onnx)
    want, want_rep = lincomp.load(MODEL).compress(X, threshold=0.99)
    assert strip(rep) == strip(want_rep)
    assert np.array_equal(small.predict(X), want.predict(X))
    assert small.params < lincomp.load(MODEL).params
