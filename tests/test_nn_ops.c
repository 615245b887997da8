/* The generic ops' fast paths (src/nn/ops.c, speed21, speed42) against plain scalar loops written here, bit for bit:
 * a binary op between a whole tensor and a per-channel vector or a scalar (eval_binary's tile path: an RGB
 * normalisation is [1,150,150,3] - [3]), max / average pooling and the bilinear resize four channels at a time
 * (eval_pool, eval_resize). Every case also runs split over 1, 2 and 3 workers, the way a plan's pool calls
 * mf_nn_rop_eval. The inputs hold negative zeros
 * and a NaN, where a max that is not exactly `p > o ? p : o` or a reordered sum would differ. Also the planner's
 * absorption of max(x, +0) after a ReLU / ReLU6 convolution epilogue (plan_passes.c, speed21): Keras' clip_by_value
 * after a ReLU (faceres) must give the unfused graph's bits, and max(x, -0) (which turns +0 into -0) must stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/ops.h"

#include "mfmc/nn.h"

static uint64_t rng_state = 88172645463325252ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) & 0xffffff) / (float)0x800000 - 1.0f;
}

static void fill(float *v, size_t n, int specials) {
    for (size_t i = 0; i < n; i++) v[i] = 3.0f * frand();
    if (specials && n > 7) {
        v[1] = -0.0f, v[2] = 0.0f, v[5] = -0.0f;
        v[n / 2] = NAN;
    }
}

static float scalar_op(int op, float x, float y) {
    switch (op) {
    case MF_NN_OP_SUB: return x - y;
    case MF_NN_OP_MUL: return x * y;
    case MF_NN_OP_REALDIV: return x / y;
    case MF_NN_OP_MINIMUM: return x < y ? x : y;
    case MF_NN_OP_MAXIMUM: return x > y ? x : y;
    case MF_NN_OP_PRELU: return x < 0 ? x * y : x;
    default: return x + y;
    }
}

static mf_nn_shape shape4(int n, int h, int w, int c) { return (mf_nn_shape){4, {n, h, w, c}}; }

/* Runs r split over nth workers (ith = 0..nth-1 in turn, as the pool's threads would). */
static void eval_split(const mf_nn_rop *r, const void *const *in, void *out, int nth) {
    for (int t = 0; t < nth; t++) mf_nn_rop_eval(r, in, out, t, nth);
}

/* x [2,h,w,c] (op) v shaped vs (c values, or 1 for a scalar), vector first when v_first. */
static void check_binary(int op, int h, int w, int c, mf_nn_shape vs, int v_first) {
    mf_nn_shape xs = shape4(2, h, w, c);
    size_t n = (size_t)2 * h * w * c, nv = vs.ndim ? (size_t)vs.dim[vs.ndim - 1] : 1;
    float *x = malloc(n * sizeof *x), *v = malloc(nv * sizeof *v), *want = malloc(n * sizeof *want),
          *got = malloc(n * sizeof *got);
    assert_non_null(x), assert_non_null(v), assert_non_null(want), assert_non_null(got);
    fill(x, n, 1);
    fill(v, nv, 0);
    if (nv > 1) v[0] = -0.0f;
    for (size_t i = 0; i < n; i++) {
        float vi = v[nv > 1 ? i % (size_t)c : 0];
        want[i] = v_first ? scalar_op(op, vi, x[i]) : scalar_op(op, x[i], vi);
    }
    mf_nn_rop r;
    memset(&r, 0, sizeof r);
    r.op = op, r.n_in = 2, r.dtype = MF_NN_F32, r.out_shape = xs;
    r.in_shape[0] = v_first ? vs : xs, r.in_shape[1] = v_first ? xs : vs;
    const void *in[2] = {v_first ? (const void *)v : x, v_first ? (const void *)x : v};
    for (int nth = 1; nth <= 3; nth++) {
        memset(got, 0xff, n * sizeof *got);
        eval_split(&r, in, got, nth);
        if (memcmp(got, want, n * sizeof *got)) {
            size_t i = 0;
            while (!memcmp(got + i, want + i, sizeof *got)) i++;
            fprintf(stderr, "op %s x[2,%d,%d,%d] %s v (ndim %d, %zu values), %d workers: element %zu is %g, want %g\n",
                    mf_nn_op_name(op), h, w, c, v_first ? "after" : "before", vs.ndim, nv, nth, i, got[i], want[i]);
            fail();
        }
    }
    /* in place over the whole operand (out == x), as a planner may place it */
    if (!v_first) {
        float *xi = malloc(n * sizeof *xi);
        assert_non_null(xi);
        memcpy(xi, x, n * sizeof *xi);
        const void *in2[2] = {xi, v};
        mf_nn_rop_eval(&r, in2, xi, 0, 1);
        assert_memory_equal(xi, want, n * sizeof *xi);
        free(xi);
    }
    free(x), free(v), free(want), free(got);
}

