/* mfmc anon: replaces a face by a synthetic face of nobody, with a checked guarantee.
 *
 * Two parts:
 *  - the identity model (mf_anon_model_*): a generative model of synthetic faces in a canonical texture space
 *    (PCA of 468-point mesh shape and of unwrapped texture, a linear age and gender read-out, a detail layer),
 *    trained on GAN-made faces of nobody (docs/identity-model.md) and stored in a small versioned binary file;
 *  - the anonymizer (mf_anon_*): draws an identity for one analysed face, shapes it to the face's own mesh,
 *    renders it with the photo's shading, blends it in (render.h), then checks the guarantee — every recognizer of
 *    the guarantee ensemble scores the result below its dissimilarity threshold against the original (and below its
 *    gallery threshold, a margin under its match threshold, against every gallery identity), age and gender stay
 *    within tolerance, the result is still detected as a face — and draws again or falls back to an
 *    identity-removing filter. A face is never left unchanged. Data flows one way: image -> render; face + render -> anon.
 * Errors follow core.h. */
#ifndef MFMC_ANON_H
#define MFMC_ANON_H

#include "mfmc/analyze.h"
#include "mfmc/gallery.h"
#include "mfmc/render.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- identity model */

/* Caps of the model file (checked before anything is allocated). */
enum {
    MF_ANON_MAX_TEX = 512,        /* texture side */
    MF_ANON_MAX_COMPONENTS = 256, /* PCA components of shape or texture */
    MF_ANON_MAX_TRIS = 4096,      /* triangles of the canonical mesh */
    MF_ANON_MAX_DETAIL = 64,      /* detail maps */
    MF_ANON_MAX_SECTIONS = 32,
    MF_ANON_MAX_METRIC_REC = 8, /* recognizers a model's metric is fitted on (mf_anon_train_opts.rec) */
};
#define MF_ANON_MODEL_MAX_BYTES ((size_t)64 << 20) /* a model file is at most 64 MiB */

typedef struct mf_anon_model mf_anon_model_t;

/* Loads an identity model from memory (format: src/anon/model.c and docs/identity-model.md). Every section size
 * is checked against the header's dimensions and the buffer length, every index and value against its range.
 * MF_ERR_FORMAT for a malformed file, MF_ERR_LIMIT over a cap, MF_ERR_NOMEM. */
int mf_anon_model_load_mem(const uint8_t *buf, size_t len, mf_anon_model_t **out);
/* mf_anon_model_load_mem of a file (at most MF_ANON_MODEL_MAX_BYTES). */
int mf_anon_model_load(const char *path, mf_anon_model_t **out);
/* Writes the model to path atomically (temporary file, then rename). */
int mf_anon_model_save(const mf_anon_model_t *m, const char *path);
void mf_anon_model_free(mf_anon_model_t *m);

/* What a model holds, for reports. */
typedef struct {
    int tex_side, n_tri, n_shape, n_tex, n_detail, n_train;
    float age_mean, age_min, age_max, male_fraction; /* over the training faces (by mfmc's own estimates) */
    float age_r2, gender_acc;                        /* fit of the linear read-outs on the training codes */
    int has_metric; /* (push38) the model carries a recognizer metric (tuning.push_metric) */
    int n_detail_ages; /* (age47) the detail maps' age groups (0: the maps are from faces of every age) */
} mf_anon_model_info;
void mf_anon_model_get_info(const mf_anon_model_t *m, mf_anon_model_info *info);

typedef struct {
    int tex_side;   /* canonical texture side (default 192) */
    int n_shape;    /* shape components kept (default 24) */
    int n_tex;      /* texture components kept (default 48) */
    int n_detail;   /* detail maps (default 8), per age group with detail_ages */
    int detail_ages; /* (age47) 1: n_detail maps per age group (MF_ANON_DETAIL_GROUPS, by the faces' own age
                        estimates), each tagged with its faces' mean age; 0: n_detail maps from faces of every age */
    int clean_texels; /* (ftex47) 1: the hair cleaning reads, tests and fills from every skin texel farther than
                         FEAT_NEAR (src/anon/train.c) from the features' own triangles (all three vertices feature
                         vertices, or an opening); 0: from the triangles that touch no feature vertex (the lower
                         forehead, whose triangles reach the brows, left out). The detail maps take grain from the
                         latter either way */
    float max_yaw;  /* training faces turned more than this (degrees) are skipped (default 20) */
    uint64_t seed;  /* for the detail-map mixing */
    /* (push38) recognizers (borrowed; NULL / 0: none) whose reading of the training faces gives the model its
     * recognizer metric: per recognizer a ridge map B from a face's whitened codes to its L2-normalised embedding,
     * the metric the sum of B B' / trace(B B') scaled to trace ks + kt (tuning.push_metric uses it) */
    mf_face_recognizer_t *const *rec;
    int n_rec;
} mf_anon_train_opts;

typedef struct {
    int n_images, n_used, n_no_face, n_turned, n_multi; /* multi: more than one face, the largest used */
} mf_anon_train_report;

/* Trains an identity model from the photos `paths` (each showing one synthetic face of nobody; callers pass only
 * faces they checked to be clean of accessories), analysed with `an` (mesh and attributes on). opts may be NULL.
 * MF_ERR_ARG when fewer than 8 faces are usable or opts->n_rec is outside 0..MF_ANON_MAX_METRIC_REC. The training
 * codes and embeddings are not kept in the model. */
int mf_anon_train(mf_face_analyzer_t *an, const char *const *paths, int n_paths, const mf_anon_train_opts *opts,
                  mf_anon_model_t **out, mf_anon_train_report *rep);

/* ---------------------------------------------------------------- anonymizer */

typedef enum {
    MF_ANON_SYNTH = 0, /* synthetic identity from the model (default) */
    MF_ANON_DONOR,     /* the most dissimilar donor face of the same age and gender (mf_anon_add_donor) */
    MF_ANON_BLUR,      /* baselines */
    MF_ANON_PIXELATE,
    MF_ANON_SOLID,
} mf_anon_method;

typedef enum {
    MF_ANON_ACCEPTED = 0, /* a synthetic face passed every check */
    MF_ANON_FALLBACK,     /* rendering failed or never passed: the face region was removed by the fallback filter */
    MF_ANON_BASELINE,     /* a baseline method was asked for */
    MF_ANON_COVERED,      /* (prod31, mf_anon_covered) nothing painted: a record the renderer cannot draw whose
                             identity the replacement of another face of the photo already removed (measured) */
} mf_anon_decision;

enum { MF_ANON_MAX_RECOGNIZERS = 8, MF_ANON_DEFAULT_TRIES = 9, MF_ANON_DRAW_LOG = 32 };
/* (strict51) mf_anon_opts.strict: the judge it adds to the guarantee and the judge's dissimilarity threshold */
#define MF_ANON_STRICT_JUDGE "mobilefacenet-tflite"
#define MF_ANON_STRICT_DISSIM 0.05f

