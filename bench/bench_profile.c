/* Per-step profile of one model: median time of each step over N runs, sorted by cost.
 * usage: bench_profile MODEL [--threads T] [--runs N]   (MODEL: a human-models name, faceapi-recognition,
 * fr_feature); MFMC_FAST=1 plans it with MF_NN_PLAN_ISA_FAST (AMX tiles where the CPU has them) */
#include "mfmc/nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int i;
    double ms;
} entry;

static int by_ms(const void *a, const void *b) {
    double x = ((const entry *)a)->ms, y = ((const entry *)b)->ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_profile MODEL [--threads T] [--runs N]\n");
        return 2;
    }
    const char *name = argv[1];
    int threads = 1, runs = 50;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    }
    const char *models = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    char path[4096];
    mf_nn_model_t *m;
    int st;
    if (!strcmp(name, "fr_feature")) {
        snprintf(path, sizeof path, "%s/faceplugin/fr_feature.onnx", models);
        st = mf_nn_model_load_onnx(path, &m);
    } else if (!strcmp(name, "faceapi-recognition")) {
        snprintf(path, sizeof path, "%s/faceapi/face_recognition_model-weights_manifest.json", models);
        st = mf_nn_model_load_faceapi_recognition(path, &m);
    } else {
        snprintf(path, sizeof path, "%s/human/%s.json", models, name);
        st = mf_nn_model_load_tfjs(path, &m);
    }
    if (st) {
        fprintf(stderr, "%s\n", mf_error_get());
        return 1;
    }
    mf_nn_pool_t *pool = NULL;
    if (threads > 1) mf_nn_pool_create(threads, &pool);
    mf_nn_plan_opts o = {.pool = pool, .isa = getenv("MFMC_FAST") ? MF_NN_PLAN_ISA_FAST : -1};
    mf_nn_plan_t *p;
    if (mf_nn_plan_create(m, &o, &p)) {
        fprintf(stderr, "%s\n", mf_error_get());
        return 1;
    }
    mf_nn_plan_stats s;
    mf_nn_plan_get_stats(p, &s);
    double *acc = calloc((size_t)s.steps, sizeof *acc);
    for (int w = 0; w < 5; w++) mf_nn_plan_run(p);
    for (int r = 0; r < runs; r++) mf_nn_plan_run_timed(p, acc);
    entry *e = malloc((size_t)s.steps * sizeof *e);
    double total = 0;
    for (int i = 0; i < s.steps; i++) {
        e[i] = (entry){i, acc[i] / runs};
        total += e[i].ms;
    }
    qsort(e, (size_t)s.steps, sizeof *e, by_ms);
    printf("%s: %d steps, %.3f ms per run (mean of %d, %d thread%s), %.3f GFLOP\n", name, s.steps, total, runs, threads,
           threads > 1 ? "s" : "", s.flops / 1e9);
    for (int i = 0; i < s.steps; i++) {
        char d[256];
        mf_nn_plan_step_describe(p, e[i].i, d, sizeof d);
        printf("  %7.3f ms %5.1f%%  #%-3d %s\n", e[i].ms, 100 * e[i].ms / total, e[i].i, d);
        if (i >= 40) break;
    }
    free(acc);
    free(e);
    mf_nn_plan_free(p);
    mf_nn_pool_free(pool);
    mf_nn_model_free(m);
    return 0;
}
