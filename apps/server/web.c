/* The web app (issue 13): the files of web/ served as they are (no build step), under a path checker
 * (path.c, fuzzed), with their own Content-Type, CSP and revalidated caching; and GET /api/config, the
 * deployment settings the pages explain. Where web/ is: docs/web.md. */
#include "srv.h"

#include "path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int has_index(const char *dir) {
    char p[sizeof((mf_srv *)0)->web_dir + 16];
    struct stat sb;
    if (snprintf(p, sizeof p, "%s/index.html", dir) >= (int)sizeof p) return 0;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int take(mf_srv *srv, const char *dir) {
    char real[PATH_MAX];
    if (!dir || !*dir || !realpath(dir, real) || !has_index(real) || strlen(real) >= sizeof srv->web_dir) return 0;
    snprintf(srv->web_dir, sizeof srv->web_dir, "%s", real);
    return 1;
}

int mf_srv_web_find(mf_srv *srv, const char *explicit_dir) {
    srv->web_dir[0] = 0;
    if (explicit_dir)
        return take(srv, explicit_dir)
                   ? MF_OK
                   : mf_error_set(MF_ERR_ARG, "--web %s: no index.html in that folder", explicit_dir);
    const char *env = getenv("MFMC_WEB");
    if (env && *env) {
        if (take(srv, env)) return MF_OK;
        mf_srv_log("MFMC_WEB=%s has no index.html: looking next to the binary", env);
    }
    char exe[PATH_MAX], cand[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return MF_OK;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return MF_OK;
    *slash = 0;
    static const char *const rel[] = {"../../web", "../share/mfmc/web", "web"};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
        if (take(srv, cand)) return MF_OK;
    }
    return MF_OK;
}

enum MHD_Result mf_srv_web_file(mf_srv_req *r) {
    char rel[SRV_STATIC_PATH_MAX + 1], path[sizeof r->srv->web_dir + SRV_STATIC_PATH_MAX + 2];
    const char *type = r->srv->web_dir[0] ? mf_srv_static_path(r->url, rel) : NULL;
    if (!type) return mf_srv_reply_error(r, 404, "not_found");
    snprintf(path, sizeof path, "%s/%s", r->srv->web_dir, rel);
    /* the checked path cannot climb out; a symbolic link inside web/ could, so the resolved file must too */
    char real[PATH_MAX];
    size_t dl = strlen(r->srv->web_dir);
    if (!realpath(path, real) || strncmp(real, r->srv->web_dir, dl) || real[dl] != '/')
        return mf_srv_reply_error(r, 404, "not_found");
    uint8_t *data = NULL;
    size_t len = 0;
    if (mf_file_read(real, SRV_STATIC_MAX, &data, &len)) {
        mf_srv_log("web file %s: %s", rel, mf_error_get());
        return mf_srv_reply_error(r, 404, "not_found");
    }
    uint8_t h[16];
    char etag[2 * sizeof h + 3];
    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    etag[0] = '"';
    sodium_bin2hex(etag + 1, 2 * sizeof h + 1, h, sizeof h);
    etag[2 * sizeof h + 1] = '"';
    etag[2 * sizeof h + 2] = 0;
    return mf_srv_reply_static(r, type, data, len, etag);
}

enum MHD_Result mf_srv_config(mf_srv_req *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "access_model",
                            r->srv->access == MF_ACCESS_SEALED   ? "sealed"
                            : r->srv->access == MF_ACCESS_STRICT ? "strict"
                                                                 : "open");
    cJSON_AddNumberToObject(o, "enrol_max", MF_STORE_ENROL_MAX);
    cJSON_AddNumberToObject(o, "upload_max_bytes", SRV_UPLOAD_MAX);
    cJSON_AddNumberToObject(o, "upload_max_side", SRV_UPLOAD_MAX_SIDE);
    cJSON_AddNumberToObject(o, "password_min", SRV_PASSWORD_MIN);
    cJSON_AddNumberToObject(o, "name_max", MF_STORE_NAME_MAX);
    cJSON_AddNumberToObject(o, "thumb_side", SRV_THUMB_SIDE);
    cJSON_AddNumberToObject(o, "medium_side", SRV_MEDIUM_SIDE);
    return mf_srv_reply_json(r, 200, o);
}
