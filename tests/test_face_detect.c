/* Face detection on real photos: the face-api demo photos (every face found, no false detection; a reference
 * TF.js detector finds 3, 3, 3, 4, 5, 4 faces) and a sample of LFW (one central face each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "lib/testutil.h"
#include "face/internal.h" /* mf_face_detector_set_weak, mf_face_detector_last_weak */
#include "mfmc/analyze.h"

static mf_face_detector_t *det;
static mf_face_analyzer_t *an; /* detection + mesh face-flag filter, as `mfmc detect` runs it */
static mf_nn_pool_t *pool;

static int setup(void **state) {
    (void)state;
    if (mf_nn_pool_create(2, &pool)) return -1;
    mf_face_detect_opts o = {0};
    o.pool = pool;
    mf_face_analyzer_opts ao = {.pool = pool, .no_attributes = 1};
    if (mf_face_detector_create(tu_models_dir(), &o, &det) || mf_face_analyzer_create(tu_models_dir(), &ao, &an)) {
        fprintf(stderr, "detector: %s (run make setup)\n", mf_error_get());
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    mf_face_detector_free(det);
    mf_face_analyzer_free(an);
    mf_nn_pool_free(pool);
    return 0;
}

static void test_demo_photos(void **state) {
    (void)state;
    static const int expect[6] = {3, 3, 3, 4, 5, 4};
    for (int i = 0; i < 6; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/demo/sample%d.jpg", tu_models_dir(), i + 1);
        mf_img img;
        assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
        static mf_face faces[64];
        mf_face_box f[64];
        int n;
        assert_int_equal(mf_face_analyze(an, &img, faces, 64, &n), MF_OK);
        for (int k = 0; k < n; k++) f[k] = faces[k].det;
        printf("  sample%d: %d faces (expected %d)\n", i + 1, n, expect[i]);
        assert_int_equal(n, expect[i]);
        for (int k = 0; k < n; k++) {
            /* plausible faces: inside the photo, at least 24 px, eyes inside the box */
            assert_true(f[k].w >= 24 && f[k].h >= 24);
            assert_true(f[k].x > -f[k].w / 2 && f[k].y > -f[k].h / 2);
            assert_true(f[k].x + f[k].w / 2 < img.w && f[k].y + f[k].h / 2 < img.h);
            for (int e = 0; e < 2; e++) {
                assert_true(f[k].kp[e][0] > f[k].x && f[k].kp[e][0] < f[k].x + f[k].w);
                assert_true(f[k].kp[e][1] > f[k].y && f[k].kp[e][1] < f[k].y + f[k].h);
            }
            if (k) assert_true(f[k].score <= f[k - 1].score);
        }
        mf_img_free(&img);
    }
}

/* (speed42) With a pool of two threads, levels of several tiles run whole tiles on two threads at once: the faces
 * must be the same bits as a detector without a pool (each tile's network on the caller, one after the other), in
 * plain and border mode (the privacy detection's framed levels), with weak candidates kept apart, on photos of
 * many tiles. */
static void test_tiles_on_two_threads(void **state) {
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        mf_face_detect_opts o1 = {0}, o2 = {0};
        o1.min_face = o2.min_face = 16;
        o1.border = o2.border = mode;
        o1.strict = o2.strict = mode;
        o2.pool = pool;
        mf_face_detector_t *d1, *d2;
        assert_int_equal(mf_face_detector_create(tu_models_dir(), &o1, &d1), MF_OK);
        assert_int_equal(mf_face_detector_create(tu_models_dir(), &o2, &d2), MF_OK);
        if (mode) mf_face_detector_set_weak(d1, 0.3f), mf_face_detector_set_weak(d2, 0.3f);
        static const int samples[] = {1, 2, 6};
        for (int si = 0; si < 3; si++) {
            int i = samples[si];
            char p[1024];
            snprintf(p, sizeof p, "%s/demo/sample%d.jpg", tu_models_dir(), i);
            mf_img img;
            assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
            const mf_face_box *f1, *f2, *w1, *w2;
            int n1, n2, nw1, nw2;
            assert_int_equal(mf_face_detect_all(d1, &img, &f1, &n1), MF_OK);
            assert_int_equal(mf_face_detect_all(d2, &img, &f2, &n2), MF_OK);
            int tiles = mf_face_detector_last_tiles(d2);
            printf("  mode %d sample%d: %d faces, %d tiles\n", mode, i, n2, tiles);
            assert_true(tiles >= 20); /* levels of several tiles: the two-thread path ran */
            assert_int_equal(tiles, mf_face_detector_last_tiles(d1));
            assert_int_equal(n1, n2);
            assert_true(n1 >= 2); /* faces were found (strict mode keeps 2 of sample2's 3) */
            assert_memory_equal(f1, f2, (size_t)n1 * sizeof *f1);
            mf_face_detector_last_weak(d1, &w1, &nw1);
            mf_face_detector_last_weak(d2, &w2, &nw2);
            assert_int_equal(nw1, nw2);
            if (nw1) assert_memory_equal(w1, w2, (size_t)nw1 * sizeof *w1);
            mf_img_free(&img);
        }
        mf_face_detector_free(d1);
        mf_face_detector_free(d2);
    }
}

