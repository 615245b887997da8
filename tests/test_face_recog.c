/* Face recognizers: registry and roles, alignment onto the ArcFace template, unit-norm embeddings, invariance to
 * a shifted or rotated face, genuine pairs above impostor pairs on an LFW subset, bad inputs. The accuracy
 * figures themselves come from eval/eval_lfw.c (docs/accuracy.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "face/align.h"
#include "lib/testutil.h"
#include "mfmc/face.h"

enum { MAX_REC = 16 };

static mf_face_detector_t *det;
static mf_face_mesher_t *mesher;
static mf_face_landmarks lm;
static mf_face_recognizer_t *rec[MAX_REC];
static int n_rec;
static mf_img demo;          /* models/demo/sample3.jpg */
static float demo_pts[5][2]; /* alignment points of its most frontal face */
static float demo_eye_dist;

/* The five alignment points as the analysis pipeline takes them: from the face mesh run on the detection. */
static void face_points(const mf_img *img, const mf_face_box *box, float pts[5][2]) {
    assert_int_equal(mf_face_mesher_run(mesher, img, box, &lm), MF_OK);
    mf_face_landmarks_5pt(&lm, pts);
}

static void points_of_best(const mf_img *img, float pts[5][2], int central) {
    mf_face_box f[32];
    int n = 0;
    assert_int_equal(mf_face_detect(det, img, f, 32, &n), MF_OK);
    assert_true(n >= 1);
    int best = 0;
    if (central)
        best = tu_box_nearest_centre(f, n, img->w, img->h, NULL);
    else /* the largest */
        for (int k = 1; k < n; k++)
            if (f[k].w * f[k].h > f[best].w * f[best].h) best = k;
    face_points(img, &f[best], pts);
}

/* RMS distance in crop pixels between the template and the points mapped into the crop; the template's eye
 * distance in *eye if not NULL. */
static float template_residual(const float pts[5][2], const mf_face_align_spec *spec, float *eye) {
    float tpl[5][2], m[6];
    mf_face_align_template(spec, tpl);
    if (mf_face_align_matrix(pts, spec, m)) return INFINITY;
    float det_m = m[0] * m[4] - m[1] * m[3], ms = 0;
    for (int k = 0; k < 5; k++) {
        float x = pts[k][0] - m[2], y = pts[k][1] - m[5];
        float cx = (m[4] * x - m[1] * y) / det_m, cy = (-m[3] * x + m[0] * y) / det_m;
        ms += ((cx - tpl[k][0]) * (cx - tpl[k][0]) + (cy - tpl[k][1]) * (cy - tpl[k][1])) / 5;
    }
    if (eye) *eye = tpl[1][0] - tpl[0][0];
    return sqrtf(ms);
}

static int setup(void **state) {
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_models_dir());
    if (mf_face_detector_create(dir, NULL, &det)) {
        fprintf(stderr, "detector: %s (run make setup)\n", mf_error_get());
        return -1;
    }
    if (mf_face_mesher_create(dir, NULL, 0, &mesher)) {
        fprintf(stderr, "mesh: %s (run make setup)\n", mf_error_get());
        return -1;
    }
    n_rec = mf_face_recognizer_count();
    if (n_rec > MAX_REC) return -1;
    for (int i = 0; i < n_rec; i++)
        if (mf_face_recognizer_create(tu_models_dir(), mf_face_recognizer_info_at(i)->name, NULL, &rec[i])) {
            fprintf(stderr, "recognizer: %s (run make setup)\n", mf_error_get());
            return -1;
        }
    snprintf(dir, sizeof dir, "%s/demo/sample3.jpg", tu_models_dir());
    if (mf_img_load(dir, NULL, &demo, NULL)) {
        fprintf(stderr, "%s\n", mf_error_get());
        return -1;
    }
    mf_face_box f[32];
    int n = 0;
    if (mf_face_detect(det, &demo, f, 32, &n) || n < 1) return -1;
    /* the most frontal face: smallest residual of its points against the template */
    float best = INFINITY;
    for (int k = 0; k < n; k++) {
        float pts[5][2];
        if (mf_face_mesher_run(mesher, &demo, &f[k], &lm)) return -1;
        mf_face_landmarks_5pt(&lm, pts);
        float r = template_residual(pts, mf_face_recognizer_default_spec("arcface"), NULL);
        if (r < best) best = r, memcpy(demo_pts, pts, sizeof pts);
    }
    demo_eye_dist = hypotf(demo_pts[1][0] - demo_pts[0][0], demo_pts[1][1] - demo_pts[0][1]);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < n_rec; i++) mf_face_recognizer_free(rec[i]);
    mf_face_mesher_free(mesher);
    mf_face_detector_free(det);
    mf_img_free(&demo);
    return 0;
}

