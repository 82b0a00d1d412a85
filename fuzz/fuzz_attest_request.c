/*
 * Fuzz target: vouch-attestd's request handling, from the routed request to
 * the answer, without the network. The first input byte picks the endpoint
 * (bits 0-2), the api-version (bits 3-4) and how the rest becomes the body
 * (bits 5-6), so that mutations reach the evidence bytes and not only the
 * JSON and base64 around them:
 *
 *   mode 0  the rest is the body as sent;
 *   mode 1  the rest is the evidence: {"quote"|"report": b64url(rest)};
 *   mode 2  u16le n, n bytes of runtime data, then the evidence: as mode 1
 *           plus "runtimeData" {"data": b64url, "dataType": JSON if bit 7
 *           is set, else Binary};
 *   mode 3  u16le n, an n-byte SEV-SNP report, then the VCEK: MAA's
 *           {"report": b64url({"SnpReport": b64url, "VcekCertChain": b64url})}.
 *
 * The service is built once, as vouch-attestd builds it (LMDB store in a
 * temporary directory, a token-signing key, the default policies), but with
 * no Intel collateral: SGX and TDX requests go through JSON and base64
 * decoding, the Open Enclave header, the runtime data and the DCAP platform
 * read, and stop at the collateral lookup; SEV-SNP evidence (the VCEK comes
 * in the request) is verified completely, so bindings, draft policies and
 * token issue are reached too. Policy management needs an Authorization
 * header, which a request without the HTTP server cannot carry: those paths
 * only show that they refuse.
 *
 * Invariants checked on every answer: 200 carries {"token": string}; any
 * other status is a 4xx with MAA's {"error":{"code","message"}} shape. Bad
 * input must never be a 5xx.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vouch/buf.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2025-07-01: the SEV-SNP vectors' VCEKs are valid then. */
#define FUZZ_EVAL_TIME 1751328000

struct endpoint {
    const char *method;
    const char *path;
};

static const struct endpoint endpoints[8] = {
    {"POST", "/attest/SgxEnclave"},  {"POST", "/attest/OpenEnclave"},
    {"POST", "/attest/TdxVm"},       {"POST", "/attest/SevSnpVm"},
    {"PUT", "/policies/SgxEnclave"}, {"POST", "/policies/SevSnpVm:reset"},
    {"POST", "/certificates:add"},   {"POST", "/attest/Tpm"},
};

static const char *const queries[4] = {
    "api-version=2022-08-01",
    "api-version=2020-10-01",
    "",
    "x=1&api-version=%zz",
};

struct body_parts {
    const uint8_t *evidence, *runtime, *vcek;
    size_t evidence_len, runtime_len, vcek_len;
};

static struct attestd *g_d;
static char g_dir[] = "/tmp/vouch-fuzz-attestd-XXXXXX";

static void teardown(void)
{
    char path[sizeof(g_dir) + 32];

    if (!g_d)
        return;
    for (int t = 0; t < ATTESTD_TYPE__COUNT; t++)
        attestd_policy_unref(g_d->policy[t]);
    attestd_keys_free(g_d);
    attestd_store_close(g_d->store);
    pthread_mutex_destroy(&g_d->policy_lock);
    vouch_free(g_d);
    g_d = NULL;
    snprintf(path, sizeof(path), "%s/state.mdb", g_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.mdb-lock", g_dir);
    unlink(path);
    rmdir(g_dir);
}

static struct attestd *service(void)
{
    struct attestd *d;

    if (g_d)
        return g_d;
    vouch_log_set_level(VOUCH_LOG_ERROR);
    if (!mkdtemp(g_dir) || !(d = vouch_calloc(1, sizeof(*d)))) {
        fprintf(stderr, "fuzz_attest_request: cannot set up a temporary service\n");
        abort();
    }
    d->cfg.listen = "127.0.0.1:0";
    d->cfg.data_dir = g_dir;
    d->cfg.issuer = "https://fuzz.invalid";
    d->cfg.has_eval_time = true;
    d->cfg.eval_time = FUZZ_EVAL_TIME;
    /* ES256: a P-256 key is quick to make and to sign with. */
    d->cfg.token_alg = VOUCH_SIG_ES256;
    d->cfg.token_lifetime = VOUCH_TOKEN_DEFAULT_LIFETIME;
    d->cfg.allow_draft_policy = true;
    if (attestd_store_open(g_dir, &d->store) != VOUCH_OK || attestd_keys_load(d) != VOUCH_OK ||
        attestd_policies_load(d) != VOUCH_OK || attestd_collateral_load(d) != VOUCH_OK) {
        fprintf(stderr, "fuzz_attest_request: the service did not start\n");
        abort();
    }
    g_d = d;
    atexit(teardown);
    return d;
}

static bool nonempty_string(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) && json_string_length(v) > 0;
}

/* The answer must be a token or MAA's error shape; anything else is a bug. */
static void check_answer(const struct vouch_http_response *res, const char *path)
{
    json_t *o = NULL;
    bool ok = false;

    if (vouch_json_parse((const char *)res->body.data, res->body.len, &o, NULL, 0) == VOUCH_OK &&
        json_is_object(o)) {
        if (res->status == 200) {
            ok = nonempty_string(o, "token");
        } else if (res->status >= 400 && res->status < 500) {
            const json_t *e = json_object_get(o, "error");
            ok = json_is_object(e) && nonempty_string(e, "code") && nonempty_string(e, "message");
        }
    }
    json_decref(o);
    if (!ok) {
        fprintf(stderr, "fuzz_attest_request: %s answered %d with: %.*s\n", path, res->status,
                (int)(res->body.len < 2000 ? res->body.len : 2000),
                res->body.data ? (const char *)res->body.data : "");
        abort();
    }
}

