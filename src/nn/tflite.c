/* TensorFlow Lite model loader: reads a .tflite flatbuffer (schema version 3) with the bounds-checked reader of
 * tflite_fb.c and converts its first subgraph to the engine's graph IR (nn/graph.h). See docs/tflite.md for the
 * supported operators and conventions.
 *
 * TFLite is NHWC like the IR, so activations need no re-layout; only weights are re-ordered at load: CONV_2D
 * filters OHWI -> HWIO, DEPTHWISE_CONV_2D filters [1,H,W,C*M] -> [H,W,C,M] (same bytes), FULLY_CONNECTED weights
 * [out,in] -> [in,out]. Fused activations become separate nodes, which the planner fuses back into the
 * convolutions (and relu(x) + c*(x - |x|), the PReLU spelling of TF-converted models, becomes a PReLU there).
 * Quantized or half-precision constant tensors are dequantized to float32 at load (per tensor or per channel);
 * quantized activations (fully integer models) are refused. The batch dimension of every input is made -1 (the
 * planner runs batch 1), and a RESHAPE whose target starts with the declared input batch keeps it as -1.
 * Operators must come in execution order (as the TFLite converter writes them): each input is the output of an
 * earlier operator, a graph input, or a constant buffer. */
#include "nn/graph.h"
#include "nn/tflite_fb.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TFLite TensorType values */
enum { TT_FLOAT32 = 0, TT_FLOAT16 = 1, TT_INT32 = 2, TT_UINT8 = 3, TT_INT64 = 4, TT_INT8 = 9 };
/* BuiltinOperator values used here */
enum {
    BO_ADD = 0,
    BO_AVERAGE_POOL_2D = 1,
    BO_CONCATENATION = 2,
    BO_CONV_2D = 3,
    BO_DEPTHWISE_CONV_2D = 4,
    BO_DEQUANTIZE = 6,
    BO_FULLY_CONNECTED = 9,
    BO_LOGISTIC = 14,
    BO_MAX_POOL_2D = 17,
    BO_MUL = 18,
    BO_RELU = 19,
    BO_RELU6 = 21,
    BO_RESHAPE = 22,
    BO_SOFTMAX = 25,
    BO_TANH = 28,
    BO_PAD = 34,
    BO_MEAN = 40,
    BO_SUB = 41,
    BO_DIV = 42,
    BO_SQUEEZE = 43,
    BO_MAXIMUM = 55,
    BO_MINIMUM = 57,
    BO_ABS = 101
};
/* ActivationFunctionType */
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3, ACT_TANH = 4 };

typedef struct {
    mf_fb_table t;
    const char *name;
    size_t name_len;
    int type;
    int ndim;
    int dim[MF_NN_MAX_DIMS];
    uint32_t buffer;
    int node;            /* IR node holding the value, -1 until defined */
    const uint8_t *data; /* constant bytes (NULL: no data) */
    size_t data_len;
} tensor_t;

typedef struct {
    mf_nn_model_t *m;
    mf_cur buf;
    tensor_t *ts;
    uint32_t n_ts;
    int *codes; /* builtin code per operator code */
    uint32_t n_codes;
    mf_fb_vec buffers;
    mf_fb_table model;
    size_t const_cap; /* bytes of float32/int32 constants the loader may create (MF_TFLITE_MAX_CONST_BYTES) */
    int in_batch;     /* declared batch of the first input (0: none) */
    int op_index;     /* operator being converted, for messages */
    char nm[MF_TFLITE_MAX_NAME + 64];
} ctx;

