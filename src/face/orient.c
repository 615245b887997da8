/* Privacy mode's way-up check (orient.h; docs/detection.md, "Branch orient14").
 *
 * Why a second network: the mesh reads a face turned the wrong way round with flags up to 0.999 (rot240/0047 of the
 * privacy set, read +59 degrees for a truth of -123), so its flag cannot tell. The short-range face detector, shown
 * the face upright in a frame, scores it clearly higher than the same face turned by 90, 180 or 270 degrees: on 189
 * faces of the rotated sets (every sixth picture) the right way up scored highest in all, the three faces stop 13
 * found read the wrong way round included. The four views share one network input (2 x 2), so a face costs one run
 * of the short detector (a third of one of the full detector's tiles), two when the first look is not clear. */
#include "face/orient.h"

#include "face/internal.h"
#include "face/privacy_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The detector (short range: its faces fill much of its input, and it scores a turned face low) */
#define ORIENT_MODEL "facemesh-detection-short"
/* The face's side as a fraction of its view (a quarter of the input: 64 of 128 network pixels) in the first look,
 * and in the second; a view shows 1/frac face sides around the face. */
#define ORIENT_FRAC_A 0.5f
#define ORIENT_FRAC_B 0.375f
/* A detection counts for a view when centred within ORIENT_CENTRE of the face's side from the view's centre (half a
 * side: the next view's face is two sides away) and scoring from ORIENT_DECODE. 0.35 at first: rot30/0002, whose mesh
 * is upside down and mirrored (flag 1.000, box centre shifted), lost the right way up's detection in the second look
 * (0.066) and was kept the wrong way round (docs/detection.md, "Branch orient14"). */
#define ORIENT_CENTRE 0.5f
#define ORIENT_DECODE 0.05f
/* First look: the mesh's way up is kept when it scores at least ORIENT_FLOOR and ORIENT_SURE_MARGIN more than each
 * other way up. Otherwise a second look, and the sums of the two decide: the winner must lead by ORIENT_SUM_MARGIN and
 * score ORIENT_FLOOR in one look, else the way up is in doubt. On the rotated sets the right way up led the first
 * look by 0.1 or more in 58% of the faces, the sums by 0.1 or more in all but two (0.013, 0.097: kept); the
 * wrong-way faces' best other way up led the sums by 0.107 (rot30/0089), 0.21 and 0.34. */
#define ORIENT_FLOOR 0.4f
#define ORIENT_SURE_MARGIN 0.1f
#define ORIENT_SUM_MARGIN 0.05f
/* A face meshed again in the frame the detector supports is taken when its new roll lies within ORIENT_FRAME_TOL
 * degrees of that frame (the mesh may turn back to the old reading). */
#define ORIENT_FRAME_TOL 45.0f

/* A face whose detection lies less than ORIENT_CUT_VISIBLE inside the image (privacy.c's CUT_VISIBLE) is cut by the
 * border: the mesh may have read the mirrored border's upside-down reflection (cutt60/0068: the mesh box 70 %
 * outside the image, read -178 for a truth of 0.5), and the detector's views of a half face are weak evidence (on the
 * cut sets it supported a quarter turn of cutb40/0020). Such a face is kept only when the first look is clear and
 * its mesh box's centre lies inside the image; otherwise its way up is in doubt (never meshed again in another
 * frame). docs/detection.md, "Branch orient14". */
#define ORIENT_CUT_VISIBLE 0.9f

/* The masked-face reading (docs/detection.md, "Branch updown21"). The mesh reads some masked faces upside down (its
 * eyes on the mask, its mouth on the eyes: mask/0006 and mask/0032 of the occlusion set, flags 0.93 / 0.97), and the
 * short-range detector prefers the upside-down view of a masked face too (it supported both, clearly at first look on
 * mask/0006), so the looks above keep them. The detection's keypoints (the full-range detector's) then disagree with
 * the mesh by about 180 degrees; they disagree too on a masked face the mesh reads right (mask/0010: the detection
 * read upside down, the mesh right), so the disagreement alone does not tell. What does: a mesh read the wrong way
 * round has its eyes on the mask (bright and flat) and its mouth on the eyes (dark pupils and lashes). A kept face
 * whose mesh roll lies more than ORIENT_DET_DISAGREE degrees from its detection's, and whose darker eye patch is
 * brighter than its mouth patch by more than ORIENT_DARK_MARGIN grey levels (10th percentile of the luminance in discs
 * of ORIENT_PATCH eye / mouth widths around the mesh's eye centres and lip centre), is in doubt (the fallback). On the
 * occlusion set: darker eye 159 / 160 against mouth 111 / 76 on the two wrong readings (+48, +84), 49 against 157 on
 * mask/0010 (-108); unmasked faces of the rotated sets whose detection disagrees with a right mesh: -9 (rot300/0004,
 * a dark photo: 13 against 22) and -10 (rot30/0064: eyes 42 and 72, mouth 52) to -64. A black mask read upside down
 * (its eyes on the dark cloth) is not caught. */
