/*
 * vouch-sample-host: the untrusted half of the sample enclave application
 * (docs/enclave-sdk.md). Starts the signed sample enclave and runs one
 * command through the generated stubs of sample.edl.
 *
 * usage: vouch-sample-host [--platform-dir DIR] [--loader PATH] IMAGE COMMAND ...
 *   greet NAME                      print the enclave's greeting
 *   identity                        print the measured identity as JSON
 *   evidence REPORT_DATA_HEX OUT    write evidence binding 64 bytes of report data
 *   seal unique|product IN OUT      seal the file IN to the enclave
 *   unseal IN OUT                   unseal a blob made by seal
 *   ping N                          N empty switchless ecalls; print the mean
 *   attest --service URL [--cacert PEM] [--policy FILE] [--data TEXT]
 *                                   attest at vouch-attestd; print the token
 *                                   (sample_attest.c)
 *   tls --sim-ca PEM [--mrenclave HEX] [--message TEXT]
 *                                   attested TLS to the enclave's own TLS end
 *                                   (sample_tls.c)
 *   tls-pair --sim-ca PEM [--mrenclave HEX] [--server-expects HEX] [--client-expects HEX]
 *                                   mutual attested TLS between this enclave and
 *                                   a second instance (sample_tls.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/seal.h>

#include "sample_cmds.h"
#include "sample_u.h"

#define MAX_SECRET (64u * 1024u)
#define BLOB_CAP   (MAX_SECRET + 256u)

void sample_host_print(const char *line)
{
    fprintf(stderr, "%s\n", line);
}

static int usage(void)
{
    fprintf(stderr, "usage: vouch-sample-host [--platform-dir DIR] [--loader PATH] IMAGE "
                    "greet NAME | identity | evidence HEX OUT | seal unique|product IN OUT | "
                    "unseal IN OUT | ping N | attest --service URL [--cacert PEM] "
                    "[--policy FILE] [--data TEXT] | tls --sim-ca PEM [--mrenclave HEX] "
                    "[--message TEXT] | tls-pair --sim-ca PEM [--mrenclave HEX] "
                    "[--server-expects HEX] [--client-expects HEX]\n");
    return 2;
}

static int read_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    *len = fread(buf, 1, cap, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    return more ? -1 : 0;
}

static int write_file(const char *path, const uint8_t *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(p, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Transport error first, then the enclave function's own result (read
 * after the call: callers store the call's result before calling this). */
