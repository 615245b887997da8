/* mfmc face analysis: detection, 468-point mesh with pose and expression, recognizers, attributes.
 * Data flows one way: pixels (image.h) -> detections -> face records. */
#ifndef MFMC_FACE_H
#define MFMC_FACE_H

#include "mfmc/limits.h"
#include "mfmc/image.h"
#include "mfmc/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- the model catalogue */

/* What a model is used for (bits: blazeface is a detector and the verifier, faceres a recognizer and an
 * attribute model). */
enum {
    MF_FACE_ROLE_DETECTOR = 1 << 0,   /* finds faces (mf_face_detect_opts.model) */
    MF_FACE_ROLE_VERIFIER = 1 << 1,   /* second opinion on borderline detections */
    MF_FACE_ROLE_MESH = 1 << 2,       /* 468-point mesh */
    MF_FACE_ROLE_IRIS = 1 << 3,       /* eye and iris refinement */
    MF_FACE_ROLE_RECOGNIZER = 1 << 4, /* embeddings (mf_face_recognizer_info) */
    MF_FACE_ROLE_ATTRIBUTE = 1 << 5,  /* age and gender (mfmc/attrib.h) */
};

/* One model file set mfmc uses. Every file is named relative to the models root (the folder holding human/,
 * faceapi/, faceplugin/), the one folder every face-layer constructor takes. */
typedef struct {
    const char *name;        /* catalogue name: "facemesh", "blazeface", "arcface", ... */
    const char *description;
    int roles;               /* MF_FACE_ROLE_* bits */
    mf_nn_format format;     /* loader of files[0] */
    const char *files[2];    /* the file to load, then its weights (NULL when files[0] holds them) */
    const char *sha256[2];   /* sha256 of files[0] and files[1] as 64 lowercase hex digits (checked by
                                `mfmc models`; regenerated with `mfmc models --sha256sum` after a pin changes) */
} mf_face_model_info;

/* The catalogue (src/face/catalog.c): every model mfmc uses and nothing else. Count, entry i (NULL out of range),
 * entry by name (NULL if unknown). Entries are static. */
int mf_face_model_count(void);
const mf_face_model_info *mf_face_model_at(int i);
const mf_face_model_info *mf_face_model_find(const char *name);

/* Role names of the bits in `roles` joined with ',' into buf ("detector,verifier"); returns buf. */
const char *mf_face_model_roles(int roles, char *buf, size_t len);

/* ---------------------------------------------------------------- loaded models, shared by sessions */

/* A models root and the models loaded from it: each catalogue model is loaded once, on first use by a session
 * (or by mf_face_models_load), and is read-only from then on. Safe to share between threads: loading is
 * serialised inside. Sessions (detector, mesher, recognizer, attribute handle, analyzer) created from it hold
 * their own plans and scratch, are used by one thread at a time, and must be freed before it. */
typedef struct mf_face_models mf_face_models_t;

/* Opens the models root `models_root` (nothing is loaded yet). */
int mf_face_models_create(const char *models_root, mf_face_models_t **out);
void mf_face_models_free(mf_face_models_t *models);

/* The models root it was created with. */
const char *mf_face_models_root(const mf_face_models_t *models);

/* Loads catalogue model `name` now (a no-op when loaded): MF_ERR_NOTFOUND for a name not in the catalogue,
 * loader errors (naming the file) otherwise. Thread-safe. */
int mf_face_models_load(mf_face_models_t *models, const char *name);

/* Keypoints of a detection, as the BlazeFace family orders them. "Right" is the subject's right (image left
 * for a frontal face). */
enum { MF_FACE_KP_REYE = 0, MF_FACE_KP_LEYE, MF_FACE_KP_NOSE, MF_FACE_KP_MOUTH, MF_FACE_KP_REAR, MF_FACE_KP_LEAR,
       MF_FACE_KP_COUNT };

typedef struct {
    float x, y, w, h;                /* box in image pixels (top-left corner, size) */
    float score;                     /* detector confidence 0..1 */
    float kp[MF_FACE_KP_COUNT][2];   /* keypoints in image pixels */
    float roll;                      /* in-plane rotation in radians: angle of the right->left eye vector */
} mf_face_box;

/* Intersection over union of two boxes' axis-aligned rectangles (x, y, w, h; roll ignored): 0 when they do not
 * overlap or the union is empty. */
float mf_face_box_iou(const mf_face_box *a, const mf_face_box *b);

