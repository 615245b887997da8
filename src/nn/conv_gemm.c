/* The blocked GEMM driver shared by conv and transposed conv: plan, weight packing, conv im2col, panel loop. */
#include "nn/conv_internal.h"
#include "nn/gemm_amx.h"

/* The AMX blocks split A and store every C tile once more; below these they lose to the fp32 kernels (bench_kernels:
 * gear's 3x3 32->32 Winograd 0.81 -> 0.97 ms, selfie's 16->1 deconv 0.29 -> 0.66 ms). With few output pixels the
 * weights are streamed from memory for a few rows each, and the bf16 halves are as many bytes as the floats (arcface's
 * 7x7 512->512, 16 Winograd tiles: 1.87 -> 2.05 ms). M is the conv's output pixels (a Winograd GEMM has a quarter). */
enum { AMX_MIN_K = 64, AMX_MIN_N = 32, AMX_MIN_M = 128 };

/* Plan of a GEMM of depth K (K may be 0: a transposed-conv class without taps, out = act(bias + residual)). */
gemm_plan mf_nn_conv_plan_gemm_k(const mf_nn_conv_shape *s, size_t K, mf_nn_isa isa) {
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
    p.kcp = round_up(p.kc, 32);
    p.amx = isa == MF_NN_ISA_AMX && K >= AMX_MIN_K && p.N >= AMX_MIN_N && p.M >= AMX_MIN_M;
    return p;
}

gemm_plan mf_nn_conv_plan_gemm(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    gemm_plan p = mf_nn_conv_plan_gemm_k(s, (size_t)s->kh * s->kw * s->ic, isa);
    p.direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pad_t == 0 && s->pad_l == 0 &&
               s->oh == s->ih && s->ow == s->iw;
    return p;
}

static int panel_nrp(const gemm_plan *p, int j) { return j == p->npanels - 1 ? p->last_nrp : MF_NN_GEMM_NR; }
static size_t panel_offset(const gemm_plan *p, int j) { return (size_t)j * (p->K + 4) * MF_NN_GEMM_NR; }

static size_t fp32_size(const gemm_plan *p) {
    return panel_offset(p, p->npanels - 1) + (p->K + 4) * (size_t)p->last_nrp;
}
/* The AMX bf16 copy: behind the fp32 panels (64-byte aligned), per panel and k block mf_nn_amx_panel_halves(kcp). */
static size_t amx_offset(const gemm_plan *p) { return round_up(fp32_size(p), 16); }
static const uint16_t *amx_panel(const gemm_plan *p, const float *packed, int j, int kb) {
    return (const uint16_t *)(packed + amx_offset(p)) +
           ((size_t)j * (size_t)p->nkb + (size_t)kb) * mf_nn_amx_panel_halves(p->kcp);
}

size_t mf_nn_conv_gemm_packed_size(const gemm_plan *p) {
    if (!p->amx) return fp32_size(p);
    return amx_offset(p) + (size_t)p->npanels * (size_t)p->nkb * mf_nn_amx_panel_halves(p->kcp) / 2;
}

size_t mf_nn_conv_gemm_scratch_size(const gemm_plan *p, int nth) {
    MF_ASSERT(nth >= 1);
    if (p->direct) return 0;
    return round_up((size_t)MF_NN_GEMM_MC * p->kc, 16) * (size_t)nth;
}

/* Packs B[k][n] = get(ctx, k, n) into panels with bias, alpha and post (scale, shift: [2*N] or NULL). */

void mf_nn_conv_gemm_pack(const gemm_plan *p, gemm_getter get, const void *ctx, const float *bias, const float *alpha,
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
        for (int kb = 0; p->amx && kb < p->nkb; kb++) {
            const size_t k0 = (size_t)kb * p->kc, kc = p->K - k0 < p->kc ? p->K - k0 : p->kc;
            mf_nn_amx_pack_b(dst + k0 * (size_t)nrp, nrp, kc, p->kcp, (uint16_t *)amx_panel(p, packed, j, kb));
        }
    }
}

/* HWIO conv weights are already [K][oc]. */
float mf_nn_conv_get_hwio(const void *ctx, size_t k, int n) {
    const pack_ctx *c = ctx;
    return c->w[k * (size_t)c->s->oc + n];
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

/* Sets g's panel fields (width, valid columns, bias, alpha, post, b, c, res) for panel j of k block kb. */
static void panel_block(const gemm_plan *p, const float *packed, int j, int kb, size_t k0, int post, float *c,
                        const float *res, mf_nn_gemm_block *g) {
    int nrp = panel_nrp(p, j);
    int n0 = j * MF_NN_GEMM_NR;
    const float *pp = packed + panel_offset(p, j);
    g->nrp = nrp;
    g->nr = p->N - n0 < nrp ? p->N - n0 : nrp;
    g->bias = kb == 0 ? pp : NULL;
    g->alpha = pp + nrp;
    g->post = post ? pp + 2 * (size_t)nrp : NULL;
    g->b = pp + 4 * (size_t)nrp + k0 * (size_t)nrp;
    g->c = c + (size_t)n0;
    g->res = res && kb == 0 ? res + (size_t)n0 : NULL;
}

/* Runs panels [j0, j1) of k block kb over `rows` rows of A. */
void mf_nn_conv_gemm_panels(const isa_ops *ops, const gemm_plan *p, const float *packed, int j0, int j1, int kb,
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
    if (p->amx && kc > 0 && mf_nn_gemm_amx_on()) {
        /* AMX: split each A chunk once, then every panel on it (gemm_amx.c; about 1e-5 from the fp32 kernels) */
        for (int r0 = 0; r0 < rows; r0 += MF_NN_GEMM_MC) {
            const int n = rows - r0 < MF_NN_GEMM_MC ? rows - r0 : MF_NN_GEMM_MC;
            mf_nn_amx_split_a(a + (size_t)r0 * lda, lda, n, (int)kc, (int)p->kcp);
            g.m = n;
            for (int j = j0; j < j1; j++) {
                const float *rr = res ? res + (size_t)r0 * ldc : NULL;
                panel_block(p, packed, j, kb, k0, post, c + (size_t)r0 * ldc, rr, &g);
                mf_nn_amx_block(&g, amx_panel(p, packed, j, kb));
            }
        }
        return;
    }
    for (int j = j0; j < j1; j++) {
        panel_block(p, packed, j, kb, k0, post, c, res, &g);
        /* two whole 16-wide panels together where the ISA has a paired kernel (the same bits as one by one) */
        if (ops->gemm2 && j + 1 < j1 && g.nr == MF_NN_GEMM_NR && panel_nrp(p, j + 1) == MF_NN_GEMM_NR) {
            mf_nn_gemm_block g1 = g;
            panel_block(p, packed, ++j, kb, k0, post, c, res, &g1);
            ops->gemm2(&g, &g1);
        } else {
            ops->gemm(&g);
        }
    }
}

/* Arguments are checked by mf_nn_conv2d_run. */
void mf_nn_conv_gemm_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                         const float *residual, float *out, float *scratch, int ith, int nth) {
    const isa_ops ops = mf_nn_conv_ops_for(isa);
    const gemm_plan p = mf_nn_conv_plan_gemm(s, isa);

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
            mf_nn_conv_gemm_panels(&ops, &p, packed, j0, j1, kb, p.direct ? in + mb * p.K + k0 : buf,
                                   p.direct ? p.K : kc, rows, out + mb * ldc, ldc,
                                   residual ? residual + mb * ldc : NULL, s->act, s->post);
        }
    }
}
