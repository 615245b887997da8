/* LFW verification evaluation of the face recognizers (docs/accuracy.md, "Recognizers").
 *
 * Every image of lfw-pairs.tsv is decoded once, the face nearest the image centre is detected
 * (facemesh-detection-full), the face mesh run on it and its five alignment points taken from the mesh
 * (mf_face_landmarks_5pt, as the analysis pipeline does; mf_face_box_5pt of the detection for comparison); then each
 * recognizer (or preprocessing variant) embeds every image once, on worker threads with one recognizer each, and
 * the pairs are scored by cosine similarity. Protocol: LFW View 2's 10 folds; for each fold the threshold that
 * maximises accuracy on the other nine is applied to it; mean and standard deviation (population) of the ten
 * accuracies. TAR at FAR = 1e-3 (and 1e-2): per fold, the threshold passed by floor(1e-3 * n) of the n impostor pairs of
 * the nine training folds (midway between two impostor scores), the share of the test fold's genuine pairs at or
 * above it; mean over folds. Thresholds over all
 * pairs: match = the same FAR = 1e-3 rule on every impostor pair; dissimilarity = min(99th percentile of the
 * impostor scores, 1st percentile of the genuine scores). A pair with an image where no face was found counts as
 * an error in every accuracy (whichever threshold) and as a rejected genuine pair in TAR; it is left out of the
 * threshold estimates.
 *
 * Build and run (from the repository root, after `make setup`):
 *     make build/rel/eval/eval_lfw && build/rel/eval/eval_lfw
 * Options:
 *     --data DIR          shared data folder (default $MFMC_DATA or ../shared/data)
 *     --models DIR        models root (default $MFMC_MODELS or models)
 *     --threads N         worker threads (default 2)
 *     --rec LIST          comma list of registry recognizers (default all)
 *     --var SPEC          a preprocessing variant, repeatable, instead of --rec:
 *                         name[:key=v[/v...][,key=v...]] with keys size-independent scale, dy, upright, bgr,
 *                         mean (one value or r/g/b as m1:m2:m3), mul, flip; '/' lists values to sweep
 *                         e.g. --var 'faceapi:scale=1.1/1.2/1.3,upright=0/1'
 *                         and pts=mesh|box (point source, default mesh), center=1 (exploration:
 *                         subtract the mean embedding of the run's images)
 *     --every K           use every K-th pair only (quick runs)
 *     --folds LO-HI       keep the pairs of folds LO..HI only (cross-validation over those folds): `--folds 5-9` is
 *                         the test half, on which the recognizer lbp (trained on the other identities) is measured
 *     --worst N           print the N highest impostor and N lowest genuine pairs per variant (stderr)
 *     --table             also print the registry thresholds as C initialisers (src/face/catalog.c)
 *     --crops DIR         write the crops of the first 8 images per variant as PNG into DIR (git-ignored!) */
#include "face/align.h"
#include "evalutil.h"
#include "lib/testutil.h"
#include "mfmc/face.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAR_TARGET 1e-3
#define DISSIM_IMPOSTOR_Q 0.99
#define DISSIM_GENUINE_Q 0.01
enum { MAX_VARS = 256 };

typedef struct {
    int a, b, same, fold;
} pair_t;

typedef struct {
    char *path;
    mf_img img;
    int found;          /* a face was found */
    int n_faces;        /* faces in the image */
    float pts[2][5][2]; /* alignment points of the central face, per point source (PTS_*) */
} image_t;

/* Where the five alignment points come from: the face mesh (mf_face_landmarks_5pt, as the analysis pipeline) or
 * the detection keypoints alone (mf_face_box_5pt). */
enum { PTS_MESH, PTS_BOX, PTS_COUNT };
static const char *pts_names[PTS_COUNT] = {"mesh", "box"};

typedef struct {
    const char *name;
    char label[256];
    mf_face_align_spec spec;
    int pts;    /* PTS_* */
    int center; /* exploration: subtract the mean embedding over all images, renormalise */
} variant_t;

