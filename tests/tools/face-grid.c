/* face-grid: builds a test photo of many faces, COLS x ROWS copies of one face, for the end-to-end tests (a crowd
 * without committing a crowd photo).
 *   face-grid IN X Y W H CELL COLS ROWS OUT.png
 * crops the W x H region at (X, Y) of IN, resizes it to CELL x CELL and tiles it. Exit 0, or 1 with a message. */
#include "mfmc/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SIDE = 8192 };

static int arg(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv) {
    int x, y, w, h, cell, cols, rows;
    if (argc != 10 || arg(argv[2], 0, MAX_SIDE, &x) || arg(argv[3], 0, MAX_SIDE, &y) || arg(argv[4], 1, MAX_SIDE, &w) ||
        arg(argv[5], 1, MAX_SIDE, &h) || arg(argv[6], 8, 1024, &cell) || arg(argv[7], 1, 100, &cols) ||
        arg(argv[8], 1, 100, &rows) || (long)cell * cols > MAX_SIDE || (long)cell * rows > MAX_SIDE) {
        fprintf(stderr, "usage: face-grid IN X Y W H CELL COLS ROWS OUT.png\n");
        return 1;
    }
    mf_img in, crop, face, grid;
    if (mf_img_load(argv[1], NULL, &in, NULL) || mf_img_crop(&in, x, y, w, h, &crop) ||
        mf_img_resize(&crop, cell, cell, &face) || mf_img_init(&grid, cell * cols, cell * rows, 3)) {
        fprintf(stderr, "face-grid: %s\n", mf_error_get());
        return 1;
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            for (int k = 0; k < cell; k++)
                memcpy(grid.data + ((size_t)(r * cell + k) * grid.w + (size_t)c * cell) * 3,
                       face.data + (size_t)k * cell * 3, (size_t)cell * 3);
    int st = mf_img_save(&grid, argv[9], 0);
    if (st) fprintf(stderr, "face-grid: %s\n", mf_error_get());
    mf_img_free(&in);
    mf_img_free(&crop);
    mf_img_free(&face);
    mf_img_free(&grid);
    return st ? 1 : 0;
}
