/* Privacy detection (include/mfmc/privacy.h): four passes of the tiled detector over the image turned by 0, 90,
 * 180 and 270 degrees, in border mode (tiles reaching beyond the image), mapped back and merged.
 *
 * The upright pass looks for faces down to MF_PRIVACY_MIN_FACE pixels; the turned passes only from
 * MF_PRIVACY_TURNED_MIN_FACE (the finest pyramid levels are most of the tiles: a turned pass at 40 px costs about
 * a sixth of the upright one), which is what keeps privacy mode within its time budget (docs/detection.md). Small
 * faces the upright pass scores under the threshold are looked at again on zoomed tiles (a cascade, ZOOM_*). */
#include "face/internal.h"
#include "face/judge.h"
#include "face/orient.h"
#include "face/privacy_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* MAX_CANDIDATES: candidates of the four passes together (each pass is capped at 100,000 faces by detect.c). */
enum { MAX_CANDIDATES = 4 * 100000 };
#define MERGE_IOU 0.3f
/* Candidates with less than this fraction of their box inside the image are dropped (the cut faces show
 * at least 40% of the face; the tiles' mirrored border shows whole reflected faces outside the image). */
#define MIN_VISIBLE 0.3f
/* A face whose mesh crops (about 1.1 box sides from its centre, rotated, over the passes) may reach outside the
 * image is meshed on the region of MIRROR_REGION box sides around it, mirrored at the image edges like the
 * detector's border tiles (a face cut at its midline becomes a whole one the mesh confirms); regions up to
 * MIRROR_MAX_SIDE pixels. */
#define MIRROR_REGION 1.6f
/* A candidate the mesh does not confirm is kept (non-face fallback) from this detector score; below it, it is
 * dropped. On the face-free crops every unconfirmed false candidate scored below 0.65, while with the mirrored
 * border and mesh the cut, small and rotated faces are nearly all confirmed (docs/detection.md). */
#define KEEP_UNCONFIRMED 0.7f
#define MIRROR_MAX_SIDE 8192
/* A candidate the mesh accepts only weakly (flag from MESH_ACCEPT, the analyzer's MESH_MIN_SCORE, to PAINT_MIN_MESH)
 * is kept (non-face fallback) from this detector score; below it, it is dropped. The one false positive of the
 * face-free crops: detector 0.52, flag 0.76; the weakly accepted true faces of the cut sets: detector 0.69 and up
 * (docs/detection.md). */
#define KEEP_WEAK 0.6f
#define MESH_ACCEPT 0.5f
/* A face the mesh accepts (flag >= 0.5) is painted with a synthetic face only from this flag; between the two it
 * is kept unconfirmed (fallback). The one confirmed false positive of the face-free crops had a flag of 0.76;
 * true faces: 0.83 and up on small16, three of the cut faces at 0.59 / 0.71 / 0.76 (those get the fallback now).
 * Set from one false positive: docs/detection.md. */
#define PAINT_MIN_MESH 0.8f
/* The detector runs from MF_PRIVACY_THRESHOLD (0.3): a candidate scoring below SURE_SCORE (the normal mode's
 * threshold), or with less than CUT_VISIBLE of its box inside the image (the mirrored border makes symmetric
 * shapes of half objects), is painted only from a face flag of LOW_PAINT_MIN_MESH. Grid faces the detector scores
 * 0.30-0.41: flags 0.89-1.00; the false candidates of the face-free crops at 0.30 (a badge and stripes cut by the
 * border, scores 0.38 and 0.52): flags 0.81 (docs/detection.md). A doubtful candidate scoring below 0.5 is never
 * kept unconfirmed (KEEP_WEAK and KEEP_UNCONFIRMED are higher). */
#define SURE_SCORE 0.5f
#define CUT_VISIBLE 0.9f
#define LOW_PAINT_MIN_MESH 0.85f
/* The mesh's first crop of a candidate gives a face flag; below FIRST_REJECT the candidate is rejected without the
 * refining crops (they follow the first crop's mesh, which is noise at such a flag). docs/detection.md. */
#define FIRST_REJECT 0.1f
/* A face the mesh would paint (flag from PAINT_MIN_MESH) with a flag under FLIP_SURE is meshed from the crop turned by
 * 180 degrees as well, and when the best flag is still under FLIP_QUARTER from the crops turned by 90 and 270
 * degrees (until one reaches it); the highest flag is kept. A weakly accepted candidate is not retried (most are
 * not faces), and the quarter turns only for a weak best flag: each retry costs up to four mesh runs (a candidate
 * of sample1 at 0.93 / 0.975 cost 12 when all three ran). The faces meshed the wrong way round on the rotated sets
 * had flags 0.85 and 0.96, the correctly turned crop 1.00; 104 of the 106 faces of the rotated sets (stride 4) have
 * flags from 0.995 (docs/detection.md). */
#define FLIP_SURE 0.99f
#define FLIP_QUARTER 0.9f
#define FLIP_SHIFT 0.35f
#define FLIP_SCALE 1.6f
/* After the mesh, a face whose extent lies more than this fraction inside a confirmed face's is the same face
 * (a detection of part of it, or of the head around it): dropped. */
#define DEDUP_OVERLAP 0.5f
/* ... unless both are confirmed and their detections' centres lie more than DEDUP_DISTINCT of the larger detection's
 * side apart (two faces side by side). */
#define DEDUP_DISTINCT 0.5f
/* ... and unless the smaller is a detection of a part of the other's head (part_of_head): at most PART_SCALE of its
 * side, centred in the ellipse of PART_RX by PART_RY of its side around it (the ears lie about 0.6-0.7 of the face
 * box's side from its centre: the false second faces seen were 0.60 and 0.41 of the face's size, centred 0.67 and
 * 0.62 of its side away; docs/detection.md). */
/* Before its mesh run, a candidate whose detection lies more than COVERED_OVERLAP inside a confirmed face's mesh box
 * and which is the same face or a part of its head by the rules above is not meshed: the dedup would drop it whatever
 * its mesh says (mf_face_privacy_covered; its mesh box, were it confirmed, lies on the same face). */
#define COVERED_OVERLAP 0.5f
#define PART_SCALE 0.7f
#define PART_RX 0.72f
#define PART_RY 1.0f

/* Cascade for small faces: the upright pass runs from ZOOM_LOW; a candidate scoring under the threshold whose box
 * side is at most ZOOM_MAX_SIDE image pixels is looked at again on one zoomed tile (mf_face_detect_zoom), scaled so
 * the face has ZOOM_FACE_PX network pixels (its finest level shows a 16 px face at 12, the network's limit). A
 * detection of the zoomed tile overlapping it (IOU > ZOOM_IOU) and scoring at least the threshold replaces it; else
 * it is dropped as before. docs/detection.md. */
#define ZOOM_LOW 0.1f
#define ZOOM_MAX_SIDE 24.0f
#define ZOOM_FACE_PX 24.0f
#define ZOOM_IOU 0.3f
/* A zoomed tile also serves the later weak candidates inside it (ZOOM_MARGIN of their side from its edges) that it
 * shows with ZOOM_FACE_MIN..ZOOM_FACE_MAX network pixels (the detector's range on one level); at most ZOOM_MAX_TILES
 * zoomed tiles per image. */
#define ZOOM_MARGIN 0.25f
#define ZOOM_FACE_MIN 16.0f
#define ZOOM_FACE_MAX 40.0f
#define ZOOM_MAX_TILES 256
/* Larger weak boxes (small15): the finest level often points at a 20-24 px face with a weak box of 26-36 px, and at a
 * 40 px grid face with one of 33-41 px. A weak candidate of ZOOM_MAX_SIDE..ZOOM_BIG_SIDE px scoring at least
 * ZOOM_BIG_LOW (textures give many under it: each is a network run) is zoomed too, by min(1, ZOOM_BIG_PX / side): its
 * box at ZOOM_BIG_PX network pixels but never magnified, so a face of half the box still has 18 (a 40 px face zoomed
 * to 40 scores under the threshold, at 28-36 it scores 0.7-0.8). A zoomed detection replaces a weak candidate when
 * it overlaps it (ZOOM_IOU) or lies mostly inside it: more than ZOOM_INSIDE of its area (a 20 px face in a 36 px box
 * has an IOU of 0.3). docs/detection.md, "Branch small15". */
/* A candidate from the threshold under ZOOM_AGAIN_BELOW whose box side is at most ZOOM_MAX_SIDE is looked at again on
 * a zoomed tile as a weak one is (its face at ZOOM_FACE_PX network pixels); a zoomed detection standing for it
 * (zoom_matches) and scoring higher gives it its box and keypoints, keeping the candidate's own score (the painting and
 * keep rules stay those of a doubtful small face), and the mesh must accept it (MF_PRIVACY_FROM_ZOOM_AGAIN,
 * mf_face_privacy_zoom_unsure): the finest level's box of a 16 px face may lie off the face (small16 352,112: 0.34,
 * mesh flag under 0.5; zoomed, on the face, flag 1.00). docs/detection.md, "Branch small16". */
#define ZOOM_AGAIN_BELOW 0.5f
#define ZOOM_BIG_SIDE 44.0f
#define ZOOM_BIG_LOW 0.2f
#define ZOOM_BIG_PX 36.0f
#define ZOOM_INSIDE 0.6f

/* A first judge before a zoomed tile (ratio19): a weak candidate (or a small one the second zoomed look takes again)
 * is first shown to the short-range detector (WEAK_JUDGE_MODEL: 62 MFLOP a run against the full detector's 251); its
 * zoomed tile is run only when the view has a box scoring WEAK_JUDGE_KEEP centred within WEAK_JUDGE_NEAR of the
 * candidate's side from its centre (else the candidate is looked at on the zoomed tiles that exist, as before).
 * Measured on main's cascade (docs/detection.md, "Branch ratio19"): every weak candidate on a face of the small and
 * grid sets that its zoomed tile turned into a detection scored 0.61 or more in a 128 px view centred on it, its side
 * at 32 network pixels; the textures of the demo photos (no face under 100 px) scored under 0.4 for 124 of their 144
 * zoomed tiles. Four candidates share one run (ratio20): each is centred in a quarter of the input (64 network
 * pixels), its side at WEAK_JUDGE_FRAC of it (32 network pixels, as in ratio19's views, with half a side of its
 * surroundings around it instead of one and a half): ratio19's 195 views on the six demo photos become 77 runs. In
 * these runs the weak candidates of the small and grid sets whose zoomed tile finds their face score from 0.479 (209
 * candidates; 0.545, 0.599, then from 0.646), the demo photos' 299 candidates under 0.4 but 24 (docs/detection.md,
 * "Branch ratio20"). At most WEAK_JUDGE_MAX_RUNS runs per call of the cascade, beyond which candidates go to their
 * zoomed tiles unjudged, as before. The crowds' pointed boxes (crowd_pointed) are not judged. */
