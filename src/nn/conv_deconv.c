/* Transposed convolutions: per output class, the taps, the im2col and one packed GEMM (conv_gemm.c drives it). */
#include "nn/conv_internal.h"

/* Taps t in [0, k) with t*d == r (mod st): the kernel rows (or columns) a transposed-conv output class uses. */
static int deconv_ntaps(int k, int d, int st, int r) {
    int cnt = 0;
    for (int t = 0; t < k; t++)
        cnt += (t * d) % st == r;
    return cnt;
}
static int deconv_tap(int k, int d, int st, int r, int idx) { /* idx-th such tap */
    for (int t = 0; t < k; t++)
        if ((t * d) % st == r && idx-- == 0) return t;
    MF_ASSERT(!"tap index out of range");
}

/* Deconv weights [kh][kw][oc][ic]; depth index of class (ry, rx): (tap of the class)*ic + i. */
static float get_hwoi_class(const void *ctx, size_t k, int n) {
    const pack_ctx *c = ctx;
    const mf_nn_conv_shape *s = c->s;
    int tap = (int)(k / (size_t)s->ic), i = (int)(k % (size_t)s->ic);
    int nx = deconv_ntaps(s->kw, s->dw, s->sw, c->rx);
    int ky = deconv_tap(s->kh, s->dh, s->sh, c->ry, tap / nx), kx = deconv_tap(s->kw, s->dw, s->sw, c->rx, tap % nx);
    return c->w[(((size_t)ky * s->kw + (size_t)kx) * s->oc + (size_t)n) * s->ic + (size_t)i];
}

/* Transposed convolution, output class (ry, rx) = ((Y + pad_t) % sh, (X + pad_l) % sw): only the taps with
 * ky*dh == ry (mod sh) and kx*dw == rx (mod sw) reach such outputs (from input ((Y+pad_t-ky*dh)/sh, ...)), so
 * each class is a GEMM over its own taps, without the zero rows of a plain gather (3/4 of them for stride 2).
 * Rows: `rows` outputs X = X0, X0+sw, ... of output row Y of batch item b; depth [k0, k0+kc) of the class. */
static void im2col_deconv(const mf_nn_conv_shape *s, const float *in, float *dst, size_t b, int Y, int ry, int X0,
                          int rx, int rows, size_t k0, size_t kc) {
    const size_t ic = (size_t)s->ic;
    const int ny = deconv_ntaps(s->kh, s->dh, s->sh, ry), nx = deconv_ntaps(s->kw, s->dw, s->sw, rx);
    const size_t kend = k0 + kc;
    /* Tap by tap; along the row of outputs X0 + r*sw the input column is x0 + r (contiguous pixels). */
    for (int ty = 0; ty < ny; ty++) {
        const int ky = deconv_tap(s->kh, s->dh, s->sh, ry, ty);
        const int yy = Y + s->pad_t - ky * s->dh; /* a multiple of sh */
        const int y_ok = yy >= 0 && yy / s->sh < s->ih;
        const float *in_row = y_ok ? in + ((b * (size_t)s->ih + (size_t)(yy / s->sh)) * (size_t)s->iw) * ic : NULL;
        for (int tx = 0; tx < nx; tx++) {
            const size_t t0 = ((size_t)ty * nx + (size_t)tx) * ic;
            if (t0 + ic <= k0 || t0 >= kend) continue;
            const size_t lo = t0 < k0 ? k0 : t0, hi = t0 + ic < kend ? t0 + ic : kend;
            const int kx = deconv_tap(s->kw, s->dw, s->sw, rx, tx);
            const int x0 = (X0 + s->pad_l - kx * s->dw) / s->sw; /* exact division */
            float *d = dst + (lo - k0);
            for (int r = 0; r < rows; r++, d += kc) {
                const int x = x0 + r;
                if (y_ok && x >= 0 && x < s->iw)
                    copy_f(d, in_row + (size_t)x * ic + (lo - t0), hi - lo);
                else
                    zero_f(d, hi - lo);
            }
        }
    }
}

static gemm_plan deconv_class_plan(const mf_nn_conv_shape *s, int ry, int rx) {
    size_t K =
        (size_t)deconv_ntaps(s->kh, s->dh, s->sh, ry) * (size_t)deconv_ntaps(s->kw, s->dw, s->sw, rx) * (size_t)s->ic;
    /* never on AMX tiles: a call gets one output row's pixels of a class, too few rows for them */
    return mf_nn_conv_plan_gemm_k(s, K, MF_NN_ISA_AVX2);
}

static size_t deconv_class_offset(const mf_nn_conv_shape *s, int cls) {
    size_t off = 0;
    for (int c = 0; c < cls; c++) {
        gemm_plan p = deconv_class_plan(s, c / s->sw, c % s->sw);
        off += round_up(mf_nn_conv_gemm_packed_size(&p), 16);
    }
    return off;
}

