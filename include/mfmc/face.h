/* mfmc face analysis: detection (this file, so far), then mesh, alignment, recognition and attributes.
 * Data flows one way: pixels (image.h) -> detections -> face records. */
#ifndef MFMC_FACE_H
#define MFMC_FACE_H

#include "mfmc/image.h"
#include "mfmc/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

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

typedef struct mf_face_detector mf_face_detector_t;

typedef struct {
    const char *model;   /* "facemesh-detection-full" (default, 192 px, full range) or "blazeface" (256 px) */
    int min_face;        /* smallest face side in image pixels to look for (default 24) */
    float threshold;     /* minimum score (default 0.7) */
    float nms_iou;       /* overlap above which detections are merged (default 0.3) */
    mf_nn_pool_t *pool;  /* threads for the network (NULL: calling thread) */
} mf_face_detect_opts;

/* Creates a detector from the human-models folder `models_dir` (containing <model>.json). opts may be NULL.
 * The detector owns its model and plan; one detector is used by one thread at a time. */
int mf_face_detector_create(const char *models_dir, const mf_face_detect_opts *opts, mf_face_detector_t **out);
void mf_face_detector_free(mf_face_detector_t *det);

/* Finds faces in `img` (RGB) over an image pyramid of overlapping tiles, merging duplicates by weighted
 * non-maximum suppression. Writes at most max_faces boxes, best first, and their count to *n_faces (faces
 * beyond max_faces are dropped, lowest scores first). */
int mf_face_detect(mf_face_detector_t *det, const mf_img *img, mf_face_box *faces, int max_faces, int *n_faces);

/* Number of network evaluations (tiles) of the last mf_face_detect call, for progress and benchmarks. */
int mf_face_detector_last_tiles(const mf_face_detector_t *det);

#ifdef __cplusplus
}
#endif
#endif
