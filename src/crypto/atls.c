/*
 * Attested TLS (include/vouch/atls.h): attested certificates, their
 * verification, and the OpenSSL glue. The certificate verify callback replaces
 * OpenSSL's chain building entirely: an attested certificate is self-signed
 * and its trust comes from the evidence inside it, never from a CA store.
 */
#include <cbor.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <vouch/atls.h>
#include <vouch/certgen.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>

#include "crypto/certgen_int.h"
#include "crypto/crypto_int.h"
#include "evidence/sim_int.h"

#define BACKDATE 60
/* CBOR around the evidence: a tag head and a byte-string head, 9 bytes each
 * at most. */
#define CBOR_OVERHEAD 18u

struct vouch_atls_cred {
    struct vouch_pkey *key;
    EVP_PKEY *evp;
    X509 *x;
    uint8_t *der;
    size_t der_len;
};

struct vouch_atls_ctx {
    SSL_CTX *ssl_ctx;
    bool server;
    bool has_verifier;
    struct vouch_atls_verifier v;
};

struct vouch_atls_conn {
    SSL *ssl;
    const struct vouch_atls_ctx *ctx;
    bool verified;
    vouch_err verify_rc;
    struct vouch_atls_peer peer;
    char detail[VOUCH_MAX_ERROR_DETAIL];
};

static void set_detail(char *d, size_t cap, const char *msg)
{
    if (d && cap)
        snprintf(d, cap, "%s", msg);
}

/* ---- credentials ---- */

static vouch_err cbor_wrap(uint64_t tag, const uint8_t *ev, size_t len, uint8_t **out,
                           size_t *out_len)
{
    cbor_item_t *bs = cbor_build_bytestring(ev, len);
    cbor_item_t *t = bs ? cbor_build_tag(tag, bs) : NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    *out_len = 0;
    if (t)
        n = cbor_serialize_alloc(t, &buf, &cap);
    if (n > 0 && buf) {
        *out = vouch_memdup(buf, n);
        if (*out) {
            *out_len = n;
            rc = VOUCH_OK;
        }
    }
    free(buf); /* lint:allow free: cbor_serialize_alloc allocates with malloc */
    if (t)
        cbor_decref(&t);
    if (bs)
        cbor_decref(&bs);
    return rc;
}

vouch_err vouch_atls_cred_new(const struct vouch_atls_cred_spec *spec, struct vouch_atls_cred **out)
{
    struct vouch_atls_cred *c = NULL;
    struct vouch_pubkey *pub = NULL;
    uint8_t *spki = NULL, *ev = NULL, *ext = NULL;
    size_t spki_len = 0, ev_len = 0, ext_len = 0;
    uint8_t rd[VOUCH_SIM_REPORT_DATA_LEN];
    const unsigned char *dp;
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!spec || !spec->evidence || !spec->common_name || spec->lifetime <= 0 ||
        spec->lifetime > VOUCH_ATLS_CERT_MAX_LIFETIME || spec->now < BACKDATE)
        return VOUCH_ERR_INVAL;
    if (!(c = vouch_calloc(1, sizeof(*c))))
        return VOUCH_ERR_NOMEM;
    memset(rd, 0, sizeof(rd));
    if ((rc = vouch_pkey_generate(VOUCH_PKEY_EC_P256, &c->key)) != VOUCH_OK ||
        (rc = vouch_pkey_public(c->key, &pub)) != VOUCH_OK ||
        (rc = vouch_pubkey_spki_der(pub, &spki, &spki_len)) != VOUCH_OK ||
        (rc = vouch_sha256(spki, spki_len, rd)) != VOUCH_OK)
        goto out;
    if (spec->nonce)
        memcpy(rd + 32, spec->nonce, VOUCH_ATLS_NONCE_LEN);
    if (!(ev = vouch_malloc(VOUCH_MAX_ATLS_EVIDENCE))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if ((rc = spec->evidence(spec->evidence_ctx, rd, ev, VOUCH_MAX_ATLS_EVIDENCE, &ev_len)) !=
        VOUCH_OK)
        goto out;
    if (ev_len == 0 || ev_len > VOUCH_MAX_ATLS_EVIDENCE - CBOR_OVERHEAD) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((rc = cbor_wrap(spec->cbor_tag ? spec->cbor_tag : VOUCH_ATLS_CBOR_TAG_SIM, ev, ev_len, &ext,
                        &ext_len)) != VOUCH_OK)
        goto out;
    {
        struct vouch_cert_issue_spec is = {.subject_cn = spec->common_name,
                                           .not_before = spec->now - BACKDATE,
                                           .not_after = spec->now - BACKDATE + spec->lifetime,
                                           .tls_server = true,
                                           .tls_client = true,
                                           .ext_oid = VOUCH_ATLS_EVIDENCE_OID,
                                           .ext_value = ext,
                                           .ext_len = ext_len};
        if ((rc = vouch_cert_issue(pub, c->key, NULL, &is, &c->der, &c->der_len)) != VOUCH_OK)
            goto out;
    }
    vouch__ossl_begin();
    dp = c->der;
    if ((rc = vouch__pkey_to_evp(c->key, &c->evp)) != VOUCH_OK ||
        !(c->x = d2i_X509(NULL, &dp, (long)c->der_len))) {
        if (rc == VOUCH_OK)
            rc = vouch__ossl_fail("atls_cred");
        goto out;
    }
    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("atls_cred");
    vouch_atls_cred_free(c);
    vouch_pubkey_free(pub);
    vouch_free(spki);
    vouch_free(ev);
    vouch_free(ext);
    return rc;
}

