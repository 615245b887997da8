/* Drawing the codes of a synthetic identity (docs/anonymization.md, "How a face is replaced", step 3, and
 * "Linkability across photos"): a normal draw in the training spread of the target's (age bin, gender) bucket, kept
 * away from the target's own codes, moved onto the target's age and gender by the linear read-outs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anon/internal.h"

/* (light37) texture codes that are the photo's light rather than identity (mf_anon_light_codes): a component whose
 * luminance is at least LIGHT_ODD odd about the face's midline (side light; on synthetic-v1 texture codes 1, 0.98
 * odd, and 9, 0.67), and with flat_min > 0 one whose mean colour is at least flat_min of its energy (the skin's
 * brightness and tint: at 0.5 codes 0, 0.97 flat, and 5, red against blue, 0.59) */
#define LIGHT_ODD 0.6
#define KEEP_PUSH_MAX 1.5f /* (light37) the push on the codes not kept, at most this many times tuning.away */
#define UNLINK_MARGIN 0.25f /* unlinked: the draw's component along the target's own direction is at most
                               -UNLINK_MARGIN x away x sqrt(k), k the number of codes (about -1.3 of a draw's norm
                               of 8.5 at the first draw's away 0.6) */

/* The target's own deviation in code i from the bucket c (mean, standard deviation; the standard normal when the
 * bucket is empty), in spreads, clamped to +-2.5. */
static float target_dev(const float *c, int k, const float *zt, int i) {
    float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
    float o = (zt[i] - mu) / fmaxf(sd, 1e-3f);
    return o > 2.5f ? 2.5f : o < -2.5f ? -2.5f : o;
}

/* (push38) The direction of the anti-face push for the target's codes zt in bucket c: the target's own deviation o
 * (target_dev; the kept codes 0), turned by `metric` (0..1) towards A o, A = D M D (M the model's recognizer metric, D
 * the bucket's spreads): the direction in which a step moves the recognizers' reading of the face most along the
 * target's own, at the same length |o|. u gets k floats. Without a metric (or metric 0) u = o. */
static void push_direction(const mf_anon_model_t *m, const float *c, const float *zt, float metric, const uint8_t *keep,
                           float *u) {
    int k = m->ks + m->kt;
    float v[2 * MF_ANON_MAX_COMPONENTS];
    double on = 0;
    for (int i = 0; i < k; i++) {
        u[i] = keep && keep[i] ? 0 : target_dev(c, k, zt, i);
        on += (double)u[i] * u[i];
        v[i] = u[i] * (c[0] > 0 ? c[2 + k + i] : 1);
    }
    if (!(metric > 0) || !m->metric || on < 1e-12) return;
    double an = 0, bn = 0;
    float a[2 * MF_ANON_MAX_COMPONENTS];
    for (int i = 0; i < k; i++) {
        double r = 0;
        if (!(keep && keep[i]))
            for (int l = 0; l < k; l++) r += (double)m->metric[(size_t)i * k + l] * v[l];
        a[i] = (float)(r * (c[0] > 0 ? c[2 + k + i] : 1));
        an += (double)a[i] * a[i];
    }
    if (an < 1e-12) return;
    double fa = metric * sqrt(on / an), fo = 1 - metric;
    for (int i = 0; i < k; i++) u[i] = (float)(fo * u[i] + fa * a[i]), bn += (double)u[i] * u[i];
    double f = bn > 1e-12 ? sqrt(on / bn) : 1;
    for (int i = 0; i < k; i++) u[i] = (float)(u[i] * f);
}

float mf_anon_age_ask(float age, float mean, float stretch) {
    float fade = (age - MF_ANON_AGE_STRETCH_FROM) / (MF_ANON_AGE_STRETCH_FULL - MF_ANON_AGE_STRETCH_FROM);
    float mv = (stretch - 1) * (age - mean);
    fade = fade < 0 ? 0 : fade > 1 ? 1 : fade;
    mv = mv < -MF_ANON_AGE_STRETCH_MAX ? -MF_ANON_AGE_STRETCH_MAX : mv > MF_ANON_AGE_STRETCH_MAX ? MF_ANON_AGE_STRETCH_MAX : mv;
    return fmaxf(1, age + fade * mv);
}

/* A linear read-out of codes z (k of them): w[k] + sum of w[i] z[i], summed in that order in double (the draws'
 * constraints and pick55's candidate test share it, so their figures are the same to the bit). */
static double readout(const float *w, const float *z, int k) {
    double p = w[k];
    for (int i = 0; i < k; i++) p += w[i] * z[i];
    return p;
}

/* Solves the n x n system A c = A[.][n] (n <= 7; A is overwritten) by Gauss-Jordan elimination with partial pivoting,
 * c[i] = A[i][n] / A[i][i] at the end; -1 when singular. The least-norm steps of draw_codes and mf_anon_tone_codes. */
static int solve_small(int n, double A[][8], double *c) {
    for (int col = 0; col < n; col++) {
        int piv = col;
        for (int i = col + 1; i < n; i++)
            if (fabs(A[i][col]) > fabs(A[piv][col])) piv = i;
        if (!(fabs(A[piv][col]) > 1e-12)) return -1;
        for (int l = 0; l <= n; l++) {
            double t = A[col][l];
            A[col][l] = A[piv][l], A[piv][l] = t;
        }
        for (int i = 0; i < n; i++) {
            if (i == col) continue;
            double f = A[i][col] / A[col][col];
            for (int l = col; l <= n; l++) A[i][l] -= f * A[col][l];
        }
    }
    for (int i = 0; i < n; i++) c[i] = A[i][n] / A[i][i];
    return 0;
}

/* Draws whitened codes z (ks + kt) for a target age and gender: a normal draw moved by the smallest step that puts
 * the linear read-outs on the targets. With zt (the target's own codes, projected) the draw is also kept away from
 * the target: unlinked, the normal draw restricted to the half-space away from the target's own deviation; else
 * pushed, z = draw - away * (zt - bucket mean), an "anti-face" of the target plus a random identity. */
static void draw_codes(const mf_anon_model_t *m, uint64_t *rng, float age, float logit, float spread, const float *zt,
                       float away, float metric, int unlinked, const uint8_t *keep, const float *band,
                       const float *feat, float hold, float dark, float *z) {
    int k = m->ks + m->kt;
    /* the bucket of the target's age and gender when it pools enough training faces (children, older people and
     * either gender get their own statistics instead of an extrapolated direction), else the standard normal */
    const float *c = m->cond + (size_t)mf_anon_bucket(age, logit > 0) * (2 + 2 * (size_t)k);
    float u[2 * MF_ANON_MAX_COMPONENTS]; /* the push's direction, as long as the target's own deviation */
    if (zt && !unlinked) push_direction(m, c, zt, metric, keep, u);
    /* (light37) the kept codes (the photo's light and the skin's tone) take the target's own deviation; the push on
     * the others is scaled so the anti-face's push keeps its length */
    double push = away;
    if (zt && keep && !unlinked) {
        double all = 0, rest = 0;
        for (int i = 0; i < k; i++) {
            float o = target_dev(c, k, zt, i);
            all += (double)o * o, rest += keep[i] ? 0 : (double)o * o;
        }
        if (rest > 1e-9) push = away * fmin(sqrt(all / rest), KEEP_PUSH_MAX);
    }
    double n2 = 0, on2 = 0, proj = 0;
    int nfree = 0; /* codes not kept */
    for (int i = 0; i < k; i++) { /* z = mu + sd * dev, dev = a normal draw - away * the target's own deviation */
        float g = (float)mf_anon_rng_normal(rng) * spread;
        if (zt) {
            float o = target_dev(c, k, zt, i);
            if (keep && keep[i]) g = o;
            else if (unlinked) on2 += (double)o * o, proj += (double)g * o;
            else g -= (float)push * u[i];
        }
        z[i] = g;
        if (!(zt && keep && keep[i])) n2 += (double)g * g, nfree++;
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
                if (keep && keep[i]) continue;
                z[i] -= (float)((p - lim) * target_dev(c, k, zt, i) / on);
                n2 += (double)z[i] * z[i];
            }
        }
    }
    /* a plausible face: the deviation is kept within the typical norm of a draw (the push away from the target
     * turns the direction, it does not make a caricature) */
    double cap = 1.1 * nfree * spread * spread, f = n2 > cap ? sqrt(cap / n2) : 1;
    for (int i = 0; i < k; i++) { /* (light37) kept codes: the target's own, not scaled */
        float mu = c[0] > 0 ? c[2 + i] : 0, sd = c[0] > 0 ? c[2 + k + i] : 1;
        z[i] = mu + sd * (float)(zt && keep && keep[i] ? z[i] : f * z[i]);
    }
    /* the least-norm step that puts the read-outs on their targets: age, gender and (band48) the forehead step at 0;
     * (feat50) a feature lighter against the skin than hold x the mean face's: at that; (dark55) a feature darker
     * than dark x the mean face's (the anti-face of a pale face with light brows: black bar brows, smoky lids, dark
     * under-eyes): at that */
    const float *W[7] = {m->age_w, m->male_w, band};
    double tgt[7] = {age, logit, 0}, r[7], G[7][8] = {{0}};
    int nr = band ? 3 : 2;
    for (int q = 0; feat && q < MF_ANON_N_FEAT; q++) {
        const float *wf = feat + (size_t)q * (k + 1);
        double p = readout(wf, z, k);
        if (hold > 0 && q < MF_ANON_N_HOLD && p > hold * wf[k]) W[nr] = wf, tgt[nr++] = hold * wf[k];
        else if (dark > 0 && p < dark * wf[k]) W[nr] = wf, tgt[nr++] = dark * wf[k]; /* (dark55) */
    }
    int kp = zt && keep; /* (light37) the kept codes stay the target's: the read-outs are moved by the others */
    for (int j = 0; j < nr; j++) {
        r[j] = tgt[j] - readout(W[j], z, k);
        for (int l = 0; l < nr; l++)
            for (int i = 0; i < k; i++)
                if (!(kp && keep[i])) G[j][l] += (double)W[j][i] * W[l][i];
        G[j][nr] = r[j];
    }
    double cf[7];
    if (nr == 2) { /* main's solve before band48, kept for the same draws */
        double det = G[0][0] * G[1][1] - G[0][1] * G[1][0];
        if (fabs(det) < 1e-12) return;
        cf[0] = (G[1][1] * r[0] - G[0][1] * r[1]) / det, cf[1] = (G[0][0] * r[1] - G[1][0] * r[0]) / det;
    } else if (solve_small(nr, G, cf))
        return;
    for (int i = 0; i < k; i++) {
        if (!(kp && keep[i])) {
            double d = 0; /* 0 + a + b: the same sum as main's two-constraint a + b */
            for (int j = 0; j < nr; j++) d += cf[j] * W[j][i];
            z[i] += (float)d;
        }
        if (z[i] > 3.5f) z[i] = 3.5f;
        if (z[i] < -3.5f) z[i] = -3.5f;
    }
}

