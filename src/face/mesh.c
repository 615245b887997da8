/* Face mesh (MediaPipe FaceMesh, 468 points) on a rotated square crop of a detection, optional iris refinement
 * (MediaPipe Iris on a crop around each eye), head pose and expression measures. See docs/mesh.md.
 *
 * Coordinates: every point this file produces is in "continuous" image pixels, the convention of the detector:
 * pixel (i, j) covers [i, i + 1) x [j, j + 1), so its centre is (i + 0.5, j + 0.5). A crop ("roi") is a square of
 * side `side` centred on (cx, cy) and rotated by `angle` (radians, the angle of the crop's x axis in the image);
 * model input coordinate (u, v) in [0, S]^2 maps to the image point
 *     centre + R(angle) * (fu * (u - S/2), v - S/2) * side / S        (fu = -1 for a mirrored crop, else 1). */
#include "face/internal.h"
#include "mfmc/linalg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MESH_IN = 192, IRIS_IN = 64, IRIS_PTS = 76, IRIS_CONTOUR = 71 };

/* Crop side relative to max(w, h) of the detector box, and to the mesh's bounding box (in the eye-level frame)
 * for the second pass. See docs/mesh.md for how they were chosen. */
#ifndef DET_SCALE
#define DET_SCALE 1.5f
#endif
#define MESH_SCALE 1.5f
/* Convergence of the crop from one pass to the next (see roi_converged). */
#ifndef ROI_TOL_SHIFT
#define ROI_TOL_SHIFT 0.02f
#define ROI_TOL_SCALE 0.03f
#define ROI_TOL_ANGLE 0.035f
#endif
/* A pass whose face flag is lower by more than this is discarded, and the passes end. */
#define SCORE_DROP 0.1f
/* Eye crop side relative to the eye-corner distance (MediaPipe Iris). */
#define IRIS_SCALE 2.3f
/* Mouth corners from a detection: half mouth width and offset above the mouth keypoint, in eye distances. */
#define MOUTH_HALF 0.44f
#define MOUTH_UP 0.08f
/* From this many image pixels per model pixel the region is first block-averaged (anti-aliasing). */
#ifndef PREFILTER_RATIO
#define PREFILTER_RATIO 2.0f
#endif

/* Mesh indices (MediaPipe FaceMesh topology). "R" = the subject's right (image left on a frontal face). */
enum {
    P_R_EYE_OUT = 33, P_R_EYE_IN = 133, P_L_EYE_OUT = 263, P_L_EYE_IN = 362, P_NOSE_TIP = 1,
    P_MOUTH_R = 61, P_MOUTH_L = 291, P_LIP_UP_IN = 13, P_LIP_LO_IN = 14, P_MID_EYES = 168
};

/* The eye contours the iris model refines, per eye, in the order of its 71 contour outputs (groups of 9 lower
 * and 7 upper points). Upper0/Lower0 are the lid line, 1..3 the rings around it. */
typedef struct {
    int first; /* first iris-model output of the group */
    int n;
    int core;  /* 1 = the lid contour (Upper0 / Lower0) */
    int mesh[2][9];
} iris_group;

static const iris_group iris_groups[] = {
    {0, 9, 1, {{33, 7, 163, 144, 145, 153, 154, 155, 133}, {263, 249, 390, 373, 374, 380, 381, 382, 362}}},
    {9, 7, 1, {{246, 161, 160, 159, 158, 157, 173}, {466, 388, 387, 386, 385, 384, 398}}},
    {16, 9, 0, {{130, 25, 110, 24, 23, 22, 26, 112, 243}, {359, 255, 339, 254, 253, 252, 256, 341, 463}}},
    {25, 7, 0, {{247, 30, 29, 27, 28, 56, 190}, {467, 260, 259, 257, 258, 286, 414}}},
    {32, 9, 0, {{226, 31, 228, 229, 230, 231, 232, 233, 244}, {446, 261, 448, 449, 450, 451, 452, 453, 464}}},
    {41, 7, 0, {{113, 225, 224, 223, 222, 221, 189}, {342, 445, 444, 443, 442, 441, 413}}},
    {54, 9, 0, {{143, 111, 117, 118, 119, 120, 121, 128, 245}, {372, 340, 346, 347, 348, 349, 350, 357, 465}}},
};

/* Lid contour of each eye (lower 9 then upper 7), for eye centres. */
static const int eye_contour[2][16] = {
    {33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173},
    {263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398},
};

typedef struct {
    float cx, cy, side, angle;
    int flip;
} roi;

struct mf_face_mesher {
    mf_face_session_model mesh, iris; /* shared models, this session's plans */
    mf_nn_plan_t *mesh_plan, *iris_plan; /* mesh.plan, iris.plan */
    int out_mesh, out_flag, out_iris;
    int min_passes, max_passes; /* crops per face: the first from the detection, the others from the last mesh */
    int last_passes;            /* passes of the last run (diagnostics) */
    float first_reject;         /* stop after the first crop when its face flag is below this (0: never) */
    float prev[MF_FACE_MESH_POINTS][3];
    const char *mesh_path, *iris_path; /* model files, for messages */
    mf_face_models_t *own_models;      /* created by mf_face_mesher_create, else NULL (shared) */
};

/* MF_ERR_MODEL when any of the n outputs of model `path` is not finite: damaged weights, not a bad image. */
static int outputs_finite(const char *path, const float *v, size_t n) { return mf_nn_check_finite(v, n, path); }

