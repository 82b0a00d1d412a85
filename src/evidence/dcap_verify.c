/*
 * Intel DCAP quote verification (SGX and TDX), equivalent to Intel's QvE/QVL:
 * the PCK chain from the quote to the pinned root with CRLs, the QE report
 * signature and its binding of the attestation key, the quote signature, the
 * consistency of quote, PCK certificate and collateral (TEE type, FMSPC,
 * PCE-ID, TDX module identity, QE identity), then the TCB level check with
 * QE / TDX module / TD relaunch convergence.
 *
 * Order differs from QVL in one respect: every signature is checked before
 * the consistency checks, so a tampered quote is reported as a bad signature
 * rather than as whatever mismatch the tampering happens to cause first. For
 * genuine evidence the result is the same.
 *
 * Collateral outside its validity window at `now` does not stop verification
 * (QvE's model): the full verdict is computed, the offending item is named,
 * and the result is unverified with VOUCH_ERR_EXPIRED.
 *
 * The per-quote cost is normally: parse the PCK leaf (the CA and root in the
 * quote are recognised by their text as the ones already verified with the
 * collateral, and borrowed from it), verify the leaf, QE report and quote
 * signatures, two CRL lookups, and a walk over pre-sorted TCB levels. Any
 * other chain takes the general path and is verified in full.
 */
#include <stdio.h>
#include <string.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "dcap_int.h"

#define PCK_EXT_OID "1.2.840.113741.1.13.1"
#define CN_CAP      128u

static const char *const pck_ca_names[] = {"Intel SGX PCK Processor CA",
                                           "Intel SGX PCK Platform CA", NULL};

VOUCH_NODISCARD static vouch_err claim(json_t *o, const char *key, json_t *v)
{
    if (v == NULL)
        return VOUCH_ERR_NOMEM;
    return json_object_set_new(o, key, v) == 0 ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

VOUCH_NODISCARD static vouch_err claim_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];

    if (n > 64)
        return VOUCH_ERR_INTERNAL;
    vouch_hex_encode(p, n, hex);
    return claim(o, key, json_string(hex));
}

VOUCH_NODISCARD static vouch_err pck_claims(json_t *o, const struct vouch_pck_ext *ext)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *comps = json_array();

    if (comps == NULL)
        return VOUCH_ERR_NOMEM;
    for (size_t i = 0; i < sizeof(ext->tcb_comp); i++) {
        if (json_array_append_new(comps, json_integer(ext->tcb_comp[i])) != 0) {
            json_decref(comps);
            return VOUCH_ERR_NOMEM;
        }
    }
    if ((rc = claim(o, "pck_tcb_comps", comps)) != VOUCH_OK ||
        (rc = claim_hex(o, "fmspc", ext->fmspc, sizeof(ext->fmspc))) != VOUCH_OK ||
        (rc = claim_hex(o, "pce_id", ext->pceid, sizeof(ext->pceid))) != VOUCH_OK ||
        (rc = claim(o, "pcesvn", json_integer(ext->pcesvn))) != VOUCH_OK ||
        (rc = claim(o, "sgx_type", json_integer(ext->sgx_type))) != VOUCH_OK)
        return rc;
    if (ext->has_platform_instance_id &&
        (rc = claim_hex(o, "platform_instance_id", ext->platform_instance_id,
                        sizeof(ext->platform_instance_id))) != VOUCH_OK)
        return rc;
    if (ext->has_config &&
        ((rc = claim(o, "dynamic_platform", json_boolean(ext->dynamic_platform))) != VOUCH_OK ||
         (rc = claim(o, "cached_keys", json_boolean(ext->cached_keys))) != VOUCH_OK ||
         (rc = claim(o, "smt_enabled", json_boolean(ext->smt_enabled))) != VOUCH_OK))
        return rc;
    return VOUCH_OK;
}

