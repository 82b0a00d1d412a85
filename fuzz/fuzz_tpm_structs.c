/*
 * Fuzz target: the TPM structure decoders. The first byte picks the
 * structure, the rest is its marshalled form: 0 TPMT_PUBLIC/TPM2B_PUBLIC
 * (and the AK built from it), 1 TPMS_ATTEST, 2 TPMT_SIGNATURE (also checked
 * against a fixed ECDSA P-256 AK, which exercises the r/s handling), 3 a PCR
 * values file (text or JSON).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

/* The swtpm ECC AK of the test vectors (a TPM2B_PUBLIC). */
static const uint8_t ecc_ak[] = {
    0x00, 0x58, 0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10, 0x00,
    0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10, 0x00, 0x20, 0xa4, 0xba, 0xdf, 0x45, 0xc6, 0x46,
    0xb1, 0xd6, 0x24, 0x29, 0xa3, 0xc8, 0x0e, 0xa4, 0x30, 0x56, 0x2d, 0xf6, 0xca, 0x7f, 0xe2,
    0xba, 0x82, 0x14, 0xf2, 0x81, 0x74, 0xe8, 0xa4, 0xc4, 0x6c, 0xea, 0x00, 0x20, 0xff, 0x4b,
    0x56, 0x0c, 0x56, 0x6b, 0x83, 0xf8, 0x44, 0xaf, 0x09, 0xa2, 0x4b, 0xca, 0x77, 0x8a, 0xb0,
    0x1b, 0x84, 0xab, 0xfd, 0x51, 0xf3, 0x72, 0xde, 0x37, 0x81, 0xa0, 0xff, 0x5a, 0xcd, 0x4e};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t msg[] = {0xff, 'T', 'C', 'G', 0x80, 0x18};
    struct vouch_tpm_public pub;
    struct vouch_tpm_attest attest;
    struct vouch_tpm_signature sig;
    struct vouch_tpm_pcrs pcrs = {0};
    struct vouch_tpm_ak *ak = NULL;
    json_t *j = NULL;

    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        /* An accepted key has a Name, and an AK is a public area first. */
        if (vouch_tpm_public_parse(data + 1, size - 1, &pub) == VOUCH_OK && pub.name_len < 22)
            abort();
        if (vouch_tpm_ak_parse(data + 1, size - 1, &ak) == VOUCH_OK) {
            if (vouch_tpm_public_parse(data + 1, size - 1, &pub) != VOUCH_OK)
                abort();
            vouch_tpm_ak_free(ak);
        }
        break;
    case 1:
        if (vouch_tpm_attest_parse(data + 1, size - 1, &attest) == VOUCH_OK &&
            (attest.n_banks > VOUCH_MAX_TPM_PCR_BANKS ||
             attest.pcr_digest_len > VOUCH_TPM_MAX_DIGEST))
            abort();
        break;
    case 2:
        if (vouch_tpm_signature_parse(data + 1, size - 1, &sig) == VOUCH_OK &&
            (sig.sig_len > sizeof(sig.sig) || sig.r_len > sizeof(sig.r)))
            abort();
        /* The fixed message was never signed: nothing may verify. */
        if (vouch_tpm_ak_parse(ecc_ak, sizeof(ecc_ak), &ak) == VOUCH_OK) {
            if (vouch_tpm_verify_signature(ak, msg, sizeof(msg), data + 1, size - 1, true) ==
                VOUCH_OK)
                abort();
            vouch_tpm_ak_free(ak);
        }
        break;
    default:
        if (vouch_tpm_pcrs_parse(data + 1, size - 1, &pcrs) == VOUCH_OK &&
            vouch_tpm_pcrs_json(&pcrs, &j) == VOUCH_OK)
            json_decref(j);
        break;
    }
    return 0;
}
