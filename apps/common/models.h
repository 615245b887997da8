/* mfmc programs (the command, the server): where the models root is, and whether its files are the ones the
 * catalogue names (sha256, libsodium: only the programs link it, not libmfmc). */
#ifndef MFMC_APP_MODELS_H
#define MFMC_APP_MODELS_H

#include "mfmc/face.h"

#include <stddef.h>

/* The models root: `override` (--models) when not NULL, else $MFMC_MODELS, ./models, or models/ of the source
 * tree the running binary was built in (up to three folders above it), else "models". The result is `override`,
 * the environment's string or a static buffer. */
const char *app_models_dir(const char *override);

/* sha256 of the file at `path` as 64 hex digits and its size; -1 when unreadable. Needs app_models_init. */
int app_file_sha256(const char *path, char hex[65], long *size);

/* Initialises the hash library (libsodium); -1 on failure. */
int app_models_init(void);

/* Checks the files of catalogue entry `m` under `root` against their sha256. Writes one line per file, each
 * "<file> <size> B sha256 ok", "<file>: missing" or "<file>: sha256 MISMATCH", into report[k] (k < 2; "" when
 * the entry has no such file). Returns 1 when every file is present and matches, else 0. */
int app_model_check(const char *root, const mf_face_model_info *m, char report[2][512]);

#endif
