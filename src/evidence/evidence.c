/*
 * Evidence front door: format detection, dispatch to the per-format parsers
 * and verifiers, the shared result helpers, and the result's JSON form.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/json.h>
#include <vouch/mem.h>

#include "evidence/evidence_int.h"
#include "evidence/sim_int.h"

const char *vouch_evidence_format_name(enum vouch_evidence_format f)
{
    switch (f) {
    case VOUCH_EVIDENCE_SGX:
        return "sgx";
    case VOUCH_EVIDENCE_TDX:
        return "tdx";
    case VOUCH_EVIDENCE_SNP:
        return "snp";
    case VOUCH_EVIDENCE_SIM:
        return "sim";
    case VOUCH_EVIDENCE_UNKNOWN:
        break;
    }
    return "unknown";
}

static const char *const tcb_names[] = {
    [VOUCH_TCB_NONE] = "None",
    [VOUCH_TCB_UP_TO_DATE] = "UpToDate",
    [VOUCH_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [VOUCH_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [VOUCH_TCB_OUT_OF_DATE] = "OutOfDate",
    [VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [VOUCH_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [VOUCH_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
    [VOUCH_TCB_REVOKED] = "Revoked",
    [VOUCH_TCB_NOT_SUPPORTED] = "TcbNotSupported",
};

const char *vouch_tcb_status_name(enum vouch_tcb_status s)
{
    if ((size_t)s >= sizeof(tcb_names) / sizeof(tcb_names[0]))
        return "None";
    return tcb_names[s];
}

vouch_err vouch_tcb_status_parse(const char *s, size_t len, enum vouch_tcb_status *out)
{
    *out = VOUCH_TCB_NONE;
    /* Only the statuses Intel puts in TCB Info / identity levels are accepted;
     * "None" and the TD relaunch names are verdicts, not collateral values. */
    for (size_t i = VOUCH_TCB_UP_TO_DATE; i <= VOUCH_TCB_REVOKED; i++) {
        if (i == VOUCH_TCB_TD_RELAUNCH_ADVISED ||
            i == VOUCH_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED)
            continue;
        if (strlen(tcb_names[i]) == len && memcmp(tcb_names[i], s, len) == 0) {
            *out = (enum vouch_tcb_status)i;
            return VOUCH_OK;
        }
    }
    return VOUCH_ERR_NOT_FOUND;
}

vouch_err vouch__result_fail(struct vouch_verify_result *res, vouch_err err, const char *fmt, ...)
{
    va_list ap;

    res->verified = false;
    if (res->error != VOUCH_OK)
        return err;
    res->error = err;
    va_start(ap, fmt);
    vsnprintf(res->error_detail, sizeof(res->error_detail), fmt, ap);
    va_end(ap);
    return err;
}

void vouch__result_expired(struct vouch_verify_result *res, const char *item)
{
    res->verified = false;
    if (res->collateral_expired)
        return;
    res->collateral_expired = true;
    snprintf(res->expired_item, sizeof(res->expired_item), "%s", item);
}

void vouch__result_add_advisory(struct vouch_verify_result *res, const char *id, size_t len)
{
    if (len == 0 || len >= VOUCH_MAX_ADVISORY_LEN || res->n_advisories >= VOUCH_MAX_ADVISORIES)
        return;
    for (size_t i = 0; i < res->n_advisories; i++) {
        if (strlen(res->advisories[i]) == len && memcmp(res->advisories[i], id, len) == 0)
            return;
    }
    memcpy(res->advisories[res->n_advisories], id, len);
    res->advisories[res->n_advisories][len] = 0;
    res->n_advisories++;
}

void vouch_verify_result_free(struct vouch_verify_result *r)
{
    if (r->claims)
        json_decref(r->claims);
    r->claims = NULL;
}

