/* AVX-512 GEMM micro-kernel for 16-column weight panels (nrp == 16): one 16-lane register holds a whole panel row,
 * so a 12 x 16 tile (12 accumulators, 1 weight vector, broadcast operands) does the work of two AVX2 6 x 16 tiles
 * per k step with the same instruction count. Every output element is accumulated in the same order with the same
 * fused multiply-adds and the same epilogue as the AVX2 kernel (conv_avx2.c), so the results are bit-identical;
 * tests/test_nn_kernels.c compares the two. The functions carry their own target attribute (no per-file flags);
 * mf_nn_gemm_block_avx2 calls them only after a runtime check (mf_nn_gemm_avx512_usable). */
#include "nn/kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include "nn/avx512_inline.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define T512 __attribute__((target("avx512f,avx2,fma")))
#define INLINE512 static inline __attribute__((always_inline, target("avx512f,avx2,fma")))

/* MR rows x 16 columns; `nr` valid columns (masked loads and stores of the rest). */
INLINE512 void tile16(const mf_nn_gemm_block *g, const int MR, const float *a, float *c, const float *res) {
    const size_t ldc = g->ldc, lda = g->lda;
    const __mmask16 km = g->nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << g->nr) - 1u);
    __m512 c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = c10 = c11 = _mm512_setzero_ps();
    if (g->bias) {
        const __m512 b = _mm512_loadu_ps(g->bias);
        c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = c10 = c11 = b;
        if (res) { /* residual folded into the first k block: out may alias the residual */
#define RES(i)                                                                                                         \
    if (MR > i) c##i = _mm512_add_ps(c##i, _mm512_maskz_loadu_ps(km, res + i * ldc));
            RES(0) RES(1) RES(2) RES(3) RES(4) RES(5) RES(6) RES(7) RES(8) RES(9) RES(10) RES(11)
#undef RES
        }
    } else {
#define INIT(i)                                                                                                        \
    if (MR > i) c##i = _mm512_maskz_loadu_ps(km, c + i * ldc);
        INIT(0) INIT(1) INIT(2) INIT(3) INIT(4) INIT(5) INIT(6) INIT(7) INIT(8) INIT(9) INIT(10) INIT(11)
#undef INIT
    }
    const float *b = g->b;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda, *a5 = a + 5 * lda,
                *a6 = a + 6 * lda, *a7 = a + 7 * lda, *a8 = a + 8 * lda, *a9 = a + 9 * lda, *a10 = a + 10 * lda,
                *a11 = a + 11 * lda;
    const int kc = g->kc;
    for (int k = 0; k < kc; k++) {
        const __m512 bv = _mm512_loadu_ps(b);
        b += 16;
#define ROW(i)                                                                                                         \
    if (MR > i) c##i = _mm512_fmadd_ps(_mm512_set1_ps(a##i[k]), bv, c##i);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11)
#undef ROW
    }
    const int last = g->last, act = g->act;
    const float *post = g->post;
    __m512 ps = _mm512_setzero_ps(), pt = ps;
    if (last && post) ps = _mm512_loadu_ps(post), pt = _mm512_loadu_ps(post + 16);
#define FIN(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        if (last) {                                                                                                    \
            c##i = mf_nn_act16(c##i, act, g->alpha);                                                                   \
            if (post) c##i = _mm512_fmadd_ps(c##i, ps, pt);                                                            \
        }                                                                                                              \
        _mm512_mask_storeu_ps(c + i * ldc, km, c##i);                                                                  \
    }
    FIN(0) FIN(1) FIN(2) FIN(3) FIN(4) FIN(5) FIN(6) FIN(7) FIN(8) FIN(9) FIN(10) FIN(11)
#undef FIN
}

