/* Face recognizers: the registry (models, roles, measured thresholds), loading and embedding.
 *
 * Each entry names its model file under the models root, its output tensor and the preprocessing measured best
 * on LFW (docs/accuracy.md, "Recognizers"; bench/bench_lfw.c reproduces the numbers and prints this table's
 * threshold columns). */
#include "face/align.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LOAD_FACEAPI, LOAD_TFJS, LOAD_ONNX };

typedef struct {
    mf_face_recognizer_info info;
    int loader;
    const char *file;   /* relative to the models root */
    const char *output; /* output tensor */
    mf_face_align_spec spec;
} rec_def;

/* Measured on LFW's 4,004 pairs with the mesh's five points (docs/accuracy.md, "Recognizers"):
 *   info: name, description, dim, primary, ensemble, match_threshold, dissimilarity_threshold
 *   spec: size, upright, scale, dy, bgr, mean[3], mul, flip
 * Roles by measured accuracy: arcface is the most accurate (0.9960 10-fold, TAR 0.989 at FAR 1e-3) and primary;
 * faceapi (0.9935, TAR 0.961) is the other ensemble member; the rest measure well below (faceres 0.984). The
 * thresholds are those `build/rel/bench/bench_lfw --table` prints. */
static const rec_def defs[] = {
    {{"faceapi", "face-api FaceRecognitionNet, dlib-style ResNet-34, 128-d", 128, 0, 1, 0.9273f, 0.9073f, 0},
     LOAD_FACEAPI,
     "faceapi/face_recognition_model-weights_manifest.json",
     "descriptor",
     {150, 0, 1.15f, -0.14f, 0, {0, 0, 0}, 1.0f, 1}},
    {{"arcface", "faceplugin fr_feature.onnx, ArcFace-style MobileFaceNet, 512-d", 512, 1, 1, 0.3193f, 0.2286f, 0},
     LOAD_ONNX,
     "faceplugin/fr_feature.onnx",
     "output",
     {112, 0, 1.0f, 0.0f, 1, {127.0f, 127.0f, 127.0f}, 1.0f / 128.0f, 0}},
    {{"faceres", "human-models faceres (HSE MobileNet, VGGFace2), 1024-d", 1024, 0, 0, 0.5868f, 0.4852f, 0},
     LOAD_TFJS,
     "human/faceres.json",
     "global_pooling/Mean",
     {224, 0, 0.9f, 0.0f, 1, {103.939f, 116.779f, 123.68f}, 1.0f, 0}},
    {{"faceres-deep", "human-models faceres-deep (HSE MobileNet, age/gender-tuned), 1024-d", 1024, 0, 0, 0.7386f,
      0.4864f, 0},
     LOAD_TFJS,
     "human/faceres-deep.json",
     "global_pooling/Mean:0",
     {224, 0, 0.9f, 0.0f, 1, {103.939f, 116.779f, 123.68f}, 1.0f, 0}},
    {{"mobileface", "human-models mobileface (MobileFace, MXNet), 256-d", 256, 0, 0, 0.3651f, 0.0740f, 0},
     LOAD_TFJS,
     "human/mobileface.json",
     "batchnorm0/add_1:0",
     {112, 0, 1.0f, 0.0f, 0, {0, 0, 0}, 1.0f, 1}},
    {{"mobilefacenet", "human-models mobilefacenet (MobileFaceNet_TF), 192-d; near chance on LFW, not for use", 192,
      0, 0, 1.0000f, 0.9994f, 1},
     LOAD_TFJS,
     "human/mobilefacenet.json",
     "embeddings:0",
     {112, 0, 1.0f, 0.0f, 0, {127.5f, 127.5f, 127.5f}, 1.0f / 128.0f, 0}},
};
enum { N_DEFS = sizeof defs / sizeof defs[0] };

struct mf_face_recognizer {
    const rec_def *def;
    mf_face_align_spec spec;
    mf_nn_model_t *model;
    mf_nn_plan_t *plan;
    int out;
    float *acc;
};

int mf_face_recognizer_count(void) { return N_DEFS; }

const mf_face_recognizer_info *mf_face_recognizer_info_at(int i) {
    return i >= 0 && i < N_DEFS ? &defs[i].info : NULL;
}

static const rec_def *find_def(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < N_DEFS; i++)
        if (strcmp(defs[i].info.name, name) == 0) return &defs[i];
    return NULL;
}

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

