#include "nn/graph.h"

#include <stdlib.h>
#include <string.h>

static const char *op_names[] = {
#define X(e, s) s,
    MF_NN_OPS(X)
#undef X
};

const char *mf_nn_op_name(int op) { return op >= 0 && op < MF_NN_OP_COUNT ? op_names[op] : "?"; }

int mf_nn_op_lookup(const char *tf_name) {
    for (int i = 0; i < MF_NN_OP_COUNT; i++)
        if (strcmp(op_names[i], tf_name) == 0) return i;
    return -1;
}

void mf_nn_attrs_default(mf_nn_attrs *a) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 4; i++) a->strides[i] = a->ksize[i] = a->dilations[i] = 1;
    a->padding = MF_NN_PAD_VALID;
}

int mf_nn_graph_init(mf_nn_model_t **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    return MF_OK;
}

int mf_nn_graph_add(mf_nn_model_t *m, const char *name, int op, const int *in, int n_in) {
    if (m->n_nodes >= MF_NN_MAX_NODES) return mf_error_set(MF_ERR_LIMIT, "too many nodes (limit %d)", MF_NN_MAX_NODES);
    if (n_in < 0 || n_in > MF_NN_MAX_NODE_INPUTS) return mf_error_set(MF_ERR_LIMIT, "node %s: too many inputs", name);
    if (m->n_nodes == m->cap_nodes) {
        int ncap = m->cap_nodes ? m->cap_nodes * 2 : 64;
        mf_nn_node *nn = realloc(m->nodes, (size_t)ncap * sizeof *nn);
        if (!nn) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        m->nodes = nn;
        m->cap_nodes = ncap;
    }
    mf_nn_node *n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof *n);
    mf_nn_attrs_default(&n->a);
    n->name = strdup(name);
    n->in = n_in ? malloc((size_t)n_in * sizeof(int)) : NULL;
    if (!n->name || (n_in && !n->in)) {
        free(n->name);
        free(n->in);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    if (n_in) memcpy(n->in, in, (size_t)n_in * sizeof(int));
    n->n_in = n_in;
    n->op = op;
    return m->n_nodes++;
}

int mf_nn_graph_add_const(mf_nn_model_t *m, const char *name, int dtype, const mf_nn_shape *shape, void *data) {
    int id = mf_nn_graph_add(m, name, MF_NN_OP_CONST, NULL, 0);
    if (id < 0) {
        free(data);
        return id;
    }
    m->nodes[id].dtype = dtype;
    m->nodes[id].shape = *shape;
    m->nodes[id].data = data;
    return id;
}

int mf_nn_graph_find(const mf_nn_model_t *m, const char *name) {
    for (int i = 0; i < m->n_nodes; i++)
        if (strcmp(m->nodes[i].name, name) == 0) return i;
    return -1;
}

int mf_nn_graph_add_output(mf_nn_model_t *m, int node, const char *declared_name) {
    int *no = realloc(m->outputs, (size_t)(m->n_outputs + 1) * sizeof *no);
    if (!no) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    m->outputs = no;
    char **nn = realloc(m->output_names, (size_t)(m->n_outputs + 1) * sizeof *nn);
    if (!nn) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    m->output_names = nn;
    nn[m->n_outputs] = strdup(declared_name);
    if (!nn[m->n_outputs]) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    no[m->n_outputs++] = node;
    return MF_OK;
}

void mf_nn_model_free(mf_nn_model_t *m) {
    if (!m) return;
    for (int i = 0; i < m->n_nodes; i++) {
        free(m->nodes[i].name);
        free(m->nodes[i].in);
        free(m->nodes[i].data);
    }
    for (int i = 0; i < m->n_outputs; i++) free(m->output_names[i]);
    free(m->output_names);
    free(m->nodes);
    free(m->inputs);
    free(m->outputs);
    free(m);
}

int mf_nn_model_input_count(const mf_nn_model_t *m) { return m->n_inputs; }
const char *mf_nn_model_input_name(const mf_nn_model_t *m, int i) {
    MF_ASSERT(i >= 0 && i < m->n_inputs);
    return m->nodes[m->inputs[i]].name;
}
mf_nn_shape mf_nn_model_input_shape(const mf_nn_model_t *m, int i) {
    MF_ASSERT(i >= 0 && i < m->n_inputs);
    return m->nodes[m->inputs[i]].shape;
}
int mf_nn_model_output_count(const mf_nn_model_t *m) { return m->n_outputs; }
const char *mf_nn_model_output_name(const mf_nn_model_t *m, int i) {
    MF_ASSERT(i >= 0 && i < m->n_outputs);
    return m->output_names[i];
}
int mf_nn_model_node_count(const mf_nn_model_t *m) { return m->n_nodes; }
size_t mf_nn_model_weight_bytes(const mf_nn_model_t *m) { return m->weight_bytes; }

size_t mf_nn_shape_numel(const mf_nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (size_t)(s->dim[i] < 0 ? 1 : s->dim[i]);
    return n;
}