/* Distance of codes z from the target's zt (whitened units); with metric > 0 (and the model's metric M, trace k)
 * the squared distance is (1 - metric) |z - zt|^2 + metric (z - zt)' M (z - zt). */
static float code_dist(const mf_anon_model_t *m, float metric, const float *z, const float *zt) {
    int k = m->ks + m->kt;
    double d = 0, dm = 0;
    for (int i = 0; i < k; i++) d += (double)(z[i] - zt[i]) * (z[i] - zt[i]);
    if (metric > 0 && m->metric) {
        for (int i = 0; i < k; i++) {
            double r = 0;
            for (int l = 0; l < k; l++) r += (double)m->metric[(size_t)i * k + l] * (z[l] - zt[l]);
            dm += r * (z[i] - zt[i]);
        }
        d = (1 - metric) * d + metric * dm;
    }
    return (float)sqrt(d > 0 ? d : 0);
}


/* (pick55) The darkest of the brows, lids and under-eyes of codes z against the skin, as its excess over
 * rung->feat_pick x the mean face's (in multiples of the mean face's); 0 when none is darker or the pick is off. */
static double dark_over(const mf_anon_rung *rung, const float *z, int k) {
    double over = 0;
    for (int q = 0; rung->feat && rung->feat_pick > 0 && q < MF_ANON_N_FEAT; q++) {
        const float *wf = rung->feat + (size_t)q * (k + 1);
        over = fmax(over, readout(wf, z, k) / wf[k] - rung->feat_pick);
    }
    return over;
}

