/* Resampling: float NHWC for the models (TF bilinear resize, affine warp) and 8-bit resize for output.
 *
 * The channel count is passed to the inner loops as a compile-time constant (always_inline + switch) so that
 * the common c = 3 case gets unrolled code without writing each loop three times. */
#include "image/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MF_INLINE static inline __attribute__((always_inline))

/* ---- TF ResizeBilinear(half_pixel_centers=true) ---- */

/* Same float expressions as TensorFlow's compute_interpolation_weights, so results match it bit for bit
 * (up to the final scale/bias). */
MF_INLINE void tf_weights(int i, float ratio, int in_size, int *lo, int *hi, float *lerp) {
    const float in = ((float)i + 0.5f) * ratio - 0.5f;
    const float in_f = floorf(in);
    *lo = in_f > 0.0f ? (int)in_f : 0;
    int up = (int)ceilf(in);
    *hi = up < in_size - 1 ? up : in_size - 1;
    *lerp = in - in_f;
}

enum { XBLOCK = 512 }; /* columns whose weights are kept on the stack at a time */

MF_INLINE void resize_block(const mf_img *src, int oh, int ow, int xb, int nx, const int *xo0, const int *xo1,
                            const float *fx, float scale, float bias, float *dst, const int c) {
    const float ry = (float)src->h / (float)oh;
    const size_t stride = (size_t)src->w * (size_t)c;
    for (int y = 0; y < oh; y++) {
        int y0, y1;
        float fy;
        tf_weights(y, ry, src->h, &y0, &y1, &fy);
        const uint8_t *r0 = src->data + (size_t)y0 * stride, *r1 = src->data + (size_t)y1 * stride;
        float *o = dst + ((size_t)y * (size_t)ow + (size_t)xb) * (size_t)c;
        for (int i = 0; i < nx; i++, o += c) {
            const uint8_t *a = r0 + xo0[i], *b = r0 + xo1[i], *p = r1 + xo0[i], *q = r1 + xo1[i];
            const float wx = fx[i];
            for (int k = 0; k < c; k++) {
                const float top = (float)a[k] + ((float)b[k] - (float)a[k]) * wx;
                const float bot = (float)p[k] + ((float)q[k] - (float)p[k]) * wx;
                o[k] = (top + (bot - top) * fy) * scale + bias;
            }
        }
    }
}

void mf_img_resize_to_float(const mf_img *src, int ow, int oh, float scale, float bias, float *dst) {
    mf_img_assert_valid(src);
    MF_ASSERT(ow > 0 && oh > 0 && dst != NULL);
    const float rx = (float)src->w / (float)ow;
    int xo0[XBLOCK], xo1[XBLOCK];
    float fx[XBLOCK];
    for (int xb = 0; xb < ow; xb += XBLOCK) {
        const int nx = ow - xb < XBLOCK ? ow - xb : XBLOCK;
        for (int i = 0; i < nx; i++) {
            int x0, x1;
            tf_weights(xb + i, rx, src->w, &x0, &x1, &fx[i]);
            xo0[i] = x0 * src->c;
            xo1[i] = x1 * src->c;
        }
        switch (src->c) {
        case 1: resize_block(src, oh, ow, xb, nx, xo0, xo1, fx, scale, bias, dst, 1); break;
        case 3: resize_block(src, oh, ow, xb, nx, xo0, xo1, fx, scale, bias, dst, 3); break;
        default: resize_block(src, oh, ow, xb, nx, xo0, xo1, fx, scale, bias, dst, 4); break;
        }
    }
}

/* ---- affine warp ---- */

#if defined(__SSE2__)
/* The three bytes of the pixel at p as floats in lanes 0-2 (lane 3: the next byte, unused); p[3] must exist. */
MF_INLINE __m128 px3(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    const __m128i z = _mm_setzero_si128();
    return _mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(v), z), z));
}
/* The next pixel's three bytes (p[3..5]) in lanes 0-2, read from p[2..5] (no byte past p[5]). */
MF_INLINE __m128 px3_next(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p + 2, 4);
    const __m128i z = _mm_setzero_si128();
    return _mm_cvtepi32_ps(_mm_srli_si128(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(v), z), z), 4));
}
#endif

