/*
 * Private signing keys on OpenSSL 3: generation, PEM files with strict
 * permissions, JWS signatures, JWK conversion and self-signed certificates.
 *
 * Private key bytes only ever exist inside OpenSSL objects, in secure-heap
 * memory BIOs (BIO_s_secmem clears on free) or in buffers we wipe before
 * freeing; nothing here logs key material.
 */
#include "crypto/crypto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#define P256_FIELD     32u
#define ES256_SIG_LEN  64u
#define PSS_SALT_LEN   32
#define RSA_E_MAX_LEN  8u
#define CN_MAX_LEN     64u /* ub-common-name, RFC 5280 */
#define DNS_NAME_MAX   253u
#define SERIAL_LEN     16u
#define TMP_SUFFIX_LEN 16u
/* 9999-12-31T23:59:59Z: the last instant GeneralizedTime can express. */
#define ASN1_TIME_MAX 253402300799LL

struct vouch_pkey {
    EVP_PKEY *pkey;
    enum vouch_key_kind kind;
};

static const char *const alg_names[] = {
    [VOUCH_SIG_RS256] = "RS256",
    [VOUCH_SIG_PS256] = "PS256",
    [VOUCH_SIG_ES256] = "ES256",
};

const char *vouch_sig_alg_name(enum vouch_sig_alg alg)
{
    if (alg < VOUCH_SIG_RS256 || alg > VOUCH_SIG_ES256)
        return NULL;
    return alg_names[alg];
}

vouch_err vouch_sig_alg_from_name(const char *name, enum vouch_sig_alg *out)
{
    *out = 0;
    if (!name)
        return VOUCH_ERR_INVAL;
    for (int a = VOUCH_SIG_RS256; a <= VOUCH_SIG_ES256; a++) {
        if (strcmp(name, alg_names[a]) == 0) {
            *out = (enum vouch_sig_alg)a;
            return VOUCH_OK;
        }
    }
    return VOUCH_ERR_UNSUPPORTED;
}

enum vouch_key_kind vouch_sig_alg_key_kind(enum vouch_sig_alg alg)
{
    switch (alg) {
    case VOUCH_SIG_RS256:
    case VOUCH_SIG_PS256:
        return VOUCH_KEY_RSA;
    case VOUCH_SIG_ES256:
        return VOUCH_KEY_EC_P256;
    default:
        return VOUCH_KEY_OTHER;
    }
}

/* RSA-PSS-restricted keys (id-RSASSA-PSS SPKI) are OTHER on purpose: they
 * cannot make RS256, and we never issue them. */
static enum vouch_key_kind kind_of(EVP_PKEY *pkey)
{
    char name[64];
    size_t n = 0;

    if (EVP_PKEY_is_a(pkey, "RSA"))
        return VOUCH_KEY_RSA;
    if (EVP_PKEY_is_a(pkey, "EC") && EVP_PKEY_get_group_name(pkey, name, sizeof(name), &n) == 1 &&
        strcmp(name, "prime256v1") == 0)
        return VOUCH_KEY_EC_P256;
    return VOUCH_KEY_OTHER;
}

static bool usable_private(EVP_PKEY *pkey)
{
    int bits;

    switch (kind_of(pkey)) {
    case VOUCH_KEY_RSA:
        bits = EVP_PKEY_get_bits(pkey);
        return bits >= (int)VOUCH_MIN_RSA_BITS && bits <= (int)VOUCH_MAX_RSA_BITS;
    case VOUCH_KEY_EC_P256:
        return true;
    default:
        return false;
    }
}

static vouch_err wrap_private(EVP_PKEY *pkey, struct vouch_pkey **out)
{
    struct vouch_pkey *k = vouch_calloc(1, sizeof(*k));

    if (!k) {
        EVP_PKEY_free(pkey);
        return VOUCH_ERR_NOMEM;
    }
    k->pkey = pkey;
    k->kind = kind_of(pkey);
    *out = k;
    return VOUCH_OK;
}

