/* mfmc store: the consent network's persistent state (users, sessions, friends, enrolment embeddings, photos,
 * faces, decisions, audit trail, job table, render cache) behind one interface with two backends:
 *   - SQLite (a path, e.g. "./mfmc.db"): one file in WAL mode, the embedded default;
 *   - PostgreSQL (a "postgres://" or "postgresql://" URL, libpq): the deployment store shared by several nodes.
 * Every operation is written once in SQL (src/store/store.c) over a small driver seam (src/store/driver.h), so a
 * backend only supplies connect / execute / transaction.
 *
 * Threads: one mf_store_t is one database connection, used by one thread at a time (the server opens one per
 * thread). Schema migrations are versioned and applied by mf_store_open inside one transaction that holds a
 * lock (SQLite BEGIN IMMEDIATE, PostgreSQL pg_advisory_xact_lock), so two nodes starting at once are safe.
 *
 * Errors follow core.h: a negative mf_status and mf_error_get(); MF_ERR_NOTFOUND for a missing row,
 * MF_ERR_ARG for a conflict with a uniqueness rule (name taken), MF_ERR_IO for a database failure.
 * Blobs and strings returned to the caller are malloc'd and released with free() or the matching *_free. */
#ifndef MFMC_STORE_H
#define MFMC_STORE_H

#include "mfmc/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of stored values, named in one place (the server applies the same ones to requests). */
enum {
    MF_STORE_NAME_MAX = 64,      /* user name bytes */
    MF_STORE_TOKEN_MAX = 128,    /* session token / CSRF token / render key bytes */
    MF_STORE_ENROL_MAX = 5,      /* embeddings per user and model */
    MF_STORE_LIST_MAX = 1000,    /* rows returned by one list call */
    MF_STORE_SCHEMA_VERSION = 3, /* version mf_store_open migrates to */
    MF_STORE_DIM_MAX = 4096,     /* floats of one embedding */
    MF_STORE_ENROL_MODELS = 8,   /* embeddings (one per recognizer) of one selfie */
    MF_STORE_CHECK_MAX = 1024,   /* bytes of a face's anon_check */
};

/* Standing rule of a person for photos they appear in. */
typedef enum { MF_RULE_ASK = 0, MF_RULE_FRIENDS = 1, MF_RULE_NEVER = 2 } mf_store_rule;
/* Decision on one face. */
typedef enum { MF_DEC_PENDING = 0, MF_DEC_APPROVED = 1, MF_DEC_DECLINED = 2 } mf_store_decision;
/* Audience of an approval. */
typedef enum { MF_AUD_EVERYONE = 0, MF_AUD_FRIENDS = 1 } mf_store_audience;
/* Photo state. */
typedef enum { MF_PHOTO_PENDING = 0, MF_PHOTO_READY = 1, MF_PHOTO_FAILED = 2 } mf_store_photo_state;
/* Access model of a photo (the deployment setting at upload time). */
typedef enum { MF_ACCESS_OPEN = 0, MF_ACCESS_SEALED = 1, MF_ACCESS_STRICT = 2 } mf_store_access;
/* How a face was replaced in the anonymized image made at analysis (layout 2 photos). */
typedef enum {
    MF_REPL_NONE = 0,        /* not recorded (layout 1 photos: the mosaic baseline painted at render time) */
    MF_REPL_SYNTHETIC = 1,   /* a synthetic face of nobody that passed the anonymizer's guarantee */
    MF_REPL_FALLBACK = 2,    /* the anonymizer could not render or verify a face: identity-removing filter */
    MF_REPL_UNCONFIRMED = 3, /* a candidate the mesh did not confirm as a face: the filter, never a painted face */
} mf_store_replacement;
/* Job kinds. */
typedef enum { MF_JOB_ANALYZE = 1, MF_JOB_ENROL = 2 } mf_store_job_kind;

typedef struct mf_store mf_store_t;

typedef struct {
    int64_t id;
    char name[MF_STORE_NAME_MAX + 1];
    int rule;        /* mf_store_rule */
    int64_t created; /* unix seconds */
} mf_store_user;

