/* Store tests on a real SQLite file in a temporary folder (and on PostgreSQL when MFMC_TEST_PG names a server):
 * migrations twice, users and sessions, friends, enrolment cap, photo life cycle with the job table (claim,
 * lease expiry), visibility, decisions with audit, account deletion turning faces unknown; schema 2: layout,
 * replacement kinds, faces without a patch, lease renewal, enrolment notes; schema 3: selfies of several
 * recognizers' embeddings, the enrolment version, the migration of schema 2 embeddings, faces' anon_check. */
#include "mfmc/store.h"

#include <sqlite3.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256], db[300];

static const char *url(void) {
    const char *pg = getenv("MFMC_TEST_PG");
    return pg && *pg ? pg : db;
}

/* The store every test opens (SQLite file or PostgreSQL), migrated to the current schema. */
static mf_store_t *open_store(void) {
    mf_store_t *s = NULL;
    assert_int_equal(mf_store_open(url(), &s), 0);
    return s;
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mfmc-store-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(db, sizeof db, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_open_twice(void **state) {
    (void)state;
    mf_store_t *a = NULL, *b = NULL;
    assert_int_equal(mf_store_open(url(), &a), 0);
    assert_int_equal(mf_store_open(url(), &b), 0); /* the second open finds the schema current */
    int v = 0;
    assert_int_equal(mf_store_schema_version(b, &v), 0);
    assert_int_equal(v, MF_STORE_SCHEMA_VERSION);
    uint8_t k1[32] = {1}, k2[32] = {2}, *o1, *o2;
    size_t l1, l2;
    assert_int_equal(mf_store_secret_get_or_put(a, "master", k1, 32, &o1, &l1), 0);
    assert_int_equal(mf_store_secret_get_or_put(b, "master", k2, 32, &o2, &l2), 0);
    assert_int_equal(l1, 32);
    assert_memory_equal(o1, o2, 32); /* first writer wins */
    free(o1);
    free(o2);
    mf_store_close(a);
    mf_store_close(b);
    assert_int_not_equal(mf_store_open("", &a), 0);
    assert_null(a);
}

static void test_people(void **state) {
    (void)state;
    mf_store_t *s = open_store();
    int64_t ann, bob, cyd;
    assert_int_equal(mf_store_user_create(s, "ann", "h1", &ann), 0);
    assert_int_equal(mf_store_user_create(s, "bob", "h2", &bob), 0);
    assert_int_equal(mf_store_user_create(s, "cyd", "h3", &cyd), 0);
    int64_t dup;
    assert_int_equal(mf_store_user_create(s, "ann", "h", &dup), MF_ERR_ARG);
    mf_store_user u;
    char *h = NULL;
    assert_int_equal(mf_store_user_by_name(s, "bob", &u, &h), 0);
    assert_int_equal(u.id, bob);
    assert_string_equal(h, "h2");
    free(h);
    assert_int_equal(mf_store_user_by_name(s, "nobody", &u, NULL), MF_ERR_NOTFOUND);

    char csrf[MF_STORE_TOKEN_MAX + 1];
    int64_t uid;
    assert_int_equal(mf_store_session_create(s, "tok", ann, "c1", 2000), 0);
    assert_int_equal(mf_store_session_get(s, "tok", 1000, &uid, csrf), 0);
    assert_int_equal(uid, ann);
    assert_string_equal(csrf, "c1");
    assert_int_equal(mf_store_session_get(s, "tok", 3000, &uid, csrf), MF_ERR_NOTFOUND); /* expired */
    assert_int_equal(mf_store_session_delete(s, "tok"), 0);
    assert_int_equal(mf_store_session_get(s, "tok", 1000, &uid, csrf), MF_ERR_NOTFOUND);

    int nf = 0, yes = 1;
    assert_int_equal(mf_store_friend_request(s, ann, bob, &nf), 0);
    assert_int_equal(nf, 0);
    assert_int_equal(mf_store_are_friends(s, ann, bob, &yes), 0);
    assert_int_equal(yes, 0);
    int64_t ids[8];
    int states[8], n;
    assert_int_equal(mf_store_friend_list(s, bob, ids, states, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(states[0], 2); /* a request to bob */
    assert_int_equal(mf_store_friend_request(s, bob, ann, &nf), 0);
    assert_int_equal(nf, 1);
    assert_int_equal(mf_store_are_friends(s, ann, bob, &yes), 0);
    assert_int_equal(yes, 1);
    assert_int_equal(mf_store_are_friends(s, bob, ann, &yes), 0);
    assert_int_equal(yes, 1);
    assert_int_equal(mf_store_friend_request(s, ann, ann, &nf), MF_ERR_ARG);

    float v[4] = {1, 0, 0, 0};
    for (int i = 0; i < MF_STORE_ENROL_MAX; i++)
        assert_int_equal(mf_store_embedding_add(s, bob, "m", v, 4), 0);
    assert_int_equal(mf_store_embedding_add(s, bob, "m", v, 4), MF_ERR_LIMIT);
    int64_t *us;
    float *vs;
    assert_int_equal(mf_store_embedding_all(s, "m", 4, &us, &vs, &n), 0);
    assert_int_equal(n, MF_STORE_ENROL_MAX);
    assert_int_equal(us[0], bob);
    free(us);
    free(vs);
    /* enrolment selfies waiting for analysis: counted until their job is done, dropped with the enrolment */
    const uint8_t selfie[] = "sealed-selfie";
    assert_int_equal(mf_store_enrol_pending(s, bob, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mf_store_job_enrol(s, bob, selfie, sizeof selfie), 0);
    assert_int_equal(mf_store_job_enrol(s, bob, selfie, sizeof selfie), 0);
    assert_int_equal(mf_store_enrol_pending(s, bob, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(mf_store_enrol_pending(s, ann, &n), 0);
    assert_int_equal(n, 0);
    mf_store_job ej;
    assert_int_equal(mf_store_job_claim(s, "n1", 10, 60, &ej), 0);
    assert_int_equal(mf_store_enrol_pending(s, bob, &n), 0);
    assert_int_equal(n, 2); /* running still counts */
    assert_int_equal(mf_store_job_done(s, ej.id), 0);
    assert_int_equal(mf_store_enrol_pending(s, bob, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mf_store_embedding_delete_all(s, bob), 0);
    assert_int_equal(mf_store_embedding_count(s, bob, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mf_store_enrol_pending(s, bob, &n), 0);
    assert_int_equal(n, 0);

    int count = 0;
    assert_int_equal(mf_store_login_fail(s, "ann", 100), 0);
    assert_int_equal(mf_store_login_fail(s, "ann", 101), 0);
    assert_int_equal(mf_store_login_failures(s, "ann", 100, &count), 0);
    assert_int_equal(count, 2);
    mf_store_close(s);
}

static void test_photos(void **state) {
    (void)state;
    mf_store_t *s = open_store();
    mf_store_user ann, bob, cyd;
    assert_int_equal(mf_store_user_by_name(s, "ann", &ann, NULL), 0);
    assert_int_equal(mf_store_user_by_name(s, "bob", &bob, NULL), 0);
    assert_int_equal(mf_store_user_by_name(s, "cyd", &cyd, NULL), 0);
    const uint8_t blob[] = "sealed-bytes", key[] = "wrapped-key";
    int64_t pid;
    assert_int_equal(mf_store_photo_create(s, ann.id, MF_ACCESS_OPEN, blob, sizeof blob, key, sizeof key, &pid), 0);
    mf_store_photo p;
    assert_int_equal(mf_store_photo_get(s, pid, &p), 0);
    assert_int_equal(p.state, MF_PHOTO_PENDING);

    /* the job: claimed once, not again until its lease expires */
    mf_store_job j, j2;
    assert_int_equal(mf_store_job_claim(s, "n1", 1000, 60, &j), 0);
    assert_int_equal(j.kind, MF_JOB_ANALYZE);
    assert_int_equal(j.photo_id, pid);
    assert_int_equal(mf_store_job_claim(s, "n2", 1010, 60, &j2), MF_ERR_NOTFOUND);
    assert_int_equal(mf_store_job_claim(s, "n2", 1100, 60, &j2), 0); /* n1 died: taken again */
    assert_int_equal(j2.id, j.id);
    assert_int_equal(j2.attempts, 2);

    mf_store_face f[2] = {{.x = 1, .y = 2, .w = 30, .h = 40, .user_id = bob.id},
                          {.x = 50, .y = 2, .w = 30, .h = 40, .user_id = 0}};
    uint8_t p0[] = "patch0", p1[] = "patch1";
    uint8_t *patches[2] = {p0, p1};
    size_t plen[2] = {sizeof p0, sizeof p1};
    assert_int_equal(mf_store_photo_finish(s, pid, 100, 80, f, 2, NULL, 0, blob, sizeof blob, patches, plen), 0);
    assert_int_equal(mf_store_job_done(s, j2.id), 0);
    assert_int_equal(mf_store_job_claim(s, "n2", 5000, 60, &j2), MF_ERR_NOTFOUND);
    uint8_t *d;
    size_t dl;
    assert_int_equal(mf_store_photo_blob(s, pid, "original", &d, &dl), MF_ERR_NOTFOUND); /* discarded */
    assert_int_equal(mf_store_face_patch(s, pid, 1, &d, &dl), 0);
    assert_memory_equal(d, p1, sizeof p1);
    free(d);

    int yes = 0;
    assert_int_equal(mf_store_photo_visible(s, bob.id, pid, &yes), 0); /* in it, and a friend */
    assert_int_equal(yes, 1);
    assert_int_equal(mf_store_photo_visible(s, cyd.id, pid, &yes), 0);
    assert_int_equal(yes, 0);
    mf_store_photo feed[4];
    int n;
    assert_int_equal(mf_store_feed(s, cyd.id, 0, feed, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mf_store_feed(s, bob.id, 0, feed, 4, &n), 0);
    assert_int_equal(n, 1);

    mf_store_face pend[4];
    assert_int_equal(mf_store_pending(s, bob.id, pend, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mf_store_faces_of(s, cyd.id, pend, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mf_store_decide(s, ann.id, pid, 0, "approve", 0, 7), MF_ERR_NOTFOUND); /* not ann's face */
    assert_int_equal(mf_store_decide(s, bob.id, pid, 1, "approve", 0, 7), MF_ERR_NOTFOUND); /* unknown face */
    assert_int_equal(mf_store_render_put(s, pid, "k1", blob, sizeof blob), 0);
    assert_int_equal(mf_store_decide(s, bob.id, pid, 0, "approve", MF_AUD_FRIENDS, 7), 0);
    assert_int_equal(mf_store_render_get(s, "k1", &d, &dl), MF_ERR_NOTFOUND); /* renders dropped */
    assert_int_equal(mf_store_photo_get(s, pid, &p), 0);
    assert_int_equal(p.version, 1);
    mf_store_face *fs;
    assert_int_equal(mf_store_faces(s, pid, &fs, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(fs[0].decision, MF_DEC_APPROVED);
    assert_int_equal(fs[0].audience, MF_AUD_FRIENDS);
    free(fs);
    assert_int_equal(mf_store_faces_of(s, bob.id, pend, 4, &n), 0); /* decided: no longer pending, still his */
    assert_int_equal(n, 1);
    assert_int_equal(pend[0].photo_id, pid);
    assert_int_equal(pend[0].idx, 0);
    assert_int_equal(pend[0].decision, MF_DEC_APPROVED);
    assert_int_equal(mf_store_pending(s, bob.id, pend, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mf_store_decide(s, bob.id, pid, 0, "withdraw", 0, 8), 0);
    mf_store_audit au[4];
    assert_int_equal(mf_store_audit_list(s, bob.id, au, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(au[1].action, "withdraw");

    /* bob leaves: his face in ann's photo becomes unknown */
    assert_int_equal(mf_store_user_delete(s, bob.id), 0);
    assert_int_equal(mf_store_faces(s, pid, &fs, &n), 0);
    assert_int_equal(fs[0].user_id, 0);
    assert_int_equal(fs[0].decision, MF_DEC_PENDING);
    free(fs);
    assert_int_equal(mf_store_user_get(s, bob.id, &bob), MF_ERR_NOTFOUND);
    /* ann leaves: her photo goes */
    assert_int_equal(mf_store_user_delete(s, ann.id), 0);
    assert_int_equal(mf_store_photo_get(s, pid, &p), MF_ERR_NOTFOUND);
    mf_store_close(s);
}

static void test_schema2(void **state) {
    (void)state;
    mf_store_t *s = open_store();
    int64_t uid, pid;
    assert_int_equal(mf_store_user_create(s, "eve", "hash", &uid), 0);
    char note[MF_STORE_NAME_MAX + 1];
    assert_int_equal(mf_store_enrol_note_get(s, uid, note), 0);
    assert_string_equal(note, ""); /* no selfie yet */
    assert_int_equal(mf_store_enrol_note_set(s, uid, "several_faces"), 0);
    assert_int_equal(mf_store_enrol_note_get(s, uid, note), 0);
    assert_string_equal(note, "several_faces");
    assert_int_equal(mf_store_enrol_note_set(s, uid, NULL), 0);
    assert_int_equal(mf_store_enrol_note_get(s, uid, note), 0);
    assert_string_equal(note, "");

    const uint8_t blob[] = "sealed", key[] = "key";
    assert_int_equal(mf_store_photo_create(s, uid, MF_ACCESS_STRICT, blob, sizeof blob, key, sizeof key, &pid), 0);
    mf_store_job j, j2;
    assert_int_equal(mf_store_job_claim(s, "n1", 1000, 60, &j), 0);
    assert_int_equal(mf_store_job_touch(s, j.id, "n1", 1050), 0); /* a long analysis renews its lease */
    assert_int_equal(mf_store_job_claim(s, "n2", 1100, 60, &j2), MF_ERR_NOTFOUND);
    assert_int_equal(mf_store_job_touch(s, j.id, "n2", 1200), 0); /* another node's touch changes nothing */
    assert_int_equal(mf_store_job_claim(s, "n2", 1111, 60, &j2), 0);
    assert_int_equal(j2.id, j.id);

    mf_store_face f[2] = {{.w = 10, .h = 10, .user_id = uid, .discarded = 1, .replacement = MF_REPL_SYNTHETIC},
                          {.w = 10, .h = 10, .discarded = 1, .replacement = MF_REPL_UNCONFIRMED}};
    uint8_t p0[] = "own";
    uint8_t *patches[2] = {p0, NULL}; /* the unknown face keeps no patch */
    size_t plen[2] = {sizeof p0, 0};
    mf_store_photo p;
    assert_int_equal(mf_store_photo_get(s, pid, &p), 0);
    assert_int_equal(p.layout, 1); /* the column's default (photos of schema 1) */
    assert_int_equal(mf_store_photo_finish(s, pid, 20, 20, f, 2, NULL, 0, blob, sizeof blob, patches, plen), 0);
    assert_int_equal(mf_store_photo_get(s, pid, &p), 0);
    assert_int_equal(p.layout, 2);
    mf_store_face *fs;
    int n;
    assert_int_equal(mf_store_faces(s, pid, &fs, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(fs[0].replacement, MF_REPL_SYNTHETIC);
    assert_int_equal(fs[1].replacement, MF_REPL_UNCONFIRMED);
    free(fs);
    uint8_t *d;
    size_t dl;
    assert_int_equal(mf_store_face_patch(s, pid, 0, &d, &dl), 0);
    free(d);
    assert_int_equal(mf_store_face_patch(s, pid, 1, &d, &dl), MF_ERR_NOTFOUND);
    assert_int_equal(mf_store_user_delete(s, uid), 0);
    mf_store_close(s);
}

static int64_t enrol_version(mf_store_t *s) {
    int64_t v = -1;
    assert_int_equal(mf_store_enrol_version(s, &v), 0);
    return v;
}

static void test_schema3(void **state) {
    (void)state;
    mf_store_t *s = open_store();
    int64_t uid, vid, pid;
    assert_int_equal(mf_store_user_create(s, "fay", "hash", &uid), 0);
    assert_int_equal(mf_store_user_create(s, "gus", "hash", &vid), 0);
    float a[4] = {1, 0, 0, 0}, b[2] = {0, 1};
    const char *models[2] = {"arcface", "faceapi"};
    const float *vecs[2] = {a, b};
    int dims[2] = {4, 2}, n = -1;
    int64_t v0 = enrol_version(s);
    /* one selfie = one embedding per recognizer, counted once */
    assert_int_equal(mf_store_enrol_add(s, uid, 101, 2, models, vecs, dims), 0);
    assert_true(enrol_version(s) > v0);
    assert_int_equal(mf_store_embedding_count(s, uid, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mf_store_embedding_count_model(s, uid, "faceapi", &n), 0);
    assert_int_equal(n, 1);
    /* a retried job replaces its selfie's rows */
    assert_int_equal(mf_store_enrol_add(s, uid, 101, 2, models, vecs, dims), 0);
    assert_int_equal(mf_store_embedding_count(s, uid, &n), 0);
    assert_int_equal(n, 1);
    int64_t *us;
    float *vs;
    assert_int_equal(mf_store_embedding_all(s, "faceapi", 2, &us, &vs, &n), 0);
    assert_int_equal(n, 1);
    assert_true(us[0] == uid && vs[1] == 1.0f);
    free(us);
    free(vs);
    /* an arcface-only selfie (what schema 2 stored) */
    assert_int_equal(mf_store_embedding_add(s, uid, "arcface", a, 4), 0);
    assert_int_equal(mf_store_embedding_count(s, uid, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(mf_store_embedding_count_model(s, uid, "faceapi", &n), 0);
    assert_int_equal(n, 1);
    /* the cap counts selfies, whatever their recognizers */
    for (int i = 0; i < 3; i++)
        assert_int_equal(mf_store_enrol_add(s, uid, 200 + i, 2, models, vecs, dims), 0);
    assert_int_equal(mf_store_enrol_add(s, uid, 300, 2, models, vecs, dims), MF_ERR_LIMIT);
    assert_int_equal(mf_store_enrol_add(s, uid, 202, 2, models, vecs, dims), 0); /* a retried job at the cap */
    assert_int_equal(mf_store_embedding_count(s, uid, &n), 0);
    assert_int_equal(n, MF_STORE_ENROL_MAX);
    assert_int_equal(mf_store_enrol_add(s, uid, 0, 2, models, vecs, dims), MF_ERR_ARG);
    /* every change moves the version: deleting an enrolment, deleting an account */
    int64_t v1 = enrol_version(s);
    assert_int_equal(mf_store_embedding_delete_all(s, uid), 0);
    int64_t v2 = enrol_version(s);
    assert_true(v2 > v1);
    assert_int_equal(mf_store_enrol_add(s, vid, 400, 2, models, vecs, dims), 0);
    int64_t v3 = enrol_version(s);
    assert_true(v3 > v2);
    assert_int_equal(mf_store_user_delete(s, vid), 0);
    assert_true(enrol_version(s) > v3);

    /* a face's anon_check is stored (never read back), and capped */
    const uint8_t blob[] = "sealed", key[] = "key";
    assert_int_equal(mf_store_photo_create(s, uid, MF_ACCESS_OPEN, blob, sizeof blob, key, sizeof key, &pid), 0);
    char *big = malloc(MF_STORE_CHECK_MAX + 2);
    assert_non_null(big);
    memset(big, 'x', MF_STORE_CHECK_MAX + 1);
    big[MF_STORE_CHECK_MAX + 1] = 0;
    mf_store_face f = {.w = 10, .h = 10, .replacement = MF_REPL_SYNTHETIC, .anon_check = big};
    assert_int_equal(mf_store_photo_finish(s, pid, 20, 20, &f, 1, blob, sizeof blob, blob, sizeof blob, NULL, NULL),
                     MF_ERR_LIMIT);
    free(big);
    f.anon_check = "{\"tries\":2}";
    assert_int_equal(mf_store_photo_finish(s, pid, 20, 20, &f, 1, blob, sizeof blob, blob, sizeof blob, NULL, NULL), 0);
    mf_store_face *fs;
    assert_int_equal(mf_store_faces(s, pid, &fs, &n), 0);
    assert_int_equal(n, 1);
    assert_null(fs[0].anon_check);
    free(fs);
    assert_int_equal(mf_store_user_delete(s, uid), 0);
    mf_store_close(s);
}

/* A schema 2 database with an enrolled embedding (SQLite only: the tables are taken back to schema 2 by hand)
 * migrates to schema 3: the old embedding is one arcface-only selfie. */
static void test_migrate_2_to_3(void **state) {
    (void)state;
    if (strcmp(url(), db)) skip();
    char path[320];
    snprintf(path, sizeof path, "%s/m2.db", dir);
    mf_store_t *s;
    assert_int_equal(mf_store_open(path, &s), 0);
    int64_t uid;
    assert_int_equal(mf_store_user_create(s, "hal", "hash", &uid), 0);
    mf_store_close(s);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    char sql[600];
    snprintf(sql, sizeof sql,
             "DELETE FROM schema_version WHERE version = 3; DROP INDEX embeddings_user; DROP INDEX embeddings_model;"
             "ALTER TABLE embeddings DROP COLUMN selfie; DROP TABLE enrol_version;"
             "ALTER TABLE faces DROP COLUMN anon_check;"
             "INSERT INTO embeddings(user_id, model, vec) VALUES (%lld, 'arcface', x'0000803f');"
             "INSERT INTO embeddings(user_id, model, vec) VALUES (%lld, 'arcface', x'0000803f');",
             (long long)uid, (long long)uid);
    char *err = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fprintf(stderr, "%s\n", err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(mf_store_open(path, &s), 0);
    int v = 0, n = -1;
    assert_int_equal(mf_store_schema_version(s, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(mf_store_embedding_count(s, uid, &n), 0);
    assert_int_equal(n, 2); /* two selfies of schema 2 */
    assert_int_equal(mf_store_embedding_count_model(s, uid, "faceapi", &n), 0);
    assert_int_equal(n, 0); /* arcface only */
    assert_int_equal(mf_store_embedding_count_model(s, uid, "arcface", &n), 0);
    assert_int_equal(n, 2);
    int64_t ver = -1;
    assert_int_equal(mf_store_enrol_version(s, &ver), 0);
    assert_int_equal(ver, 0);
    mf_store_close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_twice), cmocka_unit_test(test_people),  cmocka_unit_test(test_photos),
        cmocka_unit_test(test_schema2),    cmocka_unit_test(test_schema3), cmocka_unit_test(test_migrate_2_to_3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
