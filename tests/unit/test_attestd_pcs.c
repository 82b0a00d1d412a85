/* vouch-attestd's PCS fetcher (src/attestd/pcs.c): assembling collateral from
 * PCS-shaped responses rebuilt from the real S1 and T1 vectors (and
 * verifying the real quotes with it), the response shapes it refuses, the
 * backoff schedule, configuration checks, and the cache against an
 * in-process PCS: one fetch for concurrent requests, and collateral in use
 * surviving eviction of its cache slot. */
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/encoding.h>
#include <vouch/evidence.h>
#include <vouch/http.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

#define NOW 1751328000 /* inside S1's and T1's collateral windows */

/* PCS responses for one collateral file, as a PCS would send them. */
struct pcs_set {
    char *tcb_body;
    char *tcb_chain; /* URL-encoded */
    char *qe_body;
    char *qe_chain;
    uint8_t *pck_der;
    size_t pck_len;
    char *pck_hex;
    char *pck_chain;
    uint8_t *root_der;
    size_t root_len;
    char *root_hex;
};

static struct pcs_set s1, t1;
static uint8_t *s1_quote, *t1_quote;
static size_t s1_quote_len, t1_quote_len;

static char *url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *q = o;

    assert_non_null(o);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            *q++ = (char)c;
        } else {
            *q++ = '%';
            *q++ = hex[c >> 4];
            *q++ = hex[c & 15];
        }
    }
    *q = 0;
    return o;
}

static const char *field(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    assert_non_null(s);
    return s;
}

static char *envelope(const char *key, const char *body, const char *sig)
{
    size_t n = strlen(key) + strlen(body) + strlen(sig) + 32;
    char *o = malloc(n);
    assert_non_null(o);
    snprintf(o, n, "{\"%s\":%s,\"signature\":\"%s\"}", key, body, sig);
    return o;
}

static void load_set(const char *rel, struct pcs_set *s)
{
    size_t len = 0;
    uint8_t *text = vt_read(rel, &len);
    json_t *o = json_loadb((const char *)text, len, 0, NULL);

    assert_non_null(o);
    s->tcb_body = envelope("tcbInfo", field(o, "tcb_info"), field(o, "tcb_info_signature"));
    s->tcb_chain = url_encode(field(o, "tcb_info_issuer_chain"));
    s->qe_body =
        envelope("enclaveIdentity", field(o, "qe_identity"), field(o, "qe_identity_signature"));
    s->qe_chain = url_encode(field(o, "qe_identity_issuer_chain"));
    s->pck_hex = strdup(field(o, "pck_crl"));
    s->root_hex = strdup(field(o, "root_ca_crl"));
    s->pck_chain = url_encode(field(o, "pck_crl_issuer_chain"));
    assert_int_equal(
        vouch_hex_decode_alloc(s->pck_hex, strlen(s->pck_hex), &s->pck_der, &s->pck_len), VOUCH_OK);
    assert_int_equal(
        vouch_hex_decode_alloc(s->root_hex, strlen(s->root_hex), &s->root_der, &s->root_len),
        VOUCH_OK);
    json_decref(o);
    free(text);
}

static void free_set(struct pcs_set *s)
{
    free(s->tcb_body);
    free(s->tcb_chain);
    free(s->qe_body);
    free(s->qe_chain);
    vouch_free(s->pck_der);
    free(s->pck_hex);
    free(s->pck_chain);
    vouch_free(s->root_der);
    free(s->root_hex);
}

/* The raw responses with DER CRLs, as encoding=der and Intel's root CRL URL. */
static void raw_of(const struct pcs_set *s, struct attestd_pcs_raw *r)
{
    memset(r, 0, sizeof(*r));
    r->tcb_body = (const uint8_t *)s->tcb_body;
    r->tcb_len = strlen(s->tcb_body);
    r->tcb_chain = s->tcb_chain;
    r->qe_body = (const uint8_t *)s->qe_body;
    r->qe_len = strlen(s->qe_body);
    r->qe_chain = s->qe_chain;
    r->pck_crl = s->pck_der;
    r->pck_crl_len = s->pck_len;
    r->pck_crl_chain = s->pck_chain;
    r->root_crl = s->root_der;
    r->root_crl_len = s->root_len;
}

