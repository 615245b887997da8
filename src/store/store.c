/* The store's operations, written once in SQL over the driver seam (driver.h); see include/mfmc/store.h. */
#include "mfmc/store.h"

#include "store/driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mf_store {
    const mf_db_driver *drv;
    void *conn;
    int pg;    /* PostgreSQL dialect */
    int in_tx; /* inside mf_store_begin: inner helpers do not open their own transaction */
};

#define NARGS(a) ((int)(sizeof(a) / sizeof *(a)))

static int Q(mf_store_t *s, const char *sql, const mf_db_arg *a, int n, mf_db_res **r) {
    return s->drv->query(s->conn, sql, a, n, r);
}
/* Statement without rows wanted. */
#define EXEC(s, sql, ...)                                                                                              \
    __extension__({                                                                                                    \
        mf_db_arg a_[] = {__VA_ARGS__};                                                                                \
        Q((s), (sql), a_, NARGS(a_), NULL);                                                                            \
    })
#define QUERY(s, r, sql, ...)                                                                                          \
    __extension__({                                                                                                    \
        mf_db_arg a_[] = {__VA_ARGS__};                                                                                \
        Q((s), (sql), a_, NARGS(a_), (r));                                                                             \
    })

/* ---------------------------------------------------------------- schema */

/* Migration 1, with the dialect's id column and blob type substituted for @ID@ and @BLOB@. */
static const char *const MIGRATION_1 =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v @BLOB@ NOT NULL);"
    "CREATE TABLE users(id @ID@, name TEXT NOT NULL UNIQUE, pwhash TEXT NOT NULL, rule INTEGER NOT NULL DEFAULT 0,"
    " created BIGINT NOT NULL);"
    "CREATE TABLE sessions(token TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " csrf TEXT NOT NULL, expires BIGINT NOT NULL);"
    "CREATE TABLE login_fail(id @ID@, k TEXT NOT NULL, at BIGINT NOT NULL);"
    "CREATE INDEX login_fail_k ON login_fail(k, at);"
    "CREATE TABLE friends(src BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " dst BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE, accepted INTEGER NOT NULL, PRIMARY KEY(src, dst));"
    "CREATE TABLE embeddings(id @ID@, user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " model TEXT NOT NULL, vec @BLOB@ NOT NULL);"
    "CREATE TABLE photos(id @ID@, owner BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " state INTEGER NOT NULL, access INTEGER NOT NULL, w INTEGER NOT NULL DEFAULT 0, h INTEGER NOT NULL DEFAULT 0,"
    " n_faces INTEGER NOT NULL DEFAULT 0, created BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 0,"
    " pkey @BLOB@, original @BLOB@, base @BLOB@);"
    "CREATE TABLE faces(photo_id BIGINT NOT NULL REFERENCES photos(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
    " x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,"
    " user_id BIGINT REFERENCES users(id) ON DELETE SET NULL, decision INTEGER NOT NULL DEFAULT 0,"
    " audience INTEGER NOT NULL DEFAULT 0, discarded INTEGER NOT NULL DEFAULT 0, patch @BLOB@,"
    " PRIMARY KEY(photo_id, idx));"
    "CREATE INDEX faces_user ON faces(user_id);"
    "CREATE TABLE audit(id @ID@, user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " photo_id BIGINT NOT NULL, face_idx INTEGER NOT NULL, action TEXT NOT NULL, audience INTEGER NOT NULL,"
    " at BIGINT NOT NULL);"
    "CREATE TABLE jobs(id @ID@, kind INTEGER NOT NULL, photo_id BIGINT REFERENCES photos(id) ON DELETE CASCADE,"
    " user_id BIGINT REFERENCES users(id) ON DELETE CASCADE, state INTEGER NOT NULL DEFAULT 0, node TEXT,"
    " claimed BIGINT NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, payload @BLOB@);"
    "CREATE INDEX jobs_state ON jobs(state, id);"
    "CREATE TABLE renders(k TEXT PRIMARY KEY, photo_id BIGINT NOT NULL REFERENCES photos(id) ON DELETE CASCADE,"
    " data @BLOB@ NOT NULL);"
    "CREATE INDEX renders_photo ON renders(photo_id);";

/* Migration 2 (the anonymizer renders at analysis): photos.layout (1: analysed by schema 1, the mosaic painted at
 * render time; 2: the anonymized base made at analysis), faces.replacement (mf_store_replacement) and
 * users.enrol_note (outcome of the last enrolment selfie). Existing photos keep layout 1. */
static const char *const MIGRATION_2 =
    "ALTER TABLE photos ADD COLUMN layout INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE faces ADD COLUMN replacement INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN enrol_note TEXT;";

/* Migration 3 (replacements checked against the enrolled people): embeddings.selfie groups the embeddings of one
 * selfie by its recognizers (arcface, faceapi: one gallery per recognizer of the anonymizer's guarantee); rows of
 * schema 2 each were their own selfie (one arcface embedding; the selfies themselves are not kept, so no other
 * embedding can be computed for them), numbered -id. enrol_version counts every change of the enrolled
 * embeddings (nodes cache their galleries and rebuild them when it moves). faces.anon_check: what the
 * anonymizer's checks measured on the face's replacement (JSON written at analysis, never served). */
static const char *const MIGRATION_3 =
    "ALTER TABLE embeddings ADD COLUMN selfie BIGINT;"
    "UPDATE embeddings SET selfie = -id;"
    "CREATE INDEX embeddings_user ON embeddings(user_id, selfie);"
    "CREATE INDEX embeddings_model ON embeddings(model, id);"
    "CREATE TABLE enrol_version(id INTEGER PRIMARY KEY, v BIGINT NOT NULL);"
    "INSERT INTO enrol_version(id, v) VALUES (1, 0);"
    "ALTER TABLE faces ADD COLUMN anon_check TEXT;";

