/* `vouch tpm attest|extend|ak` (cmd_tpm_attest.c), dispatched from cmd_tpm.c. */
#ifndef VOUCH_CLI_TPM_ATTEST_H
#define VOUCH_CLI_TPM_ATTEST_H

#include <stdio.h>

int cli_tpm_attest(int argc, char **argv);
int cli_tpm_extend(int argc, char **argv);
int cli_tpm_ak(int argc, char **argv);
/** The usage lines of the three commands. */
void cli_tpm_agent_usage(FILE *f);

#endif
