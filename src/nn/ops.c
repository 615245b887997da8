#include "nn/ops.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

int mf_nn_op_is_alias(int op) {
    return op == MF_NN_OP_RESHAPE || op == MF_NN_OP_SQUEEZE || op == MF_NN_OP_EXPAND_DIMS ||
           op == MF_NN_OP_IDENTITY;
}

static int shape_ok(const mf_nn_shape *s, const char *node) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->dim[i] < 0) return mf_error_set(MF_ERR_FORMAT, "node %s: negative dimension", node);
        if (mf_size_mul(n, (size_t)s->dim[i], &n) || n > MF_NN_MAX_TENSOR_ELEMS)
            return mf_error_set(MF_ERR_LIMIT, "node %s: tensor larger than %d elements", node, MF_NN_MAX_TENSOR_ELEMS);
    }
    return MF_OK;
}

static size_t numel(const mf_nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (size_t)s->dim[i];
    return n;
}

/* Constant input j of the node with the given dtype: its data, or an error. */
static int const_input(const mf_nn_model_t *m, const mf_nn_node *n, int j, const int *dtypes, const void *const *consts,
                       int dtype, const void **v) {
    if (j >= n->n_in) return mf_error_set(MF_ERR_FORMAT, "node %s: missing input %d", n->name, j);
    int src = n->in[j];
    if (!consts[src] || dtypes[src] != dtype)
        return mf_error_set(MF_ERR_UNSUPPORTED, "node %s (%s): input %d (%s) must be a constant %s tensor", n->name,
                            mf_nn_op_name(n->op), j, m->nodes[src].name, dtype == MF_NN_I32 ? "int32" : "float");
    *v = consts[src];
    return MF_OK;
}

/* Constant int32 vector input j of the node: its data and element count, or an error. */
static int const_ints(const mf_nn_model_t *m, const mf_nn_node *n, int j, const mf_nn_shape *shapes,
                      const int *dtypes, const void *const *consts, const int32_t **v, int *count) {
    const void *d;
    int st = const_input(m, n, j, dtypes, consts, MF_NN_I32, &d);
    if (st) return st;
    *v = d;
    *count = (int)numel(&shapes[n->in[j]]);
    return MF_OK;
}

static int const_floats(const mf_nn_model_t *m, const mf_nn_node *n, int j, const int *dtypes,
                        const void *const *consts, const float **v) {
    const void *d;
    int st = const_input(m, n, j, dtypes, consts, MF_NN_F32, &d);
    if (!st) *v = d;
    return st;
}

/* Output size and leading padding of one spatial dimension. */
static int conv_dim(int in, int k, int s, int d, int padding, int pb, int pa, int *out, int *pad_before,
                    const char *node) {
    long eff = (long)(k - 1) * d + 1;
    long o;
    if (padding == MF_NN_PAD_SAME) {
        o = (in + s - 1) / s;
        long total = (o - 1) * s + eff - in;
        if (total < 0) total = 0;
        *pad_before = (int)(total / 2);
    } else {
        long span = (long)in + (padding == MF_NN_PAD_EXPLICIT ? pb + pa : 0);
        o = span >= eff ? (span - eff) / s + 1 : 0;
        *pad_before = padding == MF_NN_PAD_EXPLICIT ? pb : 0;
    }
    if (o <= 0 || o > MF_NN_MAX_DIM_SIZE) return mf_error_set(MF_ERR_FORMAT, "node %s: window larger than the input", node);
    *out = (int)o;
    return MF_OK;
}

static int resolve_conv(const mf_nn_model_t *m, const mf_nn_node *n, const mf_nn_shape *shapes, const int *dtypes,
                        const void *const *consts, mf_nn_rop *r) {
    const mf_nn_attrs *a = &n->a;
    int op = n->op, st;
    int is_dw = op == MF_NN_OP_DWCONV2D || op == MF_NN_OP_FUSED_DWCONV2D;
    int is_de = op == MF_NN_OP_DECONV2D;
    int is_mm = op == MF_NN_OP_MATMUL || op == MF_NN_OP_FUSED_MATMUL;
    int xi = is_de ? 2 : 0, wi = 1;
    if (n->n_in < (is_de ? 3 : 2)) return mf_error_set(MF_ERR_FORMAT, "node %s: too few inputs", n->name);
    const mf_nn_shape *xs = &shapes[n->in[xi]], *ws = &shapes[n->in[wi]];
    if (dtypes[n->in[xi]] != MF_NN_F32) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: int32 input", n->name);
    if ((st = const_floats(m, n, wi, dtypes, consts, &r->w))) return st;
    mf_nn_conv_shape *cs = &r->cs;
    memset(cs, 0, sizeof *cs);
    cs->sh = cs->sw = cs->dh = cs->dw = cs->kh = cs->kw = 1;
    if (is_mm) {
        if (a->transpose_a || a->transpose_b)
            return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: transposed MatMul operands", n->name);
        if (xs->ndim != 2 || ws->ndim != 2 || xs->dim[1] != ws->dim[0])
            return mf_error_set(MF_ERR_FORMAT, "node %s: MatMul shapes do not agree", n->name);
        cs->n = 1, cs->ih = xs->dim[0], cs->iw = 1, cs->ic = xs->dim[1];
        cs->oh = xs->dim[0], cs->ow = 1, cs->oc = ws->dim[1];
        r->conv_kind = MF_NN_CK_CONV;
        r->out_shape.ndim = 2;
        r->out_shape.dim[0] = cs->oh;
        r->out_shape.dim[1] = cs->oc;
    } else {
        if (xs->ndim != 4 || ws->ndim != 4)
            return mf_error_set(MF_ERR_FORMAT, "node %s: convolution needs 4-D input and filter", n->name);
        if (a->strides[0] != 1 || a->strides[3] != 1 || a->dilations[0] != 1 || a->dilations[3] != 1)
            return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: stride or dilation on batch/channel", n->name);
        cs->kh = ws->dim[0], cs->kw = ws->dim[1];
        cs->sh = a->strides[1], cs->sw = a->strides[2];
        cs->dh = a->dilations[1], cs->dw = a->dilations[2];
        if (is_de) {
            const int32_t *sz;
            int cnt;
            if ((st = const_ints(m, n, 0, shapes, dtypes, consts, &sz, &cnt))) return st;
            if (cnt != 4 || sz[0] != xs->dim[0] || sz[3] != ws->dim[2] || xs->dim[3] != ws->dim[3])
                return mf_error_set(MF_ERR_FORMAT, "node %s: Conv2DBackpropInput sizes do not agree", n->name);
            if (sz[1] <= 0 || sz[2] <= 0 || sz[1] > (1 << 16) || sz[2] > (1 << 16))
                return mf_error_set(MF_ERR_FORMAT, "node %s: bad output size", n->name);
            cs->n = xs->dim[0], cs->ih = xs->dim[1], cs->iw = xs->dim[2], cs->ic = xs->dim[3];
            cs->oh = sz[1], cs->ow = sz[2], cs->oc = sz[3];
            /* the forward conv maps our output (oh) to our input (ih): check and take its padding */
            int fo, fp;
            if ((st = conv_dim(cs->oh, cs->kh, cs->sh, cs->dh, a->padding, a->explicit_pad[2], a->explicit_pad[3],
                               &fo, &fp, n->name)))
                return st;
            if (fo != cs->ih) return mf_error_set(MF_ERR_FORMAT, "node %s: deconvolution size mismatch", n->name);
            cs->pad_t = fp;
            if ((st = conv_dim(cs->ow, cs->kw, cs->sw, cs->dw, a->padding, a->explicit_pad[4], a->explicit_pad[5],
                               &fo, &fp, n->name)))
                return st;
            if (fo != cs->iw) return mf_error_set(MF_ERR_FORMAT, "node %s: deconvolution size mismatch", n->name);
            cs->pad_l = fp;
            r->conv_kind = MF_NN_CK_DECONV;
        } else {
            cs->n = xs->dim[0], cs->ih = xs->dim[1], cs->iw = xs->dim[2], cs->ic = xs->dim[3];
            if (ws->dim[2] != cs->ic)
                return mf_error_set(MF_ERR_FORMAT, "node %s: filter expects %d input channels, input has %d",
                                    n->name, ws->dim[2], cs->ic);
            cs->oc = is_dw ? ws->dim[2] * ws->dim[3] : ws->dim[3];
            if ((st = conv_dim(cs->ih, cs->kh, cs->sh, cs->dh, a->padding, a->explicit_pad[2], a->explicit_pad[3],
                               &cs->oh, &cs->pad_t, n->name)) ||
                (st = conv_dim(cs->iw, cs->kw, cs->sw, cs->dw, a->padding, a->explicit_pad[4], a->explicit_pad[5],
                               &cs->ow, &cs->pad_l, n->name)))
                return st;
            r->conv_kind = is_dw ? MF_NN_CK_DW : MF_NN_CK_CONV;
        }
        r->out_shape.ndim = 4;
        r->out_shape.dim[0] = cs->n, r->out_shape.dim[1] = cs->oh;
        r->out_shape.dim[2] = cs->ow, r->out_shape.dim[3] = cs->oc;
    }
    /* empty tensors (a zero dimension anywhere) and zero-sized windows have nothing to compute: refused, so
     * that the kernels can assume every size >= 1 */
    if (cs->n < 1 || cs->ih < 1 || cs->iw < 1 || cs->ic < 1 || cs->oh < 1 || cs->ow < 1 || cs->oc < 1 ||
        cs->kh < 1 || cs->kw < 1 || cs->sh < 1 || cs->sw < 1 || cs->dh < 1 || cs->dw < 1)
        return mf_error_set(MF_ERR_FORMAT, "node %s: empty tensor or zero-sized window in a convolution", n->name);
    /* fused epilogue: args follow the data inputs in the order of fused_ops */
    int arg = 2;
    for (int i = 0; i < a->n_fused; i++) {
        int f = a->fused[i];
        if (f == MF_NN_OP_BIAS_ADD || f == MF_NN_OP_PRELU) {
            const float *v;
            if ((st = const_floats(m, n, arg, dtypes, consts, &v))) return st;
            if (numel(&shapes[n->in[arg]]) != (size_t)cs->oc)
                return mf_error_set(MF_ERR_FORMAT, "node %s: fused %s argument has the wrong size", n->name,
                                    mf_nn_op_name(f));
            if (f == MF_NN_OP_BIAS_ADD) r->bias = v;
            else {
                r->alpha = v;
                cs->act = MF_NN_ACT_PRELU;
            }
            arg++;
        } else if (f == MF_NN_OP_RELU)
            cs->act = MF_NN_ACT_RELU;
        else if (f == MF_NN_OP_RELU6)
            cs->act = MF_NN_ACT_RELU6;
    }
    r->n_in = 1;
    r->in_node[0] = n->in[xi];
    r->in_shape[0] = *xs;
    return MF_OK;
}

