/* Depthwise convolutions: packing, the row driver and the portable row kernels. */
#include "nn/conv_internal.h"

/* ------------------------------------------------------------------------------------------------------------ */
/* Depthwise                                                                                                    */

static int dw_cpad(const mf_nn_conv_shape *s) { return (int)round_up((size_t)s->oc, 8); }

size_t mf_nn_dwconv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    check_shape(s);
    (void)isa;
    return ((size_t)s->kh * s->kw + 2) * (size_t)dw_cpad(s);
}

void mf_nn_dwconv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwim, const float *bias,
                         const float *alpha, float *packed) {
    check_pack_args(s, isa, alpha, packed);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    MF_ASSERT(s->oc % s->ic == 0);
    size_t cpad = (size_t)dw_cpad(s), taps = (size_t)s->kh * s->kw;
    for (size_t t = 0; t < taps; t++)
        for (size_t c = 0; c < cpad; c++)
            packed[t * cpad + c] = c < (size_t)s->oc ? w_hwim[t * s->oc + c] : 0.0f;
    for (size_t c = 0; c < cpad; c++) {
        packed[taps * cpad + c] = (c < (size_t)s->oc && bias) ? bias[c] : 0.0f;
        packed[(taps + 1) * cpad + c] = (c < (size_t)s->oc && alpha) ? alpha[c] : 0.0f;
    }
}

size_t mf_nn_dwconv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth) {
    check_shape(s);
    (void)isa;
    MF_ASSERT(nth >= 1);
    return 0;
}

static inline float act1(float v, int act, float alpha) {
    switch (act) {
    case MF_NN_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case MF_NN_ACT_RELU6: return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
    case MF_NN_ACT_PRELU: return v >= 0.0f ? v : alpha * v;
    default: return v;
    }
}

/* Channel multiplier > 1 (rare): plain loops, same for every ISA. */
static void dw_row_generic(const mf_nn_dw_row *r) {
    const mf_nn_conv_shape *s = r->s;
    const int mul = s->oc / s->ic;
    for (int x = 0; x < s->ow; x++) {
        int ix0 = x * s->sw - s->pad_l, kx_lo, kx_hi;
        mf_nn_tap_range(ix0, s->kw, s->dw, s->iw, &kx_lo, &kx_hi);
        float *o = r->out + (size_t)x * s->oc;
        for (int c = 0; c < s->oc; c++) {
            float acc = r->bias[c];
            for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
                const float *ip = r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw) * s->ic + c / mul;
                const float *wp = r->w + (size_t)ky * s->kw * r->cpad + c;
                for (int kx = kx_lo; kx < kx_hi; kx++)
                    acc += ip[(size_t)(ix0 + kx * s->dw) * s->ic] * wp[(size_t)kx * r->cpad];
            }
            if (r->res) acc += r->res[(size_t)x * s->oc + c];
            o[c] = act1(acc, s->act, r->alpha[c]);
        }
    }
}

/* One output pixel, channels [c0, c0+4) (all valid), taps ky in [ky_lo, ky_hi), kx in [kx_lo, kx_hi). */
static inline v4f dw_pix4(const mf_nn_dw_row *r, int x, int c0, int kx_lo, int kx_hi) {
    const mf_nn_conv_shape *s = r->s;
    v4f acc = v4_load(r->bias + c0);
    const int ix0 = x * s->sw - s->pad_l;
    for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
        const float *ip = r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx_lo * s->dw)) * s->ic + c0;
        const float *wp = r->w + ((size_t)ky * s->kw + kx_lo) * r->cpad + c0;
        for (int kx = kx_lo; kx < kx_hi; kx++) {
            acc += v4_load(ip) * v4_load(wp);
            ip += (size_t)s->dw * s->ic;
            wp += r->cpad;
        }
    }
    return acc;
}

