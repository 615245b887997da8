/* The route table of /api/ and the handlers of people: me, standing rule, friends, audit trail, export, account
 * deletion, and the OpenAPI document. */
#include "srv.h"

#include "path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* docs/openapi.yaml, embedded at build time (openapi.c). */
extern const char mf_srv_openapi_yaml[];

enum { R_AUTH = 1, R_JSON = 2, R_UPLOAD = 4 };

static enum MHD_Result me_get(mf_srv_req *r);
static enum MHD_Result me_delete(mf_srv_req *r);
static enum MHD_Result rule_put(mf_srv_req *r);
static enum MHD_Result friends_get(mf_srv_req *r);
static enum MHD_Result friends_post(mf_srv_req *r);
static enum MHD_Result friends_delete(mf_srv_req *r);
static enum MHD_Result audit_get(mf_srv_req *r);
static enum MHD_Result export_get(mf_srv_req *r);
static enum MHD_Result openapi_get(mf_srv_req *r);

/* Patterns: '#' is a decimal number (1..18 digits; photo ids start at 1, face indices at 0). Every state-changing route
 * of a session needs the CSRF header. */
static const struct {
    const char *method, *pattern;
    enum MHD_Result (*fn)(mf_srv_req *);
    int flags;
} routes[] = {
    {"GET", "/api/openapi.yaml", openapi_get, 0},
    {"GET", "/api/config", mf_srv_config, 0},
    {"POST", "/api/signup", mf_srv_signup, R_JSON},
    {"POST", "/api/login", mf_srv_login, R_JSON},
    {"POST", "/api/logout", mf_srv_logout, R_AUTH},
    {"GET", "/api/me", me_get, R_AUTH},
    {"DELETE", "/api/me", me_delete, R_AUTH},
    {"PUT", "/api/me/rule", rule_put, R_AUTH | R_JSON},
    {"GET", "/api/friends", friends_get, R_AUTH},
    {"POST", "/api/friends", friends_post, R_AUTH | R_JSON},
    {"DELETE", "/api/friends/#", friends_delete, R_AUTH},
    {"GET", "/api/me/faces", mf_srv_my_faces, R_AUTH},
    {"GET", "/api/enrol", mf_srv_enrol_get, R_AUTH},
    {"POST", "/api/enrol", mf_srv_enrol_add, R_AUTH | R_UPLOAD},
    {"DELETE", "/api/enrol", mf_srv_enrol_delete, R_AUTH},
    {"GET", "/api/photos", mf_srv_feed, R_AUTH},
    {"POST", "/api/photos", mf_srv_photo_upload, R_AUTH | R_UPLOAD},
    {"GET", "/api/photos/#", mf_srv_photo_meta, R_AUTH},
    {"GET", "/api/photos/#/image", mf_srv_photo_image, R_AUTH},
    {"GET", "/api/photos/#/faces", mf_srv_photo_faces, R_AUTH},
    {"POST", "/api/photos/#/faces/#/decision", mf_srv_decide, R_AUTH | R_JSON},
    {"GET", "/api/requests", mf_srv_requests, R_AUTH},
    {"GET", "/api/audit", audit_get, R_AUTH},
    {"GET", "/api/export", export_get, R_AUTH},
};
enum { N_ROUTES = sizeof routes / sizeof *routes };

size_t mf_srv_body_cap(const char *method, const char *url) {
    int64_t a[2];
    for (int i = 0; i < N_ROUTES; i++)
        if (!strcmp(method, routes[i].method) && mf_srv_path_match(routes[i].pattern, url, a))
            return routes[i].flags & R_UPLOAD ? SRV_UPLOAD_MAX : SRV_JSON_MAX;
    return 0; /* unknown route: no body */
}

