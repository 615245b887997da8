/* privacy-anon-set: the small picture set of tests/e2e/privacy-anon.sh (issue 11's anonymizer check), built at test
 * time from the shared data into a temporary folder (never committed: the pictures are made from FFHQ faces).
 *   privacy-anon-set MODELS DATA OUT
 * From the first FFHQ photos (each downscaled to 256 x 256; a photo without a central face is skipped) it writes
 * PNG pictures (lossless, so a face region left alone stays bit-identical in `mfmc anonymize`'s PNG output):
 *   rot90/0000.png, rot180/0000.png   one face turned clockwise by 90 and 180 degrees
 *   cutl50/0000.png                    one face cut by the left border, 50% of its box visible
 *   grid12/0000.png                    12 distinct faces tiled 4 x 3 (96 px cells, face boxes of about 48 px)
 * and OUT/truth.tsv in the format of tests/tools/privacy-set.c (variant, file, n_faces, then per face
 * x y w h roll yaw pitch, the roll turned with the picture). Exit 0, or 1 with a message. */
#include "mfmc/analyze.h"
#include "mfmc/image.h"
#include "privacy-set-common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE = 256, GRID_COLS = 4, GRID_ROWS = 3, GRID_N = GRID_COLS * GRID_ROWS, CELL = 96, MAX_LIST = 4096 };

typedef struct {
    mf_img img;      /* SIDE x SIDE */
    float t[7];      /* truth: x y w h roll yaw pitch */
} source;

static source src[GRID_N + 1];
static int n_src;
static FILE *truth;
static const char *out_dir;

static int fail(const char *what) {
    fprintf(stderr, "privacy-anon-set: %s: %s\n", what, mf_error_get());
    return 1;
}

/* Writes OUT/<var>/0000.png and its truth line (rows of 7 floats). */
static int emit(const char *var, const mf_img *img, const float (*rows)[7], int n) {
    return ps_emit(truth, out_dir, var, "0000.png", img, rows, n) ? fail(var) : 0;
}

/* Loads path downscaled to SIDE x SIDE and finds its central face; 1 when usable. */
static int add_source(mf_face_analyzer_t *an, const char *path) {
    mf_img full;
    if (mf_img_load(path, NULL, &full, NULL)) return 0;
    source *s = &src[n_src];
    int st = mf_img_resize(&full, SIDE, SIDE, &s->img), failed;
    mf_img_free(&full);
    if (st) return 0;
    if (!ps_central_face(an, &s->img, s->t, &failed)) {
        mf_img_free(&s->img);
        return 0;
    }
    n_src++;
    return 1;
}

/* The face of s turned clockwise by q quarter turns. */
static int rotated(const source *s, int q, const char *var) {
    mf_img r;
    if (mf_img_rotate90(&s->img, q, &r)) return fail("rotate");
    float cx = s->t[0] + s->t[2] / 2, cy = s->t[1] + s->t[3] / 2, nx = q == 1 ? SIDE - cy : SIDE - cx,
          ny = q == 1 ? cx : SIDE - cy, side = 0.5f * (s->t[2] + s->t[3]);
    float row[1][7] = {{nx - side / 2, ny - side / 2, side, side, ps_wrap180(s->t[4] + 90.0f * (float)q), s->t[5], s->t[6]}};
    int e = emit(var, &r, (const float(*)[7])row, 1);
    mf_img_free(&r);
    return e;
}

/* The face of s cut by the left border, half of its box visible. */
static int cut_left(const source *s) {
    int x0 = (int)lroundf(s->t[0] + 0.5f * s->t[2]);
    mf_img c;
    if (mf_img_crop(&s->img, x0, 0, SIDE - x0, SIDE, &c)) return fail("crop");
    float row[1][7] = {{s->t[0] - (float)x0, s->t[1], s->t[2], s->t[3], s->t[4], s->t[5], s->t[6]}};
    int e = emit("cutl50", &c, (const float(*)[7])row, 1);
    mf_img_free(&c);
    return e;
}

