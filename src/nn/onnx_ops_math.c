/* ONNX converter: elementwise ops and activations, BatchNormalization, Softmax, MatMul/Gemm, reductions. */
#include "nn/onnx_convert.h"

/* ---------------------------------------------------------------- elementwise */

int mf_onnx_op_binary(ctx *c, int op) {
    int av, bv, st;
    if ((st = mf_onnx_in_val(c, 0, &av)) || (st = mf_onnx_in_val(c, 1, &bv))) return st;
    int b_node = c->v[bv].node;
    /* x - k -> x + (-k), x / k -> x * (1/k): the planner folds Add and Mul with constants into convolutions */
    if ((op == MF_NN_OP_SUB || op == MF_NN_OP_REALDIV) && mf_onnx_is_const(c, b_node) &&
        !mf_onnx_is_const(c, c->v[av].node) && c->dty[b_node] == MF_NN_F32) {
        size_t n = sh_numel(&c->shp[b_node]);
        float *d = malloc(n * sizeof *d);
        if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        const float *src = c->cst[b_node];
        for (size_t i = 0; i < n; i++)
            d[i] = op == MF_NN_OP_SUB ? -src[i] : 1.0f / src[i];
        int k = mf_onnx_add_const(c, MF_NN_F32, &c->shp[b_node], d, "%s#%s", c->oname,
                                  op == MF_NN_OP_SUB ? "neg" : "recip");
        if (k < 0) return k;
        if ((bv = mf_onnx_new_value(c, NO_NAME, k, c->v[bv].layout, NULL)) < 0) return bv;
        op = op == MF_NN_OP_SUB ? MF_NN_OP_ADD : MF_NN_OP_MUL;
    }
    mf_nn_shape as = mf_onnx_oshape(c, av), bs = mf_onnx_oshape(c, bv);
    int rank = as.ndim > bs.ndim ? as.ndim : bs.ndim, layout = LAY_ONNX, in[2];
    if (rank == 4 && (c->v[av].layout == LAY_NHWC || c->v[bv].layout == LAY_NHWC)) {
        layout = LAY_NHWC;
        in[0] = mf_onnx_node_bcast_nhwc(c, av);
        if (in[0] < 0) return in[0];
        in[1] = mf_onnx_node_bcast_nhwc(c, bv);
    } else {
        in[0] = mf_onnx_node_in(c, av, LAY_ONNX);
        if (in[0] < 0) return in[0];
        in[1] = mf_onnx_node_in(c, bv, LAY_ONNX);
    }
    if (in[1] < 0) return in[1];
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, op, in, 2, NULL, "%s", c->oname), layout);
}

int mf_onnx_op_unary(ctx *c, int op) {
    int xv, st;
    if ((st = mf_onnx_in_val(c, 0, &xv))) return st;
    int x = c->v[xv].node;
    if (c->dty[x] != MF_NN_F32) return mf_error_set(MF_ERR_UNSUPPORTED, "integer operand");
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, op, &x, 1, NULL, "%s", c->oname), c->v[xv].layout);
}

int mf_onnx_alias(ctx *c, int xv) {
    if (c->nd->n_out < 1 || c->nd->out[0].n == 0) return MF_OK;
    int vi = mf_onnx_new_value(c, c->nd->out[0], c->v[xv].node, c->v[xv].layout, NULL);
    if (vi < 0) return vi;
    c->v[vi].alt = c->v[xv].alt;
    return MF_OK;
}

int mf_onnx_op_identity(ctx *c) {
    int xv, st;
    if ((st = mf_onnx_in_val(c, 0, &xv))) return st;
    return mf_onnx_alias(c, xv);
}

int mf_onnx_op_dropout(ctx *c) {
    int xv, tv, st;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_opt_val(c, 2, &tv))) return st;
    mf_onnx_attr_ignore(c, "ratio");
    mf_onnx_attr_ignore(c, "seed");
    mf_onnx_attr_ignore(c, "is_test");
    if (tv >= 0) {
        int t;
        if ((st = mf_onnx_const_in(c, 2, MF_NN_I32, &t))) return st;
        if (((const int32_t *)c->cst[t])[0]) return mf_error_set(MF_ERR_UNSUPPORTED, "Dropout in training mode");
    }
    return mf_onnx_alias(c, xv);
}

