/* onnx_tensor.c - decoding ONNX tensors and attributes, broadcasting
 * constants over features. Every length read from the file is checked
 * against the tensor's shape before use. */
#include "onnx_imp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ox_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Little-endian unsigned integer of `size` bytes. */
static uint64_t le_uint(const uint8_t *p, int size)
{
    uint64_t u = 0;
    for (int i = size - 1; i >= 0; i--) u = u << 8 | p[i];
    return u;
}

const char *ox_dims_str(const int64_t *dims, int rank, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    at += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (at < len) snprintf(buf + at, len - at, "]");
    return buf;
}

const char *ox_type_str(int32_t type, char *buf, size_t len)
{
    /* by number: Debian's onnx.proto predates the 8- and 4-bit types */
    static const char *names[] = {
        "undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64",
        "string", "bool", "float16", "double (float64)", "uint32", "uint64", "complex64",
        "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
        "float8e5m2fnuz", "uint4", "int4", "float4e2m1"};
    if (type >= 0 && (size_t)type < sizeof names / sizeof names[0])
        snprintf(buf, len, "%s", names[type]);
    else
        snprintf(buf, len, "ONNX data type %d", (int)type);
    return buf;
}

void ox_tensor_free(ox_tensor *t)
{
    free(t->v);
    t->v = NULL;
}

/* Element size in raw_data, or 0 for a type lincomp does not read. */
static int raw_size(int32_t type)
{
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
    default: return 0;
    }
}

static double raw_value(const uint8_t *p, int32_t type)
{
    uint64_t u;
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
        uint32_t b = (uint32_t)le_uint(p, 4);
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
        double d;
        u = le_uint(p, 8);
        memcpy(&d, &u, 8);
        return d;
    }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return (double)(int64_t)le_uint(p, 8);
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return (double)(int32_t)(uint32_t)le_uint(p, 4);
    default: return p[0] != 0;
    }
}

lc_status ox_tensor_decode(const Onnx__TensorProto *t, const char *what, ox_tensor *out,
                           lc_error *err)
{
    memset(out, 0, sizeof *out);
    const char *name = t->name && t->name[0] ? t->name : "(unnamed)";
    char buf[160];
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return lc_fail(err, LC_ERR_UNSUPPORTED,
                       "%s: tensor '%s' keeps its data in an external file, which lincomp "
                       "does not read (save the model with the weights inside)", what, name);
    if (t->segment)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: tensor '%s' is segmented", what, name);
    if (t->n_dims > OX_MAX_RANK)
        return lc_fail(err, LC_ERR_UNSUPPORTED, "%s: tensor '%s' has rank %zu (at most %d)",
                       what, name, t->n_dims, OX_MAX_RANK);
    size_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || !lc_mul_ok(n, (size_t)t->dims[i], &n) || n > LC_MAX_FLOATS)
            return lc_fail(err, LC_ERR_FORMAT, "%s: tensor '%s' has a bad shape %s", what, name,
                           ox_dims_str(t->dims, (int)t->n_dims, buf, sizeof buf));
        out->dims[i] = t->dims[i];
    }
    out->rank = (int)t->n_dims;
    out->n = n;
    int32_t type = t->has_data_type ? t->data_type : 0;
    int size = raw_size(type);
    if (!size)
        return lc_fail(err, LC_ERR_UNSUPPORTED,
                       "%s: tensor '%s' has data type %s (lincomp reads float32, double, "
                       "int64, int32 and bool)", what, name, ox_type_str(type, buf, sizeof buf));
    out->is_int = type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
                  type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;

    size_t found;
    if (t->has_raw_data && (t->raw_data.len || n == 0)) {
        found = t->raw_data.len / (size_t)size;
        if (t->raw_data.len % (size_t)size) found = (size_t)-1;
    } else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        found = t->n_float_data;
    } else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE) {
        found = t->n_double_data;
    } else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) {
        found = t->n_int64_data;
    } else {
        found = t->n_int32_data;
    }
    if (found != n)
        return lc_fail(err, LC_ERR_FORMAT,
                       "%s: tensor '%s' of shape %s needs %zu values, the file holds %s%zu",
                       what, name, ox_dims_str(out->dims, out->rank, buf, sizeof buf), n,
                       found == (size_t)-1 ? "a partial value after " : "",
                       found == (size_t)-1 ? t->raw_data.len / (size_t)size : found);

    out->v = malloc((n ? n : 1) * sizeof(double));
    if (!out->v) return lc_fail(err, LC_ERR_NOMEM, "%s: out of memory for tensor '%s'", what, name);
    for (size_t i = 0; i < n; i++) {
        if (t->has_raw_data && t->raw_data.len)
            out->v[i] = raw_value(t->raw_data.data + i * (size_t)size, type);
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
            out->v[i] = t->float_data[i];
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
            out->v[i] = t->double_data[i];
        else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
            out->v[i] = (double)t->int64_data[i];
        else
            out->v[i] = t->int32_data[i];
    }
    return LC_OK;
}

const Onnx__AttributeProto *ox_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name)) return n->attribute[i];
    return NULL;
}

int64_t ox_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = ox_attr(n, name);
    return a && a->has_i ? a->i : def;
}

double ox_attr_float(const Onnx__NodeProto *n, const char *name, double def)
{
    const Onnx__AttributeProto *a = ox_attr(n, name);
    return a && a->has_f ? (double)a->f : def;
}

int ox_broadcast(const ox_tensor *c, int rank, const int64_t *dims, size_t width, double *out)
{
    int full = rank + 1; /* with the batch dimension */
    if (c->rank > full || c->n == 0) return 0;
    int64_t stride[OX_MAX_RANK + 1]; /* c's stride along each sample dim, 0 = broadcast */
    for (int i = 0; i < rank; i++) stride[i] = 0;
    int64_t s = 1;
    for (int i = c->rank - 1; i >= 0; i--) {
        int fi = full - c->rank + i; /* position in the full shape */
        if (fi == 0) {
            if (c->dims[i] != 1) return 0;
        } else if (c->dims[i] != 1) {
            if (c->dims[i] != dims[fi - 1]) return 0;
            stride[fi - 1] = s;
        }
        s *= c->dims[i];
    }
    for (size_t f = 0; f < width; f++) {
        size_t rest = f, off = 0;
        for (int i = rank - 1; i >= 0; i--) {
            off += (rest % (size_t)dims[i]) * (size_t)stride[i];
            rest /= (size_t)dims[i];
        }
        out[f] = c->v[off];
    }
    return 1;
}