static char *dialect(const char *sql, int pg) {
    const char *id = pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY", *blob = pg ? "BYTEA" : "BLOB";
    size_t cap = strlen(sql) * 2 + 1;
    char *out = malloc(cap), *o = out;
    if (!out) return NULL;
    for (const char *p = sql; *p;) {
        if (!strncmp(p, "@ID@", 4)) {
            o += sprintf(o, "%s", id);
            p += 4;
        } else if (!strncmp(p, "@BLOB@", 6)) {
            o += sprintf(o, "%s", blob);
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

static int migrate(mf_store_t *s) {
    int st = s->drv->script(s->conn, s->drv->begin_sql);
    if (st) return st;
    if (s->pg && (st = s->drv->script(s->conn, "SELECT pg_advisory_xact_lock(727112)"))) goto fail;
    if ((st = s->drv->script(s->conn, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")))
        goto fail;
    mf_db_res *r = NULL;
    if ((st = Q(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, &r))) goto fail;
    int v = (int)mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    if (v > MF_STORE_SCHEMA_VERSION) {
        st = mf_error_set(MF_ERR_UNSUPPORTED, "database schema version %d is newer than this mfmc (%d)", v,
                          MF_STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (v < 1) {
        char *sql = dialect(MIGRATION_1, s->pg);
        if (!sql) {
            st = mf_error_set(MF_ERR_NOMEM, "out of memory");
            goto fail;
        }
        st = s->drv->script(s->conn, sql);
        free(sql);
        if (st || (st = s->drv->script(s->conn, "INSERT INTO schema_version(version) VALUES (1)"))) goto fail;
    }
    if (v < 2) {
        if ((st = s->drv->script(s->conn, MIGRATION_2)) ||
            (st = s->drv->script(s->conn, "INSERT INTO schema_version(version) VALUES (2)")))
            goto fail;
    }
    if (v < 3) {
        if ((st = s->drv->script(s->conn, MIGRATION_3)) ||
            (st = s->drv->script(s->conn, "INSERT INTO schema_version(version) VALUES (3)")))
            goto fail;
    }
    return s->drv->script(s->conn, "COMMIT");
fail:
    s->drv->script(s->conn, "ROLLBACK");
    return mf_error_prefix(st, "schema migration");
}

int mf_store_open(const char *url, mf_store_t **out) {
    *out = NULL;
    if (!url || !*url) return mf_error_set(MF_ERR_ARG, "store: empty database name");
    mf_store_t *s = calloc(1, sizeof *s);
    if (!s) return mf_error_set(MF_ERR_NOMEM, "out of memory");
    int st;
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
        s->pg = 1;
        st = mf_db_postgres_open(url, &s->drv, &s->conn);
    } else {
        st = mf_db_sqlite_open(url, &s->drv, &s->conn);
    }
    if (!st) st = migrate(s);
    if (st) {
        mf_store_close(s);
        return st;
    }
    *out = s;
    return MF_OK;
}

void mf_store_close(mf_store_t *s) {
    if (!s) return;
    if (s->drv) s->drv->close(s->conn);
    free(s);
}

const char *mf_store_backend(const mf_store_t *s) { return s->drv->name; }

int mf_store_schema_version(mf_store_t *s, int *version) {
    mf_db_res *r = NULL;
    int st = Q(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, &r);
    if (!st) *version = (int)mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    return st;
}

int mf_store_begin(mf_store_t *s) {
    MF_ASSERT(!s->in_tx);
    int st = s->drv->script(s->conn, s->drv->begin_sql);
    if (!st) s->in_tx = 1;
    return st;
}

int mf_store_commit(mf_store_t *s) {
    int st = s->drv->script(s->conn, "COMMIT");
    if (st) s->drv->script(s->conn, "ROLLBACK");
    s->in_tx = 0;
    return st;
}

void mf_store_rollback(mf_store_t *s) {
    if (s->in_tx) s->drv->script(s->conn, "ROLLBACK");
    s->in_tx = 0;
}

/* Runs `fn` in a transaction unless one is open already. */
#define TX(s, body)                                                                                                    \
    __extension__({                                                                                                    \
        int own_ = !(s)->in_tx, st_ = own_ ? mf_store_begin(s) : MF_OK;                                                \
        if (!st_) st_ = (body);                                                                                        \
        if (own_ && !st_)                                                                                              \
            st_ = mf_store_commit(s);                                                                                  \
        else if (own_)                                                                                                 \
            mf_store_rollback(s);                                                                                      \
        st_;                                                                                                           \
    })

/* Copies a blob cell out (malloc'd). MF_ERR_NOTFOUND for no row or NULL. */
static int take_blob(mf_db_res *r, int c, uint8_t **data, size_t *len, const char *what) {
    *data = NULL;
    *len = 0;
    if (!r->rows || !mf_db_cell_at(r, 0, c)->p) return mf_error_set(MF_ERR_NOTFOUND, "%s not found", what);
    mf_db_cell *cell = &r->cells[c];
    *data = cell->p; /* the cell's buffer moves to the caller */
    *len = cell->len;
    cell->p = NULL;
    return MF_OK;
}

/* ---------------------------------------------------------------- secrets */

int mf_store_secret_get_or_put(mf_store_t *s, const char *name, const uint8_t *fresh, size_t len, uint8_t **out,
                               size_t *out_len) {
    int st = EXEC(s,
                  s->pg ? "INSERT INTO meta(k, v) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                        : "INSERT OR IGNORE INTO meta(k, v) VALUES ($1, $2)",
                  DB_T(name), DB_B(fresh, len));
    if (st) return st;
    mf_db_res *r = NULL;
    if ((st = QUERY(s, &r, "SELECT v FROM meta WHERE k = $1", DB_T(name)))) return st;
    st = take_blob(r, 0, out, out_len, "secret");
    mf_db_res_free(r);
    return st;
}

/* ---------------------------------------------------------------- users and sessions */

static int64_t now_s(void) { return (int64_t)time(NULL); }

int mf_store_user_create(mf_store_t *s, const char *name, const char *pwhash, int64_t *id) {
    if (strlen(name) > MF_STORE_NAME_MAX) return mf_error_set(MF_ERR_LIMIT, "user name too long");
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "INSERT INTO users(name, pwhash, created) VALUES ($1, $2, $3) RETURNING id", DB_T(name),
                   DB_T(pwhash), DB_I(now_s()));
    if (st == MF_ERR_ARG) return mf_error_set(MF_ERR_ARG, "user name taken");
    if (!st) *id = mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    return st;
}

static void fill_user(const mf_db_res *r, mf_store_user *u) {
    memset(u, 0, sizeof *u);
    u->id = mf_db_int(r, 0, 0);
    snprintf(u->name, sizeof u->name, "%s", mf_db_text(r, 0, 1));
    u->rule = (int)mf_db_int(r, 0, 2);
    u->created = mf_db_int(r, 0, 3);
}

int mf_store_user_by_name(mf_store_t *s, const char *name, mf_store_user *u, char **pwhash) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT id, name, rule, created, pwhash FROM users WHERE name = $1", DB_T(name));
    if (st) return st;
    if (!r->rows)
        st = mf_error_set(MF_ERR_NOTFOUND, "no such user");
    else {
        fill_user(r, u);
        if (pwhash) {
            *pwhash = strdup(mf_db_text(r, 0, 4));
            if (!*pwhash) st = mf_error_set(MF_ERR_NOMEM, "out of memory");
        }
    }
    mf_db_res_free(r);
    return st;
}

int mf_store_user_get(mf_store_t *s, int64_t id, mf_store_user *u) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT id, name, rule, created FROM users WHERE id = $1", DB_I(id));
    if (st) return st;
    if (!r->rows)
        st = mf_error_set(MF_ERR_NOTFOUND, "no such user");
    else
        fill_user(r, u);
    mf_db_res_free(r);
    return st;
}

int mf_store_user_set_rule(mf_store_t *s, int64_t id, int rule) {
    if (rule < MF_RULE_ASK || rule > MF_RULE_NEVER) return mf_error_set(MF_ERR_ARG, "bad rule");
    return EXEC(s, "UPDATE users SET rule = $1 WHERE id = $2", DB_I(rule), DB_I(id));
}

static int user_delete_body(mf_store_t *s, int64_t id) {
    int st;
    /* Faces of them in others' photos become unknown: the photos' versions move and their renders go. */
    if ((st = EXEC(
             s, "UPDATE photos SET version = version + 1 WHERE id IN (SELECT photo_id FROM faces WHERE user_id = $1)",
             DB_I(id))))
        return st;
    if ((st = EXEC(s, "DELETE FROM renders WHERE photo_id IN (SELECT photo_id FROM faces WHERE user_id = $1)",
                   DB_I(id))))
        return st;
    if ((st = EXEC(s, "UPDATE faces SET user_id = NULL, decision = 0, audience = 0, patch = NULL WHERE user_id = $1",
                   DB_I(id))))
        return st;
    if ((st = EXEC(s, "UPDATE enrol_version SET v = v + 1 WHERE id = 1"))) return st; /* their embeddings go */
    /* Everything else is theirs and goes by cascade (sessions, friends, embeddings, photos, faces, renders,
     * jobs, audit). */
    return EXEC(s, "DELETE FROM users WHERE id = $1", DB_I(id));
}

int mf_store_user_delete(mf_store_t *s, int64_t id) { return TX(s, user_delete_body(s, id)); }

int mf_store_session_create(mf_store_t *s, const char *token_hash, int64_t user_id, const char *csrf, int64_t expires) {
    if (strlen(token_hash) > MF_STORE_TOKEN_MAX || strlen(csrf) > MF_STORE_TOKEN_MAX)
        return mf_error_set(MF_ERR_LIMIT, "token too long");
    return EXEC(s, "INSERT INTO sessions(token, user_id, csrf, expires) VALUES ($1, $2, $3, $4)", DB_T(token_hash),
                DB_I(user_id), DB_T(csrf), DB_I(expires));
}

int mf_store_session_get(mf_store_t *s, const char *token_hash, int64_t now, int64_t *user_id, char *csrf) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT user_id, csrf FROM sessions WHERE token = $1 AND expires > $2", DB_T(token_hash),
                   DB_I(now));
    if (st) return st;
    if (!r->rows)
        st = mf_error_set(MF_ERR_NOTFOUND, "no session");
    else {
        *user_id = mf_db_int(r, 0, 0);
        snprintf(csrf, MF_STORE_TOKEN_MAX + 1, "%s", mf_db_text(r, 0, 1));
    }
    mf_db_res_free(r);
    return st;
}

int mf_store_session_delete(mf_store_t *s, const char *token_hash) {
    return EXEC(s, "DELETE FROM sessions WHERE token = $1", DB_T(token_hash));
}

int mf_store_login_failures(mf_store_t *s, const char *key, int64_t since, int *count) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT COUNT(*) FROM login_fail WHERE k = $1 AND at >= $2", DB_T(key), DB_I(since));
    if (!st) *count = (int)mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    return st;
}

int mf_store_login_fail(mf_store_t *s, const char *key, int64_t now) {
    /* Old rows of every key go on the way (one hour is longer than any rate-limit window). */
    int st = EXEC(s, "DELETE FROM login_fail WHERE at < $1", DB_I(now - 3600));
    return st ? st : EXEC(s, "INSERT INTO login_fail(k, at) VALUES ($1, $2)", DB_T(key), DB_I(now));
}

/* ---------------------------------------------------------------- friends */

static int friend_request_body(mf_store_t *s, int64_t from, int64_t to, int *now_friends) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT accepted FROM friends WHERE src = $1 AND dst = $2", DB_I(to), DB_I(from));
    if (st) return st;
    int reverse = r->rows > 0;
    mf_db_res_free(r);
    *now_friends = reverse;
    if (reverse) {
        if ((st = EXEC(s, "UPDATE friends SET accepted = 1 WHERE src = $1 AND dst = $2", DB_I(to), DB_I(from))))
            return st;
        if ((st = EXEC(s, "DELETE FROM friends WHERE src = $1 AND dst = $2", DB_I(from), DB_I(to)))) return st;
        return EXEC(s, "INSERT INTO friends(src, dst, accepted) VALUES ($1, $2, 1)", DB_I(from), DB_I(to));
    }
    st = EXEC(s, "INSERT INTO friends(src, dst, accepted) VALUES ($1, $2, 0)", DB_I(from), DB_I(to));
    return st == MF_ERR_ARG ? MF_OK : st; /* asked already */
}

