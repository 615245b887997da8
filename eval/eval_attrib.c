/* Measurement of the attribute models (docs/attributes.md): gender accuracy on LFW with the approximate labels
 * of data/lfw-gender.tsv, age consistency / agreement / known-age error on LFW, age and gender distribution on
 * FFHQ and synthetic faces, and time per face.
 *
 *   eval_attrib [--threads N] [--split all|tune|test] [--max-per-id N] MODE CONFIG...
 *   MODE   gender | age | dist | time
 *   CONFIG model[:scale[:dy[:aspect[:bgr[:decode]]]]]   (omitted fields keep the model's defaults)
 *
 * Faces come from the default detector (facemesh-detection-full): the face nearest the image centre. Boxes are
 * cached in build/rel/eval/attrib-boxes.tsv (delete it after changing the detector). Data: $MFMC_DATA or
 * ../shared/data; models: $MFMC_MODELS or ./models. Tables are printed in Markdown. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mfmc/attrib.h"
#include "evalutil.h"
#include "lib/testutil.h"

enum { MAX_CFG = 64 };

static const char *data_dir(void) { return ev_data_dir(); }
static const char *models_dir(void) { return ev_models_dir(); }
static void die(const char *what) { ev_die("eval_attrib", what); }

/* ---------------------------------------------------------------- detection cache */

typedef struct {
    char *rel; /* path relative to the data folder */
    int ok;
    mf_face_box box;
} cached_box;

static cached_box *cache;
static int n_cache, cache_dirty;
static mf_face_detector_t *det;
static const char *cache_path = "build/rel/eval/attrib-boxes.tsv";

static void cache_load(void) {
    FILE *f = fopen(cache_path, "r");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char rel[2048];
        cached_box c = {0};
        float *b = &c.box.x;
        int k = sscanf(line, "%2047s %d %f %f %f %f %f %f", rel, &c.ok, b, b + 1, b + 2, b + 3, &c.box.score,
                       &c.box.roll);
        if (k != 8) continue;
        char *p = line;
        for (int i = 0; i < 8; i++) p = strchr(p, '\t') ? strchr(p, '\t') + 1 : p + strlen(p);
        for (int i = 0; i < MF_FACE_KP_COUNT; i++) c.box.kp[i][0] = strtof(p, &p), c.box.kp[i][1] = strtof(p, &p);
        c.rel = strdup(rel);
        cache = realloc(cache, (size_t)(n_cache + 1) * sizeof *cache);
        cache[n_cache++] = c;
    }
    fclose(f);
}

static void cache_save(void) {
    if (!cache_dirty) return;
    FILE *f = fopen(cache_path, "w");
    if (!f) return;
    for (int i = 0; i < n_cache; i++) {
        const mf_face_box *b = &cache[i].box;
        fprintf(f, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.4f\t%.5f\t", cache[i].rel, cache[i].ok, b->x, b->y, b->w, b->h,
                b->score, b->roll);
        for (int k = 0; k < MF_FACE_KP_COUNT; k++) fprintf(f, "%.3f %.3f ", b->kp[k][0], b->kp[k][1]);
        fputc('\n', f);
    }
    fclose(f);
}

/* The central face of data/<rel>: returns 1 and the box, 0 if none (or the image is unreadable). */
static int central_face(const char *rel, const mf_img *img, mf_face_box *out) {
    for (int i = 0; i < n_cache; i++)
        if (strcmp(cache[i].rel, rel) == 0) {
            *out = cache[i].box;
            return cache[i].ok;
        }
    if (!det) {
        if (mf_face_detector_create(models_dir(), NULL, &det)) die("detector");
    }
    mf_face_box f[32];
    int n = 0, best = -1;
    if (mf_face_detect(det, img, f, 32, &n)) n = 0;
    float bd = 1e30f;
    for (int k = 0; k < n; k++) {
        float cx = f[k].x + f[k].w / 2, cy = f[k].y + f[k].h / 2;
        float dx = cx / img->w - 0.5f, dy = cy / img->h - 0.5f;
        if (fabsf(dx) > 0.2f || fabsf(dy) > 0.2f) continue;
        if (dx * dx + dy * dy < bd) bd = dx * dx + dy * dy, best = k;
    }
    cached_box c = {strdup(rel), best >= 0, best >= 0 ? f[best] : (mf_face_box){0}};
    cache = realloc(cache, (size_t)(n_cache + 1) * sizeof *cache);
    cache[n_cache++] = c;
    cache_dirty = 1;
    *out = c.box;
    return c.ok;
}

