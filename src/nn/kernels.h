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
    int act;           /* mf_nn_act, applied last */
} mf_nn_conv_shape;

/* out = act(conv(in, w) + bias + residual). bias: [oc] or NULL. alpha: [oc], only for PRELU.
 * residual: NULL or a tensor shaped like out (added before the activation). */
void mf_nn_conv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwio, const float *bias,
                      const float *alpha, const float *residual, float *out);

/* Depthwise convolution with channel multiplier m = oc / ic; same contract as mf_nn_conv2d_ref. */
void mf_nn_dwconv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwim, const float *bias,
                        const float *alpha, const float *residual, float *out);

/* Transposed convolution (TF Conv2DBackpropInput, the gradient of a conv of shape `s` with the roles of input and
 * output swapped): here s->ih/iw/ic describe the *input of this op* (the small tensor), s->oh/ow/oc its output,
 * and pad_t/pad_l the padding of the forward convolution. Weights [kh][kw][oc][ic]. Same epilogue as above. */
void mf_nn_deconv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwoi, const float *bias,
                        const float *alpha, const float *residual, float *out);

/* Fast convolution (any kh, kw, strides, dilations, padding; 1x1 stride 1 is a plain GEMM).
 * Packed weights include bias and alpha. Sizes are in floats. */
size_t mf_nn_conv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa);
void mf_nn_conv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwio, const float *bias,
                       const float *alpha, float *packed);
size_t mf_nn_conv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth);
void mf_nn_conv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                      const float *residual, float *out, float *scratch, int ith, int nth);

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

/* Matrix multiply C[m][n] = act(A[m][k] * B[k][n] + bias + residual) (MatMul / fully connected layers) is a 1x1
 * convolution with n=1, ih=m, iw=1, ic=k, oc=n: use the conv2d functions. */

#endif
