# catalogue.sh - the bad-input catalogue of issue 8: every bad model, data
# file and argument gives a non-zero exit (1, or 2 for usage errors),
# exactly one line on stderr naming the file and the problem, and no output
# file (expect_error in lib.sh). Some cases are also in core.sh and
# compress.sh; here each one of the catalogue is in one place, run against
# the commands that write files (predict, compress). The bad models come
# from tests/fixtures/bad/gen.py and gen_fixtures.py (committed); everything
# else is made here with printf, so the tests need no Python.
. "${ROOT:-$PWD}/tests/cli/lib.sh"
BAD="$FIX/bad"
M4="$ROOT/examples/iris.onnx"   # input width 4, 3 classes
M8="$FIX/mlp_gemm.onnx"         # input width 8, 3 outputs
X8="$FIX/mlp_gemm_in.npy"       # 64 x 8 calibration samples
X4="$ROOT/examples/iris-sample.csv"
O="$TMP/outdir/o.onnx"             # outputs go to their own folder, so that a
P="$TMP/outdir/p.csv"              # left temporary file is seen
mkdir -p "$TMP/outdir" "$TMP/indir"
I="$TMP/indir"

# deterministic pseudo-random bytes: N SEED (an LCG; awk works in doubles)
random_bytes() {
    LC_ALL=C awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++) {
        s = (s * 1103515245 + 12345) % 2147483648; printf "%c", int(s / 65536) % 256 } }'
}

# ------------------------------------------------------------------ models
head -c 400 "$M8" >"$I/truncated.onnx"
expect_error catalogue/onnx-truncated 1 "truncated.onnx.*(malformed|truncated)" "$O" \
    "$LINCOMP" compress "$I/truncated.onnx" --data "$X8" -o "$O"
for seed in 1 2 3; do
    random_bytes 3000 "$seed" >"$I/random$seed.onnx"
    expect_error "catalogue/onnx-random-bytes-$seed" 1 "random$seed.onnx: " "$O" \
        "$LINCOMP" compress "$I/random$seed.onnx" --data "$X8" -o "$O"
done
: >"$I/empty.onnx"
expect_error catalogue/onnx-empty 1 "empty.onnx.*empty" "$O" \
    "$LINCOMP" compress "$I/empty.onnx" --data "$X8" -o "$O"
printf 'ir_version: 7\ngraph { node { op_type: "Relu" } }\n' >"$I/text.onnx"
expect_error catalogue/onnx-text 1 "text.onnx: not an ONNX model" "$O" \
    "$LINCOMP" compress "$I/text.onnx" --data "$X8" -o "$O"
expect_error catalogue/onnx-conv 1 "conv.onnx: node 'conv1' \(Conv\): operator not supported" "$O" \
    "$LINCOMP" compress "$BAD/conv.onnx" --data "$X4" -o "$O"
expect_error catalogue/onnx-tanh-hidden 1 "tanh_hidden.onnx: node 'tanh1' \(Tanh\): operator not supported" "$P" \
    "$LINCOMP" predict "$BAD/tanh_hidden.onnx" --data "$X4" -o "$P"
# BatchNorm exported by torch in training mode normalises with batch
# statistics: refused at every opset, whether marked by the statistics
# outputs (11, 13) or by training_mode=1 (15), never folded with the
# running statistics (which gave outputs 1.2 away from ONNX Runtime's)
for op in 11 13 15; do
    expect_error "catalogue/onnx-bn-training-op$op" 1 \
        "bn_training_op$op.onnx: node '/1/BatchNormalization' \(BatchNormalization\): exported in training mode" "$P" \
        "$LINCOMP" predict "$BAD/bn_training_op$op.onnx" --data "$X4" -o "$P"
done
expect_error catalogue/onnx-nan-weights 1 "nan_weights.onnx: node 'fc1': weight \[0, 0\].* is nan" "$O" \
    "$LINCOMP" compress "$BAD/nan_weights.onnx" --data "$X4" -o "$O"
