/* Parity of the engine with TensorFlow.js-wasm on every listed human-models graph: golden inputs and outputs
 * written by tools/golden (make golden). Each model runs three ways: scalar kernels without fusion on one
 * thread, scalar with fusion, and the best ISA with fusion on a 2-thread pool. Criterion: max abs error
 * <= 1e-4 * max|reference| on every output; embeddings also cosine >= 0.99999. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mfmc/nn.h"
#include "lib/testutil.h"

static const char *models[] = {"blazeface", "blazeface-front", "facemesh-detection-short", "facemesh-detection-full",
                               "facemesh", "iris", "faceres", "faceres-deep", "mobileface", "mobilefacenet", "gear",
                               "age", "gender", "gender-ssrnet-imdb", "emotion", "antispoof", "selfie"};

static int is_embedding(const char *model, const char *out) {
    return strstr(out, "Mean") || !strcmp(model, "mobileface") || !strcmp(model, "mobilefacenet");
}

static void check_model(const char *name, int isa, int threads, int no_fuse) {
    char path[1024], gpath[1024];
    snprintf(path, sizeof path, "%s/human/%s.json", tu_models_dir(), name);
    snprintf(gpath, sizeof gpath, "%s/%s.gold", tu_golden_dir(), name);
    if (!tu_exists(path) || !tu_exists(gpath)) {
        fprintf(stderr, "FAIL: %s or %s missing: run `make golden` (make test does)\n", path, gpath);
        fail();
    }
    mf_nn_model_t *m = NULL;
    int st = mf_nn_model_load_tfjs(path, &m);
    if (st) fprintf(stderr, "load %s: %s\n", name, mf_error_get());
    assert_int_equal(st, MF_OK);
    mf_nn_pool_t *pool = NULL;
    if (threads > 1) assert_int_equal(mf_nn_pool_create(threads, &pool), MF_OK);
    mf_nn_plan_opts o = {.pool = pool, .isa = isa, .no_fuse = no_fuse};
    mf_nn_plan_t *p = NULL;
    st = mf_nn_plan_create(m, &o, &p);
    if (st) fprintf(stderr, "plan %s: %s\n", name, mf_error_get());
    assert_int_equal(st, MF_OK);
    tu_tensor *t;
    int nt;
    assert_int_equal(tu_golden_load(gpath, &t, &nt), 0);
    int n_out = 0;
    for (int i = 0; i < nt; i++) {
        if (t[i].role != 0) continue;
        int idx = mf_nn_plan_input_index(p, t[i].name);
        if (idx < 0) idx = 0;
        mf_nn_shape sh;
        float *in = mf_nn_plan_input(p, idx, &sh);
        assert_int_equal(mf_nn_shape_numel(&sh), t[i].count);
        memcpy(in, t[i].data, t[i].count * 4);
    }
    for (int rep = 0; rep < 2; rep++) assert_int_equal(mf_nn_plan_run(p), MF_OK); /* reruns give the same */
    for (int i = 0; i < nt; i++) {
        if (t[i].role != 1) continue;
        int idx = mf_nn_plan_output_index(p, t[i].name);
        if (idx < 0) fprintf(stderr, "%s: output %s not found\n", name, t[i].name);
        assert_true(idx >= 0);
        mf_nn_shape sh;
        const float *out = mf_nn_plan_output(p, idx, &sh);
        assert_int_equal(mf_nn_shape_numel(&sh), t[i].count);
        double ma, mr, cs;
        tu_compare(out, t[i].data, t[i].count, &ma, &mr, &cs);
        double rel = mr > 0 ? ma / mr : ma;
        printf("  %-26s %-34s isa=%d thr=%d fuse=%d  max|err|=%.3g  max|ref|=%.3g  rel=%.2e  cos=%.7f\n", name,
               t[i].name, isa, threads, !no_fuse, ma, mr, rel, cs);
        assert_true(ma <= 1e-4 * mr);
        if (is_embedding(name, t[i].name)) assert_true(cs >= 0.99999);
        n_out++;
    }
    assert_true(n_out > 0);
    tu_golden_free(t, nt);
    mf_nn_plan_free(p);
    mf_nn_pool_free(pool);
    mf_nn_model_free(m);
}

static void test_scalar_nofuse(void **state) { check_model(*state, 0, 1, 1); }
static void test_scalar_fused(void **state) { check_model(*state, 0, 1, 0); }
static void test_best_2threads(void **state) { check_model(*state, -1, 2, 0); }
/* The recognizers are planned with MF_NN_PLAN_ISA_FAST (AMX tiles where the CPU has them, else the same as best). */
static void test_fast_2threads(void **state) { check_model(*state, MF_NN_PLAN_ISA_FAST, 2, 0); }
static const char *recognizers[] = {"faceres", "faceres-deep", "mobileface", "mobilefacenet"};

int main(void) {
    enum { N = sizeof models / sizeof *models, NR = sizeof recognizers / sizeof *recognizers };
    struct CMUnitTest tests[3 * N + NR];
    char names[3 * N + NR][96];
    for (int i = 0; i < N; i++) {
        void (*fns[3])(void **) = {test_scalar_nofuse, test_scalar_fused, test_best_2threads};
        const char *kinds[3] = {"scalar", "scalar-fused", "best-2threads"};
        for (int k = 0; k < 3; k++) {
            snprintf(names[3 * i + k], sizeof names[0], "%s/%s", models[i], kinds[k]);
            tests[3 * i + k] = (struct CMUnitTest){names[3 * i + k], fns[k], NULL, NULL, (void *)models[i]};
        }
    }
    for (int i = 0; i < NR; i++) {
        snprintf(names[3 * N + i], sizeof names[0], "%s/fast-2threads", recognizers[i]);
        tests[3 * N + i] = (struct CMUnitTest){names[3 * N + i], test_fast_2threads, NULL, NULL, (void *)recognizers[i]};
    }
    return _cmocka_run_group_tests("nn_parity", tests, 3 * N + NR, NULL, NULL);
}
