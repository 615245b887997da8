/* mfmc-eval: every figure from the records (evalrun.h, docs/evaluation.md for the definitions). */
#include "evalrun.h"

#include "evalutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float sim(const ev_run *R, int r, const float *a, const float *b) {
    return a && b ? mf_face_similarity(a, b, R->rec[r].info->dim) : NAN;
}

static void num(cJSON *o, const char *k, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* usable anonymized record: the original face was found and the method ran */
static int usable(const ev_item *it, int m) {
    return it->rec[EV_M_ORIGINAL].done && it->rec[EV_M_ORIGINAL].found && it->rec[m].done && it->rec[m].decision >= 0 &&
           it->emb[m][0] != NULL;
}

/* LFW verification with image_b anonymized by method m: 10-fold accuracy (threshold fitted on the other nine
 * folds of the same condition), TAR at the registry's FAR 1e-3 threshold. */
static cJSON *verification(ev_run *R, int r, int m, double *acc_out, double *tar_out) {
    cJSON *o = cJSON_CreateObject();
    ev_scored *v = malloc(sizeof(ev_scored) * (R->npairs + 1));
    int *fold = malloc(sizeof(int) * (R->npairs + 1)), n = 0, gen = 0, gen_pass = 0, imp = 0, imp_pass = 0;
    float thr = R->rec[r].info->match_threshold;
    for (int p = 0; p < R->npairs; p++) {
        const ev_item *a = &R->items[R->pairs[p].a], *b = &R->items[R->pairs[p].b];
        if (!usable(a, EV_M_ORIGINAL) || !usable(b, m)) continue;
        float s = sim(R, r, a->emb[EV_M_ORIGINAL][r], b->emb[m][r]);
        v[n] = (ev_scored){s, R->pairs[p].same}, fold[n] = R->pairs[p].fold, n++;
        if (R->pairs[p].same)
            gen++, gen_pass += s >= thr;
        else
            imp++, imp_pass += s >= thr;
    }
    double accs[10];
    int nf = 0;
    ev_scored *tr = malloc(sizeof(ev_scored) * (n + 1));
    for (int f = 0; f < 10; f++) {
        int nt = 0, ntest = 0, ok = 0;
        for (int i = 0; i < n; i++)
            if (fold[i] != f) tr[nt++] = v[i];
        for (int i = 0; i < n; i++)
            ntest += fold[i] == f;
        if (!nt || !ntest) continue;
        qsort(tr, nt, sizeof *tr, ev_cmp_scored_desc);
        float t = ev_best_threshold(tr, nt);
        for (int i = 0; i < n; i++)
            if (fold[i] == f) ok += (v[i].s >= t) == v[i].same;
        accs[nf++] = (double)ok / ntest;
    }
    double mean = 0, sd = 0;
    for (int f = 0; f < nf; f++)
        mean += accs[f];
    mean = nf ? mean / nf : NAN;
    for (int f = 0; f < nf; f++)
        sd += (accs[f] - mean) * (accs[f] - mean);
    sd = nf > 1 ? sqrt(sd / (nf - 1)) : NAN;
    double tar = gen ? (double)gen_pass / gen : NAN;
    cJSON_AddNumberToObject(o, "pairs", n);
    cJSON_AddNumberToObject(o, "folds", nf);
    num(o, "accuracy", mean);
    num(o, "accuracy_sd", sd);
    num(o, "tar", tar);
    num(o, "far", imp ? (double)imp_pass / imp : NAN);
    num(o, "threshold", thr);
    *acc_out = mean, *tar_out = tar;
    free(v), free(fold), free(tr);
    return o;
}

/* LFW: the same person folder; elsewhere every face is its own person */
static int same_person(const ev_item *a, const ev_item *b) {
    if (a->ds != EV_DS_LFW) return a == b;
    const char *sa = strrchr(a->rel, '/'), *sb = strrchr(b->rel, '/');
    return sa && sb && sa - a->rel == sb - b->rel && !strncmp(a->rel, b->rel, (size_t)(sa - a->rel));
}

static cJSON *reid(ev_run *R, int ds, int m, int r, double *v_out, double *i_out) {
    cJSON *o = cJSON_CreateObject();
    int n = 0, ver = 0, idn = 0, idp = 0, gal = 0;
    float thr = R->rec[r].info->match_threshold;
    for (int i = 0; i < R->nitems; i++)
        gal += R->items[i].ds == ds && usable(&R->items[i], EV_M_ORIGINAL);
    for (int i = 0; i < R->nitems; i++) {
        const ev_item *it = &R->items[i];
        if (it->ds != ds || !it->anon || !usable(it, m)) continue;
        n++;
        float own = sim(R, r, it->emb[m][r], it->emb[EV_M_ORIGINAL][r]);
        ver += own >= thr;
        /* identification: is its own original the nearest of all originals of the data set? (and, for LFW, is
         * the nearest original a photo of the same person?) */
        int beaten = 0, best = -1;
        float bs = own;
        for (int k = 0; k < R->nitems; k++) {
            const ev_item *g = &R->items[k];
            if (k == i || g->ds != ds || !usable(g, EV_M_ORIGINAL)) continue;
            float s = sim(R, r, it->emb[m][r], g->emb[EV_M_ORIGINAL][r]);
            if (s >= own) beaten = 1;
            if (s > bs) bs = s, best = k;
        }
        idn += !beaten;
        idp += best < 0 || same_person(it, &R->items[best]);
    }
    cJSON_AddNumberToObject(o, "faces", n);
    cJSON_AddNumberToObject(o, "gallery", gal);
    num(o, "verification", n ? (double)ver / n : NAN);
    num(o, "identification", n ? (double)idn / n : NAN);
    num(o, "identification_person", n ? (double)idp / n : NAN);
    num(o, "chance", gal ? 1.0 / gal : NAN);
    *v_out = n ? (double)ver / n : NAN, *i_out = n ? (double)idn / n : NAN;
    return o;
}

static float adiff(float a, float b) { return fabsf(a - b); }

/* The per-face figures of utility() whose median is reported, in the report's order, with their names there. */
enum {
    U_JUDGE_YAW, /* |after - before| by the judges (eval/lib/judges.h) */
    U_JUDGE_PITCH,
    U_JUDGE_ROLL,
    U_MESH_YAW, /* |after - before| by mfmc's own mesh */
    U_MESH_PITCH,
    U_MESH_ROLL,
    U_EYE_OPEN,
    U_MOUTH_OPEN, /* the last of the pose and expression errors (faces found again only) */
    U_DET_SCORE,
    U_MESH_SCORE,
    U_LIVE_BEFORE,
    U_LIVE_AFTER,
    U_SPOOF_BEFORE,
    U_SPOOF_AFTER,
    U_LAPLACIAN, /* Laplacian variance after / before */
    U_TIME,      /* ms per face */
    U_SLOTS
};
static const char *const u_name[U_SLOTS] = {
    "judge_yaw_error", "judge_pitch_error", "judge_roll_error", "mesh_yaw_error",    "mesh_pitch_error",
    "mesh_roll_error", "eye_open_error",    "mouth_open_error", "detector_score_change", "mesh_score_change",
    "liveness_before", "liveness_after",    "antispoof_before", "antispoof_after",  "laplacian_ratio",
    "time_ms"};

/* utility and realism of method m over data set ds (ds = EV_NDS: all) */
static cJSON *utility(ev_run *R, int ds, int m) {
    cJSON *o = cJSON_CreateObject();
    int cap = R->nitems + 1, n = 0, found = 0, g_n = 0, g_ok = 0, e_n = 0, e_ok = 0, fb = 0;
    float *buf[U_SLOTS];
    for (int k = 0; k < U_SLOTS; k++)
        buf[k] = malloc(sizeof(float) * cap);
    int cnt[U_SLOTS] = {0};
    double age_err = 0;
    int age_n = 0;
#define PUSH(k, v)                                                                                                     \
    do {                                                                                                               \
        float _v = (v);                                                                                                \
        if (isfinite(_v)) buf[k][cnt[k]++] = _v;                                                                       \
    } while (0)
    for (int i = 0; i < R->nitems; i++) {
        const ev_item *it = &R->items[i];
        if ((ds < EV_NDS && it->ds != ds) || !it->anon || !usable(it, m)) continue;
        const ev_rec *o0 = &it->rec[EV_M_ORIGINAL], *a = &it->rec[m];
        n++;
        fb += a->decision == MF_ANON_FALLBACK;
        PUSH(U_TIME, (float)a->ms);
        PUSH(U_LAPLACIAN, o0->lap > 0 ? a->lap / o0->lap : NAN);
        PUSH(U_LIVE_AFTER, a->j.live);
        PUSH(U_SPOOF_AFTER, a->j.antispoof);
        PUSH(U_LIVE_BEFORE, o0->j.live);
        PUSH(U_SPOOF_BEFORE, o0->j.antispoof);
        if (!a->found) continue;
        found++;
        PUSH(U_JUDGE_YAW, adiff(a->j.yaw, o0->j.yaw));
        PUSH(U_JUDGE_PITCH, adiff(a->j.pitch, o0->j.pitch));
        PUSH(U_JUDGE_ROLL, adiff(a->j.roll, o0->j.roll));
        PUSH(U_MESH_YAW, adiff(a->yaw, o0->yaw));
        PUSH(U_MESH_PITCH, adiff(a->pitch, o0->pitch));
        PUSH(U_MESH_ROLL, adiff(a->roll, o0->roll));
        PUSH(U_EYE_OPEN, adiff(a->eye_open, o0->eye_open));
        PUSH(U_MOUTH_OPEN, adiff(a->mouth_open, o0->mouth_open));
        PUSH(U_DET_SCORE, adiff(a->det_score, o0->det_score));
        PUSH(U_MESH_SCORE, adiff(a->mesh_score, o0->mesh_score));
        if (isfinite(a->j.age) && isfinite(o0->j.age)) age_err += fabs(a->j.age - o0->j.age), age_n++;
        g_n++, g_ok += (a->j.p_male > 0.5f) == (o0->j.p_male > 0.5f);
        e_n++, e_ok += a->j.expr_class == o0->j.expr_class;
    }
#undef PUSH
    cJSON_AddNumberToObject(o, "faces", n);
    num(o, "detection_rate", n ? (double)found / n : NAN);
    num(o, "fallback_rate", n ? (double)fb / n : NAN);
    for (int k = U_JUDGE_YAW; k <= U_MOUTH_OPEN; k++)
        num(o, u_name[k], ev_median(buf[k], cnt[k]));
    num(o, "expression_agreement", e_n ? (double)e_ok / e_n : NAN);
    num(o, "age_error", age_n ? age_err / age_n : NAN);
    num(o, "gender_agreement", g_n ? (double)g_ok / g_n : NAN);
    for (int k = U_DET_SCORE; k < U_SLOTS; k++)
        num(o, u_name[k], ev_median(buf[k], cnt[k]));
    for (int k = 0; k < U_SLOTS; k++)
        free(buf[k]);
    return o;
}

/* the judges against mfmc's own estimates on the originals (gender, age) and the mesh (pose) */
static cJSON *judges(ev_run *R) {
    cJSON *o = cJSON_CreateObject();
    int n = 0, g_n = 0, g_ok = 0;
    double *x[8];
    for (int k = 0; k < 8; k++)
        x[k] = malloc(sizeof(double) * (R->nitems + 1));
    float *d[4];
    for (int k = 0; k < 4; k++)
        d[k] = malloc(sizeof(float) * (R->nitems + 1));
    int na = 0, np = 0, nl = 0, ex[EV_JUDGE_EXPR_CLASSES] = {0};
    double amae = 0;
    for (int i = 0; i < R->nitems; i++) {
        const ev_rec *o0 = &R->items[i].rec[EV_M_ORIGINAL];
        if (!o0->done || !o0->found) continue;
        n++;
        if (isfinite(o0->p_male)) g_n++, g_ok += (o0->p_male > 0.5f) == (o0->j.p_male > 0.5f);
        if (o0->age >= 0 && isfinite(o0->j.age))
            x[0][na] = o0->age, x[1][na] = o0->j.age, amae += fabs(o0->age - o0->j.age), na++;
        if (isfinite(o0->yaw)) {
            x[2][np] = o0->yaw, x[3][np] = o0->j.yaw, x[4][np] = o0->pitch, x[5][np] = o0->j.pitch;
            x[6][np] = o0->roll, x[7][np] = o0->j.roll;
            d[0][np] = fabsf(o0->yaw - o0->j.yaw), d[1][np] = fabsf(o0->pitch - o0->j.pitch);
            d[2][np] = fabsf(o0->roll - o0->j.roll);
            np++;
        }
        d[3][nl++] = o0->j.live;
        if (o0->j.expr_class >= 0 && o0->j.expr_class < EV_JUDGE_EXPR_CLASSES) ex[o0->j.expr_class]++;
    }
    cJSON_AddNumberToObject(o, "faces", n);
    num(o, "gender_agreement", g_n ? (double)g_ok / g_n : NAN);
    num(o, "age_mae_vs_own", na ? amae / na : NAN);
    num(o, "age_correlation", na > 2 ? ev_pearson(x[0], x[1], na) : NAN);
    num(o, "yaw_correlation", np > 2 ? ev_pearson(x[2], x[3], np) : NAN);
    num(o, "pitch_correlation", np > 2 ? ev_pearson(x[4], x[5], np) : NAN);
    num(o, "roll_correlation", np > 2 ? ev_pearson(x[6], x[7], np) : NAN);
    num(o, "yaw_median_abs_diff", ev_median(d[0], np));
    num(o, "pitch_median_abs_diff", ev_median(d[1], np));
    num(o, "roll_median_abs_diff", ev_median(d[2], np));
    num(o, "liveness_median", ev_median(d[3], nl));
    cJSON *h = cJSON_AddObjectToObject(o, "expression_classes");
    for (int k = 0; k < EV_JUDGE_EXPR_CLASSES; k++)
        cJSON_AddNumberToObject(h, ev_judge_expr_name(k), ex[k]);
    for (int k = 0; k < 8; k++)
        free(x[k]);
    for (int k = 0; k < 4; k++)
        free(d[k]);
    return o;
}

cJSON *ev_figures(ev_run *R) {
    cJSON *fig = cJSON_CreateObject();
    cJSON *pr = cJSON_AddObjectToObject(fig, "protocol");
    cJSON_AddNumberToObject(pr, "lfw_pairs", R->npairs);
    cJSON_AddNumberToObject(pr, "seed", (double)R->seed);
    cJSON_AddStringToObject(pr, "anonymizer_revision", R->anon_rev);
    cJSON_AddStringToObject(pr, "measuring_revision", R->face_rev);
    if (R->brk) cJSON_AddStringToObject(pr, "broken_on_purpose", R->brk);
    cJSON *ml = cJSON_AddArrayToObject(pr, "methods");
    for (int m = 0; m < EV_NMETHODS; m++)
        if (R->methods[m]) cJSON_AddItemToArray(ml, cJSON_CreateString(ev_method_names[m]));
    cJSON *rl = cJSON_AddArrayToObject(pr, "recognizers");
    for (int r = 0; r < R->nrec; r++)
        cJSON_AddItemToArray(rl, cJSON_CreateString(R->rec[r].info->name));
    /* completeness: faces per data set, and how many have each record (a stopped run reports what it has) */
    cJSON *cp = cJSON_AddObjectToObject(fig, "completeness");
    for (int d = 0; d < EV_NDS; d++) {
        cJSON *c = cJSON_AddObjectToObject(cp, ev_ds_names[d]);
        int tot = 0, anon = 0, notfound = 0;
        for (int i = 0; i < R->nitems; i++)
            if (R->items[i].ds == d) {
                tot++, anon += R->items[i].anon;
                notfound += R->items[i].rec[0].done && !R->items[i].rec[0].found;
            }
        cJSON_AddNumberToObject(c, "faces", tot);
        cJSON_AddNumberToObject(c, "anonymized_faces", anon);
        cJSON_AddNumberToObject(c, "original_face_not_found", notfound);
        for (int m = 0; m < EV_NMETHODS; m++) {
            if (!R->methods[m]) continue;
            int done = 0;
            for (int i = 0; i < R->nitems; i++)
                done += R->items[i].ds == d && (m == 0 || R->items[i].anon) && R->items[i].rec[m].done;
            cJSON_AddNumberToObject(c, ev_method_names[m], done);
        }
    }
    /* verification */
    cJSON *ver = cJSON_AddObjectToObject(fig, "verification");
    double acc[EV_MAX_REC][EV_NMETHODS], tar[EV_MAX_REC][EV_NMETHODS];
    for (int r = 0; r < R->nrec; r++) {
        cJSON *vr = cJSON_AddObjectToObject(ver, R->rec[r].info->name);
        for (int m = 0; m < EV_NMETHODS; m++) {
            if (!R->methods[m]) continue;
            cJSON *o = verification(R, r, m, &acc[r][m], &tar[r][m]);
            if (m) {
                num(o, "accuracy_reduction", (acc[r][0] - acc[r][m]) / acc[r][0]);
                num(o, "accuracy_reduction_above_chance", (acc[r][0] - acc[r][m]) / (acc[r][0] - 0.5));
                num(o, "tar_reduction", (tar[r][0] - tar[r][m]) / tar[r][0]);
            }
            cJSON_AddItemToObject(vr, ev_method_names[m], o);
        }
    }
    cJSON *avg = cJSON_AddObjectToObject(fig, "verification_average");
    for (int m = 0; m < EV_NMETHODS; m++) {
        if (!R->methods[m]) continue;
        double a = 0, t = 0, red = 0, tred = 0, cred = 0;
        for (int r = 0; r < R->nrec; r++)
            a += acc[r][m], t += tar[r][m], red += (acc[r][0] - acc[r][m]) / acc[r][0],
                tred += (tar[r][0] - tar[r][m]) / tar[r][0], cred += (acc[r][0] - acc[r][m]) / (acc[r][0] - 0.5);
        cJSON *o = cJSON_AddObjectToObject(avg, ev_method_names[m]);
        num(o, "accuracy", a / R->nrec);
        num(o, "tar", t / R->nrec);
        if (m) {
            num(o, "accuracy_reduction", red / R->nrec);
            num(o, "accuracy_reduction_above_chance", cred / R->nrec);
            num(o, "tar_reduction", tred / R->nrec);
        }
    }
    /* re-identification */
    cJSON *re = cJSON_AddObjectToObject(fig, "reid");
    for (int d = 0; d < EV_NDS; d++) {
        cJSON *od = cJSON_AddObjectToObject(re, ev_ds_names[d]);
        for (int m = 1; m < EV_NMETHODS; m++) {
            if (!R->methods[m]) continue;
            cJSON *om = cJSON_AddObjectToObject(od, ev_method_names[m]);
            for (int r = 0; r < R->nrec; r++) {
                double v, i;
                cJSON_AddItemToObject(om, R->rec[r].info->name, reid(R, d, m, r, &v, &i));
            }
        }
    }
    /* utility and realism */
    cJSON *ut = cJSON_AddObjectToObject(fig, "utility");
    for (int d = 0; d <= EV_NDS; d++) {
        cJSON *od = cJSON_AddObjectToObject(ut, d < EV_NDS ? ev_ds_names[d] : "all");
        for (int m = 1; m < EV_NMETHODS; m++)
            if (R->methods[m]) cJSON_AddItemToObject(od, ev_method_names[m], utility(R, d, m));
    }
    cJSON_AddItemToObject(fig, "judges", judges(R));
    return fig;
}
