/* Canonical geometry helpers of the anon module: similarity fit, Delaunay triangulation, loops, random numbers. */
#include "anon/internal.h"
#include "mfmc/analyze.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const int mf_anon_loop_reye[16] = {33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246};
const int mf_anon_loop_leye[16] = {263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466};
const int mf_anon_loop_oval[36] = {10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
                                   397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                                   172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109};
const int mf_anon_loop_mouth[20] = {78, 191, 80, 81, 82, 13, 312, 311, 310, 415,
                                    308, 324, 318, 402, 317, 14, 87, 178, 88, 95};

/* Brows, outer lips, nostrils and nose tip: always replaced (never taken for an occluder). */
const int mf_anon_feature_v[MF_ANON_N_FEATURE_V] = {
    /* brows */ 70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276,
    /* outer lips */ 61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
    /* nostrils and nose tip */ 1, 2, 4, 5, 19, 94, 97, 98, 326, 327, 64, 294, 48, 278, 79, 309, 238, 458, 20, 60,
    75, 240, 460, 290, 305, 289, 59, 166, 219, 218, 239, 241, 242, 99, 328, 462, 250, 457, 438, 439, 455, 237, 44,
    45, 274, 275};

/* The alignments an attacker's detector may find instead of ours (docs/anonymization.md, "Guarantee"): scale about
 * the five points' centre, shift in eye distances (x, y), in-plane turn in degrees. The privacy-anon check (an
 * upright square re-detected by the plain analyser) scored arcface 0.32-0.35 on faces our own alignment had
 * accepted below 0.2286: the similarity of a replaced face moves by 0.1 with the crop, which decides how much of the
 * unchanged context (hair, ears, outline, a cut border) the recognizer sees. The guarantee takes the worst. */
static const float jit[MF_ANON_N_JITTER][4] = {
    {1.10f, 0, 0, 0}, {0.90f, 0, 0, 0}, {1, 0, 0.07f, 0}, {1, 0, -0.07f, 0}, {1, 0.07f, 0, 0}, {1, 0, 0, 6},
};

void mf_anon_jitter5(const float p[5][2], int i, float q[5][2]) {
    mf_face_5pt_moved(p, jit[i][0], jit[i][1], jit[i][2], jit[i][3], q);
}

int mf_anon_attack_square(const mf_img *img, const float box[4], float roll_deg, float ctx, int side, mf_img *out) {
    if (!img || !img->data || img->c != 3 || !box || !out) return mf_error_set(MF_ERR_ARG, "anon: attack square: null argument or image not RGB");
    for (int i = 0; i < 4; i++)
        if (!isfinite(box[i])) return mf_error_set(MF_ERR_ARG, "anon: attack square: box not finite");
    if (!(box[2] > 0) || !(box[3] > 0) || side < 8 || !(ctx > 0) || !isfinite(roll_deg))
        return mf_error_set(MF_ERR_ARG, "anon: attack square: empty box or bad size");
    float sq = ctx * fmaxf(box[2], box[3]), k = sq / (float)side, a = roll_deg * (float)M_PI / 180.0f;
    float c = cosf(a), s = sinf(a), cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2, h = 0.5f * k - 0.5f * sq;
    /* square pixel (u, v) -> centre + R(roll) ((u + 0.5) k - sq / 2, (v + 0.5) k - sq / 2), continuous coordinates,
     * minus 0.5 for the pixel-index ones of the warp */
    float m[6] = {c * k, -s * k, cx - 0.5f + (c - s) * h, s * k, c * k, cy - 0.5f + (s + c) * h};
    float *f = malloc((size_t)side * side * 3 * sizeof *f);
    if (!f) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = mf_img_init(out, side, side, 3);
    if (!st) {
        mf_img_warp_to_float(img, m, side, side, 1.0f, 0.0f, 128.0f, f);
        for (size_t i = 0; i < (size_t)side * side * 3; i++) out->data[i] = (uint8_t)fminf(255.0f, fmaxf(0.0f, f[i] + 0.5f));
    }
    free(f);
    return st;
}

