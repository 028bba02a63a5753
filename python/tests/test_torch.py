"""lincomp.torch: an nn.Module compressed without files (skipped without
torch)."""
import numpy as np
import pytest

import lincomp

torch = pytest.importorskip("torch")
import lincomp.torch as lt  # noqa: E402


def test_torch_compress():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                              torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        net[0].bias += 3.0  # always-active neurons: something to fold exactly
    X = torch.randn(200, 6)
    onnx, rep = lt.compress(net, torch.zeros(1, 6), X)
    small = lincomp.load(onnx)
    assert rep["params_after"] == small.params < rep["params_before"]
    with torch.no_grad():
        want = net(X).numpy()
    assert np.abs(small.predict(X.numpy()) - want).max() <= 1e-4
