/* Flatbuffer reader for the TFLite loader (internal to src/nn): tables, scalars, vectors and strings of a
 * flatbuffer, read through the bounds-checked cursor of src/core/bytes.h.
 *
 * Hand-written rather than libflatbuffers-dev (Debian has it): that library is C++ and its generated readers trust
 * offsets unless a separate Verifier pass is run over the whole buffer; this reader checks each offset, vtable and
 * length at the moment it follows it, so a caller can only ever see bytes inside the file, and the loader stays C.
 * Zero-copy and non-recursive: the loader walks the fixed TFLite schema (Model -> SubGraph -> Tensor/Operator),
 * so a hostile file cannot make it loop or recurse. Every defect is MF_ERR_FORMAT with a message naming what was
 * being read and the byte offset. */
#ifndef MF_NN_TFLITE_FB_H
#define MF_NN_TFLITE_FB_H

#include "core/bytes.h"
#include "mfmc/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const mf_cur *buf; /* the whole file */
    size_t pos;        /* offset of the table */
    size_t vt;         /* offset of its vtable */
    unsigned n_fields; /* fields the vtable describes */
    size_t size;       /* inline size of the table (vtable's second entry) */
    const char *what;  /* table kind, for messages ("Operator") */
} mf_fb_table;

typedef struct {
    size_t pos; /* offset of element 0 */
    uint32_t n; /* element count */
} mf_fb_vec;

/* The root table (uoffset at byte 0); checks the 4-byte file identifier at bytes 4..8 when `ident` is not NULL. */
int mf_fb_root(const mf_cur *buf, const char *ident, const char *what, mf_fb_table *t);
/* The table at absolute offset `pos`. */
int mf_fb_table_at(const mf_cur *buf, size_t pos, const char *what, mf_fb_table *t);

/* 1 when field k is present. */
int mf_fb_has(const mf_fb_table *t, unsigned k);
/* Scalar field k (`def` when absent), checked to lie inside the table. */
int mf_fb_u8(const mf_fb_table *t, unsigned k, uint8_t def, uint8_t *v);
int mf_fb_i32(const mf_fb_table *t, unsigned k, int32_t def, int32_t *v);
int mf_fb_u32(const mf_fb_table *t, unsigned k, uint32_t def, uint32_t *v);
int mf_fb_f32(const mf_fb_table *t, unsigned k, float def, float *v);
int mf_fb_u64(const mf_fb_table *t, unsigned k, uint64_t def, uint64_t *v);

/* Sub-table of field k: 0 with *present = 1 and *out filled, or *present = 0 when absent. */
int mf_fb_table_field(const mf_fb_table *t, unsigned k, const char *what, mf_fb_table *out, int *present);
/* Vector of field k with elements of elem_size bytes (n = 0 when absent); the whole vector is checked to be in
 * the file, and n at most max_n (MF_ERR_LIMIT beyond). */
int mf_fb_vector(const mf_fb_table *t, unsigned k, size_t elem_size, uint32_t max_n, mf_fb_vec *v);
/* Element i of a vector of tables (i < v->n). */
int mf_fb_vec_table(const mf_fb_table *t, const mf_fb_vec *v, uint32_t i, const char *what, mf_fb_table *out);
/* String field k: a view (not NUL-terminated) of at most max_len bytes; "" when absent. */
int mf_fb_string(const mf_fb_table *t, unsigned k, size_t max_len, const char **s, size_t *n);

/* Element i of an in-bounds vector of 4-byte / 8-byte scalars. */
static inline int32_t mf_fb_vec_i32(const mf_fb_table *t, const mf_fb_vec *v, uint32_t i) {
    return (int32_t)mf_le32(t->buf->base + v->pos + 4 * (size_t)i);
}
static inline float mf_fb_vec_f32(const mf_fb_table *t, const mf_fb_vec *v, uint32_t i) {
    return mf_lef32(t->buf->base + v->pos + 4 * (size_t)i);
}
static inline int64_t mf_fb_vec_i64(const mf_fb_table *t, const mf_fb_vec *v, uint32_t i) {
    return (int64_t)mf_le64(t->buf->base + v->pos + 8 * (size_t)i);
}

#endif
