/* Privacy detection (issue 11): the mapping of boxes found in a turned image back to the image, the merge of the
 * passes (exact checks on small synthetic cases), and end to end a demo photo turned by 90 degrees, where privacy
 * mode finds the 3 faces of the upright photo and meshes them in their own frame (roll turned by 90 degrees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "lib/testutil.h"
#include "tools/privacy-set-common.h"
#include "mfmc/analyze.h"
#include "mfmc/privacy.h"
#include "face/privacy_int.h"
#include "face/internal.h"

/* A pool of two threads and over it the normal and the privacy-mode analyser (no attributes), as most cases here
 * compare the two modes; analysers_free frees all three. */
static void analysers_create(mf_nn_pool_t **pool, mf_face_analyzer_t **normal, mf_face_analyzer_t **priv) {
    assert_int_equal(mf_nn_pool_create(2, pool), MF_OK);
    mf_face_analyzer_opts no = {.pool = *pool, .no_attributes = 1},
                          po = {.pool = *pool, .no_attributes = 1, .privacy = 1};
    assert_int_equal(mf_face_analyzer_create(tu_models_dir(), &no, normal), MF_OK);
    assert_int_equal(mf_face_analyzer_create(tu_models_dir(), &po, priv), MF_OK);
}

static void analysers_free(mf_nn_pool_t *pool, mf_face_analyzer_t *normal, mf_face_analyzer_t *priv) {
    mf_face_analyzer_free(normal);
    mf_face_analyzer_free(priv);
    mf_nn_pool_free(pool);
}

/* A pixel marked in a 7x5 image, turned by mf_img_rotate90: the 1x1 box and keypoint at the marked pixel of the
 * turned image map back exactly onto the original pixel, for every number of turns. */
static void test_unrotate_matches_rotate90(void **state) {
    (void)state;
    const int W = 7, H = 5, X = 2, Y = 1;
    mf_img img;
    assert_int_equal(mf_img_init(&img, W, H, 3), MF_OK);
    img.data[((size_t)Y * W + X) * 3] = 255;
    for (int q = -1; q <= 4; q++) {
        mf_img t;
        assert_int_equal(mf_img_rotate90(&img, q, &t), MF_OK);
        int fx = -1, fy = -1;
        for (int y = 0; y < t.h; y++)
            for (int x = 0; x < t.w; x++)
                if (t.data[((size_t)y * t.w + x) * 3]) fx = x, fy = y;
        assert_true(fx >= 0);
        mf_face_box b = {(float)fx, (float)fy, 1, 1, 0.9f, {{0}}, 0};
        for (int k = 0; k < MF_FACE_KP_COUNT; k++)
            b.kp[k][0] = (float)fx + 0.5f, b.kp[k][1] = (float)fy + 0.5f;
        mf_face_box_unrotate(&b, q, W, H);
        assert_float_equal(b.x, X, 1e-6);
        assert_float_equal(b.y, Y, 1e-6);
        assert_float_equal(b.w, 1, 1e-6);
        assert_float_equal(b.h, 1, 1e-6);
        assert_float_equal(b.kp[MF_FACE_KP_NOSE][0], X + 0.5f, 1e-6);
        assert_float_equal(b.kp[MF_FACE_KP_NOSE][1], Y + 0.5f, 1e-6);
        assert_float_equal(b.score, 0.9f, 0);
        mf_img_free(&t);
    }
    mf_img_free(&img);
}

/* Eyes level in the turned image (roll 0 there) are at roll -turns * 90 degrees in the image; the pass roll of
 * the mapped box is 0 again. */
static void test_unrotate_roll_full_circle(void **state) {
    (void)state;
    const float deg = 180.0f / (float)M_PI;
    for (int q = 0; q < 4; q++) {
        mf_face_box b = {40, 40, 20, 20, 0.9f, {{0}}, 0};
        b.kp[MF_FACE_KP_REYE][0] = 45, b.kp[MF_FACE_KP_REYE][1] = 48;
        b.kp[MF_FACE_KP_LEYE][0] = 55, b.kp[MF_FACE_KP_LEYE][1] = 48;
        mf_face_box_unrotate(&b, q, 100, 80);
        float want = remainderf(-90.0f * (float)q, 360.0f);
        if (want <= -180.0f) want += 360.0f;
        assert_float_equal(b.roll * deg, want, 1e-3);
        assert_float_equal(mf_face_box_pass_roll(&b, q) * deg, 0, 1e-3);
    }
}

static mf_face_box box_at(float x, float y, float side, float score, float roll_deg) {
    mf_face_box b = {x, y, side, side, score, {{0}}, roll_deg * (float)M_PI / 180.0f};
    return b;
}

static void test_merge_prefers_upright_pass(void **state) {
    (void)state;
    mf_face_candidate out[8];
    int n;
    /* a face lying on its side (roll 90): pass 0 scores it higher but sees it sideways; pass 3 (the image turned
     * 270 degrees clockwise) sees it upright and wins */
    mf_face_box c1[2] = {box_at(100, 100, 50, 0.9f, 90), box_at(102, 101, 50, 0.8f, 90)};
    int t1[2] = {0, 3};
    assert_int_equal(mf_face_candidates_merge(c1, t1, 2, 0.3f, out, &n), MF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].turns, 3);
    assert_float_equal(out[0].box.x, 102, 0);
    assert_int_equal(out[0].passes, 2);
    assert_int_equal(out[0].has_alt, 0);
    /* an upside-down face: pass 0 reports it upright (eyes swapped, roll 0, lower score), pass 2 sees it the right
     * way up (roll 180 in the image); pass 2 wins and pass 0's reading is the alternative orientation */
    mf_face_box c2[2] = {box_at(10, 10, 40, 0.7f, 0), box_at(11, 10, 40, 0.9f, 180)};
    int t2[2] = {0, 2};
    assert_int_equal(mf_face_candidates_merge(c2, t2, 2, 0.3f, out, &n), MF_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].turns, 2);
    assert_float_equal(out[0].box.score, 0.9f, 0);
    assert_int_equal(out[0].has_alt, 1);
    assert_int_equal(out[0].alt_turns, 0);
    assert_float_equal(out[0].alt.x, 10, 0);
}

