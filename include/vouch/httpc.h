/*
 * HTTP client: one blocking GET or POST over HTTP or HTTPS (libcurl), for
 * fetching things Vouch verifies anyway (Intel collateral from a PCS/PCCS, an
 * issuer's JWKS) and for the TPM agent's rounds with the attestation
 * service. Whatever arrives is untrusted input.
 *
 * Fixed safety rules, not options: only http and https (also on redirects,
 * and an https request never follows a redirect to http); TLS peer and host
 * name verification are always on for https; the body is capped (at most
 * VOUCH_MAX_HTTPC_RESPONSE) and a transfer over the cap is abandoned; every
 * request has a connect and a total timeout. Only the response headers the
 * caller names are kept.
 *
 * Thread-safe: each call uses its own connection. Calls block the calling
 * thread for at most the timeout.
 *
 *     struct vouch_httpc_opts o;
 *     struct vouch_httpc_response r;
 *     vouch_httpc_opts_init(&o);
 *     if (vouch_httpc_get("https://example/x", &o, &r) == VOUCH_OK && r.status == 200)
 *         ... r.body, r.body_len ...
 *     vouch_httpc_response_free(&r);
 */
#ifndef VOUCH_HTTPC_H
#define VOUCH_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/limits.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_HTTPC_MAX_HEADERS                8u
#define VOUCH_HTTPC_DEFAULT_TIMEOUT_MS         10000u
#define VOUCH_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define VOUCH_HTTPC_MAX_REDIRECTS              3

struct vouch_httpc_opts {
    const char *ca_file;                /* PEM CA bundle for https; NULL: the system store */
    unsigned timeout_ms;                /* whole transfer; 0: the default */
    unsigned connect_timeout_ms;        /* 0: the default */
    size_t max_body;                    /* 0 or above VOUCH_MAX_HTTPC_RESPONSE: that limit */
    const char *const *request_headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *const *keep_headers;    /* response header names to return (case-insensitive),
                                           NULL-terminated, at most VOUCH_HTTPC_MAX_HEADERS */
};

struct vouch_httpc_header {
    const char *name; /* the caller's keep_headers string */
    char *value;      /* owned, NUL-terminated, surrounding whitespace removed */
    size_t len;
};

struct vouch_httpc_response {
    long status;   /* HTTP status of the final response */
    uint8_t *body; /* owned, NUL-terminated (the NUL is not counted); NULL when empty */
    size_t body_len;
    size_t n_headers;
    struct vouch_httpc_header headers[VOUCH_HTTPC_MAX_HEADERS];
    char error_detail[VOUCH_MAX_ERROR_DETAIL]; /* why the request failed, when it did */
};

/** Defaults: system CAs, default timeouts, the largest body, no extra headers. */
VOUCH_API void vouch_httpc_opts_init(struct vouch_httpc_opts *o);

/**
 * GETs @p url (http:// or https:// only). Returns VOUCH_OK when a response
 * arrived, whatever its status: the caller checks @p res->status. Otherwise
 * INVAL (bad URL or options), TOO_LARGE (body over the cap), CHAIN (the
 * server's TLS certificate does not verify), IO (connection, timeout, protocol)
 * or NOMEM, with @p res->error_detail saying what happened. Always free @p res
 * with vouch_httpc_response_free, whatever the return value.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_httpc_get(const char *url,
                                                    const struct vouch_httpc_opts *o,
                                                    struct vouch_httpc_response *res);

/**
 * POSTs @p body_len bytes of @p body with Content-Type @p content_type (NULL:
 * libcurl's default) to @p url, with the same rules as vouch_httpc_get except
 * that redirects are never followed (the body must not travel to a place the
 * caller did not name): a 3xx comes back as the response.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_httpc_post(const char *url, const char *content_type,
                                                     const void *body, size_t body_len,
                                                     const struct vouch_httpc_opts *o,
                                                     struct vouch_httpc_response *res);

/** A kept response header (case-insensitive name); borrowed. NOT_FOUND if absent. */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_httpc_header(const struct vouch_httpc_response *r,
                                                       const char *name, const char **value,
                                                       size_t *len);

/** Releases the body and headers; safe on a zeroed struct. */
VOUCH_API void vouch_httpc_response_free(struct vouch_httpc_response *r);

/**
 * Decodes %XX escapes (RFC 3986) into a new NUL-terminated string (vouch_free).
 * '+' stays '+' (it is a base64 character in URL-encoded PEM, not a space).
 * PARSE on a malformed escape or an escaped NUL.
 */
VOUCH_NODISCARD VOUCH_API vouch_err vouch_httpc_percent_decode(const char *s, size_t len,
                                                               char **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
