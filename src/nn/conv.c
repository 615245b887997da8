/* Fast convolutions: ISA selection, weight packing, the blocked GEMM driver (1x1 convs read A straight from the
 * NHWC input; other convs and transposed convs go through an im2col of MF_NN_GEMM_MC rows x MF_NN_GEMM_KC depth
 * into per-thread scratch), the depthwise row driver, and the portable ("scalar") micro-kernels.
 * The AVX2 micro-kernels are in conv_avx2.c. Design notes: docs/kernels.md. */
#include "nn/kernels.h"

#include "mfmc/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------------------ */
/* ISA                                                                                                          */

mf_nn_isa mf_nn_isa_best(void) {
    const char *e = getenv("MFMC_ISA");
    if (e && strcmp(e, "scalar") == 0) return MF_NN_ISA_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return MF_NN_ISA_AVX2;
#endif
    return MF_NN_ISA_SCALAR;
}

/* GCC/Clang generic vectors: 4 lanes map to SSE/NEON registers, or to scalar code on targets without SIMD. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f v4_load(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v4_store(float *p, v4f v) { memcpy(p, &v, sizeof v); }
static inline v4f v4_set1(float x) { return (v4f){x, x, x, x}; }
typedef int32_t v4i __attribute__((vector_size(16)));
static inline v4f v4_sel(v4i m, v4f a, v4f b) { return (v4f)(((v4i)a & m) | ((v4i)b & ~m)); }
static inline v4f v4_max(v4f a, v4f b) { return v4_sel(a > b, a, b); }
static inline v4f v4_min(v4f a, v4f b) { return v4_sel(a < b, a, b); }

enum { SCALAR_MR = 4 };

typedef struct {
    int mr;
    void (*gemm)(const mf_nn_gemm_block *g);
    void (*dw_row)(const mf_nn_dw_row *r);
} isa_ops;

static void gemm_block_scalar(const mf_nn_gemm_block *g);
static void dw_row_scalar(const mf_nn_dw_row *r);

static isa_ops ops_for(mf_nn_isa isa) {
    switch (isa) {
    case MF_NN_ISA_SCALAR: return (isa_ops){SCALAR_MR, gemm_block_scalar, dw_row_scalar};
    case MF_NN_ISA_AVX2: return (isa_ops){MF_NN_AVX2_MR, mf_nn_gemm_block_avx2, mf_nn_dw_row_avx2};
    }
    MF_ASSERT(!"unknown ISA");
}

static void check_isa_usable(mf_nn_isa isa) {
    MF_ASSERT(isa == MF_NN_ISA_SCALAR || isa == MF_NN_ISA_AVX2);
#if defined(__x86_64__) || defined(__i386__)
    if (isa == MF_NN_ISA_AVX2) {
        __builtin_cpu_init();
        MF_ASSERT(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
    }
#else
    MF_ASSERT(isa == MF_NN_ISA_SCALAR);
#endif
}

static void check_shape(const mf_nn_conv_shape *s) {
    MF_ASSERT(s->n >= 1 && s->ih >= 1 && s->iw >= 1 && s->ic >= 1);
    MF_ASSERT(s->oh >= 1 && s->ow >= 1 && s->oc >= 1);
    MF_ASSERT(s->kh >= 1 && s->kw >= 1 && s->sh >= 1 && s->sw >= 1 && s->dh >= 1 && s->dw >= 1);
    MF_ASSERT(s->pad_t >= 0 && s->pad_l >= 0);
    MF_ASSERT(s->act >= MF_NN_ACT_NONE && s->act <= MF_NN_ACT_PRELU);
}

static void check_aligned(const void *p) { MF_ASSERT(((uintptr_t)p & 63) == 0); }

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }
static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* ------------------------------------------------------------------------------------------------------------ */
/* GEMM plan shared by conv and deconv: M = n*oh*ow rows, K = kh*kw*ic, N = oc.                                  */

typedef struct {
    size_t M, K;
    int N;
    int npanels;  /* ceil(N / 16) */
    int last_nrp; /* width of the last panel (8 or 16) */
    int direct;   /* A rows are the input pixels (1x1 stride 1, no padding) */
    int nkb;      /* number of k blocks */
    size_t kc;    /* k block depth (the last block may be shorter) */
} gemm_plan;

/* Plan of a GEMM of depth K (K may be 0: a transposed-conv class without taps, out = act(bias + residual)). */
static gemm_plan plan_gemm_k(const mf_nn_conv_shape *s, size_t K) {
    gemm_plan p;
    p.M = (size_t)s->n * s->oh * s->ow;
    p.K = K;
    p.N = s->oc;
    p.npanels = (int)ceil_div((size_t)s->oc, MF_NN_GEMM_NR);
    int rem = s->oc % MF_NN_GEMM_NR;
    p.last_nrp = (rem != 0 && rem <= 8) ? 8 : MF_NN_GEMM_NR;
    p.direct = 0;
    p.nkb = K ? (int)ceil_div(K, MF_NN_GEMM_KC) : 1;
    p.kc = K ? ceil_div(K, (size_t)p.nkb) : 0;
    return p;
}

static gemm_plan plan_gemm(const mf_nn_conv_shape *s) {
    gemm_plan p = plan_gemm_k(s, (size_t)s->kh * s->kw * s->ic);
    p.direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pad_t == 0 && s->pad_l == 0 &&
               s->oh == s->ih && s->ow == s->iw;
    return p;
}

static int panel_nrp(const gemm_plan *p, int j) { return j == p->npanels - 1 ? p->last_nrp : MF_NN_GEMM_NR; }
static size_t panel_offset(const gemm_plan *p, int j) { return (size_t)j * (p->K + 4) * MF_NN_GEMM_NR; }

