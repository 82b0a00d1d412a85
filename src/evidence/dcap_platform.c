/* Which platform a quote or a collateral set belongs to (cache keys). */
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/mem.h>

#include "evidence/dcap_int.h"
#include "evidence/evidence_int.h"

#define PCK_SGX_EXT_OID "1.2.840.113741.1.13.1"

vouch_err vouch_evidence_dcap_platform(const uint8_t *p, size_t len,
                                       struct vouch_dcap_platform *out)
{
    struct vouch_dcap_quote *q = NULL;
    struct vouch_x509 *certs[VOUCH_MAX_CHAIN_DEPTH] = {0};
    struct vouch_pck_ext ext;
    const uint8_t *ev;
    size_t n = 0, evlen;
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
    if ((rc = vouch_x509_parse_pem_chain(q->cert_data, q->cert_data_len, certs,
                                         VOUCH_MAX_CHAIN_DEPTH, &n)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_x509_extension(certs[0], PCK_SGX_EXT_OID, &ev, &evlen)) != VOUCH_OK ||
        (rc = vouch__pck_ext_parse(ev, evlen, &ext)) != VOUCH_OK)
        goto out;
    out->tee = q->tee_type == VOUCH_DCAP_TEE_TDX ? VOUCH_EVIDENCE_TDX : VOUCH_EVIDENCE_SGX;
    memcpy(out->fmspc, ext.fmspc, sizeof(out->fmspc));
    rc = VOUCH_OK;
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
    out->not_after = c->not_after;
    return VOUCH_OK;
}
