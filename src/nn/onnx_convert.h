/* Shared by the files of the ONNX converter (onnx.c: driver and op table; onnx_ir.c: value table, IR building
 * and layouts; onnx_attrs.c: attribute readers; onnx_ops_*.c: the op converters). Not part of the public API.
 * Conventions (layouts, folding at load) are described at the top of onnx.c. To add an op: write its converter
 * in the onnx_ops_*.c file of its kind, declare it below, and add one row to OPS in onnx.c (the op table). */
#ifndef MF_NN_ONNX_CONVERT_H
#define MF_NN_ONNX_CONVERT_H

#include "nn/graph.h"
#include "nn/onnx_pb.h"
#include "nn/ops.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LAY_ONNX = 0, LAY_NHWC = 1 };
/* Newest default-domain opset whose semantics the converters follow (a version, not a cap; the caps of the
 * converter are MF_ONNX_* in mfmc/limits.h). */
enum { MAX_OPSET = 21 };
enum { ABSENT = -1001 }; /* mf_onnx_find_attr: attribute not present (statuses are > -100) */
#define FILE_CAP ((size_t)MF_NN_MAX_WEIGHT_BYTES + (size_t)MF_NN_MAX_JSON_BYTES)

typedef struct {
    mf_pb_span name;
    int node;        /* IR node holding the value; -1 when unusable */
    int layout;      /* LAY_ONNX or LAY_NHWC */
    int alt;         /* the value in the other layout, once made (-1) */
    const char *why; /* unusable: the reason */
} val_t;

typedef struct {
    mf_nn_model_t *m;
    const uint8_t *base;
    int64_t opset;
    val_t *v;
    int n_v, cap_v;
    int *slot;
    size_t cap_slot;
    /* per IR node: resolved shape, dtype and constant data (the planner's value table) */
    mf_nn_shape *shp;
    int *dty;
    const void **cst;
    int cap_n;
    size_t const_bytes;
    mf_nn_rop rop;
    /* the node being converted */
    const mf_onnx_node *nd;
    mf_onnx_attr attrs[MF_ONNX_MAX_ATTRS];
    char used[MF_ONNX_MAX_ATTRS];
    int n_attrs;
    char oname[MF_ONNX_MAX_NAME + 1]; /* first output name of the node, for IR node names */
    int perm_to_nhwc, perm_to_onnx;   /* cached permutation constants */
} ctx;

static const mf_pb_span NO_NAME = {(const uint8_t *)"", 0}; /* loader-made values that no node can name */
static const int TO_NHWC[4] = {0, 2, 3, 1};                 /* NCHW -> NHWC */
static const int TO_NCHW[4] = {0, 3, 1, 2};                 /* NHWC -> NCHW */
static const int ONNX_TO_STORED[4] = {0, 3, 1, 2};          /* position in NHWC storage of ONNX (NCHW) axis j */

static inline int span_eq(mf_pb_span a, const char *s) { return a.n == strlen(s) && !memcmp(a.p, s, a.n); }
static inline int span_len(mf_pb_span s) { return (int)(s.n > 200 ? 200 : s.n); } /* for "%.*s" in messages */

static inline size_t sh_numel(const mf_nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)(s->dim[i] < 0 ? 1 : s->dim[i]);
    return n;
}

/* ---- functions shared between the converter's files (value table, IR building, layouts, attributes, the
 * op converters called by the op table) ---- */
/* value table, IR building, layouts (onnx_ir.c) */
int mf_onnx_map_find(const ctx *c, mf_pb_span s);
int mf_onnx_new_value(ctx *c, mf_pb_span name, int node, int layout, const char *why);
int mf_onnx_check_name(mf_pb_span s, const char *what);
int mf_onnx_finish(ctx *c, int id);
int mf_onnx_add_node(ctx *c, int op, const int *in, int n_in, const mf_nn_attrs *a, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
int mf_onnx_add_const(ctx *c, int dtype, const mf_nn_shape *s, void *data, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int mf_onnx_const_i32(ctx *c, const int *v, int n, const char *suffix);
int mf_onnx_const_f32(ctx *c, const mf_nn_shape *s, const float *v, float fill, const char *suffix);
int mf_onnx_reshape_node(ctx *c, int x, const int *dims, int nd, const char *suffix);
int mf_onnx_permute_node(ctx *c, int x, const int *perm, int rank, const char *suffix);
mf_nn_shape mf_onnx_oshape(const ctx *c, int vi);
int mf_onnx_node_in(ctx *c, int vi, int layout);
int mf_onnx_node_bcast_nhwc(ctx *c, int vi);
int mf_onnx_is_const(const ctx *c, int id);
int mf_onnx_def_out(ctx *c, int k, int node, int layout);
int mf_onnx_in_val(ctx *c, int j, int *vi);
int mf_onnx_opt_val(ctx *c, int j, int *vi);
int mf_onnx_const_in(ctx *c, int j, int dtype, int *id);
int mf_onnx_const_ints_in(ctx *c, int j, int64_t *out, int cap, int *n);
int mf_onnx_const_scalar_in(ctx *c, int j, float *out);
/* attributes of the current node (onnx_attrs.c) */
int mf_onnx_find_attr(ctx *c, const char *name, int type);
int mf_onnx_attr_int(ctx *c, const char *name, int64_t def, int64_t *out);
int mf_onnx_attr_float(ctx *c, const char *name, float def, float *out);
int mf_onnx_attr_ints(ctx *c, const char *name, int64_t *out, int cap, int *n);
int mf_onnx_attr_str(ctx *c, const char *name, const char *def, char *out, size_t cap);
void mf_onnx_attr_ignore(ctx *c, const char *name);
int mf_onnx_attr_present(const ctx *c, const char *name);
int mf_onnx_attr_ints_n(ctx *c, const char *name, int want, int def, int lo, int hi, int *out);
int mf_onnx_norm_axis(int64_t axis, int rank, int *out);
/* op converters (onnx_ops_*.c), called from the op table; each converts c->nd */
int mf_onnx_op_conv(ctx *c);
int mf_onnx_op_pool(ctx *c, int op);
int mf_onnx_op_global_pool(ctx *c, int op);
int mf_onnx_op_pad(ctx *c);
int mf_onnx_op_binary(ctx *c, int op);
int mf_onnx_op_unary(ctx *c, int op);
int mf_onnx_alias(ctx *c, int xv);
int mf_onnx_op_identity(ctx *c);
int mf_onnx_op_dropout(ctx *c);
int mf_onnx_op_leaky_relu(ctx *c);
int mf_onnx_op_clip(ctx *c);
int mf_onnx_op_batchnorm(ctx *c);
int mf_onnx_op_softmax(ctx *c);
int mf_onnx_op_matmul(ctx *c);
int mf_onnx_op_gemm(ctx *c);
int mf_onnx_op_reduce(ctx *c, int op, int input_from);
int mf_onnx_op_reshape(ctx *c);
int mf_onnx_op_flatten(ctx *c);
int mf_onnx_read_axes(ctx *c, int input_from, int64_t *axes, int *n);
int mf_onnx_op_squeeze(ctx *c);
int mf_onnx_op_unsqueeze(ctx *c);
int mf_onnx_op_transpose(ctx *c);
int mf_onnx_op_concat(ctx *c);
int mf_onnx_op_constant(ctx *c);
int mf_onnx_op_shape(ctx *c);
int mf_onnx_op_gather(ctx *c);
int mf_onnx_op_slice(ctx *c);
int mf_onnx_op_split(ctx *c);

#endif
