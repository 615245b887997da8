/* Issue 11's anonymizer check (docs/detection.md, "Anonymizing the set"): in `mfmc anonymize`, every face found is
 * replaced, and no original face region is left similar to the original.
 *   eval_privacy_anon --set DIR [--only PREFIX]... [--stride K] [--seed S] [--cut-check N] [--attack-all N] [--jitter-skip F] [--dump DIR]
 *       anonymizes the pictures of the privacy set (tests/tools/privacy-set, DIR/truth.tsv) as `mfmc anonymize`
 *       does by default (privacy detection, synthetic method, the plain analyser for the checks of upright faces,
 *       two threads; the seed of face k of picture F is S * 1000003 + (hash(F) mod 2^20) * 4096 + k instead of a
 *       random one, F the picture's name in the set (variant/file, FNV-1a), so a run can be repeated and a subset
 *       (--only, --stride) draws the same identities as the full run), then checks every truth face. Variants: rot*, cut*, grid300, grid1000 unless --only
 *       (a prefix of the variant or of the picture's name, e.g. cutt50/0039; repeatable). --cut-check N sets the
 *       anonymizer's tuning.cut_check (anon.h: -1 main's guarantee before cut14, 2 cut faces by the fallback only;
 *       default: the library's); --attack-all N its tuning.attack_all (-1: the attacker's square for cut faces only, before
 *       attack14; 1: every face; default: cut and turned faces); --jitter-skip F its tuning.jitter_skip (jit30, off). --stride K keeps every K-th picture of a variant by its number (the grids are
 *       picture 0, always kept).
 *   eval_privacy_anon --compare SET OUT
 *       the same check on the output of the real program, `mfmc anonymize SET -o OUT` (the same relative names):
 *       every picture of SET/truth.tsv (no variant filter); decisions are then in mfmc's report, not here.
 * The check of one truth face (box and roll of the set): the region of the original and of the anonymized picture,
 * twice the face box around its centre, is turned upright (by the truth roll) into a 256 px square; a plain
 * analysis looks for a face at its centre, and arcface (the primary recognizer) embeds both squares with the
 * alignment points of every face found there (the anonymized square's and the original's); the similarity is the
 * highest of these. A face is
 *   unchanged when fewer than MIN_CHANGED of the truth box's pixels (clipped to the picture) differ by more than
 *             CHANGE_LEVEL in some channel;
 *   similar   when a face is found in the anonymized square and its similarity reaches arcface's match threshold.
 * Either is a failure. Also reported, not a failure: faces whose anonymized square, embedded at the original's own
 * alignment points (where no face may be found any more), still reaches the threshold.
 * Output: one tab-separated line per variant as soon as it is complete (header first), every failure on stderr. Exit 0 when no face failed,
 * 1 when one did, 2 for usage or unreadable input. --dump DIR writes original | anonymized upright squares (PNG)
 * of every failure and of the first face of each variant (DIR git-ignored: out/ or reports/). */
#include "lib/testutil.h"
#include "truth.h"
#include "tools/privacy-set-common.h"
#include "mfmc/anon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { MAX_VARIANTS = 64, MAX_ONLY = 32, SQ = 256, CHANGE_LEVEL = 8 };
#define MIN_CHANGED 0.25f /* fraction of the truth box's pixels that must change */
#define CONTEXT 2.0f      /* side of the upright square, in face box sides */

typedef struct {
    char name[64];
    int pictures, faces, detected, replaced, synth, fallback, emb_before, emb_after, similar, unchanged, similar_forced;
    float max_sim;
    double ms;
    int dumped;
} variant_stats;

typedef struct {
    mf_face_analyzer_t *plain; /* upright analysis of the squares */
    mf_face_recognizer_t *rec; /* arcface */
    float thr;                 /* its match threshold */
    const char *dump;
} checker;

static variant_stats vs[MAX_VARIANTS];
static int n_vs;

/* The figures of variant `name`: the last row when it is the same variant (truth.tsv lists a variant's pictures
 * together), else a new row; NULL when the table is full. */
