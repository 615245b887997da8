/* ONNX loader: parity of fr_feature.onnx and fr_detect.onnx with onnxruntime (build/golden/fr_feature.gold,
 * fr_detect.gold, written by tools/golden),
 * robustness against truncated, corrupted and random files, and small hand-built models (encoded here with a
 * minimal protobuf writer) checked against plain NCHW reference code and for their error messages.
 *
 * MFMC_ONNX_SEED_DIR=dir writes the hand-built models there (seed corpus of fuzz/fuzz_onnx.c). */
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
#include "mfmc/nn.h"

/* ---------------------------------------------------------------- protobuf writer */

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
static void b_varint(buf *b, uint64_t v) {
    uint8_t c;
    while (v >= 0x80) {
        c = (uint8_t)(v | 0x80);
        b_put(b, &c, 1);
        v >>= 7;
    }
    c = (uint8_t)v;
    b_put(b, &c, 1);
}
static void b_tag(buf *b, int field, int wt) { b_varint(b, (uint64_t)field << 3 | (uint64_t)wt); }
static void b_len(buf *b, int field, const void *d, size_t n) {
    b_tag(b, field, 2);
    b_varint(b, n);
    b_put(b, d, n);
}
static void b_str(buf *b, int field, const char *s) { b_len(b, field, s, strlen(s)); }
static void b_msg(buf *b, int field, buf *sub) { /* consumes sub */
    b_len(b, field, sub->p, sub->n);
    free(sub->p);
    *sub = (buf){0};
}
static void b_int(buf *b, int field, int64_t v) {
    b_tag(b, field, 0);
    b_varint(b, (uint64_t)v);
}
static void b_f32(buf *b, int field, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    b_tag(b, field, 5);
    b_put(b, le, 4);
}

/* TensorProto: FLOAT with raw_data, or INT64 with packed int64_data. */
static buf tensor_f(const char *name, int ndim, const int64_t *dims, const float *v) {
    buf t = {0};
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        b_int(&t, 1, dims[i]);
        n *= (size_t)dims[i];
    }
    b_int(&t, 2, 1);
    b_str(&t, 8, name);
    buf raw = {0};
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        b_put(&raw, le, 4);
    }
    b_msg(&t, 9, &raw);
    return t;
}
static buf tensor_i64(const char *name, int n, const int64_t *v) { /* n = 0: a scalar v[0] */
    buf t = {0}, packed = {0};
    if (n) b_int(&t, 1, n);
    b_int(&t, 2, 7);
    for (int i = 0; i < (n ? n : 1); i++)
        b_varint(&packed, (uint64_t)v[i]);
    b_msg(&t, 7, &packed);
    b_str(&t, 8, name);
    return t;
}

static buf attr_i(const char *name, int64_t v) {
    buf a = {0};
    b_str(&a, 1, name);
    b_int(&a, 20, 2);
    b_int(&a, 3, v);
    return a;
}
static buf attr_is(const char *name, int n, const int64_t *v) {
    buf a = {0};
    b_str(&a, 1, name);
    b_int(&a, 20, 7);
    for (int i = 0; i < n; i++)
        b_int(&a, 8, v[i]);
    return a;
}
static buf attr_f(const char *name, float v) {
    buf a = {0};
    b_str(&a, 1, name);
    b_int(&a, 20, 1);
    b_f32(&a, 2, v);
    return a;
}
static buf attr_s(const char *name, const char *s) {
    buf a = {0};
    b_str(&a, 1, name);
    b_int(&a, 20, 3);
    b_str(&a, 4, s);
    return a;
}

/* NodeProto into graph g; in/out NULL-terminated; attrs consumed. */
static void g_node(buf *g, const char *op, const char *name, const char *const *in, const char *const *out, buf *attrs,
                   int na) {
    buf n = {0};
    for (; *in; in++)
        b_str(&n, 1, *in);
    for (; *out; out++)
        b_str(&n, 2, *out);
    b_str(&n, 3, name);
    b_str(&n, 4, op);
    for (int i = 0; i < na; i++)
        b_msg(&n, 5, &attrs[i]);
    b_msg(g, 1, &n);
}
#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOATTR NULL, 0

/* ValueInfoProto (FLOAT tensor with static dims; dim -1 = symbolic "N") as graph input (11) or output (12). */
static void g_vi(buf *g, int field, const char *name, int ndim, const int64_t *dims) {
    buf shape = {0}, tt = {0}, ty = {0}, vi = {0};
    for (int i = 0; i < ndim; i++) {
        buf d = {0};
        if (dims[i] < 0)
            b_str(&d, 2, "N");
        else
            b_int(&d, 1, dims[i]);
        b_msg(&shape, 1, &d);
    }
    b_int(&tt, 1, 1);
    b_msg(&tt, 2, &shape);
    b_msg(&ty, 1, &tt);
    b_str(&vi, 1, name);
    b_msg(&vi, 2, &ty);
    b_msg(g, field, &vi);
}
static void g_init(buf *g, buf t) { b_msg(g, 5, &t); }

static buf model(int opset, buf *graph) {
    buf m = {0}, op = {0};
    b_int(&m, 1, 7);
    b_str(&m, 2, "mfmc-test");
    b_int(&op, 2, opset);
    b_msg(&m, 8, &op);
    b_msg(&m, 7, graph);
    return m;
}

static void save_seed(const char *name, const buf *b) {
    const char *dir = getenv("MFMC_ONNX_SEED_DIR");
    if (!dir || !*dir) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(b->p, 1, b->n, f);
    fclose(f);
}

/* ---------------------------------------------------------------- helpers */

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
static float frand(void) { return (float)(rnd() % 20001) / 10000.0f - 1.0f; }
static void fill(float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        v[i] = frand();
}

static void nchw_to_nhwc(const float *src, int n, int c, int h, int w, float *dst) {
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst[(((size_t)b * h + y) * w + x) * c + ch] = src[(((size_t)b * c + ch) * h + y) * w + x];
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)n + 1);
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return d;
}

static const char *feature_path(void) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/faceplugin/fr_feature.onnx", tu_models_dir());
    if (!tu_exists(path)) {
        fprintf(stderr, "FAIL: %s missing: run tools/setup.sh (make test does)\n", path);
        fail();
    }
    return path;
}

/* Loads `b` and expects status `want` (MF_OK: also plans); `needle` must appear in the message on failure. */
static mf_nn_model_t *expect_load(const buf *b, int want, const char *needle) {
    mf_nn_model_t *m = NULL;
    mf_error_clear();
    int st = mf_nn_model_load_onnx_mem(b->p, b->n, &m);
    if (st != want || (st && needle && !strstr(mf_error_get(), needle)))
        fprintf(stderr, "expected status %d with '%s', got %d: %s\n", want, needle ? needle : "", st, mf_error_get());
    assert_int_equal(st, want);
    if (st) {
        assert_null(m);
        assert_true(mf_error_get()[0] != '\0');
        if (needle) assert_non_null(strstr(mf_error_get(), needle));
    }
    return m;
}

/* ---------------------------------------------------------------- fr_feature parity */

/* What a parity check over a golden file needs: the model, its plan (on a pool when threads > 1) and the golden
 * tensors. rig_open fails the test with a message when the model or the golden file is missing. */
typedef struct {
    mf_nn_model_t *m;
    mf_nn_pool_t *pool;
    mf_nn_plan_t *p;
    tu_tensor *t;
    int nt;
} parity_rig;

