/*
 * Digests and randomness over OpenSSL's EVP layer.
 */
#include "crypto/crypto_int.h"

#include <limits.h>
#include <openssl/rand.h>
#include <vouch/mem.h>

struct vouch_hash_ctx {
    EVP_MD_CTX *md;
    size_t out_len;
};

const EVP_MD *vouch__crypto_md(enum vouch_hash_alg alg)
{
    switch (alg) {
    case VOUCH_HASH_SHA1:
        return EVP_sha1();
    case VOUCH_HASH_SHA256:
        return EVP_sha256();
    case VOUCH_HASH_SHA384:
        return EVP_sha384();
    case VOUCH_HASH_SHA512:
        return EVP_sha512();
    }
    return NULL;
}

size_t vouch_hash_len(enum vouch_hash_alg alg)
{
    switch (alg) {
    case VOUCH_HASH_SHA1:
        return 20;
    case VOUCH_HASH_SHA256:
        return VOUCH_SHA256_LEN;
    case VOUCH_HASH_SHA384:
        return VOUCH_SHA384_LEN;
    case VOUCH_HASH_SHA512:
        return VOUCH_SHA512_LEN;
    }
    return 0;
}

vouch_err vouch_hash(enum vouch_hash_alg alg, const void *p, size_t len, uint8_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const EVP_MD *md = vouch__crypto_md(alg);
    unsigned int n = 0;

    vouch__ossl_begin();
    if (!md || !out || (!p && len)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    /* EVP_Digest wants a non-NULL pointer even for an empty message. */
    if (EVP_Digest(len ? p : (const void *)"", len, out, &n, md, NULL) != 1 ||
        n != vouch_hash_len(alg)) {
        rc = vouch__ossl_fail("hash");
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("hash");
    return rc;
}

vouch_err vouch_sha256(const void *p, size_t len, uint8_t out[VOUCH_SHA256_LEN])
{
    return vouch_hash(VOUCH_HASH_SHA256, p, len, out);
}

vouch_err vouch_hash_init(enum vouch_hash_alg alg, struct vouch_hash_ctx **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const EVP_MD *md = vouch__crypto_md(alg);
    struct vouch_hash_ctx *c = NULL;

    vouch__ossl_begin();
    if (!out) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *out = NULL;
    if (!md) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    c = vouch_calloc(1, sizeof(*c));
    if (!c) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    c->out_len = vouch_hash_len(alg);
    c->md = EVP_MD_CTX_new();
    if (!c->md || EVP_DigestInit_ex(c->md, md, NULL) != 1) {
        rc = vouch__ossl_fail("hash_init");
        goto out;
    }
    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    vouch_hash_ctx_free(c);
    vouch__ossl_drain("hash_init");
    return rc;
}

vouch_err vouch_hash_update(struct vouch_hash_ctx *c, const void *p, size_t len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    vouch__ossl_begin();
    if (!c || (!p && len)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (len && EVP_DigestUpdate(c->md, p, len) != 1) {
        rc = vouch__ossl_fail("hash_update");
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("hash_update");
    return rc;
}

vouch_err vouch_hash_final(struct vouch_hash_ctx *c, uint8_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    unsigned int n = 0;

    vouch__ossl_begin();
    if (!c || !out) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (EVP_DigestFinal_ex(c->md, out, &n) != 1 || n != c->out_len) {
        rc = vouch__ossl_fail("hash_final");
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_hash_ctx_free(c);
    vouch__ossl_drain("hash_final");
    return rc;
}

void vouch_hash_ctx_free(struct vouch_hash_ctx *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->md);
    vouch_free(c);
}

struct vouch_hasher {
    EVP_MD *md; /* explicitly fetched: EVP_sha256() would fetch on every init */
    EVP_MD_CTX *ctx;
    size_t out_len;
};

static const char *md_name(enum vouch_hash_alg alg)
{
    switch (alg) {
    case VOUCH_HASH_SHA1:
        return "SHA1";
    case VOUCH_HASH_SHA256:
        return "SHA256";
    case VOUCH_HASH_SHA384:
        return "SHA384";
    case VOUCH_HASH_SHA512:
        return "SHA512";
    }
    return NULL;
}

vouch_err vouch_hasher_new(enum vouch_hash_alg alg, struct vouch_hasher **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *name = md_name(alg);
    struct vouch_hasher *h = NULL;

    vouch__ossl_begin();
    if (!out) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    *out = NULL;
    if (!name) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    h = vouch_calloc(1, sizeof(*h));
    if (!h) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    h->out_len = vouch_hash_len(alg);
    h->md = EVP_MD_fetch(NULL, name, NULL);
    h->ctx = EVP_MD_CTX_new();
    if (!h->md || !h->ctx) {
        rc = vouch__ossl_fail("hasher_new");
        goto out;
    }
    *out = h;
    h = NULL;
    rc = VOUCH_OK;
out:
    vouch_hasher_free(h);
    vouch__ossl_drain("hasher_new");
    return rc;
}

void vouch_hasher_free(struct vouch_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
    vouch_free(h);
}

size_t vouch_hasher_len(const struct vouch_hasher *h)
{
    return h ? h->out_len : 0;
}

vouch_err vouch_hasher_digest2(struct vouch_hasher *h, const void *a, size_t a_len, const void *b,
                               size_t b_len, uint8_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    unsigned int n = 0;

    vouch__ossl_begin();
    if (!h || !out || (!a && a_len) || (!b && b_len)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
        (a_len && EVP_DigestUpdate(h->ctx, a, a_len) != 1) ||
        (b_len && EVP_DigestUpdate(h->ctx, b, b_len) != 1) ||
        EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != h->out_len) {
        rc = vouch__ossl_fail("hasher_digest2");
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("hasher_digest2");
    return rc;
}

vouch_err vouch_random(void *p, size_t len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *q = p;

    vouch__ossl_begin();
    if (!p && len) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    /* RAND_bytes takes an int; feed larger requests in pieces. */
    while (len) {
        size_t n = len > (size_t)INT_MAX ? (size_t)INT_MAX : len;
        if (RAND_bytes(q, (int)n) != 1) {
            rc = vouch__ossl_fail("random");
            goto out;
        }
        q += n;
        len -= n;
    }
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("random");
    return rc;
}
