/*
 * Host side of the software enclave backend: starting vouch-enclave-loader,
 * the shared-memory call channel, ocall dispatch and enclave death. The
 * protocol is described in enclave_chan.h; the enclave is untrusted here just
 * as the host is untrusted in the loader: every value read from the channel
 * is read once and checked before use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/tsm.h>

#include "tee/enclave_chan.h"

extern char **environ;

struct host_slot {
    int busy;         /* host-private: a calling thread owns the slot */
    uint8_t *in_priv; /* host-private copies for ocalls, allocated on first use */
    uint8_t *out_priv;
};

struct vouch_enclave {
    int ctl_fd;   /* host <-> enclave; EOF when the enclave process is gone */
    int agent_fd; /* host <-> platform agent; closing it stops the enclave */
    int stop_fd;  /* eventfd: tells the monitor thread to exit */
    pid_t loader_pid;
    int enclave_pid;
    uint8_t *map;
    size_t map_len;
    unsigned threads;
    size_t call_bytes;
    size_t stride;
    enum vouch_enclave_mode mode;
    struct vouch_enclave_ocall *ocalls;
    size_t ocall_count;
    struct vouch_enclave_identity id;
    int dead;
    unsigned waiters; /* threads waiting for a free slot */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct host_slot *slots;
    pthread_t monitor;
    bool monitor_started;
};

static struct vouch_chan_slot *slot_hdr(struct vouch_enclave *e, unsigned i)
{
    return (struct vouch_chan_slot *)(void *)(e->map + (size_t)i * e->stride);
}

static uint8_t *slot_data(struct vouch_enclave *e, unsigned i)
{
    return e->map + (size_t)i * e->stride + VOUCH_CHAN_DATA_OFF;
}

static bool is_dead(const struct vouch_enclave *e)
{
    return __atomic_load_n(&e->dead, __ATOMIC_SEQ_CST) != 0;
}

/* Marks the enclave dead, wakes every waiting caller and asks the agent to
 * kill the enclave (it may be alive but out of protocol). Idempotent. */
static void mark_dead(struct vouch_enclave *e)
{
    __atomic_store_n(&e->dead, 1, __ATOMIC_SEQ_CST);
    (void)shutdown(e->agent_fd, SHUT_RDWR);
    if (e->map) {
        for (unsigned i = 0; i < e->threads; i++) {
            struct vouch_chan_slot *s = slot_hdr(e, i);
            __atomic_store_n(&s->state, (uint32_t)VOUCH_CHAN_DEAD, __ATOMIC_SEQ_CST);
            vouch_chan_futex_wake(&s->state);
        }
    }
    pthread_mutex_lock(&e->lock);
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

static void *monitor_main(void *arg)
{
    struct vouch_enclave *e = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = e->ctl_fd, .events = POLLIN},
                              {.fd = e->stop_fd, .events = POLLIN}};
        int n = poll(p, 2, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            return NULL;
        if (p[0].revents) {
            /* The enclave sends nothing after its hello: data is out of
             * protocol, end of file is its death. Either way it is over. */
            uint8_t b;
            ssize_t r = recv(e->ctl_fd, &b, 1, MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r != 0)
                vouch_log_warn("enclave: unexpected control message, stopping it");
            break;
        }
    }
    mark_dead(e);
    return NULL;
}

/* A protocol violation by the enclave: log it and stop the enclave. */
static vouch_err violation(struct vouch_enclave *e, const char *what)
{
    vouch_log_warn("enclave broke the call protocol: %s", what);
    mark_dead(e);
    return VOUCH_ERR_ENCLAVE;
}

