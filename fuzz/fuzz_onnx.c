/* libFuzzer target for the ONNX loader (src/nn/onnx.c, src/nn/onnx_pb.c) and, for small models, the planner
 * and one run. The input is the .onnx file itself.
 *
 * Contract checked: a refused file leaves *out NULL and sets a message; a loaded model has at least one input and
 * output. Models with more than 1 MiB of weights are only loaded (planning fr_feature-sized models on every
 * mutation would make the fuzzer 100x slower without reaching new loader code); planning runs under a 64 MiB cap
 * so hostile shapes fail fast, and a run happens when it costs at most 20 MFLOP.
 *
 * Build: tools/run-fuzz.sh (`make fuzz`, FUZZ_ONLY=onnx), or by hand (command in docs/onnx.md): clang with
 * -fsanitize=fuzzer,address,undefined -mavx2 -mfma -mf16c, this file, every src/nn and src/core source, -lcjson.
 * Seeds: fuzz/corpus/onnx (hand-built models from tests/test_nn_onnx.c, MFMC_ONNX_SEED_DIR) plus fr_feature.onnx. */
#include "mfmc/nn.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mf_nn_model_t *m = (mf_nn_model_t *)1;
    mf_error_clear();
    int st = mf_nn_model_load_onnx_mem(data, size, &m);
    if (st != MF_OK) {
        MF_ASSERT(st < 0 && m == NULL && mf_error_get()[0] != '\0');
        return 0;
    }
    MF_ASSERT(mf_nn_model_input_count(m) >= 1 && mf_nn_model_output_count(m) >= 1);
    for (int i = 0; i < mf_nn_model_output_count(m); i++)
        MF_ASSERT(mf_nn_model_output_name(m, i) != NULL);
    if (mf_nn_model_weight_bytes(m) <= (1u << 20) && mf_nn_model_node_count(m) <= 4096) {
        mf_nn_plan_opts o = {.isa = -1, .max_bytes = 64u << 20};
        mf_nn_plan_t *p = NULL;
        if (mf_nn_plan_create(m, &o, &p) == MF_OK) {
            mf_nn_plan_stats ps;
            mf_nn_plan_get_stats(p, &ps);
            if (ps.flops <= 2e7) {
                for (int i = 0; i < mf_nn_model_input_count(m); i++) {
                    mf_nn_shape sh;
                    float *in = mf_nn_plan_input(p, i, &sh);
                    for (size_t k = 0, n = mf_nn_shape_numel(&sh); k < n; k++)
                        in[k] = (float)(k % 7) - 3.0f;
                }
                mf_nn_plan_run(p);
                for (int i = 0; i < mf_nn_model_output_count(m); i++) {
                    mf_nn_shape sh;
                    const float *out = mf_nn_plan_output(p, i, &sh);
                    volatile float sink = 0;
                    for (size_t k = 0, n = mf_nn_shape_numel(&sh); k < n; k++)
                        sink += out[k];
                    (void)sink;
                }
            }
            mf_nn_plan_free(p);
        } else
            MF_ASSERT(p == NULL && mf_error_get()[0] != '\0');
    }
    mf_nn_model_free(m);
    return 0;
}
