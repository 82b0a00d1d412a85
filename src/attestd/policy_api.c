/*
 * Policy and policy-signer management: MAA's /policies/{type} (GET, PUT,
 * :reset) and /certificates (GET, :add, :remove), plus loading the stored
 * policies at start-up and handing references to the attest path.
 *
 * Wire format (MAA 2020-10-01): a policy arrives as a compact JWS whose
 * payload is {"AttestationPolicy": b64url(text)}, unsigned (alg "none") or
 * signed (RS256/PS256/ES256) by a registered policy-management certificate
 * named in the x5c (or jwk) header. Certificate changes are signed JWSs whose
 * payload carries the certificate as a JWK with x5c. Every answer is a token
 * signed with the service key.
 *
 * Consistency: every change is one LMDB transaction ("current/<Type>" plus a
 * history record "v/<Type>/<version>"), and all changes run under admin_lock so
 * that the version number, the signer check and the published policy agree.
 * Attest requests never take admin_lock; they only take policy_lock for the
 * instant it takes to copy a pointer and bump a reference count.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "attestd/attestd_int.h"

/* {"alg":"none"} in base64url: the header of every unsigned JWS. */
#define UNSIGNED_HEADER "eyJhbGciOiJub25lIn0"

#define SHA1_LEN 20u
#define SHA1_HEX (2u * SHA1_LEN)

/* Serialises policy and signer changes (see the file comment). A process runs
 * one service, so one lock for the process is the right granularity. */
static pthread_mutex_t admin_lock = PTHREAD_MUTEX_INITIALIZER;

/* Names under which clients send the certificate of a :add/:remove call. */
static const char *const cert_claim_names[] = {
    "policyCertificate",
    "maa-policyCertificate",
    "x-ms-policyCertificate",
};

/* A compact JWS from a request body, split and decoded. */
struct jws {
    char *compact;     /* the JWS as received, trimmed (owned, NUL-terminated) */
    size_t len;        /* strlen(compact) */
    size_t signed_len; /* length of "<header>.<payload>", the signing input */
    json_t *header;
    uint8_t *payload;
    size_t payload_len;
    uint8_t *sig;
    size_t sig_len;
    bool is_unsigned;
    enum vouch_sig_alg alg;
    uint8_t *cert_der; /* x5c[0], when the header has one */
    size_t cert_len;
    struct vouch_pubkey *key; /* the key the header names (x5c[0] or jwk) */
};

static void jws_free(struct jws *j)
{
    vouch_free(j->compact);
    json_decref(j->header);
    vouch_free(j->payload);
    vouch_free(j->sig);
    vouch_free(j->cert_der);
    vouch_pubkey_free(j->key);
    memset(j, 0, sizeof(*j));
}

/* ---- policy objects ---- */

static void policy_free(struct attestd_policy *p)
{
    vouch_free(p->text);
    vouch_policy_free(p->parsed);
    vouch_free(p->jws);
    json_decref(p->signer);
    vouch_free(p);
}

void attestd_policy_unref(struct attestd_policy *p)
{
    if (!p)
        return;
    if (atomic_fetch_sub_explicit(&p->refs, 1u, memory_order_acq_rel) == 1u)
        policy_free(p);
}

static vouch_err b64url_dup(const void *p, size_t len, char **out)
{
    *out = vouch_malloc(vouch_base64_encoded_len(len, true) + 1);
    if (!*out)
        return VOUCH_ERR_NOMEM;
    vouch_base64_encode(p, len, true, *out);
    return VOUCH_OK;
}

/* The unsigned JWS MAA returns in x-ms-policy for a policy set without a
 * signature: {"alg":"none"} . {"AttestationPolicy": b64url(text)} . "" */