static size_t gemm_packed_size(const gemm_plan *p) {
    return panel_offset(p, p->npanels - 1) + (p->K + 4) * (size_t)p->last_nrp;
}

static size_t gemm_scratch_size(const gemm_plan *p, int nth) {
    MF_ASSERT(nth >= 1);
    if (p->direct) return 0;
    return round_up((size_t)MF_NN_GEMM_MC * p->kc, 16) * (size_t)nth;
}

/* Packs B[k][n] = get(ctx, k, n) into panels with bias, alpha and post (scale, shift: [2*N] or NULL). */
typedef float (*gemm_getter)(const void *ctx, size_t k, int n);

static void gemm_pack(const gemm_plan *p, gemm_getter get, const void *ctx, const float *bias, const float *alpha,
                      const float *post, float *packed) {
    for (int j = 0; j < p->npanels; j++) {
        int nrp = panel_nrp(p, j);
        float *dst = packed + panel_offset(p, j);
        for (int c = 0; c < nrp; c++) {
            int n = j * MF_NN_GEMM_NR + c;
            dst[c] = (n < p->N && bias) ? bias[n] : 0.0f;
            dst[nrp + c] = (n < p->N && alpha) ? alpha[n] : 0.0f;
            dst[2 * nrp + c] = (n < p->N && post) ? post[n] : 0.0f;
            dst[3 * nrp + c] = (n < p->N && post) ? post[p->N + n] : 0.0f;
        }
        dst += 4 * (size_t)nrp;
        for (size_t k = 0; k < p->K; k++)
            for (int c = 0; c < nrp; c++) {
                int n = j * MF_NN_GEMM_NR + c;
                dst[k * nrp + c] = n < p->N ? get(ctx, k, n) : 0.0f;
            }
    }
}

typedef struct {
    const mf_nn_conv_shape *s;
    const float *w;
    int ry, rx; /* deconv: output class */
} pack_ctx;

/* HWIO conv weights are already [K][oc]. */
static float get_hwio(const void *ctx, size_t k, int n) {
    const pack_ctx *c = ctx;
    return c->w[k * (size_t)c->s->oc + n];
}

/* Taps t in [0, k) with t*d == r (mod st): the kernel rows (or columns) a transposed-conv output class uses. */
static int deconv_ntaps(int k, int d, int st, int r) {
    int cnt = 0;
    for (int t = 0; t < k; t++)
        cnt += (t * d) % st == r;
    return cnt;
}
static int deconv_tap(int k, int d, int st, int r, int idx) { /* idx-th such tap */
    for (int t = 0; t < k; t++)
        if ((t * d) % st == r && idx-- == 0) return t;
    MF_ASSERT(!"tap index out of range");
}

/* Deconv weights [kh][kw][oc][ic]; depth index of class (ry, rx): (tap of the class)*ic + i. */
static float get_hwoi_class(const void *ctx, size_t k, int n) {
    const pack_ctx *c = ctx;
    const mf_nn_conv_shape *s = c->s;
    int tap = (int)(k / (size_t)s->ic), i = (int)(k % (size_t)s->ic);
    int nx = deconv_ntaps(s->kw, s->dw, s->sw, c->rx);
    int ky = deconv_tap(s->kh, s->dh, s->sh, c->ry, tap / nx), kx = deconv_tap(s->kw, s->dw, s->sw, c->rx, tap % nx);
    return c->w[(((size_t)ky * s->kw + (size_t)kx) * s->oc + (size_t)n) * s->ic + (size_t)i];
}

/* Small copies (im2col runs of a few floats: ic = 3 first layers) in 16-byte chunks, the last one overlapping;
 * a byte loop here cost more than the GEMM itself on 5x5 stride-2 3->24 convs. */
