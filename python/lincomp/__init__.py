"""lincomp from Python: a thin ctypes binding over liblincomp.

Linearity-based compression of ReLU networks. Models are ONNX (a path or
bytes); data are numpy arrays of features, float32 row-major (any other
dtype or layout is converted once), labels integer class indices.

    import lincomp
    m = lincomp.load("model.onnx")
    small, report = m.compress(X, threshold=0.99, val=(Xv, yv))
    small.save("small.onnx")

Every function calls the library directly on the in-memory model and
arrays: compress is lc_compress and analyze lc_analyze, the functions the
lincomp command runs, so they give the CLI's numbers and its JSON report
keys; the CLI's options are keyword arguments (layer_threshold=... for
--layer-threshold, no_reconstruct=True for --no-reconstruct). train is
lc_graph_mlp and lc_train with the CLI's defaults. Progress comes through a
callback: progress=True draws a bar on stderr, a callable gets each stage
line. Failures raise lincomp.Error (the library's status and message); bad
arguments (shape, dtype, NaN, missing labels) raise ValueError.
The library is found through $LINCOMP_LIB, else beside the installed package
(PREFIX/lib/liblincomp.so.0), else by the loader.
"""
import ctypes
import json
import math
import numbers
import os
import sys
import time

import numpy as np

from . import _lib
from ._lib import lib

__version__ = "0.1.0"
__all__ = ["Error", "Model", "load", "train", "library_path", "library_version"]

library_path = _lib.path


class Error(Exception):
    """A failure reported by liblincomp: status is the lc_status code,
    status_name its name ("format error", ...), message the library's
    message."""

    exit_status = None  # (kept for older callers: there is no command any more)

    def __init__(self, status, message, status_name=None):
        self.status = status
        self.status_name = status_name or _status_name(status)
        self.message = message
        super().__init__("%s (%s)" % (message, self.status_name))


def _status_name(code):
    s = lib.lc_status_str(int(code))
    return s.decode() if s else "unknown error"


def _check(status, err):
    if status:
        msg = err.msg.decode("utf-8", "replace") or _status_name(status)
        raise Error(int(status), msg)


# ------------------------------------------------------------- arrays


def _as_x(X, width, what="X"):
    """X as a C-contiguous float32 (n, width) array: the same memory when it
    already is one, else one conversion. ValueError on a bad dtype, shape
    or a non-finite value."""
    if hasattr(X, "detach") and hasattr(X, "numpy"):  # a torch tensor
        X = X.detach().cpu().numpy()
    a = np.asarray(X)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ValueError("%s: wants numbers (float32 or convertible), got dtype %s" % (what, a.dtype))
    if a.ndim == 1 and a.shape[0] == width:
        a = a.reshape(1, width)  # one sample
    elif a.ndim == 1 and width == 1:
        a = a.reshape(-1, 1)  # n samples of one feature, as an NPY file of shape (n,)
    elif a.ndim > 2 and a.shape[0] and int(np.prod(a.shape[1:])) == width:
        a = a.reshape(a.shape[0], width)  # images: (n, h, w) -> (n, h*w)
    if a.ndim != 2 or a.shape[1] != width:
        if width < 0:  # no model yet (train): any number of features
            raise ValueError("%s: wants shape (samples, features), got %s" % (what, a.shape))
        raise ValueError("%s: wants shape (n, %d) for this model, got %s" % (what, width, a.shape))
    if a.shape[0] == 0:
        raise ValueError("%s: no samples" % what)
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.isfinite(a).all():
        r, c = np.argwhere(~np.isfinite(a))[0]
        raise ValueError("%s: a NaN or infinite value at row %d, column %d" % (what, r, c))
    return a


