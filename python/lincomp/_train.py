"""lincomp.train: an MLP classifier trained as `lincomp train` trains it
(lc_graph_mlp and lc_train with the command's options and defaults), and the
optimizer options that Model.compress's fine-tuning shares."""
import ctypes
import math

import numpy as np

from . import _lib
from ._lib import lib
from . import Model, _Bar, _Data, _as_x, _as_y, _check, _invalid, _split, _threads, _whole


def _train_opts(t, options):
    """The optimizer options (lr, batch, optimizer, momentum, seed) into an
    lc_train_opts, checked as the CLI checks them."""
    opt = options.pop("optimizer", None)
    if opt is not None:
        if opt not in ("adam", "sgd"):
            raise _invalid("unknown optimizer '%s' (adam or sgd)" % opt)
        t.optimizer = 1 if opt == "sgd" else 0
    if options.get("lr") is not None:
        t.lr = float(options.pop("lr"))
        if not t.lr > 0:
            raise _invalid("lr wants a positive number, got %g" % t.lr)
    if options.get("batch") is not None:
        t.batch = _whole(options.pop("batch"), "batch", "a positive integer")
        if t.batch < 1:
            raise _invalid("batch wants a positive integer, got %d" % t.batch)
    if options.get("momentum") is not None:
        t.momentum = float(options.pop("momentum"))
        if not 0 <= t.momentum < 1:
            raise _invalid("momentum wants a number in [0, 1), got %g" % t.momentum)
    if options.get("seed") is not None:
        seed = _whole(options.pop("seed"), "seed", "a non-negative integer")
        if not 0 <= seed < 1 << 64:  # checked before the uint64 field would wrap it round
            raise _invalid("seed wants an integer from 0 to 2^64 - 1, got %d" % seed)
        t.seed = seed
    for k in ("lr", "batch", "momentum", "seed"):
        options.pop(k, None)  # given as None: the default


_ACTS = {"relu": (1, 0.0, 0.0, 0.0), "relu6": (4, 0.0, 0.0, 6.0), "prelu": (3, 0.0, 0.0, 0.0),
         "leaky_relu": (2, 0.01, 0.0, 0.0)}


def _act(name):
    if name.startswith("leaky_relu:"):
        try:
            return _lib.lc_act(2, float(name[11:]), 0.0, 0.0)
        except ValueError:
            pass
    if name not in _ACTS:
        raise _invalid("unknown activation '%s' (relu, leaky_relu[:alpha], relu6, prelu)" % name)
    return _lib.lc_act(*_ACTS[name])


def _hidden(hidden):
    if hidden is None:
        return [64, 128, 128, 256, 256]  # the CLI's default
    if isinstance(hidden, str):
        if hidden == "none":
            return []
        hidden = hidden.split(",")
    try:
        widths = [int(w) for w in hidden]
    except (TypeError, ValueError):
        widths = []
    if not widths and hidden not in ([], ()) or any(w < 1 for w in widths):
        raise _invalid("hidden wants positive widths like (64, 128) or 'none', got %r" % (hidden,))
    return widths


def _f6(x):
    """A number as `lincomp train --json` prints it (6 decimals)."""
    return float("%.6f" % x)