#define WEAK_JUDGE_MODEL "facemesh-detection-short"
#define WEAK_JUDGE_FRAC 0.5f
#define WEAK_JUDGE_NEAR 0.75f
#define WEAK_JUDGE_KEEP 0.4f
enum { WEAK_JUDGE_MAX_RUNS = 256 };

typedef struct {
    float cx, cy, f;
    int from; /* MF_PRIVACY_FROM_ZOOM or MF_PRIVACY_FROM_ZOOM_BIG: the kind of weak candidate it was zoomed for */
} zoom_tile;

struct mf_face_privacy_detector {
    mf_face_detector_t *upright, *turned;
    mf_face_box *cand;
    int *cand_turns;
    unsigned char *cand_from; /* MF_PRIVACY_FROM_* of each candidate */
    int *leader;              /* the merge's leading candidate of each face */
    /* crowds (grid21): the merge's members of each face, leader included, as index lists into pd->cand:
     * member[member_start[i] .. member_start[i + 1]) for face i of the last detection; n_member_faces faces (0: the
     * last image was no crowd) */
    int *member_of, *member_start, *member;
    int n_member_faces;
    int cap_cand;
    mf_face_candidate *faces;
    int cap_faces;
    int last_tiles, last_verifications, last_zooms;
    int last_turned_tiles, last_turned_finest, last_views;
    float threshold;
    /* the turned passes run on the image scaled by turned_scale (their finest level: 1 when the turned minimum face
     * is at or under the network's), turned after the scaling, not before (TURNED_SHARED) */
    float turned_scale;
    mf_face_box *weak; /* the upright pass's candidates, copied (the zoom reuses the detector's arrays) */
    unsigned char *weak_from; /* MF_PRIVACY_FROM_* of each */
    int cap_weak;
    zoom_tile tiles[ZOOM_MAX_TILES];
    mf_face_box *zoomed; /* detections of the zoomed tiles */
    unsigned char *zoomed_from; /* the kind of tile of each */
    int n_zoomed, cap_zoomed;
    mf_face_models_t *own_models; /* created by mf_face_privacy_detector_create, else NULL (shared) */
    mf_nn_pool_t *pool;           /* the networks' threads (the turned passes' resize runs on them too) */
    mf_face_models_t *models;     /* the models (for the crowds' pointer, created when first needed) */
    mf_face_judge_t *pointer;     /* fr_detect over crowds of small faces (crowd_pointed), NULL until a crowd */
    mf_face_box *pointed;         /* its boxes of one view */
    mf_face_detector_t *judge;    /* the short-range detector of the first judge (WEAK_JUDGE_*), NULL until needed */
    mf_img mosaic;                /* its input: four views (judge_mosaic) */
    unsigned char *judge_pass;    /* its word on each of pd->weak (judge_all; cap_weak) */
};

static float wrap_pi(float a) {
    a = remainderf(a, 2.0f * (float)M_PI);
    return a <= -(float)M_PI ? a + 2.0f * (float)M_PI : a;
}

static void unrotate_pt(float *x, float *y, int q, int w, int h) {
    float u = *x, v = *y;
    switch (q) {
    case 1: *x = v, *y = (float)h - u; break;
    case 2: *x = (float)w - u, *y = (float)h - v; break;
    case 3: *x = (float)w - v, *y = u; break;
    default: break;
    }
}

void mf_face_box_unrotate(mf_face_box *b, int turns, int w, int h) {
    int q = ((turns % 4) + 4) % 4;
    float x0 = b->x, y0 = b->y, x1 = b->x + b->w, y1 = b->y + b->h;
    unrotate_pt(&x0, &y0, q, w, h);
    unrotate_pt(&x1, &y1, q, w, h);
    b->x = fminf(x0, x1), b->y = fminf(y0, y1), b->w = fabsf(x1 - x0), b->h = fabsf(y1 - y0);
    for (int k = 0; k < MF_FACE_KP_COUNT; k++)
        unrotate_pt(&b->kp[k][0], &b->kp[k][1], q, w, h);
    b->roll = wrap_pi(atan2f(b->kp[MF_FACE_KP_LEYE][1] - b->kp[MF_FACE_KP_REYE][1],
                             b->kp[MF_FACE_KP_LEYE][0] - b->kp[MF_FACE_KP_REYE][0]));
}

float mf_face_box_pass_roll(const mf_face_box *b, int turns) {
    return wrap_pi(b->roll + (float)(((turns % 4) + 4) % 4) * 0.5f * (float)M_PI);
}

typedef struct {
    float weight, x;
    int i;
} merge_item;

static int by_weight_desc(const void *pa, const void *pb) {
    const merge_item *a = pa, *b = pb;
    return a->weight < b->weight ? 1 : a->weight > b->weight ? -1 : a->i - b->i;
}

static int by_x(const void *pa, const void *pb) {
    const merge_item *a = pa, *b = pb;
    return a->x < b->x ? -1 : a->x > b->x ? 1 : a->i - b->i;
}

/* mf_face_candidates_merge, also writing the index of each face's leading candidate to leader[] (room for n) when
 * leader is not NULL, and the face each candidate joined (its index in out) to member_of[] (room for n) when
 * member_of is not NULL. */
static int merge_leading(const mf_face_box *cand, const int *turns, int n, float iou_min, mf_face_candidate *out,
                         int *n_out, int *leader, int *member_of) {
    *n_out = 0;
    if (n < 0 || n > MAX_CANDIDATES || (n > 0 && (!cand || !turns || !out)))
        return mf_error_set(MF_ERR_ARG, "bad candidate arrays");
    if (n == 0) return MF_OK;
    /* order by weight (the clusters' leaders come first) and, for the overlap search, by left edge */
    merge_item *order = malloc((size_t)n * sizeof *order), *byx = malloc((size_t)n * sizeof *byx);
    int *pos = malloc((size_t)n * sizeof *pos); /* index in byx of candidate i */
    char *used = calloc((size_t)n, 1);
    if (!order || !byx || !pos || !used) {
        free(order), free(byx), free(pos), free(used);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    float widest = 0;
    for (int i = 0; i < n; i++) {
        float r = mf_face_box_pass_roll(&cand[i], turns[i]);
        order[i] = (merge_item){cand[i].score * 0.5f * (1.0f + cosf(r)), cand[i].x, i};
        byx[i] = order[i];
        widest = fmaxf(widest, cand[i].w);
    }
    qsort(order, (size_t)n, sizeof *order, by_weight_desc);
    qsort(byx, (size_t)n, sizeof *byx, by_x);
    for (int k = 0; k < n; k++)
        pos[byx[k].i] = k;
    float *weight = malloc((size_t)n * sizeof *weight);
    if (!weight) {
        free(order), free(byx), free(pos), free(used);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < n; k++)
        weight[order[k].i] = order[k].weight;
    int m = 0;
    for (int k = 0; k < n; k++) {
        int i = order[k].i;
        if (used[i]) continue;
        used[i] = 1;
        const mf_face_box *b = &cand[i];
        if (leader) leader[m] = i;
        if (member_of) member_of[i] = m;
        mf_face_candidate *c = &out[m++];
        memset(c, 0, sizeof *c);
        c->box = *b;
        c->turns = turns[i];
        c->passes = 1;
        unsigned seen = 1u << (turns[i] & 3);
        float alt_w = -1;
        /* members: unused candidates overlapping b; a candidate overlapping b starts left of b's right edge and
         * at most `widest` left of b */
        int lo = pos[i];
        while (lo > 0 && byx[lo - 1].x >= b->x - widest)
            lo--;
        for (int q = lo; q < n && byx[q].x <= b->x + b->w; q++) {
            int j = byx[q].i;
            if (used[j] || mf_face_box_iou(b, &cand[j]) <= iou_min) continue;
            used[j] = 1;
            if (member_of) member_of[j] = m - 1;
            seen |= 1u << (turns[j] & 3);
            float d = fabsf(wrap_pi(cand[j].roll - b->roll));
            if (d > 0.5f * (float)M_PI && weight[j] > alt_w) {
                alt_w = weight[j];
                c->alt = cand[j];
                c->alt_turns = turns[j];
                c->has_alt = 1;
            }
        }
        c->passes = __builtin_popcount(seen);
    }
    free(order), free(byx), free(pos), free(used), free(weight);
    *n_out = m;
    return MF_OK;
}

int mf_face_candidates_merge(const mf_face_box *cand, const int *turns, int n, float iou_min, mf_face_candidate *out,
                             int *n_out) {
    return merge_leading(cand, turns, n, iou_min, out, n_out, NULL, NULL);
}

int mf_face_privacy_detector_create_from(mf_face_models_t *models, const mf_face_privacy_opts *opts,
                                         mf_face_privacy_detector_t **out) {
    *out = NULL;
    mf_face_privacy_opts o = {NULL, MF_PRIVACY_MIN_FACE, MF_PRIVACY_TURNED_MIN_FACE, MF_PRIVACY_THRESHOLD, NULL};
    if (opts) {
        o.model = opts->model;
        if (opts->min_face > 0) o.min_face = opts->min_face;
        if (opts->turned_min_face > 0) o.turned_min_face = opts->turned_min_face;
        if (opts->threshold > 0) o.threshold = opts->threshold;
        o.pool = opts->pool;
    }
    mf_face_privacy_detector_t *pd = calloc(1, sizeof *pd);
    if (!pd) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    /* strict: no verifier network under the threshold; the mesh judges every candidate (mf_face_privacy_paintable,
     * mf_face_privacy_keep_unconfirmed), its first crop rejecting most of them (FIRST_REJECT) */
    pd->threshold = o.threshold;
    pd->pool = o.pool;
    pd->models = models;
    mf_face_detect_opts d = {o.model, o.min_face, o.threshold, 0, o.pool, 1, 1};
    int st = mf_face_detector_create_from(models, &d, &pd->upright);
    if (!st) mf_face_detector_set_weak(pd->upright, ZOOM_LOW);
    /* the turned passes: the image scaled once to their finest level (the network's smallest face for the turned
     * minimum face), then turned three times; their detector's finest level is that image itself */
    pd->turned_scale = 1;
    d.min_face = o.turned_min_face;
    if (!st) {
        float px = mf_face_detector_min_px(pd->upright);
        if (px < (float)o.turned_min_face && px == floorf(px)) pd->turned_scale = px / (float)o.turned_min_face, d.min_face = (int)px;
    }
    if (!st) st = mf_face_detector_create_from(models, &d, &pd->turned);
    if (!st) mf_face_detector_set_narrow_frame(pd->turned, 1);
    if (!st) mf_face_detector_set_sparse_levels(pd->turned, 1);
    if (st) {
        mf_face_privacy_detector_free(pd);
        return st;
    }
    *out = pd;
    return MF_OK;
}

int mf_face_privacy_detector_create(const char *models_root, const mf_face_privacy_opts *opts,
                                    mf_face_privacy_detector_t **out) {
    *out = NULL;
    mf_face_models_t *models = NULL;
    int st = mf_face_models_create(models_root, &models);
    if (!st) st = mf_face_privacy_detector_create_from(models, opts, out);
    return mf_face_models_adopt(st, models, st ? NULL : &(*out)->own_models);
}

void mf_face_privacy_detector_free(mf_face_privacy_detector_t *pd) {
    if (!pd) return;
    mf_face_detector_free(pd->upright);
    mf_face_detector_free(pd->turned);
    mf_face_judge_free(pd->pointer);
    mf_face_detector_free(pd->judge);
    mf_img_free(&pd->mosaic);
    free(pd->judge_pass);
    free(pd->pointed);
    free(pd->cand);
    free(pd->cand_turns);
    free(pd->cand_from);
    free(pd->leader);
    free(pd->member_of);
    free(pd->member_start);
    free(pd->member);
    free(pd->weak);
    free(pd->weak_from);
    free(pd->zoomed);
    free(pd->zoomed_from);
    free(pd->faces);
    mf_face_models_free(pd->own_models);
    free(pd);
}

int mf_face_privacy_detector_last_tiles(const mf_face_privacy_detector_t *pd) { return pd->last_tiles; }
int mf_face_privacy_detector_last_verifications(const mf_face_privacy_detector_t *pd) { return pd->last_verifications; }
int mf_face_privacy_detector_last_zooms(const mf_face_privacy_detector_t *pd) { return pd->last_zooms; }

void mf_face_privacy_detector_last_work(const mf_face_privacy_detector_t *pd, int *turned_tiles, int *turned_finest,
                                        int *judge_runs) {
    *turned_tiles = pd->last_turned_tiles, *turned_finest = pd->last_turned_finest, *judge_runs = pd->last_views;
}

/* Appends the n boxes of pass `turns` to the candidates: found on the sw x sh image (the w x h image scaled) turned by
 * `turns`, mapped back to the w x h image; from[i] is how box i was found (NULL: all by the pass). */
static int add_pass(mf_face_privacy_detector_t *pd, int *n_cand, const mf_face_box *b, const unsigned char *from, int n,
                    int turns, int sw, int sh, int w, int h) {
    float sx = (float)w / (float)sw, sy = (float)h / (float)sh;
    if (n > MAX_CANDIDATES - *n_cand)
        return mf_error_set(MF_ERR_LIMIT,
                            "more than %d face candidates in one image: refusing rather than dropping "
                            "some",
                            MAX_CANDIDATES);
    int need = *n_cand + n;
    if (need > pd->cap_cand) {
        int cap = need < 256 ? 256 : need;
        if (cap < MAX_CANDIDATES / 2) cap *= 2;
        mf_face_box *nc = realloc(pd->cand, (size_t)cap * sizeof *nc);
        if (!nc) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->cand = nc;
        int *nt = realloc(pd->cand_turns, (size_t)cap * sizeof *nt);
        if (!nt) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->cand_turns = nt;
        unsigned char *nfr = realloc(pd->cand_from, (size_t)cap);
        if (!nfr) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->cand_from = nfr;
        pd->cap_cand = cap;
    }
    for (int i = 0; i < n; i++) {
        mf_face_box c = b[i];
        mf_face_box_unrotate(&c, turns, sw, sh);
        if (sw != w || sh != h) {
            c.x *= sx, c.y *= sy, c.w *= sx, c.h *= sy;
            for (int k = 0; k < MF_FACE_KP_COUNT; k++)
                c.kp[k][0] *= sx, c.kp[k][1] *= sy;
            c.roll = wrap_pi(atan2f(c.kp[MF_FACE_KP_LEYE][1] - c.kp[MF_FACE_KP_REYE][1],
                                    c.kp[MF_FACE_KP_LEYE][0] - c.kp[MF_FACE_KP_REYE][0]));
        }
        /* the mirrored border shows reflections of faces: a box mostly outside the image is one */
        float x0 = fmaxf(0, c.x), y0 = fmaxf(0, c.y), x1 = fminf((float)w, c.x + c.w), y1 = fminf((float)h, c.y + c.h);
        if (fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0) < MIN_VISIBLE * c.w * c.h) continue;
        pd->cand[*n_cand] = c;
        pd->cand_turns[*n_cand] = turns;
        pd->cand_from[*n_cand] = from ? from[i] : MF_PRIVACY_FROM_PASS;
        (*n_cand)++;
    }
    return MF_OK;
}

