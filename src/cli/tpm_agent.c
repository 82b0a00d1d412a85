/* The ESYS layer of the TPM agent (see tpm_agent.h). */
#include "cli/tpm_agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tcti.h>
#include <tss2/tss2_tctildr.h>
#include <vouch/mem.h>

/* TPM_RC_INITIALIZE: TPM2_Startup when the TPM is already started. */
#define RC_INITIALIZE 0x00000100u
/* Format-one response codes carry the failing handle/parameter in bits 8-11;
 * the error itself is the low 6 bits plus the format bit. */
#define RC_FMT1           0x080u
#define RC_FMT1_MASK      0x0bfu
#define RC_LAYER_MASK     0xffff0000u
#define RC_INTEGRITY_CODE 0x09fu /* TPM_RC_INTEGRITY: the credential's HMAC failed */
#define RC_VALUE_CODE     0x084u
#define RC_SIZE_CODE      0x095u
#define RC_ECC_POINT_CODE 0x0a7u

/* PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the authPolicy of the TCG
 * default EK templates (EK Credential Profile 2.0, B.3.3). */
static const uint8_t ek_policy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

/* tpm2_createak's AK attributes. */
#define AK_ATTRS                                                                        \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | \
     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)
/* Attributes of the default EK template L-1: fixedTPM, fixedParent,
 * sensitiveDataOrigin, adminWithPolicy, restricted, decrypt (0x000300b2). */
#define EK_ATTRS                                                                        \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | \
     TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

struct tpm_agent {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR ek;
    bool ek_transient;   /* created here: flush it; else a persistent handle */
    uint32_t ek_cert_nv; /* NV index of the loaded EK's certificate */
    ESYS_TR ak;
    bool ak_transient;
    char err[256];
};

static void set_err(struct tpm_agent *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct tpm_agent *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->err, sizeof(a->err), fmt, ap);
    va_end(ap);
}

const char *tpm_agent_error(const struct tpm_agent *a)
{
    return a && a->err[0] ? a->err : "unknown TPM agent error";
}

/* A TPM response code without the handle/parameter number. */
static uint32_t rc_code(TSS2_RC rc)
{
    uint32_t tpm = rc & ~RC_LAYER_MASK;

    return (tpm & RC_FMT1) ? (tpm & RC_FMT1_MASK) : tpm;
}

vouch_err tpm_agent_open(const char *tcti, struct tpm_agent **out, char *err, size_t err_cap)
{
    return tpm_agent_open_at(tcti, 0, out, err, err_cap);
}

vouch_err tpm_agent_open_at(const char *tcti, unsigned locality, struct tpm_agent **out, char *err,
                            size_t err_cap)
{
    struct tpm_agent *a = NULL;
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;

    *out = NULL;
    if (!tcti || !*tcti) {
        snprintf(err, err_cap, "no TCTI given");
        return VOUCH_ERR_INVAL;
    }
    if (!(a = vouch_calloc(1, sizeof(*a)))) {
        snprintf(err, err_cap, "out of memory");
        return VOUCH_ERR_NOMEM;
    }
    a->ek = ESYS_TR_NONE;
    a->ak = ESYS_TR_NONE;
    /* tpm2-tss logs every failed command at ERROR level on stderr, including
     * the lookups we expect to fail (an absent EK handle). Quiet unless the
     * user asked for its logging. */
    setenv("TSS2_LOG", "all+none", 0);
    if ((rc = Tss2_TctiLdr_Initialize(tcti, &a->tcti)) != TSS2_RC_SUCCESS) {
        snprintf(err, err_cap, "cannot open TCTI \"%.100s\" (rc 0x%08x)", tcti, rc);
        goto out;
    }
    if ((rc = Esys_Initialize(&a->esys, a->tcti, NULL)) != TSS2_RC_SUCCESS) {
        snprintf(err, err_cap, "cannot initialise ESYS over \"%.100s\" (rc 0x%08x)", tcti, rc);
        goto out;
    }
    if (locality > TPM_AGENT_MAX_LOCALITY) {
        snprintf(err, err_cap, "locality %u does not exist", locality);
        ret = VOUCH_ERR_INVAL;
        goto out;
    }
    if (locality == 0) {
        rc = Esys_Startup(a->esys, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS && rc_code(rc) != RC_INITIALIZE) {
            snprintf(err, err_cap, "TPM2_Startup failed on \"%.100s\" (rc 0x%08x)", tcti, rc);
            goto out;
        }
    } else {
        /* The TPM must not be started yet: TPM2_Startup's locality is what
         * sets PCR0's initial value, and only the first Startup counts. */
        if ((rc = Tss2_Tcti_SetLocality(a->tcti, (uint8_t)locality)) != TSS2_RC_SUCCESS) {
            snprintf(err, err_cap, "the TCTI \"%.100s\" cannot use locality %u (rc 0x%08x)", tcti,
                     locality, rc);
            goto out;
        }
        rc = Esys_Startup(a->esys, TPM2_SU_CLEAR);
        if (rc_code(rc) == RC_INITIALIZE) {
            snprintf(err, err_cap,
                     "the TPM at \"%.100s\" is already started, so PCR0 cannot start at "
                     "locality %u (start swtpm with --locality allow-set-locality and without "
                     "the startup-clear flag)",
                     tcti, locality);
            ret = VOUCH_ERR_POLICY;
            goto out;
        }
        if (rc != TSS2_RC_SUCCESS) {
            snprintf(err, err_cap,
                     "TPM2_Startup at locality %u failed on \"%.100s\" (rc 0x%08x; swtpm needs "
                     "--locality allow-set-locality)",
                     locality, tcti, rc);
            goto out;
        }
        if ((rc = Tss2_Tcti_SetLocality(a->tcti, 0)) != TSS2_RC_SUCCESS) {
            snprintf(err, err_cap, "cannot return to locality 0 (rc 0x%08x)", rc);
            goto out;
        }
    }
    *out = a;
    a = NULL;
    ret = VOUCH_OK;
out:
    tpm_agent_close(a);
    return ret;
}