static void test_merge_keeps_distinct_faces(void **state) {
    (void)state;
    mf_face_candidate out[8];
    int n;
    /* three faces (one seen by two passes), ordered by weight; touching boxes are not merged */
    mf_face_box c[4] = {box_at(0, 0, 20, 0.6f, 0), box_at(20, 0, 20, 0.95f, 0), box_at(300, 300, 30, 0.8f, -90),
                        box_at(301, 300, 30, 0.85f, -90)};
    int t[4] = {0, 0, 1, 0};
    assert_int_equal(mf_face_candidates_merge(c, t, 4, 0.3f, out, &n), MF_OK);
    assert_int_equal(n, 3);
    assert_float_equal(out[0].box.x, 20, 0);
    assert_float_equal(out[1].box.x, 300, 0); /* pass 1 sees the roll -90 face upright: weight 0.8 */
    assert_int_equal(out[1].turns, 1);
    assert_int_equal(out[1].passes, 2);
    assert_float_equal(out[2].box.x, 0, 0);
    assert_int_equal(mf_face_candidates_merge(c, t, 0, 0.3f, out, &n), MF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(mf_face_candidates_merge(NULL, t, 2, 0.3f, out, &n), MF_ERR_ARG);
}

/* A crowd of candidates on a grid, each seen by two passes: one face per cell. */
static void test_merge_crowd(void **state) {
    (void)state;
    enum { N = 1000 };
    mf_face_box *c = malloc(2 * N * sizeof *c);
    int *t = malloc(2 * N * sizeof *t);
    mf_face_candidate *out = malloc(2 * N * sizeof *out);
    assert_non_null(c), assert_non_null(t), assert_non_null(out);
    for (int i = 0; i < N; i++) {
        float x = (float)(i % 40) * 30, y = (float)(i / 40) * 30;
        c[2 * i] = box_at(x, y, 24, 0.8f, 0), t[2 * i] = 0;
        c[2 * i + 1] = box_at(x + 1, y + 1, 24, 0.7f, 0), t[2 * i + 1] = 2;
    }
    int n;
    assert_int_equal(mf_face_candidates_merge(c, t, 2 * N, 0.3f, out, &n), MF_OK);
    assert_int_equal(n, N);
    for (int i = 0; i < n; i++)
        assert_int_equal(out[i].passes, 2);
    free(c), free(t), free(out);
}

/* sample1 (3 faces) turned by 90 degrees clockwise: privacy mode finds the 3 faces, confirmed, each with the roll
 * of the upright analysis plus 90 degrees (within 10). */
static void test_demo_turned_90(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/demo/sample1.jpg", tu_models_dir());
    if (!tu_exists(p)) skip();
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    mf_img img, turned;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    assert_int_equal(mf_img_rotate90(&img, 1, &turned), MF_OK);
    const mf_face *up, *pf;
    int nu, np;
    assert_int_equal(mf_face_analyze_all(normal, &img, &up, &nu), MF_OK);
    assert_int_equal(nu, 3);
    float want[3][3]; /* centre in the turned image, roll */
    for (int i = 0; i < 3; i++) {
        float cx = up[i].det.x + up[i].det.w / 2, cy = up[i].det.y + up[i].det.h / 2;
        want[i][0] = (float)img.h - cy, want[i][1] = cx, want[i][2] = up[i].lm.roll + 90.0f;
    }
    assert_int_equal(mf_face_analyze_all(priv, &turned, &pf, &np), MF_OK);
    int confirmed = 0;
    for (int k = 0; k < np; k++)
        confirmed += pf[k].confirmed;
    printf("  turned sample1: %d faces, %d confirmed\n", np, confirmed);
    assert_int_equal(confirmed, 3);
    for (int i = 0; i < 3; i++) {
        int found = 0;
        for (int k = 0; k < np; k++) {
            const mf_face *f = &pf[k];
            float cx = f->det.x + f->det.w / 2, cy = f->det.y + f->det.h / 2;
            if (!f->confirmed || hypotf(cx - want[i][0], cy - want[i][1]) > 0.3f * f->det.w) continue;
            float d = fabsf(remainderf(f->lm.roll - want[i][2], 360.0f));
            printf("  face %d: roll %.1f, upright %.1f + 90\n", i, f->lm.roll, want[i][2] - 90.0f);
            assert_true(d <= 10.0f);
            found = 1;
        }
        assert_true(found);
    }
    mf_img_free(&img);
    mf_img_free(&turned);
    analysers_free(pool, normal, priv);
}

/* Faces read the wrong way round must never be painted (issue 11, stop 13's anonymize check; docs/detection.md,
 * "Branch orient14"): rot210/0025 and rot240/0047 of the privacy set, rebuilt here from ../shared/data, were read
 * upside down by privacy mode with mesh flags 0.993 and 0.999 (+30 for a truth of -151, +59 for -123) and painted
 * in that frame; rot30/0002 was read -150 for +30 (its mesh upside down and mirrored, flag 1.000). Each face must
 * still be reported (found), and a confirmed record on it (one that gets a synthetic face) must have the truth's
 * roll within 20 degrees; otherwise it is left to the fallback (way_up_doubtful). */
static void test_wrong_way_round_never_painted(void **state) {
    (void)state;
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    static const struct {
        int idx;
        float deg;
    } cases[3] = {{25, 210}, {47, 240}, {2, 30}};
    int ran = 0;
    for (int k = 0; k < 3; k++) {
        mf_img img;
        float truth[4] = {0};
        int got = ps_rotated_ffhq(tu_data_dir(), normal, cases[k].idx, cases[k].deg, &img, truth);
        assert_true(got >= 0);
        if (!got) continue;
        ran++;
        const mf_face *pf;
        int np, found = 0;
        assert_int_equal(mf_face_analyze_all(priv, &img, &pf, &np), MF_OK);
        for (int i = 0; i < np; i++) {
            const mf_face *f = &pf[i];
            float cx = f->det.x + f->det.w / 2, cy = f->det.y + f->det.h / 2;
            /* on the face: centred inside its truth box (as eval_privacy counts a face found) */
            if (fabsf(cx - truth[0]) > truth[3] / 2 || fabsf(cy - truth[1]) > truth[3] / 2) continue;
            found = 1;
            float d = f->confirmed ? fabsf(remainderf(f->lm.roll - truth[2], 360.0f)) : 0;
            printf("  ffhq #%d turned %.0f: %s, roll %.1f, truth %.1f\n", cases[k].idx, cases[k].deg,
                   f->confirmed ? "painted" : f->way_up_doubtful ? "fallback (way up in doubt)" : "fallback",
                   f->confirmed ? f->lm.roll : f->det.roll * 180.0f / (float)M_PI, truth[2]);
            assert_true(d <= 20.0f);
        }
        assert_true(found);
        mf_img_free(&img);
    }
    if (!ran) skip();
    analysers_free(pool, normal, priv);
}

/* No face painted on a non-face (issue 11; docs/detection.md, "Branch fp20"): rot30/0001 of the privacy set, rebuilt
 * here from ../shared/data (FFHQ photo 1 turned by 30 degrees, JPEG 95 as the set's), has a 35 px candidate on the
 * "SPORTS" badge of the boy's shirt (detector 0.344, mesh flag 0.988) that main confirmed: the anonymizer painted a
 * synthetic face on it. The boy's face must still be found and confirmed, and no record away from it (centred outside
 * his truth box) may be confirmed; the badge may stay as a non-face candidate (the fallback blurs it). */
static void test_badge_not_painted(void **state) {
    (void)state;
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    mf_img img;
    float truth[4] = {0};
    int got = ps_rotated_ffhq(tu_data_dir(), normal, 1, 30.0f, &img, truth);
    assert_true(got >= 0);
    if (!got) {
        analysers_free(pool, normal, priv);
        skip();
    }
    const mf_face *pf;
    int np, face_confirmed = 0, painted_elsewhere = 0, badge_seen = 0;
    assert_int_equal(mf_face_analyze_all(priv, &img, &pf, &np), MF_OK);
    for (int i = 0; i < np; i++) {
        const mf_face *f = &pf[i];
        float cx = f->det.x + f->det.w / 2, cy = f->det.y + f->det.h / 2;
        int on_face = fabsf(cx - truth[0]) <= truth[3] / 2 && fabsf(cy - truth[1]) <= truth[3] / 2;
        /* the badge: the 35 px box at (20, 387) of the 512 px picture */
        badge_seen |= fabsf(cx - 37.5f) < 20 && fabsf(cy - 404.5f) < 20;
        printf("  record %d: %.0f px at %.0f,%.0f, detector %.3f, %s%s\n", i, f->det.w, f->det.x, f->det.y,
               f->det.score, f->confirmed ? "confirmed (painted)" : "fallback", on_face ? ", on the face" : "");
        if (on_face) face_confirmed |= f->confirmed;
        else painted_elsewhere += f->confirmed;
    }
    printf("  badge reported: %s\n", badge_seen ? "yes" : "no");
    assert_true(face_confirmed);
    assert_int_equal(painted_elsewhere, 0);
    mf_img_free(&img);
    analysers_free(pool, normal, priv);
}

/* The keep rules of privacy mode (privacy.c), on the cases that set them (docs/detection.md): which candidates get a
 * synthetic face (paintable), which the non-face fallback (kept unconfirmed), which are dropped. */
static mf_face cand_face(float det, float mesh, float x) {
    mf_face f;
    memset(&f, 0, sizeof f);
    f.det = (mf_face_box){x, 20, 80, 80, det, {{0}}, 0};
    f.lm.score = mesh;
    f.has_landmarks = 1;
    return f;
}

static void test_keep_rules(void **state) {
    (void)state;
    mf_img img = {0};
    img.w = 384, img.h = 384, img.c = 3;
    /* a grid face the detector scores 0.34, the mesh 0.996: painted */
    mf_face f = cand_face(0.34f, 0.996f, 100);
    assert_true(mf_face_privacy_paintable(&f, &img));
    /* a sure face (0.9) with a flag of 0.82: painted; the same with a low detector score (0.38): dropped */
    f = cand_face(0.9f, 0.82f, 100);
    assert_true(mf_face_privacy_paintable(&f, &img));
    f = cand_face(0.38f, 0.82f, 100);
    assert_false(mf_face_privacy_paintable(&f, &img));
    assert_false(mf_face_privacy_keep_unconfirmed(&f, &img));
    /* the face-free crop's badge cut by the right border (half its box outside): detector 0.52, flag 0.81 */
    f = cand_face(0.519f, 0.807f, 349);
    assert_false(mf_face_privacy_paintable(&f, &img));
    assert_false(mf_face_privacy_keep_unconfirmed(&f, &img));
    /* a cut face the mesh accepts weakly (0.76) with a detector score of 0.69: the fallback covers it */
    f = cand_face(0.693f, 0.759f, 349);
    assert_false(mf_face_privacy_paintable(&f, &img));
    assert_true(mf_face_privacy_keep_unconfirmed(&f, &img));
    /* a small face the detector doubts (24 px, 0.46: the microphone logo of rot30/0052, flag 0.963): not painted,
     * covered by the fallback; from a flag of 0.97 painted; a sure small face (0.9) is painted from 0.8 */
    f = cand_face(0.456f, 0.963f, 100);
    f.det.w = f.det.h = 24;
    assert_false(mf_face_privacy_paintable(&f, &img));
    assert_true(mf_face_privacy_keep_unconfirmed(&f, &img));
    f.lm.score = 0.99f;
    assert_true(mf_face_privacy_paintable(&f, &img));
    f.det.score = 0.9f, f.lm.score = 0.82f;
    assert_true(mf_face_privacy_paintable(&f, &img));
    /* mesh rejects (0.2): kept from a detector score of 0.7, dropped below */
    f = cand_face(0.75f, 0.2f, 100);
    assert_true(mf_face_privacy_keep_unconfirmed(&f, &img));
    f = cand_face(0.65f, 0.2f, 100);
    assert_false(mf_face_privacy_keep_unconfirmed(&f, &img));
    /* the candidate's own evidence (mf_face_privacy_keep_candidate, branch recall14): cutb50/0013, a 355 px box 0.84
     * found by all four passes, whose record took the alternative reading (0.68, flag 0.02): kept, with its own box */
    mf_face_candidate c;
    memset(&c, 0, sizeof c);
    c.box = (mf_face_box){119, 121, 353, 355, 0.837f, {{0}}, 0};
    c.passes = 4;
    f = cand_face(0.675f, 0.021f, 100);
    assert_false(mf_face_privacy_keep_unconfirmed(&f, &img));
    assert_true(mf_face_privacy_keep_candidate(&c, &f, &img));
    assert_true(f.det.x == 119.0f && f.det.score == 0.837f);
    /* cut by the border, found by 3 passes: kept from 0.6 (cutt40/0002: 0.69), not the face-free crops' 0.586 */
    c.box = (mf_face_box){300, 200, 142, 142, 0.586f, {{0}}, 0};
    c.passes = 3;
    f = cand_face(0.478f, 0.242f, 300);
    assert_false(mf_face_privacy_keep_candidate(&c, &f, &img));
    c.box.score = 0.62f;
    assert_true(mf_face_privacy_keep_candidate(&c, &f, &img));
    /* ... all four passes: from 0.5 (cutt40/0071: 0.545); the same candidate whole inside the picture: dropped */
    c.box.score = 0.545f, c.passes = 4;
    assert_true(mf_face_privacy_keep_candidate(&c, &f, &img));
    c.box.x = 100;
    assert_false(mf_face_privacy_keep_candidate(&c, &f, &img));
    /* the second look at a cut candidate (branch cut15): wanted for a candidate cut by the border scoring from 0.45
     * found by two passes (from 0.5 by one), the view centred on its box, its side, its roll; kept from an upright
     * score of 0.6 (cutt50/0013: 0.62; the face-free crops' border candidates: at most 0.57; sample3's knee, 0.465
     * from one pass, 0.59: not looked at) */
    float cx, cy, side, roll, frac;
    c.box = (mf_face_box){98, -111, 270, 270, 0.558f, {{0}}, 0};
    c.passes = 2;
    assert_true(mf_face_privacy_cut_look(&c, &img, &cx, &cy, &side, &roll, &frac));
    assert_true(cx == 233.0f && cy == 24.0f && side == 270.0f && roll == 0.0f && frac > 0);
    f = cand_face(0.558f, 0.34f, 300);
    assert_false(mf_face_privacy_keep_cut_look(&c, &f, 0.50f));
    assert_true(mf_face_privacy_keep_cut_look(&c, &f, 0.62f));
    assert_true(f.det.y == -111.0f);
    c.box.score = 0.44f;
    assert_false(mf_face_privacy_cut_look(&c, &img, &cx, &cy, &side, &roll, &frac));
    c.box.score = 0.465f, c.passes = 1;
    assert_false(mf_face_privacy_cut_look(&c, &img, &cx, &cy, &side, &roll, &frac));
    c.box.score = 0.584f;
    assert_true(mf_face_privacy_cut_look(&c, &img, &cx, &cy, &side, &roll, &frac));
    assert_false(mf_face_privacy_keep_cut_look(&c, &f, 0.59f));
    c.box.score = 0.558f, c.box.y = 50;
    assert_false(mf_face_privacy_cut_look(&c, &img, &cx, &cy, &side, &roll, &frac));
    /* a zoomed detection of a larger weak box (branch small16): sample1 turned by 90 degrees, the lace on the dress,
     * 16 px, 0.70, mesh flag 0.30, which the score rule alone keeps: dropped; the same with the mesh's acceptance or
     * from a score of 0.8, or found by a pass or by the small-face zoom: left to the rules above */
    memset(&c, 0, sizeof c);
    c.box = (mf_face_box){442, 494, 16, 16, 0.703f, {{0}}, 0};
    c.passes = 1;
    c.found_by = MF_PRIVACY_FROM_ZOOM_BIG;
    f = cand_face(0.703f, 0.300f, 442);
    assert_true(mf_face_privacy_keep_unconfirmed(&f, &img));
    assert_true(mf_face_privacy_zoom_unsure(&c, &f));
    f.lm.score = 0.6f;
    assert_false(mf_face_privacy_zoom_unsure(&c, &f));
    f.lm.score = 0.3f, f.has_landmarks = 0;
    assert_true(mf_face_privacy_zoom_unsure(&c, &f));
    c.box.score = 0.81f;
    assert_false(mf_face_privacy_zoom_unsure(&c, &f));
    c.box.score = 0.703f, c.found_by = MF_PRIVACY_FROM_ZOOM;
    assert_false(mf_face_privacy_zoom_unsure(&c, &f));
    c.found_by = MF_PRIVACY_FROM_PASS;
    assert_false(mf_face_privacy_zoom_unsure(&c, &f));
}

/* The small-face cascade (privacy.c, ZOOM_*): sample1 scaled so its 3 faces are 16 px wide, on a grey 800 x 600
 * picture. A zoomed tile (mf_face_detect_zoom) centred on each face maps its detection back onto the face (box
 * within IOU 0.4 of the scaled upright detection), and the privacy detector finds all 3 with at least one zoomed
 * tile run. */
static float iou4(const mf_face_box *a, const float b[4]) {
    float x0 = fmaxf(a->x, b[0]), y0 = fmaxf(a->y, b[1]);
    float x1 = fminf(a->x + a->w, b[0] + b[2]), y1 = fminf(a->y + a->h, b[1] + b[3]);
    float inter = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0), uni = a->w * a->h + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0;
}

