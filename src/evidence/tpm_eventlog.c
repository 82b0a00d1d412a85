/*
 * TCG PC Client boot event logs: parsing of the legacy SHA-1 and
 * crypto-agile formats with the bounds-checked reader, replay into PCR
 * values, per-event digest checks, and the boot claims derived from events
 * that are bound and verified (see vouch/tpm.h for the rules).
 */
#include <stdio.h>
#include <string.h>
#include <vouch/buf.h>
#include <vouch/crypto.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

#include "evidence/tpm_int.h"

#define SPEC_ID_SIGNATURE       "Spec ID Event03" /* 16 bytes with its NUL */
#define STARTUP_LOCALITY_SIG    "StartupLocality" /* 16 bytes with its NUL */
#define SIGNATURE_LEN           16u
#define STARTUP_LOCALITY_LEN    (SIGNATURE_LEN + 1u)
#define LEGACY_DIGEST_LEN       20u
#define SPEC_ID_MAJOR           2u
#define EVENTS_INITIAL          64u
#define UEFI_GUID_LEN           16u
#define UEFI_VAR_HEADER_LEN     (UEFI_GUID_LEN + 16u)
#define PCR_SECURE_BOOT_POLICY  7u
#define PCR_BOOT_MANAGER        4u
#define PCR_BOOT_MANAGER_CONFIG 5u
#define PCR_KERNEL_CMDLINE      8u
#define PCR_WBCL_FIRST          12u
#define PCR_WBCL_LAST           14u
#define PCR_SRTM                0u

/* Event types (TCG PC Client Platform Firmware Profile, table 9). */
#define EV_POST_CODE              0x00000001u
#define EV_ACTION                 0x00000005u
#define EV_S_CRTM_CONTENTS        0x00000007u
#define EV_S_CRTM_VERSION         0x00000008u
#define EV_EFI_VARIABLE_BOOT      0x80000002u
#define EV_EFI_GPT_EVENT          0x80000006u
#define EV_EFI_VARIABLE_BOOT2     0x8000000Cu
#define EV_EFI_VARIABLE_AUTHORITY 0x800000E0u

/* Windows boot configuration log (SIPA) event types, from wbcl.h. */
#define SIPA_CONTAINER_MASK 0x00ff0000u
#define SIPA_CONTAINER      0x00010000u
#define SIPA_BOOTDEBUGGING  0x00040001u
#define SIPA_OSKERNELDEBUG  0x00050001u
#define SIPA_CODEINTEGRITY  0x00050002u
#define SIPA_TESTSIGNING    0x00050003u
#define SIPA_SAFEMODE       0x00050005u
#define SIPA_WINPE          0x00050006u

/* EFI_GLOBAL_VARIABLE {8BE4DF61-93CA-11D2-AA0D-00E098032B8C} as stored. */
static const uint8_t efi_global_variable[UEFI_GUID_LEN] = {
    0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};

/* EFI_IMAGE_SECURITY_DATABASE_GUID {D719B2CB-3D3A-4596-A3BC-DAD00E67656F}
 * (db, dbx) as stored. */
static const uint8_t efi_image_security_database[UEFI_GUID_LEN] = {
    0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};

