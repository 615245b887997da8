/* AVX2 + FMA micro-kernels (this file is compiled with -mavx2 -mfma; it is only called after runtime dispatch,
 * see mf_nn_isa_best). GEMM: 6 x 16 register tile (12 accumulators, 2 weight vectors, 1 broadcast) over a packed
 * weight panel; depthwise: 8 channels per vector, 4 output pixels per step in the interior of a row. */
#include "nn/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include "nn/avx2_inline.h"

/* ------------------------------------------------------------------------------------------------------------ */
/* GEMM                                                                                                         */

/* MR rows x NV*8 columns. `nr` valid columns: vector j is full when nr >= 8*(j+1), else masked.
 * The accumulators are named variables, not an array: GCC -O2 would keep an array in memory. */
INLINE void gemm_tile(const mf_nn_gemm_block *g, const int MR, const int NV, const float *a, float *c,
                      const float *res) {
    const size_t ldc = g->ldc, lda = g->lda;
    const int nr = g->nr;
    const int f0 = nr >= 8, f1 = nr >= 16; /* vector 0 / 1 is full */
    const __m256i m0 = mask_first(nr < 8 ? nr : 8), m1 = mask_first(nr > 8 ? nr - 8 : 0);
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
    if (g->bias) {
        __m256 b0 = _mm256_loadu_ps(g->bias), b1 = NV > 1 ? _mm256_loadu_ps(g->bias + 8) : b0;
        c00 = c10 = c20 = c30 = c40 = c50 = b0;
        c01 = c11 = c21 = c31 = c41 = c51 = b1;
        if (res) { /* residual folded into the first k block: out may alias the residual */
#define RES(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        c##i##0 = _mm256_add_ps(c##i##0, load_cols(res + i * ldc, f0, m0));                                            \
        if (NV > 1) c##i##1 = _mm256_add_ps(c##i##1, load_cols(res + i * ldc + 8, f1, m1));                            \
    }
            RES(0) RES(1) RES(2) RES(3) RES(4) RES(5)
#undef RES
        }
    } else {
#define INIT(i)                                                                                                        \
    if (MR > i) {                                                                                                      \
        c##i##0 = load_cols(c + i * ldc, f0, m0);                                                                      \
        if (NV > 1) c##i##1 = load_cols(c + i * ldc + 8, f1, m1);                                                      \
    }
        INIT(0) INIT(1) INIT(2) INIT(3) INIT(4) INIT(5)
#undef INIT
    }

    const float *b = g->b;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda, *a5 = a + 5 * lda;
    const int kc = g->kc;
#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = NV > 1 ? _mm256_loadu_ps(b + 8) : b0;
        b += 8 * NV;
        __m256 av;
#define ROW(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        av = _mm256_broadcast_ss(a##i + k);                                                                            \
        c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                                                                    \
        if (NV > 1) c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);                                                        \
    }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
    }

    const int last = g->last, act = g->act;
    const float *post = g->post;
    __m256 ps0 = _mm256_setzero_ps(), ps1 = ps0, pt0 = ps0, pt1 = ps0;
    if (last && post) {
        ps0 = _mm256_loadu_ps(post);
        pt0 = _mm256_loadu_ps(post + 8 * NV);
        if (NV > 1) {
            ps1 = _mm256_loadu_ps(post + 8);
            pt1 = _mm256_loadu_ps(post + 24);
        }
    }
#define FIN(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        if (last) {                                                                                                    \
            c##i##0 = act8(c##i##0, act, g->alpha);                                                                    \
            if (NV > 1) c##i##1 = act8(c##i##1, act, g->alpha + 8);                                                    \
            if (post) {                                                                                                \
                c##i##0 = _mm256_fmadd_ps(c##i##0, ps0, pt0);                                                          \
                if (NV > 1) c##i##1 = _mm256_fmadd_ps(c##i##1, ps1, pt1);                                              \
            }                                                                                                          \
        }                                                                                                              \
        store_cols(c + i * ldc, c##i##0, f0, m0);                                                                      \
        if (NV > 1) store_cols(c + i * ldc + 8, c##i##1, f1, m1);                                                      \
    }
    FIN(0) FIN(1) FIN(2) FIN(3) FIN(4) FIN(5)
#undef FIN
}

