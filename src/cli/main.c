/* mfmc command line. Exit codes: 0 ok, 1 no face found where one was needed, 2 bad input or usage,
 * 3 internal or environment error (models missing, out of memory). See docs/cli.md. */
#include "mfmc/analyze.h"
#include "mfmc/image.h"
#include "mfmc/nn.h"

#include <math.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_NOFACE = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3, MAX_FACES = 256, MAX_DIM = 4096 };

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
    fprintf(f,
            "usage: mfmc [--models DIR] COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  detect IMAGE [--json] [--min-face PX] [--iris] [--fast]\n"
            "            every face of a JPEG, PNG or WebP photo: box, score, 468-point mesh, head pose,\n"
            "            expression, age and gender (--fast: detection only)\n"
            "  embed IMAGE [--model NAME] [--all] [--json]\n"
            "            the embedding of the largest face (--all: of every face)\n"
            "  verify IMAGE_A IMAGE_B [--model NAME]\n"
            "            similarity of the largest faces of two photos, the threshold and the verdict\n"
            "  models    the models available, their files and checks\n"
            "  demo      analyse the demo photo (models/demo/sample1.jpg)\n"
            "  help      this text\n"
            "\n"
            "common options: --threads N (default 2), --detector NAME, --threshold T\n"
            "Models are read from --models DIR, $MFMC_MODELS, or ./models (`make setup` fetches them).\n"
            "Exit codes: 0 ok, 1 no face found where one was needed, 2 bad input or usage, 3 internal error.\n");
}

typedef struct {
    const char *image[2];
    int n_images;
    int json, min_face, threads, iris, fast, all;
    const char *detector, *model;
    float threshold;
} args;

static int parse(const char *cmd, int argc, char **argv, int want_images, args *a) {
    memset(a, 0, sizeof *a);
    a->threads = 2;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(s, "--json")) a->json = 1;
        else if (!strcmp(s, "--iris")) a->iris = 1;
        else if (!strcmp(s, "--fast")) a->fast = 1;
        else if (!strcmp(s, "--all")) a->all = 1;
        else if (!strcmp(s, "--min-face") && more) a->min_face = atoi(argv[++i]);
        else if (!strcmp(s, "--threads") && more) a->threads = atoi(argv[++i]);
        else if (!strcmp(s, "--detector") && more) a->detector = argv[++i];
        else if (!strcmp(s, "--threshold") && more) a->threshold = (float)atof(argv[++i]);
        else if (!strcmp(s, "--model") && more) a->model = argv[++i];
        else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            exit(0);
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "mfmc %s: unknown option or missing value: %s\n", cmd, s);
            return EXIT_USAGE;
        } else if (a->n_images < want_images)
            a->image[a->n_images++] = s;
        else {
            fprintf(stderr, "mfmc %s: unexpected argument %s\n", cmd, s);
            return EXIT_USAGE;
        }
    }
    if (a->n_images < want_images) {
        fprintf(stderr, "mfmc %s: missing IMAGE (see mfmc help)\n", cmd);
        return EXIT_USAGE;
    }
    if (a->min_face < 0 || a->min_face > 100000 || a->threads < 1 || a->threads > 64 || a->threshold < 0 ||
        a->threshold >= 1) {
        fprintf(stderr, "mfmc %s: option out of range\n", cmd);
        return EXIT_USAGE;
    }
    return 0;
}

/* Everything one command needs, created once. */
typedef struct {
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *an;
    mf_face_recognizer_t *rec;
    mf_face *faces;
} stack;

static void stack_free(stack *s) {
    mf_face_recognizer_free(s->rec);
    mf_face_analyzer_free(s->an);
    mf_nn_pool_free(s->pool);
    free(s->faces);
}