/* Sources 0..GRID_N-1 tiled: each cell shows the square of twice the face box around the face (grey outside). */
static int grid(void) {
    mf_img g;
    if (mf_img_init(&g, GRID_COLS * CELL, GRID_ROWS * CELL, 3)) return fail("grid");
    memset(g.data, 128, (size_t)g.w * g.h * 3);
    float rows[GRID_N][7];
    for (int i = 0; i < GRID_N; i++) {
        const source *s = &src[i];
        float ctx = 2.0f * fmaxf(s->t[2], s->t[3]), k = (float)CELL / ctx;
        int x0 = (int)lroundf(s->t[0] + s->t[2] / 2 - ctx / 2), y0 = (int)lroundf(s->t[1] + s->t[3] / 2 - ctx / 2);
        int cx0 = x0 < 0 ? 0 : x0, cy0 = y0 < 0 ? 0 : y0;
        int cx1 = x0 + (int)ctx > SIDE ? SIDE : x0 + (int)ctx, cy1 = y0 + (int)ctx > SIDE ? SIDE : y0 + (int)ctx;
        int ox = (i % GRID_COLS) * CELL + (int)lroundf((float)(cx0 - x0) * k);
        int oy = (i / GRID_COLS) * CELL + (int)lroundf((float)(cy0 - y0) * k);
        int rw = (int)lroundf((float)(cx1 - cx0) * k), rh = (int)lroundf((float)(cy1 - cy0) * k);
        mf_img c, r;
        if (mf_img_crop(&s->img, cx0, cy0, cx1 - cx0, cy1 - cy0, &c)) return fail("crop");
        int st = mf_img_resize(&c, rw, rh, &r);
        mf_img_free(&c);
        if (st) return fail("resize");
        for (int y = 0; y < rh && oy + y < g.h; y++)
            for (int x = 0; x < rw && ox + x < g.w; x++)
                memcpy(g.data + ((size_t)(oy + y) * g.w + ox + x) * 3, r.data + ((size_t)y * rw + x) * 3, 3);
        mf_img_free(&r);
        float row[7] = {(float)((i % GRID_COLS) * CELL) + (s->t[0] - (float)x0) * k,
                        (float)((i / GRID_COLS) * CELL) + (s->t[1] - (float)y0) * k,
                        s->t[2] * k, s->t[3] * k, s->t[4], s->t[5], s->t[6]};
        memcpy(rows[i], row, sizeof row);
    }
    int e = emit("grid12", &g, (const float(*)[7])rows, GRID_N);
    mf_img_free(&g);
    return e;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: privacy-anon-set MODELS DATA OUT\n");
        return 1;
    }
    out_dir = argv[3];
    mkdir(out_dir, 0755);
    mf_face_analyzer_opts o = {.no_attributes = 1};
    mf_face_analyzer_t *an;
    if (mf_face_analyzer_create(argv[1], &o, &an)) return fail("models");
    char path[4096];
    snprintf(path, sizeof path, "%s/ffhq", argv[2]);
    int n;
    char **names = ps_list_dir(path, MAX_LIST, &n);
    if (!names) {
        fprintf(stderr, "privacy-anon-set: cannot read %s\n", path);
        mf_face_analyzer_free(an);
        return 1;
    }
    for (int i = 0; i < n && n_src < GRID_N + 1; i++) {
        snprintf(path, sizeof path, "%s/ffhq/%s", argv[2], names[i]);
        add_source(an, path);
    }
    ps_names_free(names, n);
    mf_face_analyzer_free(an);
    int r = 1;
    snprintf(path, sizeof path, "%s/truth.tsv", out_dir);
    if (n_src < GRID_N + 1)
        fprintf(stderr, "privacy-anon-set: only %d usable FFHQ faces (need %d)\n", n_src, GRID_N + 1);
    else if (!(truth = fopen(path, "w")))
        fprintf(stderr, "privacy-anon-set: cannot write %s\n", path);
    else {
        r = rotated(&src[GRID_N], 1, "rot90");
        if (!r) r = rotated(&src[GRID_N], 2, "rot180");
        if (!r) r = cut_left(&src[GRID_N]);
        if (!r) r = grid();
        if (fclose(truth)) r = 1;
    }
    for (int i = 0; i < n_src; i++)
        mf_img_free(&src[i].img);
    return r;
}
