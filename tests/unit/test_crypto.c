/*
 * Crypto: hashes, ECDSA/RSA verification, X.509 and CRLs, all against real
 * vendor data (Intel DCAP quotes and collateral, AMD SEV-SNP reports and
 * chains, TPM quotes). Every positive check is paired with a negative one
 * (a flipped byte, the wrong key or issuer, malformed input).
 */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#define SGX_EXT_OID "1.2.840.113741.1.13.1"
#define NOW_S1      1751328000 /* 2025-07-01, inside the SGX S1 window */

static const char intel_root_fp[] =
    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";
static const char amd_milan_ark_fp[] =
    "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd";

static const char *const collaterals[] = {
    "evidence/sgx/v3_phala_collateral.json",
    "evidence/tdx/v4_phala_collateral.json",
    "evidence/tdx/v4_fmspc50806f_2023-06_collateral.json",
    "evidence/tdx/v5_fmspc90c06f_2026-02_collateral.json",
    "evidence/tdx/v5_oe_eval21_collateral.json",
    "evidence/tdx/v5_oe_relaunch_collateral.json",
};

/* ---------------- helpers ---------------- */

static void hex_of(const uint8_t *p, size_t len, char *out)
{
    vouch_hex_encode(p, len, out);
}

static uint8_t *unhex(const char *hex, size_t hexlen, size_t *len_out)
{
    uint8_t *p = NULL;
    assert_int_equal(vouch_hex_decode_alloc(hex, hexlen, &p, len_out), VOUCH_OK);
    return p;
}

static size_t find_bytes(const uint8_t *p, size_t len, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(p + i, needle, n) == 0)
            return i;
    }
    return SIZE_MAX;
}

/* A DER TLV as a (start, total length, header length) triple. */
struct tlv {
    const uint8_t *p;
    size_t len;
    size_t hdr;
};

static struct tlv tlv_at(const uint8_t *p, size_t avail)
{
    struct tlv t = {p, 0, 0};
    size_t body = 0;
    assert_true(avail >= 2);
    if (p[1] < 0x80) {
        body = p[1];
        t.hdr = 2;
    } else {
        size_t nb = p[1] & 0x7fu;
        assert_true(nb >= 1 && nb <= 4 && avail >= 2 + nb);
        for (size_t i = 0; i < nb; i++)
            body = (body << 8) | p[2 + i];
        t.hdr = 2 + nb;
    }
    t.len = t.hdr + body;
    assert_true(t.len <= avail);
    return t;
}

/* The idx-th element inside constructed TLV @p parent. */
static struct tlv tlv_child(struct tlv parent, unsigned idx)
{
    const uint8_t *p = parent.p + parent.hdr;
    size_t left = parent.len - parent.hdr;
    struct tlv t = tlv_at(p, left);
    while (idx--) {
        p += t.len;
        left -= t.len;
        t = tlv_at(p, left);
    }
    return t;
}

static json_t *load_json(const char *rel)
{
    size_t len = 0;
    uint8_t *buf = vt_read(rel, &len);
    json_error_t err;
    json_t *j = json_loadb((const char *)buf, len, 0, &err);
    free(buf);
    assert_non_null(j);
    return j;
}