vouch_err vouch_pkey_generate(enum vouch_pkey_type type, struct vouch_pkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_PKEY *pkey = NULL;

    vouch__ossl_begin();
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    switch (type) {
    case VOUCH_PKEY_RSA_2048:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case VOUCH_PKEY_RSA_3072:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    case VOUCH_PKEY_EC_P256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    default:
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (!pkey) {
        rc = vouch__ossl_fail("pkey_generate");
        goto out;
    }
    rc = wrap_private(pkey, out);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    vouch__ossl_drain("pkey_generate");
    return rc;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

vouch_err vouch_pkey_parse_pem(const uint8_t *p, size_t len, struct vouch_pkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;

    vouch__ossl_begin();
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!p || len == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (len > VOUCH_MAX_KEY_FILE_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    bio = BIO_new_mem_buf(p, (int)len);
    if (!bio) {
        rc = vouch__ossl_fail("pkey_parse_pem");
        goto out;
    }
    /* An encrypted key needs a passphrase we do not have; the callback makes
     * OpenSSL fail instead of prompting on the terminal. */
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    if (!pkey) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (!usable_private(pkey)) {
        vouch_log_error("private key: only RSA-%u..%u and EC P-256 keys are supported",
                        VOUCH_MIN_RSA_BITS, VOUCH_MAX_RSA_BITS);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    rc = wrap_private(pkey, out);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    /* The error queue may quote parts of the input; drop it without logging. */
    ERR_clear_error();
    return rc;
}

static vouch_err read_all(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return VOUCH_ERR_IO;
        got += (size_t)n;
    }
    return VOUCH_OK;
}

vouch_err vouch_pkey_load(const char *path, struct vouch_pkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *buf = NULL;
    size_t len = 0;
    struct stat st;
    int fd = -1;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!path) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        vouch_log_error("%s: cannot open key file: %s", path, strerror(errno));
        rc = errno == ELOOP ? VOUCH_ERR_INVAL : VOUCH_ERR_IO;
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        vouch_log_error("%s: key file is not a regular file", path);
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    /* Like OpenSSH: a key others can read is compromised or about to be. */
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        vouch_log_error("%s: key file mode %04o gives access to group or others; "
                        "refusing it (chmod 600)",
                        path, (unsigned)(st.st_mode & 07777));
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (st.st_size <= 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((uint64_t)st.st_size > VOUCH_MAX_KEY_FILE_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    len = (size_t)st.st_size;
    buf = vouch_malloc(len);
    if (!buf) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if ((rc = read_all(fd, buf, len)) != VOUCH_OK)
        goto out;
    rc = vouch_pkey_parse_pem(buf, len, out);
out:
    if (buf) {
        vouch_wipe(buf, len);
        vouch_free(buf);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

static vouch_err write_all(int fd, const uint8_t *p, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return VOUCH_ERR_IO;
        done += (size_t)n;
    }
    return VOUCH_OK;
}

/* fsync the directory holding @p path so the rename itself is durable. */
static vouch_err sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    vouch_err rc = VOUCH_ERR_IO;
    int fd;

    if (!slash)
        dir = vouch_strdup(".");
    else if (slash == path)
        dir = vouch_strdup("/");
    else
        dir = vouch_strndup(path, (size_t)(slash - path));
    if (!dir)
        return VOUCH_ERR_NOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) == 0)
            rc = VOUCH_OK;
        close(fd);
    }
    vouch_free(dir);
    return rc;
}

vouch_err vouch_pkey_save(const struct vouch_pkey *k, const char *path)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t rnd[TMP_SUFFIX_LEN / 2];
    char suffix[TMP_SUFFIX_LEN + 1];
    struct vouch_buf tmp = {0};
    BIO *bio = NULL;
    char *pem = NULL;
    long pem_len;
    bool created = false;
    int fd = -1;

    vouch__ossl_begin();
    vouch_buf_init(&tmp, PATH_MAX);
    if (!k || !k->pkey || !path || !*path) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    /* The secure-heap BIO clears the PEM text when it is freed. */
    bio = BIO_new(BIO_s_secmem());
    if (!bio || PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = vouch__ossl_fail("pkey_save");
        goto out;
    }
    pem_len = BIO_get_mem_data(bio, &pem);
    if (pem_len <= 0 || !pem) {
        rc = vouch__ossl_fail("pkey_save");
        goto out;
    }
    if ((rc = vouch_random(rnd, sizeof(rnd))) != VOUCH_OK)
        goto out;
    vouch_hex_encode(rnd, sizeof(rnd), suffix);
    if ((rc = vouch_buf_printf(&tmp, "%s.tmp-%s", path, suffix)) != VOUCH_OK)
        goto out;
    fd = open((const char *)tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              S_IRUSR | S_IWUSR);
    if (fd < 0) {
        vouch_log_error("%s: cannot create key file: %s", (const char *)tmp.data, strerror(errno));
        rc = VOUCH_ERR_IO;
        goto out;
    }
    created = true;
    /* The umask can only remove bits, but make the mode exact regardless. */
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 ||
        write_all(fd, (const uint8_t *)pem, (size_t)pem_len) != VOUCH_OK || fsync(fd) != 0) {
        vouch_log_error("%s: cannot write key file: %s", (const char *)tmp.data, strerror(errno));
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = VOUCH_ERR_IO;
        goto out;
    }
    fd = -1;
    if (rename((const char *)tmp.data, path) != 0) {
        vouch_log_error("%s: cannot rename key file into place: %s", path, strerror(errno));
        rc = VOUCH_ERR_IO;
        goto out;
    }
    created = false;
    rc = sync_parent(path);
