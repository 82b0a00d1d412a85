/*
 * POST /attest/{type}: decode the MAA request, verify the evidence, check the
 * runtime/init-time data bindings, run the policy over the claims, and sign
 * the token. The order is cheapest rejection first: request shape, then
 * bindings would need verified evidence, so verification comes before them;
 * the policy sees only verified claims.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/log.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

/* Outcome codes for metrics. */
enum { OUTCOME_OK = 0, OUTCOME_DENIED = 1, OUTCOME_INVALID = 2 };

struct runtime_data {
    uint8_t *bytes;
    size_t len;
    bool present;
    bool is_json;
    json_t *json; /* parsed when is_json */
};

static void runtime_data_free(struct runtime_data *r)
{
    vouch_free(r->bytes);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* MAA sends base64url without padding; padded and standard base64 also occur
 * in hand-written clients. Anything else is an error. Request fields are
 * evidence and client data, never secrets, so the table-driven decoder serves:
 * the constant-time one cost ~4% of the service's CPU per attest on a quote. */
static vouch_err b64_any(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
    vouch_err rc = vouch_base64_decode_public(s, len, true, out, out_len);
    if (rc == VOUCH_ERR_PARSE)
        rc = vouch_base64_decode_public(s, len, false, out, out_len);
    return rc;
}

static bool get_b64_field(const json_t *body, const char *name, uint8_t **out, size_t *len,
                          struct vouch_http_response *res)
{
    const char *s;
    size_t slen;
    vouch_err rc = vouch_json_str(body, name, &s, &slen);

    *out = NULL;
    *len = 0;
    if (rc != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "'%s' must be a base64url string", name);
        return false;
    }
    if ((rc = b64_any(s, slen, out, len)) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "'%s' is not valid base64url", name);
        return false;
    }
    return true;
}

static bool get_runtime_data(const json_t *body, const char *name, struct runtime_data *rd,
                             struct vouch_http_response *res)
{
    json_t *o = json_object_get(body, name);
    const char *type;
    size_t tlen;

    memset(rd, 0, sizeof(*rd));
    if (!o || json_is_null(o))
        return true;
    if (!json_is_object(o)) {
        attestd_error(res, 400, "InvalidParameter", "'%s' must be an object", name);
        return false;
    }
    if (!get_b64_field(o, "data", &rd->bytes, &rd->len, res))
        return false;
    rd->present = true;
    if (vouch_json_str(o, "dataType", &type, &tlen) == VOUCH_OK) {
        if (tlen == 4 && memcmp(type, "JSON", 4) == 0) {
            rd->is_json = true;
        } else if (!(tlen == 6 && memcmp(type, "Binary", 6) == 0)) {
            attestd_error(res, 400, "InvalidParameter", "'%s.dataType' must be Binary or JSON",
                          name);
            return false;
        }
    } else if (json_object_get(o, "dataType")) {
        attestd_error(res, 400, "InvalidParameter", "'%s.dataType' must be a string", name);
        return false;
    }
    if (rd->is_json &&
        vouch_json_parse((const char *)rd->bytes, rd->len, &rd->json, NULL, 0) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "'%s.data' is not valid JSON", name);
        return false;
    }
    return true;
}

/* Binds data to a field of the evidence: the hash of the data must equal
 * the first hash-length bytes of the field (the rest is not checked, as MAA). */
static bool check_binding(const struct runtime_data *rd, enum vouch_hash_alg alg,
                          const json_t *claims, const char *claim, const char *what,
                          struct vouch_http_response *res)
{
    const char *hex;
    size_t hexlen;
    vouch_err rc;

    if (!rd->present)
        return true;
    if (vouch_json_str(claims, claim, &hex, &hexlen) != VOUCH_OK)
        rc = VOUCH_ERR_PARSE;
    else
        rc = attestd_binding_check(rd->bytes, rd->len, alg, hex, hexlen);
    if (rc == VOUCH_ERR_MISMATCH) {
        attestd_error(res, 400, "InvalidParameter",
                      "SuppliedRuntimeDataDigest does not match: the hash of %s is not in the "
                      "evidence's %s",
                      what, claim);
        return false;
    }
    if (rc != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "cannot check the %s binding", what);
        return false;
    }
    return true;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v));
}

