/* Privacy-mode steps of the analyzer (analyze.c), kept next to the privacy detector (privacy.c). */
#ifndef MF_FACE_PRIVACY_INT_H
#define MF_FACE_PRIVACY_INT_H

#include "mfmc/analyze.h"
#include "mfmc/privacy.h"

/* Network runs of the last mf_face_privacy_detect by kind (all counted in mf_face_privacy_detector_last_tiles too):
 * the turned passes' tiles (all levels) and of them their finest level's, and the first judge's runs (short-range
 * detector, four candidates a run). */
void mf_face_privacy_detector_last_work(const mf_face_privacy_detector_t *pd, int *turned_tiles, int *turned_finest,
                                        int *judge_runs);

/* mf_face_mesher_run, for a face near the image border on the image mirrored at its edges (see privacy.c). */
int mf_face_privacy_mesh(mf_face_mesher_t *mesh, const mf_img *img, const mf_face_box *box, mf_face_landmarks *lm);

/* The mesh did not confirm f (meshed from c->box): meshes c->alt, the other orientation a turned pass saw, and
 * when its face flag is higher takes it (f->det, f->lm). Adds the mesh passes to *mesh_runs. Returns a status. */
int mf_face_privacy_try_alt(mf_face_mesher_t *mesh, const mf_img *img, const mf_face_candidate *c, mf_face *f,
                            int *mesh_runs);

/* Crowds (grid21): the mesh does not confirm f, meshed from c (a copy of candidate `face` of pd's last detection,
 * led by the merge's best reading): meshes the merge's other readings (at most MEMBER_MAX, privacy.c) and when one's
 * face flag reaches MESH_ACCEPT and is higher than f's takes it: f->det, f->lm, c->box and c->found_by become that
 * reading's, *taken = 1 (else 0, nothing changed). Nothing when the last image was no crowd (the shifted grids did
 * not run). Adds the mesh passes to *mesh_runs. Returns a status. */
int mf_face_privacy_try_members(const mf_face_privacy_detector_t *pd, mf_face_mesher_t *mesh, const mf_img *img,
                                int face, mf_face *f, mf_face_candidate *c, int *taken, int *mesh_runs);

/* Whether a candidate the mesh does not confirm (face flag below 0.5, or accepted only weakly: not
 * mf_face_privacy_paintable) is kept (as a non-face candidate) or dropped as a false detection: kept when the
 * detector is confident (KEEP_UNCONFIRMED, or the lower KEEP_WEAK for a weakly accepted face: privacy.c). */
int mf_face_privacy_keep_unconfirmed(const mf_face *f, const mf_img *img);

/* Whether candidate c, found by a zoomed tile of a larger weak box or moved by a second, zoomed look
 * (mf_face_candidate.found_by MF_PRIVACY_FROM_ZOOM_BIG or MF_PRIVACY_FROM_ZOOM_AGAIN), is dropped although the keep rules below would keep it as a non-face candidate: its record
 * f is not accepted by the mesh (face flag under 0.5) and its detector score is under ZOOM_BIG_KEEP (privacy.c,
 * docs/detection.md "Branch small16"). The caller then drops it without the other rules. */
int mf_face_privacy_zoom_unsure(const mf_face_candidate *c, const mf_face *f);

/* Whether candidate c, whose record f (meshed from c->box, and from c->alt when that was tried) neither the mesh
 * confirms nor mf_face_privacy_keep_unconfirmed keeps, is kept as a non-face candidate from the detector's own
 * evidence (privacy.c, docs/detection.md "Branch recall14"): c->box's score reaches KEEP_UNCONFIRMED (or KEEP_WEAK
 * when the mesh accepted f weakly), whichever reading the mesh preferred; or c is cut by the border of img and was
 * found by at least KEEP_CUT_PASSES of the four passes scoring KEEP_WEAK, or by all four scoring SURE_SCORE. When
 * kept, f->det becomes c->box (the reading that led the merge). Never confirms: the record gets the non-face
 * fallback. */
int mf_face_privacy_keep_candidate(const mf_face_candidate *c, mf_face *f, const mf_img *img);

/* Second look at a cut candidate (cut15): whether candidate c, which neither the mesh confirms nor the keep rules
 * above keep, is cut by the border of img (less than CUT_VISIBLE of its box inside) and scores at least
 * CUT_LOOK_SCORE from at least KEEP_CUT_PASSES passes, or SURE_SCORE from one: then the caller shows it upright to the
 * short-range detector (mf_face_orient_scores, grey beyond the border) at the view *cx, *cy, *side, *roll (degrees),
 * *frac filled here, and passes view 0's score to mf_face_privacy_keep_cut_look. Returns 1 when wanted, else 0 (the
 * view untouched). */
int mf_face_privacy_cut_look(const mf_face_candidate *c, const mf_img *img, float *cx, float *cy, float *side,
                             float *roll, float *frac);

/* Whether candidate c (mf_face_privacy_cut_look wanted its look) is kept as a non-face candidate from the
 * short-range detector's score `upright` of its upright view: kept from CUT_LOOK_KEEP (privacy.c, docs/detection.md
 * "Branch cut15"). When kept, f->det becomes c->box. Never confirms: the record gets the non-face fallback. */
