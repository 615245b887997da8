/* Anonymizer and identity model: the model file (round trip, malformed files refused), and on a real photo (FFHQ
 * sample or the demo photo) that every face is changed, that a seed reproduces its result, that a forced-similar
 * identity is redrawn and then falls back (the guarantee), that an identity-removing draw missing only the age
 * tolerance becomes a synthetic fallback, and the baselines. Skips where models or data are absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/testutil.h"
#include "mfmc/anon.h"
#include "anon/internal.h"
#include "face/align.h"
#include "tools/privacy-set-common.h"

static const char *MODEL = "data/identity/synthetic-v1.mfid";

static void test_model_file(void **state) {
    (void)state;
    uint8_t *buf;
    size_t len;
    if (mf_file_read(MODEL, MF_ANON_MODEL_MAX_BYTES, &buf, &len)) {
        printf("  skipped: %s not present\n", MODEL);
        skip();
    }
    mf_anon_model_t *m;
    assert_int_equal(mf_anon_model_load_mem(buf, len, &m), MF_OK);
    mf_anon_model_info i0, i1;
    mf_anon_model_get_info(m, &i0);
    assert_true(i0.n_train >= 100 && i0.tex_side >= 64 && i0.n_tri > 500);
    char tmp[] = "/tmp/mfmc-test-anon-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mf_anon_model_save(m, tmp), MF_OK);
    mf_anon_model_t *m2;
    assert_int_equal(mf_anon_model_load(tmp, &m2), MF_OK);
    mf_anon_model_get_info(m2, &i1);
    assert_memory_equal(&i0, &i1, sizeof i0);
    remove(tmp);
    mf_anon_model_free(m2);
    mf_anon_model_free(m);
    /* malformed: truncations, bad magic, a section size changed, a dimension over the cap */
    mf_anon_model_t *bad = NULL;
    size_t cuts[] = {0, 7, 63, 64 + 24 * 5, len / 2, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        assert_true(mf_anon_model_load_mem(buf, cuts[k], &bad) < 0);
        assert_null(bad);
    }
    uint8_t *c = malloc(len);
    memcpy(c, buf, len);
    c[0] = 'X';
    assert_int_equal(mf_anon_model_load_mem(c, len, &bad), MF_ERR_FORMAT);
    memcpy(c, buf, len);
    c[64 + 16] ^= 4; /* first section's byte count */
    assert_int_equal(mf_anon_model_load_mem(c, len, &bad), MF_ERR_FORMAT);
    memcpy(c, buf, len);
    c[16 + 1] = 0x40; /* texture side 16384+ */
    assert_int_equal(mf_anon_model_load_mem(c, len, &bad), MF_ERR_LIMIT);
    assert_true(i0.has_metric); /* (push38) the optional thirteenth section, the recognizer metric */
    memcpy(c, buf, len);
    c[64 + 24 * 12 + 16] ^= 4; /* its byte count */
    assert_int_equal(mf_anon_model_load_mem(c, len, &bad), MF_ERR_FORMAT);
    /* (age47) the optional fourteenth section, the detail maps' ages: the committed model has none; the same model
     * with ages given to its maps (two groups), saved, is the buffer for the checks below */
    assert_int_equal(i0.n_detail_ages, 0);
    free(c), free(buf);
    assert_int_equal(mf_anon_model_load(MODEL, &m), MF_OK);
    assert_null(m->detail_age);
    m->detail_age = malloc(sizeof(float) * (size_t)m->nd);
    for (int d = 0; d < m->nd; d++) m->detail_age[d] = d < m->nd / 2 ? 10 : 40;
    char tmp3[] = "/tmp/mfmc-test-anon-XXXXXX";
    fd = mkstemp(tmp3);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mf_anon_model_save(m, tmp3), MF_OK);
    mf_anon_model_free(m);
    assert_int_equal(mf_file_read(tmp3, MF_ANON_MODEL_MAX_BYTES, &buf, &len), MF_OK);
    remove(tmp3);
    assert_int_equal(mf_anon_model_load_mem(buf, len, &m), MF_OK);
    mf_anon_model_get_info(m, &i0);
    assert_int_equal(i0.n_detail_ages, 2);
    mf_anon_model_free(m);
    c = malloc(len);
    memcpy(c, buf, len);
    c[64 + 24 * 13 + 16] ^= 4; /* its byte count */
    assert_int_equal(mf_anon_model_load_mem(c, len, &bad), MF_ERR_FORMAT);
    memcpy(c, buf, len);
    uint64_t off14 = 0;
    for (int b = 7; b >= 0; b--) off14 = off14 << 8 | c[64 + 24 * 13 + 8 + b];
    assert_true(off14 + 4 <= len);
    memcpy(c + off14, &(float){200}, 4); /* a map's age 200 y */
    assert_int_equal(mf_anon_model_load_mem(c, len, &bad), MF_ERR_FORMAT);
    memcpy(c, buf, len);
    c[64 + 24 * 13] = 13; /* section 13 listed twice */
    assert_int_equal(mf_anon_model_load_mem(c, len, &bad), MF_ERR_FORMAT);
    memcpy(c, buf, len);
    c[12] = 15; /* fifteen sections */
    assert_true(mf_anon_model_load_mem(c, len, &bad) < 0);
    memcpy(c, buf, len);
    c[12] = 11; /* eleven: a required section missing */
    assert_true(mf_anon_model_load_mem(c, len, &bad) < 0);
    assert_null(bad);
    /* either optional section alone: the detail ages without the metric (section ids 1..12, 14) load back */
    assert_int_equal(mf_anon_model_load_mem(buf, len, &m), MF_OK);
    float *metric = m->metric;
    m->metric = NULL;
    char tmp2[] = "/tmp/mfmc-test-anon-XXXXXX";
    fd = mkstemp(tmp2);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mf_anon_model_save(m, tmp2), MF_OK);
    m->metric = metric;
    assert_int_equal(mf_anon_model_load(tmp2, &m2), MF_OK);
    mf_anon_model_get_info(m2, &i1);
    assert_int_equal(i1.has_metric, 0);
    assert_int_equal(i1.n_detail_ages, 2);
    assert_memory_equal(m2->detail_age, m->detail_age, sizeof(float) * (size_t)m->nd);
    remove(tmp2);
    mf_anon_model_free(m2);
    mf_anon_model_free(m);
    free(c);
    free(buf);
}

/* (push38, age47, ftex47) The training faces of the tests that train small models: every `every`-th face of the clean
 * synthetic training list (tools/identity/clean.txt) as paths (at most max <= CLEAN_SET_MAX, malloc'd) and an
 * analyser; clean_set_open skips the test when the faces, the list or the models are absent, clean_set_close frees. */
enum { CLEAN_SET_MAX = 200 };
typedef struct {
    char *paths[CLEAN_SET_MAX];
    int n;
    mf_face_analyzer_t *an;
} clean_set;
static void clean_set_open(clean_set *s, int max, int every) {
    char **paths = s->paths;
    assert_true(max <= CLEAN_SET_MAX);
    char dir[4096], line[512];
    snprintf(dir, sizeof dir, "%s/synthetic", tu_data_dir());
    FILE *cl = fopen("tools/identity/clean.txt", "r");
    if (!cl || !tu_exists(dir)) {
        if (cl) fclose(cl);
        printf("  skipped: synthetic faces or the clean list absent\n");
        skip();
    }
    int n = 0, row = 0;
    while (n < max && fgets(line, sizeof line, cl)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#' || row++ % every) continue;
        paths[n] = malloc(strlen(dir) + strlen(line) + 2);
        sprintf(paths[n], "%s/%s", dir, line);
        n++;
    }
    fclose(cl);
    s->n = n;
    mf_face_analyzer_opts ao = {0};
    if (mf_face_analyzer_create(tu_models_dir(), &ao, &s->an)) {
        for (int i = 0; i < n; i++) free(paths[i]);
        printf("  skipped: models absent\n");
        skip();
    }
}
static void clean_set_close(clean_set *s) {
    mf_face_analyzer_free(s->an);
    for (int i = 0; i < s->n; i++) free(s->paths[i]);
}

/* (ftex47) The hair cleaning reaches the lower forehead (mf_anon_train_opts.clean_texels; `mfmc identity train
 * --clean-texels`). Its triangles run from the mid-forehead ring (vertices 108, 151, 337) down to the brows and touch
 * a brow vertex: as "feature" triangles they were never cleaned, and the cleaned strip above the ring was filled from
 * itself alone. Faces with bangs left a step in the texture at the ring's row, and drawn faces a pale band over the
 * forehead (the demo's laughing woman). Measured on small models (every second clean synthetic face, 64 px, 8
 * texture components): the luminance step between the rows above and below the ring, over the middle of the face,
 * root-sum-square over the components (each one standard deviation), with the cleaning of the lower forehead at most
 * half of that without (the 192 px models: 13.7 and 2.0 levels). */
static void test_clean_texels(void **state) {
    (void)state;
    clean_set cs;
    clean_set_open(&cs, CLEAN_SET_MAX, 2);
    assert_true(cs.n >= 100);
    double step[2];
    for (int v = 0; v < 2; v++) {
        mf_anon_train_opts o = {.tex_side = 64, .n_shape = 4, .n_tex = 8, .n_detail = 1, .seed = 1, .clean_texels = v};
        mf_anon_model_t *m = NULL;
        assert_int_equal(mf_anon_train(cs.an, (const char *const *)cs.paths, cs.n, &o, &m, NULL), MF_OK);
        int T = m->T, y0 = (int)floorf(m->uv[2 * 151 + 1]), ya = y0 - 1, yb = y0 + 1; /* rows around the ring */
        int x0 = (int)m->uv[2 * 108], x1 = (int)m->uv[2 * 337];
        assert_true(ya >= 0 && yb < T && x1 - x0 >= 4);
        double s2 = 0;
        for (int c = 0; c < m->kt; c++) {
            const float *b = m->tex_basis + (size_t)c * T * T * 3;
            double d = 0;
            for (int x = x0; x <= x1; x++)
                for (int k = 0; k < 3; k++) {
                    static const float wl[3] = {0.299f, 0.587f, 0.114f};
                    d += wl[k] * (b[3 * ((size_t)yb * T + x) + k] - b[3 * ((size_t)ya * T + x) + k]);
                }
            d /= x1 - x0 + 1;
            s2 += d * d;
        }
        step[v] = sqrt(s2);
        mf_anon_model_free(m);
    }
    print_message("      step at the mid-forehead ring: %.2f levels (triangles), %.2f (texels)\n", step[0], step[1]);
    assert_true(step[0] > 1);
    assert_true(step[1] <= 0.5 * step[0]);
    clean_set_close(&cs);
}

/* (age47) Detail maps per age group (mf_anon_train_opts.detail_ages; `mfmc identity train --detail-ages`): a small
 * model (every second clean synthetic face, 64 px texture, 2 maps per group) gets 4 groups of maps, each group's age
 * its faces' mean age, in order; a draw takes a map of the group nearest the age asked, successive picks go through
 * the group's maps; no age (or a model without ages) picks among all maps. The grain grows with age: the children's
 * maps are the smoothest and the oldest group's the roughest (RMS of the high-pass; the 192 px model trained on all
 * clean faces: 1.28, 1.71, 1.88, 2.29 levels, docs/identity-model.md). */
static void test_detail_ages(void **state) {
    (void)state;
    clean_set cs;
    clean_set_open(&cs, CLEAN_SET_MAX, 2);
    assert_true(cs.n >= 100);
    mf_anon_train_opts o = {.tex_side = 64, .n_shape = 4, .n_tex = 4, .n_detail = 2, .seed = 1, .detail_ages = 1};
    mf_anon_model_t *m = NULL, *m0 = NULL;
    assert_int_equal(mf_anon_train(cs.an, (const char *const *)cs.paths, cs.n, &o, &m, NULL), MF_OK);
    o.detail_ages = 0;
    assert_int_equal(mf_anon_train(cs.an, (const char *const *)cs.paths, cs.n, &o, &m0, NULL), MF_OK);
    assert_int_equal(m0->nd, 2);
    assert_null(m0->detail_age);
    int per = 2;
    assert_int_equal(m->nd, per * MF_ANON_DETAIL_GROUPS);
    assert_non_null(m->detail_age);
    size_t T2 = (size_t)m->T * m->T;
    double rms[MF_ANON_DETAIL_GROUPS];
    for (int g = 0; g < MF_ANON_DETAIL_GROUPS; g++) {
        float ag = m->detail_age[g * per];
        for (int d = g * per; d < (g + 1) * per; d++) assert_true(m->detail_age[d] == ag);
        if (g > 0) assert_true(ag > m->detail_age[(g - 1) * per]);
        double s2 = 0;
        for (size_t p = 0; p < T2 * per; p++) s2 += (double)m->detail[g * per * T2 + p] * m->detail[g * per * T2 + p];
        rms[g] = sqrt(s2 / ((double)T2 * per));
        print_message("      group %d: age %.1f y, grain RMS %.2f\n", g, ag, rms[g]);
        /* the group's own age picks this group; successive picks, each of its maps once */
        int seen[MF_ANON_MAX_DETAIL] = {0};
        for (uint64_t k = 0; k < (uint64_t)per; k++) {
            int d = mf_anon_detail_pick(m, ag, 1000 + k);
            assert_true(d >= g * per && d < (g + 1) * per);
            assert_int_equal(seen[d]++, 0);
        }
    }
    assert_true(rms[MF_ANON_DETAIL_GROUPS - 1] > 1.2 * rms[0]);
    for (int g = 1; g < MF_ANON_DETAIL_GROUPS; g++) assert_true(rms[g] > rms[g - 1]);
    assert_true(mf_anon_detail_pick(m, 3, 7) < per);                                  /* a toddler: the children's maps */
    assert_true(mf_anon_detail_pick(m, 80, 7) >= (MF_ANON_DETAIL_GROUPS - 1) * per); /* 80 y: the oldest */
    int hi = 0;
    for (uint64_t k = 0; k < (uint64_t)m->nd; k++) hi |= mf_anon_detail_pick(m, -1, k) >= per; /* no age: any map */
    assert_true(hi);
    assert_int_equal(mf_anon_detail_pick(m0, 3, 1), 1); /* a model without ages: every map */
    /* saved and loaded back with its ages */
    char tmp[] = "/tmp/mfmc-test-ages-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    mf_anon_model_t *back = NULL;
    assert_int_equal(mf_anon_model_save(m, tmp), MF_OK);
    assert_int_equal(mf_anon_model_load(tmp, &back), MF_OK);
    remove(tmp);
    assert_memory_equal(back->detail_age, m->detail_age, sizeof(float) * (size_t)m->nd);
    mf_anon_model_free(back);
    /* more maps than the cap allows over four groups: refused */
    o.detail_ages = 1, o.n_detail = MF_ANON_MAX_DETAIL / MF_ANON_DETAIL_GROUPS + 1;
    mf_anon_model_t *none = NULL;
    assert_int_equal(mf_anon_train(cs.an, (const char *const *)cs.paths, cs.n, &o, &none, NULL), MF_ERR_ARG);
    assert_null(none);
    mf_anon_model_free(m), mf_anon_model_free(m0);
    clean_set_close(&cs);
}

typedef struct {
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *an;
    mf_anon_t *a;
    mf_img img;
    mf_face faces[16];
    int n;
} fixture;

static int setup(void **state) {
    static fixture f;
    memset(&f, 0, sizeof f);
    *state = &f;
    char path[4096];
    snprintf(path, sizeof path, "%s/ffhq/ffhq_0288.jpg", tu_data_dir());
    if (!tu_exists(path)) snprintf(path, sizeof path, "%s/demo/sample2.jpg", tu_models_dir());
    if (!tu_exists(MODEL) || !tu_exists(path)) return 0;
    mf_nn_pool_create(2, &f.pool);
    mf_face_analyzer_opts ao = {.pool = f.pool};
    if (mf_face_analyzer_create(tu_models_dir(), &ao, &f.an)) return 0;
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f.an, .pool = f.pool, .max_tries = 3};
    if (mf_anon_create(&o, &f.a)) return 0;
    if (mf_img_load(path, NULL, &f.img, NULL)) return 0;
    mf_face_analyze(f.an, &f.img, f.faces, 16, &f.n);
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    mf_anon_free(f->a);
    mf_face_analyzer_free(f->an);
    mf_nn_pool_free(f->pool);
    mf_img_free(&f->img);
    return 0;
}

#define NEED_FIXTURE(f)                                                                                            \
    do {                                                                                                           \
        if (!(f)->a || (f)->n == 0) {                                                                              \
            printf("  skipped: models, identity model or photo absent\n");                                         \
            skip();                                                                                                \
        }                                                                                                          \
    } while (0)

static double face_change(const mf_img *a, const mf_img *b, const mf_face *f) {
    const mf_face_box *bx = &f->lm.box;
    double d = 0;
    long n = 0;
    for (int y = (int)fmaxf(0, bx->y); y < (int)fminf(a->h, bx->y + bx->h); y++)
        for (int x = (int)fmaxf(0, bx->x); x < (int)fminf(a->w, bx->x + bx->w); x++, n++)
            for (int k = 0; k < 3; k++) d += abs(a->data[((size_t)y * a->w + x) * 3 + k] - b->data[((size_t)y * a->w + x) * 3 + k]);
    return n ? d / (3.0 * n) : 0;
}

static mf_img copy_of(const mf_img *s) {
    mf_img d;
    assert_int_equal(mf_img_init(&d, s->w, s->h, 3), MF_OK);
    memcpy(d.data, s->data, (size_t)s->w * s->h * 3);
    return d;
}

/* The index of the anonymizer's recognizer of that name, -1 when it has none. */
static int anon_rec_index(const mf_anon_t *a, const char *name) {
    for (int i = 0; i < mf_anon_recognizer_count(a); i++)
        if (!strcmp(mf_anon_recognizer_info(a, i)->name, name)) return i;
    return -1;
}

/* (push38) The first seed from 42 (to 53) at which anonymizer a publishes the fixture's face, its result in *r (the
 * last seed's when none does: the caller asserts the decision); each seed's draws printed with `label`. */
static uint64_t first_accepted_seed(const fixture *f, mf_anon_t *a, const char *label, mf_anon_result *r) {
    uint64_t seed = 42;
    for (; seed < 54; seed++) {
        mf_img x = copy_of(&f->img);
        assert_int_equal(mf_anon_face(a, &x, &f->faces[0], MF_ANON_SYNTH, seed, NULL, r), MF_OK);
        mf_img_free(&x);
        printf("  %s, seed %d: decision %d draws %s\n", label, (int)seed, r->decision, r->draws);
        if (r->decision == MF_ANON_ACCEPTED) break;
    }
    return seed;
}

static void test_changed_and_reproducible(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_img a = copy_of(&f->img), b = copy_of(&f->img), c = copy_of(&f->img);
    mf_anon_result ra, rb, rc;
    assert_int_equal(mf_anon_face(f->a, &a, &f->faces[0], MF_ANON_SYNTH, 42, NULL, &ra), MF_OK);
    assert_int_equal(mf_anon_face(f->a, &b, &f->faces[0], MF_ANON_SYNTH, 42, NULL, &rb), MF_OK);
    assert_int_equal(mf_anon_face(f->a, &c, &f->faces[0], MF_ANON_SYNTH, 43, NULL, &rc), MF_OK);
    printf("  decision %d tries %d, change %.1f levels; ensemble similarities", ra.decision, ra.tries,
           face_change(&f->img, &a, &f->faces[0]));
    for (int i = 0; i < ra.n_rec; i++) printf(" %s %.3f", mf_anon_recognizer_info(f->a, i)->name, ra.sim[i]);
    printf("\n");
    assert_true(face_change(&f->img, &a, &f->faces[0]) > 3); /* never left unchanged */
    assert_memory_equal(a.data, b.data, (size_t)a.w * a.h * 3); /* same seed, same result */
    assert_int_equal(ra.tries, rb.tries);
    if (ra.decision == MF_ANON_ACCEPTED && rc.decision == MF_ANON_ACCEPTED)
        assert_true(face_change(&a, &c, &f->faces[0]) > 0.5); /* another seed, another face */
    else
        printf("  (another seed: not compared, a draw fell back to the filter)\n");
    /* the guarantee: an accepted face is below every ensemble threshold */
    if (ra.decision == MF_ANON_ACCEPTED)
        for (int i = 0; i < ra.n_rec; i++)
            if (mf_anon_recognizer_info(f->a, i)->ensemble) assert_true(ra.sim[i] < mf_anon_recognizer_info(f->a, i)->dissimilarity_threshold);
    mf_img_free(&a), mf_img_free(&b), mf_img_free(&c);
}

/* The guarantee holds at the alignments another detector may find, not only at ours: for an accepted face, the
 * original and the result embedded at the same jittered five points (mf_anon_jitter5) score at most the reported
 * similarity, and below the dissimilarity threshold. Without the jittered checks the reported similarity was the
 * best-aligned one only (the privacy-anon check found arcface 0.32 on a face accepted at 0.18). */
static void test_guarantee_at_other_alignments(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    int checked = 0;
    for (uint64_t seed = 42; seed < 45; seed++) {
        mf_img a = copy_of(&f->img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(f->a, &a, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
        /* an accepted draw was detected again and its age and gender were estimated (the checks defer them to the
         * draws whose identity checks passed, never skip them) */
        if (r.decision == MF_ANON_ACCEPTED && f->faces[0].attr.age >= 0)
            assert_true(r.detected_after && r.age_after >= 0 && r.gender_after != MF_GENDER_UNKNOWN);
        for (int i = 0; r.decision == MF_ANON_ACCEPTED && i < r.n_rec; i++) {
            const mf_face_recognizer_info *inf = mf_anon_recognizer_info(f->a, i);
            if (!inf->ensemble) continue;
            mf_face_recognizer_t *rec;
            assert_int_equal(mf_face_recognizer_create(tu_models_dir(), inf->name, f->pool, &rec), MF_OK);
            float p5[5][2], pj[5][2], e0[1024], e1[1024], worst = -2;
            mf_face_5pt(&f->faces[0], p5);
            for (int q = 0; q < MF_ANON_N_JITTER; q++) {
                mf_anon_jitter5(p5, q, pj);
                assert_int_equal(mf_face_recognizer_embed(rec, &f->img, pj, e0), MF_OK);
                assert_int_equal(mf_face_recognizer_embed(rec, &a, pj, e1), MF_OK);
                worst = fmaxf(worst, mf_face_similarity(e0, e1, inf->dim));
            }
            /* and at the original's own landmarks (the checks run it first, before any analysis) */
            assert_int_equal(mf_face_recognizer_embed(rec, &f->img, p5, e0), MF_OK);
            assert_int_equal(mf_face_recognizer_embed(rec, &a, p5, e1), MF_OK);
            float own = mf_face_similarity(e0, e1, inf->dim);
            printf("  seed %d %s: reported %.3f, own alignment %.3f, worst jittered alignment %.3f\n", (int)seed,
                   inf->name, r.sim[i], own, worst);
            assert_true(own <= r.sim[i] + 1e-4f && own < inf->dissimilarity_threshold);
            /* (judge34) the extra judge (an ensemble member of this anonymizer only, the registry's flag 0) is
             * checked at the jittered alignments only with tuning.judge_jitter (off by default) */
            if (mf_face_recognizer_find(inf->name)->ensemble) {
                assert_true(worst <= r.sim[i] + 1e-4f);
                assert_true(worst < inf->dissimilarity_threshold);
                checked++;
            }
            mf_face_recognizer_free(rec);
        }
        mf_img_free(&a);
    }
    if (!checked) printf("  (no seed was accepted: nothing to check)\n");
}

/* (speed16) The guarantee's embeddings run as batches on the pool's two threads (two sessions per recognizer, the
 * jobs of a draw handed out in the checks' order and applied in it up to the first rejection): the anonymizer with a
 * 2-thread pool publishes exactly what one on the calling thread alone publishes, draw for draw — the same pixels,
 * decision, draws, similarities, ages and note — including faces whose draws are rejected at some alignment (a job
 * skipped before the first rejection, or a later job's rejection reported first, would change them), and the
 * published result is below every threshold at every alignment (test_guarantee_at_other_alignments).
 * (speed17) The one on the calling thread also takes the reference rendering (mf_anon_debug_reference): the
 * fixture's anonymizer splits the render's row loops (warp, blurs, low-passes, pyramid, texture synthesis) over the
 * pool and keeps the photo's low-passes between draws; a band computed differently, a row left out or a cache
 * holding another draw's values changes the pixels of some draw.
 * (speed18) The reference path also keeps the identity check's order before speed18 (each alignment in turn, faceapi
 * then arcface), the fixture's runs arcface at all its alignments first (SCREEN_FIRST): the order may only change how
 * soon a rejected draw stops, never which draw is published nor what it reports. Fails (checked) when the screened
 * order leaves the other recognizer's jobs out (seed 44's published faceapi similarity 0.855 instead of 0.866: the
 * jittered alignments were not checked). A rejected draw's reason may differ in principle (the first rejecting job in
 * the new order); on these seeds the notes are equal, and on 60 FFHQ faces 4 fallback notes changed (eval_anon).
 * (speed19) The fixture's anonymizer reads a draw's age and gender (check step (4)) with its own pool-less attribute
 * session beside step (3)'s embeddings, and skips the feedback of a last draw rejected in step (1); the reference
 * path reads them with the analyser, and the feedback at every draw. Fails (checked, rel build) when the own session
 * reads at the detection's box instead of the mesh's (seed 44: age_after differs) and when every draw skips its
 * feedback (seed 41: the third draw is another face, its note reads 0.256 instead of 0.240). The feedback of a draw
 * rejected in step (1) is read speculatively beside step (1)'s batch with the own session: fails when that read is
 * 3 px off (seed 41: 0.239 instead of 0.240). */
static void test_two_threads_same_result(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_t *one;
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .max_tries = 3};
    assert_int_equal(mf_anon_create(&o, &one), MF_OK);
    /* (speed17) and the reference rendering: no row splits, the photo's low-passes recomputed at every draw */
    mf_anon_debug_reference(one, 1);
    int rejected = 0;
    for (uint64_t seed = 40; seed < 46; seed++) {
        mf_img a = copy_of(&f->img), b = copy_of(&f->img);
        mf_anon_result ra, rb;
        assert_int_equal(mf_anon_face(f->a, &a, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &ra), MF_OK);
        assert_int_equal(mf_anon_face(one, &b, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &rb), MF_OK);
        printf("  seed %d: decision %d / %d, draws %d / %d, sim", (int)seed, ra.decision, rb.decision, ra.tries, rb.tries);
        for (int i = 0; i < ra.n_rec; i++) printf(" %.4f/%.4f", ra.sim[i], rb.sim[i]);
        printf(" %s\n", ra.note);
        assert_memory_equal(a.data, b.data, (size_t)a.w * a.h * 3);
        assert_int_equal(ra.decision, rb.decision);
        assert_int_equal(ra.tries, rb.tries);
        assert_int_equal(ra.method, rb.method);
        for (int i = 0; i < ra.n_rec; i++) {
            assert_true(ra.sim[i] == rb.sim[i]);
            assert_true(ra.gallery_sim[i] == rb.gallery_sim[i]);
        }
        assert_true(ra.age_after == rb.age_after);
        assert_int_equal(ra.gender_after, rb.gender_after);
        assert_string_equal(ra.note, rb.note);
        rejected += ra.tries > 1 || ra.decision != MF_ANON_ACCEPTED;
        mf_img_free(&a), mf_img_free(&b);
    }
    printf("  %d of 6 seeds had a rejected draw\n", rejected);
    mf_anon_free(one);
}

/* test_filter_check_two_threads_same_result: one face replaced by a and by one (seed 5), everything compared; *found:
 * the filtered face was found again, *matched: an ensemble similarity reached its threshold */
static void filter_check_compare(mf_anon_t *a, mf_anon_t *one, const mf_img *img, const mf_face *face,
                                 mf_anon_method m, const mf_anon_galleries *gal, int *found, int *matched) {
    mf_img x = copy_of(img), y = copy_of(img);
    mf_anon_result ra, rb;
    int forced = m == MF_ANON_SYNTH;
    mf_anon_debug_force_similar(a, forced), mf_anon_debug_force_similar(one, forced);
    assert_int_equal(mf_anon_face(a, &x, face, m, 5, gal, &ra), MF_OK);
    assert_int_equal(mf_anon_face(one, &y, face, m, 5, gal, &rb), MF_OK);
    mf_anon_debug_force_similar(a, 0), mf_anon_debug_force_similar(one, 0);
    printf("  method %d gallery %d: decision %d detected %d/%d age %.1f/%.1f sim", (int)m, gal != NULL, ra.decision,
           ra.detected_after, rb.detected_after, ra.age_after, rb.age_after);
    for (int i = 0; i < ra.n_rec; i++) printf(" %.4f/%.4f (g %.4f/%.4f)", ra.sim[i], rb.sim[i], ra.gallery_sim[i], rb.gallery_sim[i]);
    printf(" '%s'\n", ra.note);
    assert_memory_equal(x.data, y.data, (size_t)x.w * x.h * 3);
    assert_int_equal(ra.decision, rb.decision);
    assert_int_equal(ra.method, rb.method);
    assert_int_equal(ra.tries, rb.tries);
    assert_int_equal(ra.detected_after, rb.detected_after);
    for (int i = 0; i < ra.n_rec; i++) {
        assert_true(ra.sim[i] == rb.sim[i]);
        assert_true(ra.gallery_sim[i] == rb.gallery_sim[i]);
        const mf_face_recognizer_info *inf = mf_anon_recognizer_info(a, i);
        *matched += inf->ensemble && ra.sim[i] >= inf->dissimilarity_threshold;
    }
    assert_true(ra.age_after == rb.age_after);
    assert_int_equal(ra.gender_after, rb.gender_after);
    assert_true(ra.yaw_after == rb.yaw_after);
    assert_true(ra.mesh_score_after == rb.mesh_score_after);
    assert_string_equal(ra.note, rb.note);
    *found += ra.detected_after;
    mf_img_free(&x), mf_img_free(&y);
}

/* (speed22) The filter's check (the baselines, and the fallback filter after the draws: check without a draw) embeds
 * every recognizer at every alignment as one batch on the pool's two threads, with the age and gender read beside it,
 * and applies the embeddings in the order the one-after-the-other path computes them, stopping a recognizer's
 * jittered alignments where that path stops. The fixture's anonymizer (a 2-thread pool) publishes exactly what one
 * without a pool (every embedding one after the other on the calling thread, the age and gender read by the
 * analyser after them) publishes: pixels, similarities, gallery similarities, detection, pose, age, gender, note —
 * for blur, pixelate and solid with and without a gallery holding the original (on the fixture's face the filtered
 * face is still matched: the jittered alignments stop early), for the fallback filter of a forced-similar face, and
 * for a blurred and a pixelated middle of the face (its boxes shrunk), found again (the attributes beside the batch).
 * Fails (checked) when the batch's jobs are applied one job off, when the jittered alignments are applied without
 * the stop, and when the attributes beside the batch are read at the detection's box. */
static void test_filter_check_two_threads_same_result(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_t *one;
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .max_tries = 3};
    assert_int_equal(mf_anon_create(&o, &one), MF_OK);
    int nr = mf_anon_recognizer_count(f->a);
    assert_int_equal(nr, mf_anon_recognizer_count(one));
    mf_gallery_t *g[MF_ANON_MAX_RECOGNIZERS] = {0};
    for (int i = 0; i < nr; i++) { /* each recognizer's gallery holds the face itself */
        float e[1024];
        assert_int_equal(mf_anon_embed(f->a, i, &f->img, &f->faces[0], e), MF_OK);
        assert_int_equal(mf_gallery_create(mf_anon_recognizer_info(f->a, i)->dim, &g[i]), MF_OK);
        assert_int_equal(mf_gallery_add(g[i], "original", e), MF_OK);
    }
    mf_anon_galleries gal = {(const mf_gallery_t *const *)g};
    const mf_anon_method ms[] = {MF_ANON_BLUR, MF_ANON_PIXELATE, MF_ANON_SOLID, MF_ANON_SYNTH};
    int found = 0, matched = 0;
    for (int k = 0; k < 4; k++)
        for (int wg = 0; wg < 2; wg++)
            filter_check_compare(f->a, one, &f->img, &f->faces[0], ms[k], wg ? &gal : NULL, &found, &matched);
    /* filtered faces found again (the attributes beside the batch): the face record's boxes shrunk about their centre,
     * so the filter covers only the middle of the face and the smaller blur leaves it a face */
    for (int sh = 0; sh < 3; sh++) {
        mf_face small = f->faces[0];
        float k = 0.6f - 0.1f * sh;
        mf_face_box *bs[2] = {&small.det, &small.lm.box};
        for (int q = 0; q < 2; q++)
            bs[q]->x += 0.5f * (1 - k) * bs[q]->w, bs[q]->y += 0.5f * (1 - k) * bs[q]->h, bs[q]->w *= k, bs[q]->h *= k;
        filter_check_compare(f->a, one, &f->img, &small, MF_ANON_BLUR, NULL, &found, &matched);
        filter_check_compare(f->a, one, &f->img, &small, MF_ANON_PIXELATE, &gal, &found, &matched);
    }
    for (int i = 0; i < nr; i++) mf_gallery_free(g[i]);
    printf("  filtered faces found again %d, ensemble similarities over the threshold %d\n", found, matched);
    assert_true(found > 0);
    assert_true(matched > 0);
    mf_anon_free(one);
}

static void test_forced_similar_falls_back(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_img a = copy_of(&f->img);
    mf_anon_result r;
    mf_anon_debug_force_similar(f->a, 1);
    assert_int_equal(mf_anon_face(f->a, &a, &f->faces[0], MF_ANON_SYNTH, 7, NULL, &r), MF_OK);
    mf_anon_debug_force_similar(f->a, 0);
    printf("  forced-similar: decision %d tries %d note '%s'\n", r.decision, r.tries, r.note);
    /* redrawn (3 tries and, last33, the last-resort rung's 9 for this adult face), then the fallback, never a silent
     * pass */
    assert_int_equal(r.decision, MF_ANON_FALLBACK);
    assert_int_equal(r.tries, 3 + 9);
    assert_true(strlen(r.note) > 0);
    assert_true(face_change(&f->img, &a, &f->faces[0]) > 3);
    for (int i = 0; i < r.n_rec; i++)
        if (mf_anon_recognizer_info(f->a, i)->ensemble && r.detected_after)
            assert_true(r.sim[i] < mf_anon_recognizer_info(f->a, i)->dissimilarity_threshold);
    mf_img_free(&a);
}

/* A draw that removes the identity but misses the age tolerance (here an impossible 0.001 years) is never accepted;
 * it is kept as a synthetic fallback (still detected, below every ensemble threshold) rather than the filter. */
static void test_synthetic_fallback(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                      .max_tries = 2, .age_tolerance = 0.001f};
    mf_anon_t *a2;
    assert_int_equal(mf_anon_create(&o, &a2), MF_OK);
    mf_img a = copy_of(&f->img);
    mf_anon_result r;
    assert_int_equal(mf_anon_face(a2, &a, &f->faces[0], MF_ANON_SYNTH, 42, NULL, &r), MF_OK);
    printf("  decision %d method %d tries %d note '%s'\n", r.decision, r.method, r.tries, r.note);
    assert_int_equal(r.decision, MF_ANON_FALLBACK);
    assert_true(face_change(&f->img, &a, &f->faces[0]) > 3);
    if (r.method == MF_ANON_SYNTH) {
        assert_true(r.detected_after);
        assert_non_null(strstr(r.note, "identity removed"));
        for (int i = 0; i < r.n_rec; i++)
            if (mf_anon_recognizer_info(a2, i)->ensemble)
                assert_true(r.sim[i] < mf_anon_recognizer_info(a2, i)->dissimilarity_threshold);
    } else
        printf("  (no draw removed the identity: the filter)\n");
    mf_img_free(&a);
    mf_anon_free(a2);
}

/* (child32) A child's synthetic fallback is published only from a draw read under tuning.child_relaxed_age years;
 * otherwise the filter. The fixture's face is given a child's estimated age (8): its draws are read older. With the
 * knob off the fallback publishes the identity-removing draw (read at age Y); with the knob at Y that draw is refused
 * and the face is filtered; at Y + 1 it is published again (same seed, same draws). */
static void test_child_fallback_not_adult(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_face child = f->faces[0];
    child.attr.age = 8;
    float limit[3] = {-1, 0, 0};
    mf_anon_result r[3];
    for (int k = 0; k < 3; k++) {
        mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                          .max_tries = 6, .age_tolerance = 0.001f};
        o.tuning.child_relaxed_age = limit[k];
        o.tuning.child_strong = 1; /* (kid49) the scenario's draws include strong ones, which a child no longer gets */
        mf_anon_t *a2;
        assert_int_equal(mf_anon_create(&o, &a2), MF_OK);
        mf_img a = copy_of(&f->img);
        assert_int_equal(mf_anon_face(a2, &a, &child, MF_ANON_SYNTH, 42, NULL, &r[k]), MF_OK);
        printf("  child limit %.0f: decision %d method %d age after %.0f note '%s'\n", limit[k], r[k].decision,
               r[k].method, r[k].age_after, r[k].note);
        assert_int_equal(r[k].decision, MF_ANON_FALLBACK);
        assert_true(face_change(&f->img, &a, &child) > 3);
        mf_img_free(&a);
        mf_anon_free(a2);
        if (k == 0) { /* the scenario: an identity-removing draw read as an adult */
            assert_int_equal(r[0].method, MF_ANON_SYNTH);
            assert_true(r[0].age_after >= 13);
            limit[1] = r[0].age_after, limit[2] = r[0].age_after + 1;
        }
    }
    assert_int_not_equal(r[1].method, MF_ANON_SYNTH); /* read at the limit: the filter */
    assert_int_equal(r[2].method, MF_ANON_SYNTH);     /* read under it: the same synthetic fallback */
    assert_float_equal(r[2].age_after, r[0].age_after, 1e-6);
}

