/*
 * Enclaves, enclave side: the runtime an enclave .so is written against.
 *
 * An enclave is a shared object loaded by `vouch-enclave-loader` into the
 * enclave process (see enclave.h). It links nothing of libvouch: the loader
 * exports the vouch_rt_* functions below (it is linked with --export-dynamic)
 * and the .so is built with undefined symbols allowed (cmake/tee.cmake,
 * vouch_add_enclave). Only the types and constants of this header and err.h
 * are shared.
 *
 * What the .so provides (the EDL generator writes these):
 *   const struct vouch_rt_ecall_entry vouch_rt_ecall_table[];
 *   const size_t vouch_rt_ecall_count;
 * and optionally `vouch_err vouch_rt_enclave_init(void)`, run once after the
 * sandbox is closed and before the first ecall; an error stops the enclave
 * and vouch_enclave_create fails with VOUCH_ERR_ENCLAVE.
 *
 * An ecall function gets a private copy of the host's marshalled input
 * (@p in, @p in_len) and writes at most @p out_cap bytes to @p out, setting
 * *out_len. Returning VOUCH_OK with *out_len > out_cap is a protocol error
 * (the host sees VOUCH_ERR_ENCLAVE). Returning VOUCH_ERR_TOO_LARGE with
 * *out_len set to the size needed tells the host how much to offer. Output
 * bytes are copied to the host only on VOUCH_OK. The buffers are private to
 * the thread and valid only during the call; @p out is not zeroed beforehand.
 *
 * The sandbox. Once the loader has started the worker threads it installs a
 * seccomp filter that kills the enclave process on any system call outside a
 * small allow-list (futex, reading and writing the runtime's own sockets,
 * exiting, clocks, sched_yield, getrandom, and what glibc's malloc needs
 * inside the budget backstop). Enclave code cannot open files, create
 * sockets, fork or exec: it talks to the world through ocalls.
 *
 * Memory. The enclave heap is one region of the image's signed heap_size,
 * reserved before the sandbox closes. Enclave code allocates with
 * vouch_rt_malloc and friends, which return NULL when the budget is used up
 * (like oe_malloc, never killing the process). Call buffers (two private
 * copies per thread of the negotiated call size) and thread stacks are
 * outside the heap budget. glibc malloc still works for the runtime's own
 * libraries; in non-sanitizer builds an RLIMIT_AS/RLIMIT_DATA backstop bounds
 * it as well.
 *
 * Thread safety: every function here may be called from any enclave thread.
 */
#ifndef VOUCH_ENCLAVE_RT_H
#define VOUCH_ENCLAVE_RT_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef VOUCH_CALL_SWITCHLESS
/* Same value as in enclave.h: wait by spinning first. */
#define VOUCH_CALL_SWITCHLESS 0x1u
#endif

/* The report data bound into evidence (sim.h VOUCH_SIM_REPORT_DATA_LEN). */
#define VOUCH_RT_REPORT_DATA_LEN 64u
/* Seal keys and key ids (seal.h). */
#define VOUCH_RT_SEAL_KEY_LEN    32u
#define VOUCH_RT_SEAL_KEY_ID_LEN 32u
/* Seal policies (same values as enum vouch_seal_policy in seal.h). */
#define VOUCH_RT_SEAL_POLICY_UNIQUE  1u /* bound to the measurement */
#define VOUCH_RT_SEAL_POLICY_PRODUCT 2u /* bound to signer id + product id */
/* Bytes a sealed blob adds to the plaintext (seal.h VOUCH_SEAL_OVERHEAD). */
#define VOUCH_RT_SEAL_OVERHEAD 76u

/* One trusted function in the .so's ecall table; flags are the EDL's
 * (VOUCH_CALL_SWITCHLESS for transition_using_threads), informational. */
