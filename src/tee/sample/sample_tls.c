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

/* ---- tls-pair: mutual attested TLS between two sample enclaves ---- */

static int pair_usage(void)
{
    fprintf(stderr, "usage: vouch-sample-host IMAGE tls-pair --sim-ca PEM [--mrenclave HEX] "
                    "[--server-expects HEX] [--client-expects HEX]\n");
    return 2;
}

static vouch_err ecall_rc(vouch_err t, int r)
{
    if (t != VOUCH_OK)
        return t;
    return r == 0                               ? VOUCH_OK
           : r > 0 && r < (int)VOUCH_ERR__COUNT ? (vouch_err)r
                                                : VOUCH_ERR_INTERNAL;
}

/* Hands @p in to enclave @p e and collects everything it queues for the peer
 * into @p out (*out_len bytes; TOO_LARGE past @p cap). The enclave's own
 * verdict goes to *@p enclave_rc (the first error it reports). */
static vouch_err pair_step(struct vouch_enclave *e, const uint8_t *in, size_t in_len, uint8_t *out,
                           size_t cap, size_t *out_len, vouch_err *enclave_rc)
{
    static const uint8_t none[1];
    *out_len = 0;
    for (;;) {
        size_t n = 0;
        int r = 0;
        if (cap - *out_len < RELAY_CHUNK)
            return VOUCH_ERR_TOO_LARGE;
        vouch_err t =
            sample_tls_io(e, &r, in_len ? in : none, in_len, out + *out_len, RELAY_CHUNK, &n);
        if (t != VOUCH_OK)
            return t;
        if (r != VOUCH_OK && *enclave_rc == VOUCH_OK)
            *enclave_rc = ecall_rc(VOUCH_OK, r);
        *out_len += n;
        in_len = 0;
        if (n < RELAY_CHUNK)
            return VOUCH_OK;
    }
}

static int read_mr(const char *hex_text, uint8_t mr[32])
{
    size_t n = 0;
    return vouch_hex_decode(hex_text, strlen(hex_text), mr, 32, &n) == VOUCH_OK && n == 32 ? 0 : -1;
}

