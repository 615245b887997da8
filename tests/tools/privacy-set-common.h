/* Helpers shared by the privacy picture-set builders (tests/tools/privacy-set.c, tests/tools/privacy-anon-set.c), and
 * by the tests and the eval that rebuild or seed the set's pictures (tests/test_face_privacy.c, tests/test_anon.c,
 * eval/eval_privacy_anon.c): one truth format, one directory listing, one choice of a photo's central face, one turn,
 * one seed hash of a picture's name, one background and paste of the small and grid pictures. Header-only (static inline), as
 * each tool is built from its one source file (Makefile: $(BUILD)/rel/tools/%). */
#ifndef MF_PRIVACY_SET_COMMON_H
#define MF_PRIVACY_SET_COMMON_H

#include "mfmc/analyze.h"
#include "mfmc/image.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static inline int ps_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of directory `path` (no dot files), at most `max` of them, and their count in *n; NULL (with *n = 0)
 * when it cannot be read. Free with ps_names_free. */
static inline char **ps_list_dir(const char *path, int max, int *n) {
    *n = 0;
    DIR *d = opendir(path);
    if (!d) return NULL;
    char **names = malloc((size_t)max * sizeof *names);
    struct dirent *e;
    while (names && *n < max && (e = readdir(d)))
        if (e->d_name[0] != '.' && (names[*n] = strdup(e->d_name))) (*n)++;
    closedir(d);
    if (names) qsort(names, (size_t)*n, sizeof *names, ps_cmp_str);
    return names;
}

static inline void ps_names_free(char **names, int n) {
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static inline float ps_wrap180(float a) {
    a = fmodf(a + 180.0f, 360.0f);
    if (a < 0) a += 360.0f;
    return a - 180.0f;
}

/* Writes picture img as OUT/<var>/<file> (OUT/<var> created) and its line of the truth file: variant, file (relative
 * to OUT), n, then per face "x y w h roll yaw pitch" (rows of 7 floats; eval/lib/truth.h reads it). Returns 0, or 1
 * when the picture cannot be written (the library's message set). */
static inline int ps_emit(FILE *truth, const char *out, const char *var, const char *file, const mf_img *img,
                          const float (*rows)[7], int n) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", out, var);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", out, var, file);
    if (mf_img_save(img, path, 95)) return 1;
    fprintf(truth, "%s\t%s/%s\t%d", var, var, file, n);
    for (int i = 0; i < n; i++)
        fprintf(truth, "\t%.1f %.1f %.1f %.1f %.1f %.1f %.1f", rows[i][0], rows[i][1], rows[i][2], rows[i][3],
                rows[i][4], rows[i][5], rows[i][6]);
    fprintf(truth, "\n");
    return 0;
}

/* The truth of img's central face: the face found by `an` whose box is centred nearest the image centre, within
 * 0.2 of the image width of it, with landmarks; row = x y w h of its detection, roll yaw pitch of its mesh. Returns 1
 * when there is one, 0 when not (or the analysis failed: *failed set). */
static inline int ps_central_face_mesh(mf_face_analyzer_t *an, const mf_img *img, float row[7], int *failed,
                                       mf_face_landmarks *lm);
static inline int ps_central_face(mf_face_analyzer_t *an, const mf_img *img, float row[7], int *failed) {
    return ps_central_face_mesh(an, img, row, failed, NULL);
}

/* The same, and its mesh into *lm when lm is not NULL. */
static inline int ps_central_face_mesh(mf_face_analyzer_t *an, const mf_img *img, float row[7], int *failed,
                                       mf_face_landmarks *lm) {
    const mf_face *f;
    int n;
    *failed = 0;
    if (mf_face_analyze_all(an, img, &f, &n)) {
        *failed = 1;
        return 0;
    }
    int best = -1;
    float bd = 1e30f;
    for (int i = 0; i < n; i++) {
        float dx = f[i].det.x + f[i].det.w / 2 - 0.5f * (float)img->w, dy = f[i].det.y + f[i].det.h / 2 - 0.5f * (float)img->h;
        if (dx * dx + dy * dy < bd) bd = dx * dx + dy * dy, best = i;
    }
    if (best < 0 || sqrtf(bd) > 0.2f * (float)img->w || !f[best].has_landmarks) return 0;
    const mf_face *b = &f[best];
    float t[7] = {b->det.x, b->det.y, b->det.w, b->det.h, b->lm.roll, b->lm.yaw, b->lm.pitch};
    memcpy(row, t, sizeof t);
    if (lm) *lm = b->lm;
    return 1;
}

/* The image turned clockwise by deg about its centre, same size, grey outside (the set's rotated variants). 0, or -1
 * when out of memory. */
static inline int ps_rotate_any(const mf_img *in, float deg, mf_img *out) {
    float t = deg * (float)M_PI / 180.0f, c = cosf(t), s = sinf(t);
    float cx = 0.5f * (float)(in->w - 1), cy = 0.5f * (float)(in->h - 1);
    float m[6] = {c, s, cx - c * cx - s * cy, -s, c, cy + s * cx - c * cy};
    size_t n = (size_t)in->w * in->h * 3;
    float *f = malloc(n * sizeof *f);
    if (!f || mf_img_init(out, in->w, in->h, 3)) {
        free(f);
        return -1;
    }
    mf_img_warp_to_float(in, m, in->w, in->h, 1.0f, 0.0f, 128.0f, f);
    for (size_t i = 0; i < n; i++)
        out->data[i] = (uint8_t)fminf(255.0f, fmaxf(0.0f, f[i] + 0.5f));
    free(f);
    return 0;
}