expect_error catalogue/onnx-inf-bias 1 "inf_bias.onnx: node 'fc1': bias \[0\] is inf" "$O" \
    "$LINCOMP" compress "$BAD/inf_bias.onnx" --data "$X4" -o "$O"
expect_error catalogue/onnx-external-data 1 "external_data.onnx: tensor 'W1' .*external file" "$O" \
    "$LINCOMP" compress "$BAD/external_data.onnx" --data "$X4" -o "$O"
expect_error catalogue/onnx-external-data-info 1 "external_data.onnx: tensor 'W1'" - \
    "$LINCOMP" info "$BAD/external_data.onnx"
expect_error catalogue/onnx-no-params 1 "no_params.onnx: the graph has 5 inputs and no stored weights .*export_params=False" "$O" \
    "$LINCOMP" compress "$BAD/no_params.onnx" --data "$X4" -o "$O"
expect_error catalogue/onnx-squeezed-output 1 "squeeze_output.onnx: node 'squeeze' \(Squeeze\): squeezes the data; .*\[N, 1\]" "$P" \
    "$LINCOMP" predict "$BAD/squeeze_output.onnx" --data "$X4" -o "$P"

# --------------------------------------------------------------------- CSV
# iris.onnx has no stored preprocessing: every column but the label is numeric
printf 'a,b,c,d,y\n1,2,3,4,0\n1,2,3\n' >"$I/ragged.csv"
expect_error catalogue/csv-ragged 1 "ragged.csv: line 3: 3 fields, the header has 5" "$P" \
    "$LINCOMP" predict "$M4" --data "$I/ragged.csv" -o "$P"
printf 'a,b,c,d,y\n1,2,3,4,0\n1,2,abc,4,1\n' >"$I/text.csv"
expect_error catalogue/csv-text-in-numeric 1 "text.csv: line 3, column 'c': expected a number, found 'abc'" "$P" \
    "$LINCOMP" predict "$M4" --data "$I/text.csv" -o "$P"
printf 'a,b,c,d,y\n' >"$I/header.csv"
expect_error catalogue/csv-header-only 1 "header.csv: only a header row" "$P" \
    "$LINCOMP" predict "$M4" --data "$I/header.csv" -o "$P"
: >"$I/empty.csv"
expect_error catalogue/csv-empty 1 "empty.csv: empty file" "$P" \
    "$LINCOMP" predict "$M4" --data "$I/empty.csv" -o "$P"
printf 'a,b,c,d,y\n1,2,3,4,0\n1,NaN,3,4,1\n' >"$I/nan.csv"
expect_error catalogue/csv-nan-cell 1 "nan.csv: line 3, column 'b': 'NaN' is not a finite number" "$P" \
    "$LINCOMP" predict "$M4" --data "$I/nan.csv" -o "$P"
printf 'a,b,c,d,y\n1,2,-inf,4,0\n' >"$I/inf.csv"
expect_error catalogue/csv-inf-cell 1 "inf.csv: line 2, column 'c': '-inf' is not a finite number" "$O" \
    "$LINCOMP" compress "$M4" --data "$I/inf.csv" -o "$O"
printf 'a,b,c,d,e,f,y\n1,2,3,4,5,6,0\n' >"$I/wide.csv"
expect_error catalogue/csv-wrong-column-count 1 "wide.csv: 6 features per sample \(the columns besides the label .y.\), but the model takes 4" "$P" \
    "$LINCOMP" predict "$M4" --data "$I/wide.csv" -o "$P"
printf 'a,"b\n1,2\n' >"$I/quote.csv"
expect_error catalogue/csv-open-quote 1 "quote.csv: line 1: malformed quoting" "$P" \
    "$LINCOMP" predict "$M4" --data "$I/quote.csv" -o "$P"
random_bytes 3000 4 >"$I/random.csv"
expect_error catalogue/csv-random-bytes 1 "random.csv: " "$P" \
    "$LINCOMP" predict "$M4" --data "$I/random.csv" -o "$P"