/* Per-channel constant for value vi (channel axis 1 in ONNX order), shaped to broadcast in its layout. */
static int channel_const(ctx *c, int vi, const float *v, float fill, const char *suffix) {
    mf_nn_shape xs = mf_onnx_oshape(c, vi), s = {1, {xs.dim[1]}};
    if (c->v[vi].layout == LAY_ONNX && xs.ndim > 2) {
        s.ndim = xs.ndim - 1;
        for (int i = 1; i < s.ndim; i++)
            s.dim[i] = 1;
    }
    return mf_onnx_const_f32(c, &s, v, fill, suffix);
}

int mf_onnx_op_leaky_relu(ctx *c) {
    int xv, st;
    float alpha;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_float(c, "alpha", 0.01f, &alpha))) return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int k = xs.ndim >= 2 ? channel_const(c, xv, NULL, alpha, "alpha")
                         : mf_onnx_const_f32(c, &(mf_nn_shape){1, {1}}, NULL, alpha, "alpha");
    if (k < 0) return k;
    int in[2] = {c->v[xv].node, k};
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_PRELU, in, 2, NULL, "%s", c->oname), c->v[xv].layout);
}

int mf_onnx_op_clip(ctx *c) {
    int xv, st;
    float lo = -FLT_MAX, hi = FLT_MAX;
    if ((st = mf_onnx_in_val(c, 0, &xv))) return st;
    if (c->opset < 11) {
        if ((st = mf_onnx_attr_float(c, "min", -FLT_MAX, &lo)) || (st = mf_onnx_attr_float(c, "max", FLT_MAX, &hi)))
            return st;
    } else {
        int v;
        if ((st = mf_onnx_opt_val(c, 1, &v)) || (v >= 0 && (st = mf_onnx_const_scalar_in(c, 1, &lo)))) return st;
        if ((st = mf_onnx_opt_val(c, 2, &v)) || (v >= 0 && (st = mf_onnx_const_scalar_in(c, 2, &hi)))) return st;
    }
    int x = c->v[xv].node, layout = c->v[xv].layout;
    if (lo == 0 && hi == 6)
        return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_RELU6, &x, 1, NULL, "%s", c->oname), layout);
    if (lo == 0 && hi >= FLT_MAX)
        return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_RELU, &x, 1, NULL, "%s", c->oname), layout);
    mf_nn_shape sc = {0, {0}};
    if (lo > -FLT_MAX) {
        int k = mf_onnx_const_f32(c, &sc, NULL, lo, "min");
        if (k < 0) return k;
        int in[2] = {x, k};
        int last = hi >= FLT_MAX;
        if ((x = mf_onnx_add_node(c, MF_NN_OP_MAXIMUM, in, 2, NULL, last ? "%s" : "%s#max", c->oname)) < 0) return x;
    }
    if (hi < FLT_MAX) {
        int k = mf_onnx_const_f32(c, &sc, NULL, hi, "max");
        if (k < 0) return k;
        int in[2] = {x, k};
        x = mf_onnx_add_node(c, MF_NN_OP_MINIMUM, in, 2, NULL, "%s", c->oname);
    }
    return mf_onnx_def_out(c, 0, x, layout);
}