static int resolve_pool(const mf_nn_node *n, const mf_nn_shape *xs, mf_nn_rop *r) {
    const mf_nn_attrs *a = &n->a;
    if (xs->ndim != 4) return mf_error_set(MF_ERR_FORMAT, "node %s: pooling needs a 4-D input", n->name);
    if (a->ksize[0] != 1 || a->ksize[3] != 1 || a->strides[0] != 1 || a->strides[3] != 1)
        return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: pooling over batch or channels", n->name);
    mf_nn_conv_shape *cs = &r->cs;
    memset(cs, 0, sizeof *cs);
    cs->n = xs->dim[0], cs->ih = xs->dim[1], cs->iw = xs->dim[2], cs->ic = cs->oc = xs->dim[3];
    cs->kh = a->ksize[1], cs->kw = a->ksize[2], cs->sh = a->strides[1], cs->sw = a->strides[2];
    cs->dh = cs->dw = 1;
    int st;
    if ((st = conv_dim(cs->ih, cs->kh, cs->sh, 1, a->padding, a->explicit_pad[2], a->explicit_pad[3], &cs->oh,
                       &cs->pad_t, n->name)) ||
        (st = conv_dim(cs->iw, cs->kw, cs->sw, 1, a->padding, a->explicit_pad[4], a->explicit_pad[5], &cs->ow,
                       &cs->pad_l, n->name)))
        return st;
    r->out_shape = *xs;
    r->out_shape.dim[1] = cs->oh;
    r->out_shape.dim[2] = cs->ow;
    return MF_OK;
}

static int broadcast(const mf_nn_shape *a, const mf_nn_shape *b, mf_nn_shape *o, const char *node) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    o->ndim = nd;
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int da = ia >= 0 ? a->dim[ia] : 1, db = ib >= 0 ? b->dim[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return mf_error_set(MF_ERR_FORMAT, "node %s: shapes cannot broadcast (%d vs %d)", node, da, db);
        o->dim[i] = da == 1 ? db : da;
    }
    return MF_OK;
}

static int norm_axis(int axis, int rank, int *out, const char *node) {
    if (axis < -rank || axis >= rank) return mf_error_set(MF_ERR_FORMAT, "node %s: axis %d out of range", node, axis);
    *out = axis < 0 ? axis + rank : axis;
    return MF_OK;
}

static int resolve_slice(const mf_nn_model_t *m, const mf_nn_node *n, const mf_nn_shape *shapes, const int *dtypes,
                         const void *const *consts, mf_nn_rop *r) {
    const mf_nn_attrs *a = &n->a;
    const mf_nn_shape *xs = &shapes[n->in[0]];
    const int32_t *b, *e, *s;
    int nb, ne, ns, st;
    if ((st = const_ints(m, n, 1, shapes, dtypes, consts, &b, &nb)) ||
        (st = const_ints(m, n, 2, shapes, dtypes, consts, &e, &ne)) ||
        (st = const_ints(m, n, 3, shapes, dtypes, consts, &s, &ns)))
        return st;
    if (a->ellipsis_mask || a->new_axis_mask)
        return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: StridedSlice with ellipsis or new axis", n->name);
    if (nb != ne || nb != ns || nb > xs->ndim)
        return mf_error_set(MF_ERR_FORMAT, "node %s: StridedSlice spec does not fit the input", n->name);
    r->slice_shape = *xs;
    r->out_shape.ndim = 0;
    for (int i = 0; i < xs->ndim; i++) {
        int dim = xs->dim[i], bi = 0, ei = dim, si = 1;
        if (i < nb) {
            si = s[i];
            if (si == 0) return mf_error_set(MF_ERR_FORMAT, "node %s: zero stride", n->name);
            if (si < -MF_NN_MAX_DIM_SIZE || si > MF_NN_MAX_DIM_SIZE) return mf_error_set(MF_ERR_FORMAT, "node %s: bad stride", n->name);
            long lb = b[i], le = e[i];
            if (a->shrink_axis_mask >> i & 1) {
                if (lb < 0) lb += dim;
                if (lb < 0 || lb >= dim) return mf_error_set(MF_ERR_FORMAT, "node %s: index out of range", n->name);
                bi = (int)lb, ei = (int)lb + 1, si = 1;
            } else {
                long lo = si > 0 ? 0 : -1, hi = si > 0 ? dim : dim - 1;
                if (a->begin_mask >> i & 1) lb = si > 0 ? lo : hi;
                else {
                    if (lb < 0) lb += dim;
                    lb = lb < lo ? lo : lb > hi ? hi : lb;
                }
                if (a->end_mask >> i & 1) le = si > 0 ? hi : lo;
                else {
                    if (le < 0) le += dim;
                    le = le < lo ? lo : le > hi ? hi : le;
                }
                bi = (int)lb, ei = (int)le;
            }
        }
        long len = si > 0 ? ((long)ei - bi + si - 1) / si : ((long)bi - ei + (-si) - 1) / (-si);
        if (len < 0) len = 0;
        r->begin[i] = bi;
        r->stride[i] = si;
        r->slice_shape.dim[i] = (int)len;
        if (!(i < nb && (a->shrink_axis_mask >> i & 1))) r->out_shape.dim[r->out_shape.ndim++] = (int)len;
    }
    r->n_in = 1;
    return MF_OK;
}