struct vouch_rt_ecall_entry {
    vouch_err (*fn)(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
    unsigned flags;
};

/* The identity of the running enclave (the loader's measurement). */
struct vouch_rt_identity {
    uint8_t measurement[32];
    uint8_t signer_id[32];
    uint16_t product_id;
    uint16_t svn;
    int debug;
};

/**
 * Calls host function @p fn (index into the host's ocall table) with
 * @p in_len bytes at @p in; at most @p out_cap bytes of output come back to
 * @p out, their number to *out_len. Only valid inside an ecall (UNSUPPORTED
 * otherwise). Returns TOO_LARGE when @p in_len or @p out_cap exceeds the call
 * buffer, INVAL for an unknown @p fn (as the host reports it), ENCLAVE when
 * the host answered out of protocol (e.g. more output than @p out_cap),
 * otherwise the host function's result. The host's output is copied to
 * @p out only on VOUCH_OK.
 */
VOUCH_NODISCARD vouch_err vouch_rt_ocall(uint32_t fn, unsigned flags, const void *in, size_t in_len,
                                         void *out, size_t out_cap, size_t *out_len);

/** Allocates from the enclave heap; NULL when the budget is exhausted.
 *  Blocks are 16-byte aligned. */
void *vouch_rt_malloc(size_t n);
/** Zeroed array allocation, overflow-checked; NULL on overflow or exhaustion. */
void *vouch_rt_calloc(size_t count, size_t size);
/** Resizes @p p (NULL: like malloc); on failure @p p is untouched and NULL
 *  is returned. */
void *vouch_rt_realloc(void *p, size_t n);
/** Frees a block from the enclave heap; accepts NULL. */
void vouch_rt_free(void *p);
/** Heap bytes currently handed out (including block overhead) and the budget. */
void vouch_rt_heap_stats(size_t *used, size_t *budget);

/** Fills @p p with @p len bytes from the kernel's CSPRNG (getrandom). */
VOUCH_NODISCARD vouch_err vouch_rt_random(void *p, size_t len);

/** The identity the loader measured for this enclave. */
void vouch_rt_get_identity(struct vouch_rt_identity *out);

/**
 * Asks the platform agent for evidence binding @p report_data to this
 * enclave's identity (sim evidence, sim.h; in the confidential-VM backend a
 * configfs-tsm hardware report in the envelope of cvm.h). *ev is allocated with
 * vouch_rt_malloc (free with vouch_rt_free). NOMEM when the heap cannot hold
 * it, ENCLAVE when the agent is gone, otherwise the agent's error.
 */
VOUCH_NODISCARD vouch_err vouch_rt_get_evidence(const uint8_t report_data[VOUCH_RT_REPORT_DATA_LEN],
                                                uint8_t **ev, size_t *ev_len);

/**
 * Asks the platform agent for the seal key of @p policy, @p key_id and
 * security version @p svn for this enclave (seal.h derivation). POLICY when
 * @p svn is above the enclave's own, INVAL for an unknown policy,
 * UNSUPPORTED in the confidential-VM backend (no platform secret, cvm.h; so
 * vouch_rt_seal and vouch_rt_unseal return UNSUPPORTED there too).
 */
VOUCH_NODISCARD vouch_err vouch_rt_get_seal_key(unsigned policy,
                                                const uint8_t key_id[VOUCH_RT_SEAL_KEY_ID_LEN],
                                                uint16_t svn, uint8_t key[VOUCH_RT_SEAL_KEY_LEN]);

/**
 * Seals @p plain (seal.h blob format, this enclave's svn and backend) under
 * @p policy with optional additional data @p aad. The blob is allocated with
 * vouch_rt_malloc (*blob, *blob_len; free with vouch_rt_free).
 */
VOUCH_NODISCARD vouch_err vouch_rt_seal(unsigned policy, const void *plain, size_t plain_len,
                                        const void *aad, size_t aad_len, uint8_t **blob,
                                        size_t *blob_len);

/**
 * Unseals a blob made by vouch_rt_seal (by this enclave, or for policy
 * PRODUCT by any enclave of the same signer and product with an svn not above
 * this one). The plaintext is allocated with vouch_rt_malloc. SIGNATURE for
 * a tampered blob, wrong identity or wrong aad, POLICY for a blob from a newer
 * svn, MISMATCH for another backend.
 */
VOUCH_NODISCARD vouch_err vouch_rt_unseal(const uint8_t *blob, size_t blob_len, const void *aad,
                                          size_t aad_len, uint8_t **plain, size_t *plain_len);

/* Provided by the enclave .so (see above). */
extern const struct vouch_rt_ecall_entry vouch_rt_ecall_table[];
extern const size_t vouch_rt_ecall_count;
vouch_err vouch_rt_enclave_init(void);

#ifdef __cplusplus
}
#endif
#endif