void mf_nn_conv_dw_row_scalar(const mf_nn_dw_row *r) {
    const mf_nn_conv_shape *s = r->s;
    const int C = s->oc, C4 = C & ~3;
    for (int x = 0; x < s->ow; x++) {
        int ix0 = x * s->sw - s->pad_l, kx_lo, kx_hi;
        mf_nn_tap_range(ix0, s->kw, s->dw, s->iw, &kx_lo, &kx_hi);
        float *o = r->out + (size_t)x * C;
        const float *res = r->res ? r->res + (size_t)x * C : NULL;
        int c0 = 0;
        for (; c0 + 16 <= C4; c0 += 16) { /* 4 independent accumulators */
            v4f a0 = v4_load(r->bias + c0), a1 = v4_load(r->bias + c0 + 4), a2 = v4_load(r->bias + c0 + 8),
                a3 = v4_load(r->bias + c0 + 12);
            for (int ky = r->ky_lo; ky < r->ky_hi; ky++) {
                const float *ip =
                    r->in + ((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx_lo * s->dw)) * C + c0;
                const float *wp = r->w + ((size_t)ky * s->kw + kx_lo) * r->cpad + c0;
                for (int kx = kx_lo; kx < kx_hi; kx++) {
                    a0 += v4_load(ip) * v4_load(wp);
                    a1 += v4_load(ip + 4) * v4_load(wp + 4);
                    a2 += v4_load(ip + 8) * v4_load(wp + 8);
                    a3 += v4_load(ip + 12) * v4_load(wp + 12);
                    ip += (size_t)s->dw * C;
                    wp += r->cpad;
                }
            }
            if (res) {
                a0 += v4_load(res + c0);
                a1 += v4_load(res + c0 + 4);
                a2 += v4_load(res + c0 + 8);
                a3 += v4_load(res + c0 + 12);
            }
            v4_store(o + c0, act4(a0, s->act, r->alpha + c0));
            v4_store(o + c0 + 4, act4(a1, s->act, r->alpha + c0 + 4));
            v4_store(o + c0 + 8, act4(a2, s->act, r->alpha + c0 + 8));
            v4_store(o + c0 + 12, act4(a3, s->act, r->alpha + c0 + 12));
        }
        for (int c = c0; c < C4; c += 4) {
            v4f acc = dw_pix4(r, x, c, kx_lo, kx_hi);
            if (res) acc += v4_load(res + c);
            v4_store(o + c, act4(acc, s->act, r->alpha + c));
        }
        for (int c = C4; c < C; c++) {
            float acc = r->bias[c];
            for (int ky = r->ky_lo; ky < r->ky_hi; ky++)
                for (int kx = kx_lo; kx < kx_hi; kx++)
                    acc += r->in[((size_t)(r->iy0 + ky * s->dh) * s->iw + (size_t)(ix0 + kx * s->dw)) * C + c] *
                           r->w[((size_t)ky * s->kw + kx) * r->cpad + c];
            if (res) acc += res[c];
            o[c] = act1(acc, s->act, r->alpha[c]);
        }
    }
}

void mf_nn_dw_row_init(const mf_nn_conv_shape *s, const float *packed, mf_nn_dw_row *r) {
    const int cpad = dw_cpad(s);
    const size_t taps = (size_t)s->kh * s->kw;
    r->s = s;
    r->w = packed;
    r->bias = packed + taps * (size_t)cpad;
    r->alpha = r->bias + cpad;
    r->cpad = cpad;
    /* Output columns whose taps are all inside the input row. */
    int x_lo = (int)ceil_div((size_t)s->pad_l, (size_t)s->sw);
    long num = (long)s->iw - 1 - (long)(s->kw - 1) * s->dw + s->pad_l;
    int x_hi = num < 0 ? 0 : (int)(num / s->sw + 1);
    if (x_lo > s->ow) x_lo = s->ow;
    if (x_hi > s->ow) x_hi = s->ow;
    if (x_hi < x_lo) x_hi = x_lo;
    r->x_lo = x_lo;
    r->x_hi = x_hi;
}

void mf_nn_dw_row_at(mf_nn_dw_row *r, const float *in, const float *residual, float *out, size_t q) {
    const mf_nn_conv_shape *s = r->s;
    const size_t row_len = (size_t)s->ow * s->oc;
    size_t b = q / (size_t)s->oh;
    int y = (int)(q % (size_t)s->oh);
    r->in = in + b * (size_t)s->ih * s->iw * s->ic;
    r->out = out + q * row_len;
    r->res = residual ? residual + q * row_len : NULL;
    r->iy0 = y * s->sh - s->pad_t;
    mf_nn_tap_range(r->iy0, s->kh, s->dh, s->ih, &r->ky_lo, &r->ky_hi);
}

void mf_nn_dwconv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                        const float *residual, float *out, float *scratch, int ith, int nth) {
    (void)scratch;
    check_shape(s);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    MF_ASSERT(nth >= 1 && ith >= 0 && ith < nth);
    MF_ASSERT(s->oc % s->ic == 0);
    check_aligned(packed);
    const isa_ops ops = mf_nn_conv_ops_for(isa);
    mf_nn_dw_row r;
    mf_nn_dw_row_init(s, packed, &r);
    const size_t rows = (size_t)s->n * s->oh;
    const size_t q0 = rows * (size_t)ith / (size_t)nth, q1 = rows * (size_t)(ith + 1) / (size_t)nth;
    for (size_t q = q0; q < q1; q++) {
        mf_nn_dw_row_at(&r, in, residual, out, q);
        if (s->oc != s->ic)
            dw_row_generic(&r);
        else
            ops.dw_row(&r);
    }
}