int mf_nn_rop_resolve(const mf_nn_model_t *m, int id, const mf_nn_shape *shapes, const int *dtypes,
                      const void *const *consts, mf_nn_rop *r) {
    const mf_nn_node *n = &m->nodes[id];
    memset(r, 0, sizeof *r);
    r->op = n->op;
    if (n->n_in > MF_NN_MAX_INPUTS)
        return mf_error_set(MF_ERR_LIMIT, "node %s: more than %d inputs", n->name, MF_NN_MAX_INPUTS);
    r->n_in = n->n_in;
    for (int i = 0; i < n->n_in; i++) {
        r->in_node[i] = n->in[i];
        r->in_shape[i] = shapes[n->in[i]];
    }
    r->dtype = n->n_in ? dtypes[n->in[0]] : MF_NN_F32;
    const mf_nn_shape *x = n->n_in ? &shapes[n->in[0]] : NULL;
    int st = MF_OK, cnt;
    const int32_t *v;
    int need = 0;
    switch (n->op) {
    case MF_NN_OP_PLACEHOLDER:
    case MF_NN_OP_CONST:
        r->out_shape = n->shape;
        r->dtype = n->dtype;
        return MF_OK;
    case MF_NN_OP_NOOP:
        return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: NoOp cannot be an output", n->name);
    default:
        break;
    }
    /* minimum input counts */
    switch (n->op) {
    case MF_NN_OP_ADD: case MF_NN_OP_ADDV2: case MF_NN_OP_SUB: case MF_NN_OP_MUL: case MF_NN_OP_REALDIV:
    case MF_NN_OP_MINIMUM: case MF_NN_OP_MAXIMUM: case MF_NN_OP_PRELU: case MF_NN_OP_BIAS_ADD:
    case MF_NN_OP_MEAN: case MF_NN_OP_SUM: case MF_NN_OP_MAX: case MF_NN_OP_PAD: case MF_NN_OP_RESHAPE:
    case MF_NN_OP_EXPAND_DIMS: case MF_NN_OP_RESIZE_BILINEAR: case MF_NN_OP_TRANSPOSE: case MF_NN_OP_CONCAT:
        need = 2;
        break;
    case MF_NN_OP_STRIDED_SLICE: need = 4; break;
    default: need = 1; break;
    }
    if (n->n_in < need)
        return mf_error_set(MF_ERR_FORMAT, "node %s (%s): needs %d inputs, has %d", n->name, mf_nn_op_name(n->op),
                            need, n->n_in);
    switch (n->op) {
    case MF_NN_OP_CONV2D: case MF_NN_OP_FUSED_CONV2D: case MF_NN_OP_DWCONV2D: case MF_NN_OP_FUSED_DWCONV2D:
    case MF_NN_OP_DECONV2D: case MF_NN_OP_MATMUL: case MF_NN_OP_FUSED_MATMUL:
        st = resolve_conv(m, n, shapes, dtypes, consts, r);
        r->dtype = MF_NN_F32;
        break;
    case MF_NN_OP_MAXPOOL: case MF_NN_OP_AVGPOOL:
        st = resolve_pool(n, x, r);
        r->n_in = 1;
        break;
    case MF_NN_OP_ADD: case MF_NN_OP_ADDV2: case MF_NN_OP_SUB: case MF_NN_OP_MUL: case MF_NN_OP_REALDIV:
    case MF_NN_OP_MINIMUM: case MF_NN_OP_MAXIMUM: case MF_NN_OP_PRELU: case MF_NN_OP_BIAS_ADD:
        if (n->n_in != 2) return mf_error_set(MF_ERR_FORMAT, "node %s: binary op with %d inputs", n->name, n->n_in);
        if (dtypes[n->in[0]] != dtypes[n->in[1]])
            return mf_error_set(MF_ERR_FORMAT, "node %s: operand types differ", n->name);
        if (r->dtype == MF_NN_I32 && (n->op == MF_NN_OP_REALDIV || n->op == MF_NN_OP_PRELU))
            return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: %s on int32", n->name, mf_nn_op_name(n->op));
        st = broadcast(&shapes[n->in[0]], &shapes[n->in[1]], &r->out_shape, n->name);
        break;
    case MF_NN_OP_ADDN:
        for (int i = 1; i < n->n_in; i++)
            if (memcmp(&shapes[n->in[i]], x, sizeof *x) || dtypes[n->in[i]] != r->dtype)
                return mf_error_set(MF_ERR_FORMAT, "node %s: AddN operands differ", n->name);
        r->out_shape = *x;
        break;
    case MF_NN_OP_RELU: case MF_NN_OP_RELU6: case MF_NN_OP_SIGMOID: case MF_NN_OP_TANH: case MF_NN_OP_ABS:
    case MF_NN_OP_SQUARE: case MF_NN_OP_RSQRT: case MF_NN_OP_EXP: case MF_NN_OP_SOFTMAX:
        if (r->dtype != MF_NN_F32) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: int32 operand", n->name);
        if (n->op == MF_NN_OP_SOFTMAX && x->ndim < 1) return mf_error_set(MF_ERR_FORMAT, "node %s: scalar", n->name);
        r->out_shape = *x;
        r->n_in = 1;
        break;
    case MF_NN_OP_IDENTITY:
        r->out_shape = *x;
        r->n_in = 1;
        break;
    case MF_NN_OP_MEAN: case MF_NN_OP_SUM: case MF_NN_OP_MAX:
        if ((st = const_ints(m, n, 1, shapes, dtypes, consts, &v, &cnt))) return st;
        if (r->dtype != MF_NN_F32) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: int32 reduction", n->name);
        for (int i = 0; i < cnt; i++) {
            int ax = 0;
            if ((st = norm_axis(v[i], x->ndim, &ax, n->name))) return st;
            r->axes |= 1 << ax;
        }
        r->out_shape.ndim = 0;
        for (int i = 0; i < x->ndim; i++) {
            if (r->axes >> i & 1) {
                if (n->a.keep_dims) r->out_shape.dim[r->out_shape.ndim++] = 1;
            } else
                r->out_shape.dim[r->out_shape.ndim++] = x->dim[i];
        }
        r->n_in = 1;
        break;
    case MF_NN_OP_PAD:
        if ((st = const_ints(m, n, 1, shapes, dtypes, consts, &v, &cnt))) return st;
        if (cnt != 2 * x->ndim) return mf_error_set(MF_ERR_FORMAT, "node %s: paddings do not match rank", n->name);
        r->out_shape = *x;
        for (int i = 0; i < x->ndim; i++) {
            if (v[2 * i] < 0 || v[2 * i + 1] < 0 || v[2 * i] > (1 << 16) || v[2 * i + 1] > (1 << 16))
                return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: negative or huge padding", n->name);
            r->pad[i][0] = v[2 * i], r->pad[i][1] = v[2 * i + 1];
            r->out_shape.dim[i] += v[2 * i] + v[2 * i + 1];
        }
        if (n->n_in > 2) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: Pad with a constant value", n->name);
        r->n_in = 1;
        break;
    case MF_NN_OP_RESHAPE: {
        if ((st = const_ints(m, n, 1, shapes, dtypes, consts, &v, &cnt))) return st;
        if (cnt > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: rank too high", n->name);
        size_t total = numel(x), known = 1;
        int unknown = -1;
        r->out_shape.ndim = cnt;
        for (int i = 0; i < cnt; i++) {
            if (v[i] == -1 && unknown < 0) unknown = i;
            else if (v[i] < 0) return mf_error_set(MF_ERR_FORMAT, "node %s: bad reshape target", n->name);
            else if (mf_size_mul(known, (size_t)v[i], &known) || known > MF_NN_MAX_TENSOR_ELEMS)
                return mf_error_set(MF_ERR_FORMAT, "node %s: reshape target too large", n->name);
            r->out_shape.dim[i] = v[i];
        }
        if (unknown >= 0) {
            if (known == 0 || total % known) return mf_error_set(MF_ERR_FORMAT, "node %s: reshape -1", n->name);
            r->out_shape.dim[unknown] = (int)(total / known);
        } else if (known != total)
            return mf_error_set(MF_ERR_FORMAT, "node %s: reshape from %zu to %zu elements", n->name, total, known);
        r->n_in = 1;
        break;
    }
    case MF_NN_OP_SQUEEZE:
        r->out_shape.ndim = 0;
        for (int i = 0; i < x->ndim; i++) {
            int drop = 0;
            if (n->a.n_squeeze == 0) drop = x->dim[i] == 1;
            for (int j = 0; j < n->a.n_squeeze; j++) {
                int ax = 0;
                if ((st = norm_axis(n->a.squeeze_dims[j], x->ndim, &ax, n->name))) return st;
                if (ax == i) {
                    if (x->dim[i] != 1) return mf_error_set(MF_ERR_FORMAT, "node %s: squeezing a dim != 1", n->name);
                    drop = 1;
                }
            }
            if (!drop) r->out_shape.dim[r->out_shape.ndim++] = x->dim[i];
        }
        r->n_in = 1;
        break;
    case MF_NN_OP_EXPAND_DIMS: {
        if ((st = const_ints(m, n, 1, shapes, dtypes, consts, &v, &cnt))) return st;
        int ax = 0;
        if (cnt != 1 || x->ndim >= MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_FORMAT, "node %s: bad axis", n->name);
        if ((st = norm_axis(v[0], x->ndim + 1, &ax, n->name))) return st;
        r->out_shape.ndim = x->ndim + 1;
        for (int i = 0, j = 0; i <= x->ndim; i++) r->out_shape.dim[i] = i == ax ? 1 : x->dim[j++];
        r->n_in = 1;
        break;
    }
    case MF_NN_OP_PACK: {
        if (x->ndim >= MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: rank too high", n->name);
        for (int i = 1; i < n->n_in; i++)
            if (memcmp(&shapes[n->in[i]], x, sizeof *x) || dtypes[n->in[i]] != r->dtype)
                return mf_error_set(MF_ERR_FORMAT, "node %s: Pack operands differ", n->name);
        if ((st = norm_axis(n->a.axis, x->ndim + 1, &r->axis, n->name))) return st;
        r->out_shape.ndim = x->ndim + 1;
        for (int i = 0, j = 0; i <= x->ndim; i++) r->out_shape.dim[i] = i == r->axis ? n->n_in : x->dim[j++];
        break;
    }
    case MF_NN_OP_CONCAT: {
        int last = n->n_in - 1;
        if ((st = const_ints(m, n, last, shapes, dtypes, consts, &v, &cnt))) return st;
        if (cnt != 1) return mf_error_set(MF_ERR_FORMAT, "node %s: concat axis is not a scalar", n->name);
        if ((st = norm_axis(v[0], x->ndim, &r->axis, n->name))) return st;
        r->out_shape = *x;
        long total = 0;
        for (int i = 0; i < last; i++) {
            const mf_nn_shape *si = &shapes[n->in[i]];
            if (si->ndim != x->ndim || dtypes[n->in[i]] != r->dtype)
                return mf_error_set(MF_ERR_FORMAT, "node %s: concat operands differ", n->name);
            for (int d = 0; d < x->ndim; d++)
                if (d != r->axis && si->dim[d] != x->dim[d])
                    return mf_error_set(MF_ERR_FORMAT, "node %s: concat operands differ", n->name);
            total += si->dim[r->axis];
        }
        if (total > MF_NN_MAX_TENSOR_ELEMS) return mf_error_set(MF_ERR_LIMIT, "node %s: concat too large", n->name);
        r->out_shape.dim[r->axis] = (int)total;
        r->n_in = last;
        break;
    }
    case MF_NN_OP_STRIDED_SLICE:
        st = resolve_slice(m, n, shapes, dtypes, consts, r);
        break;
    case MF_NN_OP_SHAPE:
        r->out_shape.ndim = 1;
        r->out_shape.dim[0] = x->ndim;
        r->dtype = MF_NN_I32;
        r->n_in = 1;
        break;
    case MF_NN_OP_RESIZE_BILINEAR:
        if ((st = const_ints(m, n, 1, shapes, dtypes, consts, &v, &cnt))) return st;
        if (cnt != 2 || x->ndim != 4 || v[0] <= 0 || v[1] <= 0 || v[0] > (1 << 16) || v[1] > (1 << 16))
            return mf_error_set(MF_ERR_FORMAT, "node %s: bad resize", n->name);
        if (r->dtype != MF_NN_F32) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: int32 resize", n->name);
        r->out_shape = *x;
        r->out_shape.dim[1] = v[0], r->out_shape.dim[2] = v[1];
        r->axis = n->a.align_corners << 1 | n->a.half_pixel_centers; /* read by eval_resize */
        r->n_in = 1;
        break;
    case MF_NN_OP_DEPTH_TO_SPACE: {
        int b = n->a.block_size;
        if (x->ndim != 4 || b < 1 || b > 64 || x->dim[3] % (b * b))
            return mf_error_set(MF_ERR_FORMAT, "node %s: bad DepthToSpace", n->name);
        r->out_shape = *x;
        r->out_shape.dim[1] *= b, r->out_shape.dim[2] *= b, r->out_shape.dim[3] /= b * b;
        r->axis = b;
        r->n_in = 1;
        break;
    }
    case MF_NN_OP_TRANSPOSE: {
        if ((st = const_ints(m, n, 1, shapes, dtypes, consts, &v, &cnt))) return st;
        if (cnt != x->ndim) return mf_error_set(MF_ERR_FORMAT, "node %s: bad permutation", n->name);
        int seen = 0;
        r->out_shape.ndim = cnt;
        for (int i = 0; i < cnt; i++) {
            if (v[i] < 0 || v[i] >= cnt || (seen >> v[i] & 1))
                return mf_error_set(MF_ERR_FORMAT, "node %s: bad permutation", n->name);
            seen |= 1 << v[i];
            r->perm[i] = v[i];
            r->out_shape.dim[i] = x->dim[v[i]];
        }
        r->n_in = 1;
        break;
    }
    default:
        return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: op %s is not supported", n->name, mf_nn_op_name(n->op));
    }
    if (st) return st;
    return shape_ok(&r->out_shape, n->name);
}

/* ---------------------------------------------------------------- evaluation */

static void split(size_t total, int ith, int nth, size_t *lo, size_t *hi) {
    size_t chunk = (total + (size_t)nth - 1) / (size_t)nth;
    *lo = chunk * (size_t)ith;
    *hi = *lo + chunk;
    if (*lo > total) *lo = total;
    if (*hi > total) *hi = total;
}

/* Row-major strides of `s` aligned to `rank` dims, with 0 for broadcast dims. */
static void bcast_strides(const mf_nn_shape *s, int rank, size_t *st) {
    size_t acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int si = i - (rank - s->ndim);
        int d = si >= 0 ? s->dim[si] : 1;
        st[i] = d == 1 ? 0 : acc;
        acc *= (size_t)d;
    }
}

static inline int32_t ibin(int op, int32_t a, int32_t b) {
    switch (op) {
    case MF_NN_OP_SUB: return (int32_t)((uint32_t)a - (uint32_t)b);
    case MF_NN_OP_MUL: return (int32_t)((uint32_t)a * (uint32_t)b);
    case MF_NN_OP_MINIMUM: return a < b ? a : b;
    case MF_NN_OP_MAXIMUM: return a > b ? a : b;
    default: return (int32_t)((uint32_t)a + (uint32_t)b);
    }
}

/* The arithmetic ops (+ - * /) over contiguous or broadcast operands, four lanes at a time with GCC/Clang generic
 * vectors (GCC -O2 does not vectorise loops of unknown length): each lane does the scalar operation, so results
 * are bit-identical. o may be a or b (in-place ops): every vector is loaded before it is stored. Returns the
 * number of elements done (a multiple of 4; the caller finishes the tail). */
typedef float v4f __attribute__((vector_size(16)));
static size_t fbin_vec(int op, const float *a, size_t ia, const float *b, size_t ib, float *o, size_t n) {
    if (n < 4 || !((ia == 1 || ia == 0) && (ib == 1 || ib == 0) && (ia | ib))) return 0;
    v4f x = {a[0], a[0], a[0], a[0]}, y = {b[0], b[0], b[0], b[0]}; /* the broadcast operand; else reloaded */
    size_t i = 0;
#define VLOOP(EXPR)                                                                                                    \
    for (; i + 4 <= n; i += 4) {                                                                                       \
        if (ia) memcpy(&x, a + i, sizeof x);                                                                           \
        if (ib) memcpy(&y, b + i, sizeof y);                                                                           \
        v4f r = EXPR;                                                                                                  \
        memcpy(o + i, &r, sizeof r);                                                                                   \
    }
    switch (op) {
    case MF_NN_OP_ADD:
    case MF_NN_OP_ADDV2:
    case MF_NN_OP_BIAS_ADD: VLOOP(x + y) break;
    case MF_NN_OP_SUB: VLOOP(x - y) break;
    case MF_NN_OP_MUL: VLOOP(x * y) break;
    case MF_NN_OP_REALDIV: VLOOP(x / y) break;
    default: break;
    }
#undef VLOOP
    return i;
}

/* One row of a float binary op with unit or zero strides; the op switch sits outside the loops so each loop
 * vectorises. */
static void fbin_row(int op, const float *a, size_t ia, const float *b, size_t ib, float *o, size_t n) {
    size_t done = fbin_vec(op, a, ia, b, ib, o, n);
    a += done * ia, b += done * ib, o += done, n -= done;
#define ROWS(EXPR)                                                                                                 \
    do {                                                                                                           \
        if (ia == 1 && ib == 1)                                                                                    \
            for (size_t i = 0; i < n; i++) {                                                                       \
                float x = a[i], y = b[i];                                                                          \
                o[i] = EXPR;                                                                                       \
            }                                                                                                      \
        else if (ia == 1 && ib == 0) {                                                                             \
            float y = b[0];                                                                                        \
            for (size_t i = 0; i < n; i++) {                                                                       \
                float x = a[i];                                                                                    \
                o[i] = EXPR;                                                                                       \
            }                                                                                                      \
        } else if (ia == 0 && ib == 1) {                                                                           \
            float x = a[0];                                                                                        \
            for (size_t i = 0; i < n; i++) {                                                                       \
                float y = b[i];                                                                                    \
                o[i] = EXPR;                                                                                       \
            }                                                                                                      \
        } else                                                                                                     \
            for (size_t i = 0; i < n; i++) {                                                                       \
                float x = a[i * ia], y = b[i * ib];                                                                \
                o[i] = EXPR;                                                                                       \
            }                                                                                                      \
    } while (0)
    switch (op) {
    case MF_NN_OP_SUB: ROWS(x - y); break;
    case MF_NN_OP_MUL: ROWS(x * y); break;
    case MF_NN_OP_REALDIV: ROWS(x / y); break;
    case MF_NN_OP_MINIMUM: ROWS(x < y ? x : y); break;
    case MF_NN_OP_MAXIMUM: ROWS(x > y ? x : y); break;
    case MF_NN_OP_PRELU: ROWS(x < 0 ? x * y : x); break;
    default: ROWS(x + y); break;
    }
#undef ROWS
}

enum { BCAST_TILE = 256 }; /* floats of eval_binary's per-channel tile (on the stack) */

static void eval_binary(const mf_nn_rop *r, const void *a, const void *b, void *out, int ith, int nth) {
    const mf_nn_shape *os = &r->out_shape;
    int rank = os->ndim;
    size_t sa[MF_NN_MAX_DIMS] = {0}, sb[MF_NN_MAX_DIMS] = {0};
    bcast_strides(&r->in_shape[0], rank, sa);
    bcast_strides(&r->in_shape[1], rank, sb);
    size_t inner = rank ? (size_t)os->dim[rank - 1] : 1;
    size_t rows = inner ? numel(os) / inner : 0, lo, hi;
    size_t ia = rank ? sa[rank - 1] : 0, ib = rank ? sb[rank - 1] : 0;
    size_t total = numel(os);
    if (r->dtype == MF_NN_F32 && numel(&r->in_shape[0]) == total && numel(&r->in_shape[1]) == total) {
        /* no broadcasting: one flat range per thread */
        split(total, ith, nth, &lo, &hi);
        fbin_row(r->op, (const float *)a + lo, 1, (const float *)b + lo, 1, (float *)out + lo, hi - lo);
        return;
    }
    if (r->dtype == MF_NN_F32 && inner >= 1 && inner <= BCAST_TILE / 4) {
        /* (speed21) one operand whole, the other one value per channel of the last dim (a [C] mean or scale, or a
         * scalar): rows of a few channels (an RGB normalisation: C = 3) went one fbin_row of C elements each, with
         * an index decomposition per row. The per-channel operand is repeated into a tile of whole rows and the rows
         * run a tile at a time through fbin_row with unit strides: each element gets the same operation on the same
         * two values, so results are bit-identical. */
        int full_a = numel(&r->in_shape[0]) == total, full_b = numel(&r->in_shape[1]) == total;
        const size_t *sv = full_a ? sb : sa;
        int vec_ok = full_a != full_b;
        for (int d = 0; d + 1 < rank && vec_ok; d++)
            if (sv[d]) vec_ok = 0;
        if (vec_ok) {
            const float *v = full_a ? b : a, *x = full_a ? a : b;
            size_t iv = full_a ? ib : ia, k = BCAST_TILE / inner;
            float tile[BCAST_TILE];
            for (size_t i = 0; i < k * inner; i++) tile[i] = v[(i % inner) * iv];
            split(rows, ith, nth, &lo, &hi);
            for (size_t row = lo; row < hi; row += k) {
                size_t nr = hi - row < k ? hi - row : k, off = row * inner;
                if (full_a) fbin_row(r->op, x + off, 1, tile, 1, (float *)out + off, nr * inner);
                else fbin_row(r->op, tile, 1, x + off, 1, (float *)out + off, nr * inner);
            }
            return;
        }
    }
    split(rows, ith, nth, &lo, &hi);
    for (size_t row = lo; row < hi; row++) {
        size_t oa = 0, ob = 0, rem = row;
        for (int d = rank - 2; d >= 0; d--) {
            size_t idx = rem % (size_t)os->dim[d];
            rem /= (size_t)os->dim[d];
            oa += idx * sa[d];
            ob += idx * sb[d];
        }
        if (r->dtype == MF_NN_F32) {
            fbin_row(r->op, (const float *)a + oa, ia, (const float *)b + ob, ib, (float *)out + row * inner, inner);
        } else {
            const int32_t *pa = (const int32_t *)a + oa, *pb = (const int32_t *)b + ob;
            int32_t *po = (int32_t *)out + row * inner;
            for (size_t i = 0; i < inner; i++) po[i] = ibin(r->op, pa[i * ia], pb[i * ib]);
        }
    }
}

/* PReLU with per-channel slopes held by the op itself (made by the planner's pattern rewrite). */
static void eval_prelu_alpha(const mf_nn_rop *r, const float *x, float *y, int ith, int nth) {
    const mf_nn_shape *os = &r->out_shape;
    size_t c = os->ndim ? (size_t)os->dim[os->ndim - 1] : 1, rows = c ? numel(os) / c : 0, lo, hi;
    split(rows, ith, nth, &lo, &hi);
    for (size_t row = lo; row < hi; row++) {
        const float *px = x + row * c;
        float *py = y + row * c;
        for (size_t i = 0; i < c; i++) py[i] = px[i] < 0 ? px[i] * r->alpha[i] : px[i];
    }
}

static void eval_unary(const mf_nn_rop *r, const float *x, float *y, int ith, int nth) {
    size_t lo, hi;
    split(numel(&r->out_shape), ith, nth, &lo, &hi);
    switch (r->op) {
    case MF_NN_OP_RELU: for (size_t i = lo; i < hi; i++) y[i] = x[i] > 0 ? x[i] : 0; break;
    case MF_NN_OP_RELU6: for (size_t i = lo; i < hi; i++) y[i] = x[i] < 0 ? 0 : x[i] > 6 ? 6 : x[i]; break;
    case MF_NN_OP_SIGMOID: for (size_t i = lo; i < hi; i++) y[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case MF_NN_OP_TANH: for (size_t i = lo; i < hi; i++) y[i] = tanhf(x[i]); break;
    case MF_NN_OP_ABS: for (size_t i = lo; i < hi; i++) y[i] = fabsf(x[i]); break;
    case MF_NN_OP_SQUARE: for (size_t i = lo; i < hi; i++) y[i] = x[i] * x[i]; break;
    case MF_NN_OP_RSQRT: for (size_t i = lo; i < hi; i++) y[i] = 1.0f / sqrtf(x[i]); break;
    case MF_NN_OP_EXP: for (size_t i = lo; i < hi; i++) y[i] = expf(x[i]); break;
    default: MF_ASSERT(0);
    }
}

/* (speed21) One output pixel of a pool, four channels at a time with generic vectors (as fbin_vec), the
 * accumulator in a register over the window's taps in the scalar loop's order: max keeps acc where p > acc is false,
 * exactly as the scalar `p > o ? p : o` (NaN and signed zeros alike); avg adds from 0 and scales by inv as the
 * scalar loop does, so results are bit-identical. Returns the channels done (a multiple of 4; the caller finishes the
 * tail with the scalar loop). The scalar loops ran one channel at a time through the output in memory. */
#if defined(__SSE__)
#include <xmmintrin.h>
#else
typedef int32_t v4i __attribute__((vector_size(16)));
#endif
static int pool_vec(int is_max, const float *x, int iw, int c, int ya, int yb, int xa, int xb, float inv, float *o) {
    int ch = 0;
    for (; ch + 4 <= c; ch += 4) {
        float z = is_max ? -FLT_MAX : 0.0f;
        v4f acc = {z, z, z, z};
        for (int iy = ya; iy < yb; iy++)
            for (int ix = xa; ix < xb; ix++) {
                v4f v;
                memcpy(&v, x + ((size_t)iy * iw + ix) * c + ch, sizeof v);
                if (is_max) {
#if defined(__SSE__)
                    acc = (v4f)_mm_max_ps((__m128)v, (__m128)acc); /* MAXPS: v > acc ? v : acc, lane by lane */
#else
                    v4i m = v > acc;
                    acc = (v4f)(((v4i)v & m) | ((v4i)acc & ~m));
#endif
                } else {
                    acc = acc + v;
                }
            }
        if (!is_max) acc = acc * inv;
        memcpy(o + ch, &acc, sizeof acc);
    }
    return ch;
}

static void eval_pool(const mf_nn_rop *r, const float *x, float *y, int ith, int nth) {
    const mf_nn_conv_shape *s = &r->cs;
    size_t lo, hi;
    split((size_t)s->n * (size_t)s->oh, ith, nth, &lo, &hi);
    int is_max = r->op == MF_NN_OP_MAXPOOL, c = s->ic;
    for (size_t row = lo; row < hi; row++) {
        int b = (int)(row / (size_t)s->oh), oy = (int)(row % (size_t)s->oh);
        for (int ox = 0; ox < s->ow; ox++) {
            float *o = y + (((size_t)b * s->oh + oy) * s->ow + ox) * c;
            int y0 = oy * s->sh - s->pad_t, x0 = ox * s->sw - s->pad_l;
            int ya = y0 < 0 ? 0 : y0, yb = y0 + s->kh > s->ih ? s->ih : y0 + s->kh;
            int xa = x0 < 0 ? 0 : x0, xb = x0 + s->kw > s->iw ? s->iw : x0 + s->kw;
            /* TF averages over the valid (unpadded) window */
            int cnt = (yb - ya) * (xb - xa);
            float inv = cnt > 0 ? 1.0f / (float)cnt : 0.0f;
            int c0 = pool_vec(is_max, x + (size_t)b * s->ih * s->iw * c, s->iw, c, ya, yb, xa, xb, inv, o);
            for (int ch = c0; ch < c; ch++) o[ch] = is_max ? -FLT_MAX : 0.0f;
            for (int iy = ya; iy < yb; iy++)
                for (int ix = xa; ix < xb; ix++) {
                    const float *p = x + (((size_t)b * s->ih + iy) * s->iw + ix) * c;
                    if (is_max)
                        for (int ch = c0; ch < c; ch++) o[ch] = p[ch] > o[ch] ? p[ch] : o[ch];
                    else
                        for (int ch = c0; ch < c; ch++) o[ch] += p[ch];
                }
            if (!is_max)
                for (int ch = c0; ch < c; ch++) o[ch] *= inv;
        }
    }
}

static void eval_reduce(const mf_nn_rop *r, const float *x, float *y) {
    const mf_nn_shape *xs = &r->in_shape[0];
    int rank = xs->ndim;
    size_t on = numel(&r->out_shape), n = numel(xs);
    /* output strides in the input's index space (0 on reduced axes) */
    size_t ost[MF_NN_MAX_DIMS], acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
        if (r->axes >> i & 1) ost[i] = 0;
        else {
            ost[i] = acc;
            acc *= (size_t)xs->dim[i];
        }
    }
    int is_max = r->op == MF_NN_OP_MAX;
    for (size_t i = 0; i < on; i++) y[i] = is_max ? -FLT_MAX : 0.0f;
    int idx[MF_NN_MAX_DIMS] = {0};
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_max) y[o] = x[i] > y[o] ? x[i] : y[o];
        else y[o] += x[i];
        for (int d = rank - 1; d >= 0; d--) {
            if (++idx[d] < xs->dim[d]) {
                o += ost[d];
                break;
            }
            o -= ost[d] * (size_t)(xs->dim[d] - 1);
            idx[d] = 0;
        }
    }
    if (r->op == MF_NN_OP_MEAN && on) {
        float cnt = (float)(n / on);
        for (size_t i = 0; i < on; i++) y[i] /= cnt;
    }
}