# --------------------------------------------------------------------- IDX
# 3 images of 2 x 4 ubyte pixels: 8 features, the width of mlp_gemm
idx_header() { printf '\000\000\010\003\000\000\000\003\000\000\000\002\000\000\000\004'; }
{ idx_header; head -c 24 /dev/zero; } >"$I/good-images-idx3-ubyte"
check catalogue/idx-good-file-loads "$LINCOMP" predict "$M8" --data "$I/good-images-idx3-ubyte" -o "$TMP/good.csv"
{ printf '\000\000\077\003\000\000\000\003\000\000\000\002\000\000\000\004'; head -c 24 /dev/zero; } >"$I/magic-images-idx3-ubyte"
expect_error catalogue/idx-bad-magic 1 "magic-images-idx3-ubyte: IDX type byte 0x3F" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/magic-images-idx3-ubyte" -o "$P"
printf '\000\000\010\003\377\377\377\377\377\377\377\377\377\377\377\377' >"$I/huge-images-idx3-ubyte"
expect_error catalogue/idx-dims-overflow 1 "huge-images-idx3-ubyte: IDX dimensions give more than" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/huge-images-idx3-ubyte" -o "$P"
{ idx_header; head -c 20 /dev/zero; } >"$I/short-images-idx3-ubyte"
expect_error catalogue/idx-short-payload 1 "short-images-idx3-ubyte: IDX payload ends at byte 36" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/short-images-idx3-ubyte" -o "$P"
# gzip -n: no name in the header, so the corrupted bytes are the stream's
gzip -nc "$I/good-images-idx3-ubyte" >"$I/good.gz"
n=$(wc -c <"$I/good.gz")
head -c $((n - 10)) "$I/good.gz" >"$I/cut-images-idx3-ubyte.gz"
expect_error catalogue/gzip-truncated 1 "cut-images-idx3-ubyte.gz: corrupt gzip stream" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/cut-images-idx3-ubyte.gz" -o "$P"
{ head -c $((n - 8)) "$I/good.gz"; printf '\001\002\003\004'; tail -c 4 "$I/good.gz"; } >"$I/crc-images-idx3-ubyte.gz"
expect_error catalogue/gzip-bad-checksum 1 "crc-images-idx3-ubyte.gz: corrupt gzip stream \(incorrect data check\)" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/crc-images-idx3-ubyte.gz" -o "$P"
{ printf '\037\213\010\000\000\000\000\000\000\003'; random_bytes 200 5; } >"$I/junk-images-idx3-ubyte.gz"
expect_error catalogue/gzip-corrupt-stream 1 "junk-images-idx3-ubyte.gz: corrupt gzip stream" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/junk-images-idx3-ubyte.gz" -o "$P"
# no train-labels-idx1-ubyte beside the images: eval needs labels
expect_error catalogue/idx-missing-labels 1 "good-images-idx3-ubyte: no labels" - \
    "$LINCOMP" eval "$M8" --data "$I/good-images-idx3-ubyte"
printf '\000\000\010\001\000\000\000\002\000\001' >"$I/good-labels-idx1-ubyte"
expect_error catalogue/idx-labels-count 1 "good-labels-idx1-ubyte: 2 labels for 3 data rows" - \
    "$LINCOMP" eval "$M8" --data "$I/good-images-idx3-ubyte"