/* ---------------------------------------------------------------- crops */

/* The affine map model coordinates -> image coordinates of a crop: x = A0 u + A1 v + A2, y = A3 u + A4 v + A5. */
static void roi_affine(const roi *r, int S, float A[6]) {
    float k = r->side / (float)S, c = cosf(r->angle), s = sinf(r->angle), kf = r->flip ? -k : k;
    float h = 0.5f * (float)S;
    A[0] = c * kf, A[1] = -s * k, A[2] = r->cx - (A[0] + A[1]) * h;
    A[3] = s * kf, A[4] = c * k, A[5] = r->cy - (A[3] + A[4]) * h;
}

static void affine_apply(const float A[6], float u, float v, float *x, float *y) {
    *x = A[0] * u + A[1] * v + A[2];
    *y = A[3] * u + A[4] * v + A[5];
}

/* dst = the w x h region of src at (x0, y0) averaged over f x f blocks (partial blocks at the right and bottom
 * edges average what they cover). */
static int box_downsample(const mf_img *src, int x0, int y0, int w, int h, int f, mf_img *dst) {
    int ow = (w + f - 1) / f, oh = (h + f - 1) / f;
    int st = mf_img_init(dst, ow, oh, 3);
    if (st) return st;
    unsigned *acc = calloc((size_t)ow * 3, sizeof *acc);
    if (!acc) {
        mf_img_free(dst);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    for (int oy = 0; oy < oh; oy++) {
        int ya = y0 + oy * f, yb = ya + f < y0 + h ? ya + f : y0 + h;
        memset(acc, 0, (size_t)ow * 3 * sizeof *acc);
        for (int y = ya; y < yb; y++) {
            const uint8_t *row = src->data + ((size_t)y * src->w + x0) * 3;
            for (int x = 0; x < w; x++) {
                unsigned *a = acc + (x / f) * 3;
                a[0] += row[3 * x], a[1] += row[3 * x + 1], a[2] += row[3 * x + 2];
            }
        }
        uint8_t *out = dst->data + (size_t)oy * ow * 3;
        for (int ox = 0; ox < ow; ox++) {
            int cw = (ox + 1) * f <= w ? f : w - ox * f;
            unsigned n = (unsigned)(cw * (yb - ya));
            for (int k = 0; k < 3; k++) out[3 * ox + k] = (uint8_t)((acc[3 * ox + k] + n / 2) / n);
        }
    }
    free(acc);
    return MF_OK;
}

/* Fills the S x S x 3 float input `dst` (pixels * scale) with the crop A of img. When a model pixel spans
 * PREFILTER_RATIO image pixels or more, the region under the crop is first averaged over f x f blocks (f the
 * integer part of the ratio), so the bilinear warp samples at most 2 source pixels per model pixel and does
 * not alias. */
static int sample_crop(const mf_img *img, const float A_in[6], int S, float scale, float *dst) {
    float A[6];
    memcpy(A, A_in, sizeof A);
    float k = sqrtf(fabsf(A[0] * A[4] - A[1] * A[3]));
    mf_img small = {0};
    const mf_img *src = img;
    if (k >= PREFILTER_RATIO) {
        int f = (int)k;
        float xs[4], ys[4], x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
        affine_apply(A, 0, 0, &xs[0], &ys[0]);
        affine_apply(A, (float)S, 0, &xs[1], &ys[1]);
        affine_apply(A, 0, (float)S, &xs[2], &ys[2]);
        affine_apply(A, (float)S, (float)S, &xs[3], &ys[3]);
        for (int i = 0; i < 4; i++)
            x0 = fminf(x0, xs[i]), x1 = fmaxf(x1, xs[i]), y0 = fminf(y0, ys[i]), y1 = fmaxf(y1, ys[i]);
        /* block-aligned region around the crop, plus one block so the bilinear edge blends real pixels */
        int ix0 = (int)fmaxf(0.0f, floorf(x0) - (float)f), iy0 = (int)fmaxf(0.0f, floorf(y0) - (float)f);
        int ix1 = (int)fminf((float)img->w, ceilf(x1) + (float)f), iy1 = (int)fminf((float)img->h, ceilf(y1) + (float)f);
        if (ix1 - ix0 >= f && iy1 - iy0 >= f) {
            int st = box_downsample(img, ix0, iy0, ix1 - ix0, iy1 - iy0, f, &small);
            if (st) return st;
            /* image continuous x -> small continuous (x - ix0) / f */
            float inv = 1.0f / (float)f;
            A[0] *= inv, A[1] *= inv, A[2] = (A[2] - (float)ix0) * inv;
            A[3] *= inv, A[4] *= inv, A[5] = (A[5] - (float)iy0) * inv;
            src = &small;
        }
    }
    /* destination pixel (x, y) is model coordinate (x + 0.5, y + 0.5); source centres at integers */
    float m[6] = {A[0], A[1], A[2] + 0.5f * (A[0] + A[1]) - 0.5f, A[3], A[4], A[5] + 0.5f * (A[3] + A[4]) - 0.5f};
    mf_img_warp_to_float(src, m, S, S, scale, 0.0f, 0.0f, dst);
    mf_img_free(&small);
    return MF_OK;
}

/* ---------------------------------------------------------------- lifecycle */

int mf_face_mesher_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, int use_iris, mf_face_mesher_t **out) {
    *out = NULL;
    mf_face_mesher_t *m = calloc(1, sizeof *m);
    if (!m) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    m->min_passes = 2, m->max_passes = 4;
    m->out_iris = -1;
    int st = mf_face_session_model_init(&m->mesh, models, "facemesh", pool, MESH_IN, 3, 0);
    m->mesh_plan = m->mesh.plan, m->mesh_path = m->mesh.path;
    if (!st)
        st = mf_nn_plan_find_output(m->mesh_plan, "Identity_2:0", MF_FACE_MESH_POINTS * 3, "facemesh", &m->out_mesh);
    if (!st) st = mf_nn_plan_find_output(m->mesh_plan, "Identity_1:0", 1, "facemesh", &m->out_flag);
    if (!st && use_iris) {
        st = mf_face_session_model_init(&m->iris, models, "iris", pool, IRIS_IN, 3, 0);
        m->iris_plan = m->iris.plan, m->iris_path = m->iris.path;
        if (!st) st = mf_nn_plan_find_output(m->iris_plan, "Identity:0", IRIS_PTS * 3, "iris", &m->out_iris);
    }
    if (st) {
        mf_face_mesher_free(m);
        return st;
    }
    *out = m;
    return MF_OK;
}

