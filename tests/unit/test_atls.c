/* Attested TLS: attested certificates with sim evidence, their verification,
 * and real TLS 1.3 handshakes over a socketpair (one-way and mutual). */
#include "testutil.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vouch/atls.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/sim.h>

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static char tmpdir[64];
static struct vouch_sim_platform *plat, *other_plat;
static struct vouch_x509 *anchor, *other_anchor;

static const struct vouch_sim_identity id_a = {
    .measurement = {0xa1, [31] = 0xa1}, .signer_id = {0x5a}, .product_id = 1, .svn = 2};
static const struct vouch_sim_identity id_b = {
    .measurement = {0xb2, [31] = 0xb2}, .signer_id = {0x5a}, .product_id = 1, .svn = 2};

/* The evidence callback: sign directly with the platform, as the loader's
 * platform agent would for the enclave. */
struct attester {
    const struct vouch_sim_platform *p;
    struct vouch_sim_identity id;
    int64_t now;
    bool unbind; /* corrupt the key hash: the key is then not bound */
    unsigned calls;
};

static vouch_err get_evidence(void *ctx, const uint8_t rd[64], uint8_t *ev, size_t cap,
                              size_t *ev_len)
{
    struct attester *a = ctx;
    uint8_t data[64], *buf = NULL;
    size_t len = 0;
    vouch_err rc;

    a->calls++;
    memcpy(data, rd, 64);
    if (a->unbind)
        data[0] ^= 1;
    if ((rc = vouch_sim_report_sign(a->p, &a->id, data, a->now, &buf, &len)) != VOUCH_OK)
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

static struct vouch_atls_cred *make_cred(struct attester *a, int64_t now, int64_t lifetime,
                                         const uint8_t *nonce)
{
    struct vouch_atls_cred *c = NULL;
    struct vouch_atls_cred_spec spec = {.common_name = "enclave",
                                        .now = now,
                                        .lifetime = lifetime,
                                        .nonce = nonce,
                                        .evidence = get_evidence,
                                        .evidence_ctx = a};
    assert_int_equal(vouch_atls_cred_new(&spec, &c), VOUCH_OK);
    assert_int_equal(a->calls, 1);
    a->calls = 0;
    return c;
}

static struct vouch_atls_verifier verifier_for(const struct vouch_sim_identity *id)
{
    struct vouch_atls_verifier v = {.now = T0, .sim_anchors = &anchor, .n_sim_anchors = 1};
    v.measurement = id ? id->measurement : NULL;
    v.signer_id = id ? id->signer_id : NULL;
    return v;
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char buf[512];
    if (!d) {
        (void)unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(buf, sizeof(buf), "%s/%s", path, e->d_name);
            rm_tree(buf);
        }
    }
    closedir(d);
    (void)rmdir(path);
}

static struct vouch_x509 *ca_of(const struct vouch_sim_platform *p)
{
    const uint8_t *der;
    size_t len;
    struct vouch_x509 *c = NULL;
    vouch_sim_platform_ca_der(p, &der, &len);
    return vouch_x509_parse_der(der, len, &c) == VOUCH_OK ? c : NULL;
}