static image_t *images;
static int n_images;
static pair_t *pairs;
static int n_pairs;
static const char *models_root, *data_dir;

static void die(const char *what) { ev_die("eval_lfw", what); }

/* ------------------------------------------------------------------ reading the pairs */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int fold_lo = 0, fold_hi = 9; /* --folds: the pairs kept */

static void read_pairs(int every) {
    char path[4096];
    snprintf(path, sizeof path, "%s/lfw-pairs.tsv", data_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "eval_lfw: cannot open %s (set --data or MFMC_DATA)\n", path);
        exit(1);
    }
    char line[2048];
    int cap = 0, n = 0, row = 0;
    char **names = NULL;
    typedef struct {
        char *a, *b;
        int same, fold;
    } raw_t;
    raw_t *raw = NULL;
    while (fgets(line, sizeof line, f)) {
        char a[1024], b[1024];
        int same, fold;
        if (sscanf(line, "%1023[^\t]\t%1023[^\t]\t%d\t%d", a, b, &same, &fold) != 4) continue; /* header */
        if (fold < fold_lo || fold > fold_hi) continue;
        if (row++ % every) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            raw = realloc(raw, (size_t)cap * sizeof *raw);
            if (!raw) exit(1);
        }
        raw[n++] = (raw_t){strdup(a), strdup(b), same, fold};
    }
    fclose(f);
    names = malloc((size_t)2 * n * sizeof *names);
    for (int i = 0; i < n; i++) names[2 * i] = raw[i].a, names[2 * i + 1] = raw[i].b;
    qsort(names, (size_t)2 * n, sizeof *names, cmp_str);
    images = calloc((size_t)2 * n + 1, sizeof *images);
    for (int i = 0; i < 2 * n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1])) images[n_images++].path = names[i];
    pairs = malloc((size_t)n * sizeof *pairs);
    for (int i = 0; i < n; i++) {
        image_t key = {.path = raw[i].a}, *ia, *ib;
        ia = bsearch(&key, images, (size_t)n_images, sizeof *images, cmp_str);
        key.path = raw[i].b;
        ib = bsearch(&key, images, (size_t)n_images, sizeof *images, cmp_str);
        pairs[i] = (pair_t){(int)(ia - images), (int)(ib - images), raw[i].same, raw[i].fold};
    }
    n_pairs = n;
    free(raw);
    /* the duplicated names are left allocated: they are owned through images[] or were duplicates (tool) */
}

/* ------------------------------------------------------------------ worker threads */

typedef struct {
    atomic_int next;
    int threads;
    const variant_t *var; /* NULL: detection pass */
    float *emb;           /* n_images * dim */
    int dim;
    atomic_int errors;
} job_t;

static void *detect_worker(job_t *job) {
    const char *dir = models_root;
    mf_face_detector_t *det;
    mf_face_mesher_t *mesh;
    if (mf_face_detector_create(dir, NULL, &det)) die("detector");
    if (mf_face_mesher_create(dir, NULL, 0, &mesh)) die("mesh");
    mf_face_box faces[32];
    mf_face_landmarks *lm = malloc(sizeof *lm);
    for (int i; (i = atomic_fetch_add(&job->next, 1)) < n_images;) {
        image_t *im = &images[i];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", data_dir, im->path);
        if (mf_img_load(path, NULL, &im->img, NULL)) die(path);
        int n = 0;
        if (mf_face_detect(det, &im->img, faces, 32, &n)) die("detect");
        im->n_faces = n;
        int best = -1;
        float bd = 0, cx = im->img.w / 2.0f, cy = im->img.h / 2.0f;
        for (int k = 0; k < n; k++) {
            float dx = faces[k].x + faces[k].w / 2 - cx, dy = faces[k].y + faces[k].h / 2 - cy, d = dx * dx + dy * dy;
            if (best < 0 || d < bd) best = k, bd = d;
        }
        if (best >= 0) {
            im->found = 1;
            if (mf_face_mesher_run(mesh, &im->img, &faces[best], lm)) die("mesh");
            mf_face_landmarks_5pt(lm, im->pts[PTS_MESH]);
            mf_face_box_5pt(&faces[best], im->pts[PTS_BOX]);
        }
    }
    free(lm);
    mf_face_mesher_free(mesh);
    mf_face_detector_free(det);
    return NULL;
}

