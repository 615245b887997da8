/* Flatbuffer reader (see tflite_fb.h). Layout: a table starts with an int32 soffset to its vtable (vtable =
 * table - soffset); the vtable holds uint16 vtable size, uint16 table size, then one uint16 offset per field
 * (0 = absent, else from the table start). Tables, vectors and strings are referenced by a uint32 offset relative
 * to where it is stored; a vector is a uint32 count followed by its elements; a string a vector of bytes. */
#include "nn/tflite_fb.h"

#include <stdarg.h>
#include <stdio.h>

static int fb_err(const char *what, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fb_err(const char *what, size_t off, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mf_error_set(MF_ERR_FORMAT, "tflite %s: %s (offset %zu)", what, msg, off);
}

int mf_fb_table_at(const mf_cur *buf, size_t pos, const char *what, mf_fb_table *t) {
    uint32_t so;
    uint16_t vsize, tsize;
    if (mf_cur_u32_at(buf, pos, &so)) return fb_err(what, pos, "table outside the file");
    int32_t s = (int32_t)so;
    /* vt = pos - s, inside the file */
    if ((s > 0 && (size_t)s > pos) || (s < 0 && (size_t)(-(int64_t)s) > buf->len - pos))
        return fb_err(what, pos, "vtable offset %d points outside the file", s);
    size_t vt = s >= 0 ? pos - (size_t)s : pos + (size_t)(-(int64_t)s);
    if (mf_cur_u16_at(buf, vt, &vsize) || mf_cur_u16_at(buf, vt + 2, &tsize))
        return fb_err(what, vt, "truncated vtable");
    if (vsize < 4 || (vsize & 1) || !mf_cur_has(buf, vt, vsize)) return fb_err(what, vt, "bad vtable size %u", vsize);
    if (tsize < 4 || !mf_cur_has(buf, pos, tsize)) return fb_err(what, pos, "table size %u runs past the file", tsize);
    t->buf = buf;
    t->pos = pos;
    t->vt = vt;
    t->n_fields = (unsigned)(vsize - 4) / 2;
    t->size = tsize;
    t->what = what;
    return MF_OK;
}

int mf_fb_root(const mf_cur *buf, const char *ident, const char *what, mf_fb_table *t) {
    uint32_t root;
    const uint8_t *id;
    if (mf_cur_u32_at(buf, 0, &root) || mf_cur_bytes_at(buf, 4, 4, &id))
        return fb_err(what, 0, "file of %zu bytes is too short", buf->len);
    if (ident && memcmp(id, ident, 4)) return fb_err(what, 4, "file identifier is not \"%s\"", ident);
    return mf_fb_table_at(buf, root, what, t);
}

/* Absolute offset of field k holding `size` bytes, or 0 when absent (a field never sits at offset 0). */
static int field(const mf_fb_table *t, unsigned k, size_t size, size_t *at) {
    *at = 0;
    if (k >= t->n_fields) return MF_OK;
    uint16_t fo = mf_le16(t->buf->base + t->vt + 4 + 2 * (size_t)k); /* in bounds: checked with the vtable */
    if (!fo) return MF_OK;
    if ((size_t)fo < 4 || (size_t)fo + size > t->size)
        return fb_err(t->what, t->vt, "field %u at %u runs past its table of %zu bytes", k, fo, t->size);
    *at = t->pos + fo;
    return MF_OK;
}

int mf_fb_has(const mf_fb_table *t, unsigned k) {
    return k < t->n_fields && mf_le16(t->buf->base + t->vt + 4 + 2 * (size_t)k) != 0;
}

static uint8_t u8_at(const uint8_t *p) { return *p; }

/* The scalar field readers of tflite_fb.h, one body: field k read by `read` from its sizeof(type) bytes, checked to
 * lie inside the table; `def` when absent or on error (the status is returned). */
#define FB_SCALAR_READER(name, type, read)                                                                             \
    int name(const mf_fb_table *t, unsigned k, type def, type *v) {                                                    \
        size_t at;                                                                                                     \
        int st = field(t, k, sizeof(type), &at);                                                                       \
        *v = st || !at ? def : read(t->buf->base + at);                                                                \
        return st;                                                                                                     \
    }
FB_SCALAR_READER(mf_fb_u8, uint8_t, u8_at)
FB_SCALAR_READER(mf_fb_u32, uint32_t, mf_le32)
FB_SCALAR_READER(mf_fb_f32, float, mf_lef32)
FB_SCALAR_READER(mf_fb_u64, uint64_t, mf_le64)
#undef FB_SCALAR_READER

int mf_fb_i32(const mf_fb_table *t, unsigned k, int32_t def, int32_t *v) {
    uint32_t u;
    int st = mf_fb_u32(t, k, (uint32_t)def, &u);
    *v = (int32_t)u;
    return st;
}

/* Follows the uoffset stored at `at`: the target offset, checked to be inside the file. */
static int follow(const mf_fb_table *t, size_t at, size_t *target) {
    uint32_t u = mf_le32(t->buf->base + at); /* at: a checked 4-byte field */
    if ((size_t)u > t->buf->len - at) return fb_err(t->what, at, "reference %u points past the file", u);
    *target = at + u;
    return MF_OK;
}

int mf_fb_table_field(const mf_fb_table *t, unsigned k, const char *what, mf_fb_table *out, int *present) {
    size_t at, target;
    int st = field(t, k, 4, &at);
    *present = 0;
    if (st || !at) return st;
    if ((st = follow(t, at, &target))) return st;
    if ((st = mf_fb_table_at(t->buf, target, what, out))) return st;
    *present = 1;
    return MF_OK;
}

int mf_fb_vector(const mf_fb_table *t, unsigned k, size_t elem_size, uint32_t max_n, mf_fb_vec *v) {
    size_t at, target;
    uint32_t n;
    v->pos = 0;
    v->n = 0;
    int st = field(t, k, 4, &at);
    if (st || !at) return st;
    if ((st = follow(t, at, &target))) return st;
    if (mf_cur_u32_at(t->buf, target, &n)) return fb_err(t->what, target, "truncated vector length (field %u)", k);
    if (n > max_n)
        return mf_error_set(MF_ERR_LIMIT, "tflite %s: field %u has %u elements (limit %u) (offset %zu)", t->what, k, n,
                            max_n, target);
    size_t bytes;
    if (mf_size_mul(n, elem_size, &bytes) || !mf_cur_has(t->buf, target + 4, bytes))
        return fb_err(t->what, target, "vector of %u elements (field %u) runs past the file", n, k);
    v->pos = target + 4;
    v->n = n;
    return MF_OK;
}

int mf_fb_vec_table(const mf_fb_table *t, const mf_fb_vec *v, uint32_t i, const char *what, mf_fb_table *out) {
    size_t at = v->pos + 4 * (size_t)i, target;
    if (i >= v->n) return fb_err(t->what, v->pos, "element %u of a vector of %u", i, v->n);
    int st = follow(t, at, &target);
    return st ? st : mf_fb_table_at(t->buf, target, what, out);
}

int mf_fb_string(const mf_fb_table *t, unsigned k, size_t max_len, const char **s, size_t *n) {
    mf_fb_vec v;
    *s = "";
    *n = 0;
    int st = mf_fb_vector(t, k, 1, UINT32_MAX, &v);
    if (st) return st;
    if (v.n > max_len)
        return mf_error_set(MF_ERR_LIMIT, "tflite %s: string of %u bytes in field %u (limit %zu)", t->what, v.n, k,
                            max_len);
    if (v.n) *s = (const char *)t->buf->base + v.pos;
    *n = v.n;
    return MF_OK;
}