static const char *jstr(const json_t *o, const char *key, size_t *len)
{
    const json_t *v = json_object_get(o, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    *len = json_string_length(v);
    return json_string_value(v);
}

static void free_chain(struct vouch_x509 **c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vouch_x509_free(c[i]);
}

static void assert_fp(const struct vouch_x509 *c, const char *want)
{
    uint8_t fp[VOUCH_SHA256_LEN];
    char hex[2 * VOUCH_SHA256_LEN + 1];
    vouch_x509_fingerprint(c, fp);
    hex_of(fp, sizeof(fp), hex);
    assert_string_equal(hex, want);
}

static void assert_cn(const struct vouch_x509 *c, const char *subject, const char *issuer)
{
    char cn[128];
    assert_int_equal(vouch_x509_subject_cn(c, cn, sizeof(cn)), VOUCH_OK);
    assert_string_equal(cn, subject);
    assert_int_equal(vouch_x509_issuer_cn(c, cn, sizeof(cn)), VOUCH_OK);
    assert_string_equal(cn, issuer);
}

/* The PCK chain in an SGX v3 quote: cert data type 5 after the QE auth data. */
static const uint8_t *sgx_v3_cert_data(const uint8_t *q, size_t qlen, size_t *len)
{
    size_t off = 436 + 64 + 64 + 384 + 64;
    size_t auth;
    uint32_t size;
    assert_true(qlen > off + 2);
    auth = (size_t)q[off] | ((size_t)q[off + 1] << 8);
    off += 2 + auth;
    assert_true(qlen >= off + 6);
    assert_int_equal(q[off] | (q[off + 1] << 8), 5);
    size = (uint32_t)q[off + 2] | ((uint32_t)q[off + 3] << 8) | ((uint32_t)q[off + 4] << 16) |
           ((uint32_t)q[off + 5] << 24);
    off += 6;
    assert_true(qlen >= off + size);
    *len = size;
    return q + off;
}

static struct vouch_x509 *load_der(const char *rel)
{
    size_t len = 0;
    uint8_t *buf = vt_read(rel, &len);
    struct vouch_x509 *c = NULL;
    assert_int_equal(vouch_x509_parse_der(buf, len, &c), VOUCH_OK);
    free(buf);
    return c;
}

static void load_pem_chain(const char *rel, struct vouch_x509 **certs, size_t max, size_t *n)
{
    size_t len = 0;
    uint8_t *buf = vt_read(rel, &len);
    assert_int_equal(vouch_x509_parse_pem_chain(buf, len, certs, max, n), VOUCH_OK);
    free(buf);
}

/* ECDSA-Sig-Value from fixed-width big-endian r and s (test-side encoder). */
static size_t der_int(const uint8_t *v, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;
    while (i + 1 < n && v[i] == 0)
        i++;
    out[o++] = 0x02;
    out[o++] = (uint8_t)(n - i + ((v[i] & 0x80) ? 1 : 0));
    if (v[i] & 0x80)
        out[o++] = 0;
    memcpy(out + o, v + i, n - i);
    return o + n - i;
}

static size_t ecdsa_der(const uint8_t *rs, size_t n, uint8_t *out)
{
    size_t o = 2;
    o += der_int(rs, n, out + o);
    o += der_int(rs + n, n, out + o);
    out[0] = 0x30;
    out[1] = (uint8_t)(o - 2);
    return o;
}

/* Wraps DER in PEM with 64-column lines. Caller frees. */
static char *pem_wrap(const uint8_t *der, size_t len, const char *label)
{
    size_t b64len = vouch_base64_encoded_len(len, false);
    char *b64 = malloc(b64len + 1);
    char *out = malloc(b64len + b64len / 64 + 128);
    size_t o = 0;
    assert_non_null(b64);
    assert_non_null(out);
    vouch_base64_encode(der, len, false, b64);
    o += (size_t)sprintf(out, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < b64len; i += 64) {
        size_t n = b64len - i < 64 ? b64len - i : 64;
        memcpy(out + o, b64 + i, n);
        o += n;
        out[o++] = '\n';
    }
    o += (size_t)sprintf(out + o, "-----END %s-----\n", label);
    free(b64);
    return out;
}

/* ---------------- hashes and randomness ---------------- */

static void test_hash_kat(void **state)
{
    static const struct {
        enum vouch_hash_alg alg;
        const char *hex;
    } kat[] = {
        {VOUCH_HASH_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {VOUCH_HASH_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {VOUCH_HASH_SHA384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                            "8086072ba1e7cc2358baeca134c825a7"},
        {VOUCH_HASH_SHA512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    };
    uint8_t out[VOUCH_MAX_HASH_LEN];
    char hex[2 * VOUCH_MAX_HASH_LEN + 1];
    (void)state;

    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        struct vouch_hash_ctx *c = NULL;
        size_t n = vouch_hash_len(kat[i].alg);
        assert_int_equal(n * 2, strlen(kat[i].hex));
        assert_int_equal(vouch_hash(kat[i].alg, "abc", 3, out), VOUCH_OK);
        hex_of(out, n, hex);
        assert_string_equal(hex, kat[i].hex);
        /* The same digest in pieces, with an empty piece in the middle. */
        memset(out, 0, sizeof(out));
        assert_int_equal(vouch_hash_init(kat[i].alg, &c), VOUCH_OK);
        assert_int_equal(vouch_hash_update(c, "a", 1), VOUCH_OK);
        assert_int_equal(vouch_hash_update(c, NULL, 0), VOUCH_OK);
        assert_int_equal(vouch_hash_update(c, "bc", 2), VOUCH_OK);
        assert_int_equal(vouch_hash_final(c, out), VOUCH_OK);
        hex_of(out, n, hex);
        assert_string_equal(hex, kat[i].hex);
    }
    assert_int_equal(vouch_sha256("abc", 3, out), VOUCH_OK);
    hex_of(out, 32, hex);
    assert_string_equal(hex, kat[1].hex);
    /* The empty message has a well-known digest too. */
    assert_int_equal(vouch_sha256(NULL, 0, out), VOUCH_OK);
    hex_of(out, 32, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hash_errors(void **state)
{
    uint8_t out[VOUCH_MAX_HASH_LEN];
    struct vouch_hash_ctx *c = (struct vouch_hash_ctx *)1;
    (void)state;

    assert_int_equal(vouch_hash_len((enum vouch_hash_alg)99), 0);
    assert_int_equal(vouch_hash((enum vouch_hash_alg)99, "abc", 3, out), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, NULL, 3, out), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_hash_init((enum vouch_hash_alg)0, &c), VOUCH_ERR_INVAL);
    assert_null(c);
    /* final frees the context even when it fails. */
    assert_int_equal(vouch_hash_init(VOUCH_HASH_SHA384, &c), VOUCH_OK);
    assert_int_equal(vouch_hash_final(c, NULL), VOUCH_ERR_INVAL);
    vouch_hash_ctx_free(NULL);
    /* Our allocation failing is NOMEM, never a crash or a leak. */
    vouch_fault_after(1);
    assert_int_equal(vouch_hash_init(VOUCH_HASH_SHA256, &c), VOUCH_ERR_NOMEM);
    vouch_fault_after(0);
    assert_null(c);
}

static void test_random(void **state)
{
    uint8_t a[32], b[32], zero[32] = {0};
    (void)state;
    assert_int_equal(vouch_random(a, sizeof(a)), VOUCH_OK);
    assert_int_equal(vouch_random(b, sizeof(b)), VOUCH_OK);
    assert_true(memcmp(a, b, sizeof(a)) != 0);
    assert_true(memcmp(a, zero, sizeof(a)) != 0);
    assert_int_equal(vouch_random(NULL, 0), VOUCH_OK);
    assert_int_equal(vouch_random(NULL, 1), VOUCH_ERR_INVAL);
}

/* ---------------- X.509 ---------------- */

static void test_intel_root(void **state)
{
    size_t len = 0;
    uint8_t *der = vt_read("evidence/roots/intel_sgx_root_ca.der", &len);
    struct vouch_x509 *root = NULL, *again = NULL;
    struct vouch_pubkey *k = NULL;
    const uint8_t *p = NULL;
    size_t n = 0;
    uint8_t serial[32];
    char hex[65];
    int64_t nb = 0, na = 0;
    (void)state;

    assert_int_equal(len, 659);
    assert_int_equal(vouch_x509_parse_der(der, len, &root), VOUCH_OK);
    assert_fp(root, intel_root_fp);
    vouch_x509_der(root, &p, &n);
    assert_int_equal(n, len);
    assert_memory_equal(p, der, len);
    assert_cn(root, "Intel SGX Root CA", "Intel SGX Root CA");
    assert_int_equal(vouch_x509_serial(root, serial, sizeof(serial), &n), VOUCH_OK);
    assert_int_equal(n, 20);
    hex_of(serial, n, hex);
    assert_string_equal(hex, "22650cd65a9d3489f383b49552bf501b392706ac");
    assert_int_equal(vouch_x509_serial(root, serial, 19, &n), VOUCH_ERR_TOO_LARGE);
    vouch_x509_validity(root, &nb, &na);
    assert_int_equal(nb, 1526899510); /* 2018-05-21T10:45:10Z */
    assert_int_equal(na, 2524607999); /* 2049-12-31T23:59:59Z */
    assert_true(vouch_x509_is_ca(root));
    assert_true(vouch_x509_issued_by_name(root, root));
    assert_int_equal(vouch_x509_verify_signed_by(root, root), VOUCH_OK);
    assert_int_equal(vouch_x509_pubkey(root, &k), VOUCH_OK);
    assert_true(vouch_pubkey_is_ec(k, VOUCH_CURVE_P256));
    assert_false(vouch_pubkey_is_ec(k, VOUCH_CURVE_P384));
    vouch_pubkey_free(k);

    /* Extensions: basicConstraints is present, the SGX one is not. */
    assert_int_equal(vouch_x509_extension(root, "2.5.29.19", &p, &n), VOUCH_OK);
    assert_true(n >= 5);
    assert_int_equal(p[0], 0x30);
    assert_int_equal(vouch_x509_extension(root, SGX_EXT_OID, &p, &n), VOUCH_ERR_NOT_FOUND);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_int_equal(vouch_x509_extension(root, "not an oid", &p, &n), VOUCH_ERR_INVAL);
    assert_int_equal(vouch_x509_extension(root, "basicConstraints", &p, &n), VOUCH_ERR_INVAL);

    /* vouch_x509_parse takes DER as well; references outlive the first free. */
    assert_int_equal(vouch_x509_parse(der, len, &again), VOUCH_OK);
    assert_fp(again, intel_root_fp);
    assert_ptr_equal(vouch_x509_ref(again), again);
    vouch_x509_free(again);
    assert_cn(again, "Intel SGX Root CA", "Intel SGX Root CA");
    vouch_x509_free(again);
    assert_null(vouch_x509_ref(NULL));

    /* CN into a short buffer. */
    {
        char small[8];
        assert_int_equal(vouch_x509_subject_cn(root, small, sizeof(small)), VOUCH_ERR_TOO_LARGE);
        assert_int_equal(vouch_x509_subject_cn(root, small, 0), VOUCH_ERR_INVAL);
    }
    vouch_x509_free(root);
    free(der);
}

static void test_x509_malformed(void **state)
{
    size_t len = 0;
    uint8_t *der = vt_read("evidence/roots/intel_sgx_root_ca.der", &len);
    uint8_t *big = calloc(1, VOUCH_MAX_CERT_SIZE + 1);
    struct vouch_x509 *c = (struct vouch_x509 *)1;
    static const char junk_pem[] = "-----BEGIN CERTIFICATE-----\nnot*base64!\n"
                                   "-----END CERTIFICATE-----\n";
    (void)state;

    assert_non_null(big);
    assert_int_equal(vouch_x509_parse_der(NULL, 0, &c), VOUCH_ERR_PARSE);
    assert_null(c);
    assert_int_equal(vouch_x509_parse_der(der, 0, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_x509_parse_der(der, len, NULL), VOUCH_ERR_INVAL);
    /* Every truncation fails cleanly. */
    for (size_t n = 1; n < len; n++) {
        assert_int_equal(vouch_x509_parse_der(der, n, &c), VOUCH_ERR_PARSE);
        assert_null(c);
    }
    /* Trailing bytes after the certificate are not ignored. */
    memcpy(big, der, len);
    assert_int_equal(vouch_x509_parse_der(big, len + 1, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_x509_parse_der(big, VOUCH_MAX_CERT_SIZE + 1, &c), VOUCH_ERR_TOO_LARGE);
    /* Garbage in both forms. */
    assert_int_equal(vouch_x509_parse_der((const uint8_t *)"hello world", 11, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_x509_parse((const uint8_t *)"hello world", 11, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_x509_parse((const uint8_t *)junk_pem, strlen(junk_pem), &c),
                     VOUCH_ERR_PARSE);
    assert_null(c);
    /* A byte flipped inside the certificate: it may still parse (the
     * signature is what catches it), but it never crashes. */
    for (size_t i = 0; i < len; i += 7) {
        uint8_t save = der[i];
        der[i] ^= 0x41;
        if (vouch_x509_parse_der(der, len, &c) == VOUCH_OK) {
            vouch_err rc = vouch_x509_verify_signed_by(c, c);
            assert_true(rc == VOUCH_ERR_SIGNATURE || rc == VOUCH_ERR_UNSUPPORTED);
            vouch_x509_free(c);
        }
        assert_null(vouch_x509_ref(NULL));
        der[i] = save;
    }
    /* Allocation failures inside parsing are NOMEM and leak nothing. */
    for (unsigned long f = 1; f <= 2; f++) {
        vouch_fault_after(f);
        assert_int_equal(vouch_x509_parse_der(der, len, &c), VOUCH_ERR_NOMEM);
        vouch_fault_after(0);
        assert_null(c);
    }
    free(big);
    free(der);
}

static void test_pck_chain_from_quote(void **state)
{
    size_t qlen = 0, cd_len = 0, n = 0, elen = 0;
    uint8_t *q = vt_read("evidence/sgx/v3_phala_quote.bin", &qlen);
    const uint8_t *cd = sgx_v3_cert_data(q, qlen, &cd_len);
    struct vouch_x509 *chain[VOUCH_MAX_CHAIN_DEPTH];
    const uint8_t *ext = NULL;
    int64_t nb = 0, na = 0;
    (void)state;

    /* As Intel ships it: PEM chain plus one NUL. */
    assert_int_equal(cd[cd_len - 1], 0);
    assert_int_equal(vouch_x509_parse_pem_chain(cd, cd_len, chain, VOUCH_MAX_CHAIN_DEPTH, &n),
                     VOUCH_OK);
    assert_int_equal(n, 3);
    assert_cn(chain[0], "Intel SGX PCK Certificate", "Intel SGX PCK Processor CA");
    assert_cn(chain[1], "Intel SGX PCK Processor CA", "Intel SGX Root CA");
    assert_fp(chain[2], intel_root_fp);

    assert_int_equal(vouch_x509_verify_signed_by(chain[0], chain[1]), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(chain[1], chain[2]), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(chain[2], chain[2]), VOUCH_OK);
    assert_true(vouch_x509_issued_by_name(chain[0], chain[1]));
    assert_true(vouch_x509_issued_by_name(chain[1], chain[2]));
    /* Wrong issuers. */
    assert_int_equal(vouch_x509_verify_signed_by(chain[0], chain[2]), VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_x509_verify_signed_by(chain[1], chain[0]), VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_x509_verify_signed_by(chain[0], chain[0]), VOUCH_ERR_SIGNATURE);
    assert_false(vouch_x509_issued_by_name(chain[0], chain[2]));
    assert_false(vouch_x509_issued_by_name(chain[1], chain[1]));

    assert_false(vouch_x509_is_ca(chain[0]));
    assert_true(vouch_x509_is_ca(chain[1]));
    assert_true(vouch_x509_is_ca(chain[2]));
    vouch_x509_validity(chain[0], &nb, &na);
    assert_true(nb < NOW_S1 && NOW_S1 < na);

    /* The SGX extension is on the leaf only, as a DER SEQUENCE. */
    assert_int_equal(vouch_x509_extension(chain[0], SGX_EXT_OID, &ext, &elen), VOUCH_OK);
    assert_true(elen > 100);
    assert_int_equal(ext[0], 0x30);
    assert_int_equal(vouch_x509_extension(chain[1], SGX_EXT_OID, &ext, &elen), VOUCH_ERR_NOT_FOUND);
    assert_int_equal(vouch_x509_extension(chain[2], SGX_EXT_OID, &ext, &elen), VOUCH_ERR_NOT_FOUND);
    free_chain(chain, n);

    /* The cap: more certificates than allowed, and outputs stay empty. */
    assert_int_equal(vouch_x509_parse_pem_chain(cd, cd_len, chain, 2, &n), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(n, 0);
    assert_null(chain[0]);
    assert_null(chain[1]);
    assert_int_equal(vouch_x509_parse_pem_chain(cd, cd_len, NULL, 0, &n), VOUCH_ERR_TOO_LARGE);

    /* Framing: without the NUL and the final newline; with extra blank
     * space and several NULs; junk after, between or inside is refused. */
    {
        uint8_t *buf = malloc(cd_len + 64);
        const char *end = "-----END CERTIFICATE-----";
        size_t body = cd_len - 2; /* drop "\n\0" */
        size_t first_end;
        assert_non_null(buf);
        assert_int_equal(memcmp(cd + body - strlen(end), end, strlen(end)), 0);

        assert_int_equal(vouch_x509_parse_pem_chain(cd, body, chain, 3, &n), VOUCH_OK);
        assert_int_equal(n, 3);
        free_chain(chain, n);

        memcpy(buf, "\r\n  ", 4);
        memcpy(buf + 4, cd, body);
        memcpy(buf + 4 + body, "\r\n \t\n\0\0\0", 8);
        assert_int_equal(vouch_x509_parse_pem_chain(buf, body + 12, chain, 3, &n), VOUCH_OK);
        assert_int_equal(n, 3);
        free_chain(chain, n);

        memcpy(buf, cd, body);
        memcpy(buf + body, "\nx", 2);
        assert_int_equal(vouch_x509_parse_pem_chain(buf, body + 2, chain, 3, &n), VOUCH_ERR_PARSE);
        memcpy(buf + body, "\n\0\n", 3);
        assert_int_equal(vouch_x509_parse_pem_chain(buf, body + 3, chain, 3, &n), VOUCH_ERR_PARSE);
        assert_int_equal(n, 0);
        assert_null(chain[0]);

        memcpy(buf, cd, body);
        first_end = find_bytes(buf, body, end, strlen(end)) + strlen(end);
        buf[first_end] = '#'; /* replaces the newline between cert 1 and 2 */
        assert_int_equal(vouch_x509_parse_pem_chain(buf, body, chain, 3, &n), VOUCH_ERR_PARSE);

        memcpy(buf, cd, body);
        buf[100] = '*'; /* inside the first certificate's base64 */
        assert_int_equal(vouch_x509_parse_pem_chain(buf, body, chain, 3, &n), VOUCH_ERR_PARSE);

        /* Every truncation fails cleanly, unless it falls right after a
         * complete certificate: then the shorter chain is what was given. */
        for (size_t t = 0; t < body; t++) {
            vouch_err rc = vouch_x509_parse_pem_chain(cd, t, chain, 3, &n);
            size_t e = t;
            while (e > 0 && (cd[e - 1] == '\n' || cd[e - 1] == 0))
                e--;
            if (e >= strlen(end) && memcmp(cd + e - strlen(end), end, strlen(end)) == 0 && e > 0) {
                assert_int_equal(rc, VOUCH_OK);
                assert_true(n >= 1 && n < 3);
                free_chain(chain, n);
            } else {
                assert_int_not_equal(rc, VOUCH_OK);
                assert_int_equal(n, 0);
            }
        }
        free(buf);
    }
    assert_int_equal(vouch_x509_parse_pem_chain((const uint8_t *)"\0\0", 2, chain, 3, &n),
                     VOUCH_ERR_PARSE);
    assert_int_equal(vouch_x509_parse_pem_chain((const uint8_t *)"", 0, chain, 3, &n),
                     VOUCH_ERR_PARSE);
    assert_int_equal(vouch_x509_parse_pem_chain((const uint8_t *)"  \n", 3, chain, 3, &n),
                     VOUCH_ERR_PARSE);

    /* Single-certificate parse of a PEM bundle takes the first. */
    {
        struct vouch_x509 *c = NULL;
        assert_int_equal(vouch_x509_parse(cd, cd_len, &c), VOUCH_OK);
        assert_cn(c, "Intel SGX PCK Certificate", "Intel SGX PCK Processor CA");
        vouch_x509_free(c);
    }

    /* Our allocations failing at any point: NOMEM, nothing leaked. */
    for (unsigned long f = 1; f <= 8; f++) {
        vouch_err rc;
        vouch_fault_after(f);
        rc = vouch_x509_parse_pem_chain(cd, cd_len, chain, 3, &n);
        vouch_fault_after(0);
        if (rc == VOUCH_OK) {
            assert_int_equal(n, 3);
            free_chain(chain, n);
        } else {
            assert_int_equal(rc, VOUCH_ERR_NOMEM);
            assert_int_equal(n, 0);
        }
    }
    free(q);
}

/* Reuse of already-parsed certificates: same objects back, others parsed. */
static void test_pck_chain_reuse(void **state)
{
    size_t qlen = 0, cd_len = 0, n = 0, n2 = 0;
    uint8_t *q = vt_read("evidence/sgx/v3_phala_quote.bin", &qlen);
    const uint8_t *cd = sgx_v3_cert_data(q, qlen, &cd_len);
    struct vouch_x509 *root = load_der("evidence/roots/intel_sgx_root_ca.der");
    struct vouch_x509 *amd[2];
    struct vouch_x509 *chain[3], *again[3];
    struct vouch_x509 *known[3];
    (void)state;

    load_pem_chain("evidence/roots/amd_milan_ask_ark.pem", amd, 2, &n);
    known[0] = amd[1];
    known[1] = NULL;
    known[2] = root;
    assert_int_equal(vouch_x509_parse_pem_chain_reuse(cd, cd_len, known, 3, chain, 3, &n2),
                     VOUCH_OK);
    assert_int_equal(n2, 3);
    assert_ptr_equal(chain[2], root);
    assert_ptr_not_equal(chain[1], root);
    assert_ptr_not_equal(chain[0], amd[1]);
    assert_cn(chain[1], "Intel SGX PCK Processor CA", "Intel SGX Root CA");
    assert_int_equal(vouch_x509_verify_signed_by(chain[1], chain[2]), VOUCH_OK);

    /* Feed the whole first result back: every certificate is reused. */
    assert_int_equal(vouch_x509_parse_pem_chain_reuse(cd, cd_len, chain, 3, again, 3, &n2),
                     VOUCH_OK);
    for (size_t i = 0; i < 3; i++)
        assert_ptr_equal(again[i], chain[i]);
    free_chain(again, n2);
    /* The references taken are independent: freeing the chain keeps root. */
    free_chain(chain, 3);
    assert_cn(root, "Intel SGX Root CA", "Intel SGX Root CA");

    assert_int_equal(vouch_x509_parse_pem_chain_reuse(cd, cd_len, NULL, 1, chain, 3, &n2),
                     VOUCH_ERR_INVAL);
    assert_int_equal(
        vouch_x509_parse_pem_chain_reuse((const uint8_t *)"x", 1, known, 3, chain, 3, &n2),
        VOUCH_ERR_PARSE);
    assert_int_equal(n2, 0);

    vouch_x509_free(root);
    free_chain(amd, n);
    free(q);
}

static void test_flipped_cert_signature(void **state)
{
    size_t qlen = 0, cd_len = 0, n = 0, dlen = 0;
    uint8_t *q = vt_read("evidence/sgx/v3_phala_quote.bin", &qlen);
    const uint8_t *cd = sgx_v3_cert_data(q, qlen, &cd_len);
    struct vouch_x509 *chain[3];
    struct vouch_x509 *bad = NULL;
    const uint8_t *der = NULL;
    uint8_t *copy;
    struct tlv cert, tbs, subj;
    uint8_t fp_good[32], fp_bad[32];
    (void)state;

    assert_int_equal(vouch_x509_parse_pem_chain(cd, cd_len, chain, 3, &n), VOUCH_OK);
    vouch_x509_der(chain[0], &der, &dlen);
    copy = malloc(dlen);
    assert_non_null(copy);

    /* Last byte belongs to s in the ECDSA signature. */
    memcpy(copy, der, dlen);
    copy[dlen - 1] ^= 0x01;
    assert_int_equal(vouch_x509_parse_der(copy, dlen, &bad), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(bad, chain[1]), VOUCH_ERR_SIGNATURE);
    vouch_x509_fingerprint(chain[0], fp_good);
    vouch_x509_fingerprint(bad, fp_bad);
    assert_memory_not_equal(fp_good, fp_bad, 32);
    vouch_x509_free(bad);

    /* A byte of the signed part (inside the subject name). */
    memcpy(copy, der, dlen);
    cert = tlv_at(copy, dlen);
    tbs = tlv_child(cert, 0);
    subj = tlv_child(tbs, 5);
    copy[subj.p - copy + subj.len - 1] ^= 0x01;
    assert_int_equal(vouch_x509_parse_der(copy, dlen, &bad), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(bad, chain[1]), VOUCH_ERR_SIGNATURE);
    vouch_x509_free(bad);

    free(copy);
    free_chain(chain, n);
    free(q);
}

static void test_amd_chain(void **state)
{
    struct vouch_x509 *milan[4], *genoa[4], *vcek, *vcek2;
    struct vouch_pubkey *k = NULL;
    size_t n = 0, ng = 0, slen = 0;
    uint8_t serial[8] = {0xff};
    int64_t nb = 0, na = 0;
    (void)state;

    load_pem_chain("evidence/roots/amd_milan_ask_ark.pem", milan, 4, &n);
    assert_int_equal(n, 2);
    assert_cn(milan[0], "SEV-Milan", "ARK-Milan");
    assert_cn(milan[1], "ARK-Milan", "ARK-Milan");
    assert_fp(milan[1], amd_milan_ark_fp);
    assert_true(vouch_x509_is_ca(milan[0]));
    assert_true(vouch_x509_is_ca(milan[1]));
    /* RSA-PSS / SHA-384 signatures. */
    assert_int_equal(vouch_x509_verify_signed_by(milan[1], milan[1]), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(milan[0], milan[1]), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(milan[1], milan[0]), VOUCH_ERR_SIGNATURE);

    vcek = load_der("evidence/snp/milan_v2_gosev_vcek.der");
    vcek2 = load_der("evidence/snp/milan_v2_virtee_vcek.der");
    assert_cn(vcek, "SEV-VCEK", "SEV-Milan");
    assert_int_equal(vouch_x509_verify_signed_by(vcek, milan[0]), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(vcek2, milan[0]), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(vcek, milan[1]), VOUCH_ERR_SIGNATURE);
    assert_true(vouch_x509_issued_by_name(vcek, milan[0]));
    assert_false(vouch_x509_issued_by_name(vcek, milan[1]));
    assert_false(vouch_x509_is_ca(vcek));
    assert_int_equal(vouch_x509_serial(vcek, serial, sizeof(serial), &slen), VOUCH_OK);
    assert_int_equal(slen, 1);
    assert_int_equal(serial[0], 0);
    vouch_x509_validity(vcek, &nb, &na);
    assert_int_equal(nb, 1663980928); /* 2022-09-24T00:55:28Z */
    assert_int_equal(na, 1884905728); /* 2029-09-24T00:55:28Z */
    assert_int_equal(vouch_x509_pubkey(vcek, &k), VOUCH_OK);
    assert_true(vouch_pubkey_is_ec(k, VOUCH_CURVE_P384));
    assert_false(vouch_pubkey_is_ec(k, VOUCH_CURVE_P256));
    vouch_pubkey_free(k);

    /* Another product line: its own chain verifies, the cross one does not. */
    load_pem_chain("evidence/roots/amd_genoa_ask_ark.pem", genoa, 4, &ng);
    assert_int_equal(ng, 2);
    assert_int_equal(vouch_x509_verify_signed_by(genoa[0], genoa[1]), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(milan[0], genoa[1]), VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_x509_verify_signed_by(vcek, genoa[0]), VOUCH_ERR_SIGNATURE);

    vouch_x509_free(vcek);
    vouch_x509_free(vcek2);
    free_chain(milan, n);
    free_chain(genoa, ng);
}

/* RSA PKCS#1 v1.5 certificate signatures: the swtpm EK chain. */
static void test_swtpm_ek_chain(void **state)
{
    struct vouch_x509 *ek = load_der("tpm/swtpm-replayed-rhel8/ek_rsa_cert.der");
    struct vouch_x509 *issuer = NULL, *root = NULL;
    size_t n = 0, len = 0;
    uint8_t *pem = vt_read("tpm/swtpm-replayed-rhel8/swtpm_localca_issuer.pem", &len);
    (void)state;

    assert_int_equal(vouch_x509_parse(pem, len, &issuer), VOUCH_OK);
    free(pem);
    pem = vt_read("tpm/swtpm-replayed-rhel8/swtpm_localca_root.pem", &len);
    assert_int_equal(vouch_x509_parse_pem_chain(pem, len, &root, 1, &n), VOUCH_OK);
    free(pem);
    assert_cn(ek, "unknown", "swtpm-localca");
    assert_cn(issuer, "swtpm-localca", "swtpm-localca-rootca");
    assert_false(vouch_x509_is_ca(ek));
    assert_true(vouch_x509_is_ca(issuer));
    assert_int_equal(vouch_x509_verify_signed_by(ek, issuer), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(issuer, root), VOUCH_OK);
    assert_int_equal(vouch_x509_verify_signed_by(ek, root), VOUCH_ERR_SIGNATURE);
    assert_true(vouch_x509_issued_by_name(issuer, root));
    assert_false(vouch_x509_issued_by_name(ek, root));
    vouch_x509_free(ek);
    vouch_x509_free(issuer);
    vouch_x509_free(root);
}

/* ---------------- CRLs ---------------- */

static struct vouch_crl *crl_from_json(const json_t *j, const char *key)
{
    size_t len = 0;
    const char *hex = jstr(j, key, &len);
    struct vouch_crl *crl = NULL;
    assert_int_equal(vouch_crl_parse((const uint8_t *)hex, len, &crl), VOUCH_OK);
    return crl;
}

static void test_crl_sgx_collateral(void **state)
{
    json_t *j = load_json("evidence/sgx/v3_phala_collateral.json");
    struct vouch_x509 *chain[3];
    struct vouch_crl *root_crl = crl_from_json(j, "root_ca_crl");
    struct vouch_crl *pck_crl = crl_from_json(j, "pck_crl");
    size_t n = 0, len = 0, qlen = 0, cd_len = 0, qn = 0;
    const char *pem = jstr(j, "pck_crl_issuer_chain", &len);
    uint8_t *q = vt_read("evidence/sgx/v3_phala_quote.bin", &qlen);
    const uint8_t *cd = sgx_v3_cert_data(q, qlen, &cd_len);
    struct vouch_x509 *pck[3];
    int64_t tu = 0, nu = 0;
    char cn[64];
    (void)state;

    assert_int_equal(vouch_x509_parse_pem_chain((const uint8_t *)pem, len, chain, 3, &n), VOUCH_OK);
    assert_int_equal(n, 2);
    assert_cn(chain[0], "Intel SGX PCK Processor CA", "Intel SGX Root CA");
    assert_fp(chain[1], intel_root_fp);

    assert_int_equal(vouch_crl_verify_signed_by(root_crl, chain[1]), VOUCH_OK);
    assert_int_equal(vouch_crl_verify_signed_by(pck_crl, chain[0]), VOUCH_OK);
    /* Wrong issuer: the name check fails before the signature is tried. */
    assert_int_equal(vouch_crl_verify_signed_by(root_crl, chain[0]), VOUCH_ERR_MISMATCH);
    assert_int_equal(vouch_crl_verify_signed_by(pck_crl, chain[1]), VOUCH_ERR_MISMATCH);
    assert_true(vouch_crl_issued_by_name(root_crl, chain[1]));
    assert_false(vouch_crl_issued_by_name(root_crl, chain[0]));
    assert_true(vouch_crl_issued_by_name(pck_crl, chain[0]));
    assert_int_equal(vouch_crl_issuer_cn(root_crl, cn, sizeof(cn)), VOUCH_OK);
    assert_string_equal(cn, "Intel SGX Root CA");
    assert_int_equal(vouch_crl_issuer_cn(pck_crl, cn, sizeof(cn)), VOUCH_OK);
    assert_string_equal(cn, "Intel SGX PCK Processor CA");

    vouch_crl_validity(root_crl, &tu, &nu);
    assert_int_equal(tu, 1742469717); /* 2025-03-20T11:21:57Z */
    assert_int_equal(nu, 1775215317); /* 2026-04-03T11:21:57Z */
    vouch_crl_validity(pck_crl, &tu, &nu);
    assert_int_equal(tu, 1750328598); /* 2025-06-19T10:23:18Z */
    assert_int_equal(nu, 1752920598); /* 2025-07-19T10:23:18Z */
    assert_true(tu <= NOW_S1 && NOW_S1 < nu);

    /* The quote's PCK chain: nothing in it is revoked. */
    assert_int_equal(vouch_x509_parse_pem_chain(cd, cd_len, pck, 3, &qn), VOUCH_OK);
    assert_true(vouch_crl_issued_by_name(pck_crl, pck[1]));
    assert_false(vouch_crl_lists(pck_crl, pck[0]));
    assert_false(vouch_crl_lists(root_crl, pck[1]));
    free_chain(pck, qn);

    vouch_crl_free(root_crl);
    vouch_crl_free(pck_crl);
    free_chain(chain, n);
    json_decref(j);
    free(q);
}

static void assert_same_crl(const struct vouch_crl *a, const struct vouch_crl *b,
                            const struct vouch_x509 *issuer)
{
    int64_t ta, na, tb, nb;
    char ca[64], cb[64];
    vouch_crl_validity(a, &ta, &na);
    vouch_crl_validity(b, &tb, &nb);
    assert_int_equal(ta, tb);
    assert_int_equal(na, nb);
    assert_int_equal(vouch_crl_issuer_cn(a, ca, sizeof(ca)), VOUCH_OK);
    assert_int_equal(vouch_crl_issuer_cn(b, cb, sizeof(cb)), VOUCH_OK);
    assert_string_equal(ca, cb);
    assert_int_equal(vouch_crl_verify_signed_by(b, issuer), VOUCH_OK);
}

static void test_crl_forms(void **state)
{
    json_t *j = load_json("evidence/sgx/v3_phala_collateral.json");
    size_t hexlen = 0, dlen = 0, n = 0, len = 0;
    const char *hex = jstr(j, "root_ca_crl", &hexlen);
    const char *pem_chain = jstr(j, "pck_crl_issuer_chain", &len);
    uint8_t *der = unhex(hex, hexlen, &dlen);
    struct vouch_x509 *chain[2];
    struct vouch_crl *from_hex = NULL, *c = (struct vouch_crl *)1;
    char *pem = pem_wrap(der, dlen, "X509 CRL");
    char *upper = malloc(hexlen + 4);
    (void)state;

    assert_non_null(upper);
    assert_int_equal(vouch_x509_parse_pem_chain((const uint8_t *)pem_chain, len, chain, 2, &n),
                     VOUCH_OK);
    assert_int_equal(vouch_crl_parse((const uint8_t *)hex, hexlen, &from_hex), VOUCH_OK);

    assert_int_equal(vouch_crl_parse(der, dlen, &c), VOUCH_OK);
    assert_same_crl(from_hex, c, chain[1]);
    vouch_crl_free(c);
    assert_int_equal(vouch_crl_parse((const uint8_t *)pem, strlen(pem), &c), VOUCH_OK);
    assert_same_crl(from_hex, c, chain[1]);
    vouch_crl_free(c);
    /* Upper-case hex with a trailing newline and NUL, as a C string. */
    for (size_t i = 0; i < hexlen; i++)
        upper[i] = (char)((hex[i] >= 'a' && hex[i] <= 'f') ? hex[i] - 32 : hex[i]);
    memcpy(upper + hexlen, "\n\0", 2);
    assert_int_equal(vouch_crl_parse((const uint8_t *)upper, hexlen + 2, &c), VOUCH_OK);
    assert_same_crl(from_hex, c, chain[1]);
    vouch_crl_free(c);

    /* Malformed forms. */
    c = (struct vouch_crl *)1;
    assert_int_equal(vouch_crl_parse((const uint8_t *)hex, hexlen - 1, &c), VOUCH_ERR_PARSE);
    assert_null(c);
    assert_int_equal(vouch_crl_parse((const uint8_t *)hex, hexlen - 2, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_crl_parse(der, dlen - 1, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_crl_parse(der, 0, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_crl_parse((const uint8_t *)"zz", 2, &c), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_crl_parse((const uint8_t *)pem, strlen(pem) - 10, &c), VOUCH_ERR_PARSE);
    upper[0] = 'x';
    assert_int_equal(vouch_crl_parse((const uint8_t *)upper, hexlen, &c), VOUCH_ERR_PARSE);
    {
        /* PEM followed by junk. */
        size_t pl = strlen(pem);
        char *p2 = malloc(pl + 8);
        assert_non_null(p2);
        memcpy(p2, pem, pl);
        memcpy(p2 + pl, "junk", 4);
        assert_int_equal(vouch_crl_parse((const uint8_t *)p2, pl + 4, &c), VOUCH_ERR_PARSE);
        free(p2);
    }
    for (size_t t = 1; t < dlen; t += 5)
        assert_int_equal(vouch_crl_parse(der, t, &c), VOUCH_ERR_PARSE);
    /* A flipped byte in the signed part: parses or not, never verifies. */
    for (size_t i = 0; i < dlen; i += 3) {
        der[i] ^= 0x20;
        if (vouch_crl_parse(der, dlen, &c) == VOUCH_OK) {
            assert_int_not_equal(vouch_crl_verify_signed_by(c, chain[1]), VOUCH_OK);
            vouch_crl_free(c);
        }
        der[i] ^= 0x20;
    }
    for (unsigned long f = 1; f <= 2; f++) {
        vouch_err rc;
        vouch_fault_after(f);
        rc = vouch_crl_parse((const uint8_t *)hex, hexlen, &c);
        vouch_fault_after(0);
        assert_int_equal(rc, VOUCH_ERR_NOMEM);
        assert_null(c);
    }

    vouch_crl_free(from_hex);
    vouch_crl_free(NULL);
    free_chain(chain, n);
    free(upper);
    free(pem);
    free(der);
    json_decref(j);
}

/* The serial INTEGER of a certificate (tbs: [0] version, serial, ...). */
static struct tlv cert_serial(const uint8_t *der, size_t len)
{
    struct tlv tbs = tlv_child(tlv_at(der, len), 0);
    struct tlv first = tlv_child(tbs, 0);
    return first.p[0] == 0xa0 ? tlv_child(tbs, 1) : first;
}

static void test_crl_lists_revoked(void **state)
{
    json_t *j = load_json("evidence/tdx/v4_phala_collateral.json");
    size_t qlen = 0, hexlen = 0, dlen = 0, n = 0, leaf_len = 0;
    uint8_t *q = vt_read("evidence/tdx/v4_phala_quote.bin", &qlen);
    const char *hex = jstr(j, "pck_crl", &hexlen);
    uint8_t *crl_der = unhex(hex, hexlen, &dlen);
    struct vouch_crl *crl = crl_from_json(j, "pck_crl");
    const char *begin = "-----BEGIN CERTIFICATE-----";
    size_t start = find_bytes(q, qlen, begin, strlen(begin));
    struct vouch_x509 *chain[3], *patched = NULL;
    const uint8_t *leaf_der = NULL;
    uint8_t *copy;
    struct tlv serial, tbs, revoked;
    bool found = false;
    (void)state;

    assert_true(start != SIZE_MAX);
    /* The chain runs to the NUL terminator inside the quote. */
    assert_int_equal(
        vouch_x509_parse_pem_chain(q + start, strlen((const char *)q + start), chain, 3, &n),
        VOUCH_OK);
    assert_int_equal(n, 3);
    assert_cn(chain[1], "Intel SGX PCK Platform CA", "Intel SGX Root CA");
    assert_int_equal(vouch_crl_verify_signed_by(crl, chain[1]), VOUCH_OK);
    assert_false(vouch_crl_lists(crl, chain[0]));

    /* Give a copy of the leaf the serial of a revoked entry of the same
     * length: the lookup must now find it. */
    vouch_x509_der(chain[0], &leaf_der, &leaf_len);
    copy = malloc(leaf_len);
    assert_non_null(copy);
    memcpy(copy, leaf_der, leaf_len);
    serial = cert_serial(copy, leaf_len);
    tbs = tlv_child(tlv_at(crl_der, dlen), 0);
    /* version, signature, issuer, thisUpdate, nextUpdate, revokedCertificates */
    revoked = tlv_child(tbs, 5);
    assert_int_equal(revoked.p[0], 0x30);
    for (const uint8_t *e = revoked.p + revoked.hdr; e < revoked.p + revoked.len && !found;) {
        struct tlv entry = tlv_at(e, (size_t)(revoked.p + revoked.len - e));
        struct tlv rs = tlv_child(entry, 0);
        assert_int_equal(rs.p[0], 0x02);
        if (rs.len == serial.len) {
            memcpy((uint8_t *)serial.p, rs.p, rs.len);
            found = true;
        }
        e += entry.len;
    }
    assert_true(found);
    assert_int_equal(vouch_x509_parse_der(copy, leaf_len, &patched), VOUCH_OK);
    assert_true(vouch_crl_lists(crl, patched));
    /* Same serial, but the signature no longer matches. */
    assert_int_equal(vouch_x509_verify_signed_by(patched, chain[1]), VOUCH_ERR_SIGNATURE);
    vouch_x509_free(patched);

    free(copy);
    free_chain(chain, n);
    vouch_crl_free(crl);
    free(crl_der);
    free(q);
    json_decref(j);
}

/* ---------------- ECDSA ---------------- */

static void check_signed_json(const json_t *j, const char *body_key, const char *sig_key,
                              const char *chain_key)
{
    size_t blen = 0, slen = 0, clen = 0, siglen = 0, n = 0;
    const char *body = jstr(j, body_key, &blen);
    const char *sighex = jstr(j, sig_key, &slen);
    const char *pem = jstr(j, chain_key, &clen);
    uint8_t *sig = unhex(sighex, slen, &siglen);
    uint8_t *msg = malloc(blen);
    struct vouch_x509 *chain[3];
    struct vouch_pubkey *k = NULL, *kxy = NULL;
    uint8_t der[80];
    size_t dl;
    const uint8_t *cder = NULL;
    size_t cdlen = 0, at;
    static const uint8_t spki_p256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};

    assert_non_null(msg);
    memcpy(msg, body, blen);
    assert_int_equal(siglen, 64);
    assert_int_equal(vouch_x509_parse_pem_chain((const uint8_t *)pem, clen, chain, 3, &n),
                     VOUCH_OK);
    assert_int_equal(n, 2);
    assert_cn(chain[0], "Intel SGX TCB Signing", "Intel SGX Root CA");
    assert_fp(chain[1], intel_root_fp);
    assert_int_equal(vouch_x509_verify_signed_by(chain[0], chain[1]), VOUCH_OK);
    assert_int_equal(vouch_x509_pubkey(chain[0], &k), VOUCH_OK);

    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, sig, siglen),
                     VOUCH_OK);
    /* The same signature DER-encoded. */
    dl = ecdsa_der(sig, 32, der);
    assert_int_equal(vouch_ecdsa_verify_der(k, VOUCH_HASH_SHA256, msg, blen, der, dl), VOUCH_OK);
    der[dl] = 0;
    assert_int_equal(vouch_ecdsa_verify_der(k, VOUCH_HASH_SHA256, msg, blen, der, dl + 1),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_ecdsa_verify_der(k, VOUCH_HASH_SHA256, msg, blen, der, dl - 1),
                     VOUCH_ERR_SIGNATURE);
    /* The same key rebuilt from raw X||Y taken out of the certificate. */
    vouch_x509_der(chain[0], &cder, &cdlen);
    at = find_bytes(cder, cdlen, spki_p256, sizeof(spki_p256));
    assert_true(at != SIZE_MAX);
    assert_int_equal(
        vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, cder + at + sizeof(spki_p256), 64, &kxy),
        VOUCH_OK);
    assert_true(vouch_pubkey_is_ec(kxy, VOUCH_CURVE_P256));
    assert_int_equal(vouch_ecdsa_verify_raw(kxy, VOUCH_HASH_SHA256, msg, blen, sig, siglen),
                     VOUCH_OK);
    /* The SPKI itself through the DER parser. */
    {
        struct vouch_pubkey *kd = NULL;
        assert_int_equal(vouch_pubkey_parse(cder + at, 91, &kd), VOUCH_OK);
        assert_int_equal(vouch_ecdsa_verify_raw(kd, VOUCH_HASH_SHA256, msg, blen, sig, siglen),
                         VOUCH_OK);
        vouch_pubkey_free(kd);
        assert_int_equal(vouch_pubkey_parse(cder + at, 90, &kd), VOUCH_ERR_PARSE);
        assert_null(kd);
    }

    /* Negatives: wrong hash, a flipped message byte, a flipped signature
     * byte, wrong lengths, the wrong key. */
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA384, msg, blen, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    msg[blen / 2] ^= 0x01;
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    msg[blen / 2] ^= 0x01;
    sig[40] ^= 0x80;
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    sig[40] ^= 0x80;
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, sig, 63),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, sig, 96),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, NULL, 0),
                     VOUCH_ERR_SIGNATURE);
    {
        uint8_t zero[64] = {0};
        assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, zero, 64),
                         VOUCH_ERR_SIGNATURE);
    }
    {
        struct vouch_pubkey *root_key = NULL;
        assert_int_equal(vouch_x509_pubkey(chain[1], &root_key), VOUCH_OK);
        assert_int_equal(
            vouch_ecdsa_verify_raw(root_key, VOUCH_HASH_SHA256, msg, blen, sig, siglen),
            VOUCH_ERR_SIGNATURE);
        vouch_pubkey_free(root_key);
    }
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, msg, blen, sig, siglen),
                     VOUCH_OK);

    vouch_pubkey_free(k);
    vouch_pubkey_free(kxy);
    free_chain(chain, n);
    free(sig);
    free(msg);
}

