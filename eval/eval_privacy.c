/* Privacy detection against the normal mode (issue 11, docs/detection.md).
 *   eval_privacy --set DIR [--mode privacy|normal] [--only PREFIX] [--threads N]
 *       per variant of the set built by tests/tools/privacy-set (DIR/truth.tsv): recall (any face reported: the
 *       anonymizer covers it), recall of confirmed faces, roll within 10 degrees of the truth and yaw/pitch within
 *       5 degrees of the upright photo's (confirmed matches), false positives (reported faces matching no truth)
 *       per 10 megapixels and how many of them are confirmed (would be painted with a face), time per megapixel,
 *       and faces found only as candidates the way-up check (src/face/orient.c) left to the fallback.
 *   eval_privacy --lfw N [--mode ...]      recall on N upright LFW photos (first photo of N folders spread over
 *       the list, or every photo with N = 0): a reported face centred within 40 px of the photo centre.
 *   eval_privacy --demo RUNS               median analysis time of each demo photo, normal vs privacy (2 threads)
 * --stride K: only every K-th picture of each variant (by number; the big pictures small* and grid* are all kept
 * when K divides their numbers: small16/0000 ...). --min-face PX: smallest face of the (upright) detection, default
 * that of the mode. --threshold T: detector threshold of the (privacy) analysis, default that of the mode. Output:
 * one tab-separated line per variant (header first). Environment: PRIVACY_DUMP=1 prints each miss, found face, wrong
 * roll, yaw/pitch off by more than 5 degrees and false positive to stderr; PRIVACY_ROLL_ALL=1 fills the roll and
 * pose columns for every set, not only the rotated ones (the truth is the upright photo's: a cut face's roll is the
 * whole face's); PRIVACY_FEAT=1 prints a FEAT line per confirmed record (detection, mesh, the skin measure of
 * eval/lib/skin.h, the nearest larger sure record, the surer confirmed record overlapping it), PRIVACY_FEAT=2 also a
 * LOOK line with second looks at the doubtful ones (docs/detection.md, "Branch fp20"); PRIVACY_ROLLS=1 a ROLLS line
 * per record with a mesh: the truth's roll, the mesh's, the detection's keypoints' (docs/detection.md, "Branch
 * updown21"). */
#include "lib/testutil.h"
#include "face/orient.h"
#include "skin.h"
#include "mfmc/analyze.h"
#include "mfmc/nn.h"
#include "truth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_VARIANTS = 64 };

typedef struct {
    char name[64];
    int truth, found, confirmed, roll_n, roll_ok, pose_n, pose_ok, fp, fp_conf, pictures;
    int way_up_fallback; /* faces found only as candidates the way-up check left to the fallback (orient.c) */
    double mp, ms;
    double roll_err_sum;
} variant_stats;

static variant_stats vs[MAX_VARIANTS];
static int n_vs;

static variant_stats *stats_of(const char *name) {
    for (int i = 0; i < n_vs; i++)
        if (!strcmp(vs[i].name, name)) return &vs[i];
    if (n_vs == MAX_VARIANTS) return NULL;
    variant_stats *v = &vs[n_vs++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    return v;
}

static float iou4(const float a[4], const float b[4]) {
    float x0 = fmaxf(a[0], b[0]), y0 = fmaxf(a[1], b[1]);
    float x1 = fminf(a[0] + a[2], b[0] + b[2]), y1 = fminf(a[1] + a[3], b[1] + b[3]);
    float inter = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0), uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0;
}

static void clip4(float b[4], int w, int h) {
    float x0 = fmaxf(0, b[0]), y0 = fmaxf(0, b[1]), x1 = fminf((float)w, b[0] + b[2]),
          y1 = fminf((float)h, b[1] + b[3]);
    b[0] = x0, b[1] = y0, b[2] = fmaxf(0, x1 - x0), b[3] = fmaxf(0, y1 - y0);
}