int mf_face_mesher_create(const char *models_root, mf_nn_pool_t *pool, int use_iris, mf_face_mesher_t **out) {
    *out = NULL;
    mf_face_models_t *models = NULL;
    int st = mf_face_models_create(models_root, &models);
    if (!st) st = mf_face_mesher_create_from(models, pool, use_iris, out);
    return mf_face_models_adopt(st, models, st ? NULL : &(*out)->own_models);
}

void mf_face_mesher_free(mf_face_mesher_t *m) {
    if (!m) return;
    mf_face_session_model_free(&m->mesh);
    mf_face_session_model_free(&m->iris);
    mf_face_models_free(m->own_models);
    free(m);
}

/* ---------------------------------------------------------------- mesh */

/* Runs facemesh on crop r; writes the 468 points in image coordinates (z scaled like x) and returns the face
 * flag, or a negative status. */
static float run_mesh(mf_face_mesher_t *m, const mf_img *img, const roi *r, float pts[][3], int *status) {
    float A[6];
    roi_affine(r, MESH_IN, A);
    *status = sample_crop(img, A, MESH_IN, 1.0f / 255.0f, mf_nn_plan_input(m->mesh_plan, 0, NULL));
    if (*status) return 0;
    mf_nn_plan_run(m->mesh_plan);
    const float *o = mf_nn_plan_output(m->mesh_plan, m->out_mesh, NULL);
    const float *flag = mf_nn_plan_output(m->mesh_plan, m->out_flag, NULL);
    if ((*status = outputs_finite(m->mesh_path, o, MF_FACE_MESH_POINTS * 3)) ||
        (*status = outputs_finite(m->mesh_path, flag, 1)))
        return 0;
    float kz = r->side / (float)MESH_IN;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        affine_apply(A, o[3 * i], o[3 * i + 1], &pts[i][0], &pts[i][1]);
        pts[i][2] = o[3 * i + 2] * kz;
    }
    return flag[0];
}

/* Angle of the eye line (subject's right outer corner -> left outer corner). */
static float mesh_angle(const float pts[][3]) {
    return atan2f(pts[P_L_EYE_OUT][1] - pts[P_R_EYE_OUT][1], pts[P_L_EYE_OUT][0] - pts[P_R_EYE_OUT][0]);
}

static float roi_angle(const float pts[][3]);

/* The crop for the next pass: square around the mesh's bounding box in the frame of the face's roll. */
static roi roi_from_mesh(const float pts[][3]) {
    roi r = {0, 0, 0, roi_angle(pts), 0};
    float c = cosf(r.angle), s = sinf(r.angle);
    float u0 = 1e30f, u1 = -1e30f, v0 = 1e30f, v1 = -1e30f;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        float u = c * pts[i][0] + s * pts[i][1], v = -s * pts[i][0] + c * pts[i][1];
        u0 = fminf(u0, u), u1 = fmaxf(u1, u), v0 = fminf(v0, v), v1 = fmaxf(v1, v);
    }
    float uc = 0.5f * (u0 + u1), vc = 0.5f * (v0 + v1);
    r.cx = c * uc - s * vc, r.cy = s * uc + c * vc;
    r.side = MESH_SCALE * fmaxf(u1 - u0, v1 - v0);
    return r;
}

/* The crop from the mesh is the crop the mesh was computed on, give or take ROI_TOL_SHIFT of the side in
 * position, ROI_TOL_SCALE in size and ROI_TOL_ANGLE radians: another pass would not change much. */
static int roi_converged(const roi *a, const roi *b) {
    float da = fabsf(remainderf(a->angle - b->angle, 2.0f * (float)M_PI));
    return hypotf(a->cx - b->cx, a->cy - b->cy) <= ROI_TOL_SHIFT * a->side &&
           fabsf(a->side - b->side) <= ROI_TOL_SCALE * a->side && da <= ROI_TOL_ANGLE;
}

static roi roi_from_det(const mf_face_box *det) {
    roi r = {det->x + 0.5f * det->w, det->y + 0.5f * det->h, DET_SCALE * fmaxf(det->w, det->h), det->roll, 0};
    return r;
}

/* ---------------------------------------------------------------- iris */

