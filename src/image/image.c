/* mf_img basics: allocation, caps, format dispatch, file I/O, crop and the lossless geometric transforms. */
#include "image/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Hard ceiling for mf_img_init, independent of the decode caps: keeps every index computation of the module
 * inside int/size_t comfortably (65535^2 * 4 < 2^34). */
enum { MF_IMG_SIDE_HARD_MAX = 65535 };

static void img_check(const mf_img *img) {
    MF_ASSERT(img != NULL);
    MF_ASSERT(img->data != NULL);
    MF_ASSERT(img->w > 0 && img->h > 0);
    MF_ASSERT(img->c == 1 || img->c == 3 || img->c == 4);
}

int mf_img_init(mf_img *img, int w, int h, int c) {
    MF_ASSERT(img != NULL);
    memset(img, 0, sizeof *img);
    if (w < 1 || h < 1 || (c != 1 && c != 3 && c != 4))
        return mf_error_set(MF_ERR_ARG, "bad image shape %dx%dx%d", w, h, c);
    if (w > MF_IMG_SIDE_HARD_MAX || h > MF_IMG_SIDE_HARD_MAX)
        return mf_error_set(MF_ERR_LIMIT, "image %dx%d exceeds %d pixels per side", w, h, MF_IMG_SIDE_HARD_MAX);
    size_t n;
    if (mf_size_mul((size_t)w, (size_t)h, &n) || mf_size_mul(n, (size_t)c, &n))
        return mf_error_set(MF_ERR_LIMIT, "image %dx%dx%d overflows size_t", w, h, c);
    img->data = calloc(n, 1);
    if (!img->data) return mf_error_set(MF_ERR_NOMEM, "out of memory allocating a %dx%dx%d image", w, h, c);
    img->w = w;
    img->h = h;
    img->c = c;
    return MF_OK;
}

void mf_img_free(mf_img *img) {
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

void mf_img_caps_from(const mf_img_limits *lim, mf_img_caps *caps) {
    caps->max_pixels = lim && lim->max_pixels ? lim->max_pixels : MF_IMG_DEFAULT_MAX_PIXELS;
    caps->max_side = lim && lim->max_side > 0 ? lim->max_side : MF_IMG_DEFAULT_MAX_SIDE;
    caps->max_bytes = lim && lim->max_bytes ? lim->max_bytes : MF_IMG_DEFAULT_MAX_BYTES;
    /* mf_img_init refuses larger sides anyway; clamping here makes the refusal a clear MF_ERR_LIMIT. */
    if (caps->max_side > MF_IMG_SIDE_HARD_MAX) caps->max_side = MF_IMG_SIDE_HARD_MAX;
}

int mf_img_caps_check(const mf_img_caps *caps, const char *what, long long w, long long h) {
    if (w <= 0 || h <= 0) return mf_error_set(MF_ERR_FORMAT, "%s image has a zero dimension (%lldx%lld)", what, w, h);
    if (w > caps->max_side || h > caps->max_side)
        return mf_error_set(MF_ERR_LIMIT, "%s image is %lldx%lld, over the limit of %d pixels per side", what, w, h,
                            caps->max_side);
    /* w, h <= 65535 here, so the product fits. */
    if ((uint64_t)w * (uint64_t)h > caps->max_pixels)
        return mf_error_set(MF_ERR_LIMIT, "%s image is %lldx%lld, over the limit of %llu pixels", what, w, h,
                            (unsigned long long)caps->max_pixels);
    return MF_OK;
}

mf_img_format mf_img_format_detect(const uint8_t *buf, size_t len) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!buf) return MF_IMG_FORMAT_UNKNOWN;
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) return MF_IMG_FORMAT_JPEG;
    if (len >= 8 && memcmp(buf, png_sig, 8) == 0) return MF_IMG_FORMAT_PNG;
    if (len >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0) return MF_IMG_FORMAT_WEBP;
    return MF_IMG_FORMAT_UNKNOWN;
}

int mf_img_rgba_to_rgb_inplace(uint8_t *px, size_t n) {
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned a = px[4 * i + 3];
        unsigned r = px[4 * i], g = px[4 * i + 1], b = px[4 * i + 2];
        if (a != 255) {
            any = 1;
            unsigned wa = 255u * (255u - a);
            r = (r * a + wa + 127u) / 255u;
            g = (g * a + wa + 127u) / 255u;
            b = (b * a + wa + 127u) / 255u;
        }
        px[3 * i] = (uint8_t)r;
        px[3 * i + 1] = (uint8_t)g;
        px[3 * i + 2] = (uint8_t)b;
    }
    return any;
}

static int unknown_format(const uint8_t *buf, size_t len) {
    char shown[3 * 8 + 1] = "";
    size_t n = len < 8 ? len : 8;
    for (size_t i = 0; i < n; i++)
        snprintf(shown + 3 * i, 4, "%02x ", buf[i]);
    if (n) shown[3 * n - 1] = '\0';
    return mf_error_set(MF_ERR_FORMAT, "not a JPEG, PNG or WebP image (starts with %s)", shown);
}