static int copy_claim(json_t *dst, const char *dk, const json_t *src, const char *sk)
{
    json_t *v = json_object_get(src, sk);
    return v ? json_object_set(dst, dk, v) : 0;
}

/* The MAA claim names for each evidence type, from the verifier's claims. */
static vouch_err evidence_claims(enum attestd_type type, const struct vouch_verify_result *vr,
                                 json_t *out)
{
    const json_t *c = vr->claims;
    int bad = 0;

    switch (type) {
    case ATTESTD_SGX_ENCLAVE:
    case ATTESTD_OPEN_ENCLAVE:
        bad |= set_str(out, "x-ms-attestation-type", "sgx");
        bad |= copy_claim(out, "x-ms-sgx-is-debuggable", c, "debug");
        bad |= copy_claim(out, "x-ms-sgx-mrenclave", c, "mrenclave");
        bad |= copy_claim(out, "x-ms-sgx-mrsigner", c, "mrsigner");
        bad |= copy_claim(out, "x-ms-sgx-product-id", c, "isvprodid");
        bad |= copy_claim(out, "x-ms-sgx-svn", c, "isvsvn");
        bad |= copy_claim(out, "x-ms-sgx-report-data", c, "report_data");
        bad |= copy_claim(out, "x-ms-sgx-config-id", c, "configid");
        bad |= copy_claim(out, "x-ms-sgx-config-svn", c, "configsvn");
        bad |= copy_claim(out, "x-ms-sgx-isv-extended-product-id", c, "isvextprodid");
        bad |= copy_claim(out, "x-ms-sgx-isv-family-id", c, "isvfamilyid");
        break;
    case ATTESTD_TDX_VM:
        bad |= set_str(out, "x-ms-attestation-type", "tdxvm");
        bad |= set_str(out, "eat_profile", "https://aka.ms/maa-eat-profile-tdxvm");
        bad |= copy_claim(out, "tdx_mrtd", c, "mr_td");
        bad |= copy_claim(out, "tdx_mrconfigid", c, "mr_config_id");
        bad |= copy_claim(out, "tdx_mrowner", c, "mr_owner");
        bad |= copy_claim(out, "tdx_mrownerconfig", c, "mr_owner_config");
        bad |= copy_claim(out, "tdx_mrseam", c, "mr_seam");
        bad |= copy_claim(out, "tdx_mrsignerseam", c, "mr_signer_seam");
        bad |= copy_claim(out, "tdx_rtmr0", c, "rtmr0");
        bad |= copy_claim(out, "tdx_rtmr1", c, "rtmr1");
        bad |= copy_claim(out, "tdx_rtmr2", c, "rtmr2");
        bad |= copy_claim(out, "tdx_rtmr3", c, "rtmr3");
        bad |= copy_claim(out, "tdx_report_data", c, "report_data");
        bad |= copy_claim(out, "tdx_tee_tcb_svn", c, "tee_tcb_svn");
        bad |= copy_claim(out, "tdx_xfam", c, "xfam");
        bad |= copy_claim(out, "tdx_td_attributes", c, "td_attributes");
        bad |= copy_claim(out, "tdx_td_attributes_debug", c, "debug");
        bad |= copy_claim(out, "tdx_mrservicetd", c, "mr_servicetd");
        bad |= json_object_set_new(out, "dbgstat",
                                   json_string(json_is_true(json_object_get(c, "debug"))
                                                   ? "enabled"
                                                   : "disabled-since-boot"));
        break;
    case ATTESTD_SEV_SNP_VM:
        bad |= set_str(out, "x-ms-attestation-type", "sevsnpvm");
        bad |= copy_claim(out, "x-ms-sevsnpvm-is-debuggable", c, "debug");
        bad |= copy_claim(out, "x-ms-sevsnpvm-launchmeasurement", c, "measurement");
        bad |= copy_claim(out, "x-ms-sevsnpvm-hostdata", c, "host_data");
        bad |= copy_claim(out, "x-ms-sevsnpvm-reportdata", c, "report_data");
        bad |= copy_claim(out, "x-ms-sevsnpvm-reportid", c, "report_id");
        bad |= copy_claim(out, "x-ms-sevsnpvm-idkeydigest", c, "id_key_digest");
        bad |= copy_claim(out, "x-ms-sevsnpvm-authorkeydigest", c, "author_key_digest");
        bad |= copy_claim(out, "x-ms-sevsnpvm-familyId", c, "family_id");
        bad |= copy_claim(out, "x-ms-sevsnpvm-imageId", c, "image_id");
        bad |= copy_claim(out, "x-ms-sevsnpvm-guestsvn", c, "guest_svn");
        bad |= copy_claim(out, "x-ms-sevsnpvm-vmpl", c, "vmpl");
        bad |= copy_claim(out, "x-ms-sevsnpvm-bootloader-svn", c, "reported_tcb_bl");
        bad |= copy_claim(out, "x-ms-sevsnpvm-tee-svn", c, "reported_tcb_tee");
        bad |= copy_claim(out, "x-ms-sevsnpvm-snpfw-svn", c, "reported_tcb_snp");
        bad |= copy_claim(out, "x-ms-sevsnpvm-microcode-svn", c, "reported_tcb_ucode");
        bad |= copy_claim(out, "x-ms-sevsnpvm-smt-allowed", c, "policy_smt");
        bad |= copy_claim(out, "x-ms-sevsnpvm-migration-allowed", c, "policy_migrate_ma");
        bad |= copy_claim(out, "x-ms-sevsnpvm-chipid", c, "chip_id");
        break;
    case ATTESTD_SIM_ENCLAVE:
        /* SGX-style names so SGX policies read naturally; software enclaves
         * are never production-grade, so they are always debuggable. */
        bad |= set_str(out, "x-ms-attestation-type", "sim");
        bad |= json_object_set_new(out, "x-ms-sgx-is-debuggable", json_true());
        bad |= copy_claim(out, "x-ms-sgx-mrenclave", c, "mrenclave");
        bad |= copy_claim(out, "x-ms-sgx-mrsigner", c, "mrsigner");
        bad |= copy_claim(out, "x-ms-sgx-product-id", c, "product_id");
        bad |= copy_claim(out, "x-ms-sgx-svn", c, "svn");
        bad |= copy_claim(out, "x-ms-sgx-report-data", c, "report_data");
        bad |= copy_claim(out, "x-ms-sim-debug-flag", c, "debug");
        bad |= copy_claim(out, "x-ms-sim-timestamp", c, "timestamp");
        break;
    default:
        return VOUCH_ERR_UNSUPPORTED;
    }
    if (vr->format != VOUCH_EVIDENCE_SNP && vr->format != VOUCH_EVIDENCE_SIM) {
        json_t *adv = json_array();
        for (size_t i = 0; adv && i < vr->n_advisories; i++)
            bad |= json_array_append_new(adv, json_string(vr->advisories[i]));
        bad |= json_object_set_new(out, "attester_tcb_status",
                                   json_string(vouch_tcb_status_name(vr->status)));
        bad |= json_object_set_new(out, "attester_advisory_ids", adv ? adv : json_array());
        bad |= copy_claim(out, "x-ms-sgx-fmspc", c, "fmspc");
    }
    return bad ? VOUCH_ERR_NOMEM : VOUCH_OK;
}

