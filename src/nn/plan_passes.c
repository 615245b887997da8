/* Planner passes over the graph: topological order, the PReLU rewrite, dead-node removal, fusion into convs. */
#include "nn/plan_internal.h"

#include <math.h>

/* Needed nodes in topological order (iterative DFS from the outputs; cycles are refused). */
int mf_nn_plan_topo_order(const mf_nn_model_t *m, int **order, int *n_order) {
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
int mf_nn_plan_rewrite_prelu(mf_nn_plan_t *p, mf_nn_rop **rops, const int *order, int n_order) {
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
            float *alpha = mf_nn_plan_own(p, (size_t)ch * 4);
            if (!alpha) return mf_nn_plan_own_error(p);
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
int mf_nn_plan_drop_dead(const mf_nn_model_t *m, mf_nn_rop **rops, const int *order, int n_order) {
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

/* Absorbs single-consumer Pad producers and epilogue consumers into conv node c. */
int mf_nn_plan_fuse_conv(mf_nn_plan_t *p, mf_nn_rop **rops, fuse_state *fs, int c) {
    mf_nn_rop *r = rops[c];
    /* leading Pad on H/W only, zero-valued: becomes the convolution's mf_nn_plan_own padding */
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
            float *nb = mf_nn_plan_own(p, (size_t)oc * 4);
            if (!nb) return mf_nn_plan_own_error(p);
            for (int i = 0; i < oc; i++) nb[i] = (r->bias ? r->bias[i] : 0) + ((const float *)oc_data)[i];
            r->bias = nb;
            own_b = 1;
        } else if (op == MF_NN_OP_MUL && no_epi && oc_data && r->conv_kind != MF_NN_CK_DECONV &&
                   (per_channel(osh, oc) || numel(osh) == 1)) {
            const float *sc = oc_data;
            int inc = numel(osh) == 1 ? 0 : 1;
            float *nw = own_w ? (float *)r->w : mf_nn_plan_own(p, wn * 4);
            if (!nw) return mf_nn_plan_own_error(p);
            for (size_t i = 0; i < wn; i += (size_t)oc) /* weights end in the output-channel axis */
                for (int ch = 0; ch < oc; ch++) nw[i + (size_t)ch] = r->w[i + (size_t)ch] * sc[inc * ch];
            r->w = nw;
            own_w = 1;
            if (r->bias) {
                float *nb = own_b ? (float *)r->bias : mf_nn_plan_own(p, (size_t)oc * 4);
                if (!nb) return mf_nn_plan_own_error(p);
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
                np = mf_nn_plan_own(p, 2 * (size_t)oc * 4);
                if (!np) return mf_nn_plan_own_error(p);
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
        } else if (op == MF_NN_OP_MAXIMUM && (r->cs.act == MF_NN_ACT_RELU || r->cs.act == MF_NN_ACT_RELU6) &&
                   !r->cs.post && is_scalar_value(osh, oc_data, 0.0f) && !signbit(((const float *)oc_data)[0])) {
            /* (speed21) max(x, +0) after a ReLU / ReLU6 epilogue is x, bit for bit: every ISA's epilogue gives +0
             * (never -0 or NaN) for x <= 0, so nothing is left to do (a Keras clip_by_value, Minimum(relu, 6) then
             * Maximum(., 0): 27 steps of faceres and faceres-deep, 13-16 % of their time, memory passes) */
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

int mf_nn_plan_is_conv_op(int op) {
    return op == MF_NN_OP_CONV2D || op == MF_NN_OP_FUSED_CONV2D || op == MF_NN_OP_DWCONV2D ||
           op == MF_NN_OP_FUSED_DWCONV2D || op == MF_NN_OP_DECONV2D || op == MF_NN_OP_MATMUL ||
           op == MF_NN_OP_FUSED_MATMUL;
}
