/* Face mesh (MediaPipe FaceMesh, 468 points) on a rotated square crop of a detection, optional iris refinement
 * (MediaPipe Iris on a crop around each eye), head pose and expression measures. See docs/mesh.md.
 *
 * Coordinates: every point this file produces is in "continuous" image pixels, the convention of the detector:
 * pixel (i, j) covers [i, i + 1) x [j, j + 1), so its centre is (i + 0.5, j + 0.5). A crop ("roi") is a square of
 * side `side` centred on (cx, cy) and rotated by `angle` (radians, the angle of the crop's x axis in the image);
 * model input coordinate (u, v) in [0, S]^2 maps to the image point
 *     centre + R(angle) * (fu * (u - S/2), v - S/2) * side / S        (fu = -1 for a mirrored crop, else 1). */
#include "mfmc/face.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MESH_IN = 192, IRIS_IN = 64, IRIS_PTS = 76, IRIS_CONTOUR = 71 };

/* Crop side relative to max(w, h) of the detector box, and to the mesh's bounding box (in the eye-level frame)
 * for the second pass. See docs/mesh.md for how they were chosen. */
#define DET_SCALE 1.5f
#define MESH_SCALE 1.5f
/* Eye crop side relative to the eye-corner distance (MediaPipe Iris). */
#define IRIS_SCALE 2.3f
/* Above this many image pixels per model pixel the region is first area-downsampled (anti-aliasing). */
#define PREFILTER_RATIO 1.5f

/* Mesh indices (MediaPipe FaceMesh topology). "R" = the subject's right (image left on a frontal face). */
enum {
    P_R_EYE_OUT = 33, P_R_EYE_IN = 133, P_L_EYE_OUT = 263, P_L_EYE_IN = 362, P_NOSE_TIP = 1,
    P_MOUTH_R = 61, P_MOUTH_L = 291, P_LIP_UP_IN = 13, P_LIP_LO_IN = 14
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
    mf_nn_model_t *mesh_model, *iris_model;
    mf_nn_plan_t *mesh_plan, *iris_plan;
    int out_mesh, out_flag, out_iris;
    int passes; /* crops per face: 1 = from the detection only, 2 = again from the first mesh */
};

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

/* Fills the S x S x 3 float input `dst` (pixels * scale) with the crop A of img. When a model pixel spans more
 * than PREFILTER_RATIO image pixels, the region under the crop is area-downsampled first, so the bilinear warp
 * does not alias. */