static const struct {
    uint32_t type;
    const char *name;
} event_names[] = {
    {0x00000000u, "EV_PREBOOT_CERT"},
    {0x00000001u, "EV_POST_CODE"},
    {0x00000002u, "EV_UNUSED"},
    {0x00000003u, "EV_NO_ACTION"},
    {0x00000004u, "EV_SEPARATOR"},
    {0x00000005u, "EV_ACTION"},
    {0x00000006u, "EV_EVENT_TAG"},
    {0x00000007u, "EV_S_CRTM_CONTENTS"},
    {0x00000008u, "EV_S_CRTM_VERSION"},
    {0x00000009u, "EV_CPU_MICROCODE"},
    {0x0000000Au, "EV_PLATFORM_CONFIG_FLAGS"},
    {0x0000000Bu, "EV_TABLE_OF_DEVICES"},
    {0x0000000Cu, "EV_COMPACT_HASH"},
    {0x0000000Du, "EV_IPL"},
    {0x0000000Eu, "EV_IPL_PARTITION_DATA"},
    {0x0000000Fu, "EV_NONHOST_CODE"},
    {0x00000010u, "EV_NONHOST_CONFIG"},
    {0x00000011u, "EV_NONHOST_INFO"},
    {0x00000012u, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {0x80000001u, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {0x80000002u, "EV_EFI_VARIABLE_BOOT"},
    {0x80000003u, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {0x80000004u, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {0x80000005u, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {0x80000006u, "EV_EFI_GPT_EVENT"},
    {0x80000007u, "EV_EFI_ACTION"},
    {0x80000008u, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {0x80000009u, "EV_EFI_HANDOFF_TABLES"},
    {0x8000000Au, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {0x8000000Bu, "EV_EFI_HANDOFF_TABLES2"},
    {0x8000000Cu, "EV_EFI_VARIABLE_BOOT2"},
    {0x80000010u, "EV_EFI_HCRTM_EVENT"},
    {0x800000E0u, "EV_EFI_VARIABLE_AUTHORITY"},
    {0x800000E1u, "EV_EFI_SPDM_FIRMWARE_BLOB"},
    {0x800000E2u, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
};

/* GRUB measures its strings after a label it does not hash. */
static const char *const grub_labels[] = {
    "grub_cmd: ", "kernel_cmdline: ", "module_cmdline: ", "grub_cmd ", "grub_kernel_cmdline "};
static const char *const cmdline_labels[] = {"kernel_cmdline: ", "grub_kernel_cmdline "};

const char *vouch_tpm_event_type_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++) {
        if (event_names[i].type == type)
            return event_names[i].name;
    }
    return NULL;
}

const char *vouch_tpm_digest_check_name(enum vouch_tpm_digest_check c)
{
    switch (c) {
    case VOUCH_TPM_DIGEST_UNCHECKED:
        return "unchecked";
    case VOUCH_TPM_DIGEST_VERIFIED:
        return "verified";
    case VOUCH_TPM_DIGEST_VERIFIED_PART:
        return "verified_part";
    case VOUCH_TPM_DIGEST_MISMATCH:
        return "mismatch";
    case VOUCH_TPM_DIGEST_NOT_DERIVABLE:
        return "not_derivable";
    }
    return "unknown";
}

static bool has_prefix(const uint8_t *p, size_t len, const char *lit, size_t lit_len)
{
    return len >= lit_len && memcmp(p, lit, lit_len) == 0;
}

/* ---------------- parsing ---------------- */

static int table_index(const struct vouch_tpm_log *log, uint16_t alg)
{
    for (size_t i = 0; i < log->n_algs; i++) {
        if (log->algs[i] == alg)
            return (int)i;
    }
    return -1;
}

bool vouch_tpm_log_has_bank(const struct vouch_tpm_log *log, uint16_t alg)
{
    return log && table_index(log, alg) >= 0;
}

/* TCG_EfiSpecIDEvent: the algorithm table that sizes every later digest. */
static vouch_err parse_spec_id(const uint8_t *p, size_t len, struct vouch_tpm_log *log)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r;
    uint32_t platform_class = 0;
    uint32_t n_algs = 0;
    uint8_t minor = 0, major = 0, errata = 0, uintn = 0, vendor_len = 0;

    vouch_reader_init(&r, p, len);
    if ((rc = vouch_reader_skip(&r, SIGNATURE_LEN)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &platform_class)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &minor)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &major)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &errata)) != VOUCH_OK ||
        (rc = vouch_reader_u8(&r, &uintn)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(&r, &n_algs)) != VOUCH_OK)
        goto bad;
    if (major != SPEC_ID_MAJOR || (uintn != 1 && uintn != 2) || n_algs == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (n_algs > VOUCH_MAX_TPM_LOG_ALGS) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    for (uint32_t i = 0; i < n_algs; i++) {
        uint16_t alg = 0, size = 0;
        size_t known;

        if ((rc = vouch_reader_u16le(&r, &alg)) != VOUCH_OK ||
            (rc = vouch_reader_u16le(&r, &size)) != VOUCH_OK)
            goto bad;
        known = vouch_tpm_digest_len(alg);
        /* Unknown banks are skipped by size, so the size must be sane; a
         * known bank with another size would make replay read garbage. */
        if (table_index(log, alg) >= 0 || size == 0 || size > VOUCH_TPM_MAX_DIGEST ||
            (known && known != size)) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        log->algs[log->n_algs] = alg;
        log->alg_sizes[log->n_algs] = size;
        log->n_algs++;
    }
    if ((rc = vouch_reader_u8(&r, &vendor_len)) != VOUCH_OK ||
        (rc = vouch_reader_skip(&r, vendor_len)) != VOUCH_OK)
        goto bad;
    if (vouch_reader_left(&r) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    (void)platform_class;
    (void)minor;
    (void)errata;
    rc = VOUCH_OK;
    goto out;
bad:
    /* Inside an event whose size was already checked, running out of bytes
     * means the header lies about its own layout. */
    rc = VOUCH_ERR_PARSE;
out:
    return rc;
}

static vouch_err read_event_data(struct vouch_reader *r, struct vouch_tpm_event *ev)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint32_t size = 0;

    if ((rc = vouch_reader_u32le(r, &size)) != VOUCH_OK)
        goto out;
    if (size > VOUCH_MAX_TPM_EVENT_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((rc = vouch_reader_view(r, size, &ev->data)) != VOUCH_OK)
        goto out;
    ev->data_len = size;
    rc = VOUCH_OK;
out:
    return rc;
}

/* TCG_PCR_EVENT: pcrIndex, eventType, SHA-1 digest, eventSize, event. */
static vouch_err read_legacy(struct vouch_reader *r, struct vouch_tpm_event *ev)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if ((rc = vouch_reader_u32le(r, &ev->pcr)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(r, &ev->type)) != VOUCH_OK ||
        (rc = vouch_reader_view(r, LEGACY_DIGEST_LEN, &ev->digests[0].p)) != VOUCH_OK ||
        (rc = read_event_data(r, ev)) != VOUCH_OK)
        goto out;
    ev->digests[0].alg = VOUCH_TPM_ALG_SHA1;
    ev->digests[0].len = LEGACY_DIGEST_LEN;
    ev->n_digests = 1;
    rc = VOUCH_OK;
out:
    return rc;
}

/* TCG_PCR_EVENT2: pcrIndex, eventType, TPML_DIGEST_VALUES, eventSize, event;
 * digest sizes come from the Spec ID table. */
static vouch_err read_agile(struct vouch_reader *r, const struct vouch_tpm_log *log,
                            struct vouch_tpm_event *ev)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint32_t count = 0;

    if ((rc = vouch_reader_u32le(r, &ev->pcr)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(r, &ev->type)) != VOUCH_OK ||
        (rc = vouch_reader_u32le(r, &count)) != VOUCH_OK)
        goto out;
    if (count > log->n_algs) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    for (uint32_t i = 0; i < count; i++) {
        struct vouch_tpm_digest *d = &ev->digests[i];
        uint16_t alg = 0;
        int t;

        if ((rc = vouch_reader_u16le(r, &alg)) != VOUCH_OK)
            goto out;
        t = table_index(log, alg);
        if (t < 0) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (ev->digests[j].alg == alg) {
                rc = VOUCH_ERR_PARSE;
                goto out;
            }
        }
        d->alg = alg;
        d->len = log->alg_sizes[t];
        if ((rc = vouch_reader_view(r, d->len, &d->p)) != VOUCH_OK)
            goto out;
    }
    ev->n_digests = count;
    rc = read_event_data(r, ev);
out:
    return rc;
}

static bool is_spec_id(const struct vouch_tpm_event *ev)
{
    return ev->type == VOUCH_TPM_EV_NO_ACTION && ev->pcr == 0 &&
           has_prefix(ev->data, ev->data_len, SPEC_ID_SIGNATURE, SIGNATURE_LEN);
}

/* StartupLocality sets PCR0's initial value, so it must come before PCR0 is
 * first extended and appear at most once. */
static vouch_err note_event(struct vouch_tpm_log *log, const struct vouch_tpm_event *ev,
                            bool *pcr0_extended)
{
    if (ev->type != VOUCH_TPM_EV_NO_ACTION) {
        if (ev->pcr >= VOUCH_TPM_NUM_PCRS)
            return VOUCH_ERR_PARSE;
        if (ev->pcr == PCR_SRTM)
            *pcr0_extended = true;
        return VOUCH_OK;
    }
    if (!has_prefix(ev->data, ev->data_len, STARTUP_LOCALITY_SIG, SIGNATURE_LEN))
        return VOUCH_OK;
    if (ev->data_len != STARTUP_LOCALITY_LEN || ev->pcr != PCR_SRTM || log->startup_locality >= 0 ||
        *pcr0_extended)
        return VOUCH_ERR_PARSE;
    switch (ev->data[SIGNATURE_LEN]) {
    case 0:
    case 3:
    case 4:
        log->startup_locality = ev->data[SIGNATURE_LEN];
        return VOUCH_OK;
    default:
        return VOUCH_ERR_PARSE;
    }
}

