/* Compute kernels of the inference engine (internal to src/nn).
 *
 * Layouts follow TensorFlow: activations NHWC float32, convolution weights HWIO ([kh][kw][ic][oc]),
 * depthwise weights [kh][kw][ic][m] (output channel c*m + j), transposed-convolution weights [kh][kw][oc][ic]
 * as in TF's Conv2DBackpropInput.
 *
 * Every kernel has a plain reference version (`_ref`): obvious loops, no packing, used by the tests as ground
 * truth. The fast path is split in three so that inference allocates nothing: `_packed_size` + `_pack` run once
 * when a model is planned (weights are re-laid out for the chosen ISA, bias and PReLU slopes folded in), and
 * `_run` is then called by each of `nth` threads with its index `ith` (0..nth-1); the kernel partitions the work
 * itself, writes disjoint parts of `out`, and uses only its own slice of `scratch`. No barrier inside a kernel. */
#ifndef MF_NN_KERNELS_H
#define MF_NN_KERNELS_H

#include <stddef.h>

typedef enum {
    MF_NN_ACT_NONE = 0,
    MF_NN_ACT_RELU = 1,  /* max(x, 0) */
    MF_NN_ACT_RELU6 = 2, /* min(max(x, 0), 6) */
    MF_NN_ACT_PRELU = 3, /* x >= 0 ? x : alpha[c] * x, alpha per output channel */
} mf_nn_act;

typedef enum {
    MF_NN_ISA_SCALAR = 0, /* portable C, any CPU */
    MF_NN_ISA_AVX2 = 1,   /* x86-64 AVX2 + FMA */
    MF_NN_ISA_AMX = 2,    /* AVX2 + FMA, and AMX bf16 tiles with split operands for the large GEMMs (gemm_amx.c: about
                           * 1e-5 of fp32, not bit-identical); only where mf_nn_gemm_amx_usable(). Plans ask for it
                           * with MF_NN_PLAN_ISA_FAST. */
} mf_nn_isa;

/* The best ISA this CPU supports (cpuid, computed on each call; cheap). MFMC_ISA=scalar in the environment
 * forces the portable path. */
mf_nn_isa mf_nn_isa_best(void);

/* Shape of a 2-D convolution (also used for depthwise and transposed convolution).
 * Output pixel (y, x) reads input rows y*sh - pad_t + ky*dh and columns x*sw - pad_l + kx*dw; positions outside
 * the input are zero. For depthwise, oc == ic * m. For a transposed convolution, see mf_nn_deconv2d_ref. */
typedef struct {
    int n, ih, iw, ic; /* input */
    int oh, ow, oc;    /* output */
    int kh, kw;        /* kernel size */
    int sh, sw;        /* strides */
    int dh, dw;        /* dilations (1 = none) */
    int pad_t, pad_l;  /* leading zero padding; trailing padding is whatever the output size implies */
    int act;           /* mf_nn_act */
    int post;          /* 1: after the activation, out = out * scale[c] + shift[c] (e.g. a BatchNorm placed after
                        * the activation, which cannot fold into the weights). Plain convolution only. */
} mf_nn_conv_shape;

/* out = act(conv(in, w) + bias + residual) [* scale + shift]. bias: [oc] or NULL. alpha: [oc], only for PRELU.
 * residual: NULL or a tensor shaped like out (added before the activation). post: when s->post, [2*oc]: scale
 * then shift per output channel, applied after the activation; else ignored (may be NULL). */
void mf_nn_conv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwio, const float *bias,
                      const float *alpha, const float *post, const float *residual, float *out);

/* Depthwise convolution with channel multiplier m = oc / ic; same contract as mf_nn_conv2d_ref without `post`
 * (s->post must be 0). */
void mf_nn_dwconv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwim, const float *bias,
                        const float *alpha, const float *residual, float *out);