out:
    if (fd >= 0)
        close(fd);
    if (created)
        (void)unlink((const char *)tmp.data);
    BIO_free(bio);
    vouch_buf_free(&tmp);
    vouch__ossl_drain("pkey_save");
    return rc;
}

void vouch_pkey_free(struct vouch_pkey *k)
{
    if (!k)
        return;
    /* EVP_PKEY_free clears the private components itself. */
    EVP_PKEY_free(k->pkey);
    vouch_free(k);
}

enum vouch_key_kind vouch_pkey_kind(const struct vouch_pkey *k)
{
    return k ? k->kind : VOUCH_KEY_OTHER;
}

size_t vouch_pkey_sig_len(const struct vouch_pkey *k)
{
    if (!k)
        return 0;
    if (k->kind == VOUCH_KEY_EC_P256)
        return ES256_SIG_LEN;
    if (k->kind == VOUCH_KEY_RSA)
        return (size_t)EVP_PKEY_get_size(k->pkey);
    return 0;
}

/* Converts a DER ECDSA-Sig-Value into fixed-width r||s. */
static vouch_err ecdsa_der_to_raw(const uint8_t *der, size_t der_len, uint8_t raw[ES256_SIG_LEN])
{
    const unsigned char *q = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    vouch_err rc = VOUCH_ERR_CRYPTO;

    if (!es)
        return VOUCH_ERR_CRYPTO;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, raw, P256_FIELD) == (int)P256_FIELD &&
        BN_bn2binpad(s, raw + P256_FIELD, P256_FIELD) == (int)P256_FIELD)
        rc = VOUCH_OK;
    ECDSA_SIG_free(es);
    return rc;
}

