/* ONNX model loader: reads a ModelProto with the wire reader of onnx_pb.c and converts its graph to the engine's
 * NHWC graph IR (nn/graph.h) at load time. See docs/onnx.md for the supported ops and conventions.
 *
 * Layouts. Every ONNX value is held by one IR node and tagged with the order of its data: LAY_ONNX (the ONNX
 * order, e.g. NCHW) or LAY_NHWC (a 4-D tensor stored NHWC). 4-D model inputs and the outputs of convolutions and
 * pools are NHWC; initializers, reshapes and flattening are in ONNX order. An op that needs the other order asks
 * node_in(), which inserts (once per value) a Transpose, or a free Reshape when the transposition does not move
 * any data (a dimension of 1). Graph outputs are always returned in ONNX order.
 *
 * Shapes. Each IR node is resolved with mf_nn_rop_resolve() as soon as it is added, so the loader knows every
 * shape (batch 1) and shape errors are reported at load, naming the ONNX node. A node whose inputs are all
 * constant is evaluated at once (mf_nn_rop_eval) and becomes a constant, so weight re-layouts (OIHW -> HWIO),
 * shape arithmetic (Shape/Gather/Concat/Unsqueeze) and Gemm's alpha are done once, at load. Unused nodes are
 * dropped at the end. */
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
enum {
    MAX_OPSET = 21,    /* newest default-domain opset whose semantics the converters follow */
    MAX_ATTRS = 64,    /* attributes per node */
    MAX_NAME = 1024,   /* bytes in a value or node name */
    MAX_DIM = 1 << 20, /* one input dimension */
    MAX_KERNEL = 4096,
    MAX_STRIDE = 1024,
    MAX_PAD = 4096,
    FOLD_MAX_ELEMS = 1 << 22, /* larger constant results are folded only if no input is smaller */
};
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
    mf_onnx_attr attrs[MAX_ATTRS];
    char used[MAX_ATTRS];
    int n_attrs;
    char oname[MAX_NAME + 1];       /* first output name of the node, for IR node names */
    int perm_to_nhwc, perm_to_onnx; /* cached permutation constants */
} ctx;

static const mf_pb_span NO_NAME = {(const uint8_t *)"", 0}; /* loader-made values that no node can name */
static const int TO_NHWC[4] = {0, 2, 3, 1};                 /* NCHW -> NHWC */
static const int TO_NCHW[4] = {0, 3, 1, 2};                 /* NHWC -> NCHW */
static const int ONNX_TO_STORED[4] = {0, 3, 1, 2};          /* position in NHWC storage of ONNX (NCHW) axis j */

static int span_eq(mf_pb_span a, const char *s) { return a.n == strlen(s) && !memcmp(a.p, s, a.n); }
static int span_len(mf_pb_span s) { return (int)(s.n > 200 ? 200 : s.n); } /* for "%.*s" in messages */

static size_t sh_numel(const mf_nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)(s->dim[i] < 0 ? 1 : s->dim[i]);
    return n;
}

/* ---------------------------------------------------------------- value table (hash of names) */

static uint64_t hash_span(mf_pb_span s) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s.n; i++)
        h = (h ^ s.p[i]) * 1099511628211ull;
    return h;
}

