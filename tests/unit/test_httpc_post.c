/* vouch_httpc_post (vouch/httpc.h) against Vouch's own HTTP server on
 * 127.0.0.1: the body and its content type arrive intact (also a body with a
 * NUL byte and an empty one), the method is POST, a redirect is returned,
 * never followed, and a missing body is refused before connecting. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <vouch/http.h>
#include <vouch/httpc.h>
#include <vouch/mem.h>

static struct vouch_http_server *srv;
static pthread_t thread;
static char base[64];

static void reply(struct vouch_http_response *res, int status, const void *body, size_t len)
{
    res->status = status;
    res->content_type = "application/octet-stream";
    vouch_buf_reset(&res->body);
    if (vouch_buf_append(&res->body, body, len) != VOUCH_OK)
        res->status = 500;
}

/* /echo answers "<method> <content-type>\n<body>"; /moved redirects to /echo. */
static void handler(void *arg, const struct vouch_http_request *req,
                    struct vouch_http_response *res)
{
    (void)arg;
    if (strcmp(req->path, "/echo") == 0) {
        const char *ct = NULL;
        size_t ctl = 0;
        char head[160];
        int n;
        if (vouch_http_request_header(req, "content-type", &ct, &ctl) != VOUCH_OK)
            ctl = 0;
        n = snprintf(head, sizeof(head), "%s %.*s\n", req->method, (int)(ctl < 100 ? ctl : 100),
                     ct ? ct : "");
        reply(res, 200, head, (size_t)n);
        if (req->body_len && vouch_buf_append(&res->body, req->body, req->body_len) != VOUCH_OK)
            res->status = 500;
    } else if (strcmp(req->path, "/moved") == 0) {
        if (vouch_http_response_header(res, "location", "/echo") != VOUCH_OK)
            return;
        reply(res, 307, "", 0);
    } else {
        reply(res, 404, "no", 2);
    }
}

static void *run(void *arg)
{
    (void)arg;
    if (vouch_http_server_run(srv) != VOUCH_OK)
        fprintf(stderr, "server run failed\n");
    return NULL;
}

static int setup(void **state)
{
    struct vouch_http_server_opts o;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.insecure_http = true;
    o.handler = handler;
    if (vouch_http_server_create(&o, &srv) != VOUCH_OK)
        return -1;
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", vouch_http_server_port(srv));
    return pthread_create(&thread, NULL, run, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    vouch_http_server_stop(srv);
    pthread_join(thread, NULL);
    vouch_http_server_free(srv);
    return 0;
}

static void post(const char *path, const char *ctype, const void *body, size_t len,
                 struct vouch_httpc_response *r, vouch_err want)
{
    struct vouch_httpc_opts o;
    char url[128];

    vouch_httpc_opts_init(&o);
    snprintf(url, sizeof(url), "%s%s", base, path);
    assert_int_equal(vouch_httpc_post(url, ctype, body, len, &o, r), want);
}

static void test_body_and_type(void **state)
{
    struct vouch_httpc_response r;
    static const char body[] = "{\"data\":\"eyJ9\"}";
    static const char want[] = "POST application/json\n{\"data\":\"eyJ9\"}";

    (void)state;
    post("/echo", "application/json", body, strlen(body), &r, VOUCH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(want));
    assert_memory_equal(r.body, want, strlen(want));
    vouch_httpc_response_free(&r);
}

static void test_binary_and_empty(void **state)
{
    struct vouch_httpc_response r;
    static const uint8_t body[] = {'a', 0, 'b', 0xff};
    static const char head[] = "POST text/plain\n";

    (void)state;
    /* The length, not a NUL, ends the body. */
    post("/echo", "text/plain", body, sizeof(body), &r, VOUCH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(head) + sizeof(body));
    assert_memory_equal(r.body + strlen(head), body, sizeof(body));
    vouch_httpc_response_free(&r);

    post("/echo", "text/plain", NULL, 0, &r, VOUCH_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(head));
    vouch_httpc_response_free(&r);
}

static void test_no_redirect(void **state)
{
    struct vouch_httpc_response r;

    (void)state;
    /* A GET would follow this; a POST body must not go where the caller
     * did not send it. */
    post("/moved", "application/json", "{}", 2, &r, VOUCH_OK);
    assert_int_equal(r.status, 307);
    vouch_httpc_response_free(&r);
}

static void test_bad_input(void **state)
{
    struct vouch_httpc_response r;
    struct vouch_httpc_opts o;

    (void)state;
    post("/echo", "application/json", NULL, 5, &r, VOUCH_ERR_INVAL);
    assert_true(r.error_detail[0] != 0);
    vouch_httpc_response_free(&r);
    vouch_httpc_opts_init(&o);
    assert_int_equal(vouch_httpc_post("ftp://127.0.0.1/x", NULL, "x", 1, &o, &r), VOUCH_ERR_INVAL);
    vouch_httpc_response_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_and_type),
        cmocka_unit_test(test_binary_and_empty),
        cmocka_unit_test(test_no_redirect),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
