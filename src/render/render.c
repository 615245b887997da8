/* Float images, rasteriser, masked blur and multiband blending (include/mfmc/render.h). */
#include "mfmc/render.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int mf_fimg_init(mf_fimg *f, int w, int h, int c) {
    memset(f, 0, sizeof *f);
    if (w < 1 || h < 1 || c < 1 || c > 4) return mf_error_set(MF_ERR_ARG, "float image %dx%dx%d", w, h, c);
    size_t px, n;
    if (mf_size_mul((size_t)w, (size_t)h, &px) || px > MF_RENDER_MAX_PIXELS || mf_size_mul(px, (size_t)c, &n))
        return mf_error_set(MF_ERR_LIMIT, "float image %dx%d over the %u-pixel cap", w, h, MF_RENDER_MAX_PIXELS);
    f->data = calloc(n, sizeof(float));
    if (!f->data) return mf_error_set(MF_ERR_NOMEM, "out of memory (float image %dx%dx%d)", w, h, c);
    f->w = w, f->h = h, f->c = c;
    return MF_OK;
}

void mf_fimg_free(mf_fimg *f) {
    if (!f) return;
    free(f->data);
    memset(f, 0, sizeof *f);
}

static size_t fimg_n(const mf_fimg *f) { return (size_t)f->w * (size_t)f->h * (size_t)f->c; }

void mf_fimg_fill(mf_fimg *f, float v) {
    size_t n = fimg_n(f);
    for (size_t i = 0; i < n; i++) f->data[i] = v;
}

int mf_fimg_copy(const mf_fimg *src, mf_fimg *dst) {
    int st = mf_fimg_init(dst, src->w, src->h, src->c);
    if (st) return st;
    memcpy(dst->data, src->data, fimg_n(src) * sizeof(float));
    return MF_OK;
}

int mf_fimg_from_img(const mf_img *img, int x, int y, int w, int h, mf_fimg *dst) {
    memset(dst, 0, sizeof *dst);
    if (!img || !img->data || img->c < 1 || img->c > 4 || x < 0 || y < 0 || w < 1 || h < 1 || x > img->w - w ||
        y > img->h - h)
        return mf_error_set(MF_ERR_ARG, "rectangle (%d,%d %dx%d) not inside the image", x, y, w, h);
    int st = mf_fimg_init(dst, w, h, img->c);
    if (st) return st;
    for (int j = 0; j < h; j++) {
        const uint8_t *s = img->data + ((size_t)(y + j) * img->w + x) * img->c;
        float *d = dst->data + (size_t)j * w * img->c;
        for (int i = 0; i < w * img->c; i++) d[i] = s[i];
    }
    return MF_OK;
}

int mf_fimg_to_img(const mf_fimg *src, const mf_fimg *only, mf_img *img, int x, int y) {
    if (!img || !img->data || src->c != img->c || x < 0 || y < 0 || x > img->w - src->w || y > img->h - src->h ||
        (only && (only->w != src->w || only->h != src->h || only->c != 1)))
        return mf_error_set(MF_ERR_ARG, "float image does not fit the target image");
    for (int j = 0; j < src->h; j++) {
        uint8_t *d = img->data + ((size_t)(y + j) * img->w + x) * img->c;
        const float *s = src->data + (size_t)j * src->w * src->c;
        for (int i = 0; i < src->w; i++) {
            if (only && only->data[(size_t)j * src->w + i] <= 0) continue;
            for (int k = 0; k < src->c; k++) {
                float v = s[i * src->c + k] + 0.5f;
                d[i * src->c + k] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : (int)v);
            }
        }
    }
    return MF_OK;
}

/* The four taps and weights of a bilinear sample at (x, y), clamped to the image (a NaN coordinate goes to 0). */
typedef struct {
    int x0, y0, x1, y1;
    float fx, fy;
} taps;
static inline taps bilinear_taps(const mf_fimg *f, float x, float y) {
    x -= 0.5f, y -= 0.5f;
    if (!(x > 0)) x = 0; /* also catches NaN */
    if (!(y > 0)) y = 0;
    if (x > f->w - 1) x = (float)(f->w - 1);
    if (y > f->h - 1) y = (float)(f->h - 1);
    taps t;
    t.x0 = (int)x, t.y0 = (int)y;
    t.x1 = t.x0 + 1 < f->w ? t.x0 + 1 : t.x0, t.y1 = t.y0 + 1 < f->h ? t.y0 + 1 : t.y0;
    t.fx = x - t.x0, t.fy = y - t.y0;
    return t;
}

