/* mfmc serve: the consent-based photo network server (issue 12). Internal header shared by apps/server/ (C files).
 * Layout: main.c (options, start, stop), http.c (libmicrohttpd glue, request bodies, responses, cookies),
 * auth.c (accounts, sessions, CSRF, rate limiting), routes.c (people, friends, rules, audit, export),
 * photos.c (upload, feed, views, faces, decisions), web.c (the web app's files, /api/config), render.c (per-viewer rendering, the face-replacement seam),
 * seal.c (libsodium sealing of originals, patches and renders), jobs.c (worker threads over the job table). */
#ifndef MFMC_SRV_H
#define MFMC_SRV_H

#include "mfmc/analyze.h"
#include "mfmc/anon.h"
#include "mfmc/image.h"
#include "mfmc/store.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>

/* Limits of the server, named in one place. */
enum {
    SRV_JSON_MAX = 16 << 10,          /* bytes of a JSON request body */
    SRV_UPLOAD_MAX = 20 << 20,        /* bytes of an uploaded photo or selfie */
    SRV_UPLOAD_MAX_SIDE = 12000,      /* pixels of an upload's longest side */
    SRV_UPLOAD_MAX_PIXELS = 40000000, /* pixels of an upload */
    SRV_STORED_SIDE = 2048,           /* stored photos are scaled down to this longest side */
    SRV_THUMB_SIDE = 256,             /* thumbnails */
    SRV_PASSWORD_MIN = 8,             /* password bytes */
    SRV_PASSWORD_MAX = 256,
    SRV_SESSION_SECONDS = 14 * 24 * 3600,
    SRV_LOGIN_WINDOW = 300,      /* seconds of the login rate limit window */
    SRV_LOGIN_MAX_FAILS = 5,     /* failures per user name per window */
    SRV_LOGIN_MAX_FAILS_IP = 20, /* failures per client address per window */
    SRV_JOB_LEASE = 120,         /* seconds before a claimed job of a silent node is taken again */
    SRV_MAX_FACES = 256,         /* faces kept per photo (more: the photo is refused as failed) */
    SRV_FEED_MAX = 100,          /* photos per feed page */
    SRV_WORKERS_MAX = 16,
    SRV_HTTP_THREADS = 4, /* libmicrohttpd thread pool */
    SRV_CONN_LIMIT = 1000,
    SRV_CONN_TIMEOUT = 30, /* seconds of an idle connection */
    SRV_JPEG_QUALITY = 90,
    SRV_STATIC_MAX = 1 << 20, /* bytes of one file of the web app (web/) */
    SRV_MEDIUM_SIDE = 1024,   /* ?size=medium */
};

typedef enum {
    ACCESS_OPEN = MF_ACCESS_OPEN,
    ACCESS_SEALED = MF_ACCESS_SEALED,
    ACCESS_STRICT = MF_ACCESS_STRICT
} srv_access;

/* The legacy face-replacement seam: replaces the face in rectangle (x, y, w, h) of img (RGB), deterministic in
 * `seed`. Only photos analysed before schema 2 (layout 1) use it, at render time: the baseline (render.c) paints
 * a seeded block mosaic that carries no pixel of the face. Photos analysed now get mf_anon_face at analysis
 * (mf_srv_anonymize). */
typedef int (*mf_srv_replace_fn)(mf_img *img, int x, int y, int w, int h, uint64_t seed, void *ctx);

typedef struct mf_srv {
    const char *db_url;
    int access;         /* srv_access: the deployment setting, applied to photos at upload */
    int secure_cookies; /* Secure flag on cookies (off only for plain-http tests on loopback) */
    int workers;
    int job_lease; /* seconds (SRV_JOB_LEASE unless --job-lease) */
    const char *models;
    const char *identity; /* identity model file of the anonymizer */
    char node[64]; /* this process's name in the job table */
    uint8_t master[crypto_secretbox_KEYBYTES];
    mf_srv_replace_fn replace;
    void *replace_ctx;
    const char *recognizer; /* model of the stored embeddings */
    float match_threshold;
    int dim;
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown names: same cost as a wrong password */
    pthread_key_t store_key;                 /* one store connection per thread */
    volatile int stop;
    pthread_t worker[SRV_WORKERS_MAX];
    int n_workers;
    struct MHD_Daemon *mhd;
    char web_dir[4096]; /* the web app's folder (web/), "" = not served (web.c) */
} mf_srv;

