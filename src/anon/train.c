/* Training of the identity model (mf_anon_train): analyse, align, unwrap, PCA, read-outs, detail maps.
 * See docs/identity-model.md. */
#include "anon/internal.h"
#include "mfmc/render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float mesh[NV * 3]; /* image pixels */
    float age, p_male;
    int idx;            /* index into paths */
    float *emb;         /* (push38) the recognizers' embeddings, concatenated (NULL without recognizers) */
} sample;

static void free_samples(sample *S, int n) {
    for (int i = 0; S && i < n; i++) free(S[i].emb);
    free(S);
}

#define FEAT_NEAR 0.015f /* (ftex47) texels within this (x the texture side) of a feature's own triangles are features */
#define METRIC_RIDGE 0.5 /* (push38) ridge of the codes -> embedding maps, x the number of training faces (chosen by
                            4-fold cross-validation over 3..300 on 243 faces: arcface 300, faceapi 100) */

/* (push38) The model's recognizer metric (struct mf_anon_model.metric) from the training faces' whitened codes F
 * (n x k) and their embeddings S[i].emb (n_rec recognizers of dims dim[r], concatenated). *out: k x k, allocated. */
static int fit_metric(const float *F, const sample *S, int n, int k, const int *dim, int n_rec, float **out) {
    int K2 = 2 * k, de = 0;
    for (int r = 0; r < n_rec; r++) de += dim[r];
    double *A = calloc((size_t)k * K2, sizeof(double)), *fm = calloc(k, sizeof(double)), *M = calloc((size_t)k * k, sizeof(double));
    double *C = calloc((size_t)k * (de > 0 ? de : 1), sizeof(double)), *ym = calloc(de > 0 ? de : 1, sizeof(double));
    double *sc = calloc((size_t)n * n_rec + 1, sizeof(double)); /* 1 / |embedding| per face and recognizer */
    float *res = malloc(sizeof(float) * (size_t)k * k);
    int st = MF_OK;
    if (!A || !fm || !M || !C || !ym || !sc || !res) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++)
        for (int a = 0; a < k; a++) fm[a] += F[(size_t)i * k + a] / n;
    for (int i = 0; !st && i < n; i++) {
        for (int r = 0, o = 0; r < n_rec; o += dim[r++]) { /* L2-normalised embeddings */
            double s = 0;
            for (int q = 0; q < dim[r]; q++) s += (double)S[i].emb[o + q] * S[i].emb[o + q];
            s = sc[(size_t)i * n_rec + r] = s > 0 ? 1 / sqrt(s) : 0;
            for (int q = 0; q < dim[r]; q++) ym[o + q] += S[i].emb[o + q] * s / n;
        }
    }
    for (int i = 0; !st && i < n; i++) { /* A = [Fc' Fc + lambda I | I], C = Fc' Yc */
        const float *f = F + (size_t)i * k;
        for (int a = 0; a < k; a++) {
            double fa = f[a] - fm[a];
            for (int b = 0; b < k; b++) A[(size_t)a * K2 + b] += fa * (f[b] - fm[b]);
            for (int r = 0, o = 0; r < n_rec; o += dim[r++]) {
                double s = sc[(size_t)i * n_rec + r];
                for (int q = 0; q < dim[r]; q++) C[(size_t)a * de + o + q] += fa * (S[i].emb[o + q] * s - ym[o + q]);
            }
        }
    }
    for (int a = 0; !st && a < k; a++) A[(size_t)a * K2 + a] += METRIC_RIDGE * n, A[(size_t)a * K2 + k + a] = 1;
    for (int c = 0; !st && c < k; c++) { /* Gauss-Jordan: A's right half becomes the inverse (positive definite) */
        double p = A[(size_t)c * K2 + c];
        for (int j = 0; j < K2; j++) A[(size_t)c * K2 + j] /= p;
        for (int i = 0; i < k; i++) {
            if (i == c) continue;
            double f = A[(size_t)i * K2 + c];
            if (f != 0)
                for (int j = 0; j < K2; j++) A[(size_t)i * K2 + j] -= f * A[(size_t)c * K2 + j];
        }
    }
    double *B = st ? NULL : calloc((size_t)k * (de > 0 ? de : 1), sizeof(double));
    if (!st && !B) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int a = 0; !st && a < k; a++) /* B = (Fc' Fc + lambda I)^-1 Fc' Yc, k x de */
        for (int b = 0; b < k; b++) {
            double g = A[(size_t)a * K2 + k + b];
            for (int q = 0; q < de; q++) B[(size_t)a * de + q] += g * C[(size_t)b * de + q];
        }
    for (int r = 0, o = 0; !st && r < n_rec; o += dim[r++]) { /* M += B_r B_r' / trace */
        double tr = 0;
        for (int a = 0; a < k; a++)
            for (int q = 0; q < dim[r]; q++) tr += B[(size_t)a * de + o + q] * B[(size_t)a * de + o + q];
        if (!(tr > 0)) continue;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) {
                double s = 0;
                for (int q = 0; q < dim[r]; q++) s += B[(size_t)a * de + o + q] * B[(size_t)b * de + o + q];
                M[(size_t)a * k + b] += s / tr;
            }
    }
    for (size_t i = 0; !st && i < (size_t)k * k; i++) res[i] = (float)(M[i] * k / n_rec);
    free(A), free(fm), free(M), free(C), free(ym), free(sc), free(B);
    if (st) free(res), res = NULL;
    *out = res;
    return st;
}

