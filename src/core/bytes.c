/* The bounds-checked byte cursor (see bytes.h). */
#include "core/bytes.h"

static const uint8_t empty[1];

void mf_cur_init(mf_cur *c, const uint8_t *base, size_t len) {
    c->base = base ? base : empty;
    c->len = base ? len : 0;
    c->pos = 0;
}

int mf_cur_sub(const mf_cur *c, size_t off, size_t n, mf_cur *out) {
    if (!mf_cur_has(c, off, n)) return -1;
    out->base = c->base + off;
    out->len = n;
    out->pos = 0;
    return 0;
}

int mf_cur_seek(mf_cur *c, size_t pos) {
    if (pos > c->len) return -1;
    c->pos = pos;
    return 0;
}

int mf_cur_skip(mf_cur *c, size_t n) {
    if (n > mf_cur_left(c)) return -1;
    c->pos += n;
    return 0;
}

int mf_cur_bytes_at(const mf_cur *c, size_t off, size_t n, const uint8_t **p) {
    if (!mf_cur_has(c, off, n)) return -1;
    *p = c->base + off;
    return 0;
}

int mf_cur_u8_at(const mf_cur *c, size_t off, uint8_t *v) {
    if (!mf_cur_has(c, off, 1)) return -1;
    *v = c->base[off];
    return 0;
}
int mf_cur_u16_at(const mf_cur *c, size_t off, uint16_t *v) {
    if (!mf_cur_has(c, off, 2)) return -1;
    *v = mf_le16(c->base + off);
    return 0;
}
int mf_cur_u32_at(const mf_cur *c, size_t off, uint32_t *v) {
    if (!mf_cur_has(c, off, 4)) return -1;
    *v = mf_le32(c->base + off);
    return 0;
}
int mf_cur_u64_at(const mf_cur *c, size_t off, uint64_t *v) {
    if (!mf_cur_has(c, off, 8)) return -1;
    *v = mf_le64(c->base + off);
    return 0;
}
int mf_cur_f32_at(const mf_cur *c, size_t off, float *v) {
    if (!mf_cur_has(c, off, 4)) return -1;
    *v = mf_lef32(c->base + off);
    return 0;
}

int mf_cur_bytes(mf_cur *c, size_t n, const uint8_t **p) {
    if (mf_cur_bytes_at(c, c->pos, n, p)) return -1;
    c->pos += n;
    return 0;
}
int mf_cur_u8(mf_cur *c, uint8_t *v) {
    if (mf_cur_u8_at(c, c->pos, v)) return -1;
    c->pos += 1;
    return 0;
}
int mf_cur_u16(mf_cur *c, uint16_t *v) {
    if (mf_cur_u16_at(c, c->pos, v)) return -1;
    c->pos += 2;
    return 0;
}
int mf_cur_u32(mf_cur *c, uint32_t *v) {
    if (mf_cur_u32_at(c, c->pos, v)) return -1;
    c->pos += 4;
    return 0;
}
int mf_cur_u64(mf_cur *c, uint64_t *v) {
    if (mf_cur_u64_at(c, c->pos, v)) return -1;
    c->pos += 8;
    return 0;
}
int mf_cur_f32(mf_cur *c, float *v) {
    if (mf_cur_f32_at(c, c->pos, v)) return -1;
    c->pos += 4;
    return 0;
}

int mf_cur_varint(mf_cur *c, uint64_t *v) {
    size_t p = c->pos;
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (p >= c->len) return -1;
        uint8_t b = c->base[p++];
        if (i == 9 && b > 1) return -2;
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            c->pos = p;
            *v = r;
            return 0;
        }
    }
    return -2;
}