/* Does face box d (clipped) cover truth t (clipped)? IOU >= 0.3, or d's centre inside t with a comparable size. */
static int matches(const float d[4], const float t[4]) {
    if (iou4(d, t) >= 0.3f) return 1;
    float cx = d[0] + d[2] / 2, cy = d[1] + d[3] / 2, ad = d[2] * d[3], at = t[2] * t[3];
    return cx >= t[0] && cx <= t[0] + t[2] && cy >= t[1] && cy <= t[1] + t[3] && ad > 0.2f * at && ad < 5.0f * at;
}

static float wrap180(float a) {
    a = fmodf(a + 180.0f, 360.0f);
    if (a < 0) a += 360.0f;
    return a - 180.0f;
}

/* PRIVACY_FEAT=1: one FEAT line per confirmed record (the signals of docs/detection.md "Branch fp20"): near = it
 * matches a truth face (or overlaps one by IOU 0.1), the roll error against that face, the detection and mesh, the skin
 * measure (eval/lib/skin.h) and the nearest larger sure record (side at least 1.3 times, detector score 0.5): its
 * centre distance over its side, the size ratio, its score, whether confirmed, and how much of this box lies in it. */
/* PRIVACY_FEAT=2 also looks again at each doubtful confirmed record (detector under 0.5): the way-up check's detector
 * upright at two scales (its first and second look) and the mesh on the detection scaled by 1.5 and 0.7. */
static mf_face_models_t *feat_models;
static mf_face_orient_t *feat_orient;
static mf_face_mesher_t *feat_mesh;

static void feat_looks(const mf_img *img, const mf_face *f, float out[6]) {
    for (int i = 0; i < 6; i++) out[i] = -1;
    if (!feat_models) {
        if (mf_face_models_create(tu_models_dir(), &feat_models) ||
            mf_face_orient_create_from(feat_models, NULL, &feat_orient) ||
            mf_face_mesher_create_from(feat_models, NULL, 0, &feat_mesh))
            return;
    }
    float cx = f->lm.box.x + 0.5f * f->lm.box.w, cy = f->lm.box.y + 0.5f * f->lm.box.h;
    float side = fmaxf(f->det.w, f->det.h), s4[4];
    static const float frac[2] = {0.5f, 0.375f};
    for (int a = 0; a < 2; a++) {
        if (mf_face_orient_scores(feat_orient, img, cx, cy, side, f->lm.roll, frac[a], s4, NULL)) return;
        out[2 * a] = s4[0];
        out[2 * a + 1] = s4[0] - fmaxf(s4[1], fmaxf(s4[2], s4[3]));
    }
    static const float scale[2] = {1.5f, 0.7f};
    for (int a = 0; a < 2; a++) {
        mf_face_box b = f->det;
        float dx = b.x + 0.5f * b.w, dy = b.y + 0.5f * b.h;
        b.w *= scale[a], b.h *= scale[a], b.x = dx - 0.5f * b.w, b.y = dy - 0.5f * b.h;
        for (int k = 0; k < MF_FACE_KP_COUNT; k++)
            b.kp[k][0] = dx + scale[a] * (b.kp[k][0] - dx), b.kp[k][1] = dy + scale[a] * (b.kp[k][1] - dy);
        mf_face_landmarks lm;
        if (mf_face_mesher_run(feat_mesh, img, &b, &lm)) return;
        out[4 + a] = lm.score;
    }
}

/* PRIVACY_ROLLS=1: one ROLLS line per record with a mesh: the truth's roll (nan: matching no truth face), the
 * mesh's roll, the detection's (its keypoints'), scores (docs/detection.md, "Branch updown21"). */
