/* EXIF (TIFF) blobs: reading the orientation. The blob is untrusted: every offset is bounds-checked. */
#include "image/internal.h"

#include <stdlib.h>
#include <string.h>

static unsigned rd16(const uint8_t *p, int le) { return le ? p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | p[1]; }
static uint32_t rd32(const uint8_t *p, int le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int mf_img_exif_orientation(const uint8_t *app1, size_t len) {
    if (!app1 || len < 6 || memcmp(app1, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *t = app1 + 6; /* TIFF header; offsets below are relative to it */
    size_t n = len - 6;
    if (n < 8) return 1;
    int le;
    if (t[0] == 'I' && t[1] == 'I')
        le = 1;
    else if (t[0] == 'M' && t[1] == 'M')
        le = 0;
    else
        return 1;
    if (rd16(t + 2, le) != 42) return 1;
    uint32_t ifd = rd32(t + 4, le);
    if (ifd > n || n - ifd < 2) return 1;
    unsigned count = rd16(t + ifd, le);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e > n || n - e < 12) return 1;
        if (rd16(t + e, le) != 0x0112) continue;
        unsigned type = rd16(t + e + 2, le);
        uint32_t cnt = rd32(t + e + 4, le);
        unsigned v;
        if (type == 3 && cnt >= 1) /* SHORT, stored in the first two bytes of the value field */
            v = rd16(t + e + 8, le);
        else if (type == 4 && cnt >= 1) /* LONG: wrong per spec but written by some tools */
            v = (unsigned)rd32(t + e + 8, le);
        else
            return 1;
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

/* ---- mf_img_exif_clean ---- */

static void wr16(uint8_t *p, unsigned v, int le) {
    p[le ? 0 : 1] = (uint8_t)v;
    p[le ? 1 : 0] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v, int le) {
    for (int i = 0; i < 4; i++)
        p[le ? i : 3 - i] = (uint8_t)(v >> (8 * i));
}

/* Bytes per value of TIFF field types 1..13 (0 = unknown type). */
static size_t type_size(unsigned type) {
    static const uint8_t sz[14] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
    return type < 14 ? sz[type] : 0;
}

typedef struct {
    const uint8_t *t; /* the TIFF stream */
    size_t n;
    int le;
} tiff;

/* Byte range [*off, *off + *len) of the values of the entry at e when they are stored out of line (more than 4
 * bytes); 0 when inline, unknown type, or out of bounds (then nothing is referenced that we could keep). */
static int entry_values(const tiff *T, size_t e, size_t *off, size_t *len) {
    size_t sz = type_size(rd16(T->t + e + 2, T->le));
    uint32_t count = rd32(T->t + e + 4, T->le);
    if (!sz || count > T->n / sz) return 0;
    *len = sz * count;
    if (*len <= 4) return 0;
    *off = rd32(T->t + e + 8, T->le);
    return *off <= T->n && T->n - *off >= *len;
}

/* Value i of a SHORT or LONG entry (inline or out of line) into *v; 0 when not readable. */
static int entry_uint(const tiff *T, size_t e, uint32_t i, uint32_t *v) {
    unsigned type = rd16(T->t + e + 2, T->le);
    uint32_t count = rd32(T->t + e + 4, T->le);
    if ((type != 3 && type != 4) || i >= count) return 0;
    size_t sz = type == 3 ? 2 : 4, base = e + 8, off, len;
    if (entry_values(T, e, &off, &len))
        base = off;
    else if ((size_t)count * sz > 4)
        return 0;
    *v = type == 3 ? rd16(T->t + base + i * sz, T->le) : rd32(T->t + base + i * sz, T->le);
    return 1;
}

/* Entry count of the IFD at off when its table (count, entries, next link) fits; -1 otherwise. */
static long ifd_count(const tiff *T, size_t off) {
    if (off > T->n || T->n - off < 2) return -1;
    size_t count = rd16(T->t + off, T->le);
    if ((T->n - off - 2) / 12 < count || T->n - off - 2 - 12 * count < 4) return -1;
    return (long)count;
}

/* Raises *end to the end of everything the IFD at off references: its table (with the next-IFD link) and its
 * out-of-line values. */
static void ifd_extent(const tiff *T, size_t off, size_t *end) {
    long count = ifd_count(T, off);
    if (count < 0) return;
    size_t table_end = off + 2 + 12 * (size_t)count + 4;
    if (table_end > *end) *end = table_end;
    for (long i = 0; i < count; i++) {
        size_t voff, vlen;
        if (entry_values(T, off + 2 + 12 * (size_t)i, &voff, &vlen) && voff + vlen > *end) *end = voff + vlen;
    }
}

/* The first value of the first entry `tag` of the IFD at off (a sub-IFD pointer); 0 when absent. */
static int ifd_find(const tiff *T, size_t off, unsigned tag, uint32_t *v) {
    long count = ifd_count(T, off);
    for (long i = 0; i < count; i++) {
        size_t e = off + 2 + 12 * (size_t)i;
        if (rd16(T->t + e, T->le) == tag) return entry_uint(T, e, 0, v);
    }
    return 0;
}

/* End of what IFD0 and its sub-IFDs reference: IFD0 -> Exif (0x8769) -> Interop (0xA005), IFD0 -> GPS (0x8825).
 * Exactly these four directories, each walked once, so a hostile stream costs O(entries). */
static size_t referenced_end(const tiff *T, size_t ifd0) {
    size_t end = 8; /* the TIFF header */
    uint32_t exif_ifd, interop, gps;
    ifd_extent(T, ifd0, &end);
    if (ifd_find(T, ifd0, 0x8769, &exif_ifd)) {
        ifd_extent(T, exif_ifd, &end);
        if (ifd_find(T, exif_ifd, 0xA005, &interop)) ifd_extent(T, interop, &end);
    }
    if (ifd_find(T, ifd0, 0x8825, &gps)) ifd_extent(T, gps, &end);
    return end;
}

static void zero_range(uint8_t *o, size_t n, size_t off, size_t len) {
    if (off >= n) return;
    if (len > n - off) len = n - off;
    memset(o + off, 0, len);
}

/* Zeroes, in o, IFD1's table, its out-of-line values and the thumbnail it points to (JPEG thumbnail
 * 0x0201/0x0202, or strips 0x0111/0x0117). Reads from T (the original), so overlapping garbage is harmless. */
static void wipe_ifd1(const tiff *T, size_t off, uint8_t *o) {
    long count = ifd_count(T, off);
    if (count < 0) return;
    uint32_t jpeg_off = 0, jpeg_len = 0;
    long strips = -1, strip_bytes = -1; /* entries 0x0111 and 0x0117 (the first of each) */
    for (long i = 0; i < count; i++) {
        size_t e = off + 2 + 12 * (size_t)i, voff, vlen;
        unsigned tag = rd16(T->t + e, T->le);
        if (tag == 0x0201) entry_uint(T, e, 0, &jpeg_off);
        if (tag == 0x0202) entry_uint(T, e, 0, &jpeg_len);
        if (tag == 0x0111 && strips < 0) strips = i;
        if (tag == 0x0117 && strip_bytes < 0) strip_bytes = i;
        if (entry_values(T, e, &voff, &vlen)) zero_range(o, T->n, voff, vlen);
    }
    if (strips >= 0 && strip_bytes >= 0) {
        size_t e1 = off + 2 + 12 * (size_t)strips, e2 = off + 2 + 12 * (size_t)strip_bytes;
        uint32_t so, sc;
        for (uint32_t k = 0; entry_uint(T, e1, k, &so) && entry_uint(T, e2, k, &sc); k++)
            zero_range(o, T->n, so, sc);
    }
    if (jpeg_len) zero_range(o, T->n, jpeg_off, jpeg_len);
    zero_range(o, T->n, off, 2 + 12 * (size_t)count + 4);
}

int mf_img_exif_clean(const uint8_t *exif, size_t len, uint8_t **out, size_t *out_len) {
    MF_ASSERT(out != NULL && out_len != NULL);
    MF_ASSERT(exif != NULL || len == 0);
    *out = NULL;
    *out_len = 0;
    if (len > MF_IMG_MAX_EXIF_BYTES)
        return mf_error_set(MF_ERR_LIMIT, "EXIF of %zu bytes is over the limit of %zu", len, MF_IMG_MAX_EXIF_BYTES);
    if (!mf_img_exif_is_tiff(exif, len)) return mf_error_set(MF_ERR_FORMAT, "EXIF: not a TIFF stream");
    const tiff T = {.t = exif, .n = len, .le = exif[0] == 'I'};
    const size_t ifd0 = rd32(exif + 4, T.le);
    const long count = ifd_count(&T, ifd0);
    if (ifd0 < 8 || count < 0) /* below 8, IFD0 would overlap the header */
        return mf_error_set(MF_ERR_FORMAT, "EXIF: IFD0 at offset %zu does not fit in %zu bytes", ifd0, len);
    const size_t link = ifd0 + 2 + 12 * (size_t)count;

    const size_t keep = referenced_end(&T, ifd0);
    uint8_t *o = malloc(len);
    if (!o) return mf_error_set(MF_ERR_NOMEM, "out of memory copying EXIF");
    memcpy(o, exif, len);
    const uint32_t ifd1 = rd32(exif + link, T.le);
    if (ifd1) wipe_ifd1(&T, ifd1, o);

    /* restored and written after the wipe, so that a hostile IFD1 overlapping the header or IFD0 cannot undo
     * them: the result always parses again */
    memcpy(o, exif, 8);
    wr32(o + link, 0, T.le);
    for (long i = 0; i < count; i++) {
        size_t e = ifd0 + 2 + 12 * (size_t)i;
        if (rd16(o + e, T.le) != 0x0112) continue;
        unsigned type = rd16(o + e + 2, T.le);
        if (type == 3) wr16(o + e + 8, 1, T.le); /* SHORT, as the standard says */
        if (type == 4) wr32(o + e + 8, 1, T.le); /* LONG, written by some tools (and read by mf_img_exif_orientation) */
    }
    *out = o;
    *out_len = keep; /* whatever lies past the last referenced byte (typically the thumbnail) is cut off */
    return MF_OK;
}
