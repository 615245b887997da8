/* Render module: rasteriser coverage (top-left rule), z-buffer, affine texture mapping, blending exactness, seams,
 * masked low-pass, float image round trips. Exact checks on synthetic images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mfmc/render.h"

static mf_fimg mk(int w, int h, int c, float v) {
    mf_fimg f;
    assert_int_equal(mf_fimg_init(&f, w, h, c), MF_OK);
    mf_fimg_fill(&f, v);
    return f;
}

static void test_triangle_coverage(void **state) {
    (void)state;
    mf_fimg dst = mk(12, 12, 1, 0), depth = mk(12, 12, 1, FLT_MAX), cov = mk(12, 12, 1, 0), src = mk(4, 4, 1, 1);
    const float xyz[] = {0, 0, 0, 10, 0, 0, 0, 10, 0}, uv[] = {0, 0, 1, 0, 0, 1};
    const int tri[] = {0, 1, 2};
    mf_render_mesh m = {xyz, uv, 3, tri, 1};
    assert_int_equal(mf_render_triangles(&dst, &depth, &cov, 1, &src, &m), MF_OK);
    int n = 0;
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 12; x++) {
            int in = cov.data[y * 12 + x] > 0;
            /* centres strictly inside, or on the left/top edges (none here); the hypotenuse x+y=10 is excluded */
            assert_int_equal(in, x + y <= 8);
            n += in;
        }
    assert_int_equal(n, 45);
    mf_fimg_free(&dst), mf_fimg_free(&depth), mf_fimg_free(&cov), mf_fimg_free(&src);
}

static void test_shared_edge_covered_once(void **state) {
    (void)state;
    mf_fimg dst = mk(16, 16, 1, 0), src = mk(4, 4, 1, 1);
    mf_fimg ca = mk(16, 16, 1, 0), cb = mk(16, 16, 1, 0), da = mk(16, 16, 1, FLT_MAX), db = mk(16, 16, 1, FLT_MAX);
    const float xyz[] = {2, 2, 0, 12, 2, 0, 12, 12, 0, 2, 12, 0}, uv[8] = {0};
    const int t1[] = {0, 1, 2}, t2[] = {0, 2, 3};
    mf_render_mesh m1 = {xyz, uv, 4, t1, 1}, m2 = {xyz, uv, 4, t2, 1};
    assert_int_equal(mf_render_triangles(&dst, &da, &ca, 1, &src, &m1), MF_OK);
    assert_int_equal(mf_render_triangles(&dst, &db, &cb, 1, &src, &m2), MF_OK);
    int n = 0;
    for (int i = 0; i < 256; i++) {
        float s = ca.data[i] + cb.data[i];
        assert_true(s == 0 || s == 1); /* never twice */
        n += s > 0;
    }
    assert_int_equal(n, 100); /* the 10x10 square exactly */
    mf_fimg_free(&dst), mf_fimg_free(&src), mf_fimg_free(&ca), mf_fimg_free(&cb), mf_fimg_free(&da), mf_fimg_free(&db);
}

static void test_zbuffer(void **state) {
    (void)state;
    mf_fimg dst = mk(10, 10, 1, 0), depth = mk(10, 10, 1, FLT_MAX), near = mk(2, 2, 1, 7), far = mk(2, 2, 1, 3);
    const float zfar[] = {0, 0, 5, 10, 0, 5, 0, 10, 5}, znear[] = {0, 0, 1, 10, 0, 1, 0, 10, 1}, uv[6] = {0};
    const int tri[] = {0, 1, 2};
    mf_render_mesh mf = {zfar, uv, 3, tri, 1}, mn = {znear, uv, 3, tri, 1};
    /* near first, then far: far must not overwrite */
    assert_int_equal(mf_render_triangles(&dst, &depth, NULL, 0, &near, &mn), MF_OK);
    assert_int_equal(mf_render_triangles(&dst, &depth, NULL, 0, &far, &mf), MF_OK);
    assert_true(dst.data[1 * 10 + 1] == 7);
    mf_fimg_fill(&depth, FLT_MAX);
    mf_fimg_fill(&dst, 0);
    assert_int_equal(mf_render_triangles(&dst, &depth, NULL, 0, &far, &mf), MF_OK);
    assert_int_equal(mf_render_triangles(&dst, &depth, NULL, 0, &near, &mn), MF_OK);
    assert_true(dst.data[1 * 10 + 1] == 7);
    mf_fimg_free(&dst), mf_fimg_free(&depth), mf_fimg_free(&near), mf_fimg_free(&far);
}

