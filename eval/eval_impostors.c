/* Impostor scores of the guarantee ensemble by age group (docs/anonymization.md, "Branch fall13"): how similar the
 * recognizers find two DIFFERENT real people when both are children, one is, or neither is. The dissimilarity
 * thresholds a replacement must stay under were set on LFW's (adult) impostor pairs (1 % of them score above);
 * this shows what the same thresholds mean between children, whose draws fall back to the filter most.
 * For each photo the face nearest the centre is analysed (age estimate) and embedded with arcface and faceapi at
 * its own alignment; every pair of photos is taken as two different people (true for FFHQ: one face per person).
 * Prints per group (child-child, child-adult, adult-adult; child: estimated age < --child AGE, default 13) the pair
 * count, mean, median, 90th and 99th percentile similarity and the share at or above each recognizer's dissimilarity and match
 * thresholds; then per child how many of the other children score below both dissimilarity thresholds (a real
 * child that could replace it under the unchanged guarantee).
 * usage: eval_impostors [--every K] [--child AGE] DIR|PHOTO...   (BENCH_VERBOSE=1: every child pair) */
#include "mfmc/analyze.h"
#include "mfmc/face.h"
#include "mfmc/image.h"
#include "mfmc/nn.h"
#include "lib/testutil.h"
#include "evalutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXN = 400, MAXF = 32, NREC = 2, DIM = 1024 };
static const char *rec_names[NREC] = {"arcface", "faceapi"};