static mf_face_recognizer_t *rec_named(const char *name) {
    for (int i = 0; i < n_rec; i++)
        if (!strcmp(mf_face_recognizer_info_of(rec[i])->name, name)) return rec[i];
    fail_msg("no recognizer %s", name);
    return NULL;
}

/* ------------------------------------------------------------------ registry */

static void test_registry(void **state) {
    (void)state;
    static const struct {
        const char *name;
        int dim;
    } want[] = {{"faceapi", 128},       {"arcface", 512},    {"faceres", 1024},
                {"faceres-deep", 1024}, {"mobileface", 256}, {"mobilefacenet", 192},
                {"mobilefacenet-tflite", 192}, {"lbp", 64}};
    enum { N_WANT = sizeof want / sizeof *want };
    assert_int_equal(mf_face_recognizer_count(), N_WANT);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const mf_face_recognizer_info *in = mf_face_recognizer_find(want[i].name);
        assert_non_null(in);
        assert_string_equal(in->name, want[i].name);
        assert_int_equal(in->dim, want[i].dim);
        assert_non_null(in->description);
        assert_ptr_equal(mf_face_recognizer_info_at((int)i), in);
        assert_non_null(mf_face_recognizer_default_spec(want[i].name));
        /* lbp learnt from LFW's development half: measured on folds 5-9 only (docs/recognizers.md) */
        assert_int_equal(in->lfw_test_fold, !strcmp(want[i].name, "lbp") ? 5 : 0);
    }
    assert_null(mf_face_recognizer_info_at(-1));
    assert_null(mf_face_recognizer_info_at(N_WANT));
    assert_null(mf_face_recognizer_find("dlib"));
    assert_null(mf_face_recognizer_find(NULL));
    /* roles: one primary (arcface, the most accurate on LFW; docs/accuracy.md), in the ensemble with faceapi */
    int primaries = 0;
    for (int i = 0; i < mf_face_recognizer_count(); i++) {
        const mf_face_recognizer_info *in = mf_face_recognizer_info_at(i);
        primaries += in->primary;
        if (in->primary) {
            assert_string_equal(in->name, "arcface");
            assert_true(in->ensemble);
        }
        if (in->ensemble || in->primary) {
            /* measured thresholds: a match threshold in (0, 1) and a dissimilarity bound not above it */
            assert_true(in->match_threshold > 0 && in->match_threshold < 1);
            assert_true(in->dissimilarity_threshold > -1 && in->dissimilarity_threshold <= in->match_threshold);
        }
        printf("  %-14s dim %4d primary %d ensemble %d match %.3f dissimilarity %.3f\n", in->name, in->dim,
               in->primary, in->ensemble, in->match_threshold, in->dissimilarity_threshold);
    }
    assert_int_equal(primaries, 1);
    assert_true(mf_face_recognizer_find("faceapi")->ensemble);
    assert_true(mf_face_recognizer_find("arcface")->ensemble);
    for (int i = 0; i < n_rec; i++) assert_ptr_equal(mf_face_recognizer_info_of(rec[i]), mf_face_recognizer_info_at(i));
}

/* ------------------------------------------------------------------ alignment */

static void apply(const float m[6], float x, float y, float *ox, float *oy) {
    *ox = m[0] * x + m[1] * y + m[2];
    *oy = m[3] * x + m[4] * y + m[5];
}

