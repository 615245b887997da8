/* A small measure of the pixels under a face mesh (skin.h). */
#include "skin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The mesh points whose patches sample the face's own skin: cheeks, forehead, nose bridge (the anonymizer's probes,
 * src/anon/anon.c), and the mirrored pairs among them (subject's right, left). */
static const int probe_pt[EV_SKIN_PROBES] = {50, 280, 205, 425, 36, 266, 151, 108, 337, 6, 197, 195, 9, 117, 346};
static const int probe_pair[][2] = {{0, 1}, {2, 3}, {4, 5}, {7, 8}, {13, 14}};
/* eyes (upper and lower lid middles, both eyes) and the lips' line (inner lip middles, mouth corners) */
static const int eye_pt[] = {159, 145, 386, 374};
static const int mouth_pt[] = {13, 14, 78, 308};
#define PATCH_FRAC 0.03f
/* skin chroma region of a patch mean (r, g of r + g + b): skin tones from pale to dark lie in it, grey (1/3, 1/3)
 * and blue or green things do not */
#define SKIN_R_MIN 0.36f
#define SKIN_R_MAX 0.60f
#define SKIN_G_MIN 0.26f
#define SKIN_G_MAX 0.37f
#define RING_IN 0.75f
#define RING_OUT 1.25f
#define RING_SAMPLES 64

typedef struct {
    float r, g, b, y, lap;
    int n;
} patch_mean;

static float luma(const uint8_t *p) { return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]; }

static patch_mean patch(const mf_img *img, float fx, float fy, int rad, int want_lap) {
    patch_mean m = {0, 0, 0, 0, 0, 0};
    int cx = (int)floorf(fx), cy = (int)floorf(fy), nl = 0;
    for (int y = cy - rad; y <= cy + rad; y++)
        for (int x = cx - rad; x <= cx + rad; x++) {
            if (x < 0 || y < 0 || x >= img->w || y >= img->h) continue;
            const uint8_t *p = img->data + ((size_t)y * img->w + x) * 3;
            m.r += p[0], m.g += p[1], m.b += p[2], m.y += luma(p), m.n++;
            if (want_lap && x > 0 && y > 0 && x + 1 < img->w && y + 1 < img->h) {
                size_t st = (size_t)img->w * 3;
                m.lap += fabsf(4 * luma(p) - luma(p - 3) - luma(p + 3) - luma(p - st) - luma(p + st));
                nl++;
            }
        }
    if (m.n) m.r /= m.n, m.g /= m.n, m.b /= m.n, m.y /= m.n;
    if (nl) m.lap /= nl;
    return m;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float median(float *v, int n) {
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

static void chroma(float r, float g, float b, float *cr, float *cg) {
    float s = r + g + b;
    *cr = s > 1 ? r / s : 1.0f / 3, *cg = s > 1 ? g / s : 1.0f / 3;
}

/* mean luminance of the patches around points pts[0..n) that hold pixels, or -1 */
static float mean_y(const mf_img *img, const mf_face_landmarks *lm, const int *pts, int n, int rad) {
    float s = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        patch_mean m = patch(img, lm->pt[pts[i]][0], lm->pt[pts[i]][1], rad, 0);
        if (m.n) s += m.y, k++;
    }
    return k ? s / k : -1;
}

void ev_skin_measure(const mf_img *img, const mf_face_landmarks *lm, ev_skin_stats *out) {
    memset(out, 0, sizeof *out);
    out->chroma_r = out->chroma_g = 1.0f / 3;
    out->eye_ratio = out->mouth_ratio = 1;
    float side = fmaxf(lm->box.w, lm->box.h);
    int rad = (int)(PATCH_FRAC * side) + 1;
    patch_mean pm[EV_SKIN_PROBES];
    float cr[EV_SKIN_PROBES], cg[EV_SKIN_PROBES], ys[EV_SKIN_PROBES], v[EV_SKIN_PROBES];
    int n = 0, in_skin = 0;
    float lap = 0;
    for (int i = 0; i < EV_SKIN_PROBES; i++) {
        pm[i] = patch(img, lm->pt[probe_pt[i]][0], lm->pt[probe_pt[i]][1], rad, 1);
        if (!pm[i].n) continue;
        chroma(pm[i].r, pm[i].g, pm[i].b, &cr[n], &cg[n]);
        in_skin += cr[n] >= SKIN_R_MIN && cr[n] <= SKIN_R_MAX && cg[n] >= SKIN_G_MIN && cg[n] <= SKIN_G_MAX;
        ys[n] = pm[i].y;
        lap += pm[i].lap;
        n++;
    }
    out->probes = n;
    if (!n) return;
    float mean_lum = 0;
    for (int i = 0; i < n; i++) mean_lum += ys[i] / n;
    out->texture = lap / n / fmaxf(mean_lum, 1);
    out->skin_frac = (float)in_skin / n;
    memcpy(v, cr, sizeof(float) * n);
    out->chroma_r = median(v, n);
    memcpy(v, cg, sizeof(float) * n);
    out->chroma_g = median(v, n);
    for (int i = 0; i < n; i++) v[i] = hypotf(cr[i] - out->chroma_r, cg[i] - out->chroma_g);
    out->chroma_spread = median(v, n);
    memcpy(v, ys, sizeof(float) * n);
    float my = fmaxf(median(v, n), 1);
    float ey = mean_y(img, lm, eye_pt, (int)(sizeof eye_pt / sizeof eye_pt[0]), rad);
    float mo = mean_y(img, lm, mouth_pt, (int)(sizeof mouth_pt / sizeof mouth_pt[0]), rad);
    out->eye_ratio = ey >= 0 ? ey / my : 1;
    out->mouth_ratio = mo >= 0 ? mo / my : 1;
    float sd = 0;
    int np = 0;
    for (size_t k = 0; k < sizeof probe_pair / sizeof probe_pair[0]; k++) {
        const patch_mean *a = &pm[probe_pair[k][0]], *b = &pm[probe_pair[k][1]];
        if (a->n && b->n) sd += fabsf(a->y - b->y), np++;
    }
    out->sym = np ? sd / np / my : 0;
    /* the ring around the face: samples on two circles */
    float cx = lm->box.x + 0.5f * lm->box.w, cy = lm->box.y + 0.5f * lm->box.h, sat[2 * RING_SAMPLES],
          rtex[2 * RING_SAMPLES];
    int ns = 0;
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < RING_SAMPLES; k++) {
            float a = 2.0f * (float)M_PI * (float)k / RING_SAMPLES, rr = (c ? RING_OUT : RING_IN) * side;
            patch_mean m = patch(img, cx + rr * cosf(a), cy + rr * sinf(a), rad, 1);
            if (!m.n) continue;
            rtex[ns] = m.lap;
            float r, g;
            chroma(m.r, m.g, m.b, &r, &g);
            sat[ns++] = hypotf(r - 1.0f / 3, g - 1.0f / 3);
        }
    out->ring_sat = median(sat, ns);
    if (ns) {
        qsort(rtex, (size_t)ns, sizeof *rtex, cmp_float);
        out->ring_tex = rtex[ns / 10] / fmaxf(mean_lum, 1);
    }
}
