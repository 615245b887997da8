/* Loaded models shared by sessions: each catalogue model is loaded once from the models root, on first use, and
 * only read from then on (mf_nn_plan_create takes a const model); each session plans it for itself. */
#include "face/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_MODELS = 64 };

struct mf_face_models {
    char *root;
    pthread_mutex_t lock;
    mf_nn_model_t *model[MAX_MODELS]; /* by catalogue index, NULL until loaded */
    char *path[MAX_MODELS];           /* root/files[0], for messages */
};

int mf_face_models_create(const char *models_root, mf_face_models_t **out) {
    if (!out) return mf_error_set(MF_ERR_ARG, "models: no output pointer");
    *out = NULL;
    if (!models_root || !*models_root) return mf_error_set(MF_ERR_ARG, "no models folder");
    MF_ASSERT(mf_face_model_count() <= MAX_MODELS);
    mf_face_models_t *m = calloc(1, sizeof *m);
    if (!m || !(m->root = strdup(models_root))) {
        free(m);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&m->lock, NULL)) {
        free(m->root);
        free(m);
        return mf_error_set(MF_ERR_NOMEM, "models: cannot create a lock");
    }
    *out = m;
    return MF_OK;
}

void mf_face_models_free(mf_face_models_t *m) {
    if (!m) return;
    for (int i = 0; i < MAX_MODELS; i++) {
        mf_nn_model_free(m->model[i]);
        free(m->path[i]);
    }
    pthread_mutex_destroy(&m->lock);
    free(m->root);
    free(m);
}

const char *mf_face_models_root(const mf_face_models_t *m) { return m ? m->root : NULL; }

/* 1 when `root` names a human/ folder (its last component), the usual mistake of callers of the old convention. */
static int is_human_dir(const char *root) {
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    return n >= 5 && strncmp(root + n - 5, "human", 5) == 0 && (n == 5 || root[n - 6] == '/');
}

/* Loads entry i under the lock (a no-op when loaded). */
static int load_locked(mf_face_models_t *m, int i) {
    if (m->model[i]) return MF_OK;
    const mf_face_model_info *info = mf_face_model_at(i);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", m->root, info->files[0]) >= (int)sizeof path)
        return mf_error_set(MF_ERR_ARG, "models path too long");
    if (access(path, R_OK) != 0 && is_human_dir(m->root))
        return mf_error_set(MF_ERR_ARG,
                            "%s: no %s: face models are opened from the models root (the folder "
                            "holding human/, faceapi/, faceplugin/), not from its human/ folder",
                            m->root, info->files[0]);
    char *p = strdup(path);
    if (!p) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = mf_nn_model_load(path, info->format, &m->model[i]);
    if (st) {
        free(p);
        return st;
    }
    m->path[i] = p;
    return MF_OK;
}

static int index_of(const char *name) {
    for (int i = 0; name && i < mf_face_model_count(); i++)
        if (strcmp(mf_face_model_at(i)->name, name) == 0) return i;
    return -1;
}

/* Loads entry i (once) and gives the shared model and its path. */
static int models_get(mf_face_models_t *m, int i, const mf_nn_model_t **model, const char **path) {
    pthread_mutex_lock(&m->lock);
    int st = load_locked(m, i);
    if (!st) *model = m->model[i], *path = m->path[i];
    pthread_mutex_unlock(&m->lock);
    return st;
}

int mf_face_models_load(mf_face_models_t *m, const char *name) {
    if (!m) return mf_error_set(MF_ERR_ARG, "models: null argument");
    int i = index_of(name);
    if (i < 0) return mf_error_set(MF_ERR_NOTFOUND, "no model '%s' in the catalogue", name ? name : "(null)");
    const mf_nn_model_t *model;
    const char *path;
    return models_get(m, i, &model, &path);
}

int mf_face_session_model_init(mf_face_session_model *sm, mf_face_models_t *m, const char *name, mf_nn_pool_t *pool,
                               int side, int channels, int fast) {
    memset(sm, 0, sizeof *sm);
    if (!m) return mf_error_set(MF_ERR_ARG, "no models");
    int i = index_of(name);
    if (i < 0) return mf_error_set(MF_ERR_NOTFOUND, "no model '%s' in the catalogue", name ? name : "(null)");
    sm->info = mf_face_model_at(i);
    int st = models_get(m, i, &sm->model, &sm->path);
    mf_nn_plan_opts po = {.pool = pool, .isa = fast ? MF_NN_PLAN_ISA_FAST : -1};
    if (!st) st = mf_nn_plan_create(sm->model, &po, &sm->plan);
    if (!st && side > 0) st = mf_nn_plan_check_input(sm->plan, 0, side, side, channels, name);
    return st;
}

void mf_face_session_model_free(mf_face_session_model *sm) {
    mf_nn_plan_free(sm->plan);
    memset(sm, 0, sizeof *sm);
}

int mf_face_models_adopt(int st, mf_face_models_t *models, mf_face_models_t **slot) {
    if (st) {
        mf_face_models_free(models);
        return st;
    }
    *slot = models;
    return MF_OK;
}

int mf_face_check_rgb(const mf_img *img, const char *what) {
    if (!img || !img->data || img->w < 1 || img->h < 1 || img->c != 3)
        return mf_error_set(MF_ERR_ARG, "%s an RGB image", what);
    return MF_OK;
}