static inline void copy_f(float *dst, const float *src, size_t n) {
    if (n >= 32) {
        memcpy(dst, src, n * sizeof *dst);
    } else if (n >= 4) {
        float t[4];
        size_t i = 0;
        for (; i + 4 <= n; i += 4) {
            memcpy(t, src + i, sizeof t);
            memcpy(dst + i, t, sizeof t);
        }
        if (i < n) {
            memcpy(t, src + n - 4, sizeof t);
            memcpy(dst + n - 4, t, sizeof t);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}
static inline void zero_f(float *dst, size_t n) {
    if (n >= 32) {
        memset(dst, 0, n * sizeof *dst);
    } else if (n >= 4) {
        const float z[4] = {0, 0, 0, 0};
        size_t i = 0;
        for (; i + 4 <= n; i += 4)
            memcpy(dst + i, z, sizeof z);
        if (i < n) memcpy(dst + n - 4, z, sizeof z);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = 0.0f;
    }
}

/* A block rows [m0, m0+rows), depth [k0, k0+kc) of the conv im2col matrix, row-major with stride kc. */
static void im2col_conv(const mf_nn_conv_shape *s, const float *in, float *dst, size_t m0, int rows, size_t k0,
                        size_t kc) {
    const long ic = s->ic;
    const size_t seg = (size_t)s->kw * (size_t)ic;                        /* depth covered by one kernel row */
    const int whole = k0 == 0 && kc == (size_t)s->kh * seg && s->dw == 1; /* fast path for interior rows */
    const size_t row_step = (size_t)s->dh * (size_t)s->iw * (size_t)ic;
    const int ky_first = (int)(k0 / seg);
    const size_t j_first = k0 - (size_t)ky_first * seg;
    /* Output pixel of row m0, then stepped incrementally (no divisions per row). */
    int x = (int)(m0 % (size_t)s->ow);
    size_t t0 = m0 / (size_t)s->ow;
    int y = (int)(t0 % (size_t)s->oh);
    size_t b = t0 / (size_t)s->oh;
    for (int r = 0; r < rows; r++) {
        if (r > 0 && ++x == s->ow) {
            x = 0;
            if (++y == s->oh) y = 0, b++;
        }
        int iy0 = y * s->sh - s->pad_t, ix0 = x * s->sw - s->pad_l;
        float *d = dst + (size_t)r * kc;
        if (whole && iy0 >= 0 && iy0 + (s->kh - 1) * s->dh < s->ih && ix0 >= 0 && ix0 + s->kw - 1 < s->iw) {
            /* All taps inside: kh contiguous runs of kw*ic floats. */
            const float *src = in + ((b * (size_t)s->ih + (size_t)iy0) * (size_t)s->iw + (size_t)ix0) * (size_t)ic;
            for (int ky = 0; ky < s->kh; ky++, src += row_step)
                copy_f(d + (size_t)ky * seg, src, seg);
            continue;
        }
        size_t k = k0, kend = k0 + kc, j0 = j_first;
        for (int ky = ky_first; k < kend; ky++, j0 = 0) {
            size_t j1 = seg < j0 + (kend - k) ? seg : j0 + (kend - k);
            float *dd = d + (k - k0);
            int iy = iy0 + ky * s->dh;
            if (iy < 0 || iy >= s->ih) {
                zero_f(dd, j1 - j0);
            } else {
                const float *row = in + ((b * (size_t)s->ih + (size_t)iy) * (size_t)s->iw) * (size_t)ic;
                if (s->dw == 1) {
                    /* The kw taps are contiguous in the input row: flat offset ix0*ic + j, valid in [0, iw*ic). */
                    long lo = -(long)ix0 * ic, hi = ((long)s->iw - ix0) * ic;
                    if (lo < (long)j0) lo = (long)j0;
                    if (lo > (long)j1) lo = (long)j1;
                    if (hi > (long)j1) hi = (long)j1;
                    if (hi < lo) hi = lo;
                    zero_f(dd, (size_t)lo - j0);
                    copy_f(dd + (lo - (long)j0), row + (long)ix0 * ic + lo, (size_t)(hi - lo));
                    zero_f(dd + (hi - (long)j0), j1 - (size_t)hi);
                } else {
                    size_t j = j0;
                    while (j < j1) {
                        int kx = (int)(j / (size_t)ic);
                        size_t c = j % (size_t)ic;
                        size_t cnt = (size_t)ic - c;
                        if (cnt > j1 - j) cnt = j1 - j;
                        int ix = ix0 + kx * s->dw;
                        if (ix < 0 || ix >= s->iw)
                            zero_f(dd + (j - j0), cnt);
                        else
                            copy_f(dd + (j - j0), row + (size_t)ix * (size_t)ic + c, cnt);
                        j += cnt;
                    }
                }
            }
            k += j1 - j0;
        }
    }
}

/* Transposed convolution, output class (ry, rx) = ((Y + pad_t) % sh, (X + pad_l) % sw): only the taps with
 * ky*dh == ry (mod sh) and kx*dw == rx (mod sw) reach such outputs (from input ((Y+pad_t-ky*dh)/sh, ...)), so
 * each class is a GEMM over its own taps, without the zero rows of a plain gather (3/4 of them for stride 2).
 * Rows: `rows` outputs X = X0, X0+sw, ... of output row Y of batch item b; depth [k0, k0+kc) of the class. */
static void im2col_deconv(const mf_nn_conv_shape *s, const float *in, float *dst, size_t b, int Y, int ry, int X0,
                          int rx, int rows, size_t k0, size_t kc) {
    const size_t ic = (size_t)s->ic;
    const int ny = deconv_ntaps(s->kh, s->dh, s->sh, ry), nx = deconv_ntaps(s->kw, s->dw, s->sw, rx);
    const size_t kend = k0 + kc;
    /* Tap by tap; along the row of outputs X0 + r*sw the input column is x0 + r (contiguous pixels). */
    for (int ty = 0; ty < ny; ty++) {
        const int ky = deconv_tap(s->kh, s->dh, s->sh, ry, ty);
        const int yy = Y + s->pad_t - ky * s->dh; /* a multiple of sh */
        const int y_ok = yy >= 0 && yy / s->sh < s->ih;
        const float *in_row = y_ok ? in + ((b * (size_t)s->ih + (size_t)(yy / s->sh)) * (size_t)s->iw) * ic : NULL;
        for (int tx = 0; tx < nx; tx++) {
            const size_t t0 = ((size_t)ty * nx + (size_t)tx) * ic;
            if (t0 + ic <= k0 || t0 >= kend) continue;
            const size_t lo = t0 < k0 ? k0 : t0, hi = t0 + ic < kend ? t0 + ic : kend;
            const int kx = deconv_tap(s->kw, s->dw, s->sw, rx, tx);
            const int x0 = (X0 + s->pad_l - kx * s->dw) / s->sw; /* exact division */
            float *d = dst + (lo - k0);
            for (int r = 0; r < rows; r++, d += kc) {
                const int x = x0 + r;
                if (y_ok && x >= 0 && x < s->iw)
                    copy_f(d, in_row + (size_t)x * ic + (lo - t0), hi - lo);
                else
                    zero_f(d, hi - lo);
            }
        }
    }
}

/* Runs panels [j0, j1) of k block kb over `rows` rows of A. */
static void gemm_panels(const isa_ops *ops, const gemm_plan *p, const float *packed, int j0, int j1, int kb,
                        const float *a, size_t lda, int rows, float *c, size_t ldc, const float *res, int act,
                        int post) {
    mf_nn_gemm_block g;
    const size_t k0 = (size_t)kb * p->kc;
    const size_t kc = p->K - k0 < p->kc ? p->K - k0 : p->kc;
    g.a = a;
    g.lda = lda;
    g.m = rows;
    g.kc = (int)kc;
    g.ldc = ldc;
    g.act = act;
    g.last = kb == p->nkb - 1;
    for (int j = j0; j < j1; j++) {
        int nrp = panel_nrp(p, j);
        int n0 = j * MF_NN_GEMM_NR;
        const float *pp = packed + panel_offset(p, j);
        g.nrp = nrp;
        g.nr = p->N - n0 < nrp ? p->N - n0 : nrp;
        g.bias = kb == 0 ? pp : NULL;
        g.alpha = pp + nrp;
        g.post = post ? pp + 2 * (size_t)nrp : NULL;
        g.b = pp + 4 * (size_t)nrp + k0 * (size_t)nrp;
        g.c = c + (size_t)n0;
        g.res = res && kb == 0 ? res + (size_t)n0 : NULL;
        ops->gemm(&g);
    }
}

/* Arguments are checked by mf_nn_conv2d_run. */
static void conv_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                     const float *residual, float *out, float *scratch, int ith, int nth) {
    const isa_ops ops = ops_for(isa);
    const gemm_plan p = plan_gemm(s);

    /* Partition: contiguous row tiles, or panels when that balances better (few rows, e.g. m = 1). Costs in
     * tile x 8-column units; splitting panels makes every thread do the whole im2col (about one unit a tile). */
    const size_t tiles = ceil_div(p.M, (size_t)ops.mr);
    size_t units = 0, max_units = 0;
    for (int j = 0; j < p.npanels; j++)
        units += (size_t)panel_nrp(&p, j) / 8;
    for (int t = 0; t < nth; t++) {
        size_t u = 0;
        for (int j = p.npanels * t / nth; j < p.npanels * (t + 1) / nth; j++)
            u += (size_t)panel_nrp(&p, j) / 8;
        if (u > max_units) max_units = u;
    }
    const size_t cost_m = ceil_div(tiles, (size_t)nth) * units;
    const size_t cost_n = tiles * (max_units + (p.direct ? 0 : 1));
    size_t r0 = 0, r1 = p.M;
    int j0 = 0, j1 = p.npanels;
    if (cost_m <= cost_n) {
        size_t t0 = tiles * (size_t)ith / (size_t)nth, t1 = tiles * (size_t)(ith + 1) / (size_t)nth;
        r0 = t0 * (size_t)ops.mr;
        r1 = t1 * (size_t)ops.mr;
        if (r1 > p.M) r1 = p.M;
    } else {
        j0 = p.npanels * ith / nth;
        j1 = p.npanels * (ith + 1) / nth;
    }
    if (r0 >= r1 || j0 >= j1) return;

    float *buf = NULL;
    if (!p.direct) {
        MF_ASSERT(scratch != NULL);
        check_aligned(scratch);
        buf = scratch + round_up((size_t)MF_NN_GEMM_MC * p.kc, 16) * (size_t)ith;
    }
    const size_t ldc = (size_t)p.N;
    for (size_t mb = r0; mb < r1; mb += MF_NN_GEMM_MC) {
        int rows = (int)(r1 - mb < MF_NN_GEMM_MC ? r1 - mb : MF_NN_GEMM_MC);
        for (int kb = 0; kb < p.nkb; kb++) {
            size_t k0 = (size_t)kb * p.kc;
            size_t kc = p.K - k0 < p.kc ? p.K - k0 : p.kc;
            if (!p.direct) im2col_conv(s, in, buf, mb, rows, k0, kc);
            gemm_panels(&ops, &p, packed, j0, j1, kb, p.direct ? in + mb * p.K + k0 : buf, p.direct ? p.K : kc, rows,
                        out + mb * ldc, ldc, residual ? residual + mb * ldc : NULL, s->act, s->post);
        }
    }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (AVX2): 16 multiplications per 2x2 output tile instead of   */
/* 36. Per block of tiles: input transform into V[16][tiles][ic] (scratch), 16 GEMMs M[xi] = V[xi] * U[xi] with   */
/* the packed transformed weights U = G g G^T, output transform with the whole epilogue. Blocks are sized so that */
/* V and M stay in L2. Packed layout: bias, alpha, scale, shift (each oc rounded up to 8), then 16 GEMM packings  */
/* of K = ic (each rounded up to 16 floats).                                                                     */

enum {
    WINO_MIN_IC = 16, /* below this the GEMMs are too shallow to pay for the transforms (see docs/kernels.md) */
    WINO_MIN_OC = 16,
    WINO_MIN_TILES = 16, /* fewer tiles: too little work per transformed weight (faceapi's 4x4x256 layers: 2x slower) */
    WINO_L2_FLOATS = 131072, /* V + M of one block: 512 KiB */
    WINO_MAX_TB = 96,
};

static int wino_tiles(const mf_nn_conv_shape *s, int *th, int *tw) {
    *th = (s->oh + 1) / 2;
    *tw = (s->ow + 1) / 2;
    return s->n * *th * *tw;
}

int mf_nn_conv2d_uses_winograd(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    int th, tw;
    return isa == MF_NN_ISA_AVX2 && s->kh == 3 && s->kw == 3 && s->sh == 1 && s->sw == 1 && s->dh == 1 &&
           s->dw == 1 && s->ic >= WINO_MIN_IC && s->oc >= WINO_MIN_OC && wino_tiles(s, &th, &tw) >= WINO_MIN_TILES;
}

static int wino_ldv(const mf_nn_conv_shape *s) { return (int)round_up((size_t)s->ic, 8); }
static int wino_ldm(const mf_nn_conv_shape *s) { return (int)round_up((size_t)s->oc, 8); }

/* Tiles per block: fits L2, a multiple of the micro-tile height, and small enough that every thread gets some. */
static int wino_tb(const mf_nn_conv_shape *s, int nth) {
    int th, tw;
    const size_t tiles = (size_t)wino_tiles(s, &th, &tw);
    size_t tb = WINO_L2_FLOATS / (16 * (size_t)(wino_ldv(s) + wino_ldm(s)));
    tb = tb / MF_NN_AVX2_MR * MF_NN_AVX2_MR;
    if (tb > WINO_MAX_TB) tb = WINO_MAX_TB;
    size_t share = round_up(ceil_div(tiles, (size_t)nth), MF_NN_AVX2_MR);
    if (tb > share) tb = share;
    if (tb < MF_NN_AVX2_MR) tb = MF_NN_AVX2_MR;
    return (int)tb;
}

static size_t wino_ep_size(const mf_nn_conv_shape *s) { return 4 * (size_t)wino_ldm(s); }
static size_t wino_gemm_size(const mf_nn_conv_shape *s) {
    gemm_plan p = plan_gemm_k(s, (size_t)s->ic);
    return round_up(gemm_packed_size(&p), 16);
}

static size_t wino_packed_size(const mf_nn_conv_shape *s) { return wino_ep_size(s) + 16 * wino_gemm_size(s); }

static size_t wino_slice(const mf_nn_conv_shape *s, int nth) {
    return round_up(16 * (size_t)wino_tb(s, nth) * (size_t)(wino_ldv(s) + wino_ldm(s)), 16);
}

typedef struct {
    const mf_nn_conv_shape *s;
    const float *w;
    int xi;
} wino_ctx;

/* U[xi][k][n] = (G g G^T)[xi / 4][xi % 4] for input channel k, output channel n; G = [1 0 0; .5 .5 .5;
 * .5 -.5 .5; 0 0 1]. Computed in double. */
static float get_wino(const void *vctx, size_t k, int n) {
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const wino_ctx *c = vctx;
    const mf_nn_conv_shape *s = c->s;
    const int i = c->xi / 4, j = c->xi % 4;
    double u = 0.0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            u += G[i][a] * G[j][b] * c->w[((size_t)(a * 3 + b) * (size_t)s->ic + k) * (size_t)s->oc + (size_t)n];
    return (float)u;
}

static void wino_pack(const mf_nn_conv_shape *s, const float *w_hwio, const float *bias, const float *alpha,
                      const float *post, float *packed) {
    const int ldm = wino_ldm(s);
    for (int c = 0; c < ldm; c++) {
        const int ok = c < s->oc;
        packed[c] = ok && bias ? bias[c] : 0.0f;
        packed[ldm + c] = ok && alpha ? alpha[c] : 0.0f;
        packed[2 * ldm + c] = ok && post ? post[c] : 0.0f;
        packed[3 * ldm + c] = ok && post ? post[s->oc + c] : 0.0f;
    }
    gemm_plan p = plan_gemm_k(s, (size_t)s->ic);
    for (int xi = 0; xi < 16; xi++) {
        wino_ctx ctx = {s, w_hwio, xi};
        gemm_pack(&p, get_wino, &ctx, NULL, NULL, NULL, packed + wino_ep_size(s) + (size_t)xi * wino_gemm_size(s));
    }
}

/* Arguments are checked by mf_nn_conv2d_run. */
static void wino_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                     const float *residual, float *out, float *scratch, int ith, int nth) {
    const isa_ops ops = ops_for(isa);
    int th, tw;
    const int tiles = wino_tiles(s, &th, &tw);
    const int tb = wino_tb(s, nth);
    const int nb = (int)ceil_div((size_t)tiles, (size_t)tb);
    const int b0 = (int)((long long)nb * ith / nth), b1 = (int)((long long)nb * (ith + 1) / nth);
    if (b0 >= b1) return;
    MF_ASSERT(scratch != NULL);
    check_aligned(scratch);
    const int ldv = wino_ldv(s), ldm = wino_ldm(s);
    float *v = scratch + wino_slice(s, nth) * (size_t)ith;
    float *m = v + 16 * (size_t)tb * (size_t)ldv;
    const gemm_plan gp = plan_gemm_k(s, (size_t)s->ic);
    mf_nn_wino_io io = {0};
    io.s = s;
    io.th = th;
    io.tw = tw;
    io.in = in;
    io.v = v;
    io.ldv = ldv;
    io.vstride = (size_t)tb * (size_t)ldv;
    io.m = m;
    io.ldm = ldm;
    io.mstride = (size_t)tb * (size_t)ldm;
    io.bias = packed;
    io.alpha = packed + ldm;
    io.scale = packed + 2 * (size_t)ldm;
    io.shift = packed + 3 * (size_t)ldm;
    io.res = residual;
    io.out = out;
    for (int blk = b0; blk < b1; blk++) {
        io.t0 = blk * tb;
        io.nt = tiles - io.t0 < tb ? tiles - io.t0 : tb;
        mf_nn_wino_input_avx2(&io);
        for (int xi = 0; xi < 16; xi++) {
            const float *pk = packed + wino_ep_size(s) + (size_t)xi * wino_gemm_size(s);
            for (int kb = 0; kb < gp.nkb; kb++)
                gemm_panels(&ops, &gp, pk, 0, gp.npanels, kb, v + (size_t)xi * io.vstride + (size_t)kb * gp.kc,
                            (size_t)ldv, io.nt, m + (size_t)xi * io.mstride, (size_t)ldm, NULL, MF_NN_ACT_NONE, 0);
        }
        mf_nn_wino_output_avx2(&io);
    }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Conv and deconv entry points                                                                                 */

size_t mf_nn_conv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    check_shape(s);
    if (mf_nn_conv2d_uses_winograd(s, isa)) return wino_packed_size(s);
    gemm_plan p = plan_gemm(s);
    return gemm_packed_size(&p);
}

void mf_nn_conv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwio, const float *bias,
                       const float *alpha, const float *post, float *packed) {
    check_shape(s);
    check_isa_usable(isa);
    check_aligned(packed);
    MF_ASSERT(s->act != MF_NN_ACT_PRELU || alpha != NULL);
    MF_ASSERT(!s->post || post != NULL);
    if (mf_nn_conv2d_uses_winograd(s, isa)) {
        wino_pack(s, w_hwio, bias, alpha, s->post ? post : NULL, packed);
        return;
    }
    gemm_plan p = plan_gemm(s);
    pack_ctx ctx = {s, w_hwio, 0, 0};
    gemm_pack(&p, get_hwio, &ctx, bias, alpha, s->post ? post : NULL, packed);
}

