/*
 * TPM 2.0 quotes: the TPM structures (unmarshalled by libtss2-mu, which is
 * bounds-checked, with every length capped here and every input required to
 * be consumed exactly), attestation keys, PCR value sets, and vouch_tpm_verify,
 * which checks a quote and binds an event log to it (see vouch/tpm.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <tss2_mu.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/encoding.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#include "evidence/tpm_int.h"

/* The TPM fixes these; a mismatch with libtss2's idea would be a bug here. */
_Static_assert(VOUCH_MAX_TPM_NONCE == sizeof(((TPM2B_DATA *)0)->buffer), "TPM2B_DATA size");
_Static_assert(VOUCH_TPM_MAX_RSA_BYTES == TPM2_MAX_RSA_KEY_BYTES, "RSA key bytes");
_Static_assert(VOUCH_TPM_MAX_ECC_BYTES == TPM2_MAX_ECC_KEY_BYTES, "ECC key bytes");
_Static_assert(VOUCH_TPM_MAX_DIGEST == sizeof(TPMU_HA), "digest size");
/* attest_prescan keeps libtss2 from ever seeing a selection it would log. */
_Static_assert(VOUCH_MAX_TPM_PCR_BANKS <= TPM2_NUM_PCR_BANKS, "PCR banks");

#define AK_REQUIRED_ATTRS                                                                \
    (VOUCH_TPMA_FIXED_TPM | VOUCH_TPMA_FIXED_PARENT | VOUCH_TPMA_SENSITIVE_DATA_ORIGIN | \
     VOUCH_TPMA_RESTRICTED | VOUCH_TPMA_SIGN_ENCRYPT)
#define RSA_DEFAULT_EXPONENT 65537u
#define P256_FIELD           32u
#define P384_FIELD           48u
/* A PC Client selection is 3 bytes; 4 is the most libtss2 accepts. */
#define PCR_SELECT_MAX_BYTES 4u
_Static_assert(PCR_SELECT_MAX_BYTES <= TPM2_PCR_SELECT_MAX, "PCR select size");

struct vouch_tpm_ak {
    struct vouch_tpm_public pub;
    struct vouch_pubkey *key;
    int field; /* ECC: coordinate size in bytes */
};

/* ---------------- algorithms ---------------- */

static const struct {
    uint16_t alg;
    const char *name;
} alg_names[] = {
    {VOUCH_TPM_ALG_RSA, "rsa"},         {VOUCH_TPM_ALG_SHA1, "sha1"},
    {VOUCH_TPM_ALG_SHA256, "sha256"},   {VOUCH_TPM_ALG_SHA384, "sha384"},
    {VOUCH_TPM_ALG_SHA512, "sha512"},   {VOUCH_TPM_ALG_NULL, "null"},
    {VOUCH_TPM_ALG_SM3_256, "sm3_256"}, {VOUCH_TPM_ALG_RSASSA, "rsassa"},
    {VOUCH_TPM_ALG_RSAPSS, "rsapss"},   {VOUCH_TPM_ALG_ECDSA, "ecdsa"},
    {VOUCH_TPM_ALG_ECC, "ecc"},
};

const char *vouch_tpm_alg_name(uint16_t alg)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
        if (alg_names[i].alg == alg)
            return alg_names[i].name;
    }
    return NULL;
}

bool vouch__tpm_hash_alg(uint16_t tpm_alg, enum vouch_hash_alg *out)
{
    switch (tpm_alg) {
    case VOUCH_TPM_ALG_SHA1:
        *out = VOUCH_HASH_SHA1;
        return true;
    case VOUCH_TPM_ALG_SHA256:
        *out = VOUCH_HASH_SHA256;
        return true;
    case VOUCH_TPM_ALG_SHA384:
        *out = VOUCH_HASH_SHA384;
        return true;
    case VOUCH_TPM_ALG_SHA512:
        *out = VOUCH_HASH_SHA512;
        return true;
    default:
        return false;
    }
}

int vouch__tpm_bank_rank(uint16_t tpm_alg)
{
    switch (tpm_alg) {
    case VOUCH_TPM_ALG_SHA1:
        return 1;
    case VOUCH_TPM_ALG_SHA256:
        return 2;
    case VOUCH_TPM_ALG_SHA384:
        return 3;
    case VOUCH_TPM_ALG_SHA512:
        return 4;
    default:
        return 0;
    }
}

size_t vouch_tpm_digest_len(uint16_t alg)
{
    enum vouch_hash_alg h;

    return vouch__tpm_hash_alg(alg, &h) ? vouch_hash_len(h) : 0;
}

uint16_t vouch_tpm_hash_from_name(const char *name, size_t len)
{
    static const uint16_t banks[] = {VOUCH_TPM_ALG_SHA1, VOUCH_TPM_ALG_SHA256, VOUCH_TPM_ALG_SHA384,
                                     VOUCH_TPM_ALG_SHA512};

    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++) {
        const char *n = vouch_tpm_alg_name(banks[i]);
        if (strlen(n) == len && strncasecmp(n, name, len) == 0)
            return banks[i];
    }
    return 0;
}

/* ---------------- JSON helpers ---------------- */

vouch_err vouch__tpm_json_set(json_t *o, const char *key, json_t *v)
{
    if (!v)
        return VOUCH_ERR_NOMEM;
    return json_object_set_new(o, key, v) == 0 ? VOUCH_OK : VOUCH_ERR_NOMEM;
}

json_t *vouch__tpm_hex_string(const uint8_t *p, size_t n)
{
    char small[2 * VOUCH_TPM_MAX_DIGEST + 1];
    char *hex = small;
    json_t *s;

    if (n > VOUCH_MAX_TPM_LOG_SIZE)
        return NULL;
    if (n > VOUCH_TPM_MAX_DIGEST && !(hex = vouch_malloc(2 * n + 1)))
        return NULL;
    vouch_hex_encode(p, n, hex);
    s = json_stringn(hex, 2 * n);
    if (hex != small)
        vouch_free(hex);
    return s;
}