static void test_zoom_small_faces(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/demo/sample1.jpg", tu_models_dir());
    if (!tu_exists(p)) skip();
    mf_face_analyzer_opts no = {.no_attributes = 1};
    mf_face_analyzer_t *normal;
    assert_int_equal(mf_face_analyzer_create(tu_models_dir(), &no, &normal), MF_OK);
    mf_img img, small, pic;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    const mf_face *up;
    int nu;
    assert_int_equal(mf_face_analyze_all(normal, &img, &up, &nu), MF_OK);
    assert_int_equal(nu, 3);
    float side = 0;
    for (int i = 0; i < 3; i++)
        side += up[i].det.w / 3.0f;
    float s = 16.0f / side;
    int sw = (int)lroundf((float)img.w * s), sh = (int)lroundf((float)img.h * s), ox = 120, oy = 90;
    assert_true(sw + ox <= 800 && sh + oy <= 600);
    assert_int_equal(mf_img_resize(&img, sw, sh, &small), MF_OK);
    assert_int_equal(mf_img_init(&pic, 800, 600, 3), MF_OK);
    memset(pic.data, 128, (size_t)800 * 600 * 3);
    for (int y = 0; y < sh; y++)
        memcpy(pic.data + ((size_t)(y + oy) * 800 + ox) * 3, small.data + (size_t)y * sw * 3, (size_t)sw * 3);
    float want[3][4];
    for (int i = 0; i < 3; i++) {
        /* scaled by the resize's own factors (pixel edges map onto pixel edges) */
        float fx = (float)sw / (float)img.w, fy = (float)sh / (float)img.h;
        want[i][0] = up[i].det.x * fx + (float)ox, want[i][1] = up[i].det.y * fy + (float)oy;
        want[i][2] = up[i].det.w * fx, want[i][3] = up[i].det.h * fy;
    }
    mf_face_detector_t *det;
    assert_int_equal(mf_face_detector_create(tu_models_dir(), NULL, &det), MF_OK);
    for (int i = 0; i < 3; i++) {
        const mf_face_box *z;
        int nz;
        float cx = want[i][0] + 0.5f * want[i][2] + 7.0f, cy = want[i][1] + 0.5f * want[i][3] - 5.0f; /* off centre */
        assert_int_equal(mf_face_detect_zoom(det, &pic, cx, cy, 24.0f / want[i][2], 0.3f, &z, &nz), MF_OK);
        float best = 0;
        for (int k = 0; k < nz; k++)
            best = fmaxf(best, iou4(&z[k], want[i]));
        printf("  face %d (%.1f px): %d zoomed detections, best IOU %.2f\n", i, want[i][2], nz, best);
        assert_true(best >= 0.4f);
    }
    mf_face_privacy_detector_t *pd;
    assert_int_equal(mf_face_privacy_detector_create(tu_models_dir(), NULL, &pd), MF_OK);
    const mf_face_candidate *c;
    int nc;
    assert_int_equal(mf_face_privacy_detect(pd, &pic, &c, &nc), MF_OK);
    printf("  privacy detection: %d candidates, %d zoomed tiles\n", nc, mf_face_privacy_detector_last_zooms(pd));
    assert_true(mf_face_privacy_detector_last_zooms(pd) >= 1);
    for (int i = 0; i < 3; i++) {
        float best = 0;
        for (int k = 0; k < nc; k++)
            best = fmaxf(best, iou4(&c[k].box, want[i]));
        assert_true(best >= 0.4f);
    }
    /* bad regions are refused */
    const mf_face_box *z;
    int nz;
    assert_int_equal(mf_face_detect_zoom(det, &pic, 10, 10, 0, 0.3f, &z, &nz), MF_ERR_ARG);
    assert_int_equal(mf_face_detect_zoom(det, &pic, NAN, 10, 1, 0.3f, &z, &nz), MF_ERR_ARG);
    mf_face_privacy_detector_free(pd);
    mf_face_detector_free(det);
    mf_img_free(&img);
    mf_img_free(&small);
    mf_img_free(&pic);
    mf_face_analyzer_free(normal);
}


/* The dedup (privacy.c): a confirmed record more than half inside a confirmed face's mesh box is a duplicate when
 * the two detections are centred close together (the head around a face), but two confirmed faces whose detections
 * lie apart are both kept however much their meshes overlap (LFW Andre_Lange_0001: the middle face's mesh spread
 * over the face beside it, and one of the two real faces was dropped). */
static mf_face dedup_face(float dx, float dy, float dside, float mx, float my, float mw, float mh, float flag) {
    mf_face f;
    memset(&f, 0, sizeof f);
    f.det = (mf_face_box){dx, dy, dside, dside, 0.8f, {{0}}, 0};
    f.lm.box = (mf_face_box){mx, my, mw, mh, 0.8f, {{0}}, 0};
    f.lm.score = flag;
    f.has_landmarks = 1;
    f.confirmed = 1;
    return f;
}

/* dedup_face with the mesh's roll and the detector's score set (the part-of-head rule reads both). */
static mf_face dedup_posed(float dx, float dy, float dside, float mx, float my, float mw, float mh, float flag,
                           float roll, float score) {
    mf_face f = dedup_face(dx, dy, dside, mx, my, mw, mh, flag);
    f.lm.roll = roll, f.det.score = score;
    return f;
}

static void test_dedup_side_by_side(void **state) {
    (void)state;
    mf_face faces[2];
    /* the Andre_Lange_0001 case: detections 58 px apart (side 107-109), middle face's mesh 160 px wide */
    faces[0] = dedup_face(80, 81, 107, 75, 58, 160, 144, 1.0f);
    faces[1] = dedup_face(132, 55, 109, 147, 58, 101, 123, 0.999f);
    assert_int_equal(mf_face_privacy_dedup(faces, 2), 2);
    /* a head-sized detection around the same face (centre 10 px away): a duplicate, the higher flag stays */
    faces[0] = dedup_face(80, 81, 107, 85, 80, 100, 110, 0.999f);
    faces[1] = dedup_face(70, 66, 130, 84, 78, 102, 112, 1.0f);
    assert_int_equal(mf_face_privacy_dedup(faces, 2), 1);
    assert_float_equal(faces[0].lm.score, 1.0f, 0);
}

/* A detection of a part of a face's head (rot60/0004: the eye and temple of a close-up turned by 60 degrees, 163 px
 * beside the 270 px face; noise/0024: a boy's ear, 122 px beside the 296 px face; both with mesh flags over 0.98) is
 * not a second face, whichever of the two the mesh scores higher; two faces of a size side by side still are, and
 * so are small faces beside a larger, less sure detection (grid1000). */
static void test_dedup_part_of_head(void **state) {
    (void)state;
    mf_face faces[2];
    faces[0] = dedup_posed(74, 146, 270, 42, 116, 347, 328, 1.0f, 59.9f, 0.81f);
    faces[1] = dedup_posed(306, 173, 163, 306, 168, 152, 166, 0.991f, 29.6f, 0.40f);
    assert_int_equal(mf_face_privacy_dedup(faces, 2), 1);
    assert_float_equal(faces[0].det.w, 270, 0);
    /* the part scored higher by the mesh: still the face stays */
    faces[0] = dedup_posed(306, 173, 163, 306, 168, 152, 166, 1.0f, 29.6f, 0.40f);
    faces[1] = dedup_posed(74, 146, 270, 42, 116, 347, 328, 0.995f, 59.9f, 0.81f);
    assert_int_equal(mf_face_privacy_dedup(faces, 2), 1);
    assert_float_equal(faces[0].det.w, 270, 0);
    faces[0] = dedup_posed(110, 134, 296, 135, 150, 275, 287, 1.0f, 1.8f, 0.90f);
    faces[1] = dedup_posed(373, 170, 122, 361, 186, 97, 109, 0.981f, -6.9f, 0.66f);
    assert_int_equal(mf_face_privacy_dedup(faces, 2), 1);
    assert_float_equal(faces[0].det.w, 296, 0);
    /* grid1000: a 78 px detection scoring 0.44 between two 40 px grid faces (0.72, 0.87) is not a face they are
     * parts of: all three stay (the faces' meshes inside the large one's) */
    mf_face grid[3];
    grid[0] = dedup_posed(605, 273, 78, 600, 268, 88, 90, 0.986f, 0, 0.44f);
    grid[1] = dedup_posed(590, 270, 38, 590, 268, 38, 40, 1.0f, 0, 0.72f);
    grid[2] = dedup_posed(590, 333, 37, 590, 330, 37, 40, 1.0f, 0, 0.87f);
    assert_int_equal(mf_face_privacy_dedup(grid, 3), 3);
    /* a smaller face (0.65 of the size) cheek to cheek with a face, centres 0.8 of its side apart, the larger face's
     * mesh spread over it: two faces */
    faces[0] = dedup_face(100, 100, 200, 90, 80, 330, 230, 1.0f);
    faces[1] = dedup_face(295, 150, 130, 295, 140, 130, 140, 0.999f);
    assert_int_equal(mf_face_privacy_dedup(faces, 2), 2);
}