size_t mf_nn_conv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth) {
    check_shape(s);
    MF_ASSERT(nth >= 1);
    if (mf_nn_conv2d_uses_winograd(s, isa)) return wino_slice(s, nth) * (size_t)nth;
    gemm_plan p = plan_gemm(s);
    return gemm_scratch_size(&p, nth);
}

void mf_nn_conv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                      const float *residual, float *out, float *scratch, int ith, int nth) {
    check_shape(s);
    MF_ASSERT(nth >= 1 && ith >= 0 && ith < nth);
    check_aligned(packed);
    if (mf_nn_conv2d_uses_winograd(s, isa))
        wino_run(s, isa, packed, in, residual, out, scratch, ith, nth);
    else
        conv_run(s, isa, packed, in, residual, out, scratch, ith, nth);
}

/* Transposed conv: one packed GEMM per output class c = ry*sw + rx, each rounded to 16 floats (64 bytes). */
static gemm_plan deconv_class_plan(const mf_nn_conv_shape *s, int ry, int rx) {
    size_t K =
        (size_t)deconv_ntaps(s->kh, s->dh, s->sh, ry) * (size_t)deconv_ntaps(s->kw, s->dw, s->sw, rx) * (size_t)s->ic;
    return plan_gemm_k(s, K);
}

