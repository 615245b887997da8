/* privacy-set: builds the test set of privacy detection (issue 11, docs/detection.md) from the shared data into a
 * git-ignored folder (never commit its pictures: they are made from LFW and FFHQ faces).
 *   privacy-set MODELS DATA OUT [N_FFHQ N_LFW]      (defaults 50 and 50)
 * Takes the first N_FFHQ photos of DATA/ffhq and the first photo of N_LFW LFW folders spread over the list; the
 * truth of each face (box, roll, yaw, pitch) is what the normal analysis finds on the upright photo (a photo where
 * it finds no central face is skipped). Writes OUT/<variant>/<n>.jpg and OUT/truth.tsv, one line per picture:
 *   variant  file  n_faces  then per face: x y w h roll_deg yaw pitch
 * Variants: rot90 rot180 rot270 and rot30 .. rot330 (30-degree steps), cut<border><pct> (each border, 40 50 60 75
 * percent of the face box visible), small16/20/24/32 (faces pasted at that box size into 1600x1200 pictures),
 * grid300 and grid1000 (distinct faces tiled), dark (x0.25), blur (sigma 2), noise (sigma 12), mask (a surgical mask
 * drawn over nose, mouth and chin through the face's mesh), sunglasses (two dark lenses, bridge and temples over the
 * eyes), fp (face-free crops of the demo photos, n_faces 0); profile and profilem (only when asked for by --only:
 * strong profiles, below).
 *   --only LIST   builds only the variant families of the comma-separated LIST (rot, cut, small, grid, quality,
 *                 occlusion, fp, profile), appending nothing else to OUT/truth.tsv (which is written anew)
 * The profile family (never built without --only: it judges every LFW and FFHQ photo) ranks all LFW and FFHQ photos
 * by the |yaw| an independent judge (fr_pose, eval/lib/judges.c) gives their centred face box (ps_lfw_centre_box,
 * ps_ffhq_centre_box: the datasets' alignment, no detector of ours), keeps the PS_PROFILE_MAX most turned from
 * PS_PROFILE_MIN_YAW degrees and writes each photo as it is (profile/<n>.jpg) and mirrored left to right
 * (profilem/<n>.jpg), truth = the centred box with the judge's roll, yaw and pitch; OUT/profile_yaw.tsv lists the
 * chosen photos (n, path, yaw, pitch, roll). Exit 0, or 1 with a message. */
#include "judges.h"
#include "mfmc/analyze.h"
#include "mfmc/image.h"
#include "privacy-set-common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SRC = 1000, MAX_NAMES = 20000, SMALL_W = 1600, SMALL_H = 1200 };

typedef struct {
    mf_img img;
    float x, y, w, h, roll, yaw, pitch; /* truth on the upright photo */
    mf_face_landmarks lm;               /* its mesh (occlusion variants) */
} src_face;

static src_face srcs[MAX_SRC];
static int n_src;
static FILE *truth;
static const char *out_dir;

static int die(const char *what) {
    fprintf(stderr, "privacy-set: %s: %s\n", what, mf_error_get());
    return 1;
}

/* Writes picture `img` of variant `var` with its faces (truth rows of 7 floats). */
static int emit(const char *var, int idx, const mf_img *img, const float (*faces)[7], int n) {
    char file[32];
    snprintf(file, sizeof file, "%04d.jpg", idx);
    if (ps_emit(truth, out_dir, var, file, img, faces, n)) return die(var);
    return 0;
}