static int setup(void **state)
{
    (void)state;
    load_set("evidence/sgx/v3_phala_collateral.json", &s1);
    load_set("evidence/tdx/v4_phala_collateral.json", &t1);
    s1_quote = vt_read("evidence/sgx/v3_phala_quote.bin", &s1_quote_len);
    t1_quote = vt_read("evidence/tdx/v4_phala_quote.bin", &t1_quote_len);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free_set(&s1);
    free_set(&t1);
    free(s1_quote);
    free(t1_quote);
    return 0;
}

/* Assembles, parses, and verifies @p quote with the result at NOW. */
static vouch_err assemble_and_verify(const struct attestd_pcs_raw *raw, const uint8_t *quote,
                                     size_t qlen, struct vouch_verify_result *vr)
{
    char *json = NULL, why[256] = "";
    size_t len = 0;
    struct vouch_collateral *c = NULL;
    struct vouch_verify_opts o;
    vouch_err rc;

    assert_int_equal(attestd_pcs_collateral_json(raw, &json, &len, why, sizeof(why)), VOUCH_OK);
    assert_int_equal(strlen(json), len);
    assert_int_equal(vouch_collateral_parse((const uint8_t *)json, len, &c), VOUCH_OK);
    memset(&o, 0, sizeof(o));
    o.now = NOW;
    o.collateral_obj = c;
    memset(vr, 0, sizeof(*vr));
    rc = vouch_evidence_verify(quote, qlen, &o, vr);
    vouch_collateral_free(c);
    vouch_free(json);
    return rc;
}