float mf_fimg_sample(const mf_fimg *f, float x, float y, int k) {
    taps t = bilinear_taps(f, x, y);
    int x0 = t.x0, y0 = t.y0, x1 = t.x1, y1 = t.y1;
    float fx = t.fx, fy = t.fy;
    const float *d = f->data;
    int c = f->c;
    float a = d[((size_t)y0 * f->w + x0) * c + k], b = d[((size_t)y0 * f->w + x1) * c + k];
    float e = d[((size_t)y1 * f->w + x0) * c + k], g = d[((size_t)y1 * f->w + x1) * c + k];
    return (a + (b - a) * fx) * (1 - fy) + (e + (g - e) * fx) * fy;
}

/* Every channel of mf_fimg_sample(f, x, y, k) at once (same float operations, the taps found once). */
static inline void sample_all(const mf_fimg *f, float x, float y, float *out) {
    taps t = bilinear_taps(f, x, y);
    int x0 = t.x0, y0 = t.y0, x1 = t.x1, y1 = t.y1;
    float fx = t.fx, fy = t.fy;
    const int c = f->c;
    const float *p00 = f->data + ((size_t)y0 * f->w + x0) * c, *p01 = f->data + ((size_t)y0 * f->w + x1) * c;
    const float *p10 = f->data + ((size_t)y1 * f->w + x0) * c, *p11 = f->data + ((size_t)y1 * f->w + x1) * c;
    for (int k = 0; k < c; k++) {
        float a = p00[k], b = p01[k], e = p10[k], g = p11[k];
        out[k] = (a + (b - a) * fx) * (1 - fy) + (e + (g - e) * fx) * fy;
    }
}

/* top-left rule: an edge from a to b is "top" or "left" when, for a clockwise-in-image (positive area with y
 * down) orientation, it is horizontal going right or goes up. */
static int is_top_left(float ax, float ay, float bx, float by) {
    return (ay == by && bx > ax) || (by < ay);
}