/* Transposed convolution (TF Conv2DBackpropInput, the gradient of a conv of shape `s` with the roles of input and
 * output swapped): here s->ih/iw/ic describe the *input of this op* (the small tensor), s->oh/ow/oc its output,
 * and pad_t/pad_l the padding of the forward convolution. Weights [kh][kw][oc][ic]. Same epilogue as the
 * depthwise one (s->post must be 0). */
void mf_nn_deconv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwoi, const float *bias,
                        const float *alpha, const float *residual, float *out);

/* Fast convolution (any kh, kw, strides, dilations, padding; 1x1 stride 1 is a plain GEMM).
 * Packed weights include bias, alpha and post (same meaning as for mf_nn_conv2d_ref). Sizes are in floats. */
size_t mf_nn_conv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa);
void mf_nn_conv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwio, const float *bias,
                       const float *alpha, const float *post, float *packed);
size_t mf_nn_conv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth);
void mf_nn_conv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                      const float *residual, float *out, float *scratch, int ith, int nth);

/* 1 when the fast path of this ISA runs `s` with Winograd F(2x2,3x3) (3x3, stride 1, no dilation, enough
 * channels): its packed size and scratch differ, and results differ from the direct sum by rounding only. */
int mf_nn_conv2d_uses_winograd(const mf_nn_conv_shape *s, mf_nn_isa isa);

/* Fast depthwise convolution, same scheme. */
size_t mf_nn_dwconv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa);
void mf_nn_dwconv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwim, const float *bias,
                         const float *alpha, float *packed);
size_t mf_nn_dwconv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth);
void mf_nn_dwconv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                        const float *residual, float *out, float *scratch, int ith, int nth);

/* Fast transposed convolution, same scheme (may be simple: it is used by one model, selfie). */
size_t mf_nn_deconv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa);
void mf_nn_deconv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwoi, const float *bias,
                         const float *alpha, float *packed);
size_t mf_nn_deconv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth);
void mf_nn_deconv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                        const float *residual, float *out, float *scratch, int ith, int nth);

/* Buffers of the fast path: `packed` and `scratch` must be 64-byte aligned (MF_ASSERTed; e.g. aligned_alloc(64,
 * ...)); `in`, `out` and `residual` need only float alignment. Scratch is split into `nth` equal slices; pass the
 * same `nth` to `_scratch_size` and `_run`. `out` may be the same buffer as `residual` (in-place residual add) but
 * must not overlap `in`. Sizes are small: conv and deconv need at most MF_NN_GEMM_MC *
 * MF_NN_GEMM_KC floats per thread (96 KiB; 0 for 1x1 stride-1 convs), depthwise needs none. */

/* ---- Internal: shared between conv.c (drivers, packing, scalar micro-kernels) and conv_avx2.c. ---- */

enum {
    MF_NN_GEMM_NR = 16,  /* width of a packed weight panel (output channels); the last one is 8 if oc%16 is 1..8 */
    MF_NN_GEMM_MC = 96,  /* rows of A handled per block (multiple of every ISA's micro-tile height) */
    MF_NN_GEMM_KC = 256, /* depth of a k block: longer reductions are split into near-equal blocks */
};

/* One call of an ISA's GEMM macro-kernel: c[m][0..nr) (=|+=) a[m][0..kc) * b[kc][nrp] with epilogue.
 * Packed panel layout (conv/deconv): bias[nrp], alpha[nrp], scale[nrp], shift[nrp], B[K][nrp] (zero-padded
 * columns). */
typedef struct {
    int m;          /* rows */
    int nr, nrp;    /* valid columns (1..nrp) and panel width (8 or 16) */
    int kc;         /* depth of this k block */
    const float *a; /* row r at a + r*lda */
    size_t lda;
    const float *b; /* kc x nrp */
    float *c;       /* row r at c + r*ldc */
    size_t ldc;
    const float *bias;  /* first k block: accumulators start from these nrp values (+ res); NULL: from c */
    const float *res;   /* residual, same stride as c, or NULL; added with the bias in the first k block */
    const float *alpha; /* nrp PReLU slopes */
    const float *post;  /* NULL, or 2*nrp: scale then shift, applied after the activation when last */
    int act;            /* mf_nn_act, applied when last */
    int last;           /* last k block: apply the activation */
} mf_nn_gemm_block;