static vouch_err unsigned_policy_jws(const char *text, size_t len, char **out)
{
    char *text_b64 = NULL, *payload = NULL, *payload_b64 = NULL;
    json_t *o = NULL;
    size_t n;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    if ((rc = b64url_dup(text, len, &text_b64)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (!(o = json_pack("{s:s}", "AttestationPolicy", text_b64)))
        goto out;
    if ((rc = vouch_json_dump(o, 0, &payload)) != VOUCH_OK ||
        (rc = b64url_dup(payload, strlen(payload), &payload_b64)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    n = sizeof(UNSIGNED_HEADER) + strlen(payload_b64) + 2;
    if (!(*out = vouch_malloc(n)))
        goto out;
    snprintf(*out, n, "%s.%s.", UNSIGNED_HEADER, payload_b64);
    rc = VOUCH_OK;
out:
    vouch_free(text_b64);
    vouch_free(payload);
    vouch_free(payload_b64);
    json_decref(o);
    return rc;
}

vouch_err attestd_policy_build(const char *text, size_t len, struct attestd_policy **out,
                               struct vouch_policy_error *err)
{
    struct vouch_policy_error local;
    struct attestd_policy *p = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    if (!err)
        err = &local;
    memset(err, 0, sizeof(*err));
    if (len > VOUCH_MAX_POLICY_SIZE) {
        snprintf(err->message, sizeof(err->message), "the policy is larger than %u bytes",
                 VOUCH_MAX_POLICY_SIZE);
        return VOUCH_ERR_TOO_LARGE;
    }
    if (!(p = vouch_calloc(1, sizeof(*p))))
        goto out;
    atomic_init(&p->refs, 1u);
    if (!(p->text = vouch_memdup(text, len + 1)))
        goto out;
    p->text[len] = 0;
    p->text_len = len;
    /* Strict only: what is stored must mean exactly what the uploader wrote. */
    if ((rc = vouch_policy_parse(text, len, 0, &p->parsed, err)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_policy_hash(text, len, p->hash)) != VOUCH_OK ||
        (rc = unsigned_policy_jws(text, len, &p->jws)) != VOUCH_OK)
        goto out;
    *out = p;
    p = NULL;
    rc = VOUCH_OK;
out:
    if (p)
        policy_free(p);
    return rc;
}

/* The built-in policy of @p t as an unpublished object; NULL for Tpm. */
static vouch_err build_default(enum attestd_type t, struct attestd_policy **out)
{
    struct vouch_policy_error perr;
    const char *text;
    vouch_err rc;

    *out = NULL;
    rc = vouch_policy_default(attestd_type_name(t), &text);
    if (rc == VOUCH_ERR_NOT_FOUND)
        return VOUCH_OK;
    if (rc != VOUCH_OK)
        return rc;
    if ((rc = attestd_policy_build(text, strlen(text), out, &perr)) != VOUCH_OK) {
        vouch_log_error("the built-in %s policy does not parse: line %u column %u: %s",
                        attestd_type_name(t), perr.line, perr.column, perr.message);
        return rc;
    }
    (*out)->is_default = true;
    return VOUCH_OK;
}

/* Swaps @p p (reference taken over) in as the current policy of @p t. */
static void publish(struct attestd *d, enum attestd_type t, struct attestd_policy *p)
{
    struct attestd_policy *old;

    pthread_mutex_lock(&d->policy_lock);
    old = d->policy[t];
    d->policy[t] = p;
    pthread_mutex_unlock(&d->policy_lock);
    attestd_policy_unref(old);
}

struct attestd_policy *attestd_policy_get(struct attestd *d, enum attestd_type type)
{
    struct attestd_policy *p;

    if ((unsigned)type >= ATTESTD_TYPE__COUNT)
        return NULL;
    pthread_mutex_lock(&d->policy_lock);
    p = d->policy[type];
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1u, memory_order_relaxed);
    pthread_mutex_unlock(&d->policy_lock);
    return p;
}

/* ---- stored records ---- */

/* A "current/<Type>" record: {"version","text","jws"?,"signer"}. */
static vouch_err policy_from_record(enum attestd_type t, const uint8_t *val, size_t len,
                                    struct attestd_policy **out)
{
    struct vouch_policy_error perr;
    struct attestd_policy *p = NULL;
    json_t *o = NULL, *signer;
    const char *text, *jws = NULL;
    size_t text_len, jws_len = 0;
    int64_t version;
    char why[VOUCH_MAX_ERROR_DETAIL];
    vouch_err rc;

    *out = NULL;
    if ((rc = vouch_json_parse((const char *)val, len, &o, why, sizeof(why))) != VOUCH_OK) {
        vouch_log_error("stored %s policy record is not JSON: %s", attestd_type_name(t), why);
        goto out;
    }
    rc = VOUCH_ERR_PARSE;
    signer = json_object_get(o, "signer");
    if (vouch_json_str(o, "text", &text, &text_len) != VOUCH_OK ||
        vouch_json_int(o, "version", 1, INT64_MAX, &version) != VOUCH_OK ||
        (json_object_get(o, "jws") && vouch_json_str(o, "jws", &jws, &jws_len) != VOUCH_OK) ||
        (signer && !json_is_null(signer) && !json_is_object(signer))) {
        vouch_log_error("stored %s policy record is malformed", attestd_type_name(t));
        goto out;
    }
    if ((rc = attestd_policy_build(text, text_len, &p, &perr)) != VOUCH_OK) {
        vouch_log_error("stored %s policy does not parse: line %u column %u: %s",
                        attestd_type_name(t), perr.line, perr.column, perr.message);
        goto out;
    }
    p->version = (uint64_t)version;
    if (jws) {
        rc = VOUCH_ERR_NOMEM;
        vouch_free(p->jws);
        if (!(p->jws = vouch_strndup(jws, jws_len)))
            goto out;
    }
    if (json_is_object(signer))
        p->signer = json_incref(signer);
    *out = p;
    p = NULL;
    rc = VOUCH_OK;
out:
    attestd_policy_unref(p);
    json_decref(o);
    return rc;
}

vouch_err attestd_policies_load(struct attestd *d)
{
    char key[64];
    uint8_t *val = NULL;
    size_t len = 0;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if (pthread_mutex_init(&d->policy_lock, NULL) != 0)
        return VOUCH_ERR_INTERNAL;
    for (int i = 0; i < ATTESTD_TYPE__COUNT; i++) {
        enum attestd_type t = (enum attestd_type)i;
        struct attestd_policy *p = NULL;

        snprintf(key, sizeof(key), "current/%s", attestd_type_name(t));
        rc = attestd_store_get(d->store, ATTESTD_DB_POLICIES, key, &val, &len);
        if (rc == VOUCH_OK) {
            rc = policy_from_record(t, val, len, &p);
            VOUCH_FREE(val);
            if (rc != VOUCH_OK) {
                vouch_log_error("refusing to start: the stored %s policy is unusable; fix or "
                                "reset it",
                                attestd_type_name(t));
                goto out;
            }
        } else if (rc == VOUCH_ERR_NOT_FOUND) {
            if ((rc = build_default(t, &p)) != VOUCH_OK)
                goto out;
        } else {
            vouch_log_error("cannot read the stored %s policy: %s", attestd_type_name(t),
                            vouch_strerror(rc));
            goto out;
        }
        publish(d, t, p);
    }
    rc = VOUCH_OK;
out:
    vouch_free(val);
    return rc;
}

static vouch_err max_version_cb(void *arg, const char *key, const void *val, size_t len)
{
    uint64_t *max = arg;
    const char *num = strrchr(key, '/');
    uint64_t v = 0;

    (void)val;
    (void)len;
    if (!num || strlen(num + 1) != 16)
        return VOUCH_OK;
    for (const char *c = num + 1; *c; c++) {
        if (*c < '0' || *c > '9')
            return VOUCH_OK;
        v = v * 10u + (uint64_t)(*c - '0');
    }
    if (v > *max)
        *max = v;
    return VOUCH_OK;
}

/* The next policy version of @p t: one more than any in its history. */
static vouch_err next_version(struct attestd *d, enum attestd_type t, uint64_t *out)
{
    char prefix[64];
    uint64_t max = 0;
    vouch_err rc;

    *out = 0;
    snprintf(prefix, sizeof(prefix), "v/%s/", attestd_type_name(t));
    if ((rc = attestd_store_each(d->store, ATTESTD_DB_POLICIES, prefix, max_version_cb, &max)) !=
        VOUCH_OK)
        return rc;
    if (max >= 9999999999999999ull)
        return VOUCH_ERR_TOO_LARGE;
    *out = max + 1u;
    return VOUCH_OK;
}

/* ---- HTTP helpers ---- */

static void respond_claims(struct attestd *d, json_t *claims, struct vouch_http_response *res)
{
    char *tok = NULL;

    if (!claims || attestd_issue_token(d, claims, &tok) != VOUCH_OK)
        attestd_error(res, 500, "InternalError", "cannot issue the response token");
    else
        attestd_token_response(res, tok);
    vouch_free(tok);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **p, size_t *len)
{
    while (*len > 0 && is_space(**p)) {
        (*p)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*p)[*len - 1]))
        (*len)--;
}

bool attestd_admin_ok(struct attestd *d, const struct vouch_http_request *req,
                      struct vouch_http_response *res)
{
    const char *v = NULL;
    size_t len = 0;
    bool cert_ok = d->cfg.admin_client_ca && req->tls && req->client_cert_verified;

    /* A client certificate from the admin CA is a credential of its own; a
     * bearer token sent alongside is not needed (and not judged). */
    if (cert_ok) {
        vouch_log_info("request_id=%s admin call by client certificate subject='%s' sha256=%s",
                       req->request_id, req->client_cert_subject ? req->client_cert_subject : "",
                       req->client_cert_fp ? req->client_cert_fp : "");
        return true;
    }
    if (!d->admin_token) {
        attestd_error(res, 401, "Unauthorized",
                      d->cfg.admin_client_ca
                          ? "this operation needs a client certificate issued by the admin CA"
                          : "policy management is disabled: the service was started without "
                            "--admin-token-file or --admin-client-ca");
        goto refuse;
    }
    if (vouch_http_request_header(req, "Authorization", &v, &len) != VOUCH_OK) {
        attestd_error(res, 401, "Unauthorized",
                      d->cfg.admin_client_ca
                          ? "this operation needs an 'Authorization: Bearer <token>' header or "
                            "a client certificate issued by the admin CA"
                          : "this operation needs an 'Authorization: Bearer <token>' header");
        goto refuse;
    }
    trim(&v, &len);
    if (len < 7 || strncasecmp(v, "Bearer ", 7) != 0) {
        attestd_error(res, 401, "Unauthorized",
                      "the Authorization header must use the Bearer "
                      "scheme");
        goto refuse;
    }
    v += 7;
    len -= 7;
    trim(&v, &len);
    if (len != d->admin_token_len || !vouch_ct_eq(v, d->admin_token, len)) {
        attestd_error(res, 401, "Unauthorized", "the bearer token is not valid");
        goto refuse;
    }
    return true;
refuse:
    if (vouch_http_response_header(res, "www-authenticate", "Bearer") != VOUCH_OK)
        vouch_log_warn("cannot add the www-authenticate header");
    if (req->client_cert_subject)
        vouch_log_info("request_id=%s admin call refused (client certificate subject='%s' %s)",
                       req->request_id, req->client_cert_subject,
                       req->client_cert_verified ? "verified" : "not issued by the admin CA");
    else
        vouch_log_info("request_id=%s admin call refused", req->request_id);
    return false;
}

/* Lowercase (store key) or uppercase (MAA thumbprint) hex SHA-1 of @p der. */
static vouch_err thumbprint(const uint8_t *der, size_t len, bool upper, char out[SHA1_HEX + 1])
{
    uint8_t h[SHA1_LEN];
    vouch_err rc;

    out[0] = 0;
    if ((rc = vouch_hash(VOUCH_HASH_SHA1, der, len, h)) != VOUCH_OK)
        return rc;
    vouch_hex_encode(h, sizeof(h), out);
    if (upper)
        for (char *c = out; *c; c++)
            *c = (char)toupper((unsigned char)*c);
    return VOUCH_OK;
}

/* A usable signing certificate: X.509 with RSA >= VOUCH_MIN_RSA_BITS or EC
 * P-256. @p key_out (optional) receives its public key. */
static vouch_err cert_check(const uint8_t *der, size_t len, struct vouch_pubkey **key_out,
                            char *why, size_t cap)
{
    struct vouch_x509 *c = NULL;
    struct vouch_pubkey *k = NULL;
    enum vouch_key_kind kind;
    vouch_err rc;

    if (key_out)
        *key_out = NULL;
    if ((rc = vouch_x509_parse_der(der, len, &c)) != VOUCH_OK) {
        snprintf(why, cap, "the certificate is not a DER X.509 certificate");
        goto out;
    }
    if ((rc = vouch_x509_pubkey(c, &k)) != VOUCH_OK) {
        snprintf(why, cap, "the certificate's public key is unusable");
        goto out;
    }
    kind = vouch_pkey_pub_kind(k);
    if (!(kind == VOUCH_KEY_EC_P256 ||
          (kind == VOUCH_KEY_RSA && vouch_pkey_pub_bits(k) >= VOUCH_MIN_RSA_BITS))) {
        snprintf(why, cap, "the certificate key must be RSA of at least %u bits or EC P-256",
                 VOUCH_MIN_RSA_BITS);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (key_out) {
        *key_out = k;
        k = NULL;
    }
    rc = VOUCH_OK;
out:
    vouch_pubkey_free(k);
    vouch_x509_free(c);
    return rc;
}

/* The JWK MAA shows for a policy signer: key members, kid and x5c. */
static vouch_err cert_jwk(const uint8_t *der, size_t len, json_t **out)
{
    struct vouch_pubkey *k = NULL;
    json_t *jwk = NULL;
    char kid[SHA1_HEX + 1], why[VOUCH_MAX_ERROR_DETAIL];
    char *b64 = NULL;
    vouch_err rc;

    *out = NULL;
    if ((rc = cert_check(der, len, &k, why, sizeof(why))) != VOUCH_OK ||
        (rc = vouch_pkey_pub_to_jwk(k, &jwk)) != VOUCH_OK ||
        (rc = thumbprint(der, len, true, kid)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (!(b64 = vouch_malloc(vouch_base64_encoded_len(len, false) + 1)))
        goto out;
    vouch_base64_encode(der, len, false, b64);
    if (json_object_set_new(jwk, "kid", json_string(kid)) ||
        json_object_set_new(jwk, "x5c", json_pack("[s]", b64)))
        goto out;
    *out = jwk;
    jwk = NULL;
    rc = VOUCH_OK;
out:
    vouch_free(b64);
    json_decref(jwk);
    vouch_pubkey_free(k);
    return rc;
}

/*
 * Splits the request body into a JWS. The body is the compact JWS as text
 * (PUT /policies), or a JSON string literal holding it (the JS SDK's
 * /certificates calls); surrounding whitespace is ignored. On failure the
 * 400 answer is already written.
 */
static vouch_err jws_parse(const struct vouch_http_request *req, struct jws *j,
                           struct vouch_http_response *res)
{
    const char *p = (const char *)req->body, *dot1, *dot2, *alg;
    size_t n = req->body_len, hlen, plen, slen;
    json_t *lit = NULL, *x5c, *jwk;
    char why[VOUCH_MAX_ERROR_DETAIL];
    struct vouch_pubkey *jwk_key = NULL;
    vouch_err rc = VOUCH_ERR_PARSE;

    memset(j, 0, sizeof(*j));
    trim(&p, &n);
    if (n > 0 && p[0] == '"') {
        if (vouch_json_parse(p, n, &lit, why, sizeof(why)) != VOUCH_OK || !json_is_string(lit)) {
            attestd_error(res, 400, "InvalidOperation",
                          "the body starts with '\"' but is not a JSON string");
            goto out;
        }
        p = json_string_value(lit);
        n = json_string_length(lit);
        trim(&p, &n);
    }
    if (n == 0) {
        attestd_error(res, 400, "InvalidOperation", "the body is empty; expected a compact JWS");
        goto out;
    }
    if (n > VOUCH_MAX_TOKEN_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        attestd_error(res, 400, "InvalidParameter", "the JWS is larger than %u bytes",
                      VOUCH_MAX_TOKEN_SIZE);
        goto out;
    }
    if (memchr(p, 0, n)) {
        attestd_error(res, 400, "InvalidOperation", "the JWS contains a NUL byte");
        goto out;
    }
    rc = VOUCH_ERR_NOMEM;
    if (!(j->compact = vouch_strndup(p, n)))
        goto internal;
    j->len = n;
    rc = VOUCH_ERR_PARSE;
    /* MAA's own messages for a malformed JWS. */
    if (!(dot1 = memchr(j->compact, '.', n))) {
        attestd_error(res, 400, "InvalidOperation", "Could not find first period in the JWS");
        goto out;
    }
    if (!(dot2 = memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - j->compact)))) {
        attestd_error(res, 400, "InvalidOperation", "Could not find second period in the JWS");
        goto out;
    }
    if (memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - j->compact))) {
        attestd_error(res, 400, "InvalidOperation", "the JWS has more than three parts");
        goto out;
    }
    hlen = (size_t)(dot1 - j->compact);
    plen = (size_t)(dot2 - dot1 - 1);
    slen = n - (size_t)(dot2 + 1 - j->compact);
    j->signed_len = (size_t)(dot2 - j->compact);
    {
        uint8_t *h = NULL;
        size_t hl = 0;
        if (hlen > vouch_base64_encoded_len(VOUCH_MAX_JWS_HEADER_SIZE, true) ||
            vouch_base64_decode(j->compact, hlen, true, &h, &hl) != VOUCH_OK ||
            vouch_json_parse((const char *)h, hl, &j->header, NULL, 0) != VOUCH_OK ||
            !json_is_object(j->header)) {
            vouch_free(h);
            attestd_error(res, 400, "InvalidOperation",
                          "the JWS header is not base64url of a JSON object");
            goto out;
        }
        vouch_free(h);
    }
    if (vouch_base64_decode(dot1 + 1, plen, true, &j->payload, &j->payload_len) != VOUCH_OK ||
        vouch_base64_decode(dot2 + 1, slen, true, &j->sig, &j->sig_len) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidOperation",
                      "the JWS payload or signature is not base64url");
        goto out;
    }
    if (!(alg = json_string_value(json_object_get(j->header, "alg")))) {
        attestd_error(res, 400, "InvalidOperation", "the JWS header has no alg");
        goto out;
    }
    if (json_object_get(j->header, "crit")) {
        rc = VOUCH_ERR_UNSUPPORTED;
        attestd_error(res, 400, "InvalidOperation", "JWS 'crit' headers are not supported");
        goto out;
    }
    if (strcmp(alg, "none") == 0) {
        if (j->sig_len != 0) {
            attestd_error(res, 400, "InvalidOperation",
                          "an unsigned JWS (alg none) must have an empty signature");
            goto out;
        }
        j->is_unsigned = true;
        rc = VOUCH_OK;
        goto out;
    }
    if (vouch_sig_alg_from_name(alg, &j->alg) != VOUCH_OK) {
        rc = VOUCH_ERR_UNSUPPORTED;
        attestd_error(res, 400, "InvalidOperation",
                      "unsupported JWS algorithm; use RS256, PS256, ES256 or none");
        goto out;
    }
    if (j->sig_len == 0) {
        attestd_error(res, 400, "InvalidOperation", "the JWS signature is empty");
        goto out;
    }
    x5c = json_object_get(j->header, "x5c");
    jwk = json_object_get(j->header, "jwk");
    if (x5c) {
        const char *c0 = json_string_value(json_array_get(x5c, 0));
        if (!json_is_array(x5c) || !c0 ||
            vouch_base64_decode(c0, strlen(c0), false, &j->cert_der, &j->cert_len) != VOUCH_OK) {
            attestd_error(res, 400, "InvalidOperation",
                          "the JWS x5c header must be an array of base64 DER certificates");
            goto out;
        }
        if (cert_check(j->cert_der, j->cert_len, &j->key, why, sizeof(why)) != VOUCH_OK) {
            attestd_error(res, 400, "InvalidOperation", "x5c[0]: %s", why);
            goto out;
        }
    }
    if (jwk) {
        if (!json_is_object(jwk) || vouch_pkey_pub_from_jwk(jwk, &jwk_key) != VOUCH_OK) {
            attestd_error(res, 400, "InvalidOperation", "the JWS jwk header is not a usable key");
            goto out;
        }
        if (j->key && !vouch_pkey_pub_eq(j->key, jwk_key)) {
            rc = VOUCH_ERR_MISMATCH;
            attestd_error(res, 400, "InvalidOperation",
                          "the JWS jwk and x5c headers name different keys");
            goto out;
        }
        if (!j->key) {
            j->key = jwk_key;
            jwk_key = NULL;
        }
    }
    if (!j->key) {
        attestd_error(res, 400, "InvalidOperation",
                      "a signed JWS needs an x5c (or jwk) header naming its key");
        goto out;
    }
    rc = VOUCH_OK;
    goto out;
