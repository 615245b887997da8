/* mfmc face analysis pipeline: every face of a photo with its detection, 468-point mesh (pose, expression) and
 * attributes (age, gender) — the face records everything downstream (tagging, consent, replacement) works on. */
#ifndef MFMC_ANALYZE_H
#define MFMC_ANALYZE_H

#include "mfmc/attrib.h"
#include "mfmc/face.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    mf_face_box det;        /* detection */
    mf_face_landmarks lm;   /* mesh, pose, expression (valid when has_landmarks) */
    int has_landmarks;
    mf_face_attributes attr; /* age and gender (age < 0 / gender unknown when not estimated) */
    int confirmed;          /* 1: a face (the mesh model sees one, or no mesh was asked for); 0 (privacy mode only):
                               a candidate the mesh does not confirm, kept so the anonymizer covers it with the
                               non-face fallback (never paint a face on it): has_landmarks 0, box clipped to the
                               image */
    int passes;             /* privacy mode: passes of the privacy detector (image turns) that saw the face, 1..4 */
    int way_up_doubtful;    /* privacy mode, confirmed 0: 1 when the mesh saw a face but a second network did not
                               support the way up it read (docs/detection.md, "Branch orient14"): not painted in a
                               doubtful frame, so the fallback covers it; 0 when the mesh did not confirm it */
} mf_face;

typedef struct mf_face_analyzer mf_face_analyzer_t;

typedef struct {
    mf_nn_pool_t *pool;    /* threads for the networks (NULL: calling thread) */
    const char *detector;  /* NULL = default (see mf_face_detect_opts) */
    int min_face;          /* 0 = default (24 px) */
    float threshold;       /* 0 = default detection threshold */
    int no_mesh;           /* skip the mesh (then no pose or expression, alignment from the detection) */
    int iris;              /* refine eyes and irises */
    int no_attributes;     /* skip age and gender */
    int strict_threshold;  /* every face reported scores at least `threshold` (mf_face_detect_opts.strict) */
    int privacy;           /* detection mode of anonymization (privacy.h): faces at any rotation, cut by the border,
                              from 16 px (min_face and threshold then default to MF_PRIVACY_*); candidates the mesh
                              rejects are kept with confirmed = 0; each face is meshed in its own upright frame and
                              lm.roll / det.roll cover the full circle */
} mf_face_analyzer_opts;

/* Creates a pipeline session over the shared `models` (which must outlive it): its own detector, mesher and
 * attribute sessions, plans and buffers. opts may be NULL. One analyzer is used by one thread at a time; several
 * analyzers over one mf_face_models_t hold one copy of the weights (a server's workers). */
int mf_face_analyzer_create_from(mf_face_models_t *models, const mf_face_analyzer_opts *opts,
                                 mf_face_analyzer_t **out);
/* The same with its own models, loaded from the models root (the folder holding human/, faceapi/, faceplugin/). */
int mf_face_analyzer_create(const char *models_root, const mf_face_analyzer_opts *opts, mf_face_analyzer_t **out);
void mf_face_analyzer_free(mf_face_analyzer_t *an);

/* Analyses every face of `img`: sets *faces to the analyzer's own array of *n_faces records, best detection
 * first, valid until the next analysis or the free. No cap but the detector's refusal (MF_ERR_LIMIT) beyond
 * 100,000 faces. With the mesh on, a detection whose mesh face flag is below 0.5 is dropped as a false detection
 * (privacy mode: the other orientation seen by the turned passes is tried, then the candidate is kept with
 * confirmed = 0).
 * MF_ERR_MODEL when a network computes non-finite values (damaged model file, named in the message). */
int mf_face_analyze_all(mf_face_analyzer_t *an, const mf_img *img, const mf_face **faces, int *n_faces);

/* mf_face_analyze_all copied into a caller's buffer of max_faces records. Never truncates: more faces than
 * max_faces is MF_ERR_LIMIT (nothing written). */
