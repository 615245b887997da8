/* mfmc-eval: one face at a time (evalrun.h). Every record and embedding is cached under OUT/cache keyed by
 * (image, face, method, seed, anonymizer revision, measuring-code revision, cache version), so a stopped run
 * continues where it stopped; a changed anonymizer invalidates the anonymized records, a changed analyser,
 * recognizer, engine or eval code every record. A recognizer added to the registry finds no embedding of its own:
 * the face is measured again (same seed, same result). */
#include "evalrun.h"

#include "lib/testutil.h"
#include "sharpness.h"
#include "mfmc/analyze.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bumped when a record's layout or meaning changes (old records are then ignored). */
#define EV_CACHE_VERSION "r2"

struct ev_worker {
    ev_run *R;
    mf_face_analyzer_t *an;
    mf_anon_t *anon;
    mf_anon_t *anon_strict; /* EV_M_STRICT: the strict privacy level (only when that method is selected) */
    mf_face_recognizer_t *rec[EV_MAX_REC];
    ev_judges *judges;
    int donors_loaded;
    mf_face faces[EV_MAX_FACES], after[EV_MAX_FACES];
};

void ev_worker_free(ev_worker *w) {
    if (!w) return;
    for (int r = 0; r < EV_MAX_REC; r++)
        mf_face_recognizer_free(w->rec[r]);
    mf_anon_free(w->anon);
    mf_anon_free(w->anon_strict);
    mf_face_analyzer_free(w->an);
    ev_judges_free(w->judges);
    free(w);
}

int ev_worker_create(ev_run *R, mf_face_models_t *models, ev_worker **out) {
    *out = NULL;
    ev_worker *w = calloc(1, sizeof *w);
    if (!w) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    w->R = R;
    int st = mf_face_analyzer_create_from(models, NULL, &w->an);
    if (!st) {
        mf_anon_opts o = {.models_root = R->models, .identity_model = R->identity, .an = w->an};
        st = mf_anon_create(&o, &w->anon);
        o.strict = 1;
        if (!st && R->methods[EV_M_STRICT]) st = mf_anon_create(&o, &w->anon_strict);
    }
    for (int r = 0; !st && r < R->nrec; r++)
        st = mf_face_recognizer_create_from(models, R->rec[r].info->name, NULL, &w->rec[r]);
    if (!st) st = ev_judges_create(R->models, &w->judges);
    if (st) {
        ev_worker_free(w);
        return st;
    }
    *out = w;
    return MF_OK;
}

/* ---------------------------------------------------------------- cache */

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void key_path(const ev_run *R, const ev_item *it, int m, const char *rec, char *buf, size_t len) {
    char k[1024];
    snprintf(k, sizeof k, "%s|%d|%s|%llu|%s|%s|%s|%s", it->rel, it->face, ev_method_names[m],
             (unsigned long long)it->seed, m == EV_M_ORIGINAL ? "original" : R->anon_rev, R->face_rev,
             R->brk && (m == EV_M_SYNTH || !strcmp(R->brk, "rec-noise")) ? R->brk : "", /* what it changes */
             EV_CACHE_VERSION);
    uint64_t h = fnv(k);
    snprintf(buf, len, "%s/cache/%s/%02x/%016llx.%s", R->out, ev_method_names[m], (unsigned)(h >> 56),
             (unsigned long long)h, rec ? rec : "rec");
}

static void mkdirs(const char *path) {
    char p[4400];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0777);
            *s = '/';
        }
}

static int write_atomic(const char *path, const void *a, size_t na, const void *b, size_t nb) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    mkdirs(path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    int ok = fwrite(a, 1, na, f) == na && (!nb || fwrite(b, 1, nb, f) == nb);
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int read_exact(const char *path, void *a, size_t na, void *b, size_t nb) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int ok = fread(a, 1, na, f) == na && (!nb || fread(b, 1, nb, f) == nb) && fgetc(f) == EOF;
    fclose(f);
    return ok ? 0 : -1;
}