int mf_store_friend_request(mf_store_t *s, int64_t from, int64_t to, int *now_friends) {
    if (from == to) return mf_error_set(MF_ERR_ARG, "cannot befriend oneself");
    return TX(s, friend_request_body(s, from, to, now_friends));
}

int mf_store_friend_remove(mf_store_t *s, int64_t a, int64_t b) {
    return EXEC(s, "DELETE FROM friends WHERE (src = $1 AND dst = $2) OR (src = $2 AND dst = $1)", DB_I(a), DB_I(b));
}

int mf_store_are_friends(mf_store_t *s, int64_t a, int64_t b, int *yes) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT 1 FROM friends WHERE src = $1 AND dst = $2 AND accepted = 1", DB_I(a), DB_I(b));
    if (!st) *yes = r->rows > 0;
    mf_db_res_free(r);
    return st;
}

int mf_store_friend_list(mf_store_t *s, int64_t user, int64_t *ids, int *states, int max, int *n) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r,
                   "SELECT dst, 1 FROM friends WHERE src = $1 AND accepted = 1 "
                   "UNION ALL SELECT src, 2 FROM friends WHERE dst = $1 AND accepted = 0 "
                   "UNION ALL SELECT dst, 3 FROM friends WHERE src = $1 AND accepted = 0 LIMIT $2",
                   DB_I(user), DB_I(max));
    if (st) return st;
    *n = r->rows;
    for (int i = 0; i < r->rows; i++) {
        ids[i] = mf_db_int(r, i, 0);
        states[i] = (int)mf_db_int(r, i, 1);
    }
    mf_db_res_free(r);
    return MF_OK;
}

