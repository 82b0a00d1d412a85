/*
 * Attested TLS without a socket: the server end of an attested TLS
 * connection (atls.h) driven through memory buffers.
 *
 * Inside a software enclave there is no socket: the sandbox (enclave_rt.h)
 * forbids creating or using one. The enclave still terminates TLS itself, so
 * its private key and the plaintext never leave it; the host only relays the
 * encrypted records between the network and the enclave (through ecalls),
 * and can read, drop or reorder them but never decrypt or forge them.
 *
 *     vouch_atls_mem_new(ctx, &m);
 *     loop: vouch_atls_mem_push(m, bytes_from_peer, n);   (drives the handshake)
 *           vouch_atls_mem_read(m, buf, cap, &got);       (BUSY: need more bytes)
 *           vouch_atls_mem_write(m, reply, len);
 *           vouch_atls_mem_pull(m, out, cap, &len);       (records for the peer)
 *
 * Either end works: a server context (with a verifier it requires and checks
 * the client's attested certificate: mutual attested TLS) or a client
 * context (which always verifies the server; with a credential it also
 * proves itself). A client pushes 0 bytes first to produce its hello.
 *
 * Not thread-safe: one connection is used by one thread at a time.
 */
#ifndef VOUCH_ATLS_MEM_H
#define VOUCH_ATLS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <vouch/atls.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vouch_atls_mem;

/** A connection on @p ctx (which must outlive it), the context's side. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_mem_new(struct vouch_atls_ctx *ctx,
                                                       struct vouch_atls_mem **out);

/**
 * Hands @p len bytes received from the peer to the connection and advances
 * the handshake as far as they allow (len 0 just advances it). IO when the
 * handshake failed or the peer's records are invalid, the verifier's error
 * (vouch_atls_verify_cert) when it refused the peer's certificate (the
 * connection is then dead: every later call fails), TOO_LARGE above
 * VOUCH_MAX_ATLS_MEM_PENDING unread bytes.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_mem_push(struct vouch_atls_mem *m, const void *in,
                                                        size_t len);

/** True once the handshake has completed. */
VOUCH_API bool vouch_atls_mem_established(const struct vouch_atls_mem *m);

/** The verified peer (borrowed, valid until free) once established; NULL
 *  for a context without a verifier. */
VOUCH_API const struct vouch_atls_peer *vouch_atls_mem_peer(const struct vouch_atls_mem *m);

/** Why the verifier refused the peer ("" when it did not), after push failed
 *  with the verifier's error. Borrowed, valid until free. */
VOUCH_API const char *vouch_atls_mem_detail(const struct vouch_atls_mem *m);

/**
 * Takes up to @p cap bytes of records for the peer into @p out (*len = how
 * many; 0 when nothing is pending). Call until it returns 0 bytes.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_mem_pull(struct vouch_atls_mem *m, void *out,
                                                        size_t cap, size_t *len);

/** Reads up to @p cap bytes of application data into @p p. BUSY when none has
 *  arrived yet (push more), NOT_FOUND when the peer closed the connection. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_mem_read(struct vouch_atls_mem *m, void *p,
                                                        size_t cap, size_t *got);

/** Encrypts @p len bytes of application data for the peer (then pull).
 *  BUSY before the handshake has completed. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_mem_write(struct vouch_atls_mem *m, const void *p,
                                                         size_t len);

/** Queues close_notify for the peer (then pull). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_mem_close(struct vouch_atls_mem *m);

/** Frees the connection (no close_notify). Accepts NULL. */
VOUCH_API void vouch_atls_mem_free(struct vouch_atls_mem *m);

/**
 * Runs the TLS library's one-time initialisation (configuration, error
 * strings, cipher tables) now rather than at the first context. A process
 * that will later run under a seccomp sandbox (the enclave loader) calls it
 * before the sandbox closes: that first use opens files and makes system
 * calls the sandbox forbids. CRYPTO when the library cannot initialise.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_atls_preload(void);

#ifdef __cplusplus
}
#endif
#endif
