/* mfmc command line. Exit codes: 0 ok, 1 no face found where one was needed, 2 bad input or usage,
 * 3 internal or environment error (models missing, out of memory). */
#include "mfmc/face.h"
#include "mfmc/image.h"
#include "mfmc/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_NOFACE = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3, MAX_FACES = 256 };

static const char *models_override;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dir_has(const char *dir, const char *file) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) return 0;
    return access(p, R_OK) == 0;
}

/* Models folder: --models, $MFMC_MODELS, ./models, or models/ of the source tree this binary was built in. */
static const char *models_dir(void) {
    static char buf[4096];
    if (models_override) return models_override;
    const char *e = getenv("MFMC_MODELS");
    if (e && *e) return e;
    if (dir_has("models", "human")) return "models";
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 32);
    if (n > 0) {
        buf[n] = '\0';
        for (int up = 0; up < 3; up++) {
            char *s = strrchr(buf, '/');
            if (!s) break;
            *s = '\0';
            char probe[4096];
            if (snprintf(probe, sizeof probe, "%s/models", buf) >= (int)sizeof probe) break;
            if (dir_has(probe, "human")) {
                memcpy(buf, probe, sizeof probe);
                return buf;
            }
        }
    }
    return "models";
}

static int fail(int code, const char *what) {
    fprintf(stderr, "mfmc: %s%s%s\n", what ? what : "", what && *mf_error_get() ? ": " : "", mf_error_get());
    return code;
}

static int status_exit(int st) {
    return st == MF_ERR_FORMAT || st == MF_ERR_LIMIT || st == MF_ERR_ARG || st == MF_ERR_UNSUPPORTED ||
                   st == MF_ERR_IO
               ? EXIT_USAGE
               : EXIT_INTERNAL;
}

static void usage(FILE *f) {
    fprintf(f, "usage: mfmc [--models DIR] COMMAND [ARGS]\n"
               "\n"
               "commands:\n"
               "  detect IMAGE [--json] [--min-face PX] [--threads N] [--detector NAME] [--threshold T]\n"
               "                  find the faces in a JPEG, PNG or WebP photo (detectors: blazeface,\n"
               "                  facemesh-detection-full, facemesh-detection-short)\n"
               "  models          list the models available and check they load\n"
               "  demo            detect the faces of the demo photo (models/demo/sample1.jpg)\n"
               "  help            this text\n"
               "\n"
               "Models are read from --models DIR, $MFMC_MODELS, or ./models (run `make setup` to fetch them).\n"
               "Exit codes: 0 ok, 1 no face found, 2 bad input or usage, 3 internal error.\n");
}

typedef struct {
    const char *image;
    int json, min_face, threads;
    const char *detector;
    float threshold;
} detect_args;