MF_INLINE void warp_rows(const mf_img *src, const float m[6], int ow, int oh, float scale, float bias, float border,
                         float *dst, const int c) {
    const int w = src->w, h = src->h;
    const size_t stride = (size_t)w * (size_t)c;
    const double m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5];
    float *o = dst;
#if defined(__SSE2__)
    const float *end = dst + (size_t)ow * (size_t)oh * (size_t)c;
#endif
    for (int y = 0; y < oh; y++) {
        const double bx = m1 * y + m2, by = m4 * y + m5;
        for (int x = 0; x < ow; x++, o += c) {
            const double sx = m0 * x + bx, sy = m3 * x + by;
            /* Written so that NaN lands in the border branch too; also keeps the int conversions in range. */
            if (!(sx > -1.0 && sx < (double)w && sy > -1.0 && sy < (double)h)) {
                for (int k = 0; k < c; k++)
                    o[k] = border;
                continue;
            }
            /* floor without a libm call: sx + 1 > 0 here, and truncation of a positive value is floor */
            const int x0 = (int)(sx + 1.0) - 1, y0 = (int)(sy + 1.0) - 1;
            const float fx = (float)(sx - x0), fy = (float)(sy - y0);
            if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
                const uint8_t *a = src->data + (size_t)y0 * stride + (size_t)x0 * c, *p = a + stride;
#if defined(__SSE2__)
                if (c == 3) { /* the loop below on four lanes (the fourth unused): the same operations per channel */
                    const __m128 vx = _mm_set1_ps(fx), vy = _mm_set1_ps(fy);
                    const __m128 t0 = px3(a), t1 = px3_next(a), b0 = px3(p), b1 = px3_next(p);
                    const __m128 top = _mm_add_ps(t0, _mm_mul_ps(_mm_sub_ps(t1, t0), vx));
                    const __m128 bot = _mm_add_ps(b0, _mm_mul_ps(_mm_sub_ps(b1, b0), vx));
                    const __m128 v = _mm_add_ps(_mm_mul_ps(_mm_add_ps(top, _mm_mul_ps(_mm_sub_ps(bot, top), vy)),
                                                           _mm_set1_ps(scale)),
                                                _mm_set1_ps(bias));
                    if (o + 3 < end) /* the fourth lane lands on the next pixel's first value, written after it */
                        _mm_storeu_ps(o, v);
                    else
                        _mm_store_ss(o, v), _mm_store_ss(o + 1, _mm_shuffle_ps(v, v, 1)),
                            _mm_store_ss(o + 2, _mm_shuffle_ps(v, v, 2));
                    continue;
                }
#endif
                for (int k = 0; k < c; k++) {
                    const float top = (float)a[k] + ((float)a[k + c] - (float)a[k]) * fx;
                    const float bot = (float)p[k] + ((float)p[k + c] - (float)p[k]) * fx;
                    o[k] = (top + (bot - top) * fy) * scale + bias;
                }
                continue;
            }
            /* Edge: neighbours outside the image take the border value. */
            const int in_x0 = x0 >= 0, in_x1 = x0 + 1 < w, in_y0 = y0 >= 0, in_y1 = y0 + 1 < h;
            const uint8_t *r0 = src->data + (size_t)(in_y0 ? y0 : 0) * stride;
            const uint8_t *r1 = src->data + (size_t)(in_y1 ? y0 + 1 : 0) * stride;
            const size_t c0 = (size_t)(in_x0 ? x0 : 0) * c, c1 = (size_t)(in_x1 ? x0 + 1 : 0) * c;
            for (int k = 0; k < c; k++) {
                const float a = in_x0 && in_y0 ? r0[c0 + k] * scale + bias : border;
                const float b = in_x1 && in_y0 ? r0[c1 + k] * scale + bias : border;
                const float p = in_x0 && in_y1 ? r1[c0 + k] * scale + bias : border;
                const float q = in_x1 && in_y1 ? r1[c1 + k] * scale + bias : border;
                const float top = a + (b - a) * fx, bot = p + (q - p) * fx;
                o[k] = top + (bot - top) * fy;
            }
        }
    }
}