static int variants_rotation(void) {
    for (int k = 1; k < 12; k++) {
        int deg = 30 * k;
        char var[32];
        snprintf(var, sizeof var, "rot%d", deg);
        for (int i = 0; i < n_src; i++) {
            const src_face *s = &srcs[i];
            mf_img r;
            float fc[1][7];
            int W = s->img.w, H = s->img.h;
            float cx = s->x + s->w / 2, cy = s->y + s->h / 2, nx, ny;
            if (deg % 90 == 0) {
                int q = deg / 90;
                if (mf_img_rotate90(&s->img, q, &r)) return die("rotate");
                /* continuous coordinates, clockwise quarter turns */
                if (q == 1)
                    nx = (float)H - cy, ny = cx;
                else if (q == 2)
                    nx = (float)W - cx, ny = (float)H - cy;
                else
                    nx = cy, ny = (float)W - cx;
            } else {
                if (ps_rotate_any(&s->img, (float)deg, &r)) return die("rotate");
                float t = (float)deg * (float)M_PI / 180.0f, ox = 0.5f * (float)W, oy = 0.5f * (float)H;
                nx = ox + cosf(t) * (cx - ox) - sinf(t) * (cy - oy);
                ny = oy + sinf(t) * (cx - ox) + cosf(t) * (cy - oy);
            }
            float side = 0.5f * (s->w + s->h);
            float row[7] = {nx - side / 2, ny - side / 2, side, side, ps_wrap180(s->roll + (float)deg), s->yaw, s->pitch};
            memcpy(fc[0], row, sizeof row);
            int e = emit(var, i, &r, (const float(*)[7])fc, 1);
            mf_img_free(&r);
            if (e) return e;
        }
    }
    return 0;
}

/* Face cut by border b (0 left, 1 top, 2 right, 3 bottom) with pct percent of its box visible. */
static int variants_cut(void) {
    static const int pcts[4] = {40, 50, 60, 75};
    static const char *names = "ltrb";
    for (int p = 0; p < 4; p++)
        for (int b = 0; b < 4; b++) {
            char var[32];
            snprintf(var, sizeof var, "cut%c%d", names[b], pcts[p]);
            for (int i = 0; i < n_src; i++) {
                const src_face *s = &srcs[i];
                float v = (float)pcts[p] / 100.0f;
                int x0 = 0, y0 = 0, x1 = s->img.w, y1 = s->img.h;
                if (b == 0) x0 = (int)lroundf(s->x + (1 - v) * s->w);
                if (b == 1) y0 = (int)lroundf(s->y + (1 - v) * s->h);
                if (b == 2) x1 = (int)lroundf(s->x + v * s->w);
                if (b == 3) y1 = (int)lroundf(s->y + v * s->h);
                x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
                x1 = x1 > s->img.w ? s->img.w : x1, y1 = y1 > s->img.h ? s->img.h : y1;
                if (x1 - x0 < 8 || y1 - y0 < 8) continue;
                mf_img c;
                if (mf_img_crop(&s->img, x0, y0, x1 - x0, y1 - y0, &c)) return die("crop");
                float row[1][7] = {{s->x - (float)x0, s->y - (float)y0, s->w, s->h, s->roll, s->yaw, s->pitch}};
                int e = emit(var, i, &c, (const float(*)[7])row, 1);
                mf_img_free(&c);
                if (e) return e;
            }
        }
    return 0;
}

static uint32_t rng_state = 12345;
static float gauss(void) { return ps_gauss(&rng_state); }

/* A face-free background: smooth colour gradients with mild noise. */
static int background(int w, int h, mf_img *bg) { return ps_background(w, h, &rng_state, bg); }

/* Pastes face s, its box scaled to `side` pixels with a context square of 2 boxes, centred at (cx, cy) of dst;
 * returns the truth row. */
static int paste(mf_img *dst, const src_face *s, int side, int cx, int cy, float row[7]) {
    float face[4] = {s->x, s->y, s->w, s->h};
    if (ps_paste(dst, &s->img, face, side, cx, cy, row)) return -1;
    row[4] = s->roll, row[5] = s->yaw, row[6] = s->pitch;
    return 0;
}