static size_t deconv_class_offset(const mf_nn_conv_shape *s, int cls) {
    size_t off = 0;
    for (int c = 0; c < cls; c++) {
        gemm_plan p = deconv_class_plan(s, c / s->sw, c % s->sw);
        off += round_up(gemm_packed_size(&p), 16);
    }
    return off;
}

static size_t deconv_kc_max(const mf_nn_conv_shape *s) {
    size_t kc = 0;
    for (int c = 0; c < s->sh * s->sw; c++) {
        gemm_plan p = deconv_class_plan(s, c / s->sw, c % s->sw);
        if (p.kc > kc) kc = p.kc;
    }
    return kc;
}

size_t mf_nn_deconv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    check_shape(s);
    (void)isa;
    return deconv_class_offset(s, s->sh * s->sw);
}

void mf_nn_deconv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwoi, const float *bias,
                         const float *alpha, float *packed) {
    check_shape(s);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    check_isa_usable(isa);
    check_aligned(packed);
    MF_ASSERT(s->act != MF_NN_ACT_PRELU || alpha != NULL);
    for (int c = 0; c < s->sh * s->sw; c++) {
        gemm_plan p = deconv_class_plan(s, c / s->sw, c % s->sw);
        pack_ctx ctx = {s, w_hwoi, c / s->sw, c % s->sw};
        gemm_pack(&p, get_hwoi_class, &ctx, bias, alpha, NULL, packed + deconv_class_offset(s, c));
    }
}

