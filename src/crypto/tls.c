/* Server TLS contexts (see vouch/tls.h). */
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/tls.h>

#include "crypto/crypto_int.h"

struct vouch_tls_ctx {
    SSL_CTX *ssl;
};

/* TLS 1.2 suites: ECDHE with AEAD only. TLS 1.3 suites are OpenSSL's defaults
 * (all AEAD). */
static const char tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static vouch_err key_file_private(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    vouch_err rc = VOUCH_ERR_IO;

    if (fd < 0)
        return VOUCH_ERR_IO;
    if (fstat(fd, &st) != 0)
        goto out;
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        vouch_log_error("TLS key %s is accessible to group or others; refusing it", path);
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    rc = VOUCH_OK;
out:
    close(fd);
    return rc;
}

/* Keeps the handshake going whatever the client certificate; OpenSSL still
 * records the verification error for SSL_get_verify_result. */
static int accept_any_client(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok;
    (void)ctx;
    return 1;
}

vouch_err vouch_tls_server_ctx_new(const char *cert_path, const char *key_path,
                                   const char *client_ca, struct vouch_tls_ctx **out)
{
    struct vouch_tls_ctx *c = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    ERR_clear_error();
    if ((rc = key_file_private(key_path)) != VOUCH_OK)
        return rc;
    rc = VOUCH_ERR_NOMEM;
    if (!(c = vouch_calloc(1, sizeof(*c))))
        goto out;
    if (!(c->ssl = SSL_CTX_new(TLS_server_method())))
        goto out;
    rc = VOUCH_ERR_CRYPTO;
    if (!SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(c->ssl, tls12_ciphers))
        goto out;
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    rc = VOUCH_ERR_IO;
    if (SSL_CTX_use_certificate_chain_file(c->ssl, cert_path) != 1) {
        vouch_log_error("cannot load TLS certificate chain %s", cert_path);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(c->ssl, key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ssl) != 1) {
        vouch_log_error("cannot load TLS key %s (or it does not match the certificate)", key_path);
        goto out;
    }
    if (client_ca) {
        if (SSL_CTX_load_verify_locations(c->ssl, client_ca, NULL) != 1) {
            vouch_log_error("cannot load client CA %s", client_ca);
            goto out;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        static const unsigned char sid_ctx[] = "vouch-tls-server";
        if (!names) {
            vouch_log_error("client CA %s holds no certificate", client_ca);
            goto out;
        }
        /* Tells clients which certificate to send. */
        SSL_CTX_set_client_CA_list(c->ssl, names);
        rc = VOUCH_ERR_CRYPTO;
        /* Client certificates are for TLS client authentication; session
         * resumption with client verification needs a session id context. */
        if (SSL_CTX_set_purpose(c->ssl, X509_PURPOSE_SSL_CLIENT) != 1 ||
            SSL_CTX_set_session_id_context(c->ssl, sid_ctx, sizeof(sid_ctx) - 1) != 1 ||
            !vouch_tls_peer_tracking_init())
            goto out;
        SSL_CTX_set_info_callback(c->ssl, vouch_tls_peer_on_info);
        /* Request, don't require, and never fail the handshake over the
         * certificate: an anonymous client may still attest. The admin API
         * reads the verification result per connection (tls_peer.c). */
        SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, accept_any_client);
    }
    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    ERR_clear_error();
    vouch_tls_ctx_free(c);
    return rc;
}

void *vouch_tls_ctx_native(struct vouch_tls_ctx *c)
{
    return c ? c->ssl : NULL;
}

void vouch_tls_ctx_free(struct vouch_tls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ssl);
    vouch_free(c);
}