static int variants_small(void) {
    static const int sizes[4] = {16, 20, 24, 32};
    float(*rows)[7] = malloc((size_t)MAX_SRC * sizeof *rows);
    if (!rows) return 1;
    for (int z = 0; z < 4; z++) {
        int side = sizes[z], cell = side * 5, cols = SMALL_W / cell, rws = SMALL_H / cell, per = cols * rws, pic = 0;
        char var[32];
        snprintf(var, sizeof var, "small%d", side);
        for (int first = 0; first < n_src; first += per, pic++) {
            mf_img bg;
            if (background(SMALL_W, SMALL_H, &bg)) return die("background");
            int n = 0;
            for (int i = first; i < n_src && i < first + per; i++, n++) {
                int c = (i - first) % cols, r = (i - first) / cols;
                if (paste(&bg, &srcs[i], side, c * cell + cell / 2, r * cell + cell / 2, rows[n])) return 1;
            }
            int e = emit(var, pic, &bg, (const float(*)[7])rows, n);
            mf_img_free(&bg);
            if (e) return e;
        }
    }
    free(rows);
    return 0;
}

static int variants_grid(void) {
    static const int counts[2] = {300, 1000}, cols_of[2] = {20, 40}, cells[2] = {96, 64};
    float(*rows)[7] = malloc(1000 * sizeof *rows);
    if (!rows) return 1;
    for (int g = 0; g < 2; g++) {
        int n = counts[g], cols = cols_of[g], cell = cells[g], rws = (n + cols - 1) / cols;
        mf_img bg;
        if (background(cols * cell, rws * cell, &bg)) return die("background");
        for (int i = 0; i < n; i++) {
            /* the face box fills 5/8 of the cell (its context square 5/4: neighbours touch) */
            if (paste(&bg, &srcs[i % n_src], cell * 5 / 8, (i % cols) * cell + cell / 2, (i / cols) * cell + cell / 2,
                      rows[i]))
                return 1;
        }
        char var[32];
        snprintf(var, sizeof var, "grid%d", n);
        int e = emit(var, 0, &bg, (const float(*)[7])rows, n);
        mf_img_free(&bg);
        if (e) return e;
    }
    free(rows);
    return 0;
}

static void blur_sigma2(mf_img *im) {
    float k[13], sum = 0;
    for (int i = -6; i <= 6; i++)
        sum += k[i + 6] = expf(-(float)(i * i) / 8.0f);
    for (int i = 0; i < 13; i++)
        k[i] /= sum;
    int w = im->w, h = im->h;
    float *tmp = malloc((size_t)w * h * 3 * sizeof *tmp);
    if (!tmp) return;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                float a = 0;
                for (int i = -6; i <= 6; i++) {
                    int X = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
                    a += k[i + 6] * im->data[((size_t)y * w + X) * 3 + c];
                }
                tmp[((size_t)y * w + x) * 3 + c] = a;
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                float a = 0;
                for (int i = -6; i <= 6; i++) {
                    int Y = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                    a += k[i + 6] * tmp[((size_t)Y * w + x) * 3 + c];
                }
                im->data[((size_t)y * w + x) * 3 + c] = (uint8_t)fminf(255.0f, a + 0.5f);
            }
    free(tmp);
}

static int variants_quality(void) {
    static const char *vars[3] = {"dark", "blur", "noise"};
    for (int v = 0; v < 3; v++)
        for (int i = 0; i < n_src; i++) {
            const src_face *s = &srcs[i];
            mf_img c;
            if (mf_img_crop(&s->img, 0, 0, s->img.w, s->img.h, &c)) return die("copy");
            size_t n = (size_t)c.w * c.h * 3;
            if (v == 0)
                for (size_t k = 0; k < n; k++)
                    c.data[k] = (uint8_t)(c.data[k] / 4);
            if (v == 1) blur_sigma2(&c);
            if (v == 2)
                for (size_t k = 0; k < n; k++)
                    c.data[k] = (uint8_t)fminf(255.0f, fmaxf(0.0f, c.data[k] + 12.0f * gauss()));
            float row[1][7] = {{s->x, s->y, s->w, s->h, s->roll, s->yaw, s->pitch}};
            int e = emit(vars[v], i, &c, (const float(*)[7])row, 1);
            mf_img_free(&c);
            if (e) return e;
        }
    return 0;
}