/* (pick55) Whether candidate (d, over) beats the best so far (best_d, best_over; first: none yet): one without dark
 * features beats one with them, the farthest of them; among those with them, the least dark. */
static int pick_better(int first, float d, double over, float best_d, double best_over) {
    int ok = !(over > 0), best_ok = !(best_over > 0);
    return first || ok > best_ok || (ok && best_ok && d > best_d) || (!ok && !best_ok && over < best_over);
}

void mf_anon_draw_identity(const mf_anon_model_t *m, uint64_t *rng, float age, float logit, const mf_anon_rung *rung,
                           const float *zt, int unlinked, const uint8_t *keep, float *zc, float *z) {
    int k = m->ks + m->kt;
    if (unlinked || !zt) { /* one draw: choosing among candidates by their distance from the target would pick, for
                              every photo of a person, draws leaning the same way (linked) */
        draw_codes(m, rng, age, logit, rung->spread, zt, rung->away, rung->metric, unlinked, keep, rung->band, rung->feat,
                   rung->feat_hold, rung->feat_dark, z);
        return;
    }
    int near = rung->feat && rung->feat_pick > 0 && rung->feat_near > 0 && rung->ncand <= MF_ANON_MAX_CAND;
    if (near) {
        /* (pick56) only the candidates at least feat_near x as far from the target's codes as the farthest take
         * part in pick55's choice: the distance lost to a lighter face is bounded. The distances are known after
         * all candidates; the chosen one is drawn again from the saved generator state, and the generator is left
         * where the candidates left it. */
        uint64_t rng0 = *rng;
        float d[MF_ANON_MAX_CAND], dmax = -1;
        double over[MF_ANON_MAX_CAND];
        for (int c = 0; c < rung->ncand; c++) {
            draw_codes(m, rng, age, logit, rung->spread, zt, rung->away, rung->metric, 0, keep, rung->band, rung->feat,
                       rung->feat_hold, rung->feat_dark, zc);
            d[c] = code_dist(m, rung->metric, zc, zt), over[c] = dark_over(rung, zc, k);
            dmax = fmaxf(dmax, d[c]);
        }
        int best = -1;
        for (int c = 0; c < rung->ncand; c++)
            if (d[c] >= rung->feat_near * dmax && pick_better(best < 0, d[c], over[c], best < 0 ? 0 : d[best],
                                                               best < 0 ? 0 : over[best]))
                best = c;
        if (best < 0) best = 0; /* no finite distance: the first, as the farthest-of loop takes it */
        uint64_t rng_end = *rng;
        *rng = rng0;
        for (int c = 0; c <= best; c++)
            draw_codes(m, rng, age, logit, rung->spread, zt, rung->away, rung->metric, 0, keep, rung->band, rung->feat,
                       rung->feat_hold, rung->feat_dark, z);
        *rng = rng_end;
        return;
    }
    float best_d = -2; /* the anti-face: of rung->ncand candidates, the one farthest from the target's own codes */
    double best_over = 0; /* (pick55) the best's darkest feature over feat_pick x the mean face's (0: none; off: 0) */
    for (int c = 0; c < rung->ncand; c++) {
        draw_codes(m, rng, age, logit, rung->spread, zt, rung->away, rung->metric, 0, keep, rung->band, rung->feat,
                   rung->feat_hold, rung->feat_dark, zc);
        float d = code_dist(m, rung->metric, zc, zt);
        double over = dark_over(rung, zc, k);
        if (pick_better(c == 0, d, over, best_d, best_over))
            best_d = d, best_over = over, memcpy(z, zc, sizeof(float) * (size_t)k);
    }
}

