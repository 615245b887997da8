/* Contact sheet: tools/identity/sheet OUT.png COLS THUMB IMAGE... — a grid of THUMB-px thumbnails (row-major, in
 * argument order) for looking at training faces or results. Writes into a git-ignored folder only. */
#include "mfmc/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: sheet OUT.png COLS THUMB IMAGE...\n");
        return 2;
    }
    int cols = atoi(argv[2]), th = atoi(argv[3]), n = argc - 4;
    if (cols < 1 || th < 8 || th > 1024) return 2;
    int rows = (n + cols - 1) / cols;
    mf_img sheet;
    if (mf_img_init(&sheet, cols * th, rows * th, 3)) return 3;
    memset(sheet.data, 40, (size_t)sheet.w * sheet.h * 3);
    for (int i = 0; i < n; i++) {
        mf_img im, t;
        if (mf_img_load(argv[4 + i], NULL, &im, NULL)) {
            fprintf(stderr, "sheet: %s: %s\n", argv[4 + i], mf_error_get());
            continue;
        }
        int tw = im.w >= im.h ? th : im.w * th / im.h, thh = im.w >= im.h ? im.h * th / im.w : th;
        if (tw < 1) tw = 1;
        if (thh < 1) thh = 1;
        if (!mf_img_resize(&im, tw, thh, &t)) {
            int ox = (i % cols) * th, oy = (i / cols) * th;
            for (int y = 0; y < thh; y++)
                memcpy(sheet.data + ((size_t)(oy + y) * sheet.w + ox) * 3, t.data + (size_t)y * tw * 3, (size_t)tw * 3);
            mf_img_free(&t);
        }
        mf_img_free(&im);
    }
    int st = mf_img_save(&sheet, argv[1], 90);
    mf_img_free(&sheet);
    return st ? 3 : 0;
}