vouch_err vouch_evidence_detect(const uint8_t *p, size_t len, enum vouch_evidence_format *out)
{
    struct vouch_reader r;
    uint16_t version = 0, key_type = 0;
    uint32_t tee = 0, snp_version = 0, sig_algo = 0;

    *out = VOUCH_EVIDENCE_UNKNOWN;
    if (!p && len)
        return VOUCH_ERR_INVAL;
    if (len > VOUCH_MAX_EVIDENCE_SIZE)
        return VOUCH_ERR_TOO_LARGE;

    /* Sim evidence opens with its own eight-byte magic. */
    if (vouch_sim_evidence_detect(p, len)) {
        *out = VOUCH_EVIDENCE_SIM;
        return VOUCH_OK;
    }

    /* DCAP quotes open with u16 version 3..5, u16 key type, u32 TEE type. */
    vouch_reader_init(&r, p, len);
    if (vouch_reader_u16le(&r, &version) == VOUCH_OK &&
        vouch_reader_u16le(&r, &key_type) == VOUCH_OK && vouch_reader_u32le(&r, &tee) == VOUCH_OK &&
        version >= 3 && version <= 5 && key_type == VOUCH_DCAP_ATT_KEY_ECDSA_P256) {
        if (tee == VOUCH_DCAP_TEE_SGX) {
            *out = VOUCH_EVIDENCE_SGX;
            return VOUCH_OK;
        }
        if (tee == VOUCH_DCAP_TEE_TDX) {
            *out = VOUCH_EVIDENCE_TDX;
            return VOUCH_OK;
        }
    }

    /* SEV-SNP reports open with u32 version 2..5 and carry u32 algo 1 at 0x34;
     * the first u16 is never 3..5 with a zero second u16 in a DCAP quote. */
    vouch_reader_init(&r, p, len);
    if (len >= 0x38 && vouch_reader_u32le(&r, &snp_version) == VOUCH_OK &&
        vouch_reader_skip(&r, 0x34 - 4) == VOUCH_OK &&
        vouch_reader_u32le(&r, &sig_algo) == VOUCH_OK && snp_version >= 2 && snp_version <= 5 &&
        sig_algo == 1) {
        *out = VOUCH_EVIDENCE_SNP;
        return VOUCH_OK;
    }
    return VOUCH_ERR_UNSUPPORTED;
}

vouch_err vouch_evidence_inspect(const uint8_t *p, size_t len, enum vouch_evidence_format *fmt_out,
                                 json_t **claims_out)
{
    struct vouch_dcap_quote *q = NULL;
    struct vouch_snp_report *snp = NULL;
    json_t *claims = NULL;
    vouch_err rc;

    *claims_out = NULL;
    if ((rc = vouch_evidence_detect(p, len, fmt_out)) != VOUCH_OK)
        return rc;
    if (*fmt_out == VOUCH_EVIDENCE_SIM) {
        struct vouch_sim_report rep;
        if ((rc = vouch_sim_evidence_parse(p, len, &rep)) != VOUCH_OK)
            return rc;
        return vouch__sim_claims(&rep, claims_out);
    }
    rc = VOUCH_ERR_NOMEM;
    if (!(claims = json_object()))
        goto out;
    if (*fmt_out == VOUCH_EVIDENCE_SNP) {
        if (!(snp = vouch_calloc(1, sizeof(*snp))))
            goto out;
        if ((rc = vouch__snp_report_parse(p, len, snp)) != VOUCH_OK)
            goto out;
        if ((rc = vouch__snp_report_claims(snp, claims)) != VOUCH_OK)
            goto out;
    } else {
        if (!(q = vouch_calloc(1, sizeof(*q))))
            goto out;
        if ((rc = vouch__dcap_quote_parse(p, len, q)) != VOUCH_OK)
            goto out;
        if ((rc = vouch__dcap_quote_claims(q, claims)) != VOUCH_OK)
            goto out;
    }
    *claims_out = claims;
    claims = NULL;
    rc = VOUCH_OK;
out:
    json_decref(claims);
    vouch_free(q);
    vouch_free(snp);
    return rc;
}

