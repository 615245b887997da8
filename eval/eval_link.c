/* Linkability of anonymized faces across photos (docs/anonymization.md, "Linkability across photos"). The issue's
 * default mode promises "a fresh random identity per face per run (unlinkable across photos)". This measures it:
 * for N LFW people with at least two photos, photo 1 and photo 2 are anonymized in separate runs (different seeds),
 * and the two synthetic faces are compared with every recognizer:
 *   link rate      the two anonymized faces of one person score at or above the recognizer's match threshold
 *                  (an album, or an attacker who anonymizes a known photo of a suspect with mfmc and compares it with
 *                  published anonymized photos, would link them);
 *   false links    the same for anonymized faces of two different people (all pairs i != j), the rate the link rate
 *                  must be compared with;
 *   link ident.    the nearest of the N anonymized photo-1 faces to an anonymized photo-2 face is the same person's
 *                  (chance 1 / N);
 * and, for reference, the same for the original photos (genuine pairs) and the cross pairs (anonymized photo 1
 * against original photo 2: the usual re-identification).
 * usage: eval_link [--n N] [--every K] [--seed S] [--tries N] [--away F] [--ladder 1] [--unlinked 0|1|2] [--target-unlit 1] [--hard-from N] [--eyes 1|-1]
 *                  [--shade F] [--jaw F] [LFW_DIR]   (the mf_anon_tuning knobs of eval_anon)
 * LFW_DIR defaults to $MFMC_DATA/lfw (../shared/data/lfw); people are taken in name order, every K-th of those with
 * at least two photos (default K 7), until N (default 40). BENCH_VERBOSE=1 prints each person's similarities. */
#include "mfmc/anon.h"
#include "evalutil.h"
#include "lib/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXF = 64, MAXP = 1000, NREC = 5 };
static const char *rec_names[NREC] = {"arcface", "faceapi", "faceres", "faceres-deep", "mobileface"};

static void usage(FILE *f) {
    fprintf(f, "usage: eval_link [--n N] [--every K] [--seed S] [--tries N] [--away F] [--ladder 1] [--unlinked 0|1|2]\n"
               "                 [--target-unlit 1] [--hard-from N]\n"
               "                 [--eyes 1|-1] [--shade F] [--jaw F] [LFW_DIR]\n"
               "  anonymizes photo 1 and photo 2 of N LFW people in separate runs and measures how often the two\n"
               "  synthetic faces of one person are linked by each recognizer (docs/anonymization.md)\n");
}

/* The central face of a photo, analysed; -1 when none. */
static int central(mf_face_analyzer_t *an, const mf_img *img, mf_face *faces, int *nf) {
    if (mf_face_analyze(an, img, faces, MAXF, nf) || *nf == 0) return -1;
    mf_face_box bx[MAXF];
    for (int k = 0; k < *nf; k++) bx[k] = faces[k].det;
    return tu_box_nearest_centre(bx, *nf, img->w, img->h, NULL);
}

typedef struct {
    mf_face_analyzer_t *an;
    mf_anon_t *A;
    mf_face_recognizer_t *rec[NREC];
    int dims[NREC];
} ctx;

/* Loads path, anonymizes its central face with seed, embeds original and result (the result at its re-detected
 * landmarks, else at the original's). Returns 0, or -1 when the photo has no face. */
static int one(ctx *c, const char *path, uint64_t seed, float **eo, float **ea, size_t slot, int *accepted, int *linkable) {
    mf_img img, res;
    mf_face faces[MAXF], after[MAXF];
    int nf = 0, na = 0;
    if (mf_img_load(path, NULL, &img, NULL)) {
        fprintf(stderr, "eval_link: %s: %s\n", path, mf_error_get()); /* never a silent skip */
        return -2;
    }
    int k = central(c->an, &img, faces, &nf);
    if (k < 0 || mf_img_init(&res, img.w, img.h, 3)) {
        mf_img_free(&img);
        return -1;
    }
    memcpy(res.data, img.data, (size_t)img.w * img.h * 3);
    mf_anon_result R;
    if (mf_anon_face(c->A, &res, &faces[k], MF_ANON_SYNTH, seed, NULL, &R)) {
        fprintf(stderr, "eval_link: %s: %s\n", path, mf_error_get());
        mf_img_free(&img), mf_img_free(&res);
        return -1;
    }
    *accepted = R.decision == MF_ANON_ACCEPTED;
    *linkable = R.linkable;
    float po[5][2], pa[5][2];
    mf_face_5pt(&faces[k], po);
    mf_face_analyze(c->an, &res, after, MAXF, &na);
    int bi = ev_face_found_again(after, na, faces[k].has_landmarks ? &faces[k].lm.box : &faces[k].det);
    if (bi >= 0) mf_face_5pt(&after[bi], pa);
    else memcpy(pa, po, sizeof pa);
    for (int r = 0; r < NREC; r++) {
        mf_face_recognizer_embed(c->rec[r], &img, po, eo[r] + slot * c->dims[r]);
        mf_face_recognizer_embed(c->rec[r], &res, pa, ea[r] + slot * c->dims[r]);
    }
    mf_img_free(&img), mf_img_free(&res);
    return 0;
}