static int try_acquire(struct vouch_enclave *e)
{
    for (unsigned i = 0; i < e->threads; i++) {
        int expect = 0;
        if (__atomic_compare_exchange_n(&e->slots[i].busy, &expect, 1, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            return (int)i;
    }
    return -1;
}

static int slot_acquire(struct vouch_enclave *e)
{
    int i = try_acquire(e);
    if (i >= 0)
        return i;
    pthread_mutex_lock(&e->lock);
    __atomic_add_fetch(&e->waiters, 1, __ATOMIC_SEQ_CST);
    while ((i = try_acquire(e)) < 0 && !is_dead(e))
        pthread_cond_wait(&e->cond, &e->lock);
    __atomic_sub_fetch(&e->waiters, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&e->lock);
    if (i >= 0 && is_dead(e)) {
        __atomic_store_n(&e->slots[i].busy, 0, __ATOMIC_SEQ_CST);
        i = -1;
    }
    return i;
}

static void slot_release(struct vouch_enclave *e, int i)
{
    __atomic_store_n(&e->slots[i].busy, 0, __ATOMIC_SEQ_CST);
    /* Paired with the waiter's increment before its last try_acquire: either
     * it sees the slot free or we see it waiting. */
    if (__atomic_load_n(&e->waiters, __ATOMIC_SEQ_CST) != 0) {
        pthread_mutex_lock(&e->lock);
        pthread_cond_signal(&e->cond);
        pthread_mutex_unlock(&e->lock);
    }
}

static bool enclave_turn(uint32_t st)
{
    return st == VOUCH_CHAN_ECALL || st == VOUCH_CHAN_OCALL_RET;
}

/* Waits until the enclave has answered (DONE or OCALL) or died; returns the
 * state seen. Polls first: up to VOUCH_ENCLAVE_SPIN_NS (switchless) or
 * VOUCH_ENCLAVE_BLOCKING_SPIN_NS (blocking). */
static uint32_t host_wait(struct vouch_enclave *e, struct vouch_chan_slot *s, bool spin)
{
    uint32_t st;
    /* Both modes poll first; switchless longer. In blocking mode the enclave
     * side still sleeps between calls, and this caller is waiting anyway. */
    uint64_t limit = spin ? VOUCH_ENCLAVE_SPIN_NS : VOUCH_ENCLAVE_BLOCKING_SPIN_NS;
    uint64_t t0 = vouch_chan_now_ns();
    for (unsigned i = 1;; i++) {
        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        if (!enclave_turn(st))
            return st;
        vouch_chan_spin_pause(i);
        if ((i & 63u) == 0) {
            if (is_dead(e))
                return VOUCH_CHAN_DEAD;
            if (vouch_chan_now_ns() - t0 > limit)
                break;
        }
    }
    for (;;) {
        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        if (!enclave_turn(st))
            return st;
        if (is_dead(e))
            return VOUCH_CHAN_DEAD;
        __atomic_store_n(&s->host_sleep, 1u, __ATOMIC_SEQ_CST);
        st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
        if (enclave_turn(st))
            vouch_chan_futex_wait(&s->state, st);
        __atomic_store_n(&s->host_sleep, 0u, __ATOMIC_RELAXED);
    }
}

static void post_to_enclave(struct vouch_chan_slot *s, uint32_t state)
{
    __atomic_store_n(&s->state, state, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->encl_sleep, __ATOMIC_SEQ_CST))
        vouch_chan_futex_wake(&s->state);
}

/* Runs one ocall the enclave posted in slot @p i and posts the answer. */
static vouch_err handle_ocall(struct vouch_enclave *e, int i)
{
    struct vouch_chan_slot *s = slot_hdr(e, (unsigned)i);
    struct host_slot *hs = &e->slots[i];
    uint8_t *data = slot_data(e, (unsigned)i);
    uint32_t fn = __atomic_load_n(&s->fn, __ATOMIC_RELAXED);
    uint64_t in_len = __atomic_load_n(&s->in_len, __ATOMIC_RELAXED);
    uint64_t cap = __atomic_load_n(&s->out_cap, __ATOMIC_RELAXED);
    vouch_err st;
    size_t olen = 0;

    if (in_len > e->call_bytes || cap > e->call_bytes)
        return violation(e, "ocall sizes beyond the call buffer");
    if (fn >= e->ocall_count || e->ocalls[fn].fn == NULL) {
        st = VOUCH_ERR_INVAL;
        goto answer;
    }
    if (!hs->in_priv) {
        hs->in_priv = vouch_malloc(e->call_bytes);
        hs->out_priv = vouch_malloc(e->call_bytes);
        if (!hs->in_priv || !hs->out_priv) {
            VOUCH_FREE(hs->in_priv);
            VOUCH_FREE(hs->out_priv);
            st = VOUCH_ERR_NOMEM;
            goto answer;
        }
    }
    /* A private copy: the enclave may rewrite shared memory while we run. */
    memcpy(hs->in_priv, data, (size_t)in_len);
    st = e->ocalls[fn].fn(hs->in_priv, (size_t)in_len, hs->out_priv, (size_t)cap, &olen);
    if (st == VOUCH_OK && olen > cap) {
        vouch_log_error("enclave: ocall %u returned %zu bytes for a %llu-byte buffer", fn, olen,
                        (unsigned long long)cap);
        st = VOUCH_ERR_INTERNAL;
    }
    if ((unsigned)st >= VOUCH_ERR__COUNT)
        st = VOUCH_ERR_INTERNAL;
    if (st == VOUCH_OK)
        memcpy(data, hs->out_priv, olen);
    else if (st != VOUCH_ERR_TOO_LARGE)
        olen = 0;
answer:
    __atomic_store_n(&s->status, (uint32_t)st, __ATOMIC_RELAXED);
    __atomic_store_n(&s->out_len, (uint64_t)olen, __ATOMIC_RELAXED);
    post_to_enclave(s, VOUCH_CHAN_OCALL_RET);
    return VOUCH_OK;
}

vouch_err vouch_enclave_ecall(struct vouch_enclave *e, uint32_t fn, unsigned flags, const void *in,
                              size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    vouch_err err = VOUCH_ERR_INVAL;
    int i = -1;

    if (!e || (!in && in_len) || (!out && out_cap) || !out_len)
        return VOUCH_ERR_INVAL;
    *out_len = 0;
    if (is_dead(e))
        return VOUCH_ERR_ENCLAVE;
    if (in_len > e->call_bytes)
        return VOUCH_ERR_TOO_LARGE;
    if (out_cap > e->call_bytes)
        out_cap = e->call_bytes;
    bool spin = e->mode == VOUCH_ENCLAVE_MODE_SWITCHLESS ||
                (e->mode == VOUCH_ENCLAVE_MODE_PER_CALL && (flags & VOUCH_CALL_SWITCHLESS));

    i = slot_acquire(e);
    if (i < 0)
        return VOUCH_ERR_ENCLAVE;
    struct vouch_chan_slot *s = slot_hdr(e, (unsigned)i);
    uint8_t *data = slot_data(e, (unsigned)i);

    if (in_len)
        memcpy(data, in, in_len);
    __atomic_store_n(&s->fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&s->flags, spin ? VOUCH_CALL_SWITCHLESS : 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&s->in_len, (uint64_t)in_len, __ATOMIC_RELAXED);
    __atomic_store_n(&s->out_cap, (uint64_t)out_cap, __ATOMIC_RELAXED);
    __atomic_store_n(&s->out_len, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&s->status, 0u, __ATOMIC_RELAXED);
    post_to_enclave(s, VOUCH_CHAN_ECALL);

    for (;;) {
        uint32_t st = host_wait(e, s, spin);
        if (st == VOUCH_CHAN_DONE)
            break;
        if (st == VOUCH_CHAN_OCALL) {
            err = handle_ocall(e, i);
            if (err != VOUCH_OK)
                goto out;
            continue;
        }
        if (st == VOUCH_CHAN_DEAD || is_dead(e))
            err = VOUCH_ERR_ENCLAVE;
        else
            err = violation(e, "unexpected slot state");
        goto out;
    }

    uint32_t status = __atomic_load_n(&s->status, __ATOMIC_RELAXED);
    uint64_t olen = __atomic_load_n(&s->out_len, __ATOMIC_RELAXED);
    if (status >= (uint32_t)VOUCH_ERR__COUNT) {
        err = violation(e, "unknown status");
        goto out;
    }
    err = (vouch_err)status;
    if (err == VOUCH_OK) {
        if (olen > out_cap) {
            err = violation(e, "more output than offered");
            goto out;
        }
        if (olen)
            memcpy(out, data, (size_t)olen);
        *out_len = (size_t)olen;
    } else if (err == VOUCH_ERR_TOO_LARGE) {
        /* The size the enclave says it needs: a hint, bounded. */
        *out_len = olen <= VOUCH_MAX_ENCLAVE_CALL_BYTES ? (size_t)olen : 0;
    }
    /* The slot stays DONE until the next request: writing IDLE would cost
     * the spinning worker one more cache-line transfer per call. */
out:
    slot_release(e, i);
    return err;
}

/* ---- creation ---- */

static vouch_err loader_path(const struct vouch_enclave_config *cfg, char **out)
{
    const char *p = cfg->loader_path;
    if (!p || !*p)
        p = getenv("VOUCH_ENCLAVE_LOADER");
    if (p && *p) {
        *out = vouch_strdup(p);
        return *out ? VOUCH_OK : VOUCH_ERR_NOMEM;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return VOUCH_ERR_IO;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return VOUCH_ERR_IO;
    slash[1] = '\0';
    size_t len = strlen(exe) + sizeof "vouch-enclave-loader";
    char *r = vouch_malloc(len);
    if (!r)
        return VOUCH_ERR_NOMEM;
    snprintf(r, len, "%svouch-enclave-loader", exe);
    *out = r;
    return VOUCH_OK;
}

static vouch_err platform_dir(const struct vouch_enclave_config *cfg, char **out)
{
    const char *p = cfg->platform_dir;
    if (!p || !*p)
        p = getenv("VOUCH_PLATFORM_DIR");
    if (p && *p) {
        *out = vouch_strdup(p);
        return *out ? VOUCH_OK : VOUCH_ERR_NOMEM;
    }
    const char *home = getenv("HOME");
    if (!home || !*home)
        return VOUCH_ERR_INVAL;
    size_t len = strlen(home) + sizeof "/.local/share/vouch/platform";
    char *r = vouch_malloc(len);
    if (!r)
        return VOUCH_ERR_NOMEM;
    snprintf(r, len, "%s/.local/share/vouch/platform", home);
    *out = r;
    return VOUCH_OK;
}

/* Receives exactly one message of @p len bytes (SOCK_SEQPACKET), and the
 * descriptor passed with it when @p fd_out is not NULL. */
static vouch_err recv_msg(int sock, void *buf, size_t len, int *fd_out)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd_out) {
        *fd_out = -1;
        m.msg_control = cm.b;
        m.msg_controllen = sizeof cm.b;
    }
    ssize_t r;
    do
        r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (fd_out && m.msg_controllen >= CMSG_LEN(sizeof(int))) {
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(fd_out, CMSG_DATA(c), sizeof(int));
    }
    if (r <= 0)
        return VOUCH_ERR_ENCLAVE;
    if ((size_t)r != len || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
        return VOUCH_ERR_ENCLAVE;
    return VOUCH_OK;
}

static int dup_high(int fd)
{
    return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* @p tsm_root non-NULL selects the confidential-VM backend (then @p pdir is
 * unused). */
static vouch_err spawn_loader(struct vouch_enclave *e, int image_fd, const char *loader,
                              const char *pdir, const char *tsm_root, unsigned threads,
                              size_t call_bytes)
{
    vouch_err err = VOUCH_ERR_IO;
    int ctl[2] = {-1, -1}, ag[2] = {-1, -1};
    int img = -1, c1 = -1, a1 = -1;
    char threads_s[16], bytes_s[32];
    posix_spawn_file_actions_t fa;
    bool fa_init = false;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) != 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ag) != 0)
        goto out;
    /* Move the child's ends above the fixed numbers so that dup2 onto 3..5
     * never meets its own source (which would keep FD_CLOEXEC set). */
    img = dup_high(image_fd);
    c1 = dup_high(ctl[1]);
    a1 = dup_high(ag[1]);
    if (img < 0 || c1 < 0 || a1 < 0)
        goto out;
    snprintf(threads_s, sizeof threads_s, "%u", threads);
    snprintf(bytes_s, sizeof bytes_s, "%zu", call_bytes);
    if (posix_spawn_file_actions_init(&fa) != 0)
        goto out;
    fa_init = true;
    if (posix_spawn_file_actions_adddup2(&fa, img, VOUCH_CHAN_FD_IMAGE) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, c1, VOUCH_CHAN_FD_CTL) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, a1, VOUCH_CHAN_FD_AGENT) != 0)
        goto out;
    char *argv[] = {(char *)"vouch-enclave-loader",
                    (char *)"--platform-dir",
                    (char *)pdir,
                    (char *)"--threads",
                    threads_s,
                    (char *)"--call-bytes",
                    bytes_s,
                    NULL,
                    NULL,
                    NULL};
    if (tsm_root) {
        argv[1] = (char *)"--backend";
        argv[2] = (char *)"cvm";
        argv[7] = (char *)"--tsm-root";
        argv[8] = (char *)tsm_root;
    }
    pid_t pid;
    int rc = posix_spawn(&pid, loader, &fa, NULL, argv, environ);
    if (rc != 0) {
        vouch_log_error("enclave: cannot start %s: %s", loader, strerror(rc));
        goto out;
    }
    e->loader_pid = pid;
    e->ctl_fd = ctl[0];
    e->agent_fd = ag[0];
    ctl[0] = ag[0] = -1;
    err = VOUCH_OK;
