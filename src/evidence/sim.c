/*
 * Sim evidence (include/vouch/sim.h): strict parsing and verification.
 */
#include <stdio.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/encoding.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/sim.h>

#include "evidence/sim_int.h"

const char *vouch_tee_backend_name(enum vouch_tee_backend b)
{
    switch (b) {
    case VOUCH_TEE_BACKEND_SIM:
        return "sim";
    case VOUCH_TEE_BACKEND_SNP:
        return "snp";
    case VOUCH_TEE_BACKEND_TDX:
        return "tdx";
    }
    return "unknown";
}

bool vouch_sim_evidence_detect(const uint8_t *p, size_t len)
{
    return p && len >= VOUCH_SIM_MAGIC_LEN && memcmp(p, VOUCH_SIM_MAGIC, VOUCH_SIM_MAGIC_LEN) == 0;
}

/* The parts of the evidence, borrowed from the input. */
struct sim_parts {
    struct vouch_sim_report report;
    const uint8_t *signed_bytes; /* the VOUCH_SIM_REPORT_LEN report bytes */
    const uint8_t *sig;
    const uint8_t *leaf;
    size_t leaf_len;
    const uint8_t *ca;
    size_t ca_len;
};

static vouch_err parse_parts(const uint8_t *p, size_t len, struct sim_parts *o, char *why,
                             size_t why_cap)
{
    struct vouch_reader r;
    uint16_t version = 0, backend = 0, leaf_len = 0, ca_len = 0;
    uint32_t flags = 0, reserved = 0;
    uint64_t ts = 0;
    const uint8_t *magic = NULL;

    memset(o, 0, sizeof(*o));
    if (!p) {
        snprintf(why, why_cap, "no evidence");
        return VOUCH_ERR_INVAL;
    }
    if (len > VOUCH_MAX_EVIDENCE_SIZE) {
        snprintf(why, why_cap, "evidence is larger than %u bytes", VOUCH_MAX_EVIDENCE_SIZE);
        return VOUCH_ERR_TOO_LARGE;
    }
    vouch_reader_init(&r, p, len);
    if (vouch_reader_view(&r, VOUCH_SIM_MAGIC_LEN, &magic) != VOUCH_OK ||
        memcmp(magic, VOUCH_SIM_MAGIC, VOUCH_SIM_MAGIC_LEN) != 0) {
        snprintf(why, why_cap, "not sim evidence (magic)");
        return len < VOUCH_SIM_MAGIC_LEN ? VOUCH_ERR_TRUNCATED : VOUCH_ERR_PARSE;
    }
    if (vouch_reader_u16le(&r, &version) != VOUCH_OK ||
        vouch_reader_u16le(&r, &backend) != VOUCH_OK ||
        vouch_reader_u32le(&r, &flags) != VOUCH_OK ||
        vouch_reader_copy(&r, o->report.id.measurement, 32) != VOUCH_OK ||
        vouch_reader_copy(&r, o->report.id.signer_id, 32) != VOUCH_OK ||
        vouch_reader_u16le(&r, &o->report.id.product_id) != VOUCH_OK ||
        vouch_reader_u16le(&r, &o->report.id.svn) != VOUCH_OK ||
        vouch_reader_u32le(&r, &reserved) != VOUCH_OK || vouch_reader_u64le(&r, &ts) != VOUCH_OK ||
        vouch_reader_copy(&r, o->report.report_data, VOUCH_SIM_REPORT_DATA_LEN) != VOUCH_OK ||
        vouch_reader_view(&r, VOUCH_SIM_SIG_LEN, &o->sig) != VOUCH_OK ||
        vouch_reader_u16le(&r, &leaf_len) != VOUCH_OK ||
        vouch_reader_view(&r, leaf_len, &o->leaf) != VOUCH_OK ||
        vouch_reader_u16le(&r, &ca_len) != VOUCH_OK ||
        vouch_reader_view(&r, ca_len, &o->ca) != VOUCH_OK) {
        snprintf(why, why_cap, "evidence is truncated");
        memset(o, 0, sizeof(*o));
        return VOUCH_ERR_TRUNCATED;
    }
    if (vouch_reader_left(&r) != 0) {
        snprintf(why, why_cap, "%zu trailing bytes after the evidence", vouch_reader_left(&r));
        memset(o, 0, sizeof(*o));
        return VOUCH_ERR_PARSE;
    }
    if (version != VOUCH_SIM_REPORT_VERSION) {
        snprintf(why, why_cap, "report version %u is not supported", version);
        memset(o, 0, sizeof(*o));
        return VOUCH_ERR_UNSUPPORTED;
    }
    /* A software platform signs only software reports: a sim report that
     * claims a hardware backend is a lie, not a variant. */
    if (backend != VOUCH_TEE_BACKEND_SIM) {
        snprintf(why, why_cap, "backend %u is not sim", backend);
        memset(o, 0, sizeof(*o));
        return VOUCH_ERR_UNSUPPORTED;
    }
    if ((flags & ~VOUCH_SIM_FLAG_DEBUG) != 0 || reserved != 0) {
        snprintf(why, why_cap, "unknown flags 0x%x or non-zero reserved field", flags);
        memset(o, 0, sizeof(*o));
        return VOUCH_ERR_PARSE;
    }
    if (leaf_len == 0 || ca_len == 0 || leaf_len > VOUCH_MAX_CERT_SIZE ||
        ca_len > VOUCH_MAX_CERT_SIZE) {
        snprintf(why, why_cap, "certificate length out of range");
        memset(o, 0, sizeof(*o));
        return VOUCH_ERR_PARSE;
    }
    o->report.version = version;
    o->report.backend = VOUCH_TEE_BACKEND_SIM;
    o->report.flags = flags;
    o->report.id.debug = (flags & VOUCH_SIM_FLAG_DEBUG) != 0;
    o->report.timestamp = (int64_t)ts;
    o->signed_bytes = p;
    o->leaf_len = leaf_len;
    o->ca_len = ca_len;
    return VOUCH_OK;
}