typedef struct {
    int64_t id, owner;
    int state;  /* mf_store_photo_state */
    int access; /* mf_store_access */
    int w, h;   /* 0 until analysed */
    int n_faces;
    int64_t created;
    int64_t version; /* bumped by every decision change on the photo (part of render cache keys) */
    int layout;      /* 1: analysed before schema 2 (replacement painted at render); 2: anonymized base stored */
} mf_store_photo;

typedef struct {
    int64_t id, photo_id;
    int idx;          /* 0.. within the photo */
    float x, y, w, h; /* box in the stored image's pixels */
    int64_t user_id;  /* matched person, 0 = unknown (never approvable) */
    int decision;     /* mf_store_decision */
    int audience;     /* mf_store_audience */
    int discarded;    /* strict model: original pixels were discarded at upload (for everyone but the person) */
    int replacement;  /* mf_store_replacement */
    const char *anon_check; /* written by mf_store_photo_finish (may be NULL; at most MF_STORE_CHECK_MAX bytes):
                               what the anonymizer's checks measured (JSON, docs/server.md); never read back (NULL) */
} mf_store_face;

typedef struct {
    int64_t id, user_id, photo_id;
    int face_idx;
    char action[16]; /* "approve", "decline", "withdraw", "rule", "unknown" */
    int audience;
    int64_t at;
} mf_store_audit;

typedef struct {
    int64_t id;
    int kind;         /* mf_store_job_kind */
    int64_t photo_id; /* MF_JOB_ANALYZE */
    int64_t user_id;  /* MF_JOB_ENROL */
    int attempts;
} mf_store_job;

/* Opens (creating if needed) the store named by `url`: a postgres:// or postgresql:// URL, or a SQLite file path.
 * Applies pending migrations. *out is freed with mf_store_close. */
int mf_store_open(const char *url, mf_store_t **out);
void mf_store_close(mf_store_t *s);
/* "sqlite" or "postgres". */
const char *mf_store_backend(const mf_store_t *s);
/* Schema version in the database (MF_STORE_SCHEMA_VERSION after a successful open). */
int mf_store_schema_version(mf_store_t *s, int *version);

/* Transactions around several calls (not nested). mf_store_rollback is safe after a failed call. */
int mf_store_begin(mf_store_t *s);
int mf_store_commit(mf_store_t *s);
void mf_store_rollback(mf_store_t *s);

/* ---------------------------------------------------------------- server secrets */
/* The value stored under `name` if present, else `len` bytes of `fresh` stored under it (first node wins when
 * several start at once). *out receives the value (malloc'd) and *out_len its size. */
int mf_store_secret_get_or_put(mf_store_t *s, const char *name, const uint8_t *fresh, size_t len, uint8_t **out,
                               size_t *out_len);

/* ---------------------------------------------------------------- users and sessions */
/* Creates a user; MF_ERR_ARG when the name is taken. `pwhash` is the libsodium crypto_pwhash_str string. */
int mf_store_user_create(mf_store_t *s, const char *name, const char *pwhash, int64_t *id);
/* User by name with its password hash (*pwhash malloc'd; pwhash may be NULL). MF_ERR_NOTFOUND if absent. */
int mf_store_user_by_name(mf_store_t *s, const char *name, mf_store_user *u, char **pwhash);
int mf_store_user_get(mf_store_t *s, int64_t id, mf_store_user *u);
int mf_store_user_set_rule(mf_store_t *s, int64_t id, int rule);
/* Deletes the user and everything that is theirs: sessions, friendships, embeddings, their photos (with faces,
 * renders, jobs), their decisions; faces of them in others' photos become unknown (pending, no user). The
 * audit rows of the user go too. Runs in one transaction. */
int mf_store_user_delete(mf_store_t *s, int64_t id);

/* Stores a session: `token_hash` (hex of a hash of the cookie value, never the value), its CSRF token and
 * expiry (unix seconds). */
int mf_store_session_create(mf_store_t *s, const char *token_hash, int64_t user_id, const char *csrf, int64_t expires);
/* The session's user and CSRF token (csrf: MF_STORE_TOKEN_MAX + 1 bytes) if not expired at `now`. */
int mf_store_session_get(mf_store_t *s, const char *token_hash, int64_t now, int64_t *user_id, char *csrf);
int mf_store_session_delete(mf_store_t *s, const char *token_hash);