static void rolls_dump(const char *var, const char *file, const mf_img *img, const mf_face *faces, int nf,
                       float (*tr)[7], int n) {
    for (int k = 0; k < nf; k++) {
        const mf_face *f = &faces[k];
        if (!f->has_landmarks) continue;
        float d[4] = {f->det.x, f->det.y, f->det.w, f->det.h}, truth = NAN, best = -1;
        clip4(d, img->w, img->h);
        for (int i = 0; i < n; i++)
            if (matches(d, tr[i]) && iou4(d, tr[i]) > best) best = iou4(d, tr[i]), truth = tr[i][4];
        fprintf(stderr, "ROLLS %s %s %d conf %d truth %.1f mesh %.1f det_roll %.1f det %.3f flag %.3f side %.0f\n", var,
                file, k, f->confirmed, truth, f->lm.roll, f->det.roll * 180.0f / (float)M_PI, f->det.score, f->lm.score,
                fmaxf(f->det.w, f->det.h));
    }
}

static void feat_dump(const char *var, const char *file, const mf_img *img, const mf_face *faces, int nf,
                      float (*tr)[7], int n) {
    for (int k = 0; k < nf; k++) {
        const mf_face *f = &faces[k];
        if (!f->confirmed || !f->has_landmarks) continue;
        float d[4] = {f->det.x, f->det.y, f->det.w, f->det.h};
        clip4(d, img->w, img->h);
        int near = 0;
        float rerr = -1;
        for (int i = 0; i < n; i++)
            if (matches(d, tr[i]) || iou4(d, tr[i]) > 0.1f) {
                near = 1;
                rerr = fabsf(wrap180(f->lm.roll - tr[i][4]));
            }
        ev_skin_stats s;
        ev_skin_measure(img, &f->lm, &s);
        float side = fmaxf(f->det.w, f->det.h), best = 99, ratio = 0, sc = 0, inside = 0;
        int conf = -1;
        for (int j = 0; j < nf; j++) {
            const mf_face *g = &faces[j];
            float gs = fmaxf(g->det.w, g->det.h);
            if (j == k || gs < 1.3f * side || g->det.score < 0.5f) continue;
            float dx = f->det.x + 0.5f * f->det.w - g->det.x - 0.5f * g->det.w;
            float dy = f->det.y + 0.5f * f->det.h - g->det.y - 0.5f * g->det.h;
            float dist = hypotf(dx, dy) / gs;
            if (dist >= best) continue;
            float x0 = fmaxf(f->det.x, g->det.x), y0 = fmaxf(f->det.y, g->det.y);
            float x1 = fminf(f->det.x + f->det.w, g->det.x + g->det.w);
            float y1 = fminf(f->det.y + f->det.h, g->det.y + g->det.h);
            best = dist, ratio = gs / side, sc = g->det.score, conf = g->confirmed;
            inside = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0) / fmaxf(f->det.w * f->det.h, 1);
        }
        /* the surer confirmed record whose mesh box overlaps this one's most (over the smaller box) */
        float pov = 0, pdist = 99, pratio = 0;
        for (int j = 0; j < nf; j++) {
            const mf_face *g = &faces[j];
            if (j == k || !g->confirmed || !g->has_landmarks || !(g->det.score > f->det.score)) continue;
            const mf_face_box *a = &f->lm.box, *b = &g->lm.box;
            float x0 = fmaxf(a->x, b->x), y0 = fmaxf(a->y, b->y);
            float x1 = fminf(a->x + a->w, b->x + b->w), y1 = fminf(a->y + a->h, b->y + b->h);
            float o = fmaxf(0, x1 - x0) * fmaxf(0, y1 - y0) / fmaxf(fminf(a->w * a->h, b->w * b->h), 1);
            if (o <= pov) continue;
            float gs = fmaxf(g->det.w, g->det.h);
            pov = o, pratio = side / gs;
            pdist = hypotf(f->det.x + 0.5f * f->det.w - g->det.x - 0.5f * g->det.w,
                           f->det.y + 0.5f * f->det.h - g->det.y - 0.5f * g->det.h) / fmaxf(side, gs);
        }
        float look[6] = {-1, -1, -1, -1, -1, -1};
        if (atoi(getenv("PRIVACY_FEAT")) >= 2 && f->det.score < 0.5f) feat_looks(img, f, look);
        fprintf(stderr, "LOOK %s %d up %.3f lead %.3f up2 %.3f lead2 %.3f mesh15 %.4f mesh07 %.4f\n", file, k, look[0],
                look[1], look[2], look[3], look[4], look[5]);
        fprintf(stderr,
                "FEAT %s %s %d near %d rerr %.1f det %.3f flag %.4f passes %d side %.0f box %.0f %.0f roll %.1f "
                "probes %d cr %.3f cg %.3f spread %.4f skin %.2f ring %.4f eye %.3f mouth %.3f tex %.4f rtex %.4f "
                "sym %.3f "
                "larger %.2f ratio %.2f lscore %.3f lconf %d inside %.2f pov %.2f pdist %.2f pratio %.2f\n",
                var, file, k, near, rerr, f->det.score, f->lm.score, f->passes, side, f->det.x, f->det.y, f->lm.roll,
                s.probes, s.chroma_r, s.chroma_g, s.chroma_spread, s.skin_frac, s.ring_sat, s.eye_ratio, s.mouth_ratio,
                s.texture, s.ring_tex, s.sym, best, ratio, sc, conf, inside, pov, pdist, pratio);
    }
}

