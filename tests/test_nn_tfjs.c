/* TF.js graph loader and planner on small hand-written graphs: a valid one runs and gives the right numbers,
 * defective ones are refused with a message naming the node or the defect (never an assertion or a crash).
 * Regression cases from fuzzing live here too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mfmc/nn.h"

/* One Placeholder x (shape xs), a Const filter w [3][3][3][2] (weights 0.5 each), then `body` nodes; the
 * output is node "y". The weights also hold an int32 [4][2] "pads" (H padded by 2 and 2) for graphs with a Pad. */
static char *graph_json(const char *xs, const char *body) {
    static const char *fmt =
        "{\"modelTopology\":{\"node\":["
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
        "\"shape\":{\"shape\":{\"dim\":[%s]}}}},"
        "{\"name\":\"w\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},\"value\":{\"tensor\":"
        "{\"dtype\":\"DT_FLOAT\",\"tensorShape\":{\"dim\":[{\"size\":\"3\"},{\"size\":\"3\"},{\"size\":\"3\"},"
        "{\"size\":\"2\"}]}}}}},"
        "%s]},"
        "\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[3,3,3,2],"
        "\"dtype\":\"float32\"},{\"name\":\"pads\",\"shape\":[4,2],\"dtype\":\"int32\"}]}]}";
    size_t n = strlen(fmt) + strlen(xs) + strlen(body) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, fmt, xs, body);
    return s;
}

#define X_1X4X5X3 "{\"size\":\"1\"},{\"size\":\"4\"},{\"size\":\"5\"},{\"size\":\"3\"}" /* input shape */

static const char *CONV_Y = "{\"name\":\"y\",\"op\":\"Conv2D\",\"input\":[\"%s\",\"w\"],\"attr\":{"
                            "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},"
                            "\"padding\":{\"s\":\"VkFMSUQ=\"},\"data_format\":{\"s\":\"TkhXQw==\"},"
                            "\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},"
                            "\"T\":{\"type\":\"DT_FLOAT\"}}}";

static union {
    struct {
        float w[54];
        int32_t pads[8];
    } f;
    uint8_t bytes[54 * 4 + 8 * 4];
} weights;

/* Loads and plans; returns the status of whichever failed first (MF_OK if both worked) with *p set on success. */
static int load_and_plan(const char *json, mf_nn_model_t **m, mf_nn_plan_t **p) {
    const int32_t pads[8] = {0, 0, 2, 2, 0, 0, 0, 0};
    for (int i = 0; i < 54; i++)
        weights.f.w[i] = 0.5f;
    memcpy(weights.f.pads, pads, sizeof pads);
    *m = NULL;
    *p = NULL;
    int st = mf_nn_model_load_tfjs_mem(json, strlen(json), weights.bytes, sizeof weights.bytes, m);
    if (st) return st;
    mf_nn_plan_opts o = {.isa = -1};
    st = mf_nn_plan_create(*m, &o, p);
    if (st) {
        mf_nn_model_free(*m);
        *m = NULL;
    }
    return st;
}

/* Loads and plans a graph that must be accepted, runs it on an input of ones; returns its output. */
static const float *run_on_ones(const char *js, mf_nn_model_t **m, mf_nn_plan_t **p, mf_nn_shape *sh) {
    if (load_and_plan(js, m, p)) fail_msg("valid graph refused: %s", mf_error_get());
    float *in = mf_nn_plan_input(*p, 0, sh);
    for (size_t i = 0; i < mf_nn_shape_numel(sh); i++)
        in[i] = 1.0f;
    assert_int_equal(mf_nn_plan_run(*p), MF_OK);
    return mf_nn_plan_output(*p, 0, sh);
}

static void test_valid_conv(void **state) {
    (void)state;
    char body[1024];
    snprintf(body, sizeof body, CONV_Y, "x");
    char *js = graph_json(X_1X4X5X3, body);
    mf_nn_model_t *m;
    mf_nn_plan_t *p;
    mf_nn_shape sh;
    const float *out = run_on_ones(js, &m, &p, &sh);
    assert_int_equal(sh.ndim, 4);
    assert_int_equal(sh.dim[1], 2);
    assert_int_equal(sh.dim[2], 3);
    assert_int_equal(sh.dim[3], 2);
    for (size_t i = 0; i < mf_nn_shape_numel(&sh); i++)
        assert_float_equal(out[i], 27 * 0.5f, 1e-5f); /* 3x3x3 taps of 1 * 0.5 */
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
    free(js);
}