/* Zoom factor of the tile for weak candidate c of box side `side`, or 0 when c is not looked at (ZOOM_*). */
static float zoom_factor(const mf_face_box *c, float side) {
    if (side <= ZOOM_MAX_SIDE) return ZOOM_FACE_PX / side;
    if (side <= ZOOM_BIG_SIDE && c->score >= ZOOM_BIG_LOW) return fminf(1.0f, ZOOM_BIG_PX / side);
    return 0;
}

/* Whether zoomed detection z stands for weak candidate c: overlapping it (IOU above ZOOM_IOU) or lying mostly
 * inside it (more than ZOOM_INSIDE of z's area). */
static int zoom_matches(const mf_face_box *z, const mf_face_box *c) {
    if (mf_face_box_iou(z, c) > ZOOM_IOU) return 1;
    float x0 = fmaxf(z->x, c->x), y0 = fmaxf(z->y, c->y), x1 = fminf(z->x + z->w, c->x + c->w),
          y1 = fminf(z->y + z->h, c->y + c->h);
    float in = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0), area = z->w * z->h;
    return area > 0 && in > ZOOM_INSIDE * area;
}

/* Appends box b, found on a zoomed tile of kind `from`, to the zoomed tiles' detections (grown). */
static int zoom_keep(mf_face_privacy_detector_t *pd, const mf_face_box *b, int from) {
    if (pd->n_zoomed == pd->cap_zoomed) {
        int cap = pd->cap_zoomed < 64 ? 64 : 2 * pd->cap_zoomed;
        if (cap > MAX_CANDIDATES) return mf_error_set(MF_ERR_LIMIT, "too many zoomed detections");
        mf_face_box *nz = realloc(pd->zoomed, (size_t)cap * sizeof *nz);
        if (!nz) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->zoomed = nz;
        unsigned char *nf = realloc(pd->zoomed_from, (size_t)cap);
        if (!nf) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->zoomed_from = nf;
        pd->cap_zoomed = cap;
    }
    pd->zoomed_from[pd->n_zoomed] = (unsigned char)from;
    pd->zoomed[pd->n_zoomed++] = *b;
    return MF_OK;
}

/* The first judge (WEAK_JUDGE_*) of the candidates c[0 .. k) (k at most 4): one run of the short-range detector on
 * the four views side by side (pd->mosaic, a quarter of its input each, grey where unused), candidate q centred in
 * quarter q at WEAK_JUDGE_FRAC of its side. pass[q] = 1 when a box of the run scoring WEAK_JUDGE_KEEP is centred
 * within WEAK_JUDGE_NEAR of c[q]'s side from its centre (in quarter q). Counted in last_tiles. */
static int judge_mosaic(mf_face_privacy_detector_t *pd, const mf_img *img, const mf_face_box *const *c, int k,
                        unsigned char *pass) {
    int st = MF_OK;
    if (!pd->judge) {
        mf_face_detect_opts o = {WEAK_JUDGE_MODEL, 0, 0.5f, 0, pd->pool, 1, 0};
        if ((st = mf_face_detector_create_from(pd->models, &o, &pd->judge))) return st;
    }
    int S = mf_face_detector_input(pd->judge), H = S / 2;
    if (!pd->mosaic.data && (st = mf_img_init(&pd->mosaic, S, S, 3))) return st;
    mf_img *m = &pd->mosaic;
    for (int q = 0; q < 4; q++) {
        int ox = (q & 1) * H, oy = (q >> 1) * H;
        if (q >= k) {
            for (int v = 0; v < H; v++)
                memset(m->data + ((size_t)(oy + v) * S + ox) * 3, 128, (size_t)H * 3);
            continue;
        }
        float side = fmaxf(c[q]->w, c[q]->h), sc = side / (WEAK_JUDGE_FRAC * (float)H);
        float cx = c[q]->x + 0.5f * c[q]->w, cy = c[q]->y + 0.5f * c[q]->h;
        for (int v = 0; v < H; v++) {
            float dv = ((float)v + 0.5f - 0.5f * (float)H) * sc;
            uint8_t *row = m->data + ((size_t)(oy + v) * S + ox) * 3;
            for (int u = 0; u < H; u++)
                mf_face_orient_sample(img, cx + ((float)u + 0.5f - 0.5f * (float)H) * sc - 0.5f, cy + dv - 0.5f,
                                      row + (size_t)u * 3);
        }
    }
    const mf_face_box *b;
    int n;
    if ((st = mf_face_detect_zoom(pd->judge, m, 0.5f * (float)S, 0.5f * (float)S, 1.0f, WEAK_JUDGE_KEEP, &b, &n)))
        return st;
    pd->last_tiles++;
    pd->last_views++;
    float near = WEAK_JUDGE_NEAR * WEAK_JUDGE_FRAC * (float)H;
    for (int q = 0; q < k; q++) {
        float qx = (float)((q & 1) * H) + 0.5f * (float)H, qy = (float)((q >> 1) * H) + 0.5f * (float)H;
        pass[q] = 0;
        for (int i = 0; i < n && !pass[q]; i++)
            pass[q] = b[i].score >= WEAK_JUDGE_KEEP && fabsf(b[i].x + 0.5f * b[i].w - qx) <= near &&
                      fabsf(b[i].y + 0.5f * b[i].h - qy) <= near;
    }
    return MF_OK;
}

/* The first judge of every candidate of pd->weak[0 .. end) that the cascade may zoom (zoom_weak: the weak ones from
 * m, the small ones under ZOOM_AGAIN_BELOW before it), four a run; pd->judge_pass[i] = whether candidate i may have a
 * zoomed tile (1 for the others, and beyond WEAK_JUDGE_MAX_RUNS runs). */
