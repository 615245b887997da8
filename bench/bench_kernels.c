/* Benchmark of the fast convolution kernels on layer shapes of the face models.
 * Prints, per layer: median time over >= 20 runs, GFLOP/s and share of the fp32 peak, with 1 and 2 threads
 * (pthreads here; the engine has its own pool), plus the portable path on 1 thread.
 * Peak per core = 2 FMA units * 8 lanes * 2 flops * nominal GHz ("cpu MHz" of /proc/cpuinfo).
 * Usage: bench_kernels [runs] [name-filter]      MFMC_ISA=scalar forces the portable path. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/testutil.h"
#include "nn/kernels.h"

enum { K_CONV, K_DW, K_DECONV };

typedef struct {
    const char *name;
    int kind;
    int h, w, ic, oc, k, stride, pad; /* square input h x w, kernel k x k, SAME-like leading pad */
    int act;
} layer;

static const layer layers[] = {
    {"blazeface conv 5x5 s2 256x256 3->24", K_CONV, 256, 256, 3, 24, 5, 2, 1, MF_NN_ACT_RELU},
    {"blazeface pw 1x1 64x64 24->24", K_CONV, 64, 64, 24, 24, 1, 1, 0, MF_NN_ACT_RELU},
    {"blazeface pw 1x1 16x16 96->96", K_CONV, 16, 16, 96, 96, 1, 1, 0, MF_NN_ACT_RELU},
    {"blazeface dw 5x5 128x128x24", K_DW, 128, 128, 24, 24, 5, 1, 2, MF_NN_ACT_NONE},
    {"blazeface dw 5x5 s2 64x64x48", K_DW, 64, 64, 48, 48, 5, 2, 1, MF_NN_ACT_NONE},
    {"facemesh conv 3x3 s2 192x192 3->16", K_CONV, 192, 192, 3, 16, 3, 2, 0, MF_NN_ACT_PRELU},
    {"facemesh pw 1x1 48x48 64->64 prelu", K_CONV, 48, 48, 64, 64, 1, 1, 0, MF_NN_ACT_PRELU},
    {"facemesh dw 3x3 48x48x64", K_DW, 48, 48, 64, 64, 3, 1, 1, MF_NN_ACT_NONE},
    {"mobilenet pw 1x1 56x56 128->128", K_CONV, 56, 56, 128, 128, 1, 1, 0, MF_NN_ACT_RELU6},
    {"mobilenet pw 1x1 7x7 1024->1024", K_CONV, 7, 7, 1024, 1024, 1, 1, 0, MF_NN_ACT_RELU6},
    {"mobilenet dw 3x3 112x112x64 s2", K_DW, 112, 112, 64, 64, 3, 2, 0, MF_NN_ACT_RELU6},
    {"mobilenet dw 3x3 56x56x128", K_DW, 56, 56, 128, 128, 3, 1, 1, MF_NN_ACT_RELU6},
    {"resnet conv 7x7 s2 150x150 3->32", K_CONV, 150, 150, 3, 32, 7, 2, 3, MF_NN_ACT_RELU},
    {"resnet conv 3x3 38x38 64->64", K_CONV, 38, 38, 64, 64, 3, 1, 1, MF_NN_ACT_RELU},
    {"resnet conv 3x3 s2 38x38 64->128", K_CONV, 38, 38, 64, 128, 3, 2, 0, MF_NN_ACT_RELU},
    {"arcface conv 3x3 56x56 64->64", K_CONV, 56, 56, 64, 64, 3, 1, 1, MF_NN_ACT_PRELU},
    {"arcface conv 3x3 7x7 512->512", K_CONV, 7, 7, 512, 512, 3, 1, 1, MF_NN_ACT_PRELU},
    {"gear conv 3x3 99x99 32->32", K_CONV, 99, 99, 32, 32, 3, 1, 1, MF_NN_ACT_RELU},
    {"fc 1x1x1024->128", K_CONV, 1, 1, 1024, 128, 1, 1, 0, MF_NN_ACT_NONE},
    /* transposed: h x w is the small input, output (h*stride) x (w*stride); flops counted without zero taps */
    {"selfie deconv 2x2 s2 128x128 16->1", K_DECONV, 128, 128, 16, 1, 2, 2, 0, MF_NN_ACT_NONE},
};

