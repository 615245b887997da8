/* ONNX converter: the value table (ONNX names -> IR nodes, in either layout), IR node building with shape
 * resolution and constant folding, and the layout conversions that node inputs ask for. */
#include "nn/onnx_convert.h"

/* ---------------------------------------------------------------- value table (hash of names) */

static uint64_t hash_span(mf_pb_span s) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s.n; i++)
        h = (h ^ s.p[i]) * 1099511628211ull;
    return h;
}

int mf_onnx_map_find(const ctx *c, mf_pb_span s) {
    if (!c->cap_slot) return -1;
    size_t i = hash_span(s) & (c->cap_slot - 1);
    while (c->slot[i] >= 0) {
        const val_t *v = &c->v[c->slot[i]];
        if (v->name.n == s.n && !memcmp(v->name.p, s.p, s.n)) return c->slot[i];
        i = (i + 1) & (c->cap_slot - 1);
    }
    return -1;
}

static void map_put(ctx *c, int vi) {
    size_t i = hash_span(c->v[vi].name) & (c->cap_slot - 1);
    while (c->slot[i] >= 0)
        i = (i + 1) & (c->cap_slot - 1);
    c->slot[i] = vi;
}

/* A new value entry; named ones enter the map (a name defined twice is an error). Returns its index. */
int mf_onnx_new_value(ctx *c, mf_pb_span name, int node, int layout, const char *why) {
    if (name.n && mf_onnx_map_find(c, name) >= 0)
        return mf_error_set(MF_ERR_FORMAT, "value '%.*s' is defined twice", span_len(name), (const char *)name.p);
    if (c->n_v == c->cap_v) {
        int nc = c->cap_v ? c->cap_v * 2 : 256;
        val_t *nv = realloc(c->v, (size_t)nc * sizeof *nv);
        if (!nv) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        c->v = nv;
        c->cap_v = nc;
    }
    if ((size_t)(c->n_v + 1) * 2 > c->cap_slot) {
        size_t ns = c->cap_slot ? c->cap_slot * 2 : 512;
        int *sl = malloc(ns * sizeof *sl);
        if (!sl) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        free(c->slot);
        c->slot = sl;
        c->cap_slot = ns;
        memset(sl, 0xff, ns * sizeof *sl);
        for (int i = 0; i < c->n_v; i++)
            if (c->v[i].name.n) map_put(c, i);
    }
    int vi = c->n_v++;
    c->v[vi] = (val_t){name, node, layout, -1, why};
    if (name.n) map_put(c, vi);
    return vi;
}

/* Names must be printable as C strings: bounded, without NUL bytes. */
int mf_onnx_check_name(mf_pb_span s, const char *what) {
    if (s.n > MF_ONNX_MAX_NAME)
        return mf_error_set(MF_ERR_LIMIT, "%s name longer than %d bytes", what, MF_ONNX_MAX_NAME);
    if (memchr(s.p, 0, s.n)) return mf_error_set(MF_ERR_FORMAT, "%s name contains a NUL byte", what);
    return MF_OK;
}

/* ---------------------------------------------------------------- IR building */

static int grow(ctx *c) {
    if (c->m->n_nodes <= c->cap_n) return MF_OK;
    int nc = c->m->cap_nodes;
    mf_nn_shape *s = realloc(c->shp, (size_t)nc * sizeof *s);
    if (s) c->shp = s;
    int *d = realloc(c->dty, (size_t)nc * sizeof *d);
    if (d) c->dty = d;
    const void **k = realloc(c->cst, (size_t)nc * sizeof *k);
    if (k) c->cst = k;
    if (!s || !d || !k) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    c->cap_n = nc;
    return MF_OK;
}

