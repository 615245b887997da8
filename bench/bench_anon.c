/* Anonymizer speed (docs/anonymization.md, "Speed"): per face, mf_anon_face with the synthetic method (synthesis +
 * blending + guarantee, all draws) against its peer in the same run, the baseline mosaic (MF_ANON_PIXELATE, which
 * also runs the checks once); and whole photos end to end (decode, privacy-grade analysis, every face, JPEG
 * encode) against the same photo with the mosaic. Runs alternate between the two so a loaded machine slows both
 * alike; prints medians and their ratio. Per face it also prints the median CPU time of the process (all threads)
 * per call: on a machine shared with other work it moves far less than wall time, so two builds of this bench run
 * one after the other compare by it (docs/anonymization.md, "Speed"), and the draws (sum over the faces) with the
 * median render + blend and checks time per draw (wall) and the time outside the draws per face (the original's
 * embeddings, wall); per photo also each stage (decode, analysis, faces, encode) of the synthetic photo. bench/anon-ab.sh
 * runs two builds of it alternately.
 * usage: bench_anon [--runs R] [--threads T] [--n N] [--every K] [--photos] [--jitter-skip F] [--one-pass N] [--one-pass-dissim F] [--upright-check N]
 *        [--strict N] PATH...
 *   PATH: photos or folders; per-face mode takes the central face of each photo (faces <= 256 px reported apart);
 *   --photos: end-to-end mode on each PATH (e.g. the demo photo).
 *   --jitter-skip F: mf_anon_tuning.jitter_skip (jit30; off by default).
 *   --one-pass N: mf_anon_tuning.one_pass (speed32: faceapi without its mirror pass; 1 on, -1 off).
 *   --one-pass-dissim F: mf_anon_tuning.one_pass_dissim (its threshold; 0: the default).
 *   --upright-check N: mf_anon_tuning.upright_check (upright43: a rolled face found again on an upright copy with the
 *   plain analyser; 1 on, -1 off; 0: the default).
 *   --strict N: mf_anon_opts.strict (strict51: 1 the strict privacy level, 0 the standard one, the default).
 * Identity model data/identity/synthetic-v1.mfid; models from $MFMC_MODELS. */
#include "mfmc/anon.h"
#include "lib/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { MAXP = 4000, MAXF = 64 };

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Where a whole photo's time goes (process CPU ms; wall ms in the same order): decode, analysis, faces, encode. */
enum { ST_DECODE, ST_ANALYSIS, ST_FACES, ST_ENCODE, N_ST };
static const char *const stage_name[N_ST] = {"decode", "analysis", "faces", "encode"};

/* one whole photo: decode, analysis, every face replaced with method m, JPEG encode; returns ms, -1 on error;
 * st_cpu / st_wall: the time of each stage */
static double photo_once(const char *path, mf_face_analyzer_t *fa, mf_anon_t *A, mf_anon_method m, int *nf_out,
                         double *cpu, double st_cpu[N_ST], double st_wall[N_ST]) {
    double t0 = tu_clock_ms(CLOCK_MONOTONIC), c0 = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID), tl = t0, cl = c0;
    int s = 0;
#define STAGE_END()                                                                                                   \
    do {                                                                                                              \
        double tn = tu_clock_ms(CLOCK_MONOTONIC), cn = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID);                         \
        st_wall[s] = tn - tl, st_cpu[s] = cn - cl, tl = tn, cl = cn, s++;                                             \
    } while (0)
    mf_img img;
    const mf_face *faces;
    int nf = 0;
    if (mf_img_load(path, NULL, &img, NULL)) return -1;
    STAGE_END();
    if (mf_face_analyze_all(fa, &img, &faces, &nf)) {
        mf_img_free(&img);
        return -1;
    }
    mf_face *copy = malloc(sizeof(mf_face) * (size_t)(nf ? nf : 1));
    if (!copy) return -1;
    memcpy(copy, faces, sizeof(mf_face) * (size_t)nf);
    STAGE_END();
    for (int i = 0; i < nf; i++) {
        mf_anon_result r;
        mf_anon_face(A, &img, &copy[i], m, 1 + (uint64_t)i, NULL, &r);
    }
    STAGE_END();
    uint8_t *buf = NULL;
    size_t len = 0;
    mf_img_encode_jpeg(&img, 90, &buf, &len);
    free(buf), free(copy);
    mf_img_free(&img);
    STAGE_END();