# --------------------------------------------------------------------- NPY
# npy_header DESCR SHAPE: a version 1.0 header of 128 bytes
npy_header() {
    h="{'descr': '$1', 'fortran_order': False, 'shape': $2, }"
    printf '\223NUMPY\001\000\166\000%s%*s\n' "$h" $((128 - 11 - ${#h})) ""
}
{ npy_header '<f4' '(2, 8)'; head -c 64 /dev/zero; } >"$I/good.npy"
check catalogue/npy-good-file-loads "$LINCOMP" predict "$M8" --data "$I/good.npy" -o "$TMP/good.csv"
{ npy_header '<f4' '(2, 8)'; head -c 60 /dev/zero; } >"$I/trunc.npy"
expect_error catalogue/npy-truncated 1 "trunc.npy: NPY truncated: 64 bytes of data expected after the header, 60 found" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/trunc.npy" -o "$P"
head -c 50 "$I/good.npy" >"$I/trunchdr.npy"
expect_error catalogue/npy-truncated-header 1 "trunchdr.npy: NPY header of 118 bytes, but the file ends at byte 50" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/trunchdr.npy" -o "$P"
{ npy_header '<c8' '(2, 8)'; head -c 128 /dev/zero; } >"$I/complex.npy"
expect_error catalogue/npy-dtype 1 "complex.npy: NPY dtype '<c8'" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/complex.npy" -o "$P"
{ npy_header '<U3' '(2, 8)'; head -c 192 /dev/zero; } >"$I/unicode.npy"
expect_error catalogue/npy-dtype-unicode 1 "unicode.npy: NPY dtype '<U3'" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/unicode.npy" -o "$P"
{ npy_header '<f4' '(2, 3, 3)'; head -c 72 /dev/zero; } >"$I/dims3.npy"
expect_error catalogue/npy-3d-wrong-width 1 "dims3.npy: 9 features per sample, but the model takes 8" "$O" \
    "$LINCOMP" compress "$M8" --data "$I/dims3.npy" -o "$O"
{ npy_header '<f4' '(2, 8)'; head -c 36 /dev/zero; printf '\000\000\300\177'; head -c 24 /dev/zero; } >"$I/nan.npy"
expect_error catalogue/npy-nan 1 "nan.npy: row 1, column 1 \(0-based\): nan is not a finite number" "$P" \
    "$LINCOMP" predict "$M8" --data "$I/nan.npy" -o "$P"
{ npy_header '<i8' '(3,)'; head -c 24 /dev/zero; } >"$I/labels3.npy"
expect_error catalogue/npy-labels-count 1 "labels3.npy: 3 labels for 2 data rows" - \
    "$LINCOMP" eval "$M8" --data "$I/good.npy" --labels "$I/labels3.npy"
expect_error catalogue/npy-labels-missing 1 "nolabels.npy: cannot open" - \
    "$LINCOMP" eval "$M8" --data "$I/good.npy" --labels "$I/nolabels.npy"

# --------------------------------------------------------- paths, arguments
expect_error catalogue/out-folder-missing 1 "nodir" - \
    "$LINCOMP" compress "$M8" --data "$X8" -o "$TMP/nodir/c.onnx"
expect_error catalogue/out-folder-missing-predict 1 "nodir" - \
    "$LINCOMP" predict "$M8" --data "$X8" -o "$TMP/nodir/p.csv"
expect_error catalogue/threshold-above-1 2 "threshold" "$O" \
    "$LINCOMP" compress "$M8" --data "$X8" -o "$O" --threshold 1.01
expect_error catalogue/threshold-negative 2 "threshold" "$O" \
    "$LINCOMP" compress "$M8" --data "$X8" -o "$O" --threshold -0.5
expect_error catalogue/threshold-nan 2 "threshold" "$O" \
    "$LINCOMP" compress "$M8" --data "$X8" -o "$O" --threshold nan
expect_error catalogue/unknown-subcommand 2 "unknown command" - "$LINCOMP" squash "$M8"
expect_error catalogue/unknown-option 2 "option" "$O" \
    "$LINCOMP" compress "$M8" --data "$X8" -o "$O" --squash

# a failed compress leaves an existing output as it was
echo keep >"$TMP/outdir/keep.onnx"
"$LINCOMP" compress "$BAD/nan_weights.onnx" --data "$X4" -o "$TMP/outdir/keep.onnx" 2>/dev/null
[ "$(cat "$TMP/outdir/keep.onnx")" = keep ] && pass catalogue/no-clobber ||
    fail catalogue/no-clobber "an existing file was changed by a failed compress"