/* Creates what a command needs; on failure releases it, prints why and returns the exit code. */
static int stack_init(stack *s, const args *a, int analyse, const char *recognizer) {
    memset(s, 0, sizeof *s);
    int r = 0;
    mf_face_analyzer_opts o = {.detector = a->detector, .min_face = a->min_face, .threshold = a->threshold,
                               .no_mesh = a->fast, .iris = a->iris, .no_attributes = a->fast || !analyse};
    if (a->threads > 1 && mf_nn_pool_create(a->threads, &s->pool)) return fail(EXIT_INTERNAL, "threads");
    o.pool = s->pool;
    if (!(s->faces = calloc(MAX_FACES, sizeof *s->faces))) r = fail(EXIT_INTERNAL, "out of memory");
    else if (mf_face_analyzer_create(models_dir(), &o, &s->an))
        r = fail(EXIT_INTERNAL, "cannot load the face models (run `make setup`?)");
    else if (recognizer && !mf_face_recognizer_find(recognizer)) {
        fprintf(stderr, "mfmc: unknown recognizer '%s'; known:", recognizer);
        for (int i = 0; i < mf_face_recognizer_count(); i++)
            fprintf(stderr, " %s", mf_face_recognizer_info_at(i)->name);
        fprintf(stderr, "\n");
        r = EXIT_USAGE;
    } else if (recognizer && mf_face_recognizer_create(models_dir(), recognizer, s->pool, &s->rec))
        r = fail(EXIT_INTERNAL, "cannot load the recognizer");
    if (r) stack_free(s);
    return r;
}

static int load_and_analyse(stack *s, const char *path, mf_img *img, mf_img_info *info, int *n, double *ms) {
    int st = mf_img_load(path, NULL, img, info);
    if (st) return fail(status_exit(st), NULL);
    double t0 = now_ms();
    st = mf_face_analyze(s->an, img, s->faces, MAX_FACES, n);
    if (ms) *ms = now_ms() - t0;
    if (st) {
        mf_img_free(img);
        return fail(status_exit(st), "analysis failed");
    }
    return 0;
}

static const char *primary_recognizer(void) {
    for (int i = 0; i < mf_face_recognizer_count(); i++)
        if (mf_face_recognizer_info_at(i)->primary) return mf_face_recognizer_info_at(i)->name;
    return mf_face_recognizer_info_at(0)->name;
}

