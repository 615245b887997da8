/* Face detection with the BlazeFace family over an image pyramid of overlapping tiles.
 *
 * Each level of the pyramid is the image resized (area-averaged) by a factor f; the coarsest level fits the
 * whole image in one network input, each finer level doubles f until the smallest face the network resolves
 * (MIN_PX input pixels) corresponds to at most min_face image pixels. Finer levels are cut into tiles that
 * overlap by more than the largest face a level is responsible for (bigger faces are found whole one level
 * up), so every face lies entirely inside some tile; detections touching an inner tile edge are dropped, and
 * the rest are merged by weighted non-maximum suppression (box and keypoints averaged with score weights). */
#include "face/internal.h"
#include "nn/pool.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MF_FACE_MAX_FOUND: faces one image may hold before detection refuses it (MF_ERR_LIMIT; never a silent cut);
 * MF_FACE_MAX_CANDIDATES: candidates before merging (mfmc/limits.h). Both arrays grow on demand up to these. */
enum { MAX_LAYERS = 4, MAX_FOUND = MF_FACE_MAX_FOUND, MAX_CAND = MF_FACE_MAX_CANDIDATES };

/* Candidates scoring between LOW_FACTOR * threshold and the threshold are kept when the verifier network,
 * run on a crop around them, scores them at least VERIFY_THRESHOLD (measured on LFW and the demo photos:
 * docs/accuracy.md). */
#define LOW_FACTOR 0.6f
#define VERIFY_THRESHOLD 0.75f
#define LEVEL_STEP 2.5f
/* Border mode frames each level by MF_FACE_DETECT_BORDER_PX network pixels of mirrored image; with narrow frames
 * allowed (privacy mode's turned passes), an axis where a frame of BORDER_MIN_PX needs fewer tiles gets that one. A
 * face at least 40% inside the image needs a frame of 0.6 of its side to show whole: 24 px holds the faces up to 40
 * network pixels, and a larger one is at most 17 pixels on the next coarser level (LEVEL_STEP 2.5), inside its frame
 * (docs/detection.md, det13). */
#define BORDER_MIN_PX 24
/* With sparse levels allowed (privacy mode's turned passes), border mode leaves out the level f0 (the whole image at
 * half the input) when the level before it already holds the whole framed image in one tile and lies at most
 * SPARSE_MAX_STEP above the border level (f0 / 2): that level shows every face f0 would, uncut and at 1.25-1.5 times
 * its size, and the step to the border level stays within the pyramid's largest (3x, with room for rounding). On a
 * 1920 x 1280 photo the turned passes' levels 1, 0.4, 0.267, 0.133 become 1, 0.4, 0.133 (docs/detection.md, "Branch
 * ratio17"). */
#define SPARSE_MAX_STEP 3.05f
/* Pyramid levels of at least this many pixels are resized in bands on the detector's pool (mf_face_resize_pooled):
 * the same bytes as one resize, on the threads that otherwise wait for the next network run (time15). */
#define POOLED_RESIZE_MIN_PIXELS 16384
/* (speed42) With a pool of two or more threads, the pyramid's tiles run whole on two threads at once, each thread on
 * its own single-thread plan of the detector, instead of each tile's layers split over the threads (small layers that
 * scale poorly): TILE_WINDOW tiles (across levels) are run, then merged in the grid's order, exactly as one after the
 * other. */
#define TILE_THREADS 2
#define TILE_WINDOW 8

