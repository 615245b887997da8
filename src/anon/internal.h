/* Internals of the anon module shared by model.c (file format), train.c (training), geom.c (canonical geometry)
 * and anon.c (the anonymizer). Not a public header. */
#ifndef MF_ANON_INTERNAL_H
#define MF_ANON_INTERNAL_H

#include "mfmc/anon.h"
#include "mfmc/linalg.h"

enum { NV = MF_FACE_MESH_POINTS };

/* Conditioning buckets: age bins [0,13) [13,20) [20,30) [30,40) [40,50) [50,60) [60,inf) x (female, male). */
enum { MF_ANON_AGE_BINS = 7, MF_ANON_BUCKETS = 2 * MF_ANON_AGE_BINS, MF_ANON_BUCKET_MIN = 5 };
static inline int mf_anon_bucket(float age, int male) {
    static const float edge[MF_ANON_AGE_BINS - 1] = {13, 20, 30, 40, 50, 60};
    int b = 0;
    while (b < MF_ANON_AGE_BINS - 1 && age >= edge[b]) b++;
    return 2 * b + (male ? 1 : 0);
}

struct mf_anon_model {
    int T, n_tri, ks, kt, nd, n_train;
    float age_mean, age_min, age_max, male_frac, age_r2, gender_acc;
    int *tri;           /* n_tri * 3 vertex indices */
    uint8_t *hole;      /* n_tri: 1 = over an eye or mouth opening (filled from the target itself) */
    float *uv;          /* NV * 2 canonical texture coordinates, texture pixels */
    float *shape_mean;  /* NV * 3 canonical shape (frontal, centred, RMS radius 1) */
    float *shape_basis; /* ks * NV * 3, each component already scaled by its standard deviation */
    float *tex_mean;    /* T * T * 3, 0..255 */
    float *tex_basis;   /* kt * T * T * 3, scaled by the standard deviation */
    float *age_w;       /* ks + kt + 1: age = w . z + w[last] (z = whitened shape then texture codes) */
    float *male_w;      /* ks + kt + 1: logit(p_male) = w . z + w[last] */
    float *cond;        /* MF_ANON_BUCKETS x (count, mean age, k means, k standard deviations) of the codes of the
                           training faces in each (age bin, gender) bucket; count 0 = too few faces (< 5) */
    float *detail;      /* nd * T * T high-pass luminance maps */
    float *detail_age;  /* (age47) nd, or NULL: the mean age of the training faces whose skin made each map (maps
                           of one age group share it; mf_anon_detail_group), NULL: every map from faces of all ages */
    uint8_t *valid;     /* T * T: 1 where a skin triangle covers the texel */
    float *metric;      /* (push38) (ks + kt)^2, symmetric, trace ks + kt, or NULL: the recognizers' metric in code
                           space, sum over the guarantee's recognizers of B^T B / trace (B: ridge map from a training
                           face's codes to its L2-normalised embedding); fitted by mf_anon_train with opts->rec */
};

/* (age47) Age groups of the detail maps: [0,16) [16,30) [30,45) [45,inf) by the training faces' own age estimates. A
 * group of fewer than MF_ANON_DETAIL_GROUP_MIN faces takes its tiles from every face. */
enum { MF_ANON_DETAIL_GROUPS = 4, MF_ANON_DETAIL_GROUP_MIN = 8 };
static inline int mf_anon_detail_group(float age) {
    static const float edge[MF_ANON_DETAIL_GROUPS - 1] = {16, 30, 45};
    int g = 0;
    while (g < MF_ANON_DETAIL_GROUPS - 1 && age >= edge[g]) g++;
    return g;
}
/* (age47) Which detail map a draw takes: the pick-th (mod their count) of the maps whose age is the nearest to `age`
 * (every map when the model has no ages or age < 0). Returns an index in [0, nd), or -1 when nd == 0. */
int mf_anon_detail_pick(const struct mf_anon_model *m, float age, uint64_t pick);

/* Allocates the arrays of a model whose dimensions are set; MF_ERR_NOMEM / MF_ERR_LIMIT. */
int mf_anon_model_alloc(struct mf_anon_model *m);

