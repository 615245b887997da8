/* ONNX converter: shape ops (Reshape, Flatten, Squeeze/Unsqueeze, Transpose, Concat, Constant, Shape, Gather,
 * Slice, Split). */
#include "nn/onnx_convert.h"

/* ---------------------------------------------------------------- shape ops */

static int emit_reshape(ctx *c, int xv, const int *dims, int rank) {
    if (rank > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "rank %d (at most %d)", rank, MF_NN_MAX_DIMS);
    int x = mf_onnx_node_in(c, xv, LAY_ONNX);
    if (x < 0) return x;
    int k = mf_onnx_const_i32(c, dims, rank, "shape");
    if (k < 0) return k;
    int in[2] = {x, k};
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_RESHAPE, in, 2, NULL, "%s", c->oname), LAY_ONNX);
}

int mf_onnx_op_reshape(ctx *c) {
    int xv, st;
    int64_t shape[MF_ONNX_MAX_ATTR_VALUES], allowzero;
    int n;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_int(c, "allowzero", 0, &allowzero))) return st;
    if (c->opset < 5) {
        if ((st = mf_onnx_attr_ints(c, "shape", shape, MF_NN_MAX_DIMS, &n))) return st;
        if (n < 0) return mf_error_set(MF_ERR_FORMAT, "attribute 'shape' is missing");
    } else if ((st = mf_onnx_const_ints_in(c, 1, shape, MF_NN_MAX_DIMS, &n)))
        return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int dims[MF_NN_MAX_DIMS], infer = -1;
    size_t known = 1, total = sh_numel(&xs);
    for (int i = 0; i < n; i++) {
        int64_t v = shape[i];
        if (v == 0 && !allowzero) {
            if (i >= xs.ndim) return mf_error_set(MF_ERR_FORMAT, "shape[%d] = 0 copies a dimension the input lacks", i);
            v = xs.dim[i];
        }
        if (v == -1) {
            if (infer >= 0) return mf_error_set(MF_ERR_FORMAT, "shape has two -1 entries");
            infer = i;
            dims[i] = 1;
            continue;
        }
        if (v <= 0 || v > INT_MAX) return mf_error_set(MF_ERR_UNSUPPORTED, "shape[%d] = %lld", i, (long long)v);
        dims[i] = (int)v;
        if (mf_size_mul(known, (size_t)v, &known)) return mf_error_set(MF_ERR_FORMAT, "shape too large");
    }
    if (infer >= 0) {
        if (total % known) return mf_error_set(MF_ERR_FORMAT, "cannot reshape %zu elements with a -1 entry", total);
        dims[infer] = (int)(total / known);
    } else if (known != total)
        return mf_error_set(MF_ERR_FORMAT, "cannot reshape %zu elements to %zu", total, known);
    return emit_reshape(c, xv, dims, n);
}

int mf_onnx_op_flatten(ctx *c) {
    int xv, st, a = 0;
    int64_t axis;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_int(c, "axis", 1, &axis))) return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    if (axis == xs.ndim)
        a = xs.ndim;
    else if ((st = mf_onnx_norm_axis(axis, xs.ndim, &a)))
        return st;
    int d[2] = {1, 1};
    for (int i = 0; i < xs.ndim; i++)
        d[i >= a] *= xs.dim[i];
    return emit_reshape(c, xv, d, 2);
}

/* Axes of Squeeze/Unsqueeze/Reduce*: attribute before `input_from` opset, else the optional input 1. *n = -1
 * when absent. */
int mf_onnx_read_axes(ctx *c, int input_from, int64_t *axes, int *n) {
    if (c->opset < input_from) return mf_onnx_attr_ints(c, "axes", axes, MF_NN_MAX_DIMS, n);
    int v, st = mf_onnx_opt_val(c, 1, &v);
    *n = -1;
    if (st || v < 0) return st;
    return mf_onnx_const_ints_in(c, 1, axes, MF_NN_MAX_DIMS, n);
}

int mf_onnx_op_squeeze(ctx *c) {
    int xv, st, n, drop[MF_NN_MAX_DIMS] = {0}, dims[MF_NN_MAX_DIMS], r = 0;
    int64_t axes[MF_NN_MAX_DIMS];
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_read_axes(c, 13, axes, &n))) return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    for (int i = 0; i < n; i++) {
        int a = 0;
        if ((st = mf_onnx_norm_axis(axes[i], xs.ndim, &a))) return st;
        if (xs.dim[a] != 1) return mf_error_set(MF_ERR_FORMAT, "squeezing axis %d of size %d", a, xs.dim[a]);
        drop[a] = 1;
    }
    for (int i = 0; i < xs.ndim; i++)
        if (!(n < 0 ? xs.dim[i] == 1 : drop[i])) dims[r++] = xs.dim[i];
    return emit_reshape(c, xv, dims, r);
}

