"""lincomp from Python: a thin ctypes binding over liblincomp.

Linearity-based compression of ReLU networks. Models are ONNX (a path or
bytes); data are numpy arrays of features, float32 row-major (any other
dtype or layout is converted once), labels integer class indices.

    import lincomp
    m = lincomp.load("model.onnx")
    small, report = m.compress(X, threshold=0.99, val=(Xv, yv))
    small.save("small.onnx")

predict, evaluate, save, to_bytes and export_c call the library directly.
analyze, compress and train run the lincomp command itself in this process
(lc_cli_run) on the in-memory model and arrays, so they give the CLI's
numbers and its JSON report keys; the CLI's options are keyword arguments
(layer_threshold=... for --layer-threshold, no_reconstruct=True for
--no-reconstruct). While such a command runs, this process's file
descriptors 1 and 2 point to temporary files (its JSON is read from there),
and one command runs at a time. Failures raise lincomp.Error (the library's status and
message); bad arguments (shape, dtype, NaN, missing labels) raise ValueError.
The library is found through $LINCOMP_LIB, else beside the installed package
(PREFIX/lib/liblincomp.so.0), else by the loader.
"""
import ctypes
import json
import os
import shutil
import sys
import tempfile
import threading

import numpy as np

from . import _lib
from ._lib import lib

__version__ = "0.1.0"
__all__ = ["Error", "Model", "load", "train", "library_path", "library_version"]

library_path = _lib.path


class Error(Exception):
    """A failure reported by liblincomp: status is the lc_status code,
    status_name its name ("format error", ...), message the library's
    message; exit_status, for analyze/compress/train, the command's exit
    status (1 failure, 2 a bad option)."""

    exit_status = None

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
        a = a.reshape(1, width)
    elif a.ndim > 2 and a.shape[0] and int(np.prod(a.shape[1:])) == width:
        a = a.reshape(a.shape[0], width)  # images: (n, h, w) -> (n, h*w)
    if a.ndim != 2 or a.shape[1] != width:
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
    """(X, y) or X alone."""
    if isinstance(pair, (tuple, list)) and len(pair) == 2:
        return pair[0], pair[1]
    if isinstance(pair, (tuple, list)):
        raise ValueError("%s: wants (X, y) or X" % what)
    return pair, None


# ---------------------------------------------------- the commands in-process

_cli_lock = threading.Lock()  # lc_cli_run runs one command at a time


def _flags(options):
    """CLI flags from keyword arguments: a_b=v -> --a-b v, True -> --a-b,
    False or None -> nothing."""
    out = []
    for k, v in options.items():
        if v is None or v is False:
            continue
        flag = "--" + k.replace("_", "-")
        if v is True:
            out.append(flag)
        elif isinstance(v, (list, tuple)):
            out += [flag, ",".join(str(e) for e in v)]
        else:
            out += [flag, str(v)]
    return out


def _run(args, inputs, progress=None):
    """Runs `lincomp ARGS` in this process on inputs {name: Model or _Data};
    returns its stdout. stderr goes to the terminal with progress=True, line
    by line to a callable progress, else nowhere (the Error carries the
    message)."""
    names = list(inputs)
    arr = (_lib.lc_cli_input * max(1, len(names)))()
    for i, n in enumerate(names):
        v = inputs[n]
        arr[i].name = n.encode()
        if isinstance(v, Model):
            arr[i].model = v._ptr
        else:
            arr[i].data = v.ptr
    argv = [b"lincomp"] + [str(a).encode() for a in args]
    c_argv = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
    with _cli_lock, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errf:
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except Exception:
                pass
        keep_err = progress is not True
        saved_out, saved_err = os.dup(1), os.dup(2)
        done = threading.Event()
        tail = None
        try:
            os.dup2(out.fileno(), 1)
            if keep_err:
                os.dup2(errf.fileno(), 2)
            if callable(progress):
                tail = threading.Thread(target=_tail, args=(errf.fileno(), progress, done))
                tail.start()
            err = _lib.lc_error()
            rc = lib.lc_cli_run(len(argv), c_argv, len(names), arr, ctypes.byref(err))
        finally:
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            done.set()
            if tail:
                tail.join()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if rc:
        e = Error(err.code, err.msg.decode("utf-8", "replace"))
        e.exit_status = rc  # 1 failure, 2 usage (the command's exit status)
        raise e
    return text


