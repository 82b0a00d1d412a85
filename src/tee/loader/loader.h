/*
 * vouch-enclave-loader internals: the enclave process's runtime state shared
 * between start-up (main.c), the call workers and vouch_rt_* (rt.c), the
 * budgeted heap (heap.c) and the sandbox (sandbox.c).
 */
#ifndef VOUCH_TEE_LOADER_H
#define VOUCH_TEE_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/enclave_rt.h>
#include <vouch/err.h>

#include "tee/enclave_chan.h"

typedef vouch_err (*vouch_rt_init_fn)(void);

/* Everything the enclave process knows after start-up. Written once by the
 * main thread before the workers start, read-only afterwards. */
struct rt_state {
    uint8_t *chan; /* the shared channel mapping */
    size_t chan_len;
    unsigned threads;
    size_t call_bytes;
    size_t stride;
    int agent_fd; /* enclave <-> platform agent */
    int ctl_fd;   /* enclave <-> host */
    const struct vouch_rt_ecall_entry *table;
    size_t count;
    struct vouch_rt_identity id;
};

extern struct rt_state vouch_rt_state;

/* heap.c: the budgeted allocator over one region. */
vouch_err rt_heap_init(size_t budget);

/* rt.c: the worker threads serving the channel slots. */
vouch_err rt_workers_start(size_t stack_size);

/* sandbox.c: the two seccomp filters, loaded on all threads. Stage 1
 * (rt_sandbox_enter_loading) is installed before dlopen runs the enclave's
 * constructors: the final allow-list plus read-only file access, executable
 * mappings of @p exec_fd only, threads and the second filter's set-up.
 * Stage 2 (rt_sandbox_enter) narrows it to the final allow-list and lowers
 * RLIMIT_AS. */
vouch_err rt_sandbox_enter_loading(int exec_fd);
vouch_err rt_sandbox_enter(void);

#endif
