/*
 * The HTTP client (see vouch/httpc.h) on libcurl's easy interface: one easy
 * handle per request, so concurrent callers share nothing but libcurl's
 * global state, initialised once.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <vouch/buf.h>
#include <vouch/httpc.h>
#include <vouch/mem.h>
#include <vouch/version.h>

struct xfer {
    struct vouch_httpc_response *res;
    const struct vouch_httpc_opts *o;
    struct vouch_buf body;
    vouch_err fail; /* why a callback stopped the transfer */
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void vouch_httpc_opts_init(struct vouch_httpc_opts *o)
{
    memset(o, 0, sizeof(*o));
}

static void clear_headers(struct vouch_httpc_response *r)
{
    for (size_t i = 0; i < r->n_headers; i++)
        vouch_free(r->headers[i].value);
    memset(r->headers, 0, sizeof(r->headers));
    r->n_headers = 0;
}

void vouch_httpc_response_free(struct vouch_httpc_response *r)
{
    if (!r)
        return;
    clear_headers(r);
    vouch_free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

vouch_err vouch_httpc_header(const struct vouch_httpc_response *r, const char *name,
                             const char **value, size_t *len)
{
    *value = NULL;
    *len = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            *value = r->headers[i].value;
            *len = r->headers[i].len;
            return VOUCH_OK;
        }
    }
    return VOUCH_ERR_NOT_FOUND;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    vouch_err rc;

    /* libcurl documents size as always 1. */
    if (size != 1) {
        x->fail = VOUCH_ERR_INTERNAL;
        return 0;
    }
    if ((rc = vouch_buf_append(&x->body, p, n)) != VOUCH_OK) {
        x->fail = rc;
        return 0;
    }
    return n;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Called once per header line of every response, including interim and
 * redirect responses: a status line starts a new response, so only the
 * final response's headers are kept. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    struct vouch_httpc_response *r = x->res;
    const char *colon;
    size_t name_len, vs, ve;

    if (size != 1) {
        x->fail = VOUCH_ERR_INTERNAL;
        return 0;
    }
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        clear_headers(r);
        return n;
    }
    if (!x->o->keep_headers || !(colon = memchr(p, ':', n)))
        return n;
    name_len = (size_t)(colon - p);
    for (const char *const *k = x->o->keep_headers; *k; k++) {
        const char *v = NULL;
        size_t vl = 0;
        if (strlen(*k) != name_len || strncasecmp(*k, p, name_len) != 0)
            continue;
        /* The first occurrence wins; a repeated header cannot replace it. */
        if (vouch_httpc_header(r, *k, &v, &vl) == VOUCH_OK ||
            r->n_headers >= VOUCH_HTTPC_MAX_HEADERS)
            return n;
        vs = name_len + 1;
        ve = n;
        while (vs < ve && is_space(p[vs]))
            vs++;
        while (ve > vs && is_space(p[ve - 1]))
            ve--;
        if (ve - vs > VOUCH_MAX_HTTPC_HEADER) {
            x->fail = VOUCH_ERR_TOO_LARGE;
            return 0;
        }
        if (!(r->headers[r->n_headers].value = vouch_strndup(p + vs, ve - vs))) {
            x->fail = VOUCH_ERR_NOMEM;
            return 0;
        }
        r->headers[r->n_headers].name = *k;
        r->headers[r->n_headers].len = ve - vs;
        r->n_headers++;
        return n;
    }
    return n;
}

static vouch_err map_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK:
        return VOUCH_OK;
    case CURLE_OUT_OF_MEMORY:
        return VOUCH_ERR_NOMEM;
    case CURLE_FILESIZE_EXCEEDED:
        return VOUCH_ERR_TOO_LARGE;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return VOUCH_ERR_INVAL;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
        return VOUCH_ERR_CHAIN;
    default:
        return VOUCH_ERR_IO;
    }
}

