/* Route pattern matching (path.h). */
#include "path.h"

#include <stddef.h>
#include <string.h>

int mf_srv_path_match(const char *pattern, const char *url, int64_t arg[SRV_PATH_ARGS]) {
    int na = 0;
    if (!pattern || !url) return 0;
    while (*pattern && *url) {
        if (*pattern == '#') {
            int64_t v = 0;
            int digits = 0;
            while (*url >= '0' && *url <= '9' && digits < 18)
                v = v * 10 + (*url++ - '0'), digits++;
            if (!digits || (*url >= '0' && *url <= '9') || na >= SRV_PATH_ARGS) return 0;
            arg[na++] = v;
            pattern++;
        } else if (*pattern++ != *url++) {
            return 0;
        }
    }
    return !*pattern && !*url;
}

const char *mf_srv_static_path(const char *url, char *out) {
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    out[0] = 0;
    if (!url || url[0] != '/' || !strncmp(url, "/api/", 5)) return NULL;
    if (!strcmp(url, "/")) url = "/index.html";
    size_t n = strlen(url + 1);
    if (n == 0 || n > SRV_STATIC_PATH_MAX) return NULL;
    for (size_t i = 1; url[i]; i++) {
        char c = url[i];
        int seg_start = url[i - 1] == '/';
        if (c == '/') {
            if (seg_start || !url[i + 1]) return NULL; /* empty segment or trailing '/' */
        } else if ((seg_start || url[i - 1] == '.') && c == '.') {
            return NULL; /* ".", "..", hidden files; and ".." anywhere (no name needs it) */
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                     c == '_' || c == '-')) {
            return NULL;
        }
    }
    const char *dot = strrchr(url, '.'), *slash = strrchr(url, '/');
    if (!dot || dot < slash) return NULL;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot, types[i].ext)) {
            memcpy(out, url + 1, n + 1);
            return types[i].type;
        }
    return NULL;
}