static void test_ecdsa_collateral_signatures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(collaterals) / sizeof(collaterals[0]); i++) {
        json_t *j = load_json(collaterals[i]);
        check_signed_json(j, "tcb_info", "tcb_info_signature", "tcb_info_issuer_chain");
        check_signed_json(j, "qe_identity", "qe_identity_signature", "qe_identity_issuer_chain");
        json_decref(j);
    }
}

/* Raw X||Y of an EC P-256 public key, through its JWK. */
static void p256_xy(const struct vouch_pubkey *k, uint8_t xy[64])
{
    json_t *jwk = NULL;
    const char *names[2] = {"x", "y"};

    assert_int_equal(vouch_pkey_pub_to_jwk(k, &jwk), VOUCH_OK);
    for (size_t i = 0; i < 2; i++) {
        const char *t = json_string_value(json_object_get(jwk, names[i]));
        uint8_t *b = NULL;
        size_t blen = 0;
        assert_non_null(t);
        assert_int_equal(vouch_base64_decode(t, strlen(t), true, &b, &blen), VOUCH_OK);
        assert_int_equal(blen, 32);
        memcpy(xy + 32 * i, b, 32);
        vouch_free(b);
    }
    json_decref(jwk);
}

/* Keys built from raw X||Y are remembered and shared: every caller gets its
 * own reference, a key is only ever returned for its exact bytes, and keys
 * pushed out of the cache are rebuilt. */