/* Contours (closed loops, in order) of the subject's right eye, left eye and the inner lips. */
extern const int mf_anon_loop_reye[16], mf_anon_loop_leye[16], mf_anon_loop_mouth[20];
/* Feature vertices (brows 0..19, outer lips 20..39, nose 40..): their triangles are always replaced. */
enum { MF_ANON_N_FEATURE_V = 86 };
extern const int mf_anon_feature_v[MF_ANON_N_FEATURE_V];
/* The face oval (silhouette of the mesh), in order. */
extern const int mf_anon_loop_oval[36];

/* Bowyer-Watson Delaunay triangulation of n 2-D points (xy, n * 2). Writes at most max_tri triangles (3 indices,
 * counter-clockwise in y-down coordinates not guaranteed) and returns their count, or a negative status. */
int mf_anon_delaunay(const float *xy, int n, int *tri, int max_tri);

/* Point-in-polygon for a loop of mesh indices over 2-D points. */
int mf_anon_in_loop(const float *xy, const int *loop, int n_loop, float x, float y);

/* (sym40) The mirror map of a frontal, centred shape (nv x 3 floats, x across the face): map[v] = the vertex nearest
 * to v's mirror image (-x, y, z). *worst (may be NULL) = the largest such distance, in the shape's units. MF_ERR_ARG
 * for a null shape or map, or nv < 1 or > 32767. */
int mf_anon_mirror_map(const float *shape, int nv, short *map, float *worst);
/* (sym40) The left-right symmetric part of a displacement field d (nv x 3, same frame), in place: each vertex takes
 * the mean of its own and its mirror's (map) displacement, x mirrored. A field that mirrors onto itself is unchanged;
 * one that mirrors onto its negative (a sideways shift, a turn about the vertical axis) becomes 0. tmp: nv x 3 floats. */
void mf_anon_sym_deltas(float *d, const short *map, int nv, float *tmp);

/* The guarantee's alignments besides the detector's own (geom.c): q = the five points p (image pixels) moved by
 * alignment i (0 <= i < MF_ANON_N_JITTER: scaled, shifted, turned about their centre). The checks embed the
 * original and the result at each and count the highest similarity. */
enum { MF_ANON_N_JITTER = 6 };
void mf_anon_jitter5(const float p[5][2], int i, float q[5][2]);
/* (warp45) The background warp's displacement at pixel (px, py) (render_draw): the nb outline vertices' displacements
 * (ex, ey) at their new positions (bx, by), Shepard-interpolated with weights 1 / (d^power + 1e-3) (power 2 or 4) and
 * faded out over `fall` px from the nearest vertex. d2s: nb floats of scratch. */
void mf_anon_warp_point(const float *bx, const float *by, const float *ex, const float *ey, int nb, int power,
                        float fall, float px, float py, float *d2s, float out[2]);
/* (loop46) A closed loop of nb points (x, y) carrying values (u, v), made s times denser: between each point and the
 * next (the last's next is the first) s - 1 points and values are added on the straight line. Writes nb * s points
 * into ox, oy, ou, ov (in loop order, each input point first), returns nb * s. Under 1, s counts as 1. */
int mf_anon_loop_densify(const float *x, const float *y, const float *u, const float *v, int nb, int s, float *ox,
                         float *oy, float *ou, float *ov);

/* (cut14) The attacker's square of a face, as issue 11's check builds it (eval_privacy_anon): the square of side
 * ctx * max(w, h) around the centre of box (x y w h, image pixels), turned upright by -roll_deg (the face's roll,
 * degrees, analyze.h's convention), resampled bilinearly into side x side pixels, the part outside the picture grey
 * (128). img must be RGB; out is allocated here (mf_img_free). MF_ERR_ARG for a null or non-RGB image, a box that is
 * not finite or empty, side < 8 or ctx <= 0; MF_ERR_NOMEM. */
int mf_anon_attack_square(const mf_img *img, const float box[4], float roll_deg, float ctx, int side, mf_img *out);
/* (cut14) The points p (n of them, image pixels) in the coordinates of that square (square pixels). */
void mf_anon_attack_points(const float box[4], float roll_deg, float ctx, int side, const float (*p)[2], int n,
                           float (*q)[2]);
/* (upright43) The inverse: the points q (n of them, square pixels) in image pixels p. */
void mf_anon_attack_points_back(const float box[4], float roll_deg, float ctx, int side, const float (*q)[2], int n,
                                float (*p)[2]);

