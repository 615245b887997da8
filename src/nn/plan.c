/* Planner and executor: topological order, constant folding, fusion, arena placement, weight packing. */
#include "nn/ops.h"
#include "nn/pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ALIGN = 64, CHUNKS_PER_THREAD = 4 };

typedef struct {
    mf_nn_rop r;
    int node;        /* node whose value this step produces (after fusion: the last absorbed node) */
    int kind;        /* STEP_* */
    const void *in[MF_NN_MAX_INPUTS];
    void *out;
    const float *residual;
    float *packed;
} step;

enum { STEP_GENERIC = 0, STEP_CONV = 1 };

struct mf_nn_plan {
    const mf_nn_model_t *m;
    mf_nn_pool_t *pool;
    int isa, nth;
    int chunks;         /* work units per parallel step: threads take them dynamically (see run_thread) */
    atomic_int *next;   /* per step: next chunk to take */
    atomic_int *done;   /* per step: chunks finished */
    mf_nn_shape *shape; /* per node */
    int *dtype;
    const void **cdata; /* constant (model or folded) data per node, else NULL */
    int *root;          /* storage root per node (aliases point at what they reinterpret) */
    size_t *offset;     /* arena offset per root, bytes */
    void **owned;       /* plan-owned buffers */
    int n_owned, cap_owned;
    step *steps;
    int n_steps;
    uint8_t *arena;
    size_t arena_bytes, packed_bytes;
    float *scratch;
    double flops;
    size_t max_bytes, used_bytes; /* planning allocation cap and what own() and the arena took so far */
    int over_limit;               /* own() refused because of max_bytes */
};

/* The error for a failed own(): the cap or real memory exhaustion. */
static int own_error(const mf_nn_plan_t *p) {
    return p->over_limit ? mf_error_set(MF_ERR_LIMIT, "planning needs more than the limit of %zu bytes", p->max_bytes)
                         : mf_error_set(MF_ERR_NOMEM, "out of memory");
}

static void *own(mf_nn_plan_t *p, size_t bytes) {
    if (p->n_owned == p->cap_owned) {
        int nc = p->cap_owned ? p->cap_owned * 2 : 64;
        void **no = realloc(p->owned, (size_t)nc * sizeof *no);
        if (!no) return NULL;
        p->owned = no;
        p->cap_owned = nc;
    }
    size_t rounded = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    if (rounded < bytes || rounded > p->max_bytes - p->used_bytes) {
        p->over_limit = 1;
        return NULL;
    }
    p->used_bytes += rounded;
    void *b = aligned_alloc(ALIGN, rounded ? rounded : ALIGN);
    if (!b) return NULL;
    memset(b, 0, rounded ? rounded : ALIGN);
    p->owned[p->n_owned++] = b;
    return b;
}

static size_t numel(const mf_nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (size_t)s->dim[i];
    return n;
}

/* Needed nodes in topological order (iterative DFS from the outputs; cycles are refused). */
static int topo_order(const mf_nn_model_t *m, int **order, int *n_order) {
    int n = m->n_nodes, st = MF_OK, cnt = 0;
    char *state = calloc((size_t)n + 1, 1);
    int *ord = malloc(((size_t)n + 1) * sizeof(int));
    int *stk = malloc(((size_t)n + 1) * sizeof(int)), *pos = malloc(((size_t)n + 1) * sizeof(int));
    if (!state || !ord || !stk || !pos) {
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int o = 0; o < m->n_outputs; o++) {
        int top = 0;
        if (state[m->outputs[o]]) continue;
        stk[top] = m->outputs[o];
        pos[top++] = 0;
        state[m->outputs[o]] = 1;
        while (top) {
            int id = stk[top - 1];
            const mf_nn_node *nd = &m->nodes[id];
            if (pos[top - 1] < nd->n_in) {
                int c = nd->in[pos[top - 1]++];
                if (state[c] == 1) {
                    st = mf_error_set(MF_ERR_FORMAT, "graph has a cycle through node %s", m->nodes[c].name);
                    goto out;
                }
                if (state[c] == 0) {
                    state[c] = 1;
                    stk[top] = c;
                    pos[top++] = 0;
                }
            } else {
                state[id] = 2;
                ord[cnt++] = id;
                top--;
            }
        }
    }
out:
    free(state);
    free(stk);
    free(pos);
    if (st) {
        free(ord);
        return st;
    }
    *order = ord;
    *n_order = cnt;
    return MF_OK;
}

/* Is `v` (a constant of `numel` floats) usable as a per-channel vector for a tensor with `oc` channels? */
static int per_channel(const mf_nn_shape *s, int oc) {
    if ((int)numel(s) != oc) return 0;
    for (int i = 0; i + 1 < s->ndim; i++)
        if (s->dim[i] != 1) return 0;
    return 1;
}

