/*
 * DCAP quote parser and PCK certificate SGX extension parser, on the real
 * quotes in shared/testdata/evidence (facts from its README and from
 * reference/evidence-formats.md §1, §3.3) and on systematic corruptions of
 * them.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/der.h>
#include <vouch/json.h>
#include <vouch/mem.h>

#include "evidence/evidence_int.h"

#define PCK_EXT_OID "1.2.840.113741.1.13.1"

struct vec {
    const char *file;
    uint16_t version;
    uint32_t tee;
    uint16_t body_type;
    size_t signed_len;
    size_t quote_len;
    size_t trailing;
    const char *tee_tcb_svn;  /* hex prefix, TDX only */
    const char *tee_tcb_svn2; /* hex prefix, TD 1.5 only */
    const char *fmspc;        /* from the PCK leaf */
    uint16_t pcesvn;          /* from the PCK leaf */
};

static const struct vec vecs[] = {
    {"evidence/sgx/v3_phala_quote.bin", 3, 0, 1, 432, 4600, 0, NULL, NULL, "00a067110000", 13},
    {"evidence/tdx/v4_phala_quote.bin", 4, 0x81, 2, 632, 4936, 70, "060103", NULL, "b0c06f000000",
     11},
    {"evidence/tdx/v5_phala_tcb_unsupported_quote.bin", 5, 0x81, 3, 702, 5006, 0, NULL, NULL,
     "90c06f000000", 13},
    {"evidence/tdx/v5_gotdx_quote.bin", 5, 0x81, 3, 702, 5006, 0, "0b0104", "0d0104",
     "90c06f000000", 13},
    {"evidence/tdx/v5_oe_relaunch_quote.bin", 5, 0x81, 3, 702, 5006, 0, "040103", "070103",
     "90c06f000000", 13},
    {"evidence/tdx/v5_oe_outofdate_quote.bin", 5, 0x81, 3, 702, 5006, 0, "020106", NULL,
     "00806f050000", 11},
    {"evidence/tdx/v4_oe_tdx10_quote.bin", 4, 0x81, 2, 632, 4940, 0, "030005", NULL, "50806f000000",
     11},
    {"evidence/tdx/v4_gotdx_sprE4_quote.bin", 4, 0x81, 2, 632, 4935, 39, "030004", NULL,
     "50806f000000", 11},
};

#define S1 "evidence/sgx/v3_phala_quote.bin"
#define T1 "evidence/tdx/v4_phala_quote.bin"
#define T3 "evidence/tdx/v5_gotdx_quote.bin"

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void assert_hex_prefix(const uint8_t *p, size_t n, const char *want)
{
    char buf[1024];
    assert_true(2 * n < sizeof(buf));
    hex(p, n, buf);
    if (strncmp(buf, want, strlen(want)) != 0)
        fail_msg("got %s, want prefix %s", buf, want);
}

/* Parses an exact-size heap copy so ASan catches any read past @p len. */
static vouch_err parse_copy(const uint8_t *p, size_t len, struct vouch_dcap_quote *q)
{
    uint8_t *copy = malloc(len ? len : 1);
    vouch_err rc;

    assert_non_null(copy);
    if (len)
        memcpy(copy, p, len);
    rc = vouch__dcap_quote_parse(copy, len, q);
    free(copy);
    /* Views into the freed copy must not be used by the caller. */
    q->qe_auth = NULL;
    q->cert_data = NULL;
    return rc;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Offsets of the length fields of a parsed quote, computed from the spec
 * layout (not from the parser). */
struct offs {
    size_t sig_len;   /* u32 signature data length */
    size_t outer;     /* v4/v5: u16 outer cert type (u32 size follows); 0 for v3 */
    size_t qe_report; /* QE report body */
    size_t auth_len;  /* u16 QE auth data size */
    size_t cert_type; /* u16 inner cert type (u32 size follows) */
};

static struct offs layout(const uint8_t *p, uint16_t version, size_t signed_len)
{
    struct offs o;
    size_t s = signed_len + 4;

    (void)version;
    o.sig_len = signed_len;
    if (p[0] == 3) {
        o.outer = 0;
        o.qe_report = s + 128;
    } else {
        o.outer = s + 128;
        o.qe_report = o.outer + 6;
    }
    o.auth_len = o.qe_report + 384 + 64;
    o.cert_type = o.auth_len + 2 + (size_t)(p[o.auth_len] | p[o.auth_len + 1] << 8);
    return o;
}

static void test_real_quotes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const struct vec *v = &vecs[i];
        size_t len = 0;
        uint8_t *p = vt_read(v->file, &len);
        struct vouch_dcap_quote q;
        struct offs o;
        uint8_t digest[VOUCH_SHA256_LEN];
        struct vouch_hash_ctx *h = NULL;
        static const uint8_t intel[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                          0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
        static const char pem[] = "-----BEGIN CERTIFICATE-----";

        if (vouch__dcap_quote_parse(p, len, &q) != VOUCH_OK)
            fail_msg("%s does not parse", v->file);
        assert_int_equal(q.version, v->version);
        assert_int_equal(q.tee_type, v->tee);
        assert_int_equal(q.att_key_type, VOUCH_DCAP_ATT_KEY_ECDSA_P256);
        assert_int_equal(q.body_type, v->body_type);
        assert_int_equal(q.signed_len, v->signed_len);
        assert_int_equal(q.quote_len, v->quote_len);
        assert_int_equal(q.trailing_len, v->trailing);
        assert_int_equal(q.quote_len + q.trailing_len, len);
        assert_memory_equal(q.qe_vendor_id, intel, 16);

        /* The signature data length sits right after the signed region and
         * accounts for everything up to quote_len. */
        assert_int_equal(q.signed_len + 4 + get32(p + q.signed_len), q.quote_len);

        /* Certification data: type 5 PEM chain ending exactly at quote_len. */
        assert_int_equal(q.cert_type, VOUCH_DCAP_CERT_PCK_CHAIN);
        assert_non_null(q.cert_data);
        assert_true(q.cert_data_len > sizeof(pem));
        assert_memory_equal(q.cert_data, pem, sizeof(pem) - 1);
        assert_ptr_equal(q.cert_data + q.cert_data_len, p + q.quote_len);

        /* QE authentication data: 32 bytes 00..1f. */
        assert_int_equal(q.qe_auth_len, 32);
        for (size_t k = 0; k < 32; k++)
            assert_int_equal(q.qe_auth[k], k);

        /* The QE report is kept byte-exact, at its place in the layout. */
        o = layout(p, q.version, q.signed_len);
        assert_memory_equal(q.qe_report.raw, p + o.qe_report, VOUCH_SGX_REPORT_BODY_LEN);
        assert_memory_equal(q.qe_report_sig, p + o.qe_report + 384, 64);
        assert_memory_equal(q.signature, p + q.signed_len + 4, 64);
        assert_memory_equal(q.attest_key, p + q.signed_len + 4 + 64, 64);
        assert_ptr_equal(q.qe_auth, p + o.auth_len + 2);

        /* QE report data binds the attestation key and auth data: only holds
         * if every field was cut at the right place. */
        assert_int_equal(vouch_hash_init(VOUCH_HASH_SHA256, &h), VOUCH_OK);
        assert_int_equal(vouch_hash_update(h, q.attest_key, 64), VOUCH_OK);
        assert_int_equal(vouch_hash_update(h, q.qe_auth, q.qe_auth_len), VOUCH_OK);
        assert_int_equal(vouch_hash_final(h, digest), VOUCH_OK);
        assert_memory_equal(q.qe_report.reportdata, digest, 32);
        /* QE report field parsing agrees with the raw copy. */
        assert_memory_equal(q.qe_report.mrsigner, q.qe_report.raw + 128, 32);
        assert_int_equal(q.qe_report.isvprodid, q.qe_report.raw[256] | q.qe_report.raw[257] << 8);
        assert_int_equal(q.qe_report.attributes[0] & 0x02, 0); /* QE is never debug */

        if (q.tee_type == VOUCH_DCAP_TEE_TDX) {
            size_t body = q.version == 5 ? 54 : 48;
            assert_false(q.td.is_td15 != (q.body_type == 3));
            assert_hex_prefix(q.td.tee_tcb_svn, 16, v->tee_tcb_svn ? v->tee_tcb_svn : "");
            if (v->tee_tcb_svn2)
                assert_hex_prefix(q.td.tee_tcb_svn2, 16, v->tee_tcb_svn2);
            assert_memory_equal(q.td.tee_tcb_svn, p + body, 16);
            assert_memory_equal(q.td.mrtd, p + body + 136, 48);
            assert_memory_equal(q.td.rtmr[3], p + body + 472, 48);
            assert_memory_equal(q.td.reportdata, p + body + 520, 64);
            if (q.td.is_td15)
                assert_memory_equal(q.td.mrservicetd, p + body + 600, 48);
            /* SEAMATTRIBUTES are zero for TDX 1.x modules. */
            for (size_t k = 0; k < 8; k++)
                assert_int_equal(q.td.seamattributes[k], 0);
        }
        free(p);
    }
}

