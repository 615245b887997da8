/* Views: windows into 8-bit pixels owned elsewhere (no copy), and copying a view out into an image. */
#include "image/internal.h"

#include <string.h>

int mf_img_rect_check(int W, int H, int x, int y, int w, int h, const char *what) {
    if (x < 0 || y < 0 || w < 1 || h < 1 || (long long)x + w > W || (long long)y + h > H)
        return mf_error_set(MF_ERR_ARG, "%s %dx%d at (%d, %d) is not inside the %dx%d image", what, w, h, x, y, W, H);
    return MF_OK;
}

void mf_img_view_assert_valid(const mf_img_view *v) {
    MF_ASSERT(v != NULL && v->data != NULL);
    MF_ASSERT(v->w > 0 && v->h > 0 && (v->c == 1 || v->c == 3 || v->c == 4));
    MF_ASSERT(v->stride >= (size_t)v->w * (size_t)v->c);
}

int mf_img_view_sub(const mf_img_view *src, int x, int y, int w, int h, mf_img_view *view) {
    mf_img_view_assert_valid(src);
    MF_ASSERT(view != NULL);
    memset(view, 0, sizeof *view);
    int rc = mf_img_rect_check(src->w, src->h, x, y, w, h, "view");
    if (rc != MF_OK) return rc;
    *view = (mf_img_view){.w = w,
                          .h = h,
                          .c = src->c,
                          .stride = src->stride,
                          .data = src->data + (size_t)y * src->stride + (size_t)x * (size_t)src->c};
    return MF_OK;
}

int mf_img_from_view(const mf_img_view *src, mf_img *dst) {
    mf_img_view_assert_valid(src);
    MF_ASSERT(dst != NULL);
    int rc = mf_img_init(dst, src->w, src->h, src->c);
    if (rc != MF_OK) return rc;
    const size_t row = (size_t)src->w * (size_t)src->c;
    for (int j = 0; j < src->h; j++)
        memcpy(dst->data + (size_t)j * row, src->data + (size_t)j * src->stride, row);
    return MF_OK;
}

int mf_img_view_of(const mf_img *img, int x, int y, int w, int h, mf_img_view *view) {
    mf_img_assert_valid(img);
    const mf_img_view all = {img->w, img->h, img->c, (size_t)img->w * (size_t)img->c, img->data};
    return mf_img_view_sub(&all, x, y, w, h, view);
}