static int cmp_f(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    static char *paths[MAXN * 4];
    int np = 0, every = 1;
    float child_age = 13;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(s, "--every") && more) every = atoi(argv[++i]);
        else if (!strcmp(s, "--child") && more) child_age = (float)atof(argv[++i]);
        else if (s[0] == '-') {
            fprintf(stderr, "usage: eval_impostors [--every K] [--child AGE] DIR|PHOTO...\n");
            return 2;
        } else if (ev_add_photos(s, paths, &np, MAXN * 4))
            return 2;
    }
    if (np == 0 || every < 1) {
        fprintf(stderr, "usage: eval_impostors [--every K] [--child AGE] DIR|PHOTO...\n");
        return 2;
    }
    mf_nn_pool_t *pool = NULL;
    mf_nn_pool_create(2, &pool);
    mf_face_analyzer_t *an;
    mf_face_analyzer_opts ao = {.pool = pool};
    if (mf_face_analyzer_create(tu_models_dir(), &ao, &an)) {
        fprintf(stderr, "eval_impostors: %s\n", mf_error_get());
        return 3;
    }
    mf_face_recognizer_t *rec[NREC];
    const mf_face_recognizer_info *inf[NREC];
    for (int r = 0; r < NREC; r++) {
        if (mf_face_recognizer_create(tu_models_dir(), rec_names[r], pool, &rec[r])) {
            fprintf(stderr, "eval_impostors: %s\n", mf_error_get());
            return 3;
        }
        inf[r] = mf_face_recognizer_info_of(rec[r]);
    }
    static float emb[NREC][MAXN][DIM];
    static float age[MAXN];
    static const char *name[MAXN];
    int n = 0;
    for (int pi = 0; pi < np && n < MAXN; pi += every) {
        mf_img img;
        mf_face faces[MAXF];
        int nf = 0;
        if (mf_img_load(paths[pi], NULL, &img, NULL)) {
            fprintf(stderr, "eval_impostors: %s: skipped: %s\n", paths[pi], mf_error_get());
            continue;
        }
        if (mf_face_analyze(an, &img, faces, MAXF, &nf) || nf == 0 || !(faces[0].attr.age >= 0)) {
            fprintf(stderr, "eval_impostors: %s: skipped: no face\n", paths[pi]);
            mf_img_free(&img);
            continue;
        }
        mf_face_box bx[MAXF];
        for (int k = 0; k < nf; k++) bx[k] = faces[k].det;
        int c = tu_box_nearest_centre(bx, nf, img.w, img.h, NULL);
        float p5[5][2];
        mf_face_5pt(&faces[c], p5);
        int bad = 0;
        for (int r = 0; r < NREC; r++) bad |= mf_face_recognizer_embed(rec[r], &img, p5, emb[r][n]) != 0;
        mf_img_free(&img);
        if (bad || !(faces[c].attr.age >= 0)) continue;
        age[n] = faces[c].attr.age, name[n] = paths[pi], n++;
    }
    if (n == MAXN) /* not silent: the pairs below are of the first MAXN faces only */
        printf("LIMIT: stopped at %d faces, the most this eval holds; any later photos were not measured\n", MAXN);
    int nchild = 0;
    for (int i = 0; i < n; i++) nchild += age[i] < child_age;
    printf("faces %d, children (estimated under %.0f) %d\n", n, child_age, nchild);
    static const char *gname[3] = {"child-child", "child-adult", "adult-adult"};
    float *sims = malloc(sizeof(float) * (size_t)n * (size_t)n / 2 + 1);
    if (!sims) return 3;
    for (int r = 0; r < NREC; r++)
        for (int g = 0; g < 3; g++) {
            int m = 0, over_d = 0, over_m = 0;
            double sum = 0;
            for (int a = 0; a < n; a++)
                for (int b = a + 1; b < n; b++) {
                    int ca = age[a] < child_age, cb = age[b] < child_age;
                    if ((ca && cb ? 0 : ca || cb ? 1 : 2) != g) continue;
                    float s = mf_face_similarity(emb[r][a], emb[r][b], inf[r]->dim);
                    sims[m++] = s, sum += s;
                    over_d += s >= inf[r]->dissimilarity_threshold, over_m += s >= inf[r]->match_threshold;
                }
            if (!m) continue;
            qsort(sims, (size_t)m, sizeof(float), cmp_f);
            printf("%-8s %-12s pairs %6d  mean %.3f  p50 / p90 / p99 %.3f / %.3f / %.3f  >= dissimilarity %.4f: %5.1f %%  "
                   ">= match %.4f: %5.1f %%\n",
                   rec_names[r], gname[g], m, sum / m, sims[(int)(0.5 * (m - 1))], sims[(int)(0.9 * (m - 1))],
                   sims[(int)(0.99 * (m - 1))], inf[r]->dissimilarity_threshold,
                   100.0 * over_d / m, inf[r]->match_threshold, 100.0 * over_m / m);
        }
    free(sims);
    /* per child: the other children below both dissimilarity thresholds */
    for (int a = 0; a < n; a++) {
        if (!(age[a] < child_age)) continue;
        int below = 0, others = 0;
        float fmin = 2;
        for (int b = 0; b < n; b++) {
            if (b == a || !(age[b] < child_age)) continue;
            int ok = 1;
            others++;
            for (int r = 0; r < NREC; r++) {
                float s = mf_face_similarity(emb[r][a], emb[r][b], inf[r]->dim);
                ok &= s < inf[r]->dissimilarity_threshold;
                if (r == 1 && s < fmin) fmin = s;
                if (getenv("BENCH_VERBOSE") && b > a && r == 0)
                    fprintf(stderr, "  %s (%.0f) ~ %s (%.0f): arcface %.3f faceapi %.3f\n", name[a], age[a], name[b],
                            age[b], s, mf_face_similarity(emb[1][a], emb[1][b], inf[1]->dim));
            }
            below += ok;
        }
        printf("  %s (age %.0f): %d of %d other children below both thresholds; faceapi lowest %.3f\n", name[a],
               age[a], below, others, fmin);
    }
    for (int r = 0; r < NREC; r++) mf_face_recognizer_free(rec[r]);
    mf_face_analyzer_free(an);
    mf_nn_pool_free(pool);
    for (int i = 0; i < np; i++) free(paths[i]);
    return 0;
}