static void test_s1_fields(void **state)
{
    size_t len = 0;
    uint8_t *p = vt_read(S1, &len);
    struct vouch_dcap_quote q;
    char mr[65];
    (void)state;

    assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
    assert_int_equal(q.qe_svn, 10);
    assert_int_equal(q.pce_svn, 15);
    assert_memory_equal(q.sgx.reportdata, "Hello, world!", 13);
    hex(q.sgx.mrenclave, 32, mr);
    assert_memory_equal(mr, "33d8736d", 8);
    assert_string_equal(mr + 60, "2fbb");
    /* Field offsets from §1.2: mrenclave 0x70, mrsigner 0xb0, report data 0x170. */
    assert_memory_equal(q.sgx.mrenclave, p + 0x70, 32);
    assert_memory_equal(q.sgx.mrsigner, p + 0xb0, 32);
    assert_memory_equal(q.sgx.reportdata, p + 0x170, 64);
    assert_memory_equal(q.sgx.raw, p + 48, 384);
    /* Quote CPUSVN 0b0b1a18ffff04... (§3.3). */
    assert_hex_prefix(q.sgx.cpusvn, 16, "0b0b1a18ffff04");
    assert_int_equal(q.sgx.isvprodid, p[304] | p[305] << 8);
    assert_int_equal(q.sgx.isvsvn, p[306] | p[307] << 8);
    assert_int_equal(q.sgx.miscselect, get32(p + 64));
    free(p);
}

static const char *json_hexstr(json_t *c, const char *key)
{
    json_t *v = json_object_get(c, key);
    const char *s;
    if (!json_is_string(v))
        fail_msg("claim %s missing or not a string", key);
    s = json_string_value(v);
    for (const char *k = s; *k; k++)
        if (!((*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'f')))
            fail_msg("claim %s is not lowercase hex: %s", key, s);
    return s;
}

static json_int_t json_int_of(json_t *c, const char *key)
{
    json_t *v = json_object_get(c, key);
    if (!json_is_integer(v))
        fail_msg("claim %s missing or not an integer", key);
    return json_integer_value(v);
}

static void test_claims_sgx(void **state)
{
    size_t len = 0;
    uint8_t *p = vt_read(S1, &len);
    struct vouch_dcap_quote q;
    json_t *c = json_object();
    static const char *const hexkeys[] = {"mrenclave",    "mrsigner", "report_data",  "cpusvn",
                                          "attributes",   "configid", "isvextprodid", "isvfamilyid",
                                          "qe_vendor_id", "user_data"};
    (void)state;

    assert_non_null(c);
    assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
    assert_int_equal(vouch__dcap_quote_claims(&q, c), VOUCH_OK);
    for (size_t i = 0; i < sizeof(hexkeys) / sizeof(hexkeys[0]); i++)
        (void)json_hexstr(c, hexkeys[i]);
    assert_memory_equal(json_hexstr(c, "mrenclave"), "33d8736d", 8);
    assert_int_equal(strlen(json_hexstr(c, "mrenclave")), 64);
    assert_int_equal(strlen(json_hexstr(c, "report_data")), 128);
    /* "Hello, world!" */
    assert_memory_equal(json_hexstr(c, "report_data"), "48656c6c6f2c20776f726c6421", 26);
    assert_string_equal(json_hexstr(c, "qe_vendor_id"), "939a7233f79c4ca9940a0db3957f0607");
    assert_int_equal(strlen(json_hexstr(c, "user_data")), 40);
    assert_string_equal(json_string_value(json_object_get(c, "tee")), "sgx");
    assert_int_equal(json_int_of(c, "version"), 3);
    assert_int_equal(json_int_of(c, "qe_svn"), 10);
    assert_int_equal(json_int_of(c, "pce_svn"), 15);
    assert_int_equal(json_int_of(c, "isvprodid"), q.sgx.isvprodid);
    assert_int_equal(json_int_of(c, "isvsvn"), q.sgx.isvsvn);
    assert_int_equal(json_int_of(c, "configsvn"), q.sgx.configsvn);
    assert_int_equal(json_int_of(c, "miscselect"), q.sgx.miscselect);
    assert_true(json_is_boolean(json_object_get(c, "debug")));
    assert_int_equal(json_is_true(json_object_get(c, "debug")), (q.sgx.attributes[0] & 2) != 0);
    assert_null(json_object_get(c, "mr_td"));
    json_decref(c);

    /* DEBUG is ATTRIBUTES.FLAGS bit 1: set it in a copy and the claim follows. */
    q.sgx.attributes[0] |= 0x02;
    c = json_object();
    assert_int_equal(vouch__dcap_quote_claims(&q, c), VOUCH_OK);
    assert_true(json_is_true(json_object_get(c, "debug")));
    json_decref(c);
    q.sgx.attributes[0] &= (uint8_t)~0x02u;
    c = json_object();
    assert_int_equal(vouch__dcap_quote_claims(&q, c), VOUCH_OK);
    assert_true(json_is_false(json_object_get(c, "debug")));
    json_decref(c);

    assert_int_equal(vouch__dcap_quote_claims(&q, NULL), VOUCH_ERR_INVAL);
    free(p);
}

