/* ONNX converter: reading the current node's attributes (typed, with defaults, each marked used). */
#include "nn/onnx_convert.h"

/* ---------------------------------------------------------------- attributes */

int mf_onnx_find_attr(ctx *c, const char *name, int type) {
    for (int i = 0; i < c->n_attrs; i++) {
        if (!span_eq(c->attrs[i].name, name)) continue;
        c->used[i] = 1;
        if (c->attrs[i].type != type)
            return mf_error_set(MF_ERR_FORMAT, "attribute '%s' has type %d, expected %d", name, c->attrs[i].type, type);
        return i;
    }
    return ABSENT;
}

int mf_onnx_attr_int(ctx *c, const char *name, int64_t def, int64_t *out) {
    int i = mf_onnx_find_attr(c, name, MF_ONNX_ATTR_INT);
    if (i == ABSENT) {
        *out = def;
        return MF_OK;
    }
    if (i < 0) return i;
    *out = c->attrs[i].i;
    return MF_OK;
}

int mf_onnx_attr_float(ctx *c, const char *name, float def, float *out) {
    int i = mf_onnx_find_attr(c, name, MF_ONNX_ATTR_FLOAT);
    if (i == ABSENT) {
        *out = def;
        return MF_OK;
    }
    if (i < 0) return i;
    *out = c->attrs[i].f;
    return MF_OK;
}

/* Integer list; *n = -1 when absent. */
int mf_onnx_attr_ints(ctx *c, const char *name, int64_t *out, int cap, int *n) {
    int i = mf_onnx_find_attr(c, name, MF_ONNX_ATTR_INTS);
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

int mf_onnx_attr_str(ctx *c, const char *name, const char *def, char *out, size_t cap) {
    int i = mf_onnx_find_attr(c, name, MF_ONNX_ATTR_STRING);
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
void mf_onnx_attr_ignore(ctx *c, const char *name) {
    for (int i = 0; i < c->n_attrs; i++)
        if (span_eq(c->attrs[i].name, name)) c->used[i] = 1;
}

int mf_onnx_attr_present(const ctx *c, const char *name) {
    for (int i = 0; i < c->n_attrs; i++)
        if (span_eq(c->attrs[i].name, name)) return 1;
    return 0;
}

/* Integer attribute list of exactly `want` entries in [lo, hi] (default `def` when absent). */
int mf_onnx_attr_ints_n(ctx *c, const char *name, int want, int def, int lo, int hi, int *out) {
    int64_t v[MF_ONNX_MAX_ATTR_VALUES];
    int n, st = mf_onnx_attr_ints(c, name, v, MF_ONNX_MAX_ATTR_VALUES, &n);
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

int mf_onnx_norm_axis(int64_t axis, int rank, int *out) {
    if (axis < -rank || axis >= rank)
        return mf_error_set(MF_ERR_FORMAT, "axis %lld out of range for rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return MF_OK;
}