static void eval_pad(const mf_nn_rop *r, const uint32_t *x, uint32_t *y) {
    const mf_nn_shape *xs = &r->in_shape[0], *os = &r->out_shape;
    int rank = os->ndim;
    if (rank == 0) {
        y[0] = x[0];
        return;
    }
    size_t inner = (size_t)os->dim[rank - 1], rows = numel(os) / (inner ? inner : 1);
    size_t in_inner = (size_t)xs->dim[rank - 1];
    for (size_t row = 0; row < rows && inner; row++) {
        uint32_t *o = y + row * inner;
        size_t rem = row, src = 0, mul = in_inner;
        int inside = 1;
        for (int d = rank - 2; d >= 0; d--) {
            long idx = (long)(rem % (size_t)os->dim[d]) - r->pad[d][0];
            rem /= (size_t)os->dim[d];
            if (idx < 0 || idx >= xs->dim[d]) inside = 0;
            else src += (size_t)idx * mul;
            mul *= (size_t)xs->dim[d];
        }
        memset(o, 0, inner * 4);
        if (inside) memcpy(o + r->pad[rank - 1][0], x + src, in_inner * 4);
    }
}

/* Element strides of a row-major tensor of shape s: st[i] = product of the dimensions after i. */
static void row_major_strides(const mf_nn_shape *s, size_t *st) {
    size_t acc = 1;
    for (int i = s->ndim - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= (size_t)s->dim[i];
    }
}

