"""The ctypes side: finding liblincomp and declaring the C functions and
structures used (their fields in lincomp.h's order)."""
import ctypes
import os

c_float_p = ctypes.POINTER(ctypes.c_float)
c_int32_p = ctypes.POINTER(ctypes.c_int32)


class lc_error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("msg", ctypes.c_char * 512)]


class lc_eval_result(ctypes.Structure):
    _fields_ = [("samples", ctypes.c_size_t), ("accuracy", ctypes.c_double),
                ("loss", ctypes.c_double)]


class lc_act(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("alpha", ctypes.c_float),
                ("lo", ctypes.c_float), ("hi", ctypes.c_float)]


class lc_layer_threshold(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("value", ctypes.c_double)]


class lc_epoch_info(ctypes.Structure):
    _fields_ = [("epoch", ctypes.c_int), ("epochs", ctypes.c_int),
                ("train_loss", ctypes.c_double), ("train_acc", ctypes.c_double),
                ("val_loss", ctypes.c_double), ("val_acc", ctypes.c_double),
                ("best", ctypes.c_int), ("seconds", ctypes.c_double)]


epoch_fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(lc_epoch_info))
batch_fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t)


class lc_train_opts(ctypes.Structure):
    _fields_ = [("epochs", ctypes.c_int), ("batch", ctypes.c_int), ("lr", ctypes.c_double),
                ("optimizer", ctypes.c_int), ("momentum", ctypes.c_double),
                ("beta1", ctypes.c_double), ("beta2", ctypes.c_double), ("eps", ctypes.c_double),
                ("weight_decay", ctypes.c_double), ("anneal", ctypes.c_double),
                ("seed", ctypes.c_uint64),
                ("patience", ctypes.c_int), ("monitor", ctypes.c_int),
                ("epoch_cb", epoch_fn), ("batch_cb", batch_fn), ("cb_ctx", ctypes.c_void_p),
                ("teacher", ctypes.c_void_p), ("temperature", ctypes.c_double),
                ("alpha", ctypes.c_double)]


class lc_prune_epoch(ctypes.Structure):
    _fields_ = [("epoch", ctypes.c_int), ("epochs", ctypes.c_int),
                ("train_loss", ctypes.c_double), ("train_acc", ctypes.c_double),
                ("val_loss", ctypes.c_double), ("val_acc", ctypes.c_double),
                ("removed", ctypes.c_int), ("params", ctypes.c_size_t),
                ("seconds", ctypes.c_double)]


prune_epoch_fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(lc_prune_epoch))


class lc_prune_opts(ctypes.Structure):
    _fields_ = [("target", ctypes.c_double), ("start_acc", ctypes.c_double),
                ("quantile", ctypes.c_double), ("bias_correction", ctypes.c_int),
                ("train", lc_train_opts), ("epoch_cb", prune_epoch_fn),
                ("cb_ctx", ctypes.c_void_p)]


class lc_progress(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("stage", ctypes.c_char_p), ("message", ctypes.c_char_p),
                ("done", ctypes.c_double), ("total", ctypes.c_double), ("unit", ctypes.c_char_p),
                ("estimated", ctypes.c_int), ("final", ctypes.c_int), ("epoch", ctypes.c_int)]


progress_fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(lc_progress))
PROGRESS_STAGE, PROGRESS_UPDATE, PROGRESS_LINE, PROGRESS_END = range(4)


class lc_prove_opts(ctypes.Structure):
    _fields_ = [("on", ctypes.c_int), ("method", ctypes.c_int), ("box", ctypes.c_void_p),
                ("box_kind", ctypes.c_char_p), ("lp_time", ctypes.c_double)]


class lc_induce_opts(ctypes.Structure):
    _fields_ = [("target_size", ctypes.c_double), ("epochs", ctypes.c_int),
                ("min_steps", ctypes.c_int), ("finetune_epochs", ctypes.c_int),
                ("batch", ctypes.c_int), ("lr", ctypes.c_double), ("gate_lr", ctypes.c_double),
                ("lambda0", ctypes.c_double), ("lambda_factor", ctypes.c_double),
                ("checks", ctypes.c_int), ("anneal_share", ctypes.c_double),
                ("seed", ctypes.c_uint64), ("finetune_labels", ctypes.c_int),
                ("temperature", ctypes.c_double), ("alpha", ctypes.c_double),
                ("epoch_cb", ctypes.c_void_p), ("cb_ctx", ctypes.c_void_p)]


class lc_compress_opts(ctypes.Structure):
    _fields_ = [("threshold", ctypes.c_double),
                ("node_thresholds", ctypes.POINTER(ctypes.c_double)),
                ("lt", lc_layer_threshold), ("target_size", ctypes.c_double),
                ("max_drop", ctypes.c_double), ("confidence", ctypes.c_double),
                ("reconstruct", ctypes.c_int), ("joint", ctypes.c_int),
                ("search_rows", ctypes.c_size_t), ("prove", lc_prove_opts),
                ("prove_threshold", ctypes.c_int), ("finetune_epochs", ctypes.c_int),
                ("finetune", lc_train_opts), ("finetune_labels", ctypes.c_int),
                ("threads", ctypes.c_int), ("progress", progress_fn),
                ("progress_ctx", ctypes.c_void_p), ("model_name", ctypes.c_char_p),
                ("output_name", ctypes.c_char_p), ("data_name", ctypes.c_char_p),
                ("train_name", ctypes.c_char_p), ("teacher_name", ctypes.c_char_p),
                ("induce", ctypes.c_int),
                ("induce_opts", lc_induce_opts), ("induce_test", ctypes.c_void_p)]