static int variants_occlusion(void) {
    static const char *vars[2] = {"mask", "sunglasses"};
    for (int v = 0; v < 2; v++)
        for (int i = 0; i < n_src; i++) {
            const src_face *s = &srcs[i];
            mf_img c;
            if (mf_img_crop(&s->img, 0, 0, s->img.w, s->img.h, &c)) return die("copy");
            if (v == 0)
                ps_draw_mask(&c, &s->lm);
            else
                ps_draw_sunglasses(&c, &s->lm);
            float row[1][7] = {{s->x, s->y, s->w, s->h, s->roll, s->yaw, s->pitch}};
            int e = emit(vars[v], i, &c, (const float(*)[7])row, 1);
            mf_img_free(&c);
            if (e) return e;
        }
    return 0;
}

/* Face-free crops of the demo photos: 384 x 384 windows on a grid that stay clear of every face (boxes of the
 * normal and the privacy analysis, grown by half their size on each side). */
static int variants_fp(const char *models, mf_face_analyzer_t *an, mf_face_analyzer_t *pan) {
    int idx = 0;
    for (int p = 1; p <= 6; p++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/demo/sample%d.jpg", models, p);
        mf_img img;
        if (mf_img_load(path, NULL, &img, NULL)) return die(path);
        mf_face_box avoid[256];
        int na = 0;
        for (int pass = 0; pass < 2; pass++) {
            const mf_face *f;
            int n;
            if (mf_face_analyze_all(pass ? pan : an, &img, &f, &n)) return die("analysis");
            for (int i = 0; i < n && na < 256; i++)
                if (!pass || f[i].confirmed) avoid[na++] = f[i].det;
        }
        const int S = 384;
        for (int y = 0; y + S <= img.h; y += S / 2)
            for (int x = 0; x + S <= img.w; x += S / 2) {
                int clear = 1;
                for (int i = 0; i < na && clear; i++) {
                    const mf_face_box *b = &avoid[i];
                    float gx = 0.5f * b->w, gy = 0.5f * b->h;
                    if (b->x - gx < x + S && b->x + b->w + gx > x && b->y - gy < y + S && b->y + b->h + gy > y)
                        clear = 0;
                }
                if (!clear) continue;
                /* keep the windows apart: no pixel counted twice */
                static int used[64][64];
                if (used[y / (S / 2)][x / (S / 2)] == p) continue;
                mf_img c;
                if (mf_img_crop(&img, x, y, S, S, &c)) return die("crop");
                int e = emit("fp", idx++, &c, NULL, 0);
                mf_img_free(&c);
                if (e) return e;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int gy = y / (S / 2) + dy, gx = x / (S / 2) + dx;
                        if (gy >= 0 && gx >= 0 && gy < 64 && gx < 64) used[gy][gx] = p;
                    }
            }
        mf_img_free(&img);
    }
    return 0;
}

