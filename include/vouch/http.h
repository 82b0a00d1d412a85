/*
 * HTTP server: HTTP/1.1 and HTTP/2 over TLS (or plain HTTP when asked) on
 * libh2o's event loop, one loop per worker thread sharing the listening port.
 *
 * The server knows nothing about attestation. It accepts a request, enforces
 * the size limits (body VOUCH_MAX_HTTP_BODY, headers as libh2o bounds them),
 * hands the complete request to one handler function, and sends what the
 * handler put in the response. Handlers run on worker threads and must be
 * thread-safe; they never block on the network.
 *
 * Every request gets an id (the client's x-ms-request-id if it is a sane
 * token, else a fresh random one) that is echoed in the response headers, so
 * one log line per request can be correlated with the client.
 */
#ifndef VOUCH_HTTP_H
#define VOUCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/buf.h>
#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_HTTP_MAX_RESPONSE_HEADERS 8u
#define VOUCH_HTTP_REQUEST_ID_LEN       64u

struct vouch_http_request {
    const char *method; /* borrowed, NUL-terminated for the request's lifetime */
    const char *path;   /* normalised path without the query, NUL-terminated */
    const char *query;  /* text after '?', NUL-terminated ("" if none) */
    const uint8_t *body;
    size_t body_len;
    char request_id[VOUCH_HTTP_REQUEST_ID_LEN + 1];
    bool tls;                   /* arrived over TLS */
    const char *client_cert_fp; /* hex SHA-256 of the client certificate, or NULL */
    /* A client certificate that chains to tls_client_ca was presented on this
     * connection (HTTP/1.1 or HTTP/2); its subject (RFC 2253) is for logs.
     * client_cert_fp and client_cert_subject are also set for a certificate
     * that did not verify, with client_cert_verified false. */
    bool client_cert_verified;
    const char *client_cert_subject; /* NULL without a client certificate */
    void *impl;                      /* private: the server's request object */
};

struct vouch_http_header {
    const char *name; /* static string */
    char *value;      /* owned (vouch_free) */
};

struct vouch_http_response {
    int status;
    const char *content_type; /* static string; default application/json */
    struct vouch_buf body;    /* capped at VOUCH_MAX_HTTP_RESPONSE */
    size_t n_headers;
    struct vouch_http_header headers[VOUCH_HTTP_MAX_RESPONSE_HEADERS];
};

/** Looks up a request header (case-insensitive). The value is borrowed and
 *  NOT NUL-terminated. Returns NOT_FOUND if absent. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_http_request_header(const struct vouch_http_request *r,
                                                              const char *name, const char **value,
                                                              size_t *len);
/** Finds query parameter @p name; the value is copied (percent-decoded) into
 *  @p out (cap bytes, NUL-terminated). NOT_FOUND if absent, TOO_LARGE if long. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_http_query_param(const struct vouch_http_request *r,
                                                           const char *name, char *out, size_t cap);
/** Adds a response header; @p name must be a static string. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_http_response_header(struct vouch_http_response *res,
                                                               const char *name, const char *value);

typedef void (*vouch_http_handler_fn)(void *arg, const struct vouch_http_request *req,
                                      struct vouch_http_response *res);

struct vouch_http_server_opts {
    const char *listen;        /* "ADDR:PORT" or "[v6]:PORT" */
    unsigned threads;          /* worker threads; 0 = number of CPUs */
    bool insecure_http;        /* plain HTTP instead of TLS */
    const char *tls_cert;      /* PEM chain path (leaf first) */
    const char *tls_key;       /* PEM private key path */
    const char *tls_client_ca; /* optional: request (not require) client certs from this CA */
    size_t max_body;           /* 0 = VOUCH_MAX_HTTP_BODY */
    vouch_http_handler_fn handler;
    void *handler_arg;
};

struct vouch_http_server;

/** Binds the listening socket and prepares the workers (does not serve yet). */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_http_server_create(const struct vouch_http_server_opts *o,
                                                             struct vouch_http_server **out);
/** The port actually bound (useful with port 0). */
VOUCH_API unsigned vouch_http_server_port(const struct vouch_http_server *s);
/** Serves until vouch_http_server_stop() is called (from any thread or a signal
 *  handler); returns after every worker has finished. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_http_server_run(struct vouch_http_server *s);
/** Asks the server to stop; async-signal-safe. */
VOUCH_API void vouch_http_server_stop(struct vouch_http_server *s);
VOUCH_API void vouch_http_server_free(struct vouch_http_server *s);

#ifdef __cplusplus
}
#endif
#endif
