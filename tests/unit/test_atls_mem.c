/* Attested TLS over memory buffers (vouch/atls_mem.h): the server end driven
 * by pushing and pulling bytes, against a real attested TLS client over a
 * socketpair whose other end this test relays by hand, as an enclave's host
 * does; mutual attested TLS with both ends in memory (two enclaves whose host
 * relays), including each side refusing the other's measurement. Also: bad
 * arguments, garbage from the peer, the pending limit. */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vouch/atls.h>
#include <vouch/atls_mem.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/sim.h>

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static char tmpdir[64];
static struct vouch_sim_platform *plat;
static struct vouch_x509 *anchor;

static const struct vouch_sim_identity id_a = {
    .measurement = {0xa1, [31] = 0xa1}, .signer_id = {0x5a}, .product_id = 1, .svn = 2};
static const struct vouch_sim_identity id_b = {
    .measurement = {0xb2, [31] = 0xb2}, .signer_id = {0x5a}, .product_id = 1, .svn = 2};

/* Signs as @p ctx's identity (a struct vouch_sim_identity), id_a when NULL. */
static vouch_err get_evidence(void *ctx, const uint8_t rd[64], uint8_t *ev, size_t cap,
                              size_t *ev_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    const struct vouch_sim_identity *id = ctx ? ctx : &id_a;
    vouch_err rc = vouch_sim_report_sign(plat, id, rd, T0, &buf, &len);
    if (rc != VOUCH_OK)
        return rc;
    if (len > cap) {
        vouch_free(buf);
        return VOUCH_ERR_TOO_LARGE;
    }
    memcpy(ev, buf, len);
    *ev_len = len;
    vouch_free(buf);
    return VOUCH_OK;
}

static struct vouch_atls_cred *make_cred(void)
{
    struct vouch_atls_cred *c = NULL;
    struct vouch_atls_cred_spec spec = {
        .common_name = "enclave", .now = T0, .lifetime = 3600, .evidence = get_evidence};
    assert_int_equal(vouch_atls_cred_new(&spec, &c), VOUCH_OK);
    return c;
}