int mf_onnx_op_batchnorm(ctx *c) {
    int xv, st, p[4];
    float eps;
    int64_t spatial, training;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_float(c, "epsilon", 1e-5f, &eps)) ||
        (st = mf_onnx_attr_int(c, "spatial", 1, &spatial)) || (st = mf_onnx_attr_int(c, "training_mode", 0, &training)))
        return st;
    mf_onnx_attr_ignore(c, "momentum");
    mf_onnx_attr_ignore(c, "is_test");
    mf_onnx_attr_ignore(c, "consumed_inputs");
    if (spatial != 1 || training)
        return mf_error_set(MF_ERR_UNSUPPORTED, "BatchNormalization with spatial=0 or in training mode");
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    if (xs.ndim < 2) return mf_error_set(MF_ERR_FORMAT, "input of rank %d", xs.ndim);
    int C = xs.dim[1];
    for (int j = 0; j < 4; j++) {
        if ((st = mf_onnx_const_in(c, 1 + j, MF_NN_F32, &p[j]))) return st;
        if (sh_numel(&c->shp[p[j]]) != (size_t)C)
            return mf_error_set(MF_ERR_FORMAT, "input %d has %zu values for %d channels", 1 + j,
                                sh_numel(&c->shp[p[j]]), C);
    }
    float *sc = malloc((size_t)C * sizeof *sc), *sh = malloc((size_t)C * sizeof *sh);
    if (!sc || !sh) {
        free(sc);
        free(sh);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    const float *scale = c->cst[p[0]], *bias = c->cst[p[1]], *mean = c->cst[p[2]], *var = c->cst[p[3]];
    for (int i = 0; i < C; i++) {
        sc[i] = scale[i] / sqrtf(var[i] + eps);
        sh[i] = bias[i] - mean[i] * sc[i];
    }
    int ks = channel_const(c, xv, sc, 0, "bn_scale"), kb = ks < 0 ? ks : channel_const(c, xv, sh, 0, "bn_shift");
    free(sc);
    free(sh);
    if (kb < 0) return kb;
    int in[2] = {c->v[xv].node, ks};
    int mul = mf_onnx_add_node(c, MF_NN_OP_MUL, in, 2, NULL, "%s#bn_mul", c->oname);
    if (mul < 0) return mul;
    in[0] = mul, in[1] = kb;
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_ADD, in, 2, NULL, "%s", c->oname), c->v[xv].layout);
}

/* Softmax over ONNX axis `a` (one axis) of value vi, in whatever layout stores it last; else transposed. */
static int softmax_axis(ctx *c, int vi, int a) {
    mf_nn_shape xs = mf_onnx_oshape(c, vi);
    int r = xs.ndim;
    if (c->v[vi].layout == LAY_NHWC && a == 1)
        return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_SOFTMAX, &c->v[vi].node, 1, NULL, "%s", c->oname),
                               LAY_NHWC);
    int x = mf_onnx_node_in(c, vi, LAY_ONNX);
    if (x < 0) return x;
    if (a == r - 1)
        return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_SOFTMAX, &x, 1, NULL, "%s", c->oname), LAY_ONNX);
    int perm[MF_NN_MAX_DIMS], inv[MF_NN_MAX_DIMS], k = 0;
    for (int i = 0; i < r; i++)
        if (i != a) perm[k++] = i;
    perm[r - 1] = a;
    for (int i = 0; i < r; i++)
        inv[perm[i]] = i;
    int t = mf_onnx_permute_node(c, x, perm, r, "axis_last");
    if (t < 0) return t;
    int s = mf_onnx_add_node(c, MF_NN_OP_SOFTMAX, &t, 1, NULL, "%s#softmax", c->oname);
    if (s < 0) return s;
    return mf_onnx_def_out(c, 0, mf_onnx_permute_node(c, s, inv, r, "axis_back"), LAY_ONNX);
}

int mf_onnx_op_softmax(ctx *c) {
    int xv, st, a = 0;
    int64_t axis;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_int(c, "axis", c->opset >= 13 ? -1 : 1, &axis)))
        return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int r = xs.ndim;
    if (r < 1) return mf_error_set(MF_ERR_FORMAT, "Softmax of a scalar");
    if ((st = mf_onnx_norm_axis(axis, r, &a))) return st;
    if (c->opset >= 13) return softmax_axis(c, xv, a);
    /* before opset 13: softmax over the flattened axes [a, r) */
    int after = 1, before = 1;
    for (int i = a + 1; i < r; i++)
        after &= xs.dim[i] == 1;
    for (int i = a; i < r - 1; i++)
        before &= xs.dim[i] == 1;
    if (after) return softmax_axis(c, xv, a);
    if (before) return softmax_axis(c, xv, r - 1);
    int x = mf_onnx_node_in(c, xv, LAY_ONNX);
    if (x < 0) return x;
    int d2[2] = {1, 1};
    for (int i = 0; i < r; i++)
        d2[i >= a] *= xs.dim[i];
    int f = mf_onnx_reshape_node(c, x, d2, 2, "2d");
    if (f < 0) return f;
    int s = mf_onnx_add_node(c, MF_NN_OP_SOFTMAX, &f, 1, NULL, "%s#softmax", c->oname);
    if (s < 0) return s;
    return mf_onnx_def_out(c, 0, mf_onnx_reshape_node(c, s, xs.dim, r, "back"), LAY_ONNX);
}

