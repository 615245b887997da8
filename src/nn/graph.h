/* Internal graph representation shared by the loaders (TF.js, ONNX, code-built models) and the planner.
 * Every node has exactly one output value, whose index equals the node's index. */
#ifndef MF_NN_GRAPH_H
#define MF_NN_GRAPH_H

#include "mfmc/nn.h"

#include <stdint.h>

/* X-macro: enum name, TF op name. */
#define MF_NN_OPS(X)                                                                                               \
    X(PLACEHOLDER, "Placeholder")                                                                                  \
    X(CONST, "Const")                                                                                              \
    X(IDENTITY, "Identity")                                                                                        \
    X(CONV2D, "Conv2D")                                                                                            \
    X(FUSED_CONV2D, "_FusedConv2D")                                                                                \
    X(DWCONV2D, "DepthwiseConv2dNative")                                                                           \
    X(FUSED_DWCONV2D, "FusedDepthwiseConv2dNative")                                                                \
    X(DECONV2D, "Conv2DBackpropInput")                                                                             \
    X(MATMUL, "MatMul")                                                                                            \
    X(FUSED_MATMUL, "_FusedMatMul")                                                                                \
    X(BIAS_ADD, "BiasAdd")                                                                                         \
    X(ADD, "Add")                                                                                                  \
    X(ADDV2, "AddV2")                                                                                              \
    X(ADDN, "AddN")                                                                                                \
    X(SUB, "Sub")                                                                                                  \
    X(MUL, "Mul")                                                                                                  \
    X(REALDIV, "RealDiv")                                                                                          \
    X(MINIMUM, "Minimum")                                                                                          \
    X(MAXIMUM, "Maximum")                                                                                          \
    X(RELU, "Relu")                                                                                                \
    X(RELU6, "Relu6")                                                                                              \
    X(PRELU, "Prelu")                                                                                              \
    X(SIGMOID, "Sigmoid")                                                                                          \
    X(TANH, "Tanh")                                                                                                \
    X(ABS, "Abs")                                                                                                  \
    X(SQUARE, "Square")                                                                                            \
    X(RSQRT, "Rsqrt")                                                                                              \
    X(EXP, "Exp")                                                                                                  \
    X(SOFTMAX, "Softmax")                                                                                          \
    X(MAXPOOL, "MaxPool")                                                                                          \
    X(AVGPOOL, "AvgPool")                                                                                          \
    X(MEAN, "Mean")                                                                                                \
    X(SUM, "Sum")                                                                                                  \
    X(MAX, "Max")                                                                                                  \
    X(PAD, "Pad")                                                                                                  \
    X(RESHAPE, "Reshape")                                                                                          \
    X(SQUEEZE, "Squeeze")                                                                                          \
    X(EXPAND_DIMS, "ExpandDims")                                                                                   \
    X(PACK, "Pack")                                                                                                \
    X(CONCAT, "ConcatV2")                                                                                          \
    X(STRIDED_SLICE, "StridedSlice")                                                                               \
    X(SHAPE, "Shape")                                                                                              \
    X(RESIZE_BILINEAR, "ResizeBilinear")                                                                           \
    X(DEPTH_TO_SPACE, "DepthToSpace")                                                                              \
    X(TRANSPOSE, "Transpose")                                                                                      \
    X(NOOP, "NoOp")

typedef enum {
#define X(e, s) MF_NN_OP_##e,
    MF_NN_OPS(X)
#undef X
        MF_NN_OP_COUNT
} mf_nn_op;

const char *mf_nn_op_name(int op);
/* Op code for a TF op name, or -1. */
int mf_nn_op_lookup(const char *tf_name);

typedef enum { MF_NN_F32 = 0, MF_NN_I32 = 1 } mf_nn_dtype;
typedef enum { MF_NN_PAD_VALID = 0, MF_NN_PAD_SAME = 1, MF_NN_PAD_EXPLICIT = 2 } mf_nn_padding;

enum { MF_NN_MAX_FUSED = 3 };

typedef struct {
    int strides[4], ksize[4], dilations[4]; /* NHWC order as in TF */
    int padding;                            /* mf_nn_padding */
    int explicit_pad[8];                    /* NHWC before/after pairs, for EXPLICIT */
    int fused[MF_NN_MAX_FUSED];             /* for _Fused*: op codes (BIAS_ADD, RELU, RELU6, PRELU) */
    int n_fused;
    int transpose_a, transpose_b;
    int keep_dims;
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
    int axis;                                /* Pack, ONNX-built Concat */
    int block_size;                          /* DepthToSpace */
    int align_corners, half_pixel_centers;   /* ResizeBilinear */
    int squeeze_dims[MF_NN_MAX_DIMS], n_squeeze;
    float epsilon;
} mf_nn_attrs;

typedef struct {
    char *name;
    int op;
    int n_in;
    int *in; /* indices of producer nodes */
    mf_nn_attrs a;
    /* Constants only (op CONST): dtype, shape and data (owned by the model). */
    int dtype;
    mf_nn_shape shape;
    void *data;
} mf_nn_node;

struct mf_nn_model {
    mf_nn_node *nodes;
    int n_nodes, cap_nodes;
    int *inputs, n_inputs;   /* node indices of the placeholders, in declared order */
    int *outputs, n_outputs; /* node indices of the outputs */
    char **output_names;     /* as declared ("Identity:0") */
    size_t weight_bytes;
};

/* Builder used by the loaders. Each returns a negative status with the message set on failure. */
int mf_nn_graph_init(mf_nn_model_t **out);
/* Adds a node; `name` is copied; `in` (n_in entries) copied. Returns the node index (>= 0) or a status (< 0). */
int mf_nn_graph_add(mf_nn_model_t *m, const char *name, int op, const int *in, int n_in);
/* Adds a float or int32 constant; takes ownership of `data` (malloc'd) even on failure. */
int mf_nn_graph_add_const(mf_nn_model_t *m, const char *name, int dtype, const mf_nn_shape *shape, void *data);
int mf_nn_graph_find(const mf_nn_model_t *m, const char *name);
int mf_nn_graph_add_output(mf_nn_model_t *m, int node, const char *declared_name);
void mf_nn_attrs_default(mf_nn_attrs *a);

/* Weight decoding shared by the TF.js loader and the face-api loader: one manifest entry. */
typedef struct {
    char name[256];
    int dtype; /* MF_NN_F32 or MF_NN_I32 */
    mf_nn_shape shape;
    void *data; /* malloc'd, decoded */
} mf_nn_weight;

/* Parses a weightsManifest JSON array (cJSON*) against concatenated shard bytes. On success *out is a malloc'd
 * array of *n weights (free each .data, then the array). */
struct cJSON;
int mf_nn_weights_decode(const struct cJSON *manifest, const uint8_t *bytes, size_t len, mf_nn_weight **out,
                         int *n);
void mf_nn_weights_free(mf_nn_weight *w, int n);

/* Reads the shards named by a manifest (paths relative to `dir`) and concatenates them (capped). */
int mf_nn_weights_read_shards(const struct cJSON *manifest, const char *dir, uint8_t **bytes, size_t *len);

#endif
