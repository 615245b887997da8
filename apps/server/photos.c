/* Photo routes: upload (returns at once; analysis is a job), feed, metadata, the image as the viewer may see it,
 * the faces with the viewer's view of them, decisions, pending requests; enrolment selfies. A photo the viewer
 * may not see answers exactly like a photo that does not exist (404 not_found). */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int image_format_ok(const mf_srv_req *r) {
    return r->body_len > 0 && mf_img_format_detect(r->body, r->body_len) != MF_IMG_FORMAT_UNKNOWN;
}

enum MHD_Result mf_srv_photo_upload(mf_srv_req *r) {
    if (!image_format_ok(r)) return mf_srv_reply_error(r, 415, "not_an_image");
    uint8_t key[crypto_secretbox_KEYBYTES], *wrapped = NULL, *sealed = NULL;
    size_t wl = 0, sl = 0;
    crypto_secretbox_keygen(key);
    /* the upload (with whatever metadata it carries) is kept only sealed, until the job re-encodes it */
    int s = mf_srv_seal(r->srv->master, key, sizeof key, &wrapped, &wl);
    if (!s) s = mf_srv_seal(key, r->body, r->body_len, &sealed, &sl);
    sodium_memzero(key, sizeof key);
    int64_t id = 0;
    if (!s) s = mf_store_photo_create(r->st, r->user, r->srv->access, sealed, sl, wrapped, wl, &id);
    free(wrapped);
    free(sealed);
    if (s) {
        mf_srv_log("upload: %s", mf_error_get());
        return mf_srv_reply_error(r, 500, "internal");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "state", "pending");
    return mf_srv_reply_json(r, 202, o);
}

static const char *state_name(int st) {
    return st == MF_PHOTO_READY ? "ready" : st == MF_PHOTO_FAILED ? "failed" : "pending";
}
static const char *access_name(int a) {
    return a == MF_ACCESS_SEALED ? "sealed" : a == MF_ACCESS_STRICT ? "strict" : "open";
}

static cJSON *photo_json(mf_srv_req *r, const mf_store_photo *p) {
    cJSON *o = cJSON_CreateObject();
    char url[64];
    mf_store_user u;
    cJSON_AddNumberToObject(o, "id", (double)p->id);
    cJSON *ow = cJSON_AddObjectToObject(o, "owner");
    cJSON_AddNumberToObject(ow, "id", (double)p->owner);
    if (!mf_store_user_get(r->st, p->owner, &u)) cJSON_AddStringToObject(ow, "name", u.name);
    cJSON_AddStringToObject(o, "state", state_name(p->state));
    cJSON_AddStringToObject(o, "access", access_name(p->access));
    cJSON_AddNumberToObject(o, "width", p->w);
    cJSON_AddNumberToObject(o, "height", p->h);
    cJSON_AddNumberToObject(o, "faces", p->n_faces);
    cJSON_AddNumberToObject(o, "created", (double)p->created);
    snprintf(url, sizeof url, "/api/photos/%lld/image", (long long)p->id);
    cJSON_AddStringToObject(o, "image", url);
    return o;
}

enum MHD_Result mf_srv_feed(mf_srv_req *r) {
    const char *b = mf_srv_query(r, "before");
    int64_t before = 0;
    if (b) {
        char *end;
        long long v = strtoll(b, &end, 10);
        if (*end || v < 0 || end == b) return mf_srv_reply_error(r, 400, "bad_before");
        before = v;
    }
    mf_store_photo ps[SRV_FEED_MAX];
    int n = 0;
    if (mf_store_feed(r->st, r->user, before, ps, SRV_FEED_MAX, &n)) return mf_srv_reply_error(r, 500, "internal");
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, photo_json(r, &ps[i]));
    return mf_srv_reply_json(r, 200, a);
}

