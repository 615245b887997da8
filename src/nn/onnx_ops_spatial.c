/* ONNX converter: the spatial ops (Conv, pools, Pad). */
#include "nn/onnx_convert.h"

/* ---------------------------------------------------------------- spatial ops */

typedef struct {
    int k[2], s[2], d[2], pb[2], pe[2];
} window;

/* Kernel/stride/dilation/pads/auto_pad of Conv and the pools, resolved to explicit pads for input shape xs (ONNX
 * order). `kdef` is the kernel when the attribute is absent (Conv: the weights). */
static int read_window(ctx *c, const mf_nn_shape *xs, const int *kdef, int dilations_ok, window *w) {
    int st, pads[4];
    if ((st = mf_onnx_attr_ints_n(c, "kernel_shape", 2, 0, 1, MF_ONNX_MAX_KERNEL, w->k))) return st;
    if (kdef) {
        if (mf_onnx_attr_present(c, "kernel_shape") && (w->k[0] != kdef[0] || w->k[1] != kdef[1]))
            return mf_error_set(MF_ERR_FORMAT, "kernel_shape does not match the weights");
        w->k[0] = kdef[0], w->k[1] = kdef[1];
    } else if (!mf_onnx_attr_present(c, "kernel_shape"))
        return mf_error_set(MF_ERR_FORMAT, "attribute 'kernel_shape' is missing");
    if ((st = mf_onnx_attr_ints_n(c, "strides", 2, 1, 1, MF_ONNX_MAX_STRIDE, w->s)) ||
        (st = mf_onnx_attr_ints_n(c, "dilations", 2, 1, 1, MF_ONNX_MAX_STRIDE, w->d)) ||
        (st = mf_onnx_attr_ints_n(c, "pads", 4, 0, 0, MF_ONNX_MAX_PAD, pads)))
        return st;
    if (!dilations_ok && (w->d[0] != 1 || w->d[1] != 1))
        return mf_error_set(MF_ERR_UNSUPPORTED, "dilated pooling is not supported");
    char ap[32];
    if ((st = mf_onnx_attr_str(c, "auto_pad", "NOTSET", ap, sizeof ap))) return st;
    for (int i = 0; i < 2; i++) {
        int in = xs->dim[2 + i];
        long eff = (long)(w->k[i] - 1) * w->d[i] + 1;
        if (!strcmp(ap, "NOTSET") || !ap[0]) {
            w->pb[i] = pads[i];
            w->pe[i] = pads[2 + i];
        } else if (!strcmp(ap, "VALID")) {
            w->pb[i] = w->pe[i] = 0;
        } else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            long out = (in + w->s[i] - 1) / w->s[i];
            long total = (out - 1) * w->s[i] + eff - in;
            if (total < 0) total = 0;
            if (total > 2 * MF_ONNX_MAX_PAD) return mf_error_set(MF_ERR_UNSUPPORTED, "padding too large");
            w->pb[i] = (int)(!strcmp(ap, "SAME_UPPER") ? total / 2 : (total + 1) / 2);
            w->pe[i] = (int)total - w->pb[i];
        } else
            return mf_error_set(MF_ERR_UNSUPPORTED, "auto_pad '%s'", ap);
        if ((long)in + w->pb[i] + w->pe[i] < eff)
            return mf_error_set(MF_ERR_FORMAT, "window (%ld) larger than the padded input (%d)", eff,
                                in + w->pb[i] + w->pe[i]);
    }
    return MF_OK;
}

static void window_attrs(const window *w, mf_nn_attrs *a) {
    mf_nn_attrs_default(a);
    a->strides[1] = w->s[0], a->strides[2] = w->s[1];
    a->dilations[1] = w->d[0], a->dilations[2] = w->d[1];
    a->ksize[1] = w->k[0], a->ksize[2] = w->k[1];
    int any = w->pb[0] | w->pb[1] | w->pe[0] | w->pe[1];
    a->padding = any ? MF_NN_PAD_EXPLICIT : MF_NN_PAD_VALID;
    a->explicit_pad[2] = w->pb[0], a->explicit_pad[3] = w->pe[0];
    a->explicit_pad[4] = w->pb[1], a->explicit_pad[5] = w->pe[1];
}