#undef STAGE_END
    *nf_out = nf;
    *cpu = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return tu_clock_ms(CLOCK_MONOTONIC) - t0;
}

int main(int argc, char **argv) {
    int runs = 3, threads = 2, nmax = 20, every = 1, photos = 0, np = 0;
    float jitter_skip = 0;
    int one_pass = 0;
    float one_pass_dissim = 0;
    int upright_check = 0, strict = 0;
    char **paths = malloc(sizeof(char *) * MAXP);
    for (int i = 1; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "--runs") && more)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && more)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--n") && more)
            nmax = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--every") && more)
            every = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--photos"))
            photos = 1;
        else if (!strcmp(argv[i], "--jitter-skip") && more)
            jitter_skip = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--one-pass") && more)
            one_pass = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--one-pass-dissim") && more)
            one_pass_dissim = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--upright-check") && more)
            upright_check = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--strict") && more) /* (strict51) mf_anon_opts.strict */
            strict = atoi(argv[++i]);
        else {
            struct stat st;
            if (!stat(argv[i], &st) && S_ISDIR(st.st_mode)) {
                int n;
                char **names = tu_list_dir(argv[i], &n);
                for (int k = 0; k < n && np < MAXP; k++) {
                    char p[4096];
                    snprintf(p, sizeof p, "%s/%s", argv[i], names[k]);
                    paths[np++] = strdup(p);
                }
                tu_names_free(names, n);
            } else if (np < MAXP)
                paths[np++] = strdup(argv[i]);
        }
    }
    if (runs < 1) runs = 1;
    if (every < 1) every = 1;
    const char *models = tu_models_dir();
    mf_nn_pool_t *pool = NULL;
    if (threads > 1 && mf_nn_pool_create(threads, &pool)) return 3;
    mf_face_models_t *fm;
    mf_face_analyzer_t *an, *fc = NULL;
    mf_face_analyzer_opts ao = {.pool = pool, .privacy = photos}, co = {.pool = pool};
    if (mf_face_models_create(models, &fm) || mf_face_analyzer_create_from(fm, &ao, &an) ||
        (photos && mf_face_analyzer_create_from(fm, &co, &fc))) {
        fprintf(stderr, "bench_anon: %s\n", mf_error_get());
        return 3;
    }
    mf_anon_opts o = {.models_root = models,
                      .identity_model = "data/identity/synthetic-v1.mfid",
                      .an = an,
                      .pool = pool,
                      .check_an = fc};
    o.tuning.jitter_skip = jitter_skip;
    o.tuning.upright_check = upright_check;
    o.strict = strict;
    o.tuning.one_pass = one_pass, o.tuning.one_pass_dissim = one_pass_dissim;
    mf_anon_t *A;
    if (mf_anon_create(&o, &A)) {
        fprintf(stderr, "bench_anon: %s\n", mf_error_get());
        return 3;
    }
    static double syn[MAXP], pix[MAXP], syn_s[MAXP], pix_s[MAXP], syn_c[MAXP], pix_c[MAXP], t[4][64];
    static double per_r[MAXP * 64], per_c[MAXP * 64]; /* per synthetic call: render + blend, checks, per draw */
    static double per_s[MAXP * 64]; /* per synthetic call: everything before and around the draws (the original's
                                       embeddings at every alignment, skin map, fallback), wall ms */
    int n = 0, ns = 0, nper = 0, draws = 0;
    for (int pi = 0; pi < np && n < nmax; pi += every) {
        if (photos) {
            int nf = 0, k = 0;
            static double sc[N_ST][64], sw[N_ST][64];
            for (int r = -1; r < runs && r < 64; r++) { /* r = -1: warm-up */
                double ca = 0, cb = 0, pc[N_ST], pw[N_ST], qc[N_ST], qw[N_ST];
                double a = photo_once(paths[pi], an, A, MF_ANON_SYNTH, &nf, &ca, pc, pw),
                       b = photo_once(paths[pi], an, A, MF_ANON_PIXELATE, &nf, &cb, qc, qw);
                if (r >= 0 && a >= 0 && b >= 0) {
                    for (int q = 0; q < N_ST; q++) sc[q][k] = pc[q], sw[q][k] = pw[q];
                    t[0][k] = a, t[1][k] = b, t[2][k] = ca, t[3][k] = cb, k++;
                }
            }
            double ma = median(t[0], k), mb = median(t[1], k), mca = median(t[2], k), mcb = median(t[3], k);
            printf("{\"photo\":\"%s\",\"faces\":%d,\"threads\":%d,\"runs\":%d,\"synthetic_ms\":%.1f,\"mosaic_ms\":%.1f,"
                   "\"ratio\":%.2f,\"synthetic_cpu_ms\":%.1f,\"mosaic_cpu_ms\":%.1f",
                   paths[pi], nf, threads, k, ma, mb, ma / mb, mca, mcb);
            /* the synthetic photo's stages: decode, analysis (privacy-grade), faces, encode */
            for (int q = 0; q < N_ST; q++)
                printf(",\"%s_cpu_ms\":%.1f,\"%s_wall_ms\":%.1f", stage_name[q], median(sc[q], k), stage_name[q],
                       median(sw[q], k));
            printf("}\n");
            n++;
            continue;
        }
        mf_img img, work;
        mf_face faces[MAXF];
        int nf = 0;
        if (mf_img_load(paths[pi], NULL, &img, NULL)) continue;
        if (mf_face_analyze(an, &img, faces, MAXF, &nf) || nf == 0) {
            mf_img_free(&img);
            continue;
        }
        mf_face_box bx[MAXF];
        for (int k = 0; k < nf; k++)
            bx[k] = faces[k].det;
        int c = tu_box_nearest_centre(bx, nf, img.w, img.h, NULL);
        if (mf_img_init(&work, img.w, img.h, 3)) return 3;
        double ts[64], tp[64], cs[64], cp[64];
        int k = 0;
        for (int r = 0; r < runs && r < 64; r++, k++)
            for (int m = 0; m < 2; m++) {
                memcpy(work.data, img.data, (size_t)img.w * img.h * 3);
                mf_anon_result R;
                double t0 = tu_clock_ms(CLOCK_MONOTONIC), c0 = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID);
                mf_anon_face(A, &work, &faces[c], m ? MF_ANON_PIXELATE : MF_ANON_SYNTH, 1 + 7919 * (uint64_t)n, NULL,
                             &R);
                (m ? tp : ts)[r] = tu_clock_ms(CLOCK_MONOTONIC) - t0;
                (m ? cp : cs)[r] = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
                if (!m && R.tries > 0) {
                    per_s[nper] = R.ms - R.ms_render - R.ms_check;
                    per_r[nper] = R.ms_render / R.tries, per_c[nper++] = R.ms_check / R.tries;
                    if (r == 0) draws += R.tries; /* the same every run (same seed) */
                }
            }
        syn[n] = median(ts, k), pix[n] = median(tp, k), syn_c[n] = median(cs, k), pix_c[n] = median(cp, k);
        float fs = fmaxf(faces[c].det.w, faces[c].det.h);
        if (fs <= 256) syn_s[ns] = syn[n], pix_s[ns] = pix[n], ns++;
        n++;
        mf_img_free(&work), mf_img_free(&img);
    }
    if (!photos) {
        double ms = median(syn, n), mp = median(pix, n), mss = median(syn_s, ns), mps = median(pix_s, ns);
        double mc = median(syn_c, n), mpc = median(pix_c, n);
        printf("{\"faces\":%d,\"threads\":%d,\"runs\":%d,\"synthetic_ms\":%.1f,\"mosaic_ms\":%.1f,\"ratio\":%.2f,"
               "\"faces_le256\":%d,\"synthetic_le256_ms\":%.1f,\"mosaic_le256_ms\":%.1f,"
               "\"synthetic_cpu_ms\":%.1f,\"mosaic_cpu_ms\":%.1f,\"draws\":%d,\"render_per_draw_ms\":%.1f,"
               "\"checks_per_draw_ms\":%.1f,\"setup_per_face_ms\":%.1f}\n",
               n, threads, runs, ms, mp, ms / mp, ns, mss, mps, mc, mpc, draws, median(per_r, nper),
               median(per_c, nper), median(per_s, nper));
    }
    mf_anon_free(A);
    mf_face_analyzer_free(an), mf_face_analyzer_free(fc);
    mf_face_models_free(fm);
    mf_nn_pool_free(pool);
    for (int i = 0; i < np; i++)
        free(paths[i]);
    free(paths);
    return 0;
}