vouch_err vouch_sim_evidence_parse(const uint8_t *p, size_t len, struct vouch_sim_report *out)
{
    struct sim_parts parts;
    char why[128];
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    rc = parse_parts(p, len, &parts, why, sizeof(why));
    *out = parts.report;
    return rc;
}

static void set_detail(char *detail, size_t cap, const char *what)
{
    if (detail && cap)
        snprintf(detail, cap, "%s", what);
}

vouch_err vouch_sim_evidence_verify(const uint8_t *p, size_t len, struct vouch_x509 *const *anchors,
                                    size_t n_anchors, int64_t now, struct vouch_sim_report *out,
                                    char *detail, size_t detail_cap)
{
    struct sim_parts parts;
    struct vouch_x509 *leaf = NULL, *ca = NULL;
    struct vouch_pubkey *pub = NULL;
    const uint8_t *ader;
    size_t alen;
    int64_t nb, na;
    char why[160] = "";
    vouch_err rc;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if (detail && detail_cap)
        detail[0] = 0;
    if (!anchors || n_anchors == 0) {
        set_detail(detail, detail_cap, "no software TEE CA is trusted");
        return VOUCH_ERR_CHAIN;
    }
    if ((rc = parse_parts(p, len, &parts, why, sizeof(why))) != VOUCH_OK) {
        set_detail(detail, detail_cap, why);
        return rc;
    }
    /* The CA is trusted only when it is byte-identical to a configured
     * anchor; the copy in the evidence is a hint, never a root. */
    for (size_t i = 0; i < n_anchors && !ca; i++) {
        if (!anchors[i])
            continue;
        vouch_x509_der(anchors[i], &ader, &alen);
        if (alen == parts.ca_len && memcmp(ader, parts.ca, alen) == 0)
            ca = anchors[i];
    }
    if (!ca) {
        set_detail(detail, detail_cap, "the evidence's CA is not a trusted software TEE CA");
        rc = VOUCH_ERR_CHAIN;
        goto out;
    }
    if ((rc = vouch_x509_parse_der(parts.leaf, parts.leaf_len, &leaf)) != VOUCH_OK) {
        set_detail(detail, detail_cap, "the platform certificate does not parse");
        goto out;
    }
    if (!vouch_x509_is_ca(ca) || vouch_x509_is_ca(leaf) || !vouch_x509_issued_by_name(leaf, ca)) {
        set_detail(detail, detail_cap, "the platform certificate was not issued by the CA");
        rc = VOUCH_ERR_CHAIN;
        goto out;
    }
    if ((rc = vouch_x509_verify_signed_by(leaf, ca)) != VOUCH_OK) {
        set_detail(detail, detail_cap, "the platform certificate's signature does not verify");
        if (rc == VOUCH_ERR_SIGNATURE)
            rc = VOUCH_ERR_CHAIN;
        goto out;
    }
    vouch_x509_validity(ca, &nb, &na);
    if (now < nb || now > na) {
        set_detail(detail, detail_cap, "the software TEE CA certificate is not valid now");
        rc = VOUCH_ERR_EXPIRED;
        goto out;
    }
    vouch_x509_validity(leaf, &nb, &na);
    if (now < nb || now > na) {
        set_detail(detail, detail_cap, "the platform certificate is not valid now");
        rc = VOUCH_ERR_EXPIRED;
        goto out;
    }
    if (parts.report.timestamp < nb || parts.report.timestamp > na) {
        set_detail(detail, detail_cap,
                   "the report was signed outside the platform certificate's validity");
        rc = VOUCH_ERR_EXPIRED;
        goto out;
    }
    if ((rc = vouch_x509_pubkey(leaf, &pub)) != VOUCH_OK)
        goto out;
    if (!vouch_pubkey_is_ec(pub, VOUCH_CURVE_P256)) {
        set_detail(detail, detail_cap, "the platform key is not ECDSA P-256");
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    rc = vouch_ecdsa_verify_raw(pub, VOUCH_HASH_SHA256, parts.signed_bytes, VOUCH_SIM_REPORT_LEN,
                                parts.sig, VOUCH_SIM_SIG_LEN);
    if (rc != VOUCH_OK) {
        set_detail(detail, detail_cap, "the report signature does not verify");
        goto out;
    }
    *out = parts.report;
out:
    vouch_pubkey_free(pub);
    vouch_x509_free(leaf);
    return rc;
}

static vouch_err set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
    char hex[2 * VOUCH_SIM_REPORT_DATA_LEN + 1];
    if (n > VOUCH_SIM_REPORT_DATA_LEN)
        return VOUCH_ERR_INTERNAL;
    vouch_hex_encode(p, n, hex);
    return json_object_set_new(o, k, json_string(hex)) == 0 ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

vouch_err vouch__sim_claims(const struct vouch_sim_report *r, json_t **out)
{
    json_t *o = json_object();
    int bad = 0;

    *out = NULL;
    if (!o)
        return VOUCH_ERR_NOMEM;
    bad |= json_object_set_new(o, "version", json_integer(r->version));
    bad |= json_object_set_new(o, "backend", json_string(vouch_tee_backend_name(r->backend)));
    bad |= json_object_set_new(o, "tee", json_string("sim"));
    bad |= json_object_set_new(o, "hardware_rooted", json_false());
    bad |= set_hex(o, "mrenclave", r->id.measurement, 32) != VOUCH_OK;
    bad |= set_hex(o, "mrsigner", r->id.signer_id, 32) != VOUCH_OK;
    bad |= json_object_set_new(o, "product_id", json_integer(r->id.product_id));
    bad |= json_object_set_new(o, "svn", json_integer(r->id.svn));
    bad |= json_object_set_new(o, "debug", json_boolean(r->id.debug));
    bad |= set_hex(o, "report_data", r->report_data, VOUCH_SIM_REPORT_DATA_LEN) != VOUCH_OK;
    bad |= json_object_set_new(o, "timestamp", json_integer(r->timestamp));
    if (bad) {
        json_decref(o);
        return VOUCH_ERR_NOMEM;
    }
    *out = o;
    return VOUCH_OK;
}

vouch_err vouch__sim_verify(const uint8_t *p, size_t len, const struct vouch_verify_opts *opts,
                            struct vouch_verify_result *res)
{
    struct vouch_x509 *anchors[VOUCH_MAX_CHAIN_DEPTH] = {0};
    struct vouch_sim_report rep;
    size_t n = 0;
    vouch_err rc;

    res->format = VOUCH_EVIDENCE_SIM;
    if (!opts->sim_ca || opts->sim_ca_len == 0) {
        rc = VOUCH_ERR_CHAIN;
        snprintf(res->error_detail, sizeof(res->error_detail),
                 "no software TEE CA is configured (sim evidence needs one)");
        goto out;
    }
    /* DER or a PEM bundle. */
    if (opts->sim_ca[0] == 0x30) {
        n = 1;
        rc = vouch_x509_parse_der(opts->sim_ca, opts->sim_ca_len, &anchors[0]);
    } else {
        rc = vouch_x509_parse_pem_chain(opts->sim_ca, opts->sim_ca_len, anchors,
                                        VOUCH_MAX_CHAIN_DEPTH, &n);
    }
    if (rc != VOUCH_OK) {
        n = 0;
        snprintf(res->error_detail, sizeof(res->error_detail),
                 "the software TEE CA does not parse");
        goto out;
    }
    rc = vouch_sim_evidence_verify(p, len, anchors, n, opts->now, &rep, res->error_detail,
                                   sizeof(res->error_detail));
    if (rc != VOUCH_OK) {
        /* Claims of unverified evidence still help diagnosis, as for DCAP. */
        if (vouch_sim_evidence_parse(p, len, &rep) == VOUCH_OK)
            (void)!vouch__sim_claims(&rep, &res->claims);
        goto out;
    }
    if ((rc = vouch__sim_claims(&rep, &res->claims)) != VOUCH_OK)
        goto out;
    res->verified = true;
out:
    for (size_t i = 0; i < n; i++)
        vouch_x509_free(anchors[i]);
    res->error = rc;
    return rc;
}
