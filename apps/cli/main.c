/* mfmc command line. Exit codes: 0 ok, 1 no face found where one was needed, 2 bad input or usage,
 * 3 internal or environment error (models missing or damaged, out of memory, output not written). See
 * docs/cli.md. */
#include "cli/cmds.h"
#include "cli/serve.h"
#include "common/json.h"
#include "common/models.h"
#include "common/opts.h"
#include "mfmc/analyze.h"
#include "mfmc/image.h"
#include "mfmc/nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* MAX_DIM: largest embedding (mfmc/limits.h); the other limits bound option values. */
enum {
    EXIT_NOFACE = APP_EXIT_NOFACE, EXIT_USAGE = APP_EXIT_USAGE, EXIT_INTERNAL = APP_EXIT_INTERNAL,
    MAX_DIM = MF_FACE_MAX_EMBEDDING_DIM,
    MAX_THREADS = 64, MIN_FACE_MIN = 1, MIN_FACE_MAX = 100000
};

static const char *models_override;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Models root: --models, $MFMC_MODELS, ./models, or models/ of the source tree this binary was built in. */
static const char *models_dir(void) { return app_models_dir(models_override); }

static int fail(int code, const char *what) {
    fprintf(stderr, "mfmc: %s%s%s\n", what ? what : "", what && *mf_error_get() ? ": " : "", mf_error_get());
    return code;
}

/* Exit code of a library status: the input's fault (2) or the environment's (3: models, memory, damaged files). */
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
            "  detect IMAGE [--json] [--iris | --fast] [--privacy]\n"
            "            every face of a JPEG, PNG or WebP photo: box, score, 468-point mesh, head pose,\n"
            "            expression, age and gender (--fast: detection only; --privacy: the detection of\n"
            "            anonymization: any rotation, cut by the border, from 16 px, unconfirmed candidates kept)\n"
            "  embed IMAGE [--model NAME] [--all] [--json]\n"
            "            the embedding of the largest face (--all: of every face)\n"
            "  verify IMAGE_A IMAGE_B [--model NAME] [--json]\n"
            "            similarity of the largest faces of two photos, the threshold and the verdict\n"
            "  models [--sha256sum]\n"
            "            the models mfmc uses, their roles, files and checks (--sha256sum: the catalogue's\n"
            "            checksums in sha256sum format)\n"
            "  demo [--json] [--iris | --fast]\n"
            "            analyse the demo photo (models/demo/sample1.jpg)\n"
            "  anonymize INPUT... -o OUT [--keep I,J] [--seed N] [--pseudonym KEY] [--method M] [--report FILE]\n"
            "            replace every face by a synthetic face of nobody (docs/anonymization.md)\n"
            "  identity train DIR -o FILE [--clean LIST] | identity info FILE\n"
            "            train / describe the identity model (docs/identity-model.md)\n"
            "  eval [--quick] [--data DIR] [--out DIR] [--methods ...] [--recognizers ...] [--limit N]\n"
            "            measures anonymization against every recognizer, writes eval-report/ (docs/evaluation.md;\n"
            "            `mfmc eval --help`)\n"
            "  serve [--db PATH|postgres://...] [--listen ADDR:PORT] [--access-model open|sealed|strict]\n"
            "            the consent-based photo network server (docs/server.md; `mfmc serve --help`)\n"
            "  help      this text\n"
            "\n"
            "options of detect, embed, verify, demo:\n"
            "  --threads N (1..%d, default 2), --min-face PX (%d..%d, default 24),\n"
            "  --detector NAME (default facemesh-detection-full; blazeface, facemesh-detection-short),\n"
            "  --threshold T (0 < T < 1: report only faces whose detector score is at least T)\n"
            "Models are read from --models DIR, $MFMC_MODELS, or ./models (`make setup` fetches them).\n"
            "Exit codes: 0 ok, 1 no face found where one was needed, 2 bad input or usage, 3 internal or\n"
            "environment error (models missing or damaged, out of memory, output not written).\n",
            MAX_THREADS, MIN_FACE_MIN, MIN_FACE_MAX);
}