static void print_face_json(const mf_face *f) {
    const mf_face_box *b = &f->det;
    printf("{\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":%.4f", b->x, b->y, b->w, b->h, b->score);
    printf(",\"keypoints\":[");
    for (int k = 0; k < MF_FACE_KP_COUNT; k++) printf("%s[%.1f,%.1f]", k ? "," : "", b->kp[k][0], b->kp[k][1]);
    printf("]");
    if (f->has_landmarks) {
        const mf_face_landmarks *l = &f->lm;
        printf(",\"landmarks\":[");
        for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
            printf("%s[%.1f,%.1f,%.1f]", i ? "," : "", l->pt[i][0], l->pt[i][1], l->pt[i][2]);
        printf("],\"mesh_score\":%.4f", l->score);
        printf(",\"pose\":{\"yaw\":%.1f,\"pitch\":%.1f,\"roll\":%.1f}", l->yaw, l->pitch, l->roll);
        printf(",\"expression\":{\"eye_open\":[%.3f,%.3f],\"mouth_open\":%.3f}", l->eye_open[0], l->eye_open[1],
               l->mouth_open);
        if (l->has_iris) {
            printf(",\"iris\":[");
            for (int e = 0; e < 2; e++) printf("%s[%.1f,%.1f]", e ? "," : "", l->iris[e][0][0], l->iris[e][0][1]);
            printf("]");
        }
    } else {
        printf(",\"pose\":{\"roll\":%.1f}", b->roll * 180.0 / M_PI);
    }
    if (f->attr.age >= 0) printf(",\"age\":%.1f", f->attr.age);
    if (f->attr.gender != MF_GENDER_UNKNOWN)
        printf(",\"gender\":{\"label\":\"%s\",\"score\":%.3f}", f->attr.gender == MF_GENDER_FEMALE ? "female" : "male",
               f->attr.gender_score);
    printf("}");
}

static int cmd_detect(const args *a, int demo) {
    stack s;
    int r = stack_init(&s, a, 1, NULL);
    if (r) return r;
    mf_img img;
    mf_img_info info;
    int n;
    double ms;
    if ((r = load_and_analyse(&s, a->image[0], &img, &info, &n, &ms))) {
        stack_free(&s);
        return r;
    }
    if (a->json) {
        printf("{\"image\":{\"path\":\"");
        for (const char *c = a->image[0]; *c; c++) printf(*c == '"' || *c == '\\' ? "\\%c" : (unsigned char)*c < 32 ? "?" : "%c", *c);
        printf("\",\"width\":%d,\"height\":%d,\"orientation\":%d},\"faces\":[", img.w, img.h, info.orientation);
        for (int i = 0; i < n; i++) {
            if (i) printf(",");
            print_face_json(&s.faces[i]);
        }
        printf("]}\n");
    } else {
        mf_face_analyzer_counts c;
        mf_face_analyzer_last_counts(s.an, &c);
        printf("%s: %dx%d, %d face%s (%.0f ms: %d detector tiles, %d meshes)\n", a->image[0], img.w, img.h, n,
               n == 1 ? "" : "s", ms, c.detector_tiles, c.mesh_runs);
        for (int i = 0; i < n; i++) {
            const mf_face *f = &s.faces[i];
            printf("  face %d: box x=%.0f y=%.0f w=%.0f h=%.0f score %.2f", i + 1, f->det.x, f->det.y, f->det.w,
                   f->det.h, f->det.score);
            if (f->has_landmarks)
                printf("  yaw %+.0f pitch %+.0f roll %+.0f  eyes %.2f/%.2f mouth %.2f", f->lm.yaw, f->lm.pitch,
                       f->lm.roll, f->lm.eye_open[0], f->lm.eye_open[1], f->lm.mouth_open);
            if (f->attr.age >= 0) printf("  age %.0f", f->attr.age);
            if (f->attr.gender != MF_GENDER_UNKNOWN)
                printf(" %s %.2f", f->attr.gender == MF_GENDER_FEMALE ? "female" : "male", f->attr.gender_score);
            printf("\n");
        }
        if (demo) printf("(next rounds replace every face without consent by a synthetic identity; see README.md)\n");
    }
    mf_img_free(&img);
    stack_free(&s);
    return 0;
}

static void print_embedding(const float *e, int dim) {
    printf("[");
    for (int k = 0; k < dim; k++) printf("%s%.6g", k ? "," : "", e[k]);
    printf("]");
}

static int cmd_embed(const args *a) {
    const char *model = a->model ? a->model : primary_recognizer();
    stack s;
    int r = stack_init(&s, a, 0, model);
    if (r) return r;
    mf_img img;
    int n;
    if ((r = load_and_analyse(&s, a->image[0], &img, NULL, &n, NULL))) {
        stack_free(&s);
        return r;
    }
    if (n == 0) {
        fprintf(stderr, "mfmc: no face found in %s\n", a->image[0]);
        mf_img_free(&img);
        stack_free(&s);
        return EXIT_NOFACE;
    }
    const mf_face_recognizer_info *info = mf_face_recognizer_info_of(s.rec);
    int from = a->all ? 0 : mf_face_largest(s.faces, n), to = a->all ? n : from + 1;
    static float emb[MAX_DIM];
    printf(a->json ? "{\"model\":\"%s\",\"dim\":%d,\"faces\":[" : "model %s, dim %d\n", info->name, info->dim);
    for (int i = from; i < to; i++) {
        float pts[5][2];
        mf_face_5pt(&s.faces[i], pts);
        if ((r = mf_face_recognizer_embed(s.rec, &img, (const float(*)[2])pts, emb))) {
            mf_img_free(&img);
            stack_free(&s);
            return fail(status_exit(r), "embedding failed");
        }
        const mf_face_box *b = &s.faces[i].det;
        if (a->json) {
            printf("%s{\"box\":[%.1f,%.1f,%.1f,%.1f],\"embedding\":", i > from ? "," : "", b->x, b->y, b->w, b->h);
            print_embedding(emb, info->dim);
            printf("}");
        } else {
            printf("face box x=%.0f y=%.0f w=%.0f h=%.0f: ", b->x, b->y, b->w, b->h);
            print_embedding(emb, info->dim);
            printf("\n");
        }
    }
    if (a->json) printf("]}\n");
    mf_img_free(&img);
    stack_free(&s);
    return 0;
}

static int cmd_verify(const args *a) {
    const char *model = a->model ? a->model : primary_recognizer();
    stack s;
    int r = stack_init(&s, a, 0, model);
    if (r) return r;
    const mf_face_recognizer_info *info = mf_face_recognizer_info_of(s.rec);
    static float emb[2][MAX_DIM];
    for (int k = 0; k < 2; k++) {
        mf_img img;
        int n;
        if ((r = load_and_analyse(&s, a->image[k], &img, NULL, &n, NULL))) {
            stack_free(&s);
            return r;
        }
        if (n == 0) {
            fprintf(stderr, "mfmc: no face found in %s\n", a->image[k]);
            mf_img_free(&img);
            stack_free(&s);
            return EXIT_NOFACE;
        }
        float pts[5][2];
        mf_face_5pt(&s.faces[mf_face_largest(s.faces, n)], pts);
        r = mf_face_recognizer_embed(s.rec, &img, (const float(*)[2])pts, emb[k]);
        mf_img_free(&img);
        if (r) {
            stack_free(&s);
            return fail(status_exit(r), "embedding failed");
        }
    }
    float sim = mf_face_similarity(emb[0], emb[1], info->dim);
    int same = info->match_threshold > 0 && sim >= info->match_threshold;
    printf("model %s: similarity %.4f, threshold %.4f (FAR 1e-3 on LFW): %s\n", info->name, sim,
           info->match_threshold, info->match_threshold > 0 ? (same ? "same person" : "different people")
                                                            : "no measured threshold");
    stack_free(&s);
    return 0;
}

/* printf onto the end of buf (truncating). */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t cap, const char *fmt, ...) {
    size_t o = strlen(buf);
    if (o + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + o, cap - o, fmt, ap);
    va_end(ap);
}