static void rig_open(parity_rig *r, const char *model_path, const char *gold_name, int isa, int threads) {
    char gpath[1024];
    snprintf(gpath, sizeof gpath, "%s/%s", tu_golden_dir(), gold_name);
    if (!tu_exists(gpath)) {
        fprintf(stderr, "FAIL: %s missing: run `make golden` (make test does)\n", gpath);
        fail();
    }
    memset(r, 0, sizeof *r);
    int st = mf_nn_model_load_onnx(model_path, &r->m);
    if (st) fprintf(stderr, "load: %s\n", mf_error_get());
    assert_int_equal(st, MF_OK);
    if (threads > 1) assert_int_equal(mf_nn_pool_create(threads, &r->pool), MF_OK);
    mf_nn_plan_opts o = {.pool = r->pool, .isa = isa};
    st = mf_nn_plan_create(r->m, &o, &r->p);
    if (st) fprintf(stderr, "plan: %s\n", mf_error_get());
    assert_int_equal(st, MF_OK);
    assert_int_equal(tu_golden_load(gpath, &r->t, &r->nt), 0);
}

static void rig_close(parity_rig *r) {
    tu_golden_free(r->t, r->nt);
    mf_nn_plan_free(r->p);
    mf_nn_pool_free(r->pool);
    mf_nn_model_free(r->m);
}

/* Runs the plan on item b of the golden NCHW input gin (C x H x W each), given to the model as NHWC. */
static void rig_run(parity_rig *r, const tu_tensor *gin, int b) {
    int C = gin->shape.dim[1], H = gin->shape.dim[2], W = gin->shape.dim[3];
    mf_nn_shape sh;
    float *in = mf_nn_plan_input(r->p, 0, &sh);
    assert_int_equal(mf_nn_shape_numel(&sh), (size_t)C * H * W);
    nchw_to_nhwc(gin->data + (size_t)b * C * H * W, 1, C, H, W, in);
    assert_int_equal(mf_nn_plan_run(r->p), MF_OK);
}

static void check_feature(int isa, int threads) {
    parity_rig r;
    rig_open(&r, feature_path(), "fr_feature.gold", isa, threads);
    mf_nn_model_t *m = r.m;
    assert_int_equal(mf_nn_model_input_count(m), 1);
    assert_string_equal(mf_nn_model_input_name(m, 0), "input");
    mf_nn_shape ish = mf_nn_model_input_shape(m, 0); /* NHWC */
    assert_int_equal(ish.ndim, 4);
    assert_int_equal(ish.dim[1], 112);
    assert_int_equal(ish.dim[2], 112);
    assert_int_equal(ish.dim[3], 3);
    assert_int_equal(mf_nn_model_output_count(m), 1);
    assert_string_equal(mf_nn_model_output_name(m, 0), "output");
    const tu_tensor *gin = NULL, *gout = NULL;
    for (int i = 0; i < r.nt; i++) {
        if (r.t[i].role == 0 && !strcmp(r.t[i].name, "input")) gin = &r.t[i];
        if (r.t[i].role == 1 && !strcmp(r.t[i].name, "output")) gout = &r.t[i];
    }
    assert_non_null(gin);
    assert_non_null(gout);
    assert_int_equal(gin->shape.ndim, 4);
    int batch = gin->shape.dim[0], C = gin->shape.dim[1], H = gin->shape.dim[2], W = gin->shape.dim[3];
    assert_true(batch >= 1 && C == 3 && H == 112 && W == 112);
    assert_int_equal(gout->count, (size_t)batch * 512);
    int oi = mf_nn_plan_output_index(r.p, "output");
    assert_int_equal(oi, 0);
    for (int b = 0; b < batch; b++) {
        rig_run(&r, gin, b);
        mf_nn_shape sh;
        const float *out = mf_nn_plan_output(r.p, oi, &sh);
        assert_int_equal(mf_nn_shape_numel(&sh), 512);
        assert_int_equal(sh.ndim, 2);
        double ma, mr, cs;
        tu_compare(out, gout->data + (size_t)b * 512, 512, &ma, &mr, &cs);
        printf("  fr_feature[%d] isa=%d thr=%d  max|err|=%.3g  max|ref|=%.3g  rel=%.2e  cos=%.8f\n", b, isa, threads,
               ma, mr, mr > 0 ? ma / mr : ma, cs);
        assert_true(ma <= 1e-4 * mr);
        assert_true(cs >= 0.99999);
    }
    rig_close(&r);
}

static void test_feature_scalar(void **state) {
    (void)state;
    check_feature(0, 1);
}
static void test_feature_best_2threads(void **state) {
    (void)state;
    check_feature(-1, 2);
}
/* as the recognizer sessions plan it: AMX tiles for the large GEMMs where the CPU has them */
static void test_feature_fast_2threads(void **state) {
    (void)state;
    check_feature(MF_NN_PLAN_ISA_FAST, 2);
}

/* ---------------------------------------------------------------- fr_detect parity */

/* fr_detect (the masked-face judge's detector, occl18) against onnxruntime (build/golden/fr_detect.gold: input 0 the
 * demo photo with faces in view, input 1 an integer pattern): every anchor's two scores and four box corners within
 * 1e-4 of the largest reference value, on the scalar path (1 thread) and the best ISA on 2 threads. */
static void check_detect(int isa, int threads) {
    char path[1024];
    snprintf(path, sizeof path, "%s/faceplugin/fr_detect.onnx", tu_models_dir());
    parity_rig r;
    rig_open(&r, path, "fr_detect.gold", isa, threads);
    const tu_tensor *gin = NULL, *gsc = NULL, *gbx = NULL;
    for (int i = 0; i < r.nt; i++) {
        if (r.t[i].role == 0) gin = &r.t[i];
        if (r.t[i].role == 1 && !strcmp(r.t[i].name, "scores")) gsc = &r.t[i];
        if (r.t[i].role == 1 && !strcmp(r.t[i].name, "boxes")) gbx = &r.t[i];
    }
    assert_non_null(gin);
    assert_non_null(gsc);
    assert_non_null(gbx);
    int batch = gin->shape.dim[0], C = gin->shape.dim[1], H = gin->shape.dim[2], W = gin->shape.dim[3];
    assert_true(batch >= 2 && C == 3 && H == 240 && W == 320);
    enum { ANCHORS = 4420 };
    assert_int_equal(gsc->count, (size_t)batch * ANCHORS * 2);
    assert_int_equal(gbx->count, (size_t)batch * ANCHORS * 4);
    int si = mf_nn_plan_output_index(r.p, "scores"), bi = mf_nn_plan_output_index(r.p, "boxes");
    assert_true(si >= 0 && bi >= 0);
    for (int b = 0; b < batch; b++) {
        rig_run(&r, gin, b);
        mf_nn_shape sh;
        const float *sc = mf_nn_plan_output(r.p, si, &sh);
        assert_int_equal(mf_nn_shape_numel(&sh), (size_t)ANCHORS * 2);
        const float *bx = mf_nn_plan_output(r.p, bi, &sh);
        assert_int_equal(mf_nn_shape_numel(&sh), (size_t)ANCHORS * 4);
        const float *rs = gsc->data + (size_t)b * ANCHORS * 2, *rb = gbx->data + (size_t)b * ANCHORS * 4;
        double ma, mr, cs, mb, mrb, cb;
        tu_compare(sc, rs, ANCHORS * 2, &ma, &mr, &cs);
        tu_compare(bx, rb, ANCHORS * 4, &mb, &mrb, &cb);
        float best = 0;
        for (int a = 0; a < ANCHORS; a++) best = rs[2 * a + 1] > best ? rs[2 * a + 1] : best;
        printf("  fr_detect[%d] isa=%d thr=%d  scores max|err|=%.3g (best face %.3f)  boxes max|err|=%.3g of %.3g\n", b,
               isa, threads, ma, best, mb, mrb);
        if (b == 0) assert_true(best > 0.9f); /* the demo photo's faces are in view: a face is scored */
        assert_true(ma <= 1e-4 * mr);
        assert_true(mb <= 1e-4 * mrb);
    }
    rig_close(&r);
}