int mf_render_triangles(mf_fimg *dst, mf_fimg *depth, mf_fimg *cover, float cover_value, const mf_fimg *src,
                        const mf_render_mesh *m) {
    if (!dst || !depth || !src || !m || src->c != dst->c || depth->w != dst->w || depth->h != dst->h ||
        depth->c != 1 || (cover && (cover->w != dst->w || cover->h != dst->h || cover->c != 1)) || m->n_vert < 0 ||
        m->n_tri < 0)
        return mf_error_set(MF_ERR_ARG, "render: mismatched images or mesh");
    for (int t = 0; t < m->n_tri * 3; t++)
        if (m->tri[t] < 0 || m->tri[t] >= m->n_vert)
            return mf_error_set(MF_ERR_ARG, "render: triangle %d names vertex %d of %d", t / 3, m->tri[t], m->n_vert);
    for (int v = 0; v < m->n_vert; v++)
        if (!isfinite(m->xyz[3 * v]) || !isfinite(m->xyz[3 * v + 1]) || !isfinite(m->xyz[3 * v + 2]) ||
            !isfinite(m->uv[2 * v]) || !isfinite(m->uv[2 * v + 1]))
            return mf_error_set(MF_ERR_ARG, "render: vertex %d not finite", v);
    const int c = dst->c, W = dst->w, H = dst->h;
    for (int t = 0; t < m->n_tri; t++) {
        int i0 = m->tri[3 * t], i1 = m->tri[3 * t + 1], i2 = m->tri[3 * t + 2];
        const float *p0 = m->xyz + 3 * i0, *p1 = m->xyz + 3 * i1, *p2 = m->xyz + 3 * i2;
        float area = (p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0]);
        if (area == 0 || !isfinite(area)) continue;
        if (area < 0) { /* make the orientation positive */
            const float *tp = p1;
            p1 = p2, p2 = tp;
            int ti = i1;
            i1 = i2, i2 = ti;
            area = -area;
        }
        const float *u0 = m->uv + 2 * i0, *u1 = m->uv + 2 * i1, *u2 = m->uv + 2 * i2;
        float minx = fminf(p0[0], fminf(p1[0], p2[0])), maxx = fmaxf(p0[0], fmaxf(p1[0], p2[0]));
        float miny = fminf(p0[1], fminf(p1[1], p2[1])), maxy = fmaxf(p0[1], fmaxf(p1[1], p2[1]));
        if (maxx < 0 || maxy < 0 || minx > W || miny > H) continue;
        int x0 = (int)floorf(minx - 0.5f), x1 = (int)ceilf(maxx - 0.5f);
        int y0 = (int)floorf(miny - 0.5f), y1 = (int)ceilf(maxy - 0.5f);
        if (x0 < 0) x0 = 0;
        if (y0 < 0) y0 = 0;
        if (x1 > W - 1) x1 = W - 1;
        if (y1 > H - 1) y1 = H - 1;
        /* edge e_k is opposite vertex k */
        int tl0 = is_top_left(p1[0], p1[1], p2[0], p2[1]), tl1 = is_top_left(p2[0], p2[1], p0[0], p0[1]),
            tl2 = is_top_left(p0[0], p0[1], p1[0], p1[1]);
        for (int y = y0; y <= y1; y++) {
            float py = y + 0.5f;
            for (int x = x0; x <= x1; x++) {
                float px = x + 0.5f;
                float w0 = (p2[0] - p1[0]) * (py - p1[1]) - (p2[1] - p1[1]) * (px - p1[0]);
                float w1 = (p0[0] - p2[0]) * (py - p2[1]) - (p0[1] - p2[1]) * (px - p2[0]);
                float w2 = (p1[0] - p0[0]) * (py - p0[1]) - (p1[1] - p0[1]) * (px - p0[0]);
                if (w0 < 0 || w1 < 0 || w2 < 0) continue;
                if ((w0 == 0 && !tl0) || (w1 == 0 && !tl1) || (w2 == 0 && !tl2)) continue;
                w0 /= area, w1 /= area, w2 /= area;
                float z = w0 * p0[2] + w1 * p1[2] + w2 * p2[2];
                size_t o = (size_t)y * W + x;
                if (!(z < depth->data[o])) continue;
                depth->data[o] = z;
                float su = w0 * u0[0] + w1 * u1[0] + w2 * u2[0], sv = w0 * u0[1] + w1 * u1[1] + w2 * u2[1];
                sample_all(src, su, sv, dst->data + o * c);
                if (cover) cover->data[o] = cover_value;
            }
        }
    }
    return MF_OK;
}

/* d[q] += k * s[q] for q < n, four lanes at a time (GCC/Clang generic vectors: SSE on any x86-64). Each lane does
 * the same single-precision multiply and add as the scalar tail (no fused multiply-add: ISO C mode does not
 * contract), so the result does not depend on where the vector part ends. */
typedef float v4f __attribute__((vector_size(16)));
static void axpy(float *restrict d, const float *restrict s, float k, size_t n) {
    const v4f kk = {k, k, k, k};
    size_t q = 0;
    for (; q + 4 <= n; q += 4) {
        v4f a, b;
        memcpy(&a, d + q, sizeof a);
        memcpy(&b, s + q, sizeof b);
        a += kk * b;
        memcpy(d + q, &a, sizeof a);
    }
    for (; q < n; q++)
        d[q] += k * s[q];
}

/* 1-D Gaussian pass along rows (horizontal) or columns of a w x h x c buffer, edges clamped. Every output value is
 * 0 + ker[0] * in[-r] + ker[1] * in[-r + 1] + ... in this order (the sums are vectorised across the pixels and
 * channels of a row, never reordered): rows go through a copy padded with their edge values, columns read whole
 * source rows from a copy of the image (clamped row index), so both passes run along memory. */
static void run_rows(const mf_render_par *par, mf_render_rows_fn fn, void *ctx, int n) {
    if (par && par->run && n > 1) par->run(par->ctx, fn, ctx, n);
    else if (n > 0) fn(ctx, 0, n);
}