static int check(const char *what, vouch_err transport, int result)
{
    if (transport != VOUCH_OK) {
        fprintf(stderr, "%s: call failed: %s\n", what, vouch_strerror(transport));
        return 1;
    }
    if (result != VOUCH_OK) {
        fprintf(stderr, "%s: enclave says: %s\n", what,
                vouch_strerror(result > 0 && result < VOUCH_ERR__COUNT ? (vouch_err)result
                                                                       : VOUCH_ERR_INTERNAL));
        return 1;
    }
    return 0;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int run(struct vouch_enclave *e, int argc, char **argv)
{
    const char *cmd = argv[0];
    int r = 0;
    if (strcmp(cmd, "greet") == 0 && argc == 2) {
        char msg[256];
        vouch_err t = sample_greet(e, &r, argv[1], msg, sizeof msg);
        if (check("greet", t, r))
            return 1;
        printf("%s\n", msg);
        return 0;
    }
    if (strcmp(cmd, "identity") == 0 && argc == 1) {
        struct vouch_enclave_identity id;
        char m[65], s[65];
        vouch_enclave_get_identity(e, &id);
        hex(id.measurement, 32, m);
        hex(id.signer_id, 32, s);
        printf("{\"measurement\":\"%s\",\"signer_id\":\"%s\",\"product_id\":%u,"
               "\"security_version\":%u,\"debug\":%s}\n",
               m, s, (unsigned)id.product_id, (unsigned)id.svn, id.debug ? "true" : "false");
        return 0;
    }
    if (strcmp(cmd, "evidence") == 0 && argc == 3) {
        uint8_t rd[64] = {0};
        size_t hl = strlen(argv[1]);
        if (hl > 128 || hl % 2)
            return usage();
        for (size_t i = 0; i < hl / 2; i++) {
            unsigned v;
            if (sscanf(argv[1] + 2 * i, "%2x", &v) != 1)
                return usage();
            rd[i] = (uint8_t)v;
        }
        uint8_t *ev = vouch_malloc(VOUCH_MAX_EVIDENCE_SIZE);
        size_t ev_len = 0;
        if (!ev)
            return 1;
        vouch_err t = sample_evidence(e, &r, rd, ev, VOUCH_MAX_EVIDENCE_SIZE, &ev_len);
        int rc = check("evidence", t, r);
        if (!rc && write_file(argv[2], ev, ev_len) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[2]);
            rc = 1;
        }
        vouch_free(ev);
        return rc;
    }
    if (strcmp(cmd, "seal") == 0 && argc == 4) {
        unsigned policy = strcmp(argv[1], "unique") == 0    ? VOUCH_SEAL_POLICY_UNIQUE
                          : strcmp(argv[1], "product") == 0 ? VOUCH_SEAL_POLICY_PRODUCT
                                                            : 0u;
        static uint8_t in[MAX_SECRET], blob[BLOB_CAP];
        size_t len = 0, blob_len = 0;
        if (!policy)
            return usage();
        if (read_file(argv[2], in, sizeof in, &len) != 0) {
            fprintf(stderr, "cannot read %s (at most %u bytes)\n", argv[2], MAX_SECRET);
            return 1;
        }
        vouch_err t = sample_seal(e, &r, policy, in, len, blob, sizeof blob, &blob_len);
        int rc = check("seal", t, r);
        vouch_wipe(in, sizeof in);
        if (!rc && write_file(argv[3], blob, blob_len) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[3]);
            rc = 1;
        }
        return rc;
    }
    if (strcmp(cmd, "unseal") == 0 && argc == 3) {
        static uint8_t blob[BLOB_CAP], out[MAX_SECRET];
        size_t len = 0, out_len = 0;
        if (read_file(argv[1], blob, sizeof blob, &len) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[1]);
            return 1;
        }
        vouch_err t = sample_unseal(e, &r, blob, len, out, sizeof out, &out_len);
        int rc = check("unseal", t, r);
        if (!rc && write_file(argv[2], out, out_len) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[2]);
            rc = 1;
        }
        vouch_wipe(out, sizeof out);
        return rc;
    }
    if (strcmp(cmd, "ping") == 0 && argc == 2) {
        long n = strtol(argv[1], NULL, 10);
        if (n <= 0 || n > 100000000L)
            return usage();
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < n; i++)
            if (check("ping", sample_ping(e), VOUCH_OK))
                return 1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double us =
            ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
            (double)n;
        printf("{\"calls\":%ld,\"mean_us\":%.3f}\n", n, us);
        return 0;
    }
    if (strcmp(cmd, "attest") == 0)
        return sample_cmd_attest(e, argc, argv);
    if (strcmp(cmd, "tls") == 0)
        return sample_cmd_tls(e, argc, argv);
    return usage();
}

int main(int argc, char **argv)
{
    struct vouch_enclave_config cfg = {.ocalls = sample_ocall_table,
                                       .ocall_count = sample_ocall_count};
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--platform-dir") == 0)
            cfg.platform_dir = argv[i + 1];
        else if (strcmp(argv[i], "--loader") == 0)
            cfg.loader_path = argv[i + 1];
        else
            return usage();
    }
    if (argc - i < 2)
        return usage();
    struct vouch_enclave *e = NULL;
    vouch_err err = vouch_enclave_create(argv[i], &cfg, &e);
    if (err != VOUCH_OK) {
        fprintf(stderr, "cannot start the enclave %s: %s\n", argv[i], vouch_strerror(err));
        return 1;
    }
    int rc = strcmp(argv[i + 1], "tls-pair") == 0
                 ? sample_cmd_tls_pair(e, argv[i], &cfg, argc - i - 1, argv + i + 1)
                 : run(e, argc - i - 1, argv + i + 1);
    vouch_enclave_terminate(e);
    return rc;
}
