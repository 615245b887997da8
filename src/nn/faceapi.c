/* face-api's FaceRecognitionNet (@vladmandic/face-api 1.7.15, src/faceRecognitionNet/) as an engine model.
 *
 * The weights ship as a TF.js weightsManifest without a topology: the network is code in face-api. This file
 * rebuilds that code as graph IR nodes, op for op, so the planner folds and fuses it like any TF.js graph:
 *
 *   x = (input - meanRGB) / 255                        input [1,150,150,3], raw RGB 0..255
 *   convDown(conv32_down)    7x7/2 VALID + bias, *scale+shift, ReLU           -> [1,72,72,32]
 *   maxPool 3x3/2 VALID                                                       -> [1,35,35,32]
 *   residual conv32_1..3                                                      -> [1,35,35,32]
 *   residualDown conv64_down, residual conv64_1..3                            -> [1,17,17,64]
 *   residualDown conv128_down, residual conv128_1..2                          -> [1,8,8,128]
 *   residualDown conv256_down, residual conv256_1..2                          -> [1,4,4,256]
 *   residualDown conv256_down_out                                             -> [1,2,2,256]
 *   mean over H,W, matMul fc [256,128]                                        -> descriptor [1,128]
 *
 * convLayer:    conv2d(x, filters) + bias, then * scale/weights + scale/biases, ReLU unless "NoRelu".
 * residual:     relu(convNoRelu(conv(x, conv1), conv2) + x)               (3x3 SAME, stride 1)
 * residualDown: out = convNoRelu(convDown(x, conv1), conv2)                (conv1 3x3 stride 2 VALID)
 *               pooled = avgPool(x, 2, 2, VALID), zero-extended on channels to out's channels;
 *               when out is one pixel smaller than pooled (odd sizes), out gets a zero row at the bottom and a
 *               zero column at the right; result relu(pooled + out).
 * The zero extensions are Pad nodes (channel axis, resp. H/W after the end). */
#include "nn/graph.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IN_SIZE = 150, N_BLOCKS = 14, FC_IN = 256, FC_OUT = 128 };

/* face-api's normalize(): per-channel mean, then division by 255. */
static const float MEAN_RGB[3] = {122.782f, 117.001f, 104.298f};

typedef struct {
    const char *name;
    int cin, cout, down;
} block_spec;

static const block_spec BLOCKS[N_BLOCKS] = {
    {"conv32_1", 32, 32, 0},          {"conv32_2", 32, 32, 0},        {"conv32_3", 32, 32, 0},
    {"conv64_down", 32, 64, 1},       {"conv64_1", 64, 64, 0},        {"conv64_2", 64, 64, 0},
    {"conv64_3", 64, 64, 0},          {"conv128_down", 64, 128, 1},   {"conv128_1", 128, 128, 0},
    {"conv128_2", 128, 128, 0},       {"conv256_down", 128, 256, 1},  {"conv256_1", 256, 256, 0},
    {"conv256_2", 256, 256, 0},       {"conv256_down_out", 256, 256, 1},
};

typedef struct {
    mf_nn_model_t *m;
    mf_nn_weight *w;
    int nw;
} builder;

static mf_nn_shape shape_of(int ndim, const int *dims) {
    mf_nn_shape s;
    memset(&s, 0, sizeof s);
    s.ndim = ndim;
    for (int i = 0; i < ndim; i++) s.dim[i] = dims[i];
    return s;
}

