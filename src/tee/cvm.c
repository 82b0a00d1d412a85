/*
 * Confidential-VM enclave evidence: the binding hash and the envelope around
 * a configfs-tsm report (layout and trust argument in include/vouch/cvm.h).
 */
#include <stdio.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/cvm.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>

_Static_assert(sizeof(VOUCH_CVM_BIND_TAG) - 1u == VOUCH_CVM_BIND_TAG_LEN, "tag length");
_Static_assert(VOUCH_CVM_REPORT_DATA_LEN == VOUCH_SHA512_LEN, "report data is one SHA-512");
_Static_assert(VOUCH_CVM_HEADER_LEN == 8u + 2u + 2u + 4u + 32u + 32u + 2u + 2u + 4u + 64u + 4u + 4u,
               "header layout");

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

vouch_err vouch_cvm_bind(const struct vouch_sim_identity *id,
                         const uint8_t report_data[VOUCH_CVM_REPORT_DATA_LEN],
                         uint8_t out[VOUCH_CVM_REPORT_DATA_LEN])
{
    uint8_t in[VOUCH_CVM_BIND_TAG_LEN + 32 + 32 + 2 + 2 + 1 + VOUCH_CVM_REPORT_DATA_LEN];
    uint8_t *q = in;

    if (!id || !report_data || !out)
        return VOUCH_ERR_INVAL;
    memcpy(q, VOUCH_CVM_BIND_TAG, VOUCH_CVM_BIND_TAG_LEN);
    q += VOUCH_CVM_BIND_TAG_LEN;
    memcpy(q, id->measurement, 32);
    q += 32;
    memcpy(q, id->signer_id, 32);
    q += 32;
    put16(q, id->product_id);
    q += 2;
    put16(q, id->svn);
    q += 2;
    *q++ = id->debug ? (uint8_t)VOUCH_CVM_FLAG_DEBUG : 0u;
    memcpy(q, report_data, VOUCH_CVM_REPORT_DATA_LEN);
    return vouch_hash(VOUCH_HASH_SHA512, in, sizeof(in), out);
}

static bool backend_ok(enum vouch_tee_backend b)
{
    return b == VOUCH_TEE_BACKEND_SNP || b == VOUCH_TEE_BACKEND_TDX;
}

