/*
 * vouch-sample-host commands that talk to the world outside the host: remote
 * attestation at vouch-attestd (sample_attest.c) and an attested TLS
 * connection whose server end runs inside the enclave (sample_tls.c). Each
 * takes the started enclave and the command's arguments (argv[0] is the
 * command name) and returns the process exit status.
 */
#ifndef VOUCH_SAMPLE_CMDS_H
#define VOUCH_SAMPLE_CMDS_H

#include <vouch/enclave.h>

/* attest --service URL [--cacert PEM] [--policy FILE] [--data TEXT] */
int sample_cmd_attest(struct vouch_enclave *e, int argc, char **argv);

/* tls --sim-ca PEM [--mrenclave HEX] [--message TEXT] */
int sample_cmd_tls(struct vouch_enclave *e, int argc, char **argv);

/* tls-pair --sim-ca PEM [--mrenclave HEX] [--server-expects HEX]
 * [--client-expects HEX]: starts a second instance of @p image (with @p cfg)
 * and runs mutual attested TLS between the two enclaves (@p e the server),
 * relaying their records. */
int sample_cmd_tls_pair(struct vouch_enclave *e, const char *image,
                        const struct vouch_enclave_config *cfg, int argc, char **argv);

#endif