/* ---------------------------------------------------------------- configurations */

enum { MAX_PARTS = 4 };

/* A configuration: one model with its tuning, or several joined with '+' whose ages and p_male are averaged. */
typedef struct {
    char label[160];
    int n_parts;
    const char *model[MAX_PARTS];
    mf_face_attrib_tuning tune[MAX_PARTS];
    int has_age, has_gender;
} config;

static mf_face_attrib_t *handle;
static config cfgs[MAX_CFG];
static int n_cfg;

static void add_to_list(char *list, const char *name) {
    const char *p = list;
    size_t len = strlen(name);
    for (; *p; p = *p == '+' ? p + 1 : p) { /* already there? */
        const char *e = strchr(p, '+');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && !strncmp(p, name, len)) return;
        p += l;
    }
    size_t o = strlen(list);
    snprintf(list + o, 1024 - o, "%s%s", o ? "+" : "", name);
}

static void parse_configs(int argc, char **argv, mf_nn_pool_t *pool) {
    char age_list[1024] = "", gender_list[1024] = "";
    char parts[MAX_CFG][MAX_PARTS][160];
    for (int i = 0; i < argc && n_cfg < MAX_CFG; i++) {
        config *c = &cfgs[n_cfg++];
        memset(c, 0, sizeof *c);
        snprintf(c->label, sizeof c->label, "%s", argv[i]);
        char buf[160];
        snprintf(buf, sizeof buf, "%s", argv[i]);
        for (char *tok = strtok(buf, "+"); tok && c->n_parts < MAX_PARTS; tok = strtok(NULL, "+")) {
            int k = c->n_parts++;
            snprintf(parts[i][k], sizeof parts[i][k], "%s", tok);
            char name[160];
            snprintf(name, sizeof name, "%s", tok);
            if (strchr(name, ':')) *strchr(name, ':') = 0;
            const mf_face_attrib_model_info *info = mf_face_attrib_model_find(name);
            if (!info) {
                fprintf(stderr, "unknown model %s\n", name);
                exit(2);
            }
            c->model[k] = info->name;
            c->has_age |= info->has_age, c->has_gender |= info->has_gender;
            add_to_list(info->has_age ? age_list : gender_list, info->name);
        }
    }
    mf_face_attrib_opts o = {*age_list ? age_list : "none", *gender_list ? gender_list : "none"};
    if (mf_face_attrib_create(models_dir(), pool, &o, &handle)) die("attrib");
    for (int i = 0; i < n_cfg; i++) {
        config *c = &cfgs[i];
        for (int k = 0; k < c->n_parts; k++) {
            mf_face_attrib_tuning *t = &c->tune[k];
            mf_face_attrib_get_tuning(handle, c->model[k], t);
            const char *p = strchr(parts[i][k], ':');
            float *fields[3] = {&t->scale, &t->dy, &t->aspect};
            for (int f = 0; p && f < 5; f++) {
                p++;
                char *end;
                double v = strtod(p, &end);
                if (end != p) {
                    if (f < 3) *fields[f] = (float)v;
                    else if (f == 3) t->bgr = (int)v;
                    else t->decode = (int)v;
                }
                p = strchr(p, ':');
            }
        }
    }
}

static void run_cfg(int i, const mf_img *img, const mf_face_box *b, mf_face_attributes *out) {
    const config *c = &cfgs[i];
    double age = 0, pm = 0;
    int na = 0, ng = 0;
    for (int k = 0; k < c->n_parts; k++) {
        mf_face_attributes a;
        if (mf_face_attrib_set_tuning(handle, c->model[k], &c->tune[k])) die(c->label);
        if (mf_face_attrib_run_model(handle, c->model[k], img, b, &a)) die(c->label);
        if (a.age >= 0) age += a.age, na++;
        if (a.gender != MF_GENDER_UNKNOWN) pm += a.p_male, ng++;
    }
    memset(out, 0, sizeof *out);
    out->age = na ? (float)(age / na) : -1;
    out->p_male = ng ? (float)(pm / ng) : 0.5f;
    out->gender = !ng ? MF_GENDER_UNKNOWN : out->p_male > 0.5f ? MF_GENDER_MALE : MF_GENDER_FEMALE;
    out->gender_score = out->p_male > 0.5f ? out->p_male : 1 - out->p_male;
}