static variant_stats *variant_row(const char *name) {
    if (n_vs > 0 && !strcmp(vs[n_vs - 1].name, name)) return &vs[n_vs - 1];
    if (n_vs == MAX_VARIANTS) return NULL;
    variant_stats *v = memset(&vs[n_vs++], 0, sizeof *vs);
    v->max_sim = -1;
    snprintf(v->name, sizeof v->name, "%s", name);
    return v;
}

static double now_ms(void) { return tu_clock_ms(CLOCK_MONOTONIC); }

/* The square of side CONTEXT * max(w, h) around the centre of truth t, turned by -roll (upright), SQ x SQ. */
static int upright(const mf_img *img, const float t[7], mf_img *out) {
    float side = CONTEXT * fmaxf(t[2], t[3]), k = side / SQ, a = t[4] * (float)M_PI / 180.0f;
    float c = cosf(a), s = sinf(a), cx = t[0] + t[2] / 2, cy = t[1] + t[3] / 2, h = 0.5f * k - 0.5f * side;
    /* square pixel (u, v) -> centre + R(roll) * ((u + 0.5) k - side / 2, (v + 0.5) k - side / 2), continuous
     * coordinates, minus 0.5 for the pixel-index ones of the warp */
    float m[6] = {c * k, -s * k, cx - 0.5f + (c - s) * h, s * k, c * k, cy - 0.5f + (s + c) * h};
    float *f = malloc((size_t)SQ * SQ * 3 * sizeof *f);
    if (!f || mf_img_init(out, SQ, SQ, 3)) {
        free(f);
        return -1;
    }
    mf_img_warp_to_float(img, m, SQ, SQ, 1.0f, 0.0f, 128.0f, f);
    for (size_t i = 0; i < (size_t)SQ * SQ * 3; i++)
        out->data[i] = (uint8_t)fminf(255.0f, fmaxf(0.0f, f[i] + 0.5f));
    free(f);
    return 0;
}

/* Alignment points of the face found nearest the square's centre (within a quarter of the square): 1, else 0. */
static int central_face(mf_face_analyzer_t *an, const mf_img *sq, float pts[5][2]) {
    const mf_face *f;
    int n, best = -1;
    float bd = 0.25f * SQ;
    if (mf_face_analyze_all(an, sq, &f, &n)) return 0;
    for (int i = 0; i < n; i++) {
        float d = hypotf(f[i].det.x + f[i].det.w / 2 - SQ / 2.0f, f[i].det.y + f[i].det.h / 2 - SQ / 2.0f);
        if (d < bd) bd = d, best = i;
    }
    if (best >= 0) mf_face_5pt(&f[best], pts);
    return best >= 0;
}

/* arcface similarity of the two squares, both embedded with alignment pts. */
static float sim_at(checker *ck, const mf_img *a, const mf_img *b, const float pts[5][2]) {
    int dim = mf_face_recognizer_info_of(ck->rec)->dim;
    float *e = malloc(2 * (size_t)dim * sizeof *e), s = -2;
    if (e && !mf_face_recognizer_embed(ck->rec, a, pts, e) && !mf_face_recognizer_embed(ck->rec, b, pts, e + dim))
        s = mf_face_similarity(e, e + dim, dim);
    free(e);
    return s;
}

/* Fraction of the truth box's pixels (clipped to the picture) changed by more than CHANGE_LEVEL in a channel. */
static float changed_fraction(const mf_img *a, const mf_img *b, const float t[7]) {
    int x0 = (int)fmaxf(0, floorf(t[0])), y0 = (int)fmaxf(0, floorf(t[1]));
    int x1 = (int)fminf((float)a->w, ceilf(t[0] + t[2])), y1 = (int)fminf((float)a->h, ceilf(t[1] + t[3]));
    long n = 0, ch = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++, n++) {
            const uint8_t *p = a->data + ((size_t)y * a->w + x) * 3, *q = b->data + ((size_t)y * b->w + x) * 3;
            int d = 0;
            for (int c = 0; c < 3; c++)
                d = abs(p[c] - q[c]) > d ? abs(p[c] - q[c]) : d;
            ch += d > CHANGE_LEVEL;
        }
    return n ? (float)ch / (float)n : 0;
}