static void eval_slice(const mf_nn_rop *r, const uint32_t *x, uint32_t *y) {
    const mf_nn_shape *xs = &r->in_shape[0], *ss = &r->slice_shape;
    int rank = xs->ndim;
    size_t n = numel(ss), xst[MF_NN_MAX_DIMS];
    row_major_strides(xs, xst);
    int idx[MF_NN_MAX_DIMS] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t src = 0;
        for (int d = 0; d < rank; d++) src += (size_t)((long)r->begin[d] + (long)idx[d] * r->stride[d]) * xst[d];
        y[i] = x[src];
        for (int d = rank - 1; d >= 0; d--) {
            if (++idx[d] < ss->dim[d]) break;
            idx[d] = 0;
        }
    }
}

static void eval_concat(const mf_nn_rop *r, const void *const *in, uint32_t *y, int pack) {
    const mf_nn_shape *os = &r->out_shape;
    size_t outer = 1, inner = 1;
    for (int i = 0; i < r->axis; i++) outer *= (size_t)os->dim[i];
    for (int i = r->axis + 1; i < os->ndim; i++) inner *= (size_t)os->dim[i];
    size_t orow = inner * (size_t)os->dim[r->axis];
    size_t off = 0;
    for (int k = 0; k < r->n_in; k++) {
        size_t len = pack ? inner : inner * (size_t)r->in_shape[k].dim[r->axis];
        const uint32_t *x = in[k];
        for (size_t o = 0; o < outer; o++) memcpy(y + o * orow + off, x + o * len, len * 4);
        off += len;
    }
}