void tpm_agent_close(struct tpm_agent *a)
{
    if (!a)
        return;
    if (a->esys) {
        if (a->ak != ESYS_TR_NONE) {
            if (a->ak_transient)
                (void)Esys_FlushContext(a->esys, a->ak);
            else
                (void)Esys_TR_Close(a->esys, &a->ak);
        }
        if (a->ek != ESYS_TR_NONE) {
            if (a->ek_transient)
                (void)Esys_FlushContext(a->esys, a->ek);
            else
                (void)Esys_TR_Close(a->esys, &a->ek);
        }
        Esys_Finalize(&a->esys);
    }
    if (a->tcti)
        Tss2_TctiLdr_Finalize(&a->tcti);
    vouch_free(a);
}

static vouch_err marshal_public(struct tpm_agent *a, const TPM2B_PUBLIC *pub,
                                struct tpm_agent_blob *out)
{
    size_t off = 0;

    if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out->b, sizeof(out->b), &off) != TSS2_RC_SUCCESS) {
        set_err(a, "cannot marshal a public area");
        return VOUCH_ERR_INTERNAL;
    }
    out->len = off;
    return VOUCH_OK;
}

/* The TCG default EK templates (EK Credential Profile 2.0, B.3.3): L-1
 * (RSA-2048, AES-128-CFB, unique = 256 zero bytes) and L-2 (NIST P-256,
 * AES-128-CFB, unique = two 32-byte zero coordinates). */
static void ek_template(enum tpm_agent_ek_type type, TPM2B_PUBLIC *t)
{
    memset(t, 0, sizeof(*t));
    t->publicArea.nameAlg = TPM2_ALG_SHA256;
    t->publicArea.objectAttributes = EK_ATTRS;
    t->publicArea.authPolicy.size = sizeof(ek_policy);
    memcpy(t->publicArea.authPolicy.buffer, ek_policy, sizeof(ek_policy));
    if (type == TPM_AGENT_EK_ECC) {
        TPMS_ECC_PARMS *e = &t->publicArea.parameters.eccDetail;
        t->publicArea.type = TPM2_ALG_ECC;
        e->symmetric.algorithm = TPM2_ALG_AES;
        e->symmetric.keyBits.aes = 128;
        e->symmetric.mode.aes = TPM2_ALG_CFB;
        e->scheme.scheme = TPM2_ALG_NULL;
        e->curveID = TPM2_ECC_NIST_P256;
        e->kdf.scheme = TPM2_ALG_NULL;
        t->publicArea.unique.ecc.x.size = 32;
        t->publicArea.unique.ecc.y.size = 32;
        return;
    }
    t->publicArea.type = TPM2_ALG_RSA;
    t->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    t->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
    t->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    t->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    t->publicArea.parameters.rsaDetail.keyBits = 2048;
    t->publicArea.parameters.rsaDetail.exponent = 0;
    t->publicArea.unique.rsa.size = 256;
}

