#include "mfmc/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MF_ERR_BUF = 1024 };
static _Thread_local char err_buf[MF_ERR_BUF];

int mf_error_set(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return status;
}

int mf_error_prefix(int status, const char *fmt, ...) {
    char head[256], old[MF_ERR_BUF];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err_buf, sizeof old);
    /* truncation of very long messages is acceptable; build the result piecewise to keep -Wformat happy */
    size_t h = strlen(head);
    if (h > sizeof err_buf - 3) h = sizeof err_buf - 3;
    memcpy(err_buf, head, h);
    err_buf[h] = ':';
    err_buf[h + 1] = ' ';
    size_t rest = sizeof err_buf - h - 3;
    size_t o = strnlen(old, rest);
    memcpy(err_buf + h + 2, old, o);
    err_buf[h + 2 + o] = '\0';
    return status;
}

const char *mf_error_get(void) { return err_buf; }

void mf_error_clear(void) { err_buf[0] = '\0'; }

const char *mf_status_name(int status) {
    switch (status) {
    case MF_OK: return "ok";
    case MF_ERR_IO: return "io";
    case MF_ERR_FORMAT: return "format";
    case MF_ERR_UNSUPPORTED: return "unsupported";
    case MF_ERR_LIMIT: return "limit";
    case MF_ERR_NOMEM: return "nomem";
    case MF_ERR_ARG: return "arg";
    case MF_ERR_NOTFOUND: return "notfound";
    case MF_ERR_MODEL: return "model";
    default: return "unknown";
    }
}

void mf_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "mfmc: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

int mf_file_read(const char *path, size_t max_bytes, uint8_t **data, size_t *len) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return mf_error_set(MF_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return mf_error_set(MF_ERR_NOMEM, "out of memory reading %s", path);
    }
    errno = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= max_bytes) {
                free(buf);
                fclose(f);
                return mf_error_set(MF_ERR_LIMIT, "%s is larger than the limit of %zu bytes", path, max_bytes);
            }
            size_t ncap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return mf_error_set(MF_ERR_NOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f) ? (errno ? errno : EIO) : 0; /* fread sets errno (EISDIR for a directory) */
    fclose(f);
    if (err) {
        free(buf);
        return mf_error_set(MF_ERR_IO, "cannot read %s: %s", path, strerror(err));
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return MF_OK;
}