/* Every 40th LFW identity folder's first image: the central face must be found (box centre near the middle). */
static void test_lfw_sample(void **state) {
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/lfw", tu_data_dir());
    int n = 0;
    char **names = tu_list_dir(root, &n);
    if (!names) {
        printf("  skipped: %s not present\n", root);
        skip();
    }
    int tried = 0, found = 0;
    for (int i = 0; i < n; i += 40) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s/%s_0001.jpg", root, names[i], names[i]);
        mf_img img;
        if (mf_img_load(p, NULL, &img, NULL)) continue;
        mf_face_box f[16];
        int nf;
        assert_int_equal(mf_face_detect(det, &img, f, 16, &nf), MF_OK);
        tried++;
        for (int k = 0; k < nf; k++) {
            float cx = f[k].x + f[k].w / 2, cy = f[k].y + f[k].h / 2;
            if (cx > img.w * 0.3f && cx < img.w * 0.7f && cy > img.h * 0.3f && cy < img.h * 0.7f) {
                found++;
                break;
            }
        }
        mf_img_free(&img);
    }
    tu_names_free(names, n);
    printf("  LFW sample: central face found in %d of %d images\n", found, tried);
    assert_true(tried >= 50);
    assert_true(found >= tried * 0.98);
}


/* Small faces in a large photo: LFW faces scaled so the face is about `side` px wide, pasted on a 1920x1080
 * textured canvas; the pipeline must find them (the requirement: faces down to about 24 px in a 1920 px photo). */
static int small_faces_found(int side, int *placed) {
    char root[1024];
    snprintf(root, sizeof root, "%s/lfw", tu_data_dir());
    static const char *people[] = {"George_W_Bush", "Colin_Powell", "Tony_Blair", "Donald_Rumsfeld",
                                   "Gerhard_Schroeder", "Ariel_Sharon", "Hugo_Chavez", "Junichiro_Koizumi",
                                   "Jean_Chretien", "John_Ashcroft"};
    enum { N = sizeof people / sizeof *people };
    mf_img canvas;
    assert_int_equal(mf_img_init(&canvas, 1920, 1080, 3), MF_OK);
    unsigned r = 7;
    for (size_t i = 0; i < (size_t)canvas.w * canvas.h * 3; i++) {
        r = r * 1103515245u + 12345u;
        canvas.data[i] = (uint8_t)(90 + ((i / 3 / 40) % 7) * 12 + (r >> 28));
    }
    float cx[N], cy[N];
    *placed = 0;
    for (int k = 0; k < N; k++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s/%s_0001.jpg", root, people[k], people[k]);
        mf_img img, crop, small;
        if (mf_img_load(p, NULL, &img, NULL)) continue;
        /* LFW deep-funneled: the face spans roughly the central 100 px of 250; keep some context around it */
        assert_int_equal(mf_img_crop(&img, 45, 45, 160, 160, &crop), MF_OK);
        int s = side * 160 / 100;
        assert_int_equal(mf_img_resize(&crop, s, s, &small), MF_OK);
        int x0 = 100 + (k % 5) * 360, y0 = 150 + (k / 5) * 500;
        for (int y = 0; y < s; y++) memcpy(canvas.data + ((size_t)(y0 + y) * canvas.w + x0) * 3, small.data + (size_t)y * s * 3, (size_t)s * 3);
        cx[*placed] = x0 + s / 2.0f, cy[*placed] = y0 + s / 2.0f;
        (*placed)++;
        mf_img_free(&img);
        mf_img_free(&crop);
        mf_img_free(&small);
    }
    static mf_face faces[64];
    int n = 0, found = 0;
    assert_int_equal(mf_face_analyze(an, &canvas, faces, 64, &n), MF_OK);
    for (int k = 0; k < *placed; k++)
        for (int i = 0; i < n; i++) {
            const mf_face_box *b = &faces[i].det;
            if (cx[k] > b->x && cx[k] < b->x + b->w && cy[k] > b->y && cy[k] < b->y + b->h) {
                found++;
                break;
            }
        }
    printf("  faces of ~%d px in a 1920x1080 photo: %d of %d found, %d detections\n", side, found, *placed, n);
    if (side == 40 && n >= 2) {
        /* every face or an error, never a silent cut: a buffer one short is refused, analyze_all gives them all */
        int m = -1;
        assert_int_equal(mf_face_analyze(an, &canvas, faces, n - 1, &m), MF_ERR_LIMIT);
        assert_int_equal(m, 0);
        const mf_face *all;
        assert_int_equal(mf_face_analyze_all(an, &canvas, &all, &m), MF_OK);
        assert_int_equal(m, n);
        assert_memory_equal(&all[0].det, &faces[0].det, sizeof faces[0].det);
    }
    mf_img_free(&canvas);
    return found;
}

static void test_small_faces(void **state) {
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/lfw", tu_data_dir());
    if (!tu_exists(root)) {
        printf("  skipped: %s not present\n", root);
        skip();
    }
    int placed;
    int found = small_faces_found(24, &placed);
    assert_true(placed >= 8);
    assert_true(found >= placed - 1);
    found = small_faces_found(40, &placed);
    assert_true(found >= placed - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_photos),
        cmocka_unit_test(test_tiles_on_two_threads),
        cmocka_unit_test(test_lfw_sample),
        cmocka_unit_test(test_small_faces),
    };
    return cmocka_run_group_tests_name("face_detect", tests, setup, teardown);
}
