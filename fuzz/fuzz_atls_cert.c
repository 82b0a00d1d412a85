/*
 * Fuzz target: attested-TLS peer certificates (vouch_atls_verify_cert in
 * src/crypto/atls.c) on arbitrary DER. The trust anchor is the software TEE
 * CA that signed the seeds' evidence, and the time is the seeds' time, so
 * mutations reach the self-signature, validity, extension, CBOR, sim evidence
 * and identity paths. Every input is verified twice: by a lenient verifier
 * (no expected identity, debug allowed) and by a strict one (identity, svn,
 * nonce).
 *
 * Both verifiers also have an "other format" callback that accepts CBOR tag
 * FUZZ_TAG_RAW and reads the evidence as plain bytes: report data
 * (64), measurement (32), signer (32), product id and svn (16-bit little
 * endian each), debug (1). It stands in for a hardware verifier so that
 * mutations get past the evidence and reach the key binding, nonce and
 * identity checks that follow it.
 *
 * Seeds (fuzz/corpus/atls_cert): certificates made by vouch_atls_cred_new
 * with sim evidence from a fresh platform (the CA below) at T0 - 10 s: plain,
 * with the nonce, debug and low svn/other product (both with the nonce), key
 * not bound, expired, and two with other CBOR tags (FUZZ_TAG_RAW and an
 * unsupported one).
 *
 * Invariants: a refusal leaves the peer zeroed; an acceptance has claims, a
 * not_after at or after the time, a key whose SPKI hash is the first half of
 * the report data, and (strict) exactly the expected identity and nonce.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/atls.h>
#include <vouch/certgen.h>
#include <vouch/crypto.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0           1767225600LL /* 2026-01-01T00:00:00Z */
#define FUZZ_TAG_RAW 0x1234u
#define RAW_EV_LEN   (64u + 32u + 32u + 2u + 2u + 1u)

/* The seeds' software TEE CA. */
static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBoTCCAUegAwIBAgIQU4xwOFYqmJm/qxoLeDFUOjAKBggqhkjOPQQDAjAgMR4w\n"
                             "HAYDVQQDDBVWb3VjaCBzb2Z0d2FyZSBURUUgQ0EwHhcNMjUxMjI4MjM1OTAwWhcN\n"
                             "MzUxMjI2MjM1OTAwWjAgMR4wHAYDVQQDDBVWb3VjaCBzb2Z0d2FyZSBURUUgQ0Ew\n"
                             "WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASd1GR4JZj6yhqQPwng/d5iz28WvEf9\n"
                             "Mh/FWBnvTY5MuehrpseqSd9rFHOvw6w0x8CiG3moU7jBl5Ghj7MDtj3yo2MwYTAP\n"
                             "BgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBhjAdBgNVHQ4EFgQULr4ma8aG\n"
                             "cFtn0EyuMjYFUyIMGBowHwYDVR0jBBgwFoAULr4ma8aGcFtn0EyuMjYFUyIMGBow\n"
                             "CgYIKoZIzj0EAwIDSAAwRQIhALKFpx6/3Vb1Kj+XrNUqzAQJkQicXXoi1BQzk9iZ\n"
                             "Hi9UAiBtWtDbImd3OAqhoA0+IXXL2ISyAaAdDYAJhV7a/WHLNg==\n"
                             "-----END CERTIFICATE-----\n";

/* The identity the seeds' enclave has (the strict verifier expects it). */
static const uint8_t want_measurement[32] = {0xa1, [31] = 0xa1};
static const uint8_t want_signer[32] = {0x5a};
static const uint8_t want_nonce[VOUCH_ATLS_NONCE_LEN] = {
    0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e,
    0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e, 0x4e};

static vouch_err raw_format(void *ctx, uint64_t tag, const uint8_t *ev, size_t len, int64_t now,
                            struct vouch_atls_peer *out)
{
    (void)ctx;
    (void)now;
    if (tag != FUZZ_TAG_RAW)
        return VOUCH_ERR_UNSUPPORTED;
    if (len != RAW_EV_LEN)
        return VOUCH_ERR_PARSE;
    memcpy(out->report_data, ev, 64);
    memcpy(out->id.measurement, ev + 64, 32);
    memcpy(out->id.signer_id, ev + 96, 32);
    out->id.product_id = (uint16_t)(ev[128] | ev[129] << 8);
    out->id.svn = (uint16_t)(ev[130] | ev[131] << 8);
    out->id.debug = ev[132] != 0;
    out->claims = json_object();
    return out->claims ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* The accepted key is the certificate's: its SPKI hash is what the evidence
 * binds. */
static bool key_bound(const uint8_t *der, size_t len, const struct vouch_atls_peer *p)
{
    struct vouch_x509 *c = NULL;
    uint8_t h[VOUCH_SHA256_LEN];
    bool ok = vouch_x509_parse_der(der, len, &c) == VOUCH_OK &&
              vouch_x509_spki_sha256(c, h) == VOUCH_OK && memcmp(h, p->report_data, 32) == 0;
    vouch_x509_free(c);
    return ok;
}

static void check(const uint8_t *der, size_t len, const struct vouch_atls_verifier *v)
{
    struct vouch_atls_peer peer;
    char detail[160];
    vouch_err rc;

    memset(&peer, 0x55, sizeof(peer));
    rc = vouch_atls_verify_cert(der, len, v, &peer, detail, sizeof(detail));
    if (!memchr(detail, '\0', sizeof(detail)))
        abort();
    if (rc != VOUCH_OK) {
        if (!all_zero(&peer, sizeof(peer)))
            abort();
        return;
    }
    if (!peer.claims || peer.not_after < v->now || !key_bound(der, len, &peer))
        abort();
    if (v->measurement &&
        (memcmp(peer.id.measurement, v->measurement, 32) != 0 ||
         memcmp(peer.id.signer_id, v->signer_id, 32) != 0 || peer.id.product_id != v->product_id ||
         peer.id.svn < v->min_svn || peer.id.debug ||
         memcmp(peer.report_data + 32, v->nonce, VOUCH_ATLS_NONCE_LEN) != 0))
        abort();
    vouch_atls_peer_free(&peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vouch_x509 *ca;
    struct vouch_atls_verifier lenient = {.now = T0,
                                          .sim_anchors = &ca,
                                          .n_sim_anchors = 1,
                                          .other_format = raw_format,
                                          .allow_debug = true};
    struct vouch_atls_verifier strict = {.now = T0,
                                         .sim_anchors = &ca,
                                         .n_sim_anchors = 1,
                                         .other_format = raw_format,
                                         .measurement = want_measurement,
                                         .signer_id = want_signer,
                                         .check_product_id = true,
                                         .product_id = 1,
                                         .min_svn = 2,
                                         .nonce = want_nonce};

    if (!ca && vouch_x509_parse((const uint8_t *)ca_pem, sizeof(ca_pem) - 1, &ca) != VOUCH_OK)
        return 0;
    check(data, size, &lenient);
    check(data, size, &strict);
    return 0;
}
