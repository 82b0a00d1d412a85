/* `vouch tpm make-credential` (cmd_tpm_cred.c), dispatched from cmd_tpm.c. */
#ifndef VOUCH_CLI_TPM_CRED_H
#define VOUCH_CLI_TPM_CRED_H

int cli_tpm_make_credential(int argc, char **argv);

#endif