#define ORIENT_DET_DISAGREE 90.0f
/* Only records the detector is sure of (privacy.c's SURE_SCORE): the doubtful ones are fp20's (second readings, wide
 * look). The first version looked at every record: rot150/0012's second reading (0.474, mouth and chin read upside
 * down inside the painted face), made a face in doubt with its box widened, was dropped by the dedup, where main
 * leaves it to the fallback (docs/detection.md, "Branch updown21"). */
#define ORIENT_MASKED_SURE 0.5f
#define ORIENT_PATCH 0.35f
#define ORIENT_DARK_MARGIN 24
/* mf_face_orient_unconfirm_inside: part of a face in doubt when its mesh box lies this much inside (over its own
 * area; privacy.c's OVERLAP_SURER for second readings of painted faces) */
#define ORIENT_INSIDE 0.45f
/* Mesh points: eye corners (subject's right outer, inner; left outer, inner), mouth corners, inner lips (mesh.c). */
enum { OP_R_EYE_OUT = 33, OP_R_EYE_IN = 133, OP_L_EYE_OUT = 263, OP_L_EYE_IN = 362, OP_MOUTH_R = 61, OP_MOUTH_L = 291,
       OP_LIP_UP = 13, OP_LIP_LO = 14 };

struct mf_face_orient {
    mf_face_detector_t *det;
    mf_img mosaic; /* the network's input side, square */
};

int mf_face_orient_create_from(mf_face_models_t *models, mf_nn_pool_t *pool, mf_face_orient_t **out) {
    *out = NULL;
    mf_face_orient_t *o = calloc(1, sizeof *o);
    if (!o) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    mf_face_detect_opts d = {ORIENT_MODEL, 0, 0.5f, 0, pool, 1, 0};
    int st = mf_face_detector_create_from(models, &d, &o->det);
    if (!st) {
        int S = mf_face_detector_input(o->det);
        st = mf_img_init(&o->mosaic, S, S, 3);
    }
    if (st) {
        mf_face_orient_free(o);
        return st;
    }
    *out = o;
    return MF_OK;
}

void mf_face_orient_free(mf_face_orient_t *o) {
    if (!o) return;
    mf_face_detector_free(o->det);
    mf_img_free(&o->mosaic);
    free(o);
}

/* Bilinear sample of img at (sx, sy) (pixel centres at integers) into o[3]; grey (128) outside. */
static void sample(const mf_img *img, float sx, float sy, uint8_t *o) {
    if (!(sx >= -0.5f && sy >= -0.5f && sx <= (float)img->w - 0.5f && sy <= (float)img->h - 0.5f)) {
        o[0] = o[1] = o[2] = 128;
        return;
    }
    int x0 = (int)floorf(sx), y0 = (int)floorf(sy);
    float fx = sx - (float)x0, fy = sy - (float)y0;
    int x1 = x0 + 1 < img->w ? x0 + 1 : img->w - 1, y1 = y0 + 1 < img->h ? y0 + 1 : img->h - 1;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    const uint8_t *p00 = img->data + ((size_t)y0 * img->w + x0) * 3, *p01 = img->data + ((size_t)y0 * img->w + x1) * 3,
                  *p10 = img->data + ((size_t)y1 * img->w + x0) * 3, *p11 = img->data + ((size_t)y1 * img->w + x1) * 3;
    for (int k = 0; k < 3; k++) {
        float v = (1 - fy) * ((1 - fx) * p00[k] + fx * p01[k]) + fy * ((1 - fx) * p10[k] + fx * p11[k]);
        o[k] = (uint8_t)(v + 0.5f);
    }
}

void mf_face_orient_sample(const mf_img *img, float sx, float sy, uint8_t *o) { sample(img, sx, sy, o); }

