"""The ctypes mirrors of lincomp.h's option structs have its layout: the
library's *_default functions fill them, and every default lands in the
field of its name (a field out of place or a size that differs would move
the later ones)."""
import ctypes

from lincomp import _lib
from lincomp._lib import lib


def test_compress_opts_layout():
    o = _lib.lc_compress_opts()
    ctypes.memset(ctypes.byref(o), 0x5a, ctypes.sizeof(o))
    lib.lc_compress_opts_default(ctypes.byref(o))
    assert o.threshold == 1.0 and not o.node_thresholds
    assert o.lt.kind == 0 and o.max_drop == -1 and o.target_size == 0
    assert o.confidence == 0.95 and o.reconstruct == 1 and o.joint == 0
    assert o.search_rows == 2048
    assert o.prove.on == 0 and o.prove.method == 1 and not o.prove.box and o.prove.lp_time == 0
    assert o.prove_threshold == 0 and o.finetune_epochs == 0
    t = o.finetune
    assert (t.epochs, t.batch, t.lr, t.optimizer, t.momentum) == (10, 32, 0, 0, 0.9)
    assert (t.beta1, t.beta2, t.eps, t.weight_decay, t.seed) == (0.9, 0.999, 1e-8, 0, 0)
    assert t.anneal == 0.5
    assert (t.patience, t.monitor, t.temperature, t.alpha) == (0, 0, 2.0, 0.5)
    assert not t.teacher and not t.cb_ctx
    assert o.finetune_labels == 0 and o.threads == 0 and not o.progress_ctx
    assert (o.model_name, o.output_name, o.data_name, o.train_name, o.teacher_name) == (None,) * 5
    i = o.induce_opts
    assert o.induce == 0 and not o.induce_test
    assert (i.target_size, i.epochs, i.min_steps, i.finetune_epochs, i.batch) == (1, 10, 2000, 3, 32)
    assert (i.lr, i.gate_lr, i.lambda0, i.lambda_factor) == (1e-3, 1e-2, 1e-4, 1.25)
    assert (i.checks, i.anneal_share, i.seed, i.finetune_labels) == (100, 0.8, 0, 0)
    assert (i.temperature, i.alpha) == (2.0, 0.5) and not i.epoch_cb and not i.cb_ctx


def test_analyze_opts_layout():
    o = _lib.lc_analyze_opts()
    ctypes.memset(ctypes.byref(o), 0x5a, ctypes.sizeof(o))
    lib.lc_analyze_opts_default(ctypes.byref(o))
    assert o.prove.on == 0 and o.prove.method == 1 and not o.prove.box
    assert o.threads == 0 and not o.progress_ctx and o.model_name is None


def test_prune_opts_layout():
    o = _lib.lc_prune_opts()
    ctypes.memset(ctypes.byref(o), 0x5a, ctypes.sizeof(o))
    lib.lc_prune_opts_default(ctypes.byref(o))
    assert (o.target, o.start_acc, o.quantile, o.bias_correction) == (1.0, 0.7, 0.05, 0)
    t = o.train
    assert (t.epochs, t.batch, t.lr, t.optimizer, t.momentum) == (10, 32, 0, 0, 0.9)
    assert (t.temperature, t.alpha) == (2.0, 0.5) and not t.teacher
    assert not o.epoch_cb and not o.cb_ctx
