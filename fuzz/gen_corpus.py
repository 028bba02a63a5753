#!/usr/bin/python3
"""Writes the fuzz seed corpora fuzz/corpus/<target>/: small valid inputs
that reach every branch a parser has for good files, so the fuzzer mutates
from there. Run once with Debian's python3-onnx and python3-numpy
(/usr/bin/python3 fuzz/gen_corpus.py); the outputs are committed and
`make test` replays them (tests/cli/regressions.sh), so this script is not
needed to build or test.

Input layouts (fuzz/targets.c): onnx and preproc_json take the file as is;
csv, idx and npy take one mode byte, then the file."""
import gzip
import os
import shutil
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
rng = np.random.default_rng(8)


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------ ONNX

def w(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def model(nodes, inits, in_shape, out_dim, opset=13, meta=None, name="m"):
    g = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", out_dim])],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    for k, v in (meta or {}).items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    return m.SerializeToString()


SPEC = ('{"version":1,"label":"y","standardize":1,"columns":['
        '{"name":"a","kind":"numeric","mean":1.5,"sd":2},'
        '{"name":"b","kind":"categorical","categories":["p","q"]},'
        '{"name":"c","kind":"numeric","mean":0,"sd":1}],'
        '"classes":["no","yes"]}')

# Gemm - Relu - Gemm - Softmax, with stored preprocessing
out("onnx", "gemm_relu_softmax.onnx", model([
    helper.make_node("Gemm", ["x", "W1", "b1"], ["h1"], name="fc1", transB=1),
    helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
    helper.make_node("Gemm", ["a1", "W2", "b2"], ["z"], name="fc2", transB=1),
    helper.make_node("Softmax", ["z"], ["y"], name="sm", axis=1),
], [w("W1", 4, 5), w("b1", 4), w("W2", 2, 4), w("b2", 2)], [5], 2, meta={"lincomp.preprocessing": SPEC}))

# MatMul + Add, BatchNorm, LeakyRelu, Dropout, Identity, Gemm transA/alpha/beta
out("onnx", "matmul_bn_leaky.onnx", model([
    helper.make_node("MatMul", ["x", "Wt"], ["m"], name="mm"),
    helper.make_node("Add", ["m", "b"], ["h"], name="add"),
    helper.make_node("BatchNormalization", ["h", "g", "be", "mu", "var"], ["bn"], name="bn", epsilon=1e-5),
    helper.make_node("LeakyRelu", ["bn"], ["a"], name="leaky", alpha=0.1),
    helper.make_node("Dropout", ["a"], ["d"], name="drop"),
    helper.make_node("Identity", ["d"], ["i"], name="id"),
    helper.make_node("Gemm", ["i", "W2", "c2"], ["y"], name="fc2", alpha=0.5, beta=2.0, transB=1),
], [w("Wt", 3, 4), w("b", 4), w("g", 4), w("be", 4), w("mu", 4),
    numpy_helper.from_array(np.abs(rng.standard_normal(4)).astype(np.float32) + 0.5, "var"),
    w("W2", 2, 4), w("c2", 2)], [3], 2))

# Clip (bounds as inputs), PRelu, Sub/Mul/Div with constants, Sum of two paths, Sigmoid
out("onnx", "clip_prelu_arith.onnx", model([
    helper.make_node("Constant", [], ["lo"], name="c_lo", value=helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0])),
    helper.make_node("Constant", [], ["hi"], name="c_hi", value=helper.make_tensor("hi", TensorProto.FLOAT, [], [6.0])),
    helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
    helper.make_node("Clip", ["h", "lo", "hi"], ["r6"], name="relu6"),
    helper.make_node("Sub", ["r6", "s"], ["u"], name="sub"),
    helper.make_node("Mul", ["u", "s"], ["v"], name="mul"),
    helper.make_node("Div", ["v", "s"], ["q"], name="div"),
    helper.make_node("PRelu", ["q", "slope"], ["p"], name="prelu"),
    helper.make_node("Gemm", ["p", "W2"], ["z1"], name="fc2", transB=1),
    helper.make_node("Gemm", ["x", "W3"], ["z2"], name="skip", transB=1),
    helper.make_node("Sum", ["z1", "z2"], ["z"], name="sum"),
    helper.make_node("Sigmoid", ["z"], ["y"], name="sig"),
], [w("W1", 4, 3), w("b1", 4), numpy_helper.from_array(np.full(4, 2.0, np.float32), "s"),
    numpy_helper.from_array(np.full(4, 0.25, np.float32), "slope"), w("W2", 1, 4), w("W3", 1, 3)], [3], 1))

# image input [N, 1, 2, 2], Flatten, Reshape through a Constant shape, LogSoftmax
out("onnx", "flatten_reshape.onnx", model([
    helper.make_node("Flatten", ["x"], ["f"], name="flat", axis=1),
    helper.make_node("Constant", [], ["shape"], name="c_shape", value=numpy_helper.from_array(np.array([-1, 4], np.int64), "shape")),
    helper.make_node("Reshape", ["f", "shape"], ["r"], name="reshape"),
    helper.make_node("Gemm", ["r", "W1", "b1"], ["h"], name="fc1", transB=1),
    helper.make_node("Relu", ["h"], ["a"], name="relu"),
    helper.make_node("Gemm", ["a", "W2", "b2"], ["z"], name="fc2", transB=1),
    helper.make_node("LogSoftmax", ["z"], ["y"], name="lsm", axis=1),
], [w("W1", 3, 4), w("b1", 3), w("W2", 2, 3), w("b2", 2)], [1, 2, 2], 2, opset=11))

