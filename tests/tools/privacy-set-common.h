/* Helpers shared by the privacy picture-set builders (tests/tools/privacy-set.c, tests/tools/privacy-anon-set.c), and
 * by the tests and the eval that rebuild or seed the set's pictures (tests/test_face_privacy.c, tests/test_anon.c,
 * eval/eval_privacy_anon.c): one truth format, one directory listing, one choice of a photo's central face, one turn,
 * one seed hash of a picture's name, one background and paste of the small and grid pictures, one drawing of the
 * occluders (mask, sunglasses). Header-only (static inline), as each tool is built from its one source file (Makefile:
 * $(BUILD)/rel/tools/%). */
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

/* Occluders of the set's mask and sunglasses variants, drawn through a face's mesh (points of MediaPipe's canonical
 * face mesh). */
enum { PS_POLY_MAX = 64 };

static inline int ps_inside(const float (*p)[2], int n, float x, float y) {
    int in = 0;
    for (int i = 0, j = n - 1; i < n; j = i++)
        if ((p[i][1] > y) != (p[j][1] > y) && x < (p[j][0] - p[i][0]) * (y - p[i][1]) / (p[j][1] - p[i][1]) + p[i][0])
            in = !in;
    return in;
}

/* Fills polygon p (n points, image px) over im with colour rgb (0..255) scaled per pixel by shade(x, y, ctx),
 * anti-aliased by 4 x 4 samples a pixel. */
typedef float (*ps_shade_fn)(float x, float y, const void *ctx);
static inline void ps_fill_poly(mf_img *im, const float (*p)[2], int n, const float rgb[3], ps_shade_fn shade,
                                const void *ctx) {
    float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
    for (int i = 0; i < n; i++) {
        x0 = fminf(x0, p[i][0]), x1 = fmaxf(x1, p[i][0]);
        y0 = fminf(y0, p[i][1]), y1 = fmaxf(y1, p[i][1]);
    }
    int X0 = (int)fmaxf(0.0f, floorf(x0)), Y0 = (int)fmaxf(0.0f, floorf(y0));
    int X1 = (int)fminf((float)im->w - 1, ceilf(x1)), Y1 = (int)fminf((float)im->h - 1, ceilf(y1));
    for (int y = Y0; y <= Y1; y++)
        for (int x = X0; x <= X1; x++) {
            int hits = 0;
            for (int sy = 0; sy < 4; sy++)
                for (int sx = 0; sx < 4; sx++)
                    hits += ps_inside(p, n, (float)x + (sx + 0.5f) / 4, (float)y + (sy + 0.5f) / 4);
            if (!hits) continue;
            float a = (float)hits / 16, k = shade ? shade((float)x + 0.5f, (float)y + 0.5f, ctx) : 1.0f;
            uint8_t *px = im->data + ((size_t)y * im->w + x) * 3;
            for (int c = 0; c < 3; c++)
                px[c] = (uint8_t)fminf(255.0f, fmaxf(0.0f, (1 - a) * px[c] + a * rgb[c] * k + 0.5f));
        }
}

/* A band of width wd from a to b, as a polygon of 4 points. */
static inline void ps_band(const float a[2], const float b[2], float wd, float q[4][2]) {
    float dx = b[0] - a[0], dy = b[1] - a[1], l = sqrtf(dx * dx + dy * dy) + 1e-6f;
    float nx = -dy / l * wd / 2, ny = dx / l * wd / 2;
    float r[4][2] = {{a[0] + nx, a[1] + ny}, {b[0] + nx, b[1] + ny}, {b[0] - nx, b[1] - ny}, {a[0] - nx, a[1] - ny}};
    memcpy(q, r, sizeof r);
}

typedef struct {
    float ox, oy, vx, vy, len, pleats;
} ps_face_axis; /* origin, unit vector down the face, face length; pleats > 0: a mask's folds */

/* Lighter at the top, darker down the face; a mask's three folds as darker bands. */
static inline float ps_axis_shade(float x, float y, const void *ctx) {
    const ps_face_axis *f = ctx;
    float s = ((x - f->ox) * f->vx + (y - f->oy) * f->vy) / f->len, k = 1.0f - 0.18f * s;
    if (f->pleats > 0)
        for (int i = 0; i < 3; i++) {
            float d = (s - (0.15f + 0.18f * (float)i)) / 0.02f;
            k *= 1.0f - 0.16f * expf(-d * d);
        }
    return k;
}

