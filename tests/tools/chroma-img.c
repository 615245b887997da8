/* chroma-img: colour-character probes of the anonymizer (grey22: a grey photo must get a grey face).
 *   chroma-img stat IN [X Y W H]           chroma of the rectangle (default: the middle half of the image):
 *                                          mean |Cb-128|, mean |Cr-128|, spread (sd) of Cb and Cr, in levels
 *   chroma-img diff ORIG ANON X Y W H      the same over the pixels the anonymizer changed (any channel off by
 *                                          more than 8 levels) inside the rectangle, for ORIG and for ANON, and
 *                                          how many pixels that is
 *   chroma-img grey IN OUT                 luminance copied into the three channels (a black-and-white photo)
 *   chroma-img sepia IN OUT                a sepia-toned copy (luminance, then a warm tone)
 *   chroma-img cast IN OUT R G B           each channel times R/100, G/100, B/100 (a tungsten or stage cast)
 *   chroma-img desat IN OUT P              chroma scaled to P percent (a low-saturation photo)
 * Output of stat and diff: one line of "name value" pairs. Exit 0, or 1 with a message. */
#include "mfmc/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOOL_NAME "chroma-img"
#include "tool-args.h"

static void ycc(const uint8_t *p, float *y, float *cb, float *cr) {
    *y = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    *cb = -0.168736f * p[0] - 0.331264f * p[1] + 0.5f * p[2];
    *cr = 0.5f * p[0] - 0.418688f * p[1] - 0.081312f * p[2];
}

static uint8_t u8(float v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f); }

static void rgb(float y, float cb, float cr, uint8_t *p) {
    p[0] = u8(y + 1.402f * cr);
    p[1] = u8(y - 0.344136f * cb - 0.714136f * cr);
    p[2] = u8(y + 1.772f * cb);
}

typedef struct {
    double n, acb, acr, scb, scr, qcb, qcr;
} acc;

static void add(acc *a, const uint8_t *p) {
    float y, cb, cr;
    ycc(p, &y, &cb, &cr);
    a->n++, a->acb += fabsf(cb), a->acr += fabsf(cr);
    a->scb += cb, a->scr += cr, a->qcb += (double)cb * cb, a->qcr += (double)cr * cr;
}

static void show(const char *tag, const acc *a) {
    double n = a->n > 0 ? a->n : 1, mb = a->scb / n, mr = a->scr / n;
    printf("%s_abs_cb %.2f %s_abs_cr %.2f %s_sd_cb %.2f %s_sd_cr %.2f ", tag, a->acb / n, tag, a->acr / n, tag,
           sqrt(fmax(0, a->qcb / n - mb * mb)), tag, sqrt(fmax(0, a->qcr / n - mr * mr)));
}

static int load(const char *path, mf_img *im) {
    if (mf_img_load(path, NULL, im, NULL)) return -1;
    if (im->c != 3) return mf_error_set(MF_ERR_ARG, "not an RGB image"), -1;
    return 0;
}

static int rect(char **v, const mf_img *im, int *x0, int *y0, int *x1, int *y1) {
    int x, y, w, h;
    if (num(v[0], 0, 1 << 20, &x) || num(v[1], 0, 1 << 20, &y) || num(v[2], 1, 1 << 20, &w) || num(v[3], 1, 1 << 20, &h))
        return -1;
    *x0 = x, *y0 = y, *x1 = x + w < im->w ? x + w : im->w, *y1 = y + h < im->h ? y + h : im->h;
    return 0;
}

int main(int argc, char **argv) {
    mf_img a = {0}, b = {0};
    int x0, y0, x1, y1;
    if ((argc == 3 || argc == 7) && !strcmp(argv[1], "stat")) {
        if (load(argv[2], &a)) return die("cannot read the image");
        x0 = a.w / 4, y0 = a.h / 4, x1 = 3 * a.w / 4, y1 = 3 * a.h / 4;
        if (argc == 7 && rect(argv + 3, &a, &x0, &y0, &x1, &y1)) return die("bad rectangle");
        acc s = {0};
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) add(&s, a.data + 3 * ((size_t)y * a.w + x));
        show("img", &s);
        printf("n %.0f\n", s.n);
        mf_img_free(&a);
        return 0;
    }
    if (argc == 8 && !strcmp(argv[1], "diff")) {
        if (load(argv[2], &a) || load(argv[3], &b)) return die("cannot read the images");
        if (a.w != b.w || a.h != b.h) return die("the images differ in size");
        if (rect(argv + 4, &a, &x0, &y0, &x1, &y1)) return die("bad rectangle");
        acc so = {0}, sa = {0};
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                const uint8_t *p = a.data + 3 * ((size_t)y * a.w + x), *q = b.data + 3 * ((size_t)y * a.w + x);
                if (abs(p[0] - q[0]) <= 8 && abs(p[1] - q[1]) <= 8 && abs(p[2] - q[2]) <= 8) continue;
                add(&so, p), add(&sa, q);
            }
        show("orig", &so), show("anon", &sa);
        printf("n %.0f\n", so.n);
        mf_img_free(&a), mf_img_free(&b);
        return 0;
    }
    int mode = argc == 4 && !strcmp(argv[1], "grey")    ? 1
               : argc == 4 && !strcmp(argv[1], "sepia") ? 2
               : argc == 7 && !strcmp(argv[1], "cast")  ? 3
               : argc == 5 && !strcmp(argv[1], "desat") ? 4
                                                        : 0;
    if (!mode) {
        fprintf(stderr, "usage: chroma-img stat|diff|grey|sepia|cast|desat ... (see the source's header)\n");
        return 1;
    }
    int f[3] = {100, 100, 100};
    if (mode == 3 && (num(argv[4], 0, 400, &f[0]) || num(argv[5], 0, 400, &f[1]) || num(argv[6], 0, 400, &f[2])))
        return die("bad channel factors");
    if (mode == 4 && num(argv[4], 0, 400, &f[0])) return die("bad percentage");
    if (load(argv[2], &a)) return die("cannot read the image");
    for (size_t i = 0; i < (size_t)a.w * a.h; i++) {
        uint8_t *p = a.data + 3 * i;
        float y, cb, cr;
        ycc(p, &y, &cb, &cr);
        if (mode == 1) rgb(y, 0, 0, p);
        if (mode == 2) { /* a warm tone, strongest in the mid-tones */
            float t = 4 * (y / 255) * (1 - y / 255);
            rgb(y, -14 * t, 10 * t, p);
        }
        if (mode == 3)
            for (int k = 0; k < 3; k++) p[k] = u8(p[k] * f[k] / 100.0f);
        if (mode == 4) rgb(y, cb * f[0] / 100.0f, cr * f[0] / 100.0f, p);
    }
    if (mf_img_save(&a, argv[3], 95)) return die("cannot write the image");
    mf_img_free(&a);
    return 0;
}