/* The photo of r->arg[0] if the viewer may see it; otherwise queues 404 and returns 1 (or 500 and -1). */
static int visible_photo(mf_srv_req *r, mf_store_photo *p, enum MHD_Result *ret) {
    int yes = 0;
    if (mf_store_photo_visible(r->st, r->user, r->arg[0], &yes)) {
        *ret = mf_srv_reply_error(r, 500, "internal");
        return -1;
    }
    if (!yes || mf_store_photo_get(r->st, r->arg[0], p)) {
        *ret = mf_srv_reply_error(r, 404, "not_found");
        return 1;
    }
    return 0;
}

enum MHD_Result mf_srv_photo_meta(mf_srv_req *r) {
    mf_store_photo p;
    enum MHD_Result ret;
    if (visible_photo(r, &p, &ret)) return ret;
    return mf_srv_reply_json(r, 200, photo_json(r, &p));
}

enum MHD_Result mf_srv_photo_image(mf_srv_req *r) {
    mf_store_photo p;
    enum MHD_Result ret;
    const char *size = mf_srv_query(r, "size"), *dl = mf_srv_query(r, "download"), *as = mf_srv_query(r, "as");
    int side = !size || !strcmp(size, "full") ? 0
               : !strcmp(size, "thumb")       ? SRV_THUMB_SIDE
               : !strcmp(size, "medium")      ? SRV_MEDIUM_SIDE
                                              : -1;
    if (side < 0) return mf_srv_reply_error(r, 400, "bad_size");
    /* as=others: the photo as someone who is neither in it nor a friend of anyone in it sees it (viewer 0: only
     * faces approved for everyone are real) -- never more than the viewer sees themselves */
    if (as && strcmp(as, "others")) return mf_srv_reply_error(r, 400, "bad_as");
    if (visible_photo(r, &p, &ret)) return ret;
    if (p.state != MF_PHOTO_READY)
        return mf_srv_reply_error(r, p.state == MF_PHOTO_PENDING ? 409 : 410,
                                  p.state == MF_PHOTO_PENDING ? "pending" : "failed");
    uint8_t *jpeg = NULL;
    size_t len = 0;
    /* Range requests get the whole render (200): no byte range of anything else exists to serve */
    if (mf_srv_render(r->srv, r->st, as ? 0 : r->user, &p, side, &jpeg, &len)) {
        mf_srv_log("render of photo %lld: %s", (long long)p.id, mf_error_get());
        return mf_srv_reply_error(r, 500, "internal");
    }
    char disp[96];
    if (dl) snprintf(disp, sizeof disp, "attachment; filename=\"photo-%lld.jpg\"", (long long)p.id);
    return mf_srv_reply_bytes(r, 200, "image/jpeg", jpeg, len, dl ? disp : NULL);
}

static const char *decision_name(int d) {
    return d == MF_DEC_APPROVED ? "approved" : d == MF_DEC_DECLINED ? "declined" : "pending";
}