static int is_scalar_value(const mf_nn_shape *s, const void *data, float v) {
    return data && numel(s) == 1 && ((const float *)data)[0] == v;
}

/* Rewrites relu(x) + c * (x - |x|) (PReLU as some converters spell it; c per channel) into PReLU(x) with slope
 * 2c held by the op, so it fuses into the producing convolution. Returns a status. */
static int rewrite_prelu(mf_nn_plan_t *p, mf_nn_rop **rops, const int *order, int n_order) {
    for (int k = 0; k < n_order; k++) {
        int y = order[k];
        mf_nn_rop *ry = rops[y];
        if (!ry || (ry->op != MF_NN_OP_ADD && ry->op != MF_NN_OP_ADDV2) || ry->n_in != 2) continue;
        for (int side = 0; side < 2; side++) {
            int rn = ry->in_node[side], mn = ry->in_node[1 - side];
            if (!rops[rn] || rops[rn]->op != MF_NN_OP_RELU || !rops[mn] || rops[mn]->op != MF_NN_OP_MUL) continue;
            int x = rops[rn]->in_node[0];
            const mf_nn_rop *rm = rops[mn];
            int cn = p->cdata[rm->in_node[0]] ? rm->in_node[0] : rm->in_node[1];
            int sn = cn == rm->in_node[0] ? rm->in_node[1] : rm->in_node[0];
            if (!p->cdata[cn] || p->dtype[cn] != MF_NN_F32 || !rops[sn] || rops[sn]->op != MF_NN_OP_SUB) continue;
            const mf_nn_rop *rs = rops[sn];
            int an = rs->in_node[1];
            if (rs->in_node[0] != x || !rops[an] || rops[an]->op != MF_NN_OP_ABS || rops[an]->in_node[0] != x) continue;
            const mf_nn_shape *xs = &p->shape[x];
            if (memcmp(xs, &ry->out_shape, sizeof *xs) || xs->ndim < 1) continue;
            int ch = xs->dim[xs->ndim - 1];
            size_t cnum = numel(&p->shape[cn]);
            if (!(cnum == 1 || per_channel(&p->shape[cn], ch))) continue;
            float *alpha = own(p, (size_t)ch * 4);
            if (!alpha) return own_error(p);
            const float *c = p->cdata[cn];
            for (int i = 0; i < ch; i++) alpha[i] = 2.0f * c[cnum == 1 ? 0 : i];
            ry->op = MF_NN_OP_PRELU;
            ry->n_in = 1;
            ry->in_node[0] = x;
            ry->in_shape[0] = *xs;
            ry->alpha = alpha;
            break;
        }
    }
    return MF_OK;
}

/* Drops runtime nodes that no output depends on any more (after rewrites). */
static int drop_dead(const mf_nn_model_t *m, mf_nn_rop **rops, const int *order, int n_order) {
    char *live = calloc((size_t)m->n_nodes + 1, 1);
    if (!live) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->n_outputs; i++) live[m->outputs[i]] = 1;
    for (int k = n_order - 1; k >= 0; k--) {
        int id = order[k];
        if (!rops[id]) continue;
        if (!live[id]) {
            free(rops[id]);
            rops[id] = NULL;
            continue;
        }
        for (int j = 0; j < rops[id]->n_in; j++) live[rops[id]->in_node[j]] = 1;
    }
    free(live);
    return MF_OK;
}

static int is_conv_op(int op);

typedef struct {
    int *consumers; /* runtime consumers per node */
    int *sole;      /* the consumer of a node that has exactly one (meaningless otherwise) */
    char *is_output;
    int *fused_into; /* node absorbed into this conv node (-1 none) */
    int *emit_at;    /* conv node: the node at whose position it runs */
    int *emit_owner; /* node -> conv emitted there (-1) */
} fuse_state;