/* Overlap of boxes a and b over the smaller one's area: 1 when one holds the other, 0 when they do not meet or
 * either is empty. */
float mf_face_box_overlap_small(const mf_face_box *a, const mf_face_box *b);

typedef struct mf_face_detector mf_face_detector_t;

typedef struct {
    const char *model;   /* "facemesh-detection-full" (default, 192 px, full range) or "blazeface" (256 px) */
    int min_face;        /* smallest face side in image pixels to look for (default 24) */
    float threshold;     /* score threshold (default 0.7); candidates from 0.6 * threshold up are kept when a second
                            network (blazeface, on a crop around them) confirms them, unless `strict` */
    float nms_iou;       /* overlap above which detections are merged (default 0.3) */
    mf_nn_pool_t *pool;  /* threads for the network (NULL: calling thread) */
    int strict;          /* 1: every face reported scores at least `threshold` (no confirmed borderline ones) */
    int border;          /* 1 (privacy mode): tiles reach MF_FACE_DETECT_BORDER_PX network pixels beyond every image
                            edge (grey) and one coarser level is added, so faces cut by the border are found;
                            boxes may then reach outside the image */
} mf_face_detect_opts;
#define MF_FACE_DETECT_BORDER_PX 32

/* Detector model names, i = 0, 1, ... (the first is the default); NULL past the last. */
const char *mf_face_detector_model_at(int i);

/* Creates a detector session over the shared `models` (which must outlive it). opts may be NULL. The session
 * owns its plans and buffers; one session is used by one thread at a time. */
int mf_face_detector_create_from(mf_face_models_t *models, const mf_face_detect_opts *opts,
                                 mf_face_detector_t **out);
/* The same with its own models, loaded from the models root `models_root` (the folder holding human/). */
int mf_face_detector_create(const char *models_root, const mf_face_detect_opts *opts, mf_face_detector_t **out);
void mf_face_detector_free(mf_face_detector_t *det);

/* Finds every face in `img` (RGB) over an image pyramid of overlapping tiles, merging duplicates by weighted
 * non-maximum suppression. Sets *faces to the detector's own array of *n_faces boxes, best first, valid until the
 * next call on this detector or its free. No cap below MF_FACE_MAX_FOUND (100,000 faces, mfmc/limits.h):
 * beyond it the call fails with MF_ERR_LIMIT instead of dropping faces. MF_ERR_MODEL when the network computes
 * non-finite values (damaged model file). */
int mf_face_detect_all(mf_face_detector_t *det, const mf_img *img, const mf_face_box **faces, int *n_faces);

/* mf_face_detect_all copied into a caller's buffer: the best max_faces boxes (the caller asks for the top
 * max_faces; use mf_face_detect_all when every face matters) and their count to *n_faces. */
int mf_face_detect(mf_face_detector_t *det, const mf_img *img, mf_face_box *faces, int max_faces, int *n_faces);

/* Number of network evaluations (tiles) of the last mf_face_detect call, for progress and benchmarks. */
int mf_face_detector_last_tiles(const mf_face_detector_t *det);
/* Verifier-network runs of the last mf_face_detect call (borderline candidates checked on a crop). */
int mf_face_detector_last_verifications(const mf_face_detector_t *det);

/* ---------------------------------------------------------------- landmarks: 468-point mesh, pose, expression */

enum { MF_FACE_MESH_POINTS = 468 };

typedef struct {
    float pt[MF_FACE_MESH_POINTS][3]; /* x, y in image pixels; z relative depth in the same pixel scale */
    float score;                      /* face-presence confidence of the mesh model, 0..1 */
    int has_iris;                     /* iris refinement applied */
    float iris[2][5][2];              /* per eye (0 = subject's right): centre + 4 contour points, image px */
    float yaw, pitch, roll;           /* head pose in degrees (yaw > 0: subject turns to their left) */
    float eye_open[2];                /* eye openness: lid gap / eye width, per eye (0 = subject's right) */
    float mouth_open;                 /* lip gap / mouth width */
    mf_face_box box;                  /* box tightened around the mesh (score copied from the detection) */
} mf_face_landmarks;

/* The mouth's shape in a mesh (expression, for evaluations and tests): *width = mouth width (corners 61-291) over
 * the outer eye corners' distance (33-263), both 3-D; *corner = height of the mean corner above the middle of the
 * lip join (inner lip points 13, 14), perpendicular to the eye line, over the mouth width (> 0: corners up, a smile;
 * < 0: down). Either pointer may be NULL; a degenerate mesh gives 0. */