/* Friendship is stored as one accepted row per direction that asked; both directions count. */

/* ---------------------------------------------------------------- enrolment */

static int embedding_add_body(mf_store_t *s, int64_t user, const char *model, const float *vec, int dim) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT COUNT(*) FROM embeddings WHERE user_id = $1 AND model = $2", DB_I(user), DB_T(model));
    if (st) return st;
    int64_t have = mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    if (have >= MF_STORE_ENROL_MAX)
        return mf_error_set(MF_ERR_LIMIT, "at most %d enrolment photos", MF_STORE_ENROL_MAX);
    if ((st = QUERY(s, &r, "INSERT INTO embeddings(user_id, model, vec) VALUES ($1, $2, $3) RETURNING id", DB_I(user),
                    DB_T(model), DB_B(vec, (size_t)dim * sizeof *vec))))
        return st;
    int64_t id = r->rows ? mf_db_int(r, 0, 0) : 0;
    mf_db_res_free(r);
    if ((st = EXEC(s, "UPDATE embeddings SET selfie = $1 WHERE id = $2", DB_I(-id), DB_I(id)))) return st;
    return EXEC(s, "UPDATE enrol_version SET v = v + 1 WHERE id = 1");
}

int mf_store_embedding_add(mf_store_t *s, int64_t user, const char *model, const float *vec, int dim) {
    if (dim <= 0 || dim > MF_STORE_DIM_MAX) return mf_error_set(MF_ERR_ARG, "bad embedding size");
    return TX(s, embedding_add_body(s, user, model, vec, dim));
}

static int enrol_add_body(mf_store_t *s, int64_t user, int64_t selfie, int n, const char *const *models,
                          const float *const *vecs, const int *dims) {
    int have = 0; /* a retried job's rows go first: they do not count against the cap */
    int st = EXEC(s, "DELETE FROM embeddings WHERE user_id = $1 AND selfie = $2", DB_I(user), DB_I(selfie));
    if (!st) st = mf_store_embedding_count(s, user, &have);
    if (st) return st;
    if (have >= MF_STORE_ENROL_MAX)
        return mf_error_set(MF_ERR_LIMIT, "at most %d enrolment photos", MF_STORE_ENROL_MAX);
    for (int i = 0; i < n && !st; i++)
        st = EXEC(s, "INSERT INTO embeddings(user_id, model, vec, selfie) VALUES ($1, $2, $3, $4)", DB_I(user),
                  DB_T(models[i]), DB_B(vecs[i], (size_t)dims[i] * sizeof(float)), DB_I(selfie));
    return st ? st : EXEC(s, "UPDATE enrol_version SET v = v + 1 WHERE id = 1");
}