static void add_advisories(struct vouch_verify_result *res, char (*pool)[VOUCH_MAX_ADVISORY_LEN],
                           const struct vouch__adv_ref *ref)
{
    for (size_t i = 0; i < ref->n; i++)
        vouch__result_add_advisory(res, pool[ref->off + i], strlen(pool[ref->off + i]));
}

static void cn_of(const struct vouch_x509 *x, bool issuer, char cn[CN_CAP])
{
    vouch_err rc =
        issuer ? vouch_x509_issuer_cn(x, cn, CN_CAP) : vouch_x509_subject_cn(x, cn, CN_CAP);

    if (rc != VOUCH_OK)
        (void)snprintf(cn, CN_CAP, "?");
}

/*
 * The PCK chain carried in the quote: leaf, PCK CA, root. Returns OK or the
 * failure (already recorded in @p res). The leaf's window goes into @p win.
 */
VOUCH_NODISCARD static vouch_err verify_pck_chain(const struct vouch_collateral *c,
                                                  const struct vouch_x509 *const *chain, size_t n,
                                                  bool leaf_sig_ok, struct vouch_verify_result *res,
                                                  struct vouch__window *win, size_t *n_win)
{
    uint8_t fp[VOUCH_SHA256_LEN];
    char cn[CN_CAP], cn2[CN_CAP];
    const struct vouch_x509 *leaf = NULL, *ca = NULL, *root = NULL;
    int64_t nb = 0, na = 0;

    if (n != 3)
        return vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                  "the quote's PCK chain has %zu certificates, expected 3", n);
    leaf = chain[0];
    ca = chain[1];
    root = chain[2];
    vouch_x509_fingerprint(root, fp);
    if (!vouch_ct_eq(fp, vouch__intel_root_fp, sizeof(fp)))
        return vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                  "the quote's PCK chain does not end at the pinned Intel SGX "
                                  "Root CA");
    vouch_x509_fingerprint(ca, fp);
    /* A CA byte-identical to the one verified with the collateral reuses that verdict. */
    if (!(c->pck_ca_ok && vouch_ct_eq(fp, c->pck_ca_fp, sizeof(fp)))) {
        bool cn_ok = false;
        cn_of(ca, false, cn);
        for (size_t i = 0; pck_ca_names[i] != NULL && !cn_ok; i++)
            cn_ok = strstr(cn, pck_ca_names[i]) != NULL;
        if (!cn_ok)
            return vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                      "the quote's PCK CA has unexpected CN \"%s\"", cn);
        if (!vouch_x509_issued_by_name(ca, root) ||
            vouch_x509_verify_signed_by(ca, root) != VOUCH_OK)
            return vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                      "the quote's PCK CA \"%s\" is not signed by the Intel SGX "
                                      "Root CA",
                                      cn);
        if (vouch_crl_lists(c->root_crl, ca)) {
            res->status = VOUCH_TCB_REVOKED;
            return vouch__result_fail(res, VOUCH_ERR_REVOKED,
                                      "the PCK CA \"%s\" is revoked by the Intel SGX Root CA CRL",
                                      cn);
        }
        vouch_x509_validity(ca, &nb, &na);
        win[(*n_win)++] = (struct vouch__window){"pck_ca_cert", nb, na};
    }

    cn_of(leaf, false, cn);
    if (strstr(cn, "SGX PCK Certificate") == NULL)
        return vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                  "the PCK leaf has CN \"%s\", not an SGX PCK Certificate", cn);
    if (!vouch_x509_issued_by_name(leaf, ca) ||
        (!leaf_sig_ok && vouch_x509_verify_signed_by(leaf, ca) != VOUCH_OK))
        return vouch__result_fail(res, VOUCH_ERR_CHAIN,
                                  "the PCK leaf certificate is not signed by its PCK CA");
    if (!vouch_crl_issued_by_name(c->pck_crl, ca)) {
        if (vouch_crl_issuer_cn(c->pck_crl, cn2, sizeof(cn2)) != VOUCH_OK)
            (void)snprintf(cn2, sizeof(cn2), "?");
        cn_of(leaf, true, cn);
        return vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                  "PCK CRL issuer \"%s\" is not the PCK certificate's issuer "
                                  "\"%s\"",
                                  cn2, cn);
    }
    if (vouch_crl_lists(c->pck_crl, leaf)) {
        res->status = VOUCH_TCB_REVOKED;
        return vouch__result_fail(res, VOUCH_ERR_REVOKED,
                                  "the PCK leaf certificate is revoked by the PCK CRL");
    }
    vouch_x509_validity(leaf, &nb, &na);
    win[(*n_win)++] = (struct vouch__window){"pck_leaf_cert", nb, na};
    return VOUCH_OK;
}