static double now_ms(void) { return tu_clock_ms(CLOCK_MONOTONIC); }

static int run_set(mf_face_analyzer_t *an, const char *dir, const char *only, int stride) {
    char path[4096];
    snprintf(path, sizeof path, "%s/truth.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "eval_privacy: cannot read %s (build it with privacy-set)\n", path);
        return 1;
    }
    char *line = malloc(EV_TRUTH_LINE_MAX);
    static ev_truth truth_line; /* the shared reader of the set's truth (eval/lib/truth.h) */
    float(*tr)[7] = truth_line.t;
    const char *var = truth_line.variant, *file = truth_line.file;
    while (line && fgets(line, EV_TRUTH_LINE_MAX, f)) {
        if (ev_truth_parse(line, &truth_line)) continue;
        int n = truth_line.n;
        if (only && strncmp(var, only, strlen(only))) continue;
        /* every stride-th picture of a variant (by its number), for a quicker sample */
        if (stride > 1 && ev_truth_number(&truth_line) % stride) continue;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        mf_img img;
        if (mf_img_load(path, NULL, &img, NULL)) {
            fprintf(stderr, "eval_privacy: %s\n", mf_error_get());
            continue;
        }
        variant_stats *v = stats_of(var);
        if (!v) break;
        const mf_face *faces;
        int nf;
        if (getenv("PRIVACY_DUMP")) fprintf(stderr, "PICTURE %s %s %dx%d\n", var, file, img.w, img.h);
        double t0 = now_ms();
        if (mf_face_analyze_all(an, &img, &faces, &nf)) {
            fprintf(stderr, "eval_privacy: %s: %s\n", path, mf_error_get());
            mf_img_free(&img);
            continue;
        }
        v->ms += now_ms() - t0;
        v->mp += (double)img.w * img.h / 1e6;
        v->pictures++;
        for (int i = 0; i < n; i++)
            clip4(tr[i], img.w, img.h);
        if (getenv("PRIVACY_FEAT")) feat_dump(var, file, &img, faces, nf, tr, n);
        if (getenv("PRIVACY_ROLLS")) rolls_dump(var, file, &img, faces, nf, tr, n);
        /* the roll columns: the rotated sets; every set with PRIVACY_ROLL_ALL=1 (the truth is the upright photo's) */
        int roll_case = !strncmp(var, "rot", 3) || getenv("PRIVACY_ROLL_ALL");
        for (int i = 0; i < n; i++) {
            v->truth++;
            int any = 0, best = -1;
            float best_iou = -1;
            for (int k = 0; k < nf; k++) {
                float d[4] = {faces[k].det.x, faces[k].det.y, faces[k].det.w, faces[k].det.h};
                clip4(d, img.w, img.h);
                if (!matches(d, tr[i])) continue;
                any = 1;
                float o = iou4(d, tr[i]);
                if (faces[k].confirmed && o > best_iou) best_iou = o, best = k;
            }
            v->found += any;
            if (!any && getenv("PRIVACY_DUMP"))
                fprintf(stderr, "MISS %s %s %.0f %.0f %.0f %.0f\n", var, file, tr[i][0], tr[i][1], tr[i][2], tr[i][3]);
            if (getenv("PRIVACY_DUMP"))
                for (int k = 0; k < nf; k++) {
                    float d[4] = {faces[k].det.x, faces[k].det.y, faces[k].det.w, faces[k].det.h};
                    clip4(d, img.w, img.h);
                    if (matches(d, tr[i]) && !faces[k].confirmed)
                        fprintf(stderr, "TP-unconfirmed %s %.3f %.3f %d\n", var, faces[k].det.score, faces[k].lm.score,
                                faces[k].passes);
                }
            if (best < 0) {
                int doubt = 0;
                for (int k = 0; k < nf && !doubt; k++) {
                    float d[4] = {faces[k].det.x, faces[k].det.y, faces[k].det.w, faces[k].det.h};
                    clip4(d, img.w, img.h);
                    doubt = faces[k].way_up_doubtful && matches(d, tr[i]);
                }
                v->way_up_fallback += doubt;
                if (doubt && getenv("PRIVACY_DUMP")) fprintf(stderr, "WAYUP-fallback %s %s\n", var, file);
                continue;
            }
            v->confirmed++;
            const mf_face *fc = &faces[best];
            if (getenv("PRIVACY_DUMP"))
                fprintf(stderr, "TP-confirmed %s %.3f %.3f %d\n", var, fc->det.score, fc->lm.score, fc->passes);
            if (roll_case) {
                float roll = fc->has_landmarks ? fc->lm.roll : fc->det.roll * 180.0f / (float)M_PI;
                float e = fabsf(wrap180(roll - tr[i][4]));
                v->roll_n++;
                v->roll_ok += e <= 10.0f;
                v->roll_err_sum += e;
                if (getenv("PRIVACY_DUMP") && e > 10.0f)
                    fprintf(stderr, "ROLL %s %s estimated %.1f truth %.1f det_score %.3f mesh_flag %.3f\n", var, file,
                            roll, tr[i][4], fc->det.score, fc->lm.score);
                if (fc->has_landmarks) {
                    v->pose_n++;
                    int ok = fabsf(fc->lm.yaw - tr[i][5]) <= 5.0f && fabsf(fc->lm.pitch - tr[i][6]) <= 5.0f;
                    v->pose_ok += ok;
                    if (getenv("PRIVACY_DUMP") && !ok)
                        fprintf(stderr, "POSE %s %s yaw %.1f truth %.1f pitch %.1f truth %.1f\n", var, file, fc->lm.yaw,
                                tr[i][5], fc->lm.pitch, tr[i][6]);
                }
            }
        }
        for (int k = 0; k < nf; k++) {
            float d[4] = {faces[k].det.x, faces[k].det.y, faces[k].det.w, faces[k].det.h};
            clip4(d, img.w, img.h);
            int m = 0;
            for (int i = 0; i < n && !m; i++)
                m = matches(d, tr[i]) || iou4(d, tr[i]) > 0.1f;
            if (!m) {
                if (getenv("PRIVACY_DUMP"))
                    fprintf(stderr, "FP %s %s %d %.3f %.3f %d box %.0f %.0f %.0f %.0f\n", var, file, faces[k].confirmed,
                            faces[k].det.score, faces[k].lm.score, faces[k].passes, faces[k].det.x, faces[k].det.y,
                            faces[k].det.w, faces[k].det.h);
                v->fp++;
                v->fp_conf += faces[k].confirmed;
            }
        }
        mf_img_free(&img);
    }
    free(line);
    fclose(f);
    printf(
        "variant\tpictures\tfaces\trecall\trecall_confirmed\troll_le10\tmean_roll_err\tyawpitch_le5\tfp\tfp_confirmed"
        "\tfp_per_10MP\tms_per_MP\tway_up_fallback\n");
    for (int i = 0; i < n_vs; i++) {
        const variant_stats *v = &vs[i];
        printf("%s\t%d\t%d\t%.2f%%\t%.2f%%\t", v->name, v->pictures, v->truth,
               v->truth ? 100.0 * v->found / v->truth : 0, v->truth ? 100.0 * v->confirmed / v->truth : 0);
        if (v->roll_n)
            printf("%.1f%%\t%.1f\t", 100.0 * v->roll_ok / v->roll_n, v->roll_err_sum / v->roll_n);
        else
            printf("-\t-\t");
        if (v->pose_n)
            printf("%.1f%%\t", 100.0 * v->pose_ok / v->pose_n);
        else
            printf("-\t");
        printf("%d\t%d\t%.2f\t%.0f\t%d\n", v->fp, v->fp_conf, v->mp > 0 ? 10.0 * v->fp / v->mp : 0,
               v->mp > 0 ? v->ms / v->mp : 0, v->way_up_fallback);
    }
    return 0;
}

