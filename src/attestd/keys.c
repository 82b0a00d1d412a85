/*
 * Token-signing keys. Keys live in the LMDB store (mode 0600), newest first.
 * The newest key signs; every key that may still have unexpired tokens in
 * circulation stays published in /certs. A key is rotated when it is older
 * than ATTESTD_KEY_ROTATE_SECONDS at start-up; the predecessor stays
 * published for the token lifetime plus a day after its successor took over,
 * so any token it signed can still be verified, and is then dropped.
 */
#include <stdio.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/log.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

#define ATTESTD_KEY_ROTATE_SECONDS (90 * 86400)
#define ATTESTD_KEY_GRACE_SECONDS  86400
#define ATTESTD_CERT_YEARS         30

struct key_record {
    struct attestd *d;
    int64_t retire_before; /* successors' creation time, newest first */
    vouch_err rc;
};

static void key_free(struct attestd_signing_key *k)
{
    vouch_pkey_free(k->key);
    vouch_pubkey_free(k->pub);
    vouch_free(k->cert_der);
    memset(k, 0, sizeof(*k));
}

void attestd_keys_free(struct attestd *d)
{
    for (size_t i = 0; i < d->n_keys; i++)
        key_free(&d->keys[i]);
    d->n_keys = 0;
    vouch_free(d->jwks_text);
    vouch_free(d->openid_text);
    d->jwks_text = d->openid_text = NULL;
}

static vouch_err key_from_record(const void *val, size_t len, struct attestd_signing_key *k)
{
    json_t *o = NULL;
    const char *pem, *cert;
    size_t pem_len, cert_len;
    int64_t created;
    vouch_err rc;

    memset(k, 0, sizeof(*k));
    if ((rc = vouch_json_parse(val, len, &o, NULL, 0)) != VOUCH_OK)
        return rc;
    if ((rc = vouch_json_str(o, "pem", &pem, &pem_len)) != VOUCH_OK ||
        (rc = vouch_json_str(o, "cert", &cert, &cert_len)) != VOUCH_OK ||
        (rc = vouch_json_int(o, "created", 0, INT64_MAX, &created)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_pkey_parse_pem((const uint8_t *)pem, pem_len, &k->key)) != VOUCH_OK ||
        (rc = vouch_pkey_public(k->key, &k->pub)) != VOUCH_OK ||
        (rc = vouch_base64_decode(cert, cert_len, false, &k->cert_der, &k->cert_len)) != VOUCH_OK ||
        (rc = vouch_token_kid(k->pub, k->kid)) != VOUCH_OK)
        goto out;
    k->created = created;
    rc = VOUCH_OK;
out:
    /* The record held the private key in text form. */
    if (o) {
        const char *p;
        size_t n;
        if (vouch_json_str(o, "pem", &p, &n) == VOUCH_OK)
            vouch_wipe((void *)p, n);
    }
    json_decref(o);
    if (rc != VOUCH_OK)
        key_free(k);
    return rc;
}

static vouch_err load_one(void *arg, const char *key, const void *val, size_t len)
{
    struct key_record *kr = arg;
    struct attestd *d = kr->d;
    struct attestd_signing_key k;
    vouch_err rc;

    (void)key;
    if (d->n_keys >= ATTESTD_MAX_SIGNING_KEYS)
        return VOUCH_OK;
    if ((rc = key_from_record(val, len, &k)) != VOUCH_OK) {
        vouch_log_error("signing key record %s is unreadable", key);
        return rc;
    }
    d->keys[d->n_keys++] = k;
    return VOUCH_OK;
}