void mf_anon_attack_points(const float box[4], float roll_deg, float ctx, int side, const float (*p)[2], int n,
                           float (*q)[2]) {
    /* the inverse of the square's map: U = R(-roll) (X - centre) / k + side / 2, continuous coordinates */
    float sq = ctx * fmaxf(box[2], box[3]), k = sq / (float)side, a = roll_deg * (float)M_PI / 180.0f;
    float c = cosf(a), s = sinf(a), cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2;
    for (int i = 0; i < n; i++) {
        float dx = p[i][0] - cx, dy = p[i][1] - cy;
        q[i][0] = (c * dx + s * dy) / k + 0.5f * (float)side, q[i][1] = (-s * dx + c * dy) / k + 0.5f * (float)side;
    }
}

void mf_anon_attack_points_back(const float box[4], float roll_deg, float ctx, int side, const float (*q)[2], int n,
                                float (*p)[2]) {
    /* X = centre + R(roll) (U - side / 2) k, continuous coordinates */
    float sq = ctx * fmaxf(box[2], box[3]), k = sq / (float)side, a = roll_deg * (float)M_PI / 180.0f;
    float c = cosf(a), s = sinf(a), cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2;
    for (int i = 0; i < n; i++) {
        float u = (q[i][0] - 0.5f * (float)side) * k, v = (q[i][1] - 0.5f * (float)side) * k;
        p[i][0] = cx + c * u - s * v, p[i][1] = cy + s * u + c * v;
    }
}

int mf_anon_mirror_map(const float *shape, int nv, short *map, float *worst) {
    if (!shape || !map || nv < 1 || nv > 32767) return mf_error_set(MF_ERR_ARG, "mirror map: bad arguments");
    float w = 0;
    for (int v = 0; v < nv; v++) {
        const float *p = shape + 3 * v;
        float bd = FLT_MAX;
        for (int u = 0; u < nv; u++) {
            const float *q = shape + 3 * u;
            float d = (p[0] + q[0]) * (p[0] + q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]);
            if (d < bd) bd = d, map[v] = (short)u;
        }
        w = fmaxf(w, sqrtf(bd));
    }
    if (worst) *worst = w;
    return MF_OK;
}

void mf_anon_sym_deltas(float *d, const short *map, int nv, float *tmp) {
    for (int v = 0; v < nv; v++) {
        const float *a = d + 3 * v, *b = d + 3 * map[v];
        tmp[3 * v] = 0.5f * (a[0] - b[0]), tmp[3 * v + 1] = 0.5f * (a[1] + b[1]), tmp[3 * v + 2] = 0.5f * (a[2] + b[2]);
    }
    memcpy(d, tmp, sizeof(float) * 3 * (size_t)nv);
}