/* Rendering knobs (0 = the measured default, docs/anonymization.md). */
typedef struct {
    float shading_sigma; /* low-pass of the photo's shading kept over the new face, in face sizes (0.10) */
    float shape_gain;    /* identity shape deltas, in training standard deviations (1.6) */
    float fine_amp;      /* the photo's finest band (grain) kept over the new skin, 0..1 (1) */
    float tex_gain;      /* spread of the texture codes (1) */
    float detail_amp;    /* amplitude of the model's detail layer (1) */
    int keep_eyes;       /* eye openings from the photo: 1 always, -1 never (from the identity model), 0 (default)
                            for the first half of the draws, then from the model (the mouth is always the photo's).
                            In the default ladder -1 makes every draw the strong rung (model eyes and 1.6x shape, 3x
                            shading low-pass, half the grain), 1 none (docs/anonymization.md, "Branch eyes19") */
    /* (anon10d) the choice among passing draws: a draw that passes every check is published at once only when
     * each ensemble similarity is at least accept_margin below its dissimilarity threshold, in units of that
     * recognizer's gap between its match and dissimilarity thresholds; otherwise up to extra_draws more draws are
     * made and the passing draw farthest below the thresholds is published (0: the default, off: the first passing
     * draw; accept_margin < 0 or extra_draws < 0: off; measured in docs/anonymization.md, e.g. 0.5 and 2) */
    float accept_margin;
    int extra_draws;
    float outline_w;     /* identity shape weight on the mesh outline (jaw, cheeks, forehead), 0..1 (0 or < 0: the
                            default BOUNDARY_W in src/anon/anon.c, 1 since stop 40; 0.6 before) */
    float jaw_replace;   /* how much of the target's own shape is taken out on the sides of the outline (jaw line,
                            cheeks; not the chin under the mouth), 0..1 (0: the default JAW_REPLACE, 1 since stop 40;
                            < 0: none, as before) */
    float away;          /* (anon10f) the first draw's push away from the target's own identity codes (anti-face),
                            in the training spread of its age and gender (0: 0.6); later draws push farther */
    int ladder;          /* (anon10f) the redraw ladder: 0 (default) every failed draw raises the identity push and the
                            rendering strength together, strong (model eyes, 1.6x shape, broad light) from a third of
                            the draws on; 1: identity first — failed draws draw identities farther from the target's
                            own (more candidates, the next detail map) at gentle strength, the strength climbs only
                            with ensemble rejections, strong only for the last third (measured with away 1.0 and left
                            off: more fallbacks, docs/anonymization.md) */
    int strong_from;     /* (anon10f) ladder 1: strong once this many draws failed (0: two thirds of max_tries) */
    int hard_from;       /* (looks13) ladder 0: the strong draws keep a natural look (the photo's light and grain,
                            1.15x shape) until this many draws failed, then the heavy strong rendering (e.g. 6: draws
                            4-6 natural, 7-9 heavy; <= 0: the default, heavy from the first strong draw; measured and
                            left off: better looks, more fallbacks and links, docs/anonymization.md) */
    /* (anon12a) the flattened last rungs: when every draw of the ladder was rejected on identity (or not detected
     * again) and none removed the identity, up to flat_rungs more draws are made whose coarse shading inside the
     * face ellipse (below flat_sigma face sizes: the eye sockets, cheek and jaw shadows the photo's light and the
     * target's own outline leave) is replaced by the new face's broad light, before the fallback filter. Every
     * check still runs on them (docs/anonymization.md, "Fallbacks (branch anon12a)"). */
    int flat_rungs;      /* 0: the default (none: they remove the identity but publish broken, aged faces), < 0: none */
    float flat_sigma;    /* the band taken out, in face sizes (0: the default) */
    float flat_amount;   /* how much of it the first flattened rung takes out, 0..1 (0: the default); the
                            following ones take it all */
    float relaxed_strong; /* (anon12a) the synthetic fallback (identity removed, age or gender missed) publishes the
                             draw closest in age and gender, a strong draw counted this many years further off: an
                             earlier, gentler draw is preferred when its miss is at most that much larger (0: 5,
                             < 0: none, main's before anon12a) */
    int unlinked;        /* identity draws (docs/anonymization.md, "Linkability across photos"): 0 or -1 (the
                            default) the anti-face push — every draw for one person shares -away x its own codes, so
                            the recognizers may link that person's anonymized photos (never to the original); 1
                            unlinkable for the first two thirds of the draws — a random identity kept in the
                            half-space away from the target's own codes, sharing only a small margin between photos —
                            then the anti-face for the last third; 2 unlinkable always. 1 and 2 link fewer photos
                            but cost fallbacks and strong-looking draws (measured, stop 12) */
    int target_unlit;    /* (looks12) 1: the target's own light is divided out of its unwrapped texture before its codes
                            are projected (the anti-face then no longer pushes towards the inverse of the photo's
                            light); 0 (default): off — it made the anti-face a purer function of the person: the
                            recognizers linked 42.5 % of people's two anonymized photos instead of 30 %, and it did not
                            visibly change the grey smudges it aimed at (docs/anonymization.md) */
    int cut_check;       /* (cut14) a face cut by the border (its box reaching outside the picture): 0 or 1 (the
                            default) with more than 35 % of its detection box outside, the fallback filter without a
                            draw; cut less, every draw that passes the other identity checks is also checked where
                            an attacker finds the half face: in the squares of twice (and three times) its box,
                            padded beyond the border and turned upright, at the plain analyser's alignments of the
                            original and of the result and at the result's re-detected one (docs/anonymization.md,
                            "Branch cut14"); -1 off (main's before cut14); 2 every cut face to the fallback filter
                            without a draw (measured and left off: costs the synthetic faces of the mildly cut) */
    int attack_all;      /* (attack14) the passing draws of an uncut face are also checked in the attacker's square
                            of twice its detection box turned upright (cut_check's check, one square): 0 (default)
                            for faces turned by 20 degrees or more (turn20: or turned away by 30 degrees of yaw or
                            more), 1 for every face, -1 for none (cut faces only, main before attack14;
                            docs/anonymization.md, "Branch attack14", "Branch turn20") */
    float shade_move;    /* (reid18) the photo's shading moves with the new geometry: the low-passed photo that lights
                            the new skin is read, at each pixel of the new face, where that surface point was in the
                            photo (the mesh's old vertex -> new vertex displacement, this fraction of it, 0..1), so
                            the original's relief (eye sockets, nose shadow, cheekbones) lies under the new features
                            instead of staying at the original's places (0: the default, see SHADE_MOVE in
                            src/anon/anon.c; < 0: off, main's before reid18; docs/anonymization.md, "Branch reid18") */
    float eye_soften;    /* (eyes18) the photo's eye openings (drawn in the gentle draws) are low-passed inside
                            themselves, sigma in face sizes (e.g. 0.012): the iris stays where it was (gaze) and the lid
                            opening is kept, the iris texture and lashes inside go (0: the default, see EYE_SOFTEN in
                            src/anon/anon.c; < 0: off; docs/anonymization.md, "Branch eyes18") */
    float eye_grey;      /* (eyes18) ... and their colour taken towards grey, 0..1 (0: the default EYE_GREY; < 0 off) */
    float eye_dark;      /* (eyes19) the photo's eye openings (drawn in the gentle draws) are darkened by the drawn
                            identity's own eye brightness: each draw measures the openings against the skin (mean
                            luminance over the opening triangles / median over the skin probes) in the drawn texture
                            and in the photo, and multiplies the photo's openings by (model / photo)^eye_dark, clamped to
                            EYE_DARK_MIN..1 (never lightened); the iris stays where it was (gaze). 0: the default, see
                            EYE_DARK in src/anon/anon.c; < 0: off; at most 2 (docs/anonymization.md, "Branch eyes19") */
    float leap;          /* (draws20) a gentle draw (before the ladder's strong rungs) rejected by an ensemble
                            recognizer at least leap x its gap (match - dissimilarity threshold) over its dissimilarity
                            threshold: the next draw is the ladder's first strong rung (the 4th draw's of 9); the face
                            keeps its max_tries draws, the ladder stopping at its last rung. 0: the default LEAP (off),
                            < 0: off; 0.8 is the measured setting; docs/anonymization.md, "Branch draws20" */
    int eye_book;        /* (eyes19, diagnostic; 0 off) while the photo's eye openings are kept, treat them in the render
                            as the model-eye path does, bit by bit: 1 as new skin for the shading (counted in the
                            render's low-pass, lit by the shading ratio, given the photo's grain, the relief and grain
                            gains), 2 in the original's skin coverage (the photo's low-pass and grain statistics);
                            8: the openings drawn from the model although the rung keeps the photo's (model eyes at
                            the gentle rendering) */
    float pose_tolerance; /* (turn20) a draw whose re-detected face is turned (yaw) or tilted (pitch) more than this
                            many degrees away from the original's is drawn again like a draw that missed the age (its
                            identity was removed: kept for the synthetic fallback, which prefers pose-keeping draws);
                            the redraw stays on the same rung of the ladder (a stronger rendering turns faces further).
                            0: the default POSE_TOLERANCE in src/anon/anon.c (off); < 0: off; 10 measured;
                            docs/anonymization.md, "Branch turn20") */
    float pose_fade;      /* (turn20) the target's own shape codes (the anti-face push and the shape taken out) fade
                            out between 20 degrees of yaw and this many (its turned mesh brought into the frontal frame
                            is pose, not identity: the codes' norm grows with yaw), e.g. 40. 0: the default, off (see
                            POSE_FADE_YAW in src/anon/anon.c: it cost identity removal on turned faces); < 0: off */
    float turn_light;     /* (turn20) a face turned by this many degrees of yaw or more keeps, on the strong rung, the
                            gentle rungs' light and grain (the photo's shading at the gentle low-pass, its full grain):
                            tried against the strong rung's broad light flattening the half-lit turned face towards
                            frontal, e.g. 25. 0: the default, off (see TURN_LIGHT_YAW in src/anon/anon.c, measured in
                            docs/anonymization.md "Branch turn20"); < 0: off */
    /* (strong21) the strong rung's rendering (the default ladder's draws after a third of them failed, and ladder 1's
     * last third): what it keeps of the photo and how far it moves the shape (docs/anonymization.md, "Branch
     * strong21"). Each 0: the default (STRONG_* in src/anon/ladder.c: main's model eyes, 1.6x shape, 3x shading
     * low-pass, half the grain). */
    int strong_eyes;      /* 1: the strong rung keeps the photo's eye openings (gaze) like the gentle rungs; 0 the
                             default, < 0: the model's eyes */
    float strong_shape;   /* the strong rung's shape gain, x the gentle rung's (0: the default; at most 3) */
    float strong_shade;   /* the strong rung's low-pass of the photo's shading, x the gentle rung's (0: the default;
                             1..10) */
    float strong_fine;    /* the strong rung's grain of the photo, x the gentle rung's (0: the default; 0..1) */
    float shade_cap;      /* (light22) the light step multiplies the render by the photo's shading ratio per channel;
                             where the drawn texture is lighter than its own low-pass, that excess takes one gain in
                             every channel, the grey (luminance) ratio, at most this (0.5..5): per channel, a ratio of
                             2.4 in blue turned a brown draw's light texels white on a pale, pink-lit photo (the white
                             glow of turned faces). 0: the default SHADE_CAP in src/anon/anon.c; < 0: off (the ratio
                             everywhere, main's before light22; docs/anonymization.md, "Branch light22") */
    /* (grey22) the new face's colour character: the rendered skin's chroma around the photo's (its tone curve, the
     * chroma as a quadratic function of the luminance over the face, or its low-passed chroma, whichever the photo
     * follows more closely) is scaled down when the photo's own face is much less colourful than the render (a
     * black-and-white or toned photo: a grey photo gets a grey face, a sepia one a sepia face). 0: the default, on
     * (see CHROMA_MATCH_LO/HI in src/anon/anon.c, docs/anonymization.md "Branch grey22"); 1: the low-passed chroma
     * only (the branch's first version: sepia only partly); < 0: off (main before grey22) */
    int chroma_match;
    /* (jit30) the jittered alignments of the guarantee (step 7, mf_anon_jitter5) skipped for a draw far below the
     * thresholds: when every ensemble similarity of a draw at the original's alignment is below that recognizer's
     * dissimilarity threshold by more than jitter_skip x the largest lift the jitters were measured to add (max over
     * the jitters minus the own-alignment similarity; JIT_LIFT_* in src/anon/anon.c), the draw's jittered embeddings
     * are not made, and the original's jittered embeddings only when some draw needs them. Never for a face cut by
     * the border, checked in the attacker's square, turned by JIT_SKIP_MAX_YAW degrees of yaw or more, or with a
     * gallery. The result says so (mf_anon_result.jitter_skipped). 0: the default JITTER_SKIP in src/anon/anon.c
     * (off); < 0: off; a factor below 1.5 counts as 1.5 (docs/anonymization.md, "Branch jit30") */
    float jitter_skip;
    /* (fall30) a face whose mesh does not sit on its detection's points (a privacy detection read the wrong way round
     * by a turned pass, or a mesh fitted across two faces): the check analyser (plain detection) looks again around
     * the detection; a face it finds there, overlapping the detection (IoU >= REFIT_IOU in src/anon/anon.c), read the
     * same way up as the record's mesh (REFIT_ROLL), with a mesh that fits its own detection and lies inside this
     * one, replaces the record (mesh, detection, alignment) before the face is drawn; else the face stays not renderable (the fallback filter). 0: the default, on;
     * < 0: off (main before fall30; docs/anonymization.md, "Branch fall30") */
    int refit;
    /* (prod31) a record without a mesh ("no mesh": the privacy detector's candidate the mesh did not confirm; not one
     * whose way up is in doubt) gets the same second look (tuning.refit's rules, the roll compared with its
     * detection's). 0: the default, on; < 0: off (main before prod31; docs/anonymization.md, "Branch prod31") */
    int refit_nomesh;
    /* (mouth30) the lips move as one rigid group: both lip loops and the mesh's middle lip rings between them take the
     * mean of the drawn deltas, so the lips keep the target's width, corners and opening. 0: the default, on (see
     * LIPS_WHOLE in src/anon/anon.c); < 0: off, main's before mouth30 (only the two loops rigid: the middle rings took
     * the drawn deltas, 1.6x on the strong rung, and were pushed past the corners: a pout became a wide red grin;
     * docs/anonymization.md, "Branch mouth30") */
    int lips_whole;
    float mouth_crease; /* (mouth30) the drawn texture's dark relief beside the lip corners (outside the lips: the drawn
                           identity's smile lines and corner shadows, which a narrower target mouth stretches outwards
                           into a wide smile) lifted to its low-pass by this fraction, 0..1. 0: the default MOUTH_CREASE
                           in src/anon/anon.c; < 0: off (docs/anonymization.md, "Branch mouth30") */
    float sh_light; /* (sh31) the photo's light as a light model over the mesh normals: a first-order spherical-harmonic
                       light per channel (4 terms) fitted to the photo's plain skin as a function of the target mesh's
                       normals, evaluated on the drawn mesh's normals and low-passed like the photo's shading; the
                       light step's numerator becomes model^F x photo low-pass^(1-F), F = this (0..1), so the
                       light's direction, strength and colour stay the photo's and its relief (eye sockets, nose
                       shadow, cheekbones) becomes the drawn face's. Too little skin: main's. 0: the default SH_LIGHT
                       in src/anon/anon.c (1 since stop 31); < 0: off, main's before sh31 (docs/anonymization.md,
                       "Branch sh31") */
    float child_relaxed_age; /* (child32) a child's synthetic fallback (the original estimated under 13; a draw that
                                removed the identity but missed age or gender) is published only from a draw read
                                under this age; otherwise the face gets the filter. Children's identity is removed
                                only by draws that stop looking like children: on 300 FFHQ faces 11 of 12 child
                                synthetic fallbacks read 18-43 years (grotesque adult masks, docs/anonymization.md,
                                "Branch fall13"). 0: the default CHILD_RELAXED_AGE in src/anon/anon.c (18); < 0: off,
                                main's before stop 32 (docs/anonymization.md, "Children's synthetic fallbacks") */
    float eye_lid; /* (looks32) the photo's eye openings are drawn into the gentle draws only when they hold an eye: when
                      the middle of either opening (its lid loop shrunk to 0.6) has its darkest quarter at this
                      fraction of the skin's luminance or brighter (no iris, pupil or lashes: a lowered lid the mesh
                      took for an opening, under pale eye make-up), every draw of the face takes the model's eyes (as
                      the strong rung does). An open eye measures 0.1-0.6. 0: the default EYE_LID in src/anon/anon.c
                      (0.65); < 0: off, main's before looks32 (docs/anonymization.md, "Branch looks32") */
    float eye_uv; /* (eyes33) where a draw takes the model's eyes (the strong rung), each lid loop's texture coordinates
                     are spread about the loop's centre by this factor vertically (1 + a third of the excess sideways)
                     before rendering: the drawn texture's visible eye (iris top, upper lid margin) lies beyond the
                     mesh's lid loop, so main drew the iris top and the lash line on the lid skin above the opening
                     (heavy, half-shut, doubled lids). 0: the default EYE_UV in src/anon/anon.c (off: on 100 LFW
                     faces 1.5 raised faceres-deep's similarity of the strong faces by 0.006 +- 0.002); < 0 or 1:
                     off, main's; at most 2.5 (docs/anonymization.md, "Branch eyes33") */
    int one_pass; /* (speed32) the guarantee's recognizers that embed a crop and its mirror (faceapi: two network runs
                     per embedding, the image and its mirror summed) embed the crop only, one run, scored against
                     that one pass's own thresholds (ONE_PASS_* in src/anon/anon.c, set by eval_lfw's procedure);
                     every similarity the anonymizer reports and its galleries' embeddings are then one-pass ones.
                     0: the default ONE_PASS in src/anon/anon.c; 1 on; < 0 off (docs/anonymization.md, "Branch
                     speed32") */
    float one_pass_dissim; /* (speed32) with one_pass: the one pass's dissimilarity threshold (0: ONE_PASS_DISSIM, the
                              eval_lfw procedure's; lower: a margin against the attacker's two-pass faceapi, which
                              reads a published face up to ~0.02 higher; at most ONE_PASS_DISSIM) */
    float spots; /* (spots32) the skin map's small isolated non-skin components well inside the face (make-up dots,
                    moles, freckles, small scars: away from the outline, eyes, brows, mouth and nostrils, surrounded
                    by skin) of at most this extent (face sizes) count as skin: replaced by the new face, not kept in
                    front of it as occluders. 0: the default SPOTS in src/anon/anon.c (0.07); < 0: off (integ's before
                    spots32); at most 0.1 (docs/anonymization.md, "Branch spots32") */
    /* (last33) the last-resort rung: when every draw of the ladder (max_tries) failed on identity and none removed it
     * (none passed, none is kept for the synthetic fallback: the filter would come next), an adult face (estimated
     * 13 or older; a child's identity-removing draws look adult, docs/anonymization.md "Branch fall13") gets up to
     * last_rungs more draws before the filter (before tuning.flat_rungs'), each checked like any draw; one is
     * published only when it passes every check (one that removed the identity but missed age or gender is no
     * synthetic fallback: those looked broken). 0: the default LAST_RUNGS in src/anon/anon.c (9); < 0: none (main's
     * before last33; docs/anonymization.md, "Branch last33") */
    int last_rungs;
    int last_mode; /* (last33) how the last-resort draws are rendered: 1 at the ladder's last rung's strength (the
                      max_tries-th draw's) with LAST_NCAND anti-face candidates; 2 climbing the ladder on (stronger
                      shape, broader light, less grain per draw, as more max_tries would); 3 at the ladder's first
                      strong rung's strength (the 4th draw's of 9: less shape) with LAST_NCAND candidates. 0: the
                      default LAST_MODE in src/anon/anon.c (3: 1 and 2 drew broken faces) */
    float last_outline; /* (last33) the identity shape's weight on the mesh outline in the last-resort draws, 0..1 (0:
                           the default LAST_OUTLINE, 1; < 0: tuning.outline_w as in every other draw) */
    float tone_match; /* (pale34) on the strong rung (model eyes, broad light; the last-resort draws too) the new skin's
                         overall colour and its broad light contrast are brought towards the photo's skin under it,
                         after the light step: per channel its mean over the pixels that are plain skin in both the
                         render and the photo, and the spread of its luminance low-passed at TONE_SIGMA face sizes
                         (a gain within TONE_GAIN_MIN..TONE_GAIN_MAX, to this power); only the drawn pattern's mean
                         and amplitude change, not its shape. 0: the default TONE_MATCH in src/anon/anon.c; < 0:
                         off (main's before pale34); at most 1 (docs/anonymization.md, "Branch pale34") */
    float socket_lift; /* (looks35) on the strong rung (and the last-resort draws) the drawn texture's eye sockets are
                          lifted where they are darker than the mean face's: around each eye, where the texture's
                          luminance low-passed at SOCKET_SIGMA over its low-pass at SOCKET_BROAD (its mid-scale
                          shading), divided by the same ratio of the model's mean texture, is below this floor, that
                          much of the mid-scale shading is taken out (the surround's colour added). The broad light
                          (3x the low-pass) keeps the drawn texture's own socket shading, which the gentle rung's light
                          step divides out: dark sockets, sunken eyes. 0: the default SOCKET_LIFT in src/anon/anon.c
                          (off: the 0.85 measured cost mobileface +0.004 at 2.3 s.e.); < 0: off (main's); at most 1
                          (docs/anonymization.md, "Branch looks35") */
    /* (judge34) a third judge in the guarantee: the registry recognizer of that name (e.g. "mobilefacenet-tflite";
     * not an ensemble member, not flagged unusable) becomes an ensemble member of this anonymizer only: embedded on
     * the original and every draw, a draw refused when its similarity is at or above the judge's dissimilarity
     * threshold, in every check the ensemble makes (the draw check, the fallback filter's check, the attacker's
     * square, the duplicate check, the gallery; mf_anon_result.sim[] holds its similarity; its rejections are
     * logged 'J' / 'j' in mf_anon_result.draws). The registry is not changed. NULL or "": none (the default);
     * an unknown or unusable name: mf_anon_create fails. docs/anonymization.md, "Branch judge34" */
    const char *judge;
    float judge_dissim; /* (judge34) the judge's dissimilarity threshold: 0 the registry's; a lower value is taken (a
                           margin; -1: no draw can pass, a testing hook), a higher one is not */
    int judge_jitter;   /* (judge34) the judge also at the guarantee's jittered alignments of a draw (1; 6 more
                           embeddings per draw, and in the fallback filter's check); 0 or < 0: at the original's
                           alignment and the re-detected points only (the default; the duplicate check and the
                           attacker's square embed it as the ensemble's other members) */
    float strong_contrast; /* (tone35) a strong or last-resort draw whose new skin varies more than this many times the
                              photo's skin across the face is drawn again, before its checks (logged 'T'): the ratio
                              of the spreads of the mean luminance of the 15 skin probes' patches (cheeks, forehead,
                              nose, chin), result over photo. Such faces were the broken ones (burnt brows, dark
                              sockets, blotches); gentle draws keep the photo's light and are not tested. The draw
                              is not counted as failed (the ladder does not climb) and is never kept for the
                              synthetic fallback. 0: the default STRONG_CONTRAST in src/anon/anon.c (1.6, since
                              stop 35); < 0: off (docs/anonymization.md, "Where it stands (stop 35 ...)") */
    float lens_bright; /* (lens35) the sunglasses test (lids that are not skin: the photo's eye zone is kept in front as
                          lenses) holds only when the openings' bright tenth (90th percentile of their middle's
                          luminance, x the skin's) is below this, or the lids are under 0.15 skin: a fringe over the
                          eyes or heavy eyeliner showed the original's eyes through the new face. 0: the default
                          LENS_BRIGHT in src/anon/anon.c (0.35); < 0: off, every face whose lids fail the skin test is
                          treated as behind lenses (before stop 35) */
    float lens_ring; /* (lens37) ... and only when the ring of skin around the lids (eye shadow up to the brows, the
                        under-eye) is less than this much skin, or the lids are under 0.15 skin: a dark lens covers the
                        ring, an eye does not (dark or small eyes in low light passed the second look). 0: the default
                        LENS_RING in src/anon/anon.c (0.5); < 0: off (before stop 37) */
    float tone_codes; /* (hue36) every draw's texture codes are moved (least norm, age and gender read-outs kept) so
                         the drawn texture's mean colour is within this ratio of the target's own per channel: the
                         anti-face push also pushed the skin tone away (a pale face drew a dark, reddish texture),
                         which the light step multiplied back by up to 3x, burning features and shadows orange.
                         0: the default TONE_CODES in src/anon/anon.c; <= 1: off */
    int strong_unlit; /* (hue36) a strong draw's texture takes the mean face's broad light (its own divided out at
                         TARGET_LIGHT_SIGMA, as the target's is before its codes are projected): the strong rung keeps
                         only the photo's broadest light, so a draw's baked side light showed as a dark, burnt half
                         face. 1 on; 0: the default STRONG_UNLIT in src/anon/anon.c; < 0: off */
    int light_keep; /* (light37) the texture codes that are the photo's light or the skin's tone rather than identity
                       (side light, brightness, tint: read off the identity model's components) take the target's own
                       values, and the anti-face push moves only the other codes (as far in all): the push gave a
                       side-lit target a texture lit from the other side and a pale one a dark, red skin, which the
                       strong rung's light step burnt orange. 1: every draw but the last-resort ones (tuning.last_rungs,
                       which push every code); 2: the strong draws but the last-resort ones; 3: every draw; 0: the
                       default LIGHT_KEEP in src/anon/anon.c; < 0: off */
    float light_flat; /* (light37) the tone codes light_keep keeps: components at least this much a flat colour shift
                         (0: the default LIGHT_FLAT in src/anon/anon.c, 0.5; < 0: none, the side-light codes only) */
    float push_metric; /* (push38) how much the anti-face push and the choice among candidates follow the identity
                          model's recognizer metric (which code directions arcface and faceapi read; models trained
                          with recognizers have it), 0..1: the push turned by that fraction towards the direction in
                          which a step moves the recognizers' reading most along the target's own; 0: the default
                          PUSH_METRIC in src/anon/anon.c; < 0: off */
    float gallery_margin; /* (gal39) a gallery identity counts as matched from this fraction of the recognizer's gap
                             (match minus dissimilarity threshold) below its match threshold
                             (mf_anon_gallery_threshold): whoever looks at the published face detects and aligns it
                             themselves, on a re-encoded file, and a draw accepted just under the match threshold read
                             0.015 over it there (tests/e2e/serve-gallery.sh). 0: the default GALLERY_MARGIN in
                             src/anon/anon.c; < 0: none (the match threshold itself); at most 1 (the dissimilarity
                             threshold) */
    float child_gap; /* (child39) a child's (estimated under 13 years) dissimilarity thresholds are raised by this
                        fraction of each recognizer's gap towards its match threshold: different real children read
                        alike (300 FFHQ: 66 % of the pairs of 45 children score over arcface's dissimilarity
                        threshold, 40 % over its match threshold; of adults 2.5 % and 0.3 %), so a child's draw that
                        passes the adults' threshold no longer looks like a child. The gallery threshold is not
                        changed. 0: the default CHILD_GAP in src/anon/anon.c; < 0: off; at most 0.8 */
    int shape_sym; /* (sym40) the shape deltas of a draw (the drawn identity's minus the target's own, taken out) are
                      made left-right symmetric in the model's frontal frame (each vertex and its mirror image share
                      their mean, x mirrored) before they move the target's mesh: an identity's proportions are
                      symmetric, while the uneven part of a projected outline is the head's turn. 1 on; 0: the
                      default SHAPE_SYM in src/anon/anon.c (on since stop 40); < 0: off */
    float age_soft; /* (age41) a draw that passes every check (age within age_tolerance among them) but whose age read
                       is further than this from the original's (years) is held, and up to age_draws more draws are
                       made on the same rung, their drawn age corrected by the miss; the passing draw with the
                       smallest age miss beyond age_soft is published (ties: the farthest below the thresholds).
                       0: the default AGE_SOFT in src/anon/anon.c (off: on 1,000 LFW faces at 6 years the age error
                       fell 4.49 -> 3.95 y, but the draws it picks read more like their owners, faceres-deep +0.003
                       +- 0.001, and on FFHQ 8 of 45 changed faces look worse, 5 better); < 0: off */
    int age_draws;  /* ... how many more draws at most (0: the default AGE_DRAWS; < 0: off; at most 8) */
    float age_step; /* ... the next draw asks the model for an age moved by -age_step x the held draw's miss (0: the
                       default AGE_STEP; < 0: not moved, the same age asked again; at most 1) */
    float age_stretch; /* (age41) the age asked of the model is the original's moved away from the model's mean
                          training age: by (age_stretch - 1) x its distance from that mean, at most 15 years, faded in
                          from age 13 to 20 (src/anon/internal.h, mf_anon_age_ask). Drawn faces read nearer the mean
                          age than asked (300 FFHQ at stop 40: 20-30 y read 3.2 y older, 50-60 y 6.2 y younger).
                          0: the default AGE_STRETCH in src/anon/anon.c (1.5 since stop 41); < 0 or 1: off, at most 3 */
    int forehead_band; /* (band48) 1: every draw's codes are moved (least norm, with the age and gender read-outs) so
                          the drawn texture has no step across the mid-forehead ring, where the committed model keeps
                          training faces' bangs (a pale band with a hard lower edge over drawn foreheads); 0: the
                          default FOREHEAD_BAND in src/anon/anon.c; < 0: off (docs/anonymization.md, stop 48) */
    float brow_dark; /* (brow48) a drawn texture's brows are made no lighter than brow_dark x their skin (the mean
                        colour just above each brow, per channel): draws far out in the components that carry the
                        brows had brows lighter than the skin, glowing orange arcs once lit. 0: the default BROW_DARK
                        in src/anon/anon.c (0.9 since stop 48); < 0: off (main's before); at most 1 */
    float brow_gate; /* ... only a brow whose inside is on average at least brow_gate x its skin's luminance (an
                        inverted brow) is moved (0: the default BROW_GATE, 1; < 0: every brow; at most 2) */
    int sh_chroma; /* (sh50) with the light model over the normals (sh_light), the numerator keeps the model's
                      luminance but takes the chroma of the photo's own low-pass there (each channel the photo's low
                      -pass x the model's luminance over the low-pass's): a first-order light per channel cannot follow
                      the skin's colour across the face (warmer cheeks and nose, neutral highlights), so the middle
                      of darker, saturated faces came out greyer. 1 on; 0: the default SH_CHROMA in src/anon/anon.c
                      (1 since stop 50); < 0: off (main's before) */
    float feature_hold; /* (feat50) every draw's codes keep the drawn texture's brows and upper lids no lighter,
                           against its cheeks and forehead, than feature_hold x the mean face's (moved with the age
                           and gender read-outs by the least-norm step, only for a feature that is lighter): the
                           anti-face of a face with dark brows and made-up lids had pale brows (grey bars once
                           brow48 clamped them) and white lids, the pale masks. 0: the default FEATURE_HOLD in
                           src/anon/anon.c; < 0: off; at most 1.5 */
    float feature_dark; /* (dark55) the mirror of feature_hold: brows, upper lids and under-eyes no darker against the skin than
                           feature_dark x the mean face's. 0: the default FEATURE_DARK in src/anon/anon.c; < 0: off;
                           at least 1 */
    float feature_pick; /* (pick55) the codes left as drawn, but of a draw's anti-face candidates those whose brows,
                           upper lids and under-eyes are no darker against the skin than feature_pick x the mean
                           face's are taken first (the farthest of them from the target's codes; none: the least dark).
                           0: the default FEATURE_PICK in src/anon/anon.c; < 0: off; at least 1 */
    float philtrum_floor; /* (lip57) the drawn texture's skin between the nose's base and the upper lip made no darker,
                           per channel, than philtrum_floor x the model's mean face there (scaled by the draw's cheek
                           skin over the mean face's): the anti-face of a flat-lit face gets a dark patch there that
                           reads as a moustache. 0: the default PHILTRUM_FLOOR in src/anon/anon.c (off); < 0: off;
                           at most 1 */
    float detail_beard; /* (beard56) a draw for a woman (the original read female): the detail layer below the nose
                           scaled by detail_beard (0..1; the maps' grain there comes partly from men's stubble). 0: the
                           default DETAIL_BEARD in src/anon/anon.c (0.2 since stop 57); < 0 or >= 1: off; a tiny value
                           such as 0.001 takes the grain out there */
    float feature_pick_near; /* (pick56) with feature_pick: only the candidates at least feature_pick_near x as far
                           from the target's codes as the farthest take part in its choice (the distance given up for a
                           lighter face is bounded; 1: the farthest only). 0: the default FEATURE_PICK_NEAR in
                           src/anon/anon.c; < 0: all candidates; at most 1 */
    int child_push; /* (kid43) a child's draws (the original estimated under 13 years), bits: 1 the anti-face push away
                       from the child's own codes (within the child bucket), 2 the child's own identity shape taken
                       out as an adult's is (else its own proportions are kept). 0: the default CHILD_PUSH in
                       src/anon/anon.c; < 0: neither (the child path of anon10b) */
    int upright_check; /* (upright43) a draw's check finds the new face of an uncut face rolled by more than 25 degrees
                          with the plain analyser on an upright copy of the region (UPRIGHT_CTX face sizes, at the
                          face's own resolution), as the attacker's square does, instead of the privacy analyser on
                          the region; where it finds none there, the privacy analyser as before. 1 on; 0: the default
                          UPRIGHT_CHECK in src/anon/anon.c; < 0: off */
    int child_last; /* (kid44) a child's last-resort draws (the original estimated under 13 years): when its max_tries
                       draws all failed on identity, this many more at the last-resort rung (tuning.last_rungs' rung,
                       which adults get), each checked like any draw, before the filter. 0: the default CHILD_LAST in
                       src/anon/anon.c; < 0: none; at most 16 */
    float veil; /* (veil44) before the fallback filter, the rejected draw nearest its thresholds blurred inside the
                   face ellipse (Gaussian sigma veil face sizes, then 1.5x and 2.25x) and checked as a draw's identity
                   is; published as a synthetic fallback when one passes. 0: the default VEIL in src/anon/anon.c;
                   < 0: off; at most 0.2 */
    float lap_max; /* (lap46) a draw whose skin is far rougher than the photo's is drawn again on the same rung before
                      any check (not a failed draw; logged 'L'): the variance of the luminance's Laplacian over five
                      skin squares (cheeks, forehead, under the eyes; eval_anon's looks figure) in the draw over the
                      photo's (at least LAP_FLOOR), at most lap_max. On 300 FFHQ faces the 9 published past 2 were all
                      broken (glowing brow bands, ghost eyes, sawtooth jaws, an old man's face on a toddler). 0: the
                      default LAP_MAX in src/anon/anon.c; < 0: off */
    float age_detail; /* (adet46) the model's detail layer (skin grain and fine lines from tiles of training faces of
                         every age) reads as age: after a draw read more than half the age tolerance older than the
                         original, the next draws take the detail layer x age_detail (again after each such draw),
                         and after one read that much younger, / age_detail (up to AGE_DETAIL_MAX, 1.5 x the
                         default). Demo photo 1's middle woman (29 y): her gentle draws read 40-48 y, at --detail 0.01
                         37 y. 0: the default AGE_DETAIL in src/anon/anon.c (0.6, on since stop 46: 1,000 LFW faces
                         10 fewer strong faces, 300 FFHQ 3 fewer filter fallbacks, privacy within noise); < 0 or >= 1:
                         off; at least 0.1 */
    int attr_stay; /* (stay46) up to attr_stay draws that removed the identity (every ensemble check, the gallery,
                      detected again, the pose kept) but missed only the age or gender tolerance do not climb the
                      redraw ladder: the next draw stays on the same rung, its age corrected by the miss. A stronger
                      rendering removes identity, it does not mend an age (demo photo 1's middle woman: gentle draws
                      read 39-43 y for 29 y, then a broken strong face). 0: the default ATTR_STAY in src/anon/anon.c
                      (3 since stop 52: on 300 FFHQ faces 13 fewer strong faces, 11 of the 17 changed faces look
                      better, none worse; the outside recognizers read the faces +0.005-0.008 more like their owners),
                      none with mf_anon_opts.strict (privacy first); < 0: none (every failed draw climbs); at most 8 */
    int warp_loop; /* (loop46) the background warp interpolates the outline's displacement along the outline loop: the
                      36 outline vertices in loop order, warp_loop - 1 points added on each edge with the linearly
                      interpolated displacement, then the Shepard weights (warp_power) over all of them. 1/d^4 over the
                      vertices alone holds each vertex's displacement over a flat spot around it, and a jaw moved far
                      shows a sawtooth of the vertex spacing along its hair edge (warp45); on the denser loop the
                      spots are warp_loop times smaller. 0: the default WARP_LOOP in src/anon/anon.c (4 since stop
                      52); 1: the vertices alone; at most 8 */
    int warp_power; /* (warp45) the background around the face follows the moved outline by Shepard interpolation of the
                       outline vertices' displacements with weights 1 / d^warp_power, 2 or 4. With 4 (the default) each
                       vertex's displacement holds over a flat spot, and a jaw moved far by a strong draw leaves a
                       sawtooth hair edge; 2 smooths it but measured no better on FFHQ (docs/anonymization.md, stop 45).
                       0: the default WARP_POWER in src/anon/anon.c */
    int detail_ages; /* (age47) with a model whose detail maps come in age groups (docs/identity-model.md), a draw
                        takes a map of the group whose mean age is the nearest: 1 to the original's estimated age, 2 to
                        the age asked of the draw (stretched away from the model's mean, corrected by the age reads);
                        -1: any map (faces of every age). The age estimators read the grain and fine lines of the skin
                        as age. The committed model has no ages (stop 47: a file with them, from `mfmc identity train
                        --detail-ages`, measured worse for privacy), so by default every map is a candidate, as before.
                        0: the default DETAIL_AGES in src/anon/anon.c */
    int child_strong; /* (kid49) a child's strong draws (the original estimated under 13 years): 1 they are made and
                         published like an adult's; -1 a child is not drawn on the strong rung: once its ladder reaches
                         it, its draws end and the fallbacks follow (a gentle draw that removed the identity but missed
                         age or gender, read under child_relaxed_age, else the filter). Every strong draw that passed
                         a child's guarantee on FFHQ was a broken face or an adult's (docs/anonymization.md, stop 49).
                         With keep_eyes < 0 (strong on every draw) it does nothing. 0: the default CHILD_STRONG in
                         src/anon/anon.c */
    int rel_chroma; /* (rc52) the light step carries what is darker than the render's low-pass (features, creases,
                       spots) with its luminance relative to the low-pass, and its colour relative to it raised to
                       the power g = the photo skin's saturation over the drawn skin's (at most 1): a shaded lid on a
                       brown drawn texture is darker and more saturated than its skin, and on a pale photo that read
                       as orange-brown make-up (docs/anonymization.md, stop 52). The lips are left out. Measured
                       and left off: fewer faces with a shifted skin colour (1,000 LFW 35 -> 26), the orange toned
                       down but not gone, FFHQ's age error +0.17 y. 1 on, -1 off; 0: the default REL_CHROMA in
                       src/anon/anon.c (off) */
    float chroma_clamp; /* (cc53) after the light and colour steps, each rendered pixel's colour (its chromaticity,
                           Cb and Cr over its luminance) is kept within this distance of the photo's own skin colour
                           at that place (the photo's skin low-pass), its luminance kept; the eye openings and the
                           lips are left out. The drawn texture's warm band and mottling came out as orange-brown
                           smears on pale targets (docs/anonymization.md, stop 53). > 0 the distance; < 0 off; 0: the
                           default CHROMA_CLAMP in src/anon/anon.c (0.08) */
    float lens_fill; /* (lens53) sunglasses: the lenses, grown from the eye zone through the pixels that are not skin
                        up to this many eye distances from either eye's centre, are never painted over by the forced
                        features (brows, nose) of the new face; the eye zone alone left the top of large lenses under
                        the drawn brows (docs/anonymization.md, stop 53). Kept lenses make the outside recognizers
                        read those faces a little more like their owners, so the default is on at the standard level
                        and off at the strict one. > 0 the radius; < 0 off; 0: the default LENS_FILL in
                        src/anon/anon.c (1.2; -1 with mf_anon_opts.strict) */
    float forehead_seam; /* (seam54) the drawn texture's hard step between the upper forehead and the ring round the
                            brows (a trace of the training faces' bangs: a dark or pale band with a jagged edge across
                            drawn foreheads and down the temples) evened out: each side takes this fraction of half
                            the difference of the two sides' local means, fading away from the step
                            (docs/anonymization.md, stop 54). In 0..1; < 0 off; 0: the default FOREHEAD_SEAM in
                            src/anon/anon.c (1) */
} mf_anon_tuning;