static void test_claims_tdx(void **state)
{
    static const char *const td_keys[] = {
        "tee_tcb_svn", "mr_seam", "mr_signer_seam", "seam_attributes", "td_attributes",
        "xfam",        "mr_td",   "mr_config_id",   "mr_owner",        "mr_owner_config",
        "rtmr0",       "rtmr1",   "rtmr2",          "rtmr3",           "report_data"};
    const char *files[] = {T1, T3, "evidence/tdx/v4_oe_tdx10_quote.bin"};
    (void)state;

    for (size_t f = 0; f < 3; f++) {
        size_t len = 0;
        uint8_t *p = vt_read(files[f], &len);
        struct vouch_dcap_quote q;
        json_t *c = json_object();
        char want[200];

        assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
        assert_int_equal(vouch__dcap_quote_claims(&q, c), VOUCH_OK);
        for (size_t i = 0; i < sizeof(td_keys) / sizeof(td_keys[0]); i++)
            (void)json_hexstr(c, td_keys[i]);
        assert_string_equal(json_string_value(json_object_get(c, "tee")), "tdx");
        assert_int_equal(json_int_of(c, "version"), q.version);
        hex(q.td.mrtd, 48, want);
        assert_string_equal(json_hexstr(c, "mr_td"), want);
        hex(q.td.rtmr[2], 48, want);
        assert_string_equal(json_hexstr(c, "rtmr2"), want);
        hex(q.td.tdattributes, 8, want);
        assert_string_equal(json_hexstr(c, "td_attributes"), want);
        /* None of the real TDs is a debug TD (TDATTRIBUTES bit 0). */
        assert_true(json_is_false(json_object_get(c, "debug")));
        if (q.td.is_td15) {
            hex(q.td.tee_tcb_svn2, 16, want);
            assert_string_equal(json_hexstr(c, "tee_tcb_svn2"), want);
            (void)json_hexstr(c, "mr_servicetd");
        } else {
            assert_null(json_object_get(c, "tee_tcb_svn2"));
            assert_null(json_object_get(c, "mr_servicetd"));
        }
        assert_null(json_object_get(c, "mrenclave"));
        json_decref(c);

        q.td.tdattributes[0] |= 1;
        c = json_object();
        assert_int_equal(vouch__dcap_quote_claims(&q, c), VOUCH_OK);
        assert_true(json_is_true(json_object_get(c, "debug")));
        json_decref(c);
        free(p);
    }
}

static void test_td_attributes(void **state)
{
    size_t len = 0;
    uint8_t *p;
    struct vouch_dcap_quote q;
    (void)state;

    /* Phala: SEPT_VE_DISABLE (bit 28) only; OE TDX 1.0: 0; go-tdx SPR: PKS (bit 30). */
    p = vt_read(T1, &len);
    assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
    assert_hex_prefix(q.td.tdattributes, 8, "0000001000000000");
    free(p);
    p = vt_read("evidence/tdx/v4_oe_tdx10_quote.bin", &len);
    assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
    assert_hex_prefix(q.td.tdattributes, 8, "0000000000000000");
    free(p);
    p = vt_read("evidence/tdx/v4_gotdx_sprE4_quote.bin", &len);
    assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
    assert_hex_prefix(q.td.tdattributes, 8, "0000004000000000");
    free(p);
}

static void truncations(const char *file)
{
    size_t len = 0;
    uint8_t *p = vt_read(file, &len);
    struct vouch_dcap_quote q;

    for (size_t n = 0; n < len; n++) {
        vouch_err rc = parse_copy(p, n, &q);
        if (rc != VOUCH_ERR_TRUNCATED)
            fail_msg("%s cut to %zu bytes: %s", file, n, vouch_err_name(rc));
        /* Out-parameter reset on failure. */
        assert_int_equal(q.version, 0);
        assert_int_equal(q.quote_len, 0);
    }
    assert_int_equal(parse_copy(p, len, &q), VOUCH_OK);
    free(p);
}

static void test_truncations(void **state)
{
    (void)state;
    truncations(S1);
    truncations(T3);
}

/* Parses a mutated copy of @p file and checks the result code. */
struct mut {
    size_t off;
    size_t width; /* 1, 2 or 4 bytes, little-endian */
    uint32_t value;
};

static vouch_err parse_mutated(const uint8_t *p, size_t len, const struct mut *m, size_t n)
{
    uint8_t *c = malloc(len);
    struct vouch_dcap_quote q;
    vouch_err rc;

    assert_non_null(c);
    memcpy(c, p, len);
    for (size_t i = 0; i < n; i++) {
        assert_true(m[i].off + m[i].width <= len);
        if (m[i].width == 1)
            c[m[i].off] = (uint8_t)m[i].value;
        else if (m[i].width == 2)
            put16(c + m[i].off, (uint16_t)m[i].value);
        else
            put32(c + m[i].off, m[i].value);
    }
    rc = parse_copy(c, len, &q);
    free(c);
    return rc;
}

#define MUT1(off, w, v) (&(const struct mut){(off), (w), (v)}), 1

static void test_header_rejections(void **state)
{
    size_t s1_len = 0, t3_len = 0, t1_len = 0;
    uint8_t *s1 = vt_read(S1, &s1_len);
    uint8_t *t3 = vt_read(T3, &t3_len);
    uint8_t *t1 = vt_read(T1, &t1_len);
    (void)state;

    /* version ∉ {3,4,5} */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(0, 2, 2)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(0, 2, 6)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(0, 2, 0)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(0, 2, 0x0105)), VOUCH_ERR_UNSUPPORTED);
    /* key type: 3 (P-384) is defined but unsupported, as everything but 2 */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(2, 2, 3)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(2, 2, 0)), VOUCH_ERR_UNSUPPORTED);
    /* TEE type */
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(4, 4, 0x80)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(4, 4, 0x81000000u)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(4, 4, 1)), VOUCH_ERR_UNSUPPORTED);
    /* v3 with TDX */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(4, 4, 0x81)), VOUCH_ERR_UNSUPPORTED);
    /* TDX body claimed in a v3 quote (as if version were lowered) */
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(0, 2, 3)), VOUCH_ERR_UNSUPPORTED);
    /* QE vendor ID: any byte off */
    for (size_t i = 12; i < 28; i++) {
        struct mut m = {i, 1, (uint32_t)(s1[i] ^ 0x01u)};
        assert_int_equal(parse_mutated(s1, s1_len, &m, 1), VOUCH_ERR_UNSUPPORTED);
    }
    /* QE SVN / PCE SVN / user data are not checked by the parser */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(8, 2, 0xffff)), VOUCH_OK);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(30, 1, 0xab)), VOUCH_OK);

    /* v5 body descriptor: type not in {1,2,3} */
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(48, 2, 0)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(48, 2, 4)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(48, 2, 0xffff)), VOUCH_ERR_UNSUPPORTED);
    /* body_size must match the body type */
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(50, 4, 649)), VOUCH_ERR_PARSE);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(50, 4, 584)), VOUCH_ERR_PARSE);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(50, 4, 0)), VOUCH_ERR_PARSE);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(50, 4, 0xffffffffu)), VOUCH_ERR_PARSE);
    /* type 2 with type 3's size; SGX body in a TDX quote */
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(48, 2, 2)), VOUCH_ERR_PARSE);
    {
        const struct mut m[] = {{48, 2, 1}, {50, 4, 384}};
        assert_int_equal(parse_mutated(t3, t3_len, m, 2), VOUCH_ERR_PARSE);
    }
    /* TD 1.5 body in a quote that says SGX */
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(4, 4, 0)), VOUCH_ERR_PARSE);

    free(s1);
    free(t3);
    free(t1);
}