static size_t deconv_kc_max(const mf_nn_conv_shape *s) {
    size_t kc = 0;
    for (int c = 0; c < s->sh * s->sw; c++) {
        gemm_plan p = deconv_class_plan(s, c / s->sw, c % s->sw);
        if (p.kc > kc) kc = p.kc;
    }
    return kc;
}

size_t mf_nn_deconv2d_packed_size(const mf_nn_conv_shape *s, mf_nn_isa isa) {
    check_shape(s);
    (void)isa;
    return deconv_class_offset(s, s->sh * s->sw);
}

void mf_nn_deconv2d_pack(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *w_hwoi, const float *bias,
                         const float *alpha, float *packed) {
    check_pack_args(s, isa, alpha, packed);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    for (int c = 0; c < s->sh * s->sw; c++) {
        gemm_plan p = deconv_class_plan(s, c / s->sw, c % s->sw);
        pack_ctx ctx = {s, w_hwoi, c / s->sw, c % s->sw};
        mf_nn_conv_gemm_pack(&p, get_hwoi_class, &ctx, bias, alpha, NULL, packed + deconv_class_offset(s, c));
    }
}

size_t mf_nn_deconv2d_scratch_size(const mf_nn_conv_shape *s, mf_nn_isa isa, int nth) {
    check_shape(s);
    (void)isa;
    MF_ASSERT(nth >= 1);
    return round_up((size_t)MF_NN_GEMM_MC * deconv_kc_max(s), 16) * (size_t)nth;
}

void mf_nn_deconv2d_run(const mf_nn_conv_shape *s, mf_nn_isa isa, const float *packed, const float *in,
                        const float *residual, float *out, float *scratch, int ith, int nth) {
    check_shape(s);
    MF_ASSERT(!s->post); /* only plain convolutions have a post-activation affine */
    MF_ASSERT(nth >= 1 && ith >= 0 && ith < nth);
    check_aligned(packed);
    const isa_ops ops = mf_nn_conv_ops_for(isa);
    const size_t slice = round_up((size_t)MF_NN_GEMM_MC * deconv_kc_max(s), 16);
    float *buf = scratch;
    if (slice) {
        MF_ASSERT(scratch != NULL);
        check_aligned(scratch);
        buf = scratch + slice * (size_t)ith;
    }
    /* Threads take contiguous output rows. */
    const size_t R = (size_t)s->n * s->oh;
    const size_t q0 = R * (size_t)ith / (size_t)nth, q1 = R * (size_t)(ith + 1) / (size_t)nth;
    const size_t oc = (size_t)s->oc, ldc = (size_t)s->sw * oc;
    for (size_t q = q0; q < q1; q++) {
        const size_t b = q / (size_t)s->oh;
        const int Y = (int)(q % (size_t)s->oh);
        const int ry = (Y + s->pad_t) % s->sh;
        for (int rx = 0; rx < s->sw; rx++) {
            const int X0 = ((rx - s->pad_l) % s->sw + s->sw) % s->sw; /* first X with (X + pad_l) % sw == rx */
            if (X0 >= s->ow) continue;
            const int cnt = (s->ow - X0 + s->sw - 1) / s->sw;
            const int cls = ry * s->sw + rx;
            const gemm_plan p = deconv_class_plan(s, ry, rx);
            const float *pk = packed + deconv_class_offset(s, cls);
            for (int mb = 0; mb < cnt; mb += MF_NN_GEMM_MC) {
                const int rows = cnt - mb < MF_NN_GEMM_MC ? cnt - mb : MF_NN_GEMM_MC;
                const int Xf = X0 + mb * s->sw;
                const size_t o = (q * (size_t)s->ow + (size_t)Xf) * oc;
                /* A class with a single tap whose inputs all exist (kernel == stride upsampling, away from the
                 * borders) reads consecutive input pixels: use them in place, without an im2col copy. */
                const float *direct = NULL;
                if (p.K == (size_t)s->ic) {
                    const int ky = deconv_tap(s->kh, s->dh, s->sh, ry, 0), kx = deconv_tap(s->kw, s->dw, s->sw, rx, 0);
                    const int yy = Y + s->pad_t - ky * s->dh;
                    const int x0 = (Xf + s->pad_l - kx * s->dw) / s->sw;
                    if (yy >= 0 && yy / s->sh < s->ih && x0 >= 0 && x0 + rows <= s->iw)
                        direct = in + ((b * (size_t)s->ih + (size_t)(yy / s->sh)) * (size_t)s->iw + (size_t)x0) *
                                          (size_t)s->ic;
                }
                for (int kb = 0; kb < p.nkb; kb++) {
                    const size_t k0 = (size_t)kb * p.kc;
                    const size_t kc = p.K - k0 < p.kc ? p.K - k0 : p.kc;
                    if (!direct && kc) im2col_deconv(s, in, buf, b, Y, ry, Xf, rx, rows, k0, kc);
                    mf_nn_conv_gemm_panels(&ops, &p, pk, 0, p.npanels, kb, direct ? direct + k0 : buf,
                                           direct ? p.K : kc, rows, out + o, ldc, residual ? residual + o : NULL,
                                           s->act, 0);
                }
            }
        }
    }
}
