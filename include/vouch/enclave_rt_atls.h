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

/** Bytes from the client; advances the handshake. IO when it failed (the
 *  alert for the client can still be pulled). */
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