/* How to decode each detector of the catalogue (role MF_FACE_ROLE_DETECTOR; the catalogue holds the files). */
typedef struct {
    const char *name;            /* catalogue name */
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

/* One BlazeFace-family network with its anchors. */
typedef struct {
    const det_config *cfg;
    mf_face_session_model sm; /* shared model, this session's plan */
    mf_nn_plan_t *plan;       /* sm.plan */
    int out_concat, out_score[MAX_LAYERS], out_reg[MAX_LAYERS];
    float *anchors; /* x, y per anchor, in input pixels */
    int n_anchors;
    const char *path; /* model file, for messages */
} det_net;

struct mf_face_detector {
    mf_face_detect_opts opts;
    det_net net;      /* the tiled detector */
    det_net verifier; /* second opinion on borderline candidates, run on a crop around each */
    mf_face_models_t *own_models; /* created by mf_face_detector_create, else NULL (shared) */
    mf_face_box *cand, *raw, *found; /* candidates (grown), one network's decode (n_anchors), results (grown) */
    int n_cand, cap_cand, n_found, cap_found;
    float weak;              /* strict mode: candidates from this score, under the threshold, kept apart (0: none) */
    mf_face_box *weak_found; /* those candidates after suppression (grown) */
    int n_weak, cap_weak;
    int last_tiles, last_verifications;
    int narrow;   /* border mode: frames of BORDER_MIN_PX where they save tiles (mf_face_detector_set_narrow_frame) */
    int sparse;   /* border mode: f0 left out where the level before it serves (mf_face_detector_set_sparse_levels) */
    int finest_only, shift; /* mf_face_detect_finest_shifted: the finest level alone, its tiles moved by shift */
    int last_finest;        /* tiles of the finest level in the last mf_face_detect_all */
    /* (speed42) the tiled network once more per tile thread, planned without the pool (made on the first window of
     * several tiles, with a pool of >= 2 threads), and the raw boxes of a window's tiles */
    det_net tnet[TILE_THREADS];
    int n_tnet;
    mf_face_box *traw;
    mf_face_models_t *models; /* the models the detector was made from (tnet's) */
};

static void net_free(det_net *n) {
    mf_face_session_model_free(&n->sm);
    free(n->anchors);
}

static int net_init(det_net *n, mf_face_models_t *models, const char *name, mf_nn_pool_t *pool) {
    memset(n, 0, sizeof *n);
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++)
        if (strcmp(configs[i].name, name) == 0) n->cfg = &configs[i];
    const mf_face_model_info *info = mf_face_model_find(name);
    if (!n->cfg || !info || !(info->roles & (MF_FACE_ROLE_DETECTOR | MF_FACE_ROLE_VERIFIER)))
        return mf_error_set(MF_ERR_ARG, "unknown detector model '%s'", name);
    const det_config *cfg = n->cfg;
    int st = mf_face_session_model_init(&n->sm, models, name, pool, 0, 0, 0);
    n->plan = n->sm.plan;
    n->path = n->sm.path;
    if (st) return st;
    for (int l = 0; l < cfg->n_layers; l++) {
        int g = (cfg->size + cfg->stride[l] - 1) / cfg->stride[l];
        n->n_anchors += g * g * cfg->anchors[l];
    }
    n->anchors = malloc((size_t)n->n_anchors * 2 * sizeof(float));
    if (!n->anchors) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int k = 0;
    for (int l = 0; l < cfg->n_layers; l++) {
        int g = (cfg->size + cfg->stride[l] - 1) / cfg->stride[l];
        for (int y = 0; y < g; y++)
            for (int x = 0; x < g; x++)
                for (int a = 0; a < cfg->anchors[l]; a++) {
                    n->anchors[2 * k] = (x + 0.5f) * cfg->stride[l];
                    n->anchors[2 * k + 1] = (y + 0.5f) * cfg->stride[l];
                    k++;
                }
    }
    /* check the outputs have the expected shapes, so decoding can never read out of bounds */
    if (cfg->concat_out) {
        st = mf_nn_plan_find_output(n->plan, cfg->concat_out, (size_t)n->n_anchors * 17, cfg->name, &n->out_concat);
    } else {
        for (int l = 0; l < cfg->n_layers && !st; l++) {
            int g = (cfg->size + cfg->stride[l] - 1) / cfg->stride[l], na = g * g * cfg->anchors[l];
            st = mf_nn_plan_find_output(n->plan, cfg->score_out[l], (size_t)na, cfg->name, &n->out_score[l]);
            if (!st) st = mf_nn_plan_find_output(n->plan, cfg->reg_out[l], (size_t)na * 16, cfg->name, &n->out_reg[l]);
        }
    }
    if (st) return mf_error_prefix(st, "%s: outputs do not have the shapes of a BlazeFace detector", cfg->name);
    return MF_OK;
}

/* MF_ERR_MODEL when any of the n values is not finite: the weights are damaged, and an image must never be
 * blamed for it (nor a face silently lost: a NaN score fails every threshold test). */
static int outputs_finite(const det_net *n, const float *v, size_t count) {
    return mf_nn_check_finite(v, count, n->path);
}

/* Runs the network on its (filled) input and writes the boxes whose score exceeds `threshold`, in input
 * pixels, to out (room for n->n_anchors). Returns the count, or MF_ERR_MODEL for non-finite outputs. */
static int net_decode(det_net *n, float threshold, mf_face_box *out) {
    const det_config *c = n->cfg;
    mf_nn_plan_run(n->plan);
    if (c->concat_out) {
        int st = outputs_finite(n, mf_nn_plan_output(n->plan, n->out_concat, NULL), (size_t)n->n_anchors * 17);
        if (st) return st;
    } else {
        for (int l = 0; l < c->n_layers; l++) {
            int g = (c->size + c->stride[l] - 1) / c->stride[l], na = g * g * c->anchors[l];
            int st = outputs_finite(n, mf_nn_plan_output(n->plan, n->out_score[l], NULL), (size_t)na);
            if (!st) st = outputs_finite(n, mf_nn_plan_output(n->plan, n->out_reg[l], NULL), (size_t)na * 16);
            if (st) return st;
        }
    }
    float logit_min = logf(threshold / (1.0f - threshold));
    const float *concat = c->concat_out ? mf_nn_plan_output(n->plan, n->out_concat, NULL) : NULL;
    int base = 0, cnt = 0;
    for (int l = 0; l < c->n_layers; l++) {
        int g = (c->size + c->stride[l] - 1) / c->stride[l], na = g * g * c->anchors[l];
        const float *sc = concat ? NULL : mf_nn_plan_output(n->plan, n->out_score[l], NULL);
        const float *rg = concat ? NULL : mf_nn_plan_output(n->plan, n->out_reg[l], NULL);
        for (int i = 0; i < na; i++) {
            int a = base + i;
            float logit = concat ? concat[(size_t)a * 17] : sc[i];
            if (!(logit > logit_min)) continue;
            const float *r = concat ? concat + (size_t)a * 17 + 1 : rg + (size_t)i * 16;
            float w = r[2], h = r[3];
            if (!(w > 1 && h > 1 && w < 4 * c->size && h < 4 * c->size)) continue;
            mf_face_box *b = &out[cnt++];
            b->x = n->anchors[2 * a] + r[0] - w / 2, b->y = n->anchors[2 * a + 1] + r[1] - h / 2;
            b->w = w, b->h = h;
            float lg = logit < -80 ? -80 : logit > 80 ? 80 : logit;
            b->score = 1.0f / (1.0f + expf(-lg));
            for (int k = 0; k < MF_FACE_KP_COUNT; k++) {
                b->kp[k][0] = n->anchors[2 * a] + r[4 + 2 * k];
                b->kp[k][1] = n->anchors[2 * a + 1] + r[5 + 2 * k];
            }
            b->roll = 0;
        }
        base += na;
    }
    return cnt;
}

