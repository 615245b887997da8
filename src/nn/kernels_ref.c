/* Reference kernels: obvious loops, double accumulators. Ground truth for the tests of the fast paths. */
#include "nn/kernels.h"

#include "mfmc/core.h"

static float ref_epilogue(const mf_nn_conv_shape *s, double acc, int c, const float *bias, const float *alpha,
                          const float *post, const float *residual, size_t idx) {
    if (bias) acc += bias[c];
    if (residual) acc += residual[idx];
    float v = (float)acc;
    switch (s->act) {
    case MF_NN_ACT_NONE: break;
    case MF_NN_ACT_RELU: v = v > 0.0f ? v : 0.0f; break;
    case MF_NN_ACT_RELU6: v = v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f; break;
    case MF_NN_ACT_PRELU:
        MF_ASSERT(alpha != NULL);
        v = v >= 0.0f ? v : alpha[c] * v;
        break;
    default: MF_ASSERT(!"unknown activation");
    }
    if (s->post) {
        MF_ASSERT(post != NULL);
        v = (float)((double)v * post[c] + post[s->oc + c]);
    }
    return v;
}

static void ref_check_shape(const mf_nn_conv_shape *s) {
    MF_ASSERT(s->n >= 1 && s->ih >= 1 && s->iw >= 1 && s->ic >= 1);
    MF_ASSERT(s->oh >= 1 && s->ow >= 1 && s->oc >= 1);
    MF_ASSERT(s->kh >= 1 && s->kw >= 1 && s->sh >= 1 && s->sw >= 1 && s->dh >= 1 && s->dw >= 1);
    MF_ASSERT(s->pad_t >= 0 && s->pad_l >= 0);
}

void mf_nn_conv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwio, const float *bias,
                      const float *alpha, const float *post, const float *residual, float *out) {
    ref_check_shape(s);
    for (int b = 0; b < s->n; b++)
        for (int y = 0; y < s->oh; y++)
            for (int x = 0; x < s->ow; x++)
                for (int o = 0; o < s->oc; o++) {
                    double acc = 0.0;
                    for (int ky = 0; ky < s->kh; ky++) {
                        int iy = y * s->sh - s->pad_t + ky * s->dh;
                        if (iy < 0 || iy >= s->ih) continue;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int ix = x * s->sw - s->pad_l + kx * s->dw;
                            if (ix < 0 || ix >= s->iw) continue;
                            const float *ip = in + (((size_t)b * s->ih + iy) * s->iw + ix) * s->ic;
                            const float *wp = w_hwio + (((size_t)ky * s->kw + kx) * s->ic) * s->oc + o;
                            for (int i = 0; i < s->ic; i++)
                                acc += (double)ip[i] * wp[(size_t)i * s->oc];
                        }
                    }
                    size_t idx = (((size_t)b * s->oh + y) * s->ow + x) * s->oc + o;
                    out[idx] = ref_epilogue(s, acc, o, bias, alpha, post, residual, idx);
                }
}

void mf_nn_dwconv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwim, const float *bias,
                        const float *alpha, const float *residual, float *out) {
    ref_check_shape(s);
    MF_ASSERT(!s->post);
    MF_ASSERT(s->oc % s->ic == 0);
    int m = s->oc / s->ic;
    for (int b = 0; b < s->n; b++)
        for (int y = 0; y < s->oh; y++)
            for (int x = 0; x < s->ow; x++)
                for (int o = 0; o < s->oc; o++) {
                    int c = o / m;
                    double acc = 0.0;
                    for (int ky = 0; ky < s->kh; ky++) {
                        int iy = y * s->sh - s->pad_t + ky * s->dh;
                        if (iy < 0 || iy >= s->ih) continue;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int ix = x * s->sw - s->pad_l + kx * s->dw;
                            if (ix < 0 || ix >= s->iw) continue;
                            float v = in[(((size_t)b * s->ih + iy) * s->iw + ix) * s->ic + c];
                            acc += (double)v * w_hwim[((size_t)ky * s->kw + kx) * s->oc + o];
                        }
                    }
                    size_t idx = (((size_t)b * s->oh + y) * s->ow + x) * s->oc + o;
                    out[idx] = ref_epilogue(s, acc, o, bias, alpha, NULL, residual, idx);
                }
}

/* Gather form of Conv2DBackpropInput: output pixel (Y, X) receives input pixel (y, x) through tap (ky, kx) when
 * Y == y*sh - pad_t + ky*dh and X == x*sw - pad_l + kx*dw. */
void mf_nn_deconv2d_ref(const mf_nn_conv_shape *s, const float *in, const float *w_hwoi, const float *bias,
                        const float *alpha, const float *residual, float *out) {
    ref_check_shape(s);
    MF_ASSERT(!s->post);
    for (int b = 0; b < s->n; b++)
        for (int Y = 0; Y < s->oh; Y++)
            for (int X = 0; X < s->ow; X++)
                for (int o = 0; o < s->oc; o++) {
                    double acc = 0.0;
                    for (int ky = 0; ky < s->kh; ky++) {
                        int ty = Y + s->pad_t - ky * s->dh;
                        if (ty < 0 || ty % s->sh != 0 || ty / s->sh >= s->ih) continue;
                        int y = ty / s->sh;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int tx = X + s->pad_l - kx * s->dw;
                            if (tx < 0 || tx % s->sw != 0 || tx / s->sw >= s->iw) continue;
                            int x = tx / s->sw;
                            const float *ip = in + (((size_t)b * s->ih + y) * s->iw + x) * s->ic;
                            const float *wp = w_hwoi + (((size_t)ky * s->kw + kx) * s->oc + o) * s->ic;
                            for (int i = 0; i < s->ic; i++)
                                acc += (double)ip[i] * wp[i];
                        }
                    }
                    size_t idx = (((size_t)b * s->oh + Y) * s->ow + X) * s->oc + o;
                    out[idx] = ref_epilogue(s, acc, o, bias, alpha, NULL, residual, idx);
                }
}
