/* The LBP-histogram recognizer's feature and projection (see lbp.h). */
#include "face/lbp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const mf_face_align_spec mf_face_lbp_spec = {MF_LBP_CROP, 0, 1.0f, 0.0f, 0, {0, 0, 0}, 1.0f, 0};

/* Uniform-pattern bin of each 8-bit code: patterns with at most two 0/1 transitions (circularly) get bins 0..57
 * in increasing code order, the others bin 58. */
static void make_table(unsigned char table[256]) {
    int next = 0;
    for (int c = 0; c < 256; c++) {
        int t = 0;
        for (int b = 0; b < 8; b++)
            t += ((c >> b) & 1) != ((c >> ((b + 1) & 7)) & 1);
        table[c] = (unsigned char)(t <= 2 ? next++ : MF_LBP_BINS - 1);
    }
}

static float px(const float *g, float x, float y) {
    int x0 = (int)floorf(x), y0 = (int)floorf(y);
    float fx = x - x0, fy = y - y0;
    const float *r0 = g + (size_t)y0 * MF_LBP_CROP + x0, *r1 = r0 + MF_LBP_CROP;
    return (r0[0] * (1 - fx) + r0[1] * fx) * (1 - fy) + (r1[0] * (1 - fx) + r1[1] * fx) * fy;
}

void mf_face_lbp_features(const float *rgb, float *feat) {
    enum { S = MF_LBP_CROP, R = 2, CELL = S / MF_LBP_GRID };
    unsigned char table[256];
    make_table(table);
    float g[S * S + S]; /* grey levels (51 KB; the bilinear reads stay inside: R < x < S - R) */
    for (int i = 0; i < S * S; i++)
        g[i] = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
    memset(feat, 0, sizeof(float) * MF_LBP_FEAT);
    static const float dx[8] = {R, 1.41421356f, 0, -1.41421356f, -R, -1.41421356f, 0, 1.41421356f};
    static const float dy[8] = {0, -1.41421356f, -R, -1.41421356f, 0, 1.41421356f, R, 1.41421356f};
    for (int y = R; y < S - R; y++)
        for (int x = R; x < S - R; x++) {
            float c = g[y * S + x];
            int code = 0;
            for (int b = 0; b < 8; b++) {
                float v = (b & 1) ? px(g, x + dx[b], y + dy[b]) : g[(y + (int)dy[b]) * S + x + (int)dx[b]];
                code |= (v >= c) << b;
            }
            int cell = (y / CELL) * MF_LBP_GRID + x / CELL;
            feat[cell * MF_LBP_BINS + table[code]] += 1.0f;
        }
    for (int cell = 0; cell < MF_LBP_GRID * MF_LBP_GRID; cell++) {
        float *h = feat + cell * MF_LBP_BINS, sum = 0;
        for (int b = 0; b < MF_LBP_BINS; b++)
            sum += h[b];
        for (int b = 0; b < MF_LBP_BINS; b++)
            h[b] = sum > 0 ? sqrtf(h[b] / sum) : 0;
    }
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

static float half_to_float(unsigned h) {
    unsigned s = (h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, u;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        return (h >> 15) ? -f : f;
    }
    u = e == 31 ? s | 0x7f800000u | (m << 13) : s | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int mf_face_lbp_proj_load(mf_face_lbp_proj *p) {
    memset(p, 0, sizeof *p);
    int in = mf_face_lbp_weights_in, out = mf_face_lbp_weights_out;
    size_t n = (size_t)in + (size_t)in * out;
    if (in != MF_LBP_FEAT || out < 1 || out > MF_FACE_MAX_EMBEDDING_DIM || strlen(mf_face_lbp_weights_hex) != 4 * n)
        return mf_error_set(MF_ERR_MODEL, "lbp: the compiled-in projection does not match the feature (%d -> %d)", in,
                            out);
    float *v = malloc(n * sizeof *v);
    if (!v) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        unsigned h = 0;
        for (int k = 0; k < 4; k++) {
            int d = hexval(mf_face_lbp_weights_hex[4 * i + (size_t)k]);
            if (d < 0) {
                free(v);
                return mf_error_set(MF_ERR_MODEL, "lbp: the compiled-in projection holds a non-hex digit");
            }
            h = h << 4 | (unsigned)d;
        }
        v[i] = half_to_float(h);
        if (!isfinite(v[i])) {
            free(v);
            return mf_error_set(MF_ERR_MODEL, "lbp: the compiled-in projection holds a non-finite value");
        }
    }
    p->in_dim = in, p->out_dim = out, p->mean = v, p->w = v + in;
    return MF_OK;
}

void mf_face_lbp_proj_free(mf_face_lbp_proj *p) {
    free(p->mean);
    memset(p, 0, sizeof *p);
}

void mf_face_lbp_project(const mf_face_lbp_proj *p, const float *feat, float *out) {
    for (int j = 0; j < p->out_dim; j++)
        out[j] = 0;
    for (int i = 0; i < p->in_dim; i++) {
        float d = feat[i] - p->mean[i];
        if (d == 0) continue;
        const float *row = p->w + (size_t)i * p->out_dim;
        for (int j = 0; j < p->out_dim; j++)
            out[j] += d * row[j];
    }
}