/* (reid18) The photo's low-pass *lo (w x h, lighting the new skin) moved with the face: every pixel covered by the
 * mesh at P_old + amount x (P_new - P_old) (nv vertices xyz in lo's pixels, z smaller = nearer; n_tri triangles)
 * takes *lo at the position its surface point has at P_old, through the z-buffer `depth` (lo's size, c = 1; reset
 * here) so a turned head's near side wins; pixels outside the mesh keep their value; amount is clamped to 0..1.
 * Read at the photo's own positions instead, the original's relief (eye sockets, the nose's shadow, cheekbones)
 * stays where the original's features were while the new features moved beside it. *lo is replaced (freed and
 * reallocated). MF_ERR_ARG / MF_ERR_NOMEM. */
int mf_anon_shade_follow(const float *P_old, const float *P_new, int nv, const int *tri, int n_tri, float amount,
                         mf_fimg *depth, mf_fimg *lo);

/* (sh31) The photo's light as a light model over the mesh normals. Per-pixel normals (vertex normals, area-weighted
 * and turned towards the camera as a whole, interpolated over the nearest triangle: the z-buffer keeps a turned
 * head's near side) of the mesh at P_old (the photo's face) and at P_new (the drawn face), nv vertices xyz in the
 * photo's pixels (z smaller = nearer), n_tri triangles. A light l_k(n) = c_k . (1, nx, ny, nz) per channel k is fitted
 * by weighted least squares (ridge MF_ANON_SH_RIDGE on the normal terms) to photo (c = 3) over the pixels of weight wo
 * (c = 1, photo's size) covered at P_old; then *out (allocated, photo's size, c = 3) = the normalised low-pass of
 * sigma px (0 < sigma <= MF_RENDER_MAX_SIGMA) over the weights wr of l(n) at P_new's normals, floored at 0.1 x the fit's
 * mean; pixels wr leaves empty get the mean. coef (may be NULL) gets the 3 x 4 coefficients. *fitted = 0 and *out
 * empty (data NULL) when the weight of the fit is below MF_ANON_SH_MIN_SKIN px or its normal equations are singular:
 * the caller keeps the photo's own low-pass. par may be NULL. MF_ARG / MF_ERR_NOMEM. */
enum { MF_ANON_SH_MIN_SKIN = 200 };
#define MF_ANON_SH_RIDGE 0.02f
int mf_anon_sh_light(const mf_fimg *photo, const mf_fimg *wo, const mf_fimg *wr, const float *P_old, const float *P_new,
                     int nv, const int *tri, int n_tri, float sigma, const mf_render_par *par, mf_fimg *out,
                     float coef[3][4], int *fitted);

/* (sh50) The light model's colour made the photo's: each pixel of light (c = 3, the fit's output) keeps its
 * luminance (BT.601) and takes the colour of lo (the photo's low-passed skin, same size, c = 3) there, light_k = lo_k x
 * Y(light) / Y(lo); pixels where Y(lo) is at most MF_ANON_SH_CHROMA_MIN (no skin nearby) are left as they are. A
 * first-order light per channel fits the face's mean colour and a colour gradient over the normals, not the skin's
 * own colour across the face (warmer cheeks and nose, neutral highlights): the middles of darker faces came out
 * greyer than the photo's (docs/anonymization.md, stop 50). */
#define MF_ANON_SH_CHROMA_MIN 4.0f
void mf_anon_sh_chroma(mf_fimg *light, const mf_fimg *lo);

/* (rc52) The power the light step puts on the colour of what is darker than the render's low-pass: the photo skin's
 * saturation over the drawn skin's, (max - min) / max of each mean skin colour (RGB, 0..255), at most 1; 1 when the
 * drawn skin is nearly grey (saturation under 0.02) or either maximum is at most 4. */
float mf_anon_rel_chroma_power(const float photo_skin[3], const float drawn_skin[3]);
/* (rc52) One lit pixel v (RGB) darker than its lit low-pass L (Y(v) < Y(L), BT.601 weights, every channel of both
 * over 0 and of L over 1, Y(L) over 4): its colour ratio to L is raised to g, its luminance kept: v_k = L_k x q_k x
 * Y(v) / Y(L x q), q_k = (v_k / L_k / r)^g x r, r = Y(v) / Y(L). Otherwise, or with g >= 1, v is left as it is. */