/* (last33) The last-resort rung: an adult face whose max_tries draws all failed on identity gets tuning.last_rungs more
 * draws before the filter, each checked like any draw, drawn at the ladder's last rung (last_mode 1) or its first
 * strong rung (3); a child (estimated under 13) gets none. A forced-similar identity (the original's own texture and
 * shape) fails every draw: with last_rungs 4 and 3 tries the face is drawn 7 times and then filtered (never a silent
 * pass); with last_rungs -1, and for the same face given a child's age, 3 times. Fails on main (3 draws). */
static void test_last_rung_after_failed_ladder(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    const struct {
        int rungs, mode;
        float age;
        int tries, rung;
    } cs[] = {{4, 1, -1, 7, 2}, {4, 3, -1, 7, 1}, {-1, 1, -1, 3, -1}, {4, 1, 8, 3, -1}};
    for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
        mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                          .max_tries = 3, .tuning = {.last_rungs = cs[k].rungs, .last_mode = cs[k].mode}};
        mf_anon_t *a2;
        assert_int_equal(mf_anon_create(&o, &a2), MF_OK);
        mf_face face = f->faces[0];
        if (cs[k].age >= 0) face.attr.age = cs[k].age;
        mf_img a = copy_of(&f->img);
        mf_anon_result r;
        mf_anon_debug_force_similar(a2, 1);
        assert_int_equal(mf_anon_face(a2, &a, &face, MF_ANON_SYNTH, 11, NULL, &r), MF_OK);
        printf("  last rungs %d mode %d age %.0f: decision %d method %d tries %d draws %s rungs", cs[k].rungs,
               cs[k].mode, face.attr.age, r.decision, r.method, r.tries, r.draws);
        for (int i = 0; i < r.tries; i++) printf(" %d", r.draw_rung[i]);
        printf("; note '%s'\n", r.note);
        assert_int_equal(r.tries, cs[k].tries);
        assert_int_equal(r.decision, MF_ANON_FALLBACK); /* every draw failed: the filter, saying why */
        assert_int_not_equal(r.method, MF_ANON_SYNTH);
        assert_non_null(strstr(r.note, "fallback after"));
        assert_int_equal((int)strlen(r.draws), r.tries);
        for (int i = 0; i < r.tries; i++) {
            assert_non_null(strchr("AaFfNP", r.draws[i])); /* each draw checked and rejected */
            assert_int_equal(r.draw_rung[i], i < 3 ? i : cs[k].rung);
        }
        assert_true(face_change(&f->img, &a, &face) > 3);
        mf_img_free(&a);
        mf_anon_free(a2);
    }
}

static void test_baselines(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    const mf_anon_method ms[] = {MF_ANON_BLUR, MF_ANON_PIXELATE, MF_ANON_SOLID};
    for (int k = 0; k < 3; k++) {
        mf_img a = copy_of(&f->img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(f->a, &a, &f->faces[0], ms[k], 1, NULL, &r), MF_OK);
        assert_int_equal(r.decision, MF_ANON_BASELINE);
        assert_true(face_change(&f->img, &a, &f->faces[0]) > 1);
        mf_img_free(&a);
    }
    /* bad arguments leave the image alone */
    mf_img a = copy_of(&f->img);
    mf_face bogus = f->faces[0];
    bogus.lm.box.w = bogus.det.w = -1;
    mf_anon_result r;
    assert_int_equal(mf_anon_face(f->a, &a, &bogus, MF_ANON_SYNTH, 1, NULL, &r), MF_ERR_ARG);
    assert_memory_equal(a.data, f->img.data, (size_t)a.w * a.h * 3);
    assert_int_equal(mf_anon_face(f->a, &a, &f->faces[0], MF_ANON_DONOR, 1, NULL, &r), MF_ERR_ARG); /* no donors */
    mf_img_free(&a);
}

/* --donors: a draw takes the donor of the target's gender and age (within 10 years) that is the most dissimilar to
 * the original by the ensemble (the worst-case similarity), then the next one. Donors: synthetic faces of nobody. */
static void test_donor_most_dissimilar(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    char path[4096];
    snprintf(path, sizeof path, "%s/synthetic/synth_0000.jpg", tu_data_dir());
    if (!tu_exists(path)) {
        printf("  skipped: synthetic faces absent\n");
        skip();
    }
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool, .max_tries = 3};
    mf_anon_t *a;
    assert_int_equal(mf_anon_create(&o, &a), MF_OK);
    const mf_face *t = &f->faces[0];
    int nrec = mf_anon_recognizer_count(a);
    float eo[MF_ANON_MAX_RECOGNIZERS][1024], e[1024];
    for (int i = 0; i < nrec; i++) assert_int_equal(mf_anon_embed(a, i, &f->img, t, eo[i]), MF_OK);
    float score[40], age[40], male[40];
    int n = 0;
    for (int k = 0; k < 40; k++) {
        snprintf(path, sizeof path, "%s/synthetic/synth_%04d.jpg", tu_data_dir(), k);
        mf_img im;
        if (mf_img_load(path, NULL, &im, NULL)) continue;
        mf_face df[4];
        int nf = 0;
        mf_face_analyze(f->an, &im, df, 4, &nf);
        if (mf_anon_add_donor(a, &im) == MF_OK) {
            assert_int_equal(nf, 1);
            score[n] = -2, age[n] = df[0].attr.age, male[n] = df[0].attr.p_male;
            for (int i = 0; i < nrec; i++)
                if (mf_anon_recognizer_info(a, i)->ensemble) {
                    assert_int_equal(mf_anon_embed(a, i, &im, &df[0], e), MF_OK);
                    score[n] = fmaxf(score[n], mf_face_similarity(e, eo[i], mf_anon_recognizer_info(a, i)->dim));
                }
            n++;
        }
        mf_img_free(&im);
    }
    assert_int_equal(mf_anon_donor_count(a), n);
    assert_true(n >= 10);
    /* the test's own ranking of the eligible donors */
    int rank[40], nr = 0;
    for (int d = 0; d < n; d++)
        if ((male[d] >= 0.5f) == (t->attr.p_male >= 0.5f) && fabsf(age[d] - t->attr.age) <= 10) rank[nr++] = d;
    assert_true(nr >= 2);
    for (int x = 0; x < nr; x++)
        for (int y = x + 1; y < nr; y++)
            if (score[rank[y]] < score[rank[x]]) {
                int tmp = rank[x];
                rank[x] = rank[y], rank[y] = tmp;
            }
    mf_img out = copy_of(&f->img);
    mf_anon_result r;
    assert_int_equal(mf_anon_face(a, &out, t, MF_ANON_DONOR, 1, NULL, &r), MF_OK);
    assert_true(r.tries >= 1 && r.tries <= 3);
    assert_true(r.donor >= 0 && r.donor < n);
    /* draw k takes the k-th most dissimilar: the published draw is one of the first `tries`, the first if it passed */
    int at = -1;
    for (int x = 0; x < nr; x++)
        if (rank[x] == r.donor) at = x;
    assert_true(at >= 0 && at < r.tries);
    if (r.tries == 1) assert_int_equal(r.donor, rank[0]);
    assert_true(score[rank[0]] <= score[rank[nr - 1]]);
    assert_true(face_change(&f->img, &out, t) > 1);
    mf_img_free(&out);
    mf_anon_free(a);
}

/* (hue36) mf_anon_tone_codes: a draw pushed away from a target's codes has a mean colour outside the bound (checked,
 * so the test can fail), is moved inside it on every channel, keeps its age and gender read-outs, and a draw inside
 * the bound is left as it was. */
/* The committed identity model, or the test skipped when it is not present. */
static mf_anon_model_t *model_need(void) {
    mf_anon_model_t *m = NULL;
    if (mf_anon_model_load(MODEL, &m)) {
        printf("  skipped: %s not present\n", MODEL);
        skip();
    }
    return m;
}

static double tc_colour(const mf_anon_model_t *m, const float *w, const float *b, int ch, const float *z) {
    double p = b[ch];
    for (int c = 0; c < m->kt; c++) p += (double)w[(size_t)ch * m->kt + c] * z[m->ks + c];
    return p;
}
/* (age41) mf_anon_age_ask: the asked age moved away from the model's mean by (stretch - 1) x the distance, capped at
 * MF_ANON_AGE_STRETCH_MAX years, faded in between MF_ANON_AGE_STRETCH_FROM and _FULL, never under 1; stretch 1 asks
 * the age itself. */
static void test_age_ask(void **state) {
    (void)state;
    const float mean = 30.9f;
    for (float age = 0; age <= 90; age += 7.5f) assert_float_equal(mf_anon_age_ask(age, mean, 1), fmaxf(1, age), 1e-5);
    assert_float_equal(mf_anon_age_ask(25, mean, 1.5f), 25 - 0.5f * 5.9f, 1e-4);  /* younger than the mean: younger */
    assert_float_equal(mf_anon_age_ask(60, mean, 1.5f), 60 + 0.5f * 29.1f, 1e-4); /* older: older */
    assert_float_equal(mf_anon_age_ask(mean, mean, 2), mean, 1e-5);
    assert_float_equal(mf_anon_age_ask(80, mean, 1.5f), 80 + MF_ANON_AGE_STRETCH_MAX, 1e-4); /* capped */
    assert_float_equal(mf_anon_age_ask(20, 60, 3), 20 - MF_ANON_AGE_STRETCH_MAX, 1e-4);
    assert_float_equal(mf_anon_age_ask(8, mean, 1.5f), 8, 1e-5); /* a child: its own age */
    float mid = 0.5f * (MF_ANON_AGE_STRETCH_FROM + MF_ANON_AGE_STRETCH_FULL); /* half faded in */
    assert_float_equal(mf_anon_age_ask(mid, mean, 1.5f), mid + 0.5f * 0.5f * (mid - mean), 1e-4);
    assert_true(mf_anon_age_ask(1, 60, 3) >= 1);
    assert_float_equal(mf_anon_age_ask(MF_ANON_AGE_STRETCH_FULL, 60, 3), 5, 1e-4); /* 20 - 15 */
}

/* (sym40) The committed model's mean shape is mirror-symmetric: the map pairs every vertex with its mirror image,
 * both ways, close; symmetrising keeps a symmetric field and removes a sideways shift and a turn. */
static void test_shape_sym(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    enum { NVX = NV };
    short map[NVX];
    float worst = -1;
    assert_int_equal(mf_anon_mirror_map(m->shape_mean, NVX, map, &worst), MF_OK);
    assert_true(worst >= 0 && worst < 0.02f); /* RMS radius 1: within 2 % of it */
    int self = 0;
    for (int v = 0; v < NVX; v++) {
        assert_int_equal(map[map[v]], v); /* an involution */
        self += map[v] == v;
        if (map[v] == v) assert_true(fabsf(m->shape_mean[3 * v]) < 0.02f); /* only the midline maps onto itself */
    }
    assert_true(self > 0 && self < NVX / 4);
    assert_int_equal(map[1], 1); /* the nose tip */
    float d[NVX * 3], tmp[NVX * 3], e[NVX * 3];
    /* a symmetric field: wider (x outwards), taller, deeper: unchanged */
    for (int v = 0; v < NVX; v++) {
        const float *p = m->shape_mean + 3 * v;
        d[3 * v] = 0.1f * p[0], d[3 * v + 1] = 0.05f * p[1] * p[1], d[3 * v + 2] = 0.02f * fabsf(p[0]);
    }
    memcpy(e, d, sizeof d);
    mf_anon_sym_deltas(d, map, NVX, tmp);
    for (int i = 0; i < NVX * 3; i++) assert_float_equal(d[i], e[i], 0.003f);
    /* a sideways shift, and a small turn about the vertical axis (x += a z, z -= a x): gone */
    for (int v = 0; v < NVX; v++) {
        const float *p = m->shape_mean + 3 * v;
        d[3 * v] = 0.2f + 0.1f * p[2], d[3 * v + 1] = 0, d[3 * v + 2] = -0.1f * p[0];
    }
    mf_anon_sym_deltas(d, map, NVX, tmp);
    for (int i = 0; i < NVX * 3; i++) assert_float_equal(d[i], 0, 0.003f);
    /* the sum of the two: the symmetric one alone */
    for (int v = 0; v < NVX; v++) {
        const float *p = m->shape_mean + 3 * v;
        d[3 * v] = e[3 * v] + 0.2f, d[3 * v + 1] = e[3 * v + 1], d[3 * v + 2] = e[3 * v + 2] - 0.1f * p[0];
    }
    mf_anon_sym_deltas(d, map, NVX, tmp);
    for (int i = 0; i < NVX * 3; i++) assert_float_equal(d[i], e[i], 0.003f);
    assert_int_equal(mf_anon_mirror_map(NULL, NVX, map, NULL), MF_ERR_ARG);
    assert_int_equal(mf_anon_mirror_map(m->shape_mean, 0, map, NULL), MF_ERR_ARG);
    mf_anon_model_free(m);
}

static double tc_readout(const mf_anon_model_t *m, const float *W, const float *z) {
    double p = W[m->ks + m->kt];
    for (int c = 0; c < m->ks + m->kt; c++) p += (double)W[c] * z[c];
    return p;
}
static void test_tone_codes_bound(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    int k = m->ks + m->kt;
    float *w = malloc(sizeof(float) * 3 * (size_t)m->kt), b[3], *zt = calloc((size_t)k, sizeof(float)),
          *z = calloc((size_t)k, sizeof(float));
    assert_non_null(w), assert_non_null(zt), assert_non_null(z);
    mf_anon_colour_readout(m, w, b);
    /* a target one spread out along the colour read-out's luminance direction, the draw as far the other way */
    double nw = 0;
    for (int c = 0; c < m->kt; c++) {
        double g = 0.299 * w[c] + 0.587 * w[m->kt + c] + 0.114 * w[2 * (size_t)m->kt + c];
        nw += g * g;
    }
    nw = sqrt(nw);
    assert_true(nw > 0);
    for (int c = 0; c < m->kt; c++) {
        double g = (0.299 * w[c] + 0.587 * w[m->kt + c] + 0.114 * w[2 * (size_t)m->kt + c]) / nw;
        zt[m->ks + c] = (float)(1.5 * g), z[m->ks + c] = (float)(-1.5 * g);
    }
    const float bound = 1.3f;
    int outside = 0;
    for (int ch = 0; ch < 3; ch++) {
        double t = tc_colour(m, w, b, ch, zt), p = tc_colour(m, w, b, ch, z);
        outside |= p < t / bound || p > t * bound;
    }
    assert_true(outside); /* the case the bound is for */
    double age = tc_readout(m, m->age_w, z), lg = tc_readout(m, m->male_w, z);
    assert_int_equal(mf_anon_tone_codes(m, w, b, zt, (float)age, (float)lg, bound, z), 1);
    for (int ch = 0; ch < 3; ch++) {
        double t = tc_colour(m, w, b, ch, zt), p = tc_colour(m, w, b, ch, z);
        assert_true(p >= t / bound - 0.5 && p <= t * bound + 0.5);
    }
    assert_true(fabs(tc_readout(m, m->age_w, z) - age) < 0.5);
    assert_true(fabs(tc_readout(m, m->male_w, z) - lg) < 0.05);
    /* inside the bound now: a second call leaves the codes as they are */
    float *z2 = malloc(sizeof(float) * (size_t)k);
    assert_non_null(z2);
    memcpy(z2, z, sizeof(float) * (size_t)k);
    assert_int_equal(mf_anon_tone_codes(m, w, b, zt, (float)tc_readout(m, m->age_w, z), (float)tc_readout(m, m->male_w, z),
                                        bound * 1.01f, z2), 0);
    assert_memory_equal(z, z2, sizeof(float) * (size_t)k);
    assert_int_equal(mf_anon_tone_codes(m, w, b, zt, 30, 0, 1.0f, z2), 0); /* bound <= 1: nothing */
    free(w), free(zt), free(z), free(z2);
    mf_anon_model_free(m);
}

/* A male target of `age` 1.2 spreads out in every code of its bucket, alternating signs, into zt (ks + kt); returns
 * the bucket's statistics (count, mean age, means, spreads). */
static const float *alternating_target(const mf_anon_model_t *m, float age, float *zt) {
    int k = m->ks + m->kt;
    const float *c = m->cond + (size_t)mf_anon_bucket(age, 1) * (2 + 2 * (size_t)k);
    for (int i = 0; i < k; i++) {
        float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
        zt[i] = mu + sd * (i % 2 ? 1.2f : -1.2f);
    }
    return c;
}

/* (light37) mf_anon_light_codes and a draw that keeps them: the mask marks texture codes only, among them the
 * component that is most a flat colour shift and the one whose luminance is most odd about the face's midline
 * (side light), both worked out here from the components themselves; a draw for a target given the mask takes the
 * target's own values in the kept codes (without the mask the push moves them away: checked, so the test can fail),
 * still lands on the target's age and gender read-outs, and still points away from the target in the other codes. */
static void test_light_codes_kept(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    int k = m->ks + m->kt, T = m->T, best_flat = -1, best_odd = -1;
    size_t T2 = (size_t)T * T;
    double bf = -1, bo = -1;
    for (int c = 0; c < m->kt; c++) { /* the flattest and the most odd component, by brute force */
        const float *b = m->tex_basis + (size_t)c * T2 * 3;
        double e = 0, s3[3] = {0, 0, 0}, nv = 0, odd = 0, lum = 0;
        for (int y = 0; y < T; y++)
            for (int x = 0; x < T; x++) {
                size_t p = (size_t)y * T + x, q = (size_t)y * T + (size_t)(T - 1 - x);
                if (!m->valid[p]) continue;
                nv++;
                for (int ch = 0; ch < 3; ch++) e += (double)b[3 * p + ch] * b[3 * p + ch], s3[ch] += b[3 * p + ch];
                if (!m->valid[q]) continue;
                double lp = (double)b[3 * p] + b[3 * p + 1] + b[3 * p + 2], lq = (double)b[3 * q] + b[3 * q + 1] + b[3 * q + 2];
                odd += (lp - lq) * (lp - lq), lum += 4 * lp * lp;
            }
        double flat = (s3[0] * s3[0] + s3[1] * s3[1] + s3[2] * s3[2]) / nv / e;
        if (flat > bf) bf = flat, best_flat = c;
        if (odd / lum > bo) bo = odd / lum, best_odd = c;
    }
    uint8_t *keep = malloc((size_t)k);
    float *zt = malloc(sizeof(float) * k), *zc = malloc(sizeof(float) * k), *z0 = malloc(sizeof(float) * k),
          *z1 = malloc(sizeof(float) * k);
    assert_true(keep && zt && zc && z0 && z1);
    int n = mf_anon_light_codes(m, 0.5f, keep);
    print_message("      light codes: %d (flattest texture code %d, %.2f; most odd %d, %.2f)\n", n, best_flat, bf,
                  best_odd, bo);
    assert_true(n >= 2 && n < m->kt / 2);
    for (int i = 0; i < m->ks; i++) assert_int_equal(keep[i], 0);
    assert_int_equal(keep[m->ks + best_flat], 1);
    assert_int_equal(keep[m->ks + best_odd], 1);
    /* without the tone codes (light_flat off): the side-light ones only */
    uint8_t *odd_only = malloc((size_t)k);
    assert_non_null(odd_only);
    int n_odd = mf_anon_light_codes(m, 0, odd_only);
    assert_true(n_odd >= 1 && n_odd < n);
    assert_int_equal(odd_only[m->ks + best_odd], 1);
    assert_int_equal(odd_only[m->ks + best_flat], 0);
    for (int i = 0; i < k; i++) assert_true(!odd_only[i] || keep[i]);
    free(odd_only);
    float age = 35, logit = 2.5f;
    const float *c = alternating_target(m, age, zt);
    mf_anon_rung rung = {.strong = 1, .ncand = 8, .spread = 1, .away = 0.6f, .gain = 1, .shade = 0.1f, .fine = 1};
    uint64_t r0 = 7, r1 = 7;
    mf_anon_draw_identity(m, &r0, age, logit, &rung, zt, 0, NULL, zc, z0);
    mf_anon_draw_identity(m, &r1, age, logit, &rung, zt, 0, keep, zc, z1);
    double moved0 = 0, along = 0, on = 0;
    for (int i = 0; i < k; i++) {
        float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
        if (keep[i]) {
            moved0 = fmax(moved0, fabs(z0[i] - zt[i]) / sd);
            assert_float_equal(z1[i], zt[i], 1e-3 * sd);
        } else {
            double o = (zt[i] - mu) / sd;
            along += (z1[i] - mu) / sd * o, on += o * o;
        }
    }
    print_message("      kept codes off the target's without the mask by up to %.2f spreads; with it, the other "
                  "codes' component along the target %.2f\n", moved0, along / sqrt(on));
    assert_true(moved0 > 1); /* the push moved the light codes away without the mask */
    assert_true(along < 0);  /* the rest still points away from the target */
    assert_true(fabs(tc_readout(m, m->age_w, z1) - age) < 1.0);
    assert_true(fabs(tc_readout(m, m->male_w, z1) - logit) < 0.1);
    free(keep), free(zt), free(zc), free(z0), free(z1);
    mf_anon_model_free(m);
}

/* (brow48) Brows no lighter than their skin (tuning.brow_dark): the committed model's brow masks cover both brows and
 * their reference skin lies above each; the mean texture, and the mean made lighter overall, are left as they are
 * (the skin at the loops' rims is lighter than 0.9 x the skin above); a texture whose brows were made lighter than the
 * skin (x 1.3 of the reference, as the anti-face of a face with dark brows draws them) gets brows no lighter than
 * 0.9 x the reference skin, or the mean face's own texel, in any channel; with the gate at 1 only brows at least as
 * light as their skin move. */
static void test_brow_clamp(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    int T = m->T;
    size_t T2 = (size_t)T * T;
    float *w = malloc(sizeof(float) * T2), *tex = malloc(sizeof(float) * 3 * T2);
    uint8_t *ref = malloc(T2);
    assert_true(w && tex && ref);
    assert_int_equal(mf_anon_brow_masks(m, w, ref), MF_OK);
    int n_in = 0, n_ref[2] = {0, 0};
    double ref_row[2] = {0, 0}, brow_row = 0;
    for (size_t p = 0; p < T2; p++) {
        if (w[p] >= 1) n_in++, brow_row += (double)(p / T);
        if (ref[p]) n_ref[ref[p] - 1]++, ref_row[ref[p] - 1] += (double)(p / T);
        assert_false(ref[p] && w[p] > 0);
    }
    print_message("      brow texels %d, reference texels %d + %d\n", n_in, n_ref[0], n_ref[1]);
    assert_true(n_in > 50 && n_ref[0] > 20 && n_ref[1] > 20);
    assert_true(ref_row[0] / n_ref[0] < brow_row / n_in && ref_row[1] / n_ref[1] < brow_row / n_in); /* above */
    /* the mean texture (dark brows; the skin at the loops' rims, lighter than 0.9 x the skin above, as it is) and the
     * mean made lighter overall: nothing moves */
    for (int v = 0; v < 2; v++) {
        for (size_t i = 0; i < 3 * T2; i++) tex[i] = m->tex_mean[i] * (v ? 1.2f : 1);
        assert_int_equal(mf_anon_brow_clamp(m, w, ref, 0.9f, -1, tex), 0);
        for (size_t i = 0; i < 3 * T2; i++) assert_float_equal(tex[i], m->tex_mean[i] * (v ? 1.2f : 1), 0);
    }
    /* inverted brows: lighter than the skin above them */
    double skin[3] = {0, 0, 0};
    for (size_t p = 0; p < T2; p++)
        for (int c = 0; c < 3 && ref[p]; c++) skin[c] += m->tex_mean[3 * p + c] / (n_ref[0] + n_ref[1]);
    memcpy(tex, m->tex_mean, sizeof(float) * 3 * T2);
    for (size_t p = 0; p < T2; p++)
        for (int c = 0; c < 3 && w[p] > 0; c++) tex[3 * p + c] += w[p] * (1.3f * (float)skin[c] - tex[3 * p + c]);
    int moved = mf_anon_brow_clamp(m, w, ref, 0.9f, -1, tex);
    assert_true(moved >= n_in);
    double worst = 0, over = 0; /* the brows' mean luminance over the skin's; the lightest texel over its cap */
    double yb = 0, ys = 0.299 * skin[0] + 0.587 * skin[1] + 0.114 * skin[2];
    for (size_t p = 0; p < T2; p++)
        if (w[p] >= 1) {
            yb += (0.299 * tex[3 * p] + 0.587 * tex[3 * p + 1] + 0.114 * tex[3 * p + 2]) / n_in;
            for (int c = 0; c < 3; c++)
                over = fmax(over, tex[3 * p + c] / fmax(0.9 * skin[c], m->tex_mean[3 * p + c]));
        }
    worst = yb / ys;
    print_message("      inverted brows: %d texels moved, their luminance 1.30 -> %.3f of the skin's (lightest "
                  "texel %.3f of its cap)\n", moved, worst, over);
    assert_true(worst < 0.95);
    assert_true(over <= 1.02); /* each brow against its own side's skin, within the two sides' difference */
    /* the gate: as inverted brows they move; brows a little darker than the skin (0.97 x) move only without it */
    for (size_t p = 0; p < T2; p++)
        for (int c = 0; c < 3 && w[p] > 0; c++) tex[3 * p + c] = 1.3f * (float)skin[c];
    assert_true(mf_anon_brow_clamp(m, w, ref, 0.9f, 1, tex) >= n_in);
    for (size_t p = 0; p < T2; p++)
        for (int c = 0; c < 3 && w[p] > 0; c++) tex[3 * p + c] = 0.97f * (float)skin[c];
    assert_int_equal(mf_anon_brow_clamp(m, w, ref, 0.9f, 1, tex), 0);
    assert_true(mf_anon_brow_clamp(m, w, ref, 0.9f, -1, tex) >= n_in);
    free(w), free(tex), free(ref);
    mf_anon_model_free(m);
}

/* (band48) The forehead step held at 0 (tuning.forehead_band): the committed model's read-out of the drawn texture's
 * step across the mid-forehead ring is the step measured on the drawn texture itself (mean + codes x basis, two rows
 * around the ring); strong draws pushed from a target reach steps of over 10 levels without it (30 here), with it
 * every step is held under 0.5 levels, and the age and gender read-outs stay on their targets. */
static void test_forehead_band(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    int k = m->ks + m->kt, T = m->T;
    float *w = malloc(sizeof(float) * (k + 1)), *zt = malloc(sizeof(float) * k), *zc = malloc(sizeof(float) * k),
          *z = malloc(sizeof(float) * k);
    assert_true(w && zt && zc && z);
    assert_int_equal(mf_anon_band_readout(m, w), 0);
    for (int i = 0; i < m->ks; i++) assert_float_equal(w[i], 0, 0);
    int ya = (int)floorf(m->uv[2 * 151 + 1]), x0 = (int)m->uv[2 * 108], x1 = (int)m->uv[2 * 337];
    float age = 35, logit = -2.5f;
    alternating_target(m, age, zt);
    double worst[2] = {0, 0};
    for (int v = 0; v < 2; v++)
        for (int d = 0; d < 40; d++) {
            mf_anon_rung rung = {.strong = 1, .ncand = 4, .spread = 1, .away = 0.6f, .gain = 1, .shade = 0.1f,
                                 .fine = 1, .band = v ? w : NULL};
            uint64_t rng = 1000 + (uint64_t)d;
            mf_anon_draw_identity(m, &rng, age, logit, &rung, zt, 0, NULL, zc, z);
            /* the step on the drawn texture itself */
            double step = 0;
            for (int x = x0; x <= x1; x++)
                for (int ch = 0; ch < 3; ch++) {
                    static const float wl[3] = {0.299f, 0.587f, 0.114f};
                    for (int r = 0; r < 2; r++) {
                        size_t o = 3 * ((size_t)(ya + r) * T + x) + ch;
                        double t = m->tex_mean[o];
                        for (int c = 0; c < m->kt; c++)
                            t += (double)z[m->ks + c] * m->tex_basis[(size_t)c * T * T * 3 + o];
                        step += (r ? 1 : -1) * wl[ch] * t;
                    }
                }
            step /= x1 - x0 + 1;
            assert_float_equal(step, tc_readout(m, w, z), 1e-2); /* the read-out is the texture's step */
            worst[v] = fmax(worst[v], fabs(step));
            if (v) {
                assert_true(fabs(tc_readout(m, m->age_w, z) - age) < 1.0);
                assert_true(fabs(tc_readout(m, m->male_w, z) - logit) < 0.1);
            }
        }
    print_message("      largest forehead step of 40 strong draws: %.2f levels without, %.3f with the band held\n",
                  worst[0], worst[1]);
    assert_true(worst[0] > 10);
    assert_true(worst[1] < 0.5);
    free(w), free(zt), free(zc), free(z);
    mf_anon_model_free(m);
}

/* (feat50, dark55) The read-outs w of the committed model, its zones (zone, nz) and three code buffers of ks + kt. */
static void feat_setup(const mf_anon_model_t *m, float **w, float **zt, float **zc, float **z, int8_t **zone,
                       int nz[MF_ANON_N_FEAT + 1]) {
    int k = m->ks + m->kt;
    *w = malloc(sizeof(float) * MF_ANON_N_FEAT * (k + 1)), *zt = malloc(sizeof(float) * k);
    *zc = malloc(sizeof(float) * k), *z = malloc(sizeof(float) * k), *zone = malloc((size_t)m->T * m->T);
    assert_true(*w && *zt && *zc && *z && *zone);
    assert_int_equal(mf_anon_feature_readouts(m, *w), 0);
    mf_anon_feature_zones(m, *zone, nz);
}

/* (feat50, dark55) The drawn texture's luminance summed per read-out zone (mf_anon_feature_zones: sy[0] the skin,
 * sy[1..] the features) for codes z, computed from the texture itself (not the read-outs). */
static void zone_luma_sums(const mf_anon_model_t *m, const int8_t *zone, const float *z, double sy[MF_ANON_N_FEAT + 1]) {
    size_t T2 = (size_t)m->T * m->T;
    for (int i = 0; i <= MF_ANON_N_FEAT; i++) sy[i] = 0;
    for (size_t p = 0; p < T2; p++) {
        if (!zone[p]) continue;
        double y = 0;
        for (int ch = 0; ch < 3; ch++) {
            static const float wl[3] = {0.299f, 0.587f, 0.114f};
            double t = m->tex_mean[3 * p + ch];
            for (int q = 0; q < m->kt; q++) t += (double)z[m->ks + q] * m->tex_basis[(size_t)q * T2 * 3 + 3 * p + ch];
            y += wl[ch] * t;
        }
        sy[zone[p] < 0 ? 0 : zone[p]] += y;
    }
}

/* (feat50) The brows and lids held against the skin (tuning.feature_hold): the committed model's read-outs are the
 * drawn texture's own brow and lid luminance minus its cheeks' and forehead's (measured here on the texture of each
 * draw over mf_anon_feature_zones' texels), both darker than the skin on the mean face. A target with darker brows and lids than the bucket's (the codes
 * moved 2.5 along each read-out) pushed away by strong draws (its anti-face) gets brows or lids lighter than 0.7 x the
 * mean face's in every draw without the hold, by up to 139 levels; with it at most a few draws, by under 5 levels
 * (the codes are clipped at +-3.5 after the step), still on the age and gender read-outs. */
static void test_feature_hold(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    int k = m->ks + m->kt;
    float *w, *zt, *zc, *z;
    int8_t *zone;
    int nz[MF_ANON_N_FEAT + 1]; /* the read-outs' own zones: 1 brows, 2 lids, -1 the skin near the cheeks' and forehead's probes */
    feat_setup(m, &w, &zt, &zc, &z, &zone, nz);
    print_message("      texels: brows %d, lids %d, skin %d; the mean face: brows %.1f, lids %.1f levels against the skin\n",
                  nz[1], nz[2], nz[0], w[k], w[2 * k + 1]);
    assert_true(nz[0] > 100 && nz[1] > 100 && nz[2] > 100);
    assert_true(w[k] < -10 && w[2 * k + 1] < -5);
    float age = 30, logit = -2.5f;
    const float *c = m->cond + (size_t)mf_anon_bucket(age, 0) * (2 + 2 * (size_t)k);
    for (int i = 0; i < k; i++) zt[i] = c[0] > 0 ? c[2 + i] : 0;
    for (int f = 0; f < MF_ANON_N_HOLD; f++) { /* darker brows and lids than the bucket's */
        const float *wf = w + (size_t)f * (k + 1);
        double n2 = 0;
        for (int i = 0; i < k; i++) n2 += (double)wf[i] * wf[i];
        for (int i = 0; i < k; i++) zt[i] -= (float)(2.5 * wf[i] / sqrt(n2));
    }
    int light[2] = {0, 0};
    double worst[2] = {-1e9, -1e9};
    for (int v = 0; v < 2; v++)
        for (int d = 0; d < 40; d++) {
            mf_anon_rung rung = {.strong = 1, .ncand = 4, .spread = 1.2f, .away = 0.8f, .gain = 1, .shade = 0.1f,
                                 .fine = 1, .feat = v ? w : NULL, .feat_hold = 0.7f};
            uint64_t rng = 2000 + (uint64_t)d;
            mf_anon_draw_identity(m, &rng, age, logit, &rung, zt, 0, NULL, zc, z);
            double sy[MF_ANON_N_FEAT + 1];
            zone_luma_sums(m, zone, z, sy);
            int lit = 0;
            for (int f = 0; f < MF_ANON_N_HOLD; f++) {
                double meas = sy[f + 1] / nz[f + 1] - sy[0] / nz[0], mean = w[(size_t)f * (k + 1) + k];
                assert_float_equal(meas, tc_readout(m, w + (size_t)f * (k + 1), z), 1e-2); /* the read-out is the texture's */
                worst[v] = fmax(worst[v], meas - 0.7 * mean);
                lit |= meas > 0.7 * mean + 0.5;
            }
            light[v] += lit;
            if (v) {
                /* within the codes' clip at +-3.5 */
                assert_true(fabs(tc_readout(m, m->age_w, z) - age) < 2.0);
                assert_true(fabs(tc_readout(m, m->male_w, z) - logit) < 0.15);
            }
        }
    print_message("      40 strong draws from a dark-browed target: brows or lids lighter than 0.7 x the mean face's in %d "
                  "without the hold, %d with it (the lightest %.1f / %.2f levels over)\n", light[0], light[1], worst[0], worst[1]);
    assert_true(light[0] >= 30 && worst[0] > 50);
    assert_true(light[1] <= 4 && worst[1] < 5); /* the few left: the codes' clip at +-3.5 after the step */
    free(w), free(zt), free(zc), free(z), free(zone);
    mf_anon_model_free(m);
}

/* (dark55) The mirror of feat50: brows, upper lids and under-eyes no darker against the skin than dark x the mean
 * face's (tuning.feature_dark). The under-eye read-out (row 2) is the drawn texture's own (measured over
 * mf_anon_feature_zones' zone 3) and darker than the skin on the mean face. A pale target (the codes moved 2.5 against
 * each read-out: lighter brows, lids and under-eyes than the bucket's) pushed away by strong draws gets a feature
 * darker than 1.3 x the mean face's in most draws without the cap; with it in a few at most, by under 5 levels (the
 * clip at +-3.5), still on the age and gender read-outs. */
static void test_feature_dark(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    int k = m->ks + m->kt;
    float *w, *zt, *zc, *z;
    int8_t *zone;
    int nz[MF_ANON_N_FEAT + 1];
    feat_setup(m, &w, &zt, &zc, &z, &zone, nz);
    print_message("      under-eye texels %d; the mean face: brows %.1f, lids %.1f, under-eyes %.1f levels against the skin\n",
                  nz[3], w[k], w[2 * k + 1], w[3 * k + 2]);
    assert_true(nz[3] > 100 && w[3 * k + 2] < -5);
    float age = 30, logit = -2.5f;
    const float *c = m->cond + (size_t)mf_anon_bucket(age, 0) * (2 + 2 * (size_t)k);
    for (int i = 0; i < k; i++) zt[i] = c[0] > 0 ? c[2 + i] : 0;
    for (int f = 0; f < MF_ANON_N_FEAT; f++) { /* lighter features than the bucket's: a pale target */
        const float *wf = w + (size_t)f * (k + 1);
        double n2 = 0;
        for (int i = 0; i < k; i++) n2 += (double)wf[i] * wf[i];
        for (int i = 0; i < k; i++) zt[i] += (float)(2.5 * wf[i] / sqrt(n2));
    }
    int dark[2] = {0, 0};
    double worst[2] = {-1e9, -1e9};
    for (int v = 0; v < 2; v++)
        for (int d = 0; d < 40; d++) {
            mf_anon_rung rung = {.strong = 1, .ncand = 4, .spread = 1.2f, .away = 0.8f, .gain = 1, .shade = 0.1f,
                                 .fine = 1, .feat = w, .feat_hold = -1, .feat_dark = v ? 1.3f : -1};
            uint64_t rng = 3000 + (uint64_t)d;
            mf_anon_draw_identity(m, &rng, age, logit, &rung, zt, 0, NULL, zc, z);
            double sy[MF_ANON_N_FEAT + 1];
            zone_luma_sums(m, zone, z, sy);
            int dk = 0;
            for (int f = 0; f < MF_ANON_N_FEAT; f++) {
                double meas = sy[f + 1] / nz[f + 1] - sy[0] / nz[0], mean = w[(size_t)f * (k + 1) + k];
                assert_float_equal(meas, tc_readout(m, w + (size_t)f * (k + 1), z), 1e-2); /* the read-out is the texture's */
                worst[v] = fmax(worst[v], 1.3 * mean - meas);
                dk |= meas < 1.3 * mean - 0.5;
            }
            dark[v] += dk;
            if (v) {
                assert_true(fabs(tc_readout(m, m->age_w, z) - age) < 2.0);
                assert_true(fabs(tc_readout(m, m->male_w, z) - logit) < 0.15);
            }
        }
    print_message("      40 strong draws from a pale target: a feature darker than 1.3 x the mean face's in %d without the "
                  "cap, %d with it (the darkest %.1f / %.2f levels over)\n", dark[0], dark[1], worst[0], worst[1]);
    assert_true(dark[0] >= 20 && worst[0] > 20);
    assert_true(dark[1] <= 4 && worst[1] < 5);
    free(w), free(zt), free(zc), free(z), free(zone);
    mf_anon_model_free(m);
}

