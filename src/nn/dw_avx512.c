/* AVX-512 depthwise interior (channel multiplier 1, kernel 3 or 5 wide, stride 1 or 2, no dilation): the pixels
 * whose taps all lie inside the input row, 16 channels per register. Each output lane gets the same fused
 * multiply-adds in the same order as the AVX2 kernel's (conv_avx2.c, dw_pix4_reuse: the bias, then per kernel row the
 * input columns left to right, each feeding every pixel whose tap it is) and the same epilogue (residual, activation),
 * so the results are bit-identical; tests/test_nn_kernels.c compares the two. The functions carry their own target
 * attribute (no per-file flags); mf_nn_dw_row_avx2 calls them only after mf_nn_gemm_avx512_usable(). */
#include "nn/kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#define INLINE512 static inline __attribute__((always_inline, target("avx512f,avx2,fma")))
#define NOINLINE512 static __attribute__((noinline, target("avx512f,avx2,fma")))

/* NP pixels from x, stride SW, kernel width KW; 16 channels from c0, lanes of km only (the padded weights and bias
 * rows hold a multiple of 8 channels: the tail group's loads are masked too). */
INLINE512 void dw16(const mf_nn_dw_row *r, int x, int c0, const int KW, const int SW, const int NP, __mmask16 km) {
    const mf_nn_conv_shape *s = r->s;
    const size_t C = (size_t)s->oc, cpad = (size_t)r->cpad;
    __m512 acc[8], w[5];
    const __m512 b = _mm512_maskz_loadu_ps(km, r->bias + c0);
#pragma GCC unroll 8
    for (int p = 0; p < NP; p++)
        acc[p] = b;
    const float *row = r->in + ((size_t)(r->iy0 + r->ky_lo * s->dh) * s->iw + (size_t)(x * SW - s->pad_l)) * C + c0;
    const float *wrow = r->w + (size_t)r->ky_lo * KW * cpad + c0;
    const size_t row_step = (size_t)s->dh * s->iw * C;
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
#pragma GCC unroll 5
        for (int kx = 0; kx < KW; kx++)
            w[kx] = _mm512_maskz_loadu_ps(km, wrow + (size_t)kx * cpad);
        const float *ip = row;
#pragma GCC unroll 24
        for (int j = 0; j < (NP - 1) * SW + KW; j++) {
            const __m512 v = _mm512_maskz_loadu_ps(km, ip);
            ip += C;
#pragma GCC unroll 8
            for (int p = 0; p < NP; p++) {
                const int kx = j - SW * p;
                if (kx >= 0 && kx < KW) acc[p] = _mm512_fmadd_ps(v, w[kx < 0 ? 0 : kx], acc[p]);
            }
        }
        row += row_step;
        wrow += KW * cpad;
    }
    /* the epilogue of dw_store4: residual, activation (ReLU as min(max(v, 0), inf)), store */
    const __m512 zero = _mm512_setzero_ps();
    const int act = s->act;
    const __m512 al = act == MF_NN_ACT_PRELU ? _mm512_maskz_loadu_ps(km, r->alpha + c0) : zero;
    const __m512 hi = _mm512_set1_ps(act == MF_NN_ACT_RELU6 ? 6.0f : __builtin_inff());
    float *op = r->out + (size_t)x * C + c0;
#pragma GCC unroll 8
    for (int p = 0; p < NP; p++) {
        __m512 v = acc[p];
        if (r->res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(km, r->res + ((size_t)x + (size_t)p) * C + c0));
        if (act == MF_NN_ACT_PRELU)
            v = _mm512_fmadd_ps(al, _mm512_min_ps(v, zero), _mm512_max_ps(v, zero));
        else if (act != MF_NN_ACT_NONE)
            v = _mm512_min_ps(_mm512_max_ps(v, zero), hi);
        _mm512_mask_storeu_ps(op + (size_t)p * C, km, v);
    }
}

/* Pixels x0..x1 (x1 - x0 a multiple of 4): blocks of 8 pixels, then one of 4; every 16-channel group per block. */
INLINE512 void dw_span(const mf_nn_dw_row *r, int x0, int x1, const int KW, const int SW) {
    const int C = r->s->oc;
    const __mmask16 tail = (__mmask16)((1u << (C & 15)) - 1u);
    int x = x0;
    for (; x + 8 <= x1; x += 8) {
        int c = 0;
        for (; c + 16 <= C; c += 16)
            dw16(r, x, c, KW, SW, 8, (__mmask16)0xFFFF);
        if (c < C) dw16(r, x, c, KW, SW, 8, tail);
    }
    for (; x + 4 <= x1; x += 4) {
        int c = 0;
        for (; c + 16 <= C; c += 16)
            dw16(r, x, c, KW, SW, 4, (__mmask16)0xFFFF);
        if (c < C) dw16(r, x, c, KW, SW, 4, tail);
    }
}

NOINLINE512 void span_k3s1(const mf_nn_dw_row *r, int x0, int x1) { dw_span(r, x0, x1, 3, 1); }
NOINLINE512 void span_k5s1(const mf_nn_dw_row *r, int x0, int x1) { dw_span(r, x0, x1, 5, 1); }
NOINLINE512 void span_k3s2(const mf_nn_dw_row *r, int x0, int x1) { dw_span(r, x0, x1, 3, 2); }
NOINLINE512 void span_k5s2(const mf_nn_dw_row *r, int x0, int x1) { dw_span(r, x0, x1, 5, 2); }

int mf_nn_dw_span_avx512(const mf_nn_dw_row *r, int x0, int x1) {
    const mf_nn_conv_shape *s = r->s;
    if (s->dw != 1 || (x1 - x0) % 4) return 0;
    switch (s->sw * 10 + s->kw) {
    case 13: span_k3s1(r, x0, x1); return 1;
    case 15: span_k5s1(r, x0, x1); return 1;
    case 23: span_k3s2(r, x0, x1); return 1;
    case 25: span_k5s2(r, x0, x1); return 1;
    default: return 0;
    }
}

#else

#include "mfmc/core.h"

int mf_nn_dw_span_avx512(const mf_nn_dw_row *r, int x0, int x1) {
    (void)r, (void)x0, (void)x1;
    MF_ASSERT(!"AVX-512 kernel called on a CPU without it");
    return 0;
}

#endif
