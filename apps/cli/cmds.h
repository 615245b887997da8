/* Commands of the mfmc CLI that live in their own files (cmd_*.c). Each takes the arguments after the command
 * name and the models folder, prints its own messages and returns the process exit code (docs/cli.md). */
#ifndef MF_CLI_CMDS_H
#define MF_CLI_CMDS_H

/* mfmc identity train DIR -o FILE [--clean LIST] [--threads N] (src/cli/cmd_identity.c) */
int mf_cli_identity(int argc, char **argv, const char *models);
/* mfmc anonymize INPUT... -o OUT [options] (src/cli/cmd_anonymize.c) */
int mf_cli_anonymize(int argc, char **argv, const char *models);

#endif
