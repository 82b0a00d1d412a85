/*
 * `vouch tpm make-credential --ek-pub EK --ak-name HEX --secret HEX --out FILE`:
 * the verifier's TPM2_MakeCredential (vouch_tpm_make_credential), written in
 * tpm2_makecredential's file format so that `tpm2_activatecredential -i FILE`
 * can open it on the TPM that holds the EK and the AK of that Name.
 */
#include <stdio.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#include "cli/cli.h"
#include "cli/tpm_cred.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vouch tpm make-credential --ek-pub EK.pub --ak-name HEX --secret HEX "
               "--out FILE\n"
               "  EK.pub: the EK's TPM2B_PUBLIC (tpm2_readpublic -o); --ak-name: the AK Name\n"
               "  (nameAlg || digest, hex, as tpm2_createak -n writes it in binary); the output\n"
               "  is tpm2_makecredential's format, for tpm2_activatecredential -i.\n");
}

int cli_tpm_make_credential(int argc, char **argv)
{
    const char *ek_path = cli_opt(argc, argv, 3, "--ek-pub", 1);
    const char *name_hex = cli_opt(argc, argv, 3, "--ak-name", 1);
    const char *secret_hex = cli_opt(argc, argv, 3, "--secret", 1);
    const char *out_path = cli_opt(argc, argv, 3, "--out", 1);
    uint8_t *ek_bytes = NULL, name[VOUCH_TPM_MAX_NAME], secret[VOUCH_TPM_MAX_DIGEST];
    uint8_t file[VOUCH_TPM_MAX_CRED_FILE];
    size_t ek_len = 0, name_len = 0, secret_len = 0, file_len = 0;
    struct vouch_tpm_public ek;
    struct vouch_tpm_credential cred;
    FILE *f = NULL;
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    memset(&cred, 0, sizeof(cred));
    if (!ek_path || !name_hex || !secret_hex || !out_path || !*ek_path || !*out_path) {
        usage(stderr);
        goto out;
    }
    if (vouch_hex_decode(name_hex, strlen(name_hex), name, sizeof(name), &name_len) != VOUCH_OK ||
        name_len < 2) {
        fprintf(stderr, "vouch: --ak-name must be the hex of a TPM Name\n");
        goto out;
    }
    if (vouch_hex_decode(secret_hex, strlen(secret_hex), secret, sizeof(secret), &secret_len) !=
            VOUCH_OK ||
        secret_len == 0) {
        fprintf(stderr, "vouch: --secret must be 1-%u bytes of hex\n", VOUCH_TPM_MAX_DIGEST);
        goto out;
    }
    ret = VOUCH_EXIT_NO;
    if (cli_read_file(ek_path, &ek_bytes, &ek_len) != VOUCH_OK)
        goto out;
    if ((rc = vouch_tpm_public_parse(ek_bytes, ek_len, &ek)) != VOUCH_OK) {
        fprintf(stderr, "vouch: %s is not a TPM2B_PUBLIC: %s\n", ek_path, vouch_strerror(rc));
        goto out;
    }
    if ((rc = vouch_tpm_make_credential(&ek, name, name_len, secret, secret_len, &cred)) !=
            VOUCH_OK ||
        (rc = vouch_tpm_credential_file(&cred, file, sizeof(file), &file_len)) != VOUCH_OK) {
        fprintf(stderr, "vouch: make-credential failed: %s\n", vouch_strerror(rc));
        goto out;
    }
    if (!(f = fopen(out_path, "wb")) || fwrite(file, 1, file_len, f) != file_len) {
        fprintf(stderr, "vouch: cannot write %s\n", out_path);
        goto out;
    }
    ret = VOUCH_EXIT_OK;
out:
    if (f && fclose(f) != 0 && ret == VOUCH_EXIT_OK) {
        fprintf(stderr, "vouch: cannot write %s\n", out_path);
        ret = VOUCH_EXIT_NO;
    }
    vouch_wipe(secret, sizeof(secret));
    vouch_wipe(&cred, sizeof(cred));
    vouch_free(ek_bytes);
    return ret;
}
