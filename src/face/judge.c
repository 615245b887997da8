/* Privacy mode's judge of masked-face candidates (judge.h; docs/detection.md, "Branch occl18").
 *
 * Why a third detector: a face whose mouth and chin a mask covers is scored 0.50-0.81 by the full-range detector but
 * rejected by the mesh (flags 0.00-0.15), and the short-range detector's upright look (mask17) scores some of them
 * under the face-free candidates' 0.615. fr_detect is another family (an SSD-style network with RFB blocks, trained on
 * WIDER FACE, where masked, occluded and partly hidden faces are common). Its input is 320 x 240 RGB, (p - 127) / 128;
 * its outputs are 4,420 anchors' softmax scores [background, face] and boxes, corner form, as fractions of the input
 * (the decoding, with its Exp, is in the graph). */
#include "face/judge.h"

#include "face/internal.h"
#include "face/orient.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JUDGE_MODEL "fr-detect"
#define JUDGE_W 320
#define JUDGE_H 240
/* A detection counts when its box overlaps the candidate's by at least this intersection over union: at 0.3 the
 * network's loose boxes around hair, an arm or a necklace (0.97-0.99 on the demo photos) counted too. */
#define JUDGE_IOU 0.5f
/* The verdict: the candidate at JUDGE_SCALES sizes in the view (48, 64, 96, 128 network pixels: one scale alone is
 * unreliable, a masked face scoring 0.08 at one and 0.86 at the next), a face when JUDGE_VOTES of them score at least
 * JUDGE_KEEP (docs/detection.md, "Branch occl18": the masked faces main missed have second-best scores 0.65-1.00,
 * the other candidates that reach the judge at most 0.22 apart from parts of a face's head). */
#define JUDGE_SCALES 4
#define JUDGE_VOTES 2
#define JUDGE_KEEP 0.5f

struct mf_face_judge {
    mf_face_session_model sm;
    int in, out_scores, out_boxes;
};

int mf_face_judge_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, mf_face_judge_t **out) {
    *out = NULL;
    mf_face_judge_t *j = calloc(1, sizeof *j);
    if (!j) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = mf_face_session_model_init(&j->sm, models, JUDGE_MODEL, pool, 0, 3, 0);
    if (!st) {
        mf_nn_shape s;
        mf_nn_plan_input(j->sm.plan, 0, &s);
        j->out_scores = mf_nn_plan_output_index(j->sm.plan, "scores");
        j->out_boxes = mf_nn_plan_output_index(j->sm.plan, "boxes");
        if (s.ndim != 4 || s.dim[1] != JUDGE_H || s.dim[2] != JUDGE_W || s.dim[3] != 3 || j->out_scores < 0 ||
            j->out_boxes < 0)
            st = mf_error_set(MF_ERR_FORMAT, "%s: not the expected detector (input [1,%d,%d,3], scores, boxes)",
                              j->sm.path, JUDGE_H, JUDGE_W);
    }
    if (st) {
        mf_face_judge_free(j);
        return st;
    }
    *out = j;
    return MF_OK;
}

void mf_face_judge_free(mf_face_judge_t *j) {
    if (!j) return;
    mf_face_session_model_free(&j->sm);
    free(j);
}

/* Fills the network's input with the view of img centred on (cx, cy), view pixel (u, v) from the offset (du, dv) from
 * the view's centre mapped by [c -sn; sn c] (scale and roll), runs it, and points *sco / *box at its n anchors' scores
 * and boxes. */
static int run_view(mf_face_judge_t *j, const mf_img *img, float cx, float cy, float c, float sn, const float **sco,
                    const float **box, int *n) {
    float *in = mf_nn_plan_input(j->sm.plan, 0, NULL);
    for (int v = 0; v < JUDGE_H; v++) {
        float dv = (float)v + 0.5f - 0.5f * JUDGE_H;
        for (int u = 0; u < JUDGE_W; u++) {
            float du = (float)u + 0.5f - 0.5f * JUDGE_W;
            uint8_t p[3];
            mf_face_orient_sample(img, cx + c * du - sn * dv - 0.5f, cy + sn * du + c * dv - 0.5f, p);
            float *o = in + ((size_t)v * JUDGE_W + u) * 3;
            for (int k = 0; k < 3; k++)
                o[k] = ((float)p[k] - 127.0f) / 128.0f;
        }
    }
    int st = mf_nn_plan_run(j->sm.plan);
    if (st) return st;
    mf_nn_shape ss;
    *sco = mf_nn_plan_output(j->sm.plan, j->out_scores, &ss);
    *box = mf_nn_plan_output(j->sm.plan, j->out_boxes, NULL);
    *n = ss.ndim == 3 ? ss.dim[1] : 0;
    return MF_OK;
}

