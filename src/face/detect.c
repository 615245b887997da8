/* Face detection with the BlazeFace family over an image pyramid of overlapping tiles.
 *
 * Each level of the pyramid is the image resized (area-averaged) by a factor f; the coarsest level fits the
 * whole image in one network input, each finer level doubles f until the smallest face the network resolves
 * (MIN_PX input pixels) corresponds to at most min_face image pixels. Finer levels are cut into tiles that
 * overlap by more than the largest face a level is responsible for (bigger faces are found whole one level
 * up), so every face lies entirely inside some tile; detections touching an inner tile edge are dropped, and
 * the rest are merged by weighted non-maximum suppression (box and keypoints averaged with score weights). */
#include "mfmc/face.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LAYERS = 4, MAX_CAND = 1 << 16 };

typedef struct {
    const char *name;
    int size;                    /* network input side */
    int n_layers;
    int stride[MAX_LAYERS], anchors[MAX_LAYERS];
    const char *concat_out;      /* single [N,17] output (score first), or NULL */
    const char *score_out[MAX_LAYERS], *reg_out[MAX_LAYERS];
    float min_px;                /* smallest reliable face in input pixels */
} det_config;

static const det_config configs[] = {
    {"facemesh-detection-full", 192, 1, {4}, {1}, "Identity:0", {0}, {0}, 12.0f},
    {"blazeface", 256, 2, {16, 32}, {2, 6}, NULL, {"Identity:0", "Identity_1:0"}, {"Identity_2:0", "Identity_3:0"},
     20.0f},
    {"facemesh-detection-short", 128, 2, {8, 16}, {2, 6}, "Identity:0", {0}, {0}, 16.0f},
};

struct mf_face_detector {
    const det_config *cfg;
    mf_face_detect_opts opts;
    mf_nn_model_t *model;
    mf_nn_plan_t *plan;
    int out_concat, out_score[MAX_LAYERS], out_reg[MAX_LAYERS];
    float *anchors; /* x, y per anchor, in input pixels */
    int n_anchors;
    mf_face_box *cand;
    int n_cand;
    int last_tiles;
};

