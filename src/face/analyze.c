#include "face/internal.h"
#include "mfmc/analyze.h"

#include "face/judge.h"
#include "face/orient.h"
#include "face/privacy_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESH_MIN_SCORE 0.5f
/* Privacy mode: at most this many candidates an image are kept by the masked-face judge (each costs 2-4 runs of its
 * network; a demo photo sends it 0-1); beyond, a candidate is left as main left it (dropped). */
#define JUDGE_MAX 32
/* Privacy mode: at most this many faces an image left in doubt as masked faces read upside down are looked for parts
 * read again inside them (mf_face_orient_unconfirm_inside; the occlusion set has at most one a picture) */
#define MASKED_MAX 16

struct mf_face_analyzer {
    mf_face_analyzer_opts opts;
    mf_face_detector_t *det;
    mf_face_privacy_detector_t *pd; /* privacy mode (instead of det) */
    mf_face_mesher_t *mesh;
    mf_face_orient_t *orient; /* privacy mode with the mesh: the way-up check (orient.c) */
    mf_face_judge_t *judge;   /* privacy mode with the mesh: the masked-face judge (judge.c) */
    mf_face_attrib_t *attrib;
    mf_face *faces; /* the last analysis (grown on demand) */
    int cap_faces;
    mf_face_analyzer_counts counts;
    mf_face_models_t *own_models; /* created by mf_face_analyzer_create, else NULL (shared) */
};

int mf_face_analyzer_create_from(mf_face_models_t *models, const mf_face_analyzer_opts *opts,
                                 mf_face_analyzer_t **out) {
    *out = NULL;
    mf_face_analyzer_t *an = calloc(1, sizeof *an);
    if (!an) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (opts) an->opts = *opts;
    mf_face_detect_opts d = {an->opts.detector, an->opts.min_face, an->opts.threshold, 0, an->opts.pool,
                             an->opts.strict_threshold, 0};
    mf_face_privacy_opts po = {an->opts.detector, an->opts.min_face, 0, an->opts.threshold, an->opts.pool};
    int st = an->opts.privacy ? mf_face_privacy_detector_create_from(models, &po, &an->pd)
                              : mf_face_detector_create_from(models, &d, &an->det);
    if (!st && !an->opts.no_mesh) st = mf_face_mesher_create_from(models, an->opts.pool, an->opts.iris, &an->mesh);
    /* privacy mode: most candidates are not faces; one mesh crop rejects them (privacy.c, docs/detection.md) */
    if (!st && an->pd && an->mesh) mf_face_mesher_set_first_reject(an->mesh, mf_face_privacy_first_reject());
    if (!st && an->pd && an->mesh) st = mf_face_orient_create_from(models, an->opts.pool, &an->orient);
    if (!st && an->pd && an->mesh) st = mf_face_judge_create_from(models, an->opts.pool, &an->judge);
    if (!st && !an->opts.no_attributes) st = mf_face_attrib_create_from(models, an->opts.pool, NULL, &an->attrib);
    if (st) {
        mf_face_analyzer_free(an);
        return st;
    }
    *out = an;
    return MF_OK;
}

int mf_face_analyzer_create(const char *models_root, const mf_face_analyzer_opts *opts, mf_face_analyzer_t **out) {
    *out = NULL;
    mf_face_models_t *models = NULL;
    int st = mf_face_models_create(models_root, &models);
    if (!st) st = mf_face_analyzer_create_from(models, opts, out);
    return mf_face_models_adopt(st, models, st ? NULL : &(*out)->own_models);
}

void mf_face_analyzer_free(mf_face_analyzer_t *an) {
    if (!an) return;
    mf_face_detector_free(an->det);
    mf_face_privacy_detector_free(an->pd);
    mf_face_mesher_free(an->mesh);
    mf_face_orient_free(an->orient);
    mf_face_judge_free(an->judge);
    mf_face_attrib_free(an->attrib);
    free(an->faces);
    mf_face_models_free(an->own_models);
    free(an);
}

/* age and gender of one record, from the box the analysis reads them on (the mesh box when meshed); a face cut by
 * the border (privacy mode) with its centre outside the image gets none */
static int face_attributes(mf_face_analyzer_t *an, const mf_img *img, mf_face *f, int one) {
    const mf_face_box *box = f->has_landmarks ? &f->lm.box : &f->det;
    float cx = box->x + 0.5f * box->w, cy = box->y + 0.5f * box->h;
    if (!an->attrib || !f->confirmed || !(cx >= 0 && cy >= 0 && cx < (float)img->w && cy < (float)img->h)) return MF_OK;
    int st = one ? mf_face_attrib_estimate_one(an->attrib, img, box, &f->attr)
                 : mf_face_attrib_estimate(an->attrib, img, box, &f->attr);
    if (!st) an->counts.attribute_runs++;
    return st;
}