/* Absorbs single-consumer Pad producers and epilogue consumers into conv node c. */
static int fuse_conv(mf_nn_plan_t *p, mf_nn_rop **rops, fuse_state *fs, int c) {
    mf_nn_rop *r = rops[c];
    /* leading Pad on H/W only, zero-valued: becomes the convolution's own padding */
    int pin = r->in_node[0];
    if (r->conv_kind != MF_NN_CK_DECONV && rops[pin] && rops[pin]->op == MF_NN_OP_PAD && fs->consumers[pin] == 1 &&
        !fs->is_output[pin]) {
        mf_nn_rop *pr = rops[pin];
        if (pr->out_shape.ndim == 4 && !pr->pad[0][0] && !pr->pad[0][1] && !pr->pad[3][0] && !pr->pad[3][1] &&
            pr->in_shape[0].dim[1] >= 1 && pr->in_shape[0].dim[2] >= 1) { /* padding an empty tensor stays a Pad */
            r->cs.pad_t += pr->pad[1][0];
            r->cs.pad_l += pr->pad[2][0];
            r->cs.ih = pr->in_shape[0].dim[1];
            r->cs.iw = pr->in_shape[0].dim[2];
            r->in_node[0] = pr->in_node[0];
            r->in_shape[0] = pr->in_shape[0];
            fs->fused_into[pin] = c;
        }
    }
    int cur = c, oc = r->cs.oc;
    int own_w = 0, own_b = 0;
    size_t wn = (size_t)r->cs.kh * r->cs.kw * (r->conv_kind == MF_NN_CK_DW ? (size_t)oc : (size_t)r->cs.ic * oc);
    for (;;) {
        if (fs->consumers[cur] != 1 || fs->is_output[cur]) break;
        /* Fusion only rewires convolutions' inputs (Pad, residual), and a convolution never joins an epilogue,
         * so the consumer counted before fusion is still the one that matters. */
        int u = fs->sole[cur];
        if (!rops[u] || fs->fused_into[u] >= 0) break;
        mf_nn_rop *ur = rops[u];
        int op = ur->op, other = -1;
        if (ur->n_in == 2) other = ur->in_node[0] == cur ? ur->in_node[1] : ur->in_node[0];
        const void *oc_data = other >= 0 ? p->cdata[other] : NULL;
        const mf_nn_shape *osh = other >= 0 ? &p->shape[other] : NULL;
        int no_epi = r->cs.act == MF_NN_ACT_NONE && !r->residual;
        if ((op == MF_NN_OP_ADD || op == MF_NN_OP_ADDV2 || op == MF_NN_OP_BIAS_ADD) && no_epi && oc_data &&
            per_channel(osh, oc)) {
            float *nb = own(p, (size_t)oc * 4);
            if (!nb) return own_error(p);
            for (int i = 0; i < oc; i++) nb[i] = (r->bias ? r->bias[i] : 0) + ((const float *)oc_data)[i];
            r->bias = nb;
            own_b = 1;
        } else if (op == MF_NN_OP_MUL && no_epi && oc_data && r->conv_kind != MF_NN_CK_DECONV &&
                   (per_channel(osh, oc) || numel(osh) == 1)) {
            const float *sc = oc_data;
            int inc = numel(osh) == 1 ? 0 : 1;
            float *nw = own_w ? (float *)r->w : own(p, wn * 4);
            if (!nw) return own_error(p);
            for (size_t i = 0; i < wn; i += (size_t)oc) /* weights end in the output-channel axis */
                for (int ch = 0; ch < oc; ch++) nw[i + (size_t)ch] = r->w[i + (size_t)ch] * sc[inc * ch];
            r->w = nw;
            own_w = 1;
            if (r->bias) {
                float *nb = own_b ? (float *)r->bias : own(p, (size_t)oc * 4);
                if (!nb) return own_error(p);
                for (int i = 0; i < oc; i++) nb[i] = r->bias[i] * sc[inc * i];
                r->bias = nb;
                own_b = 1;
            }
        } else if ((op == MF_NN_OP_ADD || op == MF_NN_OP_ADDV2) && no_epi && other >= 0 && !oc_data &&
                   other != cur && !memcmp(&p->shape[other], &r->out_shape, sizeof r->out_shape)) {
            r->residual = 1;
            r->in_node[1] = other;
            r->in_shape[1] = p->shape[other];
            r->n_in = 2;
        } else if ((op == MF_NN_OP_MUL || op == MF_NN_OP_ADD || op == MF_NN_OP_ADDV2) && !no_epi && oc_data &&
                   r->conv_kind == MF_NN_CK_CONV && (per_channel(osh, oc) || numel(osh) == 1)) {
            /* per-channel affine after the activation (BatchNorm after ReLU): the post epilogue */
            const float *v = oc_data;
            int inc = numel(osh) == 1 ? 0 : 1;
            float *np = (float *)r->post;
            if (!r->cs.post) {
                np = own(p, 2 * (size_t)oc * 4);
                if (!np) return own_error(p);
                for (int i = 0; i < oc; i++) {
                    np[i] = 1.0f;
                    np[oc + i] = 0.0f;
                }
                r->post = np;
                r->cs.post = 1;
            }
            for (int i = 0; i < oc; i++) {
                if (op == MF_NN_OP_MUL) {
                    np[i] *= v[inc * i];
                    np[oc + i] *= v[inc * i];
                } else
                    np[oc + i] += v[inc * i];
            }
        } else if (op == MF_NN_OP_RELU && r->cs.act == MF_NN_ACT_NONE && !r->cs.post) {
            r->cs.act = MF_NN_ACT_RELU;
        } else if (op == MF_NN_OP_RELU6 && r->cs.act == MF_NN_ACT_NONE && !r->cs.post) {
            r->cs.act = MF_NN_ACT_RELU6;
        } else if (op == MF_NN_OP_MAXIMUM && r->cs.act == MF_NN_ACT_NONE && !r->cs.post &&
                   is_scalar_value(osh, oc_data, 0.0f)) {
            r->cs.act = MF_NN_ACT_RELU;
        } else if (op == MF_NN_OP_MINIMUM && r->cs.act == MF_NN_ACT_RELU && !r->cs.post &&
                   is_scalar_value(osh, oc_data, 6.0f)) {
            r->cs.act = MF_NN_ACT_RELU6;
        } else if (op == MF_NN_OP_PRELU && r->cs.act == MF_NN_ACT_NONE && !r->cs.post && ur->n_in == 1 && ur->alpha) {
            r->cs.act = MF_NN_ACT_PRELU;
            r->alpha = ur->alpha;
        } else if (op == MF_NN_OP_PRELU && r->cs.act == MF_NN_ACT_NONE && !r->cs.post && ur->in_node[0] == cur &&
                   oc_data && per_channel(osh, oc)) {
            r->cs.act = MF_NN_ACT_PRELU;
            r->alpha = oc_data;
        } else
            break;
        fs->fused_into[u] = c;
        cur = u;
    }
    fs->emit_at[c] = cur;
    fs->emit_owner[cur] = c;
    return MF_OK;
}