/* Crop around eye e (0 = subject's right) from the eye corners, in the frame of the face's roll. The iris
 * model is trained on the subject's right eye as it appears on a frontal face (outer corner on the image
 * left); the left eye's crop is mirrored to look like one. */
static roi roi_eye(const float pts[][3], int e, float face_angle) {
    int o = e ? P_L_EYE_OUT : P_R_EYE_OUT, in = e ? P_L_EYE_IN : P_R_EYE_IN;
    float dx = pts[o][0] - pts[in][0], dy = pts[o][1] - pts[in][1];
    roi r = {0.5f * (pts[o][0] + pts[in][0]), 0.5f * (pts[o][1] + pts[in][1]), IRIS_SCALE * sqrtf(dx * dx + dy * dy),
             face_angle, e == 1};
    return r;
}

static int refine_iris(mf_face_mesher_t *m, const mf_img *img, float pts[][3], float side, mf_face_landmarks *out) {
    float ang = roi_angle(pts);
    float eye[2][IRIS_PTS][2];
    for (int e = 0; e < 2; e++) {
        roi r = roi_eye(pts, e, ang);
        float A[6];
        roi_affine(&r, IRIS_IN, A);
        int st = sample_crop(img, A, IRIS_IN, 1.0f / 255.0f, mf_nn_plan_input(m->iris_plan, 0, NULL));
        if (st) return st;
        mf_nn_plan_run(m->iris_plan);
        const float *o = mf_nn_plan_output(m->iris_plan, m->out_iris, NULL);
        if ((st = outputs_finite(m->iris_path, o, IRIS_PTS * 3))) return st;
        for (int i = 0; i < IRIS_PTS; i++) affine_apply(A, o[3 * i], o[3 * i + 1], &eye[e][i][0], &eye[e][i][1]);
    }
    /* Like the reference: with the head turned (eye depths differ by more than 30/192 of the crop), only the lid
     * contour of the nearer eye is replaced; the far eye's refinement diverges too much from the mesh. */
    float dz = pts[P_L_EYE_OUT][2] - pts[P_R_EYE_OUT][2];
    int turned = fabsf(dz) >= side * (30.0f / 192.0f);
    for (int e = 0; e < 2; e++) {
        int near = dz < 0 ? 1 : 0; /* smaller z is nearer the camera */
        if (turned && e != near) continue;
        for (size_t g = 0; g < sizeof iris_groups / sizeof *iris_groups; g++) {
            const iris_group *ig = &iris_groups[g];
            if (turned && !ig->core) continue;
            for (int j = 0; j < ig->n; j++) {
                pts[ig->mesh[e][j]][0] = eye[e][ig->first + j][0];
                pts[ig->mesh[e][j]][1] = eye[e][ig->first + j][1];
            }
        }
    }
    for (int e = 0; e < 2; e++)
        for (int j = 0; j < 5; j++) out->iris[e][j][0] = eye[e][IRIS_CONTOUR + j][0], out->iris[e][j][1] = eye[e][IRIS_CONTOUR + j][1];
    out->has_iris = 1;
    return MF_OK;
}

/* ---------------------------------------------------------------- pose and expression */

static float dist3(const float a[3], const float b[3]) {
    float dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
    return sqrtf(dx * dx + dy * dy + dz * dz);
}

/* Yaw, pitch, roll (degrees) of the head rotation R (canonical frontal face -> camera frame x right, y down,
 * z away from the camera). Roll: image angle of the face's x axis (subject's right -> left), the sign of
 * mf_face_box.roll. Yaw, once roll is undone: angle of that axis towards the depth (> 0: the subject's left
 * side goes away, i.e. the subject turns to their left). Pitch, once roll and yaw are undone: tilt of the
 * face's down axis towards the camera (> 0: chin forward/up, the subject looks up). */
static void rotation_to_euler(const double R[3][3], float *yaw, float *pitch, float *roll) {
    double r = atan2(R[1][0], R[0][0]), cr = cos(r), sr = sin(r);
    double R1[3][3]; /* Rz(-r) R */
    for (int c = 0; c < 3; c++) {
        R1[0][c] = cr * R[0][c] + sr * R[1][c];
        R1[1][c] = -sr * R[0][c] + cr * R[1][c];
        R1[2][c] = R[2][c];
    }
    double y = atan2(R1[2][0], R1[0][0]), cy = cos(y), sy = sin(y);
    /* Ry(y) R1 brings the x axis back onto (1, 0, 0); its second column is (0, cos p, -sin p) */
    double ey_y = R1[1][1], ey_z = sy * R1[0][1] + cy * R1[2][1];
    double p = atan2(-ey_z, ey_y);
    const double deg = 180.0 / M_PI;
    *yaw = (float)(y * deg), *pitch = (float)(p * deg), *roll = (float)(r * deg);
}

/* Rigid points of the canonical face (mesh index, x, y, z): forehead, temples, nose, eye corners and the rings
 * around the eyes, cheekbones; not the lids, brows, lips or jaw, which move with expression. Derived by
 * tools/mesh-viz.c (template) from the meshes of synthetic frontal faces, symmetrised: see docs/mesh.md. */