internal:
    attestd_error(res, 500, "InternalError", "out of memory");
out:
    vouch_pubkey_free(jwk_key);
    json_decref(lit);
    if (rc != VOUCH_OK)
        jws_free(j);
    return rc;
}

/* Checks the JWS signature with the key its header names. */
static vouch_err jws_verify(const struct jws *j)
{
    const struct vouch_pubkey *k = j->key;
    enum vouch_key_kind kind = vouch_pkey_pub_kind(k);

    if (kind != vouch_sig_alg_key_kind(j->alg))
        return VOUCH_ERR_MISMATCH;
    switch (j->alg) {
    case VOUCH_SIG_RS256:
    case VOUCH_SIG_PS256:
        if (vouch_pkey_pub_bits(k) < VOUCH_MIN_RSA_BITS)
            return VOUCH_ERR_MISMATCH;
        return vouch_rsa_verify(k, VOUCH_HASH_SHA256,
                                j->alg == VOUCH_SIG_RS256 ? VOUCH_RSA_PKCS1 : VOUCH_RSA_PSS,
                                j->compact, j->signed_len, j->sig, j->sig_len);
    case VOUCH_SIG_ES256:
        return vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, j->compact, j->signed_len, j->sig,
                                      j->sig_len);
    }
    return VOUCH_ERR_UNSUPPORTED;
}