int mf_face_judge_score(mf_face_judge_t *j, const mf_img *img, const mf_face_box *b, float face_px, float *score) {
    *score = 0;
    float side = fmaxf(b->w, b->h);
    if (!(side > 0 && isfinite(side) && isfinite(b->x) && isfinite(b->y) && isfinite(b->roll) && face_px > 0 &&
          face_px <= JUDGE_H))
        return mf_error_set(MF_ERR_ARG, "judge: bad candidate box");
    float cx = b->x + 0.5f * b->w, cy = b->y + 0.5f * b->h, sc = side / face_px;
    float c = cosf(b->roll) * sc, sn = sinf(b->roll) * sc;
    const float *sco, *box;
    int n, st = run_view(j, img, cx, cy, c, sn, &sco, &box, &n);
    if (st) return st;
    /* the candidate in the view, in fractions of the input */
    float h = 0.5f * face_px, x0 = (0.5f * JUDGE_W - h) / JUDGE_W, x1 = (0.5f * JUDGE_W + h) / JUDGE_W;
    float y0 = (0.5f * JUDGE_H - h) / JUDGE_H, y1 = (0.5f * JUDGE_H + h) / JUDGE_H, area = (x1 - x0) * (y1 - y0);
    for (int i = 0; i < n; i++) {
        float s = sco[2 * i + 1];
        if (!(s > *score)) continue;
        const float *q = box + 4 * i;
        float ix = fminf(x1, q[2]) - fmaxf(x0, q[0]), iy = fminf(y1, q[3]) - fmaxf(y0, q[1]);
        if (ix <= 0 || iy <= 0) continue;
        float inter = ix * iy, qa = fmaxf(0, q[2] - q[0]) * fmaxf(0, q[3] - q[1]);
        if (inter >= JUDGE_IOU * (area + qa - inter)) *score = s;
    }
    return MF_OK;
}

int mf_face_judge_face(mf_face_judge_t *j, const mf_img *img, const mf_face_box *b, int *face, int *runs) {
    static const float px[JUDGE_SCALES] = {48.0f, 64.0f, 96.0f, 128.0f};
    *face = 0;
    int yes = 0;
    for (int k = 0; k < JUDGE_SCALES && yes < JUDGE_VOTES && k - yes <= JUDGE_SCALES - JUDGE_VOTES; k++) {
        float s;
        int st = mf_face_judge_score(j, img, b, px[k], &s);
        if (st) return st;
        ++*runs;
        yes += s >= JUDGE_KEEP;
    }
    *face = yes >= JUDGE_VOTES;
    return MF_OK;
}

int mf_face_judge_view_boxes(mf_face_judge_t *j, const mf_img *img, float cx, float cy, float scale, float min_score,
                             mf_face_box *out, int max, int *n_out) {
    *n_out = 0;
    if (!(scale > 0 && isfinite(scale) && isfinite(cx) && isfinite(cy) && max >= 0))
        return mf_error_set(MF_ERR_ARG, "judge: bad view");
    const float *sco, *box;
    int n, m = 0, st = run_view(j, img, cx, cy, scale, 0.0f, &sco, &box, &n);
    if (st) return st;
    float x_org = cx - 0.5f * scale * JUDGE_W, y_org = cy - 0.5f * scale * JUDGE_H;
    for (int i = 0; i < n && m < max; i++) {
        float s = sco[2 * i + 1];
        if (!(s >= min_score)) continue;
        const float *q = box + 4 * i;
        mf_face_box *b = &out[m++];
        memset(b, 0, sizeof *b);
        b->x = x_org + scale * JUDGE_W * q[0], b->y = y_org + scale * JUDGE_H * q[1];
        b->w = scale * JUDGE_W * fmaxf(0, q[2] - q[0]), b->h = scale * JUDGE_H * fmaxf(0, q[3] - q[1]);
        b->score = s;
    }
    *n_out = m;
    return MF_OK;
}
