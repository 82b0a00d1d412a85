/* Sealing: key derivation per policy, the blob format, tamper detection,
 * and the security-version rule (upgrade reads old blobs, never the reverse). */
#include "testutil.h"

#include <string.h>
#include <vouch/crypto.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/seal.h>

static const uint8_t secret[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

struct agent {
    const uint8_t *secret;
    struct vouch_sim_identity id;
    unsigned calls;
};

static vouch_err provider(void *ctx, const struct vouch_seal_key_request *req,
                          uint8_t key[VOUCH_SEAL_KEY_LEN])
{
    struct agent *a = ctx;
    a->calls++;
    return vouch_seal_derive_key(a->secret, &a->id, req, key);
}

static struct agent make_agent(uint8_t m0, uint8_t s0, uint16_t product, uint16_t svn)
{
    struct agent a;
    memset(&a, 0, sizeof(a));
    a.secret = secret;
    a.id.measurement[0] = m0;
    a.id.signer_id[0] = s0;
    a.id.product_id = product;
    a.id.svn = svn;
    return a;
}

/* True when @p needle occurs in @p hay. */
static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

static const char msg[] = "the enclave's secret";
static const char aad[] = "context";

static size_t seal_it(struct agent *a, enum vouch_seal_policy pol, uint8_t *blob, size_t cap)
{
    size_t n = 0;
    assert_int_equal(vouch_seal(provider, a, pol, VOUCH_TEE_BACKEND_SIM, a->id.svn, msg,
                                sizeof(msg), aad, sizeof(aad), blob, cap, &n),
                     VOUCH_OK);
    assert_int_equal(n, sizeof(msg) + VOUCH_SEAL_OVERHEAD);
    return n;
}

static vouch_err unseal_it(struct agent *a, const uint8_t *blob, size_t n, uint8_t *out,
                           size_t *out_len)
{
    return vouch_unseal(provider, a, VOUCH_TEE_BACKEND_SIM, a->id.svn, blob, n, aad, sizeof(aad),
                        out, 256, out_len);
}

static void test_round_trip(void **state)
{
    struct agent a = make_agent(1, 2, 3, 4);
    uint8_t blob[256], out[256];
    size_t n, m = 0;
    struct vouch_seal_header h;
    (void)state;

    for (int pol = VOUCH_SEAL_POLICY_UNIQUE; pol <= VOUCH_SEAL_POLICY_PRODUCT; pol++) {
        n = seal_it(&a, (enum vouch_seal_policy)pol, blob, sizeof(blob));
        /* The plaintext does not appear in the blob. */
        assert_false(contains(blob, n, msg, 8));
        assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_OK);
        assert_int_equal(h.version, VOUCH_SEAL_VERSION);
        assert_int_equal(h.policy, pol);
        assert_int_equal(h.backend, VOUCH_TEE_BACKEND_SIM);
        assert_int_equal(h.svn, 4);
        assert_int_equal(h.ciphertext_len, sizeof(msg));
        assert_int_equal(unseal_it(&a, blob, n, out, &m), VOUCH_OK);
        assert_int_equal(m, sizeof(msg));
        assert_memory_equal(out, msg, sizeof(msg));
    }
    /* Empty plaintext works too. */
    assert_int_equal(vouch_seal(provider, &a, VOUCH_SEAL_POLICY_UNIQUE, VOUCH_TEE_BACKEND_SIM, 4,
                                NULL, 0, NULL, 0, blob, sizeof(blob), &n),
                     VOUCH_OK);
    assert_int_equal(n, VOUCH_SEAL_OVERHEAD);
    assert_int_equal(vouch_unseal(provider, &a, VOUCH_TEE_BACKEND_SIM, 4, blob, n, NULL, 0, out,
                                  sizeof(out), &m),
                     VOUCH_OK);
    assert_int_equal(m, 0);
    /* Two seals of the same data differ (fresh key id and nonce). */
    {
        uint8_t b2[256];
        size_t n1 = seal_it(&a, VOUCH_SEAL_POLICY_UNIQUE, blob, sizeof(blob));
        size_t n2 = seal_it(&a, VOUCH_SEAL_POLICY_UNIQUE, b2, sizeof(b2));
        assert_int_equal(n1, n2);
        assert_memory_not_equal(blob + 12, b2 + 12, 32);
    }
}

