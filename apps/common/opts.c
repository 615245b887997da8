#include "common/opts.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int app_parse_int(const char *cmd, const char *opt, const char *text, long min, long max, int *out) {
    /* the range must fit an int: callers name limits far below INT_MAX */
    if (min < INT_MIN || max > INT_MAX || min > max) {
        fprintf(stderr, "mfmc %s: %s: bad range\n", cmd, opt);
        return APP_EXIT_USAGE;
    }
    char *end = NULL;
    errno = 0;
    long v = text && *text && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9') || text[0] == '+')
                 ? strtol(text, &end, 10)
                 : 0;
    if (!end || end == text || *end != '\0' || errno == ERANGE || v < min || v > max) {
        fprintf(stderr, "mfmc %s: %s needs a whole number from %ld to %ld, not '%s'\n", cmd, opt, min, max,
                text ? text : "");
        return APP_EXIT_USAGE;
    }
    *out = (int)v;
    return 0;
}

int app_parse_float_open(const char *cmd, const char *opt, const char *text, double lo, double hi, float *out) {
    char *end = NULL;
    errno = 0;
    double v = text && *text && strchr("+-.0123456789", text[0]) ? strtod(text, &end) : NAN;
    if (!end || end == text || *end != '\0' || errno == ERANGE || !isfinite(v) || !(v > lo && v < hi)) {
        fprintf(stderr, "mfmc %s: %s needs a number greater than %g and less than %g, not '%s'\n", cmd, opt, lo, hi,
                text ? text : "");
        return APP_EXIT_USAGE;
    }
    *out = (float)v;
    return 0;
}

int app_close_output(FILE *f, const char *name) {
    errno = 0;
    int bad = fflush(f) != 0 || ferror(f);
    int err = errno;
    if (fclose(f) != 0 && !bad) bad = 1, err = errno;
    if (!bad) return 0;
    fprintf(stderr, "mfmc: cannot write %s: %s\n", name, err ? strerror(err) : "write error");
    return APP_EXIT_INTERNAL;
}
