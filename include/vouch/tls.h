/*
 * TLS contexts for servers. Built here because only src/crypto touches
 * OpenSSL; the HTTP layer receives an opaque context and hands the native
 * pointer to libh2o, which drives the handshake itself.
 *
 * Policy: TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites only, no
 * compression, no renegotiation, server cipher preference.
 */
#ifndef VOUCH_TLS_H
#define VOUCH_TLS_H

#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vouch_tls_ctx;

/** Loads a PEM certificate chain and private key (the key file must not be
 *  group/world readable). With @p client_ca, client certificates signed by it
 *  are requested but not required. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_tls_server_ctx_new(const char *cert_path,
                                                             const char *key_path,
                                                             const char *client_ca,
                                                             struct vouch_tls_ctx **out);
/** The native SSL_CTX (borrowed), for the HTTP server glue only. */
VOUCH_API void *vouch_tls_ctx_native(struct vouch_tls_ctx *c);
VOUCH_API void vouch_tls_ctx_free(struct vouch_tls_ctx *c);

#ifdef __cplusplus
}
#endif
#endif
