/* Shared models and per-thread sessions: the catalogue is consistent with the stages that use it; two analyzer
 * and recognizer sessions over one loaded mf_face_models_t, run on two threads at once, give results bit-identical
 * to one session's; a human/ folder passed where the models root belongs is named as the mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "face/internal.h"
#include "lib/testutil.h"
#include "mfmc/analyze.h"

enum { MAX_FACES = 16, N_PHOTOS = 2, DIM = 512 };

typedef struct {
    int n;
    mf_face_box det[MAX_FACES];
    mf_face_landmarks lm[MAX_FACES];
    float age[MAX_FACES], p_male[MAX_FACES];
    float emb[MAX_FACES][DIM];
} photo_result;

typedef struct {
    mf_face_models_t *models;
    const mf_img *photos;
    photo_result res[N_PHOTOS];
    int status;
} job;

static mf_img photos[N_PHOTOS];

/* One session (analyzer + arcface) over `models`: every face of every photo. */
static void *run_session(void *arg) {
    job *j = arg;
    mf_face_analyzer_t *an = NULL;
    mf_face_recognizer_t *rec = NULL;
    j->status = mf_face_analyzer_create_from(j->models, NULL, &an);
    if (!j->status) j->status = mf_face_recognizer_create_from(j->models, "arcface", NULL, &rec);
    for (int p = 0; p < N_PHOTOS && !j->status; p++) {
        const mf_face *faces;
        int n;
        if ((j->status = mf_face_analyze_all(an, &j->photos[p], &faces, &n))) break;
        photo_result *r = &j->res[p];
        memset(r, 0, sizeof *r);
        r->n = n < MAX_FACES ? n : MAX_FACES;
        for (int k = 0; k < r->n && !j->status; k++) {
            r->det[k] = faces[k].det;
            r->lm[k] = faces[k].lm;
            r->age[k] = faces[k].attr.age, r->p_male[k] = faces[k].attr.p_male;
            float pts[5][2];
            mf_face_5pt(&faces[k], pts);
            j->status = mf_face_recognizer_embed(rec, &j->photos[p], (const float(*)[2])pts, r->emb[k]);
        }
    }
    mf_face_recognizer_free(rec);
    mf_face_analyzer_free(an);
    return NULL;
}

static int setup(void **state) {
    (void)state;
    for (int i = 0; i < N_PHOTOS; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/demo/sample%d.jpg", tu_models_dir(), i + 1);
        if (mf_img_load(p, NULL, &photos[i], NULL)) {
            fprintf(stderr, "%s: %s (run make setup)\n", p, mf_error_get());
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < N_PHOTOS; i++)
        mf_img_free(&photos[i]);
    return 0;
}

static void test_two_threads_one_copy(void **state) {
    (void)state;
    static job one, two[2];
    mf_face_models_t *alone, *shared;
    assert_int_equal(mf_face_models_create(tu_models_dir(), &alone), MF_OK);
    one.models = alone, one.photos = photos;
    run_session(&one);
    assert_int_equal(one.status, MF_OK);
    mf_face_models_free(alone);

    assert_int_equal(mf_face_models_create(tu_models_dir(), &shared), MF_OK);
    pthread_t th[2];
    for (int t = 0; t < 2; t++) {
        two[t].models = shared, two[t].photos = photos;
        assert_int_equal(pthread_create(&th[t], NULL, run_session, &two[t]), 0);
    }
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < 2; t++) {
        assert_int_equal(two[t].status, MF_OK);
        for (int p = 0; p < N_PHOTOS; p++) {
            assert_true(one.res[p].n > 0);
            assert_int_equal(two[t].res[p].n, one.res[p].n);
            assert_memory_equal(&two[t].res[p], &one.res[p], sizeof one.res[p]);
        }
    }
    printf("  2 threads x (analyzer + arcface) over one loaded copy: bit-identical to one session (%d, %d faces)\n",
           one.res[0].n, one.res[1].n);
    mf_face_models_free(shared);
}

static void test_catalogue(void **state) {
    (void)state;
    char roles[128];
    for (int i = 0; i < mf_face_model_count(); i++) {
        const mf_face_model_info *m = mf_face_model_at(i);
        assert_ptr_equal(mf_face_model_find(m->name), m);
        assert_non_null(m->files[0]);
        for (int k = 0; k < 2; k++)
            assert_true(!m->files[k] || (m->sha256[k] && strlen(m->sha256[k]) == 64));
        assert_true(strlen(mf_face_model_roles(m->roles, roles, sizeof roles)) > 0);
    }
    for (int i = 0; i < mf_face_recognizer_count(); i++) {
        if (mf_face_recognizer_defs[i].kind == MF_FACE_REC_LBP) { /* classical: its projection is compiled in */
            assert_null(mf_face_recognizer_defs[i].model);
            continue;
        }
        const mf_face_model_info *m = mf_face_model_find(mf_face_recognizer_defs[i].model);
        assert_non_null(m);
        assert_true(m->roles & MF_FACE_ROLE_RECOGNIZER);
    }
    for (int i = 0; i < mf_face_attrib_model_count(); i++) {
        const mf_face_model_info *m = mf_face_model_find(mf_face_attrib_model_at(i)->name);
        assert_non_null(m);
        assert_true(m->roles & MF_FACE_ROLE_ATTRIBUTE);
    }
    assert_string_equal(mf_face_detector_model_at(0), "facemesh-detection-full");
    assert_null(mf_face_model_find("emotion")); /* only what mfmc uses */
}

static void test_human_folder_named(void **state) {
    (void)state;
    char human[1024];
    snprintf(human, sizeof human, "%s/human", tu_models_dir());
    mf_face_mesher_t *m = NULL;
    assert_int_equal(mf_face_mesher_create(human, NULL, 0, &m), MF_ERR_ARG);
    assert_null(m);
    assert_non_null(strstr(mf_error_get(), "models root"));
    mf_face_models_t *models;
    assert_int_equal(mf_face_models_create(tu_models_dir(), &models), MF_OK);
    assert_int_equal(mf_face_models_load(models, "nosuch"), MF_ERR_NOTFOUND);
    assert_int_equal(mf_face_models_load(models, "iris"), MF_OK);
    mf_face_models_free(models);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_human_folder_named),
        cmocka_unit_test(test_two_threads_one_copy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