static int setup(void **state)
{
    char path[128];
    (void)state;
    /* A peer closing mid-write must be an error, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    strcpy(tmpdir, "/tmp/vouch-atls-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(path, sizeof(path), "%s/p1", tmpdir);
    if (vouch_sim_platform_open(path, T0 - 86400 * 3, &plat) != VOUCH_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/p2", tmpdir);
    if (vouch_sim_platform_open(path, T0 - 86400 * 3, &other_plat) != VOUCH_OK)
        return -1;
    anchor = ca_of(plat);
    other_anchor = ca_of(other_plat);
    return anchor && other_anchor ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    vouch_sim_platform_free(plat);
    vouch_sim_platform_free(other_plat);
    vouch_x509_free(anchor);
    vouch_x509_free(other_anchor);
    rm_tree(tmpdir);
    return 0;
}

/* ---- handshakes over a socketpair ---- */

struct side {
    struct vouch_atls_ctx *ctx;
    int fd;
    const char *say;
    vouch_err hs_rc; /* handshake */
    vouch_err io_rc; /* exchange after it */
    char heard[5];
    char detail[256];
    struct vouch_sim_identity peer_id;
    bool had_peer;
    char peer_mrenclave[65];
};

static void *run_side(void *arg)
{
    struct side *s = arg;
    struct vouch_atls_conn *c = NULL;

    s->io_rc = VOUCH_ERR_IO;
    s->hs_rc = vouch_atls_handshake(s->ctx, s->fd, &c, s->detail, sizeof(s->detail));
    if (s->hs_rc == VOUCH_OK) {
        const struct vouch_atls_peer *p = vouch_atls_conn_peer(c);
        if (p) {
            const char *m = json_string_value(json_object_get(p->claims, "mrenclave"));
            s->had_peer = true;
            s->peer_id = p->id;
            if (m)
                snprintf(s->peer_mrenclave, sizeof(s->peer_mrenclave), "%s", m);
        }
        s->io_rc = vouch_atls_write(c, s->say, 4);
        if (s->io_rc == VOUCH_OK)
            s->io_rc = vouch_atls_read(c, s->heard, 4);
    }
    vouch_atls_conn_free(c);
    /* Unblock the other side whatever happened here. */
    shutdown(s->fd, SHUT_RDWR);
    return NULL;
}

static void run_pair(struct side *srv, struct side *cli)
{
    int sv[2];
    pthread_t t;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    srv->fd = sv[0];
    cli->fd = sv[1];
    srv->say = "pong";
    cli->say = "ping";
    assert_int_equal(pthread_create(&t, NULL, run_side, srv), 0);
    run_side(cli);
    assert_int_equal(pthread_join(t, NULL), 0);
    close(sv[0]);
    close(sv[1]);
}

static void test_mutual_ok(void **state)
{
    struct attester sa = {.p = plat, .id = id_a, .now = T0};
    struct attester ca = {.p = plat, .id = id_b, .now = T0};
    struct vouch_atls_cred *scred = make_cred(&sa, T0, 3600, NULL);
    struct vouch_atls_cred *ccred = make_cred(&ca, T0, 3600, NULL);
    struct vouch_atls_verifier sv = verifier_for(&id_b), cv = verifier_for(&id_a);
    struct vouch_atls_ctx *sctx = NULL, *cctx = NULL;
    struct side srv = {0}, cli = {0};
    char hex[65];
    (void)state;

    sv.check_product_id = true;
    sv.product_id = 1;
    sv.min_svn = 2;
    assert_int_equal(vouch_atls_ctx_new(true, scred, &sv, &sctx), VOUCH_OK);
    assert_int_equal(vouch_atls_ctx_new(false, ccred, &cv, &cctx), VOUCH_OK);
    srv.ctx = sctx;
    cli.ctx = cctx;
    run_pair(&srv, &cli);
    assert_int_equal(srv.hs_rc, VOUCH_OK);
    assert_int_equal(cli.hs_rc, VOUCH_OK);
    assert_int_equal(srv.io_rc, VOUCH_OK);
    assert_int_equal(cli.io_rc, VOUCH_OK);
    assert_string_equal(srv.heard, "ping");
    assert_string_equal(cli.heard, "pong");
    /* Each side sees the other's identity and claims. */
    assert_true(srv.had_peer && cli.had_peer);
    assert_memory_equal(srv.peer_id.measurement, id_b.measurement, 32);
    assert_memory_equal(cli.peer_id.measurement, id_a.measurement, 32);
    vouch_hex_encode(id_a.measurement, 32, hex);
    assert_string_equal(cli.peer_mrenclave, hex);
    vouch_atls_ctx_free(sctx);
    vouch_atls_ctx_free(cctx);
    vouch_atls_cred_free(scred);
    vouch_atls_cred_free(ccred);
}

static void test_one_way_ok(void **state)
{
    struct attester sa = {.p = plat, .id = id_a, .now = T0};
    struct vouch_atls_cred *scred = make_cred(&sa, T0, 600, NULL);
    struct vouch_atls_verifier cv = verifier_for(&id_a);
    struct vouch_atls_ctx *sctx = NULL, *cctx = NULL;
    struct side srv = {0}, cli = {0};
    (void)state;

    assert_int_equal(vouch_atls_ctx_new(true, scred, NULL, &sctx), VOUCH_OK);
    assert_int_equal(vouch_atls_ctx_new(false, NULL, &cv, &cctx), VOUCH_OK);
    /* A client must verify; a server must present. */
    {
        struct vouch_atls_ctx *bad = NULL;
        assert_int_equal(vouch_atls_ctx_new(false, scred, NULL, &bad), VOUCH_ERR_INVAL);
        assert_int_equal(vouch_atls_ctx_new(true, NULL, &cv, &bad), VOUCH_ERR_INVAL);
        assert_null(bad);
    }
    srv.ctx = sctx;
    cli.ctx = cctx;
    run_pair(&srv, &cli);
    assert_int_equal(srv.hs_rc, VOUCH_OK);
    assert_int_equal(cli.hs_rc, VOUCH_OK);
    assert_string_equal(cli.heard, "pong");
    assert_string_equal(srv.heard, "ping");
    assert_false(srv.had_peer);
    vouch_atls_ctx_free(sctx);
    vouch_atls_ctx_free(cctx);
    vouch_atls_cred_free(scred);
}

/* Runs a one-way handshake against a server credential and returns the
 * client's handshake result. */
static vouch_err client_result(struct vouch_atls_cred *scred, const struct vouch_atls_verifier *cv,
                               char *detail, size_t cap)
{
    struct vouch_atls_ctx *sctx = NULL, *cctx = NULL;
    struct side srv = {0}, cli = {0};

    assert_int_equal(vouch_atls_ctx_new(true, scred, NULL, &sctx), VOUCH_OK);
    assert_int_equal(vouch_atls_ctx_new(false, NULL, cv, &cctx), VOUCH_OK);
    srv.ctx = sctx;
    cli.ctx = cctx;
    run_pair(&srv, &cli);
    /* A client that refused the server never exchanged data. */
    if (cli.hs_rc != VOUCH_OK) {
        assert_int_not_equal(srv.io_rc, VOUCH_OK);
        assert_false(cli.had_peer);
    }
    snprintf(detail, cap, "%s", cli.detail);
    vouch_atls_ctx_free(sctx);
    vouch_atls_ctx_free(cctx);
    return cli.hs_rc;
}

static void test_wrong_measurement(void **state)
{
    struct attester sa = {.p = plat, .id = id_a, .now = T0};
    struct vouch_atls_cred *scred = make_cred(&sa, T0, 600, NULL);
    struct vouch_atls_verifier cv = verifier_for(&id_b);
    char detail[256];
    (void)state;

    assert_int_equal(client_result(scred, &cv, detail, sizeof(detail)), VOUCH_ERR_POLICY);
    assert_non_null(strstr(detail, "measurement"));
    /* Same for the server side of a mutual connection. */
    {
        struct attester ca = {.p = plat, .id = id_a, .now = T0};
        struct vouch_atls_cred *ccred = make_cred(&ca, T0, 600, NULL);
        struct vouch_atls_verifier sv = verifier_for(&id_b), good = verifier_for(&id_a);
        struct vouch_atls_ctx *sctx = NULL, *cctx = NULL;
        struct side srv = {0}, cli = {0};
        assert_int_equal(vouch_atls_ctx_new(true, scred, &sv, &sctx), VOUCH_OK);
        assert_int_equal(vouch_atls_ctx_new(false, ccred, &good, &cctx), VOUCH_OK);
        srv.ctx = sctx;
        cli.ctx = cctx;
        run_pair(&srv, &cli);
        assert_int_equal(srv.hs_rc, VOUCH_ERR_POLICY);
        assert_int_not_equal(cli.io_rc, VOUCH_OK);
        vouch_atls_ctx_free(sctx);
        vouch_atls_ctx_free(cctx);
        vouch_atls_cred_free(ccred);
    }
    /* Wrong signer, product, svn floor, debug. */
    cv = verifier_for(&id_a);
    {
        uint8_t other_signer[32] = {0x77};
        cv.signer_id = other_signer;
        assert_int_equal(client_result(scred, &cv, detail, sizeof(detail)), VOUCH_ERR_POLICY);
        cv.signer_id = id_a.signer_id;
    }
    cv.min_svn = 3;
    assert_int_equal(client_result(scred, &cv, detail, sizeof(detail)), VOUCH_ERR_POLICY);
    cv.min_svn = 2;
    cv.check_product_id = true;
    cv.product_id = 9;
    assert_int_equal(client_result(scred, &cv, detail, sizeof(detail)), VOUCH_ERR_POLICY);
    vouch_atls_cred_free(scred);
    {
        struct attester da = {.p = plat, .id = id_a, .now = T0};
        struct vouch_atls_cred *dcred;
        da.id.debug = true;
        dcred = make_cred(&da, T0, 600, NULL);
        cv = verifier_for(&id_a);
        assert_int_equal(client_result(dcred, &cv, detail, sizeof(detail)), VOUCH_ERR_POLICY);
        assert_non_null(strstr(detail, "debug"));
        cv.allow_debug = true;
        assert_int_equal(client_result(dcred, &cv, detail, sizeof(detail)), VOUCH_OK);
        vouch_atls_cred_free(dcred);
    }
}

static void test_key_not_bound(void **state)
{
    struct attester sa = {.p = plat, .id = id_a, .now = T0, .unbind = true};
    struct vouch_atls_cred *scred = make_cred(&sa, T0, 600, NULL);
    struct vouch_atls_verifier cv = verifier_for(&id_a);
    char detail[256];
    (void)state;

    assert_int_equal(client_result(scred, &cv, detail, sizeof(detail)), VOUCH_ERR_MISMATCH);
    assert_non_null(strstr(detail, "not bound"));
    vouch_atls_cred_free(scred);
}

static void test_expired_certificate(void **state)
{
    struct attester sa = {.p = plat, .id = id_a, .now = T0 - 2 * 86400};
    struct vouch_atls_cred *old = make_cred(&sa, T0 - 2 * 86400, 3600, NULL);
    struct vouch_atls_verifier cv = verifier_for(&id_a);
    char detail[256];
    (void)state;

    assert_int_equal(client_result(old, &cv, detail, sizeof(detail)), VOUCH_ERR_EXPIRED);
    /* Not yet valid either. */
    cv.now = T0 - 3 * 86400 + 100;
    assert_int_equal(client_result(old, &cv, detail, sizeof(detail)), VOUCH_ERR_EXPIRED);
    /* The same certificate inside its window is fine. */
    cv.now = T0 - 2 * 86400 + 60;
    assert_int_equal(client_result(old, &cv, detail, sizeof(detail)), VOUCH_OK);
    vouch_atls_cred_free(old);
    /* Longer than the allowed lifetime cannot be made. */
    {
        struct vouch_atls_cred *c = NULL;
        struct vouch_atls_cred_spec spec = {.common_name = "x",
                                            .now = T0,
                                            .lifetime = VOUCH_ATLS_CERT_MAX_LIFETIME + 1,
                                            .evidence = get_evidence,
                                            .evidence_ctx = &sa};
        assert_int_equal(vouch_atls_cred_new(&spec, &c), VOUCH_ERR_INVAL);
        assert_null(c);
    }
}

static void test_nonce_and_ca(void **state)
{
    uint8_t nonce[32], other[32];
    struct attester sa = {.p = plat, .id = id_a, .now = T0};
    struct vouch_atls_cred *with = NULL, *without = NULL;
    struct vouch_atls_verifier cv = verifier_for(&id_a);
    char detail[256];
    (void)state;

    memset(nonce, 0x42, sizeof(nonce));
    memset(other, 0x43, sizeof(other));
    with = make_cred(&sa, T0, 600, nonce);
    without = make_cred(&sa, T0, 600, NULL);
    cv.nonce = nonce;
    assert_int_equal(client_result(with, &cv, detail, sizeof(detail)), VOUCH_OK);
    assert_int_equal(client_result(without, &cv, detail, sizeof(detail)), VOUCH_ERR_MISMATCH);
    cv.nonce = other;
    assert_int_equal(client_result(with, &cv, detail, sizeof(detail)), VOUCH_ERR_MISMATCH);
    /* A CA the verifier does not trust. */
    cv = verifier_for(&id_a);
    cv.sim_anchors = &other_anchor;
    assert_int_equal(client_result(without, &cv, detail, sizeof(detail)), VOUCH_ERR_CHAIN);
    cv.n_sim_anchors = 0;
    assert_int_equal(client_result(without, &cv, detail, sizeof(detail)), VOUCH_ERR_CHAIN);
    vouch_atls_cred_free(with);
    vouch_atls_cred_free(without);
}

static vouch_err other_fmt(void *ctx, uint64_t tag, const uint8_t *ev, size_t len, int64_t now,
                           struct vouch_atls_peer *out)
{
    unsigned *calls = ctx;
    (void)ev;
    (void)len;
    (void)now;
    (void)out;
    (*calls)++;
    return tag == 60000 ? VOUCH_ERR_SIGNATURE : VOUCH_ERR_UNSUPPORTED;
}

static void test_verify_cert_direct(void **state)
{
    struct attester sa = {.p = plat, .id = id_a, .now = T0};
    struct vouch_atls_cred *cred = make_cred(&sa, T0, 600, NULL);
    struct vouch_atls_verifier v = verifier_for(NULL);
    struct vouch_atls_peer peer;
    const uint8_t *der;
    size_t len;
    char detail[256];
    unsigned calls = 0;
    (void)state;

    vouch_atls_cred_cert_der(cred, &der, &len);
    assert_int_equal(vouch_atls_verify_cert(der, len, &v, &peer, detail, sizeof(detail)), VOUCH_OK);
    assert_int_equal(peer.cbor_tag, VOUCH_ATLS_CBOR_TAG_SIM);
    assert_int_equal(peer.id.svn, 2);
    assert_true(json_is_false(json_object_get(peer.claims, "hardware_rooted")));
    assert_int_equal(peer.not_after, T0 - 60 + 600);
    vouch_atls_peer_free(&peer);

    /* A plain certificate without the evidence extension. */
    {
        struct vouch_pkey *k = NULL;
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        struct vouch_cert_spec cs = {
            .common_name = "plain", .not_before = T0 - 10, .not_after = T0 + 10};
        assert_int_equal(vouch_pkey_generate(VOUCH_PKEY_EC_P256, &k), VOUCH_OK);
        assert_int_equal(vouch_pkey_self_signed_cert(k, &cs, &plain, &plain_len), VOUCH_OK);
        assert_int_equal(
            vouch_atls_verify_cert(plain, plain_len, &v, &peer, detail, sizeof(detail)),
            VOUCH_ERR_PARSE);
        vouch_free(plain);
        vouch_pkey_free(k);
    }
    /* Another evidence format goes to the extension point, or is refused. */
    {
        struct vouch_atls_cred *tdx = NULL;
        struct vouch_atls_cred_spec spec = {.common_name = "tdx",
                                            .now = T0,
                                            .lifetime = 600,
                                            .cbor_tag = 60000,
                                            .evidence = get_evidence,
                                            .evidence_ctx = &sa};
        assert_int_equal(vouch_atls_cred_new(&spec, &tdx), VOUCH_OK);
        vouch_atls_cred_cert_der(tdx, &der, &len);
        assert_int_equal(vouch_atls_verify_cert(der, len, &v, &peer, detail, sizeof(detail)),
                         VOUCH_ERR_UNSUPPORTED);
        v.other_format = other_fmt;
        v.other_ctx = &calls;
        assert_int_equal(vouch_atls_verify_cert(der, len, &v, &peer, detail, sizeof(detail)),
                         VOUCH_ERR_SIGNATURE);
        assert_int_equal(calls, 1);
        vouch_atls_cred_free(tdx);
    }
    /* Every byte of the certificate matters. */
    vouch_atls_cred_cert_der(cred, &der, &len);
    {
        uint8_t *copy = vouch_memdup(der, len);
        size_t accepted = 0;
        assert_non_null(copy);
        v = verifier_for(&id_a);
        for (size_t i = 0; i < len; i++) {
            copy[i] ^= 0x01;
            if (vouch_atls_verify_cert(copy, len, &v, &peer, detail, sizeof(detail)) == VOUCH_OK) {
                accepted++;
                vouch_atls_peer_free(&peer);
            }
            copy[i] ^= 0x01;
        }
        assert_int_equal(accepted, 0);
        vouch_free(copy);
    }
    vouch_atls_cred_free(cred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutual_ok),           cmocka_unit_test(test_one_way_ok),
        cmocka_unit_test(test_wrong_measurement),   cmocka_unit_test(test_key_not_bound),
        cmocka_unit_test(test_expired_certificate), cmocka_unit_test(test_nonce_and_ca),
        cmocka_unit_test(test_verify_cert_direct),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
