/* Fast convolution kernels against the reference ones: every ISA this CPU has, nth = 1, 2, 3, every activation,
 * with and without bias / residual, guard zones around the output, exact-size allocations for ASan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nn/gemm_amx.h"
#include "nn/kernels.h"
#include "nn/pool.h"

enum { KIND_CONV, KIND_DW, KIND_DECONV };
static const char *const kind_name[] = {"conv", "dwconv", "deconv"};

typedef struct {
    int kind;
    int n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pad_t, pad_l;
    char name[128];
} kcase;

/* ---- helpers ---- */

static uint64_t rng_state;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (2.0 / 16777216.0) - 1.0);
}

static float *rand_buf(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

static float *aligned_buf(size_t n) {
    void *p = NULL;
    if (n == 0) return NULL;
    assert_int_equal(posix_memalign(&p, 64, n * sizeof(float)), 0); /* exact size: ASan sees overreads */
    return p;
}

static int have_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

enum { GUARD = 64 };
static const uint32_t SENTINEL = 0x7fc0dead; /* a NaN payload nobody computes */

static float sentinel(void) {
    float f;
    memcpy(&f, &SENTINEL, sizeof f);
    return f;
}
static int is_sentinel(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u == SENTINEL;
}

typedef void (*ref_fn)(const mf_nn_conv_shape *, const float *, const float *, const float *, const float *,
                       const float *, const float *, float *);
typedef size_t (*psize_fn)(const mf_nn_conv_shape *, mf_nn_isa);
typedef void (*pack_fn)(const mf_nn_conv_shape *, mf_nn_isa, const float *, const float *, const float *,
                        const float *, float *);

/* Depthwise and transposed convolutions have no post-activation affine: same signatures as conv2d's. */
static void dw_ref(const mf_nn_conv_shape *s, const float *in, const float *w, const float *bias, const float *alpha,
                   const float *post, const float *res, float *out) {
    (void)post;
    mf_nn_dwconv2d_ref(s, in, w, bias, alpha, res, out);
}
static void deconv_ref(const mf_nn_conv_shape *s, const float *in, const float *w, const float *bias,
                       const float *alpha, const float *post, const float *res, float *out) {
    (void)post;
    mf_nn_deconv2d_ref(s, in, w, bias, alpha, res, out);
}
static void dw_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w, const float *bias, const float *alpha,
                    const float *post, float *packed) {
    (void)post;
    mf_nn_dwconv2d_pack(s, isa, w, bias, alpha, packed);
}
static void deconv_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w, const float *bias,
                        const float *alpha, const float *post, float *packed) {
    (void)post;
    mf_nn_deconv2d_pack(s, isa, w, bias, alpha, packed);
}
typedef size_t (*ssize_fn)(const mf_nn_conv_shape *, mf_nn_isa, int);
typedef void (*run_fn)(const mf_nn_conv_shape *, mf_nn_isa, const float *, const float *, const float *, float *,
                       float *, int, int);

static int n_checks;

static void check_case(const kcase *k, int act, int with_bias, int with_res, int with_post) {
    mf_nn_conv_shape s = {k->n,  k->ih, k->iw, k->ic, k->oh,    k->ow,    k->oc, k->kh,
                          k->kw, k->sh, k->sw, k->dh, k->dw, k->pad_t, k->pad_l, act, with_post};
    size_t in_len = (size_t)s.n * s.ih * s.iw * s.ic;
    size_t out_len = (size_t)s.n * s.oh * s.ow * s.oc;
    size_t w_len = (size_t)s.kh * s.kw * (k->kind == KIND_DW ? (size_t)s.oc : (size_t)s.ic * s.oc);
    ref_fn ref = k->kind == KIND_CONV ? mf_nn_conv2d_ref : k->kind == KIND_DW ? dw_ref : deconv_ref;
    psize_fn psize = k->kind == KIND_CONV ? mf_nn_conv2d_packed_size
                     : k->kind == KIND_DW ? mf_nn_dwconv2d_packed_size
                                          : mf_nn_deconv2d_packed_size;
    pack_fn pack = k->kind == KIND_CONV ? mf_nn_conv2d_pack : k->kind == KIND_DW ? dw_pack : deconv_pack;
    ssize_fn ssize = k->kind == KIND_CONV ? mf_nn_conv2d_scratch_size
                     : k->kind == KIND_DW ? mf_nn_dwconv2d_scratch_size
                                          : mf_nn_deconv2d_scratch_size;
    run_fn run = k->kind == KIND_CONV ? mf_nn_conv2d_run : k->kind == KIND_DW ? mf_nn_dwconv2d_run : mf_nn_deconv2d_run;

    float *in = rand_buf(in_len);
    float *w = rand_buf(w_len);
    float *bias = with_bias ? rand_buf((size_t)s.oc) : NULL;
    float *alpha = act == MF_NN_ACT_PRELU ? rand_buf((size_t)s.oc) : NULL;
    float *res = with_res ? rand_buf(out_len) : NULL;
    float *post = with_post ? rand_buf(2 * (size_t)s.oc) : NULL; /* scale, shift */
    if (act == MF_NN_ACT_RELU6) /* spread values so that both clamps are hit */
        for (size_t i = 0; i < in_len; i++)
            in[i] *= 4.0f;
    float *want = malloc(out_len * sizeof *want);
    assert_non_null(want);
    /* Tolerance scale: the largest reference value before the activation (relu6 clips the output at 6 while the
     * sums that the fast path rounds can be much larger). */
    mf_nn_conv_shape lin = s;
    lin.act = MF_NN_ACT_NONE;
    lin.post = 0;
    ref(&lin, in, w, bias, alpha, NULL, res, want);
    double maxref = 1.0;
    for (size_t i = 0; i < out_len; i++)
        if (fabs(want[i]) > maxref) maxref = fabs(want[i]);
    /* The AMX blocks (gemm_amx.c) carry 16 of the 24 bits of each operand: 4e-5 where they ran. */
    const double tol_fp32 = 1e-5 * maxref, tol_amx = 4e-5 * maxref;
    ref(&s, in, w, bias, alpha, post, res, want);

    float *got_buf = malloc((out_len + 2 * GUARD) * sizeof *got_buf);
    assert_non_null(got_buf);
    float *got = got_buf + GUARD;

    mf_nn_isa isas[3] = {MF_NN_ISA_SCALAR, MF_NN_ISA_AVX2, MF_NN_ISA_AMX};
    int nisa = have_avx2() ? (mf_nn_gemm_amx_usable() ? 3 : 2) : 1;
    for (int ii = 0; ii < nisa; ii++) {
        mf_nn_isa isa = isas[ii];
        float *packed = aligned_buf(psize(&s, isa));
        assert_non_null(packed);
        pack(&s, isa, w, bias, alpha, post, packed);
        for (int nth = 1; nth <= 3; nth++) {
            size_t ss = ssize(&s, isa, nth);
            float *scratch = aligned_buf(ss);
            if (nth > 1) {
                /* The threads' parts of `out` must be disjoint and cover it: run each alone on a fresh buffer. */
                unsigned char *writes = calloc(out_len, 1);
                assert_non_null(writes);
                for (int ith = 0; ith < nth; ith++) {
                    for (size_t i = 0; i < out_len; i++)
                        got[i] = sentinel();
                    run(&s, isa, packed, in, res, got, scratch, ith, nth);
                    for (size_t i = 0; i < out_len; i++)
                        writes[i] += !is_sentinel(got[i]);
                }
                for (size_t i = 0; i < out_len; i++)
                    if (writes[i] != 1)
                        fail_msg("%s isa=%d nth=%d: element %zu written by %d threads", k->name, isa, nth, i,
                                 writes[i]);
                free(writes);
            }
            for (int inplace = 0; inplace <= (res != NULL); inplace++) {
                for (size_t i = 0; i < out_len + 2 * GUARD; i++)
                    got_buf[i] = sentinel();
                if (inplace) memcpy(got, res, out_len * sizeof *got); /* out aliases the residual */
                const size_t amx0 = mf_nn_amx_block_count();
                for (int ith = nth - 1; ith >= 0; ith--)
                    run(&s, isa, packed, in, inplace ? got : res, got, scratch, ith, nth);
                const double tol = mf_nn_amx_block_count() > amx0 ? tol_amx : tol_fp32;
                for (size_t i = 0; i < GUARD; i++) {
                    if (!is_sentinel(got_buf[i]) || !is_sentinel(got[out_len + i]))
                        fail_msg("%s act=%d isa=%d nth=%d: write outside out (guard %zu)", k->name, act, isa, nth, i);
                }
                double maxerr = 0.0;
                size_t worst = 0;
                for (size_t i = 0; i < out_len; i++) {
                    double e = is_sentinel(got[i]) || got[i] != got[i] ? INFINITY : fabs((double)got[i] - want[i]);
                    if (e > maxerr) maxerr = e, worst = i;
                }
                if (!(maxerr <= tol))
                    fail_msg("%s act=%d bias=%d res=%d post=%d inplace=%d isa=%d nth=%d: max err %g at %zu (got %g "
                             "want %g), tol %g",
                             k->name, act, with_bias, with_res, with_post, inplace, isa, nth, maxerr, worst,
                             (double)got[worst], (double)want[worst], tol);
                n_checks++;
            }
            free(scratch);
        }
        free(packed);
    }
    free(got_buf);
    free(want);
    free(post);
    free(res);
    free(alpha);
    free(bias);
    free(w);
    free(in);
}