/* Template points moved by a known similarity come back exactly onto the template. */
static void test_align_exact(void **state) {
    (void)state;
    for (int i = 0; i < n_rec; i++) {
        const mf_face_align_spec *spec = mf_face_recognizer_spec(rec[i]);
        float tpl[5][2], pts[5][2], m[6];
        mf_face_align_template(spec, tpl);
        /* image point = s R(angle) tpl + t */
        float s = 1.7f, ang = spec->upright ? 0.0f : 0.3f, c = s * cosf(ang), sn = s * sinf(ang);
        for (int k = 0; k < 5; k++)
            pts[k][0] = c * tpl[k][0] - sn * tpl[k][1] + 40.5f, pts[k][1] = sn * tpl[k][0] + c * tpl[k][1] - 12.25f;
        assert_int_equal(mf_face_align_matrix((const float(*)[2])pts, spec, m), MF_OK);
        for (int k = 0; k < 5; k++) {
            float x, y;
            apply(m, tpl[k][0], tpl[k][1], &x, &y);
            assert_true(fabsf(x - pts[k][0]) < 1e-3f * s * spec->size && fabsf(y - pts[k][1]) < 1e-3f * s * spec->size);
        }
    }
    /* ArcFace framing at 112 px: the template itself */
    mf_face_align_spec a = {112, 0, 1.0f, 0.0f, 0, {0, 0, 0}, 1.0f, 0};
    float tpl[5][2];
    mf_face_align_template(&a, tpl);
    for (int k = 0; k < 5; k++)
        assert_true(fabsf(tpl[k][0] - mf_face_arcface_template[k][0]) < 1e-4f &&
                    fabsf(tpl[k][1] - mf_face_arcface_template[k][1]) < 1e-4f);
}

/* A detected face's five points land on the template within a small error (in crop pixels). */
static void test_align_detected(void **state) {
    (void)state;
    for (int i = 0; i < n_rec; i++) {
        const mf_face_align_spec *spec = mf_face_recognizer_spec(rec[i]);
        float eye, rms = template_residual((const float(*)[2])demo_pts, spec, &eye);
        printf("  %-14s %d px crop: template RMS error %.2f px (eye distance %.1f px)\n",
               mf_face_recognizer_info_of(rec[i])->name, spec->size, rms, eye);
        assert_true(rms < 0.12f * eye);
    }
}

/* ------------------------------------------------------------------ embeddings */

static void test_unit_norm(void **state) {
    (void)state;
    for (int i = 0; i < n_rec; i++) {
        const mf_face_recognizer_info *in = mf_face_recognizer_info_of(rec[i]);
        float *e = malloc((size_t)in->dim * sizeof *e), *e2 = malloc((size_t)in->dim * sizeof *e2);
        assert_int_equal(mf_face_recognizer_embed(rec[i], &demo, (const float(*)[2])demo_pts, e), MF_OK);
        assert_int_equal(mf_face_recognizer_embed(rec[i], &demo, (const float(*)[2])demo_pts, e2), MF_OK);
        double ss = 0;
        for (int k = 0; k < in->dim; k++) ss += (double)e[k] * e[k];
        assert_true(fabs(sqrt(ss) - 1.0) < 1e-4);
        assert_memory_equal(e, e2, (size_t)in->dim * sizeof *e);
        assert_true(fabsf(mf_face_similarity(e, e, in->dim) - 1.0f) < 1e-4f);
        free(e);
        free(e2);
    }
}

/* dst(x, y) = src(A^-1 (x, y)) for the affine map A (image -> moved image), black outside. */
static void move_image(const mf_img *src, const float A[6], mf_img *dst) {
    assert_int_equal(mf_img_init(dst, src->w, src->h, 3), MF_OK);
    float d = A[0] * A[4] - A[1] * A[3];
    float m[6] = {A[4] / d, -A[1] / d, 0, -A[3] / d, A[0] / d, 0};
    m[2] = -(m[0] * A[2] + m[1] * A[5]), m[5] = -(m[3] * A[2] + m[4] * A[5]);
    float *buf = malloc((size_t)src->w * src->h * 3 * sizeof *buf);
    mf_img_warp_to_float(src, m, src->w, src->h, 1.0f, 0.0f, 0.0f, buf);
    for (size_t i = 0; i < (size_t)src->w * src->h * 3; i++) dst->data[i] = (uint8_t)fminf(255, fmaxf(0, buf[i] + 0.5f));
    free(buf);
}