int mf_onnx_op_unsqueeze(ctx *c) {
    int xv, st, n, ins[MF_NN_MAX_DIMS + 8] = {0}, dims[MF_NN_MAX_DIMS];
    int64_t axes[MF_NN_MAX_DIMS];
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_read_axes(c, 13, axes, &n))) return st;
    if (n < 0) return mf_error_set(MF_ERR_FORMAT, "axes are missing");
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int r = xs.ndim + n;
    if (r > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "rank %d (at most %d)", r, MF_NN_MAX_DIMS);
    for (int i = 0; i < n; i++) {
        int a = 0;
        if ((st = mf_onnx_norm_axis(axes[i], r, &a))) return st;
        if (ins[a]) return mf_error_set(MF_ERR_FORMAT, "axis %d repeated", a);
        ins[a] = 1;
    }
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = ins[i] ? 1 : xs.dim[j++];
    return emit_reshape(c, xv, dims, r);
}

int mf_onnx_op_transpose(ctx *c) {
    int xv, st, n, perm[MF_NN_MAX_DIMS], seen = 0;
    int64_t p[MF_ONNX_MAX_ATTR_VALUES];
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_ints(c, "perm", p, MF_NN_MAX_DIMS, &n))) return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int r = xs.ndim;
    if (n < 0) {
        n = r;
        for (int i = 0; i < r; i++)
            p[i] = r - 1 - i;
    }
    if (n != r) return mf_error_set(MF_ERR_FORMAT, "perm has %d entries for rank %d", n, r);
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r || (seen >> p[i] & 1))
            return mf_error_set(MF_ERR_FORMAT, "perm is not a permutation");
        seen |= 1 << p[i];
        /* the stored position of ONNX axis p[i] */
        perm[i] = c->v[xv].layout == LAY_NHWC ? ONNX_TO_STORED[p[i]] : (int)p[i];
    }
    return mf_onnx_def_out(c, 0, mf_onnx_permute_node(c, c->v[xv].node, perm, r, "t"), LAY_ONNX);
}

