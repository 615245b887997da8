/* Privacy mode's judge of masked-face candidates (judge.c; docs/detection.md, "Branch occl18"): a third detector,
 * faceplugin's fr_detect (the Ultra-Light face detector, trained on WIDER FACE, whose faces include masked and
 * occluded ones), looks at a candidate the mesh rejects, upright in its own view, at several scales, and says whether
 * a face lies there. Independent of the detectors privacy mode already runs (the BlazeFace family). */
#ifndef MF_FACE_JUDGE_H
#define MF_FACE_JUDGE_H

#include "mfmc/analyze.h"

typedef struct mf_face_judge mf_face_judge_t;

/* Creates the judge over the shared `models` (catalogue model "fr-detect"; must outlive it), its network on `pool`
 * (NULL: calling thread). One thread at a time. Returns a status; *out NULL on failure. */
int mf_face_judge_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, mf_face_judge_t **out);
void mf_face_judge_free(mf_face_judge_t *j);

/* The judge's score (0..1) of a face in box b of img: one network run on a view centred on b, turned upright by
 * b->roll, b's side `face_px` network pixels across (grey beyond the image); the best face score among the
 * network's detections whose box overlaps b's by JUDGE_IOU or more (0 when none). Returns a status. */
int mf_face_judge_score(mf_face_judge_t *j, const mf_img *img, const mf_face_box *b, float face_px, float *score);

/* The judge's verdict on box b: *face = 1 when at least JUDGE_VOTES of the JUDGE_SCALES views (b at 48, 64, 96 and
 * 128 network pixels) score JUDGE_KEEP or more. Stops as soon as the verdict is known (2 to 4 runs, added to
 * *runs). Returns a status. */
int mf_face_judge_face(mf_face_judge_t *j, const mf_img *img, const mf_face_box *b, int *face, int *runs);

/* The judge's network as a detector (small18, privacy mode's crowds of small faces): one run on the 320 x 240 view of
 * img centred at (cx, cy), `scale` image pixels per network pixel (grey beyond the image, not turned); writes the
 * network's boxes scoring at least min_score (image coordinates, roll 0, no keypoints, not suppressed: several per
 * face) to out, at most max, their count to *n_out. Returns a status. */
int mf_face_judge_view_boxes(mf_face_judge_t *j, const mf_img *img, float cx, float cy, float scale, float min_score,
                             mf_face_box *out, int max, int *n_out);
/* The view's size in network pixels (320 x 240). */
enum { MF_FACE_JUDGE_VIEW_W = 320, MF_FACE_JUDGE_VIEW_H = 240 };

#endif
