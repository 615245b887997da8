/* Accounts and sessions: sign-up, login (argon2id via crypto_pwhash_str), logout, session cookies, CSRF tokens,
 * login rate limiting per user name and per client address (in the database: shared by every node). */
#include "srv.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mf_srv_token_hash(const char *token, char out[65]) {
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const uint8_t *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

static void random_hex(char *out, size_t bytes) { /* out holds 2 * bytes + 1 */
    uint8_t b[32];
    MF_ASSERT(bytes <= sizeof b);
    randombytes_buf(b, bytes);
    sodium_bin2hex(out, 2 * bytes + 1, b, bytes);
}

/* The value of cookie `name` in the Cookie header (MHD parses it). */
static const char *cookie(mf_srv_req *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

void mf_srv_auth_session(mf_srv_req *r) {
    const char *tok = cookie(r, "mfmc_session");
    r->user = 0;
    if (!tok || strlen(tok) != 64) return;
    mf_srv_token_hash(tok, r->token_hash);
    int64_t uid;
    if (!mf_store_session_get(r->st, r->token_hash, (int64_t)time(NULL), &uid, r->csrf)) r->user = uid;
}

int mf_srv_auth_csrf_ok(mf_srv_req *r) {
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    size_t n = strlen(r->csrf);
    return h && n && strlen(h) == n && sodium_memcmp(h, r->csrf, n) == 0;
}

/* name and password of a JSON body, checked; NULL after queuing the error. */
static int credentials(mf_srv_req *r, const char **name, const char **pw) {
    cJSON *n = cJSON_GetObjectItemCaseSensitive(r->json, "name"),
          *p = cJSON_GetObjectItemCaseSensitive(r->json, "password");
    if (!cJSON_IsString(n) || !cJSON_IsString(p)) return -1;
    *name = n->valuestring;
    *pw = p->valuestring;
    size_t nl = strlen(*name), pl = strlen(*pw);
    if (nl < 1 || nl > MF_STORE_NAME_MAX || pl > SRV_PASSWORD_MAX) return -1;
    for (const char *c = *name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '-' || *c == '.'))
            return -1;
    return 0;
}

static enum MHD_Result start_session(mf_srv_req *r, unsigned status, const mf_store_user *u) {
    char token[65], csrf[65], th[65];
    random_hex(token, 32);
    random_hex(csrf, 32);
    mf_srv_token_hash(token, th);
    if (mf_store_session_create(r->st, th, u->id, csrf, (int64_t)time(NULL) + SRV_SESSION_SECONDS))
        return mf_srv_reply_error(r, 500, "internal");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)u->id);
    cJSON_AddStringToObject(o, "name", u->name);
    cJSON_AddStringToObject(o, "csrf", csrf);
    enum MHD_Result ret = mf_srv_reply_session(r, status, o, token, csrf);
    sodium_memzero(token, sizeof token);
    return ret;
}

enum MHD_Result mf_srv_signup(mf_srv_req *r) {
    const char *name, *pw;
    if (credentials(r, &name, &pw)) return mf_srv_reply_error(r, 400, "bad_request");
    if (strlen(pw) < SRV_PASSWORD_MIN) return mf_srv_reply_error(r, 400, "password_too_short");
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE))
        return mf_srv_reply_error(r, 503, "unavailable");
    mf_store_user u = {0};
    int s = mf_store_user_create(r->st, name, hash, &u.id);
    if (s == MF_ERR_ARG) return mf_srv_reply_error(r, 409, "name_taken");
    if (s) return mf_srv_reply_error(r, 500, "internal");
    snprintf(u.name, sizeof u.name, "%s", name);
    return start_session(r, 201, &u);
}

enum MHD_Result mf_srv_login(mf_srv_req *r) {
    const char *name, *pw;
    if (credentials(r, &name, &pw)) return mf_srv_reply_error(r, 400, "bad_request");
    int64_t now = (int64_t)time(NULL);
    char ipkey[80] = "ip:";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ipkey + 3, sizeof ipkey - 3);
    char namekey[MF_STORE_NAME_MAX + 8];
    snprintf(namekey, sizeof namekey, "name:%s", name);
    int fn = 0, fi = 0;
    if (mf_store_login_failures(r->st, namekey, now - SRV_LOGIN_WINDOW, &fn) ||
        mf_store_login_failures(r->st, ipkey, now - SRV_LOGIN_WINDOW, &fi))
        return mf_srv_reply_error(r, 500, "internal");
    if (fn >= SRV_LOGIN_MAX_FAILS || fi >= SRV_LOGIN_MAX_FAILS_IP)
        return mf_srv_reply_error(r, 429, "too_many_attempts");
    mf_store_user u;
    char *hash = NULL;
    int s = mf_store_user_by_name(r->st, name, &u, &hash);
    if (s && s != MF_ERR_NOTFOUND) return mf_srv_reply_error(r, 500, "internal");
    /* an unknown name costs the same argon2id verification as a wrong password */
    int ok = crypto_pwhash_str_verify(hash ? hash : r->srv->dummy_hash, pw, strlen(pw)) == 0 && hash;
    free(hash);
    if (!ok) {
        mf_store_login_fail(r->st, namekey, now);
        mf_store_login_fail(r->st, ipkey, now);
        return mf_srv_reply_error(r, 401, "bad_credentials");
    }
    return start_session(r, 200, &u);
}

enum MHD_Result mf_srv_logout(mf_srv_req *r) {
    if (r->user && mf_store_session_delete(r->st, r->token_hash)) return mf_srv_reply_error(r, 500, "internal");
    return mf_srv_reply_session(r, 200, cJSON_CreateObject(), NULL, NULL);
}
