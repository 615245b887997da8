/* mfmc-eval: the report (results.json, results.md, index.html with inline SVG plots, the plots as .svg files,
 * contact sheets as PNG). Everything goes to the output folder (git-ignored: it shows faces). */
#include "evalrun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double get(cJSON *o, const char *a, const char *b, const char *c, const char *d) {
    const char *k[4] = {a, b, c, d};
    for (int i = 0; i < 4 && k[i] && o; i++)
        o = cJSON_GetObjectItemCaseSensitive(o, k[i]);
    return o && cJSON_IsNumber(o) ? o->valuedouble : NAN;
}

static const char *const colors[EV_NMETHODS] = {"#4a4a4a", "#2b7bb9", "#7fb2dc", "#d9822b", "#e8b04a", "#b03a2e",
                                                 "#1d4f77"};

/* grouped bar chart: groups x series, values 0..ymax; NAN bars are left out */
static void bars(FILE *f, const char *title, const char *ylabel, int ng, const char *const *gname, int ns,
                 const char *const *sname, const char *const *scol, const double *v, double ymax, int percent) {
    int W = 860, H = 360, L = 56, B = 115, T = 40, Rm = 130;
    double gw = (double)(W - L - Rm) / (ng ? ng : 1), bw = gw * 0.8 / (ns ? ns : 1);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">%s</text>\n",
            W, H, W, H, L, title);
    for (int t = 0; t <= 4; t++) {
        double y = H - B - (H - B - T) * t / 4.0, val = ymax * t / 4;
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", L, W - Rm, y, y);
        if (percent)
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n", L - 4, y + 4, 100 * val);
        else
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", L - 4, y + 4, val);
    }
    fprintf(f, "<text transform=\"translate(12,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", (H - B + T) / 2,
            ylabel);
    for (int g = 0; g < ng; g++) {
        double x0 = L + g * gw + gw * 0.1;
        for (int s = 0; s < ns; s++) {
            double val = v[g * ns + s];
            if (!isfinite(val)) continue;
            double h = fmin(val / ymax, 1.0) * (H - B - T);
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s: "
                    "%.4g</title></rect>",
                    x0 + s * bw, H - B - h, bw * 0.92, h < 0.5 && val > 0 ? 0.5 : h, scol[s], gname[g], sname[s], val);
            /* the value above the bar when there is room (zero bars stay readable) */
            if (bw >= 14) {
                if (percent)
                    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\" text-anchor=\"middle\">%.0f</text>",
                            x0 + s * bw + bw * 0.46, H - B - h - 2, 100 * val);
                else
                    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\" text-anchor=\"middle\">%.1f</text>",
                            x0 + s * bw + bw * 0.46, H - B - h - 2, val);
            }
        }
        fprintf(f, "\n<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" transform=\"rotate(-35 %.1f %d)\">%s</text>\n",
                L + g * gw + gw * 0.6, H - B + 14, L + g * gw + gw * 0.6, H - B + 14, gname[g]);
    }
    for (int s = 0; s < ns; s++)
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
                W - Rm + 10, T + s * 18, scol[s], W - Rm + 28, T + s * 18 + 10, sname[s]);
    fprintf(f, "</svg>\n");
}

typedef struct {
    char *buf;
    size_t len;
} membuf;

static void plot_to(const char *dir, const char *name, membuf *mb, void (*draw)(FILE *, void *), void *ctx) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) draw(f, ctx), fclose(f);
    FILE *m = open_memstream(&mb->buf, &mb->len);
    if (m) draw(m, ctx), fclose(m);
}

/* A bar chart of utility figures (figures.c's "utility" over all data sets), one group per figure. */
typedef struct {
    const char *title, *ylabel;
    int n;                       /* figures (at most 8) */
    const char *const *keys;     /* their names in the figures */
    const char *const *labels;   /* and on the chart */
    int rate;                    /* 1: rates on a 0..1 axis, in percent; 0: errors, the axis rounded up to 5 */
} util_chart;

typedef struct {
    ev_run *R;
    cJSON *fig;
    int ms[EV_NMETHODS], nm; /* selected methods */
    int ds;
    const util_chart *chart; /* of draw_utility */
} pctx;

