/* Independent attribute judges (judges.h). Crops and normalisation follow the vendors' SDKs:
 *  - fr_age / fr_gender: the detection box scaled SSR_SCALE x around its centre, shifted inside the image (the
 *    scale shrinks when the image is too small), resized to 64x64, BGR order, (v/255 - mean) / std with the
 *    ImageNet figures; the nine SSR-Net outputs (stage probabilities, delta_k, index offsets, 3 stages of 3) are merged
 *    with lambda_local = lambda_d = 1 and V = 101 (age, years) or V = 1 (gender, p_male);
 *  - fr_pose: the box grown by a quarter of its size on every side, clipped to the image, resized to 224x224,
 *    ImageNet normalisation; each of yaw ("output"), pitch ("617") and roll ("618") is the softmax expectation of
 *    66 bins, times 3, minus 99 degrees;
 *  - fr_expression: a box 1.2x the detection's size anchored at its top-left corner, 224x224, v/255;
 *  - fr_liveness: the box scaled 2.7x like the SSR-Net crop, 128x128, BGR, raw 0..255; softmax of 3 classes, class 0
 *    = real;
 *  - human antispoof: the box scaled 1.2x, 128x128, v/255, sigmoid output (1 = real).
 * The SDK reads canvases (RGBA) and converts some of them with OpenCV's BGR codes, so the channel order each
 * model was trained with is not stated anywhere: it was chosen on real photos (docs/evaluation.md): BGR for the
 * SSR-Net and liveness models (gender agreement 87% vs 72% in RGB on 60 FFHQ faces; liveness 0.99 vs 0.75),
 * RGB for pose (yaw correlation with the mesh 0.96) and expression. */
#include "judges.h"

#include "mfmc/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { J_AGE, J_GENDER, J_POSE, J_EXPR, J_LIVE, J_SPOOF, J_N };
static const char *const j_files[J_N] = {"faceplugin/fr_age.onnx",      "faceplugin/fr_gender.onnx",
                                         "faceplugin/fr_pose.onnx",     "faceplugin/fr_expression.onnx",
                                         "faceplugin/fr_liveness.onnx", "human/antispoof.json"};
static const int j_side[J_N] = {64, 64, 224, 224, 128, 128};
/* class of fr_liveness read as "real" (its SDK's reading; on 30 FFHQ photos in BGR order: 0.988 mean, the other
 * two classes 0.012 and 0.001; docs/evaluation.md) */
enum { LIVE_REAL_CLASS = 0 };
/* SSR-Net crop scale around our detection box: 1.6 (the SDK's 1.4 is for its own, larger detector boxes); chosen
 * on 60 FFHQ + 60 LFW faces by agreement with the attribute model (docs/evaluation.md) */
#define SSR_SCALE 1.6f

struct ev_judges {
    mf_nn_model_t *m[J_N];
    mf_nn_plan_t *p[J_N];
    float *buf; /* 224 * 224 * 3 raw crop */
};

void ev_judges_free(ev_judges *j) {
    if (!j) return;
    for (int i = 0; i < J_N; i++)
        mf_nn_plan_free(j->p[i]), mf_nn_model_free(j->m[i]);
    free(j->buf);
    free(j);
}

int ev_judges_create(const char *models_root, ev_judges **out) {
    *out = NULL;
    ev_judges *j = calloc(1, sizeof *j);
    if (!j) return mf_error_set(MF_ERR_NOMEM, "judges: out of memory");
    j->buf = malloc(sizeof(float) * 224 * 224 * 3);
    if (!j->buf) {
        ev_judges_free(j);
        return mf_error_set(MF_ERR_NOMEM, "judges: out of memory");
    }
    for (int i = 0; i < J_N; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", models_root, j_files[i]);
        int st = mf_nn_model_load(path, i == J_SPOOF ? MF_NN_FORMAT_TFJS : MF_NN_FORMAT_ONNX, &j->m[i]);
        if (!st) st = mf_nn_plan_create(j->m[i], NULL, &j->p[i]);
        if (!st) st = mf_nn_plan_check_input(j->p[i], 0, j_side[i], j_side[i], 3, j_files[i]);
        if (st) {
            ev_judges_free(j);
            return mf_error_prefix(st, "judge %s", j_files[i]);
        }
    }
    *out = j;
    return MF_OK;
}

/* Raw RGB crop (0..255 floats) of the rectangle (x0, y0, w, h) resized to s x s; outside the image is 0. */
static void crop(const mf_img *img, float x0, float y0, float w, float h, int s, float *dst) {
    float m[6] = {w / s, 0, x0 + 0.5f * w / s - 0.5f, 0, h / s, y0 + 0.5f * h / s - 0.5f};
    mf_img_warp_to_float(img, m, s, s, 1.0f, 0.0f, 0.0f, dst);
}