vouch_err vouch_cvm_evidence_build(enum vouch_tee_backend backend,
                                   const struct vouch_sim_identity *id,
                                   const uint8_t report_data[VOUCH_CVM_REPORT_DATA_LEN],
                                   const uint8_t *hw, size_t hw_len, const uint8_t *aux,
                                   size_t aux_len, uint8_t **ev_out, size_t *ev_len_out)
{
    uint8_t *ev, *h;
    size_t total;

    if (!ev_out || !ev_len_out)
        return VOUCH_ERR_INVAL;
    *ev_out = NULL;
    *ev_len_out = 0;
    if (!backend_ok(backend) || !id || !report_data || !hw || hw_len == 0 || (!aux && aux_len))
        return VOUCH_ERR_INVAL;
    if (hw_len > VOUCH_MAX_TSM_BLOB || aux_len > VOUCH_MAX_TSM_BLOB)
        return VOUCH_ERR_TOO_LARGE;
    total = VOUCH_CVM_HEADER_LEN + hw_len + aux_len; /* no overflow: both bounded */
    if (total > VOUCH_MAX_EVIDENCE_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    ev = vouch_calloc(1, total);
    if (!ev)
        return VOUCH_ERR_NOMEM;
    h = ev;
    memcpy(h, VOUCH_CVM_MAGIC, VOUCH_CVM_MAGIC_LEN);
    put16(h + 8, VOUCH_CVM_VERSION);
    put16(h + 10, (uint16_t)backend);
    put32(h + 12, id->debug ? VOUCH_CVM_FLAG_DEBUG : 0u);
    memcpy(h + 16, id->measurement, 32);
    memcpy(h + 48, id->signer_id, 32);
    put16(h + 80, id->product_id);
    put16(h + 82, id->svn);
    /* 84..87 reserved, zero from calloc */
    memcpy(h + 88, report_data, VOUCH_CVM_REPORT_DATA_LEN);
    put32(h + 152, (uint32_t)hw_len);
    put32(h + 156, (uint32_t)aux_len);
    memcpy(ev + VOUCH_CVM_HEADER_LEN, hw, hw_len);
    if (aux_len)
        memcpy(ev + VOUCH_CVM_HEADER_LEN + hw_len, aux, aux_len);
    *ev_out = ev;
    *ev_len_out = total;
    return VOUCH_OK;
}

bool vouch_cvm_evidence_detect(const uint8_t *p, size_t len)
{
    return p && len >= VOUCH_CVM_MAGIC_LEN && memcmp(p, VOUCH_CVM_MAGIC, VOUCH_CVM_MAGIC_LEN) == 0;
}

/* The hardware report's launch measurement, report data and debug flag, from
 * the evidence parser's claims (the same names tsm.c reads). */
static vouch_err hw_claims(const struct vouch_cvm_evidence *ev, uint8_t rd[64],
                           uint8_t meas[VOUCH_CVM_HW_MEASUREMENT_LEN], bool *debug)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    enum vouch_evidence_format fmt = VOUCH_EVIDENCE_UNKNOWN, want;
    json_t *claims = NULL, *dbg;

    want = ev->backend == VOUCH_TEE_BACKEND_SNP ? VOUCH_EVIDENCE_SNP : VOUCH_EVIDENCE_TDX;
    if ((rc = vouch_evidence_inspect(ev->hw, ev->hw_len, &fmt, &claims)) != VOUCH_OK) {
        vouch_log_debug("cvm evidence: hardware evidence does not parse: %s", vouch_err_name(rc));
        goto out;
    }
    if (fmt != want) {
        vouch_log_debug("cvm evidence: backend %s carries %s evidence",
                        vouch_tee_backend_name(ev->backend), vouch_evidence_format_name(fmt));
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    if (vouch_json_hex_fixed(claims, fmt == VOUCH_EVIDENCE_SNP ? "measurement" : "mr_td", meas,
                             VOUCH_CVM_HW_MEASUREMENT_LEN) != VOUCH_OK ||
        vouch_json_hex_fixed(claims, "report_data", rd, 64) != VOUCH_OK) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    dbg = json_object_get(claims, "debug");
    if (!json_is_boolean(dbg)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    *debug = json_is_true(dbg);
    rc = VOUCH_OK;
out:
    json_decref(claims);
    return rc;
}

vouch_err vouch_cvm_evidence_parse(const uint8_t *p, size_t len, struct vouch_cvm_evidence *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_cvm_evidence ev;
    struct vouch_reader r;
    const uint8_t *magic = NULL;
    uint16_t version = 0, backend = 0;
    uint32_t flags = 0, reserved = 0, hw_len = 0, aux_len = 0;
    uint8_t hw_rd[64], want[64];

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    memset(&ev, 0, sizeof(ev));
    if (!p)
        return VOUCH_ERR_INVAL;
    if (len > VOUCH_MAX_EVIDENCE_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    vouch_reader_init(&r, p, len);
    if ((rc = vouch_reader_view(&r, VOUCH_CVM_MAGIC_LEN, &magic)) != VOUCH_OK)
        return rc;
    if (memcmp(magic, VOUCH_CVM_MAGIC, VOUCH_CVM_MAGIC_LEN) != 0)
        return VOUCH_ERR_PARSE;
    if ((rc = vouch_reader_u16le(&r, &version)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(&r, &backend)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &flags)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, ev.id.measurement, 32)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, ev.id.signer_id, 32)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(&r, &ev.id.product_id)) != VOUCH_OK ||
        (rc = vouch_reader_u16le(&r, &ev.id.svn)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &reserved)) != VOUCH_OK ||
        (rc = vouch_reader_copy(&r, ev.report_data, sizeof(ev.report_data))) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &hw_len)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &aux_len)) != VOUCH_OK)
        return rc;
    if (version != VOUCH_CVM_VERSION || !backend_ok((enum vouch_tee_backend)backend))
        return VOUCH_ERR_UNSUPPORTED;
    if ((flags & ~(uint32_t)VOUCH_CVM_FLAG_DEBUG) != 0 || reserved != 0 || hw_len == 0)
        return VOUCH_ERR_PARSE;
    if (hw_len > VOUCH_MAX_TSM_BLOB || aux_len > VOUCH_MAX_TSM_BLOB)
        return VOUCH_ERR_TOO_LARGE;
    ev.backend = (enum vouch_tee_backend)backend;
    ev.id.debug = (flags & VOUCH_CVM_FLAG_DEBUG) != 0;
    ev.hw_len = hw_len;
    ev.aux_len = aux_len;
    if ((rc = vouch_reader_view(&r, hw_len, &ev.hw)) != VOUCH_OK)
        return rc;
    if (aux_len && (rc = vouch_reader_view(&r, aux_len, &ev.aux)) != VOUCH_OK)
        return rc;
    if (vouch_reader_left(&r) != 0)
        return VOUCH_ERR_PARSE;

    if ((rc = hw_claims(&ev, hw_rd, ev.hw_measurement, &ev.hw_debug)) != VOUCH_OK)
        return rc;
    if ((rc = vouch_cvm_bind(&ev.id, ev.report_data, want)) != VOUCH_OK)
        return rc;
    /* The one link between the hardware report and the enclave image. */
    if (!vouch_ct_eq(hw_rd, want, sizeof(want))) {
        vouch_log_debug("cvm evidence: hardware report data does not bind the enclave identity");
        return VOUCH_ERR_MISMATCH;
    }
    *out = ev;
    return VOUCH_OK;
}

vouch_err vouch_cvm_evidence_verify(const uint8_t *p, size_t len,
                                    const struct vouch_verify_opts *opts,
                                    struct vouch_verify_result *res, struct vouch_cvm_evidence *out)
{
    struct vouch_cvm_evidence ev;
    vouch_err rc;

    if (!res)
        return VOUCH_ERR_INVAL;
    memset(res, 0, sizeof(*res));
    res->tcb_eval_number = -1;
    if (out)
        memset(out, 0, sizeof(*out));
    rc = vouch_cvm_evidence_parse(p, len, &ev);
    if (rc != VOUCH_OK) {
        res->error = rc;
        snprintf(res->error_detail, sizeof(res->error_detail), "%s",
                 rc == VOUCH_ERR_MISMATCH
                     ? "CVM enclave evidence: the hardware report does not bind the enclave"
                     : "CVM enclave evidence does not parse");
        return rc;
    }
    rc = vouch_evidence_verify(ev.hw, ev.hw_len, opts, res);
    if (rc != VOUCH_OK)
        return rc;
    if (out)
        *out = ev;
    return VOUCH_OK;
}
