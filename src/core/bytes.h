/* A bounds-checked little-endian byte cursor over a caller's buffer (internal to libmfmc). The one place where
 * the parsers of outside input (src/nn/onnx_pb.c's protobuf reader, src/nn/tflite_fb.c's flatbuffer reader,
 * src/anon/model.c's identity-model reader) turn bytes into numbers: every read checks that its bytes lie inside
 * the buffer before touching them, and reports a short buffer instead of reading past it. The cursor never
 * allocates, prints or sets the error message: callers know what they were reading and say so.
 *
 * Conventions: functions return 0 on success and -1 when the bytes are not there (the cursor then does not move);
 * mf_cur_varint also returns -2 for a varint longer than 10 bytes or above 2^64. */
#ifndef MF_CORE_BYTES_H
#define MF_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *base; /* start of the buffer (never NULL after mf_cur_init) */
    size_t len;          /* its size in bytes */
    size_t pos;          /* offset of the next read, 0 <= pos <= len */
} mf_cur;

/* Little-endian decoding of bytes already known to be in bounds. */
static inline uint16_t mf_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t mf_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t mf_le64(const uint8_t *p) { return (uint64_t)mf_le32(p) | (uint64_t)mf_le32(p + 4) << 32; }
static inline float mf_lef32(const uint8_t *p) {
    uint32_t u = mf_le32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A cursor at offset 0 of base[0..len) (base may be NULL when len is 0). */
void mf_cur_init(mf_cur *c, const uint8_t *base, size_t len);
/* A cursor over c's bytes [off, off+n) (its offsets restart at 0): -1 unless the range is inside c. */
int mf_cur_sub(const mf_cur *c, size_t off, size_t n, mf_cur *out);
/* Bytes left after the position. */
static inline size_t mf_cur_left(const mf_cur *c) { return c->len - c->pos; }
/* 1 when [off, off+n) lies inside the buffer (overflow-safe). */
static inline int mf_cur_has(const mf_cur *c, size_t off, size_t n) { return off <= c->len && n <= c->len - off; }

/* Moves to absolute offset `pos` (<= len) / forward by n bytes. */
int mf_cur_seek(mf_cur *c, size_t pos);
int mf_cur_skip(mf_cur *c, size_t n);

/* Sequential reads at the position, advancing past what was read. */
int mf_cur_u8(mf_cur *c, uint8_t *v);
int mf_cur_u16(mf_cur *c, uint16_t *v);
int mf_cur_u32(mf_cur *c, uint32_t *v);
int mf_cur_u64(mf_cur *c, uint64_t *v);
int mf_cur_f32(mf_cur *c, float *v);
/* A view of the next n bytes (*p points into the buffer). */
int mf_cur_bytes(mf_cur *c, size_t n, const uint8_t **p);
/* A protobuf base-128 varint. */
int mf_cur_varint(mf_cur *c, uint64_t *v);

/* Random access at absolute offset `off`, the position unchanged. */
int mf_cur_u8_at(const mf_cur *c, size_t off, uint8_t *v);
int mf_cur_u16_at(const mf_cur *c, size_t off, uint16_t *v);
int mf_cur_u32_at(const mf_cur *c, size_t off, uint32_t *v);
int mf_cur_u64_at(const mf_cur *c, size_t off, uint64_t *v);
int mf_cur_f32_at(const mf_cur *c, size_t off, float *v);
/* A view of bytes [off, off+n). */
int mf_cur_bytes_at(const mf_cur *c, size_t off, size_t n, const uint8_t **p);

#endif