/* An SGX v4 quote (accepted, as QVL does), built from S1's pieces: v4 header,
 * the same body, and the v3 QE part wrapped in a type-6 envelope. */
static void test_sgx_v4(void **state)
{
    size_t len = 0;
    uint8_t *s1 = vt_read(S1, &len);
    struct vouch_dcap_quote q3, q4;
    size_t qe_part = len - 436 - 128; /* QE report .. end of cert data */
    size_t out_len = 436 + 128 + 6 + qe_part;
    uint8_t *v4 = calloc(1, out_len);
    (void)state;

    assert_non_null(v4);
    assert_int_equal(vouch__dcap_quote_parse(s1, len, &q3), VOUCH_OK);
    memcpy(v4, s1, 436 + 128);
    put16(v4, 4);
    put32(v4 + 432, (uint32_t)(128 + 6 + qe_part));
    put16(v4 + 436 + 128, 6);
    put32(v4 + 436 + 130, (uint32_t)qe_part);
    memcpy(v4 + 436 + 134, s1 + 436 + 128, qe_part);
    assert_int_equal(vouch__dcap_quote_parse(v4, out_len, &q4), VOUCH_OK);
    assert_int_equal(q4.version, 4);
    assert_int_equal(q4.tee_type, VOUCH_DCAP_TEE_SGX);
    assert_int_equal(q4.body_type, 1);
    assert_int_equal(q4.signed_len, 432);
    assert_memory_equal(q4.sgx.raw, q3.sgx.raw, 384);
    assert_memory_equal(q4.qe_report.raw, q3.qe_report.raw, 384);
    assert_int_equal(q4.cert_data_len, q3.cert_data_len);
    assert_int_equal(q4.cert_type, 5);
    assert_int_equal(q4.quote_len, out_len);

    /* And a v5 SGX quote (body type 1). */
    {
        size_t v5_len = out_len + 6;
        uint8_t *v5 = calloc(1, v5_len);
        struct vouch_dcap_quote q5;
        assert_non_null(v5);
        memcpy(v5, v4, 48);
        put16(v5, 5);
        put16(v5 + 48, 1);
        put32(v5 + 50, 384);
        memcpy(v5 + 54, v4 + 48, out_len - 48);
        assert_int_equal(vouch__dcap_quote_parse(v5, v5_len, &q5), VOUCH_OK);
        assert_int_equal(q5.signed_len, 48 + 6 + 384);
        assert_int_equal(q5.body_type, 1);
        assert_memory_equal(q5.sgx.mrenclave, q3.sgx.mrenclave, 32);
        /* The v5 descriptor's body size must be the SGX report's. */
        put32(v5 + 50, 584);
        assert_int_equal(vouch__dcap_quote_parse(v5, v5_len, &q5), VOUCH_ERR_PARSE);
        free(v5);
    }
    free(v4);
    free(s1);
}

static void test_cert_types(void **state)
{
    size_t s1_len = 0, t1_len = 0;
    uint8_t *s1 = vt_read(S1, &s1_len);
    uint8_t *t1 = vt_read(T1, &t1_len);
    struct vouch_dcap_quote q;
    struct offs o3, o4;
    (void)state;

    assert_int_equal(vouch__dcap_quote_parse(s1, s1_len, &q), VOUCH_OK);
    o3 = layout(s1, 3, q.signed_len);
    assert_int_equal(s1[o3.cert_type], 5);
    assert_int_equal(vouch__dcap_quote_parse(t1, t1_len, &q), VOUCH_OK);
    o4 = layout(t1, 4, q.signed_len);
    assert_int_equal(t1[o4.outer], 6);
    assert_int_equal(t1[o4.cert_type], 5);

    /* v3 cert type outside 1..5 */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.cert_type, 2, 0)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.cert_type, 2, 6)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.cert_type, 2, 7)), VOUCH_ERR_UNSUPPORTED);
    /* 1..4 are known types; the parser accepts them (the verifier needs 5) */
    for (uint32_t t = 1; t <= 4; t++) {
        assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.cert_type, 2, t)), VOUCH_OK);
        assert_int_equal(parse_mutated(t1, t1_len, MUT1(o4.cert_type, 2, t)), VOUCH_OK);
    }
    /* v4: outer type must be 6, inner 1..5 */
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o4.outer, 2, 5)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o4.outer, 2, 7)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o4.cert_type, 2, 6)), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o4.cert_type, 2, 0)), VOUCH_ERR_UNSUPPORTED);
    free(s1);
    free(t1);
}