static void *embed_worker(job_t *job) {
    mf_face_recognizer_t *r;
    if (mf_face_recognizer_create_spec(models_root, job->var->name, &job->var->spec, NULL, &r)) die("recognizer");
    for (int i; (i = atomic_fetch_add(&job->next, 1)) < n_images;) {
        float *e = job->emb + (size_t)i * job->dim;
        if (!images[i].found || mf_face_recognizer_embed(r, &images[i].img, (const float(*)[2])images[i].pts[job->var->pts], e)) {
            if (images[i].found) atomic_fetch_add(&job->errors, 1);
            e[0] = NAN;
        }
    }
    mf_face_recognizer_free(r);
    return NULL;
}

static void *worker(void *arg) {
    job_t *job = arg;
    return job->var ? embed_worker(job) : detect_worker(job);
}

static void run_job(job_t *job) {
    pthread_t th[64];
    int n = job->threads < 1 ? 1 : job->threads > 64 ? 64 : job->threads;
    for (int t = 1; t < n; t++) pthread_create(&th[t], NULL, worker, job);
    worker(job);
    for (int t = 1; t < n; t++) pthread_join(th[t], NULL);
}

/* ------------------------------------------------------------------ evaluation */

typedef ev_scored scored_t;

typedef struct {
    double acc_mean, acc_std, tar_mean, far_test, tar2_mean;
    float match_thr, dissim_thr, imp_q999, imp_q99, gen_q01, gen_med, imp_med;
    int failed_pairs;
} result_t;

static result_t evaluate(const float *score) {
    result_t r = {0};
    scored_t *tr = malloc((size_t)n_pairs * sizeof *tr);
    float *imp = malloc((size_t)n_pairs * sizeof *imp), *gen = malloc((size_t)n_pairs * sizeof *gen);
    double accs[10];
    int nf = 0;
    long far_fa = 0, far_n = 0;
    for (int f = 0; f < 10; f++) {
        int nt = 0, ni = 0;
        for (int i = 0; i < n_pairs; i++)
            if (pairs[i].fold != f && !isnan(score[i])) {
                tr[nt++] = (scored_t){score[i], pairs[i].same};
                if (!pairs[i].same) imp[ni++] = score[i];
            }
        int total = 0, correct = 0, g_total = 0, g_acc = 0;
        if (nt == 0) continue;
        qsort(tr, (size_t)nt, sizeof *tr, ev_cmp_scored_desc);
        qsort(imp, (size_t)ni, sizeof *imp, ev_cmp_float_desc);
        float t = ev_best_threshold(tr, nt), tf = ev_far_threshold(imp, ni, FAR_TARGET), tf2 = ev_far_threshold(imp, ni, 1e-2);
        int g_acc2 = 0;
        for (int i = 0; i < n_pairs; i++) {
            if (pairs[i].fold != f) continue;
            total++;
            float s = score[i];
            int ok = !isnan(s) && ((s >= t) == (pairs[i].same != 0));
            correct += ok;
            if (pairs[i].same) g_total++, g_acc += !isnan(s) && s >= tf, g_acc2 += !isnan(s) && s >= tf2;
            else if (!isnan(s)) far_n++, far_fa += s >= tf;
        }
        if (!total) continue;
        accs[nf++] = (double)correct / total;
        r.tar_mean += g_total ? (double)g_acc / g_total : 0;
        r.tar2_mean += g_total ? (double)g_acc2 / g_total : 0;
    }
    double m = 0, v = 0;
    for (int i = 0; i < nf; i++) m += accs[i] / nf;
    for (int i = 0; i < nf; i++) v += (accs[i] - m) * (accs[i] - m) / nf;
    r.acc_mean = m, r.acc_std = sqrt(v), r.tar_mean = nf ? r.tar_mean / nf : 0, r.tar2_mean = nf ? r.tar2_mean / nf : 0;
    r.far_test = far_n ? (double)far_fa / far_n : 0;
    int ni = 0, ng = 0;
    for (int i = 0; i < n_pairs; i++) {
        if (isnan(score[i])) {
            r.failed_pairs++;
            continue;
        }
        if (pairs[i].same) gen[ng++] = score[i];
        else imp[ni++] = score[i];
    }
    qsort(imp, (size_t)ni, sizeof *imp, ev_cmp_float_desc);
    qsort(gen, (size_t)ng, sizeof *gen, ev_cmp_float_desc);
    r.match_thr = ev_far_threshold(imp, ni, FAR_TARGET);
    r.imp_q999 = ev_quantile_desc(imp, ni, 0.999);
    r.imp_q99 = ev_quantile_desc(imp, ni, DISSIM_IMPOSTOR_Q);
    r.gen_q01 = ev_quantile_desc(gen, ng, DISSIM_GENUINE_Q);
    r.imp_med = ev_quantile_desc(imp, ni, 0.5);
    r.gen_med = ev_quantile_desc(gen, ng, 0.5);
    r.dissim_thr = fminf(r.imp_q99, r.gen_q01);
    free(tr);
    free(imp);
    free(gen);
    return r;
}

