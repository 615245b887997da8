/* Face alignment for the recognizers (internal to libmfmc; used by src/face/recog.c, the LFW evaluation and the
 * recognizer tests).
 *
 * Every recognizer crop is defined from the five alignment points (ArcFace template order, see face.h) by a
 * similarity transform onto the ArcFace 112x112 template, rescaled to the crop size and then scaled about the crop
 * centre by `scale` (the face size relative to ArcFace's framing: 1 = ArcFace framing, < 1 more context) and
 * shifted down by `dy` crop sides. `upright` keeps only the transform's scale and translation (an axis-aligned
 * square, as face-api crops its faces). Pixel values fed to the model: (v - mean[c]) * mul, in RGB or BGR order;
 * pixels outside the image count as black (v = 0). */
#ifndef MF_FACE_ALIGN_H
#define MF_FACE_ALIGN_H

#include "mfmc/face.h"

typedef struct {
    int size;      /* crop side in pixels (the model's input side) */
    int upright;   /* 1: no rotation */
    float scale;   /* face size relative to the ArcFace framing */
    float dy;      /* downward shift of the face in the crop, in crop sides */
    int bgr;       /* 1: channels fed as B, G, R */
    float mean[3]; /* subtracted per channel, in the fed order */
    float mul;     /* multiplier after the subtraction */
    int flip;      /* 1: add the embedding of the mirrored crop before normalising */
} mf_face_align_spec;

/* The ArcFace 112x112 template (pixel centres at integer coordinates). */
extern const float mf_face_arcface_template[5][2];

/* The five template points in crop pixels for `spec` (pixel centres at integer coordinates). */
void mf_face_align_template(const mf_face_align_spec *spec, float tpl[5][2]);

/* Least-squares similarity transform (rotation, uniform scale, translation; Umeyama without reflection) mapping
 * src[i] onto dst[i]: dst ~ [a -b; b a] src + t. Writes {a, b, tx, ty}. MF_ERR_ARG when the source points are
 * not finite or coincide. */
int mf_face_similarity_fit(const float (*src)[2], const float (*dst)[2], int n, float abt[4]);

/* The warp matrix of mf_img_warp_to_float (crop pixel -> image pixel) for the face whose alignment points are
 * pts5. MF_ERR_ARG for non-finite or degenerate points (eyes closer than a pixel). */
int mf_face_align_matrix(const float pts5[5][2], const mf_face_align_spec *spec, float m[6]);

/* Fills dst (spec->size^2 x 3 floats, NHWC) with the model input of the face at pts5, mirrored left-right when
 * `mirror`. MF_ERR_ARG for a bad image, bad points, or a crop that does not overlap the image. */
int mf_face_align_crop(const mf_img *img, const float pts5[5][2], const mf_face_align_spec *spec, int mirror,
                       float *dst);

/* Preprocessing of registry entry `name` (NULL if unknown). */
const mf_face_align_spec *mf_face_recognizer_default_spec(const char *name);

/* mf_face_recognizer_create with another preprocessing (spec->size must equal the model's input side), for
 * measuring alternatives. spec NULL = the registry's. */
int mf_face_recognizer_create_spec(const char *models_root, const char *name, const mf_face_align_spec *spec,
                                   mf_nn_pool_t *pool, mf_face_recognizer_t **out);

/* mf_face_recognizer_create_spec over shared models (mf_face_recognizer_create_from with another
 * preprocessing). */
int mf_face_recognizer_create_spec_from(mf_face_models_t *models, const char *name, const mf_face_align_spec *spec,
                                        mf_nn_pool_t *pool, mf_face_recognizer_t **out);

/* The preprocessing a recognizer uses. */
const mf_face_align_spec *mf_face_recognizer_spec(const mf_face_recognizer_t *r);

/* (speed32) Turns the mirror pass of a recognizer whose spec has one (faceapi: the crop's and its mirror's
 * outputs summed) off (flip 0) or back on (flip 1; a spec without a mirror pass is left without one). Its
 * embeddings then differ from the registry's, and so do the thresholds that fit them (the caller's). MF_ERR_ARG for
 * a NULL recognizer. */
int mf_face_recognizer_set_flip(mf_face_recognizer_t *r, int flip);

#endif