/* Distance from (x, y) to the segment a-b. */
static float seg_dist(float x, float y, float ax, float ay, float bx, float by) {
    float dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    float t = l2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    float ex = ax + t * dx - x, ey = ay + t * dy - y;
    return sqrtf(ex * ex + ey * ey);
}

/* The distance from (x, y) to the closed outline of the n-point loop of mesh vertices (texture coordinates uv). */
static float loop_dist(const float *uv, const int *loop, int n, float x, float y) {
    float d = 1e9f;
    for (int i = 0, j = n - 1; i < n; j = i++)
        d = fminf(d, seg_dist(x, y, uv[2 * loop[j]], uv[2 * loop[j] + 1], uv[2 * loop[i]], uv[2 * loop[i] + 1]));
    return d;
}

/* (brow48) mf_anon_brow_masks (internal.h). */
int mf_anon_brow_masks(const mf_anon_model_t *m, float *w, uint8_t *ref) {
    int T = m->T, nref[2] = {0, 0};
    float fade = MF_ANON_BROW_FADE * T, rin = MF_ANON_BROW_REF_IN * T, rout = MF_ANON_BROW_REF_OUT * T;
    memset(w, 0, sizeof(float) * (size_t)T * T);
    memset(ref, 0, (size_t)T * T);
    for (int b = 0; b < 2; b++) {
        const int *loop = mf_anon_feature_v + 10 * b;
        float top = 1e9f, low = -1e9f; /* the loop's highest and lowest rows: "above" is above their middle */
        for (int i = 0; i < 10; i++) top = fminf(top, m->uv[2 * loop[i] + 1]), low = fmaxf(low, m->uv[2 * loop[i] + 1]);
        for (int y = 0; y < T; y++)
            for (int x = 0; x < T; x++) {
                float px = x + 0.5f, py = y + 0.5f, d = loop_dist(m->uv, loop, 10, px, py);
                int in = mf_anon_in_loop(m->uv, loop, 10, px, py);
                size_t p = (size_t)y * T + x;
                float v = in ? 1 : d < fade ? 1 - d / fade : 0;
                if (v > w[p]) w[p] = v;
                if (!in && d >= rin && d <= rout && py < 0.5f * (top + low) && m->valid[p] && !ref[p])
                    ref[p] = (uint8_t)(1 + b), nref[b]++;
            }
    }
    for (size_t p = 0; p < (size_t)T * T; p++)
        if (w[p] > 0) ref[p] = 0;
    return nref[0] >= 8 && nref[1] >= 8 ? 0 : MF_ERR_ARG;
}

