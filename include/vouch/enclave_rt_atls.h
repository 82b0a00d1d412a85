/*
 * Enclaves, enclave side: attested TLS terminated inside the enclave.
 *
 * An enclave cannot open sockets (enclave_rt.h, the sandbox), but it can be
 * the server end of an attested TLS connection whose records its host relays:
 * the host receives bytes from the client, passes them in with an ecall, and
 * sends back whatever the enclave hands out. The private key, the session
 * keys and the plaintext stay in the enclave process; the host sees only
 * ciphertext.
 *
 * vouch_rt_atls_server_new generates an ECDSA P-256 key in the enclave,
 * asks the platform agent for evidence whose report data starts with the
 * SHA-256 of the key's SubjectPublicKeyInfo (atls.h), and issues the
 * short-lived self-signed certificate carrying that evidence in extension
 * 2.23.133.5.4.9. A client checks it with atls.h's verifier (the platform CA
 * as trust anchor, the expected measurement or signer).
 *
 * vouch_rt_atls_mutual_new makes either end of a mutual attested TLS
 * connection, typically between two enclaves whose hosts relay the records:
 * the enclave presents a certificate made the same way and requires the
 * peer's, checked against what the enclave passes in struct
 * vouch_rt_atls_expect (the platform CA, the expected measurement or
 * signer). The check runs in the enclave, so the host cannot vouch for a
 * peer it made up. A client pushes 0 bytes first to produce its hello.
 *
 * These functions are exported by vouch-enclave-loader, like the rest of
 * vouch_rt_* (they run libvouch's TLS code in the enclave process; its
 * allocations come from the process heap, not the enclave's budgeted heap).
 * The flow for one connection, typically one call per relayed chunk:
 *
 *     vouch_rt_atls_push(s, bytes_from_client, n);
 *     if (vouch_rt_atls_read(s, buf, cap, &got) == VOUCH_OK) ... write a reply
 *     vouch_rt_atls_pull(s, out, cap, &len);  (until len is 0; give to the host)
 *
 * Not thread-safe per connection: serialise calls on one @c vouch_rt_atls.
 */
#ifndef VOUCH_ENCLAVE_RT_ATLS_H
#define VOUCH_ENCLAVE_RT_ATLS_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/enclave_rt.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vouch_rt_atls;

/**
 * Creates the key, the attested certificate (subject CN @p common_name,
 * valid for @p lifetime seconds from now, at most a day) and one server
 * connection. The agent's errors (ENCLAVE when it is gone) pass through.
 */
VOUCH_NODISCARD vouch_err vouch_rt_atls_server_new(const char *common_name, uint32_t lifetime,
                                                   struct vouch_rt_atls **out);

/* What an enclave requires of its peer's attested certificate. */
struct vouch_rt_atls_expect {
    const uint8_t *ca; /* the software TEE CA, PEM or DER (required) */
    size_t ca_len;
    const uint8_t *measurement; /* 32 bytes, or NULL: any */
    const uint8_t *signer_id;   /* 32 bytes, or NULL: any */
    int allow_debug;            /* 0: debug enclaves are refused */
};

/**
 * Like vouch_rt_atls_server_new, for the server (@p server nonzero) or the
 * client end of mutual attested TLS: the peer must present an attested
 * certificate that matches @p peer (copied; nothing is borrowed). INVAL
 * without @p peer or its CA, PARSE when the CA does not parse.
 */
VOUCH_NODISCARD vouch_err vouch_rt_atls_mutual_new(int server, const char *common_name,
                                                   uint32_t lifetime,
                                                   const struct vouch_rt_atls_expect *peer,
                                                   struct vouch_rt_atls **out);

/** The verified peer's identity, once established. NOT_FOUND before, or
 *  for a server that does not check its clients. */
VOUCH_NODISCARD vouch_err vouch_rt_atls_peer(const struct vouch_rt_atls *s,
                                             struct vouch_rt_identity *out);

/** Why the peer was refused ("" when it was not); borrowed. */
const char *vouch_rt_atls_detail(const struct vouch_rt_atls *s);

/** Bytes from the peer; advances the handshake. IO when it failed, the
 *  verifier's error (POLICY: another identity) when the peer's certificate
 *  was refused (the alert for the peer can still be pulled). */
VOUCH_NODISCARD vouch_err vouch_rt_atls_push(struct vouch_rt_atls *s, const void *in, size_t len);

/** 1 once the handshake has completed, else 0. */
int vouch_rt_atls_established(const struct vouch_rt_atls *s);

/** Up to @p cap bytes of records for the client; *len is 0 when none. */
VOUCH_NODISCARD vouch_err vouch_rt_atls_pull(struct vouch_rt_atls *s, void *out, size_t cap,
                                             size_t *len);

/** Application data from the client. BUSY: none yet; NOT_FOUND: closed. */
VOUCH_NODISCARD vouch_err vouch_rt_atls_read(struct vouch_rt_atls *s, void *p, size_t cap,
                                             size_t *got);

/** Application data for the client (then pull). */
VOUCH_NODISCARD vouch_err vouch_rt_atls_write(struct vouch_rt_atls *s, const void *p, size_t len);

/** Queues close_notify (then pull). */
VOUCH_NODISCARD vouch_err vouch_rt_atls_close(struct vouch_rt_atls *s);

/** The DER certificate the enclave presents (borrowed, valid until free). */
void vouch_rt_atls_cert(const struct vouch_rt_atls *s, const uint8_t **der, size_t *len);

/** Frees the connection and wipes the key. Accepts NULL. */
void vouch_rt_atls_free(struct vouch_rt_atls *s);

#ifdef __cplusplus
}
#endif
#endif