/* A candidate the dedup would drop as a duplicate of a confirmed face whatever its mesh says is not meshed
 * (mf_face_privacy_covered, det13): the same face's other detections and the parts of its head are covered; a face
 * beside it (Andre_Lange_0001, cheek to cheek), small faces beside a less sure large detection (grid1000) and
 * anything next to an unconfirmed record are not. */
static void test_covered_before_mesh(void **state) {
    (void)state;
    mf_face g[2];
    /* Andre_Lange_0001: the middle face's mesh spreads over the face beside it */
    g[0] = dedup_face(80, 81, 107, 75, 58, 160, 144, 1.0f);
    g[1] = dedup_face(132, 55, 109, 147, 58, 101, 123, 0.999f);
    assert_false(mf_face_privacy_covered(g, 1, &g[1].det));
    /* a head-sized detection around the same face */
    g[0] = dedup_face(80, 81, 107, 85, 80, 100, 110, 0.999f);
    g[1] = dedup_face(70, 66, 130, 84, 78, 102, 112, 1.0f);
    assert_true(mf_face_privacy_covered(g, 1, &g[1].det));
    /* ... not when the face is not confirmed (its record may be dropped or blurred: the candidate is meshed) */
    g[0].confirmed = 0;
    assert_false(mf_face_privacy_covered(g, 1, &g[1].det));
    /* rot60/0004: a part of the head, centred apart from the face's detection */
    g[0] = dedup_posed(74, 146, 270, 42, 116, 347, 328, 1.0f, 59.9f, 0.81f);
    g[1] = dedup_posed(306, 173, 163, 306, 168, 152, 166, 0.991f, 29.6f, 0.40f);
    assert_true(mf_face_privacy_covered(g, 1, &g[1].det));
    /* noise/0024's ear: its detection lies mostly outside the face's mesh box (only its own mesh box, known after the
     * mesh run, lies half inside): meshed, and the dedup decides */
    g[0] = dedup_posed(110, 134, 296, 135, 150, 275, 287, 1.0f, 1.8f, 0.90f);
    g[1] = dedup_posed(373, 170, 122, 361, 186, 97, 109, 0.981f, -6.9f, 0.66f);
    assert_false(mf_face_privacy_covered(g, 1, &g[1].det));
    /* grid1000: the 40 px faces beside a 78 px detection scoring 0.44 */
    g[0] = dedup_posed(605, 273, 78, 600, 268, 88, 90, 0.986f, 0, 0.44f);
    g[1] = dedup_posed(590, 270, 38, 590, 268, 38, 40, 1.0f, 0, 0.72f);
    assert_false(mf_face_privacy_covered(g, 1, &g[1].det));
    /* a smaller face cheek to cheek with a face whose mesh spreads over it */
    g[0] = dedup_face(100, 100, 200, 90, 80, 330, 230, 1.0f);
    g[1] = dedup_face(295, 150, 130, 295, 140, 130, 140, 0.999f);
    assert_false(mf_face_privacy_covered(g, 1, &g[1].det));
    /* every covered case above is one the dedup drops: checked by test_dedup_side_by_side / _part_of_head */
}

/* Border mode frames each pyramid level by 32 network pixels of mirrored image; with narrow frames allowed (privacy
 * mode's turned passes), by 24 on an axis where that needs a row or column of tiles fewer (detect.c, BORDER_MIN_PX;
 * det13): a 144 x 96 level is one 192 px tile instead of two (its faces up to 40 network pixels still show whole when
 * 40% inside); privacy mode on a 1920 x 1537 photo (sample6's size) runs 102 upright tiles and 3 x 9 turned ones
 * instead of 3 x 13. */
static void test_border_frame_tiles(void **state) {
    (void)state;
    mf_img img;
    assert_int_equal(mf_img_init(&img, 144, 96, 3), MF_OK);
    memset(img.data, 128, (size_t)144 * 96 * 3);
    mf_face_detect_opts o = {NULL, 12, 0.3f, 0, NULL, 1, 1};
    mf_face_detector_t *d;
    assert_int_equal(mf_face_detector_create(tu_models_dir(), &o, &d), MF_OK);
    const mf_face_box *b;
    int n;
    /* levels 1 (144 x 96: two tiles with the full frame), 0.67 (the whole image at half the input) and 0.33 (the
     * border level): one tile each with narrow frames allowed */
    assert_int_equal(mf_face_detect_all(d, &img, &b, &n), MF_OK);
    assert_int_equal(mf_face_detector_last_tiles(d), 4);
    mf_face_detector_set_narrow_frame(d, 1);
    assert_int_equal(mf_face_detect_all(d, &img, &b, &n), MF_OK);
    assert_int_equal(mf_face_detector_last_tiles(d), 3);
    mf_face_detector_free(d);
    mf_img_free(&img);
    assert_int_equal(mf_img_init(&img, 1920, 1537, 3), MF_OK);
    memset(img.data, 128, (size_t)1920 * 1537 * 3);
    mf_face_privacy_detector_t *pd;
    assert_int_equal(mf_face_privacy_detector_create(tu_models_dir(), NULL, &pd), MF_OK);
    const mf_face_candidate *c;
    assert_int_equal(mf_face_privacy_detect(pd, &img, &c, &n), MF_OK);
    assert_int_equal(mf_face_privacy_detector_last_zooms(pd), 0);
    /* the turned passes' levels 1 (6 tiles), 0.4, 0.133 (ratio17: f0, 0.267, left out) */
    assert_int_equal(mf_face_privacy_detector_last_tiles(pd), 102 + 3 * 8);
    mf_face_privacy_detector_free(pd);
    mf_img_free(&img);
}

/* Sparse levels (branch ratio17): the turned passes' level f0 (the whole image at half the input) is left out when the
 * level before it holds the whole framed image in one tile within 3x of the border level. A 360 x 240 level (a 1920 x
 * 1280 photo's turned passes): levels 1 (6 tiles), 0.4, 0.267 (f0), 0.133: 9 tiles, 8 with sparse levels. Kept where
 * the level before f0 needs two tiles (full frames: 144 x 96 framed by 32 is 208 px wide) and where no level lies
 * between the finest and f0 (280 x 210: levels 1, 0.34, 0.17). Then a close-up turned by
 * 90 degrees (sample1's first face, about 1000 px in a 1280 x 1920 picture) is still found and confirmed with its
 * roll. */
static void test_sparse_turned_levels(void **state) {
    (void)state;
    mf_face_detect_opts o = {NULL, 12, 0.3f, 0, NULL, 1, 1};
    mf_face_detector_t *d;
    assert_int_equal(mf_face_detector_create(tu_models_dir(), &o, &d), MF_OK);
    static const int sizes[2][2] = {{360, 240}, {280, 210}};
    /* tiles: [size][narrow][sparse] */
    static const int want[2][2][2] = {{{10, 10}, {9, 8}}, {{8, 8}, {6, 6}}};
    for (int s = 0; s < 2; s++) {
        mf_img img;
        assert_int_equal(mf_img_init(&img, sizes[s][0], sizes[s][1], 3), MF_OK);
        memset(img.data, 128, (size_t)img.w * img.h * 3);
        for (int narrow = 0; narrow < 2; narrow++)
            for (int sparse = 0; sparse < 2; sparse++) {
                mf_face_detector_set_narrow_frame(d, narrow);
                mf_face_detector_set_sparse_levels(d, sparse);
                const mf_face_box *b;
                int n;
                assert_int_equal(mf_face_detect_all(d, &img, &b, &n), MF_OK);
                printf("  %d x %d narrow %d sparse %d: %d tiles\n", img.w, img.h, narrow, sparse,
                       mf_face_detector_last_tiles(d));
                assert_int_equal(mf_face_detector_last_tiles(d), want[s][narrow][sparse]);
            }
        mf_img_free(&img);
    }
    mf_face_detector_free(d);

    char p[1024];
    snprintf(p, sizeof p, "%s/demo/sample1.jpg", tu_models_dir());
    if (!tu_exists(p)) skip();
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    mf_img img, big, turned;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    const mf_face *up, *pf;
    int nu, np;
    assert_int_equal(mf_face_analyze_all(normal, &img, &up, &nu), MF_OK);
    assert_true(nu >= 1);
    /* 2.2 x 1.47 face sides around the first face, scaled to 1920 x 1280: the face about 870 px */
    float side = fmaxf(up[0].det.w, up[0].det.h), cx = up[0].det.x + up[0].det.w / 2, cy = up[0].det.y + up[0].det.h / 2;
    int cw = (int)(2.2f * side), ch = (cw * 2) / 3, x0 = (int)(cx - cw / 2), y0 = (int)(cy - ch / 2);
    assert_true(x0 >= 0 && y0 >= 0 && x0 + cw <= img.w && y0 + ch <= img.h);
    mf_img crop;
    assert_int_equal(mf_img_crop(&img, x0, y0, cw, ch, &crop), MF_OK);
    assert_int_equal(mf_img_resize(&crop, 1920, 1280, &big), MF_OK);
    float roll = up[0].lm.roll;
    assert_int_equal(mf_img_rotate90(&big, 1, &turned), MF_OK);
    assert_int_equal(mf_face_analyze_all(priv, &turned, &pf, &np), MF_OK);
    int found = 0;
    for (int i = 0; i < np; i++) {
        const mf_face *f = &pf[i];
        printf("  close-up turned: face %d at %.0f,%.0f side %.0f, confirmed %d, roll %.1f (upright %.1f + 90)\n", i,
               f->det.x + f->det.w / 2, f->det.y + f->det.h / 2, fmaxf(f->det.w, f->det.h), f->confirmed, f->lm.roll,
               roll);
        if (f->confirmed && fmaxf(f->det.w, f->det.h) > 500 && fabsf(remainderf(f->lm.roll - roll - 90.0f, 360.0f)) <= 10.0f)
            found = 1;
    }
    assert_true(found);
    mf_img_free(&crop);
    mf_img_free(&big);
    mf_img_free(&turned);
    mf_img_free(&img);
    analysers_free(pool, normal, priv);
}

/* The dedup keeps an unconfirmed face around a confirmed part of it (branch recall14): cutr60/0041, a 348 px candidate
 * scoring 0.87 (the mesh rejects the cut face; kept for the fallback, box clipped to the 292 px wide picture) holding
 * a 99 px detection of its mouth and chin (0.71, flag 1.00). On main the unconfirmed face was the "duplicate" (the
 * part lies wholly inside it) and the face was published unchanged. A head box around a sure face is still dropped:
 * it scores lower than the face. */
