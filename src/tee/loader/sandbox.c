/*
 * The enclave sandbox: a seccomp allow-list installed on every thread of the
 * enclave process at once (TSYNC) after the workers have started, with
 * SECCOMP_RET_KILL_PROCESS for anything else, and (in non-sanitizer builds)
 * an address-space limit as a backstop for glibc's own allocations.
 *
 * What is allowed and why:
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
 * Sanitizer builds (VOUCH_SANITIZE): ASan/UBSan's runtime also needs
 * sigaltstack and rt_sigprocmask, and no RLIMIT_AS (its shadow reservation is
 * terabytes). LeakSanitizer never runs in the enclave process: it leaves with
 * _exit or is killed, so no at-exit leak check (which would need ptrace) runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

vouch_err rt_sandbox_enter(void)
{
    const struct rt_state *rs = &vouch_rt_state;
    vouch_err err = limit_address_space();
    if (err != VOUCH_OK)
        return err;
    err = VOUCH_ERR_INTERNAL;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return VOUCH_ERR_NOMEM;
    int rc = 0;
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
        goto out;
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
    if (rc != 0)
        goto out;
    if (seccomp_load(ctx) != 0)
        goto out;
    err = VOUCH_OK;
out:
    seccomp_release(ctx);
    return err;
}
