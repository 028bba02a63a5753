"""lincomp for PyTorch: compress an nn.Module without writing files.

    import lincomp.torch
    onnx_bytes, report = lincomp.torch.compress(net, torch.zeros(1, 20), X, threshold=0.99)

Needs torch (imported when called, so `import lincomp` works without it).
"""
import io

import numpy as np

import lincomp


def export(module, example_input, opset=13):
    """The module as ONNX bytes (torch.onnx.export, batch axis dynamic)."""
    import torch  # noqa: F401  (the real torch: absolute import)

    buf = io.BytesIO()
    was_training = module.training
    module.eval()
    try:
        torch.onnx.export(module, example_input, buf, input_names=["input"],
                          output_names=["output"], opset_version=opset,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    finally:
        module.train(was_training)
    return buf.getvalue()


def _numpy(a):
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def compress(module, example_input, X, **options):
    """Exports module, compresses it on the calibration samples X (a tensor
    or an array) with Model.compress's options (val=(Xv, yv), threshold,
    target_size, max_drop, finetune, progress, ...). Returns (ONNX bytes of
    the compressed model, report dict)."""
    model = lincomp.load(export(module, example_input))
    for k in ("val", "train"):
        if isinstance(options.get(k), (tuple, list)):
            options[k] = tuple(_numpy(a) for a in options[k])
        elif options.get(k) is not None:
            options[k] = _numpy(options[k])
    small, report = model.compress(_numpy(X), **options)
    return small.to_bytes(), report