/* Records the shape of new node `id`, folding it into a constant when all its inputs are constant. */
int mf_onnx_finish(ctx *c, int id) {
    int st = grow(c);
    if (st) return st;
    mf_nn_node *n = &c->m->nodes[id];
    if (n->op == MF_NN_OP_CONST || n->op == MF_NN_OP_PLACEHOLDER) {
        c->shp[id] = n->shape;
        for (int i = 0; i < n->shape.ndim; i++)
            if (c->shp[id].dim[i] < 0) c->shp[id].dim[i] = 1;
        c->dty[id] = n->op == MF_NN_OP_CONST ? n->dtype : MF_NN_F32;
        c->cst[id] = n->op == MF_NN_OP_CONST ? n->data : NULL;
        return id;
    }
    mf_nn_rop *r = &c->rop;
    if ((st = mf_nn_rop_resolve(c->m, id, c->shp, c->dty, c->cst, r))) return st;
    size_t ne = sh_numel(&r->out_shape);
    if (ne == 0) return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: empty tensors are not supported", n->name);
    c->shp[id] = r->out_shape;
    c->dty[id] = r->dtype;
    c->cst[id] = NULL;
    /* fold when every input is constant and the result is small, or no larger than an input (weight re-layouts,
     * scaling): folding never amplifies a small file into a large allocation */
    int all_const = n->n_in > 0;
    size_t biggest = 0;
    for (int j = 0; j < n->n_in; j++) {
        if (!c->cst[n->in[j]])
            all_const = 0;
        else if (sh_numel(&c->shp[n->in[j]]) > biggest)
            biggest = sh_numel(&c->shp[n->in[j]]);
    }
    if (!all_const || (ne > MF_ONNX_FOLD_MAX_ELEMS && ne > biggest) ||
        c->const_bytes + ne * 4 > (size_t)MF_NN_MAX_WEIGHT_BYTES)
        return id;
    void *buf = malloc(ne * 4);
    if (!buf) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    const void *ins[MF_NN_MAX_INPUTS];
    for (int j = 0; j < r->n_in; j++)
        ins[j] = c->cst[r->in_node[j]];
    mf_nn_rop_eval(r, ins, buf, 0, 1);
    free(n->in);
    n->in = NULL;
    n->n_in = 0;
    n->op = MF_NN_OP_CONST;
    n->dtype = r->dtype;
    n->shape = r->out_shape;
    n->data = buf;
    c->cst[id] = buf;
    c->const_bytes += ne * 4;
    return id;
}

int mf_onnx_add_node(ctx *c, int op, const int *in, int n_in, const mf_nn_attrs *a, const char *fmt, ...) {
    char name[MF_ONNX_MAX_NAME + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int id = mf_nn_graph_add(c->m, name, op, in, n_in);
    if (id < 0) return id;
    if (a) c->m->nodes[id].a = *a;
    return mf_onnx_finish(c, id);
}

/* Adds a constant; takes ownership of `data`. */
int mf_onnx_add_const(ctx *c, int dtype, const mf_nn_shape *s, void *data, const char *fmt, ...) {
    char name[MF_ONNX_MAX_NAME + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int id = mf_nn_graph_add_const(c->m, name, dtype, s, data);
    if (id < 0) return id;
    return mf_onnx_finish(c, id);
}

int mf_onnx_const_i32(ctx *c, const int *v, int n, const char *suffix) {
    int32_t *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        d[i] = v[i];
    mf_nn_shape s = {1, {n}};
    return mf_onnx_add_const(c, MF_NN_I32, &s, d, "%s#%s", c->oname, suffix);
}

int mf_onnx_const_f32(ctx *c, const mf_nn_shape *s, const float *v, float fill, const char *suffix) {
    size_t n = sh_numel(s);
    float *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        d[i] = v ? v[i] : fill;
    return mf_onnx_add_const(c, MF_NN_F32, s, d, "%s#%s", c->oname, suffix);
}

int mf_onnx_reshape_node(ctx *c, int x, const int *dims, int nd, const char *suffix) {
    int k = mf_onnx_const_i32(c, dims, nd, "shape");
    if (k < 0) return k;
    int in[2] = {x, k};
    return mf_onnx_add_node(c, MF_NN_OP_RESHAPE, in, 2, NULL, "%s#%s", c->oname, suffix);
}

/* Does permuting `s` by `perm` keep the element order (only dimensions of 1 move)? */
static int perm_is_trivial(const mf_nn_shape *s, const int *perm) {
    int last = -1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->dim[perm[i]] == 1) continue;
        if (perm[i] < last) return 0;
        last = perm[i];
    }
    return 1;
}