static int map_find(const ctx *c, mf_pb_span s) {
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
static int new_value(ctx *c, mf_pb_span name, int node, int layout, const char *why) {
    if (name.n && map_find(c, name) >= 0)
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
static int check_name(mf_pb_span s, const char *what) {
    if (s.n > MAX_NAME) return mf_error_set(MF_ERR_LIMIT, "%s name longer than %d bytes", what, MAX_NAME);
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
static int finish(ctx *c, int id) {
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
    if (!all_const || (ne > FOLD_MAX_ELEMS && ne > biggest) || c->const_bytes + ne * 4 > (size_t)MF_NN_MAX_WEIGHT_BYTES)
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

static int add_node(ctx *c, int op, const int *in, int n_in, const mf_nn_attrs *a, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int add_node(ctx *c, int op, const int *in, int n_in, const mf_nn_attrs *a, const char *fmt, ...) {
    char name[MAX_NAME + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int id = mf_nn_graph_add(c->m, name, op, in, n_in);
    if (id < 0) return id;
    if (a) c->m->nodes[id].a = *a;
    return finish(c, id);
}

/* Adds a constant; takes ownership of `data`. */
static int add_const(ctx *c, int dtype, const mf_nn_shape *s, void *data, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int add_const(ctx *c, int dtype, const mf_nn_shape *s, void *data, const char *fmt, ...) {
    char name[MAX_NAME + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int id = mf_nn_graph_add_const(c->m, name, dtype, s, data);
    if (id < 0) return id;
    return finish(c, id);
}

static int const_i32(ctx *c, const int *v, int n, const char *suffix) {
    int32_t *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        d[i] = v[i];
    mf_nn_shape s = {1, {n}};
    return add_const(c, MF_NN_I32, &s, d, "%s#%s", c->oname, suffix);
}

static int const_f32(ctx *c, const mf_nn_shape *s, const float *v, float fill, const char *suffix) {
    size_t n = sh_numel(s);
    float *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        d[i] = v ? v[i] : fill;
    return add_const(c, MF_NN_F32, s, d, "%s#%s", c->oname, suffix);
}

static int reshape_node(ctx *c, int x, const int *dims, int nd, const char *suffix) {
    int k = const_i32(c, dims, nd, "shape");
    if (k < 0) return k;
    int in[2] = {x, k};
    return add_node(c, MF_NN_OP_RESHAPE, in, 2, NULL, "%s#%s", c->oname, suffix);
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
static int permute_node(ctx *c, int x, const int *perm, int rank, const char *suffix) {
    mf_nn_shape s = c->shp[x];
    if (s.ndim != rank) return mf_error_set(MF_ERR_FORMAT, "permutation of rank %d on a rank-%d tensor", rank, s.ndim);
    int dims[MF_NN_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        dims[i] = s.dim[perm[i]];
    if (perm_is_trivial(&s, perm)) return reshape_node(c, x, dims, rank, suffix);
    int k;
    if (rank == 4 && !memcmp(perm, TO_NHWC, sizeof TO_NHWC) && c->perm_to_nhwc >= 0)
        k = c->perm_to_nhwc;
    else if (rank == 4 && !memcmp(perm, TO_NCHW, sizeof TO_NCHW) && c->perm_to_onnx >= 0)
        k = c->perm_to_onnx;
    else {
        k = const_i32(c, perm, rank, "perm");
        if (k < 0) return k;
        if (rank == 4 && !memcmp(perm, TO_NHWC, sizeof TO_NHWC)) c->perm_to_nhwc = k;
        if (rank == 4 && !memcmp(perm, TO_NCHW, sizeof TO_NCHW)) c->perm_to_onnx = k;
    }
    int in[2] = {x, k};
    return add_node(c, MF_NN_OP_TRANSPOSE, in, 2, NULL, "%s#%s", c->oname, suffix);
}

/* ---------------------------------------------------------------- values and layouts */

/* Shape of value vi in ONNX order. */
static mf_nn_shape oshape(const ctx *c, int vi) {
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
static int node_in(ctx *c, int vi, int layout) {
    if (c->v[vi].layout == layout) return c->v[vi].node;
    if (c->v[vi].alt >= 0) return c->v[vi].alt;
    int x = c->v[vi].node;
    if (c->shp[x].ndim != 4)
        return mf_error_set(MF_ERR_UNSUPPORTED, "value '%.*s' has rank %d where a 4-D (NCHW) tensor is needed",
                            span_len(c->v[vi].name), (const char *)c->v[vi].name.p, c->shp[x].ndim);
    int id = permute_node(c, x, layout == LAY_NHWC ? TO_NHWC : TO_NCHW, 4, layout == LAY_NHWC ? "nhwc" : "nchw");
    if (id >= 0) c->v[vi].alt = id;
    return id;
}

/* Value vi as an NHWC operand of a broadcasting op whose result is 4-D: rank < 4 values are first extended with
 * leading 1s as ONNX broadcasting does. */
static int node_bcast_nhwc(ctx *c, int vi) {
    mf_nn_shape s = oshape(c, vi);
    if (s.ndim == 4) return node_in(c, vi, LAY_NHWC);
    int dims[4], pad = 4 - s.ndim;
    for (int i = 0; i < 4; i++)
        dims[i] = i < pad ? 1 : s.dim[i - pad];
    int x = reshape_node(c, c->v[vi].node, dims, 4, "rank4");
    if (x < 0) return x;
    return permute_node(c, x, TO_NHWC, 4, "nhwc");
}

static int is_const(const ctx *c, int id) { return c->cst[id] != NULL; }

/* Defines output k of the current node. */
static int def_out(ctx *c, int k, int node, int layout) {
    if (node < 0) return node;
    if (k >= c->nd->n_out || c->nd->out[k].n == 0) return MF_OK; /* unnamed optional output */
    int vi = new_value(c, c->nd->out[k], node, layout, NULL);
    return vi < 0 ? vi : MF_OK;
}

static int in_val(ctx *c, int j, int *vi) {
    const mf_onnx_node *nd = c->nd;
    if (j >= nd->n_in || nd->in[j].n == 0) return mf_error_set(MF_ERR_FORMAT, "input %d is missing", j);
    int k = map_find(c, nd->in[j]);
    if (k < 0)
        return mf_error_set(MF_ERR_FORMAT, "input '%.*s' is not defined before this node", span_len(nd->in[j]),
                            (const char *)nd->in[j].p);
    if (c->v[k].node < 0)
        return mf_error_set(MF_ERR_UNSUPPORTED, "input '%.*s': %s", span_len(nd->in[j]), (const char *)nd->in[j].p,
                            c->v[k].why);
    *vi = k;
    return MF_OK;
}

static int opt_val(ctx *c, int j, int *vi) {
    *vi = -1;
    if (j >= c->nd->n_in || c->nd->in[j].n == 0) return MF_OK;
    return in_val(c, j, vi);
}

/* Constant input j in ONNX order, of the given dtype: its IR node. */
static int const_in(ctx *c, int j, int dtype, int *id) {
    int vi, st = in_val(c, j, &vi);
    if (st) return st;
    int n = node_in(c, vi, LAY_ONNX);
    if (n < 0) return n;
    if (!is_const(c, n) || c->dty[n] != dtype)
        return mf_error_set(MF_ERR_UNSUPPORTED, "input %d ('%.*s') must be a constant %s tensor", j,
                            span_len(c->nd->in[j]), (const char *)c->nd->in[j].p,
                            dtype == MF_NN_F32 ? "float" : "integer");
    *id = n;
    return MF_OK;
}

/* Constant integer input j as a list (at most cap values). */
static int const_ints_in(ctx *c, int j, int64_t *out, int cap, int *n) {
    int id, st = const_in(c, j, MF_NN_I32, &id);
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
static int const_scalar_in(ctx *c, int j, float *out) {
    int id, st = const_in(c, j, MF_NN_F32, &id);
    if (st) return st;
    if (sh_numel(&c->shp[id]) != 1) return mf_error_set(MF_ERR_UNSUPPORTED, "input %d must be a scalar", j);
    *out = ((const float *)c->cst[id])[0];
    return MF_OK;
}

/* ---------------------------------------------------------------- attributes */

enum { ABSENT = -1001 }; /* find_attr: attribute not present (statuses are > -100) */

static int find_attr(ctx *c, const char *name, int type) {
    for (int i = 0; i < c->n_attrs; i++) {
        if (!span_eq(c->attrs[i].name, name)) continue;
        c->used[i] = 1;
        if (c->attrs[i].type != type)
            return mf_error_set(MF_ERR_FORMAT, "attribute '%s' has type %d, expected %d", name, c->attrs[i].type, type);
        return i;
    }
    return ABSENT;
}

static int attr_int(ctx *c, const char *name, int64_t def, int64_t *out) {
    int i = find_attr(c, name, MF_ONNX_ATTR_INT);
    if (i == ABSENT) {
        *out = def;
        return MF_OK;
    }
    if (i < 0) return i;
    *out = c->attrs[i].i;
    return MF_OK;
}

static int attr_float(ctx *c, const char *name, float def, float *out) {
    int i = find_attr(c, name, MF_ONNX_ATTR_FLOAT);
    if (i == ABSENT) {
        *out = def;
        return MF_OK;
    }
    if (i < 0) return i;
    *out = c->attrs[i].f;
    return MF_OK;
}

/* Integer list; *n = -1 when absent. */
static int attr_ints(ctx *c, const char *name, int64_t *out, int cap, int *n) {
    int i = find_attr(c, name, MF_ONNX_ATTR_INTS);
    *n = -1;
    if (i == ABSENT) return MF_OK;
    if (i < 0) return i;
    if (c->attrs[i].n_ints > cap)
        return mf_error_set(MF_ERR_UNSUPPORTED, "attribute '%s' has %d values (at most %d supported)", name,
                            c->attrs[i].n_ints, cap);
    memcpy(out, c->attrs[i].ints, (size_t)c->attrs[i].n_ints * sizeof *out);
    *n = c->attrs[i].n_ints;
    return MF_OK;
}

static int attr_str(ctx *c, const char *name, const char *def, char *out, size_t cap) {
    int i = find_attr(c, name, MF_ONNX_ATTR_STRING);
    if (i == ABSENT) {
        snprintf(out, cap, "%s", def);
        return MF_OK;
    }
    if (i < 0) return i;
    mf_pb_span s = c->attrs[i].s;
    if (s.n >= cap || memchr(s.p, 0, s.n))
        return mf_error_set(MF_ERR_UNSUPPORTED, "attribute '%s': unexpected value", name);
    memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    return MF_OK;
}

/* Marks an attribute that does not change inference as read. */
static void attr_ignore(ctx *c, const char *name) {
    for (int i = 0; i < c->n_attrs; i++)
        if (span_eq(c->attrs[i].name, name)) c->used[i] = 1;
}

static int attr_present(const ctx *c, const char *name) {
    for (int i = 0; i < c->n_attrs; i++)
        if (span_eq(c->attrs[i].name, name)) return 1;
    return 0;
}

/* Integer attribute list of exactly `want` entries in [lo, hi] (default `def` when absent). */
static int attr_ints_n(ctx *c, const char *name, int want, int def, int lo, int hi, int *out) {
    int64_t v[MF_ONNX_MAX_ATTR_VALUES];
    int n, st = attr_ints(c, name, v, MF_ONNX_MAX_ATTR_VALUES, &n);
    if (st) return st;
    if (n < 0) {
        for (int i = 0; i < want; i++)
            out[i] = def;
        return MF_OK;
    }
    if (n != want) return mf_error_set(MF_ERR_UNSUPPORTED, "attribute '%s' has %d values, expected %d", name, n, want);
    for (int i = 0; i < want; i++) {
        if (v[i] < lo || v[i] > hi)
            return mf_error_set(MF_ERR_UNSUPPORTED, "attribute '%s' value %lld out of range [%d, %d]", name,
                                (long long)v[i], lo, hi);
        out[i] = (int)v[i];
    }
    return MF_OK;
}

static int norm_axis(int64_t axis, int rank, int *out) {
    if (axis < -rank || axis >= rank)
        return mf_error_set(MF_ERR_FORMAT, "axis %lld out of range for rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return MF_OK;
}

/* ---------------------------------------------------------------- spatial ops */

typedef struct {
    int k[2], s[2], d[2], pb[2], pe[2];
} window;

/* Kernel/stride/dilation/pads/auto_pad of Conv and the pools, resolved to explicit pads for input shape xs (ONNX
 * order). `kdef` is the kernel when the attribute is absent (Conv: the weights). */
static int read_window(ctx *c, const mf_nn_shape *xs, const int *kdef, int dilations_ok, window *w) {
    int st, pads[4];
    if ((st = attr_ints_n(c, "kernel_shape", 2, 0, 1, MAX_KERNEL, w->k))) return st;
    if (kdef) {
        if (attr_present(c, "kernel_shape") && (w->k[0] != kdef[0] || w->k[1] != kdef[1]))
            return mf_error_set(MF_ERR_FORMAT, "kernel_shape does not match the weights");
        w->k[0] = kdef[0], w->k[1] = kdef[1];
    } else if (!attr_present(c, "kernel_shape"))
        return mf_error_set(MF_ERR_FORMAT, "attribute 'kernel_shape' is missing");
    if ((st = attr_ints_n(c, "strides", 2, 1, 1, MAX_STRIDE, w->s)) ||
        (st = attr_ints_n(c, "dilations", 2, 1, 1, MAX_STRIDE, w->d)) ||
        (st = attr_ints_n(c, "pads", 4, 0, 0, MAX_PAD, pads)))
        return st;
    if (!dilations_ok && (w->d[0] != 1 || w->d[1] != 1))
        return mf_error_set(MF_ERR_UNSUPPORTED, "dilated pooling is not supported");
    char ap[32];
    if ((st = attr_str(c, "auto_pad", "NOTSET", ap, sizeof ap))) return st;
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
            if (total > 2 * MAX_PAD) return mf_error_set(MF_ERR_UNSUPPORTED, "padding too large");
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

static int op_conv(ctx *c) {
    int xv, wv, bv, st;
    if ((st = in_val(c, 0, &xv)) || (st = in_val(c, 1, &wv)) || (st = opt_val(c, 2, &bv))) return st;
    mf_nn_shape xs = oshape(c, xv), ws = oshape(c, wv);
    if (xs.ndim != 4 || ws.ndim != 4)
        return mf_error_set(MF_ERR_UNSUPPORTED, "only 2-D convolutions are supported (input rank %d, weights rank %d)",
                            xs.ndim, ws.ndim);
    int w;
    if ((st = const_in(c, 1, MF_NN_F32, &w))) return st;
    int64_t group;
    if ((st = attr_int(c, "group", 1, &group))) return st;
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
    int wt = permute_node(c, w, OIHW_TO_HWIO, 4, "hwio");
    if (wt < 0) return wt;
    if (dw) {
        int dims[4] = {ws.dim[2], ws.dim[3], C, O / C};
        if ((wt = reshape_node(c, wt, dims, 4, "hwcm")) < 0) return wt;
    }
    int x = node_in(c, xv, LAY_NHWC);
    if (x < 0) return x;
    mf_nn_attrs a;
    window_attrs(&win, &a);
    a.ksize[1] = a.ksize[2] = 1;
    int in[3] = {x, wt, -1}, n_in = 2, op = dw ? MF_NN_OP_DWCONV2D : MF_NN_OP_CONV2D;
    if (bv >= 0) {
        int b;
        if ((st = const_in(c, 2, MF_NN_F32, &b))) return st;
        if (sh_numel(&c->shp[b]) != (size_t)O || c->shp[b].ndim != 1)
            return mf_error_set(MF_ERR_FORMAT, "bias has %zu values for %d output channels", sh_numel(&c->shp[b]), O);
        in[n_in++] = b;
        op = dw ? MF_NN_OP_FUSED_DWCONV2D : MF_NN_OP_FUSED_CONV2D;
        a.fused[a.n_fused++] = MF_NN_OP_BIAS_ADD;
    }
    return def_out(c, 0, add_node(c, op, in, n_in, &a, "%s", c->oname), LAY_NHWC);
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

static int op_pool(ctx *c, int op) {
    int xv, st;
    if ((st = in_val(c, 0, &xv))) return st;
    mf_nn_shape xs = oshape(c, xv);
    if (xs.ndim != 4) return mf_error_set(MF_ERR_UNSUPPORTED, "only 2-D pooling is supported (input rank %d)", xs.ndim);
    window win;
    if ((st = read_window(c, &xs, NULL, 0, &win))) return st;
    int64_t ceil_mode, cip = 0, storage;
    if ((st = attr_int(c, "ceil_mode", 0, &ceil_mode))) return st;
    if (op == MF_NN_OP_AVGPOOL && (st = attr_int(c, "count_include_pad", 0, &cip))) return st;
    if (op == MF_NN_OP_MAXPOOL && (st = attr_int(c, "storage_order", 0, &storage))) return st; /* indices only */
    if (ceil_mode && (st = ceil_pads(&win, &xs))) return st;
    for (int i = 0; i < 2; i++) {
        if (win.pb[i] >= win.k[i] || win.pe[i] >= win.k[i])
            return mf_error_set(MF_ERR_UNSUPPORTED, "padding as large as the pooling window");
        if (cip && (win.pb[i] || win.pe[i]))
            return mf_error_set(MF_ERR_UNSUPPORTED, "AveragePool with count_include_pad=1 and padding");
    }
    int x = node_in(c, xv, LAY_NHWC);
    if (x < 0) return x;
    mf_nn_attrs a;
    window_attrs(&win, &a);
    return def_out(c, 0, add_node(c, op, &x, 1, &a, "%s", c->oname), LAY_NHWC);
}

static int op_global_pool(ctx *c, int op) {
    int xv, st;
    if ((st = in_val(c, 0, &xv))) return st;
    mf_nn_shape xs = oshape(c, xv);
    if (xs.ndim != 4)
        return mf_error_set(MF_ERR_UNSUPPORTED, "only 4-D global pooling is supported (rank %d)", xs.ndim);
    int x = node_in(c, xv, LAY_NHWC);
    if (x < 0) return x;
    static const int axes[2] = {1, 2};
    int k = const_i32(c, axes, 2, "axes");
    if (k < 0) return k;
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    a.keep_dims = 1;
    int in[2] = {x, k};
    return def_out(c, 0, add_node(c, op, in, 2, &a, "%s", c->oname), LAY_NHWC);
}

/* ---------------------------------------------------------------- elementwise */

static int op_binary(ctx *c, int op) {
    int av, bv, st;
    if ((st = in_val(c, 0, &av)) || (st = in_val(c, 1, &bv))) return st;
    int b_node = c->v[bv].node;
    /* x - k -> x + (-k), x / k -> x * (1/k): the planner folds Add and Mul with constants into convolutions */
    if ((op == MF_NN_OP_SUB || op == MF_NN_OP_REALDIV) && is_const(c, b_node) && !is_const(c, c->v[av].node) &&
        c->dty[b_node] == MF_NN_F32) {
        size_t n = sh_numel(&c->shp[b_node]);
        float *d = malloc(n * sizeof *d);
        if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        const float *src = c->cst[b_node];
        for (size_t i = 0; i < n; i++)
            d[i] = op == MF_NN_OP_SUB ? -src[i] : 1.0f / src[i];
        int k = add_const(c, MF_NN_F32, &c->shp[b_node], d, "%s#%s", c->oname, op == MF_NN_OP_SUB ? "neg" : "recip");
        if (k < 0) return k;
        if ((bv = new_value(c, NO_NAME, k, c->v[bv].layout, NULL)) < 0) return bv;
        op = op == MF_NN_OP_SUB ? MF_NN_OP_ADD : MF_NN_OP_MUL;
    }
    mf_nn_shape as = oshape(c, av), bs = oshape(c, bv);
    int rank = as.ndim > bs.ndim ? as.ndim : bs.ndim, layout = LAY_ONNX, in[2];
    if (rank == 4 && (c->v[av].layout == LAY_NHWC || c->v[bv].layout == LAY_NHWC)) {
        layout = LAY_NHWC;
        in[0] = node_bcast_nhwc(c, av);
        if (in[0] < 0) return in[0];
        in[1] = node_bcast_nhwc(c, bv);
    } else {
        in[0] = node_in(c, av, LAY_ONNX);
        if (in[0] < 0) return in[0];
        in[1] = node_in(c, bv, LAY_ONNX);
    }
    if (in[1] < 0) return in[1];
    return def_out(c, 0, add_node(c, op, in, 2, NULL, "%s", c->oname), layout);
}

static int op_unary(ctx *c, int op) {
    int xv, st;
    if ((st = in_val(c, 0, &xv))) return st;
    int x = c->v[xv].node;
    if (c->dty[x] != MF_NN_F32) return mf_error_set(MF_ERR_UNSUPPORTED, "integer operand");
    return def_out(c, 0, add_node(c, op, &x, 1, NULL, "%s", c->oname), c->v[xv].layout);
}

static int alias(ctx *c, int xv) {
    if (c->nd->n_out < 1 || c->nd->out[0].n == 0) return MF_OK;
    int vi = new_value(c, c->nd->out[0], c->v[xv].node, c->v[xv].layout, NULL);
    if (vi < 0) return vi;
    c->v[vi].alt = c->v[xv].alt;
    return MF_OK;
}

static int op_identity(ctx *c) {
    int xv, st;
    if ((st = in_val(c, 0, &xv))) return st;
    return alias(c, xv);
}

static int op_dropout(ctx *c) {
    int xv, tv, st;
    if ((st = in_val(c, 0, &xv)) || (st = opt_val(c, 2, &tv))) return st;
    attr_ignore(c, "ratio");
    attr_ignore(c, "seed");
    attr_ignore(c, "is_test");
    if (tv >= 0) {
        int t;
        if ((st = const_in(c, 2, MF_NN_I32, &t))) return st;
        if (((const int32_t *)c->cst[t])[0]) return mf_error_set(MF_ERR_UNSUPPORTED, "Dropout in training mode");
    }
    return alias(c, xv);
}

/* Per-channel constant for value vi (channel axis 1 in ONNX order), shaped to broadcast in its layout. */
static int channel_const(ctx *c, int vi, const float *v, float fill, const char *suffix) {
    mf_nn_shape xs = oshape(c, vi), s = {1, {xs.dim[1]}};
    if (c->v[vi].layout == LAY_ONNX && xs.ndim > 2) {
        s.ndim = xs.ndim - 1;
        for (int i = 1; i < s.ndim; i++)
            s.dim[i] = 1;
    }
    return const_f32(c, &s, v, fill, suffix);
}

static int op_leaky_relu(ctx *c) {
    int xv, st;
    float alpha;
    if ((st = in_val(c, 0, &xv)) || (st = attr_float(c, "alpha", 0.01f, &alpha))) return st;
    mf_nn_shape xs = oshape(c, xv);
    int k = xs.ndim >= 2 ? channel_const(c, xv, NULL, alpha, "alpha")
                         : const_f32(c, &(mf_nn_shape){1, {1}}, NULL, alpha, "alpha");
    if (k < 0) return k;
    int in[2] = {c->v[xv].node, k};
    return def_out(c, 0, add_node(c, MF_NN_OP_PRELU, in, 2, NULL, "%s", c->oname), c->v[xv].layout);
}

static int op_clip(ctx *c) {
    int xv, st;
    float lo = -FLT_MAX, hi = FLT_MAX;
    if ((st = in_val(c, 0, &xv))) return st;
    if (c->opset < 11) {
        if ((st = attr_float(c, "min", -FLT_MAX, &lo)) || (st = attr_float(c, "max", FLT_MAX, &hi))) return st;
    } else {
        int v;
        if ((st = opt_val(c, 1, &v)) || (v >= 0 && (st = const_scalar_in(c, 1, &lo)))) return st;
        if ((st = opt_val(c, 2, &v)) || (v >= 0 && (st = const_scalar_in(c, 2, &hi)))) return st;
    }
    int x = c->v[xv].node, layout = c->v[xv].layout;
    if (lo == 0 && hi == 6) return def_out(c, 0, add_node(c, MF_NN_OP_RELU6, &x, 1, NULL, "%s", c->oname), layout);
    if (lo == 0 && hi >= FLT_MAX) return def_out(c, 0, add_node(c, MF_NN_OP_RELU, &x, 1, NULL, "%s", c->oname), layout);
    mf_nn_shape sc = {0, {0}};
    if (lo > -FLT_MAX) {
        int k = const_f32(c, &sc, NULL, lo, "min");
        if (k < 0) return k;
        int in[2] = {x, k};
        int last = hi >= FLT_MAX;
        if ((x = add_node(c, MF_NN_OP_MAXIMUM, in, 2, NULL, last ? "%s" : "%s#max", c->oname)) < 0) return x;
    }
    if (hi < FLT_MAX) {
        int k = const_f32(c, &sc, NULL, hi, "max");
        if (k < 0) return k;
        int in[2] = {x, k};
        x = add_node(c, MF_NN_OP_MINIMUM, in, 2, NULL, "%s", c->oname);
    }
    return def_out(c, 0, x, layout);
}

static int op_batchnorm(ctx *c) {
    int xv, st, p[4];
    float eps;
    int64_t spatial, training;
    if ((st = in_val(c, 0, &xv)) || (st = attr_float(c, "epsilon", 1e-5f, &eps)) ||
        (st = attr_int(c, "spatial", 1, &spatial)) || (st = attr_int(c, "training_mode", 0, &training)))
        return st;
    attr_ignore(c, "momentum");
    attr_ignore(c, "is_test");
    attr_ignore(c, "consumed_inputs");
    if (spatial != 1 || training)
        return mf_error_set(MF_ERR_UNSUPPORTED, "BatchNormalization with spatial=0 or in training mode");
    mf_nn_shape xs = oshape(c, xv);
    if (xs.ndim < 2) return mf_error_set(MF_ERR_FORMAT, "input of rank %d", xs.ndim);
    int C = xs.dim[1];
    for (int j = 0; j < 4; j++) {
        if ((st = const_in(c, 1 + j, MF_NN_F32, &p[j]))) return st;
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
    int mul = add_node(c, MF_NN_OP_MUL, in, 2, NULL, "%s#bn_mul", c->oname);
    if (mul < 0) return mul;
    in[0] = mul, in[1] = kb;
    return def_out(c, 0, add_node(c, MF_NN_OP_ADD, in, 2, NULL, "%s", c->oname), c->v[xv].layout);
}

/* Softmax over ONNX axis `a` (one axis) of value vi, in whatever layout stores it last; else transposed. */
static int softmax_axis(ctx *c, int vi, int a) {
    mf_nn_shape xs = oshape(c, vi);
    int r = xs.ndim;
    if (c->v[vi].layout == LAY_NHWC && a == 1)
        return def_out(c, 0, add_node(c, MF_NN_OP_SOFTMAX, &c->v[vi].node, 1, NULL, "%s", c->oname), LAY_NHWC);
    int x = node_in(c, vi, LAY_ONNX);
    if (x < 0) return x;
    if (a == r - 1) return def_out(c, 0, add_node(c, MF_NN_OP_SOFTMAX, &x, 1, NULL, "%s", c->oname), LAY_ONNX);
    int perm[MF_NN_MAX_DIMS], inv[MF_NN_MAX_DIMS], k = 0;
    for (int i = 0; i < r; i++)
        if (i != a) perm[k++] = i;
    perm[r - 1] = a;
    for (int i = 0; i < r; i++)
        inv[perm[i]] = i;
    int t = permute_node(c, x, perm, r, "axis_last");
    if (t < 0) return t;
    int s = add_node(c, MF_NN_OP_SOFTMAX, &t, 1, NULL, "%s#softmax", c->oname);
    if (s < 0) return s;
    return def_out(c, 0, permute_node(c, s, inv, r, "axis_back"), LAY_ONNX);
}

static int op_softmax(ctx *c) {
    int xv, st, a = 0;
    int64_t axis;
    if ((st = in_val(c, 0, &xv)) || (st = attr_int(c, "axis", c->opset >= 13 ? -1 : 1, &axis))) return st;
    mf_nn_shape xs = oshape(c, xv);
    int r = xs.ndim;
    if (r < 1) return mf_error_set(MF_ERR_FORMAT, "Softmax of a scalar");
    if ((st = norm_axis(axis, r, &a))) return st;
    if (c->opset >= 13) return softmax_axis(c, xv, a);
    /* before opset 13: softmax over the flattened axes [a, r) */
    int after = 1, before = 1;
    for (int i = a + 1; i < r; i++)
        after &= xs.dim[i] == 1;
    for (int i = a; i < r - 1; i++)
        before &= xs.dim[i] == 1;
    if (after) return softmax_axis(c, xv, a);
    if (before) return softmax_axis(c, xv, r - 1);
    int x = node_in(c, xv, LAY_ONNX);
    if (x < 0) return x;
    int d2[2] = {1, 1};
    for (int i = 0; i < r; i++)
        d2[i >= a] *= xs.dim[i];
    int f = reshape_node(c, x, d2, 2, "2d");
    if (f < 0) return f;
    int s = add_node(c, MF_NN_OP_SOFTMAX, &f, 1, NULL, "%s#softmax", c->oname);
    if (s < 0) return s;
    return def_out(c, 0, reshape_node(c, s, xs.dim, r, "back"), LAY_ONNX);
}

/* ---------------------------------------------------------------- shape ops */

static int emit_reshape(ctx *c, int xv, const int *dims, int rank) {
    if (rank > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "rank %d (at most %d)", rank, MF_NN_MAX_DIMS);
    int x = node_in(c, xv, LAY_ONNX);
    if (x < 0) return x;
    int k = const_i32(c, dims, rank, "shape");
    if (k < 0) return k;
    int in[2] = {x, k};
    return def_out(c, 0, add_node(c, MF_NN_OP_RESHAPE, in, 2, NULL, "%s", c->oname), LAY_ONNX);
}

static int op_reshape(ctx *c) {
    int xv, st;
    int64_t shape[MF_ONNX_MAX_ATTR_VALUES], allowzero;
    int n;
    if ((st = in_val(c, 0, &xv)) || (st = attr_int(c, "allowzero", 0, &allowzero))) return st;
    if (c->opset < 5) {
        if ((st = attr_ints(c, "shape", shape, MF_NN_MAX_DIMS, &n))) return st;
        if (n < 0) return mf_error_set(MF_ERR_FORMAT, "attribute 'shape' is missing");
    } else if ((st = const_ints_in(c, 1, shape, MF_NN_MAX_DIMS, &n)))
        return st;
    mf_nn_shape xs = oshape(c, xv);
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

static int op_flatten(ctx *c) {
    int xv, st, a = 0;
    int64_t axis;
    if ((st = in_val(c, 0, &xv)) || (st = attr_int(c, "axis", 1, &axis))) return st;
    mf_nn_shape xs = oshape(c, xv);
    if (axis == xs.ndim)
        a = xs.ndim;
    else if ((st = norm_axis(axis, xs.ndim, &a)))
        return st;
    int d[2] = {1, 1};
    for (int i = 0; i < xs.ndim; i++)
        d[i >= a] *= xs.dim[i];
    return emit_reshape(c, xv, d, 2);
}

/* Axes of Squeeze/Unsqueeze/Reduce*: attribute before `input_from` opset, else the optional input 1. *n = -1
 * when absent. */
static int read_axes(ctx *c, int input_from, int64_t *axes, int *n) {
    if (c->opset < input_from) return attr_ints(c, "axes", axes, MF_NN_MAX_DIMS, n);
    int v, st = opt_val(c, 1, &v);
    *n = -1;
    if (st || v < 0) return st;
    return const_ints_in(c, 1, axes, MF_NN_MAX_DIMS, n);
}

static int op_squeeze(ctx *c) {
    int xv, st, n, drop[MF_NN_MAX_DIMS] = {0}, dims[MF_NN_MAX_DIMS], r = 0;
    int64_t axes[MF_NN_MAX_DIMS];
    if ((st = in_val(c, 0, &xv)) || (st = read_axes(c, 13, axes, &n))) return st;
    mf_nn_shape xs = oshape(c, xv);
    for (int i = 0; i < n; i++) {
        int a = 0;
        if ((st = norm_axis(axes[i], xs.ndim, &a))) return st;
        if (xs.dim[a] != 1) return mf_error_set(MF_ERR_FORMAT, "squeezing axis %d of size %d", a, xs.dim[a]);
        drop[a] = 1;
    }
    for (int i = 0; i < xs.ndim; i++)
        if (!(n < 0 ? xs.dim[i] == 1 : drop[i])) dims[r++] = xs.dim[i];
    return emit_reshape(c, xv, dims, r);
}

static int op_unsqueeze(ctx *c) {
    int xv, st, n, ins[MF_NN_MAX_DIMS + 8] = {0}, dims[MF_NN_MAX_DIMS];
    int64_t axes[MF_NN_MAX_DIMS];
    if ((st = in_val(c, 0, &xv)) || (st = read_axes(c, 13, axes, &n))) return st;
    if (n < 0) return mf_error_set(MF_ERR_FORMAT, "axes are missing");
    mf_nn_shape xs = oshape(c, xv);
    int r = xs.ndim + n;
    if (r > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "rank %d (at most %d)", r, MF_NN_MAX_DIMS);
    for (int i = 0; i < n; i++) {
        int a = 0;
        if ((st = norm_axis(axes[i], r, &a))) return st;
        if (ins[a]) return mf_error_set(MF_ERR_FORMAT, "axis %d repeated", a);
        ins[a] = 1;
    }
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = ins[i] ? 1 : xs.dim[j++];
    return emit_reshape(c, xv, dims, r);
}

static int op_transpose(ctx *c) {
    int xv, st, n, perm[MF_NN_MAX_DIMS], seen = 0;
    int64_t p[MF_ONNX_MAX_ATTR_VALUES];
    if ((st = in_val(c, 0, &xv)) || (st = attr_ints(c, "perm", p, MF_NN_MAX_DIMS, &n))) return st;
    mf_nn_shape xs = oshape(c, xv);
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
    return def_out(c, 0, permute_node(c, c->v[xv].node, perm, r, "t"), LAY_ONNX);
}

static int op_concat(ctx *c) {
    int st, n = c->nd->n_in, vis[MF_ONNX_MAX_NODE_IO], a = 0, any_nhwc = 0;
    int64_t axis;
    if ((st = attr_int(c, "axis", c->opset < 4 ? 1 : INT64_MIN, &axis))) return st;
    if (axis == INT64_MIN) return mf_error_set(MF_ERR_FORMAT, "attribute 'axis' is missing");
    for (int j = 0; j < n; j++) {
        if ((st = in_val(c, j, &vis[j]))) return st;
        any_nhwc |= c->v[vis[j]].layout == LAY_NHWC;
    }
    mf_nn_shape s0 = oshape(c, vis[0]);
    if ((st = norm_axis(axis, s0.ndim, &a))) return st;
    if (n == 1) return alias(c, vis[0]);
    int layout = s0.ndim == 4 && any_nhwc ? LAY_NHWC : LAY_ONNX, in[MF_ONNX_MAX_NODE_IO + 1];
    for (int j = 0; j < n; j++) {
        if (oshape(c, vis[j]).ndim != s0.ndim) return mf_error_set(MF_ERR_FORMAT, "inputs of different ranks");
        if ((in[j] = node_in(c, vis[j], layout)) < 0) return in[j];
    }
    int ax = layout == LAY_NHWC ? ONNX_TO_STORED[a] : a;
    if ((in[n] = const_i32(c, &ax, 1, "axis")) < 0) return in[n];
    return def_out(c, 0, add_node(c, MF_NN_OP_CONCAT, in, n + 1, NULL, "%s", c->oname), layout);
}

/* [lead..., K] x [K, N] with a constant B (already [K, N]). */
static int matmul(ctx *c, int av, int b, int final) {
    mf_nn_shape as = oshape(c, av);
    if (as.ndim < 2) return mf_error_set(MF_ERR_UNSUPPORTED, "MatMul of a rank-%d tensor", as.ndim);
    int a = node_in(c, av, LAY_ONNX);
    if (a < 0) return a;
    int r = as.ndim, N = c->shp[b].dim[1];
    if (r > 2) {
        int d2[2] = {1, as.dim[r - 1]};
        for (int i = 0; i < r - 1; i++)
            d2[0] *= as.dim[i];
        if ((a = reshape_node(c, a, d2, 2, "2d")) < 0) return a;
    }
    int in[2] = {a, b};
    int mm = add_node(c, MF_NN_OP_MATMUL, in, 2, NULL, final && r == 2 ? "%s" : "%s#matmul", c->oname);
    if (mm < 0 || r == 2) return mm;
    int dims[MF_NN_MAX_DIMS];
    memcpy(dims, as.dim, sizeof dims);
    dims[r - 1] = N;
    return reshape_node(c, mm, dims, r, "nd");
}

static int op_matmul(ctx *c) {
    int av, b, st;
    if ((st = in_val(c, 0, &av)) || (st = const_in(c, 1, MF_NN_F32, &b))) return st;
    if (c->shp[b].ndim != 2)
        return mf_error_set(MF_ERR_UNSUPPORTED, "MatMul with a rank-%d second operand", c->shp[b].ndim);
    return def_out(c, 0, matmul(c, av, b, 1), LAY_ONNX);
}

static int op_gemm(ctx *c) {
    int av, b, cv, st;
    int64_t ta, tb;
    float alpha, beta;
    if ((st = in_val(c, 0, &av)) || (st = const_in(c, 1, MF_NN_F32, &b)) || (st = opt_val(c, 2, &cv)) ||
        (st = attr_int(c, "transA", 0, &ta)) || (st = attr_int(c, "transB", 0, &tb)) ||
        (st = attr_float(c, "alpha", 1, &alpha)) || (st = attr_float(c, "beta", 1, &beta)))
        return st;
    attr_ignore(c, "broadcast"); /* opset < 7: broadcasting of C is always on in our Add */
    mf_nn_shape as = oshape(c, av);
    if (as.ndim != 2 || c->shp[b].ndim != 2) return mf_error_set(MF_ERR_FORMAT, "Gemm operands must be 2-D");
    static const int T2[2] = {1, 0};
    if (ta) {
        int t = node_in(c, av, LAY_ONNX);
        if (t < 0 || (t = permute_node(c, t, T2, 2, "at")) < 0) return t;
        if ((av = new_value(c, NO_NAME, t, LAY_ONNX, NULL)) < 0) return av;
    }
    if (tb && (b = permute_node(c, b, T2, 2, "bt")) < 0) return b;
    if (alpha != 1.0f) {
        int k = const_f32(c, &(mf_nn_shape){0, {0}}, NULL, alpha, "alpha");
        if (k < 0) return k;
        int in[2] = {b, k};
        if ((b = add_node(c, MF_NN_OP_MUL, in, 2, NULL, "%s#b_alpha", c->oname)) < 0) return b;
        if (!is_const(c, b)) return mf_error_set(MF_ERR_LIMIT, "weights too large to scale");
    }
    int mm = matmul(c, av, b, cv < 0);
    if (mm < 0 || cv < 0) return def_out(c, 0, mm, LAY_ONNX);
    int k = node_in(c, cv, LAY_ONNX);
    if (k < 0) return k;
    if (beta != 1.0f) {
        int s = const_f32(c, &(mf_nn_shape){0, {0}}, NULL, beta, "beta");
        if (s < 0) return s;
        int in[2] = {k, s};
        if ((k = add_node(c, MF_NN_OP_MUL, in, 2, NULL, "%s#c_beta", c->oname)) < 0) return k;
    }
    int in[2] = {mm, k};
    int out = add_node(c, MF_NN_OP_ADD, in, 2, NULL, "%s", c->oname);
    if (out >= 0 && memcmp(&c->shp[out], &c->shp[mm], sizeof c->shp[mm]))
        return mf_error_set(MF_ERR_FORMAT, "C does not broadcast to the product's shape");
    return def_out(c, 0, out, LAY_ONNX);
}

static int op_pad(ctx *c) {
    int xv, st, n;
    int64_t pads[2 * MF_NN_MAX_DIMS];
    float value = 0;
    char mode[32];
    if ((st = in_val(c, 0, &xv)) || (st = attr_str(c, "mode", "constant", mode, sizeof mode))) return st;
    if (c->opset < 11) {
        if ((st = attr_ints(c, c->opset < 2 ? "paddings" : "pads", pads, 2 * MF_NN_MAX_DIMS, &n)) ||
            (st = attr_float(c, "value", 0, &value)))
            return st;
        if (n < 0) return mf_error_set(MF_ERR_FORMAT, "attribute 'pads' is missing");
    } else {
        int v;
        if ((st = const_ints_in(c, 1, pads, 2 * MF_NN_MAX_DIMS, &n)) || (st = opt_val(c, 2, &v)) ||
            (v >= 0 && (st = const_scalar_in(c, 2, &value))) || (st = opt_val(c, 3, &v)))
            return st;
        if (v >= 0) return mf_error_set(MF_ERR_UNSUPPORTED, "Pad with axes");
    }
    if (strcmp(mode, "constant") || value != 0)
        return mf_error_set(MF_ERR_UNSUPPORTED, "Pad mode '%s' value %g (only constant 0)", mode, value);
    mf_nn_shape xs = oshape(c, xv);
    int r = xs.ndim, p[2 * MF_NN_MAX_DIMS];
    if (n != 2 * r) return mf_error_set(MF_ERR_FORMAT, "%d pads for rank %d", n, r);
    int nhwc = c->v[xv].layout == LAY_NHWC;
    for (int k = 0; k < r; k++) {
        int q = nhwc ? TO_NHWC[k] : k; /* ONNX axis stored at position k */
        if (pads[q] < 0 || pads[r + q] < 0 || pads[q] > MAX_PAD || pads[r + q] > MAX_PAD)
            return mf_error_set(MF_ERR_UNSUPPORTED, "negative or huge pads");
        p[2 * k] = (int)pads[q], p[2 * k + 1] = (int)pads[r + q];
    }
    int k = const_i32(c, p, 2 * r, "pads");
    if (k < 0) return k;
    int in[2] = {c->v[xv].node, k};
    return def_out(c, 0, add_node(c, MF_NN_OP_PAD, in, 2, NULL, "%s", c->oname), c->v[xv].layout);
}

static int op_reduce(ctx *c, int op, int input_from) {
    int xv, st, n;
    int64_t axes[MF_NN_MAX_DIMS], keep, noop;
    if ((st = in_val(c, 0, &xv)) || (st = read_axes(c, input_from, axes, &n)) ||
        (st = attr_int(c, "keepdims", 1, &keep)) || (st = attr_int(c, "noop_with_empty_axes", 0, &noop)))
        return st;
    mf_nn_shape xs = oshape(c, xv);
    int r = xs.ndim, red[MF_NN_MAX_DIMS] = {0}, sa[MF_NN_MAX_DIMS], ns = 0;
    if (n <= 0 && noop) return alias(c, xv);
    int nhwc = c->v[xv].layout == LAY_NHWC;
    for (int i = 0; i < (n < 0 ? r : n); i++) {
        int a = i;
        if (n >= 0 && (st = norm_axis(axes[i], r, &a))) return st;
        red[a] = 1;
    }
    if (n == 0)
        for (int i = 0; i < r; i++)
            red[i] = 1;
    for (int k = 0; k < r; k++) /* stored axes reduced */
        if (red[nhwc ? TO_NHWC[k] : k]) sa[ns++] = k;
    int ka = const_i32(c, sa, ns, "axes");
    if (ka < 0) return ka;
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    a.keep_dims = keep != 0;
    int in[2] = {c->v[xv].node, ka};
    if (keep || !nhwc) return def_out(c, 0, add_node(c, op, in, 2, &a, "%s", c->oname), c->v[xv].layout);
    /* NHWC without keepdims: the remaining axes are in stored order; put them back in ONNX order */
    int y = add_node(c, op, in, 2, &a, "%s#reduce", c->oname);
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
    if (nl == 0) return def_out(c, 0, y, LAY_ONNX);
    return def_out(c, 0, permute_node(c, y, perm, nl, "order"), LAY_ONNX);
}

static int op_constant(ctx *c) {
    int st, i;
    if ((i = find_attr(c, "value", MF_ONNX_ATTR_TENSOR)) != ABSENT) {
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
        return def_out(c, 0, add_const(c, kind ? MF_NN_F32 : MF_NN_I32, &s, data, "%s", c->oname), LAY_ONNX);
    }
    float f;
    int64_t iv, ints[MF_ONNX_MAX_ATTR_VALUES];
    int n;
    if (attr_present(c, "value_float")) {
        if ((st = attr_float(c, "value_float", 0, &f))) return st;
        return def_out(c, 0, const_f32(c, &(mf_nn_shape){0, {0}}, NULL, f, "value"), LAY_ONNX);
    }
    if (attr_present(c, "value_int")) {
        if ((st = attr_int(c, "value_int", 0, &iv))) return st;
        int v = iv > INT_MAX ? INT_MAX : iv < INT_MIN ? INT_MIN : (int)iv;
        int k = const_i32(c, &v, 1, "value");
        if (k >= 0) c->m->nodes[k].shape.ndim = 0, c->shp[k].ndim = 0;
        return def_out(c, 0, k, LAY_ONNX);
    }
    if (attr_present(c, "value_ints")) {
        if ((st = attr_ints(c, "value_ints", ints, MF_ONNX_MAX_ATTR_VALUES, &n))) return st;
        if (n <= 0) return mf_error_set(MF_ERR_UNSUPPORTED, "empty constant");
        int v[MF_ONNX_MAX_ATTR_VALUES];
        for (int k = 0; k < n; k++)
            v[k] = ints[k] > INT_MAX ? INT_MAX : ints[k] < INT_MIN ? INT_MIN : (int)ints[k];
        return def_out(c, 0, const_i32(c, v, n, "value"), LAY_ONNX);
    }
    if (attr_present(c, "value_floats")) {
        i = find_attr(c, "value_floats", MF_ONNX_ATTR_FLOATS);
        if (i < 0) return i;
        n = c->attrs[i].n_floats;
        if (n <= 0 || n > MF_ONNX_MAX_ATTR_VALUES)
            return mf_error_set(MF_ERR_UNSUPPORTED, "value_floats with %d values", n);
        return def_out(c, 0, const_f32(c, &(mf_nn_shape){1, {n}}, c->attrs[i].floats, 0, "value"), LAY_ONNX);
    }
    return mf_error_set(MF_ERR_UNSUPPORTED, "Constant without a supported value attribute");
}

static int op_shape(ctx *c) {
    int xv, st, r, lo, hi;
    int64_t start, end;
    if ((st = in_val(c, 0, &xv)) || (st = attr_int(c, "start", 0, &start)) ||
        (st = attr_int(c, "end", INT64_MAX, &end)))
        return st;
    mf_nn_shape xs = oshape(c, xv);
    r = xs.ndim;
    if (start < 0) start += r;
    if (end < 0) end += r;
    lo = start < 0 ? 0 : start > r ? r : (int)start;
    hi = end < 0 ? 0 : end > r ? r : (int)end;
    if (hi <= lo) return mf_error_set(MF_ERR_UNSUPPORTED, "empty Shape");
    return def_out(c, 0, const_i32(c, xs.dim + lo, hi - lo, "shape"), LAY_ONNX);
}

/* Gather of constants (shape arithmetic), computed here. */
static int op_gather(ctx *c) {
    int xv, iv, st, a = 0;
    int64_t axis;
    if ((st = in_val(c, 0, &xv)) || (st = in_val(c, 1, &iv)) || (st = attr_int(c, "axis", 0, &axis))) return st;
    int x = node_in(c, xv, LAY_ONNX), ix = node_in(c, iv, LAY_ONNX);
    if (x < 0 || ix < 0) return x < 0 ? x : ix;
    if (!is_const(c, x) || !is_const(c, ix) || c->dty[ix] != MF_NN_I32)
        return mf_error_set(MF_ERR_UNSUPPORTED, "Gather is only supported on constants");
    mf_nn_shape xs = c->shp[x], is = c->shp[ix], os = {0, {0}};
    if ((st = norm_axis(axis, xs.ndim, &a))) return st;
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
    if (total > FOLD_MAX_ELEMS) return mf_error_set(MF_ERR_LIMIT, "Gather result too large");
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
    return def_out(c, 0, add_const(c, c->dty[x], &os, out, "%s", c->oname), LAY_ONNX);
}

/* StridedSlice of value xv with per-ONNX-axis begin/end/step (mask bit = whole axis). */
static int emit_slice(ctx *c, int xv, const int *b, const int *e, const int *s, int full_mask, int k_out) {
    mf_nn_shape xs = oshape(c, xv);
    int r = xs.ndim, nhwc = c->v[xv].layout == LAY_NHWC, sb[MF_NN_MAX_DIMS], se[MF_NN_MAX_DIMS], ss[MF_NN_MAX_DIMS];
    mf_nn_attrs a;
    mf_nn_attrs_default(&a);
    for (int k = 0; k < r; k++) {
        int q = nhwc ? TO_NHWC[k] : k;
        sb[k] = b[q], se[k] = e[q], ss[k] = s[q];
        if (full_mask >> q & 1) a.begin_mask |= 1 << k, a.end_mask |= 1 << k;
    }
    int in[4] = {c->v[xv].node, const_i32(c, sb, r, "begin"), 0, 0};
    if (in[1] < 0 || (in[2] = const_i32(c, se, r, "end")) < 0 || (in[3] = const_i32(c, ss, r, "strides")) < 0)
        return in[1] < 0 ? in[1] : in[2] < 0 ? in[2] : in[3];
    char nm[MAX_NAME + 1];
    snprintf(nm, sizeof nm, "%.*s", (int)c->nd->out[k_out].n, (const char *)c->nd->out[k_out].p);
    return def_out(c, k_out, add_node(c, MF_NN_OP_STRIDED_SLICE, in, 4, &a, "%s", nm), c->v[xv].layout);
}

static int op_slice(ctx *c) {
    int xv, st, ns, ne, na = -1, nst = -1;
    int64_t starts[MF_NN_MAX_DIMS], ends[MF_NN_MAX_DIMS], axes[MF_NN_MAX_DIMS], steps[MF_NN_MAX_DIMS];
    if ((st = in_val(c, 0, &xv))) return st;
    if (c->opset < 10) {
        if ((st = attr_ints(c, "starts", starts, MF_NN_MAX_DIMS, &ns)) ||
            (st = attr_ints(c, "ends", ends, MF_NN_MAX_DIMS, &ne)) ||
            (st = attr_ints(c, "axes", axes, MF_NN_MAX_DIMS, &na)))
            return st;
    } else {
        int v;
        if ((st = const_ints_in(c, 1, starts, MF_NN_MAX_DIMS, &ns)) ||
            (st = const_ints_in(c, 2, ends, MF_NN_MAX_DIMS, &ne)))
            return st;
        if ((st = opt_val(c, 3, &v)) || (v >= 0 && (st = const_ints_in(c, 3, axes, MF_NN_MAX_DIMS, &na)))) return st;
        if ((st = opt_val(c, 4, &v)) || (v >= 0 && (st = const_ints_in(c, 4, steps, MF_NN_MAX_DIMS, &nst)))) return st;
    }
    if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return mf_error_set(MF_ERR_FORMAT, "starts, ends, axes and steps differ in length");
    mf_nn_shape xs = oshape(c, xv);
    int r = xs.ndim, b[MF_NN_MAX_DIMS] = {0}, e[MF_NN_MAX_DIMS] = {0}, s[MF_NN_MAX_DIMS], mask = (1 << r) - 1, seen = 0;
    for (int i = 0; i < r; i++)
        s[i] = 1;
    for (int i = 0; i < ns; i++) {
        int a = i;
        if (na >= 0 && (st = norm_axis(axes[i], r, &a))) return st;
        if (seen >> a & 1) return mf_error_set(MF_ERR_FORMAT, "axis %d repeated", a);
        seen |= 1 << a;
        int64_t step = nst >= 0 ? steps[i] : 1;
        if (step == 0 || step > MAX_DIM || step < -MAX_DIM) return mf_error_set(MF_ERR_FORMAT, "bad step");
        b[a] = starts[i] > INT_MAX ? INT_MAX : starts[i] < INT_MIN ? INT_MIN : (int)starts[i];
        e[a] = ends[i] > INT_MAX ? INT_MAX : ends[i] < INT_MIN ? INT_MIN : (int)ends[i];
        s[a] = (int)step;
        mask &= ~(1 << a);
    }
    return emit_slice(c, xv, b, e, s, mask, 0);
}

static int op_split(ctx *c) {
    int xv, st, n = -1, a = 0;
    int64_t axis, split[MF_ONNX_MAX_NODE_IO], num = 0;
    if ((st = in_val(c, 0, &xv)) || (st = attr_int(c, "axis", 0, &axis))) return st;
    if (c->opset < 13) {
        if ((st = attr_ints(c, "split", split, MF_ONNX_MAX_ATTR_VALUES, &n))) return st;
    } else {
        int v;
        if ((st = opt_val(c, 1, &v)) || (v >= 0 && (st = const_ints_in(c, 1, split, MF_ONNX_MAX_NODE_IO, &n))))
            return st;
        if ((st = attr_int(c, "num_outputs", 0, &num))) return st;
    }
    mf_nn_shape xs = oshape(c, xv);
    if ((st = norm_axis(axis, xs.ndim, &a))) return st;
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

/* ---------------------------------------------------------------- dispatch */

typedef struct {
    const char *name;
    int min_in, max_in, max_out; /* max_out: outputs the converter defines; more must be unused */
    int kind, arg;
} op_entry;

enum {
    K_CONV,
    K_POOL,
    K_GPOOL,
    K_BIN,
    K_UN,
    K_ID,
    K_DROP,
    K_LRELU,
    K_CLIP,
    K_BN,
    K_SOFTMAX,
    K_RESHAPE,
    K_FLATTEN,
    K_SQUEEZE,
    K_UNSQUEEZE,
    K_TRANSPOSE,
    K_CONCAT,
    K_MATMUL,
    K_GEMM,
    K_PAD,
    K_REDUCE,
    K_CONST,
    K_SHAPE,
    K_GATHER,
    K_SLICE,
    K_SPLIT
};

static const op_entry OPS[] = {
    {"Conv", 2, 3, 1, K_CONV, 0},
    {"MaxPool", 1, 1, 1, K_POOL, MF_NN_OP_MAXPOOL},
    {"AveragePool", 1, 1, 1, K_POOL, MF_NN_OP_AVGPOOL},
    {"GlobalAveragePool", 1, 1, 1, K_GPOOL, MF_NN_OP_MEAN},
    {"GlobalMaxPool", 1, 1, 1, K_GPOOL, MF_NN_OP_MAX},
    {"Add", 2, 2, 1, K_BIN, MF_NN_OP_ADD},
    {"Sub", 2, 2, 1, K_BIN, MF_NN_OP_SUB},
    {"Mul", 2, 2, 1, K_BIN, MF_NN_OP_MUL},
    {"Div", 2, 2, 1, K_BIN, MF_NN_OP_REALDIV},
    {"Max", 2, 2, 1, K_BIN, MF_NN_OP_MAXIMUM},
    {"Min", 2, 2, 1, K_BIN, MF_NN_OP_MINIMUM},
    {"PRelu", 2, 2, 1, K_BIN, MF_NN_OP_PRELU},
    {"Relu", 1, 1, 1, K_UN, MF_NN_OP_RELU},
    {"Sigmoid", 1, 1, 1, K_UN, MF_NN_OP_SIGMOID},
    {"Tanh", 1, 1, 1, K_UN, MF_NN_OP_TANH},
    {"Abs", 1, 1, 1, K_UN, MF_NN_OP_ABS},
    {"Identity", 1, 1, 1, K_ID, 0},
    {"Dropout", 1, 3, 1, K_DROP, 0},
    {"LeakyRelu", 1, 1, 1, K_LRELU, 0},
    {"Clip", 1, 3, 1, K_CLIP, 0},
    {"BatchNormalization", 5, 5, 1, K_BN, 0},
    {"Softmax", 1, 1, 1, K_SOFTMAX, 0},
    {"Reshape", 1, 2, 1, K_RESHAPE, 0},
    {"Flatten", 1, 1, 1, K_FLATTEN, 0},
    {"Squeeze", 1, 2, 1, K_SQUEEZE, 0},
    {"Unsqueeze", 1, 2, 1, K_UNSQUEEZE, 0},
    {"Transpose", 1, 1, 1, K_TRANSPOSE, 0},
    {"Concat", 1, MF_ONNX_MAX_NODE_IO - 1, 1, K_CONCAT, 0},
    {"MatMul", 2, 2, 1, K_MATMUL, 0},
    {"Gemm", 2, 3, 1, K_GEMM, 0},
    {"Pad", 1, 4, 1, K_PAD, 0},
    {"ReduceMean", 1, 2, 1, K_REDUCE, MF_NN_OP_MEAN},
    {"ReduceMax", 1, 2, 1, K_REDUCE, MF_NN_OP_MAX},
    {"ReduceSum", 1, 2, 1, K_REDUCE, MF_NN_OP_SUM},
    {"Constant", 0, 0, 1, K_CONST, 0},
    {"Shape", 1, 1, 1, K_SHAPE, 0},
    {"Gather", 2, 2, 1, K_GATHER, 0},
    {"Slice", 1, 5, 1, K_SLICE, 0},
    {"Split", 1, 2, MF_ONNX_MAX_NODE_IO, K_SPLIT, 0},
};

static int run_op(ctx *c, const op_entry *e) {
    switch (e->kind) {
    case K_CONV: return op_conv(c);
    case K_POOL: return op_pool(c, e->arg);
    case K_GPOOL: return op_global_pool(c, e->arg);
    case K_BIN: return op_binary(c, e->arg);
    case K_UN: return op_unary(c, e->arg);
    case K_ID: return op_identity(c);
    case K_DROP: return op_dropout(c);
    case K_LRELU: return op_leaky_relu(c);
    case K_CLIP: return op_clip(c);
    case K_BN: return op_batchnorm(c);
    case K_SOFTMAX: return op_softmax(c);
    case K_RESHAPE: return op_reshape(c);
    case K_FLATTEN: return op_flatten(c);
    case K_SQUEEZE: return op_squeeze(c);
    case K_UNSQUEEZE: return op_unsqueeze(c);
    case K_TRANSPOSE: return op_transpose(c);
    case K_CONCAT: return op_concat(c);
    case K_MATMUL: return op_matmul(c);
    case K_GEMM: return op_gemm(c);
    case K_PAD: return op_pad(c);
    case K_REDUCE: return op_reduce(c, e->arg, e->arg == MF_NN_OP_SUM ? 13 : 18);
    case K_CONST: return op_constant(c);
    case K_SHAPE: return op_shape(c);
    case K_GATHER: return op_gather(c);
    case K_SLICE: return op_slice(c);
    default: return op_split(c);
    }
}

static int convert_node(ctx *c, const mf_onnx_node *nd) {
    int st;
    const op_entry *e = NULL;
    if (nd->domain.n && !span_eq(nd->domain, "ai.onnx"))
        return mf_error_set(MF_ERR_UNSUPPORTED, "unsupported op '%.*s' of domain '%.*s'", span_len(nd->op),
                            (const char *)nd->op.p, span_len(nd->domain), (const char *)nd->domain.p);
    for (size_t i = 0; i < sizeof OPS / sizeof *OPS && !e; i++)
        if (span_eq(nd->op, OPS[i].name)) e = &OPS[i];
    if (!e) return mf_error_set(MF_ERR_UNSUPPORTED, "unsupported op '%.*s'", span_len(nd->op), (const char *)nd->op.p);
    int n_in = nd->n_in;
    while (n_in > 0 && nd->in[n_in - 1].n == 0)
        n_in--; /* trailing optional inputs left empty */
    if (n_in < e->min_in || n_in > e->max_in)
        return mf_error_set(n_in > e->max_in ? MF_ERR_UNSUPPORTED : MF_ERR_FORMAT, "%d inputs (expected %d to %d)",
                            n_in, e->min_in, e->max_in);
    if (nd->n_out < 1) return mf_error_set(MF_ERR_FORMAT, "node has no output");
    for (int k = 0; k < nd->n_out; k++) {
        if ((st = check_name(nd->out[k], "output"))) return st;
        for (int j = 0; j < k; j++)
            if (nd->out[k].n && nd->out[j].n == nd->out[k].n && !memcmp(nd->out[j].p, nd->out[k].p, nd->out[k].n))
                return mf_error_set(MF_ERR_FORMAT, "output '%.*s' listed twice", span_len(nd->out[k]),
                                    (const char *)nd->out[k].p);
    }
    if ((st = mf_onnx_node_attrs(nd, c->base, c->attrs, MAX_ATTRS, &c->n_attrs))) return st;
    memset(c->used, 0, sizeof c->used);
    for (int i = 0; i < c->n_attrs; i++) {
        if (c->attrs[i].other && c->attrs[i].type != MF_ONNX_ATTR_INT && c->attrs[i].type != MF_ONNX_ATTR_FLOAT &&
            c->attrs[i].type != MF_ONNX_ATTR_INTS && c->attrs[i].type != MF_ONNX_ATTR_FLOATS &&
            c->attrs[i].type != MF_ONNX_ATTR_STRING && c->attrs[i].type != MF_ONNX_ATTR_TENSOR)
            return mf_error_set(MF_ERR_UNSUPPORTED, "attribute '%.*s' of type %d", span_len(c->attrs[i].name),
                                (const char *)c->attrs[i].name.p, c->attrs[i].type);
        for (int j = 0; j < i; j++)
            if (c->attrs[j].name.n == c->attrs[i].name.n &&
                !memcmp(c->attrs[j].name.p, c->attrs[i].name.p, c->attrs[i].name.n))
                return mf_error_set(MF_ERR_FORMAT, "attribute '%.*s' given twice", span_len(c->attrs[i].name),
                                    (const char *)c->attrs[i].name.p);
    }
    snprintf(c->oname, sizeof c->oname, "%.*s", (int)nd->out[0].n, (const char *)nd->out[0].p);
    if (!c->oname[0]) snprintf(c->oname, sizeof c->oname, "#%d", c->m->n_nodes);
    c->nd = nd;
    if ((st = run_op(c, e))) return st;
    for (int i = 0; i < c->n_attrs; i++)
        if (!c->used[i])
            return mf_error_set(MF_ERR_UNSUPPORTED, "attribute '%.*s' is not supported", span_len(c->attrs[i].name),
                                (const char *)c->attrs[i].name.p);
    /* outputs the converter does not produce (Dropout's mask, BatchNormalization's running statistics, MaxPool's
     * indices): an error only if something reads them */
    for (int k = e->max_out; k < nd->n_out; k++)
        if (nd->out[k].n &&
            (st = new_value(c, nd->out[k], -1, LAY_ONNX, "this output of its node is not supported")) < 0)
            return st;
    return MF_OK;
}

/* ---------------------------------------------------------------- graph */

static int add_initializer(ctx *c, mf_pb_span msg) {
    mf_onnx_tensor t;
    int st;
    size_t numel;
    if ((st = mf_onnx_tensor_parse(msg, c->base, &t))) return st;
    if (t.name.n == 0) return mf_error_set(MF_ERR_FORMAT, "initializer without a name");
    if ((st = check_name(t.name, "initializer"))) return st;
    if ((st = mf_onnx_tensor_numel(&t, (size_t)MF_NN_MAX_WEIGHT_BYTES / 4, &numel))) return st;
    int kind = mf_onnx_dtype_kind(t.data_type);
    const char *why = kind < 0                  ? "initializer of an unsupported data type"
                      : t.ndim > MF_NN_MAX_DIMS ? "initializer of rank above 6"
                      : numel == 0              ? "empty initializer"
                      : t.external              ? "initializer with external data"
                                                : NULL;
    if (why) {
        int vi = new_value(c, t.name, -1, LAY_ONNX, why);
        return vi < 0 ? vi : MF_OK;
    }
    if (c->const_bytes + numel * 4 > (size_t)MF_NN_MAX_WEIGHT_BYTES)
        return mf_error_set(MF_ERR_LIMIT, "initializers larger than %d bytes", MF_NN_MAX_WEIGHT_BYTES);
    void *data;
    if ((st = mf_onnx_tensor_decode(&t, kind, numel, &data))) return st;
    c->const_bytes += numel * 4;
    mf_nn_shape s = {t.ndim, {0}};
    for (int i = 0; i < t.ndim; i++)
        s.dim[i] = (int)t.dims[i];
    if (map_find(c, t.name) >= 0) {
        free(data);
        return mf_error_set(MF_ERR_FORMAT, "initializer '%.*s' defined twice", span_len(t.name),
                            (const char *)t.name.p);
    }
    int id = add_const(c, kind ? MF_NN_F32 : MF_NN_I32, &s, data, "%.*s", (int)t.name.n, (const char *)t.name.p);
    if (id < 0) return id;
    int vi = new_value(c, t.name, id, LAY_ONNX, NULL);
    return vi < 0 ? vi : MF_OK;
}

static int add_input(ctx *c, mf_pb_span msg) {
    mf_onnx_value_info v;
    int st = mf_onnx_value_info_parse(msg, c->base, &v);
    if (st) return st;
    if (v.name.n == 0) return mf_error_set(MF_ERR_FORMAT, "graph input without a name");
    if ((st = check_name(v.name, "input"))) return st;
    int nl = span_len(v.name);
    const char *nm = (const char *)v.name.p;
    int prev = map_find(c, v.name);
    if (prev >= 0) {
        if (c->v[prev].node >= 0 && c->m->nodes[c->v[prev].node].op == MF_NN_OP_CONST) return MF_OK; /* IR < 4 */
        return mf_error_set(MF_ERR_FORMAT, "graph input '%.*s' listed twice", nl, nm);
    }
    if (!v.has_type || v.other_type) return mf_error_set(MF_ERR_UNSUPPORTED, "input '%.*s' is not a tensor", nl, nm);
    if (v.elem_type != MF_ONNX_FLOAT)
        return mf_error_set(MF_ERR_UNSUPPORTED, "input '%.*s' has type %s (only FLOAT)", nl, nm,
                            mf_onnx_dtype_name(v.elem_type));
    if (!v.has_shape) return mf_error_set(MF_ERR_UNSUPPORTED, "input '%.*s' has no shape", nl, nm);
    if (v.ndim > MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "input '%.*s' has rank %d", nl, nm, v.ndim);
    mf_nn_shape s = {v.ndim, {0}};
    for (int i = 0; i < v.ndim; i++) {
        if (v.dims[i] < 0 && i > 0)
            return mf_error_set(MF_ERR_UNSUPPORTED, "input '%.*s': dimension %d is symbolic (only the batch may be)",
                                nl, nm, i);
        if (v.dims[i] == 0) return mf_error_set(MF_ERR_FORMAT, "input '%.*s': dimension %d is 0", nl, nm, i);
        if (v.dims[i] > MAX_DIM) return mf_error_set(MF_ERR_LIMIT, "input '%.*s': dimension %d too large", nl, nm, i);
        s.dim[i] = (int)v.dims[i];
    }
    int layout = LAY_ONNX;
    if (v.ndim == 4) {
        mf_nn_shape t = s;
        for (int i = 0; i < 4; i++)
            s.dim[i] = t.dim[TO_NHWC[i]];
        layout = LAY_NHWC;
    }
    char name[MAX_NAME + 1];
    snprintf(name, sizeof name, "%.*s", (int)v.name.n, nm);
    int id = mf_nn_graph_add(c->m, name, MF_NN_OP_PLACEHOLDER, NULL, 0);
    if (id < 0) return id;
    c->m->nodes[id].shape = s;
    c->m->nodes[id].dtype = MF_NN_F32;
    int *ni = realloc(c->m->inputs, (size_t)(c->m->n_inputs + 1) * sizeof *ni);
    if (!ni) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    c->m->inputs = ni;
    ni[c->m->n_inputs++] = id;
    if ((st = finish(c, id)) < 0) return st;
    int vi = new_value(c, v.name, id, layout, NULL);
    return vi < 0 ? vi : MF_OK;
}

/* Drops the nodes no output needs (weights replaced by their re-laid-out copies, folded intermediates). Node
 * order is topological by construction (inputs are created before their users). */
static int compact(mf_nn_model_t *m) {
    int n = m->n_nodes;
    char *keep = calloc((size_t)n + 1, 1);
    int *remap = malloc(((size_t)n + 1) * sizeof *remap);
    if (!keep || !remap) {
        free(keep);
        free(remap);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_outputs; i++)
        keep[m->outputs[i]] = 1;
    for (int i = 0; i < m->n_inputs; i++)
        keep[m->inputs[i]] = 1;
    for (int i = n - 1; i >= 0; i--)
        if (keep[i])
            for (int j = 0; j < m->nodes[i].n_in; j++)
                keep[m->nodes[i].in[j]] = 1;
    int k = 0;
    m->weight_bytes = 0;
    for (int i = 0; i < n; i++) {
        if (!keep[i]) {
            free(m->nodes[i].name);
            free(m->nodes[i].in);
            free(m->nodes[i].data);
            remap[i] = -1;
            continue;
        }
        remap[i] = k;
        m->nodes[k] = m->nodes[i];
        for (int j = 0; j < m->nodes[k].n_in; j++)
            m->nodes[k].in[j] = remap[m->nodes[k].in[j]];
        if (m->nodes[k].op == MF_NN_OP_CONST) m->weight_bytes += mf_nn_shape_numel(&m->nodes[k].shape) * 4;
        k++;
    }
    m->n_nodes = k;
    for (int i = 0; i < m->n_outputs; i++)
        m->outputs[i] = remap[m->outputs[i]];
    for (int i = 0; i < m->n_inputs; i++)
        m->inputs[i] = remap[m->inputs[i]];
    free(keep);
    free(remap);
    return MF_OK;
}

static int convert_graph(ctx *c, const mf_onnx_graph *g) {
    int st;
    if (g->n_sparse) return mf_error_set(MF_ERR_UNSUPPORTED, "sparse initializers are not supported");
    for (int i = 0; i < g->n_init; i++)
        if ((st = add_initializer(c, g->init[i]))) return mf_error_prefix(st, "initializer %d", i);
    for (int i = 0; i < g->n_input; i++)
        if ((st = add_input(c, g->input[i]))) return st;
    if (c->m->n_inputs == 0) return mf_error_set(MF_ERR_FORMAT, "the graph has no input");
    mf_onnx_node nd;
    for (int i = 0; i < g->n_node; i++) {
        if ((st = mf_onnx_node_parse(g->node[i], c->base, &nd))) return mf_error_prefix(st, "node %d", i);
        char label[MAX_NAME + 32];
        if (nd.name.n && !check_name(nd.name, "node"))
            snprintf(label, sizeof label, "'%.*s'", (int)nd.name.n, (const char *)nd.name.p);
        else
            snprintf(label, sizeof label, "#%d", i);
        if ((st = convert_node(c, &nd)))
            return mf_error_prefix(st, "node %s (%.*s)", label, span_len(nd.op), (const char *)nd.op.p);
    }
    for (int i = 0; i < g->n_output; i++) {
        mf_onnx_value_info v;
        if ((st = mf_onnx_value_info_parse(g->output[i], c->base, &v))) return st;
        if ((st = check_name(v.name, "output"))) return st;
        int vi = map_find(c, v.name);
        if (vi < 0 || v.name.n == 0)
            return mf_error_set(MF_ERR_FORMAT, "graph output '%.*s' is not produced by any node", span_len(v.name),
                                (const char *)v.name.p);
        if (c->v[vi].node < 0)
            return mf_error_set(MF_ERR_UNSUPPORTED, "graph output '%.*s': %s", span_len(v.name), (const char *)v.name.p,
                                c->v[vi].why);
        snprintf(c->oname, sizeof c->oname, "%.*s", (int)v.name.n, (const char *)v.name.p);
        int id = node_in(c, vi, LAY_ONNX);
        if (id < 0) return id;
        if (c->dty[id] != MF_NN_F32)
            return mf_error_set(MF_ERR_UNSUPPORTED, "graph output '%s' is not a float tensor", c->oname);
        if ((st = mf_nn_graph_add_output(c->m, id, c->oname))) return st;
    }
    if (c->m->n_outputs == 0) return mf_error_set(MF_ERR_FORMAT, "the graph has no output");
    return compact(c->m);
}

int mf_nn_model_load_onnx_mem(const uint8_t *data, size_t len, mf_nn_model_t **out) {
    *out = NULL;
    if (!data && len) return mf_error_set(MF_ERR_ARG, "NULL data");
    if (len == 0) return mf_error_set(MF_ERR_FORMAT, "empty ONNX file");
    if (len > FILE_CAP) return mf_error_set(MF_ERR_LIMIT, "ONNX file larger than %zu bytes", FILE_CAP);
    mf_onnx_model_view mv;
    int st = mf_onnx_model_parse(data, len, &mv);
    if (st) return st;
    if (mv.n_graph == 0) return mf_error_set(MF_ERR_FORMAT, "no graph in the file (not an ONNX model?)");
    if (mv.n_graph > 1) return mf_error_set(MF_ERR_FORMAT, "ModelProto has %d graph fields", mv.n_graph);
    if (mv.opset < 0) return mf_error_set(MF_ERR_FORMAT, "the model imports no ai.onnx opset");
    if (mv.opset < 1 || mv.opset > MAX_OPSET)
        return mf_error_set(MF_ERR_UNSUPPORTED, "opset %lld (supported: 1 to %d)", (long long)mv.opset, MAX_OPSET);
    mf_onnx_graph g;
    if ((st = mf_onnx_graph_parse(mv.graph, data, &g))) return st;
    ctx *c = calloc(1, sizeof *c);
    if (!c) {
        mf_onnx_graph_free(&g);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    c->base = data;
    c->opset = mv.opset;
    c->perm_to_nhwc = c->perm_to_onnx = -1;
    st = mf_nn_graph_init(&c->m);
    if (!st) st = convert_graph(c, &g);
    if (st)
        mf_nn_model_free(c->m);
    else
        *out = c->m;
    mf_onnx_graph_free(&g);
    free(c->v);
    free(c->slot);
    free(c->shp);
    free(c->dty);
    free(c->cst);
    free(c);
    return st;
}

int mf_nn_model_load_onnx(const char *path, mf_nn_model_t **out) {
    *out = NULL;
    uint8_t *data;
    size_t len;
    int st = mf_file_read(path, FILE_CAP, &data, &len);
    if (st) return st;
    st = mf_nn_model_load_onnx_mem(data, len, out);
    free(data);
    if (st) return mf_error_prefix(st, "%s", path);
    return MF_OK;
}
