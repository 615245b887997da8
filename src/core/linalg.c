/* Small dense linear algebra (include/mfmc/linalg.h): Jacobi eigen-solver, Horn rotation and similarity fits. */
#include "mfmc/linalg.h"

#include <math.h>

void mf_sym_eigen(double *a, int n, double *d, double *v) {
    for (int i = 0; i < n * n; i++)
        v[i] = 0;
    for (int i = 0; i < n; i++)
        v[i * n + i] = 1;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = 0, tot = 0;
        for (int p = 0; p < n; p++)
            for (int q = 0; q < n; q++)
                *(p == q ? &tot : &off) += a[p * n + q] * a[p * n + q];
        if (off <= 1e-24 * (tot + off)) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue; /* already zero (1e-300: only true zeros and denormals) */
                double th = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq, a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk, a[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq, v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < n; i++)
        d[i] = a[i * n + i];
}

void mf_fit_rotation(const double S[3][3], double R[3][3]) {
    double N[16] = {
        S[0][0] + S[1][1] + S[2][2],  S[1][2] - S[2][1], S[2][0] - S[0][2], S[0][1] - S[1][0], S[1][2] - S[2][1],
        S[0][0] - S[1][1] - S[2][2],  S[0][1] + S[1][0], S[2][0] + S[0][2], S[2][0] - S[0][2], S[0][1] + S[1][0],
        -S[0][0] + S[1][1] - S[2][2], S[1][2] + S[2][1], S[0][1] - S[1][0], S[2][0] + S[0][2], S[1][2] + S[2][1],
        -S[0][0] - S[1][1] + S[2][2]};
    double d[4], V[16];
    mf_sym_eigen(N, 4, d, V);
    int best = 0;
    for (int i = 1; i < 4; i++)
        if (d[i] > d[best]) best = i;
    double w = V[best], x = V[4 + best], y = V[8 + best], z = V[12 + best];
    R[0][0] = 1 - 2 * (y * y + z * z), R[0][1] = 2 * (x * y - w * z), R[0][2] = 2 * (x * z + w * y);
    R[1][0] = 2 * (x * y + w * z), R[1][1] = 1 - 2 * (x * x + z * z), R[1][2] = 2 * (y * z - w * x);
    R[2][0] = 2 * (x * z - w * y), R[2][1] = 2 * (y * z + w * x), R[2][2] = 1 - 2 * (x * x + y * y);
}

int mf_fit_similarity(const float *a, const float *b, const float *w, int n, float *s, float R[9], float t[3]) {
    double ca[3] = {0}, cb[3] = {0}, sw = 0;
    for (int i = 0; i < n; i++) {
        double wi = w ? w[i] : 1;
        sw += wi;
        for (int k = 0; k < 3; k++)
            ca[k] += wi * a[3 * i + k], cb[k] += wi * b[3 * i + k];
    }
    if (!(sw > 0)) return -1;
    for (int k = 0; k < 3; k++)
        ca[k] /= sw, cb[k] /= sw;
    double M[3][3] = {{0}}, va = 0;
    for (int i = 0; i < n; i++) {
        double wi = w ? w[i] : 1, pa[3], pb[3];
        for (int k = 0; k < 3; k++)
            pa[k] = a[3 * i + k] - ca[k], pb[k] = b[3 * i + k] - cb[k];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                M[r][c] += wi * pa[r] * pb[c];
        va += wi * (pa[0] * pa[0] + pa[1] * pa[1] + pa[2] * pa[2]);
    }
    if (!(va > 1e-12)) return -1;
    double Rd[3][3];
    mf_fit_rotation(M, Rd);
    /* scale = sum b . R a / sum |a|^2 */
    double num = 0;
    for (int i = 0; i < n; i++) {
        double wi = w ? w[i] : 1, pa[3], pb[3];
        for (int k = 0; k < 3; k++)
            pa[k] = a[3 * i + k] - ca[k], pb[k] = b[3 * i + k] - cb[k];
        for (int r = 0; r < 3; r++)
            num += wi * pb[r] * (Rd[r][0] * pa[0] + Rd[r][1] * pa[1] + Rd[r][2] * pa[2]);
    }
    double sc = num / va;
    for (int i = 0; i < 9; i++)
        R[i] = (float)Rd[i / 3][i % 3];
    *s = (float)sc;
    for (int r = 0; r < 3; r++)
        t[r] = (float)(cb[r] - sc * (Rd[r][0] * ca[0] + Rd[r][1] * ca[1] + Rd[r][2] * ca[2]));
    return isfinite(sc) && sc > 0 ? 0 : -1;
}