void mf_anon_rel_chroma(const float L[3], float v[3], float g);
/* (cc53) One rendered pixel p (RGB) held near a reference skin colour ref (RGB, the photo's skin low-pass there): with
 * y = Y(p) and c = (Cb, Cr) (BT.601), its colour's distance from the reference's chromaticity at its own luminance,
 * |c - y c_ref / Y(ref)|, is limited to t x max(y, MF_ANON_CC_Y_MIN) (dark pixels keep a floor, not a grey), y kept.
 * Returns that distance over max(y, MF_ANON_CC_Y_MIN) before the clamp; 0 and p unchanged when Y(ref) <= 4 or t <= 0. */
#define MF_ANON_CC_Y_MIN 24.0f
float mf_anon_chroma_clamp(const float ref[3], float p[3], float t);
/* (lens53) The lenses of sunglasses, grown from the eye zone: out[i] = 1 for every pixel of a w x h map connected
 * (4-neighbours) to a seed pixel (seed[i] > 0.5) through pixels whose skin probability is below thr, and within
 * r of one of the two points c (eye centres, pixels); 0 elsewhere. The seeds themselves are in. queue: w x h ints of
 * scratch. Returns the number of pixels set. */
long mf_anon_lens_fill(const float *skin, const float *seed, int w, int h, float thr, const float c[2][2], float r,
                       int *queue, uint8_t *out);
/* (seam54) A drawn texture tex (T x T x 3 of a's model) with its step at the brows' ring evened out. The ring bounds
 * the skin round the brows that the training did not clean of hair (the triangles touching a brow vertex); on either
 * side of it, above the eye row and the brows' middle row (the brows' own triangles changed with the inside but not
 * counted in its mean), each texel takes `amount` (at most 1) x half the difference of the two sides' local means there
 * (normalised convolutions at SEAM_SIGMA, 0.02 of the texture side), x SEAM_FADE (8) x the other side's blurred
 * coverage (at most 1: the change fades away from the ring, from about 1.2 to 2.5 sigmas). With step not NULL,
 * *step = the step before the change: over the ring's inner texels next to its outside, the mean luminance of the
 * two means' difference (levels; -1 when a has no ring, i.e. tuning.forehead_seam was off at its creation).
 * amount <= 0: only measures. */
int mf_anon_forehead_seam(const mf_anon_t *a, float *tex, float amount, float *step, const mf_render_par *rp);

/* (eyes18) The photo's eye openings softened before they are drawn into the new face: *out = a copy of photo
 * (c = 3, allocated) in which the pixels covered by the triangles `tri` at the 2-D positions P (x, y of nv vertices,
 * stride 3; the openings where they are in the photo) are replaced by their normalised Gaussian blur of `sigma` px
 * over the openings only (the lids, lashes and skin outside do not bleed in; sigma <= 0.3: no blur), then moved
 * towards their luminance by `grey` (0..1), then multiplied by `gain` (0..1; eyes19: mf_anon_eye_dark_factor). The
 * iris stays a dark disc where it was (gaze) and the lid opening the photo's; the iris texture, its rim and colour,
 * and the fine lash detail inside go. Pixels outside the openings are the photo's. MF_ERR_ARG (bad arguments, a
 * vertex out of range, gain outside 0..1), MF_ERR_NOMEM. */
int mf_anon_eye_soften(const mf_fimg *photo, const float *P, int nv, const int *tri, int n_tri, float sigma, float grey,
                       float gain, mf_fimg *out);

/* (eyes19) How much darker the drawn identity's eye openings are than the photo's, each against its own skin: the
 * mean luminance over the triangles `tri` (sampled at the same barycentric points, weighted by their area in the
 * photo) in the texture `tex` (T x T x 3, at the model's texel coordinates uv, 2 per vertex) and in `photo` (at P: x,
 * y of nv vertices, stride 3), each divided by its skin luminance: the median over the vertices `probes` in the
 * texture, `photo_skin_y` in the photo (its skin model's median). *factor = (model / photo)^strength clamped to
 * min_factor..1 (never lightened; 1 when either side is too dark to measure or the openings lie outside the photo).
 * MF_ERR_ARG on bad arguments (a vertex out of range, strength < 0, min_factor outside 0..1). */