/* One request: GET when @p method is "GET", else a POST of @p body. */
static vouch_err perform(const char *method, const char *url, const char *content_type,
                         const void *body, size_t body_len, const struct vouch_httpc_opts *o,
                         struct vouch_httpc_response *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct xfer x;
    struct curl_slist *hdrs = NULL;
    CURL *h = NULL;
    CURLcode cc;
    char cerr[CURL_ERROR_SIZE];
    size_t cap, nkeep = 0;
    bool https;
    bool is_get = strcmp(method, "GET") == 0;
    long status = 0;

    memset(res, 0, sizeof(*res));
    memset(&x, 0, sizeof(x));
    cerr[0] = 0;
    if (!url || !o) {
        snprintf(res->error_detail, sizeof(res->error_detail), "no URL or options");
        return VOUCH_ERR_INVAL;
    }
    https = strncmp(url, "https://", 8) == 0;
    if (!https && strncmp(url, "http://", 7) != 0) {
        snprintf(res->error_detail, sizeof(res->error_detail), "%.200s: not an http(s) URL", url);
        return VOUCH_ERR_INVAL;
    }
    for (const char *const *k = o->keep_headers; k && *k; k++)
        nkeep++;
    if (nkeep > VOUCH_HTTPC_MAX_HEADERS) {
        snprintf(res->error_detail, sizeof(res->error_detail), "more than %u headers to keep",
                 VOUCH_HTTPC_MAX_HEADERS);
        return VOUCH_ERR_INVAL;
    }
    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK) {
        snprintf(res->error_detail, sizeof(res->error_detail), "libcurl initialisation failed");
        return VOUCH_ERR_INTERNAL;
    }
    cap = o->max_body == 0 || o->max_body > VOUCH_MAX_HTTPC_RESPONSE ? VOUCH_MAX_HTTPC_RESPONSE
                                                                     : o->max_body;
    x.res = res;
    x.o = o;
    x.fail = VOUCH_OK;
    vouch_buf_init(&x.body, cap);
    rc = VOUCH_ERR_NOMEM;
    if (!(h = curl_easy_init()))
        goto out;
    for (const char *const *l = o->request_headers; l && *l; l++) {
        struct curl_slist *t = curl_slist_append(hdrs, *l);
        if (!t)
            goto out;
        hdrs = t;
    }
    if (content_type) {
        char line[128];
        struct curl_slist *t;
        int n = snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        if (n < 0 || (size_t)n >= sizeof(line)) {
            snprintf(res->error_detail, sizeof(res->error_detail), "content type too long");
            rc = VOUCH_ERR_INVAL;
            goto out;
        }
        if (!(t = curl_slist_append(hdrs, line)))
            goto out;
        hdrs = t;
        /* No "Expect: 100-continue" round trip before a large body. */
        if (!(t = curl_slist_append(hdrs, "Expect:")))
            goto out;
        hdrs = t;
    }
    cc = CURLE_OK;
    /* Options whose failure would weaken the request are checked as a group:
     * any failure aborts before connecting. */
    cc |= curl_easy_setopt(h, CURLOPT_URL, url);
    if (is_get) {
        cc |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        cc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    } else {
        /* A POST is never redirected: the body would go to a place the
         * caller did not name. */
        cc |= curl_easy_setopt(h, CURLOPT_POST, 1L);
        cc |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        cc |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_len ? body : "");
        cc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    }
    cc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    cc |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
    cc |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)VOUCH_HTTPC_MAX_REDIRECTS);
    cc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    cc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    cc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                           (long)(o->timeout_ms ? o->timeout_ms : VOUCH_HTTPC_DEFAULT_TIMEOUT_MS));
    cc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                           (long)(o->connect_timeout_ms ? o->connect_timeout_ms
                                                        : VOUCH_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS));
    cc |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
    cc |= curl_easy_setopt(h, CURLOPT_USERAGENT, "vouch/" VOUCH_VERSION_STRING);
    cc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    cc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    cc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    cc |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    cc |= curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    if (hdrs)
        cc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (o->ca_file)
        cc |= curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    if (cc != CURLE_OK) {
        snprintf(res->error_detail, sizeof(res->error_detail),
                 "libcurl refused an option (an old libcurl?)");
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = x.fail != VOUCH_OK ? x.fail : map_curl(cc);
        if (rc == VOUCH_ERR_TOO_LARGE)
            snprintf(res->error_detail, sizeof(res->error_detail),
                     "%s %.160s: the response is larger than %zu bytes", method, url, cap);
        else
            snprintf(res->error_detail, sizeof(res->error_detail), "%s %.160s: %.80s", method, url,
                     cerr[0] ? cerr : curl_easy_strerror(cc));
        goto out;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
        snprintf(res->error_detail, sizeof(res->error_detail), "%s %.160s: no status", method, url);
        rc = VOUCH_ERR_IO;
        goto out;
    }
    res->status = status;
    res->body = vouch_buf_take(&x.body, &res->body_len);
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK) {
        if (!res->error_detail[0])
            snprintf(res->error_detail, sizeof(res->error_detail), "%s %.160s: %.80s", method, url,
                     vouch_strerror(rc));
        clear_headers(res);
    }
    vouch_buf_free(&x.body);
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    return rc;
}

vouch_err vouch_httpc_get(const char *url, const struct vouch_httpc_opts *o,
                          struct vouch_httpc_response *res)
{
    return perform("GET", url, NULL, NULL, 0, o, res);
}

vouch_err vouch_httpc_post(const char *url, const char *content_type, const void *body,
                           size_t body_len, const struct vouch_httpc_opts *o,
                           struct vouch_httpc_response *res)
{
    if (!body && body_len > 0) {
        memset(res, 0, sizeof(*res));
        snprintf(res->error_detail, sizeof(res->error_detail), "no request body");
        return VOUCH_ERR_INVAL;
    }
    return perform("POST", url, content_type, body, body_len, o, res);
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

vouch_err vouch_httpc_percent_decode(const char *s, size_t len, char **out, size_t *out_len)
{
    vouch_err rc = VOUCH_ERR_PARSE;
    char *d = NULL;
    size_t k = 0;

    *out = NULL;
    *out_len = 0;
    if (!s && len > 0)
        return VOUCH_ERR_INVAL;
    if (len == SIZE_MAX || !(d = vouch_malloc(len + 1)))
        return VOUCH_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] != '%') {
            if (s[i] == 0)
                goto out;
            d[k++] = s[i];
            continue;
        }
        if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0 ||
            (hi | lo) == 0)
            goto out;
        d[k++] = (char)(hi << 4 | lo);
        i += 2;
    }
    d[k] = 0;
    *out = d;
    *out_len = k;
    d = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(d);
    return rc;
}