int mf_face_detector_create_from(mf_face_models_t *models, const mf_face_detect_opts *opts,
                                 mf_face_detector_t **out) {
    *out = NULL;
    mf_face_detect_opts o = {"facemesh-detection-full", 24, 0.7f, 0.3f, NULL, 0, 0};
    if (opts) {
        if (opts->model) o.model = opts->model;
        if (opts->min_face > 0) o.min_face = opts->min_face;
        if (opts->threshold > 0) o.threshold = opts->threshold;
        if (opts->nms_iou > 0) o.nms_iou = opts->nms_iou;
        o.pool = opts->pool;
        o.strict = opts->strict;
        o.border = opts->border;
    }
    mf_face_detector_t *d = calloc(1, sizeof *d);
    if (!d) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    d->opts = o;
    d->models = models;
    int st = net_init(&d->net, models, o.model, o.pool);
    if (!st) st = net_init(&d->verifier, models, "blazeface", o.pool);
    if (!st) {
        int most = d->net.n_anchors > d->verifier.n_anchors ? d->net.n_anchors : d->verifier.n_anchors;
        if (!(d->raw = malloc((size_t)most * sizeof *d->raw))) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    if (st) {
        mf_face_detector_free(d);
        return st;
    }
    *out = d;
    return MF_OK;
}

int mf_face_detector_create(const char *models_root, const mf_face_detect_opts *opts, mf_face_detector_t **out) {
    *out = NULL;
    mf_face_models_t *models = NULL;
    int st = mf_face_models_create(models_root, &models);
    if (!st) st = mf_face_detector_create_from(models, opts, out);
    return mf_face_models_adopt(st, models, st ? NULL : &(*out)->own_models);
}

void mf_face_detector_free(mf_face_detector_t *d) {
    if (!d) return;
    net_free(&d->net);
    net_free(&d->verifier);
    for (int t = 0; t < d->n_tnet; t++) net_free(&d->tnet[t]);
    free(d->traw);
    free(d->cand);
    free(d->raw);
    free(d->found);
    free(d->weak_found);
    mf_face_models_free(d->own_models);
    free(d);
}

int mf_face_detector_last_tiles(const mf_face_detector_t *d) { return d->last_tiles; }
int mf_face_detector_last_verifications(const mf_face_detector_t *d) { return d->last_verifications; }

const char *mf_face_detector_model_at(int i) {
    for (int k = 0; mf_face_model_at(k); k++)
        if ((mf_face_model_at(k)->roles & MF_FACE_ROLE_DETECTOR) && i-- == 0) return mf_face_model_at(k)->name;
    return NULL;
}

/* Makes room for `need` boxes in *arr (capacity *cap), doubling; MF_ERR_LIMIT beyond `limit`. */
static int grow_boxes(mf_face_box **arr, int *cap, int need, int limit, const char *what) {
    if (need <= *cap) return MF_OK;
    if (need > limit)
        return mf_error_set(MF_ERR_LIMIT, "more than %d %s in one image: refusing rather than dropping some",
                            limit, what);
    int ncap = *cap < 256 ? 256 : *cap;
    while (ncap < need) ncap = ncap > limit / 2 ? limit : ncap * 2;
    size_t bytes;
    if (mf_size_mul((size_t)ncap, sizeof **arr, &bytes)) return mf_error_set(MF_ERR_LIMIT, "%s: size overflow", what);
    mf_face_box *nb = realloc(*arr, bytes);
    if (!nb) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    *arr = nb;
    *cap = ncap;
    return MF_OK;
}

/* The S x S window of `lvl` at (tx, ty) as network input in [-1, 1], 0 outside the level: a plain copy (what
 * the image module's warp computes for an integer translation, at a fraction of its cost: the tiles are most of
 * the pixels the pipeline samples). */
static void copy_tile(const mf_img *lvl, int tx, int ty, int S, float *in) {
    static const float k = 2.0f / 255.0f;
    int x0 = tx < 0 ? -tx : 0, x1 = lvl->w - tx < S ? lvl->w - tx : S;
    for (int y = 0; y < S; y++) {
        float *o = in + (size_t)y * S * 3;
        int sy = ty + y;
        if (sy < 0 || sy >= lvl->h || x1 <= x0) {
            memset(o, 0, (size_t)S * 3 * sizeof(float));
            continue;
        }
        if (x0 > 0) memset(o, 0, (size_t)x0 * 3 * sizeof(float));
        const uint8_t *p = lvl->data + ((size_t)sy * lvl->w + (size_t)(tx + x0)) * 3;
        for (int i = 0; i < (x1 - x0) * 3; i++) o[x0 * 3 + i] = (float)p[i] * k - 1.0f;
        if (x1 < S) memset(o + (size_t)x1 * 3, 0, (size_t)(S - x1) * 3 * sizeof(float));
    }
}

/* Mirror index: -1 -> 0, n -> n - 1, ...; clamped to the image beyond one reflection. */
static int mirror(int i, int n) {
    if (i < 0) i = -1 - i;
    if (i >= n) i = 2 * n - 1 - i;
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* copy_tile with the image mirrored at its edges (border mode): a face cut by the border at about its midline
 * becomes a whole, symmetric face, which the detector finds far more often than the half face next to grey. */
static void copy_tile_mirrored(const mf_img *lvl, int tx, int ty, int S, float *in) {
    static const float k = 2.0f / 255.0f;
    /* columns [x0, x1) of the tile lie inside the level: one span per row, as copy_tile (det13: most tiles lie
     * wholly inside, and the per-pixel mirror was a few percent of privacy mode's time); the others mirrored */
    int x0 = tx < 0 ? -tx : 0, x1 = lvl->w - tx < S ? lvl->w - tx : S;
    if (x1 < x0) x1 = x0;
    for (int y = 0; y < S; y++) {
        const uint8_t *row = lvl->data + (size_t)mirror(ty + y, lvl->h) * lvl->w * 3;
        float *o = in + (size_t)y * S * 3;
        for (int x = 0; x < x0; x++) {
            const uint8_t *p = row + (size_t)mirror(tx + x, lvl->w) * 3;
            o[3 * x] = (float)p[0] * k - 1.0f, o[3 * x + 1] = (float)p[1] * k - 1.0f, o[3 * x + 2] = (float)p[2] * k - 1.0f;
        }
        const uint8_t *p = row + (size_t)(tx + x0) * 3;
        for (int i = 0; i < (x1 - x0) * 3; i++) o[x0 * 3 + i] = (float)p[i] * k - 1.0f;
        for (int x = x1; x < S; x++) {
            const uint8_t *q = row + (size_t)mirror(tx + x, lvl->w) * 3;
            o[3 * x] = (float)q[0] * k - 1.0f, o[3 * x + 1] = (float)q[1] * k - 1.0f, o[3 * x + 2] = (float)q[2] * k - 1.0f;
        }
    }
}

/* One tile of a level: its origin, the level's factor and frame. */
typedef struct {
    const mf_img *lvl;
    int tx, ty, padx, pady;
    float f;
} tile_ref;

/* Runs network `net` on tile t, the S x S window of its level at (tx, ty) (mirrored at the level's edges when framed,
 * else zero-padded outside), and decodes its boxes over `low` into raw (room for net->n_anchors): the count, or
 * MF_ERR_MODEL. */
static int tile_decode(det_net *net, const tile_ref *t, float low, mf_face_box *raw) {
    int S = net->cfg->size;
    float *in = mf_nn_plan_input(net->plan, 0, NULL);
    if (t->padx || t->pady) copy_tile_mirrored(t->lvl, t->tx, t->ty, S, in);
    else copy_tile(t->lvl, t->tx, t->ty, S, in);
    return net_decode(net, low, raw);
}

/* Adds a tile's n decoded boxes (raw, in tile pixels) to the candidates: those touching an inner tile edge are
 * dropped, the rest mapped to image pixels. */
static int tile_collect(mf_face_detector_t *d, const tile_ref *t, const mf_face_box *raw, int n) {
    int S = d->net.cfg->size, tx = t->tx, ty = t->ty, padx = t->padx, pady = t->pady;
    const mf_img *lvl = t->lvl;
    float f = t->f;
    int st = grow_boxes(&d->cand, &d->cap_cand, d->n_cand + n, MAX_CAND, "face candidates");
    if (st) return st;
    int inner_l = tx > -padx, inner_t = ty > -pady, inner_r = tx + S < lvl->w + padx, inner_b = ty + S < lvl->h + pady;
    float margin = 0.01f * (float)S, inv = 1.0f / f;
    for (int i = 0; i < n; i++) {
        mf_face_box b = raw[i];
        if ((inner_l && b.x < margin) || (inner_t && b.y < margin) || (inner_r && b.x + b.w > S - margin) ||
            (inner_b && b.y + b.h > S - margin))
            continue;
        b.x = (b.x + tx) * inv, b.y = (b.y + ty) * inv, b.w *= inv, b.h *= inv;
        for (int k = 0; k < MF_FACE_KP_COUNT; k++) b.kp[k][0] = (b.kp[k][0] + tx) * inv, b.kp[k][1] = (b.kp[k][1] + ty) * inv;
        d->cand[d->n_cand++] = b;
    }
    return MF_OK;
}

/* Runs the network on tile t and appends the detections above `low`, mapped back to image pixels by 1/f, that do not
 * touch an inner edge of the tile (tile_decode, then tile_collect). */
static int run_tile(mf_face_detector_t *d, const tile_ref *t, float low) {
    int n = tile_decode(&d->net, t, low, d->raw);
    return n < 0 ? n : tile_collect(d, t, d->raw, n);
}

/* ---- (speed42) whole tiles on two threads ---- */

typedef struct {
    mf_face_detector_t *d;
    const tile_ref *t;
    int n;
    float low;
    atomic_int next;
    int cnt[TILE_WINDOW];       /* boxes decoded per tile, or a status < 0 */
    char msg[TILE_WINDOW][256]; /* a failed tile's message */
} tile_batch;

static void tile_work(void *ctx, int ith, int nth) {
    (void)nth;
    tile_batch *b = ctx;
    if (ith >= b->d->n_tnet) return;
    det_net *net = &b->d->tnet[ith];
    for (int k; (k = atomic_fetch_add(&b->next, 1)) < b->n;) {
        mf_face_box *raw = b->d->traw + (size_t)k * (size_t)b->d->net.n_anchors;
        b->cnt[k] = tile_decode(net, &b->t[k], b->low, raw);
        if (b->cnt[k] < 0) snprintf(b->msg[k], sizeof b->msg[k], "%s", mf_error_get());
    }
}

/* Makes the tile threads' networks and the window's box buffer (once). */
static int tiles_par_init(mf_face_detector_t *d) {
    if (d->n_tnet == TILE_THREADS) return MF_OK;
    size_t bytes;
    if (mf_size_mul((size_t)TILE_WINDOW * (size_t)d->net.n_anchors, sizeof *d->traw, &bytes))
        return mf_error_set(MF_ERR_LIMIT, "detector: size overflow");
    if (!d->traw && !(d->traw = malloc(bytes))) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    while (d->n_tnet < TILE_THREADS) {
        int st = net_init(&d->tnet[d->n_tnet], d->models, d->net.cfg->name, NULL);
        if (st) {
            net_free(&d->tnet[d->n_tnet]);
            return st;
        }
        d->n_tnet++;
    }
    return MF_OK;
}

/* Tiles t[0..n) (n <= TILE_WINDOW, of one level or several) on the tile threads, merged in their order: the
 * candidates run_tile gives one after the other (a tile's network output does not depend on the threads it ran on).
 * A single tile runs as run_tile does (its layers over the pool). */
static int run_tiles_par(mf_face_detector_t *d, const tile_ref *t, int n, float low) {
    if (n == 1) return run_tile(d, t, low);
    int st = tiles_par_init(d);
    if (st) return st;
    tile_batch b = {.d = d, .t = t, .n = n, .low = low};
    atomic_init(&b.next, 0);
    mf_nn_pool_run(d->opts.pool, tile_work, &b);
    for (int k = 0; k < n && !st; k++) {
        if (b.cnt[k] < 0) return mf_error_set(b.cnt[k], "%s", b.msg[k]);
        st = tile_collect(d, &t[k], d->traw + (size_t)k * (size_t)d->net.n_anchors, b.cnt[k]);
    }
    return st;
}

/* ---- pyramid levels resized on the network's threads (time15) ---- */

typedef struct {
    const mf_img *src;
    mf_img *dst;
    int st[MF_NN_MAX_THREADS];
} resize_job;

static void resize_band(void *ctx, int ith, int nth) {
    resize_job *j = ctx;
    int h = j->dst->h;
    j->st[ith] = mf_img_resize_rows(j->src, j->dst, (int)((long)h * ith / nth), (int)((long)h * (ith + 1) / nth));
}

int mf_face_resize_pooled(mf_nn_pool_t *pool, const mf_img *src, int ow, int oh, mf_img *dst) {
    memset(dst, 0, sizeof *dst);
    int nth = mf_nn_pool_threads(pool);
    /* a small level is not worth waking the workers (and one thread is the plain resize) */
    if (nth < 2 || (long)ow * oh < POOLED_RESIZE_MIN_PIXELS) return mf_img_resize(src, ow, oh, dst);
    if (ow < 1 || oh < 1) return mf_error_set(MF_ERR_ARG, "resize to %dx%d", ow, oh);
    int st = mf_img_init(dst, ow, oh, src->c);
    if (st) return st;
    resize_job j = {src, dst, {0}};
    mf_nn_pool_run(pool, resize_band, &j);
    for (int i = 0; i < nth && !st; i++)
        st = j.st[i];
    if (!st) return MF_OK;
    mf_img_free(dst);
    /* a worker's message is its thread's: set one here */
    return mf_error_set(st, "resize to %dx%d failed in bands", ow, oh);
}

/* Tiles of side S, `stride` apart at most, covering a span of n pixels. */
static int tiles_along(int n, int S, int stride) { return n <= S ? 1 : (n - S + stride - 1) / stride + 1; }

/* Tiles of the w x h image's pyramid level f in border mode with frames of `pad` (narrowed as mf_face_detect_all
 * does). */
static int level_tiles(const mf_face_detector_t *d, int w, int h, float f, int pad, int stride) {
    int S = d->net.cfg->size, lw = (int)lroundf(w * f), lh = (int)lroundf(h * f);
    if (lw < 1) lw = 1;
    if (lh < 1) lh = 1;
    int nx = tiles_along(lw + 2 * pad, S, stride), ny = tiles_along(lh + 2 * pad, S, stride);
    if (d->narrow) {
        int nxn = tiles_along(lw + 2 * BORDER_MIN_PX, S, stride), nyn = tiles_along(lh + 2 * BORDER_MIN_PX, S, stride);
        if (nxn < nx) nx = nxn;
        if (nyn < ny) ny = nyn;
    }
    return nx * ny;
}

/* mf_face_box_iou (face.h) */
float mf_face_box_iou(const mf_face_box *a, const mf_face_box *b) {
    float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
    float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
    float inter = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0);
    float uni = a->w * a->h + b->w * b->h - inter;
    return uni > 0 ? inter / uni : 0;
}

/* mf_face_box_overlap_small (face.h) */
float mf_face_box_overlap_small(const mf_face_box *a, const mf_face_box *b) {
    float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
    float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
    float inter = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0), small = fminf(a->w * a->h, b->w * b->h);
    return small > 0 ? inter / small : 0;
}

