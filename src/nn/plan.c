/* Planner: builds a plan (shapes and constant folding, the passes of plan_passes.c, arena placement of
 * plan_memory.c, weight packing) and frees it. The executor is in plan_exec.c. */
#include "nn/plan_internal.h"
#include "nn/gemm_amx.h"

/* The error for a failed mf_nn_plan_own(): the cap or real memory exhaustion. */
int mf_nn_plan_own_error(const mf_nn_plan_t *p) {
    return p->over_limit ? mf_error_set(MF_ERR_LIMIT, "planning needs more than the limit of %zu bytes", p->max_bytes)
                         : mf_error_set(MF_ERR_NOMEM, "out of memory");
}

void *mf_nn_plan_own(mf_nn_plan_t *p, size_t bytes) {
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

static int build(mf_nn_plan_t *p, const mf_nn_plan_opts *opts) {
    const mf_nn_model_t *m = p->m;
    int n = m->n_nodes, st, *order = NULL, n_order = 0;
    mf_nn_rop **rops = calloc((size_t)n + 1, sizeof *rops);
    fuse_state fs = {0};
    interval *iv = NULL;
    int *def = NULL, *last = NULL;
    if (!rops) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    if ((st = mf_nn_plan_topo_order(m, &order, &n_order))) goto out;

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
            void *buf = mf_nn_plan_own(p, numel(&r.out_shape) * 4);
            const void *ins[MF_NN_MAX_INPUTS];
            if (!buf) {
                st = mf_nn_plan_own_error(p);
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
    if (!opts->no_fuse && ((st = mf_nn_plan_rewrite_prelu(p, rops, order, n_order)) || (st = mf_nn_plan_drop_dead(m, rops, order, n_order))))
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
        if (!rops[id] || !mf_nn_plan_is_conv_op(rops[id]->op)) continue;
        if (opts->no_fuse) {
            fs.emit_at[id] = id;
            fs.emit_owner[id] = id;
        } else if ((st = mf_nn_plan_fuse_conv(p, rops, &fs, id)))
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
        } else if (mf_nn_plan_is_conv_op(rops[id]->op) && fs.emit_at[id] != id) {
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
        s->kind = mf_nn_plan_is_conv_op(r->op) ? STEP_CONV : STEP_GENERIC;
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
    if ((st = mf_nn_plan_place(iv, niv, p->offset, &p->arena_bytes))) goto out;
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

    p->next = mf_nn_plan_own(p, (size_t)(p->n_steps + 1) * sizeof(atomic_int));
    p->done = mf_nn_plan_own(p, (size_t)(p->n_steps + 1) * sizeof(atomic_int));
    if (!p->next || !p->done) {
        st = mf_nn_plan_own_error(p);
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
            if (!(s->packed = mf_nn_plan_own(p, ps * 4))) {
                st = mf_nn_plan_own_error(p);
                goto out;
            }
            conv_pack(&s->r, p->isa, s->packed);
            p->packed_bytes += ps * 4;
            size_t sc = conv_scratch_size(&s->r, p->isa, p->chunks);
            if (sc > scratch) scratch = sc;
        }
    }
    if (scratch && !(p->scratch = mf_nn_plan_own(p, scratch * 4))) {
        st = mf_nn_plan_own_error(p);
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
    if (opts->isa == MF_NN_PLAN_ISA_FAST && p->isa == MF_NN_ISA_AVX2 && mf_nn_gemm_amx_usable()) p->isa = MF_NN_ISA_AMX;
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