/* Privacy mode: the attributes of the n records the dedup kept. Read after the dedup, not before: a confirmed record
 * the dedup drops as a duplicate (sample2: one of four) costs no attribute run (time16); the records kept get the
 * same values (face_attributes reads only the record and the image). */
static int privacy_attributes(mf_face_analyzer_t *an, const mf_img *img, mf_face *faces, int n) {
    for (int i = 0; i < n; i++) {
        int st = face_attributes(an, img, &faces[i], 0);
        if (st) return st;
    }
    return MF_OK;
}

/* Privacy mode, after the dedup (fp20, privacy.c): the doubtful confirmed records that lie on a surer confirmed face
 * (a second reading, a part of it) or that the mesh loses when it looks wider (a face-like texture) are left to the
 * fallback. Only flips confirmed records to unconfirmed: no record is added or dropped. */
static int privacy_not_face_like(mf_face_analyzer_t *an, const mf_img *img, mf_face *faces, int n) {
    int moved = mf_face_privacy_unconfirm_overlapped(faces, n, img);
    for (int i = 0; i < n; i++) {
        int unlike = 0, st = mf_face_privacy_wide_look(an->mesh, img, &faces[i], &unlike, &an->counts.mesh_runs);
        if (st) return st;
        if (unlike) mf_face_privacy_unconfirmed(&faces[i], img), moved++;
    }
    an->counts.unconfirmed += moved;
    an->counts.not_face_like += moved;
    return MF_OK;
}