/* ---------------- structures ---------------- */

static vouch_err check_struct_len(const uint8_t *p, size_t len)
{
    if (!p && len)
        return VOUCH_ERR_INVAL;
    if (len > VOUCH_MAX_TPM_STRUCT_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    if (len == 0)
        return VOUCH_ERR_TRUNCATED;
    return VOUCH_OK;
}

/* A short buffer is TRUNCATED; any other libtss2 failure, or bytes left
 * over, is PARSE. */
static vouch_err mu_result(TSS2_RC trc, size_t off, size_t len)
{
    if (trc == TSS2_MU_RC_INSUFFICIENT_BUFFER)
        return VOUCH_ERR_TRUNCATED;
    if (trc != TSS2_RC_SUCCESS || off != len)
        return VOUCH_ERR_PARSE;
    return VOUCH_OK;
}

vouch_err vouch_tpm_public_parse(const uint8_t *p, size_t len, struct vouch_tpm_public *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r;
    enum vouch_hash_alg name_hash;
    TSS2_RC trc;
    TPMT_PUBLIC pub;
    uint16_t size = 0;
    size_t off = 0;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if ((rc = check_struct_len(p, len)) != VOUCH_OK)
        goto out;
    /* A TPM2B_PUBLIC prefix is recognised by its size matching the rest. */
    vouch_reader_init(&r, p, len);
    if ((rc = vouch_reader_u16be(&r, &size)) != VOUCH_OK)
        goto out;
    if ((size_t)size == len - 2) {
        p += 2;
        len -= 2;
    }
    memset(&pub, 0, sizeof(pub));
    /* Separate statements: argument evaluation order is unspecified, so off
     * must be read only after the call has set it. */
    trc = Tss2_MU_TPMT_PUBLIC_Unmarshal(p, len, &off, &pub);
    if ((rc = mu_result(trc, off, len)) != VOUCH_OK)
        goto out;
    if (!vouch__tpm_hash_alg(pub.nameAlg, &name_hash)) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    out->type = pub.type;
    out->name_alg = pub.nameAlg;
    out->attributes = pub.objectAttributes;
    if (pub.type == TPM2_ALG_RSA) {
        const TPMS_RSA_PARMS *rp = &pub.parameters.rsaDetail;

        out->scheme = rp->scheme.scheme;
        out->scheme_hash =
            rp->scheme.scheme == TPM2_ALG_NULL ? 0 : rp->scheme.details.anySig.hashAlg;
        out->sym_alg = rp->symmetric.algorithm;
        if (rp->symmetric.algorithm != TPM2_ALG_NULL) {
            out->sym_bits = rp->symmetric.keyBits.sym;
            out->sym_mode = rp->symmetric.mode.sym;
        }
        out->rsa_bits = rp->keyBits;
        out->rsa_exponent = rp->exponent ? rp->exponent : RSA_DEFAULT_EXPONENT;
        /* libtss2 bounds every TPM2B by its buffer; checked again because
         * the copies trust these sizes. */
        if (pub.unique.rsa.size > sizeof(out->rsa_n)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        out->rsa_n_len = pub.unique.rsa.size;
        memcpy(out->rsa_n, pub.unique.rsa.buffer, out->rsa_n_len);
    } else if (pub.type == TPM2_ALG_ECC) {
        const TPMS_ECC_PARMS *ep = &pub.parameters.eccDetail;

        out->scheme = ep->scheme.scheme;
        out->scheme_hash =
            ep->scheme.scheme == TPM2_ALG_NULL ? 0 : ep->scheme.details.anySig.hashAlg;
        out->sym_alg = ep->symmetric.algorithm;
        if (ep->symmetric.algorithm != TPM2_ALG_NULL) {
            out->sym_bits = ep->symmetric.keyBits.sym;
            out->sym_mode = ep->symmetric.mode.sym;
        }
        out->ecc_curve = ep->curveID;
        if (pub.unique.ecc.x.size > sizeof(out->ecc_x) ||
            pub.unique.ecc.y.size > sizeof(out->ecc_y)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        out->ecc_x_len = pub.unique.ecc.x.size;
        out->ecc_y_len = pub.unique.ecc.y.size;
        memcpy(out->ecc_x, pub.unique.ecc.x.buffer, out->ecc_x_len);
        memcpy(out->ecc_y, pub.unique.ecc.y.buffer, out->ecc_y_len);
    } else {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    /* Name = nameAlg || H_nameAlg(the TPMT_PUBLIC bytes as received). */
    out->name[0] = (uint8_t)(pub.nameAlg >> 8);
    out->name[1] = (uint8_t)pub.nameAlg;
    if ((rc = vouch_hash(name_hash, p, len, out->name + 2)) != VOUCH_OK)
        goto out;
    out->name_len = 2 + vouch_hash_len(name_hash);
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

static vouch_err skip_tpm2b(struct vouch_reader *r)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint16_t n = 0;

    if ((rc = vouch_reader_u16be(r, &n)) != VOUCH_OK)
        goto out;
    rc = vouch_reader_skip(r, n);
out:
    return rc;
}

/*
 * Walks the quote up to its PCR selection before libtss2 sees it. Magic and
 * type come first so that a well-formed attestation of another kind is
 * reported as such; the selection's bank count and select sizes are checked
 * here because libtss2-mu writes a log line to stderr for each bad one, and
 * input from the network must not be able to fill a service's log.
 */
static vouch_err attest_prescan(const uint8_t *p, size_t len)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r;
    uint32_t magic = 0;
    uint32_t count = 0;
    uint16_t type = 0;

    vouch_reader_init(&r, p, len);
    if ((rc = vouch_reader_u32be(&r, &magic)) != VOUCH_OK ||
        (rc = vouch_reader_u16be(&r, &type)) != VOUCH_OK)
        goto out;
    if (magic != VOUCH_TPM_GENERATED_VALUE) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (type != VOUCH_TPM_ST_ATTEST_QUOTE) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    /* qualifiedSigner, extraData, clockInfo (17 bytes), firmwareVersion. */
    if ((rc = skip_tpm2b(&r)) != VOUCH_OK || (rc = skip_tpm2b(&r)) != VOUCH_OK ||
        (rc = vouch_reader_skip(&r, 17 + 8)) != VOUCH_OK ||
        (rc = vouch_reader_u32be(&r, &count)) != VOUCH_OK)
        goto out;
    if (count > VOUCH_MAX_TPM_PCR_BANKS) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint8_t size = 0;

        if ((rc = vouch_reader_skip(&r, 2)) != VOUCH_OK ||
            (rc = vouch_reader_u8(&r, &size)) != VOUCH_OK)
            goto out;
        if (size > PCR_SELECT_MAX_BYTES) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        if ((rc = vouch_reader_skip(&r, size)) != VOUCH_OK)
            goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err copy_selection(const TPML_PCR_SELECTION *sel, struct vouch_tpm_attest *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if (sel->count > VOUCH_MAX_TPM_PCR_BANKS) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    for (uint32_t i = 0; i < sel->count; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        uint32_t mask = 0;

        if (vouch_tpm_digest_len(s->hash) == 0) {
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
        if (s->sizeofSelect > PCR_SELECT_MAX_BYTES) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (out->banks[j].alg == s->hash) {
                rc = VOUCH_ERR_PARSE;
                goto out;
            }
        }
        for (unsigned b = 0; b < s->sizeofSelect; b++)
            mask |= (uint32_t)s->pcrSelect[b] << (8 * b);
        if (mask & ~VOUCH_TPM_ALL_PCRS) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        out->banks[i].alg = s->hash;
        out->banks[i].mask = mask;
    }
    out->n_banks = sel->count;
    rc = VOUCH_OK;
out:
    return rc;
}

vouch_err vouch_tpm_attest_parse(const uint8_t *p, size_t len, struct vouch_tpm_attest *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    TSS2_RC trc;
    TPMS_ATTEST a;
    size_t off = 0;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if ((rc = check_struct_len(p, len)) != VOUCH_OK || (rc = attest_prescan(p, len)) != VOUCH_OK)
        goto out;
    memset(&a, 0, sizeof(a));
    trc = Tss2_MU_TPMS_ATTEST_Unmarshal(p, len, &off, &a);
    if ((rc = mu_result(trc, off, len)) != VOUCH_OK)
        goto out;
    if (a.qualifiedSigner.size > sizeof(out->signer) ||
        a.extraData.size > sizeof(out->extra_data) ||
        a.attested.quote.pcrDigest.size > sizeof(out->pcr_digest) || a.clockInfo.safe > 1) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    out->type = a.type;
    out->signer_len = a.qualifiedSigner.size;
    memcpy(out->signer, a.qualifiedSigner.name, out->signer_len);
    out->extra_data_len = a.extraData.size;
    memcpy(out->extra_data, a.extraData.buffer, out->extra_data_len);
    out->clock = a.clockInfo.clock;
    out->reset_count = a.clockInfo.resetCount;
    out->restart_count = a.clockInfo.restartCount;
    out->safe = a.clockInfo.safe == 1;
    out->firmware_version = a.firmwareVersion;
    if ((rc = copy_selection(&a.attested.quote.pcrSelect, out)) != VOUCH_OK)
        goto out;
    out->pcr_digest_len = a.attested.quote.pcrDigest.size;
    memcpy(out->pcr_digest, a.attested.quote.pcrDigest.buffer, out->pcr_digest_len);
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

vouch_err vouch_tpm_signature_parse(const uint8_t *p, size_t len, struct vouch_tpm_signature *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    TPMT_SIGNATURE sig;
    TSS2_RC trc;
    size_t off = 0;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if ((rc = check_struct_len(p, len)) != VOUCH_OK)
        goto out;
    memset(&sig, 0, sizeof(sig));
    trc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(p, len, &off, &sig);
    if ((rc = mu_result(trc, off, len)) != VOUCH_OK)
        goto out;
    out->sig_alg = sig.sigAlg;
    switch (sig.sigAlg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS:
        /* rsassa and rsapss share one layout in the union. */
        if (sig.signature.rsassa.sig.size > sizeof(out->sig)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        out->hash_alg = sig.signature.rsassa.hash;
        out->sig_len = sig.signature.rsassa.sig.size;
        memcpy(out->sig, sig.signature.rsassa.sig.buffer, out->sig_len);
        break;
    case TPM2_ALG_ECDSA:
        if (sig.signature.ecdsa.signatureR.size > sizeof(out->r) ||
            sig.signature.ecdsa.signatureS.size > sizeof(out->s)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        out->hash_alg = sig.signature.ecdsa.hash;
        out->r_len = sig.signature.ecdsa.signatureR.size;
        out->s_len = sig.signature.ecdsa.signatureS.size;
        memcpy(out->r, sig.signature.ecdsa.signatureR.buffer, out->r_len);
        memcpy(out->s, sig.signature.ecdsa.signatureS.buffer, out->s_len);
        break;
    default:
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---------------- attestation keys ---------------- */

/* Copies a big-endian coordinate into a fixed-width field, accepting the
 * leading zeros a TPM may add or omit. */
static bool fit_be(const uint8_t *v, size_t n, uint8_t *field, size_t width)
{
    while (n > width && *v == 0) {
        v++;
        n--;
    }
    if (n > width)
        return false;
    memset(field, 0, width - n);
    memcpy(field + (width - n), v, n);
    return true;
}

static vouch_err ak_build_key(struct vouch_tpm_ak *ak)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct vouch_tpm_public *pub = &ak->pub;
    uint8_t xy[2 * P384_FIELD];
    uint8_t e[4];
    enum vouch_curve curve;

    if (pub->type == VOUCH_TPM_ALG_RSA) {
        if (pub->scheme != VOUCH_TPM_ALG_NULL && pub->scheme != VOUCH_TPM_ALG_RSASSA &&
            pub->scheme != VOUCH_TPM_ALG_RSAPSS) {
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
        /* keyBits must describe the modulus actually present. */
        if ((size_t)pub->rsa_bits != 8 * pub->rsa_n_len || pub->rsa_bits < VOUCH_MIN_RSA_BITS ||
            pub->rsa_bits > VOUCH_MAX_RSA_BITS) {
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
        e[0] = (uint8_t)(pub->rsa_exponent >> 24);
        e[1] = (uint8_t)(pub->rsa_exponent >> 16);
        e[2] = (uint8_t)(pub->rsa_exponent >> 8);
        e[3] = (uint8_t)pub->rsa_exponent;
        rc = vouch_pubkey_from_rsa_ne(pub->rsa_n, pub->rsa_n_len, e, sizeof(e), &ak->key);
        goto out;
    }
    if (pub->scheme != VOUCH_TPM_ALG_NULL && pub->scheme != VOUCH_TPM_ALG_ECDSA) {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (pub->ecc_curve == VOUCH_TPM_ECC_NIST_P256) {
        curve = VOUCH_CURVE_P256;
        ak->field = P256_FIELD;
    } else if (pub->ecc_curve == VOUCH_TPM_ECC_NIST_P384) {
        curve = VOUCH_CURVE_P384;
        ak->field = P384_FIELD;
    } else {
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if (!fit_be(pub->ecc_x, pub->ecc_x_len, xy, (size_t)ak->field) ||
        !fit_be(pub->ecc_y, pub->ecc_y_len, xy + ak->field, (size_t)ak->field)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = vouch_pubkey_from_ec_xy(curve, xy, 2 * (size_t)ak->field, &ak->key);
out:
    return rc;
}

vouch_err vouch_tpm_ak_parse(const uint8_t *p, size_t len, struct vouch_tpm_ak **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_tpm_ak *ak = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!(ak = vouch_calloc(1, sizeof(*ak)))) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if ((rc = vouch_tpm_public_parse(p, len, &ak->pub)) != VOUCH_OK)
        goto out;
    /* A key that can decrypt, or that may leave its TPM, or that signs
     * outside data starting with TPM_GENERATED_VALUE, cannot vouch for a
     * quote: it could sign a forged TPMS_ATTEST. */
    if ((ak->pub.attributes & AK_REQUIRED_ATTRS) != AK_REQUIRED_ATTRS ||
        (ak->pub.attributes & VOUCH_TPMA_DECRYPT)) {
        rc = VOUCH_ERR_POLICY;
        goto out;
    }
    if ((rc = ak_build_key(ak)) != VOUCH_OK)
        goto out;
    *out = ak;
    ak = NULL;
    rc = VOUCH_OK;
out:
    vouch_tpm_ak_free(ak);
    return rc;
}

void vouch_tpm_ak_free(struct vouch_tpm_ak *ak)
{
    if (!ak)
        return;
    vouch_pubkey_free(ak->key);
    vouch_free(ak);
}

const struct vouch_tpm_public *vouch_tpm_ak_public(const struct vouch_tpm_ak *ak)
{
    return ak ? &ak->pub : NULL;
}

const struct vouch_pubkey *vouch_tpm_ak_key(const struct vouch_tpm_ak *ak)
{
    return ak ? ak->key : NULL;
}

/* Checks that @p sig may be used by @p ak at all (before any crypto). */
static vouch_err sig_allowed(const struct vouch_tpm_ak *ak, const struct vouch_tpm_signature *sig,
                             bool allow_sha1, enum vouch_hash_alg *hash_out)
{
    bool rsa_sig = sig->sig_alg == VOUCH_TPM_ALG_RSASSA || sig->sig_alg == VOUCH_TPM_ALG_RSAPSS;

    if (ak->pub.type == VOUCH_TPM_ALG_RSA ? !rsa_sig : sig->sig_alg != VOUCH_TPM_ALG_ECDSA)
        return VOUCH_ERR_POLICY;
    /* A restricted key signs only with its own scheme; anything else did not
     * come from this key's TPM. */
    if (ak->pub.scheme != VOUCH_TPM_ALG_NULL &&
        (sig->sig_alg != ak->pub.scheme || sig->hash_alg != ak->pub.scheme_hash))
        return VOUCH_ERR_POLICY;
    if (!vouch__tpm_hash_alg(sig->hash_alg, hash_out))
        return VOUCH_ERR_UNSUPPORTED;
    if (*hash_out == VOUCH_HASH_SHA1 && !allow_sha1)
        return VOUCH_ERR_POLICY;
    return VOUCH_OK;
}

static vouch_err verify_parsed(const struct vouch_tpm_ak *ak, const uint8_t *msg, size_t msg_len,
                               const struct vouch_tpm_signature *sig, enum vouch_hash_alg hash)
{
    uint8_t rs[2 * P384_FIELD];
    size_t n = (size_t)ak->field;

    if (sig->sig_alg == VOUCH_TPM_ALG_ECDSA) {
        if (!fit_be(sig->r, sig->r_len, rs, n) || !fit_be(sig->s, sig->s_len, rs + n, n))
            return VOUCH_ERR_SIGNATURE;
        return vouch_ecdsa_verify_raw(ak->key, hash, msg, msg_len, rs, 2 * n);
    }
    return vouch_rsa_verify(ak->key, hash,
                            sig->sig_alg == VOUCH_TPM_ALG_RSAPSS ? VOUCH_RSA_PSS : VOUCH_RSA_PKCS1,
                            msg, msg_len, sig->sig, sig->sig_len);
}

vouch_err vouch_tpm_verify_signature(const struct vouch_tpm_ak *ak, const uint8_t *msg,
                                     size_t msg_len, const uint8_t *sig, size_t sig_len,
                                     bool allow_sha1)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_tpm_signature s;
    enum vouch_hash_alg hash;

    if (!ak || (!msg && msg_len))
        return VOUCH_ERR_INVAL;
    if (msg_len > VOUCH_MAX_TPM_STRUCT_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    if ((rc = vouch_tpm_signature_parse(sig, sig_len, &s)) != VOUCH_OK ||
        (rc = sig_allowed(ak, &s, allow_sha1, &hash)) != VOUCH_OK)
        goto out;
    rc = verify_parsed(ak, msg, msg_len, &s, hash);
out:
    return rc;
}

/* ---------------- PCR value sets ---------------- */

const struct vouch_tpm_pcr_bank *vouch_tpm_pcrs_bank(const struct vouch_tpm_pcrs *pcrs,
                                                     uint16_t alg)
{
    if (!pcrs)
        return NULL;
    for (size_t i = 0; i < pcrs->n_banks && i < VOUCH_MAX_TPM_PCR_BANKS; i++) {
        if (pcrs->banks[i].alg == alg)
            return &pcrs->banks[i];
    }
    return NULL;
}

vouch_err vouch_tpm_pcrs_set(struct vouch_tpm_pcrs *pcrs, uint16_t alg, unsigned index,
                             const uint8_t *digest, size_t len)
{
    struct vouch_tpm_pcr_bank *b = NULL;

    if (!pcrs || !digest || index >= VOUCH_TPM_NUM_PCRS || len == 0 ||
        len != vouch_tpm_digest_len(alg) || pcrs->n_banks > VOUCH_MAX_TPM_PCR_BANKS)
        return VOUCH_ERR_INVAL;
    for (size_t i = 0; i < pcrs->n_banks; i++) {
        if (pcrs->banks[i].alg == alg)
            b = &pcrs->banks[i];
    }
    if (!b) {
        if (pcrs->n_banks == VOUCH_MAX_TPM_PCR_BANKS)
            return VOUCH_ERR_TOO_LARGE;
        b = &pcrs->banks[pcrs->n_banks++];
        memset(b, 0, sizeof(*b));
        b->alg = alg;
    }
    memcpy(b->values[index], digest, len);
    b->mask |= 1u << index;
    return VOUCH_OK;
}

static bool pcr_present(const struct vouch_tpm_pcrs *pcrs, uint16_t alg, unsigned index)
{
    const struct vouch_tpm_pcr_bank *b = vouch_tpm_pcrs_bank(pcrs, alg);

    return b && (b->mask & (1u << index));
}

/* Parses a PCR index written as a plain decimal 0..23. */
static bool parse_index(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    if (n == 0 || n > 2 || (n == 2 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v >= VOUCH_TPM_NUM_PCRS)
        return false;
    *out = v;
    return true;
}

static vouch_err add_pcr(struct vouch_tpm_pcrs *pcrs, uint16_t alg, unsigned index, const char *hex,
                         size_t hex_len)
{
    uint8_t d[VOUCH_TPM_MAX_DIGEST];
    size_t n = 0;

    if (alg == 0 || hex_len != 2 * vouch_tpm_digest_len(alg) ||
        vouch_hex_decode(hex, hex_len, d, sizeof(d), &n) != VOUCH_OK)
        return VOUCH_ERR_PARSE;
    if (pcr_present(pcrs, alg, index))
        return VOUCH_ERR_PARSE;
    return vouch_tpm_pcrs_set(pcrs, alg, index, d, n);
}

static uint16_t bank_for_hex_len(size_t hex_len)
{
    static const uint16_t banks[] = {VOUCH_TPM_ALG_SHA1, VOUCH_TPM_ALG_SHA256, VOUCH_TPM_ALG_SHA384,
                                     VOUCH_TPM_ALG_SHA512};

    for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++) {
        if (hex_len == 2 * vouch_tpm_digest_len(banks[i]))
            return banks[i];
    }
    return 0;
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One "<bank> <index> <hex>" or "<index> <hex>" line. */
static vouch_err parse_pcr_line(const uint8_t *line, size_t n, struct vouch_tpm_pcrs *pcrs)
{
    const char *tok[4];
    size_t tok_len[4];
    size_t nt = 0;
    size_t i = 0;
    unsigned index = 0;

    while (i < n) {
        while (i < n && is_blank(line[i]))
            i++;
        if (i == n)
            break;
        if (nt == 4)
            return VOUCH_ERR_PARSE;
        tok[nt] = (const char *)line + i;
        while (i < n && !is_blank(line[i]))
            i++;
        tok_len[nt] = (size_t)((const char *)line + i - tok[nt]);
        nt++;
    }
    if (nt == 0 || tok[0][0] == '#')
        return VOUCH_OK;
    if (nt == 3) {
        if (!parse_index(tok[1], tok_len[1], &index))
            return VOUCH_ERR_PARSE;
        return add_pcr(pcrs, vouch_tpm_hash_from_name(tok[0], tok_len[0]), index, tok[2],
                       tok_len[2]);
    }
    if (nt == 2) {
        if (!parse_index(tok[0], tok_len[0], &index))
            return VOUCH_ERR_PARSE;
        return add_pcr(pcrs, bank_for_hex_len(tok_len[1]), index, tok[1], tok_len[1]);
    }
    return VOUCH_ERR_PARSE;
}

static vouch_err parse_pcrs_text(const uint8_t *p, size_t len, struct vouch_tpm_pcrs *pcrs)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r;
    const uint8_t *line = NULL;

    vouch_reader_init(&r, p, len);
    while (vouch_reader_left(&r) > 0) {
        const uint8_t *rest = r.p + vouch_reader_offset(&r);
        const uint8_t *nl = memchr(rest, '\n', vouch_reader_left(&r));
        size_t n = nl ? (size_t)(nl - rest) : vouch_reader_left(&r);

        if ((rc = vouch_reader_view(&r, n, &line)) != VOUCH_OK)
            goto out;
        if (nl && (rc = vouch_reader_skip(&r, 1)) != VOUCH_OK)
            goto out;
        if (memchr(line, 0, n)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        if ((rc = parse_pcr_line(line, n, pcrs)) != VOUCH_OK)
            goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err parse_pcrs_json(const uint8_t *p, size_t len, struct vouch_tpm_pcrs *pcrs)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *root = NULL;
    const json_t *banks;
    const char *bank_name;
    json_t *bank;

    if ((rc = vouch_json_parse((const char *)p, len, &root, NULL, 0)) != VOUCH_OK)
        goto out;
    banks = json_object_get(root, "pcrs");
    if (!banks)
        banks = root;
    if (!json_is_object(banks)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    json_object_foreach((json_t *)banks, bank_name, bank)
    {
        uint16_t alg = vouch_tpm_hash_from_name(bank_name, strlen(bank_name));
        const char *index_name;
        json_t *value;

        if (alg == 0 || !json_is_object(bank)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        json_object_foreach(bank, index_name, value)
        {
            unsigned index = 0;

            if (!json_is_string(value) || !parse_index(index_name, strlen(index_name), &index)) {
                rc = VOUCH_ERR_PARSE;
                goto out;
            }
            if ((rc = add_pcr(pcrs, alg, index, json_string_value(value),
                              json_string_length(value))) != VOUCH_OK)
                goto out;
        }
    }
    rc = VOUCH_OK;
out:
    json_decref(root);
    return rc;
}

vouch_err vouch_tpm_pcrs_parse(const uint8_t *p, size_t len, struct vouch_tpm_pcrs *pcrs)
{
    size_t i = 0;

    if (!pcrs || (!p && len) || pcrs->n_banks > VOUCH_MAX_TPM_PCR_BANKS)
        return VOUCH_ERR_INVAL;
    if (len > VOUCH_MAX_TPM_PCRS_SIZE)
        return VOUCH_ERR_TOO_LARGE;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < len && p[i] == '{')
        return parse_pcrs_json(p, len, pcrs);
    return parse_pcrs_text(p, len, pcrs);
}

vouch_err vouch_tpm_pcrs_json(const struct vouch_tpm_pcrs *pcrs, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *o = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!pcrs || pcrs->n_banks > VOUCH_MAX_TPM_PCR_BANKS)
        return VOUCH_ERR_INVAL;
    if (!(o = json_object())) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    for (size_t b = 0; b < pcrs->n_banks; b++) {
        const struct vouch_tpm_pcr_bank *bank = &pcrs->banks[b];
        const char *name = vouch_tpm_alg_name(bank->alg);
        size_t dlen = vouch_tpm_digest_len(bank->alg);
        json_t *vals = json_object();

        if ((rc = vouch__tpm_json_set(o, name ? name : "unknown", vals)) != VOUCH_OK)
            goto out;
        for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS; i++) {
            char key[4];

            if (!(bank->mask & (1u << i)))
                continue;
            snprintf(key, sizeof(key), "%u", i);
            if ((rc = vouch__tpm_json_set(
                     vals, key, vouch__tpm_hex_string(bank->values[i], dlen))) != VOUCH_OK)
                goto out;
        }
    }
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}

/* ---------------- verification ---------------- */

VOUCH_PRINTF(3, 4)
static vouch_err fail(struct vouch_tpm_verify_result *res, vouch_err rc, const char *fmt, ...)
{
    va_list ap;

    res->verified = false;
    res->error = rc;
    va_start(ap, fmt);
    vsnprintf(res->error_detail, sizeof(res->error_detail), fmt, ap);
    va_end(ap);
    return rc;
}

static const char *bank_name(uint16_t alg)
{
    const char *n = vouch_tpm_alg_name(alg);

    return n ? n : "unknown";
}

/* pcrDigest = H_sig(values of every selected PCR, bank by bank in selection
 * order, ascending index within a bank). Fills res->pcrs with those values. */
static vouch_err check_pcr_digest(const struct vouch_tpm_evidence *ev, enum vouch_hash_alg hash,
                                  struct vouch_tpm_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct vouch_tpm_attest *a = &res->attest;
    struct vouch_hash_ctx *ctx = NULL;
    uint8_t digest[VOUCH_TPM_MAX_DIGEST];

    if (a->pcr_digest_len != vouch_hash_len(hash)) {
        rc = fail(res, VOUCH_ERR_MISMATCH, "pcrDigest is %zu bytes, the signature hash gives %zu",
                  a->pcr_digest_len, vouch_hash_len(hash));
        goto out;
    }
    if ((rc = vouch_hash_init(hash, &ctx)) != VOUCH_OK) {
        rc = fail(res, rc, "cannot hash the PCR values");
        goto out;
    }
    for (size_t b = 0; b < a->n_banks; b++) {
        const struct vouch_tpm_pcr_bank *claimed = vouch_tpm_pcrs_bank(ev->pcrs, a->banks[b].alg);
        size_t dlen = vouch_tpm_digest_len(a->banks[b].alg);

        for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS; i++) {
            if (!(a->banks[b].mask & (1u << i)))
                continue;
            if (!claimed || !(claimed->mask & (1u << i))) {
                rc =
                    fail(res, VOUCH_ERR_VERIFY, "the quote covers PCR %s:%u but no value was given",
                         bank_name(a->banks[b].alg), i);
                goto out;
            }
            if ((rc = vouch_hash_update(ctx, claimed->values[i], dlen)) != VOUCH_OK ||
                (rc = vouch_tpm_pcrs_set(&res->pcrs, a->banks[b].alg, i, claimed->values[i],
                                         dlen)) != VOUCH_OK) {
                rc = fail(res, rc, "cannot hash the PCR values");
                goto out;
            }
        }
    }
    rc = vouch_hash_final(ctx, digest);
    ctx = NULL;
    if (rc != VOUCH_OK) {
        rc = fail(res, rc, "cannot hash the PCR values");
        goto out;
    }
    if (!vouch_ct_eq(digest, a->pcr_digest, a->pcr_digest_len)) {
        rc = fail(res, VOUCH_ERR_MISMATCH,
                  "pcrDigest does not match the PCR values (hashed with %s, the signature hash)",
                  bank_name(res->sig_hash));
        goto out;
    }
    rc = VOUCH_OK;
out:
    vouch_hash_ctx_free(ctx);
    if (rc != VOUCH_OK)
        memset(&res->pcrs, 0, sizeof(res->pcrs));
    return rc;
}

/* Replays every quoted bank and requires each PCR that is quoted and
 * extended by the log to equal the quoted value. */
static vouch_err bind_log(struct vouch_tpm_log *log, bool check_all,
                          struct vouch_tpm_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct vouch_tpm_attest *a = &res->attest;
    struct vouch_tpm_pcr_bank *replayed = NULL;
    int best = 0;

    if (!(replayed = vouch_malloc(sizeof(*replayed)))) {
        rc = fail(res, VOUCH_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t b = 0; b < a->n_banks; b++) {
        const struct vouch_tpm_pcr_select *sel = &a->banks[b];
        const struct vouch_tpm_pcr_bank *quoted = vouch_tpm_pcrs_bank(&res->pcrs, sel->alg);
        size_t dlen = vouch_tpm_digest_len(sel->alg);
        uint32_t both;

        if (sel->mask == 0)
            continue;
        if (!vouch_tpm_log_has_bank(log, sel->alg)) {
            rc = fail(res, VOUCH_ERR_VERIFY, "quoted bank %s is not in the event log",
                      bank_name(sel->alg));
            goto out;
        }
        if ((rc = vouch_tpm_log_replay(log, sel->alg, replayed)) != VOUCH_OK) {
            rc = fail(res, rc, "event log: cannot replay bank %s: %s", bank_name(sel->alg),
                      vouch_strerror(rc));
            goto out;
        }
        both = replayed->mask & sel->mask;
        for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS; i++) {
            if (!(both & (1u << i)))
                continue;
            if (!quoted || !vouch_ct_eq(replayed->values[i], quoted->values[i], dlen)) {
                rc = fail(res, VOUCH_ERR_MISMATCH,
                          "event log replay gives PCR %s:%u different from the quoted value",
                          bank_name(sel->alg), i);
                goto out;
            }
        }
        if (vouch__tpm_bank_rank(sel->alg) > best) {
            best = vouch__tpm_bank_rank(sel->alg);
            res->log_bank = sel->alg;
            res->log_bound_pcrs = both;
        }
    }
    if (res->log_bank != 0 && check_all) {
        if ((rc = vouch_tpm_log_check_digests(log, res->log_bank)) != VOUCH_OK) {
            rc = fail(res, rc, "event log: cannot check event digests");
            goto out;
        }
        for (size_t e = 0; e < log->n_events; e++) {
            const struct vouch_tpm_event *ev = &log->events[e];

            for (size_t d = 0; d < ev->n_digests; d++) {
                if (ev->digests[d].alg == res->log_bank &&
                    ev->digests[d].check == VOUCH_TPM_DIGEST_MISMATCH)
                    res->log_digest_mismatches++;
            }
        }
        res->log_digests_checked = true;
    }
    rc = VOUCH_OK;
out:
    vouch_free(replayed);
    return rc;
}

static vouch_err quote_claims(const struct vouch_tpm_ak *ak, const struct vouch_tpm_log *log,
                              struct vouch_tpm_verify_result *res, json_t *c)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct vouch_tpm_attest *a = &res->attest;
    char fw[17];
    json_t *pcrs = NULL;
    json_t *el = NULL;
    json_t *bound = NULL;

    snprintf(fw, sizeof(fw), "%016llx", (unsigned long long)a->firmware_version);
    if ((rc = vouch_json_set_hex(c, "akName", ak->pub.name, ak->pub.name_len)) != VOUCH_OK ||
        (rc = vouch_json_set_hex(c, "nonce", a->extra_data, a->extra_data_len)) != VOUCH_OK ||
        (rc = vouch_json_set_hex(c, "qualifiedSigner", a->signer, a->signer_len)) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(c, "clock", json_integer((json_int_t)a->clock))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(c, "resetCount", json_integer(a->reset_count))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(c, "restartCount", json_integer(a->restart_count))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(c, "safe", json_boolean(a->safe))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(c, "firmwareVersion", json_string(fw))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(c, "signatureAlg", json_string(bank_name(res->sig_alg)))) !=
            VOUCH_OK ||
        (rc = vouch__tpm_json_set(c, "signatureHash", json_string(bank_name(res->sig_hash)))) !=
            VOUCH_OK ||
        (rc = vouch_tpm_pcrs_json(&res->pcrs, &pcrs)) != VOUCH_OK)
        goto out;
    rc = vouch__tpm_json_set(c, "pcrs", pcrs);
    pcrs = NULL;
    if (rc != VOUCH_OK || !log)
        goto out;
    if ((rc = vouch__tpm_json_set(c, "eventLog", el = json_object())) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(
             el, "format",
             json_string(log->format == VOUCH_TPM_LOG_CRYPTO_AGILE ? "crypto-agile" : "sha1"))) !=
            VOUCH_OK ||
        (rc = vouch__tpm_json_set(el, "events", json_integer((json_int_t)log->n_events))) !=
            VOUCH_OK ||
        (rc = vouch__tpm_json_set(el, "boundPcrs", bound = json_array())) != VOUCH_OK)
        goto out;
    if (res->log_digests_checked &&
        (rc = vouch__tpm_json_set(el, "digestMismatches",
                                  json_integer((json_int_t)res->log_digest_mismatches))) !=
            VOUCH_OK)
        goto out;
    if (res->log_bank != 0 &&
        (rc = vouch__tpm_json_set(el, "bank", json_string(bank_name(res->log_bank)))) != VOUCH_OK)
        goto out;
    for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS; i++) {
        if ((res->log_bound_pcrs & (1u << i)) && json_array_append_new(bound, json_integer(i)))
            rc = VOUCH_ERR_NOMEM;
    }
    if (rc != VOUCH_OK || res->log_bank == 0)
        goto out;
    rc = vouch_tpm_log_claims(log, res->log_bank, res->log_bound_pcrs, c);
out:
    json_decref(pcrs);
    return rc;
}

vouch_err vouch_tpm_verify(const struct vouch_tpm_ak *ak, const struct vouch_tpm_evidence *ev,
                           const struct vouch_tpm_verify_opts *opts,
                           struct vouch_tpm_verify_result *res)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_tpm_signature sig;
    struct vouch_tpm_log log;
    enum vouch_hash_alg hash;
    json_t *claims = NULL;
    bool have_log = false;

    if (!res)
        return VOUCH_ERR_INVAL;
    memset(res, 0, sizeof(*res));
    memset(&log, 0, sizeof(log));
    if (!ak || !ev || !opts || !ev->quote || !ev->sig || !ev->pcrs ||
        (!opts->nonce && opts->nonce_len) || (!ev->log && ev->log_len)) {
        rc = fail(res, VOUCH_ERR_INVAL, "missing AK, quote, signature, PCR values or options");
        goto out;
    }
    if (ev->quote_len > VOUCH_MAX_TPM_STRUCT_SIZE || ev->sig_len > VOUCH_MAX_TPM_STRUCT_SIZE ||
        opts->nonce_len > VOUCH_MAX_TPM_NONCE || ev->log_len > VOUCH_MAX_TPM_LOG_SIZE) {
        rc = fail(res, VOUCH_ERR_TOO_LARGE, "an input exceeds its size limit");
        goto out;
    }
    if ((rc = vouch_tpm_signature_parse(ev->sig, ev->sig_len, &sig)) != VOUCH_OK) {
        rc = fail(res, rc, "TPMT_SIGNATURE: %s", vouch_strerror(rc));
        goto out;
    }
    res->sig_alg = sig.sig_alg;
    res->sig_hash = sig.hash_alg;
    if ((rc = sig_allowed(ak, &sig, opts->allow_sha1, &hash)) != VOUCH_OK) {
        rc = fail(res, rc, "signature scheme %s/%s is not allowed for this AK%s",
                  bank_name(sig.sig_alg), bank_name(sig.hash_alg),
                  sig.hash_alg == VOUCH_TPM_ALG_SHA1 && !opts->allow_sha1 ? " (SHA-1 not enabled)"
                                                                          : "");
        goto out;
    }
    /* The signature covers the bytes as received; only once it verifies is
     * anything inside them read. */
    if ((rc = verify_parsed(ak, ev->quote, ev->quote_len, &sig, hash)) != VOUCH_OK) {
        rc = fail(res, rc, "the quote signature does not verify with the AK");
        goto out;
    }
    if ((rc = vouch_tpm_attest_parse(ev->quote, ev->quote_len, &res->attest)) != VOUCH_OK) {
        rc = fail(res, rc, "TPMS_ATTEST: %s", vouch_strerror(rc));
        goto out;
    }
    res->attest_parsed = true;
    if (res->attest.extra_data_len != opts->nonce_len ||
        !vouch_ct_eq(res->attest.extra_data, opts->nonce ? opts->nonce : res->attest.extra_data,
                     opts->nonce_len)) {
        rc = fail(res, VOUCH_ERR_MISMATCH, "the quote's extraData does not match the nonce");
        goto out;
    }
    if ((rc = check_pcr_digest(ev, hash, res)) != VOUCH_OK)
        goto out;
    if (ev->log) {
        if ((rc = vouch_tpm_log_parse(ev->log, ev->log_len, &log)) != VOUCH_OK) {
            rc = fail(res, rc, "event log: %s", vouch_strerror(rc));
            goto out;
        }
        have_log = true;
        res->log_present = true;
        res->log_format = log.format;
        res->log_events = log.n_events;
        if ((rc = bind_log(&log, opts->check_all_digests, res)) != VOUCH_OK)
            goto out;
    }
    if (!(claims = json_object()) ||
        (rc = quote_claims(ak, have_log ? &log : NULL, res, claims)) != VOUCH_OK) {
        rc = fail(res, VOUCH_ERR_NOMEM, "cannot build the claims");
        goto out;
    }
    res->claims = claims;
    claims = NULL;
    res->verified = true;
    res->error = VOUCH_OK;
    res->error_detail[0] = '\0';
    rc = VOUCH_OK;
out:
    json_decref(claims);
    vouch_tpm_log_free(&log);
    return rc;
}

void vouch_tpm_verify_result_free(struct vouch_tpm_verify_result *res)
{
    if (!res)
        return;
    json_decref(res->claims);
    res->claims = NULL;
}

vouch_err vouch_tpm_verify_result_json(const struct vouch_tpm_verify_result *res, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *o = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!res)
        return VOUCH_ERR_INVAL;
    if (!(o = json_object()) ||
        (rc = vouch__tpm_json_set(o, "verified", json_boolean(res->verified))) != VOUCH_OK) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    if (!res->verified &&
        ((rc = vouch__tpm_json_set(o, "error", json_string(vouch_err_name(res->error)))) !=
             VOUCH_OK ||
         (rc = vouch__tpm_json_set(o, "error_detail", json_string(res->error_detail))) != VOUCH_OK))
        goto out;
    if (res->claims &&
        (rc = vouch__tpm_json_set(o, "claims", json_deep_copy(res->claims))) != VOUCH_OK)
        goto out;
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}