/* (pick55) The codes left as drawn, the anti-face's candidates chosen: from a pale target (milder than test_feature_dark's),
 * 40 draws of 8 candidates each. Without the pick the farthest candidate from the target nearly always has a feature darker
 * than 1.5 x the mean face's; with it, a candidate without one is taken wherever there is one, else the least dark,
 * so the chosen draws are dark less often and never darker than the farthest; the codes are a candidate's as drawn
 * (the same draw with the pick off and the read-outs NULL gives main's codes bit for bit).
 * (pick56) With feat_near R only the candidates at least R x as far from the target's codes as the farthest take
 * part: R 1 gives the farthest's codes bit for bit, R 0.95 a chosen distance never under 0.95 x the farthest's and
 * fewer dark draws than without the pick; the generator ends where the candidates leave it in every variant. */
static double code_gap(const float *z, const float *zt, int k) {
    double d = 0;
    for (int i = 0; i < k; i++) d += (double)(z[i] - zt[i]) * (z[i] - zt[i]);
    return sqrt(d);
}

static void test_feature_pick(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    int k = m->ks + m->kt;
    float *w = malloc(sizeof(float) * MF_ANON_N_FEAT * (k + 1)), *zt = malloc(sizeof(float) * k),
          *zc = malloc(sizeof(float) * k), *z = malloc(sizeof(float) * k), *z0 = malloc(sizeof(float) * k),
          *zf = malloc(sizeof(float) * k);
    assert_true(w && zt && zc && z && z0 && zf);
    assert_int_equal(mf_anon_feature_readouts(m, w), 0);
    float age = 30, logit = -2.5f;
    const float *c = m->cond + (size_t)mf_anon_bucket(age, 0) * (2 + 2 * (size_t)k);
    for (int i = 0; i < k; i++) zt[i] = c[0] > 0 ? c[2 + i] : 0;
    for (int f = 0; f < MF_ANON_N_FEAT; f++) { /* a pale target */
        const float *wf = w + (size_t)f * (k + 1);
        double n2 = 0;
        for (int i = 0; i < k; i++) n2 += (double)wf[i] * wf[i];
        for (int i = 0; i < k; i++) zt[i] += (float)(0.7 * wf[i] / sqrt(n2));
    }
    /* variants: 0 the pick off, 1 the pick at 1.5, 2 ... among candidates at least 1 x the farthest's distance,
     * 3 ... at least 0.95 x */
    const float near[4] = {-1, -1, 1.0f, 0.95f};
    int dark[4] = {0};
    double sum_over[4] = {0}, ratio[4] = {0}, rmin[4] = {1, 1, 1, 1};
    for (int d = 0; d < 40; d++) {
        double over[4], dfar = 0;
        uint64_t rng_end[4];
        for (int v = 0; v < 4; v++) {
            mf_anon_rung rung = {.ncand = 8, .spread = 1.0f, .away = 0.8f, .gain = 1, .shade = 0.1f, .fine = 1,
                                 .feat = w, .feat_hold = -1, .feat_dark = -1, .feat_pick = v ? 1.5f : -1,
                                 .feat_near = near[v]};
            uint64_t rng = 5000 + (uint64_t)d;
            mf_anon_draw_identity(m, &rng, age, logit, &rung, zt, 0, NULL, zc, z);
            rng_end[v] = rng;
            if (!v) { /* the pick off: the codes of a rung without read-outs */
                mf_anon_rung r0 = rung;
                r0.feat = NULL;
                uint64_t rng0 = 5000 + (uint64_t)d;
                mf_anon_draw_identity(m, &rng0, age, logit, &r0, zt, 0, NULL, zc, z0);
                assert_memory_equal(z, z0, sizeof(float) * (size_t)k);
                memcpy(zf, z, sizeof(float) * (size_t)k);
                dfar = code_gap(zf, zt, k);
            }
            if (v == 2) assert_memory_equal(z, zf, sizeof(float) * (size_t)k); /* R 1: the farthest */
            assert_true(rng_end[v] == rng_end[0]);
            double r = code_gap(z, zt, k) / dfar;
            assert_true(r <= 1 + 1e-6); /* the farthest is the farthest */
            if (v == 3) assert_true(r >= 0.95 - 1e-6);
            ratio[v] += r / 40, rmin[v] = fmin(rmin[v], r);
            over[v] = 0;
            for (int f = 0; f < MF_ANON_N_FEAT; f++) {
                const float *wf = w + (size_t)f * (k + 1);
                over[v] = fmax(over[v], tc_readout(m, wf, z) / wf[k] - 1.5);
            }
            dark[v] += over[v] > 0;
            sum_over[v] += over[v];
        }
        assert_true(over[1] <= over[0] + 1e-6); /* never darker than the farthest candidate */
        assert_true(over[3] <= over[0] + 1e-6);
    }
    print_message("      40 draws of 8 candidates from a pale target: a feature darker than 1.5 x the mean face's in %d without "
                  "the pick, %d with it (mean excess %.3f / %.3f x the mean face's); distance from the target's codes "
                  "%.3f x the farthest's (least %.3f)\n", dark[0], dark[1], sum_over[0] / 40, sum_over[1] / 40, ratio[1],
                  rmin[1]);
    print_message("      among the candidates at least 0.95 x as far: %d dark (mean excess %.3f), distance %.3f x the "
                  "farthest's (least %.3f)\n", dark[3], sum_over[3] / 40, ratio[3], rmin[3]);
    assert_true(dark[0] >= 30 && dark[1] <= 4 && sum_over[1] < 0.1 * sum_over[0]);
    assert_true(dark[3] < dark[0] && sum_over[3] < sum_over[0]);
    free(w), free(zt), free(zc), free(z), free(z0), free(zf);
    mf_anon_model_free(m);
}

/* (push38) The committed model's recognizer metric and a draw that follows it: the metric is symmetric with trace
 * ks + kt and not flat (the recognizers read some code directions more than others); a draw whose push follows it
 * moves the recognizers' predicted reading of the face farther from the target's own than the plain push from the
 * same random draw does (the figure (z - zt)' M (zt - mean) / |zt - mean|_M), still on the age and gender
 * read-outs; without a metric in the model the weight is ignored (the same codes as the plain push). */
static void test_push_metric(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    assert_non_null(m->metric);
    int k = m->ks + m->kt;
    const float *M = m->metric;
    double tr = 0, dmin = 1e9, dmax = 0;
    for (int i = 0; i < k; i++) {
        tr += M[(size_t)i * k + i], dmin = fmin(dmin, M[(size_t)i * k + i]), dmax = fmax(dmax, M[(size_t)i * k + i]);
        for (int l = 0; l < i; l++) assert_float_equal(M[(size_t)i * k + l], M[(size_t)l * k + i], 1e-4);
    }
    print_message("      metric: trace %.2f (k %d), diagonal %.2f .. %.2f\n", tr, k, dmin, dmax);
    assert_float_equal(tr, k, 1e-2 * k);
    assert_true(dmin > 0 && dmax > 2 * dmin);
    float age = 35, logit = 2.5f;
    const float *c = m->cond + (size_t)mf_anon_bucket(age, 1) * (2 + 2 * (size_t)k);
    float *zt = malloc(sizeof(float) * k), *zc = malloc(sizeof(float) * k), *z[3], *mo = malloc(sizeof(float) * k);
    for (int v = 0; v < 3; v++) z[v] = malloc(sizeof(float) * k);
    assert_true(zt && zc && mo && z[0] && z[1] && z[2]);
    alternating_target(m, age, zt);
    double on = 0; /* M (zt - mean): the target's own direction as the recognizers read it */
    for (int i = 0; i < k; i++) {
        double s = 0;
        for (int l = 0; l < k; l++) s += (double)M[(size_t)i * k + l] * (zt[l] - (c[0] > 0 ? c[2 + l] : 0));
        mo[i] = (float)s, on += s * (zt[i] - (c[0] > 0 ? c[2 + i] : 0));
    }
    for (int ncand = 1; ncand <= 8; ncand += 7) {
        double reading[3];
        for (int v = 0; v < 3; v++) {
            mf_anon_rung rung = {.strong = 1, .ncand = ncand, .spread = 1, .away = 0.6f, .gain = 1, .shade = 0.1f,
                                 .fine = 1, .metric = v == 0 ? 0 : 1};
            float *saved = m->metric;
            if (v == 2) m->metric = NULL; /* a model without a metric: the weight is ignored */
            uint64_t r = 11;
            mf_anon_draw_identity(m, &r, age, logit, &rung, zt, 0, NULL, zc, z[v]);
            m->metric = saved;
            double s = 0;
            for (int i = 0; i < k; i++) s += (double)(z[v][i] - zt[i]) * mo[i];
            reading[v] = s / sqrt(on);
            assert_true(fabs(tc_readout(m, m->age_w, z[v]) - age) < 1.0);
            assert_true(fabs(tc_readout(m, m->male_w, z[v]) - logit) < 0.1);
        }
        print_message("      %d candidate(s): the recognizers' predicted reading along the target's own: plain push "
                      "%.2f, metric push %.2f\n", ncand, reading[0], reading[1]);
        assert_true(reading[1] < reading[0] - 0.05 * fabs(reading[0]));
        assert_memory_equal(z[2], z[0], sizeof(float) * k);
    }
    free(zt), free(zc), free(mo);
    for (int v = 0; v < 3; v++) free(z[v]);
    mf_anon_model_free(m);
}

/* (push38) Training with recognizers gives the model its metric (symmetric, trace ks + kt, saved and loaded back);
 * without them the model has none (the file keeps the twelve sections of models trained before); recognizers out of
 * range are refused. Ten clean synthetic training faces. */
static void test_train_metric(void **state) {
    (void)state;
    clean_set cs;
    clean_set_open(&cs, 10, 1);
    assert_int_equal(cs.n, 10);
    mf_face_recognizer_t *rec[2];
    assert_int_equal(mf_face_recognizer_create(tu_models_dir(), "arcface", NULL, &rec[0]), MF_OK);
    assert_int_equal(mf_face_recognizer_create(tu_models_dir(), "faceapi", NULL, &rec[1]), MF_OK);
    mf_anon_train_opts o = {.tex_side = 64, .n_shape = 4, .n_tex = 4, .n_detail = 1, .seed = 1, .rec = rec, .n_rec = 2};
    mf_anon_model_t *m = NULL, *m0 = NULL, *back = NULL;
    assert_int_equal(mf_anon_train(cs.an, (const char *const *)cs.paths, cs.n, &o, &m, NULL), MF_OK);
    assert_non_null(m->metric);
    int k = m->ks + m->kt;
    double tr = 0;
    for (int i = 0; i < k; i++) {
        tr += m->metric[(size_t)i * k + i];
        assert_true(m->metric[(size_t)i * k + i] > 0);
        for (int l = 0; l < i; l++) assert_float_equal(m->metric[(size_t)i * k + l], m->metric[(size_t)l * k + i], 1e-4);
    }
    assert_float_equal(tr, k, 1e-3 * k);
    char tmp[] = "/tmp/mfmc-test-metric-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mf_anon_model_save(m, tmp), MF_OK);
    assert_int_equal(mf_anon_model_load(tmp, &back), MF_OK);
    assert_non_null(back->metric);
    assert_memory_equal(back->metric, m->metric, sizeof(float) * (size_t)k * k);
    mf_anon_model_free(back);
    o.rec = NULL, o.n_rec = 0;
    assert_int_equal(mf_anon_train(cs.an, (const char *const *)cs.paths, cs.n, &o, &m0, NULL), MF_OK);
    assert_null(m0->metric);
    assert_int_equal(mf_anon_model_save(m0, tmp), MF_OK);
    assert_int_equal(mf_anon_model_load(tmp, &back), MF_OK);
    mf_anon_model_info info;
    mf_anon_model_get_info(back, &info);
    assert_int_equal(info.has_metric, 0);
    mf_anon_model_free(back);
    remove(tmp);
    o.rec = rec, o.n_rec = MF_ANON_MAX_METRIC_REC + 1;
    mf_anon_model_t *none = NULL;
    assert_int_equal(mf_anon_train(cs.an, (const char *const *)cs.paths, cs.n, &o, &none, NULL), MF_ERR_ARG);
    assert_null(none);
    mf_anon_model_free(m), mf_anon_model_free(m0);
    mf_face_recognizer_free(rec[0]), mf_face_recognizer_free(rec[1]);
    clean_set_close(&cs);
}

/* The identity-first ladder (ladder.c, tuning.ladder 1) varies the identity before the strength: with 9 draws, the
 * strong rendering comes for the last third only (after six failed draws), each failed draw pushes the identity
 * farther from the target's codes over more candidates, and before the last third a draw lost by the detector or by
 * age / gender does not raise the strength (only ensemble rejections do). The default ladder (0) is strong from the
 * 4th draw. */
static void test_ladder_identity_first(void **state) {
    (void)state;
    mf_anon_tuning tu = {.shading_sigma = 0.10f, .shape_gain = 1, .fine_amp = 1, .tex_gain = 1, .detail_amp = 2.5f,
                       .away = 1.0f, .ladder = 1};
    mf_anon_rung r0, r, prev;
    mf_anon_ladder_step(&tu, 9, 0, 0, &r0);
    assert_int_equal(r0.strong, 0);
    prev = r0;
    for (int f = 1; f < 9; f++) {
        mf_anon_ladder_step(&tu, 9, f, f, &r); /* every failed draw rejected by the ensemble */
        assert_int_equal(r.strong, f >= 6);
        assert_true(r.ncand >= prev.ncand && r.ncand <= MF_ANON_MAX_CAND);
        assert_true(r.away >= prev.away);
        if (f <= 3) assert_true(r.away > prev.away && r.ncand > prev.ncand); /* the identity moves on each draw */
        assert_true(r.gain > prev.gain);
        prev = r;
        mf_anon_ladder_step(&tu, 9, f, 0, &r); /* failed on detection or age / gender only: identity, not strength */
        assert_int_equal(r.strong, f >= 6);     /* the last third is strong whatever failed */
        assert_float_equal(r.gain, r0.gain * (f >= 6 ? 1.6f : 1), 1e-5);
        assert_float_equal(r.shade, r0.shade * (f >= 6 ? 3 : 1), 1e-5);
        assert_float_equal(r.fine, r0.fine * (f >= 6 ? 0.5f : 1), 1e-5);
        assert_true(r.away > r0.away && r.ncand > r0.ncand);
    }
    tu.ladder = 0; /* the default ladder: strong from the 4th draw */
    mf_anon_ladder_step(&tu, 9, 2, 0, &r);
    assert_int_equal(r.strong, 0);
    mf_anon_ladder_step(&tu, 9, 3, 0, &r);
    assert_int_equal(r.strong, 1);
}

/* The flattened last rungs (anon12a): when every draw of the ladder failed on identity, flat_rungs more draws are made
 * (their coarse shading replaced by the new face's broad light) and each is checked like any draw before the filter.
 * A forced-similar identity (the original's own texture and shape) fails the ladder's 2 draws; the anonymizer with 2
 * flattened rungs then makes exactly 2 more draws, and whatever it publishes is below every ensemble threshold or
 * the fallback filter; with flat_rungs -1 it stops after the ladder (main's before anon12a). Fails without the rungs
 * (tries 2). */
static void test_flat_rungs_checked(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    for (int on = 1; on >= 0; on--) {
        mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                          .max_tries = 2, .tuning = {.flat_rungs = on ? 2 : -1, .last_rungs = -1}};
        mf_anon_t *a2;
        assert_int_equal(mf_anon_create(&o, &a2), MF_OK);
        mf_img a = copy_of(&f->img);
        mf_anon_result r;
        mf_anon_debug_force_similar(a2, 1);
        assert_int_equal(mf_anon_face(a2, &a, &f->faces[0], MF_ANON_SYNTH, 11, NULL, &r), MF_OK);
        printf("  flat rungs %s: decision %d method %d tries %d flat %d note '%s'\n", on ? "on" : "off", r.decision,
               r.method, r.tries, r.flat, r.note);
        assert_int_equal(r.tries, on ? 4 : 2);
        assert_true(face_change(&f->img, &a, &f->faces[0]) > 3);
        if (r.decision == MF_ANON_FALLBACK && r.method != MF_ANON_SYNTH) /* the filter: says why */
            assert_non_null(strstr(r.note, "fallback after"));
        else { /* a flattened draw published: it passed the identity checks like any other */
            assert_true(on && r.flat && r.detected_after);
            for (int i = 0; i < r.n_rec; i++)
                if (mf_anon_recognizer_info(a2, i)->ensemble)
                    assert_true(r.sim[i] < mf_anon_recognizer_info(a2, i)->dissimilarity_threshold);
        }
        mf_img_free(&a);
        mf_anon_free(a2);
    }
}

/* Renderability: a mesh that does not sit on the face the detector found (demo pair 4 of stop 11: a frontal mesh
 * fitted into the background beside a half profile, and a frontal face painted there) is not rendered; the face goes
 * to the fallback at once with the reason in the note. Three disagreements made from a good face: (a) the mesh
 * moved sideways by 0.45 face sizes, the detection left where the face is; (b) the detection's nose keypoint moved
 * sideways by 0.6 eye distances (the detector sees a turned head, the mesh a frontal one); (c) the detection box
 * shrunk to 0.4 of its size about its centre, its keypoints kept (the mesh's cheek and forehead probes outside it).
 * Without the test all three faces are rendered (tries >= 1, no "not renderable" note). */
static void test_mesh_beside_the_face_not_rendered(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    assert_true(f->faces[0].has_landmarks);
    /* the check itself, without fall30's second look (which refits cases a and b: test_mesh_off_detection_refitted) */
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool, .max_tries = 3};
    o.tuning.refit = -1;
    mf_anon_t *a0;
    assert_int_equal(mf_anon_create(&o, &a0), MF_OK);
    for (int c = 0; c < 3; c++) {
        mf_face g = f->faces[0];
        float fs = fmaxf(g.det.w, g.det.h);
        if (c == 0) {
            for (int v = 0; v < MF_FACE_MESH_POINTS; v++) g.lm.pt[v][0] += 0.45f * fs;
            g.lm.box.x += 0.45f * fs;
        } else if (c == 2) {
            g.det.x += 0.3f * g.det.w, g.det.y += 0.3f * g.det.h, g.det.w *= 0.4f, g.det.h *= 0.4f;
        } else {
            float ex = g.det.kp[MF_FACE_KP_LEYE][0] - g.det.kp[MF_FACE_KP_REYE][0];
            float ey = g.det.kp[MF_FACE_KP_LEYE][1] - g.det.kp[MF_FACE_KP_REYE][1];
            g.det.kp[MF_FACE_KP_NOSE][0] += 0.6f * ex, g.det.kp[MF_FACE_KP_NOSE][1] += 0.6f * ey;
        }
        mf_img a = copy_of(&f->img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(c == 2 ? f->a : a0, &a, &g, MF_ANON_SYNTH, 42, NULL, &r), MF_OK);
        printf("  case %c: decision %d tries %d note '%s'\n", 'a' + c, r.decision, r.tries, r.note);
        assert_int_equal(r.decision, MF_ANON_FALLBACK);
        assert_int_equal(r.tries, 0);
        assert_int_equal(r.refit, 0);
        assert_non_null(strstr(r.note, "not renderable"));
        if (c == 2) assert_non_null(strstr(r.note, "skin probes"));
        assert_true(face_change(&f->img, &a, &f->faces[0]) > 3); /* the fallback still removes the face */
        mf_img_free(&a);
    }
    mf_anon_free(a0);
}

/* (fall30) A clear face whose record's mesh is off its detection's points is rendered, not filtered: the privacy
 * detection of Brian_Lara_0001 (LFW) came from a turned pass that read the face the wrong way round (its five points
 * turned by about 180 degrees about the box centre: "the mesh is 0.57 face sizes off the detection's points", a
 * mosaic on main), Andre_Lange_0001's main face got a mesh across two faces. Made here from the fixture's clear face:
 * (a) the mesh moved sideways by 0.45 face sizes, (b) the detector's nose moved, (d) the detection's five points
 * turned by 180 degrees. The check analyser's face at the detection is refitted (mf_anon_refit: its mesh within
 * 0.05 face sizes of the clear record's) and drawn (tries >= 1, a face-sized change), where main (and refit -1)
 * gave the fallback with no draw. A detection that the analyser's face does not overlap (c: the box shrunk to 0.4,
 * IoU 0.16) is not refitted, nor (e) case d with the record's mesh read rolled by 120 degrees (REFIT_ROLL: the plain
 * analyser read privacy-set rot120/0025 upside down, and its refit was left similar, arcface 0.455). */
static void test_mesh_off_detection_refitted(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    const mf_face *ok = &f->faces[0];
    assert_true(ok->has_landmarks);
    float fs = fmaxf(ok->det.w, ok->det.h), p0[5][2];
    mf_face_5pt(ok, p0);
    for (int c = 0; c < 5; c++) {
        mf_face g = *ok;
        if (c == 0) {
            for (int v = 0; v < MF_FACE_MESH_POINTS; v++) g.lm.pt[v][0] += 0.45f * fs;
            g.lm.box.x += 0.45f * fs;
        } else if (c == 1) {
            float ex = g.det.kp[MF_FACE_KP_LEYE][0] - g.det.kp[MF_FACE_KP_REYE][0];
            float ey = g.det.kp[MF_FACE_KP_LEYE][1] - g.det.kp[MF_FACE_KP_REYE][1];
            g.det.kp[MF_FACE_KP_NOSE][0] += 0.6f * ex, g.det.kp[MF_FACE_KP_NOSE][1] += 0.6f * ey;
        } else if (c == 2) {
            g.det.x += 0.3f * g.det.w, g.det.y += 0.3f * g.det.h, g.det.w *= 0.4f, g.det.h *= 0.4f;
        } else {
            float cx = g.det.x + g.det.w / 2, cy = g.det.y + g.det.h / 2;
            for (int k = 0; k < MF_FACE_KP_COUNT; k++)
                g.det.kp[k][0] = 2 * cx - g.det.kp[k][0], g.det.kp[k][1] = 2 * cy - g.det.kp[k][1];
            if (c == 4) g.lm.roll += 120; /* the record read rolled by 120 degrees: the upright face is not its */
        }
        mf_face h = g;
        int refitted = -1;
        assert_int_equal(mf_anon_refit(f->a, &f->img, &h, &refitted), MF_OK);
        mf_img a = copy_of(&f->img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(f->a, &a, &g, MF_ANON_SYNTH, 42, NULL, &r), MF_OK);
        float d = 0, p1[5][2];
        mf_face_5pt(&h, p1);
        for (int k = 0; k < 5; k++) d = fmaxf(d, hypotf(p1[k][0] - p0[k][0], p1[k][1] - p0[k][1]) / fs);
        printf("  case %c: refitted %d (5 points %.3f face sizes from the clear record's); decision %d tries %d refit %d "
               "note '%s'\n", "abcde"[c], refitted, d, r.decision, r.tries, r.refit, r.note);
        assert_true(face_change(&f->img, &a, ok) > 3); /* replaced or filtered: the face changes either way */
        if (c == 2 || c == 4) {
            assert_int_equal(refitted, 0), assert_int_equal(r.refit, 0), assert_int_equal(r.tries, 0);
            assert_non_null(strstr(r.note, "not renderable"));
        } else {
            assert_int_equal(refitted, 1), assert_int_equal(r.refit, 1);
            assert_true(d < 0.05f);
            assert_true(r.tries >= 1); /* drawn */
            assert_null(strstr(r.note, "not renderable"));
        }
        mf_img_free(&a);
    }
}

/* (prod31) A second, not renderable detection of a face already replaced (LFW Abdulaziz_Kamilov_0001 face 1: its
 * five points face 0's within 1-4 px, its box up and left, its mesh fitted in that box and off its points) is left
 * covered when the check says its identity is gone: here the fixture's clear face (record 0), replaced, and a
 * duplicate record 1 made from it (the box moved up and left by 0.3 and grown by 1.2, its five points kept, the mesh
 * moved by 0.45 face sizes). mf_anon_defer orders it after record 0; mf_anon_covered checks it against the original
 * (covered, by 0, every ensemble similarity measured and below its threshold, the photo not touched) where main
 * painted the fallback filter over the new face (mf_anon_face on record 1, asserted here as what would happen). A
 * record not overlapping a replaced one is not checked (by -1). */
static void make_duplicate(const mf_face *ok, mf_face *g) {
    float fs = fmaxf(ok->det.w, ok->det.h), m5[5][2];
    *g = *ok;
    g->det.x -= 0.3f * fs, g->det.y -= 0.3f * fs, g->det.w *= 1.2f, g->det.h *= 1.2f;
    /* its five points on the face: the clear record's mesh's (eyes, nose, the mouth corners' midpoint) */
    mf_face_landmarks_5pt(&ok->lm, m5);
    for (int k = 0; k < 2; k++) {
        g->det.kp[MF_FACE_KP_REYE][k] = m5[0][k], g->det.kp[MF_FACE_KP_LEYE][k] = m5[1][k];
        g->det.kp[MF_FACE_KP_NOSE][k] = m5[2][k], g->det.kp[MF_FACE_KP_MOUTH][k] = 0.5f * (m5[3][k] + m5[4][k]);
    }
    for (int v = 0; v < MF_FACE_MESH_POINTS; v++) g->lm.pt[v][0] -= 0.45f * fs, g->lm.pt[v][1] -= 0.2f * fs;
    g->lm.box.x -= 0.45f * fs, g->lm.box.y -= 0.2f * fs;
}

/* The fixture's face replaced by a synthetic face (the default 9 draws: with the fixture's 3, ffhq_0288 falls back
 * to the filter) at the first of seeds *seed.. *seed + 2 that replaces it (*seed: that seed, the next one to try
 * after); the anonymizer in *an (created on the first call). Returns 1 when replaced. */
static int replace_first(fixture *f, mf_anon_t **an, mf_img *a, uint64_t *seed0) {
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool};
    if (!*an) assert_int_equal(mf_anon_create(&o, an), MF_OK);
    for (uint64_t seed = *seed0; seed < *seed0 + 3; seed++) {
        mf_img_free(a);
        *a = copy_of(&f->img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(*an, a, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
        printf("  record 0, seed %d: decision %d method %d tries %d\n", (int)seed, r.decision, r.method, r.tries);
        if (r.decision == MF_ANON_ACCEPTED || (r.decision == MF_ANON_FALLBACK && r.method == MF_ANON_SYNTH)) {
            *seed0 = seed + 1;
            return 1;
        }
    }
    *seed0 += 3;
    return 0;
}

static void test_duplicate_over_replaced_face_covered(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_face rec[2];
    rec[0] = f->faces[0];
    make_duplicate(&f->faces[0], &rec[1]);
    assert_int_equal(mf_anon_defer(f->a, &f->img, rec, 2, 0), 0);
    assert_int_equal(mf_anon_defer(f->a, &f->img, rec, 2, 1), 1); /* not drawn, over a drawn record: after it */
    mf_img a = {0}, before = {0};
    mf_anon_t *a9 = NULL;
    int replaced[2] = {1, 0}, by = -2, covered = -1;
    mf_anon_result r;
    /* (push38) a replaced face whose identity is gone at the duplicate's alignments too: the first of seeds 42.. (a
     * draw that arcface reads at 0.234 there, over its 0.229, is rightly not covered: test_duplicate_check_fails_closed) */
    for (uint64_t seed = 42; seed < 54 && covered != 1;) {
        if (!replace_first(f, &a9, &a, &seed)) continue;
        mf_img_free(&before);
        before = copy_of(&a);
        assert_int_equal(mf_anon_covered(a9, &f->img, &a, rec, 2, 1, replaced, NULL, &r, &by, &covered), MF_OK);
        printf("  duplicate: by %d covered %d decision %d", by, covered, r.decision);
        for (int i = 0; i < r.n_rec; i++) printf(" %s %.3f", mf_anon_recognizer_info(f->a, i)->name, r.sim[i]);
        printf(" note '%s'\n", r.note);
    }
    assert_int_equal(by, 0);
    assert_int_equal(covered, 1);
    assert_int_equal(r.decision, MF_ANON_COVERED);
    assert_memory_equal(a.data, before.data, (size_t)a.w * a.h * 3); /* nothing painted */
    for (int i = 0; i < r.n_rec; i++)
        if (mf_anon_recognizer_info(f->a, i)->ensemble) {
            assert_true(r.sim[i] > -1); /* measured */
            assert_true(r.sim[i] < mf_anon_recognizer_info(f->a, i)->dissimilarity_threshold);
        }
    /* main's way: the duplicate anonymized on its own, over the replaced face (its fallback filter, or with stop 38's
     * metric push a second drawn face: either way the replaced face is painted over) */
    mf_anon_result rm;
    assert_int_equal(mf_anon_face(f->a, &before, &rec[1], MF_ANON_SYNTH, 43, NULL, &rm), MF_OK);
    printf("  the duplicate on its own: decision %d\n", rm.decision);
    assert_true(rm.decision == MF_ANON_FALLBACK || rm.decision == MF_ANON_ACCEPTED);
    assert_true(face_change(&a, &before, &f->faces[0]) > 3);
    /* not over a replaced record: not checked */
    replaced[0] = 0;
    assert_int_equal(mf_anon_covered(f->a, &f->img, &a, rec, 2, 1, replaced, NULL, &r, &by, &covered), MF_OK);
    assert_int_equal(by, -1), assert_int_equal(covered, 0);
    /* a drawn record is never checked as covered */
    replaced[0] = 1, replaced[1] = 1;
    assert_int_equal(mf_anon_covered(f->a, &f->img, &a, rec, 2, 0, replaced, NULL, &r, &by, &covered), MF_OK);
    assert_int_equal(by, -1), assert_int_equal(covered, 0);
    mf_img_free(&a), mf_img_free(&before);
    mf_anon_free(a9);
}

/* (prod31) Fails closed: a duplicate over a "replacement" that left the identity (the photo unchanged where record 0
 * was said replaced: the worst replacement) is checked, measured similar (every ensemble recognizer at or over its
 * threshold) and not covered, so the fallback runs; and with the forced-similar hook record 0's draws all fail, it
 * gets the filter, is not a replaced face, and the duplicate is not checked but filtered as on main. */
static void test_duplicate_check_fails_closed(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_face rec[2];
    rec[0] = f->faces[0];
    make_duplicate(&f->faces[0], &rec[1]);
    mf_img a = copy_of(&f->img);
    int replaced[2] = {1, 0}, by = -2, covered = -1;
    mf_anon_result r;
    assert_int_equal(mf_anon_covered(f->a, &f->img, &a, rec, 2, 1, replaced, NULL, &r, &by, &covered), MF_OK);
    printf("  unchanged: by %d covered %d", by, covered);
    for (int i = 0; i < r.n_rec; i++) printf(" %s %.3f", mf_anon_recognizer_info(f->a, i)->name, r.sim[i]);
    printf(" note '%s'\n", r.note);
    assert_int_equal(by, 0), assert_int_equal(covered, 0);
    assert_int_not_equal(r.decision, MF_ANON_COVERED);
    for (int i = 0; i < r.n_rec; i++)
        if (mf_anon_recognizer_info(f->a, i)->ensemble)
            assert_true(r.sim[i] >= mf_anon_recognizer_info(f->a, i)->dissimilarity_threshold);
    /* forced-similar: record 0 falls back to the filter, the duplicate gets its own fallback */
    mf_anon_debug_force_similar(f->a, 1);
    mf_anon_result r0, r1;
    assert_int_equal(mf_anon_face(f->a, &a, &rec[0], MF_ANON_SYNTH, 7, NULL, &r0), MF_OK);
    mf_anon_debug_force_similar(f->a, 0);
    assert_int_equal(r0.decision, MF_ANON_FALLBACK);
    replaced[0] = r0.decision == MF_ANON_ACCEPTED || (r0.decision == MF_ANON_FALLBACK && r0.method == MF_ANON_SYNTH);
    assert_int_equal(replaced[0], 0);
    assert_int_equal(mf_anon_covered(f->a, &f->img, &a, rec, 2, 1, replaced, NULL, &r, &by, &covered), MF_OK);
    assert_int_equal(by, -1), assert_int_equal(covered, 0);
    mf_img b = copy_of(&a);
    assert_int_equal(mf_anon_face(f->a, &a, &rec[1], MF_ANON_SYNTH, 8, NULL, &r1), MF_OK);
    assert_int_equal(r1.decision, MF_ANON_FALLBACK);
    assert_non_null(strstr(r1.note, "not renderable"));
    assert_true(face_change(&a, &b, &rec[1]) > 1);
    mf_img_free(&a), mf_img_free(&b);
}

/* (prod31, tuning.refit_nomesh) A record without a mesh (a privacy candidate the mesh did not confirm: "no mesh")
 * over a clear face is refitted onto the check analyser's face there, as a mesh off its points is (fall30's rules);
 * not with refit_nomesh -1 (main's behaviour: it went to the fallback filter), not when its way up is in doubt, and
 * not when its detection reads the face rolled by 120 degrees (REFIT_ROLL, against the detection's roll). */
static void test_no_mesh_refitted(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool, .max_tries = 3};
    o.tuning.refit_nomesh = -1;
    mf_anon_t *a0;
    assert_int_equal(mf_anon_create(&o, &a0), MF_OK);
    for (int c = 0; c < 4; c++) {
        mf_face g = f->faces[0];
        g.has_landmarks = 0, g.confirmed = 0;
        if (c == 2) g.way_up_doubtful = 1;
        if (c == 3) g.det.roll += 120 * (float)M_PI / 180;
        int refitted = -1;
        assert_int_equal(mf_anon_refit(c == 1 ? a0 : f->a, &f->img, &g, &refitted), MF_OK);
        printf("  no mesh case %d: refitted %d\n", c, refitted);
        assert_int_equal(refitted, c == 0);
        assert_int_equal(g.has_landmarks, c == 0);
    }
    mf_face g = f->faces[0];
    g.has_landmarks = 0, g.confirmed = 0;
    mf_img a = copy_of(&f->img);
    mf_anon_result r;
    assert_int_equal(mf_anon_face(f->a, &a, &g, MF_ANON_SYNTH, 42, NULL, &r), MF_OK);
    printf("  no mesh: decision %d tries %d refit %d note '%s'\n", r.decision, r.tries, r.refit, r.note);
    assert_int_equal(r.refit, 1);
    assert_true(r.tries >= 1);
    mf_img_free(&a);
    mf_anon_free(a0);
}

/* Unlinkable identities (draw.c; docs/anonymization.md, "Linkability across photos"): the identities drawn for one
 * target in separate runs (other seeds) must be unrelated to each other, and all lean away from the target. The
 * anti-face push with the farthest of 8 candidates (unlinked 0, the default before stop 12) gave every draw for one
 * person the same large component, so that person's anonymized photos were linked (eval_link: arcface linked 30% of
 * people's two photos). Measured on the whitened deviations from the bucket mean: the mean cosine between the draws
 * of one target, and each draw's component along the target's own direction. */
static void draws_for_target(const mf_anon_model_t *m, int unlinked, double *mean_cos, double *max_along) {
    enum { N = 24 };
    int k = m->ks + m->kt;
    float age = 35, logit = 2.5f;
    const float *c = m->cond + (size_t)mf_anon_bucket(age, 1) * (2 + 2 * (size_t)k);
    float *zt = malloc(sizeof(float) * k), *zc = malloc(sizeof(float) * k), *d = malloc(sizeof(float) * N * k);
    assert_true(zt && zc && d);
    uint64_t r0 = 42;
    double on = 0;
    float o[128];
    assert_true(k <= 128);
    for (int i = 0; i < k; i++) { /* a target one typical spread from the bucket mean in every code */
        float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
        o[i] = (float)mf_anon_rng_normal(&r0);
        zt[i] = mu + sd * o[i], on += (double)o[i] * o[i];
    }
    on = sqrt(on);
    mf_anon_rung rung = {.strong = 0, .ncand = 8, .spread = 1, .away = 0.6f, .gain = 1, .shade = 0.1f, .fine = 1};
    *max_along = -1e9;
    for (int n = 0; n < N; n++) {
        uint64_t rng = 1000 + 7919 * (uint64_t)n;
        float *z = d + (size_t)n * k;
        mf_anon_draw_identity(m, &rng, age, logit, &rung, zt, unlinked, NULL, zc, z);
        double along = 0, nn = 0;
        for (int i = 0; i < k; i++) {
            float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
            z[i] = (z[i] - mu) / sd;
            along += z[i] * o[i] / on, nn += (double)z[i] * z[i];
        }
        along /= sqrt(nn);
        if (along > *max_along) *max_along = along;
    }
    double sc = 0;
    int np = 0;
    for (int a = 0; a < N; a++)
        for (int b = a + 1; b < N; b++) {
            double ab = 0, aa = 0, bb = 0;
            for (int i = 0; i < k; i++) {
                double x = d[(size_t)a * k + i], y = d[(size_t)b * k + i];
                ab += x * y, aa += x * x, bb += y * y;
            }
            sc += ab / sqrt(aa * bb), np++;
        }
    *mean_cos = sc / np;
    free(zt), free(zc), free(d);
}

static void test_draws_unlinked(void **state) {
    (void)state;
    mf_anon_model_t *m = model_need();
    double cos1, along1, cos0, along0;
    draws_for_target(m, 1, &cos1, &along1);
    draws_for_target(m, 0, &cos0, &along0);
    print_message("      draws for one target: mean cosine %.3f unlinked, %.3f anti-face; largest component "
                  "towards the target %.3f / %.3f\n", cos1, cos0, along1, along0);
    assert_true(cos1 < 0.10);   /* unrelated identities */
    assert_true(along1 < 0);    /* each one still leans away from the target */
    assert_true(cos0 > cos1 + 0.15); /* the anti-face draws are what linked a person's photos */
    mf_anon_model_free(m);
}

/* The default ladder's middle rung looks like a face (looks13, tuning.hard_from 6, an option): its strong draws before
 * the last third (9 draws: draws 4-6) keep the photo's light within 2.5x the first draw's low-pass, at least half of
 * its grain and at most 1.6x the first draw's shape gain, while the identity still moves (the push away grows with
 * every failed draw, more anti-face candidates); the last third (draws 7-9) and the default (hard_from 0) keep the
 * heavy rendering. Without the middle rung (main's ladder.c) the 4th draw has 5.2x the first draw's low-pass and
 * 0.26x its grain, and the test fails there. */
