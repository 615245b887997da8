/* Route pattern matching (path.h). */
#include "path.h"

#include <stddef.h>

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