out:
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    int fds[] = {ctl[0], ctl[1], ag[0], ag[1], img, c1, a1};
    for (size_t k = 0; k < sizeof fds / sizeof fds[0]; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    return err;
}

static vouch_err map_channel(struct vouch_enclave *e, int memfd)
{
    struct stat st;
    if (fstat(memfd, &st) != 0)
        return VOUCH_ERR_ENCLAVE;
    int seals = fcntl(memfd, F_GET_SEALS);
    /* Unsealed, the enclave could shrink the file and make our accesses
     * fault (SIGBUS in the host). */
    if (seals < 0 || !(seals & F_SEAL_SHRINK))
        return VOUCH_ERR_ENCLAVE;
    if ((uint64_t)st.st_size != (uint64_t)e->threads * e->stride)
        return VOUCH_ERR_ENCLAVE;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (m == MAP_FAILED)
        return VOUCH_ERR_NOMEM;
    e->map = m;
    e->map_len = (size_t)st.st_size;
    return VOUCH_OK;
}

static vouch_err handshake(struct vouch_enclave *e, unsigned req_threads, size_t req_bytes)
{
    struct vouch_chan_agent_hello ah;
    struct vouch_chan_enclave_hello eh;
    int memfd = -1;
    vouch_err err = recv_msg(e->agent_fd, &ah, sizeof ah, NULL);
    if (err != VOUCH_OK) {
        vouch_log_error("enclave: the loader exited before answering");
        goto out;
    }
    err = VOUCH_ERR_ENCLAVE;
    if (ah.magic != VOUCH_CHAN_MAGIC)
        goto out;
    ah.detail[sizeof ah.detail - 1] = '\0';
    if (ah.status != VOUCH_OK) {
        vouch_log_error(
            "enclave: loader refused the image: %s (%s)",
            vouch_err_name(ah.status < VOUCH_ERR__COUNT ? (vouch_err)ah.status : VOUCH_ERR_ENCLAVE),
            ah.detail);
        err = ah.status < VOUCH_ERR__COUNT && ah.status != VOUCH_OK ? (vouch_err)ah.status
                                                                    : VOUCH_ERR_ENCLAVE;
        goto out;
    }
    if (ah.threads == 0 || ah.threads > VOUCH_MAX_ENCLAVE_THREADS ||
        (req_threads && ah.threads > req_threads) || ah.call_bytes < req_bytes ||
        ah.call_bytes > VOUCH_MAX_ENCLAVE_CALL_BYTES || ah.call_bytes % VOUCH_CHAN_PAGE)
        goto out;
    e->threads = ah.threads;
    e->call_bytes = (size_t)ah.call_bytes;
    e->stride = (size_t)vouch_chan_stride(ah.call_bytes);
    e->enclave_pid = ah.enclave_pid;
    memcpy(e->id.measurement, ah.id.measurement, sizeof e->id.measurement);
    memcpy(e->id.signer_id, ah.id.signer_id, sizeof e->id.signer_id);
    e->id.product_id = ah.id.product_id;
    e->id.svn = ah.id.svn;
    e->id.debug = ah.id.debug != 0;

    err = recv_msg(e->ctl_fd, &eh, sizeof eh, &memfd);
    if (err != VOUCH_OK) {
        vouch_log_error("enclave: the enclave process died while starting");
        goto out;
    }
    err = VOUCH_ERR_ENCLAVE;
    if (eh.magic != VOUCH_CHAN_MAGIC)
        goto out;
    if (eh.status != VOUCH_OK) {
        vouch_log_error("enclave: start-up failed in the enclave: %s",
                        vouch_err_name(eh.status < VOUCH_ERR__COUNT ? (vouch_err)eh.status
                                                                    : VOUCH_ERR_ENCLAVE));
        goto out;
    }
    if (eh.threads != e->threads || eh.call_bytes != e->call_bytes || eh.slot_stride != e->stride ||
        memfd < 0)
        goto out;
    err = map_channel(e, memfd);
out:
    if (memfd >= 0)
        close(memfd);
    return err;
}