typedef struct {
    short i;
    float x, y, z;
} ref_point;
static const ref_point pose_ref[] = {
    /* BEGIN generated */
    {1, -0.0000f, 0.4449f, -0.4858f}, {2, -0.0000f, 0.5562f, -0.1737f}, {3, -0.0963f, 0.0263f, -0.3478f}, {4, -0.0000f, 0.3166f, -0.5319f},
    {5, -0.0000f, 0.1470f, -0.4925f}, {6, -0.0000f, -0.2620f, -0.2019f}, {8, -0.0000f, -0.5432f, -0.1399f}, {9, -0.0000f, -0.7072f, -0.1751f},
    {10, -0.0000f, -1.3632f, -0.0916f}, {19, -0.0000f, 0.5081f, -0.4214f}, {20, -0.1042f, 0.4927f, -0.2587f}, {31, -0.9621f, -0.1916f, 0.3644f},
    {33, -0.8661f, -0.3419f, 0.3150f}, {36, -0.5920f, 0.2962f, 0.0776f}, {44, -0.0946f, 0.4407f, -0.4750f}, {45, -0.1072f, 0.3160f, -0.5173f},
    {47, -0.3453f, -0.0013f, 0.0408f}, {48, -0.3638f, 0.3786f, -0.1809f}, {49, -0.3699f, 0.3092f, -0.1465f}, {50, -0.9520f, 0.2699f, 0.2319f},
    {51, -0.1023f, 0.1589f, -0.4548f}, {59, -0.2812f, 0.4493f, -0.1327f}, {60, -0.1831f, 0.4925f, -0.1434f}, {64, -0.3709f, 0.4224f, -0.1111f},
    {67, -0.6692f, -1.2969f, 0.0713f}, {68, -1.0490f, -0.8665f, 0.3184f}, {69, -0.5894f, -1.0419f, -0.0242f}, {71, -1.1740f, -0.6921f, 0.5409f},
    {75, -0.2529f, 0.4694f, -0.1089f}, {79, -0.2190f, 0.4278f, -0.3023f}, {94, -0.0000f, 0.5295f, -0.2637f}, {97, -0.1462f, 0.5480f, -0.1411f},
    {98, -0.3353f, 0.4908f, -0.0194f}, {99, -0.1635f, 0.5219f, -0.1466f}, {100, -0.4694f, 0.0620f, 0.0869f}, {101, -0.6668f, 0.1355f, 0.1244f},
    {102, -0.3922f, 0.3562f, -0.0753f}, {103, -0.9535f, -1.1789f, 0.2938f}, {104, -0.8617f, -0.9887f, 0.1354f}, {108, -0.3135f, -1.0531f, -0.1138f},
    {109, -0.3620f, -1.3522f, -0.0568f}, {111, -1.0885f, -0.1065f, 0.4372f}, {113, -0.9640f, -0.4034f, 0.2978f}, {114, -0.2630f, -0.0752f, -0.0087f},
    {115, -0.2904f, 0.3473f, -0.3018f}, {116, -1.2147f, -0.0218f, 0.5760f}, {117, -1.0097f, -0.0273f, 0.3364f}, {118, -0.8596f, 0.0157f, 0.2300f},
    {119, -0.6356f, 0.0032f, 0.1715f}, {120, -0.4686f, -0.0403f, 0.1418f}, {121, -0.3479f, -0.0926f, 0.1034f}, {122, -0.1092f, -0.2305f, -0.1527f},
    {123, -1.2124f, 0.2290f, 0.5597f}, {125, -0.0572f, 0.5022f, -0.4139f}, {126, -0.3377f, 0.1205f, -0.0034f}, {128, -0.2599f, -0.1545f, 0.0782f},
    {129, -0.4056f, 0.3578f, 0.0470f}, {131, -0.2945f, 0.2620f, -0.2593f}, {133, -0.3330f, -0.3056f, 0.2102f}, {134, -0.2001f, 0.1990f, -0.3798f},
    {139, -1.2452f, -0.4891f, 0.7455f}, {141, -0.0444f, 0.5241f, -0.2560f}, {142, -0.4444f, 0.2019f, 0.0469f}, {143, -1.1919f, -0.2426f, 0.5977f},
    {147, -1.2012f, 0.4809f, 0.6162f}, {151, -0.0000f, -1.0478f, -0.1421f}, {166, -0.2822f, 0.4357f, -0.1807f}, {168, -0.0000f, -0.4095f, -0.1241f},
    {174, -0.1844f, -0.0337f, -0.1731f}, {187, -1.0539f, 0.5414f, 0.3800f}, {188, -0.1833f, -0.1597f, -0.0727f}, {189, -0.2417f, -0.3862f, 0.1182f},
    {195, -0.0000f, 0.0082f, -0.3893f}, {196, -0.1035f, -0.0953f, -0.2615f}, {197, -0.0000f, -0.1215f, -0.2913f}, {198, -0.2646f, 0.1544f, -0.1598f},
    {203, -0.5046f, 0.4520f, 0.0881f}, {205, -0.7904f, 0.4360f, 0.1397f}, {209, -0.3342f, 0.2153f, -0.0685f}, {217, -0.2585f, 0.0427f, -0.0817f},
    {218, -0.2549f, 0.4065f, -0.3264f}, {219, -0.3295f, 0.4225f, -0.1934f}, {220, -0.2045f, 0.3289f, -0.4167f}, {221, -0.3293f, -0.4784f, 0.0779f},
    {222, -0.5119f, -0.5391f, 0.0535f}, {223, -0.6748f, -0.5529f, 0.0628f}, {224, -0.8134f, -0.5365f, 0.1143f}, {225, -0.9120f, -0.4894f, 0.1913f},
    {226, -0.9834f, -0.2985f, 0.3887f}, {227, -1.3246f, 0.0113f, 0.9433f}, {228, -0.8969f, -0.1427f, 0.3077f}, {229, -0.7748f, -0.1077f, 0.2378f},
    {230, -0.6190f, -0.1049f, 0.1890f}, {231, -0.4724f, -0.1285f, 0.1664f}, {232, -0.3610f, -0.1656f, 0.1548f}, {233, -0.2863f, -0.2035f, 0.1430f},
    {235, -0.3275f, 0.4466f, -0.1323f}, {236, -0.1848f, 0.0796f, -0.2603f}, {237, -0.1736f, 0.4207f, -0.4186f}, {238, -0.1109f, 0.4787f, -0.3662f},
    {239, -0.1738f, 0.4378f, -0.3597f}, {240, -0.2982f, 0.4795f, -0.0891f}, {241, -0.0915f, 0.4923f, -0.3973f}, {242, -0.0796f, 0.5134f, -0.2569f},
    {244, -0.2274f, -0.2679f, 0.1203f}, {245, -0.1932f, -0.2462f, 0.0359f}, {248, 0.0963f, 0.0263f, -0.3478f}, {250, 0.1042f, 0.4927f, -0.2587f},
    {261, 0.9621f, -0.1916f, 0.3644f}, {263, 0.8661f, -0.3419f, 0.3150f}, {266, 0.5920f, 0.2962f, 0.0776f}, {274, 0.0946f, 0.4407f, -0.4750f},
    {275, 0.1072f, 0.3160f, -0.5173f}, {277, 0.3453f, -0.0013f, 0.0408f}, {278, 0.3638f, 0.3786f, -0.1809f}, {279, 0.3699f, 0.3092f, -0.1465f},
    {280, 0.9520f, 0.2699f, 0.2319f}, {281, 0.1023f, 0.1589f, -0.4548f}, {289, 0.2812f, 0.4493f, -0.1327f}, {290, 0.1831f, 0.4925f, -0.1434f},
    {294, 0.3709f, 0.4224f, -0.1111f}, {297, 0.6692f, -1.2969f, 0.0713f}, {298, 1.0490f, -0.8665f, 0.3184f}, {299, 0.5894f, -1.0419f, -0.0242f},
    {301, 1.1740f, -0.6921f, 0.5409f}, {305, 0.2529f, 0.4694f, -0.1089f}, {309, 0.2190f, 0.4278f, -0.3023f}, {326, 0.1462f, 0.5480f, -0.1411f},
    {327, 0.3353f, 0.4908f, -0.0194f}, {328, 0.1635f, 0.5219f, -0.1466f}, {329, 0.4694f, 0.0620f, 0.0869f}, {330, 0.6668f, 0.1355f, 0.1244f},
    {331, 0.3922f, 0.3562f, -0.0753f}, {332, 0.9535f, -1.1789f, 0.2938f}, {333, 0.8617f, -0.9887f, 0.1354f}, {337, 0.3135f, -1.0531f, -0.1138f},
    {338, 0.3620f, -1.3522f, -0.0568f}, {340, 1.0885f, -0.1065f, 0.4372f}, {342, 0.9640f, -0.4034f, 0.2978f}, {343, 0.2630f, -0.0752f, -0.0087f},
    {344, 0.2904f, 0.3473f, -0.3018f}, {345, 1.2147f, -0.0218f, 0.5760f}, {346, 1.0097f, -0.0273f, 0.3364f}, {347, 0.8596f, 0.0157f, 0.2300f},
    {348, 0.6356f, 0.0032f, 0.1715f}, {349, 0.4686f, -0.0403f, 0.1418f}, {350, 0.3479f, -0.0926f, 0.1034f}, {351, 0.1092f, -0.2305f, -0.1527f},
    {352, 1.2124f, 0.2290f, 0.5597f}, {354, 0.0572f, 0.5022f, -0.4139f}, {355, 0.3377f, 0.1205f, -0.0034f}, {357, 0.2599f, -0.1545f, 0.0782f},
    {358, 0.4056f, 0.3578f, 0.0470f}, {360, 0.2945f, 0.2620f, -0.2593f}, {362, 0.3330f, -0.3056f, 0.2102f}, {363, 0.2001f, 0.1990f, -0.3798f},
    {368, 1.2452f, -0.4891f, 0.7455f}, {370, 0.0444f, 0.5241f, -0.2560f}, {371, 0.4444f, 0.2019f, 0.0469f}, {372, 1.1919f, -0.2426f, 0.5977f},
    {376, 1.2012f, 0.4809f, 0.6162f}, {392, 0.2822f, 0.4357f, -0.1807f}, {399, 0.1844f, -0.0337f, -0.1731f}, {411, 1.0539f, 0.5414f, 0.3800f},
    {412, 0.1833f, -0.1597f, -0.0727f}, {413, 0.2417f, -0.3862f, 0.1182f}, {419, 0.1035f, -0.0953f, -0.2615f}, {420, 0.2646f, 0.1544f, -0.1598f},
    {423, 0.5046f, 0.4520f, 0.0881f}, {425, 0.7904f, 0.4360f, 0.1397f}, {429, 0.3342f, 0.2153f, -0.0685f}, {437, 0.2585f, 0.0427f, -0.0817f},
    {438, 0.2549f, 0.4065f, -0.3264f}, {439, 0.3295f, 0.4225f, -0.1934f}, {440, 0.2045f, 0.3289f, -0.4167f}, {441, 0.3293f, -0.4784f, 0.0779f},
    {442, 0.5119f, -0.5391f, 0.0535f}, {443, 0.6748f, -0.5529f, 0.0628f}, {444, 0.8134f, -0.5365f, 0.1143f}, {445, 0.9120f, -0.4894f, 0.1913f},
    {446, 0.9834f, -0.2985f, 0.3887f}, {447, 1.3246f, 0.0113f, 0.9433f}, {448, 0.8969f, -0.1427f, 0.3077f}, {449, 0.7748f, -0.1077f, 0.2378f},
    {450, 0.6190f, -0.1049f, 0.1890f}, {451, 0.4724f, -0.1285f, 0.1664f}, {452, 0.3610f, -0.1656f, 0.1548f}, {453, 0.2863f, -0.2035f, 0.1430f},
    {455, 0.3275f, 0.4466f, -0.1323f}, {456, 0.1848f, 0.0796f, -0.2603f}, {457, 0.1736f, 0.4207f, -0.4186f}, {458, 0.1109f, 0.4787f, -0.3662f},
    {459, 0.1738f, 0.4378f, -0.3597f}, {460, 0.2982f, 0.4795f, -0.0891f}, {461, 0.0915f, 0.4923f, -0.3973f}, {462, 0.0796f, 0.5134f, -0.2569f},
    {464, 0.2274f, -0.2679f, 0.1203f}, {465, 0.1932f, -0.2462f, 0.0359f},
    /* END generated */
};

