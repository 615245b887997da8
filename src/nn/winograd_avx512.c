/* Winograd F(2x2, 3x3) transforms with 16-lane AVX-512 registers: the AVX2 transforms of winograd_avx2.c (the
 * formulas are there) on 16 channels at a time. Every lane gets the same additions, subtractions and epilogue
 * (bias, residual, activation, post) in the same order, so the results are bit-identical, and the same lanes are
 * written (the transformed input's padding lanes up to ldv as zeros, the output's channels only);
 * tests/test_nn_kernels.c compares the two. The functions carry their own target attribute (no per-file flags);
 * mf_nn_wino_input_avx2 and mf_nn_wino_output_avx2 call them only where mf_nn_gemm_avx512_usable(). */
#include "nn/kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx2,fma")))
#define INLINE512 static inline __attribute__((always_inline, target("avx512f,avx2,fma")))

/* Mask of the first n lanes (0 <= n <= 16). */
INLINE512 __mmask16 first16(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

T512 void mf_nn_wino_input_avx512(const mf_nn_wino_io *w) {
    const mf_nn_conv_shape *s = w->s;
    const int ic = s->ic, ldv = w->ldv;
    const size_t vs = w->vstride;
    for (int i = 0; i < w->nt; i++) {
        int b, oy, ox, colok[4];
        const float *rows[4];
        mf_nn_wino_tile_pos(w, w->t0 + i, &b, &oy, &ox);
        const int ix0 = mf_nn_wino_tile_in(w, b, oy, ox, rows, colok);
        float *v = w->v + (size_t)i * (size_t)ldv;
        for (int c = 0; c < ic; c += 16) {
            /* loads: the channels left; stores: up to the row's padding (ldv, a multiple of 8), as zeros past ic */
            const __mmask16 lk = first16(ic - c), sk = first16(ldv - c);
            __m512 d[4][4];
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                    d[y][x] = rows[y] && colok[x] ? _mm512_maskz_loadu_ps(lk, rows[y] + (size_t)(ix0 + x) * ic + c)
                                                  : _mm512_setzero_ps();
            __m512 r[4][4]; /* B^T d */
            for (int x = 0; x < 4; x++) {
                r[0][x] = _mm512_sub_ps(d[0][x], d[2][x]);
                r[1][x] = _mm512_add_ps(d[1][x], d[2][x]);
                r[2][x] = _mm512_sub_ps(d[2][x], d[1][x]);
                r[3][x] = _mm512_sub_ps(d[1][x], d[3][x]);
            }
            for (int y = 0; y < 4; y++) { /* (B^T d) B */
                float *o = v + (size_t)(4 * y) * vs + c;
                _mm512_mask_storeu_ps(o, sk, _mm512_sub_ps(r[y][0], r[y][2]));
                _mm512_mask_storeu_ps(o + vs, sk, _mm512_add_ps(r[y][1], r[y][2]));
                _mm512_mask_storeu_ps(o + 2 * vs, sk, _mm512_sub_ps(r[y][2], r[y][1]));
                _mm512_mask_storeu_ps(o + 3 * vs, sk, _mm512_sub_ps(r[y][1], r[y][3]));
            }
        }
    }
}

T512 void mf_nn_wino_output_avx512(const mf_nn_wino_io *w) {
    const mf_nn_conv_shape *s = w->s;
    const int oc = s->oc, act = s->act, post = s->post;
    const size_t ldm = (size_t)w->ldm, ms = w->mstride;
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
    for (int i = 0; i < w->nt; i++) {
        int b, oy, ox;
        mf_nn_wino_tile_pos(w, w->t0 + i, &b, &oy, &ox);
        const int ny = s->oh - oy < 2 ? 1 : 2, nx = s->ow - ox < 2 ? 1 : 2;
        const float *m = w->m + (size_t)i * ldm;
        const size_t o00 = (((size_t)b * s->oh + (size_t)oy) * s->ow + (size_t)ox) * oc;
        const size_t orow = (size_t)s->ow * oc;
        for (int c = 0; c < oc; c += 16) {
            const __mmask16 k = first16(oc - c);
            __m512 t[2][4]; /* A^T M */
            for (int x = 0; x < 4; x++) {
                const __m512 m0 = _mm512_maskz_loadu_ps(k, m + (size_t)x * ms + c);
                const __m512 m1 = _mm512_maskz_loadu_ps(k, m + (size_t)(4 + x) * ms + c);
                const __m512 m2 = _mm512_maskz_loadu_ps(k, m + (size_t)(8 + x) * ms + c);
                const __m512 m3 = _mm512_maskz_loadu_ps(k, m + (size_t)(12 + x) * ms + c);
                t[0][x] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                t[1][x] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
            }
            const __m512 bias = _mm512_maskz_loadu_ps(k, w->bias + c);
            const __m512 sc = _mm512_maskz_loadu_ps(k, w->scale + c), sh = _mm512_maskz_loadu_ps(k, w->shift + c);
            const __m512 al = _mm512_maskz_loadu_ps(k, w->alpha + c);
            for (int y = 0; y < ny; y++) {
                __m512 yv[2];
                yv[0] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[y][0], t[y][1]), t[y][2]), bias);
                yv[1] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(t[y][1], t[y][2]), t[y][3]), bias);
                for (int x = 0; x < nx; x++) {
                    const size_t off = o00 + (size_t)y * orow + (size_t)x * oc + c;
                    __m512 v = yv[x];
                    if (w->res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, w->res + off));
                    switch (act) { /* avx2_inline.h's act8 */
                    case MF_NN_ACT_RELU: v = _mm512_max_ps(v, zero); break;
                    case MF_NN_ACT_RELU6: v = _mm512_min_ps(_mm512_max_ps(v, zero), six); break;
                    case MF_NN_ACT_PRELU: v = _mm512_fmadd_ps(al, _mm512_min_ps(v, zero), _mm512_max_ps(v, zero)); break;
                    default: break;
                    }
                    if (post) v = _mm512_fmadd_ps(v, sc, sh);
                    _mm512_mask_storeu_ps(w->out + off, k, v);
                }
            }
        }
    }
}

#else

#include "mfmc/core.h"

void mf_nn_wino_input_avx512(const mf_nn_wino_io *w) {
    (void)w;
    MF_ASSERT(!"AVX-512 kernel called on a CPU without it");
}
void mf_nn_wino_output_avx512(const mf_nn_wino_io *w) {
    (void)w;
    MF_ASSERT(!"AVX-512 kernel called on a CPU without it");
}

#endif