/* True when @p p is an EK of @p type (RSA, or ECC on P-256) that
 * ActivateCredential and TPM2_Create can use with our policy session: a
 * restricted decryption key fixed to the TPM whose admin role needs
 * PolicySecret(TPM_RH_ENDORSEMENT). */
static bool is_standard_ek(enum tpm_agent_ek_type type, const TPMT_PUBLIC *p)
{
    bool key_ok =
        type == TPM_AGENT_EK_ECC
            ? p->type == TPM2_ALG_ECC && p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256
            : p->type == TPM2_ALG_RSA;

    return key_ok && p->nameAlg == TPM2_ALG_SHA256 &&
           (p->objectAttributes & EK_ATTRS) == EK_ATTRS &&
           !(p->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) &&
           p->authPolicy.size == sizeof(ek_policy) &&
           memcmp(p->authPolicy.buffer, ek_policy, sizeof(ek_policy)) == 0;
}

vouch_err tpm_agent_load_ek(struct tpm_agent *a, struct tpm_agent_blob *ek_pub)
{
    return tpm_agent_load_ek_type(a, TPM_AGENT_EK_RSA, ek_pub);
}

vouch_err tpm_agent_load_ek_type(struct tpm_agent *a, enum tpm_agent_ek_type type,
                                 struct tpm_agent_blob *ek_pub)
{
    const uint32_t handle =
        type == TPM_AGENT_EK_ECC ? TPM_AGENT_EK_ECC_HANDLE : TPM_AGENT_EK_HANDLE;
    const char *what = type == TPM_AGENT_EK_ECC ? "an ECC P-256" : "an RSA";
    TPM2B_PUBLIC *pub = NULL;
    TPM2B_PUBLIC tmpl;
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_DATA outside = {.size = 0};
    TPML_PCR_SELECTION creation_pcr = {.count = 0};
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;

