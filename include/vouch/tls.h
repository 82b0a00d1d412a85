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

#include <stdbool.h>
#include <vouch/crypto.h>
#include <vouch/err.h>
#include <vouch/limits.h>

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
/* ---- client certificates (admin authentication) ----
 *
 * With a client CA, every handshake completes whatever the client presents;
 * whether a certificate was presented and chains to the CA is read per
 * connection afterwards, so an unauthenticated client still reaches the
 * endpoints that need no credential. A connection is named by its transport
 * object: the pointer the code driving the handshake (libh2o) set as the data
 * of the BIO it gave OpenSSL, i.e. libh2o's h2o_socket_t. */

/** What a connection's client presented. */
struct vouch_tls_peer {
    bool has_cert;                              /* a certificate was presented */
    bool verified;                              /* ... and it chains to the client CA */
    char subject[VOUCH_TLS_MAX_SUBJECT + 1];    /* RFC 2253, truncated */
    char fingerprint[2 * VOUCH_SHA256_LEN + 1]; /* hex SHA-256 of the DER */
};

/** Prepares connection tracking (once per process); false on failure. Called
 *  by vouch_tls_server_ctx_new when a client CA is given. */
VOUCH_API bool vouch_tls_peer_tracking_init(void);
/** The client certificate state of the live connection whose transport object
 *  is @p transport. False (and @p out zeroed) when no such connection finished
 *  a handshake on a context with a client CA. */
VOUCH_API bool vouch_tls_peer_get(const void *transport, struct vouch_tls_peer *out);

/** The native SSL_CTX (borrowed), for the HTTP server glue only. */
VOUCH_API void *vouch_tls_ctx_native(struct vouch_tls_ctx *c);
VOUCH_API void vouch_tls_ctx_free(struct vouch_tls_ctx *c);

#ifdef __cplusplus
}
#endif
#endif
