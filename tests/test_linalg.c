/* core linear algebra (include/mfmc/linalg.h): the Jacobi eigen-solver against known spectra, the Horn rotation
 * and similarity fits recovering a known transform (also weighted, and refusing degenerate input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "mfmc/linalg.h"

static void test_sym_eigen(void **state) {
    (void)state;
    /* A = Q diag(5, -2, 0.5, 1e-6) Q^T with Q a rotation in the (0,1) and (2,3) planes */
    double lam[4] = {5, -2, 0.5, 1e-6}, c1 = cos(0.3), s1 = sin(0.3), c2 = cos(1.1), s2 = sin(1.1);
    double Q[16] = {c1, -s1, 0, 0, s1, c1, 0, 0, 0, 0, c2, -s2, 0, 0, s2, c2}, A[16], d[4], V[16];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            A[r * 4 + c] = 0;
            for (int k = 0; k < 4; k++)
                A[r * 4 + c] += Q[r * 4 + k] * lam[k] * Q[c * 4 + k];
        }
    double A0[16];
    memcpy(A0, A, sizeof A);
    mf_sym_eigen(A, 4, d, V);
    for (int k = 0; k < 4; k++) { /* A0 v = d v for every column, and the eigenvalues are the four given */
        double res = 0, found = 1e9;
        for (int r = 0; r < 4; r++) {
            double s = 0;
            for (int c = 0; c < 4; c++)
                s += A0[r * 4 + c] * V[c * 4 + k];
            res += (s - d[k] * V[r * 4 + k]) * (s - d[k] * V[r * 4 + k]);
        }
        for (int q = 0; q < 4; q++)
            found = fmin(found, fabs(d[k] - lam[q]));
        assert_true(sqrt(res) < 1e-10);
        assert_true(found < 1e-10);
    }
    /* already diagonal (every rotation skipped) and 1x1 */
    double D[9] = {3, 0, 0, 0, 1, 0, 0, 0, 2}, w[3], W[9];
    mf_sym_eigen(D, 3, w, W);
    assert_true(w[0] == 3 && w[1] == 1 && w[2] == 2 && W[0] == 1 && W[4] == 1 && W[8] == 1);
    double one[1] = {7}, e1[1], v1[1];
    mf_sym_eigen(one, 1, e1, v1);
    assert_true(e1[0] == 7 && v1[0] == 1);
}

static void test_fit_similarity(void **state) {
    (void)state;
    enum { N = 40 };
    float a[N * 3], b[N * 3], w[N];
    /* R = rotation by 0.7 rad about the axis (1, 2, 2)/3, s = 2.5, t = (10, -4, 3) */
    double ax[3] = {1 / 3., 2 / 3., 2 / 3.}, th = 0.7, c = cos(th), s = sin(th), R[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double k = i == j ? c : 0;
            k += (1 - c) * ax[i] * ax[j];
            int e = (i + 1) % 3 == j ? 1 : (j + 1) % 3 == i ? -1 : 0; /* cross-product matrix sign */
            int m = 3 - i - j;
            if (e) k -= e * s * ax[m];
            R[i * 3 + j] = k;
        }
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 3; k++)
            a[3 * i + k] = (float)sin(1.7 * i + 2.3 * k) * 5;
        for (int r = 0; r < 3; r++)
            b[3 * i + r] =
                (float)(2.5 * (R[3 * r] * a[3 * i] + R[3 * r + 1] * a[3 * i + 1] + R[3 * r + 2] * a[3 * i + 2]) +
                        (r == 0   ? 10
                         : r == 1 ? -4
                                  : 3));
        w[i] = 1 + (i % 3);
    }
    float sc, Rf[9], t[3];
    for (int weighted = 0; weighted < 2; weighted++) {
        assert_int_equal(mf_fit_similarity(a, b, weighted ? w : NULL, N, &sc, Rf, t), 0);
        assert_true(fabs(sc - 2.5) < 1e-4);
        for (int i = 0; i < 9; i++)
            assert_true(fabs(Rf[i] - R[i]) < 1e-4);
        assert_true(fabs(t[0] - 10) < 1e-3 && fabs(t[1] + 4) < 1e-3 && fabs(t[2] - 3) < 1e-3);
    }
    /* degenerate: every point the same, or no weight */
    float same[N * 3];
    for (int i = 0; i < N * 3; i++)
        same[i] = 1;
    assert_int_equal(mf_fit_similarity(same, b, NULL, N, &sc, Rf, t), -1);
    float zero[N] = {0};
    assert_int_equal(mf_fit_similarity(a, b, zero, N, &sc, Rf, t), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sym_eigen),
        cmocka_unit_test(test_fit_similarity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
