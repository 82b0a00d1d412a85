/* `vouch`: dispatch to the command groups. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/version.h>

#include "cli/cli.h"

vouch_err cli_read_file(const char *path, uint8_t **out, size_t *len_out)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    int fd;
    vouch_err rc = VOUCH_ERR_IO;

    *out = NULL;
    *len_out = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "vouch: %s: %s\n", path, strerror(errno));
        return VOUCH_ERR_IO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "vouch: %s: not a regular file\n", path);
        goto out;
    }
    if ((uint64_t)st.st_size > VOUCH_MAX_FILE_SIZE) {
        fprintf(stderr, "vouch: %s: larger than %u bytes\n", path, VOUCH_MAX_FILE_SIZE);
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    buf = vouch_malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "vouch: %s: read failed\n", path);
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = 0;
    *out = buf;
    *len_out = got;
    buf = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(buf);
    close(fd);
    return rc;
}

void cli_print_json(const json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

const char *cli_opt(int argc, char **argv, int from, const char *name, int takes_value)
{
    for (int i = from; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            if (!takes_value)
                return "";
            return i + 1 < argc ? argv[i + 1] : NULL;
        }
    }
    return NULL;
}

const char *cli_positional(int argc, char **argv, int from, const char *const *value_opts)
{
    for (int i = from; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            for (const char *const *v = value_opts; v && *v; v++) {
                if (strcmp(argv[i], *v) == 0) {
                    i++;
                    break;
                }
            }
            continue;
        }
        return argv[i];
    }
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vouch <command> ...\n"
            "\n"
            "  enclave keygen --out KEY.pem\n"
            "  enclave sign --key KEY.pem --config CONFIG.json --out IMAGE ENCLAVE.so [--json]\n"
            "  enclave measure IMAGE | ENCLAVE.so --config CONFIG.json [--key KEY.pem] [--json]\n"
            "  evidence inspect FILE [--json]\n"
            "  evidence verify FILE [--collateral F] [--vcek F] [--crl F] [--at TIME] [--json]\n"
            "                  [--sim-ca F]\n"
            "  policy eval POLICY_FILE --claims CLAIMS.json [--json]\n"
            "  token verify TOKEN_FILE (--jwks F | --issuer URL) [--at TIME] [--json]\n"
            "  tpm replay LOG [--json]\n"
            "  tpm verify --quote F --sig F --ak F --pcrs F [--log F]\n"
            "             (--nonce HEX | --no-nonce) [--allow-sha1] [--json]\n"
            "  tpm extend --tcti TCTI LOG\n"
            "  tpm ak --tcti TCTI [--ak-ecc] [--json]\n"
            "  tpm attest --tcti TCTI --service URL --log LOG [--ek-activation | --ak-cert F] ...\n"
            "  tpm make-credential --ek-pub F --ak-name HEX --secret-file F --out F\n"
            "  version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (strcmp(argv[1], "evidence") == 0)
        return cli_evidence(argc, argv);
    if (strcmp(argv[1], "policy") == 0)
        return cli_policy(argc, argv);
    if (strcmp(argv[1], "token") == 0)
        return cli_token(argc, argv);
    if (strcmp(argv[1], "tpm") == 0)
        return cli_tpm(argc, argv);
    if (strcmp(argv[1], "enclave") == 0)
        return cli_enclave(argc, argv);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("vouch %s\n", vouch_version_string());
        return VOUCH_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return VOUCH_EXIT_OK;
    }
    fprintf(stderr, "vouch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return VOUCH_EXIT_USAGE;
}
