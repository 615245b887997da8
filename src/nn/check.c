/* What every model user does after loading: pick the loader of a file format, check the input shape, find an
 * output of known size, refuse non-finite outputs. One copy here instead of one per face model. */
#include "mfmc/nn.h"

#include <math.h>

int mf_nn_model_load(const char *path, mf_nn_format format, mf_nn_model_t **out) {
    switch (format) {
    case MF_NN_FORMAT_TFJS: return mf_nn_model_load_tfjs(path, out);
    case MF_NN_FORMAT_ONNX: return mf_nn_model_load_onnx(path, out);
    case MF_NN_FORMAT_FACEAPI_RECOGNITION: return mf_nn_model_load_faceapi_recognition(path, out);
    case MF_NN_FORMAT_TFLITE: return mf_nn_model_load_tflite(path, out);
    }
    *out = NULL;
    return mf_error_set(MF_ERR_ARG, "%s: unknown model format %d", path, (int)format);
}

int mf_nn_plan_check_input(mf_nn_plan_t *plan, int i, int h, int w, int c, const char *what) {
    mf_nn_shape sh;
    mf_nn_plan_input(plan, i, &sh);
    if (sh.ndim != 4 || sh.dim[0] != 1 || sh.dim[1] != h || sh.dim[2] != w || sh.dim[3] != c)
        return mf_error_set(MF_ERR_FORMAT, "%s: input is not [1,%d,%d,%d]", what, h, w, c);
    return MF_OK;
}

int mf_nn_plan_find_output(const mf_nn_plan_t *plan, const char *name, size_t numel, const char *what, int *index) {
    *index = mf_nn_plan_output_index(plan, name);
    mf_nn_shape sh;
    if (*index < 0) return mf_error_set(MF_ERR_FORMAT, "%s: no output %s", what, name);
    mf_nn_plan_output(plan, *index, &sh);
    if (mf_nn_shape_numel(&sh) != numel) {
        *index = -1;
        return mf_error_set(MF_ERR_FORMAT, "%s: output %s does not have %zu values", what, name, numel);
    }
    return MF_OK;
}

int mf_nn_check_finite(const float *v, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return mf_error_set(MF_ERR_MODEL,
                                "model %s computes non-finite values (damaged weights? `mfmc models` "
                                "checks the files)",
                                what);
    return MF_OK;
}