/* ---------------------------------------------------------------- image lists */

typedef struct {
    char rel[512];
    int id;     /* identity index in the list's order */
    int label;  /* gender mode: 1 male, 0 female; age mode: true age or -1 */
} item;

static item *items;
static int n_items;

static void add_item(const char *rel, int id, int label) {
    items = realloc(items, (size_t)(n_items + 1) * sizeof *items);
    snprintf(items[n_items].rel, sizeof items[n_items].rel, "%s", rel);
    items[n_items].id = id, items[n_items].label = label;
    n_items++;
}

static int load_image(const char *rel, mf_img *img, mf_face_box *b) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", data_dir(), rel);
    if (mf_img_load(p, NULL, img, NULL)) return 0;
    if (!central_face(rel, img, b)) {
        mf_img_free(img);
        return 0;
    }
    return 1;
}

static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".jpg")) n++;
    closedir(d);
    return n;
}

/* ---------------------------------------------------------------- gender */

static int split_mode; /* 0 all, 1 tune (even identities), 2 test (odd) */

static void mode_gender(void) {
    char p[4096];
    snprintf(p, sizeof p, "data/lfw-gender.tsv");
    FILE *f = fopen(p, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (run from the repository root)\n", p);
        exit(1);
    }
    char line[1024];
    int id = 0;
    while (fgets(line, sizeof line, f)) {
        char name[512], lab[32];
        if (line[0] == '#' || sscanf(line, "%511s %31s", name, lab) != 2 || strcmp(name, "name") == 0) continue;
        int keep = split_mode == 0 || (split_mode == 1) == (id % 2 == 0);
        if (keep) {
            char rel[1100];
            snprintf(rel, sizeof rel, "lfw/%s/%s_0001.jpg", name, name);
            add_item(rel, id, strcmp(lab, "male") == 0);
        }
        id++;
    }
    fclose(f);
    long tp[MAX_CFG] = {0}, tn[MAX_CFG] = {0}, np = 0, nn = 0;
    double conf_wrong[MAX_CFG] = {0}, conf_right[MAX_CFG] = {0};
    int used = 0;
    for (int i = 0; i < n_items; i++) {
        mf_img img;
        mf_face_box b;
        if (!load_image(items[i].rel, &img, &b)) continue;
        used++;
        int male = items[i].label;
        male ? np++ : nn++;
        for (int c = 0; c < n_cfg; c++) {
            mf_face_attributes a;
            run_cfg(c, &img, &b, &a);
            int right = (a.gender == MF_GENDER_MALE) == male;
            if (right) male ? tp[c]++ : tn[c]++;
            (right ? conf_right : conf_wrong)[c] += a.gender_score;
        }
        mf_img_free(&img);
        if (i % 200 == 199) fprintf(stderr, "  %d/%d\n", i + 1, n_items);
    }
    printf("gender on LFW (%s split): %d identities with a detected central face (%ld male, %ld female) of %d\n\n",
           split_mode == 0 ? "all" : split_mode == 1 ? "tune" : "test", used, np, nn, n_items);
    printf("| config | accuracy | balanced | male recall | female recall | score right | score wrong |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < n_cfg; c++) {
        double rm = np ? (double)tp[c] / np : 0, rf = nn ? (double)tn[c] / nn : 0;
        long right = tp[c] + tn[c], wrong = used - right;
        printf("| %s | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f |\n", cfgs[c].label, used ? (double)right / used : 0,
               (rm + rf) / 2, rm, rf, right ? conf_right[c] / right : 0, wrong ? conf_wrong[c] / wrong : 0);
    }
}

/* ---------------------------------------------------------------- age */

/* Approximate true ages: birth years of well-known identities (public record), photos assumed from the LFW
 * collection period (news photos of 2002-2003): age = 2002.5 - birth year. Listed in docs/attributes.md. */
