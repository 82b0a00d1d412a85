/*
 * Attested TLS over memory buffers (include/vouch/atls_mem.h): an SSL object
 * between two memory BIOs, so the records travel however the caller likes
 * (an enclave relays them through its host).
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <vouch/atls_mem.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "crypto/crypto_int.h"

struct vouch_atls_mem {
    SSL *ssl;
    BIO *rbio;                  /* peer -> engine; owned by ssl */
    BIO *wbio;                  /* engine -> peer; owned by ssl */
    struct vouch_atls_conn *vc; /* the verify callback's record (verifying contexts) */
    bool established;
    bool dead;
};

vouch_err vouch_atls_mem_new(struct vouch_atls_ctx *ctx, struct vouch_atls_mem **out)
{
    struct vouch_atls_mem *m = NULL;
    SSL_CTX *sctx = vouch_atls_ctx_native(ctx);
    vouch_err rc = VOUCH_ERR_CRYPTO;
    bool server;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!sctx)
        return VOUCH_ERR_INVAL;
    server = SSL_CTX_get_ssl_method(sctx) == TLS_server_method();
    if (!(m = vouch_calloc(1, sizeof(*m))))
        return VOUCH_ERR_NOMEM;
    vouch__ossl_begin();
    if (!(m->ssl = SSL_new(sctx)) || !(m->rbio = BIO_new(BIO_s_mem())) ||
        !(m->wbio = BIO_new(BIO_s_mem()))) {
        BIO_free(m->rbio);
        BIO_free(m->wbio);
        goto out;
    }
    /* An empty buffer means "more later", not end of file. */
    BIO_set_mem_eof_return(m->rbio, -1);
    BIO_set_mem_eof_return(m->wbio, -1);
    SSL_set_bio(m->ssl, m->rbio, m->wbio);
    /* A verifying context's callback records the peer's claims in a
     * connection record found as the SSL's app data. */
    if (SSL_CTX_get_verify_mode(sctx) != SSL_VERIFY_NONE) {
        rc = vouch__atls_conn_attach(ctx, m->ssl, &m->vc);
        if (rc != VOUCH_OK)
            goto out;
    }
    if (server)
        SSL_set_accept_state(m->ssl);
    else
        SSL_set_connect_state(m->ssl);
    *out = m;
    m = NULL;
    rc = VOUCH_OK;
out:
    if (rc == VOUCH_ERR_CRYPTO)
        rc = vouch__ossl_fail("atls_mem_new");
    vouch_atls_mem_free(m);
    return rc;
}

vouch_err vouch_atls_mem_push(struct vouch_atls_mem *m, const void *in, size_t len)
{
    if (!m || (len && !in))
        return VOUCH_ERR_INVAL;
    if (m->dead)
        return VOUCH_ERR_IO;
    if (len > VOUCH_MAX_ATLS_MEM_PENDING ||
        BIO_ctrl_pending(m->rbio) > VOUCH_MAX_ATLS_MEM_PENDING - len)
        return VOUCH_ERR_TOO_LARGE;
    size_t n = 0;
    if (len && (BIO_write_ex(m->rbio, in, len, &n) != 1 || n != len)) {
        m->dead = true;
        return vouch__ossl_fail("atls_mem_push");
    }
    if (m->established)
        return VOUCH_OK;
    int r = SSL_do_handshake(m->ssl);
    if (r == 1) {
        const char *why = NULL;
        vouch_err v = m->vc ? vouch__atls_conn_status(m->vc, &why) : VOUCH_OK;
        /* Never trust a handshake that skipped the verify callback. */
        if (v != VOUCH_OK) {
            m->dead = true;
            return v;
        }
        m->established = true;
        return VOUCH_OK;
    }
    if (SSL_get_error(m->ssl, r) == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        return VOUCH_OK;
    }
    /* The alert for the peer, if any, is already in wbio: still pullable.
     * A refused peer certificate reports the verifier's error. */
    m->dead = true;
    vouch__ossl_drain("atls_mem_handshake");
    const char *why = "";
    vouch_err v = m->vc ? vouch__atls_conn_status(m->vc, &why) : VOUCH_OK;
    return v != VOUCH_OK && why[0] ? v : VOUCH_ERR_IO;
}

