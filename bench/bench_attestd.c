/*
 * Attestation service load benchmark (PRODUCT.md §4): attest over HTTPS with
 * keep-alive and cached collateral, against the crypto-bound limit measured in
 * the same run.
 *
 *   limit            in this process: one S1 verification with collateral
 *                    parsed once (vouch_evidence_verify with collateral_obj,
 *                    PCK leaf cache warm, as in the service) plus one RS256
 *                    signature of a token with the claims the service really
 *                    issues (taken from a probe response), each timed in
 *                    thread CPU time. The limit is what the daemon's cores
 *                    do when a request costs nothing but those two jobs:
 *                    one thread per core, all at once, verify + sign in a
 *                    loop, measured before the load and again after each
 *                    of its --slices (5) slices; the mean is the limit, and
 *                    each slice is also compared with the limits on either
 *                    side of it (this machine's speed, and how well its two
 *                    vCPUs scale, drift with what the host does, sometimes
 *                    within seconds). cores x the one-thread figure is
 *                    reported beside it, with the ratio against it.
 *   limit-openssl-speed
 *                    the same idea from primitives alone, as PRODUCT.md's
 *                    table words it: `openssl speed -multi CORES rsa2048
 *                    ecdsap256` before and after the load, a request counted
 *                    as one RSA-2048 signature plus 2 (or 3) P-256
 *                    verifications and nothing else. Reported, not the
 *                    target's limit: it charges all parsing, claims, JSON,
 *                    HTTP, TLS and kernel work to the service.
 *   https-keepalive  vouch-attestd (started here, TLS, --threads 2) under N
 *                    closed-loop HTTP/1.1 keep-alive connections POSTing S1
 *                    to /attest/SgxEnclave: attests/s, latency percentiles,
 *                    and the ratio to the limit.
 *   rss              the daemon's VmRSS before and after a long phase (a
 *                    duration, or a request count such as the 1 M of the
 *                    target).
 *
 * The load generator shares the machine with the daemon and takes CPU from
 * it, so the run also reports both processes' CPU time and a second ratio
 * normalised to the CPU the daemon actually got: attests per daemon CPU second
 * against attests per CPU second of the limit. The raw ratio is the target;
 * the normalised one says whether a miss is the service or the machine.
 *
 * The load generator is a single-threaded epoll loop on OpenSSL (certificate
 * and address verified, the full request sent for every attestation, every
 * response read and checked): libcurl's multi interface, used before, took
 * about 140 us of CPU per request from the same two cores as the daemon. It
 * collects answers every --pace-us (1 ms) rather than sleeping in epoll_wait:
 * a client woken for each answer makes the daemon's write pay for a
 * cross-CPU wake-up (an IPI, costly in this VM) and the client pay for a
 * context switch per answer; paced, the client costs ~0.09 instead of ~0.17
 * of a core. The daemon's work per request is the same either way; answers
 * wait up to 1 ms longer, which the latency figures include. --pace-us 0
 * restores the per-answer wake-up.
 *
 * new_connections counts the connections a phase had to open: 0 means every
 * request went over a connection kept alive from the warm-up.
 *
 * Every response must be 200 with a well-formed token; the probe's token and
 * one token at the end of each phase are verified against the daemon's /certs.
 * Any failure fails the run: a fast wrong service is worthless. So does a
 * daemon that does not exit cleanly on SIGTERM.
 *
 * stdout: one JSON object per figure; stderr: a table.
 *
 * usage: bench_attestd [--daemon PATH] [--seconds S] [--warmup S] [--connections N]
 *                      [--threads N] [--rss-seconds S | --requests N] [--limit-seconds S]
 *                      [--pace-us N] [--slices N] [DATA_DIR]
 */
#include "bench_util.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/evidence.h>
#include <vouch/json.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/token.h>

#ifndef VOUCH_TESTDATA_DIR
#define VOUCH_TESTDATA_DIR "../shared/testdata"
#endif

extern char **environ;

#define MAX_FILE            (1u << 20)
#define MAX_RESPONSE        (1u << 20)
#define MAX_LIMIT_SAMPLES   (1u << 20)
#define MIN_LIMIT_ITERS     20u
#define MAX_CONNECTIONS     1024u
#define DEFAULT_SECONDS     10.0
#define DEFAULT_WARMUP      2.0
#define DEFAULT_RSS_SECONDS 30.0
#define DEFAULT_LIMIT_SECS  2.0
#define DEFAULT_CONNECTIONS 16u
#define DEFAULT_THREADS     2u
#define DEFAULT_PACE_US     1000u
#define DEFAULT_SLICES      5u
#define MAX_SLICES          50u
#define SLICE_LIMIT_SECS    1.0
#define START_TIMEOUT_S     60.0
#define STOP_TIMEOUT_S      15.0
#define REQUEST_TIMEOUT_MS  30000L
#define PROGRESS_INTERVAL_S 10.0
#define RSS_SAMPLE_INTERVAL 1.0
#define ISSUER              "https://127.0.0.1"
#define ATTEST_PATH         "/attest/SgxEnclave?api-version=2022-08-01"
#define TOKEN_PREFIX        "{\"token\":\""

/* S1: the vector the service is loaded with (scripts/vectors.sh). */
#define S1_QUOTE      "evidence/sgx/v3_phala_quote.bin"
#define S1_COLLATERAL "evidence/sgx/v3_phala_collateral.json"
#define S1_NOW        1751328000
#define S1_NOW_TEXT   "1751328000"
#define S1_STATUS     VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED

/* Targets from PRODUCT.md §4. */
#define TARGET_RATIO_VS_LIMIT 0.70
#define TARGET_P99_MS         25.0
#define TARGET_RSS_GROWTH_PCT 10.0

struct config {
    const char *data_dir;
    const char *daemon;
    double seconds;
    double warmup;
    double rss_seconds;
    double limit_seconds;
    uint64_t requests; /* long phase by count instead of rss_seconds */
    unsigned connections;
    unsigned threads;
    unsigned pace_us;
    unsigned slices;
};

struct daemon {
    pid_t pid;
    bool reaped;
    int status;
    char tmp[256];
    char log_path[512];
    char ca_path[512];
    char base_url[64];
    unsigned port;
};

struct limit_stats {
    double mean_us;
    double p50_us;
    double cpu_us; /* thread CPU time per call */
    size_t iters;
};

/* One measured in-process operation; returns VOUCH_OK only when its answer
 * was right. */
typedef vouch_err (*bench_op_fn)(void *ctx);

struct verify_ctx {
    const uint8_t *quote;
    size_t quote_len;
    struct vouch_verify_opts opts;
};

struct sign_ctx {
    struct vouch_token_signer signer;
    const json_t *claims;
    size_t token_len; /* of the last token */
};

/* One-off requests (start-up checks, the probe, /certs) go through libcurl. */
struct curl_conn {
    CURL *h;
    struct vouch_buf body;
    bool overflow;
};

enum conn_state { CONN_CLOSED, CONN_IDLE, CONN_WRITING, CONN_READING };

/* One keep-alive connection of the load: a non-blocking socket with OpenSSL
 * on it, one request in flight at a time. */
struct conn {
    int fd;
    SSL *ssl;
    enum conn_state state;
    uint8_t *in; /* the response being read: head and body */
    size_t in_len;
    size_t head_len;       /* through the blank line; 0 until it has arrived */
    size_t content_len;    /* from Content-Length, once head_len is known */
    int status;            /* from the status line */
    bool close_after;      /* the server said Connection: close */
    struct vouch_buf body; /* the body of the last complete response */
    double t_start;
};

struct load {
    SSL_CTX *tls;
    int ep;
    struct conn *conns;
    unsigned n;
    struct sockaddr_in addr;
    uint8_t *req; /* the whole request, head and body, sent each time */
    size_t req_len;
    long connects;    /* connections opened so far */
    unsigned pace_us; /* 0: sleep in epoll_wait; else poll and sleep this long when idle */
    double *lat_ms;
    size_t n_lat;
    size_t cap_lat;
    char error[256]; /* the first failure of the run */
};

struct phase {
    const char *name;
    double seconds;
    uint64_t requests; /* when non-zero, replaces seconds */
    pid_t server;
    bool progress;
    bool keep_latencies; /* add to the previous phase's latencies */
};

struct phase_result {
    uint64_t completed;
    uint64_t failures;
    double elapsed_s;
    double server_cpu_s;
    double client_cpu_s;
    long connects;
    long rss_max_kib;
    double mean_ms;
    double p50_ms;
    double p90_ms;
    double p99_ms;
    double max_ms;
};

static volatile sig_atomic_t interrupted;
static double *limit_samples;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of a process, all threads, from /proc/PID/stat. */
VOUCH_NODISCARD static vouch_err proc_cpu_s(pid_t pid, double *out)
{
    vouch_err rc = VOUCH_ERR_IO;
    char path[64], line[1024];
    const char *p;
    unsigned long ut = 0, st = 0;
    long tick = sysconf(_SC_CLK_TCK);
    FILE *f = NULL;

    *out = 0;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if (!(f = fopen(path, "r")) || !fgets(line, sizeof(line), f))
        goto out;
    /* The command name may hold spaces and parentheses; fields restart
     * after the last ')'. utime and stime are fields 14 and 15. */
    if (!(p = strrchr(line, ')')) || tick <= 0 ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    *out = (double)(ut + st) / (double)tick;
    rc = VOUCH_OK;
out:
    if (f)
        fclose(f);
    return rc;
}

/* VmRSS of a process in KiB, from /proc/PID/status. */
VOUCH_NODISCARD static vouch_err proc_rss_kib(pid_t pid, long *out)
{
    vouch_err rc = VOUCH_ERR_NOT_FOUND;
    char path[64], line[256];
    FILE *f = NULL;

    *out = 0;
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    if (!(f = fopen(path, "r"))) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            rc = sscanf(line + 6, "%ld", out) == 1 ? VOUCH_OK : VOUCH_ERR_PARSE;
            goto out;
        }
    }