static void test_affine_texture(void **state) {
    (void)state;
    mf_fimg src, dst = mk(20, 20, 3, -1), depth = mk(20, 20, 1, FLT_MAX);
    assert_int_equal(mf_fimg_init(&src, 20, 20, 3), MF_OK);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 20; x++)
            for (int k = 0; k < 3; k++) src.data[(y * 20 + x) * 3 + k] = (float)(3 * x + 5 * y + k);
    /* identity mapping: uv = xy, so every covered pixel equals the source exactly */
    const float xyz[] = {1, 1, 0, 19, 2, 0, 3, 18, 0}, uv[] = {1, 1, 19, 2, 3, 18};
    const int tri[] = {0, 1, 2};
    mf_render_mesh m = {xyz, uv, 3, tri, 1};
    assert_int_equal(mf_render_triangles(&dst, &depth, NULL, 0, &src, &m), MF_OK);
    int n = 0;
    for (int i = 0; i < 400 * 3; i++)
        if (dst.data[i] >= 0) {
            assert_true(fabsf(dst.data[i] - src.data[i]) < 1e-3f);
            n++;
        }
    assert_true(n > 100 * 3);
    /* a bad vertex index is refused and draws nothing */
    const int bad[] = {0, 1, 5};
    mf_render_mesh mb = {xyz, uv, 3, bad, 1};
    assert_int_equal(mf_render_triangles(&dst, &depth, NULL, 0, &src, &mb), MF_ERR_ARG);
    mf_fimg_free(&src), mf_fimg_free(&dst), mf_fimg_free(&depth);
}

static void test_blend_exact(void **state) {
    (void)state;
    mf_fimg dst = mk(64, 48, 3, 50), src = mk(64, 48, 3, 200), ones = mk(64, 48, 1, 1), zeros = mk(64, 48, 1, 0);
    assert_int_equal(mf_render_blend_multiband(&dst, &src, &ones, 0), MF_OK);
    for (int i = 0; i < 64 * 48 * 3; i++) assert_true(fabsf(dst.data[i] - 200) < 1e-3f);
    mf_fimg_fill(&dst, 50);
    assert_int_equal(mf_render_blend_multiband(&dst, &src, &zeros, 0), MF_OK);
    for (int i = 0; i < 64 * 48 * 3; i++) assert_true(dst.data[i] == 50); /* untouched, bit for bit */
    /* a constant blended into the same constant under any mask stays that constant */
    mf_fimg same = mk(64, 48, 3, 50), half = mk(64, 48, 1, 0);
    for (int i = 0; i < 64 * 24; i++) half.data[i] = 1;
    assert_int_equal(mf_render_blend_multiband(&dst, &same, &half, 0), MF_OK);
    for (int i = 0; i < 64 * 48 * 3; i++) assert_true(fabsf(dst.data[i] - 50) < 1e-3f);
    mf_fimg_free(&dst), mf_fimg_free(&src), mf_fimg_free(&ones), mf_fimg_free(&zeros), mf_fimg_free(&same);
    mf_fimg_free(&half);
}

static void test_seam_drops(void **state) {
    (void)state;
    mf_fimg a = mk(96, 96, 3, 60), b = mk(96, 96, 3, 60), src = mk(96, 96, 3, 120), mask = mk(96, 96, 1, 0);
    for (int y = 24; y < 72; y++)
        for (int x = 24; x < 72; x++) mask.data[y * 96 + x] = 1;
    assert_int_equal(mf_render_blend_multiband(&a, &src, &mask, 1), MF_OK); /* plain alpha: hard edge */
    assert_int_equal(mf_render_blend_multiband(&b, &src, &mask, 0), MF_OK);
    double hard = mf_render_seam(&a, &mask), soft = mf_render_seam(&b, &mask);
    assert_true(hard > 59 && hard < 61);
    assert_true(soft < 0.5 * hard);
    /* far from the mask nothing changes */
    assert_true(fabsf(b.data[0] - 60) < 1e-3f);
    mf_fimg_free(&a), mf_fimg_free(&b), mf_fimg_free(&src), mf_fimg_free(&mask);
}