size_t mf_nn_deconv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth) {
    check_shape(s);
    (void)isa;
    MF_ASSERT(nth >= 1);
    return round_up((size_t)MF_NN_GEMM_MC * deconv_kc_max(s), 16) * (size_t)nth;
}

void mf_nn_deconv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                        const float *residual, float *out, float *scratch, int ith, int nth) {
    check_shape(s);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    MF_ASSERT(nth >= 1 && ith >= 0 && ith < nth);
    check_aligned(packed);
    const isa_ops ops = ops_for(isa);
    const size_t slice = round_up((size_t)MF_NN_GEMM_MC * deconv_kc_max(s), 16);
    float *buf = scratch;
    if (slice) {
        MF_ASSERT(scratch != NULL);
        check_aligned(scratch);
        buf = scratch + slice * (size_t)ith;
    }
    /* Threads take contiguous output rows. */
    const size_t R = (size_t)s->n * s->oh;
    const size_t q0 = R * (size_t)ith / (size_t)nth, q1 = R * (size_t)(ith + 1) / (size_t)nth;
    const size_t oc = (size_t)s->oc, ldc = (size_t)s->sw * oc;
    for (size_t q = q0; q < q1; q++) {
        const size_t b = q / (size_t)s->oh;
        const int Y = (int)(q % (size_t)s->oh);
        const int ry = (Y + s->pad_t) % s->sh;
        for (int rx = 0; rx < s->sw; rx++) {
            const int X0 = ((rx - s->pad_l) % s->sw + s->sw) % s->sw; /* first X with (X + pad_l) % sw == rx */
            if (X0 >= s->ow) continue;
            const int cnt = (s->ow - X0 + s->sw - 1) / s->sw;
            const int cls = ry * s->sw + rx;
            const gemm_plan p = deconv_class_plan(s, ry, rx);
            const float *pk = packed + deconv_class_offset(s, cls);
            for (int mb = 0; mb < cnt; mb += MF_NN_GEMM_MC) {
                const int rows = cnt - mb < MF_NN_GEMM_MC ? cnt - mb : MF_NN_GEMM_MC;
                const int Xf = X0 + mb * s->sw;
                const size_t o = (q * (size_t)s->ow + (size_t)Xf) * oc;
                /* A class with a single tap whose inputs all exist (kernel == stride upsampling, away from the
                 * borders) reads consecutive input pixels: use them in place, without an im2col copy. */
                const float *direct = NULL;
                if (p.K == (size_t)s->ic) {
                    const int ky = deconv_tap(s->kh, s->dh, s->sh, ry, 0), kx = deconv_tap(s->kw, s->dw, s->sw, rx, 0);
                    const int yy = Y + s->pad_t - ky * s->dh;
                    const int x0 = (Xf + s->pad_l - kx * s->dw) / s->sw;
                    if (yy >= 0 && yy / s->sh < s->ih && x0 >= 0 && x0 + rows <= s->iw)
                        direct = in + ((b * (size_t)s->ih + (size_t)(yy / s->sh)) * (size_t)s->iw + (size_t)x0) *
                                          (size_t)s->ic;
                }
                for (int kb = 0; kb < p.nkb; kb++) {
                    const size_t k0 = (size_t)kb * p.kc;
                    const size_t kc = p.K - k0 < p.kc ? p.K - k0 : p.kc;
                    if (!direct && kc) im2col_deconv(s, in, buf, b, Y, ry, Xf, rx, rows, k0, kc);
                    gemm_panels(&ops, &p, pk, 0, p.npanels, kb, direct ? direct + k0 : buf, direct ? p.K : kc, rows,
                                out + o, ldc, residual ? residual + o : NULL, s->act, 0);
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Depthwise                                                                                                    */

static int dw_cpad(const mf_nn_conv_shape *s) { return (int)round_up((size_t)s->oc, 8); }

size_t mf_nn_dwconv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    check_shape(s);
    (void)isa;
    return ((size_t)s->kh * s->kw + 2) * (size_t)dw_cpad(s);
}

void mf_nn_dwconv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwim, const float *bias,
                         const float *alpha, float *packed) {
    check_shape(s);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    check_isa_usable(isa);
    check_aligned(packed);
    MF_ASSERT(s->oc % s->ic == 0);
    MF_ASSERT(s->act != MF_NN_ACT_PRELU || alpha != NULL);
    size_t cpad = (size_t)dw_cpad(s), taps = (size_t)s->kh * s->kw;
    for (size_t t = 0; t < taps; t++)
        for (size_t c = 0; c < cpad; c++)
            packed[t * cpad + c] = c < (size_t)s->oc ? w_hwim[t * s->oc + c] : 0.0f;
    for (size_t c = 0; c < cpad; c++) {
        packed[taps * cpad + c] = (c < (size_t)s->oc && bias) ? bias[c] : 0.0f;
        packed[(taps + 1) * cpad + c] = (c < (size_t)s->oc && alpha) ? alpha[c] : 0.0f;
    }
}

size_t mf_nn_dwconv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth) {
    check_shape(s);
    (void)isa;
    MF_ASSERT(nth >= 1);
    return 0;
}

static inline float act1(float v, int act, float alpha) {
    switch (act) {
    case MF_NN_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case MF_NN_ACT_RELU6: return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
    case MF_NN_ACT_PRELU: return v >= 0.0f ? v : alpha * v;
    default: return v;
    }
}

/* Channel multiplier > 1 (rare): plain loops, same for every ISA. */
static void dw_row_generic(const mf_nn_dw_row *r) {
    const mf_nn_conv_shape *s = r->s;
    const int mul = s->oc / s->ic;
    for (int x = 0; x < s->ow; x++) {
        int ix0 = x * s->sw - s->pad_l, kx_lo, kx_hi;
        mf_nn_tap_range(ix0, s->kw, s->dw, s->iw, &kx_lo, &kx_hi);
        float *o = r->out + (size_t)x * s->oc;
        for (int c = 0; c < s->oc; c++) {
            float acc = r->bias[c];
            for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
                const float *ip = r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw) * s->ic + c / mul;
                const float *wp = r->w + (size_t)ky * s->kw * r->cpad + c;
                for (int kx = kx_lo; kx < kx_hi; kx++)
                    acc += ip[(size_t)(ix0 + kx * s->dw) * s->ic] * wp[(size_t)kx * r->cpad];
            }
            if (r->res) acc += r->res[(size_t)x * s->oc + c];
            o[c] = act1(acc, s->act, r->alpha[c]);
        }
    }
}