    if (a->ek != ESYS_TR_NONE) {
        set_err(a, "the EK is already loaded");
        return VOUCH_ERR_INVAL;
    }
    rc = Esys_TR_FromTPMPublic(a->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &a->ek);
    if (rc == TSS2_RC_SUCCESS) {
        a->ek_transient = false;
        if ((rc = Esys_ReadPublic(a->esys, a->ek, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
                                  NULL, NULL)) != TSS2_RC_SUCCESS) {
            set_err(a, "cannot read the EK at 0x%08x (rc 0x%08x)", handle, rc);
            goto out;
        }
        if (!is_standard_ek(type, &pub->publicArea)) {
            set_err(a,
                    "the key at 0x%08x is not %s EK of the TCG default template "
                    "(restricted decrypt key with policy PolicySecret(TPM_RH_ENDORSEMENT))",
                    handle, what);
            ret = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
    } else {
        /* No persistent EK: derive it from the template, which gives the
         * same key the manufacturer certified (if it certified one). */
        a->ek = ESYS_TR_NONE;
        ek_template(type, &tmpl);
        memset(&sens, 0, sizeof(sens));
        rc = Esys_CreatePrimary(a->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr, &a->ek, &pub,
                                NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
            a->ek = ESYS_TR_NONE;
            set_err(a,
                    "no EK at 0x%08x and creating %s one from the default template failed "
                    "(rc 0x%08x)",
                    handle, what, rc);
            goto out;
        }
        a->ek_transient = true;
    }
    a->ek_cert_nv = type == TPM_AGENT_EK_ECC ? TPM_AGENT_EK_ECC_CERT_NV : TPM_AGENT_EK_CERT_NV;
    ret = marshal_public(a, pub, ek_pub);
out:
    Esys_Free(pub);
    return ret;
}

vouch_err tpm_agent_ek_cert(struct tpm_agent *a, uint8_t **der, size_t *len)
{
    ESYS_TR nv = ESYS_TR_NONE;
    TPM2B_NV_PUBLIC *nvpub = NULL;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more = 0;
    uint8_t *buf = NULL;
    uint16_t size, chunk = 512, off = 0;
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;
    /* The index of the loaded EK's type; RSA's when no EK is loaded. */
    const uint32_t nv_index = a->ek_cert_nv ? a->ek_cert_nv : TPM_AGENT_EK_CERT_NV;

    *der = NULL;
    *len = 0;
    rc = Esys_TR_FromTPMPublic(a->esys, nv_index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS) {
        nv = ESYS_TR_NONE;
        set_err(a, "no EK certificate at NV 0x%08x", nv_index);
        ret = VOUCH_ERR_NOT_FOUND;
        goto out;
    }
    if ((rc = Esys_NV_ReadPublic(a->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nvpub,
                                 NULL)) != TSS2_RC_SUCCESS) {
        set_err(a, "cannot read NV 0x%08x's public area (rc 0x%08x)", nv_index, rc);
        goto out;
    }
    size = nvpub->nvPublic.dataSize;
    if (size == 0) {
        set_err(a, "the EK certificate index 0x%08x is empty", nv_index);
        ret = VOUCH_ERR_NOT_FOUND;
        goto out;
    }
    /* Read in chunks of at most TPM2_PT_NV_BUFFER_MAX bytes. */
    if (Esys_GetCapability(a->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                           TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, &more,
                           &cap) == TSS2_RC_SUCCESS &&
        cap->data.tpmProperties.count == 1 &&
        cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
        cap->data.tpmProperties.tpmProperty[0].value > 0 &&
        cap->data.tpmProperties.tpmProperty[0].value < chunk)
        chunk = (uint16_t)cap->data.tpmProperties.tpmProperty[0].value;
    if (!(buf = vouch_malloc(size))) {
        set_err(a, "out of memory");
        ret = VOUCH_ERR_NOMEM;
        goto out;
    }
    while (off < size) {
        TPM2B_MAX_NV_BUFFER *data = NULL;
        uint16_t want = (uint16_t)(size - off < chunk ? size - off : chunk);

        /* EK certificate indices are owner-readable (TPMA_NV_OWNERREAD) with
         * an empty owner password on a fresh TPM. */
        rc = Esys_NV_Read(a->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, want, off, &data);
        if (rc != TSS2_RC_SUCCESS || data->size != want) {
            Esys_Free(data);
            set_err(a, "cannot read the EK certificate at NV 0x%08x (rc 0x%08x)", nv_index, rc);
            goto out;
        }
        memcpy(buf + off, data->buffer, want);
        off = (uint16_t)(off + want);
        Esys_Free(data);
    }
    *der = buf;
    *len = size;
    buf = NULL;
    ret = VOUCH_OK;
out:
    vouch_free(buf);
    Esys_Free(nvpub);
    Esys_Free(cap);
    if (nv != ESYS_TR_NONE)
        (void)Esys_TR_Close(a->esys, &nv);
    return ret;
}

static void ak_template(enum tpm_agent_ak_type type, TPM2B_PUBLIC *t)
{
    memset(t, 0, sizeof(*t));
    t->publicArea.nameAlg = TPM2_ALG_SHA256;
    t->publicArea.objectAttributes = AK_ATTRS;
    if (type == TPM_AGENT_AK_ECC) {
        TPMS_ECC_PARMS *e = &t->publicArea.parameters.eccDetail;
        t->publicArea.type = TPM2_ALG_ECC;
        e->symmetric.algorithm = TPM2_ALG_NULL;
        e->scheme.scheme = TPM2_ALG_ECDSA;
        e->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        e->curveID = TPM2_ECC_NIST_P256;
        e->kdf.scheme = TPM2_ALG_NULL;
    } else {
        TPMS_RSA_PARMS *r = &t->publicArea.parameters.rsaDetail;
        t->publicArea.type = TPM2_ALG_RSA;
        r->symmetric.algorithm = TPM2_ALG_NULL;
        r->scheme.scheme = TPM2_ALG_RSASSA;
        r->scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        r->keyBits = 2048;
        r->exponent = 0;
    }
}

static vouch_err ak_finish(struct tpm_agent *a, uint32_t handle, struct tpm_agent_blob *ak_pub,
                           struct tpm_agent_blob *ak_name);

vouch_err tpm_agent_load_ak(struct tpm_agent *a, enum tpm_agent_ak_type type, uint32_t handle,
                            struct tpm_agent_blob *ak_pub, struct tpm_agent_blob *ak_name)
{
    TPM2B_PUBLIC tmpl;
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_DATA outside = {.size = 0};
    TPML_PCR_SELECTION creation_pcr = {.count = 0};
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;

