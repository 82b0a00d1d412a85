/*
 * Enclaves, host side: start a signed enclave image, call into it, stop it.
 *
 * In the software backend an enclave is a separate process. The host starts
 * `vouch-enclave-loader`, which verifies the signed image (enclave_image.h),
 * measures it itself, and splits into a platform agent (holds the platform key
 * and seal secret, signs reports for the identity it measured) and the enclave
 * process (no core dumps, not dumpable or ptrace-able by other unprivileged
 * processes, no new privileges, a budgeted heap, then a seccomp allow-list that
 * kills the process on any other system call). The enclave never sees the
 * platform secrets.
 *
 * Calls. The host and the enclave share one memory channel with one slot per
 * enclave thread (the image's thread_count, or fewer with
 * vouch_enclave_config.threads). vouch_enclave_ecall moves a flat byte buffer
 * in and another out; generated stubs (the EDL generator) marshal arguments
 * into them. Up to `threads` host threads may call at once; further callers
 * wait for a free slot. While an ecall is pending the enclave may call back
 * into the host (ocalls), which runs the registered ocall function on the
 * calling host thread. Two modes per call:
 *   - blocking: the enclave's workers sleep on a futex between calls, so an
 *     idle enclave costs no CPU; the calling host thread, which has nothing
 *     else to do, polls for the answer for up to VOUCH_ENCLAVE_BLOCKING_SPIN_NS
 *     before it sleeps too, which saves one wake-up for short calls;
 *   - switchless (VOUCH_CALL_SWITCHLESS): both sides spin for a bounded time
 *     (VOUCH_ENCLAVE_SPIN_NS) before falling back to the futex. Far faster when
 *     a core is free, but spins a CPU while waiting.
 * The enclave copies the input into its own memory before use and the host
 * copies ocall input likewise, so changing shared memory during a call cannot
 * affect the other side.
 *
 * Failure. If the enclave process dies (a seccomp violation, a crash, a kill),
 * or answers out of protocol, every pending and later call returns
 * VOUCH_ERR_ENCLAVE; the host process itself is never affected. When the host
 * exits, the enclave is killed (the agent notices the closed socket and the
 * enclave has PR_SET_PDEATHSIG on the agent). A host that fork()s without exec
 * keeps the enclave alive while any copy of the handle's sockets is open.
 *
 * Where the loader is found: vouch_enclave_config.loader_path, else the
 * environment variable VOUCH_ENCLAVE_LOADER, else `vouch-enclave-loader` in the
 * directory of the running executable (/proc/self/exe).
 *
 * Thread safety: vouch_enclave_ecall may be called from any number of threads
 * at once; vouch_enclave_terminate must not race with calls on the same handle.
 * An ocall function may itself call vouch_enclave_ecall: that call needs a free
 * slot of its own, so if every slot is held by a call waiting in such an ocall,
 * they wait for each other forever (as with nested calls on SGX's TCS).
 */
#ifndef VOUCH_ENCLAVE_H
#define VOUCH_ENCLAVE_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vouch_enclave;
struct vouch_enclave_identity; /* enclave_image.h */

/* Flag for vouch_enclave_ecall and vouch_rt_ocall: wait by spinning first. */
#define VOUCH_CALL_SWITCHLESS 0x1u

/* How long a switchless waiter spins before sleeping on the futex. */
#define VOUCH_ENCLAVE_SPIN_NS 50000u
/* How long a blocking caller polls for the answer before sleeping: about the
 * cost of one or two futex wake-ups of an idle enclave worker on a VM, so a
 * short call is answered without the caller sleeping, and a long call wastes
 * at most that much of the calling thread's CPU. */
#define VOUCH_ENCLAVE_BLOCKING_SPIN_NS 30000u

/* Default per-slot call buffer when vouch_enclave_config.call_bytes is 0: the
 * largest marshalled input or output of one call (including ocalls). */
#define VOUCH_ENCLAVE_DEFAULT_CALL_BYTES (256u * 1024u)
/* Smallest call buffer accepted (larger values are rounded up to pages). */
#define VOUCH_ENCLAVE_MIN_CALL_BYTES 4096u

/*
 * One host function the enclave may call. @p in is a host-private copy of
 * the enclave's marshalled arguments; write at most @p out_cap bytes to
 * @p out and their number to *out_len. A returned error is passed to the
 * enclave as the ocall's result (and no output bytes).
 */