/* Strong profiles from all LFW photos, chosen by fr_pose's |yaw| on the centred box (see the header comment). */
static int variants_profile(const char *models, const char *data) {
    ev_judges *jd;
    if (ev_judges_create(models, &jd)) return die("judges");
    char path[4096];
    int r = 0, n = 0;
    char **paths = malloc(MAX_NAMES * sizeof *paths);
    float(*pose)[3] = malloc(MAX_NAMES * sizeof *pose), *yaw = malloc(MAX_NAMES * sizeof *yaw);
    int *idx = malloc(PS_PROFILE_MAX * sizeof *idx);
    if (!paths || !pose || !yaw || !idx) r = 1;
    /* every LFW photo (folders of one person), then every FFHQ photo */
    for (int set = 0; set < 2 && !r; set++) {
        int nd;
        snprintf(path, sizeof path, "%s/%s", data, set ? "ffhq" : "lfw");
        char **dirs = set ? NULL : ps_list_dir(path, MAX_NAMES, &nd);
        int nf;
        char **flat = set ? ps_list_dir(path, MAX_NAMES, &nf) : NULL;
        for (int d = 0; !r && d < (set ? 1 : nd); d++) {
            int m;
            char **files = flat;
            m = set ? nf : 0;
            if (!set) {
                snprintf(path, sizeof path, "%s/lfw/%s", data, dirs[d]);
                files = ps_list_dir(path, MAX_NAMES, &m);
            }
            for (int f = 0; !r && f < m && n < MAX_NAMES; f++) {
                if (set)
                    snprintf(path, sizeof path, "%s/ffhq/%s", data, files[f]);
                else
                    snprintf(path, sizeof path, "%s/lfw/%s/%s", data, dirs[d], files[f]);
                mf_img img;
                if (mf_img_load(path, NULL, &img, NULL)) {
                    r = die(path);
                    break;
                }
                float b[4];
                (set ? ps_ffhq_centre_box : ps_lfw_centre_box)(img.w, img.h, b);
                mf_face_box box = {.x = b[0], .y = b[1], .w = b[2], .h = b[3]};
                if (ev_judges_pose(jd, &img, &box, &pose[n][0], &pose[n][1], &pose[n][2])) r = die("pose");
                mf_img_free(&img);
                yaw[n] = pose[n][0];
                if (!r && !(paths[n] = strdup(path))) r = 1;
                if (!r) n++;
            }
            ps_names_free(files, m);
        }
        if (!set) ps_names_free(dirs, nd);
    }
    int k = r ? 0 : ps_profile_pick(yaw, n, PS_PROFILE_MIN_YAW, PS_PROFILE_MAX, idx);
    FILE *list = NULL;
    if (!r) {
        snprintf(path, sizeof path, "%s/profile_yaw.tsv", out_dir);
        if (!(list = fopen(path, "w"))) r = 1;
    }
    int over[5] = {0};
    for (int i = 0; i < n; i++)
        for (int t = 0; t < 5; t++)
            over[t] += fabsf(yaw[i]) >= 30.0f + 10.0f * (float)t;
    fprintf(stderr,
            "privacy-set: profile: %d LFW and FFHQ photos judged; |yaw| >= 30/40/50/60/70: %d/%d/%d/%d/%d; %d kept\n",
            n, over[0], over[1], over[2], over[3], over[4], k);
    /* all of `profile` first, then all of `profilem`: a variant's lines are contiguous in the truth file (the
     * anonymizer's check, eval_privacy_anon, reports a variant when its lines end) */
    for (int mirrored = 0; mirrored < 2; mirrored++)
        for (int i = 0; !r && i < k; i++) {
            const float *ps = pose[idx[i]];
            mf_img img, mir;
            if (mf_img_load(paths[idx[i]], NULL, &img, NULL)) {
                r = die(paths[idx[i]]);
                break;
            }
            float b[4], row[1][7], mrow[1][7];
            (strstr(paths[idx[i]], "/ffhq/") ? ps_ffhq_centre_box : ps_lfw_centre_box)(img.w, img.h, b);
            float t[7] = {b[0], b[1], b[2], b[3], ps[2], ps[0], ps[1]};
            memcpy(row[0], t, sizeof t);
            if (!mirrored) {
                fprintf(list, "%04d\t%s\t%.1f\t%.1f\t%.1f\n", i, paths[idx[i]], ps[0], ps[1], ps[2]);
                r = emit("profile", i, &img, (const float(*)[7])row, 1);
            } else {
                ps_mirror_row(row[0], img.w, mrow[0]);
                if (mf_img_flip(&img, 1, &mir)) r = die("flip");
                if (!r) r = emit("profilem", i, &mir, (const float(*)[7])mrow, 1);
                if (!r) mf_img_free(&mir);
            }
            mf_img_free(&img);
        }
    if (list) fclose(list);
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths), free(pose), free(yaw), free(idx);
    ev_judges_free(jd);
    return r;
}

static int add_source(mf_face_analyzer_t *an, const char *path) {
    if (n_src >= MAX_SRC) return 0;
    src_face *s = &srcs[n_src];
    if (mf_img_load(path, NULL, &s->img, NULL)) return die(path);
    float t[7];
    int failed;
    if (!ps_central_face_mesh(an, &s->img, t, &failed, &s->lm)) {
        mf_img_free(&s->img);
        if (failed) return die("analysis");
        fprintf(stderr, "privacy-set: no central face in %s: skipped\n", path);
        return 0;
    }
    s->x = t[0], s->y = t[1], s->w = t[2], s->h = t[3], s->roll = t[4], s->yaw = t[5], s->pitch = t[6];
    n_src++;
    return 0;
}

