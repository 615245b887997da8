/* libFuzzer target for the TFLite flatbuffer loader (src/nn/tflite*.c) and the planner: any byte string is loaded
 * as a .tflite file; a loaded model is planned (small cap, so hostile shapes fail fast) and run on zeros.
 * Seeds: fuzz/corpus/tflite/ (the hand-built models of tests/test_nn_tflite.c, written with
 * MFMC_TFLITE_SEED_DIR=fuzz/corpus/tflite build/rel/tests/test_nn_tflite) and, from the models folder,
 * expo/MobileFaceNet.tflite (tools/run-fuzz.sh). */
#include "mfmc/nn.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mf_nn_model_t *m = NULL;
    if (mf_nn_model_load_tflite_mem(data, size, &m) == MF_OK) {
        mf_nn_plan_opts o = {.isa = -1, .max_bytes = 64u << 20};
        mf_nn_plan_t *p = NULL;
        if (mf_nn_plan_create(m, &o, &p) == MF_OK) {
            for (int i = 0; i < mf_nn_model_input_count(m); i++) {
                mf_nn_shape sh;
                float *in = mf_nn_plan_input(p, i, &sh);
                memset(in, 0, mf_nn_shape_numel(&sh) * sizeof(float));
            }
            mf_nn_plan_run(p);
            mf_nn_plan_free(p);
        }
        mf_nn_model_free(m);
    }
    return 0;
}
