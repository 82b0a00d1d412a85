/*
 * The HTTP server on libh2o's evloop (see vouch/http.h).
 *
 * One event loop per worker thread, each with its own listening socket on the
 * same port (SO_REUSEPORT), so the kernel spreads connections and no lock is
 * shared on the request path. libh2o buffers the whole request body (bounded
 * by max_request_entity_size, answering 413 beyond it) before calling us.
 *
 * libh2o's headers pull in OpenSSL's; this file uses none of its functions:
 * the TLS context comes from src/crypto as an opaque pointer.
 */
#define H2O_USE_LIBUV 0
#include <h2o.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/http.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/tls.h>

#define MAX_WORKERS 64u
/* Shutdown drain: rounds of 20 ms for connections to finish (2 s in all). */
#define VOUCH_HTTP_SHUTDOWN_ROUNDS 100

struct worker {
    struct vouch_http_server *srv;
    pthread_t thread;
    bool started;
    bool busy_at_exit; /* connections outlived shutdown: the context cannot be disposed */
    int fd;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
};

struct handler {
    h2o_handler_t super; /* must be first: libh2o hands us this pointer */
    struct vouch_http_server *srv;
};

struct vouch_http_server {
    h2o_globalconf_t config;
    struct vouch_tls_ctx *tls;
    bool client_certs; /* TLS requests client certificates (tls_client_ca) */
    vouch_http_handler_fn handler;
    void *handler_arg;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    unsigned port;
    unsigned n_workers;
    struct worker workers[MAX_WORKERS];
    atomic_int stop;
};

/* ---- requests ---- */

vouch_err vouch_http_request_header(const struct vouch_http_request *r, const char *name,
                                    const char **value, size_t *len)
{
    h2o_req_t *req = r->impl;
    char lower[128];
    size_t n = strlen(name);
    ssize_t i;

    *value = NULL;
    *len = 0;
    /* A request built outside the server (a fuzzer driving a handler) has no
     * headers. */
    if (!req)
        return VOUCH_ERR_NOT_FOUND;
    if (n >= sizeof(lower))
        return VOUCH_ERR_INVAL;
    /* libh2o stores header names lowercased. */
    for (size_t k = 0; k < n; k++)
        lower[k] = (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
    i = h2o_find_header_by_str(&req->headers, lower, n, -1);
    if (i < 0)
        return VOUCH_ERR_NOT_FOUND;
    *value = req->headers.entries[i].value.base;
    *len = req->headers.entries[i].value.len;
    return VOUCH_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

vouch_err vouch_http_query_param(const struct vouch_http_request *r, const char *name, char *out,
                                 size_t cap)
{
    const char *q = r->query;
    size_t nlen = strlen(name);

    if (cap)
        out[0] = 0;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t seg = amp ? (size_t)(amp - q) : strlen(q);
        if (seg > nlen && strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
            size_t o = 0;
            for (size_t i = nlen + 1; i < seg; i++) {
                int c = (unsigned char)q[i];
                if (c == '%') {
                    int h, l;
                    if (i + 2 >= seg || (h = hexval(q[i + 1])) < 0 || (l = hexval(q[i + 2])) < 0)
                        return VOUCH_ERR_PARSE;
                    c = h * 16 + l;
                    i += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                if (c == 0)
                    return VOUCH_ERR_PARSE;
                if (o + 1 >= cap)
                    return VOUCH_ERR_TOO_LARGE;
                out[o++] = (char)c;
            }
            out[o] = 0;
            return VOUCH_OK;
        }
        if (!amp)
            break;
        q = amp + 1;
    }
    return VOUCH_ERR_NOT_FOUND;
}

vouch_err vouch_http_response_header(struct vouch_http_response *res, const char *name,
                                     const char *value)
{
    char *v;

    if (res->n_headers >= VOUCH_HTTP_MAX_RESPONSE_HEADERS)
        return VOUCH_ERR_TOO_LARGE;
    if (!(v = vouch_strdup(value)))
        return VOUCH_ERR_NOMEM;
    res->headers[res->n_headers].name = name;
    res->headers[res->n_headers].value = v;
    res->n_headers++;
    return VOUCH_OK;
}

static void request_id(h2o_req_t *req, char out[VOUCH_HTTP_REQUEST_ID_LEN + 1])
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-ms-request-id"), -1);
    uint8_t rnd[16];

    /* Echo the client's id only if it is a plain token; never reflect junk. */
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        bool ok = v.len > 0 && v.len <= VOUCH_HTTP_REQUEST_ID_LEN;
        for (size_t k = 0; ok && k < v.len; k++) {
            char c = v.base[k];
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '-' || c == '_' || c == '.';
        }
        if (ok) {
            memcpy(out, v.base, v.len);
            out[v.len] = 0;
            return;
        }
    }
    if (vouch_random(rnd, sizeof(rnd)) != VOUCH_OK)
        memset(rnd, 0, sizeof(rnd));
    vouch_hex_encode(rnd, sizeof(rnd), out);
}

