/* Full analysis speed per demo photo: decode + detect (pyramid tiles, verifier) + mesh + attributes + one
 * embedding (primary recognizer) for every face. Prints one JSON line per photo and thread count with the median
 * time and the list of network evaluations it made ("work"), which tools/run-bench.sh replays on TF.js-wasm
 * (embedding: faceapi, which TF.js can run; the primary recognizer is an ONNX model)
 * (the same graphs; the peer gets ready-made input tensors, so its time excludes decoding and cropping).
 * usage: bench_pipeline [--runs N] [--threads T] */
#include "mfmc/analyze.h"
#include "lib/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    int runs = 5, only_threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) only_threads = atoi(argv[i + 1]);
    }
    if (runs < 1) runs = 1;
    const char *models = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    /* the embedding step uses faceapi (guarantee ensemble): the TF.js peer can run it, not the ONNX primary */
    const char *rec_name = "faceapi";
    static mf_face faces[256];
    static float emb[4096];
    for (int threads = 1; threads <= 2; threads++) {
        if (only_threads && threads != only_threads) continue;
        mf_nn_pool_t *pool = NULL;
        if (threads > 1 && mf_nn_pool_create(threads, &pool)) return 3;
        mf_face_analyzer_opts o = {.pool = pool};
        mf_face_analyzer_t *an;
        mf_face_recognizer_t *rec;
        if (mf_face_analyzer_create(models, &o, &an) || mf_face_recognizer_create(models, rec_name, pool, &rec)) {
            fprintf(stderr, "bench_pipeline: %s\n", mf_error_get());
            return 3;
        }
        for (int photo = 1; photo <= 6; photo++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/demo/sample%d.jpg", models, photo);
            double *t = malloc((size_t)(runs + 1) * sizeof *t);
            int n = 0;
            mf_face_analyzer_counts c = {0};
            for (int r = -1; r < runs; r++) { /* r = -1: warm-up */
                double t0 = tu_clock_ms(CLOCK_MONOTONIC);
                mf_img img;
                if (mf_img_load(path, NULL, &img, NULL) || mf_face_analyze(an, &img, faces, 256, &n)) {
                    fprintf(stderr, "bench_pipeline: %s: %s\n", path, mf_error_get());
                    return 3;
                }
                for (int i = 0; i < n; i++) {
                    float pts[5][2];
                    mf_face_5pt(&faces[i], pts);
                    mf_face_recognizer_embed(rec, &img, (const float(*)[2])pts, emb);
                }
                mf_img_free(&img);
                if (r >= 0) t[r] = tu_clock_ms(CLOCK_MONOTONIC) - t0;
                mf_face_analyzer_last_counts(an, &c);
            }
            qsort(t, (size_t)runs, sizeof *t, tu_cmp_double);
            double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
            printf("{\"model\":\"sample%d\",\"runtime\":\"mfmc\",\"threads\":%d,\"median_ms\":%.2f,\"min_ms\":%.2f,"
                   "\"runs\":%d,\"faces\":%d,\"work\":\"facemesh-detection-full:%d,blazeface:%d,facemesh:%d,"
                   "%s:%d,%s:%d,%s:%d\"}\n",
                   photo, threads, med, t[0], runs, n, c.detector_tiles, c.verifier_runs, c.mesh_runs,
                   MF_FACE_ATTRIB_DEFAULT_AGE, c.attribute_runs, MF_FACE_ATTRIB_DEFAULT_GENDER, c.attribute_runs,
                   !strcmp(rec_name, "faceapi") ? "faceapi-recognition" : rec_name, n);
            fflush(stdout);
            free(t);
        }
        mf_face_recognizer_free(rec);
        mf_face_analyzer_free(an);
        mf_nn_pool_free(pool);
    }
    return 0;
}