static int judge_all(mf_face_privacy_detector_t *pd, const mf_img *img, int m, int end) {
    const mf_face_box *c[4];
    int idx[4], k = 0, runs = 0, st = MF_OK;
    for (int i = 0; i <= end && !st; i++) {
        if (i < end) {
            pd->judge_pass[i] = 1;
            const mf_face_box *w = &pd->weak[i];
            float side = fmaxf(w->w, w->h);
            int wanted = i >= m ? zoom_factor(w, side) > 0 : w->score < ZOOM_AGAIN_BELOW && side <= ZOOM_MAX_SIDE;
            if (!wanted || runs == WEAK_JUDGE_MAX_RUNS) continue;
            c[k] = w, idx[k++] = i;
            if (k < 4) continue;
        }
        if (k == 0) continue;
        unsigned char pass[4];
        st = judge_mosaic(pd, img, c, k, pass);
        for (int q = 0; q < k && !st; q++)
            pd->judge_pass[idx[q]] = pass[q];
        runs++, k = 0;
    }
    return st;
}

/* Looks at candidate c (box side `side`) on a zoomed tile of factor f: a tile zoomed already that shows it with
 * ZOOM_FACE_MIN..ZOOM_FACE_MAX network pixels (ZOOM_MARGIN of its side from the tile's edges) serves it, else a tile
 * centred on it is zoomed (kind `kind`; at most ZOOM_MAX_TILES per image, *n_tiles so far), only when `pass` (the
 * first judge's word, judge_all; 1 for an unjudged candidate). Sets *best to the index in pd->zoomed of the best detection standing for c
 * (zoom_matches), or -1. */
static int zoom_look(mf_face_privacy_detector_t *pd, const mf_img *img, const mf_face_box *c, float side, float f,
                     int kind, int pass, int *n_tiles, int *best) {
    float cx = c->x + 0.5f * c->w, cy = c->y + 0.5f * c->h;
    *best = -1;
    int covered = 0;
    for (int t = 0; t < *n_tiles && !covered; t++) {
        const zoom_tile *z = &pd->tiles[t];
        float half = 0.5f * (float)mf_face_detector_input(pd->upright) / z->f - ZOOM_MARGIN * side, px = z->f * side;
        covered = px >= ZOOM_FACE_MIN && px <= ZOOM_FACE_MAX && fabsf(cx - z->cx) + 0.5f * side <= half &&
                  fabsf(cy - z->cy) + 0.5f * side <= half;
    }
    if (!covered && pass) {
        if (*n_tiles == ZOOM_MAX_TILES) return MF_OK; /* dropped, as without the cascade */
        zoom_tile *z = &pd->tiles[(*n_tiles)++];
        z->cx = cx, z->cy = cy, z->f = f, z->from = kind;
        const mf_face_box *zb;
        int nz, st = mf_face_detect_zoom(pd->upright, img, z->cx, z->cy, z->f, pd->threshold, &zb, &nz);
        if (st) return st;
        pd->last_zooms++;
        pd->last_tiles++;
        for (int k = 0; k < nz && !st; k++)
            st = zoom_keep(pd, &zb[k], z->from);
        if (st) return st;
    }
    for (int k = 0; k < pd->n_zoomed; k++)
        if (zoom_matches(&pd->zoomed[k], c) && (*best < 0 || pd->zoomed[k].score > pd->zoomed[*best].score)) *best = k;
    return MF_OK;
}

/* The cascade (ZOOM_*): the upright pass's n boxes *b (scoring the threshold) and, for each small weak candidate
 * (mf_face_detector_last_weak), the best overlapping detection of a zoomed tile when that reaches the threshold
 * (zoom_look). Replaces *b and *n by the result (pd->weak), and sets *from to how each was found
 * (MF_PRIVACY_FROM_*). */
static int zoom_weak(mf_face_privacy_detector_t *pd, const mf_img *img, const mf_face_box **b, int *n,
                     const unsigned char **from) {
    const mf_face_box *wk;
    int nw;
    mf_face_detector_last_weak(pd->upright, &wk, &nw);
    if (nw == 0) return MF_OK;
    if (*n > MAX_CANDIDATES - nw) return mf_error_set(MF_ERR_LIMIT, "too many weak face candidates");
    int need = *n + nw;
    if (need > pd->cap_weak) {
        mf_face_box *nb = realloc(pd->weak, (size_t)need * sizeof *nb);
        if (!nb) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->weak = nb;
        unsigned char *nf = realloc(pd->weak_from, (size_t)need);
        if (!nf) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->weak_from = nf;
        nf = realloc(pd->judge_pass, (size_t)need);
        if (!nf) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->judge_pass = nf;
        pd->cap_weak = need;
    }
    if (*n > 0) memcpy(pd->weak, *b, (size_t)*n * sizeof **b);
    memset(pd->weak_from, MF_PRIVACY_FROM_PASS, (size_t)need);
    int m = *n;
    /* the weak candidates are the detector's own array: copied after the faces, as the zoom reuses the detector */
    memcpy(pd->weak + m, wk, (size_t)nw * sizeof *wk);
    pd->n_zoomed = 0;
    int n_tiles = 0, end = m + nw;
    int st0 = judge_all(pd, img, m, end);
    if (st0) return st0;
    for (int i = m; i < end; i++) {
        mf_face_box c = pd->weak[i];
        float side = fmaxf(c.w, c.h), f = zoom_factor(&c, side);
        if (!(f > 0)) continue;
        int best, st = zoom_look(pd, img, &c, side, f,
                                 side <= ZOOM_MAX_SIDE ? MF_PRIVACY_FROM_ZOOM : MF_PRIVACY_FROM_ZOOM_BIG,
                                 pd->judge_pass[i], &n_tiles, &best);
        if (st) return st;
        if (best >= 0) pd->weak_from[m] = pd->zoomed_from[best], pd->weak[m++] = pd->zoomed[best];
    }
    /* small candidates from the threshold the detector doubts: looked at again (after the weak ones, whose tiles they
     * share and whose results they leave as they were) */
    for (int i = 0; i < *n; i++) {
        mf_face_box c = pd->weak[i];
        float side = fmaxf(c.w, c.h);
        if (!(c.score < ZOOM_AGAIN_BELOW && side <= ZOOM_MAX_SIDE)) continue;
        int best, st = zoom_look(pd, img, &c, side, ZOOM_FACE_PX / side, MF_PRIVACY_FROM_ZOOM, pd->judge_pass[i],
                                 &n_tiles, &best);
        if (st) return st;
        if (best >= 0 && pd->zoomed[best].score > c.score) {
            pd->weak[i] = pd->zoomed[best];
            pd->weak[i].score = c.score;
            pd->weak_from[i] = MF_PRIVACY_FROM_ZOOM_AGAIN;
        }
    }
    *b = pd->weak;
    *from = pd->weak_from;
    *n = m;
    return MF_OK;
}

/* Crowds of small faces: when the upright pass (with its cascade) finds at least CROWD_MIN faces with a box side up
 * to CROWD_SIDE px scoring CROWD_SCORE, its finest level is looked at again with the tiles shifted by each of
 * crowd_shifts' network pixels (mf_face_detect_finest_shifted, each with its own cascade): a small face may lie in the
 * detector's blind places of one grid (docs/detection.md, "Branch small16"), and where small faces are, others are
 * likely. A second finest level costs about half the upright pass's tiles, so it is spent only there: the demo photos
 * (each turned by 0 and 90 degrees) have at most 1 such box up to 32 px, the small16/20/24 pictures 70-86; up to 24 px,
 * grid1000's 40 px faces (boxes of 25-31 px: no face gained there, +160 tiles) and small32's do not count. CROWD_MIN
 * was 8 (small16); 3 (small17) also takes small groups: a face among 2 x 5 others of 20 px (small20's 1140,40, whose
 * group has 3-7 sure small boxes) is missed by the first grid alone and found by the shifted one; the demo photos'
 * tiles are unchanged (no such photo has 2). */
#define CROWD_MIN 3
#define CROWD_SIDE 24.0f
#define CROWD_SCORE 0.6f
/* A crowd of larger faces (grid20): at least CROWD_MED_MIN sure boxes up to CROWD_MED_SIDE px also gets the shifted
 * grids and the pointer. grid1000's last miss (2124,140: a 40 px three-quarter profile with glasses among 999 others;
 * no candidate at all, and fr_detect does not point at it) is found by the shifted grids (detector 0.67, mesh 0.93)
 * and is found in a 384 px crop of its neighbourhood: its place in the first grid's tiles hid it. Pictures with 8
 * such faces are crowds (grids, team and class photos); the demo photos have at most 1 box up to 32 px. */
#define CROWD_MED_MIN 8
#define CROWD_MED_SIDE 40.0f
/* The shifted grids, in this order (network pixels, right and down; each adds only what the grids before it do not
 * see as well, crowd_new_only): small16 ran 16 alone (small16 / 20 / 24 97 / 97 / 97 %); 16 and 24: 99 / 98 / 98 %;
 * 16, 24 and 8: 99 / 99 / 98 % (24 alone 99 / 97 / 96 %; docs/detection.md, "Branch small17"). Each costs about
 * half the upright pass's tiles, in crowds only. */
enum { CROWD_GRIDS = 3 };
static const int crowd_shifts[CROWD_GRIDS] = {16, 24, 8};

static int crowd_of_side(const mf_face_box *b, int n, float side, int min) {
    int k = 0;
    for (int i = 0; i < n && k < min; i++)
        k += fmaxf(b[i].w, b[i].h) <= side && b[i].score >= CROWD_SCORE;
    return k >= min;
}

static int crowd_of_small(const mf_face_box *b, int n) {
    return crowd_of_side(b, n, CROWD_SIDE, CROWD_MIN) || crowd_of_side(b, n, CROWD_MED_SIDE, CROWD_MED_MIN);
}

/* Keeps of the shifted grid's candidates pd->cand[n_first, n) those touching (any overlap) none of the first grid's
 * [0, n_first) that score at least as high: the shifted grid adds faces, and where it sees a face better than the
 * first grid (small24 408,288: 0.895 from the shifted grid's zoomed tile, touching a weaker first-grid candidate that
 * is not found as a face) its candidate joins the first grid's there (the merge's leader is the higher score); a face
 * the first grid sees as well or better keeps its candidates, as without it (small17; small16 dropped every touching
 * one). Returns the new count. */
static int crowd_new_only(mf_face_privacy_detector_t *pd, int n_first, int n) {
    int m = n_first;
    for (int i = n_first; i < n; i++) {
        const mf_face_box *c = &pd->cand[i];
        int touch = 0;
        for (int k = 0; k < n_first && !touch; k++)
            touch = mf_face_box_iou(c, &pd->cand[k]) > 0 && pd->cand[k].score >= c->score;
        if (touch) continue;
        pd->cand[m] = *c, pd->cand_turns[m] = pd->cand_turns[i], pd->cand_from[m] = pd->cand_from[i];
        m++;
    }
    return m;
}

