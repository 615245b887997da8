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

enum { SRV_STATIC_PATH_MAX = 128 }; /* bytes of a file path under the web folder */

/* The file a GET of `url` names under the web folder, written to out (SRV_STATIC_PATH_MAX + 1 bytes): "/" is
 * "index.html"; otherwise `url` must start with '/', hold only [A-Za-z0-9._-] and '/' separators, have no empty
 * segment, no segment starting with '.' (no hidden files) and no ".." anywhere, not end with '/', not start with "/api/"
 * and be at most SRV_STATIC_PATH_MAX bytes. Returns the Content-Type of its extension (html, css, js, mjs, svg,
 * png, ico, json, txt, webmanifest), or NULL when the path is refused or its type unknown (the caller answers
 * 404). The result is relative (no leading '/'), so it is joined under the web folder and never escapes it. */
const char *mf_srv_static_path(const char *url, char *out);

#endif