static void test_declared_lengths(void **state)
{
    size_t s1_len = 0, t1_len = 0, t3_len = 0;
    uint8_t *s1 = vt_read(S1, &s1_len);
    uint8_t *t1 = vt_read(T1, &t1_len);
    uint8_t *t3 = vt_read(T3, &t3_len);
    struct vouch_dcap_quote q;
    struct offs o3, o1;
    uint32_t sig3, sig1, outer1, cert3, cert1;
    (void)state;

    assert_int_equal(vouch__dcap_quote_parse(s1, s1_len, &q), VOUCH_OK);
    o3 = layout(s1, 3, q.signed_len);
    assert_int_equal(vouch__dcap_quote_parse(t1, t1_len, &q), VOUCH_OK);
    o1 = layout(t1, 4, q.signed_len);
    sig3 = get32(s1 + o3.sig_len);
    sig1 = get32(t1 + o1.sig_len);
    outer1 = get32(t1 + o1.outer + 2);
    cert3 = get32(s1 + o3.cert_type + 2);
    cert1 = get32(t1 + o1.cert_type + 2);

    /* Over the named limits: TOO_LARGE before anything else. */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.sig_len, 4, 0xffffffffu)),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.sig_len, 4, 64u * 1024u + 1u)),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.auth_len, 2, 0xffff)), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.cert_type + 2, 4, 0x7fffffffu)),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.outer + 2, 4, 0xffffffffu)),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.cert_type + 2, 4, 32u * 1024u + 1u)),
                     VOUCH_ERR_TOO_LARGE);

    /* Within the limits but past the end of the input: TRUNCATED. */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.sig_len, 4, sig3 + 1)), VOUCH_ERR_TRUNCATED);
    assert_int_equal(parse_mutated(t3, t3_len, MUT1(702, 4, get32(t3 + 702) + 1)),
                     VOUCH_ERR_TRUNCATED);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.cert_type + 2, 4, cert3 + 1)),
                     VOUCH_ERR_TRUNCATED);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.outer + 2, 4, outer1 + 1)),
                     VOUCH_ERR_TRUNCATED);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.cert_type + 2, 4, cert1 + 1)),
                     VOUCH_ERR_TRUNCATED);

    /* Declared sizes that leave bytes unaccounted for: PARSE (QVL's "parsed
     * size != declared size"). T1's padding makes the longer signature data
     * fit inside the input. */
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.sig_len, 4, sig1 + 1)), VOUCH_ERR_PARSE);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.sig_len, 4, sig1 + 70)), VOUCH_ERR_PARSE);
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.cert_type + 2, 4, cert3 - 1)),
                     VOUCH_ERR_PARSE);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.cert_type + 2, 4, cert1 - 1)),
                     VOUCH_ERR_PARSE);
    {
        /* Envelope one byte shorter with the inner data also one shorter:
         * the envelope is consistent, the signature data is not. */
        const struct mut m[] = {{o1.outer + 2, 4, outer1 - 1}, {o1.cert_type + 2, 4, cert1 - 1}};
        assert_int_equal(parse_mutated(t1, t1_len, m, 2), VOUCH_ERR_PARSE);
    }
    /* Shorter signature data cuts the certification data. */
    assert_int_equal(parse_mutated(s1, s1_len, MUT1(o3.sig_len, 4, sig3 - 1)), VOUCH_ERR_TRUNCATED);
    assert_int_equal(parse_mutated(t1, t1_len, MUT1(o1.outer + 2, 4, outer1 - 1)),
                     VOUCH_ERR_TRUNCATED);

    /* QE auth data of length 0 is legal (QVL hashes whatever is present). */
    {
        size_t n = s1_len - 32;
        uint8_t *c = malloc(n);
        assert_non_null(c);
        memcpy(c, s1, o3.auth_len);
        memcpy(c + o3.auth_len + 2, s1 + o3.auth_len + 2 + 32, s1_len - o3.auth_len - 2 - 32);
        put16(c + o3.auth_len, 0);
        put32(c + o3.sig_len, sig3 - 32);
        assert_int_equal(vouch__dcap_quote_parse(c, n, &q), VOUCH_OK);
        assert_int_equal(q.qe_auth_len, 0);
        assert_int_equal(q.cert_data_len, cert3);
        free(c);
    }
    free(s1);
    free(t1);
    free(t3);
}

/* Every bit of every length field (sizes, not types), flipped: never OK. */
static void flip_lengths(const char *file)
{
    size_t len = 0;
    uint8_t *p = vt_read(file, &len);
    struct vouch_dcap_quote q;
    struct offs o;
    size_t fields[5][2];
    size_t nf = 0;

    assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
    o = layout(p, q.version, q.signed_len);
    fields[nf][0] = o.sig_len, fields[nf++][1] = 4;
    fields[nf][0] = o.auth_len, fields[nf++][1] = 2;
    fields[nf][0] = o.cert_type + 2, fields[nf++][1] = 4;
    if (o.outer) {
        fields[nf][0] = o.outer + 2, fields[nf++][1] = 4;
    }
    if (q.version == 5) {
        fields[nf][0] = 50, fields[nf++][1] = 4;
    }
    for (size_t f = 0; f < nf; f++) {
        for (size_t bit = 0; bit < 8 * fields[f][1]; bit++) {
            uint8_t *c = malloc(len);
            vouch_err rc;
            assert_non_null(c);
            memcpy(c, p, len);
            c[fields[f][0] + bit / 8] ^= (uint8_t)(1u << (bit % 8));
            rc = parse_copy(c, len, &q);
            if (rc == VOUCH_OK)
                fail_msg("%s: length at %zu bit %zu flipped still parses", file, fields[f][0], bit);
            free(c);
        }
    }
    free(p);
}

static void test_flipped_lengths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
        flip_lengths(vecs[i].file);
}

static void test_bad_args(void **state)
{
    struct vouch_dcap_quote q;
    uint8_t *big = calloc(1, 64u * 1024u + 1u);
    size_t len = 0;
    uint8_t *s1 = vt_read(S1, &len);
    (void)state;

    assert_non_null(big);
    assert_int_equal(vouch__dcap_quote_parse(NULL, 10, &q), VOUCH_ERR_INVAL);
    assert_int_equal(vouch__dcap_quote_parse(s1, len, NULL), VOUCH_ERR_INVAL);
    assert_int_equal(vouch__dcap_quote_parse(NULL, 0, &q), VOUCH_ERR_TRUNCATED);
    /* A valid quote padded past the evidence limit. */
    memcpy(big, s1, len);
    assert_int_equal(vouch__dcap_quote_parse(big, 64u * 1024u, &q), VOUCH_OK);
    assert_int_equal(q.trailing_len, 64u * 1024u - len);
    assert_int_equal(vouch__dcap_quote_parse(big, 64u * 1024u + 1u, &q), VOUCH_ERR_TOO_LARGE);
    assert_int_equal(q.version, 0);
    free(big);
    free(s1);
}

/* Deterministic mutation loop over every real quote (house style §12.9). */
static void test_mutations(void **state)
{
    uint32_t seed = 0x5eed1234u;
    (void)state;

    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        size_t len = 0;
        uint8_t *p = vt_read(vecs[i].file, &len);
        for (int round = 0; round < 300; round++) {
            uint8_t *c = malloc(len);
            struct vouch_dcap_quote q;
            size_t n;
            assert_non_null(c);
            memcpy(c, p, len);
            for (int k = 0; k < 1 + round % 4; k++) {
                seed = seed * 1103515245u + 12345u;
                /* Bias towards the structural part (header, lengths). */
                size_t at = (seed >> 8) % ((round & 1) ? len : 1400);
                seed = seed * 1103515245u + 12345u;
                c[at] = (uint8_t)(seed >> 16);
            }
            seed = seed * 1103515245u + 12345u;
            n = (round % 5 == 0) ? (seed >> 4) % (len + 1) : len;
            if (vouch__dcap_quote_parse(c, n, &q) == VOUCH_OK) {
                json_t *j = json_object();
                assert_true(q.quote_len <= n);
                assert_true(q.quote_len + q.trailing_len == n);
                assert_int_equal(vouch__dcap_quote_claims(&q, j), VOUCH_OK);
                json_decref(j);
            }
            free(c);
        }
        free(p);
    }
}