static void test_detect_scalar(void **state) {
    (void)state;
    check_detect(0, 1);
}
static void test_detect_best_2threads(void **state) {
    (void)state;
    check_detect(-1, 2);
}

/* ---------------------------------------------------------------- robustness on the real model */

/* Loads corrupted bytes: refused with a message, or (corruption in weight data) loads and plans. */
static int load_corrupt(const uint8_t *d, size_t n, int *loaded) {
    mf_nn_model_t *m = NULL;
    mf_error_clear();
    int st = mf_nn_model_load_onnx_mem(d, n, &m);
    if (st) {
        assert_true(st < 0);
        assert_null(m);
        assert_true(mf_error_get()[0] != '\0');
        return st;
    }
    (*loaded)++;
    mf_nn_plan_t *p = NULL;
    mf_nn_plan_opts o = {.isa = 0};
    int ps = mf_nn_plan_create(m, &o, &p);
    if (ps) assert_true(mf_error_get()[0] != '\0');
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
    return st;
}

static void test_truncated(void **state) {
    (void)state;
    size_t len;
    uint8_t *d = read_file(feature_path(), &len);
    assert_non_null(d);
    int refused = 0, loaded = 0, n = 0;
    /* 200 cut points: dense at the start (model and graph headers, nodes), then spread over the file */
    for (int i = 0; i < 200; i++) {
        size_t cut = i < 60    ? (size_t)i * 7
                     : i < 100 ? 420 + (size_t)(i - 60) * 500
                               : (size_t)((double)len * (i - 100) / 100.0);
        if (cut >= len) continue;
        uint8_t *copy = malloc(cut + 1); /* exact size so ASan sees any overread */
        memcpy(copy, d, cut);
        if (load_corrupt(copy, cut, &loaded)) refused++;
        free(copy);
        n++;
    }
    printf("  truncated: %d cuts, %d refused, %d loaded\n", n, refused, loaded);
    assert_int_equal(refused, n); /* every prefix of a valid model is missing its graph's end */
    free(d);
}

static void test_byte_flips(void **state) {
    (void)state;
    size_t len;
    uint8_t *d = read_file(feature_path(), &len);
    assert_non_null(d);
    uint8_t *copy = malloc(len);
    int refused = 0, loaded = 0;
    rng_state = 777;
    for (int i = 0; i < 200; i++) {
        /* half in the structure (nodes at the start, inputs/outputs at the end), half anywhere */
        size_t pos = i % 2 ? rnd() % len : i % 4 == 0 ? rnd() % (len < 24000 ? len : 24000) : len - 1 - rnd() % 400;
        memcpy(copy, d, len);
        copy[pos] ^= (uint8_t)(1 + rnd() % 255);
        if (load_corrupt(copy, len, &loaded)) refused++;
    }
    printf("  byte flips: 200 files, %d refused, %d loaded\n", refused, loaded);
    assert_int_equal(refused + loaded, 200);
    free(copy);
    free(d);
}

static void test_empty_and_random(void **state) {
    (void)state;
    mf_nn_model_t *m = NULL;
    assert_int_equal(mf_nn_model_load_onnx_mem((const uint8_t *)"", 0, &m), MF_ERR_FORMAT);
    assert_null(m);
    rng_state = 99;
    for (int k = 0; k < 50; k++) {
        size_t n = 1 + rnd() % 4096;
        uint8_t *r = malloc(n);
        for (size_t i = 0; i < n; i++)
            r[i] = (uint8_t)rnd();
        int st = mf_nn_model_load_onnx_mem(r, n, &m);
        assert_true(st < 0);
        assert_null(m);
        assert_true(mf_error_get()[0] != '\0');
        free(r);
    }
    const char *json = "{\"format\": \"graph-model\"}";
    assert_int_equal(mf_nn_model_load_onnx_mem((const uint8_t *)json, strlen(json), &m), MF_ERR_FORMAT);
    assert_int_equal(mf_nn_model_load_onnx("/nonexistent/model.onnx", &m), MF_ERR_IO);
    assert_null(m);
}

/* ---------------------------------------------------------------- hand-built models */

/* x [1,3] -> Foo -> y: the op and node are named. */
static void test_unsupported_op(void **state) {
    (void)state;
    buf g = {0};
    g_node(&g, "Foo", "my_foo_node", IN("x"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 3});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 3});
    buf m = model(13, &g);
    save_seed("unsupported_op", &m);
    expect_load(&m, MF_ERR_UNSUPPORTED, "Foo");
    assert_non_null(strstr(mf_error_get(), "my_foo_node"));
    free(m.p);
}

/* A small valid model: x [1,2,3,3] -> Relu -> Conv 1x1 (2->2, bias) -> y. */
static buf tiny_model(int with_extra_attr, int group) {
    buf g = {0};
    float w[4] = {1, 2, 3, 4}, b[2] = {0.5f, -0.5f};
    g_init(&g, tensor_f("w", 4, (int64_t[]){2, 2 / group, 1, 1}, w));
    g_init(&g, tensor_f("b", 1, (int64_t[]){2}, b));
    g_node(&g, "Relu", "relu", IN("x"), IN("r"), NOATTR);
    buf at[3];
    int na = 0;
    at[na++] = attr_is("kernel_shape", 2, (int64_t[]){1, 1});
    if (group != 1) at[na++] = attr_i("group", group);
    if (with_extra_attr) at[na++] = attr_i("frobnicate", 1);
    g_node(&g, "Conv", "conv", IN("r", "w", "b"), IN("y"), at, na);
    g_vi(&g, 11, "x", 4, (int64_t[]){-1, 2, 3, 3});
    g_vi(&g, 12, "y", 4, (int64_t[]){-1, 2, 3, 3});
    return model(11, &g);
}

/* x (dims) -> Relu -> y, with input name `xname`. */
static buf relu_model(const char *xname, int ndim, const int64_t *dims) {
    buf g = {0};
    g_node(&g, "Relu", "r", IN(xname), IN("y"), NOATTR);
    g_vi(&g, 11, xname, ndim, dims);
    g_vi(&g, 12, "y", ndim, dims);
    return model(13, &g);
}

static void expect_relu(const char *xname, int ndim, const int64_t *dims, int want) {
    buf mb = relu_model(xname, ndim, dims);
    mf_nn_model_t *m = expect_load(&mb, want, NULL);
    mf_nn_model_free(m);
    free(mb.p);
}

/* Caps of mfmc/limits.h at their boundary: the largest value loads, one more is refused with MF_ERR_LIMIT
 * (shapes are resolved at load; nothing of that size is allocated). */