int mf_store_enrol_add(mf_store_t *s, int64_t user, int64_t selfie, int n, const char *const *models,
                       const float *const *vecs, const int *dims) {
    if (selfie <= 0 || n <= 0 || n > MF_STORE_ENROL_MODELS) return mf_error_set(MF_ERR_ARG, "bad enrolment");
    for (int i = 0; i < n; i++)
        if (!models[i] || !vecs[i] || dims[i] <= 0 || dims[i] > MF_STORE_DIM_MAX)
            return mf_error_set(MF_ERR_ARG, "bad embedding size");
    return TX(s, enrol_add_body(s, user, selfie, n, models, vecs, dims));
}

int mf_store_embedding_count(mf_store_t *s, int64_t user, int *n) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT COUNT(DISTINCT selfie) FROM embeddings WHERE user_id = $1", DB_I(user));
    if (!st) *n = (int)mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    return st;
}

int mf_store_embedding_count_model(mf_store_t *s, int64_t user, const char *model, int *n) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT COUNT(DISTINCT selfie) FROM embeddings WHERE user_id = $1 AND model = $2",
                   DB_I(user), DB_T(model));
    if (!st) *n = (int)mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    return st;
}

int mf_store_enrol_version(mf_store_t *s, int64_t *version) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT v FROM enrol_version WHERE id = $1", DB_I(1));
    if (!st) *version = r->rows ? mf_db_int(r, 0, 0) : 0;
    mf_db_res_free(r);
    return st;
}

int mf_store_enrol_pending(mf_store_t *s, int64_t user, int *n) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT COUNT(*) FROM jobs WHERE user_id = $1 AND kind = $2 AND state < 2", DB_I(user),
                   DB_I(MF_JOB_ENROL));
    if (!st) *n = (int)mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    return st;
}

static int embedding_delete_body(mf_store_t *s, int64_t user) {
    int st = EXEC(s, "DELETE FROM jobs WHERE user_id = $1 AND kind = $2", DB_I(user), DB_I(MF_JOB_ENROL));
    if (!st) st = EXEC(s, "DELETE FROM embeddings WHERE user_id = $1", DB_I(user));
    return st ? st : EXEC(s, "UPDATE enrol_version SET v = v + 1 WHERE id = 1");
}

int mf_store_embedding_delete_all(mf_store_t *s, int64_t user) { return TX(s, embedding_delete_body(s, user)); }

int mf_store_enrol_note_set(mf_store_t *s, int64_t user, const char *note) {
    if (note && strlen(note) > MF_STORE_NAME_MAX) return mf_error_set(MF_ERR_LIMIT, "enrolment note too long");
    return EXEC(s, "UPDATE users SET enrol_note = $1 WHERE id = $2",
                note ? DB_T(note) : (mf_db_arg){.type = MF_DB_NULL}, DB_I(user));
}

int mf_store_enrol_note_get(mf_store_t *s, int64_t user, char note[MF_STORE_NAME_MAX + 1]) {
    note[0] = 0;
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT enrol_note FROM users WHERE id = $1", DB_I(user));
    if (st) return st;
    if (!r->rows)
        st = mf_error_set(MF_ERR_NOTFOUND, "no such user");
    else if (mf_db_text(r, 0, 0))
        snprintf(note, MF_STORE_NAME_MAX + 1, "%s", mf_db_text(r, 0, 0));
    mf_db_res_free(r);
    return st;
}

int mf_store_embedding_all(mf_store_t *s, const char *model, int dim, int64_t **users, float **vecs, int *n) {
    *users = NULL;
    *vecs = NULL;
    *n = 0;
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT user_id, vec FROM embeddings WHERE model = $1 ORDER BY id", DB_T(model));
    if (st) return st;
    size_t bytes = (size_t)dim * sizeof(float);
    *users = malloc(sizeof **users * (size_t)(r->rows ? r->rows : 1));
    *vecs = malloc(bytes * (size_t)(r->rows ? r->rows : 1));
    if (!*users || !*vecs) {
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    } else {
        for (int i = 0; i < r->rows; i++) {
            const mf_db_cell *c = mf_db_cell_at(r, i, 1);
            if (!c->p || c->len != bytes) continue; /* another dimension: skipped */
            (*users)[*n] = mf_db_int(r, i, 0);
            memcpy(*vecs + (size_t)*n * dim, c->p, bytes);
            (*n)++;
        }
    }
    mf_db_res_free(r);
    if (st) {
        free(*users);
        free(*vecs);
        *users = NULL;
        *vecs = NULL;
    }
    return st;
}

/* ---------------------------------------------------------------- photos and faces */

static int photo_create_body(mf_store_t *s, int64_t owner, int access, const uint8_t *blob, size_t blob_len,
                             const uint8_t *key, size_t key_len, int64_t *id) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r,
                   "INSERT INTO photos(owner, state, access, created, pkey, original) VALUES ($1, 0, $2, $3, $4, $5) "
                   "RETURNING id",
                   DB_I(owner), DB_I(access), DB_I(now_s()), DB_B(key, key_len), DB_B(blob, blob_len));
    if (st) return st;
    *id = mf_db_int(r, 0, 0);
    mf_db_res_free(r);
    return EXEC(s, "INSERT INTO jobs(kind, photo_id) VALUES ($1, $2)", DB_I(MF_JOB_ANALYZE), DB_I(*id));
}

int mf_store_photo_create(mf_store_t *s, int64_t owner, int access, const uint8_t *blob, size_t blob_len,
                          const uint8_t *key, size_t key_len, int64_t *id) {
    return TX(s, photo_create_body(s, owner, access, blob, blob_len, key, key_len, id));
}

#define PHOTO_COLS "p.id, p.owner, p.state, p.access, p.w, p.h, p.n_faces, p.created, p.version, p.layout"