static void test_ec_pubkey_cache(void **state)
{
    enum { N = 2 * VOUCH_EC_PUBKEY_CACHE_SLOTS + 3 };
    size_t qlen = 0;
    uint8_t *q = vt_read("evidence/sgx/v3_phala_quote.bin", &qlen);
    const uint8_t *isv_sig = q + 436, *att_key = q + 500;
    struct vouch_pubkey *a1 = NULL, *a2 = NULL, *a3 = NULL;
    struct vouch_pubkey **orig = calloc(N, sizeof(*orig)), **built = calloc(N, sizeof(*built));
    uint8_t(*xy)[64] = calloc(N, sizeof(*xy));
    (void)state;

    assert_non_null(orig);
    assert_non_null(built);
    assert_non_null(xy);
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, att_key, 64, &a1), VOUCH_OK);
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, att_key, 64, &a2), VOUCH_OK);
    assert_ptr_not_equal(a1, a2);
    assert_true(vouch_pkey_pub_eq(a1, a2));
    assert_true(vouch_pubkey_is_ec(a2, VOUCH_CURVE_P256));
    vouch_pubkey_free(a1); /* a2 keeps its own reference */
    assert_int_equal(vouch_ecdsa_verify_raw(a2, VOUCH_HASH_SHA256, q, 432, isv_sig, 64), VOUCH_OK);
    /* The same bytes as P-384 are not a key (wrong length), cached or not. */
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P384, att_key, 64, &a1), VOUCH_ERR_PARSE);

    for (size_t i = 0; i < N; i++) {
        struct vouch_pkey *k = NULL;
        assert_int_equal(vouch_pkey_generate(VOUCH_PKEY_EC_P256, &k), VOUCH_OK);
        assert_int_equal(vouch_pkey_public(k, &orig[i]), VOUCH_OK);
        vouch_pkey_free(k);
        p256_xy(orig[i], xy[i]);
        assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, xy[i], 64, &built[i]), VOUCH_OK);
    }
    /* Each built key is its own original and no other; rebuilding the early
     * ones (evicted by now) and the last ones (cached) gives the same keys. */
    for (size_t i = 0; i < N; i++) {
        struct vouch_pubkey *again = NULL;
        assert_true(vouch_pkey_pub_eq(built[i], orig[i]));
        assert_false(vouch_pkey_pub_eq(built[i], orig[(i + 1) % N]));
        assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, xy[i], 64, &again), VOUCH_OK);
        assert_true(vouch_pkey_pub_eq(again, orig[i]));
        vouch_pubkey_free(again);
    }
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, att_key, 64, &a3), VOUCH_OK);
    assert_int_equal(vouch_ecdsa_verify_raw(a3, VOUCH_HASH_SHA256, q, 432, isv_sig, 64), VOUCH_OK);
    assert_int_equal(vouch_ecdsa_verify_raw(a3, VOUCH_HASH_SHA256, q, 431, isv_sig, 64),
                     VOUCH_ERR_SIGNATURE);

    for (size_t i = 0; i < N; i++) {
        vouch_pubkey_free(orig[i]);
        vouch_pubkey_free(built[i]);
    }
    vouch_pubkey_free(a2);
    vouch_pubkey_free(a3);
    free(orig);
    free(built);
    free(xy);
    free(q);
}