def _tail(fd, callback, done):
    """Calls callback(line) for each line the command writes to stderr (a
    file written through fd 2 while the command runs)."""
    pos, buf = 0, b""
    while True:
        finished = done.wait(0.1)
        chunk = os.pread(fd, 1 << 16, pos)
        while chunk:
            pos += len(chunk)
            buf += chunk
            chunk = os.pread(fd, 1 << 16, pos)
        *lines, buf = buf.split(b"\n")
        for line in lines:
            try:
                callback(line.decode("utf-8", "replace"))
            except Exception:
                pass  # the callback's failure must not lose the command
        if finished:
            if buf:
                callback(buf.decode("utf-8", "replace"))
            return


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
        """What `lincomp info --json` prints: params, flops, input_width,
        output_width, nodes (name, width, activation, params, inputs)."""
        return json.loads(_run(["info", "model", "--json"], {"model": self}))

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
            y = _as_y(y, x.shape[0], self._classes(), what + " labels")
        return _Data(x, y, self._classes())

    def evaluate(self, X, y):
        """{"samples", "accuracy", "loss", "params"} as `lincomp eval --json`."""
        with self._data(X, y, labels=True) as d:
            res = _lib.lc_eval_result()
            err = _lib.lc_error()
            _check(lib.lc_evaluate(self._ptr, d.ptr, ctypes.byref(res), ctypes.byref(err)), err)
        return {"samples": res.samples, "accuracy": res.accuracy, "loss": res.loss,
                "params": self.params}

    def analyze(self, X, **options):
        """The report of `lincomp analyze --json` on the samples X."""
        with self._data(X) as d:
            out = _run(["analyze", "model", "--data", "X", "--json"] + _flags(options),
                       {"model": self, "X": d})
        return json.loads(out)

    def compress(self, X, threshold=None, target_size=None, max_drop=None, val=None,
                 finetune=None, train=None, prove=None, progress=None, **options):
        """Compresses on the calibration samples X as `lincomp compress`
        does, with its options and defaults (None: the CLI's default):
        threshold, target_size, max_drop, val=(Xv, yv), finetune=EPOCHS,
        train=(Xt, yt) or Xt, prove=True or a method name, and any other
        option as a keyword (layer_threshold, confidence, no_reconstruct,
        input_range, finetune_target, lr, batch, seed, threads, ...).
        progress: True for the CLI's progress on stderr, or a callable
        getting each progress line. Returns (Model, report dict: the keys
        of the CLI's JSON report, "model" and "output" None)."""
        args = ["compress", "model", "--data", "X", "-o", None, "--json"]
        args += _flags({"threshold": threshold, "target_size": target_size,
                        "max_drop": max_drop, "finetune": finetune})
        if prove is True:
            args.append("--prove")
        elif prove:
            args.append("--prove=" + str(prove))
        if not progress:
            args.append("--quiet")
        args += _flags(options)
        datas = []
        try:
            inputs = {"model": self}
            datas.append(self._data(X))
            inputs["X"] = datas[-1]
            if val is not None:
                vx, vy = _split(val, "val")
                datas.append(self._data(vx, vy, "val", labels=True))
                inputs["val"] = datas[-1]
                args += ["--val", "val"]
            if train is not None:
                tx, ty = _split(train, "train")
                datas.append(self._data(tx, ty, "train"))
                inputs["train"] = datas[-1]
                args += ["--train", "train"]
            tmp = tempfile.mkdtemp(prefix="lincomp-")
            try:
                out = os.path.join(tmp, "out.onnx")
                args[args.index(None)] = out
                text = _run(args, inputs, progress)
                model = load(out)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            for d in datas:
                d.close()
        report = json.loads(text)
        # the names the command saw are in-memory stand-ins and a deleted
        # temporary file: no file names in the report
        report["model"] = report["output"] = None
        return model, report

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


def train(X, y, val=None, hidden=None, epochs=None, seed=None, progress=None, **options):
    """Trains an MLP classifier as `lincomp train` does (its options and
    defaults; hidden=(64, 32) or "none", act, batch, lr, optimizer, patience,
    monitor, ...), on X (n, features) and labels y. Returns (Model, summary
    dict of `lincomp train --json`)."""
    shape = np.shape(X)
    x = _as_x(X, int(np.prod(shape[1:])) if len(shape) >= 2 else -1, "X")
    yy = _as_y(y, x.shape[0], 1 << 30, "y")
    classes = max(int(yy.max()) + 1, 2)
    datas = [_Data(x, yy, classes)]
    inputs = {"X": datas[0]}
    args = ["train", "--train", "X", "-o", None, "--json"]
    if val is not None:
        vx, vy = _split(val, "val")
        vx = _as_x(vx, x.shape[1], "val")
        vyy = _as_y(vy, vx.shape[0], classes, "val labels")
        datas.append(_Data(vx, vyy, classes))
        inputs["val"] = datas[-1]
        args += ["--val", "val"]
    args += _flags({"hidden": hidden, "epochs": epochs, "seed": seed})
    if not progress:
        args.append("--quiet")
    args += _flags(options)
    tmp = tempfile.mkdtemp(prefix="lincomp-")
    try:
        args[args.index(None)] = os.path.join(tmp, "model.onnx")
        text = _run(args, inputs, progress)
        model = load(os.path.join(tmp, "model.onnx"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for d in datas:
            d.close()
    return model, json.loads(text)


def library_version():
    """The version liblincomp reports (`lincomp --version`)."""
    return _run(["--version"], {}).split()[-1]