struct signer_find {
    const struct vouch_pubkey *key;
    uint8_t *der; /* the matching registered certificate (owned) */
    size_t len;
    size_t count;
};

static vouch_err signer_find_cb(void *arg, const char *key, const void *val, size_t len)
{
    struct signer_find *f = arg;
    struct vouch_pubkey *k = NULL;
    char why[VOUCH_MAX_ERROR_DETAIL];

    (void)key;
    f->count++;
    if (!f->key || f->der)
        return VOUCH_OK;
    if (cert_check(val, len, &k, why, sizeof(why)) != VOUCH_OK) {
        vouch_log_warn("stored policy signer %s is unusable: %s", key, why);
        return VOUCH_OK;
    }
    if (vouch_pkey_pub_eq(k, f->key) && !(f->der = vouch_memdup(val, len))) {
        vouch_pubkey_free(k);
        return VOUCH_ERR_NOMEM;
    }
    if (f->der)
        f->len = len;
    vouch_pubkey_free(k);
    return VOUCH_OK;
}

static vouch_err signer_count(struct attestd *d, size_t *out)
{
    struct signer_find f = {0};
    vouch_err rc = attestd_store_each(d->store, ATTESTD_DB_SIGNERS, "", signer_find_cb, &f);

    *out = f.count;
    return rc;
}

