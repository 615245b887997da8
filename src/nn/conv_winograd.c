/* Winograd F(2x2, 3x3) convolutions: plan, packing of the transformed weights and the block driver. */
#include "nn/conv_internal.h"

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
    return (isa == MF_NN_ISA_AVX2 || isa == MF_NN_ISA_AMX) && s->kh == 3 && s->kw == 3 && s->sh == 1 && s->sw == 1 &&
           s->dh == 1 && s->dw == 1 && s->ic >= WINO_MIN_IC && s->oc >= WINO_MIN_OC &&
           wino_tiles(s, &th, &tw) >= WINO_MIN_TILES;
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
static size_t wino_gemm_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    gemm_plan p = mf_nn_conv_plan_gemm_k(s, (size_t)s->ic, isa);
    return round_up(mf_nn_conv_gemm_packed_size(&p), 16);
}

size_t mf_nn_conv_wino_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    return wino_ep_size(s) + 16 * wino_gemm_size(s, isa);
}

size_t mf_nn_conv_wino_slice(const mf_nn_conv_shape *s, int nth) {
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

void mf_nn_conv_wino_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwio, const float *bias,
                          const float *alpha, const float *post, float *packed) {
    const int ldm = wino_ldm(s);
    for (int c = 0; c < ldm; c++) {
        const int ok = c < s->oc;
        packed[c] = ok && bias ? bias[c] : 0.0f;
        packed[ldm + c] = ok && alpha ? alpha[c] : 0.0f;
        packed[2 * ldm + c] = ok && post ? post[c] : 0.0f;
        packed[3 * ldm + c] = ok && post ? post[s->oc + c] : 0.0f;
    }
    gemm_plan p = mf_nn_conv_plan_gemm_k(s, (size_t)s->ic, isa);
    for (int xi = 0; xi < 16; xi++) {
        wino_ctx ctx = {s, w_hwio, xi};
        mf_nn_conv_gemm_pack(&p, get_wino, &ctx, NULL, NULL, NULL,
                             packed + wino_ep_size(s) + (size_t)xi * wino_gemm_size(s, isa));
    }
}

/* Arguments are checked by mf_nn_conv2d_run. */
void mf_nn_conv_wino_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                         const float *residual, float *out, float *scratch, int ith, int nth) {
    const isa_ops ops = mf_nn_conv_ops_for(isa);
    int th, tw;
    const int tiles = wino_tiles(s, &th, &tw);
    const int tb = wino_tb(s, nth);
    const int nb = (int)ceil_div((size_t)tiles, (size_t)tb);
    const int b0 = (int)((long long)nb * ith / nth), b1 = (int)((long long)nb * (ith + 1) / nth);
    if (b0 >= b1) return;
    MF_ASSERT(scratch != NULL);
    check_aligned(scratch);
    const int ldv = wino_ldv(s), ldm = wino_ldm(s);
    float *v = scratch + mf_nn_conv_wino_slice(s, nth) * (size_t)ith;
    float *m = v + 16 * (size_t)tb * (size_t)ldv;
    const gemm_plan gp = mf_nn_conv_plan_gemm_k(s, (size_t)s->ic, isa);
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
            const float *pk = packed + wino_ep_size(s) + (size_t)xi * wino_gemm_size(s, isa);
            for (int kb = 0; kb < gp.nkb; kb++)
                mf_nn_conv_gemm_panels(&ops, &gp, pk, 0, gp.npanels, kb,
                                       v + (size_t)xi * io.vstride + (size_t)kb * gp.kc, (size_t)ldv, io.nt,
                                       m + (size_t)xi * io.mstride, (size_t)ldm, NULL, MF_NN_ACT_NONE, 0);
        }
        mf_nn_wino_output_avx2(&io);
    }
}