int mf_onnx_op_concat(ctx *c) {
    int st, n = c->nd->n_in, vis[MF_ONNX_MAX_NODE_IO], a = 0, any_nhwc = 0;
    int64_t axis;
    if ((st = mf_onnx_attr_int(c, "axis", c->opset < 4 ? 1 : INT64_MIN, &axis))) return st;
    if (axis == INT64_MIN) return mf_error_set(MF_ERR_FORMAT, "attribute 'axis' is missing");
    for (int j = 0; j < n; j++) {
        if ((st = mf_onnx_in_val(c, j, &vis[j]))) return st;
        any_nhwc |= c->v[vis[j]].layout == LAY_NHWC;
    }
    mf_nn_shape s0 = mf_onnx_oshape(c, vis[0]);
    if ((st = mf_onnx_norm_axis(axis, s0.ndim, &a))) return st;
    if (n == 1) return mf_onnx_alias(c, vis[0]);
    int layout = s0.ndim == 4 && any_nhwc ? LAY_NHWC : LAY_ONNX, in[MF_ONNX_MAX_NODE_IO + 1];
    for (int j = 0; j < n; j++) {
        if (mf_onnx_oshape(c, vis[j]).ndim != s0.ndim) return mf_error_set(MF_ERR_FORMAT, "inputs of different ranks");
        if ((in[j] = mf_onnx_node_in(c, vis[j], layout)) < 0) return in[j];
    }
    int ax = layout == LAY_NHWC ? ONNX_TO_STORED[a] : a;
    if ((in[n] = mf_onnx_const_i32(c, &ax, 1, "axis")) < 0) return in[n];
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_CONCAT, in, n + 1, NULL, "%s", c->oname), layout);
}
int mf_onnx_op_constant(ctx *c) {
    int st, i;
    if ((i = mf_onnx_find_attr(c, "value", MF_ONNX_ATTR_TENSOR)) != ABSENT) {
        if (i < 0) return i;
        mf_onnx_tensor t;
        size_t numel;
        void *data;
        if ((st = mf_onnx_tensor_parse(c->attrs[i].t, c->base, &t)) ||
            (st = mf_onnx_tensor_numel(&t, (size_t)MF_NN_MAX_WEIGHT_BYTES / 4, &numel)))
            return st;
        int kind = mf_onnx_dtype_kind(t.data_type);
        if (kind < 0 || t.ndim > MF_NN_MAX_DIMS || numel == 0)
            return mf_error_set(MF_ERR_UNSUPPORTED, "constant of type %s, rank %d, %zu elements",
                                mf_onnx_dtype_name(t.data_type), t.ndim, numel);
        if ((st = mf_onnx_tensor_decode(&t, kind, numel, &data))) return st;
        mf_nn_shape s = {t.ndim, {0}};
        for (int k = 0; k < t.ndim; k++)
            s.dim[k] = (int)t.dims[k];
        return mf_onnx_def_out(c, 0, mf_onnx_add_const(c, kind ? MF_NN_F32 : MF_NN_I32, &s, data, "%s", c->oname),
                               LAY_ONNX);
    }
    float f;
    int64_t iv, ints[MF_ONNX_MAX_ATTR_VALUES];
    int n;
    if (mf_onnx_attr_present(c, "value_float")) {
        if ((st = mf_onnx_attr_float(c, "value_float", 0, &f))) return st;
        return mf_onnx_def_out(c, 0, mf_onnx_const_f32(c, &(mf_nn_shape){0, {0}}, NULL, f, "value"), LAY_ONNX);
    }
    if (mf_onnx_attr_present(c, "value_int")) {
        if ((st = mf_onnx_attr_int(c, "value_int", 0, &iv))) return st;
        int v = iv > INT_MAX ? INT_MAX : iv < INT_MIN ? INT_MIN : (int)iv;
        int k = mf_onnx_const_i32(c, &v, 1, "value");
        if (k >= 0) c->m->nodes[k].shape.ndim = 0, c->shp[k].ndim = 0;
        return mf_onnx_def_out(c, 0, k, LAY_ONNX);
    }
    if (mf_onnx_attr_present(c, "value_ints")) {
        if ((st = mf_onnx_attr_ints(c, "value_ints", ints, MF_ONNX_MAX_ATTR_VALUES, &n))) return st;
        if (n <= 0) return mf_error_set(MF_ERR_UNSUPPORTED, "empty constant");
        int v[MF_ONNX_MAX_ATTR_VALUES];
        for (int k = 0; k < n; k++)
            v[k] = ints[k] > INT_MAX ? INT_MAX : ints[k] < INT_MIN ? INT_MIN : (int)ints[k];
        return mf_onnx_def_out(c, 0, mf_onnx_const_i32(c, v, n, "value"), LAY_ONNX);
    }
    if (mf_onnx_attr_present(c, "value_floats")) {
        i = mf_onnx_find_attr(c, "value_floats", MF_ONNX_ATTR_FLOATS);
        if (i < 0) return i;
        n = c->attrs[i].n_floats;
        if (n <= 0 || n > MF_ONNX_MAX_ATTR_VALUES)
            return mf_error_set(MF_ERR_UNSUPPORTED, "value_floats with %d values", n);
        return mf_onnx_def_out(c, 0, mf_onnx_const_f32(c, &(mf_nn_shape){1, {n}}, c->attrs[i].floats, 0, "value"),
                               LAY_ONNX);
    }
    return mf_error_set(MF_ERR_UNSUPPORTED, "Constant without a supported value attribute");
}

int mf_onnx_op_shape(ctx *c) {
    int xv, st, r, lo, hi;
    int64_t start, end;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_int(c, "start", 0, &start)) ||
        (st = mf_onnx_attr_int(c, "end", INT64_MAX, &end)))
        return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    r = xs.ndim;
    if (start < 0) start += r;
    if (end < 0) end += r;
    lo = start < 0 ? 0 : start > r ? r : (int)start;
    hi = end < 0 ? 0 : end > r ? r : (int)end;
    if (hi <= lo) return mf_error_set(MF_ERR_UNSUPPORTED, "empty Shape");
    return mf_onnx_def_out(c, 0, mf_onnx_const_i32(c, xs.dim + lo, hi - lo, "shape"), LAY_ONNX);
}