/* PCA of X (n x dim, rows centred in place against the mean written to `mean`): k components scaled by their
 * standard deviation into basis (k x dim), whitened codes into z (n x k). */
static int pca(float *X, int n, size_t dim, int k, float *mean, float *basis, float *z) {
    double *G = malloc(sizeof(double) * (size_t)n * n), *d = malloc(sizeof(double) * n),
           *V = malloc(sizeof(double) * (size_t)n * n);
    int *ord = malloc(sizeof(int) * n);
    if (!G || !d || !V || !ord) {
        free(G), free(d), free(V), free(ord);
        return mf_error_set(MF_ERR_NOMEM, "out of memory (pca)");
    }
    for (size_t j = 0; j < dim; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += X[(size_t)i * dim + j];
        mean[j] = (float)(s / n);
        for (int i = 0; i < n; i++) X[(size_t)i * dim + j] -= mean[j];
    }
    for (int a = 0; a < n; a++)
        for (int b = a; b < n; b++) {
            double s = 0;
            const float *xa = X + (size_t)a * dim, *xb = X + (size_t)b * dim;
            for (size_t j = 0; j < dim; j++) s += (double)xa[j] * xb[j];
            G[a * n + b] = G[b * n + a] = s;
        }
    mf_sym_eigen(G, n, d, V);
    for (int i = 0; i < n; i++) ord[i] = i;
    for (int i = 0; i < n; i++) /* selection sort by eigenvalue, descending */
        for (int j = i + 1; j < n; j++)
            if (d[ord[j]] > d[ord[i]]) {
                int t = ord[i];
                ord[i] = ord[j], ord[j] = t;
            }
    for (int c = 0; c < k; c++) {
        int e = ord[c];
        double lam = d[e] > 1e-12 ? d[e] : 1e-12, sd = sqrt(lam / (n - 1)), inv = 1 / sqrt(lam);
        float *b = basis + (size_t)c * dim;
        for (size_t j = 0; j < dim; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += V[i * n + e] * X[(size_t)i * dim + j];
            b[j] = (float)(s * inv * sd); /* unit direction times the standard deviation */
        }
        for (int i = 0; i < n; i++) z[(size_t)i * k + c] = (float)(V[i * n + e] * sqrt((double)(n - 1)));
    }
    free(G), free(d), free(V), free(ord);
    return MF_OK;
}

/* ridge regression y ~ w . f + b over n samples of k features; w has k + 1 entries (bias last). */
static void ridge(const float *F, const double *y, int n, int k, double lambda, float *w) {
    int K = k + 1;
    double *A = calloc((size_t)K * K, sizeof(double)), *r = calloc(K, sizeof(double));
    if (!A || !r) {
        free(A), free(r);
        return;
    }
    for (int i = 0; i < n; i++)
        for (int a = 0; a < K; a++) {
            double fa = a < k ? F[(size_t)i * k + a] : 1;
            r[a] += fa * y[i];
            for (int b = 0; b < K; b++) A[a * K + b] += fa * (b < k ? F[(size_t)i * k + b] : 1);
        }
    for (int a = 0; a < k; a++) A[a * K + a] += lambda;
    for (int c = 0; c < K; c++) { /* Gauss-Jordan, A is positive definite */
        double p = A[c * K + c];
        for (int j = 0; j < K; j++) A[c * K + j] /= p;
        r[c] /= p;
        for (int i = 0; i < K; i++) {
            if (i == c) continue;
            double f = A[i * K + c];
            for (int j = 0; j < K; j++) A[i * K + j] -= f * A[c * K + j];
            r[i] -= f * r[c];
        }
    }
    for (int a = 0; a < K; a++) w[a] = (float)r[a];
    free(A), free(r);
}

static float sample_img(const mf_img *im, float x, float y, int k) {
    x -= 0.5f, y -= 0.5f;
    if (!(x > 0)) x = 0;
    if (!(y > 0)) y = 0;
    if (x > im->w - 1) x = (float)(im->w - 1);
    if (y > im->h - 1) y = (float)(im->h - 1);
    int x0 = (int)x, y0 = (int)y, x1 = x0 + 1 < im->w ? x0 + 1 : x0, y1 = y0 + 1 < im->h ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0;
    const uint8_t *d = im->data;
    float a = d[((size_t)y0 * im->w + x0) * 3 + k], b = d[((size_t)y0 * im->w + x1) * 3 + k];
    float c = d[((size_t)y1 * im->w + x0) * 3 + k], e = d[((size_t)y1 * im->w + x1) * 3 + k];
    return (a + (b - a) * fx) * (1 - fy) + (c + (e - c) * fx) * fy;
}

static void normalise_shape(float *s) {
    double c[3] = {0}, r = 0;
    for (int i = 0; i < NV; i++)
        for (int k = 0; k < 3; k++) c[k] += s[3 * i + k] / NV;
    for (int i = 0; i < NV; i++)
        for (int k = 0; k < 3; k++) s[3 * i + k] -= (float)c[k], r += s[3 * i + k] * s[3 * i + k];
    r = sqrt(r / NV);
    for (int i = 0; i < NV * 3; i++) s[i] = (float)(s[i] / r);
}

static void apply_sim(float *p, int n, float s, const float R[9], const float t[3]) {
    for (int i = 0; i < n; i++) {
        float x = p[3 * i], y = p[3 * i + 1], z = p[3 * i + 2];
        for (int r = 0; r < 3; r++) p[3 * i + r] = s * (R[3 * r] * x + R[3 * r + 1] * y + R[3 * r + 2] * z) + t[r];
    }
}

