/* libmicrohttpd glue: thread-pool daemon, request bodies read under a cap, per-thread store connections,
 * responses with the headers every answer carries (no caching by shared caches, no sniffing). */
#include "srv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint8_t *buf;
    size_t len, cap, limit;
    int too_big;
    int answered; /* the 413 is queued: nothing more is read, and nothing else is answered */
} body_t;

void mf_srv_log(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02dZ mfmc serve: %s\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
            tm.tm_hour, tm.tm_min, tm.tm_sec, line);
}

void mf_srv_store_destroy(void *p) { mf_store_close(p); }

mf_store_t *mf_srv_store(mf_srv *srv) {
    mf_store_t *st = pthread_getspecific(srv->store_key);
    if (st) return st;
    if (mf_store_open(srv->db_url, &st)) {
        mf_srv_log("database: %s", mf_error_get());
        return NULL;
    }
    pthread_setspecific(srv->store_key, st);
    return st;
}

static void common_headers(struct MHD_Response *resp) {
    MHD_add_response_header(resp, "Cache-Control", "private, no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "Vary", "Cookie");
}

static enum MHD_Result queue(mf_srv_req *r, unsigned status, struct MHD_Response *resp) {
    if (!resp) return MHD_NO;
    common_headers(resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static struct MHD_Response *json_response(cJSON *body) {
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text) return NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return resp;
}

enum MHD_Result mf_srv_reply_json(mf_srv_req *r, unsigned status, cJSON *body) {
    return queue(r, status, json_response(body));
}

enum MHD_Result mf_srv_reply_error(mf_srv_req *r, unsigned status, const char *code) {
    /* fixed codes only: no database or library message reaches a client */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", code);
    return mf_srv_reply_json(r, status, o);
}

enum MHD_Result mf_srv_reply_bytes(mf_srv_req *r, unsigned status, const char *type, uint8_t *data, size_t len,
                                   const char *disposition) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    if (disposition) MHD_add_response_header(resp, "Content-Disposition", disposition);
    return queue(r, status, resp);
}

enum MHD_Result mf_srv_reply_static(mf_srv_req *r, const char *type, uint8_t *data, size_t len, const char *etag) {
    const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-None-Match");
    unsigned status = 200;
    struct MHD_Response *resp;
    if (inm && !strcmp(inm, etag)) {
        free(data);
        status = 304;
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!resp) free(data);
    }
    if (!resp) return MHD_NO;
    if (status == 200) MHD_add_response_header(resp, "Content-Type", type);
    /* the app's files hold nothing personal: any cache may keep them but must ask again (ETag) before use */
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                            "frame-ancestors 'none'");
    MHD_add_response_header(resp, "Permissions-Policy", "camera=(self), microphone=(), geolocation=()");
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result mf_srv_reply_session(mf_srv_req *r, unsigned status, cJSON *body, const char *token, const char *csrf) {
    struct MHD_Response *resp = json_response(body);
    if (!resp) return MHD_NO;
    char c1[256], c2[256];
    const char *sec = r->srv->secure_cookies ? "; Secure" : "";
    if (token) {
        snprintf(c1, sizeof c1, "mfmc_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", token,
                 SRV_SESSION_SECONDS, sec);
        snprintf(c2, sizeof c2, "mfmc_csrf=%s; Path=/; SameSite=Strict; Max-Age=%d%s", csrf, SRV_SESSION_SECONDS, sec);
    } else {
        snprintf(c1, sizeof c1, "mfmc_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", sec);
        snprintf(c2, sizeof c2, "mfmc_csrf=; Path=/; SameSite=Strict; Max-Age=0%s", sec);
    }
    MHD_add_response_header(resp, "Set-Cookie", c1);
    MHD_add_response_header(resp, "Set-Cookie", c2);
    return queue(r, status, resp);
}

const char *mf_srv_query(mf_srv_req *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls) {
    (void)version;
    mf_srv *srv = cls;
    body_t *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return MHD_NO;
        b->limit = mf_srv_body_cap(method, url);
        *con_cls = b;
        /* a declared body over the cap is refused before any of it is read (the connection then closes) */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno == ERANGE || (end != cl && !*end && v > b->limit)) {
                mf_srv_req r = {.srv = srv, .conn = conn, .method = method, .url = url};
                b->too_big = b->answered = 1;
                return mf_srv_reply_error(&r, 413, "too_large");
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size, need;
        *upload_data_size = 0;
        if (b->answered) return MHD_YES; /* the 413 is on its way: what still arrives is dropped */
        if (b->too_big || mf_size_add(b->len, n, &need) || need > b->limit) {
            /* a body without a declared length (chunked) passed the cap: nothing more is read. The 413 is
             * queued now; libmicrohttpd 0.9.75 (Debian 12) refuses a response while the body is being received,
             * and then the MHD_NO returned closes the connection without an answer (docs/server.md) */
            b->too_big = b->answered = 1;
            free(b->buf);
            b->buf = NULL;
            b->len = b->cap = 0;
            mf_srv_req r = {.srv = srv, .conn = conn, .method = method, .url = url};
            return mf_srv_reply_error(&r, 413, "too_large");
        }
        if (need > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < need)
                cap = cap > b->limit / 2 ? b->limit : cap * 2;
            uint8_t *g = realloc(b->buf, cap);
            if (!g) return MHD_NO;
            b->buf = g;
            b->cap = cap;
        }
        memcpy(b->buf + b->len, upload_data, n);
        b->len = need;
        return MHD_YES;
    }
    mf_srv_req r = {.srv = srv, .conn = conn, .method = method, .url = url, .body = b->buf, .body_len = b->len};
    if (b->answered) return MHD_YES;
    if (b->too_big) return mf_srv_reply_error(&r, 413, "too_large");
    r.st = mf_srv_store(srv);
    if (!r.st) return mf_srv_reply_error(&r, 503, "unavailable");
    enum MHD_Result ret = mf_srv_route(&r);
    cJSON_Delete(r.json);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe; /* a client that went away mid-upload lands here too: its partial body is dropped */
    body_t *b = *con_cls;
    if (b) {
        free(b->buf);
        free(b);
    }
    *con_cls = NULL;
}

int mf_srv_http_start(mf_srv *srv, const char *addr, int port) {
    struct sockaddr_in sa;
    struct sockaddr_in6 sa6;
    memset(&sa, 0, sizeof sa);
    memset(&sa6, 0, sizeof sa6);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa6.sin6_family = AF_INET6;
    sa6.sin6_port = htons((uint16_t)port);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    struct sockaddr *bind_to = (struct sockaddr *)&sa;
    if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) { /* "::" listens on IPv6 only (IPV6_V6ONLY) */
        flags |= MHD_USE_IPv6;
        bind_to = (struct sockaddr *)&sa6;
    } else if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        return mf_error_set(MF_ERR_ARG, "listen address %s is neither an IPv4 nor an IPv6 address", addr);
    }
    srv->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, srv, MHD_OPTION_SOCK_ADDR, bind_to,
                                MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SRV_HTTP_THREADS, MHD_OPTION_CONNECTION_LIMIT,
                                (unsigned)SRV_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SRV_CONN_TIMEOUT,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_END);
    if (!srv->mhd) return mf_error_set(MF_ERR_IO, "cannot listen on %s:%d", addr, port);
    return MF_OK;
}

void mf_srv_http_stop(mf_srv *srv) {
    if (srv->mhd) MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
}