/* ------------------------------------------------------------------ variants */

static int parse_float_list(const char *s, float *out, int max) {
    int n = 0;
    while (*s && n < max) {
        char *end;
        out[n++] = strtof(s, &end);
        if (end == s) return -1;
        s = end;
        if (*s == '/') s++;
        else if (*s) return -1;
    }
    return n;
}

/* Expands name:key=v/v,...: one variant per combination. */
static int expand_variant(const char *arg, variant_t *out, int max) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg);
    char *colon = strchr(buf, ':');
    if (colon) *colon = 0;
    const mf_face_align_spec *base = mf_face_recognizer_default_spec(buf);
    const mf_face_recognizer_info *info = mf_face_recognizer_find(buf);
    if (!base || !info) {
        fprintf(stderr, "eval_lfw: unknown recognizer '%s'\n", buf);
        exit(2);
    }
    int n = 1;
    out[0].name = info->name;
    out[0].spec = *base;
    out[0].pts = PTS_MESH;
    snprintf(out[0].label, sizeof out[0].label, "%s", colon ? "" : "registry");
    for (char *kv = colon ? strtok(colon + 1, ",") : NULL; kv; kv = strtok(NULL, ",")) {
        char *eq = strchr(kv, '=');
        if (!eq) goto bad;
        *eq = 0;
        const char *key = kv, *val = eq + 1;
        float vals[16];
        int nv;
        if (!strcmp(key, "pts")) {
            int which[PTS_COUNT];
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", val);
            nv = 0;
            for (char *alt = tmp, *next; alt && nv < PTS_COUNT; alt = next) {
                next = strchr(alt, '/');
                if (next) *next++ = 0;
                int w = -1;
                for (int q = 0; q < PTS_COUNT; q++)
                    if (!strcmp(alt, pts_names[q])) w = q;
                if (w < 0) goto bad;
                which[nv++] = w;
            }
            if (n * nv > max) goto bad;
            for (int j = nv - 1; j >= 0; j--)
                for (int i = 0; i < n; i++) {
                    variant_t v = out[i];
                    v.pts = which[j];
                    size_t l = strlen(v.label);
                    snprintf(v.label + l, sizeof v.label - l, "%spts=%s", l ? "," : "", pts_names[which[j]]);
                    out[j * n + i] = v;
                }
            n *= nv;
            continue;
        }
        if (!strcmp(key, "mean")) {
            /* one value or r:g:b; '/' separates alternatives */
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", val);
            float means[16][3];
            nv = 0;
            for (char *alt = tmp, *next; alt && nv < 16; alt = next) {
                next = strchr(alt, '/');
                if (next) *next++ = 0;
                int c = sscanf(alt, "%f:%f:%f", &means[nv][0], &means[nv][1], &means[nv][2]);
                if (c == 1) means[nv][1] = means[nv][2] = means[nv][0];
                else if (c != 3) goto bad;
                nv++;
            }
            int nn = n * nv;
            if (nn > max) goto bad;
            for (int j = nv - 1; j >= 0; j--)
                for (int i = 0; i < n; i++) {
                    variant_t v = out[i];
                    memcpy(v.spec.mean, means[j], sizeof v.spec.mean);
                    size_t l = strlen(v.label);
                    snprintf(v.label + l, sizeof v.label - l, "%smean=%g:%g:%g", l ? "," : "", means[j][0],
                             means[j][1], means[j][2]);
                    out[j * n + i] = v;
                }
            n = nn;
            continue;
        }
        if ((nv = parse_float_list(val, vals, 16)) <= 0 || n * nv > max) goto bad;
        for (int j = nv - 1; j >= 0; j--)
            for (int i = 0; i < n; i++) {
                variant_t v = out[i];
                float x = vals[j];
                if (!strcmp(key, "scale")) v.spec.scale = x;
                else if (!strcmp(key, "dy")) v.spec.dy = x;
                else if (!strcmp(key, "upright")) v.spec.upright = (int)x;
                else if (!strcmp(key, "bgr")) v.spec.bgr = (int)x;
                else if (!strcmp(key, "mul")) v.spec.mul = x;
                else if (!strcmp(key, "flip")) v.spec.flip = (int)x;
                else if (!strcmp(key, "center")) v.center = (int)x;
                else goto bad;
                size_t l = strlen(v.label);
                snprintf(v.label + l, sizeof v.label - l, "%s%s=%g", l ? "," : "", key, x);
                out[j * n + i] = v;
            }
        n *= nv;
    }
    return n;