void vouch_atls_cred_free(struct vouch_atls_cred *c)
{
    if (!c)
        return;
    vouch_pkey_free(c->key);
    EVP_PKEY_free(c->evp); /* clears the private key */
    X509_free(c->x);
    vouch_free(c->der);
    vouch_free(c);
}

void vouch_atls_cred_cert_der(const struct vouch_atls_cred *c, const uint8_t **der, size_t *len)
{
    *der = c->der;
    *len = c->der_len;
}

/* ---- verification ---- */

void vouch_atls_peer_free(struct vouch_atls_peer *p)
{
    if (!p)
        return;
    json_decref(p->claims);
    memset(p, 0, sizeof(*p));
}

/* Splits the extension's CBOR into tag number and evidence bytes (borrowed
 * from @p item). */
static vouch_err cbor_unwrap(const uint8_t *p, size_t len, cbor_item_t **item, uint64_t *tag,
                             const uint8_t **ev, size_t *ev_len)
{
    struct cbor_load_result res;
    cbor_item_t *inner = NULL;
    vouch_err rc = VOUCH_ERR_PARSE;

    *item = cbor_load(p, len, &res);
    if (!*item || res.error.code != CBOR_ERR_NONE || res.read != len || !cbor_isa_tag(*item))
        goto out;
    *tag = cbor_tag_value(*item);
    inner = cbor_tag_item(*item);
    if (!inner || !cbor_isa_bytestring(inner) || !cbor_bytestring_is_definite(inner) ||
        cbor_bytestring_length(inner) == 0)
        goto out;
    *ev = cbor_bytestring_handle(inner);
    *ev_len = cbor_bytestring_length(inner);
    rc = VOUCH_OK;
out:
    /* The tag keeps the inner item alive while *item lives. */
    if (inner)
        cbor_decref(&inner);
    return rc;
}

static vouch_err verify_sim(const struct vouch_atls_verifier *v, const uint8_t *ev, size_t len,
                            struct vouch_atls_peer *out, char *detail, size_t cap)
{
    struct vouch_sim_report rep;
    vouch_err rc = vouch_sim_evidence_verify(ev, len, v->sim_anchors, v->n_sim_anchors, v->now,
                                             &rep, detail, cap);
    if (rc != VOUCH_OK)
        return rc;
    out->id = rep.id;
    memcpy(out->report_data, rep.report_data, sizeof(out->report_data));
    return vouch__sim_claims(&rep, &out->claims);
}