/* The same face shifted, or rotated and scaled, in the image: the alignment undoes it, so the embeddings agree
 * (points moved with the image; and re-detected, which adds the detector's keypoint noise). */
static void test_invariance(void **state) {
    (void)state;
    float cx = (demo_pts[0][0] + demo_pts[1][0]) / 2, cy = (demo_pts[0][1] + demo_pts[3][1]) / 2;
    float ang = 0.35f, sc = 1.15f, c = sc * cosf(ang), s = sc * sinf(ang);
    const float moves[2][6] = {
        {1, 0, 23, 0, 1, -17},
        {c, -s, cx - (c * cx - s * cy) + 9, s, c, cy - (s * cx + c * cy) - 6},
    };
    static const char *names[] = {"faceapi", "arcface"};
    for (int mv = 0; mv < 2; mv++) {
        mf_img moved;
        move_image(&demo, moves[mv], &moved);
        float pts[5][2], redet[5][2];
        for (int k = 0; k < 5; k++) apply(moves[mv], demo_pts[k][0], demo_pts[k][1], &pts[k][0], &pts[k][1]);
        /* re-detection: the face nearest the moved points */
        mf_face_box f[32];
        int n = 0, best = -1;
        assert_int_equal(mf_face_detect(det, &moved, f, 32, &n), MF_OK);
        float bd = 0;
        for (int k = 0; k < n; k++) {
            float dx = f[k].kp[MF_FACE_KP_NOSE][0] - pts[2][0], dy = f[k].kp[MF_FACE_KP_NOSE][1] - pts[2][1];
            if (best < 0 || dx * dx + dy * dy < bd) best = k, bd = dx * dx + dy * dy;
        }
        assert_true(best >= 0);
        face_points(&moved, &f[best], redet);
        for (int r = 0; r < 2; r++) {
            mf_face_recognizer_t *R = rec_named(names[r]);
            int dim = mf_face_recognizer_info_of(R)->dim;
            float *e0 = malloc((size_t)dim * sizeof(float)), *e1 = malloc((size_t)dim * sizeof(float)),
                  *e2 = malloc((size_t)dim * sizeof(float));
            assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])demo_pts, e0), MF_OK);
            assert_int_equal(mf_face_recognizer_embed(R, &moved, (const float(*)[2])pts, e1), MF_OK);
            assert_int_equal(mf_face_recognizer_embed(R, &moved, (const float(*)[2])redet, e2), MF_OK);
            float s1 = mf_face_similarity(e0, e1, dim), s2 = mf_face_similarity(e0, e2, dim);
            printf("  %-8s %s: cosine %.4f (points moved with the image), %.4f (re-detected)\n", names[r],
                   mv ? "rotated 20 deg, scaled 1.15" : "shifted (23, -17) px", s1, s2);
            assert_true(s1 > 0.98f);
            assert_true(s2 > 0.90f);
            free(e0);
            free(e1);
            free(e2);
        }
        mf_img_free(&moved);
    }
}

/* ------------------------------------------------------------------ LFW subset */

/* 40 pairs of lfw-pairs.tsv (every 100th: about half genuine): for each recognizer the genuine pairs score
 * above the impostor pairs on average, and the ranking is good (ROC AUC) for the ensemble members. */
