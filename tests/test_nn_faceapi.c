/* face-api FaceRecognitionNet built by src/nn/faceapi.c: parity with face-api 1.7.15 on TF.js-wasm (golden
 * build/golden/faceapi-recognition.gold: two 150x150x3 inputs in 0..255 and their 128-d descriptors), and the
 * loader's refusals (missing weight, misshaped weight, short shard, malformed manifest).
 * Parity bar, per input: cosine >= 0.9999 and max abs error <= 1e-4 * max|reference|; checked with the scalar
 * kernels (without and with fusion, 1 thread) and with the best ISA on a 2-thread pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mfmc/nn.h"
#include "lib/testutil.h"

static void paths(char *manifest, char *bin, char *gold, size_t cap) {
    snprintf(manifest, cap, "%s/faceapi/face_recognition_model-weights_manifest.json", tu_models_dir());
    snprintf(bin, cap, "%s/faceapi/face_recognition_model.bin", tu_models_dir());
    snprintf(gold, cap, "%s/faceapi-recognition.gold", tu_golden_dir());
}

static void require(const char *path) {
    if (!tu_exists(path)) {
        fprintf(stderr, "FAIL: %s missing: run `make test` (it runs tools/setup.sh and `make golden`)\n", path);
        fail();
    }
}

static mf_nn_model_t *load_model(void) {
    char mp[1024], bp[1024], gp[1024];
    paths(mp, bp, gp, sizeof mp);
    require(mp);
    require(bp);
    mf_nn_model_t *m = NULL;
    int st = mf_nn_model_load_faceapi_recognition(mp, &m);
    if (st) fprintf(stderr, "load %s: %s\n", mp, mf_error_get());
    assert_int_equal(st, MF_OK);
    return m;
}

static void test_model_shape(void **state) {
    (void)state;
    mf_nn_model_t *m = load_model();
    assert_int_equal(mf_nn_model_input_count(m), 1);
    assert_string_equal(mf_nn_model_input_name(m, 0), "input");
    mf_nn_shape s = mf_nn_model_input_shape(m, 0);
    assert_int_equal(s.ndim, 4);
    assert_int_equal(s.dim[0], 1);
    assert_int_equal(s.dim[1], 150);
    assert_int_equal(s.dim[2], 150);
    assert_int_equal(s.dim[3], 3);
    assert_int_equal(mf_nn_model_output_count(m), 1);
    assert_string_equal(mf_nn_model_output_name(m, 0), "descriptor");
    /* 29 conv layers (4 tensors each) + fc, all float32 after dequantisation */
    size_t expect = 0;
    expect += (7 * 7 * 3 * 32 + 3 * 32) * 4;
    int cin[14] = {32, 32, 32, 32, 64, 64, 64, 64, 128, 128, 128, 256, 256, 256};
    int cout[14] = {32, 32, 32, 64, 64, 64, 64, 128, 128, 128, 256, 256, 256, 256};
    for (int i = 0; i < 14; i++)
        expect += (size_t)(9 * cin[i] * cout[i] + 3 * cout[i] + 9 * cout[i] * cout[i] + 3 * cout[i]) * 4;
    expect += 256 * 128 * 4;
    assert_int_equal(mf_nn_model_weight_bytes(m), expect);

    mf_nn_plan_t *p = NULL;
    assert_int_equal(mf_nn_plan_create(m, NULL, &p), MF_OK);
    mf_nn_shape os;
    (void)mf_nn_plan_output(p, 0, &os);
    assert_int_equal(os.ndim, 2);
    assert_int_equal(os.dim[0], 1);
    assert_int_equal(os.dim[1], 128);
    assert_int_equal(mf_nn_plan_output_index(p, "descriptor"), 0);
    assert_int_equal(mf_nn_plan_input_index(p, "input"), 0);
    mf_nn_plan_stats ps;
    mf_nn_plan_get_stats(p, &ps);
    printf("  plan: %d steps, arena %zu bytes, packed %zu bytes, %.1f MFLOP\n", ps.steps, ps.arena_bytes,
           ps.packed_bytes, ps.flops / 1e6);
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
}