bad:
    fprintf(stderr, "eval_lfw: bad variant '%s'\n", arg);
    exit(2);
}

static const float *sort_scores;
static int cmp_idx_desc(const void *pa, const void *pb) {
    float a = sort_scores[*(const int *)pa], b = sort_scores[*(const int *)pb];
    return a < b ? 1 : a > b ? -1 : 0;
}

/* The n highest-scoring impostor pairs and the n lowest-scoring genuine pairs (to stderr). */
static void print_worst(const float *score, int n) {
    int *idx = malloc((size_t)n_pairs * sizeof *idx), m = 0;
    for (int i = 0; i < n_pairs; i++)
        if (!isnan(score[i])) idx[m++] = i;
    sort_scores = score;
    qsort(idx, (size_t)m, sizeof *idx, cmp_idx_desc);
    for (int k = 0, c = 0; k < m && c < n; k++)
        if (!pairs[idx[k]].same) c++, fprintf(stderr, "  impostor %.4f %s %s\n", score[idx[k]], images[pairs[idx[k]].a].path, images[pairs[idx[k]].b].path);
    for (int k = m - 1, c = 0; k >= 0 && c < n; k--)
        if (pairs[idx[k]].same) c++, fprintf(stderr, "  genuine  %.4f %s %s\n", score[idx[k]], images[pairs[idx[k]].a].path, images[pairs[idx[k]].b].path);
    free(idx);
}

static void center_embeddings(float *emb, int dim) {
    double *mean = calloc((size_t)dim, sizeof *mean);
    int n = 0;
    for (int i = 0; i < n_images; i++)
        if (!isnan(emb[(size_t)i * dim])) {
            for (int k = 0; k < dim; k++) mean[k] += emb[(size_t)i * dim + k];
            n++;
        }
    for (int i = 0; i < n_images; i++) {
        float *e = emb + (size_t)i * dim;
        if (isnan(e[0])) continue;
        double ss = 0;
        for (int k = 0; k < dim; k++) e[k] -= (float)(mean[k] / n), ss += (double)e[k] * e[k];
        for (int k = 0; k < dim; k++) e[k] /= (float)sqrt(ss);
    }
    free(mean);
}

