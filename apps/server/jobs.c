/* Worker threads over the job table: analysis of uploads (decode under caps, scale, detect, embed, match the
 * enrolled people, apply standing rules, store per access model) and enrolment selfies. Any node takes any job;
 * a job whose node died is taken again after its lease (SRV_JOB_LEASE).
 * Models: each worker loads its own analyzer and recognizer once at start (face9 brings shared models with
 * per-thread sessions; then one load per process). */
#include "srv.h"

#include "mfmc/analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { POLL_MS = 100, MAX_ATTEMPTS = 3 };

typedef struct {
    mf_srv *srv;
    mf_face_analyzer_t *an;
    mf_face_recognizer_t *rec;
} worker_t;

static worker_t workers[SRV_WORKERS_MAX];

static const mf_img_limits upload_limits = {
    .max_pixels = SRV_UPLOAD_MAX_PIXELS, .max_side = SRV_UPLOAD_MAX_SIDE, .max_bytes = SRV_UPLOAD_MAX};

/* Decodes sealed bytes under the upload caps and scales them to SRV_STORED_SIDE. */
static int decode_upload(const uint8_t *key, const uint8_t *blob, size_t len, mf_img *img) {
    uint8_t *raw = NULL;
    size_t rl;
    int s = mf_srv_unseal(key, blob, len, &raw, &rl);
    if (!s) s = mf_img_decode(raw, rl, &upload_limits, img, NULL);
    free(raw);
    if (s || (img->w <= SRV_STORED_SIDE && img->h <= SRV_STORED_SIDE)) return s;
    int w = img->w >= img->h ? SRV_STORED_SIDE : (int)((int64_t)img->w * SRV_STORED_SIDE / img->h);
    int h = img->w >= img->h ? (int)((int64_t)img->h * SRV_STORED_SIDE / img->w) : SRV_STORED_SIDE;
    mf_img small = {0};
    if ((s = mf_img_resize(img, w < 1 ? 1 : w, h < 1 ? 1 : h, &small))) return s;
    mf_img_free(img);
    *img = small;
    return MF_OK;
}

static int seal_jpeg(const uint8_t *key, const mf_img *img, int png, uint8_t **out, size_t *out_len) {
    uint8_t *enc = NULL;
    size_t el = 0;
    int s = png ? mf_img_encode_png(img, &enc, &el) : mf_img_encode_jpeg(img, 95, &enc, &el);
    if (!s) s = mf_srv_seal(key, enc, el, out, out_len);
    free(enc);
    return s;
}

/* Sealed patch of a face: the face key wrapped by the master key, then the JPEG patch sealed with the face key. */
static int seal_patch(mf_srv *srv, const mf_img *img, int x, int y, int w, int h, uint8_t **out, size_t *out_len) {
    mf_img crop = {0};
    uint8_t fkey[crypto_secretbox_KEYBYTES], *wrapped = NULL, *body = NULL;
    size_t wl = 0, bl = 0;
    crypto_secretbox_keygen(fkey);
    int s = mf_img_crop(img, x, y, w, h, &crop);
    if (!s) s = mf_srv_seal(srv->master, fkey, sizeof fkey, &wrapped, &wl);
    if (!s) s = seal_jpeg(fkey, &crop, 0, &body, &bl); /* JPEG q95: the patch is composited into a JPEG anyway */
    sodium_memzero(fkey, sizeof fkey);
    mf_img_free(&crop);
    if (!s) {
        *out_len = wl + bl;
        *out = malloc(*out_len);
        if (!*out)
            s = mf_error_set(MF_ERR_NOMEM, "out of memory");
        else {
            memcpy(*out, wrapped, wl);
            memcpy(*out + wl, body, bl);
        }
    }
    free(wrapped);
    free(body);
    return s;
}

/* Person of each face: the best enrolled match at or above the threshold; a person matched by several faces
 * keeps only their best one (the others stay unknown). */
static int match_faces(worker_t *w, mf_store_t *st, const mf_img *img, const mf_face *faces, int n,
                       mf_store_face *out) {
    mf_srv *srv = w->srv;
    int64_t *users = NULL;
    float *vecs = NULL, *e = malloc(sizeof(float) * (size_t)srv->dim), *best = calloc((size_t)n + 1, sizeof *best);
    int ne = 0, s = e && best ? mf_store_embedding_all(st, srv->recognizer, srv->dim, &users, &vecs, &ne)
                              : mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && !s && ne; i++) {
        float pts[5][2];
        mf_face_5pt(&faces[i], pts);
        if ((s = mf_face_recognizer_embed(w->rec, img, pts, e))) break;
        best[i] = -2;
        for (int k = 0; k < ne; k++) {
            float sim = mf_face_similarity(e, vecs + (size_t)k * srv->dim, srv->dim);
            if (sim >= srv->match_threshold && sim > best[i]) {
                best[i] = sim;
                out[i].user_id = users[k];
            }
        }
    }
    for (int i = 0; i < n && !s; i++)
        for (int k = 0; k < n; k++)
            if (k != i && out[i].user_id && out[k].user_id == out[i].user_id && best[k] > best[i]) out[i].user_id = 0;
    free(users);
    free(vecs);
    free(e);
    free(best);
    return s;
}

