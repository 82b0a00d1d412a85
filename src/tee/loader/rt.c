/*
 * The enclave side of the call channel (protocol in src/tee/enclave_chan.h)
 * and the vouch_rt_* services exported to the enclave .so.
 *
 * One worker thread per slot. A worker copies the host's request into its
 * private buffer (the host may keep writing shared memory; only the private
 * copy is ever given to enclave code), runs the ecall, and copies the output
 * back. After a switchless call the worker spins on its slot for
 * VOUCH_ENCLAVE_SPIN_NS before going back to sleep on the futex; after a
 * blocking call it sleeps at once and leaves the CPU to the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <vouch/enclave.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/seal.h>

#include "tee/loader/loader.h"

struct rt_state vouch_rt_state;

struct worker {
    unsigned idx;
    struct vouch_chan_slot *slot;
    uint8_t *data;    /* shared */
    uint8_t *in_priv; /* private copies */
    uint8_t *out_priv;
    bool spin; /* the current ecall is switchless */
};

static __thread struct worker *cur_worker;

static void post_to_host(struct vouch_chan_slot *s, uint32_t state)
{
    __atomic_store_n(&s->state, state, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->host_sleep, __ATOMIC_SEQ_CST))
        vouch_chan_futex_wake(&s->state);
}

/* Waits while the slot is in state @p while_state (the host's turn); returns
 * the first other state seen. */
static uint32_t wait_host(struct vouch_chan_slot *s, uint32_t while_state, bool spin)
{
    uint32_t st;
    if (spin) {
        uint64_t t0 = vouch_chan_now_ns();
        for (unsigned i = 1;; i++) {
            st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
            if (st != while_state)
                return st;
            vouch_chan_spin_pause(i);
            if ((i & 255u) == 0 && vouch_chan_now_ns() - t0 > VOUCH_ENCLAVE_SPIN_NS)
                break;
        }
    }
    for (;;) {
        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        if (st != while_state)
            return st;
        __atomic_store_n(&s->encl_sleep, 1u, __ATOMIC_SEQ_CST);
        st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
        if (st == while_state)
            vouch_chan_futex_wait(&s->state, st);
        __atomic_store_n(&s->encl_sleep, 0u, __ATOMIC_RELAXED);
    }
}

/* Waits for the next ecall: anything but ECALL is the host's business (IDLE,
 * DONE not yet collected, or garbage a hostile host wrote). */
static void wait_ecall(struct vouch_chan_slot *s, bool spin)
{
    uint64_t t0 = spin ? vouch_chan_now_ns() : 0;
    for (unsigned i = 1; spin; i++) {
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == VOUCH_CHAN_ECALL)
            return;
        vouch_chan_spin_pause(i);
        if ((i & 255u) == 0 && vouch_chan_now_ns() - t0 > VOUCH_ENCLAVE_SPIN_NS)
            break;
    }
    for (;;) {
        uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        if (st == VOUCH_CHAN_ECALL)
            return;
        __atomic_store_n(&s->encl_sleep, 1u, __ATOMIC_SEQ_CST);
        st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
        if (st != VOUCH_CHAN_ECALL)
            vouch_chan_futex_wait(&s->state, st);
        __atomic_store_n(&s->encl_sleep, 0u, __ATOMIC_RELAXED);
    }
}