T512 void mf_nn_gemm_block_avx512(const mf_nn_gemm_block *g) {
    for (int i = 0; i < g->m; i += 12) {
        const float *a = g->a + (size_t)i * g->lda;
        float *c = g->c + (size_t)i * g->ldc;
        const float *res = g->res ? g->res + (size_t)i * g->ldc : NULL;
        switch (g->m - i) {
        case 1: tile16(g, 1, a, c, res); break;
        case 2: tile16(g, 2, a, c, res); break;
        case 3: tile16(g, 3, a, c, res); break;
        case 4: tile16(g, 4, a, c, res); break;
        case 5: tile16(g, 5, a, c, res); break;
        case 6: tile16(g, 6, a, c, res); break;
        case 7: tile16(g, 7, a, c, res); break;
        case 8: tile16(g, 8, a, c, res); break;
        case 9: tile16(g, 9, a, c, res); break;
        case 10: tile16(g, 10, a, c, res); break;
        case 11: tile16(g, 11, a, c, res); break;
        default: tile16(g, 12, a, c, res); break;
        }
    }
}

/* MR rows x 32 columns: two adjacent 16-column panels at once (g0 whole, g1 with g1->nr valid columns). Each k
 * step loads the two weight vectors and broadcasts each row's operand once for both panels, so a tile does 2 MR
 * fused multiply-adds per MR + 2 loads where tile16 does MR per MR + 1 (the loads, not the FMA units, bounded
 * tile16). Every output element still gets the same accumulation order and epilogue: bit-identical to tile16. */
INLINE512 void tile32(const mf_nn_gemm_block *g0, const mf_nn_gemm_block *g1, const int MR, size_t r0) {
    const size_t ldc = g0->ldc, lda = g0->lda;
    const __mmask16 k1 = g1->nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << g1->nr) - 1u);
    const float *a = g0->a + r0 * lda;
    float *c0p = g0->c + r0 * ldc, *c1p = g1->c + r0 * ldc;
    __m512 c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c010, c011;
    __m512 c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c110, c111;
    if (g0->bias) {
        const __m512 b0 = _mm512_loadu_ps(g0->bias), b1 = _mm512_loadu_ps(g1->bias);
        c00 = c01 = c02 = c03 = c04 = c05 = c06 = c07 = c08 = c09 = c010 = c011 = b0;
        c10 = c11 = c12 = c13 = c14 = c15 = c16 = c17 = c18 = c19 = c110 = c111 = b1;
        if (g0->res) { /* residual folded into the first k block: out may alias the residual */
            const float *r0p = g0->res + r0 * ldc, *r1p = g1->res + r0 * ldc;
#define RES(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        c0##i = _mm512_add_ps(c0##i, _mm512_loadu_ps(r0p + i * ldc));                                                  \
        c1##i = _mm512_add_ps(c1##i, _mm512_maskz_loadu_ps(k1, r1p + i * ldc));                                       \
    }
            RES(0) RES(1) RES(2) RES(3) RES(4) RES(5) RES(6) RES(7) RES(8) RES(9) RES(10) RES(11)
#undef RES
        }
    } else {
        c00 = c01 = c02 = c03 = c04 = c05 = c06 = c07 = c08 = c09 = c010 = c011 = _mm512_setzero_ps();
        c10 = c11 = c12 = c13 = c14 = c15 = c16 = c17 = c18 = c19 = c110 = c111 = c00;
#define INIT(i)                                                                                                        \
    if (MR > i) {                                                                                                      \
        c0##i = _mm512_loadu_ps(c0p + i * ldc);                                                                        \
        c1##i = _mm512_maskz_loadu_ps(k1, c1p + i * ldc);                                                             \
    }
        INIT(0) INIT(1) INIT(2) INIT(3) INIT(4) INIT(5) INIT(6) INIT(7) INIT(8) INIT(9) INIT(10) INIT(11)
#undef INIT
    }
    const float *b0 = g0->b, *b1 = g1->b;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda, *a5 = a + 5 * lda,
                *a6 = a + 6 * lda, *a7 = a + 7 * lda, *a8 = a + 8 * lda, *a9 = a + 9 * lda, *a10 = a + 10 * lda,
                *a11 = a + 11 * lda;
    const int kc = g0->kc;
    for (int k = 0; k < kc; k++) {
        const __m512 bv0 = _mm512_loadu_ps(b0), bv1 = _mm512_loadu_ps(b1);
        b0 += 16, b1 += 16;
#define ROW(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        const __m512 av = _mm512_set1_ps(a##i[k]);                                                                     \
        c0##i = _mm512_fmadd_ps(av, bv0, c0##i);                                                                       \
        c1##i = _mm512_fmadd_ps(av, bv1, c1##i);                                                                       \
    }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11)