/* sha256 of a file as hex and its size; -1 when unreadable. */
static int file_sha256(const char *path, char hex[65], long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[1 << 16], out[32];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crypto_hash_sha256_update(&st, buf, n);
        *size += (long)n;
    }
    fclose(f);
    crypto_hash_sha256_final(&st, out);
    sodium_bin2hex(hex, 65, out, 32);
    return 0;
}

/* Expected sha256 of a model file from data/models.sha256 next to the models folder's source tree, or NULL. */
static const char *expected_sha(const char *rel, char *line, size_t cap) {
    char beside[4096];
    snprintf(beside, sizeof beside, "%.4000s/../data/models.sha256", models_dir());
    const char *candidates[] = {"data/models.sha256", beside};
    for (int c = 0; c < 2; c++) {
        FILE *f = fopen(candidates[c], "r");
        if (!f) continue;
        while (fgets(line, (int)cap, f)) {
            char *sp = strstr(line, "  ");
            if (line[0] == '#' || !sp) continue;
            char *name = sp + 2;
            name[strcspn(name, "\r\n")] = '\0';
            if (!strcmp(name, rel)) {
                *sp = '\0';
                fclose(f);
                return line;
            }
        }
        fclose(f);
    }
    return NULL;
}

static int cmd_models(void) {
    static const char *human[] = {"blazeface", "blazeface-front", "facemesh-detection-short",
                                  "facemesh-detection-full", "facemesh", "iris", "faceres", "faceres-deep",
                                  "mobileface", "mobilefacenet", "gear", "age", "gender", "gender-ssrnet-imdb",
                                  "emotion", "antispoof", "selfie"};
    const char *dir = models_dir();
    int bad = 0;
    if (sodium_init() < 0) return fail(EXIT_INTERNAL, "libsodium");
    printf("models folder: %s\n", dir);
    enum { N_HUMAN = sizeof human / sizeof *human };
    for (int i = 0; i < N_HUMAN + 2; i++) {
        char p[4096], files[2][256];
        const char *name;
        mf_nn_model_t *m = NULL;
        int st;
        double t0 = now_ms();
        if (i < N_HUMAN) {
            name = human[i];
            snprintf(files[0], sizeof files[0], "human/%s.json", name);
            snprintf(files[1], sizeof files[1], "human/%s.bin", name);
            snprintf(p, sizeof p, "%s/%s", dir, files[0]);
            st = mf_nn_model_load_tfjs(p, &m);
        } else if (i == N_HUMAN) {
            name = "faceapi-recognition";
            snprintf(files[0], sizeof files[0], "faceapi/face_recognition_model-weights_manifest.json");
            snprintf(files[1], sizeof files[1], "faceapi/face_recognition_model.bin");
            snprintf(p, sizeof p, "%s/%s", dir, files[0]);
            st = mf_nn_model_load_faceapi_recognition(p, &m);
        } else {
            name = "fr_feature (arcface)";
            snprintf(files[0], sizeof files[0], "faceplugin/fr_feature.onnx");
            files[1][0] = '\0';
            snprintf(p, sizeof p, "%s/%s", dir, files[0]);
            st = mf_nn_model_load_onnx(p, &m);
        }
        mf_nn_plan_t *pl = NULL;
        if (!st) st = mf_nn_plan_create(m, NULL, &pl);
        char check[512] = "";
        int checks_ok = 1;
        for (int k = 0; k < 2 && files[k][0]; k++) {
            char fp[4096], hex[65], line[512];
            long size = 0;
            snprintf(fp, sizeof fp, "%s/%s", dir, files[k]);
            const char *want = expected_sha(files[k], line, sizeof line);
            if (file_sha256(fp, hex, &size)) {
                append(check, sizeof check, " %s: missing;", files[k]);
                checks_ok = 0;
            } else if (!want) {
                append(check, sizeof check, " %s %ld B sha256 %.12s (no reference);", files[k], size, hex);
            } else if (strcmp(want, hex)) {
                append(check, sizeof check, " %s: sha256 MISMATCH;", files[k]);
                checks_ok = 0;
            } else {
                append(check, sizeof check, " %s %ld B sha256 ok;", files[k], size);
            }
        }
        if (st || !checks_ok) {
            printf("  %-24s FAILED:%s %s\n", name, check, st ? mf_error_get() : "");
            bad++;
        } else {
            mf_nn_plan_stats s;
            mf_nn_plan_get_stats(pl, &s);
            mf_nn_shape in = mf_nn_model_input_shape(m, 0);
            printf("  %-24s ok  input %dx%dx%d  %7.3f GFLOP  %3d steps  (%.0f ms)\n     %s\n", name, in.dim[1],
                   in.dim[2], in.dim[3], s.flops / 1e9, s.steps, now_ms() - t0, check + 1);
        }
        mf_nn_plan_free(pl);
        mf_nn_model_free(m);
    }
    printf("recognizers (registry):\n");
    for (int i = 0; i < mf_face_recognizer_count(); i++) {
        const mf_face_recognizer_info *r = mf_face_recognizer_info_at(i);
        printf("  %-14s dim %4d %s%s match threshold %.4f  dissimilarity threshold %.4f  %s\n", r->name, r->dim,
               r->primary ? "[primary] " : "", r->ensemble ? "[ensemble]" : "", r->match_threshold,
               r->dissimilarity_threshold, r->description ? r->description : "");
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
    args a;
    int r;
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "detect")) return (r = parse(cmd, argc - i, argv + i, 1, &a)) ? r : cmd_detect(&a, 0);
    if (!strcmp(cmd, "embed")) return (r = parse(cmd, argc - i, argv + i, 1, &a)) ? r : cmd_embed(&a);
    if (!strcmp(cmd, "verify")) return (r = parse(cmd, argc - i, argv + i, 2, &a)) ? r : cmd_verify(&a);
    if (!strcmp(cmd, "models")) return cmd_models();
    if (!strcmp(cmd, "demo")) {
        static char photo[4096];
        snprintf(photo, sizeof photo, "%.4000s/demo/sample1.jpg", models_dir());
        if ((r = parse(cmd, argc - i, argv + i, 0, &a))) return r;
        a.image[0] = photo;
        printf("mfmc demo: face analysis of %s\n", photo);
        return cmd_detect(&a, 1);
    }
    fprintf(stderr, "mfmc: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
