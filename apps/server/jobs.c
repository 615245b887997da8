/* Worker threads over the job table: analysis of uploads (decode under caps, scale, privacy-grade detection,
 * embed, match the enrolled people, apply standing rules, replace every face with the anonymizer, store per
 * access model) and enrolment selfies. Any node takes any job; a job whose node died is taken again after its
 * lease (SRV_JOB_LEASE).
 * Models: the face networks are loaded once per process (mf_face_models_t, read-only) and every worker has its
 * own sessions over them (the privacy-grade analyser, the recognizer). The anonymizer's ensemble recognizers are
 * sessions over the same models (mf_anon_create_from); it has its own identity model and plans, so the process
 * has one anonymizer, with its own normal-mode analyser for its checks and for selfies, used by one worker at a
 * time (anon_lock). Detection, matching and storing run in parallel.
 * Replacement happens here, once per photo, not at view time: docs/server.md "Rendering". Every replacement is
 * also checked against every enrolled member: one gallery per anonymizer recognizer, built from the store and
 * cached (under anon_lock) until the store's enrolment version moves (docs/server.md "Members in the guarantee"). */
#include "srv.h"

#include "mfmc/analyze.h"
#include "mfmc/anon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { POLL_MS = 100, MAX_ATTEMPTS = 3 };

typedef struct {
    mf_srv *srv;
    mf_face_analyzer_t *an;    /* privacy-grade detection, mesh and attributes: the photos */
    mf_face_recognizer_t *rec; /* the model of the stored embeddings */
} worker_t;

static worker_t workers[SRV_WORKERS_MAX];
static mf_face_models_t *shared_models;
/* One per process, used under anon_lock: the anonymizer and the normal-mode analyser it borrows for its checks
 * (also the analyser of selfies). */
static pthread_mutex_t anon_lock = PTHREAD_MUTEX_INITIALIZER;
static mf_face_analyzer_t *check_an;
static mf_anon_t *anon;
/* The members' galleries, one per anonymizer recognizer (identity = the user id in decimal), under anon_lock;
 * built for enrolment version gal_version (gal_valid = 0: never built). */
static mf_gallery_t *gal[MF_ANON_MAX_RECOGNIZERS];
static int gal_members[MF_ANON_MAX_RECOGNIZERS];
static int64_t gal_version;
static int gal_valid;
static int primary_rec; /* the anonymizer's index of the primary recognizer: its gallery is also the matching's */

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

/* The upload's fault (undecodable, over a cap): the photo fails for good, its sealed upload goes. */
static int refuse_photo(mf_store_t *st, const mf_store_photo *p, const mf_store_job *job) {
    mf_srv_log("photo %lld refused: %s", (long long)p->id, mf_error_get());
    int s = mf_store_begin(st);
    if (s) return s;
    if (!(s = mf_store_photo_fail(st, p->id)) && !(s = mf_store_job_done(st, job->id))) return mf_store_commit(st);
    mf_store_rollback(st);
    return s;
}

/* What is stored per access model (docs/access-models.md), from the upload `img` and its anonymized `base`:
 *   open:   the original and the base, each sealed with the photo key;
 *   sealed: the base in the clear; a patch sealed with its own key per face of a known person;
 *   strict: the base sealed with the photo key; a patch per face approved at upload, and per face of a known
 *           person not approved (shown to that person only: they always see their own face); every face not
 *           approved is marked discarded. Unknown faces keep no original pixels in sealed and strict. */