/* Options; each command accepts a subset (cmd_spec.allowed). */
enum {
    OPT_JSON = 1 << 0, OPT_IRIS = 1 << 1, OPT_FAST = 1 << 2, OPT_ALL = 1 << 3, OPT_MODEL = 1 << 4,
    OPT_MIN_FACE = 1 << 5, OPT_THREADS = 1 << 6, OPT_DETECTOR = 1 << 7, OPT_THRESHOLD = 1 << 8,
    OPT_SHA256SUM = 1 << 9,
    OPT_PRIVACY = 1 << 10,
    OPT_ANALYSIS = OPT_MIN_FACE | OPT_THREADS | OPT_DETECTOR | OPT_THRESHOLD,
};
static const struct {
    const char *name;
    int bit, takes_value;
} option_table[] = {
    {"--json", OPT_JSON, 0},         {"--iris", OPT_IRIS, 0},          {"--fast", OPT_FAST, 0},
    {"--all", OPT_ALL, 0},           {"--model", OPT_MODEL, 1},        {"--min-face", OPT_MIN_FACE, 1},
    {"--threads", OPT_THREADS, 1},   {"--detector", OPT_DETECTOR, 1},  {"--threshold", OPT_THRESHOLD, 1},
    {"--sha256sum", OPT_SHA256SUM, 0},
    {"--privacy", OPT_PRIVACY, 0},
};
enum { N_OPTIONS = sizeof option_table / sizeof *option_table };

typedef struct {
    const char *name;
    int n_images; /* positional IMAGE arguments */
    int allowed;  /* OPT_* bits */
} cmd_spec;

typedef struct {
    const char *image[2];
    int n_images;
    int seen; /* OPT_* bits given */
    int json, min_face, threads, iris, fast, all, sha256sum, privacy;
    const char *detector, *model;
    float threshold;
} args;

static void list_allowed(FILE *f, int allowed) {
    for (int k = 0; k < N_OPTIONS; k++)
        if (allowed & option_table[k].bit) fprintf(f, " %s", option_table[k].name);
}

static int usable_recognizer(const mf_face_recognizer_info *r) { return r && !r->unusable; }

static void list_recognizers(FILE *f) {
    for (int i = 0; i < mf_face_recognizer_count(); i++)
        if (usable_recognizer(mf_face_recognizer_info_at(i))) fprintf(f, " %s", mf_face_recognizer_info_at(i)->name);
}

/* Parses the arguments after the command name strictly: every option must belong to the command, every value
 * must parse completely and lie in its range, and every name must be known. Returns 0, 1 after printing help,
 * or EXIT_USAGE after printing why. */