struct vouch_enclave_ocall {
    vouch_err (*fn)(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
};

/* How calls wait, for all calls on the handle. */
enum vouch_enclave_mode {
    VOUCH_ENCLAVE_MODE_PER_CALL = 0,   /* each call's VOUCH_CALL_SWITCHLESS flag decides */
    VOUCH_ENCLAVE_MODE_BLOCKING = 1,   /* every call blocks, whatever its flags */
    VOUCH_ENCLAVE_MODE_SWITCHLESS = 2, /* every call is switchless, whatever its flags */
};

/*
 * Which platform the enclave's evidence (and seal keys) come from. The
 * process, sandbox, channel and calls are the same in both.
 *   SIM: the software TEE: a per-installation platform key signs `sim`
 *        evidence, a platform secret derives seal keys (sim.h, seal.h).
 *   CVM: a confidential VM (AMD SEV-SNP or Intel TDX guest): the agent gets a
 *        hardware report through configfs-tsm (tsm.h) whose report data binds
 *        the enclave identity and the enclave's report data, wrapped in the
 *        envelope of cvm.h; sealing is refused (UNSUPPORTED, see cvm.h).
 *        vouch_enclave_create fails with UNSUPPORTED when tsm_root does not
 *        exist (not a confidential VM, or Linux before 6.7).
 */
enum vouch_enclave_backend {
    VOUCH_ENCLAVE_BACKEND_SIM = 0,
    VOUCH_ENCLAVE_BACKEND_CVM = 1,
};

/*
 * Creation parameters. A zeroed structure means: no ocalls, the default
 * platform directory, the image's thread count, per-call mode, the default
 * call buffer, the loader found as described above, the software backend.
 */
struct vouch_enclave_config {
    const struct vouch_enclave_ocall *ocalls; /* index = ocall number */
    size_t ocall_count;
    /* Platform material directory (sim.h); NULL: $VOUCH_PLATFORM_DIR, else
     * $HOME/.local/share/vouch/platform. */
    const char *platform_dir;
    /* Path of vouch-enclave-loader; NULL: see the top of this file. */
    const char *loader_path;
    /* Enclave threads (= channel slots) to start; 0 or more than the image's
     * signed thread_count means the image's thread_count. */
    unsigned threads;
    enum vouch_enclave_mode mode;
    /* Bytes of one call buffer (either direction); 0: the default. At most
     * VOUCH_MAX_ENCLAVE_CALL_BYTES. The enclave keeps two private copies per
     * thread besides the shared one, outside the heap budget. */
    size_t call_bytes;
    enum vouch_enclave_backend backend;
    /* CVM backend: the configfs-tsm report directory; NULL:
     * VOUCH_TSM_DEFAULT_ROOT (tsm.h). Ignored by the SIM backend, which in
     * turn is the only one that uses platform_dir. */
    const char *tsm_root;
};

/**
 * Starts the enclave image at @p path (a file made by `vouch enclave sign`).
 * Errors: IO when the image or the loader cannot be opened or started,
 * SIGNATURE/PARSE/TRUNCATED/UNSUPPORTED/TOO_LARGE/INVAL when the loader
 * refuses the image (tampered, unsigned, malformed), ENCLAVE when the enclave
 * failed to start (its init hook failed, the .so does not load or lacks the
 * ecall table), INVAL for a bad @p cfg.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_create(const char *path,
                                                         const struct vouch_enclave_config *cfg,
                                                         struct vouch_enclave **out);

/** As vouch_enclave_create, reading the image from @p image_fd (from its
 *  current offset to end of file; the caller keeps ownership of the fd). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_create_fd(int image_fd,
                                                            const struct vouch_enclave_config *cfg,
                                                            struct vouch_enclave **out);

/**
 * Calls trusted function @p fn with @p in_len bytes at @p in; up to
 * @p out_cap bytes of output go to @p out and their number to *out_len.
 * @p flags: 0 or VOUCH_CALL_SWITCHLESS (overridden by the handle's mode).
 * Returns ENCLAVE when the enclave is dead or broke the protocol (it is then
 * killed), TOO_LARGE when @p in_len exceeds the call buffer or the output does
 * not fit in @p out_cap (then *out_len is the size the enclave needed, when
 * it said so, else 0), INVAL for an unknown @p fn, otherwise what the enclave
 * function returned (no output bytes unless VOUCH_OK).
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_enclave_ecall(struct vouch_enclave *e, uint32_t fn,
                                                        unsigned flags, const void *in,
                                                        size_t in_len, void *out, size_t out_cap,
                                                        size_t *out_len);

/** The identity the loader measured and verified (measurement, signer id,
 *  product id, svn, debug), as reported by the loader at start. */
VOUCH_API void vouch_enclave_get_identity(const struct vouch_enclave *e,
                                          struct vouch_enclave_identity *out);

/** Number of enclave threads (channel slots) actually started. */
VOUCH_API unsigned vouch_enclave_threads(const struct vouch_enclave *e);

/** Largest input or output of one call (the negotiated call buffer size). */
VOUCH_API size_t vouch_enclave_call_bytes(const struct vouch_enclave *e);

/** Process id of the enclave process (for diagnostics and tests; the host
 *  never signals it by this number). */
VOUCH_API int vouch_enclave_pid(const struct vouch_enclave *e);

/** True once the enclave has died or been stopped: every call now fails. */
VOUCH_API int vouch_enclave_is_dead(const struct vouch_enclave *e);

/**
 * Stops the enclave (the agent kills it), waits for the loader to exit and
 * frees @p e. Accepts NULL. Must not race with calls on @p e.
 */
VOUCH_API void vouch_enclave_terminate(struct vouch_enclave *e);

#ifdef __cplusplus
}
#endif
#endif
