/* The redraw ladder (docs/anonymization.md, "Re-identification outside the guarantee (branch anon10f)"): what the
 * draw after some failed ones changes. Two ladders.
 * - The default (tuning.ladder 0): every failed draw raises the identity push and the rendering strength together;
 *   strong (model eyes, 1.6x shape, broad light only) from a third of the draws on. With tuning.hard_from 6 (looks13,
 *   an option) the middle third is natural-looking instead (the photo's light and grain mostly kept, 1.15x shape,
 *   more anti-face candidates) and only the last third heavy.
 * - Identity first (tuning.ladder 1; measured and left off: fewer broken-looking strong draws and a better age, but
 *   more fallbacks and results closer to the thresholds): every failed draw moves the next identity farther from the
 *   target's own codes (a stronger push away, more candidates, the next detail layer); the rendering strength
 *   (shape gain, less of the photo's shading and grain) climbs only with the draws the ensemble rejected — a draw
 *   lost by the detector or one that missed age or gender is not helped by a stronger rendering, which makes the
 *   face less face-like, not less like its owner — and the strong rendering comes only in the last third. */
#include <math.h>

#include "anon/internal.h"

/* Tuning of the identity-first ladder (measured in docs/anonymization.md). */
#define AWAY_ID 0.25f     /* the push away from the target's codes added per failed draw */
#define AWAY_MAX 1.0f     /* ... at most this much more than the first draw's (tuning.away) */
#define NCAND 8           /* candidate identities of the first draw; the farthest from the target's codes wins */
#define NCAND_ID 4        /* ... added per failed draw */
#define SPREAD_ID 0.05f   /* texture-code spread added per failed draw */
#define SHAPE_GROW 0.10f  /* shape gain added per rejected draw */
#define SHADING_GROW 1.2f /* low-pass of the kept shading, x per rejected draw */
#define FINE_DECAY 0.8f   /* the photo's grain kept, x per rejected draw */
/* The default ladder (tuning.ladder 0, main's before anon10f): every failed draw raises identity and strength
 * alike, strong from the first third of the draws on. */
#define OLD_AWAY_GROW 0.15f
#define OLD_SPREAD 0.15f
/* Its middle rung (looks13, docs/anonymization.md "Branch looks13"; an option): strong (model eyes) but natural. Main's
 * strong rendering from the 4th draw on (1.6x shape, 3x shading low-pass, 0.5x grain, growing with every failed
 * draw: 0.52 face sizes of low-pass and 2.1x shape at the 4th draw) drew pale waxy faces, stretched grins and grey
 * smudges; measured on 60 FFHQ faces, a natural rung passes as often at draws 4-6 but not at 7-9 (the children's
 * and hard faces' last chances), which keep main's rendering. */
#define MID_SHAPE 1.15f    /* shape gain x this (main's strong rung: 1.6) */
#define MID_SHADE 1.25f    /* shading low-pass x this (main's: 3) */
#define MID_FINE 0.6f      /* the photo's grain kept (main's: 0.5 x 0.8^failed, 0.26 at the 4th draw) */
#define MID_GROW_DRAWS 3   /* shape gain and low-pass grow with at most this many failed draws */
#define MID_NCAND 16       /* anti-face candidates (the farthest from the target's codes wins; main 8) */
#define HARD_FROM 0        /* the default of tuning.hard_from: 0, no middle rung (main's ladder) */
/* (strong21) the strong rung's rendering, x the gentle rung's (tuning.strong_*; docs/anonymization.md "Branch
 * strong21") */
#define STRONG_EYES 0      /* 1: the photo's eyes; 0: the model's */
#define STRONG_SHAPE 1.6f  /* shape gain */
#define STRONG_SHADE 3.0f  /* low-pass of the photo's shading kept */
#define STRONG_FINE 0.5f   /* the photo's grain kept */

int mf_anon_strong_eyes(const mf_anon_tuning *tu) {
    return tu->strong_eyes > 0 || (tu->strong_eyes == 0 && STRONG_EYES > 0);
}
float mf_anon_strong_shape(const mf_anon_tuning *tu) {
    return tu->strong_shape > 0 ? fminf(tu->strong_shape, 3) : STRONG_SHAPE;
}
float mf_anon_strong_shade(const mf_anon_tuning *tu) {
    return tu->strong_shade > 0 ? fminf(fmaxf(tu->strong_shade, 1), 10) : STRONG_SHADE;
}
float mf_anon_strong_fine(const mf_anon_tuning *tu) {
    return tu->strong_fine > 0 ? fminf(tu->strong_fine, 1) : STRONG_FINE;
}

