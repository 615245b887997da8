/* Shared by the image tools of tests/tools (serve-img, chroma-img): argument parsing and the error exit. Each tool
 * defines TOOL_NAME (its name in messages) before including this header. */
#ifndef MFMC_TESTS_TOOL_ARGS_H
#define MFMC_TESTS_TOOL_ARGS_H

#include "mfmc/image.h"

#include <stdio.h>
#include <stdlib.h>

/* *out = the decimal integer s, when all of s is one and lo <= it <= hi; returns 0, else -1 (out untouched). */
static int num(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

/* Prints "TOOL_NAME: what[: the library's last error]" on stderr; returns 1 (the tools' exit status). */
static int die(const char *what) {
    fprintf(stderr, TOOL_NAME ": %s%s%s\n", what, *mf_error_get() ? ": " : "", mf_error_get());
    return 1;
}

#endif