/* One output pixel, channels [c0, c0+4) (all valid), taps ky in [ky_lo, ky_hi), kx in [kx_lo, kx_hi). */
static inline v4f dw_pix4(const mf_nn_dw_row *r, int x, int c0, int kx_lo, int kx_hi) {
    const mf_nn_conv_shape *s = r->s;
    v4f acc = v4_load(r->bias + c0);
    const int ix0 = x * s->sw - s->pad_l;
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
        const float *ip = r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx_lo * s->dw)) * s->ic + c0;
        const float *wp = r->w + ((size_t)ky * s->kw + kx_lo) * r->cpad + c0;
        for (int kx = kx_lo; kx < kx_hi; kx++) {
            acc += v4_load(ip) * v4_load(wp);
            ip += (size_t)s->dw * s->ic;
            wp += r->cpad;
        }
    }
    return acc;
}

static inline v4f act4(v4f v, int act, const float *alpha) {
    switch (act) {
    case MF_NN_ACT_RELU: return v4_max(v, v4_set1(0.0f));
    case MF_NN_ACT_RELU6: return v4_min(v4_max(v, v4_set1(0.0f)), v4_set1(6.0f));
    case MF_NN_ACT_PRELU: return v4_max(v, v4_set1(0.0f)) + v4_load(alpha) * v4_min(v, v4_set1(0.0f));
    default: return v;
    }
}