static void loop_centre(const float *s, const int *loop, int n, float c[3]) {
    c[0] = c[1] = c[2] = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) c[k] += s[3 * loop[i] + k] / n;
}

static int cmp_f(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Keeps hair out of the texture model: on the forehead above the brows (where bangs and fringes fall) and in the
 * outer band of the face (temples, sideburns), texels far from the face's own skin colour (robust statistics over its
 * plain skin) are replaced, so bangs never become "ghost hair" in drawn identities. They are filled from the face's
 * own kept skin around them (normalised convolution: the shading gradient continues) rather than by one flat median
 * colour, whose hard-edged patches became a pale band with a crack-like edge at the top of the forehead of every
 * drawn face (anon10c). The features, eyes and lips are left as they are (cleaning eye sockets and creases the same
 * way made the model's eyes patchy). plain (T * T, out) marks the face's plain skin that was kept: the texels the
 * detail maps may take grain from. */
/* Skin grain at texel (xx, yy) of a T x T texture x (RGB) with plain-skin mask pl: its grey minus the mean grey of
 * the plain texels of its 5x5 neighbourhood (inside the texture). 0 when the texel is not plain or fewer than 8
 * neighbours are; 1 with *h set. */
static int plain_highpass(const float *x, const uint8_t *pl, int T, int xx, int yy, float *h) {
    size_t p = (size_t)yy * T + xx;
    if (!pl[p]) return 0;
    float sm = 0;
    int c = 0;
    for (int j = -2; j <= 2; j++)
        for (int i2 = -2; i2 <= 2; i2++) {
            int qx = xx + i2, qy = yy + j;
            if (qx < 0 || qy < 0 || qx >= T || qy >= T) continue;
            size_t q = (size_t)qy * T + qx;
            if (!pl[q]) continue;
            sm += 0.299f * x[3 * q] + 0.587f * x[3 * q + 1] + 0.114f * x[3 * q + 2], c++;
        }
    if (c < 8) return 0;
    *h = 0.299f * x[3 * p] + 0.587f * x[3 * p + 1] + 0.114f * x[3 * p + 2] - sm / c;
    return 1;
}

static void clean_skin(const struct mf_anon_model *m, const int *tri_of, const uint8_t *feat, const uint8_t *near,
                       const float *edge, float brow_top, float *x, uint8_t *plain) {
    size_t T2 = (size_t)m->T * m->T, n = 0;
    for (size_t p = 0; p < T2; p++) plain[p] = tri_of[p] >= 0 && !m->hole[tri_of[p]] && !feat[tri_of[p]];
    /* (ftex47) the skin the cleaning reads, tests and fills from: the plain triangles, or (near != NULL) every texel
     * of a skin triangle away from the features. The triangles from the mid-forehead ring (108, 151, 337) down to the
     * brows touch a brow vertex: as "feature" triangles the lower forehead was never cleaned, and the cleaned top
     * strip above it was filled from itself alone, a step at texture row 22 in the model */
    uint8_t *cl = near ? malloc(T2) : plain, *own = near ? cl : NULL; /* without `near`, cl is plain itself */
    float *v = malloc(sizeof(float) * T2 * 3);
    if (!v || !cl) {
        free(v), free(own);
        return;
    }
    for (size_t p = 0; own && p < T2; p++) cl[p] = tri_of[p] >= 0 && !m->hole[tri_of[p]] && !near[p];
    float *ys = v, *cbs = v + T2, *crs = v + 2 * T2;
    for (size_t p = 0; p < T2; p++) {
        if (!cl[p]) continue;
        const float *c = x + 3 * p;
        ys[n] = 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2];
        cbs[n] = -0.1687f * c[0] - 0.3313f * c[1] + 0.5f * c[2];
        crs[n] = 0.5f * c[0] - 0.4187f * c[1] - 0.0813f * c[2];
        n++;
    }
    if (n < 100) {
        free(v), free(own);
        return;
    }
    float med[3], spr[3];
    float *arr[3] = {ys, cbs, crs};
    for (int c = 0; c < 3; c++) {
        qsort(arr[c], n, sizeof(float), cmp_f);
        med[c] = arr[c][n / 2], spr[c] = 0.5f * (arr[c][n * 9 / 10] - arr[c][n / 10]);
    }
    free(v);
    float rgb[3] = {med[0] + 1.402f * med[2], med[0] - 0.3441f * med[1] - 0.7141f * med[2], med[0] + 1.772f * med[1]};
    /* chroma spreads of at least 6 levels: with the spread of a very even skin (3) most of a forehead (whose
     * chroma differs from the cheeks') counted as hair */
    float scb = fmaxf(spr[1], 6), scr = fmaxf(spr[2], 6);
    float *rep = calloc(T2, sizeof(float)); /* how much of each texel is replaced, 0..1 */
    if (!rep) {
        free(own);
        return;
    }
    size_t nrep = 0;
    for (size_t p = 0; p < T2; p++) {
        if (!cl[p]) continue;
        float *c = x + 3 * p;
        float Y = 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2];
        float cb = -0.1687f * c[0] - 0.3313f * c[1] + 0.5f * c[2], cr = 0.5f * c[0] - 0.4187f * c[1] - 0.0813f * c[2];
        float dc = hypotf((cb - med[1]) / scb, (cr - med[2]) / scr), ry = Y / fmaxf(med[0], 1);
        /* soft in every term: a hard test (chroma > 3 spreads or luminance < 0.6, everywhere above the brow line)
         * replaced much of the plain skin of many foreheads (the forehead's chroma differs from the cheeks') and
         * left a hard horizontal step at the brow line in the model's mean, a pale band above the drawn brows */
        float yr = (float)(p / m->T) + 0.5f, zf = (brow_top - yr) / (0.04f * m->T) + 0.5f;
        float ze = edge[p] >= 0 ? (0.07f * m->T - edge[p]) / (0.03f * m->T) : 0;
        float zone = fmaxf(fminf(1, fmaxf(0, zf)), fminf(1, fmaxf(0, ze)));
        float hc = fminf(1, fmaxf(0, (dc - 2.5f) / 1.5f)), hl = fminf(1, fmaxf(0, (0.7f - ry) / 0.2f));
        float w = zone * fmaxf(hc, hl);
        if (w > 0) rep[p] = w, nrep++;
        if (w > 0.25f) plain[p] = cl[p] = 0;
    }
    /* fill: the kept plain skin blurred with a normalised convolution at two scales (the near one where it has
     * support), the median colour where neither reaches */
    mf_fimg f1, f2, w1;
    memset(&f1, 0, sizeof f1), memset(&f2, 0, sizeof f2), memset(&w1, 0, sizeof w1);
    if (nrep && !mf_fimg_init(&f1, m->T, m->T, 3) && !mf_fimg_init(&w1, m->T, m->T, 1)) {
        for (size_t p = 0; p < T2; p++) {
            w1.data[p] = cl[p] ? 1 - rep[p] : 0;
            for (int k = 0; k < 3; k++) f1.data[3 * p + k] = x[3 * p + k];
        }
        mf_fimg wb;
        memset(&wb, 0, sizeof wb);
        if (!mf_fimg_copy(&f1, &f2) && !mf_fimg_copy(&w1, &wb)) {
            float s1 = 0.04f * m->T, s2 = 0.15f * m->T;
            int ok = !mf_render_blur(&f1, &w1, s1) && !mf_render_blur(&f2, &w1, s2) && !mf_render_blur(&wb, NULL, s1);
            for (size_t p = 0; ok && p < T2; p++) {
                if (!(rep[p] > 0)) continue;
                float a = fminf(1, wb.data[p] / 0.25f);
                int far = !(f2.data[3 * p] + f2.data[3 * p + 1] + f2.data[3 * p + 2] > 0);
                for (int k = 0; k < 3; k++) {
                    float b = far ? rgb[k] : f2.data[3 * p + k];
                    x[3 * p + k] += rep[p] * (a * f1.data[3 * p + k] + (1 - a) * b - x[3 * p + k]);
                }
            }
            if (!ok)
                for (size_t p = 0; p < T2; p++)
                    for (int k = 0; k < 3; k++) x[3 * p + k] += rep[p] * (rgb[k] - x[3 * p + k]);
        }
        mf_fimg_free(&wb);
    } else
        for (size_t p = 0; p < T2; p++)
            for (int k = 0; k < 3; k++) x[3 * p + k] += rep[p] * (rgb[k] - x[3 * p + k]);
    mf_fimg_free(&f1), mf_fimg_free(&f2), mf_fimg_free(&w1);
    free(rep), free(own);
}

