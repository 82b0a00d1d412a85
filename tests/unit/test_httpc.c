/* The HTTP client (vouch/httpc.h) against Vouch's own HTTP server on
 * 127.0.0.1: status and body, kept headers, request headers, the body cap,
 * timeouts, URL and redirect rules, TLS verification with and without the
 * server's CA, concurrent use, and percent-decoding. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vouch/http.h>
#include <vouch/httpc.h>
#include <vouch/mem.h>
#include <vouch/pkey.h>
#include <vouch/time.h>

struct srv {
    struct vouch_http_server *s;
    pthread_t thread;
    unsigned port;
};

static struct srv plain, tls;
static char dir[] = "/tmp/vouch_httpc_XXXXXX";
static char cert_path[256], key_path[256];
static char plain_base[64], tls_base[64];

static void reply(struct vouch_http_response *res, int status, const char *body)
{
    res->status = status;
    res->content_type = "text/plain";
    vouch_buf_reset(&res->body);
    if (vouch_buf_append(&res->body, body, strlen(body)) != VOUCH_OK)
        res->status = 500;
}

static void handler(void *arg, const struct vouch_http_request *req,
                    struct vouch_http_response *res)
{
    char q[64];
    (void)arg;

    if (strcmp(req->path, "/hello") == 0) {
        if (vouch_http_response_header(res, "x-one", " 1 ") != VOUCH_OK ||
            vouch_http_response_header(res, "x-chain", "a%20b") != VOUCH_OK ||
            vouch_http_response_header(res, "x-other", "z") != VOUCH_OK)
            return;
        reply(res, 200, "hello");
    } else if (strcmp(req->path, "/echo") == 0) {
        const char *v = NULL;
        size_t n = 0;
        char buf[128];
        if (vouch_http_request_header(req, "x-test", &v, &n) != VOUCH_OK)
            n = 0;
        snprintf(buf, sizeof(buf), "%.*s", (int)(n < 100 ? n : 100), v ? v : "");
        reply(res, 200, buf);
    } else if (strcmp(req->path, "/big") == 0) {
        size_t n = 0;
        char *b;
        if (vouch_http_query_param(req, "n", q, sizeof(q)) == VOUCH_OK)
            n = strtoul(q, NULL, 10);
        b = malloc(n + 1);
        if (!b)
            return;
        memset(b, 'x', n);
        b[n] = 0;
        reply(res, 200, b);
        free(b);
    } else if (strcmp(req->path, "/slow") == 0) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        reply(res, 200, "late");
    } else if (strcmp(req->path, "/to-hello") == 0 || strcmp(req->path, "/to-plain") == 0) {
        char loc[128];
        if (strcmp(req->path, "/to-hello") == 0)
            snprintf(loc, sizeof(loc), "/hello");
        else
            snprintf(loc, sizeof(loc), "%s/hello", plain_base);
        if (vouch_http_response_header(res, "location", loc) != VOUCH_OK)
            return;
        reply(res, 302, "");
    } else {
        reply(res, 404, "no");
    }
}

static void *run(void *arg)
{
    struct srv *s = arg;
    if (vouch_http_server_run(s->s) != VOUCH_OK)
        fprintf(stderr, "server run failed\n");
    return NULL;
}

static void start(struct srv *s, bool with_tls)
{
    struct vouch_http_server_opts o;

    memset(&o, 0, sizeof(o));
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.insecure_http = !with_tls;
    o.tls_cert = cert_path;
    o.tls_key = key_path;
    o.handler = handler;
    assert_int_equal(vouch_http_server_create(&o, &s->s), VOUCH_OK);
    s->port = vouch_http_server_port(s->s);
    assert_int_equal(pthread_create(&s->thread, NULL, run, s), 0);
}

static void stop(struct srv *s)
{
    vouch_http_server_stop(s->s);
    pthread_join(s->thread, NULL);
    vouch_http_server_free(s->s);
}

/* A P-256 key and a self-signed certificate for 127.0.0.1, as files. */
static void make_cert(void)
{
    struct vouch_pkey *k = NULL;
    struct vouch_cert_spec spec;
    const char *ips[1] = {"127.0.0.1"};
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *pem = NULL;
    FILE *f;
    int64_t now = vouch_time_now();

    memset(&spec, 0, sizeof(spec));
    spec.common_name = "127.0.0.1";
    spec.ip_addrs = ips;
    spec.n_ip = 1;
    spec.not_before = now - 3600;
    spec.not_after = now + 86400;
    spec.server_auth = true;
    assert_int_equal(vouch_pkey_generate(VOUCH_PKEY_EC_P256, &k), VOUCH_OK);
    assert_int_equal(vouch_pkey_self_signed_cert(k, &spec, &der, &der_len), VOUCH_OK);
    assert_int_equal(vouch_pkey_cert_pem(der, der_len, &pem), VOUCH_OK);
    assert_int_equal(vouch_pkey_save(k, key_path), VOUCH_OK);
    f = fopen(cert_path, "w");
    assert_non_null(f);
    assert_true(fputs(pem, f) >= 0);
    assert_int_equal(fclose(f), 0);
    vouch_free(pem);
    vouch_free(der);
    vouch_pkey_free(k);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    make_cert();
    start(&plain, false);
    start(&tls, true);
    snprintf(plain_base, sizeof(plain_base), "http://127.0.0.1:%u", plain.port);
    snprintf(tls_base, sizeof(tls_base), "https://127.0.0.1:%u", tls.port);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop(&plain);
    stop(&tls);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
    return 0;
}