def _as_y(y, n, classes, what="y"):
    if y is None:
        raise ValueError("%s: labels are needed here" % what)
    if hasattr(y, "detach") and hasattr(y, "numpy"):
        y = y.detach().cpu().numpy()
    a = np.asarray(y)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ValueError("%s: wants integer class labels, got dtype %s" % (what, a.dtype))
    a = a.reshape(-1) if a.ndim == 2 and 1 in a.shape else a
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError("%s: wants %d labels (one per sample), got shape %s" % (what, n, a.shape))
    if a.dtype.kind == "f" and not (np.isfinite(a).all() and (a == np.round(a)).all()):
        raise ValueError("%s: labels must be whole numbers" % what)
    if a.size and (a.min() < 0 or a.max() >= classes):
        raise ValueError("%s: labels must be class indices in [0, %d), got %d..%d" %
                         (what, classes, int(a.min()), int(a.max())))
    return np.ascontiguousarray(a, dtype=np.int32)


class _Data:
    """An lc_data made from caller arrays (the library copies them)."""

    def __init__(self, x, y=None, classes=0):
        self.ptr = ctypes.c_void_p()
        err = _lib.lc_error()
        yp = y.ctypes.data_as(_lib.c_int32_p) if y is not None else None
        _check(lib.lc_data_from_arrays(x.shape[0], x.shape[1], x.ctypes.data_as(_lib.c_float_p),
                                       yp, classes if y is not None else 0,
                                       ctypes.byref(self.ptr), ctypes.byref(err)), err)

    def close(self):
        if self.ptr:
            lib.lc_data_free(self.ptr)
            self.ptr = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _split(pair, what):
    """(X, y), [X, y] or X alone. A list may also be X itself, rows of
    numbers: two items are [X, y] only when they differ in dimensions (the
    features have one more than the labels), so two rows stay two rows."""
    if isinstance(pair, tuple):
        if len(pair) != 2:
            raise ValueError("%s: wants (X, y) or X" % what)
        return pair[0], pair[1]
    if isinstance(pair, list) and len(pair) == 2 and np.ndim(pair[0]) != np.ndim(pair[1]):
        return pair[0], pair[1]
    return pair, None


# ----------------------------------------------------------------- progress

LC_ERR_INVALID = 4


class _Bar:
    """progress=True: the stage lines and a bar on stderr (as the CLI draws
    them), or progress=callable: each stage line to the callable."""

    def __init__(self, progress, what):
        self.fn = progress if callable(progress) else None
        self.what = what
        self.drawn = False
        self.last = 0.0
        self.t0 = time.monotonic()

    def _clear(self):
        if self.drawn:
            sys.stderr.write("\r%100s\r" % "")
            self.drawn = False

    def line(self, text):
        if self.fn:
            try:
                self.fn(text)
            except Exception:
                pass  # the callback's failure must not lose the run
            return
        self._clear()
        sys.stderr.write("lincomp %s: %s\n" % (self.what, text))
        sys.stderr.flush()

    def update(self, stage, done, total, unit, note, final):
        if self.fn:
            return
        now = time.monotonic()
        if not final and now - self.last < 0.1:
            return
        self.last = now
        if total > 0:
            fill = max(0, min(20, int(20 * done / total + 0.5)))
            bar = "[%s%s] %.0f/%.0f %s" % ("#" * fill, " " * (20 - fill), done, total, unit)
        else:
            bar = "%.0f %s" % (done, unit)
        sys.stderr.write("\r%-24.24s %s  %-44.44s" % (stage, bar, note or ""))
        sys.stderr.flush()
        self.drawn = True

    def end(self):
        if not self.fn and self.drawn:
            sys.stderr.write("\n")
            self.drawn = False

    def callback(self):
        """The lc_progress_fn (keep a reference while the call runs)."""

        def on(ctx, p):
            p = p.contents
            msg = p.message.decode("utf-8", "replace") if p.message else None
            if p.kind in (_lib.PROGRESS_STAGE, _lib.PROGRESS_LINE):
                self.line(msg)
            elif p.kind == _lib.PROGRESS_UPDATE:
                stage = p.stage.decode()
                if p.epoch:
                    stage += " epoch %d" % p.epoch
                self.update(stage, p.done, p.total, p.unit.decode() if p.unit else "", msg,
                            bool(p.final))
            else:
                self.end()

        return _lib.progress_fn(on)