/* Gather of constants (shape arithmetic), computed here. */
int mf_onnx_op_gather(ctx *c) {
    int xv, iv, st, a = 0;
    int64_t axis;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_in_val(c, 1, &iv)) ||
        (st = mf_onnx_attr_int(c, "axis", 0, &axis)))
        return st;
    int x = mf_onnx_node_in(c, xv, LAY_ONNX), ix = mf_onnx_node_in(c, iv, LAY_ONNX);
    if (x < 0 || ix < 0) return x < 0 ? x : ix;
    if (!mf_onnx_is_const(c, x) || !mf_onnx_is_const(c, ix) || c->dty[ix] != MF_NN_I32)
        return mf_error_set(MF_ERR_UNSUPPORTED, "Gather is only supported on constants");
    mf_nn_shape xs = c->shp[x], is = c->shp[ix], os = {0, {0}};
    if ((st = mf_onnx_norm_axis(axis, xs.ndim, &a))) return st;
    if (xs.ndim - 1 + is.ndim > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "Gather result rank too high");
    for (int i = 0; i < a; i++)
        os.dim[os.ndim++] = xs.dim[i];
    for (int i = 0; i < is.ndim; i++)
        os.dim[os.ndim++] = is.dim[i];
    for (int i = a + 1; i < xs.ndim; i++)
        os.dim[os.ndim++] = xs.dim[i];
    size_t outer = 1, inner = 1, ni = sh_numel(&is), d = (size_t)xs.dim[a];
    for (int i = 0; i < a; i++)
        outer *= (size_t)xs.dim[i];
    for (int i = a + 1; i < xs.ndim; i++)
        inner *= (size_t)xs.dim[i];
    size_t total = sh_numel(&os);
    if (total > MF_ONNX_FOLD_MAX_ELEMS) return mf_error_set(MF_ERR_LIMIT, "Gather result too large");
    uint32_t *out = malloc((total ? total : 1) * 4);
    if (!out) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    const uint32_t *src = c->cst[x];
    const int32_t *idx = c->cst[ix];
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < ni; k++) {
            long j = idx[k] < 0 ? (long)idx[k] + (long)d : idx[k];
            if (j < 0 || (size_t)j >= d) {
                free(out);
                return mf_error_set(MF_ERR_FORMAT, "Gather index %d out of range [0, %zu)", idx[k], d);
            }
            memcpy(out + (o * ni + k) * inner, src + (o * d + (size_t)j) * inner, inner * 4);
        }
    return mf_onnx_def_out(c, 0, mf_onnx_add_const(c, c->dty[x], &os, out, "%s", c->oname), LAY_ONNX);
}

/* StridedSlice of value xv with per-ONNX-axis begin/end/step (mask bit = whole axis). */
static int emit_slice(ctx *c, int xv, const int *b, const int *e, const int *s, int full_mask, int k_out) {
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int r = xs.ndim, nhwc = c->v[xv].layout == LAY_NHWC, sb[MF_NN_MAX_DIMS], se[MF_NN_MAX_DIMS], ss[MF_NN_MAX_DIMS];
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    for (int k = 0; k < r; k++) {
        int q = nhwc ? TO_NHWC[k] : k;
        sb[k] = b[q], se[k] = e[q], ss[k] = s[q];
        if (full_mask >> q & 1) a.begin_mask |= 1 << k, a.end_mask |= 1 << k;
    }
    int in[4] = {c->v[xv].node, mf_onnx_const_i32(c, sb, r, "begin"), 0, 0};
    if (in[1] < 0 || (in[2] = mf_onnx_const_i32(c, se, r, "end")) < 0 ||
        (in[3] = mf_onnx_const_i32(c, ss, r, "strides")) < 0)
        return in[1] < 0 ? in[1] : in[2] < 0 ? in[2] : in[3];
    char nm[MF_ONNX_MAX_NAME + 1];
    snprintf(nm, sizeof nm, "%.*s", (int)c->nd->out[k_out].n, (const char *)c->nd->out[k_out].p);
    return mf_onnx_def_out(c, k_out, mf_onnx_add_node(c, MF_NN_OP_STRIDED_SLICE, in, 4, &a, "%s", nm), c->v[xv].layout);
}