int mf_face_orient_scores(mf_face_orient_t *o, const mf_img *img, float cx, float cy, float side, float roll,
                          float frac, float s[4], mf_face_box *view0) {
    for (int q = 0; q < 4; q++) s[q] = 0;
    if (view0) memset(view0, 0, sizeof *view0);
    if (!(side > 0 && isfinite(side) && isfinite(cx) && isfinite(cy) && isfinite(roll) && frac > 0 && frac <= 1))
        return mf_error_set(MF_ERR_ARG, "orientation check: bad face frame");
    mf_img *m = &o->mosaic;
    int S = m->w, H = S / 2;
    float sc = side / (frac * (float)H); /* image pixels per view pixel */
    for (int q = 0; q < 4; q++) {
        float r = (roll + 90.0f * (float)q) * (float)M_PI / 180.0f, c = cosf(r) * sc, sn = sinf(r) * sc;
        int ox = (q & 1) * H, oy = (q >> 1) * H;
        for (int v = 0; v < H; v++) {
            float dv = (float)v + 0.5f - 0.5f * (float)H;
            uint8_t *row = m->data + ((size_t)(oy + v) * S + ox) * 3;
            for (int u = 0; u < H; u++) {
                float du = (float)u + 0.5f - 0.5f * (float)H;
                sample(img, cx + c * du - sn * dv - 0.5f, cy + sn * du + c * dv - 0.5f, row + (size_t)u * 3);
            }
        }
    }
    const mf_face_box *b;
    int n, st = mf_face_detect_zoom(o->det, m, 0.5f * (float)S, 0.5f * (float)S, 1.0f, ORIENT_DECODE, &b, &n);
    if (st) return st;
    float near = ORIENT_CENTRE * frac * (float)H;
    int best0 = -1;
    for (int q = 0; q < 4; q++) {
        float qx = (float)((q & 1) * H) + 0.5f * (float)H, qy = (float)((q >> 1) * H) + 0.5f * (float)H;
        for (int i = 0; i < n; i++)
            if (hypotf(b[i].x + 0.5f * b[i].w - qx, b[i].y + 0.5f * b[i].h - qy) < near && b[i].score > s[q]) {
                s[q] = b[i].score;
                if (q == 0) best0 = i;
            }
    }
    if (view0 && best0 >= 0) {
        /* view 0's pixel (u, v) (continuous) lies at (cx, cy) + R(roll) (u - H/2, v - H/2) sc in the image */
        float r = roll * (float)M_PI / 180.0f, c = cosf(r) * sc, sn = sinf(r) * sc, h2 = 0.5f * (float)H;
        const mf_face_box *d = &b[best0];
        *view0 = *d;
        for (int k = 0; k < MF_FACE_KP_COUNT; k++) {
            float du = d->kp[k][0] - h2, dv = d->kp[k][1] - h2;
            view0->kp[k][0] = cx + c * du - sn * dv, view0->kp[k][1] = cy + sn * du + c * dv;
        }
        view0->w = d->w * sc, view0->h = d->h * sc;
        float mx = d->x + 0.5f * d->w - h2, my = d->y + 0.5f * d->h - h2;
        view0->x = cx + c * mx - sn * my - 0.5f * view0->w, view0->y = cy + sn * mx + c * my - 0.5f * view0->h;
        view0->roll = atan2f(view0->kp[MF_FACE_KP_LEYE][1] - view0->kp[MF_FACE_KP_REYE][1],
                             view0->kp[MF_FACE_KP_LEYE][0] - view0->kp[MF_FACE_KP_REYE][0]);
    }
    return MF_OK;
}

static float lead(const float s[4], int w) {
    float other = -1;
    for (int q = 0; q < 4; q++)
        if (q != w && s[q] > other) other = s[q];
    return s[w] - other;
}

int mf_face_orient_decide(const float a[4], const float b[4], int *turn) {
    *turn = 0;
    if (!b) return a[0] >= ORIENT_FLOOR && lead(a, 0) >= ORIENT_SURE_MARGIN ? MF_FACE_ORIENT_KEEP : MF_FACE_ORIENT_MORE;
    float s[4];
    int w = 0;
    for (int q = 0; q < 4; q++) {
        s[q] = a[q] + b[q];
        if (s[q] > s[w]) w = q;
    }
    if (!(fmaxf(a[w], b[w]) >= ORIENT_FLOOR && lead(s, w) >= ORIENT_SUM_MARGIN)) return MF_FACE_ORIENT_DOUBT;
    *turn = w;
    return w ? MF_FACE_ORIENT_TURN : MF_FACE_ORIENT_KEEP;
}

