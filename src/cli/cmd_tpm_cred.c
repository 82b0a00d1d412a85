/*
 * `vouch tpm make-credential --ek-pub EK --ak-name HEX --secret-file F --out FILE`:
 * the verifier's TPM2_MakeCredential (vouch_tpm_make_credential), written in
 * tpm2_makecredential's file format so that `tpm2_activatecredential -i FILE`
 * can open it on the TPM that holds the EK and the AK of that Name.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#include "cli/cli.h"
#include "cli/tpm_cred.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vouch tpm make-credential --ek-pub EK.pub --ak-name HEX --secret-file F "
            "--out FILE\n"
            "  EK.pub: the EK's TPM2B_PUBLIC (tpm2_readpublic -o); --ak-name: the AK Name\n"
            "  (nameAlg || digest, hex, as tpm2_createak -n writes it in binary);\n"
            "  --secret-file: the secret, 1-%u raw bytes (as tpm2_makecredential -s reads\n"
            "  it; never on the command line, which other users can read in /proc); the\n"
            "  output is tpm2_makecredential's format, for tpm2_activatecredential -i.\n",
            VOUCH_TPM_MAX_DIGEST);
}

/* Reads the secret (1..cap bytes) from @p path into @p secret. The stdio
 * buffer that held it is wiped too: no copy outlives the command. */
static vouch_err read_secret(const char *path, uint8_t *secret, size_t cap, size_t *len)
{
    uint8_t iobuf[BUFSIZ], extra = 0;
    vouch_err err = VOUCH_ERR_IO;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "vouch: cannot open %s: %s\n", path, strerror(errno));
        return VOUCH_ERR_IO;
    }
    if (setvbuf(f, (char *)iobuf, _IOFBF, sizeof(iobuf)) != 0)
        goto out;
    /* One byte more than fits tells a too-long file from a full one. */
    size_t n = fread(secret, 1, cap, f);
    if (ferror(f) || (n == cap && fread(&extra, 1, 1, f) == 1)) {
        fprintf(stderr, "vouch: %s must hold 1-%zu bytes\n", path, cap);
        err = VOUCH_ERR_INVAL;
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "vouch: %s is empty\n", path);
        err = VOUCH_ERR_INVAL;
        goto out;
    }
    *len = n;
    err = VOUCH_OK;
out:
    fclose(f);
    vouch_wipe(iobuf, sizeof(iobuf));
    vouch_wipe(&extra, sizeof(extra));
    return err;
}

int cli_tpm_make_credential(int argc, char **argv)
{
    const char *ek_path = cli_opt(argc, argv, 3, "--ek-pub", 1);
    const char *name_hex = cli_opt(argc, argv, 3, "--ak-name", 1);
    const char *secret_path = cli_opt(argc, argv, 3, "--secret-file", 1);
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
    if (!ek_path || !name_hex || !secret_path || !out_path || !*ek_path || !*secret_path ||
        !*out_path) {
        usage(stderr);
        goto out;
    }
    if (vouch_hex_decode(name_hex, strlen(name_hex), name, sizeof(name), &name_len) != VOUCH_OK ||
        name_len < 2) {
        fprintf(stderr, "vouch: --ak-name must be the hex of a TPM Name\n");
        goto out;
    }
    ret = VOUCH_EXIT_NO;
    if (read_secret(secret_path, secret, sizeof(secret), &secret_len) != VOUCH_OK)
        goto out;
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