static void fill_photo(const mf_db_res *r, int i, mf_store_photo *p) {
    p->id = mf_db_int(r, i, 0);
    p->owner = mf_db_int(r, i, 1);
    p->state = (int)mf_db_int(r, i, 2);
    p->access = (int)mf_db_int(r, i, 3);
    p->w = (int)mf_db_int(r, i, 4);
    p->h = (int)mf_db_int(r, i, 5);
    p->n_faces = (int)mf_db_int(r, i, 6);
    p->created = mf_db_int(r, i, 7);
    p->version = mf_db_int(r, i, 8);
    p->layout = (int)mf_db_int(r, i, 9);
}

int mf_store_photo_get(mf_store_t *s, int64_t id, mf_store_photo *p) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT " PHOTO_COLS " FROM photos p WHERE p.id = $1", DB_I(id));
    if (st) return st;
    if (!r->rows)
        st = mf_error_set(MF_ERR_NOTFOUND, "no such photo");
    else
        fill_photo(r, 0, p);
    mf_db_res_free(r);
    return st;
}

int mf_store_photo_blob(mf_store_t *s, int64_t id, const char *which, uint8_t **data, size_t *len) {
    const char *sql = !strcmp(which, "original") ? "SELECT original FROM photos WHERE id = $1"
                      : !strcmp(which, "base")   ? "SELECT base FROM photos WHERE id = $1"
                      : !strcmp(which, "key")    ? "SELECT pkey FROM photos WHERE id = $1"
                                                 : NULL;
    if (!sql) return mf_error_set(MF_ERR_ARG, "no photo blob %s", which);
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, sql, DB_I(id));
    if (st) return st;
    st = take_blob(r, 0, data, len, which);
    mf_db_res_free(r);
    return st;
}

static int photo_finish_body(mf_store_t *s, int64_t id, int w, int h, const mf_store_face *faces, int n,
                             const uint8_t *original, size_t original_len, const uint8_t *base, size_t base_len,
                             uint8_t *const *patches, const size_t *patch_len) {
    int st = EXEC(s,
                  "UPDATE photos SET w = $1, h = $2, n_faces = $3, state = 1, original = $4, base = $5, layout = 2 "
                  "WHERE id = $6",
                  DB_I(w), DB_I(h), DB_I(n), DB_B(original, original_len), DB_B(base, base_len), DB_I(id));
    if (st) return st;
    for (int i = 0; i < n; i++)
        if (faces[i].anon_check && strlen(faces[i].anon_check) > MF_STORE_CHECK_MAX)
            return mf_error_set(MF_ERR_LIMIT, "face check record too long");
    if ((st = EXEC(s, "DELETE FROM faces WHERE photo_id = $1", DB_I(id)))) return st; /* a retried job */
    int64_t now = now_s();
    for (int i = 0; i < n && !st; i++) {
        const mf_store_face *f = &faces[i];
        mf_db_arg user = f->user_id ? DB_I(f->user_id) : (mf_db_arg){.type = MF_DB_NULL};
        st = EXEC(s,
                  "INSERT INTO faces(photo_id, idx, x, y, w, h, user_id, decision, audience, discarded, patch, "
                  "replacement, anon_check) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                  DB_I(id), DB_I(i), DB_R(f->x), DB_R(f->y), DB_R(f->w), DB_R(f->h), user, DB_I(f->decision),
                  DB_I(f->audience), DB_I(f->discarded),
                  patches && patches[i] ? DB_B(patches[i], patch_len[i]) : (mf_db_arg){.type = MF_DB_NULL},
                  DB_I(f->replacement), f->anon_check ? DB_T(f->anon_check) : (mf_db_arg){.type = MF_DB_NULL});
        if (!st && f->user_id && f->decision != MF_DEC_PENDING)
            st = EXEC(s,
                      "INSERT INTO audit(user_id, photo_id, face_idx, action, audience, at) "
                      "VALUES ($1, $2, $3, $4, $5, $6)",
                      DB_I(f->user_id), DB_I(id), DB_I(i), DB_T("rule"), DB_I(f->audience), DB_I(now));
    }
    return st;
}

int mf_store_photo_finish(mf_store_t *s, int64_t id, int w, int h, const mf_store_face *faces, int n,
                          const uint8_t *original, size_t original_len, const uint8_t *base, size_t base_len,
                          uint8_t *const *patches, const size_t *patch_len) {
    return TX(s, photo_finish_body(s, id, w, h, faces, n, original, original_len, base, base_len, patches, patch_len));
}

int mf_store_photo_fail(mf_store_t *s, int64_t id) {
    return EXEC(s, "UPDATE photos SET state = 2, original = NULL, base = NULL WHERE id = $1", DB_I(id));
}

#define VISIBLE                                                                                                        \
    "(p.owner = $1 OR EXISTS(SELECT 1 FROM friends f WHERE f.accepted = 1 AND "                                        \
    "((f.src = $1 AND f.dst = p.owner) OR (f.dst = $1 AND f.src = p.owner))) "                                         \
    "OR EXISTS(SELECT 1 FROM faces x WHERE x.photo_id = p.id AND x.user_id = $1))"

int mf_store_feed(mf_store_t *s, int64_t viewer, int64_t before, mf_store_photo *out, int max, int *n) {
    mf_db_res *r = NULL;
    if (max > MF_STORE_LIST_MAX) max = MF_STORE_LIST_MAX;
    int st = QUERY(s, &r,
                   "SELECT " PHOTO_COLS " FROM photos p WHERE " VISIBLE " AND ($2 = 0 OR p.id < $2) "
                   "ORDER BY p.id DESC LIMIT $3",
                   DB_I(viewer), DB_I(before), DB_I(max));
    if (st) return st;
    *n = r->rows;
    for (int i = 0; i < r->rows; i++)
        fill_photo(r, i, &out[i]);
    mf_db_res_free(r);
    return MF_OK;
}

int mf_store_photo_visible(mf_store_t *s, int64_t viewer, int64_t photo, int *yes) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT 1 FROM photos p WHERE " VISIBLE " AND p.id = $2", DB_I(viewer), DB_I(photo));
    if (!st) *yes = r->rows > 0;
    mf_db_res_free(r);
    return st;
}