/* The selected anonymization methods (not "original") as chart series: names in s, colours in col; their count. */
static int anon_series(const pctx *P, const char **s, const char **col) {
    int ns = 0;
    for (int k = 0; k < P->nm; k++)
        if (P->ms[k]) s[ns] = ev_method_names[P->ms[k]], col[ns] = colors[P->ms[k]], ns++;
    return ns;
}

static void draw_accuracy(FILE *f, void *c) {
    pctx *P = c;
    ev_run *R = P->R;
    const char *g[EV_MAX_REC + 1], *s[EV_NMETHODS], *col[EV_NMETHODS];
    double v[(EV_MAX_REC + 1) * EV_NMETHODS];
    for (int r = 0; r <= R->nrec; r++) {
        g[r] = r < R->nrec ? R->rec[r].info->name : "average";
        for (int k = 0; k < P->nm; k++)
            v[r * P->nm + k] = r < R->nrec
                                   ? get(P->fig, "verification", g[r], ev_method_names[P->ms[k]], "accuracy")
                                   : get(P->fig, "verification_average", ev_method_names[P->ms[k]], "accuracy", NULL);
    }
    for (int k = 0; k < P->nm; k++)
        s[k] = ev_method_names[P->ms[k]], col[k] = colors[P->ms[k]];
    bars(f, "LFW verification accuracy (10-fold), one side anonymized (chance = 50%)", "accuracy", R->nrec + 1, g,
         P->nm, s, col, v, 1.0, 1);
}

static void draw_reid(FILE *f, void *c) {
    pctx *P = c;
    ev_run *R = P->R;
    const char *g[EV_MAX_REC * 2], *s[EV_NMETHODS], *col[EV_NMETHODS];
    char names[EV_MAX_REC * 2][64];
    double v[EV_MAX_REC * 2 * EV_NMETHODS];
    int ns = anon_series(P, s, col);
    for (int r = 0; r < R->nrec; r++)
        for (int t = 0; t < 2; t++) {
            snprintf(names[2 * r + t], 64, "%s %s", R->rec[r].info->name, t ? "ident." : "verif.");
            g[2 * r + t] = names[2 * r + t];
            cJSON *o =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(P->fig, "reid"), ev_ds_names[P->ds]);
            int q = 0;
            for (int k = 0; k < P->nm; k++)
                if (P->ms[k])
                    v[(2 * r + t) * ns + q++] = get(cJSON_GetObjectItemCaseSensitive(o, ev_method_names[P->ms[k]]),
                                                    R->rec[r].info->name, t ? "identification" : "verification", NULL, NULL);
        }
    char title[160];
    snprintf(title, sizeof title, "Re-identification on %s: verification (FAR 1e-3) and identification (rank 1)",
             ev_ds_names[P->ds]);
    bars(f, title, "re-identified", 2 * R->nrec, g, ns, s, col, v, 1.0, 1);
}

static void draw_utility(FILE *f, void *c) {
    const pctx *P = c;
    const util_chart *U = P->chart;
    const char *s[EV_NMETHODS], *col[EV_NMETHODS];
    double v[8 * EV_NMETHODS], mx = 1;
    int ns = anon_series(P, s, col);
    for (int a = 0; a < U->n && a < 8; a++)
        for (int q = 0; q < ns; q++) {
            v[a * ns + q] = get(P->fig, "utility", "all", s[q], U->keys[a]);
            if (isfinite(v[a * ns + q]) && v[a * ns + q] > mx) mx = v[a * ns + q];
        }
    bars(f, U->title, U->ylabel, U->n < 8 ? U->n : 8, U->labels, ns, s, col, v, U->rate ? 1.0 : ceil(mx / 5) * 5,
         U->rate);
}

static const char *const attr_keys[] = {"judge_yaw_error", "judge_pitch_error", "judge_roll_error", "age_error"};
static const char *const attr_labels[] = {"yaw error (deg)", "pitch error (deg)", "roll error (deg)",
                                          "age error (years)"};
static const util_chart attr_chart = {
    "Attribute errors by the independent judges (median |change| of pose, mean |change| of age)", "error", 4,
    attr_keys, attr_labels, 0};
