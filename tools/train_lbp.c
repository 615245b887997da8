/* Trains the projection of the classical recognizer `lbp` (src/face/lbp.h) and writes it as the generated source
 * src/face/lbp_weights.c: no image and no per-image code is written, only the mean feature and the projection
 * matrix (float16).
 *
 * Training data: the development half of LFW as docs/recognizers.md defines it: every identity of
 * ../shared/data/lfw that appears in no pair of folds 5-9 of lfw-pairs.tsv (the test half) and has at least two
 * images. Faces: the detection nearest the image centre, its mesh's five points, the LBP crop (mf_face_lbp_spec).
 * Learning: mean; PCA by subspace iteration (--pca components, whitened); LDA in the whitened space (within-class
 * scatter regularised by --reg times its mean eigenvalue), keeping the --dim most discriminant directions.
 *
 * Rebuild (from the repository root, after `make setup`; ~5 minutes on 2 cores):
 *     make build/rel/tools/train_lbp && build/rel/tools/train_lbp --out src/face/lbp_weights.c
 * Options: --data DIR, --models DIR, --threads N (2), --pca K (300), --dim D (64), --reg R (0.001), --iters N (8),
 *          --cache FILE (features of the training faces, reused when present; default reports/lbp-dev-features.bin,
 *          git-ignored) */
#include "face/lbp.h"
#include "lib/testutil.h"
#include "mfmc/face.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *data_dir, *models_dir;

_Noreturn static void die(const char *what) {
    fprintf(stderr, "train_lbp: %s: %s\n", what, mf_error_get());
    exit(1);
}

typedef struct {
    char path[8200];
    int label;
    int ok;
} item_t;

static item_t *items;
static int n_items;
static float *feats; /* n_items x MF_LBP_FEAT */
static atomic_int next_item;

static void *feature_worker(void *arg) {
    (void)arg;
    mf_face_detector_t *det;
    mf_face_mesher_t *mesh;
    if (mf_face_detector_create(models_dir, NULL, &det)) die("detector");
    if (mf_face_mesher_create(models_dir, NULL, 0, &mesh)) die("mesh");
    mf_face_box faces[32];
    mf_face_landmarks *lm = malloc(sizeof *lm);
    float *crop = malloc(sizeof(float) * MF_LBP_CROP * MF_LBP_CROP * 3);
    if (!lm || !crop) die("memory");
    for (int i; (i = atomic_fetch_add(&next_item, 1)) < n_items;) {
        mf_img img;
        int n = 0;
        if (mf_img_load(items[i].path, NULL, &img, NULL)) die(items[i].path);
        if (mf_face_detect(det, &img, faces, 32, &n)) die("detect");
        int best = tu_box_nearest_centre(faces, n, img.w, img.h, NULL);
        float pts[5][2];
        if (best >= 0 && !mf_face_mesher_run(mesh, &img, &faces[best], lm)) {
            mf_face_landmarks_5pt(lm, pts);
            if (!mf_face_align_crop(&img, (const float(*)[2])pts, &mf_face_lbp_spec, 0, crop)) {
                mf_face_lbp_features(crop, feats + (size_t)i * MF_LBP_FEAT);
                items[i].ok = 1;
            }
        }
        mf_img_free(&img);
        if (i % 200 == 0) fprintf(stderr, "train_lbp: features %d/%d\n", i, n_items);
    }
    free(crop);
    free(lm);
    mf_face_mesher_free(mesh);
    mf_face_detector_free(det);
    return NULL;
}

/* ---------------------------------------------------------------- linear algebra (double) */

/* cyclic Jacobi on a symmetric n x n matrix a (destroyed): eigenvalues d (descending) and eigenvectors in the
 * columns of v */
static void eig_sym(double *a, int n, double *d, double *v) {
    for (int i = 0; i < n * n; i++)
        v[i] = 0;
    for (int i = 0; i < n; i++)
        v[i * n + i] = 1;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++)
                off += a[p * n + q] * a[p * n + q];
        if (off < 1e-22) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double th = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) {
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) {
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < n; i++)
        d[i] = a[i * n + i];
    for (int i = 0; i < n; i++) { /* selection sort, descending */
        int b = i;
        for (int j = i + 1; j < n; j++)
            if (d[j] > d[b]) b = j;
        if (b == i) continue;
        double t = d[i];
        d[i] = d[b], d[b] = t;
        for (int k = 0; k < n; k++)
            t = v[k * n + i], v[k * n + i] = v[k * n + b], v[k * n + b] = t;
    }
}

