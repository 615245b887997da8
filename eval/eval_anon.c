/* Anonymization measurements (docs/anonymization.md): runs mf_anon_face on the central face of every photo given
 * (or of every photo in a folder) and measures what the "done when" asks:
 *   re-identification by every recognizer (verification at the FAR 1e-3 match threshold; identification = the
 *   nearest original of an anonymized face is its own), utility (detected again, pose, eye and mouth openness, age,
 *   gender), looks (detector and mesh scores, Laplacian variance over cheeks and forehead), time per face.
 * usage: see usage() below (eval_anon --help).
 * --dump writes original | anonymized crops (PNG) into DIR (git-ignored: out/ or reports/). Models from
 * $MFMC_MODELS, identity model data/identity/synthetic-v1.mfid (--model: another, e.g. a retrained one in out/). */
#include "mfmc/anon.h"
#include "lib/testutil.h"
#include "evalutil.h"
#include "sharpness.h"
#include "judges.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAXF = 64, MAXN = 4000, NREC = 6 };
/* (judge34) the sixth, mobilefacenet-tflite, is measured too: the judge tuning.judge can add to the guarantee */
static const char *rec_names[NREC] = {"arcface", "faceapi", "faceres", "faceres-deep", "mobileface", "mobilefacenet-tflite"};

/* The attacker's alignments (independent of the guarantee's own set in src/anon/anon.c): scale about the five
 * points' centre, shift in eye distances, in-plane turn in degrees. */
enum { NJ = 8, NJREC = 2 };
static const float ev_jit[NJ][4] = {{1.07f, 0, 0, 0}, {0.93f, 0, 0, 0}, {1, 0.05f, 0, 0},  {1, -0.05f, 0, 0},
                                    {1, 0, 0.05f, 0}, {1, 0, -0.05f, 0}, {1, 0, 0, 4}, {1, 0, 0, -4}};
static void ev_jitter5(const float p[5][2], int i, float q[5][2]) {
    mf_face_5pt_moved(p, ev_jit[i][0], ev_jit[i][1], ev_jit[i][2], ev_jit[i][3], q);
}
static int cmpf(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}
static float median(float *v, int n) {
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmpf);
    return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

static void dump_pair(const char *dir, int idx, const mf_img *a, const mf_img *b, const mf_face *f, int H) {
    const mf_face_box *bx = &f->lm.box;
    float fs = fmaxf(bx->w, bx->h), m = 0.35f * fs;
    int x0 = (int)fmaxf(0, bx->x - m), y0 = (int)fmaxf(0, bx->y - m);
    int x1 = (int)fminf(a->w, bx->x + bx->w + m), y1 = (int)fminf(a->h, bx->y + bx->h + m);
    if (x1 - x0 < 4 || y1 - y0 < 4) return;
    mf_img ca, cb, ra, rb, out;
    if (mf_img_crop(a, x0, y0, x1 - x0, y1 - y0, &ca)) return;
    if (mf_img_crop(b, x0, y0, x1 - x0, y1 - y0, &cb)) {
        mf_img_free(&ca);
        return;
    }
    int W = (x1 - x0) * H / (y1 - y0);
    if (W < 8) W = 8;
    if (!mf_img_resize(&ca, W, H, &ra) && !mf_img_resize(&cb, W, H, &rb) && !mf_img_init(&out, 2 * W + 4, H, 3)) {
        for (int y = 0; y < H; y++) {
            memcpy(out.data + (size_t)y * out.w * 3, ra.data + (size_t)y * W * 3, (size_t)W * 3);
            memcpy(out.data + ((size_t)y * out.w + W + 4) * 3, rb.data + (size_t)y * W * 3, (size_t)W * 3);
        }
        char p[4096];
        snprintf(p, sizeof p, "%s/pair_%04d.png", dir, idx);
        mf_img_save(&out, p, 90);
        mf_img_free(&out), mf_img_free(&ra), mf_img_free(&rb);
    }
    mf_img_free(&ca), mf_img_free(&cb);
}

