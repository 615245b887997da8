/* Face attributes: gender of clearly labelled LFW identities with the default (chosen) models, plausible ages,
 * determinism, rotation invariance of the crop, every model of the registry, and bad inputs. LFW tests skip
 * when ../shared/data is absent; the others use the demo photos of the models folder. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/testutil.h"
#include "mfmc/analyze.h"
#include "mfmc/attrib.h"

static mf_nn_pool_t *pool;
static mf_face_detector_t *det;
static mf_face_attrib_t *attr; /* default models */
static char root[1024];

static int setup(void **state) {
    (void)state;
    snprintf(root, sizeof root, "%s", tu_models_dir());
    if (mf_nn_pool_create(2, &pool)) return -1;
    mf_face_detect_opts o = {0};
    o.pool = pool;
    if (mf_face_detector_create(root, &o, &det) || mf_face_attrib_create(root, pool, NULL, &attr)) {
        fprintf(stderr, "setup: %s (run make setup)\n", mf_error_get());
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    mf_face_attrib_free(attr);
    mf_face_detector_free(det);
    mf_nn_pool_free(pool);
    return 0;
}

/* Loads `path` and detects the face nearest the image centre. Returns 0 if the file is absent. */
static int load_face(const char *path, mf_img *img, mf_face_box *box) {
    if (!tu_exists(path)) return 0;
    assert_int_equal(mf_img_load(path, NULL, img, NULL), MF_OK);
    mf_face_box f[16];
    int n;
    assert_int_equal(mf_face_detect(det, img, f, 16, &n), MF_OK);
    assert_true(n >= 1);
    *box = f[tu_box_nearest_centre(f, n, img->w, img->h, NULL)];
    return 1;
}

static int lfw_face(const char *name, int idx, mf_img *img, mf_face_box *box) {
    char p[2048];
    snprintf(p, sizeof p, "%s/lfw/%s/%s_%04d.jpg", tu_data_dir(), name, name, idx);
    return load_face(p, img, box);
}

static const struct {
    const char *name;
    mf_gender g;
} clear[] = {
    {"George_W_Bush", MF_GENDER_MALE},      {"Colin_Powell", MF_GENDER_MALE},
    {"Tony_Blair", MF_GENDER_MALE},         {"Vladimir_Putin", MF_GENDER_MALE},
    {"Gerhard_Schroeder", MF_GENDER_MALE},  {"Andre_Agassi", MF_GENDER_MALE},
    {"Serena_Williams", MF_GENDER_FEMALE},  {"Laura_Bush", MF_GENDER_FEMALE},
    {"Jennifer_Lopez", MF_GENDER_FEMALE},   {"Angelina_Jolie", MF_GENDER_FEMALE},
    {"Hillary_Clinton", MF_GENDER_FEMALE},  {"Gloria_Macapagal_Arroyo", MF_GENDER_FEMALE},
};

static void test_lfw_gender(void **state) {
    (void)state;
    int tried = 0, right = 0;
    for (size_t i = 0; i < sizeof clear / sizeof *clear; i++) {
        mf_img img;
        mf_face_box b;
        if (!lfw_face(clear[i].name, 1, &img, &b)) continue;
        mf_face_attributes a;
        assert_int_equal(mf_face_attrib_estimate(attr, &img, &b, &a), MF_OK);
        printf("  %-24s %-6s %.2f  age %.1f  (%s / %s)\n", clear[i].name,
               a.gender == MF_GENDER_MALE ? "male" : a.gender == MF_GENDER_FEMALE ? "female" : "?", a.gender_score,
               a.age, a.gender_model, a.age_model);
        assert_true(a.gender_score >= 0.5f && a.gender_score <= 1.0f);
        assert_true(fabsf(a.gender_score - (a.gender == MF_GENDER_MALE ? a.p_male : 1 - a.p_male)) < 1e-6f);
        tried++;
        right += a.gender == clear[i].g;
        mf_img_free(&img);
    }
    if (!tried) {
        printf("  skipped: %s/lfw not present\n", tu_data_dir());
        skip();
    }
    assert_int_equal(right, tried);
}

/* Ages of adults in news photos: every estimate in 15..90, and the young tennis players younger than the
 * elderly politicians on average. */
static void test_lfw_age_plausible(void **state) {
    (void)state;
    static const char *young[] = {"Serena_Williams", "Lleyton_Hewitt", "Venus_Williams", "Kim_Clijsters"};
    static const char *old[] = {"Ariel_Sharon", "Hans_Blix", "Donald_Rumsfeld", "Jean_Chretien"};
    double sum[2] = {0, 0};
    int cnt[2] = {0, 0};
    for (int grp = 0; grp < 2; grp++)
        for (int i = 0; i < 4; i++)
            for (int k = 1; k <= 3; k++) {
                mf_img img;
                mf_face_box b;
                if (!lfw_face(grp ? old[i] : young[i], k, &img, &b)) continue;
                mf_face_attributes a;
                assert_int_equal(mf_face_attrib_estimate(attr, &img, &b, &a), MF_OK);
                assert_true(a.age >= 15 && a.age <= 90);
                sum[grp] += a.age, cnt[grp]++;
                mf_img_free(&img);
            }
    if (!cnt[0] || !cnt[1]) {
        printf("  skipped: %s/lfw not present\n", tu_data_dir());
        skip();
    }
    printf("  mean age: young group %.1f (%d photos), older group %.1f (%d photos)\n", sum[0] / cnt[0], cnt[0],
           sum[1] / cnt[1], cnt[1]);
    assert_true(sum[1] / cnt[1] > sum[0] / cnt[0] + 15);
}

static void demo_face(mf_img *img, mf_face_box *b) {
    char p[1024];
    snprintf(p, sizeof p, "%s/demo/sample1.jpg", tu_models_dir());
    assert_true(load_face(p, img, b));
}

static void test_determinism(void **state) {
    (void)state;
    mf_img img;
    mf_face_box b;
    demo_face(&img, &b);
    mf_face_attributes a1, a2, a3;
    assert_int_equal(mf_face_attrib_estimate(attr, &img, &b, &a1), MF_OK);
    assert_int_equal(mf_face_attrib_estimate(attr, &img, &b, &a2), MF_OK);
    /* a second handle without a pool gives the same numbers up to the threads' summation order */
    mf_face_attrib_t *h2;
    assert_int_equal(mf_face_attrib_create(root, NULL, NULL, &h2), MF_OK);
    assert_int_equal(mf_face_attrib_estimate(h2, &img, &b, &a3), MF_OK);
    assert_memory_equal(&a1.age, &a2.age, sizeof a1.age);
    assert_memory_equal(&a1.p_male, &a2.p_male, sizeof a1.p_male);
    assert_int_equal(a1.gender, a2.gender);
    assert_true(fabsf(a1.age - a3.age) < 0.01f && fabsf(a1.p_male - a3.p_male) < 1e-4f);
    assert_string_equal(a1.age_model, MF_FACE_ATTRIB_DEFAULT_AGE);
    assert_string_equal(a1.gender_model, MF_FACE_ATTRIB_DEFAULT_GENDER);
    printf("  demo face: age %.2f, p_male %.3f\n", a1.age, a1.p_male);
    mf_face_attrib_free(h2);
    mf_img_free(&img);
}

/* The image turned by 90 degrees with the box and keypoints turned with it: the crop, rotated by the roll,
 * is the same, so the estimate barely moves. */
static void test_rotation(void **state) {
    (void)state;
    mf_img img, rot;
    mf_face_box b;
    demo_face(&img, &b);
    assert_int_equal(mf_img_rotate90(&img, 1, &rot), MF_OK);
    mf_face_box r = b;
    float H = (float)img.h; /* clockwise: (x, y) -> (H - y, x) in pixel-edge coordinates */
    r.x = H - (b.y + b.h), r.y = b.x, r.w = b.h, r.h = b.w;
    for (int k = 0; k < MF_FACE_KP_COUNT; k++) r.kp[k][0] = H - b.kp[k][1], r.kp[k][1] = b.kp[k][0];
    r.roll = atan2f(r.kp[MF_FACE_KP_LEYE][1] - r.kp[MF_FACE_KP_REYE][1], r.kp[MF_FACE_KP_LEYE][0] - r.kp[MF_FACE_KP_REYE][0]);
    mf_face_attributes a, c;
    assert_int_equal(mf_face_attrib_estimate(attr, &img, &b, &a), MF_OK);
    assert_int_equal(mf_face_attrib_estimate(attr, &rot, &r, &c), MF_OK);
    printf("  upright: age %.2f p_male %.3f; turned: age %.2f p_male %.3f\n", a.age, a.p_male, c.age, c.p_male);
    assert_true(fabsf(a.age - c.age) < 1.0f);
    assert_true(fabsf(a.p_male - c.p_male) < 0.05f);
    mf_img_free(&rot);
    mf_img_free(&img);
}

/* Every registered model loads, runs alone and estimates what it says it does; model lists and "none". */
static void test_registry_models(void **state) {
    (void)state;
    assert_true(mf_face_attrib_model_count() >= 6);
    assert_null(mf_face_attrib_model_at(-1));
    assert_null(mf_face_attrib_model_at(mf_face_attrib_model_count()));
    assert_null(mf_face_attrib_model_find("nope"));
    assert_non_null(mf_face_attrib_model_find(MF_FACE_ATTRIB_DEFAULT_AGE));
    assert_non_null(mf_face_attrib_model_find(MF_FACE_ATTRIB_DEFAULT_GENDER));
    char ages[256] = "", genders[256] = "";
    for (int i = 0; i < mf_face_attrib_model_count(); i++) {
        const mf_face_attrib_model_info *m = mf_face_attrib_model_at(i);
        assert_true(m->has_age || m->has_gender);
        char *l = m->has_age ? ages : genders;
        if (m->has_age && m->has_gender && i % 2) l = genders;
        snprintf(l + strlen(l), 256 - strlen(l), "%s%s", *l ? "+" : "", m->name);
    }
    mf_face_attrib_opts o = {ages, genders};
    mf_face_attrib_t *h;
    assert_int_equal(mf_face_attrib_create(root, pool, &o, &h), MF_OK);
    mf_img img;
    mf_face_box b;
    demo_face(&img, &b);
    for (int i = 0; i < mf_face_attrib_model_count(); i++) {
        const mf_face_attrib_model_info *m = mf_face_attrib_model_at(i);
        mf_face_attributes a;
        assert_int_equal(mf_face_attrib_run_model(h, m->name, &img, &b, &a), MF_OK);
        printf("  %-20s age %5.1f  p_male %.3f\n", m->name, a.age, a.p_male);
        if (m->has_age) assert_true(a.age > 1 && a.age < 100);
        else assert_true(a.age == -1);
        if (m->has_gender) assert_true(a.gender != MF_GENDER_UNKNOWN && a.p_male >= 0 && a.p_male <= 1);
        else assert_int_equal(a.gender, MF_GENDER_UNKNOWN);
        mf_face_attrib_tuning t;
        assert_int_equal(mf_face_attrib_get_tuning(h, m->name, &t), MF_OK);
        assert_true(t.scale > 0.5f && t.scale < 4);
    }
    mf_face_attributes all;
    assert_int_equal(mf_face_attrib_estimate(h, &img, &b, &all), MF_OK);
    assert_string_equal(all.age_model, ages);
    assert_string_equal(all.gender_model, genders);
    assert_true(all.age > 1 && all.age < 100);
    mf_face_attrib_free(h);

    /* "none" for one attribute */
    mf_face_attrib_opts g_only = {"none", NULL};
    assert_int_equal(mf_face_attrib_create(root, NULL, &g_only, &h), MF_OK);
    assert_int_equal(mf_face_attrib_estimate(h, &img, &b, &all), MF_OK);
    assert_true(all.age == -1);
    assert_string_equal(all.age_model, "");
    assert_true(all.gender != MF_GENDER_UNKNOWN);
    assert_int_equal(mf_face_attrib_run_model(h, "gear", &img, &b, &all), MF_ERR_NOTFOUND);
    mf_face_attrib_free(h);
    mf_img_free(&img);
}

static void expect_arg_error(const mf_img *img, const mf_face_box *b, const char *what) {
    mf_face_attributes a;
    memset(&a, 0x55, sizeof a);
    int st = mf_face_attrib_estimate(attr, img, b, &a);
    printf("  %-26s -> %s: %s\n", what, mf_status_name(st), mf_error_get());
    assert_int_equal(st, MF_ERR_ARG);
    assert_true(a.age == -1 && a.gender == MF_GENDER_UNKNOWN && a.age_model && a.gender_model);
}

static void test_bad_inputs(void **state) {
    (void)state;
    mf_img img;
    mf_face_box good;
    demo_face(&img, &good);
    mf_face_box b = good;
    b.x = (float)img.w + 50; /* entirely right of the image */
    expect_arg_error(&img, &b, "box outside the image");
    b = good, b.y = -good.h - 10;
    expect_arg_error(&img, &b, "box above the image");
    b = good, b.w = 0;
    expect_arg_error(&img, &b, "zero width");
    b = good, b.w = b.h = 0;
    expect_arg_error(&img, &b, "zero-size box");
    b = good, b.h = -20;
    expect_arg_error(&img, &b, "negative height");
    b = good, b.x = NAN;
    expect_arg_error(&img, &b, "NaN x");
    b = good, b.roll = INFINITY;
    expect_arg_error(&img, &b, "infinite roll");
    b = good, b.w = b.h = 1e9f;
    expect_arg_error(&img, &b, "huge box");
    expect_arg_error(&img, NULL, "no box");
    expect_arg_error(NULL, &good, "no image");
    mf_img grey;
    assert_int_equal(mf_img_init(&grey, 64, 64, 1), MF_OK);
    b = (mf_face_box){.x = 10, .y = 10, .w = 40, .h = 40};
    expect_arg_error(&grey, &b, "grey image");
    mf_img_free(&grey);

    /* a box hanging over the border is fine (the outside reads as black); so is a tiny face in a tiny image */
    mf_face_attributes a;
    b = good, b.x = -good.w / 3;
    assert_int_equal(mf_face_attrib_estimate(attr, &img, &b, &a), MF_OK);
    assert_true(a.age > 0 && a.age < 100);
    mf_img tiny;
    assert_int_equal(mf_img_init(&tiny, 2, 2, 3), MF_OK);
    b = (mf_face_box){.x = 0, .y = 0, .w = 2, .h = 2};
    assert_int_equal(mf_face_attrib_estimate(attr, &tiny, &b, &a), MF_OK);
    assert_true(isfinite(a.age) && a.p_male >= 0 && a.p_male <= 1);
    mf_img_free(&tiny);

    /* unknown names, models without the attribute, bad tuning */
    mf_face_attrib_t *h = NULL;
    mf_face_attrib_opts o1 = {"gear+nope", NULL};
    assert_int_equal(mf_face_attrib_create(root, NULL, &o1, &h), MF_ERR_ARG);
    printf("  unknown model -> %s\n", mf_error_get());
    assert_null(h);
    mf_face_attrib_opts o2 = {"gender", NULL};
    assert_int_equal(mf_face_attrib_create(root, NULL, &o2, &h), MF_ERR_ARG);
    mf_face_attrib_opts o3 = {NULL, "age"};
    assert_int_equal(mf_face_attrib_create(root, NULL, &o3, &h), MF_ERR_ARG);
    mf_face_attrib_opts o4 = {"gear+", NULL};
    assert_int_equal(mf_face_attrib_create(root, NULL, &o4, &h), MF_ERR_ARG);
    assert_int_not_equal(mf_face_attrib_create("/nonexistent", NULL, NULL, &h), MF_OK);
    assert_null(h);
    mf_face_attrib_tuning t = {0};
    assert_int_equal(mf_face_attrib_set_tuning(attr, MF_FACE_ATTRIB_DEFAULT_AGE, &t), MF_ERR_ARG);
    assert_int_equal(mf_face_attrib_get_tuning(attr, "nope", &t), MF_ERR_NOTFOUND);
    mf_face_attrib_free(NULL);
    mf_img_free(&img);
}

/* The analyzer's deferred attributes (mf_face_analyze_geometry + mf_face_analyze_attributes, what the anonymizer's
 * checks run): the same faces as mf_face_analyze with no attributes, and per face exactly the attributes
 * mf_face_analyze gives it; none for a face whose centre is outside the image or from an analyzer without them. */
static void test_analyze_deferred(void **state) {
    (void)state;
    char p[2048];
    snprintf(p, sizeof p, "%s/demo/sample1.jpg", root);
    mf_img img;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    mf_face_analyzer_t *an = NULL, *bare = NULL;
    mf_face_analyzer_opts ao = {.pool = pool}, bo = {.pool = pool, .no_attributes = 1};
    assert_int_equal(mf_face_analyzer_create(root, &ao, &an), MF_OK);
    assert_int_equal(mf_face_analyzer_create(root, &bo, &bare), MF_OK);
    mf_face full[16], geo[16];
    int n = 0, m = 0;
    assert_int_equal(mf_face_analyze(an, &img, full, 16, &n), MF_OK);
    assert_true(n >= 2); /* the demo photo has several faces */
    assert_int_equal(mf_face_analyze_geometry(an, &img, geo, 16, &m), MF_OK);
    assert_int_equal(m, n);
    mf_face_analyzer_counts c;
    mf_face_analyzer_last_counts(an, &c);
    assert_int_equal(c.attribute_runs, 0);
    for (int i = 0; i < n; i++) {
        assert_memory_equal(&geo[i].det, &full[i].det, sizeof geo[i].det);
        assert_memory_equal(&geo[i].lm.box, &full[i].lm.box, sizeof geo[i].lm.box);
        assert_true(geo[i].attr.age < 0 && geo[i].attr.gender == MF_GENDER_UNKNOWN);
        assert_true(full[i].attr.age >= 0 && full[i].attr.gender != MF_GENDER_UNKNOWN);
    }
    for (int i = n - 1; i >= 0; i--) { /* any order, one face at a time */
        mf_face f = geo[i];
        assert_int_equal(mf_face_analyze_attributes(an, &img, &f), MF_OK);
        mf_face_analyzer_last_counts(an, &c);
        assert_int_equal(c.attribute_runs, 1);
        assert_memory_equal(&f.attr.age, &full[i].attr.age, sizeof f.attr.age);
        assert_memory_equal(&f.attr.p_male, &full[i].attr.p_male, sizeof f.attr.p_male);
        assert_int_equal(f.attr.gender, full[i].attr.gender);
        printf("  face %d: age %.1f p_male %.3f (as the full analysis)\n", i, f.attr.age, f.attr.p_male);
        f = full[i]; /* an analyzer without attributes leaves them unknown, overwriting what the record held */
        assert_int_equal(mf_face_analyze_attributes(bare, &img, &f), MF_OK);
        assert_true(f.attr.age < 0 && f.attr.gender == MF_GENDER_UNKNOWN);
    }
    mf_face out = geo[0]; /* centre outside the image: none */
    out.lm.box.x = -10.f * (float)img.w, out.det.x = out.lm.box.x;
    assert_int_equal(mf_face_analyze_attributes(an, &img, &out), MF_OK);
    assert_true(out.attr.age < 0);
    assert_int_equal(mf_face_analyze_attributes(an, NULL, &out), MF_ERR_ARG);
    assert_int_equal(mf_face_analyze_attributes(an, &img, NULL), MF_ERR_ARG);
    mf_face_analyzer_free(an), mf_face_analyzer_free(bare);
    mf_img_free(&img);
}

/* Attributes at known landmarks (mf_face_translate + mf_face_analyze_attributes, the anonymizer's feedback on a
 * drawn face without detecting it): every coordinate of a record moves by the offset, and the age and gender read
 * on a crop of the photo at the moved record are the full analysis's (the crop holds the whole attribute crop, so
 * the networks see the same pixels; only the float rounding of the moved box may differ). */
static void test_analyze_translated(void **state) {
    (void)state;
    char p[2048];
    snprintf(p, sizeof p, "%s/demo/sample1.jpg", root);
    mf_img img;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    mf_face_analyzer_t *an = NULL;
    mf_face_analyzer_opts ao = {.pool = pool};
    assert_int_equal(mf_face_analyzer_create(root, &ao, &an), MF_OK);
    mf_face full[16];
    int n = 0, tried = 0;
    assert_int_equal(mf_face_analyze(an, &img, full, 16, &n), MF_OK);
    assert_true(n >= 2);
    for (int i = 0; i < n; i++) {
        if (!full[i].has_landmarks) continue;
        const mf_face_box *b = &full[i].lm.box;
        float side = 1.6f * fmaxf(b->w, b->h); /* the region around the face: 1.6 face sizes from its centre */
        int x0 = (int)floorf(b->x + b->w / 2 - side), y0 = (int)floorf(b->y + b->h / 2 - side);
        int x1 = (int)ceilf(b->x + b->w / 2 + side), y1 = (int)ceilf(b->y + b->h / 2 + side);
        if (x0 < 0 || y0 < 0 || x1 > img.w || y1 > img.h) continue; /* the crop must hold the attribute crop */
        mf_img roi;
        assert_int_equal(mf_img_crop(&img, x0, y0, x1 - x0, y1 - y0, &roi), MF_OK);
        mf_face f = full[i];
        mf_face_translate(&f, -(float)x0, -(float)y0);
        float p5a[5][2], p5b[5][2];
        mf_face_5pt(&full[i], p5a), mf_face_5pt(&f, p5b);
        for (int k = 0; k < 5; k++) {
            assert_true(fabsf(p5b[k][0] - (p5a[k][0] - (float)x0)) < 1e-3f);
            assert_true(fabsf(p5b[k][1] - (p5a[k][1] - (float)y0)) < 1e-3f);
        }
        assert_true(fabsf(f.lm.box.x - (b->x - (float)x0)) < 1e-3f && fabsf(f.lm.box.y - (b->y - (float)y0)) < 1e-3f);
        assert_true(fabsf(f.det.x - (full[i].det.x - (float)x0)) < 1e-3f);
        assert_true(f.lm.box.w == b->w && f.lm.box.roll == b->roll && f.lm.yaw == full[i].lm.yaw);
        assert_int_equal(mf_face_analyze_attributes(an, &roi, &f), MF_OK);
        printf("  face %d: crop at (%d, %d): age %.2f / %.2f, p_male %.4f / %.4f\n", i, x0, y0, f.attr.age,
               full[i].attr.age, f.attr.p_male, full[i].attr.p_male);
        assert_true(fabsf(f.attr.age - full[i].attr.age) < 0.25f);
        assert_true(fabsf(f.attr.p_male - full[i].attr.p_male) < 0.01f);
        assert_int_equal(f.attr.gender, full[i].attr.gender);
        mf_face g = full[i]; /* not moved: read at the wrong place of the crop (or outside it) */
        assert_int_equal(mf_face_analyze_attributes(an, &roi, &g), MF_OK);
        assert_true(g.attr.age < 0 || fabsf(g.attr.age - full[i].attr.age) >= 0.25f ||
                    fabsf(g.attr.p_male - full[i].attr.p_male) >= 0.01f);
        mf_img_free(&roi);
        tried++;
    }
    assert_true(tried >= 1);
    mf_face_analyzer_free(an);
    mf_img_free(&img);
}

/* One network run (mf_face_attrib_estimate_one): with the default sets the age is mf_face_attrib_estimate's bit for
 * bit and the gender is the age model's (faceres-deep) own read-out; an age set without a gender output falls back
 * to the full estimate. */
static void test_estimate_one(void **state) {
    (void)state;
    char p[2048];
    snprintf(p, sizeof p, "%s/demo/sample1.jpg", root);
    mf_img img;
    mf_face_box b;
    assert_true(load_face(p, &img, &b));
    mf_face_attributes one, full, deep;
    assert_int_equal(mf_face_attrib_estimate_one(attr, &img, &b, &one), MF_OK);
    assert_int_equal(mf_face_attrib_estimate(attr, &img, &b, &full), MF_OK);
    assert_int_equal(mf_face_attrib_run_model(attr, "faceres-deep", &img, &b, &deep), MF_OK);
    printf("  one: age %.2f p_male %.4f (%s / %s); full: age %.2f p_male %.4f (%s / %s)\n", one.age, one.p_male,
           one.age_model, one.gender_model, full.age, full.p_male, full.age_model, full.gender_model);
    assert_memory_equal(&one.age, &full.age, sizeof one.age);
    assert_memory_equal(&one.p_male, &deep.p_male, sizeof one.p_male);
    assert_int_equal(one.gender, deep.gender);
    assert_string_equal(one.gender_model, "faceres-deep");
    assert_string_equal(full.gender_model, "faceres");
    mf_face_attrib_t *ssr = NULL; /* SSR-Net reads no gender: the full estimate */
    mf_face_attrib_opts o = {.age_model = "age"};
    assert_int_equal(mf_face_attrib_create(root, pool, &o, &ssr), MF_OK);
    assert_int_equal(mf_face_attrib_estimate_one(ssr, &img, &b, &one), MF_OK);
    assert_int_equal(mf_face_attrib_estimate(ssr, &img, &b, &full), MF_OK);
    assert_memory_equal(&one.age, &full.age, sizeof one.age);
    assert_memory_equal(&one.p_male, &full.p_male, sizeof one.p_male);
    assert_string_equal(one.gender_model, "faceres");
    b.w = 0;
    assert_int_equal(mf_face_attrib_estimate_one(attr, &img, &b, &one), MF_ERR_ARG);
    assert_true(one.age < 0 && one.gender == MF_GENDER_UNKNOWN);
    mf_face_attrib_free(ssr);
    mf_img_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyze_deferred), cmocka_unit_test(test_analyze_translated), cmocka_unit_test(test_estimate_one),
        cmocka_unit_test(test_lfw_gender),   cmocka_unit_test(test_lfw_age_plausible),
        cmocka_unit_test(test_determinism),  cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_registry_models), cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests_name("face_attrib", tests, setup, teardown);
}