#define TILES(NV)                                                                                                      \
    for (int i = 0; i < g->m; i += 6) {                                                                                \
        const float *a = g->a + (size_t)i * g->lda;                                                                    \
        float *c = g->c + (size_t)i * g->ldc;                                                                          \
        const float *res = g->res ? g->res + (size_t)i * g->ldc : NULL;                                                \
        switch (g->m - i) {                                                                                            \
        case 1: gemm_tile(g, 1, NV, a, c, res); break;                                                                 \
        case 2: gemm_tile(g, 2, NV, a, c, res); break;                                                                 \
        case 3: gemm_tile(g, 3, NV, a, c, res); break;                                                                 \
        case 4: gemm_tile(g, 4, NV, a, c, res); break;                                                                 \
        case 5: gemm_tile(g, 5, NV, a, c, res); break;                                                                 \
        default: gemm_tile(g, 6, NV, a, c, res); break;                                                                \
        }                                                                                                              \
    }

static void gemm_nv2(const mf_nn_gemm_block *g) { TILES(2) }
static void gemm_nv1(const mf_nn_gemm_block *g) { TILES(1) }

void mf_nn_gemm_block_avx2_ymm(const mf_nn_gemm_block *g) {
    if (g->nrp == 16)
        gemm_nv2(g);
    else
        gemm_nv1(g);
}

/* 16-column panels go to the AVX-512 kernel where the CPU has it (bit-identical results, conv_avx512.c) */
void mf_nn_gemm_block_avx2(const mf_nn_gemm_block *g) {
    if (g->nrp == 16 && mf_nn_gemm_avx512_usable())
        mf_nn_gemm_block_avx512(g);
    else
        mf_nn_gemm_block_avx2_ymm(g);
}

/* Two adjacent 16-column panels (kernels.h): one 12 x 32 AVX-512 tile where the CPU has it, else one after the other */
void mf_nn_gemm_pair_avx2(const mf_nn_gemm_block *g0, const mf_nn_gemm_block *g1) {
    if (mf_nn_gemm_avx512_usable()) {
        mf_nn_gemm_pair_avx512(g0, g1);
    } else {
        mf_nn_gemm_block_avx2_ymm(g0);
        mf_nn_gemm_block_avx2_ymm(g1);
    }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Depthwise (channel multiplier 1)                                                                             */

INLINE __m256 load_in(const float *p, int masked, __m256i mk) {
    return masked ? _mm256_maskload_ps(p, mk) : _mm256_loadu_ps(p);
}

INLINE void dw_finish(const mf_nn_dw_row *r, __m256 acc, int x, int c0, int masked, __m256i mk) {
    const int C = r->s->oc;
    if (r->res) acc = _mm256_add_ps(acc, load_in(r->res + (size_t)x * C + c0, masked, mk));
    acc = act8(acc, r->s->act, r->alpha + c0);
    float *o = r->out + (size_t)x * C + c0;
    if (masked)
        store_first(o, mk, acc);
    else
        _mm256_storeu_ps(o, acc);
}

/* One pixel, channel group c0, taps kx in [kx_lo, kx_hi). */
/* One pixel, 4 channel groups from c0 (4 independent accumulators), taps kx in [kx_lo, kx_hi). */
INLINE void dw_pix1x4(const mf_nn_dw_row *r, int x, int kx_lo, int kx_hi, int c0) {
    const mf_nn_conv_shape *s = r->s;
    const size_t C = (size_t)s->oc, cpad = (size_t)r->cpad;
    const int ix0 = x * s->sw - s->pad_l;
    __m256 a0 = _mm256_loadu_ps(r->bias + c0), a1 = _mm256_loadu_ps(r->bias + c0 + 8);
    __m256 a2 = _mm256_loadu_ps(r->bias + c0 + 16), a3 = _mm256_loadu_ps(r->bias + c0 + 24);
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
        const float *ip = r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx_lo * s->dw)) * C + c0;
        const float *wp = r->w + ((size_t)ky * s->kw + kx_lo) * cpad + c0;
        for (int kx = kx_lo; kx < kx_hi; kx++) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(ip), _mm256_loadu_ps(wp), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 8), _mm256_loadu_ps(wp + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 16), _mm256_loadu_ps(wp + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 24), _mm256_loadu_ps(wp + 24), a3);
            ip += (size_t)s->dw * C;
            wp += cpad;
        }
    }
    const __m256i none = mask_first(8);
    dw_finish(r, a0, x, c0, 0, none);
    dw_finish(r, a1, x, c0 + 8, 0, none);
    dw_finish(r, a2, x, c0 + 16, 0, none);
    dw_finish(r, a3, x, c0 + 24, 0, none);
}

