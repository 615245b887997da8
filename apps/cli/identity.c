/* mfmc identity train DIR -o FILE [--clean LIST] [--threads N] [--tex N] [--shape K] [--texture K]:
 * trains the identity model (docs/identity-model.md) over the photos of DIR, or only those named in LIST (one file
 * name per line, '#' comments), and writes it atomically to FILE. mfmc identity info FILE: what a model holds. */
#include "cli/cmds.h"
#include "mfmc/anon.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_image_ext(const char *n) {
    const char *e = strrchr(n, '.');
    return e && (!strcasecmp(e, ".jpg") || !strcasecmp(e, ".jpeg") || !strcasecmp(e, ".png") || !strcasecmp(e, ".webp"));
}

/* Names of DIR's images (or of LIST's lines) as full paths, sorted. */
static char **collect(const char *dir, const char *list, int *n) {
    *n = 0;
    int cap = 64;
    char **v = malloc(sizeof(char *) * cap);
    if (!v) return NULL;
    char path[4096];
    if (list) {
        FILE *f = fopen(list, "r");
        if (!f) {
            free(v);
            return NULL;
        }
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0] || line[0] == '#') continue;
            snprintf(path, sizeof path, "%.2000s/%.1000s", dir, line);
            if (*n == cap) {
                char **nv = realloc(v, sizeof(char *) * (cap *= 2));
                if (!nv) break;
                v = nv;
            }
            v[(*n)++] = strdup(path);
        }
        fclose(f);
    } else {
        DIR *d = opendir(dir);
        if (!d) {
            free(v);
            return NULL;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || !has_image_ext(e->d_name)) continue;
            snprintf(path, sizeof path, "%.2000s/%.1000s", dir, e->d_name);
            if (*n == cap) {
                char **nv = realloc(v, sizeof(char *) * (cap *= 2));
                if (!nv) break;
                v = nv;
            }
            v[(*n)++] = strdup(path);
        }
        closedir(d);
    }
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static int info(const char *file) {
    mf_anon_model_t *m;
    if (mf_anon_model_load(file, &m)) {
        fprintf(stderr, "mfmc identity: %s\n", mf_error_get());
        return 2;
    }
    mf_anon_model_info i;
    mf_anon_model_get_info(m, &i);
    printf("texture %dx%d, %d triangles, %d shape + %d texture components, %d detail maps, %d training faces\n"
           "training faces: age %.1f (%.0f..%.0f), male %.0f%%; read-outs: age R^2 %.2f, gender accuracy %.2f\n",
           i.tex_side, i.tex_side, i.n_tri, i.n_shape, i.n_tex, i.n_detail, i.n_train, i.age_mean, i.age_min,
           i.age_max, 100 * i.male_fraction, i.age_r2, i.gender_acc);
    printf("recognizer metric: %s\n", i.has_metric ? "yes (arcface + faceapi)" : "none");
    if (i.n_detail_ages) printf("detail maps: %d age groups\n", i.n_detail_ages);
    else printf("detail maps: faces of every age\n");
    mf_anon_model_free(m);
    return 0;
}

int mf_cli_identity(int argc, char **argv, const char *models) {
    if (argc >= 2 && !strcmp(argv[0], "info")) return info(argv[1]);
    if (argc < 1 || strcmp(argv[0], "train")) {
        fprintf(stderr, "usage: mfmc identity train DIR -o FILE [--clean LIST] [--threads N] [--no-metric] [--detail-ages] [--clean-texels]\n"
                        "       mfmc identity info FILE\n");
        return 2;
    }
    const char *dir = NULL, *outp = NULL, *list = NULL;
    int threads = 2, metric = 1;
    mf_anon_train_opts o = {0};
    o.seed = 1;
    for (int i = 1; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "-o") && more) outp = argv[++i];
        else if (!strcmp(argv[i], "--clean") && more) list = argv[++i];
        else if (!strcmp(argv[i], "--threads") && more) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-metric")) metric = 0;
        else if (!strcmp(argv[i], "--detail-ages")) o.detail_ages = 1; /* (age47) detail maps per age group */
        else if (!strcmp(argv[i], "--clean-texels")) o.clean_texels = 1; /* (ftex47) the lower forehead cleaned */
        else if (!strcmp(argv[i], "--tex") && more) o.tex_side = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shape") && more) o.n_shape = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--texture") && more) o.n_tex = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else {
            fprintf(stderr, "mfmc identity train: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!dir || !outp || threads < 1 || threads > 64) {
        fprintf(stderr, "mfmc identity train: DIR and -o FILE are required\n");
        return 2;
    }
    int n;
    char **paths = collect(dir, list, &n);
    if (!paths) {
        fprintf(stderr, "mfmc identity train: cannot read %s\n", list ? list : dir);
        return 2;
    }
    mf_nn_pool_t *pool = NULL;
    mf_face_analyzer_t *an = NULL;
    mf_anon_model_t *m = NULL;
    int rc = 0;
    if (threads > 1 && mf_nn_pool_create(threads, &pool)) rc = 3;
    mf_face_analyzer_opts ao = {.pool = pool};
    if (!rc && mf_face_analyzer_create(models, &ao, &an)) rc = 3;
    /* (push38) the guarantee's recognizers read the training faces: the model's recognizer metric */
    static const char *const rec_names[2] = {"arcface", "faceapi"};
    mf_face_recognizer_t *rec[2] = {NULL, NULL};
    for (int r = 0; !rc && metric && r < 2; r++)
        if (mf_face_recognizer_create(models, rec_names[r], pool, &rec[r])) rc = 3;
    if (metric) o.rec = rec, o.n_rec = 2;
    mf_anon_train_report rep;
    if (!rc) {
        int st = mf_anon_train(an, (const char *const *)paths, n, &o, &m, &rep);
        if (st) rc = st == MF_ERR_NOMEM ? 3 : 2;
        else if (mf_anon_model_save(m, outp)) rc = 2;
    }
    if (rc) fprintf(stderr, "mfmc identity train: %s\n", mf_error_get());
    else
        printf("identity model %s: %d photos, %d faces used (%d without a usable face, %d turned > 20 deg, %d with "
               "several faces)\n",
               outp, rep.n_images, rep.n_used, rep.n_no_face, rep.n_turned, rep.n_multi);
    mf_anon_model_free(m);
    for (int r = 0; r < 2; r++) mf_face_recognizer_free(rec[r]);
    mf_face_analyzer_free(an);
    mf_nn_pool_free(pool);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    return rc ? rc : (argc ? info(outp) : 0);
}