out:
    if (f)
        fclose(f);
    return rc;
}

VOUCH_NODISCARD static vouch_err read_file(const char *dir, const char *rel, uint8_t **buf_out,
                                           size_t *len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char path[4096];
    FILE *f = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;

    *buf_out = NULL;
    *len_out = 0;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path)) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (!(f = fopen(path, "rb"))) {
        fprintf(stderr, "bench_attestd: cannot open %s\n", path);
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if (!(buf = vouch_malloc(MAX_FILE))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    len = fread(buf, 1, MAX_FILE, f);
    if (ferror(f) || len == 0 || fgetc(f) != EOF) {
        fprintf(stderr, "bench_attestd: cannot read %s (or larger than %u bytes)\n", path,
                MAX_FILE);
        rc = VOUCH_ERR_IO;
        goto out;
    }
    *buf_out = buf;
    *len_out = len;
    buf = NULL;
    rc = VOUCH_OK;
out:
    if (f)
        fclose(f);
    vouch_free(buf);
    return rc;
}

VOUCH_NODISCARD static vouch_err write_file(const char *path, const uint8_t *p, size_t len)
{
    vouch_err rc = VOUCH_ERR_IO;
    FILE *f = fopen(path, "wb");

    if (!f) {
        fprintf(stderr, "bench_attestd: cannot create %s: %s\n", path, strerror(errno));
        goto out;
    }
    if (fwrite(p, 1, len, f) != len) {
        fprintf(stderr, "bench_attestd: cannot write %s\n", path);
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (f && fclose(f) != 0)
        rc = VOUCH_ERR_IO;
    return rc;
}

/* Removes the benchmark's own temporary tree (the daemon's data directory is
 * two levels deep), without following symbolic links. */
static void remove_tree(const char *path, int depth)
{
    struct stat st;
    DIR *dir;
    struct dirent *e;
    char child[1024];

    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode) || depth > 4) {
        (void)unlink(path);
        return;
    }
    if ((dir = opendir(path)) != NULL) {
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, e->d_name) < sizeof(child))
                remove_tree(child, depth + 1);
        }
        closedir(dir);
    }
    (void)rmdir(path);
}

static void print_log_tail(const struct daemon *d)
{
    uint8_t *log = NULL;
    size_t len = 0, from;

    if (read_file(d->tmp, "daemon.log", &log, &len) != VOUCH_OK)
        return;
    from = len > 2000 ? len - 2000 : 0;
    fprintf(stderr, "bench_attestd: vouch-attestd log (%s):\n%.*s\n", d->log_path,
            (int)(len - from), (const char *)log + from);
    vouch_free(log);
}

/* ---- HTTP client (libcurl) ------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct curl_conn *c = arg;

    if (vouch_buf_append(&c->body, p, size * n) != VOUCH_OK) {
        c->overflow = true;
        return 0;
    }
    return size * n;
}

VOUCH_NODISCARD static vouch_err conn_setup(struct curl_conn *c, const char *url,
                                            const char *ca_path, struct curl_slist *headers)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    vouch_buf_init(&c->body, MAX_RESPONSE);
    if (!(c->h = curl_easy_init())) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    /* HTTP/1.1 explicitly: libcurl would otherwise negotiate h2 over TLS,
     * and the target is keep-alive HTTP/1.1. No "Expect: 100-continue" (which
     * libcurl sends for bodies over 1 KiB and which costs a round trip). */
    if (curl_easy_setopt(c->h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_CAINFO, ca_path) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c) != CURLE_OK ||
        curl_easy_setopt(c->h, CURLOPT_PRIVATE, c) != CURLE_OK ||
        (headers && curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, headers) != CURLE_OK)) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static void conn_free(struct curl_conn *c)
{
    if (c->h)
        curl_easy_cleanup(c->h);
    vouch_buf_free(&c->body);
    memset(c, 0, sizeof(*c));
}

/* One request on a fresh handle (start-up checks and the probe). */
VOUCH_NODISCARD static vouch_err http_once(const struct daemon *d, const char *path,
                                           const char *post, size_t post_len, long *status_out,
                                           struct vouch_buf *body_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct curl_conn c;
    struct curl_slist *headers = NULL, *h;
    char url[256];
    CURLcode cc;

    *status_out = 0;
    vouch_buf_free(body_out);
    memset(&c, 0, sizeof(c));
    snprintf(url, sizeof(url), "%s%s", d->base_url, path);
    if (post) {
        if (!(h = curl_slist_append(NULL, "Content-Type: application/json"))) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        headers = h;
        if (!(h = curl_slist_append(headers, "Expect:"))) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        headers = h;
    }
    if ((rc = conn_setup(&c, url, d->ca_path, headers)) != VOUCH_OK)
        goto out;
    if (post &&
        (curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, post) != CURLE_OK ||
         curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len) != CURLE_OK)) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    if ((cc = curl_easy_perform(c.h)) != CURLE_OK || c.overflow) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if (curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, status_out) != CURLE_OK) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    *body_out = c.body;
    memset(&c.body, 0, sizeof(c.body));
    rc = VOUCH_OK;
out:
    conn_free(&c);
    curl_slist_free_all(headers);
    return rc;
}

/* ---- the daemon --------------------------------------------------------------- */

static bool daemon_alive(struct daemon *d)
{
    pid_t r;

    if (d->pid <= 0 || d->reaped)
        return false;
    r = waitpid(d->pid, &d->status, WNOHANG);
    if (r == d->pid) {
        d->reaped = true;
        return false;
    }
    return true;
}

/* The daemon sits next to the bench directory: BUILD/bench/bench_attestd and
 * BUILD/vouch-attestd. */
VOUCH_NODISCARD static vouch_err default_daemon(char *out, size_t cap)
{
    vouch_err rc = VOUCH_ERR_NOT_FOUND;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    out[0] = 0;
    if (n <= 0)
        goto out;
    self[n] = 0;
    for (int i = 0; i < 2; i++) {
        if (!(slash = strrchr(self, '/')))
            goto out;
        *slash = 0;
    }
    if ((size_t)snprintf(out, cap, "%s/vouch-attestd", self) >= cap) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

VOUCH_NODISCARD static vouch_err daemon_start(const struct config *cfg, const uint8_t *coll,
                                              size_t coll_len, struct daemon *d)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *base = getenv("TMPDIR");
    char coll_dir[384], coll_file[448], data_dir[384], port_file[384], threads[16];
    posix_spawn_file_actions_t fa;
    bool fa_init = false;
    double t0;
    int err;

    memset(d, 0, sizeof(*d));
    if (access(cfg->daemon, X_OK) != 0) {
        fprintf(stderr, "bench_attestd: %s is not an executable (make build, or --daemon)\n",
                cfg->daemon);
        rc = VOUCH_ERR_NOT_FOUND;
        goto out;
    }
    snprintf(d->tmp, sizeof(d->tmp), "%s/vouch-bench-attestd-XXXXXX",
             base && base[0] ? base : "/tmp");
    if (!mkdtemp(d->tmp)) {
        fprintf(stderr, "bench_attestd: mkdtemp: %s\n", strerror(errno));
        d->tmp[0] = 0;
        rc = VOUCH_ERR_IO;
        goto out;
    }
    snprintf(coll_dir, sizeof(coll_dir), "%s/collateral", d->tmp);
    snprintf(coll_file, sizeof(coll_file), "%s/s1.json", coll_dir);
    snprintf(data_dir, sizeof(data_dir), "%s/data", d->tmp);
    snprintf(port_file, sizeof(port_file), "%s/port", d->tmp);
    snprintf(d->log_path, sizeof(d->log_path), "%s/daemon.log", d->tmp);
    snprintf(d->ca_path, sizeof(d->ca_path), "%s/tls/cert.pem", data_dir);
    snprintf(threads, sizeof(threads), "%u", cfg->threads);
    if (mkdir(coll_dir, 0700) != 0) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    if ((rc = write_file(coll_file, coll, coll_len)) != VOUCH_OK)
        goto out;

    {
        /* --quiet: the default two log lines per request would grow the log
         * by about 400 MB over the 1 M requests of the long run. */
        char *argv[] = {(char *)cfg->daemon,
                        (char *)"--listen",
                        (char *)"127.0.0.1:0",
                        (char *)"--port-file",
                        port_file,
                        (char *)"--data",
                        data_dir,
                        (char *)"--issuer",
                        (char *)ISSUER,
                        (char *)"--collateral",
                        coll_dir,
                        (char *)"--eval-time",
                        (char *)S1_NOW_TEXT,
                        (char *)"--threads",
                        threads,
                        (char *)"--quiet",
                        NULL};

        if (posix_spawn_file_actions_init(&fa) != 0) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        fa_init = true;
        if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
            posix_spawn_file_actions_addopen(&fa, 1, d->log_path, O_WRONLY | O_CREAT | O_TRUNC,
                                             0600) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, 1, 2) != 0) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        if ((err = posix_spawn(&d->pid, cfg->daemon, &fa, NULL, argv, environ)) != 0) {
            fprintf(stderr, "bench_attestd: cannot start %s: %s\n", cfg->daemon, strerror(err));
            d->pid = 0;
            rc = VOUCH_ERR_IO;
            goto out;
        }
    }

    /* Ready when the port file exists and /healthz answers over TLS (first
     * start generates the TLS and token keys). */
    t0 = now_s();
    for (;;) {
        uint8_t *port = NULL;
        size_t port_len = 0;
        char port_text[16];
        struct vouch_buf body = {0};
        long status = 0;
        unsigned long p;
        char *end = NULL;

        if (!daemon_alive(d)) {
            fprintf(stderr, "bench_attestd: vouch-attestd exited during start-up\n");
            print_log_tail(d);
            rc = VOUCH_ERR_IO;
            goto out;
        }
        if (interrupted || now_s() - t0 > START_TIMEOUT_S) {
            fprintf(stderr, "bench_attestd: vouch-attestd not ready after %.0f s\n", now_s() - t0);
            print_log_tail(d);
            rc = VOUCH_ERR_IO;
            goto out;
        }
        if (access(port_file, R_OK) == 0 &&
            read_file(d->tmp, "port", &port, &port_len) == VOUCH_OK) {
            snprintf(port_text, sizeof(port_text), "%.*s",
                     (int)(port_len < sizeof(port_text) ? port_len : 0), (const char *)port);
            vouch_free(port);
            p = strtoul(port_text, &end, 10);
            if (end && (*end == '\n' || *end == 0) && p > 0 && p < 65536) {
                snprintf(d->base_url, sizeof(d->base_url), "https://127.0.0.1:%lu", p);
                d->port = (unsigned)p;
                if (http_once(d, "/healthz", NULL, 0, &status, &body) == VOUCH_OK &&
                    status == 200) {
                    vouch_buf_free(&body);
                    break;
                }
                vouch_buf_free(&body);
            }
        }
        usleep(50000);
    }
    rc = VOUCH_OK;