uint64_t mf_anon_rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
double mf_anon_rng_uniform(uint64_t *s) { return (double)(mf_anon_rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }
double mf_anon_rng_normal(uint64_t *s) {
    double u = mf_anon_rng_uniform(s), v = mf_anon_rng_uniform(s);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

int mf_anon_delaunay(const float *xy, int n, int *tri, int max_tri) {
    if (n < 3 || n > 100000) return mf_error_set(MF_ERR_ARG, "delaunay: %d points", n);
    double minx = xy[0], maxx = xy[0], miny = xy[1], maxy = xy[1];
    for (int i = 1; i < n; i++) {
        minx = fmin(minx, xy[2 * i]), maxx = fmax(maxx, xy[2 * i]);
        miny = fmin(miny, xy[2 * i + 1]), maxy = fmax(maxy, xy[2 * i + 1]);
    }
    double dm = fmax(maxx - minx, maxy - miny) * 20 + 1, mx = (minx + maxx) / 2, my = (miny + maxy) / 2;
    int cap = 2 * n + 16;
    double *px = malloc(sizeof(double) * (size_t)(n + 3) * 2);
    int(*t)[3] = malloc(sizeof(*t) * (size_t)cap);
    int(*edges)[2] = malloc(sizeof(*edges) * (size_t)cap * 3);
    char *bad = malloc((size_t)cap);
    if (!px || !t || !edges || !bad) {
        free(px), free(t), free(edges), free(bad);
        return mf_error_set(MF_ERR_NOMEM, "out of memory (delaunay)");
    }
    for (int i = 0; i < n; i++) px[2 * i] = xy[2 * i], px[2 * i + 1] = xy[2 * i + 1];
    px[2 * n] = mx - dm, px[2 * n + 1] = my - dm;
    px[2 * n + 2] = mx, px[2 * n + 3] = my + dm;
    px[2 * n + 4] = mx + dm, px[2 * n + 5] = my - dm;
    int nt = 1;
    t[0][0] = n, t[0][1] = n + 1, t[0][2] = n + 2;
    for (int p = 0; p < n; p++) {
        double x = px[2 * p], y = px[2 * p + 1];
        int ne = 0;
        for (int i = 0; i < nt; i++) {
            double ax = px[2 * t[i][0]] - x, ay = px[2 * t[i][0] + 1] - y;
            double bx = px[2 * t[i][1]] - x, by = px[2 * t[i][1] + 1] - y;
            double cx = px[2 * t[i][2]] - x, cy = px[2 * t[i][2] + 1] - y;
            double det = (ax * ax + ay * ay) * (bx * cy - cx * by) - (bx * bx + by * by) * (ax * cy - cx * ay) +
                         (cx * cx + cy * cy) * (ax * by - bx * ay);
            double orient = (px[2 * t[i][1]] - px[2 * t[i][0]]) * (px[2 * t[i][2] + 1] - px[2 * t[i][0] + 1]) -
                            (px[2 * t[i][1] + 1] - px[2 * t[i][0] + 1]) * (px[2 * t[i][2]] - px[2 * t[i][0]]);
            bad[i] = orient > 0 ? det > 0 : det < 0;
        }
        for (int i = 0; i < nt; i++) {
            if (!bad[i]) continue;
            for (int e = 0; e < 3; e++) {
                int a = t[i][e], b = t[i][(e + 1) % 3], shared = 0;
                for (int j = 0; j < nt && !shared; j++) {
                    if (j == i || !bad[j]) continue;
                    for (int f = 0; f < 3; f++) {
                        int c = t[j][f], d = t[j][(f + 1) % 3];
                        if ((c == a && d == b) || (c == b && d == a)) shared = 1;
                    }
                }
                if (!shared) edges[ne][0] = a, edges[ne][1] = b, ne++;
            }
        }
        int k = 0;
        for (int i = 0; i < nt; i++)
            if (!bad[i]) memcpy(t[k++], t[i], sizeof t[0]);
        nt = k;
        if (nt + ne > cap) {
            free(px), free(t), free(edges), free(bad);
            return mf_error_set(MF_ERR_LIMIT, "delaunay: too many triangles");
        }
        for (int e = 0; e < ne; e++) t[nt][0] = edges[e][0], t[nt][1] = edges[e][1], t[nt][2] = p, nt++;
    }
    int out = 0;
    for (int i = 0; i < nt; i++) {
        if (t[i][0] >= n || t[i][1] >= n || t[i][2] >= n) continue;
        if (out >= max_tri) break;
        memcpy(tri + 3 * out, t[i], sizeof t[0]);
        out++;
    }
    free(px), free(t), free(edges), free(bad);
    return out;
}

int mf_anon_in_loop(const float *xy, const int *loop, int n_loop, float x, float y) {
    int in = 0;
    for (int i = 0, j = n_loop - 1; i < n_loop; j = i++) {
        float xi = xy[2 * loop[i]], yi = xy[2 * loop[i] + 1], xj = xy[2 * loop[j]], yj = xy[2 * loop[j] + 1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

int mf_anon_texel_map(const struct mf_anon_model *m, int *tri_of, float *bary) {
    int T = m->T;
    for (int i = 0; i < T * T; i++) tri_of[i] = -1;
    for (int t = 0; t < m->n_tri; t++) {
        const float *a = m->uv + 2 * m->tri[3 * t], *b = m->uv + 2 * m->tri[3 * t + 1], *c = m->uv + 2 * m->tri[3 * t + 2];
        float area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
        if (fabsf(area) < 1e-9f) continue;
        int x0 = (int)floorf(fminf(a[0], fminf(b[0], c[0]))), x1 = (int)ceilf(fmaxf(a[0], fmaxf(b[0], c[0])));
        int y0 = (int)floorf(fminf(a[1], fminf(b[1], c[1]))), y1 = (int)ceilf(fmaxf(a[1], fmaxf(b[1], c[1])));
        for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < T; y++)
            for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < T; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                float w0 = ((b[0] - px) * (c[1] - py) - (b[1] - py) * (c[0] - px)) / area;
                float w1 = ((c[0] - px) * (a[1] - py) - (c[1] - py) * (a[0] - px)) / area;
                float w2 = 1 - w0 - w1;
                if (w0 < -1e-4f || w1 < -1e-4f || w2 < -1e-4f) continue;
                int o = y * T + x;
                tri_of[o] = t;
                bary[3 * o] = w0, bary[3 * o + 1] = w1, bary[3 * o + 2] = w2;
            }
    }
    return MF_OK;
}

typedef float wv4f __attribute__((vector_size(16)));
int mf_anon_loop_densify(const float *x, const float *y, const float *u, const float *v, int nb, int s, float *ox,
                         float *oy, float *ou, float *ov) {
    s = s < 1 ? 1 : s;
    for (int b = 0; b < nb; b++) {
        int c = b + 1 < nb ? b + 1 : 0;
        for (int k = 0; k < s; k++) {
            float t = (float)k / (float)s;
            int o = b * s + k;
            ox[o] = x[b] + t * (x[c] - x[b]), oy[o] = y[b] + t * (y[c] - y[b]);
            ou[o] = u[b] + t * (u[c] - u[b]), ov[o] = v[b] + t * (v[c] - v[b]);
        }
    }
    return nb * s;
}

void mf_anon_warp_point(const float *bx, const float *by, const float *ex, const float *ey, int nb, int power,
                        float fall, float px, float py, float *d2s, float out[2]) {
    float sw = 0, dx = 0, dy = 0, dmin = 1e30f;
    /* squared distances to the boundary vertices, 4 at a time (the same float operations per vertex as one at a time:
     * no contraction in ISO C mode), then their minimum */
    const wv4f vx = {px, px, px, px}, vy = {py, py, py, py};
    int b = 0;
    for (; b + 4 <= nb; b += 4) {
        wv4f qx, qy;
        memcpy(&qx, bx + b, sizeof qx), memcpy(&qy, by + b, sizeof qy);
        wv4f ddx = vx - qx, ddy = vy - qy, d2 = ddx * ddx + ddy * ddy;
        memcpy(d2s + b, &d2, sizeof d2);
    }
    for (; b < nb; b++) d2s[b] = (px - bx[b]) * (px - bx[b]) + (py - by[b]) * (py - by[b]);
    for (b = 0; b < nb; b++) dmin = d2s[b] < dmin ? d2s[b] : dmin; /* fminf is a libm call here: finite values */
    float u = sqrtf(dmin) / fall, f = u >= 1 ? 0 : (1 - u) * (1 - u) * (1 + 2 * u);
    /* beyond the falloff the field is 0 whatever the weights: they are not summed there (speed17) */
    if (u >= 1) {
        out[0] = out[1] = 0;
        return;
    }
    /* Shepard weights 1 / (d^p + 1e-3), p = 4 (the default) or 2 (warp45: with 4 each vertex's displacement holds over
     * a flat spot around it, and the hair edge along a jaw moved far shows a sawtooth of the vertex spacing; 2 smooths
     * it), 4 at a time; summed one after the other in vertex order */
    const wv4f eps = {1e-3f, 1e-3f, 1e-3f, 1e-3f}, one = {1, 1, 1, 1};
    const int p4 = power == 4;
    for (b = 0; b + 4 <= nb; b += 4) {
        wv4f d2;
        memcpy(&d2, d2s + b, sizeof d2);
        d2 = one / ((p4 ? d2 * d2 : d2) + eps);
        memcpy(d2s + b, &d2, sizeof d2);
    }
    for (; b < nb; b++) d2s[b] = 1 / ((p4 ? d2s[b] * d2s[b] : d2s[b]) + 1e-3f);
    for (b = 0; b < nb; b++) {
        float w = d2s[b];
        sw += w, dx += w * ex[b], dy += w * ey[b];
    }
    out[0] = f * dx / sw;
    out[1] = f * dy / sw;
}

/* (rc52) mf_anon_rel_chroma_power (internal.h). */
float mf_anon_rel_chroma_power(const float photo_skin[3], const float drawn_skin[3]) {
    float sat[2];
    const float *c[2] = {photo_skin, drawn_skin};
    for (int q = 0; q < 2; q++) {
        float hi = fmaxf(c[q][0], fmaxf(c[q][1], c[q][2])), lo = fminf(c[q][0], fminf(c[q][1], c[q][2]));
        if (!(hi > 4)) return 1;
        sat[q] = (hi - lo) / hi;
    }
    return sat[1] > 0.02f ? fminf(1, sat[0] / sat[1]) : 1;
}

/* (rc52) mf_anon_rel_chroma (internal.h). */
void mf_anon_rel_chroma(const float L[3], float v[3], float g) {
    if (!(g < 1)) return;
    float yl = 0.299f * L[0] + 0.587f * L[1] + 0.114f * L[2], yv = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
    if (!(yl > 4 && yv > 0 && yv < yl && L[0] > 1 && L[1] > 1 && L[2] > 1 && v[0] > 0 && v[1] > 0 && v[2] > 0)) return;
    float r = yv / yl, q[3];
    for (int k = 0; k < 3; k++) q[k] = r * powf(v[k] / L[k] / r, g);
    float yq = (0.299f * L[0] * q[0] + 0.587f * L[1] * q[1] + 0.114f * L[2] * q[2]) / yl;
    if (!(yq > 0)) return;
    for (int k = 0; k < 3; k++) v[k] = L[k] * q[k] * r / yq;
}

/* (cc53) mf_anon_chroma_clamp (internal.h). */
float mf_anon_chroma_clamp(const float ref[3], float p[3], float t) {
    float yr = 0.299f * ref[0] + 0.587f * ref[1] + 0.114f * ref[2];
    if (!(yr > 4) || !(t > 0)) return 0;
    float y = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2], yf = fmaxf(y, MF_ANON_CC_Y_MIN);
    float rb = (-0.168736f * ref[0] - 0.331264f * ref[1] + 0.5f * ref[2]) / yr;
    float rr = (0.5f * ref[0] - 0.418688f * ref[1] - 0.081312f * ref[2]) / yr;
    float cb = -0.168736f * p[0] - 0.331264f * p[1] + 0.5f * p[2], cr = 0.5f * p[0] - 0.418688f * p[1] - 0.081312f * p[2];
    float db = cb - y * rb, dr = cr - y * rr, n = sqrtf(db * db + dr * dr) / yf;
    if (!(n > t)) return n;
    float s = t / n;
    cb = y * rb + s * db, cr = y * rr + s * dr;
    p[0] = y + 1.402f * cr;
    p[1] = y - 0.344136f * cb - 0.714136f * cr;
    p[2] = y + 1.772f * cb;
    return n;
}

/* (lens53) mf_anon_lens_fill (internal.h). */
long mf_anon_lens_fill(const float *skin, const float *seed, int w, int h, float thr, const float c[2][2], float r,
                       int *queue, uint8_t *out) {
    size_t px = (size_t)w * h;
    long head = 0, tail = 0;
    float r2 = r * r;
    memset(out, 0, px);
    for (size_t i = 0; i < px; i++)
        if (seed[i] > 0.5f) out[i] = 1, queue[tail++] = (int)i;
    while (head < tail) {
        int i = queue[head++], x = i % w, y = i / w;
        for (int k = 0; k < 4; k++) {
            int nx = x + (k == 0) - (k == 1), ny = y + (k == 2) - (k == 3);
            if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
            size_t n = (size_t)ny * w + nx;
            if (out[n] || !(skin[n] < thr)) continue;
            float d0 = (nx - c[0][0]) * (nx - c[0][0]) + (ny - c[0][1]) * (ny - c[0][1]);
            float d1 = (nx - c[1][0]) * (nx - c[1][0]) + (ny - c[1][1]) * (ny - c[1][1]);
            if (!(d0 <= r2 || d1 <= r2)) continue;
            out[n] = 1, queue[tail++] = (int)n;
        }
    }
    return tail;
}
