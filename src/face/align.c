/* Face alignment for the recognizers: similarity transform of five points onto the ArcFace template, crop to
 * the model input with its value mapping (see align.h). */
#include "face/align.h"

#include <math.h>
#include <string.h>

const float mf_face_arcface_template[5][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f}, {41.5493f, 92.3655f}, {70.7299f, 92.2041f},
};

void mf_face_align_template(const mf_face_align_spec *spec, float tpl[5][2]) {
    float S = (float)spec->size, f = S / 112.0f, c = S / 2.0f;
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 2; k++) {
            /* to pixel-edge coordinates, resize 112 -> S, scale about the centre, shift, back to centres */
            float p = (mf_face_arcface_template[i][k] + 0.5f) * f;
            p = c + spec->scale * (p - c) + (k ? spec->dy * S : 0.0f);
            tpl[i][k] = p - 0.5f;
        }
}

int mf_face_similarity_fit(const float (*src)[2], const float (*dst)[2], int n, float abt[4]) {
    double msx = 0, msy = 0, mdx = 0, mdy = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(src[i][0]) || !isfinite(src[i][1]) || !isfinite(dst[i][0]) || !isfinite(dst[i][1]))
            return mf_error_set(MF_ERR_ARG, "alignment points are not finite");
        msx += src[i][0], msy += src[i][1], mdx += dst[i][0], mdy += dst[i][1];
    }
    if (n < 2) return mf_error_set(MF_ERR_ARG, "a similarity fit needs at least two points");
    msx /= n, msy /= n, mdx /= n, mdy /= n;
    double ss = 0, dotp = 0, cross = 0;
    for (int i = 0; i < n; i++) {
        double sx = src[i][0] - msx, sy = src[i][1] - msy, dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
        ss += sx * sx + sy * sy;
        dotp += sx * dx + sy * dy;
        cross += sx * dy - sy * dx;
    }
    if (!(ss > 1e-6 * n)) return mf_error_set(MF_ERR_ARG, "alignment points coincide");
    double a = dotp / ss, b = cross / ss;
    abt[0] = (float)a, abt[1] = (float)b;
    abt[2] = (float)(mdx - (a * msx - b * msy));
    abt[3] = (float)(mdy - (b * msx + a * msy));
    return MF_OK;
}

int mf_face_align_matrix(const float pts5[5][2], const mf_face_align_spec *spec, float m[6]) {
    if (!spec || spec->size < 1) return mf_error_set(MF_ERR_ARG, "bad alignment spec");
    for (int i = 0; i < 5; i++)
        if (!isfinite(pts5[i][0]) || !isfinite(pts5[i][1]) || fabsf(pts5[i][0]) > 1e7f || fabsf(pts5[i][1]) > 1e7f)
            return mf_error_set(MF_ERR_ARG, "alignment points are not finite");
    float ex = pts5[1][0] - pts5[0][0], ey = pts5[1][1] - pts5[0][1];
    if (!(ex * ex + ey * ey >= 1.0f)) return mf_error_set(MF_ERR_ARG, "eyes less than a pixel apart");
    float tpl[5][2], abt[4];
    mf_face_align_template(spec, tpl);
    /* image -> crop, least squares in crop space (as insightface's estimate_norm), then inverted */
    int st = mf_face_similarity_fit((const float (*)[2])pts5, (const float (*)[2])tpl, 5, abt);
    if (st) return st;
    double a = abt[0], b = abt[1], tx = abt[2], ty = abt[3];
    if (spec->upright) {
        /* keep scale and where the points' centroid lands; drop the rotation */
        double mx = 0, my = 0;
        for (int i = 0; i < 5; i++) mx += pts5[i][0] / 5.0, my += pts5[i][1] / 5.0;
        double cx = a * mx - b * my + tx, cy = b * mx + a * my + ty;
        a = sqrt(a * a + b * b), b = 0;
        tx = cx - a * mx, ty = cy - a * my;
    }
    double d = a * a + b * b;
    if (!(d > 1e-20) || !isfinite(d)) return mf_error_set(MF_ERR_ARG, "degenerate alignment");
    double ia = a / d, ib = b / d;
    /* x = R^-1 (y - t), R^-1 = [ia ib; -ib ia] */
    m[0] = (float)ia, m[1] = (float)ib, m[2] = (float)(-(ia * tx + ib * ty));
    m[3] = (float)-ib, m[4] = (float)ia, m[5] = (float)(ib * tx - ia * ty);
    return MF_OK;
}

int mf_face_align_crop(const mf_img *img, const float pts5[5][2], const mf_face_align_spec *spec, int mirror,
                       float *dst) {
    if (!img || !img->data || img->w < 1 || img->h < 1 || img->c != 3)
        return mf_error_set(MF_ERR_ARG, "alignment needs an RGB image");
    float m[6];
    int st = mf_face_align_matrix(pts5, spec, m);
    if (st) return st;
    int S = spec->size;
    /* refuse crops that miss the image entirely (all four corners on one side of it) */
    float cx[4], cy[4];
    for (int k = 0; k < 4; k++) {
        float x = (k & 1) ? (float)(S - 1) : 0.0f, y = (k & 2) ? (float)(S - 1) : 0.0f;
        cx[k] = m[0] * x + m[1] * y + m[2], cy[k] = m[3] * x + m[4] * y + m[5];
    }
    float x0 = fminf(fminf(cx[0], cx[1]), fminf(cx[2], cx[3])), x1 = fmaxf(fmaxf(cx[0], cx[1]), fmaxf(cx[2], cx[3]));
    float y0 = fminf(fminf(cy[0], cy[1]), fminf(cy[2], cy[3])), y1 = fmaxf(fmaxf(cy[0], cy[1]), fmaxf(cy[2], cy[3]));
    if (x1 < -1 || y1 < -1 || x0 > (float)img->w || y0 > (float)img->h)
        return mf_error_set(MF_ERR_ARG, "the face lies outside the image");
    if (mirror) {
        /* crop pixel x reads what x' = S-1-x read before */
        m[2] += m[0] * (float)(S - 1), m[0] = -m[0];
        m[5] += m[3] * (float)(S - 1), m[3] = -m[3];
    }
    mf_img_warp_to_float(img, m, S, S, 1.0f, 0.0f, 0.0f, dst);
    size_t n = (size_t)S * (size_t)S;
    float mean0 = spec->mean[0], mean1 = spec->mean[1], mean2 = spec->mean[2], mul = spec->mul;
    for (size_t i = 0; i < n; i++) {
        float *p = dst + 3 * i;
        float r = p[0], g = p[1], b = p[2];
        if (spec->bgr) {
            float t = r;
            r = b, b = t;
        }
        p[0] = (r - mean0) * mul, p[1] = (g - mean1) * mul, p[2] = (b - mean2) * mul;
    }
    return MF_OK;
}
