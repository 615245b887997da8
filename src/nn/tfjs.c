/* TensorFlow.js graph-model loader: model.json (topology + weightsManifest) and its weight shards. */
#include "nn/graph.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- name -> node index hash (open addressing) so loading stays linear on hostile inputs ---- */
typedef struct {
    int *slot;
    size_t cap;
    const mf_nn_model_t *m;
} name_map;

static uint64_t hash_str(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int map_init(name_map *mp, const mf_nn_model_t *m, int n) {
    mp->cap = 16;
    while (mp->cap < (size_t)n * 2) mp->cap *= 2;
    mp->slot = malloc(mp->cap * sizeof(int));
    if (!mp->slot) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    memset(mp->slot, 0xff, mp->cap * sizeof(int));
    mp->m = m;
    return MF_OK;
}

/* Finds `s[0..n)`; with insert >= 0 inserts that index when absent. Returns the index or -1. */
static int map_get(name_map *mp, const char *s, size_t n, int insert) {
    size_t i = hash_str(s, n) & (mp->cap - 1);
    while (mp->slot[i] >= 0) {
        const char *nm = mp->m->nodes[mp->slot[i]].name;
        if (strncmp(nm, s, n) == 0 && nm[n] == '\0') return mp->slot[i];
        i = (i + 1) & (mp->cap - 1);
    }
    if (insert >= 0) mp->slot[i] = insert;
    return -1;
}

/* ---- attribute helpers ---- */
static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decodes base64 `in` into out (NUL-terminated, at most cap-1 bytes). Returns 0 or -1 on bad input. */
static int b64_decode(const char *in, char *out, size_t cap) {
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        int v = b64val((unsigned char)*p);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap) return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return 0;
}

static const cJSON *attr(const cJSON *attrs, const char *key) { return cJSON_GetObjectItemCaseSensitive(attrs, key); }

/* Integer from a JSON number or numeric string (TF.js writes int64 as strings). */
static int json_int(const cJSON *v, int *out) {
    double d;
    if (cJSON_IsNumber(v)) d = v->valuedouble;
    else if (cJSON_IsString(v)) {
        char *end;
        d = strtod(v->valuestring, &end);
        if (end == v->valuestring || *end) return -1;
    } else
        return -1;
    if (d != floor(d) || d < INT_MIN || d > INT_MAX) return -1;
    *out = (int)d;
    return 0;
}

static int attr_int(const cJSON *attrs, const char *key, int *out, const char *node) {
    const cJSON *a = attr(attrs, key);
    if (!a) return MF_OK;
    if (json_int(cJSON_GetObjectItemCaseSensitive(a, "i"), out))
        return mf_error_set(MF_ERR_FORMAT, "node %s: attribute %s is not an integer", node, key);
    return MF_OK;
}

static int attr_bool(const cJSON *attrs, const char *key, int *out) {
    const cJSON *a = attr(attrs, key);
    if (!a) return MF_OK;
    *out = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "b"));
    return MF_OK;
}

/* Integer list attribute; *n receives the count (must be <= cap). */
static int attr_ints(const cJSON *attrs, const char *key, int *out, int cap, int *n, const char *node) {
    const cJSON *a = attr(attrs, key);
    if (!a) return MF_OK;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "list"), "i");
    if (!l) { /* empty list is written as {"list": {}} */
        if (n) *n = 0;
        return MF_OK;
    }
    if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > cap)
        return mf_error_set(MF_ERR_FORMAT, "node %s: attribute %s is not a list of at most %d integers", node, key,
                            cap);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, l) {
        if (json_int(v, &out[i++])) return mf_error_set(MF_ERR_FORMAT, "node %s: bad integer in %s", node, key);
    }
    if (n) *n = i;
    return MF_OK;
}

