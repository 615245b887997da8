/* Privacy mode's way-up check (orient.c): a face the mesh confirms is painted in the frame the mesh read, and the
 * mesh's face flag does not tell when that frame is the wrong way round (docs/detection.md, "Branch orient14"). A
 * second network, the short-range face detector, looks at the face turned upright by the mesh's roll and by that
 * roll plus 90, 180 and 270 degrees, the four side by side in one network input; the way up it scores highest must be
 * the mesh's, else the face is meshed again in the frame the detector supports, or left to the non-face fallback. */
#ifndef MF_FACE_ORIENT_H
#define MF_FACE_ORIENT_H

#include "mfmc/analyze.h"

typedef struct mf_face_orient mf_face_orient_t;

/* Verdicts of mf_face_orient_decide / mf_face_orient_check. */
enum {
    MF_FACE_ORIENT_KEEP = 0, /* the detector supports the mesh's way up */
    MF_FACE_ORIENT_MORE,     /* (decide, first look only) not clear yet: look again at a second scale */
    MF_FACE_ORIENT_TURN,     /* (decide) the detector supports the frame turned by *turn quarter turns */
    MF_FACE_ORIENT_TURNED,   /* (check) meshed again in the frame the detector supports, which both confirm */
    MF_FACE_ORIENT_DOUBT,    /* the evidence is weak or disagrees: not to be painted (non-face fallback) */
    MF_FACE_ORIENT_MASKED    /* (check) in doubt as a masked face read the wrong way round (mf_face_orient_masked_reading) */
};

/* Creates the check over the shared `models` (the short-range detector; must outlive it), networks on `pool`
 * (NULL: calling thread). One thread at a time. Returns a status; *out NULL on failure. */
int mf_face_orient_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, mf_face_orient_t **out);
void mf_face_orient_free(mf_face_orient_t *o);

/* Bilinear sample of RGB img at (sx, sy) (pixel centres at integers) into o[3]; grey (128) outside (also the
 * occluded-face judge's views, judge.c). */
void mf_face_orient_sample(const mf_img *img, float sx, float sy, uint8_t *o);

/* Detector scores s[q] (0..1, 0: nothing there) of the face centred at (cx, cy), `side` pixels across, turned
 * upright by roll + q * 90 degrees (roll in degrees, as mf_face_landmarks.roll), q = 0..3: one network run on the
 * four views side by side, each showing the face at `frac` of its quarter of the input. Pixels outside img are
 * grey (the mirrored border's reflection of a cut face is upside down: it would support both ways up). view0
 * (NULL: not wanted) gets the best detection of view 0 mapped to image pixels (box, keypoints, roll in radians;
 * score 0 when none). */
int mf_face_orient_scores(mf_face_orient_t *o, const mf_img *img, float cx, float cy, float side, float roll,
                          float frac, float s[4], mf_face_box *view0);

/* The rule (no network): first look a (scores at ORIENT_FRAC_A), second look b (at ORIENT_FRAC_B; NULL when not
 * taken yet). Returns MF_FACE_ORIENT_KEEP, _MORE (b NULL only), _TURN (*turn = 1..3 quarter turns to add to the
 * mesh's roll) or _DOUBT. Thresholds in orient.c (ORIENT_*). */
int mf_face_orient_decide(const float a[4], const float b[4], int *turn);

/* 1 when face f (with landmarks, a detection scoring at least ORIENT_MASKED_SURE) looks read the wrong way round by
 * the mesh on a face whose mouth is covered: its mesh's roll lies more than ORIENT_DET_DISAGREE degrees from its
 * detection's, and the mesh's darker eye patch is clearly brighter than its mouth patch (a mask's bright cloth under
 * the mesh's eyes, the real eyes under its mouth). No network; thresholds in orient.c. docs/detection.md, "Branch
 * updown21". */
int mf_face_orient_masked_reading(const mf_img *img, const mf_face *f);

/* The check of face f that privacy mode confirmed (has_landmarks, confirmed 1) in img: scores the mesh's way up and
 * the three others (one network run, a second at another scale when the first is not clear); when another way up
 * wins, meshes f again from its detection turned to that frame (mf_face_privacy_mesh) and takes it only when the new
 * mesh is paintable, its roll lies in that frame and the detector supports it in turn; a face the looks keep is in
 * doubt when mf_face_orient_masked_reading says so. Sets *verdict to
 * MF_FACE_ORIENT_KEEP (f unchanged), _TURNED (f->lm replaced, f->det's keypoints and roll by the check's own
 * detection of the face in the new frame), _DOUBT (f unchanged) or _MASKED (f's detection box widened to hold its
 * mesh box too: the mesh's reading spans the face where the detection may not, mask/0006) (the caller makes a face in
 * doubt a non-face candidate). Adds its network runs to *detector_runs and the new mesh's
 * passes to *mesh_runs. Returns a status. */
int mf_face_orient_check(mf_face_orient_t *o, mf_face_mesher_t *mesh, const mf_img *img, mf_face *f, int *verdict,
                         int *detector_runs, int *mesh_runs);

/* After privacy mode's records are made (before the dedup): a confirmed record the detector is less sure of than a
 * face left in doubt as masked (`masked`: the indices of the n_masked such records of faces) whose mesh box lies more
 * than ORIENT_INSIDE inside that face's box is a second reading of part of it (mask/0032: a 131 px box on the eyes of
 * a 324 px masked face, painted when the larger reading is not): made a non-face candidate
 * (mf_face_privacy_unconfirmed). Returns how many. */
int mf_face_orient_unconfirm_inside(mf_face *faces, int n, const int *masked, int n_masked, const mf_img *img);

#endif