int mf_face_detector_create(const char *models_dir, const mf_face_detect_opts *opts, mf_face_detector_t **out) {
    *out = NULL;
    mf_face_detect_opts o = {"facemesh-detection-full", 24, 0.7f, 0.3f, NULL};
    if (opts) {
        if (opts->model) o.model = opts->model;
        if (opts->min_face > 0) o.min_face = opts->min_face;
        if (opts->threshold > 0) o.threshold = opts->threshold;
        if (opts->nms_iou > 0) o.nms_iou = opts->nms_iou;
        o.pool = opts->pool;
    }
    const det_config *cfg = NULL;
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
        if (strcmp(configs[i].name, o.model) == 0) cfg = &configs[i];
    if (!cfg) return mf_error_set(MF_ERR_ARG, "unknown detector model '%s'", o.model);
    mf_face_detector_t *d = calloc(1, sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    d->cfg = cfg;
    d->opts = o;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", models_dir, cfg->name);
    int st = mf_nn_model_load_tfjs(path, &d->model);
    mf_nn_plan_opts po = {o.pool, -1, 0};
    if (!st) st = mf_nn_plan_create(d->model, &po, &d->plan);
    if (st) goto fail;
    for (int l = 0; l < cfg->n_layers; l++) {
        int g = (cfg->size + cfg->stride[l] - 1) / cfg->stride[l];
        d->n_anchors += g * g * cfg->anchors[l];
    }
    d->anchors = malloc((size_t)d->n_anchors * 2 * sizeof(float));
    d->cand = malloc((size_t)MAX_CAND * sizeof *d->cand);
    if (!d->anchors || !d->cand) {
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    int k = 0;
    for (int l = 0; l < cfg->n_layers; l++) {
        int g = (cfg->size + cfg->stride[l] - 1) / cfg->stride[l];
        for (int y = 0; y < g; y++)
            for (int x = 0; x < g; x++)
                for (int a = 0; a < cfg->anchors[l]; a++) {
                    d->anchors[2 * k] = (x + 0.5f) * cfg->stride[l];
                    d->anchors[2 * k + 1] = (y + 0.5f) * cfg->stride[l];
                    k++;
                }
    }
    /* check the outputs have the expected shapes, so decoding can never read out of bounds */
    mf_nn_shape sh;
    if (cfg->concat_out) {
        d->out_concat = mf_nn_plan_output_index(d->plan, cfg->concat_out);
        if (d->out_concat < 0) goto bad;
        mf_nn_plan_output(d->plan, d->out_concat, &sh);
        if (mf_nn_shape_numel(&sh) != (size_t)d->n_anchors * 17) goto bad;
    } else {
        for (int l = 0; l < cfg->n_layers; l++) {
            int g = (cfg->size + cfg->stride[l] - 1) / cfg->stride[l], na = g * g * cfg->anchors[l];
            d->out_score[l] = mf_nn_plan_output_index(d->plan, cfg->score_out[l]);
            d->out_reg[l] = mf_nn_plan_output_index(d->plan, cfg->reg_out[l]);
            if (d->out_score[l] < 0 || d->out_reg[l] < 0) goto bad;
            mf_nn_plan_output(d->plan, d->out_score[l], &sh);
            if (mf_nn_shape_numel(&sh) != (size_t)na) goto bad;
            mf_nn_plan_output(d->plan, d->out_reg[l], &sh);
            if (mf_nn_shape_numel(&sh) != (size_t)na * 16) goto bad;
        }
    }
    *out = d;
    return MF_OK;
bad:
    st = mf_error_set(MF_ERR_FORMAT, "%s: outputs do not have the shapes of a BlazeFace detector", cfg->name);
fail:
    mf_face_detector_free(d);
    return st;
}

void mf_face_detector_free(mf_face_detector_t *d) {
    if (!d) return;
    mf_nn_plan_free(d->plan);
    mf_nn_model_free(d->model);
    free(d->anchors);
    free(d->cand);
    free(d);
}

int mf_face_detector_last_tiles(const mf_face_detector_t *d) { return d->last_tiles; }

/* Runs the network on the S x S window of `lvl` at (tx, ty) (zero-padded outside) and appends the detections,
 * mapped back to image pixels by 1/f, that do not touch an inner edge of the tile. */
static void run_tile(mf_face_detector_t *d, const mf_img *lvl, int tx, int ty, float f) {
    const det_config *c = d->cfg;
    int S = c->size;
    float *in = mf_nn_plan_input(d->plan, 0, NULL);
    /* pixel centres at integer coordinates: destination (x, y) samples level pixel (tx + x, ty + y) */
    float m[6] = {1, 0, (float)tx, 0, 1, (float)ty};
    mf_img_warp_to_float(lvl, m, S, S, 2.0f / 255.0f, -1.0f, 0.0f, in);
    mf_nn_plan_run(d->plan);
    float logit_min = logf(d->opts.threshold / (1.0f - d->opts.threshold));
    int inner_l = tx > 0, inner_t = ty > 0, inner_r = tx + S < lvl->w, inner_b = ty + S < lvl->h;
    float margin = 0.01f * (float)S;
    const float *concat = c->concat_out ? mf_nn_plan_output(d->plan, d->out_concat, NULL) : NULL;
    int base = 0;
    for (int l = 0; l < c->n_layers; l++) {
        int g = (S + c->stride[l] - 1) / c->stride[l], na = g * g * c->anchors[l];
        const float *sc = concat ? NULL : mf_nn_plan_output(d->plan, d->out_score[l], NULL);
        const float *rg = concat ? NULL : mf_nn_plan_output(d->plan, d->out_reg[l], NULL);
        for (int i = 0; i < na; i++) {
            int a = base + i;
            float logit = concat ? concat[(size_t)a * 17] : sc[i];
            if (!(logit > logit_min)) continue;
            const float *r = concat ? concat + (size_t)a * 17 + 1 : rg + (size_t)i * 16;
            float cx = d->anchors[2 * a] + r[0], cy = d->anchors[2 * a + 1] + r[1], w = r[2], h = r[3];
            if (!(w > 1 && h > 1 && w < 4 * S && h < 4 * S)) continue;
            float x0 = cx - w / 2, y0 = cy - h / 2, x1 = cx + w / 2, y1 = cy + h / 2;
            if ((inner_l && x0 < margin) || (inner_t && y0 < margin) || (inner_r && x1 > S - margin) ||
                (inner_b && y1 > S - margin))
                continue;
            if (d->n_cand >= MAX_CAND) return;
            mf_face_box *b = &d->cand[d->n_cand++];
            float inv = 1.0f / f;
            b->x = (x0 + tx) * inv, b->y = (y0 + ty) * inv, b->w = w * inv, b->h = h * inv;
            float lg = logit < -80 ? -80 : logit > 80 ? 80 : logit;
            b->score = 1.0f / (1.0f + expf(-lg));
            for (int k = 0; k < MF_FACE_KP_COUNT; k++) {
                b->kp[k][0] = (d->anchors[2 * a] + r[4 + 2 * k] + tx) * inv;
                b->kp[k][1] = (d->anchors[2 * a + 1] + r[5 + 2 * k] + ty) * inv;
            }
        }
        base += na;
    }
}

static float iou(const mf_face_box *a, const mf_face_box *b) {
    float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
    float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
    float inter = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0);
    float uni = a->w * a->h + b->w * b->h - inter;
    return uni > 0 ? inter / uni : 0;
}

static int by_score_desc(const void *pa, const void *pb) {
    float a = ((const mf_face_box *)pa)->score, b = ((const mf_face_box *)pb)->score;
    return a < b ? 1 : a > b ? -1 : 0;
}

int mf_face_detect(mf_face_detector_t *d, const mf_img *img, mf_face_box *faces, int max_faces, int *n_faces) {
    *n_faces = 0;
    d->n_cand = 0;
    d->last_tiles = 0;
    if (!img || !img->data || img->w < 1 || img->h < 1 || img->c != 3)
        return mf_error_set(MF_ERR_ARG, "detection needs an RGB image");
    const det_config *c = d->cfg;
    int S = c->size, big = img->w > img->h ? img->w : img->h;
    float f = (float)S / (float)big;
    int overlap = (int)ceilf(c->min_px * 3.5f);
    for (int level = 0;; level++) {
        int lw = (int)lroundf(img->w * f), lh = (int)lroundf(img->h * f);
        if (lw < 1) lw = 1;
        if (lh < 1) lh = 1;
        mf_img lvl;
        int st = mf_img_resize(img, lw, lh, &lvl);
        if (st) return st;
        int stride = S - overlap;
        int nx = lw <= S ? 1 : (lw - S + stride - 1) / stride + 1, ny = lh <= S ? 1 : (lh - S + stride - 1) / stride + 1;
        for (int iy = 0; iy < ny; iy++)
            for (int ix = 0; ix < nx; ix++) {
                int tx = nx == 1 ? 0 : (int)((long)ix * (lw - S) / (nx - 1));
                int ty = ny == 1 ? 0 : (int)((long)iy * (lh - S) / (ny - 1));
                run_tile(d, &lvl, tx, ty, f);
                d->last_tiles++;
            }
        mf_img_free(&lvl);
        /* finer level while the network's smallest face is still larger than what we must find */
        if (c->min_px / f <= (float)d->opts.min_face || f >= 2.0f) break;
        f *= 2.0f;
    }
    /* weighted non-maximum suppression */
    qsort(d->cand, (size_t)d->n_cand, sizeof *d->cand, by_score_desc);
    char *used = calloc((size_t)d->n_cand + 1, 1);
    if (!used) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int n = 0;
    for (int i = 0; i < d->n_cand; i++) {
        if (used[i]) continue;
        mf_face_box acc = {0};
        float wsum = 0;
        for (int j = i; j < d->n_cand; j++) {
            if (used[j] || (j != i && iou(&d->cand[i], &d->cand[j]) <= d->opts.nms_iou)) continue;
            used[j] = 1;
            const mf_face_box *b = &d->cand[j];
            float w = b->score;
            acc.x += w * b->x, acc.y += w * b->y, acc.w += w * b->w, acc.h += w * b->h;
            for (int k = 0; k < MF_FACE_KP_COUNT; k++) acc.kp[k][0] += w * b->kp[k][0], acc.kp[k][1] += w * b->kp[k][1];
            wsum += w;
        }
        if (n >= max_faces) continue;
        mf_face_box *o = &faces[n++];
        *o = acc;
        o->x /= wsum, o->y /= wsum, o->w /= wsum, o->h /= wsum;
        for (int k = 0; k < MF_FACE_KP_COUNT; k++) o->kp[k][0] /= wsum, o->kp[k][1] /= wsum;
        o->score = d->cand[i].score;
        o->roll = atan2f(o->kp[MF_FACE_KP_LEYE][1] - o->kp[MF_FACE_KP_REYE][1],
                         o->kp[MF_FACE_KP_LEYE][0] - o->kp[MF_FACE_KP_REYE][0]);
    }
    free(used);
    *n_faces = n;
    return MF_OK;
}