typedef struct {
    const char *models_root;    /* the folder holding human/, faceapi/, faceplugin/ */
    const char *identity_model; /* path of the identity model file */
    mf_face_analyzer_t *an;     /* analyser for the checks (borrowed; mesh and attributes on) */
    mf_nn_pool_t *pool;         /* threads for the recognizers (NULL: calling thread); with 2+ threads each recognizer
                                   gets two sessions and the checks' embeddings run as batches on two of the pool's
                                   threads (the same results as on one thread) */
    int max_tries;              /* draws before the fallback (0: MF_ANON_DEFAULT_TRIES) */
    float age_tolerance;        /* |age after - age before| allowed, years (0: 10) */
    float gender_confidence;    /* gender must be kept when the original's gender_score >= this (0: 0.6; 0.75 before stop 31) */
    int measure_all;            /* also embed with the non-ensemble recognizers (report only) */
    int strict;                 /* (strict51) 1: the strict privacy level: a third recognizer, the expo MobileFaceNet
                                   ("mobilefacenet-tflite", a different family from the guarantee's two), joins the
                                   guarantee at a low dissimilarity threshold (MF_ANON_STRICT_DISSIM): a draw it reads
                                   even slightly like the original is refused, so the outside recognizers read the
                                   published faces far less like their owners, at the cost of more filtered faces,
                                   more strong draws and about twice the draws (docs/anonymization.md, stop 51).
                                   tuning.judge / judge_dissim, when set, take precedence. 0: the standard level */
    mf_anon_tuning tuning;
    mf_face_analyzer_t *check_an; /* optional (borrowed): a plain-detection analyser (privacy = 0) for the checks of
                                     upright faces (|roll| <= 25 degrees, >= 32 px), and (upright43,
                                     tuning.upright_check) of rolled, uncut faces' draws on an upright copy of the
                                     region; much faster than a privacy-mode `an`, which then checks small faces,
                                     rolled faces not found on the copy, and the fallback filter of rolled faces.
                                     NULL: `an` for all. */
} mf_anon_opts;