int mf_anon_eye_dark_factor(const float *tex, int T, const float *uv, const mf_fimg *photo, const float *P, int nv,
                            const int *tri, int n_tri, const int *probes, int n_probes, float photo_skin_y,
                            float strength, float min_factor, float *factor);

/* (looks32) How much of an eye opening in the photo is iris, lashes or shadow, not lid: the luminance quantile `q`
 * (0..1) of the opening's middle, the lid loop `loop` (n vertices of P: x, y, stride 3) shrunk by `shrink` (0..1)
 * towards its centroid and sampled on a grid of at least ~20 x 20 points, over `skin_y` (the photo's skin luminance).
 * An open eye's middle holds the iris and pupil (a dark quarter: about 0.1-0.5 of the skin); a closed or lowered lid
 * the mesh took for an opening holds the lid, with pale eye make-up brighter than the skin (demo photo 1, face 2: its
 * openings lay on white glitter eye shadow and were drawn into the new face as whitish, empty eyes). *rel = -1 when
 * nothing is sampled (the opening outside the photo, degenerate) or skin_y <= 4. MF_ERR_ARG on bad arguments. */
int mf_anon_eye_open_dark(const mf_fimg *photo, const float *P, int nv, const int *loop, int n, float shrink, float q,
                          float skin_y, float *rel);

/* (spots32) The skin map's small isolated spots made skin. skin: w x h probabilities before their blur (1 skin, 0
 * occluder), P: the face mesh (nv >= 468 vertices x, y, z, in skin's pixels), fs: the face size in pixels. Every
 * 8-connected component of pixels below 0.5 whose extent is at most max_size x fs and whose pixels all lie within
 * SPOT_NEAR face sizes of a skin probe (cheeks, forehead, nose bridge) and at least SPOT_CLEAR face sizes from the
 * mesh's eyes, brows, lips and nostrils and SPOT_EDGE from its outline (so surrounded by skin, away from hair,
 * glasses, fingers) is set to 1, with its 8-neighbours. *n_spots (may be NULL): the components made skin. MF_ERR_ARG on bad arguments. */
int mf_anon_skin_spots(mf_fimg *skin, const float *P, int nv, float fs, float max_size, int *n_spots);

/* (looks32) 1 when either of the photo's openings (eye_dark: mf_anon_eye_open_dark of the right and left lid loops,
 * -1 unmeasured) is at least tu->eye_lid (0: EYE_LID; < 0: off, 0 returned) bright: it holds no eye, and the face's
 * draws take the model's eyes. */
int mf_anon_eye_lid(const mf_anon_tuning *tu, const float eye_dark[2]);

/* (eyes33) Spreads the texture coordinates uv (nv x 2, texels) of one lid loop (n vertices, 3..64) about the loop's
 * centre: by k vertically and 1 + (k - 1) / 3 sideways, in place (the loop's other coordinates untouched). The
 * model's eyes then fill the drawn opening with the texture's whole visible eye, whose upper lid margin lies above
 * the mesh's loop in the drawn textures; the lid triangles that share the loop's vertices start at the spread loop.
 * MF_ERR_ARG on bad arguments (k <= 0, a vertex out of range). */
int mf_anon_eye_uv(float *uv, int nv, const int *loop, int n, float k);

/* (eyes33) The spread the model's eyes are drawn with under tuning tu (tu->eye_uv; 0: EYE_UV; at most 2.5): 1 when
 * off (main's texture coordinates). */
float mf_anon_eye_uv_gain(const mf_anon_tuning *tu);

/* splitmix64 random numbers */
uint64_t mf_anon_rng_next(uint64_t *s);
double mf_anon_rng_uniform(uint64_t *s); /* [0, 1) */
double mf_anon_rng_normal(uint64_t *s);

/* Texel -> (triangle, barycentrics) map of the canonical layout: tri_of[T*T] (-1 = none), bary[T*T*3]. */
int mf_anon_texel_map(const struct mf_anon_model *m, int *tri_of, float *bary);

/* mf_anon_create (shared NULL: the recognizers load their own models from opts->models_root) and
 * mf_anon_create_from (the recognizers are sessions over `shared`), both in create_from.c. */
int mf_anon_create_impl(const mf_anon_opts *opts, mf_face_models_t *shared, mf_anon_t **out);