static int run_lfw(mf_face_analyzer_t *an, int n_want) {
    char path[4096];
    snprintf(path, sizeof path, "%s/lfw", tu_data_dir());
    int n;
    char **names = tu_list_dir(path, &n);
    if (!names) {
        fprintf(stderr, "eval_privacy: no LFW at %s\n", path);
        return 1;
    }
    int total = 0, found = 0, confirmed = 0, unreadable = 0;
    double ms = 0;
    int count = n_want > 0 && n_want < n ? n_want : n;
    for (int k = 0; k < count; k++) {
        int i = (int)((long)k * n / count);
        char dir[2048];
        snprintf(dir, sizeof dir, "%s/lfw/%s", tu_data_dir(), names[i]);
        int m;
        char **files = tu_list_dir(dir, &m);
        if (!files) { /* never a silent skip: a run that read fewer photos than it says is not a figure */
            fprintf(stderr, "eval_privacy: cannot list %s\n", dir);
            unreadable++;
            continue;
        }
        for (int j = 0; j < m && (j == 0 || n_want == 0); j++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[j]);
            mf_img img;
            if (mf_img_load(path, NULL, &img, NULL)) {
                fprintf(stderr, "eval_privacy: %s: %s\n", path, mf_error_get());
                unreadable++;
                continue;
            }
            const mf_face *faces;
            int nf;
            double t0 = now_ms();
            int st = mf_face_analyze_all(an, &img, &faces, &nf);
            ms += now_ms() - t0;
            total++;
            int any = 0, conf = 0;
            for (int q = 0; !st && q < nf; q++) {
                float dx = faces[q].det.x + faces[q].det.w / 2 - img.w / 2.0f;
                float dy = faces[q].det.y + faces[q].det.h / 2 - img.h / 2.0f;
                if (hypotf(dx, dy) <= 40) any = 1, conf |= faces[q].confirmed;
            }
            found += any, confirmed += conf;
            if (!any) fprintf(stderr, "missed %s\n", path);
            mf_img_free(&img);
        }
        tu_names_free(files, m);
    }
    tu_names_free(names, n);
    printf("lfw_upright\t%d\t%d\t%.2f%%\t%.2f%%\t%.0f ms/photo\n", total, total, total ? 100.0 * found / total : 0,
           total ? 100.0 * confirmed / total : 0, total ? ms / total : 0);
    if (unreadable) fprintf(stderr, "eval_privacy: %d LFW photos or folders could not be read: incomplete\n", unreadable);
    return unreadable ? 1 : 0;
}