typedef struct mf_anon mf_anon_t;

/* Loads the identity model and the ensemble recognizers. The analyser stays the caller's. */
int mf_anon_create(const mf_anon_opts *opts, mf_anon_t **out);
/* The same, but the ensemble recognizers are sessions over the already-loaded shared `models` (face.h: loaded
 * once, read-only, thread-safe) instead of loading their own copies: a process with analysers, recognizers and
 * anonymizers over one mf_face_models_t holds one copy of each network's weights. opts->models_root may be NULL
 * (then mf_face_models_root(models)). The identity model is still loaded from opts->identity_model. `models` is
 * borrowed: it must outlive the anonymizer, which is freed with mf_anon_free as usual. MF_ERR_ARG for a NULL
 * argument, and mf_anon_create's errors. */
int mf_anon_create_from(mf_face_models_t *models, const mf_anon_opts *opts, mf_anon_t **out);
void mf_anon_free(mf_anon_t *a);

/* Recognizers the anonymizer embeds with: count, and name / ensemble flag of entry i. */
int mf_anon_recognizer_count(const mf_anon_t *a);
const mf_face_recognizer_info *mf_anon_recognizer_info(const mf_anon_t *a, int i);
/* The similarity from which a draw counts as matching a gallery identity for recognizer i: its match threshold minus
 * tuning.gallery_margin of its gap (match minus dissimilarity threshold); 2 (never) for a bad i. */