static void test_strong_rung_natural(void **state) {
    (void)state;
    mf_anon_tuning tu = {.shading_sigma = 0.10f, .shape_gain = 1, .fine_amp = 1, .tex_gain = 1, .detail_amp = 2.5f,
                       .away = 0.6f, .hard_from = 6};
    mf_anon_rung r0, r, prev, h;
    mf_anon_ladder_step(&tu, 9, 0, 0, &r0);
    prev = r0;
    for (int f = 1; f < 9; f++) {
        mf_anon_ladder_step(&tu, 9, f, f, &r);
        assert_int_equal(r.strong, f >= 3);
        assert_true(r.away > prev.away); /* the identity moves on every failed draw */
        if (f >= 3 && f < 6) {
            assert_true(r.shade <= 2.5f * r0.shade + 1e-6f);
            assert_true(r.fine >= 0.5f * r0.fine - 1e-6f);
            assert_true(r.gain <= 1.6f * r0.gain + 1e-6f);
            assert_true(r.ncand > r0.ncand);
        }
        tu.hard_from = 0; /* the default: heavy from the 4th draw; the last third is the same either way */
        mf_anon_ladder_step(&tu, 9, f, f, &h);
        tu.hard_from = 6;
        if (f >= 3) assert_true(h.shade >= 3 * r0.shade && h.fine <= 0.5f * r0.fine && h.gain >= 1.6f * r0.gain);
        if (f >= 6 || f < 3)
            assert_true(h.shade == r.shade && h.fine == r.fine && h.gain == r.gain && h.ncand == r.ncand);
        prev = r;
    }
}

/* (strong21) The strong rung's rendering follows tuning.strong_* (an option; docs/anonymization.md "Branch strong21"):
 * by default main's (model eyes, 1.6x the shape gain, 3x the shading low-pass, half the grain of the gentle rung at the
 * same count of failed draws: the 4th to 9th draws of 9); with strong_eyes 1, strong_shape 1.3, strong_shade 1.75 and
 * strong_fine 1 the photo's eyes and those factors; out-of-range factors are clamped (shape at most 3, shade 1..10,
 * grain at most 1) and strong_eyes -1 is the model's eyes. The gentle rungs (draws 1-3) do not change. Fails when the
 * ladder ignores the tuning (main's constant 1.6 / 3 / 0.5). */
static void test_strong_rung_tuning(void **state) {
    (void)state;
    mf_anon_tuning tu = {.shading_sigma = 0.10f, .shape_gain = 1, .fine_amp = 1, .tex_gain = 1, .detail_amp = 2.5f,
                       .away = 0.6f};
    mf_anon_tuning gentle = tu;
    gentle.keep_eyes = 1; /* the default ladder never strong: the gentle rung at every count of failed draws */
    static const float set[][4] = {{0, 1.6f, 3, 0.5f}, {1, 1.3f, 1.75f, 1}, {-1, 5, 0.5f, 2}};
    static const float want[][4] = {{0, 1.6f, 3, 0.5f}, {1, 1.3f, 1.75f, 1}, {0, 3, 1, 1}};
    for (int c = 0; c < 3; c++) {
        tu.strong_eyes = (int)set[c][0], tu.strong_shape = c ? set[c][1] : 0, tu.strong_shade = c ? set[c][2] : 0,
        tu.strong_fine = c ? set[c][3] : 0;
        assert_int_equal(mf_anon_strong_eyes(&tu), (int)want[c][0]);
        for (int f = 0; f < 9; f++) {
            mf_anon_rung r, g;
            mf_anon_ladder_step(&tu, 9, f, f, &r);
            mf_anon_ladder_step(&gentle, 9, f, f, &g);
            assert_int_equal(r.strong, f >= 3);
            assert_float_equal(r.gain, g.gain * (f >= 3 ? want[c][1] : 1), 1e-5);
            assert_float_equal(r.shade, g.shade * (f >= 3 ? want[c][2] : 1), 1e-5);
            assert_float_equal(r.fine, g.fine * (f >= 3 ? want[c][3] : 1), 1e-5);
        }
    }
}

/* (draws20) Skipping the gentle rungs: a gentle draw rejected far over an ensemble threshold (tuning.leap gaps or more)
 * makes the next draw the ladder's first strong rung. The ladder part: after the first of 9 draws, 2 rungs are skipped
 * (the 4th draw's rung comes 2nd), after the second 1, none from a strong rung, below the leap or with it off. On the
 * photo: a forced-similar identity (the original's own texture, far over arcface's threshold on every draw) is drawn
 * 9 times at the rungs 0, 3, 4, .., 8, 8, 8 (the ladder stops at main's last rung), each rejected by a recognizer and
 * logged in the result's draw log; with tuning.leap 0 (the default: off) at 0, 1, .., 8. Fails on main (no leap:
 * rungs 0, 1, 2). */
static void test_leap_to_strong_rung(void **state) {
    mf_anon_tuning tu = {.shading_sigma = 0.10f, .shape_gain = 1, .fine_amp = 1, .tex_gain = 1, .detail_amp = 2.5f,
                       .away = 0.6f, .leap = 0.6f};
    assert_int_equal(mf_anon_ladder_leap(&tu, 9, 1, 1.0f), 2);
    assert_int_equal(mf_anon_ladder_leap(&tu, 9, 2, 0.6f), 1);
    assert_int_equal(mf_anon_ladder_leap(&tu, 9, 3, 5.0f), 0); /* already strong */
    assert_int_equal(mf_anon_ladder_leap(&tu, 9, 1, 0.5f), 0); /* not far enough over */
    assert_int_equal(mf_anon_ladder_leap(&tu, 3, 1, 5.0f), 0); /* 3 draws: the second is strong already */
    mf_anon_rung r;
    mf_anon_ladder_step(&tu, 9, 1 + mf_anon_ladder_leap(&tu, 9, 1, 1.0f), 0, &r);
    assert_int_equal(r.strong, 1);
    tu.leap = -1;
    assert_int_equal(mf_anon_ladder_leap(&tu, 9, 1, 5.0f), 0);
    tu.leap = 0.6f, tu.ladder = 1; /* the identity-first ladder climbs otherwise */
    assert_int_equal(mf_anon_ladder_leap(&tu, 9, 1, 5.0f), 0);

    fixture *f = *state;
    NEED_FIXTURE(f);
    for (int off = 0; off < 2; off++) {
        mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                          .max_tries = 9};
        o.tuning.leap = off ? 0 : 0.8f; /* 0: the default (off) */
        o.tuning.last_rungs = -1;         /* (last33) the ladder's 9 draws only */
        mf_anon_t *a2;
        assert_int_equal(mf_anon_create(&o, &a2), MF_OK);
        mf_anon_debug_force_similar(a2, 1);
        mf_img a = copy_of(&f->img);
        mf_anon_result res;
        assert_int_equal(mf_anon_face(a2, &a, &f->faces[0], MF_ANON_SYNTH, 7, NULL, &res), MF_OK);
        printf("  leap %s: decision %d tries %d draws %s (first %.3f) rungs", off ? "off" : "0.8", res.decision,
               res.tries, res.draws, res.draw_val[0]);
        for (int i = 0; i < res.tries; i++) printf(" %d", res.draw_rung[i]);
        printf("; note '%s'\n", res.note);
        assert_int_equal(res.decision, MF_ANON_FALLBACK); /* never a silent pass */
        assert_int_equal(res.tries, 9); /* never fewer draws than main */
        assert_int_equal((int)strlen(res.draws), res.tries);
        for (int i = 0; i < res.tries; i++) {
            assert_non_null(strchr("AaFfP", res.draws[i])); /* a recognizer each */
            int want = off ? i : i == 0 ? 0 : i + 2 > 8 ? 8 : i + 2;
            assert_int_equal(res.draw_rung[i], want);
        }
        assert_true(face_change(&f->img, &a, &f->faces[0]) > 3);
        mf_img_free(&a);
        mf_anon_free(a2);
    }
}

/* (jit30) tuning.jitter_skip: a draw whose every ensemble similarity at the original's alignment is below its
 * threshold by more than the factor x the measured jitter lift (JIT_LIFT_*) skips its jittered alignments, and the
 * original's jittered embeddings are made only when a draw needs them (ensure_ejit). The factor is set with the
 * testing hook (mf_anon_debug_jitter_skip: no 1.5 floor, so a skipped face is easy to find).
 * Near the thresholds (the fixture's face: every draw within 0.05 of arcface's threshold), at 1 and at 1000 nothing
 * is skipped and everything is identical to the skip off (pixels, decision, draws, draw log, similarities, age,
 * note: the lazily made jittered embeddings of the original are the same bits); the number of embeddings may differ
 * (the own alignments run as one batch before the jittered ones). Far below them (LFW Daniel_Montenegro_0001, arcface
 * 0.08-0.12 and faceapi 0.88-0.90 reported on its draws), at 0.3 some seed is reported with jitter_skipped and publishes
 * the same draw (pixels, decision, draws) with at least 12 fewer embeddings, its reported similarities (without the
 * jitters' maxima) at most the skip-off ones. Fails on main's behaviour (never skipped, the same embeddings) and when
 * the skip ignores the margin (the near-threshold face is skipped). The far face is also anonymized at 0.3 without a
 * pool: the same pixels, decision, draws, skip and similarities as with the two-thread batches. */
static void jit_compare(const mf_anon_result *ra, const mf_anon_result *rb, const mf_img *a, const mf_img *b) {
    assert_memory_equal(a->data, b->data, (size_t)a->w * a->h * 3);
    assert_int_equal(ra->decision, rb->decision);
    assert_int_equal(ra->tries, rb->tries);
    assert_int_equal(ra->method, rb->method);
}

/* (warp45) The background warp follows a moved outline without a sawtooth: 72 outline vertices on a circle of radius
 * 100 px (about 8.7 px apart), moved inwards by 20 and 30 px in turn (the drawn deltas differ from vertex to vertex).
 * Along a ring 3 px outside the new outline, the radius each pixel takes the photo from (mf_anon_warp_point) swings
 * between its neighbours' values; with weights 1 / d^4 it held each vertex's displacement over a flat spot and jumped
 * between them (the hair edge along a strong draw's narrowed jaw: a sawtooth), with 1 / d^2 it turns less steeply and
 * swings less. */
/* nb vertices on a circle of radius 100 moved in by 20 and 30 px in turn, the loop made `loop` times denser
 * (mf_anon_loop_densify; 1: the vertices alone) */
static double warp_ring_swing(int nb, int power, int loop, double *steep) {
    enum { NB = 72, NS = 1440, NMAX = 72 * 8 };
    float vx[NB], vy[NB], vu[NB], vv[NB], bx[NMAX], by[NMAX], ex[NMAX], ey[NMAX], d2s[NMAX];
    assert_true(nb <= NB && nb * loop <= NMAX);
    for (int b = 0; b < nb; b++) {
        double t = 2 * M_PI * b / nb, m = b % 2 ? 30 : 20;
        vx[b] = (float)(100 * cos(t)), vy[b] = (float)(100 * sin(t));
        vu[b] = (float)(-m * cos(t)), vv[b] = (float)(-m * sin(t));
    }
    int n = mf_anon_loop_densify(vx, vy, vu, vv, nb, loop, bx, by, ex, ey);
    int L = loop < 1 ? 1 : loop;
    assert_int_equal(n, nb * L);
    for (int b = 0; b < nb; b++) /* every vertex is kept, in order */
        assert_true(bx[b * L] == vx[b] && by[b * L] == vy[b] && ex[b * L] == vu[b] && ey[b * L] == vv[b]);
    double lo = 1e9, hi = -1e9, prev = 0;
    *steep = 0;
    for (int i = 0; i <= NS; i++) {
        double t = 2 * M_PI * i / NS;
        float px = (float)(103 * cos(t)), py = (float)(103 * sin(t)), d[2];
        mf_anon_warp_point(bx, by, ex, ey, n, power, 60.0f, px, py, d2s, d);
        double r = hypot(px - d[0], py - d[1]); /* where this pixel samples the photo */
        lo = fmin(lo, r), hi = fmax(hi, r);
        if (i) *steep = fmax(*steep, fabs(r - prev) / (2 * M_PI * 103 / NS)); /* px of source radius per px of arc */
        prev = r;
    }
    return hi - lo;
}

static void test_warp_no_sawtooth(void **state) {
    (void)state;
    double s4, s2, sw4 = warp_ring_swing(72, 4, 1, &s4), sw2 = warp_ring_swing(72, 2, 1, &s2);
    printf("  background warp on a ring: swing %.2f px (1/d^4) -> %.2f px (1/d^2), steepest %.2f -> %.2f px/px\n", sw4,
           sw2, s4, s2);
    assert_true(sw4 > 6.0);       /* the sawtooth: most of the 10 px between neighbours (9.5 px) */
    assert_true(s2 < 0.6 * s4);   /* the default turns less than 0.6x as steeply between vertices (0.41x) */
    assert_true(sw2 < 0.8 * sw4); /* and swings less (0.64x) */
}

/* (rc52) The light step's colour for what is darker than the lit low-pass. A pale photo's skin (240, 205, 195) under
 * a brown drawn texture (170, 130, 100): the power is the saturations' ratio, 0.1875 / 0.4118 = 0.455; a shaded lid
 * 0.65 / 0.58 / 0.50 of that skin per channel (brown skin's shading: darker and more saturated) keeps its luminance
 * and its channel ratios' spread (max / min) shrinks to its 0.455th power; g 1, a pixel lighter than L, and the same,
 * a greyer or a more saturated photo skin leave it as it is; g 0 makes the ratios equal (a grey shade). */
static void test_rel_chroma(void **state) {
    (void)state;
    const float pale[3] = {240, 205, 195}, brown[3] = {170, 130, 100}, grey[3] = {100, 100, 99};
    float g = mf_anon_rel_chroma_power(pale, brown);
    printf("  power: pale photo, brown draw %.4f\n", g);
    assert_true(fabsf(g - (45.0f / 240) / (70.0f / 170)) < 1e-4f);
    assert_true(mf_anon_rel_chroma_power(pale, pale) == 1);
    assert_true(mf_anon_rel_chroma_power(brown, pale) == 1); /* a more saturated photo: as before */
    assert_true(mf_anon_rel_chroma_power(pale, grey) == 1);  /* a grey draw has no colour to tone down */
    const float k[3] = {0.65f, 0.58f, 0.50f};
    float v[3], v0[3];
    for (int c = 0; c < 3; c++) v0[c] = v[c] = pale[c] * k[c];
    mf_anon_rel_chroma(pale, v, g);
    double y0 = 0.299 * v0[0] + 0.587 * v0[1] + 0.114 * v0[2], y1 = 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
    double s0 = (v0[0] / pale[0]) / (v0[2] / pale[2]), s1 = (v[0] / pale[0]) / (v[2] / pale[2]);
    printf("  lid %.1f %.1f %.1f -> %.1f %.1f %.1f (luminance %.3f -> %.3f, spread %.3f -> %.3f, ^g %.3f)\n", v0[0],
           v0[1], v0[2], v[0], v[1], v[2], y0, y1, s0, s1, pow(s0, g));
    assert_true(fabs(y1 - y0) < 1e-3 * y0);
    assert_true(fabs(s1 - pow(s0, g)) < 1e-3);
    assert_true(s1 < s0);
    float w[3] = {v0[0], v0[1], v0[2]};
    mf_anon_rel_chroma(pale, w, 1); /* g 1: unchanged */
    assert_memory_equal(w, v0, sizeof w);
    float li[3] = {250, 215, 200}, li0[3] = {250, 215, 200};
    mf_anon_rel_chroma(pale, li, g); /* lighter than L: unchanged */
    assert_memory_equal(li, li0, sizeof li);
    for (int c = 0; c < 3; c++) w[c] = v0[c];
    mf_anon_rel_chroma(pale, w, 0); /* g 0: a grey shade of L */
    assert_true(fabsf(w[0] / pale[0] - w[2] / pale[2]) < 1e-4f && fabsf(w[1] / pale[1] - w[2] / pale[2]) < 1e-4f);
    /* the lips are left out by a polygon test: a concave loop (a U) */
    const float u[16] = {0, 0, 30, 0, 30, 30, 20, 30, 20, 10, 10, 10, 10, 30, 0, 30};
    const int ul[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(mf_anon_in_loop(u, ul, 8, 5, 20), 1);
    assert_int_equal(mf_anon_in_loop(u, ul, 8, 15, 20), 0); /* in the notch */
    assert_int_equal(mf_anon_in_loop(u, ul, 8, 15, 5), 1);
    assert_int_equal(mf_anon_in_loop(u, ul, 8, 35, 5), 0);
}

/* (cc53) A rendered pixel held near the photo's skin colour. A pale skin (240, 205, 195) as the reference: an orange
 * smear (200, 120, 60) lies far from its chromaticity; clamped, it keeps its luminance and the direction of its
 * colour's departure and lies exactly t away. A pixel within t, a darker shade of the skin itself, a dark reference
 * and t <= 0 leave it as it is; a near-black pixel is measured against the floor MF_ANON_CC_Y_MIN, so it is not
 * painted in the skin's full colour. */
static double cc_y(const float *p) { return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]; }

static void test_chroma_clamp(void **state) {
    (void)state;
    const float ref[3] = {240, 205, 195};
    const float t = 0.08f;
    float o[3] = {200, 120, 60}, o0[3] = {200, 120, 60};
    float n0 = mf_anon_chroma_clamp(ref, o, t);
    float chk[3] = {o[0], o[1], o[2]};
    float n1 = mf_anon_chroma_clamp(ref, chk, 1e9f); /* measures only */
    printf("  orange %.0f %.0f %.0f -> %.1f %.1f %.1f: distance %.3f -> %.3f (t %.2f)\n", o0[0], o0[1], o0[2], o[0], o[1],
           o[2], n0, n1, t);
    assert_true(n0 > 3 * t);
    assert_true(fabsf(n1 - t) < 1e-3f);
    assert_true(fabs(cc_y(o) - cc_y(o0)) < 1e-3 * cc_y(o0));
    assert_true(o[0] - o[2] < o0[0] - o0[2] && o[0] - o[2] > ref[0] - ref[2]); /* still warmer than the skin, less so */
    assert_memory_equal(chk, o, sizeof chk);                                   /* a clamped pixel stays */
    float near[3] = {236, 200, 188}, near0[3] = {236, 200, 188};
    assert_true(mf_anon_chroma_clamp(ref, near, t) < t);
    assert_memory_equal(near, near0, sizeof near);
    float shade[3] = {120, 102.5f, 97.5f}, shade0[3] = {120, 102.5f, 97.5f}; /* the skin at half its luminance */
    assert_true(mf_anon_chroma_clamp(ref, shade, t) < 1e-4f);
    assert_memory_equal(shade, shade0, sizeof shade);
    const float dark[3] = {4, 3, 3};
    float p[3] = {o0[0], o0[1], o0[2]};
    assert_true(mf_anon_chroma_clamp(dark, p, t) == 0 && mf_anon_chroma_clamp(ref, p, 0) == 0 &&
                mf_anon_chroma_clamp(ref, p, -1) == 0);
    assert_memory_equal(p, o0, sizeof p);
    /* near black: the floor. (12, 4, 20), violet, ends within t x MF_ANON_CC_Y_MIN of the skin's colour at its own
     * luminance, its luminance kept */
    float b[3] = {12, 4, 20}, b0[3] = {12, 4, 20};
    assert_true(mf_anon_chroma_clamp(ref, b, t) > 2 * t);
    double yb = cc_y(b0), yr = cc_y(ref);
    double cb = -0.168736 * b[0] - 0.331264 * b[1] + 0.5 * b[2], cr = 0.5 * b[0] - 0.418688 * b[1] - 0.081312 * b[2];
    double rb = (-0.168736 * ref[0] - 0.331264 * ref[1] + 0.5 * ref[2]) / yr, rr = (0.5 * ref[0] - 0.418688 * ref[1] - 0.081312 * ref[2]) / yr;
    printf("  near black %.0f %.0f %.0f -> %.1f %.1f %.1f\n", b0[0], b0[1], b0[2], b[0], b[1], b[2]);
    assert_true(fabs(cc_y(b) - yb) < 1e-3);
    assert_true(hypot(cb - yb * rb, cr - yb * rr) < t * MF_ANON_CC_Y_MIN + 1e-3);
}

/* (lens53) The lenses grown from the eye zone. A 60 x 30 map of skin (1) with two dark lenses (0) around the eye
 * centres (15, 15) and (45, 15), radius 8; the seeds are a 3 x 3 patch in each; the left lens has a dark strip (hair)
 * running off to the left edge, and a dark blob (a mole) sits apart from both. The fill takes both lenses whole, the
 * strip only up to r from the centre, not the blob. */
static void test_lens_fill(void **state) {
    (void)state;
    enum { W = 60, H = 30 };
    static float skin[W * H], seed[W * H];
    static int q[W * H];
    static uint8_t out[W * H];
    const float c[2][2] = {{15, 15}, {45, 15}};
    long lens_px = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            size_t i = (size_t)y * W + x;
            int in = (x - 15) * (x - 15) + (y - 15) * (y - 15) <= 64 || (x - 45) * (x - 45) + (y - 15) * (y - 15) <= 64;
            lens_px += in;
            skin[i] = in || (y >= 14 && y <= 16 && x < 15) || (x >= 28 && x <= 30 && y >= 26) ? 0.05f : 1;
            seed[i] = abs(x - 15) <= 1 && abs(y - 15) <= 1 ? 1 : abs(x - 45) <= 1 && abs(y - 15) <= 1 ? 1 : 0;
        }
    long n = mf_anon_lens_fill(skin, seed, W, H, 0.3f, c, 11, q, out);
    long strip = 0;
    for (int x = 0; x < 7; x++) strip += out[15 * W + x];
    printf("  lens fill: %ld px (lenses %ld), strip x 0..6 in %ld, mole %d\n", n, lens_px, strip, out[27 * W + 29]);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int in = (x - 15) * (x - 15) + (y - 15) * (y - 15) <= 64 || (x - 45) * (x - 45) + (y - 15) * (y - 15) <= 64;
            if (in) assert_int_equal(out[y * W + x], 1); /* the lenses whole */
        }
    assert_int_equal(out[15 * W + 4], 1);  /* the strip up to r (11 from the centre) */
    assert_int_equal(out[15 * W + 3], 0);  /* and not beyond (12) */
    assert_int_equal(out[27 * W + 29], 0); /* the mole: not connected */
    assert_int_equal(out[5 * W + 30], 0);  /* skin */
    assert_int_equal(n, lens_px + 3 * 3);  /* the lenses and the strip's 3 x 3 within r, nothing else */
}

/* (loop46) tuning.warp_loop: the outline's 36 vertices (the mesh oval's count) with the loop 4x denser. Between two
 * vertices 10 px apart in displacement and 17.5 px apart on the ring, a field linear along the loop turns the source
 * radius by 0.57 px per px; the vertices alone hold flat spots and turn several times as steeply. */
static void test_warp_loop_dense(void **state) {
    (void)state;
    double s1, s4, sw1 = warp_ring_swing(36, 4, 1, &s1), sw4 = warp_ring_swing(36, 4, 4, &s4);
    double ideal = 10.0 / (2 * M_PI * 100 / 36);
    printf("  background warp, 36 vertices: steepest %.2f px/px (vertices) -> %.2f (loop 4x denser; linear %.2f), "
           "swing %.2f -> %.2f px\n", s1, s4, ideal, sw1, sw4);
    assert_true(s1 > 3 * ideal);   /* flat spots and steps between them (the sawtooth) */
    assert_true(s4 < 1.6 * ideal); /* nearly the linear ramp */
    assert_true(sw4 < sw1 + 0.5);  /* no overshoot beyond the vertices' own range */
    /* densifying by 1 (or less) changes nothing */
    double s0, sw0 = warp_ring_swing(36, 4, 0, &s0);
    assert_true(s0 == s1 && sw0 == sw1);
}

static void test_jitter_skip(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_t *on[4];
    /* near: 1 and 1000; far: 0.3, and 0.3 without a pool (every embedding one after the other) */
    const float fac[4] = {1.0f, 1000.0f, 0.3f, 0.3f};
    for (int k = 0; k < 4; k++) {
        mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an,
                          .pool = k < 3 ? f->pool : NULL, .max_tries = 3};
        assert_int_equal(mf_anon_create(&o, &on[k]), MF_OK);
        mf_anon_debug_jitter_skip(on[k], fac[k]);
    }
    /* near the thresholds: never skipped, identical to off */
    for (uint64_t seed = 40; seed < 48; seed++)
        for (int k = 0; k < 2; k++) {
            mf_img x = copy_of(&f->img), z = copy_of(&f->img);
            mf_anon_result r0, r2;
            assert_int_equal(mf_anon_face(f->a, &x, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r0), MF_OK);
            assert_int_equal(mf_anon_face(on[k], &z, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r2), MF_OK);
            printf("  near, seed %d factor %g: decision %d draws %s emb %d / skipped %d emb %d; sim", (int)seed,
                   fac[k], r0.decision, r0.draws, r0.embeddings, r2.jitter_skipped, r2.embeddings);
            for (int i = 0; i < r0.n_rec; i++) printf(" %.4f/%.4f", r0.sim[i], r2.sim[i]);
            printf("\n");
            assert_int_equal(r0.jitter_skipped, 0);
            assert_int_equal(r2.jitter_skipped, 0);
            jit_compare(&r0, &r2, &x, &z);
            assert_string_equal(r0.draws, r2.draws);
            for (int i = 0; i < r0.n_rec; i++) assert_true(r0.sim[i] == r2.sim[i]);
            assert_true(r0.age_after == r2.age_after);
            assert_string_equal(r0.note, r2.note);
            mf_img_free(&x), mf_img_free(&z);
        }
    /* far below them: skipped, the same draw published with fewer embeddings */
    char path[4096];
    snprintf(path, sizeof path, "%s/lfw/Daniel_Montenegro/Daniel_Montenegro_0001.jpg", tu_data_dir());
    mf_img img;
    mf_face faces[16];
    int n = 0;
    if (!tu_exists(path) || mf_img_load(path, NULL, &img, NULL)) {
        printf("  far: skipped (%s absent)\n", path);
        for (int k = 0; k < 4; k++) mf_anon_free(on[k]);
        return;
    }
    assert_int_equal(mf_face_analyze(f->an, &img, faces, 16, &n), MF_OK);
    assert_true(n >= 1);
    int big = 0;
    for (int i = 1; i < n; i++)
        if (faces[i].det.w > faces[big].det.w) big = i;
    int skipped = 0;
    for (uint64_t seed = 1; seed < 5; seed++) {
        mf_img x = copy_of(&img), y = copy_of(&img), w = copy_of(&img);
        mf_anon_result r0, r1, r3;
        assert_int_equal(mf_anon_face(f->a, &x, &faces[big], MF_ANON_SYNTH, seed, NULL, &r0), MF_OK);
        assert_int_equal(mf_anon_face(on[2], &y, &faces[big], MF_ANON_SYNTH, seed, NULL, &r1), MF_OK);
        assert_int_equal(mf_anon_face(on[3], &w, &faces[big], MF_ANON_SYNTH, seed, NULL, &r3), MF_OK);
        /* the two-thread batches and the one-thread path publish the same with the skip */
        jit_compare(&r1, &r3, &y, &w);
        assert_int_equal(r1.jitter_skipped, r3.jitter_skipped);
        for (int i = 0; i < r1.n_rec; i++) assert_true(r1.sim[i] == r3.sim[i]);
        printf("  far, seed %d: decision %d draws %s emb %d / skipped %d emb %d; sim", (int)seed, r0.decision,
               r0.draws, r0.embeddings, r1.jitter_skipped, r1.embeddings);
        for (int i = 0; i < r0.n_rec; i++) printf(" %.4f/%.4f", r0.sim[i], r1.sim[i]);
        printf("\n");
        assert_int_equal(r0.jitter_skipped, 0);
        jit_compare(&r0, &r1, &x, &y);
        if (r1.jitter_skipped) {
            skipped++;
            assert_int_equal(r1.decision, MF_ANON_ACCEPTED);
            assert_true(r1.embeddings <= r0.embeddings - 12);
            for (int i = 0; i < r0.n_rec; i++)
                if (mf_anon_recognizer_info(f->a, i)->ensemble) assert_true(r1.sim[i] <= r0.sim[i]);
        }
        mf_img_free(&x), mf_img_free(&y), mf_img_free(&w);
    }
    printf("  far: %d of 4 seeds skipped the jittered alignments\n", skipped);
    assert_true(skipped > 0);
    mf_img_free(&img);
    for (int k = 0; k < 4; k++) mf_anon_free(on[k]);
}

/* (cut14) mf_anon_attack_square: the square of twice the box around its centre, padded grey beyond the border,
 * turned upright by the roll; mf_anon_attack_points maps picture points into it. */
static void test_attack_square_builder(void **state) {
    (void)state;
    mf_img img, sq;
    assert_int_equal(mf_img_init(&img, 40, 30, 3), MF_OK);
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++)
            for (int c = 0; c < 3; c++) img.data[((size_t)y * 40 + x) * 3 + c] = (uint8_t)(c == 0 ? 4 * x : c == 1 ? 5 * y : 200);
    /* a 20 x 20 box cut by the right border (x 30..50): the square is 40 px around (40, 10) */
    float box[4] = {30, 0, 20, 20};
    assert_int_equal(mf_anon_attack_square(&img, box, 0, 2.0f, 40, &sq), MF_OK);
    assert_int_equal(sq.w, 40);
    /* left half: the picture (square x 0..19 -> picture x 20..39), right half beyond the border: grey */
    const uint8_t *in = sq.data + ((size_t)15 * 40 + 5) * 3, *out = sq.data + ((size_t)15 * 40 + 30) * 3;
    assert_int_equal(in[0], 4 * 25);
    assert_int_equal(in[1], 5 * 5);
    assert_true(out[0] == 128 && out[1] == 128 && out[2] == 128);
    /* above the picture (square row 0..9 -> picture y -10..-1): grey */
    assert_int_equal(sq.data[((size_t)3 * 40 + 5) * 3 + 2], 128);
    mf_img_free(&sq);
    /* turned by 90 degrees: the square's rows run along the picture's columns */
    float box2[4] = {10, 5, 20, 20};
    assert_int_equal(mf_anon_attack_square(&img, box2, 90, 1.0f, 20, &sq), MF_OK);
    const uint8_t *p0 = sq.data + ((size_t)10 * 20 + 2) * 3, *p1 = sq.data + ((size_t)10 * 20 + 17) * 3;
    assert_true(abs((int)p0[0] - (int)p1[0]) <= 4);  /* along a row: x of the picture stays */
    assert_true(abs((int)p0[1] - (int)p1[1]) >= 60); /* ... and y moves */
    mf_img_free(&sq);
    /* points into the square: the box centre to the square's centre; turned by 90 degrees, 5 px right of the centre
     * of box2 to 5 px above the square's centre */
    float pc[2][2] = {{40, 10}, {25, 15}}, qc[2][2];
    mf_anon_attack_points(box, 0, 2.0f, 40, (const float(*)[2])pc, 1, qc);
    assert_true(fabsf(qc[0][0] - 20) < 1e-3f && fabsf(qc[0][1] - 20) < 1e-3f);
    mf_anon_attack_points(box2, 90, 1.0f, 20, (const float(*)[2])pc + 1, 1, qc);
    assert_true(fabsf(qc[0][0] - 10) < 1e-3f && fabsf(qc[0][1] - 5) < 1e-3f);
    assert_int_equal(mf_anon_attack_square(&img, box, NAN, 2.0f, 40, &sq), MF_ERR_ARG);
    mf_img_free(&img);
    /* (upright43) mf_anon_attack_points_back is the inverse: 5 px above the turned square's centre back to 5 px right
     * of box2's centre, and points round trip at several rolls, contexts and sides */
    mf_anon_attack_points_back(box2, 90, 1.0f, 20, (const float(*)[2])qc, 1, pc);
    assert_true(fabsf(pc[0][0] - 25) < 1e-3f && fabsf(pc[0][1] - 15) < 1e-3f);
    const float rolls[] = {-170, -45.5f, -27.8f, 0, 33, 90, 179}, pts[3][2] = {{12.5f, -3}, {140, 77.25f}, {-20, 300}};
    for (int r = 0; r < 7; r++) {
        float back[3][2], into[3][2], b3[4] = {100.5f, 60, 80, 92};
        mf_anon_attack_points(b3, rolls[r], 2.5f, 230, pts, 3, into);
        mf_anon_attack_points_back(b3, rolls[r], 2.5f, 230, (const float(*)[2])into, 3, back);
        for (int i = 0; i < 3; i++)
            if (!(fabsf(back[i][0] - pts[i][0]) < 1e-2f && fabsf(back[i][1] - pts[i][1]) < 1e-2f))
                fail_msg("roll %g point %d: %g,%g back as %g,%g", rolls[r], i, pts[i][0], pts[i][1], back[i][0], back[i][1]);
    }
}

/* The alignment points of the face the analyser finds nearest the centre of square sq (within a quarter of it). */
static int square_face(mf_face_analyzer_t *an, const mf_img *sq, float p[5][2]) {
    const mf_face *f;
    int n, best = -1;
    float bd = 0.25f * (float)sq->w;
    assert_int_equal(mf_face_analyze_all(an, sq, &f, &n), MF_OK);
    for (int i = 0; i < n; i++) {
        float d = hypotf(f[i].det.x + f[i].det.w / 2 - (float)sq->w / 2, f[i].det.y + f[i].det.h / 2 - (float)sq->h / 2);
        if (d < bd) bd = d, best = i;
    }
    if (best >= 0) mf_face_5pt(&f[best], p);
    return best >= 0;
}

/* The attacker tests' set-up (as eval_privacy_anon): the privacy analyser anonymizes, the plain one checks, a bare
 * one (no attributes) plays the attacker with arcface. */
typedef struct {
    mf_nn_pool_t *pool;
    mf_face_models_t *fm;
    mf_face_analyzer_t *priv, *plain, *bare;
    mf_face_recognizer_t *rec;
    mf_anon_t *a;
} attack_env;

/* An anonymizer over e's models as `mfmc anonymize` sets it up (privacy analyser, the plain one for the checks, e's
 * pool), with tuning tu. */
/* An anonymizer over the environment's analysers, with max_tries draws (0: the default) at the strict privacy level
 * when strict is 1. */
static mf_anon_t *attack_env_anon_level(const attack_env *e, mf_anon_tuning tu, int strict, int max_tries) {
    mf_anon_opts ao = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = e->priv, .pool = e->pool,
                       .check_an = e->plain, .tuning = tu, .strict = strict, .max_tries = max_tries};
    mf_anon_t *a = NULL;
    assert_int_equal(mf_anon_create_from(e->fm, &ao, &a), MF_OK);
    return a;
}

static mf_anon_t *attack_env_anon(const attack_env *e, mf_anon_tuning tu) { return attack_env_anon_level(e, tu, 0, 0); }

static void attack_env_open(attack_env *e) {
    assert_int_equal(mf_nn_pool_create(2, &e->pool), MF_OK);
    assert_int_equal(mf_face_models_create(tu_models_dir(), &e->fm), MF_OK);
    mf_face_analyzer_opts po = {.pool = e->pool, .privacy = 1}, co = {.pool = e->pool},
                          no = {.pool = e->pool, .no_attributes = 1};
    assert_int_equal(mf_face_analyzer_create_from(e->fm, &po, &e->priv), MF_OK);
    assert_int_equal(mf_face_analyzer_create_from(e->fm, &co, &e->plain), MF_OK);
    assert_int_equal(mf_face_analyzer_create_from(e->fm, &no, &e->bare), MF_OK);
    assert_int_equal(mf_face_recognizer_create_from(e->fm, "arcface", e->pool, &e->rec), MF_OK);
    e->a = attack_env_anon(e, (mf_anon_tuning){0});
}

/* attack_env_open when the identity model is there; else the test is skipped (cmocka's skip leaves the test). */
static void attack_env_need(attack_env *e) {
    if (!tu_exists(MODEL)) {
        printf("  skipped: identity model absent\n");
        skip();
    }
    attack_env_open(e);
}

static void attack_env_close(attack_env *e) {
    mf_anon_free(e->a);
    mf_face_recognizer_free(e->rec);
    mf_face_analyzer_free(e->priv), mf_face_analyzer_free(e->plain), mf_face_analyzer_free(e->bare);
    mf_face_models_free(e->fm);
    mf_nn_pool_free(e->pool);
}

/* The faces the analyser finds in img, copied (the analyser's own array lives until its next call); *n their
 * number. Free with free(). */
static mf_face *analyzed_faces(mf_face_analyzer_t *an, const mf_img *img, int *n) {
    const mf_face *found;
    assert_int_equal(mf_face_analyze_all(an, img, &found, n), MF_OK);
    mf_face *faces = malloc((size_t)(*n ? *n : 1) * sizeof *faces);
    assert_non_null(faces);
    memcpy(faces, found, (size_t)*n * sizeof *faces);
    return faces;
}

/* The data set's photo `rel` (a path under tu_data_dir()) loaded into *img and its faces as analyzed_faces gives
 * them; NULL (and *img untouched) when the photo cannot be loaded. Free the faces with free(), *img with
 * mf_img_free(). */
static mf_face *data_photo_faces(mf_face_analyzer_t *an, const char *rel, mf_img *img, int *n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tu_data_dir(), rel);
    if (mf_img_load(path, NULL, img, NULL)) return NULL;
    return analyzed_faces(an, img, n);
}

/* Frees what a test of one photo holds: its faces (may be NULL), its image, its n_an anonymizers an[] and e. */
static void photo_test_close(attack_env *e, mf_anon_t **an, int n_an, mf_face *faces, mf_img *img) {
    free(faces);
    mf_img_free(img);
    for (int v = 0; v < n_an; v++) mf_anon_free(an[v]);
    attack_env_close(e);
}

/* The index of the face of faces[0..n) (at most the first 16) whose detection box is nearest img's centre, as
 * eval_anon takes a photo's face; -1 when there is none. */