/* (brow48) mf_anon_brow_clamp (internal.h). */
int mf_anon_brow_clamp(const mf_anon_model_t *m, const float *w, const uint8_t *ref, float dark, float gate,
                       float *tex) {
    int T = m->T, moved = 0;
    double sum[2][3] = {{0}}, msum[2][3] = {{0}}, n[2] = {0, 0};
    for (size_t p = 0; p < (size_t)T * T; p++)
        if (ref[p]) {
            n[ref[p] - 1]++;
            for (int c = 0; c < 3; c++)
                sum[ref[p] - 1][c] += tex[3 * p + c], msum[ref[p] - 1][c] += m->tex_mean[3 * p + c];
        }
    if (!(n[0] > 0 && n[1] > 0)) return 0;
    float half = 0.5f * (m->uv[2 * mf_anon_feature_v[0]] + m->uv[2 * mf_anon_feature_v[10]]);
    int side0 = m->uv[2 * mf_anon_feature_v[0]] < half;
    /* gate > 0: only a brow whose inside (weight 1) is on average at least gate x its skin's luminance */
    double yb[2] = {0, 0}, nb[2] = {0, 0};
    for (int y = 0; y < T && gate > 0; y++)
        for (int x = 0; x < T; x++) {
            size_t p = (size_t)y * T + x;
            if (!(w[p] >= 1)) continue;
            int b = (x + 0.5f < half) == side0 ? 0 : 1;
            yb[b] += 0.299 * tex[3 * p] + 0.587 * tex[3 * p + 1] + 0.114 * tex[3 * p + 2], nb[b]++;
        }
    int on[2] = {1, 1};
    for (int b = 0; b < 2 && gate > 0; b++) {
        double ys = (0.299 * sum[b][0] + 0.587 * sum[b][1] + 0.114 * sum[b][2]) / n[b];
        on[b] = nb[b] > 0 && yb[b] / nb[b] >= gate * ys;
    }
    for (int y = 0; y < T; y++)
        for (int x = 0; x < T; x++) {
            size_t p = (size_t)y * T + x;
            if (!(w[p] > 0)) continue;
            /* each brow against its own skin: the brow whose outer end lies on this side of the midline */
            int b = (x + 0.5f < half) == side0 ? 0 : 1, mv = 0;
            if (!on[b]) continue;
            for (int c = 0; c < 3; c++) {
                /* the draw's skin there, and the mean face's own texel in the same relation to its skin (the skin
                 * at the loops' rims, lighter than dark x the skin, stays as the mean face has it) */
                double skin = sum[b][c] / n[b], mskin = msum[b][c] / n[b];
                float cap = (float)fmax(dark * skin, mskin > 1 ? m->tex_mean[3 * p + c] * skin / mskin : 0);
                float e = tex[3 * p + c] - cap;
                if (e > 0) tex[3 * p + c] -= w[p] * e, mv = 1;
            }
            moved += mv;
        }
    return moved;
}

/* (lip57) the upper lip's outer line from one corner to the other, then up the fold beside the nose, round the lower
 * nose (its wings and the row of its tip) and down the other fold */
const int mf_anon_philtrum_loop[MF_ANON_N_PHILTRUM] = {61,  185, 40,  39,  37, 0,  267, 269, 270, 409, 291, 410,
                                                       322, 391, 327, 294, 278, 1, 48,  64,  98,  165, 92,  186};