static void test_limits_boundary(void **state) {
    (void)state;
    /* one input dimension */
    expect_relu("x", 2, (int64_t[]){1, MF_NN_MAX_DIM_SIZE}, MF_OK);
    expect_relu("x", 2, (int64_t[]){1, MF_NN_MAX_DIM_SIZE + 1}, MF_ERR_LIMIT);
    /* elements per tensor: 2^14 x 2^14 = 2^28 exactly, then one row more */
    assert_int_equal(MF_NN_MAX_TENSOR_ELEMS, 1 << 28);
    expect_relu("x", 3, (int64_t[]){1, 1 << 14, 1 << 14}, MF_OK);
    expect_relu("x", 3, (int64_t[]){1, (1 << 14) + 1, 1 << 14}, MF_ERR_LIMIT);
    /* bytes in a name */
    char name[MF_ONNX_MAX_NAME + 2];
    memset(name, 'n', sizeof name);
    name[MF_ONNX_MAX_NAME] = '\0';
    expect_relu(name, 2, (int64_t[]){1, 4}, MF_OK);
    name[MF_ONNX_MAX_NAME] = 'n';
    name[MF_ONNX_MAX_NAME + 1] = '\0';
    expect_relu(name, 2, (int64_t[]){1, 4}, MF_ERR_LIMIT);
    /* a whole file over the model-file cap is refused before it is parsed (no need to hold that much: the
     * length alone decides) */
    mf_nn_model_t *m = NULL;
    static const uint8_t one = 0;
    assert_int_equal(mf_nn_model_load_onnx_mem(&one, (size_t)MF_NN_MAX_WEIGHT_BYTES + MF_NN_MAX_JSON_BYTES + 1, &m),
                     MF_ERR_LIMIT);
    assert_null(m);
}

static void test_tiny_model_runs(void **state) {
    (void)state;
    buf mb = tiny_model(0, 1);
    save_seed("tiny_conv", &mb);
    mf_nn_model_t *m = expect_load(&mb, MF_OK, NULL);
    mf_nn_shape s = mf_nn_model_input_shape(m, 0);
    assert_int_equal(s.ndim, 4);
    assert_int_equal(s.dim[0], -1); /* symbolic batch */
    assert_int_equal(s.dim[3], 2);  /* NHWC */
    mf_nn_plan_t *p;
    assert_int_equal(mf_nn_plan_create(m, NULL, &p), MF_OK);
    float xin[18], *in = mf_nn_plan_input(p, 0, NULL);
    for (int i = 0; i < 18; i++)
        xin[i] = (float)(i % 5) - 2.0f; /* NCHW */
    nchw_to_nhwc(xin, 1, 2, 3, 3, in);
    assert_int_equal(mf_nn_plan_run(p), MF_OK);
    const float *y = mf_nn_plan_output(p, 0, &s); /* returned in NCHW order */
    assert_int_equal(s.ndim, 4);
    assert_int_equal(s.dim[1], 2);
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 9; i++) {
            float r0 = xin[i] > 0 ? xin[i] : 0, r1 = xin[9 + i] > 0 ? xin[9 + i] : 0;
            float want = (o ? 3 * r0 + 4 * r1 - 0.5f : r0 + 2 * r1 + 0.5f);
            assert_float_equal(y[o * 9 + i], want, 1e-5);
        }
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
    free(mb.p);
}

/* The work counter (mf_nn_work_get): every run of a plan counted under its FLOPs per run (mf_nn_plan_stats), from the
 * last reset; a timed run counts too. */
static void test_work_counter(void **state) {
    (void)state;
    buf mb = tiny_model(0, 1);
    mf_nn_model_t *m = expect_load(&mb, MF_OK, NULL);
    mf_nn_plan_t *p;
    assert_int_equal(mf_nn_plan_create(m, NULL, &p), MF_OK);
    mf_nn_plan_stats ps;
    mf_nn_plan_get_stats(p, &ps);
    assert_true(ps.flops > 0);
    mf_nn_work_reset();
    mf_nn_work_entry e[MF_NN_WORK_KINDS];
    assert_int_equal(mf_nn_work_get(e, MF_NN_WORK_KINDS), 0);
    for (int r = 0; r < 3; r++)
        assert_int_equal(mf_nn_plan_run(p), MF_OK);
    double ms[64] = {0};
    assert_true(ps.steps <= 64);
    assert_int_equal(mf_nn_plan_run_timed(p, ms), MF_OK);
    assert_int_equal(mf_nn_work_get(e, MF_NN_WORK_KINDS), 1);
    assert_int_equal(e[0].runs, 4);
    assert_true(e[0].flops_per_run == ps.flops);
    mf_nn_work_reset();
    assert_int_equal(mf_nn_work_get(e, MF_NN_WORK_KINDS), 0);
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
    free(mb.p);
}

static void test_unknown_attribute_and_group(void **state) {
    (void)state;
    buf m = tiny_model(1, 1);
    expect_load(&m, MF_ERR_UNSUPPORTED, "frobnicate");
    free(m.p);
    /* group=2 with 2 channels and 1 input channel per group is depthwise: supported */
    m = tiny_model(0, 2);
    mf_nn_model_free(expect_load(&m, MF_OK, NULL));
    free(m.p);
}

