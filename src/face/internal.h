/* Internal to the face layer: the recognizer section of the catalogue, the shared models' accessors for sessions,
 * and the argument checks every stage makes. */
#ifndef MF_FACE_INTERNAL_H
#define MF_FACE_INTERNAL_H

#include "face/align.h"
#include "mfmc/face.h"

/* How a recognizer computes its embedding: a network of the catalogue, or the classical LBP-histogram pipeline
 * (src/face/lbp.h; no model file: its learnt projection is compiled in). */
enum { MF_FACE_REC_NETWORK = 0, MF_FACE_REC_LBP = 1 };

/* A recognizer: its registry facts, its catalogue model, output tensor and measured preprocessing. */
typedef struct {
    mf_face_recognizer_info info;
    const char *model;  /* catalogue name of its model file (NULL for MF_FACE_REC_LBP) */
    const char *output; /* output tensor (NULL for MF_FACE_REC_LBP) */
    mf_face_align_spec spec;
    int kind;           /* MF_FACE_REC_* */
} mf_face_recognizer_def;

/* The recognizer section of the catalogue (src/face/catalog.c). */
extern const mf_face_recognizer_def mf_face_recognizer_defs[];
extern const int mf_face_recognizer_def_count;
const mf_face_recognizer_def *mf_face_recognizer_def_find(const char *name);

/* One model of a session: the shared loaded model, the session's plan of it and the file, for messages. */
typedef struct {
    const mf_face_model_info *info;
    const mf_nn_model_t *model; /* owned by the mf_face_models_t */
    mf_nn_plan_t *plan;         /* owned by the session */
    const char *path;           /* owned by the mf_face_models_t: root/files[0] */
} mf_face_session_model;

/* Loads catalogue model `name` from `models` (once: later calls share it), plans it on `pool` and, when side > 0,
 * checks its input is [1, side, side, channels]. MF_ERR_ARG with a message saying what a models root is when the
 * file is missing and `models` was given the human/ folder instead of the root. Free with
 * mf_face_session_model_free (a zeroed struct is freed safely). `fast`: planned with MF_NN_PLAN_ISA_FAST (AMX tiles
 * for the large GEMMs where the CPU has them; the recognizers, docs/kernels.md "AMX"). */
int mf_face_session_model_init(mf_face_session_model *sm, mf_face_models_t *models, const char *name,
                               mf_nn_pool_t *pool, int side, int channels, int fast);
void mf_face_session_model_free(mf_face_session_model *sm);

/* The end of a constructor taking the models root (the thin wrapper over its *_create_from): on failure (st < 0)
 * frees `models` and returns st; on success hands `models` to the session's own-models slot (freed with the
 * session) and returns MF_OK. */
int mf_face_models_adopt(int st, mf_face_models_t *models, mf_face_models_t **slot);

/* MF_ERR_ARG "<what> need(s) an RGB image" unless img is a non-empty 3-channel image. */
int mf_face_check_rgb(const mf_img *img, const char *what);

/* Makes mf_face_mesher_run stop after its first crop when that crop's face flag is below `flag` (0, the default:
 * never): a candidate the mesh rejects outright costs one mesh run instead of two to four (privacy mode, where
 * most candidates are not faces). The refined crops follow the first one's mesh, which is noise at such a flag. */
void mf_face_mesher_set_first_reject(mf_face_mesher_t *m, float flag);

/* Adds `passes` to what mf_face_mesher_last_passes reports: a caller that ran the mesher more than once for one face
 * (privacy mode's other way up) counts them all. */
void mf_face_mesher_add_passes(mf_face_mesher_t *m, int passes);

/* Runs the detector's network once on one tile centred at (cx, cy) of the image scaled by f (network pixels per image
 * pixel: a zoomed tile; outside the image: grey), and writes its detections scoring at least `threshold`, mapped to
 * image pixels, to *boxes (the detector's own array, valid until its next call) and their count to *n (no
 * suppression: overlapping boxes of one face are all there). Privacy mode's cascade for small faces (privacy.c).
 * MF_ERR_ARG for a bad image or region, MF_ERR_MODEL for non-finite outputs. */
int mf_face_detect_zoom(mf_face_detector_t *d, const mf_img *img, float cx, float cy, float f, float threshold,
                        const mf_face_box **boxes, int *n);

/* mf_face_detect_all on the finest pyramid level alone, its tiles moved right and down by `shift` network pixels
 * (one tile fewer along an axis of several): a second look at the finest level whose blind places (where a face of
 * 12-18 network pixels lies in the tile) fall elsewhere. Privacy mode's crowds of small faces (privacy.c). Errors as
 * mf_face_detect_all. */
int mf_face_detect_finest_shifted(mf_face_detector_t *d, const mf_img *img, int shift, const mf_face_box **faces,
                                  int *n_faces);

/* Strict detectors (mf_face_detect_opts.strict) only: makes mf_face_detect_all also decode candidates from `weak` up
 * to the threshold, suppressed by the faces it finds but never averaged into them (its faces stay the same), and
 * keep the rest apart, after suppression among themselves: mf_face_detector_last_weak (the detector's own array,
 * valid until its next call). 0 (the default): none. Privacy mode's small-face cascade (privacy.c). */
void mf_face_detector_set_weak(mf_face_detector_t *d, float weak);
void mf_face_detector_last_weak(const mf_face_detector_t *d, const mf_face_box **boxes, int *n);

/* Border mode (mf_face_detect_opts.border) only: on (1), a pyramid level whose frame of 24 network pixels
 * (BORDER_MIN_PX) instead of MF_FACE_DETECT_BORDER_PX needs a row or column of tiles fewer gets the narrower frame on
 * that axis (detect.c). Off (0) by default; privacy mode's turned passes (privacy.c, det13). */
void mf_face_detector_set_narrow_frame(mf_face_detector_t *d, int on);

/* Border mode only: on (1), the level f0 (the whole image at half the input) is left out when the level before it
 * holds the whole framed image in one tile and lies at most SPARSE_MAX_STEP (about 3x) above the border level
 * (detect.c). Off (0) by default; privacy mode's turned passes (privacy.c, ratio17). */
void mf_face_detector_set_sparse_levels(mf_face_detector_t *d, int on);

/* Tiles of the finest pyramid level the last mf_face_detect_all ran (counted in mf_face_detector_last_tiles too). */
int mf_face_detector_last_finest_tiles(const mf_face_detector_t *d);

/* Side of the detector's network input (its tiles), in network pixels. */
int mf_face_detector_input(const mf_face_detector_t *d);

/* Smallest face the detector's network resolves, in network pixels (its finest level shows min_face image pixels
 * at this size). */
float mf_face_detector_min_px(const mf_face_detector_t *d);

/* mf_img_resize(src, ow, oh, dst) computed in bands of rows on the threads of `pool` (NULL or one thread: the plain
 * resize): the same bytes. dst is zeroed first and left empty on error. */
int mf_face_resize_pooled(mf_nn_pool_t *pool, const mf_img *src, int ow, int oh, mf_img *dst);

#endif