static int is_conv_op(int op) {
    return op == MF_NN_OP_CONV2D || op == MF_NN_OP_FUSED_CONV2D || op == MF_NN_OP_DWCONV2D ||
           op == MF_NN_OP_FUSED_DWCONV2D || op == MF_NN_OP_DECONV2D || op == MF_NN_OP_MATMUL ||
           op == MF_NN_OP_FUSED_MATMUL;
}

static size_t conv_packed_size(const mf_nn_rop *r, int isa) {
    if (r->conv_kind == MF_NN_CK_DW) return mf_nn_dwconv2d_packed_size(&r->cs, isa);
    if (r->conv_kind == MF_NN_CK_DECONV) return mf_nn_deconv2d_packed_size(&r->cs, isa);
    return mf_nn_conv2d_packed_size(&r->cs, isa);
}

static size_t conv_scratch_size(const mf_nn_rop *r, int isa, int nth) {
    if (r->conv_kind == MF_NN_CK_DW) return mf_nn_dwconv2d_scratch_size(&r->cs, isa, nth);
    if (r->conv_kind == MF_NN_CK_DECONV) return mf_nn_deconv2d_scratch_size(&r->cs, isa, nth);
    return mf_nn_conv2d_scratch_size(&r->cs, isa, nth);
}

static void conv_pack(const mf_nn_rop *r, int isa, float *packed) {
    if (r->conv_kind == MF_NN_CK_DW) mf_nn_dwconv2d_pack(&r->cs, isa, r->w, r->bias, r->alpha, packed);
    else if (r->conv_kind == MF_NN_CK_DECONV) mf_nn_deconv2d_pack(&r->cs, isa, r->w, r->bias, r->alpha, packed);
    else mf_nn_conv2d_pack(&r->cs, isa, r->w, r->bias, r->alpha, r->post, packed);
}

typedef struct {
    int root;
    size_t bytes;
    int def, last;
} interval;

static int cmp_size_desc(const void *a, const void *b) {
    const interval *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    return x->def - y->def;
}

/* Greedy placement: largest first, lowest offset that does not overlap a live, already placed tensor. */
static int place(interval *iv, int n, size_t *offset, size_t *total) {
    qsort(iv, (size_t)n, sizeof *iv, cmp_size_desc);
    size_t *off = malloc(((size_t)n + 1) * sizeof(size_t));
    if (!off) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    size_t end = 0;
    for (int i = 0; i < n; i++) {
        size_t o = 0;
        for (int again = 1; again;) {
            again = 0;
            for (int j = 0; j < i; j++) {
                if (iv[j].last < iv[i].def || iv[i].last < iv[j].def) continue;
                if (o < off[j] + iv[j].bytes && off[j] < o + iv[i].bytes) {
                    o = off[j] + iv[j].bytes;
                    again = 1;
                }
            }
        }
        off[i] = o;
        offset[iv[i].root] = o;
        if (o + iv[i].bytes > end) end = o + iv[i].bytes;
    }
    free(off);
    *total = end;
    return MF_OK;
}