static int by_score_desc(const void *pa, const void *pb) {
    float a = ((const mf_face_box *)pa)->score, b = ((const mf_face_box *)pb)->score;
    return a < b ? 1 : a > b ? -1 : 0;
}

/* Second opinion on a borderline face: the verifier network on a square crop twice the box size around it.
 * Sets *best to the best verifier score of a box overlapping the candidate (0 if none); returns a status. */
static int verify(mf_face_detector_t *d, const mf_img *img, const mf_face_box *b, float *best) {
    det_net *v = &d->verifier;
    int S = v->cfg->size;
    float side = 2.0f * fmaxf(b->w, b->h), s = side / (float)S;
    float x0 = b->x + b->w / 2 - side / 2, y0 = b->y + b->h / 2 - side / 2;
    float m[6] = {s, 0, x0 + 0.5f * s - 0.5f, 0, s, y0 + 0.5f * s - 0.5f};
    mf_img_warp_to_float(img, m, S, S, 2.0f / 255.0f, -1.0f, 0.0f, mf_nn_plan_input(v->plan, 0, NULL));
    int n = net_decode(v, 0.3f, d->raw);
    if (n < 0) return n;
    mf_face_box c = {(b->x - x0) / s, (b->y - y0) / s, b->w / s, b->h / s, 0, {{0}}, 0};
    *best = 0;
    for (int i = 0; i < n; i++)
        if (d->raw[i].score > *best && mf_face_box_iou(&d->raw[i], &c) > 0.3f) *best = d->raw[i].score;
    return MF_OK;
}