vouch_err vouch_pkey_sign(const struct vouch_pkey *k, enum vouch_sig_alg alg, const void *msg,
                          size_t msg_len, uint8_t *sig, size_t sig_cap, size_t *sig_len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t der[ES256_SIG_LEN + 16];
    size_t need;
    size_t n;

    vouch__ossl_begin();
    if (!sig_len_out)
        return VOUCH_ERR_INVAL;
    *sig_len_out = 0;
    if (!k || !k->pkey || !sig || (!msg && msg_len)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (vouch_sig_alg_key_kind(alg) == VOUCH_KEY_OTHER || vouch_sig_alg_key_kind(alg) != k->kind) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    need = vouch_pkey_sig_len(k);
    if (sig_cap < need) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, k->pkey) != 1) {
        rc = vouch__ossl_fail("pkey_sign");
        goto out;
    }
    if (alg == VOUCH_SIG_PS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                                   EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALT_LEN) != 1 ||
                                   EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)) {
        rc = vouch__ossl_fail("pkey_sign");
        goto out;
    }
    if (alg == VOUCH_SIG_RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        rc = vouch__ossl_fail("pkey_sign");
        goto out;
    }
    if (alg == VOUCH_SIG_ES256) {
        n = sizeof(der);
        if (EVP_DigestSign(ctx, der, &n, msg_len ? msg : (const void *)"", msg_len) != 1) {
            rc = vouch__ossl_fail("pkey_sign");
            goto out;
        }
        if ((rc = ecdsa_der_to_raw(der, n, sig)) != VOUCH_OK)
            goto out;
        n = ES256_SIG_LEN;
    } else {
        n = sig_cap;
        if (EVP_DigestSign(ctx, sig, &n, msg_len ? msg : (const void *)"", msg_len) != 1 ||
            n != need) {
            rc = vouch__ossl_fail("pkey_sign");
            goto out;
        }
    }
    *sig_len_out = n;
    rc = VOUCH_OK;
out:
    EVP_MD_CTX_free(ctx);
    vouch__ossl_drain("pkey_sign");
    return rc;
}

vouch_err vouch_pkey_public(const struct vouch_pkey *k, struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    unsigned char *der = NULL;
    int len;

    vouch__ossl_begin();
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!k || !k->pkey) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    /* Round-trip through SubjectPublicKeyInfo so the verification key holds
     * no private component at all. */
    len = i2d_PUBKEY(k->pkey, &der);
    if (len <= 0 || !der) {
        rc = vouch__ossl_fail("pkey_public");
        goto out;
    }
    rc = vouch_pubkey_parse(der, (size_t)len, out);
out:
    OPENSSL_free(der);
    vouch__ossl_drain("pkey_public");
    return rc;
}

/* ---- public keys and JWK ---- */

enum vouch_key_kind vouch_pkey_pub_kind(const struct vouch_pubkey *k)
{
    if (!k || !k->pkey)
        return VOUCH_KEY_OTHER;
    return kind_of(k->pkey);
}

unsigned vouch_pkey_pub_bits(const struct vouch_pubkey *k)
{
    int bits;

    if (!k || !k->pkey)
        return 0;
    bits = EVP_PKEY_get_bits(k->pkey);
    return bits > 0 ? (unsigned)bits : 0;
}

bool vouch_pkey_pub_eq(const struct vouch_pubkey *a, const struct vouch_pubkey *b)
{
    bool eq;

    if (!a || !b || !a->pkey || !b->pkey)
        return false;
    vouch__ossl_begin();
    eq = EVP_PKEY_eq(a->pkey, b->pkey) == 1;
    vouch__ossl_drain("pkey_pub_eq");
    return eq;
}

/* Sets @p key of @p o to base64url(p[0..len)). */
static vouch_err set_b64url(json_t *o, const char *key, const uint8_t *p, size_t len)
{
    size_t n = vouch_base64_encoded_len(len, true);
    char *s = vouch_malloc(n + 1);
    vouch_err rc = VOUCH_ERR_NOMEM;

    if (!s)
        return VOUCH_ERR_NOMEM;
    vouch_base64_encode(p, len, true, s);
    if (json_object_set_new(o, key, json_string(s)) == 0)
        rc = VOUCH_OK;
    vouch_free(s);
    return rc;
}