static void dump_pair(const checker *ck, const char *var, const char *file, int i, const mf_img *a, const mf_img *b) {
    mf_img o;
    if (mf_img_init(&o, 2 * SQ + 4, SQ, 3)) return;
    memset(o.data, 255, (size_t)o.w * o.h * 3);
    for (int y = 0; y < SQ; y++) {
        memcpy(o.data + (size_t)y * o.w * 3, a->data + (size_t)y * SQ * 3, SQ * 3);
        memcpy(o.data + ((size_t)y * o.w + SQ + 4) * 3, b->data + (size_t)y * SQ * 3, SQ * 3);
    }
    char path[4096], flat[256];
    snprintf(flat, sizeof flat, "%s", file);
    for (char *p = flat; *p; p++)
        if (*p == '/' || *p == '.') *p = '_';
    snprintf(path, sizeof path, "%s/%s-%s-%d.png", ck->dump, var, flat, i);
    if (mf_img_save(&o, path, 90)) fprintf(stderr, "eval_privacy_anon: %s: %s\n", path, mf_error_get());
    mf_img_free(&o);
}

/* Checks truth face i (t) of one picture; decision: -1 no detection covers it, else an mf_anon_decision, -2 unknown
 * (compare mode). Returns 1 when the face failed. */
static int check_face(checker *ck, variant_stats *v, const char *file, int i, const mf_img *orig, const mf_img *anon,
                      const float t[7], int decision) {
    v->faces++;
    if (decision >= 0) v->detected++;
    if (decision == MF_ANON_ACCEPTED) v->synth++;
    if (decision == MF_ANON_FALLBACK) v->fallback++;
    float chg = changed_fraction(orig, anon, t);
    int unchanged = chg < MIN_CHANGED, fails = unchanged;
    v->replaced += !unchanged, v->unchanged += unchanged;
    mf_img so, sa;
    if (upright(orig, t, &so)) return 1;
    if (upright(anon, t, &sa)) {
        mf_img_free(&so);
        return 1;
    }
    float po[5][2], pa[5][2], sim = -2, forced = -2;
    int fo = central_face(ck->plain, &so, po), fa = central_face(ck->plain, &sa, pa);
    v->emb_before += fo, v->emb_after += fa;
    if (fo) forced = sim_at(ck, &so, &sa, (const float(*)[2])po);
    if (fa) {
        sim = sim_at(ck, &so, &sa, (const float(*)[2])pa);
        if (fo) sim = fmaxf(sim, forced);
        v->max_sim = fmaxf(v->max_sim, sim);
        if (sim >= ck->thr) v->similar++, fails = 1;
    }
    v->similar_forced += forced >= ck->thr;
    if (fails)
        fprintf(stderr, "FAIL %s %s face %d [%.0f,%.0f %.0fx%.0f roll %.0f]: changed %.0f%%%s, arcface %.3f (match %.3f)\n",
                v->name, file, i, t[0], t[1], t[2], t[3], t[4], 100.0f * chg, unchanged ? " (unchanged)" : "", sim,
                ck->thr);
    if (ck->dump && (fails || !v->dumped)) {
        dump_pair(ck, v->name, file, i, &so, &sa);
        v->dumped = 1;
    }
    mf_img_free(&so);
    mf_img_free(&sa);
    return fails;
}

typedef struct { /* the anonymizer as `mfmc anonymize` sets it up by default */
    mf_face_analyzer_t *fa;
    mf_anon_t *an;
    unsigned long long seed;
} anonymizer;

/* Anonymizes img in place as mfmc anonymize does; dec[k] / boxes (x y w h) of the n faces found. pic: the picture's
 * seed part (ps_name_hash). */
