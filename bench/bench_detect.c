/* Detection measurements for docs/accuracy.md:
 *   recall on every LFW image (each has a central face: found = a detection whose box centre lies in the
 *   middle 40% of the image), other faces reported, and the face count of the face-api demo photos.
 * usage: bench_detect [--lfw DIR] [--limit N] [--detector NAME] [--threshold T] [--misses] [--mesh]
 * (--mesh: the analysis pipeline, whose mesh face flag drops false detections)
 * Run from the repository root (models in ./models or $MFMC_MODELS). */
#include "mfmc/analyze.h"
#include "lib/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Boxes of the faces in img: the detector alone, or the analyzer (detection + mesh filter) when an != NULL. */
static void detect(mf_face_detector_t *det, mf_face_analyzer_t *an, const mf_img *img, mf_face_box *f,
                   mf_face *faces, int *n) {
    if (!an) {
        mf_face_detect(det, img, f, 256, n);
        return;
    }
    mf_face_analyze(an, img, faces, 256, n);
    for (int i = 0; i < *n; i++) f[i] = faces[i].det;
}

int main(int argc, char **argv) {
    const char *lfw = "../shared/data/lfw", *detector = NULL;
    int limit = 0, show_misses = 0, with_mesh = 0;
    float threshold = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--lfw") && i + 1 < argc) lfw = argv[++i];
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--detector") && i + 1 < argc) detector = argv[++i];
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) threshold = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--misses")) show_misses = 1;
        else if (!strcmp(argv[i], "--mesh")) with_mesh = 1; /* the analyzer: detection + mesh face-flag filter */
        else {
            fprintf(stderr, "usage: bench_detect [--lfw DIR] [--limit N] [--detector NAME] [--threshold T] [--misses]\n");
            return 2;
        }
    }
    const char *models = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    mf_nn_pool_t *pool;
    if (mf_nn_pool_create(2, &pool)) return 3;
    mf_face_detect_opts o = {detector, 0, threshold, 0, pool, 0, 0};
    mf_face_detector_t *det;
    mf_face_analyzer_t *an = NULL;
    mf_face_analyzer_opts ao = {.pool = pool, .detector = detector, .threshold = threshold, .no_attributes = 1};
    if (mf_face_detector_create(models, &o, &det) || (with_mesh && mf_face_analyzer_create(models, &ao, &an))) {
        fprintf(stderr, "%s\n", mf_error_get());
        return 3;
    }
    static mf_face_box f[256];
    static mf_face faces[256];
    /* demo photos */
    printf("demo photos (reference TF.js detector: 3 3 3 4 5 4):");
    for (int i = 1; i <= 6; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/demo/sample%d.jpg", models, i);
        mf_img img;
        int n = -1;
        if (!mf_img_load(p, NULL, &img, NULL)) {
            detect(det, an, &img, f, faces, &n);
            mf_img_free(&img);
        }
        printf(" %d", n);
    }
    printf("\n");
    int nd = 0, images = 0, found = 0, others = 0;
    char **dirs = tu_list_dir(lfw, &nd);
    if (!dirs) {
        printf("LFW: %s not present, skipped\n", lfw);
        return 0;
    }
    double t0 = tu_clock_ms(CLOCK_MONOTONIC);
    for (int i = 0; i < nd && (!limit || images < limit); i++) {
        char dp[4096];
        snprintf(dp, sizeof dp, "%s/%s", lfw, dirs[i]);
        int nf = 0;
        char **files = tu_list_dir(dp, &nf);
        for (int j = 0; j < nf && (!limit || images < limit); j++) {
            char p[8192];
            snprintf(p, sizeof p, "%s/%s", dp, files[j]);
            mf_img img;
            if (mf_img_load(p, NULL, &img, NULL)) {
                fprintf(stderr, "cannot load %s: %s\n", p, mf_error_get());
                continue;
            }
            int n = 0, ok = 0;
            detect(det, an, &img, f, faces, &n);
            for (int k = 0; k < n; k++) {
                float cx = f[k].x + f[k].w / 2, cy = f[k].y + f[k].h / 2;
                if (!ok && cx > img.w * 0.3f && cx < img.w * 0.7f && cy > img.h * 0.3f && cy < img.h * 0.7f) ok = 1;
                else others++;
            }
            images++;
            found += ok;
            if (!ok && show_misses) printf("  miss: %s (%d other faces)\n", p, n);
            mf_img_free(&img);
            free(files[j]);
        }
        free(files);
        if (images % 1000 == 0 && images) fprintf(stderr, "  %d images...\n", images);
    }
    double ms = tu_clock_ms(CLOCK_MONOTONIC) - t0;
    printf("LFW recall: %d of %d images (%.2f%%), %d other faces (background people or false detections), "
           "%.1f ms per image\n",
           found, images, 100.0 * found / (images ? images : 1), others, ms / (images ? images : 1));
    for (int i = 0; i < nd; i++) free(dirs[i]);
    free(dirs);
    mf_face_detector_free(det);
    mf_face_analyzer_free(an);
    mf_nn_pool_free(pool);
    return 0;
}
