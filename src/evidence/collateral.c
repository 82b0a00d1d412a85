/*
 * Intel DCAP collateral (QuoteCollateralV3 JSON shape): parse once, verify
 * everything that depends neither on a quote nor on time, and keep the
 * verdicts with the parsed objects so every later quote pays only for its own
 * checks. A signature or chain failure is not a parse error: it is recorded
 * as the object's verdict and reported by every verification that uses it,
 * so cached and fresh collateral give the same answer.
 *
 * Trust comes only from the pinned Intel SGX Root CA (SHA-256 of its DER).
 * The root in each issuer chain must be that exact certificate; nothing else
 * in the input is ever treated as a trust anchor.
 *
 * TCB Info and QE Identity signatures are checked over the exact bytes
 * received, never a re-serialisation. A field may also hold the raw PCS
 * response body ({"tcbInfo":{...},"signature":"..."}); the signed object is
 * then cut out byte for byte.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/mem.h>

#include "dcap_int.h"

const uint8_t vouch__intel_root_fp[VOUCH_SHA256_LEN] = {
    0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
    0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};

#define CN_CAP 128u

static void set_detail(char *d, size_t cap, const char *fmt, ...) VOUCH_PRINTF(3, 4);
static void set_detail(char *d, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(d, cap, fmt, ap);
    va_end(ap);
}

/* Records the first time-independent failure; later ones are dropped. */
static void verdict(struct vouch_collateral *c, vouch_err err, const char *fmt, ...)
    VOUCH_PRINTF(3, 4);
static void verdict(struct vouch_collateral *c, vouch_err err, const char *fmt, ...)
{
    va_list ap;

    if (c->verdict != VOUCH_OK)
        return;
    c->verdict = err;
    va_start(ap, fmt);
    (void)vsnprintf(c->verdict_detail, sizeof(c->verdict_detail), fmt, ap);
    va_end(ap);
}

static void add_window(struct vouch_collateral *c, const char *item, int64_t nb, int64_t na)
{
    if (c->n_windows >= VOUCH__COLL_MAX_WINDOWS)
        return;
    c->windows[c->n_windows++] = (struct vouch__window){item, nb, na};
    if (nb > c->not_before)
        c->not_before = nb;
    if (na < c->not_after)
        c->not_after = na;
}

static void add_cert_window(struct vouch_collateral *c, const char *item,
                            const struct vouch_x509 *x)
{
    int64_t nb = 0, na = 0;

    vouch_x509_validity(x, &nb, &na);
    add_window(c, item, nb, na);
}

const char *vouch__windows_check(const struct vouch__window *w, size_t n, int64_t now)
{
    const char *best = NULL;
    int64_t best_t = 0;
    bool best_expired = false;

    for (size_t i = 0; i < n; i++) {
        if (now > w[i].not_after) {
            if (!best_expired || w[i].not_after < best_t) {
                best = w[i].item;
                best_t = w[i].not_after;
                best_expired = true;
            }
        } else if (now < w[i].not_before && !best_expired) {
            if (best == NULL || w[i].not_before > best_t) {
                best = w[i].item;
                best_t = w[i].not_before;
            }
        }
    }
    return best;
}

/* ---------------- PEM blocks ---------------- */

static bool is_b64(uint8_t ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/' || ch == '=';
}

static bool skip_lit(const uint8_t *p, size_t len, size_t *i, const char *lit)
{
    size_t n = strlen(lit);

    if (len - *i < n || memcmp(p + *i, lit, n) != 0)
        return false;
    *i += n;
    return true;
}

static void skip_space(const uint8_t *p, size_t len, size_t *i)
{
    while (*i < len && (p[*i] == '\n' || p[*i] == '\r' || p[*i] == ' ' || p[*i] == '\t'))
        (*i)++;
}