static int anonymize(anonymizer *A, mf_img *img, unsigned pic, int **dec, float **ctr, int *n) {
    const mf_face *found;
    if (mf_face_analyze_all(A->fa, img, &found, n)) return -1;
    mf_face *faces = malloc((size_t)(*n ? *n : 1) * sizeof *faces);
    *dec = malloc((size_t)(*n ? *n : 1) * sizeof **dec);
    *ctr = malloc((size_t)(*n ? *n : 1) * 4 * sizeof **ctr);
    if (!faces || !*dec || !*ctr) {
        free(faces);
        return -1;
    }
    memcpy(faces, found, (size_t)*n * sizeof *faces);
    for (int k = 0; k < *n; k++) { /* the detection's box, before any refit */
        const mf_face_box *b = faces[k].has_landmarks ? &faces[k].lm.box : &faces[k].det;
        (*ctr)[4 * k] = b->x, (*ctr)[4 * k + 1] = b->y, (*ctr)[4 * k + 2] = b->w, (*ctr)[4 * k + 3] = b->h;
    }
    /* (fall30) as mfmc anonymize: records whose mesh is off their detection's points refitted on the original
     * picture first; one refitted onto an earlier record's detection (IoU >= 0.5) keeps its own record */
    if (mf_anon_refit_photo(A->an, img, faces, *n, NULL)) {
        free(faces);
        return -1;
    }
    /* (prod31) as mfmc anonymize: a record not drawn that overlaps a drawn one after the drawn ones, and left as it is
     * when mf_anon_covered finds its identity already removed by their replacement (checked against the original) */
    int *defer = calloc((size_t)(*n ? *n : 1), sizeof *defer), *replaced = calloc((size_t)(*n ? *n : 1), sizeof *replaced);
    mf_img src0 = {0};
    int st = !defer || !replaced || (*n > 1 && mf_img_crop(img, 0, 0, img->w, img->h, &src0));
    for (int k = 0; !st && k < *n; k++) defer[k] = mf_anon_defer(A->an, img, faces, *n, k);
    for (int k0 = 0; !st && k0 < 2 * *n; k0++) {
        int k = k0 % *n, by = -1, covered = 0;
        if (defer[k] != (k0 >= *n)) continue;
        mf_anon_result r;
        if (src0.data && (st = mf_anon_covered(A->an, &src0, img, faces, *n, k, replaced, NULL, &r, &by, &covered))) break;
        if (by >= 0) { /* checked: what it found, covered or not */
            fprintf(stderr, "%s face %d by %d:", covered ? "COVERED" : "NOT COVERED", k, by);
            for (int q = 0; q < r.n_rec; q++) fprintf(stderr, " %s %.3f", mf_anon_recognizer_info(A->an, q)->name, r.sim[q]);
            fprintf(stderr, " (%s)\n", r.note);
        }
        if (!covered && (st = mf_anon_face(A->an, img, &faces[k], MF_ANON_SYNTH,
                                           A->seed * 1000003ull + (unsigned long long)pic * 4096ull + (unsigned)k, NULL, &r)))
            break;
        (*dec)[k] = (int)r.decision;
        replaced[k] = r.decision == MF_ANON_ACCEPTED || (r.decision == MF_ANON_FALLBACK && r.method == MF_ANON_SYNTH);
    }
    free(faces), free(defer), free(replaced);
    mf_img_free(&src0);
    return st ? -1 : 0;
}

/* The decision of the detection (boxes as x y w h in box[4k..]) that covers most of truth box t, both clipped to
 * the w x h picture: at least 30% of t's visible area; -1 none. (Boxes of faces cut by the border reach outside
 * the picture, so their centres may lie outside it.) */
static int decision_of(const float t[7], int w, int h, const int *dec, const float *box, int n) {
    float x0 = fmaxf(0, t[0]), y0 = fmaxf(0, t[1]), x1 = fminf((float)w, t[0] + t[2]), y1 = fminf((float)h, t[1] + t[3]);
    float area = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0), best_a = 0.3f * area;
    int best = -1;
    for (int k = 0; k < n; k++) {
        const float *d = box + 4 * k;
        float ix = fminf(x1, d[0] + d[2]) - fmaxf(x0, d[0]), iy = fminf(y1, d[1] + d[3]) - fmaxf(y0, d[1]);
        if (ix > 0 && iy > 0 && ix * iy >= best_a && area > 0) best_a = ix * iy, best = k;
    }
    return best < 0 ? -1 : dec[best];
}