/* modified Gram-Schmidt on the k columns of q (rows x k, row-major) */
static void orthonormalise(double *q, int rows, int k) {
    for (int j = 0; j < k; j++) {
        for (int i = 0; i < j; i++) {
            double dot = 0;
            for (int r = 0; r < rows; r++)
                dot += q[(size_t)r * k + i] * q[(size_t)r * k + j];
            for (int r = 0; r < rows; r++)
                q[(size_t)r * k + j] -= dot * q[(size_t)r * k + i];
        }
        double nn = 0;
        for (int r = 0; r < rows; r++)
            nn += q[(size_t)r * k + j] * q[(size_t)r * k + j];
        nn = nn > 0 ? 1 / sqrt(nn) : 0;
        for (int r = 0; r < rows; r++)
            q[(size_t)r * k + j] *= nn;
    }
}

/* z (n x k) = x (n x f, float) q (f x k) */
static void mul_xq(const float *x, int n, int f, const double *q, int k, double *z) {
    for (int i = 0; i < n; i++) {
        double *zi = z + (size_t)i * k;
        for (int j = 0; j < k; j++)
            zi[j] = 0;
        const float *xi = x + (size_t)i * f;
        for (int c = 0; c < f; c++) {
            double v = xi[c];
            if (v == 0) continue;
            const double *qc = q + (size_t)c * k;
            for (int j = 0; j < k; j++)
                zi[j] += v * qc[j];
        }
    }
}

/* q (f x k) = x^T (f x n) z (n x k) */
static void mul_xtz(const float *x, int n, int f, const double *z, int k, double *q) {
    memset(q, 0, sizeof(double) * (size_t)f * k);
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * f;
        const double *zi = z + (size_t)i * k;
        for (int c = 0; c < f; c++) {
            double v = xi[c];
            if (v == 0) continue;
            double *qc = q + (size_t)c * k;
            for (int j = 0; j < k; j++)
                qc[j] += v * zi[j];
        }
    }
}

