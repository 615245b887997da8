/* Shared helpers for the test and benchmark binaries: where models, goldens and data live, golden-file reading,
 * directory listings, clocks. */
#ifndef MF_TESTUTIL_H
#define MF_TESTUTIL_H

#include "mfmc/analyze.h"
#include "mfmc/face.h"
#include "mfmc/nn.h"

#include <time.h>

/* Models folder ($MFMC_MODELS or ./models), golden folder ($MFMC_GOLDEN or ./build/golden), shared data folder
 * ($MFMC_DATA or ../shared/data). Tests run with the repository root as working directory. */
const char *tu_models_dir(void);
const char *tu_golden_dir(void);
const char *tu_data_dir(void);

/* Names of the entries of directory `path` (no dot files), sorted so samples are the same on every machine;
 * NULL (and *n = 0) when it cannot be read. Free with tu_names_free. */
char **tu_list_dir(const char *path, int *n);
void tu_names_free(char **names, int n);

/* Milliseconds on clock `id` (CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID for CPU time). */
double tu_clock_ms(clockid_t id);

/* qsort comparator of doubles, ascending. */
int tu_cmp_double(const void *a, const void *b);

/* Nominal clock of this CPU in GHz ("cpu MHz" of /proc/cpuinfo), 0 when unknown. */
double tu_cpu_ghz(void);

/* Index of the box of f[0..n) whose centre is nearest the centre of a w x h image (-1 when n == 0), and that
 * distance in pixels in *dist when not NULL. */
int tu_box_nearest_centre(const mf_face_box *f, int n, int w, int h, float *dist);

/* (pale34) A published face's skin tone against the photo's own at the same places: the mean colour of patches (0.05
 * of the mesh box side around each of the anonymizer's 15 skin probes: cheeks, forehead, nose bridge) in `res` minus
 * `orig`'s: *dy the mean luminance change, *dc the chroma change (levels of Cb, Cr), *ratio the spread of the patches'
 * luminances in `res` over `orig`'s (the face's broad light and contrast) and, when ds is not NULL, (stop 50) *ds the
 * saturation change: the mean chroma's length (Cb, Cr) in `res` minus `orig`'s (< 0: a greyer skin), and when y0 is not
 * NULL *y0 the patches' mean luminance in `orig`. Returns the number of probes inside the picture; with none, *dy =
 * *dc = 0 (*ds, *y0 too) and *ratio = 1. Used by eval_anon and test_anon alike. */
int tu_skin_tone(const mf_img *orig, const mf_img *res, const mf_face *f, float *dy, float *dc, float *ratio, float *ds,
                 float *y0);

/* 1 if `path` exists. */
int tu_exists(const char *path);

typedef struct {
    int role; /* 0 input, 1 output */
    char name[256];
    mf_nn_shape shape;
    float *data;
    size_t count;
} tu_tensor;

/* Reads a MFGOLD01 file (tools/golden). Returns 0 or -1 with a message on stderr. */
int tu_golden_load(const char *path, tu_tensor **out, int *n);
void tu_golden_free(tu_tensor *t, int n);

/* Max |a-b|, max |b| and cosine similarity of two vectors. */
void tu_compare(const float *a, const float *b, size_t n, double *max_abs, double *max_ref, double *cosine);

#endif
