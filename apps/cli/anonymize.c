/* mfmc anonymize INPUT... -o OUT: every face not kept is replaced by a synthetic face of nobody (mf_anon_face),
 * with a JSON report. Files or folders; a folder is walked and mirrored into OUT. Outputs are written atomically
 * (temporary file in the destination folder, then rename) and hold pixels only: no EXIF, XMP, IPTC, comment or
 * thumbnail survives (docs/anonymization.md). Exit codes as docs/cli.md: 0 ok, 2 bad input or usage (the other
 * inputs are still processed, nothing half-written), 3 internal error. */
#include "cli/cmds.h"
#include "common/opts.h"
#include "mfmc/anon.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_FACES = 256, MAX_KEEP = 64, MAX_CLUSTERS = 4096, MAX_FILES = 1000000 };
enum { REFIT_MAX = 256 }; /* (fall30) records refitted before the first face is replaced (mf_anon_face refits the
                             others itself, on the photo as it then is) */

typedef struct {
    char **in, **rel; /* input path, output path relative to OUT ("" for a single-file OUT) */
    int n, cap;
} file_list;

typedef struct {
    const char *out, *report, *pseudonym, *gallery, *keep_gallery, *donors, *identity, *side;
    int summary;
    int keep[MAX_KEEP], n_keep, threads, tries, quality, keep_metadata, have_seed, normal_detection, strict;
    unsigned long long seed;
    mf_anon_method method;
} opts;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int has_image_ext(const char *n) {
    const char *e = strrchr(n, '.');
    return e && (!strcasecmp(e, ".jpg") || !strcasecmp(e, ".jpeg") || !strcasecmp(e, ".png") || !strcasecmp(e, ".webp"));
}

static int list_add(file_list *l, const char *in, const char *rel) {
    if (l->n >= MAX_FILES) return -1;
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 64;
        char **a = realloc(l->in, sizeof(char *) * nc), **b = a ? realloc(l->rel, sizeof(char *) * nc) : NULL;
        if (a) l->in = a;
        if (!a || !b) return -1;
        l->rel = b, l->cap = nc;
    }
    l->in[l->n] = strdup(in), l->rel[l->n] = strdup(rel);
    if (!l->in[l->n] || !l->rel[l->n]) return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Walks dir (sorted, no dot files, images only), adding files with paths relative to the walk's root. */
static int walk(file_list *l, const char *dir, const char *rel, int depth) {
    if (depth > 32) return 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, sizeof(char *) * cap);
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char p[4096], r[4096];
        snprintf(p, sizeof p, "%.2000s/%.1000s", dir, names[i]);
        snprintf(r, sizeof r, "%.2000s%s%.1000s", rel, *rel ? "/" : "", names[i]);
        struct stat st;
        if (!stat(p, &st) && S_ISDIR(st.st_mode)) {
            if (walk(l, p, r, depth + 1)) rc = -1;
        } else if (has_image_ext(names[i]) && list_add(l, p, r))
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Two inputs mirrored to the same place in OUT (a.jpg in two folders given together, or one file given twice)
 * would overwrite each other: refused before anything is written. Sorts a copy of the relative paths. */
static int output_clash(const file_list *l) {
    if (l->n < 2) return 0;
    char **rel = malloc(sizeof(char *) * (size_t)l->n);
    if (!rel) return fprintf(stderr, "mfmc anonymize: out of memory\n"), 1;
    memcpy(rel, l->rel, sizeof(char *) * (size_t)l->n);
    qsort(rel, (size_t)l->n, sizeof *rel, cmp_str);
    const char *dup = NULL;
    for (int i = 1; i < l->n && !dup; i++)
        if (!strcmp(rel[i - 1], rel[i])) dup = rel[i];
    if (dup) { /* name the first two inputs that land there */
        int first = -1, second = -1;
        for (int i = 0; i < l->n && second < 0; i++)
            if (!strcmp(l->rel[i], dup)) *(first < 0 ? &first : &second) = i;
        fprintf(stderr, "mfmc anonymize: %s and %s would both be written to OUT/%s; anonymize them separately "
                        "(one -o each) or rename one\n", l->in[first], l->in[second], dup);
    }
    free(rel);
    return dup != NULL;
}