static int attr_str(const cJSON *attrs, const char *key, char *out, size_t cap, const char *node) {
    const cJSON *a = attr(attrs, key);
    out[0] = '\0';
    if (!a) return MF_OK;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "s");
    if (!cJSON_IsString(s) || b64_decode(s->valuestring, out, cap))
        return mf_error_set(MF_ERR_FORMAT, "node %s: attribute %s is not a base64 string", node, key);
    return MF_OK;
}

static int parse_attrs(const cJSON *attrs, mf_nn_node *n) {
    mf_nn_attrs *a = &n->a;
    const char *nm = n->name;
    int st, cnt = 0;
    char buf[64];
    if ((st = attr_str(attrs, "data_format", buf, sizeof buf, nm))) return st;
    if (buf[0] && strcmp(buf, "NHWC") != 0)
        return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: data_format %s (only NHWC)", nm, buf);
    if ((st = attr_ints(attrs, "strides", a->strides, 4, &cnt, nm))) return st;
    if (cnt && cnt != 4) return mf_error_set(MF_ERR_FORMAT, "node %s: strides must have 4 entries", nm);
    cnt = 0;
    if ((st = attr_ints(attrs, "ksize", a->ksize, 4, &cnt, nm))) return st;
    if (cnt && cnt != 4) return mf_error_set(MF_ERR_FORMAT, "node %s: ksize must have 4 entries", nm);
    cnt = 0;
    if ((st = attr_ints(attrs, "dilations", a->dilations, 4, &cnt, nm))) return st;
    if (cnt && cnt != 4) return mf_error_set(MF_ERR_FORMAT, "node %s: dilations must have 4 entries", nm);
    for (int i = 0; i < 4; i++)
        if (a->strides[i] < 1 || a->ksize[i] < 1 || a->dilations[i] < 1 || a->strides[i] > 1024 ||
            a->ksize[i] > 4096 || a->dilations[i] > 1024)
            return mf_error_set(MF_ERR_FORMAT, "node %s: strides, ksize or dilations out of range", nm);
    if ((st = attr_str(attrs, "padding", buf, sizeof buf, nm))) return st;
    if (strcmp(buf, "SAME") == 0) a->padding = MF_NN_PAD_SAME;
    else if (strcmp(buf, "VALID") == 0 || buf[0] == '\0') a->padding = MF_NN_PAD_VALID;
    else if (strcmp(buf, "EXPLICIT") == 0) a->padding = MF_NN_PAD_EXPLICIT;
    else return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: padding '%s'", nm, buf);
    cnt = 0;
    if ((st = attr_ints(attrs, "explicit_paddings", a->explicit_pad, 8, &cnt, nm))) return st;
    if (a->padding == MF_NN_PAD_EXPLICIT && cnt != 8)
        return mf_error_set(MF_ERR_FORMAT, "node %s: EXPLICIT padding needs 8 explicit_paddings", nm);
    for (int i = 0; i < 8; i++)
        if (a->explicit_pad[i] < 0 || a->explicit_pad[i] > 4096)
            return mf_error_set(MF_ERR_FORMAT, "node %s: explicit padding out of range", nm);
    /* fused_ops: list of base64 strings */
    const cJSON *fo = attr(attrs, "fused_ops");
    if (fo) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(fo, "list"), "s");
        const cJSON *v;
        cJSON_ArrayForEach(v, l) {
            if (a->n_fused >= MF_NN_MAX_FUSED)
                return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: more than %d fused ops", nm, MF_NN_MAX_FUSED);
            if (!cJSON_IsString(v) || b64_decode(v->valuestring, buf, sizeof buf))
                return mf_error_set(MF_ERR_FORMAT, "node %s: bad fused_ops entry", nm);
            int op = mf_nn_op_lookup(buf);
            if (op != MF_NN_OP_BIAS_ADD && op != MF_NN_OP_RELU && op != MF_NN_OP_RELU6 && op != MF_NN_OP_PRELU)
                return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: unsupported fused op '%s'", nm, buf);
            a->fused[a->n_fused++] = op;
        }
    }
    const cJSON *eps = attr(attrs, "epsilon");
    if (eps && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(eps, "f")))
        a->epsilon = (float)cJSON_GetObjectItemCaseSensitive(eps, "f")->valuedouble;
    attr_bool(attrs, "transpose_a", &a->transpose_a);
    attr_bool(attrs, "transpose_b", &a->transpose_b);
    attr_bool(attrs, "keep_dims", &a->keep_dims);
    attr_bool(attrs, "align_corners", &a->align_corners);
    attr_bool(attrs, "half_pixel_centers", &a->half_pixel_centers);
    if ((st = attr_int(attrs, "begin_mask", &a->begin_mask, nm)) || (st = attr_int(attrs, "end_mask", &a->end_mask, nm)) ||
        (st = attr_int(attrs, "ellipsis_mask", &a->ellipsis_mask, nm)) ||
        (st = attr_int(attrs, "new_axis_mask", &a->new_axis_mask, nm)) ||
        (st = attr_int(attrs, "shrink_axis_mask", &a->shrink_axis_mask, nm)) ||
        (st = attr_int(attrs, "axis", &a->axis, nm)) || (st = attr_int(attrs, "block_size", &a->block_size, nm)))
        return st;
    if ((st = attr_ints(attrs, "squeeze_dims", a->squeeze_dims, MF_NN_MAX_DIMS, &a->n_squeeze, nm))) return st;
    return MF_OK;
}

