/* ONNX model loader: reads a ModelProto with the wire reader of onnx_pb.c and converts its graph to the engine's
 * NHWC graph IR (nn/graph.h) at load time. See docs/onnx.md for the supported ops and conventions.
 *
 * Layouts. Every ONNX value is held by one IR node and tagged with the order of its data: LAY_ONNX (the ONNX
 * order, e.g. NCHW) or LAY_NHWC (a 4-D tensor stored NHWC). 4-D model inputs and the outputs of convolutions and
 * pools are NHWC; initializers, reshapes and flattening are in ONNX order. An op that needs the other order asks
 * mf_onnx_node_in(), which inserts (once per value) a Transpose, or a free Reshape when the transposition does not move
 * any data (a dimension of 1). Graph outputs are always returned in ONNX order.
 *
 * Shapes. Each IR node is resolved with mf_nn_rop_resolve() as soon as it is added, so the loader knows every
 * shape (batch 1) and shape errors are reported at load, naming the ONNX node. A node whose inputs are all
 * constant is evaluated at once (mf_nn_rop_eval) and becomes a constant, so weight re-layouts (OIHW -> HWIO),
 * shape arithmetic (Shape/Gather/Concat/Unsqueeze) and Gemm's alpha are done once, at load. Unused nodes are
 * dropped at the end. */
#include "nn/onnx_convert.h"

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
    {"Exp", 1, 1, 1, K_UN, MF_NN_OP_EXP},
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
    case K_CONV: return mf_onnx_op_conv(c);
    case K_POOL: return mf_onnx_op_pool(c, e->arg);
    case K_GPOOL: return mf_onnx_op_global_pool(c, e->arg);
    case K_BIN: return mf_onnx_op_binary(c, e->arg);
    case K_UN: return mf_onnx_op_unary(c, e->arg);
    case K_ID: return mf_onnx_op_identity(c);
    case K_DROP: return mf_onnx_op_dropout(c);
    case K_LRELU: return mf_onnx_op_leaky_relu(c);
    case K_CLIP: return mf_onnx_op_clip(c);
    case K_BN: return mf_onnx_op_batchnorm(c);
    case K_SOFTMAX: return mf_onnx_op_softmax(c);
    case K_RESHAPE: return mf_onnx_op_reshape(c);
    case K_FLATTEN: return mf_onnx_op_flatten(c);
    case K_SQUEEZE: return mf_onnx_op_squeeze(c);
    case K_UNSQUEEZE: return mf_onnx_op_unsqueeze(c);
    case K_TRANSPOSE: return mf_onnx_op_transpose(c);
    case K_CONCAT: return mf_onnx_op_concat(c);
    case K_MATMUL: return mf_onnx_op_matmul(c);
    case K_GEMM: return mf_onnx_op_gemm(c);
    case K_PAD: return mf_onnx_op_pad(c);
    case K_REDUCE: return mf_onnx_op_reduce(c, e->arg, e->arg == MF_NN_OP_SUM ? 13 : 18);
    case K_CONST: return mf_onnx_op_constant(c);
    case K_SHAPE: return mf_onnx_op_shape(c);
    case K_GATHER: return mf_onnx_op_gather(c);
    case K_SLICE: return mf_onnx_op_slice(c);
    default: return mf_onnx_op_split(c);
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
        if ((st = mf_onnx_check_name(nd->out[k], "output"))) return st;
        for (int j = 0; j < k; j++)
            if (nd->out[k].n && nd->out[j].n == nd->out[k].n && !memcmp(nd->out[j].p, nd->out[k].p, nd->out[k].n))
                return mf_error_set(MF_ERR_FORMAT, "output '%.*s' listed twice", span_len(nd->out[k]),
                                    (const char *)nd->out[k].p);
    }
    if ((st = mf_onnx_node_attrs(nd, c->base, c->attrs, MF_ONNX_MAX_ATTRS, &c->n_attrs))) return st;
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
            (st = mf_onnx_new_value(c, nd->out[k], -1, LAY_ONNX, "this output of its node is not supported")) < 0)
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
    if ((st = mf_onnx_check_name(t.name, "initializer"))) return st;
    if ((st = mf_onnx_tensor_numel(&t, (size_t)MF_NN_MAX_WEIGHT_BYTES / 4, &numel))) return st;
    int kind = mf_onnx_dtype_kind(t.data_type);
    const char *why = kind < 0                  ? "initializer of an unsupported data type"
                      : t.ndim > MF_NN_MAX_DIMS ? "initializer of rank above 6"
                      : numel == 0              ? "empty initializer"
                      : t.external              ? "initializer with external data"
                                                : NULL;
    if (why) {
        int vi = mf_onnx_new_value(c, t.name, -1, LAY_ONNX, why);
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
    if (mf_onnx_map_find(c, t.name) >= 0) {
        free(data);
        return mf_error_set(MF_ERR_FORMAT, "initializer '%.*s' defined twice", span_len(t.name),
                            (const char *)t.name.p);
    }
    int id =
        mf_onnx_add_const(c, kind ? MF_NN_F32 : MF_NN_I32, &s, data, "%.*s", (int)t.name.n, (const char *)t.name.p);
    if (id < 0) return id;
    int vi = mf_onnx_new_value(c, t.name, id, LAY_ONNX, NULL);
    return vi < 0 ? vi : MF_OK;
}