/* out[i] = x[perm[i]]: a Reshape when no data moves, else a Transpose. */
int mf_onnx_permute_node(ctx *c, int x, const int *perm, int rank, const char *suffix) {
    mf_nn_shape s = c->shp[x];
    if (s.ndim != rank) return mf_error_set(MF_ERR_FORMAT, "permutation of rank %d on a rank-%d tensor", rank, s.ndim);
    int dims[MF_NN_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        dims[i] = s.dim[perm[i]];
    if (perm_is_trivial(&s, perm)) return mf_onnx_reshape_node(c, x, dims, rank, suffix);
    int k;
    if (rank == 4 && !memcmp(perm, TO_NHWC, sizeof TO_NHWC) && c->perm_to_nhwc >= 0)
        k = c->perm_to_nhwc;
    else if (rank == 4 && !memcmp(perm, TO_NCHW, sizeof TO_NCHW) && c->perm_to_onnx >= 0)
        k = c->perm_to_onnx;
    else {
        k = mf_onnx_const_i32(c, perm, rank, "perm");
        if (k < 0) return k;
        if (rank == 4 && !memcmp(perm, TO_NHWC, sizeof TO_NHWC)) c->perm_to_nhwc = k;
        if (rank == 4 && !memcmp(perm, TO_NCHW, sizeof TO_NCHW)) c->perm_to_onnx = k;
    }
    int in[2] = {x, k};
    return mf_onnx_add_node(c, MF_NN_OP_TRANSPOSE, in, 2, NULL, "%s#%s", c->oname, suffix);
}

/* ---------------------------------------------------------------- values and layouts */

/* Shape of value vi in ONNX order. */
mf_nn_shape mf_onnx_oshape(const ctx *c, int vi) {
    mf_nn_shape s = c->shp[c->v[vi].node];
    if (c->v[vi].layout == LAY_NHWC) {
        mf_nn_shape o = s;
        for (int i = 0; i < 4; i++)
            o.dim[i] = s.dim[TO_NCHW[i]];
        return o;
    }
    return s;
}

/* IR node holding value vi in `layout` (made once, then cached). */
int mf_onnx_node_in(ctx *c, int vi, int layout) {
    if (c->v[vi].layout == layout) return c->v[vi].node;
    if (c->v[vi].alt >= 0) return c->v[vi].alt;
    int x = c->v[vi].node;
    if (c->shp[x].ndim != 4)
        return mf_error_set(MF_ERR_UNSUPPORTED, "value '%.*s' has rank %d where a 4-D (NCHW) tensor is needed",
                            span_len(c->v[vi].name), (const char *)c->v[vi].name.p, c->shp[x].ndim);
    int id =
        mf_onnx_permute_node(c, x, layout == LAY_NHWC ? TO_NHWC : TO_NCHW, 4, layout == LAY_NHWC ? "nhwc" : "nchw");
    if (id >= 0) c->v[vi].alt = id;
    return id;
}

/* Value vi as an NHWC operand of a broadcasting op whose result is 4-D: rank < 4 values are first extended with
 * leading 1s as ONNX broadcasting does. */
int mf_onnx_node_bcast_nhwc(ctx *c, int vi) {
    mf_nn_shape s = mf_onnx_oshape(c, vi);
    if (s.ndim == 4) return mf_onnx_node_in(c, vi, LAY_NHWC);
    int dims[4], pad = 4 - s.ndim;
    for (int i = 0; i < 4; i++)
        dims[i] = i < pad ? 1 : s.dim[i - pad];
    int x = mf_onnx_reshape_node(c, c->v[vi].node, dims, 4, "rank4");
    if (x < 0) return x;
    return mf_onnx_permute_node(c, x, TO_NHWC, 4, "nhwc");
}

int mf_onnx_is_const(const ctx *c, int id) { return c->cst[id] != NULL; }

/* Defines output k of the current node. */
int mf_onnx_def_out(ctx *c, int k, int node, int layout) {
    if (node < 0) return node;
    if (k >= c->nd->n_out || c->nd->out[k].n == 0) return MF_OK; /* unnamed optional output */
    int vi = mf_onnx_new_value(c, c->nd->out[k], node, layout, NULL);
    return vi < 0 ? vi : MF_OK;
}

int mf_onnx_in_val(ctx *c, int j, int *vi) {
    const mf_onnx_node *nd = c->nd;
    if (j >= nd->n_in || nd->in[j].n == 0) return mf_error_set(MF_ERR_FORMAT, "input %d is missing", j);
    int k = mf_onnx_map_find(c, nd->in[j]);
    if (k < 0)
        return mf_error_set(MF_ERR_FORMAT, "input '%.*s' is not defined before this node", span_len(nd->in[j]),
                            (const char *)nd->in[j].p);
    if (c->v[k].node < 0)
        return mf_error_set(MF_ERR_UNSUPPORTED, "input '%.*s': %s", span_len(nd->in[j]), (const char *)nd->in[j].p,
                            c->v[k].why);
    *vi = k;
    return MF_OK;
}

int mf_onnx_opt_val(ctx *c, int j, int *vi) {
    *vi = -1;
    if (j >= c->nd->n_in || c->nd->in[j].n == 0) return MF_OK;
    return mf_onnx_in_val(c, j, vi);
}

/* Constant input j in ONNX order, of the given dtype: its IR node. */
int mf_onnx_const_in(ctx *c, int j, int dtype, int *id) {
    int vi, st = mf_onnx_in_val(c, j, &vi);
    if (st) return st;
    int n = mf_onnx_node_in(c, vi, LAY_ONNX);
    if (n < 0) return n;
    if (!mf_onnx_is_const(c, n) || c->dty[n] != dtype)
        return mf_error_set(MF_ERR_UNSUPPORTED, "input %d ('%.*s') must be a constant %s tensor", j,
                            span_len(c->nd->in[j]), (const char *)c->nd->in[j].p,
                            dtype == MF_NN_F32 ? "float" : "integer");
    *id = n;
    return MF_OK;
}

/* Constant integer input j as a list (at most cap values). */
int mf_onnx_const_ints_in(ctx *c, int j, int64_t *out, int cap, int *n) {
    int id, st = mf_onnx_const_in(c, j, MF_NN_I32, &id);
    if (st) return st;
    size_t cnt = sh_numel(&c->shp[id]);
    if (c->shp[id].ndim > 1 || cnt > (size_t)cap)
        return mf_error_set(MF_ERR_UNSUPPORTED, "input %d must be a list of at most %d integers", j, cap);
    for (size_t i = 0; i < cnt; i++)
        out[i] = ((const int32_t *)c->cst[id])[i];
    *n = (int)cnt;
    return MF_OK;
}

/* Constant float scalar input j. */
int mf_onnx_const_scalar_in(ctx *c, int j, float *out) {
    int id, st = mf_onnx_const_in(c, j, MF_NN_F32, &id);
    if (st) return st;
    if (sh_numel(&c->shp[id]) != 1) return mf_error_set(MF_ERR_UNSUPPORTED, "input %d must be a scalar", j);
    *out = ((const float *)c->cst[id])[0];
    return MF_OK;
}