static int parse_placeholder_shape(const cJSON *attrs, mf_nn_node *n) {
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(attr(attrs, "shape"), "shape");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(sh, "dim");
    n->shape.ndim = 0;
    if (!dl) return mf_error_set(MF_ERR_UNSUPPORTED, "input %s has no static shape", n->name);
    const cJSON *d;
    cJSON_ArrayForEach(d, dl) {
        int v;
        if (n->shape.ndim >= MF_NN_MAX_DIMS) return mf_error_set(MF_ERR_UNSUPPORTED, "input %s: rank too high", n->name);
        if (json_int(cJSON_GetObjectItemCaseSensitive(d, "size"), &v) || v < -1 || v > MF_NN_MAX_DIM_SIZE)
            return mf_error_set(MF_ERR_FORMAT, "input %s: bad dimension", n->name);
        if (v == 0) return mf_error_set(MF_ERR_FORMAT, "input %s: empty (a dimension is 0)", n->name);
        n->shape.dim[n->shape.ndim++] = v;
    }
    n->dtype = MF_NN_F32;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(attr(attrs, "dtype"), "type");
    if (cJSON_IsString(dt) && strcmp(dt->valuestring, "DT_FLOAT") != 0)
        return mf_error_set(MF_ERR_UNSUPPORTED, "input %s: dtype %s (only DT_FLOAT)", n->name, dt->valuestring);
    return MF_OK;
}

/* Splits "name:idx" / "^name" input references. Returns the node index or a status. */
static int resolve_input(name_map *mp, const char *ref, const char *node) {
    size_t len = strlen(ref);
    const char *colon = strrchr(ref, ':');
    size_t base = len;
    if (colon) {
        char *end;
        long idx = strtol(colon + 1, &end, 10);
        if (*end == '\0' && end != colon + 1) {
            if (idx != 0)
                return mf_error_set(MF_ERR_UNSUPPORTED, "node %s: reads output %ld of %.*s (only single-output ops)",
                                    node, idx, (int)(colon - ref), ref);
            base = (size_t)(colon - ref);
        }
    }
    int id = map_get(mp, ref, base, -1);
    if (id < 0) return mf_error_set(MF_ERR_FORMAT, "node %s: input '%s' does not exist", node, ref);
    return id;
}