static int analyze(worker_t *w, mf_store_t *st, const mf_store_job *job) {
    mf_srv *srv = w->srv;
    mf_store_photo p;
    uint8_t key[crypto_secretbox_KEYBYTES], *blob = NULL;
    size_t bl;
    int s = mf_store_photo_get(st, job->photo_id, &p);
    if (s == MF_ERR_NOTFOUND) return mf_store_job_done(st, job->id); /* deleted meanwhile */
    if (!s) s = mf_srv_photo_key(srv, st, p.id, key);
    if (!s) s = mf_store_photo_blob(st, p.id, "original", &blob, &bl);
    if (s) return s;
    mf_img img = {0};
    s = decode_upload(key, blob, bl, &img);
    free(blob);
    const mf_face *faces = NULL;
    int n = 0;
    if (!s) s = mf_face_analyze_all(w->an, &img, &faces, &n);
    if (!s && n > SRV_MAX_FACES) s = mf_error_set(MF_ERR_LIMIT, "more than %d faces", SRV_MAX_FACES);
    if (s == MF_ERR_FORMAT || s == MF_ERR_LIMIT || s == MF_ERR_UNSUPPORTED) {
        /* the upload's fault: the photo fails for good, its sealed upload goes */
        mf_srv_log("photo %lld refused: %s", (long long)p.id, mf_error_get());
        mf_img_free(&img);
        sodium_memzero(key, sizeof key);
        if ((s = mf_store_begin(st))) return s;
        if (!(s = mf_store_photo_fail(st, p.id)) && !(s = mf_store_job_done(st, job->id))) return mf_store_commit(st);
        mf_store_rollback(st);
        return s;
    }
    mf_store_face *rec = calloc((size_t)n + 1, sizeof *rec);
    uint8_t **patches = calloc((size_t)n + 1, sizeof *patches);
    size_t *plen = calloc((size_t)n + 1, sizeof *plen);
    if (!s && (!rec || !patches || !plen)) s = mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && !s; i++) {
        rec[i].x = faces[i].det.x;
        rec[i].y = faces[i].det.y;
        rec[i].w = faces[i].det.w;
        rec[i].h = faces[i].det.h;
    }
    if (!s) s = match_faces(w, st, &img, faces, n, rec);
    /* standing rules decide at upload: never -> declined, friends -> approved when the poster is a friend */
    for (int i = 0; i < n && !s; i++) {
        if (!rec[i].user_id) continue;
        mf_store_user u;
        int fr = 0;
        if ((s = mf_store_user_get(st, rec[i].user_id, &u))) break;
        if (u.rule == MF_RULE_NEVER)
            rec[i].decision = MF_DEC_DECLINED;
        else if (u.rule == MF_RULE_FRIENDS && !(s = mf_store_are_friends(st, u.id, p.owner, &fr)) && fr)
            rec[i].decision = MF_DEC_APPROVED;
    }
    uint8_t *orig = NULL, *base = NULL;
    size_t ol = 0, basel = 0;
    int with_patches = 0;
    if (!s && p.access == MF_ACCESS_OPEN) {
        s = seal_jpeg(key, &img, 0, &orig, &ol); /* re-encoded from pixels: no metadata kept */
    } else if (!s) {
        for (int i = 0; i < n && !s; i++) {
            int x, y, fw, fh;
            mf_srv_face_rect(&rec[i], img.w, img.h, &x, &y, &fw, &fh);
            if (p.access == MF_ACCESS_SEALED) {
                s = seal_patch(srv, &img, x, y, fw, fh, &patches[i], &plen[i]);
                with_patches = 1;
            } else if (rec[i].decision == MF_DEC_APPROVED) {
                continue; /* strict: kept real in the base */
            } else {
                rec[i].discarded = 1; /* strict: replaced for good, original pixels gone */
            }
            if (!s) s = srv->replace(&img, x, y, fw, fh, mf_srv_face_seed(key, i), srv->replace_ctx);
        }
        if (!s) s = seal_jpeg(key, &img, 0, &base, &basel);
    }
    if (!s && !(s = mf_store_begin(st))) {
        s = mf_store_photo_finish(st, p.id, img.w, img.h, rec, n, orig, ol, base, basel, with_patches ? patches : NULL,
                                  plen);
        if (!s) s = mf_store_job_done(st, job->id);
        if (!s)
            s = mf_store_commit(st);
        else
            mf_store_rollback(st);
    }
    for (int i = 0; i < n && patches; i++)
        free(patches[i]);
    free(patches);
    free(plen);
    free(rec);
    free(orig);
    free(base);
    mf_img_free(&img);
    sodium_memzero(key, sizeof key);
    return s;
}

