/*
 * Attested TLS: TLS whose certificate proves that its private key lives in a
 * particular enclave.
 *
 * The attester (an enclave) generates an ECDSA P-256 key pair and a short-lived
 * self-signed X.509 certificate for it. The certificate carries the enclave's
 * evidence in the non-critical extension 2.23.133.5.4.9 (TCG DICE "tagged
 * evidence", as the CCC interoperable RA-TLS format): the extension value is a
 * CBOR tag whose number names the evidence format, around a byte string with
 * the evidence. Vouch software TEE evidence uses the private tag
 * VOUCH_ATLS_CBOR_TAG_SIM. The evidence binds the key through its 64 bytes of
 * report data:
 *
 *     report_data[0..32)  = SHA-256 of the certificate's DER SubjectPublicKeyInfo
 *     report_data[32..64) = the verifier's 32-byte nonce, or zeros without one
 *
 * The evidence itself comes from a callback, so an enclave can ask its
 * platform agent (vouch_rt_get_evidence) while a test signs directly.
 *
 * The verifier (vouch_atls_verify_cert, and the OpenSSL certificate verify
 * callback installed by vouch_atls_ctx_new) checks, at the caller's @c now:
 * the certificate's own signature and validity window (at most
 * VOUCH_ATLS_CERT_MAX_LIFETIME long); the evidence (sim evidence against the
 * trusted software TEE CAs; any other CBOR tag goes to the caller's
 * extension-point callback, and is refused when there is none); the key
 * binding; the nonce when one is expected; and the expected identity
 * (measurement and/or signer, product id, minimum svn, debug). The TLS
 * handshake's CertificateVerify proves the peer holds the key. Freshness
 * without a nonce is only that of the certificate's short life: evidence binds
 * a key, not a session.
 *
 * Mutual attested TLS: both sides use a credential and a verifier.
 */
#ifndef VOUCH_ATLS_H
#define VOUCH_ATLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/crypto.h>
#include <vouch/err.h>
#include <vouch/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_ATLS_EVIDENCE_OID "2.23.133.5.4.9"
/* Private CBOR tag (first-come-first-served range) for sim evidence: "VSM1". */
#define VOUCH_ATLS_CBOR_TAG_SIM 0x56534D31u
#define VOUCH_ATLS_NONCE_LEN    32u

/**
 * Produces evidence binding @p report_data into @p ev (@p cap bytes, at least
 * VOUCH_MAX_ATLS_EVIDENCE) and sets *@p ev_len. Called once per credential.
 */
typedef vouch_err (*vouch_atls_evidence_fn)(void *ctx,
                                            const uint8_t report_data[VOUCH_SIM_REPORT_DATA_LEN],
                                            uint8_t *ev, size_t cap, size_t *ev_len);

struct vouch_atls_cred_spec {
    const char *common_name; /* subject CN, e.g. the service name */
    int64_t now;             /* Unix seconds; notBefore = now - 60 */
    int64_t lifetime;        /* seconds, 1..VOUCH_ATLS_CERT_MAX_LIFETIME */
    const uint8_t *nonce;    /* VOUCH_ATLS_NONCE_LEN bytes, or NULL */
    uint64_t cbor_tag;       /* evidence format; 0 means VOUCH_ATLS_CBOR_TAG_SIM */
    vouch_atls_evidence_fn evidence;
    void *evidence_ctx;
};

/* A key pair and its attested certificate. */
struct vouch_atls_cred;

/** Generates the key, obtains the evidence and issues the certificate. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_cred_new(const struct vouch_atls_cred_spec *spec,
                                                        struct vouch_atls_cred **out);
/** Frees the credential (the private key is cleared). Accepts NULL. */
VOUCH_API void vouch_atls_cred_free(struct vouch_atls_cred *c);
/** Borrowed DER of the certificate. */
VOUCH_API void vouch_atls_cred_cert_der(const struct vouch_atls_cred *c, const uint8_t **der,
                                        size_t *len);

/* What a verified peer certificate says. */
struct vouch_atls_peer {
    uint64_t cbor_tag;            /* the evidence format */
    struct vouch_sim_identity id; /* measurement, signer, product, svn, debug */
    uint8_t report_data[VOUCH_SIM_REPORT_DATA_LEN];
    int64_t not_after; /* the certificate's end of life */
    json_t *claims;    /* owned: the evidence claims (sim: see evidence.h) */
};