static int central_face(const mf_face *faces, int n, const mf_img *img) {
    if (!faces || n <= 0) return -1;
    mf_face_box bx[16];
    int nb = n < 16 ? n : 16;
    for (int i = 0; i < nb; i++) bx[i] = faces[i].det;
    return tu_box_nearest_centre(bx, nb, img->w, img->h, NULL);
}

/* The index of the largest face of faces[0..n) (by its mesh box's width) when it has a mesh, else -1. */
static int largest_meshed_face(const mf_face *faces, int n) {
    int k = 0;
    for (int i = 1; i < n; i++)
        if (faces[i].lm.box.w > faces[k].lm.box.w) k = i;
    return n > 0 && faces[k].has_landmarks ? k : -1;
}

/* Anonymizes (in place) every face the privacy analysis finds in img as eval_privacy_anon --seed 1 does for the
 * set's picture `name` (synthetic method, seed 1000003 + hash(name) * 4096 + k for face k); prints each decision.
 * Returns the number of faces replaced by a synthetic face. */
static int anonymize_as_eval(mf_anon_t *a, mf_face_analyzer_t *priv, mf_img *img, const char *name) {
    int n, synth = 0;
    mf_face *faces = analyzed_faces(priv, img, &n);
    for (int k = 0; k < n; k++) {
        mf_anon_result r;
        uint64_t seed = 1000003ull + (uint64_t)ps_name_hash(name) * 4096ull + (unsigned)k;
        assert_int_equal(mf_anon_face(a, img, &faces[k], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
        printf("  %s face %d: decision %d method %d tries %d arcface %.3f note '%s'\n", name, k, r.decision, r.method,
               r.tries, r.sim[0], r.note);
        synth += r.decision == MF_ANON_ACCEPTED;
    }
    free(faces);
    return synth;
}

/* Issue 11's attacker (eval_privacy_anon's check): the squares of twice the truth box t = x y w h roll, padded grey
 * and turned upright, of the original and of the result; the plain analyser (`bare`) looks for a face at each
 * centre, and `rec` embeds both squares at the alignment points of each face found. Returns the highest
 * similarity (-2 when no face was found in either); *found_after: a face was found in the result's square. */
static float attacker_similarity(mf_face_analyzer_t *bare, mf_face_recognizer_t *rec, const mf_img *orig,
                                 const mf_img *res, const float t[5], int *found_after) {
    mf_img so, sa;
    assert_int_equal(mf_anon_attack_square(orig, t, t[4], 2.0f, 256, &so), MF_OK);
    assert_int_equal(mf_anon_attack_square(res, t, t[4], 2.0f, 256, &sa), MF_OK);
    float p_o[5][2], p_a[5][2], e0[1024], e1[1024], sim = -2;
    int fo = square_face(bare, &so, p_o), fa = square_face(bare, &sa, p_a);
    int dim = mf_face_recognizer_info_of(rec)->dim;
    for (int q = 0; q < 2; q++) {
        if (!(q ? fo : fa)) continue;
        const float(*p)[2] = (const float(*)[2])(q ? p_o : p_a);
        assert_int_equal(mf_face_recognizer_embed(rec, &so, p, e0), MF_OK);
        assert_int_equal(mf_face_recognizer_embed(rec, &sa, p, e1), MF_OK);
        sim = fmaxf(sim, mf_face_similarity(e0, e1, dim));
    }
    mf_img_free(&so), mf_img_free(&sa);
    *found_after = fa;
    return sim;
}

/* (cut14) Issue 11's attacker on a face cut by the border: picture cutr50/0002 of the privacy set (FFHQ 0004, its
 * face box cut at 50 % by the right border), built here as tests/tools/privacy-set builds it, anonymized as
 * eval_privacy_anon does (privacy analysis, the plain analyser for the checks, its seed). The attacker's square (twice
 * the truth box, padded grey, upright) of the result, where the plain analyser finds a face, must score arcface
 * below its match threshold against the original's square at both alignments. Main's guarantee (our alignment and
 * six jittered ones) accepted a synthetic face there that arcface matched at 0.388 (eval_privacy_anon at main's
 * code, docs/anonymization.md, "Branch cut14"). Now the face, 49 % of its detection box outside, goes to the
 * fallback without a draw (CUT_FALLBACK_OUT); with only the attacker-square check it was rejected 9 times and filled. */
static void test_cut_face_attacker_square(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/ffhq/ffhq_0004.jpg", tu_data_dir());
    if (!tu_exists(MODEL) || !tu_exists(path)) {
        printf("  skipped: identity model or FFHQ photo absent\n");
        skip();
    }
    attack_env e;
    attack_env_open(&e);
    mf_face_analyzer_t *priv = e.priv, *plain = e.plain, *bare = e.bare;
    mf_face_recognizer_t *rec = e.rec;
    mf_anon_t *a = e.a;
    /* the set's picture: the plain analysis's central face of the upright photo, cut at 50 % by the right border,
     * through the set's JPEG (quality 95) */
    mf_img up, cut, orig;
    assert_int_equal(mf_img_load(path, NULL, &up, NULL), MF_OK);
    const mf_face *f;
    int n, best = -1;
    float bd = 1e30f;
    assert_int_equal(mf_face_analyze_all(plain, &up, &f, &n), MF_OK);
    for (int i = 0; i < n; i++) {
        float dx = f[i].det.x + f[i].det.w / 2 - 0.5f * (float)up.w, dy = f[i].det.y + f[i].det.h / 2 - 0.5f * (float)up.h;
        if (dx * dx + dy * dy < bd) bd = dx * dx + dy * dy, best = i;
    }
    assert_true(best >= 0);
    float t[5] = {f[best].det.x, f[best].det.y, f[best].det.w, f[best].det.h, f[best].lm.roll};
    int x1 = (int)lroundf(t[0] + 0.5f * t[2]);
    assert_int_equal(mf_img_crop(&up, 0, 0, x1, up.h, &cut), MF_OK);
    char tmp[] = "/tmp/mfmc-test-cut-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    char jpg[64];
    snprintf(jpg, sizeof jpg, "%s.jpg", tmp);
    assert_int_equal(mf_img_save(&cut, jpg, 95), MF_OK);
    assert_int_equal(mf_img_load(jpg, NULL, &orig, NULL), MF_OK);
    unlink(jpg), unlink(tmp);
    mf_img res = copy_of(&orig);
    int synth = anonymize_as_eval(a, priv, &res, "cutr50/0002.jpg");
    int fa;
    float sim = attacker_similarity(bare, rec, &orig, &res, t, &fa);
    float thr = mf_face_recognizer_info_of(rec)->match_threshold;
    printf("  cut face: %d synthetic; attacker's square: face found after %d, arcface %.3f (match %.3f)\n", synth, fa,
           sim, thr);
    assert_true(face_change(&orig, &res, &(mf_face){.has_landmarks = 1, .lm.box = {.x = t[0], .y = t[1], .w = t[2], .h = t[3]}}) > 3);
    if (fa) assert_true(sim < thr);
    mf_img_free(&res), mf_img_free(&orig), mf_img_free(&cut), mf_img_free(&up);
    attack_env_close(&e);
}

/* (attack14) Issue 11's attacker on an uncut turned face: picture rot90/0024 of the privacy set (FFHQ photo 24 turned
 * by 90 degrees), rebuilt here as tests/tools/privacy-set builds it and anonymized as eval_privacy_anon does. The
 * attacker's square (twice the truth box, upright by the truth roll) of the result, where the plain analyser finds a
 * face, must score arcface below its match threshold against the original's square. Without the attacker's check
 * for uncut faces (tuning.attack_all 0) the synthetic fallback published there scored 0.327 against 0.319
 * (docs/anonymization.md, "Branch attack14"); with it, that draw is rejected and the face filled. */
static void test_turned_face_attacker_square(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_face_analyzer_t *priv = e.priv, *plain = e.plain, *bare = e.bare;
    mf_face_recognizer_t *rec = e.rec;
    mf_anon_t *a = e.a;
    mf_img orig;
    float truth[4] = {0};
    int got = ps_rotated_ffhq(tu_data_dir(), plain, 24, 90, &orig, truth);
    assert_true(got >= 0);
    if (got) {
        float t[5] = {truth[0] - truth[3] / 2, truth[1] - truth[3] / 2, truth[3], truth[3], truth[2]};
        mf_img res = copy_of(&orig);
        int synth = anonymize_as_eval(a, priv, &res, "rot90/0024.jpg");
        int fa;
        float sim = attacker_similarity(bare, rec, &orig, &res, t, &fa);
        float thr = mf_face_recognizer_info_of(rec)->match_threshold;
        printf("  turned face (roll %.0f): %d synthetic; attacker's square: face found after %d, arcface %.3f (match "
               "%.3f)\n", t[4], synth, fa, sim, thr);
        assert_true(face_change(&orig, &res, &(mf_face){.has_landmarks = 1, .lm.box = {.x = t[0], .y = t[1], .w = t[2], .h = t[3]}}) > 3);
        if (fa) assert_true(sim < thr);
        mf_img_free(&res), mf_img_free(&orig);
    }
    attack_env_close(&e);
    if (!got) skip();
}

/* (upright43) A face rolled by more than 25 degrees is found again after its draw by the plain analyser on an upright
 * copy of the region (tuning.upright_check, on), not by the privacy analyser on the region: FFHQ photo 10 turned by
 * 40 degrees, its central face drawn once with the same seed with the check on and off. Both find the new face, and
 * the roll reported after the draw is the picture's (the copy's roll added back: about 0 without it), within a few
 * degrees of the one the privacy analyser reads; the pose read upright agrees with it. */
static void test_upright_check(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_img orig;
    float truth[4] = {0};
    int got = ps_rotated_ffhq(tu_data_dir(), e.plain, 10, 40, &orig, truth);
    assert_true(got >= 0);
    if (got) {
        int n;
        mf_face *faces = analyzed_faces(e.priv, &orig, &n);
        int k = -1;
        float bd = 0.25f * truth[3];
        for (int i = 0; i < n; i++) { /* the truth face */
            float d = hypotf(faces[i].det.x + faces[i].det.w / 2 - truth[0], faces[i].det.y + faces[i].det.h / 2 - truth[1]);
            if (faces[i].has_landmarks && d < bd) bd = d, k = i;
        }
        assert_true(k >= 0);
        assert_true(fabsf(faces[k].lm.roll) > 25);
        mf_anon_result r[2];
        for (int v = 0; v < 2; v++) {
            mf_anon_opts ao = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = e.priv, .pool = e.pool,
                               .check_an = e.plain, .max_tries = 1, .tuning = {.upright_check = v ? -1 : 0}};
            mf_anon_t *a;
            assert_int_equal(mf_anon_create_from(e.fm, &ao, &a), MF_OK);
            mf_img res = copy_of(&orig);
            assert_int_equal(mf_anon_face(a, &res, &faces[k], MF_ANON_SYNTH, 7, NULL, &r[v]), MF_OK);
            printf("  upright check %s: roll %.1f -> %.1f, yaw %.1f -> %.1f, detected after %d, det score %.3f, "
                   "decision %d, age %.0f -> %.0f\n", v ? "off" : "on", faces[k].lm.roll, r[v].roll_after,
                   faces[k].lm.yaw, r[v].yaw_after, r[v].detected_after, r[v].det_score_after, r[v].decision,
                   faces[k].attr.age, r[v].age_after);
            mf_img_free(&res);
            mf_anon_free(a);
        }
        for (int v = 0; v < 2; v++) {
            assert_int_equal(r[v].detected_after, 1);
            assert_true(fabsf(remainderf(r[v].roll_after - faces[k].lm.roll, 360.0f)) < 8);
        }
        assert_true(fabsf(remainderf(r[0].roll_after - r[1].roll_after, 360.0f)) < 5);
        assert_true(fabsf(r[0].yaw_after - r[1].yaw_after) < 8);
        free(faces);
        mf_img_free(&orig);
    }
    attack_env_close(&e);
    if (!got) skip();
}

/* (cut14) The guarantee covers the attacker's square of a face cut less than CUT_FALLBACK_OUT: FFHQ 0004 cut by the
 * right border with 90 % of its face box visible, privacy analysis as `mfmc anonymize`; for each accepted draw
 * (seeds 1-4), the original and the result are cut into the attacker's square (twice the detector's box, padded
 * grey, upright), the plain analyser finds the face in each, and every ensemble recognizer embeds both squares at
 * those alignments: each similarity is at most the reported one and below the dissimilarity threshold. Main's
 * guarantee (our alignment and the jittered ones) reported less than the square scores. */
static void test_cut_face_guarantee_in_square(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/ffhq/ffhq_0004.jpg", tu_data_dir());
    if (!tu_exists(MODEL) || !tu_exists(path)) {
        printf("  skipped: identity model or FFHQ photo absent\n");
        skip();
    }
    mf_nn_pool_t *pool;
    mf_face_models_t *fm;
    mf_face_analyzer_t *priv, *plain;
    mf_anon_t *a;
    assert_int_equal(mf_nn_pool_create(2, &pool), MF_OK);
    assert_int_equal(mf_face_models_create(tu_models_dir(), &fm), MF_OK);
    mf_face_analyzer_opts po = {.pool = pool, .privacy = 1}, co = {.pool = pool};
    assert_int_equal(mf_face_analyzer_create_from(fm, &po, &priv), MF_OK);
    assert_int_equal(mf_face_analyzer_create_from(fm, &co, &plain), MF_OK);
    mf_anon_opts ao = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = priv, .pool = pool, .check_an = plain};
    assert_int_equal(mf_anon_create(&ao, &a), MF_OK);
    mf_img up, orig;
    assert_int_equal(mf_img_load(path, NULL, &up, NULL), MF_OK);
    const mf_face *f;
    int n;
    assert_int_equal(mf_face_analyze_all(plain, &up, &f, &n), MF_OK);
    assert_true(n >= 1);
    int x1 = (int)lroundf(f[0].det.x + 0.9f * f[0].det.w);
    assert_int_equal(mf_img_crop(&up, 0, 0, x1, up.h, &orig), MF_OK);
    assert_int_equal(mf_face_analyze_all(priv, &orig, &f, &n), MF_OK);
    assert_true(n >= 1);
    mf_face face = f[0];
    printf("  cut face: detection %.0f %.0f %.0fx%.0f, mesh box %.0f %.0f %.0fx%.0f in a %dx%d picture\n", face.det.x,
           face.det.y, face.det.w, face.det.h, face.lm.box.x, face.lm.box.y, face.lm.box.w, face.lm.box.h, orig.w, orig.h);
    int checked = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        mf_img res = copy_of(&orig);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(a, &res, &face, MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
        printf("  seed %d: decision %d tries %d note '%s'\n", (int)seed, r.decision, r.tries, r.note);
        if (r.decision == MF_ANON_ACCEPTED) {
            float box[4] = {face.det.x, face.det.y, face.det.w, face.det.h};
            mf_img so, sa;
            assert_int_equal(mf_anon_attack_square(&orig, box, face.lm.roll, 2.0f, 256, &so), MF_OK);
            assert_int_equal(mf_anon_attack_square(&res, box, face.lm.roll, 2.0f, 256, &sa), MF_OK);
            float p_o[5][2], p_a[5][2];
            int fo = square_face(plain, &so, p_o), fa = square_face(plain, &sa, p_a);
            for (int i = 0; i < r.n_rec; i++) {
                const mf_face_recognizer_info *inf = mf_anon_recognizer_info(a, i);
                if (!inf->ensemble) continue;
                mf_face_recognizer_t *rec;
                assert_int_equal(mf_face_recognizer_create_from(fm, inf->name, pool, &rec), MF_OK);
                float e0[1024], e1[1024], worst = -2;
                for (int q = 0; q < 2; q++) {
                    if (!(q ? fo : fa)) continue;
                    const float(*p)[2] = (const float(*)[2])(q ? p_o : p_a);
                    assert_int_equal(mf_face_recognizer_embed(rec, &so, p, e0), MF_OK);
                    assert_int_equal(mf_face_recognizer_embed(rec, &sa, p, e1), MF_OK);
                    worst = fmaxf(worst, mf_face_similarity(e0, e1, inf->dim));
                }
                printf("  seed %d %s: reported %.3f, attacker's square %.3f (face found before %d after %d)\n",
                       (int)seed, inf->name, r.sim[i], worst, fo, fa);
                assert_true(worst <= r.sim[i] + 1e-4f);
                assert_true(worst < inf->dissimilarity_threshold);
                checked += fo || fa;
                mf_face_recognizer_free(rec);
            }
            mf_img_free(&so), mf_img_free(&sa);
        }
        mf_img_free(&res);
    }
    printf("  %d check(s) in the attacker's square\n", checked);
    mf_img_free(&orig), mf_img_free(&up);
    mf_anon_free(a);
    mf_face_analyzer_free(priv), mf_face_analyzer_free(plain);
    mf_face_models_free(fm);
    mf_nn_pool_free(pool);
}

/* (speed22) The attacker's square (attack_check: a face cut by the border, an uncut turned face) embeds each square's
 * alignments as one batch on the pool's two threads (and the original's squares, once per face) and scores them in
 * the one-after-the-other order: an anonymizer with a 2-thread pool publishes exactly what one without a pool does
 * (pixels, decision, draws, similarities, note, the draw log), on FFHQ 0004 cut by the right border at 90 % of its box
 * (privacy analysis as `mfmc anonymize`, the plain check analyser; seeds 1-3: every accepted draw passed the square)
 * and on the privacy set's rot90/0024 (seed 1: its 9th draw is rejected in the attacker's square). Fails (checked) when the result's square at
 * the result's own points is embedded at the check's points (pn for pa), and when the original's squares are scored
 * against the result's square at the original's points one recognizer off. */
static void test_attack_check_two_threads_same_result(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/ffhq/ffhq_0004.jpg", tu_data_dir());
    if (!tu_exists(MODEL) || !tu_exists(path)) {
        printf("  skipped: identity model or FFHQ photo absent\n");
        skip();
    }
    attack_env e; /* e.a: the privacy analyser anonymizes, the plain one checks, a pool of two threads */
    attack_env_open(&e);
    mf_face_analyzer_t *priv = e.priv, *plain = e.plain;
    mf_anon_t *a = e.a, *one;
    mf_anon_opts ao = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = priv, .check_an = plain};
    assert_int_equal(mf_anon_create_from(e.fm, &ao, &one), MF_OK); /* no pool: every embedding one after the other */
    mf_img pic[2];
    mf_face face[2];
    int np = 0;
    { /* FFHQ 0004 cut by the right border */
        mf_img up;
        const mf_face *f;
        int n;
        assert_int_equal(mf_img_load(path, NULL, &up, NULL), MF_OK);
        assert_int_equal(mf_face_analyze_all(plain, &up, &f, &n), MF_OK);
        assert_true(n >= 1);
        int x1 = (int)lroundf(f[0].det.x + 0.9f * f[0].det.w);
        assert_int_equal(mf_img_crop(&up, 0, 0, x1, up.h, &pic[np]), MF_OK);
        assert_int_equal(mf_face_analyze_all(priv, &pic[np], &f, &n), MF_OK);
        assert_true(n >= 1);
        face[np++] = f[0];
        mf_img_free(&up);
    }
    float truth[4] = {0};
    if (ps_rotated_ffhq(tu_data_dir(), plain, 24, 90, &pic[np], truth) > 0) { /* rot90/0024 */
        const mf_face *f;
        int n, best = -1;
        float bd = 1e30f;
        assert_int_equal(mf_face_analyze_all(priv, &pic[np], &f, &n), MF_OK);
        for (int i = 0; i < n; i++) {
            float dx = f[i].det.x + f[i].det.w / 2 - truth[0], dy = f[i].det.y + f[i].det.h / 2 - truth[1];
            if (dx * dx + dy * dy < bd) bd = dx * dx + dy * dy, best = i;
        }
        if (best >= 0) face[np++] = f[best];
        else mf_img_free(&pic[np]);
    }
    int compared = 0;
    for (int p = 0; p < np; p++)
        for (uint64_t seed = 1; seed <= (p ? 1u : 3u); seed++) { /* rot90/0024 seed 1: rejected in the square */
            mf_img x = copy_of(&pic[p]), y = copy_of(&pic[p]);
            mf_anon_result ra, rb;
            assert_int_equal(mf_anon_face(a, &x, &face[p], MF_ANON_SYNTH, seed, NULL, &ra), MF_OK);
            assert_int_equal(mf_anon_face(one, &y, &face[p], MF_ANON_SYNTH, seed, NULL, &rb), MF_OK);
            printf("  picture %d seed %d: decision %d/%d tries %d/%d draws %s/%s sim", p, (int)seed, ra.decision,
                   rb.decision, ra.tries, rb.tries, ra.draws, rb.draws);
            for (int i = 0; i < ra.n_rec; i++) printf(" %.4f/%.4f", ra.sim[i], rb.sim[i]);
            printf(" '%s'\n", ra.note);
            assert_memory_equal(x.data, y.data, (size_t)x.w * x.h * 3);
            assert_int_equal(ra.decision, rb.decision);
            assert_int_equal(ra.tries, rb.tries);
            assert_string_equal(ra.draws, rb.draws);
            for (int i = 0; i < ra.n_rec; i++) assert_true(ra.sim[i] == rb.sim[i]);
            for (int k = 0; k < ra.tries && k < MF_ANON_DRAW_LOG; k++) assert_true(ra.draw_val[k] == rb.draw_val[k]);
            assert_true(ra.age_after == rb.age_after);
            assert_string_equal(ra.note, rb.note);
            compared++;
            mf_img_free(&x), mf_img_free(&y);
        }
    printf("  %d replacements compared on %d pictures\n", compared, np);
    assert_true(np == 2);
    for (int p = 0; p < np; p++) mf_img_free(&pic[p]);
    mf_anon_free(one);
    attack_env_close(&e);
}

/* (reid18) The photo's shading moves with the face (mf_anon_shade_follow): a low-pass field, flat 100 with a dark
 * blob (50) under a feature at x = 24, is lit through a 5 x 5 grid mesh (x 0..40) that the new geometry moves by 20 px
 * to the right (every vertex; the depth of the right column nearer). With the whole displacement the blob lies under
 * the moved feature (x = 44), no longer at the original's place; with half of it, half way (x = 34); pixels outside the
 * moved mesh keep their value; amount 0 (read at the photo's own positions, main's before reid18) leaves the blob
 * where it was, which fails the first assertions. */
static void test_shade_follows_geometry(void **state) {
    (void)state;
    enum { W = 64, H = 48, G = 5 };
    float Pold[G * G * 3], Pnew[G * G * 3];
    int tri[(G - 1) * (G - 1) * 6], nt = 0;
    for (int gy = 0; gy < G; gy++)
        for (int gx = 0; gx < G; gx++) {
            float *p = Pold + 3 * (gy * G + gx), *q = Pnew + 3 * (gy * G + gx);
            p[0] = gx * 10.0f, p[1] = 4 + gy * 10.0f, p[2] = 0;
            q[0] = p[0] + 20, q[1] = p[1], q[2] = (float)-gx;
        }
    for (int gy = 0; gy + 1 < G; gy++)
        for (int gx = 0; gx + 1 < G; gx++) {
            int v = gy * G + gx;
            int t6[6] = {v, v + 1, v + G, v + 1, v + G + 1, v + G};
            memcpy(tri + 6 * nt++, t6, sizeof t6);
        }
    float amounts[3] = {1, 0.5f, 0};
    for (int a = 0; a < 3; a++) {
        mf_fimg lo, depth;
        assert_int_equal(mf_fimg_init(&lo, W, H, 3), 0);
        assert_int_equal(mf_fimg_init(&depth, W, H, 1), 0);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float d2 = (float)((x + 0.5 - 24) * (x + 0.5 - 24) + (y + 0.5 - 24) * (y + 0.5 - 24));
                for (int k = 0; k < 3; k++) lo.data[3 * (y * W + x) + k] = 100 - 50 * expf(-d2 / (2 * 3.0f * 3.0f));
            }
        assert_int_equal(mf_anon_shade_follow(Pold, Pnew, G * G, tri, 2 * nt, amounts[a], &depth, &lo), 0);
        float at_old = lo.data[3 * (24 * W + 24)], at_half = lo.data[3 * (24 * W + 34)], at_new = lo.data[3 * (24 * W + 44)];
        print_message("      amount %.1f: old %.1f half %.1f new %.1f\n", amounts[a], at_old, at_half, at_new);
        if (a == 0) {
            assert_true(at_new < 55);  /* the shadow lies under the moved feature */
            assert_true(at_old > 95);  /* and has left the original's place */
            assert_true(lo.data[3 * (24 * W + 62)] > 99); /* beyond the moved mesh (x > 60): as it was */
        } else if (a == 1) {
            assert_true(at_half < 55);
            assert_true(at_old > 90 && at_new > 90);
        } else {
            assert_true(at_old < 55 && at_new > 95); /* amount 0: the photo's own positions */
        }
        mf_fimg_free(&lo), mf_fimg_free(&depth);
    }
    mf_fimg dummy = {0};
    assert_int_equal(mf_anon_shade_follow(Pold, Pnew, G * G, tri, 2 * nt, 1, &dummy, &dummy), MF_ERR_ARG);
}

/* (sh31) The photo's light as a light model over the mesh normals (mf_anon_sh_light): a sphere cap (a 9 x 9 grid mesh,
 * radius 30 px) lit from the left (the photo: 40 + 120 max(0, n.L) x a skin colour 1 / 0.8 / 0.6) with a dark blotch
 * (x 0.5, radius 4 px) painted on its right cheek at (44, 38). The fit recovers the light's side (nx term negative,
 * the lit left half of the drawn face brighter) and the photo's colour; on the drawn mesh (the cap moved 3 px right
 * and made flatter) the model no longer has the blotch: its value there is within 10 % of the mirror point (44, 26)
 * (the same normal), where the photo's own low-pass (main's light step, which multiplies the render by it) is 40 %
 * darker. Too little skin: no fit (main's path), status 0. */
static void test_sh_light_model(void **state) {
    (void)state;
    enum { W = 64, H = 64, G = 9 };
    const float R = 30, cx = 32, cy = 32, alb[3] = {1, 0.8f, 0.6f};
    float Pold[G * G * 3], Pnew[G * G * 3];
    int tri[(G - 1) * (G - 1) * 6], nt = 0;
    for (int gy = 0; gy < G; gy++)
        for (int gx = 0; gx < G; gx++) {
            float x = 8 + gx * 6.0f, y = 8 + gy * 6.0f, d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
            float *p = Pold + 3 * (gy * G + gx), *q = Pnew + 3 * (gy * G + gx);
            p[0] = x, p[1] = y, p[2] = -sqrtf(fmaxf(0, R * R - d2));
            q[0] = x + 3, q[1] = y, q[2] = 0.7f * p[2];
        }
    for (int gy = 0; gy + 1 < G; gy++)
        for (int gx = 0; gx + 1 < G; gx++) {
            int v = gy * G + gx;
            int t6[6] = {v, v + 1, v + G, v + 1, v + G + 1, v + G};
            memcpy(tri + 6 * nt++, t6, sizeof t6);
        }
    mf_fimg photo, wo, wr, out, lo;
    assert_int_equal(mf_fimg_init(&photo, W, H, 3), 0);
    assert_int_equal(mf_fimg_init(&wo, W, H, 1), 0);
    assert_int_equal(mf_fimg_init(&wr, W, H, 1), 0);
    const float L[3] = {-0.7071f, 0, -0.7071f};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float dx = x + 0.5f - cx, dy = y + 0.5f - cy, d2 = dx * dx + dy * dy;
            float n[3] = {dx / R, dy / R, -sqrtf(fmaxf(0, R * R - d2)) / R};
            float shade = 40 + 120 * fmaxf(0, n[0] * L[0] + n[1] * L[1] + n[2] * L[2]);
            float bx = x + 0.5f - 44, by = y + 0.5f - 38;
            float blotch = 1 - 0.5f * expf(-(bx * bx + by * by) / (2 * 4.0f * 4.0f));
            for (int k = 0; k < 3; k++) photo.data[3 * (y * W + x) + k] = shade * alb[k] * blotch;
            int in = x >= 8 && x < 56 && y >= 8 && y < 56;
            wo.data[y * W + x] = (float)in;
            wr.data[y * W + x] = (float)(x >= 11 && x < 59 && y >= 8 && y < 56);
        }
    float coef[3][4];
    int fitted = -1;
    assert_int_equal(mf_anon_sh_light(&photo, &wo, &wr, Pold, Pnew, G * G, tri, 2 * nt, 2, NULL, &out, coef, &fitted), 0);
    assert_int_equal(fitted, 1);
    assert_non_null(out.data);
    /* main's light step: the photo's own low-pass, normalised over its skin */
    assert_int_equal(mf_render_lowpass(&photo, &wo, 2, &lo), 0);
#define AT(f, x, y) ((f).data[3 * ((y) * W + (x))])
    float left = AT(out, 23, 32), right = AT(out, 45, 32);
    float m_blot = AT(out, 47, 38), m_mirror = AT(out, 47, 26), o_blot = AT(lo, 44, 38), o_mirror = AT(lo, 44, 26);
    print_message("      coef R %.1f %.1f %.1f %.1f; model left %.1f right %.1f blotch %.1f mirror %.1f; photo low-pass "
                  "blotch %.1f mirror %.1f\n", coef[0][0], coef[0][1], coef[0][2], coef[0][3], left, right, m_blot,
                  m_mirror, o_blot, o_mirror);
    assert_true(coef[0][1] < -10);                    /* brighter where the normal points left: the light's side */
    assert_true(left > 1.3f * right);                 /* the drawn face's lit half */
    assert_true(fabsf(coef[1][0] / coef[0][0] - 0.8f) < 0.05f && fabsf(coef[2][0] / coef[0][0] - 0.6f) < 0.05f);
    assert_true(fabsf(m_blot - m_mirror) < 0.1f * m_mirror); /* the blotch is gone from the light */
    assert_true(o_blot < 0.7f * o_mirror);            /* main's numerator copies it */
    for (int k = 0; k < 3; k++) assert_true(out.data[3 * (32 * W + 35) + k] > 0);
#undef AT
    mf_fimg_free(&out), mf_fimg_free(&lo);
    /* too little skin: no fit, the caller keeps the photo's low-pass */
    mf_fimg_fill(&wo, 0);
    for (int i = 0; i < 150; i++) wo.data[(20 + i / 10) * W + 20 + i % 10] = 1;
    assert_int_equal(mf_anon_sh_light(&photo, &wo, &wr, Pold, Pnew, G * G, tri, 2 * nt, 2, NULL, &out, NULL, &fitted), 0);
    assert_int_equal(fitted, 0);
    assert_null(out.data);
    int bad[3] = {0, 1, G * G};
    assert_int_equal(mf_anon_sh_light(&photo, &wo, &wr, Pold, Pnew, G * G, bad, 1, 2, NULL, &out, NULL, &fitted), MF_ERR_ARG);
    mf_fimg_free(&photo), mf_fimg_free(&wo), mf_fimg_free(&wr);
}

/* (sh50) The light model's colour made the photo's (mf_anon_sh_chroma): a light whose colour is one mean skin colour
 * everywhere (a first-order light's) and whose luminance rises from left to right, over a photo low-pass with a warm
 * left half (1 / 0.7 / 0.45) and a neutral right half (1 / 0.9 / 0.8): every pixel keeps the light's luminance and
 * takes the low-pass's colour (its channel ratios) there; where the low-pass is empty (no skin nearby) the light is
 * left as it was. */
static void test_sh_chroma(void **state) {
    (void)state;
    enum { W = 16, H = 4 };
    mf_fimg light, lo;
    assert_int_equal(mf_fimg_init(&light, W, H, 3), 0);
    assert_int_equal(mf_fimg_init(&lo, W, H, 3), 0);
    const float mean[3] = {1, 0.8f, 0.6f}, warm[3] = {1, 0.7f, 0.45f}, cool[3] = {1, 0.9f, 0.8f};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float *q = light.data + 3 * (y * W + x), *o = lo.data + 3 * (y * W + x);
            for (int k = 0; k < 3; k++) {
                q[k] = (60 + 8 * x) * mean[k];
                o[k] = y == H - 1 ? 0 : 150 * (x < W / 2 ? warm[k] : cool[k]);
            }
        }
    mf_fimg before;
    assert_int_equal(mf_fimg_copy(&light, &before), 0);
    mf_anon_sh_chroma(&light, &lo);
    double worst_y = 0, worst_c = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const float *q = light.data + 3 * (y * W + x), *b = before.data + 3 * (y * W + x), *o = lo.data + 3 * (y * W + x);
            if (y == H - 1) { /* the empty low-pass: unchanged */
                for (int k = 0; k < 3; k++) assert_float_equal(q[k], b[k], 0);
                continue;
            }
            double yq = 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2], yb = 0.299 * b[0] + 0.587 * b[1] + 0.114 * b[2];
            worst_y = fmax(worst_y, fabs(yq - yb) / yb);
            for (int k = 1; k < 3; k++) worst_c = fmax(worst_c, fabs(q[k] / q[0] - o[k] / o[0]));
        }
    print_message("      luminance kept within %.2g (relative), the low-pass's channel ratios within %.2g\n", worst_y, worst_c);
    assert_true(worst_y < 1e-5 && worst_c < 1e-5);
    /* the warm half is warmer than the light's mean colour was, the neutral half greyer */
    const float *wq = light.data + 3 * (1 * W + 2), *cq = light.data + 3 * (1 * W + W - 3);
    assert_true(wq[2] / wq[0] < 0.5f && cq[2] / cq[0] > 0.75f);
    mf_fimg_free(&light), mf_fimg_free(&lo), mf_fimg_free(&before);
}

/* (sh50) On a photo: ffhq_0016 (a darker, saturated skin; index 8 of the 300-face run, its seed 1 + 8 x 7919), the
 * published face's skin at the probes (tu_skin_tone) came out greyer than the photo's with the light model's own
 * colour (saturation change -4.0 levels here, -4.7 in eval_anon's run); with sh_chroma it keeps more of its colour
 * (-1.4 here, -1.7 there), the same draw: the saturation change is at least 1.5 levels nearer 0 and the luminance
 * change within 1 level of the old one. Fails with sh_chroma off (both runs the same). */
static void test_sh_chroma_face(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    /* cc53 off in both: its clamp to the photo's skin colour mends part of the same greying (-4.0 -> -2.7 with sh50
     * off), and this test measures sh50 alone */
    mf_anon_t *an[2] = {attack_env_anon(&e, (mf_anon_tuning){.sh_chroma = -1, .chroma_clamp = -1}),
                        attack_env_anon(&e, (mf_anon_tuning){.sh_chroma = 1, .chroma_clamp = -1})};
    mf_img img = {0}; /* untouched when the photo cannot be loaded: photo_test_close frees it */
    int n;
    mf_face *faces = data_photo_faces(e.priv, "ffhq/ffhq_0016.jpg", &img, &n);
    int k = central_face(faces, n, &img);
    if (k < 0 || !faces[k].has_landmarks) {
        printf("  ffhq_0016: no face found\n");
        photo_test_close(&e, an, 2, faces, &img);
        skip();
    }
    float dy[2], dc[2], ratio[2], ds[2];
    for (int v = 0; v < 2; v++) {
        mf_img res = copy_of(&img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(an[v], &res, &faces[k], MF_ANON_SYNTH, 1 + 8 * 7919, NULL, &r), MF_OK);
        assert_int_equal(r.decision, MF_ANON_ACCEPTED);
        assert_true(tu_skin_tone(&img, &res, &faces[k], &dy[v], &dc[v], &ratio[v], &ds[v], NULL) > 0);
        printf("  ffhq_0016 sh_chroma %2d: draws %s, skin dY %.1f dC %.1f saturation change %.1f\n", v ? 1 : -1, r.draws,
               dy[v], dc[v], ds[v]);
        mf_img_free(&res);
    }
    assert_true(ds[0] < -3); /* the greyer skin this test was built on */
    assert_true(ds[1] > ds[0] + 1.5f && fabsf(ds[1]) < fabsf(ds[0]));
    assert_true(fabsf(dy[1] - dy[0]) < 1);
    photo_test_close(&e, an, 2, faces, &img);
}

/* The mesh oval of face f as a closed loop for mf_anon_in_loop: oval (2 x 36 image coordinates) in order ord. */
static void face_oval(const mf_face *f, float oval[2 * 36], int ord[36]) {
    for (int q = 0; q < 36; q++)
        ord[q] = q, oval[2 * q] = f->lm.pt[mf_anon_loop_oval[q]][0], oval[2 * q + 1] = f->lm.pt[mf_anon_loop_oval[q]][1];
}

/* The central face of the data photo `rel` (data_photo_faces, central_face) with its mesh; without one the test is
 * closed (photo_test_close of the n_an anonymizers) and skipped. */
static int photo_face_or_skip(attack_env *e, mf_anon_t **an, int n_an, const char *rel, mf_img *img, mf_face **faces) {
    int n;
    *faces = data_photo_faces(e->priv, rel, img, &n);
    int k = central_face(*faces, n, img);
    if (k < 0 || !(*faces)[k].has_landmarks) {
        printf("  %s: no face found\n", rel);
        photo_test_close(e, an, n_an, *faces, img);
        skip();
    }
    return k;
}

/* (cc53) On a photo: ffhq_0556 (a pale skin; index 278 of the 300-face run, its seed 1 + 278 x 7919). Its draw came
 * out with orange-brown lids and patches around the eyes (the drawn texture's warm shading and mottling, kept by the
 * per-channel light). Measured against the original face's mean colour over the pixels the draw changed inside the
 * face's outline, those of them whose chromaticity lies more than 0.2 from it are counted: with the clamp on (the
 * default) at most half as many as with it off (6,254 -> 1,717 when written). Fails with the clamp off in both runs. */
