/* serve-img: image helpers of the server's end-to-end tests (tests/e2e/serve*.sh).
 *   serve-img row H OUT.png IN...          the inputs scaled to height H, side by side (a group photo)
 *   serve-img mirror IN OUT.png            left-right mirror (a "selfie" that is not the posted picture)
 *   serve-img crop IN X Y W H OUT.png      a rectangle (clipped to the image)
 *   serve-img diff A B X Y W H             mean absolute difference of the rectangle (B scaled to A's size
 *                                          first when they differ; coordinates in A's pixels)
 *   serve-img exif IN.jpg OUT.jpg TEXT     IN with an APP1 Exif segment carrying TEXT (a metadata leak probe)
 *   serve-img blank W H OUT.png            a grey W x H image (a small file with large dimensions: cap probes)
 *   serve-img turn IN Q OUT                IN turned clockwise by Q quarter turns (privacy detection probes)
 * Exit 0, or 1 with a message. */
#include "mfmc/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOOL_NAME "serve-img"
#include "tool-args.h"

enum { MAX_SIDE = 8192, MAX_INPUTS = 16 };

static int row(int h, const char *out, int n, char **in) {
    mf_img parts[MAX_INPUTS] = {{0}}, grid = {0};
    int w = 0, r = 0;
    for (int i = 0; i < n && !r; i++) {
        mf_img a = {0};
        if (mf_img_load(in[i], NULL, &a, NULL)) return die(in[i]);
        int pw = (int)((long)a.w * h / a.h);
        if (pw < 1 || w + pw > MAX_SIDE || mf_img_resize(&a, pw, h, &parts[i])) r = die("resize");
        mf_img_free(&a);
        w += pw;
    }
    if (!r && mf_img_init(&grid, w, h, 3)) r = die("alloc");
    for (int i = 0, x = 0; i < n && !r; x += parts[i].w, i++)
        for (int y = 0; y < h; y++)
            memcpy(grid.data + ((size_t)y * w + x) * 3, parts[i].data + (size_t)y * parts[i].w * 3,
                   (size_t)parts[i].w * 3);
    if (!r && mf_img_save(&grid, out, 95)) r = die(out);
    for (int i = 0; i < n; i++)
        mf_img_free(&parts[i]);
    mf_img_free(&grid);
    return r;
}

static void clip(const mf_img *a, int *x, int *y, int *w, int *h) {
    if (*x < 0) *w += *x, *x = 0;
    if (*y < 0) *h += *y, *y = 0;
    if (*x + *w > a->w) *w = a->w - *x;
    if (*y + *h > a->h) *h = a->h - *y;
}

