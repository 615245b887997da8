#include "sharpness.h"

#include <math.h>
#include <stddef.h>

float ev_skin_laplacian_var(const mf_img *im, const mf_face *f) {
    static const int pts[] = {50, 280, 151, 117, 346};
    if (!f->has_landmarks) return NAN;
    float fs = fmaxf(f->lm.box.w, f->lm.box.h);
    int r = (int)(0.05f * fs) + 1;
    double s = 0, s2 = 0;
    long n = 0;
    for (size_t p = 0; p < sizeof pts / sizeof pts[0]; p++) {
        int cx = (int)f->lm.pt[pts[p]][0], cy = (int)f->lm.pt[pts[p]][1];
        for (int y = cy - r; y <= cy + r; y++)
            for (int x = cx - r; x <= cx + r; x++) {
                if (x < 1 || y < 1 || x >= im->w - 1 || y >= im->h - 1) continue;
#define G(xx, yy)                                                                                                      \
    (0.299 * im->data[((size_t)(yy)*im->w + (xx)) * 3] + 0.587 * im->data[((size_t)(yy)*im->w + (xx)) * 3 + 1] +       \
     0.114 * im->data[((size_t)(yy)*im->w + (xx)) * 3 + 2])
                double l = G(x - 1, y) + G(x + 1, y) + G(x, y - 1) + G(x, y + 1) - 4 * G(x, y);
#undef G
                s += l, s2 += l * l, n++;
            }
    }
    return n ? (float)(s2 / n - (s / n) * (s / n)) : NAN;
}