static void test_binary_channel_vector(void **state) {
    (void)state;
    static const int ops[] = {MF_NN_OP_ADD,     MF_NN_OP_SUB,     MF_NN_OP_MUL,  MF_NN_OP_REALDIV,
                              MF_NN_OP_MINIMUM, MF_NN_OP_MAXIMUM, MF_NN_OP_PRELU};
    static const int chans[] = {1, 3, 4, 5, 8, 17, 64, 65, 300}; /* 65 and 300: above the tile path's limit */
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
        for (size_t k = 0; k < sizeof chans / sizeof *chans; k++) {
            int c = chans[k];
            for (int v_first = 0; v_first < 2; v_first++) {
                check_binary(ops[o], 7, 9, c, (mf_nn_shape){1, {c}}, v_first);
                check_binary(ops[o], 5, 3, c, shape4(1, 1, 1, c), v_first);
                check_binary(ops[o], 150, 150, c == 3 ? 3 : 1, (mf_nn_shape){1, {c == 3 ? 3 : 1}}, v_first);
            }
        }
}

static void test_binary_scalar(void **state) {
    (void)state;
    static const int ops[] = {MF_NN_OP_SUB, MF_NN_OP_REALDIV, MF_NN_OP_MAXIMUM, MF_NN_OP_MUL};
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
        for (int v_first = 0; v_first < 2; v_first++) {
            check_binary(ops[o], 11, 13, 3, (mf_nn_shape){0, {0}}, v_first);
            check_binary(ops[o], 4, 4, 33, (mf_nn_shape){1, {1}}, v_first);
        }
}

/* The pool as the scalar loop computed it before speed21: per output pixel, per tap in (iy, ix) order. */
static void pool_want(const mf_nn_conv_shape *s, int is_max, const float *x, float *y) {
    int c = s->ic;
    for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++) {
                float *o = y + (((size_t)b * s->oh + oy) * s->ow + ox) * c;
                int y0 = oy * s->sh - s->pad_t, x0 = ox * s->sw - s->pad_l;
                int ya = y0 < 0 ? 0 : y0, yb = y0 + s->kh > s->ih ? s->ih : y0 + s->kh;
                int xa = x0 < 0 ? 0 : x0, xb = x0 + s->kw > s->iw ? s->iw : x0 + s->kw;
                for (int ch = 0; ch < c; ch++) o[ch] = is_max ? -FLT_MAX : 0.0f;
                for (int iy = ya; iy < yb; iy++)
                    for (int ix = xa; ix < xb; ix++) {
                        const float *p = x + (((size_t)b * s->ih + iy) * s->iw + ix) * c;
                        for (int ch = 0; ch < c; ch++) o[ch] = is_max ? (p[ch] > o[ch] ? p[ch] : o[ch]) : o[ch] + p[ch];
                    }
                if (!is_max) {
                    int cnt = (yb - ya) * (xb - xa);
                    float inv = cnt > 0 ? 1.0f / (float)cnt : 0.0f;
                    for (int ch = 0; ch < c; ch++) o[ch] *= inv;
                }
            }
}

/* Non-positive values with zeros of both signs and NaNs (every 13th value): the max of most windows is a zero whose
 * sign, and whether a NaN survives, depend on the exact comparison and its operand order. */
static void fill_zeros(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = i % 13 == 6 ? NAN : i % 3 == 0 ? -0.0f : i % 3 == 1 ? 0.0f : -1.0f + frand();
}