static int build(mf_nn_plan_t *p, const mf_nn_plan_opts *opts) {
    const mf_nn_model_t *m = p->m;
    int n = m->n_nodes, st, *order = NULL, n_order = 0;
    mf_nn_rop **rops = calloc((size_t)n + 1, sizeof *rops);
    fuse_state fs = {0};
    interval *iv = NULL;
    int *def = NULL, *last = NULL;
    if (!rops) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    if ((st = topo_order(m, &order, &n_order))) goto out;

    /* 1. shapes and constant folding */
    for (int k = 0; k < n_order; k++) {
        int id = order[k];
        const mf_nn_node *nd = &m->nodes[id];
        if (nd->op == MF_NN_OP_PLACEHOLDER) {
            p->shape[id] = nd->shape;
            for (int i = 0; i < nd->shape.ndim; i++)
                if (p->shape[id].dim[i] < 0) p->shape[id].dim[i] = 1;
            p->dtype[id] = MF_NN_F32;
            continue;
        }
        if (nd->op == MF_NN_OP_CONST) {
            p->shape[id] = nd->shape;
            p->dtype[id] = nd->dtype;
            p->cdata[id] = nd->data;
            continue;
        }
        mf_nn_rop r;
        if ((st = mf_nn_rop_resolve(m, id, p->shape, p->dtype, p->cdata, &r))) goto out;
        p->shape[id] = r.out_shape;
        p->dtype[id] = r.dtype;
        int foldable = 1;
        for (int j = 0; j < nd->n_in; j++)
            if (!p->cdata[nd->in[j]]) foldable = 0;
        if (nd->op == MF_NN_OP_SHAPE) foldable = 1;
        if (foldable) {
            void *buf = own(p, numel(&r.out_shape) * 4);
            const void *ins[MF_NN_MAX_INPUTS];
            if (!buf) {
                st = own_error(p);
                goto out;
            }
            for (int j = 0; j < r.n_in; j++) ins[j] = p->cdata[r.in_node[j]];
            mf_nn_rop_eval(&r, ins, buf, 0, 1);
            p->cdata[id] = buf;
            continue;
        }
        if (r.dtype != MF_NN_F32) {
            st = mf_error_set(MF_ERR_UNSUPPORTED, "node %s (%s): int32 tensors are only supported as constants",
                              nd->name, mf_nn_op_name(nd->op));
            goto out;
        }
        if (!(rops[id] = malloc(sizeof r))) {
            st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            goto out;
        }
        *rops[id] = r;
    }

    /* 2. pattern rewrites, dead-node removal, then fusion */
    if (!opts->no_fuse && ((st = rewrite_prelu(p, rops, order, n_order)) || (st = drop_dead(m, rops, order, n_order))))
        goto out;
    fs.consumers = calloc((size_t)n + 1, sizeof(int));
    fs.sole = calloc((size_t)n + 1, sizeof(int));
    fs.is_output = calloc((size_t)n + 1, 1);
    fs.fused_into = malloc(((size_t)n + 1) * sizeof(int));
    fs.emit_at = malloc(((size_t)n + 1) * sizeof(int));
    fs.emit_owner = malloc(((size_t)n + 1) * sizeof(int));
    if (!fs.consumers || !fs.sole || !fs.is_output || !fs.fused_into || !fs.emit_at || !fs.emit_owner) {
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) fs.fused_into[i] = fs.emit_at[i] = fs.emit_owner[i] = -1;
    for (int i = 0; i < m->n_outputs; i++) fs.is_output[m->outputs[i]] = 1;
    for (int k = 0; k < n_order; k++) {
        int id = order[k];
        if (!rops[id]) continue;
        for (int j = 0; j < rops[id]->n_in; j++) {
            fs.consumers[rops[id]->in_node[j]]++;
            fs.sole[rops[id]->in_node[j]] = id;
        }
    }
    for (int k = 0; k < n_order; k++) {
        int id = order[k];
        if (!rops[id] || !is_conv_op(rops[id]->op)) continue;
        if (opts->no_fuse) {
            fs.emit_at[id] = id;
            fs.emit_owner[id] = id;
        } else if ((st = fuse_conv(p, rops, &fs, id)))
            goto out;
    }

    /* 3. steps in order; aliases share their root's storage */
    p->steps = calloc((size_t)n_order + 1, sizeof(step));
    if (!p->steps) {
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) p->root[i] = i;
    for (int k = 0; k < n_order; k++) {
        int id = order[k], src = id;
        if (!rops[id]) continue;
        if (fs.fused_into[id] >= 0) {
            if (fs.emit_owner[id] < 0) continue; /* absorbed, nothing to run here */
        } else if (is_conv_op(rops[id]->op) && fs.emit_at[id] != id) {
            continue; /* runs later, where its last absorbed consumer was */
        }
        if (fs.emit_owner[id] >= 0) src = fs.emit_owner[id];
        mf_nn_rop *r = rops[src];
        if (mf_nn_op_is_alias(r->op)) {
            int in = r->in_node[0];
            p->root[id] = p->cdata[in] ? id : p->root[in];
            if (!p->cdata[in]) continue;
        }
        step *s = &p->steps[p->n_steps++];
        s->r = *r;
        s->node = id;
        s->kind = is_conv_op(r->op) ? STEP_CONV : STEP_GENERIC;
        p->flops += mf_nn_rop_flops(r);
    }

    /* 4. lifetimes and placement */
    def = malloc(((size_t)n + 1) * sizeof(int));
    last = malloc(((size_t)n + 1) * sizeof(int));
    iv = malloc(((size_t)n + 1) * sizeof(interval));
    if (!def || !last || !iv) {
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) def[i] = last[i] = -2;
    /* inputs stay intact for the whole run: callers may fill them once and run several times */
    for (int i = 0; i < m->n_inputs; i++) def[m->inputs[i]] = -1;
    for (int k = 0; k < p->n_steps; k++) {
        step *s = &p->steps[k];
        for (int j = 0; j < s->r.n_in; j++) {
            int rt = p->root[s->r.in_node[j]];
            if (!p->cdata[rt] && last[rt] < k) last[rt] = k;
        }
        int rt = p->root[s->node];
        def[rt] = k;
        if (last[rt] < k) last[rt] = k;
    }
    for (int i = 0; i < m->n_outputs; i++) {
        int rt = p->root[m->outputs[i]];
        if (!p->cdata[rt]) last[rt] = p->n_steps;
    }
    for (int i = 0; i < m->n_inputs; i++) last[m->inputs[i]] = p->n_steps;
    int niv = 0;
    for (int i = 0; i < n; i++) {
        if (def[i] == -2 || p->root[i] != i || p->cdata[i]) continue;
        size_t bytes = (numel(&p->shape[i]) * 4 + ALIGN - 1) / ALIGN * ALIGN;
        iv[niv++] = (interval){i, bytes ? bytes : ALIGN, def[i], last[i]};
    }
    if ((st = place(iv, niv, p->offset, &p->arena_bytes))) goto out;
    if (p->arena_bytes > p->max_bytes - p->used_bytes) {
        st = mf_error_set(MF_ERR_LIMIT, "plan needs a %zu-byte arena, over the limit of %zu bytes", p->arena_bytes,
                          p->max_bytes);
        goto out;
    }
    p->used_bytes += p->arena_bytes;
    p->arena = aligned_alloc(ALIGN, p->arena_bytes ? p->arena_bytes : ALIGN);
    if (!p->arena) {
        st = mf_error_set(MF_ERR_NOMEM, "cannot allocate a %zu-byte arena", p->arena_bytes);
        goto out;
    }
    memset(p->arena, 0, p->arena_bytes ? p->arena_bytes : ALIGN);

    p->next = own(p, (size_t)(p->n_steps + 1) * sizeof(atomic_int));
    p->done = own(p, (size_t)(p->n_steps + 1) * sizeof(atomic_int));
    if (!p->next || !p->done) {
        st = own_error(p);
        goto out;
    }

    /* 5. pointers, packing, scratch */
    size_t scratch = 0;
    for (int k = 0; k < p->n_steps; k++) {
        step *s = &p->steps[k];
        for (int j = 0; j < s->r.n_in; j++) {
            int src = s->r.in_node[j], rt = p->root[src];
            s->in[j] = p->cdata[src] ? p->cdata[src] : p->arena + p->offset[rt];
        }
        s->out = p->arena + p->offset[p->root[s->node]];
        if (s->kind == STEP_CONV) {
            if (s->r.residual) s->residual = s->in[1];
            size_t ps = conv_packed_size(&s->r, p->isa);
            if (!(s->packed = own(p, ps * 4))) {
                st = own_error(p);
                goto out;
            }
            conv_pack(&s->r, p->isa, s->packed);
            p->packed_bytes += ps * 4;
            size_t sc = conv_scratch_size(&s->r, p->isa, p->chunks);
            if (sc > scratch) scratch = sc;
        }
    }
    if (scratch && !(p->scratch = own(p, scratch * 4))) {
        st = own_error(p);
        goto out;
    }
    for (int i = 0; i < m->n_outputs; i++) {
        int o = m->outputs[i];
        if (p->dtype[o] != MF_NN_F32) {
            st = mf_error_set(MF_ERR_UNSUPPORTED, "output %s is int32", m->output_names[i]);
            goto out;
        }
    }
out:
    if (rops)
        for (int i = 0; i < n; i++) free(rops[i]);
    free(rops);
    free(order);
    free(fs.consumers);
    free(fs.sole);
    free(fs.is_output);
    free(fs.fused_into);
    free(fs.emit_at);
    free(fs.emit_owner);
    free(def);
    free(last);
    free(iv);
    return st;
}