    if (a->ak != ESYS_TR_NONE) {
        set_err(a, "the AK is already loaded");
        return VOUCH_ERR_INVAL;
    }
    if (handle) {
        if (handle < TPM_AGENT_PERSISTENT_FIRST || handle > TPM_AGENT_PERSISTENT_LAST) {
            set_err(a, "0x%08x is not a persistent object handle", handle);
            return VOUCH_ERR_INVAL;
        }
        rc = Esys_TR_FromTPMPublic(a->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &a->ak);
        if (rc != TSS2_RC_SUCCESS) {
            a->ak = ESYS_TR_NONE;
            set_err(a, "no AK at 0x%08x (rc 0x%08x)", handle, rc);
            ret = VOUCH_ERR_NOT_FOUND;
            goto out;
        }
        a->ak_transient = false;
    } else {
        ak_template(type, &tmpl);
        memset(&sens, 0, sizeof(sens));
        rc = Esys_CreatePrimary(a->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr, &a->ak, NULL,
                                NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
            a->ak = ESYS_TR_NONE;
            set_err(a, "cannot create the AK in the endorsement hierarchy (rc 0x%08x)", rc);
            goto out;
        }
        a->ak_transient = true;
    }
    ret = ak_finish(a, handle, ak_pub, ak_name);
out:
    return ret;
}

/* Reads the loaded AK's public area and Name and checks its attributes
 * (@p handle only names it in the error). */
static vouch_err ak_finish(struct tpm_agent *a, uint32_t handle, struct tpm_agent_blob *ak_pub,
                           struct tpm_agent_blob *ak_name)
{
    TPM2B_PUBLIC *pub = NULL;
    TPM2B_NAME *name = NULL;
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;
    uint32_t attrs;

    if ((rc = Esys_ReadPublic(a->esys, a->ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name,
                              NULL)) != TSS2_RC_SUCCESS) {
        set_err(a, "cannot read the AK's public area (rc 0x%08x)", rc);
        goto out;
    }
    /* A persistent key must be an AK: quotes by anything else are refused by
     * the service anyway, so say so here. */
    attrs = pub->publicArea.objectAttributes;
    if ((attrs & (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                  TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)) !=
            (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
             TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT) ||
        (attrs & TPMA_OBJECT_DECRYPT)) {
        if (handle)
            set_err(a, "the key at 0x%08x is not an AK (attributes 0x%08x)", handle, attrs);
        else
            set_err(a, "the TPM made an AK with attributes 0x%08x", attrs);
        ret = VOUCH_ERR_POLICY;
        goto out;
    }
    if (name->size > sizeof(ak_name->b)) {
        set_err(a, "AK Name too long");
        goto out;
    }
    memcpy(ak_name->b, name->name, name->size);
    ak_name->len = name->size;
    ret = marshal_public(a, pub, ak_pub);
out:
    Esys_Free(pub);
    Esys_Free(name);
    return ret;
}

/* A policy session satisfying the EK's authPolicy,
 * PolicySecret(TPM_RH_ENDORSEMENT). A policy session authorises one
 * command, so every use of the EK needs a fresh one; the caller flushes it. */
static vouch_err ek_session(struct tpm_agent *a, ESYS_TR *session)
{
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
    TSS2_RC rc;

    rc = Esys_StartAuthSession(a->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, session);
    if (rc != TSS2_RC_SUCCESS) {
        *session = ESYS_TR_NONE;
        set_err(a, "cannot start a policy session (rc 0x%08x)", rc);
        return VOUCH_ERR_IO;
    }
    rc = Esys_PolicySecret(a->esys, ESYS_TR_RH_ENDORSEMENT, *session, ESYS_TR_PASSWORD,
                           ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        set_err(a, "PolicySecret(TPM_RH_ENDORSEMENT) failed (rc 0x%08x)", rc);
        return VOUCH_ERR_IO;
    }
    return VOUCH_OK;
}

vouch_err tpm_agent_create_ak(struct tpm_agent *a, enum tpm_agent_ak_type type,
                              struct tpm_agent_blob *ak_pub, struct tpm_agent_blob *ak_name)
{
    TPM2B_PUBLIC tmpl;
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_DATA outside = {.size = 0};
    TPML_PCR_SELECTION creation_pcr = {.count = 0};
    TPM2B_PRIVATE *priv = NULL;
    TPM2B_PUBLIC *pub = NULL;
    ESYS_TR session = ESYS_TR_NONE;
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;