/* The set's picture of FFHQ photo idx (sorted names of DATA/ffhq) turned clockwise by deg degrees about its centre,
 * as tests/tools/privacy-set.c makes it (same size, grey outside, JPEG quality 95 and decoded again, so the pixels
 * are the set's), and its truth: the central face (ps_central_face by `an`) of the upright photo, its centre turned,
 * roll + deg, side = mean of the box's width and height: truth = cx cy roll side.
 * Returns 1, 0 when the photo or its central face is not there (then skip), -1 when decoding, encoding or memory
 * failed (out untouched on 0 and -1). */
static inline int ps_rotated_ffhq(const char *data, mf_face_analyzer_t *an, int idx, float deg, mf_img *out,
                                  float truth[4]) {
    char p[4096];
    snprintf(p, sizeof p, "%s/ffhq", data);
    int n;
    char **names = ps_list_dir(p, 20000, &n);
    if (!names || idx >= n) {
        ps_names_free(names, n);
        return 0;
    }
    snprintf(p, sizeof p, "%s/ffhq/%s", data, names[idx]);
    ps_names_free(names, n);
    mf_img src, r;
    if (mf_img_load(p, NULL, &src, NULL)) return 0;
    float row[7] = {0};
    int failed, ret = -1;
    if (!ps_central_face(an, &src, row, &failed)) {
        mf_img_free(&src);
        return failed ? -1 : 0;
    }
    if (ps_rotate_any(&src, deg, &r)) {
        mf_img_free(&src);
        return -1;
    }
    uint8_t *jpg = NULL;
    size_t len;
    if (!mf_img_encode_jpeg(&r, 95, &jpg, &len) && !mf_img_decode(jpg, len, NULL, out, NULL)) {
        float t = deg * (float)M_PI / 180.0f, c = cosf(t), s = sinf(t);
        float fx = row[0] + row[2] / 2, fy = row[1] + row[3] / 2, ox = 0.5f * (float)src.w, oy = 0.5f * (float)src.h;
        truth[0] = ox + c * (fx - ox) - s * (fy - oy);
        truth[1] = oy + s * (fx - ox) + c * (fy - oy);
        truth[2] = ps_wrap180(row[4] + deg);
        truth[3] = 0.5f * (row[2] + row[3]);
        ret = 1;
    }
    free(jpg);
    mf_img_free(&r);
    mf_img_free(&src);
    return ret;
}

/* The set's random numbers: a linear congruential generator on *state (privacy-set starts it at 12345), uniform in
 * [0, 1) and Gaussian (Box-Muller). */
static inline float ps_rnd(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / 16777216.0f;
}
static inline float ps_gauss(uint32_t *state) {
    float u = ps_rnd(state) + 1e-7f, v = ps_rnd(state);
    return sqrtf(-2.0f * logf(u)) * cosf(2.0f * (float)M_PI * v);
}

/* A face-free w x h background (the small and grid pictures): smooth colour gradients with mild noise drawn from
 * *rng. 0, or -1 when out of memory. */
static inline int ps_background(int w, int h, uint32_t *rng, mf_img *bg) {
    if (mf_img_init(bg, w, h, 3)) return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                float v = 90.0f +
                          60.0f * sinf((float)x * 0.004f * (float)(k + 1)) * cosf((float)y * 0.003f * (float)(3 - k)) +
                          6.0f * ps_gauss(rng);
                bg->data[((size_t)y * w + x) * 3 + k] = (uint8_t)fminf(255.0f, fmaxf(0.0f, v));
            }
    return 0;
}

/* Pastes the face of src whose box is face (x y w h), scaled to `side` pixels with a context square of 2 boxes (grey
 * beyond src), centred at (cx, cy) of dst; writes the pasted face's box (x y w h in dst) to out. 0, or -1 when out of
 * memory. */
static inline int ps_paste(mf_img *dst, const mf_img *src, const float face[4], int side, int cx, int cy, float out[4]) {
    float ctx = 2.0f * fmaxf(face[2], face[3]), k = (float)side / fmaxf(face[2], face[3]);
    int cs = (int)lroundf(ctx * k);
    float fx = face[0] + face[2] / 2 - ctx / 2, fy = face[1] + face[3] / 2 - ctx / 2;
    float m[6] = {1 / k, 0, fx + 0.5f / k - 0.5f, 0, 1 / k, fy + 0.5f / k - 0.5f};
    float *f = malloc((size_t)cs * cs * 3 * sizeof *f);
    if (!f) return -1;
    mf_img_warp_to_float(src, m, cs, cs, 1.0f, 0.0f, 128.0f, f);
    int ox = cx - cs / 2, oy = cy - cs / 2;
    for (int y = 0; y < cs; y++)
        for (int x = 0; x < cs; x++) {
            int X = ox + x, Y = oy + y;
            if (X < 0 || Y < 0 || X >= dst->w || Y >= dst->h) continue;
            for (int c = 0; c < 3; c++)
                dst->data[((size_t)Y * dst->w + X) * 3 + c] =
                    (uint8_t)fminf(255.0f, fmaxf(0.0f, f[((size_t)y * cs + x) * 3 + c] + 0.5f));
        }
    free(f);
    out[0] = (float)ox + (face[0] - fx) * k, out[1] = (float)oy + (face[1] - fy) * k;
    out[2] = face[2] * k, out[3] = face[3] * k;
    return 0;
}

/* The seed part of a picture of the set: FNV-1a of its name (variant/file), 20 bits (eval_privacy_anon's seeds). */
static inline unsigned ps_name_hash(const char *name) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 16777619u;
    return h & 0xfffffu;
}

#endif