/*
 * The registered certificate that signed @p j: by the DER of x5c[0] (looked up
 * by its SHA-1 and compared byte for byte), or, for a jwk header, by its
 * public key. NOT_FOUND when the signer is not registered. Call with
 * admin_lock held.
 */
static vouch_err signer_lookup(struct attestd *d, const struct jws *j, uint8_t **der_out,
                               size_t *len_out)
{
    char key[SHA1_HEX + 1];
    uint8_t *val = NULL;
    size_t len = 0;
    vouch_err rc;

    *der_out = NULL;
    *len_out = 0;
    if (j->cert_der) {
        if ((rc = thumbprint(j->cert_der, j->cert_len, false, key)) != VOUCH_OK ||
            (rc = attestd_store_get(d->store, ATTESTD_DB_SIGNERS, key, &val, &len)) != VOUCH_OK)
            return rc;
        if (len != j->cert_len || memcmp(val, j->cert_der, len) != 0) {
            vouch_free(val);
            return VOUCH_ERR_NOT_FOUND;
        }
    } else {
        struct signer_find f = {.key = j->key};
        if ((rc = attestd_store_each(d->store, ATTESTD_DB_SIGNERS, "", signer_find_cb, &f)) !=
            VOUCH_OK) {
            vouch_free(f.der);
            return rc;
        }
        if (!f.der)
            return VOUCH_ERR_NOT_FOUND;
        val = f.der;
        len = f.len;
    }
    *der_out = val;
    *len_out = len;
    return VOUCH_OK;
}

/*
 * The signer's x5c chain, when the header has one: every certificate must
 * parse, chain to the next with CA constraints honoured, and be valid at the
 * evaluation time (vouch_x509_chain_verify). x5c[0] itself is matched against
 * the registered signers separately (signer_lookup). On failure the answer is
 * written.
 */
static vouch_err x5c_chain_check(const struct attestd *d, const struct jws *j,
                                 struct vouch_http_response *res)
{
    json_t *x5c = json_object_get(j->header, "x5c");
    struct vouch_x509 *certs[VOUCH_MAX_X5C_CERTS] = {0};
    size_t n = json_array_size(x5c), got = 0;
    char why[VOUCH_MAX_ERROR_DETAIL];
    vouch_err rc = VOUCH_ERR_PARSE;

    if (!x5c)
        return VOUCH_OK;
    if (n > VOUCH_MAX_X5C_CERTS) {
        attestd_error(res, 400, "InvalidParameter",
                      "the x5c header holds more than %u certificates", VOUCH_MAX_X5C_CERTS);
        return VOUCH_ERR_TOO_LARGE;
    }
    for (; got < n; got++) {
        const char *b64 = json_string_value(json_array_get(x5c, got));
        uint8_t *der = NULL;
        size_t len = 0;
        if (!b64 || vouch_base64_decode(b64, strlen(b64), false, &der, &len) != VOUCH_OK ||
            vouch_x509_parse_der(der, len, &certs[got]) != VOUCH_OK) {
            vouch_free(der);
            attestd_error(res, 400, "InvalidParameter", "x5c[%zu] is not a base64 DER certificate",
                          got);
            goto out;
        }
        vouch_free(der);
    }
    if ((rc = vouch_x509_chain_verify(certs, n, attestd_now(d), why, sizeof(why))) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "the signer's certificate chain: %s", why);
        goto out;
    }
    rc = VOUCH_OK;
out:
    for (size_t i = 0; i < got; i++)
        vouch_x509_free(certs[i]);
    return rc;
}

/* A registered signer certificate must be valid at the evaluation time (for
 * an x5c header the chain check already saw it; a jwk header names only the
 * key). On failure the answer is written. */
static vouch_err signer_valid_now(const struct attestd *d, const uint8_t *der, size_t len,
                                  struct vouch_http_response *res)
{
    struct vouch_x509 *c = NULL;
    int64_t nb = 0, na = 0, now = attestd_now(d);
    vouch_err rc;

    if ((rc = vouch_x509_parse_der(der, len, &c)) != VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "a registered policy signer does not parse");
        return rc;
    }
    vouch_x509_validity(c, &nb, &na);
    vouch_x509_free(c);
    if (now < nb || now > na) {
        attestd_error(res, 400, "InvalidParameter",
                      "the policy management certificate that signed the JWS is not valid at the "
                      "evaluation time");
        return VOUCH_ERR_EXPIRED;
    }
    return VOUCH_OK;
}

/*
 * The signing rules for policy changes, checked before the policy text is
 * even parsed: an unsigned JWS is allowed unless the service requires signed
 * policies; a signed one must verify with the key its header names. Whether
 * that key is a registered signer is signer_jwk's job, under admin_lock. On
 * failure the answer is written.
 */
static vouch_err policy_sig_check(const struct attestd *d, const struct jws *j,
                                  struct vouch_http_response *res)
{
    vouch_err rc;

    if (j->is_unsigned) {
        if (d->cfg.require_signed_policies) {
            attestd_error(res, 400, "InvalidOperation",
                          "this service requires policies signed by a registered policy "
                          "management certificate; the JWS is unsigned");
            return VOUCH_ERR_VERIFY;
        }
        return VOUCH_OK;
    }
    if ((rc = jws_verify(j)) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidOperation",
                      "the JWS signature does not verify with the key in its header");
        return rc;
    }
    return x5c_chain_check(d, j, res);
}

/* The JWK of the registered signer of a signed @p j (NULL when unsigned).
 * Call with admin_lock held. On failure the answer is written. */
static vouch_err signer_jwk(struct attestd *d, const struct jws *j, json_t **signer_out,
                            struct vouch_http_response *res)
{
    uint8_t *der = NULL;
    size_t len = 0;
    vouch_err rc;

    *signer_out = NULL;
    if (j->is_unsigned)
        return VOUCH_OK;
    rc = signer_lookup(d, j, &der, &len);
    if (rc == VOUCH_ERR_NOT_FOUND) {
        attestd_error(res, 400, "InvalidOperation",
                      "the JWS is not signed by a registered policy management certificate");
        return rc;
    }
    if (rc == VOUCH_OK && signer_valid_now(d, der, len, res) != VOUCH_OK) {
        vouch_free(der);
        return VOUCH_ERR_EXPIRED;
    }
    if (rc == VOUCH_OK && (rc = cert_jwk(der, len, signer_out)) == VOUCH_OK) {
        vouch_free(der);
        return VOUCH_OK;
    }
    vouch_free(der);
    attestd_error(res, 500, "InternalError", "cannot read the policy signers: %s",
                  vouch_strerror(rc));
    return rc;
}