/* The SDK's "align" crop: the box scaled by `scale` around its centre (less when the image is smaller), shifted
 * to lie inside the image. */
static void scaled_box(const mf_img *img, const mf_face_box *b, float scale, float r[4]) {
    float sw = (img->w - 1) / fmaxf(b->w, 1), sh = (img->h - 1) / fmaxf(b->h, 1);
    float s = fminf(scale, fminf(sw, sh));
    float nw = b->w * s, nh = b->h * s, cx = b->x + b->w / 2, cy = b->y + b->h / 2;
    float x0 = cx - nw / 2, y0 = cy - nh / 2, x1 = cx + nw / 2, y1 = cy + nh / 2;
    if (x0 < 0) x1 -= x0, x0 = 0;
    if (y0 < 0) y1 -= y0, y0 = 0;
    if (x1 > img->w - 1) x0 -= x1 - img->w + 1, x1 = (float)img->w - 1;
    if (y1 > img->h - 1) y0 -= y1 - img->h + 1, y1 = (float)img->h - 1;
    r[0] = fmaxf(x0, 0), r[1] = fmaxf(y0, 0), r[2] = x1 - r[0], r[3] = y1 - r[1];
}

static void to_bgr(float *v, int n) {
    for (int i = 0; i < n; i++) {
        float t = v[i * 3];
        v[i * 3] = v[i * 3 + 2], v[i * 3 + 2] = t;
    }
}

/* (v/255 - mean) / std with the ImageNet figures, per channel position */
static void imagenet(float *v, int n) {
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            v[i * 3 + c] = (v[i * 3 + c] / 255.0f - mean[c]) / sd[c];
}

static const float *out_named(ev_judges *j, int k, const char *name, size_t numel) {
    int idx;
    if (mf_nn_plan_find_output(j->p[k], name, numel, j_files[k], &idx)) return NULL;
    return mf_nn_plan_output(j->p[k], idx, NULL);
}

/* SSR-Net's soft stagewise regression over the nine outputs. */
static int ssr(ev_judges *j, int k, float V, float *res) {
    static const char *names[9] = {"prob_stage_1",        "prob_stage_2",        "prob_stage_3",
                                   "stage1_delta_k",      "stage2_delta_k",      "stage3_delta_k",
                                   "index_offset_stage1", "index_offset_stage2", "index_offset_stage3"};
    const float *o[9];
    for (int i = 0; i < 9; i++)
        if (!(o[i] = out_named(j, k, names[i], i >= 3 && i < 6 ? 1 : 3))) return MF_ERR_FORMAT;
    double a = 0, b = 0, c = 0;
    for (int i = 0; i < 3; i++)
        a += (i + o[6][i]) * o[0][i];
    a /= 3 * (1 + o[3][0]);
    for (int i = 0; i < 3; i++)
        b += (i + o[7][i]) * o[1][i];
    b /= 3 * (1 + o[3][0]) * 3 * (1 + o[4][0]);
    for (int i = 0; i < 3; i++)
        c += (i + o[8][i]) * o[2][i];
    c /= 3 * (1 + o[3][0]) * 3 * (1 + o[4][0]) * 3 * (1 + o[5][0]);
    *res = (float)((a + b + c) * V);
    return MF_OK;
}

static void softmax(const float *x, int n, float *p) {
    float mx = x[0];
    for (int i = 1; i < n; i++)
        mx = fmaxf(mx, x[i]);
    double s = 0;
    for (int i = 0; i < n; i++)
        s += p[i] = expf(x[i] - mx);
    for (int i = 0; i < n; i++)
        p[i] = (float)(p[i] / s);
}

static int run(ev_judges *j, int k) {
    float *in = mf_nn_plan_input(j->p[k], 0, NULL);
    memcpy(in, j->buf, sizeof(float) * j_side[k] * j_side[k] * 3);
    int st = mf_nn_plan_run(j->p[k]);
    return st ? mf_error_prefix(st, "judge %s", j_files[k]) : MF_OK;
}

