/* Privacy mode's way-up check (src/face/orient.c, docs/detection.md "Branch orient14"): the rule on made-up scores,
 * and on an FFHQ face of ../shared/data the detector's scores of the four ways up and the check of a record read
 * the wrong way round (built here: the face's own mesh with its roll turned by 180 degrees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "face/internal.h"
#include "face/orient.h"
#include "lib/testutil.h"
#include "mfmc/analyze.h"

/* The rule: a clear first look keeps the mesh's way up; an unclear one asks for a second look; the sums of two looks
 * turn the frame when another way up leads, and leave the face in doubt when nothing leads or nothing is seen. */
static void test_decide(void **state) {
    (void)state;
    int turn;
    const float clear[4] = {0.9f, 0.3f, 0.6f, 0.5f}, close[4] = {0.8f, 0.75f, 0.6f, 0.5f};
    assert_int_equal(mf_face_orient_decide(clear, NULL, &turn), MF_FACE_ORIENT_KEEP);
    assert_int_equal(turn, 0);
    assert_int_equal(mf_face_orient_decide(close, NULL, &turn), MF_FACE_ORIENT_MORE);
    const float low[4] = {0.35f, 0.1f, 0.0f, 0.0f}; /* leads, but too weak to keep at first sight */
    assert_int_equal(mf_face_orient_decide(low, NULL, &turn), MF_FACE_ORIENT_MORE);
    /* rot240/0047 (grey border): the face upside down in the mesh's frame */
    const float a[4] = {0.668f, 0.58f, 0.824f, 0.63f}, b[4] = {0.754f, 0.705f, 0.939f, 0.769f};
    assert_int_equal(mf_face_orient_decide(a, NULL, &turn), MF_FACE_ORIENT_MORE);
    assert_int_equal(mf_face_orient_decide(a, b, &turn), MF_FACE_ORIENT_TURN);
    assert_int_equal(turn, 2);
    const float b_keep[4] = {0.95f, 0.6f, 0.5f, 0.7f};
    assert_int_equal(mf_face_orient_decide(close, b_keep, &turn), MF_FACE_ORIENT_KEEP);
    /* no way up leads (rot210/0025: sums 1.43 1.50 1.64 1.62) */
    const float ta[4] = {0.688f, 0.861f, 0.947f, 0.793f}, tb[4] = {0.740f, 0.642f, 0.696f, 0.827f};
    assert_int_equal(mf_face_orient_decide(ta, tb, &turn), MF_FACE_ORIENT_DOUBT);
    /* nothing seen: the mirrored border's reflection of rot240/0047, painted before */
    const float na[4] = {0.106f, 0.363f, 0.158f, 0.243f}, nb[4] = {0.178f, 0.34f, 0.203f, 0.26f};
    assert_int_equal(mf_face_orient_decide(na, nb, &turn), MF_FACE_ORIENT_DOUBT);
}

/* An upright FFHQ face: the detector scores it highest in its own frame and highest in the view turned back by 180
 * degrees when asked about the frame turned by 180; a record of it read upside down (its mesh with the roll turned
 * by 180 degrees, as privacy mode read rot210/0025) is not kept: meshed again the right way up, or left in doubt;
 * never painted at the wrong roll. */
