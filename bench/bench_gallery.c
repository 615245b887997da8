/* Cost of the server's members' galleries (docs/server.md "Members in the guarantee") against its peer, the two
 * embeddings every draw's check pays anyway (arcface and faceapi of one face, the anonymizer's ensemble).
 * For N members with S selfies each (random unit vectors: the cost does not depend on the values), prints the
 * time to build both galleries (what a node pays after an enrolment change), the time of one check against both
 * (what every draw pays), the ratio of that check to the two embeddings, and the galleries' memory.
 * Times are CPU time of the calling thread (every call here runs on it), so a loaded machine shifts them less.
 * Usage: bench_gallery [members...]   (default: 100 1000 10000; 5 selfies each). Needs the models (MFMC_MODELS)
 * and one face photo: ../shared/data/synthetic/synth_0000.jpg (MFMC_SYNTHETIC). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/testutil.h"
#include "mfmc/analyze.h"
#include "mfmc/gallery.h"

enum { SELFIES = 5, N_REC = 2, MATCH_RUNS = 20, EMBED_RUNS = 10 };
static const char *const rec_name[N_REC] = {"arcface", "faceapi"};
static const int rec_dim[N_REC] = {512, 128};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, tu_cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv) {
    const char *syn = getenv("MFMC_SYNTHETIC");
    char path[4096];
    snprintf(path, sizeof path, "%s/synth_0000.jpg", syn && *syn ? syn : "../shared/data/synthetic");
    mf_img img = {0};
    mf_face_models_t *models = NULL;
    mf_face_analyzer_t *an = NULL;
    mf_face_recognizer_t *rec[N_REC] = {0};
    mf_face_analyzer_opts ao = {0};
    const mf_face *faces = NULL;
    int nf = 0;
    if (mf_img_load(path, NULL, &img, NULL) || mf_face_models_create(tu_models_dir(), &models) ||
        mf_face_analyzer_create_from(models, &ao, &an) || mf_face_analyze_all(an, &img, &faces, &nf) || nf < 1) {
        fprintf(stderr, "bench_gallery: %s: %s\n", path, mf_error_get());
        return 1;
    }
    float pts[5][2], e[512];
    mf_face_5pt(&faces[0], pts);
    double emb[EMBED_RUNS];
    for (int i = 0; i < N_REC; i++)
        if (mf_face_recognizer_create_from(models, rec_name[i], NULL, &rec[i])) {
            fprintf(stderr, "bench_gallery: %s: %s\n", rec_name[i], mf_error_get());
            return 1;
        }
    for (int r = 0; r < EMBED_RUNS; r++) {
        double t0 = tu_clock_ms(CLOCK_THREAD_CPUTIME_ID);
        for (int i = 0; i < N_REC; i++)
            mf_face_recognizer_embed(rec[i], &img, pts, e);
        emb[r] = tu_clock_ms(CLOCK_THREAD_CPUTIME_ID) - t0;
    }
    double peer = median(emb, EMBED_RUNS);
    printf("peer: arcface + faceapi embedding of one face: %.2f ms (median of %d)\n", peer, EMBED_RUNS);
    printf("%8s %8s %12s %12s %14s %10s\n", "members", "selfies", "build ms", "check ms", "check/peer", "MB");
    int def[] = {100, 1000, 10000}, nn = argc > 1 ? argc - 1 : 3;
    for (int a = 0; a < nn; a++) {
        int members = argc > 1 ? atoi(argv[a + 1]) : def[a];
        if (members < 1 || members > 1000000) continue;
        mf_gallery_t *g[N_REC] = {0};
        float v[512], probe[N_REC][512];
        double t0 = tu_clock_ms(CLOCK_THREAD_CPUTIME_ID);
        int st = 0;
        for (int i = 0; i < N_REC && !st; i++) {
            st = mf_gallery_create(rec_dim[i], &g[i]);
            for (int m = 0; m < members && !st; m++) {
                char name[32];
                snprintf(name, sizeof name, "%d", m + 1);
                for (int s = 0; s < SELFIES && !st; s++) {
                    for (int k = 0; k < rec_dim[i]; k++)
                        v[k] = frand();
                    st = mf_gallery_add(g[i], name, v);
                }
            }
        }
        double build = tu_clock_ms(CLOCK_THREAD_CPUTIME_ID) - t0, runs[MATCH_RUNS];
        for (int i = 0; i < N_REC; i++)
            for (int k = 0; k < rec_dim[i]; k++)
                probe[i][k] = frand();
        for (int r = 0; r < MATCH_RUNS && !st; r++) {
            t0 = tu_clock_ms(CLOCK_THREAD_CPUTIME_ID);
            for (int i = 0; i < N_REC && !st; i++) {
                mf_gallery_result gr;
                st = mf_gallery_match(g[i], probe[i], 0.5f, &gr);
            }
            runs[r] = tu_clock_ms(CLOCK_THREAD_CPUTIME_ID) - t0;
        }
        if (st) {
            fprintf(stderr, "bench_gallery: %s\n", mf_error_get());
            return 1;
        }
        double check = median(runs, MATCH_RUNS);
        double mb = (double)members * SELFIES * (rec_dim[0] + rec_dim[1]) * sizeof(float) / 1048576.0;
        printf("%8d %8d %12.1f %12.3f %14.3f %10.1f\n", members, SELFIES, build, check, check / peer, mb);
        for (int i = 0; i < N_REC; i++)
            mf_gallery_free(g[i]);
    }
    for (int i = 0; i < N_REC; i++)
        mf_face_recognizer_free(rec[i]);
    mf_face_analyzer_free(an);
    mf_face_models_free(models);
    mf_img_free(&img);
    return 0;
}