static void fill_face(const mf_db_res *r, int i, mf_store_face *f) {
    memset(f, 0, sizeof *f);
    f->photo_id = mf_db_int(r, i, 0);
    f->idx = (int)mf_db_int(r, i, 1);
    f->x = (float)mf_db_real(r, i, 2);
    f->y = (float)mf_db_real(r, i, 3);
    f->w = (float)mf_db_real(r, i, 4);
    f->h = (float)mf_db_real(r, i, 5);
    f->user_id = mf_db_int(r, i, 6);
    f->decision = (int)mf_db_int(r, i, 7);
    f->audience = (int)mf_db_int(r, i, 8);
    f->discarded = (int)mf_db_int(r, i, 9);
    f->replacement = (int)mf_db_int(r, i, 10);
}

#define FACE_COLS "photo_id, idx, x, y, w, h, user_id, decision, audience, discarded, replacement"

int mf_store_faces(mf_store_t *s, int64_t photo, mf_store_face **faces, int *n) {
    *faces = NULL;
    *n = 0;
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT " FACE_COLS " FROM faces WHERE photo_id = $1 ORDER BY idx", DB_I(photo));
    if (st) return st;
    *faces = calloc((size_t)(r->rows ? r->rows : 1), sizeof **faces);
    if (!*faces)
        st = mf_error_set(MF_ERR_NOMEM, "out of memory");
    else {
        for (int i = 0; i < r->rows; i++)
            fill_face(r, i, &(*faces)[i]);
        *n = r->rows;
    }
    mf_db_res_free(r);
    return st;
}

int mf_store_face_patch(mf_store_t *s, int64_t photo, int idx, uint8_t **data, size_t *len) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT patch FROM faces WHERE photo_id = $1 AND idx = $2", DB_I(photo), DB_I(idx));
    if (st) return st;
    st = take_blob(r, 0, data, len, "face patch");
    mf_db_res_free(r);
    return st;
}

int mf_store_pending(mf_store_t *s, int64_t user, mf_store_face *out, int max, int *n) {
    mf_db_res *r = NULL;
    if (max > MF_STORE_LIST_MAX) max = MF_STORE_LIST_MAX;
    int st = QUERY(s, &r,
                   "SELECT " FACE_COLS " FROM faces WHERE user_id = $1 AND decision = 0 AND discarded = 0 "
                   "ORDER BY photo_id DESC, idx LIMIT $2",
                   DB_I(user), DB_I(max));
    if (st) return st;
    *n = r->rows;
    for (int i = 0; i < r->rows; i++)
        fill_face(r, i, &out[i]);
    mf_db_res_free(r);
    return MF_OK;
}

int mf_store_faces_of(mf_store_t *s, int64_t user, mf_store_face *out, int max, int *n) {
    mf_db_res *r = NULL;
    if (max > MF_STORE_LIST_MAX) max = MF_STORE_LIST_MAX;
    int st = QUERY(s, &r, "SELECT " FACE_COLS " FROM faces WHERE user_id = $1 ORDER BY photo_id DESC, idx LIMIT $2",
                   DB_I(user), DB_I(max));
    if (st) return st;
    *n = r->rows;
    for (int i = 0; i < r->rows; i++)
        fill_face(r, i, &out[i]);
    mf_db_res_free(r);
    return MF_OK;
}

static int decide_body(mf_store_t *s, int64_t user, int64_t photo, int idx, const char *action, int audience,
                       int64_t now) {
    int decision = !strcmp(action, "approve")    ? MF_DEC_APPROVED
                   : !strcmp(action, "decline")  ? MF_DEC_DECLINED
                   : !strcmp(action, "withdraw") ? MF_DEC_DECLINED
                                                 : -1;
    if (decision < 0) return mf_error_set(MF_ERR_ARG, "unknown decision %s", action);
    if (audience != MF_AUD_EVERYONE && audience != MF_AUD_FRIENDS) return mf_error_set(MF_ERR_ARG, "bad audience");
    mf_db_res *r = NULL;
    int st = QUERY(s, &r,
                   "UPDATE faces SET decision = $1, audience = $2 WHERE photo_id = $3 AND idx = $4 AND user_id = $5 "
                   "RETURNING idx",
                   DB_I(decision), DB_I(audience), DB_I(photo), DB_I(idx), DB_I(user));
    if (st) return st;
    int found = r->rows > 0;
    mf_db_res_free(r);
    if (!found) return mf_error_set(MF_ERR_NOTFOUND, "no such face of yours");
    if ((st = EXEC(s, "UPDATE photos SET version = version + 1 WHERE id = $1", DB_I(photo)))) return st;
    if ((st = EXEC(s, "DELETE FROM renders WHERE photo_id = $1", DB_I(photo)))) return st;
    return EXEC(s,
                "INSERT INTO audit(user_id, photo_id, face_idx, action, audience, at) VALUES ($1, $2, $3, $4, $5, $6)",
                DB_I(user), DB_I(photo), DB_I(idx), DB_T(action), DB_I(audience), DB_I(now));
}

int mf_store_decide(mf_store_t *s, int64_t user, int64_t photo, int idx, const char *action, int audience,
                    int64_t now) {
    return TX(s, decide_body(s, user, photo, idx, action, audience, now));
}

