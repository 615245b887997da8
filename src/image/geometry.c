/* Crop and the lossless geometric transforms (EXIF orientations, quarter turns, flips). */
#include "image/internal.h"

#include <stddef.h>
#include <string.h>

int mf_img_crop(const mf_img *src, int x, int y, int w, int h, mf_img *dst) {
    mf_img_assert_valid(src);
    MF_ASSERT(dst != NULL);
    memset(dst, 0, sizeof *dst);
    int rc = mf_img_rect_check(src->w, src->h, x, y, w, h, "crop");
    if (rc != MF_OK) return rc;
    mf_img_view v;
    mf_img_view_of(src, x, y, w, h, &v);
    return mf_img_from_view(&v, dst);
}

/* Copies src to dst (already shaped dw x dh) where dst pixel (x, y) = src byte offset off0 + x*sx + y*sy.
 * Tiles keep both the read and the write side in cache when one of them walks down columns. */
static void remap(const mf_img *src, mf_img *dst, ptrdiff_t off0, ptrdiff_t sx, ptrdiff_t sy) {
    enum { T = 64 };
    const int c = src->c, dw = dst->w, dh = dst->h;
    for (int ty = 0; ty < dh; ty += T) {
        int ey = ty + T < dh ? ty + T : dh;
        for (int tx = 0; tx < dw; tx += T) {
            int ex = tx + T < dw ? tx + T : dw;
            for (int y = ty; y < ey; y++) {
                const uint8_t *s = src->data + off0 + (ptrdiff_t)y * sy + (ptrdiff_t)tx * sx;
                uint8_t *d = dst->data + ((size_t)y * (size_t)dw + (size_t)tx) * (size_t)c;
                int n = ex - tx;
                if (c == 3) {
                    for (int i = 0; i < n; i++, s += sx, d += 3) {
                        d[0] = s[0];
                        d[1] = s[1];
                        d[2] = s[2];
                    }
                } else if (c == 1) {
                    for (int i = 0; i < n; i++, s += sx)
                        d[i] = s[0];
                } else {
                    for (int i = 0; i < n; i++, s += sx, d += 4)
                        memcpy(d, s, 4);
                }
            }
        }
    }
}

int mf_img_orient(const mf_img *src, int orientation, mf_img *dst) {
    mf_img_assert_valid(src);
    MF_ASSERT(dst != NULL);
    memset(dst, 0, sizeof *dst);
    if (orientation < 1 || orientation > 8)
        return mf_error_set(MF_ERR_ARG, "EXIF orientation %d is not in 1..8", orientation);
    const ptrdiff_t c = src->c, S = (ptrdiff_t)src->w * c;
    const ptrdiff_t right = ((ptrdiff_t)src->w - 1) * c, bottom = ((ptrdiff_t)src->h - 1) * S;
    int swap = orientation >= 5;
    int rc = mf_img_init(dst, swap ? src->h : src->w, swap ? src->w : src->h, src->c);
    if (rc != MF_OK) return rc;
    /* dst(x, y) = src(...) for each orientation; see the table in image.h. */
    switch (orientation) {
    case 1: remap(src, dst, 0, c, S); break;                /* (x, y) */
    case 2: remap(src, dst, right, -c, S); break;           /* (w-1-x, y) */
    case 3: remap(src, dst, right + bottom, -c, -S); break; /* (w-1-x, h-1-y) */
    case 4: remap(src, dst, bottom, c, -S); break;          /* (x, h-1-y) */
    case 5: remap(src, dst, 0, S, c); break;                /* (y, x) */
    case 6: remap(src, dst, bottom, -S, c); break;          /* (y, h-1-x) */
    case 7: remap(src, dst, right + bottom, -S, -c); break; /* (w-1-y, h-1-x) */
    default: remap(src, dst, right, S, -c); break;          /* 8: (w-1-y, x) */
    }
    return MF_OK;
}

int mf_img_rotate90(const mf_img *src, int quarter_turns, mf_img *dst) {
    static const int orient[4] = {1, 6, 3, 8};
    return mf_img_orient(src, orient[((quarter_turns % 4) + 4) % 4], dst);
}

int mf_img_flip(const mf_img *src, int horizontal, mf_img *dst) { return mf_img_orient(src, horizontal ? 2 : 4, dst); }