static int mkdirs(const char *path) { /* mkdir -p of path's parent folders and path itself */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static const char *method_name(mf_anon_method m) {
    static const char *n[] = {"synthetic", "donor", "blur", "pixelate", "solid"};
    return m >= 0 && m <= MF_ANON_SOLID ? n[m] : "?";
}
static const char *gender_name(mf_gender g) { return g == MF_GENDER_MALE ? "male" : g == MF_GENDER_FEMALE ? "female" : "unknown"; }

/* Gallery file: lines "NAME PATH" (PATH relative to the gallery file's folder); the largest face of each photo is
 * enrolled with every anonymizer recognizer. */
static int load_gallery(const char *file, mf_anon_t *an, mf_face_analyzer_t *fa, mf_gallery_t **g) {
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "mfmc anonymize: cannot read gallery %s\n", file);
        return 2;
    }
    int nr = mf_anon_recognizer_count(an), rc = 0;
    for (int i = 0; i < nr; i++)
        if (mf_gallery_create(mf_anon_recognizer_info(an, i)->dim, &g[i])) rc = 3;
    char dir[4096], line[4096];
    snprintf(dir, sizeof dir, "%s", file);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = 0;
    else snprintf(dir, sizeof dir, ".");
    mf_face *faces = calloc(MAX_FACES, sizeof *faces);
    float *e = malloc(sizeof(float) * 4096);
    if (!faces || !e) rc = 3;
    while (!rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *sp = strpbrk(line, " \t");
        if (!sp) {
            fprintf(stderr, "mfmc anonymize: gallery line without a photo: %s\n", line);
            rc = 2;
            break;
        }
        *sp = 0;
        const char *p = sp + 1;
        while (*p == ' ' || *p == '\t') p++;
        char path[8192];
        if (*p == '/') snprintf(path, sizeof path, "%s", p);
        else snprintf(path, sizeof path, "%s/%s", dir, p);
        mf_img im;
        int n = 0;
        if (mf_img_load(path, NULL, &im, NULL) || mf_face_analyze(fa, &im, faces, MAX_FACES, &n) || n == 0) {
            fprintf(stderr, "mfmc anonymize: gallery photo %s: %s\n", path, n == 0 ? "no face" : mf_error_get());
            mf_img_free(&im);
            rc = 2;
            break;
        }
        int b = mf_face_largest(faces, n);
        for (int i = 0; i < nr && !rc; i++)
            if (mf_anon_embed(an, i, &im, &faces[b], e) || mf_gallery_add(g[i], line, e)) rc = 3;
        mf_img_free(&im);
    }
    fclose(f);
    free(faces), free(e);
    return rc;
}

static uint64_t hash_seed(const char *key, const void *data, size_t len) {
    unsigned char h[8];
    crypto_generichash(h, sizeof h, data, len, (const unsigned char *)key, key ? strlen(key) : 0);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | h[i];
    return v;
}

static void anonymize_usage(FILE *f) {
    fprintf(f,
            "usage: mfmc anonymize INPUT... -o OUT [options]\n"
            "Replaces every face by a synthetic face of nobody (docs/anonymization.md). INPUT: photos or folders\n"
            "(walked, mirrored into OUT); with one photo and OUT ending in .jpg/.png/.webp, OUT is that file.\n"
            "  --keep I,J             keep faces by index (largest detection first)\n"
            "  --keep-gallery FILE    keep faces matching an enrolled identity (lines: NAME PHOTO)\n"
            "  --gallery FILE         identities for --pseudonym\n"
            "  --seed N               reproducible identities\n"
            "  --pseudonym KEY        the same person gets the same synthetic identity for the same key\n"
            "  --method M             synthetic (default), blur, pixelate, solid\n"
            "  --donors DIR           swap in faces from DIR (synthetic faces of nobody) instead\n"
            "  --privacy LEVEL        standard (default) or strict: a third recognizer joins the guarantee at a\n"
            "                         low threshold; outside recognizers match far less, more faces are filtered\n"
            "                         and it takes about twice as long; standard redraws an age miss on its\n"
            "                         own rung and keeps sunglasses whole, for looks (docs/anonymization.md)\n"
            "  --identity-model FILE  identity model (default data/identity/synthetic-v1.mfid)\n"
            "  --report FILE          JSON report per file and face\n"
            "  --summary              one line per face on stdout\n"
            "  --side-by-side FILE    original | anonymized (one input only)\n"
            "  --keep-metadata        keep the EXIF (cleaned: no thumbnail, orientation 1)\n"
            "  --normal-detection     plain detector (faster; misses turned and cut faces)\n"
            "  --tries N (0..32)  --threads N (1..64, default 2)  --quality Q (1..100, default 92)\n"
            "Exit codes: 0 ok, 2 bad input or usage (other inputs are still processed), 3 internal or\n"
            "environment error.\n");
}