static vouch_err push_event(struct vouch_tpm_log *log, size_t *cap,
                            const struct vouch_tpm_event *ev)
{
    if (log->n_events == *cap) {
        size_t want = *cap ? 2 * *cap : EVENTS_INITIAL;
        struct vouch_tpm_event *grown;

        if (want > VOUCH_MAX_TPM_LOG_EVENTS)
            want = VOUCH_MAX_TPM_LOG_EVENTS;
        if (log->n_events >= want)
            return VOUCH_ERR_TOO_LARGE;
        grown = vouch_reallocarray(log->events, want, sizeof(*grown));
        if (!grown)
            return VOUCH_ERR_NOMEM;
        log->events = grown;
        *cap = want;
    }
    log->events[log->n_events++] = *ev;
    return VOUCH_OK;
}

vouch_err vouch_tpm_log_parse(const uint8_t *p, size_t len, struct vouch_tpm_log *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r;
    struct vouch_tpm_event ev;
    bool pcr0_extended = false;
    size_t cap = 0;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    out->startup_locality = -1;
    if (!p && len) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (len > VOUCH_MAX_TPM_LOG_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if (len == 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    vouch_reader_init(&r, p, len);
    /* Both formats open with a TCG_PCR_EVENT; a Spec ID Event03 in it makes
     * the rest crypto-agile. */
    memset(&ev, 0, sizeof(ev));
    if ((rc = read_legacy(&r, &ev)) != VOUCH_OK)
        goto out;
    if (is_spec_id(&ev)) {
        out->format = VOUCH_TPM_LOG_CRYPTO_AGILE;
        if ((rc = parse_spec_id(ev.data, ev.data_len, out)) != VOUCH_OK)
            goto out;
    } else {
        out->format = VOUCH_TPM_LOG_SHA1;
        out->algs[0] = VOUCH_TPM_ALG_SHA1;
        out->alg_sizes[0] = LEGACY_DIGEST_LEN;
        out->n_algs = 1;
        if ((rc = note_event(out, &ev, &pcr0_extended)) != VOUCH_OK)
            goto out;
    }
    if ((rc = push_event(out, &cap, &ev)) != VOUCH_OK)
        goto out;
    while (vouch_reader_left(&r) > 0) {
        memset(&ev, 0, sizeof(ev));
        ev.offset = vouch_reader_offset(&r);
        rc = out->format == VOUCH_TPM_LOG_CRYPTO_AGILE ? read_agile(&r, out, &ev)
                                                       : read_legacy(&r, &ev);
        if (rc != VOUCH_OK || (rc = note_event(out, &ev, &pcr0_extended)) != VOUCH_OK ||
            (rc = push_event(out, &cap, &ev)) != VOUCH_OK)
            goto out;
    }
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK) {
        vouch_tpm_log_free(out);
        out->startup_locality = -1;
    }
    return rc;
}

void vouch_tpm_log_free(struct vouch_tpm_log *log)
{
    if (!log)
        return;
    vouch_free(log->events);
    memset(log, 0, sizeof(*log));
    log->startup_locality = -1;
}

/* ---------------- replay ---------------- */

static const struct vouch_tpm_digest *event_digest(const struct vouch_tpm_event *ev, uint16_t alg)
{
    for (size_t i = 0; i < ev->n_digests; i++) {
        if (ev->digests[i].alg == alg)
            return &ev->digests[i];
    }
    return NULL;
}

/* Checks that @p alg is a bank of @p log that we can compute. */
static vouch_err bank_hasher(const struct vouch_tpm_log *log, uint16_t alg,
                             struct vouch_hasher **out)
{
    enum vouch_hash_alg h;

    *out = NULL;
    if (table_index(log, alg) < 0)
        return VOUCH_ERR_NOT_FOUND;
    if (!vouch__tpm_hash_alg(alg, &h))
        return VOUCH_ERR_UNSUPPORTED;
    return vouch_hasher_new(h, out);
}

vouch_err vouch_tpm_log_replay(const struct vouch_tpm_log *log, uint16_t alg,
                               struct vouch_tpm_pcr_bank *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_hasher *h = NULL;
    size_t dlen;

    if (!out)
        return VOUCH_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    if (!log || (!log->events && log->n_events)) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if ((rc = bank_hasher(log, alg, &h)) != VOUCH_OK)
        goto out;
    dlen = vouch_hasher_len(h);
    out->alg = alg;
    /* DRTM PCRs 17-22 reset to all-ones; a log without DRTM never resets them. */
    for (unsigned i = 17; i <= 22; i++)
        memset(out->values[i], 0xff, dlen);
    if (log->startup_locality >= 0)
        out->values[PCR_SRTM][dlen - 1] = (uint8_t)log->startup_locality;
    for (size_t e = 0; e < log->n_events; e++) {
        const struct vouch_tpm_event *ev = &log->events[e];
        const struct vouch_tpm_digest *d;

        if (ev->type == VOUCH_TPM_EV_NO_ACTION)
            continue;
        if (ev->pcr >= VOUCH_TPM_NUM_PCRS || !(d = event_digest(ev, alg)) || d->len != dlen) {
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
        if ((rc = vouch_hasher_digest2(h, out->values[ev->pcr], dlen, d->p, d->len,
                                       out->values[ev->pcr])) != VOUCH_OK)
            goto out;
        out->mask |= 1u << ev->pcr;
    }
    rc = VOUCH_OK;
out:
    vouch_hasher_free(h);
    if (rc != VOUCH_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---------------- per-event digest checks ---------------- */

/* A UEFI_VARIABLE_DATA: VariableName GUID, name length (UCS-2 characters),
 * data length, name, data; nothing may follow. */
struct uefi_var {
    const uint8_t *guid;
    const uint8_t *name; /* UCS-2LE */
    size_t name_chars;
    const uint8_t *data;
    size_t data_len;
};

static bool parse_uefi_var(const uint8_t *p, size_t len, struct uefi_var *v)
{
    struct vouch_reader r;
    uint64_t name_chars = 0, data_len = 0;

    memset(v, 0, sizeof(*v));
    vouch_reader_init(&r, p, len);
    if (vouch_reader_view(&r, UEFI_GUID_LEN, &v->guid) != VOUCH_OK ||
        vouch_reader_u64le(&r, &name_chars) != VOUCH_OK ||
        vouch_reader_u64le(&r, &data_len) != VOUCH_OK)
        return false;
    if (name_chars > vouch_reader_left(&r) / 2 ||
        vouch_reader_view(&r, (size_t)name_chars * 2, &v->name) != VOUCH_OK ||
        data_len != vouch_reader_left(&r) ||
        vouch_reader_view(&r, (size_t)data_len, &v->data) != VOUCH_OK)
        return false;
    v->name_chars = (size_t)name_chars;
    v->data_len = (size_t)data_len;
    return true;
}

static bool uefi_name_is(const struct uefi_var *v, const char *ascii)
{
    size_t n = strlen(ascii);

    if (v->name_chars != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v->name[2 * i] != (uint8_t)ascii[i] || v->name[2 * i + 1] != 0)
            return false;
    }
    return true;
}

/* The spec defines these digests as H(event data), so a difference means
 * the data is not what was measured. */
static bool digest_is_defined_over_data(uint32_t type)
{
    switch (type) {
    case VOUCH_TPM_EV_SEPARATOR:
    case EV_ACTION:
    case EV_S_CRTM_VERSION:
    case VOUCH_TPM_EV_EFI_VARIABLE_DRIVER_CONFIG:
    case EV_EFI_VARIABLE_BOOT:
    case EV_EFI_VARIABLE_BOOT2:
    case EV_EFI_VARIABLE_AUTHORITY:
    case EV_EFI_GPT_EVENT:
    case VOUCH_TPM_EV_EFI_ACTION:
        return true;
    default:
        return false;
    }
}

static vouch_err hash_eq(struct vouch_hasher *h, const uint8_t *a, size_t a_len, const uint8_t *b,
                         size_t b_len, const struct vouch_tpm_digest *d, bool *eq)
{
    uint8_t out[VOUCH_TPM_MAX_DIGEST];
    vouch_err rc = vouch_hasher_digest2(h, a, a_len, b, b_len, out);

    *eq = rc == VOUCH_OK && vouch_ct_eq(out, d->p, d->len);
    return rc;
}

/* GRUB: H(text after the label), with or without its trailing NUL. */
static vouch_err check_grub(struct vouch_hasher *h, const struct vouch_tpm_event *ev,
                            const struct vouch_tpm_digest *d, bool *eq)
{
    vouch_err rc = VOUCH_OK;

    *eq = false;
    for (size_t i = 0; i < sizeof(grub_labels) / sizeof(grub_labels[0]) && !*eq; i++) {
        size_t n = strlen(grub_labels[i]);
        const uint8_t *rest = ev->data + n;
        size_t rest_len = ev->data_len - n;

        if (!has_prefix(ev->data, ev->data_len, grub_labels[i], n))
            continue;
        if ((rc = hash_eq(h, rest, rest_len, NULL, 0, d, eq)) != VOUCH_OK)
            break;
        if (!*eq && rest_len > 0 && rest[rest_len - 1] == 0 &&
            (rc = hash_eq(h, rest, rest_len - 1, NULL, 0, d, eq)) != VOUCH_OK)
            break;
    }
    return rc;
}

static vouch_err classify(struct vouch_hasher *h, const struct vouch_tpm_event *ev,
                          const struct vouch_tpm_digest *d, uint8_t *check)
{
    static const uint8_t zero = 0;
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct uefi_var var;
    bool eq = false;

    if ((rc = hash_eq(h, ev->data, ev->data_len, NULL, 0, d, &eq)) != VOUCH_OK)
        goto out;
    if (eq) {
        *check = VOUCH_TPM_DIGEST_VERIFIED;
        goto out;
    }
    if (ev->type == VOUCH_TPM_EV_IPL) {
        /* systemd-boot hashes the UTF-16 string with its whole terminator
         * but logs one byte less. */
        if (ev->data_len % 2 == 1 &&
            (rc = hash_eq(h, ev->data, ev->data_len, &zero, 1, d, &eq)) != VOUCH_OK)
            goto out;
        if (eq) {
            *check = VOUCH_TPM_DIGEST_VERIFIED;
            goto out;
        }
        if ((rc = check_grub(h, ev, d, &eq)) != VOUCH_OK)
            goto out;
        *check = eq ? VOUCH_TPM_DIGEST_VERIFIED_PART : VOUCH_TPM_DIGEST_NOT_DERIVABLE;
        goto out;
    }
    /* EDK2 (and GCE) hash only VariableData of boot variables. */
    if (ev->type == EV_EFI_VARIABLE_BOOT && parse_uefi_var(ev->data, ev->data_len, &var)) {
        if ((rc = hash_eq(h, var.data, var.data_len, NULL, 0, d, &eq)) != VOUCH_OK)
            goto out;
        if (eq) {
            *check = VOUCH_TPM_DIGEST_VERIFIED_PART;
            goto out;
        }
    }
    *check = digest_is_defined_over_data(ev->type) ? VOUCH_TPM_DIGEST_MISMATCH
                                                   : VOUCH_TPM_DIGEST_NOT_DERIVABLE;
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err check_bank(struct vouch_tpm_log *log, uint16_t alg)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_hasher *h = NULL;

    if ((rc = bank_hasher(log, alg, &h)) != VOUCH_OK)
        goto out;
    for (size_t e = 0; e < log->n_events; e++) {
        struct vouch_tpm_event *ev = &log->events[e];

        for (size_t i = 0; i < ev->n_digests; i++) {
            struct vouch_tpm_digest *d = &ev->digests[i];

            if (d->alg != alg)
                continue;
            if (ev->type == VOUCH_TPM_EV_NO_ACTION) {
                d->check = VOUCH_TPM_DIGEST_UNCHECKED;
                continue;
            }
            if (d->len != vouch_hasher_len(h)) {
                rc = VOUCH_ERR_PARSE;
                goto out;
            }
            if ((rc = classify(h, ev, d, &d->check)) != VOUCH_OK)
                goto out;
        }
    }
    rc = VOUCH_OK;
out:
    vouch_hasher_free(h);
    return rc;
}

vouch_err vouch_tpm_log_check_digests(struct vouch_tpm_log *log, uint16_t alg)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    if (!log || (!log->events && log->n_events))
        return VOUCH_ERR_INVAL;
    if (alg != 0)
        return check_bank(log, alg);
    for (size_t i = 0; i < log->n_algs; i++) {
        if (vouch_tpm_digest_len(log->algs[i]) == 0)
            continue;
        if ((rc = check_bank(log, log->algs[i])) != VOUCH_OK)
            return rc;
    }
    return VOUCH_OK;
}

/* ---------------- claims ---------------- */

static bool bound(uint32_t mask, uint32_t pcr)
{
    return pcr < VOUCH_TPM_NUM_PCRS && (mask & (1u << pcr));
}

struct claims_ctx {
    const struct vouch_tpm_log *log;
    uint16_t alg;
    uint32_t bound;
    json_t *claims;
    json_t *withheld;       /* created on first use */
    struct vouch_hasher *h; /* created on first unchecked event */
};

/* The check of @p ev's digest in the claims' bank: the stored one when
 * vouch_tpm_log_check_digests has run, else computed now. Only the few events
 * a claim reads are checked, which keeps a verification with a log cheap. */
static vouch_err event_check(struct claims_ctx *c, const struct vouch_tpm_event *ev, uint8_t *check)
{
    const struct vouch_tpm_digest *d = event_digest(ev, c->alg);
    vouch_err rc = VOUCH_ERR_INTERNAL;

    *check = VOUCH_TPM_DIGEST_UNCHECKED;
    if (!d || ev->type == VOUCH_TPM_EV_NO_ACTION) {
        rc = VOUCH_OK;
        goto out;
    }
    if (d->check != VOUCH_TPM_DIGEST_UNCHECKED) {
        *check = d->check;
        rc = VOUCH_OK;
        goto out;
    }
    if (!c->h && (rc = bank_hasher(c->log, c->alg, &c->h)) != VOUCH_OK)
        goto out;
    if (d->len != vouch_hasher_len(c->h)) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = classify(c->h, ev, d, check);
out:
    return rc;
}

static vouch_err withhold(struct claims_ctx *c, const char *claim, const char *reason)
{
    if (!c->withheld) {
        c->withheld = json_object_get(c->claims, "withheldClaims");
        if (!json_is_object(c->withheld)) {
            c->withheld = json_object();
            if (vouch__tpm_json_set(c->claims, "withheldClaims", c->withheld) != VOUCH_OK) {
                c->withheld = NULL;
                return VOUCH_ERR_NOMEM;
            }
        }
    }
    return vouch__tpm_json_set(c->withheld, claim, json_string(reason));
}

static vouch_err claim_secure_boot(struct claims_ctx *c)
{
    vouch_err rc = VOUCH_OK;
    const char *why = NULL;
    int value = -1;

    if (!bound(c->bound, PCR_SECURE_BOOT_POLICY))
        return withhold(c, "secureBootEnabled", "PCR 7 is not both quoted and extended by the log");
    for (size_t e = 0; e < c->log->n_events && !why; e++) {
        const struct vouch_tpm_event *ev = &c->log->events[e];
        struct uefi_var var;
        uint8_t check = 0;
        int v;

        if (ev->pcr != PCR_SECURE_BOOT_POLICY ||
            ev->type != VOUCH_TPM_EV_EFI_VARIABLE_DRIVER_CONFIG ||
            !parse_uefi_var(ev->data, ev->data_len, &var) ||
            memcmp(var.guid, efi_global_variable, UEFI_GUID_LEN) != 0 ||
            !uefi_name_is(&var, "SecureBoot"))
            continue;
        if ((rc = event_check(c, ev, &check)) != VOUCH_OK)
            return rc;
        if (check != VOUCH_TPM_DIGEST_VERIFIED)
            why = "the SecureBoot event's digest does not cover its data";
        else if (var.data_len == 0)
            why = "the SecureBoot variable is empty";
        else if (var.data_len != 1 || var.data[0] > 1)
            why = "the SecureBoot variable is not 0 or 1";
        else if (value >= 0 && value != var.data[0])
            why = "conflicting SecureBoot values";
        v = var.data_len == 1 ? var.data[0] : -1;
        if (!why)
            value = v;
    }
    if (!why && value < 0)
        why = "no SecureBoot variable event";
    if (why)
        return withhold(c, "secureBootEnabled", why);
    return vouch__tpm_json_set(c->claims, "secureBootEnabled", json_boolean(value == 1));
}

/* The Secure Boot key databases as measured into PCR7: the digest (in the
 * claims' bank) of the EV_EFI_VARIABLE_DRIVER_CONFIG event of PK, KEK, db and
 * dbx. The digest covers GUID, name and contents, so a policy can pin the
 * databases (e.g. require an up-to-date dbx) with values from a known-good
 * machine. Only VERIFIED events count, and conflicting measurements of one
 * variable withhold its claim. */
static vouch_err claim_sb_databases(struct claims_ctx *c)
{
    static const struct {
        const char *var;
        const uint8_t *guid;
        const char *claim;
    } dbs[] = {
        {"PK", efi_global_variable, "secureBootPK"},
        {"KEK", efi_global_variable, "secureBootKEK"},
        {"db", efi_image_security_database, "secureBootDb"},
        {"dbx", efi_image_security_database, "secureBootDbx"},
    };
    vouch_err rc = VOUCH_OK;

    for (size_t k = 0; k < sizeof(dbs) / sizeof(dbs[0]) && rc == VOUCH_OK; k++) {
        const struct vouch_tpm_digest *found = NULL;
        const char *why = NULL;

        if (!bound(c->bound, PCR_SECURE_BOOT_POLICY)) {
            rc = withhold(c, dbs[k].claim, "PCR 7 is not both quoted and extended by the log");
            continue;
        }
        for (size_t e = 0; e < c->log->n_events && !why; e++) {
            const struct vouch_tpm_event *ev = &c->log->events[e];
            const struct vouch_tpm_digest *d;
            struct uefi_var var;
            uint8_t check = 0;

            if (ev->pcr != PCR_SECURE_BOOT_POLICY ||
                ev->type != VOUCH_TPM_EV_EFI_VARIABLE_DRIVER_CONFIG ||
                !parse_uefi_var(ev->data, ev->data_len, &var) ||
                memcmp(var.guid, dbs[k].guid, UEFI_GUID_LEN) != 0 ||
                !uefi_name_is(&var, dbs[k].var))
                continue;
            if ((rc = event_check(c, ev, &check)) != VOUCH_OK)
                return rc;
            d = event_digest(ev, c->alg);
            if (check != VOUCH_TPM_DIGEST_VERIFIED || !d)
                why = "the variable's event digest does not cover its data";
            else if (found && (found->len != d->len || memcmp(found->p, d->p, d->len) != 0))
                why = "the variable was measured twice with different contents";
            else
                found = d;
        }
        if (!why && !found)
            why = "no measurement of the variable in PCR 7";
        if (why)
            rc = withhold(c, dbs[k].claim, why);
        else
            rc = vouch__tpm_json_set(c->claims, dbs[k].claim,
                                     vouch__tpm_hex_string(found->p, found->len));
    }
    return rc;
}

/* The Windows boot configuration flags read from SIPA events. */
struct sipa_flag {
    uint32_t type;
    const char *claim;
    bool true_when_set; /* claim is true when every value is nonzero */
    bool seen;
    bool any_set;
    bool any_clear;
    bool malformed;
};

static void sipa_note(struct sipa_flag *flags, size_t n, uint32_t type, const uint8_t *p,
                      size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (flags[i].type != type)
            continue;
        flags[i].seen = true;
        if (len != 1) {
            flags[i].malformed = true;
        } else if (p[0]) {
            flags[i].any_set = true;
        } else {
            flags[i].any_clear = true;
        }
    }
}

/* Walks a SIPA event list (type u32, size u32, data), descending into
 * containers. Returns false when the bytes are not such a list. */
static bool sipa_walk(const uint8_t *p, size_t len, unsigned depth, struct sipa_flag *flags,
                      size_t n_flags)
{
    struct vouch_reader r;

    if (depth > VOUCH_MAX_TPM_SIPA_DEPTH)
        return false;
    vouch_reader_init(&r, p, len);
    while (vouch_reader_left(&r) > 0) {
        uint32_t type = 0, size = 0;
        const uint8_t *data = NULL;

        if (vouch_reader_u32le(&r, &type) != VOUCH_OK ||
            vouch_reader_u32le(&r, &size) != VOUCH_OK ||
            vouch_reader_view(&r, size, &data) != VOUCH_OK)
            return false;
        if ((type & SIPA_CONTAINER_MASK) == SIPA_CONTAINER) {
            if (!sipa_walk(data, size, depth + 1, flags, n_flags))
                return false;
            continue;
        }
        sipa_note(flags, n_flags, type, data, size);
    }
    return true;
}

static vouch_err claim_windows(struct claims_ctx *c)
{
    vouch_err rc = VOUCH_OK;
    struct sipa_flag flags[] = {
        {SIPA_BOOTDEBUGGING, "bootDebuggingDisabled", false, false, false, false, false},
        {SIPA_OSKERNELDEBUG, "kernelDebuggingDisabled", false, false, false, false, false},
        {SIPA_TESTSIGNING, "testSigningDisabled", false, false, false, false, false},
        {SIPA_CODEINTEGRITY, "codeIntegrityEnabled", true, false, false, false, false},
        {SIPA_SAFEMODE, "notSafeMode", false, false, false, false, false},
        {SIPA_WINPE, "notWinPE", false, false, false, false, false},
    };
    const size_t n_flags = sizeof(flags) / sizeof(flags[0]);
    bool any_bound = false;
    bool all_bound = true;

    /* Windows logs a flag in several of PCRs 12-14; reading only the bound
     * ones could miss the occurrence that says otherwise. */
    for (size_t e = 0; e < c->log->n_events; e++) {
        const struct vouch_tpm_event *ev = &c->log->events[e];

        if (ev->type == VOUCH_TPM_EV_EVENT_TAG && ev->pcr >= PCR_WBCL_FIRST &&
            ev->pcr <= PCR_WBCL_LAST)
            all_bound &= bound(c->bound, ev->pcr);
    }
    for (uint32_t pcr = PCR_WBCL_FIRST; pcr <= PCR_WBCL_LAST; pcr++)
        any_bound |= bound(c->bound, pcr);
    any_bound &= all_bound;
    for (size_t e = 0; e < c->log->n_events && any_bound; e++) {
        const struct vouch_tpm_event *ev = &c->log->events[e];
        uint8_t check = 0;

        if (ev->type != VOUCH_TPM_EV_EVENT_TAG || ev->pcr < PCR_WBCL_FIRST ||
            ev->pcr > PCR_WBCL_LAST || !bound(c->bound, ev->pcr))
            continue;
        if ((rc = event_check(c, ev, &check)) != VOUCH_OK)
            return rc;
        if (check != VOUCH_TPM_DIGEST_VERIFIED)
            continue;
        /* Not a SIPA list (another OS's tagged event): nothing to read. A
         * partial walk may have noted flags, so work on a copy. */
        {
            struct sipa_flag copy[sizeof(flags) / sizeof(flags[0])];

            memcpy(copy, flags, sizeof(copy));
            if (sipa_walk(ev->data, ev->data_len, 0, copy, n_flags))
                memcpy(flags, copy, sizeof(copy));
        }
    }
    for (size_t i = 0; i < n_flags && rc == VOUCH_OK; i++) {
        const struct sipa_flag *f = &flags[i];

        if (!all_bound)
            rc = withhold(c, f->claim,
                          "a PCR of 12-14 with boot configuration events is not quoted");
        else if (!any_bound)
            rc = withhold(c, f->claim, "none of PCRs 12-14 is both quoted and extended by the log");
        else if (!f->seen)
            rc = withhold(c, f->claim, "no verified Windows boot configuration event sets it");
        else if (f->malformed)
            rc = withhold(c, f->claim, "a Windows boot configuration value is not one byte");
        else
            rc = vouch__tpm_json_set(c->claims, f->claim,
                                     json_boolean(f->true_when_set ? !f->any_clear : !f->any_set));
    }
    return rc;
}

static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t b = p[i];
        size_t extra;
        uint32_t cp;

        if (b == 0)
            return false;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xe0) == 0xc0) {
            extra = 1;
            cp = b & 0x1fu;
        } else if ((b & 0xf0) == 0xe0) {
            extra = 2;
            cp = b & 0x0fu;
        } else if ((b & 0xf8) == 0xf0) {
            extra = 3;
            cp = b & 0x07u;
        } else {
            return false;
        }
        if (n - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

/* UTF-16LE text whose characters are all printable ASCII (systemd-boot load
 * options), up to an optional terminator; decoded into @p out (cap bytes). */
static bool utf16_ascii(const uint8_t *p, size_t len, char *out, size_t cap, size_t *n_out)
{
    size_t n = 0;
    size_t i = 0;

    for (; i + 1 < len; i += 2) {
        if (p[i] == 0 && p[i + 1] == 0)
            break;
        if (p[i + 1] != 0 || p[i] < 0x20 || p[i] > 0x7e || n + 1 >= cap)
            return false;
        out[n++] = (char)p[i];
    }
    /* Only terminator bytes may follow (the odd trailing byte included). */
    for (; i < len; i++) {
        if (p[i] != 0)
            return false;
    }
    out[n] = '\0';
    *n_out = n;
    return n > 0;
}

/* A kernel command line candidate in @p ev: GRUB's labelled string (the bytes
 * after the label, trailing NULs dropped) or systemd-boot's UTF-16 load
 * options (decoded). Returns an owned copy in @p text, or NULL when @p ev is
 * neither; @p grub says which. */
static vouch_err cmdline_candidate(const struct vouch_tpm_event *ev, char **text, bool *grub)
{
    size_t n = 0;

    *text = NULL;
    *grub = false;
    for (size_t i = 0; i < sizeof(cmdline_labels) / sizeof(cmdline_labels[0]); i++) {
        size_t l = strlen(cmdline_labels[i]);
        const uint8_t *s = ev->data + l;
        size_t s_len = ev->data_len - l;

        if (!has_prefix(ev->data, ev->data_len, cmdline_labels[i], l))
            continue;
        while (s_len > 0 && s[s_len - 1] == 0)
            s_len--;
        *grub = true;
        /* Not valid UTF-8: reported as a candidate with no text. */
        if (!utf8_valid(s, s_len))
            return VOUCH_OK;
        *text = vouch_strndup((const char *)s, s_len);
        return *text ? VOUCH_OK : VOUCH_ERR_NOMEM;
    }
    if (ev->data_len < 2 || ev->data[1] != 0)
        return VOUCH_OK;
    if (!(*text = vouch_malloc(ev->data_len / 2 + 1)))
        return VOUCH_ERR_NOMEM;
    if (!utf16_ascii(ev->data, ev->data_len, *text, ev->data_len / 2 + 1, &n))
        VOUCH_FREE(*text);
    return VOUCH_OK;
}

static vouch_err claim_cmdline(struct claims_ctx *c)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *why = NULL;
    char *value = NULL;
    char *text = NULL;

    if (!bound(c->bound, PCR_KERNEL_CMDLINE)) {
        rc = withhold(c, "kernelCmdline", "PCR 8 is not both quoted and extended by the log");
        goto out;
    }
    for (size_t e = 0; e < c->log->n_events && !why; e++) {
        const struct vouch_tpm_event *ev = &c->log->events[e];
        uint8_t check = 0;
        bool grub = false;

        if (ev->pcr != PCR_KERNEL_CMDLINE || ev->type != VOUCH_TPM_EV_IPL)
            continue;
        if ((rc = cmdline_candidate(ev, &text, &grub)) != VOUCH_OK)
            goto out;
        if (!text && !grub)
            continue;
        if ((rc = event_check(c, ev, &check)) != VOUCH_OK)
            goto out;
        /* GRUB hashes the text without its label; systemd-boot all of it. */
        if (check != VOUCH_TPM_DIGEST_VERIFIED &&
            !(grub && check == VOUCH_TPM_DIGEST_VERIFIED_PART)) {
            if (grub)
                why = "a kernel command line event's digest does not cover it";
            VOUCH_FREE(text);
            continue;
        }
        if (!text) {
            why = "the kernel command line is not valid UTF-8";
            continue;
        }
        vouch_free(value);
        value = text;
        text = NULL;
    }
    if (!why && !value)
        why = "no kernel command line event";
    if (why)
        rc = withhold(c, "kernelCmdline", why);
    else
        rc = vouch__tpm_json_set(c->claims, "kernelCmdline", json_string(value));
out:
    vouch_free(text);
    vouch_free(value);
    return rc;
}