/* The quote's PCK chain: leaf, PCK CA, root. Certificates byte-identical to
 * the collateral's verified CA and root are borrowed from it; the rest are
 * parsed and owned. */
struct pck_chain {
    const struct vouch_x509 *cert[VOUCH_MAX_CHAIN_DEPTH];
    size_t n;
    struct vouch_x509 *owned[VOUCH_MAX_CHAIN_DEPTH];
    size_t n_owned;
    bool cacheable;                     /* leaf may go into the PCK leaf cache */
    bool leaf_sig_ok;                   /* leaf came from the cache: its signature is known */
    uint8_t leaf_key[VOUCH_SHA256_LEN]; /* SHA-256 of the leaf's encoding */
};

VOUCH_NODISCARD static vouch_err load_chain(const struct vouch_collateral *c,
                                            const struct vouch_dcap_quote *q, struct pck_chain *ch,
                                            struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch__pem_blocks b;

    if (c->pck_ca_ok && vouch__pem_blocks(q->cert_data, q->cert_data_len, 3, &b)) {
        bool known =
            vouch__pem_block_is(&b, 2, c->root_b64) && vouch__pem_block_is(&b, 1, c->pck_ca_b64);
        if (known && vouch_sha256(b.buf + b.off[0], b.len[0], ch->leaf_key) == VOUCH_OK) {
            ch->cacheable = true;
            ch->owned[0] = vouch__pck_cache_get(ch->leaf_key, c->pck_ca_fp);
            ch->leaf_sig_ok = ch->owned[0] != NULL;
            rc = ch->leaf_sig_ok ? VOUCH_OK : vouch__pem_block_x509(&b, 0, &ch->owned[0]);
        } else if (known) {
            rc = vouch__pem_block_x509(&b, 0, &ch->owned[0]);
        }
        vouch__pem_blocks_free(&b);
        if (known) {
            if (rc != VOUCH_OK)
                return vouch__result_fail(res, rc, "the quote's PCK leaf certificate is malformed");
            ch->n_owned = 1;
            ch->cert[0] = ch->owned[0];
            ch->cert[1] = c->pck_ca;
            ch->cert[2] = c->root;
            ch->n = 3;
            return VOUCH_OK;
        }
    }
    rc = vouch_x509_parse_pem_chain(q->cert_data, q->cert_data_len, ch->owned,
                                    VOUCH_MAX_CHAIN_DEPTH, &ch->n_owned);
    if (rc != VOUCH_OK)
        return vouch__result_fail(res, rc, "the quote's PCK chain is not valid PEM (%s)",
                                  vouch_err_name(rc));
    for (size_t i = 0; i < ch->n_owned; i++)
        ch->cert[i] = ch->owned[i];
    ch->n = ch->n_owned;
    return VOUCH_OK;
}

/* QE report signature by the PCK key, its binding of the attestation key,
 * and the quote signature by the attestation key. */