static void test_lowpass_and_roundtrip(void **state) {
    (void)state;
    mf_fimg f = mk(80, 60, 3, 42), w = mk(80, 60, 1, 0), lo;
    for (int i = 0; i < 80 * 30; i++) w.data[i] = 1;
    for (int i = 80 * 30; i < 80 * 60; i++)
        for (int k = 0; k < 3; k++) f.data[3 * i + k] = 255; /* weight 0 there: must not leak in */
    assert_int_equal(mf_render_lowpass(&f, &w, 12, &lo), MF_OK);
    assert_true(fabsf(lo.data[(10 * 80 + 40) * 3] - 42) < 1e-2f);
    mf_fimg_free(&lo);
    mf_img img;
    assert_int_equal(mf_img_init(&img, 7, 5, 3), MF_OK);
    for (int i = 0; i < 7 * 5 * 3; i++) img.data[i] = (uint8_t)(i * 7);
    mf_fimg g;
    assert_int_equal(mf_fimg_from_img(&img, 1, 1, 5, 3, &g), MF_OK);
    mf_img copy;
    assert_int_equal(mf_img_init(&copy, 7, 5, 3), MF_OK);
    memcpy(copy.data, img.data, 7 * 5 * 3);
    assert_int_equal(mf_fimg_to_img(&g, NULL, &copy, 1, 1), MF_OK);
    assert_memory_equal(copy.data, img.data, 7 * 5 * 3);
    mf_fimg_free(&g);
    assert_int_equal(mf_fimg_from_img(&img, 3, 3, 5, 3, &g), MF_ERR_ARG);
    assert_int_equal(mf_fimg_init(&g, 0, 5, 3), MF_ERR_ARG);
    assert_int_equal(mf_fimg_init(&g, 65536, 65536, 3), MF_ERR_LIMIT);
    mf_img_free(&img), mf_img_free(&copy), mf_fimg_free(&f), mf_fimg_free(&w);
}

/* The blur against a plain per-pixel reference of the same separable sum (same kernel, same order of the terms:
 * 0 + k[0] * v[-r] + ... + k[2r] * v[r], edges clamped, rows then columns): bit-identical, including images
 * narrower than the kernel and every channel count. */
static void ref_pass(float *d, int w, int h, int c, float sigma, int horizontal) {
    int r = (int)ceilf(3 * sigma);
    if (r < 1) r = 1;
    float *ker = malloc(sizeof(float) * (size_t)(2 * r + 1)), *src = malloc(sizeof(float) * (size_t)w * h * c);
    assert_non_null(ker), assert_non_null(src);
    memcpy(src, d, sizeof(float) * (size_t)w * h * c);
    float s = 0;
    for (int i = -r; i <= r; i++)
        s += ker[i + r] = expf(-0.5f * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        ker[i] /= s;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                float acc = 0;
                for (int j = 0; j <= 2 * r; j++) {
                    int sx = horizontal ? x + j - r : x, sy = horizontal ? y : y + j - r;
                    sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
                    sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
                    acc += ker[j] * src[((size_t)sy * w + sx) * c + k];
                }
                d[((size_t)y * w + x) * c + k] = acc;
            }
    free(ker), free(src);
}

static void test_blur_matches_reference(void **state) {
    (void)state;
    static const struct {
        int w, h, c;
        float sigma;
    } cases[] = {{1, 1, 1, 0.7f},   {5, 3, 3, 4.0f},   {37, 23, 3, 1.3f},
                 {64, 48, 1, 0.5f}, {19, 41, 4, 2.6f}, {7, 90, 2, 9.0f}};
    unsigned seed = 12345;
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        mf_fimg f = mk(cases[t].w, cases[t].h, cases[t].c, 0);
        size_t n = (size_t)f.w * f.h * f.c;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            f.data[i] = (float)((seed >> 8) % 65536) / 256.0f - 128.0f;
        }
        float *want = malloc(sizeof(float) * n);
        assert_non_null(want);
        memcpy(want, f.data, sizeof(float) * n);
        ref_pass(want, f.w, f.h, f.c, cases[t].sigma, 1);
        ref_pass(want, f.w, f.h, f.c, cases[t].sigma, 0);
        assert_int_equal(mf_render_blur(&f, NULL, cases[t].sigma), MF_OK);
        assert_memory_equal(f.data, want, sizeof(float) * n);
        free(want);
        mf_fimg_free(&f);
    }
}

/* (speed17) A split that makes uneven bands and runs them last band first, as a pool's threads may: rows 0..n in
 * bands of 1, 2, 3, ... rows. */