/* Measured single-core fp32 FMA throughput (12 independent 8-lane FMA chains for ~0.1 s): shows the clock the
 * core really runs at (turbo), against which the "% of nominal peak" figures can be read. */
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double measured_peak_avx2(void) {
    typedef float v8 __attribute__((vector_size(32)));
    v8 a0 = {0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    v8 m = a0 + 0.999f, c = a0 + 0.001f;
    double best = 0.0;
    for (int r = 0; r < 5; r++) {
        const long n = 2000000;
        double t0 = tu_clock_ms(CLOCK_MONOTONIC) / 1e3;
        for (long i = 0; i < n; i++) {
#define F(x) x = __builtin_ia32_vfmaddps256(x, m, c);
            F(a0)
            F(a1)
            F(a2)
            F(a3) F(a4) F(a5) F(a6) F(a7) F(a8) F(a9) F(a10) F(a11)
#undef F
                __asm__ volatile(""
                                 : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
            __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
        }
        double g = (double)n * 12 * 16 / (tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}
#endif

static void *xalloc(size_t floats) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (floats ? floats : 1) * sizeof(float)) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

typedef struct {
    mf_nn_conv_shape s;
    int kind;
    mf_nn_isa isa;
    const float *packed, *in;
    float *out, *scratch;
    int nth;
} job;

static void run_part(const job *j, int ith) {
    if (j->kind == K_CONV)
        mf_nn_conv2d_run(&j->s, j->isa, j->packed, j->in, NULL, j->out, j->scratch, ith, j->nth);
    else if (j->kind == K_DW)
        mf_nn_dwconv2d_run(&j->s, j->isa, j->packed, j->in, NULL, j->out, j->scratch, ith, j->nth);
    else
        mf_nn_deconv2d_run(&j->s, j->isa, j->packed, j->in, NULL, j->out, j->scratch, ith, j->nth);
}

/* Worker for thread 1 of 2: runs its part between two barriers, `runs` times. */
typedef struct {
    const job *j;
    int runs;
    pthread_barrier_t *bar;
} worker_arg;

static void *worker(void *p) {
    worker_arg *w = p;
    for (int r = 0; r < w->runs; r++) {
        pthread_barrier_wait(w->bar);
        run_part(w->j, 1);
        pthread_barrier_wait(w->bar);
    }
    return NULL;
}

/* Median seconds of one call with nth threads (1 or 2). */
static double time_layer(job *j, int nth, int runs) {
    double *t = malloc(sizeof(double) * (size_t)runs);
    j->nth = nth;
    run_part(j, 0); /* warm up (single-thread call covers the whole output when nth == 1) */
    if (nth == 1) {
        for (int r = 0; r < runs; r++) {
            double t0 = tu_clock_ms(CLOCK_MONOTONIC) / 1e3;
            run_part(j, 0);
            t[r] = tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t0;
        }
    } else {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 2);
        worker_arg wa = {j, runs + 1, &bar};
        pthread_t th;
        pthread_create(&th, NULL, worker, &wa);
        for (int r = -1; r < runs; r++) { /* r = -1: warm-up */
            pthread_barrier_wait(&bar);
            double t0 = tu_clock_ms(CLOCK_MONOTONIC) / 1e3;
            run_part(j, 0);
            pthread_barrier_wait(&bar);
            if (r >= 0) t[r] = tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t0;
        }
        pthread_join(th, NULL);
        pthread_barrier_destroy(&bar);
    }
    qsort(t, (size_t)runs, sizeof *t, tu_cmp_double);
    /* BENCH_STAT=min: fastest run instead of the median (for A/B comparisons on a busy machine) */
    const char *stat = getenv("BENCH_STAT");
    double med = stat && strcmp(stat, "min") == 0 ? t[0] : t[runs / 2];
    free(t);
    return med;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 30;
    const char *filter = argc > 2 ? argv[2] : NULL;
    if (runs < 20) runs = 20;
    double ghz = tu_cpu_ghz();
    double peak1 = 2.0 * 8 * 2 * ghz; /* GFLOP/s of one core */
    mf_nn_isa isa = mf_nn_isa_best();
    printf("CPU nominal %.3f GHz (cpu MHz of /proc/cpuinfo), fp32 peak %.1f GFLOP/s per core "
           "(2 FMA x 8 lanes x 2 flops); ISA %s; %s of %d runs\n",
           ghz, peak1, isa == MF_NN_ISA_AVX2 ? "avx2" : "scalar",
           getenv("BENCH_STAT") && strcmp(getenv("BENCH_STAT"), "min") == 0 ? "min" : "median", runs);
#if defined(__x86_64__)
    if (isa == MF_NN_ISA_AVX2) {
        double mp = measured_peak_avx2();
        printf("measured AVX2 FMA throughput %.1f GFLOP/s per core (= %.2f GHz effective); %%pk below is of the "
               "nominal peak\n",
               mp, mp / 32.0);
    }
#endif
    printf("%-36s %10s %8s | %9s %7s %5s | %9s %7s %5s | %7s\n", "layer", "MFLOP", "M", "1T ms", "GFLOP/s", "%pk",
           "2T ms", "GFLOP/s", "%pk", "port 1T");
    srand(1);
    for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
        const layer *L = &layers[li];
        if (filter && !strstr(L->name, filter)) continue;
        mf_nn_conv_shape s = {0};
        s.n = 1;
        s.ih = L->h;
        s.iw = L->w;
        s.ic = L->ic;
        s.oc = L->oc;
        s.kh = s.kw = L->k;
        s.sh = s.sw = L->stride;
        s.dh = s.dw = 1;
        s.pad_t = s.pad_l = L->pad;
        /* SAME-like: out = ceil(in / stride) when pad > 0, VALID otherwise */
        s.oh = L->pad ? (L->h + L->stride - 1) / L->stride : (L->h - L->k) / L->stride + 1;
        s.ow = L->pad ? (L->w + L->stride - 1) / L->stride : (L->w - L->k) / L->stride + 1;
        s.act = L->act;
        if (L->kind == K_DECONV) s.oh = L->h * L->stride, s.ow = L->w * L->stride;
        size_t in_len = (size_t)L->h * L->w * L->ic, out_len = (size_t)s.oh * s.ow * s.oc;
        size_t w_len = (size_t)L->k * L->k * (L->kind == K_DW ? (size_t)s.oc : (size_t)s.ic * s.oc);
        float *in = xalloc(in_len), *w = xalloc(w_len), *bias = xalloc((size_t)s.oc), *alpha = xalloc((size_t)s.oc);
        float *out = xalloc(out_len);
        for (size_t i = 0; i < in_len; i++)
            in[i] = (float)rand() / RAND_MAX - 0.5f;
        for (size_t i = 0; i < w_len; i++)
            w[i] = (float)rand() / RAND_MAX - 0.5f;
        for (int i = 0; i < s.oc; i++)
            bias[i] = 0.1f, alpha[i] = 0.25f;
        double flop = L->kind == K_CONV ? 2.0 * s.oh * s.ow * (double)s.oc * s.ic * s.kh * s.kw
                      : L->kind == K_DW ? 2.0 * s.oh * s.ow * (double)s.oc * s.kh * s.kw
                                        : 2.0 * s.ih * s.iw * (double)s.ic * s.oc * s.kh * s.kw;
        double sec[3];
        mf_nn_isa isas[3] = {isa, isa, MF_NN_ISA_SCALAR};
        int nths[3] = {1, 2, 1};
        for (int v = 0; v < 3; v++) {
            job j = {s, L->kind, isas[v], NULL, in, out, NULL, nths[v]};
            size_t psz = L->kind == K_CONV ? mf_nn_conv2d_packed_size(&s, j.isa)
                         : L->kind == K_DW ? mf_nn_dwconv2d_packed_size(&s, j.isa)
                                           : mf_nn_deconv2d_packed_size(&s, j.isa);
            size_t ssz = L->kind == K_CONV ? mf_nn_conv2d_scratch_size(&s, j.isa, nths[v])
                         : L->kind == K_DW ? mf_nn_dwconv2d_scratch_size(&s, j.isa, nths[v])
                                           : mf_nn_deconv2d_scratch_size(&s, j.isa, nths[v]);
            float *packed = xalloc(psz), *scratch = xalloc(ssz);
            if (L->kind == K_CONV)
                mf_nn_conv2d_pack(&s, j.isa, w, bias, alpha, NULL, packed);
            else if (L->kind == K_DW)
                mf_nn_dwconv2d_pack(&s, j.isa, w, bias, alpha, packed);
            else
                mf_nn_deconv2d_pack(&s, j.isa, w, bias, alpha, packed);
            j.packed = packed;
            j.scratch = scratch;
            sec[v] = time_layer(&j, nths[v], runs);
            free(packed);
            free(scratch);
        }
        double g1 = flop / sec[0] * 1e-9, g2 = flop / sec[1] * 1e-9, gs = flop / sec[2] * 1e-9;
        printf("%-36s %10.1f %8d | %9.3f %7.1f %4.0f%% | %9.3f %7.1f %4.0f%% | %7.1f\n", L->name, flop * 1e-6,
               s.oh * s.ow, sec[0] * 1e3, g1, 100.0 * g1 / peak1, sec[1] * 1e3, g2, 100.0 * g2 / (2 * peak1), gs);
        fflush(stdout);
        free(in);
        free(w);
        free(bias);
        free(alpha);
        free(out);
    }
    return 0;
}
