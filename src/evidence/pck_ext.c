/*
 * The SGX extension of Intel PCK certificates (OID 1.2.840.113741.1.13.1):
 * PPID, the TCB the certificate was issued for, PCE-ID, FMSPC, SGX type and,
 * on Platform CA certificates, the platform instance ID and configuration.
 *
 * The value is a SEQUENCE of SEQUENCE { OID, value }. The TCB and
 * configuration entries nest one more level of the same shape. Unknown OIDs
 * are skipped so Intel may add entries; a known OID twice, or with the wrong
 * type or size, is PARSE, because the TCB read here decides which TCB level a
 * platform matches.
 */
#include <string.h>
#include <vouch/der.h>
#include <vouch/limits.h>

#include "evidence/evidence_int.h"

#define SGX_EXT_OID "1.2.840.113741.1.13.1"

/* Bits in the "seen" masks. */
enum {
    SEEN_PPID = 1u << 1,
    SEEN_TCB = 1u << 2,
    SEEN_PCEID = 1u << 3,
    SEEN_FMSPC = 1u << 4,
    SEEN_SGX_TYPE = 1u << 5,
    SEEN_PLATFORM_ID = 1u << 6,
    SEEN_CONFIG = 1u << 7,
};
#define SEEN_REQUIRED (SEEN_PPID | SEEN_TCB | SEEN_PCEID | SEEN_FMSPC | SEEN_SGX_TYPE)

/* TCB entries .2.1 .. .2.18 use bits 1..18. */
#define TCB_ENTRIES  18u
#define TCB_COMPS    16u
#define TCB_PCESVN   17u
#define TCB_CPUSVN   18u
#define TCB_REQUIRED (((1ul << (TCB_ENTRIES + 1)) - 1) & ~1ul)

#define CONFIG_ENTRIES 3u

/* Bounds nesting as we descend; the shape is fixed, so this only guards
 * against a future change making the walk deeper than planned. */
static vouch_err descend(unsigned depth)
{
    return depth > VOUCH_MAX_DER_DEPTH ? VOUCH_ERR_PARSE : VOUCH_OK;
}

/*
 * Reads the next SEQUENCE { OID, value } from @p list. @p arc_out receives the
 * last arc when the OID is @p prefix plus exactly one arc in 1..@p max_arc,
 * else 0 (an entry we do not know, which the caller skips).
 */