static void usage(FILE *f) {
    fputs("usage: eval_anon [OPTIONS] PATH...\n"
          "Anonymizes the central face of every photo (PATH: files or folders; --all-faces: every face) with the\n"
          "synthetic method and measures re-identification (five recognizers), utility, looks and time\n"
          "(docs/anonymization.md). BENCH_VERBOSE=1 prints one line per face on stderr. Models from $MFMC_MODELS.\n"
          "Face i of a run (counted from 0) is anonymized with seed S + 7919 i: the same files in the same order\n"
          "give the same results, another order or subset other seeds.\n"
          "  --n N            at most N faces              --every K      every K-th photo of the list\n"
          "  --all-faces      every face of each photo     --seed S       first seed (1)\n"
          "  --expr           also the expression judge's class before / after (faceplugin fr_expression, as mfmc eval)\n"
          "  --dump DIR       original | anonymized crops pair_NNNN.png (DIR git-ignored: out/ or reports/)\n"
          "  --dump-height H  ... each crop H pixels high (default 256, at most 2048)\n"
          "  --model FILE     identity model (data/identity/synthetic-v1.mfid)\n"
          "  --tries N        draws before the fallbacks (9)\n"
          "  --gender-conf F  the guarantee keeps the gender of originals read at least this sure (0.6)\n"
          "  --method M       synth (default) | blur | pixelate | solid\n"
          "tuning (mf_anon_tuning, include/mfmc/anon.h; 0 = the measured default):\n"
          "  --shade F --shape F --fine F --tex F --detail F --eyes 1|-1\n"
          "  --margin F --extra N   choice among passing draws (--margin -1: the first passing draw)\n"
          "  --outline F --jaw F --away F   (outline weight 1 and jaw take-out 1 by default since stop 40;\n"
          "                   before: --outline 0.6 --jaw -1 --shape-sym -1)\n"
          "  --shade-move F   the photo's shading follows this fraction of the mesh's displacement (-1: off)\n"
"  --sh-light F     the photo's light as a light model over the mesh normals, weight F of it against the\n"
          "                   photo's low-pass (0..1; default 1; -1: off)\n"
          "  --sh-chroma N    1: ... its luminance in the chroma of the photo's low-pass (default on since stop 50; -1 off)\n"
          "  --feature-hold F every draw's brows and upper lids no lighter against the skin than F x the mean face's (off)\n"
          "  --feature-pick F anti-face candidates without brows, lids or under-eyes darker than F x the mean face's first, else the least dark (off)\n"
          "  --feature-pick-near R  ... only among the candidates at least R x as far from the target's codes as the farthest (off: all)\n"
          "  --detail-beard F a woman's draw: the detail layer below the nose x F, 0 < F < 1 (default 0.2; -1: off)\n"
          "  --philtrum-floor F the drawn skin under the nose no darker than F x the mean face's there, 0 < F <= 1 (off)\n"
          "  --feature-dark F every draw's brows, upper lids and under-eyes no darker against the skin than F x the mean face's (off)\n"
          "  --eye-lid F      the photo's openings kept only while their middle's dark quarter is below F x the\n"
          "                   skin (else the model's eyes on every draw; default 0.65; -1: off)\n"
          "  --eye-uv F       the model eyes' lid loops spread in the texture by F vertically, e.g. 1.5 (default off)\n"
          "  --one-pass N     faceapi in the guarantee without its mirror pass, at that pass's own thresholds\n"
          "                   (1 on, -1 off; default off)\n"
          "  --one-pass-dissim F  ... the one pass's dissimilarity threshold (default 0.905; lower: a margin)\n"
          "  --eye-soften F   the photo's eye openings low-passed inside themselves, sigma in face sizes (-1: off)\n"
          "  --eye-grey F     ... and their colour taken towards grey, 0..1 (-1: off)\n"
          "  --eye-dark F     the photo's eye openings darkened by the drawn eyes' brightness ratio ^F (-1: off)\n"
          "  --eye-book N     diagnostic: the kept openings treated as skin (1 shading, 2 original's coverage,\n"
          "                   8 model eyes at the gentle rendering; bits)\n"
          "  --ladder 1 --strong-from N   the identity-first redraw ladder\n"
          "  --hard-from N    default ladder: natural strong draws until N draws failed, then heavy (off; e.g. 6)\n"
          "  --flat-rungs N   flattened last rungs before the filter (default: none)\n"
          "  --flat-sigma F --flat-amount F   their band (face sizes) and the first one's strength\n"
          "  --last-rungs N   adults whose draws all failed on identity: N more draws before the filter (9; -1: none)\n"
          "  --last-mode M    ... 1 at the last rung's strength, more anti-face candidates; 2 climbing on; 3 at the\n"
          "                   first strong rung's strength, more candidates (default 3)\n"
          "  --last-outline F ... identity shape weight on the mesh outline (default 1; -1: every draw's, 0.6)\n"
          "  --relaxed-strong Y  synthetic fallback: a strong draw counts Y years further off (5; -1: main's)\n"
          "  --child-relaxed Y   a child's synthetic fallback only from a draw read under Y years (18; -1: off)\n"
          "  --unlinked N     identity draws: 0 the anti-face push (default), 1 unlinkable then anti-face for the\n"
          "                   last third, 2 always unlinkable (docs/anonymization.md, \"Linkability\")\n"
          "  --target-unlit 1 divide the target's own light out before projecting its codes (looks12; off)\n"
          "  --attack-all N  the attacker's upright square also for uncut faces: 1 all, -1 none (before attack14),\n"
          "                   0 (default) those turned by 20 degrees or more\n"
          "  --leap F         a gentle draw rejected F gaps over a threshold: the next is the first strong rung (off; 0.8 measured)\n"
          "  --jitter-skip F  skip a draw's jittered alignments when F x the measured jitter lift below every threshold (off; >= 1.5)\n"
          "  --pose-tol F     a draw re-detected more than F degrees of yaw or pitch off is drawn again (off; 10 measured)\n"
          "  --pose-fade F    the target's own shape codes fade out from 20 to F degrees of yaw (off; e.g. 40)\n"
          "  --turn-light F   strong rung: faces turned by F degrees of yaw or more keep the gentle light (off; e.g. 25)\n"
          "  --shade-cap F    the drawn texture's excess over its low-pass: one grey gain, at most F (1; -1 off: per channel)\n"
          "  --lips-whole N   1: the lips' middle rings move with the lip group (the default); -1 off (main's before mouth30)\n"
          "  --mouth-crease F the drawn texture's dark relief beside the lip corners lifted to its low-pass by F (0..1)\n"
          "  --tone-match F   strong rung: the new skin's mean colour and broad contrast brought to the photo's skin\n"
          "                   under it with strength F (default 1; -1 off: main's before pale34)\n"
          "  --strong-contrast F  strong rung: a draw whose skin varies more than F x the photo's across the skin\n"
          "                   probes is drawn again (default 1.6; -1 off: before stop 35)\n"
          "  --lens-bright F  the sunglasses test holds only when the openings' bright tenth is below F x the skin\n"
          "                   (default 0.35; -1 off: before stop 35)\n"
          "  --lens-ring F    ... and only when the skin around the lids is below F (default 0.5; -1 off: before stop 37)\n"
          "  --tone-codes F   every draw's texture keeps its mean colour within F x the target's (> 1; -1 off)\n"
          "  --strong-unlit N strong rung: 1 the drawn texture's broad light made the mean face's (-1 off)\n"
          "  --light-keep N   the draws' light and tone codes are the target's own (the push moves the others):\n"
          "                   1 every draw but the last-resort ones, 2 the strong draws but those, 3 every draw (-1 off)\n"
          "  --light-flat F   ... with the tone codes (components at least F a flat colour shift; default 0.5; -1: side light only)\n"
          "  --push-metric F  the anti-face push and the candidates' choice follow the model's recognizer metric, 0..1\n"
          "                   (the model must have one; default 1; -1: off)\n"
          "  --child-gap F    a child's dissimilarity thresholds raised by F of the gap to the match threshold (< 0 off)\n"
          "  --child-push N   a child's draws: 1 the anti-face push, 2 its own shape taken out, 3 both (default off)\n"
          "  --child-last N   a child's last-resort draws before the filter (default off; -1 none)\n"
          "  --child-strong N -1: a child is not drawn on the strong rung (its draws end there, then the fallbacks;\n"
          "                   the default since stop 49); 1: its strong draws are made and published (before)\n"
          "  --veil F         before the filter, the nearest rejected draw blurred (sigma F face sizes; default off)\n"
          "  --warp-power P   the background warp's Shepard weights 1 / d^P, 4 (default) or 2 (measured, off)\n"
          "  --lap-max F      a draw whose skin Laplacian variance is over F x the photo's is drawn again\n"
          "                   (default off; e.g. 2)\n"
          "  --age-detail F   after a draw read too old the next draws take the detail layer x F, / F after one read\n"
          "                   too young (default 0.6; -1 off)\n"
          "  --detail-ages N  a model with age-grouped detail maps: the group of the original's age (1, default),\n"
          "                   of the age asked of the draw (2), any map (-1)\n"
          "  --attr-stay N    up to N draws that removed the identity but missed only age or gender stay on their\n"
          "                   rung of the redraw ladder (default off; e.g. 3)\n"
          "  --warp-loop S    the warp interpolates along the outline loop, S times denser (default 1: off; e.g. 4)\n"
          "  --shape-sym N    1: a draw's shape deltas made left-right symmetric (default on; -1 off)\n"
          "  --age-soft Y     a passing draw whose age misses by more than Y years gets more draws (off by default)\n"
          "  --age-draws N    ... at most N more (default 2; -1 off)\n"
          "  --age-step F     ... each asking the model for an age moved by -F x the miss (default 0.8; -1: not moved)\n"
          "  --age-stretch S  the age asked of the model moved away from its mean age, x S (default 1.5; -1 off)\n"
          "  --forehead-band N 1: no step in the drawn texture across the mid-forehead ring (default off; -1 off)\n"
          "  --brow-dark F    a drawn texture's brows no lighter than F x the skin above them (default 0.9; -1 off)\n"
          "  --brow-gate G    ... only brows at least G x as light as that skin (default 1; -1: every brow)\n"
          "  --socket-lift F  strong rung: the drawn texture's eye sockets no darker than F x the mean face's\n"
          "                   (0.85 measured; default off, as main's before looks35)\n"
          "  --strong-eyes N  strong rung: 1 keeps the photo's eyes, -1 the model's (default: model's)\n"
          "  --strong-shape F / --strong-shade F / --strong-fine F  strong rung's shape gain, shading low-pass and\n"
          "                   grain, x the gentle rung's (defaults 1.6 / 3 / 0.5)\n"
          "  --chroma-match N -1: the render's chroma detail is never brought to a grey or toned photo's (main before\n"
          "                   grey22); 1: around the photo's low-passed chroma only, no tone curve (default: both)\n"
          "  --refit N        -1: a mesh off its detection's points is not refitted from the check analyser's face\n"
          "                   there (main before fall30; default: refitted)\n"
          "  --refit-nomesh N -1: a record without a mesh is not refitted that way (main before prod31; default:\n"
          "                   refitted)\n"
          "  --judge NAME     a third judge in the guarantee (a registry recognizer, e.g. mobilefacenet-tflite;\n"
          "                   default none); its rejections are 'J' / 'j' in the draws lines\n"
          "  --judge-dissim F ... its dissimilarity threshold (default the registry's; only a lower one is taken)\n"
          "  --judge-jitter N ... 1: also at the guarantee's jittered alignments (default: not)\n"
          "  --rel-chroma N   1: the features' colour relative to the skin scaled to the photo's skin (rc52); -1 off\n"
          "  --chroma-clamp T each rendered pixel's colour within T (chromaticity) of the photo's skin there (cc53); -1 off\n"
          "  --lens-fill R    sunglasses: the lenses grown from the eye zone up to R eye distances stay in front (lens53)\n"
          "  --forehead-seam F the drawn texture's step at the brows' ring evened out by F (0..1; -1 off; seam54)\n"
          "  --strict N       1: the strict privacy level (mf_anon_opts.strict: its judge, and draws that climb on\n"
          "                   age misses); 0 the standard level (default)\n"
          "  -h, --help       this text\n",
          f);
}