/* The rule on the face meshed as lm (side: its detection's), one or two looks. */
static int look(mf_face_orient_t *o, const mf_img *img, const mf_face_landmarks *lm, float side, int *turn,
                int *verdict, int *runs, mf_face_box *view0) {
    const mf_face_box *mb = &lm->box;
    float cx = mb->x + 0.5f * mb->w, cy = mb->y + 0.5f * mb->h, a[4], b[4];
    int st = mf_face_orient_scores(o, img, cx, cy, side, lm->roll, ORIENT_FRAC_A, a, view0);
    if (st) return st;
    ++*runs;
    *verdict = mf_face_orient_decide(a, NULL, turn);
    if (*verdict != MF_FACE_ORIENT_MORE) return MF_OK;
    if ((st = mf_face_orient_scores(o, img, cx, cy, side, lm->roll, ORIENT_FRAC_B, b, NULL))) return st;
    ++*runs;
    *verdict = mf_face_orient_decide(a, b, turn);
    return MF_OK;
}

static float wrap_deg(float a) {
    a = remainderf(a, 360.0f);
    return a <= -180.0f ? a + 360.0f : a;
}

/* Fraction of box b inside the w x h image. */
static float inside(const mf_face_box *b, int w, int h) {
    float x0 = fmaxf(0, b->x), y0 = fmaxf(0, b->y), x1 = fminf((float)w, b->x + b->w), y1 = fminf((float)h, b->y + b->h);
    float a = b->w * b->h;
    return a > 0 ? fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0) / a : 0;
}

