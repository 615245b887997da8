/* The anonymizer's constructors: mf_anon_create (its recognizers load their own models) and mf_anon_create_from
 * (its recognizers are sessions over loaded models shared with the caller's other sessions). Both build the
 * anonymizer in anon.c (mf_anon_create_impl). */
#include "anon/internal.h"

int mf_anon_create(const mf_anon_opts *opts, mf_anon_t **out) { return mf_anon_create_impl(opts, NULL, out); }

int mf_anon_create_from(mf_face_models_t *models, const mf_anon_opts *opts, mf_anon_t **out) {
    if (!out) return mf_error_set(MF_ERR_ARG, "anon: null argument");
    *out = NULL;
    if (!models || !opts) return mf_error_set(MF_ERR_ARG, "anon: models and options are required");
    mf_anon_opts o = *opts;
    if (!o.models_root) o.models_root = mf_face_models_root(models);
    return mf_anon_create_impl(&o, models, out);
}