/* Returns 0, 1 after printing help, or 2 after printing why. */
static int parse_opts(int argc, char **argv, opts *o, file_list *inputs) {
    memset(o, 0, sizeof *o);
    o->threads = 2, o->quality = 92, o->method = MF_ANON_SYNTH;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) return anonymize_usage(stdout), 1;
        if (!strcmp(s, "-o") && more) o->out = argv[++i];
        else if (!strcmp(s, "--report") && more) o->report = argv[++i];
        else if (!strcmp(s, "--pseudonym") && more) o->pseudonym = argv[++i];
        else if (!strcmp(s, "--gallery") && more) o->gallery = argv[++i];
        else if (!strcmp(s, "--keep-gallery") && more) o->keep_gallery = argv[++i];
        else if (!strcmp(s, "--donors") && more) o->donors = argv[++i], o->method = MF_ANON_DONOR;
        else if (!strcmp(s, "--identity-model") && more) o->identity = argv[++i];
        else if (!strcmp(s, "--keep-metadata")) o->keep_metadata = 1;
        else if (!strcmp(s, "--side-by-side") && more) o->side = argv[++i];
        else if (!strcmp(s, "--summary")) o->summary = 1;
        else if (!strcmp(s, "--normal-detection")) o->normal_detection = 1;
        else if (!strcmp(s, "--threads") && more) {
            if (app_parse_int("anonymize", s, argv[++i], 1, 64, &o->threads)) return 2;
        } else if (!strcmp(s, "--tries") && more) {
            if (app_parse_int("anonymize", s, argv[++i], 0, 32, &o->tries)) return 2;
        } else if (!strcmp(s, "--quality") && more) {
            if (app_parse_int("anonymize", s, argv[++i], 1, 100, &o->quality)) return 2;
        }
        else if (!strcmp(s, "--seed") && more) {
            char *end;
            o->seed = strtoull(argv[++i], &end, 10), o->have_seed = 1;
            if (*end || !*argv[i]) return fprintf(stderr, "mfmc anonymize: --seed wants a number\n"), 2;
        } else if (!strcmp(s, "--privacy") && more) {
            const char *m = argv[++i];
            if (!strcmp(m, "standard")) o->strict = 0;
            else if (!strcmp(m, "strict")) o->strict = 1;
            else return fprintf(stderr, "mfmc anonymize: unknown privacy level %s (standard, strict)\n", m), 2;
        } else if (!strcmp(s, "--method") && more) {
            const char *m = argv[++i];
            if (!strcmp(m, "synthetic")) o->method = MF_ANON_SYNTH;
            else if (!strcmp(m, "blur")) o->method = MF_ANON_BLUR;
            else if (!strcmp(m, "pixelate")) o->method = MF_ANON_PIXELATE;
            else if (!strcmp(m, "solid")) o->method = MF_ANON_SOLID;
            else return fprintf(stderr, "mfmc anonymize: unknown method %s (synthetic, blur, pixelate, solid)\n", m), 2;
        } else if (!strcmp(s, "--keep") && more) {
            char *p = argv[++i];
            while (*p) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p || v < 0 || v >= MF_FACE_MAX_FOUND || o->n_keep >= MAX_KEEP)
                    return fprintf(stderr, "mfmc anonymize: --keep wants face indices like 0,2\n"), 2;
                o->keep[o->n_keep++] = (int)v;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',') return fprintf(stderr, "mfmc anonymize: --keep wants face indices like 0,2\n"), 2;
            }
        } else if (s[0] == '-' && s[1])
            return fprintf(stderr, "mfmc anonymize: unknown option or missing value: %s\n", s), 2;
        else {
            struct stat st;
            if (stat(s, &st)) return fprintf(stderr, "mfmc anonymize: %s: no such file or folder\n", s), 2;
            if (S_ISDIR(st.st_mode)) {
                if (walk(inputs, s, "", 0)) return fprintf(stderr, "mfmc anonymize: cannot walk %s\n", s), 2;
            } else {
                const char *b = strrchr(s, '/');
                if (list_add(inputs, s, b ? b + 1 : s)) return fprintf(stderr, "mfmc anonymize: out of memory\n"), 3;
            }
        }
    }
    if (!o->out) return fprintf(stderr, "mfmc anonymize: -o OUT is required\n"), 2;
    if (inputs->n == 0) return fprintf(stderr, "mfmc anonymize: no input images\n"), 2;
    if (output_clash(inputs)) return 2;
    if (o->threads < 1 || o->threads > 64 || o->tries < 0 || o->tries > 32 || o->quality < 1 || o->quality > 100)
        return fprintf(stderr, "mfmc anonymize: option out of range\n"), 2;
    return 0;
}

