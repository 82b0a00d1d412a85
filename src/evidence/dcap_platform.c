/*
 * Which platform a quote or a collateral set belongs to: the keys a
 * collateral cache is looked up by. This runs before verification on every
 * request of a service, so the FMSPC read from a quote's PCK leaf is
 * remembered per leaf (by the SHA-256 of its exact text): decoding the
 * certificate costs more than the rest of the lookup together. Nothing here
 * is trusted; vouch_evidence_verify checks the chain and the FMSPC again.
 */
#include <pthread.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/mem.h>

#include "evidence/dcap_int.h"
#include "evidence/evidence_int.h"

#define PCK_SGX_EXT_OID "1.2.840.113741.1.13.1"

struct fmspc_slot {
    bool used;
    uint8_t key[VOUCH_SHA256_LEN];
    uint8_t fmspc[6];
    enum vouch_pck_ca ca;
};

static pthread_mutex_t fmspc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fmspc_slot fmspc_cache[VOUCH_PCK_LEAF_CACHE_SLOTS];
static size_t fmspc_next;

static bool fmspc_get(const uint8_t key[VOUCH_SHA256_LEN], uint8_t fmspc[6], enum vouch_pck_ca *ca)
{
    bool hit = false;
    pthread_mutex_lock(&fmspc_lock);
    for (size_t i = 0; i < VOUCH_PCK_LEAF_CACHE_SLOTS && !hit; i++) {
        if (fmspc_cache[i].used && memcmp(fmspc_cache[i].key, key, VOUCH_SHA256_LEN) == 0) {
            memcpy(fmspc, fmspc_cache[i].fmspc, 6);
            *ca = fmspc_cache[i].ca;
            hit = true;
        }
    }
    pthread_mutex_unlock(&fmspc_lock);
    return hit;
}

static void fmspc_put(const uint8_t key[VOUCH_SHA256_LEN], const uint8_t fmspc[6],
                      enum vouch_pck_ca ca)
{
    pthread_mutex_lock(&fmspc_lock);
    fmspc_cache[fmspc_next].used = true;
    memcpy(fmspc_cache[fmspc_next].key, key, VOUCH_SHA256_LEN);
    memcpy(fmspc_cache[fmspc_next].fmspc, fmspc, 6);
    fmspc_cache[fmspc_next].ca = ca;
    fmspc_next = (fmspc_next + 1) % VOUCH_PCK_LEAF_CACHE_SLOTS;
    pthread_mutex_unlock(&fmspc_lock);
}

static vouch_err leaf_fmspc(const struct vouch_x509 *leaf, uint8_t fmspc[6], enum vouch_pck_ca *ca)
{
    struct vouch_pck_ext ext;
    const uint8_t *ev;
    size_t evlen;
    char cn[96];
    vouch_err rc;

    *ca = VOUCH_PCK_CA_UNKNOWN;
    if (vouch_x509_issuer_cn(leaf, cn, sizeof(cn)) == VOUCH_OK) {
        if (strstr(cn, "PCK Processor CA"))
            *ca = VOUCH_PCK_CA_PROCESSOR;
        else if (strstr(cn, "PCK Platform CA"))
            *ca = VOUCH_PCK_CA_PLATFORM;
    }
    if ((rc = vouch_x509_extension(leaf, PCK_SGX_EXT_OID, &ev, &evlen)) != VOUCH_OK ||
        (rc = vouch__pck_ext_parse(ev, evlen, &ext)) != VOUCH_OK)
        return rc;
    memcpy(fmspc, ext.fmspc, 6);
    return VOUCH_OK;
}

vouch_err vouch_evidence_dcap_platform(const uint8_t *p, size_t len,
                                       struct vouch_dcap_platform *out)
{
    struct vouch_dcap_quote *q = NULL;
    struct vouch_x509 *certs[VOUCH_MAX_CHAIN_DEPTH] = {0};
    struct vouch__pem_blocks b;
    uint8_t key[VOUCH_SHA256_LEN];
    size_t n = 0;
    vouch_err rc = VOUCH_ERR_NOMEM;

    memset(out, 0, sizeof(*out));
    if (!(q = vouch_calloc(1, sizeof(*q))))
        return VOUCH_ERR_NOMEM;
    if ((rc = vouch__dcap_quote_parse(p, len, q)) != VOUCH_OK)
        goto out;
    if (q->cert_type != VOUCH_DCAP_CERT_PCK_CHAIN) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    out->tee = q->tee_type == VOUCH_DCAP_TEE_TDX ? VOUCH_EVIDENCE_TDX : VOUCH_EVIDENCE_SGX;
    if (vouch__pem_blocks(q->cert_data, q->cert_data_len, 3, &b)) {
        rc = vouch_sha256(b.buf + b.off[0], b.len[0], key);
        if (rc == VOUCH_OK && !fmspc_get(key, out->fmspc, &out->pck_ca)) {
            if ((rc = vouch__pem_block_x509(&b, 0, &certs[0])) == VOUCH_OK) {
                n = 1;
                if ((rc = leaf_fmspc(certs[0], out->fmspc, &out->pck_ca)) == VOUCH_OK)
                    fmspc_put(key, out->fmspc, out->pck_ca);
            }
        }
        vouch__pem_blocks_free(&b);
        goto out;
    }
    if ((rc = vouch_x509_parse_pem_chain(q->cert_data, q->cert_data_len, certs,
                                         VOUCH_MAX_CHAIN_DEPTH, &n)) != VOUCH_OK)
        goto out;
    rc = leaf_fmspc(certs[0], out->fmspc, &out->pck_ca);
out:
    for (size_t i = 0; i < n; i++)
        vouch_x509_free(certs[i]);
    vouch_free(q);
    return rc;
}

vouch_err vouch_collateral_platform(const struct vouch_collateral *c,
                                    struct vouch_dcap_platform *out)
{
    memset(out, 0, sizeof(*out));
    if (!c)
        return VOUCH_ERR_INVAL;
    out->tee = c->tcb_info.is_tdx ? VOUCH_EVIDENCE_TDX : VOUCH_EVIDENCE_SGX;
    memcpy(out->fmspc, c->tcb_info.fmspc, sizeof(out->fmspc));
    out->not_before = c->not_before;
    out->not_after = c->not_after;
    return VOUCH_OK;
}
