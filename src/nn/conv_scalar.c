/* The portable GEMM micro-kernel (any CPU; MFMC_ISA=scalar forces it). */
#include "nn/conv_internal.h"

/* ------------------------------------------------------------------------------------------------------------ */
/* Portable GEMM macro-kernel: 4 x 8 micro-tiles of 4-lane generic vectors (fits 16 SSE/NEON registers);       */
/* a 16-wide panel is done as two 8-column halves.                                                              */

/* Loads / stores columns [col, col+4) of a row clipped to `ncols` valid columns counted from col0. */
static inline v4f load_clip(const float *p, int valid) {
    if (valid >= 4) return v4_load(p);
    float t[4] = {0, 0, 0, 0};
    for (int l = 0; l < valid; l++)
        t[l] = p[l];
    return v4_load(t);
}
static inline void store_clip(float *p, v4f v, int valid) {
    if (valid >= 4) {
        v4_store(p, v);
        return;
    }
    float t[4];
    v4_store(t, v);
    for (int l = 0; l < valid; l++)
        p[l] = t[l];
}

/* Named accumulators (not an array): GCC -O2 keeps arrays indexed in non-unrolled loops in memory. */
static inline __attribute__((always_inline)) void gemm_tile_scalar(const mf_nn_gemm_block *g, const int MR, int col0,
                                                                   int ncols, const float *a, float *c,
                                                                   const float *res) {
    const int nrp = g->nrp;
    const size_t ldc = g->ldc, lda = g->lda;
    const int v0 = ncols, v1 = ncols - 4; /* valid columns in each half */
    v4f c00, c01, c10, c11, c20, c21, c30, c31;
    if (g->bias) {
        v4f b0 = v4_load(g->bias + col0), b1 = v4_load(g->bias + col0 + 4);
        c00 = c10 = c20 = c30 = b0;
        c01 = c11 = c21 = c31 = b1;
        if (res) { /* residual folded into the first k block: out may alias the residual */
#define RES(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        c##i##0 += load_clip(res + i * ldc + col0, v0);                                                                \
        if (v1 > 0) c##i##1 += load_clip(res + i * ldc + col0 + 4, v1);                                                \
    }
            RES(0) RES(1) RES(2) RES(3)
#undef RES
        }
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = v4_set1(0.0f);
#define INIT(i)                                                                                                        \
    if (MR > i) {                                                                                                      \
        c##i##0 = load_clip(c + i * ldc + col0, v0);                                                                   \
        c##i##1 = v1 > 0 ? load_clip(c + i * ldc + col0 + 4, v1) : v4_set1(0.0f);                                      \
    }
        INIT(0) INIT(1) INIT(2) INIT(3)
#undef INIT
    }
    const float *b = g->b + col0;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (int k = 0; k < g->kc; k++) {
        v4f b0 = v4_load(b), b1 = v4_load(b + 4);
        b += nrp;
#define ROW(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        v4f av = v4_set1(a##i[k]);                                                                                     \
        c##i##0 += av * b0;                                                                                            \
        c##i##1 += av * b1;                                                                                            \
    }
        ROW(0) ROW(1) ROW(2) ROW(3)
#undef ROW
    }
    const float *al = g->alpha + col0;
    const float *ps = g->post ? g->post + col0 : NULL, *pt = g->post ? g->post + g->nrp + col0 : NULL;
#define FIN(i)                                                                                                         \
    if (MR > i) {                                                                                                      \
        if (g->last) {                                                                                                 \
            c##i##0 = act4(c##i##0, g->act, al);                                                                       \
            c##i##1 = act4(c##i##1, g->act, al + 4);                                                                   \
            if (ps) {                                                                                                  \
                c##i##0 = c##i##0 * v4_load(ps) + v4_load(pt);                                                         \
                c##i##1 = c##i##1 * v4_load(ps + 4) + v4_load(pt + 4);                                                 \
            }                                                                                                          \
        }                                                                                                              \
        store_clip(c + i * ldc + col0, c##i##0, v0);                                                                   \
        if (v1 > 0) store_clip(c + i * ldc + col0 + 4, c##i##1, v1);                                                   \
    }
    FIN(0) FIN(1) FIN(2) FIN(3)
#undef FIN
}

void mf_nn_conv_gemm_block_scalar(const mf_nn_gemm_block *g) {
    for (int col0 = 0; col0 < g->nr; col0 += 8) {
        int ncols = g->nr - col0 < 8 ? g->nr - col0 : 8;
        for (int i = 0; i < g->m; i += SCALAR_MR) {
            int mr = g->m - i < SCALAR_MR ? g->m - i : SCALAR_MR;
            const float *a = g->a + (size_t)i * g->lda;
            float *c = g->c + (size_t)i * g->ldc;
            const float *res = g->res ? g->res + (size_t)i * g->ldc : NULL;
            switch (mr) {
            case 4: gemm_tile_scalar(g, 4, col0, ncols, a, c, res); break;
            case 3: gemm_tile_scalar(g, 3, col0, ncols, a, c, res); break;
            case 2: gemm_tile_scalar(g, 2, col0, ncols, a, c, res); break;
            default: gemm_tile_scalar(g, 1, col0, ncols, a, c, res); break;
            }
        }
    }
}