int main(int argc, char **argv) {
    int nmax = MAXN, every = 1, all_faces = 0, tries = 0, expr = 0, strict = 0; /* tries 0: MF_ANON_DEFAULT_TRIES */
    float gender_conf = 0; /* 0: the anonymizer's default (0.6) */
    int dump_h = 256;
    const char *dump = NULL, *model = "data/identity/synthetic-v1.mfid";
    unsigned long long seed0 = 1;
    mf_anon_method method = MF_ANON_SYNTH;
    mf_anon_tuning tu = {0};
    char **paths = malloc(sizeof(char *) * MAXN);
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(s, "--n") && more) nmax = atoi(argv[++i]);
        else if (!strcmp(s, "--every") && more) every = atoi(argv[++i]);
        else if (!strcmp(s, "--dump") && more) dump = argv[++i];
        else if (!strcmp(s, "--dump-height") && more) {
            dump_h = atoi(argv[++i]);
            if (dump_h < 16 || dump_h > 2048) {
                fprintf(stderr, "eval_anon: --dump-height takes 16..2048\n");
                return 2;
            }
        }
        else if (!strcmp(s, "--seed") && more) seed0 = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(s, "--all-faces")) all_faces = 1;
        else if (!strcmp(s, "--expr")) expr = 1;
        else if (!strcmp(s, "--tries") && more) tries = atoi(argv[++i]);
        else if (!strcmp(s, "--gender-conf") && more) gender_conf = (float)atof(argv[++i]);
        else if (!strcmp(s, "--model") && more) model = argv[++i];
        else if (!strcmp(s, "--shade") && more) tu.shading_sigma = (float)atof(argv[++i]);
        else if (!strcmp(s, "--shape") && more) tu.shape_gain = (float)atof(argv[++i]);
        else if (!strcmp(s, "--shade-move") && more) tu.shade_move = (float)atof(argv[++i]);
        else if (!strcmp(s, "--sh-light") && more) tu.sh_light = (float)atof(argv[++i]);
        else if (!strcmp(s, "--sh-chroma") && more) tu.sh_chroma = atoi(argv[++i]);
        else if (!strcmp(s, "--feature-hold") && more) tu.feature_hold = (float)atof(argv[++i]);
        else if (!strcmp(s, "--feature-dark") && more) tu.feature_dark = (float)atof(argv[++i]);
        else if (!strcmp(s, "--feature-pick") && more) tu.feature_pick = (float)atof(argv[++i]);
        else if (!strcmp(s, "--detail-beard") && more) tu.detail_beard = (float)atof(argv[++i]);
        else if (!strcmp(s, "--philtrum-floor") && more) tu.philtrum_floor = (float)atof(argv[++i]);
        else if (!strcmp(s, "--feature-pick-near") && more) tu.feature_pick_near = (float)atof(argv[++i]);
        else if (!strcmp(s, "--eye-lid") && more) tu.eye_lid = (float)atof(argv[++i]);
        else if (!strcmp(s, "--eye-uv") && more) tu.eye_uv = (float)atof(argv[++i]);
        else if (!strcmp(s, "--one-pass") && more) tu.one_pass = atoi(argv[++i]);
        else if (!strcmp(s, "--one-pass-dissim") && more) tu.one_pass_dissim = (float)atof(argv[++i]);
        else if (!strcmp(s, "--eye-soften") && more) tu.eye_soften = (float)atof(argv[++i]);
        else if (!strcmp(s, "--eye-grey") && more) tu.eye_grey = (float)atof(argv[++i]);
        else if (!strcmp(s, "--eye-dark") && more) tu.eye_dark = (float)atof(argv[++i]);
        else if (!strcmp(s, "--eye-book") && more) tu.eye_book = atoi(argv[++i]);
        else if (!strcmp(s, "--spots") && more) tu.spots = (float)atof(argv[++i]);
        else if (!strcmp(s, "--fine") && more) tu.fine_amp = (float)atof(argv[++i]);
        else if (!strcmp(s, "--tex") && more) tu.tex_gain = (float)atof(argv[++i]);
        else if (!strcmp(s, "--detail") && more) tu.detail_amp = (float)atof(argv[++i]);
        else if (!strcmp(s, "--eyes") && more) tu.keep_eyes = atoi(argv[++i]);
        else if (!strcmp(s, "--margin") && more) tu.accept_margin = (float)atof(argv[++i]);
        else if (!strcmp(s, "--extra") && more) tu.extra_draws = atoi(argv[++i]);
        else if (!strcmp(s, "--outline") && more) tu.outline_w = (float)atof(argv[++i]);
        else if (!strcmp(s, "--jaw") && more) tu.jaw_replace = (float)atof(argv[++i]);
        else if (!strcmp(s, "--ladder") && more) tu.ladder = atoi(argv[++i]);
        else if (!strcmp(s, "--strong-from") && more) tu.strong_from = atoi(argv[++i]);
        else if (!strcmp(s, "--hard-from") && more) tu.hard_from = atoi(argv[++i]);
        else if (!strcmp(s, "--away") && more) tu.away = (float)atof(argv[++i]);
        else if (!strcmp(s, "--flat-rungs") && more) tu.flat_rungs = atoi(argv[++i]);
        else if (!strcmp(s, "--flat-sigma") && more) tu.flat_sigma = (float)atof(argv[++i]);
        else if (!strcmp(s, "--flat-amount") && more) tu.flat_amount = (float)atof(argv[++i]);
        else if (!strcmp(s, "--last-rungs") && more) tu.last_rungs = atoi(argv[++i]);
        else if (!strcmp(s, "--last-mode") && more) tu.last_mode = atoi(argv[++i]);
        else if (!strcmp(s, "--last-outline") && more) tu.last_outline = (float)atof(argv[++i]);
        else if (!strcmp(s, "--relaxed-strong") && more) tu.relaxed_strong = (float)atof(argv[++i]);
        else if (!strcmp(s, "--child-relaxed") && more) tu.child_relaxed_age = (float)atof(argv[++i]);
        else if (!strcmp(s, "--unlinked") && more) tu.unlinked = atoi(argv[++i]);
        else if (!strcmp(s, "--target-unlit") && more) tu.target_unlit = atoi(argv[++i]);
        else if (!strcmp(s, "--attack-all") && more) tu.attack_all = atoi(argv[++i]);
        else if (!strcmp(s, "--leap") && more) tu.leap = (float)atof(argv[++i]);
        else if (!strcmp(s, "--jitter-skip") && more) tu.jitter_skip = (float)atof(argv[++i]);
        else if (!strcmp(s, "--pose-tol") && more) tu.pose_tolerance = (float)atof(argv[++i]);
        else if (!strcmp(s, "--pose-fade") && more) tu.pose_fade = (float)atof(argv[++i]);
        else if (!strcmp(s, "--turn-light") && more) tu.turn_light = (float)atof(argv[++i]);
        else if (!strcmp(s, "--shade-cap") && more) tu.shade_cap = (float)atof(argv[++i]);
        else if (!strcmp(s, "--lips-whole") && more) tu.lips_whole = atoi(argv[++i]);
        else if (!strcmp(s, "--mouth-crease") && more) tu.mouth_crease = (float)atof(argv[++i]);
        else if (!strcmp(s, "--strong-eyes") && more) tu.strong_eyes = atoi(argv[++i]);
        else if (!strcmp(s, "--strong-shape") && more) tu.strong_shape = (float)atof(argv[++i]);
        else if (!strcmp(s, "--strong-shade") && more) tu.strong_shade = (float)atof(argv[++i]);
        else if (!strcmp(s, "--tone-match") && more) tu.tone_match = (float)atof(argv[++i]);
        else if (!strcmp(s, "--strong-contrast") && more) tu.strong_contrast = (float)atof(argv[++i]);
        else if (!strcmp(s, "--lens-bright") && more) tu.lens_bright = (float)atof(argv[++i]);
        else if (!strcmp(s, "--lens-ring") && more) tu.lens_ring = (float)atof(argv[++i]);
        else if (!strcmp(s, "--tone-codes") && more) tu.tone_codes = (float)atof(argv[++i]);
        else if (!strcmp(s, "--strong-unlit") && more) tu.strong_unlit = atoi(argv[++i]);
        else if (!strcmp(s, "--light-keep") && more) tu.light_keep = atoi(argv[++i]);
        else if (!strcmp(s, "--light-flat") && more) tu.light_flat = (float)atof(argv[++i]);
        else if (!strcmp(s, "--push-metric") && more) tu.push_metric = (float)atof(argv[++i]);
        else if (!strcmp(s, "--child-gap") && more) tu.child_gap = (float)atof(argv[++i]);
        else if (!strcmp(s, "--child-push") && more) tu.child_push = atoi(argv[++i]);
        else if (!strcmp(s, "--child-last") && more) tu.child_last = atoi(argv[++i]);
        else if (!strcmp(s, "--child-strong") && more) tu.child_strong = atoi(argv[++i]);
        else if (!strcmp(s, "--veil") && more) tu.veil = (float)atof(argv[++i]);
        else if (!strcmp(s, "--warp-power") && more) tu.warp_power = atoi(argv[++i]);
        else if (!strcmp(s, "--attr-stay") && more) tu.attr_stay = atoi(argv[++i]);
        else if (!strcmp(s, "--lap-max") && more) tu.lap_max = (float)atof(argv[++i]);
        else if (!strcmp(s, "--age-detail") && more) tu.age_detail = (float)atof(argv[++i]);
        else if (!strcmp(s, "--detail-ages") && more) tu.detail_ages = atoi(argv[++i]);
        else if (!strcmp(s, "--warp-loop") && more) tu.warp_loop = atoi(argv[++i]);
        else if (!strcmp(s, "--shape-sym") && more) tu.shape_sym = atoi(argv[++i]);
        else if (!strcmp(s, "--age-soft") && more) tu.age_soft = (float)atof(argv[++i]);
        else if (!strcmp(s, "--age-draws") && more) tu.age_draws = atoi(argv[++i]);
        else if (!strcmp(s, "--age-step") && more) tu.age_step = (float)atof(argv[++i]);
        else if (!strcmp(s, "--age-stretch") && more) tu.age_stretch = (float)atof(argv[++i]);
        else if (!strcmp(s, "--forehead-band") && more) tu.forehead_band = atoi(argv[++i]);
        else if (!strcmp(s, "--brow-dark") && more) tu.brow_dark = (float)atof(argv[++i]);
        else if (!strcmp(s, "--brow-gate") && more) tu.brow_gate = (float)atof(argv[++i]);
        else if (!strcmp(s, "--socket-lift") && more) tu.socket_lift = (float)atof(argv[++i]);
        else if (!strcmp(s, "--strong-fine") && more) tu.strong_fine = (float)atof(argv[++i]);
        else if (!strcmp(s, "--chroma-match") && more) tu.chroma_match = atoi(argv[++i]);
        else if (!strcmp(s, "--refit") && more) tu.refit = atoi(argv[++i]);
        else if (!strcmp(s, "--refit-nomesh") && more) tu.refit_nomesh = atoi(argv[++i]);
        else if (!strcmp(s, "--judge") && more) tu.judge = argv[++i];
        else if (!strcmp(s, "--strict") && more) strict = atoi(argv[++i]);
        else if (!strcmp(s, "--rel-chroma") && more) tu.rel_chroma = atoi(argv[++i]);
        else if (!strcmp(s, "--chroma-clamp") && more) tu.chroma_clamp = (float)atof(argv[++i]);
        else if (!strcmp(s, "--lens-fill") && more) tu.lens_fill = (float)atof(argv[++i]);
        else if (!strcmp(s, "--forehead-seam") && more) tu.forehead_seam = (float)atof(argv[++i]);
        else if (!strcmp(s, "--judge-dissim") && more) tu.judge_dissim = (float)atof(argv[++i]);
        else if (!strcmp(s, "--judge-jitter") && more) tu.judge_jitter = atoi(argv[++i]);
        else if (!strcmp(s, "--method") && more) {
            const char *m = argv[++i];
            method = !strcmp(m, "blur") ? MF_ANON_BLUR : !strcmp(m, "pixelate") ? MF_ANON_PIXELATE : !strcmp(m, "solid") ? MF_ANON_SOLID : MF_ANON_SYNTH;
        } else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 0;
        } else if (s[0] == '-') {
            fprintf(stderr, "eval_anon: unknown option or missing value: %s\n", s);
            usage(stderr);
            return 2;
        } else if (ev_add_photos(s, paths, &np, MAXN))
            return 2;
    }
    if (nmax < 1 || nmax > MAXN) {
        fprintf(stderr, "eval_anon: --n must be 1 to %d (the limit of faces this eval holds)\n", MAXN);
        return 2;
    }
    if (np == 0) {
        fprintf(stderr, "eval_anon: no photo given\n");
        usage(stderr);
        return 2;
    }
    if (dump) mkdir(dump, 0777);
    mf_nn_pool_t *pool = NULL;
    mf_nn_pool_create(2, &pool);
    mf_face_analyzer_t *an;
    mf_face_analyzer_opts ao = {.pool = pool};
    if (mf_face_analyzer_create(tu_models_dir(), &ao, &an)) {
        fprintf(stderr, "eval_anon: %s\n", mf_error_get());
        return 3;
    }
    mf_anon_opts o = {.models_root = tu_models_dir(), .identity_model = model, .an = an,
                      .pool = pool, .tuning = tu, .max_tries = tries, .gender_confidence = gender_conf,
                      .strict = strict > 0};
    mf_anon_t *A;
    if (mf_anon_create(&o, &A)) {
        fprintf(stderr, "eval_anon: %s\n", mf_error_get());
        return 3;
    }
    ev_judges *judges = NULL; /* (mouth30) --expr: the expression judge of `mfmc eval` before / after */
    if (expr && ev_judges_create(tu_models_dir(), &judges)) {
        fprintf(stderr, "eval_anon: %s\n", mf_error_get());
        return 3;
    }
    mf_face_recognizer_t *rec[NREC];
    float thr[NREC];
    int dims[NREC];
    for (int r = 0; r < NREC; r++) {
        if (mf_face_recognizer_create(tu_models_dir(), rec_names[r], pool, &rec[r])) {
            fprintf(stderr, "eval_anon: %s\n", mf_error_get());
            return 3;
        }
        thr[r] = mf_face_recognizer_info_of(rec[r])->match_threshold, dims[r] = mf_face_recognizer_info_of(rec[r])->dim;
    }
    float *eo[NREC], *ea[NREC];
    for (int r = 0; r < NREC; r++) eo[r] = calloc((size_t)MAXN * dims[r], 4), ea[r] = calloc((size_t)MAXN * dims[r], 4);
    static float ms_draw_r[MAXN], ms_draw_c[MAXN], fsz[MAXN];
    int nsmall = 0;
    static float ms_small[MAXN];
    /* (mouth30) the mouth's shape before / after (mf_face_mouth_shape): relative width change, corner height change;
     * per published face's rung (0 gentle, 1 strong); the expression judge's class kept (--expr) */
    static float mwid[2][MAXN], mcor[2][MAXN];
    int nm[2] = {0, 0}, expr_n[2] = {0, 0}, expr_kept[2] = {0, 0}, strong_of[MAXN];
    static float ms[MAXN], dyaw[MAXN], dpitch[MAXN], droll[MAXN], deye[MAXN], dmouth[MAXN], ddet[MAXN], dmesh[MAXN],
        lap[MAXN];
    /* (pale34) the published (drawn) faces' skin tone against the photo's (tu_skin_tone), per rung (0 gentle, 1 strong):
     * |mean luminance change|, chroma change, |log2 of the broad contrast ratio|; (stop 50) the saturation change (the
     * mean skin chroma's length after minus before) with the photo's own skin luminance (ty) */
    static float tdy[2][MAXN], tdc[2][MAXN], tlr[2][MAXN], tds[2][MAXN], ty[2][MAXN];
    int nt[2] = {0, 0};
    long embeddings = 0; /* (jit30) recognizer embeddings of the anonymizer (mf_anon_result.embeddings) */
    int jit_skipped = 0; /* published faces whose jittered alignments were skipped (tuning.jitter_skip) */
    int draws = 0, strong = 0, flat = 0, synth_fb = 0; /* draws made; published faces rendered strong / flattened
                                                          (the last rungs); synthetic fallbacks */
    int n = 0, detected = 0, gender_n = 0, gender_kept = 0, accepted = 0, fallback = 0, verif[NREC] = {0};
    int jit_match[NJREC] = {0}, jit_dis[NJREC] = {0}; /* worst attacker alignment: >= match / dissimilarity thr */
    float jit_max[NJREC] = {-2, -2};
    int has_after[MAXN];
    double age_err = 0;
    int age_n = 0, nd = 0;
    mf_face faces[MAXF], after[MAXF];
    for (int pi = 0; pi < np && n < nmax; pi += every) {
        mf_img img, res;
        int nf = 0;
        if (mf_img_load(paths[pi], NULL, &img, NULL)) { /* said, so a short run is not mistaken for a full one */
            fprintf(stderr, "eval_anon: %s: skipped: %s\n", paths[pi], mf_error_get());
            continue;
        }
        if (mf_face_analyze(an, &img, faces, MAXF, &nf) || nf == 0) {
            mf_img_free(&img);
            continue;
        }
        int c = tu_box_nearest_centre(&faces[0].det, 0, 0, 0, NULL);
        (void)c;
        /* the central face (or all faces with --all-faces) */
        int lo = 0, hi = nf;
        if (!all_faces) {
            mf_face_box bx[MAXF];
            for (int k = 0; k < nf; k++) bx[k] = faces[k].det;
            lo = tu_box_nearest_centre(bx, nf, img.w, img.h, NULL), hi = lo + 1;
        }
        if (mf_img_init(&res, img.w, img.h, 3)) {
            fprintf(stderr, "eval_anon: %s: %s; stopping after %d faces\n", paths[pi], mf_error_get(), n);
            mf_img_free(&img);
            break;
        }
        memcpy(res.data, img.data, (size_t)img.w * img.h * 3);
        int first = n; /* records first .. n-1 are this photo's faces (fewer than hi - lo when --n cuts in) */
        for (int k = lo; k < hi && n < nmax; k++) {
            mf_face *f = &faces[k];
            float p5[5][2];
            mf_face_5pt(f, p5);
            for (int r = 0; r < NREC; r++) mf_face_recognizer_embed(rec[r], &img, p5, eo[r] + (size_t)n * dims[r]);
            mf_anon_result R;
            if (mf_anon_face(A, &res, f, method, seed0 + (uint64_t)n * 7919, NULL, &R)) {
                fprintf(stderr, "eval_anon: %s: %s\n", paths[pi], mf_error_get());
                continue;
            }
            ms[n] = (float)R.ms;
            ms_draw_r[n] = R.tries ? (float)(R.ms_render / R.tries) : 0, ms_draw_c[n] = R.tries ? (float)(R.ms_check / R.tries) : 0;
            fsz[n] = fmaxf(f->lm.box.w, f->lm.box.h);
            if (fsz[n] <= 256) ms_small[nsmall++] = (float)R.ms;
            if (getenv("BENCH_VERBOSE"))
                fprintf(stderr, "%s: %s%s tries %d ms %.0f (render %.0f check %.0f) age %.0f %s %.3f %s %.3f yaw %.1f -> %.1f pitch %.1f -> %.1f %s\n", paths[pi],
                        R.decision == MF_ANON_ACCEPTED ? "ok" : "FALLBACK", R.flat ? " flat" : R.last_rung ? " last" : R.strong ? " strong" : "", R.tries, R.ms, R.ms_render, R.ms_check,
                        f->attr.age, mf_anon_recognizer_info(A, 0)->name, R.sim[0], mf_anon_recognizer_info(A, 1)->name, R.sim[1],
                        f->lm.yaw, R.yaw_after, f->lm.pitch, R.pitch_after, R.note);
            if (getenv("BENCH_VERBOSE") && R.draws[0]) { /* (draws20) what each draw met (mf_anon_result.draws) */
                fprintf(stderr, "  draws %s:", R.draws);
                for (int q = 0; R.draws[q]; q++) fprintf(stderr, " %.3f", R.draw_val[q]);
                fprintf(stderr, "; age");
                for (int q = 0; R.draws[q]; q++) fprintf(stderr, " %.0f", R.draw_age[q]);
                fprintf(stderr, "; rung");
                for (int q = 0; R.draws[q]; q++) fprintf(stderr, " %d", R.draw_rung[q]);
                fprintf(stderr, "\n");
            }
            accepted += R.decision == MF_ANON_ACCEPTED, fallback += R.decision == MF_ANON_FALLBACK;
            if (getenv("BENCH_VERBOSE")) { /* (jit30) tuning.jitter_skip; (judge34) the anonymizer's other judges */
                fprintf(stderr, "  jitter skipped %d; embeddings %d", R.jitter_skipped, R.embeddings);
                for (int q = 2; q < mf_anon_recognizer_count(A); q++)
                    fprintf(stderr, "; judge %s %.3f", mf_anon_recognizer_info(A, q)->name, R.sim[q]);
                fprintf(stderr, "\n");
            }
            draws += R.tries, strong += R.strong, flat += R.flat;
            jit_skipped += R.jitter_skipped, embeddings += R.embeddings;
            synth_fb += R.decision == MF_ANON_FALLBACK && R.method == MF_ANON_SYNTH;
            has_after[n] = 0;
            strong_of[n] = R.strong != 0;
            lap[n] = NAN;
            if (R.decision == MF_ANON_ACCEPTED || R.method == MF_ANON_SYNTH) {
                float dy, dc, ratio, dsat, y0;
                int sg = R.strong != 0;
                tu_skin_tone(&img, &res, f, &dy, &dc, &ratio, &dsat, &y0);
                tdy[sg][nt[sg]] = fabsf(dy), tdc[sg][nt[sg]] = dc, tlr[sg][nt[sg]] = fabsf(log2f(fmaxf(ratio, 1e-3f)));
                tds[sg][nt[sg]] = dsat, ty[sg][nt[sg]] = y0, nt[sg]++;
                if (getenv("BENCH_VERBOSE"))
                    fprintf(stderr, "  tone %d %s: dY %.1f dC %.1f contrast %.2f dS %.1f Y %.0f%s\n", n, paths[pi], dy, dc, ratio, dsat, y0,
                            sg ? " strong" : "");
            }
            n++;
        }
        /* re-analyse the whole anonymized photo once, then match faces */
        int na = 0;
        mf_face_analyze(an, &res, after, MAXF, &na);
        for (int k = lo, idx = first; k < hi && idx < n; k++, idx++) {
            mf_face *f = &faces[k];
            int bi = ev_face_found_again(after, na, f->has_landmarks ? &f->lm.box : &f->det);
            float p5[5][2];
            if (bi >= 0) {
                mf_face *g = &after[bi];
                detected++;
                has_after[idx] = 1;
                mf_face_5pt(g, p5);
                dyaw[nd] = fabsf(g->lm.yaw - f->lm.yaw), dpitch[nd] = fabsf(g->lm.pitch - f->lm.pitch);
                droll[nd] = fabsf(g->lm.roll - f->lm.roll);
                deye[nd] = 0.5f * (fabsf(g->lm.eye_open[0] - f->lm.eye_open[0]) + fabsf(g->lm.eye_open[1] - f->lm.eye_open[1]));
                dmouth[nd] = fabsf(g->lm.mouth_open - f->lm.mouth_open);
                {
                    float w0, c0, w1, c1;
                    int sg = strong_of[idx];
                    mf_face_mouth_shape(&f->lm, &w0, &c0), mf_face_mouth_shape(&g->lm, &w1, &c1);
                    mwid[sg][nm[sg]] = w0 > 0 ? fabsf(w1 / w0 - 1) : 0, mcor[sg][nm[sg]] = fabsf(c1 - c0), nm[sg]++;
                    if (getenv("BENCH_VERBOSE"))
                        fprintf(stderr, "  mouth %d %s: width %.3f -> %.3f corner %.3f -> %.3f%s\n", idx, paths[pi], w0, w1, c0, c1,
                                sg ? " strong" : "");
                    ev_judgement jo, ja;
                    if (judges && !ev_judges_run(judges, &img, &f->det, &jo) && !ev_judges_run(judges, &res, &g->det, &ja))
                        expr_n[sg]++, expr_kept[sg] += jo.expr_class == ja.expr_class;
                }
                ddet[nd] = fabsf(g->det.score - f->det.score), dmesh[nd] = fabsf(g->lm.score - f->lm.score);
                double l0 = ev_skin_laplacian_var(&img, f), l1 = ev_skin_laplacian_var(&res, f); /* NAN without a mesh */
                lap[nd] = l0 > 0 ? (float)(l1 / l0) : NAN;
                if (getenv("BENCH_VERBOSE")) /* (stop 34) the looks measures per face: do they tell broken faces? */
                    fprintf(stderr, "  looks %d %s: detector %.3f -> %.3f mesh %.3f -> %.3f laplacian %.3f\n", idx, paths[pi],
                            f->det.score, g->det.score, f->lm.score, g->lm.score, lap[nd]);
                nd++;
                if (f->attr.age >= 0 && g->attr.age >= 0) age_err += fabs(g->attr.age - f->attr.age), age_n++;
                if (f->attr.gender != MF_GENDER_UNKNOWN) gender_n++, gender_kept += g->attr.gender == f->attr.gender;
                if (getenv("BENCH_VERBOSE")) /* (stop 31) which faces lose their gender, and how sure the original was */
                    fprintf(stderr, "  attr %d %s: gender %c p_male %.2f score %.2f -> %c p_male %.2f; age %.0f -> %.0f\n", idx,
                            paths[pi], "?MF"[f->attr.gender == MF_GENDER_MALE ? 1 : f->attr.gender == MF_GENDER_FEMALE ? 2 : 0],
                            f->attr.p_male, f->attr.gender_score,
                            "?MF"[g->attr.gender == MF_GENDER_MALE ? 1 : g->attr.gender == MF_GENDER_FEMALE ? 2 : 0], g->attr.p_male,
                            f->attr.age, g->attr.age);
            } else
                mf_face_5pt(f, p5); /* not found: embed where the face was */
            float sims[NREC];
            for (int r = 0; r < NREC; r++) {
                float *e = ea[r] + (size_t)idx * dims[r];
                mf_face_recognizer_embed(rec[r], &res, p5, e);
                float s = mf_face_similarity(e, eo[r] + (size_t)idx * dims[r], dims[r]);
                verif[r] += s >= thr[r];
                sims[r] = s;
            }
            /* the guaranteed recognizers at the attacker's alignments: both pictures at the same jittered points of
             * the original's five points; the worst counts */
            float wj[NJREC];
            for (int r = 0; r < NJREC; r++) {
                float po[5][2], pj[5][2], e1[1024], e2[1024];
                mf_face_5pt(f, po);
                wj[r] = -2;
                for (int q = 0; q < NJ; q++) {
                    ev_jitter5(po, q, pj);
                    if (mf_face_recognizer_embed(rec[r], &img, pj, e1) || mf_face_recognizer_embed(rec[r], &res, pj, e2)) continue;
                    wj[r] = fmaxf(wj[r], mf_face_similarity(e1, e2, dims[r]));
                }
                jit_match[r] += wj[r] >= thr[r];
                jit_dis[r] += wj[r] >= mf_face_recognizer_info_of(rec[r])->dissimilarity_threshold;
                jit_max[r] = fmaxf(jit_max[r], wj[r]);
            }
            if (getenv("BENCH_VERBOSE"))
                fprintf(stderr, "  face %d %s: sims %s %.3f %s %.3f %s %.3f %s %.3f %s %.3f %s %.3f; worst jitter %s %.3f %s %.3f\n",
                        idx, paths[pi], rec_names[0], sims[0], rec_names[1], sims[1], rec_names[2], sims[2], rec_names[3],
                        sims[3], rec_names[4], sims[4], rec_names[5], sims[5], rec_names[0], wj[0], rec_names[1], wj[1]);
            if (dump) dump_pair(dump, idx, &img, &res, f, dump_h);
        }
        mf_img_free(&img), mf_img_free(&res);
        if (n % 20 == 0) fprintf(stderr, "  %d faces\n", n);
    }
    if (n == MAXN) /* not silent: the figures below cover the first MAXN faces only */
        printf("LIMIT: stopped at %d faces, the most this eval holds; any later faces were not measured\n", MAXN);
    printf("faces %d: accepted %d, fallback %d (synthetic %d); detected again %d (%.2f%%)\n", n, accepted, fallback,
           synth_fb, detected, n ? 100.0 * detected / n : 0);
    printf("draws %d; published faces rendered strong %d, of them flattened (last rungs) %d\n", draws, strong, flat);
    printf("jitter alignments skipped on %d published faces; anonymizer embeddings %ld\n", jit_skipped, embeddings);
    for (int r = 0; r < NREC; r++) {
        int ident = 0;
        for (int i = 0; i < n; i++) {
            int bj = -1;
            float bs = -2;
            for (int j2 = 0; j2 < n; j2++) {
                float s = mf_face_similarity(ea[r] + (size_t)i * dims[r], eo[r] + (size_t)j2 * dims[r], dims[r]);
                if (s > bs) bs = s, bj = j2;
            }
            ident += bj == i;
        }
        printf("%-13s verification (>= %.4f): %d/%d (%.2f%%)   identification: %d/%d (%.2f%%)\n", rec_names[r], thr[r],
               verif[r], n, n ? 100.0 * verif[r] / n : 0, ident, n, n ? 100.0 * ident / n : 0);
    }
    for (int r = 0; r < NJREC; r++)
        printf("%-13s at the worst of %d attacker alignments: >= match %d/%d, >= dissimilarity %.4f %d/%d, max %.3f\n",
               rec_names[r], NJ, jit_match[r], n, mf_face_recognizer_info_of(rec[r])->dissimilarity_threshold, jit_dis[r],
               n, jit_max[r]);
    int nl = 0;
    for (int i = 0; i < nd; i++)
        if (isfinite(lap[i])) lap[nl++] = lap[i];
    int yaw8 = 0, pitch8 = 0;
    for (int i = 0; i < nd; i++) yaw8 += dyaw[i] > 8, pitch8 += dpitch[i] > 8;
    printf("pose error median yaw %.2f pitch %.2f roll %.2f deg; eye openness %.3f mouth %.3f (median abs)\n",
           median(dyaw, nd), median(dpitch, nd), median(droll, nd), median(deye, nd), median(dmouth, nd));
    /* median() sorted them: the 90th percentile and the largest */
    printf("pose error yaw > 8 deg %d/%d, 90th percentile %.2f, max %.2f; pitch > 8 deg %d/%d, 90th percentile %.2f\n", yaw8,
           nd, nd ? dyaw[(9 * nd) / 10 < nd ? (9 * nd) / 10 : nd - 1] : NAN, nd ? dyaw[nd - 1] : NAN, pitch8, nd,
           nd ? dpitch[(9 * nd) / 10 < nd ? (9 * nd) / 10 : nd - 1] : NAN);
    for (int sg = 0; sg < 2; sg++) {
        float mw_med = median(mwid[sg], nm[sg]), mc_med = median(mcor[sg], nm[sg]);
        int w10 = 0;
        for (int i = 0; i < nm[sg]; i++) w10 += mwid[sg][i] > 0.10f;
        printf("mouth shape (%s published faces, %d): width change median %.3f, > 10%% %d, 90th percentile %.3f; corner "
               "height change median %.3f, 90th percentile %.3f (mouth widths)",
               sg ? "strong" : "gentle", nm[sg], mw_med, w10, nm[sg] ? mwid[sg][(9 * nm[sg]) / 10] : NAN, mc_med,
               nm[sg] ? mcor[sg][(9 * nm[sg]) / 10] : NAN);
        if (judges) printf("; expression class kept %d/%d", expr_kept[sg], expr_n[sg]);
        printf("\n");
    }
    for (int sg = 0; sg < 2; sg++) {
        /* (stop 50) the saturation change of the darkest fifth of the photos' skins (by their own luminance) */
        static float dk[MAXN], yy[MAXN];
        memcpy(yy, ty[sg], sizeof(float) * nt[sg]);
        float ycut = nt[sg] ? (qsort(yy, nt[sg], sizeof(float), cmpf), yy[nt[sg] / 5]) : 0;
        int ndk = 0;
        for (int i = 0; i < nt[sg]; i++)
            if (ty[sg][i] <= ycut) dk[ndk++] = tds[sg][i];
        printf("skin tone against the photo's (%s drawn faces, %d): |dY| median %.2f, chroma change median %.2f, "
               "|log2 contrast ratio| median %.3f; saturation change median %.2f, the darkest fifth's (skin Y <= %.0f, %d) "
               "%.2f\n",
               sg ? "strong" : "gentle", nt[sg], median(tdy[sg], nt[sg]), median(tdc[sg], nt[sg]), median(tlr[sg], nt[sg]),
               median(tds[sg], nt[sg]), ycut, ndk, median(dk, ndk));
    }
    printf("age error mean %.2f y (%d); gender kept %d/%d (%.1f%%)\n", age_n ? age_err / age_n : 0, age_n, gender_kept,
           gender_n, gender_n ? 100.0 * gender_kept / gender_n : 0);
    printf("score change median: detector %.4f mesh %.4f; Laplacian variance ratio median %.3f\n", median(ddet, nd),
           median(dmesh, nd), median(lap, nl));
    printf("time per face (synthesis + blend + guarantee, all draws) median %.1f ms; faces <= 256 px: median %.1f ms "
           "(%d); per draw: render + blend %.1f ms, checks %.1f ms (medians)\n",
           median(ms, n), median(ms_small, nsmall), nsmall, median(ms_draw_r, n), median(ms_draw_c, n));
    (void)fsz;
    (void)has_after;
    for (int r = 0; r < NREC; r++) mf_face_recognizer_free(rec[r]), free(eo[r]), free(ea[r]);
    mf_anon_free(A);
    ev_judges_free(judges);
    mf_face_analyzer_free(an);
    mf_nn_pool_free(pool);
    for (int i = 0; i < np; i++) free(paths[i]);
    free(paths);
    return 0;
}