static const struct {
    const char *name;
    int born;
} known[] = {
    {"Kim_Clijsters", 1983},      {"Andy_Roddick", 1982},        {"Serena_Williams", 1981},
    {"Lleyton_Hewitt", 1981},     {"Anna_Kournikova", 1981},     {"Venus_Williams", 1980},
    {"Amelie_Mauresmo", 1979},    {"Jennifer_Capriati", 1976},   {"Lindsay_Davenport", 1976},
    {"David_Beckham", 1975},      {"Angelina_Jolie", 1975},      {"Pete_Sampras", 1971},
    {"Winona_Ryder", 1971},       {"Andre_Agassi", 1970},        {"Jennifer_Lopez", 1969},
    {"Michael_Schumacher", 1969}, {"Renee_Zellweger", 1969},     {"Naomi_Watts", 1968},
    {"Tom_Cruise", 1962},         {"Bill_Gates", 1955},          {"Tony_Blair", 1953},
    {"Vladimir_Putin", 1952},     {"Hillary_Clinton", 1947},     {"George_W_Bush", 1946},
    {"Laura_Bush", 1946},         {"Bill_Clinton", 1946},        {"Gerhard_Schroeder", 1944},
    {"Junichiro_Koizumi", 1942},  {"Colin_Powell", 1937},        {"Silvio_Berlusconi", 1936},
    {"Jean_Chretien", 1934},      {"Donald_Rumsfeld", 1932},     {"Ariel_Sharon", 1928},
    {"Hans_Blix", 1928},          {"Fidel_Castro", 1926},        {"Queen_Elizabeth_II", 1926},
};
enum { N_KNOWN = sizeof known / sizeof *known };

static int max_per_id = 20;


