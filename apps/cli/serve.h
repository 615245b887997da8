/* `mfmc serve`: runs the server binary mfmc-serve installed next to mfmc (only it links the HTTP and database
 * libraries). */
#ifndef MFMC_CLI_SERVE_H
#define MFMC_CLI_SERVE_H

/* Replaces this process by mfmc-serve with `args` (the arguments after "serve") and `--models models_dir`.
 * Returns only on failure: the exit code (3) after printing why. */
int cli_serve_exec(int argc, char **argv, const char *models_dir);

/* The same for any program `prog` (at most 15 characters) next to mfmc, run for command `cmd` (messages): `mfmc
 * eval` runs mfmc-eval (docs/evaluation.md). */
int cli_exec_sibling(const char *prog, const char *cmd, int argc, char **argv, const char *models_dir);

#endif