static vouch_err claim_boot_apps(struct claims_ctx *c)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *apps = NULL;

    if (!bound(c->bound, PCR_BOOT_MANAGER))
        return withhold(c, "bootApplications", "PCR 4 is not both quoted and extended by the log");
    if (!(apps = json_array())) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    for (size_t e = 0; e < c->log->n_events; e++) {
        const struct vouch_tpm_event *ev = &c->log->events[e];
        const struct vouch_tpm_digest *d;

        if (ev->pcr != PCR_BOOT_MANAGER || ev->type != VOUCH_TPM_EV_EFI_BOOT_SERVICES_APPLICATION ||
            !(d = event_digest(ev, c->alg)))
            continue;
        if (json_array_append_new(apps, vouch__tpm_hex_string(d->p, d->len)) != 0) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
    }
    rc = vouch__tpm_json_set(c->claims, "bootApplications", apps);
    apps = NULL;
out:
    json_decref(apps);
    return rc;
}

static vouch_err claim_exit_boot_services(struct claims_ctx *c)
{
    static const char ebs[] = "Exit Boot Services Invocation";
    vouch_err rc = VOUCH_OK;
    uint8_t check = 0;
    bool found = false;

    if (!bound(c->bound, PCR_BOOT_MANAGER_CONFIG))
        return withhold(c, "exitBootServices", "PCR 5 is not both quoted and extended by the log");
    for (size_t e = 0; e < c->log->n_events && !found; e++) {
        const struct vouch_tpm_event *ev = &c->log->events[e];

        if (ev->pcr != PCR_BOOT_MANAGER_CONFIG || ev->type != VOUCH_TPM_EV_EFI_ACTION ||
            ev->data_len != sizeof(ebs) - 1 || memcmp(ev->data, ebs, sizeof(ebs) - 1) != 0)
            continue;
        if ((rc = event_check(c, ev, &check)) != VOUCH_OK)
            return rc;
        found = check == VOUCH_TPM_DIGEST_VERIFIED;
    }
    return vouch__tpm_json_set(c->claims, "exitBootServices", json_boolean(found));
}

