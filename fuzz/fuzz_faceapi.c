/* libFuzzer target for the face-api weights-manifest loader (graph built in C from the weights).
 * Input: u32 little-endian manifest length, the manifest JSON, then the weight bytes. */
#include "mfmc/nn.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    uint32_t jl = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    if (jl > size - 4) jl = (uint32_t)(size - 4);
    mf_nn_model_t *m = NULL;
    if (mf_nn_model_load_faceapi_recognition_mem((const char *)data + 4, jl, data + 4 + jl, size - 4 - jl, &m) == MF_OK) {
        mf_nn_plan_opts o = {.isa = -1, .max_bytes = 256u << 20};
        mf_nn_plan_t *p = NULL;
        if (mf_nn_plan_create(m, &o, &p) == MF_OK) mf_nn_plan_free(p);
        mf_nn_model_free(m);
    }
    return 0;
}