/* (lip57) mf_anon_philtrum_masks (internal.h). */
int mf_anon_philtrum_masks(const mf_anon_model_t *m, float *w, uint8_t *ref) {
    static const int cheek[2] = {50, 280};
    int T = m->T, nw = 0, nref = 0;
    float fade = MF_ANON_BROW_FADE * T, rr = MF_ANON_FEAT_REF * T;
    const int *loop = mf_anon_philtrum_loop, n = MF_ANON_N_PHILTRUM;
    for (int y = 0; y < T; y++)
        for (int x = 0; x < T; x++) {
            float px = x + 0.5f, py = y + 0.5f, d = loop_dist(m->uv, loop, n, px, py);
            size_t p = (size_t)y * T + x;
            int in = mf_anon_in_loop(m->uv, loop, n, px, py);
            w[p] = !m->valid[p] ? 0 : in ? 1 : d < fade ? 1 - d / fade : 0;
            nw += w[p] >= 1;
            ref[p] = 0;
            for (int c = 0; c < 2 && m->valid[p] && !ref[p]; c++)
                if (hypotf(px - m->uv[2 * cheek[c]], py - m->uv[2 * cheek[c] + 1]) < rr) ref[p] = 1, nref++;
        }
    return nw >= 8 && nref >= 8 ? 0 : MF_ERR_ARG;
}

/* (lip57) mf_anon_philtrum_lift (internal.h). */
int mf_anon_philtrum_lift(const mf_anon_model_t *m, const float *w, const uint8_t *ref, float floor, float *tex) {
    size_t T2 = (size_t)m->T * m->T;
    double sum[3] = {0}, msum[3] = {0}, n = 0;
    for (size_t p = 0; p < T2; p++)
        if (ref[p]) {
            n++;
            for (int c = 0; c < 3; c++) sum[c] += tex[3 * p + c], msum[c] += m->tex_mean[3 * p + c];
        }
    if (!(n > 0)) return 0;
    float k[3];
    for (int c = 0; c < 3; c++) k[c] = msum[c] > n ? (float)(floor * sum[c] / msum[c]) : 0;
    int moved = 0;
    for (size_t p = 0; p < T2; p++) {
        if (!(w[p] > 0)) continue;
        int mv = 0;
        for (int c = 0; c < 3; c++) {
            float e = k[c] * m->tex_mean[3 * p + c] - tex[3 * p + c];
            if (e > 0) tex[3 * p + c] += w[p] * e, mv = 1;
        }
        moved += mv;
    }
    return moved;
}

/* (feat50) each eye's upper lid line, outer corner to inner, then its brow's lower edge, inner end to outer */
const int mf_anon_lid_loop[2][14] = {{33, 246, 161, 160, 159, 158, 157, 173, 133, 55, 65, 52, 53, 46},
                                     {263, 466, 388, 387, 386, 385, 384, 398, 362, 285, 295, 282, 283, 276}};

const int mf_anon_under_loop[2][18] = {{33, 7, 163, 144, 145, 153, 154, 155, 133, 244, 233, 232, 231, 230, 229, 228, 31, 226},
                                       {263, 249, 390, 373, 374, 380, 381, 382, 362, 464, 453, 452, 451, 450, 449, 448, 261,
                                        446}};

/* (feat50) mf_anon_feature_zones (internal.h). */
void mf_anon_feature_zones(const mf_anon_model_t *m, int8_t *zone, int n[MF_ANON_N_FEAT + 1]) {
    static const int refv[5] = {50, 280, 151, 108, 337}; /* cheeks, forehead (among the skin probes) */
    int T = m->T;
    float rr = MF_ANON_FEAT_REF * T;
    n[0] = n[1] = n[2] = n[3] = 0;
    for (int y = 0; y < T; y++)
        for (int x = 0; x < T; x++) {
            size_t p = (size_t)y * T + x;
            float px = x + 0.5f, py = y + 0.5f;
            zone[p] = 0;
            if (!m->valid[p]) continue;
            for (int b = 0; b < 2 && !zone[p]; b++)
                if (mf_anon_in_loop(m->uv, mf_anon_feature_v + 10 * b, 10, px, py)) zone[p] = 1;
            for (int e = 0; e < 2 && !zone[p]; e++)
                if (mf_anon_in_loop(m->uv, mf_anon_lid_loop[e], 14, px, py)) zone[p] = 2;
            for (int r = 0; r < 5 && !zone[p]; r++)
                if (hypotf(px - m->uv[2 * refv[r]], py - m->uv[2 * refv[r] + 1]) < rr) zone[p] = -1;
            for (int e = 0; e < 2 && !zone[p]; e++) /* (dark55) after the skin: feat50's zones as they were */
                if (mf_anon_in_loop(m->uv, mf_anon_under_loop[e], 18, px, py)) zone[p] = 3;
            n[zone[p] < 0 ? 0 : zone[p]] += zone[p] != 0;
        }
}