def train(X, y, val=None, hidden=None, epochs=None, seed=None, progress=None, **options):
    """Trains an MLP classifier as `lincomp train` does (lc_graph_mlp and
    lc_train with its options and defaults: hidden=(64, 128, 128, 256, 256) or
    "none", act,
    batch, lr, optimizer, momentum, weight_decay, patience, monitor ("loss"
    or "acc"), threads), on X (n, features) and labels y. Returns (Model,
    summary dict of `lincomp train --json`, "output" None)."""
    options = dict(options)
    options.pop("quiet", None)
    shape = np.shape(X)
    x = _as_x(X, int(np.prod(shape[1:])) if len(shape) >= 2 else -1, "X")
    yy = _as_y(y, x.shape[0], 1 << 30, "y")
    classes = max(int(yy.max()) + 1, 2)
    t = _lib.lc_train_opts()
    lib.lc_train_opts_default(ctypes.byref(t))
    if epochs is not None:
        t.epochs = _whole(epochs, "epochs", "a positive integer")
        if t.epochs < 1:
            raise _invalid("epochs wants a positive integer, got %d" % t.epochs)
    if seed is not None:
        options["seed"] = seed
    widths = _hidden(hidden)
    act = _act(options.pop("act", "relu"))
    if options.get("weight_decay") is not None:
        t.weight_decay = float(options.pop("weight_decay"))
        if not t.weight_decay >= 0:
            raise _invalid("weight_decay wants a number >= 0")
    patience = options.pop("patience", None)
    if patience is not None:
        if val is None:
            raise _invalid("patience needs val")
        t.patience = _whole(patience, "patience", "a positive integer")
        if t.patience < 1:
            raise _invalid("patience wants a positive integer")
    monitor = options.pop("monitor", None)
    if monitor is not None:
        if monitor not in ("loss", "acc"):
            raise _invalid("monitor wants loss or acc, got '%s'" % monitor)
        t.monitor = 1 if monitor == "acc" else 0
    _train_opts(t, options)
    threads = _threads(options)
    if options:
        raise _invalid("train: unknown option '%s'" % sorted(options)[0])
    if threads > 0:
        lib.lc_set_threads(threads)
    datas = [_Data(x, yy, classes)]
    try:
        if val is not None:
            vx, vy = _split(val, "val")
            vx = _as_x(vx, x.shape[1], "val")
            vyy = _as_y(vy, vx.shape[0], classes, "val labels")
            datas.append(_Data(vx, vyy, classes))
        g = ctypes.c_void_p()
        err = _lib.lc_error()
        hid = (ctypes.c_int32 * max(1, len(widths)))(*widths)
        _check(lib.lc_graph_mlp(x.shape[1], hid, len(widths), classes, act, t.seed,
                                ctypes.byref(g), ctypes.byref(err)), err)
        model = Model(g.value)
        state = {"last": None, "best": None, "seconds": 0.0}
        bar = _Bar(progress, "train") if progress else None

        def on_epoch(ctx, e):
            e = e.contents
            info = {f: getattr(e, f) for f, _ in _lib.lc_epoch_info._fields_}
            state["last"] = info
            state["seconds"] += e.seconds
            if e.best or state["best"] is None:
                state["best"] = info
            if bar:
                if math.isnan(e.val_loss):
                    bar.line("epoch %3d/%d  loss %.4f  acc %.4f  %.2fs" %
                             (e.epoch, e.epochs, e.train_loss, e.train_acc, e.seconds))
                else:
                    bar.line("epoch %3d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f%s  "
                             "%.2fs" % (e.epoch, e.epochs, e.train_loss, e.train_acc,
                                        e.val_loss, e.val_acc, " *" if e.best else "  ",
                                        e.seconds))

        cb = _lib.epoch_fn(on_epoch)
        t.epoch_cb = cb
        _check(lib.lc_train(model._ptr, datas[0].ptr, datas[1].ptr if len(datas) > 1 else None,
                            ctypes.byref(t), ctypes.byref(err)), err)
    finally:
        for d in datas:
            d.close()
    e = state["best"] if (len(datas) > 1 and t.patience > 0) else state["last"]
    has_val = not math.isnan(e["val_loss"])
    summary = {"output": None, "params": model.params, "flops": model.flops,
               "epochs_run": state["last"]["epoch"], "epoch_kept": e["epoch"],
               "train_loss": _f6(e["train_loss"]), "train_accuracy": _f6(e["train_acc"]),
               "val_loss": _f6(e["val_loss"]) if has_val else None,
               "val_accuracy": _f6(e["val_acc"]) if has_val else None,
               "seconds": float("%.3f" % state["seconds"])}
    return model, summary