/* The three P-256 verifications of an SGX quote, with keys from raw X||Y and
 * from the PCK certificate. */
static void test_ecdsa_sgx_quote(void **state)
{
    size_t qlen = 0, cd_len = 0, n = 0;
    uint8_t *q = vt_read("evidence/sgx/v3_phala_quote.bin", &qlen);
    const uint8_t *cd = sgx_v3_cert_data(q, qlen, &cd_len);
    const uint8_t *isv_sig = q + 436, *att_key = q + 500, *qe_report = q + 564;
    const uint8_t *qe_sig = q + 948;
    struct vouch_pubkey *ak = NULL, *pck = NULL, *bad = (struct vouch_pubkey *)1;
    struct vouch_x509 *chain[3];
    uint8_t key[64];
    (void)state;

    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, att_key, 64, &ak), VOUCH_OK);
    assert_int_equal(vouch_ecdsa_verify_raw(ak, VOUCH_HASH_SHA256, q, 432, isv_sig, 64), VOUCH_OK);
    assert_int_equal(vouch_ecdsa_verify_raw(ak, VOUCH_HASH_SHA256, q, 431, isv_sig, 64),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_x509_parse_pem_chain(cd, cd_len, chain, 3, &n), VOUCH_OK);
    assert_int_equal(vouch_x509_pubkey(chain[0], &pck), VOUCH_OK);
    assert_int_equal(vouch_ecdsa_verify_raw(pck, VOUCH_HASH_SHA256, qe_report, 384, qe_sig, 64),
                     VOUCH_OK);
    /* Keys swapped. */
    assert_int_equal(vouch_ecdsa_verify_raw(ak, VOUCH_HASH_SHA256, qe_report, 384, qe_sig, 64),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_ecdsa_verify_raw(pck, VOUCH_HASH_SHA256, q, 432, isv_sig, 64),
                     VOUCH_ERR_SIGNATURE);

    /* Points that are not on the curve, and wrong sizes. */
    memcpy(key, att_key, 64);
    key[63] ^= 0x01;
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, key, 64, &bad), VOUCH_ERR_PARSE);
    assert_null(bad);
    memset(key, 0, sizeof(key));
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, key, 64, &bad), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, att_key, 63, &bad), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P384, att_key, 64, &bad), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_pubkey_from_ec_xy((enum vouch_curve)7, att_key, 64, &bad),
                     VOUCH_ERR_INVAL);
    vouch_fault_after(1);
    assert_int_equal(vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, att_key, 64, &bad), VOUCH_ERR_NOMEM);
    vouch_fault_after(0);
    assert_null(bad);

    vouch_pubkey_free(ak);
    vouch_pubkey_free(pck);
    free_chain(chain, n);
    free(q);
}