void mf_face_mouth_shape(const mf_face_landmarks *lm, float *width, float *corner);

typedef struct mf_face_mesher mf_face_mesher_t;

/* Creates a mesh session over the shared `models` (facemesh, and iris when use_iris); one thread at a time. */
int mf_face_mesher_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, int use_iris, mf_face_mesher_t **out);
/* The same with its own models, loaded from the models root (the folder holding human/). */
int mf_face_mesher_create(const char *models_root, mf_nn_pool_t *pool, int use_iris, mf_face_mesher_t **out);
void mf_face_mesher_free(mf_face_mesher_t *m);

/* Mesh-network runs (crop passes) of the last mf_face_mesher_run, for benchmarks. */
int mf_face_mesher_last_passes(const mf_face_mesher_t *m);

/* Runs the mesh model on the face of `det` (crop rotated by det->roll) and fills *out in image coordinates. */
int mf_face_mesher_run(mf_face_mesher_t *m, const mf_img *img, const mf_face_box *det, mf_face_landmarks *out);

/* The five alignment points in ArcFace template order: eye on the image left, eye on the image right, nose tip,
 * mouth corner on the image left, mouth corner on the image right (image pixels). Left and right are those of the
 * upright face: the subject's right eye and mouth corner come first whatever the roll, so the alignment never
 * mirrors a face (on an upright face they are on the image left). */
void mf_face_landmarks_5pt(const mf_face_landmarks *lm, float out[5][2]);
/* The same five points estimated from a detection alone (mouth corners from the mouth centre and eye distance). */
void mf_face_box_5pt(const mf_face_box *det, float out[5][2]);

/* ---------------------------------------------------------------- recognizers */

typedef struct mf_face_recognizer mf_face_recognizer_t;

typedef struct {
    const char *name;              /* registry name, e.g. "faceapi", "arcface", "faceres" */
    const char *description;
    int dim;                       /* embedding size */
    int primary;                   /* 1 for the one primary recognizer (tagging, thresholds) */
    int ensemble;                  /* 1 if part of the guarantee ensemble */
    float match_threshold;         /* cosine similarity passed by 1e-3 of LFW's impostor pairs (all 10 folds;
                                      eval/eval_lfw.c, docs/accuracy.md); 0 if not measured */
    float dissimilarity_threshold; /* a replacement face must score below this against the original:
                                      min(99th percentile of LFW impostor scores, 1st percentile of genuine) */
    int unusable;                  /* 1: kept for measurement only (near chance on LFW: every pair scores ~1);
                                      tools must not offer it as a recognizer */
    int lfw_test_fold;             /* 0: trained without LFW, any LFW pair measures it; k > 0: trained on the LFW
                                      identities outside folds k..9 (lfw-pairs.tsv), so measure it on the pairs
                                      of folds k..9 only (lbp: 5; docs/recognizers.md) */
} mf_face_recognizer_info;

/* The registry (the recognizer section of the catalogue, src/face/catalog.c): count, entry i, entry by name (NULL
 * if unknown). Entries are static. */
int mf_face_recognizer_count(void);
const mf_face_recognizer_info *mf_face_recognizer_info_at(int i);
const mf_face_recognizer_info *mf_face_recognizer_find(const char *name);

/* Creates a session of recognizer `name` over the shared `models`; one thread at a time. */
int mf_face_recognizer_create_from(mf_face_models_t *models, const char *name, mf_nn_pool_t *pool,
                                   mf_face_recognizer_t **out);
/* The same with its own model, loaded from the models root (the folder holding human/, faceapi/, faceplugin/). */
int mf_face_recognizer_create(const char *models_root, const char *name, mf_nn_pool_t *pool,
                              mf_face_recognizer_t **out);
void mf_face_recognizer_free(mf_face_recognizer_t *r);
const mf_face_recognizer_info *mf_face_recognizer_info_of(const mf_face_recognizer_t *r);

/* Embeds the face whose five alignment points are `pts5` (see mf_face_landmarks_5pt): the recognizer builds the
 * crop its model was trained on. Writes info->dim floats, L2-normalised, to `embedding`. */
int mf_face_recognizer_embed(mf_face_recognizer_t *r, const mf_img *img, const float pts5[5][2], float *embedding);

/* Cosine similarity of two L2-normalised embeddings. */
float mf_face_similarity(const float *a, const float *b, int dim);

#ifdef __cplusplus
}
#endif
#endif
