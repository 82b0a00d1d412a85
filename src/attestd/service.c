/*
 * Routing and the small endpoints: /certs, OpenID metadata, /healthz,
 * /metrics. Every response carries x-ms-request-id (the HTTP layer) and a
 * service version; errors use MAA's {"error":{"code","message"}} shape.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/json.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "attestd/attestd_int.h"

static const char *const type_names[ATTESTD_TYPE__COUNT] = {
    [ATTESTD_SGX_ENCLAVE] = "SgxEnclave",
    [ATTESTD_OPEN_ENCLAVE] = "OpenEnclave",
    [ATTESTD_TDX_VM] = "TdxVm",
    [ATTESTD_SEV_SNP_VM] = "SevSnpVm",
    [ATTESTD_TPM] = "Tpm",
    [ATTESTD_SIM_ENCLAVE] = "SimEnclave",
};

const char *attestd_type_name(enum attestd_type t)
{
    return (unsigned)t < ATTESTD_TYPE__COUNT ? type_names[t] : "?";
}

vouch_err attestd_type_parse(const char *s, size_t len, enum attestd_type *out)
{
    for (int i = 0; i < ATTESTD_TYPE__COUNT; i++) {
        if (strlen(type_names[i]) == len && memcmp(type_names[i], s, len) == 0) {
            *out = (enum attestd_type)i;
            return VOUCH_OK;
        }
    }
    return VOUCH_ERR_NOT_FOUND;
}

int64_t attestd_now(const struct attestd *d)
{
    return d->cfg.has_eval_time ? d->cfg.eval_time : vouch_time_now();
}

void attestd_error(struct vouch_http_response *res, int status, const char *code, const char *fmt,
                   ...)
{
    char msg[512];
    json_t *o;
    char *text = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    res->status = status;
    vouch_buf_reset(&res->body);
    o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    if (!o) /* a message that is not UTF-8 must not lose the error */
        o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", "(unprintable)");
    if (o && vouch_json_dump(o, 0, &text) == VOUCH_OK &&
        vouch_buf_append_str(&res->body, text) == VOUCH_OK)
        (void)0;
    vouch_free(text);
    json_decref(o);
}