static int cache_get(ev_run *R, ev_item *it, int m) {
    char p[4200];
    uint32_t hdr[2];
    ev_rec rc;
    key_path(R, it, m, NULL, p, sizeof p);
    if (read_exact(p, hdr, sizeof hdr, &rc, sizeof rc) || hdr[0] != 0x31525645u || hdr[1] != sizeof rc) return -1;
    float *e[EV_MAX_REC] = {0};
    for (int r = 0; r < R->nrec; r++) {
        int dim = R->rec[r].info->dim;
        e[r] = malloc(sizeof(float) * dim);
        key_path(R, it, m, R->rec[r].info->name, p, sizeof p);
        uint32_t d;
        if (!e[r] || read_exact(p, &d, sizeof d, e[r], sizeof(float) * dim) || d != (uint32_t)dim) {
            for (int k = 0; k <= r; k++)
                free(e[k]);
            return -1;
        }
    }
    it->rec[m] = rc;
    for (int r = 0; r < R->nrec; r++)
        free(it->emb[m][r]), it->emb[m][r] = e[r];
    return 0;
}

static void cache_put(ev_run *R, ev_item *it, int m) {
    char p[4200];
    for (int r = 0; r < R->nrec; r++) {
        uint32_t d = (uint32_t)R->rec[r].info->dim;
        key_path(R, it, m, R->rec[r].info->name, p, sizeof p);
        if (it->emb[m][r]) write_atomic(p, &d, sizeof d, it->emb[m][r], sizeof(float) * d);
    }
    uint32_t hdr[2] = {0x31525645u, sizeof(ev_rec)};
    key_path(R, it, m, NULL, p, sizeof p); /* the record last: present = complete */
    write_atomic(p, hdr, sizeof hdr, &it->rec[m], sizeof(ev_rec));
}

void ev_cache_load_item(ev_run *R, int i) {
    ev_item *it = &R->items[i];
    for (int m = 0; m < EV_NMETHODS; m++)
        if (R->methods[m] && (m == EV_M_ORIGINAL || it->anon) && !it->rec[m].done) cache_get(R, it, m);
}

/* ---------------------------------------------------------------- measurements */

static const mf_face_box *face_box(const mf_face *f) { return f->has_landmarks ? &f->lm.box : &f->det; }

static int nearest(const mf_face *faces, int n, const mf_face *o) {
    const mf_face_box *ob = face_box(o);
    int bi = -1;
    float best = 1e9f, cx = ob->x + ob->w / 2, cy = ob->y + ob->h / 2;
    for (int i = 0; i < n; i++) {
        const mf_face_box *b = face_box(&faces[i]);
        float d = hypotf(b->x + b->w / 2 - cx, b->y + b->h / 2 - cy);
        if (d < best) best = d, bi = i;
    }
    return best < 0.35f * fmaxf(ob->w, ob->h) ? bi : -1;
}

static void fill(ev_worker *w, ev_rec *rc, const mf_img *img, const mf_face *f) {
    rc->det_score = f->det.score;
    rc->mesh_score = f->has_landmarks ? f->lm.score : NAN;
    rc->yaw = f->has_landmarks ? f->lm.yaw : NAN, rc->pitch = f->has_landmarks ? f->lm.pitch : NAN;
    rc->roll = f->has_landmarks ? f->lm.roll : NAN;
    rc->eye_open = f->has_landmarks ? 0.5f * (f->lm.eye_open[0] + f->lm.eye_open[1]) : NAN;
    rc->mouth_open = f->has_landmarks ? f->lm.mouth_open : NAN;
    rc->age = f->attr.age;
    rc->p_male = f->attr.gender == MF_GENDER_UNKNOWN ? NAN : f->attr.p_male;
    if (ev_judges_run(w->judges, img, &f->det, &rc->j)) memset(&rc->j, 0, sizeof rc->j), rc->j.age = NAN;
}