static void test_lfw_subset(void **state) {
    (void)state;
    char path[2048];
    snprintf(path, sizeof path, "%s/lfw-pairs.tsv", tu_data_dir());
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("  skipped: %s not present\n", path);
        skip();
    }
    enum { N = 40 };
    char line[2048], a[N][512], b[N][512];
    int same[N], n = 0, row = 0;
    while (n < N && fgets(line, sizeof line, f)) {
        int fold;
        if (sscanf(line, "%511[^\t]\t%511[^\t]\t%d\t%d", a[n], b[n], &same[n], &fold) != 4) continue;
        if (row++ % 100 == 0) n++;
    }
    fclose(f);
    assert_int_equal(n, N);
    float *score = calloc((size_t)n_rec * N, sizeof *score);
    int ok[N] = {0};
    for (int p = 0; p < N; p++) {
        mf_img ia, ib;
        float pa[5][2], pb[5][2];
        snprintf(path, sizeof path, "%s/%s", tu_data_dir(), a[p]);
        assert_int_equal(mf_img_load(path, NULL, &ia, NULL), MF_OK);
        snprintf(path, sizeof path, "%s/%s", tu_data_dir(), b[p]);
        assert_int_equal(mf_img_load(path, NULL, &ib, NULL), MF_OK);
        mf_face_box fb[16];
        int na = 0, nb = 0;
        mf_face_detect(det, &ia, fb, 16, &na);
        mf_face_detect(det, &ib, fb, 16, &nb);
        if (na > 0 && nb > 0) {
            ok[p] = 1;
            points_of_best(&ia, pa, 1);
            points_of_best(&ib, pb, 1);
            for (int i = 0; i < n_rec; i++) {
                int dim = mf_face_recognizer_info_of(rec[i])->dim;
                float *ea = malloc((size_t)dim * sizeof(float)), *eb = malloc((size_t)dim * sizeof(float));
                assert_int_equal(mf_face_recognizer_embed(rec[i], &ia, (const float(*)[2])pa, ea), MF_OK);
                assert_int_equal(mf_face_recognizer_embed(rec[i], &ib, (const float(*)[2])pb, eb), MF_OK);
                score[i * N + p] = mf_face_similarity(ea, eb, dim);
                free(ea);
                free(eb);
            }
        }
        mf_img_free(&ia);
        mf_img_free(&ib);
    }
    int used = 0;
    for (int p = 0; p < N; p++) used += ok[p];
    double mean_g[MAX_REC], mean_i[MAX_REC], auc[MAX_REC];
    int n_g = 0, n_i = 0;
    for (int i = 0; i < n_rec; i++) {
        const mf_face_recognizer_info *in = mf_face_recognizer_info_of(rec[i]);
        double gs = 0, is = 0;
        int ng = 0, ni = 0, above = 0, cmp = 0, correct = 0;
        for (int p = 0; p < N; p++) {
            if (!ok[p]) continue;
            if (same[p]) gs += score[i * N + p], ng++;
            else is += score[i * N + p], ni++;
            correct += (score[i * N + p] > in->match_threshold) == (same[p] != 0);
            for (int q = 0; q < N; q++)
                if (ok[q] && same[p] && !same[q]) cmp++, above += score[i * N + p] > score[i * N + q];
        }
        n_g = ng, n_i = ni;
        mean_g[i] = ng ? gs / ng : 0, mean_i[i] = ni ? is / ni : 0, auc[i] = cmp ? (double)above / cmp : 0;
        printf("  %-14s genuine mean %.4f, impostor mean %.4f, AUC %.3f, correct at the match threshold %d/%d\n",
               in->name, mean_g[i], mean_i[i], auc[i], correct, ng + ni);
    }
    free(score);
    assert_true(used >= N - 2);
    assert_true(n_g >= 10 && n_i >= 10);
    for (int i = 0; i < n_rec; i++) {
        const mf_face_recognizer_info *in = mf_face_recognizer_info_of(rec[i]);
        assert_true(mean_g[i] > mean_i[i]);
        /* mobilefacenet's output is almost constant whatever the face (near chance on LFW, docs/accuracy.md); lbp
         * is the classical recognizer (0.84 on LFW's test half, docs/recognizers.md: 0.909 here), chance is 0.5 */
        double min_auc = in->ensemble ? 0.95 : !strcmp(in->name, "mobilefacenet") ? 0.55 : !strcmp(in->name, "lbp") ? 0.85 : 0.9;
        assert_true(auc[i] >= min_auc);
    }
}

/* ------------------------------------------------------------------ bad inputs */