/* Found by fuzz_tfjs: an input with batch size 0 reached the convolution kernels' size assertion. Inputs with
 * a zero dimension are refused by the loader; a convolution on an empty tensor by the planner (defence in depth:
 * empty tensors can also come out of slicing). */
static void test_empty_input_refused(void **state) {
    (void)state;
    char body[1024];
    snprintf(body, sizeof body, CONV_Y, "x");
    const char *shapes[] = {"{\"size\":\"0\"},{\"size\":\"4\"},{\"size\":\"5\"},{\"size\":\"3\"}",
                            "{\"size\":\"1\"},{\"size\":\"0\"},{\"size\":\"5\"},{\"size\":\"3\"}",
                            "{\"size\":\"1\"},{\"size\":\"4\"},{\"size\":\"5\"},{\"size\":\"0\"}"};
    for (int i = 0; i < 3; i++) {
        char *js = graph_json(shapes[i], body);
        mf_nn_model_t *m;
        mf_nn_plan_t *p;
        assert_int_not_equal(load_and_plan(js, &m, &p), MF_OK);
        assert_non_null(strstr(mf_error_get(), "input x: empty"));
        free(js);
    }
}

/* A Pad on H folded into the convolution (planner fusion): border rows see fewer real input rows. */
static void test_pad_fused(void **state) {
    (void)state;
    char body[2048];
    int k = snprintf(
        body, sizeof body,
        "{\"name\":\"pads\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_INT32\"},\"value\":{"
        "\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{\"dim\":[{\"size\":\"4\"},{\"size\":\"2\"}]}}}}},"
        "{\"name\":\"xp\",\"op\":\"Pad\",\"input\":[\"x\",\"pads\"],\"attr\":{\"T\":{\"type\":\"DT_FLOAT\"}}},");
    snprintf(body + k, sizeof body - (size_t)k, CONV_Y, "xp");
    char *js = graph_json(X_1X4X5X3, body);
    mf_nn_model_t *m;
    mf_nn_plan_t *p;
    mf_nn_shape sh;
    const float *out = run_on_ones(js, &m, &p, &sh);
    assert_int_equal(sh.dim[1], 6);
    assert_int_equal(sh.dim[2], 3);
    const int real_rows[6] = {1, 2, 3, 3, 2, 1};
    for (int y = 0; y < 6; y++)
        for (int i = 0; i < 3 * 2; i++)
            assert_float_equal(out[y * 6 + i], real_rows[y] * 3 * 3 * 0.5f, 1e-5f);
    mf_nn_plan_free(p);
    mf_nn_model_free(m);
    free(js);
}

static void test_unsupported_op_named(void **state) {
    (void)state;
    char *js = graph_json(X_1X4X5X3, "{\"name\":\"y\",\"op\":\"FancyOp\",\"input\":[\"x\"]}");
    mf_nn_model_t *m;
    mf_nn_plan_t *p;
    assert_int_not_equal(load_and_plan(js, &m, &p), MF_OK);
    assert_non_null(strstr(mf_error_get(), "FancyOp"));
    free(js);
}

static void test_short_weights_refused(void **state) {
    (void)state;
    char body[1024];
    snprintf(body, sizeof body, CONV_Y, "x");
    char *js = graph_json(X_1X4X5X3, body);
    mf_nn_model_t *m = NULL;
    for (size_t len = 0; len < sizeof weights.bytes; len += 4)
        assert_int_not_equal(mf_nn_model_load_tfjs_mem(js, strlen(js), weights.bytes, len, &m), MF_OK);
    assert_null(m);
    free(js);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_conv),
        cmocka_unit_test(test_empty_input_refused),
        cmocka_unit_test(test_pad_fused),
        cmocka_unit_test(test_unsupported_op_named),
        cmocka_unit_test(test_short_weights_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