/* One output row of a depthwise convolution with channel multiplier 1. Packed depthwise layout: weights
 * [kh*kw][cpad], bias[cpad], alpha[cpad] with cpad = oc rounded up to 8 (zero padding). */
typedef struct {
    const mf_nn_conv_shape *s;
    const float *w, *bias, *alpha; /* within the packed buffer */
    int cpad;
    const float *in;  /* first pixel of this batch item's input */
    const float *res; /* residual row or NULL */
    float *out;       /* output row */
    int iy0;          /* y*sh - pad_t */
    int ky_lo, ky_hi; /* kernel rows whose input row exists */
    int x_lo, x_hi;   /* output columns whose taps all lie inside the input row */
} mf_nn_dw_row;

/* The row of a depthwise convolution s over `packed` (mf_nn_dwconv2d_pack's layout): shape, weights, bias, slopes,
 * padding and the interior columns; mf_nn_dw_row_at then points it at output row q (batch item q / oh, row q % oh)
 * of in, residual (or NULL) and out. mf_nn_dwconv2d_run builds its rows so. */
void mf_nn_dw_row_init(const mf_nn_conv_shape *s, const float *packed, mf_nn_dw_row *r);
void mf_nn_dw_row_at(mf_nn_dw_row *r, const float *in, const float *residual, float *out, size_t q);

/* One block of tiles of a Winograd F(2x2,3x3) convolution (3x3, stride 1, no dilation; see conv.c).
 * Input transform: tiles t0..t0+nt-1 of `in` -> v[xi][i][c] at v + xi*vstride + i*ldv + c (16 matrices xi = 4y+x;
 * ldv >= ic rounded up to 8, the padding lanes written as zeros). Output transform: m[xi][i][c] at
 * m + xi*mstride + i*ldm + c -> out, with bias, residual, activation and post epilogue (epilogue vectors padded
 * to a multiple of 8 channels). Tile t: batch item t / (th*tw), output rows 2*(r / tw) + {0,1} and columns
 * 2*(r % tw) + {0,1} with r = t % (th*tw); outputs past oh/ow are dropped. */
typedef struct {
    const mf_nn_conv_shape *s;
    int t0, nt, th, tw;
    const float *in; /* input transform */
    float *v;
    int ldv;
    size_t vstride;
    const float *m; /* output transform */
    int ldm;
    size_t mstride;
    const float *bias, *alpha, *scale, *shift;
    const float *res;
    float *out;
} mf_nn_wino_io;

/* Tile t of a Winograd block: its batch item and first output row and column (the layout above). */
static inline void mf_nn_wino_tile_pos(const mf_nn_wino_io *w, int t, int *b, int *oy, int *ox) {
    const int per = w->th * w->tw;
    *b = t / per;
    const int r = t % per;
    *oy = 2 * (r / w->tw);
    *ox = 2 * (r % w->tw);
}

/* The 4x4 input patch of the tile at (b, oy, ox): rows[k] its k-th input row (NULL above or below the input),
 * colok[k] whether its k-th column lies inside; returns the patch's first input column. Shared by the transforms of
 * every ISA (winograd_avx2.c, winograd_avx512.c). */
static inline int mf_nn_wino_tile_in(const mf_nn_wino_io *w, int b, int oy, int ox, const float *rows[4], int colok[4]) {
    const mf_nn_conv_shape *s = w->s;
    const int iy0 = oy - s->pad_t, ix0 = ox - s->pad_l;
    for (int k = 0; k < 4; k++) {
        const int iy = iy0 + k, ix = ix0 + k;
        rows[k] = iy >= 0 && iy < s->ih ? w->in + ((size_t)b * s->ih + (size_t)iy) * s->iw * (size_t)s->ic : NULL;
        colok[k] = ix >= 0 && ix < s->iw;
    }
    return ix0;
}