static int wanted(const char *only, const char *family) {
    if (!only) return 1;
    size_t n = strlen(family);
    for (const char *p = only; (p = strstr(p, family)); p += n)
        if ((p == only || p[-1] == ',') && (p[n] == ',' || !p[n])) return 1;
    return 0;
}

int main(int argc, char **argv) {
    const char *only = NULL;
    if (argc >= 3 && !strcmp(argv[1], "--only")) {
        only = argv[2];
        argc -= 2, argv += 2;
    }
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: privacy-set [--only rot,cut,small,grid,quality,occlusion,fp,profile] MODELS DATA OUT "
                        "[N_FFHQ N_LFW]\n");
        return 1;
    }
    int n_ffhq = argc == 6 ? atoi(argv[4]) : 50, n_lfw = argc == 6 ? atoi(argv[5]) : 50;
    if (n_ffhq < 0 || n_lfw < 0 || n_ffhq + n_lfw > MAX_SRC) {
        fprintf(stderr, "privacy-set: at most %d faces\n", MAX_SRC);
        return 1;
    }
    const char *models = argv[1], *data = argv[2];
    out_dir = argv[3];
    mkdir(out_dir, 0755);
    mf_nn_pool_t *pool = NULL;
    mf_nn_pool_create(2, &pool);
    mf_face_analyzer_opts o = {.pool = pool}, po = {.pool = pool, .privacy = 1};
    mf_face_analyzer_t *an, *pan;
    if (mf_face_analyzer_create(models, &o, &an) || mf_face_analyzer_create(models, &po, &pan)) return die("models");
    char path[4096];
    int n;
    snprintf(path, sizeof path, "%s/ffhq", data);
    char **ff = ps_list_dir(path, MAX_NAMES, &n);
    if (only && !strcmp(only, "profile")) n_ffhq = n_lfw = 0; /* the profile family needs no source faces */
    for (int i = 0; i < n && i < n_ffhq; i++) {
        snprintf(path, sizeof path, "%s/ffhq/%s", data, ff[i]);
        if (add_source(an, path)) return 1;
    }
    ps_names_free(ff, n);
    snprintf(path, sizeof path, "%s/lfw", data);
    char **lf = ps_list_dir(path, MAX_NAMES, &n);
    for (int k = 0; k < n_lfw && n > 0; k++) {
        int i = (int)((long)k * n / n_lfw);
        snprintf(path, sizeof path, "%s/lfw/%s", data, lf[i]);
        int m;
        char **files = ps_list_dir(path, MAX_NAMES, &m);
        if (m > 0) {
            snprintf(path, sizeof path, "%s/lfw/%s/%s", data, lf[i], files[0]);
            if (add_source(an, path)) return 1;
        }
        ps_names_free(files, m);
    }
    ps_names_free(lf, n);
    snprintf(path, sizeof path, "%s/truth.tsv", out_dir);
    if (!(truth = fopen(path, "w"))) {
        fprintf(stderr, "privacy-set: cannot write %s\n", path);
        return 1;
    }
    fprintf(stderr, "privacy-set: %d source faces\n", n_src);
    int r = 0;
    if (!r && wanted(only, "rot")) r = variants_rotation();
    if (!r && wanted(only, "cut")) r = variants_cut();
    if (!r && wanted(only, "small")) r = variants_small();
    if (!r && wanted(only, "grid")) r = variants_grid();
    if (!r && wanted(only, "quality")) r = variants_quality();
    if (!r && wanted(only, "occlusion")) r = variants_occlusion();
    if (!r && wanted(only, "fp")) r = variants_fp(models, an, pan);
    if (!r && only && wanted(only, "profile")) r = variants_profile(models, data);
    fclose(truth);
    mf_face_analyzer_free(an);
    mf_face_analyzer_free(pan);
    mf_nn_pool_free(pool);
    return r;
}