static uint16_t float_to_half(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t s = (uint16_t)((u >> 16) & 0x8000);
    float a = fabsf(f);
    if (a >= 65504.f) return s | 0x7bff;
    if (a < 6.103515625e-05f) return s | (uint16_t)lrintf(a * 16777216.f);
    int e;
    float fr = frexpf(a, &e);
    int m = (int)lrintf((fr * 2 - 1) * 1024);
    int eb = e - 1 + 15;
    if (m == 1024) m = 0, eb++;
    if (eb >= 31) return s | 0x7bff;
    return s | (uint16_t)(eb << 10) | (uint16_t)m;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    const char *out = NULL, *cache = "reports/lbp-dev-features.bin";
    int threads = 2, K = 300, D = 64, iters = 8;
    double reg = 1e-3;
    data_dir = tu_data_dir();
    models_dir = tu_models_dir();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--out") && v)
            out = v, i++;
        else if (!strcmp(a, "--data") && v)
            data_dir = v, i++;
        else if (!strcmp(a, "--models") && v)
            models_dir = v, i++;
        else if (!strcmp(a, "--cache") && v)
            cache = v, i++;
        else if (!strcmp(a, "--threads") && v)
            threads = atoi(v), i++;
        else if (!strcmp(a, "--pca") && v)
            K = atoi(v), i++;
        else if (!strcmp(a, "--dim") && v)
            D = atoi(v), i++;
        else if (!strcmp(a, "--iters") && v)
            iters = atoi(v), i++;
        else if (!strcmp(a, "--reg") && v)
            reg = atof(v), i++;
        else {
            fprintf(stderr, "usage: train_lbp --out src/face/lbp_weights.c [--data DIR] [--models DIR] [--threads N] "
                            "[--pca K] [--dim D] [--reg R] [--iters N] [--cache FILE]\n");
            return 2;
        }
    }
    if (!out || threads < 1 || threads > 64 || K < 2 || K > 2000 || D < 1 || D > K || iters < 1) {
        fprintf(stderr, "train_lbp: need --out, and 1 <= --dim <= --pca <= 2000\n");
        return 2;
    }
    /* the test half: identities named in folds 5-9 */
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/lfw-pairs.tsv", data_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "train_lbp: cannot open %s (set --data or MFMC_DATA)\n", path);
        return 1;
    }
    char **test = NULL;
    int n_test = 0, cap_test = 0;
    while (fgets(line, sizeof line, f)) {
        char a[1024], b[1024];
        int same, fold;
        if (sscanf(line, "%1023[^\t]\t%1023[^\t]\t%d\t%d", a, b, &same, &fold) != 4 || fold < 5) continue;
        for (int k = 0; k < 2; k++) {
            char *p = k ? b : a, *s1 = strchr(p, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
            if (!s1 || !s2) continue;
            *s2 = '\0';
            if (n_test == cap_test) {
                cap_test = cap_test ? 2 * cap_test : 1024;
                test = realloc(test, sizeof *test * (size_t)cap_test);
                if (!test) die("memory");
            }
            test[n_test++] = strdup(s1 + 1);
        }
    }
    fclose(f);
    qsort(test, (size_t)n_test, sizeof *test, cmp_str);
    /* the development half: the other identities with at least two images */
    snprintf(path, sizeof path, "%s/lfw", data_dir);
    int n_ids = 0, cap = 0, n_classes = 0;
    char **ids = tu_list_dir(path, &n_ids);
    if (!ids) {
        fprintf(stderr, "train_lbp: cannot list %s\n", path);
        return 1;
    }
    for (int i = 0; i < n_ids; i++) {
        if (bsearch(&ids[i], test, (size_t)n_test, sizeof *test, cmp_str)) continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/lfw/%s", data_dir, ids[i]);
        int n_img = 0;
        char **imgs = tu_list_dir(dir, &n_img);
        if (imgs && n_img >= 2) {
            for (int j = 0; j < n_img; j++) {
                if (n_items == cap) {
                    cap = cap ? 2 * cap : 4096;
                    items = realloc(items, sizeof *items * (size_t)cap);
                    if (!items) die("memory");
                }
                snprintf(items[n_items].path, sizeof items[n_items].path, "%s/%s", dir, imgs[j]);
                items[n_items].label = n_classes;
                items[n_items++].ok = 0;
            }
            n_classes++;
        }
        if (imgs) tu_names_free(imgs, n_img);
    }
    tu_names_free(ids, n_ids);
    fprintf(stderr, "train_lbp: development half: %d identities with >= 2 images, %d images\n", n_classes, n_items);
    feats = calloc((size_t)n_items * MF_LBP_FEAT, sizeof *feats);
    if (!feats) die("memory");
    /* features, cached: [n_items][ok u8][MF_LBP_FEAT f32] (same list, same order, or recomputed) */
    FILE *cf = cache ? fopen(cache, "rb") : NULL;
    int cached = 0;
    if (cf) {
        int n = 0, fdim = 0;
        if (fread(&n, 4, 1, cf) == 1 && fread(&fdim, 4, 1, cf) == 1 && n == n_items && fdim == MF_LBP_FEAT) {
            cached = 1;
            for (int i = 0; i < n_items && cached; i++) {
                unsigned char ok;
                cached = fread(&ok, 1, 1, cf) == 1 &&
                         fread(feats + (size_t)i * MF_LBP_FEAT, sizeof(float), MF_LBP_FEAT, cf) == MF_LBP_FEAT;
                items[i].ok = ok;
            }
        }
        fclose(cf);
        if (cached) fprintf(stderr, "train_lbp: features from %s\n", cache);
    }
    if (!cached) {
        pthread_t th[64];
        for (int t = 0; t < threads; t++)
            pthread_create(&th[t], NULL, feature_worker, NULL);
        for (int t = 0; t < threads; t++)
            pthread_join(th[t], NULL);
        if (cache && (cf = fopen(cache, "wb"))) {
            int fdim = MF_LBP_FEAT;
            fwrite(&n_items, 4, 1, cf);
            fwrite(&fdim, 4, 1, cf);
            for (int i = 0; i < n_items; i++) {
                unsigned char ok = (unsigned char)items[i].ok;
                fwrite(&ok, 1, 1, cf);
                fwrite(feats + (size_t)i * MF_LBP_FEAT, sizeof(float), MF_LBP_FEAT, cf);
            }
            fclose(cf);
        }
    }
    /* keep the faces found */
    int n = 0;
    for (int i = 0; i < n_items; i++)
        if (items[i].ok) {
            if (n != i) {
                memmove(feats + (size_t)n * MF_LBP_FEAT, feats + (size_t)i * MF_LBP_FEAT, sizeof(float) * MF_LBP_FEAT);
                items[n] = items[i];
            }
            n++;
        }
    fprintf(stderr, "train_lbp: %d faces of %d images\n", n, n_items);
    const int F = MF_LBP_FEAT;
    if (n < K + 1) {
        fprintf(stderr, "train_lbp: %d faces are too few for %d components\n", n, K);
        return 1;
    }
    /* mean and centring */
    double *mean = calloc(F, sizeof *mean);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < F; c++)
            mean[c] += feats[(size_t)i * F + c];
    for (int c = 0; c < F; c++)
        mean[c] /= n;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < F; c++)
            feats[(size_t)i * F + c] -= (float)mean[c];
    /* PCA: subspace iteration from a fixed pseudo-random start */
    double *q = malloc(sizeof(double) * (size_t)F * K), *z = malloc(sizeof(double) * (size_t)n * K);
    if (!mean || !q || !z) die("memory");
    uint64_t rs = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < (size_t)F * K; i++) {
        rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
        q[i] = (double)(rs >> 11) / 9007199254740992.0 - 0.5;
    }
    orthonormalise(q, F, K);
    for (int it = 0; it < iters; it++) {
        mul_xq(feats, n, F, q, K, z);
        mul_xtz(feats, n, F, z, K, q);
        orthonormalise(q, F, K);
        fprintf(stderr, "train_lbp: PCA iteration %d/%d\n", it + 1, iters);
    }
    /* Rayleigh-Ritz: B = (XQ)^T (XQ) / n, eigenvectors U: basis Q U, variances d */
    mul_xq(feats, n, F, q, K, z);
    double *B = calloc((size_t)K * K, sizeof *B), *U = malloc(sizeof(double) * (size_t)K * K),
           *d = malloc(sizeof(double) * K);
    if (!B || !U || !d) die("memory");
    for (int i = 0; i < n; i++)
        for (int a = 0; a < K; a++)
            for (int b = a; b < K; b++)
                B[a * K + b] += z[(size_t)i * K + a] * z[(size_t)i * K + b] / n;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < a; b++)
            B[a * K + b] = B[b * K + a];
    eig_sym(B, K, d, U);
    fprintf(stderr, "train_lbp: PCA variances %.4g .. %.4g\n", d[0], d[K - 1]);
    /* whitened coordinates y = U^T z / sqrt(d): P (F x K) = Q U diag(1/sqrt(d)) */
    double *P = calloc((size_t)F * K, sizeof *P), *Y = calloc((size_t)n * K, sizeof *Y);
    if (!P || !Y) die("memory");
    for (int c = 0; c < F; c++)
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += q[(size_t)c * K + k] * U[k * K + j];
            P[(size_t)c * K + j] = s / sqrt(d[j] > 1e-12 ? d[j] : 1e-12);
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += z[(size_t)i * K + k] * U[k * K + j];
            Y[(size_t)i * K + j] = s / sqrt(d[j] > 1e-12 ? d[j] : 1e-12);
        }
    /* LDA: within-class scatter Sw and between-class Sb of Y */
    double *cm = calloc((size_t)n_classes * K, sizeof *cm), *Sw = calloc((size_t)K * K, sizeof *Sw),
           *Sb = calloc((size_t)K * K, sizeof *Sb);
    int *cnt = calloc((size_t)n_classes, sizeof *cnt);
    if (!cm || !Sw || !Sb || !cnt) die("memory");
    for (int i = 0; i < n; i++) {
        cnt[items[i].label]++;
        for (int j = 0; j < K; j++)
            cm[(size_t)items[i].label * K + j] += Y[(size_t)i * K + j];
    }
    for (int c = 0; c < n_classes; c++)
        for (int j = 0; j < K; j++)
            cm[(size_t)c * K + j] /= cnt[c] ? cnt[c] : 1;
    for (int i = 0; i < n; i++) {
        const double *m = cm + (size_t)items[i].label * K, *y = Y + (size_t)i * K;
        for (int a = 0; a < K; a++)
            for (int b = a; b < K; b++)
                Sw[a * K + b] += (y[a] - m[a]) * (y[b] - m[b]);
    }
    for (int c = 0; c < n_classes; c++) { /* Y is centred: the overall mean is 0 */
        const double *m = cm + (size_t)c * K;
        for (int a = 0; a < K; a++)
            for (int b = a; b < K; b++)
                Sb[a * K + b] += cnt[c] * m[a] * m[b];
    }
    for (int a = 0; a < K; a++)
        for (int b = 0; b < a; b++)
            Sw[a * K + b] = Sw[b * K + a], Sb[a * K + b] = Sb[b * K + a];
    double *V = malloc(sizeof(double) * (size_t)K * K), *e = malloc(sizeof(double) * K), avg = 0;
    if (!V || !e) die("memory");
    eig_sym(Sw, K, e, V);
    for (int j = 0; j < K; j++)
        avg += e[j] / K;
    /* T = V diag(1/sqrt(e + reg*avg)); M = T^T Sb T; eigenvectors W2; A = T W2[:, :D] */
    double *T = malloc(sizeof(double) * (size_t)K * K), *M = calloc((size_t)K * K, sizeof *M),
           *tmp = calloc((size_t)K * K, sizeof *tmp);
    if (!T || !M || !tmp) die("memory");
    for (int a = 0; a < K; a++)
        for (int j = 0; j < K; j++)
            T[a * K + j] = V[a * K + j] / sqrt((e[j] > 0 ? e[j] : 0) + reg * avg);
    for (int a = 0; a < K; a++) /* tmp = Sb T */
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += Sb[a * K + k] * T[k * K + j];
            tmp[a * K + j] = s;
        }
    for (int a = 0; a < K; a++) /* M = T^T tmp */
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += T[k * K + a] * tmp[k * K + j];
            M[a * K + j] = s;
        }
    eig_sym(M, K, e, V);
    fprintf(stderr, "train_lbp: LDA eigenvalues %.4g .. %.4g (kept %d)\n", e[0], e[D - 1], D);
    /* A (K x D) = T V[:, :D]; W (F x D) = P A */
    double *A = calloc((size_t)K * D, sizeof *A);
    float *W = calloc((size_t)F * D, sizeof *W);
    if (!A || !W) die("memory");
    for (int a = 0; a < K; a++)
        for (int j = 0; j < D; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += T[a * K + k] * V[k * K + j];
            A[(size_t)a * D + j] = s;
        }
    double wmax = 0;
    for (int c = 0; c < F; c++)
        for (int j = 0; j < D; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += P[(size_t)c * K + k] * A[(size_t)k * D + j];
            W[(size_t)c * D + j] = (float)s;
            if (fabs(s) > wmax) wmax = fabs(s);
        }
    /* scale W into float16's comfortable range (cosine similarity ignores a global scale) */
    float scale = wmax > 0 ? (float)(1.0 / wmax) : 1.0f;
    FILE *o = fopen(out, "w");
    if (!o) {
        fprintf(stderr, "train_lbp: cannot write %s\n", out);
        return 1;
    }
    fprintf(o,
            "/* GENERATED by tools/train_lbp.c: do not edit. Rebuild with\n"
            " *     make build/rel/tools/train_lbp && build/rel/tools/train_lbp --out src/face/lbp_weights.c"
            " --pca %d --dim %d --reg %g --iters %d\n"
            " * The projection of the recognizer `lbp` (src/face/lbp.h), learnt on the development half of LFW\n"
            " * (%d identities, %d faces; docs/recognizers.md): mean LBP feature (%d) then W (%d x %d), float16 as\n"
            " * 4 hex digits each. No image and no per-image value is stored. */\n"
            "#include \"face/lbp.h\"\n\nconst int mf_face_lbp_weights_in = %d, mf_face_lbp_weights_out = %d;\n"
            "const char mf_face_lbp_weights_hex[] =\n",
            K, D, reg, iters, n_classes, n, F, F, D, F, D);
    int col = 0;
    for (size_t i = 0; i < (size_t)F + (size_t)F * D; i++) {
        float v = i < (size_t)F ? (float)mean[i] : W[i - F] * scale;
        if (col == 0) fputs("    \"", o);
        fprintf(o, "%04x", float_to_half(v));
        if (++col == 28) {
            fputs("\"\n", o);
            col = 0;
        }
    }
    fputs(col ? "\";\n" : "    \"\";\n", o);
    fclose(o);
    fprintf(stderr, "train_lbp: wrote %s\n", out);
    return 0;
}