/* A picture is wanted when its variant or its name in the set (variant/file) starts with one of the prefixes. */
static int wanted(const char *var, const char *file, const char *const *only, int n_only) {
    for (int i = 0; i < n_only; i++)
        if (!strncmp(var, only[i], strlen(only[i])) || !strncmp(file, only[i], strlen(only[i]))) return 1;
    return 0;
}

/* The table's row of variant s (decisions known when anonymized here). */
static void print_row(const variant_stats *s, int decisions) {
    printf("%s\t%d\t%d\t", s->name, s->pictures, s->faces);
    if (decisions)
        printf("%d\t%d\t%d\t%d\t", s->detected, s->replaced, s->synth, s->fallback);
    else
        printf("-\t%d\t-\t-\t", s->replaced);
    printf("%d\t%d\t%.3f\t%d\t%d\t%d\t%.1f\n", s->emb_before, s->emb_after, s->max_sim, s->similar, s->unchanged,
           s->similar_forced, s->pictures ? s->ms / 1e3 / s->pictures : 0);
    fflush(stdout);
}

/* Runs over DIR/truth.tsv: anonymizes (A) or reads the anonymized picture from out_dir. Returns failures, -1. */
static int run(checker *ck, anonymizer *A, const char *dir, const char *out_dir, const char *const *only, int n_only,
               int stride) {
    char path[4096];
    snprintf(path, sizeof path, "%s/truth.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "eval_privacy_anon: cannot read %s (build it with privacy-set)\n", path);
        return -1;
    }
    char *line = malloc(EV_TRUTH_LINE_MAX);
    static ev_truth tr;
    int failures = 0;
    printf("variant\tpictures\tfaces\tdetected\treplaced\tby_synthetic\tby_fallback\tembeddable_before"
           "\tembeddable_after\tmax_arcface\tleft_similar\tleft_unchanged\tsimilar_at_original_points\ts_per_picture\n");
    while (line && fgets(line, EV_TRUTH_LINE_MAX, f)) {
        if (ev_truth_parse(line, &tr)) continue;
        if (A && !wanted(tr.variant, tr.file, only, n_only)) continue;
        if (stride > 1 && ev_truth_number(&tr) % stride) continue;
        const char *var = tr.variant, *file = tr.file;
        int n = tr.n;
        int rows = n_vs;
        variant_stats *v = variant_row(var);
        if (!v) break;
        if (n_vs > rows && rows > 0) print_row(&vs[rows - 1], A != NULL); /* the previous variant is complete */
        mf_img orig, anon;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        if (mf_img_load(path, NULL, &orig, NULL)) {
            fprintf(stderr, "eval_privacy_anon: %s\n", mf_error_get());
            failures = -1;
            break;
        }
        int *dec = NULL, nd = 0, st;
        float *ctr = NULL;
        double t0 = now_ms();
        if (A) {
            st = mf_img_crop(&orig, 0, 0, orig.w, orig.h, &anon);
            if (!st) st = anonymize(A, &anon, ps_name_hash(file), &dec, &ctr, &nd);
        } else {
            snprintf(path, sizeof path, "%s/%s", out_dir, file);
            st = mf_img_load(path, NULL, &anon, NULL);
            if (!st && (anon.w != orig.w || anon.h != orig.h)) st = mf_error_set(MF_ERR_FORMAT, "%s: size changed", path);
        }
        v->ms += now_ms() - t0;
        if (st) {
            fprintf(stderr, "eval_privacy_anon: %s: %s\n", file, mf_error_get());
            mf_img_free(&orig);
            failures = -1;
            break;
        }
        v->pictures++;
        for (int i = 0; i < n; i++)
            failures += check_face(ck, v, file, i, &orig, &anon, tr.t[i],
                                   A ? decision_of(tr.t[i], orig.w, orig.h, dec, ctr, nd) : -2);
        free(dec);
        free(ctr);
        mf_img_free(&orig);
        mf_img_free(&anon);
    }
    free(line);
    fclose(f);
    if (n_vs) print_row(&vs[n_vs - 1], A != NULL);
    printf("arcface match threshold %.4f; %d face(s) failed\n", ck->thr, failures < 0 ? 0 : failures);
    return failures;
}

