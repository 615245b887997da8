/* mfmc core: small dense linear algebra shared by the face layer (pose), the anonymizer (similarity fits, PCA) and
 * the tools: one symmetric eigen-solver and one rotation / similarity fit (Horn's unit-quaternion method).
 * Pure functions: no allocation, no error state beyond the return value. */
#ifndef MFMC_LINALG_H
#define MFMC_LINALG_H

#ifdef __cplusplus
extern "C" {
#endif

/* Eigen-decomposition of the symmetric n x n matrix a (row-major, destroyed) by cyclic Jacobi rotations: the
 * eigenvalues into d (n, unsorted), the eigenvectors into the columns of v (n x n, row-major). Stops when the
 * off-diagonal sum of squares is at most 1e-24 of the total (scale-free), after at most 50 sweeps. n >= 1. */
void mf_sym_eigen(double *a, int n, double *d, double *v);

/* The rotation R (row-major 3x3) minimising sum |b_i - s R a_i|^2 over centred point sets, from their correlation
 * S[r][c] = sum a_i[r] b_i[c] (Horn 1987: the eigenvector of the largest eigenvalue of a 4x4 symmetric matrix). */
void mf_fit_rotation(const double S[3][3], double R[3][3]);

/* Similarity fit: s, R (row-major 3x3), t minimising sum w_i |s R a_i + t - b_i|^2 over n 3-D points (xyz
 * interleaved; w NULL = all 1). Returns 0, or -1 when degenerate (no weight, all a_i equal, non-positive scale). */
int mf_fit_similarity(const float *a, const float *b, const float *w, int n, float *s, float R[9], float t[3]);

#ifdef __cplusplus
}
#endif
#endif
