/* Float images (mf_imgf): allocation, views, crop, and conversion from and to 8-bit images and views. */
#include "image/internal.h"

#include <stdlib.h>
#include <string.h>

static void imgf_assert_valid(const mf_imgf *img) {
    MF_ASSERT(img != NULL && img->data != NULL);
    MF_ASSERT(img->w > 0 && img->h > 0 && (img->c == 1 || img->c == 3 || img->c == 4));
}

int mf_imgf_init(mf_imgf *img, int w, int h, int c) {
    MF_ASSERT(img != NULL);
    memset(img, 0, sizeof *img);
    void *data;
    int rc = mf_img_alloc(w, h, c, sizeof(float), &data);
    if (rc != MF_OK) return rc;
    *img = (mf_imgf){w, h, c, data};
    return MF_OK;
}

void mf_imgf_free(mf_imgf *img) {
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

int mf_imgf_view_of(const mf_imgf *img, int x, int y, int w, int h, mf_imgf_view *view) {
    imgf_assert_valid(img);
    MF_ASSERT(view != NULL);
    memset(view, 0, sizeof *view);
    int rc = mf_img_rect_check(img->w, img->h, x, y, w, h, "view");
    if (rc != MF_OK) return rc;
    const size_t c = (size_t)img->c, stride = (size_t)img->w * c;
    *view = (mf_imgf_view){
        .w = w, .h = h, .c = img->c, .stride = stride, .data = img->data + (size_t)y * stride + (size_t)x * c};
    return MF_OK;
}

int mf_imgf_crop(const mf_imgf *src, int x, int y, int w, int h, mf_imgf *dst) {
    MF_ASSERT(dst != NULL);
    memset(dst, 0, sizeof *dst);
    mf_imgf_view v;
    int rc = mf_imgf_view_of(src, x, y, w, h, &v);
    if (rc == MF_OK) rc = mf_imgf_init(dst, w, h, src->c);
    if (rc != MF_OK) return rc;
    const size_t row = (size_t)w * (size_t)src->c;
    for (int j = 0; j < h; j++)
        memcpy(dst->data + (size_t)j * row, v.data + (size_t)j * v.stride, row * sizeof(float));
    return MF_OK;
}

int mf_imgf_from_view(const mf_img_view *src, mf_imgf *dst) {
    mf_img_view_assert_valid(src);
    MF_ASSERT(dst != NULL);
    int rc = mf_imgf_init(dst, src->w, src->h, src->c);
    if (rc != MF_OK) return rc;
    const size_t row = (size_t)src->w * (size_t)src->c;
    for (int j = 0; j < src->h; j++) {
        const uint8_t *s = src->data + (size_t)j * src->stride;
        float *d = dst->data + (size_t)j * row;
        for (size_t i = 0; i < row; i++)
            d[i] = (float)s[i];
    }
    return MF_OK;
}

int mf_imgf_from_img(const mf_img *src, mf_imgf *dst) {
    mf_img_view v;
    MF_ASSERT(dst != NULL);
    memset(dst, 0, sizeof *dst);
    int rc = mf_img_view_of(src, 0, 0, src->w, src->h, &v);
    return rc != MF_OK ? rc : mf_imgf_from_view(&v, dst);
}

/* Round half away from zero, clamp to 0..255; NaN -> 0 (the comparisons are false for NaN). */
static inline uint8_t to_u8(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 255.0f) return 255;
    return (uint8_t)(v + 0.5f);
}

int mf_imgf_to_view(const mf_imgf *src, const mf_img_view *dst) {
    imgf_assert_valid(src);
    mf_img_view_assert_valid(dst);
    if (src->w != dst->w || src->h != dst->h || src->c != dst->c)
        return mf_error_set(MF_ERR_ARG, "float image %dx%dx%d does not fit a %dx%dx%d view", src->w, src->h, src->c,
                            dst->w, dst->h, dst->c);
    const size_t row = (size_t)src->w * (size_t)src->c;
    for (int j = 0; j < src->h; j++) {
        const float *s = src->data + (size_t)j * row;
        uint8_t *d = dst->data + (size_t)j * dst->stride;
        for (size_t i = 0; i < row; i++)
            d[i] = to_u8(s[i]);
    }
    return MF_OK;
}

int mf_imgf_to_img(const mf_imgf *src, mf_img *dst) {
    imgf_assert_valid(src);
    MF_ASSERT(dst != NULL);
    int rc = mf_img_init(dst, src->w, src->h, src->c);
    if (rc != MF_OK) return rc;
    mf_img_view v;
    mf_img_view_of(dst, 0, 0, dst->w, dst->h, &v);
    return mf_imgf_to_view(src, &v); /* shapes match: cannot fail */
}