/* Structural defects of a valid model, each refused with a message naming it. */
static void test_malformed_structure(void **state) {
    (void)state;
    buf m = tiny_model(0, 1);
    /* every truncation of the tiny model */
    for (size_t cut = 0; cut < m.n; cut++) {
        mf_nn_model_t *mm = NULL;
        uint8_t *c = malloc(cut + 1);
        memcpy(c, m.p, cut);
        int st = mf_nn_model_load_onnx_mem(c, cut, &mm);
        assert_true(st < 0);
        assert_null(mm);
        free(c);
    }
    free(m.p);

    /* length running past the end */
    uint8_t bad_len[] = {0x3a, 0xff, 0xff, 0x03, 0x01};
    buf b = {bad_len, sizeof bad_len, 0};
    expect_load(&b, MF_ERR_FORMAT, "remain");
    /* overlong varint */
    uint8_t bad_var[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    b = (buf){bad_var, sizeof bad_var, 0};
    expect_load(&b, MF_ERR_FORMAT, "varint");
    /* group wire type */
    uint8_t bad_wt[] = {0x0b, 0x00};
    b = (buf){bad_wt, sizeof bad_wt, 0};
    expect_load(&b, MF_ERR_FORMAT, "wire type");

    /* no graph, no opset */
    buf g = {0}, mm = {0};
    b_int(&mm, 1, 7);
    expect_load(&mm, MF_ERR_FORMAT, "no graph");
    free(mm.p);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 3});
    mm = (buf){0};
    b_msg(&mm, 7, &g);
    expect_load(&mm, MF_ERR_FORMAT, "opset");
    free(mm.p);

    /* a node reading a value nobody defines */
    g = (buf){0};
    g_node(&g, "Relu", "r", IN("nowhere"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 3});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 3});
    mm = model(13, &g);
    expect_load(&mm, MF_ERR_FORMAT, "nowhere");
    free(mm.p);

    /* a value defined twice */
    g = (buf){0};
    g_node(&g, "Relu", "r1", IN("x"), IN("y"), NOATTR);
    g_node(&g, "Relu", "r2", IN("x"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 3});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 3});
    mm = model(13, &g);
    expect_load(&mm, MF_ERR_FORMAT, "twice");
    free(mm.p);

    /* output produced by nobody */
    g = (buf){0};
    g_node(&g, "Relu", "r", IN("x"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 3});
    g_vi(&g, 12, "z", 2, (int64_t[]){1, 3});
    mm = model(13, &g);
    expect_load(&mm, MF_ERR_FORMAT, "'z'");
    free(mm.p);

    /* raw_data of the wrong size */
    g = (buf){0};
    {
        buf t = {0};
        b_int(&t, 1, 4);
        b_int(&t, 2, 1);
        b_str(&t, 8, "k");
        b_len(&t, 9, "\0\0\0\0\0\0\0\0", 8);
        g_init(&g, t);
    }
    g_node(&g, "Add", "add", IN("x", "k"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 4});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 4});
    mm = model(13, &g);
    expect_load(&mm, MF_ERR_FORMAT, "raw_data");
    free(mm.p);

    /* dims whose product overflows */
    g = (buf){0};
    {
        buf t = {0};
        b_int(&t, 1, 1ll << 31);
        b_int(&t, 1, 1ll << 31);
        b_int(&t, 2, 1);
        b_str(&t, 8, "k");
        g_init(&g, t);
    }
    g_node(&g, "Relu", "r", IN("x"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 4});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 4});
    mm = model(13, &g);
    expect_load(&mm, MF_ERR_LIMIT, NULL);
    free(mm.p);

    /* external data and an unsupported initializer type: refused only when used */
    g = (buf){0};
    {
        buf t = {0}, kv = {0};
        b_int(&t, 1, 4);
        b_int(&t, 2, 1);
        b_str(&t, 8, "ext");
        b_str(&kv, 1, "location");
        b_str(&kv, 2, "weights.bin");
        b_msg(&t, 13, &kv);
        b_int(&t, 14, 1);
        g_init(&g, t);
        buf s = {0};
        b_int(&s, 1, 1);
        b_int(&s, 2, 8); /* STRING */
        b_str(&s, 8, "str");
        b_len(&s, 6, "abc", 3);
        g_init(&g, s);
    }
    g_node(&g, "Relu", "r", IN("x"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 4});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 4});
    buf g2 = {0};
    b_put(&g2, g.p, g.n);
    mm = model(13, &g);
    mf_nn_model_free(expect_load(&mm, MF_OK, NULL)); /* unused: fine */
    free(mm.p);
    g_node(&g2, "Add", "uses_ext", IN("y", "ext"), IN("z"), NOATTR);
    g_vi(&g2, 12, "z", 2, (int64_t[]){1, 4});
    mm = model(13, &g2);
    expect_load(&mm, MF_ERR_UNSUPPORTED, "external");
    free(mm.p);

    /* custom domain, symbolic spatial dimension, non-float input */
    g = (buf){0};
    {
        buf n = {0};
        b_str(&n, 1, "x");
        b_str(&n, 2, "y");
        b_str(&n, 4, "Relu");
        b_str(&n, 7, "com.example");
        b_msg(&g, 1, &n);
    }
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 4});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 4});
    mm = model(13, &g);
    expect_load(&mm, MF_ERR_UNSUPPORTED, "com.example");
    free(mm.p);
    g = (buf){0};
    g_node(&g, "Relu", "r", IN("x"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 3, (int64_t[]){1, -1, 4});
    g_vi(&g, 12, "y", 3, (int64_t[]){1, -1, 4});
    mm = model(13, &g);
    expect_load(&mm, MF_ERR_UNSUPPORTED, "symbolic");
    free(mm.p);
    /* opset too new */
    g = (buf){0};
    g_node(&g, "Relu", "r", IN("x"), IN("y"), NOATTR);
    g_vi(&g, 11, "x", 2, (int64_t[]){1, 4});
    g_vi(&g, 12, "y", 2, (int64_t[]){1, 4});
    mm = model(99, &g);
    expect_load(&mm, MF_ERR_UNSUPPORTED, "opset");
    free(mm.p);
}

/* ---------------------------------------------------------------- op coverage against NCHW reference code */

/* Reference NCHW convolution with groups; pads t, l, b, r. */
static void ref_conv(const float *x, int C, int H, int W, const float *w, const float *bias, int O, int kh, int kw,
                     int s, int group, const int *pads, float *y, int *oh, int *ow) {
    int OH = (H + pads[0] + pads[2] - kh) / s + 1, OW = (W + pads[1] + pads[3] - kw) / s + 1, icg = C / group;
    for (int o = 0; o < O; o++) {
        int g = o / (O / group);
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                double acc = bias ? bias[o] : 0;
                for (int ic = 0; ic < icg; ic++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int iy = oy * s - pads[0] + ky, ix = ox * s - pads[1] + kx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            acc +=
                                (double)x[((g * icg + ic) * H + iy) * W + ix] * w[((o * icg + ic) * kh + ky) * kw + kx];
                        }
                y[(o * OH + oy) * OW + ox] = (float)acc;
            }
    }
    *oh = OH, *ow = OW;
}

/* Runs a built model on NCHW input x [1,C,H,W]; outputs in ONNX order into out[k] (sizes checked). */
static void run_model(const buf *mb, const float *x, int C, int H, int W, int n_out, const char *const *names,
                      float **out, const size_t *counts) {
    for (int variant = 0; variant < 3; variant++) { /* scalar unfused, scalar fused, best ISA on 2 threads */
        mf_nn_model_t *m = expect_load(mb, MF_OK, NULL);
        mf_nn_pool_t *pool = NULL;
        if (variant == 2) assert_int_equal(mf_nn_pool_create(2, &pool), MF_OK);
        mf_nn_plan_opts o = {.pool = pool, .isa = variant == 2 ? -1 : 0, .no_fuse = variant == 0};
        mf_nn_plan_t *p = NULL;
        int st = mf_nn_plan_create(m, &o, &p);
        if (st) fprintf(stderr, "plan: %s\n", mf_error_get());
        assert_int_equal(st, MF_OK);
        nchw_to_nhwc(x, 1, C, H, W, mf_nn_plan_input(p, 0, NULL));
        assert_int_equal(mf_nn_plan_run(p), MF_OK);
        for (int k = 0; k < n_out; k++) {
            int idx = mf_nn_plan_output_index(p, names[k]);
            assert_true(idx >= 0);
            mf_nn_shape s;
            const float *y = mf_nn_plan_output(p, idx, &s);
            assert_int_equal(mf_nn_shape_numel(&s), counts[k]);
            if (variant == 0)
                memcpy(out[k], y, counts[k] * 4);
            else
                for (size_t i = 0; i < counts[k]; i++)
                    assert_float_equal(y[i], out[k][i], 1e-4);
        }
        mf_nn_plan_free(p);
        mf_nn_pool_free(pool);
        mf_nn_model_free(m);
    }
}

static void expect_close(const float *got, const float *want, size_t n, const char *what) {
    double ma, mr, cs;
    tu_compare(got, want, n, &ma, &mr, &cs);
    printf("  %-34s max|err|=%.3g max|ref|=%.3g\n", what, ma, mr);
    assert_true(ma <= 1e-5 * (mr > 1 ? mr : 1));
}