static void test_dedup_face_around_part(void **state) {
    (void)state;
    mf_face f[2];
    f[0] = dedup_posed(81, 271, 99, 75, 262, 112, 112, 1.0f, 0, 0.706f);
    memset(&f[1], 0, sizeof f[1]);
    f[1].det = (mf_face_box){84, 103, 208, 350, 0.871f, {{0}}, 0};
    assert_int_equal(mf_face_privacy_dedup(f, 2), 2);
    /* the same unconfirmed box scoring under the part (a head box around a face): a duplicate */
    f[0] = dedup_posed(81, 271, 99, 75, 262, 112, 112, 1.0f, 0, 0.9f);
    memset(&f[1], 0, sizeof f[1]);
    f[1].det = (mf_face_box){84, 103, 208, 350, 0.871f, {{0}}, 0};
    assert_int_equal(mf_face_privacy_dedup(f, 2), 1);
    assert_true(f[0].confirmed);
}

/* A face cut by the border that main's privacy mode published unchanged (branch recall14, docs/detection.md): the
 * privacy set's cutb50/0013 (FFHQ ffhq_0026.jpg, a three-quarter profile, yaw -47, cut by the bottom border with 50%
 * of its box visible), built here as privacy-set builds it (the normal analysis's central face, the crop, JPEG at
 * quality 95). The mesh rejects the half face (flags under 0.1) and its candidate's own detector score (0.84, found
 * by all four turned passes) was replaced in the keep rule by the alternative reading's (0.68); the face must be
 * reported (confirmed or not: both are covered). */
static float cut_match(const mf_face *f, const float t[4], int w, int h) {
    float x0 = fmaxf(0, f->det.x), y0 = fmaxf(0, f->det.y), x1 = fminf((float)w, f->det.x + f->det.w),
          y1 = fminf((float)h, f->det.y + f->det.h);
    float tx0 = fmaxf(0, t[0]), ty0 = fmaxf(0, t[1]), tx1 = fminf((float)w, t[0] + t[2]),
          ty1 = fminf((float)h, t[1] + t[3]);
    float ix = fmaxf(0, fminf(x1, tx1) - fmaxf(x0, tx0)), iy = fmaxf(0, fminf(y1, ty1) - fmaxf(y0, ty0));
    float inter = ix * iy, uni = (x1 - x0) * (y1 - y0) + (tx1 - tx0) * (ty1 - ty0) - inter;
    return uni > 0 ? inter / uni : 0;
}

/* FFHQ ffhq_0026 (the set's source 0013, yaw -47) cut by border b (1 top, 3 bottom) with `visible` of its box left, as
 * privacy-set builds cut<b><pct>/0013, through JPEG at quality 95: the best IOU of a reported face with the visible
 * face (cut_match), or -1 when the data is missing (skip). */
static float cut_ffhq_0026(int b, float visible) {
    char p[1024], tmp[256];
    snprintf(p, sizeof p, "%s/ffhq/ffhq_0026.jpg", tu_data_dir());
    if (!tu_exists(p)) return -1;
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    mf_img src, cut, img;
    assert_int_equal(mf_img_load(p, NULL, &src, NULL), MF_OK);
    /* the central face of the upright photo (privacy-set's truth): the box nearest the centre */
    const mf_face *f;
    int n;
    assert_int_equal(mf_face_analyze_all(normal, &src, &f, &n), MF_OK);
    assert_true(n >= 1);
    int best = 0;
    for (int i = 1; i < n; i++) {
        float di = hypotf(f[i].det.x + f[i].det.w / 2 - 0.5f * (float)src.w,
                          f[i].det.y + f[i].det.h / 2 - 0.5f * (float)src.h),
              db = hypotf(f[best].det.x + f[best].det.w / 2 - 0.5f * (float)src.w,
                          f[best].det.y + f[best].det.h / 2 - 0.5f * (float)src.h);
        if (di < db) best = i;
    }
    float t[4] = {f[best].det.x, f[best].det.y, f[best].det.w, f[best].det.h};
    printf("  source face %.1f %.1f %.1f %.1f (the set's truth: 138.4 166.3 300.1 300.1)\n", t[0], t[1], t[2], t[3]);
    /* cut by the border, `visible` of the box left (privacy-set's crop); through JPEG as the set's pictures */
    int y0 = 0, y1 = src.h;
    if (b == 1) y0 = (int)lroundf(t[1] + (1 - visible) * t[3]);
    if (b == 3) y1 = (int)lroundf(t[1] + visible * t[3]);
    assert_int_equal(mf_img_crop(&src, 0, y0, src.w, y1 - y0, &cut), MF_OK);
    t[1] -= (float)y0;
    snprintf(tmp, sizeof tmp, "/tmp/mfmc_test_cut_%ld.jpg", (long)getpid());
    assert_int_equal(mf_img_save(&cut, tmp, 95), MF_OK);
    assert_int_equal(mf_img_load(tmp, NULL, &img, NULL), MF_OK);
    remove(tmp);
    assert_int_equal(mf_face_analyze_all(priv, &img, &f, &n), MF_OK);
    float best_iou = 0;
    for (int i = 0; i < n; i++) {
        float o = cut_match(&f[i], t, img.w, img.h);
        printf("  reported %.0f %.0f %.0f %.0f confirmed %d detector %.3f: IOU with the visible face %.2f\n",
               f[i].det.x, f[i].det.y, f[i].det.w, f[i].det.h, f[i].confirmed, f[i].det.score, o);
        if (o > best_iou) best_iou = o;
    }
    mf_img_free(&src);
    mf_img_free(&cut);
    mf_img_free(&img);
    analysers_free(pool, normal, priv);
    return best_iou;
}

/* cutb50/0013 (recall14): its own detection scores 0.837 from four passes, the mesh rejects it; kept unconfirmed. */
static void test_cut_face_found(void **state) {
    (void)state;
    float o = cut_ffhq_0026(3, 0.5f);
    if (o < 0) skip();
    assert_true(o >= 0.3f);
}

/* cutt50/0013 (cut15): the eyes cut away; a candidate scoring 0.558 from two passes, mesh flag 0.34, which the pass
 * rules drop; the short-range detector's look at it upright with grey beyond the border scores it 0.62: kept
 * unconfirmed (mf_face_privacy_keep_cut_look). Fails on main (no face reported on the face). */
static void test_top_cut_face_found(void **state) {
    (void)state;
    float o = cut_ffhq_0026(1, 0.5f);
    if (o < 0) skip();
    assert_true(o >= 0.3f);
}

/* Analyses img in privacy mode with priv and returns the best IOU (cut_match) of a reported face with the truth box,
 * printing the reported faces that overlap it and the count; `face` names the truth face in the print. */
static float best_reported_iou(mf_face_analyzer_t *priv, const mf_img *img, const float truth[4], int face) {
    const mf_face *f;
    int n;
    assert_int_equal(mf_face_analyze_all(priv, img, &f, &n), MF_OK);
    float best = 0;
    for (int i = 0; i < n; i++) {
        float o = cut_match(&f[i], truth, img->w, img->h);
        if (o > 0.05f)
            printf("  reported %.1f %.1f %.1f confirmed %d detector %.3f: IOU %.2f\n", f[i].det.x, f[i].det.y,
                   f[i].det.w, f[i].confirmed, f[i].det.score, o);
        if (o > best) best = o;
    }
    printf("  %d faces reported, best IOU with face %d %.2f\n", n, face, best);
    return best;
}

/* Rebuilds part of a small-face picture of the privacy set as privacy-set builds it: the picture `picture` (0: small16,
 * 1: small20, ...) of side W x H, drawn after `picture` others from the set's generator (the same background), with the
 * FFHQ faces of the cells of rows r0..r1 and columns c0..c1 pasted at `side` px (cells of 5 sides, source = cell
 * index), through JPEG at quality 95; returns the best IOU of a reported privacy-mode face with the face of cell
 * (tr, tc), whose box must be `want` (the set's truth), or -1 when the data is missing (skip). */
/* The pasted picture as the set stores it (JPEG at quality 95, decoded again), then the privacy analyser's best IoU
 * with the truth box (best_reported_iou); frees bg. The shared tail of small_face_case and grid_face_case. */
static float jpeg_round_trip_iou(mf_face_analyzer_t *priv, mf_img *bg, const float truth[4], int face) {
    mf_img img;
    uint8_t *jpg;
    size_t len;
    assert_int_equal(mf_img_encode_jpeg(bg, 95, &jpg, &len), MF_OK);
    assert_int_equal(mf_img_decode(jpg, len, NULL, &img, NULL), MF_OK);
    free(jpg);
    float best = best_reported_iou(priv, &img, truth, face);
    mf_img_free(bg);
    mf_img_free(&img);
    return best;
}

static float small_face_case(int picture, int side, int r0, int r1, int c0, int c1, int tr, int tc, const float want[2]) {
    char p[4096];
    snprintf(p, sizeof p, "%s/ffhq", tu_data_dir());
    enum { W = 1600, H = 1200 };
    int cell = 5 * side, cols = W / cell, n_names;
    char **names = ps_list_dir(p, 20000, &n_names);
    if (n_names < r1 * cols + c1 + 1) {
        ps_names_free(names, n_names);
        return -1;
    }
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    uint32_t rng = 12345;
    mf_img bg;
    for (int k = 0; k <= picture; k++) {
        if (k) mf_img_free(&bg);
        assert_int_equal(ps_background(W, H, &rng, &bg), 0);
    }
    float truth[4] = {0};
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) {
            int i = r * cols + c;
            snprintf(p, sizeof p, "%s/ffhq/%s", tu_data_dir(), names[i]);
            mf_img src;
            assert_int_equal(mf_img_load(p, NULL, &src, NULL), MF_OK);
            float row[7] = {0}, box[4];
            int failed;
            assert_true(ps_central_face(normal, &src, row, &failed));
            assert_int_equal(ps_paste(&bg, &src, row, side, c * cell + cell / 2, r * cell + cell / 2, box), 0);
            if (r == tr && c == tc) memcpy(truth, box, sizeof box);
            mf_img_free(&src);
        }
    ps_names_free(names, n_names);
    printf("  face %d pasted at %.1f %.1f %.1f %.1f (the set's truth: %.1f %.1f %d %d)\n", tr * cols + tc, truth[0],
           truth[1], truth[2], truth[3], want[0], want[1], side, side);
    assert_true(fabsf(truth[0] - want[0]) < 1 && fabsf(truth[1] - want[1]) < 1);
    float best = jpeg_round_trip_iou(priv, &bg, truth, tr * cols + tc);
    analysers_free(pool, normal, priv);
    return best;
}