static int cmp_d(const void *a, const void *b) { return tu_cmp_double(a, b); }

/* MFMC_WORK=1 (--demo): the networks' runs and FLOPs of each mode's first measured analysis of each photo
 * (mf_nn_work_get), printed to stderr after the table: the load-independent measure of work. */
static void work_print(int n[2][6], mf_nn_work_entry e[2][6][MF_NN_WORK_KINDS], mf_face_analyzer_counts c[6]) {
    double tot[2] = {0, 0};
    for (int m = 0; m < 2; m++) {
        /* kinds over the six photos */
        mf_nn_work_entry all[MF_NN_WORK_KINDS];
        int na = 0;
        for (int p = 0; p < 6; p++) {
            double g = 0;
            for (int k = 0; k < n[m][p]; k++) {
                g += e[m][p][k].flops_per_run * (double)e[m][p][k].runs;
                int i = 0;
                while (i < na && all[i].flops_per_run != e[m][p][k].flops_per_run)
                    i++;
                if (i == na && na < MF_NN_WORK_KINDS) all[na++] = (mf_nn_work_entry){e[m][p][k].flops_per_run, 0};
                if (i < na) all[i].runs += e[m][p][k].runs;
            }
            fprintf(stderr, "WORK %s sample%d GFLOP %.2f\n", m ? "privacy" : "normal", p + 1, g / 1e9);
            tot[m] += g;
        }
        for (int i = 0; i < na; i++)
            fprintf(stderr, "WORK %s kind %.1f MFLOP x %ld runs = %.2f GFLOP\n", m ? "privacy" : "normal",
                    all[i].flops_per_run / 1e6, all[i].runs, all[i].flops_per_run * (double)all[i].runs / 1e9);
        fprintf(stderr, "WORK %s total GFLOP %.2f\n", m ? "privacy" : "normal", tot[m] / 1e9);
    }
    for (int p = 0; p < 6; p++)
        fprintf(stderr,
                "WORK privacy sample%d tiles %d (turned %d, their finest %d; zoomed %d; judge runs %d) meshes %d iris "
                "%d way_up %d judge %d attributes %d\n",
                p + 1, c[p].detector_tiles, c[p].turned_tiles, c[p].turned_finest_tiles,
                c[p].zoom_tiles, c[p].weak_judge_runs, c[p].mesh_runs, c[p].iris_runs, c[p].orient_runs, c[p].judge_runs,
                c[p].attribute_runs);
    fprintf(stderr, "WORK ratio privacy / normal %.3f\n", tot[0] > 0 ? tot[1] / tot[0] : 0);
}