static inline void ps_pt2(const mf_face_landmarks *lm, int i, float o[2]) { o[0] = lm->pt[i][0], o[1] = lm->pt[i][1]; }

/* A surgical mask over nose, mouth and chin: light blue, three folds, ear loops. */
static inline void ps_draw_mask(mf_img *im, const mf_face_landmarks *lm) {
    /* the jaw line from the left cheek (subject's) round the chin to the right cheek, then across the nose */
    static const int jaw[] = {323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132,
                              93};
    int n = 0;
    float p[PS_POLY_MAX][2], c[2], top[2], chin[2];
    ps_pt2(lm, 4, c);
    for (size_t i = 0; i < sizeof jaw / sizeof jaw[0]; i++) {
        ps_pt2(lm, jaw[i], p[n]);
        /* a little beyond the jaw line, as a mask stands off the face */
        p[n][0] = c[0] + 1.07f * (p[n][0] - c[0]), p[n][1] = c[1] + 1.07f * (p[n][1] - c[1]);
        n++;
    }
    ps_pt2(lm, 197, p[n++]);
    ps_pt2(lm, 197, top);
    ps_pt2(lm, 152, chin);
    ps_face_axis ax = {top[0], top[1], chin[0] - top[0], chin[1] - top[1], 0, 1};
    ax.len = sqrtf(ax.vx * ax.vx + ax.vy * ax.vy) + 1e-6f;
    ax.vx /= ax.len, ax.vy /= ax.len;
    static const float blue[3] = {168, 204, 228};
    ps_fill_poly(im, (const float(*)[2])p, n, blue, ps_axis_shade, &ax);
    /* ear loops from the mask's sides towards the ears */
    float a[2], b[2], q[4][2];
    static const float white[3] = {235, 235, 235};
    for (int side = 0; side < 2; side++) {
        ps_pt2(lm, side ? 323 : 93, a);
        ps_pt2(lm, side ? 454 : 234, b);
        ps_band(a, b, 0.012f * ax.len * 4, q);
        ps_fill_poly(im, (const float(*)[2])q, 4, white, NULL, NULL);
    }
}

/* Sunglasses: two dark lenses over the eyes, a bridge, temples to the sides of the head. */
static inline void ps_draw_sunglasses(mf_img *im, const mf_face_landmarks *lm) {
    static const int corner[2][2] = {{33, 133}, {263, 362}}; /* outer, inner lid corner of each eye */
    float out[2][2], in[2][2], ctr[2][2], ew = 0;
    for (int e = 0; e < 2; e++) {
        ps_pt2(lm, corner[e][0], out[e]);
        ps_pt2(lm, corner[e][1], in[e]);
        ctr[e][0] = 0.5f * (out[e][0] + in[e][0]), ctr[e][1] = 0.5f * (out[e][1] + in[e][1]);
        ew = fmaxf(ew, hypotf(out[e][0] - in[e][0], out[e][1] - in[e][1]));
    }
    /* the eye axis (subject's right eye to left) and the face's down direction */
    float ux = ctr[1][0] - ctr[0][0], uy = ctr[1][1] - ctr[0][1], ul = hypotf(ux, uy) + 1e-6f;
    ux /= ul, uy /= ul;
    float vx = -uy, vy = ux;
    float nose[2];
    ps_pt2(lm, 4, nose);
    if ((nose[0] - ctr[0][0]) * vx + (nose[1] - ctr[0][1]) * vy < 0) vx = -vx, vy = -vy;
    static const float dark[3] = {34, 32, 36}, frame[3] = {20, 20, 22};
    float lens[2][2];
    for (int e = 0; e < 2; e++) {
        /* a lens: an ellipse of 1.7 x 1.3 eye widths, a little below the eye's centre */
        float cx = ctr[e][0] + 0.12f * ew * vx, cy = ctr[e][1] + 0.12f * ew * vy, p[32][2];
        for (int k = 0; k < 32; k++) {
            float t = 2.0f * (float)M_PI * (float)k / 32, a = 0.85f * ew * cosf(t), b = 0.65f * ew * sinf(t);
            p[k][0] = cx + a * ux + b * vx, p[k][1] = cy + a * uy + b * vy;
        }
        /* the shade measured up from the lens's lower edge: darker towards the top */
        ps_face_axis ax = {cx + 0.65f * ew * vx, cy + 0.65f * ew * vy, -vx, -vy, 1.3f * ew, 0};
        ps_fill_poly(im, (const float(*)[2])p, 32, dark, ps_axis_shade, &ax);
        lens[e][0] = cx, lens[e][1] = cy;
    }
    float q[4][2], a[2], b[2];
    /* the bridge between the lenses' inner edges, and the temples from the outer edges to the sides of the head */
    a[0] = lens[0][0] + 0.8f * ew * ux - 0.3f * ew * vx, a[1] = lens[0][1] + 0.8f * ew * uy - 0.3f * ew * vy;
    b[0] = lens[1][0] - 0.8f * ew * ux - 0.3f * ew * vx, b[1] = lens[1][1] - 0.8f * ew * uy - 0.3f * ew * vy;
    ps_band(a, b, 0.14f * ew, q);
    ps_fill_poly(im, (const float(*)[2])q, 4, frame, NULL, NULL);
    for (int e = 0; e < 2; e++) {
        float sgn = e ? 1.0f : -1.0f, side[2];
        a[0] = lens[e][0] + sgn * 0.82f * ew * ux - 0.3f * ew * vx;
        a[1] = lens[e][1] + sgn * 0.82f * ew * uy - 0.3f * ew * vy;
        ps_pt2(lm, e ? 454 : 234, side);
        ps_band(a, side, 0.12f * ew, q);
        ps_fill_poly(im, (const float(*)[2])q, 4, frame, NULL, NULL);
    }
}