static vouch_err next_pair(struct vouch_reader *list, const char *prefix, unsigned max_arc,
                           unsigned *arc_out, uint8_t *tag_out, struct vouch_reader *value_out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader pair, oid;
    uint64_t arc = 0;
    bool child = false;

    *arc_out = 0;
    *tag_out = 0;
    vouch_reader_init(value_out, NULL, 0);
    if ((rc = vouch_der_expect(list, VOUCH_DER_SEQUENCE, &pair)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_der_expect(&pair, VOUCH_DER_OID, &oid)) != VOUCH_OK)
        goto out;
    if ((rc = vouch_der_next(&pair, tag_out, value_out)) != VOUCH_OK)
        goto out;
    if (vouch_reader_left(&pair) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if ((rc = vouch_der_oid_child(&oid, prefix, &child, &arc)) != VOUCH_OK)
        goto out;
    if (child && arc <= max_arc)
        *arc_out = (unsigned)arc;
out:
    return rc;
}

static vouch_err mark_seen(unsigned long *seen, unsigned arc)
{
    if (*seen & (1ul << arc))
        return VOUCH_ERR_PARSE;
    *seen |= 1ul << arc;
    return VOUCH_OK;
}

/* An OCTET STRING of exactly @p n bytes. */
static vouch_err get_octets(uint8_t tag, struct vouch_reader *v, uint8_t *out, size_t n)
{
    if (tag != VOUCH_DER_OCTET_STRING || vouch_reader_left(v) != n)
        return VOUCH_ERR_PARSE;
    return vouch_reader_copy(v, out, n);
}

/* A non-negative INTEGER (or ENUMERATED, by @p want) no larger than @p max. */
static vouch_err get_uint(uint8_t tag, uint8_t want, const struct vouch_reader *v, uint64_t max,
                          uint64_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;

    *out = 0;
    if (tag != want)
        return VOUCH_ERR_PARSE;
    if ((rc = vouch_der_uint(v, out)) != VOUCH_OK)
        return rc;
    if (*out > max) {
        *out = 0;
        return VOUCH_ERR_PARSE;
    }
    return VOUCH_OK;
}

/* DER BOOLEAN: one byte, 0x00 or 0xff (BER's other non-zero values are not DER). */
static vouch_err get_bool(uint8_t tag, struct vouch_reader *v, bool *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint8_t b = 0;

    *out = false;
    if (tag != VOUCH_DER_BOOLEAN || vouch_reader_left(v) != 1)
        return VOUCH_ERR_PARSE;
    if ((rc = vouch_reader_u8(v, &b)) != VOUCH_OK)
        return rc;
    if (b != 0x00 && b != 0xff)
        return VOUCH_ERR_PARSE;
    *out = b == 0xff;
    return VOUCH_OK;
}

static vouch_err parse_tcb(uint8_t tag, struct vouch_reader *seq, unsigned depth,
                           struct vouch_pck_ext *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    unsigned long seen = 0;

    if ((rc = descend(depth)) != VOUCH_OK)
        goto out;
    if (tag != VOUCH_DER_SEQUENCE) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    while (vouch_reader_left(seq) > 0) {
        struct vouch_reader v;
        uint8_t vtag = 0;
        unsigned arc = 0;
        uint64_t n = 0;

        if ((rc = next_pair(seq, SGX_EXT_OID ".2", TCB_ENTRIES, &arc, &vtag, &v)) != VOUCH_OK)
            goto out;
        if (arc == 0)
            continue;
        if ((rc = mark_seen(&seen, arc)) != VOUCH_OK)
            goto out;
        if (arc <= TCB_COMPS) {
            if ((rc = get_uint(vtag, VOUCH_DER_INTEGER, &v, UINT8_MAX, &n)) != VOUCH_OK)
                goto out;
            out->tcb_comp[arc - 1] = (uint8_t)n;
        } else if (arc == TCB_PCESVN) {
            if ((rc = get_uint(vtag, VOUCH_DER_INTEGER, &v, UINT16_MAX, &n)) != VOUCH_OK)
                goto out;
            out->pcesvn = (uint16_t)n;
        } else {
            if ((rc = get_octets(vtag, &v, out->cpusvn, sizeof(out->cpusvn))) != VOUCH_OK)
                goto out;
        }
    }
    if ((seen & TCB_REQUIRED) != TCB_REQUIRED) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err parse_config(uint8_t tag, struct vouch_reader *seq, unsigned depth,
                              struct vouch_pck_ext *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    unsigned long seen = 0;

    if ((rc = descend(depth)) != VOUCH_OK)
        goto out;
    if (tag != VOUCH_DER_SEQUENCE) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    while (vouch_reader_left(seq) > 0) {
        struct vouch_reader v;
        uint8_t vtag = 0;
        unsigned arc = 0;
        bool *dst = NULL;

        if ((rc = next_pair(seq, SGX_EXT_OID ".7", CONFIG_ENTRIES, &arc, &vtag, &v)) != VOUCH_OK)
            goto out;
        if (arc == 0)
            continue;
        if ((rc = mark_seen(&seen, arc)) != VOUCH_OK)
            goto out;
        dst = arc == 1 ? &out->dynamic_platform : arc == 2 ? &out->cached_keys : &out->smt_enabled;
        if ((rc = get_bool(vtag, &v, dst)) != VOUCH_OK)
            goto out;
    }
    out->has_config = true;
    rc = VOUCH_OK;
out:
    return rc;
}

static vouch_err parse_entry(unsigned arc, uint8_t tag, struct vouch_reader *v, unsigned depth,
                             struct vouch_pck_ext *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    uint64_t n = 0;

    switch (arc) {
    case 1:
        rc = get_octets(tag, v, out->ppid, sizeof(out->ppid));
        break;
    case 2:
        rc = parse_tcb(tag, v, depth + 1, out);
        break;
    case 3:
        rc = get_octets(tag, v, out->pceid, sizeof(out->pceid));
        break;
    case 4:
        rc = get_octets(tag, v, out->fmspc, sizeof(out->fmspc));
        break;
    case 5:
        /* Intel defines 0 Standard, 1 Scalable, 2 Scalable with integrity;
         * anything else would change what the TCB means. */
        rc = get_uint(tag, VOUCH_DER_ENUMERATED, v, UINT64_MAX, &n);
        if (rc == VOUCH_OK && n > 2)
            rc = VOUCH_ERR_UNSUPPORTED;
        if (rc == VOUCH_OK)
            out->sgx_type = (int)n;
        break;
    case 6:
        rc = get_octets(tag, v, out->platform_instance_id, sizeof(out->platform_instance_id));
        if (rc == VOUCH_OK)
            out->has_platform_instance_id = true;
        break;
    case 7:
        rc = parse_config(tag, v, depth + 1, out);
        break;
    default:
        rc = VOUCH_ERR_INTERNAL;
        break;
    }
    return rc;
}

vouch_err vouch__pck_ext_parse(const uint8_t *p, size_t len, struct vouch_pck_ext *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    struct vouch_reader r, list;
    unsigned long seen = 0;
    const unsigned depth = 1;

    if (out == NULL) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    memset(out, 0, sizeof(*out));
    if (p == NULL && len != 0) {
        rc = VOUCH_ERR_INVAL;
        goto out;
    }
    if (len > VOUCH_MAX_CERT_SIZE) {
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    vouch_reader_init(&r, p, len);
    if ((rc = vouch_der_expect(&r, VOUCH_DER_SEQUENCE, &list)) != VOUCH_OK)
        goto out;
    if (vouch_reader_left(&r) != 0) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    while (vouch_reader_left(&list) > 0) {
        struct vouch_reader v;
        uint8_t tag = 0;
        unsigned arc = 0;

        if ((rc = next_pair(&list, SGX_EXT_OID, 7, &arc, &tag, &v)) != VOUCH_OK)
            goto out;
        if (arc == 0)
            continue;
        if ((rc = mark_seen(&seen, arc)) != VOUCH_OK)
            goto out;
        if ((rc = parse_entry(arc, tag, &v, depth + 1, out)) != VOUCH_OK)
            goto out;
    }
    if ((seen & SEEN_REQUIRED) != SEEN_REQUIRED) {
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (rc != VOUCH_OK && out != NULL)
        memset(out, 0, sizeof(*out));
    return rc;
}
