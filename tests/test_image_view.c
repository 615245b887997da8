/* Image views and float images: bounds of every rectangle (inside, at the edges, negative, zero, overflowing),
 * that views share the pixels, conversions 8-bit <-> float (exactness, rounding, clamping, NaN), and the shape
 * caps of mf_imgf_init. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mfmc/image.h"

/* w x h x c image whose sample (x, y, k) is (x * 7 + y * 13 + k * 61) & 255. */
static void pattern(mf_img *img, int w, int h, int c) {
    assert_int_equal(mf_img_init(img, w, h, c), MF_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                img->data[((size_t)y * w + x) * c + k] = (uint8_t)((x * 7 + y * 13 + k * 61) & 255);
}

static uint8_t px(const mf_img_view *v, int x, int y, int k) {
    return v->data[(size_t)y * v->stride + (size_t)x * v->c + k];
}

static void test_view_of(void **state) {
    (void)state;
    mf_img img;
    pattern(&img, 9, 7, 3);
    mf_img_view v;
    assert_int_equal(mf_img_view_of(&img, 2, 3, 5, 4, &v), MF_OK);
    assert_int_equal(v.w, 5);
    assert_int_equal(v.h, 4);
    assert_int_equal(v.c, 3);
    assert_int_equal(v.stride, 27);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 5; x++)
            for (int k = 0; k < 3; k++)
                assert_int_equal(px(&v, x, y, k), img.data[((size_t)(y + 3) * 9 + x + 2) * 3 + k]);
    /* a view shares the pixels: writing through it changes the image */
    v.data[0] = 200;
    assert_int_equal(img.data[(3 * 9 + 2) * 3], 200);
    /* edges: whole image, last pixel, first pixel */
    assert_int_equal(mf_img_view_of(&img, 0, 0, 9, 7, &v), MF_OK);
    assert_ptr_equal(v.data, img.data);
    assert_int_equal(mf_img_view_of(&img, 8, 6, 1, 1, &v), MF_OK);
    assert_ptr_equal(v.data, img.data + (6 * 9 + 8) * 3);
    /* outside by one, negative, zero, overflowing: refused, view emptied */
    static const int bad[][4] = {{8, 6, 2, 1},         {8, 6, 1, 2},  {0, 0, 10, 7},         {0, 0, 9, 8},
                                 {-1, 0, 2, 2},        {0, -1, 2, 2}, {0, 0, 0, 2},          {0, 0, 2, 0},
                                 {0, 0, -3, 2},        {9, 0, 1, 1},  {1, 1, 0x7fffffff, 2}, {1, 1, 2, 0x7fffffff},
                                 {0x7fffffff, 0, 1, 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v.data = img.data;
        assert_int_equal(mf_img_view_of(&img, bad[i][0], bad[i][1], bad[i][2], bad[i][3], &v), MF_ERR_ARG);
        assert_null(v.data);
        assert_int_equal(v.w, 0);
        assert_true(mf_error_get()[0] != '\0');
    }
    mf_img_free(&img);
}

static void test_view_sub_and_copy(void **state) {
    (void)state;
    mf_img img;
    pattern(&img, 10, 8, 4);
    mf_img_view a, b;
    assert_int_equal(mf_img_view_of(&img, 1, 2, 8, 5, &a), MF_OK);
    assert_int_equal(mf_img_view_sub(&a, 3, 1, 5, 4, &b), MF_OK); /* reaches a's right and bottom edges */
    assert_int_equal(b.stride, a.stride);
    assert_ptr_equal(b.data, img.data + ((size_t)3 * 10 + 4) * 4);
    assert_int_equal(mf_img_view_sub(&a, 3, 1, 6, 4, &b), MF_ERR_ARG);
    assert_int_equal(mf_img_view_sub(&a, 3, 2, 5, 4, &b), MF_ERR_ARG);
    assert_int_equal(mf_img_view_sub(&a, -1, 0, 1, 1, &b), MF_ERR_ARG);
    assert_int_equal(mf_img_view_sub(&a, 0, 0, 0, 1, &b), MF_ERR_ARG);
    assert_null(b.data);

    /* copying a view out equals mf_img_crop of the same rectangle */
    assert_int_equal(mf_img_view_sub(&a, 2, 1, 6, 3, &b), MF_OK);
    mf_img copy, crop;
    assert_int_equal(mf_img_from_view(&b, &copy), MF_OK);
    assert_int_equal(mf_img_crop(&img, 3, 3, 6, 3, &crop), MF_OK);
    assert_int_equal(copy.w, 6);
    assert_int_equal(copy.h, 3);
    assert_int_equal(copy.c, 4);
    assert_memory_equal(copy.data, crop.data, 6 * 3 * 4);
    mf_img_free(&copy);
    mf_img_free(&crop);
    mf_img_free(&img);
}

static void test_imgf_init_free(void **state) {
    (void)state;
    mf_imgf f;
    assert_int_equal(mf_imgf_init(&f, 0, 5, 3), MF_ERR_ARG);
    assert_null(f.data);
    assert_int_equal(mf_imgf_init(&f, 5, -1, 3), MF_ERR_ARG);
    assert_int_equal(mf_imgf_init(&f, 5, 5, 2), MF_ERR_ARG);
    assert_int_equal(mf_imgf_init(&f, 5, 5, 0), MF_ERR_ARG);
    assert_int_equal(mf_imgf_init(&f, MF_IMG_SIDE_HARD_MAX + 1, 1, 1), MF_ERR_LIMIT);
    assert_int_equal(mf_imgf_init(&f, 1, MF_IMG_SIDE_HARD_MAX + 1, 1), MF_ERR_LIMIT);
    assert_null(f.data);
    assert_int_equal(mf_imgf_init(&f, MF_IMG_SIDE_HARD_MAX, 1, 1), MF_OK); /* at the cap: fine */
    mf_imgf_free(&f);
    assert_int_equal(mf_imgf_init(&f, 3, 2, 4), MF_OK);
    assert_int_equal(f.w * f.h * f.c, 24);
    for (int i = 0; i < 24; i++)
        assert_true(f.data[i] == 0.0f);
    mf_imgf_free(&f);
    assert_null(f.data);
    mf_imgf_free(&f);
    mf_imgf_free(NULL);
    /* the 8-bit image has the same cap, at the boundary */
    mf_img img;
    assert_int_equal(mf_img_init(&img, 1, MF_IMG_SIDE_HARD_MAX, 1), MF_OK);
    mf_img_free(&img);
    assert_int_equal(mf_img_init(&img, 1, MF_IMG_SIDE_HARD_MAX + 1, 1), MF_ERR_LIMIT);
}

static void test_imgf_convert(void **state) {
    (void)state;
    mf_img img, back;
    pattern(&img, 6, 5, 3);
    mf_imgf f;
    assert_int_equal(mf_imgf_from_img(&img, &f), MF_OK);
    assert_int_equal(f.w, 6);
    assert_int_equal(f.h, 5);
    assert_int_equal(f.c, 3);
    for (int i = 0; i < 90; i++)
        assert_true(f.data[i] == (float)img.data[i]);
    assert_int_equal(mf_imgf_to_img(&f, &back), MF_OK);
    assert_memory_equal(back.data, img.data, 90);
    mf_img_free(&back);

    /* rounding (halves away from zero), clamping, NaN and infinities */
    static const float in[] = {-1000.0f, -0.6f,  -0.4f,  0.0f,  0.49f, 0.5f,     1.5f,      2.5f,      254.49f,
                               254.5f,   255.0f, 255.7f, 1e30f, NAN,   INFINITY, -INFINITY, 127.4999f, 128.0f};
    static const uint8_t want[] = {0, 0, 0, 0, 0, 1, 2, 3, 254, 255, 255, 255, 255, 0, 255, 0, 127, 128};
    mf_imgf g;
    assert_int_equal(mf_imgf_init(&g, 18, 1, 1), MF_OK);
    memcpy(g.data, in, sizeof in);
    assert_int_equal(mf_imgf_to_img(&g, &back), MF_OK);
    assert_memory_equal(back.data, want, sizeof want);
    mf_img_free(&back);
    mf_imgf_free(&g);

    /* from a view, and pasting into a view: only the region changes */
    mf_img_view v;
    assert_int_equal(mf_img_view_of(&img, 1, 2, 4, 3, &v), MF_OK);
    assert_int_equal(mf_imgf_from_view(&v, &g), MF_OK);
    assert_int_equal(g.w, 4);
    assert_int_equal(g.h, 3);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            for (int k = 0; k < 3; k++)
                assert_true(g.data[((size_t)y * 4 + x) * 3 + k] == (float)px(&v, x, y, k));
    for (int i = 0; i < 36; i++)
        g.data[i] = 300.0f;
    mf_img before;
    assert_int_equal(mf_img_crop(&img, 0, 0, 6, 5, &before), MF_OK);
    assert_int_equal(mf_imgf_to_view(&g, &v), MF_OK);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 6; x++)
            for (int k = 0; k < 3; k++) {
                size_t i = ((size_t)y * 6 + x) * 3 + k;
                int inside = x >= 1 && x < 5 && y >= 2 && y < 5;
                assert_int_equal(img.data[i], inside ? 255 : before.data[i]);
            }
    /* a shape mismatch writes nothing */
    mf_img_view w2;
    assert_int_equal(mf_img_view_of(&img, 0, 0, 4, 2, &w2), MF_OK);
    assert_int_equal(mf_imgf_to_view(&g, &w2), MF_ERR_ARG);
    assert_int_equal(img.data[0], before.data[0]);
    mf_img_free(&before);
    mf_imgf_free(&g);
    mf_imgf_free(&f);
    mf_img_free(&img);
}