static int bands_run;
static void split_run(void *ctx, mf_render_rows_fn fn, void *fn_ctx, int n) {
    (void)ctx;
    int y0[64], y1[64], nb = 0;
    for (int y = 0, k = 1; y < n; y += k, k++) y0[nb] = y, y1[nb] = y + k < n ? y + k : n, nb = nb < 63 ? nb + 1 : nb;
    if (y1[nb - 1] < n) y1[nb - 1] = n; /* more than 63 bands: the last takes the rest */
    for (int b = nb - 1; b >= 0; b--) fn(fn_ctx, y0[b], y1[b]);
    bands_run += nb;
}

/* The _par variants split their row loops; every value must be exactly the plain function's (anon splits the
 * render over its pool and publishes what the serial path would: test_anon's test_two_threads_same_result). */
static void test_par_same_result(void **state) {
    (void)state;
    mf_render_par par = {split_run, NULL};
    static const struct {
        int w, h, c;
        float sigma;
    } cases[] = {{37, 23, 3, 1.3f}, {64, 48, 1, 0.5f}, {19, 41, 3, 2.6f}, {90, 70, 3, 9.0f}, {5, 3, 3, 40.0f}};
    unsigned seed = 777;
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        int w = cases[t].w, h = cases[t].h, c = cases[t].c;
        mf_fimg f = mk(w, h, c, 0), wt = mk(w, h, 1, 0), d = mk(w, h, c, 0);
        size_t n = (size_t)w * h * c;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            f.data[i] = (float)((seed >> 8) % 65536) / 256.0f;
            seed = seed * 1103515245u + 12345u;
            d.data[i] = (float)((seed >> 8) % 65536) / 256.0f;
        }
        for (int i = 0; i < w * h; i++) wt.data[i] = (i * 7) % 5 == 0 ? 0 : (float)((i * 13) % 17) / 16;
        float sig = cases[t].sigma;
        for (int weighted = 0; weighted < 2; weighted++) {
            const mf_fimg *wp = weighted ? &wt : NULL;
            mf_fimg a, b;
            /* blur */
            assert_int_equal(mf_fimg_copy(&f, &a), MF_OK);
            assert_int_equal(mf_fimg_copy(&f, &b), MF_OK);
            if (sig <= MF_RENDER_MAX_SIGMA) {
                assert_int_equal(mf_render_blur(&a, wp, sig), MF_OK);
                assert_int_equal(mf_render_blur_par(&b, wp, sig, &par), MF_OK);
                assert_memory_equal(a.data, b.data, sizeof(float) * n);
            }
            mf_fimg_free(&a), mf_fimg_free(&b);
            /* low-pass */
            if (sig <= MF_RENDER_MAX_SIGMA) {
                assert_int_equal(mf_render_lowpass(&f, wp, sig, &a), MF_OK);
                assert_int_equal(mf_render_lowpass_par(&f, wp, sig, &b, &par), MF_OK);
                assert_memory_equal(a.data, b.data, sizeof(float) * n);
                mf_fimg_free(&a), mf_fimg_free(&b);
            }
        }
        /* multiband blend, every level count */
        for (int lv = 0; lv <= 4; lv++) {
            mf_fimg a, b;
            assert_int_equal(mf_fimg_copy(&d, &a), MF_OK);
            assert_int_equal(mf_fimg_copy(&d, &b), MF_OK);
            assert_int_equal(mf_render_blend_multiband(&a, &f, &wt, lv), MF_OK);
            assert_int_equal(mf_render_blend_multiband_par(&b, &f, &wt, lv, &par), MF_OK);
            assert_memory_equal(a.data, b.data, sizeof(float) * n);
            mf_fimg_free(&a), mf_fimg_free(&b);
        }
        mf_fimg_free(&f), mf_fimg_free(&wt), mf_fimg_free(&d);
    }
    assert_true(bands_run > 100); /* the split was used */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_triangle_coverage),
        cmocka_unit_test(test_blur_matches_reference),
        cmocka_unit_test(test_shared_edge_covered_once),
        cmocka_unit_test(test_zbuffer),
        cmocka_unit_test(test_affine_texture),
        cmocka_unit_test(test_blend_exact),
        cmocka_unit_test(test_seam_drops),
        cmocka_unit_test(test_lowpass_and_roundtrip),
        cmocka_unit_test(test_par_same_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