/* [lead..., K] x [K, N] with a constant B (already [K, N]). */
static int matmul(ctx *c, int av, int b, int final) {
    mf_nn_shape as = mf_onnx_oshape(c, av);
    if (as.ndim < 2) return mf_error_set(MF_ERR_UNSUPPORTED, "MatMul of a rank-%d tensor", as.ndim);
    int a = mf_onnx_node_in(c, av, LAY_ONNX);
    if (a < 0) return a;
    int r = as.ndim, N = c->shp[b].dim[1];
    if (r > 2) {
        int d2[2] = {1, as.dim[r - 1]};
        for (int i = 0; i < r - 1; i++)
            d2[0] *= as.dim[i];
        if ((a = mf_onnx_reshape_node(c, a, d2, 2, "2d")) < 0) return a;
    }
    int in[2] = {a, b};
    int mm = mf_onnx_add_node(c, MF_NN_OP_MATMUL, in, 2, NULL, final && r == 2 ? "%s" : "%s#matmul", c->oname);
    if (mm < 0 || r == 2) return mm;
    int dims[MF_NN_MAX_DIMS];
    memcpy(dims, as.dim, sizeof dims);
    dims[r - 1] = N;
    return mf_onnx_reshape_node(c, mm, dims, r, "nd");
}

int mf_onnx_op_matmul(ctx *c) {
    int av, b, st;
    if ((st = mf_onnx_in_val(c, 0, &av)) || (st = mf_onnx_const_in(c, 1, MF_NN_F32, &b))) return st;
    if (c->shp[b].ndim != 2)
        return mf_error_set(MF_ERR_UNSUPPORTED, "MatMul with a rank-%d second operand", c->shp[b].ndim);
    return mf_onnx_def_out(c, 0, matmul(c, av, b, 1), LAY_ONNX);
}