static int analyze_all(mf_face_analyzer_t *an, const mf_img *img, int attributes, const mf_face **faces,
                       int *n_faces) {
    *n_faces = 0;
    *faces = NULL;
    memset(&an->counts, 0, sizeof an->counts);
    const mf_face_box *boxes = NULL;
    const mf_face_candidate *cand = NULL; /* privacy mode */
    int n = 0, st;
    if (an->pd) {
        st = mf_face_privacy_detect(an->pd, img, &cand, &n);
        an->counts.detector_tiles = mf_face_privacy_detector_last_tiles(an->pd);
        an->counts.verifier_runs = mf_face_privacy_detector_last_verifications(an->pd);
        an->counts.zoom_tiles = mf_face_privacy_detector_last_zooms(an->pd);
        mf_face_privacy_detector_last_work(an->pd, &an->counts.turned_tiles, &an->counts.turned_finest_tiles,
                                           &an->counts.weak_judge_runs);
    } else {
        st = mf_face_detect_all(an->det, img, &boxes, &n);
        an->counts.detector_tiles = mf_face_detector_last_tiles(an->det);
        an->counts.verifier_runs = mf_face_detector_last_verifications(an->det);
    }
    if (st) return st;
    if (n > an->cap_faces) { /* n <= the detector's limit, far below any size overflow */
        size_t bytes;
        if (mf_size_mul((size_t)n, sizeof *an->faces, &bytes)) return mf_error_set(MF_ERR_LIMIT, "too many faces");
        mf_face *nf = realloc(an->faces, bytes);
        if (!nf) return mf_error_set(MF_ERR_NOMEM, "out of memory");
        an->faces = nf;
        an->cap_faces = n;
    }
    int kept = 0, judged[JUDGE_MAX], n_judged = 0; /* records the masked-face judge kept (their indices) */
    int masked[MASKED_MAX], n_masked = 0;           /* faces in doubt as masked faces read upside down (orient.c) */
    for (int i = 0; i < n; i++) {
        mf_face *f = &an->faces[kept];
        memset(f, 0, sizeof *f);
        f->det = cand ? cand[i].box : boxes[i];
        f->attr.age = -1;
        f->attr.p_male = 0.5f;
        f->confirmed = 1;
        f->passes = cand ? cand[i].passes : 1;
        /* privacy mode: a duplicate of a confirmed face the dedup would drop anyway costs no mesh run */
        if (cand && an->mesh && mf_face_privacy_covered(an->faces, kept, &f->det)) continue;
        if (an->mesh) {
            if ((st = cand ? mf_face_privacy_mesh(an->mesh, img, &f->det, &f->lm)
                           : mf_face_mesher_run(an->mesh, img, &f->det, &f->lm)))
                return st;
            f->has_landmarks = 1;
            an->counts.mesh_runs += mf_face_mesher_last_passes(an->mesh);
            if (f->lm.has_iris) an->counts.iris_runs += 2;
            if (f->lm.score < MESH_MIN_SCORE && cand && cand[i].has_alt &&
                (st = mf_face_privacy_try_alt(an->mesh, img, &cand[i], f, &an->counts.mesh_runs)))
                return st;
            /* the mesh model's face flag is a second, independent opinion: a detection it rejects is dropped
             * (demo photos: real faces >= 0.9, the one background false detection 0.12); privacy mode keeps it
             * as a non-face candidate */
            /* privacy mode: a face the mesh accepts only weakly is never painted: kept unconfirmed, or dropped when
             * the detector is not confident either (mf_face_privacy_keep_unconfirmed) */
            int weak = cand && f->lm.score >= MESH_MIN_SCORE && !mf_face_privacy_paintable(f, img);
            /* privacy mode, crowds (grid21): the merge's other readings of the face, when its leading one is not
             * confirmed; one the mesh accepts better leads the rules below */
            const mf_face_candidate *c = cand ? &cand[i] : NULL;
            mf_face_candidate member;
            if (cand && (f->lm.score < MESH_MIN_SCORE || weak)) {
                member = cand[i];
                int taken;
                if ((st = mf_face_privacy_try_members(an->pd, an->mesh, img, i, f, &member, &taken,
                                                      &an->counts.mesh_runs)))
                    return st;
                if (taken) {
                    c = &member;
                    weak = f->lm.score >= MESH_MIN_SCORE && !mf_face_privacy_paintable(f, img);
                }
            }
            if (f->lm.score < MESH_MIN_SCORE || weak) {
                if (!weak) an->counts.rejected++;
                if (!cand) continue;
                /* a zoomed detection of a larger weak box needs the mesh's acceptance (small16) */
                int unsure = mf_face_privacy_zoom_unsure(c, f);
                int keep = !unsure &&
                           (mf_face_privacy_keep_unconfirmed(f, img) || mf_face_privacy_keep_candidate(c, f, img));
                /* a cut candidate the rules drop (cut15), or an uncut one the detector is sure of whose lower face
                 * may be covered (mask17): one look of the short-range detector at it upright */
                float cx, cy, side, roll, frac, s4[4];
                int cut = 0, covered = 0;
                if (!keep && !unsure && an->orient &&
                    ((cut = mf_face_privacy_cut_look(c, img, &cx, &cy, &side, &roll, &frac)) ||
                     (covered = mf_face_privacy_occluded_look(c, img, &cx, &cy, &side, &roll, &frac)))) {
                    if ((st = mf_face_orient_scores(an->orient, img, cx, cy, side, roll, frac, s4, NULL))) return st;
                    an->counts.orient_runs++;
                    keep = cut ? mf_face_privacy_keep_cut_look(c, f, s4[0]) : mf_face_privacy_keep_occluded_look(c, f, s4);
                    /* an uncut candidate the look does not keep: the masked-face judge (occl18, judge.c) */
                    if (!keep && covered && n_judged < JUDGE_MAX && mf_face_privacy_judge_wanted(s4)) {
                        int face;
                        if ((st = mf_face_judge_face(an->judge, img, &c->box, &face, &an->counts.judge_runs)))
                            return st;
                        if ((keep = face)) {
                            mf_face_privacy_keep_judged(c, f);
                            judged[n_judged++] = kept;
                        }
                    }
                }
                if (!keep) continue;
                mf_face_privacy_unconfirmed(f, img);
                an->counts.unconfirmed++;
                kept++;
                continue;
            }
            /* privacy mode: never paint a face in a frame the way-up check does not support (orient.c) */
            if (an->orient) {
                int v;
                if ((st = mf_face_orient_check(an->orient, an->mesh, img, f, &v, &an->counts.orient_runs,
                                               &an->counts.mesh_runs)))
                    return st;
                an->counts.way_up_turned += v == MF_FACE_ORIENT_TURNED;
                if (v == MF_FACE_ORIENT_MASKED && n_masked < MASKED_MAX) masked[n_masked++] = kept;
                if (v == MF_FACE_ORIENT_DOUBT || v == MF_FACE_ORIENT_MASKED) {
                    mf_face_privacy_unconfirmed(f, img);
                    f->way_up_doubtful = 1;
                    an->counts.unconfirmed++;
                    an->counts.way_up_doubtful++;
                    kept++;
                    continue;
                }
            }
        }
        /* the mesh box is tighter and its roll more precise than the detector's (face_attributes reads it);
         * privacy mode reads them after the dedup (privacy_attributes) */
        if (attributes && !cand && (st = face_attributes(an, img, f, 0))) return st;
        kept++;
    }
    if (n_masked) an->counts.unconfirmed += mf_face_orient_unconfirm_inside(an->faces, kept, masked, n_masked, img);
    if (cand && n_judged) kept = mf_face_privacy_drop_judged_parts(an->faces, kept, judged, n_judged);
    if (cand && (kept = mf_face_privacy_dedup(an->faces, kept)) < 0) return kept;
    if (cand && an->mesh && (st = privacy_not_face_like(an, img, an->faces, kept))) return st;
    if (cand && attributes && (st = privacy_attributes(an, img, an->faces, kept))) return st;
    *faces = an->faces;
    *n_faces = kept;
    return MF_OK;
}