# weights in float_data, Clip bounds as attributes (opset 9)
m = model([
    helper.make_node("Gemm", ["x", "W1"], ["h"], name="fc1", transB=1),
    helper.make_node("Clip", ["h"], ["c"], name="clip", min=0.0, max=6.0),
    helper.make_node("Gemm", ["c", "W2"], ["y"], name="fc2", transB=1),
], [helper.make_tensor("W1", TensorProto.FLOAT, [3, 2], rng.standard_normal(6).tolist()),
    helper.make_tensor("W2", TensorProto.FLOAT, [2, 3], rng.standard_normal(6).tolist())], [2], 2, opset=9)
out("onnx", "float_data_opset9.onnx", m)

# two PyTorch exports from the test fixtures
for f in ["mlp_gemm.onnx", "mlp_opset17.onnx"]:
    shutil.copy(os.path.join(ROOT, "tests", "fixtures", f), os.path.join(HERE, "corpus", "onnx", f))

# ------------------------------------------------------------------- CSV
# mode: bit 0 fit, bit 1 input width (mode >> 4) + 1, bit 2 stored spec, bit 3 label "y"
out("csv", "raw_labelled.csv", b"\x00a,b,y\n1,2,0\n3.5,-4e2,1\n0,0,2\n")
out("csv", "raw_unlabelled_width3.csv", b"\x22a,b,c\n1,2,3\n4,5,6\n")
out("csv", "fit_mixed.csv", b"\x01age,sex,city,y\n30,m,rome,yes\n,f,oslo,no\n45,f,,yes\n22,m,rome,no\n")
out("csv", "fit_label_y_first.csv", b"\x09y,a,b\n1,2,x\n0,,y\n")
out("csv", "spec_apply.csv", b"\x04a,b,c,y,extra\n1,p,2,no,z\n,q,3,yes,z\n7,r,,no,z\n")
out("csv", "spec_unlabelled.csv", b'\x04c,b,a\n1,"p",2\n3,q,\n')
out("csv", "quoted_crlf_bom.csv", b'\x00\xef\xbb\xbf"a","b ""x""",y\r\n1,2,a\r\n3,4,b\r\n')

# ------------------------------------------------------------------- IDX
# mode: bit 0 labels file, bit 1 through lc_data_load (gzip), else lc_idx_load


def idx(code, dims, payload):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


images = idx(8, [3, 2, 2], bytes(range(0, 240, 20)))
out("idx", "images_ubyte.idx", b"\x00" + images)
out("idx", "images_float.idx", b"\x00" + idx(0x0D, [2, 3], struct.pack(">6f", 1, -2, 3.5, 0, 1e3, -1e-3)))
out("idx", "images_int16.idx", b"\x00" + idx(0x0B, [2, 2], struct.pack(">4h", -5, 7, 300, -300)))
out("idx", "images_double_4d.idx", b"\x00" + idx(0x0E, [2, 1, 1, 2], struct.pack(">4d", 1, 2, 3, 4)))
out("idx", "labels_ubyte.idx", b"\x01" + idx(8, [3], bytes([0, 2, 1])))
out("idx", "labels_int32.idx", b"\x01" + idx(0x0C, [2], struct.pack(">2i", 1, 0)))
out("idx", "images_gzip.idx.gz", b"\x02" + gzip.compress(images, mtime=0))
out("idx", "images_plain_path.idx", b"\x02" + images)

# ------------------------------------------------------------------- NPY
# mode: as IDX


def npy(arr, version=(1, 0)):
    import io
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, version=version)
    return b.getvalue()


out("npy", "f4_2d.npy", b"\x00" + npy(np.arange(12, dtype=np.float32).reshape(3, 4) / 7))
out("npy", "f8_1d.npy", b"\x00" + npy(np.array([1.5, -2.0, 3.0])))
out("npy", "i1_3d.npy", b"\x00" + npy(np.arange(-4, 4, dtype=np.int8).reshape(2, 2, 2)))
out("npy", "u2_bool.npy", b"\x00" + npy(np.array([[True, False], [False, True]])))
out("npy", "f4_v2.npy", b"\x00" + npy(np.ones((2, 2), np.float32), version=(2, 0)))
out("npy", "big_endian_u1.npy", b"\x00" + npy(np.array([[1, 2]], dtype=">u1")))
out("npy", "labels_i8.npy", b"\x01" + npy(np.array([0, 3, 1, 1], np.int64)))
out("npy", "labels_f4.npy", b"\x01" + npy(np.array([[1.0], [0.0]], np.float32)))
out("npy", "gzip.npy.gz", b"\x02" + gzip.compress(npy(np.eye(3, dtype=np.float32)), mtime=0))

# --------------------------------------------------- preprocessing JSON
out("preproc_json", "spec.json", SPEC.encode())
out("preproc_json", "integer_labels.json",
    b'{"version":1,"label":null,"standardize":0,"columns":[{"name":"x","kind":"numeric","mean":0,"sd":1}],"classes":[]}')
out("preproc_json", "pretty.json", b"""{
  "version": 1, "label": "class", "standardize": 1,
  "columns": [ {"kind": "categorical", "name": "c\\u00e9", "categories": []},
               {"name": "n", "kind": "numeric", "mean": -1.5e-3, "sd": 2E+1} ],
  "classes": ["a", "b\\"q", "c"]
}
""")