void mf_img_warp_to_float(const mf_img *src, const float m[6], int ow, int oh, float scale, float bias, float border,
                          float *dst) {
    mf_img_assert_valid(src);
    MF_ASSERT(m != NULL && ow > 0 && oh > 0 && dst != NULL);
    switch (src->c) {
    case 1: warp_rows(src, m, ow, oh, scale, bias, border, dst, 1); break;
    case 3: warp_rows(src, m, ow, oh, scale, bias, border, dst, 3); break;
    default: warp_rows(src, m, ow, oh, scale, bias, border, dst, 4); break;
    }
}

/* ---- 8-bit resize: separable, box filter when shrinking, bilinear when growing ---- */

typedef struct {
    int *start; /* first source index of output i */
    int *n;     /* number of taps of output i */
    float *w;   /* taps of output i at w[i * maxn] */
    int maxn;
} taps;

static void taps_free(taps *t) {
    free(t->start);
    free(t->n);
    free(t->w);
    memset(t, 0, sizeof *t);
}

static int taps_init(taps *t, int in, int out) {
    memset(t, 0, sizeof *t);
    const double r = (double)in / out;
    t->maxn = out < in ? (int)ceil(r) + 1 : 2;
    size_t nw;
    if (mf_size_mul((size_t)out, (size_t)t->maxn, &nw)) return mf_error_set(MF_ERR_LIMIT, "resize overflows");
    t->start = malloc((size_t)out * sizeof *t->start);
    t->n = malloc((size_t)out * sizeof *t->n);
    t->w = calloc(nw, sizeof *t->w);
    if (!t->start || !t->n || !t->w) {
        taps_free(t);
        return mf_error_set(MF_ERR_NOMEM, "out of memory resizing");
    }
    for (int i = 0; i < out; i++) {
        float *w = t->w + (size_t)i * t->maxn;
        if (out < in) { /* output i averages the source interval [i*r, (i+1)*r) */
            const double a = i * r, b = (i + 1) * r;
            int j0 = (int)floor(a), j1 = (int)ceil(b);
            if (j1 > in) j1 = in;
            if (j1 - j0 > t->maxn) j1 = j0 + t->maxn;
            double sum = 0;
            for (int j = j0; j < j1; j++) {
                double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
                double v = hi > lo ? hi - lo : 0;
                w[j - j0] = (float)v;
                sum += v;
            }
            for (int j = j0; j < j1; j++)
                w[j - j0] = (float)(w[j - j0] / sum);
            t->start[i] = j0;
            t->n[i] = j1 - j0;
        } else { /* half-pixel-centre bilinear, clamped at the edges */
            double s = (i + 0.5) * r - 0.5;
            if (s < 0) s = 0;
            if (s > in - 1) s = in - 1;
            int j0 = (int)floor(s);
            double f = s - j0;
            t->start[i] = j0;
            if (j0 + 1 < in && f > 0) {
                t->n[i] = 2;
                w[0] = (float)(1 - f);
                w[1] = (float)f;
            } else {
                t->n[i] = 1;
                w[0] = 1;
            }
        }
    }
    return MF_OK;
}

MF_INLINE void resize_row_h(const uint8_t *row, const taps *tx, int ow, float *o, const int c) {
    for (int x = 0; x < ow; x++, o += c) {
        const uint8_t *s = row + (size_t)tx->start[x] * c;
        const float *w = tx->w + (size_t)x * tx->maxn;
        float acc[4] = {0, 0, 0, 0};
        for (int t = 0; t < tx->n[x]; t++, s += c)
            for (int k = 0; k < c; k++)
                acc[k] += w[t] * (float)s[k];
        for (int k = 0; k < c; k++)
            o[k] = acc[k];
    }
}