/* The strong-profile set (privacy-set --only profile): LFW photos (250 x 250) and FFHQ photos (512 x 512 here) have
 * the face centred by the datasets' own alignment, so the face box is known without any detector of ours: the mean
 * box of the normal analysis on the 50 LFW and the 50 FFHQ faces of the privacy set (LFW centre 124.5, 133.8, side
 * 110.6; FFHQ centre 258.0, 302.7, side 322.9), scaled to the photo. Chosen by an independent judge of yaw (fr_pose),
 * never by our detector. */
#define PS_PROFILE_MIN_YAW 40.0f /* |yaw| from which a photo is a strong profile (degrees, fr_pose) */
enum { PS_PROFILE_MAX = 200 };   /* most turned photos kept */

/* The centred face box of an LFW photo of w x h pixels into box (x, y, w, h). */
static inline void ps_lfw_centre_box(int w, int h, float box[4]) {
    float side = 110.0f * (float)w / 250.0f;
    box[0] = 0.498f * (float)w - side / 2, box[1] = 0.535f * (float)h - side / 2, box[2] = side, box[3] = side;
}

/* The centred face box of an FFHQ photo of w x h pixels into box (x, y, w, h). */
static inline void ps_ffhq_centre_box(int w, int h, float box[4]) {
    float side = 323.0f * (float)w / 512.0f;
    box[0] = 0.504f * (float)w - side / 2, box[1] = 0.591f * (float)h - side / 2, box[2] = side, box[3] = side;
}

/* Picks the strong profiles among n photos by their judged yaw: the indices of the photos with |yaw| >= min_yaw,
 * most turned first (ties by index), at most max of them, into idx; returns how many. */
static inline int ps_profile_pick(const float *yaw, int n, float min_yaw, int max, int *idx) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        float a = fabsf(yaw[i]);
        if (!(a >= min_yaw)) continue;
        /* insertion by |yaw|, descending; only the best `max` kept */
        int pos = k < max ? k : max;
        while (pos > 0 && fabsf(yaw[idx[pos - 1]]) < a)
            pos--;
        if (pos >= max) continue;
        for (int m = (k < max ? k : max - 1); m > pos; m--)
            idx[m] = idx[m - 1];
        idx[pos] = i;
        if (k < max) k++;
    }
    return k;
}

/* The mirrored truth row (x y w h roll yaw pitch) of a face in a picture of width w flipped left to right. */
static inline void ps_mirror_row(const float in[7], int w, float out[7]) {
    out[0] = (float)w - in[0] - in[2], out[1] = in[1], out[2] = in[2], out[3] = in[3];
    out[4] = -in[4], out[5] = -in[5], out[6] = in[6];
}

#endif