static int by_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static void mode_age(void) {
    /* identities with >= 10 images, their first max_per_id images */
    char root[4096];
    snprintf(root, sizeof root, "%s/lfw", data_dir());
    int nn = 0;
    char **names = tu_list_dir(root, &nn);
    if (!names) {
        fprintf(stderr, "%s not present\n", root);
        exit(1);
    }
    int n_ids = 0;
    for (int i = 0; i < nn; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        int cnt = count_files(dir);
        if (cnt < 10) continue;
        int truth = -1;
        for (int k = 0; k < N_KNOWN; k++)
            if (strcmp(known[k].name, names[i]) == 0) truth = k;
        for (int j = 1; j <= cnt && j <= max_per_id; j++) {
            char rel[1100];
            snprintf(rel, sizeof rel, "lfw/%s/%s_%04d.jpg", names[i], names[i], j);
            add_item(rel, n_ids, truth);
        }
        n_ids++;
    }
    /* ages[c][item], NAN when no face */
    float *ages = malloc(sizeof(float) * (size_t)n_cfg * n_items);
    for (int i = 0; i < n_items; i++) {
        mf_img img;
        mf_face_box b;
        int ok = load_image(items[i].rel, &img, &b);
        for (int c = 0; c < n_cfg; c++) {
            mf_face_attributes a = {.age = NAN};
            if (ok) run_cfg(c, &img, &b, &a);
            ages[(size_t)c * n_items + i] = a.age;
        }
        if (ok) mf_img_free(&img);
        if (i % 200 == 199) fprintf(stderr, "  %d/%d\n", i + 1, n_items);
    }
    printf("age on LFW: %d identities with >= 10 images, up to %d images each (%d images); %d of them with a known"
           " birth year\n\n",
           n_ids, max_per_id, n_items, N_KNOWN);
    printf("| config | mean age | within-id std | between-id std | ratio | MAE img (known) | MAE id median | bias |"
           " r (id means vs truth) |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < n_cfg; c++) {
        const float *A = ages + (size_t)c * n_items;
        double within = 0, sum_all = 0;
        int n_within = 0, n_all = 0;
        double *means = calloc((size_t)n_ids, sizeof(double));
        double mae = 0, bias = 0, mae_med = 0;
        int n_mae = 0, n_known = 0;
        double kx[N_KNOWN], ky[N_KNOWN];
        for (int id = 0; id < n_ids; id++) {
            float v[256];
            int n = 0, truth = -1;
            for (int i = 0; i < n_items; i++)
                if (items[i].id == id && !isnan(A[i]) && n < 256) v[n++] = A[i], truth = items[i].label;
            if (n < 2) continue;
            double m = 0, s = 0;
            for (int k = 0; k < n; k++) m += v[k];
            m /= n;
            for (int k = 0; k < n; k++) s += (v[k] - m) * (v[k] - m);
            within += sqrt(s / (n - 1)), n_within++;
            means[id] = m, sum_all += m, n_all++;
            if (truth >= 0) {
                double t = 2002.5 - known[truth].born;
                for (int k = 0; k < n; k++) mae += fabs(v[k] - t), bias += v[k] - t, n_mae++;
                qsort(v, (size_t)n, sizeof *v, by_float);
                double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
                mae_med += fabs(med - t);
                kx[n_known] = m, ky[n_known] = t, n_known++;
            }
        }
        double mean_all = n_all ? sum_all / n_all : 0, between = 0;
        int nb = 0;
        for (int id = 0; id < n_ids; id++)
            if (means[id] != 0) between += (means[id] - mean_all) * (means[id] - mean_all), nb++;
        between = nb > 1 ? sqrt(between / (nb - 1)) : 0;
        within = n_within ? within / n_within : 0;
        printf("| %s | %.1f | %.2f | %.2f | %.2f | %.1f | %.1f | %+.1f | %.2f |\n", cfgs[c].label, mean_all, within,
               between, within > 0 ? between / within : 0, n_mae ? mae / n_mae : 0, n_known ? mae_med / n_known : 0,
               n_mae ? bias / n_mae : 0, ev_pearson(kx, ky, n_known));
        free(means);
    }
    /* agreement between configurations on the same images */
    printf("\nagreement (mean |a - b| in years / Pearson r, per image)\n\n| |");
    for (int c = 0; c < n_cfg; c++) printf(" %s |", cfgs[c].label);
    printf("\n|---|");
    for (int c = 0; c < n_cfg; c++) printf("---|");
    printf("\n");
    double *x = malloc(sizeof(double) * (size_t)n_items), *y = malloc(sizeof(double) * (size_t)n_items);
    for (int a = 0; a < n_cfg; a++) {
        printf("| %s |", cfgs[a].label);
        for (int b = 0; b < n_cfg; b++) {
            int n = 0;
            double mad = 0;
            for (int i = 0; i < n_items; i++) {
                float u = ages[(size_t)a * n_items + i], v = ages[(size_t)b * n_items + i];
                if (isnan(u) || isnan(v)) continue;
                x[n] = u, y[n] = v, n++, mad += fabs(u - v);
            }
            printf(" %.1f / %.2f |", n ? mad / n : 0, ev_pearson(x, y, n));
        }
        printf("\n");
    }
    /* per known identity (truth, median per config) */
    printf("\nknown identities: true age (2002.5 - birth year), median estimate per config\n\n| identity | n | true |");
    for (int c = 0; c < n_cfg; c++) printf(" %s |", cfgs[c].label);
    printf("\n|---|---|---|");
    for (int c = 0; c < n_cfg; c++) printf("---|");
    printf("\n");
    for (int k = 0; k < N_KNOWN; k++) {
        int n = 0;
        for (int i = 0; i < n_items; i++)
            if (items[i].label == k && !isnan(ages[i])) n++;
        if (!n) continue;
        printf("| %s | %d | %.1f |", known[k].name, n, 2002.5 - known[k].born);
        for (int c = 0; c < n_cfg; c++) {
            float v[256];
            int m = 0;
            for (int i = 0; i < n_items && m < 256; i++)
                if (items[i].label == k && !isnan(ages[(size_t)c * n_items + i])) v[m++] = ages[(size_t)c * n_items + i];
            qsort(v, (size_t)m, sizeof *v, by_float);
            printf(" %.1f |", m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]));
        }
        printf("\n");
    }
    free(x), free(y), free(ages);
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
}

/* ---------------------------------------------------------------- distribution on FFHQ / synthetic */