static void serve_one(struct worker *w)
{
    struct rt_state *rs = &vouch_rt_state;
    struct vouch_chan_slot *s = w->slot;
    /* Each shared field is read exactly once, then checked. */
    uint32_t fn = __atomic_load_n(&s->fn, __ATOMIC_RELAXED);
    uint32_t flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
    uint64_t in_len = __atomic_load_n(&s->in_len, __ATOMIC_RELAXED);
    uint64_t cap = __atomic_load_n(&s->out_cap, __ATOMIC_RELAXED);
    size_t olen = 0;
    vouch_err st;

    w->spin = (flags & VOUCH_CALL_SWITCHLESS) != 0;
    if (in_len > rs->call_bytes || cap > rs->call_bytes) {
        st = VOUCH_ERR_TOO_LARGE;
        goto answer;
    }
    if (fn >= rs->count || !rs->table[fn].fn) {
        st = VOUCH_ERR_INVAL;
        goto answer;
    }
    memcpy(w->in_priv, w->data, (size_t)in_len);
    st = rs->table[fn].fn(w->in_priv, (size_t)in_len, w->out_priv, (size_t)cap, &olen);
    if ((unsigned)st >= VOUCH_ERR__COUNT)
        st = VOUCH_ERR_INTERNAL;
    if (st == VOUCH_OK && olen > cap) {
        /* The stub broke the contract: report it so the host stops us. */
        st = (vouch_err)VOUCH_ERR__COUNT;
        olen = 0;
    }
    if (st == VOUCH_OK)
        memcpy(w->data, w->out_priv, olen);
    else if (st != VOUCH_ERR_TOO_LARGE)
        olen = 0;
answer:
    __atomic_store_n(&s->status, (uint32_t)st, __ATOMIC_RELAXED);
    __atomic_store_n(&s->out_len, (uint64_t)olen, __ATOMIC_RELAXED);
    post_to_host(s, VOUCH_CHAN_DONE);
}

/* Workers that have reached their loop. The final sandbox (stage 2) must not
 * close while a thread is still in its start-up code (glibc, the sanitizer
 * runtime), which makes system calls outside the final allow-list; the
 * workers start under stage 1 (sandbox.c), which allows them. */
static uint32_t workers_ready;

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    cur_worker = w;
    __atomic_add_fetch(&workers_ready, 1u, __ATOMIC_SEQ_CST);
    vouch_chan_futex_wake(&workers_ready);
    for (;;) {
        wait_ecall(w->slot, w->spin);
        serve_one(w);
    }
    return NULL;
}

vouch_err rt_workers_start(size_t stack_size)
{
    struct rt_state *rs = &vouch_rt_state;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return VOUCH_ERR_NOMEM;
    vouch_err err = VOUCH_ERR_NOMEM;
    if (pthread_attr_setstacksize(&attr, stack_size) != 0 ||
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0)
        goto out;
    for (unsigned i = 0; i < rs->threads; i++) {
        /* Worker state and private buffers: allocated now, before the
         * final sandbox, outside the heap budget. */
        /* The worker's state in its own page, then the page-aligned buffers
         * (stubs may read them as aligned structures). */
        _Static_assert(sizeof(struct worker) <= VOUCH_CHAN_PAGE, "worker state fits a page");
        struct worker *w = mmap(NULL, VOUCH_CHAN_PAGE + 2 * rs->call_bytes, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (w == MAP_FAILED)
            goto out;
        w->idx = i;
        w->slot = (struct vouch_chan_slot *)(void *)(rs->chan + (size_t)i * rs->stride);
        w->data = rs->chan + (size_t)i * rs->stride + VOUCH_CHAN_DATA_OFF;
        w->in_priv = (uint8_t *)w + VOUCH_CHAN_PAGE;
        w->out_priv = w->in_priv + rs->call_bytes;
        w->spin = false;
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, w) != 0)
            goto out;
    }
    uint32_t n;
    while ((n = __atomic_load_n(&workers_ready, __ATOMIC_SEQ_CST)) < rs->threads)
        vouch_chan_futex_wait(&workers_ready, n);
    err = VOUCH_OK;
out:
    pthread_attr_destroy(&attr);
    return err;
}