float mf_anon_gallery_threshold(const mf_anon_t *a, int i);

/* Adds a donor photo (a synthetic face of nobody) for MF_ANON_DONOR: it is analysed, unwrapped into the model's
 * texture space and embedded by the ensemble recognizers (draws take the most dissimilar donor of the target's
 * gender and age first); photos without exactly one usable face are refused with MF_ERR_ARG. */
int mf_anon_add_donor(mf_anon_t *a, const mf_img *img);
int mf_anon_donor_count(const mf_anon_t *a);

typedef struct {
    mf_anon_decision decision;
    mf_anon_method method;        /* what was finally applied */
    int tries;                    /* synthetic draws made */
    int donor;                    /* MF_ANON_DONOR: the donor (order of mf_anon_add_donor) of the draw
                                     published (of the last draw when a filter was); else -1 */
    int n_rec;                    /* entries of the arrays below (mf_anon_recognizer_info order) */
    float sim[MF_ANON_MAX_RECOGNIZERS];         /* similarity of the result to the original (-2 = not measured) */
    float gallery_sim[MF_ANON_MAX_RECOGNIZERS]; /* best similarity to any gallery identity (-2 = no gallery) */
    int child_thresholds;         /* (child39) checked against a child's raised dissimilarity thresholds
                                     (tuning.child_gap: the original estimated under 13 years) */
    float age_before, age_after;  /* -1 = unknown */
    mf_gender gender_before, gender_after;
    int detected_after;           /* the result was found again by the detector */
    int flat;                     /* the published synthetic draw was a flattened last rung (tuning.flat_rungs) */
    int last_rung;                /* (last33) the published synthetic draw was one of the last-resort rung's
                                     (tuning.last_rungs: drawn after max_tries draws all failed on identity) */
    int strong;                   /* the published synthetic draw was rendered strong (model eyes, 1.6x shape, broad
                                     light only: the last rungs of the redraw ladder; with tuning.hard_from, natural
                                     light and 1.15x shape before that many failed draws) */
    int refit;                    /* (fall30, tuning.refit) the record's mesh did not sit on its detection's points;
                                     the face drawn (and checked, or filtered) is the check analyser's face there */
    int linkable;                 /* the published draw is an anti-face draw (the default draws; with
                                     tuning.unlinked 1, one of the last third, after the unlinkable draws failed):
                                     drawn from the original's own codes, so the recognizers may link it to this
                                     person's other anonymized photos (never to the original: the guarantee holds) */
    float det_score_after, mesh_score_after;
    float yaw_after, pitch_after, roll_after, eye_open_after[2], mouth_open_after;
    double ms;                    /* wall time of the whole replacement */
    double ms_render, ms_check;   /* of which: synthesis + rendering + blending, and the checks (all draws) */
    char note[160];               /* why a fallback was used, or what was unusual */
    /* (draws20) what each synthetic draw met, in order (the first MF_ANON_DRAW_LOG - 1 draws, NUL-terminated):
     * 'o' passed every check (published, or kept as the best so far under accept_margin), 'm' passed but closer to
     * a threshold than accept_margin (more draws made), 'y' passed but with its age further off than
     * tuning.age_soft (more draws made; draw_val its age after); rejected: 'A' / 'F' arcface / faceapi (the first letter of
     * the ensemble recognizer's name, upper case) at the original's own alignment, 'a' / 'f' at a jittered one
     * (step (1)), 'J' / 'j' the extra judge (tuning.judge) likewise, 'N' not detected again, 'P' an ensemble
     * recognizer at the re-detected points (step (3)), 'S' in the attacker's square, 'G' a gallery identity, 'Y'
     * age, 'X' gender, 'T' a strong draw's skin contrast (tuning.strong_contrast). draw_val: for a recognizer's
     * rejection its similarity, for 'Y' the age after, for 'T' the contrast ratio, else -2;
     * draw_age: the age read on the draw (the face found, or the feedback's at the original's box), -1 when none
     * was read; draw_rung: the rung of the redraw ladder it was drawn at (failed draws before it, with the gentle
     * rungs skipped by tuning.leap). */
    char draws[MF_ANON_DRAW_LOG];
    float draw_val[MF_ANON_DRAW_LOG], draw_age[MF_ANON_DRAW_LOG];
    signed char draw_rung[MF_ANON_DRAW_LOG];
    int jitter_skipped;           /* (jit30, tuning.jitter_skip) the published draw was far enough below every
                                     threshold at the original's alignment that its jittered alignments were not
                                     embedded */
    int embeddings;               /* recognizer embeddings run for this face (every alignment, the original's and the
                                     results'; a faceapi embedding with its mirror counts once) */
} mf_anon_result;

