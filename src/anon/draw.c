/* Drawing the codes of a synthetic identity (docs/anonymization.md, "How a face is replaced", step 3, and
 * "Linkability across photos"): a normal draw in the training spread of the target's (age bin, gender) bucket, kept
 * away from the target's own codes, moved onto the target's age and gender by the linear read-outs. */
#include <math.h>
#include <string.h>

#include "anon/internal.h"

#define UNLINK_MARGIN 0.25f /* unlinked: the draw's component along the target's own direction is at most
                               -UNLINK_MARGIN x away x sqrt(k), k the number of codes (about -1.3 of a draw's norm
                               of 8.5 at the first draw's away 0.6) */

/* Draws whitened codes z (ks + kt) for a target age and gender: a normal draw moved by the smallest step that puts
 * the linear read-outs on the targets. With zt (the target's own codes, projected) the draw is also kept away from
 * the target: unlinked, the normal draw restricted to the half-space away from the target's own deviation; else
 * pushed, z = draw - away * (zt - bucket mean), an "anti-face" of the target plus a random identity. */
static void draw_codes(const mf_anon_model_t *m, uint64_t *rng, float age, float logit, float spread, const float *zt,
                       float away, int unlinked, float *z) {
    int k = m->ks + m->kt;
    /* the bucket of the target's age and gender when it pools enough training faces (children, older people and
     * either gender get their own statistics instead of an extrapolated direction), else the standard normal */
    const float *c = m->cond + (size_t)mf_anon_bucket(age, logit > 0) * (2 + 2 * (size_t)k);
    double n2 = 0, on2 = 0, proj = 0;
    for (int i = 0; i < k; i++) { /* z = mu + sd * dev, dev = a normal draw - away * the target's own deviation */
        float g = (float)mf_anon_rng_normal(rng) * spread;
        float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
        if (zt) {
            float o = (zt[i] - mu) / fmaxf(sd, 1e-3f);
            o = o > 2.5f ? 2.5f : o < -2.5f ? -2.5f : o;
            if (unlinked) on2 += (double)o * o, proj += (double)g * o;
            else g -= away * o;
        }
        z[i] = g, n2 += (double)g * g;
    }
    if (zt && unlinked && on2 > 1e-9) {
        /* unlinkable (docs/anonymization.md, "Linkability across photos"): the random draw itself, restricted to the
         * half-space away from the target: its component along the target's own direction u is made at most
         * -UNLINK_MARGIN x away x sqrt(k). The anti-face push (unlinked 0) gave every draw for one person the same
         * large component -away x (target), so two photos of a person anonymized in separate runs were linked
         * by the recognizers; here the only part two draws share is that small margin. */
        double on = sqrt(on2), p = proj / on, lim = -UNLINK_MARGIN * away * sqrt((double)k);
        if (p > lim) {
            n2 = 0;
            for (int i = 0; i < k; i++) {
                float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
                float o = (zt[i] - mu) / fmaxf(sd, 1e-3f);
                o = o > 2.5f ? 2.5f : o < -2.5f ? -2.5f : o;
                z[i] -= (float)((p - lim) * o / on);
                n2 += (double)z[i] * z[i];
            }
        }
    }
    /* a plausible face: the deviation is kept within the typical norm of a draw (the push away from the target
     * turns the direction, it does not make a caricature) */
    double cap = 1.1 * k * spread * spread, f = n2 > cap ? sqrt(cap / n2) : 1;
    for (int i = 0; i < k; i++) {
        float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
        z[i] = mu + sd * (float)(f * z[i]);
    }
    const float *W[2] = {m->age_w, m->male_w};
    double tgt[2] = {age, logit}, r[2], G[2][2] = {{0}};
    for (int j = 0; j < 2; j++) {
        double p = W[j][k];
        for (int i = 0; i < k; i++) p += W[j][i] * z[i];
        r[j] = tgt[j] - p;
        for (int l = 0; l < 2; l++)
            for (int i = 0; i < k; i++) G[j][l] += (double)W[j][i] * W[l][i];
    }
    double det = G[0][0] * G[1][1] - G[0][1] * G[1][0];
    if (fabs(det) < 1e-12) return;
    double c0 = (G[1][1] * r[0] - G[0][1] * r[1]) / det, c1 = (G[0][0] * r[1] - G[1][0] * r[0]) / det;
    for (int i = 0; i < k; i++) {
        z[i] += (float)(c0 * W[0][i] + c1 * W[1][i]);
        if (z[i] > 3.5f) z[i] = 3.5f;
        if (z[i] < -3.5f) z[i] = -3.5f;
    }
}

/* Distance of codes z from the target's zt (whitened units). */
static float code_dist(int k, const float *z, const float *zt) {
    double d = 0;
    for (int i = 0; i < k; i++) d += (double)(z[i] - zt[i]) * (z[i] - zt[i]);
    return (float)sqrt(d);
}


void mf_anon_draw_identity(const mf_anon_model_t *m, uint64_t *rng, float age, float logit, const mf_anon_rung *rung,
                           const float *zt, int unlinked, float *zc, float *z) {
    int k = m->ks + m->kt;
    if (unlinked || !zt) { /* one draw: choosing among candidates by their distance from the target would pick, for
                              every photo of a person, draws leaning the same way (linked) */
        draw_codes(m, rng, age, logit, rung->spread, zt, rung->away, unlinked, z);
        return;
    }
    float best_d = -2; /* the anti-face: of rung->ncand candidates, the one farthest from the target's own codes */
    for (int c = 0; c < rung->ncand; c++) {
        draw_codes(m, rng, age, logit, rung->spread, zt, rung->away, 0, zc);
        float d = code_dist(k, zc, zt);
        if (d > best_d) best_d = d, memcpy(z, zc, sizeof(float) * (size_t)k);
    }
}