enum MHD_Result mf_srv_photo_faces(mf_srv_req *r) {
    mf_store_photo p;
    enum MHD_Result ret;
    if (visible_photo(r, &p, &ret)) return ret;
    mf_store_face *f = NULL;
    int n = 0;
    if (mf_store_faces(r->st, p.id, &f, &n)) return mf_srv_reply_error(r, 500, "internal");
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        int real = 0;
        if (mf_srv_face_real(r->st, r->user, &f[i], &real)) {
            cJSON_Delete(a);
            free(f);
            return mf_srv_reply_error(r, 500, "internal");
        }
        /* box: where a face (real or replaced) is in the rendered photo, which shows it anyway; who a face is
         * only where the viewer sees it real, and the decision only to its own person */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "idx", f[i].idx);
        cJSON *b = cJSON_AddObjectToObject(o, "box");
        cJSON_AddNumberToObject(b, "x", (int)f[i].x);
        cJSON_AddNumberToObject(b, "y", (int)f[i].y);
        cJSON_AddNumberToObject(b, "w", (int)f[i].w);
        cJSON_AddNumberToObject(b, "h", (int)f[i].h);
        cJSON_AddStringToObject(o, "shown", real ? "real" : "replaced");
        if (!real) /* how: the same for every viewer who gets it replaced (it shows in the picture anyway) */
            cJSON_AddStringToObject(o, "replacement", f[i].replacement == MF_REPL_SYNTHETIC     ? "synthetic"
                                                      : f[i].replacement == MF_REPL_FALLBACK    ? "fallback"
                                                      : f[i].replacement == MF_REPL_UNCONFIRMED ? "fallback_not_a_face"
                                                                                                : "mosaic");
        int mine = f[i].user_id && f[i].user_id == r->user;
        cJSON_AddBoolToObject(o, "yours", mine);
        if (mine) {
            cJSON_AddStringToObject(o, "decision", decision_name(f[i].decision));
            cJSON_AddStringToObject(o, "audience", f[i].audience == MF_AUD_FRIENDS ? "friends" : "everyone");
            cJSON_AddBoolToObject(o, "discarded", f[i].discarded);
        }
        mf_store_user u;
        if (real && !mine && !mf_store_user_get(r->st, f[i].user_id, &u)) {
            cJSON *who = cJSON_AddObjectToObject(o, "person");
            cJSON_AddNumberToObject(who, "id", (double)u.id);
            cJSON_AddStringToObject(who, "name", u.name);
        }
        cJSON_AddItemToArray(a, o);
    }
    free(f);
    return mf_srv_reply_json(r, 200, a);
}

enum MHD_Result mf_srv_decide(mf_srv_req *r) {
    cJSON *a = cJSON_GetObjectItemCaseSensitive(r->json, "action"),
          *au = cJSON_GetObjectItemCaseSensitive(r->json, "audience");
    if (!cJSON_IsString(a) ||
        (strcmp(a->valuestring, "approve") && strcmp(a->valuestring, "decline") && strcmp(a->valuestring, "withdraw")))
        return mf_srv_reply_error(r, 400, "bad_action");
    int audience = MF_AUD_EVERYONE;
    if (au) {
        if (!cJSON_IsString(au) || (strcmp(au->valuestring, "everyone") && strcmp(au->valuestring, "friends")))
            return mf_srv_reply_error(r, 400, "bad_audience");
        audience = !strcmp(au->valuestring, "friends") ? MF_AUD_FRIENDS : MF_AUD_EVERYONE;
    }
    if (r->arg[1] > SRV_MAX_FACES) return mf_srv_reply_error(r, 404, "not_found");
    int s = mf_store_decide(r->st, r->user, r->arg[0], (int)r->arg[1], a->valuestring, audience, (int64_t)time(NULL));
    if (s == MF_ERR_NOTFOUND) return mf_srv_reply_error(r, 404, "not_found"); /* not a face of yours */
    if (s) return mf_srv_reply_error(r, 500, "internal");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "decision", strcmp(a->valuestring, "approve") ? "declined" : "approved");
    cJSON_AddStringToObject(o, "audience", audience == MF_AUD_FRIENDS ? "friends" : "everyone");
    return mf_srv_reply_json(r, 200, o);
}

enum MHD_Result mf_srv_requests(mf_srv_req *r) {
    static __thread mf_store_face f[MF_STORE_LIST_MAX];
    int n = 0;
    if (mf_store_pending(r->st, r->user, f, MF_STORE_LIST_MAX, &n)) return mf_srv_reply_error(r, 500, "internal");
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "photo", (double)f[i].photo_id);
        cJSON_AddNumberToObject(o, "face", f[i].idx);
        cJSON_AddItemToArray(a, o);
    }
    return mf_srv_reply_json(r, 200, a);
}