/* A third detector points at small faces in crowds (small18): fr_detect (judge.c, the Ultra-Light detector trained on
 * WIDER FACE) runs over the whole image in views of 320 x 240 image pixels (CROWD_POINT_SCALE image pixel a network
 * pixel: a 16-24 px face at 16-24 network pixels), overlapping by a quarter (CROWD_POINT_STEP). Each of its boxes
 * scoring CROWD_POINT_KEEP with a side up to CROWD_POINT_SIDE that no candidate scoring SURE_SCORE overlaps (IOU above
 * ZOOM_IOU) is looked at on a zoomed tile of the upright detector (zoom_look, the face at ZOOM_FACE_PX network pixels)
 * and the best zoomed detection standing for it becomes a candidate (MF_PRIVACY_FROM_ZOOM: the keep and paint rules of
 * a small face; never kept on fr_detect's word alone). Probe (docs/detection.md, "Branch small18"): at this scale it
 * scores 99 / 99 / 94 % of small24 / small20 / small16's faces from 0.5 (IOU 0.5), the four faces the grids miss 0.87-1.00. */
#define CROWD_POINT_SCALE 1.0f
#define CROWD_POINT_STEP 0.75f
#define CROWD_POINT_KEEP 0.5f
#define CROWD_POINT_SIDE 40.0f
/* several of fr_detect's boxes on one face lead to the same zoomed detection: added once (IOU above this) */
#define CROWD_POINT_SAME 0.9f
enum { CROWD_POINT_MAX = 4420 }; /* the network's anchors: the most boxes of one view */

/* Appends the pointed candidates to pd->cand (*n_cand grown); counts fr_detect's views and the zoomed tiles in
 * last_tiles. The network is created on the first crowd (the demo photos never load it). */
static int crowd_pointed(mf_face_privacy_detector_t *pd, const mf_img *img, int *n_cand) {
    int st = MF_OK;
    if (!pd->pointer && (st = mf_face_judge_create_from(pd->models, pd->pool, &pd->pointer))) return st;
    if (!pd->pointed && !(pd->pointed = malloc(CROWD_POINT_MAX * sizeof *pd->pointed)))
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    float vw = CROWD_POINT_SCALE * MF_FACE_JUDGE_VIEW_W, vh = CROWD_POINT_SCALE * MF_FACE_JUDGE_VIEW_H;
    int n_first = *n_cand, n_tiles = 0;
    pd->n_zoomed = 0;
    for (float y0 = 0; !st; y0 += CROWD_POINT_STEP * vh) {
        for (float x0 = 0; !st; x0 += CROWD_POINT_STEP * vw) {
            int n;
            st = mf_face_judge_view_boxes(pd->pointer, img, x0 + 0.5f * vw, y0 + 0.5f * vh, CROWD_POINT_SCALE,
                                          CROWD_POINT_KEEP, pd->pointed, CROWD_POINT_MAX, &n);
            pd->last_tiles++;
            for (int i = 0; i < n && !st; i++) {
                mf_face_box c = pd->pointed[i];
                float side = fmaxf(c.w, c.h);
                if (!(side > 0 && side <= CROWD_POINT_SIDE)) continue;
                int found = 0;
                for (int k = 0; k < *n_cand && !found; k++)
                    found = pd->cand[k].score >= SURE_SCORE && mf_face_box_iou(&pd->cand[k], &c) > ZOOM_IOU;
                if (found) continue;
                int best;
                st = zoom_look(pd, img, &c, side, ZOOM_FACE_PX / side, MF_PRIVACY_FROM_ZOOM, 1, &n_tiles, &best);
                if (st || best < 0) continue;
                int dup = 0;
                for (int k = n_first; k < *n_cand && !dup; k++)
                    dup = mf_face_box_iou(&pd->cand[k], &pd->zoomed[best]) > CROWD_POINT_SAME;
                if (!dup) {
                    unsigned char from = MF_PRIVACY_FROM_ZOOM;
                    st = add_pass(pd, n_cand, &pd->zoomed[best], &from, 1, 0, img->w, img->h, img->w, img->h);
                }
            }
            if (x0 + vw >= (float)img->w) break;
        }
        if (y0 + vh >= (float)img->h) break;
    }
    return st;
}

int mf_face_privacy_detect(mf_face_privacy_detector_t *pd, const mf_img *img, const mf_face_candidate **faces,
                           int *n_faces) {
    *faces = NULL;
    *n_faces = 0;
    pd->last_tiles = pd->last_verifications = pd->last_zooms = 0;
    pd->last_turned_tiles = pd->last_turned_finest = pd->last_views = 0;
    pd->n_member_faces = 0;
    if (!img || !img->data || img->w < 1 || img->h < 1 || img->c != 3)
        return mf_error_set(MF_ERR_ARG, "detection needs an RGB image");
    int n_cand = 0, st = MF_OK, crowd = 0;
    /* the turned passes' image: scaled once (their finest level), turned per pass (a tenth of the pixels to turn and
     * one resize of the full image instead of three) */
    mf_img scaled = {0};
    const mf_img *base = img;
    /* never below the coarsest level (the whole image at half the network input): a small picture's turned passes
     * run on that level alone, from the full-size image as before */
    float ts = fmaxf(pd->turned_scale,
                     0.5f * (float)mf_face_detector_input(pd->turned) / (float)(img->w > img->h ? img->w : img->h));
    if (ts < 1) {
        int sw = (int)lroundf((float)img->w * ts), sh = (int)lroundf((float)img->h * ts);
        if (sw >= 1 && sh >= 1) {
            if ((st = mf_face_resize_pooled(pd->pool, img, sw, sh, &scaled))) return st;
            base = &scaled;
        }
    }
    for (int q = 0; q < MF_PRIVACY_PASSES && !st; q++) {
        mf_face_detector_t *d = q ? pd->turned : pd->upright;
        mf_img turned = {0};
        const mf_img *src = img;
        if (q) {
            if ((st = mf_img_rotate90(base, q, &turned))) break;
            src = &turned;
        }
        const mf_face_box *b;
        const unsigned char *from = NULL;
        int n;
        st = mf_face_detect_all(d, src, &b, &n);
        pd->last_tiles += mf_face_detector_last_tiles(d);
        pd->last_verifications += mf_face_detector_last_verifications(d);
        if (q) {
            pd->last_turned_tiles += mf_face_detector_last_tiles(d);
            pd->last_turned_finest += mf_face_detector_last_finest_tiles(d);
        }
        if (!st && q == 0) st = zoom_weak(pd, img, &b, &n, &from);
        if (!st) st = q ? add_pass(pd, &n_cand, b, NULL, n, q, base->w, base->h, img->w, img->h)
                        : add_pass(pd, &n_cand, b, from, n, q, img->w, img->h, img->w, img->h);
        if (!st && q == 0 && (crowd = crowd_of_small(b, n))) {
            for (int si = 0; si < CROWD_GRIDS && !st; si++) {
                int n_first = n_cand;
                st = mf_face_detect_finest_shifted(pd->upright, img, crowd_shifts[si], &b, &n);
                pd->last_tiles += mf_face_detector_last_tiles(pd->upright);
                from = NULL;
                if (!st) st = zoom_weak(pd, img, &b, &n, &from);
                if (!st) st = add_pass(pd, &n_cand, b, from, n, q, img->w, img->h, img->w, img->h);
                if (!st) n_cand = crowd_new_only(pd, n_first, n_cand);
            }
            if (!st) {
                int n_first = n_cand;
                st = crowd_pointed(pd, img, &n_cand);
                if (!st) n_cand = crowd_new_only(pd, n_first, n_cand);
            }
        }
        mf_img_free(&turned);
    }
    mf_img_free(&scaled);
    if (st) return st;
    if (n_cand > pd->cap_faces) {
        mf_face_candidate *nf = realloc(pd->faces, (size_t)n_cand * sizeof *nf);
        if (!nf) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->faces = nf;
        int *nl = realloc(pd->leader, (size_t)n_cand * sizeof *nl);
        if (!nl) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->leader = nl;
        if (!(nl = realloc(pd->member_of, (size_t)n_cand * sizeof *nl))) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->member_of = nl;
        if (!(nl = realloc(pd->member, (size_t)n_cand * sizeof *nl))) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->member = nl;
        if (!(nl = realloc(pd->member_start, ((size_t)n_cand + 1) * sizeof *nl)))
            return mf_error_set(MF_ERR_NOMEM, "out of memory");
        pd->member_start = nl;
        pd->cap_faces = n_cand;
    }
    int n = 0;
    if ((st = merge_leading(pd->cand, pd->cand_turns, n_cand, MERGE_IOU, pd->faces, &n, pd->leader,
                            crowd ? pd->member_of : NULL)))
        return st;
    for (int i = 0; i < n; i++)
        pd->faces[i].found_by = pd->cand_from[pd->leader[i]];
    if (crowd) { /* each face's members, in candidate order (counting sort by face) */
        memset(pd->member_start, 0, ((size_t)n + 1) * sizeof *pd->member_start);
        for (int j = 0; j < n_cand; j++)
            pd->member_start[pd->member_of[j] + 1]++;
        for (int i = 0; i < n; i++)
            pd->member_start[i + 1] += pd->member_start[i];
        for (int j = 0; j < n_cand; j++)
            pd->member[pd->member_start[pd->member_of[j]]++] = j;
        for (int i = n; i > 0; i--) /* each start moved to the next face's: shifted back */
            pd->member_start[i] = pd->member_start[i - 1];
        pd->member_start[0] = 0;
        pd->n_member_faces = n;
    }
    *faces = pd->faces;
    *n_faces = n;
    return MF_OK;
}

/* ---------------------------------------------------------------- analyzer steps (privacy_int.h) */

int mf_face_privacy_try_alt(mf_face_mesher_t *mesh, const mf_img *img, const mf_face_candidate *c, mf_face *f,
                            int *mesh_runs) {
    mf_face_landmarks *lm = malloc(sizeof *lm);
    if (!lm) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = mf_face_privacy_mesh(mesh, img, &c->alt, lm);
    if (!st) {
        *mesh_runs += mf_face_mesher_last_passes(mesh);
        if (lm->score > f->lm.score) {
            f->det = c->alt;
            f->lm = *lm;
        }
    }
    free(lm);
    return st;
}