static vouch_err append_b64url(struct vouch_buf *b, const uint8_t *p, size_t len)
{
    char *text = vouch_malloc(vouch_base64_encoded_len(len, true) + 1);
    vouch_err rc;

    if (!text)
        return VOUCH_ERR_NOMEM;
    vouch_base64_encode(p, len, true, text);
    rc = vouch_buf_append_str(b, text);
    vouch_free(text);
    return rc;
}

/* Splits "u16le n, n bytes, rest"; false if the input is too short. */
static bool split(const uint8_t *p, size_t len, const uint8_t **a, size_t *alen,
                  const uint8_t **rest, size_t *rest_len)
{
    size_t n;

    if (len < 2)
        return false;
    n = (size_t)p[0] | (size_t)p[1] << 8;
    if (n > len - 2)
        return false;
    *a = p + 2;
    *alen = n;
    *rest = p + 2 + n;
    *rest_len = len - 2 - n;
    return true;
}

/* The request body for modes 1-3 (see the top of the file). */
static vouch_err build_body(unsigned sel, const char *path, const uint8_t *p, size_t len,
                            struct vouch_buf *body)
{
    unsigned mode = (sel >> 5) & 3u;
    bool report = strstr(path, "OpenEnclave") || strstr(path, "SevSnpVm");
    struct body_parts bp;
    struct vouch_buf inner;
    vouch_err rc = VOUCH_ERR_PARSE;

    memset(&bp, 0, sizeof(bp));
    vouch_buf_init(&inner, VOUCH_MAX_HTTP_BODY);
    if (mode == 1) {
        bp.evidence = p;
        bp.evidence_len = len;
    } else if (mode == 2) {
        if (!split(p, len, &bp.runtime, &bp.runtime_len, &bp.evidence, &bp.evidence_len))
            goto out;
    } else {
        if (!split(p, len, &bp.evidence, &bp.evidence_len, &bp.vcek, &bp.vcek_len))
            goto out;
        if ((rc = vouch_buf_append_str(&inner, "{\"SnpReport\":\"")) != VOUCH_OK ||
            (rc = append_b64url(&inner, bp.evidence, bp.evidence_len)) != VOUCH_OK ||
            (rc = vouch_buf_append_str(&inner, "\",\"VcekCertChain\":\"")) != VOUCH_OK ||
            (rc = append_b64url(&inner, bp.vcek, bp.vcek_len)) != VOUCH_OK ||
            (rc = vouch_buf_append_str(&inner, "\"}")) != VOUCH_OK)
            goto out;
        bp.evidence = inner.data;
        bp.evidence_len = inner.len;
        report = true;
    }
    if ((rc = vouch_buf_printf(body, "{\"%s\":\"", report ? "report" : "quote")) != VOUCH_OK ||
        (rc = append_b64url(body, bp.evidence, bp.evidence_len)) != VOUCH_OK ||
        (rc = vouch_buf_append_str(body, "\"")) != VOUCH_OK)
        goto out;
    if (bp.runtime &&
        ((rc = vouch_buf_append_str(body, ",\"runtimeData\":{\"data\":\"")) != VOUCH_OK ||
         (rc = append_b64url(body, bp.runtime, bp.runtime_len)) != VOUCH_OK ||
         (rc = vouch_buf_printf(body, "\",\"dataType\":\"%s\"}",
                                (sel & 0x80u) ? "JSON" : "Binary")) != VOUCH_OK))
        goto out;
    rc = vouch_buf_append_str(body, "}");
out:
    vouch_buf_free(&inner);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct attestd *d = service();
    struct vouch_http_request req;
    struct vouch_http_response res;
    struct vouch_buf body;
    const struct endpoint *ep;
    uint8_t *exact = NULL;

    if (size < 1 || size - 1 > VOUCH_MAX_HTTP_BODY)
        return 0;
    ep = &endpoints[data[0] & 7u];
    vouch_buf_init(&body, VOUCH_MAX_HTTP_BODY);
    if ((data[0] & 0x60u) != 0 &&
        build_body(data[0], ep->path, data + 1, size - 1, &body) != VOUCH_OK) {
        vouch_buf_free(&body);
        return 0;
    }
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.method = ep->method;
    req.path = ep->path;
    req.query = queries[(data[0] >> 3) & 3u];
    /* Exact-size bodies, so ASan sees any over-read. */
    if (data[0] & 0x60u) {
        if (!(exact = vouch_malloc(body.len ? body.len : 1))) {
            vouch_buf_free(&body);
            return 0;
        }
        memcpy(exact, body.data, body.len);
        req.body = exact;
        req.body_len = body.len;
    } else {
        req.body = data + 1;
        req.body_len = size - 1;
    }
    memcpy(req.request_id, "fuzz", 5);
    req.tls = true;
    res.status = 500;
    res.content_type = "application/json; charset=utf-8";
    vouch_buf_init(&res.body, VOUCH_MAX_HTTP_RESPONSE);

    attestd_handle(d, &req, &res);
    check_answer(&res, ep->path);

    vouch_buf_free(&res.body);
    for (size_t i = 0; i < res.n_headers; i++)
        vouch_free(res.headers[i].value);
    vouch_buf_free(&body);
    vouch_free(exact);
    return 0;
}
