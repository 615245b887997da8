#include "evalutil.h"

#include "lib/testutil.h"
#include "mfmc/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *ev_models_dir(void) {
    const char *d = getenv("MFMC_MODELS");
    return d && *d ? d : "models";
}

const char *ev_data_dir(void) {
    const char *d = getenv("MFMC_DATA");
    return d && *d ? d : "../shared/data";
}

void ev_die(const char *prog, const char *what) {
    fprintf(stderr, "%s: %s: %s\n", prog, what, mf_error_get());
    exit(1);
}

int ev_cmp_scored_desc(const void *pa, const void *pb) {
    float a = ((const ev_scored *)pa)->s, b = ((const ev_scored *)pb)->s;
    return a < b ? 1 : a > b ? -1 : 0;
}

int ev_cmp_float_desc(const void *pa, const void *pb) {
    float a = *(const float *)pa, b = *(const float *)pb;
    return a < b ? 1 : a > b ? -1 : 0;
}

float ev_best_threshold(const ev_scored *v, int n) {
    int n_imp = 0;
    for (int i = 0; i < n; i++)
        n_imp += !v[i].same;
    /* accept the first k: correct = genuine among them + impostors after them */
    int best = n_imp, best_k = 0, gen = 0, imp = 0;
    for (int k = 1; k <= n; k++) {
        gen += v[k - 1].same, imp += !v[k - 1].same;
        if (k < n && v[k].s == v[k - 1].s) continue;
        int correct = gen + (n_imp - imp);
        if (correct > best) best = correct, best_k = k;
    }
    if (best_k == 0) return v[0].s + 1e-6f;
    if (best_k == n) return v[n - 1].s - 1e-6f;
    return 0.5f * (v[best_k - 1].s + v[best_k].s);
}

float ev_far_threshold(const float *imp, int n, double far) {
    if (n == 0) return 1.0f;
    int k = (int)floor(far * n);
    if (k >= n) return imp[n - 1] - 1e-6f;
    return k == 0 ? imp[0] + 1e-6f : 0.5f * (imp[k - 1] + imp[k]);
}

float ev_quantile_desc(const float *v, int n, double q) {
    if (n == 0) return NAN;
    double pos = (1.0 - q) * (n - 1);
    int i = (int)floor(pos);
    double f = pos - i;
    return i + 1 < n ? (float)((1 - f) * v[i] + f * v[i + 1]) : v[n - 1];
}

double ev_pearson(const double *x, const double *y, int n) {
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++)
        sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

int ev_face_found_again(const mf_face *after, int n, const mf_face_box *where) {
    int bi = -1;
    float best = 1e9f, cx = where->x + where->w / 2, cy = where->y + where->h / 2;
    for (int i = 0; i < n; i++) {
        const mf_face_box *b = &after[i].lm.box;
        float d = hypotf(b->x + b->w / 2 - cx, b->y + b->h / 2 - cy);
        if (d < best) best = d, bi = i;
    }
    return best < 0.35f * fmaxf(where->w, where->h) ? bi : -1;
}

int ev_add_photos(const char *arg, char **paths, int *np, int max) {
    struct stat st;
    int over = 0;
    if (!stat(arg, &st) && S_ISDIR(st.st_mode)) {
        int n;
        char **names = tu_list_dir(arg, &n);
        for (int k = 0; k < n && !over; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", arg, names[k]);
            if (*np < max) paths[(*np)++] = strdup(p);
            else over = 1;
        }
        tu_names_free(names, n);
    } else if (*np < max)
        paths[(*np)++] = strdup(arg);
    else
        over = 1;
    if (over) fprintf(stderr, "more than %d photos given (the limit of this eval); nothing was measured\n", max);
    return over ? -1 : 0;
}