static int usage(void) {
    fprintf(stderr, "usage: eval_privacy_anon --set DIR [--only PREFIX]... [--stride K] [--seed S] [--cut-check N] [--attack-all N] "
                    "[--jitter-skip F] [--dump DIR]\n"
                    "       eval_privacy_anon --compare SET OUT [--dump DIR]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *set = NULL, *cmp_set = NULL, *cmp_out = NULL, *dump = NULL;
    const char *only[MAX_ONLY];
    int n_only = 0, stride = 1, cut_check = 0, attack_all = 0;
    float jitter_skip = 0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "--set") && more)
            set = argv[++i];
        else if (!strcmp(argv[i], "--compare") && i + 2 < argc)
            cmp_set = argv[i + 1], cmp_out = argv[i + 2], i += 2;
        else if (!strcmp(argv[i], "--only") && more && n_only < MAX_ONLY)
            only[n_only++] = argv[++i];
        else if (!strcmp(argv[i], "--stride") && more)
            stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && more)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--cut-check") && more)
            cut_check = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--attack-all") && more)
            attack_all = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--jitter-skip") && more)
            jitter_skip = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--dump") && more)
            dump = argv[++i];
        else
            return usage();
    }
    if (!set == !cmp_set || stride < 1) return usage();
    if (!n_only) only[n_only++] = "rot", only[n_only++] = "cut", only[n_only++] = "grid";
    if (dump) mkdir(dump, 0777);
    mf_nn_pool_t *pool = NULL;
    mf_face_models_t *fm = NULL;
    mf_face_analyzer_t *fa = NULL, *fc = NULL, *plain = NULL;
    mf_face_recognizer_t *rec = NULL;
    mf_anon_t *an = NULL;
    mf_face_analyzer_opts ao = {.pool = NULL, .privacy = 1}, co = {0}, po = {.no_attributes = 1};
    int rc = 2, loaded = 0;
    if (mf_nn_pool_create(2, &pool)) goto out;
    ao.pool = co.pool = po.pool = pool;
    /* what mfmc anonymize loads (apps/cli/anonymize.c): privacy analyser, plain analyser for the checks */
    if (mf_face_models_create(tu_models_dir(), &fm) || mf_face_analyzer_create_from(fm, &po, &plain) ||
        mf_face_recognizer_create_from(fm, "arcface", pool, &rec))
        goto out;
    if (set) {
        if (mf_face_analyzer_create_from(fm, &ao, &fa) || mf_face_analyzer_create_from(fm, &co, &fc)) goto out;
        mf_anon_opts aop = {.models_root = tu_models_dir(), .identity_model = "data/identity/synthetic-v1.mfid",
                            .an = fa, .pool = pool, .check_an = fc, .tuning = {.cut_check = cut_check, .attack_all = attack_all, .jitter_skip = jitter_skip}};
        if (mf_anon_create(&aop, &an)) goto out;
    }
    loaded = 1;
    checker ck = {plain, rec, mf_face_recognizer_info_of(rec)->match_threshold, dump};
    anonymizer A = {fa, an, seed};
    int failures = run(&ck, set ? &A : NULL, set ? set : cmp_set, cmp_out, only, n_only, stride);
    rc = failures < 0 ? 2 : failures > 0;
out:
    if (!loaded) fprintf(stderr, "eval_privacy_anon: cannot load the models: %s\n", mf_error_get());
    mf_anon_free(an);
    mf_face_recognizer_free(rec);
    mf_face_analyzer_free(plain);
    mf_face_analyzer_free(fa);
    mf_face_analyzer_free(fc);
    mf_face_models_free(fm);
    mf_nn_pool_free(pool);
    return rc;
}