/* ---------------- PCK certificate SGX extension ---------------- */

/* Parses the quote, pulls the PCK leaf from its PEM chain and parses the
 * leaf's SGX extension. */
static void pck_from_quote(const char *file, struct vouch_pck_ext *ext)
{
    size_t len = 0;
    uint8_t *p = vt_read(file, &len);
    struct vouch_dcap_quote q;
    struct vouch_x509 *certs[VOUCH_MAX_CHAIN_DEPTH] = {0};
    size_t n = 0;
    const uint8_t *e = NULL;
    size_t elen = 0;
    vouch_err rc;

    assert_int_equal(vouch__dcap_quote_parse(p, len, &q), VOUCH_OK);
    rc = vouch_x509_parse_pem_chain(q.cert_data, q.cert_data_len, certs, VOUCH_MAX_CHAIN_DEPTH, &n);
    if (rc != VOUCH_OK)
        fail_msg("%s: PEM chain: %s", file, vouch_err_name(rc));
    assert_int_equal(n, 3);
    assert_int_equal(vouch_x509_extension(certs[0], PCK_EXT_OID, &e, &elen), VOUCH_OK);
    rc = vouch__pck_ext_parse(e, elen, ext);
    if (rc != VOUCH_OK)
        fail_msg("%s: PCK extension: %s", file, vouch_err_name(rc));
    /* The CA certificates carry no SGX extension. */
    assert_int_equal(vouch_x509_extension(certs[1], PCK_EXT_OID, &e, &elen), VOUCH_ERR_NOT_FOUND);
    for (size_t i = 0; i < n; i++)
        vouch_x509_free(certs[i]);
    free(p);
}

static void test_pck_ext_real(void **state)
{
    struct vouch_pck_ext x;
    static const uint8_t s1_comps[16] = {11, 11, 2, 2, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    (void)state;

    pck_from_quote(S1, &x);
    assert_memory_equal(x.tcb_comp, s1_comps, 16);
    assert_int_equal(x.pcesvn, 13);
    assert_hex_prefix(x.fmspc, 6, "00a067110000");
    assert_hex_prefix(x.pceid, 2, "0000");
    assert_int_equal(x.sgx_type, 0);
    /* Processor CA leaf: no platform instance ID, no configuration. */
    assert_false(x.has_platform_instance_id);
    assert_false(x.has_config);
    /* The cert's CPUSVN is its TCB components. */
    assert_memory_equal(x.cpusvn, s1_comps, 16);

    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        char fm[13];
        pck_from_quote(vecs[i].file, &x);
        hex(x.fmspc, 6, fm);
        assert_string_equal(fm, vecs[i].fmspc);
        assert_int_equal(x.pcesvn, vecs[i].pcesvn);
        /* Intel issues CPUSVN as the 16 SGX components themselves. */
        assert_memory_equal(x.cpusvn, x.tcb_comp, 16);
        if (vecs[i].tee == VOUCH_DCAP_TEE_TDX) {
            /* Platform CA leaves (multi-package TDX platforms). */
            assert_true(x.has_platform_instance_id);
            assert_false(vouch_ct_is_zero(x.platform_instance_id, 16));
            assert_true(x.has_config);
            assert_int_equal(x.sgx_type, 1);
        }
    }

    /* T1: dynamic platform, cached keys, SMT all true; T7: cached keys false. */
    pck_from_quote(T1, &x);
    assert_true(x.dynamic_platform && x.cached_keys && x.smt_enabled);
    pck_from_quote("evidence/tdx/v4_gotdx_sprE4_quote.bin", &x);
    assert_true(x.dynamic_platform);
    assert_false(x.cached_keys);
    assert_true(x.smt_enabled);
    /* T7: SGX comps 3,3,2,2,2,1,0,2 (README). */
    {
        static const uint8_t t7[8] = {3, 3, 2, 2, 2, 1, 0, 2};
        assert_memory_equal(x.tcb_comp, t7, 8);
    }
    /* T2: SGX component #8 = 3 (README). */
    pck_from_quote("evidence/tdx/v5_phala_tcb_unsupported_quote.bin", &x);
    assert_int_equal(x.tcb_comp[7], 3);
}

/* A builder for synthetic extensions, to reach every rejection. */
struct der {
    uint8_t b[2048];
    size_t n;
};

static void der_put(struct der *o, uint8_t tag, const uint8_t *v, size_t n)
{
    assert_true(o->n + n + 4 <= sizeof(o->b));
    o->b[o->n++] = tag;
    if (n < 0x80) {
        o->b[o->n++] = (uint8_t)n;
    } else if (n < 0x100) {
        o->b[o->n++] = 0x81;
        o->b[o->n++] = (uint8_t)n;
    } else {
        o->b[o->n++] = 0x82;
        o->b[o->n++] = (uint8_t)(n >> 8);
        o->b[o->n++] = (uint8_t)n;
    }
    if (n)
        memcpy(o->b + o->n, v, n);
    o->n += n;
}

/* OID 1.2.840.113741.1.13.1[.a[.b]] (a, b < 128; 0 = absent). */
static void oid_put(struct der *o, unsigned a, unsigned b)
{
    uint8_t v[16] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
    size_t n = 9;
    if (a)
        v[n++] = (uint8_t)a;
    if (b)
        v[n++] = (uint8_t)b;
    der_put(o, VOUCH_DER_OID, v, n);
}

/* SEQUENCE { OID, <tag value> } appended to @p list. */
static void pair_put(struct der *list, unsigned a, unsigned b, uint8_t tag, const uint8_t *v,
                     size_t n)
{
    struct der pair = {.n = 0};
    oid_put(&pair, a, b);
    der_put(&pair, tag, v, n);
    der_put(list, VOUCH_DER_SEQUENCE, pair.b, pair.n);
}

struct ext_opts {
    unsigned omit, dup;         /* top-level arc to leave out / repeat */
    unsigned tcb_omit, tcb_dup; /* TCB arc to leave out / repeat */
    const uint8_t *comp5;       /* raw INTEGER contents for component 5 */
    size_t comp5_len;
    uint8_t comp5_tag;     /* tag for component 5 (0 = INTEGER) */
    const uint8_t *pcesvn; /* raw INTEGER contents for PCESVN */
    size_t pcesvn_len;
    size_t fmspc_len;     /* 0 = 6 */
    uint8_t fmspc_tag;    /* 0 = OCTET STRING */
    uint8_t sgx_type;     /* ENUMERATED value */
    uint8_t sgx_type_tag; /* 0 = ENUMERATED */
    bool platform;        /* add .6 and .7 */
    uint8_t smt;          /* raw BOOLEAN byte for .7.3 (0 = 0xff) */
    bool config_dup;
    bool unknown;    /* sprinkle unknown OIDs */
    bool pair_extra; /* a third element in one pair */
    bool trailing;   /* a byte after the outer SEQUENCE */
    bool tcb_not_seq;
};