static int parse(const cmd_spec *c, int argc, char **argv, args *a) {
    memset(a, 0, sizeof *a);
    a->threads = 2;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        }
        if (s[0] == '-' && s[1]) {
            int k = 0;
            while (k < N_OPTIONS && strcmp(s, option_table[k].name)) k++;
            if (k == N_OPTIONS || !(c->allowed & option_table[k].bit)) {
                fprintf(stderr, "mfmc %s: %s option %s; %s takes:", c->name, k == N_OPTIONS ? "unknown" : "no",
                        s, c->name);
                if (c->allowed) list_allowed(stderr, c->allowed);
                else fprintf(stderr, " no options");
                fprintf(stderr, "\n");
                return EXIT_USAGE;
            }
            const char *v = NULL;
            if (option_table[k].takes_value) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "mfmc %s: %s needs a value\n", c->name, s);
                    return EXIT_USAGE;
                }
                v = argv[++i];
            }
            int bit = option_table[k].bit, r = 0;
            a->seen |= bit;
            switch (bit) {
            case OPT_JSON: a->json = 1; break;
            case OPT_IRIS: a->iris = 1; break;
            case OPT_FAST: a->fast = 1; break;
            case OPT_ALL: a->all = 1; break;
            case OPT_SHA256SUM: a->sha256sum = 1; break;
            case OPT_PRIVACY: a->privacy = 1; break;
            case OPT_MODEL: a->model = v; break;
            case OPT_DETECTOR: a->detector = v; break;
            case OPT_MIN_FACE: r = app_parse_int(c->name, s, v, MIN_FACE_MIN, MIN_FACE_MAX, &a->min_face); break;
            case OPT_THREADS: r = app_parse_int(c->name, s, v, 1, MAX_THREADS, &a->threads); break;
            case OPT_THRESHOLD: r = app_parse_float_open(c->name, s, v, 0.0, 1.0, &a->threshold); break;
            }
            if (r) return r;
        } else if (a->n_images < c->n_images) {
            a->image[a->n_images++] = s;
        } else {
            fprintf(stderr, "mfmc %s: unexpected argument %s\n", c->name, s);
            return EXIT_USAGE;
        }
    }
    if (a->n_images < c->n_images) {
        fprintf(stderr, "mfmc %s: missing IMAGE (see mfmc help)\n", c->name);
        return EXIT_USAGE;
    }
    if (a->fast && a->iris) {
        fprintf(stderr, "mfmc %s: --iris has no effect with --fast (no mesh): give one of them\n", c->name);
        return EXIT_USAGE;
    }
    if (a->detector) {
        int k = 0;
        while (mf_face_detector_model_at(k) && strcmp(mf_face_detector_model_at(k), a->detector)) k++;
        if (!mf_face_detector_model_at(k)) {
            fprintf(stderr, "mfmc %s: unknown detector '%s'; known:", c->name, a->detector);
            for (k = 0; mf_face_detector_model_at(k); k++) fprintf(stderr, " %s", mf_face_detector_model_at(k));
            fprintf(stderr, "\n");
            return EXIT_USAGE;
        }
    }
    if (a->model) {
        const mf_face_recognizer_info *r = mf_face_recognizer_find(a->model);
        if (!usable_recognizer(r)) {
            if (r)
                fprintf(stderr, "mfmc %s: recognizer '%s' is not usable (%s); usable:", c->name, a->model,
                        "near chance on LFW: any two faces score about 1.0");
            else
                fprintf(stderr, "mfmc %s: unknown recognizer '%s'; usable:", c->name, a->model);
            list_recognizers(stderr);
            fprintf(stderr, "\n");
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Everything one command needs, created once. */
typedef struct {
    mf_nn_pool_t *pool;
    mf_face_analyzer_t *an;
    mf_face_recognizer_t *rec;
} stack;

static void stack_free(stack *s) {
    mf_face_recognizer_free(s->rec);
    mf_face_analyzer_free(s->an);
    mf_nn_pool_free(s->pool);
}

/* Creates what a command needs (the inputs are checked before: loading the models takes a while); on failure
 * releases it, prints why and returns the exit code. */
static int stack_init(stack *s, const args *a, int analyse, const char *recognizer) {
    memset(s, 0, sizeof *s);
    int r = 0, st;
    mf_face_analyzer_opts o = {.detector = a->detector, .min_face = a->min_face, .threshold = a->threshold,
                               .no_mesh = a->fast, .iris = a->iris, .no_attributes = a->fast || !analyse,
                               .strict_threshold = (a->seen & OPT_THRESHOLD) != 0, .privacy = a->privacy};
    if (a->threads > 1 && mf_nn_pool_create(a->threads, &s->pool)) return fail(EXIT_INTERNAL, "threads");
    o.pool = s->pool;
    if ((st = mf_face_analyzer_create(models_dir(), &o, &s->an)))
        r = fail(EXIT_INTERNAL, "cannot load the face models (run `make setup`?)");
    else if (recognizer && (st = mf_face_recognizer_create(models_dir(), recognizer, s->pool, &s->rec)))
        r = fail(EXIT_INTERNAL, "cannot load the recognizer");
    if (r) stack_free(s);
    return r;
}

/* Reads the image (before any model is loaded: a bad path is reported at once, with the reason). */
static int load_image(const char *path, mf_img *img, mf_img_info *info) {
    int st = mf_img_load(path, NULL, img, info);
    return st ? fail(status_exit(st), NULL) : 0;
}

static int analyse(stack *s, const mf_img *img, const mf_face **faces, int *n, double *ms) {
    double t0 = now_ms();
    int st = mf_face_analyze_all(s->an, img, faces, n);
    if (ms) *ms = now_ms() - t0;
    return st ? fail(status_exit(st), "analysis failed") : 0;
}

static const char *primary_recognizer(void) {
    for (int i = 0; i < mf_face_recognizer_count(); i++)
        if (mf_face_recognizer_info_at(i)->primary) return mf_face_recognizer_info_at(i)->name;
    return mf_face_recognizer_info_at(0)->name;
}

static void print_face_json(const mf_face *f) {
    const mf_face_box *b = &f->det;
    printf("{\"box\":[%.1f,%.1f,%.1f,%.1f],\"score\":%.4f,\"confirmed\":%s", b->x, b->y, b->w, b->h, b->score,
           f->confirmed ? "true" : "false");
    if (f->way_up_doubtful) printf(",\"way_up_doubtful\":true");
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
    mf_img img;
    mf_img_info info;
    int r = load_image(a->image[0], &img, &info);
    if (r) return r;
    stack s;
    if ((r = stack_init(&s, a, 1, NULL))) {
        mf_img_free(&img);
        return r;
    }
    const mf_face *faces;
    int n;
    double ms;
    if ((r = analyse(&s, &img, &faces, &n, &ms))) {
        mf_img_free(&img);
        stack_free(&s);
        return r;
    }
    if (a->json) {
        printf("{\"image\":{");
        app_json_path_field(stdout, "path", a->image[0]);
        printf(",\"width\":%d,\"height\":%d,\"orientation\":%d},\"faces\":[", img.w, img.h, info.orientation);
        for (int i = 0; i < n; i++) {
            if (i) printf(",");
            print_face_json(&faces[i]);
        }
        printf("]}\n");
    } else {
        mf_face_analyzer_counts c;
        mf_face_analyzer_last_counts(s.an, &c);
        printf("%s: %dx%d, %d face%s (%.0f ms: %d detector tiles, %d meshes)\n", a->image[0], img.w, img.h, n,
               n == 1 ? "" : "s", ms, c.detector_tiles, c.mesh_runs);
        for (int i = 0; i < n; i++) {
            const mf_face *f = &faces[i];
            printf("  face %d: box x=%.0f y=%.0f w=%.0f h=%.0f score %.2f", i + 1, f->det.x, f->det.y, f->det.w,
                   f->det.h, f->det.score);
            if (f->has_landmarks)
                printf("  yaw %+.0f pitch %+.0f roll %+.0f  eyes %.2f/%.2f mouth %.2f", f->lm.yaw, f->lm.pitch,
                       f->lm.roll, f->lm.eye_open[0], f->lm.eye_open[1], f->lm.mouth_open);
            if (f->attr.age >= 0) printf("  age %.0f", f->attr.age);
            if (f->attr.gender != MF_GENDER_UNKNOWN)
                printf(" %s %.2f", f->attr.gender == MF_GENDER_FEMALE ? "female" : "male", f->attr.gender_score);
            if (!f->confirmed)
                printf("  roll %+.0f  %s (fallback, no face painted)", f->det.roll * 180.0 / M_PI,
                       f->way_up_doubtful ? "way up in doubt (the mesh and the detector disagree)"
                                          : "non-face candidate (not confirmed by the mesh)");
            printf("\n");
        }
        if (demo) printf("(`make demo` next anonymizes this photo: mfmc anonymize, docs/anonymization.md)\n");
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
    mf_img img;
    int r = load_image(a->image[0], &img, NULL);
    if (r) return r;
    stack s;
    if ((r = stack_init(&s, a, 0, model))) {
        mf_img_free(&img);
        return r;
    }
    const mf_face *faces;
    int n;
    if (!(r = analyse(&s, &img, &faces, &n, NULL)) && n == 0) {
        fprintf(stderr, "mfmc: no face found in %s\n", a->image[0]);
        r = EXIT_NOFACE;
    }
    if (r) {
        mf_img_free(&img);
        stack_free(&s);
        return r;
    }
    const mf_face_recognizer_info *info = mf_face_recognizer_info_of(s.rec);
    int from = a->all ? 0 : mf_face_largest(faces, n), to = a->all ? n : from + 1;
    static float emb[MAX_DIM];
    printf(a->json ? "{\"model\":\"%s\",\"dim\":%d,\"faces\":[" : "model %s, dim %d\n", info->name, info->dim);
    for (int i = from; i < to; i++) {
        float pts[5][2];
        mf_face_5pt(&faces[i], pts);
        if ((r = mf_face_recognizer_embed(s.rec, &img, (const float(*)[2])pts, emb))) {
            if (a->json) printf("]}\n"); /* what was printed stays one JSON value; the exit code says it failed */
            mf_img_free(&img);
            stack_free(&s);
            return fail(status_exit(r), "embedding failed");
        }
        const mf_face_box *b = &faces[i].det;
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
    mf_img img[2] = {{0}};
    int r = load_image(a->image[0], &img[0], NULL);
    if (!r && (r = load_image(a->image[1], &img[1], NULL))) mf_img_free(&img[0]);
    if (r) return r;
    stack s;
    if ((r = stack_init(&s, a, 0, model))) {
        mf_img_free(&img[0]);
        mf_img_free(&img[1]);
        return r;
    }
    const mf_face_recognizer_info *info = mf_face_recognizer_info_of(s.rec);
    static float emb[2][MAX_DIM];
    for (int k = 0; k < 2 && !r; k++) {
        const mf_face *faces;
        int n;
        if ((r = analyse(&s, &img[k], &faces, &n, NULL))) break;
        if (n == 0) {
            fprintf(stderr, "mfmc: no face found in %s\n", a->image[k]);
            r = EXIT_NOFACE;
            break;
        }
        float pts[5][2];
        mf_face_5pt(&faces[mf_face_largest(faces, n)], pts);
        int st = mf_face_recognizer_embed(s.rec, &img[k], (const float(*)[2])pts, emb[k]);
        if (st) r = fail(status_exit(st), "embedding failed");
    }
    mf_img_free(&img[0]);
    mf_img_free(&img[1]);
    stack_free(&s);
    if (r) return r;
    float sim = mf_face_similarity(emb[0], emb[1], info->dim);
    int measured = info->match_threshold > 0, same = measured && sim >= info->match_threshold;
    const char *verdict = measured ? (same ? "same person" : "different people") : "no measured threshold";
    if (a->json) {
        printf("{\"model\":\"%s\",\"images\":[", info->name);
        for (int k = 0; k < 2; k++) {
            printf("%s{", k ? "," : "");
            app_json_path_field(stdout, "path", a->image[k]);
            printf("}");
        }
        printf("],\"similarity\":%.4f,\"threshold\":%.4f,\"same_person\":%s,\"verdict\":\"%s\"}\n", sim,
               info->match_threshold, same ? "true" : "false", verdict);
    } else {
        printf("model %s: similarity %.4f, threshold %.4f (FAR 1e-3 on LFW): %s\n", info->name, sim,
               info->match_threshold, verdict);
    }
    return 0;
}

/* The catalogue's models (src/face/catalog.c): each loaded and planned, its files checked against the sha256 the
 * catalogue gives; then the recognizer registry. With --sha256sum, the catalogue's checksums in `sha256sum`
 * format instead (data/models.sha256 is that output). */
static int cmd_models(const args *a) {
    if (a->sha256sum) {
        for (int i = 0; i < mf_face_model_count(); i++) {
            const mf_face_model_info *m = mf_face_model_at(i);
            for (int k = 0; k < 2; k++)
                if (m->files[k]) printf("%s  %s\n", m->sha256[k], m->files[k]);
        }
        return 0;
    }
    const char *dir = models_dir();
    int bad = 0;
    if (app_models_init()) return fail(EXIT_INTERNAL, "libsodium");
    printf("models folder: %s\n", dir);
    for (int i = 0; i < mf_face_model_count(); i++) {
        const mf_face_model_info *m = mf_face_model_at(i);
        char p[4096], roles[128], report[2][512];
        double t0 = now_ms();
        mf_nn_model_t *model = NULL;
        mf_nn_plan_t *pl = NULL;
        int st = snprintf(p, sizeof p, "%s/%s", dir, m->files[0]) >= (int)sizeof p
                     ? mf_error_set(MF_ERR_ARG, "models path too long")
                     : mf_nn_model_load(p, m->format, &model);
        if (!st) st = mf_nn_plan_create(model, NULL, &pl);
        int checks_ok = app_model_check(dir, m, report);
        mf_face_model_roles(m->roles, roles, sizeof roles);
        if (st || !checks_ok) {
            printf("  %-24s %-20s FAILED:", m->name, roles);
            for (int k = 0; k < 2; k++)
                if (report[k][0]) printf(" %s;", report[k]);
            printf(" %s\n", st ? mf_error_get() : "");
            bad++;
        } else {
            mf_nn_plan_stats s;
            mf_nn_plan_get_stats(pl, &s);
            mf_nn_shape in = mf_nn_model_input_shape(model, 0);
            printf("  %-24s %-20s ok  input %dx%dx%d  %7.3f GFLOP  %3d steps  (%.0f ms)\n", m->name, roles, in.dim[1],
                   in.dim[2], in.dim[3], s.flops / 1e9, s.steps, now_ms() - t0);
            for (int k = 0; k < 2; k++)
                if (report[k][0]) printf("     %s\n", report[k]);
        }
        mf_nn_plan_free(pl);
        mf_nn_model_free(model);
    }
    printf("recognizers (registry):\n");
    for (int i = 0; i < mf_face_recognizer_count(); i++) {
        const mf_face_recognizer_info *r = mf_face_recognizer_info_at(i);
        printf("  %-20s dim %4d %s%s%s match threshold %.4f  dissimilarity threshold %.4f  %s\n", r->name, r->dim,
               r->primary ? "[primary] " : "", r->ensemble ? "[ensemble]" : "",
               r->unusable ? "[not usable: measurement only]" : "", r->match_threshold, r->dissimilarity_threshold,
               r->description ? r->description : "");
    }
    return bad ? EXIT_INTERNAL : 0;
}

static const cmd_spec commands[] = {
    {"detect", 1, OPT_JSON | OPT_IRIS | OPT_FAST | OPT_ANALYSIS | OPT_PRIVACY},
    {"embed", 1, OPT_JSON | OPT_ALL | OPT_MODEL | OPT_ANALYSIS},
    {"verify", 2, OPT_JSON | OPT_MODEL | OPT_ANALYSIS},
    {"demo", 0, OPT_JSON | OPT_IRIS | OPT_FAST | OPT_ANALYSIS},
    {"models", 0, OPT_SHA256SUM},
    {"help", 0, 0},
};

static int run(int argc, char **argv) {
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
    if (!strcmp(cmd, "serve")) return cli_serve_exec(argc - i, argv + i, models_dir()); /* docs/server.md */
    if (!strcmp(cmd, "eval")) return cli_exec_sibling("mfmc-eval", "eval", argc - i, argv + i, models_dir());
    if (!strcmp(cmd, "identity")) return mf_cli_identity(argc - i, argv + i, models_dir());
    if (!strcmp(cmd, "anonymize")) return mf_cli_anonymize(argc - i, argv + i, models_dir());
    const cmd_spec *c = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
        if (!strcmp(cmd, commands[k].name)) c = &commands[k];
    if (!c) {
        fprintf(stderr, "mfmc: unknown command '%s'\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    args a;
    int r = parse(c, argc - i, argv + i, &a);
    if (r) return r == 1 ? 0 : r;
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "detect")) return cmd_detect(&a, 0);
    if (!strcmp(cmd, "embed")) return cmd_embed(&a);
    if (!strcmp(cmd, "verify")) return cmd_verify(&a);
    if (!strcmp(cmd, "models")) return cmd_models(&a);
    /* demo */
    static char photo[4096];
    if (snprintf(photo, sizeof photo, "%s/demo/sample1.jpg", models_dir()) >= (int)sizeof photo) {
        fprintf(stderr, "mfmc demo: models path too long\n");
        return EXIT_USAGE;
    }
    a.image[0] = photo;
    if (!a.json) printf("mfmc demo: face analysis of %s\n", photo);
    return cmd_detect(&a, 1);
}

/* Every command's output goes to stdout: a write that did not reach it (full disk, closed pipe, /dev/full) is an
 * error, whatever the command's own result. */
int main(int argc, char **argv) {
    int r = run(argc, argv);
    int w = app_close_output(stdout, "standard output");
    return r ? r : w;
}