static vouch_err set_bn(json_t *o, const char *key, const BIGNUM *bn, int width)
{
    uint8_t buf[VOUCH_MAX_RSA_BITS / 8u];
    int n = width > 0 ? width : BN_num_bytes(bn);

    if (n <= 0 || (size_t)n > sizeof(buf))
        return VOUCH_ERR_UNSUPPORTED;
    if (BN_bn2binpad(bn, buf, n) != n)
        return VOUCH_ERR_CRYPTO;
    return set_b64url(o, key, buf, (size_t)n);
}

vouch_err vouch_pkey_pub_to_jwk(const struct vouch_pubkey *k, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    BIGNUM *a = NULL;
    BIGNUM *b = NULL;
    json_t *o = NULL;

    vouch__ossl_begin();
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!k || !k->pkey) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    o = json_object();
    if (!o) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    switch (kind_of(k->pkey)) {
    case VOUCH_KEY_RSA:
        if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &a) != 1 ||
            EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &b) != 1) {
            rc = vouch__ossl_fail("pkey_pub_to_jwk");
            goto out;
        }
        if (json_object_set_new(o, "kty", json_string("RSA")) != 0) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        if ((rc = set_bn(o, "n", a, 0)) != VOUCH_OK || (rc = set_bn(o, "e", b, 0)) != VOUCH_OK)
            goto out;
        break;
    case VOUCH_KEY_EC_P256:
        if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) != 1 ||
            EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) != 1) {
            rc = vouch__ossl_fail("pkey_pub_to_jwk");
            goto out;
        }
        if (json_object_set_new(o, "kty", json_string("EC")) != 0 ||
            json_object_set_new(o, "crv", json_string("P-256")) != 0) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        /* RFC 7518 §6.2.1.2: x and y are the full field size, zero-padded. */
        if ((rc = set_bn(o, "x", a, (int)P256_FIELD)) != VOUCH_OK ||
            (rc = set_bn(o, "y", b, (int)P256_FIELD)) != VOUCH_OK)
            goto out;
        break;
    default:
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    BN_free(a);
    BN_free(b);
    json_decref(o);
    vouch__ossl_drain("pkey_pub_to_jwk");
    return rc;
}

/*
 * Decodes member @p key as canonical base64url without padding: decoding and
 * re-encoding must give back exactly the input, which rules out padding,
 * whitespace, the standard alphabet and non-zero trailing bits in one test.
 */
static vouch_err get_b64url(const json_t *jwk, const char *key, size_t max, uint8_t **out,
                            size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_PARSE;
    const char *s = NULL;
    size_t slen = 0;
    uint8_t *bin = NULL;
    size_t blen = 0;
    char *again = NULL;

    *out = NULL;
    *len_out = 0;
    if (vouch_json_str(jwk, key, &s, &slen) != VOUCH_OK || slen == 0)
        return VOUCH_ERR_PARSE;
    /* Slack for padding, which is then refused as PARSE below. */
    if (slen > vouch_base64_encoded_len(max, true) + 3u)
        return VOUCH_ERR_TOO_LARGE;
    if (vouch_base64_decode(s, slen, true, &bin, &blen) != VOUCH_OK || blen == 0)
        goto out;
    if (blen > max) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    again = vouch_malloc(vouch_base64_encoded_len(blen, true) + 1);
    if (!again) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    vouch_base64_encode(bin, blen, true, again);
    if (strlen(again) != slen || memcmp(again, s, slen) != 0)
        goto out;
    *out = bin;
    *len_out = blen;
    bin = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(bin);
    vouch_free(again);
    return rc;
}