/* A request being answered. */
typedef struct {
    mf_srv *srv;
    struct MHD_Connection *conn;
    const char *method, *url;
    const uint8_t *body;
    size_t body_len;
    mf_store_t *st;
    int64_t user; /* 0 = no session */
    char token_hash[65];
    char csrf[MF_STORE_TOKEN_MAX + 1];
    int64_t arg[2]; /* numbers of the path */
    cJSON *json;    /* parsed JSON body (route handlers that take one) */
} mf_srv_req;

/* ---------------------------------------------------------------- http.c */
/* The store connection of the calling thread (opened on first use); NULL with a logged error. */
mf_store_t *mf_srv_store(mf_srv *srv);
/* Destructor of the per-thread store key (closes the connection when its thread ends). */
void mf_srv_store_destroy(void *store);
int mf_srv_http_start(mf_srv *srv, const char *addr, int port);
void mf_srv_http_stop(mf_srv *srv);
/* Responses: each queues a response and returns the MHD result. */
enum MHD_Result mf_srv_reply_json(mf_srv_req *r, unsigned status, cJSON *body); /* takes body */
enum MHD_Result mf_srv_reply_error(mf_srv_req *r, unsigned status, const char *code);
enum MHD_Result mf_srv_reply_bytes(mf_srv_req *r, unsigned status, const char *type, uint8_t *data, size_t len,
                                   const char *disposition); /* takes data (malloc'd) */
/* A file of the web app: its own headers (CSP default-src 'self', revalidated caching with an ETag) instead of
 * the API's; 304 without a body when `etag` matches the request's If-None-Match. Takes data (malloc'd). */
enum MHD_Result mf_srv_reply_static(mf_srv_req *r, const char *type, uint8_t *data, size_t len, const char *etag);
/* Queues a JSON response with Set-Cookie headers for a new session (token NULL: expired cookies). */
enum MHD_Result mf_srv_reply_session(mf_srv_req *r, unsigned status, cJSON *body, const char *token, const char *csrf);
const char *mf_srv_query(mf_srv_req *r, const char *name);
void mf_srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- auth.c */
/* Finds the session of the request's cookie (r->user, r->csrf, r->token_hash). */
void mf_srv_auth_session(mf_srv_req *r);
/* 1 when the X-CSRF-Token header matches the session's token. */
int mf_srv_auth_csrf_ok(mf_srv_req *r);
enum MHD_Result mf_srv_signup(mf_srv_req *r);
enum MHD_Result mf_srv_login(mf_srv_req *r);
enum MHD_Result mf_srv_logout(mf_srv_req *r);
/* Hex of a keyed hash of a session token (what the store keeps). */
void mf_srv_token_hash(const char *token, char out[65]);

/* ---------------------------------------------------------------- routes.c */
enum MHD_Result mf_srv_route(mf_srv_req *r);
/* Body size cap of a request line (uploads vs JSON). */
size_t mf_srv_body_cap(const char *method, const char *url);

/* ---------------------------------------------------------------- photos.c */
enum MHD_Result mf_srv_photo_upload(mf_srv_req *r);
enum MHD_Result mf_srv_feed(mf_srv_req *r);
enum MHD_Result mf_srv_photo_meta(mf_srv_req *r);
enum MHD_Result mf_srv_photo_image(mf_srv_req *r);
enum MHD_Result mf_srv_photo_faces(mf_srv_req *r);
enum MHD_Result mf_srv_decide(mf_srv_req *r);
enum MHD_Result mf_srv_requests(mf_srv_req *r);
/* GET /api/me/faces: every face of the viewer in any photo with its decision (the "photos of me" page). */
enum MHD_Result mf_srv_my_faces(mf_srv_req *r);
enum MHD_Result mf_srv_enrol_add(mf_srv_req *r);
enum MHD_Result mf_srv_enrol_get(mf_srv_req *r);
enum MHD_Result mf_srv_enrol_delete(mf_srv_req *r);

