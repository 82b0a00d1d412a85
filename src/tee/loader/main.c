/*
 * vouch-enclave-loader: verifies a signed enclave image, then splits into the
 * platform agent (parent) and the enclave process (child). Started only by
 * the host runtime (src/tee/host.c) with the descriptors and arguments that
 * src/tee/enclave_chan.h describes:
 *
 *   vouch-enclave-loader --platform-dir DIR --threads N --call-bytes B
 *   vouch-enclave-loader --backend cvm --tsm-root DIR --threads N --call-bytes B
 *
 * The agent keeps the platform key and seal secret and answers the enclave's
 * REPORT and SEAL_KEY requests for the identity *it* computed from the image;
 * the enclave process wipes those secrets before it loads any enclave code.
 * In the confidential-VM backend (--backend cvm, cvm_agent.h) the agent has
 * no secret: REPORT returns a configfs-tsm hardware report bound to that
 * identity (include/vouch/cvm.h) and SEAL_KEY is refused as UNSUPPORTED.
 *
 * The enclave process (enclave_setup) runs in three steps, and no enclave
 * code runs before the second:
 *   1. no filter (loader code only): NO_NEW_PRIVS, heap and call-channel
 *      mappings, crypto warm-up, the sealed memfd holding the .so;
 *   2. stage 1 of the sandbox (sandbox.c), installed just before dlopen:
 *      dlopen with the enclave's constructors (DT_INIT, .init_array), the
 *      worker threads' start, RLIMIT_AS and loading stage 2;
 *   3. stage 2, the final allow-list: the init hook and every ecall.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vouch/enclave.h>
#include <vouch/enclave_image.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/seal.h>
#include <vouch/sim.h>
#include <vouch/time.h>

#include "tee/loader/cvm_agent.h"
#include "tee/loader/loader.h"

struct args {
    const char *platform_dir;
    unsigned threads;
    size_t call_bytes;
    bool cvm;             /* --backend cvm */
    const char *tsm_root; /* --tsm-root (cvm only) */
};

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_args(int argc, char **argv, struct args *a)
{
    unsigned long long v;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--platform-dir") == 0) {
            a->platform_dir = argv[i + 1];
        } else if (strcmp(argv[i], "--threads") == 0) {
            if (!parse_uint(argv[i + 1], VOUCH_MAX_ENCLAVE_THREADS, &v))
                return false;
            a->threads = (unsigned)v;
        } else if (strcmp(argv[i], "--call-bytes") == 0) {
            if (!parse_uint(argv[i + 1], VOUCH_MAX_ENCLAVE_CALL_BYTES, &v))
                return false;
            a->call_bytes = (size_t)v;
        } else if (strcmp(argv[i], "--backend") == 0) {
            if (strcmp(argv[i + 1], "cvm") == 0)
                a->cvm = true;
            else if (strcmp(argv[i + 1], "sim") != 0)
                return false;
        } else if (strcmp(argv[i], "--tsm-root") == 0) {
            a->tsm_root = argv[i + 1];
        } else {
            return false;
        }
    }
    if (a->cvm)
        return argc % 2 == 1 && a->tsm_root && *a->tsm_root;
    return argc % 2 == 1 && a->platform_dir && *a->platform_dir;
}

/* Creates the parents of @p dir (mode 0700); the platform code creates and
 * checks @p dir itself. */
static void make_parents(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n >= sizeof buf)
        return;
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        (void)mkdir(buf, 0700);
        buf[i] = '/';
    }
}