/* Crowds (grid21): the other members of a merge whose leader the mesh does not confirm (rejects, or accepts too weakly
 * to paint) are meshed, at most MEMBER_MAX, best score first, leaving out those overlapping the leader or a member
 * meshed already by an IOU above MEMBER_SAME (the same reading); the one the mesh accepts best, above the leader's
 * flag, leads the keep and paint rules instead. With the shifted grids a crowd's face has several readings of one
 * place, and the best score leads: grid1000's copies of a three-quarter profile with glasses (FFHQ 00013, 40 px)
 * score 0.32-0.67, and where a shifted grid's reading (0.50 / 0.52) leads, the mesh rejects its box (flags 0.01 /
 * 0.10) and accepts the first grid's weaker one (0.32 / 0.41: flags 0.61 / 0.97). An IOU of 0.81 between two readings
 * still gave flags 0.10 and 0.97 (0.8 left that copy out). Only crowds keep the members (mf_face_privacy_detect): a
 * picture that is none runs the same meshes as before. docs/detection.md, "Branch grid21". */
#define MEMBER_MAX 3
#define MEMBER_SAME 0.9f

int mf_face_privacy_try_members(const mf_face_privacy_detector_t *pd, mf_face_mesher_t *mesh, const mf_img *img,
                                int face, mf_face *f, mf_face_candidate *c, int *taken, int *mesh_runs) {
    *taken = 0;
    if (face < 0 || face >= pd->n_member_faces) return MF_OK;
    const int *mem = pd->member + pd->member_start[face];
    int n = pd->member_start[face + 1] - pd->member_start[face], lead = pd->leader[face];
    int tried[MEMBER_MAX], n_tried = 0;
    if (n < 2) return MF_OK;
    mf_face_landmarks *lm = malloc(sizeof *lm);
    if (!lm) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = MF_OK;
    float best_flag = f->has_landmarks ? f->lm.score : 0;
    while (n_tried < MEMBER_MAX && !st) {
        int pick = -1; /* the best-scoring member not yet looked at and not a reading already meshed */
        for (int k = 0; k < n; k++) {
            int j = mem[k], same = j == lead || mf_face_box_iou(&pd->cand[j], &pd->cand[lead]) > MEMBER_SAME;
            for (int t = 0; t < n_tried && !same; t++)
                same = j == tried[t] || mf_face_box_iou(&pd->cand[j], &pd->cand[tried[t]]) > MEMBER_SAME;
            if (!same && (pick < 0 || pd->cand[j].score > pd->cand[pick].score)) pick = j;
        }
        if (pick < 0) break;
        tried[n_tried++] = pick;
        if ((st = mf_face_privacy_mesh(mesh, img, &pd->cand[pick], lm))) break;
        *mesh_runs += mf_face_mesher_last_passes(mesh);
        if (lm->score >= MESH_ACCEPT && lm->score > best_flag) {
            best_flag = lm->score;
            f->det = pd->cand[pick];
            f->lm = *lm;
            f->has_landmarks = 1;
            c->box = pd->cand[pick];
            c->found_by = pd->cand_from[pick];
            *taken = 1;
        }
    }
    free(lm);
    return st;
}

/* A small face the detector doubts (score under SURE_SCORE, box side up to SMALL_SIDE: what the zoomed tiles of
 * the cascade find) is painted only from SMALL_PAINT_MIN_MESH; under it, when the mesh accepts it, it is kept
 * unconfirmed (the non-face fallback covers it). A microphone logo of rot30/0052 (24 px, detector 0.46 from a
 * zoomed tile) had a flag of 0.963; of the small faces scoring under 0.5, 32 of 34 have flags from 0.99, two
 * 0.95-0.97 (docs/detection.md). */
#define SMALL_SIDE 32.0f
#define SMALL_PAINT_MIN_MESH 0.97f

static int small_doubtful(const mf_face *f) {
    return f->det.score < SURE_SCORE && fmaxf(f->det.w, f->det.h) <= SMALL_SIDE;
}

/* A face the detector doubts up to SMALL_KEEP_SIDE (the grid's 40 px faces: boxes of 34-35 px scoring 0.31-0.32,
 * mesh flags 0.61-0.85, under the painting flag) that the mesh accepts is kept unconfirmed (the fallback covers it),
 * as a small doubtful one is; the face-free crops keep no such candidate (docs/detection.md, "Branch small15"). */
#define SMALL_KEEP_SIDE 40.0f

static int small_unsure(const mf_face *f) {
    return f->det.score < SURE_SCORE && fmaxf(f->det.w, f->det.h) <= SMALL_KEEP_SIDE;
}

int mf_face_privacy_keep_unconfirmed(const mf_face *f, const mf_img *img) {
    (void)img;
    float mesh = f->has_landmarks ? f->lm.score : 0;
    if (mesh >= MESH_ACCEPT && small_unsure(f)) return 1;
    if (mesh >= MESH_ACCEPT) return f->det.score >= KEEP_WEAK;
    return f->det.score >= KEEP_UNCONFIRMED;
}

/* A detection of a zoomed tile of a larger weak box (MF_PRIVACY_FROM_ZOOM_BIG: at most the image's own scale, the face
 * at 16-36 network pixels) is kept unconfirmed only when the mesh accepts it (flag from MESH_ACCEPT) or when it scores
 * at least ZOOM_BIG_KEEP: the demo photo sample1 turned by 90 degrees got a 16 px patch of lace on a dress from such a
 * tile, 0.70, mesh flag 0.30 (small15); of the small and grid sets' faces it finds none is kept unconfirmed with a
 * flag under 0.5, and the other rejected ones (the demo photos in four turns, the face-free crops) score at most
 * 0.57 (docs/detection.md, "Branch small16"). The same holds for a candidate the second zoomed look moved
 * (MF_PRIVACY_FROM_ZOOM_AGAIN, ZOOM_AGAIN_BELOW), whose score stays under 0.5. */
#define ZOOM_BIG_KEEP 0.8f

int mf_face_privacy_zoom_unsure(const mf_face_candidate *c, const mf_face *f) {
    float mesh = f->has_landmarks ? f->lm.score : 0;
    return (c->found_by == MF_PRIVACY_FROM_ZOOM_BIG || c->found_by == MF_PRIVACY_FROM_ZOOM_AGAIN) && mesh < MESH_ACCEPT &&
           c->box.score < ZOOM_BIG_KEEP;
}

/* Fraction of box b inside the w x h image. */
static float visible_fraction(const mf_face_box *b, int w, int h);

/* A candidate cut by the border (less than CUT_VISIBLE of its box inside the image) that the mesh does not confirm is
 * kept from KEEP_WEAK when at least KEEP_CUT_PASSES of the four turned passes found it, from SURE_SCORE when all four
 * did: a face cut at 40-60% gives half a face the mesh rejects (top cuts leave mouth and chin), but the turned passes
 * see it again; the face-free crops' false candidates found by more than one pass scored at most 0.586 (three
 * passes) and 0.546 (two), none was found by four (docs/detection.md, "Branch recall14"). */
#define KEEP_CUT_PASSES 2

int mf_face_privacy_keep_candidate(const mf_face_candidate *c, mf_face *f, const mf_img *img) {
    float s = c->box.score, mesh = f->has_landmarks ? f->lm.score : 0;
    /* the alternative reading (try_alt) may have a higher flag and a lower score: the candidate keeps its own */
    int keep = s >= (mesh >= MESH_ACCEPT ? KEEP_WEAK : KEEP_UNCONFIRMED);
    if (!keep && visible_fraction(&c->box, img->w, img->h) < CUT_VISIBLE)
        keep = (c->passes >= KEEP_CUT_PASSES && s >= KEEP_WEAK) || (c->passes >= MF_PRIVACY_PASSES && s >= SURE_SCORE);
    if (keep) f->det = c->box;
    return keep;
}

/* The second look at cut candidates (cut15): a candidate cut by the border (under CUT_VISIBLE inside) that the rules
 * above drop, found by at least KEEP_CUT_PASSES passes scoring CUT_LOOK_SCORE or by one pass scoring SURE_SCORE, is
 * shown upright (the candidate's own roll) to the short-range detector (orient.c's network: one run), its square
 * CUT_LOOK_FRAC of the view, grey beyond the border (not mirrored: the mirror makes a mouth above a mouth of a face cut
 * at the top); kept unconfirmed when the upright view scores at least CUT_LOOK_KEEP. Face-free border candidates
 * looked at so far: the face-free crops' (46, 6.8 MP) reach 0.50 in that view (fp/0028, 0.54, one pass), fp/0024 0.57
 * (0.43, two passes: under CUT_LOOK_SCORE); sample3's knee 0.59 (0.47, one pass: under SURE_SCORE). The faces main
 * missed that it finds: 0.62-0.77 (docs/detection.md, "Branch cut15"). */
#define CUT_LOOK_SCORE 0.45f
#define CUT_LOOK_KEEP 0.6f
#define CUT_LOOK_FRAC 0.5f

/* The second looks' view of candidate box b (the cut look's and the occluded look's): its centre, side, roll in
 * degrees, and the face at CUT_LOOK_FRAC of the view. Returns 1. */
static int look_view(const mf_face_box *b, float *cx, float *cy, float *side, float *roll, float *frac) {
    *cx = b->x + 0.5f * b->w, *cy = b->y + 0.5f * b->h, *side = fmaxf(b->w, b->h);
    *roll = b->roll * 180.0f / (float)M_PI, *frac = CUT_LOOK_FRAC;
    return 1;
}

int mf_face_privacy_cut_look(const mf_face_candidate *c, const mf_img *img, float *cx, float *cy, float *side,
                             float *roll, float *frac) {
    const mf_face_box *b = &c->box;
    int enough = c->passes >= KEEP_CUT_PASSES ? b->score >= CUT_LOOK_SCORE : b->score >= SURE_SCORE;
    if (!enough || !(visible_fraction(b, img->w, img->h) < CUT_VISIBLE)) return 0;
    return look_view(b, cx, cy, side, roll, frac);
}

int mf_face_privacy_keep_cut_look(const mf_face_candidate *c, mf_face *f, float upright) {
    int keep = upright >= CUT_LOOK_KEEP;
    if (keep) f->det = c->box;
    return keep;
}

/* The second look at faces with a covered lower half (mask17): the mesh rejects a face in a surgical mask (flags
 * 0.00-0.15 on the privacy set's mask variant) and the detector scores it 0.51-0.69, under KEEP_UNCONFIRMED; the
 * short-range detector's upright view of the masked faces the rules drop scores 0.39-0.80 (six of ten from 0.66), of
 * the other candidates larger than SMALL_SIDE that it sees best upright (hands, ears, parts of faces, the face-free
 * crops, the demo photos in four turns) at most 0.615 (a glass in sample1 turned by 180 degrees): kept from the middle
 * of that gap. Ears of 18-20 px beside a face score 0.63-0.67 (cutr50/0016, sunglasses/0025): the look is for
 * candidates larger than SMALL_SIDE, whose own rules the small ones have (docs/detection.md, "Branch mask17"). One
 * look per uncut candidate from SURE_SCORE that the rules drop: 0-2 per demo photo. */