VOUCH_NODISCARD static vouch_err verify_signatures(const uint8_t *p,
                                                   const struct vouch_dcap_quote *q,
                                                   const struct vouch_x509 *leaf,
                                                   struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_pubkey *pck_key = NULL, *att_key = NULL;
    struct vouch_hash_ctx *h = NULL;
    uint8_t digest[VOUCH_SHA256_LEN];

    if ((rc = vouch_x509_pubkey(leaf, &pck_key)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "cannot read the PCK certificate key");
        goto out;
    }
    if (!vouch_pubkey_is_ec(pck_key, VOUCH_CURVE_P256)) {
        rc = vouch__result_fail(res, VOUCH_ERR_CHAIN, "the PCK certificate key is not P-256");
        goto out;
    }
    rc = vouch_ecdsa_verify_raw(pck_key, VOUCH_HASH_SHA256, q->qe_report.raw,
                                sizeof(q->qe_report.raw), q->qe_report_sig,
                                sizeof(q->qe_report_sig));
    if (rc != VOUCH_OK) {
        rc =
            vouch__result_fail(res, rc, "the QE report signature does not verify with the PCK key");
        goto out;
    }
    if ((rc = vouch_hash_init(VOUCH_HASH_SHA256, &h)) != VOUCH_OK ||
        (rc = vouch_hash_update(h, q->attest_key, sizeof(q->attest_key))) != VOUCH_OK ||
        (q->qe_auth_len > 0 &&
         (rc = vouch_hash_update(h, q->qe_auth, q->qe_auth_len)) != VOUCH_OK)) {
        rc = vouch__result_fail(res, rc, "cannot hash the attestation key");
        goto out;
    }
    rc = vouch_hash_final(h, digest);
    h = NULL; /* final frees it in every case */
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "cannot hash the attestation key");
        goto out;
    }
    if (!vouch_ct_eq(digest, q->qe_report.reportdata, sizeof(digest))) {
        rc = vouch__result_fail(res, VOUCH_ERR_SIGNATURE,
                                "the QE report data does not bind the attestation key "
                                "(SHA-256 of key and QE auth data differs)");
        goto out;
    }
    if ((rc = vouch_pubkey_from_ec_xy(VOUCH_CURVE_P256, q->attest_key, sizeof(q->attest_key),
                                      &att_key)) != VOUCH_OK) {
        rc = vouch__result_fail(res, VOUCH_ERR_SIGNATURE,
                                "the attestation key is not a valid P-256 point");
        goto out;
    }
    rc = vouch_ecdsa_verify_raw(att_key, VOUCH_HASH_SHA256, p, q->signed_len, q->signature,
                                sizeof(q->signature));
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc,
                                "the quote signature does not verify with the attestation key");
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_hash_ctx_free(h);
    vouch_pubkey_free(pck_key);
    vouch_pubkey_free(att_key);
    return rc;
}

/* 4.1.2.4.9 - 4.1.2.4.11: TCB Info against the quote and the PCK certificate. */
VOUCH_NODISCARD static vouch_err check_tcb_info(const struct vouch__tcb_info *ti,
                                                const struct vouch_dcap_quote *q,
                                                const struct vouch_pck_ext *ext,
                                                struct vouch_verify_result *res)
{
    bool tdx = q->tee_type == VOUCH_DCAP_TEE_TDX;
    char a[2 * VOUCH_DCAP_FMSPC_LEN + 1], b[2 * VOUCH_DCAP_FMSPC_LEN + 1];
    const uint8_t *mrsigner = ti->module_mrsigner, *attributes = ti->module_attributes;
    const char *module_name = "tdxModule";

