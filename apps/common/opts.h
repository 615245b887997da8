/* mfmc programs (the command, the server): strict option values and checked output. */
#ifndef MFMC_APP_OPTS_H
#define MFMC_APP_OPTS_H

#include <stdio.h>

/* Exit codes of the mfmc command (docs/cli.md). */
enum { APP_EXIT_OK = 0, APP_EXIT_NOFACE = 1, APP_EXIT_USAGE = 2, APP_EXIT_INTERNAL = 3 };

/* Parses the whole of `text` as a decimal integer in [min, max] into *out. Returns 0, or prints
 * "mfmc CMD: OPT: ..." to stderr (naming the option and the range) and returns APP_EXIT_USAGE for an empty
 * string, trailing characters ("2x"), an out-of-range or overflowing value ("4294967297"). */
int app_parse_int(const char *cmd, const char *opt, const char *text, long min, long max, int *out);

/* Parses the whole of `text` as a finite number with lo < value < hi (open interval) into *out; errors as
 * app_parse_int, also for "nan", "inf", leading blanks and trailing text ("0.5x"). */
int app_parse_float_open(const char *cmd, const char *opt, const char *text, double lo, double hi, float *out);

/* Flushes and closes `f` (named `name` in the message, e.g. "standard output" or a file path) and checks every
 * write reached it. Returns 0, or prints "mfmc: cannot write NAME: REASON" and returns APP_EXIT_INTERNAL. */
int app_close_output(FILE *f, const char *name);

#endif
