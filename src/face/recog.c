/* Face recognizers: sessions over the shared models and embedding. The registry (models, roles, measured
 * thresholds, preprocessing) is the recognizer section of the catalogue, src/face/catalog.c. */
#include "face/internal.h"
#include "face/lbp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef mf_face_recognizer_def rec_def;

struct mf_face_recognizer {
    const rec_def *def;
    mf_face_align_spec spec;
    mf_face_session_model sm; /* shared model, this session's plan */
    mf_nn_plan_t *plan;       /* sm.plan */
    int out;
    float *acc;
    mf_face_lbp_proj lbp;     /* MF_FACE_REC_LBP: the projection, the crop and its histogram feature */
    float *crop, *feat, *proj;
    mf_face_models_t *own_models; /* created by mf_face_recognizer_create(_spec), else NULL (shared) */
};

int mf_face_recognizer_count(void) { return mf_face_recognizer_def_count; }

const mf_face_recognizer_info *mf_face_recognizer_info_at(int i) {
    return i >= 0 && i < mf_face_recognizer_def_count ? &mf_face_recognizer_defs[i].info : NULL;
}

static const rec_def *find_def(const char *name) { return mf_face_recognizer_def_find(name); }

const mf_face_recognizer_info *mf_face_recognizer_find(const char *name) {
    const rec_def *d = find_def(name);
    return d ? &d->info : NULL;
}

const mf_face_align_spec *mf_face_recognizer_default_spec(const char *name) {
    const rec_def *d = find_def(name);
    return d ? &d->spec : NULL;
}

int mf_face_recognizer_create(const char *models_root, const char *name, mf_nn_pool_t *pool,
                              mf_face_recognizer_t **out) {
    return mf_face_recognizer_create_spec(models_root, name, NULL, pool, out);
}

int mf_face_recognizer_create_from(mf_face_models_t *models, const char *name, mf_nn_pool_t *pool,
                                   mf_face_recognizer_t **out) {
    return mf_face_recognizer_create_spec_from(models, name, NULL, pool, out);
}

int mf_face_recognizer_create_spec(const char *models_root, const char *name, const mf_face_align_spec *spec,
                                   mf_nn_pool_t *pool, mf_face_recognizer_t **out) {
    if (!out) return mf_error_set(MF_ERR_ARG, "recognizer: no output pointer");
    *out = NULL;
    if (!models_root) return mf_error_set(MF_ERR_ARG, "recognizer: no models folder");
    mf_face_models_t *models = NULL;
    int st = mf_face_models_create(models_root, &models);
    if (!st) st = mf_face_recognizer_create_spec_from(models, name, spec, pool, out);
    return mf_face_models_adopt(st, models, st ? NULL : &(*out)->own_models);
}

int mf_face_recognizer_create_spec_from(mf_face_models_t *models, const char *name, const mf_face_align_spec *spec,
                                        mf_nn_pool_t *pool, mf_face_recognizer_t **out) {
    if (!out) return mf_error_set(MF_ERR_ARG, "recognizer: no output pointer");
    *out = NULL;
    if (!models) return mf_error_set(MF_ERR_ARG, "recognizer: no models folder");
    const rec_def *d = find_def(name);
    if (!d) return mf_error_set(MF_ERR_NOTFOUND, "unknown recognizer '%s'", name ? name : "(null)");
    if (!spec) spec = &d->spec;
    if (spec->size != d->spec.size || !(spec->scale > 0.05f && spec->scale < 20.0f) || !isfinite(spec->dy) ||
        !isfinite(spec->mul))
        return mf_error_set(MF_ERR_ARG, "recognizer %s: bad preprocessing", d->info.name);
    mf_face_recognizer_t *r = calloc(1, sizeof *r);
    if (!r) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    r->def = d;
    r->spec = *spec;
    int S = d->spec.size, st;
    if (d->kind == MF_FACE_REC_LBP) {
        st = mf_face_lbp_proj_load(&r->lbp);
        if (!st && r->lbp.out_dim != d->info.dim)
            st = mf_error_set(MF_ERR_MODEL, "projection of %d, registry says %d", r->lbp.out_dim, d->info.dim);
        if (!st && (!(r->crop = malloc(sizeof(float) * MF_LBP_CROP * MF_LBP_CROP * 3)) ||
                    !(r->feat = malloc(sizeof(float) * MF_LBP_FEAT)) ||
                    !(r->proj = malloc(sizeof(float) * (size_t)d->info.dim))))
            st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        r->sm.path = "(compiled in: src/face/lbp_weights.c)";
    } else {
        st = mf_face_session_model_init(&r->sm, models, d->model, pool, S, 3, 1);
        r->plan = r->sm.plan;
        if (!st) st = mf_nn_plan_find_output(r->plan, d->output, (size_t)d->info.dim, d->model, &r->out);
    }
    if (!st && !(r->acc = malloc((size_t)d->info.dim * sizeof *r->acc)))
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (st && d->kind == MF_FACE_REC_LBP) {
        mf_error_prefix(st, "recognizer %s", d->info.name);
        mf_face_recognizer_free(r);
        return st;
    }
    if (st) {
        const mf_face_model_info *mi = mf_face_model_find(d->model);
        mf_error_prefix(st, "recognizer %s (%s/%s)", d->info.name, mf_face_models_root(models),
                        mi ? mi->files[0] : "?");
        mf_face_recognizer_free(r);
        return st;
    }
    *out = r;
    return MF_OK;
}

