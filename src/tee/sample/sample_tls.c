/*
 * vouch-sample-host tls: an attested TLS connection to the sample enclave
 * (docs/enclave-sdk.md, "Sample application").
 *
 * The server end runs inside the enclave (sample_tls_enclave.c): its key,
 * session keys and plaintext never leave the enclave process. The host owns a
 * socket pair: the client (a thread here, standing for any remote client)
 * speaks TLS on one end; the host relays whatever arrives on the other end
 * into the enclave with the sample_tls_io ecall and writes back what the
 * enclave hands out. The client verifies the enclave's certificate with
 * atls.h's verifier: the evidence must chain to the software TEE CA given
 * with --sim-ca, bind the certificate's key, and name the expected
 * measurement (--mrenclave, by default the one the loader reported).
 *
 * Prints one JSON object: the verified peer identity and the enclave's reply.
 * Exit status 0 only when the handshake verified and the reply arrived.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <vouch/atls.h>
#include <vouch/crypto.h>
#include <vouch/enclave_image.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "sample_cmds.h"
#include "sample_u.h"

#define RELAY_CHUNK   16384u
#define RELAY_OUT_CAP 65536u
#define MAX_MESSAGE   1024u

struct client {
    int fd;
    struct vouch_atls_ctx *ctx;
    const char *message;
    vouch_err rc;
    char detail[VOUCH_MAX_ERROR_DETAIL];
    struct vouch_sim_identity peer;
    uint8_t report_data[VOUCH_SIM_REPORT_DATA_LEN];
    char reply[2 + 256 + 2 * MAX_MESSAGE];
};

static int tls_usage(void)
{
    fprintf(stderr, "usage: vouch-sample-host IMAGE tls --sim-ca PEM [--mrenclave HEX] "
                    "[--message TEXT]\n");
    return 2;
}

/* The client: handshake with verification, one request, one reply. */
static void *client_main(void *arg)
{
    struct client *c = arg;
    struct vouch_atls_conn *conn = NULL;
    uint8_t req[2 + MAX_MESSAGE], len[2];
    size_t n = strlen(c->message);

    c->rc = vouch_atls_handshake(c->ctx, c->fd, &conn, c->detail, sizeof c->detail);
    if (c->rc != VOUCH_OK)
        goto out;
    const struct vouch_atls_peer *p = vouch_atls_conn_peer(conn);
    c->peer = p->id;
    memcpy(c->report_data, p->report_data, sizeof c->report_data);
    req[0] = (uint8_t)(n >> 8);
    req[1] = (uint8_t)n;
    memcpy(req + 2, c->message, n);
    if ((c->rc = vouch_atls_write(conn, req, 2 + n)) != VOUCH_OK ||
        (c->rc = vouch_atls_read(conn, len, 2)) != VOUCH_OK)
        goto out;
    n = (size_t)len[0] << 8 | len[1];
    if (n >= sizeof c->reply) {
        c->rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((c->rc = vouch_atls_read(conn, c->reply, n)) != VOUCH_OK)
        goto out;
    c->reply[n] = '\0';
out:
    vouch_atls_conn_free(conn);
    /* The relay sees end of file and stops. */
    shutdown(c->fd, SHUT_RDWR);
    return NULL;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Relays records between the client's socket and the enclave until the
 * client is done. Returns the first enclave-side error, if any. */
static vouch_err relay(struct vouch_enclave *e, int fd)
{
    static uint8_t in[RELAY_CHUNK], out[RELAY_OUT_CAP];
    vouch_err first = VOUCH_OK;
    for (;;) {
        ssize_t n = read(fd, in, sizeof in);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return first;
        size_t give = (size_t)n, out_len = 0;
        do {
            int r = 0;
            vouch_err t = sample_tls_io(e, &r, in, give, out, sizeof out, &out_len);
            if (t != VOUCH_OK)
                return t;
            if (r != VOUCH_OK && first == VOUCH_OK)
                first = r > 0 && r < (int)VOUCH_ERR__COUNT ? (vouch_err)r : VOUCH_ERR_INTERNAL;
            if (out_len && write_all(fd, out, out_len) != 0)
                return first;
            give = 0;
        } while (out_len == sizeof out);
    }
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    vouch_hex_encode(p, n, out);
}

int sample_cmd_tls(struct vouch_enclave *e, int argc, char **argv)
{
    const char *ca_path = NULL, *mr_hex = NULL, *message = "hello from the host's client";
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return tls_usage();
        if (strcmp(argv[i], "--sim-ca") == 0)
            ca_path = argv[i + 1];
        else if (strcmp(argv[i], "--mrenclave") == 0)
            mr_hex = argv[i + 1];
        else if (strcmp(argv[i], "--message") == 0)
            message = argv[i + 1];
        else
            return tls_usage();
    }
    if (!ca_path || strlen(message) > MAX_MESSAGE)
        return tls_usage();

    int rc = 1, sv[2] = {-1, -1}, r = 0;
    bool started = false;
    struct vouch_x509 *ca = NULL;
    struct vouch_atls_ctx *ctx = NULL;
    static uint8_t pem[VOUCH_MAX_CERT_SIZE * 2 + 1];
    uint8_t mr[32];
    size_t pem_len = 0, mr_len = 0;
    struct client c = {.message = message};

    FILE *f = fopen(ca_path, "rb");
    if (f) {
        pem_len = fread(pem, 1, sizeof pem, f);
        fclose(f);
    }
    if (!pem_len || pem_len == sizeof pem || vouch_x509_parse(pem, pem_len, &ca) != VOUCH_OK) {
        fprintf(stderr, "tls: %s is not a readable certificate\n", ca_path);
        goto out;
    }
    if (mr_hex) {
        if (vouch_hex_decode(mr_hex, strlen(mr_hex), mr, sizeof mr, &mr_len) != VOUCH_OK ||
            mr_len != sizeof mr) {
            fprintf(stderr, "tls: --mrenclave must be 64 hex digits\n");
            goto out;
        }
    } else {
        struct vouch_enclave_identity id;
        vouch_enclave_get_identity(e, &id);
        memcpy(mr, id.measurement, sizeof mr);
    }
    struct vouch_atls_verifier v = {
        .now = (int64_t)time(NULL),
        .sim_anchors = &ca,
        .n_sim_anchors = 1,
        .measurement = mr,
    };
    if (vouch_atls_ctx_new(false, NULL, &v, &ctx) != VOUCH_OK) {
        fprintf(stderr, "tls: cannot create the client context\n");
        goto out;
    }

    vouch_err t = sample_tls_start(e, &r, "vouch-sample-enclave");
    if (t != VOUCH_OK || r != VOUCH_OK) {
        fprintf(stderr, "tls: the enclave could not start its TLS server: %s\n",
                vouch_strerror(t != VOUCH_OK                        ? t
                               : r > 0 && r < (int)VOUCH_ERR__COUNT ? (vouch_err)r
                                                                    : VOUCH_ERR_INTERNAL));
        goto out;
    }
    started = true;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        fprintf(stderr, "tls: socketpair: %s\n", strerror(errno));
        goto out;
    }
    c.fd = sv[0];
    c.ctx = ctx;
    pthread_t th;
    if (pthread_create(&th, NULL, client_main, &c) != 0) {
        fprintf(stderr, "tls: cannot start the client thread\n");
        goto out;
    }
    vouch_err relay_rc = relay(e, sv[1]);
    /* The relay stops at the client's end of file, or on an enclave error:
     * then unblock the client before joining it. */
    shutdown(sv[1], SHUT_RDWR);
    pthread_join(th, NULL);

    if (c.rc != VOUCH_OK) {
        fprintf(stderr, "tls: attested TLS to the enclave failed: %s%s%s\n", vouch_strerror(c.rc),
                c.detail[0] ? ": " : "", c.detail);
        if (relay_rc != VOUCH_OK)
            fprintf(stderr, "tls: the enclave side reported: %s\n", vouch_strerror(relay_rc));
        goto out;
    }
    char m[65], s[65], rd[129];
    hex(c.peer.measurement, 32, m);
    hex(c.peer.signer_id, 32, s);
    hex(c.report_data, sizeof c.report_data, rd);
    json_t *o =
        json_pack("{s:b, s:s, s:s, s:i, s:i, s:b, s:s, s:s}", "verified", 1, "mrenclave", m,
                  "mrsigner", s, "product_id", (int)c.peer.product_id, "svn", (int)c.peer.svn,
                  "debug", c.peer.debug, "report_data", rd, "reply", c.reply);
    char *text = NULL;
    if (o && vouch_json_dump(o, 0, &text) == VOUCH_OK) {
        printf("%s\n", text);
        rc = 0;
    }
    vouch_free(text);
    json_decref(o);
out:
    /* Stopping frees the enclave's TLS state; a dead enclave has none. */
    if (started && sample_tls_stop(e) != VOUCH_OK)
        fprintf(stderr, "tls: the enclave did not stop its TLS server\n");
    for (int i = 0; i < 2; i++)
        if (sv[i] >= 0)
            close(sv[i]);
    vouch_atls_ctx_free(ctx);
    vouch_x509_free(ca);
    return rc;
}
