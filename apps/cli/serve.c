/* `mfmc serve` and `mfmc eval`: exec mfmc-serve / mfmc-eval from the folder of this binary (see serve.h). */
#include "cli/serve.h"

#include "common/opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_ARGS = 64 };

int cli_exec_sibling(const char *prog, const char *cmd, int argc, char **argv, const char *models_dir) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (!slash) {
        fprintf(stderr, "mfmc %s: cannot find the folder of this program\n", cmd);
        return APP_EXIT_INTERNAL;
    }
    if (strlen(prog) > 15) return APP_EXIT_INTERNAL;
    strcpy(slash + 1, prog);
    if (argc > MAX_ARGS - 4) {
        fprintf(stderr, "mfmc %s: too many arguments\n", cmd);
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
    fprintf(stderr, "mfmc %s: cannot run %s (build it with `make`)\n", cmd, exe);
    return APP_EXIT_INTERNAL;
}

int cli_serve_exec(int argc, char **argv, const char *models_dir) {
    return cli_exec_sibling("mfmc-serve", "serve", argc, argv, models_dir);
}