static void dw_row_scalar(const mf_nn_dw_row *r) {
    const mf_nn_conv_shape *s = r->s;
    const int C = s->oc, C4 = C & ~3;
    for (int x = 0; x < s->ow; x++) {
        int ix0 = x * s->sw - s->pad_l, kx_lo, kx_hi;
        mf_nn_tap_range(ix0, s->kw, s->dw, s->iw, &kx_lo, &kx_hi);
        float *o = r->out + (size_t)x * C;
        const float *res = r->res ? r->res + (size_t)x * C : NULL;
        int c0 = 0;
        for (; c0 + 16 <= C4; c0 += 16) { /* 4 independent accumulators */
            v4f a0 = v4_load(r->bias + c0), a1 = v4_load(r->bias + c0 + 4), a2 = v4_load(r->bias + c0 + 8),
                a3 = v4_load(r->bias + c0 + 12);
            for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
                const float *ip =
                    r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx_lo * s->dw)) * C + c0;
                const float *wp = r->w + ((size_t)ky * s->kw + kx_lo) * r->cpad + c0;
                for (int kx = kx_lo; kx < kx_hi; kx++) {
                    a0 += v4_load(ip) * v4_load(wp);
                    a1 += v4_load(ip + 4) * v4_load(wp + 4);
                    a2 += v4_load(ip + 8) * v4_load(wp + 8);
                    a3 += v4_load(ip + 12) * v4_load(wp + 12);
                    ip += (size_t)s->dw * C;
                    wp += r->cpad;
                }
            }
            if (res) {
                a0 += v4_load(res + c0);
                a1 += v4_load(res + c0 + 4);
                a2 += v4_load(res + c0 + 8);
                a3 += v4_load(res + c0 + 12);
            }
            v4_store(o + c0, act4(a0, s->act, r->alpha + c0));
            v4_store(o + c0 + 4, act4(a1, s->act, r->alpha + c0 + 4));
            v4_store(o + c0 + 8, act4(a2, s->act, r->alpha + c0 + 8));
            v4_store(o + c0 + 12, act4(a3, s->act, r->alpha + c0 + 12));
        }
        for (int c = c0; c < C4; c += 4) {
            v4f acc = dw_pix4(r, x, c, kx_lo, kx_hi);
            if (res) acc += v4_load(res + c);
            v4_store(o + c, act4(acc, s->act, r->alpha + c));
        }
        for (int c = C4; c < C; c++) {
            float acc = r->bias[c];
            for (int ky = r->ky_lo; ky < r->ky_hi; ky++)
                for (int kx = kx_lo; kx < kx_hi; kx++)
                    acc += r->in[((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx * s->dw)) * C + c] *
                           r->w[((size_t)ky * s->kw + kx) * r->cpad + c];
            if (res) acc += res[c];
            o[c] = act1(acc, s->act, r->alpha[c]);
        }
    }
}

void mf_nn_dwconv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                        const float *residual, float *out, float *scratch, int ith, int nth) {
    (void)scratch;
    check_shape(s);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    MF_ASSERT(nth >= 1 && ith >= 0 && ith < nth);
    MF_ASSERT(s->oc % s->ic == 0);
    check_aligned(packed);
    const isa_ops ops = ops_for(isa);
    const int cpad = dw_cpad(s);
    const size_t taps = (size_t)s->kh * s->kw;
    mf_nn_dw_row r;
    r.s = s;
    r.w = packed;
    r.bias = packed + taps * (size_t)cpad;
    r.alpha = r.bias + cpad;
    r.cpad = cpad;
    /* Output columns whose taps are all inside the input row. */
    int x_lo = (int)ceil_div((size_t)s->pad_l, (size_t)s->sw);
    long num = (long)s->iw - 1 - (long)(s->kw - 1) * s->dw + s->pad_l;
    int x_hi = num < 0 ? 0 : (int)(num / s->sw + 1);
    if (x_lo > s->ow) x_lo = s->ow;
    if (x_hi > s->ow) x_hi = s->ow;
    if (x_hi < x_lo) x_hi = x_lo;
    r.x_lo = x_lo;
    r.x_hi = x_hi;

    const size_t rows = (size_t)s->n * s->oh;
    const size_t q0 = rows * (size_t)ith / (size_t)nth, q1 = rows * (size_t)(ith + 1) / (size_t)nth;
    const size_t row_len = (size_t)s->ow * s->oc;
    for (size_t q = q0; q < q1; q++) {
        size_t b = q / (size_t)s->oh;
        int y = (int)(q % (size_t)s->oh);
        r.in = in + b * (size_t)s->ih * s->iw * s->ic;
        r.out = out + q * row_len;
        r.res = residual ? residual + q * row_len : NULL;
        r.iy0 = y * s->sh - s->pad_t;
        mf_nn_tap_range(r.iy0, s->kh, s->dh, s->ih, &r.ky_lo, &r.ky_hi);
        if (s->oc != s->ic)
            dw_row_generic(&r);
        else
            ops.dw_row(&r);
    }
}

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

static void gemm_block_scalar(const mf_nn_gemm_block *g) {
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