bool vouch__pem_blocks(const uint8_t *p, size_t len, size_t want, struct vouch__pem_blocks *out)
{
    size_t i = 0, k = 0;

    memset(out, 0, sizeof(*out));
    if (p == NULL)
        return false;
    while (len > 0 && p[len - 1] == 0)
        len--;
    if (len == 0 || want > VOUCH_MAX_CHAIN_DEPTH || (out->buf = vouch_malloc(len)) == NULL)
        return false;
    for (out->n = 0; out->n < want; out->n++) {
        skip_space(p, len, &i);
        if (!skip_lit(p, len, &i, "-----BEGIN CERTIFICATE-----"))
            goto fail;
        out->off[out->n] = k;
        for (; i < len && p[i] != '-'; i++) {
            if (is_b64(p[i]))
                out->buf[k++] = (char)p[i];
            else if (p[i] != '\n' && p[i] != '\r')
                goto fail;
        }
        out->len[out->n] = k - out->off[out->n];
        if (out->len[out->n] == 0 || !skip_lit(p, len, &i, "-----END CERTIFICATE-----"))
            goto fail;
    }
    skip_space(p, len, &i);
    if (i == len)
        return true;
fail:
    vouch__pem_blocks_free(out);
    return false;
}

void vouch__pem_blocks_free(struct vouch__pem_blocks *b)
{
    vouch_free(b->buf);
    memset(b, 0, sizeof(*b));
}

bool vouch__pem_block_is(const struct vouch__pem_blocks *b, size_t i, const char *b64)
{
    return b64 != NULL && i < b->n && strlen(b64) == b->len[i] &&
           memcmp(b->buf + b->off[i], b64, b->len[i]) == 0;
}

vouch_err vouch__pem_block_x509(const struct vouch__pem_blocks *b, size_t i,
                                struct vouch_x509 **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t *der = NULL;
    size_t der_len = 0;

    *out = NULL;
    if (i >= b->n)
        return VOUCH_ERR_INVAL;
    /* Intel's own CA certificates are built in, decoded and checked once. */
    if ((*out = vouch__intel_cert_find(b->buf + b->off[i], b->len[i])) != NULL)
        return VOUCH_OK;
    if ((rc = vouch_base64_decode(b->buf + b->off[i], b->len[i], false, &der, &der_len)) !=
        VOUCH_OK)
        return rc;
    rc = vouch_x509_parse_der(der, der_len, out);
    vouch_free(der);
    return rc;
}

/* Base64 of a certificate's DER, as it appears in PEM with whitespace removed;
 * NULL on allocation failure, which only disables the text fast path. */
static char *der_b64(const struct vouch_x509 *x)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    char *s = NULL;

    vouch_x509_der(x, &p, &n);
    if ((s = vouch_malloc(vouch_base64_encoded_len(n, false) + 1)) != NULL)
        vouch_base64_encode(p, n, false, s);
    return s;
}

VOUCH_NODISCARD static vouch_err get_str(const json_t *root, const char *key, bool required,
                                         const char **s, size_t *n, char *detail, size_t cap)
{
    const json_t *v = json_object_get(root, key);

    *s = NULL;
    *n = 0;
    if (v == NULL && !required)
        return VOUCH_OK;
    if (!json_is_string(v)) {
        set_detail(detail, cap, "collateral: %s is missing or not a string", key);
        return VOUCH_ERR_PARSE;
    }
    *s = json_string_value(v);
    *n = json_string_length(v);
    return VOUCH_OK;
}

/*
 * If @p s is a raw PCS body {"<key>":<object>,"signature":"<hex>"}, points
 * @p body at the exact bytes of <object> and @p sig at the hex; otherwise the
 * whole of @p s is the body and @p sig is NULL. The envelope is parsed (so
 * duplicate keys are refused) and must hold exactly those two members.
 */