static vouch_err claim_locality(struct claims_ctx *c)
{
    /* The locality is not covered by any digest, but it is PCR0's initial
     * value: a matching PCR0 proves it. Without the event the TPM started at
     * locality 0. */
    if (!bound(c->bound, PCR_SRTM))
        return withhold(c, "startupLocality", "PCR 0 is not both quoted and extended by the log");
    return vouch__tpm_json_set(
        c->claims, "startupLocality",
        json_integer(c->log->startup_locality >= 0 ? c->log->startup_locality : 0));
}

vouch_err vouch_tpm_log_claims(const struct vouch_tpm_log *log, uint16_t alg, uint32_t bound_pcrs,
                               json_t *claims)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct claims_ctx c;

    if (!log || !json_is_object(claims) || (!log->events && log->n_events))
        return VOUCH_ERR_INVAL;
    if (table_index(log, alg) < 0)
        return VOUCH_ERR_NOT_FOUND;
    memset(&c, 0, sizeof(c));
    c.log = log;
    c.alg = alg;
    c.bound = bound_pcrs & VOUCH_TPM_ALL_PCRS;
    c.claims = claims;
    if ((rc = claim_secure_boot(&c)) != VOUCH_OK || (rc = claim_sb_databases(&c)) != VOUCH_OK ||
        (rc = claim_windows(&c)) != VOUCH_OK || (rc = claim_cmdline(&c)) != VOUCH_OK ||
        (rc = claim_boot_apps(&c)) != VOUCH_OK || (rc = claim_exit_boot_services(&c)) != VOUCH_OK ||
        (rc = claim_locality(&c)) != VOUCH_OK)
        goto out;
    rc = VOUCH_OK;