int mf_store_audit_list(mf_store_t *s, int64_t user, mf_store_audit *out, int max, int *n) {
    mf_db_res *r = NULL;
    if (max > MF_STORE_LIST_MAX) max = MF_STORE_LIST_MAX;
    int st = QUERY(s, &r,
                   "SELECT id, user_id, photo_id, face_idx, action, audience, at FROM audit WHERE user_id = $1 "
                   "ORDER BY id LIMIT $2",
                   DB_I(user), DB_I(max));
    if (st) return st;
    *n = r->rows;
    for (int i = 0; i < r->rows; i++) {
        mf_store_audit *a = &out[i];
        memset(a, 0, sizeof *a);
        a->id = mf_db_int(r, i, 0);
        a->user_id = mf_db_int(r, i, 1);
        a->photo_id = mf_db_int(r, i, 2);
        a->face_idx = (int)mf_db_int(r, i, 3);
        snprintf(a->action, sizeof a->action, "%s", mf_db_text(r, i, 4));
        a->audience = (int)mf_db_int(r, i, 5);
        a->at = mf_db_int(r, i, 6);
    }
    mf_db_res_free(r);
    return MF_OK;
}

int mf_store_photos_of(mf_store_t *s, int64_t user, int64_t *ids, int max, int *n) {
    mf_db_res *r = NULL;
    if (max > MF_STORE_LIST_MAX) max = MF_STORE_LIST_MAX;
    int st = QUERY(s, &r, "SELECT id FROM photos WHERE owner = $1 ORDER BY id DESC LIMIT $2", DB_I(user), DB_I(max));
    if (st) return st;
    *n = r->rows;
    for (int i = 0; i < r->rows; i++)
        ids[i] = mf_db_int(r, i, 0);
    mf_db_res_free(r);
    return MF_OK;
}

/* ---------------------------------------------------------------- render cache */

int mf_store_render_get(mf_store_t *s, const char *key, uint8_t **data, size_t *len) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT data FROM renders WHERE k = $1", DB_T(key));
    if (st) return st;
    st = take_blob(r, 0, data, len, "render");
    mf_db_res_free(r);
    return st;
}

int mf_store_render_put(mf_store_t *s, int64_t photo, const char *key, const uint8_t *data, size_t len) {
    if (strlen(key) > MF_STORE_TOKEN_MAX) return mf_error_set(MF_ERR_LIMIT, "render key too long");
    int st = EXEC(s,
                  s->pg ? "INSERT INTO renders(k, photo_id, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
                        : "INSERT OR IGNORE INTO renders(k, photo_id, data) VALUES ($1, $2, $3)",
                  DB_T(key), DB_I(photo), DB_B(data, len));
    return st == MF_ERR_ARG ? MF_OK : st; /* the photo went meanwhile */
}

/* ---------------------------------------------------------------- jobs */

int mf_store_job_enrol(mf_store_t *s, int64_t user, const uint8_t *blob, size_t len) {
    return EXEC(s, "INSERT INTO jobs(kind, user_id, payload) VALUES ($1, $2, $3)", DB_I(MF_JOB_ENROL), DB_I(user),
                DB_B(blob, len));
}

static int claim_body(mf_store_t *s, const char *node, int64_t now, int lease, mf_store_job *job) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r,
                   s->pg ? "UPDATE jobs SET state = 1, node = $1, claimed = $2, attempts = attempts + 1 WHERE id = "
                           "(SELECT id FROM jobs WHERE state = 0 OR (state = 1 AND claimed < $3) ORDER BY id "
                           "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, kind, photo_id, user_id, attempts"
                         : "UPDATE jobs SET state = 1, node = $1, claimed = $2, attempts = attempts + 1 WHERE id = "
                           "(SELECT id FROM jobs WHERE state = 0 OR (state = 1 AND claimed < $3) ORDER BY id "
                           "LIMIT 1) RETURNING id, kind, photo_id, user_id, attempts",
                   DB_T(node), DB_I(now), DB_I(now - lease));
    if (st) return st;
    if (!r->rows)
        st = MF_ERR_NOTFOUND; /* no message: the common case */
    else {
        job->id = mf_db_int(r, 0, 0);
        job->kind = (int)mf_db_int(r, 0, 1);
        job->photo_id = mf_db_int(r, 0, 2);
        job->user_id = mf_db_int(r, 0, 3);
        job->attempts = (int)mf_db_int(r, 0, 4);
    }
    mf_db_res_free(r);
    return st;
}

int mf_store_job_claim(mf_store_t *s, const char *node, int64_t now, int lease, mf_store_job *job) {
    memset(job, 0, sizeof *job);
    /* a read first: idle workers poll without taking SQLite's writer lock */
    mf_db_res *r = NULL;
    int st0 =
        QUERY(s, &r, "SELECT 1 FROM jobs WHERE state = 0 OR (state = 1 AND claimed < $1) LIMIT 1", DB_I(now - lease));
    int any = !st0 && r->rows > 0;
    mf_db_res_free(r);
    if (st0) return st0;
    if (!any) return MF_ERR_NOTFOUND;
    /* One statement: under SQLite's BEGIN IMMEDIATE (writer lock), under PostgreSQL with SKIP LOCKED. */
    int st = TX(s, claim_body(s, node, now, lease, job));
    return st;
}

int mf_store_job_blob(mf_store_t *s, int64_t job, uint8_t **data, size_t *len) {
    mf_db_res *r = NULL;
    int st = QUERY(s, &r, "SELECT payload FROM jobs WHERE id = $1", DB_I(job));
    if (st) return st;
    st = take_blob(r, 0, data, len, "job payload");
    mf_db_res_free(r);
    return st;
}

int mf_store_job_touch(mf_store_t *s, int64_t job, const char *node, int64_t now) {
    return EXEC(s, "UPDATE jobs SET claimed = $1 WHERE id = $2 AND state = 1 AND node = $3", DB_I(now), DB_I(job),
                DB_T(node));
}

int mf_store_job_done(mf_store_t *s, int64_t job) {
    return EXEC(s, "UPDATE jobs SET state = 2, payload = NULL WHERE id = $1", DB_I(job));
}