static void check_parity(int isa, int threads, int no_fuse) {
    char mp[1024], bp[1024], gp[1024];
    paths(mp, bp, gp, sizeof mp);
    require(gp);
    mf_nn_model_t *m = load_model();
    mf_nn_pool_t *pool = NULL;
    if (threads > 1) assert_int_equal(mf_nn_pool_create(threads, &pool), MF_OK);
    mf_nn_plan_opts o = {.pool = pool, .isa = isa, .no_fuse = no_fuse};
    mf_nn_plan_t *p = NULL;
    int st = mf_nn_plan_create(m, &o, &p);
    if (st) fprintf(stderr, "plan: %s\n", mf_error_get());
    assert_int_equal(st, MF_OK);

    tu_tensor *t;
    int nt;
    assert_int_equal(tu_golden_load(gp, &t, &nt), 0);
    const tu_tensor *in = NULL, *ref = NULL;
    for (int i = 0; i < nt; i++) {
        if (t[i].role == 0 && !strcmp(t[i].name, "input")) in = &t[i];
        if (t[i].role == 1 && !strcmp(t[i].name, "descriptor")) ref = &t[i];
    }
    assert_non_null(in);
    assert_non_null(ref);
    assert_int_equal(in->shape.ndim, 4);
    int batch = in->shape.dim[0];
    assert_true(batch >= 1);
    assert_int_equal(ref->shape.ndim, 2);
    assert_int_equal(ref->shape.dim[0], batch);
    assert_int_equal(ref->shape.dim[1], 128);

    mf_nn_shape ish;
    float *x = mf_nn_plan_input(p, 0, &ish);
    size_t per = mf_nn_shape_numel(&ish);
    assert_int_equal(per * (size_t)batch, in->count);
    for (int k = 0; k < batch; k++) {
        memcpy(x, in->data + (size_t)k * per, per * 4);
        float first[128];
        for (int rep = 0; rep < 2; rep++) {
            assert_int_equal(mf_nn_plan_run(p), MF_OK);
            mf_nn_shape os;
            const float *y = mf_nn_plan_output(p, 0, &os);
            assert_int_equal(mf_nn_shape_numel(&os), 128);
            if (rep == 0) {
                memcpy(first, y, sizeof first);
                continue;
            }
            assert_memory_equal(first, y, sizeof first); /* a rerun gives the same */
            double ma, mr, cs;
            tu_compare(y, ref->data + (size_t)k * 128, 128, &ma, &mr, &cs);
            printf("  faceapi-recognition input %d isa=%d thr=%d fuse=%d  max|err|=%.3g  max|ref|=%.3g  rel=%.2e  "
                   "cos=%.9f (1-cos=%.2e)\n",
                   k, isa, threads, !no_fuse, ma, mr, mr > 0 ? ma / mr : ma, cs, 1.0 - cs);
            assert_true(ma <= 1e-4 * mr);
            assert_true(cs >= 0.9999);
        }
    }
    tu_golden_free(t, nt);
    mf_nn_plan_free(p);
    mf_nn_pool_free(pool);
    mf_nn_model_free(m);
}

static void test_parity_scalar_nofuse(void **state) {
    (void)state;
    check_parity(0, 1, 1);
}
static void test_parity_scalar(void **state) {
    (void)state;
    check_parity(0, 1, 0);
}
static void test_parity_best_2threads(void **state) {
    (void)state;
    check_parity(-1, 2, 0);
}
/* as the recognizer sessions plan it: AMX tiles for the large GEMMs where the CPU has them */
static void test_parity_fast_2threads(void **state) {
    (void)state;
    check_parity(MF_NN_PLAN_ISA_FAST, 2, 0);
}

/* ---- refusals: the real manifest text, edited, against the real weight bytes ---- */

typedef struct {
    char *json;
    size_t jlen;
    uint8_t *bin;
    size_t blen;
} files;

static void read_files(files *f) {
    char mp[1024], bp[1024], gp[1024];
    paths(mp, bp, gp, sizeof mp);
    require(mp);
    require(bp);
    uint8_t *j;
    assert_int_equal(mf_file_read(mp, MF_NN_MAX_JSON_BYTES, &j, &f->jlen), MF_OK);
    f->json = (char *)j;
    assert_int_equal(mf_file_read(bp, MF_NN_MAX_WEIGHT_BYTES, &f->bin, &f->blen), MF_OK);
}

static void free_files(files *f) {
    free(f->json);
    free(f->bin);
}

/* Copy of `s` with the first occurrence of `from` replaced by `to` (which must occur). */
static char *replace(const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    assert_non_null(at);
    size_t n = strlen(s), lf = strlen(from), lt = strlen(to);
    char *r = malloc(n - lf + lt + 1);
    assert_non_null(r);
    memcpy(r, s, (size_t)(at - s));
    memcpy(r + (at - s), to, lt);
    strcpy(r + (at - s) + lt, at + lf);
    return r;
}