int mf_nn_plan_create(const mf_nn_model_t *model, const mf_nn_plan_opts *opts, mf_nn_plan_t **out) {
    *out = NULL;
    mf_nn_plan_opts def = {.isa = -1};
    if (!opts) opts = &def;
    mf_nn_plan_t *p = calloc(1, sizeof *p);
    if (!p) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    p->m = model;
    p->pool = opts->pool;
    p->nth = mf_nn_pool_threads(opts->pool);
    p->chunks = p->nth > 1 ? p->nth * CHUNKS_PER_THREAD : 1;
    p->isa = opts->isa >= 0 ? opts->isa : (int)mf_nn_isa_best();
    p->max_bytes = opts->max_bytes ? opts->max_bytes : MF_NN_DEFAULT_MAX_PLAN_BYTES;
    size_t n = (size_t)model->n_nodes + 1;
    p->shape = calloc(n, sizeof *p->shape);
    p->dtype = calloc(n, sizeof *p->dtype);
    p->cdata = calloc(n, sizeof *p->cdata);
    p->root = calloc(n, sizeof *p->root);
    p->offset = calloc(n, sizeof *p->offset);
    int st = (!p->shape || !p->dtype || !p->cdata || !p->root || !p->offset) ? mf_error_set(MF_ERR_NOMEM, "out of memory")
                                                                              : build(p, opts);
    if (st) {
        mf_nn_plan_free(p);
        return st;
    }
    *out = p;
    return MF_OK;
}