/* One rung of the redraw ladder (ladder.c): how the next draw is made after `failed` failed draws, `rejected` of
 * them by an ensemble recognizer (the others: not detected again, or age / gender missed). */
enum { MF_ANON_MAX_CAND = 32 };
/* The strong rung's rendering against the gentle one's (tuning.strong_eyes, strong_shape, strong_shade, strong_fine;
 * defaults in ladder.c): whether it keeps the photo's eyes, its shape gain, the low-pass of the photo's shading kept
 * and the share of its grain, each x the gentle rung's (tuning values checked, 0 -> the default) */
int mf_anon_strong_eyes(const mf_anon_tuning *tu);
float mf_anon_strong_shape(const mf_anon_tuning *tu);
float mf_anon_strong_shade(const mf_anon_tuning *tu);
float mf_anon_strong_fine(const mf_anon_tuning *tu);
typedef struct {
    int strong;       /* the strong rendering (mf_anon_strong_*: main's model eyes, 1.6x shape, broad light only) */
    int ncand;        /* candidate identities drawn; the farthest from the target's codes is rendered (1..MAX_CAND) */
    int detail_step;  /* 1: each draw takes the next detail map (a different detail layer), 0: a random one */
    float spread;     /* texture-code spread */
    float away;       /* push away from the target's own codes, x bucket spread */
    float gain;       /* identity shape gain */
    float shade;      /* low-pass of the photo's shading kept, face sizes */
    float fine;       /* the photo's grain kept, 0..1 */
    float metric;     /* (push38) 0..1: how much the push and the candidates' choice follow the model's recognizer
                         metric (used only when the model has one) */
    const float *band; /* (band48) the drawn texture's step at the mid-forehead ring as a linear function of the codes
                          (mf_anon_band_readout), held at 0 with the age and gender read-outs; NULL: not held */
    const float *feat; /* (feat50) MF_ANON_N_FEAT read-outs of the drawn texture's features against its skin
                          (mf_anon_feature_readouts), each held at no lighter than feat_hold x the mean face's: NULL:
                          not held */
    float feat_hold;   /* (feat50) > 0: lighter features held; else not */
    float feat_dark;   /* (dark55) > 0: a feature darker against the skin than feat_dark x the mean face's is moved
                          to that; else not */
    float feat_pick;   /* (pick55) > 0: of the anti-face candidates, those with no feature darker against the skin
                          than feat_pick x the mean face's are taken first (the farthest of them; none: the least
                          dark); else not */
    float feat_near;   /* (pick56) > 0 (with feat_pick): only the candidates at least feat_near x as far from the
                          target's codes as the farthest take part in that choice; else all */
} mf_anon_rung;
/* The rung after `failed` failed draws of which `rejected` by the ensemble, for max_tries draws, from the tuning
 * (tu->ladder 0: the default ladder, 1: identity first). tu must have its defaults filled in (mf_anon_create). */
void mf_anon_ladder_step(const mf_anon_tuning *tu, int max_tries, int failed, int rejected, mf_anon_rung *out);
/* (draws20) The rungs to skip after a draw rejected by an ensemble recognizer `over` gaps (its similarity minus its
 * dissimilarity threshold, over the gap to its match threshold) above its threshold, `failed` failed draws counted
 * with it: when over >= tu->leap (on, > 0) in the default ladder and the rung of `failed` is gentle, as many as lead
 * to the first strong rung (never past the rung of the last draw, max_tries - 1); else 0. */
int mf_anon_ladder_leap(const mf_anon_tuning *tu, int max_tries, int failed, float over);

/* (age41) The age asked of the model for a target read `age` years old: moved away from the model's mean training
 * age `mean` by (stretch - 1) x (age - mean), at most MF_ANON_AGE_STRETCH_MAX years, faded in linearly from
 * MF_ANON_AGE_STRETCH_FROM to MF_ANON_AGE_STRETCH_FULL years (children are asked their own age); at least 1.
 * stretch 1: age itself (at least 1). Drawn faces read nearer the mean than asked (300 FFHQ at stop 40: 20-30 y read 3.2 y older,
 * 50-60 y 6.2 y younger). */
#define MF_ANON_AGE_STRETCH_MAX 15.0f
#define MF_ANON_AGE_STRETCH_FROM 13.0f
#define MF_ANON_AGE_STRETCH_FULL 20.0f
float mf_anon_age_ask(float age, float mean, float stretch);