typedef struct {
    float *d;
    const float *buf, *ker;
    int w, h, c, r;
    atomic_int fail;
} bp_ctx;
/* rows [y0, y1) of the horizontal pass, each through its own padded line */
static void bp_rows_h(void *ctx, int y0, int y1) {
    bp_ctx *b = ctx;
    int w = b->w, c = b->c, r = b->r;
    const size_t row = (size_t)w * c;
    float *line = malloc(sizeof(float) * ((size_t)(w + 2 * r) * c + row));
    if (!line) {
        atomic_store(&b->fail, 1);
        return;
    }
    float *acc = line + (size_t)(w + 2 * r) * c;
    for (int l = y0; l < y1; l++) {
        float *base = b->d + (size_t)l * row;
        for (int i = -r; i < w + r; i++) {
            int q = i < 0 ? 0 : i >= w ? w - 1 : i;
            for (int k = 0; k < c; k++)
                line[(size_t)(i + r) * c + k] = base[(size_t)q * c + k];
        }
        memset(acc, 0, sizeof(float) * row);
        for (int j = 0; j <= 2 * r; j++)
            axpy(acc, line + (size_t)j * c, b->ker[j], row);
        memcpy(base, acc, sizeof(float) * row);
    }
    free(line);
}
/* output rows [y0, y1) of the vertical pass, from the copy of the whole image */
static void bp_rows_v(void *ctx, int y0, int y1) {
    bp_ctx *b = ctx;
    int h = b->h, r = b->r;
    const size_t row = (size_t)b->w * b->c;
    for (int y = y0; y < y1; y++) {
        float *out = b->d + (size_t)y * row;
        memset(out, 0, sizeof(float) * row);
        for (int j = 0; j <= 2 * r; j++) {
            int q = y + j - r;
            q = q < 0 ? 0 : q >= h ? h - 1 : q;
            axpy(out, b->buf + (size_t)q * row, b->ker[j], row);
        }
    }
}

/* 1-D Gaussian pass along rows (horizontal) or columns of a w x h x c buffer, edges clamped. Every output value is
 * 0 + ker[0] * in[-r] + ker[1] * in[-r + 1] + ... in this order (the sums are vectorised across the pixels and
 * channels of a row, never reordered): rows go through a copy padded with their edge values, columns read whole
 * source rows from a copy of the image (clamped row index), so both passes run along memory. Rows split over par. */
static int blur_pass(float *d, int w, int h, int c, float sigma, int horizontal, const mf_render_par *par) {
    int r = (int)ceilf(3 * sigma);
    if (r < 1) r = 1;
    const size_t row = (size_t)w * c;
    float *ker = malloc(sizeof(float) * (size_t)(2 * r + 1));
    /* vertical: the whole source image */
    float *buf = horizontal ? NULL : malloc(sizeof(float) * row * (size_t)h);
    if (!ker || (!horizontal && !buf)) {
        free(ker), free(buf);
        return mf_error_set(MF_ERR_NOMEM, "out of memory (blur)");
    }
    float s = 0;
    for (int i = -r; i <= r; i++) s += ker[i + r] = expf(-0.5f * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) ker[i] /= s;
    bp_ctx b = {.d = d, .buf = buf, .ker = ker, .w = w, .h = h, .c = c, .r = r};
    atomic_init(&b.fail, 0);
    if (!horizontal) memcpy(buf, d, sizeof(float) * row * (size_t)h);
    run_rows(par, horizontal ? bp_rows_h : bp_rows_v, &b, h);
    free(ker), free(buf);
    return atomic_load(&b.fail) ? mf_error_set(MF_ERR_NOMEM, "out of memory (blur)") : MF_OK;
}

int mf_render_blur(mf_fimg *f, const mf_fimg *weight, float sigma) { return mf_render_blur_par(f, weight, sigma, NULL); }