VOUCH_NODISCARD static vouch_err unwrap(const char *s, size_t n, const char *key, const char **body,
                                        size_t *body_len, const char **sig, size_t *sig_len)
{
    vouch_err rc = VOUCH_ERR_PARSE;
    char prefix[40];
    static const char mid[] = ",\"signature\":\"";
    size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "{\"%s\":", key);
    size_t mlen = sizeof(mid) - 1;
    json_t *env = NULL;
    const json_t *js = NULL;
    size_t L = 0;

    *body = s;
    *body_len = n;
    *sig = NULL;
    *sig_len = 0;
    if (n < plen || memcmp(s, prefix, plen) != 0)
        return VOUCH_OK;
    if (vouch_json_parse(s, n, &env, NULL, 0) != VOUCH_OK)
        goto out;
    js = json_object_get(env, "signature");
    if (!json_is_object(env) || json_object_size(env) != 2 ||
        !json_is_object(json_object_get(env, key)) || !json_is_string(js))
        goto out;
    L = json_string_length(js);
    /* The tail must be exactly ,"signature":"<hex>"} with no spacing. */
    if (n < plen + mlen + L + 2 || memcmp(s + n - 2, "\"}", 2) != 0 ||
        memcmp(s + n - 2 - L, json_string_value(js), L) != 0 ||
        memcmp(s + n - 2 - L - mlen, mid, mlen) != 0)
        goto out;
    *body = s + plen;
    *body_len = n - plen - mlen - L - 2;
    *sig = s + n - 2 - L;
    *sig_len = L;
    rc = VOUCH_OK;
out:
    json_decref(env);
    return rc;
}

/* The signed body and its 64-byte r||s, from the field and its _signature field. */
VOUCH_NODISCARD static vouch_err signed_body(const json_t *root, const char *field,
                                             const char *sig_field, const char *env_key,
                                             const char **body, size_t *body_len, uint8_t sig[64],
                                             char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *s = NULL, *hex = NULL, *env_hex = NULL;
    size_t n = 0, hex_len = 0, env_hex_len = 0, sig_len = 0;

    if ((rc = get_str(root, field, true, &s, &n, detail, cap)) != VOUCH_OK)
        return rc;
    if ((rc = get_str(root, sig_field, false, &hex, &hex_len, detail, cap)) != VOUCH_OK)
        return rc;
    if ((rc = unwrap(s, n, env_key, body, body_len, &env_hex, &env_hex_len)) != VOUCH_OK) {
        set_detail(detail, cap, "collateral: %s looks like a PCS response but is malformed", field);
        return rc;
    }
    if (env_hex != NULL) {
        if (hex != NULL && (hex_len != env_hex_len || memcmp(hex, env_hex, hex_len) != 0)) {
            set_detail(detail, cap, "collateral: %s disagrees with the signature inside %s",
                       sig_field, field);
            return VOUCH_ERR_PARSE;
        }
        hex = env_hex;
        hex_len = env_hex_len;
    }
    if (hex == NULL) {
        set_detail(detail, cap, "collateral: %s is missing", sig_field);
        return VOUCH_ERR_PARSE;
    }
    if (vouch_hex_decode(hex, hex_len, sig, 64, &sig_len) != VOUCH_OK || sig_len != 64) {
        set_detail(detail, cap, "collateral: %s is not 64 bytes of hex", sig_field);
        return VOUCH_ERR_PARSE;
    }
    return VOUCH_OK;
}

/*
 * An issuer chain. When its last block is the text of @p known_root (the
 * pinned root already parsed from another chain), only the signer is parsed
 * and the root is shared.
 */
VOUCH_NODISCARD static vouch_err parse_chain(const json_t *root, const char *field,
                                             struct vouch_x509 *known_root,
                                             const char *known_root_b64, struct vouch_x509 **certs,
                                             size_t *n, char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *s = NULL;
    size_t len = 0;
    struct vouch__pem_blocks b;

    *n = 0;
    if ((rc = get_str(root, field, true, &s, &len, detail, cap)) != VOUCH_OK)
        return rc;
    if (vouch__pem_blocks((const uint8_t *)s, len, 2, &b)) {
        if ((rc = vouch__pem_block_x509(&b, 0, &certs[0])) == VOUCH_OK) {
            if (known_root != NULL && vouch__pem_block_is(&b, 1, known_root_b64))
                certs[1] = vouch_x509_ref(known_root);
            else
                rc = vouch__pem_block_x509(&b, 1, &certs[1]);
            if (rc != VOUCH_OK) {
                vouch_x509_free(certs[0]);
                certs[0] = NULL;
            }
        }
        vouch__pem_blocks_free(&b);
        if (rc == VOUCH_OK) {
            *n = 2;
            return VOUCH_OK;
        }
    }
    rc = vouch_x509_parse_pem_chain((const uint8_t *)s, len, certs, VOUCH_MAX_CHAIN_DEPTH, n);
    if (rc != VOUCH_OK)
        set_detail(detail, cap, "collateral: %s is not a PEM certificate chain (%s)", field,
                   vouch_err_name(rc));
    return rc;
}