/* One pixel, channel group c0, taps kx in [kx_lo, kx_hi). */
INLINE void dw_pix1(const mf_nn_dw_row *r, int x, int kx_lo, int kx_hi, int c0, int masked, __m256i mk) {
    const mf_nn_conv_shape *s = r->s;
    const int C = s->oc;
    const int ix0 = x * s->sw - s->pad_l;
    __m256 acc = _mm256_loadu_ps(r->bias + c0);
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
        const float *ip = r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx_lo * s->dw)) * C + c0;
        const float *wp = r->w + ((size_t)ky * s->kw + kx_lo) * r->cpad + c0;
        for (int kx = kx_lo; kx < kx_hi; kx++) {
            acc = _mm256_fmadd_ps(load_in(ip, masked, mk), _mm256_loadu_ps(wp), acc);
            ip += (size_t)s->dw * C;
            wp += r->cpad;
        }
    }
    dw_finish(r, acc, x, c0, masked, mk);
}

/* Four pixels x..x+3 whose taps all lie inside the input row, NG (1 or 2) channel groups from c0 (NG*4
 * independent accumulators hide the FMA latency). KW: kernel width known at compile time (unrolled), or 0.
 * Written out by hand: GCC -O2 keeps accumulator arrays in memory when the loops are not fully unrolled. */
INLINE void dw_pix4(const mf_nn_dw_row *r, int x, int c0, const int KW, const int NG, int masked, __m256i mk) {
    const mf_nn_conv_shape *s = r->s;
    const int C = s->oc, kw = KW ? KW : s->kw;
    const int ix0 = x * s->sw - s->pad_l;
    const size_t px = (size_t)s->sw * C; /* distance between the inputs of neighbouring outputs */
    const size_t step = (size_t)s->dw * C;
    const size_t cpad = (size_t)r->cpad;
    __m256 b0 = _mm256_loadu_ps(r->bias + c0), b1 = NG > 1 ? _mm256_loadu_ps(r->bias + c0 + 8) : b0;
    __m256 a00 = b0, a01 = b0, a02 = b0, a03 = b0, a10 = b1, a11 = b1, a12 = b1, a13 = b1;
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
        const float *ip = r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)ix0) * C + c0;
        const float *wp = r->w + (size_t)ky * kw * cpad + c0;
#pragma GCC unroll 8
        for (int kx = 0; kx < kw; kx++) {
            __m256 w0 = _mm256_loadu_ps(wp);
            a00 = _mm256_fmadd_ps(load_in(ip, masked, mk), w0, a00);
            a01 = _mm256_fmadd_ps(load_in(ip + px, masked, mk), w0, a01);
            a02 = _mm256_fmadd_ps(load_in(ip + 2 * px, masked, mk), w0, a02);
            a03 = _mm256_fmadd_ps(load_in(ip + 3 * px, masked, mk), w0, a03);
            if (NG > 1) {
                __m256 w1 = _mm256_loadu_ps(wp + 8);
                a10 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 8), w1, a10);
                a11 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + px + 8), w1, a11);
                a12 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 2 * px + 8), w1, a12);
                a13 = _mm256_fmadd_ps(_mm256_loadu_ps(ip + 3 * px + 8), w1, a13);
            }
            ip += step;
            wp += cpad;
        }
    }
    dw_finish(r, a00, x, c0, masked, mk);
    dw_finish(r, a01, x + 1, c0, masked, mk);
    dw_finish(r, a02, x + 2, c0, masked, mk);
    dw_finish(r, a03, x + 3, c0, masked, mk);
    if (NG > 1) {
        dw_finish(r, a10, x, c0 + 8, 0, mk);
        dw_finish(r, a11, x + 1, c0 + 8, 0, mk);
        dw_finish(r, a12, x + 2, c0 + 8, 0, mk);
        dw_finish(r, a13, x + 3, c0 + 8, 0, mk);
    }
}