out:
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* SIGTERM and wait; a daemon that does not stop cleanly fails the run. */
VOUCH_NODISCARD static vouch_err daemon_stop(struct daemon *d)
{
    vouch_err rc = VOUCH_ERR_IO;
    double t0 = now_s();

    if (d->pid <= 0) {
        rc = VOUCH_OK;
        goto out;
    }
    if (!d->reaped)
        (void)kill(d->pid, SIGTERM);
    while (daemon_alive(d) && now_s() - t0 < STOP_TIMEOUT_S)
        usleep(20000);
    if (!d->reaped) {
        fprintf(stderr, "bench_attestd: vouch-attestd did not stop within %.0f s of SIGTERM\n",
                STOP_TIMEOUT_S);
        (void)kill(d->pid, SIGKILL);
        (void)waitpid(d->pid, &d->status, 0);
        d->reaped = true;
        goto out;
    }
    if (!WIFEXITED(d->status) || WEXITSTATUS(d->status) != 0) {
        fprintf(stderr, "bench_attestd: vouch-attestd ended badly (%s %d)\n",
                WIFEXITED(d->status) ? "exit" : "signal",
                WIFEXITED(d->status) ? WEXITSTATUS(d->status) : WTERMSIG(d->status));
        print_log_tail(d);
        goto out;
    }
    rc = VOUCH_OK;
out:
    d->pid = 0;
    return rc;
}

/* ---- token checks ----------------------------------------------------------------- */

/* The structural check every response gets: {"token":"h.p.s"} in base64url. */
static bool token_shape_ok(const struct vouch_buf *b)
{
    size_t pre = sizeof(TOKEN_PREFIX) - 1, dots = 0;

    if (!b->data || b->len < pre + 2 || memcmp(b->data, TOKEN_PREFIX, pre) != 0 ||
        memcmp(b->data + b->len - 2, "\"}", 2) != 0)
        return false;
    for (size_t i = pre; i < b->len - 2; i++) {
        uint8_t ch = b->data[i];
        if (ch == '.')
            dots++;
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return false;
    }
    return dots == 2;
}

/* Full check of one response: the token verifies with the daemon's published
 * keys and issuer and carries S1's verdict. On success the token's claims
 * without the per-token ones go to @p claims_out (if given). */
