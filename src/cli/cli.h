/*
 * The `vouch` command line: a dispatch table in main.c and one file per
 * command group. Exit codes: 0 success, 1 a negative answer (not verified,
 * denied), 2 usage errors.
 */
#ifndef VOUCH_CLI_H
#define VOUCH_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#define VOUCH_EXIT_OK    0
#define VOUCH_EXIT_NO    1
#define VOUCH_EXIT_USAGE 2

/** Reads a whole file (at most VOUCH_MAX_FILE_SIZE); prints the error itself. */
VOUCH_NODISCARD vouch_err cli_read_file(const char *path, uint8_t **out, size_t *len_out);
/** Prints @p o as one compact JSON line on stdout. */
void cli_print_json(const json_t *o);
/** Finds "--name" in argv[from..]: returns its value (or "" for a flag), NULL if absent. */
const char *cli_opt(int argc, char **argv, int from, const char *name, int takes_value);
/** Returns the first positional argument after @p from that is not an option. */
const char *cli_positional(int argc, char **argv, int from, const char *const *value_opts);

int cli_evidence(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_tpm(int argc, char **argv);
int cli_enclave(int argc, char **argv);

#endif
