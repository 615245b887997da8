#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

static const char *env_or(const char *name, const char *def) {
    const char *v = getenv(name);
    return v && *v ? v : def;
}

const char *tu_models_dir(void) { return env_or("MFMC_MODELS", "models"); }
const char *tu_golden_dir(void) { return env_or("MFMC_GOLDEN", "build/golden"); }
const char *tu_data_dir(void) { return env_or("MFMC_DATA", "../shared/data"); }

int tu_box_nearest_centre(const mf_face_box *f, int n, int w, int h, float *dist) {
    int best = -1;
    float bd = INFINITY;
    for (int k = 0; k < n; k++) {
        float d = hypotf(f[k].x + f[k].w / 2 - w / 2.0f, f[k].y + f[k].h / 2 - h / 2.0f);
        if (d < bd) bd = d, best = k;
    }
    if (dist) *dist = bd;
    return best;
}

double tu_clock_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int tu_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tu_cpu_ghz(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    double mhz = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "cpu MHz", 7) == 0 && sscanf(strchr(line, ':') + 1, "%lf", &mhz) == 1) break;
    if (f) fclose(f);
    return mhz > 0 ? mhz / 1000.0 : 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **tu_list_dir(const char *path, int *n) {
    *n = 0;
    DIR *dir = opendir(path);
    if (!dir) return NULL;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        char **nn = realloc(names, (size_t)(*n + 1) * sizeof *names);
        if (!nn) break;
        names = nn;
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(dir);
    if (names) qsort(names, (size_t)*n, sizeof *names, cmp_name);
    return names;
}

void tu_names_free(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

int tu_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int rd(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

int tu_golden_load(const char *path, tu_tensor **out, int *n) {
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    char magic[8];
    uint32_t count;
    if (rd(f, magic, 8) || memcmp(magic, "MFGOLD01", 8) || rd(f, &count, 4) || count > 1000) {
        fprintf(stderr, "%s: not a golden file\n", path);
        fclose(f);
        return -1;
    }
    tu_tensor *t = calloc(count, sizeof *t);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t role, ndim;
        uint16_t nl;
        if (rd(f, &role, 1) || rd(f, &nl, 2) || nl >= sizeof t[i].name || rd(f, t[i].name, nl) || rd(f, &ndim, 1) ||
            ndim > MF_NN_MAX_DIMS)
            goto bad;
        t[i].role = role;
        t[i].shape.ndim = ndim;
        size_t cnt = 1;
        for (int d = 0; d < ndim; d++) {
            int32_t v;
            if (rd(f, &v, 4) || v < 0) goto bad;
            t[i].shape.dim[d] = v;
            cnt *= (size_t)v;
        }
        t[i].count = cnt;
        t[i].data = malloc(cnt * 4 + 4);
        if (rd(f, t[i].data, cnt * 4)) goto bad;
        *n = (int)i + 1;
    }
    fclose(f);
    *out = t;
    return 0;
bad:
    fprintf(stderr, "%s: truncated or malformed\n", path);
    fclose(f);
    tu_golden_free(t, (int)count);
    return -1;
}

void tu_golden_free(tu_tensor *t, int n) {
    if (!t) return;
    for (int i = 0; i < n; i++) free(t[i].data);
    free(t);
}

void tu_compare(const float *a, const float *b, size_t n, double *max_abs, double *max_ref, double *cosine) {
    double ma = 0, mr = 0, dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > ma || isnan(d)) ma = isnan(d) ? INFINITY : d;
        if (fabs(b[i]) > mr) mr = fabs(b[i]);
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    *max_abs = ma;
    *max_ref = mr;
    *cosine = na > 0 && nb > 0 ? dot / sqrt(na * nb) : (na == nb ? 1 : 0);
}

int tu_skin_tone(const mf_img *orig, const mf_img *res, const mf_face *f, float *dy, float *dc, float *ratio, float *ds, float *y0) {
    static const int pt[15] = {50, 280, 205, 425, 36, 266, 151, 108, 337, 6, 197, 195, 9, 117, 346};
    float side = fmaxf(f->lm.box.w, f->lm.box.h);
    int rad = (int)(0.05f * side) + 1, k = 0;
    double y[2][15], sy[2] = {0, 0}, scb[2] = {0, 0}, scr[2] = {0, 0};
    *dy = *dc = 0, *ratio = 1;
    if (ds) *ds = 0;
    if (y0) *y0 = 0;
    for (int i = 0; i < 15; i++) {
        int cx = (int)f->lm.pt[pt[i]][0], cy = (int)f->lm.pt[pt[i]][1];
        double s[2][3] = {{0}}, n = 0;
        for (int yy = cy - rad; yy <= cy + rad; yy++)
            for (int xx = cx - rad; xx <= cx + rad; xx++) {
                if (xx < 0 || yy < 0 || xx >= orig->w || yy >= orig->h) continue;
                size_t o = ((size_t)yy * orig->w + xx) * 3;
                for (int c = 0; c < 3; c++) s[0][c] += orig->data[o + c], s[1][c] += res->data[o + c];
                n++;
            }
        if (n == 0) continue;
        for (int q = 0; q < 2; q++) {
            double r = s[q][0] / n, g = s[q][1] / n, b = s[q][2] / n, Y = 0.299 * r + 0.587 * g + 0.114 * b;
            y[q][k] = Y, sy[q] += Y, scb[q] += 0.564 * (b - Y), scr[q] += 0.713 * (r - Y);
        }
        k++;
    }
    if (!k) return 0;
    double v[2] = {0, 0};
    for (int q = 0; q < 2; q++)
        for (int i = 0; i < k; i++) v[q] += (y[q][i] - sy[q] / k) * (y[q][i] - sy[q] / k);
    *dy = (float)((sy[1] - sy[0]) / k);
    *dc = (float)hypot((scb[1] - scb[0]) / k, (scr[1] - scr[0]) / k);
    if (ds) *ds = (float)(hypot(scb[1] / k, scr[1] / k) - hypot(scb[0] / k, scr[0] / k));
    if (y0) *y0 = (float)(sy[0] / k);
    *ratio = v[0] > 0 ? (float)sqrt(v[1] / v[0]) : 1;
    return k;
}