/* Epilogue of a 4-pixel x NG-group block; the residual and activation branches are taken once per block. */
INLINE void dw_store4(const mf_nn_dw_row *r, __m256 acc[2][8], int x, int c0, const int NP, const int NG, int masked,
                      __m256i mk) {
    const int C = r->s->oc;
    if (r->res) {
        const float *rp = r->res + (size_t)x * C + c0;
#pragma GCC unroll 2
        for (int g = 0; g < NG; g++)
#pragma GCC unroll 8
            for (int p = 0; p < NP; p++)
                acc[g][p] = _mm256_add_ps(acc[g][p], load_in(rp + (size_t)p * C + 8 * g, masked && g == 0, mk));
    }
    const int act = r->s->act;
    if (act != MF_NN_ACT_NONE) {
#pragma GCC unroll 2
        for (int g = 0; g < NG; g++) {
            const __m256 zero = _mm256_setzero_ps();
            if (act == MF_NN_ACT_PRELU) {
                const __m256 al = _mm256_loadu_ps(r->alpha + c0 + 8 * g);
#pragma GCC unroll 8
                for (int p = 0; p < NP; p++)
                    acc[g][p] = _mm256_fmadd_ps(al, _mm256_min_ps(acc[g][p], zero), _mm256_max_ps(acc[g][p], zero));
            } else {
                const __m256 hi = _mm256_set1_ps(act == MF_NN_ACT_RELU6 ? 6.0f : __builtin_inff());
#pragma GCC unroll 8
                for (int p = 0; p < NP; p++)
                    acc[g][p] = _mm256_min_ps(_mm256_max_ps(acc[g][p], zero), hi);
            }
        }
    }
    float *op = r->out + (size_t)x * C + c0;
#pragma GCC unroll 2
    for (int g = 0; g < NG; g++)
#pragma GCC unroll 8
        for (int p = 0; p < NP; p++) {
            if (masked && g == 0)
                store_first(op + (size_t)p * C, mk, acc[g][p]);
            else
                _mm256_storeu_ps(op + (size_t)p * C + 8 * g, acc[g][p]);
        }
}

/* Four pixels x..x+3, stride SW, kernel width KW (both compile-time, no dilation), NG channel groups: each input
 * column of a kernel row is loaded once and feeds every (pixel, tap) pair that reads it, with the KW weights of
 * the row in registers: 3*SW+KW loads for 4*KW FMAs per group and kernel row. */
INLINE void dw_pix4_reuse(const mf_nn_dw_row *r, int x, int c0, const int KW, const int SW, const int NP, const int NG,
                          int masked, __m256i mk) {
    const mf_nn_conv_shape *s = r->s;
    const size_t C = (size_t)s->oc;
    const size_t cpad = (size_t)r->cpad;
    __m256 acc[2][8], w[5];
#pragma GCC unroll 2
    for (int g = 0; g < NG; g++) {
        __m256 b = _mm256_loadu_ps(r->bias + c0 + 8 * g);
#pragma GCC unroll 8
        for (int p = 0; p < NP; p++)
            acc[g][p] = b;
    }
    const float *row = r->in + ((size_t)(r->iy0 + r->ky_lo * s->dh) * s->iw + (size_t)(x * SW - s->pad_l)) * C + c0;
    const float *wrow = r->w + (size_t)r->ky_lo * KW * cpad + c0;
    const size_t row_step = (size_t)s->dh * s->iw * C;
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
#pragma GCC unroll 2
        for (int g = 0; g < NG; g++) {
            const float *wp = wrow + 8 * g;
#pragma GCC unroll 5
            for (int kx = 0; kx < KW; kx++) {
                w[kx] = _mm256_loadu_ps(wp);
                wp += cpad;
            }
            const float *ip = row + 8 * g;
#pragma GCC unroll 24
            for (int j = 0; j < (NP - 1) * SW + KW; j++) {
                __m256 v = load_in(ip, masked && g == 0, mk);
                ip += C;
#pragma GCC unroll 8
                for (int p = 0; p < NP; p++) {
                    const int kx = j - SW * p;
                    if (kx >= 0 && kx < KW) acc[g][p] = _mm256_fmadd_ps(v, w[kx < 0 ? 0 : kx], acc[g][p]);
                }
            }
        }
        row += row_step;
        wrow += KW * cpad;
    }
    dw_store4(r, acc, x, c0, NP, NG, masked, mk);
}

INLINE void dw_interior_reuse(const mf_nn_dw_row *r, int x0, int x1, const int KW, const int SW) {
    const int C = r->s->oc, C8 = C & ~7;
    const __m256i mk = mask_first(C - C8);
    int x = x0;
    /* Stride 1, up to 64 channels: 8 pixels x 8 channels (8 accumulators, more column reuse). With more channels
     * 4 pixels x 16 channels is faster (whole cache lines per pixel); measured on 3x3/5x5 layers of the models. */
    if (SW == 1 && C <= 64)
        for (; x + 8 <= x1; x += 8) {
            for (int c = 0; c < C8; c += 8)
                dw_pix4_reuse(r, x, c, KW, SW, 8, 1, 0, mk);
            if (C8 < C) dw_pix4_reuse(r, x, C8, KW, SW, 8, 1, 1, mk);
        }
    for (; x + 4 <= x1; x += 4) {
        int c = 0;
        for (; c + 16 <= C8; c += 16)
            dw_pix4_reuse(r, x, c, KW, SW, 4, 2, 0, mk);
        if (c < C8) dw_pix4_reuse(r, x, c, KW, SW, 4, 1, 0, mk);
        if (C8 < C) dw_pix4_reuse(r, x, C8, KW, SW, 4, 1, 1, mk);
    }
}