int mf_onnx_op_conv(ctx *c) {
    int xv, wv, bv, st;
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_in_val(c, 1, &wv)) || (st = mf_onnx_opt_val(c, 2, &bv)))
        return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv), ws = mf_onnx_oshape(c, wv);
    if (xs.ndim != 4 || ws.ndim != 4)
        return mf_error_set(MF_ERR_UNSUPPORTED, "only 2-D convolutions are supported (input rank %d, weights rank %d)",
                            xs.ndim, ws.ndim);
    int w;
    if ((st = mf_onnx_const_in(c, 1, MF_NN_F32, &w))) return st;
    int64_t group;
    if ((st = mf_onnx_attr_int(c, "group", 1, &group))) return st;
    window win;
    int kdef[2] = {ws.dim[2], ws.dim[3]};
    if ((st = read_window(c, &xs, kdef, 1, &win))) return st;
    int O = ws.dim[0], I = ws.dim[1], C = xs.dim[1], dw = 0;
    if (group == 1) {
        if (I != C) return mf_error_set(MF_ERR_FORMAT, "weights expect %d input channels, the input has %d", I, C);
    } else if (group == C && I == 1 && O % C == 0)
        dw = 1;
    else
        return mf_error_set(MF_ERR_UNSUPPORTED, "grouped convolution with group=%lld (only 1 or depthwise)",
                            (long long)group);
    static const int OIHW_TO_HWIO[4] = {2, 3, 1, 0};
    int wt = mf_onnx_permute_node(c, w, OIHW_TO_HWIO, 4, "hwio");
    if (wt < 0) return wt;
    if (dw) {
        int dims[4] = {ws.dim[2], ws.dim[3], C, O / C};
        if ((wt = mf_onnx_reshape_node(c, wt, dims, 4, "hwcm")) < 0) return wt;
    }
    int x = mf_onnx_node_in(c, xv, LAY_NHWC);
    if (x < 0) return x;
    mf_nn_attrs a;
    window_attrs(&win, &a);
    a.ksize[1] = a.ksize[2] = 1;
    int in[3] = {x, wt, -1}, n_in = 2, op = dw ? MF_NN_OP_DWCONV2D : MF_NN_OP_CONV2D;
    if (bv >= 0) {
        int b;
        if ((st = mf_onnx_const_in(c, 2, MF_NN_F32, &b))) return st;
        if (sh_numel(&c->shp[b]) != (size_t)O || c->shp[b].ndim != 1)
            return mf_error_set(MF_ERR_FORMAT, "bias has %zu values for %d output channels", sh_numel(&c->shp[b]), O);
        in[n_in++] = b;
        op = dw ? MF_NN_OP_FUSED_DWCONV2D : MF_NN_OP_FUSED_CONV2D;
        a.fused[a.n_fused++] = MF_NN_OP_BIAS_ADD;
    }
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, op, in, n_in, &a, "%s", c->oname), LAY_NHWC);
}

/* ONNX pooling output with ceil_mode: extra trailing padding so the engine's floor formula gives the same size. */
static int ceil_pads(window *w, const mf_nn_shape *xs) {
    for (int i = 0; i < 2; i++) {
        long in = xs->dim[2 + i], span = in + w->pb[i] + w->pe[i] - w->k[i];
        long fl = span / w->s[i] + 1, ce = (span + w->s[i] - 1) / w->s[i] + 1;
        if (ce == fl) continue;
        if ((ce - 1) * w->s[i] >= in + w->pb[i])
            return mf_error_set(MF_ERR_UNSUPPORTED, "ceil_mode with a window starting in the padding");
        w->pe[i] += (int)((ce - 1) * w->s[i] + w->k[i] - (in + w->pb[i] + w->pe[i]));
    }
    return MF_OK;
}