out:
    vouch_hasher_free(c.h);
    return rc;
}

/* ---------------- events as JSON ---------------- */

static json_t *guid_string(const uint8_t g[UEFI_GUID_LEN])
{
    char s[37];

    snprintf(s, sizeof(s), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
    return json_string(s);
}

/* Printable ASCII text (with tabs and newlines) followed only by NULs. */
static json_t *ascii_text(const uint8_t *p, size_t len)
{
    size_t n = len;

    while (n > 0 && p[n - 1] == 0)
        n--;
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\t' && p[i] != '\n')
            return NULL;
    }
    return json_stringn((const char *)p, n);
}

static vouch_err event_details(const struct vouch_tpm_log *log, const struct vouch_tpm_event *ev,
                               json_t *o)
{
    vouch_err rc = VOUCH_OK;
    struct uefi_var var;
    json_t *t = NULL;

    if (is_spec_id(ev) && log->format == VOUCH_TPM_LOG_CRYPTO_AGILE && ev->offset == 0) {
        json_t *algs = json_array();

        if ((rc = vouch__tpm_json_set(o, "spec_id_algorithms", algs)) != VOUCH_OK)
            return rc;
        for (size_t i = 0; i < log->n_algs; i++) {
            const char *name = vouch_tpm_alg_name(log->algs[i]);
            json_t *a =
                name ? json_pack("{s:s,s:i}", "alg", name, "size", log->alg_sizes[i])
                     : json_pack("{s:i,s:i}", "alg", log->algs[i], "size", log->alg_sizes[i]);
            if (json_array_append_new(algs, a) != 0)
                return VOUCH_ERR_NOMEM;
        }
        return VOUCH_OK;
    }
    if (ev->type == VOUCH_TPM_EV_NO_ACTION && ev->data_len == STARTUP_LOCALITY_LEN &&
        has_prefix(ev->data, ev->data_len, STARTUP_LOCALITY_SIG, SIGNATURE_LEN))
        return vouch__tpm_json_set(o, "startup_locality", json_integer(ev->data[SIGNATURE_LEN]));
    if ((ev->type == VOUCH_TPM_EV_EFI_VARIABLE_DRIVER_CONFIG || ev->type == EV_EFI_VARIABLE_BOOT ||
         ev->type == EV_EFI_VARIABLE_BOOT2 || ev->type == EV_EFI_VARIABLE_AUTHORITY) &&
        parse_uefi_var(ev->data, ev->data_len, &var)) {
        char name[256];
        size_t n = 0;

        if ((rc = vouch__tpm_json_set(o, "variable_guid", guid_string(var.guid))) != VOUCH_OK)
            return rc;
        if (var.name_chars < sizeof(name) &&
            utf16_ascii(var.name, 2 * var.name_chars, name, sizeof(name), &n) &&
            (rc = vouch__tpm_json_set(o, "variable_name", json_stringn(name, n))) != VOUCH_OK)
            return rc;
        return vouch_json_set_hex(o, "variable_data", var.data, var.data_len);
    }
    t = ascii_text(ev->data, ev->data_len);
    if (!t && ev->data_len >= 2 && ev->data_len < 4096) {
        char *buf = vouch_malloc(ev->data_len / 2 + 1);
        size_t n = 0;

        if (!buf)
            return VOUCH_ERR_NOMEM;
        if (utf16_ascii(ev->data, ev->data_len, buf, ev->data_len / 2 + 1, &n))
            t = json_stringn(buf, n);
        vouch_free(buf);
    }
    if (t)
        rc = vouch__tpm_json_set(o, "text", t);
    return rc;
}