#define OCCLUDED_LOOK_KEEP 0.64f

int mf_face_privacy_occluded_look(const mf_face_candidate *c, const mf_img *img, float *cx, float *cy, float *side,
                                  float *roll, float *frac) {
    const mf_face_box *b = &c->box;
    if (!(b->score >= SURE_SCORE) || !(fmaxf(b->w, b->h) > SMALL_SIDE) ||
        visible_fraction(b, img->w, img->h) < CUT_VISIBLE)
        return 0;
    return look_view(b, cx, cy, side, roll, frac);
}

int mf_face_privacy_keep_occluded_look(const mf_face_candidate *c, mf_face *f, const float s4[4]) {
    int keep = s4[0] >= OCCLUDED_LOOK_KEEP && s4[0] >= s4[1] && s4[0] >= s4[2] && s4[0] >= s4[3];
    if (keep) f->det = c->box;
    return keep;
}

/* The masked-face judge (occl18, judge.c) sees the candidates the occluded look drops whose upright view scores at
 * least JUDGE_LOOK_FLOOR: the masked faces main missed score 0.39-0.58 there; of the other candidates reaching the
 * look on the demo photos in four turns, 6 of 37 score that much (a few network runs per demo photo at most). */
#define JUDGE_LOOK_FLOOR 0.35f

int mf_face_privacy_judge_wanted(const float s4[4]) { return s4[0] >= JUDGE_LOOK_FLOOR; }

void mf_face_privacy_keep_judged(const mf_face_candidate *c, mf_face *f) { f->det = c->box; }

void mf_face_privacy_unconfirmed(mf_face *f, const mf_img *img) {
    f->confirmed = 0;
    f->has_landmarks = 0;
    mf_face_box *b = &f->det;
    float x0 = fmaxf(0, b->x), y0 = fmaxf(0, b->y);
    float x1 = fminf((float)img->w, b->x + b->w), y1 = fminf((float)img->h, b->y + b->h);
    b->x = x0, b->y = y0, b->w = fmaxf(0, x1 - x0), b->h = fmaxf(0, y1 - y0);
}

static const mf_face_box *face_extent(const mf_face *f) {
    return f->confirmed && f->has_landmarks ? &f->lm.box : &f->det;
}

typedef struct {
    const mf_face *f;
    float key, x;
    int i;
} dedup_item;

static int dedup_by_rank(const void *pa, const void *pb) {
    const dedup_item *a = pa, *b = pb;
    return a->key < b->key ? 1 : a->key > b->key ? -1 : a->i - b->i;
}

/* Whether two detections are of distinct faces: centres more than DEDUP_DISTINCT of the larger side apart. */
static int distinct_faces(const mf_face_box *a, const mf_face_box *b) {
    float dx = a->x + 0.5f * a->w - b->x - 0.5f * b->w, dy = a->y + 0.5f * a->h - b->y - 0.5f * b->h;
    return hypotf(dx, dy) > DEDUP_DISTINCT * fmaxf(fmaxf(a->w, a->h), fmaxf(b->w, b->h));
}

/* Whether confirmed face `part` is a detection of a part of confirmed face `face`'s head (an eye and temple, an ear:
 * rot60/0004, noise/0024 in docs/detection.md): the face's detector score is at least SURE_SCORE and higher than the
 * part's, the part's detection is at most PART_SCALE of the face's side and centred
 * inside the head ellipse around the face's detection, PART_RX of its side across and PART_RY along the face's own
 * up (its mesh roll). Two faces side by side are of a size (LFW Andre_Lange_0001: 107 and 109 px). */
static int part_of_head_box(const mf_face_box *p, const mf_face *face) {
    const mf_face_box *d = &face->det;
    float ps = fmaxf(p->w, p->h), s = fmaxf(d->w, d->h);
    /* only a sure face has parts, and only parts it is surer of than they are of themselves: a 78 px detection
     * scoring 0.44 between grid1000's 40 px faces (0.72, 0.87) took two real faces for its parts */
    if (!(ps <= PART_SCALE * s && d->score >= SURE_SCORE && p->score < d->score)) return 0;
    float dx = p->x + 0.5f * p->w - d->x - 0.5f * d->w, dy = p->y + 0.5f * p->h - d->y - 0.5f * d->h;
    float r = face->lm.roll * (float)M_PI / 180.0f, c = cosf(r), sn = sinf(r);
    float u = (c * dx + sn * dy) / (PART_RX * s), v = (-sn * dx + c * dy) / (PART_RY * s);
    return u * u + v * v <= 1.0f;
}

static int part_of_head(const mf_face *part, const mf_face *face) { return part_of_head_box(&part->det, face); }

/* Whether unconfirmed record f is a larger face holding confirmed record g as a part: g's detection at most PART_SCALE
 * of f's side, f's detector score at least SURE_SCORE and higher than g's (the dedup keeps both: g is painted, f
 * covered by the fallback). */
static int holds_part(const mf_face *f, const mf_face *g) {
    float fs = fmaxf(f->det.w, f->det.h), gs = fmaxf(g->det.w, g->det.h);
    return gs <= PART_SCALE * fs && f->det.score >= SURE_SCORE && f->det.score > g->det.score;
}

/* A record the judge kept is dropped when a record at least 1 / PART_SCALE its size lies within JUDGE_NEAR of that
 * record's side (centre to centre): the judge sees faces in the hair above a face (the demo photo sample2, 0.97-1.00),
 * in a part of one (mask/0013) and in a hand at a chin (rot270/0084: 0.81 / 0.20 / 1.00 / 0.95), each about half the
 * face's size and within 1.0 of its side; the masked faces it finds stand alone (docs/detection.md, "Branch
 * occl18"). */
#define JUDGE_NEAR 1.5f

/* Whether box p is at most PART_SCALE of face's detection and centred within JUDGE_NEAR of its side from it. */
static int near_larger(const mf_face_box *p, const mf_face *face) {
    const mf_face_box *d = &face->det;
    float ps = fmaxf(p->w, p->h), s = fmaxf(d->w, d->h);
    float dx = p->x + 0.5f * p->w - d->x - 0.5f * d->w, dy = p->y + 0.5f * p->h - d->y - 0.5f * d->h;
    return ps <= PART_SCALE * s && hypotf(dx, dy) <= JUDGE_NEAR * s;
}

int mf_face_privacy_drop_judged_parts(mf_face *faces, int n, const int *judged, int n_judged) {
    int out = 0, k = 0;
    for (int i = 0; i < n; i++) {
        int drop = 0;
        if (k < n_judged && judged[k] == i) {
            k++;
            for (int g = 0; g < n && !drop; g++)
                drop = g != i && near_larger(&faces[i].det, &faces[g]);
        }
        if (!drop) faces[out++] = faces[i];
    }
    return out;
}

/* Second readings of a face (fp20, docs/detection.md "Branch fp20"): a doubtful confirmed record (detector under
 * SURE_SCORE) whose mesh box lies more than OVERLAP_SURER inside (over the smaller box) the mesh box of a confirmed
 * record the detector is surer of (from SURE_SCORE, and more than of it) is a second reading of that face or a part of
 * its head read as a face: rot60/0047, rot120/0091, rot150/0012, rot300/0042 (second synthetic faces painted over the
 * face, mesh overlaps 0.56-0.94), cutb40/0024 (read upside down beside the surer reading, 1.00); faces beside a surer
 * face overlap it by at most 0.30 (profile/0058, a sure detection; the doubtful faces of the sets 0.15). Applied after
 * the dedup: it is left to the fallback (kept, unconfirmed), never dropped. */
#define OVERLAP_SURER 0.45f

/* The wide look (fp20, docs/detection.md "Branch fp20"): a doubtful confirmed record (detector under SURE_SCORE) is
 * meshed again from its detection scaled by WIDE_SCALE about its centre, when that wider box lies inside the image (a
 * wider crop of a face at the border is mostly what lies beyond it: cut faces lose the mesh there, flags down to
 * 0.47); the mesh's refining crops find a face again from there (the doubtful faces of the sets inside the image: flags
 * 0.92-1.00, grid, small and masked faces), a face-like texture loses it (rot30/0001's "SPORTS" badge on a shirt,
 * detector 0.344, mesh flag 0.988: 0.547). Under WIDE_MIN_MESH it is left to the fallback. Set from one badge. */
#define WIDE_SCALE 1.5f
#define WIDE_MIN_MESH 0.75f

int mf_face_privacy_wide_look(mf_face_mesher_t *mesh, const mf_img *img, const mf_face *f, int *unlike,
                              int *mesh_runs) {
    *unlike = 0;
    if (!f->confirmed || !f->has_landmarks || !(f->det.score < SURE_SCORE)) return MF_OK;
    mf_face_box b = f->det;
    float cx = b.x + 0.5f * b.w, cy = b.y + 0.5f * b.h;
    b.w *= WIDE_SCALE, b.h *= WIDE_SCALE, b.x = cx - 0.5f * b.w, b.y = cy - 0.5f * b.h;
    if (!(b.x >= 0 && b.y >= 0 && b.x + b.w <= (float)img->w && b.y + b.h <= (float)img->h)) return MF_OK;
    for (int k = 0; k < MF_FACE_KP_COUNT; k++)
        b.kp[k][0] = cx + WIDE_SCALE * (b.kp[k][0] - cx), b.kp[k][1] = cy + WIDE_SCALE * (b.kp[k][1] - cy);
    mf_face_landmarks *lm = malloc(sizeof *lm);
    if (!lm) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = mf_face_mesher_run(mesh, img, &b, lm);
    if (!st) {
        *mesh_runs += mf_face_mesher_last_passes(mesh);
        *unlike = !(lm->score >= WIDE_MIN_MESH);
    }
    free(lm);
    return st;
}

int mf_face_privacy_unconfirm_overlapped(mf_face *faces, int n, const mf_img *img) {
    int moved = 0;
    for (int i = 0; i < n; i++) {
        mf_face *f = &faces[i];
        if (!f->confirmed || !f->has_landmarks || !(f->det.score < SURE_SCORE)) continue;
        int over = 0;
        for (int j = 0; j < n && !over; j++) {
            const mf_face *g = &faces[j];
            over = j != i && g->confirmed && g->has_landmarks && g->det.score >= SURE_SCORE &&
                   g->det.score > f->det.score && mf_face_box_overlap_small(&f->lm.box, &g->lm.box) > OVERLAP_SURER;
        }
        if (!over) continue;
        mf_face_privacy_unconfirmed(f, img);
        moved++;
    }
    return moved;
}

