/* mfmc programs (the command, the server): JSON text helpers. */
#ifndef MFMC_APP_JSON_H
#define MFMC_APP_JSON_H

#include <stdio.h>

/* 1 when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF), else 0. */
int app_utf8_valid(const char *s);

/* Writes `s` as a JSON string literal (with the quotes): '"' and '\' escaped, control characters as \n, \t, ...
 * or \u00XX, well-formed UTF-8 copied, and every byte of an ill-formed sequence as \ufffd (the replacement
 * character: lossy; app_json_hex keeps the bytes). The output is valid JSON for any byte string. */
void app_json_string(FILE *f, const char *s);

/* Writes the bytes of `s` as a JSON string of lowercase hex digits (lossless for any byte string). */
void app_json_hex(FILE *f, const char *s);

/* Writes `"key":<s>` and, when `s` is not valid UTF-8 (so the string shows \ufffd), `,"key_hex":"<bytes in hex>"`
 * as well: a file name survives exactly whatever its bytes. */
void app_json_path_field(FILE *f, const char *key, const char *s);

#endif