static void check_pool(int is_max, int ih, int iw, int c, int k, int st, int pad, int zeros) {
    mf_nn_conv_shape s = {.n = 2, .ih = ih, .iw = iw, .ic = c, .oc = c, .kh = k, .kw = k, .sh = st, .sw = st,
                          .dh = 1, .dw = 1, .pad_t = pad, .pad_l = pad};
    s.oh = (ih + 2 * pad - k) / st + 1, s.ow = (iw + 2 * pad - k) / st + 1;
    size_t ni = (size_t)2 * ih * iw * c, no = (size_t)2 * s.oh * s.ow * c;
    float *x = malloc(ni * sizeof *x), *want = malloc(no * sizeof *want), *got = malloc(no * sizeof *got);
    assert_non_null(x), assert_non_null(want), assert_non_null(got);
    if (zeros) fill_zeros(x, ni);
    else fill(x, ni, 1);
    pool_want(&s, is_max, x, want);
    mf_nn_rop r;
    memset(&r, 0, sizeof r);
    r.op = is_max ? MF_NN_OP_MAXPOOL : MF_NN_OP_AVGPOOL, r.n_in = 1, r.dtype = MF_NN_F32, r.cs = s;
    r.in_shape[0] = shape4(2, ih, iw, c), r.out_shape = shape4(2, s.oh, s.ow, c);
    const void *in[1] = {x};
    for (int nth = 1; nth <= 3; nth++) {
        memset(got, 0xff, no * sizeof *got);
        eval_split(&r, in, got, nth);
        if (memcmp(got, want, no * sizeof *got)) {
            size_t i = 0;
            while (!memcmp(got + i, want + i, sizeof *got)) i++;
            fprintf(stderr, "%s pool %dx%dx%d k%d s%d pad %d, %d workers: element %zu is %g, want %g\n",
                    is_max ? "max" : "avg", ih, iw, c, k, st, pad, nth, i, got[i], want[i]);
            fail();
        }
    }
    free(x), free(want), free(got);
}

static void test_pool_vector_lanes(void **state) {
    (void)state;
    static const int chans[] = {1, 3, 4, 5, 8, 32, 35};
    for (int is_max = 0; is_max < 2; is_max++)
        for (size_t k = 0; k < sizeof chans / sizeof *chans; k++) {
            for (int zeros = 0; zeros < 2; zeros++) {
                check_pool(is_max, 72, 72, chans[k], 3, 2, 0, zeros); /* faceapi's max pool shape */
                check_pool(is_max, 9, 7, chans[k], 3, 2, 1, zeros);   /* windows cut by the border */
                check_pool(is_max, 8, 8, chans[k], 2, 2, 0, zeros);
                check_pool(is_max, 5, 6, chans[k], 3, 1, 1, zeros);
            }
        }
}

/* (speed42) The bilinear resize as the scalar loop computed it before its channels were vectorised: per output pixel
 * the four corners, the row interpolations, then the column one, one channel at a time. */
static void resize_want(int ih, int iw, int c, int oh, int ow, int ac, int hp, const float *x, float *y) {
    float sy = ac && oh > 1 ? (float)(ih - 1) / (float)(oh - 1) : (float)ih / (float)oh;
    float sx = ac && ow > 1 ? (float)(iw - 1) / (float)(ow - 1) : (float)iw / (float)ow;
    for (int b = 0; b < 2; b++)
        for (int oy = 0; oy < oh; oy++) {
            float fy = hp ? ((float)oy + 0.5f) * sy - 0.5f : (float)oy * sy, fy0 = floorf(fy), ly = fy - fy0;
            int y0 = (int)fy0 < 0 ? 0 : (int)fy0, y1 = (int)ceilf(fy) > ih - 1 ? ih - 1 : (int)ceilf(fy);
            if (y1 < 0) y1 = 0;
            for (int ox = 0; ox < ow; ox++) {
                float fx = hp ? ((float)ox + 0.5f) * sx - 0.5f : (float)ox * sx, fx0 = floorf(fx), lx = fx - fx0;
                int x0 = (int)fx0 < 0 ? 0 : (int)fx0, x1 = (int)ceilf(fx) > iw - 1 ? iw - 1 : (int)ceilf(fx);
                if (x1 < 0) x1 = 0;
                for (int ch = 0; ch < c; ch++) {
                    float p00 = x[(((size_t)b * ih + y0) * iw + x0) * c + ch], p01 = x[(((size_t)b * ih + y0) * iw + x1) * c + ch];
                    float p10 = x[(((size_t)b * ih + y1) * iw + x0) * c + ch], p11 = x[(((size_t)b * ih + y1) * iw + x1) * c + ch];
                    float top = p00 + (p01 - p00) * lx, bot = p10 + (p11 - p10) * lx;
                    y[(((size_t)b * oh + oy) * ow + ox) * c + ch] = top + (bot - top) * ly;
                }
            }
        }
}