static void check_snp(const char *report_rel, const char *vcek_rel, const char *other_vcek_rel)
{
    size_t rlen = 0;
    uint8_t *r = vt_read(report_rel, &rlen);
    struct vouch_x509 *vcek = load_der(vcek_rel), *other = load_der(other_vcek_rel);
    struct vouch_pubkey *k = NULL, *ko = NULL;
    uint8_t rs_be[96];

    assert_int_equal(rlen, 1184);
    assert_int_equal(vouch_x509_pubkey(vcek, &k), VOUCH_OK);
    assert_int_equal(vouch_x509_pubkey(other, &ko), VOUCH_OK);
    assert_int_equal(
        vouch_ecdsa_verify_le(k, VOUCH_HASH_SHA384, r, 0x2A0, r + 0x2A0, r + 0x2E8, 72), VOUCH_OK);
    /* The same signature as big-endian r||s. */
    for (size_t i = 0; i < 48; i++) {
        rs_be[i] = r[0x2A0 + 47 - i];
        rs_be[48 + i] = r[0x2E8 + 47 - i];
    }
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA384, r, 0x2A0, rs_be, 96), VOUCH_OK);
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA384, r, 0x2A0, rs_be, 64),
                     VOUCH_ERR_SIGNATURE);

    /* Other chip's key; flipped report byte; a set padding byte; short fields. */
    assert_int_equal(
        vouch_ecdsa_verify_le(ko, VOUCH_HASH_SHA384, r, 0x2A0, r + 0x2A0, r + 0x2E8, 72),
        VOUCH_ERR_SIGNATURE);
    r[0x50] ^= 0x01;
    assert_int_equal(
        vouch_ecdsa_verify_le(k, VOUCH_HASH_SHA384, r, 0x2A0, r + 0x2A0, r + 0x2E8, 72),
        VOUCH_ERR_SIGNATURE);
    r[0x50] ^= 0x01;
    r[0x2A0 + 60] = 0x01;
    assert_int_equal(
        vouch_ecdsa_verify_le(k, VOUCH_HASH_SHA384, r, 0x2A0, r + 0x2A0, r + 0x2E8, 72),
        VOUCH_ERR_SIGNATURE);
    r[0x2A0 + 60] = 0x00;
    assert_int_equal(
        vouch_ecdsa_verify_le(k, VOUCH_HASH_SHA384, r, 0x2A0, r + 0x2A0, r + 0x2E8, 47),
        VOUCH_ERR_SIGNATURE);
    assert_int_equal(
        vouch_ecdsa_verify_le(k, VOUCH_HASH_SHA384, r, 0x2A0, r + 0x2A0, r + 0x2E8, 48), VOUCH_OK);
    assert_int_equal(
        vouch_ecdsa_verify_le(k, VOUCH_HASH_SHA256, r, 0x2A0, r + 0x2A0, r + 0x2E8, 72),
        VOUCH_ERR_SIGNATURE);

    vouch_pubkey_free(k);
    vouch_pubkey_free(ko);
    vouch_x509_free(vcek);
    vouch_x509_free(other);
    free(r);
}