static char *pool_strndup(h2o_mem_pool_t *pool, const char *s, size_t n)
{
    char *p = h2o_mem_alloc_pool(pool, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* The client certificate of the request's connection (HTTP/1.1 and HTTP/2
 * alike: both name their socket). Anything missing leaves the request
 * without a certificate. */
static void client_cert(h2o_req_t *req, struct vouch_http_request *r)
{
    struct vouch_tls_peer peer;
    h2o_socket_t *sock;

    if (!req->conn || !req->conn->callbacks->get_socket ||
        !(sock = req->conn->callbacks->get_socket(req->conn)))
        return;
    if (!vouch_tls_peer_get(sock, &peer) || !peer.has_cert)
        return;
    r->client_cert_verified = peer.verified;
    r->client_cert_fp = pool_strndup(&req->pool, peer.fingerprint, strlen(peer.fingerprint));
    r->client_cert_subject = pool_strndup(&req->pool, peer.subject, strlen(peer.subject));
}

static void response_clear(struct vouch_http_response *res)
{
    vouch_buf_free(&res->body);
    for (size_t i = 0; i < res->n_headers; i++)
        vouch_free(res->headers[i].value);
    res->n_headers = 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct handler *h = (struct handler *)self;
    struct vouch_http_request r;
    struct vouch_http_response res;
    size_t path_len = req->path_normalized.len;

    memset(&r, 0, sizeof(r));
    memset(&res, 0, sizeof(res));
    /* Handlers see C strings; a NUL (e.g. "%00" decoded) would cut the path
     * short and route the request somewhere it did not ask to go. */
    if (memchr(req->path_normalized.base, 0, path_len) ||
        memchr(req->path.base, 0, req->path.len) || memchr(req->method.base, 0, req->method.len)) {
        static const char body[] =
            "{\"error\":{\"code\":\"BadRequest\",\"message\":\"NUL in the request line\"}}";
        req->res.status = 400;
        req->res.reason = "Bad Request";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("application/json; charset=utf-8"));
        h2o_send_inline(req, body, sizeof(body) - 1);
        return 0;
    }
    r.impl = req;
    r.method = pool_strndup(&req->pool, req->method.base, req->method.len);
    r.path = pool_strndup(&req->pool, req->path_normalized.base, path_len);
    if (req->query_at != SIZE_MAX && req->query_at < req->path.len)
        r.query = pool_strndup(&req->pool, req->path.base + req->query_at + 1,
                               req->path.len - req->query_at - 1);
    else
        r.query = "";
    r.body = (const uint8_t *)req->entity.base;
    r.body_len = req->entity.base ? req->entity.len : 0;
    r.tls = req->scheme == &H2O_URL_SCHEME_HTTPS;
    if (h->srv->client_certs && r.tls)
        client_cert(req, &r);
    request_id(req, r.request_id);

    res.status = 500;
    res.content_type = "application/json; charset=utf-8";
    vouch_buf_init(&res.body, VOUCH_MAX_HTTP_RESPONSE);
    h->srv->handler(h->srv->handler_arg, &r, &res);

    req->res.status = res.status;
    req->res.reason = res.status < 400 ? "OK" : "Error";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, res.content_type,
                   strlen(res.content_type));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-ms-request-id"), 0, NULL,
                          pool_strndup(&req->pool, r.request_id, strlen(r.request_id)),
                          strlen(r.request_id));
    for (size_t i = 0; i < res.n_headers; i++) {
        size_t vlen = strlen(res.headers[i].value);
        h2o_add_header_by_str(&req->pool, &req->res.headers, res.headers[i].name,
                              strlen(res.headers[i].name), 0, NULL,
                              pool_strndup(&req->pool, res.headers[i].value, vlen), vlen);
    }
    /* h2o_send_inline leaves the length unset (it serves 304s too), and
     * HTTP/1.1 then frames the answer in chunks: a chunk header and trailer
     * around every body, and a client that must parse them. Every answer
     * here is one complete buffer with a body, so say its length. */
    if (res.status >= 200 && res.status != 204 && res.status != 304)
        req->res.content_length = res.body.len;
    /* h2o_send_inline copies the body into the request's pool. */
    h2o_send_inline(req, res.body.data ? (const char *)res.body.data : "", res.body.len);
    response_clear(&res);
    return 0;
}