static int sample_crop(const mf_img *img, const float A_in[6], int S, float scale, float *dst) {
    float A[6];
    memcpy(A, A_in, sizeof A);
    float k = sqrtf(fabsf(A[0] * A[4] - A[1] * A[3]));
    mf_img small = {0};
    const mf_img *src = img;
    if (k > PREFILTER_RATIO) {
        float xs[4], ys[4], x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
        affine_apply(A, 0, 0, &xs[0], &ys[0]);
        affine_apply(A, (float)S, 0, &xs[1], &ys[1]);
        affine_apply(A, 0, (float)S, &xs[2], &ys[2]);
        affine_apply(A, (float)S, (float)S, &xs[3], &ys[3]);
        for (int i = 0; i < 4; i++)
            x0 = fminf(x0, xs[i]), x1 = fmaxf(x1, xs[i]), y0 = fminf(y0, ys[i]), y1 = fmaxf(y1, ys[i]);
        /* one extra source pixel around the region so the bilinear edge blends with real pixels */
        int ix0 = (int)fmaxf(0.0f, floorf(x0 - k)), iy0 = (int)fmaxf(0.0f, floorf(y0 - k));
        int ix1 = (int)fminf((float)img->w, ceilf(x1 + k)), iy1 = (int)fminf((float)img->h, ceilf(y1 + k));
        if (ix1 - ix0 >= 2 && iy1 - iy0 >= 2) {
            int rw = (int)lroundf((float)(ix1 - ix0) / k), rh = (int)lroundf((float)(iy1 - iy0) / k);
            if (rw < 1) rw = 1;
            if (rh < 1) rh = 1;
            mf_img reg;
            int st = mf_img_crop(img, ix0, iy0, ix1 - ix0, iy1 - iy0, &reg);
            if (st) return st;
            st = mf_img_resize(&reg, rw, rh, &small);
            mf_img_free(&reg);
            if (st) return st;
            /* image continuous x -> small continuous (x - ix0) * sx */
            float sx = (float)rw / (float)(ix1 - ix0), sy = (float)rh / (float)(iy1 - iy0);
            A[0] *= sx, A[1] *= sx, A[2] = (A[2] - (float)ix0) * sx;
            A[3] *= sy, A[4] *= sy, A[5] = (A[5] - (float)iy0) * sy;
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

static int load_plan(const char *models_dir, const char *name, mf_nn_pool_t *pool, mf_nn_model_t **model,
                     mf_nn_plan_t **plan, int side) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.json", models_dir, name) >= (int)sizeof path)
        return mf_error_set(MF_ERR_ARG, "models path too long");
    int st = mf_nn_model_load_tfjs(path, model);
    if (st) return st;
    mf_nn_plan_opts po = {.pool = pool, .isa = -1};
    st = mf_nn_plan_create(*model, &po, plan);
    if (st) return st;
    mf_nn_shape sh;
    mf_nn_plan_input(*plan, 0, &sh);
    if (sh.ndim != 4 || sh.dim[1] != side || sh.dim[2] != side || sh.dim[3] != 3)
        return mf_error_set(MF_ERR_FORMAT, "%s: input is not [1,%d,%d,3]", name, side, side);
    return MF_OK;
}

static int check_output(mf_nn_plan_t *plan, const char *model, const char *name, size_t numel, int *idx) {
    *idx = mf_nn_plan_output_index(plan, name);
    mf_nn_shape sh;
    if (*idx < 0 || (mf_nn_plan_output(plan, *idx, &sh), mf_nn_shape_numel(&sh) != numel))
        return mf_error_set(MF_ERR_FORMAT, "%s: no output %s of %zu values", model, name, numel);
    return MF_OK;
}

int mf_face_mesher_create(const char *models_dir, mf_nn_pool_t *pool, int use_iris, mf_face_mesher_t **out) {
    *out = NULL;
    mf_face_mesher_t *m = calloc(1, sizeof *m);
    if (!m) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    m->passes = 2;
    m->out_iris = -1;
    int st = load_plan(models_dir, "facemesh", pool, &m->mesh_model, &m->mesh_plan, MESH_IN);
    if (!st) st = check_output(m->mesh_plan, "facemesh", "Identity_2:0", MF_FACE_MESH_POINTS * 3, &m->out_mesh);
    if (!st) st = check_output(m->mesh_plan, "facemesh", "Identity_1:0", 1, &m->out_flag);
    if (!st && use_iris) {
        st = load_plan(models_dir, "iris", pool, &m->iris_model, &m->iris_plan, IRIS_IN);
        if (!st) st = check_output(m->iris_plan, "iris", "Identity:0", IRIS_PTS * 3, &m->out_iris);
    }
    if (st) {
        mf_face_mesher_free(m);
        return st;
    }
    *out = m;
    return MF_OK;
}

void mf_face_mesher_free(mf_face_mesher_t *m) {
    if (!m) return;
    mf_nn_plan_free(m->mesh_plan);
    mf_nn_model_free(m->mesh_model);
    mf_nn_plan_free(m->iris_plan);
    mf_nn_model_free(m->iris_model);
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
    float kz = r->side / (float)MESH_IN;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        affine_apply(A, o[3 * i], o[3 * i + 1], &pts[i][0], &pts[i][1]);
        pts[i][2] = o[3 * i + 2] * kz;
    }
    return mf_nn_plan_output(m->mesh_plan, m->out_flag, NULL)[0];
}

/* Angle of the eye line (subject's right outer corner -> left outer corner). */
static float mesh_angle(const float pts[][3]) {
    return atan2f(pts[P_L_EYE_OUT][1] - pts[P_R_EYE_OUT][1], pts[P_L_EYE_OUT][0] - pts[P_R_EYE_OUT][0]);
}

/* The crop for the next pass: square around the mesh's bounding box in the eye-level frame. */
static roi roi_from_mesh(const float pts[][3]) {
    roi r = {0, 0, 0, mesh_angle(pts), 0};
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

static roi roi_from_det(const mf_face_box *det) {
    roi r = {det->x + 0.5f * det->w, det->y + 0.5f * det->h, DET_SCALE * fmaxf(det->w, det->h), det->roll, 0};
    return r;
}

/* ---------------------------------------------------------------- iris */

/* Crop around eye e (0 = subject's right) from the eye corners, in the eye-level frame of the face. The iris
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
    float ang = mesh_angle(pts);
    float eye[2][IRIS_PTS][2];
    for (int e = 0; e < 2; e++) {
        roi r = roi_eye(pts, e, ang);
        float A[6];
        roi_affine(&r, IRIS_IN, A);
        int st = sample_crop(img, A, IRIS_IN, 1.0f / 255.0f, mf_nn_plan_input(m->iris_plan, 0, NULL));
        if (st) return st;
        mf_nn_plan_run(m->iris_plan);
        const float *o = mf_nn_plan_output(m->iris_plan, m->out_iris, NULL);
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

static void compute_pose(mf_face_landmarks *lm) {
    /* provisional: local axes */
    const float(*p)[3] = lm->pt;
    float ex[3], ey[3];
    for (int k = 0; k < 3; k++) ex[k] = p[P_L_EYE_OUT][k] - p[P_R_EYE_OUT][k], ey[k] = p[152][k] - p[10][k];
    lm->roll = atan2f(ex[1], ex[0]) * (180.0f / (float)M_PI);
    lm->yaw = atan2f(ex[2], sqrtf(ex[0] * ex[0] + ex[1] * ex[1])) * (180.0f / (float)M_PI);
    lm->pitch = atan2f(-ey[2], sqrtf(ey[0] * ey[0] + ey[1] * ey[1])) * (180.0f / (float)M_PI);
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

/* ---------------------------------------------------------------- entry points */

int mf_face_mesher_run(mf_face_mesher_t *m, const mf_img *img, const mf_face_box *det, mf_face_landmarks *out) {
    memset(out, 0, sizeof *out);
    if (!m || !img || !img->data || img->w < 1 || img->h < 1 || img->c != 3 || !det)
        return mf_error_set(MF_ERR_ARG, "mesh needs an RGB image and a detection");
    if (!(det->w > 0 && det->h > 0 && isfinite(det->x) && isfinite(det->y) && isfinite(det->roll) &&
          det->w < 1e6f && det->h < 1e6f))
        return mf_error_set(MF_ERR_ARG, "mesh: invalid detection box");
    roi r = roi_from_det(det);
    int st;
    float score = run_mesh(m, img, &r, out->pt, &st);
    for (int pass = 1; !st && pass < m->passes; pass++) {
        r = roi_from_mesh(out->pt);
        score = run_mesh(m, img, &r, out->pt, &st);
    }
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
    float ex = det->kp[MF_FACE_KP_LEYE][0] - det->kp[MF_FACE_KP_REYE][0];
    float ey = det->kp[MF_FACE_KP_LEYE][1] - det->kp[MF_FACE_KP_REYE][1];
    out[0][0] = det->kp[MF_FACE_KP_REYE][0], out[0][1] = det->kp[MF_FACE_KP_REYE][1];
    out[1][0] = det->kp[MF_FACE_KP_LEYE][0], out[1][1] = det->kp[MF_FACE_KP_LEYE][1];
    out[2][0] = det->kp[MF_FACE_KP_NOSE][0], out[2][1] = det->kp[MF_FACE_KP_NOSE][1];
    float hw = 0.41f; /* half mouth width / eye distance: provisional */
    out[3][0] = det->kp[MF_FACE_KP_MOUTH][0] - hw * ex, out[3][1] = det->kp[MF_FACE_KP_MOUTH][1] - hw * ey;
    out[4][0] = det->kp[MF_FACE_KP_MOUTH][0] + hw * ex, out[4][1] = det->kp[MF_FACE_KP_MOUTH][1] + hw * ey;
}