void mf_nn_gemm_block_avx2(const mf_nn_gemm_block *g);
/* The AVX2 (256-bit) kernel alone, and the AVX-512 kernel for nrp == 16 panels (conv_avx512.c), which
 * mf_nn_gemm_block_avx2 prefers where mf_nn_gemm_avx512_usable(): the CPU has AVX-512F and MFMC_ISA is not "avx2"
 * (read once per process). Both give bit-identical results. */
void mf_nn_gemm_block_avx2_ymm(const mf_nn_gemm_block *g);
void mf_nn_gemm_block_avx512(const mf_nn_gemm_block *g);
/* Two adjacent 16-column panels of one k block at once (g0 whole, nr 16; g1 any nr): the same a, lda, m, kc, ldc,
 * act and last, each its own b, c, bias, res, alpha and post (both with or both without bias, res and post). The
 * same outputs, bit for bit, as mf_nn_gemm_block_avx512 on g0 then on g1, with a 12 x 32 tile (conv_avx512.c).
 * mf_nn_gemm_pair_avx2 calls it where mf_nn_gemm_avx512_usable(), else the two blocks one after the other. */
void mf_nn_gemm_pair_avx512(const mf_nn_gemm_block *g0, const mf_nn_gemm_block *g1);
void mf_nn_gemm_pair_avx2(const mf_nn_gemm_block *g0, const mf_nn_gemm_block *g1);
int mf_nn_gemm_avx512_usable(void);
void mf_nn_wino_input_avx2(const mf_nn_wino_io *w);
void mf_nn_wino_output_avx2(const mf_nn_wino_io *w);
/* The AVX2 transforms alone, and the AVX-512 ones (winograd_avx512.c), which the two above prefer where
 * mf_nn_gemm_avx512_usable(). All give bit-identical results and write the same lanes. */
void mf_nn_wino_input_avx2_ymm(const mf_nn_wino_io *w);
void mf_nn_wino_output_avx2_ymm(const mf_nn_wino_io *w);
void mf_nn_wino_input_avx512(const mf_nn_wino_io *w);
void mf_nn_wino_output_avx512(const mf_nn_wino_io *w);
void mf_nn_dw_row_avx2(const mf_nn_dw_row *r);
/* The AVX2 depthwise row alone; mf_nn_dw_row_avx2 runs the row's interior with mf_nn_dw_span_avx512 where
 * mf_nn_gemm_avx512_usable(). Both give bit-identical results. */
void mf_nn_dw_row_avx2_ymm(const mf_nn_dw_row *r);
/* The interior pixels x0..x1 of row r (every tap inside the input row; x1 - x0 a multiple of 4) with 16-channel
 * AVX-512 registers (dw_avx512.c), for kernels 3 or 5 wide, stride 1 or 2, no dilation: returns 1 when done, 0 when
 * the shape is not one of those (nothing written). Only where mf_nn_gemm_avx512_usable(). */
int mf_nn_dw_span_avx512(const mf_nn_dw_row *r, int x0, int x1);
enum { MF_NN_AVX2_MR = 6 };

/* Taps t in [*lo, *hi) of a kernel of size k, dilation d, first input index i0 fall inside [0, n). */
static inline void mf_nn_tap_range(int i0, int k, int d, int n, int *lo, int *hi) {
    int l = i0 < 0 ? (-i0 + d - 1) / d : 0;
    int h = i0 > n - 1 ? 0 : (n - 1 - i0) / d + 1;
    if (l > k) l = k;
    if (h > k) h = k;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

/* Matrix multiply C[m][n] = act(A[m][k] * B[k][n] + bias + residual) (MatMul / fully connected layers) is a 1x1
 * convolution with n=1, ih=m, iw=1, ic=k, oc=n: use the conv2d functions. */

#endif