static int store_photo(mf_srv *srv, mf_store_t *st, const mf_store_photo *p, const mf_store_job *job,
                       const uint8_t *key, const mf_img *img, const mf_img *base, mf_store_face *rec, int n) {
    uint8_t **patches = calloc((size_t)n + 1, sizeof *patches), *orig = NULL, *bb = NULL;
    size_t *plen = calloc((size_t)n + 1, sizeof *plen), ol = 0, bl = 0;
    int s = patches && plen ? MF_OK : mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (!s && p->access == MF_ACCESS_OPEN) s = seal_jpeg(key, img, 0, &orig, &ol); /* from pixels: no metadata */
    if (!s && p->access == MF_ACCESS_SEALED)
        s = mf_img_encode_jpeg(base, 95, &bb, &bl); /* the clear anonymized photo */
    else if (!s)
        s = seal_jpeg(key, base, 0, &bb, &bl);
    for (int i = 0; i < n && !s && p->access != MF_ACCESS_OPEN; i++) {
        if (p->access == MF_ACCESS_STRICT && rec[i].decision != MF_DEC_APPROVED) rec[i].discarded = 1;
        if (!rec[i].user_id) continue; /* unknown: nobody may ever see it */
        int x, y, fw, fh;
        mf_srv_face_rect(&rec[i], img->w, img->h, &x, &y, &fw, &fh);
        s = seal_patch(srv, img, x, y, fw, fh, &patches[i], &plen[i]);
    }
    if (!s && !(s = mf_store_begin(st))) {
        s = mf_store_photo_finish(st, p->id, img->w, img->h, rec, n, orig, ol, bb, bl,
                                  p->access == MF_ACCESS_OPEN ? NULL : patches, plen);
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
    free(orig);
    free(bb);
    return s;
}

typedef struct {
    mf_store_t *st;
    const mf_store_job *job;
    const char *node;
} lease_t;

/* Between faces: the job's claim is renewed, so a photo of many faces is not taken again by another node. */
static void renew_lease(void *ctx) {
    lease_t *l = ctx;
    if (mf_store_job_touch(l->st, l->job->id, l->node, (int64_t)time(NULL)))
        mf_srv_log("job %lld: lease not renewed: %s", (long long)l->job->id, mf_error_get());
}

static void galleries_free(void) {
    for (int i = 0; i < MF_ANON_MAX_RECOGNIZERS; i++) {
        mf_gallery_free(gal[i]);
        gal[i] = NULL;
        gal_members[i] = 0;
    }
    gal_valid = 0;
}

/* Brings the galleries up to the store's enrolment version (caller holds anon_lock). The version is read before
 * the embeddings: an enrolment in between makes the next call rebuild again, never keeps a stale gallery. */
static int galleries_refresh(mf_store_t *st) {
    int64_t v = 0;
    int s = mf_store_enrol_version(st, &v);
    if (s || (gal_valid && v == gal_version)) return s;
    galleries_free();
    int64_t *users = NULL;
    float *vecs = NULL;
    for (int i = 0; i < mf_anon_recognizer_count(anon) && !s; i++) {
        const mf_face_recognizer_info *inf = mf_anon_recognizer_info(anon, i);
        int ne = 0;
        if (!(s = mf_store_embedding_all(st, inf->name, inf->dim, &users, &vecs, &ne)))
            s = mf_gallery_create(inf->dim, &gal[i]);
        for (int k = 0; k < ne && !s; k++) {
            char name[32];
            snprintf(name, sizeof name, "%lld", (long long)users[k]);
            int a = mf_gallery_add(gal[i], name, vecs + (size_t)k * inf->dim);
            if (a == MF_ERR_ARG) /* a zero or non-finite vector: unusable, not a reason to stop analysing */
                mf_srv_log("gallery %s: embedding of user %s skipped: %s", inf->name, name, mf_error_get());
            else
                s = a;
        }
        if (!s) gal_members[i] = mf_gallery_identity_count(gal[i]);
        free(users);
        free(vecs);
        users = NULL;
        vecs = NULL;
    }
    if (s) {
        galleries_free();
        return mf_error_prefix(s, "members' galleries");
    }
    gal_version = v;
    gal_valid = 1;
    mf_srv_log("members' galleries at enrolment version %lld: %s %d, %s %d", (long long)v,
               mf_anon_recognizer_info(anon, 0)->name, gal_members[0],
               mf_anon_recognizer_count(anon) > 1 ? mf_anon_recognizer_info(anon, 1)->name : "-", gal_members[1]);
    return MF_OK;
}

/* Person of each face: the best enrolled match at or above the threshold; a person matched by several faces
 * keeps only their best one (the others stay unknown). Candidates the mesh did not confirm are never matched
 * (they stay unknown, so always replaced). The faces are embedded in parallel with other workers; the matching
 * itself reads the primary recognizer's members' gallery, cached under anon_lock at the store's enrolment version
 * (the same embeddings as the store's, not read again per photo). */
static int match_faces(worker_t *w, mf_store_t *st, const mf_img *img, const mf_face *faces, int n,
                       mf_store_face *out) {
    mf_srv *srv = w->srv;
    float *e = malloc(sizeof(float) * (size_t)srv->dim * ((size_t)n + 1)), *best = calloc((size_t)n + 1, sizeof *best);
    int s = e && best ? MF_OK : mf_error_set(MF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n && !s; i++) {
        best[i] = -2;
        if (!faces[i].confirmed) continue;
        float pts[5][2];
        mf_face_5pt(&faces[i], pts);
        s = mf_face_recognizer_embed(w->rec, img, pts, e + (size_t)i * srv->dim);
    }
    if (!s) {
        pthread_mutex_lock(&anon_lock);
        s = galleries_refresh(st);
        for (int i = 0; i < n && !s; i++) {
            mf_gallery_result r;
            if (!faces[i].confirmed || mf_gallery_identity_count(gal[primary_rec]) == 0) continue;
            if ((s = mf_gallery_match(gal[primary_rec], e + (size_t)i * srv->dim, srv->match_threshold, &r))) break;
            if (r.matched) best[i] = r.similarity, out[i].user_id = strtoll(r.identity, NULL, 10);
        }
        pthread_mutex_unlock(&anon_lock);
    }
    for (int i = 0; i < n && !s; i++)
        for (int k = 0; k < n; k++)
            if (k != i && out[i].user_id && out[k].user_id == out[i].user_id && best[k] > best[i]) out[i].user_id = 0;
    free(e);
    free(best);
    return s;
}

/* What the anonymizer's checks measured on face i's replacement, as stored in faces.anon_check and logged: the
 * decision, the draws, per recognizer the similarity to the original and the best similarity to any member
 * (null: no member in that gallery) with the gallery's size. The figures are written in full (%.9g: a float reads
 * back as itself): rounded to 4 decimals, an accepted face less than 0.0001 under a threshold read as at it (0.9206 /
 * 0.9206), so the record no longer showed the guarantee it audits. */
static void anon_check_json(const mf_anon_result *res, char *out, size_t cap) {
    size_t o = 0;
#define PUT(...) (o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, __VA_ARGS__))
    PUT("{\"decision\":\"%s\",\"tries\":%d,\"recognizers\":{",
        res->decision == MF_ANON_ACCEPTED   ? "accepted"
        : res->decision == MF_ANON_FALLBACK ? "fallback"
                                            : "baseline",
        res->tries);
    for (int i = 0; i < res->n_rec && i < mf_anon_recognizer_count(anon); i++) {
        const mf_face_recognizer_info *inf = mf_anon_recognizer_info(anon, i);
        PUT("%s\"%s\":{\"sim\":", i ? "," : "", inf->name);
        if (res->sim[i] > -2)
            PUT("%.9g", res->sim[i]);
        else
            PUT("null");
        PUT(",\"gallery_sim\":");
        if (res->gallery_sim[i] > -2)
            PUT("%.9g", res->gallery_sim[i]);
        else
            PUT("null");
        PUT(",\"match_threshold\":%.9g,\"gallery_threshold\":%.9g,\"members\":%d}", inf->match_threshold,
            mf_anon_gallery_threshold(anon, i), gal_members[i]);
    }
    PUT("}}");
#undef PUT
    if (o >= cap && cap) out[0] = 0; /* cannot happen with MF_STORE_CHECK_MAX; never a truncated JSON */
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
    mf_img img = {0}, base = {0};
    s = decode_upload(key, blob, bl, &img);
    free(blob);
    const mf_face *found = NULL;
    mf_face *faces = NULL;
    int n = 0;
    if (!s) s = mf_face_analyze_all(w->an, &img, &found, &n); /* privacy-grade: any rotation, cut, from 16 px */
    if (!s && n > SRV_MAX_FACES) s = mf_error_set(MF_ERR_LIMIT, "more than %d faces", SRV_MAX_FACES);
    if (s == MF_ERR_FORMAT || s == MF_ERR_LIMIT || s == MF_ERR_UNSUPPORTED) {
        mf_img_free(&img);
        sodium_memzero(key, sizeof key);
        return refuse_photo(st, &p, job);
    }
    /* the analyser's array lives until its next analysis, and the anonymizer's checks analyse again */
    mf_store_face *rec = calloc((size_t)n + 1, sizeof *rec);
    int *repl = calloc((size_t)n + 1, sizeof *repl);
    mf_anon_result *res = calloc((size_t)n + 1, sizeof *res);
    char *checks = calloc((size_t)n + 1, MF_STORE_CHECK_MAX + 1);
    faces = malloc(sizeof *faces * ((size_t)n + 1));
    if (!s && (!rec || !repl || !res || !checks || !faces)) s = mf_error_set(MF_ERR_NOMEM, "out of memory");
    if (!s && n) memcpy(faces, found, sizeof *faces * (size_t)n);
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
    /* every face replaced once, here: what any viewer who may not see a face receives */
    lease_t lease = {st, job, srv->node};
    /* ... and unlike every enrolled member (the face's own person included), per recognizer of the guarantee */
    if (!s) {
        pthread_mutex_lock(&anon_lock);
        s = galleries_refresh(st);
        const mf_anon_galleries g = {(const mf_gallery_t *const *)gal};
        if (!s) s = mf_srv_anonymize(srv, anon, &img, faces, rec, n, key, &g, &base, repl, res, renew_lease, &lease);
        for (int i = 0; i < n && !s; i++) {
            char *c = checks + (size_t)i * (MF_STORE_CHECK_MAX + 1);
            anon_check_json(&res[i], c, MF_STORE_CHECK_MAX + 1);
            rec[i].anon_check = c;
            mf_srv_log("photo %lld face %d: %s %s", (long long)p.id, i,
                       repl[i] == MF_REPL_SYNTHETIC     ? "synthetic"
                       : repl[i] == MF_REPL_UNCONFIRMED ? "not_a_face"
                                                        : "fallback",
                       c);
        }
        pthread_mutex_unlock(&anon_lock);
    }
    for (int i = 0; i < n && !s; i++)
        rec[i].replacement = repl[i];
    if (!s) s = store_photo(srv, st, &p, job, key, &img, &base, rec, n);
    free(rec);
    free(repl);
    free(res);
    free(checks);
    free(faces);
    mf_img_free(&img);
    mf_img_free(&base);
    sodium_memzero(key, sizeof key);
    return s;
}

/* One enrolment selfie: exactly one clear face (another face at least a quarter of its area makes the selfie
 * ambiguous: refused as "several_faces"), embedded and stored; the outcome is kept as the user's enrolment note
 * (GET /api/enrol). */
static int enrol(worker_t *w, mf_store_t *st, const mf_store_job *job) {
    uint8_t *blob = NULL;
    size_t bl;
    mf_img img = {0};
    const char *note = "ok";
    int s = mf_store_job_blob(st, job->id, &blob, &bl);
    if (!s) s = decode_upload(w->srv->master, blob, bl, &img);
    free(blob);
    const mf_face *faces = NULL;
    int n = 0, best = -1, several = 0;
    pthread_mutex_lock(&anon_lock); /* check_an is shared */
    if (!s) s = mf_face_analyze_all(check_an, &img, &faces, &n);
    for (int i = 0; i < n && !s; i++)
        if (faces[i].confirmed && (best < 0 || faces[i].det.w * faces[i].det.h > faces[best].det.w * faces[best].det.h))
            best = i;
    for (int i = 0; i < n && !s && best >= 0; i++)
        if (i != best && faces[i].confirmed &&
            faces[i].det.w * faces[i].det.h >= 0.25f * faces[best].det.w * faces[best].det.h)
            several = 1;
    if (!s && best < 0)
        note = "no_face";
    else if (!s && several)
        note = "several_faces";
    else if (!s) { /* the primary recognizer (matching), and every other recognizer of the anonymizer (galleries) */
        const char *models[MF_STORE_ENROL_MODELS];
        const float *vecs[MF_STORE_ENROL_MODELS];
        int dims[MF_STORE_ENROL_MODELS], m = 0;
        float *e = malloc(sizeof(float) * MF_STORE_ENROL_MODELS * MF_STORE_DIM_MAX), pts[5][2];
        mf_face_5pt(&faces[best], pts);
        s = e ? mf_face_recognizer_embed(w->rec, &img, pts, e) : mf_error_set(MF_ERR_NOMEM, "out of memory");
        if (!s) models[m] = w->srv->recognizer, vecs[m] = e, dims[m++] = w->srv->dim;
        for (int i = 0; i < mf_anon_recognizer_count(anon) && !s && m < MF_STORE_ENROL_MODELS; i++) {
            const mf_face_recognizer_info *inf = mf_anon_recognizer_info(anon, i);
            if (!strcmp(inf->name, w->srv->recognizer) || inf->dim > MF_STORE_DIM_MAX) continue;
            float *ei = e + (size_t)m * MF_STORE_DIM_MAX;
            if (!(s = mf_anon_embed(anon, i, &img, &faces[best], ei)))
                models[m] = inf->name, vecs[m] = ei, dims[m++] = inf->dim;
        }
        if (!s) s = mf_store_enrol_add(st, job->user_id, job->id, m, models, vecs, dims);
        free(e);
        if (s == MF_ERR_LIMIT) note = "limit";
    }
    pthread_mutex_unlock(&anon_lock);
    mf_img_free(&img);
    if (s == MF_ERR_FORMAT || s == MF_ERR_UNSUPPORTED || (s == MF_ERR_LIMIT && strcmp(note, "limit")))
        note = "not_an_image";
    if (s == MF_ERR_FORMAT || s == MF_ERR_LIMIT || s == MF_ERR_UNSUPPORTED || s == MF_ERR_NOTFOUND) {
        mf_srv_log("enrolment of user %lld refused: %s", (long long)job->user_id, mf_error_get());
        s = MF_OK;
    }
    if (strcmp(note, "ok")) mf_srv_log("enrolment of user %lld: %s", (long long)job->user_id, note);
    if (!s) s = mf_store_enrol_note_set(st, job->user_id, note);
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
    if (!srv->workers) return MF_OK;
    int s = mf_face_models_create(srv->models, &shared_models);
    mf_face_analyzer_opts po = {.privacy = 1}, co = {0};
    if (!s) s = mf_face_analyzer_create_from(shared_models, &co, &check_an);
    if (s) return mf_error_prefix(s, "models in %s", srv->models);
    mf_anon_opts ao = {.models_root = srv->models, .identity_model = srv->identity, .an = check_an};
    if ((s = mf_anon_create_from(shared_models, &ao, &anon)))
        return mf_error_prefix(s, "anonymizer (%s)", srv->identity);
    primary_rec = -1;
    for (int i = 0; i < mf_anon_recognizer_count(anon); i++)
        if (!strcmp(mf_anon_recognizer_info(anon, i)->name, srv->recognizer)) primary_rec = i;
    if (primary_rec < 0)
        return mf_error_set(MF_ERR_ARG, "the primary recognizer %s is not in the anonymizer's ensemble", srv->recognizer);
    for (int i = 0; i < srv->workers; i++) {
        worker_t *w = &workers[i];
        w->srv = srv;
        s = mf_face_analyzer_create_from(shared_models, &po, &w->an);
        if (!s) s = mf_face_recognizer_create_from(shared_models, srv->recognizer, NULL, &w->rec);
        if (s) return mf_error_prefix(s, "models in %s", srv->models);
        if (pthread_create(&srv->worker[i], NULL, worker_main, w)) return mf_error_set(MF_ERR_NOMEM, "no thread");
        srv->n_workers = i + 1;
    }
    return MF_OK;
}

void mf_srv_jobs_stop(mf_srv *srv) {
    srv->stop = 1;
    for (int i = 0; i < srv->n_workers; i++)
        pthread_join(srv->worker[i], NULL);
    for (int i = 0; i < SRV_WORKERS_MAX; i++) {
        worker_t *w = &workers[i];
        mf_face_analyzer_free(w->an);
        mf_face_recognizer_free(w->rec);
        memset(w, 0, sizeof *w);
    }
    galleries_free();
    mf_anon_free(anon); /* before the analyser and the models it borrows */
    mf_face_analyzer_free(check_an);
    mf_face_models_free(shared_models);
    anon = NULL;
    check_an = NULL;
    shared_models = NULL;
    srv->n_workers = 0;
}