int mf_face_privacy_covered(const mf_face *faces, int n, const mf_face_box *det) {
    for (int i = 0; i < n; i++) {
        const mf_face *g = &faces[i];
        if (!g->confirmed || !g->has_landmarks || !(mf_face_box_overlap_small(&g->lm.box, det) > COVERED_OVERLAP)) continue;
        if (!distinct_faces(&g->det, det) || part_of_head_box(det, g)) return 1;
    }
    return 0;
}

int mf_face_privacy_dedup(mf_face *faces, int n) {
    if (n < 2) return n;
    dedup_item *it = malloc((size_t)n * sizeof *it);
    mf_face *out = malloc((size_t)n * sizeof *out);
    /* kept confirmed faces, for the overlap search: extents sorted by left edge (insertion), and their records (index
     * in out) */
    mf_face_box *conf = malloc((size_t)n * sizeof *conf);
    int *cidx = malloc((size_t)n * sizeof *cidx);
    char *gone = calloc((size_t)n, 1); /* out records dropped later, as parts of a face's head kept after them */
    if (!it || !out || !conf || !cidx || !gone) {
        free(it), free(out), free(conf), free(cidx), free(gone);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        const mf_face *f = &faces[i];
        float s = f->has_landmarks ? f->lm.score : f->det.score;
        it[i] = (dedup_item){f, (f->confirmed ? 2.0f : 0.0f) + s, face_extent(f)->x, i};
    }
    qsort(it, (size_t)n, sizeof *it, dedup_by_rank);
    int m = 0, nc = 0;
    float widest = 0;
    for (int k = 0; k < n; k++) {
        const mf_face *f = it[k].f;
        const mf_face_box *e = face_extent(f);
        int dup = 0;
        /* confirmed extents starting from `widest` left of e up to e's right edge */
        int lo = 0, hi = nc;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (conf[mid].x < e->x - widest)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* two confirmed faces whose detections are apart are two faces, however much their meshes overlap (a mesh
         * may spread over a face beside it: LFW Andre_Lange_0001, docs/detection.md), unless one is a part of the
         * other's head: then the part goes, whichever came first */
        for (int q = lo; q < nc && conf[q].x <= e->x + e->w && !dup; q++) {
            const mf_face *g = &out[cidx[q]];
            if (gone[cidx[q]] || !(mf_face_box_overlap_small(&conf[q], e) > DEDUP_OVERLAP)) continue;
            /* an unconfirmed face is not the duplicate of a confirmed part of it (recall14: cutr60/0041, a 348 px
             * candidate scoring 0.87 around a 99 px detection of its mouth and chin, flag 1.00) */
            if (!f->confirmed && holds_part(f, g)) continue;
            if (!f->confirmed || !distinct_faces(&g->det, &f->det) || part_of_head(f, g))
                dup = 1;
            else if (part_of_head(g, f))
                gone[cidx[q]] = 1;
        }
        if (dup) continue;
        out[m] = *f;
        if (f->confirmed) {
            int p = nc++;
            while (p > 0 && conf[p - 1].x > e->x)
                conf[p] = conf[p - 1], cidx[p] = cidx[p - 1], p--;
            conf[p] = *e;
            cidx[p] = m;
            widest = fmaxf(widest, e->w);
        }
        m++;
    }
    int kept = 0;
    for (int i = 0; i < m; i++)
        if (!gone[i]) faces[kept++] = out[i];
    free(it), free(out), free(conf), free(cidx), free(gone);
    return kept;
}

/* Mirror index at the image edges, as the detector's border tiles: -1 -> 0, n -> n - 1; clamped beyond one
 * reflection. */
static int mirror_index(int i, int n) {
    if (i < 0) i = -1 - i;
    if (i >= n) i = 2 * n - 1 - i;
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

static int mesh_once(mf_face_mesher_t *mesh, const mf_img *img, const mf_face_box *box, mf_face_landmarks *lm) {
    float side = fmaxf(box->w, box->h), r = MIRROR_REGION * side;
    float cx = box->x + 0.5f * box->w, cy = box->y + 0.5f * box->h;
    if (cx - r >= 0 && cy - r >= 0 && cx + r <= (float)img->w && cy + r <= (float)img->h)
        return mf_face_mesher_run(mesh, img, box, lm);
    /* the region around the face, the image mirrored at its edges (as the detector's border tiles) */
    if (!(r < (float)MIRROR_MAX_SIDE / 2)) return mf_face_mesher_run(mesh, img, box, lm);
    int x0 = (int)floorf(cx - r), y0 = (int)floorf(cy - r), n = (int)ceilf(2 * r) + 1;
    mf_img reg;
    int st = mf_img_init(&reg, n, n, 3);
    if (st) return st;
    /* columns inside the image are one span per row (copied whole); the mirrored ones pixel by pixel. Rows
     * mirrored the same way repeat a row already filled. */
    int in0 = x0 < 0 ? -x0 : 0, in1 = x0 + n > img->w ? img->w - x0 : n; /* region columns [in0, in1) inside */
    if (in1 < in0) in1 = in0;
    for (int y = 0; y < n; y++) {
        int sy = mirror_index(y0 + y, img->h);
        const uint8_t *row = img->data + (size_t)sy * img->w * 3;
        uint8_t *o = reg.data + (size_t)y * n * 3;
        if (in1 > in0) memcpy(o + (size_t)in0 * 3, row + (size_t)(x0 + in0) * 3, (size_t)(in1 - in0) * 3);
        for (int x = 0; x < in0; x++)
            memcpy(o + (size_t)x * 3, row + (size_t)mirror_index(x0 + x, img->w) * 3, 3);
        for (int x = in1; x < n; x++)
            memcpy(o + (size_t)x * 3, row + (size_t)mirror_index(x0 + x, img->w) * 3, 3);
    }
    mf_face_box b = *box;
    b.x -= (float)x0, b.y -= (float)y0;
    for (int k = 0; k < MF_FACE_KP_COUNT; k++)
        b.kp[k][0] -= (float)x0, b.kp[k][1] -= (float)y0;
    st = mf_face_mesher_run(mesh, &reg, &b, lm);
    mf_img_free(&reg);
    if (st) return st;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
        lm->pt[i][0] += (float)x0, lm->pt[i][1] += (float)y0;
    for (int e = 0; e < 2; e++)
        for (int j = 0; j < 5; j++)
            lm->iris[e][j][0] += (float)x0, lm->iris[e][j][1] += (float)y0;
    lm->box.x += (float)x0, lm->box.y += (float)y0;
    for (int k = 0; k < MF_FACE_KP_COUNT; k++)
        lm->box.kp[k][0] += (float)x0, lm->box.kp[k][1] += (float)y0;
    return MF_OK;
}

/* box b turned by q quarter turns clockwise about its centre (keypoints and roll; the box is square in effect: the
 * mesh crops a square of its larger side). */
static mf_face_box turn_about_centre(const mf_face_box *b, int q) {
    mf_face_box t = *b;
    float cx = b->x + 0.5f * b->w, cy = b->y + 0.5f * b->h, c = q == 2 ? -1.0f : 0.0f,
          s = q == 1   ? 1.0f
              : q == 3 ? -1.0f
                       : 0.0f;
    for (int k = 0; k < MF_FACE_KP_COUNT; k++) {
        float dx = b->kp[k][0] - cx, dy = b->kp[k][1] - cy;
        t.kp[k][0] = cx + c * dx - s * dy, t.kp[k][1] = cy + s * dx + c * dy;
    }
    t.roll = wrap_pi(b->roll + (float)q * 0.5f * (float)M_PI);
    return t;
}

/* Whether mesh box m still lies on detection d (centre within FLIP_SHIFT of d's side, size within a factor of
 * FLIP_SCALE): a turned crop's mesh may converge onto a neighbouring face (LFW Andre_Lange_0001: the retried mesh of
 * the middle face moved onto the face beside it, and the dedup then dropped the middle face). */
static int same_place(const mf_face_box *m, const mf_face_box *d) {
    float side = fmaxf(d->w, d->h), ms = fmaxf(m->w, m->h);
    float dx = m->x + 0.5f * m->w - d->x - 0.5f * d->w, dy = m->y + 0.5f * m->h - d->y - 0.5f * d->h;
    return hypotf(dx, dy) <= FLIP_SHIFT * side && ms <= FLIP_SCALE * side && side <= FLIP_SCALE * ms;
}

int mf_face_privacy_mesh(mf_face_mesher_t *mesh, const mf_img *img, const mf_face_box *box, mf_face_landmarks *lm) {
    int st = mesh_once(mesh, img, box, lm);
    if (st || !(lm->score >= PAINT_MIN_MESH && lm->score < FLIP_SURE)) return st;
    /* doubtful: the mesh may have read the face the wrong way round (docs/detection.md); the crop turned by 180 (and
     * 90 and 270) degrees as well, the highest face flag wins */
    int runs = mf_face_mesher_last_passes(mesh);
    mf_face_landmarks *other = malloc(sizeof *other);
    if (!other) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    static const int turns[3] = {2, 1, 3};
    for (int i = 0; i < 3 && !st && lm->score < (i ? FLIP_QUARTER : FLIP_SURE); i++) {
        mf_face_box t = turn_about_centre(box, turns[i]);
        st = mesh_once(mesh, img, &t, other);
        if (st) break;
        runs += mf_face_mesher_last_passes(mesh);
        if (other->score > lm->score && same_place(&other->box, box)) *lm = *other;
    }
    free(other);
    if (!st) mf_face_mesher_add_passes(mesh, runs - mf_face_mesher_last_passes(mesh));
    return st;
}

/* Fraction of box b inside the w x h image. */
static float visible_fraction(const mf_face_box *b, int w, int h) {
    float x0 = fmaxf(0, b->x), y0 = fmaxf(0, b->y), x1 = fminf((float)w, b->x + b->w), y1 = fminf((float)h, b->y + b->h);
    float a = b->w * b->h;
    return a > 0 ? fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0) / a : 0;
}

int mf_face_privacy_paintable(const mf_face *f, const mf_img *img) {
    int doubtful = f->det.score < SURE_SCORE || visible_fraction(&f->det, img->w, img->h) < CUT_VISIBLE;
    if (small_doubtful(f)) return f->lm.score >= SMALL_PAINT_MIN_MESH;
    return f->lm.score >= (doubtful ? LOW_PAINT_MIN_MESH : PAINT_MIN_MESH);
}

float mf_face_privacy_first_reject(void) { return FIRST_REJECT; }