static void test_chroma_clamp_face(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *an[2] = {attack_env_anon(&e, (mf_anon_tuning){.chroma_clamp = -1}), attack_env_anon(&e, (mf_anon_tuning){0})};
    mf_img img = {0};
    mf_face *faces;
    int k = photo_face_or_skip(&e, an, 2, "ffhq/ffhq_0556.jpg", &img, &faces);
    long off[2] = {0, 0}, changed[2] = {0, 0};
    for (int v = 0; v < 2; v++) {
        mf_img res = copy_of(&img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(an[v], &res, &faces[k], MF_ANON_SYNTH, 1 + 278 * 7919, NULL, &r), MF_OK);
        assert_int_equal(r.decision, MF_ANON_ACCEPTED);
        /* inside the face's outline (the mesh oval): the background's warp changes hair and sky too */
        float oval[2 * 36];
        int ord[36];
        face_oval(&faces[k], oval, ord);
        size_t px = (size_t)img.w * img.h;
        uint8_t *in = calloc(px, 1);
        assert_non_null(in);
        double sum[3] = {0, 0, 0};
        for (size_t i = 0; i < px; i++) {
            const uint8_t *o = img.data + 3 * i, *q = res.data + 3 * i;
            if (abs(o[0] - q[0]) + abs(o[1] - q[1]) + abs(o[2] - q[2]) < 6 ||
                !mf_anon_in_loop(oval, ord, 36, (float)(i % img.w) + 0.5f, (float)(i / img.w) + 0.5f))
                continue;
            in[i] = 1;
            for (int c = 0; c < 3; c++) sum[c] += o[c];
            changed[v]++;
        }
        assert_true(changed[v] > 1000);
        float ref[3] = {(float)(sum[0] / changed[v]), (float)(sum[1] / changed[v]), (float)(sum[2] / changed[v])};
        for (size_t i = 0; i < px; i++) {
            if (!in[i]) continue;
            float p[3] = {res.data[3 * i], res.data[3 * i + 1], res.data[3 * i + 2]};
            off[v] += mf_anon_chroma_clamp(ref, p, 1e9f) > 0.2f;
        }
        free(in);
        printf("  ffhq_0556 chroma_clamp %s: draws %s, %ld of %ld changed pixels over 0.2 off the face's colour\n",
               v ? "on " : "off", r.draws, off[v], changed[v]);
        mf_img_free(&res);
    }
    assert_true(off[0] > 3000); /* the orange this test was built on */
    assert_true(2 * off[1] <= off[0]);
    photo_test_close(&e, an, 2, faces, &img);
}

/* Mean absolute 4-neighbour Laplacian of the luminance of `im` over the pixels inside the mesh oval of `f` whose row is
 * below `below` (lower face) or above `above` (upper face); *n gets their count. */
static double oval_laplacian(const mf_img *im, const mf_face *f, float below, float above, long *n) {
    float oval[2 * 36];
    int ord[36];
    face_oval(f, oval, ord);
    double sum = 0;
    *n = 0;
    for (int y = 1; y < im->h - 1; y++)
        for (int x = 1; x < im->w - 1; x++) {
            if (!((below >= 0 && y > below) || (above >= 0 && y < above)) ||
                !mf_anon_in_loop(oval, ord, 36, x + 0.5f, y + 0.5f))
                continue;
            double l[5];
            const int dx[5] = {0, -1, 1, 0, 0}, dy[5] = {0, 0, 0, -1, 1};
            for (int q = 0; q < 5; q++) {
                const uint8_t *p = im->data + 3 * ((size_t)(y + dy[q]) * im->w + x + dx[q]);
                l[q] = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            }
            sum += fabs(4 * l[0] - l[1] - l[2] - l[3] - l[4]);
            (*n)++;
        }
    return *n ? sum / *n : 0;
}

/* (beard56) The detail layer below the nose scaled for a woman's draw (tuning.detail_beard): ffhq_0556 (a pale woman
 * whose draw got a stubble-like shadow on the jaw from the detail maps) at her FFHQ run's seed, the option off and
 * at the default (0.2 since stop 57): both accepted at the same first draw; the fine grain (mean |Laplacian| of the
 * luminance) inside the face's outline below the nose falls by at least 8 %, above the eyes it stays within 5 %. */
static void test_detail_beard_face(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *an[2] = {attack_env_anon(&e, (mf_anon_tuning){.detail_beard = -1}), attack_env_anon(&e, (mf_anon_tuning){0})};
    mf_img img = {0};
    mf_face *faces;
    int k = photo_face_or_skip(&e, an, 2, "ffhq/ffhq_0556.jpg", &img, &faces);
    const mf_face *f = &faces[k];
    float nose = f->lm.pt[2][1] + 0.02f * f->det.h, eyes = fminf(f->lm.pt[159][1], f->lm.pt[386][1]);
    double lo[2], up[2];
    for (int v = 0; v < 2; v++) {
        mf_img res = copy_of(&img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(an[v], &res, f, MF_ANON_SYNTH, 1 + 278 * 7919, NULL, &r), MF_OK);
        assert_int_equal(r.decision, MF_ANON_ACCEPTED);
        assert_string_equal(r.draws, "o");
        long nl, nu;
        lo[v] = oval_laplacian(&res, f, nose, -1, &nl), up[v] = oval_laplacian(&res, f, -1, eyes, &nu);
        assert_true(nl > 2000 && nu > 2000);
        printf("  ffhq_0556 detail_beard %s: mean |Laplacian| below the nose %.3f (%ld px), above the eyes %.3f (%ld px)\n",
               v ? "default" : "off", lo[v], nl, up[v], nu);
        mf_img_free(&res);
    }
    assert_true(lo[1] <= 0.92 * lo[0]);
    assert_true(fabs(up[1] / up[0] - 1) <= 0.05);
    photo_test_close(&e, an, 2, faces, &img);
}

/* The mean luminance of im's pixels inside the polygon of f's mesh points loop[0..n) (above >= 0: only the rows above
 * it); *cnt gets their number. */
static double loop_luma(const mf_img *im, const mf_face *f, const int *loop, int n, float above, long *cnt) {
    float pts[2 * 64];
    int ord[64];
    assert_true(n <= 64);
    for (int q = 0; q < n; q++) ord[q] = q, pts[2 * q] = f->lm.pt[loop[q]][0], pts[2 * q + 1] = f->lm.pt[loop[q]][1];
    double sum = 0;
    *cnt = 0;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            if ((above >= 0 && y >= above) || !mf_anon_in_loop(pts, ord, n, x + 0.5f, y + 0.5f)) continue;
            const uint8_t *px = im->data + 3 * ((size_t)y * im->w + x);
            sum += 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2], (*cnt)++;
        }
    return *cnt ? sum / *cnt : 0;
}

/* (lip57) The lower nose and the skin under it (tuning.philtrum_floor): ffhq_0246 (a pale, flash-lit face) at seed 1
 * (the photo alone, as `eval_anon --seed 1` runs it) gets a draw whose nose's underside and upper lip are nearly
 * black, a moustache. Off and at 0.7, both accepted at the same fourth draw: inside the loop (mf_anon_philtrum_loop
 * at the original's mesh) the mean luminance rises by at least 12 levels (104.0 -> 154.2 when written); inside the
 * face's outline above the eyes it moves less than 1.5 (198.9 in both). An inert option fails it. */
static void test_philtrum_floor_face(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *an[2] = {attack_env_anon(&e, (mf_anon_tuning){0}), attack_env_anon(&e, (mf_anon_tuning){.philtrum_floor = 0.7f})};
    mf_img img = {0};
    mf_face *faces;
    int k = photo_face_or_skip(&e, an, 2, "ffhq/ffhq_0246.jpg", &img, &faces);
    const mf_face *f = &faces[k];
    float eyes = fminf(f->lm.pt[159][1], f->lm.pt[386][1]);
    double lip[2], up[2];
    for (int v = 0; v < 2; v++) {
        mf_img res = copy_of(&img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(an[v], &res, f, MF_ANON_SYNTH, 1, NULL, &r), MF_OK);
        assert_int_equal(r.decision, MF_ANON_ACCEPTED);
        assert_string_equal(r.draws, "Yaao");
        long nl, nu;
        lip[v] = loop_luma(&res, f, mf_anon_philtrum_loop, MF_ANON_N_PHILTRUM, -1, &nl);
        up[v] = loop_luma(&res, f, mf_anon_loop_oval, 36, eyes, &nu);
        assert_true(nl > 2000 && nu > 2000);
        printf("  ffhq_0246 philtrum_floor %s: mean luminance under the nose %.1f (%ld px), above the eyes %.1f (%ld px)\n",
               v ? "0.7" : "off", lip[v], nl, up[v], nu);
        mf_img_free(&res);
    }
    assert_true(lip[1] >= lip[0] + 12);
    assert_true(fabs(up[1] - up[0]) < 1.5);
    photo_test_close(&e, an, 2, faces, &img);
}

/* (seam54) The drawn texture's step between the upper forehead and the brows' ring (tuning.forehead_seam): on 40
 * strong draws of the committed model (a target alternating +-1.2 deviations about its bucket, as test_forehead_band),
 * the step mf_anon_forehead_seam measures before and after its change; the texels below the eye row are not touched,
 * and an anonymizer made with the seam off measures nothing and changes nothing. */
static void test_forehead_seam(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *off = attack_env_anon(&e, (mf_anon_tuning){.forehead_seam = -1});
    mf_anon_model_t *m = model_need();
    int k = m->ks + m->kt, T = m->T;
    size_t n3 = (size_t)T * T * 3;
    float *zt = malloc(sizeof(float) * k), *zc = malloc(sizeof(float) * k), *z = malloc(sizeof(float) * k);
    float *tex = malloc(sizeof(float) * n3), *tex0 = malloc(sizeof(float) * n3);
    assert_true(zt && zc && z && tex && tex0);
    float eye_v = 0;
    for (int i = 0; i < 16; i++) eye_v += (m->uv[2 * mf_anon_loop_reye[i] + 1] + m->uv[2 * mf_anon_loop_leye[i] + 1]) / 32;
    float age = 35, logit = -2.5f, worst[2] = {0, 0}, mean[2] = {0, 0};
    alternating_target(m, age, zt);
    for (int d = 0; d < 40; d++) {
        mf_anon_rung rung = {.strong = 1, .ncand = 4, .spread = 1, .away = 0.6f, .gain = 1, .shade = 0.1f, .fine = 1};
        uint64_t rng = 1000 + (uint64_t)d;
        mf_anon_draw_identity(m, &rng, age, logit, &rung, zt, 0, NULL, zc, z);
        for (size_t o = 0; o < n3; o++) {
            double t = m->tex_mean[o];
            for (int c = 0; c < m->kt; c++) t += (double)z[m->ks + c] * m->tex_basis[(size_t)c * n3 + o];
            tex[o] = tex0[o] = (float)t;
        }
        float st[2];
        assert_int_equal(mf_anon_forehead_seam(e.a, tex, 1, &st[0], NULL), MF_OK);
        assert_int_equal(mf_anon_forehead_seam(e.a, tex, 0, &st[1], NULL), MF_OK); /* measures only */
        for (int v = 0; v < 2; v++) worst[v] = fmaxf(worst[v], st[v]), mean[v] += st[v] / 40;
        for (size_t o = 0; o < n3; o++)
            if ((float)(o / 3 / (size_t)T) + 0.5f >= eye_v) assert_true(tex[o] == tex0[o]);
        float none;
        memcpy(tex, tex0, sizeof(float) * n3);
        assert_int_equal(mf_anon_forehead_seam(off, tex, 1, &none, NULL), MF_OK);
        assert_true(none == -1 && memcmp(tex, tex0, sizeof(float) * n3) == 0);
    }
    print_message("      forehead step of 40 strong draws: mean %.2f, largest %.2f levels before; mean %.2f, largest %.2f "
                  "after\n", mean[0], worst[0], mean[1], worst[1]);
    assert_true(worst[0] > 8);
    assert_true(mean[1] < 0.35f * mean[0] && worst[1] < 0.35f * worst[0]);
    free(zt), free(zc), free(z), free(tex), free(tex0);
    mf_anon_model_free(m);
    mf_anon_free(off);
    attack_env_close(&e);
}

/* (lens53) On a photo: ffhq_0518 (a man with large aviator sunglasses; index 259 of the 300-face run, its seed
 * 1 + 259 x 7919). The lenses are the original's dark pixels (luminance under 50) within 0.6 eye distances of
 * either eye's centre; those the published face made lighter by more than 40 levels are counted (the new face's
 * brows and forehead painted over the lenses' top). With the lenses grown from the eye zone (the default), at most
 * half as many as without (5,978 -> 2,791 when written: the rest is where the background warp moved the whole lenses
 * with the outline). Fails with lens_fill off in both runs. */
static void test_lens_fill_face(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *an[2] = {attack_env_anon(&e, (mf_anon_tuning){.lens_fill = -1}), attack_env_anon(&e, (mf_anon_tuning){0})};
    mf_img img = {0};
    int n;
    mf_face *faces = data_photo_faces(e.priv, "ffhq/ffhq_0518.jpg", &img, &n);
    int k = central_face(faces, n, &img);
    if (k < 0 || !faces[k].has_landmarks) {
        printf("  ffhq_0518: no face found\n");
        photo_test_close(&e, an, 2, faces, &img);
        skip();
    }
    float c[2][2] = {{0, 0}, {0, 0}};
    for (int q = 0; q < 16; q++)
        for (int d = 0; d < 2; d++)
            c[0][d] += faces[k].lm.pt[mf_anon_loop_reye[q]][d] / 16, c[1][d] += faces[k].lm.pt[mf_anon_loop_leye[q]][d] / 16;
    float r = 0.6f * hypotf(c[1][0] - c[0][0], c[1][1] - c[0][1]);
    long lens = 0, lit[2] = {0, 0}, dark[2] = {0, 0};
    for (int v = 0; v < 2; v++) {
        mf_img res = copy_of(&img);
        mf_anon_result rr;
        assert_int_equal(mf_anon_face(an[v], &res, &faces[k], MF_ANON_SYNTH, 1 + 259 * 7919, NULL, &rr), MF_OK);
        assert_int_equal(rr.decision, MF_ANON_ACCEPTED);
        lens = 0;
        for (int y = 0; y < img.h; y++)
            for (int x = 0; x < img.w; x++) {
                if (hypotf(x - c[0][0], y - c[0][1]) > r && hypotf(x - c[1][0], y - c[1][1]) > r) continue;
                const uint8_t *o = img.data + 3 * ((size_t)y * img.w + x), *p = res.data + 3 * ((size_t)y * img.w + x);
                double yo = cc_y((float[]){o[0], o[1], o[2]}), yp = cc_y((float[]){p[0], p[1], p[2]});
                dark[v] += yp < 50;
                if (yo >= 50) continue;
                lens++;
                lit[v] += yp > yo + 40;
            }
        printf("  ffhq_0518 lens_fill %s: draws %s, %ld of the lenses' %ld px lighter by over 40 levels; dark px %ld\n",
               v ? "on " : "off", rr.draws, lit[v], lens, dark[v]);
        mf_img_free(&res);
    }
    assert_true(lens > 2000);
    assert_true(lit[0] > 1000); /* the painted lens tops this test was built on */
    assert_true(2 * lit[1] <= lit[0]);
    photo_test_close(&e, an, 2, faces, &img);
}

/* (spots32) The skin map's small isolated dark spots inside the face (a make-up dot or mole on the cheek) count as
 * skin and are replaced; integ kept them as occluders (skin 0, the dot stays in front of the new face: max_size 0
 * below is integ's behaviour and the first check fails on it). A dark band across the face touching the outline
 * (a hair strand, a glasses frame), a dot at an eye and one beside a nostril stay occluders. */
static void test_skin_spots(void **state) {
    (void)state;
    enum { W = 200, H = 200 };
    static float P[MF_FACE_MESH_POINTS * 3];
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) P[3 * i] = -1000, P[3 * i + 1] = -1000, P[3 * i + 2] = 0;
    static const int probes[] = {50, 280, 205, 425, 36, 266, 151, 108, 337, 6, 197, 195, 9, 117, 346};
    for (int i = 0; i < 15; i++) P[3 * probes[i]] = 100, P[3 * probes[i] + 1] = 100;
    static const int oval[] = {10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
                               152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109};
    for (int i = 0; i < 36; i++) {
        float a = 6.2831853f * (float)i / 36;
        P[3 * oval[i]] = 100 + 80 * sinf(a), P[3 * oval[i] + 1] = 100 - 80 * cosf(a);
    }
    for (int i = 0; i < 16; i++) {
        P[3 * mf_anon_loop_reye[i]] = 78, P[3 * mf_anon_loop_reye[i] + 1] = 78;
        P[3 * mf_anon_loop_leye[i]] = 122, P[3 * mf_anon_loop_leye[i] + 1] = 78;
    }
    P[3 * 98] = 110, P[3 * 98 + 1] = 118; /* a nostril's wing */
    mf_fimg skin = {0};
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(mf_fimg_init(&skin, W, H, 1), 0);
        mf_fimg_fill(&skin, 1);
        for (int y = 104; y < 108; y++)
            for (int x = 86; x < 90; x++) skin.data[y * W + x] = 0; /* a dot on the cheek, 4 px of fs 160 */
        for (int y = 90; y < 93; y++)
            for (int x = 15; x < 186; x++) skin.data[y * W + x] = 0; /* a band across, touching the outline */
        for (int y = 80; y < 83; y++)
            for (int x = 80; x < 83; x++) skin.data[y * W + x] = 0; /* at the right eye */
        for (int y = 116; y < 119; y++)
            for (int x = 111; x < 114; x++) skin.data[y * W + x] = 0; /* beside the nostril */
        int n = -1;
        assert_int_equal(mf_anon_skin_spots(&skin, P, MF_FACE_MESH_POINTS, 160, pass ? 0.05f : 0, &n), 0);
        assert_int_equal(n, pass ? 1 : 0);
        assert_float_equal(skin.data[105 * W + 87], pass ? 1 : 0, 0); /* integ (pass 0): the dot stays in front */
        assert_float_equal(skin.data[91 * W + 100], 0, 0);
        assert_float_equal(skin.data[81 * W + 81], 0, 0);
        assert_float_equal(skin.data[117 * W + 112], 0, 0);
        mf_fimg_free(&skin);
    }
    assert_int_not_equal(mf_anon_skin_spots(NULL, P, MF_FACE_MESH_POINTS, 160, 0.05f, NULL), 0);
}

/* (eyes18) The photo's eye openings softened: inside the opening the iris texture and colour go, the dark iris
 * stays where it was (gaze), nothing from outside the opening (the lid line) bleeds in, outside nothing changes. */
static void test_eye_opening_softened(void **state) {
    (void)state;
    enum { W = 80, H = 40 };
    /* one opening: a quad (two triangles) x 10..70, y 10..30 */
    float P[4 * 3] = {10, 10, 0, 70, 10, 0, 70, 30, 0, 10, 30, 0};
    int tri[6] = {0, 1, 2, 0, 2, 3};
    mf_fimg ph, out;
    assert_int_equal(mf_fimg_init(&ph, W, H, 3), 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float *p = ph.data + 3 * (y * W + x);
            int in = x >= 10 && x < 70 && y >= 10 && y < 30;
            float dx = x + 0.5f - 25, dy = y + 0.5f - 20;
            if (!in) /* skin with a black lid line just outside the opening */
                p[0] = p[1] = p[2] = (y == 9 || y == 30) ? 0 : 180;
            else if (dx * dx + dy * dy < 36) { /* a blue iris with a fine texture (alternating pixels) */
                float t = ((x + y) & 1) ? 30 : -30;
                p[0] = 40 + t, p[1] = 70 + t, p[2] = 160 + t;
            } else /* sclera, with a fine texture too */
                p[0] = p[1] = p[2] = ((x + y) & 1) ? 235 : 195;
        }
    assert_int_equal(mf_anon_eye_soften(&ph, P, 4, tri, 2, 1.5f, 0.8f, 1.0f, &out), 0);
    assert_int_equal(out.w, W), assert_int_equal(out.h, H);
    /* the iris texture: neighbour differences inside the iris */
    float tex_in = 0, tex_ph = 0;
    for (int x = 22; x < 28; x++) {
        tex_in += fabsf(out.data[3 * (20 * W + x) + 1] - out.data[3 * (20 * W + x + 1) + 1]);
        tex_ph += fabsf(ph.data[3 * (20 * W + x) + 1] - ph.data[3 * (20 * W + x + 1) + 1]);
    }
    /* the colour: blue minus red at the iris centre */
    float *c = out.data + 3 * (20 * W + 25), *c0 = ph.data + 3 * (20 * W + 25);
    /* gaze: the darkest column of the opening's middle rows still at the iris */
    int dark_x = -1;
    float dark = FLT_MAX;
    for (int x = 10; x < 70; x++) {
        float l = 0;
        for (int y = 17; y < 24; y++) l += out.data[3 * (y * W + x) + 1];
        if (l < dark) dark = l, dark_x = x;
    }
    /* no lid line inside: the opening's top row away from the iris stays light */
    float top = out.data[3 * (10 * W + 55) + 1];
    print_message("      iris texture %.1f (photo %.1f), blue-red %.1f (photo %.1f), darkest column %d, top row %.1f\n",
                  tex_in, tex_ph, c[2] - c[0], c0[2] - c0[0], dark_x, top);
    assert_true(tex_in < 0.25f * tex_ph);       /* the iris texture is gone */
    assert_true(c[2] - c[0] < 0.4f * (c0[2] - c0[0])); /* its colour mostly too */
    assert_true(dark_x >= 23 && dark_x <= 27);  /* the iris stays where it was: the gaze is kept */
    assert_true(top > 195);                     /* the lid line outside did not bleed in */
    for (int y = 0; y < H; y++)                 /* outside the opening: the photo's */
        for (int x = 0; x < W; x++)
            if (!(x >= 10 && x < 70 && y >= 10 && y < 30))
                for (int k = 0; k < 3; k++) assert_float_equal(out.data[3 * (y * W + x) + k], ph.data[3 * (y * W + x) + k], 0);
    mf_fimg_free(&out);
    int bad[3] = {0, 1, 9};
    assert_int_equal(mf_anon_eye_soften(&ph, P, 4, bad, 1, 1.5f, 0.8f, 1.0f, &out), MF_ERR_ARG);
    mf_fimg_free(&ph);
}

/* (eyes19) The photo's eye openings darkened by the drawn identity's own eye brightness: the model's openings at 0.3
 * of its skin, the photo's at 0.6 of its skin, so the photo's openings are halved (strength 1); never lightened
 * (photo darker than the model), clamped at min_factor (strength 2), the skin outside the openings untouched, and
 * the factor applied by mf_anon_eye_soften to the openings only. */
static void test_eye_darkened_by_model(void **state) {
    (void)state;
    enum { T = 32, W = 64, H = 48 };
    /* a 5 x 5 grid of vertices, the same in the texture (x 8 texels, from 0) and the photo (x 12 px, from 4); the
     * opening: the quad of vertices 6, 7, 12, 11 (two triangles); skin probes at the grid's corners and middle */
    float uv[25 * 2], P[25 * 3];
    for (int v = 0; v < 25; v++) {
        uv[2 * v] = 4 + 6 * (float)(v % 5), uv[2 * v + 1] = 4 + 6 * (float)(v / 5);
        P[3 * v] = 4 + 12 * (float)(v % 5), P[3 * v + 1] = 2 + 10 * (float)(v / 5), P[3 * v + 2] = 0;
    }
    int tri[6] = {6, 7, 12, 6, 12, 11}, probes[5] = {0, 4, 20, 24, 18};
    float *tex = malloc(sizeof(float) * 3 * T * T);
    assert_non_null(tex);
    for (int y = 0; y < T; y++)
        for (int x = 0; x < T; x++) { /* skin 200 (grey), the opening's square (texels 10..16) 60: 0.3 */
            int in = x >= 9 && x <= 17 && y >= 9 && y <= 17;
            for (int k = 0; k < 3; k++) tex[3 * (y * T + x) + k] = in ? 60 : 200;
        }
    mf_fimg ph, out;
    assert_int_equal(mf_fimg_init(&ph, W, H, 3), 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) { /* skin 180, the opening's rectangle (x 16..28, y 12..22) 108: 0.6 */
            int in = x >= 14 && x <= 30 && y >= 10 && y <= 24;
            for (int k = 0; k < 3; k++) ph.data[3 * (y * W + x) + k] = in ? 108 : 180;
        }
    float f = 0;
    assert_int_equal(mf_anon_eye_dark_factor(tex, T, uv, &ph, P, 25, tri, 2, probes, 5, 180, 1, 0.4f, &f), 0);
    print_message("      factor %.3f (model 0.3 / photo 0.6 of their skin)\n", f);
    assert_float_equal(f, 0.5f, 0.02f);
    /* strength 2: 0.25, clamped to 0.4 */
    assert_int_equal(mf_anon_eye_dark_factor(tex, T, uv, &ph, P, 25, tri, 2, probes, 5, 180, 2, 0.4f, &f), 0);
    assert_float_equal(f, 0.4f, 1e-5f);
    /* the photo's openings darker than the model's (photo skin brighter): never lightened */
    assert_int_equal(mf_anon_eye_dark_factor(tex, T, uv, &ph, P, 25, tri, 2, probes, 5, 600, 1, 0.4f, &f), 0);
    assert_float_equal(f, 1, 1e-6f);
    /* the factor applied to the openings: halved inside, the photo's outside */
    assert_int_equal(mf_anon_eye_soften(&ph, P, 25, tri, 2, 0, 0, 0.5f, &out), 0);
    assert_float_equal(out.data[3 * (17 * W + 22) + 1], 54, 0.5f);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (!(x >= 14 && x <= 30 && y >= 10 && y <= 24))
                for (int k = 0; k < 3; k++) assert_float_equal(out.data[3 * (y * W + x) + k], ph.data[3 * (y * W + x) + k], 0);
    mf_fimg_free(&out);
    int bad[3] = {0, 1, 30};
    assert_int_equal(mf_anon_eye_dark_factor(tex, T, uv, &ph, P, 25, bad, 1, probes, 5, 180, 1, 0.4f, &f), MF_ERR_ARG);
    assert_int_equal(mf_anon_eye_dark_factor(tex, T, uv, &ph, P, 25, tri, 2, probes, 5, 180, -1, 0.4f, &f), MF_ERR_ARG);
    assert_int_equal(mf_anon_eye_soften(&ph, P, 25, tri, 2, 0, 0, 1.5f, &out), MF_ERR_ARG);
    mf_fimg_free(&ph), free(tex);
}

/* (eyes33) The model's eyes are drawn with the texture's whole visible eye in the opening. In the drawn textures the
 * mesh's lid loop lies inside the visible eye (measured on the mean texture: a loop 31 x 10 texels, the visible eye
 * about 36 x 15, the loop's top a third down the iris), so main drew the iris top and the lash line on the lid skin
 * above the opening (heavy, half-shut, doubled lids). A texture laid out like that (loop 30 x 10 about (32, 32); the
 * visible eye 34 x 15: sclera 220, an iris disc of radius 6 at 40, skin 150 outside): under main's coordinates
 * (the default, tuning.eye_uv 0 or -1) the loop's top and bottom vertices sample the iris (it continues outside the
 * opening); spread by tuning.eye_uv 1.5, no loop vertex samples it and the loop spans the whole iris (with the spread
 * replaced by main's, k = 1, the assertions on pass 1 fail). */
static void test_eye_uv_whole_eye(void **state) {
    (void)state;
    enum { T = 64, NL = 16 };
    float *tex = malloc(sizeof(float) * T * T);
    assert_non_null(tex);
    for (int y = 0; y < T; y++)
        for (int x = 0; x < T; x++) {
            float dx = x + 0.5f - 32, dy = y + 0.5f - 32, u = dx / 17, v = dy / 7.5f;
            tex[y * T + x] = u * u + v * v >= 1 ? 150 : dx * dx + dy * dy < 36 ? 40 : 220;
        }
    int loop[NL];
    float uv0[NL * 2];
    for (int i = 0; i < NL; i++) {
        float a = 2 * 3.14159265f * i / NL;
        uv0[2 * i] = 32 + 15 * cosf(a), uv0[2 * i + 1] = 32 + 5 * sinf(a), loop[i] = i;
    }
    mf_anon_tuning def = {0}, off = {.eye_uv = -1}, on = {.eye_uv = 1.5f}, big = {.eye_uv = 9};
    assert_float_equal(mf_anon_eye_uv_gain(&off), 1, 0);
    assert_float_equal(mf_anon_eye_uv_gain(&def), 1, 0); /* off by default */
    assert_float_equal(mf_anon_eye_uv_gain(&big), 2.5f, 0);
    float k = mf_anon_eye_uv_gain(&on);
    assert_float_equal(k, 1.5f, 0);
    int dark[2] = {0, 0};
    float top[2], bot[2];
    for (int pass = 0; pass < 2; pass++) {
        float uv[NL * 2];
        memcpy(uv, uv0, sizeof uv);
        float kk = pass ? k : mf_anon_eye_uv_gain(&off);
        if (kk > 1) assert_int_equal(mf_anon_eye_uv(uv, NL, loop, NL, kk), 0);
        top[pass] = T, bot[pass] = 0;
        for (int i = 0; i < NL; i++) {
            int x = (int)uv[2 * i], y = (int)uv[2 * i + 1];
            assert_true(x >= 0 && y >= 0 && x < T && y < T);
            dark[pass] += tex[y * T + x] < 60;
            top[pass] = fminf(top[pass], uv[2 * i + 1]), bot[pass] = fmaxf(bot[pass], uv[2 * i + 1]);
        }
    }
    assert_true(dark[0] >= 2);                        /* main: the iris runs on past the opening */
    assert_int_equal(dark[1], 0);                     /* spread: the iris lies inside it */
    assert_true(top[1] <= 26 && bot[1] >= 38);        /* the whole iris (rows 26-38) within the loop */
    assert_true(top[1] >= 32 - 7.6f && bot[1] <= 32 + 7.6f); /* and not beyond the visible eye */
    /* the centre stays, the sideways spread is a third of the vertical one's excess */
    float uv[NL * 2];
    memcpy(uv, uv0, sizeof uv);
    assert_int_equal(mf_anon_eye_uv(uv, NL, loop, NL, 1.6f), 0);
    assert_float_equal(uv[0], 32 + 15 * 1.2f, 1e-3f);
    assert_float_equal(uv[2 * 4 + 1], 32 + 5 * 1.6f, 1e-3f);
    /* bad arguments */
    assert_int_equal(mf_anon_eye_uv(NULL, NL, loop, NL, 1.5f), MF_ERR_ARG);
    assert_int_equal(mf_anon_eye_uv(uv, NL, loop, 2, 1.5f), MF_ERR_ARG);
    assert_int_equal(mf_anon_eye_uv(uv, NL, loop, NL, 0), MF_ERR_ARG);
    loop[3] = NL;
    assert_int_equal(mf_anon_eye_uv(uv, NL, loop, NL, 1.5f), MF_ERR_ARG);
    free(tex);
}

/* (looks32) An eye opening the mesh put on a lowered lid under pale make-up (demo photo 1, face 2: drawn as whitish,
 * empty eyes) is told from an open eye by the dark quarter of its middle, and the face's draws then take the model's
 * eyes: an open eye (sclera 220, an iris disc 40 on skin 150) measures its iris (0.27 of the skin) and keeps the
 * photo's opening; a lid under white shadow (200, a black lash line along its lower edge) measures 1.33 and does not,
 * nor a plain closed lid (the skin's own 150); either eye suffices; tuning.eye_lid -1 keeps them all (main's
 * behaviour, under which the lid cases fail). */
static void test_eye_lid_not_kept(void **state) {
    (void)state;
    enum { W = 80, H = 40 };
    float P[16 * 3];
    int loop[16];
    for (int i = 0; i < 16; i++) { /* the lid loop: an ellipse about (40, 20), 25 x 8 px */
        float a = 2 * 3.14159265f * i / 16;
        P[3 * i] = 40 + 25 * cosf(a), P[3 * i + 1] = 20 + 8 * sinf(a), P[3 * i + 2] = 0, loop[i] = i;
    }
    mf_fimg ph;
    assert_int_equal(mf_fimg_init(&ph, W, H, 3), 0);
    float rel[3];
    for (int c = 0; c < 3; c++) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float *p = ph.data + 3 * (y * W + x);
                float u = (x + 0.5f - 40) / 25, v = (y + 0.5f - 20) / 8, r = u * u + v * v;
                float dx = x + 0.5f - 40, dy = y + 0.5f - 20, g = 150;
                if (r < 1) {
                    if (c == 0) g = dx * dx + dy * dy < 49 ? 40 : 220; /* an open eye: iris and sclera */
                    else if (c == 1) g = v > 0.6f ? 20 : 200;          /* white shadow over the lid, lashes below */
                    else g = 150;                                       /* a plain closed lid */
                }
                p[0] = g + 10, p[1] = g, p[2] = g - 10;
            }
        assert_int_equal(mf_anon_eye_open_dark(&ph, P, 16, loop, 16, 0.6f, 0.25f, 150, &rel[c]), 0);
    }
    assert_true(rel[0] > 0.2f && rel[0] < 0.35f);
    assert_true(rel[1] > 1.2f && rel[1] < 1.45f);
    assert_true(rel[2] > 0.9f && rel[2] < 1.1f);
    mf_anon_tuning def = {0}, off = {.eye_lid = -1};
    float open2[2] = {rel[0], rel[0]}, lid2[2] = {rel[1], rel[1]}, plain[2] = {rel[0], rel[2]}, none[2] = {-1, -1};
    assert_int_equal(mf_anon_eye_lid(&def, open2), 0);
    assert_int_equal(mf_anon_eye_lid(&def, lid2), 1);  /* main: the photo's lids drawn as eyes */
    assert_int_equal(mf_anon_eye_lid(&def, plain), 1); /* one eye suffices */
    assert_int_equal(mf_anon_eye_lid(&def, none), 0);  /* unmeasured: kept */
    assert_int_equal(mf_anon_eye_lid(&off, lid2), 0);
    /* nothing measurable: no skin, the opening outside the photo; bad arguments */
    assert_int_equal(mf_anon_eye_open_dark(&ph, P, 16, loop, 16, 0.6f, 0.25f, 2, &rel[0]), 0);
    assert_float_equal(rel[0], -1, 0);
    float Pout[16 * 3];
    for (int i = 0; i < 16 * 3; i++) Pout[i] = P[i] + (i % 3 == 0 ? 200 : 0);
    assert_int_equal(mf_anon_eye_open_dark(&ph, Pout, 16, loop, 16, 0.6f, 0.25f, 150, &rel[0]), 0);
    assert_float_equal(rel[0], -1, 0);
    int bad[16];
    memcpy(bad, loop, sizeof bad), bad[3] = 16;
    assert_int_equal(mf_anon_eye_open_dark(&ph, P, 16, bad, 16, 0.6f, 0.25f, 150, &rel[0]), MF_ERR_ARG);
    assert_int_equal(mf_anon_eye_open_dark(&ph, P, 16, loop, 16, 0, 0.25f, 150, &rel[0]), MF_ERR_ARG);
    mf_fimg_free(&ph);
}

/* (light22) The light step leaves no white glow on turned faces. LFW Michael_Linscott_0001 (46 degrees of yaw:
 * profile/0030 of the strong-profile set) and Margaret_Caruso_0001 (45 degrees: profile/0032), every face turned by 30
 * degrees or more, analysed and anonymized as `mfmc anonymize` does, seeds 1-2: over the face's box, the pixels of a
 * synthetic face that came out white (every channel >= GLOW_MIN) and much lighter than the photo (grey + GLOW_UP or
 * more) are at most GLOW_MAX of the box (the branch: 0.9 % at most, on Margaret_Caruso seed 1; main 4.2 % there). Main's per-channel light (the render x the photo's low-pass ratio, up to 2.4x
 * in blue on 0032's brown draws, 0.78x in red on 0030's red ones) made the drawn texture's light texels white there:
 * the glow around the far eye and over the forehead. `shade_cap < 0` (main's light) is run beside and printed. */
static int glow_pixels(const mf_img *a, const mf_img *b, const mf_face *f, int *n_box) {
    enum { GLOW_MIN = 240, GLOW_UP = 40 };
    const mf_face_box *bx = &f->lm.box;
    int n = 0, g = 0;
    for (int y = (int)fmaxf(0, bx->y); y < (int)fminf(a->h, bx->y + bx->h); y++)
        for (int x = (int)fmaxf(0, bx->x); x < (int)fminf(a->w, bx->x + bx->w); x++, n++) {
            const uint8_t *p = a->data + ((size_t)y * a->w + x) * 3, *q = b->data + ((size_t)y * a->w + x) * 3;
            float yp = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2], yq = 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2];
            g += q[0] >= GLOW_MIN && q[1] >= GLOW_MIN && q[2] >= GLOW_MIN && yq >= yp + GLOW_UP;
        }
    *n_box = n;
    return g;
}

static void test_turned_face_no_glow(void **state) {
    (void)state;
    const double GLOW_MAX = 0.015;
    static const char *photos[] = {"lfw/Michael_Linscott/Michael_Linscott_0001.jpg",
                                   "lfw/Margaret_Caruso/Margaret_Caruso_0001.jpg"};
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *per_channel = attack_env_anon(&e, (mf_anon_tuning){.shade_cap = -1});
    int checked = 0;
    for (size_t p = 0; p < sizeof photos / sizeof *photos; p++) {
        mf_img img;
        int n;
        mf_face *faces = data_photo_faces(e.priv, photos[p], &img, &n);
        if (!faces) continue;
        for (int k = 0; k < n; k++) {
            if (!faces[k].has_landmarks || fabsf(faces[k].lm.yaw) < 30) continue;
            for (uint64_t seed = 1; seed <= 2; seed++) {
                int glow[2] = {0, 0}, nb = 0, synth[2] = {0, 0};
                for (int v = 0; v < 2; v++) {
                    mf_img res = copy_of(&img);
                    mf_anon_result r;
                    assert_int_equal(mf_anon_face(v ? per_channel : e.a, &res, &faces[k], MF_ANON_SYNTH, seed, NULL, &r),
                                     MF_OK);
                    synth[v] = r.method == MF_ANON_SYNTH;
                    glow[v] = glow_pixels(&img, &res, &faces[k], &nb);
                    mf_img_free(&res);
                }
                printf("  %s face %d seed %d (yaw %.1f): glow %d of %d px (%s); shade_cap off %d (%s)\n", photos[p], k,
                       (int)seed, faces[k].lm.yaw, glow[0], nb, synth[0] ? "synthetic" : "filter", glow[1],
                       synth[1] ? "synthetic" : "filter");
                if (!synth[0]) continue;
                checked++;
                assert_true(glow[0] <= GLOW_MAX * nb);
            }
        }
        free(faces);
        mf_img_free(&img);
    }
    mf_anon_free(per_channel);
    attack_env_close(&e);
    if (!checked) skip();
}