VOUCH_NODISCARD static vouch_err parse_crl(const json_t *root, const char *field,
                                           struct vouch_crl **out, char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *s = NULL;
    size_t len = 0;

    if ((rc = get_str(root, field, true, &s, &len, detail, cap)) != VOUCH_OK)
        return rc;
    rc = vouch_crl_parse((const uint8_t *)s, len, out);
    if (rc != VOUCH_OK)
        set_detail(detail, cap, "collateral: %s is not a CRL (%s)", field, vouch_err_name(rc));
    return rc;
}

static bool cn_contains(const struct vouch_x509 *x, const char *phrase, char cn[CN_CAP])
{
    cn[0] = '\0';
    if (vouch_x509_subject_cn(x, cn, CN_CAP) != VOUCH_OK)
        return false;
    return strstr(cn, phrase) != NULL;
}

/*
 * An issuer chain from the collateral: exactly [signer, root], root equal to
 * the pinned one, signer CN containing one of @p phrases and signed by the
 * root. Keeps the signer in @p *signer_out and, the first time, the root in
 * c->root. Failures become the collateral's verdict; returns whether it held.
 */
static bool take_chain(struct vouch_collateral *c, const char *field, struct vouch_x509 **certs,
                       size_t n, const char *const *phrases, struct vouch_x509 **signer_out)
{
    char cn[CN_CAP];
    uint8_t fp[VOUCH_SHA256_LEN];
    bool cn_ok = false;
    vouch_err rc = VOUCH_ERR_INTERNAL;

    *signer_out = certs[0];
    certs[0] = NULL;
    if (n != 2) {
        verdict(c, VOUCH_ERR_CHAIN, "%s: expected 2 certificates (signer, root), got %zu", field,
                n);
        return false;
    }
    vouch_x509_fingerprint(certs[1], fp);
    if (!vouch_ct_eq(fp, vouch__intel_root_fp, sizeof(fp))) {
        verdict(c, VOUCH_ERR_CHAIN, "%s: the root is not the pinned Intel SGX Root CA", field);
        return false;
    }
    if (c->root == NULL) {
        c->root = certs[1];
        certs[1] = NULL;
    }
    for (size_t i = 0; phrases[i] != NULL && !cn_ok; i++)
        cn_ok = cn_contains(*signer_out, phrases[i], cn);
    if (!cn_ok) {
        verdict(c, VOUCH_ERR_CHAIN, "%s: unexpected signer CN \"%s\"", field, cn);
        return false;
    }
    /* A built-in Intel CA was verified against the pinned root at start-up. */
    if (!vouch_x509_issued_by_name(*signer_out, c->root) ||
        (!vouch__intel_cert_checked(*signer_out) &&
         (rc = vouch_x509_verify_signed_by(*signer_out, c->root)) != VOUCH_OK)) {
        verdict(c, VOUCH_ERR_CHAIN, "%s: \"%s\" is not signed by the Intel SGX Root CA", field, cn);
        return false;
    }
    return true;
}

static void free_certs(struct vouch_x509 **certs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vouch_x509_free(certs[i]);
        certs[i] = NULL;
    }
}

/* The signer must not be on the root CRL (meaningful only once that CRL verified). */
static bool check_not_revoked(struct vouch_collateral *c, const struct vouch_x509 *x,
                              const char *what)
{
    if (vouch_crl_lists(c->root_crl, x)) {
        verdict(c, VOUCH_ERR_REVOKED, "%s is revoked by the Intel SGX Root CA CRL", what);
        return false;
    }
    return true;
}