/* Conv (stride 2, asymmetric pads) + BatchNormalization + Relu + Flatten of a 2x2 map (element order!) + Gemm
 * (transB, alpha, beta) + Softmax, opset 13. */
static void test_ops_conv_bn_gemm(void **state) {
    (void)state;
    enum { C = 3, H = 5, W = 5, O = 4, N = 5 };
    float x[C * H * W], w[O * C * 9], bias[O], sc[O], sh[O], mean[O], var[O], gb[N * 16], gc[N];
    rng_state = 2024;
    fill(x, sizeof x / 4), fill(w, sizeof w / 4), fill(bias, O), fill(sc, O), fill(sh, O), fill(mean, O);
    fill(gb, sizeof gb / 4), fill(gc, N);
    for (int i = 0; i < O; i++)
        var[i] = 0.5f + 0.4f * frand();
    buf g = {0};
    g_init(&g, tensor_f("w", 4, (int64_t[]){O, C, 3, 3}, w));
    g_init(&g, tensor_f("bias", 1, (int64_t[]){O}, bias));
    g_init(&g, tensor_f("sc", 1, (int64_t[]){O}, sc));
    g_init(&g, tensor_f("sh", 1, (int64_t[]){O}, sh));
    g_init(&g, tensor_f("mean", 1, (int64_t[]){O}, mean));
    g_init(&g, tensor_f("var", 1, (int64_t[]){O}, var));
    g_init(&g, tensor_f("gb", 2, (int64_t[]){N, 16}, gb));
    g_init(&g, tensor_f("gc", 1, (int64_t[]){N}, gc));
    buf ca[3] = {attr_is("strides", 2, (int64_t[]){2, 2}), attr_is("pads", 4, (int64_t[]){1, 0, 0, 1}),
                 attr_is("kernel_shape", 2, (int64_t[]){3, 3})};
    g_node(&g, "Conv", "conv", IN("x", "w", "bias"), IN("c"), ca, 3);
    buf ba[2] = {attr_f("epsilon", 1e-3f), attr_f("momentum", 0.9f)};
    g_node(&g, "BatchNormalization", "bn", IN("c", "sc", "sh", "mean", "var"), IN("bn"), ba, 2);
    g_node(&g, "Relu", "relu", IN("bn"), IN("r"), NOATTR);
    buf fa[1] = {attr_i("axis", 1)};
    g_node(&g, "Flatten", "flat", IN("r"), IN("f"), fa, 1);
    buf ga[3] = {attr_i("transB", 1), attr_f("alpha", 0.5f), attr_f("beta", 2.0f)};
    g_node(&g, "Gemm", "gemm", IN("f", "gb", "gc"), IN("logits"), ga, 3);
    g_node(&g, "Softmax", "softmax", IN("logits"), IN("prob"), NOATTR);
    g_vi(&g, 11, "x", 4, (int64_t[]){1, C, H, W});
    g_vi(&g, 12, "prob", 2, (int64_t[]){1, N});
    g_vi(&g, 12, "r", 4, (int64_t[]){1, O, 2, 2});
    buf mb = model(13, &g);
    save_seed("conv_bn_gemm", &mb);

    /* reference */
    float c[O * 4], f[O * 4], logits[N], prob[N];
    int oh, ow, pads[4] = {1, 0, 0, 1};
    ref_conv(x, C, H, W, w, bias, O, 3, 3, 2, 1, pads, c, &oh, &ow);
    assert_int_equal(oh * ow, 4);
    for (int o = 0; o < O; o++)
        for (int i = 0; i < 4; i++) {
            float v = (c[o * 4 + i] - mean[o]) / sqrtf(var[o] + 1e-3f) * sc[o] + sh[o];
            f[o * 4 + i] = v > 0 ? v : 0;
        }
    float mx = -1e30f, sum = 0;
    for (int n = 0; n < N; n++) {
        double acc = 0;
        for (int k = 0; k < 16; k++)
            acc += (double)f[k] * gb[n * 16 + k];
        logits[n] = (float)(0.5 * acc + 2.0 * gc[n]);
        mx = logits[n] > mx ? logits[n] : mx;
    }
    for (int n = 0; n < N; n++)
        sum += (prob[n] = expf(logits[n] - mx));
    for (int n = 0; n < N; n++)
        prob[n] /= sum;

    float got_prob[N], got_r[O * 4], *outs[2] = {got_prob, got_r};
    size_t counts[2] = {N, O * 4};
    run_model(&mb, x, C, H, W, 2, IN("prob", "r"), outs, counts);
    expect_close(got_r, f, O * 4, "conv+bn+relu (NCHW output)");
    expect_close(got_prob, prob, N, "flatten+gemm+softmax");
    free(mb.p);
}

/* Depthwise conv (multiplier 2) + PRelu [C,1,1] + MaxPool (ceil_mode) + AveragePool (pads) + Sub/Div by
 * constants + Concat on channels + GlobalAveragePool + Reshape, opset 11. */