static void build_ext(const struct ext_opts *o, struct der *out)
{
    struct der list = {.n = 0}, tcb = {.n = 0}, pair;
    static const uint8_t ppid[16] = {0xd0, 0x4e, 0xc0, 0x6d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t cpusvn[16] = {11, 11, 2, 2, 255, 1};
    static const uint8_t pceid[2] = {0, 0};
    static const uint8_t fmspc[16] = {0x00, 0xa0, 0x67, 0x11, 0x00, 0x00};
    static const uint8_t comps[16] = {11, 11, 2, 2, 255, 1};
    static const uint8_t pcesvn[1] = {13};
    uint8_t ff[1] = {0xff};

    for (unsigned arc = 1; arc <= 18; arc++) {
        int times = arc == o->tcb_omit ? 0 : arc == o->tcb_dup ? 2 : 1;
        for (int t = 0; t < times; t++) {
            if (arc <= 16) {
                uint8_t v[2] = {0x00, comps[arc - 1]};
                const uint8_t *val = v[1] & 0x80 ? v : v + 1;
                size_t vn = v[1] & 0x80 ? 2 : 1;
                uint8_t tag = VOUCH_DER_INTEGER;
                if (arc == 5 && o->comp5) {
                    val = o->comp5;
                    vn = o->comp5_len;
                }
                if (arc == 5 && o->comp5_tag)
                    tag = o->comp5_tag;
                pair_put(&tcb, 2, arc, tag, val, vn);
            } else if (arc == 17) {
                pair_put(&tcb, 2, arc, VOUCH_DER_INTEGER, o->pcesvn ? o->pcesvn : pcesvn,
                         o->pcesvn ? o->pcesvn_len : 1);
            } else {
                pair_put(&tcb, 2, arc, VOUCH_DER_OCTET_STRING, cpusvn, 16);
            }
            if (o->unknown && arc == 9)
                pair_put(&tcb, 2, 99, VOUCH_DER_OCTET_STRING, cpusvn, 3);
        }
    }

    for (unsigned arc = 1; arc <= 7; arc++) {
        int times = arc == o->omit ? 0 : arc == o->dup ? 2 : 1;
        if ((arc == 6 || arc == 7) && !o->platform)
            times = 0;
        for (int t = 0; t < times; t++) {
            switch (arc) {
            case 1:
                pair_put(&list, 1, 0, VOUCH_DER_OCTET_STRING, ppid, 16);
                break;
            case 2:
                pair.n = 0;
                oid_put(&pair, 2, 0);
                der_put(&pair, o->tcb_not_seq ? VOUCH_DER_OCTET_STRING : VOUCH_DER_SEQUENCE, tcb.b,
                        tcb.n);
                der_put(&list, VOUCH_DER_SEQUENCE, pair.b, pair.n);
                break;
            case 3:
                pair_put(&list, 3, 0, VOUCH_DER_OCTET_STRING, pceid, 2);
                break;
            case 4:
                if (o->pair_extra) {
                    pair.n = 0;
                    oid_put(&pair, 4, 0);
                    der_put(&pair, VOUCH_DER_OCTET_STRING, fmspc, 6);
                    der_put(&pair, VOUCH_DER_OCTET_STRING, fmspc, 6);
                    der_put(&list, VOUCH_DER_SEQUENCE, pair.b, pair.n);
                } else {
                    pair_put(&list, 4, 0, o->fmspc_tag ? o->fmspc_tag : VOUCH_DER_OCTET_STRING,
                             fmspc, o->fmspc_len ? o->fmspc_len : 6);
                }
                break;
            case 5:
                pair_put(&list, 5, 0, o->sgx_type_tag ? o->sgx_type_tag : VOUCH_DER_ENUMERATED,
                         &o->sgx_type, 1);
                break;
            case 6:
                pair_put(&list, 6, 0, VOUCH_DER_OCTET_STRING, ppid, 16);
                break;
            case 7: {
                struct der cfg = {.n = 0};
                uint8_t smt[1] = {o->smt ? o->smt : 0xff};
                pair_put(&cfg, 7, 1, VOUCH_DER_BOOLEAN, ff, 1);
                pair_put(&cfg, 7, 2, VOUCH_DER_BOOLEAN, (const uint8_t[]){0x00}, 1);
                pair_put(&cfg, 7, 3, VOUCH_DER_BOOLEAN, smt, 1);
                if (o->config_dup)
                    pair_put(&cfg, 7, 1, VOUCH_DER_BOOLEAN, ff, 1);
                pair.n = 0;
                oid_put(&pair, 7, 0);
                der_put(&pair, VOUCH_DER_SEQUENCE, cfg.b, cfg.n);
                der_put(&list, VOUCH_DER_SEQUENCE, pair.b, pair.n);
                break;
            }
            default:
                break;
            }
        }
        if (o->unknown && arc == 3) {
            /* Unknown arc under the SGX prefix, and an unrelated OID. */
            pair_put(&list, 42, 0, VOUCH_DER_INTEGER, ff + 0, 1);
            pair.n = 0;
            der_put(&pair, VOUCH_DER_OID, (const uint8_t[]){0x55, 0x1d, 0x0f}, 3);
            der_put(&pair, VOUCH_DER_SEQUENCE, NULL, 0);
            der_put(&list, VOUCH_DER_SEQUENCE, pair.b, pair.n);
        }
    }
    out->n = 0;
    der_put(out, VOUCH_DER_SEQUENCE, list.b, list.n);
    if (o->trailing)
        out->b[out->n++] = 0;
}

static vouch_err ext_parse(const struct ext_opts *o, struct vouch_pck_ext *x)
{
    struct der d;
    uint8_t *copy;
    vouch_err rc;

    build_ext(o, &d);
    copy = malloc(d.n);
    assert_non_null(copy);
    memcpy(copy, d.b, d.n);
    rc = vouch__pck_ext_parse(copy, d.n, x);
    free(copy);
    return rc;
}

static void test_pck_ext_synthetic(void **state)
{
    struct vouch_pck_ext x;
    (void)state;

    /* The baseline builds and parses, with and without platform entries. */
    assert_int_equal(ext_parse(&(struct ext_opts){0}, &x), VOUCH_OK);
    assert_int_equal(x.tcb_comp[4], 255);
    assert_int_equal(x.pcesvn, 13);
    assert_false(x.has_config);
    assert_int_equal(ext_parse(&(struct ext_opts){.platform = true, .sgx_type = 2}, &x), VOUCH_OK);
    assert_true(x.has_config && x.has_platform_instance_id);
    assert_true(x.dynamic_platform);
    assert_false(x.cached_keys);
    assert_true(x.smt_enabled);
    assert_int_equal(x.sgx_type, 2);
    assert_int_equal(ext_parse(&(struct ext_opts){.unknown = true, .platform = true}, &x),
                     VOUCH_OK);
    assert_int_equal(x.tcb_comp[8], 0);

    /* Every required entry, and every TCB entry, is required. */
    for (unsigned a = 1; a <= 5; a++) {
        assert_int_equal(ext_parse(&(struct ext_opts){.omit = a}, &x), VOUCH_ERR_PARSE);
        assert_int_equal(x.pcesvn, 0); /* reset on failure */
    }
    for (unsigned a = 6; a <= 7; a++)
        assert_int_equal(ext_parse(&(struct ext_opts){.omit = a, .platform = true}, &x), VOUCH_OK);
    for (unsigned a = 1; a <= 18; a++)
        assert_int_equal(ext_parse(&(struct ext_opts){.tcb_omit = a}, &x), VOUCH_ERR_PARSE);

    /* Duplicates. */
    for (unsigned a = 1; a <= 7; a++)
        assert_int_equal(ext_parse(&(struct ext_opts){.dup = a, .platform = true}, &x),
                         VOUCH_ERR_PARSE);
    for (unsigned a = 1; a <= 18; a++)
        assert_int_equal(ext_parse(&(struct ext_opts){.tcb_dup = a}, &x), VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.platform = true, .config_dup = true}, &x),
                     VOUCH_ERR_PARSE);

    /* Component values: 255 needs 00 ff; 256 is out of range; negative and
     * non-minimal are not DER. */
    static const uint8_t c255[] = {0x00, 0xff}, c256[] = {0x01, 0x00}, cneg[] = {0xff},
                         cpad[] = {0x00, 0x05}, c0[] = {0x00};
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5 = c255, .comp5_len = 2}, &x), VOUCH_OK);
    assert_int_equal(x.tcb_comp[4], 255);
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5 = c0, .comp5_len = 1}, &x), VOUCH_OK);
    assert_int_equal(x.tcb_comp[4], 0);
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5 = c256, .comp5_len = 2}, &x),
                     VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5 = cneg, .comp5_len = 1}, &x),
                     VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5 = cpad, .comp5_len = 2}, &x),
                     VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5 = c0, .comp5_len = 0}, &x),
                     VOUCH_ERR_PARSE);
    /* Wrong type for a component: OCTET STRING, ENUMERATED. */
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5_tag = VOUCH_DER_OCTET_STRING}, &x),
                     VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.comp5_tag = VOUCH_DER_ENUMERATED}, &x),
                     VOUCH_ERR_PARSE);

    /* PCESVN is 16-bit. */
    static const uint8_t p65535[] = {0x00, 0xff, 0xff}, p65536[] = {0x01, 0x00, 0x00};
    assert_int_equal(ext_parse(&(struct ext_opts){.pcesvn = p65535, .pcesvn_len = 3}, &x),
                     VOUCH_OK);
    assert_int_equal(x.pcesvn, 65535);
    assert_int_equal(ext_parse(&(struct ext_opts){.pcesvn = p65536, .pcesvn_len = 3}, &x),
                     VOUCH_ERR_PARSE);

    /* Sizes and types of the OCTET STRING entries. */
    assert_int_equal(ext_parse(&(struct ext_opts){.fmspc_len = 5}, &x), VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.fmspc_len = 7}, &x), VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.fmspc_tag = VOUCH_DER_IA5STRING}, &x),
                     VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.tcb_not_seq = true}, &x), VOUCH_ERR_PARSE);

    /* SGX type: ENUMERATED 0..2. */
    assert_int_equal(ext_parse(&(struct ext_opts){.sgx_type = 1}, &x), VOUCH_OK);
    assert_int_equal(x.sgx_type, 1);
    assert_int_equal(ext_parse(&(struct ext_opts){.sgx_type = 3}, &x), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(ext_parse(&(struct ext_opts){.sgx_type = 0x80}, &x), VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.sgx_type_tag = VOUCH_DER_INTEGER}, &x),
                     VOUCH_ERR_PARSE);

    /* BOOLEAN must be DER: 0x00 or 0xff. */
    assert_int_equal(ext_parse(&(struct ext_opts){.platform = true, .smt = 0x01}, &x),
                     VOUCH_ERR_PARSE);

    /* Shape: three elements in a pair, bytes after the outer SEQUENCE. */
    assert_int_equal(ext_parse(&(struct ext_opts){.pair_extra = true}, &x), VOUCH_ERR_PARSE);
    assert_int_equal(ext_parse(&(struct ext_opts){.trailing = true}, &x), VOUCH_ERR_PARSE);
}