/* True when @p s needs no JSON escaping: a compact JWS is base64url and dots. */
static bool jws_chars_only(const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

void attestd_token_response(struct vouch_http_response *res, const char *token)
{
    json_t *o = NULL;
    char *text = NULL;

    /* The usual case, written directly: serialising through jansson would
     * re-scan the ~7 KiB token character by character on every attest. */
    if (jws_chars_only(token)) {
        vouch_buf_reset(&res->body);
        if (vouch_buf_append_str(&res->body, "{\"token\":\"") == VOUCH_OK &&
            vouch_buf_append_str(&res->body, token) == VOUCH_OK &&
            vouch_buf_append_str(&res->body, "\"}") == VOUCH_OK)
            res->status = 200;
        else
            attestd_error(res, 500, "InternalError", "response too large");
        return;
    }
    o = json_pack("{s:s}", "token", token);
    if (!o || vouch_json_dump(o, 0, &text) != VOUCH_OK) {
        json_decref(o);
        attestd_error(res, 500, "InternalError", "out of memory");
        return;
    }
    vouch_buf_reset(&res->body);
    if (vouch_buf_append_str(&res->body, text) == VOUCH_OK)
        res->status = 200;
    else
        attestd_error(res, 500, "InternalError", "response too large");
    vouch_free(text);
    json_decref(o);
}

vouch_err attestd_issue_token(struct attestd *d, json_t *claims, char **out)
{
    struct vouch_token_signer s;
    char jku[1024];

    *out = NULL;
    if (d->n_keys == 0)
        return VOUCH_ERR_INTERNAL;
    if ((size_t)snprintf(jku, sizeof(jku), "%s/certs", d->cfg.issuer) >= sizeof(jku))
        return VOUCH_ERR_INVAL;
    if (json_object_set_new(claims, "iss", json_string(d->cfg.issuer)) ||
        json_object_set_new(claims, "x-ms-ver", json_string("1.0")))
        return VOUCH_ERR_NOMEM;
    s.key = d->keys[0].key;
    s.alg = d->cfg.token_alg;
    s.kid = d->keys[0].kid;
    s.jku = jku;
    return vouch_token_issue(&s, claims, attestd_now(d), d->cfg.token_lifetime, out);
}

static void send_text(struct vouch_http_response *res, int status, const char *ctype,
                      const char *text)
{
    res->status = status;
    res->content_type = ctype;
    vouch_buf_reset(&res->body);
    if (vouch_buf_append_str(&res->body, text) != VOUCH_OK)
        attestd_error(res, 500, "InternalError", "response too large");
}

/* api-version is required on the data-plane calls, as MAA requires it. */
static bool api_version_ok(const struct vouch_http_request *req, struct vouch_http_response *res)
{
    char v[VOUCH_MAX_QUERY_VALUE];
    vouch_err rc = vouch_http_query_param(req, "api-version", v, sizeof(v));

    if (rc == VOUCH_ERR_NOT_FOUND) {
        attestd_error(res, 400, "MissingApiVersionParameter",
                      "The api-version query parameter (?api-version=) is required for all "
                      "requests.");
        return false;
    }
    if (rc != VOUCH_OK || (strcmp(v, "2020-10-01") != 0 && strcmp(v, "2022-08-01") != 0)) {
        attestd_error(res, 400, "InvalidApiVersionParameter",
                      "The api-version '%s' is not supported; use 2020-10-01 or 2022-08-01.",
                      rc == VOUCH_OK ? v : "?");
        return false;
    }
    return true;
}

static bool method_is(const struct vouch_http_request *req, const char *m,
                      struct vouch_http_response *res)
{
    if (strcmp(req->method, m) == 0)
        return true;
    attestd_error(res, 405, "MethodNotAllowed", "%s is not allowed here", req->method);
    return false;
}

static void route(struct attestd *d, const struct vouch_http_request *req,
                  struct vouch_http_response *res, char *note)
{
    const char *p = req->path;
    enum attestd_type type;

    if (strcmp(p, "/certs") == 0 || strcmp(p, "/certs/") == 0) {
        if (method_is(req, "GET", res))
            send_text(res, 200, "application/json; charset=utf-8", d->jwks_text);
        return;
    }
    if (strcmp(p, "/.well-known/openid-configuration") == 0) {
        if (method_is(req, "GET", res))
            send_text(res, 200, "application/json; charset=utf-8", d->openid_text);
        return;
    }
    if (strcmp(p, "/healthz") == 0) {
        if (method_is(req, "GET", res))
            send_text(res, 200, "application/json; charset=utf-8", "{\"status\":\"ok\"}");
        return;
    }
    if (strcmp(p, "/metrics") == 0) {
        if (!method_is(req, "GET", res))
            return;
        vouch_buf_reset(&res->body);
        if (attestd_metrics_render(d, &res->body) != VOUCH_OK) {
            attestd_error(res, 500, "InternalError", "cannot render metrics");
            return;
        }
        res->status = 200;
        res->content_type = "text/plain; version=0.0.4";
        return;
    }
    if (strncmp(p, "/attest/", 8) == 0) {
        if (attestd_type_parse(p + 8, strlen(p + 8), &type) != VOUCH_OK) {
            attestd_error(res, 404, "NotFound", "unknown attestation type '%s'", p + 8);
            return;
        }
        if (method_is(req, "POST", res) && api_version_ok(req, res))
            attestd_attest(d, type, req, res, note);
        return;
    }
    if (strncmp(p, "/policies/", 10) == 0) {
        const char *t = p + 10;
        const char *colon = strchr(t, ':');
        size_t tl = colon ? (size_t)(colon - t) : strlen(t);
        bool reset = false;
        if (attestd_type_parse(t, tl, &type) != VOUCH_OK) {
            attestd_error(res, 404, "NotFound", "unknown attestation type");
            return;
        }
        if (colon) {
            if (strcmp(colon, ":reset") != 0) {
                attestd_error(res, 404, "NotFound", "unknown policy operation");
                return;
            }
            reset = true;
            if (!method_is(req, "POST", res))
                return;
        }
        if (api_version_ok(req, res))
            attestd_policy_endpoint(d, type, reset, req, res);
        return;
    }
    if (strcmp(p, "/certificates") == 0 || strcmp(p, "/certificates:add") == 0 ||
        strcmp(p, "/certificates:remove") == 0) {
        if (api_version_ok(req, res))
            attestd_certificates_endpoint(d, p + 13, req, res);
        return;
    }
    attestd_error(res, 404, "NotFound", "no such endpoint");
}

void attestd_handle(void *arg, const struct vouch_http_request *req,
                    struct vouch_http_response *res)
{
    struct attestd *d = arg;
    char note[ATTESTD_LOG_NOTE_MAX];

    note[0] = '\0';
    if (vouch_http_response_header(res, "x-ms-maa-service-version", ATTESTD_VERSION) != VOUCH_OK)
        vouch_log_warn("cannot add the version header");
    route(d, req, res, note);
    attestd_metrics_request(d, res->status);
    /* One line per request; an attestation adds its decision to it. */
    vouch_log_info("request_id=%s method=%s path=%s status=%d%s%s", req->request_id, req->method,
                   req->path, res->status, note[0] ? " " : "", note);
}