int mf_face_analyze_all(mf_face_analyzer_t *an, const mf_img *img, const mf_face **faces, int *n_faces) {
    return analyze_all(an, img, 1, faces, n_faces);
}

static int analyze_copy(mf_face_analyzer_t *an, const mf_img *img, int attributes, mf_face *faces, int max_faces,
                        int *n_faces) {
    *n_faces = 0;
    if (max_faces < 0 || (max_faces > 0 && !faces)) return mf_error_set(MF_ERR_ARG, "bad face buffer");
    const mf_face *all;
    int n, st = analyze_all(an, img, attributes, &all, &n);
    if (st) return st;
    if (n > max_faces)
        return mf_error_set(MF_ERR_LIMIT, "%d faces found, room for %d (mf_face_analyze_all gives every face)", n,
                            max_faces);
    if (n > 0) memcpy(faces, all, (size_t)n * sizeof *faces);
    *n_faces = n;
    return MF_OK;
}

int mf_face_analyze(mf_face_analyzer_t *an, const mf_img *img, mf_face *faces, int max_faces, int *n_faces) {
    return analyze_copy(an, img, 1, faces, max_faces, n_faces);
}

int mf_face_analyze_geometry(mf_face_analyzer_t *an, const mf_img *img, mf_face *faces, int max_faces, int *n_faces) {
    return analyze_copy(an, img, 0, faces, max_faces, n_faces);
}

static int analyze_attributes(mf_face_analyzer_t *an, const mf_img *img, mf_face *face, int one) {
    if (!an || !img || !img->data || !face) return mf_error_set(MF_ERR_ARG, "analyze: null argument");
    memset(&face->attr, 0, sizeof face->attr); /* as the analysis starts a record */
    face->attr.age = -1, face->attr.p_male = 0.5f;
    memset(&an->counts, 0, sizeof an->counts);
    return face_attributes(an, img, face, one);
}

int mf_face_analyze_attributes(mf_face_analyzer_t *an, const mf_img *img, mf_face *face) {
    return analyze_attributes(an, img, face, 0);
}

int mf_face_analyze_attributes_one(mf_face_analyzer_t *an, const mf_img *img, mf_face *face) {
    return analyze_attributes(an, img, face, 1);
}

void mf_face_analyzer_last_counts(const mf_face_analyzer_t *an, mf_face_analyzer_counts *c) { *c = an->counts; }

static void box_translate(mf_face_box *b, float dx, float dy) {
    b->x += dx, b->y += dy;
    for (int k = 0; k < MF_FACE_KP_COUNT; k++) b->kp[k][0] += dx, b->kp[k][1] += dy;
}

void mf_face_translate(mf_face *f, float dx, float dy) {
    box_translate(&f->det, dx, dy);
    if (!f->has_landmarks) return;
    box_translate(&f->lm.box, dx, dy);
    for (int v = 0; v < MF_FACE_MESH_POINTS; v++) f->lm.pt[v][0] += dx, f->lm.pt[v][1] += dy;
    if (f->lm.has_iris)
        for (int e = 0; e < 2; e++)
            for (int k = 0; k < 5; k++) f->lm.iris[e][k][0] += dx, f->lm.iris[e][k][1] += dy;
}

void mf_face_5pt(const mf_face *f, float out[5][2]) {
    if (f->has_landmarks) mf_face_landmarks_5pt(&f->lm, out);
    else mf_face_box_5pt(&f->det, out);
}

void mf_face_5pt_moved(const float p[5][2], float scale, float dx, float dy, float deg, float q[5][2]) {
    float cx = 0, cy = 0;
    for (int k = 0; k < 5; k++) cx += p[k][0] / 5, cy += p[k][1] / 5;
    float d = hypotf(p[1][0] - p[0][0], p[1][1] - p[0][1]), an = deg * (float)M_PI / 180;
    float c = scale * cosf(an), sn = scale * sinf(an);
    for (int k = 0; k < 5; k++) {
        float x = p[k][0] - cx, y = p[k][1] - cy;
        q[k][0] = cx + c * x - sn * y + dx * d, q[k][1] = cy + sn * x + c * y + dy * d;
    }
}

int mf_face_largest(const mf_face *faces, int n) {
    int best = -1;
    float area = -1;
    for (int i = 0; i < n; i++) {
        float a = faces[i].det.w * faces[i].det.h;
        if (a > area) {
            area = a;
            best = i;
        }
    }
    return best;
}