int mf_onnx_op_gemm(ctx *c) {
    int av, b, cv, st;
    int64_t ta, tb;
    float alpha, beta;
    if ((st = mf_onnx_in_val(c, 0, &av)) || (st = mf_onnx_const_in(c, 1, MF_NN_F32, &b)) ||
        (st = mf_onnx_opt_val(c, 2, &cv)) || (st = mf_onnx_attr_int(c, "transA", 0, &ta)) ||
        (st = mf_onnx_attr_int(c, "transB", 0, &tb)) || (st = mf_onnx_attr_float(c, "alpha", 1, &alpha)) ||
        (st = mf_onnx_attr_float(c, "beta", 1, &beta)))
        return st;
    mf_onnx_attr_ignore(c, "broadcast"); /* opset < 7: broadcasting of C is always on in our Add */
    mf_nn_shape as = mf_onnx_oshape(c, av);
    if (as.ndim != 2 || c->shp[b].ndim != 2) return mf_error_set(MF_ERR_FORMAT, "Gemm operands must be 2-D");
    static const int T2[2] = {1, 0};
    if (ta) {
        int t = mf_onnx_node_in(c, av, LAY_ONNX);
        if (t < 0 || (t = mf_onnx_permute_node(c, t, T2, 2, "at")) < 0) return t;
        if ((av = mf_onnx_new_value(c, NO_NAME, t, LAY_ONNX, NULL)) < 0) return av;
    }
    if (tb && (b = mf_onnx_permute_node(c, b, T2, 2, "bt")) < 0) return b;
    if (alpha != 1.0f) {
        int k = mf_onnx_const_f32(c, &(mf_nn_shape){0, {0}}, NULL, alpha, "alpha");
        if (k < 0) return k;
        int in[2] = {b, k};
        if ((b = mf_onnx_add_node(c, MF_NN_OP_MUL, in, 2, NULL, "%s#b_alpha", c->oname)) < 0) return b;
        if (!mf_onnx_is_const(c, b)) return mf_error_set(MF_ERR_LIMIT, "weights too large to scale");
    }
    int mm = matmul(c, av, b, cv < 0);
    if (mm < 0 || cv < 0) return mf_onnx_def_out(c, 0, mm, LAY_ONNX);
    int k = mf_onnx_node_in(c, cv, LAY_ONNX);
    if (k < 0) return k;
    if (beta != 1.0f) {
        int s = mf_onnx_const_f32(c, &(mf_nn_shape){0, {0}}, NULL, beta, "beta");
        if (s < 0) return s;
        int in[2] = {k, s};
        if ((k = mf_onnx_add_node(c, MF_NN_OP_MUL, in, 2, NULL, "%s#c_beta", c->oname)) < 0) return k;
    }
    int in[2] = {mm, k};
    int out = mf_onnx_add_node(c, MF_NN_OP_ADD, in, 2, NULL, "%s", c->oname);
    if (out >= 0 && memcmp(&c->shp[out], &c->shp[mm], sizeof c->shp[mm]))
        return mf_error_set(MF_ERR_FORMAT, "C does not broadcast to the product's shape");
    return mf_onnx_def_out(c, 0, out, LAY_ONNX);
}
int mf_onnx_op_reduce(ctx *c, int op, int input_from) {
    int xv, st, n;
    int64_t axes[MF_NN_MAX_DIMS], keep, noop;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_read_axes(c, input_from, axes, &n)) ||
        (st = mf_onnx_attr_int(c, "keepdims", 1, &keep)) ||
        (st = mf_onnx_attr_int(c, "noop_with_empty_axes", 0, &noop)))
        return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int r = xs.ndim, red[MF_NN_MAX_DIMS] = {0}, sa[MF_NN_MAX_DIMS], ns = 0;
    if (n <= 0 && noop) return mf_onnx_alias(c, xv);
    int nhwc = c->v[xv].layout == LAY_NHWC;
    for (int i = 0; i < (n < 0 ? r : n); i++) {
        int a = i;
        if (n >= 0 && (st = mf_onnx_norm_axis(axes[i], r, &a))) return st;
        red[a] = 1;
    }
    if (n == 0)
        for (int i = 0; i < r; i++)
            red[i] = 1;
    for (int k = 0; k < r; k++) /* stored axes reduced */
        if (red[nhwc ? TO_NHWC[k] : k]) sa[ns++] = k;
    int ka = mf_onnx_const_i32(c, sa, ns, "axes");
    if (ka < 0) return ka;
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    a.keep_dims = keep != 0;
    int in[2] = {c->v[xv].node, ka};
    if (keep || !nhwc)
        return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, op, in, 2, &a, "%s", c->oname), c->v[xv].layout);
    /* NHWC without keepdims: the remaining axes are in stored order; put them back in ONNX order */
    int y = mf_onnx_add_node(c, op, in, 2, &a, "%s#reduce", c->oname);
    if (y < 0) return y;
    int left[4], nl = 0, perm[4];
    for (int k = 0; k < 4; k++)
        if (!red[TO_NHWC[k]]) left[nl++] = TO_NHWC[k];
    for (int i = 0; i < nl; i++) { /* perm sorts `left` */
        int rank = 0;
        for (int j = 0; j < nl; j++)
            rank += left[j] < left[i];
        perm[rank] = i;
    }
    if (nl == 0) return mf_onnx_def_out(c, 0, y, LAY_ONNX);
    return mf_onnx_def_out(c, 0, mf_onnx_permute_node(c, y, perm, nl, "order"), LAY_ONNX);
}