int mf_face_detector_input(const mf_face_detector_t *d) { return d->net.cfg->size; }

float mf_face_detector_min_px(const mf_face_detector_t *d) { return d->net.cfg->min_px; }

void mf_face_detector_set_weak(mf_face_detector_t *d, float weak) { d->weak = weak; }

void mf_face_detector_set_narrow_frame(mf_face_detector_t *d, int on) { d->narrow = on != 0; }

void mf_face_detector_set_sparse_levels(mf_face_detector_t *d, int on) { d->sparse = on != 0; }

int mf_face_detector_last_finest_tiles(const mf_face_detector_t *d) { return d->last_finest; }

void mf_face_detector_last_weak(const mf_face_detector_t *d, const mf_face_box **boxes, int *n) {
    *boxes = d->weak_found;
    *n = d->n_weak;
}

int mf_face_detect_zoom(mf_face_detector_t *d, const mf_img *img, float cx, float cy, float f, float threshold,
                        const mf_face_box **boxes, int *n) {
    *boxes = NULL;
    *n = 0;
    int st = mf_face_check_rgb(img, "detection needs");
    if (st) return st;
    if (!(f > 1e-4f && f < 64 && isfinite(cx) && isfinite(cy) && fabsf(cx) < 1e6f && fabsf(cy) < 1e6f &&
          threshold > 0 && threshold < 1))
        return mf_error_set(MF_ERR_ARG, "bad zoom region");
    det_net *net = &d->net;
    int S = net->cfg->size;
    float s = 1.0f / f, side = (float)S * s, x0 = cx - 0.5f * side, y0 = cy - 0.5f * side;
    /* input pixel (u, v) covers image [x0 + u s, x0 + (u + 1) s): its centre, in the warp's pixel-centre frame */
    float m[6] = {s, 0, x0 + 0.5f * s - 0.5f, 0, s, y0 + 0.5f * s - 0.5f};
    mf_img_warp_to_float(img, m, S, S, 2.0f / 255.0f, -1.0f, 0.0f, mf_nn_plan_input(net->plan, 0, NULL));
    int k = net_decode(net, threshold, d->raw);
    if (k < 0) return k;
    for (int i = 0; i < k; i++) {
        mf_face_box *b = &d->raw[i];
        b->x = x0 + b->x * s, b->y = y0 + b->y * s, b->w *= s, b->h *= s;
        for (int j = 0; j < MF_FACE_KP_COUNT; j++)
            b->kp[j][0] = x0 + b->kp[j][0] * s, b->kp[j][1] = y0 + b->kp[j][1] * s;
        b->roll = atan2f(b->kp[MF_FACE_KP_LEYE][1] - b->kp[MF_FACE_KP_REYE][1],
                         b->kp[MF_FACE_KP_LEYE][0] - b->kp[MF_FACE_KP_REYE][0]);
    }
    *boxes = d->raw;
    *n = k;
    return MF_OK;
}