int main(int argc, char **argv) {
    int nmax = 40, every = 7, tries = 0;
    unsigned long long seed0 = 1;
    mf_anon_tuning tu = {0};
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(s, "--n") && more) nmax = atoi(argv[++i]);
        else if (!strcmp(s, "--every") && more) every = atoi(argv[++i]);
        else if (!strcmp(s, "--seed") && more) seed0 = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(s, "--tries") && more) tries = atoi(argv[++i]);
        else if (!strcmp(s, "--away") && more) tu.away = (float)atof(argv[++i]);
        else if (!strcmp(s, "--ladder") && more) tu.ladder = atoi(argv[++i]);
        else if (!strcmp(s, "--hard-from") && more) tu.hard_from = atoi(argv[++i]);
        else if (!strcmp(s, "--unlinked") && more) tu.unlinked = atoi(argv[++i]);
        else if (!strcmp(s, "--target-unlit") && more) tu.target_unlit = atoi(argv[++i]);
        else if (!strcmp(s, "--eyes") && more) tu.keep_eyes = atoi(argv[++i]);
        else if (!strcmp(s, "--shade") && more) tu.shading_sigma = (float)atof(argv[++i]);
        else if (!strcmp(s, "--jaw") && more) tu.jaw_replace = (float)atof(argv[++i]);
        else if (s[0] == '-') {
            usage(stderr);
            return 2;
        } else dir = s;
    }
    if (nmax < 2 || nmax > MAXP || every < 1) {
        fprintf(stderr, "eval_link: --n must be 2..%d and --every at least 1\n", MAXP);
        return 2;
    }
    char lfw[4096];
    if (!dir) snprintf(lfw, sizeof lfw, "%s/lfw", ev_data_dir()), dir = lfw;
    int npeople;
    char **names = tu_list_dir(dir, &npeople);
    if (!names) {
        fprintf(stderr, "eval_link: cannot list %s\n", dir);
        return 2;
    }
    mf_nn_pool_t *pool = NULL;
    mf_nn_pool_create(2, &pool);
    ctx c = {0};
    mf_face_analyzer_opts ao = {.pool = pool};
    if (mf_face_analyzer_create(ev_models_dir(), &ao, &c.an)) ev_die("eval_link", "analyser");
    mf_anon_opts o = {.models_root = ev_models_dir(), .identity_model = "data/identity/synthetic-v1.mfid", .an = c.an,
                      .pool = pool, .tuning = tu, .max_tries = tries};
    if (mf_anon_create(&o, &c.A)) ev_die("eval_link", "anonymizer");
    float thr[NREC], *eo1[NREC], *eo2[NREC], *ea1[NREC], *ea2[NREC];
    for (int r = 0; r < NREC; r++) {
        if (mf_face_recognizer_create(ev_models_dir(), rec_names[r], pool, &c.rec[r])) ev_die("eval_link", rec_names[r]);
        thr[r] = mf_face_recognizer_info_of(c.rec[r])->match_threshold, c.dims[r] = mf_face_recognizer_info_of(c.rec[r])->dim;
        size_t sz = (size_t)nmax * c.dims[r];
        eo1[r] = calloc(sz, 4), eo2[r] = calloc(sz, 4), ea1[r] = calloc(sz, 4), ea2[r] = calloc(sz, 4);
        if (!eo1[r] || !eo2[r] || !ea1[r] || !ea2[r]) {
            fprintf(stderr, "eval_link: out of memory\n");
            return 3;
        }
    }
    int n = 0, seen = 0, acc = 0, linkable = 0, unreadable = 0;
    for (int p = 0; p < npeople && n < nmax; p++) {
        char pd[4096];
        if (snprintf(pd, sizeof pd, "%s/%s", dir, names[p]) >= (int)sizeof pd) continue;
        int nphotos;
        char **ph = tu_list_dir(pd, &nphotos);
        if (!ph) continue;
        if (nphotos >= 2 && seen++ % every == 0) {
            char a[8192], b[8192];
            if (snprintf(a, sizeof a, "%s/%s", pd, ph[0]) >= (int)sizeof a || snprintf(b, sizeof b, "%s/%s", pd, ph[1]) >= (int)sizeof b) {
                tu_names_free(ph, nphotos);
                continue;
            }
            int acc1 = 0, acc2 = 0, l1 = 0, l2 = 0;
            /* two runs: each photo with its own seed, as two separate `mfmc anonymize` runs would */
            int r1 = one(&c, a, seed0 + 2 * (uint64_t)n * 7919, eo1, ea1, (size_t)n, &acc1, &l1);
            int r2 = r1 ? r1 : one(&c, b, seed0 + (2 * (uint64_t)n + 1) * 7919, eo2, ea2, (size_t)n, &acc2, &l2);
            if (r1 == -2 || r2 == -2) unreadable++;
            if (!r1 && !r2) {
                acc += acc1 + acc2, linkable += l1 + l2;
                if (getenv("BENCH_VERBOSE")) {
                    fprintf(stderr, "%s:", names[p]);
                    for (int r = 0; r < NREC; r++)
                        fprintf(stderr, " %s o1-o2 %.3f a1-a2 %.3f a1-o2 %.3f", rec_names[r],
                                mf_face_similarity(eo1[r] + (size_t)n * c.dims[r], eo2[r] + (size_t)n * c.dims[r], c.dims[r]),
                                mf_face_similarity(ea1[r] + (size_t)n * c.dims[r], ea2[r] + (size_t)n * c.dims[r], c.dims[r]),
                                mf_face_similarity(ea1[r] + (size_t)n * c.dims[r], eo2[r] + (size_t)n * c.dims[r], c.dims[r]));
                    fprintf(stderr, "%s%s\n", acc1 ? "" : " (photo 1 fell back)", acc2 ? "" : " (photo 2 fell back)");
                }
                n++;
                if (n % 10 == 0) fprintf(stderr, "  %d people\n", n);
            }
        }
        tu_names_free(ph, nphotos);
    }
    printf("people %d (photo 1 and photo 2 each anonymized in its own run); accepted %d of %d faces, %d of them an "
           "anti-face draw (linkable)\n", n, acc, 2 * n, linkable);
    if (unreadable) {
        fprintf(stderr, "eval_link: %d photos could not be read (above): the figures are incomplete\n", unreadable);
        return 1;
    }
    printf("%-13s %10s | %-34s | %-34s | %s\n", "recognizer", "match thr", "originals: genuine / ident.",
           "anonymized: link rate / false links", "link ident. (chance)   anon 1 vs orig 2   mean sim a1-a2 / a1-aj");
    for (int r = 0; r < NREC; r++) {
        int d = c.dims[r], og = 0, oi = 0, al = 0, af = 0, ai = 0, cross = 0;
        long nimp = 0;
        double sg = 0, si = 0;
        for (int i = 0; i < n; i++) {
            const float *o2 = eo2[r] + (size_t)i * d, *a2 = ea2[r] + (size_t)i * d;
            og += mf_face_similarity(eo1[r] + (size_t)i * d, o2, d) >= thr[r];
            float s = mf_face_similarity(ea1[r] + (size_t)i * d, a2, d);
            al += s >= thr[r], sg += s;
            cross += mf_face_similarity(ea1[r] + (size_t)i * d, o2, d) >= thr[r];
            int bo = -1, ba = -1;
            float so = -2, sa = -2;
            for (int j = 0; j < n; j++) {
                float x = mf_face_similarity(eo1[r] + (size_t)j * d, o2, d);
                float y = mf_face_similarity(ea1[r] + (size_t)j * d, a2, d);
                if (x > so) so = x, bo = j;
                if (y > sa) sa = y, ba = j;
                if (j != i) af += y >= thr[r], si += y, nimp++;
            }
            oi += bo == i, ai += ba == i;
        }
        printf("%-13s %10.4f | %6.1f%% / %6.1f%%                    | %6.1f%% / %6.2f%%                    | %6.1f%% (%.1f%%)   %6.1f%%   %.3f / %.3f\n",
               rec_names[r], thr[r], 100.0 * og / n, 100.0 * oi / n, 100.0 * al / n, nimp ? 100.0 * af / nimp : 0,
               100.0 * ai / n, 100.0 / n, 100.0 * cross / n, sg / n, nimp ? si / nimp : 0);
    }
    for (int r = 0; r < NREC; r++) mf_face_recognizer_free(c.rec[r]), free(eo1[r]), free(eo2[r]), free(ea1[r]), free(ea2[r]);
    mf_anon_free(c.A);
    mf_face_analyzer_free(c.an);
    mf_nn_pool_free(pool);
    tu_names_free(names, npeople);
    return 0;
}
