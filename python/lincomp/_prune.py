"""Model.prune: importance pruning during training as `lincomp prune` does it
(lc_prune_report: lc_prune with the command's options, defaults and JSON
report), the baseline that the paper compares folding with."""
import ctypes
import math

from . import _lib
from ._lib import lib
from . import (Model, _check, _distill_target, _invalid, _report, _split, _target_size,
               _threads, _whole)
from ._train import _train_opts


def prune(self, train, target_size, val=None, epochs=None, progress=None, **options):
    """Trains this model and removes its least active hidden neurons until it
    has target_size (in (0, 1]) of its parameters, as `lincomp prune`:
    train=(X, y), or X alone with finetune_target="distill" (this model is
    then the teacher); val=(Xv, yv) for the accuracy per epoch, before and
    after; epochs (the whole budget), and as keywords start_acc, quantile,
    bias_correction, finetune_target ("labels", the default, or "distill"),
    temperature, distill_alpha, lr, batch, optimizer, momentum, seed,
    threads. progress: True prints a line per epoch on stderr, or a callable
    gets each epoch as a dict. Returns (Model, report dict: the keys of the
    CLI's JSON report, "model" and "output" None)."""
    options = dict(options)
    options.pop("quiet", None)
    o = _lib.lc_prune_opts()
    lib.lc_prune_opts_default(ctypes.byref(o))
    # the ranges (epochs, start_acc, quantile) are lc_prune's to check;
    # target_size's is checked here too, for compress's message
    o.target = _target_size(target_size)
    if epochs is not None:
        o.train.epochs = _whole(epochs, "epochs", "a positive integer")
    for key in ("start_acc", "quantile"):
        if options.get(key) is not None:
            setattr(o, key, float(options.pop(key)))
        options.pop(key, None)
    o.bias_correction = 1 if options.pop("bias_correction", False) else 0
    if not _distill_target(options, o.train, "labels"):
        o.train.teacher = self._ptr
    _train_opts(o.train, options)
    threads = _threads(options)
    if options:
        raise _invalid("prune: unknown option '%s'" % sorted(options)[0])
    if threads > 0:
        lib.lc_set_threads(threads)
    tx, ty = _split(train, "train")
    datas = []
    try:
        datas.append(self._data(tx, ty, "train"))
        v = None
        if val is not None:
            vx, vy = _split(val, "val")
            v = self._data(vx, vy, "val", labels=True)
            datas.append(v)

        def on_epoch(ctx, e):
            e = e.contents
            info = {f: getattr(e, f) for f, _ in _lib.lc_prune_epoch._fields_}
            if callable(progress):
                progress(info)
            elif progress:
                import sys
                line = "epoch %3d/%d  loss %.4f  acc %.4f" % (
                    info["epoch"], info["epochs"], info["train_loss"], info["train_acc"])
                if not math.isnan(info["val_acc"]):
                    line += "  val_acc %.4f" % info["val_acc"]
                sys.stderr.write(line + "  removed %4d  params %d\n"
                                 % (info["removed"], info["params"]))

        cb = _lib.prune_epoch_fn(on_epoch) if progress else _lib.prune_epoch_fn()
        o.epoch_cb = cb
        g, rep = ctypes.c_void_p(), ctypes.c_void_p()
        err = _lib.lc_error()
        _check(lib.lc_prune_report(self._ptr, datas[0].ptr, v.ptr if v else None,
                                   ctypes.byref(o), None, None, ctypes.byref(g),
                                   ctypes.byref(rep), ctypes.byref(err)), err)
        return Model(g.value), _report(rep)
    finally:
        for d in datas:
            d.close()


Model.prune = prune