/* Head pose: the rotation of the canonical rigid points onto the observed ones (both centred). */
static void compute_pose(mf_face_landmarks *lm) {
    enum { N = sizeof pose_ref / sizeof *pose_ref };
    double c[3] = {0, 0, 0};
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++) c[k] += lm->pt[pose_ref[i].i][k] / N;
    double S[3][3] = {{0}};
    for (int i = 0; i < N; i++) {
        double a[3] = {pose_ref[i].x, pose_ref[i].y, pose_ref[i].z}, b[3];
        for (int k = 0; k < 3; k++) b[k] = lm->pt[pose_ref[i].i][k] - c[k];
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++) S[r][k] += a[r] * b[k];
    }
    double R[3][3];
    mf_fit_rotation(S, R);
    rotation_to_euler(R, &lm->yaw, &lm->pitch, &lm->roll);
}

/* Angle of the next crop: the eye line on a frontal face; on a turned face the far eye is guessed and its line
 * drifts from pass to pass, so from |yaw| 20 to 40 degrees the angle moves to the face's midline (between the
 * eyes -> upper inner lip), which stays visible in profile (docs/mesh.md: flip consistency on the demo photos
 * 0.045 -> 0.031 IOD, LFW and FFHQ unchanged). */
static float roi_angle(const float pts[][3]) {
    mf_face_landmarks lm;
    memcpy(lm.pt, pts, sizeof lm.pt);
    compute_pose(&lm);
    float w = (fabsf(lm.yaw) - 20.0f) / 20.0f;
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    float dx = pts[P_LIP_UP_IN][0] - pts[P_MID_EYES][0], dy = pts[P_LIP_UP_IN][1] - pts[P_MID_EYES][1];
    float eyes = mesh_angle(pts), mid = atan2f(-dx, dy);
    return eyes + w * remainderf(mid - eyes, 2.0f * (float)M_PI);
}