/* 10th percentile of the luminance (0..255) of img's pixels within r of (x, y); -1 when none lies in the image. */
static int dark_level(const mf_img *img, float x, float y, float r) {
    int hist[256] = {0}, n = 0;
    if (!(r > 0 && isfinite(x) && isfinite(y) && isfinite(r))) return -1;
    int x0 = (int)fmaxf(0, floorf(x - r)), x1 = (int)fminf((float)img->w - 1, ceilf(x + r));
    int y0 = (int)fmaxf(0, floorf(y - r)), y1 = (int)fminf((float)img->h - 1, ceilf(y + r));
    for (int yy = y0; yy <= y1; yy++)
        for (int xx = x0; xx <= x1; xx++) {
            float dx = (float)xx + 0.5f - x, dy = (float)yy + 0.5f - y;
            if (dx * dx + dy * dy > r * r) continue;
            const uint8_t *p = img->data + ((size_t)yy * img->w + xx) * 3;
            hist[(299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000]++;
            n++;
        }
    if (!n) return -1;
    for (int v = 0, acc = 0; v < 256; v++)
        if ((acc += hist[v]) * 10 >= n) return v;
    return 255;
}

int mf_face_orient_masked_reading(const mf_img *img, const mf_face *f) {
    if (!f->has_landmarks || !(f->det.score >= ORIENT_MASKED_SURE) ||
        !(fabsf(wrap_deg(f->lm.roll - f->det.roll * 180.0f / (float)M_PI)) > ORIENT_DET_DISAGREE))
        return 0;
    const float(*p)[3] = f->lm.pt;
    int e[2], m;
    for (int k = 0; k < 2; k++) {
        int a = k ? OP_L_EYE_OUT : OP_R_EYE_OUT, b = k ? OP_L_EYE_IN : OP_R_EYE_IN;
        e[k] = dark_level(img, 0.5f * (p[a][0] + p[b][0]), 0.5f * (p[a][1] + p[b][1]),
                          ORIENT_PATCH * hypotf(p[a][0] - p[b][0], p[a][1] - p[b][1]));
    }
    m = dark_level(img, 0.5f * (p[OP_LIP_UP][0] + p[OP_LIP_LO][0]), 0.5f * (p[OP_LIP_UP][1] + p[OP_LIP_LO][1]),
                   ORIENT_PATCH * hypotf(p[OP_MOUTH_R][0] - p[OP_MOUTH_L][0], p[OP_MOUTH_R][1] - p[OP_MOUTH_L][1]));
    int eye = e[0] < 0 ? e[1] : e[1] < 0 ? e[0] : e[0] < e[1] ? e[0] : e[1]; /* the darker eye */
    if (eye < 0 || m < 0) return 1;                                            /* nothing to compare: in doubt */
    return eye > m + ORIENT_DARK_MARGIN;
}

int mf_face_orient_check(mf_face_orient_t *o, mf_face_mesher_t *mesh, const mf_img *img, mf_face *f, int *verdict,
                         int *detector_runs, int *mesh_runs) {
    *verdict = MF_FACE_ORIENT_DOUBT;
    if (!f->has_landmarks) return MF_OK;
    float side = fmaxf(f->det.w, f->det.h);
    int turn, st;
    if (inside(&f->det, img->w, img->h) < ORIENT_CUT_VISIBLE) {
        const mf_face_box *mb = &f->lm.box;
        float cx = mb->x + 0.5f * mb->w, cy = mb->y + 0.5f * mb->h, a[4];
        if (!(cx >= 0 && cy >= 0 && cx < (float)img->w && cy < (float)img->h)) return MF_OK;
        if ((st = mf_face_orient_scores(o, img, cx, cy, side, f->lm.roll, ORIENT_FRAC_A, a, NULL))) return st;
        ++*detector_runs;
        if (mf_face_orient_decide(a, NULL, &turn) == MF_FACE_ORIENT_KEEP) *verdict = MF_FACE_ORIENT_KEEP;
        return MF_OK;
    }
    st = look(o, img, &f->lm, side, &turn, verdict, detector_runs, NULL);
    if (!st && *verdict == MF_FACE_ORIENT_KEEP && mf_face_orient_masked_reading(img, f)) {
        /* the fallback covers what the mesh read too (mask/0006: the detection, 194 px on a 320 px face, left an eye
         * out; the mesh box holds it) */
        mf_face_box *d = &f->det, *m = &f->lm.box;
        float x0 = fminf(d->x, m->x), y0 = fminf(d->y, m->y);
        float x1 = fmaxf(d->x + d->w, m->x + m->w), y1 = fmaxf(d->y + d->h, m->y + m->h);
        d->x = x0, d->y = y0, d->w = x1 - x0, d->h = y1 - y0;
        *verdict = MF_FACE_ORIENT_MASKED;
        return MF_OK;
    }
    if (st || *verdict != MF_FACE_ORIENT_TURN) return st;
    *verdict = MF_FACE_ORIENT_DOUBT;
    /* the detection turned about its centre to the frame the detector supports, meshed again */
    float target = wrap_deg(f->lm.roll + 90.0f * (float)turn), tr = target * (float)M_PI / 180.0f;
    mf_face g = *f;
    float d = tr - f->det.roll, c = cosf(d), sn = sinf(d);
    float dcx = f->det.x + 0.5f * f->det.w, dcy = f->det.y + 0.5f * f->det.h;
    for (int k = 0; k < MF_FACE_KP_COUNT; k++) {
        float dx = f->det.kp[k][0] - dcx, dy = f->det.kp[k][1] - dcy;
        g.det.kp[k][0] = dcx + c * dx - sn * dy, g.det.kp[k][1] = dcy + sn * dx + c * dy;
    }
    g.det.roll = tr;
    if ((st = mf_face_privacy_mesh(mesh, img, &g.det, &g.lm))) return st;
    *mesh_runs += mf_face_mesher_last_passes(mesh);
    if (!(g.lm.score >= 0.5f && mf_face_privacy_paintable(&g, img) &&
          fabsf(wrap_deg(g.lm.roll - target)) <= ORIENT_FRAME_TOL))
        return MF_OK;
    /* and the detector, asked again about the new mesh's frame, must support it; its detection there (upright in
     * its view) gives the face's keypoints: the first ones were the detector's reading of the face the wrong way
     * round, which the anonymizer's check of the mesh against the detection rejects */
    int again;
    mf_face_box seen;
    if ((st = look(o, img, &g.lm, side, &turn, &again, detector_runs, &seen))) return st;
    if (again != MF_FACE_ORIENT_KEEP || !(seen.score > 0)) return MF_OK;
    memcpy(g.det.kp, seen.kp, sizeof g.det.kp);
    g.det.roll = seen.roll;
    *f = g;
    *verdict = MF_FACE_ORIENT_TURNED;
    return MF_OK;
}

int mf_face_orient_unconfirm_inside(mf_face *faces, int n, const int *masked, int n_masked, const mf_img *img) {
    int moved = 0;
    for (int k = 0; k < n_masked; k++) {
        const mf_face *g = &faces[masked[k]];
        for (int i = 0; i < n; i++) {
            mf_face *f = &faces[i];
            if (!f->confirmed || !f->has_landmarks || !(f->det.score < g->det.score)) continue;
            const mf_face_box *a = &f->lm.box, *b = &g->det;
            float ix = fminf(a->x + a->w, b->x + b->w) - fmaxf(a->x, b->x);
            float iy = fminf(a->y + a->h, b->y + b->h) - fmaxf(a->y, b->y), area = a->w * a->h;
            if (!(ix > 0 && iy > 0 && area > 0 && ix * iy > ORIENT_INSIDE * area)) continue;
            mf_face_privacy_unconfirmed(f, img);
            moved++;
        }
    }
    return moved;
}