int mf_render_blur_par(mf_fimg *f, const mf_fimg *weight, float sigma, const mf_render_par *par) {
    if (!f || !f->data || !(sigma > 0) || sigma > MF_RENDER_MAX_SIGMA ||
        (weight && (weight->w != f->w || weight->h != f->h || weight->c != 1)))
        return mf_error_set(MF_ERR_ARG, "blur: bad arguments (sigma %g)", sigma);
    int st;
    if (!weight) {
        if ((st = blur_pass(f->data, f->w, f->h, f->c, sigma, 1, par))) return st;
        return blur_pass(f->data, f->w, f->h, f->c, sigma, 0, par);
    }
    mf_fimg wb;
    if ((st = mf_fimg_copy(weight, &wb))) return st;
    size_t px = (size_t)f->w * f->h;
    for (size_t i = 0; i < px; i++)
        for (int k = 0; k < f->c; k++) f->data[i * f->c + k] *= weight->data[i];
    if ((st = blur_pass(f->data, f->w, f->h, f->c, sigma, 1, par)) ||
        (st = blur_pass(f->data, f->w, f->h, f->c, sigma, 0, par)) ||
        (st = blur_pass(wb.data, f->w, f->h, 1, sigma, 1, par)) || (st = blur_pass(wb.data, f->w, f->h, 1, sigma, 0, par))) {
        mf_fimg_free(&wb);
        return st;
    }
    for (size_t i = 0; i < px; i++) {
        float wv = wb.data[i];
        for (int k = 0; k < f->c; k++) f->data[i * f->c + k] = wv > 1e-6f ? f->data[i * f->c + k] / wv : 0;
    }
    mf_fimg_free(&wb);
    return MF_OK;
}

/* 2x reduction: 5-tap binomial filter then every other pixel; output ((w+1)/2, (h+1)/2). */
typedef struct {
    const mf_fimg *in;
    mf_fimg *out;
    float sign;
} pyr_ctx;
static void pyr_down_rows(void *ctx, int y0, int y1) {
    const pyr_ctx *p = ctx;
    const mf_fimg *in = p->in;
    mf_fimg *out = p->out;
    static const float k5[5] = {1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f};
    int c = in->c;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < out->w; x++)
            for (int k = 0; k < c; k++) {
                float acc = 0;
                for (int j = -2; j <= 2; j++) {
                    int sy = 2 * y + j;
                    sy = sy < 0 ? 0 : sy >= in->h ? in->h - 1 : sy;
                    for (int i = -2; i <= 2; i++) {
                        int sx = 2 * x + i;
                        sx = sx < 0 ? 0 : sx >= in->w ? in->w - 1 : sx;
                        acc += k5[j + 2] * k5[i + 2] * in->data[((size_t)sy * in->w + sx) * c + k];
                    }
                }
                out->data[((size_t)y * out->w + x) * c + k] = acc;
            }
}
static int pyr_down(const mf_fimg *in, mf_fimg *out, const mf_render_par *par) {
    int st = mf_fimg_init(out, (in->w + 1) / 2, (in->h + 1) / 2, in->c);
    if (st) return st;
    pyr_ctx p = {in, out, 0};
    run_rows(par, pyr_down_rows, &p, out->h);
    return MF_OK;
}

/* Bilinear expansion of `in` to w x h (in's pixel i centred on fine position 2i + 0.5 - 0.5 = 2i). */
static void pyr_up_rows(void *ctx, int r0, int r1) {
    const pyr_ctx *p = ctx;
    const mf_fimg *in = p->in;
    mf_fimg *out = p->out;
    float sign = p->sign;
    int c = in->c;
    for (int y = r0; y < r1; y++) {
        float sy = y * 0.5f;
        int y0 = (int)sy;
        if (y0 > in->h - 1) y0 = in->h - 1;
        int y1 = y0 + 1 < in->h ? y0 + 1 : y0;
        float fy = sy - y0;
        if (fy > 1) fy = 1;
        for (int x = 0; x < out->w; x++) {
            float sx = x * 0.5f;
            int x0 = (int)sx;
            if (x0 > in->w - 1) x0 = in->w - 1;
            int x1 = x0 + 1 < in->w ? x0 + 1 : x0;
            float fx = sx - x0;
            if (fx > 1) fx = 1;
            for (int k = 0; k < c; k++) {
                const float *d = in->data;
                float a = d[((size_t)y0 * in->w + x0) * c + k], b = d[((size_t)y0 * in->w + x1) * c + k];
                float e = d[((size_t)y1 * in->w + x0) * c + k], g = d[((size_t)y1 * in->w + x1) * c + k];
                out->data[((size_t)y * out->w + x) * c + k] +=
                    sign * ((a + (b - a) * fx) * (1 - fy) + (e + (g - e) * fx) * fy);
            }
        }
    }
}
static void pyr_up_add(const mf_fimg *in, mf_fimg *out, float sign, const mf_render_par *par) {
    pyr_ctx p = {in, out, sign};
    run_rows(par, pyr_up_rows, &p, out->h);
}

