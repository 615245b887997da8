/* The sha256 of every model file mfmc uses, compiled in from data/models.sha256 (the Makefile generates
 * $(BUILD)/gen/models_sha256.c), so `mfmc models` checks the files from any directory and any install. */
#ifndef MFMC_CLI_MODELS_SHA256_H
#define MFMC_CLI_MODELS_SHA256_H

typedef struct {
    const char *file;   /* relative to the models folder, e.g. "human/facemesh.bin" */
    const char *sha256; /* 64 lowercase hex digits */
} cli_model_sha256;

extern const cli_model_sha256 cli_models_sha256[];
extern const int cli_models_sha256_count;

#endif
