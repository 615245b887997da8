/* Model benchmark: median latency of each engine model with 1 and 2 threads, the FLOPs of one run, GFLOP/s and
 * the share of this CPU's fp32 peak (2 FMA units x 8 lanes x 2 flops x nominal GHz per core), and the median
 * process CPU time of a run (all threads; with 1 thread it hardly moves with the load of other processes, so runs
 * with MFMC_ISA=avx2 and without compare the AVX2 and AVX-512 GEMM kernels on a shared machine).
 * Prints one JSON line per model and thread count; tools/run-bench.sh puts them next to the peers.
 * --fast: each model also planned with MF_NN_PLAN_ISA_FAST (AMX tiles where the CPU has them), right after the best
 * plan, so the two are compared in the same run ("plan":"best" / "fast").
 * usage: bench_models [--runs N] [--models a,b,...] [--fast] */
#include "mfmc/nn.h"
#include "lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *human[] = {"blazeface", "blazeface-front", "facemesh-detection-short", "facemesh-detection-full",
                              "facemesh", "iris", "faceres", "faceres-deep", "mobileface", "mobilefacenet", "gear",
                              "age", "gender", "gender-ssrnet-imdb", "emotion", "antispoof", "selfie"};

static int in_list(const char *list, const char *name) {
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

static int load(const char *models, const char *name, mf_nn_model_t **m) {
    char path[4096];
    if (!strcmp(name, "fr_feature")) {
        snprintf(path, sizeof path, "%s/faceplugin/fr_feature.onnx", models);
        return mf_nn_model_load_onnx(path, m);
    }
    if (!strcmp(name, "faceapi-recognition")) {
        snprintf(path, sizeof path, "%s/faceapi/face_recognition_model-weights_manifest.json", models);
        return mf_nn_model_load_faceapi_recognition(path, m);
    }
    snprintf(path, sizeof path, "%s/human/%s.json", models, name);
    return mf_nn_model_load_tfjs(path, m);
}

static void bench(const char *models, const char *name, int runs, double peak1, int fast) {
    mf_nn_model_t *m;
    if (load(models, name, &m)) {
        fprintf(stderr, "bench_models: %s: %s\n", name, mf_error_get());
        return;
    }
    for (int v = 0; v < 2 * (1 + fast); v++) {
        const int threads = 1 + v / (1 + fast), is_fast = fast && v % 2;
        mf_nn_pool_t *pool = NULL;
        if (threads > 1 && mf_nn_pool_create(threads, &pool)) break;
        mf_nn_plan_opts o = {.pool = pool, .isa = is_fast ? MF_NN_PLAN_ISA_FAST : -1};
        mf_nn_plan_t *p;
        if (mf_nn_plan_create(m, &o, &p)) {
            fprintf(stderr, "bench_models: %s: %s\n", name, mf_error_get());
            mf_nn_pool_free(pool);
            break;
        }
        for (int i = 0; i < mf_nn_model_input_count(m); i++) {
            mf_nn_shape sh;
            float *in = mf_nn_plan_input(p, i, &sh);
            size_t n = mf_nn_shape_numel(&sh);
            for (size_t k = 0; k < n; k++) in[k] = (float)((k * 2654435761u) % 1000) / 1000.0f; /* any fixed data */
        }
        for (int w = 0; w < 5; w++) mf_nn_plan_run(p);
        double *t = malloc((size_t)runs * sizeof *t), *cpu = malloc((size_t)runs * sizeof *cpu);
        for (int r = 0; r < runs; r++) {
            double t0 = tu_clock_ms(CLOCK_MONOTONIC), c0 = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID);
            mf_nn_plan_run(p);
            t[r] = tu_clock_ms(CLOCK_MONOTONIC) - t0;
            cpu[r] = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        }
        qsort(t, (size_t)runs, sizeof *t, tu_cmp_double);
        qsort(cpu, (size_t)runs, sizeof *cpu, tu_cmp_double);
        mf_nn_plan_stats s;
        mf_nn_plan_get_stats(p, &s);
        double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        double cmed = runs % 2 ? cpu[runs / 2] : (cpu[runs / 2 - 1] + cpu[runs / 2]) / 2;
        double gflops = s.flops / (med * 1e6);
        printf("{\"model\":\"%s\",\"runtime\":\"mfmc\",\"plan\":\"%s\",\"threads\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,"
               "\"runs\":%d,\"gflop\":%.4f,\"gflops\":%.2f,\"peak_share\":%.4f,\"cpu_median_ms\":%.3f}\n",
               name, is_fast ? "fast" : "best", threads, med, t[0], runs, s.flops / 1e9, gflops, peak1 > 0 ? gflops / (peak1 * threads) : 0, cmed);
        fflush(stdout);
        free(t), free(cpu);
        mf_nn_plan_free(p);
        mf_nn_pool_free(pool);
    }
    mf_nn_model_free(m);
}

int main(int argc, char **argv) {
    int runs = 30;
    const char *only = NULL;
    int fast = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--fast")) fast = 1;
        else if (!strcmp(argv[i], "--models") && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "usage: bench_models [--runs N] [--models a,b,...] [--fast]\n");
            return 2;
        }
    }
    if (runs < 1) runs = 1;
    const char *models = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    double ghz = tu_cpu_ghz(), peak1 = 2.0 * 8 * 2 * ghz;
    printf("{\"cpu_ghz\":%.3f,\"peak_gflops_per_core\":%.1f,\"isa\":\"%s\"}\n", ghz, peak1,
           getenv("MFMC_ISA") ? getenv("MFMC_ISA") : "best");
    for (size_t i = 0; i < sizeof human / sizeof *human; i++)
        if (in_list(only, human[i])) bench(models, human[i], runs, peak1, fast);
    if (in_list(only, "faceapi-recognition")) bench(models, "faceapi-recognition", runs, peak1, fast);
    if (in_list(only, "fr_feature")) bench(models, "fr_feature", runs, peak1, fast);
    return 0;
}