int mf_onnx_op_slice(ctx *c) {
    int xv, st, ns, ne, na = -1, nst = -1;
    int64_t starts[MF_NN_MAX_DIMS], ends[MF_NN_MAX_DIMS], axes[MF_NN_MAX_DIMS], steps[MF_NN_MAX_DIMS];
    if ((st = mf_onnx_in_val(c, 0, &xv))) return st;
    if (c->opset < 10) {
        if ((st = mf_onnx_attr_ints(c, "starts", starts, MF_NN_MAX_DIMS, &ns)) ||
            (st = mf_onnx_attr_ints(c, "ends", ends, MF_NN_MAX_DIMS, &ne)) ||
            (st = mf_onnx_attr_ints(c, "axes", axes, MF_NN_MAX_DIMS, &na)))
            return st;
    } else {
        int v;
        if ((st = mf_onnx_const_ints_in(c, 1, starts, MF_NN_MAX_DIMS, &ns)) ||
            (st = mf_onnx_const_ints_in(c, 2, ends, MF_NN_MAX_DIMS, &ne)))
            return st;
        if ((st = mf_onnx_opt_val(c, 3, &v)) ||
            (v >= 0 && (st = mf_onnx_const_ints_in(c, 3, axes, MF_NN_MAX_DIMS, &na))))
            return st;
        if ((st = mf_onnx_opt_val(c, 4, &v)) ||
            (v >= 0 && (st = mf_onnx_const_ints_in(c, 4, steps, MF_NN_MAX_DIMS, &nst))))
            return st;
    }
    if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return mf_error_set(MF_ERR_FORMAT, "starts, ends, axes and steps differ in length");
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int r = xs.ndim, b[MF_NN_MAX_DIMS] = {0}, e[MF_NN_MAX_DIMS] = {0}, s[MF_NN_MAX_DIMS], mask = (1 << r) - 1, seen = 0;
    for (int i = 0; i < r; i++)
        s[i] = 1;
    for (int i = 0; i < ns; i++) {
        int a = i;
        if (na >= 0 && (st = mf_onnx_norm_axis(axes[i], r, &a))) return st;
        if (seen >> a & 1) return mf_error_set(MF_ERR_FORMAT, "axis %d repeated", a);
        seen |= 1 << a;
        int64_t step = nst >= 0 ? steps[i] : 1;
        if (step == 0 || step > MF_NN_MAX_DIM_SIZE || step < -MF_NN_MAX_DIM_SIZE)
            return mf_error_set(MF_ERR_FORMAT, "bad step");
        b[a] = starts[i] > INT_MAX ? INT_MAX : starts[i] < INT_MIN ? INT_MIN : (int)starts[i];
        e[a] = ends[i] > INT_MAX ? INT_MAX : ends[i] < INT_MIN ? INT_MIN : (int)ends[i];
        s[a] = (int)step;
        mask &= ~(1 << a);
    }
    return emit_slice(c, xv, b, e, s, mask, 0);
}

int mf_onnx_op_split(ctx *c) {
    int xv, st, n = -1, a = 0;
    int64_t axis, split[MF_ONNX_MAX_NODE_IO], num = 0;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_int(c, "axis", 0, &axis))) return st;
    if (c->opset < 13) {
        if ((st = mf_onnx_attr_ints(c, "split", split, MF_ONNX_MAX_ATTR_VALUES, &n))) return st;
    } else {
        int v;
        if ((st = mf_onnx_opt_val(c, 1, &v)) ||
            (v >= 0 && (st = mf_onnx_const_ints_in(c, 1, split, MF_ONNX_MAX_NODE_IO, &n))))
            return st;
        if ((st = mf_onnx_attr_int(c, "num_outputs", 0, &num))) return st;
    }
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    if ((st = mf_onnx_norm_axis(axis, xs.ndim, &a))) return st;
    int no = c->nd->n_out, dim = xs.dim[a];
    if (n >= 0 && n != no) return mf_error_set(MF_ERR_FORMAT, "%d split sizes for %d outputs", n, no);
    if (n < 0) {
        int chunk = (dim + no - 1) / no;
        if (!num && dim % no) return mf_error_set(MF_ERR_FORMAT, "axis of %d does not split into %d", dim, no);
        for (int i = 0; i < no; i++)
            split[i] = i < no - 1 ? chunk : dim - chunk * (no - 1);
    }
    int b[MF_NN_MAX_DIMS] = {0}, e[MF_NN_MAX_DIMS] = {0}, s[MF_NN_MAX_DIMS], off = 0;
    for (int i = 0; i < MF_NN_MAX_DIMS; i++)
        s[i] = 1;
    for (int i = 0; i < no; i++) {
        if (split[i] <= 0 || split[i] > dim - off) return mf_error_set(MF_ERR_FORMAT, "split sizes do not add up");
        b[a] = off, e[a] = off + (int)split[i];
        off = e[a];
        if (c->nd->out[i].n == 0) continue;
        if ((st = emit_slice(c, xv, b, e, s, ((1 << xs.ndim) - 1) & ~(1 << a), i))) return st;
    }
    if (off != dim) return mf_error_set(MF_ERR_FORMAT, "split sizes do not add up");
    return MF_OK;
}
