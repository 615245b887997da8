/* Winograd F(2x2, 3x3) transforms, AVX2 (compiled with -mavx2 -mfma; called only after runtime dispatch).
 * The driver (blocking, weight transform, the 16 GEMMs) is in conv.c; the contract in kernels.h.
 *
 * Input tile d (4x4, one channel):  V = B^T d B,  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 * Output tile (2x2) from M (4x4):    Y = A^T M A,  A^T = [1 1 1 0; 0 1 -1 -1]
 * Channels are the vector lanes (8 at a time, the tail masked). */
#include "nn/kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include "nn/avx2_inline.h"

void mf_nn_wino_input_avx2_ymm(const mf_nn_wino_io *w) {
    const mf_nn_conv_shape *s = w->s;
    const int ic = s->ic;
    const size_t ldv = (size_t)w->ldv, vs = w->vstride;
    for (int i = 0; i < w->nt; i++) {
        int b, oy, ox, colok[4];
        const float *rows[4];
        mf_nn_wino_tile_pos(w, w->t0 + i, &b, &oy, &ox);
        const int ix0 = mf_nn_wino_tile_in(w, b, oy, ox, rows, colok);
        float *v = w->v + (size_t)i * ldv;
        for (int c = 0; c < ic; c += 8) {
            const int nc = ic - c < 8 ? ic - c : 8;
            const __m256i mk = mask_first(nc);
            __m256 d[4][4];
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                    d[y][x] = rows[y] && colok[x] ? load_cols(rows[y] + (size_t)(ix0 + x) * ic + c, nc == 8, mk)
                                                  : _mm256_setzero_ps();
            __m256 r[4][4]; /* B^T d */
            for (int x = 0; x < 4; x++) {
                r[0][x] = _mm256_sub_ps(d[0][x], d[2][x]);
                r[1][x] = _mm256_add_ps(d[1][x], d[2][x]);
                r[2][x] = _mm256_sub_ps(d[2][x], d[1][x]);
                r[3][x] = _mm256_sub_ps(d[1][x], d[3][x]);
            }
            for (int y = 0; y < 4; y++) { /* (B^T d) B; lanes past nc are zero, the row is padded to ldv */
                float *o = v + (size_t)(4 * y) * vs + c;
                _mm256_storeu_ps(o, _mm256_sub_ps(r[y][0], r[y][2]));
                _mm256_storeu_ps(o + vs, _mm256_add_ps(r[y][1], r[y][2]));
                _mm256_storeu_ps(o + 2 * vs, _mm256_sub_ps(r[y][2], r[y][1]));
                _mm256_storeu_ps(o + 3 * vs, _mm256_sub_ps(r[y][1], r[y][3]));
            }
        }
    }
}

void mf_nn_wino_output_avx2_ymm(const mf_nn_wino_io *w) {
    const mf_nn_conv_shape *s = w->s;
    const int oc = s->oc, act = s->act, post = s->post;
    const size_t ldm = (size_t)w->ldm, ms = w->mstride;
    for (int i = 0; i < w->nt; i++) {
        int b, oy, ox;
        mf_nn_wino_tile_pos(w, w->t0 + i, &b, &oy, &ox);
        const int ny = s->oh - oy < 2 ? 1 : 2, nx = s->ow - ox < 2 ? 1 : 2;
        const float *m = w->m + (size_t)i * ldm;
        const size_t o00 = (((size_t)b * s->oh + (size_t)oy) * s->ow + (size_t)ox) * oc;
        const size_t orow = (size_t)s->ow * oc;
        for (int c = 0; c < oc; c += 8) {
            const int nc = oc - c < 8 ? oc - c : 8;
            const __m256i mk = mask_first(nc);
            __m256 t[2][4]; /* A^T M */
            for (int x = 0; x < 4; x++) {
                const __m256 m0 = load_cols(m + (size_t)x * ms + c, nc == 8, mk);
                const __m256 m1 = load_cols(m + (size_t)(4 + x) * ms + c, nc == 8, mk);
                const __m256 m2 = load_cols(m + (size_t)(8 + x) * ms + c, nc == 8, mk);
                const __m256 m3 = load_cols(m + (size_t)(12 + x) * ms + c, nc == 8, mk);
                t[0][x] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
                t[1][x] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
            }
            const __m256 bias = _mm256_loadu_ps(w->bias + c);
            const __m256 sc = _mm256_loadu_ps(w->scale + c), sh = _mm256_loadu_ps(w->shift + c);
            for (int y = 0; y < ny; y++) {
                __m256 yv[2];
                yv[0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(t[y][0], t[y][1]), t[y][2]), bias);
                yv[1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(t[y][1], t[y][2]), t[y][3]), bias);
                for (int x = 0; x < nx; x++) {
                    const size_t off = o00 + (size_t)y * orow + (size_t)x * oc + c;
                    __m256 v = yv[x];
                    if (w->res) v = _mm256_add_ps(v, load_cols(w->res + off, nc == 8, mk));
                    v = act8(v, act, w->alpha + c);
                    if (post) v = _mm256_fmadd_ps(v, sc, sh);
                    store_cols(w->out + off, v, nc == 8, mk);
                }
            }
        }
    }
}

/* 16 channels a register where the CPU has AVX-512 (bit-identical, winograd_avx512.c) */
void mf_nn_wino_input_avx2(const mf_nn_wino_io *w) {
    if (mf_nn_gemm_avx512_usable())
        mf_nn_wino_input_avx512(w);
    else
        mf_nn_wino_input_avx2_ymm(w);
}
void mf_nn_wino_output_avx2(const mf_nn_wino_io *w) {
    if (mf_nn_gemm_avx512_usable())
        mf_nn_wino_output_avx512(w);
    else
        mf_nn_wino_output_avx2_ymm(w);
}

#else /* not x86: never called (see conv_avx2.c); these only satisfy the linker */

#include "mfmc/core.h"

void mf_nn_wino_input_avx2(const mf_nn_wino_io *w) {
    (void)w;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}
void mf_nn_wino_output_avx2(const mf_nn_wino_io *w) {
    (void)w;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}
void mf_nn_wino_input_avx2_ymm(const mf_nn_wino_io *w) {
    (void)w;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}
void mf_nn_wino_output_avx2_ymm(const mf_nn_wino_io *w) {
    (void)w;
    MF_ASSERT(!"AVX2 kernels called on a non-x86 build");
}

#endif