/* ---- workers ---- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct worker *w = listener->data;
    h2o_socket_t *sock;

    if (err)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    /* libh2o 2.2 cuts TLS output into 1400-byte records unless its latency
     * optimiser (HTTP/2 only) has decided otherwise, so a ~8 KiB attest
     * answer costs six records to seal and the client twelve reads to open.
     * Mark the decision as taken, with full-size records: an answer fits in
     * one record, and the first byte waits for at most one record anyway. */
    if (w->srv->tls) {
        sock->_latency_optimization.state = H2O_SOCKET_LATENCY_OPTIMIZATION_STATE_DETERMINED;
        sock->_latency_optimization.suggested_tls_payload_size = 16384;
        sock->_latency_optimization.suggested_write_size = SIZE_MAX;
    }
    h2o_accept(&w->accept_ctx, sock);
}

static int open_listener(struct vouch_http_server *s)
{
    int one = 1;
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&s->addr, s->addr_len) != 0 || listen(fd, SOMAXCONN) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* True while the context still has connections or pending timers; libh2o
 * asserts that every timer list is empty when a context is disposed. */
static bool context_busy(h2o_context_t *ctx)
{
    h2o_timeout_t *const t[] = {&ctx->zero_timeout,
                                &ctx->one_sec_timeout,
                                &ctx->hundred_ms_timeout,
                                &ctx->handshake_timeout,
                                &ctx->http1.req_timeout,
                                &ctx->http2.idle_timeout,
                                &ctx->http2.graceful_shutdown_timeout};

    if (!h2o_linklist_is_empty(&ctx->http1._conns) || !h2o_linklist_is_empty(&ctx->http2._conns))
        return true;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (!h2o_linklist_is_empty(&t[i]->_entries))
            return true;
    }
    return false;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    sigset_t set;

    /* Signals are for the main thread. */
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    while (!atomic_load(&w->srv->stop))
        h2o_evloop_run(w->ctx.loop, 100);

    /* Graceful stop: accept nothing new, ask connections to finish (HTTP/2
     * GOAWAY, idle HTTP/1 closed), and give them a bounded time to go. */
    if (w->listener) {
        h2o_socket_read_stop(w->listener);
        h2o_socket_close(w->listener);
        w->listener = NULL;
        w->fd = -1;
    }
    h2o_context_request_shutdown(&w->ctx);
    for (int i = 0; i < VOUCH_HTTP_SHUTDOWN_ROUNDS && context_busy(&w->ctx); i++)
        h2o_evloop_run(w->ctx.loop, 20);
    w->busy_at_exit = context_busy(&w->ctx);

    /* libh2o keeps freed socket buffers in a per-thread recycle list that it
     * never empties; empty it before the thread goes. */
    while (h2o_socket_buffer_prototype.allocator.cnt > 0) {
        void *chunk = h2o_mem_alloc_recycle(&h2o_socket_buffer_prototype.allocator, 1);
        free(chunk); /* lint:allow free: libh2o allocated it with malloc */
    }
    return NULL;
}

static vouch_err parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon;
    size_t hl;
    long port;
    char *end;

    memset(ss, 0, sizeof(*ss));
    if (listen[0] == '[') {
        const char *close_br = strchr(listen, ']');
        if (!close_br || close_br[1] != ':')
            return VOUCH_ERR_PARSE;
        hl = (size_t)(close_br - listen - 1);
        if (hl >= sizeof(host))
            return VOUCH_ERR_PARSE;
        memcpy(host, listen + 1, hl);
        colon = close_br + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return VOUCH_ERR_PARSE;
        hl = (size_t)(colon - listen);
        if (hl >= sizeof(host))
            return VOUCH_ERR_PARSE;
        memcpy(host, listen, hl);
    }
    host[hl] = 0;
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 0 || port > 65535 || end == colon + 1)
        return VOUCH_ERR_PARSE;
    if (strcmp(host, "localhost") == 0)
        memcpy(host, "127.0.0.1", 10);
    {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
            a4->sin_family = AF_INET;
            a4->sin_port = htons((uint16_t)port);
            *len = sizeof(*a4);
        } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons((uint16_t)port);
            *len = sizeof(*a6);
        } else {
            return VOUCH_ERR_PARSE;
        }
    }
    return VOUCH_OK;
}

vouch_err vouch_http_server_create(const struct vouch_http_server_opts *o,
                                   struct vouch_http_server **out)
{
    struct vouch_http_server *s = NULL;
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;
    struct handler *h;
    vouch_err rc = VOUCH_ERR_NOMEM;
    long ncpu;