vouch_err vouch_rt_ocall(uint32_t fn, unsigned flags, const void *in, size_t in_len, void *out,
                         size_t out_cap, size_t *out_len)
{
    struct worker *w = cur_worker;
    struct rt_state *rs = &vouch_rt_state;
    if (!out_len || (!in && in_len) || (!out && out_cap))
        return VOUCH_ERR_INVAL;
    *out_len = 0;
    if (!w)
        return VOUCH_ERR_UNSUPPORTED;
    if (in_len > rs->call_bytes || out_cap > rs->call_bytes)
        return VOUCH_ERR_TOO_LARGE;
    struct vouch_chan_slot *s = w->slot;
    bool spin = (flags & VOUCH_CALL_SWITCHLESS) != 0;
    if (in_len)
        memcpy(w->data, in, in_len);
    __atomic_store_n(&s->fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&s->flags, spin ? VOUCH_CALL_SWITCHLESS : 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&s->in_len, (uint64_t)in_len, __ATOMIC_RELAXED);
    __atomic_store_n(&s->out_cap, (uint64_t)out_cap, __ATOMIC_RELAXED);
    post_to_host(s, VOUCH_CHAN_OCALL);
    uint32_t st = wait_host(s, VOUCH_CHAN_OCALL, spin);
    if (st != VOUCH_CHAN_OCALL_RET)
        return VOUCH_ERR_ENCLAVE;
    uint32_t status = __atomic_load_n(&s->status, __ATOMIC_RELAXED);
    uint64_t olen = __atomic_load_n(&s->out_len, __ATOMIC_RELAXED);
    if (status >= (uint32_t)VOUCH_ERR__COUNT)
        return VOUCH_ERR_ENCLAVE;
    if (status == VOUCH_OK) {
        if (olen > out_cap)
            return VOUCH_ERR_ENCLAVE;
        if (olen)
            memcpy(out, w->data, (size_t)olen);
        *out_len = (size_t)olen;
    } else if (status == VOUCH_ERR_TOO_LARGE) {
        *out_len = olen <= VOUCH_MAX_ENCLAVE_CALL_BYTES ? (size_t)olen : 0;
    }
    return (vouch_err)status;
}

vouch_err vouch_rt_random(void *p, size_t len)
{
    uint8_t *b = p;
    if (!p && len)
        return VOUCH_ERR_INVAL;
    while (len) {
        ssize_t n = getrandom(b, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return VOUCH_ERR_CRYPTO;
        }
        b += n;
        len -= (size_t)n;
    }
    return VOUCH_OK;
}

void vouch_rt_get_identity(struct vouch_rt_identity *out)
{
    *out = vouch_rt_state.id;
}

/* ---- platform agent requests ---- */

static pthread_mutex_t agent_lock = PTHREAD_MUTEX_INITIALIZER;
/* One response at a time (under agent_lock): evidence is bounded. */
static uint8_t agent_buf[sizeof(struct vouch_chan_agent_resp) + VOUCH_MAX_EVIDENCE_SIZE];

/* Sends @p req and receives the answer into agent_buf; returns the agent's
 * status and the payload length. Caller holds agent_lock. */
static vouch_err agent_call(const struct vouch_chan_agent_req *req, size_t *len)
{
    int fd = vouch_rt_state.agent_fd;
    ssize_t r;
    do
        r = send(fd, req, sizeof *req, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r != (ssize_t)sizeof *req)
        return VOUCH_ERR_ENCLAVE;
    do
        r = recv(fd, agent_buf, sizeof agent_buf, 0);
    while (r < 0 && errno == EINTR);
    struct vouch_chan_agent_resp h;
    if (r < (ssize_t)sizeof h)
        return VOUCH_ERR_ENCLAVE;
    memcpy(&h, agent_buf, sizeof h);
    if (h.len != (size_t)r - sizeof h || h.status >= (uint32_t)VOUCH_ERR__COUNT)
        return VOUCH_ERR_ENCLAVE;
    *len = h.len;
    return (vouch_err)h.status;
}

vouch_err vouch_rt_get_evidence(const uint8_t report_data[VOUCH_RT_REPORT_DATA_LEN], uint8_t **ev,
                                size_t *ev_len)
{
    if (!report_data || !ev || !ev_len)
        return VOUCH_ERR_INVAL;
    *ev = NULL;
    *ev_len = 0;
    struct vouch_chan_agent_req req = {.op = VOUCH_CHAN_AGENT_REPORT};
    memcpy(req.data, report_data, VOUCH_RT_REPORT_DATA_LEN);
    size_t len = 0;
    pthread_mutex_lock(&agent_lock);
    vouch_err err = agent_call(&req, &len);
    if (err == VOUCH_OK && len == 0)
        err = VOUCH_ERR_ENCLAVE;
    if (err == VOUCH_OK) {
        uint8_t *p = vouch_rt_malloc(len);
        if (!p) {
            err = VOUCH_ERR_NOMEM;
        } else {
            memcpy(p, agent_buf + sizeof(struct vouch_chan_agent_resp), len);
            *ev = p;
            *ev_len = len;
        }
    }
    pthread_mutex_unlock(&agent_lock);
    return err;
}

