/*
 * The enclave sandbox: two seccomp filters, each installed on every thread of
 * the enclave process at once (TSYNC), with SECCOMP_RET_KILL_PROCESS for
 * anything not allowed, and (in non-sanitizer builds) an address-space limit
 * as a backstop for glibc's own allocations.
 *
 * Stage 1 (rt_sandbox_enter_loading) is installed by main.c just before
 * dlopen, which runs the enclave's constructors (DT_INIT, .init_array) and so
 * is the first enclave code to run. Before it, only loader code runs: the
 * heap and channel mappings, the crypto warm-up, the sealed memfd with the
 * .so. Under stage 1 run dlopen (and the constructors), the worker threads'
 * start and the set-up of stage 2. Stage 2 (rt_sandbox_enter) is loaded on
 * top once the workers run; the kernel applies both, so it narrows stage 1
 * to the final allow-list. The init hook and every ecall run under stage 2.
 *
 * Final allow-list (both stages), and why:
 *   futex                      the call channel and every lock
 *   read/recvfrom/recvmsg,     only on the control socket (end of file from
 *   write/sendto/sendmsg       the host) and the agent socket (evidence, seal
 *                              keys); write also on stderr for fatal messages
 *   exit, exit_group, rt_sigreturn, restart_syscall
 *   clock_gettime, clock_nanosleep, nanosleep, sched_yield, gettid, getpid
 *   getrandom                  vouch_rt_random and the crypto library's DRBG
 *   brk, mmap (anonymous only, never executable), munmap, madvise,
 *   mprotect (never executable), mremap
 *                              glibc malloc inside libraries the runtime uses
 *                              (sealing); bounded by RLIMIT_AS, not by the
 *                              enclave heap budget
 * No open, no socket, no fork/clone/exec, no ptrace, no prctl, no kill.
 *
 * Stage 1 adds only what loading and starting threads need:
 *   openat/open                read-only (no write access mode, hence no
 *                              O_TMPFILE; no O_CREAT, O_TRUNC, O_APPEND):
 *                              the dynamic linker opening /proc/self/fd/N,
 *                              and /proc/self/statm for RLIMIT_AS
 *   read, pread64 (any fd), fstat, newfstatat, statx, lseek, close
 *   mmap of files              never executable, except file mappings (not
 *                              anonymous, not writable) of the one descriptor
 *                              number dlopen's open of the sealed memfd gets
 *                              (seccomp sees numbers, not files)
 *   clone                      only with CLONE_THREAD|CLONE_VM|CLONE_SIGHAND
 *                              (threads, no fork); clone3 fails with ENOSYS
 *                              (its flags are out of seccomp's reach) so
 *                              glibc falls back to clone
 *   rt_sigprocmask, rt_sigaction, set_robust_list, rseq, sched_getaffinity
 *                              pthread_create and new threads
 *   tgkill                     only to this process (abort, raise)
 *   prlimit64                  only on this process (RLIMIT_AS)
 *   seccomp                    SET_MODE_FILTER only (stage 2; a filter can
 *                              only narrow)
 * Still refused under stage 1: socket, connect, execve, execveat, fork, vfork,
 * ptrace, process_vm_readv/writev, kill, prctl, memfd_create, opening for
 * writing, and write on any descriptor but the two sockets and stderr. A
 * constructor can read files the user can read; it cannot send them anywhere
 * but to the host (the runtime's sockets, stderr).
 *
 * Sanitizer builds (VOUCH_SANITIZE): ASan/UBSan's runtime also needs
 * sigaltstack, rt_sigprocmask, rt_sigaction and sched_getaffinity in stage 2,
 * and no RLIMIT_AS (its shadow reservation is terabytes). LeakSanitizer never
 * runs in the enclave process: it leaves with _exit or is killed, so no
 * at-exit leak check (which would need ptrace) runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tee/loader/loader.h"

#ifdef VOUCH_LOADER_SANITIZE
#define SANITIZER_BUILD 1
#else
#define SANITIZER_BUILD 0
#endif

/* Slack above the address space in use when the sandbox closes: room for
 * glibc's arena to grow while a library (sealing) runs. */
#define RT_AS_SLACK (256ull * 1024u * 1024u)

static int allow(scmp_filter_ctx ctx, int nr)
{
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

/* Argument comparisons written out: libseccomp's SCMP_An() macros leave a
 * field of the compound literal implicit, which -Wextra refuses. */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
                                   scmp_datum_t b)
{
    struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};
    return c;
}

static int allow_fd(scmp_filter_ctx ctx, int nr, int fd)
{
    struct scmp_arg_cmp c = arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)fd, 0);
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
}

static vouch_err limit_address_space(void)
{
    if (SANITIZER_BUILD)
        return VOUCH_OK;
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return VOUCH_ERR_IO;
    unsigned long long pages = 0;
    int n = fscanf(f, "%llu", &pages);
    fclose(f);
    if (n != 1)
        return VOUCH_ERR_IO;
    long psz = sysconf(_SC_PAGESIZE);
    rlim_t lim = (rlim_t)(pages * (unsigned long long)psz + RT_AS_SLACK);
    struct rlimit rl = {.rlim_cur = lim, .rlim_max = lim};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return VOUCH_ERR_IO;
    return VOUCH_OK;
}