static void test_assemble_s1(void **state)
{
    struct attestd_pcs_raw raw;
    struct vouch_verify_result vr;
    struct vouch_dcap_platform qp;
    (void)state;

    assert_int_equal(vouch_evidence_dcap_platform(s1_quote, s1_quote_len, &qp), VOUCH_OK);
    assert_int_equal(qp.tee, VOUCH_EVIDENCE_SGX);
    assert_int_equal(qp.pck_ca, VOUCH_PCK_CA_PROCESSOR);
    raw_of(&s1, &raw);
    assert_int_equal(assemble_and_verify(&raw, s1_quote, s1_quote_len, &vr), VOUCH_OK);
    assert_true(vr.verified);
    assert_int_equal(vr.status, VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    vouch_verify_result_free(&vr);
}

/* T1 with the other encodings a PCCS may use: hex root CRL (with a newline),
 * PEM PCK CRL, and bodies followed by CRLF. */
static void test_assemble_t1_encodings(void **state)
{
    struct attestd_pcs_raw raw;
    struct vouch_verify_result vr;
    struct vouch_dcap_platform qp;
    char *root_text, *pem, *tcb, *b64;
    size_t n, b64_len, k = 0;
    (void)state;

    assert_int_equal(vouch_evidence_dcap_platform(t1_quote, t1_quote_len, &qp), VOUCH_OK);
    assert_int_equal(qp.tee, VOUCH_EVIDENCE_TDX);
    assert_int_equal(qp.pck_ca, VOUCH_PCK_CA_PLATFORM);
    raw_of(&t1, &raw);
    n = strlen(t1.root_hex);
    root_text = malloc(n + 2);
    assert_non_null(root_text);
    memcpy(root_text, t1.root_hex, n);
    memcpy(root_text + n, "\n", 2);
    raw.root_crl = (const uint8_t *)root_text;
    raw.root_crl_len = n + 1;

    b64_len = vouch_base64_encoded_len(t1.pck_len, false);
    b64 = malloc(b64_len + 1);
    pem = malloc(b64_len + b64_len / 64 + 80);
    assert_non_null(b64);
    assert_non_null(pem);
    vouch_base64_encode(t1.pck_der, t1.pck_len, false, b64);
    k = (size_t)sprintf(pem, "-----BEGIN X509 CRL-----\n");
    for (size_t i = 0; i < b64_len; i += 64)
        k += (size_t)sprintf(pem + k, "%.64s\n", b64 + i);
    k += (size_t)sprintf(pem + k, "-----END X509 CRL-----\n");
    raw.pck_crl = (const uint8_t *)pem;
    raw.pck_crl_len = k;

    n = strlen(t1.tcb_body);
    tcb = malloc(n + 3);
    assert_non_null(tcb);
    memcpy(tcb, t1.tcb_body, n);
    memcpy(tcb + n, "\r\n", 3);
    raw.tcb_body = (const uint8_t *)tcb;
    raw.tcb_len = n + 2;

    assert_int_equal(assemble_and_verify(&raw, t1_quote, t1_quote_len, &vr), VOUCH_OK);
    assert_true(vr.verified);
    assert_int_equal(vr.status, VOUCH_TCB_UP_TO_DATE);
    vouch_verify_result_free(&vr);
    free(root_text);
    free(b64);
    free(pem);
    free(tcb);
}

/* The signed bytes are cut, never re-serialised: a body that differs only in
 * insignificant whitespace still assembles, and then fails its signature. */
static void test_cut_is_byte_exact(void **state)
{
    struct attestd_pcs_raw raw;
    struct vouch_verify_result vr;
    size_t n = strlen(s1.tcb_body), p = strlen("{\"tcbInfo\":{");
    char *tcb = malloc(n + 2);
    (void)state;

    assert_non_null(tcb);
    memcpy(tcb, s1.tcb_body, p);
    tcb[p] = ' ';
    memcpy(tcb + p + 1, s1.tcb_body + p, n - p + 1);
    raw_of(&s1, &raw);
    raw.tcb_body = (const uint8_t *)tcb;
    raw.tcb_len = n + 1;
    assert_int_not_equal(assemble_and_verify(&raw, s1_quote, s1_quote_len, &vr), VOUCH_OK);
    assert_false(vr.verified);
    assert_non_null(strstr(vr.error_detail, "tcb_info"));
    vouch_verify_result_free(&vr);
    free(tcb);
}

static void expect_refused(const struct attestd_pcs_raw *raw, const char *why_part)
{
    char *json = NULL, why[256] = "";
    size_t len = 0;

    assert_int_not_equal(attestd_pcs_collateral_json(raw, &json, &len, why, sizeof(why)), VOUCH_OK);
    assert_null(json);
    if (!strstr(why, why_part))
        fail_msg("'%s' does not mention '%s'", why, why_part);
}

static void test_assemble_refuses(void **state)
{
    struct attestd_pcs_raw raw;
    char buf[16384];
    const char *sig;
    (void)state;

    /* A member besides the object and the signature. */
    raw_of(&s1, &raw);
    snprintf(buf, sizeof(buf), "%.*s,\"x\":1}", (int)(strlen(s1.tcb_body) - 1), s1.tcb_body);
    raw.tcb_body = (const uint8_t *)buf;
    raw.tcb_len = strlen(buf);
    expect_refused(&raw, "TCB Info");

    /* Two signatures (the JSON reader refuses duplicate keys). */
    sig = strstr(s1.tcb_body, ",\"signature\":\"");
    assert_non_null(sig);
    snprintf(buf, sizeof(buf), "%.*s,\"signature\":\"00\"%s", (int)(sig - s1.tcb_body), s1.tcb_body,
             sig);
    raw.tcb_len = strlen(buf);
    expect_refused(&raw, "TCB Info");

    /* Not compact at the envelope: the prefix must be exact. (A space after
     * the colon would belong to the cut bytes, and fail the signature.) */
    snprintf(buf, sizeof(buf), "{\"tcbInfo\" :%s", s1.tcb_body + strlen("{\"tcbInfo\":"));
    raw.tcb_len = strlen(buf);
    expect_refused(&raw, "does not start with");

    /* The QE identity where TCB Info belongs. */
    raw.tcb_body = (const uint8_t *)s1.qe_body;
    raw.tcb_len = strlen(s1.qe_body);
    expect_refused(&raw, "does not start with {\"tcbInfo\":");

    /* Truncated. */
    raw_of(&s1, &raw);
    raw.qe_len -= 3;
    expect_refused(&raw, "QE Identity");

    /* Issuer chains: missing, or not URL-encoded PEM. */
    raw_of(&s1, &raw);
    raw.tcb_chain = NULL;
    expect_refused(&raw, "no issuer chain header");
    raw_of(&s1, &raw);
    raw.pck_crl_chain = "-----BEGIN%ZZCERTIFICATE";
    expect_refused(&raw, "URL-encoded");

    /* CRLs that are neither DER, hex nor PEM. */
    raw_of(&s1, &raw);
    raw.root_crl = (const uint8_t *)"<html>not found</html>";
    raw.root_crl_len = strlen((const char *)raw.root_crl);
    expect_refused(&raw, "root CA CRL");
    raw_of(&s1, &raw);
    raw.pck_crl_len = 0;
    expect_refused(&raw, "PCK CRL");
    raw_of(&s1, &raw);
    raw.pck_crl = (const uint8_t *)"abc"; /* odd-length hex */
    raw.pck_crl_len = 3;
    expect_refused(&raw, "PCK CRL");
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(attestd_pcs_backoff_ms(5000, 1), 5000);
    assert_int_equal(attestd_pcs_backoff_ms(5000, 2), 10000);
    assert_int_equal(attestd_pcs_backoff_ms(5000, 3), 20000);
    assert_int_equal(attestd_pcs_backoff_ms(5000, 7), 320000);
    assert_int_equal(attestd_pcs_backoff_ms(5000, 8), ATTESTD_PCS_BACKOFF_MAX_MS);
    assert_int_equal(attestd_pcs_backoff_ms(5000, 4000000000u), ATTESTD_PCS_BACKOFF_MAX_MS);
    assert_int_equal(attestd_pcs_backoff_ms(0, 1), ATTESTD_PCS_BACKOFF_BASE_MS);
    assert_int_equal(attestd_pcs_backoff_ms(100, 4), 800);
}

static void test_no_pcs(void **state)
{
    struct attestd *d = calloc(1, sizeof(*d));
    struct attestd_collateral_use u;
    struct vouch_dcap_platform qp;
    struct attestd_pcs_entry *e = NULL;
    const struct vouch_collateral *c = NULL;
    char why[256] = "";
    (void)state;

    assert_non_null(d);
    d->cfg.has_eval_time = true;
    d->cfg.eval_time = NOW;
    assert_int_equal(vouch_evidence_dcap_platform(s1_quote, s1_quote_len, &qp), VOUCH_OK);
    assert_int_equal(attestd_collateral_acquire(d, &qp, &u, why, sizeof(why)), VOUCH_ERR_NOT_FOUND);
    assert_null(u.coll);
    assert_string_equal(why, "no collateral for sgx FMSPC 00a067110000");
    attestd_collateral_release(&u);
    assert_int_equal(attestd_pcs_get(d, &qp, NOW, &e, &c, why, sizeof(why)), VOUCH_ERR_NOT_FOUND);
    assert_null(e);
    /* Without a URL, set-up is a no-op. */
    assert_int_equal(attestd_pcs_init(d), VOUCH_OK);
    assert_null(d->pcs);
    free(d);
}

static void test_init_config(void **state)
{
    static const char *const bad[] = {"http://pcs.example/", "ftp://pcs.example", "pcs.example",
                                      "http://pcs example", NULL};
    struct attestd *d = calloc(1, sizeof(*d));
    char path[] = "/tmp/vouch_pcs_key_XXXXXX";
    int fd;
    (void)state;

    assert_non_null(d);
    for (const char *const *u = bad; *u; u++) {
        d->cfg.pcs_url = *u;
        assert_int_equal(attestd_pcs_init(d), VOUCH_ERR_INVAL);
        assert_null(d->pcs);
    }
    d->cfg.pcs_url = "https://api.trustedservices.intel.com";
    d->cfg.pcs_root_crl_url = "not a url";
    assert_int_equal(attestd_pcs_init(d), VOUCH_ERR_INVAL);
    d->cfg.pcs_root_crl_url = NULL;
    assert_int_equal(attestd_pcs_init(d), VOUCH_OK);
    assert_non_null(d->pcs);
    attestd_pcs_free(d);
    assert_null(d->pcs);

    /* The API key is a secret file: group/other access is refused. */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "key-123\n", 8), 8);
    close(fd);
    d->cfg.pcs_api_key_file = path;
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_not_equal(attestd_pcs_init(d), VOUCH_OK);
    assert_null(d->pcs);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(attestd_pcs_init(d), VOUCH_OK);
    attestd_pcs_free(d);
    unlink(path);
    free(d);
}