static void shape_str(const mf_nn_shape *s, char *buf, size_t cap) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = 0; i < s->ndim && o < cap; i++) o += (size_t)snprintf(buf + o, cap - o, i ? ",%d" : "%d", s->dim[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* Takes the weight `name` of shape `dims` out of the decoded manifest and adds it as a Const node named after
 * it. A missing, duplicated, non-float or misshaped weight is refused with a message naming it. */
static int weight_const(builder *b, const char *name, int ndim, const int *dims) {
    mf_nn_shape want = shape_of(ndim, dims);
    int found = -1;
    for (int i = 0; i < b->nw; i++) {
        if (strcmp(b->w[i].name, name) != 0) continue;
        if (found >= 0) return mf_error_set(MF_ERR_FORMAT, "weight %s appears twice in the manifest", name);
        found = i;
    }
    if (found < 0) return mf_error_set(MF_ERR_FORMAT, "weight %s is missing from the manifest", name);
    mf_nn_weight *w = &b->w[found];
    if (!w->data) return mf_error_set(MF_ERR_FORMAT, "weight %s is used twice", name);
    if (w->dtype != MF_NN_F32) return mf_error_set(MF_ERR_FORMAT, "weight %s is int32, expected float32", name);
    int same = w->shape.ndim == want.ndim;
    for (int i = 0; same && i < want.ndim; i++) same = w->shape.dim[i] == want.dim[i];
    if (!same) {
        char got[96], exp[96];
        shape_str(&w->shape, got, sizeof got);
        shape_str(&want, exp, sizeof exp);
        return mf_error_set(MF_ERR_FORMAT, "weight %s has shape %s, expected %s", name, got, exp);
    }
    void *data = w->data;
    w->data = NULL;
    b->m->weight_bytes += mf_nn_shape_numel(&want) * 4;
    return mf_nn_graph_add_const(b->m, name, MF_NN_F32, &want, data);
}

/* A constant of 4-byte elements (float or int32, by dtype) copied from v. */
static int const_copy(builder *b, const char *name, int dtype, int ndim, const int *dims, const void *v) {
    mf_nn_shape s = shape_of(ndim, dims);
    size_t n = mf_nn_shape_numel(&s) * 4;
    void *d = malloc(n);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    memcpy(d, v, n);
    return mf_nn_graph_add_const(b->m, name, dtype, &s, d);
}

static int const_f32(builder *b, const char *name, int ndim, const int *dims, const float *v) {
    return const_copy(b, name, MF_NN_F32, ndim, dims, v);
}

static int const_i32(builder *b, const char *name, int ndim, const int *dims, const int32_t *v) {
    return const_copy(b, name, MF_NN_I32, ndim, dims, v);
}

static int node2(builder *b, const char *name, int op, int x, int y) {
    int in[2] = {x, y};
    return mf_nn_graph_add(b->m, name, op, in, 2);
}

static int node1(builder *b, const char *name, int op, int x) { return mf_nn_graph_add(b->m, name, op, &x, 1); }

/* Every builder step below returns a node index (>= 0) or a negative status; TRY propagates the status. */
#define TRY(expr)                                                                                                  \
    do {                                                                                                           \
        if ((st = (expr)) < 0) return st;                                                                          \
    } while (0)

/* face-api convLayer: conv2d + bias, scale layer (x * weights + biases), optional ReLU. `size` is the spatial
 * size of x; *osize receives the output's. */
static int conv_layer(builder *b, int x, const char *prefix, int k, int cin, int cout, int stride, int same,
                      int relu, int size, int *osize) {
    char nm[256];
    int st, f, bias, sw, sb, y;
    int fdims[4] = {k, k, cin, cout}, cdims[1] = {cout};
    snprintf(nm, sizeof nm, "%s/conv/filters", prefix);
    TRY(f = weight_const(b, nm, 4, fdims));
    snprintf(nm, sizeof nm, "%s/conv/bias", prefix);
    TRY(bias = weight_const(b, nm, 1, cdims));
    snprintf(nm, sizeof nm, "%s/scale/weights", prefix);
    TRY(sw = weight_const(b, nm, 1, cdims));
    snprintf(nm, sizeof nm, "%s/scale/biases", prefix);
    TRY(sb = weight_const(b, nm, 1, cdims));

    snprintf(nm, sizeof nm, "%s/conv/Conv2D", prefix);
    TRY(y = node2(b, nm, MF_NN_OP_CONV2D, x, f));
    mf_nn_attrs *a = &b->m->nodes[y].a;
    a->strides[1] = a->strides[2] = stride;
    a->padding = same ? MF_NN_PAD_SAME : MF_NN_PAD_VALID;
    snprintf(nm, sizeof nm, "%s/conv/add_bias", prefix);
    TRY(y = node2(b, nm, MF_NN_OP_ADD, y, bias));
    snprintf(nm, sizeof nm, "%s/scale/mul", prefix);
    TRY(y = node2(b, nm, MF_NN_OP_MUL, y, sw));
    snprintf(nm, sizeof nm, "%s/scale/add", prefix);
    TRY(y = node2(b, nm, MF_NN_OP_ADD, y, sb));
    if (relu) {
        snprintf(nm, sizeof nm, "%s/relu", prefix);
        TRY(y = node1(b, nm, MF_NN_OP_RELU, y));
    }
    *osize = same ? (size + stride - 1) / stride : (size - k) / stride + 1;
    return y;
}

/* Pad node on a 4-D tensor: `p` holds the 8 NHWC before/after amounts. */
static int pad4(builder *b, const char *name, int x, const int32_t p[8]) {
    char nm[256];
    int st, pc, dims[2] = {4, 2};
    snprintf(nm, sizeof nm, "%s/paddings", name);
    TRY(pc = const_i32(b, nm, 2, dims, p));
    return node2(b, name, MF_NN_OP_PAD, x, pc);
}

/* face-api residual / residualDown on x of spatial size *size; updates *size. */
static int residual_block(builder *b, int x, const block_spec *bs, int *size) {
    char nm[256], pre[256];
    int st, y, s1, s2;
    snprintf(pre, sizeof pre, "%s/conv1", bs->name);
    TRY(y = conv_layer(b, x, pre, 3, bs->cin, bs->cout, bs->down ? 2 : 1, !bs->down, 1, *size, &s1));
    snprintf(pre, sizeof pre, "%s/conv2", bs->name);
    TRY(y = conv_layer(b, y, pre, 3, bs->cout, bs->cout, 1, 1, 0, s1, &s2));
    int sc = x, ssc = *size;
    if (bs->down) {
        snprintf(nm, sizeof nm, "%s/avg_pool", bs->name);
        TRY(sc = node1(b, nm, MF_NN_OP_AVGPOOL, x));
        mf_nn_attrs *a = &b->m->nodes[sc].a;
        a->ksize[1] = a->ksize[2] = a->strides[1] = a->strides[2] = 2;
        a->padding = MF_NN_PAD_VALID;
        ssc = (*size - 2) / 2 + 1;
        if (bs->cout != bs->cin) { /* concat([pooled, zeros]) on channels */
            int32_t p[8] = {0, 0, 0, 0, 0, 0, 0, bs->cout - bs->cin};
            snprintf(nm, sizeof nm, "%s/pad_channels", bs->name);
            TRY(sc = pad4(b, nm, sc, p));
        }
        if (s2 != ssc) { /* concat([out, zeros], 1), then concat([out, zeros], 2): one zero row and column */
            if (s2 + 1 != ssc)
                return mf_error_set(MF_ERR_FORMAT, "%s: sizes %d and %d cannot be matched", bs->name, s2, ssc);
            int32_t p[8] = {0, 0, 0, 1, 0, 1, 0, 0};
            snprintf(nm, sizeof nm, "%s/pad_spatial", bs->name);
            TRY(y = pad4(b, nm, y, p));
            s2 = ssc;
        }
        snprintf(nm, sizeof nm, "%s/add", bs->name);
        TRY(y = node2(b, nm, MF_NN_OP_ADD, sc, y));
    } else {
        if (s2 != ssc || bs->cin != bs->cout)
            return mf_error_set(MF_ERR_FORMAT, "%s: residual shapes differ", bs->name);
        snprintf(nm, sizeof nm, "%s/add", bs->name);
        TRY(y = node2(b, nm, MF_NN_OP_ADD, y, sc));
    }
    snprintf(nm, sizeof nm, "%s/relu", bs->name);
    TRY(y = node1(b, nm, MF_NN_OP_RELU, y));
    *size = s2;
    return y;
}

static int build_graph(builder *b) {
    mf_nn_model_t *m = b->m;
    int st, x, y, size = IN_SIZE;
    TRY(x = mf_nn_graph_add(m, "input", MF_NN_OP_PLACEHOLDER, NULL, 0));
    int in_dims[4] = {1, IN_SIZE, IN_SIZE, 3};
    m->nodes[x].shape = shape_of(4, in_dims);
    m->nodes[x].dtype = MF_NN_F32;
    m->inputs = malloc(sizeof *m->inputs);
    if (!m->inputs) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    m->inputs[m->n_inputs++] = x;

    /* normalize(x, meanRgb).div(255) */
    int d3[1] = {3}, d1[1] = {1}, c;
    const float k255 = 255.0f;
    TRY(c = const_f32(b, "normalize/mean_rgb", 1, d3, MEAN_RGB));
    TRY(y = node2(b, "normalize/sub", MF_NN_OP_SUB, x, c));
    TRY(c = const_f32(b, "normalize/255", 1, d1, &k255));
    TRY(y = node2(b, "normalize/div", MF_NN_OP_REALDIV, y, c));

    TRY(y = conv_layer(b, y, "conv32_down", 7, 3, 32, 2, 0, 1, size, &size));
    TRY(y = node1(b, "max_pool", MF_NN_OP_MAXPOOL, y));
    mf_nn_attrs *a = &m->nodes[y].a;
    a->ksize[1] = a->ksize[2] = 3;
    a->strides[1] = a->strides[2] = 2;
    a->padding = MF_NN_PAD_VALID;
    size = (size - 3) / 2 + 1;

    for (int i = 0; i < N_BLOCKS; i++) TRY(y = residual_block(b, y, &BLOCKS[i], &size));

    /* out.mean([1, 2]), matMul(globalAvg, fc) */
    const int32_t axes[2] = {1, 2};
    int d2[1] = {2}, fdims[2] = {FC_IN, FC_OUT};
    TRY(c = const_i32(b, "global_avg/axes", 1, d2, axes));
    TRY(y = node2(b, "global_avg", MF_NN_OP_MEAN, y, c));
    m->nodes[y].a.keep_dims = 0;
    TRY(c = weight_const(b, "fc", 2, fdims));
    TRY(y = node2(b, "descriptor", MF_NN_OP_MATMUL, y, c));
    return mf_nn_graph_add_output(m, y, "descriptor");
}

int mf_nn_model_load_faceapi_recognition_mem(const char *manifest_json, size_t json_len, const uint8_t *weights,
                                             size_t weights_len, mf_nn_model_t **out) {
    *out = NULL;
    if (!manifest_json) return mf_error_set(MF_ERR_ARG, "no manifest");
    if (json_len > MF_NN_MAX_JSON_BYTES) return mf_error_set(MF_ERR_LIMIT, "manifest larger than %d bytes", MF_NN_MAX_JSON_BYTES);
    cJSON *root = cJSON_ParseWithLength(manifest_json, json_len);
    if (!root) return mf_error_set(MF_ERR_FORMAT, "weights manifest is not valid JSON");
    static const uint8_t none[1];
    builder b = {0};
    int st = mf_nn_weights_decode(root, weights ? weights : none, weights ? weights_len : 0, &b.w, &b.nw);
    cJSON_Delete(root);
    if (st) return st;
    if (!(st = mf_nn_graph_init(&b.m))) st = build_graph(&b);
    mf_nn_weights_free(b.w, b.nw); /* the weights not taken by the graph (extras are ignored, as face-api does) */
    if (st < 0) {
        mf_nn_model_free(b.m);
        return st;
    }
    *out = b.m;
    return MF_OK;
}

int mf_nn_model_load_faceapi_recognition(const char *manifest_json, mf_nn_model_t **out) {
    *out = NULL;
    uint8_t *json;
    size_t jlen;
    int st = mf_file_read(manifest_json, MF_NN_MAX_JSON_BYTES, &json, &jlen);
    if (st) return st;
    cJSON *root = cJSON_ParseWithLength((const char *)json, jlen);
    if (!root) {
        free(json);
        return mf_error_set(MF_ERR_FORMAT, "%s is not valid JSON", manifest_json);
    }
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", manifest_json) >= (int)sizeof dir) {
        cJSON_Delete(root);
        free(json);
        return mf_error_set(MF_ERR_LIMIT, "path too long");
    }
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else strcpy(dir, ".");
    uint8_t *wb = NULL;
    size_t wlen = 0;
    if (!cJSON_IsArray(root)) st = mf_error_set(MF_ERR_FORMAT, "not a weights manifest (a JSON array)");
    else st = mf_nn_weights_read_shards(root, dir, &wb, &wlen);
    cJSON_Delete(root);
    if (!st) st = mf_nn_model_load_faceapi_recognition_mem((const char *)json, jlen, wb, wlen, out);
    free(json);
    free(wb);
    if (st) return mf_error_prefix(st, "%s", manifest_json);
    return MF_OK;
}