static vouch_err rsa_from_jwk(const json_t *jwk, struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *n = NULL;
    uint8_t *e = NULL;
    size_t nlen = 0;
    size_t elen = 0;

    if ((rc = get_b64url(jwk, "n", VOUCH_MAX_RSA_BITS / 8u, &n, &nlen)) != VOUCH_OK ||
        (rc = get_b64url(jwk, "e", RSA_E_MAX_LEN, &e, &elen)) != VOUCH_OK)
        goto out;
    /* RFC 7518 §6.3.1: minimal big-endian, so no leading zero octet; the
     * key itself is built (and its other rules checked) in one place. */
    if (n[0] == 0 || e[0] == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = vouch_pubkey_from_rsa_ne(n, nlen, e, elen, out);
out:
    vouch_free(n);
    vouch_free(e);
    return rc;
}

static vouch_err ec_from_jwk(const json_t *jwk, struct vouch_pubkey **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *crv = NULL;
    uint8_t *x = NULL;
    uint8_t *y = NULL;
    size_t xlen = 0;
    size_t ylen = 0;
    uint8_t xy[2 * P256_FIELD];

    if (vouch_json_str(jwk, "crv", &crv, NULL) != VOUCH_OK) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (strcmp(crv, "P-256") != 0) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if ((rc = get_b64url(jwk, "x", P256_FIELD, &x, &xlen)) != VOUCH_OK ||
        (rc = get_b64url(jwk, "y", P256_FIELD, &y, &ylen)) != VOUCH_OK)
        goto out;
    if (xlen != P256_FIELD || ylen != P256_FIELD) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    memcpy(xy, x, P256_FIELD);
    memcpy(xy + P256_FIELD, y, P256_FIELD);
    /* The import checks that the point is on the curve. */
    rc = vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, xy, sizeof(xy), out);
out:
    vouch_free(x);
    vouch_free(y);
    return rc;
}

vouch_err vouch_pkey_pub_from_jwk(const json_t *jwk, struct vouch_pubkey **out)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *kty = NULL;

    vouch__ossl_begin();
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!json_is_object(jwk)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        if (json_object_get(jwk, private_members[i])) {
            vouch_log_error("JWK carries private key member \"%s\"; refusing it",
                            private_members[i]);
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
    }
    if (vouch_json_str(jwk, "kty", &kty, NULL) != VOUCH_OK) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (strcmp(kty, "RSA") == 0)
        rc = rsa_from_jwk(jwk, out);
    else if (strcmp(kty, "EC") == 0)
        rc = ec_from_jwk(jwk, out);
    else
        rc = VOUCH_ERR_UNSUPPORTED;
out:
    vouch__ossl_drain("pkey_pub_from_jwk");
    return rc;
}

/* ---- self-signed certificates ---- */

static bool dns_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > DNS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || (c == '*' && i == 0);
        if (!ok)
            return false;
    }
    return true;
}

static vouch_err spec_check(const struct vouch_cert_spec *spec)
{
    size_t cn_len;

    if (!spec->common_name)
        return VOUCH_ERR_INVAL;
    cn_len = strlen(spec->common_name);
    if (cn_len == 0 || cn_len > CN_MAX_LEN)
        return VOUCH_ERR_INVAL;
    if (spec->n_dns + spec->n_ip > VOUCH_MAX_CERT_SANS)
        return VOUCH_ERR_TOO_LARGE;
    if ((spec->n_dns && !spec->dns_names) || (spec->n_ip && !spec->ip_addrs))
        return VOUCH_ERR_INVAL;
    if (spec->not_before < 0 || spec->not_after > ASN1_TIME_MAX ||
        spec->not_after <= spec->not_before)
        return VOUCH_ERR_INVAL;
    for (size_t i = 0; i < spec->n_dns; i++) {
        if (!spec->dns_names[i] || !dns_name_ok(spec->dns_names[i]))
            return VOUCH_ERR_INVAL;
    }
    for (size_t i = 0; i < spec->n_ip; i++) {
        if (!spec->ip_addrs[i])
            return VOUCH_ERR_INVAL;
    }
    return VOUCH_OK;
}