static int run_demo(mf_nn_pool_t *pool, int runs, float threshold) {
    int work = getenv("MFMC_WORK") != NULL;
    static mf_nn_work_entry wk[2][6][MF_NN_WORK_KINDS];
    int wk_n[2][6] = {{0}};
    mf_face_analyzer_counts pc[6];
    mf_face_analyzer_t *an[2];
    for (int m = 0; m < 2; m++) {
        mf_face_analyzer_opts o = {.pool = pool, .privacy = m, .threshold = m ? threshold : 0};
        if (mf_face_analyzer_create(tu_models_dir(), &o, &an[m])) {
            fprintf(stderr, "eval_privacy: %s\n", mf_error_get());
            return 1;
        }
    }
    printf("photo\tnormal_ms\tprivacy_ms\tratio\tnormal_cpu_ms\tprivacy_cpu_ms\tcpu_ratio\tnormal_faces\tprivacy_faces"
           "\tprivacy_unconfirmed\tnormal_tiles\tprivacy_tiles\tnormal_meshes\tprivacy_meshes\tprivacy_way_up_runs"
           "\tprivacy_judge_runs\n");
    double ratios[6], cratios[6];
    double *t = malloc((size_t)runs * 4 * sizeof *t);
    if (!t) return 1;
    for (int p = 0; p < 6; p++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/demo/sample%d.jpg", tu_models_dir(), p + 1);
        mf_img img;
        if (mf_img_load(path, NULL, &img, NULL)) return 1;
        int nf[2], unc = 0;
        mf_face_analyzer_counts cnt[2];
        const mf_face *faces;
        for (int m = 0; m < 2; m++) /* warm-up */
            if (mf_face_analyze_all(an[m], &img, &faces, &nf[m])) return 1;
        /* the two modes interleaved, so both see the same load of this shared machine */
        for (int r = 0; r < runs; r++)
            for (int m = 0; m < 2; m++) {
                if (r == 0 && work) mf_nn_work_reset();
                double t0 = now_ms(), c0 = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID);
                mf_face_analyze_all(an[m], &img, &faces, &nf[m]);
                if (r == 0 && work) wk_n[m][p] = mf_nn_work_get(wk[m][p], MF_NN_WORK_KINDS);
                t[(2 * m) * runs + r] = now_ms() - t0;
                t[(2 * m + 1) * runs + r] = tu_clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
                if (r == 0) mf_face_analyzer_last_counts(an[m], &cnt[m]);
                if (m && r == 0)
                    for (int q = 0; q < nf[m]; q++)
                        unc += !faces[q].confirmed;
            }
        double med[4];
        for (int k = 0; k < 4; k++) {
            qsort(t + k * runs, (size_t)runs, sizeof *t, cmp_d);
            med[k] = t[k * runs + runs / 2];
        }
        ratios[p] = med[2] / med[0];
        cratios[p] = med[3] / med[1];
        printf("sample%d\t%.0f\t%.0f\t%.2f\t%.0f\t%.0f\t%.2f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", p + 1, med[0],
               med[2], ratios[p], med[1], med[3], cratios[p], nf[0], nf[1], unc, cnt[0].detector_tiles,
               cnt[1].detector_tiles, cnt[0].mesh_runs, cnt[1].mesh_runs, cnt[1].orient_runs, cnt[1].judge_runs);
        pc[p] = cnt[1];
        mf_img_free(&img);
    }
    free(t);
    qsort(ratios, 6, sizeof *ratios, cmp_d);
    qsort(cratios, 6, sizeof *cratios, cmp_d);
    printf("median ratio (wall)\t%.2f\nmedian ratio (cpu)\t%.2f\n", 0.5 * (ratios[2] + ratios[3]),
           0.5 * (cratios[2] + cratios[3]));
    if (work) work_print(wk_n, wk, pc);
    mf_face_analyzer_free(an[0]);
    mf_face_analyzer_free(an[1]);
    return 0;
}