/* A small face main's privacy mode missed (branch small15, docs/detection.md): face 18 of the privacy set's small20
 * picture (FFHQ ffhq_0036.jpg pasted with a 20 px box at (240, 140)), rebuilt with the faces around it (its 3 x 5
 * cells of the picture, sources 0-4, 16-20 and 32-36: with fewer neighbours main finds it). The finest level points
 * at it only with a weak 36 px box (0.21), which the cascade did not zoom (boxes up to 24 px); zoomed, the face scores
 * 0.86 and the mesh confirms it. The face must be reported. */
static void test_small_face_found(void **state) {
    (void)state;
    static const float want[2] = {240, 140};
    float o = small_face_case(1, 20, 0, 2, 0, 4, 1, 2, want);
    if (o < 0) skip();
    assert_true(o >= 0.3f);
}

/* A small face main's privacy mode missed (branch small16): face 24 of the small16 picture (16 px box at (352, 112)),
 * rebuilt with its 3 x 5 cells (sources 2-6, 22-26, 42-46). The pass gives it a candidate from the threshold (0.34)
 * whose box lies off the face, which the mesh rejects; the second, zoomed look at small candidates under 0.5
 * (ZOOM_AGAIN_BELOW) moves it onto the face, which the mesh confirms. The face must be reported. */
static void test_small16_face_found(void **state) {
    (void)state;
    static const float want[2] = {352, 112};
    float o = small_face_case(0, 16, 0, 2, 2, 6, 1, 4, want);
    if (o < 0) skip();
    assert_true(o >= 0.3f);
}

/* A face of a crowd of small faces in the detector's blind place (branch small16): face 30 of the small24 picture (24
 * px box at (768, 288)), rebuilt with the 3 x 11 cells around it (rows 1-3, columns 1-11: enough sure small faces
 * for a crowd; 3 x 5 are not). In the one finest-level tile that
 * holds it whole it lies at network pixels (81, 129) from the corner, where the pass gives it no candidate from 0.1;
 * the upright pass finds enough sure small faces around it to look at the finest level again with the tiles shifted
 * by 16 network pixels (CROWD_*), which finds it. The face must be reported. */
static void test_crowd_face_found(void **state) {
    (void)state;
    static const float want[2] = {768, 288};
    float o = small_face_case(2, 24, 1, 3, 1, 11, 2, 6, want);
    if (o < 0) skip();
    assert_true(o >= 0.3f);
}

/* A face of a small group of small faces (branch small17): face 11 of the small20 picture (20 px box at (1140, 40)),
 * rebuilt with the 2 x 5 cells around it (rows 0-1, columns 9-13: 3-7 sure small faces, not a crowd by small16's 8).
 * Alone on the background the pass finds it; among these neighbours the first finest-level grid gives it no candidate
 * from 0.1, and the grid shifted by 16 network pixels, which small16 ran only in crowds of 8, finds it: a crowd is now
 * 3 sure small boxes (CROWD_MIN). The face must be reported. */
static void test_small_group_face_found(void **state) {
    (void)state;
    static const float want[2] = {1140, 40};
    float o = small_face_case(1, 20, 0, 1, 9, 13, 0, 11, want);
    if (o < 0) skip();
    assert_true(o >= 0.3f);
}

/* A face of a crowd of small faces no BlazeFace grid points at (branch small18): face 37 of the small24 picture (24 px
 * box at (1368, 288)), rebuilt with its cells of rows 1-3, columns 9-12 (the picture's right edge). The first finest
 * level grid and the three shifted ones give it no candidate from 0.1; the third detector, fr_detect, run over the
 * crowd's picture at 1 image pixel a network pixel, scores it 0.98 there, and the upright detector's zoomed tile on its
 * box finds it (CROWD_POINT_*), which the mesh confirms. The face must be reported. */
static void test_crowd_face_pointed(void **state) {
    (void)state;
    static const float want[2] = {1368, 288};
    float o = small_face_case(2, 24, 1, 3, 9, 12, 2, 11, want);
    if (o < 0) skip();
    assert_true(o >= 0.3f);
}

/* The path of source face `i` of the privacy set as privacy-set picks them (the first 50 FFHQ photos, then the first
 * photo of 50 LFW identities spread over the alphabet); 0, or -1 when the data is missing. */
static int grid_source_path(int i, char *p, size_t n) {
    char dir[4096];
    int m, r = -1;
    if (i < 50) {
        snprintf(dir, sizeof dir, "%s/ffhq", tu_data_dir());
        char **names = ps_list_dir(dir, 20000, &m);
        if (m > i && snprintf(p, n, "%s/%s", dir, names[i]) < (int)n) r = 0;
        ps_names_free(names, m);
        return r;
    }
    snprintf(dir, sizeof dir, "%s/lfw", tu_data_dir());
    char **ids = ps_list_dir(dir, 20000, &m);
    if (m > 0) {
        int k = (int)((long)(i - 50) * m / 50), f;
        char sub[4096];
        char **files = NULL;
        f = 0;
        if (snprintf(sub, sizeof sub, "%s/%s", dir, ids[k]) < (int)sizeof sub) files = ps_list_dir(sub, 20000, &f);
        if (f > 0 && snprintf(p, n, "%s/%s", sub, files[0]) < (int)n) r = 0;
        ps_names_free(files, f);
    }
    ps_names_free(ids, m);
    return r;
}

/* Rebuilds the cells of rows r0..r1, columns c0..c1 of the privacy set's grid1000 on the grid's own 2560 x 1600
 * background (the seventh the set's generator draws, after five small pictures and grid300's), as privacy-set pastes
 * them (cells of 64 px, face 5/8 of the cell, source i % 100 for cell i), through JPEG at quality 95, analyses it in
 * privacy mode and returns the best IOU of a reported face with the face of cell (tr, tc), whose box must lie at
 * (tx, ty) as in the set's truth. */
static float grid_face_case(int r0, int r1, int c0, int c1, int tr, int tc, float tx, float ty) {
    enum { CELL = 64, COLS = 40, W = 2560, H = 1600 };
    char p[4096];
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    uint32_t rng = 12345;
    static const int before[6][2] = {{1600, 1200}, {1600, 1200}, {1600, 1200}, {1600, 1200}, {1600, 1200}, {1920, 1440}};
    mf_img bg;
    for (int k = 0; k < 6; k++) {
        assert_int_equal(ps_background(before[k][0], before[k][1], &rng, &bg), 0);
        mf_img_free(&bg);
    }
    assert_int_equal(ps_background(W, H, &rng, &bg), 0);
    float truth[4] = {0};
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) {
            int i = r * COLS + c;
            assert_int_equal(grid_source_path(i % 100, p, sizeof p), 0);
            mf_img src;
            assert_int_equal(mf_img_load(p, NULL, &src, NULL), MF_OK);
            float row[7] = {0}, box[4];
            int failed;
            mf_face_landmarks *lm = malloc(sizeof *lm);
            assert_non_null(lm);
            assert_true(ps_central_face_mesh(normal, &src, row, &failed, lm));
            free(lm);
            assert_int_equal(ps_paste(&bg, &src, row, CELL * 5 / 8, c * CELL + CELL / 2, r * CELL + CELL / 2, box), 0);
            if (r == tr && c == tc) memcpy(truth, box, sizeof box);
            mf_img_free(&src);
        }
    printf("  face %d pasted at %.1f %.1f %.1f %.1f (the set's truth: %.0f %.0f 40 40)\n", tr * COLS + tc, truth[0],
           truth[1], truth[2], truth[3], tx, ty);
    assert_true(fabsf(truth[0] - tx) < 1 && fabsf(truth[1] - ty) < 1);
    float best = jpeg_round_trip_iou(priv, &bg, truth, tr * COLS + tc);
    analysers_free(pool, normal, priv);
    return best;
}

/* The last face of grid1000 main's privacy mode missed (branch grid20): face 113 (source 13, FFHQ 00013's
 * three-quarter profile with glasses, 40 px box at (2124, 140)), rebuilt with the faces of rows 0-4, columns 27-39
 * around it (grid_face_case). The first finest-level grid gives it no candidate and fr_detect does not point at it; a
 * crowd of 40 px faces now gets the shifted grids (CROWD_MED_*), which find it (detector 0.67, mesh 0.93). The face
 * must be reported. */
static void test_grid_face_found(void **state) {
    (void)state;
    char p[4096];
    if (grid_source_path(99, p, sizeof p) || access(p, R_OK)) skip();
    assert_true(grid_face_case(0, 4, 27, 39, 2, 33, 2124, 140) >= 0.3f);
}

/* grid21: a copy of the same source, face 613 (844, 972), rebuilt with rows 13-17, columns 7-19 around it. With the
 * shifted grids of grid20 alone, a shifted grid's reading (0.52) leads its merge, the mesh rejects its box, and the
 * first grid's weaker reading (0.41), which main kept, was dropped with it; the merge's other readings are now meshed
 * (mf_face_privacy_try_members) and the first grid's leads. The face must be reported. */
static void test_grid_copy_kept(void **state) {
    (void)state;
    char p[4096];
    if (grid_source_path(99, p, sizeof p) || access(p, R_OK)) skip();
    assert_true(grid_face_case(13, 17, 7, 19, 15, 13, 844, 972) >= 0.3f);
}

/* Rebuilds the privacy set's mask/NNNN for the FFHQ photo of index `index` into *img (the mask drawn by ps_draw_mask
 * through the normal analysis's mesh, as privacy-set builds the mask variant, through JPEG at quality 95; the truth
 * row (x y w h roll yaw pitch) into row, its box's x, y and side checked against `truth`). Skips when the data is
 * missing. */
static void masked_ffhq(int index, const float truth[3], mf_face_analyzer_t *normal, mf_img *img, float row[7]) {
    char p[4096];
    snprintf(p, sizeof p, "%s/ffhq", tu_data_dir());
    int n_names;
    char **names = ps_list_dir(p, 20000, &n_names);
    if (n_names <= index) {
        ps_names_free(names, n_names);
        skip();
    }
    snprintf(p, sizeof p, "%s/ffhq/%s", tu_data_dir(), names[index]);
    ps_names_free(names, n_names);
    mf_img src;
    assert_int_equal(mf_img_load(p, NULL, &src, NULL), MF_OK);
    int failed;
    mf_face_landmarks *lm = malloc(sizeof *lm);
    assert_non_null(lm);
    assert_true(ps_central_face_mesh(normal, &src, row, &failed, lm));
    assert_true(fabsf(row[0] - truth[0]) < 1 && fabsf(row[1] - truth[1]) < 1 && fabsf(row[2] - truth[2]) < 1);
    ps_draw_mask(&src, lm);
    free(lm);
    uint8_t *jpg;
    size_t len;
    assert_int_equal(mf_img_encode_jpeg(&src, 95, &jpg, &len), MF_OK);
    assert_int_equal(mf_img_decode(jpg, len, NULL, img, NULL), MF_OK);
    free(jpg);
    mf_img_free(&src);
}

