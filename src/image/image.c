/* mf_img core: allocation, the decode caps and the pixel helpers every codec shares. Depends on nothing else in
 * src/image; the codecs (jpeg.c, png.c, webp.c) and codec.c build on it. */
#include "image/internal.h"

#include <stdlib.h>
#include <string.h>

void mf_img_assert_valid(const mf_img *img) {
    MF_ASSERT(img != NULL);
    MF_ASSERT(img->data != NULL);
    MF_ASSERT(img->w > 0 && img->h > 0);
    MF_ASSERT(img->c == 1 || img->c == 3 || img->c == 4);
}

int mf_img_shape_bytes(int w, int h, int c, size_t elem, size_t *bytes) {
    *bytes = 0;
    if (w < 1 || h < 1 || (c != 1 && c != 3 && c != 4))
        return mf_error_set(MF_ERR_ARG, "bad image shape %dx%dx%d", w, h, c);
    if (w > MF_IMG_SIDE_HARD_MAX || h > MF_IMG_SIDE_HARD_MAX)
        return mf_error_set(MF_ERR_LIMIT, "image %dx%d exceeds %d pixels per side", w, h, MF_IMG_SIDE_HARD_MAX);
    size_t n;
    if (mf_size_mul((size_t)w, (size_t)h, &n) || mf_size_mul(n, (size_t)c, &n) || mf_size_mul(n, elem, &n))
        return mf_error_set(MF_ERR_LIMIT, "image %dx%dx%d overflows size_t", w, h, c);
    *bytes = n;
    return MF_OK;
}

int mf_img_alloc(int w, int h, int c, size_t elem, void **data) {
    *data = NULL;
    size_t n;
    int rc = mf_img_shape_bytes(w, h, c, elem, &n);
    if (rc != MF_OK) return rc;
    *data = calloc(n, 1);
    if (!*data) return mf_error_set(MF_ERR_NOMEM, "out of memory allocating a %dx%dx%d image", w, h, c);
    return MF_OK;
}

int mf_img_init(mf_img *img, int w, int h, int c) {
    MF_ASSERT(img != NULL);
    memset(img, 0, sizeof *img);
    void *data;
    int rc = mf_img_alloc(w, h, c, 1, &data);
    if (rc != MF_OK) return rc;
    *img = (mf_img){w, h, c, data};
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