static void compute_expression(mf_face_landmarks *lm) {
    static const int lids[2][3][2] = {{{159, 145}, {158, 153}, {160, 144}}, {{386, 374}, {385, 380}, {387, 373}}};
    const float(*p)[3] = lm->pt;
    for (int e = 0; e < 2; e++) {
        float gap = 0;
        for (int j = 0; j < 3; j++) gap += dist3(p[lids[e][j][0]], p[lids[e][j][1]]);
        float w = e ? dist3(p[P_L_EYE_OUT], p[P_L_EYE_IN]) : dist3(p[P_R_EYE_OUT], p[P_R_EYE_IN]);
        lm->eye_open[e] = w > 0 ? gap / 3.0f / w : 0;
    }
    float mw = dist3(p[P_MOUTH_R], p[P_MOUTH_L]);
    lm->mouth_open = mw > 0 ? dist3(p[P_LIP_UP_IN], p[P_LIP_LO_IN]) / mw : 0;
}

/* mf_face_mouth_shape (face.h): width from the corners (3-D), corner height in the eye line's frame (2-D). */
void mf_face_mouth_shape(const mf_face_landmarks *lm, float *width, float *corner) {
    const float(*p)[3] = lm->pt;
    float eyes = dist3(p[P_R_EYE_OUT], p[P_L_EYE_OUT]), mw = dist3(p[P_MOUTH_R], p[P_MOUTH_L]);
    float ex = p[P_L_EYE_OUT][0] - p[P_R_EYE_OUT][0], ey = p[P_L_EYE_OUT][1] - p[P_R_EYE_OUT][1], en = hypotf(ex, ey);
    /* "up" in the image: perpendicular to the eye line, towards the brows (image y grows downwards) */
    float ux = en > 0 ? ey / en : 0, uy = en > 0 ? -ex / en : -1;
    float cx = 0.5f * (p[P_MOUTH_R][0] + p[P_MOUTH_L][0]) - 0.5f * (p[P_LIP_UP_IN][0] + p[P_LIP_LO_IN][0]);
    float cy = 0.5f * (p[P_MOUTH_R][1] + p[P_MOUTH_L][1]) - 0.5f * (p[P_LIP_UP_IN][1] + p[P_LIP_LO_IN][1]);
    if (width) *width = eyes > 0 ? mw / eyes : 0;
    if (corner) *corner = mw > 0 ? (cx * ux + cy * uy) / mw : 0;
}

