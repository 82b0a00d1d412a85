/*
 * The software-backend call channel and start-up protocol shared by the host
 * runtime (src/tee/host.c) and vouch-enclave-loader (src/tee/loader/).
 *
 * Processes and sockets. The host spawns the loader with three descriptors:
 *   fd 3  the signed image (read to end of file),
 *   fd 4  the control socket (SOCK_SEQPACKET): host <-> enclave process,
 *   fd 5  the agent socket (SOCK_SEQPACKET): host <-> platform agent.
 * The agent sends one struct vouch_chan_agent_hello (status, identity it
 * measured, enclave pid, negotiated sizes) and then only watches the socket:
 * end of file means the host is gone or wants the enclave stopped, and the
 * agent SIGKILLs the enclave and exits. The enclave process closes fd 5 and
 * sends one struct vouch_chan_enclave_hello on fd 4 carrying the channel
 * memfd (SCM_RIGHTS); then the host sees end of file on fd 4 exactly when the
 * enclave process is gone.
 *
 * The channel memfd holds `threads` slots of `slot_stride` bytes: a page
 * holding the 64-byte header, then `call_bytes` (whole pages) of data. It is sealed against
 * shrinking and growing by the enclave before it is sent (the host checks) so neither side can make
 * the other fault by truncating it. Every field is read once into a local
 * before it is validated: the other side may change it at any time.
 *
 * Slot states (the futex word):
 *   IDLE or DONE -> (host) ECALL -> (enclave) OCALL -> (host) OCALL_RET ->
 *   ... -> (enclave) DONE. A free slot stays DONE (IDLE only before its first
 *   call): the worker waits for ECALL and ignores everything else. DEAD: set
 *   by the host when the enclave died; a waiting host thread sees it and fails
 *   the call.
 * Each side sets its *_sleep word before sleeping on the futex; the other side
 * wakes it only when that word is set, so calls between two spinning sides
 * make no system call at all.
 */
#ifndef VOUCH_TEE_ENCLAVE_CHAN_H
#define VOUCH_TEE_ENCLAVE_CHAN_H

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define VOUCH_CHAN_FD_IMAGE 3
#define VOUCH_CHAN_FD_CTL   4
#define VOUCH_CHAN_FD_AGENT 5

#define VOUCH_CHAN_MAGIC    0x56434831u /* "VCH1" */
#define VOUCH_CHAN_HDR_LEN  64u
#define VOUCH_CHAN_PAGE     4096u
#define VOUCH_CHAN_DATA_OFF VOUCH_CHAN_PAGE

enum vouch_chan_state {
    VOUCH_CHAN_IDLE = 0,
    VOUCH_CHAN_ECALL = 1,
    VOUCH_CHAN_OCALL = 2,
    VOUCH_CHAN_OCALL_RET = 3,
    VOUCH_CHAN_DONE = 4,
    VOUCH_CHAN_DEAD = 5,
};

/* The shared slot header; data follows at VOUCH_CHAN_DATA_OFF. */
struct vouch_chan_slot {
    uint32_t state;      /* enum vouch_chan_state; futex word */
    uint32_t host_sleep; /* 1 while a host thread sleeps on state */
    uint32_t encl_sleep; /* 1 while the enclave worker sleeps on state */
    uint32_t fn;         /* ecall or ocall number */
    uint32_t flags;      /* VOUCH_CALL_SWITCHLESS */
    uint32_t status;     /* vouch_err of the answer */
    uint64_t in_len;     /* request bytes in data */
    uint64_t out_cap;    /* room the requester offers */
    uint64_t out_len;    /* answer bytes in data (or size needed with TOO_LARGE) */
    uint8_t pad[VOUCH_CHAN_HDR_LEN - 48];
};
_Static_assert(sizeof(struct vouch_chan_slot) == VOUCH_CHAN_HDR_LEN, "slot header is 64 bytes");

/* Identity as the agent sends it (enclave_image.h meaning). */
struct vouch_chan_identity {
    uint8_t measurement[32];
    uint8_t signer_id[32];
    uint16_t product_id;
    uint16_t svn;
    uint8_t debug;
    uint8_t pad[3];
};

struct vouch_chan_agent_hello {
    uint32_t magic;
    uint32_t status; /* vouch_err: why the image or platform was refused */
    struct vouch_chan_identity id;
    int32_t enclave_pid;
    uint32_t threads;
    uint64_t call_bytes;
    char detail[256]; /* NUL-terminated reason on failure */
};

struct vouch_chan_enclave_hello {
    uint32_t magic;
    uint32_t status; /* vouch_err of start-up (init hook, dlopen, ...) */
    uint32_t threads;
    uint32_t pad;
    uint64_t call_bytes;
    uint64_t slot_stride;
};

/* Enclave <-> agent requests (SOCK_SEQPACKET, one message each way). */
enum vouch_chan_agent_op {
    VOUCH_CHAN_AGENT_REPORT = 1,   /* + report_data[64] */
    VOUCH_CHAN_AGENT_SEAL_KEY = 2, /* + u32 policy, u32 svn, key_id[32] */
};

struct vouch_chan_agent_req {
    uint32_t op;
    uint32_t policy;
    uint32_t svn;
    uint32_t pad;
    uint8_t data[64]; /* report data, or the key id in the first 32 bytes */
};

/* Response: this header, then `len` bytes (evidence or a 32-byte key). */
struct vouch_chan_agent_resp {
    uint32_t status;
    uint32_t len;
};

/* A call buffer size rounded up to whole pages (no overflow: callers bound
 * @p n by VOUCH_MAX_ENCLAVE_CALL_BYTES first). */
static inline uint64_t vouch_chan_round(uint64_t n)
{
    return (n + VOUCH_CHAN_PAGE - 1u) & ~(uint64_t)(VOUCH_CHAN_PAGE - 1u);
}

/* Bytes of one slot: the header page and the data. */
static inline uint64_t vouch_chan_stride(uint64_t call_bytes)
{
    return VOUCH_CHAN_DATA_OFF + call_bytes;
}

/* ---- waiting, shared by both ends of the channel ---- */

/* One step of a bounded spin. After the first few microseconds without an
 * answer the other side is probably not running (both sides on one core, or
 * a loaded machine): yield now and then so that it can. */
static inline void vouch_chan_spin_pause(unsigned i)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i > 2048u && (i & 63u) == 0)
        sched_yield();
}

static inline uint64_t vouch_chan_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Shared (not FUTEX_PRIVATE) futexes: the word lives in a memfd mapped by two
 * processes. EINTR/EAGAIN just make the caller re-check. */
static inline void vouch_chan_futex_wait(uint32_t *addr, uint32_t val)
{
    (void)syscall(SYS_futex, addr, FUTEX_WAIT, val, NULL, NULL, 0);
}

static inline void vouch_chan_futex_wake(uint32_t *addr)
{
    (void)syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

#endif