/* (feat50) mf_anon_feature_readouts (internal.h). */
int mf_anon_feature_readouts(const mf_anon_model_t *m, float *w) {
    static const float wl[3] = {0.299f, 0.587f, 0.114f};
    int k = m->ks + m->kt;
    size_t T2 = (size_t)m->T * m->T;
    int8_t *zone = malloc(T2);
    if (!zone) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int n[MF_ANON_N_FEAT + 1];
    mf_anon_feature_zones(m, zone, n);
    if (n[0] < 8 || n[1] < 8 || n[2] < 8 || n[3] < 8) {
        free(zone);
        return -1;
    }
    for (int c = -1; c < m->kt; c++) {
        const float *b = c < 0 ? m->tex_mean : m->tex_basis + (size_t)c * T2 * 3;
        double s[MF_ANON_N_FEAT + 1] = {0};
        for (size_t p = 0; p < T2; p++) {
            if (!zone[p]) continue;
            double y = wl[0] * b[3 * p] + wl[1] * b[3 * p + 1] + wl[2] * b[3 * p + 2];
            s[zone[p] < 0 ? 0 : zone[p]] += y;
        }
        for (int f = 0; f < MF_ANON_N_FEAT; f++)
            w[(size_t)f * (k + 1) + (c < 0 ? k : m->ks + c)] = (float)(s[f + 1] / n[f + 1] - s[0] / n[0]);
    }
    for (int f = 0; f < MF_ANON_N_FEAT; f++)
        for (int i = 0; i < m->ks; i++) w[(size_t)f * (k + 1) + i] = 0;
    free(zone);
    return 0;
}

/* (band48) mf_anon_band_readout (internal.h). */
int mf_anon_band_readout(const mf_anon_model_t *m, float *w) {
    static const float wl[3] = {0.299f, 0.587f, 0.114f};
    int T = m->T, ya = (int)floorf(m->uv[2 * 151 + 1]), yb = ya + 1;
    int x0 = (int)m->uv[2 * 108], x1 = (int)m->uv[2 * 337];
    if (ya < 0 || yb >= T || x0 < 0 || x1 >= T || x1 < x0) return -1;
    for (int c = -1; c < m->kt; c++) {
        const float *b = c < 0 ? m->tex_mean : m->tex_basis + (size_t)c * T * T * 3;
        double d = 0;
        for (int x = x0; x <= x1; x++)
            for (int ch = 0; ch < 3; ch++)
                d += wl[ch] * (b[3 * ((size_t)yb * T + x) + ch] - b[3 * ((size_t)ya * T + x) + ch]);
        w[c < 0 ? m->ks + m->kt : m->ks + c] = (float)(d / (x1 - x0 + 1));
    }
    for (int i = 0; i < m->ks; i++) w[i] = 0;
    return 0;
}

/* (hue36) mf_anon_colour_readout (internal.h). */
void mf_anon_colour_readout(const mf_anon_model_t *m, float *col_w, float col_b[3]) {
    size_t T2 = (size_t)m->T * m->T, nv = 0;
    double acc[3] = {0, 0, 0};
    for (size_t p = 0; p < T2; p++)
        if (m->valid[p]) {
            nv++;
            for (int c = 0; c < 3; c++) acc[c] += m->tex_mean[3 * p + c];
        }
    for (int c = 0; c < 3; c++) col_b[c] = nv ? (float)(acc[c] / (double)nv) : 0;
    for (int k = 0; k < m->kt; k++) {
        const float *b = m->tex_basis + (size_t)k * T2 * 3;
        double s3[3] = {0, 0, 0};
        for (size_t p = 0; p < T2 && nv; p++)
            if (m->valid[p])
                for (int c = 0; c < 3; c++) s3[c] += b[3 * p + c];
        for (int c = 0; c < 3; c++) col_w[(size_t)c * m->kt + k] = nv ? (float)(s3[c] / (double)nv) : 0;
    }
}