static void test_bad_inputs(void **state) {
    (void)state;
    mf_face_recognizer_t *r = (mf_face_recognizer_t *)1;
    assert_int_equal(mf_face_recognizer_create(tu_models_dir(), "nope", NULL, &r), MF_ERR_NOTFOUND);
    assert_null(r);
    assert_true(mf_face_recognizer_create("/nonexistent", "faceapi", NULL, &r) < 0);
    assert_null(r);
    assert_true(mf_face_recognizer_create(NULL, "faceapi", NULL, &r) < 0);
    mf_face_align_spec bad = *mf_face_recognizer_default_spec("mobileface");
    bad.size = 64;
    assert_int_equal(mf_face_recognizer_create_spec(tu_models_dir(), "mobileface", &bad, NULL, &r), MF_ERR_ARG);
    mf_face_recognizer_free(NULL);

    mf_face_recognizer_t *R = rec_named("mobileface");
    float e[256];
    float pts[5][2];
    memcpy(pts, demo_pts, sizeof pts);
    /* zero-size and non-RGB images */
    mf_img empty = {0, 0, 3, NULL};
    assert_int_equal(mf_face_recognizer_embed(R, &empty, (const float(*)[2])pts, e), MF_ERR_ARG);
    mf_img grey = {demo.w, demo.h, 1, demo.data};
    assert_int_equal(mf_face_recognizer_embed(R, &grey, (const float(*)[2])pts, e), MF_ERR_ARG);
    assert_int_equal(mf_face_recognizer_embed(R, NULL, (const float(*)[2])pts, e), MF_ERR_ARG);
    assert_int_equal(mf_face_recognizer_embed(R, &demo, NULL, e), MF_ERR_ARG);
    /* non-finite, coinciding, far-away points */
    pts[2][0] = NAN;
    assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])pts, e), MF_ERR_ARG);
    pts[2][0] = INFINITY;
    assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])pts, e), MF_ERR_ARG);
    for (int k = 0; k < 5; k++) pts[k][0] = pts[k][1] = 10.0f;
    assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])pts, e), MF_ERR_ARG);
    for (int k = 0; k < 5; k++) pts[k][0] = demo_pts[k][0] + 1e5f, pts[k][1] = demo_pts[k][1];
    assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])pts, e), MF_ERR_ARG);
    for (int k = 0; k < 5; k++) pts[k][0] = demo_pts[k][0] - 3e9f, pts[k][1] = demo_pts[k][1] * 1e30f;
    assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])pts, e), MF_ERR_ARG);
    /* a face partly outside the image (cut by the top-left corner) still embeds */
    for (int k = 0; k < 5; k++) pts[k][0] = demo_pts[k][0] - demo_pts[2][0], pts[k][1] = demo_pts[k][1] - demo_pts[2][1];
    assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])pts, e), MF_OK);
    /* a tiny face (eyes 2 px apart) and a 1x1 image */
    for (int k = 0; k < 5; k++) pts[k][0] = 100 + (demo_pts[k][0] - demo_pts[0][0]) * 2 / demo_eye_dist,
                                pts[k][1] = 100 + (demo_pts[k][1] - demo_pts[0][1]) * 2 / demo_eye_dist;
    assert_int_equal(mf_face_recognizer_embed(R, &demo, (const float(*)[2])pts, e), MF_OK);
    mf_img one;
    assert_int_equal(mf_img_init(&one, 1, 1, 3), MF_OK);
    one.data[0] = 200;
    float p1[5][2] = {{0, 0}, {1, 0}, {0.5f, 0.5f}, {0.1f, 1}, {0.9f, 1}};
    int st = mf_face_recognizer_embed(R, &one, (const float(*)[2])p1, e);
    assert_true(st == MF_OK || st == MF_ERR_FORMAT);
    mf_img_free(&one);
    assert_int_equal(mf_face_recognizer_embed(NULL, &demo, (const float(*)[2])demo_pts, e), MF_ERR_ARG);
    assert_null(mf_face_recognizer_info_of(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),    cmocka_unit_test(test_align_exact), cmocka_unit_test(test_align_detected),
        cmocka_unit_test(test_unit_norm),   cmocka_unit_test(test_invariance),  cmocka_unit_test(test_lfw_subset),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests_name("face_recog", tests, setup, teardown);
}