/* Galleries for the guarantee: one per anonymizer recognizer (NULL entries or a NULL array = no gallery). */
typedef struct {
    const mf_gallery_t *const *per_rec; /* mf_anon_recognizer_count entries */
} mf_anon_galleries;

/* (fall30, tuning.refit) A record of mf_face_analyze on img whose mesh does not sit on its detection's points (a
 * privacy detection read the wrong way round by a turned pass, a mesh fitted across two faces): the check analyser
 * looks again around the detection, and its face there that overlaps the detection, is read the same way up as the
 * record's mesh, fits its own detection and lies inside this one replaces *face (mesh, detection, attributes), with *refitted 1. Otherwise (the mesh fits, no
 * such face, tuning.refit < 0) *face is unchanged and *refitted 0. mf_anon_face does the same itself; a caller
 * anonymizing several faces of one photo calls this for all of them before the first is replaced (the second look
 * then sees the original photo, not a neighbour already filled). Returns a negative status on errors. */
int mf_anon_refit(mf_anon_t *a, const mf_img *img, mf_face *face, int *refitted);

/* mf_anon_refit over the n records of one photo, in order, on the original photo (call it before the first face is
 * replaced). A record refitted onto a face an earlier record already holds (its detection overlapping that record's,
 * IoU >= 0.5: a duplicate detection) stays as it was, to get its own decision. state (n values, may be NULL): 1 the
 * record was refitted, -1 - q a duplicate of record q, 0 unchanged. Returns a negative status on errors (the records
 * before the failing one may already be refitted). */