/* (pale34) A strong face takes the photo's skin tone: LFW faces whose strong draws came out pale or dark on main
 * (docs/anonymization.md, "Branch pale34"), anonymized with the strong rung from the first draw (tuning.keep_eyes -1)
 * as `mfmc anonymize --seed 1` sets the anonymizer up: where the face is published drawn, its skin's mean luminance
 * (tu_skin_tone) is within DY_TOL of the photo's and its broad contrast within a factor CONTRAST_TOL. Main (tuning.tone_match
 * -1, printed beside) fails it: Carlos_Queiroz at draw 2 is 13.3 levels darker than the photo (branch +1.3), ffhq_0126
 * 11.5 darker (branch +5.6); Billy_Edelin is filtered on main, Andrei_Nikolishin on both. The draws are the ones these
 * faces were chosen on: the anti-face push in code space (tuning.push_metric -1; with stop 38's metric push on,
 * Billy_Edelin's draw 2 reads +8.7 levels, over DY_TOL: docs/anonymization.md, "Where it stands (stop 38 ...)"). */
static void test_strong_tone_matches_photo(void **state) {
    (void)state;
    const float DY_TOL = 8, CONTRAST_TOL = 1.6f;
    static const char *photos[] = {"lfw/Billy_Edelin/Billy_Edelin_0001.jpg", "lfw/Andrei_Nikolishin/Andrei_Nikolishin_0001.jpg",
                                   "lfw/Carlos_Queiroz/Carlos_Queiroz_0001.jpg", "ffhq/ffhq_0126.jpg"};
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *on = attack_env_anon(&e, (mf_anon_tuning){.keep_eyes = -1, .push_metric = -1});
    mf_anon_t *off = attack_env_anon(&e, (mf_anon_tuning){.keep_eyes = -1, .tone_match = -1, .push_metric = -1});
    int checked = 0;
    for (size_t p = 0; p < sizeof photos / sizeof *photos; p++) {
        mf_img img;
        int n;
        mf_face *faces = data_photo_faces(e.priv, photos[p], &img, &n);
        if (!faces) continue;
        int k = largest_meshed_face(faces, n);
        if (k >= 0) {
            float dy[2], ratio[2];
            int drawn[2], tries[2];
            for (int v = 0; v < 2; v++) {
                mf_img res = copy_of(&img);
                mf_anon_result r;
                assert_int_equal(mf_anon_face(v ? off : on, &res, &faces[k], MF_ANON_SYNTH, 1, NULL, &r), MF_OK);
                drawn[v] = r.method == MF_ANON_SYNTH && r.strong, tries[v] = r.tries;
                float dc;
                assert_true(tu_skin_tone(&img, &res, &faces[k], &dy[v], &dc, &ratio[v], NULL, NULL) > 0);
                mf_img_free(&res);
            }
            printf("  %s: luminance %+.1f, contrast x%.2f (draw %d%s); tone_match -1: %+.1f, x%.2f (draw %d%s)\n",
                   photos[p], dy[0], ratio[0], tries[0], drawn[0] ? "" : ", filter", dy[1], ratio[1], tries[1],
                   drawn[1] ? "" : ", filter");
            if (drawn[0]) {
                checked++;
                assert_true(fabsf(dy[0]) <= DY_TOL);
                assert_true(ratio[0] <= CONTRAST_TOL && ratio[0] >= 1 / CONTRAST_TOL);
            }
        }
        free(faces);
        mf_img_free(&img);
    }
    mf_anon_free(on), mf_anon_free(off);
    attack_env_close(&e);
    if (!checked) skip();
}

/* Anonymizes face, given an adult's age (30), with a0 and a1 at seed 1 and asserts the same draws and pixels (a
 * child's option leaves adults alone); *rb gets a1's result. */
static void assert_adult_same(mf_anon_t *a0, mf_anon_t *a1, const mf_img *img, const mf_face *face,
                              mf_anon_result *rb) {
    mf_face adult = *face;
    adult.attr.age = 30;
    mf_anon_result ra;
    mf_img a = copy_of(img), b = copy_of(img);
    assert_int_equal(mf_anon_face(a0, &a, &adult, MF_ANON_SYNTH, 1, NULL, &ra), MF_OK);
    assert_int_equal(mf_anon_face(a1, &b, &adult, MF_ANON_SYNTH, 1, NULL, rb), MF_OK);
    assert_int_equal(ra.tries, rb->tries);
    assert_string_equal(ra.draws, rb->draws);
    assert_memory_equal(a.data, b.data, (size_t)img->w * img->h * 3);
    mf_img_free(&a), mf_img_free(&b);
}

/* (child39) A child's face (estimated under 13) is checked against dissimilarity thresholds raised by tuning.child_gap
 * of each recognizer's gap (different real children read alike: docs/anonymization.md, "Children's thresholds"):
 * an FFHQ child (10 years) at eval_anon's seed for it, where child_gap 0.5 publishes the third draw at arcface 0.235
 * (off: the fifth), and the next seed, child_gap 0.5 against off. With
 * it, the result says so (child_thresholds), no draw is rejected by arcface or faceapi under the raised threshold,
 * and a published draw reads under it; some draw reads between the two thresholds and is published (fails when the
 * raised thresholds are not used); the registry's thresholds are back after the call, the gallery threshold is the
 * adults', and the same face given an adult's age is checked as before (the same result). */
static void test_child_thresholds(void **state) {
    (void)state;
    static const char *photos[] = {"ffhq/ffhq_0236.jpg"};
    static const uint64_t seed0[] = {1 + 118 * 7919}; /* eval_anon's seed for it over the 300 faces */
    attack_env e;
    attack_env_need(&e);
    /* (kid49) the scenario's draws were made with a child's strong rung, which is now off by default */
    mf_anon_t *an[2] = {attack_env_anon(&e, (mf_anon_tuning){.child_gap = -1, .child_strong = 1}),
                        attack_env_anon(&e, (mf_anon_tuning){.child_gap = 0.5f, .child_strong = 1})};
    float raised[MF_ANON_MAX_RECOGNIZERS];
    for (int i = 0; i < mf_anon_recognizer_count(an[1]); i++) {
        const mf_face_recognizer_info *inf = mf_anon_recognizer_info(an[1], i);
        raised[i] = inf->dissimilarity_threshold + 0.5f * (inf->match_threshold - inf->dissimilarity_threshold);
        assert_true(mf_anon_gallery_threshold(an[1], i) == mf_anon_gallery_threshold(an[0], i));
    }
    int between = 0, runs = 0, adults = 0;
    for (size_t p = 0; p < sizeof photos / sizeof *photos; p++) {
        mf_img img;
        int n;
        mf_face *faces = data_photo_faces(e.priv, photos[p], &img, &n);
        int k = faces ? largest_meshed_face(faces, n) : -1;
        if (k < 0 || !(faces[k].attr.age >= 0 && faces[k].attr.age < 13)) {
            printf("  %s: no child's face found\n", photos[p]);
            if (faces) free(faces), mf_img_free(&img);
            continue;
        }
        for (uint64_t seed = seed0[p]; seed < seed0[p] + 2; seed++, runs++) {
            mf_anon_result r[2];
            mf_img res[2];
            for (int v = 0; v < 2; v++) {
                res[v] = copy_of(&img);
                assert_int_equal(mf_anon_face(an[v], &res[v], &faces[k], MF_ANON_SYNTH, seed, NULL, &r[v]), MF_OK);
                assert_int_equal(r[v].child_thresholds, v);
            }
            printf("  %s (age %.0f) seed %d: off %s draws %s; child_gap 0.5 %s draws %s", photos[p], faces[k].attr.age,
                   (int)seed, r[0].decision == MF_ANON_ACCEPTED ? "accepted" : "fallback", r[0].draws,
                   r[1].decision == MF_ANON_ACCEPTED ? "accepted" : "fallback", r[1].draws);
            for (int i = 0; i < r[1].n_rec; i++) printf(" %s %.3f", mf_anon_recognizer_info(an[1], i)->name, r[1].sim[i]);
            printf("\n");
            for (int d = 0; r[1].draws[d]; d++) /* no arcface / faceapi rejection under the raised threshold */
                for (int i = 0; i < r[1].n_rec; i++) {
                    const mf_face_recognizer_info *inf = mf_anon_recognizer_info(an[1], i);
                    if (inf->ensemble && (r[1].draws[d] == inf->name[0] || r[1].draws[d] == inf->name[0] - 'a' + 'A'))
                        assert_true(r[1].draw_val[d] >= raised[i] - 1e-6f);
                }
            if (r[1].decision == MF_ANON_ACCEPTED) {
                int over = 0;
                for (int i = 0; i < r[1].n_rec; i++) {
                    const mf_face_recognizer_info *inf = mf_anon_recognizer_info(an[1], i);
                    if (!inf->ensemble) continue;
                    assert_true(r[1].sim[i] < raised[i]);
                    over |= r[1].sim[i] >= inf->dissimilarity_threshold;
                }
                between += over;
            }
            mf_img_free(&res[0]), mf_img_free(&res[1]);
        }
        /* the same face as an adult: checked as before, the same result */
        mf_anon_result rb;
        assert_adult_same(an[0], an[1], &img, &faces[k], &rb);
        assert_int_equal(rb.child_thresholds, 0);
        adults++;
        free(faces);
        mf_img_free(&img);
    }
    /* the anonymizer's own thresholds are the registry's again */
    for (int i = 0; i < mf_anon_recognizer_count(an[1]); i++)
        assert_true(mf_anon_recognizer_info(an[1], i)->dissimilarity_threshold ==
                    mf_face_recognizer_find(mf_anon_recognizer_info(an[1], i)->name)->dissimilarity_threshold);
    printf("  published between the adult and the raised thresholds: %d of %d runs\n", between, runs);
    mf_anon_free(an[0]), mf_anon_free(an[1]);
    attack_env_close(&e);
    if (!runs) skip();
    assert_true(between > 0 && adults > 0);
}

/* (kid49) tuning.child_strong -1: a child is not drawn on the strong rung. ffhq_0046 (a 6-year-old) at eval_anon's seed
 * for it over the 300 faces: with its strong draws made (1) it is published from a strong draw (stop 48: an adult's
 * texture, a pale mask); with -1 no draw from the strong rung on is made (the ladder's first strong draw is the 4th of
 * 9), nothing strong is published, and its fallback is no adult face (the filter, or a gentle draw read under
 * child_relaxed_age). The same face given an adult's age: the same result either way. */
static void test_child_no_strong(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    /* stay52's defaults (attr_stay 3, warp_loop 4) off: the draws this test was built on */
    mf_anon_t *an[2] = {attack_env_anon(&e, (mf_anon_tuning){.child_strong = 1, .attr_stay = -1, .warp_loop = 1}),
                        attack_env_anon(&e, (mf_anon_tuning){.child_strong = -1, .attr_stay = -1, .warp_loop = 1})};
    mf_img img;
    int n;
    mf_face *faces = data_photo_faces(e.priv, "ffhq/ffhq_0046.jpg", &img, &n);
    int k = central_face(faces, n, &img); /* as eval_anon takes it (a second child is cut by the border) */
    if (k < 0 || !faces[k].has_landmarks || !(faces[k].attr.age >= 0 && faces[k].attr.age < 13)) {
        printf("  ffhq_0046: no child's face found\n");
        if (faces) free(faces), mf_img_free(&img);
        mf_anon_free(an[0]), mf_anon_free(an[1]);
        attack_env_close(&e);
        skip();
    }
    const uint64_t seed = 1 + 23 * 7919;
    mf_anon_result r[2];
    mf_img res[2];
    for (int v = 0; v < 2; v++) {
        res[v] = copy_of(&img);
        assert_int_equal(mf_anon_face(an[v], &res[v], &faces[k], MF_ANON_SYNTH, seed, NULL, &r[v]), MF_OK);
        printf("  ffhq_0046 (age %.0f) child_strong %2d: %s%s draws %s tries %d%s%s\n", faces[k].attr.age,
               v ? -1 : 1, r[v].decision == MF_ANON_ACCEPTED ? "accepted" : "fallback", r[v].strong ? " strong" : "",
               r[v].draws, r[v].tries, r[v].note[0] ? ": " : "", r[v].note);
    }
    assert_int_equal(r[0].decision, MF_ANON_ACCEPTED); /* the draws this test was built on: a strong one published */
    assert_true(r[0].strong && r[0].tries > 3);
    assert_false(r[1].strong);
    assert_true(r[1].tries <= 3);
    for (int i = 0; i < r[1].tries && i < MF_ANON_DRAW_LOG; i++) assert_true(r[1].draw_rung[i] < 3); /* gentle rungs */
    assert_non_null(strstr(r[1].note, "(a child: no strong draws)")); /* the report says why the draws ended */
    assert_memory_equal(r[1].draws, r[0].draws, 3); /* the gentle draws are the same */
    if (r[1].decision == MF_ANON_FALLBACK && r[1].method == MF_ANON_SYNTH) /* a synthetic fallback: read as a child */
        assert_true(r[1].age_after >= 0 && r[1].age_after < 18);
    assert_memory_not_equal(res[1].data, img.data, (size_t)img.w * img.h * 3);
    /* the same face as an adult: the same result with and without */
    mf_anon_result rb;
    assert_adult_same(an[0], an[1], &img, &faces[k], &rb);
    mf_img_free(&res[0]), mf_img_free(&res[1]);
    free(faces);
    mf_img_free(&img);
    mf_anon_free(an[0]), mf_anon_free(an[1]);
    attack_env_close(&e);
}

/* (gal39) A gallery identity is matched from mf_anon_gallery_threshold, a third of the gap under the match threshold
 * (tuning.gallery_margin): a member whose arcface embedding reads an accepted draw between the two thresholds,
 * just over the gallery one (built from the draw's own embedding at the original's points, which the checks embed first) changes
 * nothing without the margin (the same draw, pixel for pixel, its gallery similarity reported under the match
 * threshold), and is rejected with it: that draw is not published again. Fails when GALLERY_MARGIN is 0 or the
 * gallery is matched at the match threshold. */
static void test_gallery_margin(void **state) {
    (void)state;
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *bare = attack_env_anon(&e, (mf_anon_tuning){.gallery_margin = -1});
    int ia = anon_rec_index(e.a, "arcface");
    assert_true(ia >= 0);
    const mf_face_recognizer_info *inf = mf_anon_recognizer_info(e.a, ia);
    float mth = inf->match_threshold, gap = mth - inf->dissimilarity_threshold, gth = mf_anon_gallery_threshold(e.a, ia);
    assert_true(fabsf(gth - (mth - gap / 3)) < 1e-5f);
    assert_true(mf_anon_gallery_threshold(bare, ia) == mth);
    assert_true(mf_anon_gallery_threshold(e.a, -1) == 2 && mf_anon_gallery_threshold(e.a, 99) == 2);
    mf_img img;
    int n, checked = 0;
    mf_face *faces = data_photo_faces(e.priv, "lfw/Billy_Edelin/Billy_Edelin_0001.jpg", &img, &n);
    int k = faces ? largest_meshed_face(faces, n) : -1;
    for (uint64_t seed = 1; k >= 0 && seed <= 4 && !checked; seed++) {
        mf_img r0img = copy_of(&img);
        mf_anon_result r0;
        assert_int_equal(mf_anon_face(bare, &r0img, &faces[k], MF_ANON_SYNTH, seed, NULL, &r0), MF_OK);
        if (r0.decision != MF_ANON_ACCEPTED) {
            mf_img_free(&r0img);
            continue;
        }
        /* a member just over the gallery threshold from the accepted draw's own embedding E: c E + sqrt(1 - c^2) u,
         * u a fixed unit vector orthogonal to E (the checks' other alignments read it higher: seed 1, 0.014) */
        float p5[5][2], E[512], v[512], c = gth + 0.1f * (mth - gth), uu = 0, ue = 0;
        mf_face_5pt(&faces[k], p5);
        assert_int_equal(inf->dim, 512);
        assert_int_equal(mf_face_recognizer_embed(e.rec, &r0img, (const float(*)[2])p5, E), MF_OK);
        for (int d = 0; d < 512; d++) v[d] = (float)((d * 37 % 101) - 50), ue += v[d] * E[d];
        for (int d = 0; d < 512; d++) v[d] -= ue * E[d], uu += v[d] * v[d];
        for (int d = 0; d < 512; d++) v[d] = c * E[d] + sqrtf((1 - c * c) / uu) * v[d];
        assert_true(fabsf(mf_face_similarity(v, E, 512) - c) < 1e-4f);
        mf_gallery_t *g;
        assert_int_equal(mf_gallery_create(512, &g), MF_OK);
        assert_int_equal(mf_gallery_add(g, "member", v), MF_OK);
        const mf_gallery_t *per[MF_ANON_MAX_RECOGNIZERS] = {0};
        per[ia] = g;
        mf_anon_galleries gal = {per};
        mf_img r1img = copy_of(&img), r2img = copy_of(&img);
        mf_anon_result r1, r2;
        assert_int_equal(mf_anon_face(bare, &r1img, &faces[k], MF_ANON_SYNTH, seed, &gal, &r1), MF_OK);
        assert_int_equal(mf_anon_face(e.a, &r2img, &faces[k], MF_ANON_SYNTH, seed, &gal, &r2), MF_OK);
        printf("  seed %d: accepted at draw %d; member at %.4f (match %.4f, gallery %.4f): without the margin %s at "
               "draw %d (gallery %.4f), with it %s at draw %d (gallery %.4f)\n",
               (int)seed, r0.tries, c, mth, gth, r1.decision == MF_ANON_ACCEPTED ? "accepted" : "fallback", r1.tries,
               r1.gallery_sim[ia], r2.decision == MF_ANON_ACCEPTED ? "accepted" : "fallback", r2.tries,
               r2.gallery_sim[ia]);
        /* without the margin: the same draw, its member read between the thresholds */
        assert_int_equal(r1.decision, MF_ANON_ACCEPTED);
        assert_int_equal(r1.tries, r0.tries);
        assert_memory_equal(r1img.data, r0img.data, (size_t)img.w * img.h * 3);
        assert_true(r1.gallery_sim[ia] >= c - 1e-4f && r1.gallery_sim[ia] < mth);
        /* with it: that draw rejected, what is published is under the gallery threshold */
        assert_true(r2.tries > r0.tries || r2.decision != MF_ANON_ACCEPTED);
        assert_true(memcmp(r2img.data, r0img.data, (size_t)img.w * img.h * 3) != 0);
        if (r2.decision == MF_ANON_ACCEPTED) assert_true(r2.gallery_sim[ia] < gth);
        checked = 1;
        mf_gallery_free(g);
        mf_img_free(&r0img), mf_img_free(&r1img), mf_img_free(&r2img);
    }
    free(faces);
    if (faces) mf_img_free(&img);
    mf_anon_free(bare);
    attack_env_close(&e);
    if (!checked) skip();
}

/* (tone35) A strong draw whose skin varies far more than the photo's across the skin probes is drawn again, never
 * published: ffhq_0176 (a flat-lit older woman) with every draw strong (keep_eyes -1) and tuning.strong_contrast
 * 0.001 (no strong draw can pass) gets no strong synthetic face, and its draw log is all 'T' with each ratio over
 * the limit; main (the knob unknown) publishes a strong draw (seed 1: its 2nd, at 2.6x the photo's contrast by
 * tu_skin_tone). At 1.6 every 'T' is a ratio over 1.6; the published faces' contrasts are printed. */
static void test_strong_contrast_redraws(void **state) {
    (void)state;
    static const char *photo = "ffhq/ffhq_0176.jpg";
    attack_env e;
    attack_env_need(&e);
    const float limit[3] = {-1, 1e-3f, 1.6f};
    mf_anon_t *an[3];
    for (int v = 0; v < 3; v++) an[v] = attack_env_anon(&e, (mf_anon_tuning){.keep_eyes = -1, .strong_contrast = limit[v]});
    mf_img img;
    int n;
    mf_face *faces = data_photo_faces(e.priv, photo, &img, &n);
    if (!faces || n < 1 || !faces[0].has_landmarks) {
        photo_test_close(&e, an, 3, faces, &img);
        skip();
    }
    for (int v = 0; v < 3; v++) {
        mf_img res = copy_of(&img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(an[v], &res, &faces[0], MF_ANON_SYNTH, 1, NULL, &r), MF_OK);
        float dy = 0, dc = 0, ratio = 1;
        tu_skin_tone(&img, &res, &faces[0], &dy, &dc, &ratio, NULL, NULL);
        printf("  strong_contrast %g: %s%s, %d draws '%s', contrast x%.2f\n", limit[v],
               r.method == MF_ANON_SYNTH ? "synthetic" : "filter", r.strong ? " strong" : "", r.tries, r.draws, ratio);
        int nt = 0;
        for (int i = 0; r.draws[i]; i++)
            if (r.draws[i] == 'T') {
                nt++;
                if (v) assert_true(r.draw_val[i] > limit[v]);
            }
        if (v == 0) assert_int_equal(nt, 0); /* off: never tested */
        if (v == 1) {
            assert_false(r.method == MF_ANON_SYNTH && r.strong);
            assert_int_equal(nt, (int)strlen(r.draws));
            assert_true(nt > 0);
        }
        mf_img_free(&res);
    }
    photo_test_close(&e, an, 3, faces, &img);
}

/* (age41) A passing draw whose age read misses the original's by more than tuning.age_soft is held and more draws
 * are made; the published draw is the passing one with the smallest miss. With age_soft 1e-3 every passing draw is
 * held ('y' in the draw log, its age after in draw_val): at most age_draws draws follow the first, and the published
 * age is the closest of theirs. Off (-1): no draw is held. */
static void test_age_soft_redraws(void **state) {
    (void)state;
    static const char *photo = "ffhq/ffhq_0176.jpg";
    attack_env e;
    attack_env_need(&e);
    const float soft[2] = {-1, 1e-3f};
    mf_anon_t *an[2];
    for (int v = 0; v < 2; v++) an[v] = attack_env_anon(&e, (mf_anon_tuning){.age_soft = soft[v], .age_draws = 2});
    mf_img img;
    int n;
    mf_face *faces = data_photo_faces(e.priv, photo, &img, &n);
    if (!faces || n < 1 || !faces[0].has_landmarks || faces[0].attr.age < 0) {
        photo_test_close(&e, an, 2, faces, &img);
        skip();
    }
    for (int v = 0; v < 2; v++) {
        mf_img res = copy_of(&img);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(an[v], &res, &faces[0], MF_ANON_SYNTH, 1, NULL, &r), MF_OK);
        int ny = 0, first = -1;
        float best = 1e9f;
        for (int i = 0; r.draws[i]; i++)
            if (r.draws[i] == 'y') {
                if (first < 0) first = i;
                ny++;
                best = fminf(best, fabsf(r.draw_val[i] - faces[0].attr.age));
            }
        printf("  age_soft %g: age %.1f -> %.1f, %d draws '%s'\n", soft[v], faces[0].attr.age, r.age_after, r.tries,
               r.draws);
        mf_img_free(&res);
        if (v == 0) {
            assert_int_equal(ny, 0);
            continue;
        }
        assert_true(ny > 0);
        assert_int_equal(r.decision, MF_ANON_ACCEPTED);
        assert_true(r.tries <= first + 1 + 2);
        assert_float_equal(fabsf(r.age_after - faces[0].attr.age), best, 1e-4);
    }
    photo_test_close(&e, an, 2, faces, &img);
}

/* The first seed from 1 to 8 at which a's first draw of face f in img is refused on its age ('Y') and a second draw
 * is made; 0 when there is none. *x and *r hold the anonymized copy and the result at the last seed tried. */
static uint64_t first_age_miss_seed(mf_anon_t *a, const mf_img *img, const mf_face *f, mf_img *x, mf_anon_result *r) {
    uint64_t seed = 0;
    *x = (mf_img){0};
    for (uint64_t s = 1; s <= 8 && !seed; s++) {
        mf_img_free(x);
        *x = copy_of(img);
        assert_int_equal(mf_anon_face(a, x, f, MF_ANON_SYNTH, s, NULL, r), MF_OK);
        if (r->draws[0] == 'Y' && r->draws[1]) seed = s;
    }
    return seed;
}

/* (adet46, stay46, lap46) The age-read options of stop 46 on a face whose draws read far too young (ffhq_0102, 66 y:
 * its draws read 41-54 y on the 300 FFHQ run). The first seed whose first draw is rejected on its age ('Y') is taken
 * with the options off; then, at that seed:
 * - tuning.age_detail 0.6 (the default since stop 46; the others with it off): the same first draw (same age read),
 *   then the detail layer x 1 / 0.6: the second draw's age read differs;
 * - tuning.attr_stay 3 (the default since stop 52; off in the others): the second draw stays on the first's rung
 *   (off: one rung up);
 * - tuning.lap_max 1e-3: every draw is drawn again on its looks ('L'), none is checked, the face falls back; 1e9:
 *   the same draws and pixels as off;
 * - (stay52) the default tuning at that seed stays on the first rung, and the strict level (its own seed: the first
 *   whose first draw is refused on its age) climbs. */
static void test_age_read_options(void **state) {
    (void)state;
    static const char *photo = "ffhq/ffhq_0102.jpg";
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *an[7];
    an[5] = attack_env_anon(&e, (mf_anon_tuning){.age_detail = -1}); /* attr_stay: the default */
    an[6] = attack_env_anon_level(&e, (mf_anon_tuning){.age_detail = -1}, 1, 2); /* strict, two draws */
    an[0] = attack_env_anon(&e, (mf_anon_tuning){.age_detail = -1, .attr_stay = -1});
    an[1] = attack_env_anon(&e, (mf_anon_tuning){.attr_stay = -1}); /* age_detail: the default, 0.6 */
    an[2] = attack_env_anon(&e, (mf_anon_tuning){.attr_stay = 3, .age_detail = -1});
    an[3] = attack_env_anon(&e, (mf_anon_tuning){.lap_max = 1e-3f, .age_detail = -1, .attr_stay = -1});
    an[4] = attack_env_anon(&e, (mf_anon_tuning){.lap_max = 1e9f, .age_detail = -1, .attr_stay = -1});
    mf_img img;
    int n;
    mf_face *faces = data_photo_faces(e.priv, photo, &img, &n);
    int k = faces ? largest_meshed_face(faces, n) : -1;
    if (k < 0 || faces[k].attr.age < 0) {
        photo_test_close(&e, an, 7, faces, &img);
        skip();
    }
    mf_anon_result r0;
    mf_img x0 = {0};
    uint64_t seed = first_age_miss_seed(an[0], &img, &faces[k], &x0, &r0);
    printf("  age %.1f, seed %d: off '%s', ages", faces[k].attr.age, (int)seed, r0.draws);
    for (int i = 0; r0.draws[i]; i++) printf(" %.1f", r0.draw_age[i]);
    printf(", rungs %d %d\n", r0.draw_rung[0], r0.draw_rung[1]);
    assert_true(seed > 0);                              /* the face's draws do read too young */
    assert_true(r0.draw_age[0] < faces[k].attr.age - 5); /* beyond half the tolerance: the detail layer grows */
    assert_int_equal(r0.draw_rung[1], r0.draw_rung[0] + 1);
    mf_anon_result r[5];
    mf_img x[5];
    for (int v = 1; v < 5; v++) {
        x[v] = copy_of(&img);
        assert_int_equal(mf_anon_face(an[v], &x[v], &faces[k], MF_ANON_SYNTH, seed, NULL, &r[v]), MF_OK);
        printf("  option %d: '%s', decision %d, ages", v, r[v].draws, r[v].decision);
        for (int i = 0; r[v].draws[i]; i++) printf(" %.1f", r[v].draw_age[i]);
        printf(", rungs %d %d\n", r[v].draw_rung[0], r[v].draw_rung[1]);
    }
    /* age_detail: the same first draw, another second one */
    assert_int_equal(r[1].draws[0], 'Y');
    assert_true(r[1].draw_age[0] == r0.draw_age[0]);
    assert_true(r[1].draws[1] != 0 && r[1].draw_age[1] != r0.draw_age[1]);
    /* attr_stay: the second draw on the first's rung */
    assert_int_equal(r[2].draws[0], 'Y');
    assert_int_equal(r[2].draw_rung[1], r[2].draw_rung[0]);
    /* lap_max: every draw refused on its looks, then the fallback; off in effect: the same as off */
    for (int i = 0; r[3].draws[i]; i++) assert_int_equal(r[3].draws[i], 'L');
    assert_int_equal(r[3].decision, MF_ANON_FALLBACK);
    assert_string_equal(r[4].draws, r0.draws);
    assert_memory_equal(x[4].data, x0.data, (size_t)img.w * img.h * 3);
    for (int v = 1; v < 5; v++) mf_img_free(&x[v]);
    /* (stay52) the default stays (the standard level), the strict level climbs: the first seed from 1 whose first
     * strict draw is refused on its age */
    mf_img y = copy_of(&img);
    mf_anon_result rd, rs = {0};
    assert_int_equal(mf_anon_face(an[5], &y, &faces[k], MF_ANON_SYNTH, seed, NULL, &rd), MF_OK);
    assert_int_equal(rd.draws[0], 'Y');
    assert_int_equal(rd.draw_rung[1], rd.draw_rung[0]);
    mf_img_free(&y);
    uint64_t ss = first_age_miss_seed(an[6], &img, &faces[k], &y, &rs);
    printf("  default at seed %d: '%s', rungs %d %d; strict at seed %d: '%s', rungs %d %d\n", (int)seed, rd.draws,
           rd.draw_rung[0], rd.draw_rung[1], (int)ss, rs.draws, rs.draw_rung[0], rs.draw_rung[1]);
    assert_true(ss > 0);
    assert_int_equal(rs.draw_rung[1], rs.draw_rung[0] + 1);
    mf_img_free(&y);
    mf_img_free(&x0);
    photo_test_close(&e, an, 7, faces, &img);
}

/* (looks35) The eye sockets' luminance over the skin's (mean of square patches of 0.03 face sizes at mesh points of
 * the face f: between the lids and the brows and under the eyes, over cheeks and forehead), in img. */
static float socket_depth(const mf_img *img, const mf_face *f) {
    static const int sock[12] = {27, 28, 29, 257, 258, 259, 229, 230, 231, 449, 450, 451};
    static const int ref[7] = {50, 280, 205, 425, 151, 108, 337};
    float side = fmaxf(f->lm.box.w, f->lm.box.h);
    int rad = (int)(0.03f * side) + 1;
    double m[2] = {0, 0};
    for (int q = 0; q < 2; q++) {
        int np = q ? 7 : 12, k = 0;
        for (int i = 0; i < np; i++) {
            int v = q ? ref[i] : sock[i], cx = (int)f->lm.pt[v][0], cy = (int)f->lm.pt[v][1];
            double sy = 0, n = 0;
            for (int yy = cy - rad; yy <= cy + rad; yy++)
                for (int xx = cx - rad; xx <= cx + rad; xx++) {
                    if (xx < 0 || yy < 0 || xx >= img->w || yy >= img->h) continue;
                    const uint8_t *o = img->data + ((size_t)yy * img->w + xx) * 3;
                    sy += 0.299 * o[0] + 0.587 * o[1] + 0.114 * o[2], n++;
                }
            if (n > 0) m[q] += sy / n, k++;
        }
        m[q] = k ? m[q] / k : 0;
    }
    return m[1] > 0 ? (float)(m[0] / m[1]) : 0;
}

/* (looks35) A strong face has no dark eye sockets: faces whose strong draws came out with dark, sunken sockets on
 * main (docs/anonymization.md, "Branch looks35"), anonymized with their seeds of the 300 FFHQ run (the default
 * ladder; the first draws' textures are too mild to be lifted) as `mfmc anonymize` sets the anonymizer up: where the
 * face is published drawn on the strong rung, its sockets' luminance over its skin's (socket_depth, at the original's mesh points: the drawn eyes move by a few
 * pixels) is at least SOCKET_TOL x the photo's, with tuning.socket_lift 0.85 (off by default). Main (tuning.socket_lift
 * -1, printed beside) fails it: ffhq_0130 at
 * strong draw 4 has its sockets at 0.755 x the photo's (branch 0.870); ffhq_0128 and 0144 pass either way (their
 * sockets lighter than the photo's) and guard the other faces. */
static void test_strong_sockets_not_dark(void **state) {
    (void)state;
    const float SOCKET_TOL = 0.82f;
    /* the faces and seeds of their strong draws in the 300 FFHQ run (eval_anon: seed 1 + 7919 x the index) */
    static const char *photos[] = {"ffhq/ffhq_0130.jpg", "ffhq/ffhq_0128.jpg", "ffhq/ffhq_0144.jpg"};
    static const uint64_t seeds[] = {1 + 7919 * 65, 1 + 7919 * 64, 1 + 7919 * 72};
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *on = attack_env_anon(&e, (mf_anon_tuning){.socket_lift = 0.85f}); /* the measured floor (default off) */
    mf_anon_t *off = attack_env_anon(&e, (mf_anon_tuning){.socket_lift = -1});
    int checked = 0;
    for (size_t p = 0; p < sizeof photos / sizeof *photos; p++) {
        mf_img img;
        int n;
        mf_face *faces = data_photo_faces(e.priv, photos[p], &img, &n);
        if (!faces) continue;
        int k = largest_meshed_face(faces, n);
        if (k >= 0) {
            float d0 = socket_depth(&img, &faces[k]), d[2];
            int drawn[2], tries[2];
            for (int v = 0; v < 2; v++) {
                mf_img res = copy_of(&img);
                mf_anon_result r;
                assert_int_equal(mf_anon_face(v ? off : on, &res, &faces[k], MF_ANON_SYNTH, seeds[p], NULL, &r), MF_OK);
                drawn[v] = r.method == MF_ANON_SYNTH && r.strong, tries[v] = r.tries;
                d[v] = socket_depth(&res, &faces[k]);
                mf_img_free(&res);
            }
            printf("  %s: sockets / skin: photo %.3f, result %.3f (x%.3f, draw %d%s); socket_lift -1: %.3f (x%.3f, draw "
                   "%d%s)\n",
                   photos[p], d0, d[0], d[0] / d0, tries[0], drawn[0] ? "" : ", filter", d[1], d[1] / d0, tries[1],
                   drawn[1] ? "" : ", filter");
            if (drawn[0]) {
                checked++;
                assert_true(d[0] >= SOCKET_TOL * d0);
            }
        }
        free(faces);
        mf_img_free(&img);
    }
    mf_anon_free(on), mf_anon_free(off);
    attack_env_close(&e);
    if (!checked) skip();
}

/* (lens35) Mean absolute luminance difference of a and b over patches (0.02 face sizes) at the face's lids, eye
 * corners, under the eyes and at the brows (mesh points of f). */
static float eye_zone_change_at(const mf_img *a, const mf_img *b, const mf_face *f, const int *pts, int np) {
    float side = fmaxf(f->lm.box.w, f->lm.box.h);
    int rad = (int)(0.02f * side) + 1;
    double d = 0, n = 0;
    for (int i = 0; i < np; i++) {
        int cx = (int)f->lm.pt[pts[i]][0], cy = (int)f->lm.pt[pts[i]][1];
        for (int y = cy - rad; y <= cy + rad; y++)
            for (int x = cx - rad; x <= cx + rad; x++) {
                if (x < 0 || y < 0 || x >= a->w || y >= a->h) continue;
                const uint8_t *p = a->data + ((size_t)y * a->w + x) * 3, *q = b->data + ((size_t)y * b->w + x) * 3;
                d += fabs((0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) - (0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2]));
                n++;
            }
    }
    return n > 0 ? (float)(d / n) : 0;
}
static float eye_zone_change(const mf_img *a, const mf_img *b, const mf_face *f) {
    static const int pts[14] = {159, 145, 33, 133, 230, 105, 66, 386, 374, 263, 362, 450, 334, 296};
    return eye_zone_change_at(a, b, f, pts, 14);
}
/* (lens37) ... at the lids and eye corners only (what the sunglasses test keeps; the brows change with the draw) */
static float lid_change(const mf_img *a, const mf_img *b, const mf_face *f) {
    static const int pts[8] = {159, 145, 33, 133, 386, 374, 263, 362};
    return eye_zone_change_at(a, b, f, pts, 8);
}

/* (lens35, lens37) One look of the sunglasses test checked on photos: the first n_eyes show eyes that the look with
 * tuning `off` (the test before it) took for lenses; their eye region (`change`: eye_zone_change or lid_change)
 * changes by more than EYE_CHANGE levels and at least 1.5x what `off` leaves there; the others are behind real
 * sunglasses: the same picture either way. Skips when no photo could be checked. */
static void lens_look_check(const char *const *photos, int np, int n_eyes, mf_anon_tuning off_tu,
                            float (*change)(const mf_img *, const mf_img *, const mf_face *), const char *what) {
    const float EYE_CHANGE = 8;
    attack_env e;
    attack_env_need(&e);
    /* both without adet46's detail scaling (on since stop 46): it changes which draws these faces publish, and the
     * photos were chosen for the draws the lens test decided before it (ffhq_0280's eye zone with the test before
     * stop 35 changed by 70.8 levels with it, against 83.7 with the test: the published draw no longer kept the zone),
     * and likewise without brow48's brow clamp (on since stop 48): with it ffhq_0280's first draws change and it ends
     * as a synthetic fallback whose eye zone changes by 69.1 levels, against 47.7 with the test before stop 35 (1.45x;
     * 85.6 against 46.5 without it) */
    mf_anon_t *on = attack_env_anon(&e, (mf_anon_tuning){.age_detail = -1, .brow_dark = -1});
    off_tu.age_detail = -1, off_tu.brow_dark = -1;
    mf_anon_t *off = attack_env_anon(&e, off_tu);
    int checked = 0;
    for (int p = 0; p < np; p++) {
        mf_img img;
        int n;
        mf_face *faces = data_photo_faces(e.priv, photos[p], &img, &n);
        if (!faces) continue;
        int k = largest_meshed_face(faces, n);
        if (k >= 0) {
            mf_img res[2];
            mf_anon_result r[2];
            for (int v = 0; v < 2; v++) {
                res[v] = copy_of(&img);
                assert_int_equal(mf_anon_face(v ? off : on, &res[v], &faces[k], MF_ANON_SYNTH, 1, NULL, &r[v]), MF_OK);
            }
            float ch[2] = {change(&img, &res[0], &faces[k]), change(&img, &res[1], &faces[k])};
            int same = res[0].w == res[1].w && !memcmp(res[0].data, res[1].data, (size_t)img.w * img.h * 3);
            printf("  %s: %s change %.1f levels (method %d, draws '%s'); before: %.1f (method %d, draws '%s')%s\n",
                   photos[p], what, ch[0], r[0].method, r[0].draws, ch[1], r[1].method, r[1].draws,
                   same ? "; the same picture" : "");
            int drawn = r[0].method == MF_ANON_SYNTH && r[1].method == MF_ANON_SYNTH;
            if (p < n_eyes && drawn) {
                assert_true(ch[0] > EYE_CHANGE);
                assert_true(ch[0] >= 1.5f * ch[1]);
                checked++;
            } else if (p >= n_eyes) {
                assert_true(same);
                checked++;
            }
            mf_img_free(&res[0]), mf_img_free(&res[1]);
        }
        free(faces);
        mf_img_free(&img);
    }
    mf_anon_free(on), mf_anon_free(off);
    attack_env_close(&e);
    if (!checked) skip();
}