#undef ROW
    }
    const int last = g0->last, act = g0->act;
    const float *post0 = g0->post, *post1 = g1->post;
#define FIN(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        if (last) {                                                                                                    \
            c0##i = mf_nn_act16(c0##i, act, g0->alpha);                                                                \
            c1##i = mf_nn_act16(c1##i, act, g1->alpha);                                                                \
            if (post0) {                                                                                               \
                c0##i = _mm512_fmadd_ps(c0##i, _mm512_loadu_ps(post0), _mm512_loadu_ps(post0 + 16));                   \
                c1##i = _mm512_fmadd_ps(c1##i, _mm512_loadu_ps(post1), _mm512_loadu_ps(post1 + 16));                   \
            }                                                                                                          \
        }                                                                                                              \
        _mm512_storeu_ps(c0p + i * ldc, c0##i);                                                                        \
        _mm512_mask_storeu_ps(c1p + i * ldc, k1, c1##i);                                                               \
    }
    FIN(0) FIN(1) FIN(2) FIN(3) FIN(4) FIN(5) FIN(6) FIN(7) FIN(8) FIN(9) FIN(10) FIN(11)
#undef FIN
}

T512 void mf_nn_gemm_pair_avx512(const mf_nn_gemm_block *g0, const mf_nn_gemm_block *g1) {
    for (int i = 0; i < g0->m; i += 12) {
        switch (g0->m - i) {
        case 1: tile32(g0, g1, 1, (size_t)i); break;
        case 2: tile32(g0, g1, 2, (size_t)i); break;
        case 3: tile32(g0, g1, 3, (size_t)i); break;
        case 4: tile32(g0, g1, 4, (size_t)i); break;
        case 5: tile32(g0, g1, 5, (size_t)i); break;
        case 6: tile32(g0, g1, 6, (size_t)i); break;
        case 7: tile32(g0, g1, 7, (size_t)i); break;
        case 8: tile32(g0, g1, 8, (size_t)i); break;
        case 9: tile32(g0, g1, 9, (size_t)i); break;
        case 10: tile32(g0, g1, 10, (size_t)i); break;
        case 11: tile32(g0, g1, 11, (size_t)i); break;
        default: tile32(g0, g1, 12, (size_t)i); break;
        }
    }
}

int mf_nn_gemm_avx512_usable(void) {
    /* 0 unknown, 1 no, 2 yes; computed once (cpuid and the environment do not change while the process runs) */
    static int state;
    int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (!s) {
        const char *e = getenv("MFMC_ISA");
        __builtin_cpu_init();
        s = (!e || strcmp(e, "avx2") != 0) && __builtin_cpu_supports("avx512f") ? 2 : 1;
        __atomic_store_n(&state, s, __ATOMIC_RELAXED);
    }
    return s == 2;
}

#else

#include "mfmc/core.h"

void mf_nn_gemm_block_avx512(const mf_nn_gemm_block *g) {
    (void)g;
    MF_ASSERT(!"AVX-512 kernel called on a CPU without it");
}
void mf_nn_gemm_pair_avx512(const mf_nn_gemm_block *g0, const mf_nn_gemm_block *g1) {
    (void)g0, (void)g1;
    MF_ASSERT(!"AVX-512 kernel called on a CPU without it");
}
int mf_nn_gemm_avx512_usable(void) { return 0; }

#endif
