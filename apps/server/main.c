/* mfmc-serve: `mfmc serve [--db PATH | --db postgres://...] [--listen ADDR:PORT] [--access-model open|sealed|strict]
 * [--workers N] [--models DIR] [--node NAME] [--web DIR] [--insecure-cookies]`. Started by `mfmc serve` (apps/cli/serve.c
 * execs this binary, which alone links libmicrohttpd, SQLite and libpq). Exit codes: 0 after SIGINT/SIGTERM,
 * 2 bad usage, 3 environment (database, models, port). See docs/server.md. */
#include "srv.h"

#include "mfmc/face.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_USAGE = 2, EXIT_ENV = 3 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: mfmc serve [--db PATH | --db postgres://...] [--listen ADDR:PORT]\n"
            "                  [--access-model open|sealed|strict] [--workers N (0..%d, default 1)]\n"
            "                  [--models DIR] [--identity FILE] [--node NAME] [--job-lease SECONDS]\n"
            "                  [--web DIR] [--insecure-cookies]\n"
            "defaults: --db ./mfmc.db --listen 127.0.0.1:8080 (IPv6: [::1]:8080) --access-model open\n"
            "--identity: the anonymizer's identity model (default $MFMC_IDENTITY, else\n"
            "data/identity/synthetic-v1.mfid here or beside the program's source tree).\n"
            "--insecure-cookies drops the Secure flag of the cookies (plain-http tests on loopback only).\n"
            "--web DIR serves the web app from DIR (default: $MFMC_WEB, else web/ of the source tree or\n"
            "share/mfmc/web next to the binary); without one only /api/ is served.\n"
            "The master key sealing stored photos is read from $MFMC_SERVER_KEY_FILE (32 bytes) when set,\n"
            "else kept in the database (see docs/server.md).\n",
            SRV_WORKERS_MAX);
}