vouch_err vouch_rt_get_seal_key(unsigned policy, const uint8_t key_id[VOUCH_RT_SEAL_KEY_ID_LEN],
                                uint16_t svn, uint8_t key[VOUCH_RT_SEAL_KEY_LEN])
{
    if (!key_id || !key)
        return VOUCH_ERR_INVAL;
    struct vouch_chan_agent_req req = {
        .op = VOUCH_CHAN_AGENT_SEAL_KEY, .policy = policy, .svn = svn};
    memcpy(req.data, key_id, VOUCH_RT_SEAL_KEY_ID_LEN);
    size_t len = 0;
    pthread_mutex_lock(&agent_lock);
    vouch_err err = agent_call(&req, &len);
    if (err == VOUCH_OK && len != VOUCH_RT_SEAL_KEY_LEN)
        err = VOUCH_ERR_ENCLAVE;
    if (err == VOUCH_OK)
        memcpy(key, agent_buf + sizeof(struct vouch_chan_agent_resp), VOUCH_RT_SEAL_KEY_LEN);
    vouch_wipe(agent_buf, sizeof(struct vouch_chan_agent_resp) + VOUCH_RT_SEAL_KEY_LEN);
    pthread_mutex_unlock(&agent_lock);
    return err;
}

static vouch_err seal_key_cb(void *ctx, const struct vouch_seal_key_request *req,
                             uint8_t key[VOUCH_SEAL_KEY_LEN])
{
    (void)ctx;
    if (req->backend != VOUCH_TEE_BACKEND_SIM)
        return VOUCH_ERR_MISMATCH;
    return vouch_rt_get_seal_key((unsigned)req->policy, req->key_id, req->svn, key);
}

vouch_err vouch_rt_seal(unsigned policy, const void *plain, size_t plain_len, const void *aad,
                        size_t aad_len, uint8_t **blob, size_t *blob_len)
{
    if (!blob || !blob_len || (!plain && plain_len) || (!aad && aad_len))
        return VOUCH_ERR_INVAL;
    *blob = NULL;
    *blob_len = 0;
    if (policy != VOUCH_SEAL_POLICY_UNIQUE && policy != VOUCH_SEAL_POLICY_PRODUCT)
        return VOUCH_ERR_INVAL;
    size_t cap;
    vouch_err err = vouch_seal_blob_len(plain_len, &cap);
    if (err != VOUCH_OK)
        return err;
    uint8_t *out = vouch_rt_malloc(cap);
    if (!out)
        return VOUCH_ERR_NOMEM;
    size_t n = 0;
    err = vouch_seal(seal_key_cb, NULL, (enum vouch_seal_policy)policy, VOUCH_TEE_BACKEND_SIM,
                     vouch_rt_state.id.svn, plain, plain_len, aad, aad_len, out, cap, &n);
    if (err != VOUCH_OK) {
        vouch_rt_free(out);
        return err;
    }
    *blob = out;
    *blob_len = n;
    return VOUCH_OK;
}

vouch_err vouch_rt_unseal(const uint8_t *blob, size_t blob_len, const void *aad, size_t aad_len,
                          uint8_t **plain, size_t *plain_len)
{
    if (!blob || !plain || !plain_len || (!aad && aad_len))
        return VOUCH_ERR_INVAL;
    *plain = NULL;
    *plain_len = 0;
    struct vouch_seal_header h;
    vouch_err err = vouch_seal_parse(blob, blob_len, &h);
    if (err != VOUCH_OK)
        return err;
    /* At least one byte so an empty secret still has a distinct pointer. */
    uint8_t *out = vouch_rt_malloc(h.ciphertext_len ? h.ciphertext_len : 1u);
    if (!out)
        return VOUCH_ERR_NOMEM;
    size_t n = 0;
    err = vouch_unseal(seal_key_cb, NULL, VOUCH_TEE_BACKEND_SIM, vouch_rt_state.id.svn, blob,
                       blob_len, aad, aad_len, out, h.ciphertext_len, &n);
    if (err != VOUCH_OK) {
        vouch_rt_free(out);
        return err;
    }
    *plain = out;
    *plain_len = n;
    return VOUCH_OK;
}