static void test_check_wrong_way_record(void **state) {
    (void)state;
    char p[4096];
    snprintf(p, sizeof p, "%s/ffhq/ffhq_0000.jpg", tu_data_dir());
    if (!tu_exists(p)) skip();
    mf_face_models_t *models;
    assert_int_equal(mf_face_models_create(tu_models_dir(), &models), MF_OK);
    mf_face_analyzer_opts po = {.no_attributes = 1, .privacy = 1};
    mf_face_analyzer_t *an;
    assert_int_equal(mf_face_analyzer_create_from(models, &po, &an), MF_OK);
    mf_face_orient_t *o;
    assert_int_equal(mf_face_orient_create_from(models, NULL, &o), MF_OK);
    mf_face_mesher_t *mesh;
    assert_int_equal(mf_face_mesher_create_from(models, NULL, 0, &mesh), MF_OK);
    mf_face_mesher_set_first_reject(mesh, 0.1f);
    mf_img img;
    assert_int_equal(mf_img_load(p, NULL, &img, NULL), MF_OK);
    const mf_face *faces;
    int n, best = -1;
    assert_int_equal(mf_face_analyze_all(an, &img, &faces, &n), MF_OK);
    for (int i = 0; i < n; i++)
        if (faces[i].confirmed && (best < 0 || faces[i].det.w > faces[best].det.w)) best = i;
    assert_true(best >= 0);
    mf_face f = faces[best];
    float roll = f.lm.roll, side = fmaxf(f.det.w, f.det.h);
    float cx = f.lm.box.x + f.lm.box.w / 2, cy = f.lm.box.y + f.lm.box.h / 2, s[4], t[4];
    assert_int_equal(mf_face_orient_scores(o, &img, cx, cy, side, roll, 0.5f, s, NULL), MF_OK);
    assert_int_equal(mf_face_orient_scores(o, &img, cx, cy, side, roll + 180.0f, 0.5f, t, NULL), MF_OK);
    printf("  roll %.1f: scores %.3f %.3f %.3f %.3f; asked at roll + 180: %.3f %.3f %.3f %.3f\n", roll, s[0], s[1],
           s[2], s[3], t[0], t[1], t[2], t[3]);
    for (int q = 1; q < 4; q++) assert_true(s[0] > s[q]);
    /* the view's own detection, mapped back onto the image: its eyes on the face's (privacy detection's) eyes */
    mf_face_box v0;
    assert_int_equal(mf_face_orient_scores(o, &img, cx, cy, side, roll, 0.5f, s, &v0), MF_OK);
    for (int k = MF_FACE_KP_REYE; k <= MF_FACE_KP_LEYE; k++) {
        float d = hypotf(v0.kp[k][0] - f.det.kp[k][0], v0.kp[k][1] - f.det.kp[k][1]);
        printf("  view 0's eye %d: %.1f px from the detection's (face %.0f px)\n", k, d, side);
        assert_true(d < 0.1f * side);
    }
    for (int q = 0; q < 4; q++)
        if (q != 2) assert_true(t[2] > t[q]);
    int v, runs = 0, mesh_runs = 0;
    assert_int_equal(mf_face_orient_check(o, mesh, &img, &f, &v, &runs, &mesh_runs), MF_OK);
    assert_int_equal(v, MF_FACE_ORIENT_KEEP);
    assert_true(runs >= 1 && runs <= 2);
    /* the same face read the wrong way round */
    mf_face w = faces[best];
    w.lm.roll = remainderf(w.lm.roll + 180.0f, 360.0f);
    runs = 0;
    assert_int_equal(mf_face_orient_check(o, mesh, &img, &w, &v, &runs, &mesh_runs), MF_OK);
    printf("  read upside down: verdict %d, roll %.1f (%d detector runs)\n", v, w.lm.roll, runs);
    assert_int_not_equal(v, MF_FACE_ORIENT_KEEP);
    if (v == MF_FACE_ORIENT_TURNED) {
        assert_true(fabsf(remainderf(w.lm.roll - roll, 360.0f)) <= 20.0f);
        /* and the detection's keypoints are the right way up too (the anonymizer checks the mesh against them) */
        assert_true(fabsf(remainderf(w.det.roll * 180.0f / (float)M_PI - roll, 360.0f)) <= 20.0f);
    }
    else assert_int_equal(v, MF_FACE_ORIENT_DOUBT);
    assert_int_equal(mf_face_orient_scores(o, &img, cx, cy, 0, roll, 0.5f, s, NULL), MF_ERR_ARG);
    mf_img_free(&img);
    mf_face_mesher_free(mesh);
    mf_face_orient_free(o);
    mf_face_analyzer_free(an);
    mf_face_models_free(models);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_check_wrong_way_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