static void row_h(const mf_img *src, int y, const taps *tx, int ow, float *o) {
    const uint8_t *row = src->data + (size_t)y * (size_t)src->w * (size_t)src->c;
    switch (src->c) {
    case 1: resize_row_h(row, tx, ow, o, 1); break;
    case 3: resize_row_h(row, tx, ow, o, 3); break;
    default: resize_row_h(row, tx, ow, o, 4); break;
    }
}

static uint8_t to_u8(float v) { return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f); }

/* Rows [y0, y1) of the resize of src into dst (initialised at its output size, src's channels). Each output row
 * depends on its source rows only (the ring below is a cache), so bands computed apart give the same bytes. */
static int resize_rows(const mf_img *src, mf_img *dst, int y0, int y1) {
    const int ow = dst->w, oh = dst->h;
    int rc;
    taps tx, ty;
    if ((rc = taps_init(&tx, src->w, ow)) != MF_OK) return rc;
    if ((rc = taps_init(&ty, src->h, oh)) != MF_OK) {
        taps_free(&tx);
        return rc;
    }
    /* Horizontally resized source rows live in a ring of ty.maxn slots: output rows use windows of source rows
     * that only move forward, so each source row is resized once and memory stays O(taps * ow). */
    const size_t row = (size_t)ow * (size_t)src->c; /* <= 65535 * 4 (mf_img_init checked ow) */
    const int nslot = ty.maxn;
    size_t ring_bytes;
    int big = mf_size_mul(row, (size_t)nslot + 1, &ring_bytes) || mf_size_mul(ring_bytes, sizeof(float), &ring_bytes);
    float *ring = big ? NULL : malloc(ring_bytes);
    int *held = malloc((size_t)nslot * sizeof *held);
    if (!ring || !held) {
        free(ring);
        free(held);
        taps_free(&tx);
        taps_free(&ty);
        return mf_error_set(MF_ERR_NOMEM, "out of memory resizing %dx%d -> %dx%d", src->w, src->h, ow, oh);
    }
    for (int i = 0; i < nslot; i++)
        held[i] = -1;
    float *acc = ring + row * (size_t)nslot;
    for (int y = y0; y < y1; y++) {
        const float *w = ty.w + (size_t)y * ty.maxn;
        memset(acc, 0, row * sizeof *acc);
        for (int t = 0; t < ty.n[y]; t++) {
            const int sy = ty.start[y] + t, slot = sy % nslot;
            float *s = ring + (size_t)slot * row;
            if (held[slot] != sy) {
                row_h(src, sy, &tx, ow, s);
                held[slot] = sy;
            }
            const float wt = w[t];
            for (size_t i = 0; i < row; i++)
                acc[i] += wt * s[i];
        }
        uint8_t *o = dst->data + (size_t)y * row;
        for (size_t i = 0; i < row; i++)
            o[i] = to_u8(acc[i]);
    }
    free(ring);
    free(held);
    taps_free(&tx);
    taps_free(&ty);
    return MF_OK;
}

int mf_img_resize(const mf_img *src, int ow, int oh, mf_img *dst) {
    mf_img_assert_valid(src);
    MF_ASSERT(dst != NULL);
    memset(dst, 0, sizeof *dst);
    if (ow < 1 || oh < 1) return mf_error_set(MF_ERR_ARG, "resize to %dx%d", ow, oh);
    int rc = mf_img_init(dst, ow, oh, src->c);
    if (rc != MF_OK) return rc;
    if ((rc = resize_rows(src, dst, 0, oh)) != MF_OK) mf_img_free(dst);
    return rc;
}

int mf_img_resize_rows(const mf_img *src, mf_img *dst, int y0, int y1) {
    mf_img_assert_valid(src);
    MF_ASSERT(dst != NULL && dst->data != NULL);
    if (dst->c != src->c || y0 < 0 || y1 > dst->h || y0 > y1)
        return mf_error_set(MF_ERR_ARG, "resize rows %d..%d of %dx%d", y0, y1, dst->w, dst->h);
    return y0 == y1 ? MF_OK : resize_rows(src, dst, y0, y1);
}