/* Evidence claims become policy input with issuer AttestationService. Object
 * and array values (advisory lists) go in as JSON text, as MAA 1.2 does. */
static vouch_err policy_input(const json_t *ev, struct vouch_claims **out)
{
    struct vouch_claims *c = NULL;
    vouch_err rc;

    *out = NULL;
    if ((rc = vouch_claims_new(&c)) != VOUCH_OK)
        return rc;
    if ((rc = vouch_claims_add_json_object(c, VOUCH_ISSUER_ATTESTATION_SERVICE, ev)) != VOUCH_OK) {
        vouch_claims_free(c);
        return rc;
    }
    *out = c;
    return VOUCH_OK;
}

static void set_ehd(json_t *tok, const char *ehd_name, const char *json_name,
                    const struct runtime_data *rd, int *bad)
{
    char *b64;
    if (!rd->present)
        return;
    if (rd->is_json) {
        *bad |= json_object_set(tok, json_name, rd->json);
        return;
    }
    if (!ehd_name)
        return;
    b64 = vouch_malloc(vouch_base64_encoded_len(rd->len, true) + 1);
    if (!b64) {
        *bad = 1;
        return;
    }
    vouch_base64_encode(rd->bytes, rd->len, true, b64);
    *bad |= json_object_set_new(tok, ehd_name, json_string(b64));
    if (strcmp(ehd_name, "x-ms-sgx-ehd") == 0) {
        /* Legacy names that MAA still emits. */
        *bad |= json_object_set_new(tok, "maa-ehd", json_string(b64));
        *bad |= json_object_set_new(tok, "aas-ehd", json_string(b64));
    }
    vouch_free(b64);
}

