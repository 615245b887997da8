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
    };
    return cmocka_run_group_tests_name("face_gallery", tests, NULL, NULL);
}