static void eval_resize(const mf_nn_rop *r, const float *x, float *y, int ith, int nth) {
    const mf_nn_shape *xs = &r->in_shape[0], *os = &r->out_shape;
    int ih = xs->dim[1], iw = xs->dim[2], c = xs->dim[3], oh = os->dim[1], ow = os->dim[2];
    int ac = r->axis >> 1 & 1, hp = r->axis & 1;
    float sy = ac && oh > 1 ? (float)(ih - 1) / (float)(oh - 1) : (float)ih / (float)oh;
    float sx = ac && ow > 1 ? (float)(iw - 1) / (float)(ow - 1) : (float)iw / (float)ow;
    size_t lo, hi;
    split((size_t)xs->dim[0] * (size_t)oh, ith, nth, &lo, &hi);
    for (size_t row = lo; row < hi; row++) {
        int b = (int)(row / (size_t)oh), oy = (int)(row % (size_t)oh);
        float fy = hp ? ((float)oy + 0.5f) * sy - 0.5f : (float)oy * sy;
        float fy0 = floorf(fy);
        int y0 = (int)fy0 < 0 ? 0 : (int)fy0, y1 = (int)ceilf(fy) > ih - 1 ? ih - 1 : (int)ceilf(fy);
        if (y1 < 0) y1 = 0;
        float ly = fy - fy0;
        for (int ox = 0; ox < ow; ox++) {
            float fx = hp ? ((float)ox + 0.5f) * sx - 0.5f : (float)ox * sx;
            float fx0 = floorf(fx);
            int x0 = (int)fx0 < 0 ? 0 : (int)fx0, x1 = (int)ceilf(fx) > iw - 1 ? iw - 1 : (int)ceilf(fx);
            if (x1 < 0) x1 = 0;
            float lx = fx - fx0;
            const float *p00 = x + (((size_t)b * ih + y0) * iw + x0) * c;
            const float *p01 = x + (((size_t)b * ih + y0) * iw + x1) * c;
            const float *p10 = x + (((size_t)b * ih + y1) * iw + x0) * c;
            const float *p11 = x + (((size_t)b * ih + y1) * iw + x1) * c;
            float *o = y + (((size_t)b * oh + oy) * ow + ox) * c;
            int ch = 0;
            /* (speed42) four channels at a time with generic vectors: the same subtractions, products and sums per
             * element in the same order as the scalar tail (no contraction), so the results are bit-identical */
            const v4f vlx = {lx, lx, lx, lx}, vly = {ly, ly, ly, ly};
            for (; ch + 4 <= c; ch += 4) {
                v4f a00, a01, a10, a11;
                memcpy(&a00, p00 + ch, sizeof a00), memcpy(&a01, p01 + ch, sizeof a01);
                memcpy(&a10, p10 + ch, sizeof a10), memcpy(&a11, p11 + ch, sizeof a11);
                v4f top = a00 + (a01 - a00) * vlx, bot = a10 + (a11 - a10) * vlx, v = top + (bot - top) * vly;
                memcpy(o + ch, &v, sizeof v);
            }
            for (; ch < c; ch++) {
                float top = p00[ch] + (p01[ch] - p00[ch]) * lx;
                float bot = p10[ch] + (p11[ch] - p10[ch]) * lx;
                o[ch] = top + (bot - top) * ly;
            }
        }
    }
}

