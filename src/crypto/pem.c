/*
 * PEM framing. OpenSSL's PEM reader skips anything before a BEGIN line and
 * stops after the first block, which is too forgiving for evidence: a quote
 * whose certification data holds extra text must be rejected, not silently
 * trimmed. So the framing (where each block starts and ends, what lies
 * between blocks) is decided here, and OpenSSL only decodes the base64 of a
 * block already known to be well-placed.
 */
#include "crypto/crypto_int.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <vouch/mem.h>

bool vouch__pem_is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool vouch__has_prefix(const uint8_t *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    size_t i;

    if (len < n)
        return false;
    for (i = 0; i < n; i++) {
        if (p[i] != (uint8_t)lit[i])
            return false;
    }
    return true;
}

size_t vouch__find(const uint8_t *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    size_t i;

    if (n == 0 || len < n)
        return len;
    for (i = 0; i + n <= len; i++) {
        if (p[i] == (uint8_t)lit[0] && vouch__has_prefix(p + i, len - i, lit))
            return i;
    }
    return len;
}

vouch_err vouch__pem_decode(const uint8_t *p, size_t len, const char *label, size_t max_der,
                            uint8_t **der_out, size_t *der_len_out, size_t *consumed_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char begin[64];
    char end[64];
    char *name = NULL;
    char *header = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    BIO *bio = NULL;
    size_t e;
    size_t stop;
    /* Base64 grows 4/3, plus line breaks; twice the DER bound is ample. */
    size_t max_pem = max_der * 2u + 1024u;

    *der_out = NULL;
    *der_len_out = 0;
    *consumed_out = 0;
    if ((size_t)snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label) >= sizeof(begin) ||
        (size_t)snprintf(end, sizeof(end), "-----END %s-----", label) >= sizeof(end)) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    if (!vouch__has_prefix(p, len, begin)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    e = vouch__find(p, len, end);
    if (e == len) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    stop = e + strlen(end);
    if (stop > max_pem || stop > (size_t)INT32_MAX) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    bio = BIO_new_mem_buf(p, (int)stop);
    if (!bio) {
        rc = vouch__ossl_fail("pem_decode");
        goto out;
    }
    if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1 || dlen <= 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    /* Encrypted or annotated blocks carry headers; none of ours may. */
    if (strcmp(name, label) != 0 || (header && header[0] != '\0')) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((unsigned long)dlen > max_der) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    *der_out = vouch_memdup(data, (size_t)dlen);
    if (!*der_out) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    *der_len_out = (size_t)dlen;
    *consumed_out = stop;
    rc = VOUCH_OK;
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(bio);
    return rc;
}