int mf_img_decode(const uint8_t *buf, size_t len, const mf_img_limits *lim, mf_img *out, mf_img_info *info) {
    MF_ASSERT(out != NULL);
    MF_ASSERT(buf != NULL || len == 0);
    memset(out, 0, sizeof *out);
    mf_img_info local;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    info->orientation = 1;

    mf_img_caps caps;
    mf_img_caps_from(lim, &caps);
    if (len == 0) return mf_error_set(MF_ERR_FORMAT, "empty input (0 bytes), not an image");
    if (len > caps.max_bytes)
        return mf_error_set(MF_ERR_LIMIT, "encoded image is %zu bytes, over the limit of %zu", len, caps.max_bytes);

    info->format = mf_img_format_detect(buf, len);
    int rc;
    switch (info->format) {
    case MF_IMG_FORMAT_JPEG: rc = mf_img_jpeg_decode(buf, len, &caps, out, info); break;
    case MF_IMG_FORMAT_PNG: rc = mf_img_png_decode(buf, len, &caps, out, info); break;
    case MF_IMG_FORMAT_WEBP: rc = mf_img_webp_decode(buf, len, &caps, out, info); break;
    default: return unknown_format(buf, len);
    }
    if (rc != MF_OK) {
        mf_img_free(out);
        return rc;
    }
    if (info->orientation != 1) {
        mf_img upright;
        rc = mf_img_orient(out, info->orientation, &upright);
        mf_img_free(out);
        if (rc != MF_OK) return rc;
        *out = upright;
    }
    return MF_OK;
}

int mf_img_load(const char *path, const mf_img_limits *lim, mf_img *out, mf_img_info *info) {
    MF_ASSERT(path != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    mf_img_caps caps;
    mf_img_caps_from(lim, &caps);
    uint8_t *buf;
    size_t len;
    int rc = mf_file_read(path, caps.max_bytes, &buf, &len);
    if (rc != MF_OK) {
        if (info) memset(info, 0, sizeof *info);
        return rc;
    }
    rc = mf_img_decode(buf, len, lim, out, info);
    free(buf);
    if (rc != MF_OK) return mf_error_prefix(rc, "%s", path);
    return MF_OK;
}

/* ---- saving ---- */

static mf_img_format format_from_path(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return MF_IMG_FORMAT_UNKNOWN;
    if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")) return MF_IMG_FORMAT_JPEG;
    if (!strcasecmp(dot, ".png")) return MF_IMG_FORMAT_PNG;
    if (!strcasecmp(dot, ".webp")) return MF_IMG_FORMAT_WEBP;
    return MF_IMG_FORMAT_UNKNOWN;
}

int mf_img_save(const mf_img *img, const char *path, int quality) {
    img_check(img);
    MF_ASSERT(path != NULL);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    switch (format_from_path(path)) {
    case MF_IMG_FORMAT_JPEG: rc = mf_img_encode_jpeg(img, quality, &buf, &len); break;
    case MF_IMG_FORMAT_PNG: rc = mf_img_encode_png(img, &buf, &len); break;
    case MF_IMG_FORMAT_WEBP: rc = mf_img_encode_webp(img, quality, &buf, &len); break;
    default:
        return mf_error_set(MF_ERR_UNSUPPORTED, "%s: unknown image extension (use .jpg, .jpeg, .png or .webp)", path);
    }
    if (rc != MF_OK) return mf_error_prefix(rc, "%s", path);

    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        free(buf);
        return mf_error_set(MF_ERR_IO, "cannot create %s: %s", path, strerror(e));
    }
    size_t put = fwrite(buf, 1, len, f);
    int e = errno;
    free(buf);
    int bad = put != len;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        remove(path); /* a truncated image would later fail to decode in a confusing way */
        return mf_error_set(MF_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    return MF_OK;
}

/* ---- crop and lossless transforms ---- */

int mf_img_crop(const mf_img *src, int x, int y, int w, int h, mf_img *dst) {
    img_check(src);
    MF_ASSERT(dst != NULL);
    memset(dst, 0, sizeof *dst);
    if (x < 0 || y < 0 || w < 1 || h < 1 || (long long)x + w > src->w || (long long)y + h > src->h)
        return mf_error_set(MF_ERR_ARG, "crop %dx%d at (%d, %d) is not inside the %dx%d image", w, h, x, y, src->w,
                            src->h);
    int rc = mf_img_init(dst, w, h, src->c);
    if (rc != MF_OK) return rc;
    size_t sstride = (size_t)src->w * (size_t)src->c, row = (size_t)w * (size_t)src->c;
    for (int j = 0; j < h; j++)
        memcpy(dst->data + (size_t)j * row, src->data + (size_t)(y + j) * sstride + (size_t)x * (size_t)src->c, row);
    return MF_OK;
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
    img_check(src);
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