enum MHD_Result mf_srv_my_faces(mf_srv_req *r) {
    static __thread mf_store_face f[MF_STORE_LIST_MAX];
    int n = 0;
    if (mf_store_faces_of(r->st, r->user, f, MF_STORE_LIST_MAX, &n)) return mf_srv_reply_error(r, 500, "internal");
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "photo", (double)f[i].photo_id);
        cJSON_AddNumberToObject(o, "face", f[i].idx);
        cJSON_AddStringToObject(o, "decision", decision_name(f[i].decision));
        cJSON_AddStringToObject(o, "audience", f[i].audience == MF_AUD_FRIENDS ? "friends" : "everyone");
        cJSON_AddBoolToObject(o, "discarded", f[i].discarded);
        cJSON_AddItemToArray(a, o);
    }
    return mf_srv_reply_json(r, 200, a);
}

enum MHD_Result mf_srv_enrol_add(mf_srv_req *r) {
    if (!image_format_ok(r)) return mf_srv_reply_error(r, 415, "not_an_image");
    int n = 0, pending = 0;
    if (mf_store_embedding_count(r->st, r->user, &n) || mf_store_enrol_pending(r->st, r->user, &pending))
        return mf_srv_reply_error(r, 500, "internal");
    /* selfies still waiting count too: no queue of more selfies than the enrolment can take */
    if (n + pending >= MF_STORE_ENROL_MAX) return mf_srv_reply_error(r, 409, "enrolment_full");
    uint8_t *sealed = NULL;
    size_t sl = 0;
    if (mf_srv_seal(r->srv->master, r->body, r->body_len, &sealed, &sl) ||
        mf_store_job_enrol(r->st, r->user, sealed, sl) || mf_store_enrol_note_set(r->st, r->user, "pending")) {
        free(sealed);
        return mf_srv_reply_error(r, 500, "internal");
    }
    free(sealed);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "state", "pending");
    return mf_srv_reply_json(r, 202, o);
}

enum MHD_Result mf_srv_enrol_get(mf_srv_req *r) {
    int n = 0, pending = 0;
    if (mf_store_embedding_count(r->st, r->user, &n) || mf_store_enrol_pending(r->st, r->user, &pending))
        return mf_srv_reply_error(r, 500, "internal");
    char note[MF_STORE_NAME_MAX + 1];
    if (mf_store_enrol_note_get(r->st, r->user, note)) return mf_srv_reply_error(r, 500, "internal");
    /* selfies enrolled before schema 3 hold the primary recognizer's embedding only (the selfies are not kept, so
     * the others cannot be computed): replacements are checked against them by that recognizer only */
    int full = n;
    for (int i = 0; i < mf_face_recognizer_count(); i++) {
        const mf_face_recognizer_info *inf = mf_face_recognizer_info_at(i);
        int k = 0;
        if (!inf->ensemble || !strcmp(inf->name, r->srv->recognizer)) continue;
        if (mf_store_embedding_count_model(r->st, r->user, inf->name, &k))
            return mf_srv_reply_error(r, 500, "internal");
        if (k < full) full = k;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "enrolled", n); /* the embeddings themselves are never returned */
    cJSON_AddNumberToObject(o, "pending", pending); /* selfies not analysed yet */
    cJSON_AddNumberToObject(o, "max", MF_STORE_ENROL_MAX);
    cJSON_AddNumberToObject(o, "primary_only", n - full);
    /* the outcome of the last selfie: pending, ok, no_face, several_faces, not_an_image, limit */
    if (note[0]) cJSON_AddStringToObject(o, "last_selfie", note);
    return mf_srv_reply_json(r, 200, o);
}

enum MHD_Result mf_srv_enrol_delete(mf_srv_req *r) {
    if (mf_store_embedding_delete_all(r->st, r->user) || mf_store_enrol_note_set(r->st, r->user, NULL))
        return mf_srv_reply_error(r, 500, "internal");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "enrolled", 0);
    return mf_srv_reply_json(r, 200, o);
}
