"""The ctypes side: finding liblincomp and declaring the C functions used."""
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


class lc_cli_input(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("model", ctypes.c_void_p),
                ("data", ctypes.c_void_p)]


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
_decl("lc_graph_nodes", ctypes.c_int, _G)
_decl("lc_graph_input_width", ctypes.c_int, _G)
_decl("lc_graph_output_width", ctypes.c_int, _G)
_decl("lc_graph_width", ctypes.c_int, _G, ctypes.c_int)
_decl("lc_graph_name", ctypes.c_char_p, _G, ctypes.c_int)
_decl("lc_graph_act", lc_act, _G, ctypes.c_int)
_decl("lc_act_name", ctypes.c_char_p, ctypes.c_int)
_decl("lc_graph_params", ctypes.c_size_t, _G)
_decl("lc_graph_flops", ctypes.c_size_t, _G)
_decl("lc_graph_check_finite", _S, _G, _E)
_decl("lc_forward", _S, _G, c_float_p, ctypes.c_size_t, c_float_p, _E)
_decl("lc_evaluate", _S, _G, ctypes.c_void_p, ctypes.POINTER(lc_eval_result), _E)
_decl("lc_data_from_arrays", _S, ctypes.c_size_t, ctypes.c_int, c_float_p, c_int32_p,
      ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), _E)
_decl("lc_data_free", None, ctypes.c_void_p)
_decl("lc_export_c", _S, _G, ctypes.c_char_p, ctypes.c_char_p, _E)
_decl("lc_cli_run", ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
      ctypes.POINTER(lc_cli_input), _E)