/* embeddings of the face at p5 (or random unit vectors under the hidden "rec-noise" test option) */
static void embed(ev_worker *w, ev_item *it, int m, const mf_img *img, float p5[5][2]) {
    ev_run *R = w->R;
    uint64_t s = it->seed * 31 + (uint64_t)m * 7 + 1;
    for (int r = 0; r < R->nrec; r++) {
        int dim = R->rec[r].info->dim;
        float *e = it->emb[m][r] ? it->emb[m][r] : malloc(sizeof(float) * dim);
        if (!e) continue;
        it->emb[m][r] = e;
        if (R->brk && !strcmp(R->brk, "rec-noise")) {
            double n2 = 0;
            for (int k = 0; k < dim; k++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                e[k] = (float)((s >> 11) * (1.0 / 9007199254740992.0)) - 0.5f, n2 += e[k] * e[k];
            }
            for (int k = 0; k < dim; k++)
                e[k] = (float)(e[k] / sqrt(n2));
        } else if (mf_face_recognizer_embed(w->rec[r], img, p5, e))
            memset(e, 0, sizeof(float) * dim);
    }
}

static void save_crop(ev_run *R, const ev_item *it, int idx, int m, const mf_img *img, const mf_face *f) {
    const mf_face_box *bx = face_box(f);
    float fs = fmaxf(bx->w, bx->h), mg = 0.35f * fs;
    int x0 = (int)fmaxf(0, bx->x - mg), y0 = (int)fmaxf(0, bx->y - mg);
    int x1 = (int)fminf(img->w, bx->x + bx->w + mg), y1 = (int)fminf(img->h, bx->y + bx->h + mg);
    if (x1 - x0 < 4 || y1 - y0 < 4) return;
    mf_img c, r;
    if (mf_img_crop(img, x0, y0, x1 - x0, y1 - y0, &c)) return;
    int H = 160, W = (x1 - x0) * H / (y1 - y0);
    if (!mf_img_resize(&c, W < 8 ? 8 : W > 320 ? 320 : W, H, &r)) {
        char p[4200];
        snprintf(p, sizeof p, "%s/crops/%s_%04d_%s.png", R->out, ev_ds_names[it->ds], idx, ev_method_names[m]);
        mkdirs(p);
        mf_img_save(&r, p, 90);
        mf_img_free(&r);
    }
    mf_img_free(&c);
}

static int crop_exists(ev_run *R, int idx, const ev_item *it, int m) {
    char p[4200];
    snprintf(p, sizeof p, "%s/crops/%s_%04d_%s.png", R->out, ev_ds_names[it->ds], idx, ev_method_names[m]);
    return access(p, F_OK) == 0;
}

static int load_donors(ev_worker *w) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/synthetic", w->R->data);
    int n;
    char **names = tu_list_dir(dir, &n);
    for (int k = 0; k < n; k++) {
        char p[4400];
        mf_img im;
        snprintf(p, sizeof p, "%s/%s", dir, names[k]);
        if (mf_img_load(p, NULL, &im, NULL)) continue;
        mf_anon_add_donor(w->anon, &im); /* photos without exactly one usable face are refused */
        mf_img_free(&im);
    }
    tu_names_free(names, n);
    w->donors_loaded = 1;
    return mf_anon_donor_count(w->anon) > 0 ? 0 : -1;
}