/* The masked FFHQ photo `index` (masked_ffhq) analysed in privacy mode: a face reported on it (IOU >= 0.3),
 * unconfirmed (the mesh does not see a face under the mask: covered by the fallback, never painted). */
static void expect_masked_face_found(int index, const float truth[3]) {
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    mf_img img;
    float row[7] = {0};
    masked_ffhq(index, truth, normal, &img, row);
    const mf_face *f;
    int n, best = -1;
    float best_o = 0;
    assert_int_equal(mf_face_analyze_all(priv, &img, &f, &n), MF_OK);
    for (int i = 0; i < n; i++) {
        float o = cut_match(&f[i], row, img.w, img.h);
        printf("  reported %.1f %.1f %.1f confirmed %d detector %.3f: IOU %.2f\n", f[i].det.x, f[i].det.y, f[i].det.w,
               f[i].confirmed, f[i].det.score, o);
        if (o > best_o) best_o = o, best = i;
    }
    assert_true(best >= 0 && best_o >= 0.3f);
    assert_false(f[best].confirmed);
    mf_img_free(&img);
    analysers_free(pool, normal, priv);
}

/* mask/0008 (branch mask17): the ninth FFHQ photo masked. The detector scores the masked face 0.648 from three
 * passes, the mesh rejects it (flag 0.04), the keep rules drop it (under KEEP_UNCONFIRMED); the short-range
 * detector's upright look at it scores 0.80, best of the four ways up: kept unconfirmed. Fails on main before
 * mask17 (no face reported on it). */
static void test_masked_face_found(void **state) {
    (void)state;
    expect_masked_face_found(8, (const float[3]){109.5f, 151.6f, 309.0f});
}

/* mask/0037 (branch occl18): the 38th FFHQ photo masked. The detector scores it 0.629, the mesh rejects it (flag
 * 0.014), the short-range detector's upright look scores 0.52 (under OCCLUDED_LOOK_KEEP); the masked-face judge
 * (judge.c, fr_detect) scores it 0.99-1.00 at each of its four scales: kept unconfirmed. Fails on main (no face
 * reported on it). */
static void test_masked_face_judged(void **state) {
    (void)state;
    expect_masked_face_found(37, (const float[3]){85.5f, 123.5f, 344.0f});
}

/* mask/0006 and mask/0032 (branch updown21): the 7th and 33rd FFHQ photos masked. The mesh reads both upside down
 * (its eyes on the mask, its mouth on the eyes: rolls -176.8 and 179.2 for truths -2.5 and 1.1, flags 0.93 and 0.97)
 * and the short-range detector's looks kept that frame: painted the wrong way up on main. Now the face is reported
 * (IOU >= 0.3 with the truth), and no record on it is painted (confirmed) at a roll more than 20 degrees off the
 * truth's, nor any part of it read again (mask/0032: a 131 px box on the eyes, confirmed once the large reading is
 * not); mask/0006's fallback box holds the whole face (the detection alone, 194 px on the 320 px face, left an eye
 * out). mask/0010, whose detection is read upside down and whose mesh is right, stays confirmed at its roll. Fails on
 * main ("confirmed at roll -176.8, truth -2.5"). */
static void test_masked_face_never_painted_upside_down(void **state) {
    (void)state;
    static const struct {
        int index;
        float truth[3];
        int painted; /* the face must stay painted (confirmed at the right roll) */
    } cases[] = {{6, {83.7f, 139.0f, 320.4f}, 0}, {32, {73.1f, 129.7f, 369.5f}, 0}, {10, {99.7f, 141.0f, 313.2f}, 1}};
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *normal, *priv;
    analysers_create(&pool, &normal, &priv);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        mf_img img;
        float row[7] = {0};
        masked_ffhq(cases[k].index, cases[k].truth, normal, &img, row);
        const mf_face *f;
        int n, found = 0, painted_right = 0;
        assert_int_equal(mf_face_analyze_all(priv, &img, &f, &n), MF_OK);
        for (int i = 0; i < n; i++) {
            float o = cut_match(&f[i], row, img.w, img.h), off = fabsf(remainderf(f[i].lm.roll - row[4], 360.0f));
            float cx = f[i].det.x + 0.5f * f[i].det.w, cy = f[i].det.y + 0.5f * f[i].det.h;
            /* a face in doubt: no part of it read again and painted (mask/0032: a 131 px box on the eyes) */
            if (!cases[k].painted && f[i].confirmed && cx > row[0] && cy > row[1] && cx < row[0] + row[2] &&
                cy < row[1] + row[3])
                assert_true(off <= 20.0f && o >= 0.3f);
            if (o < 0.3f) continue;
            found = 1;
            printf("  mask/%04d: %.1f %.1f %.1f detector %.3f IOU %.2f %s%s roll %.1f, truth %.1f\n", cases[k].index,
                   f[i].det.x, f[i].det.y, f[i].det.w, f[i].det.score, o, f[i].confirmed ? "confirmed" : "fallback",
                   f[i].way_up_doubtful ? " (way up in doubt)" : "", f[i].confirmed ? f[i].lm.roll : 0.0f, row[4]);
            if (f[i].confirmed) assert_true(off <= 20.0f);
            painted_right |= f[i].confirmed && off <= 20.0f;
            /* the fallback of a face in doubt covers the whole face */
            if (f[i].way_up_doubtful) assert_true(f[i].det.x <= row[0] + 0.1f * row[2]);
        }
        assert_true(found);
        if (cases[k].painted) assert_true(painted_right);
        mf_img_free(&img);
    }
    analysers_free(pool, normal, priv);
}

/* time15: the pyramid levels and the turned passes' image resized in bands on a pool of two threads
 * (mf_face_resize_pooled) are the bytes of one mf_img_resize: shrinking by the levels' factors, growing (the finest
 * level of a small picture), odd sizes, and sizes under the pooled minimum (plain resize). */
static void test_pooled_resize_same_bytes(void **state) {
    (void)state;
    mf_nn_pool_t *pool = NULL;
    assert_int_equal(mf_nn_pool_create(2, &pool), MF_OK);
    mf_img src;
    assert_int_equal(mf_img_init(&src, 1031, 777, 3), MF_OK);
    uint32_t s = 12345;
    for (size_t i = 0; i < (size_t)src.w * src.h * 3; i++) {
        s = s * 1664525u + 1013904223u;
        src.data[i] = (uint8_t)(s >> 24);
    }
    static const int sizes[][2] = {{773, 583}, {412, 311}, {165, 124}, {1500, 1130}, {257, 1031}, {64, 48}, {3, 777}};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        mf_img a, b;
        assert_int_equal(mf_img_resize(&src, sizes[k][0], sizes[k][1], &a), MF_OK);
        assert_int_equal(mf_face_resize_pooled(pool, &src, sizes[k][0], sizes[k][1], &b), MF_OK);
        assert_int_equal(a.w, b.w);
        assert_int_equal(a.h, b.h);
        assert_memory_equal(a.data, b.data, (size_t)a.w * a.h * 3);
        mf_img_free(&a);
        mf_img_free(&b);
    }
    /* a band of rows alone: the same bytes as those rows of the whole resize, nothing written outside it */
    mf_img whole, band;
    assert_int_equal(mf_img_resize(&src, 500, 400, &whole), MF_OK);
    assert_int_equal(mf_img_init(&band, 500, 400, 3), MF_OK);
    memset(band.data, 7, (size_t)500 * 400 * 3);
    assert_int_equal(mf_img_resize_rows(&src, &band, 133, 267), MF_OK);
    assert_memory_equal(band.data + (size_t)133 * 500 * 3, whole.data + (size_t)133 * 500 * 3, (size_t)134 * 500 * 3);
    assert_int_equal(band.data[(size_t)133 * 500 * 3 - 1], 7);
    assert_int_equal(band.data[(size_t)267 * 500 * 3], 7);
    assert_int_equal(mf_img_resize_rows(&src, &band, 300, 401), MF_ERR_ARG);
    mf_img_free(&whole);
    mf_img_free(&band);
    mf_img_free(&src);
    mf_nn_pool_free(pool);
}

/* time16: privacy mode reads the attributes after the dedup: a confirmed record the dedup drops as a duplicate
 * (sample2: one of four confirmed records) costs no attribute run, and every face reported has the attributes a
 * separate reading of its record gives. Fails with main's analyze.c (4 attribute runs for 3 faces). */
static void test_attributes_after_dedup(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/demo/sample2.jpg", tu_models_dir());
    if (!tu_exists(p)) skip();
    mf_nn_pool_t *pool = NULL;
    assert_int_equal(mf_nn_pool_create(2, &pool), MF_OK);
    mf_face_analyzer_opts po = {.pool = pool, .privacy = 1};
    mf_face_analyzer_t *an;
    assert_int_equal(mf_face_analyzer_create(tu_models_dir(), &po, &an), MF_OK);
    mf_img img;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    const mf_face *f;
    int n;
    assert_int_equal(mf_face_analyze_all(an, &img, &f, &n), MF_OK);
    mf_face_analyzer_counts c;
    mf_face_analyzer_last_counts(an, &c);
    mf_face *copy = malloc((size_t)n * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, f, (size_t)n * sizeof *copy);
    int confirmed = 0;
    for (int i = 0; i < n; i++) confirmed += copy[i].confirmed;
    printf("  sample2: %d faces, %d confirmed, %d attribute runs, %d mesh runs\n", n, confirmed, c.attribute_runs,
           c.mesh_runs);
    assert_int_equal(confirmed, 3);
    assert_int_equal(c.attribute_runs, confirmed);
    for (int i = 0; i < n; i++) {
        mf_face g = copy[i];
        assert_int_equal(mf_face_analyze_attributes(an, &img, &g), MF_OK);
        printf("  face %d: age %.2f / %.2f, p_male %.3f / %.3f\n", i, copy[i].attr.age, g.attr.age, copy[i].attr.p_male,
               g.attr.p_male);
        assert_true(g.attr.age == copy[i].attr.age);
        assert_true(g.attr.p_male == copy[i].attr.p_male);
        assert_int_equal(g.attr.gender, copy[i].attr.gender);
    }
    free(copy);
    mf_img_free(&img);
    mf_face_analyzer_free(an);
    mf_nn_pool_free(pool);
}

/* The strong-profile set (tests/tools/privacy-set --only profile): the photos picked are those the judge sees most
 * turned, either way (|yaw|), from the threshold, at most the cap, most turned first; the mirrored truth row is the
 * same box flipped with yaw and roll negated. */