/* Login failures of `key` (user name) since `since`; mf_store_login_fail records one at `now`. */
int mf_store_login_failures(mf_store_t *s, const char *key, int64_t since, int *count);
int mf_store_login_fail(mf_store_t *s, const char *key, int64_t now);

/* ---------------------------------------------------------------- friends */
/* `from` asks `to`; when `to` had already asked `from`, both become friends (*now_friends = 1). */
int mf_store_friend_request(mf_store_t *s, int64_t from, int64_t to, int *now_friends);
/* Removes a friendship or a pending request in either direction. */
int mf_store_friend_remove(mf_store_t *s, int64_t a, int64_t b);
int mf_store_are_friends(mf_store_t *s, int64_t a, int64_t b, int *yes);
/* Friends (state 1), requests to `user` (state 2) and from `user` (state 3): ids[] and states[] of up to max. */
int mf_store_friend_list(mf_store_t *s, int64_t user, int64_t *ids, int *states, int max, int *n);

/* ---------------------------------------------------------------- enrolment */
/* Adds one embedding of `dim` floats for `model`, as a selfie of its own; MF_ERR_LIMIT beyond MF_STORE_ENROL_MAX per
 * user and model. */
int mf_store_embedding_add(mf_store_t *s, int64_t user, const char *model, const float *vec, int dim);
/* Adds the embeddings of one selfie (number `selfie` > 0, e.g. its job id), one per recognizer: models[i], vecs[i]
 * of dims[i] floats, n <= MF_STORE_ENROL_MODELS; in one transaction (all or none), replacing those already stored
 * under that number (a retried job). MF_ERR_LIMIT when the user has MF_STORE_ENROL_MAX selfies already. */
int mf_store_enrol_add(mf_store_t *s, int64_t user, int64_t selfie, int n, const char *const *models,
                       const float *const *vecs, const int *dims);
/* Selfies enrolled by the user (each holds one embedding per recognizer it was embedded with). */
int mf_store_embedding_count(mf_store_t *s, int64_t user, int *n);
/* Of them, the selfies that have an embedding of `model` (schema 2 enrolments hold the primary model's only). */
int mf_store_embedding_count_model(mf_store_t *s, int64_t user, const char *model, int *n);
/* A number that changes with every change of the enrolled embeddings (add, delete, account deletion), for caches
 * of galleries: equal numbers mean equal embeddings. */
int mf_store_enrol_version(mf_store_t *s, int64_t *version);
/* Enrolment selfies of the user not yet analysed (queued or running jobs). */
int mf_store_enrol_pending(mf_store_t *s, int64_t user, int *n);
/* Deletes every embedding of the user and their enrolment jobs not yet run (with their selfies). */
int mf_store_embedding_delete_all(mf_store_t *s, int64_t user);
/* Outcome of the user's last enrolment selfie ("ok", "no_face", "several_faces", "not_an_image"; NULL clears
 * it), at most MF_STORE_NAME_MAX bytes; get writes "" when none. */
int mf_store_enrol_note_set(mf_store_t *s, int64_t user, const char *note);
int mf_store_enrol_note_get(mf_store_t *s, int64_t user, char note[MF_STORE_NAME_MAX + 1]);
/* Every embedding of `model` (of every user): *users and *vecs (n * dim floats) malloc'd. */
int mf_store_embedding_all(mf_store_t *s, const char *model, int dim, int64_t **users, float **vecs, int *n);

/* ---------------------------------------------------------------- photos and faces */
/* A new photo (state pending) holding `blob` (the upload, sealed by the caller) and `key` (the photo key,
 * wrapped by the caller), plus its analysis job, in one transaction. */
int mf_store_photo_create(mf_store_t *s, int64_t owner, int access, const uint8_t *blob, size_t blob_len,
                          const uint8_t *key, size_t key_len, int64_t *id);
int mf_store_photo_get(mf_store_t *s, int64_t id, mf_store_photo *p);
/* Blob `which` of a photo: "original" (sealed), "base" (layout 2: the image with every face replaced, made at
 * analysis; layout 1: sealed/strict only) or "key".
 * MF_ERR_NOTFOUND when absent (e.g. discarded). */