const struct vouch_atls_peer *vouch_atls_mem_peer(const struct vouch_atls_mem *m)
{
    return m && m->established && m->vc ? vouch_atls_conn_peer(m->vc) : NULL;
}

const char *vouch_atls_mem_detail(const struct vouch_atls_mem *m)
{
    const char *why = "";
    if (m && m->vc && vouch__atls_conn_status(m->vc, &why) == VOUCH_OK)
        why = "";
    return why ? why : "";
}

bool vouch_atls_mem_established(const struct vouch_atls_mem *m)
{
    return m && m->established && !m->dead;
}

vouch_err vouch_atls_mem_pull(struct vouch_atls_mem *m, void *out, size_t cap, size_t *len)
{
    if (!m || !len || (cap && !out))
        return VOUCH_ERR_INVAL;
    *len = 0;
    if (cap == 0 || BIO_ctrl_pending(m->wbio) == 0)
        return VOUCH_OK;
    if (BIO_read_ex(m->wbio, out, cap, len) != 1)
        return vouch__ossl_fail("atls_mem_pull");
    return VOUCH_OK;
}

vouch_err vouch_atls_mem_read(struct vouch_atls_mem *m, void *p, size_t cap, size_t *got)
{
    if (!m || !got || (cap && !p))
        return VOUCH_ERR_INVAL;
    *got = 0;
    if (m->dead)
        return VOUCH_ERR_IO;
    if (!m->established)
        return VOUCH_ERR_BUSY;
    if (cap == 0)
        return VOUCH_OK;
    if (SSL_read_ex(m->ssl, p, cap, got) == 1)
        return VOUCH_OK;
    int e = SSL_get_error(m->ssl, 0);
    if (e == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        return VOUCH_ERR_BUSY;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return VOUCH_ERR_NOT_FOUND;
    }
    m->dead = true;
    vouch__ossl_drain("atls_mem_read");
    return VOUCH_ERR_IO;
}

vouch_err vouch_atls_mem_write(struct vouch_atls_mem *m, const void *p, size_t len)
{
    if (!m || (len && !p))
        return VOUCH_ERR_INVAL;
    if (m->dead)
        return VOUCH_ERR_IO;
    if (!m->established)
        return VOUCH_ERR_BUSY;
    size_t done = 0, n = 0;
    while (done < len) {
        /* A memory BIO takes everything: no partial-write retry state. */
        if (SSL_write_ex(m->ssl, (const uint8_t *)p + done, len - done, &n) != 1) {
            m->dead = true;
            return vouch__ossl_fail("atls_mem_write");
        }
        done += n;
    }
    return VOUCH_OK;
}

vouch_err vouch_atls_mem_close(struct vouch_atls_mem *m)
{
    if (!m)
        return VOUCH_ERR_INVAL;
    if (m->dead || !m->established)
        return VOUCH_ERR_IO;
    /* 0 (sent, peer's not yet seen) and 1 are both fine for a one-way close. */
    if (SSL_shutdown(m->ssl) < 0) {
        m->dead = true;
        return vouch__ossl_fail("atls_mem_close");
    }
    return VOUCH_OK;
}

void vouch_atls_mem_free(struct vouch_atls_mem *m)
{
    if (!m)
        return;
    SSL_free(m->ssl);
    vouch_atls_conn_free(m->vc);
    vouch__ossl_drain("atls_mem_free");
    vouch_free(m);
}

vouch_err vouch_atls_preload(void)
{
    uint64_t opts =
        OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS;
    return OPENSSL_init_ssl(opts, NULL) == 1 ? VOUCH_OK : vouch__ossl_fail("atls_preload");
}
