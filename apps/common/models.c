/* Models-root discovery and the checksum check of the catalogue's files, for every mfmc program. */
#include "common/models.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int dir_has(const char *dir, const char *file) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) return 0;
    return access(p, R_OK) == 0;
}

const char *app_models_dir(const char *override) {
    static char buf[4096];
    if (override) return override;
    const char *e = getenv("MFMC_MODELS");
    if (e && *e) return e;
    if (dir_has("models", "human")) return "models";
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 32);
    if (n > 0) {
        buf[n] = '\0';
        for (int up = 0; up < 3; up++) {
            char *s = strrchr(buf, '/');
            if (!s) break;
            *s = '\0';
            char probe[4096];
            if (snprintf(probe, sizeof probe, "%s/models", buf) >= (int)sizeof probe) break;
            if (dir_has(probe, "human")) {
                memcpy(buf, probe, sizeof probe);
                return buf;
            }
        }
    }
    return "models";
}

int app_models_init(void) { return sodium_init() < 0 ? -1 : 0; }

int app_file_sha256(const char *path, char hex[65], long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[1 << 16], out[32];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crypto_hash_sha256_update(&st, buf, n);
        *size += (long)n;
    }
    fclose(f);
    crypto_hash_sha256_final(&st, out);
    sodium_bin2hex(hex, 65, out, 32);
    return 0;
}

int app_model_check(const char *root, const mf_face_model_info *m, char report[2][512]) {
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        report[k][0] = '\0';
        if (!m->files[k]) continue;
        char path[4096], hex[65];
        long size = 0;
        if (snprintf(path, sizeof path, "%s/%s", root, m->files[k]) >= (int)sizeof path ||
            app_file_sha256(path, hex, &size)) {
            snprintf(report[k], sizeof report[k], "%s: missing", m->files[k]);
            ok = 0;
        } else if (strcmp(hex, m->sha256[k])) {
            snprintf(report[k], sizeof report[k], "%s: sha256 MISMATCH", m->files[k]);
            ok = 0;
        } else {
            snprintf(report[k], sizeof report[k], "%s %ld B sha256 ok", m->files[k], size);
        }
    }
    return ok;
}