int mf_store_photo_blob(mf_store_t *s, int64_t id, const char *which, uint8_t **data, size_t *len);
/* Finishes analysis: sets size, state ready, layout 2, the faces (faces[i].idx = i), replaces the original blob by
 * `original` (NULL: discarded) and sets `base` (may be NULL); face patches (sealed) in patches[i]/patch_len[i]
 * (NULL arrays when none, NULL entries for faces without one). One transaction with the decisions and audit rows of faces[i].decision != pending. */
int mf_store_photo_finish(mf_store_t *s, int64_t id, int w, int h, const mf_store_face *faces, int n,
                          const uint8_t *original, size_t original_len, const uint8_t *base, size_t base_len,
                          uint8_t *const *patches, const size_t *patch_len);
int mf_store_photo_fail(mf_store_t *s, int64_t id);
/* Photos `viewer` may see (their own, their friends', those with a face of theirs), newest first, ids < before
 * (0: no bound). */
int mf_store_feed(mf_store_t *s, int64_t viewer, int64_t before, mf_store_photo *out, int max, int *n);
int mf_store_photo_visible(mf_store_t *s, int64_t viewer, int64_t photo, int *yes);
/* Faces of a photo by idx; *faces malloc'd. */
int mf_store_faces(mf_store_t *s, int64_t photo, mf_store_face **faces, int *n);
/* The sealed patch of face idx (sealed model; strict: faces approved at upload, and the person's own face).
 * MF_ERR_NOTFOUND when the face has none. */
int mf_store_face_patch(mf_store_t *s, int64_t photo, int idx, uint8_t **data, size_t *len);
/* Faces of `user` still waiting for a decision (up to max). */
int mf_store_pending(mf_store_t *s, int64_t user, mf_store_face *out, int max, int *n);
/* Every face of `user` in any photo, decided or not, newest photo first (up to max). */
int mf_store_faces_of(mf_store_t *s, int64_t user, mf_store_face *out, int max, int *n);
/* Records `user`'s decision on face idx of photo (action "approve", "decline" or "withdraw"): MF_ERR_NOTFOUND
 * unless that face is theirs. Bumps the photo version, drops its cached renders, appends to the audit trail. */
int mf_store_decide(mf_store_t *s, int64_t user, int64_t photo, int idx, const char *action, int audience, int64_t now);
int mf_store_audit_list(mf_store_t *s, int64_t user, mf_store_audit *out, int max, int *n);
/* Photos owned by a user (ids, newest first). */
int mf_store_photos_of(mf_store_t *s, int64_t user, int64_t *ids, int max, int *n);

/* ---------------------------------------------------------------- render cache */
/* Cached render under `key` (which encodes photo, version, size and the real/replaced state of every face). */
int mf_store_render_get(mf_store_t *s, const char *key, uint8_t **data, size_t *len);
int mf_store_render_put(mf_store_t *s, int64_t photo, const char *key, const uint8_t *data, size_t len);

/* ---------------------------------------------------------------- jobs */
/* An enrolment job carrying a sealed selfie. */
int mf_store_job_enrol(mf_store_t *s, int64_t user, const uint8_t *blob, size_t len);
/* Claims the oldest queued job, or a running one whose claim is older than `lease` seconds (its node died):
 * SQLite under BEGIN IMMEDIATE, PostgreSQL with FOR UPDATE SKIP LOCKED. MF_ERR_NOTFOUND when none. */
int mf_store_job_claim(mf_store_t *s, const char *node, int64_t now, int lease, mf_store_job *job);
/* The payload of an enrolment job. */
int mf_store_job_blob(mf_store_t *s, int64_t job, uint8_t **data, size_t *len);
/* Renews the claim of a running job held by `node` (a long analysis), so its lease does not expire while it works. */
int mf_store_job_touch(mf_store_t *s, int64_t job, const char *node, int64_t now);
/* Marks a job done (its payload dropped). */
int mf_store_job_done(mf_store_t *s, int64_t job);

#ifdef __cplusplus
}
#endif
#endif