static void test_profile_set_pick(void **state) {
    (void)state;
    const float yaw[8] = {10.0f, -62.0f, 45.0f, -39.9f, 70.5f, -45.0f, 40.0f, 0.0f};
    int idx[8];
    int n = ps_profile_pick(yaw, 8, 40.0f, 8, idx);
    assert_int_equal(n, 5); /* -62, 45, 70.5, -45, 40 */
    const int want[5] = {4, 1, 2, 5, 6};
    for (int i = 0; i < 5; i++)
        assert_int_equal(idx[i], want[i]);
    n = ps_profile_pick(yaw, 8, 40.0f, 2, idx); /* the cap keeps the most turned */
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 4);
    assert_int_equal(idx[1], 1);
    float row[7] = {70, 78, 110, 110, 5, -50, 3}, m[7];
    ps_mirror_row(row, 250, m);
    assert_float_equal(m[0], 70, 1e-4);
    assert_float_equal(m[2], 110, 1e-4);
    assert_float_equal(m[4], -5, 1e-4);
    assert_float_equal(m[5], 50, 1e-4);
    assert_float_equal(m[6], 3, 1e-4);
}

/* IOU of two boxes (x, y, w, h). */
static float iou_xywh(const float a[4], const float b[4]) {
    float x0 = fmaxf(a[0], b[0]), y0 = fmaxf(a[1], b[1]);
    float x1 = fminf(a[0] + a[2], b[0] + b[2]), y1 = fminf(a[1] + a[3], b[1] + b[3]);
    float in = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0);
    return in / (a[2] * a[3] + b[2] * b[3] - in);
}

/* The normal analysis's central face of photo p against the centred box `box` gives (ps_*_centre_box): their IOU,
 * or -1 when the analysis finds no central face. */
static float centre_box_iou(mf_face_analyzer_t *an, const char *p, void (*box)(int, int, float[4])) {
    mf_img img;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    float t[7], b[4], iou = -1;
    int failed;
    if (ps_central_face(an, &img, t, &failed)) {
        box(img.w, img.h, b);
        iou = iou_xywh(t, b);
        printf("  %s: face %.0f %.0f %.0f %.0f, centre box IOU %.2f\n", p, t[0], t[1], t[2], t[3], iou);
    }
    assert_false(failed);
    mf_img_free(&img);
    return iou;
}

/* The profile set's truth box (ps_lfw_centre_box, ps_ffhq_centre_box: no detector) covers the face: on the first
 * photos of 12 LFW folders and on 6 FFHQ photos spread over the lists, the normal analysis's central face overlaps
 * it by an IOU of at least 0.5 (eval_privacy counts a face found from 0.3). */
static void test_profile_set_centre_box(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/lfw", tu_data_dir());
    int nd, nf;
    char **dirs = ps_list_dir(p, 20000, &nd);
    snprintf(p, sizeof p, "%s/ffhq", tu_data_dir());
    char **ff = ps_list_dir(p, 20000, &nf);
    if (nd < 12 || nf < 6) {
        ps_names_free(dirs, nd);
        ps_names_free(ff, nf);
        skip();
    }
    mf_face_analyzer_opts no = {.no_attributes = 1};
    mf_face_analyzer_t *normal;
    assert_int_equal(mf_face_analyzer_create(tu_models_dir(), &no, &normal), MF_OK);
    int checked = 0;
    for (int k = 0; k < 12; k++) {
        int m;
        snprintf(p, sizeof p, "%s/lfw/%s", tu_data_dir(), dirs[k * nd / 12]);
        char **files = ps_list_dir(p, 1000, &m);
        assert_true(m > 0);
        snprintf(p, sizeof p, "%s/lfw/%s/%s", tu_data_dir(), dirs[k * nd / 12], files[0]);
        ps_names_free(files, m);
        float iou = centre_box_iou(normal, p, ps_lfw_centre_box);
        if (iou < 0) continue;
        assert_true(iou >= 0.5f);
        checked++;
    }
    for (int k = 0; k < 6; k++) {
        snprintf(p, sizeof p, "%s/ffhq/%s", tu_data_dir(), ff[k * nf / 6]);
        float iou = centre_box_iou(normal, p, ps_ffhq_centre_box);
        if (iou < 0) continue;
        assert_true(iou >= 0.5f);
        checked++;
    }
    assert_true(checked >= 15);
    ps_names_free(dirs, nd);
    ps_names_free(ff, nf);
    mf_face_analyzer_free(normal);
}

/* The first judge of weak candidates (ratio19, WEAK_JUDGE_* in privacy.c): on a demo photo without small faces
 * (sample2: three faces of 150-250 px), the textures' weak candidates are shown to the short-range detector first,
 * and most get no zoomed tile (main's cascade zoomed 17 tiles there, this one 2); the photo's three faces are still
 * found (each of the normal mode's detections overlapped by a candidate, IOU 0.5). test_zoom_small_faces and the
 * small-face tests below check that the weak candidates of real small faces still get their tiles. */
static void test_weak_judge_textures(void **state) {
    (void)state;
    char p[1024];
    snprintf(p, sizeof p, "%s/demo/sample2.jpg", tu_models_dir());
    if (!tu_exists(p)) skip();
    mf_face_analyzer_opts no = {.no_attributes = 1};
    mf_face_analyzer_t *normal;
    assert_int_equal(mf_face_analyzer_create(tu_models_dir(), &no, &normal), MF_OK);
    mf_img img;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    const mf_face *up;
    int nu;
    assert_int_equal(mf_face_analyze_all(normal, &img, &up, &nu), MF_OK);
    assert_int_equal(nu, 3);
    mf_face_privacy_detector_t *pd;
    assert_int_equal(mf_face_privacy_detector_create(tu_models_dir(), NULL, &pd), MF_OK);
    const mf_face_candidate *c;
    int nc;
    assert_int_equal(mf_face_privacy_detect(pd, &img, &c, &nc), MF_OK);
    int zooms = mf_face_privacy_detector_last_zooms(pd);
    printf("  sample2: %d candidates, %d network runs, %d zoomed tiles\n", nc, mf_face_privacy_detector_last_tiles(pd),
           zooms);
    for (int i = 0; i < nu; i++) {
        float want[4] = {up[i].det.x, up[i].det.y, up[i].det.w, up[i].det.h}, best = 0;
        for (int k = 0; k < nc; k++)
            best = fmaxf(best, iou4(&c[k].box, want));
        printf("  face %d (%.0f px): best IOU %.2f\n", i, up[i].det.w, best);
        assert_true(best >= 0.5f);
    }
    assert_true(zooms <= 8);
    mf_face_privacy_detector_free(pd);
    mf_img_free(&img);
    mf_face_analyzer_free(normal);
}

/* ratio20: the first judge shows four weak candidates to the short-range detector in one run. On demo sample1 and
 * sample3 (faces of 166-250 px, textures giving 58-60 judged weak candidates each) privacy detection finds each of the
 * normal mode's faces with at most 145 network runs (detector tiles, zoomed tiles and the judge's runs): 133 each with
 * four candidates a run, 158 and 164 with ratio19's one view a candidate. */
static void test_weak_judge_four_a_run(void **state) {
    (void)state;
    mf_face_analyzer_opts no = {.no_attributes = 1};
    mf_face_analyzer_t *normal;
    assert_int_equal(mf_face_analyzer_create(tu_models_dir(), &no, &normal), MF_OK);
    mf_face_privacy_detector_t *pd;
    assert_int_equal(mf_face_privacy_detector_create(tu_models_dir(), NULL, &pd), MF_OK);
    static const int photos[2] = {1, 3};
    for (int ph = 0; ph < 2; ph++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/demo/sample%d.jpg", tu_models_dir(), photos[ph]);
        if (!tu_exists(p)) skip();
        mf_img img;
        assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
        const mf_face *up;
        int nu;
        assert_int_equal(mf_face_analyze_all(normal, &img, &up, &nu), MF_OK);
        assert_int_equal(nu, 3);
        const mf_face_candidate *c;
        int nc;
        assert_int_equal(mf_face_privacy_detect(pd, &img, &c, &nc), MF_OK);
        int runs = mf_face_privacy_detector_last_tiles(pd);
        printf("  sample%d: %d candidates, %d network runs, %d zoomed tiles\n", photos[ph], nc, runs,
               mf_face_privacy_detector_last_zooms(pd));
        for (int i = 0; i < nu; i++) {
            float want[4] = {up[i].det.x, up[i].det.y, up[i].det.w, up[i].det.h}, best = 0;
            for (int k = 0; k < nc; k++)
                best = fmaxf(best, iou4(&c[k].box, want));
            assert_true(best >= 0.5f);
        }
        assert_true(runs <= 145);
        mf_img_free(&img);
    }
    mf_face_privacy_detector_free(pd);
    mf_face_analyzer_free(normal);
}

int main(void) {
    /* TEST_FILTER=PATTERN runs only the tests whose names match (cmocka's pattern: * and ?) */
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unrotate_matches_rotate90),
        cmocka_unit_test(test_profile_set_pick),
        cmocka_unit_test(test_profile_set_centre_box),
        cmocka_unit_test(test_unrotate_roll_full_circle),
        cmocka_unit_test(test_merge_prefers_upright_pass),
        cmocka_unit_test(test_merge_keeps_distinct_faces),
        cmocka_unit_test(test_merge_crowd),
        cmocka_unit_test(test_demo_turned_90),
        cmocka_unit_test(test_wrong_way_round_never_painted),
        cmocka_unit_test(test_badge_not_painted),
        cmocka_unit_test(test_keep_rules),
        cmocka_unit_test(test_zoom_small_faces),
        cmocka_unit_test(test_dedup_side_by_side),
        cmocka_unit_test(test_dedup_part_of_head),
        cmocka_unit_test(test_covered_before_mesh),
        cmocka_unit_test(test_border_frame_tiles),
        cmocka_unit_test(test_cut_face_found),
        cmocka_unit_test(test_top_cut_face_found),
        cmocka_unit_test(test_dedup_face_around_part),
        cmocka_unit_test(test_small_face_found),
        cmocka_unit_test(test_small16_face_found),
        cmocka_unit_test(test_crowd_face_found),
        cmocka_unit_test(test_small_group_face_found),
        cmocka_unit_test(test_crowd_face_pointed),
        cmocka_unit_test(test_masked_face_found),
        cmocka_unit_test(test_masked_face_judged),
        cmocka_unit_test(test_masked_face_never_painted_upside_down),
        cmocka_unit_test(test_pooled_resize_same_bytes),
        cmocka_unit_test(test_attributes_after_dedup),
        cmocka_unit_test(test_sparse_turned_levels),
        cmocka_unit_test(test_weak_judge_textures),
        cmocka_unit_test(test_weak_judge_four_a_run),
        cmocka_unit_test(test_grid_face_found),
        cmocka_unit_test(test_grid_copy_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