int main(int argc, char **argv) {
    const char *set = NULL, *only = NULL, *mode = "privacy";
    int lfw = -1, demo = 0, threads = 2, min_face = 0, stride = 1;
    float threshold = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--set") && i + 1 < argc)
            set = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--lfw") && i + 1 < argc)
            lfw = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--demo") && i + 1 < argc)
            demo = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-face") && i + 1 < argc)
            min_face = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stride") && i + 1 < argc)
            stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threshold") && i + 1 < argc)
            threshold = (float)atof(argv[++i]);
        else {
            fprintf(stderr, "usage: eval_privacy (--set DIR [--only PREFIX] | --lfw N | --demo RUNS) [--mode "
                            "privacy|normal] [--threads N] [--min-face PX] [--stride K] [--threshold T]\n");
            return 2;
        }
    }
    mf_nn_pool_t *pool = NULL;
    if (threads > 1 && mf_nn_pool_create(threads, &pool)) return 1;
    int r;
    if (demo > 0) {
        r = run_demo(pool, demo, threshold);
    } else {
        mf_face_analyzer_opts o = {
            .pool = pool, .privacy = !strcmp(mode, "privacy"), .min_face = min_face, .threshold = threshold};
        mf_face_analyzer_t *an;
        if (mf_face_analyzer_create(tu_models_dir(), &o, &an)) {
            fprintf(stderr, "eval_privacy: %s\n", mf_error_get());
            return 1;
        }
        r = set ? run_set(an, set, only, stride) : lfw >= 0 ? run_lfw(an, lfw) : 2;
        mf_face_analyzer_free(an);
    }
    mf_nn_pool_free(pool);
    return r;
}