int mf_face_detect_finest_shifted(mf_face_detector_t *d, const mf_img *img, int shift, const mf_face_box **faces,
                                  int *n_faces) {
    d->finest_only = 1, d->shift = shift;
    int st = mf_face_detect_all(d, img, faces, n_faces);
    d->finest_only = 0, d->shift = 0;
    return st;
}

int mf_face_detect(mf_face_detector_t *d, const mf_img *img, mf_face_box *faces, int max_faces, int *n_faces) {
    *n_faces = 0;
    if (max_faces < 0 || (max_faces > 0 && !faces)) return mf_error_set(MF_ERR_ARG, "bad face buffer");
    const mf_face_box *all;
    int n, st = mf_face_detect_all(d, img, &all, &n);
    if (st) return st;
    if (n > max_faces) n = max_faces;
    if (n > 0) memcpy(faces, all, (size_t)n * sizeof *faces);
    *n_faces = n;
    return MF_OK;
}

int mf_face_detect_all(mf_face_detector_t *d, const mf_img *img, const mf_face_box **faces, int *n_faces) {
    *n_faces = 0;
    *faces = NULL;
    d->n_cand = 0;
    d->n_found = 0;
    d->n_weak = 0;
    d->last_tiles = 0;
    d->last_verifications = 0;
    d->last_finest = 0;
    int st0 = mf_face_check_rgb(img, "detection needs");
    if (st0) return st0;
    const det_config *c = d->net.cfg;
    int S = c->size, big = img->w > img->h ? img->w : img->h;
    /* Levels: the coarsest shows the whole image at half the input size (faces filling the frame are outside the
     * full-range model's training range: measured on LFW close-ups); the finest is where the smallest face to
     * find has MIN_PX input pixels; in between, factors of at most LEVEL_STEP. A level finds faces from min_px to
     * about 3.5 min_px input pixels whole inside a tile (the tile overlap), so steps up to 3x leave no gap. */
    float f0 = 0.5f * (float)S / (float)big, fine = c->min_px / (float)d->opts.min_face;
    if (fine > 2.0f) fine = 2.0f;
    float levels[32];
    int n_levels = 0;
    for (float f = fine; f > f0 * 1.25f && n_levels < 30; f /= LEVEL_STEP) levels[n_levels++] = f;
    levels[n_levels++] = f0;
    /* border mode: the image framed by grey, and a coarser level for close-ups cut by the border (the face larger
     * than the image) */
    int pad = d->opts.border ? MF_FACE_DETECT_BORDER_PX : 0;
    int overlap = (int)ceilf(c->min_px * 3.5f);
    if (pad && d->sparse && n_levels >= 2 && levels[n_levels - 2] <= SPARSE_MAX_STEP * 0.5f * f0 &&
        level_tiles(d, img->w, img->h, levels[n_levels - 2], pad, S - overlap) == 1)
        n_levels--; /* f0: the level before it serves */
    if (pad) levels[n_levels++] = 0.5f * f0;
    if (d->finest_only) n_levels = 1;
    /* candidates down to a lower score; those under the threshold must be confirmed by the verifier */
    float low = d->opts.strict ? d->opts.threshold : d->opts.threshold * LOW_FACTOR;
    /* strict with weak candidates: decoded from d->weak, never averaged into a face scoring the threshold (its
     * detection stays what it is without them), reported apart (mf_face_detector_last_weak) */
    int weak_mode = d->opts.strict && d->weak > 0 && d->weak < d->opts.threshold;
    if (weak_mode) low = d->weak;
    /* finest level first: each coarser one is resized from the previous (a quarter of the pixels or fewer) */
    /* (speed42) with a pool of >= 2 threads, the tiles of every level go through a window of TILE_WINDOW on the two
     * tile threads, across levels (a level's last tiles share a window with the next level's first): the levels stay
     * until the window holding their last tile is merged */
    int par = mf_nn_pool_threads(d->opts.pool) >= TILE_THREADS;
    mf_img lv[sizeof levels / sizeof *levels];
    tile_ref win[TILE_WINDOW];
    int nwin = 0, st = MF_OK, n_lv = 0;
    for (int li = 0; li < n_levels && !st; li++) {
        float f = levels[li];
        int lw = (int)lroundf(img->w * f), lh = (int)lroundf(img->h * f);
        if (lw < 1) lw = 1;
        if (lh < 1) lh = 1;
        const mf_img *prev = n_lv ? &lv[n_lv - 1] : NULL;
        if ((st = mf_face_resize_pooled(d->opts.pool, prev && prev->w >= lw && prev->h >= lh ? prev : img, lw, lh,
                                        &lv[n_lv])))
            break;
        const mf_img *lvl = &lv[n_lv++];
        /* without the window, a level is needed only until the next one is resized from it */
        if (!par && n_lv == 2) mf_img_free(&lv[0]), lv[0] = lv[1], lvl = &lv[0], n_lv = 1;
        int stride = S - overlap;
        /* the tiles cover [-padx, lw + padx) x [-pady, lh + pady); a level smaller than a tile is centred in it
         * when framed (pad), else at its top-left corner. Framed with narrow frames allowed, an axis whose frame of
         * BORDER_MIN_PX needs one row or column of tiles fewer than the full frame gets the narrower frame (det13) */
        int padx = pad, pady = pad;
        if (pad && d->narrow && tiles_along(lw + 2 * BORDER_MIN_PX, S, stride) < tiles_along(lw + 2 * pad, S, stride))
            padx = BORDER_MIN_PX;
        if (pad && d->narrow && tiles_along(lh + 2 * BORDER_MIN_PX, S, stride) < tiles_along(lh + 2 * pad, S, stride))
            pady = BORDER_MIN_PX;
        int sw = lw + 2 * padx, sh = lh + 2 * pady;
        int nx = tiles_along(sw, S, stride), ny = tiles_along(sh, S, stride);
        /* the shifted grid (mf_face_detect_finest_shifted): one tile fewer along an axis of several */
        int sx = d->finest_only && nx > 1 ? d->shift : 0, sy = d->finest_only && ny > 1 ? d->shift : 0;
        for (int iy = 0; iy < ny - (sy > 0) && !st; iy++)
            for (int ix = 0; ix < nx - (sx > 0) && !st; ix++) {
                int tx = nx == 1 ? (pad ? (lw - S) / 2 : 0) : -padx + (int)((long)ix * (sw - S) / (nx - 1)) + sx;
                int ty = ny == 1 ? (pad ? (lh - S) / 2 : 0) : -pady + (int)((long)iy * (sh - S) / (ny - 1)) + sy;
                d->last_tiles++;
                d->last_finest += li == 0;
                tile_ref t = {lvl, tx, ty, pad ? padx : 0, pad ? pady : 0, f};
                if (!par) {
                    st = run_tile(d, &t, low);
                    continue;
                }
                win[nwin++] = t;
                if (nwin == TILE_WINDOW) st = run_tiles_par(d, win, nwin, low), nwin = 0;
            }
    }
    if (!st && nwin) st = run_tiles_par(d, win, nwin, low);
    for (int i = 0; i < n_lv; i++) mf_img_free(&lv[i]);
    if (st) return st;
    /* weighted non-maximum suppression */
    if (d->n_cand > 1) qsort(d->cand, (size_t)d->n_cand, sizeof *d->cand, by_score_desc);
    char *used = calloc((size_t)d->n_cand + 1, 1);
    if (!used) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < d->n_cand && !st; i++) {
        if (used[i]) continue;
        mf_face_box acc = {0};
        float wsum = 0;
        int strong = d->cand[i].score >= d->opts.threshold;
        for (int j = i; j < d->n_cand; j++) {
            if (used[j] || (j != i && mf_face_box_iou(&d->cand[i], &d->cand[j]) <= d->opts.nms_iou)) continue;
            used[j] = 1;
            const mf_face_box *b = &d->cand[j];
            if (weak_mode && strong && b->score < d->opts.threshold) continue; /* suppressed, not averaged */
            float w = b->score;
            acc.x += w * b->x, acc.y += w * b->y, acc.w += w * b->w, acc.h += w * b->h;
            for (int k = 0; k < MF_FACE_KP_COUNT; k++) acc.kp[k][0] += w * b->kp[k][0], acc.kp[k][1] += w * b->kp[k][1];
            wsum += w;
        }
        mf_face_box o = acc;
        o.x /= wsum, o.y /= wsum, o.w /= wsum, o.h /= wsum;
        for (int k = 0; k < MF_FACE_KP_COUNT; k++) o.kp[k][0] /= wsum, o.kp[k][1] /= wsum;
        o.score = d->cand[i].score;
        o.roll = atan2f(o.kp[MF_FACE_KP_LEYE][1] - o.kp[MF_FACE_KP_REYE][1],
                        o.kp[MF_FACE_KP_LEYE][0] - o.kp[MF_FACE_KP_REYE][0]);
        if (weak_mode && !strong) {
            if ((st = grow_boxes(&d->weak_found, &d->cap_weak, d->n_weak + 1, MAX_FOUND, "weak candidates"))) break;
            d->weak_found[d->n_weak++] = o;
            continue;
        }
        if (o.score < d->opts.threshold) {
            float best;
            d->last_verifications++;
            if ((st = verify(d, img, &o, &best)) || best < VERIFY_THRESHOLD) continue;
        }
        if ((st = grow_boxes(&d->found, &d->cap_found, d->n_found + 1, MAX_FOUND, "faces"))) break;
        d->found[d->n_found++] = o;
    }
    free(used);
    if (st) {
        d->n_found = d->n_weak = 0;
        return st;
    }
    *faces = d->found;
    *n_faces = d->n_found;
    return MF_OK;
}