static void eval_d2s(const mf_nn_rop *r, const float *x, float *y) {
    const mf_nn_shape *xs = &r->in_shape[0];
    int b = r->axis, h = xs->dim[1], w = xs->dim[2], c = xs->dim[3], oc = c / (b * b);
    for (int n = 0; n < xs->dim[0]; n++)
        for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++) {
                const float *p = x + (((size_t)n * h + iy) * w + ix) * c;
                for (int dy = 0; dy < b; dy++)
                    for (int dx = 0; dx < b; dx++) {
                        float *o = y + (((size_t)n * h * b + (size_t)iy * b + dy) * ((size_t)w * b) +
                                        (size_t)ix * b + dx) * oc;
                        memcpy(o, p + (size_t)(dy * b + dx) * oc, (size_t)oc * 4);
                    }
            }
}

static void eval_transpose(const mf_nn_rop *r, const uint32_t *x, uint32_t *y) {
    const mf_nn_shape *xs = &r->in_shape[0], *os = &r->out_shape;
    int rank = xs->ndim;
    size_t xst[MF_NN_MAX_DIMS], n = numel(os);
    row_major_strides(xs, xst);
    int idx[MF_NN_MAX_DIMS] = {0};
    for (size_t i = 0; i < n; i++) {
        size_t src = 0;
        for (int d = 0; d < rank; d++) src += (size_t)idx[d] * xst[r->perm[d]];
        y[i] = x[src];
        for (int d = rank - 1; d >= 0; d--) {
            if (++idx[d] < os->dim[d]) break;
            idx[d] = 0;
        }
    }
}