int mf_anon_refit_photo(mf_anon_t *a, const mf_img *img, mf_face *faces, int n, int *state);

/* (prod31) Duplicates over a replaced face. 1 when record k of the n records of one photo (after
 * mf_anon_refit_photo) is one mf_anon_face would not draw ("not renderable": no mesh, way up in doubt, its mesh off
 * its detection's points, turned, too small, cut) and its detection overlaps a record that would be drawn by at
 * least COVER_OVERLAP of the smaller box (src/anon/anon.c): anonymize it after the drawn ones, so that
 * mf_anon_covered can check whether their replacement already removed its identity. 0 otherwise. */
int mf_anon_defer(const mf_anon_t *a, const mf_img *img, const mf_face *faces, int n, int k);

/* (prod31) Is the identity of record k (of the n records of one photo, as for mf_anon_defer) already removed from
 * img, the photo as it now is, by the replacement of a record q drawn before it (replaced[q] != 0: a published
 * synthetic or donor face)? Checked only for a record that would not be drawn and whose detection overlaps such a
 * record q by COVER_OVERLAP of the smaller box (the one overlapping most: *by = q; else *by = -1, *covered = 0,
 * nothing measured). The check is the fallback filter's on the photo as it is (measured, never geometry alone):
 * every ensemble recognizer embeds img and orig (the photo before any face was replaced) at the record's own five
 * points (the detection's, and the mesh's when the mesh sits on them: a mesh off its points lies on no face) and at
 * the guarantee's jittered alignments of them, and img at the points of every face the photo's analyser and the
 * check analyser find there overlapping the record (against orig at those points and at the record's own);
 * *covered = 1 when every similarity is below that recognizer's dissimilarity threshold, no gallery identity
 * matches and the region is no crowd (more than MAX_CHECK_FACES faces). result: decision MF_ANON_COVERED when covered (else MF_ANON_FALLBACK: the caller runs
 * mf_anon_face as before), sim[] the largest similarities, note the alignments checked. img and orig are not
 * changed. Returns a negative status on errors. */