int ev_worker_item(ev_worker *w, int i) {
    ev_run *R = w->R;
    ev_item *it = &R->items[i];
    int need = 0;
    for (int m = 0; m < EV_NMETHODS; m++)
        if (R->methods[m] && (m == EV_M_ORIGINAL || it->anon) && !it->rec[m].done && cache_get(R, it, m)) need = 1;
    int crops = 0;
    for (int m = 0; m < EV_NMETHODS && it->sheet; m++)
        crops += R->methods[m] && (m == EV_M_ORIGINAL || it->anon) && !crop_exists(R, i, it, m);
    if (!need && !crops) return 0;
    mf_img img;
    if (mf_img_load(it->path, NULL, &img, NULL)) return mf_error_prefix(MF_ERR_IO, "%s", it->rel);
    int nf = 0;
    if (mf_face_analyze(w->an, &img, w->faces, EV_MAX_FACES, &nf)) nf = 0;
    int k = it->face;
    if (k < 0 && nf > 0) {
        mf_face_box bx[EV_MAX_FACES];
        for (int q = 0; q < nf; q++)
            bx[q] = w->faces[q].det;
        k = tu_box_nearest_centre(bx, nf, img.w, img.h, NULL);
    }
    const mf_face *f = k >= 0 && k < nf ? &w->faces[k] : NULL;
    ev_rec *ro = &it->rec[EV_M_ORIGINAL];
    if (!ro->done) {
        memset(ro, 0, sizeof *ro);
        ro->done = 1, ro->found = f != NULL;
        if (f) {
            fill(w, ro, &img, f);
            ro->lap = ev_skin_laplacian_var(&img, f);
            float p5[5][2];
            mf_face_5pt(f, p5);
            embed(w, it, EV_M_ORIGINAL, &img, p5);
        }
        cache_put(R, it, EV_M_ORIGINAL);
    }
    if (f && it->sheet && !crop_exists(R, i, it, EV_M_ORIGINAL)) save_crop(R, it, i, EV_M_ORIGINAL, &img, f);
    for (int m = 1; m < EV_NMETHODS && it->anon; m++) {
        if (!R->methods[m] || (it->rec[m].done && (!it->sheet || crop_exists(R, i, it, m)))) continue;
        ev_rec *rc = &it->rec[m];
        int was_done = rc->done;
        if (!f) { /* nothing to anonymize: the face is outside every figure but the count of faces not found */
            if (!rc->done) memset(rc, 0, sizeof *rc), rc->done = 1, rc->decision = -1, cache_put(R, it, m);
            continue;
        }
        if (m == EV_M_DONOR && !w->donors_loaded && load_donors(w))
            return mf_error_set(MF_ERR_NOTFOUND, "no usable donor photo in %s/synthetic", R->data);
        mf_img res;
        if (mf_img_init(&res, img.w, img.h, 3)) break;
        memcpy(res.data, img.data, (size_t)img.w * img.h * 3);
        static const mf_anon_method am[EV_NMETHODS] = {
            0, MF_ANON_SYNTH, MF_ANON_DONOR, MF_ANON_BLUR, MF_ANON_PIXELATE, MF_ANON_SOLID, MF_ANON_SYNTH};
        mf_anon_result ar;
        memset(&ar, 0, sizeof ar);
        double t0 = ev_now_ms();
        int st = 0;
        if (R->brk && !strcmp(R->brk, "synth-original") && m == EV_M_SYNTH)
            ar.decision =
                MF_ANON_ACCEPTED; /* hidden test option: "synthetic" returns the original (must fail --check) */
        else
            st = mf_anon_face(m == EV_M_STRICT ? w->anon_strict : w->anon, &res, f, am[m], it->seed, NULL, &ar);
        double ms = ev_now_ms() - t0;
        if (st) {
            mf_img_free(&res);
            mf_img_free(&img);
            return mf_error_prefix(st, "%s: %s", it->rel, ev_method_names[m]);
        }
        if (!was_done) {
            memset(rc, 0, sizeof *rc);
            rc->done = 1, rc->decision = (int)ar.decision, rc->tries = ar.tries, rc->ms = ms;
            int na = 0;
            if (mf_face_analyze(w->an, &res, w->after, EV_MAX_FACES, &na)) na = 0;
            int bi = nearest(w->after, na, f);
            float p5[5][2];
            rc->found = bi >= 0;
            if (bi >= 0) {
                fill(w, rc, &res, &w->after[bi]);
                mf_face_5pt(&w->after[bi], p5);
            } else {
                mf_face_5pt(f, p5); /* not found: embed where the face was (the attacker knows where it was) */
                rc->age = NAN, rc->p_male = NAN, rc->j.age = NAN;
                if (ev_judges_run(w->judges, &res, &f->det, &rc->j)) rc->j.age = NAN; /* judged where it was */
            }
            rc->lap = ev_skin_laplacian_var(&res, f);
            embed(w, it, m, &res, p5);
            cache_put(R, it, m);
        }
        if (it->sheet && !crop_exists(R, i, it, m)) save_crop(R, it, i, m, &res, f);
        mf_img_free(&res);
    }
    mf_img_free(&img);
    return 0;
}