static void test_ops_depthwise_pools(void **state) {
    (void)state;
    enum { C = 4, H = 5, W = 5, O = 8 };
    float x[C * H * W], w[O * 9], slope[O], subk[O], divk[1] = {4.0f};
    rng_state = 77;
    fill(x, sizeof x / 4), fill(w, sizeof w / 4), fill(slope, O), fill(subk, O);
    buf g = {0};
    g_init(&g, tensor_f("w", 4, (int64_t[]){O, 1, 3, 3}, w));
    g_init(&g, tensor_f("slope", 3, (int64_t[]){O, 1, 1}, slope));
    g_init(&g, tensor_f("subk", 3, (int64_t[]){O, 1, 1}, subk));
    g_init(&g, tensor_f("divk", 1, (int64_t[]){1}, divk));
    g_init(&g, tensor_i64("shape", 2, (int64_t[]){1, -1}));
    buf ca[3] = {attr_i("group", C), attr_s("auto_pad", "SAME_UPPER"), attr_is("kernel_shape", 2, (int64_t[]){3, 3})};
    g_node(&g, "Conv", "dw", IN("x", "w"), IN("d"), ca, 3);
    g_node(&g, "PRelu", "prelu", IN("d", "slope"), IN("p"), NOATTR);
    buf ma[3] = {attr_is("kernel_shape", 2, (int64_t[]){2, 2}), attr_is("strides", 2, (int64_t[]){2, 2}),
                 attr_i("ceil_mode", 1)};
    g_node(&g, "MaxPool", "maxpool", IN("p"), IN("mp"), ma, 3); /* 5x5 -> 3x3 */
    buf aa[3] = {attr_is("kernel_shape", 2, (int64_t[]){3, 3}), attr_is("strides", 2, (int64_t[]){2, 2}),
                 attr_is("pads", 4, (int64_t[]){1, 1, 1, 1})};
    g_node(&g, "AveragePool", "avgpool", IN("p"), IN("ap"), aa, 3); /* 5x5 -> 3x3 */
    g_node(&g, "Sub", "sub", IN("mp", "subk"), IN("s"), NOATTR);
    g_node(&g, "Div", "div", IN("ap", "divk"), IN("q"), NOATTR);
    buf ka[1] = {attr_i("axis", 1)};
    g_node(&g, "Concat", "concat", IN("s", "q"), IN("cat"), ka, 1);
    g_node(&g, "GlobalAveragePool", "gap", IN("cat"), IN("gap"), NOATTR);
    g_node(&g, "Reshape", "reshape", IN("gap", "shape"), IN("emb"), NOATTR);
    g_vi(&g, 11, "x", 4, (int64_t[]){1, C, H, W});
    g_vi(&g, 12, "cat", 4, (int64_t[]){1, 2 * O, 3, 3});
    g_vi(&g, 12, "emb", 2, (int64_t[]){1, 2 * O});
    buf mb = model(11, &g);
    save_seed("depthwise_pools", &mb);

    float d[O * H * W], cat[2 * O * 9], emb[2 * O];
    int oh, ow, pads[4] = {1, 1, 1, 1};
    ref_conv(x, C, H, W, w, NULL, O, 3, 3, 1, C, pads, d, &oh, &ow);
    for (int o = 0; o < O; o++)
        for (int i = 0; i < H * W; i++)
            d[o * H * W + i] = d[o * H * W + i] < 0 ? d[o * H * W + i] * slope[o] : d[o * H * W + i];
    for (int o = 0; o < O; o++)
        for (int oy = 0; oy < 3; oy++)
            for (int ox = 0; ox < 3; ox++) {
                float mx = -1e30f, sum = 0;
                int cnt = 0;
                for (int ky = 0; ky < 2; ky++) /* max: window at 2*o, clipped to the input (ceil_mode) */
                    for (int kx = 0; kx < 2; kx++) {
                        int iy = 2 * oy + ky, ix = 2 * ox + kx;
                        if (iy < H && ix < W && d[(o * H + iy) * W + ix] > mx) mx = d[(o * H + iy) * W + ix];
                    }
                for (int ky = 0; ky < 3; ky++) /* average over the valid part of the padded window */
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = 2 * oy - 1 + ky, ix = 2 * ox - 1 + kx;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        sum += d[(o * H + iy) * W + ix];
                        cnt++;
                    }
                cat[(o * 3 + oy) * 3 + ox] = mx - subk[o];
                cat[((O + o) * 3 + oy) * 3 + ox] = sum / (float)cnt / 4.0f;
            }
    for (int o = 0; o < 2 * O; o++) {
        double s = 0;
        for (int i = 0; i < 9; i++)
            s += cat[o * 9 + i];
        emb[o] = (float)(s / 9);
    }
    float got_cat[2 * O * 9], got_emb[2 * O], *outs[2] = {got_cat, got_emb};
    size_t counts[2] = {2 * O * 9, 2 * O};
    run_model(&mb, x, C, H, W, 2, IN("cat", "emb"), outs, counts);
    expect_close(got_cat, cat, 2 * O * 9, "dw+prelu+pools+sub/div+concat");
    expect_close(got_emb, emb, 2 * O, "global average pool + reshape");
    free(mb.p);
}

/* Shape arithmetic on constants (Shape/Gather/Unsqueeze/Concat -> Reshape, as PyTorch exports x.view(n, -1)),
 * Transpose of an NHWC value, Slice and Split on channels, MatMul, Clip and LeakyRelu, opset 11. */
static void test_ops_shapes_slices(void **state) {
    (void)state;
    enum { C = 4, H = 2, W = 3 };
    float x[C * H * W], mm[C * 5];
    rng_state = 5;
    fill(x, sizeof x / 4), fill(mm, sizeof mm / 4);
    buf g = {0};
    g_init(&g, tensor_f("mm", 2, (int64_t[]){C, 5}, mm));
    g_init(&g, tensor_i64("zero", 0, (int64_t[]){0}));
    g_init(&g, tensor_i64("m1", 1, (int64_t[]){-1}));
    g_init(&g, tensor_i64("starts", 1, (int64_t[]){1}));
    g_init(&g, tensor_i64("ends", 1, (int64_t[]){INT64_MAX}));
    g_init(&g, tensor_i64("axes", 1, (int64_t[]){1}));
    g_init(&g, tensor_f("lo", 0, NULL, (float[]){-0.25f}));
    g_init(&g, tensor_f("hi", 0, NULL, (float[]){0.5f}));
    g_node(&g, "Relu", "relu", IN("x"), IN("r"), NOATTR); /* NHWC value */
    g_node(&g, "Shape", "shape", IN("r"), IN("sh"), NOATTR);
    g_node(&g, "Gather", "gather", IN("sh", "zero"), IN("n"), NOATTR);
    buf ua[1] = {attr_is("axes", 1, (int64_t[]){0})};
    g_node(&g, "Unsqueeze", "unsq", IN("n"), IN("n1"), ua, 1);
    buf cca[1] = {attr_i("axis", 0)};
    g_node(&g, "Concat", "cat", IN("n1", "m1"), IN("newshape"), cca, 1);
    g_node(&g, "Reshape", "view", IN("r", "newshape"), IN("flat"), NOATTR); /* [1, 24] in NCHW order */
    buf ta[1] = {attr_is("perm", 4, (int64_t[]){0, 2, 3, 1})};
    g_node(&g, "Transpose", "transpose", IN("r"), IN("t"), ta, 1);                     /* [1,H,W,C] */
    g_node(&g, "Slice", "slice", IN("r", "starts", "ends", "axes"), IN("sl"), NOATTR); /* channels 1.. */
    buf sa[2] = {attr_i("axis", 1), attr_is("split", 2, (int64_t[]){1, 3})};
    g_node(&g, "Split", "split", IN("r"), IN("sp0", "sp1"), sa, 2);
    g_node(&g, "MatMul", "matmul", IN("t", "mm"), IN("mmo"), NOATTR); /* [1,H,W,5] */
    g_node(&g, "Clip", "clip", IN("mmo", "lo", "hi"), IN("clip"), NOATTR);
    buf la[1] = {attr_f("alpha", 0.1f)};
    g_node(&g, "LeakyRelu", "leaky", IN("sp1"), IN("leaky"), la, 1);
    g_vi(&g, 11, "x", 4, (int64_t[]){1, C, H, W});
    const char *outs_n[] = {"flat", "t", "sl", "sp0", "clip", "leaky", NULL};
    g_vi(&g, 12, "flat", 2, (int64_t[]){1, C * H * W});
    g_vi(&g, 12, "t", 4, (int64_t[]){1, H, W, C});
    g_vi(&g, 12, "sl", 4, (int64_t[]){1, C - 1, H, W});
    g_vi(&g, 12, "sp0", 4, (int64_t[]){1, 1, H, W});
    g_vi(&g, 12, "clip", 4, (int64_t[]){1, H, W, 5});
    g_vi(&g, 12, "leaky", 4, (int64_t[]){1, 3, H, W});
    buf mb = model(11, &g);
    save_seed("shapes_slices", &mb);

    float r[C * H * W], t[H * W * C], clip[H * W * 5], leaky[3 * H * W];
    for (int i = 0; i < C * H * W; i++)
        r[i] = x[i] > 0 ? x[i] : 0;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H * W; i++)
            t[i * C + c] = r[c * H * W + i];
    for (int i = 0; i < H * W; i++)
        for (int n = 0; n < 5; n++) {
            double acc = 0;
            for (int c = 0; c < C; c++)
                acc += (double)t[i * C + c] * mm[c * 5 + n];
            float v = (float)acc;
            clip[i * 5 + n] = v < -0.25f ? -0.25f : v > 0.5f ? 0.5f : v;
        }
    for (int i = 0; i < 3 * H * W; i++)
        leaky[i] = r[H * W + i]; /* relu output is >= 0 */
    float g_flat[C * H * W], g_t[H * W * C], g_sl[(C - 1) * H * W], g_sp0[H * W], g_clip[H * W * 5], g_leaky[3 * H * W];
    float *outs[6] = {g_flat, g_t, g_sl, g_sp0, g_clip, g_leaky};
    size_t counts[6] = {C * H * W, H * W * C, (C - 1) * H * W, H * W, H * W * 5, 3 * H * W};
    run_model(&mb, x, C, H, W, 6, outs_n, outs, counts);
    expect_close(g_flat, r, C * H * W, "shape/gather/concat -> reshape");
    expect_close(g_t, t, H * W * C, "transpose of NHWC value");
    expect_close(g_sl, r + H * W, (C - 1) * H * W, "slice (INT64_MAX end)");
    expect_close(g_sp0, r, H * W, "split");
    expect_close(g_clip, clip, H * W * 5, "matmul on rank 4 + clip");
    expect_close(g_leaky, leaky, 3 * H * W, "leaky relu");
    free(mb.p);
}