/* ---------------------------------------------------------------- entry points */

int mf_face_mesher_last_passes(const mf_face_mesher_t *m) { return m->last_passes; }

void mf_face_mesher_set_first_reject(mf_face_mesher_t *m, float flag) { m->first_reject = flag; }

void mf_face_mesher_add_passes(mf_face_mesher_t *m, int passes) { m->last_passes += passes; }

int mf_face_mesher_run(mf_face_mesher_t *m, const mf_img *img, const mf_face_box *det, mf_face_landmarks *out) {
    memset(out, 0, sizeof *out);
    if (!m || !img || !img->data || img->w < 1 || img->h < 1 || img->c != 3 || !det)
        return mf_error_set(MF_ERR_ARG, "mesh needs an RGB image and a detection");
    if (!(det->w > 0 && det->h > 0 && isfinite(det->x) && isfinite(det->y) && isfinite(det->roll) &&
          det->w < 1e6f && det->h < 1e6f))
        return mf_error_set(MF_ERR_ARG, "mesh: invalid detection box");
    roi r = roi_from_det(det);
    int st, pass = 1;
    float score = run_mesh(m, img, &r, out->pt, &st);
    for (; !st && pass < m->max_passes && !(pass == 1 && score < m->first_reject); pass++) {
        roi next = roi_from_mesh(out->pt);
        if (pass >= m->min_passes && roi_converged(&r, &next)) break;
        memcpy(m->prev, out->pt, sizeof m->prev);
        float s = run_mesh(m, img, &next, out->pt, &st);
        if (!st && s < score - SCORE_DROP) {
            /* the face flag judges the crop: this one is worse (seen on profiles, whose crops drift) */
            memcpy(out->pt, m->prev, sizeof m->prev);
            pass++;
            break;
        }
        r = next, score = s;
    }
    m->last_passes = pass;
    if (st) return st;
    out->score = score;
    if (m->iris_plan && (st = refine_iris(m, img, out->pt, r.side, out))) return st;
    compute_pose(out);
    compute_expression(out);
    float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        x0 = fminf(x0, out->pt[i][0]), x1 = fmaxf(x1, out->pt[i][0]);
        y0 = fminf(y0, out->pt[i][1]), y1 = fmaxf(y1, out->pt[i][1]);
    }
    out->box = *det;
    out->box.x = x0, out->box.y = y0, out->box.w = x1 - x0, out->box.h = y1 - y0;
    out->box.roll = mesh_angle(out->pt);
    return MF_OK;
}

void mf_face_landmarks_5pt(const mf_face_landmarks *lm, float out[5][2]) {
    for (int e = 0; e < 2; e++) {
        float sx = 0, sy = 0;
        for (int j = 0; j < 16; j++) sx += lm->pt[eye_contour[e][j]][0], sy += lm->pt[eye_contour[e][j]][1];
        out[e][0] = sx / 16.0f, out[e][1] = sy / 16.0f;
    }
    out[2][0] = lm->pt[P_NOSE_TIP][0], out[2][1] = lm->pt[P_NOSE_TIP][1];
    out[3][0] = lm->pt[P_MOUTH_R][0], out[3][1] = lm->pt[P_MOUTH_R][1];
    out[4][0] = lm->pt[P_MOUTH_L][0], out[4][1] = lm->pt[P_MOUTH_L][1];
}

void mf_face_box_5pt(const mf_face_box *det, float out[5][2]) {
    /* eye vector (subject's right -> left eye) and its perpendicular pointing down the face, both of the length
     * of the eye distance */
    float ex = det->kp[MF_FACE_KP_LEYE][0] - det->kp[MF_FACE_KP_REYE][0];
    float ey = det->kp[MF_FACE_KP_LEYE][1] - det->kp[MF_FACE_KP_REYE][1];
    float dx = -ey, dy = ex;
    out[0][0] = det->kp[MF_FACE_KP_REYE][0], out[0][1] = det->kp[MF_FACE_KP_REYE][1];
    out[1][0] = det->kp[MF_FACE_KP_LEYE][0], out[1][1] = det->kp[MF_FACE_KP_LEYE][1];
    out[2][0] = det->kp[MF_FACE_KP_NOSE][0], out[2][1] = det->kp[MF_FACE_KP_NOSE][1];
    /* The mesh's mouth corners lie 0.44 eye distances to either side of the detector's mouth keypoint and 0.08
     * above it (means over LFW, FFHQ and synthetic faces; docs/mesh.md). */
    float mx = det->kp[MF_FACE_KP_MOUTH][0] - MOUTH_UP * dx, my = det->kp[MF_FACE_KP_MOUTH][1] - MOUTH_UP * dy;
    out[3][0] = mx - MOUTH_HALF * ex, out[3][1] = my - MOUTH_HALF * ey;
    out[4][0] = mx + MOUTH_HALF * ex, out[4][1] = my + MOUTH_HALF * ey;
}