int mf_face_recognizer_create_spec(const char *models_root, const char *name, const mf_face_align_spec *spec,
                                   mf_nn_pool_t *pool, mf_face_recognizer_t **out) {
    if (!out) return mf_error_set(MF_ERR_ARG, "recognizer: no output pointer");
    *out = NULL;
    if (!models_root) return mf_error_set(MF_ERR_ARG, "recognizer: no models folder");
    const rec_def *d = find_def(name);
    if (!d) return mf_error_set(MF_ERR_NOTFOUND, "unknown recognizer '%s'", name ? name : "(null)");
    if (!spec) spec = &d->spec;
    if (spec->size != d->spec.size || !(spec->scale > 0.05f && spec->scale < 20.0f) || !isfinite(spec->dy) ||
        !isfinite(spec->mul))
        return mf_error_set(MF_ERR_ARG, "recognizer %s: bad preprocessing", d->info.name);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", models_root, d->file) >= (int)sizeof path)
        return mf_error_set(MF_ERR_ARG, "models path too long");
    mf_face_recognizer_t *r = calloc(1, sizeof *r);
    if (!r) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    r->def = d;
    r->spec = *spec;
    int st = d->loader == LOAD_FACEAPI ? mf_nn_model_load_faceapi_recognition(path, &r->model)
             : d->loader == LOAD_ONNX  ? mf_nn_model_load_onnx(path, &r->model)
                                       : mf_nn_model_load_tfjs(path, &r->model);
    mf_nn_plan_opts po = {.pool = pool, .isa = -1};
    if (!st) st = mf_nn_plan_create(r->model, &po, &r->plan);
    if (!st) {
        mf_nn_shape sh;
        mf_nn_plan_input(r->plan, 0, &sh);
        int S = d->spec.size;
        if (sh.ndim != 4 || sh.dim[0] != 1 || sh.dim[1] != S || sh.dim[2] != S || sh.dim[3] != 3)
            st = mf_error_set(MF_ERR_FORMAT, "input is not [1,%d,%d,3]", S, S);
    }
    if (!st) {
        r->out = mf_nn_plan_output_index(r->plan, d->output);
        mf_nn_shape sh;
        if (r->out < 0) st = mf_error_set(MF_ERR_FORMAT, "no output %s", d->output);
        else if (mf_nn_plan_output(r->plan, r->out, &sh), mf_nn_shape_numel(&sh) != (size_t)d->info.dim)
            st = mf_error_set(MF_ERR_FORMAT, "output %s does not have %d values", d->output, d->info.dim);
    }
    if (!st && !(r->acc = malloc((size_t)d->info.dim * sizeof *r->acc)))
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (st) {
        mf_error_prefix(st, "recognizer %s (%s)", d->info.name, path);
        mf_face_recognizer_free(r);
        return st;
    }
    *out = r;
    return MF_OK;
}

void mf_face_recognizer_free(mf_face_recognizer_t *r) {
    if (!r) return;
    mf_nn_plan_free(r->plan);
    mf_nn_model_free(r->model);
    free(r->acc);
    free(r);
}

const mf_face_recognizer_info *mf_face_recognizer_info_of(const mf_face_recognizer_t *r) {
    return r ? &r->def->info : NULL;
}

const mf_face_align_spec *mf_face_recognizer_spec(const mf_face_recognizer_t *r) { return r ? &r->spec : NULL; }

int mf_face_recognizer_embed(mf_face_recognizer_t *r, const mf_img *img, const float pts5[5][2], float *embedding) {
    if (!r || !pts5 || !embedding) return mf_error_set(MF_ERR_ARG, "recognizer: null argument");
    int dim = r->def->info.dim;
    float *in = mf_nn_plan_input(r->plan, 0, NULL);
    for (int pass = 0; pass < 1 + (r->spec.flip != 0); pass++) {
        int st = mf_face_align_crop(img, pts5, &r->spec, pass, in);
        if (st) return mf_error_prefix(st, "recognizer %s", r->def->info.name);
        mf_nn_plan_run(r->plan);
        const float *o = mf_nn_plan_output(r->plan, r->out, NULL);
        for (int i = 0; i < dim; i++) r->acc[i] = pass ? r->acc[i] + o[i] : o[i];
    }
    double ss = 0;
    for (int i = 0; i < dim; i++) ss += (double)r->acc[i] * r->acc[i];
    if (!isfinite(ss)) /* a damaged model, not the image's fault */
        return mf_error_set(MF_ERR_MODEL, "recognizer %s (%s): non-finite embedding (damaged weights? `mfmc models` "
                                          "checks the files)", r->def->info.name, r->def->file);
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