/* Loads `json` with the real weights and expects refusal with a message containing every `needle`. */
static void expect_refused(const char *json, const uint8_t *bin, size_t blen, const char *needle1,
                           const char *needle2) {
    mf_nn_model_t *m = (mf_nn_model_t *)1;
    int st = mf_nn_model_load_faceapi_recognition_mem(json, strlen(json), bin, blen, &m);
    const char *msg = mf_error_get();
    printf("  refused (%s): %s\n", mf_status_name(st), msg);
    assert_true(st < 0);
    assert_null(m);
    if (needle1) assert_non_null(strstr(msg, needle1));
    if (needle2) assert_non_null(strstr(msg, needle2));
}

static void test_mem_loads(void **state) {
    (void)state;
    files f;
    read_files(&f);
    mf_nn_model_t *m = NULL;
    int st = mf_nn_model_load_faceapi_recognition_mem(f.json, f.jlen, f.bin, f.blen, &m);
    if (st) fprintf(stderr, "%s\n", mf_error_get());
    assert_int_equal(st, MF_OK);
    assert_int_equal(mf_nn_model_output_count(m), 1);
    mf_nn_model_free(m);
    free_files(&f);
}

static void test_missing_weight(void **state) {
    (void)state;
    files f;
    read_files(&f);
    /* renamed: the bytes stay where they are, the expected name is gone */
    char *j = replace(f.json, "\"conv128_1/conv2/scale/weights\"", "\"conv128_1/conv2/scale/weightz\"");
    expect_refused(j, f.bin, f.blen, "conv128_1/conv2/scale/weights", "missing");
    free(j);
    j = replace(f.json, "\"fc\"", "\"fc_renamed\"");
    expect_refused(j, f.bin, f.blen, "weight fc ", "missing");
    free(j);
    free_files(&f);
}

static void test_wrong_shape(void **state) {
    (void)state;
    files f;
    read_files(&f);
    /* same element count, transposed */
    char *j = replace(f.json, "\"shape\":[256,128]", "\"shape\":[128,256]");
    expect_refused(j, f.bin, f.blen, "weight fc ", "[256,128]");
    free(j);
    /* different element count: later weights shift but still fit, the first bad name is reported */
    j = replace(f.json, "\"name\":\"conv32_down/conv/bias\",\"shape\":[32]",
                "\"name\":\"conv32_down/conv/bias\",\"shape\":[16]");
    expect_refused(j, f.bin, f.blen, "conv32_down/conv/bias", "[16]");
    free(j);
    /* wrong rank */
    j = replace(f.json, "\"name\":\"conv256_2/conv1/conv/filters\",\"shape\":[3,3,256,256]",
                "\"name\":\"conv256_2/conv1/conv/filters\",\"shape\":[9,256,256]");
    expect_refused(j, f.bin, f.blen, "conv256_2/conv1/conv/filters", "[3,3,256,256]");
    free(j);
    free_files(&f);
}

static void test_malformed(void **state) {
    (void)state;
    files f;
    read_files(&f);
    expect_refused(f.json, f.bin, f.blen / 2, "shards hold only", NULL); /* short shard */
    expect_refused(f.json, NULL, 0, NULL, NULL);
    expect_refused("{\"weights\":[]}", f.bin, f.blen, "array", NULL);
    expect_refused("[{\"weights\":[],\"paths\":[]}]", f.bin, f.blen, "conv32_down/conv/filters", "missing");
    expect_refused("[{", f.bin, f.blen, "JSON", NULL);
    char *j = replace(f.json, "\"name\":\"fc\",\"shape\":[256,128],\"dtype\":\"float32\"",
                      "\"name\":\"fc\",\"shape\":[256,128],\"dtype\":\"int32\"");
    expect_refused(j, f.bin, f.blen, "weight fc ", "int32");
    free(j);
    mf_nn_model_t *m = (mf_nn_model_t *)1;
    assert_true(mf_nn_model_load_faceapi_recognition("/nonexistent/face_recognition_model-weights_manifest.json",
                                                     &m) < 0);
    assert_null(m);
    free_files(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_shape),
        cmocka_unit_test(test_parity_scalar_nofuse),
        cmocka_unit_test(test_parity_scalar),
        cmocka_unit_test(test_parity_best_2threads),
        cmocka_unit_test(test_parity_fast_2threads),
        cmocka_unit_test(test_mem_loads),
        cmocka_unit_test(test_missing_weight),
        cmocka_unit_test(test_wrong_shape),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests_name("nn_faceapi", tests, NULL, NULL);
}