/* Generates a key and its self-signed certificate (CN = issuer) and stores it. */
static vouch_err create_key(struct attestd *d, int64_t now)
{
    struct vouch_pkey *pk = NULL;
    struct vouch_pubkey *pub = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *pem = NULL, *b64 = NULL, *rec_text = NULL;
    char kid[VOUCH_TOKEN_KID_LEN + 1], dbkey[128];
    json_t *rec = NULL;
    struct vouch_cert_spec spec;
    vouch_err rc;
    size_t pem_len = 0;

    memset(&spec, 0, sizeof(spec));
    spec.common_name = d->cfg.issuer;
    spec.not_before = now - 86400;
    spec.not_after = now + (int64_t)ATTESTD_CERT_YEARS * 365 * 86400;
    rc = vouch_pkey_generate(
        d->cfg.token_alg == VOUCH_SIG_ES256 ? VOUCH_PKEY_EC_P256 : VOUCH_PKEY_RSA_2048, &pk);
    if (rc != VOUCH_OK)
        goto out;
    if (strlen(d->cfg.issuer) > 64) {
        /* X.509 caps CN at 64 characters; keep the host part then. */
        const char *host = strstr(d->cfg.issuer, "://");
        spec.common_name = host && strlen(host + 3) <= 64 ? host + 3 : "vouch-attestd";
    }
    if ((rc = vouch_pkey_self_signed_cert(pk, &spec, &der, &der_len)) != VOUCH_OK ||
        (rc = vouch_pkey_public(pk, &pub)) != VOUCH_OK ||
        (rc = vouch_token_kid(pub, kid)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_pkey_to_pem(pk, &pem, &pem_len)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_NOMEM;
    if (!(b64 = vouch_malloc(vouch_base64_encoded_len(der_len, false) + 1)))
        goto out;
    vouch_base64_encode(der, der_len, false, b64);
    if (!(rec = json_pack("{s:s%,s:s,s:I,s:s}", "pem", pem, pem_len, "cert", b64, "created",
                          (json_int_t)now, "kid", kid)))
        goto out;
    if ((rc = vouch_json_dump(rec, 0, &rec_text)) != VOUCH_OK)
        goto out;
    /* Keys sort newest first: invert the creation time in the key. */
    snprintf(dbkey, sizeof(dbkey), "%016llx-%s", (unsigned long long)(INT64_MAX - now), kid);
    rc = attestd_store_put(d->store, ATTESTD_DB_KEYS, dbkey, rec_text, strlen(rec_text));
    if (rc == VOUCH_OK)
        vouch_log_warn("created token-signing key kid=%s", kid);
out:
    if (rec_text)
        vouch_wipe(rec_text, strlen(rec_text));
    vouch_free(rec_text);
    json_decref(rec);
    if (pem)
        vouch_wipe(pem, pem_len);
    vouch_free(pem);
    vouch_free(b64);
    vouch_free(der);
    vouch_pubkey_free(pub);
    vouch_pkey_free(pk);
    return rc;
}

static vouch_err build_documents(struct attestd *d)
{
    struct vouch_jwks_entry e[ATTESTD_MAX_SIGNING_KEYS];
    json_t *jwks = NULL, *openid = NULL;
    vouch_err rc;

    for (size_t i = 0; i < d->n_keys; i++) {
        memset(&e[i], 0, sizeof(e[i]));
        e[i].key = d->keys[i].pub;
        e[i].kid = d->keys[i].kid;
        e[i].cert_der = d->keys[i].cert_der;
        e[i].cert_len = d->keys[i].cert_len;
    }
    if ((rc = vouch_jwks_build(e, d->n_keys, &jwks)) != VOUCH_OK ||
        (rc = vouch_json_dump(jwks, 0, &d->jwks_text)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_token_openid_config(d->cfg.issuer, VOUCH_TOKEN_ALG(d->cfg.token_alg),
                                        &openid)) != VOUCH_OK ||
        (rc = vouch_json_dump(openid, 0, &d->openid_text)) != VOUCH_OK)
        goto out;
out:
    json_decref(jwks);
    json_decref(openid);
    return rc;
}

vouch_err attestd_keys_load(struct attestd *d)
{
    struct key_record kr = {.d = d};
    int64_t now = attestd_now(d);
    vouch_err rc;
    size_t keep;

    if ((rc = attestd_store_each(d->store, ATTESTD_DB_KEYS, "", load_one, &kr)) != VOUCH_OK)
        return rc;
    if (d->n_keys == 0 || now - d->keys[0].created > ATTESTD_KEY_ROTATE_SECONDS ||
        vouch_pkey_kind(d->keys[0].key) != vouch_sig_alg_key_kind(d->cfg.token_alg)) {
        attestd_keys_free(d);
        if ((rc = create_key(d, now)) != VOUCH_OK)
            return rc;
        if ((rc = attestd_store_each(d->store, ATTESTD_DB_KEYS, "", load_one, &kr)) != VOUCH_OK)
            return rc;
    }
    /* Publish a predecessor only while tokens it signed can still be valid:
     * until its successor has been in use for a token lifetime plus grace. */
    keep = 1;
    while (keep < d->n_keys &&
           now - d->keys[keep - 1].created < d->cfg.token_lifetime + ATTESTD_KEY_GRACE_SECONDS)
        keep++;
    for (size_t i = keep; i < d->n_keys; i++)
        key_free(&d->keys[i]);
    d->n_keys = keep;
    return build_documents(d);
}