/* Exp (occl18, for faceplugin's fr_detect, whose box decoding ends in an Exp): on an NCHW input, on an NHWC
 * activation (after a 1x1 Conv: the op runs in the engine's layout) and on values from -20 to 20, against expf;
 * opset 13. Fails on an engine without the op (refused as unsupported). */
static void test_op_exp(void **state) {
    (void)state;
    enum { C = 2, H = 3, W = 4 };
    buf g = {0};
    float w[C * C] = {0.5f, -1.0f, 2.0f, 0.25f};
    g_init(&g, tensor_f("w", 4, (int64_t[]){C, C, 1, 1}, w));
    g_node(&g, "Exp", "exp_in", IN("x"), IN("ex"), NOATTR);
    buf at[1] = {attr_is("kernel_shape", 2, (int64_t[]){1, 1})};
    g_node(&g, "Conv", "conv", IN("x", "w"), IN("cv"), at, 1);
    g_node(&g, "Exp", "exp_conv", IN("cv"), IN("ec"), NOATTR);
    g_vi(&g, 11, "x", 4, (int64_t[]){1, C, H, W});
    g_vi(&g, 12, "ex", 4, (int64_t[]){1, C, H, W});
    g_vi(&g, 12, "ec", 4, (int64_t[]){1, C, H, W});
    buf mb = model(13, &g);
    save_seed("exp", &mb);
    float x[C * H * W], ex[C * H * W], ec[C * H * W];
    for (int i = 0; i < C * H * W; i++) x[i] = -20.0f + 40.0f * (float)i / (C * H * W - 1);
    for (int i = 0; i < C * H * W; i++) ex[i] = expf(x[i]);
    for (int o = 0; o < C; o++)
        for (int k = 0; k < H * W; k++) {
            double acc = 0;
            for (int c = 0; c < C; c++) acc += (double)w[o * C + c] * x[c * H * W + k];
            ec[o * H * W + k] = expf((float)acc);
        }
    float g_ex[C * H * W], g_ec[C * H * W];
    float *outs[2] = {g_ex, g_ec};
    const char *names[] = {"ex", "ec"};
    size_t counts[2] = {C * H * W, C * H * W};
    run_model(&mb, x, C, H, W, 2, names, outs, counts);
    for (int i = 0; i < C * H * W; i++) {
        assert_true(fabsf(g_ex[i] - ex[i]) <= 1e-6f * ex[i]);
        assert_true(fabsf(g_ec[i] - ec[i]) <= 1e-5f * ec[i] + 1e-30f);
    }
    free(mb.p);
}

static void test_other_faceplugin_models(void **state) {
    (void)state;
    /* every faceplugin model converts and plans */
    static const char *names[] = {"fr_age", "fr_eye", "fr_gender", "fr_landmark", "fr_liveness", "fr_pose"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/faceplugin/%s.onnx", tu_models_dir(), names[i]);
        if (!tu_exists(path)) {
            fprintf(stderr, "FAIL: %s missing: run tools/setup.sh\n", path);
            fail();
        }
        mf_nn_model_t *m = NULL;
        int st = mf_nn_model_load_onnx(path, &m);
        if (st) fprintf(stderr, "%s: %s\n", names[i], mf_error_get());
        assert_int_equal(st, MF_OK);
        mf_nn_plan_t *p = NULL;
        st = mf_nn_plan_create(m, NULL, &p);
        if (st) fprintf(stderr, "%s: %s\n", names[i], mf_error_get());
        assert_int_equal(st, MF_OK);
        assert_int_equal(mf_nn_plan_run(p), MF_OK);
        mf_nn_plan_free(p);
        mf_nn_model_free(m);
    }
    /* fr_detect (its box decoding needs Exp, since occl18): input [1,240,320,3] (NHWC), scores [1,4420,2] (each
     * anchor's softmax), boxes [1,4420,4] */
    snprintf(path, sizeof path, "%s/faceplugin/fr_detect.onnx", tu_models_dir());
    mf_nn_model_t *m = NULL;
    assert_int_equal(mf_nn_model_load_onnx(path, &m), MF_OK);
    mf_nn_plan_t *p = NULL;
    assert_int_equal(mf_nn_plan_create(m, NULL, &p), MF_OK);
    mf_nn_shape s;
    float *in = mf_nn_plan_input(p, 0, &s);
    assert_true(s.ndim == 4 && s.dim[1] == 240 && s.dim[2] == 320 && s.dim[3] == 3);
    for (int i = 0; i < 240 * 320 * 3; i++) in[i] = 0;
    assert_int_equal(mf_nn_plan_run(p), MF_OK);
    int si = mf_nn_plan_output_index(p, "scores"), bi = mf_nn_plan_output_index(p, "boxes");
    assert_true(si >= 0 && bi >= 0);
    const float *sc = mf_nn_plan_output(p, si, &s);
    assert_true(s.ndim == 3 && s.dim[1] == 4420 && s.dim[2] == 2);
    for (int i = 0; i < 4420; i++) assert_float_equal(sc[2 * i] + sc[2 * i + 1], 1.0f, 1e-4);
    mf_nn_plan_output(p, bi, &s);
    assert_true(s.ndim == 3 && s.dim[1] == 4420 && s.dim[2] == 4);
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_counter),
        cmocka_unit_test(test_feature_scalar),
        cmocka_unit_test(test_feature_best_2threads),
        cmocka_unit_test(test_feature_fast_2threads),
        cmocka_unit_test(test_detect_scalar),
        cmocka_unit_test(test_detect_best_2threads),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_byte_flips),
        cmocka_unit_test(test_empty_and_random),
        cmocka_unit_test(test_unsupported_op),
        cmocka_unit_test(test_tiny_model_runs),
        cmocka_unit_test(test_unknown_attribute_and_group),
        cmocka_unit_test(test_malformed_structure),
        cmocka_unit_test(test_ops_conv_bn_gemm),
        cmocka_unit_test(test_ops_depthwise_pools),
        cmocka_unit_test(test_ops_shapes_slices),
        cmocka_unit_test(test_op_exp),
        cmocka_unit_test(test_other_faceplugin_models),
        cmocka_unit_test(test_limits_boundary),
    };
    return cmocka_run_group_tests_name("nn_onnx", tests, NULL, NULL);
}
