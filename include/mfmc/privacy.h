/* mfmc privacy detection: the detection mode of anonymization, where a face missed is a face published. It finds
 * faces at any in-plane rotation (passes over the image turned by 0, 90, 180 and 270 degrees, merged), faces cut by
 * the image border (the tiles reach beyond it), and small faces (16 px), trading false candidates for recall: the
 * analyzer (analyze.h, mf_face_analyzer_opts.privacy) meshes every candidate in its own upright frame and marks the
 * ones the mesh does not confirm (mf_face.confirmed = 0) so the anonymizer blurs them instead of painting a face.
 * See docs/detection.md. */
#ifndef MFMC_PRIVACY_H
#define MFMC_PRIVACY_H

#include "mfmc/face.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Passes of the privacy detector: the image turned clockwise by 0, 1, 2 and 3 quarter turns. */
enum { MF_PRIVACY_PASSES = 4 };

/* One face candidate of the privacy detector, in the pixels of the image as given. */
typedef struct {
    mf_face_box box; /* the detection of the pass where the face was most upright (roll over the full circle) */
    int turns;       /* that pass: the image turned clockwise by turns * 90 degrees */
    int has_alt;     /* another pass saw the face the other way round (roll differing by more than 90 degrees) */
    mf_face_box alt; /* that detection (valid when has_alt): the orientation to try when `box` is not confirmed */
    int alt_turns;
    int passes; /* passes that saw the face (1..4) */
    int found_by; /* how `box` was found: MF_PRIVACY_FROM_PASS, or a zoomed tile of the small-face cascade */
} mf_face_candidate;

/* mf_face_candidate.found_by: found by a pass; by a zoomed tile of a small weak candidate (magnified, the face at 24
 * network pixels); by a zoomed tile of a larger weak candidate (24-44 px, at most the image's own scale: small15's
 * ZOOM_BIG_*); a small candidate of the pass scoring under 0.5 whose box and keypoints a zoomed tile moved onto a
 * detection scoring higher (its score kept: ZOOM_AGAIN_*). The mesh must accept the last two (privacy.c). */
enum { MF_PRIVACY_FROM_PASS = 0, MF_PRIVACY_FROM_ZOOM = 1, MF_PRIVACY_FROM_ZOOM_BIG = 2, MF_PRIVACY_FROM_ZOOM_AGAIN = 3 };

/* Maps box b, found in the w x h image turned clockwise by `turns` quarter turns (mf_img_rotate90), back to the
 * w x h image: box, keypoints (continuous pixels: pixel i covers [i, i + 1)) and roll, recomputed from the eye
 * keypoints over the full circle (-pi, pi]. turns is taken modulo 4. */
void mf_face_box_unrotate(mf_face_box *b, int turns, int w, int h);

/* Roll of box b (in the image's frame) as seen in the pass turned by `turns` quarter turns, in (-pi, pi]. */
float mf_face_box_pass_roll(const mf_face_box *b, int turns);

/* Merges the candidates of the passes: cand[i] (already mapped back to the image) was found in pass turns[i].
 * Candidates overlapping by IOU above iou_min are one face; its box is the member with the best
 * score * (1 + cos(roll in its pass)) / 2 (the pass where the face was most upright: the detector's keypoints are
 * reliable there), its alternative the best member whose roll differs from it by more than 90 degrees. Writes the
 * faces, best first, to out (room for n; `found_by` MF_PRIVACY_FROM_PASS) and their count to *n_out. MF_ERR_NOMEM,
 * MF_ERR_ARG. */
int mf_face_candidates_merge(const mf_face_box *cand, const int *turns, int n, float iou_min, mf_face_candidate *out,
                             int *n_out);

typedef struct mf_face_privacy_detector mf_face_privacy_detector_t;

typedef struct {
    const char *model;   /* detector model (NULL: the default of mf_face_detect_opts) */
    int min_face;        /* smallest face of the upright pass, image pixels (0: MF_PRIVACY_MIN_FACE) */
    int turned_min_face; /* smallest face of the turned passes (0: MF_PRIVACY_TURNED_MIN_FACE) */
    float threshold;     /* detector score threshold, no verifier below it: the mesh judges (0: MF_PRIVACY_THRESHOLD);
                          * small candidates of the upright pass from 0.1 up to it are looked at again on a zoomed tile */
    mf_nn_pool_t *pool;  /* threads for the networks (NULL: calling thread) */
} mf_face_privacy_opts;

#define MF_PRIVACY_MIN_FACE 16
#define MF_PRIVACY_TURNED_MIN_FACE 64
#define MF_PRIVACY_THRESHOLD 0.3f

/* Creates a privacy detector session over the shared `models` (which must outlive it). opts may be NULL. */
int mf_face_privacy_detector_create_from(mf_face_models_t *models, const mf_face_privacy_opts *opts,
                                         mf_face_privacy_detector_t **out);
/* The same with its own models, loaded from the models root (the folder holding human/). opts may be NULL. One
 * detector is used by one thread at a time. */
int mf_face_privacy_detector_create(const char *models_dir, const mf_face_privacy_opts *opts,
                                    mf_face_privacy_detector_t **out);
void mf_face_privacy_detector_free(mf_face_privacy_detector_t *pd);

/* Finds every face candidate of the RGB image `img` over the four passes. Sets *faces to the detector's own
 * array of *n_faces candidates, best first, valid until the next call or the free. Boxes may reach outside the
 * image (faces cut by the border). Errors as mf_face_detect_all. */
int mf_face_privacy_detect(mf_face_privacy_detector_t *pd, const mf_img *img, const mf_face_candidate **faces,
                           int *n_faces);

/* Detector tiles and verifier runs of the last mf_face_privacy_detect (all passes). */
int mf_face_privacy_detector_last_tiles(const mf_face_privacy_detector_t *pd);
int mf_face_privacy_detector_last_verifications(const mf_face_privacy_detector_t *pd);
/* Zoomed tiles of the last mf_face_privacy_detect (the small-face cascade; also counted in last_tiles). */
int mf_face_privacy_detector_last_zooms(const mf_face_privacy_detector_t *pd);

#ifdef __cplusplus
}
#endif
#endif