/* ---- the cache against an in-process PCS serving S1 ---- */

static atomic_uint g_requests;

static void reply(struct vouch_http_response *res, int status, const void *p, size_t n)
{
    res->status = status;
    vouch_buf_reset(&res->body);
    if (vouch_buf_append(&res->body, p, n) != VOUCH_OK)
        res->status = 500;
}

static void pcs_handler(void *arg, const struct vouch_http_request *req,
                        struct vouch_http_response *res)
{
    char q[32];
    vouch_err rc = VOUCH_OK;
    (void)arg;

    atomic_fetch_add(&g_requests, 1);
    if (strcmp(req->path, "/sgx/certification/v4/tcb") == 0 &&
        vouch_http_query_param(req, "fmspc", q, sizeof(q)) == VOUCH_OK &&
        strcmp(q, "00A067110000") == 0) {
        rc = vouch_http_response_header(res, "tcb-info-issuer-chain", s1.tcb_chain);
        reply(res, 200, s1.tcb_body, strlen(s1.tcb_body));
    } else if (strcmp(req->path, "/sgx/certification/v4/qe/identity") == 0) {
        rc = vouch_http_response_header(res, "sgx-enclave-identity-issuer-chain", s1.qe_chain);
        reply(res, 200, s1.qe_body, strlen(s1.qe_body));
    } else if (strcmp(req->path, "/sgx/certification/v4/pckcrl") == 0 &&
               vouch_http_query_param(req, "ca", q, sizeof(q)) == VOUCH_OK &&
               strcmp(q, "processor") == 0) {
        rc = vouch_http_response_header(res, "sgx-pck-crl-issuer-chain", s1.pck_chain);
        reply(res, 200, s1.pck_der, s1.pck_len);
    } else if (strcmp(req->path, "/sgx/certification/v4/rootcacrl") == 0) {
        reply(res, 200, s1.root_hex, strlen(s1.root_hex));
    } else {
        reply(res, 404, "", 0);
    }
    if (rc != VOUCH_OK)
        res->status = 500;
}