static int enrol(worker_t *w, mf_store_t *st, const mf_store_job *job) {
    uint8_t *blob = NULL;
    size_t bl;
    mf_img img = {0};
    int s = mf_store_job_blob(st, job->id, &blob, &bl);
    if (!s) s = decode_upload(w->srv->master, blob, bl, &img);
    free(blob);
    const mf_face *faces = NULL;
    int n = 0;
    if (!s) s = mf_face_analyze_all(w->an, &img, &faces, &n);
    if (!s && n > 0) {
        float *e = malloc(sizeof(float) * (size_t)w->srv->dim), pts[5][2];
        mf_face_5pt(&faces[mf_face_largest(faces, n)], pts);
        s = e ? mf_face_recognizer_embed(w->rec, &img, pts, e) : mf_error_set(MF_ERR_NOMEM, "out of memory");
        if (!s) s = mf_store_embedding_add(st, job->user_id, w->srv->recognizer, e, w->srv->dim);
        free(e);
    } else if (!s) {
        mf_srv_log("enrolment of user %lld: no face in the selfie", (long long)job->user_id);
    }
    mf_img_free(&img);
    if (s == MF_ERR_FORMAT || s == MF_ERR_LIMIT || s == MF_ERR_UNSUPPORTED || s == MF_ERR_NOTFOUND) {
        mf_srv_log("enrolment of user %lld refused: %s", (long long)job->user_id, mf_error_get());
        s = MF_OK;
    }
    return s ? s : mf_store_job_done(st, job->id);
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    mf_srv *srv = w->srv;
    while (!srv->stop) {
        mf_store_t *st = mf_srv_store(srv);
        mf_store_job job;
        int s = st ? mf_store_job_claim(st, srv->node, (int64_t)time(NULL), srv->job_lease, &job) : MF_ERR_IO;
        if (s) {
            if (s != MF_ERR_NOTFOUND) mf_srv_log("job claim: %s", mf_error_get());
            usleep(POLL_MS * 1000);
            continue;
        }
        if (job.attempts > MAX_ATTEMPTS) { /* failed again and again: give up on it */
            mf_srv_log("job %lld abandoned after %d attempts", (long long)job.id, job.attempts - 1);
            if (job.kind == MF_JOB_ANALYZE) mf_store_photo_fail(st, job.photo_id);
            mf_store_job_done(st, job.id);
            continue;
        }
        s = job.kind == MF_JOB_ANALYZE ? analyze(w, st, &job)
            : job.kind == MF_JOB_ENROL ? enrol(w, st, &job)
                                       : mf_store_job_done(st, job.id);
        if (s) mf_srv_log("job %lld (kind %d): %s", (long long)job.id, job.kind, mf_error_get());
    }
    return NULL;
}

int mf_srv_jobs_start(mf_srv *srv) {
    mf_face_analyzer_opts o = {.no_attributes = 1};
    for (int i = 0; i < srv->workers; i++) {
        worker_t *w = &workers[i];
        w->srv = srv;
        int s = mf_face_analyzer_create(srv->models, &o, &w->an);
        if (!s) s = mf_face_recognizer_create(srv->models, srv->recognizer, NULL, &w->rec);
        if (s) return mf_error_prefix(s, "models in %s", srv->models);
        if (pthread_create(&srv->worker[i], NULL, worker_main, w)) return mf_error_set(MF_ERR_NOMEM, "no thread");
        srv->n_workers = i + 1;
    }
    return MF_OK;
}

void mf_srv_jobs_stop(mf_srv *srv) {
    srv->stop = 1;
    for (int i = 0; i < srv->n_workers; i++) {
        pthread_join(srv->worker[i], NULL);
        mf_face_analyzer_free(workers[i].an);
        mf_face_recognizer_free(workers[i].rec);
    }
    srv->n_workers = 0;
}