/* Splits an SEV-SNP "report" (b64url of {"SnpReport": b64url, "VcekCertChain": b64url PEM}). */
static bool snp_unwrap(const uint8_t *blob, size_t len, uint8_t **report, size_t *rlen,
                       uint8_t **chain, size_t *clen, struct vouch_http_response *res)
{
    json_t *o = NULL;
    bool ok = false;

    if (vouch_json_parse((const char *)blob, len, &o, NULL, 0) != VOUCH_OK || !json_is_object(o)) {
        attestd_error(res, 400, "InvalidParameter",
                      "'report' must be base64url of {\"SnpReport\",\"VcekCertChain\"}");
        goto out;
    }
    if (!get_b64_field(o, "SnpReport", report, rlen, res) ||
        !get_b64_field(o, "VcekCertChain", chain, clen, res))
        goto out;
    ok = true;
out:
    json_decref(o);
    return ok;
}

/* Open Enclave remote reports: a 16-byte header {u32 version 1, u32 type 2,
 * u64 size} before the SGX quote. */
static bool oe_unwrap(const uint8_t *p, size_t len, const uint8_t **quote, size_t *qlen,
                      struct vouch_http_response *res)
{
    struct vouch_reader r;
    uint32_t version = 0, type = 0;
    uint64_t size = 0;

    vouch_reader_init(&r, p, len);
    if (vouch_reader_u32le(&r, &version) != VOUCH_OK || vouch_reader_u32le(&r, &type) != VOUCH_OK ||
        vouch_reader_u64le(&r, &size) != VOUCH_OK || version != 1 || type != 2 ||
        size != vouch_reader_left(&r)) {
        attestd_error(res, 400, "InvalidParameter",
                      "'report' is not an Open Enclave remote report (header 1, 2, size)");
        return false;
    }
    *quote = p + 16;
    *qlen = (size_t)size;
    return true;
}

static void record(struct attestd *d, enum attestd_type t, int outcome, struct timespec *t0)
{
    struct timespec t1;
    int64_t us;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
    attestd_metrics_attest(d, t, outcome, us);
}

void attestd_attest(struct attestd *d, enum attestd_type type, const struct vouch_http_request *req,
                    struct vouch_http_response *res, char *note)
{
    struct timespec t0;
    json_t *body = NULL, *ev = NULL, *tok = NULL, *policy_obj = NULL;
    struct runtime_data rt = {0}, init = {0};
    uint8_t *evidence = NULL, *snp_report = NULL, *snp_chain = NULL;
    size_t evidence_len = 0, snp_report_len = 0, snp_chain_len = 0;
    const uint8_t *quote;
    size_t quote_len;
    struct vouch_verify_opts vo;
    struct vouch_verify_result vr = {0};
    struct attestd_collateral_use coll = {0};
    struct vouch_claims *in = NULL;
    struct vouch_policy_result pr = {0};
    struct attestd_policy *pol = NULL, *draft = NULL;
    const char *draft_text = NULL, *nonce = NULL;
    size_t draft_len = 0, nonce_len = 0;
    char *token = NULL;
    const char *ev_field, *ev_span = NULL;
    size_t ev_span_len = 0;
    char jerr[160];
    int outcome = OUTCOME_INVALID;
    int bad = 0;
    vouch_err rc;