static void run_case(void **state) {
    const kcase *k = *state;
    rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)k->name[0] ^ ((uint64_t)k->oc << 32);
    for (int act = 0; act <= MF_NN_ACT_PRELU; act++)
        for (int br = 0; br < 4; br++)
            for (int post = 0; post <= (k->kind == KIND_CONV); post++)
                check_case(k, act, br & 1, br >> 1, post);
}

/* ---- cases ---- */

enum { MAX_CASES = 128 };
static kcase cases[MAX_CASES];
static int ncases;

/* Output size of a forward conv. */
static int conv_out(int in, int k, int st, int d, int pad_lead, int pad_trail) {
    return (in + pad_lead + pad_trail - (k - 1) * d - 1) / st + 1;
}

static void add(int kind, int n, int ih, int iw, int ic, int oc, int kh, int kw, int sh, int sw, int dh, int dw, int pt,
                int pb, int pl, int pr) {
    assert_true(ncases < MAX_CASES);
    kcase *k = &cases[ncases++];
    *k = (kcase){kind, n, ih, iw, ic, 0, 0, oc, kh, kw, sh, sw, dh, dw, pt, pl, ""};
    if (kind == KIND_DECONV) {
        /* ih/iw given are the small input; output is the forward conv input whose conv output is ih x iw. */
        k->oh = (ih - 1) * sh + (kh - 1) * dh + 1 - pt - pb;
        k->ow = (iw - 1) * sw + (kw - 1) * dw + 1 - pl - pr;
    } else {
        k->oh = conv_out(ih, kh, sh, dh, pt, pb);
        k->ow = conv_out(iw, kw, sw, dw, pl, pr);
    }
    snprintf(k->name, sizeof k->name, "%s_n%d_%dx%dx%d_to_%dx%dx%d_k%dx%d_s%dx%d_d%dx%d_p%d%d%d%d", kind_name[kind], n,
             ih, iw, ic, k->oh, k->ow, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr);
}

static void conv(int n, int ih, int iw, int ic, int oc, int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pb,
                 int pl, int pr) {
    add(KIND_CONV, n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr);
}
static void dwc(int n, int ih, int iw, int c, int mult, int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pb,
                int pl, int pr) {
    add(KIND_DW, n, ih, iw, c, c * mult, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr);
}
static void dec(int n, int ih, int iw, int ic, int oc, int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pb,
                int pl, int pr) {
    add(KIND_DECONV, n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr);
}

