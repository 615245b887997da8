/* mfmc face attributes: apparent age and gender of a detected face.
 *
 * Several networks of the human-models folder can estimate them (see docs/attributes.md for the comparison):
 *   "gear"               age (7 buckets) + gender + race, 198 px RGB 0..1          (GEAR-Predictor)
 *   "faceres"            age (100 years softmax) + gender, 224 px BGR 0..255     (HSE FaceRes, fp16 weights)
 *   "faceres-deep"       the same architecture, other (fp32) weights, 224 px BGR 0..255
 *   "age"                age (regression), 64 px BGR 0..255                      (SSR-Net)
 *   "gender"             gender, 64 px grey -1..1                                 (face_classification CNN)
 *   "gender-ssrnet-imdb" gender, 64 px BGR 0..255                                 (SSR-Net, IMDB)
 * Each model gets its own crop: a square centred on the face box (shifted along the face's vertical axis),
 * side = scale * max(box w, h), rotated by the box's roll so that the eyes are level, then resized to the
 * network input (area pre-filter, bilinear). Per-model scales and shifts were measured on LFW with boxes of the
 * default detector (facemesh-detection-full); a box from another source should be of similar size.
 *
 * The estimates are those of models trained on celebrity and web photos: apparent age, and a binary gender
 * guess from appearance. They are used to pick a synthetic replacement of similar appearance, nothing else. */
#ifndef MFMC_ATTRIB_H
#define MFMC_ATTRIB_H

#include "mfmc/face.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MF_GENDER_UNKNOWN = 0, /* no gender model */
    MF_GENDER_FEMALE = 1,
    MF_GENDER_MALE = 2,
} mf_gender;

typedef struct {
    float age;                /* apparent age in years; -1 when no age model was asked for */
    mf_gender gender;         /* MF_GENDER_UNKNOWN when no gender model was asked for */
    float gender_score;       /* confidence of `gender`, 0.5..1 (max(p_male, 1 - p_male)) */
    float p_male;             /* probability of male, 0..1 (0.5 when unknown) */
    const char *age_model;    /* model(s) behind `age` ("faceres", "gear+faceres", ..., "" if none); owned by the
                                 handle, valid until it is freed */
    const char *gender_model; /* same for gender */
} mf_face_attributes;

typedef struct mf_face_attrib mf_face_attrib_t;

typedef struct {
    /* Model names for each attribute; several joined with '+' are averaged (age in years, gender as p_male).
     * NULL or "" = the default choice (MF_FACE_ATTRIB_DEFAULT_AGE / _GENDER); "none" = do not estimate. */
    const char *age_model;
    const char *gender_model;
} mf_face_attrib_opts;

/* The measured choice (docs/attributes.md): gender from faceres (balanced accuracy 0.96 on LFW with approximate
 * labels), age from faceres-deep (smallest error on LFW identities of known age, most consistent per identity).
 * Both together cost two 224-px network runs per face (about 2 x 16 ms of CPU); "faceres" for both halves it. */
#define MF_FACE_ATTRIB_DEFAULT_AGE "faceres-deep"
#define MF_FACE_ATTRIB_DEFAULT_GENDER "faceres"

/* Creates an attribute session over the shared `models` (which must outlive it) for the models named in opts
 * (NULL = defaults), planned on `pool` (NULL = calling thread). A model named for both attributes is run once.
 * MF_ERR_ARG for an unknown name (the message lists the known ones), loader errors otherwise. One session is used
 * by one thread at a time. */
int mf_face_attrib_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, const mf_face_attrib_opts *opts,
                               mf_face_attrib_t **out);
/* The same with its own models, loaded from the models root `models_root` (the folder holding human/). */
int mf_face_attrib_create(const char *models_root, mf_nn_pool_t *pool, const mf_face_attrib_opts *opts,
                          mf_face_attrib_t **out);
void mf_face_attrib_free(mf_face_attrib_t *h);

/* Estimates age and gender of `face` in `img` (RGB). Only face->x, y, w, h and roll are used.
 * MF_ERR_ARG (and *out set to "unknown": age -1, gender unknown) when the image is not RGB, the box is not
 * finite, smaller than 1 pixel or larger than 16 times the image, or its centre lies outside the image.
 * Deterministic: the same input gives the same output, bit for bit, on one machine and thread count. */
int mf_face_attrib_estimate(mf_face_attrib_t *h, const mf_img *img, const mf_face_box *face, mf_face_attributes *out);

/* mf_face_attrib_estimate from one network run: age and gender both from the first model of the age set that also
 * estimates gender (the default faceres-deep does), each from the full set's models where it has none. The age
 * is exactly mf_face_attrib_estimate's when the age set is that one model (the default); the gender is that model's
 * own read-out, not the gender set's (default faceres): about half the cost, for a caller that needs a rough gender
 * (the anonymizer's feedback on a rejected draw). Same argument checks. */
int mf_face_attrib_estimate_one(mf_face_attrib_t *h, const mf_img *img, const mf_face_box *face,
                                mf_face_attributes *out);

/* ---------------------------------------------------------------- registry and measurement */

typedef struct {
    const char *name;        /* catalogue name (mf_face_model_find), e.g. "faceres" */
    const char *description;
    int has_age, has_gender; /* what the model estimates */
    int input_size;          /* network input side in pixels */
} mf_face_attrib_model_info;

int mf_face_attrib_model_count(void);
const mf_face_attrib_model_info *mf_face_attrib_model_at(int i);       /* NULL when out of range */
const mf_face_attrib_model_info *mf_face_attrib_model_find(const char *name); /* NULL when unknown */

/* How a model's crop is made and its output decoded. The defaults are the measured ones. */
typedef struct {
    float scale;  /* crop side / max(box w, h) */
    float dy;     /* crop centre shift along the face's downward axis, in units of max(box w, h) */
    float aspect; /* crop height / width (the square side is the width); 1 = square */
    int bgr;      /* 1: feed channels as B, G, R */
    int decode;   /* age decoding: 0 = expectation over the output distribution, 1 = the reference decoding
                     (faceres: argmax with neighbour interpolation; gear: human's sorted-bucket blend) */
} mf_face_attrib_tuning;

/* Reads / changes the tuning of a model loaded in `h` (MF_ERR_NOTFOUND if it is not loaded). */
int mf_face_attrib_get_tuning(const mf_face_attrib_t *h, const char *model, mf_face_attrib_tuning *t);
int mf_face_attrib_set_tuning(mf_face_attrib_t *h, const char *model, const mf_face_attrib_tuning *t);

/* Runs the single model `model` (which must be loaded in `h`) and fills what it estimates (age -1 / gender
 * unknown for what it does not). Same argument checks as mf_face_attrib_estimate. */
int mf_face_attrib_run_model(mf_face_attrib_t *h, const char *model, const mf_img *img, const mf_face_box *face,
                             mf_face_attributes *out);

#ifdef __cplusplus
}
#endif
#endif