static vouch_err add_sans(X509 *x, const struct vouch_cert_spec *spec)
{
    /* Every failure below is OpenSSL running out of memory, except a bad IP. */
    vouch_err rc = VOUCH_ERR_CRYPTO;
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *gen = NULL;
    ASN1_IA5STRING *ia5 = NULL;
    ASN1_OCTET_STRING *ip = NULL;

    if (spec->n_dns + spec->n_ip == 0)
        return VOUCH_OK;
    gens = sk_GENERAL_NAME_new_null();
    if (!gens)
        goto out;
    for (size_t i = 0; i < spec->n_dns; i++) {
        ia5 = ASN1_IA5STRING_new();
        gen = GENERAL_NAME_new();
        if (!ia5 || !gen ||
            ASN1_STRING_set(ia5, spec->dns_names[i], (int)strlen(spec->dns_names[i])) != 1)
            goto out;
        GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
        ia5 = NULL;
        if (sk_GENERAL_NAME_push(gens, gen) <= 0)
            goto out;
        gen = NULL;
    }
    for (size_t i = 0; i < spec->n_ip; i++) {
        ip = a2i_IPADDRESS(spec->ip_addrs[i]);
        if (!ip) {
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
        gen = GENERAL_NAME_new();
        if (!gen)
            goto out;
        GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
        ip = NULL;
        if (sk_GENERAL_NAME_push(gens, gen) <= 0)
            goto out;
        gen = NULL;
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
        goto out;
    rc = VOUCH_OK;
out:
    ASN1_IA5STRING_free(ia5);
    ASN1_OCTET_STRING_free(ip);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(gens);
    return rc;
}

static bool add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    bool ok = ext && X509_add_ext(x, ext, -1) == 1;

    X509_EXTENSION_free(ext);
    return ok;
}

static vouch_err set_serial(X509 *x)
{
    uint8_t serial[SERIAL_LEN];
    BIGNUM *bn = NULL;
    vouch_err rc;

    if ((rc = vouch_random(serial, sizeof(serial))) != VOUCH_OK)
        return rc;
    /* Positive and exactly 16 bytes long (RFC 5280 allows up to 20). */
    serial[0] = (uint8_t)((serial[0] & 0x7fu) | 0x40u);
    bn = BN_bin2bn(serial, (int)sizeof(serial), NULL);
    rc = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ? VOUCH_OK : VOUCH_ERR_CRYPTO;
    BN_free(bn);
    return rc;
}

vouch_err vouch_pkey_self_signed_cert(const struct vouch_pkey *k,
                                      const struct vouch_cert_spec *spec, uint8_t **der_out,
                                      size_t *der_len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    X509 *x = NULL;
    X509_NAME *name = NULL;
    X509V3_CTX v3;
    unsigned char *der = NULL;
    const char *ku;
    int len;

    vouch__ossl_begin();
    if (!der_out || !der_len_out)
        return VOUCH_ERR_INVAL;
    *der_out = NULL;
    *der_len_out = 0;
    if (!k || !k->pkey || !spec || k->kind == VOUCH_KEY_OTHER) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if ((rc = spec_check(spec)) != VOUCH_OK)
        goto out;
    x = X509_new();
    name = X509_NAME_new();
    if (!x || !name || X509_set_version(x, X509_VERSION_3) != 1) {
        rc = vouch__ossl_fail("self_signed_cert");
        goto out;
    }
    if ((rc = set_serial(x)) != VOUCH_OK)
        goto out;
    if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t)spec->not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)spec->not_after)) {
        rc = vouch__ossl_fail("self_signed_cert");
        goto out;
    }
    if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)spec->common_name, -1, -1, 0) != 1) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
        X509_set_pubkey(x, k->pkey) != 1) {
        rc = vouch__ossl_fail("self_signed_cert");
        goto out;
    }
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509V3_set_ctx_nodb(&v3);
    if (spec->ca)
        ku = "critical,digitalSignature,keyCertSign,cRLSign";
    else if (spec->server_auth && k->kind == VOUCH_KEY_RSA)
        ku = "critical,digitalSignature,keyEncipherment";
    else
        ku = "critical,digitalSignature";
    if (!add_ext(x, &v3, NID_basic_constraints, spec->ca ? "critical,CA:TRUE" : "CA:FALSE") ||
        !add_ext(x, &v3, NID_key_usage, ku) ||
        !add_ext(x, &v3, NID_subject_key_identifier, "hash") ||
        !add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") ||
        (spec->server_auth && !add_ext(x, &v3, NID_ext_key_usage, "serverAuth"))) {
        rc = vouch__ossl_fail("self_signed_cert");
        goto out;
    }
    if ((rc = add_sans(x, spec)) != VOUCH_OK)
        goto out;
    if (X509_sign(x, k->pkey, EVP_sha256()) <= 0) {
        rc = vouch__ossl_fail("self_signed_cert");
        goto out;
    }
    len = i2d_X509(x, &der);
    if (len <= 0 || !der) {
        rc = vouch__ossl_fail("self_signed_cert");
        goto out;
    }
    *der_out = vouch_memdup(der, (size_t)len);
    if (!*der_out) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    *der_len_out = (size_t)len;
    rc = VOUCH_OK;