enum MHD_Result mf_srv_route(mf_srv_req *r) {
    int path_known = 0;
    for (int i = 0; i < N_ROUTES; i++) {
        if (!mf_srv_path_match(routes[i].pattern, r->url, r->arg)) continue;
        path_known = 1;
        if (strcmp(r->method, routes[i].method)) continue;
        int fl = routes[i].flags;
        if (fl & R_AUTH) {
            mf_srv_auth_session(r);
            if (!r->user) return mf_srv_reply_error(r, 401, "not_signed_in");
            if (strcmp(r->method, "GET") && !mf_srv_auth_csrf_ok(r)) return mf_srv_reply_error(r, 403, "csrf");
        }
        if (fl & R_JSON) {
            r->json = cJSON_ParseWithLength((const char *)r->body, r->body_len);
            if (!cJSON_IsObject(r->json)) return mf_srv_reply_error(r, 400, "bad_json");
        }
        return routes[i].fn(r);
    }
    if (!path_known && !strcmp(r->method, "GET") && strncmp(r->url, "/api/", 5)) return mf_srv_web_file(r);
    return mf_srv_reply_error(r, path_known ? 405 : 404, path_known ? "method_not_allowed" : "not_found");
}

static const char *rule_name(int rule) {
    return rule == MF_RULE_FRIENDS ? "friends" : rule == MF_RULE_NEVER ? "never" : "ask";
}

static cJSON *user_json(const mf_store_user *u) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)u->id);
    cJSON_AddStringToObject(o, "name", u->name);
    return o;
}

static enum MHD_Result me_get(mf_srv_req *r) {
    mf_store_user u;
    int n = 0;
    if (mf_store_user_get(r->st, r->user, &u) || mf_store_embedding_count(r->st, r->user, &n))
        return mf_srv_reply_error(r, 500, "internal");
    cJSON *o = user_json(&u);
    cJSON_AddStringToObject(o, "rule", rule_name(u.rule));
    cJSON_AddNumberToObject(o, "enrolled", n);
    cJSON_AddStringToObject(o, "csrf", r->csrf);
    return mf_srv_reply_json(r, 200, o);
}

static enum MHD_Result me_delete(mf_srv_req *r) {
    if (mf_store_user_delete(r->st, r->user)) return mf_srv_reply_error(r, 500, "internal");
    return mf_srv_reply_session(r, 200, cJSON_CreateObject(), NULL, NULL);
}

static enum MHD_Result rule_put(mf_srv_req *r) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "rule");
    int rule = !cJSON_IsString(v)                   ? -1
               : !strcmp(v->valuestring, "ask")     ? MF_RULE_ASK
               : !strcmp(v->valuestring, "friends") ? MF_RULE_FRIENDS
               : !strcmp(v->valuestring, "never")   ? MF_RULE_NEVER
                                                    : -1;
    if (rule < 0) return mf_srv_reply_error(r, 400, "bad_rule");
    if (mf_store_user_set_rule(r->st, r->user, rule)) return mf_srv_reply_error(r, 500, "internal");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rule", rule_name(rule));
    return mf_srv_reply_json(r, 200, o);
}

static cJSON *friends_json(mf_srv_req *r) {
    int64_t ids[MF_STORE_LIST_MAX];
    int states[MF_STORE_LIST_MAX], n = 0;
    if (mf_store_friend_list(r->st, r->user, ids, states, MF_STORE_LIST_MAX, &n)) return NULL;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        mf_store_user u;
        if (mf_store_user_get(r->st, ids[i], &u)) continue;
        cJSON *o = user_json(&u);
        cJSON_AddStringToObject(o, "state", states[i] == 1 ? "friend" : states[i] == 2 ? "asks_you" : "asked");
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static enum MHD_Result friends_get(mf_srv_req *r) {
    cJSON *a = friends_json(r);
    return a ? mf_srv_reply_json(r, 200, a) : mf_srv_reply_error(r, 500, "internal");
}

static enum MHD_Result friends_post(mf_srv_req *r) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "name");
    if (!cJSON_IsString(v) || strlen(v->valuestring) > MF_STORE_NAME_MAX) return mf_srv_reply_error(r, 400, "bad_name");
    mf_store_user u;
    int s = mf_store_user_by_name(r->st, v->valuestring, &u, NULL);
    if (s == MF_ERR_NOTFOUND || (!s && u.id == r->user)) return mf_srv_reply_error(r, 404, "not_found");
    int now = 0;
    if (s || mf_store_friend_request(r->st, r->user, u.id, &now)) return mf_srv_reply_error(r, 500, "internal");
    cJSON *o = user_json(&u);
    cJSON_AddStringToObject(o, "state", now ? "friend" : "asked");
    return mf_srv_reply_json(r, 200, o);
}