void mf_face_recognizer_free(mf_face_recognizer_t *r) {
    if (!r) return;
    if (r->def->kind != MF_FACE_REC_LBP) mf_face_session_model_free(&r->sm);
    mf_face_lbp_proj_free(&r->lbp);
    free(r->crop), free(r->feat), free(r->proj);
    free(r->acc);
    mf_face_models_free(r->own_models);
    free(r);
}

const mf_face_recognizer_info *mf_face_recognizer_info_of(const mf_face_recognizer_t *r) {
    return r ? &r->def->info : NULL;
}

const mf_face_align_spec *mf_face_recognizer_spec(const mf_face_recognizer_t *r) { return r ? &r->spec : NULL; }

int mf_face_recognizer_set_flip(mf_face_recognizer_t *r, int flip) {
    if (!r) return mf_error_set(MF_ERR_ARG, "recognizer: null argument");
    r->spec.flip = flip && r->def->spec.flip;
    return MF_OK;
}

int mf_face_recognizer_embed(mf_face_recognizer_t *r, const mf_img *img, const float pts5[5][2], float *embedding) {
    if (!r || !pts5 || !embedding) return mf_error_set(MF_ERR_ARG, "recognizer: null argument");
    int dim = r->def->info.dim, lbp = r->def->kind == MF_FACE_REC_LBP;
    float *in = lbp ? r->crop : mf_nn_plan_input(r->plan, 0, NULL);
    for (int pass = 0; pass < 1 + (r->spec.flip != 0); pass++) {
        int st = mf_face_align_crop(img, pts5, &r->spec, pass, in);
        if (st) return mf_error_prefix(st, "recognizer %s", r->def->info.name);
        const float *o;
        if (lbp) {
            mf_face_lbp_features(r->crop, r->feat);
            mf_face_lbp_project(&r->lbp, r->feat, r->proj);
            o = r->proj;
        } else {
            mf_nn_plan_run(r->plan);
            o = mf_nn_plan_output(r->plan, r->out, NULL);
        }
        for (int i = 0; i < dim; i++) r->acc[i] = pass ? r->acc[i] + o[i] : o[i];
    }
    double ss = 0;
    for (int i = 0; i < dim; i++) ss += (double)r->acc[i] * r->acc[i];
    if (!isfinite(ss)) /* a damaged model, not the image's fault */
        return mf_error_set(MF_ERR_MODEL, "recognizer %s (%s): non-finite embedding (damaged weights? `mfmc models` "
                                          "checks the files)", r->def->info.name, r->sm.path);
    if (!(ss > 1e-30))
        return mf_error_set(MF_ERR_FORMAT, "recognizer %s: zero embedding", r->def->info.name);
    float inv = (float)(1.0 / sqrt(ss));
    for (int i = 0; i < dim; i++) embedding[i] = r->acc[i] * inv;
    return MF_OK;
}

float mf_face_similarity(const float *a, const float *b, int dim) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * b[i];
    return (float)s;
}