static int parse_detect(int argc, char **argv, detect_args *a) {
    memset(a, 0, sizeof *a);
    a->threads = 2;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--json")) a->json = 1;
        else if (!strcmp(s, "--min-face") && i + 1 < argc) a->min_face = atoi(argv[++i]);
        else if (!strcmp(s, "--threads") && i + 1 < argc) a->threads = atoi(argv[++i]);
        else if (!strcmp(s, "--detector") && i + 1 < argc) a->detector = argv[++i];
        else if (!strcmp(s, "--threshold") && i + 1 < argc) a->threshold = (float)atof(argv[++i]);
        else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            exit(0);
        } else if (s[0] == '-') {
            fprintf(stderr, "mfmc detect: unknown option %s\n", s);
            return EXIT_USAGE;
        } else if (!a->image)
            a->image = s;
        else {
            fprintf(stderr, "mfmc detect: unexpected argument %s\n", s);
            return EXIT_USAGE;
        }
    }
    if (!a->image) {
        fprintf(stderr, "mfmc detect: missing IMAGE\n");
        return EXIT_USAGE;
    }
    if (a->min_face < 0 || a->min_face > 100000 || a->threads < 0 || a->threads > 64 || a->threshold < 0 ||
        a->threshold >= 1) {
        fprintf(stderr, "mfmc detect: option out of range\n");
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_detect(const detect_args *a, int demo) {
    mf_img img;
    mf_img_info info;
    double t0 = now_ms();
    int st = mf_img_load(a->image, NULL, &img, &info);
    if (st) return fail(status_exit(st), NULL);
    double t1 = now_ms();
    mf_nn_pool_t *pool = NULL;
    if (a->threads != 1 && (st = mf_nn_pool_create(a->threads, &pool))) return fail(EXIT_INTERNAL, "threads");
    mf_face_detect_opts o = {a->detector, a->min_face, a->threshold, 0, pool};
    mf_face_detector_t *det;
    char human[4096];
    snprintf(human, sizeof human, "%.4000s/human", models_dir());
    if ((st = mf_face_detector_create(human, &o, &det))) {
        mf_img_free(&img);
        mf_nn_pool_free(pool);
        return fail(EXIT_INTERNAL, "cannot load the face detector (run `make setup`?)");
    }
    double t2 = now_ms();
    mf_face_box faces[MAX_FACES];
    int n = 0;
    st = mf_face_detect(det, &img, faces, MAX_FACES, &n);
    double t3 = now_ms();
    int tiles = mf_face_detector_last_tiles(det);
    mf_face_detector_free(det);
    mf_nn_pool_free(pool);
    if (st) {
        mf_img_free(&img);
        return fail(status_exit(st), "detection failed");
    }
    if (a->json) {
        printf("{\"image\":{\"width\":%d,\"height\":%d,\"orientation\":%d},\"faces\":[", img.w, img.h,
               info.orientation);
        for (int i = 0; i < n; i++) {
            const mf_face_box *b = &faces[i];
            printf("%s{\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":%.4f,\"roll\":%.2f,\"keypoints\":[", i ? "," : "", b->x,
                   b->y, b->w, b->h, b->score, b->roll * 180.0 / M_PI);
            for (int k = 0; k < MF_FACE_KP_COUNT; k++) printf("%s[%.1f,%.1f]", k ? "," : "", b->kp[k][0], b->kp[k][1]);
            printf("]}");
        }
        printf("]}\n");
    } else {
        printf("%s: %dx%d, %d face%s", a->image, img.w, img.h, n, n == 1 ? "" : "s");
        printf(" (decode %.0f ms, models %.0f ms, detection %.0f ms over %d tiles)\n", t1 - t0, t2 - t1, t3 - t2,
               tiles);
        for (int i = 0; i < n; i++) {
            const mf_face_box *b = &faces[i];
            printf("  face %d: box x=%.0f y=%.0f w=%.0f h=%.0f  score %.3f  roll %+.1f deg  eyes (%.0f,%.0f) (%.0f,%.0f)\n",
                   i + 1, b->x, b->y, b->w, b->h, b->score, b->roll * 180.0 / M_PI, b->kp[0][0], b->kp[0][1],
                   b->kp[1][0], b->kp[1][1]);
        }
        if (demo)
            printf("(next rounds replace every face without consent by a synthetic identity; see README.md)\n");
    }
    mf_img_free(&img);
    if (n == 0) {
        fprintf(stderr, "mfmc: no face found in %s\n", a->image);
        return EXIT_NOFACE;
    }
    return 0;
}

static int cmd_models(void) {
    static const char *human[] = {"blazeface", "blazeface-front", "facemesh-detection-short",
                                  "facemesh-detection-full", "facemesh", "iris", "faceres", "faceres-deep",
                                  "mobileface", "mobilefacenet", "gear", "age", "gender", "gender-ssrnet-imdb",
                                  "emotion", "antispoof", "selfie"};
    const char *dir = models_dir();
    int bad = 0;
    printf("models folder: %s\n", dir);
    for (size_t i = 0; i < sizeof human / sizeof *human; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/human/%s.json", dir, human[i]);
        mf_nn_model_t *m;
        double t0 = now_ms();
        int st = mf_nn_model_load_tfjs(p, &m);
        mf_nn_plan_t *pl = NULL;
        if (!st) st = mf_nn_plan_create(m, NULL, &pl);
        if (st) {
            printf("  %-26s FAILED: %s\n", human[i], mf_error_get());
            bad++;
            continue;
        }
        mf_nn_plan_stats s;
        mf_nn_plan_get_stats(pl, &s);
        mf_nn_shape in = mf_nn_model_input_shape(m, 0);
        printf("  %-26s ok  input %dx%dx%d  %4d nodes -> %3d steps  %6.2f MB weights  %7.3f GFLOP  (%.0f ms)\n",
               human[i], in.dim[1], in.dim[2], in.dim[3], mf_nn_model_node_count(m), s.steps,
               mf_nn_model_weight_bytes(m) / 1e6, s.flops / 1e9, now_ms() - t0);
        mf_nn_plan_free(pl);
        mf_nn_model_free(m);
    }
    return bad ? EXIT_INTERNAL : 0;
}

int main(int argc, char **argv) {
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "--models") && i + 1 < argc) {
            models_override = argv[i + 1];
            i += 2;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "mfmc: unknown option %s\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[i++];
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "detect")) {
        detect_args a;
        int r = parse_detect(argc - i, argv + i, &a);
        return r ? r : cmd_detect(&a, 0);
    }
    if (!strcmp(cmd, "demo")) {
        static char photo[4096];
        snprintf(photo, sizeof photo, "%s/demo/sample1.jpg", models_dir());
        detect_args a = {photo, 0, 0, 2, NULL, 0};
        printf("mfmc demo: face detection on %s\n", photo);
        return cmd_detect(&a, 1);
    }
    if (!strcmp(cmd, "models")) return cmd_models();
    fprintf(stderr, "mfmc: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