static void check_resize(int ih, int iw, int c, int oh, int ow, int ac, int hp) {
    size_t ni = (size_t)2 * ih * iw * c, no = (size_t)2 * oh * ow * c;
    float *x = malloc(ni * sizeof *x), *want = malloc(no * sizeof *want), *got = malloc(no * sizeof *got);
    assert_non_null(x), assert_non_null(want), assert_non_null(got);
    fill(x, ni, 1);
    resize_want(ih, iw, c, oh, ow, ac, hp, x, want);
    mf_nn_rop r;
    memset(&r, 0, sizeof r);
    r.op = MF_NN_OP_RESIZE_BILINEAR, r.n_in = 1, r.dtype = MF_NN_F32, r.axis = ac << 1 | hp;
    r.in_shape[0] = shape4(2, ih, iw, c), r.out_shape = shape4(2, oh, ow, c);
    const void *in[1] = {x};
    for (int nth = 1; nth <= 3; nth++) {
        memset(got, 0xff, no * sizeof *got);
        eval_split(&r, in, got, nth);
        for (size_t i = 0; i < no; i++) /* NaN-aware: a NaN input gives NaN outputs in both */
            if (memcmp(got + i, want + i, sizeof *got) && !(isnan(got[i]) && isnan(want[i]))) {
                fprintf(stderr, "resize %dx%dx%d -> %dx%d ac %d hp %d, %d workers: element %zu is %g, want %g\n", ih,
                        iw, c, oh, ow, ac, hp, nth, i, got[i], want[i]);
                fail();
            }
    }
    free(x), free(want), free(got);
}

/* The resize four channels at a time (the detector's 2x upsamplings, 24x24x48 -> 48x48x48 and 12x12x64 -> 24x24x64)
 * gives the scalar loop's bits on every channel count (vector lanes and tails), corner mode, half-pixel centres,
 * upsampling and downsampling, split over 1-3 workers. */
static void test_resize_vector_lanes(void **state) {
    (void)state;
    static const int chans[] = {1, 3, 4, 5, 8, 35, 48};
    for (size_t k = 0; k < sizeof chans / sizeof *chans; k++)
        for (int ac = 0; ac < 2; ac++)
            for (int hp = 0; hp < 2 - ac; hp++) {
                check_resize(24, 24, chans[k], 48, 48, ac, hp);
                check_resize(7, 5, chans[k], 3, 11, ac, hp);
                check_resize(1, 6, chans[k], 4, 4, ac, hp);
            }
}

/* x [1,6,7,4] -> Conv2D 3x3 (4 -> 5 channels, SAME) -> Relu -> Minimum(6) -> Maximum(zero): the model and its input. */
static mf_nn_model_t *clip_model(float zero) {
    mf_nn_model_t *m = NULL;
    assert_int_equal(mf_nn_graph_init(&m), MF_OK);
    int x = mf_nn_graph_add(m, "x", MF_NN_OP_PLACEHOLDER, NULL, 0);
    assert_true(x >= 0);
    m->nodes[x].shape = shape4(1, 6, 7, 4);
    m->nodes[x].dtype = MF_NN_F32;
    m->inputs = malloc(sizeof *m->inputs);
    assert_non_null(m->inputs);
    m->inputs[m->n_inputs++] = x;
    float *w = malloc(3 * 3 * 4 * 5 * sizeof *w), *six = malloc(sizeof *six), *z = malloc(sizeof *z);
    assert_non_null(w), assert_non_null(six), assert_non_null(z);
    for (int i = 0; i < 3 * 3 * 4 * 5; i++) w[i] = frand();
    *six = 6.0f, *z = zero;
    mf_nn_shape ws = shape4(3, 3, 4, 5), sc = {0, {0}};
    int wi = mf_nn_graph_add_const(m, "w", MF_NN_F32, &ws, w);
    int si = mf_nn_graph_add_const(m, "six", MF_NN_F32, &sc, six);
    int zi = mf_nn_graph_add_const(m, "zero", MF_NN_F32, &sc, z);
    assert_true(wi >= 0 && si >= 0 && zi >= 0);
    int in[2] = {x, wi};
    int c = mf_nn_graph_add(m, "conv", MF_NN_OP_CONV2D, in, 2);
    assert_true(c >= 0);
    m->nodes[c].a.padding = MF_NN_PAD_SAME;
    int r = mf_nn_graph_add(m, "relu", MF_NN_OP_RELU, &c, 1);
    int in2[2] = {r, si};
    int mn = mf_nn_graph_add(m, "clip/Minimum", MF_NN_OP_MINIMUM, in2, 2);
    int in3[2] = {mn, zi};
    int y = mf_nn_graph_add(m, "clip", MF_NN_OP_MAXIMUM, in3, 2);
    assert_true(r >= 0 && mn >= 0 && y >= 0);
    assert_int_equal(mf_nn_graph_add_output(m, y, "clip"), MF_OK);
    return m;
}