    if (ti->version >= 3 && ti->is_tdx != tdx)
        return vouch__result_fail(res, VOUCH_ERR_MISMATCH, "TCB Info id is %s but the quote is %s",
                                  ti->is_tdx ? "TDX" : "SGX", tdx ? "TDX" : "SGX");
    if (ti->version < 3 && tdx)
        return vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                  "TCB Info version %d cannot be used for a TDX quote",
                                  ti->version);
    if (memcmp(ext->fmspc, ti->fmspc, sizeof(ti->fmspc)) != 0) {
        vouch_hex_encode(ext->fmspc, sizeof(ext->fmspc), a);
        vouch_hex_encode(ti->fmspc, sizeof(ti->fmspc), b);
        return vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                  "PCK certificate FMSPC %s does not match TCB Info FMSPC %s", a,
                                  b);
    }
    if (memcmp(ext->pceid, ti->pceid, sizeof(ti->pceid)) != 0) {
        vouch_hex_encode(ext->pceid, sizeof(ext->pceid), a);
        vouch_hex_encode(ti->pceid, sizeof(ti->pceid), b);
        return vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                  "PCK certificate PCE-ID %s does not match TCB Info PCE-ID %s", a,
                                  b);
    }
    if (!(ti->version >= 3 && ti->is_tdx))
        return VOUCH_OK;
    if (q->version > 3 && q->td.tee_tcb_svn[1] > 0) {
        const struct vouch__module_identity *m =
            vouch__tdx_module_identity_find(ti, q->td.tee_tcb_svn[1]);
        if (m == NULL)
            return vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                      "TDX module version %u needs identity TDX_%02X, which TCB "
                                      "Info does not have",
                                      (unsigned)q->td.tee_tcb_svn[1],
                                      (unsigned)q->td.tee_tcb_svn[1]);
        mrsigner = m->mrsigner;
        attributes = m->attributes;
        module_name = m->id;
    }
    if (!vouch_ct_eq(q->td.mrsignerseam, mrsigner, sizeof(q->td.mrsignerseam))) {
        char got[2 * 8 + 1], want[2 * 8 + 1];
        vouch_hex_encode(q->td.mrsignerseam, 8, got);
        vouch_hex_encode(mrsigner, 8, want);
        return vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                  "MRSIGNERSEAM %s... does not match TCB Info %s mrsigner %s...",
                                  got, module_name, want);
    }
    for (size_t i = 0; i < sizeof(q->td.seamattributes); i++) {
        if (q->td.seamattributes[i] != 0 || q->td.seamattributes[i] != attributes[i]) {
            char got[2 * 8 + 1], want[2 * 8 + 1];
            vouch_hex_encode(q->td.seamattributes, 8, got);
            vouch_hex_encode(attributes, 8, want);
            return vouch__result_fail(res, VOUCH_ERR_MISMATCH,
                                      "SEAMATTRIBUTES %s must be zero and equal TCB Info %s "
                                      "attributes %s",
                                      got, module_name, want);
        }
    }
    return VOUCH_OK;
}

static const char *qe_id_name(enum vouch__qe_id id)
{
    switch (id) {
    case VOUCH__QE_ID_QE:
        return "QE";
    case VOUCH__QE_ID_QVE:
        return "QVE";
    case VOUCH__QE_ID_TD_QE:
        return "TD_QE";
    }
    return "?";
}