static void *serve(void *arg)
{
    if (vouch_http_server_run(arg) != VOUCH_OK)
        fprintf(stderr, "server run failed\n");
    return NULL;
}

struct getter {
    struct attestd *d;
    const struct vouch_dcap_platform *plat;
    struct attestd_pcs_entry *e;
    const struct vouch_collateral *c;
    vouch_err rc;
};

static void *get_thread(void *arg)
{
    struct getter *g = arg;
    char why[256];
    g->rc = attestd_pcs_get(g->d, g->plat, NOW, &g->e, &g->c, why, sizeof(why));
    return NULL;
}

static void test_cache(void **state)
{
    struct vouch_http_server_opts so;
    struct vouch_http_server *srv = NULL;
    struct attestd *d = calloc(1, sizeof(*d));
    struct vouch_dcap_platform qp, other;
    struct getter g[4];
    pthread_t th[4], st;
    struct vouch_verify_opts vo;
    struct vouch_verify_result vr;
    struct attestd_pcs_entry *e = NULL;
    const struct vouch_collateral *c = NULL;
    char url[64], why[256];
    unsigned before;
    (void)state;

    assert_non_null(d);
    memset(&so, 0, sizeof(so));
    so.listen = "127.0.0.1:0";
    so.threads = 2;
    so.insecure_http = true;
    so.handler = pcs_handler;
    assert_int_equal(vouch_http_server_create(&so, &srv), VOUCH_OK);
    assert_int_equal(pthread_create(&st, NULL, serve, srv), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", vouch_http_server_port(srv));
    d->cfg.has_eval_time = true;
    d->cfg.eval_time = NOW;
    d->cfg.pcs_url = url;
    d->cfg.pcs_backoff_base_ms = 60000;
    assert_int_equal(attestd_pcs_init(d), VOUCH_OK);
    assert_int_equal(vouch_evidence_dcap_platform(s1_quote, s1_quote_len, &qp), VOUCH_OK);

    /* Concurrent first requests share one fetch of four GETs. */
    for (int i = 0; i < 4; i++) {
        g[i] = (struct getter){.d = d, .plat = &qp};
        assert_int_equal(pthread_create(&th[i], NULL, get_thread, &g[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(g[i].rc, VOUCH_OK);
        assert_ptr_equal(g[i].e, g[0].e);
        assert_ptr_equal(g[i].c, g[0].c);
    }
    assert_int_equal(atomic_load(&g_requests), 4);
    for (int i = 1; i < 4; i++)
        attestd_pcs_entry_unref(g[i].e);

    /* A platform the PCS does not know fails and then fails fast. */
    other = qp;
    other.fmspc[5] = 0x01;
    before = atomic_load(&g_requests);
    assert_int_equal(attestd_pcs_get(d, &other, NOW, &e, &c, why, sizeof(why)), VOUCH_ERR_BUSY);
    assert_non_null(strstr(why, "collateral unavailable (PCS fetch failed 1 time, retry after"));
    assert_non_null(strstr(why, "HTTP 404"));
    assert_int_equal(atomic_load(&g_requests), before + 1);
    assert_int_equal(attestd_pcs_get(d, &other, NOW, &e, &c, why, sizeof(why)), VOUCH_ERR_BUSY);
    assert_int_equal(atomic_load(&g_requests), before + 1);
    assert_null(e);

    /* Fill every slot with other platforms: S1's slot is evicted while g[0]
     * still holds its collateral, which must stay usable. */
    for (unsigned i = 0; i < VOUCH_PCS_CACHE_SLOTS; i++) {
        other.fmspc[4] = 0x80;
        other.fmspc[5] = (uint8_t)i;
        assert_int_equal(attestd_pcs_get(d, &other, NOW, &e, &c, why, sizeof(why)), VOUCH_ERR_BUSY);
    }
    memset(&vo, 0, sizeof(vo));
    vo.now = NOW;
    vo.collateral_obj = g[0].c;
    memset(&vr, 0, sizeof(vr));
    assert_int_equal(vouch_evidence_verify(s1_quote, s1_quote_len, &vo, &vr), VOUCH_OK);
    vouch_verify_result_free(&vr);
    attestd_pcs_entry_unref(g[0].e);

    /* S1 again: evicted, so fetched again. */
    before = atomic_load(&g_requests);
    assert_int_equal(attestd_pcs_get(d, &qp, NOW, &e, &c, why, sizeof(why)), VOUCH_OK);
    assert_int_equal(atomic_load(&g_requests), before + 4);
    attestd_pcs_entry_unref(e);
    /* A time outside the cached set's window asks the PCS again (and gets
     * the same, still unusable set: an error, not stale collateral). */
    before = atomic_load(&g_requests);
    assert_int_equal(attestd_pcs_get(d, &qp, NOW + 90 * 86400, &e, &c, why, sizeof(why)),
                     VOUCH_ERR_BUSY);
    assert_non_null(strstr(why, "not at 2025-09-29"));
    assert_int_equal(atomic_load(&g_requests), before + 4);

    /* A PCK leaf from an unknown CA cannot pick a CRL. */
    other = qp;
    other.pck_ca = VOUCH_PCK_CA_UNKNOWN;
    assert_int_equal(attestd_pcs_get(d, &other, NOW, &e, &c, why, sizeof(why)),
                     VOUCH_ERR_UNSUPPORTED);

    attestd_pcs_free(d);
    vouch_http_server_stop(srv);
    pthread_join(st, NULL);
    vouch_http_server_free(srv);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assemble_s1),       cmocka_unit_test(test_assemble_t1_encodings),
        cmocka_unit_test(test_cut_is_byte_exact), cmocka_unit_test(test_assemble_refuses),
        cmocka_unit_test(test_backoff),           cmocka_unit_test(test_no_pcs),
        cmocka_unit_test(test_init_config),       cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