static enum MHD_Result friends_delete(mf_srv_req *r) {
    if (mf_store_friend_remove(r->st, r->user, r->arg[0])) return mf_srv_reply_error(r, 500, "internal");
    return mf_srv_reply_json(r, 200, cJSON_CreateObject());
}

static cJSON *audit_json(mf_srv_req *r) {
    static __thread mf_store_audit rows[MF_STORE_LIST_MAX];
    int n = 0;
    if (mf_store_audit_list(r->st, r->user, rows, MF_STORE_LIST_MAX, &n)) return NULL;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "photo", (double)rows[i].photo_id);
        cJSON_AddNumberToObject(o, "face", rows[i].face_idx);
        cJSON_AddStringToObject(o, "action", rows[i].action);
        cJSON_AddStringToObject(o, "audience", rows[i].audience == MF_AUD_FRIENDS ? "friends" : "everyone");
        cJSON_AddNumberToObject(o, "at", (double)rows[i].at);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static enum MHD_Result audit_get(mf_srv_req *r) {
    cJSON *a = audit_json(r);
    return a ? mf_srv_reply_json(r, 200, a) : mf_srv_reply_error(r, 500, "internal");
}

/* Everything stored about the person, except the embeddings (never returned: only their count). */
static enum MHD_Result export_get(mf_srv_req *r) {
    mf_store_user u;
    int n = 0;
    if (mf_store_user_get(r->st, r->user, &u) || mf_store_embedding_count(r->st, r->user, &n))
        return mf_srv_reply_error(r, 500, "internal");
    cJSON *o = cJSON_CreateObject(), *me = user_json(&u);
    cJSON_AddStringToObject(me, "rule", rule_name(u.rule));
    cJSON_AddNumberToObject(me, "created", (double)u.created);
    cJSON_AddItemToObject(o, "user", me);
    cJSON_AddNumberToObject(o, "enrolment_embeddings", n);
    cJSON *fr = friends_json(r), *au = audit_json(r);
    static __thread int64_t ids[MF_STORE_LIST_MAX];
    int np = 0;
    if (!fr || !au || mf_store_photos_of(r->st, r->user, ids, MF_STORE_LIST_MAX, &np)) {
        cJSON_Delete(fr);
        cJSON_Delete(au);
        cJSON_Delete(o);
        return mf_srv_reply_error(r, 500, "internal");
    }
    cJSON_AddItemToObject(o, "friends", fr);
    cJSON_AddItemToObject(o, "audit", au);
    cJSON *ph = cJSON_AddArrayToObject(o, "photos");
    for (int i = 0; i < np; i++) {
        cJSON *p = cJSON_CreateObject();
        char url[64];
        cJSON_AddNumberToObject(p, "id", (double)ids[i]);
        snprintf(url, sizeof url, "/api/photos/%lld/image", (long long)ids[i]);
        cJSON_AddStringToObject(p, "image", url);
        cJSON_AddItemToArray(ph, p);
    }
    return mf_srv_reply_json(r, 200, o);
}

static enum MHD_Result openapi_get(mf_srv_req *r) {
    size_t n = strlen(mf_srv_openapi_yaml);
    uint8_t *b = malloc(n ? n : 1);
    if (!b) return MHD_NO;
    memcpy(b, mf_srv_openapi_yaml, n);
    return mf_srv_reply_bytes(r, 200, "application/yaml", b, n, NULL);
}