/* Runs model m planned with or without fusion on `in`; copies the output to out, returns the plan's steps. */
static int run_clip(const mf_nn_model_t *m, int no_fuse, const float *in, float *out, size_t n) {
    mf_nn_plan_opts o = {.isa = -1, .no_fuse = no_fuse};
    mf_nn_plan_t *p = NULL;
    assert_int_equal(mf_nn_plan_create(m, &o, &p), MF_OK);
    mf_nn_shape s;
    float *x = mf_nn_plan_input(p, 0, &s);
    assert_int_equal(mf_nn_shape_numel(&s), 6 * 7 * 4);
    memcpy(x, in, 6 * 7 * 4 * sizeof *x);
    assert_int_equal(mf_nn_plan_run(p), MF_OK);
    const float *y = mf_nn_plan_output(p, 0, &s);
    assert_int_equal(mf_nn_shape_numel(&s), n);
    memcpy(out, y, n * sizeof *out);
    mf_nn_plan_stats st;
    mf_nn_plan_get_stats(p, &st);
    mf_nn_plan_free(p);
    return st.steps;
}

static void test_clip_after_relu_fused_exactly(void **state) {
    (void)state;
    enum { N = 6 * 7 * 5 };
    float in[6 * 7 * 4], ref[N], got[N];
    for (int i = 0; i < 6 * 7 * 4; i++) in[i] = 6.0f * frand();
    for (int i = 0; i < 4 * 7 * 4; i++) in[i] = 0.0f; /* rows of zeros: outputs of exactly zero (+0 or -0) */
    for (int neg = 0; neg < 2; neg++) {
        mf_nn_model_t *m = clip_model(neg ? -0.0f : 0.0f);
        int steps_ref = run_clip(m, 1, in, ref, N), steps = run_clip(m, 0, in, got, N);
        int zeros = 0, sixes = 0, neg_zeros = 0;
        for (int i = 0; i < N; i++) {
            zeros += ref[i] == 0.0f, sixes += ref[i] == 6.0f;
            neg_zeros += ref[i] == 0.0f && signbit(ref[i]);
        }
        assert_true(zeros > 10 && sixes > 10); /* both ends of the clip are exercised */
        assert_int_equal(neg_zeros > 0, neg);  /* max(+0, -0) is -0: only the -0 graph has them */
        assert_int_equal(steps_ref, 4);        /* conv, relu, minimum, maximum */
        assert_int_equal(steps, neg ? 2 : 1);  /* +0: everything in the conv's epilogue; -0: the max stays */
        if (memcmp(got, ref, sizeof got)) {
            int i = 0;
            while (!memcmp(got + i, ref + i, sizeof *got)) i++;
            fail_msg("zero %s: fused output %d is %g, unfused %g", neg ? "-0" : "+0", i, got[i], ref[i]);
        }
        mf_nn_model_free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_channel_vector),
        cmocka_unit_test(test_binary_scalar),
        cmocka_unit_test(test_pool_vector_lanes),
        cmocka_unit_test(test_resize_vector_lanes),
        cmocka_unit_test(test_clip_after_relu_fused_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