int mf_anon_train(mf_face_analyzer_t *an, const char *const *paths, int n_paths, const mf_anon_train_opts *opts,
                  mf_anon_model_t **out, mf_anon_train_report *rep) {
    *out = NULL;
    mf_anon_train_opts o = {.tex_side = 192, .n_shape = 24, .n_tex = 48, .n_detail = 8, .max_yaw = 20, .seed = 1};
    if (opts) {
        if (opts->tex_side) o.tex_side = opts->tex_side;
        if (opts->n_shape) o.n_shape = opts->n_shape;
        if (opts->n_tex) o.n_tex = opts->n_tex;
        if (opts->n_detail) o.n_detail = opts->n_detail;
        o.detail_ages = opts->detail_ages != 0;
        o.clean_texels = opts->clean_texels != 0;
        if (opts->max_yaw > 0) o.max_yaw = opts->max_yaw;
        o.seed = opts->seed;
    }
    mf_anon_train_report r0 = {0};
    if (!rep) rep = &r0;
    memset(rep, 0, sizeof *rep);
    if (opts) o.rec = opts->rec, o.n_rec = opts->n_rec;
    if (o.n_rec < 0 || o.n_rec > MF_ANON_MAX_METRIC_REC || (o.n_rec > 0 && !o.rec))
        return mf_error_set(MF_ERR_ARG, "identity train: recognizers out of range");
    int dim[MF_ANON_MAX_METRIC_REC], de = 0;
    for (int r = 0; r < o.n_rec; r++) {
        if (!o.rec[r]) return mf_error_set(MF_ERR_ARG, "identity train: recognizer %d missing", r);
        dim[r] = mf_face_recognizer_info_of(o.rec[r])->dim, de += dim[r];
    }
    if (o.tex_side < 32 || o.tex_side > MF_ANON_MAX_TEX || o.n_shape < 1 || o.n_tex < 1 ||
        o.n_shape > MF_ANON_MAX_COMPONENTS || o.n_tex > MF_ANON_MAX_COMPONENTS || o.n_detail < 0 ||
        o.n_detail > MF_ANON_MAX_DETAIL || (o.detail_ages && o.n_detail * MF_ANON_DETAIL_GROUPS > MF_ANON_MAX_DETAIL) ||
        n_paths < 0)
        return mf_error_set(MF_ERR_ARG, "identity train: options out of range");
    sample *S = calloc((size_t)(n_paths ? n_paths : 1), sizeof *S);
    enum { MAXF = 16 };
    mf_face faces[MAXF];
    if (!S) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int n = 0, st = 0;
    rep->n_images = n_paths;
    for (int i = 0; i < n_paths; i++) {
        mf_img im;
        if (mf_img_load(paths[i], NULL, &im, NULL)) {
            rep->n_no_face++;
            continue;
        }
        int nf = 0;
        st = mf_face_analyze(an, &im, faces, MAXF, &nf);
        if (st) {
            mf_img_free(&im);
            break;
        }
        int b = mf_face_largest(faces, nf);
        if (b < 0 || !faces[b].has_landmarks || faces[b].attr.age < 0) {
            rep->n_no_face++;
            mf_img_free(&im);
            continue;
        }
        if (nf > 1) rep->n_multi++;
        if (fabsf(faces[b].lm.yaw) > o.max_yaw || fabsf(faces[b].lm.roll) > 30) {
            rep->n_turned++;
            mf_img_free(&im);
            continue;
        }
        if (o.n_rec > 0) { /* (push38) the recognizers' embeddings of the face, for the model's metric */
            float p5[5][2];
            mf_face_5pt(&faces[b], p5);
            if (!(S[n].emb = malloc(sizeof(float) * (size_t)de))) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            for (int r = 0, off = 0; !st && r < o.n_rec; off += dim[r++])
                st = mf_face_recognizer_embed(o.rec[r], &im, p5, S[n].emb + off);
            if (st) {
                mf_img_free(&im);
                free(S[n].emb), S[n].emb = NULL;
                break;
            }
        }
        mf_img_free(&im);
        memcpy(S[n].mesh, faces[b].lm.pt, sizeof S[n].mesh);
        S[n].age = faces[b].attr.age, S[n].p_male = faces[b].attr.p_male, S[n].idx = i;
        n++;
    }
    if (!st && n < 8) st = mf_error_set(MF_ERR_ARG, "identity train: only %d usable faces (at least 8)", n);
    if (st) {
        free_samples(S, n_paths);
        return st;
    }
    rep->n_used = n;
    mf_anon_model_t *m = calloc(1, sizeof *m);
    float *shapes = malloc(sizeof(float) * (size_t)n * NV * 3), *mean = calloc(NV * 3, sizeof(float));
    if (!m || !shapes || !mean) {
        free_samples(S, n_paths), free(m), free(shapes), free(mean);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    /* generalised Procrustes: normalise, align to the first, then to the running mean */
    for (int i = 0; i < n; i++) {
        memcpy(shapes + (size_t)i * NV * 3, S[i].mesh, sizeof S[i].mesh);
        normalise_shape(shapes + (size_t)i * NV * 3);
    }
    memcpy(mean, shapes, sizeof(float) * NV * 3);
    for (int it = 0; it < 4; it++) {
        for (int i = 0; i < n; i++) {
            float s, R[9], t[3], *p = shapes + (size_t)i * NV * 3;
            if (!mf_fit_similarity(p, mean, NULL, NV, &s, R, t)) apply_sim(p, NV, s, R, t);
        }
        memset(mean, 0, sizeof(float) * NV * 3);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < NV * 3; j++) mean[j] += shapes[(size_t)i * NV * 3 + j] / n;
        normalise_shape(mean);
    }
    /* frontal frame of the mean: x from the subject's right eye to the left, y from forehead (10) to chin (152) */
    float er[3], el[3], ax[3], ay[3], az[3];
    loop_centre(mean, mf_anon_loop_reye, 16, er);
    loop_centre(mean, mf_anon_loop_leye, 16, el);
    for (int k = 0; k < 3; k++) ax[k] = el[k] - er[k], ay[k] = mean[3 * 152 + k] - mean[3 * 10 + k];
    float nx = sqrtf(ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2]);
    for (int k = 0; k < 3; k++) ax[k] /= nx;
    float dp = ay[0] * ax[0] + ay[1] * ax[1] + ay[2] * ax[2];
    for (int k = 0; k < 3; k++) ay[k] -= dp * ax[k];
    float ny = sqrtf(ay[0] * ay[0] + ay[1] * ay[1] + ay[2] * ay[2]);
    for (int k = 0; k < 3; k++) ay[k] /= ny;
    az[0] = ax[1] * ay[2] - ax[2] * ay[1], az[1] = ax[2] * ay[0] - ax[0] * ay[2], az[2] = ax[0] * ay[1] - ax[1] * ay[0];
    float Rf[9] = {ax[0], ax[1], ax[2], ay[0], ay[1], ay[2], az[0], az[1], az[2]}, t0[3] = {0, 0, 0};
    apply_sim(mean, NV, 1, Rf, t0);
    for (int i = 0; i < n; i++) apply_sim(shapes + (size_t)i * NV * 3, NV, 1, Rf, t0);

    /* canonical texture layout and triangulation */
    m->T = o.tex_side, m->ks = o.n_shape < n - 1 ? o.n_shape : n - 1, m->kt = o.n_tex < n - 1 ? o.n_tex : n - 1;
    m->nd = o.n_detail * (o.detail_ages ? MF_ANON_DETAIL_GROUPS : 1), m->n_train = n;
    int *tri = malloc(sizeof(int) * 3 * 4 * NV);
    float *uv = malloc(sizeof(float) * NV * 2);
    if (!tri || !uv) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    int nt = 0;
    if (!st) {
        float mnx = 1e9f, mxx = -1e9f, mny = 1e9f, mxy = -1e9f;
        for (int i = 0; i < NV; i++) {
            mnx = fminf(mnx, mean[3 * i]), mxx = fmaxf(mxx, mean[3 * i]);
            mny = fminf(mny, mean[3 * i + 1]), mxy = fmaxf(mxy, mean[3 * i + 1]);
        }
        float k = 0.96f * o.tex_side / fmaxf(mxx - mnx, mxy - mny);
        for (int i = 0; i < NV; i++) {
            uv[2 * i] = o.tex_side * 0.5f + (mean[3 * i] - (mnx + mxx) / 2) * k;
            uv[2 * i + 1] = o.tex_side * 0.5f + (mean[3 * i + 1] - (mny + mxy) / 2) * k;
        }
        nt = mf_anon_delaunay(uv, NV, tri, 4 * NV);
        if (nt < 0) st = nt;
    }
    if (!st) { /* keep the triangles inside the face oval (Delaunay also fills its concave bays) */
        int k2 = 0;
        for (int t = 0; t < nt; t++) {
            float cx = 0, cy = 0;
            for (int e = 0; e < 3; e++) cx += uv[2 * tri[3 * t + e]] / 3, cy += uv[2 * tri[3 * t + e] + 1] / 3;
            if (!mf_anon_in_loop(uv, mf_anon_loop_oval, 36, cx, cy)) continue;
            memmove(tri + 3 * k2, tri + 3 * t, sizeof(int) * 3);
            k2++;
        }
        nt = k2;
    }
    if (!st) {
        m->n_tri = nt;
        st = mf_anon_model_alloc(m);
    }
    if (!st) {
        memcpy(m->tri, tri, sizeof(int) * 3 * (size_t)nt);
        memcpy(m->uv, uv, sizeof(float) * NV * 2);
        memcpy(m->shape_mean, mean, sizeof(float) * NV * 3);
        for (int t = 0; t < nt; t++) {
            float cx = 0, cy = 0;
            for (int e = 0; e < 3; e++) cx += uv[2 * tri[3 * t + e]] / 3, cy += uv[2 * tri[3 * t + e] + 1] / 3;
            m->hole[t] = mf_anon_in_loop(uv, mf_anon_loop_reye, 16, cx, cy) ||
                         mf_anon_in_loop(uv, mf_anon_loop_leye, 16, cx, cy) ||
                         mf_anon_in_loop(uv, mf_anon_loop_mouth, 20, cx, cy);
        }
    }
    free(tri), free(uv);
    /* unwrap every training face into the texture space */
    size_t T2 = (size_t)m->T * m->T, D = T2 * 3;
    int *tri_of = NULL;
    uint8_t *feat = NULL; /* per triangle: over a feature (brows, eyes, lips, nose) or an opening */
    uint8_t *near = NULL; /* (ftex47) per texel: within FEAT_NEAR of a feature vertex (opts.clean_texels) */
    float brow_top = 1e9f; /* texture row of the highest brow point */
    float *bary = NULL, *X = NULL, *zs = NULL, *zt = NULL, *edge = NULL;
    uint8_t *plain = NULL; /* n * T2: each face's kept plain skin (the detail maps' sources) */
    if (!st) {
        tri_of = malloc(sizeof(int) * T2), bary = malloc(sizeof(float) * T2 * 3);
        edge = malloc(sizeof(float) * T2), plain = malloc((size_t)n * T2);
        X = malloc(sizeof(float) * (size_t)n * D);
        zs = malloc(sizeof(float) * (size_t)n * m->ks), zt = malloc(sizeof(float) * (size_t)n * m->kt);
        if (!tri_of || !bary || !X || !zs || !zt || !edge || !plain) st = mf_error_set(MF_ERR_NOMEM, "out of memory (%d faces)", n);
    }
    if (!st) {
        mf_anon_texel_map(m, tri_of, bary);
        for (size_t i = 0; i < T2; i++) m->valid[i] = tri_of[i] >= 0 && !m->hole[tri_of[i]];
        for (int i = 0; i < 20; i++) brow_top = fminf(brow_top, m->uv[2 * mf_anon_feature_v[i] + 1]);
        /* distance of each texel to the face oval (texels; -1 outside the mesh) */
        for (size_t p = 0; p < T2; p++) {
            float d = 1e9f, px = (float)(p % m->T) + 0.5f, py = (float)(p / m->T) + 0.5f;
            for (int b = 0; b < 36; b++) {
                const float *q = m->uv + 2 * mf_anon_loop_oval[b];
                d = fminf(d, hypotf(px - q[0], py - q[1]));
            }
            edge[p] = tri_of[p] >= 0 ? d : -1;
        }
        feat = calloc((size_t)m->n_tri, 1);
        uint8_t fv[NV] = {0};
        for (int i = 0; i < MF_ANON_N_FEATURE_V; i++) fv[mf_anon_feature_v[i]] = 1;
        for (int i = 0; i < 16; i++) fv[mf_anon_loop_reye[i]] = fv[mf_anon_loop_leye[i]] = 1;
        for (int i = 0; i < 20; i++) fv[mf_anon_loop_mouth[i]] = 1;
        if (!feat) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        for (int t = 0; !st && t < m->n_tri; t++)
            feat[t] = m->hole[t] || fv[m->tri[3 * t]] || fv[m->tri[3 * t + 1]] || fv[m->tri[3 * t + 2]];
        if (!st && o.clean_texels && !(near = malloc(T2))) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        /* (ftex47) texels of the features' own triangles (every vertex a feature vertex, or an opening) and within
         * FEAT_NEAR of them */
        int rad = (int)(FEAT_NEAR * m->T + 0.5f);
        for (int y = 0; !st && near && y < m->T; y++)
            for (int x = 0; x < m->T; x++) {
                int hit = 0;
                for (int dy = -rad; !hit && dy <= rad; dy++)
                    for (int dx = -rad; !hit && dx <= rad; dx++) {
                        int qx = x + dx, qy = y + dy;
                        if (qx < 0 || qy < 0 || qx >= m->T || qy >= m->T || dx * dx + dy * dy > rad * rad) continue;
                        int t = tri_of[(size_t)qy * m->T + qx];
                        hit = t >= 0 && (m->hole[t] || (fv[m->tri[3 * t]] && fv[m->tri[3 * t + 1]] && fv[m->tri[3 * t + 2]]));
                    }
                near[(size_t)y * m->T + x] = (uint8_t)hit;
            }
    }
    for (int i = 0; !st && i < n; i++) {
        mf_img im;
        if ((st = mf_img_load(paths[S[i].idx], NULL, &im, NULL))) break;
        float *x = X + (size_t)i * D;
        for (size_t p = 0; p < T2; p++) {
            int t = tri_of[p];
            if (t < 0) {
                x[3 * p] = x[3 * p + 1] = x[3 * p + 2] = 0;
                continue;
            }
            float px = 0, py = 0;
            for (int e = 0; e < 3; e++) {
                const float *v = S[i].mesh + 3 * m->tri[3 * t + e];
                px += bary[3 * p + e] * v[0], py += bary[3 * p + e] * v[1];
            }
            for (int k = 0; k < 3; k++) x[3 * p + k] = sample_img(&im, px, py, k);
        }
        mf_img_free(&im);
        clean_skin(m, tri_of, feat, near, edge, brow_top, x, plain + (size_t)i * T2);
    }
    /* detail maps: high-pass luminance of plain skin only (no brow, lid, lip or nostril edge, no cleaned hair:
     * those, misaligned between faces, were drawn as ghost brow lines, eyeliner smudges, a doubled upper lip and
     * cracks on the forehead), clamped to 2.5x the face's mean absolute high-pass (a mole or a stray hair is not
     * skin grain), mixed from many faces in overlapping tiles (no face recoverable) */
    if (!st && m->nd > 0) {
        float *acc = calloc(T2, sizeof(float)), *wacc = calloc(T2, sizeof(float));
        float *lim = malloc(sizeof(float) * (size_t)n);
        int *pool = malloc(sizeof(int) * (size_t)n); /* (age47) the faces a map's tiles come from */
        uint64_t rs = o.seed ^ 0x5eedull;
        enum { TILE = 16 };
        if (!acc || !wacc || !lim || !pool) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        if (!st && o.detail_ages && !(m->detail_age = malloc(sizeof(float) * (size_t)m->nd)))
            st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        for (int f = 0; !st && f < n; f++) { /* each face's high-pass scale */
            const float *x = X + (size_t)f * D;
            const uint8_t *pl = plain + (size_t)f * T2;
            double sa = 0;
            long c = 0;
            for (int yy = 2; yy < m->T - 2; yy += 2)
                for (int xx = 2; xx < m->T - 2; xx += 2) {
                    float h;
                    if (!plain_highpass(x, pl, m->T, xx, yy, &h)) continue;
                    sa += fabsf(h), c++;
                }
            lim[f] = c > 0 ? 2.5f * (float)(sa / c) : 0;
        }
        for (int d = 0; !st && d < m->nd; d++) {
            /* (age47) with detail_ages, maps d = g * n_detail .. are made of faces of age group g only (all faces
             * when the group has fewer than MF_ANON_DETAIL_GROUP_MIN), tagged with their mean age */
            int np = 0;
            double asum = 0;
            for (int f = 0; f < n; f++)
                if (!o.detail_ages || mf_anon_detail_group(S[f].age) == d / o.n_detail) pool[np++] = f;
            if (np < MF_ANON_DETAIL_GROUP_MIN)
                for (int f = np = 0; f < n; f++) pool[np++] = f;
            for (int q = 0; q < np; q++) asum += S[pool[q]].age;
            if (m->detail_age) m->detail_age[d] = (float)(asum / np);
            memset(acc, 0, sizeof(float) * T2), memset(wacc, 0, sizeof(float) * T2);
            for (int ty = -TILE / 2; ty < m->T; ty += TILE / 2)
                for (int tx = -TILE / 2; tx < m->T; tx += TILE / 2) {
                    int f = pool[(int)(mf_anon_rng_uniform(&rs) * np)];
                    const float *x = X + (size_t)f * D;
                    const uint8_t *pl = plain + (size_t)f * T2;
                    for (int yy = ty < 0 ? 0 : ty; yy < ty + TILE && yy < m->T; yy++)
                        for (int xx = tx < 0 ? 0 : tx; xx < tx + TILE && xx < m->T; xx++) {
                            size_t p = (size_t)yy * m->T + xx;
                            float h;
                            if (!plain_highpass(x, pl, m->T, xx, yy, &h)) continue;
                            h = h > lim[f] ? lim[f] : h < -lim[f] ? -lim[f] : h;
                            float wx = sinf(3.14159265f * (xx - tx + 0.5f) / TILE), wy = sinf(3.14159265f * (yy - ty + 0.5f) / TILE);
                            float w = wx * wx * wy * wy;
                            acc[p] += w * h, wacc[p] += w;
                        }
                }
            /* where few tiles had plain skin (next to the features) the grain fades out instead of being amplified */
            for (size_t p = 0; p < T2; p++) m->detail[(size_t)d * T2 + p] = wacc[p] > 1e-6f ? acc[p] / fmaxf(wacc[p], 0.25f) : 0;
        }
        free(acc), free(wacc), free(lim), free(pool);
    }
    /* PCA of shape and texture */
    if (!st) {
        float *ds = malloc(sizeof(float) * (size_t)n * NV * 3);
        if (!ds) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        else {
            memcpy(ds, shapes, sizeof(float) * (size_t)n * NV * 3);
            float *mtmp = malloc(sizeof(float) * NV * 3);
            if (!mtmp) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            else st = pca(ds, n, NV * 3, m->ks, mtmp, m->shape_basis, zs);
            if (!st) memcpy(m->shape_mean, mtmp, sizeof(float) * NV * 3);
            free(mtmp), free(ds);
        }
    }
    if (!st) st = pca(X, n, D, m->kt, m->tex_mean, m->tex_basis, zt);
    /* age and gender read-outs from the whitened codes */
    if (!st) {
        int k = m->ks + m->kt;
        float *F = calloc((size_t)n * k, sizeof(float));
        double *ya = calloc(n, sizeof(double)), *yg = calloc(n, sizeof(double));
        if (!F || !ya || !yg) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        else {
            double am = 0, amin = 1e9, amax = -1e9, males = 0;
            for (int i = 0; i < n; i++) {
                memcpy(F + (size_t)i * k, zs + (size_t)i * m->ks, sizeof(float) * m->ks);
                memcpy(F + (size_t)i * k + m->ks, zt + (size_t)i * m->kt, sizeof(float) * m->kt);
                ya[i] = S[i].age;
                double p = S[i].p_male < 0.03 ? 0.03 : S[i].p_male > 0.97 ? 0.97 : S[i].p_male;
                yg[i] = log(p / (1 - p));
                am += S[i].age / n, amin = fmin(amin, S[i].age), amax = fmax(amax, S[i].age);
                males += S[i].p_male >= 0.5;
            }
            ridge(F, ya, n, k, 0.1 * n, m->age_w);
            ridge(F, yg, n, k, 0.1 * n, m->male_w);
            double sse = 0, sst = 0, right = 0;
            for (int i = 0; i < n; i++) {
                double pa = m->age_w[k], pg = m->male_w[k];
                for (int j = 0; j < k; j++) pa += m->age_w[j] * F[(size_t)i * k + j], pg += m->male_w[j] * F[(size_t)i * k + j];
                sse += (pa - ya[i]) * (pa - ya[i]), sst += (ya[i] - am) * (ya[i] - am);
                right += (pg >= 0) == (yg[i] >= 0);
            }
            /* per-bucket code statistics (only buckets pooling >= MF_ANON_BUCKET_MIN faces are kept) */
            size_t stride = 2 + 2 * (size_t)k;
            for (int b = 0; b < MF_ANON_BUCKETS; b++) {
                float *c = m->cond + b * stride;
                int cnt = 0;
                for (int i = 0; i < n; i++) cnt += mf_anon_bucket(S[i].age, S[i].p_male >= 0.5f) == b;
                if (cnt < MF_ANON_BUCKET_MIN) continue;
                c[0] = (float)cnt;
                for (int i = 0; i < n; i++) {
                    if (mf_anon_bucket(S[i].age, S[i].p_male >= 0.5f) != b) continue;
                    c[1] += S[i].age / cnt;
                    for (int q = 0; q < k; q++) c[2 + q] += F[(size_t)i * k + q] / cnt;
                }
                for (int i = 0; i < n; i++) {
                    if (mf_anon_bucket(S[i].age, S[i].p_male >= 0.5f) != b) continue;
                    for (int q = 0; q < k; q++) {
                        float d = F[(size_t)i * k + q] - c[2 + q];
                        c[2 + k + q] += d * d / (cnt - 1);
                    }
                }
                for (int q = 0; q < k; q++) c[2 + k + q] = sqrtf(c[2 + k + q]);
            }
            m->age_mean = (float)am, m->age_min = (float)amin, m->age_max = (float)amax;
            m->male_frac = (float)(males / n), m->age_r2 = (float)(sst > 0 ? 1 - sse / sst : 0);
            m->gender_acc = (float)(right / n);
            if (o.n_rec > 0) st = fit_metric(F, S, n, k, dim, o.n_rec, &m->metric);
        }
        free(F), free(ya), free(yg);
    }
    free(tri_of), free(feat), free(near), free(bary), free(edge), free(plain), free(X), free(zs), free(zt), free(shapes), free(mean);
    free_samples(S, n_paths);
    if (st) {
        mf_anon_model_free(m);
        return st;
    }
    *out = m;
    return MF_OK;
}
