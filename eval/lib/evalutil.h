/* Helpers of the accuracy evaluations (eval/eval_*.c): where models and data are, failing loudly, and the
 * metrics they share. Generic helpers (clocks, sorted directory listings) come from tests/lib/testutil.h. */
#ifndef MF_EVALUTIL_H
#define MF_EVALUTIL_H

#include "mfmc/analyze.h"

/* Models root ($MFMC_MODELS or ./models) and shared data folder ($MFMC_DATA or ../shared/data). */
const char *ev_models_dir(void);
const char *ev_data_dir(void);

/* Prints "<prog>: <what>: <library error>" to stderr and exits 1. */
_Noreturn void ev_die(const char *prog, const char *what);

/* A similarity score and whether its pair is genuine (same person). */
typedef struct {
    float s;
    int same;
} ev_scored;

/* qsort comparators: scores descending. */
int ev_cmp_scored_desc(const void *a, const void *b);
int ev_cmp_float_desc(const void *a, const void *b);

/* Threshold maximising accuracy (accept s >= t) over v[0..n) (sorted descending), midway between neighbours. */
float ev_best_threshold(const ev_scored *v, int n);

/* Threshold passed (s >= t, or s > t alike) by exactly floor(far * n) of the impostor scores imp[0..n) (sorted
 * descending): midway between the k-th and the (k+1)-th highest. */
float ev_far_threshold(const float *imp, int n, double far);

/* Quantile q of v[0..n) (sorted descending), linear interpolation; NAN when n == 0. */
float ev_quantile_desc(const float *v, int n, double q);

/* Pearson correlation of x and y (0 when either is constant). */
double ev_pearson(const double *x, const double *y, int n);

/* The face of after[0..n) whose mesh box centre is nearest to the centre of `where` (the original face's box),
 * when within 0.35 of its larger side ("detected again"); else -1. */
int ev_face_found_again(const mf_face *after, int n, const mf_face_box *where);

/* Appends the photo argument `arg` to paths[*np..max): a folder adds its files (sorted, strdup'ed paths), anything
 * else is added as a file path. Returns 0, or -1 with nothing more added once max paths are reached (a message on
 * stderr names the limit: an eval never drops photos silently). */
int ev_add_photos(const char *arg, char **paths, int *np, int max);

#endif