static void test_ecdsa_snp_le(void **state)
{
    (void)state;
    check_snp("evidence/snp/milan_v2_gosev_report.bin", "evidence/snp/milan_v2_gosev_vcek.der",
              "evidence/snp/milan_v2_virtee_vcek.der");
    check_snp("evidence/snp/milan_v2_virtee_report.bin", "evidence/snp/milan_v2_virtee_vcek.der",
              "evidence/snp/milan_v2_gosev_vcek.der");
}

/* ---------------- RSA and public-key parsing ---------------- */

static struct vouch_pubkey *load_pubkey(const char *rel)
{
    size_t len = 0;
    uint8_t *buf = vt_read(rel, &len);
    struct vouch_pubkey *k = NULL;
    assert_int_equal(vouch_pubkey_parse(buf, len, &k), VOUCH_OK);
    free(buf);
    return k;
}

/* TPMT_SIGNATURE for RSA: sigAlg, hashAlg, TPM2B signature (all big-endian). */
static const uint8_t *tpm_rsa_sig(const uint8_t *s, size_t len, uint16_t alg, size_t *sig_len)
{
    assert_true(len >= 6);
    assert_int_equal((s[0] << 8) | s[1], alg);
    assert_int_equal((s[2] << 8) | s[3], 0x000b); /* SHA-256 */
    *sig_len = (size_t)((s[4] << 8) | s[5]);
    assert_int_equal(len, 6 + *sig_len);
    return s + 6;
}

static void check_tpm_rsa(const char *dir, const char *key_rel, const char *quote,
                          enum vouch_rsa_padding pad, uint16_t tpm_alg)
{
    char path[256];
    size_t alen = 0, slen = 0, siglen = 0;
    uint8_t *attest, *sigbuf;
    const uint8_t *sig;
    struct vouch_pubkey *k = load_pubkey(key_rel);
    enum vouch_rsa_padding other = pad == VOUCH_RSA_PKCS1 ? VOUCH_RSA_PSS : VOUCH_RSA_PKCS1;
    uint8_t digest[32];
    uint8_t *flipped;

    snprintf(path, sizeof(path), "%s/%s.tpms_attest", dir, quote);
    attest = vt_read(path, &alen);
    snprintf(path, sizeof(path), "%s/%s.tpmt_signature", dir, quote);
    sigbuf = vt_read(path, &slen);
    sig = tpm_rsa_sig(sigbuf, slen, tpm_alg, &siglen);
    assert_int_equal(siglen, 256);
    assert_false(vouch_pubkey_is_ec(k, VOUCH_CURVE_P256));