/* Base64url without padding of SHA-256 over the JWS as received. */
static vouch_err token_hash(const struct jws *j, char out[VOUCH_POLICY_HASH_LEN + 1])
{
    uint8_t h[VOUCH_SHA256_LEN];
    vouch_err rc;

    if ((rc = vouch_sha256(j->compact, j->len, h)) != VOUCH_OK)
        return rc;
    vouch_base64_encode(h, sizeof(h), true, out);
    return VOUCH_OK;
}

/* ---- /policies/{type} ---- */

static void policy_get(struct attestd *d, enum attestd_type type, struct vouch_http_response *res)
{
    struct attestd_policy *pol = attestd_policy_get(d, type);
    json_t *claims = NULL;

    if (!pol) {
        attestd_error(res, 404, "NotFound", "no attestation policy is set for %s",
                      attestd_type_name(type));
        return;
    }
    claims = json_pack("{s:s}", "x-ms-policy", pol->jws);
    if (claims && pol->signer && json_object_set(claims, "x-ms-policy-signer", pol->signer)) {
        json_decref(claims);
        claims = NULL;
    }
    respond_claims(d, claims, res);
    json_decref(claims);
    attestd_policy_unref(pol);
}

/* The policy text inside a set-policy JWS; the answer is written on failure. */
static vouch_err policy_text(const struct jws *j, uint8_t **text, size_t *len,
                             struct vouch_http_response *res)
{
    json_t *o = NULL, *s;
    vouch_err rc = VOUCH_ERR_PARSE;

    *text = NULL;
    *len = 0;
    if (vouch_json_parse((const char *)j->payload, j->payload_len, &o, NULL, 0) != VOUCH_OK ||
        !json_is_object(o) || !json_is_string(s = json_object_get(o, "AttestationPolicy"))) {
        attestd_error(res, 400, "InvalidParameter",
                      "the JWS payload must be {\"AttestationPolicy\": <base64url policy>}");
        goto out;
    }
    if (json_string_length(s) > vouch_base64_encoded_len(VOUCH_MAX_POLICY_SIZE, false)) {
        rc = VOUCH_ERR_TOO_LARGE;
        attestd_error(res, 400, "InvalidParameter", "the policy is larger than %u bytes",
                      VOUCH_MAX_POLICY_SIZE);
        goto out;
    }
    if ((rc = vouch_base64_decode(json_string_value(s), json_string_length(s), true, text, len)) !=
        VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "AttestationPolicy is not base64url");
        goto out;
    }
    rc = VOUCH_ERR_PARSE;
    if (*len > VOUCH_MAX_POLICY_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        attestd_error(res, 400, "InvalidParameter", "the policy is larger than %u bytes",
                      VOUCH_MAX_POLICY_SIZE);
        goto out;
    }
    /* The text is stored in a JSON record: no NUL, valid UTF-8. */
    {
        json_t *probe = memchr(*text, 0, *len) ? NULL : json_stringn((const char *)*text, *len);
        if (!probe) {
            attestd_error(res, 400, "InvalidParameter",
                          "the policy text must be UTF-8 without NUL characters");
            goto out;
        }
        json_decref(probe);
    }
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK) {
        VOUCH_FREE(*text);
        *len = 0;
    }
    json_decref(o);
    return rc;
}

/* Writes "current/<Type>" (or deletes it, @p p NULL) and history record
 * @p version in one transaction. */
static vouch_err store_policy(struct attestd *d, enum attestd_type type, uint64_t version,
                              const struct attestd_policy *p, const char *request_id)
{
    struct attestd_store_op ops[2];
    char cur_key[64], hist_key[64];
    char *cur = NULL, *hist = NULL;
    json_t *rec = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;

    snprintf(cur_key, sizeof(cur_key), "current/%s", attestd_type_name(type));
    snprintf(hist_key, sizeof(hist_key), "v/%s/%016" PRIu64, attestd_type_name(type), version);
    if (!(rec = json_pack("{s:I}", "version", (json_int_t)version)))
        goto out;
    if (p) {
        if (json_object_set_new(rec, "text", json_stringn(p->text, p->text_len)) ||
            json_object_set_new(rec, "signer", p->signer ? json_incref(p->signer) : json_null()))
            goto out;
        if (p->signer && json_object_set_new(rec, "jws", json_string(p->jws)))
            goto out;
        if ((rc = vouch_json_dump(rec, 0, &cur)) != VOUCH_OK)
            goto out;
        rc = VOUCH_ERR_NOMEM;
    }
    if (json_object_set_new(rec, "op", json_string(p ? "set" : "reset")) ||
        json_object_set_new(rec, "time", json_integer(vouch_time_now())) ||
        json_object_set_new(rec, "request_id", json_string(request_id)))
        goto out;
    if ((rc = vouch_json_dump(rec, 0, &hist)) != VOUCH_OK)
        goto out;
    memset(ops, 0, sizeof(ops));
    ops[0].db = ATTESTD_DB_POLICIES;
    ops[0].key = cur_key;
    if (p) {
        ops[0].val = cur;
        ops[0].len = strlen(cur);
    } else {
        ops[0].del = true;
    }
    ops[1].db = ATTESTD_DB_POLICIES;
    ops[1].key = hist_key;
    ops[1].val = hist;
    ops[1].len = strlen(hist);
    rc = attestd_store_apply(d->store, ops, 2);
out:
    vouch_free(cur);
    vouch_free(hist);
    json_decref(rec);
    return rc;
}

static void policy_set(struct attestd *d, enum attestd_type type,
                       const struct vouch_http_request *req, struct vouch_http_response *res)
{
    struct jws j = {0};
    struct attestd_policy *p = NULL;
    struct vouch_policy_error perr;
    json_t *signer = NULL, *claims = NULL;
    uint8_t *text = NULL;
    size_t text_len = 0;
    uint64_t version = 0;
    char hash[VOUCH_POLICY_HASH_LEN + 1];
    bool locked = false;
    vouch_err rc;

    if (jws_parse(req, &j, res) != VOUCH_OK || policy_sig_check(d, &j, res) != VOUCH_OK ||
        policy_text(&j, &text, &text_len, res) != VOUCH_OK)
        goto out;
    rc = attestd_policy_build((const char *)text, text_len, &p, &perr);
    if (rc == VOUCH_ERR_NOMEM) {
        attestd_error(res, 500, "InternalError", "out of memory");
        goto out;
    }
    if (rc != VOUCH_OK) {
        if (perr.line)
            attestd_error(res, 400, "PolicyParsingError", "line %u column %u: %s", perr.line,
                          perr.column, perr.message);
        else
            attestd_error(res, 400, "PolicyParsingError", "%s",
                          perr.message[0] ? perr.message : vouch_strerror(rc));
        goto out;
    }
    pthread_mutex_lock(&admin_lock);
    locked = true;
    if (signer_jwk(d, &j, &signer, res) != VOUCH_OK)
        goto out;
    if (signer) {
        /* A signed policy is returned exactly as it was signed. */
        vouch_free(p->jws);
        if (!(p->jws = vouch_strdup(j.compact))) {
            attestd_error(res, 500, "InternalError", "out of memory");
            goto out;
        }
        p->signer = json_incref(signer);
    }
    if ((rc = next_version(d, type, &version)) != VOUCH_OK ||
        (p->version = version, rc = store_policy(d, type, version, p, req->request_id)) !=
            VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "cannot store the policy: %s", vouch_strerror(rc));
        goto out;
    }
    publish(d, type, p);
    p = NULL;
    pthread_mutex_unlock(&admin_lock);
    locked = false;
    vouch_log_warn("request_id=%s policy for %s set to version %" PRIu64 " (%s)", req->request_id,
                   attestd_type_name(type), version, signer ? "signed" : "unsigned");
    if (token_hash(&j, hash) != VOUCH_OK ||
        !(claims = json_pack("{s:s,s:s}", "x-ms-policy-result", "Updated", "x-ms-policy-token-hash",
                             hash)) ||
        (signer && json_object_set(claims, "x-ms-policy-signer", signer))) {
        attestd_error(res, 500, "InternalError", "the policy was stored, but the answer failed");
        goto out;
    }
    respond_claims(d, claims, res);