int mf_anon_covered(mf_anon_t *a, const mf_img *orig, const mf_img *img, const mf_face *faces, int n, int k,
                    const int *replaced, const mf_anon_galleries *galleries, mf_anon_result *result, int *by,
                    int *covered);

/* Replaces face `face` (a record of mf_face_analyze on img) in img, in place, with `method` drawn from `seed`
 * (the same seed, image and face give the same result). With galleries the result must also stay below every
 * gallery identity's match threshold. Every path changes the face region: a synthetic face that passes the checks,
 * else the fallback filter (result->decision says which and result->note why). Returns a negative status only for
 * bad arguments or resource errors, with img unchanged. */
int mf_anon_face(mf_anon_t *a, mf_img *img, const mf_face *face, mf_anon_method method, uint64_t seed,
                 const mf_anon_galleries *galleries, mf_anon_result *result);

/* Testing hook: forces the next draws to reuse the original face's own texture (a "forced-similar identity"), so the
 * guarantee must redraw and fall back. 0 = off. */
void mf_anon_debug_force_similar(mf_anon_t *a, int on);

/* Testing hook (speed17): the reference path of the rendering: its row loops on the calling thread alone and the
 * photo's per-face low-passes recomputed at every draw (no cache). The result must be identical either way. 0 = off. */
void mf_anon_debug_reference(mf_anon_t *a, int on);

/* Testing hook (jit30): sets tuning.jitter_skip to factor without its 1.5 floor (a smaller margin makes faces that
 * are skipped easy to find in a test); <= 0 = off. Never for publishing: below 1.5 x the measured lift a skipped
 * draw may be one the jitters would have rejected. */
void mf_anon_debug_jitter_skip(mf_anon_t *a, float factor);

/* Embeds the face record `face` of img with anonymizer recognizer i (info->dim floats). */
int mf_anon_embed(mf_anon_t *a, int i, const mf_img *img, const mf_face *face, float *embedding);

#ifdef __cplusplus
}
#endif
#endif