static void make_cases(void) {
    /* 1x1 stride 1 (direct GEMM) */
    conv(1, 8, 8, 16, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
    conv(1, 7, 9, 13, 19, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
    conv(1, 13, 11, 8, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);   /* M = 143 > MC; oc = 16 + 8 */
    conv(1, 5, 5, 300, 33, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);   /* K blocking */
    conv(1, 1, 1, 1024, 100, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0); /* fully connected, m = 1 */
    conv(1, 3, 1, 40, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
    conv(1, 4, 4, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);   /* oc = 1 */
    conv(2, 5, 3, 24, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0); /* batch 2, oc = 2*16 + 8 */
    /* 1x1 stride 2 (im2col) */
    conv(1, 9, 8, 16, 24, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0);
    /* 3x3 */
    conv(1, 9, 11, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);   /* SAME */
    conv(1, 16, 16, 12, 20, 3, 3, 2, 2, 1, 1, 0, 1, 0, 1); /* TF SAME, stride 2, even input */
    conv(1, 15, 15, 8, 16, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0);  /* VALID stride 2 */
    conv(1, 15, 13, 8, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);  /* SAME stride 2, odd input */
    conv(1, 7, 9, 13, 13, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0);   /* VALID, odd everything */
    conv(1, 6, 5, 64, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);   /* K = 576: k blocks */
    conv(2, 5, 6, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);     /* batch 2 */
    conv(1, 12, 12, 10, 17, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2); /* dilation 2 */
    conv(1, 2, 2, 4, 8, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2);     /* padding larger than the input */
    /* 3x3 stride 1 with enough channels: Winograd F(2x2,3x3) on AVX2 (test_winograd_coverage checks it) */
    conv(1, 9, 11, 16, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);   /* SAME, odd output (partial tiles), oc tail */
    conv(1, 14, 13, 21, 33, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0);  /* VALID, ic tail */
    conv(2, 7, 8, 17, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);    /* batch 2: tiles run across batch items */
    conv(1, 8, 9, 300, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);   /* ic > KC: k blocks */
    conv(1, 3, 3, 16, 16, 3, 3, 1, 1, 1, 1, 4, 4, 4, 4);    /* padding larger than the input */
    conv(1, 2, 40, 24, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);   /* one row of tiles */
    conv(1, 40, 37, 32, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0);  /* several blocks per thread (gear's first layers) */
    conv(1, 12, 10, 16, 24, 3, 3, 1, 1, 1, 1, 2, 0, 0, 1);  /* asymmetric padding */
    /* AMX shapes (gemm_amx.c: K >= 64, N >= 32, M >= 128; test_amx checks that they run there) */
    conv(1, 16, 16, 96, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);  /* direct, panels 16 + 16 + 8 */
    conv(1, 13, 11, 600, 33, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0); /* M = 143 > MC, 3 k blocks of 200, a 1-column panel */
    conv(1, 26, 24, 32, 48, 3, 3, 2, 2, 1, 1, 0, 1, 0, 1);  /* im2col, K = 288 in 2 blocks, M = 156 */
    conv(1, 24, 22, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);  /* Winograd, K = 64 */
    conv(2, 12, 13, 80, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);  /* Winograd, batch 2, partial tiles */
    /* 5x5, 7x7 */
    conv(1, 10, 7, 5, 13, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2);
    conv(1, 23, 23, 3, 32, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3); /* ResNet stem, ic = 3 */
    conv(1, 19, 20, 3, 24, 3, 3, 2, 2, 1, 1, 0, 1, 0, 1); /* first conv of blazeface-like models */
    /* asymmetric */
    conv(1, 6, 11, 6, 10, 1, 3, 1, 2, 1, 1, 0, 0, 1, 1);
    conv(1, 11, 6, 9, 18, 3, 2, 2, 1, 1, 3, 1, 0, 0, 2);

    /* depthwise */
    dwc(1, 9, 10, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1); /* channel tail */
    dwc(1, 12, 16, 32, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    dwc(1, 16, 16, 24, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2); /* blazeface 5x5 */
    dwc(1, 16, 16, 24, 1, 3, 3, 2, 2, 1, 1, 0, 1, 0, 1); /* TF SAME stride 2 */
    dwc(1, 15, 17, 20, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
    dwc(1, 15, 17, 12, 1, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0); /* VALID stride 2 */
    dwc(1, 17, 17, 28, 1, 5, 5, 2, 2, 1, 1, 1, 2, 1, 2);
    dwc(1, 13, 14, 9, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2); /* dilation 2 */
    dwc(1, 9, 10, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);  /* channel multiplier 2 */
    dwc(1, 8, 8, 1, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);   /* multiplier 3 on one channel */
    dwc(1, 2, 3, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);  /* output narrower than a 4-pixel block */
    dwc(1, 3, 3, 64, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0);  /* single output pixel */
    dwc(2, 6, 7, 11, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);  /* batch 2 */
    dwc(1, 5, 40, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);  /* one channel */
    dwc(1, 7, 21, 7, 1, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3);
    dwc(1, 2, 2, 8, 1, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2); /* padding larger than the input */

    /* transposed */
    dec(1, 4, 5, 8, 6, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0);
    dec(1, 5, 4, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
    dec(1, 4, 4, 16, 17, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1);
    dec(1, 6, 6, 5, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    dec(2, 3, 5, 6, 10, 3, 3, 2, 2, 2, 2, 0, 0, 1, 0);
    dec(1, 8, 8, 64, 24, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0);  /* K blocking with 4 taps x 64 */
    dec(1, 16, 16, 16, 1, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0); /* selfie segmentation head: oc = 1 */
    dec(1, 4, 5, 6, 3, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0);    /* kernel < stride: classes without taps get bias only */
    dec(1, 3, 4, 300, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);  /* class depth 4*300 > KC: k blocks */
    dec(1, 12, 12, 64, 32, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0); /* one tap of 64 per class: never AMX (test_amx) */

    /* Random shapes (fixed seed): sizes, channels, kernels, strides, dilations and paddings drawn small. */
    uint64_t st = 12345;
#define RND(lo, hi)                                                                                                    \
    (st = st * 6364136223846793005ull + 1442695040888963407ull, (int)((st >> 33) % (uint64_t)((hi) - (lo) + 1)) + (lo))
    for (int i = 0; i < 30; i++) {
        int kind = i % 3;
        int kh = RND(1, 5), kw = RND(1, 5), sh = RND(1, 3), sw = RND(1, 3), dh = RND(1, 2), dw = RND(1, 2);
        int ih = RND(1, 12), iw = RND(1, 12), ic = RND(1, 40), oc = RND(1, 40), n = RND(1, 2);
        int pt = RND(0, kh), pb = RND(0, kh), pl = RND(0, kw), pr = RND(0, kw);
        if (kind == KIND_DW) oc = RND(1, 3); /* channel multiplier */
        if (kind == KIND_DECONV) {
            if (pt + pb >= (ih - 1) * sh + (kh - 1) * dh + 1 || pl + pr >= (iw - 1) * sw + (kw - 1) * dw + 1) continue;
        } else if (ih + pt + pb < (kh - 1) * dh + 1 || iw + pl + pr < (kw - 1) * dw + 1) {
            continue;
        }
        if (kind == KIND_DW)
            dwc(n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr);
        else
            add(kind, n, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr);
    }
#undef RND
}

/* ---- other tests ---- */

static void test_isa_best(void **state) {
    (void)state;
    const char *old = getenv("MFMC_ISA");
    char *saved = old ? strdup(old) : NULL;
    setenv("MFMC_ISA", "scalar", 1);
    assert_int_equal(mf_nn_isa_best(), MF_NN_ISA_SCALAR);
    unsetenv("MFMC_ISA");
    assert_int_equal(mf_nn_isa_best(), have_avx2() ? MF_NN_ISA_AVX2 : MF_NN_ISA_SCALAR);
    if (saved) setenv("MFMC_ISA", saved, 1);
    free(saved);
}

/* The AVX-512 GEMM kernel (16-column panels) gives bit-identical results to the AVX2 one on every row count
 * (tiles of 12 and their tails), column count (masks), depth, start (bias, bias + residual, accumulate into c) and
 * epilogue (each activation, with and without the post scale and shift); the guard columns past nr stay untouched. */
/* Calls one(m, nr, kc, start, act, post) on every case of the given row counts, column counts and depths, each start
 * (0 accumulate into c, 1 bias, 2 bias + residual), activation and post epilogue (0/1). */
typedef void (*gemm_case_fn)(int m, int nr, int kc, int start, int act, int post);
static void gemm_cases(const int *ms, int n_ms, const int *nrs, int n_nrs, const int *kcs, int n_kcs, gemm_case_fn one) {
    for (int mi = 0; mi < n_ms; mi++)
        for (int ni = 0; ni < n_nrs; ni++)
            for (int ki = 0; ki < n_kcs; ki++)
                for (int start = 0; start < 3; start++)
                    for (int act = MF_NN_ACT_NONE; act <= MF_NN_ACT_PRELU; act++)
                        for (int post = 0; post < 2; post++) one(ms[mi], nrs[ni], kcs[ki], start, act, post);
}

static void avx512_case(int m, int nr, int kc, int start, int act, int post) {
    const size_t lda = (size_t)kc + 3, ldc = 21;
    float *a = rand_buf((size_t)m * lda), *b = rand_buf((size_t)kc * 16);
    float *bias = rand_buf(16), *alpha = rand_buf(16), *pp = rand_buf(32);
    float *res = rand_buf((size_t)m * ldc), *c1 = rand_buf((size_t)m * ldc);
    float *c2 = malloc((size_t)m * ldc * sizeof *c2);
    assert_non_null(c2);
    memcpy(c2, c1, (size_t)m * ldc * sizeof *c2);
    mf_nn_gemm_block g = {m, nr, 16, kc, a, lda, b, c1, ldc, start ? bias : NULL, start == 2 ? res : NULL, alpha,
                          post ? pp : NULL, act, 1};
    mf_nn_gemm_block_avx2_ymm(&g);
    g.c = c2;
    mf_nn_gemm_block_avx512(&g);
    if (memcmp(c1, c2, (size_t)m * ldc * sizeof *c1) != 0)
        fail_msg("m %d nr %d kc %d start %d act %d post %d: AVX-512 differs from AVX2", m, nr, kc, start, act, post);
    free(a), free(b), free(bias), free(alpha), free(pp), free(res), free(c1), free(c2);
}

static void test_gemm_avx512_bitexact(void **state) {
    (void)state;
    if (!mf_nn_gemm_avx512_usable()) skip();
    static const int ms[] = {1, 5, 6, 11, 12, 13, 25, 96}, nrs[] = {1, 7, 8, 9, 15, 16}, kcs[] = {1, 3, 64, 256};
    rng_state = 0x9e3779b97f4a7c15ull;
    gemm_cases(ms, 8, nrs, 6, kcs, 4, avx512_case);
}

/* The paired AVX-512 kernel (two adjacent 16-column panels, a 12 x 32 tile) gives bit-identical results to the
 * AVX2 kernel run on each panel alone, on every row count, second-panel column count (masks), depth, start (bias,
 * bias + residual, accumulate into c) and epilogue; the guard columns past the second panel's nr stay untouched. */
static void pair_case(int m, int nr, int kc, int start, int act, int post) {
    const size_t lda = (size_t)kc + 5, ldc = 16 + nr + 3; /* both panels side by side */
    float *a = rand_buf((size_t)m * lda), *b = rand_buf((size_t)kc * 32);
    float *bias = rand_buf(32), *alpha = rand_buf(32), *pp = rand_buf(64);
    float *res = rand_buf((size_t)m * ldc), *c1 = rand_buf((size_t)m * ldc);
    float *c2 = malloc((size_t)m * ldc * sizeof *c2);
    assert_non_null(c2);
    memcpy(c2, c1, (size_t)m * ldc * sizeof *c2);
    mf_nn_gemm_block g0 = {m, 16, 16, kc, a, lda, b, c1, ldc, start ? bias : NULL, start == 2 ? res : NULL, alpha,
                           post ? pp : NULL, act, 1};
    mf_nn_gemm_block g1 = g0;
    g1.nr = nr, g1.b = b + (size_t)kc * 16, g1.c = c1 + 16;
    g1.bias = start ? bias + 16 : NULL, g1.res = start == 2 ? res + 16 : NULL;
    g1.alpha = alpha + 16, g1.post = post ? pp + 32 : NULL;
    mf_nn_gemm_block_avx2_ymm(&g0);
    mf_nn_gemm_block_avx2_ymm(&g1);
    g0.c = c2, g1.c = c2 + 16;
    mf_nn_gemm_pair_avx512(&g0, &g1);
    if (memcmp(c1, c2, (size_t)m * ldc * sizeof *c1) != 0)
        fail_msg("m %d nr %d kc %d start %d act %d post %d: paired AVX-512 differs from AVX2", m, nr, kc, start, act,
                 post);
    free(a), free(b), free(bias), free(alpha), free(pp), free(res), free(c1), free(c2);
}

static void test_gemm_pair_bitexact(void **state) {
    (void)state;
    if (!mf_nn_gemm_avx512_usable()) skip();
    static const int ms[] = {1, 5, 11, 12, 13, 25, 96}, nrs[] = {1, 8, 9, 16}, kcs[] = {1, 3, 64, 256};
    rng_state = 0x2545f4914f6cdd1dull;
    gemm_cases(ms, 7, nrs, 4, kcs, 4, pair_case);
}

/* The AVX-512 depthwise interior (dw_avx512.c) gives bit-identical rows to the AVX2 kernel alone on every channel
 * count (16-lane groups and their masked tails), kernel (3, 5), stride (1, 2), row width (8- and 4-pixel blocks and
 * the edge pixels), kernel rows cut by the top and bottom, residual and activation; the guard past the output
 * stays untouched. Rows are built by mf_nn_dwconv2d_run's own mf_nn_dw_row_init and mf_nn_dw_row_at. */
static void dw_wide_case(int C, int k, int st, int iw, int with_res, int act) {
    const int pad = k / 2, ih = 2 * k + 1;
    mf_nn_conv_shape s = {1, ih, iw, C, 0, 0, C, k, k, st, st, 1, 1, pad, pad, act, 0};
    s.oh = (ih + 2 * pad - k) / st + 1, s.ow = (iw + 2 * pad - k) / st + 1;
    const size_t len = (size_t)s.oh * s.ow * C, guard = 19;
    float *in = rand_buf((size_t)ih * iw * C), *w = rand_buf((size_t)k * k * C);
    float *bias = rand_buf((size_t)C), *alpha = rand_buf((size_t)C), *res = rand_buf(len);
    float *packed = aligned_buf(mf_nn_dwconv2d_packed_size(&s, MF_NN_ISA_AVX2));
    float *o1 = rand_buf(len + guard), *o2 = malloc((len + guard) * sizeof *o2);
    assert_non_null(o2);
    memcpy(o2, o1, (len + guard) * sizeof *o2);
    mf_nn_dwconv2d_pack(&s, MF_NN_ISA_AVX2, w, bias, act == MF_NN_ACT_PRELU ? alpha : NULL, packed);
    mf_nn_dw_row r;
    mf_nn_dw_row_init(&s, packed, &r);
    for (int y = 0; y < s.oh; y++) {
        mf_nn_dw_row_at(&r, in, with_res ? res : NULL, o1, (size_t)y);
        mf_nn_dw_row_avx2_ymm(&r);
        mf_nn_dw_row_at(&r, in, with_res ? res : NULL, o2, (size_t)y);
        mf_nn_dw_row_avx2(&r);
    }
    if (memcmp(o1, o2, (len + guard) * sizeof *o1) != 0)
        fail_msg("C %d k %d stride %d iw %d res %d act %d: AVX-512 differs from AVX2", C, k, st, iw, with_res, act);
    free(in), free(w), free(bias), free(alpha), free(res), free(packed), free(o1), free(o2);
}

/* The AMX blocks (gemm_amx.c) run where their rule says (K >= 64, N >= 32, M >= 128) and nowhere else; on the same
 * packing they are not the fp32 kernels (some output differs) and stay within 4e-5 of the largest output of them. */
static void amx_case(const mf_nn_conv_shape *s, int want_amx) {
    const size_t in_len = (size_t)s->n * s->ih * s->iw * s->ic, out_len = (size_t)s->n * s->oh * s->ow * s->oc;
    float *in = rand_buf(in_len), *w = rand_buf((size_t)s->kh * s->kw * s->ic * s->oc), *bias = rand_buf(s->oc);
    float *packed = aligned_buf(mf_nn_conv2d_packed_size(s, MF_NN_ISA_AMX));
    float *scratch = aligned_buf(mf_nn_conv2d_scratch_size(s, MF_NN_ISA_AMX, 1));
    float *o_amx = malloc(out_len * sizeof *o_amx), *o_fp = malloc(out_len * sizeof *o_fp);
    assert_true(o_amx && o_fp);
    mf_nn_conv2d_pack(s, MF_NN_ISA_AMX, w, bias, NULL, NULL, packed);
    size_t n0 = mf_nn_amx_block_count();
    mf_nn_conv2d_run(s, MF_NN_ISA_AMX, packed, in, NULL, o_amx, scratch, 0, 1);
    const size_t used = mf_nn_amx_block_count() - n0;
    mf_nn_debug_amx_off(1);
    n0 = mf_nn_amx_block_count();
    mf_nn_conv2d_run(s, MF_NN_ISA_AMX, packed, in, NULL, o_fp, scratch, 0, 1);
    mf_nn_debug_amx_off(0);
    /* and the plain ISA never takes them */
    float *p2 = aligned_buf(mf_nn_conv2d_packed_size(s, MF_NN_ISA_AVX2)), *o2 = malloc(out_len * sizeof *o2);
    assert_true(o2 != NULL);
    mf_nn_conv2d_pack(s, MF_NN_ISA_AVX2, w, bias, NULL, NULL, p2);
    mf_nn_conv2d_run(s, MF_NN_ISA_AVX2, p2, in, NULL, o2, scratch, 0, 1);
    assert_memory_equal(o2, o_fp, out_len * sizeof *o2); /* the same fp32 kernels on the fp32 part of the packing */
    free(p2), free(o2);
    assert_int_equal(mf_nn_amx_block_count() - n0, 0);
    if (!want_amx) {
        assert_int_equal(used, 0);
        assert_memory_equal(o_amx, o_fp, out_len * sizeof *o_fp);
    } else {
        assert_true(used > 0);
        double maxo = 1.0, maxd = 0.0;
        for (size_t i = 0; i < out_len; i++) {
            if (fabs(o_fp[i]) > maxo) maxo = fabs(o_fp[i]);
            if (fabs((double)o_amx[i] - o_fp[i]) > maxd) maxd = fabs((double)o_amx[i] - o_fp[i]);
        }
        fprintf(stderr, "  amx %dx%dx%d -> %d k%d: %zu blocks, max |amx - fp32| %.3g of the largest output\n", s->ih,
                s->iw, s->ic, s->oc, s->kh, used, maxd / maxo);
        assert_true(maxd > 0.0);
        assert_true(maxd <= 4e-5 * maxo);
    }
    free(in), free(w), free(bias), free(packed), free(scratch), free(o_amx), free(o_fp);
}

static void test_amx(void **state) {
    (void)state;
    if (!have_avx2() || !mf_nn_gemm_amx_usable()) skip();
    const mf_nn_conv_shape dec_s = {1, 12, 12, 64, 24, 24, 32, 2, 2, 2, 2, 1, 1, 0, 0, MF_NN_ACT_NONE, 0};
    size_t n0 = mf_nn_amx_block_count(); /* transposed convs: one output row's pixels per call, never AMX */
    float *in = rand_buf(12 * 12 * 64), *w = rand_buf(2 * 2 * 64 * 32), *o = malloc(24 * 24 * 32 * sizeof *o);
    float *pk = aligned_buf(mf_nn_deconv2d_packed_size(&dec_s, MF_NN_ISA_AMX));
    float *sc = aligned_buf(mf_nn_deconv2d_scratch_size(&dec_s, MF_NN_ISA_AMX, 1));
    assert_true(o != NULL);
    mf_nn_deconv2d_pack(&dec_s, MF_NN_ISA_AMX, w, NULL, NULL, pk);
    mf_nn_deconv2d_run(&dec_s, MF_NN_ISA_AMX, pk, in, NULL, o, sc, 0, 1);
    assert_int_equal(mf_nn_amx_block_count() - n0, 0);
    free(in), free(w), free(o), free(pk), free(sc);
    rng_state = 0x6a09e667f3bcc909ull;
    const mf_nn_conv_shape direct = {1, 16, 16, 96, 16, 16, 40, 1, 1, 1, 1, 1, 1, 0, 0, MF_NN_ACT_NONE, 0};
    const mf_nn_conv_shape deep = {1, 13, 11, 600, 13, 11, 33, 1, 1, 1, 1, 1, 1, 0, 0, MF_NN_ACT_RELU, 0};
    const mf_nn_conv_shape wino = {1, 24, 22, 64, 24, 22, 64, 3, 3, 1, 1, 1, 1, 1, 1, MF_NN_ACT_NONE, 0};
    const mf_nn_conv_shape shallow = {1, 16, 16, 32, 16, 16, 64, 1, 1, 1, 1, 1, 1, 0, 0, MF_NN_ACT_NONE, 0};
    const mf_nn_conv_shape narrow = {1, 16, 16, 96, 16, 16, 16, 1, 1, 1, 1, 1, 1, 0, 0, MF_NN_ACT_NONE, 0};
    const mf_nn_conv_shape few = {1, 7, 7, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, MF_NN_ACT_NONE, 0};
    amx_case(&direct, 1);
    amx_case(&deep, 1);
    amx_case(&wino, 1);
    amx_case(&shallow, 0); /* K = 32 */
    amx_case(&narrow, 0);  /* N = 16 */
    amx_case(&few, 0);     /* M = 49: arcface's 7x7 512 -> 512 */
}

static void test_dw_avx512_bitexact(void **state) {
    (void)state;
    if (!mf_nn_gemm_avx512_usable()) skip();
    static const int cs[] = {1, 7, 8, 13, 16, 17, 24, 32, 40, 64, 72}, iws[] = {5, 12, 21, 38};
    rng_state = 0x853c49e6748fea9bull;
    for (int ci = 0; ci < 11; ci++)
        for (int k = 3; k <= 5; k += 2)
            for (int st = 1; st <= 2; st++)
                for (int wi = 0; wi < 4; wi++)
                    for (int with_res = 0; with_res < 2; with_res++)
                        for (int act = MF_NN_ACT_NONE; act <= MF_NN_ACT_PRELU; act++)
                            dw_wide_case(cs[ci], k, st, iws[wi], with_res, act);
}

/* The AVX-512 Winograd transforms (winograd_avx512.c) give bit-identical results to the AVX2 ones and write the
 * same lanes: every channel count (16-lane groups, masked tails, the input's zero padding up to ldv), tile block
 * (outputs past the edge dropped, padding rows and columns), residual, activation and post epilogue; the guards past
 * each matrix row and past the output stay untouched. */
static void wino_wide_case(int ic, int oc, int ih, int iw, int t0, int nt, int with_res, int act, int post) {
    mf_nn_conv_shape s = {2, ih, iw, ic, ih, iw, oc, 3, 3, 1, 1, 1, 1, 1, 1, act, post};
    const int th = (s.oh + 1) / 2, tw = (s.ow + 1) / 2, ldv = (ic + 7) / 8 * 8, ldm = (oc + 7) / 8 * 8;
    const size_t vstride = (size_t)nt * ldv + 5, mstride = (size_t)nt * ldm + 3, out_len = (size_t)2 * ih * iw * oc;
    float *in = rand_buf((size_t)2 * ih * iw * ic), *v1 = rand_buf(16 * vstride), *v2 = malloc(16 * vstride * sizeof *v2);
    float *m = rand_buf(16 * mstride), *ep = rand_buf(4 * (size_t)ldm), *res = rand_buf(out_len);
    float *o1 = rand_buf(out_len + 7), *o2 = malloc((out_len + 7) * sizeof *o2);
    assert_non_null(v2), assert_non_null(o2);
    memcpy(v2, v1, 16 * vstride * sizeof *v2), memcpy(o2, o1, (out_len + 7) * sizeof *o2);
    mf_nn_wino_io w = {&s, t0, nt, th, tw, in, v1, ldv, vstride, m, ldm, mstride, ep, ep + ldm, ep + 2 * ldm,
                       ep + 3 * ldm, with_res ? res : NULL, o1};
    mf_nn_wino_input_avx2_ymm(&w);
    mf_nn_wino_output_avx2_ymm(&w);
    w.v = v2, w.out = o2;
    mf_nn_wino_input_avx512(&w);
    mf_nn_wino_output_avx512(&w);
    if (memcmp(v1, v2, 16 * vstride * sizeof *v1) != 0)
        fail_msg("ic %d %dx%d tiles %d+%d: AVX-512 input transform differs from AVX2", ic, ih, iw, t0, nt);
    if (memcmp(o1, o2, (out_len + 7) * sizeof *o1) != 0)
        fail_msg("oc %d %dx%d tiles %d+%d res %d act %d post %d: AVX-512 output transform differs from AVX2", oc, ih, iw,
                 t0, nt, with_res, act, post);
    free(in), free(v1), free(v2), free(m), free(ep), free(res), free(o1), free(o2);
}

static void test_wino_avx512_bitexact(void **state) {
    (void)state;
    if (!mf_nn_gemm_avx512_usable()) skip();
    static const int cs[] = {16, 17, 24, 32, 40, 64}, sizes[][2] = {{4, 4}, {5, 7}, {9, 6}};
    rng_state = 0xda942042e4dd58b5ull;
    for (int ci = 0; ci < 6; ci++)
        for (int si = 0; si < 3; si++) {
            const int ih = sizes[si][0], iw = sizes[si][1], per = ((ih + 1) / 2) * ((iw + 1) / 2);
            for (int blk = 0; blk < 2; blk++) /* the first tiles of item 0; the last of item 0 and the first of 1 */
                for (int with_res = 0; with_res < 2; with_res++)
                    for (int act = MF_NN_ACT_NONE; act <= MF_NN_ACT_PRELU; act++)
                        for (int post = 0; post < 2; post++)
                            wino_wide_case(cs[ci], cs[(ci + 1 + si) % 6], ih, iw, blk ? per - 2 : 0, blk ? 4 : per,
                                           with_res, act, post);
        }
}

/* 1x1 stride-1 convs need no scratch; the others need a bounded per-thread slice (Winograd: two blocks of tiles
 * that fit L2, 512 KiB). */
static void test_scratch_sizes(void **state) {
    (void)state;
    mf_nn_conv_shape s1 = {1, 64, 64, 32, 64, 64, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
    assert_int_equal(mf_nn_conv2d_scratch_size(&s1, MF_NN_ISA_AVX2, 2), 0);
    mf_nn_conv_shape s3 = {1, 64, 64, 512, 64, 64, 512, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0};
    s3.oh = s3.ow = 32;
    size_t one = mf_nn_conv2d_scratch_size(&s3, MF_NN_ISA_AVX2, 1);
    assert_true(one > 0 && one <= (size_t)MF_NN_GEMM_MC * MF_NN_GEMM_KC);
    assert_int_equal(mf_nn_conv2d_scratch_size(&s3, MF_NN_ISA_AVX2, 3), 3 * one);
    assert_int_equal(mf_nn_dwconv2d_scratch_size(&s3, MF_NN_ISA_AVX2, 2), 0);
    mf_nn_conv_shape w3 = {1, 64, 64, 512, 64, 64, 512, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0};
    for (int nth = 1; nth <= 8; nth++) {
        size_t ws = mf_nn_conv2d_scratch_size(&w3, MF_NN_ISA_AVX2, nth);
        assert_true(ws > 0 && ws <= (size_t)nth * (131072 + 16 * 2 * 512 * 6)); /* at least one 6-tile block */
    }
}

/* The Winograd path must really be exercised by the cases above (a threshold change would silently skip it). */
static void test_winograd_coverage(void **state) {
    (void)state;
    if (!have_avx2()) skip();
    int n = 0;
    for (int i = 0; i < ncases; i++) {
        const kcase *k = &cases[i];
        mf_nn_conv_shape s = {k->n,  k->ih, k->iw, k->ic, k->oh,    k->ow,    k->oc,         k->kh,
                              k->kw, k->sh, k->sw, k->dh, k->dw, k->pad_t, k->pad_l, MF_NN_ACT_NONE, 0};
        if (k->kind == KIND_CONV && mf_nn_conv2d_uses_winograd(&s, MF_NN_ISA_AVX2)) n++;
        if (k->kind == KIND_CONV) assert_false(mf_nn_conv2d_uses_winograd(&s, MF_NN_ISA_SCALAR));
    }
    if (n < 8) fail_msg("only %d kernel cases run the Winograd path", n);
}

/* Threads really running at the same time: catches overlapping scratch slices or output parts, which the
 * sequential calls above cannot. */
typedef struct {
    const mf_nn_conv_shape *s;
    int kind;
    mf_nn_isa isa;
    const float *packed, *in, *res;
    float *out, *scratch;
    int ith, nth;
} thread_job;

static void *thread_main(void *p) {
    const thread_job *j = p;
    for (int rep = 0; rep < 50; rep++) {
        if (j->kind == KIND_CONV)
            mf_nn_conv2d_run(j->s, j->isa, j->packed, j->in, j->res, j->out, j->scratch, j->ith, j->nth);
        else if (j->kind == KIND_DW)
            mf_nn_dwconv2d_run(j->s, j->isa, j->packed, j->in, j->res, j->out, j->scratch, j->ith, j->nth);
        else
            mf_nn_deconv2d_run(j->s, j->isa, j->packed, j->in, j->res, j->out, j->scratch, j->ith, j->nth);
    }
    return NULL;
}

static void test_concurrent(void **state) {
    (void)state;
    const struct {
        int kind;
        mf_nn_conv_shape s;
    } cs[] = {
        {KIND_CONV, {1, 20, 19, 40, 20, 19, 37, 3, 3, 1, 1, 1, 1, 1, 1, MF_NN_ACT_RELU, 1}}, /* im2col, K blocks, post */
        {KIND_CONV, {1, 24, 24, 48, 24, 24, 24, 1, 1, 1, 1, 1, 1, 0, 0, MF_NN_ACT_PRELU, 0}}, /* direct */
        {KIND_CONV, {1, 30, 29, 32, 28, 27, 40, 3, 3, 1, 1, 1, 1, 0, 0, MF_NN_ACT_RELU, 1}},  /* Winograd */
        {KIND_CONV, {1, 1, 1, 600, 1, 1, 100, 1, 1, 1, 1, 1, 1, 0, 0, MF_NN_ACT_NONE, 0}},    /* N split */
        {KIND_DW, {1, 21, 22, 29, 21, 22, 29, 3, 3, 1, 1, 1, 1, 1, 1, MF_NN_ACT_RELU6, 0}},
        {KIND_DECONV, {1, 8, 8, 20, 16, 16, 12, 2, 2, 2, 2, 1, 1, 0, 0, MF_NN_ACT_NONE, 0}},
    };
    rng_state = 77;
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
        const mf_nn_conv_shape *s = &cs[ci].s;
        const int kind = cs[ci].kind;
        size_t in_len = (size_t)s->n * s->ih * s->iw * s->ic, out_len = (size_t)s->n * s->oh * s->ow * s->oc;
        size_t w_len = (size_t)s->kh * s->kw * (kind == KIND_DW ? (size_t)s->oc : (size_t)s->ic * s->oc);
        float *in = rand_buf(in_len), *w = rand_buf(w_len), *bias = rand_buf((size_t)s->oc);
        float *alpha = rand_buf((size_t)s->oc), *res = rand_buf(out_len), *post = rand_buf(2 * (size_t)s->oc);
        float *want = malloc(out_len * sizeof *want), *got = malloc(out_len * sizeof *got);
        assert_true(want && got);
        if (kind == KIND_CONV) mf_nn_conv2d_ref(s, in, w, bias, alpha, post, res, want);
        if (kind == KIND_DW) mf_nn_dwconv2d_ref(s, in, w, bias, alpha, res, want);
        if (kind == KIND_DECONV) mf_nn_deconv2d_ref(s, in, w, bias, alpha, res, want);
        mf_nn_isa isa = mf_nn_isa_best();
        size_t ps = kind == KIND_CONV ? mf_nn_conv2d_packed_size(s, isa)
                    : kind == KIND_DW ? mf_nn_dwconv2d_packed_size(s, isa)
                                      : mf_nn_deconv2d_packed_size(s, isa);
        float *packed = aligned_buf(ps);
        if (kind == KIND_CONV) mf_nn_conv2d_pack(s, isa, w, bias, alpha, post, packed);
        if (kind == KIND_DW) mf_nn_dwconv2d_pack(s, isa, w, bias, alpha, packed);
        if (kind == KIND_DECONV) mf_nn_deconv2d_pack(s, isa, w, bias, alpha, packed);
        for (int nth = 2; nth <= 3; nth++) {
            size_t ss = kind == KIND_CONV ? mf_nn_conv2d_scratch_size(s, isa, nth)
                        : kind == KIND_DW ? mf_nn_dwconv2d_scratch_size(s, isa, nth)
                                          : mf_nn_deconv2d_scratch_size(s, isa, nth);
            float *scratch = aligned_buf(ss);
            pthread_t th[3];
            thread_job jobs[3];
            for (int t = 0; t < nth; t++) {
                jobs[t] = (thread_job){s, kind, isa, packed, in, res, got, scratch, t, nth};
                assert_int_equal(pthread_create(&th[t], NULL, thread_main, &jobs[t]), 0);
            }
            for (int t = 0; t < nth; t++)
                pthread_join(th[t], NULL);
            double maxref = 1.0, maxerr = 0.0;
            for (size_t i = 0; i < out_len; i++) {
                if (fabs(want[i]) > maxref) maxref = fabs(want[i]);
                double e = fabs((double)got[i] - want[i]);
                if (!(e <= maxerr)) maxerr = e;
            }
            if (!(maxerr <= 1e-5 * maxref)) fail_msg("concurrent case %zu nth=%d: max err %g", ci, nth, maxerr);
            free(scratch);
        }
        free(packed);
        free(got);
        free(want);
        free(post);
        free(res);
        free(alpha);
        free(bias);
        free(w);
        free(in);
    }
}

/* ---- the pool's idle workers sleep ---- */

typedef struct {
    _Atomic int calls;
    _Atomic int seen_nth;
} pool_probe;

static void pool_probe_fn(void *ctx, int ith, int nth) {
    pool_probe *p = ctx;
    (void)ith;
    p->calls++;
    p->seen_nth = nth;
}

/* ith 1 works (sleeps) 100 ms: the caller, done at once, waits for it */
static void pool_slow_worker_fn(void *ctx, int ith, int nth) {
    pool_probe_fn(ctx, ith, nth);
    if (ith == 1) {
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

static double cpu_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* After a run, a pool's worker spins only briefly and then sleeps (src/nn/pool.c): over 200 ms of the caller's
 * sleep the process may use at most 10 ms of CPU (this one: 0.04-0.16 ms). The worker that sched_yield()ed 200,000
 * times before sleeping used 35-43 ms of it here. A later run still reaches every thread (the sleeping worker
 * wakes). The caller waiting 100 ms for a worker's share sleeps too (at most 10 ms of CPU; a caller that yields
 * until the worker is done uses most of the 100 ms). */
static void test_pool_idle_sleeps(void **state) {
    (void)state;
    mf_nn_pool_t *pool = NULL;
    assert_int_equal(mf_nn_pool_create(2, &pool), MF_OK);
    pool_probe p = {0};
    for (int round = 0; round < 3; round++) {
        mf_nn_pool_run(pool, pool_probe_fn, &p);
        assert_int_equal(p.calls, 2 * (round + 1));
        assert_int_equal(p.seen_nth, 2);
        double c0 = cpu_ms();
        struct timespec nap = {0, 200 * 1000 * 1000};
        nanosleep(&nap, NULL);
        double used = cpu_ms() - c0;
        if (used > 10) fail_msg("round %d: the idle pool used %.1f ms of CPU in 200 ms", round, used);
    }
    double c0 = cpu_ms();
    mf_nn_pool_run(pool, pool_slow_worker_fn, &p);
    double used = cpu_ms() - c0;
    assert_int_equal(p.calls, 8);
    if (used > 10) fail_msg("the caller waiting 100 ms for its worker used %.1f ms of CPU", used);
    mf_nn_pool_free(pool);
}

int main(void) {
    make_cases();
    struct CMUnitTest tests[MAX_CASES + 9];
    int nt = 0;
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_winograd_coverage);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_isa_best);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_gemm_avx512_bitexact);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_gemm_pair_bitexact);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_dw_avx512_bitexact);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_amx);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_wino_avx512_bitexact);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_scratch_sizes);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_concurrent);
    tests[nt++] = (struct CMUnitTest)cmocka_unit_test(test_pool_idle_sleeps);
    for (int i = 0; i < ncases; i++)
        tests[nt++] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL, &cases[i]};
    return _cmocka_run_group_tests("nn_kernels", tests, (size_t)nt, NULL, NULL);
}