class lc_analyze_opts(ctypes.Structure):
    _fields_ = [("prove", lc_prove_opts), ("threads", ctypes.c_int), ("progress", progress_fn),
                ("progress_ctx", ctypes.c_void_p), ("model_name", ctypes.c_char_p)]


def _candidates():
    """Where the library may be, in order: $LINCOMP_LIB (development from the
    build tree), the prefix this package is installed in
    (PREFIX/lib/python3/dist-packages/lincomp -> PREFIX/lib), a build tree
    beside python/, then the loader's own search for the soname."""
    env = os.environ.get("LINCOMP_LIB")
    if env:
        return [env]  # asked for explicitly: no silent fallback
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.normpath(os.path.join(here, "..", "..", "..", "liblincomp.so.0")),
            os.path.normpath(os.path.join(here, "..", "..", "build", "liblincomp.so")),
            "liblincomp.so.0"]


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (no such file)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("lincomp: cannot load liblincomp: tried " + "; ".join(tried) +
                      " (set LINCOMP_LIB to the path of liblincomp.so)")


lib, path = _load()

_S = ctypes.c_int  # lc_status
_E = ctypes.POINTER(lc_error)
_G = ctypes.c_void_p
_GP = ctypes.POINTER(ctypes.c_void_p)


def _decl(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)


_decl("lc_status_str", ctypes.c_char_p, ctypes.c_int)
_decl("lc_onnx_load", _S, ctypes.c_char_p, _GP, _E)
_decl("lc_onnx_load_mem", _S, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, _GP, _E)
_decl("lc_onnx_save", _S, _G, ctypes.c_char_p, _E)
_decl("lc_onnx_save_mem", _S, _G, ctypes.POINTER(ctypes.c_void_p),
      ctypes.POINTER(ctypes.c_size_t), _E)
_decl("lc_free", None, ctypes.c_void_p)
_decl("lc_graph_free", None, _G)
_decl("lc_graph_clone", _S, _G, _GP, _E)
_decl("lc_graph_nodes", ctypes.c_int, _G)
_decl("lc_graph_input_width", ctypes.c_int, _G)
_decl("lc_graph_output_width", ctypes.c_int, _G)
_decl("lc_graph_width", ctypes.c_int, _G, ctypes.c_int)
_decl("lc_graph_name", ctypes.c_char_p, _G, ctypes.c_int)
_decl("lc_graph_act", lc_act, _G, ctypes.c_int)
_decl("lc_act_name", ctypes.c_char_p, ctypes.c_int)
_decl("lc_graph_params", ctypes.c_size_t, _G)
_decl("lc_graph_file_params", ctypes.c_size_t, _G)
_decl("lc_graph_flops", ctypes.c_size_t, _G)
_decl("lc_graph_check_finite", _S, _G, _E)
_decl("lc_forward", _S, _G, c_float_p, ctypes.c_size_t, c_float_p, _E)
_decl("lc_evaluate", _S, _G, ctypes.c_void_p, ctypes.POINTER(lc_eval_result), _E)
_decl("lc_label_match", _S, _G, ctypes.c_void_p, c_int32_p, ctypes.POINTER(ctypes.c_double),
      ctypes.POINTER(ctypes.c_double), _E)
_decl("lc_data_from_arrays", _S, ctypes.c_size_t, ctypes.c_int, c_float_p, c_int32_p,
      ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), _E)
_decl("lc_data_free", None, ctypes.c_void_p)
_decl("lc_export_c", _S, _G, ctypes.c_char_p, ctypes.c_char_p, _E)
_decl("lc_version", ctypes.c_char_p)
_decl("lc_graph_n_in", ctypes.c_int, _G, ctypes.c_int)
_decl("lc_graph_src", ctypes.c_int, _G, ctypes.c_int, ctypes.c_int)
_decl("lc_layer_threshold_parse", _S, ctypes.c_char_p, ctypes.POINTER(lc_layer_threshold), _E)
_decl("lc_prove_method_parse", _S, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), _E)
_decl("lc_box_parse_range", _S, ctypes.c_char_p, ctypes.c_int, _GP, _E)
_decl("lc_box_load", _S, ctypes.c_char_p, ctypes.c_int, _GP, _E)
_decl("lc_box_free", None, ctypes.c_void_p)
_decl("lc_compress_opts_default", None, ctypes.POINTER(lc_compress_opts))
_decl("lc_compress", _S, _G, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
      ctypes.POINTER(lc_compress_opts), _GP, ctypes.POINTER(ctypes.c_void_p), _E)
_decl("lc_analyze_opts_default", None, ctypes.POINTER(lc_analyze_opts))
_decl("lc_analyze", _S, _G, ctypes.c_void_p, ctypes.POINTER(lc_analyze_opts),
      ctypes.POINTER(ctypes.c_void_p), _E)
_decl("lc_train_opts_default", None, ctypes.POINTER(lc_train_opts))
_decl("lc_prune_opts_default", None, ctypes.POINTER(lc_prune_opts))
_decl("lc_prune_report", _S, _G, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(lc_prune_opts),
      ctypes.c_char_p, ctypes.c_char_p, _GP, ctypes.POINTER(ctypes.c_void_p), _E)
_decl("lc_graph_mlp", _S, ctypes.c_int, c_int32_p, ctypes.c_int, ctypes.c_int, lc_act,
      ctypes.c_uint64, _GP, _E)
_decl("lc_train", _S, _G, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(lc_train_opts), _E)