static int add_input(ctx *c, mf_pb_span msg) {
    mf_onnx_value_info v;
    int st = mf_onnx_value_info_parse(msg, c->base, &v);
    if (st) return st;
    if (v.name.n == 0) return mf_error_set(MF_ERR_FORMAT, "graph input without a name");
    if ((st = mf_onnx_check_name(v.name, "input"))) return st;
    int nl = span_len(v.name);
    const char *nm = (const char *)v.name.p;
    int prev = mf_onnx_map_find(c, v.name);
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
        if (v.dims[i] > MF_NN_MAX_DIM_SIZE)
            return mf_error_set(MF_ERR_LIMIT, "input '%.*s': dimension %d too large", nl, nm, i);
        s.dim[i] = (int)v.dims[i];
    }
    int layout = LAY_ONNX;
    if (v.ndim == 4) {
        mf_nn_shape t = s;
        for (int i = 0; i < 4; i++)
            s.dim[i] = t.dim[TO_NHWC[i]];
        layout = LAY_NHWC;
    }
    char name[MF_ONNX_MAX_NAME + 1];
    snprintf(name, sizeof name, "%.*s", (int)v.name.n, nm);
    int id = mf_nn_graph_add(c->m, name, MF_NN_OP_PLACEHOLDER, NULL, 0);
    if (id < 0) return id;
    c->m->nodes[id].shape = s;
    c->m->nodes[id].dtype = MF_NN_F32;
    int *ni = realloc(c->m->inputs, (size_t)(c->m->n_inputs + 1) * sizeof *ni);
    if (!ni) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    c->m->inputs = ni;
    ni[c->m->n_inputs++] = id;
    if ((st = mf_onnx_finish(c, id)) < 0) return st;
    int vi = mf_onnx_new_value(c, v.name, id, layout, NULL);
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
        char label[MF_ONNX_MAX_NAME + 32];
        if (nd.name.n && !mf_onnx_check_name(nd.name, "node"))
            snprintf(label, sizeof label, "'%.*s'", (int)nd.name.n, (const char *)nd.name.p);
        else
            snprintf(label, sizeof label, "#%d", i);
        if ((st = convert_node(c, &nd)))
            return mf_error_prefix(st, "node %s (%.*s)", label, span_len(nd.op), (const char *)nd.op.p);
    }
    for (int i = 0; i < g->n_output; i++) {
        mf_onnx_value_info v;
        if ((st = mf_onnx_value_info_parse(g->output[i], c->base, &v))) return st;
        if ((st = mf_onnx_check_name(v.name, "output"))) return st;
        int vi = mf_onnx_map_find(c, v.name);
        if (vi < 0 || v.name.n == 0)
            return mf_error_set(MF_ERR_FORMAT, "graph output '%.*s' is not produced by any node", span_len(v.name),
                                (const char *)v.name.p);
        if (c->v[vi].node < 0)
            return mf_error_set(MF_ERR_UNSUPPORTED, "graph output '%.*s': %s", span_len(v.name), (const char *)v.name.p,
                                c->v[vi].why);
        snprintf(c->oname, sizeof c->oname, "%.*s", (int)v.name.n, (const char *)v.name.p);
        int id = mf_onnx_node_in(c, vi, LAY_ONNX);
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