/* (lens35) The sunglasses test looks for eye whites: ffhq_0280 (heavy black eyeliner: its lids read 0.31 skin, under
 * the first look's 0.45) was taken for a face behind lenses, and its whole eye zone at the original's position was
 * kept in front of the new face (the original's eyes and make-up published, "doubled eyes"). With the second look
 * (default) its openings' bright tenth (0.62 x the skin) shows eyes, and the zone is redrawn: the eye zone changes by
 * more than EYE_CHANGE levels and at least 1.5x what tuning.lens_bright and lens_ring -1 (the test before stop 35)
 * leaves there (printed).
 * ffhq_0062 and ffhq_0168 are behind real sunglasses (lids 0.08 skin; a bright tenth of 0.24): the same picture
 * either way. */
static void test_lens_test_sees_eyes(void **state) {
    (void)state;
    static const char *const photos[] = {"ffhq/ffhq_0280.jpg", "ffhq/ffhq_0062.jpg", "ffhq/ffhq_0168.jpg"};
    lens_look_check(photos, 3, 1, (mf_anon_tuning){.lens_bright = -1, .lens_ring = -1}, eye_zone_change, "eye zone");
}

/* (lens37) The sunglasses test's third look, the ring of skin around the lids: Alberto_Acosta_0001 and
 * Anderson_Varejao_0001 (dark eyes in low light: lids 0.22 and 0.44 skin, bright tenths 0.30 and 0.25, under
 * lens_bright's 0.35) were taken for faces behind lenses and their eyes published; the skin around their lids (0.55
 * and 0.70, over LENS_RING's 0.5) shows eyes, and the zone is redrawn: the lids and eye corners change by more than
 * EYE_CHANGE levels and at least 1.5x what tuning.lens_ring -1 (stop 36's test) leaves there (printed; 46 against 26
 * and 25 against 7 levels when written). ffhq_0010 and
 * Andre_Bucher_0001 are behind dark sunglasses that pass the first two looks (lids 0.21 and 0.42 skin, bright tenths
 * 0.21 and 0.24) with little skin around the lids (0.41 and 0.37): the same picture either way. */
static void test_lens_ring_sees_eyes(void **state) {
    (void)state;
    static const char *const photos[] = {"lfw/Alberto_Acosta/Alberto_Acosta_0001.jpg",
                                         "lfw/Anderson_Varejao/Anderson_Varejao_0001.jpg", "ffhq/ffhq_0010.jpg",
                                         "lfw/Andre_Bucher/Andre_Bucher_0001.jpg"};
    lens_look_check(photos, 4, 2, (mf_anon_tuning){.lens_ring = -1}, lid_change, "lid");
}

/* (mouth30) A drawn face keeps the target's mouth: a pouting LFW face (Abel_Aguilar_0001: a small open mouth), as
 * `mfmc anonymize --seed 1` anonymizes it (privacy analysis, the plain analyser for the checks), re-analysed by the
 * privacy analyser: its mouth width (over the eye distance, mf_face_mouth_shape) grows by at most WIDTH_TOL and its
 * corners rise by at most CORNER_TOL mouth widths. Main (tuning.lips_whole -1: the lips' middle rings took the drawn
 * deltas, 1.6x on the strong rung that publishes this face) turned the pout into a wide red grin: width 0.46 -> 0.66
 * (+42 %), corners 0.11 mouth widths up (eval_anon); printed here for both. */
static void test_drawn_mouth_keeps_shape(void **state) {
    (void)state;
    /* (pale34) CORNER_TOL 0.09 -> 0.10: with tone_match (the strong face's skin in the photo's tone, same draw and
     * shape) the re-analysed corners rise 0.093 mouth widths, main's 0.088; lips_whole -1 reads 0.089-0.092 on this
     * face, so the width bound, not the corners', is what tells the loose lips here (0.663-0.669 > 0.612).
     * (age41) CORNER_TOL 0.10 -> 0.11: with the age asked of the model stretched (22 -> 17.6 y here) the same 4th
     * draw is published with slightly different codes; its re-analysed corners rise 0.103 (width 0.464 -> 0.452),
     * the picture the same as main's to the eye (/tmp/lead41/abel.png at stop 41); the grin is told by its width */
    const float WIDTH_TOL = 0.32f, CORNER_TOL = 0.11f;
    static const char *photos[] = {"lfw/Abel_Aguilar/Abel_Aguilar_0001.jpg"};
    attack_env e;
    attack_env_need(&e);
    mf_anon_t *loose = attack_env_anon(&e, (mf_anon_tuning){.lips_whole = -1});
    int checked = 0;
    for (size_t p = 0; p < sizeof photos / sizeof *photos; p++) {
        mf_img img;
        int n;
        mf_face *faces = data_photo_faces(e.priv, photos[p], &img, &n);
        if (!faces) continue;
        for (int k = 0; k < n; k++) {
            if (!faces[k].has_landmarks) continue;
            float w0, c0, w[2] = {0, 0}, c[2] = {0, 0};
            int synth[2] = {0, 0};
            mf_face_mouth_shape(&faces[k].lm, &w0, &c0);
            for (int v = 0; v < 2; v++) {
                mf_img res = copy_of(&img);
                mf_anon_result r;
                assert_int_equal(mf_anon_face(v ? loose : e.a, &res, &faces[k], MF_ANON_SYNTH, 1, NULL, &r), MF_OK);
                synth[v] = r.method == MF_ANON_SYNTH;
                int na;
                mf_face *after = analyzed_faces(e.priv, &res, &na);
                float best = 1e9f, cx = faces[k].lm.box.x + faces[k].lm.box.w / 2, cy = faces[k].lm.box.y + faces[k].lm.box.h / 2;
                for (int i = 0; i < na; i++) {
                    float d = hypotf(after[i].lm.box.x + after[i].lm.box.w / 2 - cx, after[i].lm.box.y + after[i].lm.box.h / 2 - cy);
                    if (after[i].has_landmarks && d < best && d < 0.35f * faces[k].lm.box.w)
                        best = d, mf_face_mouth_shape(&after[i].lm, &w[v], &c[v]);
                }
                free(after);
                mf_img_free(&res);
            }
            printf("  %s face %d: mouth width %.3f -> %.3f (lips_whole -1: %.3f), corner %.3f -> %.3f (%.3f); %s\n",
                   photos[p], k, w0, w[0], w[1], c0, c[0], c[1], synth[0] ? "synthetic" : "filter");
            if (!synth[0]) continue;
            checked++;
            assert_true(w[0] > 0 && w[0] <= (1 + WIDTH_TOL) * w0);
            assert_true(c[0] - c0 <= CORNER_TOL);
        }
        free(faces);
        mf_img_free(&img);
    }
    mf_anon_free(loose);
    attack_env_close(&e);
    if (!checked) skip();
}

/* (turn20) Turned faces keep their pose: every face of two turned LFW photos (Charles_Mathews_0002: two men at 46
 * degrees of yaw; Gary_Bald_0001: 41 degrees by the set's truth), analysed and anonymized as `mfmc anonymize` does
 * (privacy analysis, the plain analyser for the checks), seeds 1 and 2: a face published as accepted is re-detected
 * within POSE_TOL degrees of yaw and pitch of the original's (the pose check's measured tolerance, set here: the
 * check is off by default since the lead's review, POSE_TOLERANCE in src/anon/anon.c), and a synthetic fallback published off by more names the pose in its note. Main (no pose check)
 * fails it: the second man, seed 1, was published as the synthetic fallback at 47.3 -> 18.9 degrees of yaw (pitch
 * 0.3 -> -12.0), its note naming only the age (the branch publishes the same draw, no draw of the 9 keeping the pose,
 * and names the pose). */
static void test_turned_face_keeps_pose(void **state) {
    (void)state;
    enum { POSE_TOL = 10 };
    static const char *photos[] = {"lfw/Charles_Mathews/Charles_Mathews_0002.jpg", "lfw/Gary_Bald/Gary_Bald_0001.jpg"};
    attack_env e;
    attack_env_need(&e);
    mf_anon_free(e.a); /* the pose check on (off by default) */
    e.a = attack_env_anon(&e, (mf_anon_tuning){.pose_tolerance = POSE_TOL});
    int checked = 0, published = 0;
    for (size_t p = 0; p < sizeof photos / sizeof *photos; p++) {
        mf_img img;
        int n;
        mf_face *faces = data_photo_faces(e.priv, photos[p], &img, &n);
        if (!faces) continue;
        for (int k = 0; k < n; k++) {
            if (!faces[k].has_landmarks || fabsf(faces[k].lm.yaw) < 20) continue;
            checked++;
            for (uint64_t seed = 1; seed <= 2; seed++) {
                mf_img res = copy_of(&img);
                mf_anon_result r;
                assert_int_equal(mf_anon_face(e.a, &res, &faces[k], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
                float dy = fabsf(r.yaw_after - faces[k].lm.yaw), dp = fabsf(r.pitch_after - faces[k].lm.pitch);
                printf("  %s face %d seed %d: decision %d method %d tries %d yaw %.1f -> %.1f pitch %.1f -> %.1f note '%s'\n",
                       photos[p], k, (int)seed, r.decision, r.method, r.tries, faces[k].lm.yaw, r.yaw_after,
                       faces[k].lm.pitch, r.pitch_after, r.note);
                assert_true(face_change(&img, &res, &faces[k]) > 3);
                if (r.decision == MF_ANON_ACCEPTED) {
                    published++;
                    assert_true(r.detected_after);
                    assert_true(dy <= POSE_TOL);
                    assert_true(dp <= POSE_TOL);
                } else if (r.method == MF_ANON_SYNTH && (dy > POSE_TOL || dp > POSE_TOL))
                    assert_non_null(strstr(r.note, "pose"));
                mf_img_free(&res);
            }
        }
        free(faces);
        mf_img_free(&img);
    }
    attack_env_close(&e);
    printf("  %d turned faces, %d draws published as accepted\n", checked, published);
    if (!checked) skip();
}

/* (grey22) The photo's colour character: the changed pixels of a face box, their mean chroma magnitude
 * (sqrt(Cb^2 + Cr^2), levels) in *mean and the share of them over 4 levels in *over (ANON against ORIG: a pixel
 * counts when a channel moved by more than 8 levels). Returns how many counted. */
static long chroma_of_change(const mf_img *orig, const mf_img *anon, const mf_face *f, double *mean, double *over) {
    const mf_face_box *bx = &f->lm.box;
    long n = 0, hi = 0;
    double sum = 0;
    for (int y = (int)fmaxf(0, bx->y); y < (int)fminf(orig->h, bx->y + bx->h); y++)
        for (int x = (int)fmaxf(0, bx->x); x < (int)fminf(orig->w, bx->x + bx->w); x++) {
            const uint8_t *p = orig->data + ((size_t)y * orig->w + x) * 3, *q = anon->data + ((size_t)y * orig->w + x) * 3;
            if (abs(p[0] - q[0]) <= 8 && abs(p[1] - q[1]) <= 8 && abs(p[2] - q[2]) <= 8) continue;
            double cb = -0.168736 * q[0] - 0.331264 * q[1] + 0.5 * q[2], cr = 0.5 * q[0] - 0.418688 * q[1] - 0.081312 * q[2];
            double c = sqrt(cb * cb + cr * cr);
            sum += c, hi += c > 4, n++;
        }
    *mean = n ? sum / n : 0, *over = n ? (double)hi / n : 0;
    return n;
}

/* (grey22) The sepia tone of the test (chroma -14 t, 10 t, t = 4 u (1 - u), u the luminance / 255): how far the
 * changed pixels of a face box (as chroma_of_change) are from it in the result, root mean square over Cb and Cr
 * (levels). */
static double sepia_off_tone(const mf_img *orig, const mf_img *anon, const mf_face *f) {
    const mf_face_box *bx = &f->lm.box;
    double e = 0;
    long n = 0;
    for (int y = (int)fmaxf(0, bx->y); y < (int)fminf(orig->h, bx->y + bx->h); y++)
        for (int x = (int)fmaxf(0, bx->x); x < (int)fminf(orig->w, bx->x + bx->w); x++) {
            const uint8_t *p = orig->data + ((size_t)y * orig->w + x) * 3, *q = anon->data + ((size_t)y * orig->w + x) * 3;
            if (abs(p[0] - q[0]) <= 8 && abs(p[1] - q[1]) <= 8 && abs(p[2] - q[2]) <= 8) continue;
            double u = (0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2]) / 255, t = 4 * u * (1 - u);
            double cb = -0.168736 * q[0] - 0.331264 * q[1] + 0.5 * q[2], cr = 0.5 * q[0] - 0.418688 * q[1] - 0.081312 * q[2];
            e += (cb + 14 * t) * (cb + 14 * t) + (cr - 10 * t) * (cr - 10 * t), n++;
        }
    return n ? sqrt(e / (2.0 * n)) : 0;
}

/* (grey22) A black-and-white photo gets a grey face: the photo's luminance in all three channels, the replaced
 * face's changed pixels have a mean chroma under 1 level and under 1 % of them over 4 levels (main: the model
 * texture's colour detail stayed, 2-5 levels mean on grey LFW and demo faces, reddish lips, bluish skin patches);
 * with tuning.chroma_match -1 (main's rendering) the same draw is measured coloured, so the measure can fail. The
 * colour photo's face is left exactly as main rendered it (bit-identical to chroma_match -1). */
static void test_grey_photo_grey_face(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool, .max_tries = 9};
    mf_anon_t *on, *off;
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    o.tuning.chroma_match = -1;
    assert_int_equal(mf_anon_create(&o, &off), MF_OK);
    mf_img grey = copy_of(&f->img);
    for (size_t i = 0; i < (size_t)grey.w * grey.h; i++) {
        uint8_t *p = grey.data + 3 * i;
        int y = (int)lrint(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]);
        p[0] = p[1] = p[2] = (uint8_t)(y > 255 ? 255 : y);
    }
    double mean[2], over[2];
    long n[2];
    /* (mouth30) the first seed from 2 drawn (not the filter) with and without the chroma match: mouth30's whole lips
     * changed seed 2's draws, all 9 failed arcface with the match on */
    uint64_t seed = 2;
    for (; seed < 6; seed++) {
        int drawn = 0;
        for (int k = 0; k < 2; k++) {
            mf_img a = copy_of(&grey);
            mf_anon_result r;
            assert_int_equal(mf_anon_face(k ? off : on, &a, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
            drawn += r.method == MF_ANON_SYNTH;
            mf_img_free(&a);
        }
        if (drawn == 2) break;
    }
    for (int k = 0; k < 2; k++) {
        mf_img a = copy_of(&grey);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(k ? off : on, &a, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
        n[k] = chroma_of_change(&grey, &a, &f->faces[0], &mean[k], &over[k]);
        printf("  grey photo, chroma match %s: decision %d method %d tries %d, %ld px changed, mean chroma %.2f, "
               "%.1f %% over 4 levels; '%s'\n", k ? "off" : "on", r.decision, r.method, r.tries, n[k], mean[k], 100 * over[k],
               r.note);
        assert_int_equal(r.method, MF_ANON_SYNTH); /* a rendered face, not the filter */
        assert_true(n[k] > 1000);
        mf_img_free(&a);
    }
    assert_true(mean[0] < 1.0 && over[0] < 0.01); /* grey */
    assert_true(mean[1] > 1.5 && over[1] > 0.1);  /* main's rendering: coloured */
    /* a sepia photo (the luminance, then a warm tone strongest in the mid-tones): the face's chroma spread stays
     * within 1.5 levels of the photo's over the same pixels (main's rendering: reddish lips, cyan patches, over) */
    mf_img sep = copy_of(&grey);
    for (size_t i = 0; i < (size_t)sep.w * sep.h; i++) {
        uint8_t *p = sep.data + 3 * i;
        double y = p[0], u = y / 255, t = 4 * u * (1 - u), cb = -14 * t, cr = 10 * t;
        double rgb[3] = {y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb};
        for (int k = 0; k < 3; k++) p[k] = (uint8_t)lrint(rgb[k] < 0 ? 0 : rgb[k] > 255 ? 255 : rgb[k]);
    }
    double ex[2];
    for (int k = 0; k < 2; k++) {
        mf_img a = copy_of(&sep);
        mf_anon_result r;
        assert_int_equal(mf_anon_face(k ? off : on, &a, &f->faces[0], MF_ANON_SYNTH, 2, NULL, &r), MF_OK);
        ex[k] = sepia_off_tone(&sep, &a, &f->faces[0]);
        printf("  sepia photo, chroma match %s: decision %d method %d tries %d, %.2f levels off the photo's tone\n",
               k ? "off" : "on", r.decision, r.method, r.tries, ex[k]);
        assert_int_equal(r.method, MF_ANON_SYNTH);
        mf_img_free(&a);
    }
    assert_true(ex[0] < 1.5); /* the photo's tone */
    assert_true(ex[1] > 1.5); /* main's rendering: coloured */
    mf_img_free(&sep);
    /* the colour photo: its face keeps its colour, as main drew it */
    mf_img a = copy_of(&f->img), b = copy_of(&f->img);
    mf_anon_result ra, rb;
    assert_int_equal(mf_anon_face(on, &a, &f->faces[0], MF_ANON_SYNTH, 2, NULL, &ra), MF_OK);
    assert_int_equal(mf_anon_face(off, &b, &f->faces[0], MF_ANON_SYNTH, 2, NULL, &rb), MF_OK);
    double cm, co;
    chroma_of_change(&f->img, &a, &f->faces[0], &cm, &co);
    printf("  colour photo: mean chroma of the changed pixels %.2f, %.1f %% over 4 levels\n", cm, 100 * co);
    assert_true(cm > 5);
    assert_memory_equal(a.data, b.data, (size_t)a.w * a.h * 3);
    mf_img_free(&a), mf_img_free(&b), mf_img_free(&grey);
    mf_anon_free(on), mf_anon_free(off);
}

/* (turn20) The pose check rejects like any failed check: Charles_Mathews_0002's second man (47 degrees of yaw), seed
 * 1, of whose 9 draws at least one removes the identity (the default publishes one as the synthetic fallback,
 * test_turned_face_keeps_pose), with a tolerance of 0.01 degrees: no draw keeps the pose, so the face is not
 * accepted; an identity-removing draw becomes the synthetic fallback and its note names the pose (a face without one
 * would get the filter: privacy fails closed). */
static void test_pose_check_rejects(void **state) {
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/lfw/Charles_Mathews/Charles_Mathews_0002.jpg", tu_data_dir());
    if (!tu_exists(MODEL) || !tu_exists(path)) {
        printf("  skipped: identity model or photo absent\n");
        skip();
    }
    attack_env e;
    attack_env_open(&e);
    mf_anon_t *a2 = attack_env_anon(&e, (mf_anon_tuning){.pose_tolerance = 0.01f});
    mf_img img;
    assert_int_equal(mf_img_load(path, NULL, &img, NULL), MF_OK);
    const mf_face *found;
    int n, big = -1;
    assert_int_equal(mf_face_analyze_all(e.priv, &img, &found, &n), MF_OK);
    for (int k = 0; k < n; k++)
        if (found[k].has_landmarks && (big < 0 || found[k].lm.box.w > found[big].lm.box.w)) big = k;
    assert_true(big >= 0);
    mf_face face = found[big];
    mf_img res;
    mf_anon_result r;
    /* (mouth30) the first seed from 1 whose draws removed the identity at all (mouth30's whole lips changed seed 1's
     * draws: all 9 failed the attacker's square, the filter, no pose to check; with looks35's socket lift on
     * (tuning.socket_lift 0.85, off by default) seeds 1-4 are all filtered and seed 5 publishes, so up to 8 seeds;
     * without a synthetic one the test stops before reading the freed result) */
    for (uint64_t seed = 1; seed <= 8; seed++) {
        res = copy_of(&img);
        assert_int_equal(mf_anon_face(a2, &res, &face, MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
        printf("  seed %d: decision %d method %d tries %d yaw %.1f -> %.1f note '%s'\n", (int)seed, r.decision, r.method,
               r.tries, face.lm.yaw, r.yaw_after, r.note);
        if (r.method == MF_ANON_SYNTH) break;
        mf_img_free(&res);
    }
    assert_int_equal(r.decision, MF_ANON_FALLBACK);
    assert_int_equal(r.method, MF_ANON_SYNTH);
    assert_true(face_change(&img, &res, &face) > 3);
    assert_non_null(strstr(r.note, "pose"));
    mf_img_free(&res), mf_img_free(&img);
    mf_anon_free(a2);
    attack_env_close(&e);
}

/* (speed32) tuning.one_pass: faceapi in the guarantee without its mirror pass. The anonymizer's faceapi embeds
 * exactly as a faceapi session whose preprocessing has no mirror pass (one network run), not as the registry's
 * (the crop and its mirror), and is scored against the one pass's own thresholds, not the registry's; a face it
 * accepts is below them (the reported similarities are one-pass ones). Without the knob, the registry's
 * embedding and thresholds as before. On main there is no such knob: every anonymizer embeds two passes. */
static void test_one_pass_faceapi(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                      .max_tries = 3, .tuning = {.one_pass = 1}};
    mf_anon_t *on;
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    int fa = anon_rec_index(on, "faceapi");
    assert_true(fa >= 0);
    const mf_face_recognizer_info *reg = mf_anon_recognizer_info(f->a, fa), *one = mf_anon_recognizer_info(on, fa);
    assert_string_equal(reg->name, "faceapi");
    printf("  faceapi thresholds: two passes %.4f / %.4f, one pass %.4f / %.4f\n", reg->match_threshold,
           reg->dissimilarity_threshold, one->match_threshold, one->dissimilarity_threshold);
    assert_true(reg->dissimilarity_threshold > 0.9f && reg->dissimilarity_threshold < 0.91f); /* the registry's */
    assert_true(one->dissimilarity_threshold > 0.5f && one->dissimilarity_threshold < one->match_threshold);
    assert_true(one->dissimilarity_threshold != reg->dissimilarity_threshold);
    /* arcface untouched */
    for (int i = 0; i < mf_anon_recognizer_count(on); i++)
        if (i != fa) assert_true(mf_anon_recognizer_info(on, i) == mf_anon_recognizer_info(f->a, i));
    /* the embedding: one pass, bit for bit */
    mf_face_align_spec spec = *mf_face_recognizer_default_spec("faceapi");
    assert_int_equal(spec.flip, 1);
    spec.flip = 0;
    mf_face_recognizer_t *r1;
    assert_int_equal(mf_face_recognizer_create_spec(tu_models_dir(), "faceapi", &spec, NULL, &r1), MF_OK);
    float e_on[1024], e_off[1024], e_1[1024], p5[5][2];
    mf_face_5pt(&f->faces[0], p5);
    assert_int_equal(mf_anon_embed(on, fa, &f->img, &f->faces[0], e_on), MF_OK);
    assert_int_equal(mf_anon_embed(f->a, fa, &f->img, &f->faces[0], e_off), MF_OK);
    assert_int_equal(mf_face_recognizer_embed(r1, &f->img, (const float(*)[2])p5, e_1), MF_OK);
    assert_memory_equal(e_on, e_1, sizeof(float) * (size_t)reg->dim);
    assert_memory_not_equal(e_off, e_1, sizeof(float) * (size_t)reg->dim);
    /* a face accepted with the knob is below the one pass's threshold; the same face and seed on both threads and
     * without a pool publish the same */
    mf_anon_opts o1 = o;
    o1.pool = NULL;
    mf_anon_t *on1;
    assert_int_equal(mf_anon_create(&o1, &on1), MF_OK);
    mf_img x = copy_of(&f->img), y = copy_of(&f->img);
    mf_anon_result r, rr;
    assert_int_equal(mf_anon_face(on, &x, &f->faces[0], MF_ANON_SYNTH, 42, NULL, &r), MF_OK);
    assert_int_equal(mf_anon_face(on1, &y, &f->faces[0], MF_ANON_SYNTH, 42, NULL, &rr), MF_OK);
    printf("  one pass: decision %d draws %s faceapi %.4f\n", r.decision, r.draws, r.sim[fa]);
    assert_memory_equal(x.data, y.data, (size_t)x.w * x.h * 3);
    assert_string_equal(r.draws, rr.draws);
    if (r.decision == MF_ANON_ACCEPTED) assert_true(r.sim[fa] < one->dissimilarity_threshold);
    mf_img_free(&x), mf_img_free(&y);
    mf_face_recognizer_free(r1);
    mf_anon_free(on1);
    /* tuning.one_pass_dissim: a lower threshold is taken, a higher one (no margin below the procedure's) is not */
    const float want[2] = {0.89f, 0.95f};
    for (int k = 0; k < 2; k++) {
        mf_anon_opts o2 = o;
        o2.tuning.one_pass_dissim = want[k];
        mf_anon_t *m2;
        assert_int_equal(mf_anon_create(&o2, &m2), MF_OK);
        float got = mf_anon_recognizer_info(m2, fa)->dissimilarity_threshold;
        assert_true(k == 0 ? got == 0.89f : got == one->dissimilarity_threshold);
        mf_anon_free(m2);
    }
    mf_anon_free(on);
}

/* (judge34) tuning.judge: a third registry recognizer in this anonymizer's guarantee. Off (the fixture's
 * anonymizer), the ensemble is arcface and faceapi and the face is accepted; with mobilefacenet-tflite as judge it is
 * an ensemble member of that anonymizer only (the registry's flag unchanged), and with its threshold forced to -1
 * (no similarity is below it) every draw is refused by it ('J') and the face falls back, never a silent pass. A
 * higher threshold than the registry's is not taken; an unknown judge fails. On main there is no such knob (every
 * anonymizer's guarantee is the registry's two). */
static void test_extra_judge(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    const char *jn = "mobilefacenet-tflite";
    const mf_face_recognizer_info *reg = NULL;
    for (int i = 0; i < mf_face_recognizer_count(); i++)
        if (!strcmp(mf_face_recognizer_info_at(i)->name, jn)) reg = mf_face_recognizer_info_at(i);
    assert_non_null(reg);
    assert_int_equal(reg->ensemble, 0);
    assert_int_equal(mf_anon_recognizer_count(f->a), 2);
    mf_anon_result r;
    uint64_t seed = first_accepted_seed(f, f->a, "no judge", &r); /* the fixture's 3 draws accept it */
    assert_int_equal(r.decision, MF_ANON_ACCEPTED);
    assert_null(strchr(r.draws, 'J'));
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                      .max_tries = 3, .tuning = {.judge = jn}};
    mf_anon_t *on;
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    assert_int_equal(mf_anon_recognizer_count(on), 3);
    int ji = anon_rec_index(on, jn);
    assert_true(ji >= 0);
    assert_int_equal(mf_anon_recognizer_info(on, ji)->ensemble, 1);
    assert_true(mf_anon_recognizer_info(on, ji)->dissimilarity_threshold == reg->dissimilarity_threshold);
    assert_int_equal(reg->ensemble, 0); /* the registry is not changed */
    mf_img x = copy_of(&f->img);
    assert_int_equal(mf_anon_face(on, &x, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
    printf("  judge: decision %d draws %s judge %.3f\n", r.decision, r.draws, r.sim[ji]);
    if (r.decision == MF_ANON_ACCEPTED) assert_true(r.sim[ji] > -2 && r.sim[ji] < reg->dissimilarity_threshold);
    mf_img_free(&x);
    mf_anon_free(on);
    /* the impossible threshold: every draw refused by the judge, then the fallback */
    o.tuning.judge_dissim = -1;
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    assert_true(mf_anon_recognizer_info(on, ji)->dissimilarity_threshold == -1.0f);
    x = copy_of(&f->img);
    assert_int_equal(mf_anon_face(on, &x, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
    printf("  impossible judge: decision %d tries %d draws %s note '%s'\n", r.decision, r.tries, r.draws, r.note);
    assert_int_not_equal(r.decision, MF_ANON_ACCEPTED);
    assert_true(r.tries >= 3);
    assert_non_null(strchr(r.draws, 'J')); /* the draws arcface (screened first) let through */
    assert_null(strchr(r.draws, 'o'));
    assert_null(strchr(r.draws, 'm'));
    assert_true(face_change(&f->img, &x, &f->faces[0]) > 3);
    mf_img_free(&x);
    mf_anon_free(on);
    /* a threshold above the registry's is no margin: not taken */
    o.tuning.judge_dissim = 0.5f;
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    assert_true(mf_anon_recognizer_info(on, ji)->dissimilarity_threshold == reg->dissimilarity_threshold);
    mf_anon_free(on);
    /* an unknown judge: nothing made */
    o.tuning.judge = "no-such-recognizer";
    on = NULL;
    assert_int_equal(mf_anon_create(&o, &on), MF_ERR_ARG);
    assert_null(on);
}

/* (strict51) mf_anon_opts.strict: the strict privacy level is the expo MobileFaceNet in this anonymizer's guarantee
 * at MF_ANON_STRICT_DISSIM (0.05), an ensemble member of it only; a face it publishes reads under 0.05 to it (else the
 * face falls back: never a pass over it); tuning.judge_dissim, when set, is taken instead of 0.05, and a judge named
 * in the tuning replaces the strict one (an unknown name fails as before). Standard (0): the registry's two. */
static void test_strict_level(void **state) {
    fixture *f = *state;
    NEED_FIXTURE(f);
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = MODEL, .an = f->an, .pool = f->pool,
                      .max_tries = 3, .strict = 1};
    mf_anon_t *on = NULL;
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    assert_int_equal(mf_anon_recognizer_count(on), 3);
    int ji = anon_rec_index(on, MF_ANON_STRICT_JUDGE);
    assert_true(ji >= 0);
    assert_int_equal(mf_anon_recognizer_info(on, ji)->ensemble, 1);
    assert_true(mf_anon_recognizer_info(on, ji)->dissimilarity_threshold == MF_ANON_STRICT_DISSIM);
    /* the first seed from 42 whose face the same judge at its registry threshold publishes (test_extra_judge's
     * search), and how that draw reads to the judge */
    mf_anon_opts oj = o;
    oj.strict = 0, oj.tuning.judge = MF_ANON_STRICT_JUDGE;
    oj.tuning.lens_fill = -1; /* (lens53) the strict level's rendering: the fixture's eyes are taken for lenses */
    mf_anon_t *aj = NULL;
    assert_int_equal(mf_anon_create(&oj, &aj), MF_OK);
    mf_anon_result r, rj;
    uint64_t seed = first_accepted_seed(f, aj, "judge at its registry threshold", &rj);
    assert_int_equal(rj.decision, MF_ANON_ACCEPTED);
    mf_anon_free(aj);
    mf_img x = copy_of(&f->img);
    assert_int_equal(mf_anon_face(on, &x, &f->faces[0], MF_ANON_SYNTH, seed, NULL, &r), MF_OK);
    printf("  seed %d: registry threshold draws %s judge %.3f; strict: decision %d draws %s judge %.3f\n", (int)seed,
           rj.draws, rj.sim[ji], r.decision, r.draws, r.sim[ji]);
    if (r.decision == MF_ANON_ACCEPTED) assert_true(r.sim[ji] > -2 && r.sim[ji] < MF_ANON_STRICT_DISSIM);
    else assert_int_equal(r.decision, MF_ANON_FALLBACK);
    /* the same draws up to the one the registry threshold published: refused by the judge when it read 0.05 or more */
    size_t n0 = strlen(rj.draws);
    assert_true(strlen(r.draws) >= n0);
    assert_memory_equal(r.draws, rj.draws, n0 - 1);
    if (rj.sim[ji] >= MF_ANON_STRICT_DISSIM) assert_true(r.draws[n0 - 1] == 'J');
    else assert_true(r.draws[n0 - 1] == rj.draws[n0 - 1]);
    assert_true(face_change(&f->img, &x, &f->faces[0]) > 3);
    mf_img_free(&x);
    mf_anon_free(on);
    o.tuning.judge_dissim = 0.2f; /* the tuning's threshold taken instead */
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    assert_true(mf_anon_recognizer_info(on, ji)->dissimilarity_threshold == 0.2f);
    mf_anon_free(on);
    o.tuning.judge_dissim = 0, o.tuning.judge = "no-such-recognizer"; /* the tuning's judge replaces the strict one */
    on = NULL;
    assert_int_equal(mf_anon_create(&o, &on), MF_ERR_ARG);
    assert_null(on);
    o.tuning.judge = NULL, o.strict = 0; /* standard: the registry's two */
    assert_int_equal(mf_anon_create(&o, &on), MF_OK);
    assert_int_equal(mf_anon_recognizer_count(on), 2);
    mf_anon_free(on);
}

int main(void) {
    /* TEST_FILTER=PATTERN runs only the tests whose names match (cmocka's pattern: * and ?) */
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warp_no_sawtooth),
        cmocka_unit_test(test_warp_loop_dense),
        cmocka_unit_test(test_rel_chroma),
        cmocka_unit_test(test_chroma_clamp),
        cmocka_unit_test(test_chroma_clamp_face),
        cmocka_unit_test(test_forehead_seam),
        cmocka_unit_test(test_lens_fill),
        cmocka_unit_test(test_lens_fill_face),
        cmocka_unit_test(test_model_file),
        cmocka_unit_test(test_detail_ages),
        cmocka_unit_test(test_clean_texels),
        cmocka_unit_test(test_forehead_band),
        cmocka_unit_test(test_feature_hold),
        cmocka_unit_test(test_feature_dark),
        cmocka_unit_test(test_feature_pick),
        cmocka_unit_test(test_detail_beard_face),
        cmocka_unit_test(test_philtrum_floor_face),
        cmocka_unit_test(test_brow_clamp),
        cmocka_unit_test(test_changed_and_reproducible),
        cmocka_unit_test(test_guarantee_at_other_alignments),
        cmocka_unit_test(test_two_threads_same_result),
        cmocka_unit_test(test_filter_check_two_threads_same_result),
        cmocka_unit_test(test_forced_similar_falls_back),
        cmocka_unit_test(test_synthetic_fallback),
        cmocka_unit_test(test_child_fallback_not_adult),
        cmocka_unit_test(test_child_thresholds),
        cmocka_unit_test(test_child_no_strong),
        cmocka_unit_test(test_sh_chroma_face),
        cmocka_unit_test(test_last_rung_after_failed_ladder),
        cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_donor_most_dissimilar),
        cmocka_unit_test(test_ladder_identity_first),
        cmocka_unit_test(test_tone_codes_bound),
        cmocka_unit_test(test_light_codes_kept),
        cmocka_unit_test(test_push_metric),
        cmocka_unit_test(test_train_metric),
        cmocka_unit_test(test_shade_follows_geometry),
        cmocka_unit_test(test_sh_light_model),
        cmocka_unit_test(test_sh_chroma),
        cmocka_unit_test(test_eye_opening_softened),
        cmocka_unit_test(test_skin_spots),
        cmocka_unit_test(test_eye_darkened_by_model),
        cmocka_unit_test(test_eye_lid_not_kept),
        cmocka_unit_test(test_eye_uv_whole_eye),
        cmocka_unit_test(test_shape_sym),
        cmocka_unit_test(test_age_ask),
        cmocka_unit_test(test_flat_rungs_checked),
        cmocka_unit_test(test_mesh_beside_the_face_not_rendered),
        cmocka_unit_test(test_mesh_off_detection_refitted),
        cmocka_unit_test(test_duplicate_over_replaced_face_covered),
        cmocka_unit_test(test_duplicate_check_fails_closed),
        cmocka_unit_test(test_no_mesh_refitted),
        cmocka_unit_test(test_draws_unlinked),
        cmocka_unit_test(test_strong_rung_natural),
        cmocka_unit_test(test_leap_to_strong_rung),
        cmocka_unit_test(test_strong_rung_tuning),
        cmocka_unit_test(test_attack_square_builder),
        cmocka_unit_test(test_upright_check),
        cmocka_unit_test(test_cut_face_attacker_square),
        cmocka_unit_test(test_turned_face_attacker_square),
        cmocka_unit_test(test_cut_face_guarantee_in_square),
        cmocka_unit_test(test_attack_check_two_threads_same_result),
        cmocka_unit_test(test_turned_face_keeps_pose),
        cmocka_unit_test(test_extra_judge),
        cmocka_unit_test(test_strict_level),
        cmocka_unit_test(test_pose_check_rejects),
        cmocka_unit_test(test_turned_face_no_glow),
        cmocka_unit_test(test_drawn_mouth_keeps_shape),
        cmocka_unit_test(test_strong_tone_matches_photo),
        cmocka_unit_test(test_strong_contrast_redraws),
        cmocka_unit_test(test_age_soft_redraws),
        cmocka_unit_test(test_age_read_options),
        cmocka_unit_test(test_strong_sockets_not_dark),
        cmocka_unit_test(test_lens_test_sees_eyes),
        cmocka_unit_test(test_lens_ring_sees_eyes),
        cmocka_unit_test(test_grey_photo_grey_face),
        cmocka_unit_test(test_jitter_skip),
        cmocka_unit_test(test_one_pass_faceapi),
        cmocka_unit_test(test_gallery_margin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