vouch_err vouch_evidence_verify(const uint8_t *p, size_t len, const struct vouch_verify_opts *opts,
                                struct vouch_verify_result *res)
{
    enum vouch_evidence_format fmt = VOUCH_EVIDENCE_UNKNOWN;
    struct vouch_dcap_quote *q = NULL;
    struct vouch_snp_report *snp = NULL;
    vouch_err rc;

    memset(res, 0, sizeof(*res));
    res->tcb_eval_number = -1;
    if (!opts)
        return vouch__result_fail(res, VOUCH_ERR_INVAL, "no verification options");
    if ((rc = vouch_evidence_detect(p, len, &fmt)) != VOUCH_OK)
        return vouch__result_fail(res, rc, "unrecognised evidence format");
    res->format = fmt;

    if (fmt == VOUCH_EVIDENCE_SIM) {
        rc = vouch__sim_verify(p, len, opts, res);
    } else if (fmt == VOUCH_EVIDENCE_SNP) {
        if (!(snp = vouch_calloc(1, sizeof(*snp)))) {
            rc = vouch__result_fail(res, VOUCH_ERR_NOMEM, "out of memory");
            goto out;
        }
        if ((rc = vouch__snp_report_parse(p, len, snp)) != VOUCH_OK) {
            vouch__result_fail(res, rc, "SEV-SNP report does not parse: %s", vouch_strerror(rc));
            goto out;
        }
        rc = vouch__snp_verify(p, len, snp, opts, res);
    } else {
        if (!(q = vouch_calloc(1, sizeof(*q)))) {
            rc = vouch__result_fail(res, VOUCH_ERR_NOMEM, "out of memory");
            goto out;
        }
        if ((rc = vouch__dcap_quote_parse(p, len, q)) != VOUCH_OK) {
            vouch__result_fail(res, rc, "DCAP quote does not parse: %s", vouch_strerror(rc));
            goto out;
        }
        rc = vouch__dcap_verify(p, len, q, opts, res);
    }
out:
    /* One exit, one rule: OK exactly when every check passed. */
    if (rc == VOUCH_OK && (!res->verified || res->error != VOUCH_OK || res->collateral_expired))
        rc = res->error != VOUCH_OK ? res->error : VOUCH_ERR_VERIFY;
    if (rc != VOUCH_OK) {
        res->verified = false;
        if (res->error == VOUCH_OK)
            vouch__result_fail(res, rc, "%s", vouch_strerror(rc));
    }
    vouch_free(q);
    vouch_free(snp);
    return rc;
}

vouch_err vouch_verify_result_json(const struct vouch_verify_result *r, json_t **out)
{
    json_t *o = NULL, *adv = NULL;
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    if (!(o = json_object()) || !(adv = json_array()))
        goto out;
    for (size_t i = 0; i < r->n_advisories; i++) {
        if (json_array_append_new(adv, json_string(r->advisories[i])) != 0)
            goto out;
    }
    if (json_object_set_new(o, "format", json_string(vouch_evidence_format_name(r->format))) ||
        json_object_set_new(o, "verified", json_boolean(r->verified)) ||
        json_object_set_new(o, "status", json_string(vouch_tcb_status_name(r->status))) ||
        json_object_set(o, "advisories", adv) ||
        json_object_set_new(o, "collateral_expired", json_boolean(r->collateral_expired)) ||
        json_object_set_new(o, "claims", r->claims ? json_deep_copy(r->claims) : json_object()))
        goto out;
    if (r->collateral_expired && r->expired_item[0] &&
        json_object_set_new(o, "expired_item", json_string(r->expired_item)))
        goto out;
    if (!r->verified) {
        if (json_object_set_new(
                o, "error", json_string(r->error_detail[0] ? r->error_detail : "not verified")) ||
            json_object_set_new(o, "error_code", json_string(vouch_err_name(r->error))))
            goto out;
    }
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    json_decref(adv);
    json_decref(o);
    return rc;
}