def _report(ptr):
    """The JSON text the library returned, parsed; the buffer freed."""
    try:
        return json.loads(ctypes.string_at(ptr).decode("utf-8"))
    finally:
        lib.lc_free(ptr)


def _invalid(message):
    return Error(LC_ERR_INVALID, message)


def _whole(value, what, wants):
    """value as an int when it is a whole number (an int, a numpy integer or
    a float such as 3.0), else "WHAT wants WANTS": int() alone would quietly
    turn 2.7 epochs into 2 where the CLI refuses the number."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise _invalid("%s wants %s, got %r" % (what, wants, value))


def _threads(options):
    """threads=N from options as --threads takes it (1 to 1024); None, the
    default, leaves the library's own choice (0 in the C structure, which is
    why 0 and negative numbers must be refused here: they would mean it)."""
    value = options.pop("threads", None)
    if value is None:
        return 0
    n = _whole(value, "threads", "an integer from 1 to 1024")
    if not 1 <= n <= 1024:
        raise _invalid("threads wants an integer from 1 to 1024, got %d" % n)
    return n


def _target_size(value):
    """target_size as --target-size takes it, in (0, 1]. None is "not set";
    0 is how the C structure says that, so a 0 given here is refused rather
    than silently read as no budget."""
    ts = float(value)
    if not 0 < ts <= 1:
        raise _invalid("target_size wants a number in (0, 1], got %g" % ts)
    return ts


def _distill_target(options, t, default):
    """finetune_target ("distill" or "labels"; default), temperature and
    distill_alpha from options into t (lc_train_opts or lc_induce_opts), as
    the CLI reads --finetune-target, --temperature and --distill-alpha.
    True for labels."""
    target = options.pop("finetune_target", default)
    if target not in ("distill", "labels"):
        raise _invalid("finetune_target wants distill or labels, got '%s'" % target)
    for key, field in (("temperature", "temperature"), ("distill_alpha", "alpha")):
        if key in options:
            if target == "labels":
                raise _invalid("temperature and distill_alpha need finetune_target distill")
            setattr(t, field, float(options.pop(key)))
    return target == "labels"


def _prove_opts(po, g, prove, options, keep):
    """Fills an lc_prove_opts from prove=True / a method name and the
    bounds=FILE / input_range="LO,HI" / lp_time=S options."""
    bounds = options.pop("bounds", None)
    rng = options.pop("input_range", None)
    lp_time = options.pop("lp_time", None)
    if not prove:
        if bounds is not None or rng is not None or lp_time is not None:
            raise _invalid("bounds, input_range and lp_time need prove")
        return
    err = _lib.lc_error()
    po.on = 1
    if prove is not True:
        m = ctypes.c_int()
        _check(lib.lc_prove_method_parse(str(prove).encode(), ctypes.byref(m), ctypes.byref(err)),
               err)
        po.method = m.value
    if bounds is not None and rng is not None:
        raise _invalid("give either bounds or input_range")
    if lp_time is not None:
        po.lp_time = float(lp_time)
    box = ctypes.c_void_p()
    if rng is not None:
        text = ",".join(str(v) for v in rng) if isinstance(rng, (tuple, list)) else str(rng)
        _check(lib.lc_box_parse_range(text.encode(), lib.lc_graph_input_width(g),
                                      ctypes.byref(box), ctypes.byref(err)), err)
        po.box_kind = b"range"
    elif bounds is not None:
        _check(lib.lc_box_load(os.fsencode(bounds), lib.lc_graph_input_width(g),
                               ctypes.byref(box), ctypes.byref(err)), err)
        po.box_kind = b"file"
    if box:
        keep.append(box)  # freed by the caller after the run
        po.box = box


_FINETUNE_OPTIONS = ("lr", "batch", "optimizer", "momentum", "seed", "finetune_target",
                     "temperature", "distill_alpha", "anneal", "teacher")


# -------------------------------------------------------------- the model


class Model:
    """A network as lincomp holds it (an lc_graph). Made by load(),
    Model.compress() and train()."""

    def __init__(self, ptr):
        if not ptr:
            raise ValueError("Model: no graph")
        self._ptr = ptr

    def __del__(self):
        p, self._ptr = getattr(self, "_ptr", None), None
        if p and lib is not None:
            lib.lc_graph_free(p)

    # -- what it is
    @property
    def input_width(self):
        return lib.lc_graph_input_width(self._ptr)

    @property
    def output_width(self):
        return lib.lc_graph_output_width(self._ptr)

    @property
    def params(self):
        return lib.lc_graph_params(self._ptr)

    @property
    def flops(self):
        return lib.lc_graph_flops(self._ptr)

    @property
    def widths(self):
        return [lib.lc_graph_width(self._ptr, k) for k in range(lib.lc_graph_nodes(self._ptr))]

    @property
    def nodes(self):
        """One dict a node (the input first): name, width, activation."""
        out = []
        for k in range(lib.lc_graph_nodes(self._ptr)):
            act = lib.lc_graph_act(self._ptr, k)
            name = lib.lc_graph_name(self._ptr, k)
            out.append({"name": name.decode() if name else "", "width":
                        lib.lc_graph_width(self._ptr, k),
                        "act": lib.lc_act_name(act.kind).decode()})
        return out

    def info(self):
        """What `lincomp info --json` prints: params, file_params (those the
        model file holds: lc_graph_file_params), flops, input_width,
        output_width, nodes (name, width, activation, params, inputs)."""
        g = self._ptr
        nodes = []
        for k in range(lib.lc_graph_nodes(g)):
            width = lib.lc_graph_width(g, k)
            node = {"name": lib.lc_graph_name(g, k).decode(), "width": width}
            if k == 0:
                node.update(activation="input", params=0, inputs=[])
            else:
                a = lib.lc_graph_act(g, k)
                name = lib.lc_act_name(a.kind).decode()
                if a.kind == 2:  # LC_ACT_LEAKY_RELU
                    name = "leaky_relu(%g)" % a.alpha
                elif a.kind == 4:  # LC_ACT_CLIP
                    name = "clip(%g,%g)" % (a.lo, a.hi)
                srcs = [lib.lc_graph_src(g, k, e) for e in range(lib.lc_graph_n_in(g, k))]
                params = width * (2 if a.kind == 3 else 1)  # PReLU: slopes too
                params += sum(width * lib.lc_graph_width(g, j) for j in srcs)
                node.update(activation=name, params=params,
                            inputs=[lib.lc_graph_name(g, j).decode() for j in srcs])
            nodes.append(node)
        return {"model": None, "params": self.params,
                "file_params": lib.lc_graph_file_params(g), "flops": self.flops,
                "input_width": self.input_width, "output_width": self.output_width,
                "nodes": nodes}

    # -- copies and pickles: each Model frees its own graph, so none of them
    # may share a pointer (the default copy and pickle copy _ptr as a number:
    # a double free, or an address in a process where it means nothing)
    def _clone(self):
        g = ctypes.c_void_p()
        err = _lib.lc_error()
        _check(lib.lc_graph_clone(self._ptr, ctypes.byref(g), ctypes.byref(err)), err)
        new = object.__new__(type(self))
        new._ptr = g.value
        return new

    def __copy__(self):
        """A Model of its own: the graph cloned (lc_graph_clone)."""
        new = self._clone()
        new.__dict__.update((k, v) for k, v in self.__dict__.items() if k != "_ptr")
        return new

    def __deepcopy__(self, memo):
        import copy
        new = self._clone()
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k != "_ptr":
                setattr(new, k, copy.deepcopy(v, memo))
        return new

    def __reduce__(self):
        """Pickled as its ONNX bytes (to_bytes), unpickled by load."""
        return load, (self.to_bytes(),)

    def __repr__(self):
        return "<lincomp.Model %s, %d parameters>" % ("-".join(map(str, self.widths)), self.params)

    # -- running it
    def predict(self, X):
        """Outputs (n, output_width) float32 for X (n, input_width)."""
        x = _as_x(X, self.input_width)
        y = np.empty((x.shape[0], self.output_width), dtype=np.float32)
        err = _lib.lc_error()
        _check(lib.lc_forward(self._ptr, x.ctypes.data_as(_lib.c_float_p), x.shape[0],
                              y.ctypes.data_as(_lib.c_float_p), ctypes.byref(err)), err)
        return y

    def _classes(self):
        return max(self.output_width, 2)  # one output unit: a binary classifier

    def _data(self, X, y=None, what="X", labels=False):
        x = _as_x(X, self.input_width, what)
        if labels or y is not None:
            y = _as_y(y, x.shape[0], self._classes(), "y" if what == "X" else what + " labels")
        return _Data(x, y, self._classes())

    def evaluate(self, X, y):
        """{"samples", "accuracy", "loss", "params"} as `lincomp eval --json`."""
        with self._data(X, y, labels=True) as d:
            res = _lib.lc_eval_result()
            err = _lib.lc_error()
            _check(lib.lc_evaluate(self._ptr, d.ptr, ctypes.byref(res), ctypes.byref(err)), err)
        return {"samples": res.samples, "accuracy": res.accuracy, "loss": res.loss,
                "params": self.params}

    def label_match(self, X, y):
        """Whether y numbers the classes in another order than the model
        (lc_label_match): {"accuracy": plain accuracy, "matched": accuracy
        once the model's classes are renamed by a greedy one-to-one matching
        of the confusion counts, "mapping": the label each class is matched
        to}. "matched" far above "accuracy" says y is numbered differently."""
        with self._data(X, y, labels=True) as d:
            k = self._classes()
            mapping = np.zeros(k, np.int32)
            acc, matched = ctypes.c_double(), ctypes.c_double()
            err = _lib.lc_error()
            _check(lib.lc_label_match(self._ptr, d.ptr, mapping.ctypes.data_as(_lib.c_int32_p),
                                      ctypes.byref(acc), ctypes.byref(matched), ctypes.byref(err)),
                   err)
        return {"accuracy": acc.value, "matched": matched.value, "mapping": mapping.tolist()}

    def analyze(self, X, prove=None, progress=None, **options):
        """The report of `lincomp analyze --json` on the samples X
        (lc_analyze): per hidden node the activation statistics, the sizes
        at tau 1, 0.99, 0.95, 0.9 and, with prove=True or a method name
        (bounds=FILE, input_range="LO,HI", lp_time=S), the proven neurons.
        "model" is None."""
        o = _lib.lc_analyze_opts()
        lib.lc_analyze_opts_default(ctypes.byref(o))
        boxes = []
        try:
            _prove_opts(o.prove, self._ptr, prove, options, boxes)
            o.threads = _threads(options)
            options.pop("quiet", None)
            if options:
                raise _invalid("analyze: unknown option '%s'" % sorted(options)[0])
            bar = _Bar(progress, "analyze") if progress else None
            cb = bar.callback() if bar else None
            if cb:
                o.progress = cb
            rep = ctypes.c_void_p()
            err = _lib.lc_error()
            with self._data(X) as d:
                st = lib.lc_analyze(self._ptr, d.ptr, ctypes.byref(o), ctypes.byref(rep),
                                    ctypes.byref(err))
            if bar:
                bar.end()
            _check(st, err)
            return _report(rep)
        finally:
            for b in boxes:
                lib.lc_box_free(b)

    def _node_thresholds(self, thresholds, threshold):
        """tau per node from {node name: tau} (other nodes: threshold)."""
        names = [n["name"] for n in self.nodes]
        unknown = [k for k in thresholds if k not in names[1:-1]]
        if unknown:
            raise _invalid("thresholds: no hidden node named '%s' (nodes: %s)" %
                           (unknown[0], ", ".join(names[1:-1])))
        tau = [float(thresholds.get(n, threshold)) for n in names]
        return (ctypes.c_double * len(tau))(*tau)

    def compress(self, X, threshold=None, target_size=None, max_drop=None, val=None,
                 finetune=None, train=None, prove=None, progress=None, **options):
        """Compresses on the calibration samples X as `lincomp compress`
        does (lc_compress), with its options and defaults (None: the CLI's
        default): threshold, thresholds={node name: tau} (per node, the
        others at threshold), target_size, max_drop (percentage points),
        val=(Xv, yv), finetune=EPOCHS (None or 0: none), train=(Xt, yt) or Xt, prove=True or a
        method name, and as keywords layer_threshold, confidence,
        no_reconstruct, joint (with target_size), search_rows (with target_size
        and val: score on at least N rows, val's and calibration rows labelled
        with the model's predictions; default 2048, 0: val alone), bounds,
        input_range, lp_time, finetune_target
        ("distill" or "labels"), temperature, distill_alpha, teacher (a Model
        to distil towards instead of this one), anneal, lr, batch,
        optimizer, momentum, seed, threads (1 to 1024). Values the CLI
        refuses raise lincomp.Error with its wording. induce=True trains neurons to
        become linear (`compress --induce`: target_size, train=(Xt, yt) and
        val=(Xv, yv) needed, X may be None, test=(Xte, yte), epochs,
        min_steps, finetune_epochs, gate_lr, lambda0, lambda_factor, batch,
        lr, seed). progress: True for a bar on stderr, or a callable getting
        each stage line. Returns (Model, report dict: the keys of the CLI's
        JSON report, "model" and "output" None)."""
        o = _lib.lc_compress_opts()
        lib.lc_compress_opts_default(ctypes.byref(o))
        err = _lib.lc_error()
        options = dict(options)
        options.pop("quiet", None)
        if options.pop("induce", False):
            if threshold is not None or max_drop is not None or finetune or prove:
                raise _invalid("induce takes target_size and its own schedule: no threshold, "
                               "max_drop, finetune or prove with it")
            return self._induce(o, X, target_size, val, train, progress, options)
        # the combinations `lincomp compress` refuses (compress_opts.c: rules),
        # which lc_compress would resolve by precedence without a word
        budget = target_size is not None or max_drop is not None
        if threshold is not None and budget:
            raise _invalid("threshold cannot be combined with target_size or max_drop: the "
                           "budget search chooses the thresholds")
        if prove and budget:
            raise _invalid("prove cannot be combined with target_size or max_drop: a budget "
                           "chooses thresholds by measured accuracy, a proof folds only what "
                           "holds on the whole box")
        if prove and options.get("no_reconstruct"):
            raise _invalid("no_reconstruct cannot be combined with prove: only lossy folds are "
                           "reconstructed, and a proof's folds are exact")
        if threshold is not None:
            o.threshold = float(threshold)
            o.prove_threshold = 1
        per_node = options.pop("thresholds", None)
        if per_node is not None:
            tau = self._node_thresholds(per_node, o.threshold)  # alive until we return
            o.node_thresholds = ctypes.cast(tau, ctypes.POINTER(ctypes.c_double))
        if target_size is not None:
            o.target_size = _target_size(target_size)
        if max_drop is not None:
            # negative is the C structure's "not set": refused, else it
            # silently returns the model unchanged
            o.max_drop = float(max_drop)
            if not 0 <= o.max_drop <= 100:
                raise _invalid("max_drop wants percentage points from 0 to 100, got %g"
                               % o.max_drop)
        lt = options.pop("layer_threshold", None)
        if lt is not None:
            _check(lib.lc_layer_threshold_parse(str(lt).encode(), ctypes.byref(o.lt),
                                                ctypes.byref(err)), err)
        if "confidence" in options:
            if max_drop is None:
                raise _invalid("confidence belongs to max_drop")
            o.confidence = float(options.pop("confidence"))
        o.reconstruct = 0 if options.pop("no_reconstruct", False) else 1
        if options.pop("joint", False):
            if target_size is None or max_drop is not None:
                raise _invalid("joint needs target_size (a size budget)")
            o.joint = 1
        if "search_rows" in options:
            rows = _whole(options.pop("search_rows"), "search_rows", "a number of rows >= 0")
            if rows < 0:
                raise _invalid("search_rows wants a number of rows >= 0, got %d" % rows)
            if target_size is None or max_drop is not None:
                raise _invalid("search_rows belongs to target_size: max_drop scores agreement "
                               "on every calibration row and certifies on val")
            if val is None:
                raise _invalid("search_rows tops up the rows of val; without val the search "
                               "scores agreement on every calibration row")
            o.search_rows = rows
        # None or 0: no fine-tuning
        epochs = _whole(finetune or 0, "finetune", "a positive number of epochs")
        if epochs < 0:
            raise _invalid("finetune wants a positive number of epochs, got %d" % epochs)
        if epochs:
            o.finetune_epochs = epochs
        elif train is not None or any(k in options for k in _FINETUNE_OPTIONS):
            raise _invalid("train, lr, batch, optimizer, momentum, seed and the distillation "
                           "options need finetune")
        # the C structure holds only raw pointers: keep holds the Python
        # objects behind them (the teacher Model) until lc_compress returns,
        # else a teacher passed as a temporary is freed before it is read
        keep = []
        self._finetune_opts(o, options, keep)
        o.threads = _threads(options)
        boxes, datas = [], []
        try:
            _prove_opts(o.prove, self._ptr, prove, options, boxes)
            if options:
                raise _invalid("compress: unknown option '%s'" % sorted(options)[0])
            datas.append(self._data(X))
            v = tr = None
            if val is not None:
                vx, vy = _split(val, "val")
                v = self._data(vx, vy, "val", labels=True)
                datas.append(v)
            if train is not None:
                tx, ty = _split(train, "train")
                tr = self._data(tx, ty, "train")
                datas.append(tr)
            bar = _Bar(progress, "compress") if progress else None
            cb = bar.callback() if bar else None
            if cb:
                o.progress = cb
            g = ctypes.c_void_p()
            rep = ctypes.c_void_p()
            st = lib.lc_compress(self._ptr, datas[0].ptr, v.ptr if v else None,
                                 tr.ptr if tr else None, ctypes.byref(o), ctypes.byref(g),
                                 ctypes.byref(rep), ctypes.byref(err))
            if bar:
                bar.end()
            _check(st, err)
            return Model(g.value), _report(rep)
        finally:
            for d in datas:
                d.close()
            for b in boxes:
                lib.lc_box_free(b)
            keep.clear()  # lc_compress has returned: the teacher may go

    def _induce(self, o, X, target_size, val, train, progress, options):
        """compress(induce=True, ...): lc_compress with induced linearity."""
        o.induce = 1
        io = o.induce_opts
        o.target_size = _target_size(target_size) if target_size is not None else 0.0
        for key, whole in (("epochs", True), ("min_steps", True), ("finetune_epochs", True),
                           ("gate_lr", False), ("lambda0", False), ("lambda_factor", False),
                           ("batch", True), ("lr", False), ("seed", True)):
            if options.get(key) is not None:
                v = options.pop(key)
                v = _whole(v, key, "an integer") if whole else float(v)
                if key == "seed" and not 0 <= v < 1 << 64:  # the uint64 field would wrap
                    raise _invalid("seed wants an integer from 0 to 2^64 - 1, got %d" % v)
                setattr(io, key, v)
            options.pop(key, None)
        io.finetune_labels = _distill_target(options, io, "distill")
        o.threads = _threads(options)
        test = options.pop("test", None)
        if options:
            raise _invalid("compress: unknown option '%s' with induce" % sorted(options)[0])
        if train is None or val is None:
            raise _invalid("induce needs train=(X, y) and val=(X, y)")
        datas = []
        try:
            def labelled(pair, what):
                px, py = _split(pair, what)
                datas.append(self._data(px, py, what, labels=True))
                return datas[-1]
            tr, v = labelled(train, "train"), labelled(val, "val")
            if test is not None:
                o.induce_test = labelled(test, "test").ptr
            d = None
            if X is not None:
                d = self._data(X)
                datas.append(d)
            bar = _Bar(progress, "compress") if progress else None
            cb = bar.callback() if bar else None
            if cb:
                o.progress = cb
            g, rep = ctypes.c_void_p(), ctypes.c_void_p()
            err = _lib.lc_error()
            st = lib.lc_compress(self._ptr, d.ptr if d else None, v.ptr, tr.ptr, ctypes.byref(o),
                                 ctypes.byref(g), ctypes.byref(rep), ctypes.byref(err))
            if bar:
                bar.end()
            _check(st, err)
            return Model(g.value), _report(rep)
        finally:
            for dd in datas:
                dd.close()

    @staticmethod
    def _finetune_opts(o, options, keep):
        """The fine-tuning options into o.finetune (as the CLI reads them);
        the teacher Model goes into keep, which the caller holds while the C
        call runs (o.finetune.teacher is only its pointer)."""
        t = o.finetune
        o.finetune_labels = _distill_target(options, t, "distill")
        teacher = options.pop("teacher", None)
        if teacher is not None:
            if o.finetune_labels:
                raise _invalid("teacher needs finetune_target distill")
            if not isinstance(teacher, Model):
                raise _invalid("teacher wants a Model")
            keep.append(teacher)
            t.teacher = teacher._ptr
        if "anneal" in options:
            t.anneal = float(options.pop("anneal"))
            if not 0 <= t.anneal <= 1:
                raise _invalid("anneal wants a fraction of the steps in [0, 1], got %g" % t.anneal)
        _train_opts(t, options)


    # -- writing it
    def save(self, path):
        err = _lib.lc_error()
        _check(lib.lc_onnx_save(self._ptr, os.fsencode(path), ctypes.byref(err)), err)

    def to_bytes(self):
        """The model as ONNX bytes (what save writes)."""
        buf = ctypes.c_void_p()
        n = ctypes.c_size_t()
        err = _lib.lc_error()
        _check(lib.lc_onnx_save_mem(self._ptr, ctypes.byref(buf), ctypes.byref(n),
                                    ctypes.byref(err)), err)
        try:
            return ctypes.string_at(buf, n.value)
        finally:
            lib.lc_free(buf)

    def export_c(self, path, name=None):
        """Dependency-free C: path (ending in .c) and the header beside it."""
        err = _lib.lc_error()
        _check(lib.lc_export_c(self._ptr, os.fsencode(path),
                               name.encode() if name is not None else None,
                               ctypes.byref(err)), err)


def load(source):
    """A Model from an ONNX file path or the bytes of one."""
    g = ctypes.c_void_p()
    err = _lib.lc_error()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise ValueError("load: empty bytes")
        _check(lib.lc_onnx_load_mem(data, len(data), b"(bytes)", ctypes.byref(g),
                                    ctypes.byref(err)), err)
    elif isinstance(source, (str, os.PathLike)):
        _check(lib.lc_onnx_load(os.fsencode(source), ctypes.byref(g), ctypes.byref(err)), err)
    else:
        raise ValueError("load: wants a path or bytes, got %s" % type(source).__name__)
    m = Model(g.value)
    _check(lib.lc_graph_check_finite(m._ptr, ctypes.byref(err)), err)
    return m


def library_version():
    """The version of the liblincomp that was loaded (lc_version)."""
    return lib.lc_version().decode()


from ._train import train, _train_opts  # noqa: E402 (it builds on the names above)
from . import _prune  # noqa: E402,F401 (Model.prune)