void mf_nn_plan_free(mf_nn_plan_t *p) {
    if (!p) return;
    for (int i = 0; i < p->n_owned; i++) free(p->owned[i]);
    free(p->owned);
    free(p->steps);
    free(p->arena);
    free(p->shape);
    free(p->dtype);
    free(p->cdata);
    free(p->root);
    free(p->offset);
    free(p);
}

static void exec_step(const mf_nn_plan_t *p, const step *s, int ith, int nth) {
    if (s->kind == STEP_CONV) {
        const mf_nn_rop *r = &s->r;
        if (r->conv_kind == MF_NN_CK_DW)
            mf_nn_dwconv2d_run(&r->cs, p->isa, s->packed, s->in[0], s->residual, s->out, p->scratch, ith, nth);
        else if (r->conv_kind == MF_NN_CK_DECONV)
            mf_nn_deconv2d_run(&r->cs, p->isa, s->packed, s->in[0], s->residual, s->out, p->scratch, ith, nth);
        else
            mf_nn_conv2d_run(&r->cs, p->isa, s->packed, s->in[0], s->residual, s->out, p->scratch, ith, nth);
    } else {
        mf_nn_rop_eval(&s->r, s->in, s->out, ith, nth);
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
    mf_nn_plan_t *p;
    double *step_ms; /* NULL unless profiling */
} run_ctx;

/* Each step is cut into p->chunks work units (the kernels' (ith, nth) partition with nth = chunks) that threads
 * take from a per-step counter; a thread moves to the next step once every unit of this one is finished. A
 * thread the OS preempts therefore delays the others by at most the unit it holds, instead of a static half of
 * every step plus a barrier (measured: on a loaded 2-core machine, static halves made 2 threads slower than 1). */
/* Denormal floats (tiny weights, decaying activations) make x86 arithmetic up to 100x slower: one model spent
 * 46 ms instead of 0.1 ms in a single 1x1 conv. Runs flush them to zero (FTZ + DAZ), restoring the caller's
 * mode afterwards; the effect on results is below 1e-37. */
static unsigned fp_fast_enter(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
    return old;
#else
    return 0;
#endif
}

static void fp_fast_leave(unsigned old) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(old);
#else
    (void)old;
#endif
}

