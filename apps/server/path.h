/* Route patterns of the server's URL paths (outside input; fuzzed by fuzz/fuzz_srv_path.c). No dependency but
 * libc, so the fuzzer builds it alone. */
#ifndef MFMC_SRV_PATH_H
#define MFMC_SRV_PATH_H

#include <stdint.h>

enum { SRV_PATH_ARGS = 2 };

/* 1 when `url` matches `pattern` exactly, where '#' in the pattern stands for a decimal number of 1..18 digits
 * (no sign, no leading '+', not followed by a digit); the numbers go to arg[0..SRV_PATH_ARGS-1] in order.
 * 0 otherwise (arg may be partly written). A pattern with more '#' than SRV_PATH_ARGS never matches. */
int mf_srv_path_match(const char *pattern, const char *url, int64_t arg[SRV_PATH_ARGS]);

#endif
