"""lincomp.torch: an nn.Module compressed without files (skipped without
torch). The exported model must compute what the module computes, the
exact fold (tau 1) too within float32 rounding (1e-4: lincomp sums in
another order than torch), and a budget run with tensors must give the
numbers Model.compress gives on the same exported model."""
import os

import numpy as np
import pytest

import lincomp
from conftest import strip

if os.environ.get("LINCOMP_ASAN_PRELOADED"):  # set by tests/cli/python.sh
    pytest.skip("torch.onnx.export aborts inside the ASan runtime's __cxa_throw interceptor "
                "(a sanitizer build); the plain build runs these", allow_module_level=True)
torch = pytest.importorskip("torch")
import lincomp.torch as lt  # noqa: E402


def net_and_data():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                              torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        net[0].bias += 3.0  # always-active neurons: something to fold exactly
    return net, torch.randn(200, 6)


def test_torch_compress():
    net, X = net_and_data()
    onnx, rep = lt.compress(net, torch.zeros(1, 6), X)
    small = lincomp.load(onnx)
    assert rep["params_after"] == small.params < rep["params_before"]
    with torch.no_grad():
        want = net(X).numpy()
    assert np.abs(lincomp.load(lt.export(net, torch.zeros(1, 6))).predict(X.numpy()) -
                  want).max() <= 1e-5
    assert np.abs(small.predict(X.numpy()) - want).max() <= 1e-4
    assert net.training  # the module's mode is restored


def test_torch_budget_with_tensors():
    net, X = net_and_data()
    Xv = torch.randn(300, 6)
    with torch.no_grad():
        yv = net(Xv).argmax(1)
    yv[::5] = (yv[::5] + 1) % 3  # some wrong labels: accuracy below 1
    opts = dict(target_size=0.3, val=(Xv, yv), finetune=1, train=X, seed=1)
    onnx, rep = lt.compress(net, torch.zeros(1, 6), X, **opts)
    assert rep["size_ratio"] <= 0.3
    # the module's own accuracy on the validation tensors
    with torch.no_grad():
        acc = (net(Xv).argmax(1) == yv).float().mean().item()
    assert abs(rep["accuracy_before"] - acc) <= 1e-6
    # the same as Model.compress on the exported model with numpy arrays
    model = lincomp.load(lt.export(net, torch.zeros(1, 6)))
    want, want_rep = model.compress(X.numpy(), target_size=0.3, val=(Xv.numpy(), yv.numpy()),
                                    finetune=1, train=X.numpy(), seed=1)
    assert strip(rep) == strip(want_rep)
    got = lincomp.load(onnx).predict(Xv.numpy())
    assert np.abs(got - want.predict(Xv.numpy())).max() <= 1e-6