/* The whitened codes z (ks + kt) of one synthetic identity for a draw at `rung`, for a target of this age (years)
 * and gender logit, drawn from *rng (draw.c). zt: the target's own codes (NULL: no target, e.g. children: a plain
 * draw of the bucket). unlinked 1: one draw in the half-space away from zt, sharing with other draws for the same
 * target only a margin (two photos of a person anonymized in separate runs get unrelated identities); 0: the
 * anti-face push, the farthest from zt of rung->ncand candidates. keep (NULL: none; only with zt): codes that take
 * the target's own value instead (mf_anon_light_codes), left out of the push, the norm cap and the age and gender
 * step; the push on the others is lengthened (at most 1.5x) to the push's length over all codes. zc: scratch of
 * ks + kt floats. */
void mf_anon_draw_identity(const mf_anon_model_t *m, uint64_t *rng, float age, float logit, const mf_anon_rung *rung,
                           const float *zt, int unlinked, const uint8_t *keep, float *zc, float *z);

/* (band48) The luminance step of the drawn texture across the mid-forehead ring (mesh vertices 108, 151, 337: the row
 * below the ring minus the row above it, averaged between 108 and 337), as a linear function of the codes: w (ks + kt
 * + 1) gets each code's step (0 for the shape codes) and, last, the mean texture's. The committed model's lower
 * forehead kept training faces' bangs (docs/anonymization.md, stop 47), and draws far out in the components carrying
 * it show a pale band with a hard lower edge there. Returns 0, or -1 (w untouched) when the ring's rows are not
 * inside the texture. */
int mf_anon_band_readout(const mf_anon_model_t *m, float *w);

/* (feat50) Read-outs of a drawn texture's features against its own skin, linear in the codes: w gets
 * MF_ANON_N_FEAT rows of ks + kt + 1 (shape codes 0; the last entry the mean texture's value), row 0 the brows' mean
 * luminance (inside the loops of mf_anon_feature_v) minus the reference skin's (texels within MF_ANON_FEAT_REF of the
 * texture from the cheeks' and the forehead's probe points), row 1 the upper lids' (between each eye's upper lid
 * line and its brow's lower edge, mf_anon_lid_loop) minus the same skin's, (dark55) row 2 the under-eyes' (between
 * each eye's lower lid line and the third ring below it, mf_anon_under_loop). All are negative on the mean face
 * (darker brows, shaded lids). The anti-face of a face with dark brows and made-up lids draws them lighter than the
 * skin: flat grey bars (after brow48's clamp) and glowing white lids, the pale masks. Returns 0; -1 (w untouched)
 * when a zone has fewer than 8 texels; MF_ERR_NOMEM. */
enum { MF_ANON_N_FEAT = 3, MF_ANON_N_HOLD = 2 }; /* (dark55) row 2: the under-eyes (mf_anon_under_loop); feat50's
                                                    hold reads rows 0 and 1 only */
#define MF_ANON_FEAT_REF 0.04f
extern const int mf_anon_lid_loop[2][14];
/* (dark55) each eye's lower lid line, outer corner to inner, then the third ring below it, inner to outer */
extern const int mf_anon_under_loop[2][18];
/* (feat50) The texels of those read-outs: zone (T * T) gets 1 inside a brow's loop, 2 inside a lid's loop (not a
 * brow's), -1 for the reference skin (within MF_ANON_FEAT_REF of the texture from the cheeks' and the forehead's
 * probe points, outside both), (dark55) 3 inside an under-eye loop (none of those), 0 elsewhere and outside the
 * mesh (m->valid); n[0] .. n[3] count the skin, brow, lid and under-eye texels. */
void mf_anon_feature_zones(const mf_anon_model_t *m, int8_t *zone, int n[MF_ANON_N_FEAT + 1]);
int mf_anon_feature_readouts(const mf_anon_model_t *m, float *w);

/* (brow48) The brows of a drawn texture: for each brow (the 10-point loop of mf_anon_feature_v, upper line then
 * lower), w (T * T) gets a weight 0..1 (1 inside the loop, falling to 0 at MF_ANON_BROW_FADE of the texture outside
 * it) and ref (T * T) marks 1 or 2 (the brow's own) the skin texels above it, between MF_ANON_BROW_REF_IN and
 * MF_ANON_BROW_REF_OUT of the texture from the loop (inside the mesh, m->valid). MF_ERR_ARG without two brows' worth
 * of reference texels. */