/* The calls both filters allow: the final allow-list, common to stage 1. */
static int add_final_rules(scmp_filter_ctx ctx)
{
    const struct rt_state *rs = &vouch_rt_state;
    int rc = 0;
    static const int plain[] = {
        SCMP_SYS(futex),
        SCMP_SYS(exit),
        SCMP_SYS(exit_group),
        SCMP_SYS(rt_sigreturn),
        SCMP_SYS(restart_syscall),
        SCMP_SYS(clock_gettime),
        SCMP_SYS(clock_nanosleep),
        SCMP_SYS(nanosleep),
        SCMP_SYS(sched_yield),
        SCMP_SYS(gettid),
        SCMP_SYS(getpid),
        SCMP_SYS(getrandom),
        SCMP_SYS(brk),
        SCMP_SYS(munmap),
        SCMP_SYS(madvise),
        SCMP_SYS(mremap),
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        rc |= allow(ctx, plain[i]);
    static const int io[] = {SCMP_SYS(read),  SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
                             SCMP_SYS(write), SCMP_SYS(sendto),   SCMP_SYS(sendmsg)};
    for (size_t i = 0; i < sizeof io / sizeof io[0]; i++) {
        rc |= allow_fd(ctx, io[i], rs->ctl_fd);
        rc |= allow_fd(ctx, io[i], rs->agent_fd);
    }
    rc |= allow_fd(ctx, SCMP_SYS(write), STDERR_FILENO);
    /* Anonymous (fd == -1, compared as 32 bits) and never executable. */
    struct scmp_arg_cmp mm[2] = {arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
                                 arg_cmp(4, SCMP_CMP_MASKED_EQ, 0xffffffffu, 0xffffffffu)};
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 2, mm);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, mm);
    if (SANITIZER_BUILD) {
        rc |= allow(ctx, SCMP_SYS(sigaltstack));
        rc |= allow(ctx, SCMP_SYS(rt_sigprocmask));
        rc |= allow(ctx, SCMP_SYS(rt_sigaction));
        rc |= allow(ctx, SCMP_SYS(sched_getaffinity));
    }
    return rc;
}

/* Open flags that could create, truncate or write a file: stage 1 opens
 * only for reading (O_TMPFILE needs a write access mode, so it is refused
 * with those). */
#define RT_OPEN_WRITE_FLAGS ((scmp_datum_t)(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND))

vouch_err rt_sandbox_enter_loading(int exec_fd)
{
    vouch_err err = VOUCH_ERR_INTERNAL;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return VOUCH_ERR_NOMEM;
    int rc = 0;
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
        goto out;
    rc |= add_final_rules(ctx);
    /* The dynamic linker reading the enclave's file; pthread_create and new
     * threads (the workers start under stage 1). */
    static const int loading[] = {
        SCMP_SYS(read),
        SCMP_SYS(pread64),
        SCMP_SYS(fstat),
        SCMP_SYS(newfstatat),
        SCMP_SYS(statx),
        SCMP_SYS(close),
        SCMP_SYS(lseek),
        SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(set_robust_list),
        SCMP_SYS(rseq),
        SCMP_SYS(sched_getaffinity),
        SCMP_SYS(rt_sigaction),
    };
    for (size_t i = 0; i < sizeof loading / sizeof loading[0]; i++)
        rc |= allow(ctx, loading[i]);
    struct scmp_arg_cmp ro = arg_cmp(2, SCMP_CMP_MASKED_EQ, RT_OPEN_WRITE_FLAGS, 0);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, &ro);
#ifdef __NR_open
    ro.arg = 1;
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1, &ro);
#endif
    /* File mappings: never executable, except of the descriptor dlopen gets
     * for the sealed memfd (seccomp sees only the number). */
    struct scmp_arg_cmp nx = arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, &nx);
    struct scmp_arg_cmp ex[3] = {arg_cmp(4, SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)exec_fd),
                                 arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_WRITE, 0),
                                 arg_cmp(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0)};
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 3, ex);
    /* Threads only (the worker threads, or a constructor's): no fork. glibc
     * tries clone3 first, whose flags seccomp cannot read; ENOSYS sends it
     * to clone. */
    struct scmp_arg_cmp thr =
        arg_cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_VM | CLONE_SIGHAND,
                CLONE_THREAD | CLONE_VM | CLONE_SIGHAND);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &thr);
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* Signals only to this process (abort, raise). */
    struct scmp_arg_cmp self = arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, &self);
    /* What installing the second filter needs: RLIMIT_AS of this process
     * only, and another filter (which can only narrow this one). */
    struct scmp_arg_cmp own = arg_cmp(0, SCMP_CMP_EQ, 0, 0);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, &own);
    struct scmp_arg_cmp filt = arg_cmp(0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0);
    rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 1, &filt);
    if (rc != 0)
        goto out;
    if (seccomp_load(ctx) != 0)
        goto out;
    err = VOUCH_OK;
out:
    seccomp_release(ctx);
    return err;
}

vouch_err rt_sandbox_enter(void)
{
    vouch_err err = limit_address_space();
    if (err != VOUCH_OK)
        return err;
    err = VOUCH_ERR_INTERNAL;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return VOUCH_ERR_NOMEM;
    int rc = 0;
    /* NO_NEW_PRIVS is already set (main.c), and stage 1 refuses prctl. */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) != 0)
        goto out;
    rc |= add_final_rules(ctx);
    if (rc != 0)
        goto out;
    if (seccomp_load(ctx) != 0)
        goto out;
    err = VOUCH_OK;
out:
    seccomp_release(ctx);
    return err;
}