static void save_crops(const variant_t *v, const char *dir) {
    int S = v->spec.size;
    float *buf = malloc((size_t)S * S * 3 * sizeof *buf);
    mf_img out;
    if (!buf || mf_img_init(&out, S, S, 3)) exit(1);
    for (int i = 0, k = 0; i < n_images && k < 8; i++) {
        if (!images[i].found) continue;
        mf_face_align_spec raw = v->spec;
        raw.bgr = 0, raw.mean[0] = raw.mean[1] = raw.mean[2] = 0, raw.mul = 1;
        if (mf_face_align_crop(&images[i].img, (const float(*)[2])images[i].pts[v->pts], &raw, 0, buf)) continue;
        for (int j = 0; j < S * S * 3; j++) out.data[j] = (uint8_t)fminf(255, fmaxf(0, buf[j] + 0.5f));
        char path[4096];
        snprintf(path, sizeof path, "%s/%s_%d.png", dir, v->name, k++);
        mf_img_save(&out, path, 0);
    }
    mf_img_free(&out);
    free(buf);
}

int main(int argc, char **argv) {
    data_dir = getenv("MFMC_DATA") ? getenv("MFMC_DATA") : "../shared/data";
    models_root = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    int threads = 2, every = 1, table = 0, worst = 0;
    const char *rec_list = NULL, *crops = NULL;
    static variant_t vars[MAX_VARS];
    int n_vars = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--data") && v) data_dir = v, i++;
        else if (!strcmp(a, "--models") && v) models_root = v, i++;
        else if (!strcmp(a, "--threads") && v) threads = atoi(v), i++;
        else if (!strcmp(a, "--rec") && v) rec_list = v, i++;
        else if (!strcmp(a, "--var") && v) n_vars += expand_variant(v, vars + n_vars, MAX_VARS - n_vars), i++;
        else if (!strcmp(a, "--every") && v) every = atoi(v) > 0 ? atoi(v) : 1, i++;
        else if (!strcmp(a, "--folds") && v) {
            if (sscanf(v, "%d-%d", &fold_lo, &fold_hi) != 2 || fold_lo < 0 || fold_hi > 9 || fold_lo > fold_hi) {
                fprintf(stderr, "eval_lfw: --folds LO-HI with 0 <= LO <= HI <= 9\n");
                return 2;
            }
            i++;
        }
        else if (!strcmp(a, "--table")) table = 1;
        else if (!strcmp(a, "--worst") && v) worst = atoi(v), i++;
        else if (!strcmp(a, "--crops") && v) crops = v, i++;
        else {
            fprintf(stderr, "usage: eval_lfw [--data DIR] [--models DIR] [--threads N] [--rec a,b] [--var SPEC]... "
                            "[--every K] [--folds LO-HI] [--worst N] [--table] [--crops DIR]\n");
            return 2;
        }
    }
    if (!n_vars) {
        char list[1024];
        snprintf(list, sizeof list, "%s", rec_list ? rec_list : "");
        for (int i = 0; i < mf_face_recognizer_count(); i++) {
            const char *name = mf_face_recognizer_info_at(i)->name;
            int want = !rec_list;
            for (char *p = rec_list ? strstr(list, name) : NULL; p && !want; p = strstr(p + 1, name)) {
                size_t l = strlen(name);
                want = (p == list || p[-1] == ',') && (p[l] == ',' || p[l] == 0);
            }
            if (!want) continue;
            vars[n_vars].name = name;
            vars[n_vars].spec = *mf_face_recognizer_default_spec(name);
            snprintf(vars[n_vars].label, sizeof vars[n_vars].label, "registry");
            n_vars++;
        }
    }

    double t0 = tu_clock_ms(CLOCK_MONOTONIC) / 1e3, c0 = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) / 1e3;
    read_pairs(every);
    job_t dj = {.threads = threads};
    run_job(&dj);
    int found = 0, multi = 0;
    for (int i = 0; i < n_images; i++) found += images[i].found, multi += images[i].n_faces > 1;
    double t_det = tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t0, c_det = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) / 1e3 - c0;
    printf("LFW (folds %d-%d): %d pairs, %d images; face found in %d (%d without a face), %d with more than one face; "
           "decode+detect+mesh %.1f s on %d threads (%.1f CPU s)\n\n",
           fold_lo, fold_hi, n_pairs, n_images, found, n_images - found, multi, t_det, threads, c_det);
    for (int i = 0; i < n_images && found < n_images; i++)
        if (!images[i].found) printf("  no face: %s\n", images[i].path);
    if (found < n_images) printf("\n");

    for (int v = 0; v < n_vars; v++) { /* once per recognizer: a learnt-on-LFW recognizer measured on its training */
        const mf_face_recognizer_info *ri = mf_face_recognizer_find(vars[v].name);
        int seen = 0;
        for (int u = 0; u < v; u++) seen |= !strcmp(vars[u].name, vars[v].name);
        if (ri && ri->lfw_test_fold > fold_lo && !seen)
            printf("note: %s was trained on the LFW identities outside folds %d-9: its figures are fair on "
                   "`--folds %d-9` only\n\n",
                   ri->name, ri->lfw_test_fold, ri->lfw_test_fold);
    }
    printf("| recognizer | preprocessing | accuracy (10-fold) | TAR@FAR=1e-3 (test FAR) | TAR@FAR=1e-2 | match thr (FAR 1e-3) | "
           "dissimilarity thr | impostor q99.9 / q99 / median | genuine q01 / median | failed pairs | s (CPU s) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    result_t res[MAX_VARS];
    float *score = malloc((size_t)n_pairs * sizeof *score);
    for (int v = 0; v < n_vars; v++) {
        double t1 = tu_clock_ms(CLOCK_MONOTONIC) / 1e3, c1 = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) / 1e3;
        const mf_face_recognizer_info *info = mf_face_recognizer_find(vars[v].name);
        job_t j = {.threads = threads, .var = &vars[v], .dim = info->dim};
        j.emb = malloc((size_t)n_images * info->dim * sizeof *j.emb);
        if (!j.emb) die("out of memory");
        if (crops) save_crops(&vars[v], crops);
        run_job(&j);
        if (vars[v].center) center_embeddings(j.emb, info->dim);
        for (int i = 0; i < n_pairs; i++) {
            const float *ea = j.emb + (size_t)pairs[i].a * info->dim, *eb = j.emb + (size_t)pairs[i].b * info->dim;
            score[i] = isnan(ea[0]) || isnan(eb[0]) ? NAN : mf_face_similarity(ea, eb, info->dim);
        }
        free(j.emb);
        if (worst) print_worst(score, worst);
        res[v] = evaluate(score);
        result_t *r = &res[v];
        printf("| %s | %s | %.4f ± %.4f | %.4f (%.4f) | %.4f | %.3f | %.3f | %.3f / %.3f / %.3f | %.3f / %.3f | %d%s | %.0f (%.0f) |\n",
               vars[v].name, vars[v].label, r->acc_mean, r->acc_std, r->tar_mean, r->far_test, r->tar2_mean, r->match_thr, r->dissim_thr,
               r->imp_q999, r->imp_q99, r->imp_med, r->gen_q01, r->gen_med, r->failed_pairs,
               atomic_load(&j.errors) ? " (embed errors)" : "", tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t1, tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) / 1e3 - c1);
        fflush(stdout);
    }
    printf("\ntotal %.1f s on %d threads, %.1f CPU s\n", tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t0, threads, tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) / 1e3 - c0);
    if (table) {
        printf("\n/* thresholds for src/face/catalog.c: name, match_threshold, dissimilarity_threshold */\n");
        for (int v = 0; v < n_vars; v++)
            printf("%-16s %.4f %.4f\n", vars[v].name, res[v].match_thr, res[v].dissim_thr);
    }
    free(score);
    return 0;
}