void mf_anon_ladder_step(const mf_anon_tuning *tu, int max_tries, int failed, int rejected, mf_anon_rung *out) {
    failed = failed < 0 ? 0 : failed, rejected = rejected < 0 ? 0 : rejected > failed ? failed : rejected;
    out->band = NULL; /* (band48) set by the caller from tuning.forehead_band */
    out->feat = NULL, out->feat_hold = 0, out->feat_dark = 0, out->feat_pick = 0, out->feat_near = 0; /* (feat50) ... and from tuning.feature_hold */
    if (tu->ladder <= 0) {
        int e = failed;
        out->strong = tu->keep_eyes < 0 || (tu->keep_eyes == 0 && 3 * e >= max_tries);
        out->spread = tu->tex_gain * (1 + OLD_SPREAD * e);
        out->away = tu->away + OLD_AWAY_GROW * e;
        out->detail_step = 0;
        /* looks13, an option (tuning.hard_from N > 0; off by default, measured in docs/anonymization.md: better
         * looks, age and gender, but more filter fallbacks and more links between a person's photos): the strong
         * draws before N failed ones (6 of 9: the middle third) are a natural rung (model eyes, the photo's light
         * and grain mostly kept, a little more shape, more anti-face candidates); main's heavy rendering is left for
         * the draws after them, the last chances before a fallback */
        int hard_from = tu->hard_from > 0 ? tu->hard_from : HARD_FROM;
        if (out->strong && e < hard_from) {
            int g = e < MID_GROW_DRAWS ? e : MID_GROW_DRAWS;
            out->ncand = MID_NCAND;
            out->gain = (tu->shape_gain + SHAPE_GROW * g) * MID_SHAPE;
            out->shade = tu->shading_sigma * powf(SHADING_GROW, (float)g) * MID_SHADE;
            out->fine = tu->fine_amp * MID_FINE;
            return;
        }
        out->ncand = NCAND;
        out->gain = (tu->shape_gain + SHAPE_GROW * e) * (out->strong ? mf_anon_strong_shape(tu) : 1);
        out->shade = tu->shading_sigma * powf(SHADING_GROW, (float)e) * (out->strong ? mf_anon_strong_shade(tu) : 1);
        out->fine = tu->fine_amp * powf(FINE_DECAY, (float)e) * (out->strong ? mf_anon_strong_fine(tu) : 1);
        return;
    }
    int e = failed, s = rejected;
    /* strong: the last third of the draws only (default strong_from: two thirds of max_tries; 9 draws: from the 7th),
     * whatever failed before: the last draws before a fallback filter are worth a stronger rendering */
    int from = tu->strong_from > 0 ? tu->strong_from : (2 * max_tries + 2) / 3;
    out->strong = tu->keep_eyes < 0 || (tu->keep_eyes == 0 && e >= from);
    out->spread = tu->tex_gain * (1 + SPREAD_ID * e);
    out->away = tu->away + fminf(AWAY_ID * e, AWAY_MAX);
    out->ncand = NCAND + NCAND_ID * e > MF_ANON_MAX_CAND ? MF_ANON_MAX_CAND : NCAND + NCAND_ID * e;
    out->gain = (tu->shape_gain + SHAPE_GROW * s) * (out->strong ? mf_anon_strong_shape(tu) : 1);
    out->shade = tu->shading_sigma * powf(SHADING_GROW, (float)s) * (out->strong ? mf_anon_strong_shade(tu) : 1);
    out->fine = tu->fine_amp * powf(FINE_DECAY, (float)s) * (out->strong ? mf_anon_strong_fine(tu) : 1);
    out->detail_step = 1;
}

/* (draws20) Skipping the gentle rungs. Measured on main (docs/anonymization.md, "Branch draws20"): a gentle draw that
 * an ensemble recognizer rejects far over its threshold predicts that the gentle draws after it fail too (60 of the 69
 * LFW faces with a gentle draw arcface rejected 0.8 gaps over, at 0.301 or more, failed every gentle draw; FFHQ 28 of
 * 31), while the first strong rung passed 40 of the 89 LFW faces that reached it. The face keeps its draws (anon.c:
 * after skipped rungs the ladder stays at its last rung; taking the skipped draws off the face's nine turned faces
 * that main accepts at its 8th draw into fallbacks). */
int mf_anon_ladder_leap(const mf_anon_tuning *tu, int max_tries, int failed, float over) {
    if (!(tu->leap > 0) || tu->ladder != 0 || !(over >= tu->leap) || failed < 1) return 0;
    mf_anon_rung r;
    int e = failed;
    for (; e < max_tries - 1; e++) {
        mf_anon_ladder_step(tu, max_tries, e, e, &r);
        if (r.strong) break;
    }
    if (e >= max_tries - 1) {
        mf_anon_ladder_step(tu, max_tries, e, e, &r);
        if (!r.strong) return 0; /* no strong rung within the draws: nothing to leap to */
    }
    return e - failed;
}