static const char *const keep_keys[] = {"detection_rate", "gender_agreement", "expression_agreement"};
static const char *const keep_labels[] = {"detected again", "gender kept", "expression kept"};
static const util_chart keep_chart = {"What is kept (all anonymized faces; judges for gender and expression)", "rate",
                                      3, keep_keys, keep_labels, 1};

/* contact sheet: one row per sheet face of data set ds, one column per method */
static void sheet(ev_run *R, int ds, const int *ms, int nm, char *name, size_t nlen) {
    int rows = 0, C = 128;
    for (int i = 0; i < R->nitems; i++)
        rows += R->items[i].ds == ds && R->items[i].sheet && R->items[i].anon;
    snprintf(name, nlen, "sheet_%s.png", ev_ds_names[ds]);
    if (!rows) {
        name[0] = 0;
        return;
    }
    mf_img S;
    if (mf_img_init(&S, nm * (C + 4), rows * (C + 4), 3)) return;
    memset(S.data, 255, (size_t)S.w * S.h * 3);
    int row = 0;
    for (int i = 0; i < R->nitems; i++) {
        const ev_item *it = &R->items[i];
        if (it->ds != ds || !it->sheet || !it->anon) continue;
        for (int k = 0; k < nm; k++) {
            char p[4200];
            snprintf(p, sizeof p, "%s/crops/%s_%04d_%s.png", R->out, ev_ds_names[ds], i, ev_method_names[ms[k]]);
            mf_img c, r;
            if (mf_img_load(p, NULL, &c, NULL)) continue;
            if (!mf_img_resize(&c, C, C, &r)) {
                for (int y = 0; y < C; y++)
                    memcpy(S.data + (((size_t)row * (C + 4) + y) * S.w + (size_t)k * (C + 4)) * 3,
                           r.data + (size_t)y * C * 3, (size_t)C * 3);
                mf_img_free(&r);
            }
            mf_img_free(&c);
        }
        row++;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", R->out, name);
    mf_img_save(&S, p, 90);
    mf_img_free(&S);
}

/* The two header rows of a markdown table: `first`, then methods ms[from..nm). */
static void md_header(FILE *f, const char *first, const int *ms, int from, int nm) {
    fprintf(f, "| %s |", first);
    for (int k = from; k < nm; k++)
        fprintf(f, " %s |", ev_method_names[ms[k]]);
    fprintf(f, "\n|---|");
    for (int k = from; k < nm; k++)
        fprintf(f, "---|");
    fprintf(f, "\n");
}

static void md_tables(FILE *f, ev_run *R, cJSON *fig, const int *ms, int nm) {
    fprintf(f, "### LFW verification accuracy (10-fold) / TAR at FAR 1e-3, one side anonymized (%d pairs)\n\n",
            R->npairs);
    md_header(f, "recognizer", ms, 0, nm);
    for (int r = 0; r <= R->nrec; r++) {
        const char *n = r < R->nrec ? R->rec[r].info->name : "**average**";
        fprintf(f, "| %s |", n);
        for (int k = 0; k < nm; k++) {
            const char *mn = ev_method_names[ms[k]];
            double a = r < R->nrec ? get(fig, "verification", n, mn, "accuracy")
                                   : get(fig, "verification_average", mn, "accuracy", NULL);
            double t = r < R->nrec ? get(fig, "verification", n, mn, "tar")
                                   : get(fig, "verification_average", mn, "tar", NULL);
            double red = r < R->nrec ? get(fig, "verification", n, mn, "accuracy_reduction")
                                     : get(fig, "verification_average", mn, "accuracy_reduction", NULL);
            if (!isfinite(a))
                fprintf(f, " - |");
            else if (ms[k])
                fprintf(f, " %.1f%% / %.1f%% (-%.0f%%) |", 100 * a, 100 * t, 100 * red);
            else
                fprintf(f, " %.1f%% / %.1f%% |", 100 * a, 100 * t);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n(-N%%: relative reduction of accuracy against the originals, the paper's measure.)\n\n");
    fprintf(f, "| average over recognizers | relative accuracy reduction | reduction above chance | TAR reduction |\n"
               "|---|---|---|---|\n");
    for (int k = 1; k < nm; k++) {
        const char *mn = ev_method_names[ms[k]];
        fprintf(f, "| %s | %.1f%% | %.1f%% | %.1f%% |\n", mn,
                100 * get(fig, "verification_average", mn, "accuracy_reduction", NULL),
                100 * get(fig, "verification_average", mn, "accuracy_reduction_above_chance", NULL),
                100 * get(fig, "verification_average", mn, "tar_reduction", NULL));
    }
    fprintf(f, "\n");
    for (int d = 0; d < EV_NDS; d++) {
        if (!(get(fig, "completeness", ev_ds_names[d], "anonymized_faces", NULL) > 0)) continue;
        fprintf(f, "### Re-identification on %s: verification (>= FAR 1e-3 threshold) / identification (rank 1)%s\n\n",
                ev_ds_names[d], d == EV_DS_LFW ? " / nearest original is the same person" : "");
        md_header(f, "recognizer", ms, 1, nm);
        for (int r = 0; r < R->nrec; r++) {
            fprintf(f, "| %s |", R->rec[r].info->name);
            for (int k = 1; k < nm; k++) {
                cJSON *o = cJSON_GetObjectItemCaseSensitive(fig, "reid");
                o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, ev_ds_names[d]),
                                                     ev_method_names[ms[k]]);
                o = cJSON_GetObjectItemCaseSensitive(o, R->rec[r].info->name);
                if (d == EV_DS_LFW)
                    fprintf(f, " %.2f%% / %.2f%% / %.2f%% (n=%.0f) |", 100 * get(o, "verification", NULL, NULL, NULL),
                            100 * get(o, "identification", NULL, NULL, NULL),
                            100 * get(o, "identification_person", NULL, NULL, NULL), get(o, "faces", NULL, NULL, NULL));
                else
                    fprintf(f, " %.2f%% / %.2f%% (n=%.0f) |", 100 * get(o, "verification", NULL, NULL, NULL),
                            100 * get(o, "identification", NULL, NULL, NULL), get(o, "faces", NULL, NULL, NULL));
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\n");
    }
    static const char *uk[] = {"faces",
                               "detection_rate",
                               "fallback_rate",
                               "judge_yaw_error",
                               "judge_pitch_error",
                               "judge_roll_error",
                               "mesh_yaw_error",
                               "mesh_pitch_error",
                               "mesh_roll_error",
                               "eye_open_error",
                               "mouth_open_error",
                               "expression_agreement",
                               "age_error",
                               "gender_agreement",
                               "detector_score_change",
                               "mesh_score_change",
                               "liveness_before",
                               "liveness_after",
                               "antispoof_before",
                               "antispoof_after",
                               "laplacian_ratio",
                               "time_ms"};
    for (int d = 0; d <= EV_NDS; d++) {
        const char *dn = d < EV_NDS ? ev_ds_names[d] : "all";
        if (d < EV_NDS && !(get(fig, "completeness", dn, "anonymized_faces", NULL) > 0)) continue;
        fprintf(f,
                "### Utility and realism on %s (judges: faceplugin age/gender/pose/expression/liveness, human "
                "antispoof)\n\n",
                dn);
        md_header(f, "figure", ms, 1, nm);
        for (size_t q = 0; q < sizeof uk / sizeof *uk; q++) {
            fprintf(f, "| %s |", uk[q]);
            for (int k = 1; k < nm; k++) {
                double v = get(fig, "utility", dn, ev_method_names[ms[k]], uk[q]);
                int pct = strstr(uk[q], "rate") || strstr(uk[q], "agreement");
                if (!isfinite(v))
                    fprintf(f, " - |");
                else if (pct)
                    fprintf(f, " %.1f%% |", 100 * v);
                else
                    fprintf(f, " %.3g |", v);
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\n");
    }
    cJSON *j = cJSON_GetObjectItemCaseSensitive(fig, "judges");
    fprintf(f, "### The judges against mfmc's own estimates on the originals (%.0f faces)\n\n",
            get(j, "faces", 0, 0, 0));
    fprintf(f, "| check | figure |\n|---|---|\n");
    fprintf(f, "| gender agreement (fr_gender vs the attribute model) | %.1f%% |\n",
            100 * get(j, "gender_agreement", 0, 0, 0));
    fprintf(f, "| age: mean abs difference / correlation (fr_age vs the attribute model) | %.1f y / %.2f |\n",
            get(j, "age_mae_vs_own", 0, 0, 0), get(j, "age_correlation", 0, 0, 0));
    fprintf(f, "| yaw / pitch / roll correlation with the mesh | %.2f / %.2f / %.2f |\n",
            get(j, "yaw_correlation", 0, 0, 0), get(j, "pitch_correlation", 0, 0, 0),
            get(j, "roll_correlation", 0, 0, 0));
    fprintf(f, "| yaw / pitch / roll median abs difference to the mesh (deg) | %.1f / %.1f / %.1f |\n",
            get(j, "yaw_median_abs_diff", 0, 0, 0), get(j, "pitch_median_abs_diff", 0, 0, 0),
            get(j, "roll_median_abs_diff", 0, 0, 0));
    fprintf(f, "| fr_liveness median real-class probability | %.3f |\n\n", get(j, "liveness_median", 0, 0, 0));
}

static void html_escape_md(FILE *f, const char *md) {
    /* the Markdown tables rendered as HTML tables (only what md_tables writes: headings, pipes, paragraphs) */
    const char *s = md;
    int in_table = 0, header = 0;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), s);
        if (line[0] == '|') {
            if (!in_table) fprintf(f, "<table>\n"), in_table = 1, header = 1;
            if (strstr(line, "|---")) {
                header = 0;
            } else {
                fprintf(f, "<tr>");
                char *c = line + 1;
                while (*c) {
                    char *bar = strchr(c, '|');
                    if (!bar) break;
                    *bar = 0;
                    char *t = c;
                    while (*t == ' ')
                        t++;
                    fprintf(f, header ? "<th>" : "<td>");
                    for (char *q = t; *q; q++)
                        if (*q == '<')
                            fputs("&lt;", f);
                        else if (*q == '&')
                            fputs("&amp;", f);
                        else if (*q != '*')
                            fputc(*q, f);
                    fprintf(f, header ? "</th>" : "</td>");
                    c = bar + 1;
                }
                fprintf(f, "</tr>\n");
            }
        } else {
            if (in_table) fprintf(f, "</table>\n"), in_table = 0;
            if (!strncmp(line, "### ", 4))
                fprintf(f, "<h3>%s</h3>\n", line + 4);
            else if (line[0])
                fprintf(f, "<p>%s</p>\n", line);
        }
        s = e ? e + 1 : s + n;
    }
    if (in_table) fprintf(f, "</table>\n");
}

int ev_report(ev_run *R, cJSON *fig) {
    char p[4200];
    int ms[EV_NMETHODS], nm = 0;
    for (int m = 0; m < EV_NMETHODS; m++)
        if (R->methods[m]) ms[nm++] = m;
    /* results.json */
    snprintf(p, sizeof p, "%s/results.json", R->out);
    char *js = cJSON_Print(fig);
    FILE *f = fopen(p, "w");
    if (!f || !js) {
        fprintf(stderr, "mfmc eval: cannot write %s\n", p);
        if (f) fclose(f);
        free(js);
        return -1;
    }
    fputs(js, f), fputc('\n', f), fclose(f), free(js);
    /* results.md */
    char *md = NULL;
    size_t mdlen = 0;
    FILE *m = open_memstream(&md, &mdlen);
    if (!m) return -1;
    md_tables(m, R, fig, ms, nm);
    fclose(m);
    snprintf(p, sizeof p, "%s/results.md", R->out);
    if ((f = fopen(p, "w"))) {
        fprintf(f, "# mfmc eval results\n\nAnonymizer revision %s, seed %llu. Definitions: docs/evaluation.md.\n\n",
                R->anon_rev, (unsigned long long)R->seed);
        fputs(md, f), fclose(f);
    }
    /* plots */
    pctx P = {.R = R, .fig = fig, .nm = nm};
    memcpy(P.ms, ms, sizeof ms);
    membuf acc = {0}, reid_l = {0}, reid_f = {0}, attr = {0}, keep = {0};
    plot_to(R->out, "accuracy.svg", &acc, draw_accuracy, &P);
    P.ds = EV_DS_LFW;
    plot_to(R->out, "reid_lfw.svg", &reid_l, draw_reid, &P);
    P.ds = EV_DS_FFHQ;
    plot_to(R->out, "reid_ffhq.svg", &reid_f, draw_reid, &P);
    P.chart = &attr_chart;
    plot_to(R->out, "attributes.svg", &attr, draw_utility, &P);
    P.chart = &keep_chart;
    plot_to(R->out, "kept.svg", &keep, draw_utility, &P);
    /* contact sheets */
    char sh[EV_NDS][64];
    for (int d = 0; d < EV_NDS; d++)
        sheet(R, d, ms, nm, sh[d], sizeof sh[d]);
    /* index.html: inline CSS and SVG, images by relative path, no script, no font */
    snprintf(p, sizeof p, "%s/index.html", R->out);
    if (!(f = fopen(p, "w"))) return -1;
    fprintf(
        f,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mfmc evaluation</title>\n<style>\n"
        "body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}\n"
        "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;"
        "text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}\n"
        "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1.05em}"
        "svg{max-width:100%%;height:auto;display:block;margin:.5em 0}.note{color:#555;font-size:13px}"
        "img{max-width:100%%;border:1px solid #ccc}\n</style></head><body>\n"
        "<h1>mfmc evaluation: what anonymization does to face recognizers</h1>\n"
        "<p class=\"note\">Anonymizer revision %s, seed %llu, %d LFW pairs, %d faces, %d recognizers, methods:",
        R->anon_rev, (unsigned long long)R->seed, R->npairs, R->nitems, R->nrec);
    for (int k = 0; k < nm; k++)
        fprintf(f, " %s", ev_method_names[ms[k]]);
    fprintf(f, ". Protocol and definitions: docs/evaluation.md. Every figure: results.json.%s</p>\n",
            R->brk ? " <b>A method or recognizer was broken on purpose (test run).</b>" : "");
    cJSON *cp = cJSON_GetObjectItemCaseSensitive(fig, "completeness");
    fprintf(f, "<h2>Completeness</h2><table><tr><th>data set</th><th>faces</th><th>anonymized</th><th>original face "
               "not found</th>");
    for (int k = 0; k < nm; k++)
        fprintf(f, "<th>%s done</th>", ev_method_names[ms[k]]);
    fprintf(f, "</tr>\n");
    for (int d = 0; d < EV_NDS; d++) {
        cJSON *c = cJSON_GetObjectItemCaseSensitive(cp, ev_ds_names[d]);
        fprintf(f, "<tr><td>%s</td><td>%.0f</td><td>%.0f</td><td>%.0f</td>", ev_ds_names[d], get(c, "faces", 0, 0, 0),
                get(c, "anonymized_faces", 0, 0, 0), get(c, "original_face_not_found", 0, 0, 0));
        for (int k = 0; k < nm; k++)
            fprintf(f, "<td>%.0f</td>", get(c, ev_method_names[ms[k]], 0, 0, 0));
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n<h2>Plots</h2>\n");
    fwrite(acc.buf, 1, acc.len, f);
    fwrite(reid_l.buf, 1, reid_l.len, f);
    fwrite(reid_f.buf, 1, reid_f.len, f);
    fwrite(keep.buf, 1, keep.len, f);
    fwrite(attr.buf, 1, attr.len, f);
    fprintf(f, "<h2>Tables</h2>\n");
    html_escape_md(f, md);
    fprintf(f, "<h2>Contact sheets</h2><p class=\"note\">Columns:");
    for (int k = 0; k < nm; k++)
        fprintf(f, " %s", ev_method_names[ms[k]]);
    fprintf(f, ". Faces of real people: never commit these pictures.</p>\n");
    for (int d = 0; d < EV_NDS; d++)
        if (sh[d][0])
            fprintf(f, "<h3>%s</h3><img src=\"%s\" alt=\"contact sheet %s\">\n", ev_ds_names[d], sh[d], ev_ds_names[d]);
    fprintf(f, "</body></html>\n");
    fclose(f);
    free(acc.buf), free(reid_l.buf), free(reid_f.buf), free(attr.buf), free(keep.buf), free(md);
    fprintf(stderr, "mfmc eval: report in %s/index.html (results.json, results.md)\n", R->out);
    return 0;
}