    assert_int_equal(vouch_rsa_verify(k, VOUCH_HASH_SHA256, pad, attest, alen, sig, siglen),
                     VOUCH_OK);
    assert_int_equal(vouch_sha256(attest, alen, digest), VOUCH_OK);
    assert_int_equal(vouch_rsa_verify_digest(k, VOUCH_HASH_SHA256, pad, digest, sig, siglen),
                     VOUCH_OK);
    /* Wrong padding, wrong hash, a flipped byte, a short signature. */
    assert_int_equal(vouch_rsa_verify(k, VOUCH_HASH_SHA256, other, attest, alen, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_rsa_verify_digest(k, VOUCH_HASH_SHA256, other, digest, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_rsa_verify(k, VOUCH_HASH_SHA384, pad, attest, alen, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    attest[alen - 1] ^= 0x01;
    assert_int_equal(vouch_rsa_verify(k, VOUCH_HASH_SHA256, pad, attest, alen, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    digest[0] ^= 0x01;
    assert_int_equal(vouch_rsa_verify_digest(k, VOUCH_HASH_SHA256, pad, digest, sig, siglen),
                     VOUCH_ERR_SIGNATURE);
    attest[alen - 1] ^= 0x01;
    digest[0] ^= 0x01;
    flipped = malloc(siglen);
    assert_non_null(flipped);
    memcpy(flipped, sig, siglen);
    flipped[siglen / 2] ^= 0x10;
    assert_int_equal(vouch_rsa_verify(k, VOUCH_HASH_SHA256, pad, attest, alen, flipped, siglen),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_rsa_verify(k, VOUCH_HASH_SHA256, pad, attest, alen, sig, siglen - 1),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_rsa_verify_digest(k, VOUCH_HASH_SHA256, pad, digest, sig, 0),
                     VOUCH_ERR_SIGNATURE);
    /* An RSA key is not an ECDSA key. */
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, attest, alen, sig, 64),
                     VOUCH_ERR_INVAL);
    free(flipped);
    vouch_pubkey_free(k);
    free(attest);
    free(sigbuf);
}

static void test_rsa_tpm(void **state)
{
    const char *dir = "tpm/swtpm-replayed-rhel8";
    (void)state;
    check_tpm_rsa(dir, "tpm/swtpm-replayed-rhel8/ak_rsa.pem", "quote_rsa_sha256", VOUCH_RSA_PKCS1,
                  0x0014);
    check_tpm_rsa(dir, "tpm/swtpm-replayed-rhel8/ak_rsapss.pem", "quote_rsapss_sha256",
                  VOUCH_RSA_PSS, 0x0016);
}

/* A TPM ECDSA quote: TPMS_SIGNATURE_ECDSA with r and s as TPM2B. */
static void test_ecdsa_tpm(void **state)
{
    const char *dir = "tpm/swtpm-replayed-rhel8/";
    size_t alen = 0, slen = 0;
    char path[256];
    uint8_t *attest, *s;
    uint8_t rs[64];
    struct vouch_pubkey *k = load_pubkey("tpm/swtpm-replayed-rhel8/ak_ecc.pem");
    (void)state;

    snprintf(path, sizeof(path), "%squote_ecc_sha256_sha1.tpms_attest", dir);
    attest = vt_read(path, &alen);
    snprintf(path, sizeof(path), "%squote_ecc_sha256_sha1.tpmt_signature", dir);
    s = vt_read(path, &slen);
    assert_int_equal(slen, 72);
    assert_int_equal((s[0] << 8) | s[1], 0x0018);
    assert_int_equal((s[4] << 8) | s[5], 32);
    assert_int_equal((s[38] << 8) | s[39], 32);
    memcpy(rs, s + 6, 32);
    memcpy(rs + 32, s + 40, 32);
    assert_true(vouch_pubkey_is_ec(k, VOUCH_CURVE_P256));
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, attest, alen, rs, 64), VOUCH_OK);
    rs[0] ^= 0x01;
    assert_int_equal(vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, attest, alen, rs, 64),
                     VOUCH_ERR_SIGNATURE);
    /* An EC key cannot verify RSA. */
    assert_int_equal(vouch_rsa_verify(k, VOUCH_HASH_SHA256, VOUCH_RSA_PKCS1, attest, alen, rs, 64),
                     VOUCH_ERR_INVAL);
    vouch_pubkey_free(k);
    free(attest);
    free(s);
}

/* RSA-PSS/SHA-384 by hand: the ASK's to-be-signed bytes under the ARK key,
 * and the GCE vTPM quote under its AK certificate's key (PKCS#1 v1.5). */
static void test_rsa_pss_ask(void **state)
{
    struct vouch_x509 *milan[2];
    struct vouch_pubkey *ark = NULL;
    const uint8_t *der = NULL;
    size_t n = 0, dlen = 0;
    struct tlv cert, tbs, sigbits;
    uint8_t digest[48];
    (void)state;

    load_pem_chain("evidence/roots/amd_milan_ask_ark.pem", milan, 2, &n);
    assert_int_equal(vouch_x509_pubkey(milan[1], &ark), VOUCH_OK);
    vouch_x509_der(milan[0], &der, &dlen);
    cert = tlv_at(der, dlen);
    tbs = tlv_child(cert, 0);
    sigbits = tlv_child(cert, 2);
    assert_int_equal(sigbits.p[0], 0x03);
    assert_int_equal(sigbits.p[sigbits.hdr], 0); /* no unused bits */
    assert_int_equal(vouch_rsa_verify(ark, VOUCH_HASH_SHA384, VOUCH_RSA_PSS, tbs.p, tbs.len,
                                      sigbits.p + sigbits.hdr + 1, sigbits.len - sigbits.hdr - 1),
                     VOUCH_OK);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA384, tbs.p, tbs.len, digest), VOUCH_OK);
    assert_int_equal(vouch_rsa_verify_digest(ark, VOUCH_HASH_SHA384, VOUCH_RSA_PSS, digest,
                                             sigbits.p + sigbits.hdr + 1,
                                             sigbits.len - sigbits.hdr - 1),
                     VOUCH_OK);
    assert_int_equal(vouch_rsa_verify(ark, VOUCH_HASH_SHA384, VOUCH_RSA_PKCS1, tbs.p, tbs.len,
                                      sigbits.p + sigbits.hdr + 1, sigbits.len - sigbits.hdr - 1),
                     VOUCH_ERR_SIGNATURE);
    assert_int_equal(vouch_rsa_verify(ark, VOUCH_HASH_SHA384, VOUCH_RSA_PSS, tbs.p, tbs.len - 1,
                                      sigbits.p + sigbits.hdr + 1, sigbits.len - sigbits.hdr - 1),
                     VOUCH_ERR_SIGNATURE);
    vouch_pubkey_free(ark);
    free_chain(milan, n);

    {
        const char *dir = "tpm/quote-gce-cos85-nonce9009/";
        struct vouch_x509 *ak_cert = load_der("tpm/quote-gce-cos85-nonce9009/ak_cert.der");
        struct vouch_pubkey *ak = NULL;
        const char *banks[] = {"sha1", "sha256", "sha384"};
        char cn[8];
        assert_int_equal(vouch_x509_subject_cn(ak_cert, cn, sizeof(cn)), VOUCH_ERR_NOT_FOUND);
        assert_int_equal(vouch_x509_pubkey(ak_cert, &ak), VOUCH_OK);
        for (size_t i = 0; i < 3; i++) {
            char path[256];
            size_t alen = 0, slen = 0, siglen = 0;
            uint8_t *attest, *sigbuf;
            const uint8_t *sig;
            snprintf(path, sizeof(path), "%squote_%s.tpms_attest", dir, banks[i]);
            attest = vt_read(path, &alen);
            snprintf(path, sizeof(path), "%squote_%s.tpmt_signature", dir, banks[i]);
            sigbuf = vt_read(path, &slen);
            sig = tpm_rsa_sig(sigbuf, slen, 0x0014, &siglen);
            assert_int_equal(
                vouch_rsa_verify(ak, VOUCH_HASH_SHA256, VOUCH_RSA_PKCS1, attest, alen, sig, siglen),
                VOUCH_OK);
            attest[10] ^= 0x04;
            assert_int_equal(
                vouch_rsa_verify(ak, VOUCH_HASH_SHA256, VOUCH_RSA_PKCS1, attest, alen, sig, siglen),
                VOUCH_ERR_SIGNATURE);
            free(attest);
            free(sigbuf);
        }
        vouch_pubkey_free(ak);
        vouch_x509_free(ak_cert);
    }
}

static void test_pubkey_parse_errors(void **state)
{
    struct vouch_pubkey *k = (struct vouch_pubkey *)1;
    size_t len = 0;
    uint8_t *pem = vt_read("tpm/swtpm-replayed-rhel8/ak_ecc.pem", &len);
    (void)state;

    assert_int_equal(vouch_pubkey_parse(NULL, 0, &k), VOUCH_ERR_PARSE);
    assert_null(k);
    assert_int_equal(vouch_pubkey_parse((const uint8_t *)"garbage", 7, &k), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_pubkey_parse(pem, len / 2, &k), VOUCH_ERR_PARSE);
    {
        /* Surrounding blank space is fine; anything else after the block or
         * another block type is not. */
        uint8_t *buf = malloc(len + 16);
        assert_non_null(buf);
        memcpy(buf, "\n ", 2);
        memcpy(buf + 2, pem, len);
        memcpy(buf + 2 + len, "\r\n\0", 3);
        assert_int_equal(vouch_pubkey_parse(buf, len + 5, &k), VOUCH_OK);
        assert_true(vouch_pubkey_is_ec(k, VOUCH_CURVE_P256));
        vouch_pubkey_free(k);
        memcpy(buf + 2 + len, "x", 1);
        assert_int_equal(vouch_pubkey_parse(buf, len + 3, &k), VOUCH_ERR_PARSE);
        assert_null(k);
        free(buf);
    }
    {
        static const char cert_label[] = "-----BEGIN CERTIFICATE-----\nMAA=\n"
                                         "-----END CERTIFICATE-----\n";
        assert_int_equal(vouch_pubkey_parse((const uint8_t *)cert_label, strlen(cert_label), &k),
                         VOUCH_ERR_PARSE);
    }
    pem[40] = '*';
    assert_int_equal(vouch_pubkey_parse(pem, len, &k), VOUCH_ERR_PARSE);
    assert_null(k);
    assert_int_equal(vouch_pubkey_parse(pem, len, NULL), VOUCH_ERR_INVAL);
    assert_false(vouch_pubkey_is_ec(NULL, VOUCH_CURVE_P256));
    vouch_pubkey_free(NULL);
    assert_int_equal(vouch_ecdsa_verify_raw(NULL, VOUCH_HASH_SHA256, "", 0, (const uint8_t *)"", 0),
                     VOUCH_ERR_INVAL);
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ec_pubkey_cache),
        cmocka_unit_test(test_hash_kat),
        cmocka_unit_test(test_hash_errors),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_intel_root),
        cmocka_unit_test(test_x509_malformed),
        cmocka_unit_test(test_pck_chain_from_quote),
        cmocka_unit_test(test_pck_chain_reuse),
        cmocka_unit_test(test_flipped_cert_signature),
        cmocka_unit_test(test_amd_chain),
        cmocka_unit_test(test_swtpm_ek_chain),
        cmocka_unit_test(test_crl_sgx_collateral),
        cmocka_unit_test(test_crl_forms),
        cmocka_unit_test(test_crl_lists_revoked),
        cmocka_unit_test(test_ecdsa_collateral_signatures),
        cmocka_unit_test(test_ecdsa_sgx_quote),
        cmocka_unit_test(test_ecdsa_snp_le),
        cmocka_unit_test(test_rsa_tpm),
        cmocka_unit_test(test_ecdsa_tpm),
        cmocka_unit_test(test_rsa_pss_ask),
        cmocka_unit_test(test_pubkey_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