int mf_render_blend_multiband(mf_fimg *dst, const mf_fimg *src, const mf_fimg *mask, int levels) {
    return mf_render_blend_multiband_par(dst, src, mask, levels, NULL);
}

int mf_render_blend_multiband_par(mf_fimg *dst, const mf_fimg *src, const mf_fimg *mask, int levels,
                                  const mf_render_par *par) {
    if (!dst || !src || !mask || src->w != dst->w || src->h != dst->h || src->c != dst->c || mask->w != dst->w ||
        mask->h != dst->h || mask->c != 1 || levels < 0 || levels > MF_RENDER_MAX_LEVELS)
        return mf_error_set(MF_ERR_ARG, "blend: mismatched images or bad level count %d", levels);
    int maxl = 1;
    for (int w = dst->w, h = dst->h; maxl < MF_RENDER_MAX_LEVELS && w >= 16 && h >= 16; w = (w + 1) / 2, h = (h + 1) / 2)
        maxl++;
    if (levels == 0 || levels > maxl) levels = maxl;
    mf_fimg g[MF_RENDER_MAX_LEVELS] = {{0}}, m[MF_RENDER_MAX_LEVELS] = {{0}};
    int st = mf_fimg_copy(src, &g[0]);
    if (!st) st = mf_fimg_copy(mask, &m[0]);
    if (!st) {
        size_t n = fimg_n(dst);
        for (size_t i = 0; i < n; i++) g[0].data[i] -= dst->data[i];
    }
    for (int l = 1; !st && l < levels; l++) {
        st = pyr_down(&g[l - 1], &g[l], par);
        if (!st) st = pyr_down(&m[l - 1], &m[l], par);
    }
    if (!st) {
        /* Laplacian levels in place: L_l = G_l - up(G_{l+1}); the top level stays Gaussian */
        for (int l = 0; l < levels - 1; l++) pyr_up_add(&g[l + 1], &g[l], -1, par);
        /* weight every level by the mask's Gaussian level */
        for (int l = 0; l < levels; l++) {
            size_t px = (size_t)g[l].w * g[l].h;
            for (size_t i = 0; i < px; i++)
                for (int k = 0; k < g[l].c; k++) g[l].data[i * g[l].c + k] *= m[l].data[i];
        }
        /* collapse from the top */
        for (int l = levels - 2; l >= 0; l--) pyr_up_add(&g[l + 1], &g[l], 1, par);
        size_t n = fimg_n(dst);
        for (size_t i = 0; i < n; i++) dst->data[i] += g[0].data[i];
    }
    for (int l = 0; l < MF_RENDER_MAX_LEVELS; l++) mf_fimg_free(&g[l]), mf_fimg_free(&m[l]);
    return st;
}

double mf_render_seam(const mf_fimg *img, const mf_fimg *mask) {
    if (!img || !mask || img->w != mask->w || img->h != mask->h || mask->c != 1) return 0;
    double sum = 0;
    long n = 0;
    int c = img->c, W = img->w;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < W; x++) {
            int in = mask->data[(size_t)y * W + x] > 0.5f;
            for (int d = 0; d < 2; d++) {
                int nx = x + (d == 0), ny = y + (d == 1);
                if (nx >= W || ny >= img->h) continue;
                if ((mask->data[(size_t)ny * W + nx] > 0.5f) == in) continue;
                for (int k = 0; k < c; k++)
                    sum += fabsf(img->data[((size_t)y * W + x) * c + k] - img->data[((size_t)ny * W + nx) * c + k]);
                n++;
            }
        }
    return n ? sum / ((double)n * c) : 0;
}

/* Bilinear sampling of a coarse x c image at column position (x + 0.5) / r - 0.5, clamped: the index pair and
 * weight mf_fimg_sample computes for that position (same float operations, so the same values). */
typedef struct {
    int i0, i1;
    float f;
} tap2;
static tap2 tap_at(int x, int r, int n) {
    float v = (x + 0.5f) / r;
    v -= 0.5f;
    if (!(v > 0)) v = 0;
    if (v > n - 1) v = (float)(n - 1);
    tap2 t = {(int)v, 0, 0};
    t.i1 = t.i0 + 1 < n ? t.i0 + 1 : t.i0;
    t.f = v - t.i0;
    return t;
}