int sample_cmd_tls_pair(struct vouch_enclave *e, const char *image,
                        const struct vouch_enclave_config *cfg, int argc, char **argv)
{
    const char *ca_path = NULL, *both = NULL, *srv_hex = NULL, *cli_hex = NULL;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return pair_usage();
        if (strcmp(argv[i], "--sim-ca") == 0)
            ca_path = argv[i + 1];
        else if (strcmp(argv[i], "--mrenclave") == 0)
            both = argv[i + 1];
        else if (strcmp(argv[i], "--server-expects") == 0)
            srv_hex = argv[i + 1];
        else if (strcmp(argv[i], "--client-expects") == 0)
            cli_hex = argv[i + 1];
        else
            return pair_usage();
    }
    if (!ca_path)
        return pair_usage();

    int rc = 1;
    bool srv_started = false, cli_started = false;
    struct vouch_enclave *client = NULL;
    static uint8_t pem[VOUCH_MAX_CERT_SIZE * 2 + 1];
    static uint8_t to_srv[4 * RELAY_CHUNK], to_cli[4 * RELAY_CHUNK];
    uint8_t srv_mr[32], cli_mr[32];
    size_t pem_len = 0;

    FILE *f = fopen(ca_path, "rb");
    if (f) {
        pem_len = fread(pem, 1, sizeof pem, f);
        fclose(f);
    }
    if (!pem_len || pem_len == sizeof pem) {
        fprintf(stderr, "tls-pair: %s is not a readable certificate\n", ca_path);
        goto out;
    }
    /* By default each side expects this image's measurement (the peer is
     * another instance of it). */
    struct vouch_enclave_identity id;
    vouch_enclave_get_identity(e, &id);
    memcpy(srv_mr, id.measurement, 32);
    memcpy(cli_mr, id.measurement, 32);
    if ((both && (read_mr(both, srv_mr) || read_mr(both, cli_mr))) ||
        (srv_hex && read_mr(srv_hex, srv_mr)) || (cli_hex && read_mr(cli_hex, cli_mr))) {
        fprintf(stderr, "tls-pair: measurements must be 64 hex digits\n");
        goto out;
    }
    /* The second enclave: the same image in its own process. */
    vouch_err t = vouch_enclave_create(image, cfg, &client);
    if (t != VOUCH_OK) {
        fprintf(stderr, "tls-pair: cannot start the second enclave: %s\n", vouch_strerror(t));
        goto out;
    }
    int r = 0;
    t = ecall_rc(sample_tls_start_mutual(e, &r, 1, "vouch-sample-server", pem, pem_len, srv_mr), r);
    srv_started = t == VOUCH_OK;
    if (t == VOUCH_OK) {
        t = ecall_rc(
            sample_tls_start_mutual(client, &r, 0, "vouch-sample-client", pem, pem_len, cli_mr), r);
        cli_started = t == VOUCH_OK;
    }
    if (t != VOUCH_OK) {
        fprintf(stderr, "tls-pair: an enclave could not start its TLS end: %s\n",
                vouch_strerror(t));
        goto out;
    }

    /* The host relays: client's hello first, then flights back and forth
     * until neither side has anything more to say. */
    vouch_err srv_rc = VOUCH_OK, cli_rc = VOUCH_OK;
    size_t n_srv = 0, n_cli = 0;
    t = pair_step(client, NULL, 0, to_srv, sizeof to_srv, &n_srv, &cli_rc);
    for (int round = 0; t == VOUCH_OK && round < 16 && (n_srv || n_cli); round++) {
        t = pair_step(e, to_srv, n_srv, to_cli, sizeof to_cli, &n_cli, &srv_rc);
        n_srv = 0;
        if (t == VOUCH_OK && n_cli)
            t = pair_step(client, to_cli, n_cli, to_srv, sizeof to_srv, &n_srv, &cli_rc);
    }
    if (t != VOUCH_OK) {
        fprintf(stderr, "tls-pair: relaying failed: %s\n", vouch_strerror(t));
        goto out;
    }

    char srv_text[256], cli_text[2 + 256 + 2 * MAX_MESSAGE];
    uint8_t srv_saw[32], cli_saw[32];
    vouch_err sp = ecall_rc(sample_tls_peer(e, &r, srv_saw, srv_text, sizeof srv_text), r);
    vouch_err cp = ecall_rc(sample_tls_peer(client, &r, cli_saw, cli_text, sizeof cli_text), r);
    if (srv_rc != VOUCH_OK || sp != VOUCH_OK)
        fprintf(stderr, "tls-pair: the server enclave refused: %s%s%s\n",
                vouch_strerror(srv_rc != VOUCH_OK ? srv_rc : sp), srv_text[0] ? ": " : "",
                srv_text);
    if (cli_rc != VOUCH_OK || cp != VOUCH_OK)
        fprintf(stderr, "tls-pair: the client enclave refused: %s%s%s\n",
                vouch_strerror(cli_rc != VOUCH_OK ? cli_rc : cp), cli_text[0] ? ": " : "",
                cli_text);
    if (srv_rc != VOUCH_OK || sp != VOUCH_OK || cli_rc != VOUCH_OK || cp != VOUCH_OK)
        goto out;
    if (!cli_text[0]) {
        fprintf(stderr, "tls-pair: the server enclave's reply did not arrive\n");
        goto out;
    }
    struct vouch_enclave_identity cid;
    vouch_enclave_get_identity(client, &cid);
    char a[65], b[65], own_s[65], own_c[65];
    hex(srv_saw, 32, a);
    hex(cli_saw, 32, b);
    hex(id.measurement, 32, own_s);
    hex(cid.measurement, 32, own_c);
    json_t *o = json_pack("{s:b, s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "mutual", 1, "server",
                          "mrenclave", own_s, "peer_mrenclave", a, "client", "mrenclave", own_c,
                          "peer_mrenclave", b, "reply", cli_text);
    char *text = NULL;
    if (o && vouch_json_dump(o, 0, &text) == VOUCH_OK) {
        printf("%s\n", text);
        rc = 0;
    }
    vouch_free(text);
    json_decref(o);
out:
    if (srv_started && sample_tls_stop(e) != VOUCH_OK)
        fprintf(stderr, "tls-pair: the server enclave did not stop its TLS end\n");
    if (cli_started && sample_tls_stop(client) != VOUCH_OK)
        fprintf(stderr, "tls-pair: the client enclave did not stop its TLS end\n");
    if (client)
        vouch_enclave_terminate(client);
    return rc;
}