static int load_graph(const cJSON *root, const uint8_t *wbytes, size_t wlen, mf_nn_model_t *m) {
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(root, "modelTopology");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(topo, "node");
    if (!cJSON_IsArray(nodes)) return mf_error_set(MF_ERR_FORMAT, "model.json has no modelTopology.node array");
    const cJSON *manifest = cJSON_GetObjectItemCaseSensitive(root, "weightsManifest");
    int nw = 0, st;
    mf_nn_weight *w = NULL;
    if (manifest && (st = mf_nn_weights_decode(manifest, wbytes, wlen, &w, &nw))) return st;
    for (int i = 0; i < nw; i++) m->weight_bytes += mf_nn_shape_numel(&w[i].shape) * 4;

    int count = cJSON_GetArraySize(nodes);
    name_map mp = {0};
    if ((st = map_init(&mp, m, count + nw))) goto out;
    /* pass 1: create every node so inputs can refer forward */
    const cJSON *jn;
    cJSON_ArrayForEach(jn, nodes) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(jn, "name");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(jn, "op");
        if (!cJSON_IsString(name) || !cJSON_IsString(op) || !name->valuestring[0]) {
            st = mf_error_set(MF_ERR_FORMAT, "node %d has no name or op", m->n_nodes);
            goto out;
        }
        int code = mf_nn_op_lookup(op->valuestring);
        if (code < 0) {
            st = mf_error_set(MF_ERR_UNSUPPORTED, "unsupported op '%s' (node %s)", op->valuestring,
                              name->valuestring);
            goto out;
        }
        if (map_get(&mp, name->valuestring, strlen(name->valuestring), m->n_nodes) >= 0) {
            st = mf_error_set(MF_ERR_FORMAT, "duplicate node name %s", name->valuestring);
            goto out;
        }
        int id = mf_nn_graph_add(m, name->valuestring, code, NULL, 0);
        if (id < 0) {
            st = id;
            goto out;
        }
        mf_nn_node *n = &m->nodes[id];
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(jn, "attr");
        if ((st = parse_attrs(attrs, n))) goto out;
        if (code == MF_NN_OP_PLACEHOLDER) {
            if ((st = parse_placeholder_shape(attrs, n))) goto out;
            int *ni = realloc(m->inputs, (size_t)(m->n_inputs + 1) * sizeof(int));
            if (!ni) {
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
                goto out;
            }
            m->inputs = ni;
            m->inputs[m->n_inputs++] = id;
        }
    }
    /* attach weights to Const nodes */
    for (int i = 0; i < nw; i++) {
        int id = map_get(&mp, w[i].name, strlen(w[i].name), -1);
        if (id < 0) continue; /* weights for pruned nodes are harmless */
        mf_nn_node *n = &m->nodes[id];
        if (n->op != MF_NN_OP_CONST) {
            st = mf_error_set(MF_ERR_FORMAT, "weight %s names a %s node, not a Const", w[i].name, mf_nn_op_name(n->op));
            goto out;
        }
        free(n->data);
        n->data = w[i].data;
        w[i].data = NULL;
        n->dtype = w[i].dtype;
        n->shape = w[i].shape;
    }
    /* pass 2: inputs */
    int idx = 0;
    cJSON_ArrayForEach(jn, nodes) {
        mf_nn_node *n = &m->nodes[idx++];
        if (n->op == MF_NN_OP_CONST && !n->data) {
            st = mf_error_set(MF_ERR_FORMAT, "Const %s has no weight data", n->name);
            goto out;
        }
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(jn, "input");
        int k = ins ? cJSON_GetArraySize(ins) : 0;
        if (k > 0) {
            n->in = malloc((size_t)k * sizeof(int));
            if (!n->in) {
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
                goto out;
            }
            const cJSON *r;
            cJSON_ArrayForEach(r, ins) {
                if (!cJSON_IsString(r)) {
                    st = mf_error_set(MF_ERR_FORMAT, "node %s: input is not a string", n->name);
                    goto out;
                }
                if (r->valuestring[0] == '^') continue; /* control dependency: no data */
                int id = resolve_input(&mp, r->valuestring, n->name);
                if (id < 0) {
                    st = id;
                    goto out;
                }
                n->in[n->n_in++] = id;
            }
        }
    }
    /* outputs: the signature's declared outputs, in order; else every node nobody reads */
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "signature"), "outputs");
    if (!sig) sig = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(topo, "signature"), "outputs");
    if (cJSON_IsObject(sig) && cJSON_GetArraySize(sig) > 0) {
        const cJSON *o;
        cJSON_ArrayForEach(o, sig) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
            if (!cJSON_IsString(nm)) {
                st = mf_error_set(MF_ERR_FORMAT, "signature output without a name");
                goto out;
            }
            int id = resolve_input(&mp, nm->valuestring, "signature");
            if (id < 0) {
                st = id;
                goto out;
            }
            if ((st = mf_nn_graph_add_output(m, id, nm->valuestring))) goto out;
        }
    } else {
        char *used = calloc((size_t)m->n_nodes + 1, 1);
        if (!used) {
            st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (int i = 0; i < m->n_nodes; i++)
            for (int j = 0; j < m->nodes[i].n_in; j++) used[m->nodes[i].in[j]] = 1;
        for (int i = 0; i < m->n_nodes && !st; i++) {
            int op = m->nodes[i].op;
            if (used[i] || op == MF_NN_OP_CONST || op == MF_NN_OP_NOOP || op == MF_NN_OP_PLACEHOLDER) continue;
            char nm[300];
            snprintf(nm, sizeof nm, "%s:0", m->nodes[i].name);
            st = mf_nn_graph_add_output(m, i, nm);
        }
        free(used);
        if (st) goto out;
    }
    if (m->n_inputs == 0) st = mf_error_set(MF_ERR_FORMAT, "model has no input (Placeholder)");
    else if (m->n_outputs == 0) st = mf_error_set(MF_ERR_FORMAT, "model has no output");
out:
    free(mp.slot);
    mf_nn_weights_free(w, nw);
    return st;
}

