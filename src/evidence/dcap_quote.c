/*
 * Intel DCAP ECDSA quotes, versions 3 (SGX), 4 (SGX or TDX with a TD 1.0
 * report) and 5 (body descriptor: SGX, TD 1.0 or TD 1.5).
 *
 * Parsing follows the up-front rejections of Intel's QVL (Quote::validate):
 * unknown version, key type, TEE type or QE vendor, and certification data
 * types it does not know, are UNSUPPORTED. Every declared length is checked
 * against a named limit and against what is left, and the signature data and
 * the nested certification data must be consumed exactly by what they
 * declare, so a quote has one reading only. Bytes after the signature data
 * are allowed (real quotes come zero-padded) and counted in trailing_len.
 */
#include <string.h>
#include <vouch/buf.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>

#include "evidence/evidence_int.h"

/* v5 body descriptor types. */
#define BODY_SGX  1u
#define BODY_TD10 2u
#define BODY_TD15 3u

#define BODY_DESCRIPTOR_LEN 6u
#define SIG_LEN             64u
#define KEY_LEN             64u

/* Certification data types QVL parses (1..5: PPID variants, PCK leaf, PCK chain). */
#define CERT_TYPE_MIN 1u
#define CERT_TYPE_MAX 5u

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                               0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

static vouch_err parse_sgx_report(struct vouch_reader *r, struct vouch_sgx_report *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader b, whole;

    if ((rc = vouch_reader_sub(r, VOUCH_SGX_REPORT_BODY_LEN, &b)) != VOUCH_OK)
        goto out;
    whole = b;
    if ((rc = vouch_reader_copy(&whole, out->raw, sizeof(out->raw))) != VOUCH_OK)
        goto out;
    /* Reserved areas are skipped, not checked: the signature covers them and
     * QVL does not require them to be zero. */
    if ((rc = vouch_reader_copy(&b, out->cpusvn, sizeof(out->cpusvn))) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&b, &out->miscselect)) != VOUCH_OK ||
        (rc = vouch_reader_skip(&b, 12)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->isvextprodid, sizeof(out->isvextprodid))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->attributes, sizeof(out->attributes))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrenclave, sizeof(out->mrenclave))) != VOUCH_OK ||
        (rc = vouch_reader_skip(&b, 32)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrsigner, sizeof(out->mrsigner))) != VOUCH_OK ||
        (rc = vouch_reader_skip(&b, 32)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->configid, sizeof(out->configid))) != VOUCH_OK ||
        (rc = vouch_reader_u16le(&b, &out->isvprodid)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(&b, &out->isvsvn)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(&b, &out->configsvn)) != VOUCH_OK ||
        (rc = vouch_reader_skip(&b, 42)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->isvfamilyid, sizeof(out->isvfamilyid))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->reportdata, sizeof(out->reportdata))) != VOUCH_OK)
        goto out;
    if (vouch_reader_left(&b) != 0) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err parse_td_report(struct vouch_reader *r, bool td15, struct vouch_td_report *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader b;
    size_t len = td15 ? VOUCH_TD15_REPORT_BODY_LEN : VOUCH_TD10_REPORT_BODY_LEN;

    if ((rc = vouch_reader_sub(r, len, &b)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_reader_copy(&b, out->tee_tcb_svn, sizeof(out->tee_tcb_svn))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrseam, sizeof(out->mrseam))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrsignerseam, sizeof(out->mrsignerseam))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->seamattributes, sizeof(out->seamattributes))) !=
            VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->tdattributes, sizeof(out->tdattributes))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->xfam, sizeof(out->xfam))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrtd, sizeof(out->mrtd))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrconfigid, sizeof(out->mrconfigid))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrowner, sizeof(out->mrowner))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->mrownerconfig, sizeof(out->mrownerconfig))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->rtmr, sizeof(out->rtmr))) != VOUCH_OK ||
        (rc = vouch_reader_copy(&b, out->reportdata, sizeof(out->reportdata))) != VOUCH_OK)
        goto out;
    out->is_td15 = td15;
    if (td15 &&
        ((rc = vouch_reader_copy(&b, out->tee_tcb_svn2, sizeof(out->tee_tcb_svn2))) != VOUCH_OK ||
         (rc = vouch_reader_copy(&b, out->mrservicetd, sizeof(out->mrservicetd))) != VOUCH_OK))
        goto out;
    if (vouch_reader_left(&b) != 0) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