/* ---------------------------------------------------------------- web.c */
/* Finds the web app's folder: --web DIR, else $MFMC_WEB, else web/ next to the binary's source tree
 * (<bin>/../../web) or installed (<bin>/../share/mfmc/web). Leaves srv->web_dir empty when none holds an
 * index.html; returns MF_ERR_ARG when an explicitly named folder has none. */
int mf_srv_web_find(mf_srv *srv, const char *explicit_dir);
/* GET of a path outside /api/: a file of the web app (mf_srv_static_path), or 404. */
enum MHD_Result mf_srv_web_file(mf_srv_req *r);
/* GET /api/config: the deployment's settings that pages explain (access model, limits). */
enum MHD_Result mf_srv_config(mf_srv_req *r);

/* ---------------------------------------------------------------- render.c */
/* 1 when `viewer` sees face f of photo p real (their own face, or approved for an audience they belong to). */
int mf_srv_face_real(mf_store_t *st, int64_t viewer, const mf_store_face *f, int *real);
/* The JPEG `viewer` receives of photo p (ready) at longest side `side` (0 = stored size). */
int mf_srv_render(mf_srv *srv, mf_store_t *st, int64_t viewer, const mf_store_photo *p, int side, uint8_t **jpeg,
                  size_t *len);
/* The rectangle a face's replacement (and sealed patch) covers: its box grown by a margin, inside w x h. */
void mf_srv_face_rect(const mf_store_face *f, int w, int h, int *x, int *y, int *rw, int *rh);
/* Seed of the replacement of face idx: a keyed hash of the photo key, stable per photo and face, unlinkable
 * across photos. */
uint64_t mf_srv_face_seed(const uint8_t key[crypto_secretbox_KEYBYTES], int idx);
int mf_srv_replace_baseline(mf_img *img, int x, int y, int w, int h, uint64_t seed, void *ctx);
/* The anonymized image of a photo: every face of `faces` (analysis records of img, n of them, rec[i] their
 * stored rows) replaced by mf_anon_face with the seed mf_srv_face_seed(key, i) and `galleries` (the enrolled
 * members, one gallery per anonymizer recognizer; NULL: none), each replacement confined to the
 * face's rectangle (mf_srv_face_rect) with a soft edge inside it, so outside every rectangle *base equals img.
 * repl[i] receives the mf_store_replacement of face i. A face whose box the anonymizer left unchanged is painted
 * with the baseline mosaic (fail closed). results[i] (results may be NULL) receives face i's mf_anon_result.
 * *base is the caller's to free. progress(ctx) (may be NULL) is called
 * before each face (the worker renews its job's lease there). */
int mf_srv_anonymize(mf_srv *srv, mf_anon_t *anon, const mf_img *img, const mf_face *faces, const mf_store_face *rec,
                     int n, const uint8_t key[crypto_secretbox_KEYBYTES], const mf_anon_galleries *galleries,
                     mf_img *base, int *repl, mf_anon_result *results, void (*progress)(void *ctx), void *ctx);

/* ---------------------------------------------------------------- seal.c */
/* secretbox of data under key: *out = nonce | ciphertext (malloc'd). */
int mf_srv_seal(const uint8_t *key, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len);
/* Opens a mf_srv_seal output; MF_ERR_FORMAT when forged or damaged. */
int mf_srv_unseal(const uint8_t *key, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len);
/* The photo key of a photo (unwrapped with the master key). */
int mf_srv_photo_key(mf_srv *srv, mf_store_t *st, int64_t photo, uint8_t key[crypto_secretbox_KEYBYTES]);

/* ---------------------------------------------------------------- jobs.c */
int mf_srv_jobs_start(mf_srv *srv);
void mf_srv_jobs_stop(mf_srv *srv);

#endif