static void check_body_sig(struct vouch_collateral *c, const struct vouch_x509 *signer,
                           const char *what, const char *body, size_t body_len,
                           const uint8_t sig[64])
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *k = NULL;

    if ((rc = vouch_x509_pubkey(signer, &k)) != VOUCH_OK) {
        verdict(c, rc, "%s: cannot read the TCB Signing key", what);
        return;
    }
    if (!vouch_pubkey_is_ec(k, VOUCH_CURVE_P256)) {
        verdict(c, VOUCH_ERR_SIGNATURE, "%s: the TCB Signing key is not P-256", what);
    } else {
        rc = vouch_ecdsa_verify_raw(k, VOUCH_HASH_SHA256, body, body_len, sig, 64);
        if (rc != VOUCH_OK)
            verdict(c, rc, "%s signature does not verify with the TCB Signing key", what);
    }
    vouch_pubkey_free(k);
}

static const char *const pck_ca_names[] = {"Intel SGX PCK Processor CA",
                                           "Intel SGX PCK Platform CA", NULL};
static const char *const tcb_signer_names[] = {"Intel SGX TCB Signing", NULL};

vouch_err vouch__collateral_parse(const uint8_t *json, size_t len, struct vouch_collateral **out,
                                  char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_collateral *c = NULL;
    json_t *root = NULL;
    char jerr[160] = "", sub[VOUCH_MAX_ERROR_DETAIL] = "", cn[CN_CAP];
    struct vouch_x509 *pck_chain[VOUCH_MAX_CHAIN_DEPTH] = {0};
    struct vouch_x509 *tcb_chain[VOUCH_MAX_CHAIN_DEPTH] = {0};
    struct vouch_x509 *qe_chain[VOUCH_MAX_CHAIN_DEPTH] = {0};
    size_t n_pck = 0, n_tcb = 0, n_qe = 0;
    const char *tcb_body = NULL, *qe_body = NULL, *tcb_chain_s = NULL, *qe_chain_s = NULL;
    size_t tcb_body_len = 0, qe_body_len = 0, tcb_chain_len = 0, qe_chain_len = 0;
    uint8_t tcb_sig[64], qe_sig[64];
    bool pck_ok = false, tcb_ok = false, qe_ok = false, root_crl_ok = false;
    int64_t tu = 0, nu = 0;
    struct vouch_x509 *known_root = NULL;
    char *known_root_b64 = NULL;

    if (out == NULL || (json == NULL && len > 0)) {
        set_detail(detail, cap, "collateral: invalid arguments");
        return VOUCH_ERR_INVAL;
    }
    *out = NULL;
    if (len == 0) {
        set_detail(detail, cap, "collateral is empty");
        return VOUCH_ERR_PARSE;
    }
    if (len > VOUCH_MAX_COLLATERAL_SIZE) {
        set_detail(detail, cap, "collateral is larger than %u bytes", VOUCH_MAX_COLLATERAL_SIZE);
        return VOUCH_ERR_TOO_LARGE;
    }
    if ((c = vouch_calloc(1, sizeof(*c))) == NULL)
        return VOUCH_ERR_NOMEM;
    c->not_before = INT64_MIN;
    c->not_after = INT64_MAX;
    if ((rc = vouch_json_parse((const char *)json, len, &root, jerr, sizeof(jerr))) != VOUCH_OK) {
        set_detail(detail, cap, "collateral is not valid JSON: %s", jerr);
        goto out;
    }
    if (!json_is_object(root)) {
        set_detail(detail, cap, "collateral is not a JSON object");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }

    /* Parsing: anything malformed fails the whole object. */
    if ((rc = parse_crl(root, "root_ca_crl", &c->root_crl, detail, cap)) != VOUCH_OK ||
        (rc = parse_crl(root, "pck_crl", &c->pck_crl, detail, cap)) != VOUCH_OK ||
        (rc = parse_chain(root, "pck_crl_issuer_chain", NULL, NULL, pck_chain, &n_pck, detail,
                          cap)) != VOUCH_OK ||
        (rc = get_str(root, "tcb_info_issuer_chain", true, &tcb_chain_s, &tcb_chain_len, detail,
                      cap)) != VOUCH_OK ||
        (rc = get_str(root, "qe_identity_issuer_chain", true, &qe_chain_s, &qe_chain_len, detail,
                      cap)) != VOUCH_OK)
        goto out;
    /* The same pinned root ends every chain: parse it once. */
    {
        uint8_t fp[VOUCH_SHA256_LEN];
        vouch_x509_fingerprint(pck_chain[n_pck - 1], fp); /* n_pck >= 1 once parsed */
        if (n_pck >= 2 && vouch_ct_eq(fp, vouch__intel_root_fp, sizeof(fp))) {
            known_root = pck_chain[n_pck - 1];
            known_root_b64 = der_b64(known_root);
        }
    }
    if ((rc = parse_chain(root, "tcb_info_issuer_chain", known_root, known_root_b64, tcb_chain,
                          &n_tcb, detail, cap)) != VOUCH_OK)
        goto out;
    /* The two signing chains are normally the same text: parse and verify once. */
    if (!(qe_chain_len == tcb_chain_len && memcmp(qe_chain_s, tcb_chain_s, qe_chain_len) == 0) &&
        (rc = parse_chain(root, "qe_identity_issuer_chain", known_root, known_root_b64, qe_chain,
                          &n_qe, detail, cap)) != VOUCH_OK)
        goto out;
    if ((rc = signed_body(root, "tcb_info", "tcb_info_signature", "tcbInfo", &tcb_body,
                          &tcb_body_len, tcb_sig, detail, cap)) != VOUCH_OK ||
        (rc = signed_body(root, "qe_identity", "qe_identity_signature", "enclaveIdentity", &qe_body,
                          &qe_body_len, qe_sig, detail, cap)) != VOUCH_OK)
        goto out;
    if ((rc = vouch__tcb_info_parse(tcb_body, tcb_body_len, &c->tcb_info, sub, sizeof(sub))) !=
        VOUCH_OK) {
        set_detail(detail, cap, "collateral: %s", sub);
        goto out;
    }
    if ((rc = vouch__qe_identity_parse(qe_body, qe_body_len, &c->qe_identity, sub, sizeof(sub))) !=
        VOUCH_OK) {
        set_detail(detail, cap, "collateral: %s", sub);
        goto out;
    }

    /* Verification: failures become the verdict, in QVL's order. */
    pck_ok = take_chain(c, "pck_crl_issuer_chain", pck_chain, n_pck, pck_ca_names, &c->pck_ca);
    tcb_ok =
        take_chain(c, "tcb_info_issuer_chain", tcb_chain, n_tcb, tcb_signer_names, &c->tcb_signer);
    if (n_qe == 0) {
        c->qe_signer = vouch_x509_ref(c->tcb_signer);
        qe_ok = tcb_ok;
    } else {
        qe_ok = take_chain(c, "qe_identity_issuer_chain", qe_chain, n_qe, tcb_signer_names,
                           &c->qe_signer);
    }
    vouch_x509_fingerprint(c->pck_ca, c->pck_ca_fp);
    if (c->root != NULL) {
        c->root_b64 = der_b64(c->root);
        c->pck_ca_b64 = der_b64(c->pck_ca);
    }

    if (c->root != NULL) {
        rc = vouch_crl_verify_signed_by(c->root_crl, c->root);
        if (rc != VOUCH_OK)
            verdict(c, rc == VOUCH_ERR_CRYPTO ? rc : VOUCH_ERR_SIGNATURE,
                    "root_ca_crl is not signed by the Intel SGX Root CA");
        else
            root_crl_ok = true;
    }
    if (pck_ok && root_crl_ok)
        pck_ok = check_not_revoked(c, c->pck_ca, "the PCK CA certificate");
    if (pck_ok) {
        rc = vouch_crl_verify_signed_by(c->pck_crl, c->pck_ca);
        if (rc != VOUCH_OK) {
            verdict(c, rc == VOUCH_ERR_CRYPTO ? rc : VOUCH_ERR_SIGNATURE,
                    "pck_crl is not signed by the PCK CA in pck_crl_issuer_chain");
        } else if (vouch_crl_issuer_cn(c->pck_crl, cn, sizeof(cn)) != VOUCH_OK ||
                   strstr(cn, "CA") == NULL) {
            verdict(c, VOUCH_ERR_CHAIN, "pck_crl issuer CN does not name a CA");
        }
    }
    c->pck_ca_ok = pck_ok && root_crl_ok && c->verdict == VOUCH_OK;
    if (tcb_ok && root_crl_ok)
        tcb_ok = check_not_revoked(c, c->tcb_signer, "the TCB Signing certificate (tcb_info)");
    if (tcb_ok)
        check_body_sig(c, c->tcb_signer, "tcb_info", tcb_body, tcb_body_len, tcb_sig);
    if (qe_ok && root_crl_ok && n_qe != 0)
        qe_ok = check_not_revoked(c, c->qe_signer, "the TCB Signing certificate (qe_identity)");
    if (qe_ok)
        check_body_sig(c, c->qe_signer, "qe_identity", qe_body, qe_body_len, qe_sig);

    /* Validity windows, checked per verification against its own now. */
    if (c->root != NULL)
        add_cert_window(c, "root_ca_cert", c->root);
    vouch_crl_validity(c->root_crl, &tu, &nu);
    add_window(c, "root_ca_crl", tu, nu);
    add_cert_window(c, "pck_ca_cert", c->pck_ca);
    vouch_crl_validity(c->pck_crl, &tu, &nu);
    add_window(c, "pck_crl", tu, nu);
    add_cert_window(c, "tcb_signing_cert", c->tcb_signer);
    if (n_qe != 0)
        add_cert_window(c, "qe_identity_signing_cert", c->qe_signer);
    add_window(c, "tcb_info", c->tcb_info.issue_date, c->tcb_info.next_update);
    add_window(c, "qe_identity", c->qe_identity.issue_date, c->qe_identity.next_update);

    /* Digests once here, so reporting which collateral was used costs a
     * verification nothing. */
    {
        static const char *const fields[] = {"tcb_info",    "tcb_info_issuer_chain",
                                             "qe_identity", "qe_identity_issuer_chain",
                                             "root_ca_crl", "pck_crl"};
        uint8_t *const dst[] = {c->digests.tcb_info,    c->digests.tcb_info_chain,
                                c->digests.qe_identity, c->digests.qe_identity_chain,
                                c->digests.root_ca_crl, c->digests.pck_crl};
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            const json_t *v = json_object_get(root, fields[i]);
            if ((rc = vouch_sha256(json_string_value(v), json_string_length(v), dst[i])) !=
                VOUCH_OK)
                goto out;
        }
    }

    *out = c;
    c = NULL;
    rc = VOUCH_OK;
out:
    free_certs(pck_chain, n_pck);
    free_certs(tcb_chain, n_tcb);
    free_certs(qe_chain, n_qe);
    vouch_free(known_root_b64);
    json_decref(root);
    vouch_collateral_free(c);
    return rc;
}

vouch_err vouch_collateral_parse(const uint8_t *json, size_t len, struct vouch_collateral **out)
{
    return vouch__collateral_parse(json, len, out, NULL, 0);
}

void vouch_collateral_digests(const struct vouch_collateral *c,
                              struct vouch_collateral_digests *out)
{
    *out = c->digests;
}

void vouch_collateral_free(struct vouch_collateral *c)
{
    if (c == NULL)
        return;
    vouch_x509_free(c->root);
    vouch_x509_free(c->pck_ca);
    vouch_x509_free(c->tcb_signer);
    vouch_x509_free(c->qe_signer);
    vouch_free(c->root_b64);
    vouch_free(c->pck_ca_b64);
    vouch_crl_free(c->root_crl);
    vouch_crl_free(c->pck_crl);
    vouch__tcb_info_free(&c->tcb_info);
    vouch__qe_identity_free(&c->qe_identity);
    vouch_free(c);
}