/* Applies the evaluation to the result and the claims. */
VOUCH_NODISCARD static vouch_err
report_tcb(const struct vouch_collateral *c, const struct vouch_dcap_quote *q,
           const struct vouch__tcb_eval *ev, enum vouch_tcb_status qe_status,
           const struct vouch__qe_level *qe_level, struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *o = res->claims;
    char date[21];

    res->status = ev->status;
    res->platform_status = ev->platform_status;
    res->qe_status = qe_status;
    res->module_status = ev->module_status;
    res->tcb_eval_number = c->tcb_info.eval_number;
    if (ev->level != NULL) {
        res->tcb_date = ev->level->tcb_date;
        add_advisories(res, c->tcb_info.adv, &ev->level->adv);
    }
    if (qe_level != NULL)
        add_advisories(res, c->qe_identity.adv, &qe_level->adv);
    if (ev->module_level != NULL)
        add_advisories(res, c->tcb_info.adv, &ev->module_level->adv);

    if ((rc = claim(o, "tcb_eval_number", json_integer(res->tcb_eval_number))) != VOUCH_OK ||
        (rc = claim(o, "platform_status",
                    json_string(vouch_tcb_status_name(res->platform_status)))) != VOUCH_OK ||
        (rc = claim(o, "qe_status", json_string(vouch_tcb_status_name(qe_status)))) != VOUCH_OK)
        return rc;
    if (ev->level != NULL) {
        vouch_time_format(res->tcb_date, date);
        if ((rc = claim(o, "tcb_date", json_string(date))) != VOUCH_OK)
            return rc;
    }
    if (q->tee_type == VOUCH_DCAP_TEE_TDX) {
        if (ev->module_status != VOUCH_TCB_NONE &&
            (rc = claim(o, "module_status",
                        json_string(vouch_tcb_status_name(ev->module_status)))) != VOUCH_OK)
            return rc;
        if ((rc = claim(o, "td_relaunch_advised", json_boolean(ev->relaunch_advised))) != VOUCH_OK)
            return rc;
    }
    return VOUCH_OK;
}

