/* Gallery identification on synthetic embeddings: enrolment, matching with a threshold, removal, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mfmc/gallery.h"

enum { DIM = 128 };

static unsigned rng = 12345;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / (float)(1 << 24) - 0.5f;
}

static void unit(float *v) {
    double n = 0;
    for (int k = 0; k < DIM; k++) n += v[k] * v[k];
    for (int k = 0; k < DIM; k++) v[k] = (float)(v[k] / sqrt(n));
}

/* a person = a base direction; photos = base + noise */
static void photo(const float *base, float noise, float *out) {
    for (int k = 0; k < DIM; k++) out[k] = base[k] + noise * frand();
    unit(out);
}

static void test_identify(void **state) {
    (void)state;
    mf_gallery_t *g;
    assert_int_equal(mf_gallery_create(DIM, &g), MF_OK);
    enum { PEOPLE = 50 };
    static float base[PEOPLE][DIM];
    char name[32];
    for (int p = 0; p < PEOPLE; p++) {
        for (int k = 0; k < DIM; k++) base[p][k] = frand();
        unit(base[p]);
        snprintf(name, sizeof name, "person-%d", p);
        for (int j = 0; j < 3; j++) {
            float e[DIM];
            photo(base[p], 0.08f, e);
            assert_int_equal(mf_gallery_add(g, name, e), MF_OK);
        }
    }
    assert_int_equal(mf_gallery_identity_count(g), PEOPLE);
    assert_int_equal(mf_gallery_embedding_count(g), 3 * PEOPLE);
    int right = 0;
    for (int p = 0; p < PEOPLE; p++) {
        float e[DIM];
        photo(base[p], 0.08f, e);
        mf_gallery_result r;
        assert_int_equal(mf_gallery_match(g, e, 0.5f, &r), MF_OK);
        snprintf(name, sizeof name, "person-%d", p);
        if (r.matched && !strcmp(r.identity, name)) right++;
        assert_true(r.similarity > r.second);
    }
    assert_int_equal(right, PEOPLE);
    /* a stranger does not match */
    float s[DIM];
    for (int k = 0; k < DIM; k++) s[k] = frand();
    unit(s);
    mf_gallery_result r;
    assert_int_equal(mf_gallery_match(g, s, 0.5f, &r), MF_OK);
    assert_false(r.matched);
    assert_non_null(r.identity);
    /* removal */
    assert_int_equal(mf_gallery_remove(g, "person-0"), MF_OK);
    assert_int_equal(mf_gallery_remove(g, "person-0"), MF_ERR_NOTFOUND);
    float e[DIM];
    photo(base[0], 0.08f, e);
    assert_int_equal(mf_gallery_match(g, e, 0.5f, &r), MF_OK);
    assert_false(r.matched && !strcmp(r.identity, "person-0"));
    mf_gallery_free(g);
}

/* Many identities through the name index (its growth, removals that move the last identity into the gap, names
 * added again): every identity is found under its own name, with its own embeddings, and counts stay right. */
static void test_index(void **state) {
    (void)state;
    mf_gallery_t *g;
    assert_int_equal(mf_gallery_create(DIM, &g), MF_OK);
    enum { N = 2000 };
    char name[32];
    float e[DIM];
    for (int p = 0; p < N; p++) { /* identity p's embedding is the unit vector along axis p % DIM, sign by p / DIM */
        memset(e, 0, sizeof e);
        e[p % DIM] = p / DIM % 2 ? -1.f : 1.f;
        snprintf(name, sizeof name, "m%d", p);
        assert_int_equal(mf_gallery_add(g, name, e), MF_OK);
    }
    assert_int_equal(mf_gallery_identity_count(g), N);
    for (int p = 0; p < N; p += 3) {
        snprintf(name, sizeof name, "m%d", p);
        assert_int_equal(mf_gallery_remove(g, name), MF_OK);
    }
    int left = N - (N + 2) / 3;
    assert_int_equal(mf_gallery_identity_count(g), left);
    assert_int_equal(mf_gallery_embedding_count(g), left);
    for (int p = 0; p < N; p++) {
        snprintf(name, sizeof name, "m%d", p);
        assert_int_equal(mf_gallery_remove(g, name), p % 3 ? MF_OK : MF_ERR_NOTFOUND);
        if (p % 3 == 0) continue;
        memset(e, 0, sizeof e); /* added again: a second embedding would show in the count if the index lost it */
        e[p % DIM] = 1.f;
        assert_int_equal(mf_gallery_add(g, name, e), MF_OK);
        assert_int_equal(mf_gallery_add(g, name, e), MF_OK);
    }
    assert_int_equal(mf_gallery_identity_count(g), left);
    assert_int_equal(mf_gallery_embedding_count(g), 2 * left);
    memset(e, 0, sizeof e);
    e[5] = 1.f; /* the identities left on axis 5 (p % DIM == 5, p % 3 != 0) all match at 1.0 */
    mf_gallery_result r;
    assert_int_equal(mf_gallery_match(g, e, 0.99f, &r), MF_OK);
    assert_true(r.matched);
    assert_int_equal(atoi(r.identity + 1) % DIM, 5);
    assert_int_not_equal(atoi(r.identity + 1) % 3, 0);
    mf_gallery_free(g);
}

static void test_bad_input(void **state) {
    (void)state;
    mf_gallery_t *g;
    assert_int_equal(mf_gallery_create(0, &g), MF_ERR_ARG);
    assert_int_equal(mf_gallery_create(DIM, &g), MF_OK);
    float zero[DIM] = {0}, nan[DIM] = {0};
    nan[3] = NAN;
    assert_int_equal(mf_gallery_add(g, "a", zero), MF_ERR_ARG);
    assert_int_equal(mf_gallery_add(g, "a", nan), MF_ERR_ARG);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    float e[DIM];
    for (int k = 0; k < DIM; k++) e[k] = 1;
    assert_int_equal(mf_gallery_add(g, longname, e), MF_ERR_ARG);
    assert_int_equal(mf_gallery_add(g, "", e), MF_ERR_ARG);
    mf_gallery_result r;
    assert_int_equal(mf_gallery_match(g, e, 0.5f, &r), MF_OK); /* empty gallery */
    assert_null(r.identity);
    assert_false(r.matched);
    assert_int_equal(mf_gallery_match(g, zero, 0.5f, &r), MF_ERR_ARG);
    mf_gallery_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identify),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_index),
    };
    return cmocka_run_group_tests_name("face_gallery", tests, NULL, NULL);
}
