/*
 * The collateral claims of an SGX token, as MAA issues them:
 *
 *   x-ms-sgx-collateral (and the legacy copy maa-attestationcollateral): which
 *   collateral the verdict rests on, as SHA-256 hex digests of the exact bytes
 *   used: the quote as verified (for OpenEnclave, the SGX quote inside the
 *   report) and each collateral item as received (vouch_collateral_digests).
 *   MAA names seven digests; the QuoteCollateralV3 items they map to are
 *     qeidhash          qe_identity (the signed QE Identity as carried)
 *     qeidcertshash     qe_identity_issuer_chain
 *     qeidcrlhash       root_ca_crl (the CRL that covers the QE identity chain)
 *     tcbinfohash       tcb_info (the signed TCB Info as carried)
 *     tcbinfocertshash  tcb_info_issuer_chain
 *     tcbinfocrlhash    pck_crl (the CRL the TCB evaluation's PCK check used)
 *     quotehash         the quote
 *
 *   x-ms-sgx-tcbidentifier: the TCB baseline the evidence was evaluated
 *   against. MAA's values are TCB evaluation data numbers as strings ("10",
 *   ... ; "azuredefault" names Azure's own choice); Vouch evaluates against
 *   the TCB Info it holds, so the claim is that TCB Info's
 *   tcbEvaluationDataNumber, as a decimal string.
 *
 * Both are computed from data kept at collateral load time and one hash of
 * the quote: a few microseconds per request.
 */
#include <inttypes.h>
#include <stdio.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>

#include "attestd/attestd_int.h"

static int set_hex(json_t *o, const char *name, const uint8_t d[VOUCH_SHA256_LEN])
{
    char hex[2 * VOUCH_SHA256_LEN + 1];
    vouch_hex_encode(d, VOUCH_SHA256_LEN, hex);
    return json_object_set_new(o, name, json_string(hex));
}

vouch_err attestd_collateral_claims(const struct vouch_verify_result *vr,
                                    const struct vouch_collateral *coll, const uint8_t *quote,
                                    size_t quote_len, json_t *out)
{
    struct vouch_collateral_digests dg;
    uint8_t qh[VOUCH_SHA256_LEN];
    json_t *o = NULL;
    char num[24];
    int bad = 0;
    vouch_err rc;

    /* MAA issues these for SGX evidence only. */
    if (vr->format != VOUCH_EVIDENCE_SGX || !coll)
        return VOUCH_OK;
    if ((rc = vouch_sha256(quote, quote_len, qh)) != VOUCH_OK)
        return rc;
    vouch_collateral_digests(coll, &dg);
    if (!(o = json_object()))
        return VOUCH_ERR_NOMEM;
    bad |= set_hex(o, "qeidcertshash", dg.qe_identity_chain);
    bad |= set_hex(o, "qeidcrlhash", dg.root_ca_crl);
    bad |= set_hex(o, "qeidhash", dg.qe_identity);
    bad |= set_hex(o, "quotehash", qh);
    bad |= set_hex(o, "tcbinfocertshash", dg.tcb_info_chain);
    bad |= set_hex(o, "tcbinfocrlhash", dg.pck_crl);
    bad |= set_hex(o, "tcbinfohash", dg.tcb_info);
    bad |= json_object_set(out, "x-ms-sgx-collateral", o);
    bad |= json_object_set_new(out, "maa-attestationcollateral", o);
    if (vr->tcb_eval_number >= 0) {
        snprintf(num, sizeof(num), "%" PRId64, vr->tcb_eval_number);
        bad |= json_object_set_new(out, "x-ms-sgx-tcbidentifier", json_string(num));
    }
    return bad ? VOUCH_ERR_NOMEM : VOUCH_OK;
}