static vouch_err get(const char *base, const char *path, const struct vouch_httpc_opts *o,
                     struct vouch_httpc_response *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", base, path);
    return vouch_httpc_get(url, o, r);
}

static void test_status_body_headers(void **state)
{
    static const char *const keep[] = {"X-One", "x-chain", NULL};
    struct vouch_httpc_opts o;
    struct vouch_httpc_response r;
    const char *v;
    size_t n;
    (void)state;

    vouch_httpc_opts_init(&o);
    o.keep_headers = keep;
    assert_int_equal(get(plain_base, "/hello", &o, &r), VOUCH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 5);
    assert_memory_equal(r.body, "hello", 5);
    assert_int_equal(r.body[5], 0);
    /* Kept headers: case-insensitive, trimmed; others dropped. */
    assert_int_equal(vouch_httpc_header(&r, "x-one", &v, &n), VOUCH_OK);
    assert_string_equal(v, "1");
    assert_int_equal(n, 1);
    assert_int_equal(vouch_httpc_header(&r, "X-CHAIN", &v, &n), VOUCH_OK);
    assert_string_equal(v, "a%20b");
    assert_int_equal(vouch_httpc_header(&r, "x-other", &v, &n), VOUCH_ERR_NOT_FOUND);
    assert_null(v);
    vouch_httpc_response_free(&r);

    /* A non-200 status is a response, not an error. */
    assert_int_equal(get(plain_base, "/missing", &o, &r), VOUCH_OK);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_len, 2);
    vouch_httpc_response_free(&r);
}

static void test_request_headers(void **state)
{
    static const char *const hdrs[] = {"X-Test: some value", NULL};
    struct vouch_httpc_opts o;
    struct vouch_httpc_response r;
    (void)state;

    vouch_httpc_opts_init(&o);
    o.request_headers = hdrs;
    assert_int_equal(get(plain_base, "/echo", &o, &r), VOUCH_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body, "some value");
    vouch_httpc_response_free(&r);
}

static void test_body_cap(void **state)
{
    struct vouch_httpc_opts o;
    struct vouch_httpc_response r;
    (void)state;

    vouch_httpc_opts_init(&o);
    o.max_body = 100;
    assert_int_equal(get(plain_base, "/big?n=100", &o, &r), VOUCH_OK);
    assert_int_equal(r.body_len, 100);
    vouch_httpc_response_free(&r);
    assert_int_equal(get(plain_base, "/big?n=101", &o, &r), VOUCH_ERR_TOO_LARGE);
    assert_null(r.body);
    assert_non_null(strstr(r.error_detail, "larger than 100 bytes"));
    vouch_httpc_response_free(&r);
    /* Larger than any cap the caller may ask for. */
    o.max_body = (size_t)VOUCH_MAX_HTTPC_RESPONSE * 4;
    assert_int_equal(get(plain_base, "/big?n=3000000", &o, &r), VOUCH_OK);
    assert_int_equal(r.body_len, 3000000);
    vouch_httpc_response_free(&r);
}

static void test_timeout_and_refused(void **state)
{
    struct vouch_httpc_opts o;
    struct vouch_httpc_response r;
    struct timespec t0, t1;
    int64_t ms;
    (void)state;

    vouch_httpc_opts_init(&o);
    o.timeout_ms = 200;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(get(plain_base, "/slow", &o, &r), VOUCH_ERR_IO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 900);
    assert_non_null(strstr(r.error_detail, "timed out"));
    vouch_httpc_response_free(&r);

    vouch_httpc_opts_init(&o);
    assert_int_equal(vouch_httpc_get("http://127.0.0.1:1/", &o, &r), VOUCH_ERR_IO);
    assert_true(r.error_detail[0] != 0);
    vouch_httpc_response_free(&r);
}

