/* Private signing keys: generation, signatures, JWK conversion, key files
 * with strict permissions, and self-signed certificates. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

/* A throwaway EC P-384 key, made for this test only: a valid private key of a
 * curve we do not sign with. */
static const char p384_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDQLltgybyOKMuXEkR9\n"
                               "PAlfMb8LEXLmpdxb/oZej3tEkvkHtaGUwfc/QM2B/PBt9AShZANiAAQlg7Jw/Rq5\n"
                               "8OWd6uA1GXbzpbH1e2eMgoaE0VL0mcnU1yBo0j3CEz2FToXp5G5DHLZTVAU2TntF\n"
                               "OvxVOI6c+8tHCGAzQ2q/sI00xkzlXjVSi/n9yFTKre/+lR7QAXuxGRE=\n"
                               "-----END PRIVATE KEY-----\n";

static struct vouch_pkey *rsa_key;
static struct vouch_pkey *ec_key;

static int setup(void **state)
{
    (void)state;
    if (vouch_pkey_generate(VOUCH_PKEY_RSA_2048, &rsa_key) != VOUCH_OK)
        return -1;
    if (vouch_pkey_generate(VOUCH_PKEY_EC_P256, &ec_key) != VOUCH_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vouch_pkey_free(rsa_key);
    vouch_pkey_free(ec_key);
    return 0;
}

static vouch_err verify_with(const struct vouch_pubkey *pub, enum vouch_sig_alg alg,
                             const char *msg, const uint8_t *sig, size_t sig_len)
{
    if (alg == VOUCH_SIG_ES256)
        return vouch_ecdsa_verify_raw(pub, VOUCH_HASH_SHA256, msg, strlen(msg), sig, sig_len);
    return vouch_rsa_verify(pub, VOUCH_HASH_SHA256,
                            alg == VOUCH_SIG_PS256 ? VOUCH_RSA_PSS : VOUCH_RSA_PKCS1, msg,
                            strlen(msg), sig, sig_len);
}

static void sign_and_check(struct vouch_pkey *k, enum vouch_sig_alg alg)
{
    const char *msg = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0";
    uint8_t sig[VOUCH_SIG_MAX_LEN];
    size_t sig_len = 0;
    struct vouch_pubkey *pub = NULL;

    assert_int_equal(vouch_pkey_sign(k, alg, msg, strlen(msg), sig, sizeof(sig), &sig_len),
                     VOUCH_OK);
    assert_int_equal(sig_len, vouch_pkey_sig_len(k));
    assert_int_equal(vouch_pkey_public(k, &pub), VOUCH_OK);
    assert_int_equal(verify_with(pub, alg, msg, sig, sig_len), VOUCH_OK);
    /* A different message and a flipped signature bit both fail. */
    assert_int_equal(verify_with(pub, alg, "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ5In0", sig, sig_len),
                     VOUCH_ERR_SIGNATURE);
    sig[sig_len / 2] ^= 0x01;
    assert_int_equal(verify_with(pub, alg, msg, sig, sig_len), VOUCH_ERR_SIGNATURE);
    vouch_pubkey_free(pub);
}

static void test_sign(void **state)
{
    uint8_t sig[VOUCH_SIG_MAX_LEN];
    size_t sig_len = 99;
    struct vouch_pubkey *pub = NULL;
    const char *msg = "m";
    (void)state;

    assert_int_equal(vouch_pkey_kind(rsa_key), VOUCH_KEY_RSA);
    assert_int_equal(vouch_pkey_kind(ec_key), VOUCH_KEY_EC_P256);
    assert_int_equal(vouch_pkey_sig_len(rsa_key), 256);
    assert_int_equal(vouch_pkey_sig_len(ec_key), 64);
    sign_and_check(rsa_key, VOUCH_SIG_RS256);
    sign_and_check(rsa_key, VOUCH_SIG_PS256);
    sign_and_check(ec_key, VOUCH_SIG_ES256);

    /* PSS and PKCS#1 signatures are not interchangeable. */
    assert_int_equal(vouch_pkey_sign(rsa_key, VOUCH_SIG_PS256, msg, 1, sig, sizeof(sig), &sig_len),
                     VOUCH_OK);
    assert_int_equal(vouch_pkey_public(rsa_key, &pub), VOUCH_OK);
    assert_int_equal(verify_with(pub, VOUCH_SIG_RS256, msg, sig, sig_len), VOUCH_ERR_SIGNATURE);
    vouch_pubkey_free(pub);

    /* The key kind must fit the algorithm. */
    assert_int_equal(vouch_pkey_sign(rsa_key, VOUCH_SIG_ES256, msg, 1, sig, sizeof(sig), &sig_len),
                     VOUCH_ERR_INVAL);
    assert_int_equal(sig_len, 0);
    assert_int_equal(vouch_pkey_sign(ec_key, VOUCH_SIG_RS256, msg, 1, sig, sizeof(sig), &sig_len),
                     VOUCH_ERR_INVAL);
    assert_int_equal(
        vouch_pkey_sign(ec_key, (enum vouch_sig_alg)9, msg, 1, sig, sizeof(sig), &sig_len),
        VOUCH_ERR_INVAL);
    /* A short buffer is refused before anything is written. */
    assert_int_equal(vouch_pkey_sign(rsa_key, VOUCH_SIG_RS256, msg, 1, sig, 255, &sig_len),
                     VOUCH_ERR_TOO_LARGE);
    assert_int_equal(vouch_pkey_sign(ec_key, VOUCH_SIG_ES256, msg, 1, sig, 63, &sig_len),
                     VOUCH_ERR_TOO_LARGE);
    /* ECDSA is randomised: two signatures of one message differ. */
    {
        uint8_t s2[64];
        size_t l2 = 0;
        assert_int_equal(vouch_pkey_sign(ec_key, VOUCH_SIG_ES256, msg, 1, sig, 64, &sig_len),
                         VOUCH_OK);
        assert_int_equal(vouch_pkey_sign(ec_key, VOUCH_SIG_ES256, msg, 1, s2, 64, &l2), VOUCH_OK);
        assert_memory_not_equal(sig, s2, 64);
    }
}

static void test_rsa3072(void **state)
{
    struct vouch_pkey *k = NULL;
    struct vouch_pubkey *pub = NULL;
    (void)state;

    assert_int_equal(vouch_pkey_generate(VOUCH_PKEY_RSA_3072, &k), VOUCH_OK);
    assert_int_equal(vouch_pkey_sig_len(k), 384);
    sign_and_check(k, VOUCH_SIG_RS256);
    assert_int_equal(vouch_pkey_public(k, &pub), VOUCH_OK);
    assert_int_equal(vouch_pkey_pub_bits(pub), 3072);
    vouch_pubkey_free(pub);
    vouch_pkey_free(k);
    assert_int_equal(vouch_pkey_generate((enum vouch_pkey_type)7, &k), VOUCH_ERR_INVAL);
    assert_null(k);
}

static void test_alg_names(void **state)
{
    enum vouch_sig_alg a;
    (void)state;

    assert_string_equal(vouch_sig_alg_name(VOUCH_SIG_RS256), "RS256");
    assert_string_equal(vouch_sig_alg_name(VOUCH_SIG_PS256), "PS256");
    assert_string_equal(vouch_sig_alg_name(VOUCH_SIG_ES256), "ES256");
    assert_null(vouch_sig_alg_name((enum vouch_sig_alg)0));
    assert_int_equal(vouch_sig_alg_from_name("ES256", &a), VOUCH_OK);
    assert_int_equal(a, VOUCH_SIG_ES256);
    assert_int_equal(vouch_sig_alg_from_name("es256", &a), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(vouch_sig_alg_from_name("HS256", &a), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(vouch_sig_alg_from_name("none", &a), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(vouch_sig_alg_from_name("RS384", &a), VOUCH_ERR_UNSUPPORTED);
    assert_int_equal(a, 0);
    assert_int_equal(vouch_sig_alg_key_kind(VOUCH_SIG_PS256), VOUCH_KEY_RSA);
    assert_int_equal(vouch_sig_alg_key_kind(VOUCH_SIG_ES256), VOUCH_KEY_EC_P256);
}

static json_t *jwk_of(struct vouch_pkey *k)
{
    struct vouch_pubkey *pub = NULL;
    json_t *jwk = NULL;

    assert_int_equal(vouch_pkey_public(k, &pub), VOUCH_OK);
    assert_int_equal(vouch_pkey_pub_to_jwk(pub, &jwk), VOUCH_OK);
    vouch_pubkey_free(pub);
    return jwk;
}

static vouch_err from_text(const char *text)
{
    json_t *j = NULL;
    struct vouch_pubkey *pub = NULL;
    vouch_err rc;

    assert_int_equal(vouch_json_parse(text, strlen(text), &j, NULL, 0), VOUCH_OK);
    rc = vouch_pkey_pub_from_jwk(j, &pub);
    if (rc != VOUCH_OK)
        assert_null(pub);
    vouch_pubkey_free(pub);
    json_decref(j);
    return rc;
}

static void test_jwk_roundtrip(void **state)
{
    struct vouch_pkey *keys[2] = {rsa_key, ec_key};
    (void)state;

    for (int i = 0; i < 2; i++) {
        json_t *jwk = jwk_of(keys[i]);
        struct vouch_pubkey *orig = NULL;
        struct vouch_pubkey *back = NULL;

        assert_int_equal(vouch_pkey_public(keys[i], &orig), VOUCH_OK);
        assert_int_equal(vouch_pkey_pub_from_jwk(jwk, &back), VOUCH_OK);
        assert_true(vouch_pkey_pub_eq(orig, back));
        assert_int_equal(vouch_pkey_pub_kind(back), vouch_pkey_kind(keys[i]));
        if (i == 0) {
            assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "RSA");
            assert_string_equal(json_string_value(json_object_get(jwk, "e")), "AQAB");
            /* 256 bytes of modulus are 342 base64url characters. */
            assert_int_equal(json_string_length(json_object_get(jwk, "n")), 342);
            assert_int_equal(vouch_pkey_pub_bits(back), 2048);
        } else {
            assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
            assert_int_equal(json_string_length(json_object_get(jwk, "x")), 43);
            assert_int_equal(json_string_length(json_object_get(jwk, "y")), 43);
        }
        /* Never any private member. */
        assert_null(json_object_get(jwk, "d"));
        assert_false(vouch_pkey_pub_eq(back, NULL));
        vouch_pubkey_free(orig);
        vouch_pubkey_free(back);
        json_decref(jwk);
    }
    {
        struct vouch_pubkey *a = NULL;
        struct vouch_pubkey *b = NULL;
        assert_int_equal(vouch_pkey_public(rsa_key, &a), VOUCH_OK);
        assert_int_equal(vouch_pkey_public(ec_key, &b), VOUCH_OK);
        assert_false(vouch_pkey_pub_eq(a, b));
        vouch_pubkey_free(a);
        vouch_pubkey_free(b);
    }
}

/* Re-serialises @p jwk with member @p key set to @p value (NULL deletes). */
static char *with_member(const json_t *jwk, const char *key, const char *value)
{
    json_t *c = json_deep_copy(jwk);
    char *s;

    if (value)
        json_object_set_new(c, key, json_string(value));
    else
        json_object_del(c, key);
    s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

static void expect_member(const json_t *jwk, const char *key, const char *value, vouch_err want)
{
    char *s = with_member(jwk, key, value);
    assert_int_equal(from_text(s), want);
    free(s);
}

static void test_jwk_rejects(void **state)
{
    json_t *rsa = jwk_of(rsa_key);
    json_t *ec = jwk_of(ec_key);
    const char *x = json_string_value(json_object_get(ec, "x"));
    const char *n = json_string_value(json_object_get(rsa, "n"));
    char buf[1024];
    (void)state;

    /* Private members: the key set would be leaking a private key. */
    expect_member(rsa, "d", "AQAB", VOUCH_ERR_INVAL);
    expect_member(ec, "d", "AQAB", VOUCH_ERR_INVAL);
    /* Types and curves we do not verify with. */
    expect_member(rsa, "kty", "oct", VOUCH_ERR_UNSUPPORTED);
    expect_member(rsa, "kty", "rsa", VOUCH_ERR_UNSUPPORTED);
    expect_member(ec, "crv", "P-384", VOUCH_ERR_UNSUPPORTED);
    expect_member(rsa, "kty", NULL, VOUCH_ERR_PARSE);
    /* Padding, the standard alphabet and whitespace are not base64url. */
    snprintf(buf, sizeof(buf), "%s=", x);
    expect_member(ec, "x", buf, VOUCH_ERR_PARSE);
    expect_member(rsa, "e", "AQAB=", VOUCH_ERR_PARSE);
    expect_member(rsa, "e", "AQA+", VOUCH_ERR_PARSE);
    expect_member(rsa, "e", " AQAB", VOUCH_ERR_PARSE);
    /* Non-canonical trailing bits ("AQAC" and "AQAB" differ only there for a
     * 2-byte value): "AQE" is canonical for 01 01, "AQF" is not. */
    expect_member(rsa, "e", "AQF", VOUCH_ERR_PARSE);
    /* e must be odd and > 1; n has no leading zero octet. */
    expect_member(rsa, "e", "AQ", VOUCH_ERR_PARSE);
    expect_member(rsa, "e", "AQAA", VOUCH_ERR_PARSE);
    snprintf(buf, sizeof(buf), "AA%s", n);
    expect_member(rsa, "n", buf, VOUCH_ERR_PARSE);
    expect_member(rsa, "n", NULL, VOUCH_ERR_PARSE);
    /* EC coordinates: exactly 32 bytes and on the curve. */
    expect_member(ec, "x", "AQAB", VOUCH_ERR_PARSE);
    {
        char *bad = strdup(x);
        bad[5] = bad[5] == 'A' ? 'B' : 'A';
        expect_member(ec, "x", bad, VOUCH_ERR_PARSE);
        free(bad);
    }
    assert_int_equal(from_text("[1]"), VOUCH_ERR_PARSE);
    assert_int_equal(from_text("{\"kty\":\"EC\",\"crv\":\"P-256\"}"), VOUCH_ERR_PARSE);
    json_decref(rsa);
    json_decref(ec);
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/vouch-pkey-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void test_save_load(void **state)
{
    char *dir = tmpdir();
    char path[4096];
    char link[4096];
    struct stat st;
    struct vouch_pkey *back = NULL;
    struct vouch_pubkey *a = NULL;
    struct vouch_pubkey *b = NULL;
    mode_t old_umask;
    (void)state;

    snprintf(path, sizeof(path), "%s/signing.pem", dir);
    /* A permissive umask must not widen the file mode. */
    old_umask = umask(0);
    assert_int_equal(vouch_pkey_save(rsa_key, path), VOUCH_OK);
    umask(old_umask);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */

    assert_int_equal(vouch_pkey_load(path, &back), VOUCH_OK);
    assert_int_equal(vouch_pkey_public(rsa_key, &a), VOUCH_OK);
    assert_int_equal(vouch_pkey_public(back, &b), VOUCH_OK);
    assert_true(vouch_pkey_pub_eq(a, b));
    /* The loaded key signs what the original's public key verifies. */
    {
        uint8_t sig[256];
        size_t n = 0;
        assert_int_equal(vouch_pkey_sign(back, VOUCH_SIG_RS256, "x", 1, sig, sizeof(sig), &n),
                         VOUCH_OK);
        assert_int_equal(vouch_rsa_verify(a, VOUCH_HASH_SHA256, VOUCH_RSA_PKCS1, "x", 1, sig, n),
                         VOUCH_OK);
    }
    vouch_pkey_free(back);
    back = NULL;
    vouch_pubkey_free(b);
    b = NULL;

    /* Saving again replaces the file atomically (EC key over RSA key). */
    assert_int_equal(vouch_pkey_save(ec_key, path), VOUCH_OK);
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(vouch_pkey_load(path, &back), VOUCH_OK);
    assert_int_equal(vouch_pkey_kind(back), VOUCH_KEY_EC_P256);
    vouch_pkey_free(back);
    back = NULL;

    /* Group- or world-accessible key files are refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(vouch_pkey_load(path, &back), VOUCH_ERR_INVAL);
    assert_null(back);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(vouch_pkey_load(path, &back), VOUCH_ERR_INVAL);
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(vouch_pkey_load(path, &back), VOUCH_ERR_INVAL);
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(vouch_pkey_load(path, &back), VOUCH_OK);
    vouch_pkey_free(back);
    back = NULL;
    assert_int_equal(chmod(path, 0600), 0);

    /* A symbolic link is not followed, even to a good key file. */
    snprintf(link, sizeof(link), "%s/link.pem", dir);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(vouch_pkey_load(link, &back), VOUCH_ERR_INVAL);
    assert_null(back);
    /* A directory is not a key file. */
    assert_int_equal(vouch_pkey_load(dir, &back), VOUCH_ERR_INVAL);
    /* Missing file. */
    snprintf(link, sizeof(link), "%s/missing.pem", dir);
    assert_int_equal(vouch_pkey_load(link, &back), VOUCH_ERR_IO);

    /* Saving into a missing directory fails and leaves nothing behind. */
    snprintf(link, sizeof(link), "%s/nodir/key.pem", dir);
    assert_int_equal(vouch_pkey_save(rsa_key, link), VOUCH_ERR_IO);

    /* Garbage and empty files. */
    snprintf(link, sizeof(link), "%s/garbage.pem", dir);
    {
        FILE *f = fopen(link, "w");
        assert_non_null(f);
        fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
        fclose(f);
        assert_int_equal(chmod(link, 0600), 0);
        assert_int_equal(vouch_pkey_load(link, &back), VOUCH_ERR_PARSE);
        f = fopen(link, "w");
        fclose(f);
        assert_int_equal(vouch_pkey_load(link, &back), VOUCH_ERR_PARSE);
    }
    vouch_pubkey_free(a);
    rm_dir(dir);
    free(dir);
}

static void test_parse_pem(void **state)
{
    struct vouch_pkey *k = NULL;
    (void)state;

    /* A valid private key on a curve we do not sign with. */
    assert_int_equal(vouch_pkey_parse_pem((const uint8_t *)p384_pem, strlen(p384_pem), &k),
                     VOUCH_ERR_UNSUPPORTED);
    assert_null(k);
    assert_int_equal(vouch_pkey_parse_pem((const uint8_t *)"junk", 4, &k), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_pkey_parse_pem(NULL, 0, &k), VOUCH_ERR_PARSE);
}

static bool contains(const uint8_t *p, size_t len, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(p + i, needle, n) == 0)
            return true;
    }
    return false;
}

static void check_cert(struct vouch_pkey *k, bool ca, bool server)
{
    const char *dns[] = {"localhost", "attest.example.com"};
    const char *ips[] = {"127.0.0.1", "::1"};
    struct vouch_cert_spec spec = {
        .common_name = "https://attest.example.com",
        .dns_names = dns,
        .n_dns = 2,
        .ip_addrs = ips,
        .n_ip = 2,
        .not_before = 1751328000, /* 2025-07-01 */
        .not_after = 2556143999,  /* 2050-12-31T23:59:59Z: GeneralizedTime */
        .ca = ca,
        .server_auth = server,
    };
    struct vouch_x509 *c = NULL;
    struct vouch_pubkey *cert_key = NULL;
    struct vouch_pubkey *pub = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char cn[128];
    int64_t nb = 0;
    int64_t na = 0;
    const uint8_t *ext = NULL;
    size_t ext_len = 0;
    char *pem = NULL;

    assert_int_equal(vouch_pkey_self_signed_cert(k, &spec, &der, &der_len), VOUCH_OK);
    assert_int_equal(vouch_x509_parse_der(der, der_len, &c), VOUCH_OK);
    assert_int_equal(vouch_x509_subject_cn(c, cn, sizeof(cn)), VOUCH_OK);
    assert_string_equal(cn, "https://attest.example.com");
    assert_int_equal(vouch_x509_issuer_cn(c, cn, sizeof(cn)), VOUCH_OK);
    assert_string_equal(cn, "https://attest.example.com");
    vouch_x509_validity(c, &nb, &na);
    assert_int_equal(nb, spec.not_before);
    assert_int_equal(na, spec.not_after);
    assert_int_equal(vouch_x509_is_ca(c), ca);
    /* Self-signed: its own key verifies it. */
    assert_int_equal(vouch_x509_verify_signed_by(c, c), VOUCH_OK);
    assert_int_equal(vouch_x509_pubkey(c, &cert_key), VOUCH_OK);
    assert_int_equal(vouch_pkey_public(k, &pub), VOUCH_OK);
    assert_true(vouch_pkey_pub_eq(cert_key, pub));
    /* SAN carries the DNS names and the raw IPv4 address. */
    assert_int_equal(vouch_x509_extension(c, "2.5.29.17", &ext, &ext_len), VOUCH_OK);
    assert_true(contains(ext, ext_len, "attest.example.com", 18));
    assert_true(contains(ext, ext_len, "\x87\x04\x7f\x00\x00\x01", 6));
    assert_int_equal(vouch_x509_extension(c, "2.5.29.37", &ext, &ext_len),
                     server ? VOUCH_OK : VOUCH_ERR_NOT_FOUND);
    assert_int_equal(vouch_x509_extension(c, "2.5.29.14", &ext, &ext_len), VOUCH_OK);
    /* PEM form parses to the same certificate. */
    assert_int_equal(vouch_pkey_cert_pem(der, der_len, &pem), VOUCH_OK);
    assert_memory_equal(pem, "-----BEGIN CERTIFICATE-----\n", 28);
    {
        struct vouch_x509 *c2 = NULL;
        const uint8_t *d2 = NULL;
        size_t l2 = 0;
        assert_int_equal(vouch_x509_parse((const uint8_t *)pem, strlen(pem), &c2), VOUCH_OK);
        vouch_x509_der(c2, &d2, &l2);
        assert_int_equal(l2, der_len);
        assert_memory_equal(d2, der, der_len);
        vouch_x509_free(c2);
    }
    vouch_free(pem);
    vouch_pubkey_free(pub);
    vouch_pubkey_free(cert_key);
    vouch_x509_free(c);
    vouch_free(der);
}

static void test_self_signed(void **state)
{
    struct vouch_cert_spec spec = {.common_name = "x", .not_before = 100, .not_after = 200};
    const char *bad_dns[] = {"a,b"};
    const char *bad_ip[] = {"300.1.1.1"};
    uint8_t *der = NULL;
    size_t len = 0;
    (void)state;

    check_cert(rsa_key, false, true);
    check_cert(ec_key, false, false);
    check_cert(ec_key, true, false);

    /* Two certificates for one key have different serials. */
    {
        uint8_t *d2 = NULL;
        size_t l2 = 0;
        struct vouch_x509 *c1 = NULL;
        struct vouch_x509 *c2 = NULL;
        uint8_t s1[32];
        uint8_t s2[32];
        size_t n1 = 0;
        size_t n2 = 0;
        assert_int_equal(vouch_pkey_self_signed_cert(ec_key, &spec, &der, &len), VOUCH_OK);
        assert_int_equal(vouch_pkey_self_signed_cert(ec_key, &spec, &d2, &l2), VOUCH_OK);
        assert_int_equal(vouch_x509_parse_der(der, len, &c1), VOUCH_OK);
        assert_int_equal(vouch_x509_parse_der(d2, l2, &c2), VOUCH_OK);
        assert_int_equal(vouch_x509_serial(c1, s1, sizeof(s1), &n1), VOUCH_OK);
        assert_int_equal(vouch_x509_serial(c2, s2, sizeof(s2), &n2), VOUCH_OK);
        assert_int_equal(n1, 16);
        assert_false(n1 == n2 && memcmp(s1, s2, n1) == 0);
        vouch_x509_free(c1);
        vouch_x509_free(c2);
        vouch_free(der);
        vouch_free(d2);
        der = NULL;
    }

    /* Invalid specs. */
    spec.not_after = 100;
    assert_int_equal(vouch_pkey_self_signed_cert(ec_key, &spec, &der, &len), VOUCH_ERR_INVAL);
    spec.not_after = 200;
    spec.common_name = "https://a-very-long-host-name-that-exceeds.the-limit.example.com/x";
    assert_int_equal(vouch_pkey_self_signed_cert(ec_key, &spec, &der, &len), VOUCH_ERR_INVAL);
    spec.common_name = "";
    assert_int_equal(vouch_pkey_self_signed_cert(ec_key, &spec, &der, &len), VOUCH_ERR_INVAL);
    spec.common_name = "x";
    spec.dns_names = bad_dns;
    spec.n_dns = 1;
    assert_int_equal(vouch_pkey_self_signed_cert(ec_key, &spec, &der, &len), VOUCH_ERR_INVAL);
    spec.n_dns = 0;
    spec.ip_addrs = bad_ip;
    spec.n_ip = 1;
    assert_int_equal(vouch_pkey_self_signed_cert(ec_key, &spec, &der, &len), VOUCH_ERR_INVAL);
    assert_null(der);
    assert_int_equal(len, 0);
    assert_int_equal(vouch_pkey_cert_pem(NULL, 0, (char **)&der), VOUCH_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign),        cmocka_unit_test(test_rsa3072),
        cmocka_unit_test(test_alg_names),   cmocka_unit_test(test_jwk_roundtrip),
        cmocka_unit_test(test_jwk_rejects), cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_parse_pem),   cmocka_unit_test(test_self_signed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