static void reap_loader(struct vouch_enclave *e)
{
    if (e->loader_pid <= 0)
        return;
    while (waitpid(e->loader_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    e->loader_pid = 0;
}

vouch_err vouch_enclave_create_fd(int image_fd, const struct vouch_enclave_config *cfg,
                                  struct vouch_enclave **out)
{
    static const struct vouch_enclave_config zero;
    vouch_err err = VOUCH_ERR_INVAL;
    struct vouch_enclave *e = NULL;
    char *loader = NULL, *pdir = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!cfg)
        cfg = &zero;
    if (image_fd < 0 || (cfg->ocall_count && !cfg->ocalls) ||
        cfg->call_bytes > VOUCH_MAX_ENCLAVE_CALL_BYTES ||
        (cfg->mode != VOUCH_ENCLAVE_MODE_PER_CALL && cfg->mode != VOUCH_ENCLAVE_MODE_BLOCKING &&
         cfg->mode != VOUCH_ENCLAVE_MODE_SWITCHLESS) ||
        cfg->ocall_count > VOUCH_MAX_EDL_FUNCS ||
        (cfg->backend != VOUCH_ENCLAVE_BACKEND_SIM && cfg->backend != VOUCH_ENCLAVE_BACKEND_CVM))
        return VOUCH_ERR_INVAL;
    bool cvm = cfg->backend == VOUCH_ENCLAVE_BACKEND_CVM;
    const char *tsm_root = cvm ? (cfg->tsm_root ? cfg->tsm_root : VOUCH_TSM_DEFAULT_ROOT) : NULL;
    if (cvm && !*tsm_root)
        return VOUCH_ERR_INVAL;
    size_t req_bytes = cfg->call_bytes ? cfg->call_bytes : VOUCH_ENCLAVE_DEFAULT_CALL_BYTES;
    if (req_bytes < VOUCH_ENCLAVE_MIN_CALL_BYTES)
        req_bytes = VOUCH_ENCLAVE_MIN_CALL_BYTES;
    req_bytes = (size_t)vouch_chan_round(req_bytes);
    unsigned req_threads = cfg->threads <= VOUCH_MAX_ENCLAVE_THREADS ? cfg->threads : 0;

    e = vouch_calloc(1, sizeof *e);
    if (!e)
        return VOUCH_ERR_NOMEM;
    e->ctl_fd = e->agent_fd = e->stop_fd = -1;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    e->mode = cfg->mode;
    if (cfg->ocall_count) {
        e->ocalls = vouch_calloc(cfg->ocall_count, sizeof *e->ocalls);
        if (!e->ocalls) {
            err = VOUCH_ERR_NOMEM;
            goto out;
        }
        memcpy(e->ocalls, cfg->ocalls, cfg->ocall_count * sizeof *e->ocalls);
        e->ocall_count = cfg->ocall_count;
    }
    err = loader_path(cfg, &loader);
    if (err != VOUCH_OK)
        goto out;
    /* The CVM backend has no platform material (nor needs a $HOME). */
    err = cvm ? VOUCH_OK : platform_dir(cfg, &pdir);
    if (err != VOUCH_OK)
        goto out;
    e->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (e->stop_fd < 0) {
        err = VOUCH_ERR_IO;
        goto out;
    }
    err = spawn_loader(e, image_fd, loader, pdir, tsm_root, req_threads, req_bytes);
    if (err != VOUCH_OK)
        goto out;
    err = handshake(e, req_threads, req_bytes);
    if (err != VOUCH_OK)
        goto out;
    e->slots = vouch_calloc(e->threads, sizeof *e->slots);
    if (!e->slots) {
        err = VOUCH_ERR_NOMEM;
        goto out;
    }
    if (pthread_create(&e->monitor, NULL, monitor_main, e) != 0) {
        err = VOUCH_ERR_NOMEM;
        goto out;
    }
    e->monitor_started = true;
    *out = e;
    e = NULL;
    err = VOUCH_OK;
out:
    vouch_free(loader);
    vouch_free(pdir);
    vouch_enclave_terminate(e);
    return err;
}

vouch_err vouch_enclave_create(const char *path, const struct vouch_enclave_config *cfg,
                               struct vouch_enclave **out)
{
    if (!path || !out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vouch_log_error("enclave: cannot open %s: %s", path, strerror(errno));
        return VOUCH_ERR_IO;
    }
    vouch_err err = vouch_enclave_create_fd(fd, cfg, out);
    close(fd);
    return err;
}

void vouch_enclave_get_identity(const struct vouch_enclave *e, struct vouch_enclave_identity *out)
{
    *out = e->id;
}

unsigned vouch_enclave_threads(const struct vouch_enclave *e)
{
    return e->threads;
}

size_t vouch_enclave_call_bytes(const struct vouch_enclave *e)
{
    return e->call_bytes;
}

int vouch_enclave_pid(const struct vouch_enclave *e)
{
    return e->enclave_pid;
}

int vouch_enclave_is_dead(const struct vouch_enclave *e)
{
    return is_dead(e);
}

void vouch_enclave_terminate(struct vouch_enclave *e)
{
    if (!e)
        return;
    __atomic_store_n(&e->dead, 1, __ATOMIC_SEQ_CST);
    /* The agent sees end of file, SIGKILLs the enclave, reaps it and exits. */
    if (e->agent_fd >= 0)
        (void)shutdown(e->agent_fd, SHUT_RDWR);
    if (e->monitor_started) {
        uint64_t one = 1;
        ssize_t w = write(e->stop_fd, &one, sizeof one);
        (void)w;
        pthread_join(e->monitor, NULL);
    }
    reap_loader(e);
    if (e->map)
        munmap(e->map, e->map_len);
    if (e->slots) {
        for (unsigned i = 0; i < e->threads; i++) {
            vouch_free(e->slots[i].in_priv);
            vouch_free(e->slots[i].out_priv);
        }
        vouch_free(e->slots);
    }
    int fds[] = {e->ctl_fd, e->agent_fd, e->stop_fd};
    for (size_t k = 0; k < sizeof fds / sizeof fds[0]; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->cond);
    vouch_free(e->ocalls);
    vouch_free(e);
}
