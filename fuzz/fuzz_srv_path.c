/* libFuzzer target: the server's route matcher on arbitrary URL paths against every pattern shape it uses, and
 * the static file path checker of the web app (its result must stay a safe relative path under web/).
 * Input: the URL path bytes (NUL-terminated copy). */
#include "../apps/server/path.c"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const patterns[] = {"/api/photos",
                                           "/api/photos/#",
                                           "/api/photos/#/image",
                                           "/api/photos/#/faces/#/decision",
                                           "/api/friends/#",
                                           "/#/#/#",
                                           "#"};
    char *url = malloc(size + 1);
    if (!url) return 0;
    memcpy(url, data, size);
    url[size] = 0;
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
        int64_t arg[SRV_PATH_ARGS] = {0};
        if (mf_srv_path_match(patterns[i], url, arg) && (arg[0] < 0 || arg[1] < 0)) abort();
    }
    char rel[SRV_STATIC_PATH_MAX + 1];
    const char *type = mf_srv_static_path(url, rel);
    if (type) {
        size_t n = strlen(rel);
        if (!n || n > SRV_STATIC_PATH_MAX || rel[0] == '/' || rel[0] == '.' || strstr(rel, "..") || strstr(rel, "//") ||
            strstr(rel, "/.") || rel[n - 1] == '/')
            abort();
        for (size_t i = 0; i < n; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/", rel[i])) abort();
    } else if (rel[0]) {
        abort(); /* refused paths leave no output */
    }
    free(url);
    return 0;
}
