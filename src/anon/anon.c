/* The anonymizer: draw a synthetic identity, shape and render it onto the target's mesh with the photo's shading,
 * blend it in, check the guarantee, redraw or fall back (include/mfmc/anon.h, docs/anonymization.md). */
#include "anon/internal.h"
#include "face/align.h"
#include "nn/pool.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_CHECK_FACES = 8 };
/* render_draw's reusable float buffers (job.sc) */
enum { SC_BASE, SC_REND, SC_DEPTH, SC_COV, SC_COV0, SC_DUMMY, SC_FORCE, SC_RAMP, SC_WR, SC_WO, SC_CORE, SC_N };

/* Tuning (docs/anonymization.md): the first draw and how each redraw moves away from the target. */
#define SHADING_SIGMA 0.10f   /* low-pass of the photo's shading kept, in face sizes (first draw) */
#define SHADE_MOVE 0.0f       /* (reid18) fraction of the mesh displacement the photo's shading follows (tuning.shade_move) */
#define SH_LIGHT 1.0f         /* (sh31, default since stop 31) weight of the light model over the normals against the photo's low-pass (tuning.sh_light) */
#define SH_CHROMA 1          /* (sh50, on since stop 50) the light model's chroma from the photo's low-pass (tuning.sh_chroma) */
#define FEATURE_DARK (-1.0f) /* (dark55) brows, lids and under-eyes no darker against the skin than this x the mean face's
                                 (tuning.feature_dark) */
#define FEATURE_PICK (-1.0f) /* (pick55) anti-face candidates without features darker than this x the mean face's
                                 first (tuning.feature_pick) */
#define FEATURE_PICK_NEAR (-1.0f) /* (pick56) ... among the candidates at least this x as far as the farthest
                                      (tuning.feature_pick_near; off: all) */
#define DETAIL_BEARD 0.2f /* (beard56) a woman's draw: the detail layer below the nose x this (tuning.detail_beard;
                              on since stop 57) */
#define BEARD_TOP_V 2         /* (beard56) the mesh vertex under the nose whose row starts the lower face */
#define BEARD_FADE 0.04f      /* (beard56) ... and the rows, in texture sides, over which the scale comes in */
#define FEATURE_HOLD (-1.0f) /* (feat50) brows and lids no lighter against the skin than this x the mean face's
                                 (tuning.feature_hold): off, measured at 0.7 (docs, stop 50: outside recognizers read faces more like their owners) */
#define EYE_SOFTEN 0.0f       /* (eyes18) low-pass of the photo's eye openings kept, in face sizes (tuning.eye_soften; 0 off) */
#define EYE_GREY 0.0f         /* (eyes18) ... and how much of their colour is taken out, 0..1 (tuning.eye_grey) */
#define EYE_DARK 0.0f         /* (eyes19) the photo's openings darkened by the drawn eyes' brightness ratio ^ this
                                 (tuning.eye_dark; 0 off) */
#define EYE_DARK_MIN 0.4f     /* ... by at most this factor */
#define EYE_DARK_SAMPLES 4    /* ... the openings' brightness sampled at this many points per triangle side */
#define SPOTS 0.07f    /* (spots32) tuning.spots: isolated non-skin spots inside the face up to this extent (face sizes)
                        * count as skin (make-up dots, moles, freckles); docs/anonymization.md, "Branch spots32" */
#define SPOT_NEAR 0.16f  /* ... every pixel of a spot within this of a skin probe (face sizes) ... */
#define SPOT_CLEAR 0.04f /* ... and at least this far from the eyes', brows', lips' and nostrils' vertices ... */
#define SPOT_EDGE 0.02f  /* ... and this from the outline's (demo photo 1 face 0's cheek dot, turned: 0.039 from it) */
#define EYE_UV 0.0f         /* (eyes33) the model eyes' lid loops spread in the texture by this factor (tuning.eye_uv;
                                 <= 1 off) */
#define EYE_UV_MAX 2.5f     /* ... at most this */
#define EYE_LID 0.65f         /* (looks32) an opening whose middle's dark quarter is this bright (x skin) holds no eye:
                                 the face takes the model's eyes (tuning.eye_lid; < 0 off) */
#define EYE_OPEN_SHRINK 0.6f  /* (looks32) an opening's middle: its lid loop shrunk this much towards its centre */
#define EYE_OPEN_Q 0.25f      /* ... and its dark quarter: this luminance quantile */
/* (lens35) the sunglasses test's second look: lids that fail the skin test (under 0.45 skin) hold lenses only when
 * the openings show no eye white: a fringe over the eyes or heavy eyeliner failed the first look, and the original's
 * whole eye zone was kept in front of the new face (its eyes published). Of the 37 faces the first look flagged among
 * 300 FFHQ and 301 LFW faces, 13 wear dark sunglasses (9 with lids under LENS_SURE skin), 2 lightly tinted glasses,
 * 21 show their eyes and 1 is a photo of a baby on a sign; the openings' bright tenth (x the skin's luminance) read
 * 0.18-0.26 behind 3 of the other 4 dark lenses (0.94 behind one with a highlight) and 0.17-1.20 over the eyes: 0.35
 * leaves 3 of the 21 flagged and takes 1 of the 13 dark lenses (and one light tint, 0.42, the eyes showing through)
 * for eyes; a face drawn over sunglasses is a looks defect, eyes kept are a privacy one (docs/anonymization.md,
 * "Where it stands (stop 35 ...)") */
#define LENS_BRIGHT 0.35f     /* an opening whose bright tenth reaches this x the skin shows an eye: no lens */
#define LENS_Q 0.9f           /* ... the bright tenth: this luminance quantile of the opening's middle */
#define LENS_SURE 0.15f       /* lids with less skin than this hold lenses whatever the openings show (mirrors) */
/* (lens37) and a third look, the ring of skin around the lids (the eye zone without the lids: eye shadow up to the
 * brows, the under-eye): a dark lens covers it, an eye does not. On 33 of the same 37 faces it read 0.54-0.91 skin
 * around all 17 eye faces read (0.55 and 0.70 around the two the second look left flagged) and 0.01-0.41 around 11
 * of the 13 dark sunglasses (0.64 around one pair of large round lenses, 0.66 around the highlighted one); 0.5 takes
 * no eyes for lenses and 2 sunglasses for eyes (a looks defect, not a privacy one; docs/anonymization.md, "Where it
 * stands (stop 37 ...)") */
#define LENS_RING 0.5f
#define EYE_OPEN_GRID 20.0f   /* (looks32) an opening's middle sampled at least this many points across */
#define FINE_AMP 1.0f         /* the photo's finest band (grain, pores) kept over the new skin */
#define FINE_CLAMP 12.0f      /* ... clamped to +-this many levels so no edge of the original survives */
#define SHAPE_GAIN 1.0f       /* identity shape deltas, times their training spread */
#define TEX_GAIN 1.0f         /* texture code spread */
#define GRAIN_REF 2.5f      /* fine-band deviation of a sharp photo's skin: the detail layer at full amplitude */
#define DETAIL_AMP 2.5f       /* detail layer amplitude */
#define CHROMA_MATCH_LO 1.0f  /* (grey22) the photo's face chroma spread (levels, around its low-pass): at or below, the
                                 render's chroma detail is brought to the photo's (a grey photo: none, a grey face) ... */
#define CHROMA_MATCH_HI 2.5f  /* ... and from here on left as it was (colour photos: 3-10 levels on LFW) */
#define EDGE_FEATHER 0.03f    /* image-space blend ramp inside the mesh boundary, in face sizes */
#define EDGE_RAMP_TURN 0.07f  /* ... plus this much at 30+ degrees of yaw */
#define EDGE_RAMP_TEX 0.05f   /* texture-space blend ramp from the mesh boundary, in texture sides */
#define EDGE_RAMP_TOP 2.5f    /* ... times this at the top of the forehead (the hairline), growing from the brows up */
#define BOUNDARY_W 1.0f      /* identity shape weight on the mesh boundary (the outline: jaw, cheeks, forehead); 0.6 before
                                stop 40 (sym40: with SHAPE_SYM and JAW_REPLACE, docs/anonymization.md, stop 40) */
#define WARP_FALLOFF 0.25f    /* the background follows the moved outline over this distance, in face sizes */
#define MAX_YAW_RENDER 65.0f  /* beyond this the mesh is not trusted: fallback */
#define MESH_KP_DIST 0.25f    /* renderability: the mesh's eyes, nose, mouth at most this far from the detector's (face sizes) */
#define MESH_YAW_DIFF 0.35f   /* ... their nose offsets from the eye midpoint (eye distances) at most this far apart */
#define MESH_BOX_GROW 0.15f   /* ... the mesh's skin probes inside the detection box grown by this (box sizes) ... */
#define MESH_PROBES_IN 12     /* ... at least this many of the 15 */
#define REFIT_IOU 0.5f        /* (fall30) refit: the check analyser's face overlaps the detection at least this much */
#define REFIT_MARGIN 0.6f     /* ... looked for in the detection box grown by this (face sizes) on each side */
#define REFIT_SAME 0.5f       /* ... mf_anon_refit_photo: a refit overlapping an earlier record's detection this
                                 much (IoU) is that record's face (a duplicate detection) */
#define REFIT_ROLL 30.0f      /* ... its mesh's roll at most this far from the record's mesh's (degrees): the plain
                                 analyser reads a face rolled by 120 degrees the wrong way round (rot120/0025: -59) */
#define COVER_OVERLAP 0.3f    /* (prod31) mf_anon_defer / mf_anon_covered: a record not drawn overlapping a drawn one by
                                 this much of the smaller detection box is checked for being covered by it */
#define RENDER_MARGIN 0.35f   /* the rendered region: the face box + this many face sizes on each side */
#define CHECK_MARGIN 0.6f     /* the region the checks re-analyse */
#define CHILD_AGE 13.0f       /* below: the child path (own proportions kept, no push away from the own codes) */
#define HAIRLINE_BAND 0.12f  /* ... and starts this far inside the mesh at the top of the forehead (texture sides) */
#define AWAY 0.6f             /* the first draw's push away from the target's own codes (anti-face), x bucket spread */
#define HAIR_BAND 0.14f      /* drawn textures: the outer band above the eyes continued from the skin inside it ... */
#define TEMPLE_BAND 0.08f    /* ... and this wide at the temples, beside the brows and eyes (texture sides) */
#define CHEEK_BAND 0.07f     /* ... and this wide below the eyes, down the cheeks and jaw (texture sides) */
#define HAIR_RISE 0.06f      /* ... fully from this far above the eye row (texture sides) */
#define HAIR_FILL 0.04f      /* ... by a normalised convolution of this sigma (texture sides) */
#define HAIR_GRAIN 4.0f      /* ... plus its own finest band, clamped to +-this many levels */
#define FOREHEAD_SEAM 1.0f   /* (seam54) the drawn texture's step at the brows' ring evened out (tuning.forehead_seam) ... */
#define SEAM_SIGMA 0.02f     /* ... over the local means at this scale on either side (texture sides), ... */
#define SEAM_FADE 8.0f       /* ... in full where the other side's coverage blurred at that scale reaches 1 / this
                              * (about 1.2 sigmas from the step; 2: the step measured at that scale only halved) */
#define RELIEF_SIGMA 0.03f   /* the new skin's relief (folds, creases) below this scale, in face sizes ... */
#define RELIEF_MIN 0.5f      /* ... is scaled down to the photo's own, by at most this factor (never raised) */
#define TARGET_LIGHT_SIGMA 0.08f /* the target's own light (divided out before its codes are projected), texture sides */
#define SHAPE_REPLACE 1.0f    /* the target's own identity shape (its projection) taken out before the drawn one */
/* Measured first with the margin choice and left off (docs/anonymization.md, "Privacy outside the guarantee"): the
 * yaw error rose. On by default since stop 40 (sym40), with the outline at full weight (BOUNDARY_W 1) and the shape
 * deltas made symmetric (SHAPE_SYM), which takes the yaw cost away: 1,000 LFW yaw 1.43 -> 1.04 deg, pitch 2.92 ->
 * 2.75, mobileface -0.006 +- 0.002 (docs/anonymization.md, stop 40). Alone (without SHAPE_SYM) with the outline at
 * full weight it raised the yaw error (LFW 1.43 -> 1.77, the demo 2.43 -> 4.63). */
#define JAW_REPLACE 1.0f      /* the target's own shape taken out on the sides of the outline (jaw line, cheeks) */
#define ACCEPT_MARGIN -1.0f   /* a passing draw is published at once when this far below every ensemble threshold (x gap);
                                 < 0: off, the first passing draw is published */
#define EXTRA_DRAWS 2         /* ... else this many more draws, the passing one farthest below the thresholds wins */
#define LEAP -1.0f            /* (draws20) tuning.leap: a gentle draw rejected this many gaps over a threshold: the next
                                 draw is the first strong rung (< 0: off, the default since the lead's review: -8 to
                                 -19 % draws, but three faces published at the strong rung looked clearly worse and the
                                 demo photos' pitch error went 2.35 -> 3.20 degrees; 0.8 measured, docs) */
/* (turn20) the pose check (docs/anonymization.md, "Branch turn20"): a draw whose re-detected yaw or pitch moved more
 * than this from the original's is drawn again (tuning.pose_tolerance; 10 measured on the strong-profile set and the
 * demo photos). Off by default since the lead's review: not yet measured on FFHQ and LFW, and on the profile set it
 * mostly relabels (12 accepted faces became synthetic fallbacks with the same pixels, 2 more went to the filter) */
#define POSE_TOLERANCE -1.0f
/* (jit30) tuning.jitter_skip (docs/anonymization.md, "Branch jit30"): a draw's jittered alignments are skipped when
 * every ensemble similarity at the original's alignment is below its dissimilarity threshold by more than the factor x
 * the largest lift the jitters were measured to add there (max over the 6 jitters minus the own similarity, over
 * every checked draw of LFW, FFHQ, the cut and profile sets on main a3807b3) */
#define JITTER_SKIP -1.0f       /* the default factor (< 0: off) */
#define JIT_SKIP_MIN 1.5f       /* the smallest factor allowed (a safety margin over the measured maximum) */
#define JIT_LIFT_ARCFACE 0.22f  /* arcface's largest measured lift (LFW, an uncut frontal face: 0.021 -> 0.241) */
#define JIT_LIFT_FACEAPI 0.036f /* faceapi's (LFW and the profile set) */
#define JIT_SKIP_MAX_YAW 30.0f  /* never for faces turned this much (their lift is the largest) */
#define POSE_RELAXED_COST 10.0f /* synthetic fallback: a draw that lost the pose counts this many years further off */
#define POSE_FADE_FROM 20.0f    /* (turn20) the target's own shape codes fade from this yaw (the training faces' limit) */
#define POSE_FADE_YAW 0.0f      /* ... to 0 at this yaw: off by default (tuning.pose_fade, e.g. 40; measured in the docs:
                                   on the strong-profile set 10 turned faces more went to the filter, 3 fewer) */
#define TURN_LIGHT_YAW 0.0f     /* (turn20) the strong rung keeps the gentle light and grain from this yaw (tuning.turn_light,
                                   e.g. 25): off, measured (docs): 2 of 132 profile faces fewer > 8 degrees off, the
                                   same fallbacks, and the strong faces' distortions showed more under the photo's light */
/* (light22) the light step multiplies the render by the photo's shading ratio per channel (photo / render low-pass, up
 * to 3 x 1.6); where the drawn texture is lighter than its own low-pass (lit forehead, lids, nose ridge, the pale far
 * side of a turned draw) that excess takes one gain in all channels, the grey ratio, at most this. Per channel, a brown
 * draw on a pale, pink-lit photo (0032: ratios 1.28 / 1.65 / 2.44) had its light texels multiplied to white-blue, a red
 * draw on a grey photo (0030: 0.78 / 1.17 / 1.35) to cyan-white: the hard white glow of turned faces
 * (docs/anonymization.md, "Branch light22"; tuning.shade_cap, 0.5..5) */
#define SHADE_CAP 1.0f
/* (mouth30) the lips' middle rings (the mesh's vertices inside the outer lip loop that are on neither lip loop) move
 * with the lip group, so the whole lips keep the target's shape: left to the drawn deltas (x 1.6 on the strong rung)
 * while both lip loops moved rigidly, they were pushed past the corners and folded over the lip join (a wide red grin
 * and a dark stitched line on a pouting mouth; docs/anonymization.md, "Branch mouth30"; tuning.lips_whole) */
#define LIPS_WHOLE 1
/* (mouth30) the drawn texture's dark relief (creases, the corner's shadow) beside the lip corners, outside the lips, is
 * lifted to its low-pass by this fraction (tuning.mouth_crease): the drawn identity's own smile lines, stretched
 * outwards from the target's corners when its mouth is narrower than the model's, read as a wide smile. The zone: an
 * ellipse around each corner of MOUTH_CREASE_RX x MOUTH_CREASE_RY mouth widths (texture space), the low-pass's sigma
 * MOUTH_CREASE_SIGMA texture sizes. */
#define MOUTH_CREASE 0.0f
#define MOUTH_CREASE_RX 0.80f
#define MOUTH_CREASE_RY 0.60f
#define MOUTH_CREASE_SIGMA 0.02f
#define MOUTH_GRP_MAX 96 /* the lip group's vertices: 2 x 20 on the loops and the middle rings (40 in the mesh) */
#define RELAXED_STRONG_COST 5.0f /* (anon12a) synthetic fallback: a strong draw counts this many years further off */
#define CHILD_RELAXED_AGE 18.0f /* (child32) a child's synthetic fallback only from a draw read under this age */
#define FLAT_RUNGS 0          /* (anon12a) flattened last rungs before the filter: off (measured, docs) */
/* (last33) the last-resort rung: an adult face whose max_tries draws all failed on identity gets this many more before
 * the filter, at the first strong rung's strength, the farthest of LAST_NCAND anti-face candidates, the drawn shape at
 * LAST_OUTLINE on the mesh outline; published only when one passes every check (docs/anonymization.md, "Branch
 * last33") */
#define LAST_RUNGS 9
#define CHILD_LAST (-1) /* (kid44) a child's last-resort draws (tuning.child_last) */
#define VEIL (-1.0f)    /* (veil44) the nearest rejected draw blurred before the filter (tuning.veil) */
#define VEIL_MAX 0.2f
#define LAP_MAX (-1.0f)    /* (lap46) a draw's skin Laplacian variance at most this x the photo's (tuning.lap_max) */
#define LAP_PROBE 0.05f    /* ... its squares' half-side, face sizes */
#define LAP_FLOOR 16.0     /* ... the photo's variance taken as at least this (a smooth, made-up or soft-lit photo's
                            * 7-15 made every draw of demo photo 1's laughing woman "rough" at 17-33; broken draws read
                            * 50-230) */
#define DETAIL_AGES 1       /* (age47) detail maps of the original's age group (tuning.detail_ages; stop 47) */
#define AGE_DETAIL 0.6f    /* (adet46) the detail layer x this after a draw read too old (tuning.age_detail; stop 46) */
#define AGE_DETAIL_MAX 1.5f /* ... / this after one read too young, up to this x the default amplitude */
#define ATTR_STAY 3     /* (stay46) draws missing only age or gender that do not climb the ladder (tuning.attr_stay; on
                         * since stop 52 at the standard level; the strict level climbs: docs/anonymization.md) */
#define WARP_LOOP 4     /* (loop46) the outline loop made this many times denser for the warp (tuning.warp_loop; 4
                         * since stop 52, 1 before) */
#define WARP_LOOP_MAX 8 /* ... at most (36 x 8 points, under NV) */
#define REL_CHROMA (-1) /* (rc52) the features' colour relative to the skin scaled to the photo's skin (tuning.rel_chroma) */
#define CHROMA_CLAMP 0.08f /* (cc53) each rendered pixel's chromaticity within this of the photo skin's there (tuning.chroma_clamp; on
                            * since stop 53: the photo's own skin lies within 0.05-0.14 of its low-pass at its 95th percentile) */
#define LENS_FILL 1.2f /* (lens53) sunglasses' lenses grown from the eye zone up to this many eye distances (tuning.lens_fill;
                        * on since stop 53 at the standard level; the strict level keeps the lenses' tops off: docs) */
#define LENS_SKIN 0.3f /* ... through pixels under this skin probability */
#define CC_EYE_SCALE 1.3f /* ... not inside the eye loops this x about their centres (the model's whole visible eye) */
#define CC_LIP_SCALE 1.2f /* ... nor inside the outer lip loop this x about its centre */
enum { OVAL_N = 36 }; /* mf_anon_loop_oval */
#define WARP_POWER 4    /* (warp45) the background warp's Shepard weights 1 / d^4 (tuning.warp_power; 2 measured, off) */
#define VEIL_STEPS 3    /* ... at sigma veil, 1.5 veil, 2.25 veil */
#define LAST_NCAND MF_ANON_MAX_CAND
#define LAST_RUNGS_MAX 16
#define LAST_MODE 3         /* at the first strong rung's strength (the last rung's, 1, and climbing, 2: broken faces) */
#define LAST_OUTLINE 1.0f   /* the drawn shape at full weight on the outline (< 0: tuning.outline_w; the same, 1, since stop 40) */
/* (pale34) the strong rung's skin tone brought to the photo's skin under it (tone_match; tuning.tone_match;
 * docs/anonymization.md, "Branch pale34"): the broad light (3x the low-pass) left the drawn texture's own colour and
 * contrast (pale flat masks, dark high-contrast faces) */
#define TONE_MATCH 1.0f     /* strength, 0..1 */
#define TONE_SIGMA 0.08f    /* the luminance's low-pass whose spread is matched, face sizes */
#define TONE_GAIN_MIN 0.5f  /* the spread's gain at least ... */
#define TONE_GAIN_MAX 2.0f  /* ... and at most this */
#define TONE_CHAN_MIN 0.67f /* a channel's mean gain at least ... */
#define TONE_CHAN_MAX 1.5f  /* ... and at most this */
#define TONE_PROBE 0.04f    /* the skin probes' patches whose mean colour is matched, half-side in face sizes */
#define TONE_MIN_PX 200.0f  /* fewer pixels of skin (or in the probes' patches): left as it is */
/* (tone35) a strong draw whose skin varies across the face more than this many times the photo's (the skin probes'
 * patch means; strong_contrast) is drawn again: the strong faces past it were the broken ones (docs/anonymization.md,
 * "Where it stands (stop 35 ...)") */
#define STRONG_CONTRAST 1.6f
/* (hue36) every draw's texture codes keep their mean colour within this ratio of the target's own, per channel
 * (tuning.tone_codes; mf_anon_tone_codes in draw.c): the anti-face push no longer drags the skin tone far off */
#define TONE_CODES (-1.0f)
/* (hue36) a strong draw's texture loses its own broad light for the mean face's (target_unlit; tuning.strong_unlit):
 * the strong rung keeps only the photo's broadest light, so the drawn face's baked side light showed as a burnt half */
#define STRONG_UNLIT (-1)
/* (light37) the draws' light and tone codes are the target's own (tuning.light_keep; mf_anon_light_codes) */
#define LIGHT_KEEP (-1)
#define LIGHT_FLAT 0.5f /* ... the tone codes among them: at least this much of the component a flat colour shift */
/* (push38) the anti-face push and the candidates' choice follow the model's recognizer metric (tuning.push_metric) */
#define PUSH_METRIC 1.0f
/* (gal39) gallery identities are matched this fraction of the gap below the match threshold (tuning.gallery_margin):
 * an outside detector's alignment of the re-encoded published face read 0.015 more (arcface) than the guarantee's
 * worst alignment, so a margin of a third of the gap (arcface 0.030, faceapi 0.0067) */
#define GALLERY_MARGIN (1.0f / 3.0f)
/* (child39) a child's dissimilarity thresholds raised by this fraction of the gap (tuning.child_gap) */
#define CHILD_GAP (-1.0f) /* off: the faces it publishes are broken (docs/anonymization.md, stop 39) */
#define CHILD_GAP_MAX 0.8f
/* (kid43) a child's draws: bit 1 the anti-face push, bit 2 the own shape taken out (tuning.child_push) */
#define CHILD_PUSH (-1)
/* (upright43) a rolled face's check on an upright copy of the region with the plain analyser (tuning.upright_check) */
#define UPRIGHT_CHECK 1
#define UPRIGHT_ROLL 25.0f   /* rolled by more than this (check_analyzer's limit for the plain analyser) */
#define UPRIGHT_CTX 2.5f     /* the copy's side, in face sizes around the face's box */
#define UPRIGHT_SIDE_MAX 640 /* ... at most this many pixels (the face's own resolution below it) */
/* (sym40) the shape deltas made left-right symmetric (tuning.shape_sym; on since stop 40: the asymmetric part of the
 * deltas turned the head, 300 FFHQ yaw error 1.51 -> 1.11 deg alone) */
#define SHAPE_SYM 1
/* (age41) a passing draw whose age read misses the original's by more than AGE_SOFT years is held and up to
 * AGE_DRAWS more draws are made (tuning.age_soft, tuning.age_draws) */
#define AGE_SOFT (-1.0f) /* off: the draws it picks read more like their owners and some look worse (stop 41) */
#define AGE_DRAWS 2
/* (age41) tuning.age_stretch: the age asked of the model moved away from its mean training age (drawn faces read
 * nearer the mean than asked); the cap and the fade-in are MF_ANON_AGE_STRETCH_* in internal.h */
#define AGE_STRETCH 1.5f
#define FOREHEAD_BAND (-1) /* (band48) tuning.forehead_band: off */
#define BROW_DARK 0.9f /* (brow48) tuning.brow_dark: inverted brows no lighter than 0.9 x their skin (on since stop 48) */
#define BROW_GATE 1.0f    /* (brow48) tuning.brow_gate: only brows at least as light as their skin */
#define PHILTRUM_FLOOR (-1.0f) /* (lip57) tuning.philtrum_floor: the skin under the nose no darker than this x the mean
                                  face's there (scaled to the draw's cheeks; off) */
#define CHILD_STRONG (-1) /* (kid49) tuning.child_strong: a child is not drawn on the strong rung (on since stop 49) */
#define CHILD_END_NOTE " (a child: no strong draws)" /* ... in a fallback's note (the note's widths leave it room) */
#define AGE_STEP 0.8f /* ... the next draw's asked age moved by -AGE_STEP x the miss (tuning.age_step) */
#define AGE_FEEDBACK 0.8f /* (anon10b) after a rejected draw whose age missed by over half the tolerance: likewise */
#define CONTRAST_PROBE 0.05f /* the probes' patches, half-side in face sizes (eval_anon's tone figure) */
#define FLAT_SIGMA 0.06f      /* ... the coarse band taken out, in face sizes */
#define FLAT_AMOUNT 0.6f      /* ... how much of it the first one takes out (the next ones: all) */
#define FLAT_BROAD 0.35f      /* ... replaced by the new face's own light at this scale (face sizes) */
/* (looks35) the strong rung's dark sockets: the drawn texture's mid-scale shadows lifted (tuning.socket_lift;
 * docs/anonymization.md, "Branch looks35") */
#define SOCKET_LIFT 0.0f      /* off by default (mobileface +0.004 at 2.3 s.e., docs); 0.85 measured: the floor of the draw's
                                 socket shading over the mean face's */
#define SOCKET_SIGMA 0.025f   /* the mid scale, texture sizes (about a quarter of an eye's width) */
#define SOCKET_BROAD 0.10f    /* the broad scale, texture sizes */
#define SOCKET_RX 1.2f        /* the zone around each eye: an ellipse of this many eye widths across ... */
#define SOCKET_RY 0.9f        /* ... and this many up and down (brow to upper cheek) */
#define N_JIT MF_ANON_N_JITTER /* alignments of the guarantee besides ours (mf_anon_jitter5, geom.c) */
/* (speed32, tuning.one_pass) faceapi's one pass (the crop without its mirror): its thresholds by eval_lfw's
 * procedure (`eval_lfw --var faceapi:flip=0 --table`: match = FAR 1e-3 over all impostor pairs, dissimilarity =
 * min(99th percentile of impostors, 1st of genuine pairs)); the two-pass registry's are 0.9273 / 0.9073 */
#define ONE_PASS 0 /* off: the attacker's two-pass faceapi read some draws it passed over 0.9073 (docs) */
#define ONE_PASS_NAME "faceapi"
#define ONE_PASS_MATCH 0.9241f
#define ONE_PASS_DISSIM 0.9050f
/* (speed18) the ensemble recognizer a draw's identity check runs first, at all its alignments, before the others:
 * the cheapest (MobileFaceNet at 112 px: 5.6 ms a run against faceapi's 14.9 ms, two passes of a ResNet-34) and the
 * one that rejects most (on 87 LFW faces 221 of the 225 draws rejected in that step, faceapi alone 4; logged with
 * every job run, docs/anonymization.md "Branch speed18") */
#define SCREEN_FIRST "arcface"
/* (cut14) the attacker's square of a face cut by the border (issue 11's check, eval_privacy_anon): */
#define CUT_OUT 0.5f          /* a face is cut when its box (the mesh's or the detector's) leaves the picture by more
                                 than this many pixels */
#define CUT_FALLBACK_OUT 0.35f /* ... and goes to the fallback filter without a draw when more than this fraction of its
                                 box's side is outside (its mesh is fitted to the part left: cutt40 painted whole
                                 faces, eyes included, over the chin, and the attacker's square found them) */
#define ATTACK_CONTEXT 2.0f   /* the square's side, in face box sides around the box centre */
#define ATTACK_WIDE 3.0f      /* ... and a wider one around the detector's box: the box of the visible part of a cut
                                 face understates the face (cutt40/0073: 78 px found, 117 px whole) */
#define ATTACK_NEAR 0.25f     /* a face found in the square counts when its centre is this near the square's (sides) */
#define ATTACK_ROLL 20.0f     /* (attack14) an uncut face turned by this many degrees or more gets one attacker's square
                                 too (tuning.attack_all 0): upright, the plain analyser's alignment differs from the
                                 guarantee's turned one (rot90/0024: 0.327 there after 0.229 at ours) */
#define ATTACK_YAW 30.0f      /* (turn20) ... and an uncut face turned away by this much yaw: the attacker's square (a
                                 plain analysis of twice the box) aligns it otherwise than the guarantee (profilem/0001,
                                 -52 degrees: 0.338 there after 0.202 at ours) */
#define ATTACK_SAME 0.05f     /* the mesh's box gets its own square when its centre or side is this far (face sizes)
                                 from the detector's */
enum { ATTACK_SQ = 256, ATTACK_BOXES = 3 }; /* the square's side, pixels; squares per face (the detector's box at
                                                both sides, the mesh's) */

struct mf_anon {
    mf_anon_opts o;
    mf_anon_model_t *m;
    float *col_w; /* (hue36) 3 x kt: the drawn texture's mean colour over the valid texels per texture code (NULL
                     unless tuning.tone_codes is on) ... */
    float col_b[3]; /* ... and for the mean texture */
    float *brow_w;     /* (brow48) T * T: the brows' weights (mf_anon_brow_masks; NULL unless tuning.brow_dark) */
    uint8_t *brow_ref; /* ... T * T: their reference skin */
    float *lip_w;      /* (lip57) T * T: the skin under the nose (mf_anon_philtrum_masks; NULL unless
                          tuning.philtrum_floor) */
    uint8_t *lip_ref;  /* ... T * T: the cheeks' skin */
    float *band_w; /* (band48) ks + kt + 1: the forehead step's read-out (mf_anon_band_readout; NULL unless
                      tuning.forehead_band is on and the model's ring lies inside its texture) */
    float *feat_w; /* (feat50) MF_ANON_N_FEAT x (ks + kt + 1): the brows' and lids' read-outs (mf_anon_feature_readouts;
                      NULL unless tuning.feature_hold is on) */
    uint8_t *keep_codes; /* (light37) ks + kt: the codes a draw takes from the target (NULL unless tuning.light_keep) */
    int *tri_of;
    float *bary;
    float vweight[NV];   /* identity-shape weight per vertex: 0 on the mesh boundary, 1 inside */
    float vweight_last[NV]; /* (last33) the same with tuning.last_outline on the boundary (the last-resort draws) */
    short mirror_v[NV];  /* (sym40) each vertex's mirror image in the model's mean shape (nearest to -x, y, z) */
    float *uv_eye;       /* (eyes33) the model's texture coordinates with both lid loops spread by tuning.eye_uv, for
                            the draws with the model's eyes; NULL when the spread is off */
    float rweight[NV];   /* weight of taking out the target's own shape: 1 above the nose tip, 0 from the upper
                            lip down (the mouth and jaw carry the expression, which the projection would undo) */
    int grp_reye[64], grp_leye[64], grp_mouth[MOUTH_GRP_MAX], n_reye, n_leye, n_mouth; /* rigidly moved vertex groups */
    float brow_v;        /* texture row of the highest brow point */
    float *edge_alpha;   /* T * T: distance (texels) to the canonical mesh boundary, -1 outside the mesh; the blend
                            ramp over it follows the surface */
    float *hair_w, *hair_wi; /* T * T: hairline_band's weights (hairline_weights) */
    uint8_t *seam_side;  /* (seam54) T * T, above the eyes and the brows' middle row: 1 skin the training cleaned of hair
                            (its triangles touch no feature vertex), 2 skin it did not (touching a brow: the ring round
                            the brows), 3 the brows' own triangles (changed as 2, not in its means), 0 none of these */
    float *seam_m[2];    /* T * T: the two sides' coverage blurred at SEAM_SIGMA (how near a texel is to each) */
    int *fill_src;       /* T * T: the texel whose value a texel outside the mesh takes (-1: too far, left as is) */
    uint8_t *hole_kind;  /* per triangle: 0 skin, 1 eye opening, 2 mouth opening */
    uint8_t *tri_lid;    /* per triangle: skin touching an eye contour (the lids; covered by sunglasses) */
    uint8_t *tri_eyezone; /* per triangle: skin around an eye (lids, eye shadow, under-eye): replaced whatever the
                             occluder test says unless glasses or sunglasses sit there (make-up is not an occluder) */
    int bnd_v[NV], n_bnd;  /* vertices on the mesh boundary (the silhouette moves the background with it) */
    uint8_t *tri_force;  /* triangles always replaced (brows, eyes, lips, nose), whatever the occluder test says */
    uint8_t *tri_core;   /* ... of those, the ones with two or more feature vertices: the features themselves (a
                            triangle with one brow vertex reaches up to the middle of the forehead) */
    int n_rec;
    mf_face_recognizer_t *rec[MF_ANON_MAX_RECOGNIZERS];
    /* (speed16) with a pool of 2+ threads: a second session of each recognizer, on the calling thread's partner
     * thread (emb_run); then both sessions run without the pool (its threads barely shorten one small network) */
    mf_face_recognizer_t *rec2[MF_ANON_MAX_RECOGNIZERS];
    int par;
    /* (speed19) with a->par: an attribute session of its own without the pool (the analysers' default models), so a
     * draw's age and gender are read on the calling thread while the pool's other thread embeds (check, step (3)) */
    mf_face_attrib_t *attr_np;
    const mf_face_recognizer_info *info[MF_ANON_MAX_RECOGNIZERS];
    mf_face_recognizer_info info_one[MF_ANON_MAX_RECOGNIZERS]; /* (speed32) info[i] with tuning.one_pass's thresholds */
    const mf_face_recognizer_info *info_base[MF_ANON_MAX_RECOGNIZERS]; /* (child39) info[] outside a child's call */
    mf_face_recognizer_info info_child[MF_ANON_MAX_RECOGNIZERS];        /* ... and in it (tuning.child_gap) */
    int judge;     /* (judge34) the recognizer index of tuning.judge, -1: none */
    int force_similar;
    int reference; /* mf_anon_debug_reference */
    long n_emb;    /* (jit30) recognizer embeddings run so far (mf_anon_result.embeddings) */
    int n_donor;
    float *donor_tex; /* n_donor * T * T * 3 */
    float *donor_age, *donor_male;
    float *donor_emb; /* n_donor * n_rec * 1024: the donor's embedding by each ensemble recognizer (zeros elsewhere) */
};

static int hairline_weights(mf_anon_t *a);
static int seam_weights(mf_anon_t *a);

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}



int mf_anon_create_impl(const mf_anon_opts *opts, mf_face_models_t *shared, mf_anon_t **out) {
    *out = NULL;
    if (!opts || !opts->models_root || !opts->identity_model || !opts->an)
        return mf_error_set(MF_ERR_ARG, "anon: models_root, identity_model and an are required");
    mf_anon_t *a = calloc(1, sizeof *a);
    if (!a) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    a->o = *opts;
    if (a->o.max_tries <= 0) a->o.max_tries = MF_ANON_DEFAULT_TRIES;
    if (a->o.max_tries > 32) a->o.max_tries = 32;
    if (a->o.age_tolerance <= 0) a->o.age_tolerance = 10;
    if (a->o.gender_confidence <= 0) a->o.gender_confidence = 0.6f; /* stop 31: 0.75 -> 0.6 (docs/anonymization.md, "Where it stands (stop 31)") */
    mf_anon_tuning *tu = &a->o.tuning;
    if (tu->shading_sigma <= 0) tu->shading_sigma = SHADING_SIGMA;
    if (tu->shape_gain <= 0) tu->shape_gain = SHAPE_GAIN;
    if (tu->fine_amp <= 0) tu->fine_amp = FINE_AMP;
    tu->sh_light = tu->sh_light == 0 ? SH_LIGHT : !(tu->sh_light > 0) ? 0 : fminf(1, tu->sh_light);
    tu->shade_move = tu->shade_move == 0 ? SHADE_MOVE : tu->shade_move < 0 ? 0 : tu->shade_move > 1 ? 1 : tu->shade_move;
    tu->eye_soften = tu->eye_soften == 0 ? EYE_SOFTEN : tu->eye_soften < 0 ? 0 : tu->eye_soften > 0.1f ? 0.1f : tu->eye_soften;
    tu->eye_grey = tu->eye_grey == 0 ? EYE_GREY : tu->eye_grey < 0 ? 0 : tu->eye_grey > 1 ? 1 : tu->eye_grey;
    tu->eye_dark = tu->eye_dark == 0 ? EYE_DARK : tu->eye_dark < 0 ? 0 : tu->eye_dark > 2 ? 2 : tu->eye_dark;
    tu->eye_book = tu->eye_book < 0 ? 0 : tu->eye_book;
    tu->spots = tu->spots == 0 ? SPOTS : !(tu->spots > 0) ? -1 : tu->spots > 0.1f ? 0.1f : tu->spots;
    tu->eye_lid = tu->eye_lid == 0 ? EYE_LID : !(tu->eye_lid > 0) ? -1 : tu->eye_lid;
    tu->eye_uv = tu->eye_uv == 0 ? EYE_UV : !(tu->eye_uv > 1) ? -1 : fminf(tu->eye_uv, EYE_UV_MAX);
    if (tu->tex_gain <= 0) tu->tex_gain = TEX_GAIN;
    if (tu->detail_amp <= 0) tu->detail_amp = DETAIL_AMP;
    if (!(tu->away > 0)) tu->away = AWAY;
    if (tu->away > 3) tu->away = 3;
    if (tu->ladder < 0 || tu->ladder > 1) tu->ladder = 0;
    /* identity draws: the anti-face by default (0, -1); the unlinkable draws (1, 2) are an option: measured, they
     * linked fewer of a person's photos but cost fallbacks, strong draws and looks (docs/anonymization.md) */
    tu->unlinked = tu->unlinked <= 0 ? 0 : tu->unlinked > 2 ? 2 : tu->unlinked;
    if (tu->accept_margin == 0) tu->accept_margin = ACCEPT_MARGIN;
    if (tu->extra_draws == 0) tu->extra_draws = EXTRA_DRAWS;
    if (tu->extra_draws > 32) tu->extra_draws = 32;
    if (!(tu->outline_w > 0)) tu->outline_w = BOUNDARY_W;
    if (tu->jaw_replace == 0) tu->jaw_replace = JAW_REPLACE;
    if (!(tu->jaw_replace > 0)) tu->jaw_replace = 0;
    if (tu->jaw_replace > 1) tu->jaw_replace = 1;
    if (tu->outline_w > 1) tu->outline_w = 1;
    if (tu->flat_rungs == 0) tu->flat_rungs = FLAT_RUNGS;
    if (tu->pose_tolerance == 0) tu->pose_tolerance = POSE_TOLERANCE;
    if (!(tu->pose_tolerance > 0)) tu->pose_tolerance = 0; /* off (NaN too) */
    if (tu->pose_fade == 0) tu->pose_fade = POSE_FADE_YAW;
    if (!(tu->pose_fade > POSE_FADE_FROM)) tu->pose_fade = 0; /* off */
    if (tu->turn_light == 0) tu->turn_light = TURN_LIGHT_YAW;
    if (!(tu->turn_light > 0)) tu->turn_light = 0; /* off */
    if (tu->shade_cap == 0) tu->shade_cap = SHADE_CAP;
    if (tu->lips_whole == 0) tu->lips_whole = LIPS_WHOLE;
    if (tu->mouth_crease == 0) tu->mouth_crease = MOUTH_CREASE;
    tu->mouth_crease = !(tu->mouth_crease > 0) ? 0 : fminf(1, tu->mouth_crease); /* 0 off */
    tu->shade_cap = !(tu->shade_cap > 0) ? 0 : tu->shade_cap < 0.5f ? 0.5f : tu->shade_cap > 5 ? 5 : tu->shade_cap; /* 0 off */
    if (tu->relaxed_strong == 0) tu->relaxed_strong = RELAXED_STRONG_COST;
    if (!(tu->relaxed_strong > 0)) tu->relaxed_strong = 0;
    if (tu->relaxed_strong > 100) tu->relaxed_strong = 100;
    if (tu->child_relaxed_age == 0) tu->child_relaxed_age = CHILD_RELAXED_AGE;
    if (!(tu->child_relaxed_age > 0)) tu->child_relaxed_age = -1; /* off (NaN too) */
    if (tu->leap == 0) tu->leap = LEAP;
    if (tu->jitter_skip == 0) tu->jitter_skip = JITTER_SKIP;
    tu->jitter_skip = !(tu->jitter_skip > 0) ? 0 : fmaxf(tu->jitter_skip, JIT_SKIP_MIN); /* 0 off */
    if (!(tu->leap > 0)) tu->leap = 0;
    if (tu->last_rungs == 0) tu->last_rungs = LAST_RUNGS;
    tu->last_rungs = tu->last_rungs < 0 ? 0 : tu->last_rungs > LAST_RUNGS_MAX ? LAST_RUNGS_MAX : tu->last_rungs;
    if (tu->last_mode <= 0 || tu->last_mode > 3) tu->last_mode = LAST_MODE;
    if (tu->tone_match == 0) tu->tone_match = TONE_MATCH;
    tu->tone_match = !(tu->tone_match > 0) ? 0 : fminf(tu->tone_match, 1); /* 0 off */
    if (tu->socket_lift == 0) tu->socket_lift = SOCKET_LIFT;
    tu->socket_lift = !(tu->socket_lift > 0) ? 0 : fminf(tu->socket_lift, 1); /* 0 off */
    if (tu->last_outline == 0) tu->last_outline = LAST_OUTLINE;
    if (tu->strong_contrast == 0) tu->strong_contrast = STRONG_CONTRAST;
    if (tu->lens_bright == 0) tu->lens_bright = LENS_BRIGHT;
    if (!(tu->lens_bright > 0)) tu->lens_bright = 0; /* off (NaN too) */
    if (tu->lens_ring == 0) tu->lens_ring = LENS_RING;
    tu->lens_ring = !(tu->lens_ring > 0) ? 0 : fminf(tu->lens_ring, 1); /* 0 off (NaN too) */
    if (!(tu->strong_contrast > 0)) tu->strong_contrast = 0; /* off (NaN too) */
    if (tu->tone_codes == 0) tu->tone_codes = TONE_CODES;
    if (!(tu->tone_codes > 1)) tu->tone_codes = 0; /* off (NaN too) */
    if (tu->strong_unlit == 0) tu->strong_unlit = STRONG_UNLIT;
    if (tu->strong_unlit < 0) tu->strong_unlit = 0; /* off */
    if (tu->light_keep == 0) tu->light_keep = LIGHT_KEEP;
    tu->light_keep = tu->light_keep < 0 ? 0 : tu->light_keep > 3 ? 3 : tu->light_keep; /* 0 off */
    if (tu->light_flat == 0) tu->light_flat = LIGHT_FLAT;
    tu->light_flat = !(tu->light_flat > 0) ? 0 : tu->light_flat; /* 0: no tone codes kept, side light only */
    if (tu->push_metric == 0) tu->push_metric = PUSH_METRIC;
    tu->push_metric = !(tu->push_metric > 0) ? 0 : tu->push_metric > 1 ? 1 : tu->push_metric; /* 0 off */
    if (tu->gallery_margin == 0) tu->gallery_margin = GALLERY_MARGIN;
    tu->gallery_margin = !(tu->gallery_margin > 0) ? 0 : fminf(tu->gallery_margin, 1); /* 0: the match threshold */
    if (tu->child_gap == 0) tu->child_gap = CHILD_GAP;
    tu->child_gap = !(tu->child_gap > 0) ? 0 : fminf(tu->child_gap, CHILD_GAP_MAX); /* 0 off */
    if (tu->child_push == 0) tu->child_push = CHILD_PUSH;
    tu->child_push = tu->child_push < 0 ? 0 : tu->child_push & 3; /* 0 off */
    if (tu->upright_check == 0) tu->upright_check = UPRIGHT_CHECK;
    tu->upright_check = tu->upright_check > 0; /* 0 off */
    if (tu->veil == 0) tu->veil = VEIL;
    tu->veil = !(tu->veil > 0) ? 0 : fminf(tu->veil, VEIL_MAX); /* 0 off */
    if (tu->lap_max == 0) tu->lap_max = LAP_MAX;
    if (!(tu->lap_max > 0)) tu->lap_max = -1; /* off (NaN too) */
    if (tu->age_detail == 0) tu->age_detail = AGE_DETAIL;
    tu->age_detail = !(tu->age_detail > 0 && tu->age_detail < 1) ? -1 : fmaxf(tu->age_detail, 0.1f); /* -1 off */
    if (tu->detail_ages == 0) tu->detail_ages = DETAIL_AGES;
    tu->detail_ages = tu->detail_ages < 0 ? -1 : tu->detail_ages > 2 ? 2 : tu->detail_ages;
    if (tu->attr_stay == 0) tu->attr_stay = a->o.strict > 0 ? -1 : ATTR_STAY; /* (stay52) strict: privacy first */
    tu->attr_stay = tu->attr_stay < 0 ? 0 : tu->attr_stay > 8 ? 8 : tu->attr_stay; /* 0 off */
    if (tu->rel_chroma == 0) tu->rel_chroma = REL_CHROMA;
    tu->rel_chroma = tu->rel_chroma > 0; /* 0 off */
    if (tu->chroma_clamp == 0) tu->chroma_clamp = CHROMA_CLAMP;
    if (tu->forehead_seam == 0) tu->forehead_seam = FOREHEAD_SEAM;
    tu->forehead_seam = !(tu->forehead_seam > 0) ? -1 : fminf(tu->forehead_seam, 1); /* off (NaN too) */
    if (tu->lens_fill == 0) tu->lens_fill = a->o.strict > 0 ? -1 : LENS_FILL; /* (lens53) strict: privacy first */
    if (!(tu->lens_fill > 0)) tu->lens_fill = -1; /* off (NaN too) */
    tu->lens_fill = fminf(tu->lens_fill, 2);
    if (!(tu->chroma_clamp > 0)) tu->chroma_clamp = -1; /* off (NaN too) */
    if (tu->warp_loop == 0) tu->warp_loop = WARP_LOOP;
    tu->warp_loop = tu->warp_loop < 1 ? 1 : tu->warp_loop > WARP_LOOP_MAX ? WARP_LOOP_MAX : tu->warp_loop;
    if (tu->warp_power == 0) tu->warp_power = WARP_POWER;
    tu->warp_power = tu->warp_power >= 4 ? 4 : 2;
    if (tu->child_last == 0) tu->child_last = CHILD_LAST;
    tu->child_last = tu->child_last < 0 ? 0 : tu->child_last > LAST_RUNGS_MAX ? LAST_RUNGS_MAX : tu->child_last;
    if (tu->shape_sym == 0) tu->shape_sym = SHAPE_SYM;
    tu->shape_sym = tu->shape_sym > 0; /* 0 off */
    if (tu->age_soft == 0) tu->age_soft = AGE_SOFT;
    if (!(tu->age_soft > 0)) tu->age_soft = -1; /* off (NaN too) */
    if (tu->age_draws == 0) tu->age_draws = AGE_DRAWS;
    tu->age_draws = tu->age_draws < 0 ? 0 : tu->age_draws > 8 ? 8 : tu->age_draws; /* 0 off */
    if (tu->age_stretch == 0) tu->age_stretch = AGE_STRETCH;
    tu->age_stretch = !(tu->age_stretch > 0) ? 1 : fminf(tu->age_stretch, 3);
    if (tu->brow_dark == 0) tu->brow_dark = BROW_DARK;
    tu->brow_dark = !(tu->brow_dark > 0) ? -1 : fminf(tu->brow_dark, 1);
    if (tu->sh_chroma == 0) tu->sh_chroma = SH_CHROMA;
    if (tu->detail_beard == 0) tu->detail_beard = DETAIL_BEARD;
    tu->detail_beard = !(tu->detail_beard >= 0) || tu->detail_beard >= 1 ? -1 : tu->detail_beard; /* off: -1 */
    if (tu->feature_hold == 0) tu->feature_hold = FEATURE_HOLD;
    tu->feature_hold = !(tu->feature_hold > 0) ? -1 : fminf(tu->feature_hold, 1.5f);
    if (tu->feature_dark == 0) tu->feature_dark = FEATURE_DARK;
    tu->feature_dark = !(tu->feature_dark > 0) ? -1 : fmaxf(tu->feature_dark, 1.0f);
    if (tu->feature_pick == 0) tu->feature_pick = FEATURE_PICK;
    tu->feature_pick = !(tu->feature_pick > 0) ? -1 : fmaxf(tu->feature_pick, 1.0f);
    if (tu->feature_pick_near == 0) tu->feature_pick_near = FEATURE_PICK_NEAR;
    tu->feature_pick_near = !(tu->feature_pick_near > 0) ? -1 : fminf(tu->feature_pick_near, 1.0f);
    if (tu->brow_gate == 0) tu->brow_gate = BROW_GATE;
    tu->brow_gate = !(tu->brow_gate > 0) ? -1 : fminf(tu->brow_gate, 2);
    if (tu->philtrum_floor == 0) tu->philtrum_floor = PHILTRUM_FLOOR;
    tu->philtrum_floor = !(tu->philtrum_floor > 0) ? -1 : fminf(tu->philtrum_floor, 1);
    if (tu->child_strong == 0) tu->child_strong = CHILD_STRONG;
    tu->child_strong = tu->child_strong > 0 ? 1 : -1;
    if (tu->forehead_band == 0) tu->forehead_band = FOREHEAD_BAND;
    tu->forehead_band = tu->forehead_band > 0 ? 1 : -1;
    if (tu->age_step == 0) tu->age_step = AGE_STEP;
    tu->age_step = !(tu->age_step > 0) ? 0 : fminf(tu->age_step, 1); /* 0: the same age asked again */
    tu->last_outline = !(tu->last_outline > 0) ? tu->outline_w : fminf(tu->last_outline, 1);
    if (tu->flat_rungs < 0) tu->flat_rungs = 0;
    if (tu->flat_rungs > 8) tu->flat_rungs = 8;
    if (!(tu->flat_sigma > 0)) tu->flat_sigma = FLAT_SIGMA;
    if (tu->flat_sigma > 0.5f) tu->flat_sigma = 0.5f;
    if (!(tu->flat_amount > 0)) tu->flat_amount = FLAT_AMOUNT;
    if (tu->flat_amount > 1) tu->flat_amount = 1;
    tu->cut_check = tu->cut_check < 0 ? -1 : tu->cut_check == 2 ? 2 : 1;
    tu->attack_all = tu->attack_all < 0 ? -1 : tu->attack_all > 0;
    if (tu->one_pass == 0) tu->one_pass = ONE_PASS;
    tu->one_pass = tu->one_pass > 0; /* 0 off */
    if (!(tu->one_pass_dissim > 0) || tu->one_pass_dissim > ONE_PASS_DISSIM) tu->one_pass_dissim = ONE_PASS_DISSIM;
    a->judge = -1;
    if (a->o.strict > 0 && !(tu->judge && tu->judge[0])) { /* (strict51) the strict level's judge */
        tu->judge = MF_ANON_STRICT_JUDGE;
        if (tu->judge_dissim == 0) tu->judge_dissim = MF_ANON_STRICT_DISSIM;
    }
    const char *judge = tu->judge && tu->judge[0] ? tu->judge : NULL;
    int st = mf_anon_model_load(opts->identity_model, &a->m);
    if (!st && judge) { /* (judge34) fails closed: a judge asked for is there, usable, or nothing is made */
        const mf_face_recognizer_info *ji = mf_face_recognizer_find(judge);
        if (!ji || ji->unusable) st = mf_error_set(MF_ERR_ARG, "anon: judge %s: no usable recognizer of that name", judge);
    }
    a->par = opts->pool && mf_nn_pool_threads(opts->pool) >= 2;
    mf_nn_pool_t *rpool = a->par ? NULL : opts->pool;
    for (int i = 0; !st && i < mf_face_recognizer_count() && a->n_rec < MF_ANON_MAX_RECOGNIZERS; i++) {
        const mf_face_recognizer_info *inf = mf_face_recognizer_info_at(i);
        int is_judge = judge && !inf->ensemble && !strcmp(inf->name, judge);
        if (!inf->ensemble && !is_judge && !(opts->measure_all && inf->match_threshold < 1)) continue;
        for (int t = 0; !st && t < 1 + a->par; t++) {
            mf_face_recognizer_t **rp = t ? &a->rec2[a->n_rec] : &a->rec[a->n_rec];
            st = shared ? mf_face_recognizer_create_from(shared, inf->name, rpool, rp)
                        : mf_face_recognizer_create(opts->models_root, inf->name, rpool, rp);
        }
        if (!st && a->o.tuning.one_pass > 0 && !strcmp(inf->name, ONE_PASS_NAME)) { /* (speed32) no mirror pass */
            for (int t = 0; t < 1 + a->par; t++) mf_face_recognizer_set_flip(t ? a->rec2[a->n_rec] : a->rec[a->n_rec], 0);
            a->info_one[a->n_rec] = *inf;
            a->info_one[a->n_rec].match_threshold = ONE_PASS_MATCH;
            a->info_one[a->n_rec].dissimilarity_threshold = a->o.tuning.one_pass_dissim;
            inf = &a->info_one[a->n_rec];
        }
        if (!st && is_judge) { /* (judge34) an ensemble member of this anonymizer (the registry is not changed) */
            a->info_one[a->n_rec] = *inf;
            a->info_one[a->n_rec].ensemble = 1;
            if (tu->judge_dissim != 0 && tu->judge_dissim < inf->dissimilarity_threshold)
                a->info_one[a->n_rec].dissimilarity_threshold = tu->judge_dissim;
            inf = &a->info_one[a->n_rec];
            a->judge = a->n_rec;
        }
        if (!st) { /* (child39) the child copy: dissimilarity thresholds child_gap of the gap up (ensemble only) */
            a->info_child[a->n_rec] = *inf;
            float gap = inf->match_threshold - inf->dissimilarity_threshold;
            if (inf->ensemble && gap > 0) a->info_child[a->n_rec].dissimilarity_threshold += a->o.tuning.child_gap * gap;
            a->info_base[a->n_rec] = inf;
            a->info[a->n_rec++] = inf;
        }
        else if (a->rec[a->n_rec]) mf_face_recognizer_free(a->rec[a->n_rec]), a->rec[a->n_rec] = NULL;
    }
    if (!st && a->par) /* the analysers' attribute session (analyze.c: default models), without the pool */
        st = shared ? mf_face_attrib_create_from(shared, NULL, NULL, &a->attr_np)
                    : mf_face_attrib_create(opts->models_root, NULL, NULL, &a->attr_np);
    if (!st) {
        size_t T2 = (size_t)a->m->T * a->m->T;
        a->tri_of = malloc(sizeof(int) * T2), a->bary = malloc(sizeof(float) * T2 * 3);
        a->tri_force = calloc((size_t)a->m->n_tri, 1);
        a->tri_core = calloc((size_t)a->m->n_tri, 1);
        a->hole_kind = calloc((size_t)a->m->n_tri, 1);
        a->tri_lid = calloc((size_t)a->m->n_tri, 1);
        a->tri_eyezone = calloc((size_t)a->m->n_tri, 1);
        if (!a->tri_of || !a->bary || !a->tri_force || !a->tri_core || !a->hole_kind || !a->tri_lid || !a->tri_eyezone) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        else {
            mf_anon_texel_map(a->m, a->tri_of, a->bary);
            for (int t = 0; t < a->m->n_tri; t++) {
                if (!a->m->hole[t]) continue;
                float cx = 0, cy = 0;
                for (int e = 0; e < 3; e++) cx += a->m->uv[2 * a->m->tri[3 * t + e]] / 3, cy += a->m->uv[2 * a->m->tri[3 * t + e] + 1] / 3;
                a->hole_kind[t] = mf_anon_in_loop(a->m->uv, mf_anon_loop_mouth, 20, cx, cy) ? 2 : 1;
            }
        }
    }
    if (!st) {
        /* boundary vertices: on an edge used by one triangle only */
        const mf_anon_model_t *m = a->m;
        int *cnt = calloc((size_t)NV * NV, sizeof(int)); /* 468^2 ints, 876 KB, once */
        uint8_t *bnd = calloc(NV, 1), *force_v = calloc(NV, 1);
        if (!cnt || !bnd || !force_v) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        for (int t = 0; !st && t < m->n_tri; t++)
            for (int e = 0; e < 3; e++) {
                int p = m->tri[3 * t + e], q = m->tri[3 * t + (e + 1) % 3];
                cnt[(p < q ? p : q) * NV + (p < q ? q : p)]++;
            }
        for (int p = 0; !st && p < NV; p++)
            for (int q = p + 1; q < NV; q++)
                if (cnt[p * NV + q] == 1) bnd[p] = bnd[q] = 1;
        for (int v = 0; !st && v < NV; v++)
            if (bnd[v]) a->bnd_v[a->n_bnd++] = v;
        float ramp = 0.12f * m->T, near_bnd[NV] = {0};
        for (int v = 0; !st && v < NV; v++) {
            float d = 1e9f;
            for (int b = 0; b < NV; b++)
                if (bnd[b]) d = fminf(d, hypotf(m->uv[2 * v] - m->uv[2 * b], m->uv[2 * v + 1] - m->uv[2 * b + 1]));
            float x = d / ramp;
            x = x > 1 ? 1 : x;
            a->vweight[v] = tu->outline_w + (1 - tu->outline_w) * x * x * (3 - 2 * x);
            a->vweight_last[v] = tu->last_outline + (1 - tu->last_outline) * x * x * (3 - 2 * x);
            near_bnd[v] = 1 - x * x * (3 - 2 * x);
        }
        /* (sym40) the mirror map: the mean shape is frontal and centred */
        if (!st) st = mf_anon_mirror_map(m->shape_mean, NV, a->mirror_v, NULL);
        {
            float y_nose = m->uv[2 * 1 + 1], y_lip = m->uv[2 * 0 + 1]; /* nose tip (1), upper lip top (0) */
            for (int v = 0; v < NV; v++) {
                float u = y_lip > y_nose ? (m->uv[2 * v + 1] - y_nose) / (y_lip - y_nose) : 0;
                u = u < 0 ? 0 : u > 1 ? 1 : u;
                a->rweight[v] = 1 - u * u * (3 - 2 * u);
            }
            /* the sides of the outline (jaw line, cheeks): the target's own width and jaw are identity the ensemble
             * hardly sees but wider-cropping recognizers do; the chin under the mouth (its drop is the expression)
             * keeps the fade above */
            float umid = m->uv[2 * 1], hw = 0;
            for (int v = 0; v < NV; v++)
                if (near_bnd[v] >= 1) hw = fmaxf(hw, fabsf(m->uv[2 * v] - umid));
            for (int v = 0; hw > 0 && v < NV; v++) {
                float sd = (fabsf(m->uv[2 * v] - umid) / hw - 0.35f) / 0.35f;
                sd = sd < 0 ? 0 : sd > 1 ? 1 : sd;
                a->rweight[v] = fmaxf(a->rweight[v], tu->jaw_replace * near_bnd[v] * sd * sd * (3 - 2 * sd));
            }
        }
        a->brow_v = 1e9f;
        for (int i = 0; i < 20; i++) a->brow_v = fminf(a->brow_v, m->uv[2 * mf_anon_feature_v[i] + 1]);
        for (size_t i = 0; !st && i < sizeof mf_anon_feature_v / sizeof mf_anon_feature_v[0]; i++) force_v[mf_anon_feature_v[i]] = 1;
        /* rigid groups: each eye's lid loop, the lips (inner loop and the 20 outer-lip points of mf_anon_feature_v) */
        for (int i = 0; i < 16; i++) a->grp_reye[a->n_reye++] = mf_anon_loop_reye[i], a->grp_leye[a->n_leye++] = mf_anon_loop_leye[i];
        /* (eyes33) the model's eyes drawn with the texture's whole visible eye in the opening: the spread coordinates,
         * the same for every draw, made once */
        float eye_k = mf_anon_eye_uv_gain(tu);
        if (!st && eye_k > 1) {
            if (!(a->uv_eye = malloc(sizeof(float) * NV * 2))) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            if (!st) memcpy(a->uv_eye, m->uv, sizeof(float) * NV * 2);
            if (!st) st = mf_anon_eye_uv(a->uv_eye, NV, mf_anon_loop_reye, 16, eye_k);
            if (!st) st = mf_anon_eye_uv(a->uv_eye, NV, mf_anon_loop_leye, 16, eye_k);
        }
        for (int i = 0; i < 20; i++) a->grp_mouth[a->n_mouth++] = mf_anon_loop_mouth[i], a->grp_mouth[a->n_mouth++] = mf_anon_feature_v[20 + i];
        for (int i = 0; !st && i < 20; i++) force_v[mf_anon_loop_mouth[i]] = 1;
        /* (mouth30) the lips' middle rings join the group (tuning.lips_whole, LIPS_WHOLE) */
        for (int v = 0; !st && tu->lips_whole > 0 && v < NV; v++) {
            int in_grp = 0;
            for (int i = 0; i < a->n_mouth; i++) in_grp |= a->grp_mouth[i] == v;
            if (!in_grp && a->n_mouth < MOUTH_GRP_MAX && mf_anon_in_loop(m->uv, mf_anon_feature_v + 20, 20, m->uv[2 * v], m->uv[2 * v + 1]))
                a->grp_mouth[a->n_mouth++] = v;
        }
        for (int t = 0; !st && t < m->n_tri; t++)
            a->tri_force[t] = force_v[m->tri[3 * t]] || force_v[m->tri[3 * t + 1]] || force_v[m->tri[3 * t + 2]],
            a->tri_core[t] = force_v[m->tri[3 * t]] + force_v[m->tri[3 * t + 1]] + force_v[m->tri[3 * t + 2]] >= 2;
        uint8_t eye_v[NV] = {0};
        for (int i = 0; i < 16; i++) eye_v[mf_anon_loop_reye[i]] = eye_v[mf_anon_loop_leye[i]] = 1;
        for (int t = 0; !st && t < m->n_tri; t++)
            a->tri_lid[t] = !m->hole[t] && (eye_v[m->tri[3 * t]] || eye_v[m->tri[3 * t + 1]] || eye_v[m->tri[3 * t + 2]]);
        /* the eye zone: triangle centres within an ellipse around each eye (0.8 x 0.6 eye widths: lids, the eye
         * shadow up to the brows, the under-eye) */
        for (int e = 0; !st && e < 2; e++) {
            const int *loop = e ? mf_anon_loop_leye : mf_anon_loop_reye;
            float c[2] = {0, 0}, x0 = 1e9f, x1 = -1e9f;
            for (int i = 0; i < 16; i++) {
                float ux = m->uv[2 * loop[i]], uy = m->uv[2 * loop[i] + 1];
                c[0] += ux / 16, c[1] += uy / 16, x0 = fminf(x0, ux), x1 = fmaxf(x1, ux);
            }
            float ew = x1 - x0;
            for (int t = 0; ew > 0 && t < m->n_tri; t++) {
                if (m->hole[t]) continue;
                float cx = 0, cy = 0;
                for (int q = 0; q < 3; q++) cx += m->uv[2 * m->tri[3 * t + q]] / 3, cy += m->uv[2 * m->tri[3 * t + q] + 1] / 3;
                float u = (cx - c[0]) / (0.8f * ew), v = (cy - c[1]) / (0.6f * ew);
                if (u * u + v * v <= 1) a->tri_eyezone[t] = 1;
            }
        }
        /* texture-space blend ramp: distance of each texel to the nearest boundary vertex, over EDGE_RAMP_TEX */
        a->edge_alpha = malloc(sizeof(float) * (size_t)m->T * m->T);
        if (!st && !a->edge_alpha) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        /* to the boundary edges, not only their vertices: the distance to the vertices alone made the ramp's iso-lines
         * scalloped, and the hairline showed a row of light arcs between the outline points */
        int nbe = 0, *be = malloc(sizeof(int) * 2 * (size_t)3 * m->n_tri);
        if (!st && !be) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        for (int t = 0; !st && t < m->n_tri; t++)
            for (int e = 0; e < 3; e++) {
                int p = m->tri[3 * t + e], q = m->tri[3 * t + (e + 1) % 3];
                if (cnt[(p < q ? p : q) * NV + (p < q ? q : p)] == 1) be[2 * nbe] = p, be[2 * nbe + 1] = q, nbe++;
            }
        for (int y = 0; !st && y < m->T; y++)
            for (int x = 0; x < m->T; x++) {
                float d = 1e9f, px = x + 0.5f, py = y + 0.5f;
                for (int b = 0; b < nbe; b++) {
                    const float *p0 = m->uv + 2 * be[2 * b], *p1 = m->uv + 2 * be[2 * b + 1];
                    float ex = p1[0] - p0[0], ey = p1[1] - p0[1], l2 = ex * ex + ey * ey;
                    float u = l2 > 0 ? ((px - p0[0]) * ex + (py - p0[1]) * ey) / l2 : 0;
                    u = u < 0 ? 0 : u > 1 ? 1 : u;
                    d = fminf(d, hypotf(px - p0[0] - u * ex, py - p0[1] - u * ey));
                }
                a->edge_alpha[y * m->T + x] = a->tri_of[y * m->T + x] >= 0 ? d : -1; /* texels; -1 outside */
            }
        free(be);
        /* texels outside the mesh take the nearest texel inside (12 rings): bilinear sampling and the pre-blur of
         * small faces at the mesh's edge must not pull in black (the model's mean is 0 outside) */
        a->fill_src = malloc(sizeof(int) * (size_t)m->T * m->T);
        int *prev = malloc(sizeof(int) * (size_t)m->T * m->T);
        if (!st && (!a->fill_src || !prev)) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        for (int p = 0; !st && p < m->T * m->T; p++) a->fill_src[p] = a->tri_of[p] >= 0 ? p : -1;
        for (int ring = 0; !st && ring < 12; ring++) {
            memcpy(prev, a->fill_src, sizeof(int) * (size_t)m->T * m->T);
            for (int y = 0; y < m->T; y++)
                for (int x = 0; x < m->T; x++) {
                    int p = y * m->T + x;
                    if (prev[p] >= 0) continue;
                    if (x > 0 && prev[p - 1] >= 0) a->fill_src[p] = prev[p - 1];
                    else if (x + 1 < m->T && prev[p + 1] >= 0) a->fill_src[p] = prev[p + 1];
                    else if (y > 0 && prev[p - m->T] >= 0) a->fill_src[p] = prev[p - m->T];
                    else if (y + 1 < m->T && prev[p + m->T] >= 0) a->fill_src[p] = prev[p + m->T];
                }
        }
        free(prev);
        free(cnt), free(bnd), free(force_v);
        if (!st) st = hairline_weights(a);
        if (!st && tu->forehead_seam > 0) st = seam_weights(a);
        /* (hue36) the texture's mean colour as a linear function of its codes (for tuning.tone_codes only) */
        if (!st && tu->tone_codes > 1 && !(a->col_w = malloc(sizeof(float) * (3 * (size_t)m->kt + 1)))) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        if (!st && a->col_w) mf_anon_colour_readout(m, a->col_w, a->col_b);
        if (!st && tu->brow_dark > 0) { /* (brow48) */
            size_t T2 = (size_t)m->T * m->T;
            if (!(a->brow_w = malloc(sizeof(float) * T2)) || !(a->brow_ref = malloc(T2)))
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            else if (mf_anon_brow_masks(m, a->brow_w, a->brow_ref)) /* no brows in the model's texture: off */
                free(a->brow_w), free(a->brow_ref), a->brow_w = NULL, a->brow_ref = NULL;
        }
        if (!st && tu->philtrum_floor > 0) { /* (lip57) */
            size_t T2 = (size_t)m->T * m->T;
            if (!(a->lip_w = malloc(sizeof(float) * T2)) || !(a->lip_ref = malloc(T2)))
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            else if (mf_anon_philtrum_masks(m, a->lip_w, a->lip_ref)) /* no such skin in the model: off */
                free(a->lip_w), free(a->lip_ref), a->lip_w = NULL, a->lip_ref = NULL;
        }
        if (!st && (tu->feature_hold > 0 || tu->feature_dark > 0 || tu->feature_pick > 0)) { /* (feat50, dark55, pick55) */
            if (!(a->feat_w = malloc(sizeof(float) * MF_ANON_N_FEAT * ((size_t)m->ks + m->kt + 1))))
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            else if ((st = mf_anon_feature_readouts(m, a->feat_w)) == -1) /* no brows or lids in the texture: off */
                free(a->feat_w), a->feat_w = NULL, st = MF_OK;
        }
        if (!st && tu->forehead_band > 0) { /* (band48) */
            if (!(a->band_w = malloc(sizeof(float) * ((size_t)m->ks + m->kt + 1))))
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            else if (mf_anon_band_readout(m, a->band_w)) /* the ring outside the texture: off */
                free(a->band_w), a->band_w = NULL;
        }
        if (!st && tu->light_keep > 0) {
            if (!(a->keep_codes = malloc((size_t)(m->ks + m->kt)))) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            else mf_anon_light_codes(m, tu->light_flat, a->keep_codes);
        }
    }
    if (st) {
        mf_anon_free(a);
        return st;
    }
    *out = a;
    return MF_OK;
}

void mf_anon_free(mf_anon_t *a) {
    if (!a) return;
    for (int i = 0; i < a->n_rec; i++) mf_face_recognizer_free(a->rec[i]), mf_face_recognizer_free(a->rec2[i]);
    mf_face_attrib_free(a->attr_np);
    mf_anon_model_free(a->m);
    free(a->col_w);
    free(a->band_w), free(a->feat_w);
    free(a->brow_w), free(a->brow_ref);
    free(a->lip_w), free(a->lip_ref);
    free(a->keep_codes);
    free(a->tri_of), free(a->bary), free(a->tri_force), free(a->tri_core), free(a->hole_kind), free(a->tri_lid), free(a->tri_eyezone), free(a->edge_alpha), free(a->fill_src), free(a->hair_w), free(a->hair_wi), free(a->seam_side), free(a->seam_m[0]), free(a->seam_m[1]), free(a->donor_tex), free(a->donor_age), free(a->donor_male), free(a->donor_emb), free(a->uv_eye);
    free(a);
}

int mf_anon_recognizer_count(const mf_anon_t *a) { return a->n_rec; }
const mf_face_recognizer_info *mf_anon_recognizer_info(const mf_anon_t *a, int i) {
    return i >= 0 && i < a->n_rec ? a->info[i] : NULL;
}
float mf_anon_gallery_threshold(const mf_anon_t *a, int i) {
    if (!a || i < 0 || i >= a->n_rec) return 2;
    const mf_face_recognizer_info *inf = a->info_base[i]; /* (child39) never a child's raised thresholds */
    float gap = inf->match_threshold - inf->dissimilarity_threshold;
    return inf->match_threshold - (gap > 0 ? a->o.tuning.gallery_margin * gap : 0);
}
void mf_anon_debug_force_similar(mf_anon_t *a, int on) { a->force_similar = on; }
void mf_anon_debug_reference(mf_anon_t *a, int on) { a->reference = on; }
void mf_anon_debug_jitter_skip(mf_anon_t *a, float factor) { a->o.tuning.jitter_skip = factor > 0 ? factor : 0; }
int mf_anon_donor_count(const mf_anon_t *a) { return a->n_donor; }

int mf_anon_embed(mf_anon_t *a, int i, const mf_img *img, const mf_face *face, float *e) {
    if (i < 0 || i >= a->n_rec) return mf_error_set(MF_ERR_ARG, "anon: recognizer %d of %d", i, a->n_rec);
    float p5[5][2];
    mf_face_5pt(face, p5);
    return mf_face_recognizer_embed(a->rec[i], img, p5, e);
}

/* Unwraps the face whose mesh is `pts` (image pixels of src) into a texture (T x T x 3). */
static void unwrap(const mf_anon_t *a, const mf_fimg *src, const float *pts, float *tex) {
    int T = a->m->T;
    for (int p = 0; p < T * T; p++) {
        int t = a->tri_of[p];
        if (t < 0) {
            tex[3 * p] = tex[3 * p + 1] = tex[3 * p + 2] = 0;
            continue;
        }
        float x = 0, y = 0;
        for (int e = 0; e < 3; e++) {
            const float *v = pts + 3 * a->m->tri[3 * t + e];
            x += a->bary[3 * p + e] * v[0], y += a->bary[3 * p + e] * v[1];
        }
        for (int k = 0; k < 3; k++) tex[3 * p + k] = mf_fimg_sample(src, x, y, k);
    }
}

int mf_anon_add_donor(mf_anon_t *a, const mf_img *img) {
    mf_face faces[MAX_CHECK_FACES];
    int n = 0, st = mf_face_analyze(a->o.an, img, faces, MAX_CHECK_FACES, &n);
    if (st) return st;
    if (n != 1 || !faces[0].has_landmarks || faces[0].attr.age < 0 || fabsf(faces[0].lm.yaw) > 25)
        return mf_error_set(MF_ERR_ARG, "donor: need exactly one frontal face (found %d)", n);
    size_t D = (size_t)a->m->T * a->m->T * 3;
    float *nt = realloc(a->donor_tex, sizeof(float) * D * (size_t)(a->n_donor + 1));
    if (!nt) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    a->donor_tex = nt;
    float *na = realloc(a->donor_age, sizeof(float) * (size_t)(a->n_donor + 1));
    if (!na) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    a->donor_age = na;
    float *nm = realloc(a->donor_male, sizeof(float) * (size_t)(a->n_donor + 1));
    if (!nm) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    a->donor_male = nm;
    size_t E = (size_t)a->n_rec * 1024;
    float *ne = realloc(a->donor_emb, sizeof(float) * E * (size_t)(a->n_donor + 1));
    if (!ne) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    a->donor_emb = ne;
    float *emb = ne + E * (size_t)a->n_donor;
    memset(emb, 0, sizeof(float) * E);
    for (int i = 0; i < a->n_rec; i++)
        if (a->info[i]->ensemble && (st = mf_anon_embed(a, i, img, &faces[0], emb + (size_t)i * 1024))) return st;
    mf_fimg f;
    if ((st = mf_fimg_from_img(img, 0, 0, img->w, img->h, &f))) return st;
    unwrap(a, &f, &faces[0].lm.pt[0][0], a->donor_tex + D * a->n_donor);
    mf_fimg_free(&f);
    a->donor_age[a->n_donor] = faces[0].attr.age, a->donor_male[a->n_donor] = faces[0].attr.p_male;
    a->n_donor++;
    return MF_OK;
}

/* The donor for draw `rank` (0: the first): donors of the target's gender within 10 years of its age (all donors
 * if none is), ordered from the most dissimilar to the original (the lowest worst-case similarity over the
 * ensemble recognizers, as the paper chose donors) to the least; later draws take the next one. -1: out of
 * memory. */
static int pick_donor(const mf_anon_t *a, float (*eorig)[1024], float age, float pm, int rank) {
    int best = -1, nc = 0;
    float *score = malloc(sizeof(float) * (size_t)a->n_donor);
    if (!score) return -1;
    for (int pass = 0; pass < 2 && nc == 0; pass++)
        for (int d = 0; d < a->n_donor; d++) {
            score[d] = FLT_MAX;
            if (!pass && ((a->donor_male[d] >= 0.5f) != (pm >= 0.5f) || fabsf(a->donor_age[d] - age) > 10)) continue;
            float w = -2;
            for (int i = 0; i < a->n_rec; i++)
                if (a->info[i]->ensemble)
                    w = fmaxf(w, mf_face_similarity(a->donor_emb + ((size_t)d * a->n_rec + i) * 1024, eorig[i], a->info[i]->dim));
            score[d] = w, nc++;
        }
    /* the rank-th lowest score (ties by index): selection, n_donor is small */
    rank %= nc;
    for (int r = 0; r <= rank; r++) {
        best = -1;
        for (int d = 0; d < a->n_donor; d++)
            if (score[d] < FLT_MAX && (best < 0 || score[d] < score[best])) best = d;
        if (r < rank) score[best] = FLT_MAX;
    }
    free(score);
    return best < 0 ? 0 : best;
}

/* The target's unwrapped texture with its own light replaced by the mean texture's (in place, valid texels): per
 * channel, tex x (LP(mean) / avg(mean)) / (LP(tex) / avg(tex)), LP a normalised low-pass over the valid texels of
 * sigma TARGET_LIGHT_SIGMA texture sides, the ratio clamped to 1/3..3. The average colour (skin tone) stays the
 * target's; the light across the face (a lit side, dark eye sockets) becomes the mean's, so the push away from the
 * target's codes no longer pushes towards the inverse of the photo's light. Replacing the average colour as well
 * (tex x LP(mean) / LP(tex)) was tried and dropped: the push then no longer moved the skin tone, and on the 22 demo
 * faces one more face fell back (faceapi 0.914 after 9 draws) and one became a synthetic fallback. MF_ERR_NOMEM. */
static int target_unlit(const mf_anon_model_t *m, float *tex) {
    int T = m->T;
    size_t T2 = (size_t)T * T;
    mf_fimg w = {0}, lt = {0}, lm = {0};
    int st = mf_fimg_init(&w, T, T, 1);
    if (!st) st = mf_fimg_init(&lt, T, T, 3);
    if (!st) st = mf_fimg_init(&lm, T, T, 3);
    if (st) {
        mf_fimg_free(&w), mf_fimg_free(&lt), mf_fimg_free(&lm);
        return st;
    }
    double at[3] = {0}, am[3] = {0};
    long n = 0;
    for (size_t p = 0; p < T2; p++) {
        w.data[p] = m->valid[p] ? 1.0f : 0.0f;
        for (int c = 0; c < 3; c++) {
            lt.data[3 * p + c] = tex[3 * p + c], lm.data[3 * p + c] = m->tex_mean[3 * p + c];
            if (m->valid[p]) at[c] += tex[3 * p + c], am[c] += m->tex_mean[3 * p + c];
        }
        n += m->valid[p] != 0;
    }
    float sg = fmaxf(1, TARGET_LIGHT_SIGMA * T);
    if (n > 0 && !(st = mf_render_blur(&lt, &w, sg)) && !(st = mf_render_blur(&lm, &w, sg)))
        for (size_t p = 0; p < T2; p++) {
            if (!m->valid[p]) continue;
            for (int c = 0; c < 3; c++) {
                float sm = lm.data[3 * p + c] / fmaxf(1e-3f, (float)(am[c] / n));
                float sx = lt.data[3 * p + c] / fmaxf(1e-3f, (float)(at[c] / n));
                float r = sm / fmaxf(1e-3f, sx);
                tex[3 * p + c] *= r < 1.0f / 3 ? 1.0f / 3 : r > 3 ? 3 : r;
            }
        }
    mf_fimg_free(&w), mf_fimg_free(&lt), mf_fimg_free(&lm);
    return st;
}

/* The target's own whitened codes: its mesh brought into the canonical frame (inverse of the similarity fit) and
 * projected on the shape components, its unwrapped texture, with its own light replaced by the mean texture's
 * (target_unlit, when `unlit`; tex is changed), projected on the texture components (valid texels). MF_ERR_NOMEM. */
static int project_target(const mf_anon_model_t *m, const float *P, float s, const float R[9], const float t[3],
                          int unlit, float *tex, float *zt) {
    float dl[NV * 3];
    for (int v = 0; v < NV; v++) {
        float q[3] = {P[3 * v] - t[0], P[3 * v + 1] - t[1], P[3 * v + 2] - t[2]};
        for (int r = 0; r < 3; r++)
            dl[3 * v + r] = (R[r] * q[0] + R[3 + r] * q[1] + R[6 + r] * q[2]) / s - m->shape_mean[3 * v + r];
    }
    for (int c = 0; c < m->ks; c++) {
        const float *b = m->shape_basis + (size_t)c * NV * 3;
        double num = 0, den = 0;
        for (int i = 0; i < NV * 3; i++) num += (double)b[i] * dl[i], den += (double)b[i] * b[i];
        zt[c] = den > 0 ? (float)(num / den) : 0;
    }
    int st = unlit ? target_unlit(m, tex) : MF_OK;
    if (st) return st;
    size_t T2 = (size_t)m->T * m->T;
    for (int c = 0; c < m->kt; c++) {
        const float *b = m->tex_basis + (size_t)c * T2 * 3;
        double num = 0, den = 0;
        for (size_t p = 0; p < T2; p++) {
            if (!m->valid[p]) continue;
            for (int ch = 0; ch < 3; ch++) {
                float x = tex[3 * p + ch] - m->tex_mean[3 * p + ch];
                num += (double)b[3 * p + ch] * x, den += (double)b[3 * p + ch] * b[3 * p + ch];
            }
        }
        zt[m->ks + c] = den > 0 ? (float)(num / den) : 0;
    }
    for (int i = 0; i < m->ks + m->kt; i++) zt[i] = zt[i] > 4 ? 4 : zt[i] < -4 ? -4 : zt[i];
    return MF_OK;
}

static void rgb_to_ycc(const float *p, float *y, float *cb, float *cr) {
    *y = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    *cb = -0.1687f * p[0] - 0.3313f * p[1] + 0.5f * p[2];
    *cr = 0.5f * p[0] - 0.4187f * p[1] - 0.0813f * p[2];
}

/* (grey22) the same with the full BT.601 coefficients, the exact inverse of chroma_match's way back to RGB
 * (rgb_to_ycc's rounded ones are the skin model's and stay as they are) */
static void rgb_to_ycc601(const float *p, float *y, float *cb, float *cr) {
    *y = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    *cb = -0.168736f * p[0] - 0.331264f * p[1] + 0.5f * p[2];
    *cr = 0.5f * p[0] - 0.418688f * p[1] - 0.081312f * p[2];
}

static int cmp_float(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* The mesh points whose patches sample the face's own skin (cheeks, forehead, nose bridge): the skin model's
 * probes, also what the renderability test checks against the detection. */
static const int skin_probes[] = {50, 280, 205, 425, 36, 266, 151, 108, 337, 6, 197, 195, 9, 117, 346};
enum { NPROBE = sizeof skin_probes / sizeof skin_probes[0] };

/* (spots32) the mesh vertices a spot keeps clear of: the face's outline (the first 36), brows, outer lips and nostrils (the eyes and
 * the inner lips: mf_anon_loop_reye, _leye, _mouth) */
static const int spot_clear_v[] = {
    10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149,
    150, 136, 172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109,                               /* outline */
    70,  63,  105, 66,  107, 55,  65,  52,  53,  46,  300, 293, 334, 296, 336, 285, 295, 282, 283, 276, /* brows */
    61,  185, 40,  39,  37,  0,   267, 269, 270, 409, 291, 375, 321, 405, 314, 17,  84,  181, 91,  146, /* lips */
    2,   97,  326, 98,  327, 64,  294, 240, 460, 75,  305, 79,  309, 20,  250, 60,  290, 166, 392, 99,  328}; /* nose */

/* (spots32) 1 when pixel (x, y) may belong to a spot: near a skin probe, clear of the features */
static int spot_zone(const float *P, float fs, float x, float y) {
    float near = SPOT_NEAR * fs, clear = SPOT_CLEAR * fs;
    int ok = 0;
    for (int i = 0; i < NPROBE && !ok; i++)
        ok = hypotf(P[3 * skin_probes[i]] - x, P[3 * skin_probes[i] + 1] - y) <= near;
    if (!ok) return 0;
    for (size_t i = 0; i < sizeof spot_clear_v / sizeof spot_clear_v[0]; i++)
        if (hypotf(P[3 * spot_clear_v[i]] - x, P[3 * spot_clear_v[i] + 1] - y) < (i < 36 ? SPOT_EDGE * fs : clear))
            return 0;
    const int *loops[3] = {mf_anon_loop_reye, mf_anon_loop_leye, mf_anon_loop_mouth};
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < (l < 2 ? 16 : 20); i++)
            if (hypotf(P[3 * loops[l][i]] - x, P[3 * loops[l][i] + 1] - y) < clear) return 0;
    return 1;
}

/* (spots32) mf_anon_skin_spots (internal.h) */
int mf_anon_skin_spots(mf_fimg *skin, const float *P, int nv, float fs, float max_size, int *n_spots) {
    if (n_spots) *n_spots = 0;
    if (!skin || !skin->data || skin->c != 1 || !P || nv < 468 || !(fs > 0) || !(max_size >= 0))
        return mf_error_set(MF_ERR_ARG, "mf_anon_skin_spots: bad arguments");
    int w = skin->w, h = skin->h;
    size_t np = (size_t)w * h;
    float ext = max_size * fs;
    uint8_t *seen = calloc(np, 1);
    int *stack = malloc(sizeof(int) * np);
    if (!seen || !stack) {
        free(seen), free(stack);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    float *p = skin->data;
    for (size_t s0 = 0; s0 < np; s0++) {
        if (seen[s0] || p[s0] >= 0.5f) continue;
        /* flood the component; its pixels are stack[0..n) */
        int n = 0, top = 0, x0 = w, y0 = h, x1 = -1, y1 = -1;
        stack[n++] = (int)s0, seen[s0] = 1;
        while (top < n) {
            int q = stack[top++], x = q % w, y = q / w;
            x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int u = x + dx, v = y + dy;
                    if (u < 0 || v < 0 || u >= w || v >= h) continue;
                    size_t k = (size_t)v * w + u;
                    if (!seen[k] && p[k] < 0.5f) seen[k] = 1, stack[n++] = (int)k;
                }
        }
        /* small, not at the crop's border, every pixel in the spot zone */
        if (x1 - x0 + 1 > ext || y1 - y0 + 1 > ext || x0 == 0 || y0 == 0 || x1 == w - 1 || y1 == h - 1) continue;
        int ok = 1;
        for (int i = 0; i < n && ok; i++) ok = spot_zone(P, fs, (float)(stack[i] % w) + 0.5f, (float)(stack[i] / w) + 0.5f);
        if (!ok) continue;
        for (int i = 0; i < n; i++) {
            int x = stack[i] % w, y = stack[i] / w;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) p[(size_t)(y + dy) * w + x + dx] = 1;
        }
        if (n_spots) (*n_spots)++;
    }
    free(seen), free(stack);
    return MF_OK;
}

/* Skin probability of every pixel of O (1 = the face's own skin, 0 = something in front of it): distance to a
 * robust colour model sampled on the cheeks, forehead and nose bridge. *skin_y: the probes' median luminance.
 * spots > 0: small isolated spots inside the face made skin (mf_anon_skin_spots, extent spots face sizes). */
static int skin_map(const mf_fimg *O, const float *P, float fs, float spots, mf_fimg *skin, float *skin_y) {
    const int *probes = skin_probes;
    int rad = (int)(0.03f * fs) + 1, cap = NPROBE * (2 * rad + 1) * (2 * rad + 1), n = 0;
    float *ys = malloc(sizeof(float) * cap * 3), *cbs = ys + cap, *crs = ys + 2 * cap;
    if (!ys) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = mf_fimg_init(skin, O->w, O->h, 1);
    if (st) {
        free(ys);
        return st;
    }
    for (int i = 0; i < NPROBE; i++) {
        int cx = (int)P[3 * probes[i]], cy = (int)P[3 * probes[i] + 1];
        for (int dy = -rad; dy <= rad; dy++)
            for (int dx = -rad; dx <= rad; dx++) {
                int x = cx + dx, y = cy + dy;
                if (x < 0 || y < 0 || x >= O->w || y >= O->h || n >= cap) continue;
                rgb_to_ycc(O->data + ((size_t)y * O->w + x) * 3, &ys[n], &cbs[n], &crs[n]);
                n++;
            }
    }
    *skin_y = 128;
    if (n < 8) { /* face mostly outside the crop: trust everything */
        mf_fimg_fill(skin, 1);
        free(ys);
        return MF_OK;
    }
    float med[3], mad[3];
    float *arr[3] = {ys, cbs, crs};
    for (int c = 0; c < 3; c++) {
        qsort(arr[c], n, sizeof(float), cmp_float);
        med[c] = arr[c][n / 2];
        /* spread: half the 10-90 % range */
        mad[c] = 0.5f * (arr[c][n * 9 / 10] - arr[c][n / 10]);
    }
    *skin_y = med[0];
    free(ys);
    float scb = fmaxf(mad[1], 5), scr = fmaxf(mad[2], 5);
    for (int y = 0; y < O->h; y++)
        for (int x = 0; x < O->w; x++) {
            float Y, cb, cr;
            rgb_to_ycc(O->data + ((size_t)y * O->w + x) * 3, &Y, &cb, &cr);
            float dc = hypotf((cb - med[1]) / scb, (cr - med[2]) / scr);
            float ry = Y / fmaxf(med[0], 1);
            float p = 1;
            if (dc > 3.5f) p = fmaxf(0, 1 - (dc - 3.5f) / 2);
            if (ry < 0.4f) p = fminf(p, fmaxf(0, (ry - 0.25f) / 0.15f));
            if (ry > 1.6f) p = fminf(p, fmaxf(0, 1 - (ry - 1.6f) / 0.3f));
            skin->data[(size_t)y * O->w + x] = p;
        }
    if (spots > 0) {
        st = mf_anon_skin_spots(skin, P, NV, fs, spots, NULL);
        if (st) return st;
    }
    return mf_render_blur(skin, NULL, fmaxf(0.6f, 0.006f * fs));
}

/* A rough face ellipse (feathered) for the fallback filters. */
static void ellipse_mask(const mf_face *f, int ox, int oy, mf_fimg *mask) {
    const mf_face_box *b = f->has_landmarks ? &f->lm.box : &f->det;
    float cx = b->x + b->w / 2 - ox, cy = b->y + b->h / 2 - oy, ax = 0.62f * b->w, ay = 0.72f * b->h;
    if (f->has_landmarks) cy += 0.0f;
    float c = cosf(b->roll), s = sinf(b->roll);
    for (int y = 0; y < mask->h; y++)
        for (int x = 0; x < mask->w; x++) {
            float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
            float u = (c * dx + s * dy) / ax, v = (-s * dx + c * dy) / ay;
            float r = sqrtf(u * u + v * v);
            mask->data[(size_t)y * mask->w + x] = r < 0.85f ? 1 : r > 1.05f ? 0 : (1.05f - r) / 0.2f;
        }
}

/* Baselines and the fallback: blur, pixelate or fill the face ellipse of the ROI R (in place). */
static int filter_region(mf_fimg *R, const mf_fimg *mask, mf_anon_method how, float fs) {
    mf_fimg f;
    int st = mf_fimg_copy(R, &f);
    if (st) return st;
    if (how == MF_ANON_BLUR) st = mf_render_blur(&f, NULL, fmaxf(1, fs / 8));
    else if (how == MF_ANON_PIXELATE) {
        int b = (int)(fs / 8);
        if (b < 2) b = 2;
        for (int by = 0; by < f.h; by += b)
            for (int bx = 0; bx < f.w; bx += b) {
                float acc[3] = {0};
                int n = 0;
                for (int y = by; y < by + b && y < f.h; y++)
                    for (int x = bx; x < bx + b && x < f.w; x++, n++)
                        for (int k = 0; k < 3; k++) acc[k] += R->data[((size_t)y * f.w + x) * 3 + k];
                for (int y = by; y < by + b && y < f.h; y++)
                    for (int x = bx; x < bx + b && x < f.w; x++)
                        for (int k = 0; k < 3; k++) f.data[((size_t)y * f.w + x) * 3 + k] = acc[k] / n;
            }
    } else { /* solid: the mean colour of the region */
        double acc[3] = {0}, w = 0;
        for (size_t i = 0; i < (size_t)f.w * f.h; i++) {
            for (int k = 0; k < 3; k++) acc[k] += mask->data[i] * R->data[3 * i + k];
            w += mask->data[i];
        }
        for (size_t i = 0; i < (size_t)f.w * f.h; i++)
            for (int k = 0; k < 3; k++) f.data[3 * i + k] = w > 0 ? (float)(acc[k] / w) : 128;
    }
    if (!st)
        for (size_t i = 0; i < (size_t)f.w * f.h; i++)
            for (int k = 0; k < 3; k++)
                R->data[3 * i + k] += mask->data[i] * (f.data[3 * i + k] - R->data[3 * i + k]);
    mf_fimg_free(&f);
    return st;
}

/* The flattened last rung (anon12a): inside the face ellipse (mask), the render's band below sigma face sizes is
 * replaced by amount x its own light at FLAT_BROAD face sizes (a normalised low-pass over the ellipse):
 * res += amount * mask * (lowpass(res | mask, broad) - lowpass(res, sigma)). What goes: the coarse relief a face
 * recogniser reads through any drawn texture (eye sockets, cheek and jaw shadows, the outline against the neck, left by
 * the photo's light and the target's own shape); what stays: the drawn features' edges (eyes, brows, nose, lips)
 * and the broad direction of the photo's light. */
static int flatten_light(mf_fimg *res, const mf_fimg *mask, float fs, float sigma, float amount) {
    mf_fimg lo, broad;
    memset(&lo, 0, sizeof lo), memset(&broad, 0, sizeof broad);
    int st = mf_render_lowpass(res, NULL, fmaxf(0.7f, sigma * fs), &lo);
    if (!st) st = mf_render_lowpass(res, mask, fmaxf(1.f, FLAT_BROAD * fs), &broad);
    for (size_t i = 0; !st && i < (size_t)res->w * res->h; i++) {
        float m = amount * mask->data[i];
        if (m <= 0) continue;
        for (int c = 0; c < 3; c++) {
            float v = res->data[3 * i + c] + m * (broad.data[3 * i + c] - lo.data[3 * i + c]);
            res->data[3 * i + c] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
    }
    mf_fimg_free(&lo), mf_fimg_free(&broad);
    return st;
}

/* (speed16) One embedding of a batch (emb_run). */
typedef struct {
    int rec;           /* recognizer index */
    const mf_img *img;
    float p[5][2];     /* alignment points, image pixels */
    const float *ref;  /* the embedding the result is scored against (NULL: none) */
    float *out;        /* the embedding (1024 floats) */
    float sim;         /* similarity to ref */
    int st;            /* status; its message in msg (set on the thread that ran it) */
    char msg[160];
} emb_job;
enum { EMB_JOBS = (1 + N_JIT) * MF_ANON_MAX_RECOGNIZERS }; /* the largest batch: every alignment of every recognizer */

/* Everything one replacement needs, in ROI coordinates. */
typedef struct {
    int ox, oy, w, h;  /* the region rendered (ROI) */
    int cx0, cy0, cw, ch; /* the region the checks analyse (larger: context for the detector) */
    float fs;          /* face size in pixels */
    mf_fimg O;         /* original ROI */
    mf_fimg skin;      /* skin probability */
    int eyes_occluded; /* sunglasses or the like over the eyes: the eyes are never redrawn */
    mf_fimg lens_keep; /* (eyes_occluded only) nothing is forced here: the eye zone at the original's position and
                        * (lens53) the lenses grown from it; computed once per face (empty otherwise) */
    int glasses;       /* something not skin over the nose bridge (a glasses bridge): the eye zone is not forced */
    float skin_y;      /* median luminance of the face's skin probes */
    float eye_dark[2]; /* (looks32) the photo's openings' dark quarter over skin_y (mf_anon_eye_open_dark; -1 none) */
    float tex_scale;   /* image pixels per texture pixel on this face (about) */
    float grain;       /* standard deviation of the photo's finest band over the face's skin (grey levels) */
    mf_fimg fine;      /* the photo's finest band, O - blur(O, ~1 px), clamped to +-FINE_CLAMP */
    float P[NV * 3];   /* target mesh in ROI pixels */
    float s, R[9], t[3];
    float *tex;        /* T * T * 3 drawn texture */
    float *z;          /* ks + kt codes */
    float *zt;         /* ks + kt: the target's own codes (projection), NULL when not computed */
    float *zc;         /* ks + kt: scratch for candidate draws */
    float replace;     /* how much of the target's own identity shape (its projection) is taken out */
    int child;         /* the target is estimated younger than CHILD_AGE */
    int last_rung;     /* (last33) this draw is a last-resort one (its outline weight: a->vweight_last) */
    int strong;        /* (pale34) this draw is on the strong rung (tone_match) */
    float yaw;         /* the target's head turn, degrees */
    mf_nn_pool_t *rpool; /* (speed17) the pool render_draw splits its row loops over; NULL while the pool runs
                            the original's embeddings beside the first draw (render_beside_setup) */
    mf_fimg relief_lo, relief_fo; /* (speed17) the photo's relief_match low-passes (functions of O and fs only),
                                     computed at the face's first draw and kept for the others */
    int no_cache;                 /* mf_anon_debug_reference: they are recomputed at every draw */
    int last;                     /* (speed19) the draw being checked is the face's last: no feedback is read for a
                                     next draw (check, CHECK_FEEDBACK) */
    char code;                    /* (draws20) what rejected the draw checked last (mf_anon_result.draws), 0: passed */
    int code_rec;                 /* ... the recognizer that rejected it, -1: none */
    float code_val;               /* ... its similarity or age (draw_val) */
    mf_fimg sc[SC_N];  /* float buffers of render_draw kept between draws (fresh pages cost a kernel zeroing and a
                          fault each: 8 % of the profile) */
    float (*ejit)[N_JIT][1024]; /* per recognizer: the original embedded at the jittered alignments (ensemble only) */
    int jit_skip;      /* (jit30) tuning.jitter_skip applies to this face's draws */
    int jit_lazy;      /* (jit30) ejit not computed yet (ensure_ejit computes it when a check needs it) */
    emb_job *ej;       /* (speed16) a batch of embeddings (emb_run): EMB_JOBS jobs, their embeddings in eb */
    float (*eb)[1024];
    /* (cut14) a face cut by the border: draws are also checked in the attacker's square (attack_check) */
    int cut;           /* the face is cut and tuning.cut_check asks for the check: squares of n_asq boxes */
    int n_asq;
    float box[ATTACK_BOXES][4], roll; /* the boxes (x y w h) and the roll (degrees) the squares are built from */
    float ctx[ATTACK_BOXES];        /* ... and their sides, in box sides */
    mf_img asq[ATTACK_BOXES];       /* the original's squares, built before the first draw */
    int asq_state;                  /* 0: not analysed yet; 1: asq_found, asq_p and easq are set */
    int asq_found[ATTACK_BOXES];    /* the plain analyser finds a face at the centre of the original's square */
    float asq_p[ATTACK_BOXES][5][2]; /* ... its alignment points (square pixels) */
    float (*easq)[MF_ANON_MAX_RECOGNIZERS][1024]; /* per square and recognizer: the original's square embedded at
                                                     asq_p (ensemble only) */
} job;


/* Takes scratch buffer i of the job as a zeroed w x h x c image into *f (reused when its size matches). */
static int sc_take(job *j, int i, mf_fimg *f, int w, int h, int c) {
    mf_fimg *p = &j->sc[i];
    if (p->data && p->w == w && p->h == h && p->c == c) {
        *f = *p;
        memset(p, 0, sizeof *p);
        memset(f->data, 0, sizeof(float) * (size_t)w * h * c);
        return MF_OK;
    }
    mf_fimg_free(p);
    return mf_fimg_init(f, w, h, c);
}
/* ... as a copy of src */
static int sc_copy(job *j, int i, const mf_fimg *src, mf_fimg *f) {
    int st = sc_take(j, i, f, src->w, src->h, src->c);
    if (!st) memcpy(f->data, src->data, sizeof(float) * (size_t)src->w * src->h * src->c);
    return st;
}
/* Gives *f back as scratch buffer i (empties *f). */
static void sc_give(job *j, int i, mf_fimg *f) {
    mf_fimg_free(&j->sc[i]);
    j->sc[i] = *f;
    memset(f, 0, sizeof *f);
}

/* (speed17) Row loops of the render split over the pool: fn(ctx, y0, y1) for consecutive bands of rows [0, n),
 * one band per pool thread (all of them on the caller when pool is NULL). Each element is computed by the same
 * arithmetic whichever thread does it, so the result is the serial one (test_render_split_same_result). */
typedef mf_render_rows_fn rows_fn;
typedef struct {
    rows_fn fn;
    void *ctx;
    int n;
} rows_ctx;
static void rows_pool_fn(void *ctx, int ith, int nth) {
    const rows_ctx *c = ctx;
    int y0 = (int)((long)c->n * ith / nth), y1 = (int)((long)c->n * (ith + 1) / nth);
    if (y1 > y0) c->fn(c->ctx, y0, y1);
}
static void par_rows(mf_nn_pool_t *pool, rows_fn fn, void *ctx, int n) {
    if (!pool || n < 8 || mf_nn_pool_threads(pool) < 2) {
        fn(ctx, 0, n);
        return;
    }
    rows_ctx c = {fn, ctx, n};
    mf_nn_pool_run(pool, rows_pool_fn, &c);
}

/* par_rows as the render module's mf_render_par (ctx: the pool) */
static void par_run(void *ctx, mf_render_rows_fn fn, void *fn_ctx, int n) { par_rows(ctx, fn, fn_ctx, n); }
/* the job's render splits: over j->rpool, or NULL (on the caller) */
#define JOB_PAR(j) ((j)->rpool ? &(mf_render_par){par_run, (j)->rpool} : NULL)

/* Catmull-Rom (bicubic) sample of a 3-channel image at pixel-centre coordinates (x, y) (centre of pixel i at
 * i + 0.5), edges clamped. The background warp resamples the photo at sub-pixel offsets: bilinear sampling there
 * halved its fine detail (the Laplacian variance of the warped photo was 0.3-0.5x the photo's) where the blend
 * mixes it into the new face (forehead, outline). */
static void sample_cubic3(const mf_fimg *f, float x, float y, float out[3]) {
    x -= 0.5f, y -= 0.5f;
    float fx0 = floorf(x), fy0 = floorf(y);
    if (!(fx0 > -2)) fx0 = -2; /* also NaN */
    if (!(fy0 > -2)) fy0 = -2;
    if (fx0 > f->w) fx0 = (float)f->w;
    if (fy0 > f->h) fy0 = (float)f->h;
    int x0 = (int)fx0, y0 = (int)fy0;
    float tx = fminf(1, fmaxf(0, x - fx0)), ty = fminf(1, fmaxf(0, y - fy0)), wx[4], wy[4];
    for (int q = 0; q < 2; q++) {
        float t = q ? ty : tx, *w = q ? wy : wx, t2 = t * t, t3 = t2 * t;
        w[0] = 0.5f * (-t3 + 2 * t2 - t), w[1] = 0.5f * (3 * t3 - 5 * t2 + 2), w[2] = 0.5f * (-3 * t3 + 4 * t2 + t),
        w[3] = 0.5f * (t3 - t2);
    }
    out[0] = out[1] = out[2] = 0;
    for (int dy = 0; dy < 4; dy++) {
        int yy = y0 - 1 + dy;
        yy = yy < 0 ? 0 : yy >= f->h ? f->h - 1 : yy;
        for (int dx = 0; dx < 4; dx++) {
            int xx = x0 - 1 + dx;
            xx = xx < 0 ? 0 : xx >= f->w ? f->w - 1 : xx;
            const float *p = f->data + ((size_t)yy * f->w + xx) * 3;
            float w = wx[dx] * wy[dy];
            out[0] += w * p[0], out[1] += w * p[1], out[2] += w * p[2];
        }
    }
}

/* Grey 4-neighbour Laplacian of pixel (x, y) of a 3-channel image (0 on the border). */
static float lap_at(const mf_fimg *f, int x, int y) {
    if (x < 1 || y < 1 || x >= f->w - 1 || y >= f->h - 1) return 0;
#define GREY(xx, yy) (0.299f * f->data[((size_t)(yy) * f->w + (xx)) * 3] + 0.587f * f->data[((size_t)(yy) * f->w + (xx)) * 3 + 1] + \
                      0.114f * f->data[((size_t)(yy) * f->w + (xx)) * 3 + 2])
    return GREY(x - 1, y) + GREY(x + 1, y) + GREY(x, y - 1) + GREY(x, y + 1) - 4 * GREY(x, y);
#undef GREY
}

/* (grey22) The new skin's colour character brought to the photo's. Each pixel's chroma (Cb, Cr) is measured
 * against a reference: the chroma of the photo's low-pass there (lo: the photo's light over its plain skin; where lo
 * is empty, the photo's mean skin colour osum / ow), or, with `tone`, the photo's tone curve (its chroma as a
 * quadratic function of the luminance, fitted over the original face) at the pixel's own luminance, whichever the
 * photo's face follows more closely. The spread (root mean square) of that deviation over the original face (cov0 > 0:
 * skin, brows, lips, nose; the photo's own colour detail) and over the new skin (cov == 1: the model's lips, irises,
 * brows and mottling, lit by the per-channel ratio, which greys only the low frequencies) gives s = photo / render.
 * The new skin's deviation is then scaled by f = min(1, max(s, g)), g rising from 0 to 1 as the photo's spread goes
 * from CHROMA_MATCH_LO to CHROMA_MATCH_HI: a colour photo's render is left as it was (bit-identical), the luminance
 * always is. A grey photo (s 0) gets a grey face; a sepia one (its chroma a function of the luminance: the tone
 * curve's spread near 0) the photo's tone at the new face's luminance. The photo's own pixels in the render (cov 2:
 * mouth and eye openings) are not touched. */
static void chroma_match(const job *j, mf_fimg *rend, const mf_fimg *cov, const mf_fimg *cov0, const mf_fimg *lo,
                         const double osum[3], double ow, int tone) {
    size_t px = (size_t)j->w * j->h;
    float mean[3];
    for (int k = 0; k < 3; k++) mean[k] = ow > 0 ? (float)(osum[k] / ow) : 128;
    /* the photo's tone curve over its face: Cb, Cr = t0 + t1 u + t2 u^2, u = Y / 255 (least squares; a toned
     * photo's tint is strongest in the mid-tones) */
    double m[5] = {0}, v[2][3] = {{0}};
    for (size_t i = 0; tone && i < px; i++) {
        if (!(cov0->data[i] > 0)) continue;
        const float *p = j->O.data + 3 * i;
        double u = (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255;
        double c[2] = {-0.168736 * p[0] - 0.331264 * p[1] + 0.5 * p[2], 0.5 * p[0] - 0.418688 * p[1] - 0.081312 * p[2]};
        double pw = 1;
        for (int e = 0; e < 5; e++) m[e] += pw, pw *= u;
        for (int k = 0; k < 2; k++) v[k][0] += c[k], v[k][1] += c[k] * u, v[k][2] += c[k] * u * u;
    }
    float tc[2][3] = {{0}};
    {
        double A[3][3] = {{m[0], m[1], m[2]}, {m[1], m[2], m[3]}, {m[2], m[3], m[4]}};
        double det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) - A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                     A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
        for (int k = 0; tone && m[0] > 0 && fabs(det) > 1e-9 * m[0] * m[0] * m[0] && k < 2; k++)
            for (int c = 0; c < 3; c++) { /* Cramer: column c replaced by v[k] */
                double B[3][3];
                memcpy(B, A, sizeof B);
                for (int r = 0; r < 3; r++) B[r][c] = v[k][r];
                double dc = B[0][0] * (B[1][1] * B[2][2] - B[1][2] * B[2][1]) - B[0][1] * (B[1][0] * B[2][2] - B[1][2] * B[2][0]) +
                            B[0][2] * (B[1][0] * B[2][1] - B[1][1] * B[2][0]);
                tc[k][c] = (float)(dc / det);
            }
    }
    double so = 0, no = 0, sr = 0, nr = 0, to = 0, tr = 0;
    for (size_t i = 0; i < px; i++) {
        int o = cov0->data[i] > 0, r = cov->data[i] == 1;
        if (!o && !r) continue;
        const float *l = lo->data + 3 * i;
        if (l[0] + l[1] + l[2] < 3) l = mean;
        float ly, lb, lr;
        rgb_to_ycc601(l, &ly, &lb, &lr);
        for (int side = 0; side < 2; side++) {
            if (!(side ? r : o)) continue;
            const float *p = side ? rend->data + 3 * i : j->O.data + 3 * i;
            float y, cb, cr;
            rgb_to_ycc601(p, &y, &cb, &cr);
            float u = y / 255, db = cb - lb, dr = cr - lr;
            float eb = cb - tc[0][0] - u * (tc[0][1] + u * tc[0][2]), er = cr - tc[1][0] - u * (tc[1][1] + u * tc[1][2]);
            if (side)
                sr += (double)db * db + (double)dr * dr, tr += (double)eb * eb + (double)er * er, nr++;
            else
                so += (double)db * db + (double)dr * dr, to += (double)eb * eb + (double)er * er, no++;
        }
    }
    if (!(nr > 0) || !(no > 0) || !(sr > 0)) return;
    /* (tone) the reference is the tone curve where the photo's chroma follows it more closely than its low-pass */
    int use_tone = tone && to < so && tr > 0;
    if (use_tone) so = to, sr = tr;
    /* f: the photo's spread / the render's, raised to 1 as the photo's spread goes from CHROMA_MATCH_LO to _HI */
    float spo = (float)sqrt(so / no), s = spo / (float)sqrt(sr / nr);
    float g = (spo - CHROMA_MATCH_LO) / (CHROMA_MATCH_HI - CHROMA_MATCH_LO);
    float f = fminf(1, fmaxf(s, g));
    if (!(f < 1)) return;
    for (size_t i = 0; i < px; i++) {
        if (cov->data[i] != 1) continue;
        float *p = rend->data + 3 * i;
        float y, cb, cr, ly, lb, lr;
        rgb_to_ycc601(p, &y, &cb, &cr);
        if (use_tone)
            lb = tc[0][0] + y / 255 * (tc[0][1] + y / 255 * tc[0][2]), lr = tc[1][0] + y / 255 * (tc[1][1] + y / 255 * tc[1][2]);
        else {
            const float *l = lo->data + 3 * i;
            if (l[0] + l[1] + l[2] < 3) l = mean;
            rgb_to_ycc601(l, &ly, &lb, &lr);
        }
        cb = lb + f * (cb - lb), cr = lr + f * (cr - lr);
        p[0] = y + 1.402f * cr;
        p[1] = y - 0.344136f * cb - 0.714136f * cr;
        p[2] = y + 1.772f * cb;
    }
}

/* Grain matching: the finest band of rend (rend - blur(rend, 0.7 px)) over the new skin (cov == 1) is scaled so
 * that the spread of the grey Laplacian over plain new skin equals the photo's over its plain skin (cov0): an
 * upsampled 192-px texture is too smooth on a sharp photo, the model's folds too rough on a retouched one. The
 * gain is clamped to [0.4, 3]; where the blend mask is below 1 the band is raised further (variance-preserving
 * blend, below). force: the features (not measured). */
static int grain_match(const job *j, mf_fimg *rend, const mf_fimg *cov, const mf_fimg *cov0, const mf_fimg *force,
                       const mf_fimg *mask) {
    const mf_render_par *rp = JOB_PAR(j);
    double so = 0, sr = 0;
    long no = 0, nr = 0;
    for (int y = 1; y < j->h - 1; y++)
        for (int x = 1; x < j->w - 1; x++) {
            size_t i = (size_t)y * j->w + x;
            if (force->data[i] >= 0.05f || j->skin.data[i] < 0.5f) continue;
            if (cov0->data[i] > 0.99f) {
                float l = lap_at(&j->O, x, y);
                so += l * l, no++;
            }
            if (cov->data[i] == 1 && cov->data[i - 1] == 1 && cov->data[i + 1] == 1 && cov->data[i - j->w] == 1 &&
                cov->data[i + j->w] == 1) {
                float l = lap_at(rend, x, y);
                sr += l * l, nr++;
            }
        }
    float gain = no < 64 || nr < 64 || !(sr > 0) ? 1 : (float)sqrt((so / no) / (sr / nr));
    gain = gain < 0.4f ? 0.4f : gain > 3 ? 3 : gain;
    mf_fimg bl;
    int st = mf_fimg_copy(rend, &bl);
    if (!st) st = mf_render_blur_par(&bl, NULL, 0.7f, rp);
    if (!st) {
        size_t px = (size_t)j->w * j->h;
        for (size_t i = 0; i < px; i++) {
            if (cov->data[i] != 1) continue;
            /* where the blend mixes the new skin with the photo's (weight m < 1), the two uncorrelated grains add
             * to a variance of m^2 + (1-m)^2 of either: the new skin's finest band is raised by
             * sqrt(1 - (1-m)^2) / m (at most 2) so the mixed skin keeps the grain (variance-preserving blend) */
            float m = mask->data[i], h = m > 0.05f ? sqrtf(1 - (1 - m) * (1 - m)) / m : 2;
            float g = gain * (h > 2 ? 2 : h) - 1;
            if (g == 0) continue;
            for (int k = 0; k < 3; k++) rend->data[3 * i + k] += g * (rend->data[3 * i + k] - bl.data[3 * i + k]);
        }
    }
    mf_fimg_free(&bl);
    return st;
}


/* Coverage of the model's triangles flagged in `flag`, rasterised at two positions of the mesh, P0 then P1 (the
 * drawn and the original's: a feature must go from where it is drawn and from where it was), into `out` (1 channel).
 * `ft` holds 3 * n_tri ints of scratch; `depth` and `dummy` are scratch planes of out's size. */
static int cover_flagged(const mf_anon_t *a, const uint8_t *flag, const float *P0, const float *P1, int *ft,
                         mf_fimg *depth, mf_fimg *dummy, mf_fimg *out) {
    const mf_anon_model_t *m = a->m;
    float one_px[1] = {1};
    mf_fimg one1 = {1, 1, 1, one_px};
    int nf = 0, st = MF_OK;
    for (int t = 0; t < m->n_tri; t++)
        if (flag[t]) memcpy(ft + 3 * nf++, m->tri + 3 * t, sizeof(int) * 3);
    for (int pass = 0; !st && pass < 2; pass++) {
        mf_fimg_fill(depth, FLT_MAX);
        mf_render_mesh fm = {pass ? P1 : P0, m->uv, NV, ft, nf};
        st = mf_render_triangles(dummy, depth, out, 1, &one1, &fm);
    }
    return st;
}

/* (lens53) Grows j->lens_keep (the eye zone at the original's position) by the sunglasses' lenses: the pixels of
 * j->skin under LENS_SKIN connected to it, within `radius` eye distances of either eye's centre (mf_anon_lens_fill). */
static int lens_grow(job *j, float radius) {
    size_t px = (size_t)j->w * j->h;
    int *q = malloc(sizeof(int) * px);
    uint8_t *lens = malloc(px);
    int st = MF_OK;
    float c[2][2] = {{0, 0}, {0, 0}};
    for (int e = 0; e < 2; e++)
        for (int v = 0; v < 16; v++)
            for (int d = 0; d < 2; d++) c[e][d] += j->P[3 * (e ? mf_anon_loop_leye : mf_anon_loop_reye)[v] + d] / 16;
    float iod = hypotf(c[1][0] - c[0][0], c[1][1] - c[0][1]);
    if (!q || !lens) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    else mf_anon_lens_fill(j->skin.data, j->lens_keep.data, j->w, j->h, LENS_SKIN, (const float(*)[2])c, radius * iod, q, lens);
    for (size_t i = 0; !st && i < px; i++) j->lens_keep.data[i] = fmaxf(j->lens_keep.data[i], lens[i]);
    free(q), free(lens);
    return st;
}

/* The skin map's mean over the model's triangles flagged in `flag` and not in `except` (NULL: none), rasterised at
 * the mesh P: *mean = the coverage-weighted mean of `skin`, -1 when nothing is covered (the triangles outside the
 * photo). Scratch as cover_flagged's, with `cov` (skin's size; zeroed here) for the coverage. */
static int skin_over(const mf_anon_t *a, const uint8_t *flag, const uint8_t *except, const float *P, const mf_fimg *skin,
                     int *ft, mf_fimg *depth, mf_fimg *dummy, mf_fimg *cov, float *mean) {
    const mf_anon_model_t *m = a->m;
    float one_px[1] = {1};
    mf_fimg one1 = {1, 1, 1, one_px};
    int nf = 0;
    for (int t = 0; t < m->n_tri; t++)
        if (flag[t] && !(except && except[t])) memcpy(ft + 3 * nf++, m->tri + 3 * t, sizeof(int) * 3);
    mf_fimg_fill(depth, FLT_MAX), mf_fimg_fill(cov, 0);
    mf_render_mesh fm = {P, m->uv, NV, ft, nf};
    int st = mf_render_triangles(dummy, depth, cov, 1, &one1, &fm);
    double sp = 0, sn = 0;
    for (size_t i = 0; !st && i < (size_t)skin->w * skin->h; i++) sp += cov->data[i] * skin->data[i], sn += cov->data[i];
    *mean = !st && sn > 0 ? (float)(sp / sn) : -1;
    return st;
}

/* Relief matching: the drawn skin's relief between the finest band and RELIEF_SIGMA face sizes (folds, creases,
 * frown lines, eye bags: the model's training faces average 31 years and carry them in the texture) is scaled down
 * so that its spread over plain new skin is the photo's over its plain skin (gain RELIEF_MIN..1, never raised). A
 * smooth-skinned face otherwise got rough, lined skin and looked 10-20 years older. The features (brows, eyes,
 * lips, nose: `feat`, soft) keep the drawn contrast; that is where the new identity shows to a recognizer. Measured
 * on the grey band-pass blur(x, 1 px) - blur(x, RELIEF_SIGMA fs), so the grain (matched later) does not count. */
static int relief_match(job *j, mf_fimg *rend, const mf_fimg *cov, const mf_fimg *cov0, const mf_fimg *core,
                        const mf_fimg *feat, const mf_fimg *ramp) {
    const mf_render_par *rp = JOB_PAR(j);
    float sig = fminf(fmaxf(1.5f, RELIEF_SIGMA * j->fs), (float)MF_RENDER_MAX_SIGMA);
    size_t px = (size_t)j->w * j->h;
    mf_fimg lo_r, f_r;
    memset(&lo_r, 0, sizeof lo_r), memset(&f_r, 0, sizeof f_r);
    int st = mf_render_lowpass_par(rend, NULL, sig, &lo_r, rp);
    /* the photo's side depends on O and fs only: once per face (speed17) */
    if (!st && !j->relief_lo.data) st = mf_render_lowpass_par(&j->O, NULL, sig, &j->relief_lo, rp);
    if (!st && !j->relief_fo.data) {
        st = mf_fimg_copy(&j->O, &j->relief_fo);
        if (!st) st = mf_render_blur_par(&j->relief_fo, NULL, 1, rp);
        if (st) mf_fimg_free(&j->relief_fo);
    }
    const mf_fimg lo_o = j->relief_lo, f_o = j->relief_fo;
    if (!st) st = mf_fimg_copy(rend, &f_r);
    if (!st) st = mf_render_blur_par(&f_r, NULL, 1, rp);
    if (!st) {
        double so = 0, sr = 0;
        long no = 0, nr = 0;
        for (size_t i = 0; i < px; i++) {
            /* inside the ramp only: the mesh's edge against the background is no skin relief */
            if (core->data[i] >= 0.05f || feat->data[i] >= 0.05f || j->skin.data[i] < 0.5f || ramp->data[i] < 0.99f)
                continue;
            const float *a = f_o.data + 3 * i, *b = lo_o.data + 3 * i, *c = f_r.data + 3 * i, *d = lo_r.data + 3 * i;
            if (cov0->data[i] > 0.99f) {
                float g = 0.299f * (a[0] - b[0]) + 0.587f * (a[1] - b[1]) + 0.114f * (a[2] - b[2]);
                so += g * g, no++;
            }
            if (cov->data[i] == 1) {
                float g = 0.299f * (c[0] - d[0]) + 0.587f * (c[1] - d[1]) + 0.114f * (c[2] - d[2]);
                sr += g * g, nr++;
            }
        }
        float gain = no < 64 || nr < 64 || !(sr > 0) ? 1 : (float)sqrt((so / no) / (sr / nr));
        gain = gain < RELIEF_MIN ? RELIEF_MIN : gain > 1 ? 1 : gain;
        if (gain < 1)
            for (size_t i = 0; i < px; i++) {
                if (cov->data[i] != 1) continue;
                /* full on plain skin, none on the features */
                float g = 1 + (gain - 1) * (1 - fminf(1, 2 * feat->data[i]));
                for (int k = 0; k < 3; k++) {
                    float *v = rend->data + 3 * i + k, fine = *v - f_r.data[3 * i + k];
                    *v = lo_r.data[3 * i + k] + g * (f_r.data[3 * i + k] - lo_r.data[3 * i + k]) + fine;
                }
            }
    }
    mf_fimg_free(&lo_r), mf_fimg_free(&f_r);
    if (j->no_cache) mf_fimg_free(&j->relief_lo), mf_fimg_free(&j->relief_fo);
    return st;
}

/* The outer band of a drawn texture above the eyes (forehead top, temples: HAIR_BAND of the texture along the
 * oval), replaced by the skin just inside it: the model's training faces had their hairlines, fringes and
 * sideburns cleaned there, and drawn textures still carry that zone's edge: a band of another colour (brown on a
 * draw pushed away from a fair target) with a hard lower edge, which showed as a dark smudge over the far brow and
 * temple of demo photo 1's laughing face, and as the pale arc of "ghost glasses" before anon10e's hairline ramp.
 * The band takes a normalised convolution (sigma HAIR_FILL) of the texels inside it, weighted by how far inside
 * they are, plus its own finest band (grain, clamped); the weight grows smoothly over the band's inner quarter, so no new
 * edge is made. The face drawn there stays the synthetic one (the blend ramp is unchanged). */
static int hairline_band(const mf_anon_t *a, float *tex, const mf_render_par *rp) {
    const mf_anon_model_t *m = a->m;
    int T = m->T;
    size_t n = (size_t)T * T;
    const float *w = a->hair_w, *wi0 = a->hair_wi;
    float *fill = malloc(sizeof(float) * 3 * n), *fine = malloc(sizeof(float) * 3 * n), *wi = malloc(sizeof(float) * n);
    if (!fill || !fine || !wi) {
        free(fill), free(fine), free(wi);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    memcpy(fill, tex, sizeof(float) * 3 * n);
    memcpy(fine, tex, sizeof(float) * 3 * n);
    memcpy(wi, wi0, sizeof(float) * n);
    mf_fimg F = {T, T, 3, fill}, G = {T, T, 3, fine}, WI = {T, T, 1, wi};
    int st = mf_render_blur_par(&F, &WI, HAIR_FILL * T, rp);
    if (!st) st = mf_render_blur_par(&G, NULL, 1, rp);
    if (!st)
        for (size_t p = 0; p < n; p++) {
            if (!(w[p] > 0) || a->edge_alpha[p] < 0) continue;
            for (int k = 0; k < 3; k++) {
                /* the grain only: clamped, so the band's hard edge does not come back as a line */
                float *v = tex + 3 * p + k, g = fminf(HAIR_GRAIN, fmaxf(-HAIR_GRAIN, *v - fine[3 * p + k]));
                *v += w[p] * (fill[3 * p + k] + g - *v);
            }
        }
    free(fill), free(fine), free(wi);
    return st;
}

/* (mouth30) The drawn texture's dark relief beside the lip corners lifted to its low-pass by `amount` (MOUTH_CREASE). */
static int mouth_crease(const mf_anon_t *a, float *tex, float amount, const mf_render_par *rp) {
    const mf_anon_model_t *m = a->m;
    int T = m->T;
    size_t n = (size_t)T * T;
    const float *c0 = m->uv + 2 * 61, *c1 = m->uv + 2 * 291; /* the lip corners */
    float mw = hypotf(c1[0] - c0[0], c1[1] - c0[1]);
    if (!(amount > 0) || !(mw > 0)) return MF_OK;
    float *lo = malloc(sizeof(float) * 3 * n);
    if (!lo) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    memcpy(lo, tex, sizeof(float) * 3 * n);
    mf_fimg L = {T, T, 3, lo};
    int st = mf_render_blur_par(&L, NULL, MOUTH_CREASE_SIGMA * T, rp);
    for (int y = 0; !st && y < T; y++)
        for (int x = 0; x < T; x++) {
            float w = 0;
            for (int c = 0; c < 2; c++) {
                const float *q = c ? c1 : c0;
                float dx = (x - q[0]) / (MOUTH_CREASE_RX * mw), dy = (y - q[1]) / (MOUTH_CREASE_RY * mw);
                float r = 1 - sqrtf(dx * dx + dy * dy);
                if (r > 0) w = fmaxf(w, r < 0.5f ? 2 * r : 1);
            }
            if (!(w > 0) || mf_anon_in_loop(m->uv, mf_anon_feature_v + 20, 20, (float)x, (float)y)) continue;
            size_t p = (size_t)y * T + x;
            for (int k = 0; k < 3; k++) {
                float d = tex[3 * p + k] - lo[3 * p + k];
                if (d < 0) tex[3 * p + k] -= amount * w * d;
            }
        }
    free(lo);
    return st;
}

/* The texture row of the eye centres: the mean row of both eyes' lid loops (hairline_weights, seam_weights). */
static float eye_row(const mf_anon_model_t *m) {
    float v = 0;
    for (int i = 0; i < 16; i++) v += (m->uv[2 * mf_anon_loop_reye[i] + 1] + m->uv[2 * mf_anon_loop_leye[i] + 1]) / 32;
    return v;
}

/* hairline_band's weights, functions of the model alone (speed17: once at creation, they were made at every draw):
 * a->hair_w, the band's weight (1 in its outer three quarters, 0 from its inner edge on, times the fill's support),
 * and a->hair_wi, the fill's weight (texels inside the mesh and outside the band, not the features). */
static int hairline_weights(mf_anon_t *a) {
    const mf_anon_model_t *m = a->m;
    int T = m->T;
    size_t n = (size_t)T * T;
    float eye_v = eye_row(m); /* texture row of the eye centres */
    float *w = a->hair_w = malloc(sizeof(float) * n), *wi = a->hair_wi = malloc(sizeof(float) * n);
    float *wb = malloc(sizeof(float) * n);
    if (!w || !wi || !wb) {
        free(wb);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    for (size_t p = 0; p < n; p++) {
        float row = (float)(p / T) + 0.5f, e = a->edge_alpha[p];
        float up = fminf(1, fmaxf(0, (eye_v - row) / (HAIR_RISE * T)));
        /* HAIR_BAND above the brows, narrower (TEMPLE_BAND) at the temples beside the brows and eyes, CHEEK_BAND
         * below the eyes down the cheeks and jaw */
        float top = fminf(1, fmaxf(0, (a->brow_v - row) / (HAIR_RISE * T)));
        float bw = (CHEEK_BAND + (TEMPLE_BAND - CHEEK_BAND) * up + (HAIR_BAND - TEMPLE_BAND) * top) * T;
        /* 1 in the band's outer three quarters, 0 from its inner edge on */
        float u = e < 0 ? 1 : fminf(1, fmaxf(0, (bw - e) / (bw / 4)));
        w[p] = e < 0 ? 1 : u * u * (3 - 2 * u);
    }
    /* (not the features themselves: brows and eye corners next to the temples would be smeared into it) */
    for (size_t p = 0; p < n; p++)
        wi[p] = a->edge_alpha[p] < 0 || (a->tri_of[p] >= 0 && a->tri_core[a->tri_of[p]]) ? 0 : 1 - w[p];
    memcpy(wb, wi, sizeof(float) * n);
    mf_fimg WB = {T, T, 1, wb};
    /* where the fill has little support it is not used (the normalised convolution is 0 there) */
    int st = mf_render_blur(&WB, NULL, HAIR_FILL * T);
    for (size_t p = 0; !st && p < n; p++) w[p] *= fminf(1, wb[p] / 0.2f);
    free(wb);
    return st;
}

/* (seam54) forehead_seam's sides, functions of the model alone: a->seam_side and a->seam_m (see the fields). */
static int seam_weights(mf_anon_t *a) {
    const mf_anon_model_t *m = a->m;
    int T = m->T;
    size_t n = (size_t)T * T;
    /* above the eye row beside the brows (the temples), above the brows' middle row over their span (not the lids
     * below them: the training cleaned those, and there was no hair to take) */
    float eye_v = eye_row(m), bv = 0, u0 = 1e9f, u1 = -1e9f;
    for (int i = 0; i < 20; i++) {
        const float *uv = m->uv + 2 * mf_anon_feature_v[i];
        bv += uv[1] / 20, u0 = fminf(u0, uv[0]), u1 = fmaxf(u1, uv[0]);
    }
    a->seam_side = calloc(n, 1);
    a->seam_m[0] = malloc(sizeof(float) * n), a->seam_m[1] = malloc(sizeof(float) * n);
    if (!a->seam_side || !a->seam_m[0] || !a->seam_m[1]) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st = MF_OK;
    for (size_t p = 0; p < n; p++) {
        int t = a->tri_of[p];
        float x = (float)(p % T) + 0.5f, y = (float)(p / T) + 0.5f;
        if (a->edge_alpha[p] < 0 || t < 0 || a->hole_kind[t] || y >= (x > u0 && x < u1 ? bv : eye_v)) continue;
        /* the features' own triangles reach up to the ring between its vertices: changed with the ring (or the change
         * is jagged there), but not in its means (the brows are dark) */
        a->seam_side[p] = !a->tri_force[t] ? 1 : a->tri_core[t] ? 3 : 2;
    }
    for (int s = 0; !st && s < 2; s++) {
        for (size_t p = 0; p < n; p++) a->seam_m[s][p] = a->seam_side[p] == s + 1;
        mf_fimg M = {T, T, 1, a->seam_m[s]};
        st = mf_render_blur(&M, NULL, SEAM_SIGMA * T);
    }
    return st;
}

/* (seam54) The two sides' local means of tex (normalised convolutions at SEAM_SIGMA over each side): L[0..3n) side 1,
 * L[3n..6n) side 2. */
static int seam_means(const mf_anon_t *a, const float *tex, float *L, float *w, const mf_render_par *rp) {
    int T = a->m->T;
    size_t n = (size_t)T * T;
    int st = MF_OK;
    for (int s = 0; !st && s < 2; s++) {
        memcpy(L + 3 * n * s, tex, sizeof(float) * 3 * n);
        for (size_t p = 0; p < n; p++) w[p] = a->seam_side[p] == s + 1;
        mf_fimg F = {T, T, 3, L + 3 * n * s}, W = {T, T, 1, w};
        st = mf_render_blur_par(&F, &W, SEAM_SIGMA * T, rp);
    }
    return st;
}

/* (seam54) mf_anon_forehead_seam (internal.h). The step is a trace of the training faces' bangs (docs/anonymization.md,
 * stop 47: feature triangles were never hair-cleaned, so a face with bangs kept them below the brows' ring). */
int mf_anon_forehead_seam(const mf_anon_t *a, float *tex, float amount, float *step, const mf_render_par *rp) {
    int T = a->m->T;
    size_t n = (size_t)T * T;
    if (step) *step = -1;
    if (!a->seam_side || (!(amount > 0) && !step)) return MF_OK;
    float *L = malloc(sizeof(float) * 3 * n * 2), *w = malloc(sizeof(float) * n);
    if (!L || !w) {
        free(L), free(w);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    int st = seam_means(a, tex, L, w, rp);
    if (!st && step) { /* the step: over side 2's texels next to side 1, the luminance of the two means' difference */
        double sum = 0;
        long cnt = 0;
        for (size_t p = 0; p < n; p++) {
            int x = (int)(p % (size_t)T), y = (int)(p / (size_t)T);
            if (a->seam_side[p] != 2 || !((x > 0 && a->seam_side[p - 1] == 1) || (x + 1 < T && a->seam_side[p + 1] == 1) ||
                                          (y > 0 && a->seam_side[p - T] == 1) || (y + 1 < T && a->seam_side[p + T] == 1)))
                continue;
            float d[3];
            for (int k = 0; k < 3; k++) d[k] = L[3 * p + k] - L[3 * n + 3 * p + k];
            sum += fabsf(0.299f * d[0] + 0.587f * d[1] + 0.114f * d[2]), cnt++;
        }
        *step = cnt ? (float)(sum / cnt) : -1;
    }
    for (size_t p = 0; !st && amount > 0 && p < n; p++) {
        int s = a->seam_side[p] == 3 ? 1 : a->seam_side[p] - 1;
        if (s < 0 || !(a->seam_m[0][p] > 1e-3f && a->seam_m[1][p] > 1e-3f)) continue; /* a side's mean undefined */
        float f = (s ? 0.5f : -0.5f) * fminf(amount, 1) * fminf(1, SEAM_FADE * a->seam_m[1 - s][p]);
        for (int k = 0; k < 3; k++) tex[3 * p + k] += f * (L[3 * p + k] - L[3 * n + 3 * p + k]);
    }
    free(L), free(w);
    return st;
}

/* The background warp of render_draw (the outline's displacement, Shepard-interpolated on a grid of g px and fading
 * out over `fall` px), as row loops for par_rows. */
typedef struct {
    const mf_anon_t *a;
    const job *j;
    const float *P2;
    mf_fimg *field, *base;
    int g;
    float fall;
    uint8_t *cell; /* per grid cell (gx, gy): a field value at one of its corners (gx..gx+1, gy..gy+1) is not 0 */
    float bx[NV], by[NV], ex[NV], ey[NV]; /* the boundary vertices' new positions and displacements, gathered */
    int nb;                               /* how many (n_bnd, or the densified oval's 36 x tuning.warp_loop) */
    float half_seg; /* (loop46) half the longest edge between two oval vertices, px (with tuning.warp_loop > 1) */
} warp_ctx;
static void warp_field_rows(void *ctx, int y0, int y1) {
    const warp_ctx *c = ctx;
    int g = c->g, gw = c->field->w, nb = c->nb, stride = c->a->o.tuning.warp_loop;
    float d2s[NV];
    for (int gy = y0; gy < y1; gy++)
        for (int gx = 0; gx < gw; gx++) {
            float *fd = c->field->data + 2 * ((size_t)gy * gw + gx);
            if (stride > 1) { /* (loop46) the oval's vertices are every stride-th point; every point of an edge lies
                               * within half_seg of one of its two vertices:
                                  * farther than fall + half_seg from every vertex, the field is 0 (as over all points,
                                  * where it fades to 0 at fall), at the cost of the vertices alone */
                float px = gx * g + 0.5f, py = gy * g + 0.5f, dmin = FLT_MAX;
                for (int b = 0; b < nb; b += stride) { /* not fminf: a libm call per vertex (finite values) */
                    float d = (px - c->bx[b]) * (px - c->bx[b]) + (py - c->by[b]) * (py - c->by[b]);
                    dmin = d < dmin ? d : dmin;
                }
                if (sqrtf(dmin) - c->half_seg >= c->fall) {
                    fd[0] = fd[1] = 0;
                    continue;
                }
            }
            mf_anon_warp_point(c->bx, c->by, c->ex, c->ey, nb, c->a->o.tuning.warp_power, c->fall, gx * g + 0.5f,
                               gy * g + 0.5f, d2s, fd);
        }
}
static void warp_pixel_rows(void *ctx, int y0, int y1) {
    const warp_ctx *c = ctx;
    const job *j = c->j;
    int g = c->g;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < j->w; x++) {
            /* the field's bilinear taps are the corners of cell (x / g, y / g): all 0 there, it samples 0 */
            if (!c->cell[(size_t)(y / g) * c->field->w + x / g]) continue;
            /* grid point gx sits at pixel centre gx * g + 0.5, i.e. field coordinate gx + 0.5 */
            float fx = (float)x / g + 0.5f, fy = (float)y / g + 0.5f;
            float dx = mf_fimg_sample(c->field, fx, fy, 0), dy = mf_fimg_sample(c->field, fx, fy, 1);
            if (fabsf(dx) < 0.02f && fabsf(dy) < 0.02f) continue;
            sample_cubic3(&j->O, x + 0.5f - dx, y + 0.5f - dy, c->base->data + ((size_t)y * j->w + x) * 3);
        }
}

/* A drawn texture, mean + sum of code x component, for par_rows over TEX_BANDS bands of its floats (speed17). */
enum { TEX_BANDS = 64 };
typedef struct {
    const mf_anon_model_t *m;
    const float *z;
    float *tex;
    size_t D;
} tex_ctx;
static void tex_rows(void *ctx, int b0, int b1) {
    const tex_ctx *c = ctx;
    const mf_anon_model_t *m = c->m;
    size_t i0 = c->D * (size_t)b0 / TEX_BANDS, i1 = c->D * (size_t)b1 / TEX_BANDS;
    memcpy(c->tex + i0, m->tex_mean + i0, sizeof(float) * (i1 - i0));
    for (int k = 0; k < m->kt; k++) {
        float zc = c->z[m->ks + k];
        const float *bc = m->tex_basis + (size_t)k * c->D;
        for (size_t i = i0; i < i1; i++) c->tex[i] += zc * bc[i];
    }
}

/* (eyes18) mf_anon_eye_soften (internal.h): the photo's eye openings low-passed inside themselves and greyed. */
int mf_anon_eye_soften(const mf_fimg *photo, const float *P, int nv, const int *tri, int n_tri, float sigma, float grey,
                       float gain, mf_fimg *out) {
    if (!photo || !photo->data || photo->c != 3 || !P || nv <= 0 || !tri || n_tri <= 0 || !out || !(sigma >= 0) ||
        !(grey >= 0) || sigma > MF_RENDER_MAX_SIGMA || !(gain >= 0 && gain <= 1))
        return mf_error_set(MF_ERR_ARG, "eye_soften: bad arguments");
    grey = grey > 1 ? 1 : grey;
    /* the openings' box (+3 sigma + 2 px: the blur's reach and the bilinear taps at their edges) */
    float x0 = FLT_MAX, y0 = FLT_MAX, x1 = -FLT_MAX, y1 = -FLT_MAX;
    for (int t = 0; t < n_tri; t++)
        for (int k = 0; k < 3; k++) {
            int v = tri[3 * t + k];
            if (v < 0 || v >= nv) return mf_error_set(MF_ERR_ARG, "eye_soften: vertex out of range");
            float x = P[3 * v], y = P[3 * v + 1];
            x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
        }
    int st = mf_fimg_copy(photo, out);
    if (st) return st;
    float r = 3 * sigma + 2;
    int bx0 = (int)floorf(x0 - r), by0 = (int)floorf(y0 - r), bx1 = (int)ceilf(x1 + r), by1 = (int)ceilf(y1 + r);
    bx0 = bx0 < 0 ? 0 : bx0, by0 = by0 < 0 ? 0 : by0;
    bx1 = bx1 > photo->w ? photo->w : bx1, by1 = by1 > photo->h ? photo->h : by1;
    if (bx1 <= bx0 || by1 <= by0) return 0; /* the openings lie outside the photo: nothing to soften */
    int bw = bx1 - bx0, bh = by1 - by0;
    mf_fimg sub, w, depth;
    memset(&sub, 0, sizeof sub), memset(&w, 0, sizeof w), memset(&depth, 0, sizeof depth);
    float *Pb = malloc(sizeof(float) * 3 * (size_t)nv);
    if (!Pb) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (!st) st = mf_fimg_init(&sub, bw, bh, 3);
    if (!st) st = mf_fimg_init(&w, bw, bh, 1);
    if (!st) st = mf_fimg_init(&depth, bw, bh, 1);
    if (!st) {
        for (int y = 0; y < bh; y++)
            memcpy(sub.data + 3 * (size_t)y * bw, photo->data + 3 * ((size_t)(y + by0) * photo->w + bx0),
                   sizeof(float) * 3 * (size_t)bw);
        for (int v = 0; v < nv; v++) Pb[3 * v] = P[3 * v] - bx0, Pb[3 * v + 1] = P[3 * v + 1] - by0, Pb[3 * v + 2] = 0;
        /* coverage of the openings where they are in the photo (flat: both eyes are drawn, no occlusion here) */
        mf_fimg_fill(&w, 0), mf_fimg_fill(&depth, FLT_MAX);
        float one_px[1] = {1};
        mf_fimg one1 = {1, 1, 1, one_px};
        float *uv0 = calloc(2 * (size_t)nv, sizeof(float));
        if (!uv0) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        mf_fimg dmy;
        memset(&dmy, 0, sizeof dmy);
        if (!st) st = mf_fimg_init(&dmy, bw, bh, 1);
        if (!st) {
            mf_render_mesh mm = {Pb, uv0, nv, tri, n_tri};
            st = mf_render_triangles(&dmy, &depth, &w, 1, &one1, &mm);
        }
        free(uv0), mf_fimg_free(&dmy);
    }
    /* normalised blur inside the openings: the lids, lashes and skin around them do not bleed in; the iris stays a
     * dark disc where it was (gaze), its rim, texture and catch-lights go */
    if (!st && sigma > 0.3f) st = mf_render_blur(&sub, &w, sigma);
    if (!st) {
        for (int y = 0; y < bh; y++)
            for (int x = 0; x < bw; x++) {
                size_t i = (size_t)y * bw + x;
                if (w.data[i] <= 0) continue;
                float *q = sub.data + 3 * i, *o = out->data + 3 * ((size_t)(y + by0) * photo->w + x + bx0);
                float l = 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2];
                for (int k = 0; k < 3; k++) o[k] = gain * (q[k] + grey * (l - q[k]));
            }
    }
    free(Pb), mf_fimg_free(&sub), mf_fimg_free(&w), mf_fimg_free(&depth);
    if (st) mf_fimg_free(out);
    return st;
}

static float lum_bilinear(const float *img, int w, int h, float x, float y) {
    x = x < 0 ? 0 : x > w - 1 ? (float)(w - 1) : x, y = y < 0 ? 0 : y > h - 1 ? (float)(h - 1) : y;
    int x0 = (int)x, y0 = (int)y, x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0, l[4];
    for (int q = 0; q < 4; q++) {
        const float *p = img + 3 * ((size_t)(q & 2 ? y1 : y0) * w + (q & 1 ? x1 : x0));
        l[q] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    }
    return (1 - fy) * ((1 - fx) * l[0] + fx * l[1]) + fy * ((1 - fx) * l[2] + fx * l[3]);
}

/* (eyes19) mf_anon_eye_dark_factor (internal.h): the drawn eyes' brightness against the photo's, each relative to
 * its own skin. */
int mf_anon_eye_dark_factor(const float *tex, int T, const float *uv, const mf_fimg *photo, const float *P, int nv,
                            const int *tri, int n_tri, const int *probes, int n_probes, float photo_skin_y,
                            float strength, float min_factor, float *factor) {
    if (!tex || T < 2 || !uv || !photo || !photo->data || photo->c != 3 || !P || nv <= 0 || !tri || n_tri < 0 ||
        !probes || n_probes <= 0 || n_probes > 64 || !(strength >= 0) || !(min_factor >= 0 && min_factor <= 1) ||
        !factor)
        return mf_error_set(MF_ERR_ARG, "eye_dark_factor: bad arguments");
    *factor = 1;
    float ps[64];
    for (int i = 0; i < n_probes; i++) {
        if (probes[i] < 0 || probes[i] >= nv) return mf_error_set(MF_ERR_ARG, "eye_dark_factor: vertex out of range");
        ps[i] = lum_bilinear(tex, T, T, uv[2 * probes[i]], uv[2 * probes[i] + 1]);
    }
    qsort(ps, (size_t)n_probes, sizeof(float), cmp_float);
    float tex_skin = ps[n_probes / 2];
    double sm = 0, sp = 0, sw = 0;
    const int N = EYE_DARK_SAMPLES;
    for (int t = 0; t < n_tri; t++) {
        const int *v = tri + 3 * t;
        for (int k = 0; k < 3; k++)
            if (v[k] < 0 || v[k] >= nv) return mf_error_set(MF_ERR_ARG, "eye_dark_factor: vertex out of range");
        const float *a = P + 3 * v[0], *b = P + 3 * v[1], *c = P + 3 * v[2];
        float area = 0.5f * fabsf((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]));
        if (!(area > 0)) continue;
        for (int i = 0; i < N; i++)
            for (int jj = 0; i + jj < N; jj++) {
                /* points strictly inside: barycentric (i + 1/3, j + 1/3) / N */
                float u = (i + 1 / 3.0f) / N, w = (jj + 1 / 3.0f) / N, z = 1 - u - w;
                float px = z * a[0] + u * b[0] + w * c[0], py = z * a[1] + u * b[1] + w * c[1];
                if (px < 0 || py < 0 || px > photo->w - 1 || py > photo->h - 1) continue;
                float tx = z * uv[2 * v[0]] + u * uv[2 * v[1]] + w * uv[2 * v[2]];
                float ty = z * uv[2 * v[0] + 1] + u * uv[2 * v[1] + 1] + w * uv[2 * v[2] + 1];
                sm += area * lum_bilinear(tex, T, T, tx, ty);
                sp += area * lum_bilinear(photo->data, photo->w, photo->h, px, py);
                sw += area;
            }
    }
    if (!(sw > 0) || !(tex_skin > 4) || !(photo_skin_y > 4)) return MF_OK;
    double model_rel = sm / sw / tex_skin, photo_rel = sp / sw / photo_skin_y;
    if (!(photo_rel > 0.02)) return MF_OK;
    double f = pow(model_rel / photo_rel, strength);
    *factor = f < min_factor ? min_factor : f > 1 ? 1 : (float)f;
    return MF_OK;
}

/* (eyes33) mf_anon_eye_uv_gain (internal.h): the model eyes' spread, 1 when off. */
float mf_anon_eye_uv_gain(const mf_anon_tuning *tu) {
    float k = !tu || tu->eye_uv == 0 ? EYE_UV : tu->eye_uv;
    return k > 1 ? fminf(k, EYE_UV_MAX) : 1;
}

/* (eyes33) mf_anon_eye_uv (internal.h): a lid loop's texture coordinates spread about their centre. */
int mf_anon_eye_uv(float *uv, int nv, const int *loop, int n, float k) {
    if (!uv || !loop || n < 3 || n > 64 || !(k > 0)) return mf_error_set(MF_ERR_ARG, "eye_uv: bad arguments");
    float c[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        if (loop[i] < 0 || loop[i] >= nv) return mf_error_set(MF_ERR_ARG, "eye_uv: vertex out of range");
        c[0] += uv[2 * loop[i]] / n, c[1] += uv[2 * loop[i] + 1] / n;
    }
    float kx = 1 + (k - 1) / 3;
    for (int i = 0; i < n; i++) {
        float *q = uv + 2 * loop[i];
        q[0] = c[0] + kx * (q[0] - c[0]), q[1] = c[1] + k * (q[1] - c[1]);
    }
    return MF_OK;
}

/* (looks32) mf_anon_eye_lid (internal.h): either opening without an eye in it. */
int mf_anon_eye_lid(const mf_anon_tuning *tu, const float eye_dark[2]) {
    float th = !tu ? 0 : tu->eye_lid == 0 ? EYE_LID : tu->eye_lid;
    return eye_dark && th > 0 && (eye_dark[0] >= th || eye_dark[1] >= th);
}

/* (looks32) mf_anon_eye_open_dark (internal.h): the dark quantile of an opening's middle, over the skin. */
int mf_anon_eye_open_dark(const mf_fimg *photo, const float *P, int nv, const int *loop, int n, float shrink, float q,
                          float skin_y, float *rel) {
    if (!photo || !photo->data || photo->c != 3 || !P || nv <= 0 || !loop || n < 3 || n > 64 ||
        !(shrink > 0 && shrink <= 1) || !(q >= 0 && q <= 1) || !rel)
        return mf_error_set(MF_ERR_ARG, "eye_open_dark: bad arguments");
    *rel = -1;
    float x[64], y[64], cx = 0, cy = 0;
    for (int i = 0; i < n; i++) {
        if (loop[i] < 0 || loop[i] >= nv) return mf_error_set(MF_ERR_ARG, "eye_open_dark: vertex out of range");
        cx += P[3 * loop[i]] / n, cy += P[3 * loop[i] + 1] / n;
    }
    float x0 = FLT_MAX, x1 = -FLT_MAX, y0 = FLT_MAX, y1 = -FLT_MAX;
    for (int i = 0; i < n; i++) {
        x[i] = cx + shrink * (P[3 * loop[i]] - cx), y[i] = cy + shrink * (P[3 * loop[i] + 1] - cy);
        x0 = fminf(x0, x[i]), x1 = fmaxf(x1, x[i]), y0 = fminf(y0, y[i]), y1 = fmaxf(y1, y[i]);
    }
    if (!(skin_y > 4) || !(x1 > x0) || !(y1 > y0)) return MF_OK;
    /* a grid of at most 0.5 px, at least EYE_OPEN_GRID points across the longer side */
    float step = fminf(0.5f, fmaxf(x1 - x0, y1 - y0) / EYE_OPEN_GRID);
    int nx = (int)((x1 - x0) / step) + 1, ny = (int)((y1 - y0) / step) + 1;
    float *lum = malloc(sizeof(float) * (size_t)nx * ny);
    if (!lum) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int m = 0;
    for (int gy = 0; gy < ny; gy++)
        for (int gx = 0; gx < nx; gx++) {
            float px = x0 + (gx + 0.5f) * step, py = y0 + (gy + 0.5f) * step;
            if (px < 0 || py < 0 || px > photo->w - 1 || py > photo->h - 1) continue;
            int in = 0; /* even-odd rule over the shrunk loop */
            for (int i = 0, k = n - 1; i < n; k = i++)
                if ((y[i] > py) != (y[k] > py) && px < x[i] + (py - y[i]) * (x[k] - x[i]) / (y[k] - y[i])) in = !in;
            if (in) lum[m++] = lum_bilinear(photo->data, photo->w, photo->h, px, py);
        }
    if (m >= 4) {
        qsort(lum, (size_t)m, sizeof(float), cmp_float);
        *rel = lum[(int)(q * (m - 1) + 0.5f)] / skin_y;
    }
    free(lum);
    return MF_OK;
}

/* The photo's openings' luminance quantile q over the skin's (mf_anon_eye_open_dark of the right and the left lid
 * loop's middles; -1 for an opening with none): out[0] right, out[1] left. Stops at the first error. */
static int openings_quantile(const job *j, float q, float out[2]) {
    int st = MF_OK;
    for (int e = 0; !st && e < 2; e++)
        st = mf_anon_eye_open_dark(&j->O, j->P, NV, e ? mf_anon_loop_leye : mf_anon_loop_reye, 16, EYE_OPEN_SHRINK, q,
                                   j->skin_y, &out[e]);
    return st;
}

/* (reid18) mf_anon_shade_follow (internal.h): the photo's low-pass moved with the face. */
int mf_anon_shade_follow(const float *P_old, const float *P_new, int nv, const int *tri, int n_tri, float amount,
                         mf_fimg *depth, mf_fimg *lo) {
    if (!P_old || !P_new || nv <= 0 || !tri || n_tri <= 0 || !depth || !lo || !lo->data || depth->w != lo->w ||
        depth->h != lo->h || depth->c != 1)
        return mf_error_set(MF_ERR_ARG, "shade_follow: bad arguments");
    amount = amount < 0 ? 0 : amount > 1 ? 1 : amount;
    float *Pm = malloc(sizeof(float) * 3 * (size_t)nv), *uv = malloc(sizeof(float) * 2 * (size_t)nv);
    mf_fimg moved;
    memset(&moved, 0, sizeof moved);
    int st = Pm && uv ? mf_fimg_copy(lo, &moved) : mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (!st) {
        for (int v = 0; v < nv; v++) {
            for (int k = 0; k < 3; k++) Pm[3 * v + k] = P_old[3 * v + k] + amount * (P_new[3 * v + k] - P_old[3 * v + k]);
            uv[2 * v] = P_old[3 * v], uv[2 * v + 1] = P_old[3 * v + 1];
        }
        mf_fimg_fill(depth, FLT_MAX);
        mf_render_mesh mm = {Pm, uv, nv, tri, n_tri};
        st = mf_render_triangles(&moved, depth, NULL, 0, lo, &mm);
    }
    if (!st) {
        mf_fimg_free(lo);
        *lo = moved;
    } else
        mf_fimg_free(&moved);
    free(Pm), free(uv);
    return st;
}

/* (sh31) Per-pixel normals of a mesh (mf_anon_sh_light): nrm (w x h x 3) gets the interpolated, normalised vertex
 * normal of the nearest triangle at each pixel centre, cov (w x h) 1 there (both left as they are elsewhere); vn
 * (nv x 3) and zb (w x h) are scratch. */
static void sh_normals(const float *P, int nv, const int *tri, int n_tri, int w, int h, float *vn, float *zb,
                       float *nrm, float *cov) {
    memset(vn, 0, sizeof(float) * 3 * (size_t)nv);
    double facing = 0;
    for (int t = 0; t < n_tri; t++) {
        const float *p0 = P + 3 * tri[3 * t], *p1 = P + 3 * tri[3 * t + 1], *p2 = P + 3 * tri[3 * t + 2];
        float e1[3] = {p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]}, e2[3] = {p2[0] - p0[0], p2[1] - p0[1], p2[2] - p0[2]};
        float n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
        facing += n[2];
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++) vn[3 * tri[3 * t + c] + k] += n[k];
    }
    /* the winding is the mesh's; most of a face's area faces the camera (z smaller = nearer: n_z < 0) */
    float sgn = facing > 0 ? -1.0f : 1.0f;
    for (int v = 0; v < nv; v++) {
        float *n = vn + 3 * v, l = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        for (int k = 0; k < 3; k++) n[k] = l > 0 ? sgn * n[k] / l : 0;
    }
    for (size_t i = 0; i < (size_t)w * h; i++) zb[i] = FLT_MAX;
    for (int t = 0; t < n_tri; t++) {
        const int *ti = tri + 3 * t;
        const float *p0 = P + 3 * ti[0], *p1 = P + 3 * ti[1], *p2 = P + 3 * ti[2];
        float area = (p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0]);
        if (!(fabsf(area) > 1e-6f)) continue;
        int x0 = (int)floorf(fminf(p0[0], fminf(p1[0], p2[0]))), x1 = (int)ceilf(fmaxf(p0[0], fmaxf(p1[0], p2[0])));
        int y0 = (int)floorf(fminf(p0[1], fminf(p1[1], p2[1]))), y1 = (int)ceilf(fmaxf(p0[1], fmaxf(p1[1], p2[1])));
        x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > w ? w : x1, y1 = y1 > h ? h : y1;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                float b0 = ((p1[0] - px) * (p2[1] - py) - (p1[1] - py) * (p2[0] - px)) / area;
                float b1 = ((p2[0] - px) * (p0[1] - py) - (p2[1] - py) * (p0[0] - px)) / area;
                float b2 = 1 - b0 - b1;
                if (b0 < 0 || b1 < 0 || b2 < 0) continue;
                size_t i = (size_t)y * w + x;
                float z = b0 * p0[2] + b1 * p1[2] + b2 * p2[2];
                if (!(z < zb[i])) continue;
                zb[i] = z, cov[i] = 1;
                float n[3], l = 0;
                for (int k = 0; k < 3; k++)
                    n[k] = b0 * vn[3 * ti[0] + k] + b1 * vn[3 * ti[1] + k] + b2 * vn[3 * ti[2] + k], l += n[k] * n[k];
                l = l > 0 ? sqrtf(l) : 1;
                for (int k = 0; k < 3; k++) nrm[3 * i + k] = n[k] / l;
            }
    }
}

/* (sh50) mf_anon_sh_chroma (internal.h). */
void mf_anon_sh_chroma(mf_fimg *light, const mf_fimg *lo) {
    size_t px = (size_t)light->w * light->h;
    for (size_t i = 0; i < px; i++) {
        float *q = light->data + 3 * i;
        const float *o = lo->data + 3 * i;
        float yq = 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2], yo = 0.299f * o[0] + 0.587f * o[1] + 0.114f * o[2];
        if (yo > MF_ANON_SH_CHROMA_MIN)
            for (int k = 0; k < 3; k++) q[k] = o[k] * (yq / yo);
    }
}

/* (sh31) mf_anon_sh_light (internal.h): the photo's light fitted over the target's normals, shown on the drawn ones. */
int mf_anon_sh_light(const mf_fimg *photo, const mf_fimg *wo, const mf_fimg *wr, const float *P_old, const float *P_new,
                     int nv, const int *tri, int n_tri, float sigma, const mf_render_par *par, mf_fimg *out,
                     float coef[3][4], int *fitted) {
    if (out) memset(out, 0, sizeof *out);
    if (fitted) *fitted = 0;
    if (!photo || !photo->data || photo->c != 3 || !wo || !wr || !wo->data || !wr->data || wo->w != photo->w ||
        wo->h != photo->h || wo->c != 1 || wr->w != photo->w || wr->h != photo->h || wr->c != 1 || !P_old || !P_new ||
        nv <= 0 || !tri || n_tri <= 0 || !out || !fitted || !(sigma > 0) || sigma > MF_RENDER_MAX_SIGMA)
        return mf_error_set(MF_ERR_ARG, "sh_light: bad arguments");
    for (int t = 0; t < 3 * n_tri; t++)
        if (tri[t] < 0 || tri[t] >= nv) return mf_error_set(MF_ERR_ARG, "sh_light: vertex index out of range");
    int w = photo->w, h = photo->h;
    size_t px = (size_t)w * h;
    float *vn = malloc(sizeof(float) * 3 * (size_t)nv), *zb = malloc(sizeof(float) * px);
    float *nrm = calloc(3 * px, sizeof(float)), *cv = calloc(px, sizeof(float));
    mf_fimg sh, wgt;
    memset(&sh, 0, sizeof sh), memset(&wgt, 0, sizeof wgt);
    int st = vn && zb && nrm && cv ? 0 : mf_error_set(MF_ERR_NOMEM, "out of memory");
    /* the fit: normal equations of the 4 terms, the same matrix for the three channels */
    double A[16] = {0}, B[3][4] = {{0}}, W = 0;
    if (!st) {
        sh_normals(P_old, nv, tri, n_tri, w, h, vn, zb, nrm, cv);
        for (size_t i = 0; i < px; i++) {
            float wi = wo->data[i];
            if (!(wi > 0) || cv[i] != 1) continue;
            double b[4] = {1, nrm[3 * i], nrm[3 * i + 1], nrm[3 * i + 2]};
            W += wi;
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 4; c++) A[4 * r + c] += wi * b[r] * b[c];
                for (int k = 0; k < 3; k++) B[k][r] += wi * b[r] * photo->data[3 * i + k];
            }
        }
    }
    double c[3][4] = {{0}};
    int ok = !st && W >= MF_ANON_SH_MIN_SKIN;
    if (ok) {
        /* ridge on the normal terms (towards a flat light), then Cholesky */
        for (int r = 1; r < 4; r++) A[5 * r] += MF_ANON_SH_RIDGE * W;
        double L[16] = {0};
        for (int r = 0; r < 4 && ok; r++)
            for (int q = 0; q <= r && ok; q++) {
                double s = A[4 * r + q];
                for (int k = 0; k < q; k++) s -= L[4 * r + k] * L[4 * q + k];
                if (r == q) {
                    if (!(s > 1e-9 * W)) ok = 0;
                    else L[5 * r] = sqrt(s);
                } else
                    L[4 * r + q] = s / L[5 * q];
            }
        for (int k = 0; k < 3 && ok; k++) {
            double y[4];
            for (int r = 0; r < 4; r++) {
                double s = B[k][r];
                for (int q = 0; q < r; q++) s -= L[4 * r + q] * y[q];
                y[r] = s / L[5 * r];
            }
            for (int r = 3; r >= 0; r--) {
                double s = y[r];
                for (int q = r + 1; q < 4; q++) s -= L[4 * q + r] * c[k][q];
                c[k][r] = s / L[5 * r];
            }
            for (int r = 0; r < 4; r++) ok &= isfinite(c[k][r]);
        }
    }
    if (ok) {
        /* the model on the drawn face's normals, low-passed over the new skin like the photo's shading */
        double mean[3];
        for (int k = 0; k < 3; k++) mean[k] = (B[k][0]) / W;
        memset(cv, 0, sizeof(float) * px);
        sh_normals(P_new, nv, tri, n_tri, w, h, vn, zb, nrm, cv);
        st = mf_fimg_init(&sh, w, h, 3);
        if (!st) st = mf_fimg_init(&wgt, w, h, 1);
        for (size_t i = 0; !st && i < px; i++) {
            wgt.data[i] = cv[i] == 1 ? wr->data[i] : 0;
            const float *n = nrm + 3 * i;
            for (int k = 0; k < 3; k++) {
                double v = cv[i] == 1 ? c[k][0] + c[k][1] * n[0] + c[k][2] * n[1] + c[k][3] * n[2] : mean[k];
                sh.data[3 * i + k] = (float)fmax(v, 0.1 * mean[k]);
            }
        }
        if (!st) st = mf_render_lowpass_par(&sh, &wgt, sigma, out, par);
        if (!st) {
            *fitted = 1;
            if (coef)
                for (int k = 0; k < 3; k++)
                    for (int r = 0; r < 4; r++) coef[k][r] = (float)c[k][r];
        }
    }
    mf_fimg_free(&sh), mf_fimg_free(&wgt);
    free(vn), free(zb), free(nrm), free(cv);
    return st;
}

/* (tone35) How much more the result res (the ROI) varies than the photo (j->O) across the face: the ratio of the
 * spreads of the mean luminance of the skin probes' patches (CONTRAST_PROBE face sizes, at the target's mesh points;
 * each patch clipped to the ROI, an empty one skipped). 1 when fewer than 3 patches or a flat photo. */
static float probe_contrast(const job *j, const mf_fimg *res) {
    int rad = (int)(CONTRAST_PROBE * j->fs) + 1, k = 0;
    double y[2][NPROBE], sy[2] = {0, 0};
    for (int p = 0; p < NPROBE; p++) {
        const float *q = j->P + 3 * skin_probes[p];
        int cx = (int)q[0], cy = (int)q[1];
        double s[2] = {0, 0}, n = 0;
        for (int yy = cy - rad; yy <= cy + rad; yy++)
            for (int xx = cx - rad; xx <= cx + rad; xx++) {
                if (xx < 0 || yy < 0 || xx >= j->w || yy >= j->h) continue;
                size_t i = 3 * ((size_t)yy * j->w + xx);
                const float *o = j->O.data + i, *r = res->data + i;
                s[0] += 0.299 * o[0] + 0.587 * o[1] + 0.114 * o[2];
                s[1] += 0.299 * fminf(fmaxf(r[0], 0), 255) + 0.587 * fminf(fmaxf(r[1], 0), 255) +
                        0.114 * fminf(fmaxf(r[2], 0), 255);
                n++;
            }
        if (n == 0) continue;
        for (int c = 0; c < 2; c++) y[c][k] = s[c] / n, sy[c] += s[c] / n;
        k++;
    }
    if (k < 3) return 1;
    double v[2] = {0, 0};
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < k; i++) v[c] += (y[c][i] - sy[c] / k) * (y[c][i] - sy[c] / k);
    return v[0] > 1e-6 ? (float)sqrt(v[1] / v[0]) : 1;
}

/* (lap46) How much rougher the draw's skin is than the photo's: the variance of the luminance's 4-neighbour Laplacian
 * over five squares (LAP_PROBE face sizes around mesh points 50, 280, 151, 117, 346: cheeks, forehead, under the
 * eyes; eval_anon's looks figure, ev_skin_laplacian_var) in res (clamped to 0..255) over the same in the photo, that
 * taken as at least LAP_FLOOR. 1 when the squares hold too few pixels. */
static float skin_lap_ratio(const job *j, const mf_fimg *res) {
    static const int pts[] = {50, 280, 151, 117, 346};
    int rad = (int)(LAP_PROBE * j->fs) + 1;
    double s[2] = {0, 0}, s2[2] = {0, 0};
    long n = 0;
    for (size_t p = 0; p < sizeof pts / sizeof pts[0]; p++) {
        int cx = (int)j->P[3 * pts[p]], cy = (int)j->P[3 * pts[p] + 1];
        for (int y = cy - rad; y <= cy + rad; y++)
            for (int x = cx - rad; x <= cx + rad; x++) {
                if (x < 1 || y < 1 || x >= j->w - 1 || y >= j->h - 1) continue;
                for (int c = 0; c < 2; c++) {
                    const float *d = c ? res->data : j->O.data;
#define LUM(xx, yy)                                                                                                    \
    (0.299 * fminf(fmaxf(d[3 * ((size_t)(yy)*j->w + (xx))], 0), 255) +                                                 \
     0.587 * fminf(fmaxf(d[3 * ((size_t)(yy)*j->w + (xx)) + 1], 0), 255) +                                             \
     0.114 * fminf(fmaxf(d[3 * ((size_t)(yy)*j->w + (xx)) + 2], 0), 255))
                    double l = LUM(x - 1, y) + LUM(x + 1, y) + LUM(x, y - 1) + LUM(x, y + 1) - 4 * LUM(x, y);
#undef LUM
                    s[c] += l, s2[c] += l * l;
                }
                n++;
            }
    }
    if (n < 16) return 1;
    double v0 = s2[0] / n - (s[0] / n) * (s[0] / n), v1 = s2[1] / n - (s[1] / n) * (s[1] / n);
    return (float)(v1 / fmax(v0, LAP_FLOOR));
}

/* (pale34) The new skin's tone brought towards the photo's skin under it (tuning.tone_match, strength t): over the
 * pixels that are plain skin in both the render and the photo (weights wr x wo), each channel of the rendered face
 * (coverage 1) is multiplied by (photo's mean / render's mean)^t (TONE_CHAN_MIN..MAX), then by a smooth factor that
 * sets the spread of its luminance low-passed at TONE_SIGMA face sizes to g^t times its own, g = the photo's spread /
 * the render's (TONE_GAIN_MIN..MAX), about the photo's mean. The drawn pattern keeps its shape; only its overall colour
 * and its broad contrast follow the photo's. Fewer than TONE_MIN_PX of such pixels: nothing is changed. */
static int tone_match(const job *j, const float *P2, mf_fimg *rend, const mf_fimg *cov, const mf_fimg *wr,
                      const mf_fimg *wo, float t, const mf_render_par *rp) {
    size_t px = (size_t)j->w * j->h;
    mf_fimg w, yr, yo, lr, lo;
    memset(&w, 0, sizeof w), memset(&yr, 0, sizeof yr), memset(&yo, 0, sizeof yo);
    memset(&lr, 0, sizeof lr), memset(&lo, 0, sizeof lo);
    int st = mf_fimg_init(&w, j->w, j->h, 1);
    if (!st) st = mf_fimg_init(&yr, j->w, j->h, 1);
    if (!st) st = mf_fimg_init(&yo, j->w, j->h, 1);
    if (st) {
        mf_fimg_free(&w), mf_fimg_free(&yr), mf_fimg_free(&yo);
        return st;
    }
    double sw = 0, sr[3] = {0}, so[3] = {0}, nr = 0, no = 0;
    for (size_t i = 0; i < px; i++) {
        float q = cov->data[i] == 1 ? wr->data[i] * wo->data[i] : 0;
        w.data[i] = q, sw += q;
    }
    /* the colour where a viewer sees the skin: the skin probes' patches (cheeks, forehead, nose bridge), the new face's
     * at the drawn mesh's probes, the photo's at the target's (its skin only) */
    int rad = (int)(TONE_PROBE * j->fs) + 1;
    for (int p = 0; p < NPROBE; p++)
        for (int side = 0; side < 2; side++) {
            const float *q = (side ? j->P : P2) + 3 * skin_probes[p];
            int cx = (int)q[0], cy = (int)q[1];
            for (int y = cy - rad; y <= cy + rad; y++)
                for (int x = cx - rad; x <= cx + rad; x++) {
                    if (x < 0 || y < 0 || x >= j->w || y >= j->h) continue;
                    size_t i = (size_t)y * j->w + x;
                    if (side == 0 && cov->data[i] == 1) {
                        /* as shown: a lit texel over 255 is white in the photo (an overexposed face was darkened) */
                        for (int k = 0; k < 3; k++) sr[k] += fminf(rend->data[3 * i + k], 255);
                        nr++;
                    } else if (side == 1) {
                        for (int k = 0; k < 3; k++) so[k] += j->skin.data[i] * j->O.data[3 * i + k];
                        no += j->skin.data[i];
                    }
                }
        }
    if (sw >= TONE_MIN_PX && nr >= TONE_MIN_PX && no >= TONE_MIN_PX) {
        float c[3];
        for (int k = 0; k < 3; k++) {
            float g = sr[k] > 4 * nr ? (float)((so[k] / no) / (sr[k] / nr)) : 1;
            c[k] = powf(fminf(fmaxf(g, TONE_CHAN_MIN), TONE_CHAN_MAX), t);
        }
        for (size_t i = 0; i < px; i++) {
            const float *r = rend->data + 3 * i, *o = j->O.data + 3 * i;
            yr.data[i] = 0.299f * fminf(c[0] * r[0], 255) + 0.587f * fminf(c[1] * r[1], 255) + 0.114f * fminf(c[2] * r[2], 255);
            yo.data[i] = 0.299f * o[0] + 0.587f * o[1] + 0.114f * o[2];
        }
        float sig = fminf(TONE_SIGMA * j->fs, (float)MF_RENDER_MAX_SIGMA);
        st = mf_render_lowpass_par(&yr, &w, sig, &lr, rp);
        if (!st) st = mf_render_lowpass_par(&yo, &w, sig, &lo, rp);
        double m[2] = {0, 0}, v[2] = {0, 0};
        for (size_t i = 0; !st && i < px; i++)
            if (w.data[i] > 0) m[0] += w.data[i] * lr.data[i], m[1] += w.data[i] * lo.data[i];
        m[0] /= sw, m[1] /= sw;
        for (size_t i = 0; !st && i < px; i++)
            if (w.data[i] > 0)
                v[0] += w.data[i] * (lr.data[i] - m[0]) * (lr.data[i] - m[0]), v[1] += w.data[i] * (lo.data[i] - m[1]) * (lo.data[i] - m[1]);
        float g = v[0] > 1e-6 * sw ? (float)sqrt(v[1] / v[0]) : 1;
        g = powf(fminf(fmaxf(g, TONE_GAIN_MIN), TONE_GAIN_MAX), t);
        float m1 = (float)m[0]; /* about its own mean: the probes set the level */
        for (size_t i = 0; !st && i < px; i++) {
            if (cov->data[i] != 1) continue;
            float l = lr.data[i], f = 1;
            if (l > 4) f = fminf(fmaxf((m1 + g * (l - (float)m[0])) / l, 0.5f), 2);
            for (int k = 0; k < 3; k++) rend->data[3 * i + k] *= c[k] * f;
        }
    }
    mf_fimg_free(&w), mf_fimg_free(&yr), mf_fimg_free(&yo), mf_fimg_free(&lr), mf_fimg_free(&lo);
    return st;
}

/* (looks35) The drawn texture's mid-scale shadows no deeper than the mean face's (tuning.socket_lift, floor q). In
 * texture space, with normalised low-passes over the skin texels (inside the mesh, not the features: brows, lips,
 * nose): the luminance's low-pass at SOCKET_SIGMA texture sizes (M) over its low-pass at SOCKET_BROAD (B) is the
 * texture's mid-scale shading (socket, fold and chin shadows); divided by the same ratio of the model's mean texture
 * it is how much deeper the draw's shadows are than the average face's (s). Where s < q, a fraction
 * a = (q - s) / (1 - s) (at most 1) of the mid-scale shading is taken out: every texel, the features too, adds
 * a x (B - M) per channel, so the shadow takes its surround's colour and the fine pattern (lid lines, lashes, brow
 * hairs, pores) keeps its own contrast; a and B - M are smooth, so no edge is made. Only around the eyes (an
 * ellipse of SOCKET_RX x SOCKET_RY eye widths about each eye's centre, fading over its outer half): the sockets are
 * the defect, and the rest of the drawn relief is what makes the face unlike its owner. The eye openings (the
 * model's eyes) are left as they are: lifted with their socket they read as pale, blind eyes. */
static int socket_lift(const mf_anon_t *a, float *tex, float q, const mf_render_par *rp) {
    const mf_anon_model_t *m = a->m;
    int T = m->T;
    size_t n = (size_t)T * T;
    float *buf = malloc(sizeof(float) * 9 * n);
    if (!buf) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    float *w = buf, *mm = buf + n, *mb = buf + 2 * n, *cm = buf + 3 * n, *cb = buf + 6 * n;
    for (size_t p = 0; p < n; p++) {
        const float *u = m->tex_mean + 3 * p;
        int skin = a->edge_alpha[p] >= 0 && m->valid[p] && !(a->tri_of[p] >= 0 && a->tri_core[a->tri_of[p]]);
        w[p] = skin ? 1 : 0;
        mm[p] = mb[p] = 0.299f * u[0] + 0.587f * u[1] + 0.114f * u[2];
    }
    memcpy(cm, tex, sizeof(float) * 3 * n);
    memcpy(cb, tex, sizeof(float) * 3 * n);
    mf_fimg W = {T, T, 1, w}, MM = {T, T, 1, mm}, MB = {T, T, 1, mb}, CM = {T, T, 3, cm}, CB = {T, T, 3, cb};
    int st = mf_render_blur_par(&CM, &W, SOCKET_SIGMA * T, rp);
    if (!st) st = mf_render_blur_par(&CB, &W, SOCKET_BROAD * T, rp);
    if (!st) st = mf_render_blur_par(&MM, &W, SOCKET_SIGMA * T, rp);
    if (!st) st = mf_render_blur_par(&MB, &W, SOCKET_BROAD * T, rp);
    /* the zone: an ellipse of SOCKET_RX x SOCKET_RY eye widths around each eye's centre (texture space), full in
     * its inner half */
    float ec[2][2] = {{0, 0}, {0, 0}}, ew = 0;
    for (int e = 0; e < 2; e++) {
        const int *loop = e ? mf_anon_loop_leye : mf_anon_loop_reye;
        float x0 = 1e9f, x1 = -1e9f;
        for (int i = 0; i < 16; i++) {
            const float *u = m->uv + 2 * loop[i];
            ec[e][0] += u[0] / 16, ec[e][1] += u[1] / 16, x0 = fminf(x0, u[0]), x1 = fmaxf(x1, u[0]);
        }
        ew += (x1 - x0) / 2;
    }
    for (size_t p = 0; !st && p < n; p++) {
        if (a->edge_alpha[p] < 0) continue;
        float x = (float)(p % T) + 0.5f, y = (float)(p / T) + 0.5f, zw = 0;
        for (int e = 0; e < 2; e++) {
            float dx = (x - ec[e][0]) / (SOCKET_RX * ew), dy = (y - ec[e][1]) / (SOCKET_RY * ew);
            float r = 1 - sqrtf(dx * dx + dy * dy);
            if (r > 0) zw = fmaxf(zw, r < 0.5f ? 2 * r : 1);
        }
        if (!(zw > 0)) continue;
        if (mf_anon_in_loop(m->uv, mf_anon_loop_reye, 16, x, y) || mf_anon_in_loop(m->uv, mf_anon_loop_leye, 16, x, y))
            continue; /* the eye openings keep their own (model eyes) */
        const float *c = cm + 3 * p, *b = cb + 3 * p;
        float ym = 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2], yb = 0.299f * b[0] + 0.587f * b[1] + 0.114f * b[2];
        if (!(yb > 4) || !(ym > 1) || !(mb[p] > 4) || !(mm[p] > 1)) continue;
        float s = (ym / yb) / (mm[p] / mb[p]);
        if (s >= q || !(s < 1)) continue;
        float f = fminf(1, (q - s) / (1 - s));
        for (int k = 0; k < 3; k++) tex[3 * p + k] += zw * f * (b[k] - c[k]);
    }
    free(buf);
    return st;
}

/* Renders one draw into *res (ROI-sized, blended with O). */
/* A loop of mesh vertices at the 2-D positions P (stride 3), scaled by k about its centre, with its pixel box: which
 * pixels lie inside it (rc52's lips, cc53's eyes and lips). */
typedef struct {
    float xy[2 * 20];
    int n, box[4];
} px_loop;

static const int px_loop_order[20] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};

static void px_loop_make(px_loop *L, const float *P, const int *v, int n, float k) {
    float c[2] = {0, 0}, mn[2] = {FLT_MAX, FLT_MAX}, mx[2] = {-FLT_MAX, -FLT_MAX};
    L->n = n;
    for (int q = 0; q < n; q++)
        for (int d = 0; d < 2; d++) c[d] += P[3 * v[q] + d] / n;
    for (int q = 0; q < n; q++)
        for (int d = 0; d < 2; d++) {
            L->xy[2 * q + d] = c[d] + k * (P[3 * v[q] + d] - c[d]);
            mn[d] = fminf(mn[d], L->xy[2 * q + d]), mx[d] = fmaxf(mx[d], L->xy[2 * q + d]);
        }
    L->box[0] = (int)floorf(mn[0]), L->box[1] = (int)ceilf(mx[0]), L->box[2] = (int)floorf(mn[1]), L->box[3] = (int)ceilf(mx[1]);
}

static int px_loop_has(const px_loop *L, int x, int y) {
    return x >= L->box[0] && x <= L->box[1] && y >= L->box[2] && y <= L->box[3] &&
           mf_anon_in_loop(L->xy, px_loop_order, L->n, x + 0.5f, y + 0.5f);
}

/* (cc53) tuning.chroma_clamp: every rendered pixel (coverage 1) but the eye openings and the lips held within t of
 * the photo's skin colour there (lo: the photo's skin low-pass; where it holds no skin, the skin's mean), by rows on
 * the render pool. */
typedef struct {
    const job *j;
    mf_fimg *rend;
    const mf_fimg *cov, *lo;
    const float *mean;
    float t;
    px_loop L[3];
} cc_ctx;

static void chroma_clamp_rows(void *ctx, int y0, int y1) {
    cc_ctx *c = ctx;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < c->j->w; x++) {
            size_t i = (size_t)y * c->j->w + x;
            if (c->cov->data[i] != 1 || px_loop_has(&c->L[0], x, y) || px_loop_has(&c->L[1], x, y) ||
                px_loop_has(&c->L[2], x, y))
                continue;
            const float *l = c->lo->data + 3 * i;
            mf_anon_chroma_clamp(l[0] + l[1] + l[2] < 3 ? c->mean : l, c->rend->data + 3 * i, c->t);
        }
}

static void chroma_clamp(const job *j, const float *P2, mf_fimg *rend, const mf_fimg *cov, const mf_fimg *lo,
                         const float mean[3], float t) {
    cc_ctx c = {.j = j, .rend = rend, .cov = cov, .lo = lo, .mean = mean, .t = t};
    px_loop_make(&c.L[0], P2, mf_anon_loop_reye, 16, CC_EYE_SCALE);
    px_loop_make(&c.L[1], P2, mf_anon_loop_leye, 16, CC_EYE_SCALE);
    px_loop_make(&c.L[2], P2, mf_anon_feature_v + 20, 20, CC_LIP_SCALE);
    par_rows(j->rpool, chroma_clamp_rows, &c, j->h);
}

static int render_draw(mf_anon_t *a, job *j, const float *tex_src, float shape_gain, float shade_sigma, float fine_amp,
                       int keep_eyes, mf_fimg *res) {
    const mf_anon_model_t *m = a->m;
    int T = m->T, st;
    const mf_render_par *rp = JOB_PAR(j);
    const mf_anon_tuning *tu = &a->o.tuning;
    /* (eyes19, diagnostic) tuning.eye_book: the kept openings treated as the model-eye path treats them */
    if (tu->eye_book & 8) keep_eyes = 0;
    float P2[NV * 3];
    /* identity shape: target mesh + the drawn deltas in the target's face frame, faded out at the boundary */
    float D[NV * 3];
    for (int v = 0; v < NV; v++) {
        float *d = D + 3 * v;
        d[0] = d[1] = d[2] = 0;
        for (int c = 0; c < m->ks; c++)
            for (int k = 0; k < 3; k++)
                d[k] += (shape_gain * j->z[c] - (j->zt ? j->replace * a->rweight[v] * j->zt[c] : 0)) *
                        m->shape_basis[(size_t)c * NV * 3 + 3 * v + k];
    }
    if (tu->shape_sym > 0) { /* (sym40) each vertex and its mirror image share their mean delta, x mirrored */
        float tmp[NV * 3];
        mf_anon_sym_deltas(D, a->mirror_v, NV, tmp);
    }
    /* eyes and lips move as rigid groups (their spacing is identity; their opening is the target's expression) */
    for (int g = 0; g < 3; g++) {
        const int *grp = g == 0 ? a->grp_reye : g == 1 ? a->grp_leye : a->grp_mouth;
        int ng = g == 0 ? a->n_reye : g == 1 ? a->n_leye : a->n_mouth;
        float mean[3] = {0, 0, 0};
        for (int i = 0; i < ng; i++)
            for (int k = 0; k < 3; k++) mean[k] += D[3 * grp[i] + k] / ng;
        for (int i = 0; i < ng; i++) memcpy(D + 3 * grp[i], mean, sizeof mean);
    }
    for (int v = 0; v < NV; v++) {
        const float *d = D + 3 * v;
        for (int r = 0; r < 3; r++)
            P2[3 * v + r] = j->P[3 * v + r] + (j->last_rung ? a->vweight_last : a->vweight)[v] * j->s *
                                                  (j->R[3 * r] * d[0] + j->R[3 * r + 1] * d[1] + j->R[3 * r + 2] * d[2]);
    }
    /* the drawn texture with its outer band above the eyes made skin (hairline_band) */
    float *tex_own = malloc(sizeof(float) * 3 * (size_t)T * T);
    if (!tex_own) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    memcpy(tex_own, tex_src, sizeof(float) * 3 * (size_t)T * T);
    if ((st = hairline_band(a, tex_own, rp)) || (st = mf_anon_forehead_seam(a, tex_own, tu->forehead_seam, NULL, rp)) ||
        (st = mouth_crease(a, tex_own, tu->mouth_crease, rp)) ||
        (j->strong && tu->socket_lift > 0 && (st = socket_lift(a, tex_own, tu->socket_lift, rp))) ||
        (j->strong && tu->strong_unlit > 0 && (st = target_unlit(m, tex_own)))) {
        free(tex_own);
        return st;
    }
    mf_fimg texi = {T, T, 3, tex_own};
    mf_fimg rend, depth, cov, cov0, dummy;
    memset(&rend, 0, sizeof rend), memset(&depth, 0, sizeof depth), memset(&cov, 0, sizeof cov);
    memset(&cov0, 0, sizeof cov0), memset(&dummy, 0, sizeof dummy);
    int *skin_tri = malloc(sizeof(int) * 3 * (size_t)m->n_tri), *hole_tri = malloc(sizeof(int) * 3 * (size_t)m->n_tri);
    float *uv_hole = malloc(sizeof(float) * NV * 2);
    if (!skin_tri || !hole_tri || !uv_hole) {
        free(skin_tri), free(hole_tri), free(uv_hole);
        return mf_error_set(MF_ERR_NOMEM, "out of memory");
    }
    int ns = 0, nh = 0, nmouth = 0;
    /* openings drawn from the photo itself: the mouth always (first in hole_tri), the eyes while keep_eyes (after) */
    for (int pass = 0; pass < 2; pass++) {
        for (int t = 0; t < m->n_tri; t++) {
            int from_photo = a->hole_kind[t] == 2 || (a->hole_kind[t] == 1 && keep_eyes);
            if (pass == 0 ? a->hole_kind[t] != 2 : a->hole_kind[t] == 2) continue;
            int *dst = from_photo ? hole_tri + 3 * nh++ : skin_tri + 3 * ns++;
            memcpy(dst, m->tri + 3 * t, sizeof(int) * 3);
        }
        if (pass == 0) nmouth = nh;
    }
    for (int v = 0; v < NV; v++) uv_hole[2 * v] = j->P[3 * v], uv_hole[2 * v + 1] = j->P[3 * v + 1];
    /* (eyes33) the model's eyes: the texture's whole visible eye into the drawn opening (its iris top and upper lid
     * margin lie above the mesh's lid loop in the drawn textures) */
    const float *uv_skin = !keep_eyes && a->uv_eye ? a->uv_eye : m->uv;
    /* the background around the face follows its moved outline (Shepard interpolation of the boundary vertices'
     * displacements, fading out over WARP_FALLOFF face sizes), so a narrower or wider jaw leaves no double contour */
    mf_fimg base;
    memset(&base, 0, sizeof base);
    st = sc_copy(j, SC_BASE, &j->O, &base);
    if (!st && (shape_gain > 0 || (j->zt && j->replace > 0))) {
        /* the field is smooth: computed on a grid of about fs/64 px and interpolated bilinearly */
        float fall = WARP_FALLOFF * j->fs;
        int g = (int)(j->fs / 64);
        if (g < 1) g = 1;
        int gw = j->w / g + 2, gh = j->h / g + 2;
        mf_fimg field;
        if (!(st = mf_fimg_init(&field, gw, gh, 2))) {
            warp_ctx wc = {a, j, P2, &field, &base, g, fall, malloc((size_t)gw * gh), {0}, {0}, {0}, {0}, a->n_bnd, 0};
            if (!wc.cell) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            for (int b = 0; !st && a->o.tuning.warp_loop <= 1 && b < a->n_bnd; b++) {
                const float *q = P2 + 3 * a->bnd_v[b], *o = j->P + 3 * a->bnd_v[b];
                wc.bx[b] = q[0], wc.by[b] = q[1], wc.ex[b] = q[0] - o[0], wc.ey[b] = q[1] - o[1];
            }
            if (!st && a->o.tuning.warp_loop > 1) { /* (loop46) instead, the oval in loop order, densified */
                float lx[OVAL_N], ly[OVAL_N], lu[OVAL_N], lv[OVAL_N];
                for (int b = 0; b < OVAL_N; b++) {
                    const float *q = P2 + 3 * mf_anon_loop_oval[b], *o = j->P + 3 * mf_anon_loop_oval[b];
                    lx[b] = q[0], ly[b] = q[1], lu[b] = q[0] - o[0], lv[b] = q[1] - o[1];
                }
                wc.nb = mf_anon_loop_densify(lx, ly, lu, lv, OVAL_N, a->o.tuning.warp_loop, wc.bx, wc.by, wc.ex, wc.ey);
                for (int b = 0; b < OVAL_N; b++) {
                    int c2 = b + 1 < OVAL_N ? b + 1 : 0;
                    wc.half_seg = fmaxf(wc.half_seg, 0.5f * hypotf(lx[c2] - lx[b], ly[c2] - ly[b]));
                }
            }
            if (!st) par_rows(j->rpool, warp_field_rows, &wc, gh);
            for (int gy = 0; !st && gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++) {
                    int x1 = gx + 1 < gw ? gx + 1 : gx, y1 = gy + 1 < gh ? gy + 1 : gy, nz = 0;
                    const float *fd = field.data;
                    for (int q = 0; q < 4; q++) {
                        size_t i = 2 * ((size_t)(q & 2 ? y1 : gy) * gw + (q & 1 ? x1 : gx));
                        nz |= fd[i] != 0 || fd[i + 1] != 0;
                    }
                    wc.cell[(size_t)gy * gw + gx] = (uint8_t)nz;
                }
            if (!st) par_rows(j->rpool, warp_pixel_rows, &wc, j->h);
            free(wc.cell);
            mf_fimg_free(&field);
        }
    }
    if (!st) st = sc_copy(j, SC_REND, &base, &rend);
    if (!st) st = sc_take(j, SC_DEPTH, &depth, j->w, j->h, 1);
    if (!st) st = sc_take(j, SC_COV, &cov, j->w, j->h, 1);
    if (!st) st = sc_take(j, SC_COV0, &cov0, j->w, j->h, 1);
    if (!st) st = sc_take(j, SC_DUMMY, &dummy, j->w, j->h, 1);
    float one_px[1] = {1};
    mf_fimg one1 = {1, 1, 1, one_px}; /* coverage-only passes sample this */
    if (!st) {
        mf_fimg_fill(&depth, FLT_MAX);
        mf_render_mesh sm = {P2, uv_skin, NV, skin_tri, ns}, hm = {P2, uv_hole, NV, hole_tri, nh};
        st = mf_render_triangles(&rend, &depth, &cov, 1, &texi, &sm);
        if (nh > nmouth && (tu->eye_soften > 0 || tu->eye_grey > 0 || tu->eye_dark > 0 || (tu->eye_book & 1))) {
            /* (eyes18) the eye openings from the photo low-passed and greyed: the iris stays where it was (gaze) and
             * the lids' opening is the photo's, the iris texture, its colour and the lashes inside go; (eyes19)
             * darkened as far as the drawn identity's eyes are darker than the photo's, each against its skin */
            mf_fimg soft;
            memset(&soft, 0, sizeof soft);
            mf_render_mesh mo = {P2, uv_hole, NV, hole_tri, nmouth}, eo = {P2, uv_hole, NV, hole_tri + 3 * nmouth, nh - nmouth};
            if (!st && nmouth) st = mf_render_triangles(&rend, &depth, &cov, 2, &j->O, &mo);
            float dark = 1;
            if (!st && tu->eye_dark > 0)
                st = mf_anon_eye_dark_factor(tex_own, T, m->uv, &j->O, j->P, NV, hole_tri + 3 * nmouth, nh - nmouth,
                                             skin_probes, NPROBE, j->skin_y, tu->eye_dark, EYE_DARK_MIN, &dark);
            if (!st) st = mf_anon_eye_soften(&j->O, j->P, NV, hole_tri + 3 * nmouth, nh - nmouth, tu->eye_soften * j->fs,
                                             tu->eye_grey, dark, &soft);
            /* eye_book 1: the openings' coverage 1, as new skin (lit by the shading ratio, the grain and relief
             * gains, counted in the render's low-pass), not 2 (the photo's own pixels) */
            if (!st) st = mf_render_triangles(&rend, &depth, &cov, (tu->eye_book & 1) ? 1 : 2, &soft, &eo);
            mf_fimg_free(&soft);
        } else if (!st)
            st = mf_render_triangles(&rend, &depth, &cov, 2, &j->O, &hm);
        /* where the original face's skin was (for its shading) */
        if (!st) {
            mf_fimg_fill(&depth, FLT_MAX);
            mf_render_mesh om = {j->P, m->uv, NV, skin_tri, ns};
            st = mf_render_triangles(&dummy, &depth, &cov0, 1, &one1, &om);
            /* eye_book 2: the kept openings in the original's skin coverage too, as with model eyes */
            mf_render_mesh oe = {j->P, m->uv, NV, hole_tri + 3 * nmouth, nh - nmouth};
            if (!st && (tu->eye_book & 2) && nh > nmouth) st = mf_render_triangles(&dummy, &depth, &cov0, 1, &one1, &oe);
        }
    }
    /* forced-replacement triangles (brows, eyes, lips, nose): their pixels skip the occluder test */
    mf_fimg force, core;
    memset(&force, 0, sizeof force), memset(&core, 0, sizeof core);
    if (!st) st = sc_take(j, SC_FORCE, &force, j->w, j->h, 1);
    if (!st) st = sc_take(j, SC_CORE, &core, j->w, j->h, 1);
    if (!st) {
        int *ft = malloc(sizeof(int) * 3 * (size_t)m->n_tri);
        if (!ft) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        /* over the new and the original position of those features (the original's brows must go too) */
        if (!st) st = cover_flagged(a, a->tri_force, P2, j->P, ft, &depth, &dummy, &force);
        /* the features themselves (old and new positions): the photo's finest band is kept off them (it carries
         * brow hairs, lid and lip lines) and the grain is measured without them; the forced triangles with a single
         * feature vertex reach far into plain skin (the middle of the forehead), which then lost all its grain */
        if (!st) st = cover_flagged(a, a->tri_core, P2, j->P, ft, &depth, &dummy, &core);
        /* the eye zone (old and new positions): its pixels that fail the skin test and are not brighter than the
         * face's skin (eye make-up, shadow) are replaced; bright ones (a washed-out or overexposed face) keep the
         * skin test, or the zone's outline shows as ghost glasses */
        mf_fimg ez;
        memset(&ez, 0, sizeof ez);
        if (!st && !j->eyes_occluded && !j->glasses) {
            st = sc_take(j, SC_WO, &ez, j->w, j->h, 1);
            if (!st) st = cover_flagged(a, a->tri_eyezone, P2, j->P, ft, &depth, &dummy, &ez);
            for (size_t i = 0; !st && i < (size_t)j->w * j->h; i++) {
                if (!(ez.data[i] > 0)) continue;
                const float *o = j->O.data + 3 * i;
                float Y = 0.299f * o[0] + 0.587f * o[1] + 0.114f * o[2];
                float dk = fminf(1, fmaxf(0, (1.15f * j->skin_y - Y) / (0.15f * j->skin_y + 1)));
                force.data[i] = fmaxf(force.data[i], (1 - j->skin.data[i]) * dk);
                core.data[i] = fmaxf(core.data[i], (1 - j->skin.data[i]) * dk);
            }
            sc_give(j, SC_WO, &ez);
        } else if (!st && j->eyes_occluded) {
            /* sunglasses: nothing is forced over the lenses (j->lens_keep, made once per face in mf_anon_face) */
            for (size_t i = 0; i < (size_t)j->w * j->h; i++) force.data[i] *= 1 - fminf(1, j->lens_keep.data[i]);
        }
        free(ft);
    }
    /* soften the forced region's triangle edges (a hard edge shows as triangular patches where the occluder test
     * keeps a few original pixels next to it) */
    if (!st) {
        mf_fimg soft;
        st = mf_render_lowpass_par(&force, NULL, fmaxf(1, 0.015f * j->fs), &soft, rp);
        if (!st) {
            memcpy(force.data, soft.data, sizeof(float) * (size_t)j->w * j->h);
            mf_fimg_free(&soft);
            st = mf_render_lowpass_par(&core, NULL, fmaxf(1, 0.015f * j->fs), &soft, rp);
        }
        if (!st) {
            memcpy(core.data, soft.data, sizeof(float) * (size_t)j->w * j->h);
            mf_fimg_free(&soft);
        }
    }
    /* the texture-space ramp, drawn through the new mesh */
    /* width: EDGE_RAMP_TEX of the texture, widened for a turned head (its far side is foreshortened: the fade must
     * cover more of the surface there) */
    float *ralpha = malloc(sizeof(float) * (size_t)T * T);
    if (!ralpha && !st) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (ralpha) {
        float wt = T * (EDGE_RAMP_TEX + EDGE_RAMP_TURN * fminf(1, fabsf(j->yaw) / 30));
        for (int p = 0; p < T * T; p++) {
            /* narrow inside the face (less of the original mixed in), wide at the hairline: the model's forehead
             * ends where most training faces' hair began, and a narrow fade there shows its upper edge as a line */
            float top = a->brow_v > 0 ? fmaxf(0, (a->brow_v - (float)(p / T) - 0.5f) / a->brow_v) : 0;
            /* and at the top it starts HAIRLINE_BAND inside the mesh: the model's outer forehead is its training
             * faces' cleaned hairlines (a smooth pale band with a ragged lower edge in drawn textures: the upper rim
             * of the "ghost glasses"); the photo's own forehead stays there */
            float d = a->edge_alpha[p] - HAIRLINE_BAND * T * top;
            float u = a->edge_alpha[p] < 0 || d < 0 ? 0 : fminf(1, d / (wt * (1 + (EDGE_RAMP_TOP - 1) * top)));
            ralpha[p] = u * u * (3 - 2 * u);
        }
    }
    mf_fimg ramp, ramp_tex = {T, T, 1, ralpha};
    memset(&ramp, 0, sizeof ramp);
    if (!st) st = sc_take(j, SC_RAMP, &ramp, j->w, j->h, 1);
    if (!st) {
        mf_fimg_fill(&depth, FLT_MAX);
        mf_render_mesh am = {P2, m->uv, NV, skin_tri, ns};
        st = mf_render_triangles(&ramp, &depth, NULL, 0, &ramp_tex, &am);
        /* hole triangles (the target's own eyes and mouth) are fully inside */
        mf_fimg one = {1, 1, 1, (float[]){1}};
        mf_render_mesh hm2 = {P2, uv_hole, NV, hole_tri, nh};
        if (!st && nh) st = mf_render_triangles(&ramp, &depth, NULL, 0, &one, &hm2);
    }
    /* the drawn skin's folds and creases no rougher than the photo's skin */
    if (!st) st = relief_match(j, &rend, &cov, &cov0, &core, &force, &ramp);
    size_t px = (size_t)j->w * j->h;
    mf_fimg wr, wo, lr, lo, hf, ls;
    memset(&wr, 0, sizeof wr), memset(&wo, 0, sizeof wo), memset(&lr, 0, sizeof lr), memset(&lo, 0, sizeof lo);
    memset(&ls, 0, sizeof ls);
    memset(&hf, 0, sizeof hf);
    if (!st) st = sc_take(j, SC_WR, &wr, j->w, j->h, 1);
    if (!st) st = sc_take(j, SC_WO, &wo, j->w, j->h, 1);
    if (!st) {
        /* shading from plain skin only, on both sides: features (brows, eyes, lips, nostrils) and occluders out */
        for (size_t i = 0; i < px; i++) {
            wr.data[i] = (cov.data[i] == 1) * (core.data[i] < 0.05f) * ramp.data[i];
            wo.data[i] = cov0.data[i] * j->skin.data[i] * (core.data[i] < 0.05f);
        }
        float sig = fminf(shade_sigma * j->fs, (float)MF_RENDER_MAX_SIGMA); /* 1,000-px faces */
        st = mf_render_lowpass_par(&rend, &wr, sig, &lr, rp);
        if (!st) st = mf_render_lowpass_par(&j->O, &wo, sig, &lo, rp);
        /* (reid18) the photo's light moves with the face: read where each new surface point was in the photo */
        if (!st && a->o.tuning.shade_move > 0) st = mf_anon_shade_follow(j->P, P2, NV, m->tri, m->n_tri, a->o.tuning.shade_move, &depth, &lo);
        /* (sh31) the light model over the normals: fitted on the photo's skin at the target's normals, shown on the
         * drawn mesh's; no fit (too little skin): main's */
        int fitted = 0;
        if (!st && tu->sh_light > 0) st = mf_anon_sh_light(&j->O, &wo, &wr, j->P, P2, NV, m->tri, m->n_tri, sig, rp, &ls, NULL, &fitted);
        if (!st && fitted)
            for (size_t i = 0; i < 3 * px; i++)
                ls.data[i] = tu->sh_light >= 1 ? ls.data[i] : powf(fmaxf(ls.data[i], 1e-3f), tu->sh_light) * powf(fmaxf(lo.data[i], 1e-3f), 1 - tu->sh_light);
        /* (sh50) the model's luminance in the photo's own colour there */
        if (!st && fitted && tu->sh_chroma > 0) mf_anon_sh_chroma(&ls, &lo);
    }
    /* the photo's finest band: O - blur(O, 1 px) */
    if (!st) {
        /* the face's overall colour ratio (photo skin / rendered skin, per channel, 0.2..3: dark skin under the
         * lighter model texture needs < 0.4), then the local ratio within 0.6..1.6 of it: an unreliable local
         * low-pass (few skin samples at the mesh's edge, the far side of a turned head) cannot paint blotches */
        double gs[2][3] = {{0}}, gw[2] = {0};
        for (size_t i = 0; i < px; i++) {
            gw[0] += wo.data[i], gw[1] += wr.data[i];
            for (int k = 0; k < 3; k++) gs[0][k] += wo.data[i] * j->O.data[3 * i + k], gs[1][k] += wr.data[i] * rend.data[3 * i + k];
        }
        float gr[3];
        for (int k = 0; k < 3; k++) {
            double num = gw[0] > 0 ? gs[0][k] / gw[0] : 1, den = gw[1] > 0 ? gs[1][k] / gw[1] : 1;
            gr[k] = den > 4 ? (float)(num / den) : 1;
            gr[k] = gr[k] < 0.2f ? 0.2f : gr[k] > 3 ? 3 : gr[k];
        }
        const float cap = tu->shade_cap;
        /* (rc52) the power on the colour of what is darker than the low-pass: the photo skin's saturation over the
         * drawn skin's ((max - min) / max of the mean skin colours), at most 1 */
        float rc_g = 1;
        if (tu->rel_chroma > 0 && gw[0] > 0 && gw[1] > 0) {
            float ms[2][3];
            for (int q = 0; q < 2; q++)
                for (int k = 0; k < 3; k++) ms[q][k] = (float)(gs[q][k] / gw[q]);
            rc_g = mf_anon_rel_chroma_power(ms[0], ms[1]);
        }
        /* (rc52) not the lips: their colour against the skin is the face's own (lip colour, lipstick), and toned down
         * women's draws read male (3 of 300 FFHQ faces). The outer lip loop at the new positions, 1.2x about its
         * centre: its pixel box */
        px_loop lip;
        if (rc_g < 1) px_loop_make(&lip, P2, mf_anon_feature_v + 20, 20, 1.2f);
        for (size_t i = 0; i < px; i++) {
            if (cov.data[i] != 1) continue;
            const float *l = lr.data + 3 * i;
            float ratio[3];
            for (int k = 0; k < 3; k++) {
                float num = ls.data ? ls.data[3 * i + k] : lo.data[3 * i + k], den = l[k];
                ratio[k] = den > 4 ? num / den : gr[k];
                ratio[k] = ratio[k] < 0.6f * gr[k] ? 0.6f * gr[k] : ratio[k] > 1.6f * gr[k] ? 1.6f * gr[k] : ratio[k];
            }
            /* (light22) the texture's excess over its low-pass (a channel lighter than it: lit forehead, lids, nose
             * ridge, a pale patch of the drawn texture) takes one gain in every channel, the grey ratio (the lit
             * low-pass's luminance over the render's) and at most `cap`; the low-pass and what is darker than it
             * (features, creases) take their channel's ratio, the photo's light and skin colour. Per channel, a ratio
             * of 2.4 in blue turned a brown draw's light texels white-blue, one of 0.78 in red a red draw's cyan */
            float yr = 0.299f * l[0] + 0.587f * l[1] + 0.114f * l[2];
            float gy = yr > 4 ? (0.299f * ratio[0] * l[0] + 0.587f * ratio[1] * l[1] + 0.114f * ratio[2] * l[2]) / yr
                              : 0.299f * ratio[0] + 0.587f * ratio[1] + 0.114f * ratio[2];
            float gup = gy < cap ? gy : cap;
            float lit[3];
            for (int k = 0; k < 3; k++) {
                float v = rend.data[3 * i + k], d = v - l[k];
                lit[k] = cap > 0 && d > 0 ? l[k] * ratio[k] + gup * d : v * ratio[k];
            }
            if (rc_g < 1) { /* (rc52) darker than the lit low-pass: its colour relative to it toned down */
                if (!px_loop_has(&lip, (int)(i % (size_t)j->w), (int)(i / (size_t)j->w))) {
                    const float L[3] = {l[0] * ratio[0], l[1] * ratio[1], l[2] * ratio[2]};
                    mf_anon_rel_chroma(L, lit, rc_g);
                }
            }
            for (int k = 0; k < 3; k++) {
                float fine = j->fine.data[3 * i + k];
                rend.data[3 * i + k] = lit[k] + fine_amp * fine * j->skin.data[i] * (1 - fminf(1, 2 * core.data[i]));
            }
        }
        if (!st && j->strong && tu->tone_match > 0) st = tone_match(j, P2, &rend, &cov, &wr, &wo, tu->tone_match, rp);
        if (a->o.tuning.chroma_match >= 0) chroma_match(j, &rend, &cov, &cov0, &lo, gs[0], gw[0], a->o.tuning.chroma_match != 1);
        if (tu->chroma_clamp > 0) {
            float mean[3];
            for (int k = 0; k < 3; k++) mean[k] = gw[0] > 0 ? (float)(gs[0][k] / gw[0]) : 128;
            chroma_clamp(j, P2, &rend, &cov, &lo, mean, tu->chroma_clamp);
        }
        /* blend mask: inside the new mesh, feathered at its boundary, minus occluders */
        for (size_t i = 0; i < px; i++) wr.data[i] = cov.data[i] > 0;
        mf_fimg_free(&lo);
        if (!st) st = mf_render_lowpass_par(&wr, NULL, fmaxf(1, EDGE_FEATHER * j->fs * 0.6f), &lo, rp);
        if (!st) memcpy(wr.data, lo.data, sizeof(float) * px);
    }
    if (!st) {
        for (size_t i = 0; i < px; i++) {
            float e = (wr.data[i] - 0.5f) / 0.45f;
            e = e < 0 ? 0 : e > 1 ? 1 : e;
            float fo = fminf(1, 2 * force.data[i]);
            float sk = fo + (1 - fo) * j->skin.data[i];
            wr.data[i] = (cov.data[i] > 0) * e * sk * ramp.data[i];
        }
        /* grain matching: the new skin's finest band (same filter as the photo's) is scaled so its spread over
         * plain skin equals the photo's (an upsampled 192-px texture is too smooth on a sharp photo, the model's
         * folds too rough on a retouched one), and raised where the blend mixes it with the photo's */
        st = grain_match(j, &rend, &cov, &cov0, &core, &wr);
        /* no difference to blend where the photo stays in front (occluders: hair, hands, glasses, lenses) or where
         * the drawn texture is not used (outside the ramp): the multiband blend spreads each band's difference
         * over its own scale, so a lens, a finger or a strand of hair kept by the mask still took the coarse bands
         * of the new skin rendered under it (sunglasses half-transparent, a pale patch next to a finger, the
         * drawn hairline's dark band leaking into the forehead) */
        for (size_t i = 0; !st && i < px; i++) {
            if (!(cov.data[i] > 0)) continue;
            float fo = fminf(1, 2 * force.data[i]), sk = fo + (1 - fo) * j->skin.data[i];
            float keep = fminf(1, 2 * sk) * fminf(1, 3 * ramp.data[i]);
            if (keep >= 1) continue;
            for (int k = 0; k < 3; k++)
                rend.data[3 * i + k] = base.data[3 * i + k] + keep * (rend.data[3 * i + k] - base.data[3 * i + k]);
        }
        if (!st) st = mf_fimg_copy(&base, res);
        if (!st) st = mf_render_blend_multiband_par(res, &rend, &wr, 0, rp);
    }
    sc_give(j, SC_REND, &rend), sc_give(j, SC_DEPTH, &depth), sc_give(j, SC_COV, &cov), sc_give(j, SC_COV0, &cov0);
    sc_give(j, SC_DUMMY, &dummy), sc_give(j, SC_BASE, &base), sc_give(j, SC_FORCE, &force), sc_give(j, SC_RAMP, &ramp), sc_give(j, SC_CORE, &core);
    sc_give(j, SC_WR, &wr), sc_give(j, SC_WO, &wo);
    mf_fimg_free(&lr), mf_fimg_free(&lo), mf_fimg_free(&hf), mf_fimg_free(&ls);
    free(skin_tri), free(hole_tri), free(uv_hole), free(ralpha), free(tex_own);
    return st;
}

/* (speed16) Embeddings of one batch on two threads: the jobs are handed out in their order, one at a time, to the
 * calling thread (sessions rec) and one more thread (sessions rec2) when the anonymizer has them (a->par), else run
 * in order on the calling thread. With `early`, no job is handed out after one whose similarity to its reference
 * reached its recognizer's dissimilarity threshold; every job handed out is finished, so the jobs done are always
 * a prefix of the list (*done of them) that holds the first such job: applied in order up to the first rejection,
 * the caller sees exactly what the jobs one after the other would have given. */

typedef struct {
    mf_anon_t *a;
    emb_job *jobs;
    int n, early;
    atomic_int next, stop;
} emb_batch;

static void emb_work(emb_batch *b, int t) {
    for (;;) {
        if (b->early && atomic_load(&b->stop)) break;
        int k = atomic_fetch_add(&b->next, 1);
        if (k >= b->n) break;
        emb_job *jb = &b->jobs[k];
        mf_face_recognizer_t *rs = t ? b->a->rec2[jb->rec] : b->a->rec[jb->rec];
        jb->st = mf_face_recognizer_embed(rs, jb->img, (const float(*)[2])jb->p, jb->out);
        if (jb->st) {
            snprintf(jb->msg, sizeof jb->msg, "%s", mf_error_get());
            atomic_store(&b->stop, 1);
            continue;
        }
        const mf_face_recognizer_info *inf = b->a->info[jb->rec];
        jb->sim = jb->ref ? mf_face_similarity(jb->out, jb->ref, inf->dim) : -2;
        if (jb->ref && inf->ensemble && jb->sim >= inf->dissimilarity_threshold) atomic_store(&b->stop, 1);
    }
}

static void emb_pool_fn(void *ctx, int ith, int nth) {
    (void)nth;
    if (ith < 2) emb_work(ctx, ith); /* two sessions per recognizer: a larger pool's other threads idle */
}

/* Runs jobs[0..n) (see emb_job); *done: how many ran (all of them without early). Returns the first failed job's
 * status (its message set on this thread), else MF_OK. */
static int emb_run(mf_anon_t *a, emb_job *jobs, int n, int early, int *done) {
    emb_batch b = {.a = a, .jobs = jobs, .n = n, .early = early};
    atomic_init(&b.next, 0), atomic_init(&b.stop, 0);
    if (a->par && n > 1) /* on the pool's threads: the caller and one worker (sessions rec and rec2) */
        mf_nn_pool_run(a->o.pool, emb_pool_fn, &b);
    else
        emb_work(&b, 0);
    int m = atomic_load(&b.next);
    *done = m < n ? m : n;
    a->n_emb += *done;
    for (int k = 0; k < *done; k++)
        if (jobs[k].st) return mf_error_set(jobs[k].st, "%s", jobs[k].msg);
    return MF_OK;
}

/* (speed19) Age and gender of a face record f found by mf_face_analyze_geometry in img, read with the anonymizer's
 * own attribute session (a->attr_np, no pool): exactly what mf_face_analyze_attributes gives it with an analyser of
 * the default attribute models (analyze.c, face_attributes: the record reset as an analysis starts it, read only for a
 * confirmed face whose box centre lies in the image, at the mesh's box, else the detection's). */
static int attributes_np(const mf_anon_t *a, const mf_img *img, mf_face *f, int one) {
    memset(&f->attr, 0, sizeof f->attr);
    f->attr.age = -1, f->attr.p_male = 0.5f;
    const mf_face_box *box = f->has_landmarks ? &f->lm.box : &f->det;
    float cx = box->x + 0.5f * box->w, cy = box->y + 0.5f * box->h;
    if (!f->confirmed || !(cx >= 0 && cy >= 0 && cx < (float)img->w && cy < (float)img->h)) return MF_OK;
    return one ? mf_face_attrib_estimate_one(a->attr_np, img, box, &f->attr)
               : mf_face_attrib_estimate(a->attr_np, img, box, &f->attr);
}

/* (speed19) emb_run (early stop with `early`, *done as there) with attributes_np(roi, f, one) beside it: the calling
 * thread reads the attributes first, then joins the batch, which the pool's other thread has started. Needs a->par
 * and a->attr_np. Returns the first failed job's status, else the attributes' (message set on this thread), else
 * MF_OK. */
typedef struct {
    emb_batch b;
    const mf_img *roi;
    mf_face *f;
    int one, ast;
    char amsg[256];
} side_ctx;

static void side_fn(void *ctx, int ith, int nth) {
    (void)nth;
    side_ctx *c = ctx;
    if (ith == 0) {
        c->ast = attributes_np(c->b.a, c->roi, c->f, c->one);
        if (c->ast) snprintf(c->amsg, sizeof c->amsg, "%s", mf_error_get());
    }
    if (ith < 2) emb_work(&c->b, ith);
}

static int emb_run_attributes(mf_anon_t *a, emb_job *jobs, int n, int early, int *done, const mf_img *roi,
                              mf_face *f, int one) {
    side_ctx c = {.b = {.a = a, .jobs = jobs, .n = n, .early = early}, .roi = roi, .f = f, .one = one};
    atomic_init(&c.b.next, 0), atomic_init(&c.b.stop, 0);
    mf_nn_pool_run(a->o.pool, side_fn, &c);
    int m = atomic_load(&c.b.next);
    *done = m < n ? m : n;
    a->n_emb += *done;
    for (int k = 0; k < *done; k++)
        if (jobs[k].st) return mf_error_set(jobs[k].st, "%s", jobs[k].msg);
    return c.ast ? mf_error_set(c.ast, "%s", c.amsg) : MF_OK;
}

/* One embedding e of the result with recognizer i, scored against the original's embedding eo: the similarity;
 * with a gallery for i, also the closest enrolled identity (the worst over the calls counts: a replacement must not
 * match a gallery member at any of the alignments it is checked at). */
static int score_embedding(mf_anon_t *a, int i, const float *e, const float *eo, const mf_anon_galleries *gal,
                           mf_anon_result *r, int *gal_match, float *sim) {
    int st;
    *sim = mf_face_similarity(e, eo, a->info[i]->dim);
    if (gal && gal->per_rec && gal->per_rec[i] && mf_gallery_identity_count(gal->per_rec[i]) > 0) {
        mf_gallery_result gr;
        if ((st = mf_gallery_match(gal->per_rec[i], e, mf_anon_gallery_threshold(a, i), &gr))) return st;
        r->gallery_sim[i] = fmaxf(r->gallery_sim[i], gr.similarity);
        *gal_match |= gr.matched;
    }
    return MF_OK;
}

/* score_embedding of the result embedded with recognizer i at points p. */
static int embed_score(mf_anon_t *a, int i, const mf_img *img, const float p[5][2], const float *eo,
                       const mf_anon_galleries *gal, mf_anon_result *r, int *gal_match, float *sim) {
    float e[1024];
    a->n_emb++;
    int st = mf_face_recognizer_embed(a->rec[i], img, p, e);
    return st ? st : score_embedding(a, i, e, eo, gal, r, gal_match, sim);
}

/* What a draw rejected for its identity before any analysis (step (1) of check) still measures, only as the next
 * draw's feedback (the draw loop moves the drawn age and gender by it), after the decision, which it cannot change:
 *  0: nothing (checks ~0.45x per draw, but on 60 FFHQ faces 4 more fallbacks and gender kept 98.2 -> 92.5 %);
 *  1: detection, mesh and both attribute networks on the check region (main before speed12);
 *  2: the attribute networks only, at the original's mesh box (check_feedback_at_original): the draw keeps the
 *     pose and place of the face it replaces, so no detector and no mesh are needed to find it;
 *  3 (default): as 2 with one attribute network (mf_face_analyze_attributes_one: the age network's own gender):
 *     ~0.85x main's CPU per face, the same 60 FFHQ and 22 demo figures as 2.
 * docs/anonymization.md, "Speed of the checks (branch speed10b)" and "Speed (branch speed12)". */
#ifndef CHECK_FEEDBACK
#define CHECK_FEEDBACK 3
#endif

/* The analyzer the checks run on the face: the faster check analyzer where the face is upright and large enough
 * for it, else the photo's. */
static mf_face_analyzer_t *check_analyzer(const mf_anon_t *a, const mf_face *orig) {
    float ofs = fmaxf(orig->det.w, orig->det.h);
    return a->o.check_an && orig->has_landmarks && fabsf(orig->lm.roll) <= 25 && ofs >= 32 ? a->o.check_an : a->o.an;
}

/* CHECK_FEEDBACK 2 and 3: the age and gender of a draw rejected for its identity, read on the check region at the
 * original's mesh box (no detection, no mesh). detected_after is set when they were read: the draw loop takes the
 * feedback only from a face it was told was found; here the face is where it was drawn. A rejected draw's
 * after-fields are never published (an accepted draw, the kept closest draw and the fallback filter all have their
 * own full check). Leaves them unset for a face without a mesh (then no draw is made). */
static int check_feedback_at_original(mf_anon_t *a, mf_img *img, const job *j, const mf_face *orig,
                                      mf_anon_result *r) {
    if (!orig->has_landmarks) return MF_OK;
    mf_img roi;
    int st = mf_img_crop(img, j->cx0, j->cy0, j->cw, j->ch, &roi);
    if (st) return st;
    mf_face f = *orig;
    f.confirmed = 1;
    mf_face_translate(&f, -(float)j->cx0, -(float)j->cy0);
    st = CHECK_FEEDBACK == 3 ? mf_face_analyze_attributes_one(check_analyzer(a, orig), &roi, &f)
                             : mf_face_analyze_attributes(check_analyzer(a, orig), &roi, &f);
    mf_img_free(&roi);
    if (st) return st;
    if (f.attr.age >= 0 || f.attr.gender != MF_GENDER_UNKNOWN) {
        r->detected_after = 1;
        r->age_after = f.attr.age, r->gender_after = f.attr.gender;
    }
    return MF_OK;
}

/* (cut14) A face cut by the border: its box (the mesh's or the detector's) leaves the w x h picture by more than
 * CUT_OUT pixels. Returns 0 when not; else 1, and *out = the largest fraction of the detector's box side (the
 * mesh's without a detection) outside the picture. */
static int face_cut(const mf_face *f, int w, int h, float *out) {
    int cut = 0;
    *out = 0;
    for (int q = 0; q < 2; q++) {
        const mf_face_box *b = q ? &f->det : &f->lm.box;
        if (q == 0 && !f->has_landmarks) continue;
        if (!(b->w > 0) || !(b->h > 0)) continue;
        if (b->x < -CUT_OUT || b->y < -CUT_OUT || b->x + b->w > w + CUT_OUT || b->y + b->h > h + CUT_OUT) cut = 1;
        *out = fmaxf(fmaxf(-b->x / b->w, -b->y / b->h), fmaxf((b->x + b->w - (float)w) / b->w, (b->y + b->h - (float)h) / b->h));
    }
    return cut;
}

/* (cut14) The alignment points of the face the check analyser (the plain one: what an attacker runs) finds nearest
 * the centre of square sq, within ATTACK_NEAR of its side: 1 and p set, 0 none found, or a negative status. */
static int attack_face(const mf_anon_t *a, const mf_img *sq, float p[5][2]) {
    mf_face faces[MAX_CHECK_FACES];
    int n = 0, best = -1;
    float bd = ATTACK_NEAR * (float)sq->w;
    mf_face_analyzer_t *an = a->o.check_an ? a->o.check_an : a->o.an;
    int st = mf_face_analyze_geometry(an, sq, faces, MAX_CHECK_FACES, &n);
    if (st == MF_ERR_LIMIT) return 0; /* a crowd in the square: the centre face is checked by the other steps */
    if (st) return st;
    for (int i = 0; i < n; i++) {
        float d = hypotf(faces[i].det.x + faces[i].det.w / 2 - (float)sq->w / 2, faces[i].det.y + faces[i].det.h / 2 - (float)sq->h / 2);
        if (d < bd) bd = d, best = i;
    }
    if (best >= 0) mf_face_5pt(&faces[best], p);
    return best >= 0;
}

/* (cut14) The attacker's check of a draw of a face cut by the border (issue 11's check, eval_privacy_anon): the
 * square of ATTACK_CONTEXT face box sides around the box, padded grey beyond the border, turned upright, ATTACK_SQ
 * pixels (and one of ATTACK_WIDE sides around the detector's box), is cut from the original (j->asq, analysed on the first call) and from the result in img; the plain
 * analyser looks for a face at the centre of each. Every ensemble recognizer embeds both squares at the result's
 * alignment (when a face is found in it), at the original's (when one is found in the original's square: the
 * place an attacker who knows the photo looks at) and where the check analyser found the result in the picture
 * (p5n, image pixels: step (2) of check); the worst similarity counts and is merged into r->sim. The same
 * for each box of the face (the detector's, and the mesh's when it differs: the analyser finds a half face in one
 * square and not in the other). Returns 1 when each similarity is below the recognizer's dissimilarity threshold
 * and no gallery identity matches, 0 otherwise (the reason in why), or a negative status. The original's alignment
 * and the jittered ones of step (1) do not cover this: the plain analyser places its points on a half face
 * elsewhere, and the recognizer's crop of the picture does not see the border as the padded square shows it
 * (docs/anonymization.md, "Branch cut14"). */
static int attack_check(mf_anon_t *a, const mf_img *img, job *j, const float p5n[5][2], const mf_anon_galleries *gal,
                        mf_anon_result *r, int *gal_hit, char *why, size_t why_len) {
    int st = MF_OK, done = 0;
    /* (speed22) with two threads and not mf_anon_debug_reference, each square's embeddings run as one batch on both
     * threads (emb_run; no reference in the jobs: scored below in the one-after-the-other order, so the same bits) */
    int batch = a->par && !a->reference && 5 * a->n_rec <= EMB_JOBS;
    if (!j->asq_state) { /* the original's squares: analysed once per face, on the first draw that gets here */
        int nj = 0;
        for (int q = 0; q < j->n_asq; q++) {
            if ((st = attack_face(a, &j->asq[q], j->asq_p[q])) < 0) return st;
            j->asq_found[q] = st;
            st = MF_OK;
            for (int i = 0; j->asq_found[q] && i < a->n_rec; i++) {
                if (!a->info[i]->ensemble) continue;
                if (batch && nj < EMB_JOBS) {
                    emb_job *jb = &j->ej[nj++];
                    jb->rec = i, jb->img = &j->asq[q], jb->ref = NULL, jb->out = j->easq[q][i];
                    memcpy(jb->p, j->asq_p[q], sizeof jb->p);
                } else if (a->n_emb++, (st = mf_face_recognizer_embed(a->rec[i], &j->asq[q], (const float(*)[2])j->asq_p[q], j->easq[q][i])))
                    return st;
            }
        }
        if (nj && (st = emb_run(a, j->ej, nj, 0, &done))) return st;
        j->asq_state = 1;
    }
    int ok = 1;
    for (int q = 0; q < j->n_asq && ok && !st; q++) {
        mf_img sq;
        if ((st = mf_anon_attack_square(img, j->box[q], j->roll, j->ctx[q], ATTACK_SQ, &sq))) return st;
        float pa[5][2], pn[5][2], eo[1024];
        int found = attack_face(a, &sq, pa);
        if (found < 0) {
            mf_img_free(&sq);
            return found;
        }
        /* and where the check analyser found the result in the picture (step (2)): a face the plain analyser misses
         * in one square is found in a slightly other one (cutt75/0014: not found in ours, 0.343 in the eval's) */
        mf_anon_attack_points(j->box[q], j->roll, j->ctx[q], ATTACK_SQ, p5n, 5, pn);
        /* (speed22) the jobs of the loop below, in its order: per ensemble recognizer the result's square at the
         * original's points, then per alignment the original's square and the result's (ak: first job of each) */
        int ak[MF_ANON_MAX_RECOGNIZERS], nj = 0;
        for (int i = 0; i < a->n_rec; i++) {
            ak[i] = -1;
            if (!batch || !a->info[i]->ensemble) continue;
            ak[i] = nj;
            for (int w = -1; w < 2; w++)
                for (int o = w < 0 ? 1 : 0; o < 2 && (w >= 0 || j->asq_found[q]) && (w != 0 || found); o++) {
                    /* w -1: the original's points (when found in its square), 0: the result's (when found), 1: the
                     * check's (p5n); o 0: the original's square, 1: the result's */
                    emb_job *jb = &j->ej[nj];
                    jb->rec = i, jb->img = o ? &sq : &j->asq[q], jb->ref = NULL, jb->out = j->eb[nj++];
                    memcpy(jb->p, w < 0 ? j->asq_p[q] : w ? pn : pa, sizeof jb->p);
                }
        }
        if (nj && (st = emb_run(a, j->ej, nj, 0, &done))) {
            mf_img_free(&sq);
            return st;
        }
        for (int i = 0; i < a->n_rec && ok; i++) {
            if (!a->info[i]->ensemble) continue;
            float s = -2, s1;
            int k = ak[i];
            if (j->asq_found[q]) {
                if ((st = k >= 0 ? score_embedding(a, i, j->eb[k++], j->easq[q][i], gal, r, &gal_hit[i], &s1)
                                 : embed_score(a, i, &sq, (const float(*)[2])j->asq_p[q], j->easq[q][i], gal, r, &gal_hit[i], &s1)))
                    break;
                s = fmaxf(s, s1);
            }
            for (int w = found ? 0 : 1; w < 2; w++) {
                const float(*pw)[2] = (const float(*)[2])(w ? pn : pa);
                if (k >= 0)
                    st = score_embedding(a, i, j->eb[k + 1], j->eb[k], gal, r, &gal_hit[i], &s1), k += 2;
                else if (a->n_emb++, !(st = mf_face_recognizer_embed(a->rec[i], &j->asq[q], pw, eo)))
                    st = embed_score(a, i, &sq, pw, eo, gal, r, &gal_hit[i], &s1);
                if (st) break;
                s = fmaxf(s, s1);
            }
            if (st) break;
            r->sim[i] = fmaxf(r->sim[i], s);
            if (s >= a->info[i]->dissimilarity_threshold)
                snprintf(why, why_len, "%s similarity %.3f >= %.3f in the attacker's square",
                         a->info[i]->name, s, a->info[i]->dissimilarity_threshold);
            else if (gal_hit[i])
                snprintf(why, why_len, "%s matches gallery identity in the attacker's square",
                         a->info[i]->name);
            else
                continue;
            ok = 0;
        }
        mf_img_free(&sq);
    }
    return st ? st : ok;
}

/* (turn20) the checked draw r was re-detected turned or tilted more than tuning.pose_tolerance from the original's
 * pose (check's pose test; 0 when the test is off or the draw was not found again) */
static int pose_moved(const mf_anon_t *a, const mf_face *orig, const mf_anon_result *r) {
    float tol = a->o.tuning.pose_tolerance;
    return tol > 0 && r->detected_after && orig->has_landmarks &&
           (fabsf(r->yaw_after - orig->lm.yaw) > tol || fabsf(r->pitch_after - orig->lm.pitch) > tol);
}

/* (judge34) whether recognizer i checks a draw at the guarantee's jittered alignments: every ensemble member, the
 * extra judge (tuning.judge) only with tuning.judge_jitter */
static int rec_jitters(const mf_anon_t *a, int i) {
    return a->info[i]->ensemble && (i != a->judge || a->o.tuning.judge_jitter > 0);
}

/* (jit30) The original embedded at the jittered alignments (j->ejit), when the face's setup left them out
 * (j->jit_lazy: tuning.jitter_skip) and a check needs them: the original's region (j->O, exactly its bytes) is
 * written back into img for the embeddings, then the candidate's bytes are put back; the same pixels as the setup's
 * embeddings would have read, so the same embeddings. */
static int ensure_ejit(mf_anon_t *a, mf_img *img, job *j, const mf_face *orig) {
    if (!j->jit_lazy) return MF_OK;
    mf_img cur;
    int st = mf_img_crop(img, j->ox, j->oy, j->w, j->h, &cur), n = 0, done;
    if (st) return st;
    float p5[5][2];
    mf_face_5pt(orig, p5);
    for (int i = 0; i < a->n_rec; i++)
        for (int q = 0; rec_jitters(a, i) && q < N_JIT; q++) {
            emb_job *jb = &j->ej[n++];
            jb->rec = i, jb->img = img, jb->ref = NULL, jb->out = j->ejit[i][q];
            mf_anon_jitter5(p5, q, jb->p);
        }
    st = mf_fimg_to_img(&j->O, NULL, img, j->ox, j->oy);
    if (!st) st = emb_run(a, j->ej, n, 0, &done);
    for (int y = 0; y < j->h; y++)
        memcpy(img->data + ((size_t)(j->oy + y) * img->w + j->ox) * 3, cur.data + (size_t)y * j->w * 3, (size_t)j->w * 3);
    mf_img_free(&cur);
    if (!st) j->jit_lazy = 0;
    return st;
}

/* (jit30) tuning.jitter_skip's margin for ensemble recognizer i: the factor x its largest measured jitter lift; a
 * recognizer without a measured lift gets no margin to skip by (FLT_MAX) */
static float jit_skip_margin(const mf_anon_t *a, int i) {
    const char *nm = a->info[i]->name;
    float lift = strcmp(nm, "arcface") == 0 ? JIT_LIFT_ARCFACE : strcmp(nm, "faceapi") == 0 ? JIT_LIFT_FACEAPI : -1;
    return lift > 0 ? a->o.tuning.jitter_skip * lift : FLT_MAX;
}

/* The face of faces[0..n) whose box centre (the mesh's, else the detector's) lies nearest (cx, cy); distances in the
 * analysed image's pixels times k (picture pixels per analysed pixel). *best gets its distance (1e9 for none);
 * returns its index, -1 for none. */
static int nearest_face(const mf_face *faces, int n, float cx, float cy, float k, float *best) {
    int bi = -1;
    *best = 1e9f;
    for (int i = 0; i < n; i++) {
        const mf_face_box *b = faces[i].has_landmarks ? &faces[i].lm.box : &faces[i].det;
        float d = hypotf(b->x + b->w / 2 - cx, b->y + b->h / 2 - cy) * k;
        if (d < *best) *best = d, bi = i;
    }
    return bi;
}

/* (upright43) The upright copy a rolled face's draw is found again on: the region cut as an upright square of
 * UPRIGHT_CTX face sizes (box: the original's box, roll: its roll, side: pixels, k: picture pixels per pixel of
 * the copy). */
typedef struct {
    float box[4], roll, k;
    int side;
} upright_copy;

/* (upright43) A draw of a rolled, uncut face (tuning.upright_check, with the plain analyser for the checks): the
 * plain analyser on an upright copy of the region, the attacker's way of finding it (the privacy analyser on the
 * region took 3-4x the time). Returns 1 with the copy in *roi, its faces in faces / *n and the one nearest the
 * original's centre in *bi / *best (picture pixels) when a face lies within 0.35 face sizes of it; 0 when not
 * eligible or not found there (nothing kept: the caller analyses the region as before); an error status (< 0, its
 * message set) otherwise. Not for the
 * filter's check: a pixelated or filled face is seldom found there, and both analyses would run. */
static int upright_find(mf_anon_t *a, const mf_img *img, const mf_face *orig, const mf_face_analyzer_t *an,
                        upright_copy *u, mf_img *roi, mf_face *faces, int *n, int *bi, float *best) {
    const mf_face_box *ob = &orig->lm.box;
    float cut;
    if (!(a->o.tuning.upright_check > 0 && a->o.check_an && an != a->o.check_an && img->c == 3 &&
          orig->has_landmarks && fabsf(remainderf(orig->lm.roll, 360.0f)) > UPRIGHT_ROLL &&
          fmaxf(orig->det.w, orig->det.h) >= 32 && ob->w > 0 && ob->h > 0 && !face_cut(orig, img->w, img->h, &cut)))
        return 0;
    float fs = fmaxf(ob->w, ob->h);
    u->box[0] = ob->x, u->box[1] = ob->y, u->box[2] = ob->w, u->box[3] = ob->h, u->roll = orig->lm.roll;
    u->side = (int)fminf(UPRIGHT_SIDE_MAX, fmaxf(64, ceilf(UPRIGHT_CTX * fs)));
    int st = mf_anon_attack_square(img, u->box, u->roll, UPRIGHT_CTX, u->side, roi);
    if (st) return st;
    *n = 0;
    st = mf_face_analyze_geometry(a->o.check_an, roi, faces, MAX_CHECK_FACES, n);
    if (st && st != MF_ERR_LIMIT) {
        mf_img_free(roi);
        return st;
    }
    u->k = UPRIGHT_CTX * fs / (float)u->side;
    float c = 0.5f * (float)u->side; /* the original's box centre is the copy's */
    *bi = nearest_face(faces, st ? 0 : *n, c, c, u->k, best);
    if (!st && *bi >= 0 && *best < 0.35f * fs) return 1;
    mf_img_free(roi), *n = 0;
    return 0;
}

/* (upright43) The face f found on the upright copy, back into the picture: its five points turned back (p5n, picture
 * coordinates), its roll with the copy's added (r->roll_after), and in *fa a copy of it whose boxes (centre, size,
 * roll) are in the coordinates of the picture's check region, cut into *proi: its age and gender are read there, as
 * the privacy path reads them (the attribute crop turned by the box's roll), not on the copy (resampled twice). */
static int upright_back(const upright_copy *u, const mf_img *img, const job *j, const mf_face *f, float p5n[5][2],
                        mf_anon_result *r, mf_img *proi, mf_face *fa) {
    float q[5][2];
    memcpy(q, p5n, sizeof q);
    mf_anon_attack_points_back(u->box, u->roll, UPRIGHT_CTX, u->side, (const float(*)[2])q, 5, p5n);
    r->roll_after = remainderf(f->lm.roll + u->roll, 360.0f);
    int st = mf_img_crop(img, j->cx0, j->cy0, j->cw, j->ch, proi);
    if (st) return st;
    *fa = *f;
    for (int b = 0; b < 2; b++) {
        mf_face_box *bx = b ? &fa->lm.box : &fa->det;
        float cq[1][2] = {{bx->x + bx->w / 2, bx->y + bx->h / 2}}, cp[1][2];
        mf_anon_attack_points_back(u->box, u->roll, UPRIGHT_CTX, u->side, (const float(*)[2])cq, 1, cp);
        bx->w *= u->k, bx->h *= u->k, bx->roll += u->roll * (float)M_PI / 180.0f;
        bx->x = cp[0][0] - (float)j->cx0 - bx->w / 2, bx->y = cp[0][1] - (float)j->cy0 - bx->h / 2;
    }
    return MF_OK;
}

/* (veil44) A rejected draw may be veiled only when it reads like its owner's age and gender: within the age
 * tolerance (a child's also under tuning.child_relaxed_age), the gender kept where the original's is sure (an adult's
 * face drawn on a baby, blurred, is still one). r: the draw's after-fields (a rejected draw's feedback read). */
static int veil_like(const mf_anon_t *a, const mf_face *face, const mf_anon_result *r) {
    if (face->attr.gender != MF_GENDER_UNKNOWN && face->attr.gender_score >= a->o.gender_confidence &&
        r->gender_after != MF_GENDER_UNKNOWN && r->gender_after != face->attr.gender)
        return 0;
    if (face->attr.age < 0) return 1;
    if (r->age_after < 0) return 0;
    return fabsf(r->age_after - face->attr.age) <= a->o.age_tolerance &&
           !(face->attr.age < CHILD_AGE && a->o.tuning.child_relaxed_age > 0 &&
             r->age_after >= a->o.tuning.child_relaxed_age);
}

/* The checks on a candidate already written into img: re-detect around the face, embed, compare. Returns 1 when
 * every check passes; fills the result's after-fields and a reason in `why`.
 * For a draw (id_ok given) the cheapest rejection runs first and a draw already failed is not checked further
 * (docs/anonymization.md, "Speed of the checks"): (1) the ensemble at the original's landmarks and at the jittered
 * alignments of them (no analysis needed); (2) detection and mesh of the check region (not detected: redrawn);
 * (3) the ensemble at the detected landmarks; (4) age and gender (deciding only for a draw whose identity checks
 * all passed; for a rejected one they are the next draw's feedback, CHECK_FEEDBACK: read at the original's mesh box
 * without (2) and (3) when (1) rejected it).
 * Every check that decides acceptance runs before a draw is accepted. Without id_ok (the baselines and the fallback
 * filter) everything is measured. */
static int check(mf_anon_t *a, mf_img *img, job *j, const mf_face *orig, float (*eorig)[1024],
                 const mf_anon_galleries *gal, mf_anon_result *r, char *why, size_t why_len, int *id_ok) {
    int st, ok = 1, draw = id_ok != NULL;
    float ofs = fmaxf(orig->det.w, orig->det.h);
    float p5o[5][2], p5n[5][2];
    int gal_hit[MF_ANON_MAX_RECOGNIZERS] = {0};
    why[0] = 0;
    if (id_ok) *id_ok = 0;
    j->code = 0, j->code_val = -2, j->code_rec = -1;
    /* nothing of an earlier draw is reported for this one */
    r->detected_after = 0, r->det_score_after = r->mesh_score_after = 0;
    r->yaw_after = r->pitch_after = r->roll_after = 0;
    r->eye_open_after[0] = r->eye_open_after[1] = r->mouth_open_after = 0;
    r->age_after = -1, r->gender_after = MF_GENDER_UNKNOWN;
    for (int i = 0; i < MF_ANON_MAX_RECOGNIZERS; i++) r->sim[i] = r->gallery_sim[i] = -2;
    mf_face_5pt(orig, p5o);
    /* (1) a draw: the ensemble at the original's landmarks and at the jittered alignments of them (none needs the
     * analysis), the most discriminating first: the own alignment, then the jitter in mf_anon_jitter5's order (its
     * first, 1.1x the scale, rejected 13 of the 16 draws the jitter rejected on the demo faces); one over its
     * threshold (or matching the gallery) is redrawn at once. (speed16) One batch on both threads (emb_run): the
     * jobs in this order, applied in it up to the first rejection, exactly as one after the other.
     * (speed18) The screening recognizer (SCREEN_FIRST) at all its alignments first, then the others at theirs: a
     * draw is rejected when any job rejects it and passes only when all of them ran, so the order changes how soon
     * a rejected draw stops, never whether a draw passes or what a passing draw reports (its similarities are the
     * maxima over all the jobs); only a rejected draw's reason and partial similarities can differ.
     * mf_anon_debug_reference keeps the order before (each alignment in turn, the recognizers in registry order) */
    int nj = 0, done = 0;
    /* (jit30) tuning.jitter_skip: stage 0 embeds the own alignment only; stage 1 the jittered ones, unless every
     * ensemble similarity of stage 0 is below its threshold by more than jit_skip_margin (then the draw is
     * reported with jitter_skipped). Without it one stage holds every job, as before. */
    int staged = draw && j->jit_skip;
    r->jitter_skipped = 0;
    if (!draw && (st = ensure_ejit(a, img, j, orig))) return st;
    /* (speed19) with two threads the feedback a rejection would read (check_feedback_at_original: one attribute
     * network at the original's mesh box) is read beside the batch on the calling thread, before it joins: used
     * when a job rejects the draw, dropped when the draw passes (then step (4) reads the attributes of the face
     * found); not for the last draw (no next draw reads it) */
    mf_img froi = {0};
    mf_face fb;
    int spec = draw && a->attr_np && !a->reference && !j->last && orig->has_landmarks && CHECK_FEEDBACK == 3;
    for (int stage = 0; draw && stage < 1 + staged; stage++) {
        if (stage == 1) {
            int far = 1;
            for (int i = 0; i < a->n_rec; i++)
                if (rec_jitters(a, i) && !(r->sim[i] < a->info[i]->dissimilarity_threshold - jit_skip_margin(a, i)))
                    far = 0;
            if (far) {
                r->jitter_skipped = 1;
                break;
            }
            if ((st = ensure_ejit(a, img, j, orig))) return st;
        }
        int qlo = stage == 1 ? 0 : -1, qhi = staged && stage == 0 ? 0 : j->ejit ? N_JIT : 0;
        nj = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int q = qlo; q < qhi; q++)
                for (int i = 0; i < a->n_rec; i++) {
                    if (!a->info[i]->ensemble || (q >= 0 && !rec_jitters(a, i))) continue;
                    int first = !a->reference && strcmp(a->info[i]->name, SCREEN_FIRST) == 0;
                    if (first != (pass == 0)) continue;
                    emb_job *jb = &j->ej[nj];
                    jb->rec = i, jb->img = img, jb->out = j->eb[nj++];
                    if (q >= 0) mf_anon_jitter5(p5o, q, jb->p);
                    else memcpy(jb->p, p5o, sizeof jb->p);
                    jb->ref = q < 0 ? eorig[i] : j->ejit[i][q];
                }
        if (spec && stage == 0 && nj) {
            if ((st = mf_img_crop(img, j->cx0, j->cy0, j->cw, j->ch, &froi))) return st;
            fb = *orig;
            fb.confirmed = 1;
            mf_face_translate(&fb, -(float)j->cx0, -(float)j->cy0);
            st = emb_run_attributes(a, j->ej, nj, 1, &done, &froi, &fb, 1);
            mf_img_free(&froi);
            if (st) return st;
        } else if (nj && (st = emb_run(a, j->ej, nj, 1, &done)))
            return st;
        for (int k = 0; k < done; k++) {
            int i = j->ej[k].rec;
            float s;
            if ((st = score_embedding(a, i, j->eb[k], j->ej[k].ref, gal, r, &gal_hit[i], &s))) return st;
            r->sim[i] = fmaxf(r->sim[i], s);
            if (s >= a->info[i]->dissimilarity_threshold) {
                snprintf(why, why_len, "%s similarity %.3f >= %.3f", a->info[i]->name, s,
                         a->info[i]->dissimilarity_threshold);
                char c0 = i == a->judge ? 'J' : a->info[i]->name[0];
                j->code = j->ej[k].ref == eorig[i] ? (char)toupper((unsigned char)c0) : (char)tolower((unsigned char)c0);
                j->code_val = s, j->code_rec = i;
            } else if (gal_hit[i])
                snprintf(why, why_len, "%s matches gallery identity", a->info[i]->name), j->code = 'G';
            else
                continue;
            /* (speed19) not for the last draw: its feedback would steer no draw, and a rejected draw's after-fields
             * are never published (the result is another draw's or the fallback filter's, which checks itself) */
            if (spec) { /* read beside the batch: as check_feedback_at_original sets it */
                if (fb.attr.age >= 0 || fb.attr.gender != MF_GENDER_UNKNOWN) {
                    r->detected_after = 1;
                    r->age_after = fb.attr.age, r->gender_after = fb.attr.gender;
                }
                return 0;
            }
            if (CHECK_FEEDBACK >= 2) return j->last && !a->reference ? 0 : (st = check_feedback_at_original(a, img, j, orig, r)) ? st : 0;
            if (!CHECK_FEEDBACK) return 0;
            ok = 0; /* rejected: analysed below only for the next draw's feedback */
            goto analysis;
        }
    }
analysis:;
    /* (2) detection and mesh around the face (attributes only in (4)) */
    mf_img roi = {0};
    mf_face_analyzer_t *an = check_analyzer(a, orig);
    mf_face faces[MAX_CHECK_FACES];
    int n = 0, bi = -1;
    const mf_face_box *ob = orig->has_landmarks ? &orig->lm.box : &orig->det;
    float best = 1e9f;
    /* (upright43) a draw of a rolled, uncut face: found on an upright copy of the region (roi is that copy) by the
     * plain analyser; where it finds no face at the centre, the privacy analyser on the region as before */
    upright_copy uc;
    mf_img proi = {0}; /* (upright43) the picture's region, where the upright face's age and gender are read */
    mf_face fa;
    int upright = draw ? upright_find(a, img, orig, an, &uc, &roi, faces, &n, &bi, &best) : 0;
    if (upright < 0) return upright;
    if (upright)
        an = a->o.check_an;
    else {
        if ((st = mf_img_crop(img, j->cx0, j->cy0, j->cw, j->ch, &roi))) return st;
        if ((st = mf_face_analyze_geometry(an, &roi, faces, MAX_CHECK_FACES, &n))) goto out;
        /* the detection nearest the original's centre */
        bi = nearest_face(faces, n, ob->x + ob->w / 2 - j->cx0, ob->y + ob->h / 2 - j->cy0, 1, &best);
    }
    r->detected_after = bi >= 0 && best < 0.35f * fmaxf(ob->w, ob->h);
    mf_face *f = r->detected_after ? &faces[bi] : NULL;
    if (f) {
        r->det_score_after = f->det.score, r->mesh_score_after = f->has_landmarks ? f->lm.score : 0;
        r->yaw_after = f->lm.yaw, r->pitch_after = f->lm.pitch, r->roll_after = f->lm.roll;
        r->eye_open_after[0] = f->lm.eye_open[0], r->eye_open_after[1] = f->lm.eye_open[1];
        r->mouth_open_after = f->lm.mouth_open;
        mf_face_5pt(f, p5n);
        if (upright) {
            if ((st = upright_back(&uc, img, j, f, p5n, r, &proi, &fa))) goto out;
        } else {
            for (int k = 0; k < 5; k++) p5n[k][0] += j->cx0, p5n[k][1] += j->cy0;
        }
    } else {
        memcpy(p5n, p5o, sizeof p5n);
        if (ok) snprintf(why, why_len, "not detected after replacement"), j->code = 'N';
        ok = 0;
    }
    /* the two landmark sets agree (within 0.4 % of the face size, under half a pixel of the recognizers' 112-px
     * crops): one embedding per recognizer */
    float lm_d = 0;
    for (int k = 0; k < 5; k++) lm_d = fmaxf(lm_d, hypotf(p5n[k][0] - p5o[k][0], p5n[k][1] - p5o[k][1]));
    int same_lm = lm_d <= 0.004f * ofs;
    /* (3) every recognizer: embedded where the detector finds the new face and where the original's landmarks were
     * (already done for a draw's ensemble); the worse counts. A draw that failed is redrawn whatever the rest says
     * (its similarities are reported as far as (1) got, else -2); recognizers outside the ensemble (measured only,
     * opts.measure_all) are still embedded. The fallback filter's check (no id_ok) needs every similarity (a mosaic
     * that is no longer detected may still be matched, then it is filled) */
    int kof[MF_ANON_MAX_RECOGNIZERS]; /* a draw: the embeddings at the detected points, one batch on both threads */
    nj = 0;
    for (int i = 0; draw && i < a->n_rec; i++) {
        int ens = a->info[i]->ensemble;
        kof[i] = -1;
        if ((!ok && ens) || (ens && same_lm)) continue;
        emb_job *jb = &j->ej[nj];
        jb->rec = i, jb->img = img, jb->ref = eorig[i], jb->out = j->eb[nj];
        memcpy(jb->p, p5n, sizeof jb->p);
        kof[i] = nj++;
    }
    /* (speed22) the filter's check (no draw): its embeddings of every recognizer at every alignment (the detected
     * points, the original's, the jittered ones) as one batch on both threads, in the order the loop below applies
     * them (fk: the first job of each recognizer, -1: embedded one after the other below). Every job runs; the loop
     * scores them in that order and stops a recognizer's jittered alignments where the one-after-the-other path
     * stops, so the similarities, gallery scores and decision are the same bits (a matched filter's skipped jobs are
     * work done for nothing: then the face is filled and checked once more). Without two threads, with
     * mf_anon_debug_reference or beyond EMB_JOBS jobs, the embeddings run one after the other in the loop. */
    int fk[MF_ANON_MAX_RECOGNIZERS];
    for (int i = 0; i < a->n_rec; i++) fk[i] = -1;
    if (!draw && a->par && !a->reference) {
        int need = 0;
        for (int i = 0; i < a->n_rec; i++) {
            int ens = a->info[i]->ensemble;
            need += 1 + (ens && f && !same_lm) + (rec_jitters(a, i) && j->ejit ? N_JIT : 0);
        }
        for (int i = 0; need <= EMB_JOBS && i < a->n_rec; i++) {
            int ens = a->info[i]->ensemble;
            fk[i] = nj;
            for (int q = -2; q < (rec_jitters(a, i) && j->ejit ? N_JIT : 0); q++) {
                if (q == -1 && !(ens && f && !same_lm)) continue;
                emb_job *jb = &j->ej[nj];
                jb->rec = i, jb->img = img, jb->out = j->eb[nj++];
                jb->ref = q < 0 ? eorig[i] : j->ejit[i][q];
                if (q >= 0) mf_anon_jitter5(p5o, q, jb->p);
                else memcpy(jb->p, q == -2 ? p5n : p5o, sizeof jb->p);
            }
        }
    }
    /* (speed19) the age and gender of step (4) depend only on the face found: with two threads they are read on the
     * calling thread beside these embeddings (a draw's (4) always reads them for a detected face: to decide, or as
     * the next draw's feedback; speed22: and the filter's, beside its batch) */
    int side = f && a->attr_np && !a->reference && (draw || nj > 0);
    if (side) {
        if ((st = emb_run_attributes(a, j->ej, nj, 0, &done, upright ? &proi : &roi, upright ? &fa : f, 0))) goto out;
    } else if (nj && (st = emb_run(a, j->ej, nj, 0, &done)))
        goto out;
    for (int i = 0; i < a->n_rec; i++) {
        int ens = a->info[i]->ensemble, k = fk[i];
        if (draw && !ok && ens) continue; /* reported as far as (1) got */
        float s1 = -2, s2 = -2;
        if (draw && kof[i] >= 0 && (st = score_embedding(a, i, j->eb[kof[i]], eorig[i], gal, r, &gal_hit[i], &s1)))
            goto out;
        if (!draw && (st = k >= 0 ? score_embedding(a, i, j->eb[k++], eorig[i], gal, r, &gal_hit[i], &s1)
                                  : embed_score(a, i, img, p5n, eorig[i], gal, r, &gal_hit[i], &s1)))
            goto out;
        if (!draw && ens && f && !same_lm &&
            (st = k >= 0 ? score_embedding(a, i, j->eb[k++], eorig[i], gal, r, &gal_hit[i], &s2)
                         : embed_score(a, i, img, p5o, eorig[i], gal, r, &gal_hit[i], &s2)))
            goto out;
        r->sim[i] = fmaxf(r->sim[i], fmaxf(s1, s2)); /* a draw's ensemble: with (1)'s */
        /* the alignments another detector may find (mf_anon_jitter5): the original and the result embedded at the
         * same jittered points; the worst counts (a draw did them in (1)) */
        for (int q = 0; rec_jitters(a, i) && j->ejit && !draw && q < N_JIT && r->sim[i] < a->info[i]->dissimilarity_threshold; q++) {
            float pj[5][2], sj;
            if (k >= 0)
                st = score_embedding(a, i, j->eb[k + q], j->ejit[i][q], gal, r, &gal_hit[i], &sj);
            else
                mf_anon_jitter5(p5o, q, pj), st = embed_score(a, i, img, pj, j->ejit[i][q], gal, r, &gal_hit[i], &sj);
            if (st) goto out;
            r->sim[i] = fmaxf(r->sim[i], sj);
        }
        if (ens && r->sim[i] >= a->info[i]->dissimilarity_threshold && ok) {
            ok = 0;
            snprintf(why, why_len, "%s similarity %.3f >= %.3f", a->info[i]->name, r->sim[i],
                     a->info[i]->dissimilarity_threshold);
            j->code = 'P', j->code_val = r->sim[i], j->code_rec = i;
        }
        if (gal_hit[i] && ok) {
            ok = 0;
            snprintf(why, why_len, "%s matches gallery identity", a->info[i]->name);
            j->code = 'G';
        }
    }
    /* (3b) a face cut by the border: the attacker's square (attack_check), for a draw that passed everything else
     * on its identity (one plain analysis of a 256 px square per such draw, and one of the original's per face) */
    if (draw && ok && j->cut) {
        int ac = attack_check(a, img, j, (const float(*)[2])p5n, gal, r, gal_hit, why, why_len);
        if (ac < 0) {
            st = ac;
            goto out;
        }
        ok = ac;
        if (!ok) j->code = 'S';
    }
    if (id_ok) *id_ok = ok; /* detected again, below every ensemble threshold and every gallery identity */
    /* (turn20) the pose kept: a draw whose face turned or tilted away from the original's is drawn again (its
     * identity is removed: id_ok stays, the synthetic fallback may keep it) */
    if (ok && draw && pose_moved(a, orig, r)) {
        ok = 0;
        if (fabsf(r->yaw_after - orig->lm.yaw) > a->o.tuning.pose_tolerance)
            snprintf(why, why_len, "pose: yaw %.0f -> %.0f", orig->lm.yaw, r->yaw_after);
        else
            snprintf(why, why_len, "pose: pitch %.0f -> %.0f", orig->lm.pitch, r->pitch_after);
    }
    /* (4) age and gender of the face found: where they can still decide, are reported (no id_ok), or feed the next
     * draw (CHECK_FEEDBACK) */
    if (f && (ok || !draw || CHECK_FEEDBACK)) { /* a draw rejected in (3): detected, so read at its own box */
        mf_face *af = upright ? &fa : f;
        if (!side && (st = mf_face_analyze_attributes(an, upright ? &proi : &roi, af))) goto out;
        r->age_after = af->attr.age, r->gender_after = af->attr.gender;
    }
    if (ok && orig->attr.age >= 0 && r->age_after >= 0 && fabsf(r->age_after - orig->attr.age) > a->o.age_tolerance) {
        ok = 0;
        snprintf(why, why_len, "age %.0f -> %.0f", orig->attr.age, r->age_after);
        j->code = 'Y', j->code_val = r->age_after;
    }
    if (ok && orig->attr.gender != MF_GENDER_UNKNOWN && orig->attr.gender_score >= a->o.gender_confidence &&
        r->gender_after != orig->attr.gender) {
        ok = 0;
        snprintf(why, why_len, "gender changed");
        j->code = 'X';
    }
    st = ok;
out:
    mf_img_free(&roi), mf_img_free(&proi);
    return st;
}

/* (speed16) The first draw's render_draw (on the calling thread) beside the original's embeddings (the batch of
 * n_setup jobs in j->ej, on the pool's other thread, the calling thread joining it when the render is done): the
 * render reads only the ROI copy j->O and writes res, the embeddings read the photo (unchanged until res is
 * written back) and write the original's embeddings, which the render does not read. Returns render_draw's status
 * (its message set); *emb_st: the batch's; *ms: the render's wall time. */
typedef struct {
    emb_batch b;
    mf_anon_t *a;
    job *j;
    float gain, shade, fine;
    int keep_eyes, rst;
    mf_fimg *res;
    double ms;
} beside_ctx;

static void beside_fn(void *ctx, int ith, int nth) {
    (void)nth;
    beside_ctx *c = ctx;
    if (ith == 0) {
        double t0 = now_ms();
        c->rst = render_draw(c->a, c->j, c->j->tex, c->gain, c->shade, c->fine, c->keep_eyes, c->res);
        c->ms = now_ms() - t0;
    }
    if (ith < 2) emb_work(&c->b, ith);
}

static int render_beside_setup(mf_anon_t *a, job *j, float gain, float shade, float fine, int keep_eyes, mf_fimg *res,
                               int n_setup, int *emb_st, double *ms) {
    beside_ctx c = {.b = {.a = a, .jobs = j->ej, .n = n_setup, .early = 0}, .a = a, .j = j, .gain = gain,
                    .shade = shade, .fine = fine, .keep_eyes = keep_eyes, .res = res};
    atomic_init(&c.b.next, 0), atomic_init(&c.b.stop, 0);
    mf_nn_pool_t *rp = j->rpool;
    j->rpool = NULL; /* the pool is taken: this render's row loops run on its thread alone */
    mf_nn_pool_run(a->o.pool, beside_fn, &c);
    j->rpool = rp;
    a->n_emb += n_setup;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", mf_error_get()); /* render_draw's, if it failed */
    *emb_st = MF_OK;
    for (int k = 0; k < n_setup && !*emb_st; k++)
        if (j->ej[k].st) *emb_st = mf_error_set(j->ej[k].st, "%s", j->ej[k].msg);
    if (!*emb_st && c.rst) mf_error_set(c.rst, "%s", msg);
    *ms = c.ms;
    return c.rst;
}

/* The age asked of the model for the next draw: age_draw moved by -step x the miss of the age read on draw r (the
 * face detected again) when that miss is over `over` years, kept within [max(1, age / 2 - 2), 1.5 age + 10] of the
 * original's age. Unchanged when either age is unknown. */
static float age_feedback(const mf_face *face, const mf_anon_result *r, float over, float step, float age_draw) {
    if (!r->detected_after || face->attr.age < 0 || r->age_after < 0) return age_draw;
    float d = r->age_after - face->attr.age;
    if (fabsf(d) > over) age_draw -= step * d;
    float lo = fmaxf(1, 0.5f * face->attr.age - 2), hi = face->attr.age * 1.5f + 10;
    return age_draw < lo ? lo : age_draw > hi ? hi : age_draw;
}

/* How far a checked result is below the guarantee: the smallest, over the ensemble, of (dissimilarity threshold -
 * similarity) / (match threshold - dissimilarity threshold); larger is farther from the original. */
static float id_margin(const mf_anon_t *a, const mf_anon_result *r) {
    float m = FLT_MAX;
    for (int i = 0; i < a->n_rec; i++) {
        const mf_face_recognizer_info *inf = a->info[i];
        float gap = inf->match_threshold - inf->dissimilarity_threshold;
        if (inf->ensemble && gap > 0) m = fminf(m, (inf->dissimilarity_threshold - r->sim[i]) / gap);
    }
    return m;
}

/* The mesh's skin probes inside the box d grown by MESH_BOX_GROW of its size on each side (mesh_fits_detection). */
static int mesh_probes_in(const mf_face *face, const mf_face_box *d) {
    int in = 0;
    float gx = MESH_BOX_GROW * d->w, gy = MESH_BOX_GROW * d->h;
    for (int i = 0; i < NPROBE; i++) {
        float x = face->lm.pt[skin_probes[i]][0], y = face->lm.pt[skin_probes[i]][1];
        in += x >= d->x - gx && x <= d->x + d->w + gx && y >= d->y - gy && y <= d->y + d->h + gy;
    }
    return in;
}

/* Renderability: does the mesh sit on the face the detector found? A mesh can be fitted beside the face (a frontal
 * mesh drawn into the background in front of a half profile: demo pair 4 of stop 11, whose skin probes then
 * sampled the white background as skin). In this order:
 *  - the mesh's skin probes (cheeks, forehead, nose bridge; the skin model's) inside the detection box grown by
 *    MESH_BOX_GROW of its size on each side: at least MESH_PROBES_IN of them;
 *  - the detector's eyes, nose and mouth centre against the mesh's five points: the largest distance, over the
 *    face size, at most MESH_KP_DIST;
 *  - the nose's sideways offset from the eye midpoint along the eye axis, over the eye distance (a yaw read from
 *    the points, whatever the roll), the detector's against the mesh's: at most MESH_YAW_DIFF apart (pair 4: mesh
 *    -0.58, detection -1.09; the other 21 demo and 60 FFHQ faces of stop 11 differ by at most 0.15).
 * Returns 1 when the mesh agrees; 0 with the reason in `why` ("not renderable (...)"). A face without a usable
 * detection (zero box) is not judged here. */
static int mesh_fits_detection(const mf_face *face, char *why, size_t n) {
    const mf_face_box *d = &face->det;
    if (!face->has_landmarks || !(d->w > 0) || !(d->h > 0)) return 1;
    float m5[5][2], d5[5][2];
    mf_face_landmarks_5pt(&face->lm, m5);
    mf_face_box_5pt(d, d5);
    float fs = fmaxf(d->w, d->h);
    /* the points compared: eyes, nose, mouth centre (the detector has no mouth corners, only their centre) */
    float mp[4][2], dp[4][2];
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 3; i++) mp[i][k] = m5[i][k], dp[i][k] = d5[i][k];
        mp[3][k] = 0.5f * (m5[3][k] + m5[4][k]), dp[3][k] = 0.5f * (d5[3][k] + d5[4][k]);
    }
    float dist = 0;
    for (int i = 0; i < 4; i++) dist = fmaxf(dist, hypotf(mp[i][0] - dp[i][0], mp[i][1] - dp[i][1]) / fs);
    /* yaw from the points: nose offset along the eye axis, from the eye midpoint, over the eye distance */
    float off[2];
    for (int q = 0; q < 2; q++) {
        float (*p)[2] = q ? dp : mp;
        float ex = p[1][0] - p[0][0], ey = p[1][1] - p[0][1], e = fmaxf(1e-3f, hypotf(ex, ey));
        float nx = p[2][0] - 0.5f * (p[0][0] + p[1][0]), ny = p[2][1] - 0.5f * (p[0][1] + p[1][1]);
        off[q] = (nx * ex + ny * ey) / (e * e);
    }
    int in = mesh_probes_in(face, d);
    if (in < MESH_PROBES_IN)
        snprintf(why, n, "not renderable (%d of %d skin probes outside the detection)", NPROBE - in, NPROBE);
    else if (dist > MESH_KP_DIST)
        snprintf(why, n, "not renderable (the mesh is %.2f face sizes off the detection's points)", dist);
    else if (fabsf(off[0] - off[1]) > MESH_YAW_DIFF)
        snprintf(why, n, "not renderable (the mesh's yaw disagrees with the detection's: nose offset %.2f vs %.2f eye "
                 "distances)", off[0], off[1]);
    else
        return 1;
    return 0;
}

/* (fall30) A second look at a face whose mesh does not sit on its detection's points (mesh_fits_detection): the
 * check analyser (plain detection when the caller gave one) analyses the detection box grown by REFIT_MARGIN face
 * sizes on each side. Its face overlapping the detection most (IoU >= REFIT_IOU), read the same way up as the
 * record's mesh (rolls at most REFIT_ROLL apart), whose mesh fits its own detection (mesh_fits_detection), keeps
 * at least MESH_PROBES_IN skin probes inside this detection (grown as there) and is not in doubt about its way up,
 * becomes the face drawn: *out (image coordinates, its own attributes when they were read, else the record's) and
 * *found 1. Nothing fits (or more faces than MAX_CHECK_FACES there):
 * *found 0 and the face stays not renderable. Returns MF_OK or an analysis error. */
/* The record's roll in degrees: its mesh's, else its detection's (the eye vector of its five points). */
static float record_roll(const mf_face *f) { return f->has_landmarks ? f->lm.roll : f->det.roll * 180.0f / (float)M_PI; }

static int refit_face(const mf_anon_t *a, const mf_img *img, const mf_face *face, mf_face *out, int *found) {
    *found = 0;
    const mf_face_box *d = &face->det;
    if (!(d->w > 0) || !(d->h > 0)) return MF_OK;
    float mg = REFIT_MARGIN * fmaxf(d->w, d->h);
    int x0 = (int)floorf(d->x - mg), y0 = (int)floorf(d->y - mg);
    int x1 = (int)ceilf(d->x + d->w + mg), y1 = (int)ceilf(d->y + d->h + mg);
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > img->w ? img->w : x1, y1 = y1 > img->h ? img->h : y1;
    if (x1 - x0 < 16 || y1 - y0 < 16) return MF_OK;
    mf_face_analyzer_t *an = a->o.check_an ? a->o.check_an : a->o.an;
    mf_img roi;
    int st = mf_img_crop(img, x0, y0, x1 - x0, y1 - y0, &roi);
    if (st) return st;
    mf_face faces[MAX_CHECK_FACES];
    int n = 0, bi = -1;
    st = mf_face_analyze_geometry(an, &roi, faces, MAX_CHECK_FACES, &n);
    if (st == MF_ERR_LIMIT) st = MF_OK, n = 0; /* a crowd: no second look */
    float best = REFIT_IOU;
    for (int i = 0; !st && i < n; i++) {
        mf_face *c = &faces[i];
        char why[160];
        if (!c->has_landmarks || c->lm.score < 0.5f || c->way_up_doubtful || !c->confirmed || !(c->det.w > 0) ||
            !(c->det.h > 0) || !(fabsf(remainderf(c->lm.roll - record_roll(face), 360.0f)) <= REFIT_ROLL))
            continue;
        mf_face_translate(c, (float)x0, (float)y0);
        float iou = mf_face_box_iou(&c->det, d);
        int ok = iou >= best && mesh_fits_detection(c, why, sizeof why) && mesh_probes_in(c, d) >= MESH_PROBES_IN;
        mf_face_translate(c, (float)-x0, (float)-y0);
        if (ok) best = iou, bi = i;
    }
    if (!st && bi >= 0) {
        mf_face *c = &faces[bi];
        st = mf_face_analyze_attributes(an, &roi, c);
        if (!st) {
            if (c->attr.age < 0) c->attr = face->attr;
            mf_face_translate(c, (float)x0, (float)y0);
            *out = *c, *found = 1;
        }
    }
    mf_img_free(&roi);
    return st;
}

int mf_anon_refit(mf_anon_t *a, const mf_img *img, mf_face *face, int *refitted) {
    if (!a || !img || !img->data || !face || !refitted) return mf_error_set(MF_ERR_ARG, "anon: null argument");
    *refitted = 0;
    char unfit[160];
    /* (prod31, tuning.refit_nomesh) a record without a mesh (not one whose way up is in doubt) too */
    int nomesh = !face->has_landmarks && !face->way_up_doubtful && a->o.tuning.refit_nomesh >= 0;
    if (a->o.tuning.refit < 0 || face->way_up_doubtful || (!face->has_landmarks && !nomesh) ||
        (face->has_landmarks && (face->lm.score < 0.5f || mesh_fits_detection(face, unfit, sizeof unfit))))
        return MF_OK;
    mf_face refit;
    int st = refit_face(a, img, face, &refit, refitted);
    if (!st && *refitted) *face = refit;
    return st;
}

int mf_anon_refit_photo(mf_anon_t *a, const mf_img *img, mf_face *faces, int n, int *state) {
    if (n > 0 && !faces) return mf_error_set(MF_ERR_ARG, "anon: null argument");
    for (int k = 0; k < n; k++) {
        mf_face fit = faces[k];
        int rf = 0, dup = -1;
        int st = mf_anon_refit(a, img, &fit, &rf);
        if (st) return st;
        for (int q = 0; rf && q < k; q++)
            if (mf_face_box_iou(&fit.det, &faces[q].det) >= REFIT_SAME) rf = 0, dup = q;
        if (rf) faces[k] = fit;
        if (state) state[k] = rf ? 1 : dup >= 0 ? -1 - dup : 0;
    }
    return MF_OK;
}

/* (prod31) What mf_anon_face decides before any draw (without its refit, which the caller ran on the photo first):
 * 1 when the record is drawn, 0 when it goes to the fallback filter at once ("not renderable": no usable mesh, turned
 * beyond MAX_YAW_RENDER, under 12 px, its mesh off its detection's points, cut by the border beyond
 * CUT_FALLBACK_OUT with tuning.cut_check). */
static int record_drawn(const mf_anon_t *a, const mf_img *img, const mf_face *face) {
    const mf_face_box *b = face->has_landmarks ? &face->lm.box : &face->det;
    float fs = fmaxf(b->w, b->h), cut_out = 0;
    char why[160];
    if (!face->has_landmarks || face->lm.score < 0.5f || fabsf(face->lm.yaw) > MAX_YAW_RENDER || !(fs >= 12) ||
        !mesh_fits_detection(face, why, sizeof why))
        return 0;
    if (a->o.tuning.cut_check > 0 && face_cut(face, img->w, img->h, &cut_out) &&
        (a->o.tuning.cut_check == 2 || cut_out > CUT_FALLBACK_OUT))
        return 0;
    return 1;
}

/* The overlap of two records' detection boxes over the smaller one's area (0 when either is empty). */
static float det_overlap(const mf_face *p, const mf_face *q) { return mf_face_box_overlap_small(&p->det, &q->det); }

int mf_anon_defer(const mf_anon_t *a, const mf_img *img, const mf_face *faces, int n, int k) {
    if (!a || !img || !faces || k < 0 || k >= n || record_drawn(a, img, &faces[k])) return 0;
    for (int q = 0; q < n; q++)
        if (q != k && det_overlap(&faces[k], &faces[q]) >= COVER_OVERLAP && record_drawn(a, img, &faces[q])) return 1;
    return 0;
}

int mf_anon_covered(mf_anon_t *a, const mf_img *orig, const mf_img *img, const mf_face *faces, int n, int k,
                    const int *replaced, const mf_anon_galleries *gal, mf_anon_result *r, int *by, int *covered) {
    if (!a || !orig || !img || !orig->data || !img->data || !faces || !replaced || !r || !by || !covered || k < 0 ||
        k >= n || orig->w != img->w || orig->h != img->h)
        return mf_error_set(MF_ERR_ARG, "anon: bad argument");
    const mf_face *face = &faces[k];
    memset(r, 0, sizeof *r);
    r->n_rec = a->n_rec, r->donor = -1, r->decision = MF_ANON_FALLBACK;
    for (int i = 0; i < MF_ANON_MAX_RECOGNIZERS; i++) r->sim[i] = r->gallery_sim[i] = -2;
    r->age_before = face->attr.age, r->gender_before = face->attr.gender, r->age_after = -1;
    *by = -1, *covered = 0;
    if (record_drawn(a, img, face)) return MF_OK;
    float best = COVER_OVERLAP;
    for (int q = 0; q < n; q++) {
        float o = q != k && replaced[q] ? det_overlap(face, &faces[q]) : 0;
        if (o >= best) best = o, *by = q;
    }
    const mf_face_box *d = &face->det;
    if (*by < 0 || !(d->w > 0) || !(d->h > 0)) return *by = -1, MF_OK;
    double t0 = now_ms();
    long n_emb0 = a->n_emb;
    float fs = fmaxf(d->w, d->h);
    /* the record's own alignments: its detection's five points, and its mesh's when the mesh sits on them (a mesh
     * off its detection's points lies on no face: that is why the record is not drawn) and they differ by more than
     * 0.4 % of the face size (the checks' same_lm); each with the guarantee's jittered copies */
    float base[2][5][2];
    int nb = 1;
    char why[160];
    mf_face_box_5pt(d, base[0]);
    if (face->has_landmarks && mesh_fits_detection(face, why, sizeof why)) {
        float lm_d = 0;
        mf_face_landmarks_5pt(&face->lm, base[1]);
        for (int q = 0; q < 5; q++) lm_d = fmaxf(lm_d, hypotf(base[1][q][0] - base[0][q][0], base[1][q][1] - base[0][q][1]));
        nb += lm_d > 0.004f * fs;
    }
    int n_al = nb * (1 + N_JIT), n_ens = 0, ens[MF_ANON_MAX_RECOGNIZERS];
    for (int i = 0; i < a->n_rec; i++)
        if (a->info[i]->ensemble) ens[n_ens++] = i;
    /* the faces an attacker's detector may find there: both analysers (the photo's, and the plain check analyser
     * when there is one) on the photo as it is, around the record (CHECK_MARGIN), those overlapping its detection */
    int x0 = (int)floorf(d->x - CHECK_MARGIN * fs), y0 = (int)floorf(d->y - CHECK_MARGIN * fs);
    int x1 = (int)ceilf(d->x + d->w + CHECK_MARGIN * fs), y1 = (int)ceilf(d->y + d->h + CHECK_MARGIN * fs);
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > img->w ? img->w : x1, y1 = y1 > img->h ? img->h : y1;
    mf_face found[2 * MAX_CHECK_FACES];
    int nf = 0, st = MF_OK, crowd = 0;
    for (int w = 0; !st && w < 2 && x1 - x0 >= 16 && y1 - y0 >= 16; w++) {
        mf_face_analyzer_t *an = w ? a->o.check_an : a->o.an;
        if (!an || (w && an == a->o.an)) continue;
        mf_img roi;
        int m = 0;
        if ((st = mf_img_crop(img, x0, y0, x1 - x0, y1 - y0, &roi))) break;
        st = mf_face_analyze_geometry(an, &roi, found + nf, MAX_CHECK_FACES, &m);
        mf_img_free(&roi);
        if (st == MF_ERR_LIMIT) st = MF_OK, m = 0, crowd = 1; /* a crowd there: not covered (below) */
        int kept = nf;
        for (int q = 0; !st && q < m; q++) {
            mf_face *c = &found[nf + q];
            mf_face_translate(c, (float)x0, (float)y0);
            if (det_overlap(c, face) > 0) found[kept++] = *c;
        }
        nf = kept;
    }
    /* jobs, per ensemble recognizer: orig and img at every own alignment, then orig and img at every face found */
    int per = 2 * (n_al + nf), n_jobs = n_ens * per;
    emb_job *jobs = st ? NULL : calloc((size_t)(n_jobs ? n_jobs : 1), sizeof *jobs);
    float *emb = st ? NULL : malloc(sizeof(float) * 1024 * (size_t)(n_jobs ? n_jobs : 1));
    if (!st && (!jobs || !emb)) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    int nj = 0, done = 0;
    for (int e = 0; !st && e < n_ens; e++)
        for (int al = 0; al < n_al + nf; al++)
            for (int w = 0; w < 2; w++) {
                emb_job *jb = &jobs[nj];
                jb->rec = ens[e], jb->img = w ? img : orig, jb->ref = NULL, jb->out = emb + (size_t)1024 * nj++;
                int b0 = al / (1 + N_JIT), q = al % (1 + N_JIT) - 1;
                if (al >= n_al) mf_face_5pt(&found[al - n_al], jb->p);
                else if (q >= 0) mf_anon_jitter5((const float(*)[2])base[b0], q, jb->p);
                else memcpy(jb->p, base[b0], sizeof jb->p);
            }
    if (!st && nj) st = emb_run(a, jobs, nj, 0, &done);
    int bad = 0, n_cmp = 0; /* a similarity at or over its threshold, or a gallery identity matched */
    for (int e = 0; !st && e < n_ens; e++) {
        int i = ens[e], g = 0;
        const emb_job *J = jobs + (size_t)e * per;
        float s, top = -2;
        /* img against orig at the same alignment: the own ones, then each face found; a face found also against orig
         * at the record's own points */
        for (int al = 0; !st && al < n_al + nf; al++, n_cmp++) {
            st = score_embedding(a, i, J[2 * al + 1].out, J[2 * al].out, gal, r, &g, &s);
            top = fmaxf(top, s);
        }
        for (int f = 0; !st && f < nf; f++)
            for (int b0 = 0; !st && b0 < nb; b0++, n_cmp++) {
                st = score_embedding(a, i, J[2 * (n_al + f) + 1].out, J[2 * b0 * (1 + N_JIT)].out, gal, r, &g, &s);
                top = fmaxf(top, s);
            }
        r->sim[i] = top;
        bad |= g || !(top < a->info[i]->dissimilarity_threshold);
    }
    free(jobs), free(emb);
    if (st) return st;
    *covered = !bad && !crowd && n_ens > 0;
    r->detected_after = nf > 0;
    if (*covered) r->decision = MF_ANON_COVERED;
    snprintf(r->note, sizeof r->note, "%s (checked: %d comparisons per recognizer at %d own alignment%s and %d face%s found there)",
             *covered ? "covered by a replaced face, nothing painted" : "not covered by the replaced face",
             n_ens ? n_cmp / n_ens : 0, n_al, n_al == 1 ? "" : "s", nf, nf == 1 ? "" : "s");
    r->embeddings = (int)(a->n_emb - n_emb0);
    r->ms = now_ms() - t0;
    return MF_OK;
}

static int anon_face(mf_anon_t *a, mf_img *img, const mf_face *face, mf_anon_method method, uint64_t seed,
                     const mf_anon_galleries *gal, mf_anon_result *r);

/* (child39) a child's face (estimated under CHILD_AGE) is checked against the raised thresholds (info_child) for the
 * call: the anonymizer handles one face at a time (its scratch and counters are per anonymizer), so info[] is the
 * call's; the result says which (mf_anon_result.child_thresholds). */
int mf_anon_face(mf_anon_t *a, mf_img *img, const mf_face *face, mf_anon_method method, uint64_t seed,
                 const mf_anon_galleries *gal, mf_anon_result *r) {
    int child = a && face && a->o.tuning.child_gap > 0 && face->attr.age >= 0 && face->attr.age < CHILD_AGE;
    if (child)
        for (int i = 0; i < a->n_rec; i++) a->info[i] = &a->info_child[i];
    int st = anon_face(a, img, face, method, seed, gal, r);
    if (child)
        for (int i = 0; i < a->n_rec; i++) a->info[i] = a->info_base[i];
    if (r && !st) r->child_thresholds = child;
    return st;
}

static int anon_face(mf_anon_t *a, mf_img *img, const mf_face *face, mf_anon_method method, uint64_t seed,
                     const mf_anon_galleries *gal, mf_anon_result *r) {
    double t0 = now_ms();
    if (!a || !img || !img->data || img->c != 3 || !face || !r)
        return mf_error_set(MF_ERR_ARG, "anon: null argument or image not RGB");
    memset(r, 0, sizeof *r);
    long n_emb0 = a->n_emb;
    r->method = method;
    r->n_rec = a->n_rec;
    for (int i = 0; i < MF_ANON_MAX_RECOGNIZERS; i++) r->sim[i] = r->gallery_sim[i] = -2;
    r->age_before = face->attr.age, r->gender_before = face->attr.gender, r->age_after = -1;
    r->donor = -1;
    if (method == MF_ANON_DONOR && a->n_donor == 0) return mf_error_set(MF_ERR_ARG, "anon: donor method without donors");
    /* (fall30) a mesh off its detection's points: the check analyser's face there, if one fits (refit_face) */
    mf_face refit;
    if (method < MF_ANON_BLUR) {
        int found = 0, st0 = 0;
        refit = *face;
        if ((st0 = mf_anon_refit(a, img, &refit, &found))) return st0;
        if (found) face = &refit, r->refit = 1;
    }
    const mf_face_box *b = face->has_landmarks ? &face->lm.box : &face->det;
    if (!isfinite(b->x) || !isfinite(b->y) || !(b->w > 0) || !(b->h > 0) || b->w > 16.f * img->w || b->h > 16.f * img->h)
        return mf_error_set(MF_ERR_ARG, "anon: face box not usable");
    float fs = fmaxf(b->w, b->h);
    job j;
    memset(&j, 0, sizeof j);
    j.fs = fs;
    j.rpool = a->reference ? NULL : a->o.pool;
    j.no_cache = a->reference;
    /* the checks look at the face with 0.6 face sizes of context (what the detector needs); the rendering only
     * changes the face and what its moved outline drags along (WARP_FALLOFF), so it works on a smaller region */
    for (int pass = 0; pass < 2; pass++) {
        float mg = (pass ? CHECK_MARGIN : RENDER_MARGIN) * fs, bx0 = b->x, by0 = b->y, bx1 = b->x + b->w, by1 = b->y + b->h;
        if (!pass && face->has_landmarks) /* around the mesh itself (a rolled face's corners leave its box) */
            for (int v = 0; v < NV; v++) {
                float px = face->lm.pt[v][0], py = face->lm.pt[v][1];
                if (!isfinite(px) || !isfinite(py)) continue;
                bx0 = fminf(bx0, px), by0 = fminf(by0, py), bx1 = fmaxf(bx1, px), by1 = fmaxf(by1, py);
            }
        bx0 = fmaxf(bx0, b->x - fs), by0 = fmaxf(by0, b->y - fs), bx1 = fminf(bx1, b->x + b->w + fs), by1 = fminf(by1, b->y + b->h + fs);
        int x0 = (int)floorf(bx0 - mg), y0 = (int)floorf(by0 - mg), x1 = (int)ceilf(bx1 + mg), y1 = (int)ceilf(by1 + mg);
        x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > img->w ? img->w : x1, y1 = y1 > img->h ? img->h : y1;
        if (x1 - x0 < 2 || y1 - y0 < 2) return mf_error_set(MF_ERR_ARG, "anon: face outside the image");
        if (pass) j.cx0 = x0, j.cy0 = y0, j.cw = x1 - x0, j.ch = y1 - y0;
        else j.ox = x0, j.oy = y0, j.w = x1 - x0, j.h = y1 - y0;
    }
    int st = mf_fimg_from_img(img, j.ox, j.oy, j.w, j.h, &j.O);
    if (st) return st;
    float (*eorig)[1024] = calloc(MF_ANON_MAX_RECOGNIZERS, sizeof *eorig);
    int k = a->m->ks + a->m->kt;
    size_t D = (size_t)a->m->T * a->m->T * 3;
    j.tex = malloc(sizeof(float) * D);
    j.z = calloc((size_t)k + 1, sizeof(float));
    float *zt_buf = calloc((size_t)k + 1, sizeof(float));
    j.zc = calloc((size_t)k + 1, sizeof(float));
    if (!eorig || !j.tex || !j.z || !zt_buf || !j.zc) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    j.ejit = st ? NULL : calloc(MF_ANON_MAX_RECOGNIZERS, sizeof *j.ejit);
    j.ej = st ? NULL : calloc(EMB_JOBS, sizeof *j.ej);
    j.eb = st ? NULL : malloc(EMB_JOBS * sizeof *j.eb);
    if (!st && (!j.ejit || !j.ej || !j.eb)) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    /* the original at its own alignment (every recognizer) and at the jittered ones of the guarantee (the
     * ensemble's), one batch on both threads: before anything reads them; a synthetic face with two threads runs
     * them beside its first draw's rendering, which needs none of them (emb_run_beside_render) */
    int n_setup = 0, setup_done = 0;
    /* (jit30) tuning.jitter_skip: where it may apply (a synthetic face without a gallery, not cut by the border, not
     * checked in the attacker's square, turned less than JIT_SKIP_MAX_YAW), the original's jittered embeddings are
     * left to the first check that needs them (ensure_ejit) */
    float cut_tmp;
    int attack = a->o.tuning.attack_all > 0 ||
                 (a->o.tuning.attack_all == 0 && (fabsf(remainderf(face->lm.roll, 360.0f)) >= ATTACK_ROLL ||
                                                  (face->has_landmarks && fabsf(face->lm.yaw) >= ATTACK_YAW)));
    j.jit_skip = a->o.tuning.jitter_skip > 0 && method == MF_ANON_SYNTH && !(gal && gal->per_rec) && !attack &&
                 face->has_landmarks && fabsf(face->lm.yaw) < JIT_SKIP_MAX_YAW && !face_cut(face, img->w, img->h, &cut_tmp);
    j.jit_lazy = j.jit_skip;
    if (!st) {
        float p5[5][2];
        mf_face_5pt(face, p5);
        for (int i = 0; i < a->n_rec; i++)
            for (int q = -1; q < (rec_jitters(a, i) && !j.jit_lazy ? N_JIT : 0); q++) {
                emb_job *jb = &j.ej[n_setup++];
                jb->rec = i, jb->img = img, jb->ref = NULL, jb->out = q < 0 ? eorig[i] : j.ejit[i][q];
                if (q >= 0) mf_anon_jitter5(p5, q, jb->p);
                else memcpy(jb->p, p5, sizeof jb->p);
            }
        if (method != MF_ANON_SYNTH) st = emb_run(a, j.ej, n_setup, 0, &setup_done), setup_done = 1;
    }
    mf_fimg res, relaxed, best; /* relaxed: the best identity-removing draw that missed age or gender; best: the
                                   passing draw farthest below the thresholds so far */
    memset(&res, 0, sizeof res), memset(&relaxed, 0, sizeof relaxed), memset(&best, 0, sizeof best);
    mf_fimg veil; /* (veil44) the draw rejected by an ensemble recognizer nearest its threshold */
    memset(&veil, 0, sizeof veil);
    float veil_x = FLT_MAX; /* its excess over the threshold, in gaps to the match threshold */
    mf_fimg fmask; /* the face ellipse of the flattened rungs */
    memset(&fmask, 0, sizeof fmask);
    mf_anon_result best_r;
    char draws[MF_ANON_DRAW_LOG] = ""; /* (draws20) the draw log, copied into r at the end */
    float draw_val[MF_ANON_DRAW_LOG], draw_age[MF_ANON_DRAW_LOG];
    signed char draw_rung[MF_ANON_DRAW_LOG];
    for (int q = 0; q < MF_ANON_DRAW_LOG; q++) draw_val[q] = -2, draw_age[q] = -1, draw_rung[q] = -1;
    int best_ok = 0, last_try = a->o.max_tries;
    int n_leap = 0; /* (draws20, tuning.leap) gentle rungs skipped */
    float best_m = -FLT_MAX, best_ax = 0; /* the held passing draw's margin and age miss (age41) */
    int accepted = 0;
    char why[160] = "";
    int renderable = face->has_landmarks && face->lm.score >= 0.5f && fabsf(face->lm.yaw) <= MAX_YAW_RENDER && fs >= 12;
    if (!st && method >= MF_ANON_BLUR) { /* baselines */
        mf_fimg mask;
        st = mf_fimg_init(&mask, j.w, j.h, 1);
        if (!st) {
            ellipse_mask(face, j.ox, j.oy, &mask);
            st = mf_fimg_copy(&j.O, &res);
            if (!st) st = filter_region(&res, &mask, method, fs);
            if (!st) st = mf_fimg_to_img(&res, NULL, img, j.ox, j.oy);
            if (!st) check(a, img, &j, face, eorig, gal, r, why, sizeof why, NULL);
        }
        mf_fimg_free(&mask);
        r->decision = MF_ANON_BASELINE;
        goto done;
    }
    if (!st && !renderable)
        snprintf(r->note, sizeof r->note, "not renderable (%s)",
                 face->way_up_doubtful ? "way up in doubt" : !face->has_landmarks ? "no mesh" : face->lm.score < 0.5f ? "mesh does not fit" : fs < 12 ? "too small" : "profile view");
    if (!st && renderable && !mesh_fits_detection(face, r->note, sizeof r->note)) renderable = 0; /* beside the face */
    /* (cut14) a face cut by the border: its draws are also checked in the attacker's square (attack_check); cut by
     * more than CUT_FALLBACK_OUT of its box (or any cut with tuning.cut_check 2), the fallback filter without a draw */
    float cut_out = 0;
    int is_cut = !st && renderable && face_cut(face, img->w, img->h, &cut_out);
    if (!st && renderable && !is_cut && attack && face->det.w > 0 && face->det.h > 0) {
        /* (attack14) an uncut turned face (every uncut face with tuning.attack_all 1): one attacker's square, twice
         * the detection box, turned upright */
        j.box[0][0] = face->det.x, j.box[0][1] = face->det.y, j.box[0][2] = face->det.w, j.box[0][3] = face->det.h;
        j.ctx[0] = ATTACK_CONTEXT;
        j.roll = face->lm.roll;
        j.easq = calloc(ATTACK_BOXES, sizeof *j.easq);
        if (!j.easq) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        if (!st) st = mf_anon_attack_square(img, j.box[0], j.roll, j.ctx[0], ATTACK_SQ, &j.asq[0]);
        if (!st) j.n_asq = 1, j.cut = 1;
    }
    if (!st && renderable && a->o.tuning.cut_check > 0 && is_cut) {
        if (a->o.tuning.cut_check == 2 || cut_out > CUT_FALLBACK_OUT) {
            renderable = 0;
            snprintf(r->note, sizeof r->note, "not renderable (cut by the border: %.0f %% of the box outside)", 100 * cut_out);
        } else {
            /* the detector's box (what an attacker's detector finds), then the mesh's when it differs */
            const mf_face_box *d = &face->det, *m = &face->lm.box;
            float dfs = fmaxf(d->w, d->h), mfs = fmaxf(m->w, m->h);
            int use_d = d->w > 0 && d->h > 0, n = 0;
            for (int w = 0; use_d && w < 2; w++, n++)
                j.box[n][0] = d->x, j.box[n][1] = d->y, j.box[n][2] = d->w, j.box[n][3] = d->h,
                j.ctx[n] = w ? ATTACK_WIDE : ATTACK_CONTEXT;
            if (!use_d || fabsf(mfs - dfs) > ATTACK_SAME * dfs ||
                hypotf(m->x + m->w / 2 - d->x - d->w / 2, m->y + m->h / 2 - d->y - d->h / 2) > ATTACK_SAME * dfs)
                j.box[n][0] = m->x, j.box[n][1] = m->y, j.box[n][2] = m->w, j.box[n][3] = m->h, j.ctx[n++] = ATTACK_CONTEXT;
            j.roll = face->lm.roll;
            j.easq = calloc(ATTACK_BOXES, sizeof *j.easq);
            if (!j.easq) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            for (int q = 0; !st && q < n; q++, j.n_asq = q)
                st = mf_anon_attack_square(img, j.box[q], j.roll, j.ctx[q], ATTACK_SQ, &j.asq[q]);
            j.cut = !st;
        }
    }
    if (!st && renderable) {
        for (int v = 0; v < NV; v++)
            for (int c = 0; c < 3; c++) j.P[3 * v + c] = face->lm.pt[v][c] - (c == 0 ? j.ox : c == 1 ? j.oy : 0);
        /* texture scale: the distance between the eye centres in the image vs in the texture layout */
        {
            float ie = 0, it = 0, ce[2][2] = {{0}}, ct[2][2] = {{0}};
            for (int i = 0; i < 16; i++)
                for (int k2 = 0; k2 < 2; k2++) {
                    ce[0][k2] += j.P[3 * mf_anon_loop_reye[i] + k2] / 16, ce[1][k2] += j.P[3 * mf_anon_loop_leye[i] + k2] / 16;
                    ct[0][k2] += a->m->uv[2 * mf_anon_loop_reye[i] + k2] / 16, ct[1][k2] += a->m->uv[2 * mf_anon_loop_leye[i] + k2] / 16;
                }
            ie = hypotf(ce[0][0] - ce[1][0], ce[0][1] - ce[1][1]), it = hypotf(ct[0][0] - ct[1][0], ct[0][1] - ct[1][1]);
            j.tex_scale = it > 0 ? ie / it : 1;
        }
        if (mf_fit_similarity(a->m->shape_mean, j.P, NULL, NV, &j.s, j.R, j.t)) {
            renderable = 0;
            snprintf(r->note, sizeof r->note, "mesh degenerate");
        } else {
            st = skin_map(&j.O, j.P, fs, a->o.tuning.spots, &j.skin, &j.skin_y);
            /* (looks32) the photo's openings' dark quarter: no iris in them (a lid the mesh took for an opening) */
            if (!st) st = openings_quantile(&j, EYE_OPEN_Q, j.eye_dark);
            if (!st && !a->force_similar) { /* the target's own identity codes: draws move away from them */
                unwrap(a, &j.O, j.P, j.tex);
                st = project_target(a->m, j.P, j.s, j.R, j.t, a->o.tuning.target_unlit > 0, j.tex, zt_buf);
                j.zt = zt_buf;
                /* (turn20) a turned face's mesh brought into the frontal frame is pose as much as identity (the
                 * codes' norm: median 7.2 below 20 degrees of yaw, 12.8 beyond 35): pushed away from and taken out,
                 * it turned the draws towards frontal; its shape codes fade out from POSE_FADE_FROM degrees */
                if (a->o.tuning.pose_fade > 0) {
                    float u = (fabsf(face->lm.yaw) - POSE_FADE_FROM) / (a->o.tuning.pose_fade - POSE_FADE_FROM);
                    u = u < 0 ? 0 : u > 1 ? 1 : u;
                    float wz = 1 - u * u * (3 - 2 * u);
                    for (int c = 0; c < a->m->ks; c++) zt_buf[c] *= wz;
                }
                /* children: their own proportions (large eyes and forehead, small nose and chin) are what makes
                 * them look their age; the identity change stays in the texture and the drawn shape */
                j.child = face->attr.age >= 0 && face->attr.age < CHILD_AGE;
                j.replace = j.child && !(a->o.tuning.child_push & 2) ? 0 : SHAPE_REPLACE;
            }
        }
        if (!st) st = mf_fimg_copy(&j.O, &j.fine);
        if (!st) st = mf_render_blur(&j.fine, NULL, fmaxf(0.7f, 0.004f * fs));
        if (!st) { /* sunglasses: the lids are not skin; then the eyes stay the photo's (the lenses stay in front) */
            int *lt = malloc(sizeof(int) * 3 * (size_t)a->m->n_tri);
            mf_fimg cov, depth, dummy;
            if (!lt || mf_fimg_init(&cov, j.w, j.h, 1)) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            else if (mf_fimg_init(&depth, j.w, j.h, 1)) {
                mf_fimg_free(&cov);
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            } else if (mf_fimg_init(&dummy, j.w, j.h, 1)) {
                mf_fimg_free(&cov), mf_fimg_free(&depth);
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            } else {
                float lid_skin, ring;
                st = skin_over(a, a->tri_lid, NULL, j.P, &j.skin, lt, &depth, &dummy, &cov, &lid_skin);
                j.eyes_occluded = lid_skin >= 0 && lid_skin < 0.45f;
                /* (lens35) and no eye white in the openings, unless the lids are hardly skin at all */
                if (j.eyes_occluded && a->o.tuning.lens_bright > 0 && lid_skin >= LENS_SURE) {
                    float br[2] = {-1, -1};
                    if (!st) st = openings_quantile(&j, LENS_Q, br);
                    if (!st && fmaxf(br[0], br[1]) >= a->o.tuning.lens_bright) j.eyes_occluded = 0;
                }
                /* (lens37) and no skin around the lids, unless the lids are hardly skin at all */
                if (!st && j.eyes_occluded && a->o.tuning.lens_ring > 0 && lid_skin >= LENS_SURE) {
                    st = skin_over(a, a->tri_eyezone, a->tri_lid, j.P, &j.skin, lt, &depth, &dummy, &cov, &ring);
                    if (!st && ring >= a->o.tuning.lens_ring) j.eyes_occluded = 0;
                }
                /* and then the whole eye zone at the original's position is the lenses' (not skin): a tinted lens
                 * passes the skin test where it is light, and the new skin drawn there read as the face seen
                 * through half-transparent sunglasses */
                if (!st && j.eyes_occluded) {
                    int *ft = malloc(sizeof(int) * 3 * (size_t)a->m->n_tri);
                    mf_fimg_fill(&cov, 0);
                    st = ft ? cover_flagged(a, a->tri_eyezone, j.P, j.P, ft, &depth, &dummy, &cov)
                            : mf_error_set(MF_ERR_NOMEM, "out of memory");
                    free(ft);
                    if (!st) st = mf_fimg_copy(&cov, &j.lens_keep);
                    if (!st) st = mf_render_blur(&cov, NULL, fmaxf(1, 0.015f * fs));
                    for (size_t i = 0; !st && i < (size_t)j.w * j.h; i++) j.skin.data[i] *= 1 - fminf(1, 2 * cov.data[i]);
                    /* (lens53) and the rest of the lenses: what is not skin, connected to the eye zone, near the
                     * eyes; nothing is forced over them either (render_draw) */
                    if (!st && a->o.tuning.lens_fill > 0) st = lens_grow(&j, a->o.tuning.lens_fill);
                }
                /* glasses: the skin probability over the nose bridge between the eyes (mesh points 168, 6) */
                double gs = 0;
                long gn = 0;
                int gr = (int)(0.03f * fs) + 1;
                for (int q = 0; q < 2; q++) {
                    int gx = (int)j.P[3 * (q ? 6 : 168)], gy = (int)j.P[3 * (q ? 6 : 168) + 1];
                    for (int dy = -gr; dy <= gr; dy++)
                        for (int dx = -gr; dx <= gr; dx++)
                            if (gx + dx >= 0 && gy + dy >= 0 && gx + dx < j.w && gy + dy < j.h)
                                gs += j.skin.data[(size_t)(gy + dy) * j.w + gx + dx], gn++;
                }
                j.glasses = gn > 0 && gs / gn < 0.8;
                mf_fimg_free(&cov), mf_fimg_free(&depth), mf_fimg_free(&dummy);
            }
            free(lt);
        }
        if (!st) {
            size_t n = (size_t)j.w * j.h * 3;
            for (size_t i = 0; i < n; i++) {
                float f = j.O.data[i] - j.fine.data[i];
                j.fine.data[i] = f > FINE_CLAMP ? FINE_CLAMP : f < -FINE_CLAMP ? -FINE_CLAMP : f;
            }
            /* how grainy the photo's skin is (inner face, skin pixels): the model's detail layer follows it, so a
             * smooth (retouched, soft-focus) photo does not get rough skin and a sharp one does not get plastic skin */
            double s2 = 0;
            long cnt = 0;
            float cx = b->x + b->w / 2 - j.ox, cy = b->y + b->h / 2 - j.oy;
            for (int y = 0; y < j.h; y++)
                for (int x = 0; x < j.w; x++) {
                    float u = (x + 0.5f - cx) / (0.3f * b->w), v = (y + 0.5f - cy) / (0.35f * b->h);
                    size_t o = (size_t)y * j.w + x;
                    if (u * u + v * v > 1 || j.skin.data[o] < 0.5f) continue;
                    const float *f = j.fine.data + 3 * o;
                    float g = 0.299f * f[0] + 0.587f * f[1] + 0.114f * f[2];
                    s2 += g * g, cnt++;
                }
            j.grain = cnt > 16 ? (float)sqrt(s2 / cnt) : GRAIN_REF;
        }
    }
    float age = face->attr.age >= 0 ? face->attr.age : a->m->age_mean;
    float pm = face->attr.gender != MF_GENDER_UNKNOWN ? face->attr.p_male : 0.5f;
    float logit = pm >= 0.5f ? (pm > 0.7f ? 2.5f : 0.5f) : (pm < 0.3f ? -2.5f : -0.5f);
    float age_draw = age; /* the age asked of the model, corrected by what the checks estimate on each draw */
    if (face->attr.age >= 0) age_draw = mf_anon_age_ask(age, a->m->age_mean, a->o.tuning.age_stretch); /* (age41) */
    mf_anon_result relaxed_r;
    int relaxed_ok = 0;
    float relaxed_err = 0;
    char relaxed_why[160] = "";
    j.yaw = face->has_landmarks ? face->lm.yaw : 0;
    if (!st && !setup_done && !(renderable && a->par)) st = emb_run(a, j.ej, n_setup, 0, &setup_done), setup_done = 1;
    int n_failed = 0, n_rejected = 0; /* failed draws; of them, rejected by an ensemble recognizer (or the gallery) */
    int n_stay = 0;                   /* (stay46) draws that missed only age or gender and did not climb */
    float det_k = 1;                  /* (adet46) the detail layer's factor from the age reads so far */
    /* the flattened last rungs (anon12a) follow the ladder only when no draw removed the identity (none passed,
     * none is kept for the synthetic fallback): then the filter would come next */
    int n_flat = method == MF_ANON_SYNTH ? a->o.tuning.flat_rungs : 0;
    /* (last33) the last-resort rung comes first (before the flattened rungs): last_rungs draws for an adult,
     * (kid44) child_last for a child */
    int is_child = face->attr.age >= 0 && face->attr.age < CHILD_AGE;
    int n_last = method != MF_ANON_SYNTH ? 0 : is_child ? a->o.tuning.child_last : a->o.tuning.last_rungs;
    int n_more = n_last + n_flat;
    /* (kid49) tuning.child_strong -1: a child's draws end where the strong rung would begin (not with keep_eyes < 0,
     * strong on every draw); child_end says so in the fallback's note */
    int child_no_strong = is_child && a->o.tuning.child_strong < 0 && method == MF_ANON_SYNTH && !a->force_similar &&
                          a->o.tuning.keep_eyes >= 0;
    int child_end = 0;
    for (int tr = 0; !st && renderable && (tr < last_try || (tr < a->o.max_tries + n_more && !best_ok && !relaxed_ok));
         tr++) {
        int flat = tr >= a->o.max_tries + n_last, last_rung = !flat && tr >= a->o.max_tries;
        uint64_t rng = seed * 0x9e3779b97f4a7c15ull + (uint64_t)tr * 0x632be59bd9b4e019ull + 0x1234567ull;
        /* the ladder (ladder.c) climbs with the draws that failed, never with the extra draws after a passing one:
         * those are alternatives of the same rung (picking the farthest among stronger draws chose distorted faces) */
        mf_anon_rung rung;
        /* (draws20) after skipped rungs the ladder stops at its last rung (main's 9th draw's) until main's own count
         * of failed draws goes beyond it (the flattened rungs) */
        int e_top = a->o.max_tries - 1, e_main = n_failed - n_leap;
        int e_rung = n_leap && n_failed > e_top ? (e_main > e_top ? e_main : e_top) : n_failed;
        /* (last33) the last-resort draws: held at the last rung (1) or the first strong one (3), or climbing on (2) */
        int lmode = last_rung ? a->o.tuning.last_mode : 0;
        if (lmode == 1) e_rung = e_rung < e_top ? e_rung : e_top;
        if (lmode == 3) e_rung = (a->o.max_tries + 2) / 3;
        mf_anon_ladder_step(&a->o.tuning, a->o.max_tries, e_rung, n_rejected, &rung);
        if (lmode == 1 || lmode == 3) rung.ncand = LAST_NCAND;
        if (rung.strong && child_no_strong) {
            child_end = 1;
            break;
        }
        j.last_rung = last_rung;
        j.strong = rung.strong;
        /* (turn20) a turned face keeps the gentle light and grain on the strong rung: the broad light (3x the
         * low-pass) took the half-lit face's shading gradient away, and the face read as turned less */
        if (rung.strong && a->o.tuning.turn_light > 0 && fabsf(j.yaw) >= a->o.tuning.turn_light)
            rung.shade /= mf_anon_strong_shade(&a->o.tuning), rung.fine /= mf_anon_strong_fine(&a->o.tuning);
        /* the identity's codes (draw.c): the anti-face push and the farthest of rung.ncand candidates by default;
         * tuning.unlinked 1: unlinkable draws for the first two thirds of the draws, 2: always */
        int unl = a->o.tuning.unlinked > 1 || (a->o.tuning.unlinked == 1 && 3 * n_failed < 2 * a->o.max_tries);
        /* (light37) the light and tone codes kept: on every draw (light_keep 1) or the strong ones (2), not on the
         * last-resort draws, which push every code (the faces whose side light had to be turned to pass arcface);
         * 3: on every draw, the last-resort ones too */
        int lk = a->o.tuning.light_keep;
        const uint8_t *keep = a->keep_codes && (lk == 3 || (!last_rung && (lk == 1 || rung.strong))) ? a->keep_codes : NULL;
        rung.metric = a->o.tuning.push_metric; /* (push38) draw.c uses it only when the model has a metric */
        rung.band = a->band_w; /* (band48) */
        rung.feat = a->feat_w, rung.feat_hold = a->o.tuning.feature_hold; /* (feat50) */
        rung.feat_dark = a->o.tuning.feature_dark; /* (dark55) */
        rung.feat_pick = a->o.tuning.feature_pick; /* (pick55) */
        rung.feat_near = a->o.tuning.feature_pick_near; /* (pick56) */
        const float *zt_push = j.child && !(a->o.tuning.child_push & 1) ? NULL : j.zt; /* (kid43) */
        mf_anon_draw_identity(a->m, &rng, age_draw, logit, &rung, zt_push, unl, keep, j.zc, j.z);
        if (a->col_w && j.zt) /* tuning.tone_codes on */
            mf_anon_tone_codes(a->m, a->col_w, a->col_b, j.zt, age_draw, logit, a->o.tuning.tone_codes, j.z);
        const mf_anon_model_t *m = a->m;
        if (a->force_similar) { /* testing hook: the target's own texture, no shape change */
            unwrap(a, &j.O, j.P, j.tex);
            memset(j.z, 0, sizeof(float) * (size_t)k);
        } else if (method == MF_ANON_DONOR) {
            int d = pick_donor(a, eorig, age, pm, tr); /* the most dissimilar donor first */
            if (d < 0) {
                st = mf_error_set(MF_ERR_NOMEM, "out of memory");
                break;
            }
            r->donor = d;
            memcpy(j.tex, a->donor_tex + D * d, sizeof(float) * D);
        } else {
            /* mean + components, in bands of texels over the pool (each texel sums its components in order) */
            tex_ctx tc = {m, j.z, j.tex, D};
            par_rows(j.rpool, tex_rows, &tc, TEX_BANDS);
            if (m->nd > 0) {
                float gr = j.grain / GRAIN_REF;
                float damp = det_k * a->o.tuning.detail_amp * (gr < 0.15f ? 0.15f : gr > 1 ? 1 : gr);
                /* a different detail layer on each draw (rung.detail_step), from a seed-chosen first one */
                uint64_t d0 = mf_anon_rng_next(&rng);
                if (rung.detail_step) {
                    uint64_t rs = seed * 0x9e3779b97f4a7c15ull + 0x51ed27ull;
                    d0 = mf_anon_rng_next(&rs) + (uint64_t)tr;
                }
                /* (age47) among the maps of the age group nearest the original's (or the asked) age */
                int dag = a->o.tuning.detail_ages;
                int d = mf_anon_detail_pick(m, dag < 0 ? -1 : dag == 2 ? age_draw : face->attr.age, d0);
                const float *dm = m->detail + (size_t)d * m->T * m->T;
                /* (beard56) a woman's draw: below the nose's row (fading in over BEARD_FADE) the grain is scaled by
                 * tuning.detail_beard (-1: off) */
                float fb = logit < 0 ? a->o.tuning.detail_beard : -1;
                float top = m->uv[2 * BEARD_TOP_V + 1], fade = BEARD_FADE * m->T;
                for (size_t i = 0; i < D / 3; i++) {
                    float g = damp;
                    if (fb >= 0) {
                        float t = ((int)(i / (size_t)m->T) + 0.5f - top) / fade;
                        g = damp * (1 - (1 - fb) * (t < 0 ? 0 : t > 1 ? 1 : t));
                    }
                    for (int c = 0; c < 3; c++) j.tex[3 * i + c] += g * dm[i];
                }
            }
            /* (brow48) brows no lighter than their skin */
            if (a->brow_w)
                mf_anon_brow_clamp(m, a->brow_w, a->brow_ref, a->o.tuning.brow_dark, a->o.tuning.brow_gate, j.tex);
            /* (lip57) the skin under the nose no darker than the mean face's there */
            if (a->lip_w) mf_anon_philtrum_lift(m, a->lip_w, a->lip_ref, a->o.tuning.philtrum_floor, j.tex);
        }
        for (int p = 0; p < a->m->T * a->m->T; p++) /* outside the mesh: the nearest texel inside */
            if (a->tri_of[p] < 0 && a->fill_src[p] >= 0) memcpy(j.tex + 3 * (size_t)p, j.tex + 3 * (size_t)a->fill_src[p], sizeof(float) * 3);
        /* the strong rung (ladder.c: the last third of the draws, after ensemble rejections) draws the eyes from the
         * model and keeps only the broad light and less grain; the rungs before it keep the photo's eyes */
        int strong = rung.strong;
        int keep_eyes = a->o.tuning.keep_eyes > 0 || !strong || j.eyes_occluded || mf_anon_strong_eyes(&a->o.tuning);
        /* (looks32) openings that hold no eye (a lowered lid under pale make-up): the model's eyes on every rung */
        if (keep_eyes && a->o.tuning.keep_eyes <= 0 && !j.eyes_occluded && mf_anon_eye_lid(&a->o.tuning, j.eye_dark))
            keep_eyes = 0;
        /* minification without aliasing: a face smaller than the texture samples a pre-blurred texture (the
         * rasteriser samples bilinearly; without this small faces get harsh, noisy skin) */
        if (j.tex_scale < 0.9f) {
            mf_fimg tf = {a->m->T, a->m->T, 3, j.tex};
            mf_render_blur(&tf, NULL, 0.5f / j.tex_scale);
        }
        float gain = a->force_similar ? 0 : rung.gain, shade = rung.shade, fine = rung.fine;
        mf_fimg_free(&res);
        double t1 = now_ms();
        int rst;
        double t_beside = -1; /* the first draw's render beside the embeddings: its own time (the rest is setup) */
        if (!setup_done) { /* the first draw: the original's embeddings beside it */
            rst = render_beside_setup(a, &j, gain, shade, fine, keep_eyes || a->force_similar, &res, n_setup, &st,
                                      &t_beside);
            setup_done = 1;
            if (st) break;
        } else
            rst = render_draw(a, &j, j.tex, gain, shade, fine, keep_eyes || a->force_similar, &res);
        if ((st = rst)) {
            if (st == MF_ERR_NOMEM) break;
            /* a face the renderer cannot handle still loses its identity: the fallback below */
            snprintf(why, sizeof why, "render failed: %.100s", mf_error_get());
            st = MF_OK;
            mf_fimg_to_img(&j.O, NULL, img, j.ox, j.oy);
            break;
        }
        if (flat) { /* the coarse relief inside the face ellipse replaced by the new face's broad light */
            if (!fmask.data && (st = mf_fimg_init(&fmask, j.w, j.h, 1))) break;
            ellipse_mask(face, j.ox, j.oy, &fmask);
            float amt = tr == a->o.max_tries + n_last ? a->o.tuning.flat_amount : 1;
            if ((st = flatten_light(&res, &fmask, fs, a->o.tuning.flat_sigma, amt))) break;
        }
        if ((st = mf_fimg_to_img(&res, NULL, img, j.ox, j.oy))) break;
        r->tries = tr + 1;
        double t2 = now_ms();
        /* the looks gates: a draw refused on its looks is drawn again on the same rung before any check, not a
         * failed draw, never a synthetic fallback. (tone35) a strong draw whose skin varies far more than the
         * photo's (burnt brows, dark sockets, blotches): 'T'; (lap46, off by default) a draw whose skin is far
         * rougher than the photo's (glowing bands, ghost eyes, a sawtooth jaw): 'L' */
        char looks = 0;
        float lv = 0;
        if (strong && a->o.tuning.strong_contrast > 0 && !a->force_similar && method == MF_ANON_SYNTH &&
            (lv = probe_contrast(&j, &res)) > a->o.tuning.strong_contrast)
            looks = 'T';
        if (!looks && a->o.tuning.lap_max > 0 && !a->force_similar && method == MF_ANON_SYNTH &&
            (lv = skin_lap_ratio(&j, &res)) > a->o.tuning.lap_max)
            looks = 'L';
        if (looks) {
            if (tr < MF_ANON_DRAW_LOG - 1)
                draws[tr] = looks, draw_val[tr] = lv, draw_age[tr] = -1, draw_rung[tr] = (signed char)e_rung;
            snprintf(why, sizeof why, "looks: the new skin's %s %.1fx the photo's",
                     looks == 'T' ? "contrast" : "Laplacian", lv);
            r->ms_render += t_beside >= 0 ? t_beside : t2 - t1;
            continue;
        }
        int id_ok = 0;
        /* the loop's condition for a next draw, as it stands if this draw is rejected by its identity check (a
         * rejected draw sets neither best_ok nor relaxed_ok) */
        j.last = !(tr + 1 < last_try || (tr + 1 < a->o.max_tries + n_more && !best_ok && !relaxed_ok));
        int ok = check(a, img, &j, face, eorig, gal, r, why, sizeof why, &id_ok);
        if (ok >= 0 && tr < MF_ANON_DRAW_LOG - 1)
            draws[tr] = ok ? 'o' : j.code ? j.code : '?', draw_val[tr] = j.code_val, draw_age[tr] = r->age_after,
            draw_rung[tr] = (signed char)e_rung;
        r->strong = strong, r->flat = flat, r->last_rung = last_rung;
        r->linkable = !unl && zt_push && method == MF_ANON_SYNTH && !a->force_similar; /* pushed from the own codes */
        r->ms_render += t_beside >= 0 ? t_beside : t2 - t1, r->ms_check += now_ms() - t2;
        if (ok < 0) {
            st = ok;
            break;
        }
        if (ok) { /* published at once when far enough below every threshold and near the original's age, else the
                   * best of a few more */
            float mg = id_margin(a, r);
            int margin_on = a->o.tuning.accept_margin > 0 && a->o.tuning.extra_draws > 0 && !a->force_similar;
            int m_low = margin_on && mg < a->o.tuning.accept_margin;
            /* (age41) the age read's miss beyond tuning.age_soft */
            float ax = 0;
            if (a->o.tuning.age_soft > 0 && a->o.tuning.age_draws > 0 && !a->force_similar && method == MF_ANON_SYNTH &&
                face->attr.age >= 0 && r->age_after >= 0)
                ax = fmaxf(0, fabsf(r->age_after - face->attr.age) - a->o.tuning.age_soft);
            if (!m_low && ax <= 0) {
                accepted = 1;
                break;
            }
            if (tr < MF_ANON_DRAW_LOG - 1) draws[tr] = ax > 0 ? 'y' : 'm', draw_val[tr] = ax > 0 ? r->age_after : -2;
            int extra = m_low ? a->o.tuning.extra_draws : 0;
            if (ax > 0 && a->o.tuning.age_draws > extra) extra = a->o.tuning.age_draws;
            if (!best_ok) last_try = tr + 1 + extra < last_try ? tr + 1 + extra : last_try;
            if (!best_ok || ax < best_ax || (ax == best_ax && mg > best_m)) {
                mf_fimg_free(&best);
                if (!mf_fimg_copy(&res, &best)) best_ok = 1, best_m = mg, best_ax = ax, best_r = *r;
            }
            if (ax > 0) age_draw = age_feedback(face, r, a->o.tuning.age_soft, a->o.tuning.age_step, age_draw);
            continue;
        }
        /* (veil44) the draw an ensemble recognizer rejected nearest its threshold, kept for the veil */
        if (a->o.tuning.veil > 0 && method == MF_ANON_SYNTH && !a->force_similar && j.code_rec >= 0 &&
            a->info[j.code_rec]->ensemble && strchr("AaFfP", j.code) && veil_like(a, face, r)) {
            const mf_face_recognizer_info *inf = a->info[j.code_rec];
            float gap = inf->match_threshold - inf->dissimilarity_threshold;
            float x = gap > 0 ? (j.code_val - inf->dissimilarity_threshold) / gap : FLT_MAX;
            if (x < veil_x) {
                mf_fimg_free(&veil);
                if (!mf_fimg_copy(&res, &veil)) veil_x = x;
                else veil_x = FLT_MAX;
            }
        }
        /* (turn20) a draw that removed the identity but lost the pose is drawn again on the same rung: a stronger
         * rendering turns a face further towards frontal, it does not keep the pose */
        int pose_lost = id_ok && pose_moved(a, face, r);
        /* (stay46) a draw that removed the identity but missed only age or gender stays on its rung */
        int stay = id_ok && !pose_lost && (j.code == 'Y' || j.code == 'X') && n_stay < a->o.tuning.attr_stay &&
                   !last_rung && !flat;
        n_stay += stay;
        if (!best_ok && !pose_lost && !stay) n_failed++, n_rejected += r->detected_after && !id_ok;
        /* (draws20, tuning.leap; ladder.c) a gentle draw rejected far over an ensemble threshold: the next draw is
         * the ladder's first strong rung, the rungs skipped are taken from the face's draws */
        if (!best_ok && j.code_rec >= 0) {
            const mf_face_recognizer_info *inf = a->info[j.code_rec];
            float gap = inf->match_threshold - inf->dissimilarity_threshold;
            int skip = gap > 0 ? mf_anon_ladder_leap(&a->o.tuning, a->o.max_tries, n_failed,
                                                     (j.code_val - inf->dissimilarity_threshold) / gap)
                               : 0;
            n_failed += skip, n_rejected += skip, n_leap += skip;
        }
        /* feedback for the next draw: an estimated age off by d moves the drawn age by -0.8 d (children come out
         * older, older people younger), a lost gender pushes the gender read-out further */
        age_draw = age_feedback(face, r, 0.5f * a->o.age_tolerance, AGE_FEEDBACK, age_draw);
        if (a->o.tuning.age_detail > 0 && r->detected_after && face->attr.age >= 0 && r->age_after >= 0) {
            float d = r->age_after - face->attr.age;
            if (d > 0.5f * a->o.age_tolerance) det_k *= a->o.tuning.age_detail;
            if (d < -0.5f * a->o.age_tolerance) det_k = fminf(AGE_DETAIL_MAX, det_k / a->o.tuning.age_detail);
        }
        if (r->detected_after && r->gender_after != MF_GENDER_UNKNOWN && face->attr.gender != MF_GENDER_UNKNOWN &&
            r->gender_after != face->attr.gender)
            logit *= 1.5f;
        /* a draw that removes the identity (every ensemble check, the gallery, detected again) but misses only the
         * age or gender tolerance is kept: better than the filter if no later draw passes everything */
        float age_err = face->attr.age >= 0 && r->age_after >= 0 ? fabsf(r->age_after - face->attr.age) : 0;
        age_err += r->gender_after != face->attr.gender ? 10 : 0;
        /* (anon12a) a strong draw (model eyes, 1.6x shape, broad light: the ones that look worst) counts as
         * tuning.relaxed_strong years further off: an earlier, gentler draw whose miss is at most that much larger is
         * published instead */
        age_err += strong ? a->o.tuning.relaxed_strong : 0;
        /* (turn20) and a draw that lost the pose as POSE_RELAXED_COST years further off: a pose-keeping draw first */
        age_err += pose_lost ? POSE_RELAXED_COST : 0;
        /* (child32) a child's draw read as an adult is no synthetic fallback: the filter is published instead */
        int adult_child = a->o.tuning.child_relaxed_age > 0 && is_child &&
                          !(r->age_after >= 0 && r->age_after < a->o.tuning.child_relaxed_age);
        /* (last33) a last-resort draw is published only when it passes every check: those that removed the identity
         * but missed age or gender were the broken-looking ones (docs/anonymization.md, "Branch last33") */
        if (id_ok && !adult_child && !last_rung && (!relaxed_ok || age_err < relaxed_err)) { /* the closest so far */
            mf_fimg_free(&relaxed);
            if (!mf_fimg_copy(&res, &relaxed)) {
                relaxed_ok = 1, relaxed_r = *r, relaxed_err = age_err;
                snprintf(relaxed_why, sizeof relaxed_why, "%s", why);
            } else
                relaxed_ok = 0;
        }
    }
    if (!st && !setup_done) st = emb_run(a, j.ej, n_setup, 0, &setup_done), setup_done = 1; /* no draw made */
    if (!st && !accepted && best_ok) { /* the passing draw farthest below the thresholds */
        st = mf_fimg_to_img(&best, NULL, img, j.ox, j.oy);
        if (!st) {
            int tries = r->tries;
            double mr = r->ms_render, mc = r->ms_check;
            *r = best_r;
            r->tries = tries, r->ms_render = mr, r->ms_check = mc;
            accepted = 1;
        }
    }
    if (!st && !accepted && relaxed_ok) { /* the identity-removing synthetic face that missed age or gender */
        st = mf_fimg_to_img(&relaxed, NULL, img, j.ox, j.oy);
        if (!st) {
            int tries = r->tries;
            double mr = r->ms_render, mc = r->ms_check;
            *r = relaxed_r;
            r->tries = tries, r->ms_render = mr, r->ms_check = mc;
            r->decision = MF_ANON_FALLBACK, r->method = MF_ANON_SYNTH;
            snprintf(r->note, sizeof r->note, "synthetic fallback after %d draws%s: identity removed, but %.*s", tries,
                     child_end ? CHILD_END_NOTE : "", child_end ? 74 : 100, relaxed_why);
            accepted = 2;
        }
    }
    if (!st && !accepted && veil.data) { /* (veil44) the nearest rejected draw, blurred inside the face ellipse */
        mf_fimg mask;
        st = mf_fimg_init(&mask, j.w, j.h, 1);
        if (!st) ellipse_mask(face, j.ox, j.oy, &mask);
        float sig = a->o.tuning.veil;
        for (int vk = 0; !st && vk < VEIL_STEPS; vk++, sig *= 1.5f) {
            mf_fimg_free(&res);
            if ((st = mf_fimg_copy(&veil, &res))) break;
            if ((st = filter_region(&res, &mask, MF_ANON_BLUR, 8 * sig * fs))) break;
            if ((st = mf_fimg_to_img(&res, NULL, img, j.ox, j.oy))) break;
            int id_ok = 0;
            j.last = 1;
            int ok = check(a, img, &j, face, eorig, gal, r, why, sizeof why, &id_ok);
            if (ok < 0) {
                st = ok;
                break;
            }
            if (id_ok) {
                int tries = r->tries;
                r->decision = MF_ANON_FALLBACK, r->method = MF_ANON_SYNTH, r->strong = 0, r->flat = 0,
                r->last_rung = 0, r->linkable = 0;
                snprintf(r->note, sizeof r->note, "veiled synthetic fallback after %d draws: the draw nearest the "
                         "thresholds blurred (sigma %.3f face sizes)", tries, sig);
                accepted = 3;
                break;
            }
        }
        mf_fimg_free(&mask);
        if (!st && !accepted) mf_fimg_to_img(&j.O, NULL, img, j.ox, j.oy);
    }
    if (!st && !accepted) { /* fallback: identity-removing filter over the face ellipse */
        if (renderable)
            snprintf(r->note, sizeof r->note, "fallback after %d draws%s: %.*s", r->tries,
                     child_end ? CHILD_END_NOTE : "", child_end ? 94 : 120, why);
        mf_fimg mask;
        st = mf_fimg_init(&mask, j.w, j.h, 1);
        if (!st) {
            ellipse_mask(face, j.ox, j.oy, &mask);
            mf_fimg_free(&res);
            st = mf_fimg_copy(&j.O, &res);
            if (!st) st = filter_region(&res, &mask, MF_ANON_PIXELATE, fs * 1.4f);
            if (!st) st = filter_region(&res, &mask, MF_ANON_BLUR, fs * 0.6f);
            if (!st) st = mf_fimg_to_img(&res, NULL, img, j.ox, j.oy);
            /* the filtered face is checked too (where it is no longer detected, at the original's landmarks) */
            if (!st && check(a, img, &j, face, eorig, gal, r, why, sizeof why, NULL) == 0) {
                /* still too similar under the filter: fill the face region */
                int bad = 0;
                for (int i = 0; i < a->n_rec; i++)
                    if (a->info[i]->ensemble && r->sim[i] >= a->info[i]->dissimilarity_threshold) bad = 1;
                if (bad) {
                    st = filter_region(&res, &mask, MF_ANON_SOLID, fs);
                    if (!st) st = mf_fimg_to_img(&res, NULL, img, j.ox, j.oy);
                    if (!st) check(a, img, &j, face, eorig, gal, r, why, sizeof why, NULL);
                    size_t l = strlen(r->note);
                    snprintf(r->note + l, sizeof r->note - l, "%s", "; filled (the filter was still matched)");
                    r->method = MF_ANON_SOLID;
                }
            }
        }
        mf_fimg_free(&mask);
        r->decision = MF_ANON_FALLBACK, r->strong = 0, r->flat = 0, r->last_rung = 0, r->linkable = 0;
        if (r->method != MF_ANON_SOLID) r->method = MF_ANON_PIXELATE;
    } else if (!st && accepted == 1)
        r->decision = MF_ANON_ACCEPTED;
done:
    if (st) mf_fimg_to_img(&j.O, NULL, img, j.ox, j.oy); /* errors leave img as it was */
    memcpy(r->draws, draws, sizeof draws), memcpy(r->draw_val, draw_val, sizeof draw_val);
    memcpy(r->draw_age, draw_age, sizeof draw_age), memcpy(r->draw_rung, draw_rung, sizeof draw_rung);
    mf_fimg_free(&fmask);
    mf_fimg_free(&j.O), mf_fimg_free(&j.skin), mf_fimg_free(&j.fine), mf_fimg_free(&res), mf_fimg_free(&relaxed), mf_fimg_free(&best);
    mf_fimg_free(&veil);
    for (int i = 0; i < SC_N; i++) mf_fimg_free(&j.sc[i]);
    mf_fimg_free(&j.relief_lo), mf_fimg_free(&j.relief_fo), mf_fimg_free(&j.lens_keep);
    free(eorig), free(j.ejit), free(j.ej), free(j.eb), free(j.tex), free(j.z), free(j.zc), free(zt_buf), free(j.easq);
    for (int q = 0; q < ATTACK_BOXES; q++) mf_img_free(&j.asq[q]);
    r->embeddings = (int)(a->n_emb - n_emb0);
    r->ms = now_ms() - t0;
    return st;
}