/* The drawn texture's mean colour, channel ch, for codes z (ks + kt). */
static double colour_of(const mf_anon_model_t *m, const float *col_w, const float col_b[3], int ch, const float *z) {
    double p = col_b[ch];
    for (int c = 0; c < m->kt; c++) p += (double)col_w[(size_t)ch * m->kt + c] * z[m->ks + c];
    return p;
}

/* (hue36) mf_anon_tone_codes (internal.h): five linear constraints (age, gender logit, three colour channels) solved
 * together for the least-norm step (solve_small). */
int mf_anon_tone_codes(const mf_anon_model_t *m, const float *col_w, const float col_b[3], const float *zt, float age,
                       float logit, float bound, float *z) {
    if (!(bound > 1)) return 0;
    int k = m->ks + m->kt, move = 0;
    const float *W[2] = {m->age_w, m->male_w};
    double r[5], A[5][8] = {{0}};
    for (int i = 0; i < 5; i++) {
        double p, want;
        if (i < 2) { /* the read-outs on the draw's targets (where draw_codes put them, up to its +-3.5 clamp) */
            p = W[i][k];
            for (int c = 0; c < k; c++) p += (double)W[i][c] * z[c];
            want = i == 0 ? age : logit;
        } else {
            double t = fmax(colour_of(m, col_w, col_b, i - 2, zt), 1);
            p = colour_of(m, col_w, col_b, i - 2, z);
            want = p < t / bound ? t / bound : p > t * bound ? t * bound : p;
            move |= want != p;
        }
        r[i] = want - p;
    }
    if (!move) return 0;
    /* row i's coefficient of code c */
#define ROWC(i, c) ((i) < 2 ? (double)W[i][c] : (c) < m->ks ? 0.0 : (double)col_w[(size_t)((i) - 2) * m->kt + (c) - m->ks])
    for (int i = 0; i < 5; i++) {
        for (int l = 0; l < 5; l++)
            for (int c = 0; c < k; c++) A[i][l] += ROWC(i, c) * ROWC(l, c);
        A[i][5] = r[i];
    }
    double cf[5];
    if (solve_small(5, A, cf)) return 0; /* singular: no change */
    for (int c = 0; c < k; c++) {
        double d = 0;
        for (int i = 0; i < 5; i++) d += cf[i] * ROWC(i, c);
        z[c] += (float)d;
        z[c] = z[c] > 3.5f ? 3.5f : z[c] < -3.5f ? -3.5f : z[c];
    }
#undef ROWC
    return 1;
}

/* (light37) mf_anon_light_codes (internal.h). */
int mf_anon_light_codes(const mf_anon_model_t *m, float flat_min, uint8_t *keep) {
    int T = m->T, n = 0;
    size_t T2 = (size_t)T * T;
    memset(keep, 0, (size_t)(m->ks + m->kt));
    for (int k = 0; k < m->kt; k++) {
        const float *b = m->tex_basis + (size_t)k * T2 * 3;
        double e = 0, mean[3] = {0, 0, 0}, nv = 0, anti = 0, lum = 0;
        for (size_t p = 0; p < T2; p++)
            if (m->valid[p]) {
                nv++;
                for (int c = 0; c < 3; c++) e += (double)b[3 * p + c] * b[3 * p + c], mean[c] += b[3 * p + c];
            }
        if (!(nv > 0) || !(e > 0)) continue;
        for (int c = 0; c < 3; c++) mean[c] /= nv;
        double flat = (mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]) * nv / e;
        /* the luminance's part odd about the face's vertical midline (the layout is the frontal mean face's) */
        for (int y = 0; y < T; y++)
            for (int x = 0; x < T; x++) {
                size_t p = (size_t)y * T + x, q = (size_t)y * T + (size_t)(T - 1 - x);
                if (!m->valid[p] || !m->valid[q]) continue;
                double lp = (double)b[3 * p] + b[3 * p + 1] + b[3 * p + 2], lq = (double)b[3 * q] + b[3 * q + 1] + b[3 * q + 2];
                anti += (lp - lq) * (lp - lq) / 4, lum += lp * lp;
            }
        if ((flat_min > 0 && flat >= flat_min) || (lum > 0 && anti / lum >= LIGHT_ODD)) keep[m->ks + k] = 1, n++;
    }
    return n;
}