int mf_face_analyze(mf_face_analyzer_t *an, const mf_img *img, mf_face *faces, int max_faces, int *n_faces);

/* mf_face_analyze without the attributes (age < 0, gender unknown in every record), for a caller that needs them
 * for only some faces (the anonymizer's checks: only for a draw whose identity checks passed). Same faces, boxes,
 * mesh and order as mf_face_analyze on the same image. */
int mf_face_analyze_geometry(mf_face_analyzer_t *an, const mf_img *img, mf_face *faces, int max_faces, int *n_faces);

/* Age and gender of one record of mf_face_analyze_geometry on the same `img`, written into face->attr: exactly what
 * mf_face_analyze would have given it (same box, same networks). Leaves them unknown (age < 0) when the analyzer
 * has no attributes (opts.no_attributes), the face is unconfirmed, or its centre lies outside the image. Counts
 * (mf_face_analyzer_last_counts) then hold this call's attribute runs only. */
int mf_face_analyze_attributes(mf_face_analyzer_t *an, const mf_img *img, mf_face *face);

/* mf_face_analyze_attributes from one network run (mf_face_attrib_estimate_one): the same age with the default
 * models, the gender read by the age model; about half the cost. */
int mf_face_analyze_attributes_one(mf_face_analyzer_t *an, const mf_img *img, mf_face *face);

/* Moves every coordinate of a face record (detection box and keypoints, mesh, irises, mesh box) by (dx, dy)
 * pixels: the record as it would be found in a crop of its image whose top-left corner is at (-dx, -dy). Angles,
 * scores and attributes are unchanged. With mf_face_analyze_attributes it reads a face's age and gender at known
 * landmarks on another image of the same geometry (the anonymizer's feedback on a drawn face) without detecting
 * or meshing it again. */
void mf_face_translate(mf_face *face, float dx, float dy);

/* Network evaluations of the last analysis per stage (for progress reports and the speed comparison). */
typedef struct {
    int detector_tiles, verifier_runs, mesh_runs, iris_runs, attribute_runs;
    int rejected; /* detections dropped because the mesh model did not see a face in them */
    int unconfirmed; /* privacy mode: candidates kept with confirmed = 0 (way_up_doubtful ones included) */
    int orient_runs; /* privacy mode: runs of the way-up check's detector (orient.c) */
    int way_up_turned, way_up_doubtful; /* privacy mode: faces the way-up check meshed again in another frame, and
                                           faces it left to the fallback (counted in unconfirmed too) */
    int judge_runs; /* privacy mode: runs of the masked-face judge's detector (judge.c) */
    int not_face_like; /* privacy mode: doubtful faces the mesh confirmed that lie on a surer record or on lettering,
                          left to the fallback (counted in unconfirmed too; docs/detection.md, "Branch fp20") */
    int turned_tiles, turned_finest_tiles; /* privacy mode: detector_tiles of the turned passes, and of them their
                                              finest level's */
    int zoom_tiles, weak_judge_runs; /* privacy mode: detector_tiles of the zoomed tiles, and the short-range
                                        detector's runs judging weak candidates before them (four a run; counted in
                                        detector_tiles too) */
} mf_face_analyzer_counts;
void mf_face_analyzer_last_counts(const mf_face_analyzer_t *an, mf_face_analyzer_counts *c);

/* The five alignment points of a face record: from the mesh when present, else from the detection. */
void mf_face_5pt(const mf_face *face, float out[5][2]);

/* The five points as another detector might place them: scaled by `scale` and turned by `deg` degrees about their
 * centre, then shifted by (dx, dy) eye distances (the distance between points 0 and 1). p and q may not overlap.
 * Used to check a face at alignments other than its own (the anonymizer's guarantee, the evaluation's attacker). */
void mf_face_5pt_moved(const float p[5][2], float scale, float dx, float dy, float deg, float q[5][2]);

/* Index of the largest face (by box area), or -1 when n == 0. */
int mf_face_largest(const mf_face *faces, int n);

#ifdef __cplusplus
}
#endif
#endif