    if (a->ak != ESYS_TR_NONE) {
        set_err(a, "the AK is already loaded");
        return VOUCH_ERR_INVAL;
    }
    if (a->ek == ESYS_TR_NONE) {
        set_err(a, "an AK under the EK needs the EK loaded first");
        return VOUCH_ERR_INVAL;
    }
    ak_template(type, &tmpl);
    memset(&sens, 0, sizeof(sens));
    if ((ret = ek_session(a, &session)) != VOUCH_OK)
        goto out;
    ret = VOUCH_ERR_IO;
    rc = Esys_Create(a->esys, a->ek, session, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside,
                     &creation_pcr, &priv, &pub, NULL, NULL, NULL);
    (void)Esys_FlushContext(a->esys, session);
    session = ESYS_TR_NONE;
    if (rc != TSS2_RC_SUCCESS) {
        set_err(a, "TPM2_Create of an AK under the EK failed (rc 0x%08x)", rc);
        goto out;
    }
    if ((ret = ek_session(a, &session)) != VOUCH_OK)
        goto out;
    ret = VOUCH_ERR_IO;
    rc = Esys_Load(a->esys, a->ek, session, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &a->ak);
    if (rc != TSS2_RC_SUCCESS) {
        a->ak = ESYS_TR_NONE;
        set_err(a, "TPM2_Load of the AK under the EK failed (rc 0x%08x)", rc);
        goto out;
    }
    a->ak_transient = true;
    ret = ak_finish(a, 0, ak_pub, ak_name);
out:
    if (session != ESYS_TR_NONE)
        (void)Esys_FlushContext(a->esys, session);
    /* The private blob is wrapped by the EK's storage key: useless outside
     * this TPM, but not kept either. */
    if (priv) {
        vouch_wipe(priv, sizeof(*priv));
        Esys_Free(priv);
    }
    Esys_Free(pub);
    return ret;
}

vouch_err tpm_agent_activate(struct tpm_agent *a, const uint8_t *id_object, size_t id_len,
                             const uint8_t *enc_secret, size_t enc_len, uint8_t *out, size_t cap,
                             size_t *out_len)
{
    TPM2B_ID_OBJECT blob;
    TPM2B_ENCRYPTED_SECRET secret;
    TPM2B_DIGEST *cred = NULL;
    ESYS_TR session = ESYS_TR_NONE;
    size_t off = 0;
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;

    *out_len = 0;
    memset(&blob, 0, sizeof(blob));
    memset(&secret, 0, sizeof(secret));
    if (a->ek == ESYS_TR_NONE || a->ak == ESYS_TR_NONE) {
        set_err(a, "credential activation needs the EK and the AK loaded");
        return VOUCH_ERR_INVAL;
    }
    if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(id_object, id_len, &off, &blob) != TSS2_RC_SUCCESS ||
        off != id_len) {
        set_err(a, "credential_blob is not a marshalled TPM2B_ID_OBJECT");
        return VOUCH_ERR_PARSE;
    }
    off = 0;
    if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc_secret, enc_len, &off, &secret) !=
            TSS2_RC_SUCCESS ||
        off != enc_len) {
        set_err(a, "encrypted_secret is not a marshalled TPM2B_ENCRYPTED_SECRET");
        return VOUCH_ERR_PARSE;
    }
    /* The EK's only role is admin, and its policy is
     * PolicySecret(TPM_RH_ENDORSEMENT): satisfy it in a fresh session. */
    if ((ret = ek_session(a, &session)) != VOUCH_OK)
        goto out;
    ret = VOUCH_ERR_IO;
    rc = Esys_ActivateCredential(a->esys, a->ak, a->ek, ESYS_TR_PASSWORD, session, ESYS_TR_NONE,
                                 &blob, &secret, &cred);
    if (rc != TSS2_RC_SUCCESS) {
        uint32_t code = rc_code(rc);
        set_err(a,
                "TPM2_ActivateCredential refused the credential (rc 0x%08x): it was not made "
                "for this EK and AK",
                rc);
        ret = (code == RC_INTEGRITY_CODE || code == RC_VALUE_CODE || code == RC_SIZE_CODE ||
               code == RC_ECC_POINT_CODE)
                  ? VOUCH_ERR_VERIFY
                  : VOUCH_ERR_IO;
        goto out;
    }
    if (cred->size > cap) {
        set_err(a, "the credential is larger than %zu bytes", cap);
        ret = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    memcpy(out, cred->buffer, cred->size);
    *out_len = cred->size;
    ret = VOUCH_OK;
out:
    if (cred) {
        vouch_wipe(cred->buffer, sizeof(cred->buffer));
        Esys_Free(cred);
    }
    if (session != ESYS_TR_NONE)
        (void)Esys_FlushContext(a->esys, session);
    return ret;
}