vouch_err vouch__dcap_verify(const uint8_t *p, size_t len, const struct vouch_dcap_quote *q,
                             const struct vouch_verify_opts *opts, struct vouch_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_collateral *tmp = NULL;
    const struct vouch_collateral *c = NULL;
    struct pck_chain chain;
    size_t n_win = 0;
    struct vouch__window win[VOUCH__COLL_MAX_WINDOWS + 2];
    struct vouch_pck_ext ext;
    const uint8_t *ep = NULL;
    size_t el = 0;
    char detail[VOUCH_MAX_ERROR_DETAIL] = "";
    enum vouch_tcb_status qe_status = VOUCH_TCB_NONE;
    const struct vouch__qe_level *qe_level = NULL;
    struct vouch__tcb_input in;
    struct vouch__tcb_eval ev;
    const char *expired = NULL;
    bool tdx = q->tee_type == VOUCH_DCAP_TEE_TDX;
    int64_t now = opts != NULL ? opts->now : 0;

    (void)len;
    memset(&ext, 0, sizeof(ext));
    memset(&chain, 0, sizeof(chain));
    if (res->claims == NULL && (res->claims = json_object()) == NULL) {
        rc = vouch__result_fail(res, VOUCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = vouch__dcap_quote_claims(q, res->claims)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "cannot build the quote claims");
        goto out;
    }
    if (opts != NULL && opts->collateral_obj != NULL) {
        c = opts->collateral_obj;
    } else if (opts != NULL && opts->collateral != NULL && opts->collateral_len > 0) {
        rc = vouch__collateral_parse(opts->collateral, opts->collateral_len, &tmp, detail,
                                     sizeof(detail));
        if (rc != VOUCH_OK) {
            rc = vouch__result_fail(res, rc, "%s",
                                    detail[0] ? detail : "collateral could not be parsed");
            goto out;
        }
        c = tmp;
    } else {
        rc = vouch__result_fail(res, VOUCH_ERR_INVAL,
                                "collateral required: Intel quotes are verified against PCS "
                                "collateral (TCB Info, QE Identity, CRLs)");
        goto out;
    }
    if (c->verdict != VOUCH_OK) {
        rc = vouch__result_fail(res, c->verdict, "%s", c->verdict_detail);
        goto out;
    }

    /* PCK chain carried in the quote. */
    if (q->cert_type != VOUCH_DCAP_CERT_PCK_CHAIN || q->cert_data == NULL) {
        rc = vouch__result_fail(res, VOUCH_ERR_UNSUPPORTED,
                                "certification data type %u is not a PCK chain (5)",
                                (unsigned)q->cert_type);
        goto out;
    }
    if ((rc = load_chain(c, q, &chain, res)) != VOUCH_OK ||
        (rc = verify_pck_chain(c, chain.cert, chain.n, chain.leaf_sig_ok, res, win, &n_win)) !=
            VOUCH_OK)
        goto out;
    /* The leaf's signature by this (verified) CA is now known good. */
    if (chain.cacheable && !chain.leaf_sig_ok)
        vouch__pck_cache_put(chain.leaf_key, c->pck_ca_fp, chain.owned[0]);
    rc = vouch_x509_extension(chain.cert[0], PCK_EXT_OID, &ep, &el);
    if (rc == VOUCH_OK)
        rc = vouch__pck_ext_parse(ep, el, &ext);
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc == VOUCH_ERR_NOT_FOUND ? VOUCH_ERR_PARSE : rc,
                                "the PCK certificate's SGX extension is missing or malformed");
        goto out;
    }
    if ((rc = pck_claims(res->claims, &ext)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "cannot build the PCK claims");
        goto out;
    }

    if ((rc = verify_signatures(p, q, chain.cert[0], res)) != VOUCH_OK)
        goto out;
    if ((rc = check_tcb_info(&c->tcb_info, q, &ext, res)) != VOUCH_OK)
        goto out;

    /* 4.1.2.4.14 - 4.1.2.4.15: the QE that signed is the one Intel names. */
    if (c->qe_identity.id != (tdx ? VOUCH__QE_ID_TD_QE : VOUCH__QE_ID_QE)) {
        rc = vouch__result_fail(
            res, VOUCH_ERR_MISMATCH, "QE identity id is %s but a %s quote needs %s",
            qe_id_name(c->qe_identity.id), tdx ? "TDX" : "SGX", tdx ? "TD_QE" : "QE");
        goto out;
    }
    rc = vouch__qe_identity_check(&c->qe_identity, &q->qe_report, &qe_status, &qe_level, detail,
                                  sizeof(detail));
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "%s", detail);
        goto out;
    }

    /* 4.1.2.4.17: TCB level, judged on the PCK certificate's TCB. */
    memset(&in, 0, sizeof(in));
    in.tdx = tdx && c->tcb_info.is_tdx;
    in.quote_version = q->version;
    in.td15 = tdx && q->body_type == 3;
    memcpy(in.pck_comps, ext.tcb_comp, sizeof(in.pck_comps));
    in.pck_pcesvn = ext.pcesvn;
    if (tdx) {
        memcpy(in.tee_tcb_svn, q->td.tee_tcb_svn, sizeof(in.tee_tcb_svn));
        memcpy(in.tee_tcb_svn2, q->td.tee_tcb_svn2, sizeof(in.tee_tcb_svn2));
    }
    in.has_qe_status = true;
    in.qe_status = qe_status;
    rc = vouch__tcb_evaluate(&c->tcb_info, &in, &ev, detail, sizeof(detail));
    if (rc != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "%s", detail);
        goto out;
    }
    if ((rc = report_tcb(c, q, &ev, qe_status, qe_level, res)) != VOUCH_OK) {
        rc = vouch__result_fail(res, rc, "cannot build the TCB claims");
        goto out;
    }

    /* Time last: a stale collateral cache still yields the full verdict. */
    if (now < c->not_before || now > c->not_after ||
        vouch__windows_check(win, n_win, now) != NULL) {
        size_t k = n_win;
        for (size_t i = 0; i < c->n_windows && k < sizeof(win) / sizeof(win[0]); i++)
            win[k++] = c->windows[i];
        expired = vouch__windows_check(win, k, now);
    }
    if (expired != NULL) {
        vouch__result_expired(res, expired);
        rc = vouch__result_fail(res, VOUCH_ERR_EXPIRED, "%s is not valid at %lld", expired,
                                (long long)now);
        goto out;
    }
    res->verified = true;
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        res->verified = false;
    for (size_t i = 0; i < chain.n_owned; i++)
        vouch_x509_free(chain.owned[i]);
    vouch_collateral_free(tmp);
    return rc;
}