static vouch_err event_json(const struct vouch_tpm_log *log, size_t index, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct vouch_tpm_event *ev = &log->events[index];
    const char *type_name = vouch_tpm_event_type_name(ev->type);
    json_t *o = NULL;
    json_t *digests = NULL;
    json_t *checks = NULL;
    char type_hex[16];

    *out = NULL;
    snprintf(type_hex, sizeof(type_hex), "0x%08x", ev->type);
    if (!(o = json_object()) ||
        (rc = vouch__tpm_json_set(o, "index", json_integer((json_int_t)index))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(o, "offset", json_integer((json_int_t)ev->offset))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(o, "pcr", json_integer(ev->pcr))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(o, "type", json_string(type_name ? type_name : type_hex))) !=
            VOUCH_OK ||
        (rc = vouch__tpm_json_set(o, "type_value", json_integer(ev->type))) != VOUCH_OK ||
        (rc = vouch__tpm_json_set(o, "digests", digests = json_object())) != VOUCH_OK) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < ev->n_digests; i++) {
        const struct vouch_tpm_digest *d = &ev->digests[i];
        const char *name = vouch_tpm_alg_name(d->alg);
        char alg_hex[8];

        snprintf(alg_hex, sizeof(alg_hex), "0x%04x", d->alg);
        if ((rc = vouch__tpm_json_set(digests, name ? name : alg_hex,
                                      vouch__tpm_hex_string(d->p, d->len))) != VOUCH_OK)
            goto out;
        if (d->check == VOUCH_TPM_DIGEST_UNCHECKED)
            continue;
        if (!checks &&
            (rc = vouch__tpm_json_set(o, "digest_checks", checks = json_object())) != VOUCH_OK)
            goto out;
        if ((rc = vouch__tpm_json_set(checks, name ? name : alg_hex,
                                      json_string(vouch_tpm_digest_check_name(
                                          (enum vouch_tpm_digest_check)d->check)))) != VOUCH_OK)
            goto out;
    }
    if ((rc = vouch_json_set_hex(o, "data", ev->data, ev->data_len)) != VOUCH_OK ||
        (rc = event_details(log, ev, o)) != VOUCH_OK)
        goto out;
    *out = o;
    o = NULL;
    rc = VOUCH_OK;
out:
    json_decref(o);
    return rc;
}

vouch_err vouch_tpm_log_events_json(const struct vouch_tpm_log *log, json_t **out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *arr = NULL;

    if (!out)
        return VOUCH_ERR_INVAL;
    *out = NULL;
    if (!log || (!log->events && log->n_events))
        return VOUCH_ERR_INVAL;
    if (!(arr = json_array())) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < log->n_events; i++) {
        json_t *ev = NULL;

        if ((rc = event_json(log, i, &ev)) != VOUCH_OK)
            goto out;
        if (json_array_append_new(arr, ev) != 0) {
            rc = VOUCH_ERR_NOMEM;
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
    rc = VOUCH_OK;
out:
    json_decref(arr);
    return rc;
}