vouch_err tpm_agent_banks(struct tpm_agent *a, uint16_t *algs, size_t cap, size_t *n)
{
    TPMS_CAPABILITY_DATA *data = NULL;
    TPMI_YES_NO more = 0;
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;

    *n = 0;
    rc = Esys_GetCapability(a->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1,
                            &more, &data);
    if (rc != TSS2_RC_SUCCESS) {
        set_err(a, "cannot read the PCR allocation (rc 0x%08x)", rc);
        goto out;
    }
    for (uint32_t i = 0; i < data->data.assignedPCR.count; i++) {
        const TPMS_PCR_SELECTION *s = &data->data.assignedPCR.pcrSelections[i];
        bool any = false;

        for (unsigned b = 0; b < s->sizeofSelect && b < sizeof(s->pcrSelect); b++)
            any |= s->pcrSelect[b] != 0;
        if (!any)
            continue;
        if (*n >= cap) {
            set_err(a, "the TPM has more than %zu PCR banks", cap);
            ret = VOUCH_ERR_TOO_LARGE;
            goto out;
        }
        algs[(*n)++] = s->hash;
    }
    ret = VOUCH_OK;
out:
    Esys_Free(data);
    return ret;
}

static void to_selection(const struct vouch_tpm_pcr_select *sel, size_t n, TPML_PCR_SELECTION *t)
{
    memset(t, 0, sizeof(*t));
    t->count = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        t->pcrSelections[i].hash = sel[i].alg;
        t->pcrSelections[i].sizeofSelect = 3;
        for (unsigned b = 0; b < 3; b++)
            t->pcrSelections[i].pcrSelect[b] = (uint8_t)(sel[i].mask >> (8 * b));
    }
}

/* Reads every PCR of @p sel into @p values. TPM2_PCR_Read returns at most
 * eight digests per call and says which ones in its output selection, so
 * read until nothing is left. */
vouch_err tpm_agent_read_pcrs(struct tpm_agent *a, const struct vouch_tpm_pcr_select *sel, size_t n,
                              struct vouch_tpm_pcrs *values)
{
    struct vouch_tpm_pcr_select left[VOUCH_MAX_TPM_PCR_BANKS];
    TPML_PCR_SELECTION want;
    vouch_err ret = VOUCH_ERR_IO;

    if (n == 0 || n > VOUCH_MAX_TPM_PCR_BANKS || n > TPM2_NUM_PCR_BANKS) {
        set_err(a, "bad PCR selection");
        return VOUCH_ERR_INVAL;
    }
    memcpy(left, sel, n * sizeof(*sel));
    for (unsigned round = 0; round < VOUCH_TPM_NUM_PCRS * VOUCH_MAX_TPM_PCR_BANKS; round++) {
        TPML_PCR_SELECTION *got = NULL;
        TPML_DIGEST *dig = NULL;
        UINT32 counter = 0;
        size_t k = 0, nleft = 0;
        TSS2_RC rc;

        for (size_t i = 0; i < n; i++)
            nleft += left[i].mask != 0;
        if (nleft == 0)
            return VOUCH_OK;
        to_selection(left, n, &want);
        rc = Esys_PCR_Read(a->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &counter, &got,
                           &dig);
        if (rc != TSS2_RC_SUCCESS) {
            set_err(a, "TPM2_PCR_Read failed (rc 0x%08x)", rc);
            return VOUCH_ERR_IO;
        }
        ret = VOUCH_OK;
        for (uint32_t s = 0; s < got->count && ret == VOUCH_OK; s++) {
            const TPMS_PCR_SELECTION *ps = &got->pcrSelections[s];
            size_t bank;

            for (bank = 0; bank < n && left[bank].alg != ps->hash; bank++)
                ;
            for (unsigned i = 0; i < VOUCH_TPM_NUM_PCRS && ret == VOUCH_OK; i++) {
                if (i / 8 >= ps->sizeofSelect || !(ps->pcrSelect[i / 8] & (1u << (i % 8))))
                    continue;
                if (bank == n || !(left[bank].mask & (1u << i)) || k >= dig->count ||
                    dig->digests[k].size != vouch_tpm_digest_len(ps->hash)) {
                    set_err(a, "TPM2_PCR_Read answered with PCRs that were not asked for");
                    ret = VOUCH_ERR_IO;
                    break;
                }
                ret = vouch_tpm_pcrs_set(values, ps->hash, i, dig->digests[k].buffer,
                                         dig->digests[k].size);
                if (ret != VOUCH_OK)
                    set_err(a, "cannot store a PCR value");
                left[bank].mask &= ~(1u << i);
                k++;
            }
        }
        if (ret == VOUCH_OK && k == 0) {
            set_err(a, "TPM2_PCR_Read returned nothing (is a bank not allocated?)");
            ret = VOUCH_ERR_IO;
        }
        Esys_Free(got);
        Esys_Free(dig);
        if (ret != VOUCH_OK)
            return ret;
    }
    set_err(a, "TPM2_PCR_Read did not make progress");
    return VOUCH_ERR_IO;
}

