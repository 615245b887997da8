/* Independent attribute judges of the evaluation (eval-only code, docs/evaluation.md): age, gender, head pose,
 * expression and two liveness / anti-spoofing scores, from models the anonymizer does not use for its own checks:
 *   faceplugin fr_age.onnx, fr_gender.onnx (SSR-Net, 64 px, ImageNet normalisation), fr_pose.onnx (Hopenet-style,
 *   66 bins of 3 degrees per angle, 224 px), fr_expression.onnx (7 classes, 224 px, 0..1), fr_liveness.onnx
 *   (MiniFASNet-style, 3 classes, 128 px, raw 0..255), and human's antispoof (128 px, 0..1, sigmoid "real" score).
 * Each model gets the crop around the detection box that its vendor's SDK builds (see judges.c). Loaded through
 * the engine (mf_nn_model_load); one ev_judges per thread. */
#ifndef MF_EV_JUDGES_H
#define MF_EV_JUDGES_H

#include "mfmc/face.h"
#include "mfmc/image.h"

enum { EV_JUDGE_EXPR_CLASSES = 7 };

typedef struct {
    float age;                         /* years (fr_age) */
    float p_male;                      /* 0..1 (fr_gender: > 0.5 = male) */
    float yaw, pitch, roll;            /* degrees (fr_pose) */
    float expr[EV_JUDGE_EXPR_CLASSES]; /* softmax of fr_expression */
    int expr_class;                    /* argmax of expr */
    float live;                        /* fr_liveness: probability of its "real" class */
    float antispoof;                   /* human antispoof: 0..1, higher = real */
} ev_judgement;

typedef struct ev_judges ev_judges;

/* Loads the six judge models from models_root (faceplugin/ and human/) and plans them for the calling thread.
 * Returns MF_OK, or an mfmc status with the message set (a missing or malformed model file). */
int ev_judges_create(const char *models_root, ev_judges **out);
void ev_judges_free(ev_judges *j);

/* Judges the face whose detection box is `box` (image pixels) in img (RGB). Fills every field of *out. */
int ev_judges_run(ev_judges *j, const mf_img *img, const mf_face_box *box, ev_judgement *out);

/* Only the head pose of ev_judges_run (fr_pose, degrees, the same crop and figures): for ranking many photos by yaw
 * (tests/tools/privacy-set's profile set). Returns MF_OK or an mfmc status with the message set. */
int ev_judges_pose(ev_judges *j, const mf_img *img, const mf_face_box *box, float *yaw, float *pitch, float *roll);

/* Names of the expression classes (the FER-2013 order, the usual one for 7-class expression models; the
 * evaluation only compares classes before and after, it never relies on the names). */
const char *ev_judge_expr_name(int k);

#endif