static void test_tamper(void **state)
{
    struct agent a = make_agent(1, 2, 3, 4);
    uint8_t blob[256], out[256];
    size_t n, m;
    (void)state;

    n = seal_it(&a, VOUCH_SEAL_POLICY_PRODUCT, blob, sizeof(blob));
    for (size_t i = 0; i < n; i++) {
        blob[i] ^= (uint8_t)(1u << (i % 8));
        m = 99;
        memset(out, 0x5a, sizeof(out));
        vouch_err rc = unseal_it(&a, blob, n, out, &m);
        if (rc == VOUCH_OK)
            fail_msg("flipping blob byte %zu was accepted", i);
        assert_int_equal(m, 0);
        /* Nothing of the plaintext leaks on failure. */
        assert_false(contains(out, sizeof(out), msg, 8));
        blob[i] ^= (uint8_t)(1u << (i % 8));
    }
    /* Truncated and extended blobs. */
    for (size_t k = 0; k < n; k++)
        assert_int_not_equal(unseal_it(&a, blob, k, out, &m), VOUCH_OK);
    assert_int_equal(unseal_it(&a, blob, n + 1, out, &m), VOUCH_ERR_PARSE);
    /* Different additional data. */
    assert_int_equal(vouch_unseal(provider, &a, VOUCH_TEE_BACKEND_SIM, 4, blob, n, "other", 5, out,
                                  sizeof(out), &m),
                     VOUCH_ERR_SIGNATURE);
    /* Another backend's blob is not accepted as this backend's. */
    assert_int_equal(vouch_unseal(provider, &a, VOUCH_TEE_BACKEND_TDX, 4, blob, n, aad, sizeof(aad),
                                  out, sizeof(out), &m),
                     VOUCH_ERR_MISMATCH);
    /* Output buffer too small: refused before decrypting. */
    assert_int_equal(vouch_unseal(provider, &a, VOUCH_TEE_BACKEND_SIM, 4, blob, n, aad, sizeof(aad),
                                  out, sizeof(msg) - 1, &m),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(unseal_it(&a, blob, n, out, &m), VOUCH_OK);
}

static void test_wrong_policy_and_identity(void **state)
{
    struct agent a = make_agent(1, 2, 3, 4);
    uint8_t blob[256], out[256];
    size_t n, m;
    (void)state;

    /* Rewriting the policy byte makes the derived key and the AAD differ. */
    n = seal_it(&a, VOUCH_SEAL_POLICY_UNIQUE, blob, sizeof(blob));
    blob[6] = VOUCH_SEAL_POLICY_PRODUCT;
    assert_int_equal(unseal_it(&a, blob, n, out, &m), VOUCH_ERR_SIGNATURE);

    /* UNIQUE: another measurement (same signer, product) cannot unseal. */
    n = seal_it(&a, VOUCH_SEAL_POLICY_UNIQUE, blob, sizeof(blob));
    {
        struct agent other = make_agent(9, 2, 3, 4);
        assert_int_equal(unseal_it(&other, blob, n, out, &m), VOUCH_ERR_SIGNATURE);
    }
    /* PRODUCT: another measurement of the same signer and product can;
     * another product or signer cannot. */
    n = seal_it(&a, VOUCH_SEAL_POLICY_PRODUCT, blob, sizeof(blob));
    {
        struct agent rebuilt = make_agent(9, 2, 3, 4);
        struct agent product = make_agent(1, 2, 8, 4);
        struct agent signer = make_agent(1, 7, 3, 4);
        assert_int_equal(unseal_it(&rebuilt, blob, n, out, &m), VOUCH_OK);
        assert_memory_equal(out, msg, sizeof(msg));
        assert_int_equal(unseal_it(&product, blob, n, out, &m), VOUCH_ERR_SIGNATURE);
        assert_int_equal(unseal_it(&signer, blob, n, out, &m), VOUCH_ERR_SIGNATURE);
    }
    /* PRODUCT: a debug build of the same signer and product (its host may
     * inspect it) cannot read a production blob, nor the reverse. */
    {
        struct agent debug = make_agent(9, 2, 3, 4);
        debug.id.debug = true;
        assert_int_equal(unseal_it(&debug, blob, n, out, &m), VOUCH_ERR_SIGNATURE);
        n = seal_it(&debug, VOUCH_SEAL_POLICY_PRODUCT, blob, sizeof(blob));
        assert_int_equal(unseal_it(&a, blob, n, out, &m), VOUCH_ERR_SIGNATURE);
        assert_int_equal(unseal_it(&debug, blob, n, out, &m), VOUCH_OK);
        n = seal_it(&a, VOUCH_SEAL_POLICY_PRODUCT, blob, sizeof(blob));
    }
    /* Another platform secret cannot unseal. */
    {
        static const uint8_t other_secret[32] = {0xff};
        struct agent b = make_agent(1, 2, 3, 4);
        b.secret = other_secret;
        assert_int_equal(unseal_it(&b, blob, n, out, &m), VOUCH_ERR_SIGNATURE);
    }
}

static void test_svn_rules(void **state)
{
    struct agent old = make_agent(1, 2, 3, 4);
    struct agent newer = make_agent(5, 2, 3, 6);
    uint8_t blob[256], out[256], key[32];
    size_t n, m;
    struct vouch_seal_key_request req = {
        .policy = VOUCH_SEAL_POLICY_PRODUCT, .backend = VOUCH_TEE_BACKEND_SIM, .svn = 5};
    (void)state;

    /* Upgrade: svn 6 reads the svn 4 blob. */
    n = seal_it(&old, VOUCH_SEAL_POLICY_PRODUCT, blob, sizeof(blob));
    assert_int_equal(unseal_it(&newer, blob, n, out, &m), VOUCH_OK);
    assert_memory_equal(out, msg, sizeof(msg));

    /* Downgrade: svn 4 cannot read a blob sealed at svn 6, whether refused by
     * the unseal check or by the key provider. */
    n = seal_it(&newer, VOUCH_SEAL_POLICY_PRODUCT, blob, sizeof(blob));
    old.calls = 0;
    assert_int_equal(unseal_it(&old, blob, n, out, &m), VOUCH_ERR_POLICY);
    assert_int_equal(old.calls, 0);
    /* An enclave that lies about its own svn still gets no key. */
    assert_int_equal(vouch_unseal(provider, &old, VOUCH_TEE_BACKEND_SIM, 60, blob, n, aad,
                                  sizeof(aad), out, sizeof(out), &m),
                     VOUCH_ERR_POLICY);
    assert_int_equal(old.calls, 1);
    assert_int_equal(vouch_seal_derive_key(secret, &old.id, &req, key), VOUCH_ERR_POLICY);
    /* A blob that claims a lower svn than it was sealed under fails the tag. */
    blob[8] = 4;
    assert_int_equal(unseal_it(&old, blob, n, out, &m), VOUCH_ERR_SIGNATURE);

    /* Keys differ per svn and per key id. */
    {
        uint8_t k1[32], k2[32];
        req.svn = 3;
        assert_int_equal(vouch_seal_derive_key(secret, &old.id, &req, k1), VOUCH_OK);
        req.svn = 4;
        assert_int_equal(vouch_seal_derive_key(secret, &old.id, &req, k2), VOUCH_OK);
        assert_memory_not_equal(k1, k2, 32);
        req.key_id[0] = 1;
        assert_int_equal(vouch_seal_derive_key(secret, &old.id, &req, k1), VOUCH_OK);
        assert_memory_not_equal(k1, k2, 32);
    }
}

static void test_parse_strict(void **state)
{
    struct agent a = make_agent(1, 2, 3, 4);
    uint8_t blob[256];
    size_t n;
    struct vouch_seal_header h;
    (void)state;

    n = seal_it(&a, VOUCH_SEAL_POLICY_UNIQUE, blob, sizeof(blob));
    blob[4] = 2;
    assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_ERR_UNSUPPORTED);
    blob[4] = 1;
    blob[6] = 3;
    assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_ERR_PARSE);
    blob[6] = 1;
    blob[7] = 9;
    assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_ERR_PARSE);
    blob[7] = 1;
    blob[10] = 1;
    assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_ERR_PARSE);
    blob[10] = 0;
    blob[0] = 'X';
    assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_ERR_PARSE);
    blob[0] = 'V';
    /* Declared length over the limit. */
    blob[59] = 0xff;
    assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_ERR_TOO_LARGE);
    blob[59] = 0;
    assert_int_equal(vouch_seal_parse(blob, n, &h), VOUCH_OK);
    /* Output too small when sealing. */
    assert_int_equal(vouch_seal(provider, &a, VOUCH_SEAL_POLICY_UNIQUE, VOUCH_TEE_BACKEND_SIM, 4,
                                msg, sizeof(msg), NULL, 0, blob, sizeof(msg), &n),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(vouch_seal_blob_len(VOUCH_MAX_SEAL_PLAINTEXT + 1u, &n), VOUCH_ERR_TOO_LARGE);
}

/* RFC 5869 test case 1. */
static void test_hkdf_vector(void **state)
{
    uint8_t ikm[22], salt[13], info[10], okm[42];
    static const uint8_t expect[42] = {
        0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36,
        0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56,
        0xec, 0xc4, 0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65};
    (void)state;
    memset(ikm, 0x0b, sizeof(ikm));
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(info); i++)
        info[i] = (uint8_t)(0xf0 + i);
    assert_int_equal(vouch_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), info, sizeof(info),
                                       okm, sizeof(okm)),
                     VOUCH_OK);
    assert_memory_equal(okm, expect, sizeof(expect));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_wrong_policy_and_identity),
        cmocka_unit_test(test_svn_rules),
        cmocka_unit_test(test_parse_strict),
        cmocka_unit_test(test_hkdf_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