out:
    if (locked)
        pthread_mutex_unlock(&admin_lock);
    json_decref(claims);
    json_decref(signer);
    attestd_policy_unref(p);
    vouch_free(text);
    jws_free(&j);
}

static void policy_reset(struct attestd *d, enum attestd_type type,
                         const struct vouch_http_request *req, struct vouch_http_response *res)
{
    struct jws j = {0};
    struct attestd_policy *def = NULL;
    json_t *signer = NULL, *claims = NULL;
    uint64_t version = 0;
    bool locked = false;
    vouch_err rc;

    if (jws_parse(req, &j, res) != VOUCH_OK || policy_sig_check(d, &j, res) != VOUCH_OK)
        goto out;
    if (j.payload_len != 0) {
        attestd_error(res, 400, "InvalidParameter", "a reset JWS must have an empty payload");
        goto out;
    }
    if ((rc = build_default(type, &def)) != VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "cannot build the default policy: %s",
                      vouch_strerror(rc));
        goto out;
    }
    pthread_mutex_lock(&admin_lock);
    locked = true;
    if (signer_jwk(d, &j, &signer, res) != VOUCH_OK)
        goto out;
    if ((rc = next_version(d, type, &version)) != VOUCH_OK ||
        (rc = store_policy(d, type, version, NULL, req->request_id)) != VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "cannot reset the policy: %s", vouch_strerror(rc));
        goto out;
    }
    publish(d, type, def);
    def = NULL;
    pthread_mutex_unlock(&admin_lock);
    locked = false;
    vouch_log_warn("request_id=%s policy for %s reset to the default (history %" PRIu64 ")",
                   req->request_id, attestd_type_name(type), version);
    if (!(claims = json_pack("{s:s}", "x-ms-policy-result", "Removed")) ||
        (signer && json_object_set(claims, "x-ms-policy-signer", signer))) {
        attestd_error(res, 500, "InternalError", "the policy was reset, but the answer failed");
        goto out;
    }
    respond_claims(d, claims, res);
out:
    if (locked)
        pthread_mutex_unlock(&admin_lock);
    json_decref(claims);
    json_decref(signer);
    attestd_policy_unref(def);
    jws_free(&j);
}

void attestd_policy_endpoint(struct attestd *d, enum attestd_type type, bool reset,
                             const struct vouch_http_request *req, struct vouch_http_response *res)
{
    if (!attestd_admin_ok(d, req, res))
        return;
    if (reset) {
        if (strcmp(req->method, "POST") == 0)
            policy_reset(d, type, req, res);
        else
            attestd_error(res, 405, "MethodNotAllowed", "%s is not allowed here", req->method);
        return;
    }
    if (strcmp(req->method, "GET") == 0)
        policy_get(d, type, res);
    else if (strcmp(req->method, "PUT") == 0)
        policy_set(d, type, req, res);
    else
        attestd_error(res, 405, "MethodNotAllowed", "%s is not allowed here", req->method);
}

/* ---- /certificates ---- */

struct cert_list {
    json_t *keys;
};

static vouch_err cert_list_cb(void *arg, const char *key, const void *val, size_t len)
{
    struct cert_list *l = arg;
    json_t *jwk = NULL;
    vouch_err rc;

    if ((rc = cert_jwk(val, len, &jwk)) != VOUCH_OK) {
        vouch_log_error("stored policy signer %s is unusable: %s", key, vouch_strerror(rc));
        return rc;
    }
    return json_array_append_new(l->keys, jwk) ? VOUCH_ERR_NOMEM : VOUCH_OK;
}

static void certificates_get(struct attestd *d, struct vouch_http_response *res)
{
    struct cert_list l = {.keys = json_array()};
    json_t *claims = NULL;
    vouch_err rc;

    if (!l.keys) {
        attestd_error(res, 500, "InternalError", "out of memory");
        return;
    }
    if ((rc = attestd_store_each(d->store, ATTESTD_DB_SIGNERS, "", cert_list_cb, &l)) != VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "cannot list the policy signers: %s",
                      vouch_strerror(rc));
        json_decref(l.keys);
        return;
    }
    claims = json_pack("{s:{s:o}}", "x-ms-policy-certificates", "keys", l.keys);
    respond_claims(d, claims, res);
    json_decref(claims);
}

/* The certificate (DER) a :add/:remove JWS carries; the answer is written on
 * failure. */
static vouch_err payload_cert(const struct jws *j, uint8_t **der, size_t *len,
                              struct vouch_http_response *res)
{
    json_t *o = NULL, *jwk = NULL, *x5c;
    const char *c0, *kty;
    struct vouch_pubkey *cert_key = NULL, *jwk_key = NULL;
    char why[VOUCH_MAX_ERROR_DETAIL];
    vouch_err rc = VOUCH_ERR_PARSE;