/* A u16-length-prefixed view (QE authentication data). */
static vouch_err get_view16(struct vouch_reader *r, size_t max, const uint8_t **p, size_t *len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint16_t n = 0;

    *p = NULL;
    *len = 0;
    if ((rc = vouch_reader_u16le(r, &n)) != VOUCH_OK)
        goto out;
    if (n > max) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((rc = vouch_reader_view(r, n, p)) != VOUCH_OK)
        goto out;
    *len = n;
    rc = VOUCH_OK;
out:
    return rc;
}

/* A u32 length checked against @p max, then against what is left. */
static vouch_err get_len32(struct vouch_reader *r, size_t max, size_t *len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint32_t n = 0;

    *len = 0;
    if ((rc = vouch_reader_u32le(r, &n)) != VOUCH_OK)
        goto out;
    if (n > max) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (n > vouch_reader_left(r)) {
        rc = VOUCH_ERR_TRUNCATED;
        goto out;
    }
    *len = n;
    rc = VOUCH_OK;
out:
    return rc;
}

/*
 * QE report, its signature, QE authentication data and the (inner)
 * certification data: the tail of v3 signature data and the whole of the v4/v5
 * type-6 envelope. @p r must be consumed exactly.
 */
static vouch_err parse_qe_part(struct vouch_reader *r, struct vouch_dcap_quote *q)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    size_t cert_len = 0;

    if ((rc = parse_sgx_report(r, &q->qe_report)) != VOUCH_OK ||
        (rc = vouch_reader_copy(r, q->qe_report_sig, sizeof(q->qe_report_sig))) != VOUCH_OK ||
        (rc = get_view16(r, VOUCH_MAX_QE_AUTH_DATA_SIZE, &q->qe_auth, &q->qe_auth_len)) !=
            VOUCH_OK ||
        (rc = vouch_reader_u16le(r, &q->cert_type)) != VOUCH_OK)
        goto out;
    if (q->cert_type < CERT_TYPE_MIN || q->cert_type > CERT_TYPE_MAX) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if ((rc = get_len32(r, VOUCH_MAX_CERT_DATA_SIZE, &cert_len)) != VOUCH_OK ||
        (rc = vouch_reader_view(r, cert_len, &q->cert_data)) != VOUCH_OK)
        goto out;
    q->cert_data_len = cert_len;
    /* QVL: the parsed size must equal the declared size. */
    if (vouch_reader_left(r) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err parse_sig_data(struct vouch_reader *r, struct vouch_dcap_quote *q)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader sig, env;
    size_t len = 0;
    uint16_t outer_type = 0;

    if ((rc = get_len32(r, VOUCH_MAX_EVIDENCE_SIZE, &len)) != VOUCH_OK ||
        (rc = vouch_reader_sub(r, len, &sig)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_reader_copy(&sig, q->signature, SIG_LEN)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&sig, q->attest_key, KEY_LEN)) != VOUCH_OK)
        goto out;
    if (q->version == 3) {
        if ((rc = parse_qe_part(&sig, q)) != VOUCH_OK)
            goto out;
    } else {
        /* v4/v5 wrap the QE part in certification data of type 6. */
        if ((rc = vouch_reader_u16le(&sig, &outer_type)) != VOUCH_OK)
            goto out;
        if (outer_type != VOUCH_DCAP_CERT_QE_REPORT) {
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
        if ((rc = get_len32(&sig, VOUCH_MAX_EVIDENCE_SIZE, &len)) != VOUCH_OK ||
            (rc = vouch_reader_sub(&sig, len, &env)) != VOUCH_OK ||
            (rc = parse_qe_part(&env, q)) != VOUCH_OK)
            goto out;
    }
    if (vouch_reader_left(&sig) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err parse_header(struct vouch_reader *r, struct vouch_dcap_quote *q)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if ((rc = vouch_reader_u16le(r, &q->version)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(r, &q->att_key_type)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(r, &q->tee_type)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(r, &q->qe_svn)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(r, &q->pce_svn)) != VOUCH_OK ||
        (rc = vouch_reader_copy(r, q->qe_vendor_id, sizeof(q->qe_vendor_id))) != VOUCH_OK ||
        (rc = vouch_reader_copy(r, q->user_data, sizeof(q->user_data))) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_UNSUPPORTED;
    if (q->version < 3 || q->version > 5)
        goto out;
    if (q->att_key_type != VOUCH_DCAP_ATT_KEY_ECDSA_P256)
        goto out;
    if (q->tee_type != VOUCH_DCAP_TEE_SGX && q->tee_type != VOUCH_DCAP_TEE_TDX)
        goto out;
    if (!vouch_ct_eq(q->qe_vendor_id, intel_qe_vendor_id, sizeof(intel_qe_vendor_id)))
        goto out;
    /* v3 predates TDX: its TEE field is SGX's att_key_data_0. */
    if (q->version == 3 && q->tee_type != VOUCH_DCAP_TEE_SGX)
        goto out;
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err parse_body(struct vouch_reader *r, struct vouch_dcap_quote *q)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    bool sgx = q->tee_type == VOUCH_DCAP_TEE_SGX;
    uint32_t body_size = 0;
    size_t want = 0;

    if (q->version == 5) {
        if ((rc = vouch_reader_u16le(r, &q->body_type)) != VOUCH_OK ||
            (rc = vouch_reader_u32le(r, &body_size)) != VOUCH_OK)
            goto out;
        switch (q->body_type) {
        case BODY_SGX:
            want = VOUCH_SGX_REPORT_BODY_LEN;
            break;
        case BODY_TD10:
            want = VOUCH_TD10_REPORT_BODY_LEN;
            break;
        case BODY_TD15:
            want = VOUCH_TD15_REPORT_BODY_LEN;
            break;
        default:
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
        /* The descriptor must agree with itself and with the header. */
        if (body_size != want || sgx != (q->body_type == BODY_SGX)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        q->signed_len = VOUCH_DCAP_HEADER_LEN + BODY_DESCRIPTOR_LEN + want;
    } else {
        /* v3 is SGX only (checked with the header); v4 carries SGX or TD 1.0. */
        q->body_type = sgx ? BODY_SGX : BODY_TD10;
        want = sgx ? VOUCH_SGX_REPORT_BODY_LEN : VOUCH_TD10_REPORT_BODY_LEN;
        q->signed_len = VOUCH_DCAP_HEADER_LEN + want;
    }
    if (q->body_type == BODY_SGX)
        rc = parse_sgx_report(r, &q->sgx);
    else
        rc = parse_td_report(r, q->body_type == BODY_TD15, &q->td);
    if (rc != VOUCH_OK)
        goto out;
    if (vouch_reader_offset(r) != q->signed_len) {
        rc = VOUCH_ERR_INTERNAL;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

vouch_err vouch__dcap_quote_parse(const uint8_t *p, size_t len, struct vouch_dcap_quote *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r;

    if (out == NULL) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    memset(out, 0, sizeof(*out));
    if (p == NULL && len != 0) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (len > VOUCH_MAX_EVIDENCE_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    vouch_reader_init(&r, p, len);
    if ((rc = parse_header(&r, out)) != VOUCH_OK || (rc = parse_body(&r, out)) != VOUCH_OK ||
        (rc = parse_sig_data(&r, out)) != VOUCH_OK)
        goto out;
    out->quote_len = vouch_reader_offset(&r);
    out->trailing_len = len - out->quote_len;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK && out != NULL)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- claims ---- */

static vouch_err set_int(json_t *o, const char *key, json_int_t v)
{
    return json_object_set_new(o, key, json_integer(v)) == 0 ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

static vouch_err set_str(json_t *o, const char *key, const char *v)
{
    return json_object_set_new(o, key, json_string(v)) == 0 ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

static vouch_err set_bool(json_t *o, const char *key, bool v)
{
    return json_object_set_new(o, key, json_boolean(v)) == 0 ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

#define HEX(o, key, field) vouch_json_set_hex((o), (key), (field), sizeof(field))

static vouch_err sgx_claims(const struct vouch_sgx_report *s, json_t *c)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    /* ATTRIBUTES.FLAGS bit 1 is DEBUG. */
    bool debug = (s->attributes[0] & 0x02u) != 0;

    if ((rc = HEX(c, "cpusvn", s->cpusvn)) != VOUCH_OK ||
        (rc = set_int(c, "miscselect", s->miscselect)) != VOUCH_OK ||
        (rc = HEX(c, "isvextprodid", s->isvextprodid)) != VOUCH_OK ||
        (rc = HEX(c, "attributes", s->attributes)) != VOUCH_OK ||
        (rc = set_bool(c, "debug", debug)) != VOUCH_OK ||
        (rc = HEX(c, "mrenclave", s->mrenclave)) != VOUCH_OK ||
        (rc = HEX(c, "mrsigner", s->mrsigner)) != VOUCH_OK ||
        (rc = HEX(c, "configid", s->configid)) != VOUCH_OK ||
        (rc = set_int(c, "isvprodid", s->isvprodid)) != VOUCH_OK ||
        (rc = set_int(c, "isvsvn", s->isvsvn)) != VOUCH_OK ||
        (rc = set_int(c, "configsvn", s->configsvn)) != VOUCH_OK ||
        (rc = HEX(c, "isvfamilyid", s->isvfamilyid)) != VOUCH_OK ||
        (rc = HEX(c, "report_data", s->reportdata)) != VOUCH_OK)
        goto out;
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err td_claims(const struct vouch_td_report *t, json_t *c)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    /* TDATTRIBUTES bit 0 is DEBUG. */
    bool debug = (t->tdattributes[0] & 0x01u) != 0;
    static const char *const rtmr_names[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};

    if ((rc = HEX(c, "tee_tcb_svn", t->tee_tcb_svn)) != VOUCH_OK ||
        (rc = HEX(c, "mr_seam", t->mrseam)) != VOUCH_OK ||
        (rc = HEX(c, "mr_signer_seam", t->mrsignerseam)) != VOUCH_OK ||
        (rc = HEX(c, "seam_attributes", t->seamattributes)) != VOUCH_OK ||
        (rc = HEX(c, "td_attributes", t->tdattributes)) != VOUCH_OK ||
        (rc = set_bool(c, "debug", debug)) != VOUCH_OK ||
        (rc = HEX(c, "xfam", t->xfam)) != VOUCH_OK || (rc = HEX(c, "mr_td", t->mrtd)) != VOUCH_OK ||
        (rc = HEX(c, "mr_config_id", t->mrconfigid)) != VOUCH_OK ||
        (rc = HEX(c, "mr_owner", t->mrowner)) != VOUCH_OK ||
        (rc = HEX(c, "mr_owner_config", t->mrownerconfig)) != VOUCH_OK ||
        (rc = HEX(c, "report_data", t->reportdata)) != VOUCH_OK)
        goto out;
    for (size_t i = 0; i < 4; i++) {
        if ((rc = HEX(c, rtmr_names[i], t->rtmr[i])) != VOUCH_OK)
            goto out;
    }
    if (t->is_td15 && ((rc = HEX(c, "tee_tcb_svn2", t->tee_tcb_svn2)) != VOUCH_OK ||
                       (rc = HEX(c, "mr_servicetd", t->mrservicetd)) != VOUCH_OK))
        goto out;
    rc = VOUCH_OK;
out:
    return rc;
}

vouch_err vouch__dcap_quote_claims(const struct vouch_dcap_quote *q, json_t *claims)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    bool sgx;

    if (q == NULL || !json_is_object(claims)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    sgx = q->tee_type == VOUCH_DCAP_TEE_SGX;
    if ((rc = set_int(claims, "version", q->version)) != VOUCH_OK ||
        (rc = set_str(claims, "tee", sgx ? "sgx" : "tdx")) != VOUCH_OK ||
        (rc = set_int(claims, "att_key_type", q->att_key_type)) != VOUCH_OK ||
        (rc = set_int(claims, "body_type", q->body_type)) != VOUCH_OK ||
        (rc = set_int(claims, "qe_svn", q->qe_svn)) != VOUCH_OK ||
        (rc = set_int(claims, "pce_svn", q->pce_svn)) != VOUCH_OK ||
        (rc = HEX(claims, "qe_vendor_id", q->qe_vendor_id)) != VOUCH_OK ||
        (rc = HEX(claims, "user_data", q->user_data)) != VOUCH_OK)
        goto out;
    rc = sgx ? sgx_claims(&q->sgx, claims) : td_claims(&q->td, claims);
out:
    return rc;
}