static void test_url_rules(void **state)
{
    static const char *const too_many[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", NULL};
    struct vouch_httpc_opts o;
    struct vouch_httpc_response r;
    (void)state;

    vouch_httpc_opts_init(&o);
    assert_int_equal(vouch_httpc_get("file:///etc/passwd", &o, &r), VOUCH_ERR_INVAL);
    vouch_httpc_response_free(&r);
    assert_int_equal(vouch_httpc_get("ftp://127.0.0.1/x", &o, &r), VOUCH_ERR_INVAL);
    vouch_httpc_response_free(&r);
    assert_int_equal(vouch_httpc_get(NULL, &o, &r), VOUCH_ERR_INVAL);
    vouch_httpc_response_free(&r);
    o.keep_headers = too_many;
    assert_int_equal(get(plain_base, "/hello", &o, &r), VOUCH_ERR_INVAL);
    vouch_httpc_response_free(&r);

    /* Redirects are followed within a scheme... */
    vouch_httpc_opts_init(&o);
    assert_int_equal(get(plain_base, "/to-hello", &o, &r), VOUCH_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body, "hello");
    vouch_httpc_response_free(&r);
    /* ...but https never follows one to http. */
    o.ca_file = cert_path;
    assert_int_equal(get(tls_base, "/to-hello", &o, &r), VOUCH_OK);
    assert_int_equal(r.status, 200);
    vouch_httpc_response_free(&r);
    assert_int_not_equal(get(tls_base, "/to-plain", &o, &r), VOUCH_OK);
    assert_null(r.body);
    vouch_httpc_response_free(&r);
}

static void test_tls(void **state)
{
    struct vouch_httpc_opts o;
    struct vouch_httpc_response r;
    (void)state;

    vouch_httpc_opts_init(&o);
    /* The system store does not know the test certificate. */
    assert_int_equal(get(tls_base, "/hello", &o, &r), VOUCH_ERR_CHAIN);
    assert_null(r.body);
    vouch_httpc_response_free(&r);
    o.ca_file = cert_path;
    assert_int_equal(get(tls_base, "/hello", &o, &r), VOUCH_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body, "hello");
    vouch_httpc_response_free(&r);
    /* The certificate names 127.0.0.1, not localhost: host name checks are on. */
    {
        char url[96];
        snprintf(url, sizeof(url), "https://localhost:%u/hello", tls.port);
        assert_int_not_equal(vouch_httpc_get(url, &o, &r), VOUCH_OK);
        vouch_httpc_response_free(&r);
    }
    o.ca_file = "/nonexistent/ca.pem";
    assert_int_not_equal(get(tls_base, "/hello", &o, &r), VOUCH_OK);
    vouch_httpc_response_free(&r);
}

static void *client_thread(void *arg)
{
    int *ok = arg;
    struct vouch_httpc_opts o;
    struct vouch_httpc_response r;

    vouch_httpc_opts_init(&o);
    o.ca_file = cert_path;
    for (int i = 0; i < 8; i++) {
        if (get(i % 2 ? tls_base : plain_base, "/hello", &o, &r) == VOUCH_OK && r.status == 200 &&
            r.body_len == 5)
            (*ok)++;
        vouch_httpc_response_free(&r);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    pthread_t t[4];
    int ok[4] = {0};
    (void)state;

    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, client_thread, &ok[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(ok[i], 8);
    }
}

static void test_percent_decode(void **state)
{
    char *out = NULL;
    size_t n = 0;
    (void)state;

    assert_int_equal(vouch_httpc_percent_decode("a%20b%0A%2b+%2F", 15, &out, &n), VOUCH_OK);
    assert_string_equal(out, "a b\n++/");
    assert_int_equal(n, 7);
    vouch_free(out);
    assert_int_equal(vouch_httpc_percent_decode("", 0, &out, &n), VOUCH_OK);
    assert_string_equal(out, "");
    vouch_free(out);
    assert_int_equal(vouch_httpc_percent_decode("ab%", 3, &out, &n), VOUCH_ERR_PARSE);
    assert_null(out);
    assert_int_equal(vouch_httpc_percent_decode("%4", 2, &out, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_httpc_percent_decode("%G0", 3, &out, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_httpc_percent_decode("a%00b", 5, &out, &n), VOUCH_ERR_PARSE);
    assert_int_equal(vouch_httpc_percent_decode("a\0b", 3, &out, &n), VOUCH_ERR_PARSE);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_body_headers),
        cmocka_unit_test(test_request_headers),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_timeout_and_refused),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_percent_decode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