int mf_onnx_op_pool(ctx *c, int op) {
    int xv, st;
    if ((st = mf_onnx_in_val(c, 0, &xv))) return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    if (xs.ndim != 4) return mf_error_set(MF_ERR_UNSUPPORTED, "only 2-D pooling is supported (input rank %d)", xs.ndim);
    window win;
    if ((st = read_window(c, &xs, NULL, 0, &win))) return st;
    int64_t ceil_mode, cip = 0, storage;
    if ((st = mf_onnx_attr_int(c, "ceil_mode", 0, &ceil_mode))) return st;
    if (op == MF_NN_OP_AVGPOOL && (st = mf_onnx_attr_int(c, "count_include_pad", 0, &cip))) return st;
    if (op == MF_NN_OP_MAXPOOL && (st = mf_onnx_attr_int(c, "storage_order", 0, &storage)))
        return st; /* indices only */
    if (ceil_mode && (st = ceil_pads(&win, &xs))) return st;
    for (int i = 0; i < 2; i++) {
        if (win.pb[i] >= win.k[i] || win.pe[i] >= win.k[i])
            return mf_error_set(MF_ERR_UNSUPPORTED, "padding as large as the pooling window");
        if (cip && (win.pb[i] || win.pe[i]))
            return mf_error_set(MF_ERR_UNSUPPORTED, "AveragePool with count_include_pad=1 and padding");
    }
    int x = mf_onnx_node_in(c, xv, LAY_NHWC);
    if (x < 0) return x;
    mf_nn_attrs a;
    window_attrs(&win, &a);
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, op, &x, 1, &a, "%s", c->oname), LAY_NHWC);
}

int mf_onnx_op_global_pool(ctx *c, int op) {
    int xv, st;
    if ((st = mf_onnx_in_val(c, 0, &xv))) return st;
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    if (xs.ndim != 4)
        return mf_error_set(MF_ERR_UNSUPPORTED, "only 4-D global pooling is supported (rank %d)", xs.ndim);
    int x = mf_onnx_node_in(c, xv, LAY_NHWC);
    if (x < 0) return x;
    static const int axes[2] = {1, 2};
    int k = mf_onnx_const_i32(c, axes, 2, "axes");
    if (k < 0) return k;
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    a.keep_dims = 1;
    int in[2] = {x, k};
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, op, in, 2, &a, "%s", c->oname), LAY_NHWC);
}

int mf_onnx_op_pad(ctx *c) {
    int xv, st, n;
    int64_t pads[2 * MF_NN_MAX_DIMS];
    float value = 0;
    char mode[32];
    if ((st = mf_onnx_in_val(c, 0, &xv)) || (st = mf_onnx_attr_str(c, "mode", "constant", mode, sizeof mode)))
        return st;
    if (c->opset < 11) {
        if ((st = mf_onnx_attr_ints(c, c->opset < 2 ? "paddings" : "pads", pads, 2 * MF_NN_MAX_DIMS, &n)) ||
            (st = mf_onnx_attr_float(c, "value", 0, &value)))
            return st;
        if (n < 0) return mf_error_set(MF_ERR_FORMAT, "attribute 'pads' is missing");
    } else {
        int v;
        if ((st = mf_onnx_const_ints_in(c, 1, pads, 2 * MF_NN_MAX_DIMS, &n)) || (st = mf_onnx_opt_val(c, 2, &v)) ||
            (v >= 0 && (st = mf_onnx_const_scalar_in(c, 2, &value))) || (st = mf_onnx_opt_val(c, 3, &v)))
            return st;
        if (v >= 0) return mf_error_set(MF_ERR_UNSUPPORTED, "Pad with axes");
    }
    if (strcmp(mode, "constant") || value != 0)
        return mf_error_set(MF_ERR_UNSUPPORTED, "Pad mode '%s' value %g (only constant 0)", mode, value);
    mf_nn_shape xs = mf_onnx_oshape(c, xv);
    int r = xs.ndim, p[2 * MF_NN_MAX_DIMS];
    if (n != 2 * r) return mf_error_set(MF_ERR_FORMAT, "%d pads for rank %d", n, r);
    int nhwc = c->v[xv].layout == LAY_NHWC;
    for (int k = 0; k < r; k++) {
        int q = nhwc ? TO_NHWC[k] : k; /* ONNX axis stored at position k */
        if (pads[q] < 0 || pads[r + q] < 0 || pads[q] > MF_ONNX_MAX_PAD || pads[r + q] > MF_ONNX_MAX_PAD)
            return mf_error_set(MF_ERR_UNSUPPORTED, "negative or huge pads");
        p[2 * k] = (int)pads[q], p[2 * k + 1] = (int)pads[r + q];
    }
    int k = mf_onnx_const_i32(c, p, 2 * r, "pads");
    if (k < 0) return k;
    int in[2] = {c->v[xv].node, k};
    return mf_onnx_def_out(c, 0, mf_onnx_add_node(c, MF_NN_OP_PAD, in, 2, NULL, "%s", c->oname), c->v[xv].layout);
}