    *out = NULL;
    if (!o->handler || !o->listen)
        return VOUCH_ERR_INVAL;
    if (!(s = vouch_calloc(1, sizeof(*s))))
        return VOUCH_ERR_NOMEM;
    for (unsigned i = 0; i < MAX_WORKERS; i++)
        s->workers[i].fd = -1;
    s->handler = o->handler;
    s->handler_arg = o->handler_arg;
    if ((rc = parse_listen(o->listen, &s->addr, &s->addr_len)) != VOUCH_OK) {
        vouch_log_error("bad listen address '%s' (want ADDR:PORT)", o->listen);
        vouch_free(s);
        return rc;
    }
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->n_workers = o->threads ? o->threads : (ncpu > 0 ? (unsigned)ncpu : 1u);
    if (s->n_workers > MAX_WORKERS)
        s->n_workers = MAX_WORKERS;

    h2o_config_init(&s->config);
    s->config.max_request_entity_size = o->max_body ? o->max_body : VOUCH_MAX_HTTP_BODY;
    host = h2o_config_register_host(&s->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/", 0);
    h = (struct handler *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->srv = s;

    if (!o->insecure_http) {
        if (!o->tls_cert || !o->tls_key) {
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
        if ((rc = vouch_tls_server_ctx_new(o->tls_cert, o->tls_key, o->tls_client_ca, &s->tls)) !=
            VOUCH_OK)
            goto out;
        h2o_ssl_register_alpn_protocols(vouch_tls_ctx_native(s->tls), h2o_http2_alpn_protocols);
        s->client_certs = o->tls_client_ca != NULL;
    }

    for (unsigned i = 0; i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];
        w->srv = s;
        if ((w->fd = open_listener(s)) < 0) {
            vouch_log_error("cannot listen on %s: %s", o->listen, strerror(errno));
            rc = VOUCH_ERR_IO;
            goto out;
        }
        if (i == 0) {
            struct sockaddr_storage bound;
            socklen_t bl = sizeof(bound);
            if (getsockname(w->fd, (struct sockaddr *)&bound, &bl) != 0) {
                rc = VOUCH_ERR_IO;
                goto out;
            }
            s->port =
                ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                 : ((struct sockaddr_in6 *)&bound)->sin6_port);
            /* Later workers bind the same port, even if port 0 was asked. */
            if (s->addr.ss_family == AF_INET)
                ((struct sockaddr_in *)&s->addr)->sin_port = htons((uint16_t)s->port);
            else
                ((struct sockaddr_in6 *)&s->addr)->sin6_port = htons((uint16_t)s->port);
        }
        h2o_context_init(&w->ctx, h2o_evloop_create(), &s->config);
        w->accept_ctx.ctx = &w->ctx;
        w->accept_ctx.hosts = s->config.hosts;
        w->accept_ctx.ssl_ctx = s->tls ? vouch_tls_ctx_native(s->tls) : NULL;
        w->listener = h2o_evloop_socket_create(w->ctx.loop, w->fd, H2O_SOCKET_FLAG_DONT_READ);
        w->listener->data = w;
        h2o_socket_read_start(w->listener, on_accept);
    }
    *out = s;
    s = NULL;
    rc = VOUCH_OK;
out:
    vouch_http_server_free(s);
    return rc;
}

unsigned vouch_http_server_port(const struct vouch_http_server *s)
{
    return s->port;
}

vouch_err vouch_http_server_run(struct vouch_http_server *s)
{
    vouch_err rc = VOUCH_OK;

    for (unsigned i = 0; i < s->n_workers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0) {
            atomic_store(&s->stop, 1);
            rc = VOUCH_ERR_INTERNAL;
            break;
        }
        s->workers[i].started = true;
    }
    for (unsigned i = 0; i < s->n_workers; i++) {
        if (s->workers[i].started) {
            pthread_join(s->workers[i].thread, NULL);
            s->workers[i].started = false;
        }
    }
    return rc;
}

void vouch_http_server_stop(struct vouch_http_server *s)
{
    if (s)
        atomic_store(&s->stop, 1);
}

void vouch_http_server_free(struct vouch_http_server *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < MAX_WORKERS; i++) {
        struct worker *w = &s->workers[i];
        if (w->listener) {
            h2o_socket_read_stop(w->listener);
            h2o_socket_close(w->listener);
            w->listener = NULL;
            w->fd = -1;
        } else if (w->fd >= 0) {
            close(w->fd);
        }
        /* A context whose connections did not finish in time is left for
         * process exit: disposing it would trip libh2o's assertions. */
        if (w->ctx.loop && !w->busy_at_exit) {
            h2o_evloop_t *loop = w->ctx.loop;
            h2o_context_dispose(&w->ctx);
            h2o_evloop_destroy(loop);
        }
    }
    h2o_config_dispose(&s->config);
    vouch_tls_ctx_free(s->tls);
    vouch_free(s);
}