static void eval_softmax(const mf_nn_rop *r, const float *x, float *y) {
    const mf_nn_shape *s = &r->out_shape;
    size_t inner = (size_t)s->dim[s->ndim - 1], rows = inner ? numel(s) / inner : 0;
    for (size_t row = 0; row < rows; row++) {
        const float *p = x + row * inner;
        float *o = y + row * inner, mx = -FLT_MAX, sum = 0;
        for (size_t i = 0; i < inner; i++) mx = p[i] > mx ? p[i] : mx;
        for (size_t i = 0; i < inner; i++) sum += (o[i] = expf(p[i] - mx));
        for (size_t i = 0; i < inner; i++) o[i] /= sum;
    }
}

void mf_nn_rop_eval(const mf_nn_rop *r, const void *const *in, void *out, int ith, int nth) {
    switch (r->op) {
    case MF_NN_OP_PRELU:
        if (r->n_in == 1) eval_prelu_alpha(r, in[0], out, ith, nth);
        else eval_binary(r, in[0], in[1], out, ith, nth);
        return;
    case MF_NN_OP_ADD: case MF_NN_OP_ADDV2: case MF_NN_OP_SUB: case MF_NN_OP_MUL: case MF_NN_OP_REALDIV:
    case MF_NN_OP_MINIMUM: case MF_NN_OP_MAXIMUM: case MF_NN_OP_BIAS_ADD:
        eval_binary(r, in[0], in[1], out, ith, nth);
        return;
    case MF_NN_OP_RELU: case MF_NN_OP_RELU6: case MF_NN_OP_SIGMOID: case MF_NN_OP_TANH: case MF_NN_OP_ABS:
    case MF_NN_OP_SQUARE: case MF_NN_OP_RSQRT: case MF_NN_OP_EXP:
        eval_unary(r, in[0], out, ith, nth);
        return;
    case MF_NN_OP_MAXPOOL: case MF_NN_OP_AVGPOOL:
        eval_pool(r, in[0], out, ith, nth);
        return;
    case MF_NN_OP_RESIZE_BILINEAR:
        eval_resize(r, in[0], out, ith, nth);
        return;
    default:
        break;
    }
    if (ith != 0) return;
    size_t n = numel(&r->out_shape);
    switch (r->op) {
    case MF_NN_OP_CONV2D: case MF_NN_OP_FUSED_CONV2D: case MF_NN_OP_DWCONV2D: case MF_NN_OP_FUSED_DWCONV2D:
    case MF_NN_OP_DECONV2D: case MF_NN_OP_MATMUL: case MF_NN_OP_FUSED_MATMUL: {
        const float *res = r->residual ? in[1] : NULL;
        if (r->conv_kind == MF_NN_CK_DW) mf_nn_dwconv2d_ref(&r->cs, in[0], r->w, r->bias, r->alpha, res, out);
        else if (r->conv_kind == MF_NN_CK_DECONV) mf_nn_deconv2d_ref(&r->cs, in[0], r->w, r->bias, r->alpha, res, out);
        else mf_nn_conv2d_ref(&r->cs, in[0], r->w, r->bias, r->alpha, r->post, res, out);
        return;
    }
    case MF_NN_OP_ADDN: {
        float *y = out;
        memcpy(y, in[0], n * 4);
        for (int k = 1; k < r->n_in; k++) {
            const float *x = in[k];
            if (r->dtype == MF_NN_F32)
                for (size_t i = 0; i < n; i++) y[i] += x[i];
            else
                for (size_t i = 0; i < n; i++) ((int32_t *)y)[i] = ibin(MF_NN_OP_ADD, ((int32_t *)y)[i], ((const int32_t *)x)[i]);
        }
        return;
    }
    case MF_NN_OP_IDENTITY: case MF_NN_OP_RESHAPE: case MF_NN_OP_SQUEEZE: case MF_NN_OP_EXPAND_DIMS:
        if (out != in[0]) memcpy(out, in[0], n * 4);
        return;
    case MF_NN_OP_SOFTMAX: eval_softmax(r, in[0], out); return;
    case MF_NN_OP_MEAN: case MF_NN_OP_SUM: case MF_NN_OP_MAX: eval_reduce(r, in[0], out); return;
    case MF_NN_OP_PAD: eval_pad(r, in[0], out); return;
    case MF_NN_OP_STRIDED_SLICE: eval_slice(r, in[0], out); return;
    case MF_NN_OP_PACK: eval_concat(r, in, out, 1); return;
    case MF_NN_OP_CONCAT: eval_concat(r, in, out, 0); return;
    case MF_NN_OP_SHAPE:
        for (int i = 0; i < r->in_shape[0].ndim; i++) ((int32_t *)out)[i] = r->in_shape[0].dim[i];
        return;
    case MF_NN_OP_DEPTH_TO_SPACE: eval_d2s(r, in[0], out); return;
    case MF_NN_OP_TRANSPOSE: eval_transpose(r, in[0], out); return;
    default: MF_ASSERT(0 && "op without evaluator");
    }
}

double mf_nn_rop_flops(const mf_nn_rop *r) {
    const mf_nn_conv_shape *s = &r->cs;
    switch (r->op) {
    case MF_NN_OP_CONV2D: case MF_NN_OP_FUSED_CONV2D: case MF_NN_OP_DWCONV2D: case MF_NN_OP_FUSED_DWCONV2D:
    case MF_NN_OP_DECONV2D: case MF_NN_OP_MATMUL: case MF_NN_OP_FUSED_MATMUL: {
        double px = r->conv_kind == MF_NN_CK_DECONV ? (double)s->n * s->ih * s->iw : (double)s->n * s->oh * s->ow;
        double per = r->conv_kind == MF_NN_CK_DW ? (double)s->oc : r->conv_kind == MF_NN_CK_DECONV
                                                                       ? (double)s->ic * s->oc
                                                                       : (double)s->ic * s->oc;
        return 2.0 * px * per * s->kh * s->kw;
    }
    default:
        return (double)numel(&r->out_shape);
    }
}