static void test_imgf_view_crop(void **state) {
    (void)state;
    mf_imgf f;
    assert_int_equal(mf_imgf_init(&f, 7, 4, 1), MF_OK);
    for (int i = 0; i < 28; i++)
        f.data[i] = (float)i + 0.25f;
    mf_imgf_view v;
    assert_int_equal(mf_imgf_view_of(&f, 6, 3, 1, 1, &v), MF_OK);
    assert_true(v.data[0] == 27.25f);
    assert_int_equal(mf_imgf_view_of(&f, 2, 1, 5, 3, &v), MF_OK);
    assert_int_equal(v.stride, 7);
    assert_true(v.data[v.stride * 2 + 4] == 27.25f);
    assert_int_equal(mf_imgf_view_of(&f, 2, 1, 6, 3, &v), MF_ERR_ARG);
    assert_null(v.data);
    assert_int_equal(mf_imgf_view_of(&f, 0, -1, 1, 1, &v), MF_ERR_ARG);
    assert_int_equal(mf_imgf_view_of(&f, 0, 0, 1, 0x7fffffff, &v), MF_ERR_ARG);
    mf_imgf c;
    assert_int_equal(mf_imgf_crop(&f, 5, 2, 2, 2, &c), MF_OK);
    assert_int_equal(c.w, 2);
    assert_int_equal(c.h, 2);
    static const float want[] = {19.25f, 20.25f, 26.25f, 27.25f};
    assert_memory_equal(c.data, want, sizeof want);
    mf_imgf_free(&c);
    assert_int_equal(mf_imgf_crop(&f, 5, 2, 3, 2, &c), MF_ERR_ARG);
    assert_null(c.data);
    assert_int_equal(mf_imgf_crop(&f, 0, 0, 0, 0, &c), MF_ERR_ARG);
    mf_imgf_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of),        cmocka_unit_test(test_view_sub_and_copy),
        cmocka_unit_test(test_imgf_init_free), cmocka_unit_test(test_imgf_convert),
        cmocka_unit_test(test_imgf_view_crop),
    };
    return cmocka_run_group_tests_name("image views and float images", tests, NULL, NULL);
}
