/* Shape inference and reference evaluation of graph ops (internal to src/nn).
 * mf_nn_rop_resolve() checks a node against its input shapes (and constant inputs where the op needs them) and
 * fills a resolved op; mf_nn_rop_eval() computes it. The planner uses eval both to fold constants and to run
 * every op that has no dedicated fast kernel. */
#ifndef MF_NN_OPS_H
#define MF_NN_OPS_H

#include "nn/graph.h"
#include "nn/kernels.h"

typedef enum { MF_NN_CK_CONV = 0, MF_NN_CK_DW = 1, MF_NN_CK_DECONV = 2 } mf_nn_conv_kind;

typedef struct {
    int op;    /* graph op */
    int n_in;  /* number of data inputs used at run time */
    int in_node[MF_NN_MAX_INPUTS];
    mf_nn_shape in_shape[MF_NN_MAX_INPUTS];
    mf_nn_shape out_shape;
    int dtype; /* of the output */

    /* conv-like ops (conv, depthwise, deconv, matmul) and pools */
    int conv_kind;
    mf_nn_conv_shape cs;
    const float *w;      /* weights in the kernel's layout (owned by the model or the plan) */
    const float *bias;   /* [oc] or NULL */
    const float *alpha;  /* [oc] for PReLU */
    const float *post;   /* [2*oc] scale, shift after the activation when cs.post (plain convolutions only) */
    int residual;        /* 1 = in[1] is a residual added before the activation */

    int axes;                      /* reduction bit mask */
    int pad[MF_NN_MAX_DIMS][2];    /* Pad */
    int begin[MF_NN_MAX_DIMS];     /* StridedSlice, in the full-rank index space */
    int stride[MF_NN_MAX_DIMS];
    mf_nn_shape slice_shape;       /* StridedSlice result before shrinking axes */
    int axis;                      /* Concat, Pack, Softmax */
    int perm[MF_NN_MAX_DIMS];      /* Transpose */
    int clamp;                     /* unary clamp ops */
} mf_nn_rop;

/* Resolves node `id` of `m`. in_shape/in_dtype/in_const are indexed by node (the planner's value table):
 * in_const[j] is the data of node j when it is constant (folded), else NULL. */
int mf_nn_rop_resolve(const mf_nn_model_t *m, int id, const mf_nn_shape *shapes, const int *dtypes,
                      const void *const *consts, mf_nn_rop *r);

/* Reference evaluation. `in` holds one pointer per data input (r->n_in), out the result buffer. Ops that can
 * split their work do so by (ith, nth); the others run entirely when ith == 0. */
void mf_nn_rop_eval(const mf_nn_rop *r, const void *const *in, void *out, int ith, int nth);

/* 1 when the op's output is its first input reinterpreted (Reshape, Squeeze, ExpandDims, Identity). */
int mf_nn_op_is_alias(int op);

/* Floating-point operations of one evaluation (multiply-add = 2), for statistics. */
double mf_nn_rop_flops(const mf_nn_rop *r);

#endif