out:
    OPENSSL_free(der);
    X509_NAME_free(name);
    X509_free(x);
    vouch__ossl_drain("self_signed_cert");
    return rc;
}

vouch_err vouch_pkey_cert_pem(const uint8_t *der, size_t len, char **pem_out)
{
    static const char head[] = "-----BEGIN CERTIFICATE-----\n";
    static const char tail[] = "-----END CERTIFICATE-----\n";
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_buf b;
    char *b64 = NULL;
    size_t n;

    if (!pem_out)
        return VOUCH_ERR_INVAL;
    *pem_out = NULL;
    if (!der || len == 0)
        return VOUCH_ERR_INVAL;
    if (len > VOUCH_MAX_CERT_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    vouch_buf_init(&b, 2 * VOUCH_MAX_CERT_SIZE);
    n = vouch_base64_encoded_len(len, false);
    b64 = vouch_malloc(n + 1);
    if (!b64) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    vouch_base64_encode(der, len, false, b64);
    if ((rc = vouch_buf_append_str(&b, head)) != VOUCH_OK)
        goto out;
    for (size_t off = 0; off < n; off += 64) {
        size_t line = n - off < 64 ? n - off : 64;
        if ((rc = vouch_buf_append(&b, b64 + off, line)) != VOUCH_OK ||
            (rc = vouch_buf_append(&b, "\n", 1)) != VOUCH_OK)
            goto out;
    }
    if ((rc = vouch_buf_append_str(&b, tail)) != VOUCH_OK)
        goto out;
    *pem_out = (char *)vouch_buf_take(&b, NULL);
    rc = *pem_out ? VOUCH_OK : VOUCH_ERR_NOMEM;
out:
    vouch_free(b64);
    vouch_buf_free(&b);
    return rc;
}

vouch_err vouch_pkey_to_pem(const struct vouch_pkey *k, char **pem_out, size_t *len_out)
{
    BIO *bio = NULL;
    char *pem = NULL;
    long n;
    vouch_err rc = VOUCH_ERR_CRYPTO;

    *pem_out = NULL;
    *len_out = 0;
    ERR_clear_error();
    bio = BIO_new(BIO_s_secmem());
    if (!bio || PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
        goto out;
    n = BIO_get_mem_data(bio, &pem);
    if (n <= 0 || !pem)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (!(*pem_out = vouch_strndup(pem, (size_t)n)))
        goto out;
    *len_out = (size_t)n;
    rc = VOUCH_OK;
out:
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}