static void mode_dist(void) {
    const char *sets[2] = {"ffhq", "synthetic"};
    for (int s = 0; s < 2; s++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", data_dir(), sets[s]);
        int nn = 0;
        char **names = tu_list_dir(dir, &nn);
        if (!names) continue;
        int kept = 0; /* the .jpg files */
        for (int i = 0; i < nn; i++) {
            if (strstr(names[i], ".jpg")) names[kept++] = names[i];
            else free(names[i]);
        }
        nn = kept;
        float *ages = malloc(sizeof(float) * (size_t)n_cfg * nn);
        float *pm = malloc(sizeof(float) * (size_t)n_cfg * nn);
        int used = 0;
        for (int i = 0; i < nn; i++) {
            char rel[4200];
            snprintf(rel, sizeof rel, "%s/%s", sets[s], names[i]);
            mf_img img;
            mf_face_box b;
            if (!load_image(rel, &img, &b)) continue;
            for (int c = 0; c < n_cfg; c++) {
                mf_face_attributes a;
                run_cfg(c, &img, &b, &a);
                ages[(size_t)c * nn + used] = a.age, pm[(size_t)c * nn + used] = a.p_male;
            }
            used++;
            mf_img_free(&img);
        }
        printf("\n%s: %d faces of %d images\n\n| config | age p5 | p25 | median | p75 | p95 | < 15 | > 70 | share male |"
               "\n|---|---|---|---|---|---|---|---|---|\n",
               sets[s], used, nn);
        for (int c = 0; c < n_cfg && used; c++) {
            float *A = ages + (size_t)c * nn;
            int lo = 0, hi = 0, male = 0;
            for (int i = 0; i < used; i++) lo += A[i] < 15, hi += A[i] > 70, male += pm[(size_t)c * nn + i] > 0.5f;
            qsort(A, (size_t)used, sizeof *A, by_float);
            int has_age = cfgs[c].has_age, has_g = cfgs[c].has_gender;
#define Q(p) A[(int)((p) * (used - 1) + 0.5)]
            if (has_age)
                printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f%% | %.1f%% |", cfgs[c].label, Q(0.05), Q(0.25),
                       Q(0.5), Q(0.75), Q(0.95), 100.0 * lo / used, 100.0 * hi / used);
            else
                printf("| %s | | | | | | | |", cfgs[c].label);
            if (has_g) printf(" %.1f%% |\n", 100.0 * male / used);
            else printf(" |\n");
#undef Q
        }
        free(ages), free(pm);
        for (int i = 0; i < nn; i++) free(names[i]);
        free(names);
    }
}

/* ---------------------------------------------------------------- time */

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Wall time (minimum and median) and, because the measuring machine may be shared, the process CPU time per
 * face (median; equals the wall time of an idle machine for one thread). Includes the crop. */
static void mode_time(int threads) {
    mf_img img;
    mf_face_box b;
    if (!load_image("lfw/George_W_Bush/George_W_Bush_0001.jpg", &img, &b)) {
        fprintf(stderr, "no test image\n");
        exit(1);
    }
    enum { RUNS = 30 };
    printf("time per face (ms, %d runs after 3 warm-up runs; %d thread%s)\n\n| config | wall min | wall median | CPU median |"
           "\n|---|---|---|---|\n",
           RUNS, threads, threads > 1 ? "s" : "");
    for (int c = 0; c < n_cfg; c++) {
        double w[RUNS], u[RUNS];
        mf_face_attributes a;
        for (int r = 0; r < 3; r++) run_cfg(c, &img, &b, &a);
        for (int r = 0; r < RUNS; r++) {
            double t0 = tu_clock_ms(CLOCK_MONOTONIC), c0 = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID);
            run_cfg(c, &img, &b, &a);
            w[r] = tu_clock_ms(CLOCK_MONOTONIC) - t0, u[r] = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        }
        qsort(w, RUNS, sizeof *w, by_double);
        qsort(u, RUNS, sizeof *u, by_double);
        printf("| %s | %.2f | %.2f | %.2f |\n", cfgs[c].label, w[0], w[RUNS / 2], u[RUNS / 2]);
    }
    mf_img_free(&img);
}

int main(int argc, char **argv) {
    int threads = 1, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) break;
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--split"))
            split_mode = !strcmp(argv[i + 1], "tune") ? 1 : !strcmp(argv[i + 1], "test") ? 2 : 0;
        else if (!strcmp(argv[i], "--max-per-id")) max_per_id = atoi(argv[i + 1]);
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: eval_attrib [--threads N] [--split all|tune|test] [--max-per-id N] "
                        "gender|age|dist|time model[:scale[:dy[:aspect[:bgr[:decode]]]]]...\n");
        return 2;
    }
    const char *mode = argv[i++];
    mf_nn_pool_t *pool = NULL;
    if (threads > 1 && mf_nn_pool_create(threads, &pool)) die("pool");
    parse_configs(argc - i, argv + i, pool);
    cache_load();
    if (!strcmp(mode, "gender")) mode_gender();
    else if (!strcmp(mode, "age")) mode_age();
    else if (!strcmp(mode, "dist")) mode_dist();
    else if (!strcmp(mode, "time")) mode_time(threads);
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    cache_save();
    mf_face_attrib_free(handle);
    mf_face_detector_free(det);
    mf_nn_pool_free(pool);
    for (int k = 0; k < n_cache; k++) free(cache[k].rel);
    free(cache);
    free(items);
    return 0;
}