VOUCH_NODISCARD static vouch_err token_check(const struct daemon *d, const struct vouch_buf *resp,
                                             json_t **claims_out, size_t *token_len_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_buf certs = {0};
    struct vouch_jwks *jwks = NULL;
    struct vouch_token_opts opts;
    struct vouch_token_result tr;
    json_t *body = NULL;
    const char *tok, *type, *tcb;
    size_t tok_len = 0, type_len, tcb_len;
    long status = 0;
    char err[160];

    if (claims_out)
        *claims_out = NULL;
    if (token_len_out)
        *token_len_out = 0;
    memset(&tr, 0, sizeof(tr));
    if ((rc = vouch_json_parse((const char *)resp->data, resp->len, &body, err, sizeof(err))) !=
            VOUCH_OK ||
        (rc = vouch_json_str(body, "token", &tok, &tok_len)) != VOUCH_OK) {
        fprintf(stderr, "bench_attestd: response is not {\"token\"}: %.200s\n", resp->data);
        goto out;
    }
    if ((rc = http_once(d, "/certs", NULL, 0, &status, &certs)) != VOUCH_OK || status != 200) {
        fprintf(stderr, "bench_attestd: GET /certs failed (HTTP %ld)\n", status);
        rc = rc == VOUCH_OK ? VOUCH_ERR_VERIFY : rc;
        goto out;
    }
    if ((rc = vouch_jwks_parse((const char *)certs.data, certs.len, &jwks, err, sizeof(err))) !=
        VOUCH_OK) {
        fprintf(stderr, "bench_attestd: /certs: %s\n", err);
        goto out;
    }
    vouch_token_opts_init(&opts, S1_NOW);
    opts.issuer = ISSUER;
    opts.algs = VOUCH_TOKEN_ALG(VOUCH_SIG_RS256);
    if ((rc = vouch_token_verify(tok, tok_len, jwks, &opts, &tr)) != VOUCH_OK) {
        fprintf(stderr, "bench_attestd: the service's token does not verify: %s\n", tr.reason);
        goto out;
    }
    if (vouch_json_str(tr.claims, "x-ms-attestation-type", &type, &type_len) != VOUCH_OK ||
        strcmp(type, "sgx") != 0 ||
        vouch_json_str(tr.claims, "attester_tcb_status", &tcb, &tcb_len) != VOUCH_OK ||
        strcmp(tcb, vouch_tcb_status_name(S1_STATUS)) != 0) {
        fprintf(stderr, "bench_attestd: the token does not carry S1's verdict (sgx, %s)\n",
                vouch_tcb_status_name(S1_STATUS));
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    if (claims_out) {
        json_t *c = json_deep_copy(tr.claims);
        if (!c) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
        /* vouch_token_issue adds these itself. */
        (void)json_object_del(c, "iat");
        (void)json_object_del(c, "nbf");
        (void)json_object_del(c, "exp");
        (void)json_object_del(c, "jti");
        *claims_out = c;
    }
    if (token_len_out)
        *token_len_out = tok_len;
    rc = VOUCH_OK;
out:
    vouch_token_result_free(&tr);
    vouch_jwks_free(jwks);
    vouch_buf_free(&certs);
    json_decref(body);
    return rc;
}

/* ---- the limit: verify + sign, in this process ---------------------------------- */

VOUCH_NODISCARD static vouch_err verify_op(void *arg)
{
    struct verify_ctx *c = arg;
    struct vouch_verify_result res;
    vouch_err rc = VOUCH_ERR_INTERNAL;
    vouch_err vrc;

    memset(&res, 0, sizeof(res));
    vrc = vouch_evidence_verify(c->quote, c->quote_len, &c->opts, &res);
    if (vrc != VOUCH_OK || !res.verified || res.status != S1_STATUS || res.collateral_expired) {
        fprintf(stderr, "bench_attestd: S1: wrong answer: rc=%s verified=%d status=%s: %s\n",
                vouch_err_name(vrc), res.verified, vouch_tcb_status_name(res.status),
                res.error_detail);
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_verify_result_free(&res);
    return rc;
}

VOUCH_NODISCARD static vouch_err sign_op(void *arg)
{
    struct sign_ctx *c = arg;
    char *token = NULL;
    vouch_err rc =
        vouch_token_issue(&c->signer, c->claims, S1_NOW, VOUCH_TOKEN_DEFAULT_LIFETIME, &token);

    if (rc != VOUCH_OK) {
        fprintf(stderr, "bench_attestd: vouch_token_issue: %s\n", vouch_err_name(rc));
        goto out;
    }
    c->token_len = strlen(token);
out:
    vouch_free(token);
    return rc;
}

VOUCH_NODISCARD static vouch_err measure(bench_op_fn op, void *ctx, double seconds,
                                         struct limit_stats *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    double t0, t1, t_start, cpu_start, sum = 0;
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    /* Warm-up: the PCK leaf cache, lazily built tables (10% of the budget). */
    t_start = now_s();
    for (size_t i = 0; i < 3 || now_s() - t_start < seconds / 10; i++) {
        if ((rc = op(ctx)) != VOUCH_OK)
            goto out;
    }
    t_start = now_s();
    cpu_start = thread_cpu_s();
    t1 = t_start;
    while (n < MAX_LIMIT_SAMPLES && (n < MIN_LIMIT_ITERS || t1 - t_start < seconds) &&
           !interrupted) {
        t0 = now_s();
        rc = op(ctx);
        t1 = now_s();
        if (rc != VOUCH_OK)
            goto out;
        limit_samples[n++] = (t1 - t0) * 1e6;
    }
    if (interrupted) {
        rc = VOUCH_ERR_BUSY;
        goto out;
    }
    out->cpu_us = (thread_cpu_s() - cpu_start) * 1e6 / (double)n;
    for (size_t i = 0; i < n; i++)
        sum += limit_samples[i];
    bench_sort(limit_samples, n);
    out->iters = n;
    out->mean_us = sum / (double)n;
    out->p50_us = bench_percentile(limit_samples, n, 50);
    rc = VOUCH_OK;
out:
    return rc;
}

/* The limit on all the cores at once: one thread per core, each doing verify
 * then sign in a loop. A machine rarely scales perfectly (shared caches, SMT
 * siblings, the hypervisor), and how well it scales changes with what the
 * host is doing, so the limit the load is compared with is measured this way,
 * in the same run; cores x the one-thread figure is reported beside it. */
struct par_worker {
    pthread_t th;
    json_t *claims; /* this thread's own copy */
    struct verify_ctx v;
    struct sign_ctx s;
    double seconds;
    uint64_t pairs;
    double cpu_s;
    vouch_err rc;
};

/* 0: wait, 1: go, -1: give up (a thread could not be started). */
static atomic_int par_go;

static void *par_run(void *arg)
{
    struct par_worker *w = arg;
    double t0, cpu0;

    w->rc = VOUCH_OK;
    /* Warm this thread's caches before the clock starts. */
    if ((w->rc = verify_op(&w->v)) != VOUCH_OK || (w->rc = sign_op(&w->s)) != VOUCH_OK)
        return NULL;
    while (atomic_load(&par_go) == 0)
        sched_yield();
    if (atomic_load(&par_go) < 0)
        return NULL;
    t0 = now_s();
    cpu0 = thread_cpu_s();
    while (now_s() - t0 < w->seconds && !interrupted) {
        if ((w->rc = verify_op(&w->v)) != VOUCH_OK || (w->rc = sign_op(&w->s)) != VOUCH_OK)
            return NULL;
        w->pairs++;
    }
    w->cpu_s = thread_cpu_s() - cpu0;
    return NULL;
}

/* Pairs (verify + sign) per CPU second and per wall second, @p n threads. */
VOUCH_NODISCARD static vouch_err measure_parallel(const struct verify_ctx *v,
                                                  const struct sign_ctx *s, unsigned n,
                                                  double seconds, double *per_cpu_s,
                                                  double *per_wall_s)
{
    struct par_worker *w = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;
    unsigned started = 0;
    uint64_t pairs = 0;
    double cpu = 0, t0, wall;

    *per_cpu_s = *per_wall_s = 0;
    if (!(w = vouch_calloc(n, sizeof(*w))))
        return VOUCH_ERR_NOMEM;
    atomic_store(&par_go, 0);
    for (unsigned i = 0; i < n; i++) {
        w[i].v = *v;
        w[i].s = *s;
        w[i].seconds = seconds;
        if (!(w[i].claims = json_deep_copy(s->claims)))
            goto out;
        w[i].s.claims = w[i].claims;
    }
    for (; started < n; started++) {
        if (pthread_create(&w[started].th, NULL, par_run, &w[started]) != 0)
            break;
    }
    atomic_store(&par_go, started == n ? 1 : -1);
    t0 = now_s();
    rc = started == n ? VOUCH_OK : VOUCH_ERR_INTERNAL;
    for (unsigned i = 0; i < started; i++) {
        (void)pthread_join(w[i].th, NULL);
        if (w[i].rc != VOUCH_OK)
            rc = w[i].rc;
        pairs += w[i].pairs;
        cpu += w[i].cpu_s;
    }
    wall = now_s() - t0;
    if (rc == VOUCH_OK && interrupted)
        rc = VOUCH_ERR_BUSY;
    if (rc == VOUCH_OK && (pairs == 0 || cpu <= 0 || wall <= 0))
        rc = VOUCH_ERR_INTERNAL;
    if (rc == VOUCH_OK) {
        *per_cpu_s = (double)pairs / cpu;
        *per_wall_s = (double)pairs / wall;
    }
out:
    for (unsigned i = 0; i < n; i++)
        json_decref(w[i].claims);
    vouch_free(w);
    return rc;
}

/* The same limit from primitives alone, as PRODUCT.md's table words it:
 * `openssl speed -multi CORES` for RSA-2048 signatures and P-256
 * verifications (all processes together), a request counted as one
 * signature plus 2 verifications (what a cached quote verification does
 * once the PCK leaf is cached) or 3 (bench_evidence's count, leaf included).
 * It charges everything else a request needs (parsing, TCB evaluation, the
 * token's JSON, policy, HTTP, TLS, the kernel) to the service, so it is
 * reported beside the target's limit, not instead of it. */
struct speed {
    double rsa_sign_per_s;
    double p256_verify_per_s;
};

VOUCH_NODISCARD static vouch_err openssl_speed(unsigned cores, struct speed *out)
{
    char cmd[128], line[256];
    FILE *f;
    int status;

    memset(out, 0, sizeof(*out));
    snprintf(cmd, sizeof(cmd),
             "openssl speed -seconds 1 -multi %u -mr rsa2048 ecdsap256 2>/dev/null", cores);
    if (!(f = popen(cmd, "r"))) {
        fprintf(stderr, "bench_attestd: cannot run openssl speed: %s\n", strerror(errno));
        return VOUCH_ERR_IO;
    }
    /* Machine-readable totals: +F2:i:2048:sign/s:verify/s (RSA),
     * +F4:i:256:sign/s:verify/s (ECDSA P-256). */
    while (fgets(line, sizeof(line), f)) {
        unsigned i = 0, bits = 0;
        double sign = 0, verify = 0;
        if (sscanf(line, "+F2:%u:%u:%lf:%lf", &i, &bits, &sign, &verify) == 4 && bits == 2048)
            out->rsa_sign_per_s = sign;
        else if (sscanf(line, "+F4:%u:%u:%lf:%lf", &i, &bits, &sign, &verify) == 4 && bits == 256)
            out->p256_verify_per_s = verify;
    }
    status = pclose(f);
    if (status != 0 || out->rsa_sign_per_s <= 0 || out->p256_verify_per_s <= 0) {
        fprintf(stderr, "bench_attestd: '%s' failed or printed no RSA-2048/P-256 totals\n", cmd);
        return VOUCH_ERR_IO;
    }
    return VOUCH_OK;
}

/* Requests per second if each cost one RSA signature and @p verifies P-256
 * verifications and nothing else. */
static double speed_limit(const struct speed *s, unsigned verifies)
{
    return 1.0 / (1.0 / s->rsa_sign_per_s + (double)verifies / s->p256_verify_per_s);
}

/* ---- the load -------------------------------------------------------------------- */

/* The load generator is part of the measuring setup, not of the service, and
 * shares the machine's two cores with the daemon: every cycle it spends is
 * taken from the service being measured. So it is a small epoll loop on
 * OpenSSL rather than libcurl's multi interface (which cost about three times
 * as much CPU per request). It still does what a client must: it verifies the
 * server's certificate and address on each connection, sends the full request
 * (head and body) for every attestation, one at a time per connection, and
 * reads and checks every response (status 200, Content-Length framing, a
 * well-formed token). */

#define RESP_HEAD_MAX (16u << 10)
#define TLS_READ_BUF  (64u << 10)
#define EPOLL_WAIT_MS 100

static void load_fail(struct load *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void load_fail(struct load *L, const char *fmt, ...)
{
    va_list ap;

    if (L->error[0])
        return;
    va_start(ap, fmt);
    vsnprintf(L->error, sizeof(L->error), fmt, ap);
    va_end(ap);
}

static void conn_close(struct load *L, struct conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd >= 0) {
        (void)epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->ssl = NULL;
    c->fd = -1;
    c->state = CONN_CLOSED;
}

static const char *tls_error_text(void)
{
    unsigned long e = ERR_get_error();

    ERR_clear_error();
    return e ? ERR_reason_error_string(e) : "connection closed";
}

/* Connects and completes the TLS handshake (blocking: connections are opened
 * in the warm-up), then switches the socket to non-blocking. */
VOUCH_NODISCARD static vouch_err conn_open(struct load *L, struct conn *c)
{
    vouch_err rc = VOUCH_ERR_IO;
    struct epoll_event ev;
    int one = 1, fl;
    long vr;

    conn_close(L, c);
    if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        connect(c->fd, (const struct sockaddr *)&L->addr, sizeof(L->addr)) != 0) {
        load_fail(L, "connect: %s", strerror(errno));
        goto out;
    }
    if (!(c->ssl = SSL_new(L->tls)) || SSL_set_fd(c->ssl, c->fd) != 1 ||
        /* The certificate must name the address we dialled. */
        SSL_set1_host(c->ssl, "127.0.0.1") != 1 ||
        SSL_set_alpn_protos(c->ssl, (const unsigned char *)"\x08http/1.1", 9) != 0) {
        load_fail(L, "SSL_new: %s", tls_error_text());
        goto out;
    }
    if (SSL_connect(c->ssl) != 1) {
        vr = SSL_get_verify_result(c->ssl);
        load_fail(L, "TLS handshake: %s (%s)", tls_error_text(),
                  vr == X509_V_OK ? "certificate ok" : X509_verify_cert_error_string(vr));
        goto out;
    }
    if ((fl = fcntl(c->fd, F_GETFL)) < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        load_fail(L, "fcntl: %s", strerror(errno));
        goto out;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        load_fail(L, "epoll_ctl: %s", strerror(errno));
        goto out;
    }
    c->state = CONN_IDLE;
    L->connects++;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        conn_close(L, c);
    return rc;
}

VOUCH_NODISCARD static vouch_err load_init(struct load *L, const struct daemon *d, unsigned n,
                                           const char *req_body, size_t req_len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    char head[512];
    int hl;

    memset(L, 0, sizeof(*L));
    L->ep = -1;
    L->addr.sin_family = AF_INET;
    L->addr.sin_port = htons((uint16_t)d->port);
    L->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* What libcurl sent, minus its User-Agent and Accept. */
    hl = snprintf(head, sizeof(head),
                  "POST " ATTEST_PATH " HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                  d->port, req_len);
    if (hl < 0 || (size_t)hl >= sizeof(head))
        goto out;
    L->req_len = (size_t)hl + req_len;
    if (!(L->req = vouch_malloc(L->req_len)) || !(L->conns = vouch_calloc(n, sizeof(*L->conns)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    memcpy(L->req, head, (size_t)hl);
    memcpy(L->req + hl, req_body, req_len);
    L->n = n;
    for (unsigned i = 0; i < n; i++) {
        L->conns[i].fd = -1;
        vouch_buf_init(&L->conns[i].body, MAX_RESPONSE);
    }
    for (unsigned i = 0; i < n; i++) {
        if (!(L->conns[i].in = vouch_malloc(MAX_RESPONSE))) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
    }
    if ((L->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        rc = VOUCH_ERR_IO;
        goto out;
    }
    /* TLS 1.2+ with the daemon's certificate as the only trust anchor. Read
     * ahead: a response is one record, and OpenSSL may then fetch it with one
     * read(2) instead of a header read and a body read. */
    if (!(L->tls = SSL_CTX_new(TLS_client_method())) ||
        SSL_CTX_set_min_proto_version(L->tls, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(L->tls, d->ca_path, NULL) != 1) {
        fprintf(stderr, "bench_attestd: client TLS context: %s\n", tls_error_text());
        rc = VOUCH_ERR_CRYPTO;
        goto out;
    }
    SSL_CTX_set_verify(L->tls, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_read_ahead(L->tls, 1);
    SSL_CTX_set_default_read_buffer_len(L->tls, TLS_READ_BUF);
    rc = VOUCH_OK;
out:
    return rc;
}

static void load_free(struct load *L)
{
    for (unsigned i = 0; L->conns && i < L->n; i++) {
        conn_close(L, &L->conns[i]);
        vouch_free(L->conns[i].in);
        vouch_buf_free(&L->conns[i].body);
    }
    vouch_free(L->conns);
    vouch_free(L->req);
    if (L->ep >= 0)
        close(L->ep);
    if (L->tls)
        SSL_CTX_free(L->tls);
    vouch_free(L->lat_ms);
    memset(L, 0, sizeof(*L));
    L->ep = -1;
}

VOUCH_NODISCARD static vouch_err record_latency(struct load *L, double ms)
{
    vouch_err rc = VOUCH_ERR_NOMEM;

    if (L->n_lat == L->cap_lat) {
        size_t cap = L->cap_lat ? L->cap_lat * 2 : 65536;
        double *p = vouch_reallocarray(L->lat_ms, cap, sizeof(*p));
        if (!p)
            goto out;
        L->lat_ms = p;
        L->cap_lat = cap;
    }
    L->lat_ms[L->n_lat++] = ms;
    rc = VOUCH_OK;
out:
    return rc;
}

/* The first occurrence of @p needle in [p, p + len), or NULL. */
static const uint8_t *find_bytes(const uint8_t *p, size_t len, const char *needle)
{
    size_t nl = strlen(needle);

    for (size_t i = 0; i + nl <= len; i++) {
        if (p[i] == (uint8_t)needle[0] && memcmp(p + i, needle, nl) == 0)
            return p + i;
    }
    return NULL;
}

static bool name_is(const char *p, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(p, name, len) == 0;
}

/* Parses the response head in c->in[0, head_len): status, Content-Length
 * (required: the daemon frames every answer with it), Connection. Chunked
 * framing is refused rather than half-handled. */
static bool parse_head(struct load *L, struct conn *c)
{
    const char *p = (const char *)c->in, *end = p + c->head_len - 2, *eol;
    bool have_len = false;

    if (c->head_len < 14 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[9] < '1' || p[9] > '5' ||
        p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
        (p[12] != ' ' && p[12] != '\r')) {
        load_fail(L, "malformed status line: %.60s", p);
        return false;
    }
    c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    c->close_after = false;
    p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
    for (; p < end; p = eol + 2) {
        const char *colon, *v;
        size_t nlen;

        if (!(eol = (const char *)find_bytes((const uint8_t *)p, (size_t)(end + 2 - p), "\r\n")) ||
            !(colon = memchr(p, ':', (size_t)(eol - p)))) {
            load_fail(L, "malformed response header: %.60s", p);
            return false;
        }
        nlen = (size_t)(colon - p);
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
            ;
        if (name_is(p, nlen, "content-length")) {
            char num[24], *e = NULL;
            size_t vl = (size_t)(eol - v);
            unsigned long long cl;

            if (have_len || vl == 0 || vl >= sizeof(num)) {
                load_fail(L, "bad Content-Length");
                return false;
            }
            memcpy(num, v, vl);
            num[vl] = 0;
            errno = 0;
            cl = strtoull(num, &e, 10);
            if (errno || *e || num[0] == '-' || cl > MAX_RESPONSE - c->head_len) {
                load_fail(L, "bad Content-Length: %s", num);
                return false;
            }
            c->content_len = (size_t)cl;
            have_len = true;
        } else if (name_is(p, nlen, "transfer-encoding")) {
            load_fail(L, "unexpected Transfer-Encoding in a response");
            return false;
        } else if (name_is(p, nlen, "connection")) {
            c->close_after = find_bytes((const uint8_t *)v, (size_t)(eol - v), "close") != NULL;
        }
    }
    if (!have_len) {
        load_fail(L, "response without Content-Length");
        return false;
    }
    return true;
}

/* Sends the request (again, after WANT_WRITE). False on failure. */
static bool conn_write(struct load *L, struct conn *c)
{
    struct epoll_event ev;
    int n, e;

    ERR_clear_error();
    n = SSL_write(c->ssl, L->req, (int)L->req_len);
    if (n > 0) {
        /* Without SSL_MODE_ENABLE_PARTIAL_WRITE, all of it. */
        if (c->state == CONN_WRITING) {
            memset(&ev, 0, sizeof(ev));
            ev.events = EPOLLIN;
            ev.data.ptr = c;
            (void)epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        c->state = CONN_READING;
        return true;
    }
    e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        if (c->state != CONN_WRITING) {
            memset(&ev, 0, sizeof(ev));
            ev.events = EPOLLIN | EPOLLOUT;
            ev.data.ptr = c;
            if (epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
                load_fail(L, "epoll_ctl: %s", strerror(errno));
                return false;
            }
        }
        c->state = CONN_WRITING;
        return true;
    }
    load_fail(L, "TLS write: %s", tls_error_text());
    return false;
}

VOUCH_NODISCARD static vouch_err start_request(struct load *L, struct conn *c)
{
    if (c->state == CONN_CLOSED && conn_open(L, c) != VOUCH_OK)
        return VOUCH_ERR_IO;
    c->in_len = 0;
    c->head_len = 0;
    c->content_len = 0;
    c->t_start = now_s();
    return conn_write(L, c) ? VOUCH_OK : VOUCH_ERR_IO;
}

/* Reads what has arrived. Returns 1 when the response is complete, 0 when
 * more is needed, -1 on failure. */
static int conn_read(struct load *L, struct conn *c)
{
    for (;;) {
        int n, e;

        if (c->in_len >= MAX_RESPONSE) {
            load_fail(L, "response larger than %u bytes", MAX_RESPONSE);
            return -1;
        }
        ERR_clear_error();
        n = SSL_read(c->ssl, c->in + c->in_len, (int)(MAX_RESPONSE - c->in_len));
        if (n <= 0) {
            e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_READ)
                return 0;
            load_fail(L, "TLS read: %s", tls_error_text());
            return -1;
        }
        if (!c->head_len) {
            size_t from = c->in_len > 3 ? c->in_len - 3 : 0;
            const uint8_t *h;

            c->in_len += (size_t)n;
            if ((h = find_bytes(c->in + from, c->in_len - from, "\r\n\r\n")) != NULL) {
                c->head_len = (size_t)(h - c->in) + 4;
                if (!parse_head(L, c))
                    return -1;
            } else if (c->in_len > RESP_HEAD_MAX) {
                load_fail(L, "response head larger than %u bytes", RESP_HEAD_MAX);
                return -1;
            }
        } else {
            c->in_len += (size_t)n;
        }
        if (c->head_len && c->in_len >= c->head_len + c->content_len) {
            /* One request in flight: nothing may follow its answer. */
            if (c->in_len > c->head_len + c->content_len || SSL_pending(c->ssl) > 0) {
                load_fail(L, "bytes after the response");
                return -1;
            }
            return 1;
        }
    }
}

/* A complete response: must be HTTP 200 with a token. */
static bool response_ok(struct load *L, struct conn *c)
{
    const uint8_t *body = c->in + c->head_len;

    vouch_buf_reset(&c->body);
    if (vouch_buf_append(&c->body, body, c->content_len) != VOUCH_OK) {
        load_fail(L, "out of memory");
        return false;
    }
    if (c->status != 200) {
        load_fail(L, "HTTP %d: %.180s", c->status, c->body.data ? (char *)c->body.data : "");
        return false;
    }
    if (!token_shape_ok(&c->body)) {
        load_fail(L, "200 without a well-formed token: %.160s", (char *)c->body.data);
        return false;
    }
    return true;
}

/* Closed loop: every connection has one request in flight; a finished one is
 * checked, timed and replaced until the phase's time or count is reached, and
 * then the requests in flight are drained, so each phase ends idle. */
VOUCH_NODISCARD static vouch_err run_phase(struct load *L, const struct phase *ph,
                                           struct phase_result *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    double t_start, t_end, deadline, next_rss, next_progress, next_timeout_check, cpu0,
        srv0 = 0, srv1 = 0, sum = 0;
    struct epoll_event evs[64];
    uint64_t issued = 0;
    unsigned running = 0;
    long connects0 = L->connects;
    bool stop = false;

    memset(out, 0, sizeof(*out));
    if (!ph->keep_latencies)
        L->n_lat = 0;
    if ((rc = proc_cpu_s(ph->server, &srv0)) != VOUCH_OK ||
        (rc = proc_rss_kib(ph->server, &out->rss_max_kib)) != VOUCH_OK) {
        fprintf(stderr, "bench_attestd: cannot read /proc/%ld\n", (long)ph->server);
        goto out;
    }
    cpu0 = self_cpu_s();
    t_start = now_s();
    t_end = t_start;
    deadline = t_start + ph->seconds;
    next_rss = t_start + RSS_SAMPLE_INTERVAL;
    next_progress = t_start + PROGRESS_INTERVAL_S;
    next_timeout_check = t_start + 1.0;
    for (unsigned i = 0; i < L->n && (!ph->requests || issued < ph->requests); i++) {
        if (start_request(L, &L->conns[i]) != VOUCH_OK) {
            out->failures++;
            stop = true;
            break;
        }
        issued++;
        running++;
    }
    while (running > 0) {
        int nev = epoll_wait(L->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])),
                             L->pace_us ? 0 : EPOLL_WAIT_MS);
        double t;

        if (nev == 0 && L->pace_us) {
            struct timespec ts = {0, (long)L->pace_us * 1000};
            nanosleep(&ts, NULL);
        }

        if (nev < 0 && errno != EINTR) {
            load_fail(L, "epoll_wait: %s", strerror(errno));
            rc = VOUCH_ERR_IO;
            goto out;
        }
        for (int k = 0; k < nev; k++) {
            struct conn *c = evs[k].data.ptr;
            int r = 0;

            if (c->state == CONN_WRITING) {
                if (!conn_write(L, c))
                    r = -1;
                else if (c->state == CONN_WRITING)
                    continue;
            } else if (c->state != CONN_READING) {
                /* Idle: the server closed it, or sent what nobody asked for. */
                conn_close(L, c);
                continue;
            }
            if (r == 0 && (r = conn_read(L, c)) == 0)
                continue;
            t = now_s();
            t_end = t;
            if (r > 0 && response_ok(L, c)) {
                out->completed++;
                if ((rc = record_latency(L, (t - c->t_start) * 1e3)) != VOUCH_OK)
                    goto out;
                c->state = CONN_IDLE;
                if (c->close_after)
                    conn_close(L, c);
            } else {
                out->failures++;
                stop = true;
                conn_close(L, c);
            }
            running--;
            if (interrupted)
                stop = true;
            if (!stop && (ph->requests ? issued < ph->requests : t < deadline)) {
                if (start_request(L, c) != VOUCH_OK) {
                    out->failures++;
                    stop = true;
                    conn_close(L, c);
                    continue;
                }
                issued++;
                running++;
            }
        }
        t = now_s();
        if (t >= next_timeout_check) {
            for (unsigned i = 0; i < L->n; i++) {
                struct conn *c = &L->conns[i];
                if ((c->state == CONN_READING || c->state == CONN_WRITING) &&
                    (t - c->t_start) * 1e3 > (double)REQUEST_TIMEOUT_MS) {
                    load_fail(L, "no response within %ld ms", REQUEST_TIMEOUT_MS);
                    conn_close(L, c);
                    out->failures++;
                    stop = true;
                    running--;
                }
            }
            next_timeout_check = t + 1.0;
        }
        if (t >= next_rss) {
            long rss = 0;
            if (proc_rss_kib(ph->server, &rss) == VOUCH_OK && rss > out->rss_max_kib)
                out->rss_max_kib = rss;
            next_rss = t + RSS_SAMPLE_INTERVAL;
        }
        if (ph->progress && t >= next_progress) {
            fprintf(stderr, "  %s: %llu requests, %.0f/s, rss %ld KiB\n", ph->name,
                    (unsigned long long)out->completed, (double)out->completed / (t - t_start),
                    out->rss_max_kib);
            next_progress = t + PROGRESS_INTERVAL_S;
        }
    }
    out->connects = L->connects - connects0;
    out->elapsed_s = t_end - t_start;
    out->client_cpu_s = self_cpu_s() - cpu0;
    if ((rc = proc_cpu_s(ph->server, &srv1)) != VOUCH_OK)
        goto out;
    out->server_cpu_s = srv1 - srv0;
    if (L->n_lat > 0) {
        for (size_t i = 0; i < L->n_lat; i++)
            sum += L->lat_ms[i];
        bench_sort(L->lat_ms, L->n_lat);
        out->mean_ms = sum / (double)L->n_lat;
        out->p50_ms = bench_percentile(L->lat_ms, L->n_lat, 50);
        out->p90_ms = bench_percentile(L->lat_ms, L->n_lat, 90);
        out->p99_ms = bench_percentile(L->lat_ms, L->n_lat, 99);
        out->max_ms = L->lat_ms[L->n_lat - 1];
    }
    if (interrupted) {
        fprintf(stderr, "bench_attestd: interrupted\n");
        rc = VOUCH_ERR_BUSY;
        goto out;
    }
    if (out->failures > 0) {
        fprintf(stderr, "bench_attestd: %s: %llu failed request(s); first: %s\n", ph->name,
                (unsigned long long)out->failures, L->error);
        rc = VOUCH_ERR_VERIFY;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(
        stderr,
        "usage: bench_attestd [options] [DATA_DIR]\n"
        "  --daemon PATH       vouch-attestd (default: BUILD/vouch-attestd beside BUILD/bench)\n"
        "  --seconds S         measured load (default %.0f)\n"
        "  --warmup S          load before measuring (default %.0f)\n"
        "  --connections N     keep-alive connections (default %u)\n"
        "  --threads N         daemon worker threads (default %u)\n"
        "  --rss-seconds S     long phase for RSS growth (default %.0f; 0 skips it)\n"
        "  --requests N        long phase of N requests instead (the target says 1000000)\n"
        "  --limit-seconds S   measuring time for verify and for sign (default %.0f)\n"
        "  --pace-us N         client: collect answers every N us instead of being woken for\n"
        "                      each one (default %u; 0 wakes per answer)\n"
        "  --slices N          measured load in N slices with the limit measured between\n"
        "                      them (default %u)\n",
        DEFAULT_SECONDS, DEFAULT_WARMUP, DEFAULT_CONNECTIONS, DEFAULT_THREADS, DEFAULT_RSS_SECONDS,
        DEFAULT_LIMIT_SECS, DEFAULT_PACE_US, DEFAULT_SLICES);
}

static bool parse_seconds(const char *s, double min, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);

    if (!end || *end || !(v >= min && v <= 86400))
        return false;
    *out = v;
    return true;
}

static bool parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (!s[0] || s[0] == '-')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || !end || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

VOUCH_NODISCARD static vouch_err parse_args(int argc, char **argv, struct config *cfg)
{
    vouch_err rc = VOUCH_ERR_INVAL;
    uint64_t v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;

        if (a[0] != '-') {
            cfg->data_dir = a;
            continue;
        }
        if (!next) {
            ok = false;
        } else if (strcmp(a, "--daemon") == 0) {
            cfg->daemon = next;
        } else if (strcmp(a, "--seconds") == 0) {
            ok = parse_seconds(next, 0.1, &cfg->seconds);
        } else if (strcmp(a, "--warmup") == 0) {
            ok = parse_seconds(next, 0, &cfg->warmup);
        } else if (strcmp(a, "--rss-seconds") == 0) {
            ok = parse_seconds(next, 0, &cfg->rss_seconds);
        } else if (strcmp(a, "--limit-seconds") == 0) {
            ok = parse_seconds(next, 0.1, &cfg->limit_seconds);
        } else if (strcmp(a, "--requests") == 0) {
            ok = parse_count(next, 1, UINT64_MAX / 2, &cfg->requests);
        } else if (strcmp(a, "--connections") == 0) {
            ok = parse_count(next, 1, MAX_CONNECTIONS, &v);
            cfg->connections = (unsigned)v;
        } else if (strcmp(a, "--slices") == 0) {
            ok = parse_count(next, 1, MAX_SLICES, &v);
            cfg->slices = (unsigned)v;
        } else if (strcmp(a, "--pace-us") == 0) {
            ok = parse_count(next, 0, 100000, &v);
            cfg->pace_us = (unsigned)v;
        } else if (strcmp(a, "--threads") == 0) {
            ok = parse_count(next, 1, 256, &v);
            cfg->threads = (unsigned)v;
        } else {
            ok = false;
        }
        if (!ok) {
            usage();
            goto out;
        }
        i++;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static void print_phase_common(const char *name, const struct config *cfg,
                               const struct phase_result *r)
{
    printf("{\"bench\":\"attestd\",\"case\":\"%s\",\"connections\":%u,\"server_threads\":%u,"
           "\"protocol\":\"HTTP/1.1 TLS keep-alive\",\"requests\":%llu,\"failures\":%llu,"
           "\"seconds\":%.2f,\"attests_per_s\":%.1f,\"mean_ms\":%.3f,\"p50_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"server_cpu_s\":%.2f,"
           "\"client_cpu_s\":%.2f,\"server_cpu_cores\":%.2f,\"client_cpu_cores\":%.2f,"
           "\"new_connections\":%ld",
           name, cfg->connections, cfg->threads, (unsigned long long)r->completed,
           (unsigned long long)r->failures, r->elapsed_s, (double)r->completed / r->elapsed_s,
           r->mean_ms, r->p50_ms, r->p90_ms, r->p99_ms, r->max_ms, r->server_cpu_s, r->client_cpu_s,
           r->server_cpu_s / r->elapsed_s, r->client_cpu_s / r->elapsed_s, r->connects);
}

int main(int argc, char **argv)
{
    struct config cfg = {.data_dir = VOUCH_TESTDATA_DIR,
                         .seconds = DEFAULT_SECONDS,
                         .warmup = DEFAULT_WARMUP,
                         .rss_seconds = DEFAULT_RSS_SECONDS,
                         .limit_seconds = DEFAULT_LIMIT_SECS,
                         .connections = DEFAULT_CONNECTIONS,
                         .threads = DEFAULT_THREADS,
                         .pace_us = DEFAULT_PACE_US,
                         .slices = DEFAULT_SLICES};
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct daemon d;
    struct load L;
    struct sigaction sa;
    char daemon_path[4096];
    uint8_t *quote = NULL, *coll = NULL;
    size_t quote_len = 0, coll_len = 0, req_len, probe_token_len = 0;
    char *req = NULL;
    struct vouch_collateral *coll_obj = NULL;
    struct vouch_pkey *key = NULL;
    struct vouch_pubkey *pub = NULL;
    char kid[VOUCH_TOKEN_KID_LEN + 1];
    json_t *claims = NULL;
    struct vouch_buf probe = {0};
    long status = 0, rss_idle = 0, rss_start = 0, rss_end = 0, ncpu;
    struct verify_ctx vctx;
    struct sign_ctx sctx;
    struct limit_stats vs, ss;
    struct phase_result warm, main_r, long_r;
    double load_start, load_after, per_req_us, per_req_cpu_us, limit, limit_cpu, limit_single,
        par_wall, ratio, ratio_single, ratio_cpu, growth, lim_min, lim_max, ratio_median;
    double lim[MAX_SLICES + 1], slice_ratio[MAX_SLICES];
    unsigned cores;
    struct speed speed_before, speed_after, speed;
    bool curl_ok = false, meets;

    memset(&d, 0, sizeof(d));
    memset(&L, 0, sizeof(L));
    L.ep = -1;
    if ((rc = parse_args(argc, argv, &cfg)) != VOUCH_OK)
        return 2;
    if (!cfg.daemon) {
        if (default_daemon(daemon_path, sizeof(daemon_path)) != VOUCH_OK) {
            fprintf(stderr, "bench_attestd: cannot locate vouch-attestd; give --daemon\n");
            return 2;
        }
        cfg.daemon = daemon_path;
    }
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    /* The limit is for the cores the daemon may use: its threads, at most
     * the machine's CPUs. */
    cores = ncpu > 0 && (unsigned long)ncpu < cfg.threads ? (unsigned)ncpu : cfg.threads;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    vouch_log_set_level(VOUCH_LOG_ERROR);
    load_start = bench_load_1m();

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bench_attestd: curl_global_init failed\n");
        goto out;
    }
    curl_ok = true;
    if (!(limit_samples = vouch_calloc(MAX_LIMIT_SAMPLES, sizeof(*limit_samples)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if ((rc = read_file(cfg.data_dir, S1_QUOTE, &quote, &quote_len)) != VOUCH_OK ||
        (rc = read_file(cfg.data_dir, S1_COLLATERAL, &coll, &coll_len)) != VOUCH_OK)
        goto out;

    /* The request body MAA clients send: {"quote": base64url(quote)}. */
    req_len = sizeof("{\"quote\":\"\"}") - 1 + vouch_base64_encoded_len(quote_len, true);
    if (!(req = vouch_malloc(req_len + 1))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    memcpy(req, "{\"quote\":\"", 10);
    vouch_base64_encode(quote, quote_len, true, req + 10);
    memcpy(req + req_len - 2, "\"}", 3);

    fprintf(stderr,
            "attestd: S1 over HTTPS/1.1 keep-alive, %u connections, %u daemon threads, %u "
            "core(s) for the limit, load %.2f\n",
            cfg.connections, cfg.threads, cores, load_start);
    if ((rc = daemon_start(&cfg, coll, coll_len, &d)) != VOUCH_OK)
        goto out;
    if ((rc = proc_rss_kib(d.pid, &rss_idle)) != VOUCH_OK)
        goto out;

    /* Probe: one attestation, verified end to end; its claims are what the
     * limit's signature signs. */
    if ((rc = http_once(&d, ATTEST_PATH, req, req_len, &status, &probe)) != VOUCH_OK ||
        status != 200) {
        fprintf(stderr, "bench_attestd: probe attestation failed (HTTP %ld): %.300s\n", status,
                probe.data ? (const char *)probe.data : "");
        rc = rc == VOUCH_OK ? VOUCH_ERR_VERIFY : rc;
        goto out;
    }
    if ((rc = token_check(&d, &probe, &claims, &probe_token_len)) != VOUCH_OK)
        goto out;

    /* The limit, measured while the daemon idles. */
    if ((rc = vouch_collateral_parse(coll, coll_len, &coll_obj)) != VOUCH_OK) {
        fprintf(stderr, "bench_attestd: vouch_collateral_parse: %s\n", vouch_err_name(rc));
        goto out;
    }
    vctx = (struct verify_ctx){.quote = quote,
                               .quote_len = quote_len,
                               .opts = {.now = S1_NOW, .collateral_obj = coll_obj}};
    if ((rc = vouch_pkey_generate(VOUCH_PKEY_RSA_2048, &key)) != VOUCH_OK ||
        (rc = vouch_pkey_public(key, &pub)) != VOUCH_OK ||
        (rc = vouch_token_kid(pub, kid)) != VOUCH_OK) {
        fprintf(stderr, "bench_attestd: cannot make an RSA-2048 signing key: %s\n",
                vouch_err_name(rc));
        goto out;
    }
    sctx = (struct sign_ctx){
        .signer = {.key = key, .alg = VOUCH_SIG_RS256, .kid = kid, .jku = ISSUER "/certs"},
        .claims = claims};
    if ((rc = measure(verify_op, &vctx, cfg.limit_seconds, &vs)) != VOUCH_OK ||
        (rc = measure(sign_op, &sctx, cfg.limit_seconds, &ss)) != VOUCH_OK)
        goto out;
    per_req_us = vs.mean_us + ss.mean_us;
    per_req_cpu_us = vs.cpu_us + ss.cpu_us;
    /* CPU time, not wall time: on a shared machine the wall clock of the
     * limit would measure the neighbours; on a quiet one the two agree. */
    limit_single = (double)cores * 1e6 / per_req_cpu_us;
    if ((rc = measure_parallel(&vctx, &sctx, cores, cfg.limit_seconds, &limit_cpu, &par_wall)) !=
        VOUCH_OK) {
        fprintf(stderr, "bench_attestd: the limit on %u threads: %s\n", cores, vouch_err_name(rc));
        goto out;
    }
    limit = (double)cores * limit_cpu;
    printf("{\"bench\":\"attestd\",\"case\":\"limit\",\"what\":\"S1 verify (cached collateral) + "
           "RS256 token signature (RSA-2048)\",\"verify_us\":%.2f,\"verify_p50_us\":%.2f,"
           "\"verify_cpu_us\":%.2f,\"verify_iters\":%zu,\"sign_us\":%.2f,\"sign_p50_us\":%.2f,"
           "\"sign_cpu_us\":%.2f,\"sign_iters\":%zu,\"per_request_us\":%.2f,"
           "\"per_request_p50_us\":%.2f,\"per_request_cpu_us\":%.2f,\"cores\":%u,"
           "\"limit_one_thread_x_cores_per_s\":%.1f,\"limit_attests_per_s\":%.1f,"
           "\"limit_attests_per_cpu_s\":%.1f,\"limit_parallel_wall_per_s\":%.1f,"
           "\"parallel_scaling\":%.3f,"
           "\"limit_basis\":\"%u threads at once, thread CPU time\",\"token_claims\":%zu,"
           "\"token_bytes\":%zu,\"service_token_bytes\":%zu,\"load_1m\":%.2f}\n",
           vs.mean_us, vs.p50_us, vs.cpu_us, vs.iters, ss.mean_us, ss.p50_us, ss.cpu_us, ss.iters,
           per_req_us, vs.p50_us + ss.p50_us, per_req_cpu_us, cores, limit_single, limit, limit_cpu,
           par_wall, limit / limit_single, cores, json_object_size(claims), sctx.token_len,
           probe_token_len, load_start);
    fflush(stdout);
    fprintf(stderr, "%-16s %10s %9s %9s %9s %10s %7s %9s\n", "case", "attests/s", "p50_ms",
            "p99_ms", "max_ms", "limit/s", "ratio", "ratio_cpu");
    fprintf(stderr,
            "%-16s %10s %9s %9s %9s %10.0f %7s %9s  verify %.0f us + sign %.0f us on one thread; "
            "%u threads at once: %.0f/s (%.2f x %u x one thread)\n",
            "limit", "-", "-", "-", "-", limit, "-", "-", vs.cpu_us, ss.cpu_us, cores, limit,
            limit / limit_single, cores);
    if ((rc = openssl_speed(cores, &speed_before)) != VOUCH_OK)
        goto out;

    /* Load: warm-up (connections, TLS handshakes, allocator), then measure. */
    if ((rc = load_init(&L, &d, cfg.connections, req, req_len)) != VOUCH_OK)
        goto out;
    L.pace_us = cfg.pace_us;
    if (cfg.warmup > 0 &&
        (rc = run_phase(&L,
                        &(struct phase){.name = "warm-up", .seconds = cfg.warmup, .server = d.pid},
                        &warm)) != VOUCH_OK)
        goto out;
    /* The measured load in slices, with the limit measured between them:
     * each slice is compared with the limit just before and just after it,
     * so a host that speeds up or slows down mid-run moves both sides. */
    memset(&main_r, 0, sizeof(main_r));
    lim[0] = limit_cpu;
    for (unsigned k = 0; k < cfg.slices; k++) {
        struct phase_result r;
        double rate;
        if ((rc = run_phase(&L,
                            &(struct phase){.name = "https-keepalive",
                                            .seconds = cfg.seconds / cfg.slices,
                                            .server = d.pid,
                                            .keep_latencies = k > 0},
                            &r)) != VOUCH_OK)
            goto out;
        if ((rc = measure_parallel(&vctx, &sctx, cores, SLICE_LIMIT_SECS, &lim[k + 1],
                                   &par_wall)) != VOUCH_OK) {
            fprintf(stderr, "bench_attestd: the limit on %u threads: %s\n", cores,
                    vouch_err_name(rc));
            goto out;
        }
        rate = (double)r.completed / r.elapsed_s;
        slice_ratio[k] = rate / ((double)cores * (lim[k] + lim[k + 1]) / 2);
        main_r.completed += r.completed;
        main_r.elapsed_s += r.elapsed_s;
        main_r.server_cpu_s += r.server_cpu_s;
        main_r.client_cpu_s += r.client_cpu_s;
        main_r.connects += r.connects;
        main_r.mean_ms = r.mean_ms; /* latencies accumulate across slices */
        main_r.p50_ms = r.p50_ms;
        main_r.p90_ms = r.p90_ms;
        main_r.p99_ms = r.p99_ms;
        main_r.max_ms = r.max_ms;
    }
    if ((rc = token_check(&d, &L.conns[0].body, NULL, NULL)) != VOUCH_OK)
        goto out;
    load_after = bench_load_1m();
    /* The limit for the whole phase: the mean of all its measurements. */
    limit_cpu = 0;
    lim_min = lim_max = lim[0];
    for (unsigned k = 0; k <= cfg.slices; k++) {
        limit_cpu += lim[k] / (double)(cfg.slices + 1);
        lim_min = lim[k] < lim_min ? lim[k] : lim_min;
        lim_max = lim[k] > lim_max ? lim[k] : lim_max;
    }
    limit = (double)cores * limit_cpu;
    bench_sort(slice_ratio, cfg.slices);
    ratio_median = bench_percentile(slice_ratio, cfg.slices, 50);
    ratio = (double)main_r.completed / main_r.elapsed_s / limit;
    if ((rc = openssl_speed(cores, &speed_after)) != VOUCH_OK)
        goto out;
    speed.rsa_sign_per_s = (speed_before.rsa_sign_per_s + speed_after.rsa_sign_per_s) / 2;
    speed.p256_verify_per_s = (speed_before.p256_verify_per_s + speed_after.p256_verify_per_s) / 2;
    {
        double rate = (double)main_r.completed / main_r.elapsed_s;
        double l2 = speed_limit(&speed, 2), l3 = speed_limit(&speed, 3);
        printf("{\"bench\":\"attestd\",\"case\":\"limit-openssl-speed\",\"what\":\"openssl speed "
               "-multi %u rsa2048 ecdsap256, before and after the load (mean)\","
               "\"rsa2048_sign_per_s\":%.1f,\"p256_verify_per_s\":%.1f,"
               "\"limit_2_verifies_per_s\":%.1f,\"limit_3_verifies_per_s\":%.1f,"
               "\"attests_per_s\":%.1f,\"ratio_2_verifies\":%.3f,\"ratio_3_verifies\":%.3f}\n",
               cores, speed.rsa_sign_per_s, speed.p256_verify_per_s, l2, l3, rate, rate / l2,
               rate / l3);
        fprintf(stderr,
                "%-16s %10s %9s %9s %9s %10.0f %7.2f %9s  openssl speed: 1 RSA sign + 2 P-256 "
                "verifies (%.0f/s with 3: %.2f)\n",
                "openssl-speed", "-", "-", "-", "-", l2, rate / l2, "-", l3, rate / l3);
    }
    ratio_single = (double)main_r.completed / main_r.elapsed_s / limit_single;
    ratio_cpu =
        main_r.server_cpu_s > 0 ? (double)main_r.completed / main_r.server_cpu_s / limit_cpu : 0;
    meets = ratio >= TARGET_RATIO_VS_LIMIT && main_r.p99_ms <= TARGET_P99_MS;
    print_phase_common("https-keepalive", &cfg, &main_r);
    printf(",\"limit_attests_per_s\":%.1f,\"ratio_vs_limit\":%.3f,"
           "\"limit_min_per_s\":%.1f,\"limit_max_per_s\":%.1f,\"slices\":%u,"
           "\"ratio_slice_median\":%.3f,\"ratio_slice_min\":%.3f,"
           "\"limit_one_thread_x_cores_per_s\":%.1f,\"ratio_vs_one_thread_x_cores\":%.3f,"
           "\"client_pace_us\":%u,"
           "\"attests_per_server_cpu_s\":%.1f,\"limit_attests_per_cpu_s\":%.1f,"
           "\"ratio_vs_limit_server_cpu\":%.3f,\"target_ratio_vs_limit\":%.2f,"
           "\"target_p99_ms\":%.1f,\"meets_ratio_target\":%s,\"meets_p99_target\":%s,"
           "\"meets_target\":%s,\"load_1m\":%.2f,\"load_1m_end\":%.2f}\n",
           limit, ratio, (double)cores * lim_min, (double)cores * lim_max, cfg.slices, ratio_median,
           slice_ratio[0], limit_single, ratio_single, cfg.pace_us,
           main_r.server_cpu_s > 0 ? (double)main_r.completed / main_r.server_cpu_s : 0, limit_cpu,
           ratio_cpu, TARGET_RATIO_VS_LIMIT, TARGET_P99_MS,
           ratio >= TARGET_RATIO_VS_LIMIT ? "true" : "false",
           main_r.p99_ms <= TARGET_P99_MS ? "true" : "false", meets ? "true" : "false", load_start,
           load_after);
    fflush(stdout);
    fprintf(stderr,
            "%-16s %10.0f %9.2f %9.2f %9.2f %10.0f %7.2f %9.2f  cpu: daemon %.2f, "
            "client %.2f cores; limit %.0f..%.0f over %u slices, slice ratios median %.2f, min "
            "%.2f; vs %u x one thread: %.2f\n",
            "https-keepalive", (double)main_r.completed / main_r.elapsed_s, main_r.p50_ms,
            main_r.p99_ms, main_r.max_ms, limit, ratio, ratio_cpu,
            main_r.server_cpu_s / main_r.elapsed_s, main_r.client_cpu_s / main_r.elapsed_s,
            (double)cores * lim_min, (double)cores * lim_max, cfg.slices, ratio_median,
            slice_ratio[0], cores, ratio_single);

    /* RSS over a long phase, from a warm daemon. */
    if (cfg.requests > 0 || cfg.rss_seconds > 0) {
        if ((rc = proc_rss_kib(d.pid, &rss_start)) != VOUCH_OK)
            goto out;
        if ((rc = run_phase(&L,
                            &(struct phase){.name = "rss",
                                            .seconds = cfg.rss_seconds,
                                            .requests = cfg.requests,
                                            .server = d.pid,
                                            .progress = true},
                            &long_r)) != VOUCH_OK)
            goto out;
        if ((rc = proc_rss_kib(d.pid, &rss_end)) != VOUCH_OK ||
            (rc = token_check(&d, &L.conns[0].body, NULL, NULL)) != VOUCH_OK)
            goto out;
        if (rss_end > long_r.rss_max_kib)
            long_r.rss_max_kib = rss_end;
        growth = rss_start > 0 ? 100.0 * (double)(rss_end - rss_start) / (double)rss_start : 0;
        print_phase_common("rss", &cfg, &long_r);
        printf(",\"rss_idle_kib\":%ld,\"rss_start_kib\":%ld,\"rss_end_kib\":%ld,"
               "\"rss_max_kib\":%ld,\"rss_growth_pct\":%.2f,\"target_rss_growth_pct\":%.1f,"
               "\"meets_target\":%s,\"load_1m\":%.2f}\n",
               rss_idle, rss_start, rss_end, long_r.rss_max_kib, growth, TARGET_RSS_GROWTH_PCT,
               growth < TARGET_RSS_GROWTH_PCT ? "true" : "false", bench_load_1m());
        fflush(stdout);
        fprintf(stderr,
                "%-16s %10.0f %9.2f %9.2f %9.2f %10s %7s %9s  %llu requests, RSS %ld -> %ld KiB "
                "(%+.1f%%, max %ld; target < %.0f%%)\n",
                "rss", (double)long_r.completed / long_r.elapsed_s, long_r.p50_ms, long_r.p99_ms,
                long_r.max_ms, "-", "-", "-", (unsigned long long)long_r.completed, rss_start,
                rss_end, growth, long_r.rss_max_kib, TARGET_RSS_GROWTH_PCT);
    }
    fprintf(stderr,
            "(ratio = attests/s / limit, target >= %.2f with p99 <= %.0f ms; ratio_cpu = "
            "attests per daemon CPU second / limit per CPU second)\n",
            TARGET_RATIO_VS_LIMIT, TARGET_P99_MS);
    rc = VOUCH_OK;
out:
    load_free(&L);
    if (d.pid > 0) {
        vouch_err src = daemon_stop(&d);
        if (rc == VOUCH_OK)
            rc = src;
    }
    if (d.tmp[0])
        remove_tree(d.tmp, 0);
    if (rc != VOUCH_OK)
        fprintf(stderr, "bench_attestd: FAILED (%s)\n", vouch_err_name(rc));
    json_decref(claims);
    vouch_buf_free(&probe);
    vouch_pubkey_free(pub);
    vouch_pkey_free(key);
    vouch_collateral_free(coll_obj);
    vouch_free(req);
    vouch_free(quote);
    vouch_free(coll);
    vouch_free(limit_samples);
    if (curl_ok)
        curl_global_cleanup();
    return rc == VOUCH_OK ? 0 : 1;
}