    *der = NULL;
    *len = 0;
    if (vouch_json_parse((const char *)j->payload, j->payload_len, &o, NULL, 0) != VOUCH_OK ||
        !json_is_object(o)) {
        attestd_error(res, 400, "InvalidParameter", "the JWS payload is not a JSON object");
        goto out;
    }
    for (size_t i = 0; i < sizeof(cert_claim_names) / sizeof(cert_claim_names[0]); i++) {
        json_t *v = json_object_get(o, cert_claim_names[i]);
        if (!v)
            continue;
        if (jwk) {
            attestd_error(res, 400, "InvalidParameter",
                          "the JWS payload names more than one policy certificate");
            goto out;
        }
        jwk = v;
    }
    if (!json_is_object(jwk)) {
        attestd_error(res, 400, "InvalidOperation",
                      "the JWS payload has no policyCertificate (or maa-policyCertificate) JWK");
        goto out;
    }
    x5c = json_object_get(jwk, "x5c");
    c0 = json_string_value(json_array_get(x5c, 0));
    if (!json_is_array(x5c) || !c0 ||
        vouch_base64_decode(c0, strlen(c0), false, der, len) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter",
                      "the policy certificate JWK needs x5c[0], a base64 DER certificate");
        goto out;
    }
    if ((rc = cert_check(*der, *len, &cert_key, why, sizeof(why))) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "policy certificate: %s", why);
        goto out;
    }
    rc = VOUCH_ERR_MISMATCH;
    kty = json_string_value(json_object_get(jwk, "kty"));
    if (kty && strcmp(kty, vouch_pkey_pub_kind(cert_key) == VOUCH_KEY_RSA ? "RSA" : "EC") != 0) {
        attestd_error(res, 400, "InvalidParameter",
                      "the policy certificate JWK's kty does not match its certificate");
        goto out;
    }
    /* Key members are optional (the x5c certificate is what is stored), but
     * when they are there and readable they must name the same key. */
    if ((json_object_get(jwk, "n") || json_object_get(jwk, "x")) &&
        vouch_pkey_pub_from_jwk(jwk, &jwk_key) == VOUCH_OK &&
        !vouch_pkey_pub_eq(jwk_key, cert_key)) {
        attestd_error(res, 400, "InvalidParameter",
                      "the policy certificate JWK's key does not match its x5c certificate");
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK) {
        VOUCH_FREE(*der);
        *len = 0;
    }
    vouch_pubkey_free(cert_key);
    vouch_pubkey_free(jwk_key);
    json_decref(o);
    return rc;
}

static void certificates_change(struct attestd *d, bool add, const struct vouch_http_request *req,
                                struct vouch_http_response *res)
{
    struct jws j = {0};
    uint8_t *der = NULL, *signer_der = NULL, *have = NULL;
    size_t der_len = 0, signer_len = 0, have_len = 0, count = 0;
    char key[SHA1_HEX + 1], thumb[SHA1_HEX + 1];
    json_t *claims = NULL;
    bool locked = false, bootstrap = false;
    vouch_err rc;

    if (jws_parse(req, &j, res) != VOUCH_OK)
        goto out;
    if (j.is_unsigned) {
        attestd_error(res, 400, "InvalidOperation",
                      "policy certificate changes must be signed by a registered policy "
                      "management certificate");
        goto out;
    }
    if (payload_cert(&j, &der, &der_len, res) != VOUCH_OK)
        goto out;
    if (jws_verify(&j) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidOperation",
                      "the JWS signature does not verify with the key in its header");
        goto out;
    }
    if (x5c_chain_check(d, &j, res) != VOUCH_OK)
        goto out;
    if ((rc = thumbprint(der, der_len, false, key)) != VOUCH_OK ||
        (rc = thumbprint(der, der_len, true, thumb)) != VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "cannot hash the certificate: %s",
                      vouch_strerror(rc));
        goto out;
    }
    pthread_mutex_lock(&admin_lock);
    locked = true;
    if ((rc = signer_count(d, &count)) != VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "cannot read the policy signers: %s",
                      vouch_strerror(rc));
        goto out;
    }
    rc = signer_lookup(d, &j, &signer_der, &signer_len);
    if (rc == VOUCH_ERR_NOT_FOUND) {
        /* The first certificate can only vouch for itself; the caller is
         * admin-authenticated, which is what makes that acceptable. */
        bootstrap = add && count == 0 && j.cert_der && j.cert_len == der_len &&
                    memcmp(j.cert_der, der, der_len) == 0;
        if (!bootstrap) {
            attestd_error(res, 400, "InvalidOperation",
                          count == 0 && add
                              ? "no policy management certificate is registered yet: the first "
                                "one must sign its own :add request (x5c[0] = the certificate)"
                              : "the JWS is not signed by a registered policy management "
                                "certificate");
            goto out;
        }
    } else if (rc != VOUCH_OK) {
        attestd_error(res, 500, "InternalError", "cannot read the policy signers: %s",
                      vouch_strerror(rc));
        goto out;
    } else if (signer_valid_now(d, signer_der, signer_len, res) != VOUCH_OK) {
        goto out;
    }
    rc = attestd_store_get(d->store, ATTESTD_DB_SIGNERS, key, &have, &have_len);
    if (rc != VOUCH_OK && rc != VOUCH_ERR_NOT_FOUND) {
        attestd_error(res, 500, "InternalError", "cannot read the policy signers: %s",
                      vouch_strerror(rc));
        goto out;
    }
    if (add) {
        if (rc == VOUCH_ERR_NOT_FOUND &&
            (rc = attestd_store_put(d->store, ATTESTD_DB_SIGNERS, key, der, der_len)) != VOUCH_OK) {
            attestd_error(res, 500, "InternalError", "cannot store the certificate: %s",
                          vouch_strerror(rc));
            goto out;
        }
    } else if (rc == VOUCH_OK) {
        struct attestd_store_op op = {.db = ATTESTD_DB_SIGNERS, .key = key, .del = true};
        if (count <= 1) {
            attestd_error(res, 400, "InvalidOperation",
                          "the last policy management certificate cannot be removed");
            goto out;
        }
        if ((rc = attestd_store_apply(d->store, &op, 1)) != VOUCH_OK) {
            attestd_error(res, 500, "InternalError", "cannot remove the certificate: %s",
                          vouch_strerror(rc));
            goto out;
        }
    }
    pthread_mutex_unlock(&admin_lock);
    locked = false;
    vouch_log_warn("request_id=%s policy management certificate %s %s%s", req->request_id, thumb,
                   add ? "added" : "removed", bootstrap ? " (self-signed bootstrap)" : "");
    claims = json_pack("{s:s,s:s}", "x-ms-certificate-thumbprint", thumb,
                       "x-ms-policycertificates-result", add ? "IsPresent" : "IsAbsent");
    respond_claims(d, claims, res);
out:
    if (locked)
        pthread_mutex_unlock(&admin_lock);
    json_decref(claims);
    vouch_free(have);
    vouch_free(signer_der);
    vouch_free(der);
    jws_free(&j);
}

void attestd_certificates_endpoint(struct attestd *d, const char *op,
                                   const struct vouch_http_request *req,
                                   struct vouch_http_response *res)
{
    const char *want = op[0] ? "POST" : "GET";

    if (!attestd_admin_ok(d, req, res))
        return;
    if (strcmp(req->method, want) != 0) {
        attestd_error(res, 405, "MethodNotAllowed", "%s is not allowed here", req->method);
        return;
    }
    if (op[0] == 0)
        certificates_get(d, res);
    else if (strcmp(op, ":add") == 0)
        certificates_change(d, true, req, res);
    else if (strcmp(op, ":remove") == 0)
        certificates_change(d, false, req, res);
    else
        attestd_error(res, 404, "NotFound", "no such endpoint");
}
