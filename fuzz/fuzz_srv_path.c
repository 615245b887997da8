/* libFuzzer target: the server's route matcher on arbitrary URL paths against every pattern shape it uses.
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
    free(url);
    return 0;
}