int mf_cli_anonymize(int argc, char **argv, const char *models) {
    opts o;
    file_list L = {0};
    int rc = parse_opts(argc, argv, &o, &L);
    if (rc == 1) rc = 0; /* --help */
    if (rc || !L.n) goto out_list;
    if (sodium_init() < 0) {
        rc = 3;
        goto out_list;
    }
    /* OUT: a file when there is one input file and OUT has an image extension, else a folder mirrored into */
    int single = L.n == 1 && has_image_ext(o.out);
    struct stat ost;
    if (single && !stat(o.out, &ost) && S_ISDIR(ost.st_mode)) single = 0;
    if (!single && mkdirs(o.out)) {
        fprintf(stderr, "mfmc anonymize: cannot create folder %s\n", o.out);
        rc = 2;
        goto out_list;
    }
    char idpath[4400];
    if (o.identity) snprintf(idpath, sizeof idpath, "%s", o.identity);
    else {
        /* data/identity next to the binary's source tree, or in the working directory */
        snprintf(idpath, sizeof idpath, "data/identity/synthetic-v1.mfid");
        if (access(idpath, R_OK)) {
            char exe[4096];
            ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
            if (n > 0) {
                exe[n] = 0;
                for (int up = 0; up < 3; up++) {
                    char *s = strrchr(exe, '/');
                    if (!s) break;
                    *s = 0;
                    char probe[4200];
                    snprintf(probe, sizeof probe, "%s/data/identity/synthetic-v1.mfid", exe);
                    if (!access(probe, R_OK)) {
                        snprintf(idpath, sizeof idpath, "%s", probe);
                        break;
                    }
                }
            }
        }
    }
    mf_nn_pool_t *pool = NULL;
    mf_face_analyzer_t *fa = NULL, *fc = NULL; /* fc: plain detection for the anonymizer's checks (shared weights) */
    mf_face_models_t *fm = NULL;
    mf_anon_t *an = NULL;
    mf_gallery_t *gal[MF_ANON_MAX_RECOGNIZERS] = {0}, *keepg[MF_ANON_MAX_RECOGNIZERS] = {0};
    int cap_faces = MAX_FACES;
    int refitted[REFIT_MAX]; /* (fall30) 1: the record k was refitted (mf_anon_refit_photo); -1 - q: it refitted onto
                                the earlier record q's detection and kept its own record (a duplicate) */
    mf_face *faces = calloc((size_t)cap_faces, sizeof *faces);
    float *clusters = NULL, *emb = malloc(sizeof(float) * 4096);
    int n_clusters = 0;
    FILE *rep = NULL;
    if (!faces || !emb) rc = 3;
    if (!rc && o.threads > 1 && mf_nn_pool_create(o.threads, &pool)) rc = 3;
    /* privacy-grade detection (docs/detection.md) unless --normal-detection: faces at any rotation, cut by the
     * border, from 16 px; candidates the mesh does not confirm get the identity-removing fallback */
    mf_face_analyzer_opts ao = {.pool = pool, .privacy = !o.normal_detection};
    mf_face_analyzer_opts co = {.pool = pool};
    if (!rc && (mf_face_models_create(models, &fm) || mf_face_analyzer_create_from(fm, &ao, &fa) ||
                (!o.normal_detection && mf_face_analyzer_create_from(fm, &co, &fc)))) {
        fprintf(stderr, "mfmc anonymize: cannot load the face models (run `make setup`?): %s\n", mf_error_get());
        rc = 3;
    }
    mf_anon_opts aop = {.models_root = models, .identity_model = idpath, .an = fa, .pool = pool, .max_tries = o.tries,
                        .check_an = fc, .strict = o.strict};
    if (!rc && mf_anon_create(&aop, &an)) {
        fprintf(stderr, "mfmc anonymize: %s\n", mf_error_get());
        rc = 3;
    }
    if (!rc && o.gallery) rc = load_gallery(o.gallery, an, fa, gal);
    if (!rc && o.keep_gallery) rc = load_gallery(o.keep_gallery, an, fa, keepg);
    char **dnames = NULL; /* the accepted donors' paths, in mf_anon_add_donor order (the report names them) */
    int n_dn = 0;
    if (!rc && o.donors) {
        file_list dl = {0};
        if (walk(&dl, o.donors, "", 0)) {
            fprintf(stderr, "mfmc anonymize: cannot read donors folder %s\n", o.donors);
            rc = 2;
        }
        for (int i = 0; !rc && i < dl.n; i++) {
            mf_img im;
            if (mf_img_load(dl.in[i], NULL, &im, NULL)) continue;
            int nd = mf_anon_donor_count(an);
            /* photos without one clear face are skipped */
            if (!mf_anon_add_donor(an, &im)) {
                char **nn = realloc(dnames, sizeof(char *) * (size_t)(nd + 1));
                if (nn) dnames = nn, dnames[n_dn++] = dl.in[i], dl.in[i] = NULL;
                if (!nn || n_dn != nd + 1) {
                    fprintf(stderr, "mfmc anonymize: out of memory reading donors\n");
                    rc = 3;
                }
            }
            mf_img_free(&im);
        }
        for (int i = 0; i < dl.n; i++) free(dl.in[i]), free(dl.rel[i]);
        free(dl.in), free(dl.rel);
        if (!rc && mf_anon_donor_count(an) == 0) {
            fprintf(stderr, "mfmc anonymize: no usable donor face in %s\n", o.donors);
            rc = 2;
        }
    }
    int primary = 0;
    for (int i = 0; an && i < mf_anon_recognizer_count(an); i++)
        if (mf_anon_recognizer_info(an, i)->primary) primary = i;
    if (!rc && o.report && !(rep = fopen(o.report, "w"))) {
        fprintf(stderr, "mfmc anonymize: cannot write report %s\n", o.report);
        rc = 2;
    }
    if (rc) goto out;
    if (rep) {
        fprintf(rep, "{\"tool\":\"mfmc anonymize\",\"method\":\"%s\",\"mode\":\"%s\",\"privacy\":\"%s\",\"metadata\":\"%s\","
                "\"files\":[\n",
                method_name(o.method), o.pseudonym ? "pseudonym" : o.have_seed ? "seed" : "random",
                o.strict ? "strict" : "standard",
                o.keep_metadata ? "ICC profile and EXIF kept (thumbnail removed, orientation 1); XMP, IPTC, comments dropped"
                                : "dropped except the ICC profile (EXIF with GPS, thumbnails, XMP, IPTC, comments)");
    }
    int bad_inputs = 0, tty = isatty(2), total_faces = 0, total_fallback = 0, total_covered = 0;
    for (int fi = 0; fi < L.n && !rc; fi++) {
        if (tty) fprintf(stderr, "\r[%d/%d] %-60.60s", fi + 1, L.n, L.rel[fi]);
        double t0 = now_ms();
        char dst[8192], tmp[8400];
        if (single) snprintf(dst, sizeof dst, "%s", o.out);
        else snprintf(dst, sizeof dst, "%s/%s", o.out, L.rel[fi]);
        mf_img img;
        mf_img_info info;
        mf_img_meta meta; /* ICC kept; EXIF only with --keep-metadata, cleaned of its thumbnail */
        int n = 0, st = mf_img_load_meta(L.in[fi], NULL, &img, &info, &meta);
        const mf_face *found = NULL;
        if (!st) st = mf_face_analyze_all(fa, &img, &found, &n);
        if (!st && n > cap_faces) { /* no cap: the array grows with the crowd */
            mf_face *grown = realloc(faces, (size_t)n * sizeof *faces);
            if (grown) faces = grown, cap_faces = n;
            else st = mf_error_set(MF_ERR_NOMEM, "out of memory for %d faces", n);
        }
        if (!st && n > 0) memcpy(faces, found, (size_t)n * sizeof *faces);
        /* (fall30) records whose mesh is off their detection's points: the check analyser's face there, looked for on
         * the original photo before any face is replaced; a record refitted onto a face an earlier record already
         * holds (a duplicate detection) stays as it was (its own decision, as before) */
        for (int k = 0; k < n && k < REFIT_MAX; k++) refitted[k] = 0;
        if (!st && o.method < MF_ANON_BLUR) st = mf_anon_refit_photo(an, &img, faces, n < REFIT_MAX ? n : REFIT_MAX, refitted);
        if (rep) {
            fprintf(rep, "%s{\"input\":", fi ? ",\n" : "");
            json_str(rep, L.in[fi]);
            fprintf(rep, ",\"output\":");
            json_str(rep, dst);
        }
        if (st) {
            if (tty) fprintf(stderr, "\n");
            fprintf(stderr, "mfmc anonymize: %s: %s\n", L.in[fi], mf_error_get());
            if (rep) {
                fprintf(rep, ",\"error\":");
                json_str(rep, mf_error_get());
                fprintf(rep, "}");
            }
            mf_img_free(&img);
            mf_img_meta_free(&meta);
            if (st == MF_ERR_NOMEM) rc = 3;
            bad_inputs++;
            continue;
        }
        if (rep) fprintf(rep, ",\"width\":%d,\"height\":%d,\"faces\":[", img.w, img.h);
        mf_img orig = {0};
        if (o.side && fi == 0 && !mf_img_init(&orig, img.w, img.h, 3)) memcpy(orig.data, img.data, (size_t)img.w * img.h * 3);
        if (o.summary) printf("%s: %d face%s\n", L.in[fi], n, n == 1 ? "" : "s");
        /* (prod31) a record that would not be drawn and overlaps one that would is anonymized after the drawn ones
         * (mf_anon_defer): their replacement may already have removed its identity (mf_anon_covered, checked on the
         * photo as it then is against the original src0); the summary and the report keep the index order */
        int *defer = calloc((size_t)(n ? n : 1), sizeof *defer), *replaced = calloc((size_t)(n ? n : 1), sizeof *replaced);
        char **sbuf = calloc((size_t)(n ? n : 1), sizeof *sbuf), **rbuf = calloc((size_t)(n ? n : 1), sizeof *rbuf);
        mf_img src0 = {0};
        if (!defer || !replaced || !sbuf || !rbuf) rc = 3;
        for (int k = 0; !rc && k < n; k++) defer[k] = o.method < MF_ANON_BLUR && mf_anon_defer(an, &img, faces, n, k);
        if (!rc && n > 1 && o.method < MF_ANON_BLUR && mf_img_crop(&img, 0, 0, img.w, img.h, &src0)) rc = 3;
        for (int k0 = 0; k0 < 2 * n && !rc; k0++) {
            int k = k0 % n;
            if (defer[k] != (k0 >= n)) continue;
            size_t s_len = 0, r_len = 0;
            FILE *so = open_memstream(&sbuf[k], &s_len), *ro = rep ? open_memstream(&rbuf[k], &r_len) : NULL;
            if (!so || (rep && !ro)) {
                if (so) fclose(so);
                rc = 3;
                break;
            }
            mf_face *f = &faces[k];
            int keep = 0;
            for (int q = 0; q < o.n_keep; q++) keep |= o.keep[q] == k;
            const char *keep_who = NULL;
            if (!keep && o.keep_gallery && !mf_anon_embed(an, primary, &img, f, emb)) {
                mf_gallery_result gr;
                if (!mf_gallery_match(keepg[primary], emb, mf_anon_recognizer_info(an, primary)->match_threshold, &gr) &&
                    gr.matched)
                    keep = 1, keep_who = gr.identity;
            }
            const mf_face_box *b = f->has_landmarks ? &f->lm.box : &f->det;
            if (ro)
                fprintf(ro, "%s\n {\"index\":%d,\"box\":[%.1f,%.1f,%.1f,%.1f]", k ? "," : "", k, b->x, b->y, b->w, b->h);
            if (keep) {
                if (ro) {
                    fprintf(ro, ",\"decision\":\"kept\"");
                    if (keep_who) fprintf(ro, ",\"kept_identity\":"), json_str(ro, keep_who);
                    fprintf(ro, "}");
                }
                goto next_face;
            }
            uint64_t seed;
            if (o.pseudonym) {
                /* the same person (gallery identity, else a cluster of this batch by the primary recognizer) gets the
                 * same identity for the same key */
                char label[512] = "";
                if (!mf_anon_embed(an, primary, &img, f, emb)) {
                    mf_gallery_result gr;
                    float thr = mf_anon_recognizer_info(an, primary)->match_threshold;
                    if (gal[primary] && !mf_gallery_match(gal[primary], emb, thr, &gr) && gr.matched)
                        snprintf(label, sizeof label, "gallery:%s", gr.identity);
                    else {
                        int dim = mf_anon_recognizer_info(an, primary)->dim, c = -1;
                        for (int q = 0; q < n_clusters && c < 0; q++)
                            if (mf_face_similarity(clusters + (size_t)q * dim, emb, dim) >= thr) c = q;
                        if (c < 0 && n_clusters < MAX_CLUSTERS) {
                            float *nc = realloc(clusters, sizeof(float) * dim * (size_t)(n_clusters + 1));
                            if (nc) {
                                clusters = nc;
                                memcpy(clusters + (size_t)n_clusters * dim, emb, sizeof(float) * dim);
                                c = n_clusters++;
                            }
                        }
                        snprintf(label, sizeof label, "batch:%d", c);
                    }
                }
                seed = hash_seed(o.pseudonym, label, strlen(label));
            } else if (o.have_seed) {
                char label[8400];
                int ll = snprintf(label, sizeof label, "%llu/%s/%d", o.seed, L.rel[fi], k);
                seed = hash_seed(NULL, label, (size_t)(ll < (int)sizeof label ? ll : (int)sizeof label - 1));
            } else
                randombytes_buf(&seed, sizeof seed);
            mf_anon_result r, cr;
            const mf_gallery_t *gp[MF_ANON_MAX_RECOGNIZERS];
            for (int q = 0; q < MF_ANON_MAX_RECOGNIZERS; q++) gp[q] = gal[q];
            mf_anon_galleries G = {gp};
            /* (prod31) a record not drawn over a face already replaced: covered when the check says its identity is
             * gone (nothing painted), else the fallback as before */
            int by = -1, covered = 0;
            st = src0.data ? mf_anon_covered(an, &src0, &img, faces, n, k, replaced, o.gallery ? &G : NULL, &cr, &by, &covered)
                           : MF_OK;
            if (!st && covered) r = cr;
            else if (!st) st = mf_anon_face(an, &img, f, o.method, seed, o.gallery ? &G : NULL, &r);
            if (st) {
                fprintf(stderr, "mfmc anonymize: %s face %d: %s\n", L.in[fi], k, mf_error_get());
                rc = 3;
                goto next_face;
            }
            replaced[k] = r.decision == MF_ANON_ACCEPTED || (r.decision == MF_ANON_FALLBACK && r.method < MF_ANON_BLUR);
            total_faces++;
            total_covered += covered;
            /* the filter (mosaic or fill), not a synthetic face that removed the identity but missed age or gender */
            total_fallback += r.decision == MF_ANON_FALLBACK && r.method != MF_ANON_SYNTH;
            if (o.summary && covered) {
                fprintf(so, "  face %d [%.0f,%.0f %.0fx%.0f]: covered by face %d (nothing painted, %.0f ms)", k, b->x, b->y,
                        b->w, b->h, by, r.ms);
                for (int q = 0; q < r.n_rec; q++)
                    fprintf(so, " %s %.3f/%.3f", mf_anon_recognizer_info(an, q)->name, r.sim[q],
                            mf_anon_recognizer_info(an, q)->dissimilarity_threshold);
                fprintf(so, "; %s\n", r.note);
            } else if (o.summary) {
                fprintf(so, "  face %d [%.0f,%.0f %.0fx%.0f]: %s (%s, %d draw%s, %.0f ms)", k, b->x, b->y, b->w, b->h,
                       r.decision == MF_ANON_ACCEPTED ? "replaced" : r.decision == MF_ANON_FALLBACK ? "FALLBACK" : "baseline",
                       method_name(r.method), r.tries, r.tries == 1 ? "" : "s", r.ms);
                for (int q = 0; q < r.n_rec; q++)
                    fprintf(so, " %s %.3f/%.3f", mf_anon_recognizer_info(an, q)->name, r.sim[q],
                           mf_anon_recognizer_info(an, q)->dissimilarity_threshold);
                fprintf(so, "; age %.0f -> %.0f, %s -> %s%s%s%s\n", r.age_before, r.age_after, gender_name(r.gender_before),
                       gender_name(r.gender_after), r.refit || (k < REFIT_MAX && refitted[k] > 0) ? "; mesh refitted" : "",
                       r.note[0] ? "; " : "", r.note);
                if (k < REFIT_MAX && refitted[k] < 0)
                    fprintf(so, "    (its refit is face %d's face: a duplicate, kept as detected)\n", -1 - refitted[k]);
                if (by >= 0) {
                    fprintf(so, "    (checked as covered by face %d:", by);
                    for (int q = 0; q < cr.n_rec; q++)
                        fprintf(so, " %s %.3f/%.3f", mf_anon_recognizer_info(an, q)->name, cr.sim[q],
                                mf_anon_recognizer_info(an, q)->dissimilarity_threshold);
                    fprintf(so, ": not covered, so the fallback)\n");
                }
            }
            if (ro) {
                if (covered) /* (prod31) mf_anon_covered: the face that covers it, its similarities below */
                    fprintf(ro, ",\"decision\":\"covered\",\"method\":\"none\",\"covered_by\":%d,\"tries\":0", by);
                else
                    fprintf(ro, ",\"decision\":\"%s\",\"method\":\"%s\",\"tries\":%d",
                            r.decision == MF_ANON_ACCEPTED ? "replaced" : r.decision == MF_ANON_FALLBACK ? "fallback" : "baseline",
                            method_name(r.method), r.tries);
                fprintf(ro, ",\"similarity\":{");
                for (int q = 0; q < r.n_rec; q++)
                    fprintf(ro, "%s\"%s\":%.9g", q ? "," : "", mf_anon_recognizer_info(an, q)->name, r.sim[q]);
                fprintf(ro, "},\"age\":[%.1f,%.1f],\"gender\":[\"%s\",\"%s\"],\"detected_after\":%s,\"ms\":%.1f",
                        r.age_before, r.age_after, gender_name(r.gender_before), gender_name(r.gender_after),
                        r.detected_after ? "true" : "false", r.ms);
                fprintf(ro, ",\"pose_before\":[%.1f,%.1f,%.1f],\"pose_after\":[%.1f,%.1f,%.1f]", f->lm.yaw, f->lm.pitch,
                        f->lm.roll, r.yaw_after, r.pitch_after, r.roll_after);
                fprintf(ro, ",\"eyes_mouth_before\":[%.3f,%.3f,%.3f],\"eyes_mouth_after\":[%.3f,%.3f,%.3f]",
                        f->lm.eye_open[0], f->lm.eye_open[1], f->lm.mouth_open, r.eye_open_after[0], r.eye_open_after[1],
                        r.mouth_open_after);
                fprintf(ro, ",\"scores_before\":[%.4f,%.4f],\"scores_after\":[%.4f,%.4f]", f->det.score, f->lm.score,
                        r.det_score_after, r.mesh_score_after);
                if (r.donor >= 0 && r.donor < n_dn) fprintf(ro, ",\"donor\":"), json_str(ro, dnames[r.donor]);
                /* an anti-face draw (docs/anonymization.md, "Linkability across photos"): may be linked to this
                 * person's other anonymized photos */
                if (!covered && (r.decision == MF_ANON_ACCEPTED || r.method == MF_ANON_SYNTH))
                    fprintf(ro, ",\"linkable\":%s", r.linkable ? "true" : "false");
                if (r.refit || (k < REFIT_MAX && refitted[k] > 0)) fprintf(ro, ",\"refit\":true");
                if (k < REFIT_MAX && refitted[k] < 0) fprintf(ro, ",\"refit_duplicate_of\":%d", -1 - refitted[k]);
                if (!covered && by >= 0) { /* checked as covered and not: the fallback ran */
                    fprintf(ro, ",\"cover_check\":{\"by\":%d,\"covered\":false,\"similarity\":{", by);
                    for (int q = 0; q < cr.n_rec; q++)
                        fprintf(ro, "%s\"%s\":%.9g", q ? "," : "", mf_anon_recognizer_info(an, q)->name, cr.sim[q]);
                    fprintf(ro, "},\"note\":");
                    json_str(ro, cr.note);
                    fprintf(ro, "}");
                }
                if (r.note[0]) fprintf(ro, ",\"note\":"), json_str(ro, r.note);
                fprintf(ro, "}");
            }
        next_face:
            fclose(so);
            if (ro) fclose(ro);
        }
        for (int k = 0; k < n; k++) {
            if (o.summary && sbuf && sbuf[k]) fputs(sbuf[k], stdout);
            if (rep && rbuf && rbuf[k]) fputs(rbuf[k], rep);
            if (sbuf) free(sbuf[k]);
            if (rbuf) free(rbuf[k]);
        }
        free(defer), free(replaced), free(sbuf), free(rbuf);
        mf_img_free(&src0);
        if (rep) fprintf(rep, "]");
        if (!rc) {
            /* write: temporary file next to the destination (same extension), then rename */
            char *slash = strrchr(dst, '/');
            if (slash) {
                *slash = 0;
                if (mkdirs(dst)) st = MF_ERR_IO;
                *slash = '/';
            }
            const char *base = slash ? slash + 1 : dst;
            snprintf(tmp, sizeof tmp, "%.*s.mfmc-tmp-%ld-%s", slash ? (int)(slash - dst + 1) : 0, dst, (long)getpid(), base);
            /* pixels are upright; of the metadata only the ICC profile goes out, and with --keep-metadata the EXIF
             * with its thumbnail (the original faces) removed and orientation 1 */
            mf_img_meta om = {.icc = meta.icc, .icc_len = meta.icc_len};
            uint8_t *exif = NULL;
            size_t exif_len = 0;
            if (!st && o.keep_metadata && meta.exif && !mf_img_exif_clean(meta.exif, meta.exif_len, &exif, &exif_len))
                om.exif = exif, om.exif_len = exif_len;
            if (!st) st = mf_img_save_meta(&img, tmp, info.format == MF_IMG_FORMAT_WEBP ? 90 : o.quality, &om);
            free(exif);
            if (!st && rename(tmp, dst)) st = MF_ERR_IO;
            if (st) {
                remove(tmp);
                fprintf(stderr, "mfmc anonymize: cannot write %s: %s\n", dst, mf_error_get());
                rc = 2;
            }
        }
        if (orig.data && !rc) { /* original | anonymized, side by side */
            mf_img sb;
            if (!mf_img_init(&sb, 2 * img.w, img.h, 3)) {
                for (int y = 0; y < img.h; y++) {
                    memcpy(sb.data + (size_t)y * sb.w * 3, orig.data + (size_t)y * img.w * 3, (size_t)img.w * 3);
                    memcpy(sb.data + ((size_t)y * sb.w + img.w) * 3, img.data + (size_t)y * img.w * 3, (size_t)img.w * 3);
                }
                if (mf_img_save(&sb, o.side, 90)) fprintf(stderr, "mfmc anonymize: cannot write %s: %s\n", o.side, mf_error_get());
                mf_img_free(&sb);
            }
        }
        mf_img_free(&orig);
        if (rep) {
            if (n == 0) fprintf(rep, ",\"note\":\"no face found; written through (pixels only)\"");
            fprintf(rep, ",\"ms\":%.1f}", now_ms() - t0);
        }
        mf_img_free(&img);
        mf_img_meta_free(&meta);
    }
    if (tty) fprintf(stderr, "\n");
    if (o.summary && total_covered)
        printf("%d face%s anonymized, %d by the fallback filter, %d covered by a replaced face (checked), %d bad input%s\n",
               total_faces, total_faces == 1 ? "" : "s", total_fallback, total_covered, bad_inputs, bad_inputs == 1 ? "" : "s");
    else if (o.summary)
        printf("%d face%s anonymized, %d by the fallback filter, %d bad input%s\n", total_faces,
               total_faces == 1 ? "" : "s", total_fallback, bad_inputs, bad_inputs == 1 ? "" : "s");
    if (rep)
        fprintf(rep, "\n],\"faces\":%d,\"fallbacks\":%d,\"covered\":%d,\"bad_inputs\":%d}\n", total_faces, total_fallback,
                total_covered, bad_inputs);
    if (!rc && bad_inputs) rc = 2;
out:
    if (rep && fclose(rep) && !rc) rc = 2;
    for (int i = 0; i < MF_ANON_MAX_RECOGNIZERS; i++) mf_gallery_free(gal[i]), mf_gallery_free(keepg[i]);
    for (int i = 0; i < n_dn; i++) free(dnames[i]);
    free(dnames);
    mf_anon_free(an);
    mf_face_analyzer_free(fa);
    mf_face_analyzer_free(fc);
    mf_face_models_free(fm);
    mf_nn_pool_free(pool);
    free(faces), free(clusters), free(emb);
out_list:
    for (int i = 0; i < L.n; i++) free(L.in[i]), free(L.rel[i]);
    free(L.in), free(L.rel);
    return rc;
}
