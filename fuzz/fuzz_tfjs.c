/* libFuzzer target for the TF.js graph-model loader and the planner.
 * Input: u32 little-endian JSON length, the model.json bytes, then the concatenated weight shards. */
#include "mfmc/nn.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    uint32_t jl = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    if (jl > size - 4) jl = (uint32_t)(size - 4);
    const char *json = (const char *)data + 4;
    const uint8_t *w = data + 4 + jl;
    mf_nn_model_t *m = NULL;
    if (mf_nn_model_load_tfjs_mem(json, jl, w, size - 4 - jl, &m) == MF_OK) {
        /* plan with a small cap so hostile shapes fail fast instead of allocating gigabytes */
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