int mf_face_privacy_keep_cut_look(const mf_face_candidate *c, mf_face *f, float upright);

/* Second look at a face whose lower half may be covered (a mask, a scarf, a hand; mask17): whether candidate c, which
 * neither the mesh confirms nor the keep rules above keep, lies inside img (at least CUT_VISIBLE of its box), is
 * larger than SMALL_SIDE and scores at least SURE_SCORE: then the caller shows it upright to the short-range detector
 * as for mf_face_privacy_cut_look (view filled here) and passes the four scores to
 * mf_face_privacy_keep_occluded_look. Returns 1 when wanted, else 0 (the view untouched). */
int mf_face_privacy_occluded_look(const mf_face_candidate *c, const mf_img *img, float *cx, float *cy, float *side,
                                  float *roll, float *frac);

/* Whether candidate c (mf_face_privacy_occluded_look wanted its look) is kept as a non-face candidate from the
 * short-range detector's scores s4 of its four views (s4[0] upright): kept when the upright view scores at least
 * OCCLUDED_LOOK_KEEP and no other way up scores more (privacy.c, docs/detection.md "Branch mask17"). When kept,
 * f->det becomes c->box. Never confirms: the record gets the non-face fallback. */
int mf_face_privacy_keep_occluded_look(const mf_face_candidate *c, mf_face *f, const float s4[4]);

/* Whether candidate c, whose occluded look (mf_face_privacy_occluded_look) did not keep it, goes to the masked-face
 * judge (judge.c, occl18): its upright view scored at least JUDGE_LOOK_FLOOR (privacy.c). When the judge finds a
 * face, the caller keeps the record unconfirmed (mf_face_privacy_keep_judged) and later passes it to
 * mf_face_privacy_drop_judged_parts. */
int mf_face_privacy_judge_wanted(const float s4[4]);

/* Keeps f as the candidate c the judge found a face in: f->det becomes c->box. Never confirms. */
void mf_face_privacy_keep_judged(const mf_face_candidate *c, mf_face *f);

/* Drops from faces[0..n) the records listed in judged[0..n_judged) (indices, ascending) that lie beside a larger
 * record: at most PART_SCALE of its side, centred within JUDGE_NEAR of its side from it (privacy.c): the judge sees
 * faces in the hair above a face, in a part of one, in a hand at a chin. Returns the new count; the other records
 * keep their order. */
int mf_face_privacy_drop_judged_parts(mf_face *faces, int n, const int *judged, int n_judged);

/* Whether a face the mesh accepted (face flag >= 0.5) is confident enough to be painted with a synthetic face:
 * its flag at least PAINT_MIN_MESH, or LOW_PAINT_MIN_MESH for a doubtful candidate (low detector score, or cut by
 * the border of img: privacy.c); below, mf_face_privacy_keep_unconfirmed decides between the anonymizer's non-face
 * fallback and dropping it. */
int mf_face_privacy_paintable(const mf_face *f, const mf_img *img);

/* Marks f as a candidate the mesh does not confirm: confirmed = 0, no landmarks, box clipped to img. */
void mf_face_privacy_unconfirmed(mf_face *f, const mf_img *img);

/* Removes from faces[0..n) the records that duplicate a confirmed face (extent more than half inside its mesh box),
 * keeping confirmed faces first, each group by mesh score. Returns the new count, or MF_ERR_NOMEM. */
int mf_face_privacy_dedup(mf_face *faces, int n);

/* Whether the candidate detected at det, not meshed yet, is a duplicate of one of the confirmed faces of
 * faces[0..n) that mf_face_privacy_dedup would drop whatever its mesh gives: more than half inside the face's mesh
 * box and either centred near its detection or a part of its head. Such a candidate is not meshed (privacy.c). */
int mf_face_privacy_covered(const mf_face *faces, int n, const mf_face_box *det);

/* The wide look at confirmed record f (privacy.c, docs/detection.md "Branch fp20"): when f is a doubtful detection
 * (score under SURE_SCORE) whose detection scaled by WIDE_SCALE lies inside img, meshes it again from that box
 * and sets *unlike when that mesh's face flag is under WIDE_MIN_MESH (a face-like texture; the caller leaves f to the
 * fallback), else *unlike = 0 (no run for other records). Adds the mesh passes to *mesh_runs. Returns a status. */
int mf_face_privacy_wide_look(mf_face_mesher_t *mesh, const mf_img *img, const mf_face *f, int *unlike,
                              int *mesh_runs);

/* Leaves to the fallback (mf_face_privacy_unconfirmed) every confirmed record of faces[0..n) whose detection scores
 * under SURE_SCORE and whose mesh box lies more than OVERLAP_SURER inside (over the smaller box) the mesh box of
 * another confirmed record scoring SURE_SCORE and more than it: a second reading or a part of a face (privacy.c,
 * docs/detection.md "Branch fp20"). Called after mf_face_privacy_dedup (it only flips records). Returns how many
 * it moved. */
int mf_face_privacy_unconfirm_overlapped(mf_face *faces, int n, const mf_img *img);

/* Face flag of the mesh's first crop below which a privacy candidate is rejected without refining the crop
 * (mf_face_mesher_set_first_reject; FIRST_REJECT in privacy.c). */
float mf_face_privacy_first_reject(void);

#endif