static int parse_int(const char *v, int lo, int hi, int *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

/* The anonymizer's identity model: --identity, $MFMC_IDENTITY, ./data/identity/synthetic-v1.mfid, or that path
 * in one of the three folders above the program (the source tree of build/rel/mfmc-serve). */
static const char *identity_path(void) {
    static char found[4200];
    const char *rel = "data/identity/synthetic-v1.mfid", *e = getenv("MFMC_IDENTITY");
    if (e && *e) return e;
    if (!access(rel, R_OK)) return rel;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return rel;
    exe[n] = 0;
    for (int up = 0; up < 3; up++) {
        char *sl = strrchr(exe, '/');
        if (!sl) break;
        *sl = 0;
        snprintf(found, sizeof found, "%s/%s", exe, rel);
        if (!access(found, R_OK)) return found;
    }
    return rel;
}

static int master_key(mf_srv *srv, mf_store_t *st) {
    const char *path = getenv("MFMC_SERVER_KEY_FILE");
    uint8_t *k = NULL;
    size_t kl = 0;
    int s;
    if (path && *path) {
        s = mf_file_read(path, 4096, &k, &kl);
        if (!s && kl != crypto_secretbox_KEYBYTES)
            s = mf_error_set(MF_ERR_FORMAT, "%s: a key file holds exactly %d bytes", path, crypto_secretbox_KEYBYTES);
    } else {
        uint8_t fresh[crypto_secretbox_KEYBYTES];
        crypto_secretbox_keygen(fresh);
        s = mf_store_secret_get_or_put(st, "master_key", fresh, sizeof fresh, &k, &kl);
        sodium_memzero(fresh, sizeof fresh);
        if (!s && kl != crypto_secretbox_KEYBYTES) s = mf_error_set(MF_ERR_FORMAT, "stored master key damaged");
    }
    if (!s) memcpy(srv->master, k, sizeof srv->master);
    if (k) sodium_memzero(k, kl);
    free(k);
    return s;
}

int main(int argc, char **argv) {
    static mf_srv srv;
    const char *listen = "127.0.0.1:8080", *web = NULL;
    srv.db_url = "./mfmc.db";
    srv.access = MF_ACCESS_OPEN;
    srv.secure_cookies = 1;
    srv.workers = 1;
    srv.job_lease = SRV_JOB_LEASE;
    srv.models = getenv("MFMC_MODELS") && *getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    srv.replace = mf_srv_replace_baseline; /* layout-1 photos only */
    snprintf(srv.node, sizeof srv.node, "%ld", (long)getpid());
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--insecure-cookies") && strcmp(a, "-h") && strcmp(a, "--help");
        if (takes && !v) {
            fprintf(stderr, "mfmc serve: %s needs a value\n", a);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--insecure-cookies")) {
            srv.secure_cookies = 0;
            continue;
        } else if (!strcmp(a, "--db")) {
            srv.db_url = v;
        } else if (!strcmp(a, "--listen")) {
            listen = v;
        } else if (!strcmp(a, "--web")) {
            web = v;
        } else if (!strcmp(a, "--models")) {
            srv.models = v;
        } else if (!strcmp(a, "--identity")) {
            srv.identity = v;
        } else if (!strcmp(a, "--node")) {
            if (strlen(v) >= sizeof srv.node) {
                fprintf(stderr, "mfmc serve: --node name too long\n");
                return EXIT_USAGE;
            }
            snprintf(srv.node, sizeof srv.node, "%s", v);
        } else if (!strcmp(a, "--workers")) {
            if (parse_int(v, 0, SRV_WORKERS_MAX, &srv.workers)) {
                fprintf(stderr, "mfmc serve: --workers takes 0..%d\n", SRV_WORKERS_MAX);
                return EXIT_USAGE;
            }
        } else if (!strcmp(a, "--job-lease")) {
            if (parse_int(v, 1, 86400, &srv.job_lease)) {
                fprintf(stderr, "mfmc serve: --job-lease takes 1..86400 seconds\n");
                return EXIT_USAGE;
            }
        } else if (!strcmp(a, "--access-model")) {
            srv.access = !strcmp(v, "open")     ? MF_ACCESS_OPEN
                         : !strcmp(v, "sealed") ? MF_ACCESS_SEALED
                         : !strcmp(v, "strict") ? MF_ACCESS_STRICT
                                                : -1;
            if (srv.access < 0) {
                fprintf(stderr, "mfmc serve: --access-model takes open, sealed or strict\n");
                return EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "mfmc serve: unknown argument %s\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
        i++;
    }
    char host[64];
    int port = 0;
    const char *colon = strrchr(listen, ':'), *h0 = listen;
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    if (colon && hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') { /* [IPv6]:PORT */
        h0 = listen + 1;
        hl -= 2;
    } else if (colon && memchr(listen, ':', hl)) {
        hl = 0; /* a bare IPv6 address needs its brackets */
    }
    if (!colon || !hl || hl >= sizeof host || parse_int(colon + 1, 1, 65535, &port)) {
        fprintf(stderr, "mfmc serve: --listen takes ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080\n");
        return EXIT_USAGE;
    }
    memcpy(host, h0, hl);
    host[hl] = 0;
    if (sodium_init() < 0) {
        fprintf(stderr, "mfmc serve: libsodium does not initialise\n");
        return EXIT_ENV;
    }
    for (int i = 0; i < mf_face_recognizer_count(); i++)
        if (mf_face_recognizer_info_at(i)->primary) {
            srv.recognizer = mf_face_recognizer_info_at(i)->name;
            srv.match_threshold = mf_face_recognizer_info_at(i)->match_threshold;
            srv.dim = mf_face_recognizer_info_at(i)->dim;
        }
    if (!srv.recognizer) return EXIT_ENV;
    if (!srv.identity) srv.identity = identity_path();
    if (crypto_pwhash_str(srv.dummy_hash, "mfmc-dummy-password", 19, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE))
        return EXIT_ENV;
    /* block the stop signals in every thread; main waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (mf_srv_web_find(&srv, web)) {
        fprintf(stderr, "mfmc serve: %s\n", mf_error_get());
        return EXIT_USAGE;
    }
    pthread_key_create(&srv.store_key, mf_srv_store_destroy);
    mf_store_t *st = NULL;
    int s = mf_store_open(srv.db_url, &st); /* migrations run here, before any request */
    if (!s) s = master_key(&srv, st);
    mf_store_close(st);
    if (!s) s = mf_srv_jobs_start(&srv);
    if (!s) s = mf_srv_http_start(&srv, host, port);
    if (s) {
        fprintf(stderr, "mfmc serve: %s\n", mf_error_get());
        mf_srv_jobs_stop(&srv);
        return s == MF_ERR_ARG ? EXIT_USAGE : EXIT_ENV;
    }
    mf_srv_log("listening on %s%s%s:%d, %s store, access model %s, %d worker(s), node %s", strchr(host, ':') ? "[" : "",
               host, strchr(host, ':') ? "]" : "", port,
               strncmp(srv.db_url, "postgres", 8) ? "sqlite" : "postgres",
               srv.access == MF_ACCESS_OPEN     ? "open"
               : srv.access == MF_ACCESS_SEALED ? "sealed"
                                                : "strict",
               srv.workers, srv.node);
    mf_srv_log(srv.web_dir[0] ? "web app from %s" : "no web app folder found%s: only /api/ is served", srv.web_dir);
    int sig = 0;
    sigwait(&sigs, &sig);
    mf_srv_log("stopping (signal %d)", sig);
    mf_srv_http_stop(&srv);
    mf_srv_jobs_stop(&srv);
    return 0;
}