#define MF_ANON_BROW_FADE 0.012f
#define MF_ANON_BROW_REF_IN 0.02f
#define MF_ANON_BROW_REF_OUT 0.05f
int mf_anon_brow_masks(const mf_anon_model_t *m, float *w, uint8_t *ref);
/* (brow48) A drawn texture's brows (tex: T * T * 3, 0..255, the masks of mf_anon_brow_masks) made no lighter, per
 * channel, than `dark` x the mean colour of their reference skin, or than the model's mean texture there in the same
 * relation to its own reference skin, whichever is lighter (the mean face is left as it is): a draw far out in the
 * components that carry the brows (the anti-face of a face with dark brows) gets brows lighter than its skin, which
 * the photo's light turned into glowing orange arcs. gate > 0: only a brow whose inside is on average at least gate x
 * its skin's luminance (an inverted brow) is moved; <= 0: every brow. Returns how many texels moved. */
int mf_anon_brow_clamp(const mf_anon_model_t *m, const float *w, const uint8_t *ref, float dark, float gate,
                       float *tex);

/* (lip57) The lower nose and the skin between it and the upper lip (the loop mf_anon_philtrum_loop: the upper lip's
 * outer line from corner to corner, then up the fold, round the nose's wings at the row of its tip and back): w
 * (T * T) gets a weight 0..1 (1 inside the loop, falling to 0 at MF_ANON_BROW_FADE of the texture outside it), ref (T * T) marks the cheeks' skin (inside the mesh, within
 * MF_ANON_FEAT_REF of the texture from mesh vertices 50 and 280). MF_ERR_ARG without 8 texels in each. */
#define MF_ANON_N_PHILTRUM 24
extern const int mf_anon_philtrum_loop[MF_ANON_N_PHILTRUM];
int mf_anon_philtrum_masks(const mf_anon_model_t *m, float *w, uint8_t *ref);
/* (lip57) A drawn texture's skin under the nose (tex: T * T * 3, 0..255, the masks of mf_anon_philtrum_masks) made
 * no darker, per channel, than `floor` x the model's mean texture there scaled by the ratio of the draw's cheek skin
 * to the mean face's: a draw far out in the components that darken it (the anti-face of a face lit flat) gets a dark
 * patch there that reads as a moustache. Returns how many texels moved. */
int mf_anon_philtrum_lift(const mf_anon_model_t *m, const float *w, const uint8_t *ref, float floor, float *tex);

/* (light37) Marks in keep (ks + kt bytes) the texture codes that carry the photo's light (and with flat_min > 0 the
 * skin's tone) rather than identity, read off the model's components: a luminance mostly odd about the face's
 * midline (side light), or a flat colour shift that is at least flat_min of the component's energy. Returns how many.
 * A draw given this mask (mf_anon_draw_identity) takes the target's own values for them and pushes away from the
 * target only in the other codes. */
int mf_anon_light_codes(const mf_anon_model_t *m, float flat_min, uint8_t *keep);

/* (hue36) The drawn texture's mean colour over the valid texels as a linear function of the texture codes:
 * col_w (3 x kt, channel-major) and col_b[3] (the mean texture's). */
void mf_anon_colour_readout(const mf_anon_model_t *m, float *col_w, float col_b[3]);

/* (hue36) Codes z (ks + kt) moved by the least-norm step that puts the drawn texture's mean colour, per channel,
 * within [1 / bound, bound] x that of the target's codes zt (at least 1 level) while the age and gender read-outs
 * are put on the draw's targets age and logit (where the draw put them, up to its clamp); each code is then kept
 * within +-3.5 (draw.c's range; a clamped code can move the read-outs a little). The anti-face push also pushes the
 * skin tone away from the target's (a pale face drew a dark, reddish texture), which the light step multiplies back
 * by up to 3x per channel: dark features and the draw's own shadows came out burnt orange. Returns 1 when z moved, 0
 * when it was within the bound already (z unchanged), bound <= 1 or the system is singular. */
int mf_anon_tone_codes(const mf_anon_model_t *m, const float *col_w, const float col_b[3], const float *zt, float age,
                       float logit, float bound, float *z);

#endif