/** Releases @p p's claims; safe on a zeroed struct. */
VOUCH_API void vouch_atls_peer_free(struct vouch_atls_peer *p);

/**
 * The extension point for evidence formats other than sim: verify @p ev
 * (format @p tag) at @p now and fill @p out's id, report_data and claims.
 * Return an error to refuse.
 */
typedef vouch_err (*vouch_atls_format_fn)(void *ctx, uint64_t tag, const uint8_t *ev, size_t len,
                                          int64_t now, struct vouch_atls_peer *out);

struct vouch_atls_verifier {
    int64_t now; /* Unix seconds (required) */
    /* Trusted software TEE CA certificates; sim evidence fails without them. */
    struct vouch_x509 *const *sim_anchors;
    size_t n_sim_anchors;
    vouch_atls_format_fn other_format; /* NULL: only sim evidence */
    void *other_ctx;
    /* Expected identity; NULL pointers and false flags skip a check. */
    const uint8_t *measurement; /* 32 bytes */
    const uint8_t *signer_id;   /* 32 bytes */
    bool check_product_id;
    uint16_t product_id;
    uint16_t min_svn;
    bool allow_debug;     /* otherwise debug enclaves are refused */
    const uint8_t *nonce; /* VOUCH_ATLS_NONCE_LEN bytes, or NULL */
};

/**
 * Verifies a DER certificate as described above and fills @p out (free with
 * vouch_atls_peer_free; zeroed on failure). Errors: PARSE (no or malformed
 * extension), EXPIRED (validity), the evidence verifier's error, MISMATCH
 * (key not bound, nonce differs), POLICY (identity differs, debug refused).
 * A reason goes to @p detail (@p detail_cap bytes) when it is not NULL.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_verify_cert(const uint8_t *der, size_t len,
                                                           const struct vouch_atls_verifier *v,
                                                           struct vouch_atls_peer *out,
                                                           char *detail, size_t detail_cap);

/* ---- OpenSSL glue ---- */

/* A TLS context for attested TLS (TLS 1.3 only). */
struct vouch_atls_ctx;

/**
 * Creates a server (@p server true) or client context. @p cred (may be NULL
 * for a client that does not authenticate) is presented as the certificate;
 * with @p verifier (copied, with its pointers borrowed: they must outlive the
 * context) the peer must present an attested certificate that passes
 * vouch_atls_verify_cert, or the handshake fails. A server with a verifier
 * requires a client certificate (mutual attested TLS).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_ctx_new(bool server,
                                                       const struct vouch_atls_cred *cred,
                                                       const struct vouch_atls_verifier *verifier,
                                                       struct vouch_atls_ctx **out);
VOUCH_API void vouch_atls_ctx_free(struct vouch_atls_ctx *c);
/** The native SSL_CTX (borrowed), for callers driving OpenSSL themselves: the
 *  verify callback is installed and refuses unverified peers; to read the
 *  peer's claims, pass its certificate to vouch_atls_verify_cert. */
VOUCH_API void *vouch_atls_ctx_native(struct vouch_atls_ctx *c);

/* One attested TLS connection over a connected socket (blocking). */
struct vouch_atls_conn;

/** Runs the handshake as the context's side over @p fd (not closed by us).
 *  On a verification failure the error is the verifier's; @p detail says why. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_handshake(struct vouch_atls_ctx *ctx, int fd,
                                                         struct vouch_atls_conn **out, char *detail,
                                                         size_t detail_cap);
/** The verified peer (NULL when the context has no verifier). */
VOUCH_API const struct vouch_atls_peer *vouch_atls_conn_peer(const struct vouch_atls_conn *c);
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_write(struct vouch_atls_conn *c, const void *p,
                                                     size_t len);
/** Reads exactly @p len bytes. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_read(struct vouch_atls_conn *c, void *p, size_t len);
/** Sends close_notify (best effort) and frees. Accepts NULL. */
VOUCH_API void vouch_atls_conn_free(struct vouch_atls_conn *c);

#ifdef __cplusplus
}
#endif
#endif