static __attribute__((noinline)) void dw_k3s1(const mf_nn_dw_row *r, int x0, int x1) {
    dw_interior_reuse(r, x0, x1, 3, 1);
}
static __attribute__((noinline)) void dw_k5s1(const mf_nn_dw_row *r, int x0, int x1) {
    dw_interior_reuse(r, x0, x1, 5, 1);
}
static __attribute__((noinline)) void dw_k3s2(const mf_nn_dw_row *r, int x0, int x1) {
    dw_interior_reuse(r, x0, x1, 3, 2);
}
static __attribute__((noinline)) void dw_k5s2(const mf_nn_dw_row *r, int x0, int x1) {
    dw_interior_reuse(r, x0, x1, 5, 2);
}

INLINE void dw_interior(const mf_nn_dw_row *r, int x, const int KW, __m256i mk) {
    const int C = r->s->oc, C8 = C & ~7;
    int c = 0;
    for (; c + 16 <= C8; c += 16)
        dw_pix4(r, x, c, KW, 2, 0, mk);
    if (c < C8) dw_pix4(r, x, c, KW, 1, 0, mk);
    if (C8 < C) dw_pix4(r, x, C8, KW, 1, 1, mk);
}

static void dw_single(const mf_nn_dw_row *r, int x) {
    const mf_nn_conv_shape *s = r->s;
    const int C = s->oc, C8 = C & ~7;
    int kx_lo, kx_hi;
    mf_nn_tap_range(x * s->sw - s->pad_l, s->kw, s->dw, s->iw, &kx_lo, &kx_hi);
    const __m256i all = mask_first(8), mk = mask_first(C - C8);
    int c = 0;
    for (; c + 32 <= C8; c += 32)
        dw_pix1x4(r, x, kx_lo, kx_hi, c);
    for (; c < C8; c += 8)
        dw_pix1(r, x, kx_lo, kx_hi, c, 0, all);
    if (C8 < C) dw_pix1(r, x, kx_lo, kx_hi, C8, 1, mk);
}

static void dw_row(const mf_nn_dw_row *r, int wide) {
    const mf_nn_conv_shape *s = r->s;
    const int C = s->oc, C8 = C & ~7;
    const __m256i mk = mask_first(C - C8);
    int x = 0;
    for (; x < r->x_lo; x++)
        dw_single(r, x);
    const int reuse = s->dw == 1 && (s->sw == 1 || s->sw == 2) ? s->sw * 10 + s->kw : 0;
    const int nb = (r->x_hi - x) / 4 * 4; /* pixels done by 4-pixel blocks */
    /* the 4-pixel blocks with 16-lane registers where the CPU has them (bit-identical, dw_avx512.c) */
    const int wide_done = wide && reuse && nb && mf_nn_dw_span_avx512(r, x, x + nb);
    if (wide_done) x += nb;
    switch (wide_done ? 0 : reuse) {
    case 13: dw_k3s1(r, x, x + nb), x += nb; break;
    case 15: dw_k5s1(r, x, x + nb), x += nb; break;
    case 23: dw_k3s2(r, x, x + nb), x += nb; break;
    case 25: dw_k5s2(r, x, x + nb), x += nb; break;
    }
    switch (s->kw) {
    case 3:
        for (; x + 4 <= r->x_hi; x += 4)
            dw_interior(r, x, 3, mk);
        break;
    case 5:
        for (; x + 4 <= r->x_hi; x += 4)
            dw_interior(r, x, 5, mk);
        break;
    default:
        for (; x + 4 <= r->x_hi; x += 4)
            dw_interior(r, x, 0, mk);
        break;
    }
    for (; x < s->ow; x++)
        dw_single(r, x);
}

void mf_nn_dw_row_avx2_ymm(const mf_nn_dw_row *r) { dw_row(r, 0); }
void mf_nn_dw_row_avx2(const mf_nn_dw_row *r) { dw_row(r, mf_nn_gemm_avx512_usable()); }

#else /* not x86: mf_nn_isa_best() never returns MF_NN_ISA_AVX2 and pack asserts; these only satisfy the linker */

#include "mfmc/core.h"

void mf_nn_gemm_block_avx2(const mf_nn_gemm_block *g) {
    (void)g;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}
void mf_nn_gemm_block_avx2_ymm(const mf_nn_gemm_block *g) {
    (void)g;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}
void mf_nn_dw_row_avx2(const mf_nn_dw_row *r) {
    (void)r;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}
void mf_nn_dw_row_avx2_ymm(const mf_nn_dw_row *r) {
    (void)r;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}

#endif