vouch_err tpm_agent_quote(struct tpm_agent *a, const struct vouch_tpm_pcr_select *sel, size_t n_sel,
                          const uint8_t *qualifying_data, size_t qd_len,
                          struct tpm_agent_blob *quote, struct tpm_agent_blob *sig,
                          struct vouch_tpm_pcrs *values)
{
    TPM2B_DATA qd;
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPML_PCR_SELECTION tsel;
    TPM2B_ATTEST *attest = NULL;
    TPMT_SIGNATURE *signature = NULL;
    size_t off = 0;
    TSS2_RC rc;
    vouch_err ret = VOUCH_ERR_IO;

    if (a->ak == ESYS_TR_NONE) {
        set_err(a, "no AK loaded");
        return VOUCH_ERR_INVAL;
    }
    if (n_sel == 0 || n_sel > VOUCH_MAX_TPM_PCR_BANKS || n_sel > TPM2_NUM_PCR_BANKS ||
        qd_len > sizeof(qd.buffer)) {
        set_err(a, "bad quote parameters");
        return VOUCH_ERR_INVAL;
    }
    qd.size = (uint16_t)qd_len;
    memcpy(qd.buffer, qualifying_data, qd_len);
    to_selection(sel, n_sel, &tsel);
    rc = Esys_Quote(a->esys, a->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme,
                    &tsel, &attest, &signature);
    if (rc != TSS2_RC_SUCCESS) {
        set_err(a, "TPM2_Quote failed (rc 0x%08x)", rc);
        goto out;
    }
    if (attest->size > sizeof(quote->b)) {
        set_err(a, "the quote is larger than %zu bytes", sizeof(quote->b));
        goto out;
    }
    memcpy(quote->b, attest->attestationData, attest->size);
    quote->len = attest->size;
    if (Tss2_MU_TPMT_SIGNATURE_Marshal(signature, sig->b, sizeof(sig->b), &off) !=
        TSS2_RC_SUCCESS) {
        set_err(a, "cannot marshal the quote signature");
        goto out;
    }
    sig->len = off;
    ret = tpm_agent_read_pcrs(a, sel, n_sel, values);
out:
    Esys_Free(attest);
    Esys_Free(signature);
    return ret;
}

vouch_err tpm_agent_extend(struct tpm_agent *a, unsigned pcr, const struct tpm_agent_digest *d,
                           size_t n)
{
    TPML_DIGEST_VALUES v;
    TSS2_RC rc;

    memset(&v, 0, sizeof(v));
    if (pcr >= VOUCH_TPM_NUM_PCRS || n == 0 || n > TPM2_NUM_PCR_BANKS) {
        set_err(a, "bad PCR extend parameters");
        return VOUCH_ERR_INVAL;
    }
    v.count = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        size_t len = vouch_tpm_digest_len(d[i].alg);
        if (len == 0 || len > sizeof(TPMU_HA)) {
            set_err(a, "cannot extend bank 0x%04x", d[i].alg);
            return VOUCH_ERR_UNSUPPORTED;
        }
        v.digests[i].hashAlg = d[i].alg;
        memcpy(&v.digests[i].digest, d[i].p, len);
    }
    rc = Esys_PCR_Extend(a->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         &v);
    if (rc != TSS2_RC_SUCCESS) {
        set_err(a, "TPM2_PCR_Extend of PCR %u failed (rc 0x%08x)%s", pcr, rc,
                pcr >= 17 && pcr <= 22 ? ": PCRs 17-22 need locality 3 or 4" : "");
        return VOUCH_ERR_IO;
    }
    return VOUCH_OK;
}
