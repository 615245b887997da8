/* `mfmc serve`: execs mfmc-serve from the folder of this binary (see serve.h). */
#include "cli/serve.h"

#include "common/opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_ARGS = 64 };

int cli_serve_exec(int argc, char **argv, const char *models_dir) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (!slash) {
        fprintf(stderr, "mfmc serve: cannot find the folder of this program\n");
        return APP_EXIT_INTERNAL;
    }
    strcpy(slash + 1, "mfmc-serve");
    if (argc > MAX_ARGS - 4) {
        fprintf(stderr, "mfmc serve: too many arguments\n");
        return APP_EXIT_USAGE;
    }
    char *args[MAX_ARGS];
    int k = 0, has_models = 0;
    args[k++] = exe;
    for (int i = 0; i < argc; i++) {
        has_models |= !strcmp(argv[i], "--models");
        args[k++] = argv[i];
    }
    if (!has_models) {
        args[k++] = "--models";
        args[k++] = (char *)models_dir;
    }
    args[k] = NULL;
    fflush(stdout);
    execv(exe, args);
    fprintf(stderr, "mfmc serve: cannot run %s (build it with `make`)\n", exe);
    return APP_EXIT_INTERNAL;
}