int ev_judges_pose(ev_judges *j, const mf_img *img, const mf_face_box *box, float *yaw, float *pitch, float *roll) {
    if (!j || !img || !box || !yaw || !pitch || !roll || img->c != 3)
        return mf_error_set(MF_ERR_ARG, "judges: bad arguments");
    float x0 = fmaxf(0, box->x - box->w / 4), y0 = fmaxf(0, box->y - box->h / 4);
    float x1 = fminf((float)img->w, box->x + box->w * 1.25f), y1 = fminf((float)img->h, box->y + box->h * 1.25f);
    crop(img, x0, y0, fmaxf(x1 - x0, 1), fmaxf(y1 - y0, 1), 224, j->buf);
    imagenet(j->buf, 224 * 224);
    int st = run(j, J_POSE);
    if (st) return st;
    static const char *names[3] = {"output", "617", "618"};
    float *ang[3] = {yaw, pitch, roll};
    for (int a = 0; a < 3; a++) {
        const float *o = out_named(j, J_POSE, names[a], 66);
        if (!o) return MF_ERR_FORMAT;
        float p[66];
        softmax(o, 66, p);
        double e = 0;
        for (int i = 0; i < 66; i++)
            e += p[i] * i;
        *ang[a] = (float)(e * 3 - 99);
        if (a == 0) *ang[a] = -*ang[a]; /* Hopenet's yaw sign is the opposite of the mesh's (r = -0.96) */
    }
    return MF_OK;
}

int ev_judges_run(ev_judges *j, const mf_img *img, const mf_face_box *box, ev_judgement *out) {
    if (!j || !img || !box || !out || img->c != 3) return mf_error_set(MF_ERR_ARG, "judges: bad arguments");
    memset(out, 0, sizeof *out);
    float r[4];
    int st;
    /* age and gender: 64 px, 1.4x */
    scaled_box(img, box, SSR_SCALE, r);
    for (int k = J_AGE; k <= J_GENDER; k++) {
        crop(img, r[0], r[1], r[2], r[3], 64, j->buf);
        to_bgr(j->buf, 64 * 64);
        imagenet(j->buf, 64 * 64);
        if ((st = run(j, k))) return st;
        if (ssr(j, k, k == J_AGE ? 101.0f : 1.0f, k == J_AGE ? &out->age : &out->p_male)) return MF_ERR_FORMAT;
    }
    /* pose: box + a quarter on each side, clipped */
    if ((st = ev_judges_pose(j, img, box, &out->yaw, &out->pitch, &out->roll))) return st;
    /* expression: 1.2x the box from its top-left corner */
    {
        float x0 = fmaxf(0, box->x), y0 = fmaxf(0, box->y);
        float w = fminf(box->w * 1.2f, img->w - x0), h = fminf(box->h * 1.2f, img->h - y0);
        crop(img, x0, y0, fmaxf(w, 1), fmaxf(h, 1), 224, j->buf);
        for (int i = 0; i < 224 * 224 * 3; i++)
            j->buf[i] /= 255.0f;
        if ((st = run(j, J_EXPR))) return st;
        const float *o = out_named(j, J_EXPR, "output", EV_JUDGE_EXPR_CLASSES);
        if (!o) return MF_ERR_FORMAT;
        softmax(o, EV_JUDGE_EXPR_CLASSES, out->expr);
        out->expr_class = 0;
        for (int i = 1; i < EV_JUDGE_EXPR_CLASSES; i++)
            if (out->expr[i] > out->expr[out->expr_class]) out->expr_class = i;
    }
    /* liveness: 2.7x, raw pixels */
    {
        scaled_box(img, box, 2.7f, r);
        crop(img, r[0], r[1], r[2], r[3], 128, j->buf);
        to_bgr(j->buf, 128 * 128);
        if ((st = run(j, J_LIVE))) return st;
        const float *o = out_named(j, J_LIVE, "output", 3);
        if (!o) return MF_ERR_FORMAT;
        float p[3];
        softmax(o, 3, p);
        out->live = p[LIVE_REAL_CLASS];
    }
    /* human antispoof: 1.2x, 0..1 */
    {
        scaled_box(img, box, 1.2f, r);
        crop(img, r[0], r[1], r[2], r[3], 128, j->buf);
        for (int i = 0; i < 128 * 128 * 3; i++)
            j->buf[i] /= 255.0f;
        if ((st = run(j, J_SPOOF))) return st;
        mf_nn_shape sh;
        const float *o = mf_nn_plan_output(j->p[J_SPOOF], 0, &sh);
        if (!o || mf_nn_shape_numel(&sh) != 1) return mf_error_set(MF_ERR_FORMAT, "judge antispoof: output shape");
        out->antispoof = o[0];
    }
    return MF_OK;
}

const char *ev_judge_expr_name(int k) {
    static const char *n[EV_JUDGE_EXPR_CLASSES] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
    return k >= 0 && k < EV_JUDGE_EXPR_CLASSES ? n[k] : "?";
}