static int setup(void **state)
{
    char path[128];
    const uint8_t *der;
    size_t len;
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    strcpy(tmpdir, "/tmp/vouch-atlsmem-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(path, sizeof(path), "%s/p", tmpdir);
    if (vouch_sim_platform_open(path, T0 - 86400, &plat) != VOUCH_OK)
        return -1;
    vouch_sim_platform_ca_der(plat, &der, &len);
    return vouch_x509_parse_der(der, len, &anchor) == VOUCH_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    vouch_sim_platform_free(plat);
    vouch_x509_free(anchor);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- a real client against the memory server ---- */

struct client {
    struct vouch_atls_ctx *ctx;
    int fd;
    vouch_err hs_rc, io_rc;
    char heard[5];
    struct vouch_sim_identity peer;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct vouch_atls_conn *conn = NULL;
    c->io_rc = VOUCH_ERR_INTERNAL;
    c->hs_rc = vouch_atls_handshake(c->ctx, c->fd, &conn, NULL, 0);
    if (c->hs_rc == VOUCH_OK) {
        c->peer = vouch_atls_conn_peer(conn)->id;
        c->io_rc = vouch_atls_write(conn, "ping", 4);
        if (c->io_rc == VOUCH_OK)
            c->io_rc = vouch_atls_read(conn, c->heard, 4);
    }
    vouch_atls_conn_free(conn);
    shutdown(c->fd, SHUT_RDWR);
    return NULL;
}

/* Relays between the socket and @p m until the client is done; answers
 * "pong" to "ping". Returns what the server read. */
static void relay(struct vouch_atls_mem *m, int fd, char got[5], vouch_err *push_rc)
{
    uint8_t in[16384], out[4096];
    size_t have = 0;
    bool answered = false;
    *push_rc = VOUCH_OK;
    for (;;) {
        ssize_t n = read(fd, in, sizeof in);
        if (n <= 0)
            break;
        vouch_err rc = vouch_atls_mem_push(m, in, (size_t)n);
        if (rc != VOUCH_OK && *push_rc == VOUCH_OK)
            *push_rc = rc;
        if (rc == VOUCH_OK && !answered && have < 4) {
            size_t k = 0;
            rc = vouch_atls_mem_read(m, got + have, 4 - have, &k);
            assert_true(rc == VOUCH_OK || rc == VOUCH_ERR_BUSY);
            have += k;
            if (have == 4) {
                assert_int_equal(vouch_atls_mem_write(m, "pong", 4), VOUCH_OK);
                assert_int_equal(vouch_atls_mem_close(m), VOUCH_OK);
                answered = true;
            }
        }
        size_t len;
        do {
            assert_int_equal(vouch_atls_mem_pull(m, out, sizeof out, &len), VOUCH_OK);
            if (len && write(fd, out, len) != (ssize_t)len)
                return;
        } while (len > 0);
    }
}

static void run_pair(const struct vouch_sim_identity *expect, struct client *c, char got[5],
                     vouch_err *push_rc, bool *established)
{
    struct vouch_atls_cred *cred = make_cred();
    struct vouch_atls_ctx *sctx = NULL;
    struct vouch_atls_mem *m = NULL;
    struct vouch_atls_verifier v = {.now = T0 + 10,
                                    .sim_anchors = &anchor,
                                    .n_sim_anchors = 1,
                                    .measurement = expect->measurement};
    int sv[2];
    pthread_t th;

    assert_int_equal(vouch_atls_ctx_new(true, cred, NULL, &sctx), VOUCH_OK);
    assert_int_equal(vouch_atls_ctx_new(false, NULL, &v, &c->ctx), VOUCH_OK);
    assert_int_equal(vouch_atls_mem_new(sctx, &m), VOUCH_OK);
    assert_false(vouch_atls_mem_established(m));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    c->fd = sv[0];
    assert_int_equal(pthread_create(&th, NULL, client_main, c), 0);
    relay(m, sv[1], got, push_rc);
    shutdown(sv[1], SHUT_RDWR);
    pthread_join(th, NULL);
    *established = vouch_atls_mem_established(m);
    close(sv[0]);
    close(sv[1]);
    vouch_atls_mem_free(m);
    vouch_atls_ctx_free(sctx);
    vouch_atls_ctx_free(c->ctx);
    vouch_atls_cred_free(cred);
}

static void test_mem_handshake_and_exchange(void **state)
{
    struct client c = {0};
    char got[5] = {0};
    vouch_err push_rc;
    bool established;
    (void)state;
    run_pair(&id_a, &c, got, &push_rc, &established);
    assert_int_equal(c.hs_rc, VOUCH_OK);
    assert_int_equal(c.io_rc, VOUCH_OK);
    assert_memory_equal(c.heard, "pong", 4);
    assert_memory_equal(got, "ping", 4);
    assert_memory_equal(c.peer.measurement, id_a.measurement, 32);
    assert_int_equal(push_rc, VOUCH_OK);
    assert_true(established);
}

/* The client expects another measurement: its verifier aborts the handshake
 * with an alert, and the server side sees the handshake fail. */
static void test_mem_client_refuses(void **state)
{
    struct client c = {0};
    char got[5] = {0};
    vouch_err push_rc;
    bool established;
    (void)state;
    run_pair(&id_b, &c, got, &push_rc, &established);
    assert_int_equal(c.hs_rc, VOUCH_ERR_POLICY);
    assert_int_equal(got[0], 0);
    assert_int_equal(push_rc, VOUCH_ERR_IO);
    assert_false(established);
}

/* ---- mutual attested TLS, both ends in memory (two enclaves) ---- */

/* Moves everything pending from @p from to @p to; returns @p to's push. */
static vouch_err shuttle(struct vouch_atls_mem *from, struct vouch_atls_mem *to)
{
    uint8_t buf[16384];
    size_t n = 0;
    vouch_err rc = VOUCH_OK;
    do {
        assert_int_equal(vouch_atls_mem_pull(from, buf, sizeof buf, &n), VOUCH_OK);
        if (n && rc == VOUCH_OK)
            rc = vouch_atls_mem_push(to, buf, n);
    } while (n > 0);
    return rc;
}

/* Server signed as id_a expecting @p client_expect, client signed as id_b
 * expecting @p server_expect; relays until both are done. */
static void run_mutual(const struct vouch_sim_identity *client_expect,
                       const struct vouch_sim_identity *server_expect, vouch_err *server_rc,
                       vouch_err *client_rc, bool exchange)
{
    struct vouch_atls_cred_spec sa = {.common_name = "server",
                                      .now = T0,
                                      .lifetime = 3600,
                                      .evidence = get_evidence,
                                      .evidence_ctx = (void *)&id_a};
    struct vouch_atls_cred_spec sb = sa;
    struct vouch_atls_cred *ca = NULL, *cb = NULL;
    struct vouch_atls_ctx *sctx = NULL, *cctx = NULL;
    struct vouch_atls_mem *srv = NULL, *cli = NULL;
    struct vouch_atls_verifier vs = {.now = T0 + 10,
                                     .sim_anchors = &anchor,
                                     .n_sim_anchors = 1,
                                     .measurement = client_expect->measurement,
                                     .allow_debug = true};
    struct vouch_atls_verifier vc = vs;
    vc.measurement = server_expect->measurement;
    sb.common_name = "client";
    sb.evidence_ctx = (void *)&id_b;
    assert_int_equal(vouch_atls_cred_new(&sa, &ca), VOUCH_OK);
    assert_int_equal(vouch_atls_cred_new(&sb, &cb), VOUCH_OK);
    assert_int_equal(vouch_atls_ctx_new(true, ca, &vs, &sctx), VOUCH_OK);
    assert_int_equal(vouch_atls_ctx_new(false, cb, &vc, &cctx), VOUCH_OK);
    assert_int_equal(vouch_atls_mem_new(sctx, &srv), VOUCH_OK);
    assert_int_equal(vouch_atls_mem_new(cctx, &cli), VOUCH_OK);

    /* The client speaks first: its hello comes from pushing nothing. */
    *client_rc = vouch_atls_mem_push(cli, NULL, 0);
    *server_rc = VOUCH_OK;
    for (int round = 0; round < 8 && *client_rc == VOUCH_OK && *server_rc == VOUCH_OK; round++) {
        *server_rc = shuttle(cli, srv);
        if (*server_rc == VOUCH_OK)
            *client_rc = shuttle(srv, cli);
        if (vouch_atls_mem_established(srv) && vouch_atls_mem_established(cli))
            break;
    }
    if (*server_rc != VOUCH_OK) {
        /* The refusal's alert still reaches the client, whose handshake had
         * already completed (TLS 1.3): its next read fails. */
        char buf[16];
        size_t n = 0;
        assert_string_not_equal(vouch_atls_mem_detail(srv), "");
        assert_null(vouch_atls_mem_peer(srv));
        assert_int_equal(shuttle(srv, cli), VOUCH_OK);
        assert_int_equal(vouch_atls_mem_read(cli, buf, sizeof buf, &n), VOUCH_ERR_IO);
    }
    if (*server_rc == VOUCH_OK && *client_rc == VOUCH_OK) {
        assert_true(vouch_atls_mem_established(srv));
        assert_true(vouch_atls_mem_established(cli));
        const struct vouch_atls_peer *ps = vouch_atls_mem_peer(srv);
        const struct vouch_atls_peer *pc = vouch_atls_mem_peer(cli);
        assert_non_null(ps);
        assert_non_null(pc);
        /* Each end sees the other's measurement. */
        assert_memory_equal(ps->id.measurement, id_b.measurement, 32);
        assert_memory_equal(pc->id.measurement, id_a.measurement, 32);
        assert_non_null(ps->claims);
        assert_non_null(pc->claims);
        if (exchange) {
            char got[6] = {0};
            size_t n = 0;
            assert_int_equal(vouch_atls_mem_write(cli, "hello", 5), VOUCH_OK);
            assert_int_equal(shuttle(cli, srv), VOUCH_OK);
            assert_int_equal(vouch_atls_mem_read(srv, got, 5, &n), VOUCH_OK);
            assert_int_equal(n, 5);
            assert_string_equal(got, "hello");
        }
    }
    vouch_atls_mem_free(srv);
    vouch_atls_mem_free(cli);
    vouch_atls_ctx_free(sctx);
    vouch_atls_ctx_free(cctx);
    vouch_atls_cred_free(ca);
    vouch_atls_cred_free(cb);
}

static void test_mem_mutual(void **state)
{
    vouch_err s = VOUCH_ERR_INTERNAL, c = VOUCH_ERR_INTERNAL;
    (void)state;
    run_mutual(&id_b, &id_a, &s, &c, true);
    assert_int_equal(s, VOUCH_OK);
    assert_int_equal(c, VOUCH_OK);
}

/* The server expects another client measurement: it refuses with the
 * verifier's error and the client gets the alert. */
static void test_mem_mutual_server_refuses(void **state)
{
    vouch_err s = VOUCH_OK, c = VOUCH_OK;
    (void)state;
    run_mutual(&id_a, &id_a, &s, &c, false);
    assert_int_equal(s, VOUCH_ERR_POLICY);
}

/* The client expects another server measurement: the client refuses. */
static void test_mem_mutual_client_refuses(void **state)
{
    vouch_err s = VOUCH_OK, c = VOUCH_OK;
    (void)state;
    run_mutual(&id_b, &id_b, &s, &c, false);
    assert_int_equal(c, VOUCH_ERR_POLICY);
    assert_int_equal(s, VOUCH_OK);
}

static void test_mem_refused_contexts(void **state)
{
    struct vouch_atls_mem *m = (struct vouch_atls_mem *)1;
    (void)state;
    assert_int_equal(vouch_atls_mem_new(NULL, &m), VOUCH_ERR_INVAL);
    assert_null(m);
    assert_int_equal(vouch_atls_mem_new(NULL, NULL), VOUCH_ERR_INVAL);
}

static void test_mem_garbage_and_limits(void **state)
{
    struct vouch_atls_cred *cred = make_cred();
    struct vouch_atls_ctx *sctx = NULL;
    struct vouch_atls_mem *m = NULL;
    uint8_t buf[4096];
    size_t n = 0;
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)state;
    assert_int_equal(vouch_atls_ctx_new(true, cred, NULL, &sctx), VOUCH_OK);

    /* Before the handshake: nothing to read or write. */
    assert_int_equal(vouch_atls_mem_new(sctx, &m), VOUCH_OK);
    assert_int_equal(vouch_atls_mem_read(m, buf, sizeof buf, &n), VOUCH_ERR_BUSY);
    assert_int_equal(vouch_atls_mem_write(m, "x", 1), VOUCH_ERR_BUSY);
    assert_int_equal(vouch_atls_mem_pull(m, buf, sizeof buf, &n), VOUCH_OK);
    assert_int_equal(n, 0);
    /* More pending bytes than the limit. */
    uint8_t *big = calloc(1, VOUCH_MAX_ATLS_MEM_PENDING + 1);
    assert_non_null(big);
    assert_int_equal(vouch_atls_mem_push(m, big, VOUCH_MAX_ATLS_MEM_PENDING + 1),
                     VOUCH_ERR_TOO_LARGE);
    free(big);
    vouch_atls_mem_free(m);

    /* Not TLS at all: the connection dies and stays dead. */
    assert_int_equal(vouch_atls_mem_new(sctx, &m), VOUCH_OK);
    assert_int_equal(vouch_atls_mem_push(m, http, sizeof http - 1), VOUCH_ERR_IO);
    assert_false(vouch_atls_mem_established(m));
    assert_int_equal(vouch_atls_mem_push(m, http, sizeof http - 1), VOUCH_ERR_IO);
    assert_int_equal(vouch_atls_mem_read(m, buf, sizeof buf, &n), VOUCH_ERR_IO);
    assert_int_equal(vouch_atls_mem_write(m, "x", 1), VOUCH_ERR_IO);
    assert_int_equal(vouch_atls_mem_close(m), VOUCH_ERR_IO);
    vouch_atls_mem_free(m);
    vouch_atls_mem_free(NULL);

    vouch_atls_ctx_free(sctx);
    vouch_atls_cred_free(cred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_handshake_and_exchange),
        cmocka_unit_test(test_mem_client_refuses),
        cmocka_unit_test(test_mem_refused_contexts),
        cmocka_unit_test(test_mem_mutual),
        cmocka_unit_test(test_mem_mutual_server_refuses),
        cmocka_unit_test(test_mem_mutual_client_refuses),
        cmocka_unit_test(test_mem_garbage_and_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