static void send_all(int fd, const struct iovec *iov, int n)
{
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
    while (sendmsg(fd, &m, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

static void agent_reply(int fd, vouch_err st, const void *p, size_t len)
{
    struct vouch_chan_agent_resp h = {.status = (uint32_t)st, .len = (uint32_t)len};
    struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof h},
                           {.iov_base = (void *)p, .iov_len = len}};
    send_all(fd, iov, len ? 2 : 1);
}

/* The platform agent: serves the enclave until it or the host goes away. */
static _Noreturn void agent_main(int host_fd, int encl_fd, pid_t child,
                                 struct vouch_sim_platform *p, const struct vouch_sim_identity *id,
                                 struct cvm_agent *cvm)
{
    for (;;) {
        struct pollfd pf[2] = {{.fd = host_fd, .events = POLLIN},
                               {.fd = encl_fd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        /* The host never writes after start-up: readable means closed (or
         * an explicit stop). */
        if (pf[0].revents)
            break;
        if (!pf[1].revents)
            continue;
        struct vouch_chan_agent_req req;
        ssize_t r = recv(encl_fd, &req, sizeof req, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if ((size_t)r != sizeof req) {
            agent_reply(encl_fd, VOUCH_ERR_INVAL, NULL, 0);
            continue;
        }
        if (cvm && req.op == VOUCH_CHAN_AGENT_REPORT) {
            uint8_t *ev = NULL;
            size_t ev_len = 0;
            vouch_err err = cvm_agent_report(cvm, req.data, &ev, &ev_len);
            if (err == VOUCH_OK && ev_len > VOUCH_MAX_EVIDENCE_SIZE)
                err = VOUCH_ERR_TOO_LARGE;
            agent_reply(encl_fd, err, ev, err == VOUCH_OK ? ev_len : 0);
            vouch_free(ev);
        } else if (cvm && req.op == VOUCH_CHAN_AGENT_SEAL_KEY) {
            /* No platform secret in a CVM (include/vouch/cvm.h). */
            agent_reply(encl_fd, VOUCH_ERR_UNSUPPORTED, NULL, 0);
        } else if (req.op == VOUCH_CHAN_AGENT_REPORT) {
            uint8_t *ev = NULL;
            size_t ev_len = 0;
            vouch_err err = vouch_sim_report_sign(p, id, req.data, vouch_time_now(), &ev, &ev_len);
            if (err == VOUCH_OK && ev_len > VOUCH_MAX_EVIDENCE_SIZE)
                err = VOUCH_ERR_TOO_LARGE;
            agent_reply(encl_fd, err, ev, err == VOUCH_OK ? ev_len : 0);
            vouch_free(ev);
        } else if (req.op == VOUCH_CHAN_AGENT_SEAL_KEY) {
            struct vouch_seal_key_request kr = {.policy = (enum vouch_seal_policy)req.policy,
                                                .backend = VOUCH_TEE_BACKEND_SIM};
            uint8_t key[VOUCH_SEAL_KEY_LEN];
            vouch_err err = VOUCH_ERR_POLICY;
            if (req.svn <= UINT16_MAX) {
                kr.svn = (uint16_t)req.svn;
                memcpy(kr.key_id, req.data, sizeof kr.key_id);
                err = vouch_seal_derive_key(vouch_sim_platform_seal_secret(p), id, &kr, key);
            }
            agent_reply(encl_fd, err, key, err == VOUCH_OK ? sizeof key : 0);
            vouch_wipe(key, sizeof key);
        } else {
            agent_reply(encl_fd, VOUCH_ERR_INVAL, NULL, 0);
        }
    }
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    vouch_sim_platform_free(p);
    cvm_agent_free(cvm);
    /* _exit: a non-dumpable process cannot run LeakSanitizer's at-exit
     * check (it needs ptrace on itself), and there is nothing to flush. */
    _exit(0);
}

static vouch_err warm_key(void *ctx, const struct vouch_seal_key_request *req,
                          uint8_t key[VOUCH_SEAL_KEY_LEN])
{
    (void)ctx;
    (void)req;
    memset(key, 0x5a, VOUCH_SEAL_KEY_LEN);
    return VOUCH_OK;
}

/* Runs the sealing code once before the sandbox closes, so that the crypto
 * library has loaded its configuration, providers and DRBG (file access that
 * the sandbox would refuse later). */
static vouch_err warm_up_crypto(void)
{
    uint8_t blob[VOUCH_SEAL_OVERHEAD + 1], plain[1] = {0};
    size_t n = 0, m = 0;
    vouch_err err = vouch_seal(warm_key, NULL, VOUCH_SEAL_POLICY_UNIQUE, VOUCH_TEE_BACKEND_SIM, 0,
                               plain, 1, NULL, 0, blob, sizeof blob, &n);
    if (err != VOUCH_OK)
        return err;
    return vouch_unseal(warm_key, NULL, VOUCH_TEE_BACKEND_SIM, 0, blob, n, NULL, 0, plain,
                        sizeof plain, &m);
}

static vouch_rt_init_fn enclave_init;

static vouch_err load_so(const uint8_t *so, size_t so_len)
{
    struct rt_state *rs = &vouch_rt_state;
    int fd = memfd_create("vouch-enclave", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return VOUCH_ERR_IO;
    vouch_err err = VOUCH_ERR_IO;
    size_t off = 0;
    while (off < so_len) {
        ssize_t w = write(fd, so + off, so_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        off += (size_t)w;
    }
    /* Sealed: what dlopen maps is exactly what was measured. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        goto out;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* dlopen opens the path again and maps that new descriptor, which gets
     * the lowest free number: the only one stage 1 lets be mapped
     * executable. */
    int exec_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (exec_fd < 0)
        goto out;
    close(exec_fd);
    /* From here on enclave code runs (constructors, DT_INIT/.init_array,
     * during dlopen): stage 1 of the sandbox first. */
    err = rt_sandbox_enter_loading(exec_fd);
    if (err != VOUCH_OK)
        goto out;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    err = VOUCH_ERR_ENCLAVE;
    if (!h) {
        fprintf(stderr, "vouch-enclave-loader: dlopen: %s\n", dlerror());
        goto out;
    }
    const struct vouch_rt_ecall_entry *table = dlsym(h, "vouch_rt_ecall_table");
    const size_t *count = dlsym(h, "vouch_rt_ecall_count");
    if (!table || !count || *count > VOUCH_MAX_EDL_FUNCS) {
        fprintf(stderr, "vouch-enclave-loader: the enclave has no valid ecall table\n");
        goto out;
    }
    rs->table = table;
    rs->count = *count;
    /* dlsym on the handle searches only the enclave and its dependencies,
     * never the loader: an enclave without the hook simply has none. */
    void *hook = dlsym(h, "vouch_rt_enclave_init");
    if (hook)
        memcpy(&enclave_init, &hook, sizeof hook); /* object to function pointer (POSIX) */
    err = VOUCH_OK;
out:
    close(fd);
    return err;
}

/* Start-up of the enclave process (the three steps in the comment at the
 * top). Returns the status sent to the host and the channel memfd in
 * *chan_fd. */
static vouch_err enclave_setup(struct vouch_enclave_image *img, int *chan_fd)
{
    struct rt_state *rs = &vouch_rt_state;
    const struct vouch_enclave_image_config *cfg = vouch_enclave_image_config(img);
    const uint8_t *so;
    size_t so_len;
    vouch_err err;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return VOUCH_ERR_INTERNAL;
    /* Everything that needs more than stage 1 of the sandbox allows (memfds,
     * the crypto library's files) happens before the enclave is loaded. */
    err = rt_heap_init((size_t)cfg->heap_size);
    if (err != VOUCH_OK)
        return err;

    int fd = memfd_create("vouch-channel", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return VOUCH_ERR_IO;
    size_t len = rs->threads * rs->stride;
    if (ftruncate(fd, (off_t)len) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        close(fd);
        return VOUCH_ERR_IO;
    }
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        close(fd);
        return VOUCH_ERR_NOMEM;
    }
    rs->chan = m;
    rs->chan_len = len;
    *chan_fd = fd;

    /* One glibc arena for all threads: it grows with brk inside the
     * sandbox instead of mapping a new 64 MiB arena per thread. */
    (void)mallopt(M_ARENA_MAX, 1);
    err = warm_up_crypto();
    if (err != VOUCH_OK)
        return err;
    /* Stage 1 from here: load_so installs it just before dlopen. */
    vouch_enclave_image_so(img, &so, &so_len);
    err = load_so(so, so_len);
    if (err != VOUCH_OK)
        return err;
    err = rt_workers_start((size_t)cfg->stack_size);
    if (err != VOUCH_OK)
        return err;
    /* Stage 2: the final allow-list. */
    err = rt_sandbox_enter();
    if (err != VOUCH_OK)
        return err;
    /* The hook runs sandboxed, like every other line of enclave code. */
    if (enclave_init) {
        err = enclave_init();
        if (err != VOUCH_OK)
            return VOUCH_ERR_ENCLAVE;
    }
    return VOUCH_OK;
}

static _Noreturn void enclave_main(pid_t agent, struct vouch_enclave_image *img)
{
    struct rt_state *rs = &vouch_rt_state;
    int chan_fd = -1;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != agent)
        _exit(1);
    vouch_err err = enclave_setup(img, &chan_fd);
    struct vouch_chan_enclave_hello eh = {.magic = VOUCH_CHAN_MAGIC,
                                          .status = (uint32_t)err,
                                          .threads = rs->threads,
                                          .call_bytes = rs->call_bytes,
                                          .slot_stride = rs->stride};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    struct iovec iov = {.iov_base = &eh, .iov_len = sizeof eh};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (err == VOUCH_OK) {
        memset(&cm, 0, sizeof cm);
        msg.msg_control = cm.b;
        msg.msg_controllen = sizeof cm.b;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &chan_fd, sizeof(int));
    }
    while (sendmsg(rs->ctl_fd, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
    if (err != VOUCH_OK)
        _exit(1);
    /* The host never writes: wait for end of file (host gone), then leave
     * without running at-exit handlers (no leak check: see sandbox.c). */
    for (;;) {
        char b;
        ssize_t r = read(rs->ctl_fd, &b, 1);
        if (r < 0 && errno == EINTR)
            continue;
        _exit(0);
    }
}

int main(int argc, char **argv)
{
    struct args a = {0};
    struct vouch_chan_agent_hello ah = {.magic = VOUCH_CHAN_MAGIC};
    struct vouch_enclave_image *img = NULL;
    struct vouch_sim_platform *plat = NULL;
    vouch_err err;

    /* Neither the agent (platform key) nor the enclave may leave a core
     * file or be attached to by other unprivileged processes. */
    struct rlimit no_core = {0, 0};
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &no_core) != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    /* Nothing but our three descriptors (and stdio) crosses into here. */
    (void)close_range(VOUCH_CHAN_FD_AGENT + 1, ~0u, 0);

    if (!parse_args(argc, argv, &a)) {
        fprintf(stderr, "vouch-enclave-loader: started by libvouch only (see enclave.h)\n");
        err = VOUCH_ERR_INVAL;
        snprintf(ah.detail, sizeof ah.detail, "bad loader arguments");
        goto refuse;
    }
    err = vouch_enclave_image_read_fd(VOUCH_CHAN_FD_IMAGE, &img, ah.detail, sizeof ah.detail);
    close(VOUCH_CHAN_FD_IMAGE);
    if (err != VOUCH_OK)
        goto refuse;
    const struct vouch_enclave_image_config *cfg = vouch_enclave_image_config(img);
    const struct vouch_enclave_identity *eid = vouch_enclave_image_identity(img);
    struct rt_state *rs = &vouch_rt_state;
    rs->threads = (a.threads && a.threads < cfg->thread_count) ? a.threads : cfg->thread_count;
    size_t cb =
        a.call_bytes < VOUCH_ENCLAVE_MIN_CALL_BYTES ? VOUCH_ENCLAVE_MIN_CALL_BYTES : a.call_bytes;
    rs->call_bytes = (size_t)vouch_chan_round(cb);
    if (rs->call_bytes > VOUCH_MAX_ENCLAVE_CALL_BYTES)
        rs->call_bytes = VOUCH_MAX_ENCLAVE_CALL_BYTES;
    rs->stride = (size_t)vouch_chan_stride(rs->call_bytes);
    rs->ctl_fd = VOUCH_CHAN_FD_CTL;
    memcpy(rs->id.measurement, eid->measurement, sizeof rs->id.measurement);
    memcpy(rs->id.signer_id, eid->signer_id, sizeof rs->id.signer_id);
    rs->id.product_id = eid->product_id;
    rs->id.svn = eid->svn;
    rs->id.debug = eid->debug;

    struct vouch_sim_identity sid;
    memcpy(sid.measurement, eid->measurement, sizeof sid.measurement);
    memcpy(sid.signer_id, eid->signer_id, sizeof sid.signer_id);
    sid.product_id = eid->product_id;
    sid.svn = eid->svn;
    sid.debug = eid->debug;

    if (a.cvm) {
        /* Checked before the fork: a VM without configfs-tsm is refused at
         * creation with a clear reason, not at the first report. */
        err = cvm_agent_check_root(a.tsm_root, ah.detail, sizeof ah.detail);
        if (err != VOUCH_OK)
            goto refuse;
    } else {
        make_parents(a.platform_dir);
        err = vouch_sim_platform_open(a.platform_dir, vouch_time_now(), &plat);
        if (err != VOUCH_OK) {
            snprintf(ah.detail, sizeof ah.detail, "cannot open the platform material in %s",
                     a.platform_dir);
            goto refuse;
        }
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        err = VOUCH_ERR_IO;
        goto refuse;
    }
    pid_t child = fork();
    if (child < 0) {
        err = VOUCH_ERR_IO;
        goto refuse;
    }
    if (child == 0) {
        /* The enclave: forget the platform secrets before any enclave code
         * is loaded, keep only what the runtime needs. */
        close(sv[0]);
        close(VOUCH_CHAN_FD_AGENT);
        vouch_sim_platform_free(plat);
        rs->agent_fd = sv[1];
        enclave_main(getppid(), img);
    }
    close(sv[1]);
    close(VOUCH_CHAN_FD_CTL);
    vouch_enclave_image_free(img);
    ah.enclave_pid = child;
    ah.threads = rs->threads;
    ah.call_bytes = rs->call_bytes;
    memcpy(ah.id.measurement, sid.measurement, sizeof ah.id.measurement);
    memcpy(ah.id.signer_id, sid.signer_id, sizeof ah.id.signer_id);
    ah.id.product_id = sid.product_id;
    ah.id.svn = sid.svn;
    ah.id.debug = sid.debug;
    /* The CVM agent's first configfs-tsm entry exists before the host hears
     * of the enclave (made after the fork: the enclave never holds it). */
    struct cvm_agent *cvm = NULL;
    if (a.cvm && (err = cvm_agent_new(a.tsm_root, &sid, &cvm)) != VOUCH_OK) {
        kill(child, SIGKILL);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
        img = NULL; /* freed above */
        goto refuse;
    }
    struct iovec iov = {.iov_base = &ah, .iov_len = sizeof ah};
    send_all(VOUCH_CHAN_FD_AGENT, &iov, 1);
    agent_main(VOUCH_CHAN_FD_AGENT, sv[0], child, plat, &sid, cvm);

refuse:
    ah.status = (uint32_t)(err == VOUCH_OK ? VOUCH_ERR_INTERNAL : err);
    ah.detail[sizeof ah.detail - 1] = '\0';
    {
        struct iovec riov = {.iov_base = &ah, .iov_len = sizeof ah};
        send_all(VOUCH_CHAN_FD_AGENT, &riov, 1);
    }
    vouch_sim_platform_free(plat);
    vouch_enclave_image_free(img);
    _exit(1);
}