int main(int argc, char **argv) {
    if (argc >= 5 && !strcmp(argv[1], "row")) {
        int h;
        if (num(argv[2], 16, MAX_SIDE, &h) || argc - 4 > MAX_INPUTS) return die("row H OUT IN...");
        return row(h, argv[3], argc - 4, argv + 4);
    }
    if (argc == 4 && !strcmp(argv[1], "mirror")) {
        mf_img a = {0}, b = {0};
        int r = mf_img_load(argv[2], NULL, &a, NULL) || mf_img_flip(&a, 1, &b) || mf_img_save(&b, argv[3], 95);
        mf_img_free(&a);
        mf_img_free(&b);
        return r ? die("mirror") : 0;
    }
    if (argc == 8 && !strcmp(argv[1], "crop")) {
        int x, y, w, h, r;
        mf_img a = {0}, c = {0};
        if (num(argv[3], -MAX_SIDE, MAX_SIDE, &x) || num(argv[4], -MAX_SIDE, MAX_SIDE, &y) ||
            num(argv[5], 1, MAX_SIDE, &w) || num(argv[6], 1, MAX_SIDE, &h))
            return die("crop IN X Y W H OUT");
        if (mf_img_load(argv[2], NULL, &a, NULL)) return die(argv[2]);
        clip(&a, &x, &y, &w, &h);
        r = w < 1 || h < 1 || mf_img_crop(&a, x, y, w, h, &c) || mf_img_save(&c, argv[7], 95);
        mf_img_free(&a);
        mf_img_free(&c);
        return r ? die("crop") : 0;
    }
    if (argc == 8 && !strcmp(argv[1], "diff")) {
        int x, y, w, h;
        mf_img a = {0}, b = {0}, s = {0};
        if (num(argv[4], -MAX_SIDE, MAX_SIDE, &x) || num(argv[5], -MAX_SIDE, MAX_SIDE, &y) ||
            num(argv[6], 1, MAX_SIDE, &w) || num(argv[7], 1, MAX_SIDE, &h))
            return die("diff A B X Y W H");
        if (mf_img_load(argv[2], NULL, &a, NULL) || mf_img_load(argv[3], NULL, &b, NULL)) return die("load");
        if ((a.w != b.w || a.h != b.h)) {
            if (mf_img_resize(&b, a.w, a.h, &s)) return die("resize");
            mf_img_free(&b);
            b = s;
        }
        clip(&a, &x, &y, &w, &h);
        double sum = 0;
        for (int j = y; j < y + h; j++)
            for (int i = x; i < x + w; i++)
                for (int k = 0; k < 3; k++) {
                    int d = a.data[((size_t)j * a.w + i) * 3 + k] - b.data[((size_t)j * b.w + i) * 3 + k];
                    sum += d < 0 ? -d : d;
                }
        printf("%.2f\n", w > 0 && h > 0 ? sum / ((double)w * h * 3) : 0.0);
        mf_img_free(&a);
        mf_img_free(&b);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "exif")) {
        uint8_t *d;
        size_t n;
        if (mf_file_read(argv[2], 64 << 20, &d, &n) || n < 4 || d[0] != 0xff || d[1] != 0xd8)
            return die("exif: a JPEG");
        size_t t = strlen(argv[4]);
        if (t > 60000) return die("exif: text too long");
        FILE *f = fopen(argv[3], "wb");
        if (!f) return die(argv[3]);
        unsigned seg = (unsigned)(2 + 6 + t);
        uint8_t hdr[] = {0xff, 0xd8, 0xff, 0xe1, (uint8_t)(seg >> 8), (uint8_t)seg, 'E', 'x', 'i', 'f', 0, 0};
        int r = fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr || fwrite(argv[4], 1, t, f) != t ||
                fwrite(d + 2, 1, n - 2, f) != n - 2;
        r |= fclose(f) != 0;
        free(d);
        return r ? die("exif: write") : 0;
    }
    if (argc == 5 && !strcmp(argv[1], "blank")) {
        int w, h, r;
        mf_img a = {0};
        if (num(argv[2], 1, 65535, &w) || num(argv[3], 1, 65535, &h) || (long)w * h > 100000000L)
            return die("blank W H OUT.png");
        if (mf_img_init(&a, w, h, 1)) return die("blank: alloc");
        memset(a.data, 128, (size_t)w * h);
        r = mf_img_save(&a, argv[4], 0);
        mf_img_free(&a);
        return r ? die(argv[4]) : 0;
    }
    if (argc == 5 && !strcmp(argv[1], "turn")) {
        int q, r;
        mf_img a = {0}, b = {0};
        if (num(argv[3], 0, 3, &q)) return die("turn IN Q OUT");
        if (mf_img_load(argv[2], NULL, &a, NULL)) return die(argv[2]);
        r = mf_img_rotate90(&a, q, &b) || mf_img_save(&b, argv[4], 92);
        mf_img_free(&a), mf_img_free(&b);
        return r ? die(argv[4]) : 0;
    }
    fprintf(stderr, "usage: serve-img row|mirror|crop|diff|exif|blank|turn ... (see the source)\n");
    return 1;
}