vouch_err vouch_atls_verify_cert(const uint8_t *der, size_t len,
                                 const struct vouch_atls_verifier *v, struct vouch_atls_peer *out,
                                 char *detail, size_t detail_cap)
{
    struct vouch_x509 *c = NULL;
    cbor_item_t *item = NULL;
    const uint8_t *ext, *ev;
    size_t ext_len, ev_len;
    uint8_t spki_hash[VOUCH_SHA256_LEN];
    int64_t nb, na;
    uint64_t tag = 0;
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if (detail && detail_cap)
        detail[0] = 0;
    if (!der || !v)
        return VOUCH_ERR_INVAL;
    if ((rc = vouch_x509_parse_der(der, len, &c)) != VOUCH_OK) {
        set_detail(detail, detail_cap, "the peer certificate does not parse");
        goto out;
    }
    /* Self-signed: the signature proves the certificate is whole; trust
     * comes from the evidence. */
    if ((rc = vouch_x509_verify_signed_by(c, c)) != VOUCH_OK) {
        set_detail(detail, detail_cap, "the peer certificate's self-signature does not verify");
        goto out;
    }
    vouch_x509_validity(c, &nb, &na);
    if (v->now < nb || v->now > na) {
        set_detail(detail, detail_cap, "the peer certificate is not valid now");
        rc = VOUCH_ERR_EXPIRED;
        goto out;
    }
    if (na - nb > VOUCH_ATLS_CERT_MAX_LIFETIME) {
        set_detail(detail, detail_cap, "the peer certificate lives longer than allowed");
        rc = VOUCH_ERR_POLICY;
        goto out;
    }
    rc = vouch_x509_extension(c, VOUCH_ATLS_EVIDENCE_OID, &ext, &ext_len);
    if (rc != VOUCH_OK || ext_len > VOUCH_MAX_ATLS_EVIDENCE) {
        set_detail(detail, detail_cap, "the peer certificate carries no evidence extension");
        rc = rc == VOUCH_OK ? VOUCH_ERR_TOO_LARGE : VOUCH_ERR_PARSE;
        goto out;
    }
    if ((rc = cbor_unwrap(ext, ext_len, &item, &tag, &ev, &ev_len)) != VOUCH_OK) {
        set_detail(detail, detail_cap, "the evidence extension is not a CBOR-tagged byte string");
        goto out;
    }
    out->cbor_tag = tag;
    if (tag == VOUCH_ATLS_CBOR_TAG_SIM) {
        rc = verify_sim(v, ev, ev_len, out, detail, detail_cap);
    } else if (v->other_format) {
        rc = v->other_format(v->other_ctx, tag, ev, ev_len, v->now, out);
        if (rc != VOUCH_OK)
            set_detail(detail, detail_cap, "the evidence does not verify");
    } else {
        set_detail(detail, detail_cap, "unsupported evidence format (CBOR tag)");
        rc = VOUCH_ERR_UNSUPPORTED;
    }
    if (rc != VOUCH_OK)
        goto out;
    if ((rc = vouch_x509_spki_sha256(c, spki_hash)) != VOUCH_OK)
        goto out;
    if (!vouch_ct_eq(spki_hash, out->report_data, sizeof(spki_hash))) {
        set_detail(detail, detail_cap, "the certificate's key is not bound in the evidence");
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    if (v->nonce && !vouch_ct_eq(v->nonce, out->report_data + 32, VOUCH_ATLS_NONCE_LEN)) {
        set_detail(detail, detail_cap, "the evidence does not carry the expected nonce");
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    rc = VOUCH_ERR_POLICY;
    if (v->measurement && !vouch_ct_eq(v->measurement, out->id.measurement, 32)) {
        set_detail(detail, detail_cap, "the enclave measurement is not the expected one");
        goto out;
    }
    if (v->signer_id && !vouch_ct_eq(v->signer_id, out->id.signer_id, 32)) {
        set_detail(detail, detail_cap, "the enclave signer is not the expected one");
        goto out;
    }
    if (v->check_product_id && out->id.product_id != v->product_id) {
        set_detail(detail, detail_cap, "the enclave product id is not the expected one");
        goto out;
    }
    if (out->id.svn < v->min_svn) {
        set_detail(detail, detail_cap, "the enclave security version is below the minimum");
        goto out;
    }
    if (out->id.debug && !v->allow_debug) {
        set_detail(detail, detail_cap, "the enclave is a debug enclave");
        goto out;
    }
    out->not_after = na;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        vouch_atls_peer_free(out);
    if (item)
        cbor_decref(&item);
    vouch_x509_free(c);
    return rc;
}

/* ---- OpenSSL glue ---- */

static int cert_verify_cb(X509_STORE_CTX *sctx, void *arg)
{
    const struct vouch_atls_ctx *ctx = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
    SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct vouch_atls_conn *conn = ssl ? SSL_get_app_data(ssl) : NULL;
    unsigned char *der = NULL;
    int len;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if (!conn || !leaf || !ctx->has_verifier)
        goto out;
    vouch_atls_peer_free(&conn->peer);
    len = i2d_X509(leaf, &der);
    if (len <= 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = vouch_atls_verify_cert(der, (size_t)len, &ctx->v, &conn->peer, conn->detail,
                                sizeof(conn->detail));
out:
    OPENSSL_free(der);
    if (conn) {
        conn->verify_rc = rc;
        conn->verified = rc == VOUCH_OK;
    }
    if (rc != VOUCH_OK) {
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    X509_STORE_CTX_set_error(sctx, X509_V_OK);
    return 1;
}

vouch_err vouch_atls_ctx_new(bool server, const struct vouch_atls_cred *cred,
                             const struct vouch_atls_verifier *verifier,
                             struct vouch_atls_ctx **out)
{
    struct vouch_atls_ctx *c = NULL;
    vouch_err rc = VOUCH_ERR_CRYPTO;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    /* A client always verifies; a server needs something to present. */
    if ((!server && !verifier) || (server && !cred))
        return VOUCH_ERR_INVAL;
    if (!(c = vouch_calloc(1, sizeof(*c))))
        return VOUCH_ERR_NOMEM;
    vouch__ossl_begin();
    c->server = server;
    c->ssl_ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ssl_ctx || SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c->ssl_ctx, TLS1_3_VERSION) != 1)
        goto out;
    /* No resumption: a resumed session would skip the evidence check. */
    SSL_CTX_set_session_cache_mode(c->ssl_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c->ssl_ctx, SSL_OP_NO_TICKET);
    if (SSL_CTX_set_num_tickets(c->ssl_ctx, 0) != 1)
        goto out;
    if (cred && (SSL_CTX_use_certificate(c->ssl_ctx, cred->x) != 1 ||
                 SSL_CTX_use_PrivateKey(c->ssl_ctx, cred->evp) != 1 ||
                 SSL_CTX_check_private_key(c->ssl_ctx) != 1))
        goto out;
    if (verifier) {
        c->has_verifier = true;
        c->v = *verifier;
        SSL_CTX_set_verify(c->ssl_ctx,
                           SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
        SSL_CTX_set_cert_verify_callback(c->ssl_ctx, cert_verify_cb, c);
    } else {
        SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_NONE, NULL);
    }
    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        rc = vouch__ossl_fail("atls_ctx");
    else
        vouch__ossl_drain("atls_ctx");
    vouch_atls_ctx_free(c);
    return rc;
}

void vouch_atls_ctx_free(struct vouch_atls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ssl_ctx);
    vouch_free(c);
}

void *vouch_atls_ctx_native(struct vouch_atls_ctx *c)
{
    return c ? c->ssl_ctx : NULL;
}

vouch_err vouch_atls_handshake(struct vouch_atls_ctx *ctx, int fd, struct vouch_atls_conn **out,
                               char *detail, size_t detail_cap)
{
    struct vouch_atls_conn *conn = NULL;
    vouch_err rc = VOUCH_ERR_IO;
    int r;

    if (detail && detail_cap)
        detail[0] = 0;
    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!ctx || fd < 0)
        return VOUCH_ERR_INVAL;
    if (!(conn = vouch_calloc(1, sizeof(*conn))))
        return VOUCH_ERR_NOMEM;
    conn->ctx = ctx;
    conn->verify_rc = VOUCH_ERR_VERIFY;
    vouch__ossl_begin();
    if (!(conn->ssl = SSL_new(ctx->ssl_ctx)) || SSL_set_fd(conn->ssl, fd) != 1 ||
        SSL_set_app_data(conn->ssl, conn) != 1) {
        rc = vouch__ossl_fail("atls_handshake");
        goto out;
    }
    r = ctx->server ? SSL_accept(conn->ssl) : SSL_connect(conn->ssl);
    if (r != 1) {
        if (ctx->has_verifier && !conn->verified && conn->detail[0]) {
            rc = conn->verify_rc;
            set_detail(detail, detail_cap, conn->detail);
        } else {
            unsigned long e = ERR_peek_last_error();
            rc = VOUCH_ERR_IO;
            if (detail && detail_cap)
                snprintf(detail, detail_cap, "TLS handshake failed: %s",
                         e ? ERR_reason_error_string(e) : "connection closed");
        }
        goto out;
    }
    /* The callback ran and passed: never trust a handshake that skipped it. */
    if (ctx->has_verifier && !conn->verified) {
        set_detail(detail, detail_cap, "the peer presented no attested certificate");
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    *out = conn;
    conn = NULL;
    rc = VOUCH_OK;
out:
    vouch__ossl_drain("atls_handshake");
    if (conn) {
        /* No close_notify after a failed handshake. */
        SSL_free(conn->ssl);
        conn->ssl = NULL;
        vouch_atls_conn_free(conn);
    }
    return rc;
}

const struct vouch_atls_peer *vouch_atls_conn_peer(const struct vouch_atls_conn *c)
{
    return c && c->verified ? &c->peer : NULL;
}

vouch_err vouch_atls_write(struct vouch_atls_conn *c, const void *p, size_t len)
{
    size_t done = 0, n = 0;

    if (!c || (len && !p))
        return VOUCH_ERR_INVAL;
    while (done < len) {
        if (SSL_write_ex(c->ssl, (const uint8_t *)p + done, len - done, &n) != 1) {
            vouch__ossl_drain("atls_write");
            return VOUCH_ERR_IO;
        }
        done += n;
    }
    return VOUCH_OK;
}

vouch_err vouch_atls_read(struct vouch_atls_conn *c, void *p, size_t len)
{
    size_t done = 0, n = 0;

    if (!c || (len && !p))
        return VOUCH_ERR_INVAL;
    while (done < len) {
        if (SSL_read_ex(c->ssl, (uint8_t *)p + done, len - done, &n) != 1) {
            vouch__ossl_drain("atls_read");
            return VOUCH_ERR_IO;
        }
        done += n;
    }
    return VOUCH_OK;
}

void vouch_atls_conn_free(struct vouch_atls_conn *c)
{
    if (!c)
        return;
    if (c->ssl) {
        (void)SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    vouch__ossl_drain("atls_close");
    vouch_atls_peer_free(&c->peer);
    vouch_free(c);
}

/* ---- connections driven by atls_mem.c ---- */

vouch_err vouch__atls_conn_attach(struct vouch_atls_ctx *ctx, SSL *ssl,
                                  struct vouch_atls_conn **out)
{
    struct vouch_atls_conn *conn = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!ctx || !ssl)
        return VOUCH_ERR_INVAL;
    if (!(conn = vouch_calloc(1, sizeof(*conn))))
        return VOUCH_ERR_NOMEM;
    /* conn->ssl stays NULL: the memory connection owns and frees the SSL. */
    conn->ctx = ctx;
    conn->verify_rc = VOUCH_ERR_VERIFY;
    if (SSL_set_app_data(ssl, conn) != 1) {
        vouch_free(conn);
        return vouch__ossl_fail("atls_conn_attach");
    }
    *out = conn;
    return VOUCH_OK;
}

vouch_err vouch__atls_conn_status(const struct vouch_atls_conn *c, const char **detail)
{
    *detail = "";
    if (!c)
        return VOUCH_ERR_INVAL;
    if (!c->ctx->has_verifier || c->verified)
        return VOUCH_OK;
    /* Empty when the callback never ran (no certificate, or the handshake
     * failed before it). */
    *detail = c->detail;
    return c->verify_rc;
}