static void test_pck_ext_truncations(void **state)
{
    struct der d;
    struct vouch_pck_ext x;
    (void)state;

    build_ext(&(struct ext_opts){.platform = true}, &d);
    for (size_t n = 0; n < d.n; n++) {
        uint8_t *c = malloc(n ? n : 1);
        vouch_err rc;
        assert_non_null(c);
        memcpy(c, d.b, n);
        rc = vouch__pck_ext_parse(c, n, &x);
        if (rc == VOUCH_OK)
            fail_msg("PCK extension cut to %zu bytes parses", n);
        free(c);
    }
    /* Corrupt every byte in turn: never a crash, only input-class errors,
     * and the unmodified input (v == 0) still parses. */
    for (size_t i = 0; i < d.n; i++) {
        for (unsigned v = 0; v < 256; v += 51) {
            uint8_t *c = malloc(d.n);
            vouch_err rc;
            assert_non_null(c);
            memcpy(c, d.b, d.n);
            c[i] = (uint8_t)(c[i] ^ v);
            rc = vouch__pck_ext_parse(c, d.n, &x);
            if (v == 0)
                assert_int_equal(rc, VOUCH_OK);
            else if (rc != VOUCH_OK && rc != VOUCH_ERR_PARSE && rc != VOUCH_ERR_TRUNCATED &&
                     rc != VOUCH_ERR_UNSUPPORTED)
                fail_msg("byte %zu ^ %u: %s", i, v, vouch_err_name(rc));
            free(c);
        }
    }
    assert_int_equal(vouch__pck_ext_parse(NULL, 4, &x), VOUCH_ERR_INVAL);
    assert_int_equal(vouch__pck_ext_parse(d.b, d.n, NULL), VOUCH_ERR_INVAL);
    assert_int_equal(vouch__pck_ext_parse(NULL, 0, &x), VOUCH_ERR_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_quotes),       cmocka_unit_test(test_s1_fields),
        cmocka_unit_test(test_claims_sgx),        cmocka_unit_test(test_claims_tdx),
        cmocka_unit_test(test_td_attributes),     cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_header_rejections), cmocka_unit_test(test_sgx_v4),
        cmocka_unit_test(test_cert_types),        cmocka_unit_test(test_declared_lengths),
        cmocka_unit_test(test_flipped_lengths),   cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_mutations),         cmocka_unit_test(test_pck_ext_real),
        cmocka_unit_test(test_pck_ext_synthetic), cmocka_unit_test(test_pck_ext_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