int mf_nn_model_load_tfjs_mem(const char *json, size_t json_len, const uint8_t *weights, size_t weights_len,
                              mf_nn_model_t **out) {
    *out = NULL;
    if (json_len > MF_NN_MAX_JSON_BYTES)
        return mf_error_set(MF_ERR_LIMIT, "model.json larger than %d bytes", MF_NN_MAX_JSON_BYTES);
    cJSON *root = cJSON_ParseWithLength(json, json_len);
    if (!root) return mf_error_set(MF_ERR_FORMAT, "model.json is not valid JSON");
    mf_nn_model_t *m;
    int st = mf_nn_graph_init(&m);
    if (!st) st = load_graph(root, weights, weights_len, m);
    cJSON_Delete(root);
    if (st) {
        mf_nn_model_free(m);
        return st;
    }
    *out = m;
    return MF_OK;
}

int mf_nn_model_load_tfjs(const char *path, mf_nn_model_t **out) {
    *out = NULL;
    uint8_t *json;
    size_t jlen;
    int st = mf_file_read(path, MF_NN_MAX_JSON_BYTES, &json, &jlen);
    if (st) return st;
    cJSON *root = cJSON_ParseWithLength((const char *)json, jlen);
    if (!root) {
        free(json);
        return mf_error_set(MF_ERR_FORMAT, "%s is not valid JSON", path);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else strcpy(dir, ".");
    uint8_t *wb = NULL;
    size_t wlen = 0;
    const cJSON *manifest = cJSON_GetObjectItemCaseSensitive(root, "weightsManifest");
    if (manifest) st = mf_nn_weights_read_shards(manifest, dir, &wb, &wlen);
    cJSON_Delete(root);
    if (!st) st = mf_nn_model_load_tfjs_mem((const char *)json, jlen, wb, wlen, out);
    free(json);
    free(wb);
    if (st) return mf_error_prefix(st, "%s", path);
    return MF_OK;
}