    if (type == ATTESTD_TPM) {
        /* Multi-round protocol with its own metrics and log note: tpm.c. */
        attestd_attest_tpm(d, req, res, note);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&vo, 0, sizeof(vo));
    if (type == ATTESTD_SIM_ENCLAVE && !d->sim_ca) {
        attestd_error(res, 400, "InvalidParameter",
                      "attestation type %s is not enabled on this service (no --sim-ca)",
                      attestd_type_name(type));
        goto out;
    }
    /* The evidence string bypasses jansson when it can (body.c). */
    ev_field = (type == ATTESTD_OPEN_ENCLAVE || type == ATTESTD_SEV_SNP_VM) ? "report" : "quote";
    if (attestd_body_parse(req->body, req->body_len, ev_field, &body, &ev_span, &ev_span_len, jerr,
                           sizeof(jerr)) != VOUCH_OK ||
        !json_is_object(body)) {
        attestd_error(res, 400, "InvalidParameter", "request body is not a JSON object%s%s",
                      jerr[0] ? ": " : "", jerr);
        goto out;
    }

    /* Evidence field: "quote" (SgxEnclave, TdxVm; legacy "Quote") or "report". */
    {
        const char *field =
            (type == ATTESTD_OPEN_ENCLAVE || type == ATTESTD_SEV_SNP_VM)
                ? "report"
                : (json_object_get(body, "Quote") && !json_object_get(body, "quote") ? "Quote"
                                                                                     : "quote");
        if (ev_span && strcmp(field, ev_field) == 0) {
            if (b64_any(ev_span, ev_span_len, &evidence, &evidence_len) != VOUCH_OK) {
                attestd_error(res, 400, "InvalidParameter", "'%s' is not valid base64url", field);
                goto out;
            }
        } else if (!get_b64_field(body, field, &evidence, &evidence_len, res)) {
            goto out;
        }
    }
    quote = evidence;
    quote_len = evidence_len;
    if (type == ATTESTD_OPEN_ENCLAVE && !oe_unwrap(evidence, evidence_len, &quote, &quote_len, res))
        goto out;
    if (type == ATTESTD_SEV_SNP_VM) {
        if (!snp_unwrap(evidence, evidence_len, &snp_report, &snp_report_len, &snp_chain,
                        &snp_chain_len, res))
            goto out;
        quote = snp_report;
        quote_len = snp_report_len;
        vo.vcek = snp_chain;
        vo.vcek_len = snp_chain_len;
    }
    if (!get_runtime_data(body, "runtimeData", &rt, res) ||
        !get_runtime_data(body, "initTimeData", &init, res))
        goto out;
    if (!rt.present && json_object_get(body, "EnclaveHeldData")) {
        /* Pre-2020 body shape: binary runtime data under another name. */
        if (!get_b64_field(body, "EnclaveHeldData", &rt.bytes, &rt.len, res))
            goto out;
        rt.present = true;
    }
    if (json_object_get(body, "nonce") &&
        vouch_json_str(body, "nonce", &nonce, &nonce_len) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "'nonce' must be a string");
        goto out;
    }
    if (json_object_get(body, "draftPolicyForAttestation") &&
        vouch_json_str(body, "draftPolicyForAttestation", &draft_text, &draft_len) != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "'draftPolicyForAttestation' must be a string");
        goto out;
    }

    /* Verify. DCAP needs collateral for the quote's platform. */
    vo.now = attestd_now(d);
    vo.sim_ca = d->sim_ca;
    vo.sim_ca_len = d->sim_ca_len;
    if (type != ATTESTD_SEV_SNP_VM && type != ATTESTD_SIM_ENCLAVE) {
        struct vouch_dcap_platform plat;
        enum vouch_evidence_format want =
            type == ATTESTD_TDX_VM ? VOUCH_EVIDENCE_TDX : VOUCH_EVIDENCE_SGX;
        char why[400];
        if (vouch_evidence_dcap_platform(quote, quote_len, &plat) != VOUCH_OK) {
            attestd_error(res, 400, "InvalidParameter", "The specified quote was invalid: %s",
                          "it does not parse as a DCAP quote with a PCK certificate chain");
            goto out;
        }
        if (plat.tee != want) {
            attestd_error(res, 400, "InvalidParameter", "the quote is %s evidence, not %s",
                          vouch_evidence_format_name(plat.tee), attestd_type_name(type));
            goto out;
        }
        rc = attestd_collateral_acquire(d, &plat, &coll, why, sizeof(why));
        if (rc != VOUCH_OK && coll.retry_after_s) {
            /* A PCS fetch for this platform is still running (pcs.c). */
            char ra[16];
            snprintf(ra, sizeof(ra), "%u", coll.retry_after_s);
            attestd_error(res, 503, "ServiceUnavailable", "%s", why);
            if (vouch_http_response_header(res, "retry-after", ra) != VOUCH_OK)
                vouch_log_warn("cannot add the retry-after header");
            goto out;
        }
        if (rc != VOUCH_OK) {
            attestd_error(res, 400, "InvalidParameter",
                          "The specified quote was invalid due to an error in the quote "
                          "collateral: %s",
                          why);
            goto out;
        }
        vo.collateral_obj = coll.coll;
    }
    rc = vouch_evidence_verify(quote, quote_len, &vo, &vr);
    if (rc != VOUCH_OK) {
        attestd_error(res, 400, "InvalidParameter", "The specified quote was invalid: %s",
                      vr.error_detail[0] ? vr.error_detail : vouch_strerror(rc));
        goto out;
    }
    if ((type == ATTESTD_SEV_SNP_VM) != (vr.format == VOUCH_EVIDENCE_SNP) ||
        (type == ATTESTD_SIM_ENCLAVE) != (vr.format == VOUCH_EVIDENCE_SIM)) {
        attestd_error(res, 400, "InvalidParameter", "the evidence is %s, not %s",
                      vouch_evidence_format_name(vr.format), attestd_type_name(type));
        goto out;
    }
    if (vr.status == VOUCH_TCB_REVOKED || vr.status == VOUCH_TCB_NOT_SUPPORTED) {
        attestd_error(res, 400, "InvalidParameter",
                      "The specified quote does not meet the baseline requirements: TCB %s",
                      vouch_tcb_status_name(vr.status));
        goto out;
    }

    /* Bindings: runtime data to report data, init-time data to the
     * configuration field (SHA-384 for TDX's 48-byte MRCONFIGID). */
    if (vr.format == VOUCH_EVIDENCE_SIM && init.present) {
        /* A sim report has no launch-time configuration field to bind to. */
        attestd_error(res, 400, "InvalidParameter",
                      "initTimeData is not supported for SimEnclave; use runtimeData");
        goto out;
    }
    {
        const char *rd_claim = "report_data";
        const char *init_claim = vr.format == VOUCH_EVIDENCE_SGX   ? "configid"
                                 : vr.format == VOUCH_EVIDENCE_TDX ? "mr_config_id"
                                                                   : "host_data";
        enum vouch_hash_alg init_alg =
            vr.format == VOUCH_EVIDENCE_TDX ? VOUCH_HASH_SHA384 : VOUCH_HASH_SHA256;
        if (!check_binding(&rt, VOUCH_HASH_SHA256, vr.claims, rd_claim, "runtimeData", res) ||
            !check_binding(&init, init_alg, vr.claims, init_claim, "initTimeData", res))
            goto out;
    }

    /* Claims and policy. */
    rc = VOUCH_ERR_NOMEM;
    if (!(ev = json_object()) || evidence_claims(type, &vr, ev) != VOUCH_OK ||
        attestd_collateral_claims(&vr, coll.coll, quote, quote_len, ev) != VOUCH_OK)
        goto oom;
    if (draft_text) {
        struct vouch_policy_error perr;
        if (!d->cfg.allow_draft_policy) {
            attestd_error(res, 400, "InvalidOperation",
                          "draftPolicyForAttestation is disabled on this service");
            goto out;
        }
        if ((rc = attestd_policy_build(draft_text, draft_len, &draft, &perr)) != VOUCH_OK) {
            attestd_error(res, 400, "PolicyParsingError", "line %u column %u: %s", perr.line,
                          perr.column, perr.message);
            goto out;
        }
        pol = draft;
        draft = NULL;
    } else if (!(pol = attestd_policy_get(d, type))) {
        attestd_error(res, 400, "PolicyEvaluationError", "no attestation policy is set for %s",
                      attestd_type_name(type));
        goto out;
    }
    if (policy_input(ev, &in) != VOUCH_OK)
        goto oom;
    rc = vouch_policy_eval(pol->parsed, in, &pr);
    if (rc != VOUCH_OK || pr.decision != VOUCH_POLICY_PERMIT) {
        outcome = OUTCOME_DENIED;
        snprintf(note, ATTESTD_LOG_NOTE_MAX, "type=%s decision=deny rule=%u:%u why='%s'",
                 attestd_type_name(type), pr.rule_line, pr.rule_column, pr.explanation);
        attestd_error(res, 400, "PolicyEvaluationError",
                      "A Deny claim was issued, authorization failed: %s", pr.explanation);
        goto out;
    }

    /* The token: evidence claims, issued claims (top level and x-ms-policy). */
    /* Shallow: the token only gains members; shared values are never changed. */
    if (!(tok = json_copy(ev)) || vouch_claims_to_json(pr.issued, &policy_obj) != VOUCH_OK)
        goto oom;
    {
        const char *k;
        json_t *v;
        json_object_foreach(policy_obj, k, v)
        {
            bad |= json_object_set(tok, k, v);
        }
    }
    bad |= json_object_set(tok, "x-ms-policy", policy_obj);
    bad |= json_object_set_new(tok, "x-ms-policy-hash", json_string(pol->hash));
    if (pol->signer)
        bad |= json_object_set(tok, "x-ms-policy-signer", pol->signer);
    if (nonce)
        bad |= json_object_set_new(tok, "nonce", json_stringn(nonce, nonce_len));
    set_ehd(tok,
            vr.format == VOUCH_EVIDENCE_TDX   ? "x-ms-tdx-ehd"
            : vr.format == VOUCH_EVIDENCE_SNP ? "x-ms-sevsnpvm-ehd"
                                              : "x-ms-sgx-ehd", /* SGX and sim */
            "x-ms-runtime", &rt, &bad);
    set_ehd(tok, NULL, "x-ms-inittime", &init, &bad);
    if (bad)
        goto oom;
    if (pol->is_default == false && draft_text) {
        /* Draft policies get an unsigned token, as MAA does. */
        if (vouch_token_issue_unsigned(tok, attestd_now(d), d->cfg.token_lifetime, &token) !=
            VOUCH_OK)
            goto oom;
    } else if (attestd_issue_token(d, tok, &token) != VOUCH_OK) {
        goto oom;
    }
    attestd_token_response(res, token);
    outcome = OUTCOME_OK;
    snprintf(note, ATTESTD_LOG_NOTE_MAX, "type=%s decision=permit tcb=%s", attestd_type_name(type),
             vouch_tcb_status_name(vr.status));
    goto out;
oom:
    attestd_error(res, 500, "InternalError", "out of memory");
out:
    record(d, type, outcome, &t0);
    if (outcome == OUTCOME_INVALID)
        snprintf(note, ATTESTD_LOG_NOTE_MAX, "type=%s decision=invalid", attestd_type_name(type));
    vouch_free(token);
    json_decref(policy_obj);
    json_decref(tok);
    vouch_policy_result_free(&pr);
    vouch_claims_free(in);
    attestd_policy_unref(pol);
    attestd_policy_unref(draft);
    json_decref(ev);
    vouch_verify_result_free(&vr);
    attestd_collateral_release(&coll);
    runtime_data_free(&rt);
    runtime_data_free(&init);
    vouch_free(evidence);
    vouch_free(snp_report);
    vouch_free(snp_chain);
    json_decref(body);
}