/* out (already w x h x c) = s sampled at every out pixel as mf_fimg_sample(s, (x + 0.5) / r, (y + 0.5) / r, k)
 * would, with the column taps computed once per column instead of once per pixel and channel. */
typedef struct {
    const mf_fimg *s;
    int r;
    mf_fimg *out;
    const tap2 *tx;
} up_ctx;
static void upsample_rows(void *ctx, int y0, int y1) {
    const up_ctx *u = ctx;
    const mf_fimg *s = u->s;
    mf_fimg *out = u->out;
    const tap2 *tx = u->tx;
    int r = u->r;
    const int c = s->c;
    for (int y = y0; y < y1; y++) {
        tap2 ty = tap_at(y, r, s->h);
        const float *r0 = s->data + (size_t)ty.i0 * s->w * c, *r1 = s->data + (size_t)ty.i1 * s->w * c;
        float fy = ty.f, gy = 1 - fy;
        float *o = out->data + (size_t)y * out->w * c;
        for (int x = 0; x < out->w; x++) {
            const tap2 t = tx[x];
            for (int k = 0; k < c; k++) {
                float a = r0[(size_t)t.i0 * c + k], b = r0[(size_t)t.i1 * c + k];
                float e = r1[(size_t)t.i0 * c + k], g = r1[(size_t)t.i1 * c + k];
                o[(size_t)x * c + k] = (a + (b - a) * t.f) * gy + (e + (g - e) * t.f) * fy;
            }
        }
    }
}
static int upsample(const mf_fimg *s, int r, mf_fimg *out, const mf_render_par *par) {
    tap2 *tx = malloc(sizeof(tap2) * (size_t)out->w);
    if (!tx) return mf_error_set(MF_ERR_NOMEM, "out of memory (lowpass)");
    for (int x = 0; x < out->w; x++)
        tx[x] = tap_at(x, r, s->w);
    up_ctx u = {s, r, out, tx};
    run_rows(par, upsample_rows, &u, out->h);
    free(tx);
    return MF_OK;
}

int mf_render_lowpass(const mf_fimg *f, const mf_fimg *weight, float sigma, mf_fimg *out) {
    return mf_render_lowpass_par(f, weight, sigma, out, NULL);
}

int mf_render_lowpass_par(const mf_fimg *f, const mf_fimg *weight, float sigma, mf_fimg *out, const mf_render_par *par) {
    memset(out, 0, sizeof *out);
    if (!f || !f->data || !(sigma > 0) || sigma > MF_RENDER_MAX_SIGMA ||
        (weight && (weight->w != f->w || weight->h != f->h || weight->c != 1)))
        return mf_error_set(MF_ERR_ARG, "lowpass: bad arguments (sigma %g)", sigma);
    int r = (int)(sigma / 4);
    if (r < 1) r = 1;
    int sw = (f->w + r - 1) / r, sh = (f->h + r - 1) / r, c = f->c;
    mf_fimg s, w;
    int st = mf_fimg_init(&s, sw, sh, c);
    if (!st) st = mf_fimg_init(&w, sw, sh, 1);
    if (st) {
        mf_fimg_free(&s);
        return st;
    }
    for (int y = 0; y < f->h; y++) {
        const size_t srow = (size_t)(y / r) * sw;
        for (int x = 0, xs = 0, xr = 0; x < f->w; x++) { /* xs = x / r, counted up */
            size_t o = (size_t)y * f->w + x, so = srow + (size_t)xs;
            float wv = weight ? weight->data[o] : 1;
            w.data[so] += wv;
            for (int k = 0; k < c; k++) s.data[so * c + k] += wv * f->data[o * c + k];
            if (++xr == r) xr = 0, xs++;
        }
    }
    size_t sp = (size_t)sw * sh;
    for (size_t i = 0; i < sp; i++) /* premultiplied values and weights are blurred alike */
        for (int k = 0; k < c; k++) s.data[i * c + k] = w.data[i] > 0 ? s.data[i * c + k] / w.data[i] : 0;
    st = mf_render_blur_par(&s, &w, sigma / r, par);
    if (!st) st = mf_fimg_init(out, f->w, f->h, c);
    if (!st) st = upsample(&s, r, out, par);
    mf_fimg_free(&s), mf_fimg_free(&w);
    return st;
}