static int op_err(ctx *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int op_err(ctx *c, int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mf_error_set(status, "tflite operator %d: %s", c->op_index, msg);
}

/* ---------------------------------------------------------------- tensors */

static int read_tensor(ctx *c, const mf_fb_table *sg, const mf_fb_vec *tv, uint32_t i) {
    tensor_t *t = &c->ts[i];
    mf_fb_vec shape;
    uint8_t type;
    int st;
    t->node = -1;
    if ((st = mf_fb_vec_table(sg, tv, i, "Tensor", &t->t))) return st;
    if ((st = mf_fb_vector(&t->t, 0, 4, MF_NN_MAX_DIMS, &shape))) return st;
    if ((st = mf_fb_u8(&t->t, 1, 0, &type)) || (st = mf_fb_u32(&t->t, 2, 0, &t->buffer))) return st;
    if ((st = mf_fb_string(&t->t, 3, MF_TFLITE_MAX_NAME, &t->name, &t->name_len))) return st;
    t->type = type;
    t->ndim = (int)shape.n;
    for (int d = 0; d < t->ndim; d++) {
        int32_t v = mf_fb_vec_i32(&t->t, &shape, (uint32_t)d);
        if (v < -1 || v > MF_NN_MAX_DIM_SIZE)
            return mf_error_set(MF_ERR_FORMAT, "tflite tensor %u (%.*s): dimension %d out of range", i,
                                (int)t->name_len, t->name, (int)v);
        t->dim[d] = v;
    }
    /* constant data: a non-empty buffer (buffer 0 is the empty sentinel by convention) */
    if (t->buffer >= c->buffers.n)
        return mf_error_set(MF_ERR_FORMAT, "tflite tensor %u: buffer %u of %u", i, t->buffer, c->buffers.n);
    mf_fb_table b;
    mf_fb_vec data;
    if ((st = mf_fb_vec_table(&c->model, &c->buffers, t->buffer, "Buffer", &b))) return st;
    if ((st = mf_fb_vector(&b, 0, 1, UINT32_MAX, &data))) return st;
    if (data.n) {
        t->data = c->buf.base + data.pos;
        t->data_len = data.n;
    } else if (mf_fb_has(&b, 1)) { /* large models: data outside the flatbuffer, at offset/size from the file start */
        uint64_t off, size;
        const uint8_t *p;
        if ((st = mf_fb_u64(&b, 1, 0, &off)) || (st = mf_fb_u64(&b, 2, 0, &size))) return st;
        if (off > SIZE_MAX || size > SIZE_MAX || mf_cur_bytes_at(&c->buf, (size_t)off, (size_t)size, &p))
            return mf_error_set(MF_ERR_FORMAT, "tflite buffer %u: data outside the file", t->buffer);
        if (size > 1) {
            t->data = p;
            t->data_len = (size_t)size;
        }
    }
    return MF_OK;
}

static float half_to_float(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, u;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        return s ? -f : f;
    }
    u = e == 31 ? s | 0x7f800000u | (m << 13) : s | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Decodes constant tensor i into a malloc'd float32 or int32 array (*dtype), dequantizing int8/uint8 with its
 * quantization parameters. */
static int decode_const(ctx *c, uint32_t i, int *dtype, mf_nn_shape *shape, void **out) {
    tensor_t *t = &c->ts[i];
    size_t n = 1, esz;
    int st;
    *out = NULL;
    shape->ndim = t->ndim;
    for (int d = 0; d < t->ndim; d++) {
        if (t->dim[d] < 0)
            return mf_error_set(MF_ERR_FORMAT, "tflite constant %.*s: unknown dimension", (int)t->name_len, t->name);
        shape->dim[d] = t->dim[d];
        if (mf_size_mul(n, (size_t)t->dim[d], &n) || n > MF_NN_MAX_TENSOR_ELEMS)
            return mf_error_set(MF_ERR_LIMIT, "tflite constant %.*s: too many elements", (int)t->name_len, t->name);
    }
    switch (t->type) {
    case TT_FLOAT32:
    case TT_INT32: esz = 4; break;
    case TT_FLOAT16: esz = 2; break;
    case TT_INT64: esz = 8; break;
    case TT_UINT8:
    case TT_INT8: esz = 1; break;
    default:
        return mf_error_set(MF_ERR_UNSUPPORTED, "tflite constant %.*s: tensor type %d", (int)t->name_len, t->name,
                            t->type);
    }
    if (n * 4 > c->const_cap || c->m->weight_bytes > c->const_cap - n * 4)
        return mf_error_set(MF_ERR_LIMIT, "tflite constant %.*s: the constants would exceed %zu bytes",
                            (int)t->name_len, t->name, c->const_cap);
    if (t->data_len != n * esz)
        return mf_error_set(MF_ERR_FORMAT, "tflite constant %.*s: %zu bytes of data for %zu elements of %zu bytes",
                            (int)t->name_len, t->name, t->data_len, n, esz);
    const uint8_t *p = t->data;
    int is_float = t->type == TT_FLOAT32 || t->type == TT_FLOAT16;
    /* quantization: scale and zero point per tensor or per channel of quantized_dimension */
    mf_fb_table q;
    int has_q = 0;
    mf_fb_vec scale = {0, 0}, zp = {0, 0};
    int32_t qdim = 0;
    if ((st = mf_fb_table_field(&t->t, 4, "QuantizationParameters", &q, &has_q))) return st;
    if (has_q && ((st = mf_fb_vector(&q, 2, 4, MF_NN_MAX_DIM_SIZE, &scale)) ||
                  (st = mf_fb_vector(&q, 3, 8, MF_NN_MAX_DIM_SIZE, &zp)) || (st = mf_fb_i32(&q, 6, 0, &qdim))))
        return st;
    int quant = (t->type == TT_UINT8 || t->type == TT_INT8) && scale.n > 0;
    size_t channels = 1, inner = 1;
    if (quant) {
        if (scale.n > 1) {
            if (qdim < 0 || qdim >= t->ndim || (uint32_t)t->dim[qdim] != scale.n)
                return mf_error_set(MF_ERR_FORMAT, "tflite constant %.*s: %u scales for dimension %d", (int)t->name_len,
                                    t->name, scale.n, (int)qdim);
            channels = scale.n;
            for (int d = qdim + 1; d < t->ndim; d++)
                inner *= (size_t)t->dim[d];
        }
        if (zp.n && zp.n != scale.n)
            return mf_error_set(MF_ERR_FORMAT, "tflite constant %.*s: %u zero points for %u scales", (int)t->name_len,
                                t->name, zp.n, scale.n);
        for (uint32_t z = 0; z < zp.n; z++) { /* an 8-bit zero point lies in the 8-bit range */
            int64_t v = mf_fb_vec_i64(&q, &zp, z);
            if (v < -128 || v > 255)
                return mf_error_set(MF_ERR_FORMAT, "tflite constant %.*s: zero point %lld out of the 8-bit range",
                                    (int)t->name_len, t->name, (long long)v);
        }
        for (uint32_t z = 0; z < scale.n; z++)
            if (!isfinite(mf_fb_vec_f32(&q, &scale, z)))
                return mf_error_set(MF_ERR_FORMAT, "tflite constant %.*s: non-finite scale", (int)t->name_len, t->name);
        is_float = 1;
    }
    void *data = malloc(n * 4 + 4);
    if (!data) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    float *f = data;
    int32_t *iv = data;
    for (size_t k = 0; k < n; k++) {
        switch (t->type) {
        case TT_FLOAT32: f[k] = mf_lef32(p + 4 * k); break;
        case TT_FLOAT16: f[k] = half_to_float(mf_le16(p + 2 * k)); break;
        case TT_INT32: iv[k] = (int32_t)mf_le32(p + 4 * k); break;
        case TT_INT64: {
            int64_t v = (int64_t)mf_le64(p + 8 * k);
            iv[k] = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
            break;
        }
        default: { /* 8-bit */
            int v = t->type == TT_INT8 ? (int)(int8_t)p[k] : (int)p[k];
            if (!quant) {
                iv[k] = v;
                break;
            }
            size_t ch = channels > 1 ? (k / inner) % channels : 0;
            float s = mf_fb_vec_f32(&q, &scale, (uint32_t)ch);
            int64_t z = zp.n ? mf_fb_vec_i64(&q, &zp, (uint32_t)ch) : 0;
            f[k] = (float)((double)s * (double)((int64_t)v - z));
        }
        }
        if (is_float && !isfinite(f[k])) {
            free(data);
            return mf_error_set(MF_ERR_FORMAT, "tflite constant %.*s: non-finite value", (int)t->name_len, t->name);
        }
    }
    *dtype = is_float ? MF_NN_F32 : MF_NN_I32;
    *out = data;
    c->m->weight_bytes += n * 4;
    return MF_OK;
}

static const char *tname(ctx *c, int ti, const char *suffix) {
    const tensor_t *t = &c->ts[ti];
    snprintf(c->nm, sizeof c->nm, "%.*s%s", (int)t->name_len, t->name, suffix);
    return c->nm;
}

/* The IR node of tensor `ti` used as an operator input: defined earlier, or a constant made now. */
static int value(ctx *c, int32_t ti, int *node) {
    if (ti < 0 || (uint32_t)ti >= c->n_ts) return op_err(c, MF_ERR_FORMAT, "input tensor %d of %u", (int)ti, c->n_ts);
    tensor_t *t = &c->ts[ti];
    if (t->node < 0) {
        if (!t->data)
            return op_err(c, MF_ERR_FORMAT, "tensor %d (%.*s) is read before any operator writes it", (int)ti,
                          (int)t->name_len, t->name);
        int dtype, st;
        mf_nn_shape sh;
        void *d;
        if ((st = decode_const(c, (uint32_t)ti, &dtype, &sh, &d))) return st;
        int id = mf_nn_graph_add_const(c->m, tname(c, ti, ""), dtype, &sh, d);
        if (id < 0) return id;
        t->node = id;
    }
    *node = t->node;
    return MF_OK;
}

/* A constant made by the loader (takes `data`). */
static int add_const(ctx *c, const char *name, int dtype, const mf_nn_shape *sh, void *data) {
    c->m->weight_bytes += mf_nn_shape_numel(sh) * 4;
    return mf_nn_graph_add_const(c->m, name, dtype, sh, data);
}

static int const_i32(ctx *c, const char *name, const int *v, int n) {
    int32_t *d = malloc((size_t)(n > 0 ? n : 1) * 4);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        d[i] = v[i];
    mf_nn_shape sh = {.ndim = 1, .dim = {n}};
    return add_const(c, name, MF_NN_I32, &sh, d);
}

/* ---------------------------------------------------------------- operators */

typedef struct {
    mf_fb_table t;   /* Operator */
    mf_fb_table opt; /* builtin options (has_opt) */
    int has_opt;
    mf_fb_vec in, out;
    int code;
} op_t;

static int opt_i32(const op_t *o, unsigned k, int32_t def, int32_t *v) {
    if (!o->has_opt) {
        *v = def;
        return MF_OK;
    }
    return mf_fb_i32(&o->opt, k, def, v);
}
static int opt_u8(const op_t *o, unsigned k, uint8_t def, int *v) {
    uint8_t u = def;
    int st = o->has_opt ? mf_fb_u8(&o->opt, k, def, &u) : MF_OK;
    *v = u;
    return st;
}

static int in_tensor(const op_t *o, uint32_t j) { return mf_fb_vec_i32(&o->t, &o->in, j); }

/* Data input j (must be present, not -1). */
static int input(ctx *c, const op_t *o, uint32_t j, int *node) {
    if (j >= o->in.n) return op_err(c, MF_ERR_FORMAT, "needs input %u, has %u", j + 1, o->in.n);
    return value(c, in_tensor(o, j), node);
}

/* Adds op `irop` reading in[0..n) and a fused activation after it; defines the operator's output tensor. */
static int emit(ctx *c, const op_t *o, int irop, const int *in, int n, const mf_nn_attrs *a, int act) {
    int32_t oti = mf_fb_vec_i32(&o->t, &o->out, 0);
    if (oti < 0 || (uint32_t)oti >= c->n_ts) return op_err(c, MF_ERR_FORMAT, "output tensor %d", (int)oti);
    tensor_t *ot = &c->ts[oti];
    if (ot->node >= 0 || ot->data)
        return op_err(c, MF_ERR_FORMAT, "tensor %d (%.*s) is written twice or is a constant", (int)oti,
                      (int)ot->name_len, ot->name);
    if (ot->type != TT_FLOAT32 && !(irop == MF_NN_OP_RESHAPE && ot->type == TT_INT32))
        return op_err(c, MF_ERR_UNSUPPORTED, "output %.*s of type %d (quantized activations are not supported)",
                      (int)ot->name_len, ot->name, ot->type);
    int id = mf_nn_graph_add(c->m, tname(c, oti, act == ACT_NONE ? "" : "/pre_act"), irop, in, n);
    if (id < 0) return id;
    if (a) c->m->nodes[id].a = *a;
    if (act != ACT_NONE) {
        int aop = act == ACT_RELU    ? MF_NN_OP_RELU
                  : act == ACT_RELU6 ? MF_NN_OP_RELU6
                  : act == ACT_TANH  ? MF_NN_OP_TANH
                                     : -1;
        if (aop < 0) return op_err(c, MF_ERR_UNSUPPORTED, "fused activation %d", act);
        id = mf_nn_graph_add(c->m, tname(c, oti, ""), aop, &id, 1);
        if (id < 0) return id;
    }
    ot->node = id;
    return MF_OK;
}

static int padding_of(ctx *c, int p, int *out) {
    if (p == 0)
        *out = MF_NN_PAD_SAME;
    else if (p == 1)
        *out = MF_NN_PAD_VALID;
    else
        return op_err(c, MF_ERR_FORMAT, "padding %d", p);
    return MF_OK;
}

static int window(ctx *c, int32_t v, const char *what) {
    if (v < 1 || v > MF_TFLITE_MAX_WINDOW) return op_err(c, MF_ERR_FORMAT, "%s %d out of range", what, (int)v);
    return MF_OK;
}

/* CONV_2D and DEPTHWISE_CONV_2D. Options: conv padding(0) stride_w(1) stride_h(2) act(3) dil_w(4) dil_h(5);
 * depthwise padding(0) stride_w(1) stride_h(2) depth_multiplier(3) act(4) dil_w(5) dil_h(6). */
static int conv(ctx *c, const op_t *o, int dw) {
    int x, st, pad, act;
    int32_t sw, sh, dlw, dlh;
    if ((st = input(c, o, 0, &x))) return st;
    if (o->in.n < 2) return op_err(c, MF_ERR_FORMAT, "convolution without a filter");
    int fti = in_tensor(o, 1);
    if (fti < 0 || (uint32_t)fti >= c->n_ts || !c->ts[fti].data)
        return op_err(c, MF_ERR_UNSUPPORTED, "convolution filter is not a constant");
    if ((st = opt_u8(o, 0, 0, &pad)) || (st = padding_of(c, pad, &pad)) || (st = opt_i32(o, 1, 1, &sw)) ||
        (st = opt_i32(o, 2, 1, &sh)) || (st = opt_u8(o, dw ? 4 : 3, 0, &act)) ||
        (st = opt_i32(o, dw ? 5 : 4, 1, &dlw)) || (st = opt_i32(o, dw ? 6 : 5, 1, &dlh)))
        return st;
    if ((st = window(c, sw, "stride")) || (st = window(c, sh, "stride")) || (st = window(c, dlw, "dilation")) ||
        (st = window(c, dlh, "dilation")))
        return st;
    int dtype;
    mf_nn_shape fs;
    void *fd;
    if ((st = decode_const(c, (uint32_t)fti, &dtype, &fs, &fd))) return st;
    if (dtype != MF_NN_F32 || fs.ndim != 4) {
        free(fd);
        return op_err(c, MF_ERR_FORMAT, "filter is not a 4-D float tensor");
    }
    mf_nn_shape ws;
    float *w = fd;
    if (dw) { /* [1,H,W,C*M] -> [H,W,C,M]: C from the input tensor's declared channels */
        const tensor_t *xt = &c->ts[in_tensor(o, 0)];
        int ch = xt->ndim == 4 ? xt->dim[3] : -1, oc = fs.dim[3];
        if (fs.dim[0] != 1 || ch < 1 || oc % ch) {
            free(fd);
            return op_err(c, MF_ERR_FORMAT, "depthwise filter [%d,%d,%d,%d] for %d input channels", fs.dim[0],
                          fs.dim[1], fs.dim[2], fs.dim[3], ch);
        }
        ws = (mf_nn_shape){.ndim = 4, .dim = {fs.dim[1], fs.dim[2], ch, oc / ch}};
    } else { /* OHWI -> HWIO */
        int O = fs.dim[0], H = fs.dim[1], W = fs.dim[2], I = fs.dim[3];
        w = malloc(mf_nn_shape_numel(&fs) * 4 + 4);
        if (!w) {
            free(fd);
            return mf_error_set(MF_ERR_NOMEM, "out of memory");
        }
        const float *s = fd;
        for (int oo = 0; oo < O; oo++)
            for (int h = 0; h < H; h++)
                for (int ww = 0; ww < W; ww++)
                    for (int i = 0; i < I; i++)
                        w[(((size_t)h * W + ww) * I + i) * O + oo] = s[(((size_t)oo * H + h) * W + ww) * I + i];
        free(fd);
        ws = (mf_nn_shape){.ndim = 4, .dim = {H, W, I, O}};
    }
    c->m->weight_bytes -= mf_nn_shape_numel(&fs) * 4; /* counted again by add_const */
    int wid = add_const(c, tname(c, fti, dw ? "/hwcm" : "/hwio"), MF_NN_F32, &ws, w);
    if (wid < 0) return wid;
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    a.strides[1] = sh, a.strides[2] = sw, a.dilations[1] = dlh, a.dilations[2] = dlw, a.padding = pad;
    int in[2] = {x, wid};
    int has_bias = o->in.n > 2 && in_tensor(o, 2) >= 0;
    if (!has_bias) return emit(c, o, dw ? MF_NN_OP_DWCONV2D : MF_NN_OP_CONV2D, in, 2, &a, act);
    int32_t oti = mf_fb_vec_i32(&o->t, &o->out, 0);
    if (oti < 0 || (uint32_t)oti >= c->n_ts) return op_err(c, MF_ERR_FORMAT, "output tensor %d", (int)oti);
    int cv = mf_nn_graph_add(c->m, tname(c, oti, "/conv"), dw ? MF_NN_OP_DWCONV2D : MF_NN_OP_CONV2D, in, 2);
    if (cv < 0) return cv;
    c->m->nodes[cv].a = a;
    int b;
    if ((st = input(c, o, 2, &b))) return st;
    int bin[2] = {cv, b};
    return emit(c, o, MF_NN_OP_BIAS_ADD, bin, 2, NULL, act);
}

/* AVERAGE_POOL_2D, MAX_POOL_2D: padding(0) stride_w(1) stride_h(2) filter_width(3) filter_height(4) act(5). */
static int pool(ctx *c, const op_t *o, int irop) {
    int x, st, pad, act;
    int32_t sw, sh, fw, fh;
    if ((st = input(c, o, 0, &x))) return st;
    if ((st = opt_u8(o, 0, 0, &pad)) || (st = padding_of(c, pad, &pad)) || (st = opt_i32(o, 1, 1, &sw)) ||
        (st = opt_i32(o, 2, 1, &sh)) || (st = opt_i32(o, 3, 1, &fw)) || (st = opt_i32(o, 4, 1, &fh)) ||
        (st = opt_u8(o, 5, 0, &act)))
        return st;
    if ((st = window(c, sw, "stride")) || (st = window(c, sh, "stride")) || (st = window(c, fw, "window")) ||
        (st = window(c, fh, "window")))
        return st;
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    a.strides[1] = sh, a.strides[2] = sw, a.ksize[1] = fh, a.ksize[2] = fw, a.padding = pad;
    return emit(c, o, irop, &x, 1, &a, act);
}

/* Binary ops with a fused activation at option 0. */
static int binary(ctx *c, const op_t *o, int irop, int has_act) {
    int in[2], st, act = 0;
    if ((st = input(c, o, 0, &in[0])) || (st = input(c, o, 1, &in[1]))) return st;
    if (has_act && (st = opt_u8(o, 0, 0, &act))) return st;
    return emit(c, o, irop, in, 2, NULL, act);
}

static int unary(ctx *c, const op_t *o, int irop) {
    int x, st;
    if ((st = input(c, o, 0, &x))) return st;
    return emit(c, o, irop, &x, 1, NULL, ACT_NONE);
}

/* RESHAPE: the target from input 1 (constant) or from ReshapeOptions.new_shape (0). */
static int reshape(ctx *c, const op_t *o) {
    int x, st, dims[MF_NN_MAX_DIMS], nd = 0;
    if ((st = input(c, o, 0, &x))) return st;
    if (o->in.n > 1 && in_tensor(o, 1) >= 0) {
        int sti = in_tensor(o, 1), dtype;
        if ((uint32_t)sti >= c->n_ts || !c->ts[sti].data)
            return op_err(c, MF_ERR_UNSUPPORTED, "reshape to a computed shape");
        mf_nn_shape sh;
        void *d;
        if ((st = decode_const(c, (uint32_t)sti, &dtype, &sh, &d))) return st;
        c->m->weight_bytes -= mf_nn_shape_numel(&sh) * 4;
        size_t n = mf_nn_shape_numel(&sh);
        if (dtype != MF_NN_I32 || sh.ndim != 1 || n > MF_NN_MAX_DIMS) {
            free(d);
            return op_err(c, MF_ERR_FORMAT, "reshape target is not a vector of at most %d ints", MF_NN_MAX_DIMS);
        }
        for (size_t i = 0; i < n; i++)
            dims[nd++] = ((int32_t *)d)[i];
        free(d);
    } else {
        mf_fb_vec v = {0, 0};
        if (o->has_opt && (st = mf_fb_vector(&o->opt, 0, 4, MF_NN_MAX_DIMS, &v))) return st;
        if (!o->has_opt) return op_err(c, MF_ERR_FORMAT, "reshape without a target shape");
        for (uint32_t i = 0; i < v.n; i++)
            dims[nd++] = mf_fb_vec_i32(&o->opt, &v, i);
    }
    if (nd > 0 && c->in_batch > 1 && dims[0] == c->in_batch) dims[0] = -1;
    int32_t oti = mf_fb_vec_i32(&o->t, &o->out, 0);
    if (oti < 0 || (uint32_t)oti >= c->n_ts) return op_err(c, MF_ERR_FORMAT, "output tensor %d", (int)oti);
    int sid = const_i32(c, tname(c, oti, "/shape"), dims, nd);
    if (sid < 0) return sid;
    int in[2] = {x, sid};
    return emit(c, o, MF_NN_OP_RESHAPE, in, 2, NULL, ACT_NONE);
}

/* FULLY_CONNECTED: act(0) weights_format(1) keep_num_dims(2); weights [out, in] constant, bias optional. The
 * input is flattened to [-1, in]. */
static int fully_connected(ctx *c, const op_t *o) {
    int x, st, act, fmt, keep;
    if ((st = input(c, o, 0, &x))) return st;
    if ((st = opt_u8(o, 0, 0, &act)) || (st = opt_u8(o, 1, 0, &fmt)) || (st = opt_u8(o, 2, 0, &keep))) return st;
    if (fmt != 0 || keep)
        return op_err(c, MF_ERR_UNSUPPORTED, "fully connected weights format %d / keep_num_dims", fmt);
    if (o->in.n < 2) return op_err(c, MF_ERR_FORMAT, "fully connected without weights");
    int32_t oti = mf_fb_vec_i32(&o->t, &o->out, 0); /* checked before anything is allocated */
    if (oti < 0 || (uint32_t)oti >= c->n_ts) return op_err(c, MF_ERR_FORMAT, "output tensor %d", (int)oti);
    int wti = in_tensor(o, 1), dtype;
    if (wti < 0 || (uint32_t)wti >= c->n_ts || !c->ts[wti].data)
        return op_err(c, MF_ERR_UNSUPPORTED, "fully connected weights are not a constant");
    mf_nn_shape ws;
    void *wd;
    if ((st = decode_const(c, (uint32_t)wti, &dtype, &ws, &wd))) return st;
    if (dtype != MF_NN_F32 || ws.ndim != 2) {
        free(wd);
        return op_err(c, MF_ERR_FORMAT, "fully connected weights are not a 2-D float tensor");
    }
    int O = ws.dim[0], I = ws.dim[1];
    float *w = malloc((size_t)O * I * 4 + 4);
    if (!w) {
        free(wd);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    for (int oo = 0; oo < O; oo++)
        for (int i = 0; i < I; i++)
            w[(size_t)i * O + oo] = ((float *)wd)[(size_t)oo * I + i];
    free(wd);
    c->m->weight_bytes -= (size_t)O * I * 4;
    mf_nn_shape ts = {.ndim = 2, .dim = {I, O}};
    int wid = add_const(c, tname(c, oti, "/weights"), MF_NN_F32, &ts, w);
    if (wid < 0) return wid;
    int flat[2] = {-1, I};
    int sid = const_i32(c, tname(c, oti, "/flat_shape"), flat, 2);
    if (sid < 0) return sid;
    int rin[2] = {x, sid};
    int rs = mf_nn_graph_add(c->m, tname(c, oti, "/flat"), MF_NN_OP_RESHAPE, rin, 2);
    if (rs < 0) return rs;
    int in[2] = {rs, wid};
    int has_bias = o->in.n > 2 && in_tensor(o, 2) >= 0;
    if (!has_bias) return emit(c, o, MF_NN_OP_MATMUL, in, 2, NULL, act);
    int mm = mf_nn_graph_add(c->m, tname(c, oti, "/matmul"), MF_NN_OP_MATMUL, in, 2);
    if (mm < 0) return mm;
    int b;
    if ((st = input(c, o, 2, &b))) return st;
    int bin[2] = {mm, b};
    return emit(c, o, MF_NN_OP_BIAS_ADD, bin, 2, NULL, act);
}

/* CONCATENATION: axis(0) act(1). */
static int concat(ctx *c, const op_t *o) {
    int st, act, in[MF_TFLITE_MAX_OP_IO + 1];
    int32_t axis;
    if (o->in.n < 1 || o->in.n > MF_TFLITE_MAX_OP_IO) return op_err(c, MF_ERR_FORMAT, "concatenation of %u", o->in.n);
    for (uint32_t j = 0; j < o->in.n; j++)
        if ((st = input(c, o, j, &in[j]))) return st;
    if ((st = opt_i32(o, 0, 0, &axis)) || (st = opt_u8(o, 1, 0, &act))) return st;
    int32_t oti = mf_fb_vec_i32(&o->t, &o->out, 0);
    if (oti < 0 || (uint32_t)oti >= c->n_ts) return op_err(c, MF_ERR_FORMAT, "output tensor %d", (int)oti);
    int ax = axis;
    int aid = const_i32(c, tname(c, oti, "/axis"), &ax, 1);
    if (aid < 0) return aid;
    c->m->nodes[aid].shape.ndim = 0; /* a scalar */
    in[o->in.n] = aid;
    return emit(c, o, MF_NN_OP_CONCAT, in, (int)o->in.n + 1, NULL, act);
}

/* PAD (paddings constant [rank,2]) and MEAN (axes constant; ReducerOptions.keep_dims(0)). */
static int with_const(ctx *c, const op_t *o, int irop) {
    int x, k, st;
    if ((st = input(c, o, 0, &x)) || (st = input(c, o, 1, &k))) return st;
    if (c->m->nodes[k].op != MF_NN_OP_CONST) return op_err(c, MF_ERR_UNSUPPORTED, "second input is not a constant");
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    if (irop == MF_NN_OP_MEAN && (st = opt_u8(o, 0, 0, &a.keep_dims))) return st;
    int in[2] = {x, k};
    return emit(c, o, irop, in, 2, &a, ACT_NONE);
}

/* SQUEEZE: squeeze_dims(0). */
static int squeeze(ctx *c, const op_t *o) {
    int x, st;
    if ((st = input(c, o, 0, &x))) return st;
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    if (o->has_opt) {
        mf_fb_vec v;
        if ((st = mf_fb_vector(&o->opt, 0, 4, MF_NN_MAX_DIMS, &v))) return st;
        for (uint32_t i = 0; i < v.n; i++)
            a.squeeze_dims[a.n_squeeze++] = mf_fb_vec_i32(&o->opt, &v, i);
    }
    return emit(c, o, MF_NN_OP_SQUEEZE, &x, 1, &a, ACT_NONE);
}

/* SOFTMAX: beta(0) must be 1. */
static int softmax(ctx *c, const op_t *o) {
    float beta = 1;
    int st;
    if (o->has_opt && (st = mf_fb_f32(&o->opt, 0, 1.0f, &beta))) return st;
    if (beta != 1.0f) return op_err(c, MF_ERR_UNSUPPORTED, "softmax with beta %g", (double)beta);
    return unary(c, o, MF_NN_OP_SOFTMAX);
}

/* DEQUANTIZE of a constant: the constant is dequantized when read, so this is its alias. */
static int dequantize(ctx *c, const op_t *o) {
    int x, st;
    if (o->in.n < 1 || in_tensor(o, 0) < 0 || (uint32_t)in_tensor(o, 0) >= c->n_ts || !c->ts[in_tensor(o, 0)].data)
        return op_err(c, MF_ERR_UNSUPPORTED, "DEQUANTIZE of a computed tensor (quantized activations)");
    if ((st = input(c, o, 0, &x))) return st;
    if (c->m->nodes[x].dtype != MF_NN_F32) return op_err(c, MF_ERR_UNSUPPORTED, "DEQUANTIZE of an unquantized integer");
    return emit(c, o, MF_NN_OP_IDENTITY, &x, 1, NULL, ACT_NONE);
}

static const char *builtin_name(int code) {
    switch (code) {
    case BO_ADD: return "ADD";
    case BO_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case BO_CONCATENATION: return "CONCATENATION";
    case BO_CONV_2D: return "CONV_2D";
    case BO_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case BO_DEQUANTIZE: return "DEQUANTIZE";
    case BO_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case BO_LOGISTIC: return "LOGISTIC";
    case BO_MAX_POOL_2D: return "MAX_POOL_2D";
    case BO_MUL: return "MUL";
    case BO_RELU: return "RELU";
    case BO_RELU6: return "RELU6";
    case BO_RESHAPE: return "RESHAPE";
    case BO_SOFTMAX: return "SOFTMAX";
    case BO_TANH: return "TANH";
    case BO_PAD: return "PAD";
    case BO_MEAN: return "MEAN";
    case BO_SUB: return "SUB";
    case BO_DIV: return "DIV";
    case BO_SQUEEZE: return "SQUEEZE";
    case BO_MAXIMUM: return "MAXIMUM";
    case BO_MINIMUM: return "MINIMUM";
    case BO_ABS: return "ABS";
    default: return NULL;
    }
}

static int convert_op(ctx *c, const op_t *o) {
    switch (o->code) {
    case BO_CONV_2D: return conv(c, o, 0);
    case BO_DEPTHWISE_CONV_2D: return conv(c, o, 1);
    case BO_AVERAGE_POOL_2D: return pool(c, o, MF_NN_OP_AVGPOOL);
    case BO_MAX_POOL_2D: return pool(c, o, MF_NN_OP_MAXPOOL);
    case BO_ADD: return binary(c, o, MF_NN_OP_ADD, 1);
    case BO_SUB: return binary(c, o, MF_NN_OP_SUB, 1);
    case BO_MUL: return binary(c, o, MF_NN_OP_MUL, 1);
    case BO_DIV: return binary(c, o, MF_NN_OP_REALDIV, 1);
    case BO_MAXIMUM: return binary(c, o, MF_NN_OP_MAXIMUM, 0);
    case BO_MINIMUM: return binary(c, o, MF_NN_OP_MINIMUM, 0);
    case BO_RELU: return unary(c, o, MF_NN_OP_RELU);
    case BO_RELU6: return unary(c, o, MF_NN_OP_RELU6);
    case BO_LOGISTIC: return unary(c, o, MF_NN_OP_SIGMOID);
    case BO_TANH: return unary(c, o, MF_NN_OP_TANH);
    case BO_ABS: return unary(c, o, MF_NN_OP_ABS);
    case BO_SOFTMAX: return softmax(c, o);
    case BO_RESHAPE: return reshape(c, o);
    case BO_FULLY_CONNECTED: return fully_connected(c, o);
    case BO_CONCATENATION: return concat(c, o);
    case BO_PAD: return with_const(c, o, MF_NN_OP_PAD);
    case BO_MEAN: return with_const(c, o, MF_NN_OP_MEAN);
    case BO_SQUEEZE: return squeeze(c, o);
    case BO_DEQUANTIZE: return dequantize(c, o);
    default: return op_err(c, MF_ERR_UNSUPPORTED, "builtin operator %d is not supported", o->code);
    }
}

/* ---------------------------------------------------------------- model */

static int load(ctx *c) {
    int st;
    uint32_t version;
    mf_fb_vec codes, sgs, tv, ops, ins, outs;
    mf_fb_table sg;
    if ((st = mf_fb_root(&c->buf, "TFL3", "Model", &c->model))) return st;
    if ((st = mf_fb_u32(&c->model, 0, 0, &version))) return st;
    if (version != 3) return mf_error_set(MF_ERR_UNSUPPORTED, "tflite schema version %u (only 3)", version);
    if ((st = mf_fb_vector(&c->model, 1, 4, 1024, &codes)) || (st = mf_fb_vector(&c->model, 2, 4, 1024, &sgs)) ||
        (st = mf_fb_vector(&c->model, 4, 4, MF_TFLITE_MAX_BUFFERS, &c->buffers)))
        return st;
    if (sgs.n < 1) return mf_error_set(MF_ERR_FORMAT, "tflite model has no subgraph");
    c->codes = malloc((codes.n + 1) * sizeof *c->codes);
    if (!c->codes) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    c->n_codes = codes.n;
    for (uint32_t i = 0; i < codes.n; i++) {
        mf_fb_table oc;
        uint8_t dep;
        int32_t code;
        if ((st = mf_fb_vec_table(&c->model, &codes, i, "OperatorCode", &oc)) || (st = mf_fb_u8(&oc, 0, 0, &dep)) ||
            (st = mf_fb_i32(&oc, 3, 0, &code)))
            return st;
        /* deprecated_builtin_code is an int8 (codes < 127); builtin_code holds every code in newer files */
        int d = (int8_t)dep;
        c->codes[i] = code > d ? code : d;
        if (mf_fb_has(&oc, 1) && c->codes[i] == 32)
            return mf_error_set(MF_ERR_UNSUPPORTED, "tflite model uses a custom operator");
    }
    if ((st = mf_fb_vec_table(&c->model, &sgs, 0, "SubGraph", &sg))) return st;
    if ((st = mf_fb_vector(&sg, 0, 4, MF_TFLITE_MAX_TENSORS, &tv)) || (st = mf_fb_vector(&sg, 1, 4, 64, &ins)) ||
        (st = mf_fb_vector(&sg, 2, 4, 64, &outs)) || (st = mf_fb_vector(&sg, 3, 4, MF_TFLITE_MAX_OPS, &ops)))
        return st;
    c->ts = calloc(tv.n + 1, sizeof *c->ts);
    if (!c->ts) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    c->n_ts = tv.n;
    for (uint32_t i = 0; i < tv.n; i++)
        if ((st = read_tensor(c, &sg, &tv, i))) return st;
    if (ins.n < 1 || outs.n < 1) return mf_error_set(MF_ERR_FORMAT, "tflite subgraph without inputs or outputs");
    for (uint32_t i = 0; i < ins.n; i++) {
        int32_t ti = mf_fb_vec_i32(&sg, &ins, i);
        if (ti < 0 || (uint32_t)ti >= c->n_ts) return mf_error_set(MF_ERR_FORMAT, "tflite input tensor %d", (int)ti);
        tensor_t *t = &c->ts[ti];
        if (t->node >= 0 || t->data)
            return mf_error_set(MF_ERR_FORMAT, "tflite input %d listed twice or constant", (int)ti);
        if (t->type != TT_FLOAT32)
            return mf_error_set(MF_ERR_UNSUPPORTED, "tflite input %.*s of type %d (only float32)", (int)t->name_len,
                                t->name, t->type);
        if (t->ndim < 1)
            return mf_error_set(MF_ERR_UNSUPPORTED, "tflite input %.*s is a scalar", (int)t->name_len, t->name);
        int id = mf_nn_graph_add(c->m, tname(c, ti, ""), MF_NN_OP_PLACEHOLDER, NULL, 0);
        if (id < 0) return id;
        mf_nn_node *n = &c->m->nodes[id];
        n->dtype = MF_NN_F32;
        n->shape.ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) {
            if (d > 0 && t->dim[d] < 1)
                return mf_error_set(MF_ERR_UNSUPPORTED, "tflite input %.*s has no static shape", (int)t->name_len,
                                    t->name);
            n->shape.dim[d] = d == 0 ? -1 : t->dim[d];
        }
        if (i == 0) c->in_batch = t->dim[0];
        int *ni = realloc(c->m->inputs, (size_t)(c->m->n_inputs + 1) * sizeof(int));
        if (!ni) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        c->m->inputs = ni;
        c->m->inputs[c->m->n_inputs++] = id;
        t->node = id;
    }
    for (uint32_t k = 0; k < ops.n; k++) {
        op_t o;
        uint32_t idx;
        uint8_t opt_type;
        c->op_index = (int)k;
        if ((st = mf_fb_vec_table(&sg, &ops, k, "Operator", &o.t)) || (st = mf_fb_u32(&o.t, 0, 0, &idx)) ||
            (st = mf_fb_vector(&o.t, 1, 4, MF_TFLITE_MAX_OP_IO, &o.in)) ||
            (st = mf_fb_vector(&o.t, 2, 4, MF_TFLITE_MAX_OP_IO, &o.out)) || (st = mf_fb_u8(&o.t, 3, 0, &opt_type)) ||
            (st = mf_fb_table_field(&o.t, 4, "builtin options", &o.opt, &o.has_opt)))
            return st;
        if (idx >= c->n_codes) return op_err(c, MF_ERR_FORMAT, "operator code %u of %u", idx, c->n_codes);
        o.code = c->codes[idx];
        if (o.out.n != 1)
            return op_err(c, MF_ERR_UNSUPPORTED, "%s with %u outputs (only one)",
                          builtin_name(o.code) ? builtin_name(o.code) : "operator", o.out.n);
        if ((st = convert_op(c, &o))) return st;
    }
    for (uint32_t i = 0; i < outs.n; i++) {
        int32_t ti = mf_fb_vec_i32(&sg, &outs, i);
        if (ti < 0 || (uint32_t)ti >= c->n_ts) return mf_error_set(MF_ERR_FORMAT, "tflite output tensor %d", (int)ti);
        int node;
        c->op_index = -1;
        if ((st = value(c, ti, &node))) return st;
        if ((st = mf_nn_graph_add_output(c->m, node, tname(c, ti, "")))) return st;
    }
    return MF_OK;
}

int mf_nn_model_load_tflite_mem(const uint8_t *data, size_t len, mf_nn_model_t **out) {
    if (!out) return mf_error_set(MF_ERR_ARG, "tflite: no output pointer");
    *out = NULL;
    if (!data && len) return mf_error_set(MF_ERR_ARG, "tflite: no data");
    if (len > MF_TFLITE_MAX_BYTES)
        return mf_error_set(MF_ERR_LIMIT, "tflite file of %zu bytes (limit %d)", len, MF_TFLITE_MAX_BYTES);
    ctx c;
    memset(&c, 0, sizeof c);
    mf_cur_init(&c.buf, data, len);
    c.const_cap = len < (MF_TFLITE_MAX_CONST_BYTES - ((size_t)64 << 20)) / 4 ? 4 * len + ((size_t)64 << 20)
                                                                             : MF_TFLITE_MAX_CONST_BYTES;
    int st = mf_nn_graph_init(&c.m);
    if (!st) st = load(&c);
    free(c.ts);
    free(c.codes);
    if (st) {
        mf_nn_model_free(c.m);
        return st;
    }
    *out = c.m;
    return MF_OK;
}

int mf_nn_model_load_tflite(const char *path, mf_nn_model_t **out) {
    if (!out) return mf_error_set(MF_ERR_ARG, "tflite: no output pointer");
    *out = NULL;
    uint8_t *buf;
    size_t len;
    int st = mf_file_read(path, MF_TFLITE_MAX_BYTES, &buf, &len);
    if (st) return st;
    st = mf_nn_model_load_tflite_mem(buf, len, out);
    free(buf);
    return st ? mf_error_prefix(st, "%s", path) : MF_OK;
}