static void run_thread(void *ctx, int ith, int nth) {
    run_ctx *rc = ctx;
    mf_nn_plan_t *p = rc->p;
    (void)nth;
    unsigned fp = fp_fast_enter();
    int C = p->chunks;
    double t = ith == 0 && rc->step_ms ? now_ms() : 0;
    for (int k = 0; k < p->n_steps; k++) {
        int c;
        while ((c = atomic_fetch_add_explicit(&p->next[k], 1, memory_order_relaxed)) < C) {
            exec_step(p, &p->steps[k], c, C);
            atomic_fetch_add_explicit(&p->done[k], 1, memory_order_release);
        }
        long spins = 0;
        while (atomic_load_explicit(&p->done[k], memory_order_acquire) < C)
            if (++spins > 1000) sched_yield();
        if (ith == 0 && rc->step_ms) {
            double t1 = now_ms();
            rc->step_ms[k] += t1 - t;
            t = t1;
        }
    }
    fp_fast_leave(fp);
}

static void reset_counters(mf_nn_plan_t *p) {
    for (int k = 0; k < p->n_steps; k++) {
        atomic_store_explicit(&p->next[k], 0, memory_order_relaxed);
        atomic_store_explicit(&p->done[k], 0, memory_order_relaxed);
    }
}

int mf_nn_plan_run(mf_nn_plan_t *p) {
    run_ctx rc = {p, NULL};
    reset_counters(p); /* the pool's start publishes these stores to the workers */
    mf_nn_pool_run(p->pool, run_thread, &rc);
    return MF_OK;
}

int mf_nn_plan_run_timed(mf_nn_plan_t *p, double *step_ms) {
    run_ctx rc = {p, step_ms};
    reset_counters(p);
    mf_nn_pool_run(p->pool, run_thread, &rc);
    return MF_OK;
}

void mf_nn_plan_step_describe(const mf_nn_plan_t *p, int i, char *buf, size_t len) {
    MF_ASSERT(i >= 0 && i < p->n_steps);
    const step *s = &p->steps[i];
    const mf_nn_rop *r = &s->r;
    static const char *acts[] = {"", " relu", " relu6", " prelu"};
    if (s->kind == STEP_CONV) {
        const mf_nn_conv_shape *c = &r->cs;
        snprintf(buf, len, "%s %dx%d/%d %dx%dx%d->%dx%dx%d%s%s%s%s", mf_nn_op_name(r->op), c->kh, c->kw, c->sh,
                 c->ih, c->iw, c->ic, c->oh, c->ow, c->oc, c->act >= 0 && c->act < 4 ? acts[c->act] : "",
                 r->bias ? " +bias" : "", r->residual ? " +residual" : "", c->post ? " *scale+shift" : "");
    } else {
        char dims[96] = "";
        size_t o = 0;
        for (int d = 0; d < r->out_shape.ndim && o + 12 < sizeof dims; d++)
            o += (size_t)snprintf(dims + o, sizeof dims - o, "%s%d", d ? "x" : "", r->out_shape.dim[d]);
        snprintf(buf, len, "%s -> %s (%s)", mf_nn_op_name(r->op), dims, p->m->nodes[s->node].name);
    }
}

float *mf_nn_plan_input(mf_nn_plan_t *p, int i, mf_nn_shape *shape) {
    MF_ASSERT(i >= 0 && i < p->m->n_inputs);
    int id = p->m->inputs[i];
    if (shape) *shape = p->shape[id];
    return (float *)(p->arena + p->offset[p->root[id]]);
}

const float *mf_nn_plan_output(const mf_nn_plan_t *p, int i, mf_nn_shape *shape) {
    MF_ASSERT(i >= 0 && i < p->m->n_outputs);
    int id = p->m->outputs[i];
    if (shape) *shape = p->shape[id];
    if (p->cdata[id]) return p->cdata[id];
    int rt = p->root[id];
    if (p->cdata[rt]) return p->cdata[rt];
    return (const float *)(p->arena + p->offset[rt]);
}

static int name_matches(const char *node, const char *name) {
    size_t ln = strlen(node);
    return strcmp(node, name) == 0 || (strncmp(node, name, ln) == 0 && strcmp(name + ln, ":0") == 0);
}

int mf_nn_plan_output_index(const mf_nn_plan_t *p, const char *name) {
    for (int i = 0; i < p->m->n_outputs; i++)
        if (strcmp(p->m->output_names[i], name) == 0 || name_matches(p->m->nodes[p->m->outputs[i]].name, name))
            return i;
    return -1;
}

int mf_nn_plan_input_index(const mf_nn_plan_t *p, const char *name) {
    for (int i = 0; i < p->m->n_inputs; i++)
        if (name_matches(p->m->nodes[p->m->inputs[i]].name, name)) return i;
    return -1;
}

void mf_nn_plan_get_stats(const mf_nn_plan_t *p, mf_nn_plan_stats *s) {
    s->steps = p->n_steps;
    s->arena_bytes = p->arena_bytes;
    s->packed_bytes = p->packed_bytes;
    s->flops = p->flops;
}
