/*
 * Intel TCB Info (v2, v3 with tdxModule / tdxModuleIdentities) and QE
 * Identity (v2) bodies, and the TCB level check with its status convergence,
 * following Intel's QVL. The JSON is parsed once when collateral is loaded;
 * per-quote evaluation walks pre-sorted arrays and never touches JSON.
 *
 * Where QVL is loose (it truncates component SVNs above 255 into a byte,
 * accepts any identity string) this parser rejects instead: such values never
 * occur in Intel-signed collateral, and a clear PARSE beats a silent wrap.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "dcap_int.h"

static void set_detail(char *d, size_t cap, const char *fmt, ...) VOUCH_PRINTF(3, 4);
static void set_detail(char *d, size_t cap, const char *fmt, ...)
{
    va_list ap;

    if (d == NULL || cap == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(d, cap, fmt, ap);
    va_end(ap);
}

/* ---------------- small JSON helpers ---------------- */

static const struct {
    const char *name;
    enum vouch_tcb_status status;
} level_statuses[] = {
    {"UpToDate", VOUCH_TCB_UP_TO_DATE},
    {"SWHardeningNeeded", VOUCH_TCB_SW_HARDENING_NEEDED},
    {"ConfigurationNeeded", VOUCH_TCB_CONFIGURATION_NEEDED},
    {"ConfigurationAndSWHardeningNeeded", VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED},
    {"OutOfDate", VOUCH_TCB_OUT_OF_DATE},
    {"OutOfDateConfigurationNeeded", VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
    {"Revoked", VOUCH_TCB_REVOKED},
};

/* The statuses a level may carry; @p module_only restricts to the three a
 * TDX module identity level may use. */
VOUCH_NODISCARD static vouch_err json_status(const json_t *o, bool module_only,
                                             enum vouch_tcb_status *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *s = NULL;
    size_t n = 0;

    *out = VOUCH_TCB_NONE;
    if ((rc = vouch_json_str(o, "tcbStatus", &s, &n)) != VOUCH_OK)
        return rc;
    for (size_t i = 0; i < sizeof(level_statuses) / sizeof(level_statuses[0]); i++) {
        if (strlen(level_statuses[i].name) == n && memcmp(level_statuses[i].name, s, n) == 0) {
            enum vouch_tcb_status st = level_statuses[i].status;
            if (module_only && st != VOUCH_TCB_UP_TO_DATE && st != VOUCH_TCB_OUT_OF_DATE &&
                st != VOUCH_TCB_REVOKED)
                return VOUCH_ERR_PARSE;
            *out = st;
            return VOUCH_OK;
        }
    }
    return VOUCH_ERR_PARSE;
}

VOUCH_NODISCARD static vouch_err json_date(const json_t *o, const char *key, int64_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *s = NULL;
    size_t n = 0;

    *out = 0;
    if ((rc = vouch_json_str(o, key, &s, &n)) != VOUCH_OK)
        return rc;
    return vouch_time_parse_rfc3339(s, n, out);
}

VOUCH_NODISCARD static vouch_err json_u32(const json_t *o, const char *key, uint32_t *out)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    int64_t v = 0;

    *out = 0;
    if ((rc = vouch_json_int(o, key, 0, UINT32_MAX, &v)) != VOUCH_OK)
        return rc;
    *out = (uint32_t)v;
    return VOUCH_OK;
}

/* A growable pool of advisory IDs; levels keep offsets into it, so growth
 * never invalidates them. */
struct adv_pool {
    char (*a)[VOUCH_MAX_ADVISORY_LEN];
    size_t n;
    size_t cap;
};

VOUCH_NODISCARD static vouch_err adv_take(struct adv_pool *p, const json_t *level,
                                          struct vouch__adv_ref *ref)
{
    const json_t *arr = json_object_get(level, "advisoryIDs");
    size_t k = 0;

    ref->off = p->n;
    ref->n = 0;
    if (arr == NULL)
        return VOUCH_OK; /* optional */
    if (!json_is_array(arr))
        return VOUCH_ERR_PARSE;
    k = json_array_size(arr);
    if (k > VOUCH_MAX_ADVISORIES)
        return VOUCH_ERR_TOO_LARGE;
    if (p->n + k > p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 32;
        while (ncap < p->n + k)
            ncap *= 2;
        void *na = vouch_reallocarray(p->a, ncap, sizeof(*p->a));
        if (na == NULL)
            return VOUCH_ERR_NOMEM;
        p->a = na;
        p->cap = ncap;
    }
    for (size_t i = 0; i < k; i++) {
        const json_t *s = json_array_get(arr, i);
        size_t len = 0;
        if (!json_is_string(s))
            return VOUCH_ERR_PARSE;
        len = json_string_length(s);
        if (len == 0)
            return VOUCH_ERR_PARSE;
        if (len >= VOUCH_MAX_ADVISORY_LEN)
            return VOUCH_ERR_TOO_LARGE;
        memcpy(p->a[p->n], json_string_value(s), len);
        p->a[p->n][len] = '\0';
        p->n++;
    }
    ref->n = k;
    return VOUCH_OK;
}

/* An array of exactly 16 {"svn": 0..255, ...} objects. */
VOUCH_NODISCARD static vouch_err json_comps(const json_t *tcb, const char *key,
                                            uint8_t out[VOUCH_DCAP_TCB_COMPS])
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const json_t *arr = json_object_get(tcb, key);

    if (!json_is_array(arr) || json_array_size(arr) != VOUCH_DCAP_TCB_COMPS)
        return VOUCH_ERR_PARSE;
    for (size_t i = 0; i < VOUCH_DCAP_TCB_COMPS; i++) {
        const json_t *c = json_array_get(arr, i);
        int64_t v = 0;
        if (!json_is_object(c))
            return VOUCH_ERR_PARSE;
        if ((rc = vouch_json_int(c, "svn", 0, 255, &v)) != VOUCH_OK)
            return rc;
        out[i] = (uint8_t)v;
    }
    return VOUCH_OK;
}

/* ---------------- TCB Info ---------------- */

/* QVL's TcbLevel::operator>: SGX components, then PCESVN, then TDX components
 * (all-zero for SGX levels, so one key serves both). Sorted descending. */
static int level_cmp_desc(const void *pa, const void *pb)
{
    const struct vouch__tcb_level *a = pa, *b = pb;
    int c = memcmp(a->sgx, b->sgx, sizeof(a->sgx));

    if (c == 0) {
        if (a->pcesvn != b->pcesvn)
            c = a->pcesvn < b->pcesvn ? -1 : 1;
        else
            c = memcmp(a->tdx, b->tdx, sizeof(a->tdx));
    }
    return -c;
}

static int module_level_cmp_desc(const void *pa, const void *pb)
{
    const struct vouch__module_level *a = pa, *b = pb;

    if (a->isvsvn == b->isvsvn)
        return 0;
    return a->isvsvn > b->isvsvn ? -1 : 1;
}

VOUCH_NODISCARD static vouch_err parse_tcb_level(const json_t *lj, int version, bool tdx,
                                                 struct adv_pool *pool, struct vouch__tcb_level *l)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const json_t *tcb = NULL;

    if (!json_is_object(lj))
        return VOUCH_ERR_PARSE;
    if ((rc = json_date(lj, "tcbDate", &l->tcb_date)) != VOUCH_OK)
        return rc;
    if ((rc = json_status(lj, false, &l->status)) != VOUCH_OK)
        return rc;
    if ((rc = adv_take(pool, lj, &l->adv)) != VOUCH_OK)
        return rc;
    tcb = json_object_get(lj, "tcb");
    if (!json_is_object(tcb))
        return VOUCH_ERR_PARSE;
    if ((rc = json_u32(tcb, "pcesvn", &l->pcesvn)) != VOUCH_OK)
        return rc;
    if (version == 2) {
        for (unsigned i = 0; i < VOUCH_DCAP_TCB_COMPS; i++) {
            char key[24];
            int64_t v = 0;
            (void)snprintf(key, sizeof(key), "sgxtcbcomp%02usvn", i + 1);
            if ((rc = vouch_json_int(tcb, key, 0, 255, &v)) != VOUCH_OK)
                return rc;
            l->sgx[i] = (uint8_t)v;
        }
        return VOUCH_OK;
    }
    if ((rc = json_comps(tcb, "sgxtcbcomponents", l->sgx)) != VOUCH_OK)
        return rc;
    if (tdx && (rc = json_comps(tcb, "tdxtcbcomponents", l->tdx)) != VOUCH_OK)
        return rc;
    return VOUCH_OK;
}

VOUCH_NODISCARD static vouch_err parse_module_identity(const json_t *mj, struct adv_pool *pool,
                                                       struct vouch__module_identity *m,
                                                       char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const char *id = NULL;
    size_t id_len = 0, n = 0;
    const json_t *levels = NULL;

    if (!json_is_object(mj)) {
        set_detail(detail, cap, "tdxModuleIdentities entry is not an object");
        return VOUCH_ERR_PARSE;
    }
    if ((rc = vouch_json_str(mj, "id", &id, &id_len)) != VOUCH_OK || id_len == 0 ||
        id_len >= sizeof(m->id)) {
        set_detail(detail, cap, "tdxModuleIdentities: bad id");
        return VOUCH_ERR_PARSE;
    }
    for (size_t i = 0; i < id_len; i++)
        m->id[i] = (char)toupper((unsigned char)id[i]);
    m->id[id_len] = '\0';
    if ((rc = vouch_json_hex_fixed(mj, "mrsigner", m->mrsigner, sizeof(m->mrsigner))) != VOUCH_OK ||
        (rc = vouch_json_hex_fixed(mj, "attributes", m->attributes, sizeof(m->attributes))) !=
            VOUCH_OK ||
        (rc = vouch_json_hex_fixed(mj, "attributesMask", m->attributes_mask,
                                   sizeof(m->attributes_mask))) != VOUCH_OK) {
        set_detail(detail, cap, "tdxModuleIdentities %s: bad mrsigner/attributes", m->id);
        return rc;
    }
    levels = json_object_get(mj, "tcbLevels");
    if (!json_is_array(levels) || (n = json_array_size(levels)) == 0) {
        set_detail(detail, cap, "tdxModuleIdentities %s: tcbLevels must be a non-empty array",
                   m->id);
        return VOUCH_ERR_PARSE;
    }
    if (n > VOUCH_MAX_TCB_LEVELS) {
        set_detail(detail, cap, "tdxModuleIdentities %s: too many tcbLevels", m->id);
        return VOUCH_ERR_TOO_LARGE;
    }
    if ((m->levels = vouch_calloc(n, sizeof(*m->levels))) == NULL)
        return VOUCH_ERR_NOMEM;
    m->n_levels = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *lj = json_array_get(levels, i);
        struct vouch__module_level *l = &m->levels[i];
        const json_t *tcb = json_object_get(lj, "tcb");
        if (!json_is_object(lj) || !json_is_object(tcb) ||
            (rc = json_u32(tcb, "isvsvn", &l->isvsvn)) != VOUCH_OK ||
            (rc = json_date(lj, "tcbDate", &l->tcb_date)) != VOUCH_OK ||
            (rc = json_status(lj, true, &l->status)) != VOUCH_OK ||
            (rc = adv_take(pool, lj, &l->adv)) != VOUCH_OK) {
            set_detail(detail, cap, "tdxModuleIdentities %s: tcbLevels[%zu] is malformed", m->id,
                       i);
            return rc == VOUCH_OK ? VOUCH_ERR_PARSE : rc;
        }
    }
    qsort(m->levels, n, sizeof(*m->levels), module_level_cmp_desc);
    for (size_t i = 1; i < n; i++) {
        if (m->levels[i].isvsvn == m->levels[i - 1].isvsvn) {
            set_detail(detail, cap, "tdxModuleIdentities %s: duplicated TCB levels", m->id);
            return VOUCH_ERR_PARSE;
        }
    }
    return VOUCH_OK;
}

VOUCH_NODISCARD static vouch_err parse_tdx_parts(const json_t *root, struct vouch__tcb_info *ti,
                                                 struct adv_pool *pool, char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const json_t *mod = json_object_get(root, "tdxModule");
    const json_t *ids = json_object_get(root, "tdxModuleIdentities");
    size_t n = 0;

    if (!ti->is_tdx) {
        if (mod != NULL || ids != NULL) {
            set_detail(detail, cap, "SGX TCB Info must not have tdxModule fields");
            return VOUCH_ERR_PARSE;
        }
        return VOUCH_OK;
    }
    if (!json_is_object(mod)) {
        set_detail(detail, cap, "TDX TCB Info needs a tdxModule object");
        return VOUCH_ERR_PARSE;
    }
    if ((rc = vouch_json_hex_fixed(mod, "mrsigner", ti->module_mrsigner,
                                   sizeof(ti->module_mrsigner))) != VOUCH_OK ||
        (rc = vouch_json_hex_fixed(mod, "attributes", ti->module_attributes,
                                   sizeof(ti->module_attributes))) != VOUCH_OK ||
        (rc = vouch_json_hex_fixed(mod, "attributesMask", ti->module_attributes_mask,
                                   sizeof(ti->module_attributes_mask))) != VOUCH_OK) {
        set_detail(detail, cap, "tdxModule: bad mrsigner/attributes/attributesMask");
        return rc;
    }
    if (ids == NULL)
        return VOUCH_OK;
    if (!json_is_array(ids) || (n = json_array_size(ids)) == 0) {
        set_detail(detail, cap, "tdxModuleIdentities must be a non-empty array");
        return VOUCH_ERR_PARSE;
    }
    if (n > VOUCH_MAX_TDX_MODULE_IDENTITIES) {
        set_detail(detail, cap, "too many tdxModuleIdentities");
        return VOUCH_ERR_TOO_LARGE;
    }
    if ((ti->modules = vouch_calloc(n, sizeof(*ti->modules))) == NULL)
        return VOUCH_ERR_NOMEM;
    ti->n_modules = n;
    ti->has_module_identities = true;
    for (size_t i = 0; i < n; i++) {
        rc = parse_module_identity(json_array_get(ids, i), pool, &ti->modules[i], detail, cap);
        if (rc != VOUCH_OK)
            return rc;
    }
    return VOUCH_OK;
}

/* The common start of TCB Info and QE Identity parsing: size cap, JSON
 * (duplicate keys refused), and an object at the top. */
VOUCH_NODISCARD static vouch_err open_object(const char *json, size_t len, const char *what,
                                             json_t **root, char *detail, size_t cap)
{
    char jerr[160] = "";
    vouch_err rc;

    *root = NULL;
    if (len > VOUCH_MAX_TCB_INFO_SIZE) {
        set_detail(detail, cap, "%s is larger than %u bytes", what, VOUCH_MAX_TCB_INFO_SIZE);
        return VOUCH_ERR_TOO_LARGE;
    }
    if ((rc = vouch_json_parse(json, len, root, jerr, sizeof(jerr))) != VOUCH_OK) {
        set_detail(detail, cap, "%s is not valid JSON: %s", what, jerr);
        return rc;
    }
    if (!json_is_object(*root)) {
        set_detail(detail, cap, "%s is not a JSON object", what);
        return VOUCH_ERR_PARSE;
    }
    return VOUCH_OK;
}

vouch_err vouch__tcb_info_parse(const char *json, size_t len, struct vouch__tcb_info *out,
                                char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *root = NULL;
    int64_t v = 0;
    const char *id = NULL;
    size_t id_len = 0, n = 0;
    const json_t *levels = NULL;
    struct adv_pool pool = {0};

    memset(out, 0, sizeof(*out));
    if ((rc = open_object(json, len, "tcb_info", &root, detail, cap)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_PARSE;
    if ((rc = vouch_json_int(root, "version", 0, INT32_MAX, &v)) != VOUCH_OK) {
        set_detail(detail, cap, "tcb_info: missing or bad version");
        goto out;
    }
    if (v != 2 && v != 3) {
        set_detail(detail, cap, "tcb_info version %lld is not supported (2 or 3)", (long long)v);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    out->version = (int)v;
    if (out->version == 3) {
        if ((rc = vouch_json_str(root, "id", &id, &id_len)) != VOUCH_OK) {
            set_detail(detail, cap, "tcb_info v3: missing id");
            goto out;
        }
        if (id_len == 3 && memcmp(id, "TDX", 3) == 0) {
            out->is_tdx = true;
        } else if (!(id_len == 3 && memcmp(id, "SGX", 3) == 0)) {
            set_detail(detail, cap, "tcb_info id is neither SGX nor TDX");
            rc = VOUCH_ERR_UNSUPPORTED;
            goto out;
        }
    }
    if ((rc = json_date(root, "issueDate", &out->issue_date)) != VOUCH_OK ||
        (rc = json_date(root, "nextUpdate", &out->next_update)) != VOUCH_OK) {
        set_detail(detail, cap, "tcb_info: bad issueDate/nextUpdate");
        goto out;
    }
    if ((rc = vouch_json_hex_fixed(root, "fmspc", out->fmspc, sizeof(out->fmspc))) != VOUCH_OK ||
        (rc = vouch_json_hex_fixed(root, "pceId", out->pceid, sizeof(out->pceid))) != VOUCH_OK) {
        set_detail(detail, cap, "tcb_info: bad fmspc/pceId");
        goto out;
    }
    if ((rc = vouch_json_int(root, "tcbType", INT32_MIN, INT32_MAX, &v)) != VOUCH_OK) {
        set_detail(detail, cap, "tcb_info: bad tcbType");
        goto out;
    }
    if (v != 0) {
        set_detail(detail, cap, "tcb_info tcbType %lld is not supported (0)", (long long)v);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if ((rc = vouch_json_int(root, "tcbEvaluationDataNumber", 0, UINT32_MAX, &out->eval_number)) !=
        VOUCH_OK) {
        set_detail(detail, cap, "tcb_info: bad tcbEvaluationDataNumber");
        goto out;
    }
    if (out->version == 3 && (rc = parse_tdx_parts(root, out, &pool, detail, cap)) != VOUCH_OK)
        goto out;

    levels = json_object_get(root, "tcbLevels");
    if (!json_is_array(levels) || (n = json_array_size(levels)) == 0) {
        set_detail(detail, cap, "tcb_info: tcbLevels must be a non-empty array");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (n > VOUCH_MAX_TCB_LEVELS) {
        set_detail(detail, cap, "tcb_info: more than %u tcbLevels", VOUCH_MAX_TCB_LEVELS);
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((out->levels = vouch_calloc(n, sizeof(*out->levels))) == NULL) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    out->n_levels = n;
    for (size_t i = 0; i < n; i++) {
        rc = parse_tcb_level(json_array_get(levels, i), out->version, out->is_tdx, &pool,
                             &out->levels[i]);
        if (rc != VOUCH_OK) {
            set_detail(detail, cap, "tcb_info: tcbLevels[%zu] is malformed", i);
            goto out;
        }
    }
    qsort(out->levels, n, sizeof(*out->levels), level_cmp_desc);
    for (size_t i = 1; i < n; i++) {
        if (level_cmp_desc(&out->levels[i - 1], &out->levels[i]) == 0) {
            set_detail(detail, cap, "tcb_info: duplicated TCB levels");
            rc = VOUCH_ERR_PARSE;
            goto out;
        }
    }
    rc = VOUCH_OK;
out:
    out->adv = pool.a;
    out->n_adv = pool.n;
    if (rc != VOUCH_OK)
        vouch__tcb_info_free(out);
    json_decref(root);
    return rc;
}

void vouch__tcb_info_free(struct vouch__tcb_info *ti)
{
    if (ti == NULL)
        return;
    for (size_t i = 0; i < ti->n_modules; i++)
        vouch_free(ti->modules[i].levels);
    vouch_free(ti->modules);
    vouch_free(ti->levels);
    vouch_free(ti->adv);
    memset(ti, 0, sizeof(*ti));
}

const struct vouch__module_identity *
vouch__tdx_module_identity_find(const struct vouch__tcb_info *ti, uint8_t version)
{
    char want[VOUCH_DCAP_MODULE_ID_LEN];

    (void)snprintf(want, sizeof(want), "TDX_%02X", (unsigned)version);
    for (size_t i = 0; i < ti->n_modules; i++) {
        if (strcmp(ti->modules[i].id, want) == 0)
            return &ti->modules[i];
    }
    return NULL;
}

/* ---------------- QE Identity ---------------- */

vouch_err vouch__qe_identity_parse(const char *json, size_t len, struct vouch__qe_identity *out,
                                   char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    json_t *root = NULL;
    int64_t v = 0;
    const char *id = NULL;
    size_t id_len = 0, n = 0;
    uint8_t misc[4], mask[4];
    const json_t *levels = NULL;
    struct adv_pool pool = {0};

    memset(out, 0, sizeof(*out));
    if ((rc = open_object(json, len, "qe_identity", &root, detail, cap)) != VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_PARSE;
    if ((rc = vouch_json_int(root, "version", 0, INT32_MAX, &v)) != VOUCH_OK) {
        set_detail(detail, cap, "qe_identity: missing or bad version");
        goto out;
    }
    if (v != 2) {
        set_detail(detail, cap, "qe_identity version %lld is not supported (2)", (long long)v);
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    out->version = (int)v;
    if ((rc = vouch_json_str(root, "id", &id, &id_len)) != VOUCH_OK) {
        set_detail(detail, cap, "qe_identity: missing id");
        goto out;
    }
    if (id_len == 2 && memcmp(id, "QE", 2) == 0) {
        out->id = VOUCH__QE_ID_QE;
    } else if (id_len == 3 && memcmp(id, "QVE", 3) == 0) {
        out->id = VOUCH__QE_ID_QVE;
    } else if (id_len == 5 && memcmp(id, "TD_QE", 5) == 0) {
        out->id = VOUCH__QE_ID_TD_QE;
    } else {
        set_detail(detail, cap, "qe_identity id is not QE, QVE or TD_QE");
        rc = VOUCH_ERR_UNSUPPORTED;
        goto out;
    }
    if ((rc = json_date(root, "issueDate", &out->issue_date)) != VOUCH_OK ||
        (rc = json_date(root, "nextUpdate", &out->next_update)) != VOUCH_OK) {
        set_detail(detail, cap, "qe_identity: bad issueDate/nextUpdate");
        goto out;
    }
    if ((rc = vouch_json_int(root, "tcbEvaluationDataNumber", 0, UINT32_MAX, &out->eval_number)) !=
        VOUCH_OK) {
        set_detail(detail, cap, "qe_identity: bad tcbEvaluationDataNumber");
        goto out;
    }
    if ((rc = vouch_json_hex_fixed(root, "miscselect", misc, sizeof(misc))) != VOUCH_OK ||
        (rc = vouch_json_hex_fixed(root, "miscselectMask", mask, sizeof(mask))) != VOUCH_OK ||
        (rc = vouch_json_hex_fixed(root, "attributes", out->attributes, sizeof(out->attributes))) !=
            VOUCH_OK ||
        (rc = vouch_json_hex_fixed(root, "attributesMask", out->attributes_mask,
                                   sizeof(out->attributes_mask))) != VOUCH_OK ||
        (rc = vouch_json_hex_fixed(root, "mrsigner", out->mrsigner, sizeof(out->mrsigner))) !=
            VOUCH_OK) {
        set_detail(detail, cap, "qe_identity: bad miscselect/attributes/mrsigner");
        goto out;
    }
    /* QVL reads the hex bytes as a little-endian u32, like the report field. */
    out->miscselect = (uint32_t)misc[0] | (uint32_t)misc[1] << 8 | (uint32_t)misc[2] << 16 |
                      (uint32_t)misc[3] << 24;
    out->miscselect_mask = (uint32_t)mask[0] | (uint32_t)mask[1] << 8 | (uint32_t)mask[2] << 16 |
                           (uint32_t)mask[3] << 24;
    if ((rc = json_u32(root, "isvprodid", &out->isvprodid)) != VOUCH_OK) {
        set_detail(detail, cap, "qe_identity: bad isvprodid");
        goto out;
    }
    levels = json_object_get(root, "tcbLevels");
    if (!json_is_array(levels) || (n = json_array_size(levels)) == 0) {
        set_detail(detail, cap, "qe_identity: tcbLevels must be a non-empty array");
        rc = VOUCH_ERR_PARSE;
        goto out;
    }
    if (n > VOUCH_MAX_TCB_LEVELS) {
        set_detail(detail, cap, "qe_identity: more than %u tcbLevels", VOUCH_MAX_TCB_LEVELS);
        rc = VOUCH_ERR_TOO_LARGE;
        goto out;
    }
    if ((out->levels = vouch_calloc(n, sizeof(*out->levels))) == NULL) {
        rc = VOUCH_ERR_NOMEM;
        goto out;
    }
    out->n_levels = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *lj = json_array_get(levels, i);
        const json_t *tcb = json_object_get(lj, "tcb");
        struct vouch__qe_level *l = &out->levels[i];
        if (!json_is_object(lj) || !json_is_object(tcb) ||
            (rc = json_u32(tcb, "isvsvn", &l->isvsvn)) != VOUCH_OK ||
            (rc = json_date(lj, "tcbDate", &l->tcb_date)) != VOUCH_OK ||
            (rc = json_status(lj, false, &l->status)) != VOUCH_OK ||
            (rc = adv_take(&pool, lj, &l->adv)) != VOUCH_OK) {
            set_detail(detail, cap, "qe_identity: tcbLevels[%zu] is malformed", i);
            if (rc == VOUCH_OK)
                rc = VOUCH_ERR_PARSE;
            goto out;
        }
    }
    rc = VOUCH_OK;
out:
    out->adv = pool.a;
    out->n_adv = pool.n;
    if (rc != VOUCH_OK)
        vouch__qe_identity_free(out);
    json_decref(root);
    return rc;
}

void vouch__qe_identity_free(struct vouch__qe_identity *qi)
{
    if (qi == NULL)
        return;
    vouch_free(qi->levels);
    vouch_free(qi->adv);
    memset(qi, 0, sizeof(*qi));
}

vouch_err vouch__qe_identity_check(const struct vouch__qe_identity *qi,
                                   const struct vouch_sgx_report *r,
                                   enum vouch_tcb_status *status_out,
                                   const struct vouch__qe_level **level_out, char *detail,
                                   size_t cap)
{
    *status_out = VOUCH_TCB_NONE;
    *level_out = NULL;
    if ((r->miscselect & qi->miscselect_mask) != qi->miscselect) {
        set_detail(detail, cap, "QE MISCSELECT %08x (masked %08x) does not match identity %08x",
                   (unsigned)r->miscselect, (unsigned)(r->miscselect & qi->miscselect_mask),
                   (unsigned)qi->miscselect);
        return VOUCH_ERR_MISMATCH;
    }
    for (size_t i = 0; i < sizeof(qi->attributes); i++) {
        if ((uint8_t)(r->attributes[i] & qi->attributes_mask[i]) != qi->attributes[i]) {
            set_detail(detail, cap, "QE ATTRIBUTES do not match the QE identity (byte %zu)", i);
            return VOUCH_ERR_MISMATCH;
        }
    }
    if (!vouch_ct_eq(r->mrsigner, qi->mrsigner, sizeof(qi->mrsigner))) {
        set_detail(detail, cap, "QE MRSIGNER does not match the QE identity");
        return VOUCH_ERR_MISMATCH;
    }
    if ((uint32_t)r->isvprodid != qi->isvprodid) {
        set_detail(detail, cap, "QE ISVPRODID %u does not match the QE identity's %u",
                   (unsigned)r->isvprodid, (unsigned)qi->isvprodid);
        return VOUCH_ERR_MISMATCH;
    }
    for (size_t i = 0; i < qi->n_levels; i++) {
        const struct vouch__qe_level *l = &qi->levels[i];
        if (l->isvsvn > r->isvsvn)
            continue;
        *level_out = l;
        if (l->status == VOUCH_TCB_UP_TO_DATE)
            *status_out = VOUCH_TCB_UP_TO_DATE;
        else if (l->status == VOUCH_TCB_REVOKED)
            *status_out = VOUCH_TCB_REVOKED;
        else
            *status_out = VOUCH_TCB_OUT_OF_DATE;
        return VOUCH_OK;
    }
    *status_out = VOUCH_TCB_NOT_SUPPORTED;
    return VOUCH_OK;
}

/* ---------------- TCB level check and convergence ---------------- */

enum vouch_tcb_status vouch__tcb_converge_qe(enum vouch_tcb_status level, enum vouch_tcb_status qe)
{
    if (qe == VOUCH_TCB_OUT_OF_DATE) {
        if (level == VOUCH_TCB_UP_TO_DATE || level == VOUCH_TCB_SW_HARDENING_NEEDED)
            return VOUCH_TCB_OUT_OF_DATE;
        if (level == VOUCH_TCB_CONFIGURATION_NEEDED ||
            level == VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    if (qe == VOUCH_TCB_REVOKED)
        return VOUCH_TCB_REVOKED;
    if (qe == VOUCH_TCB_NOT_SUPPORTED)
        return VOUCH_TCB_NOT_SUPPORTED;
    return level;
}

enum vouch_tcb_status vouch__tcb_converge_module(enum vouch_tcb_status level,
                                                 enum vouch_tcb_status module)
{
    if (module == VOUCH_TCB_OUT_OF_DATE) {
        if (level == VOUCH_TCB_UP_TO_DATE || level == VOUCH_TCB_SW_HARDENING_NEEDED)
            return VOUCH_TCB_OUT_OF_DATE;
        if (level == VOUCH_TCB_CONFIGURATION_NEEDED ||
            level == VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    if (module == VOUCH_TCB_REVOKED)
        return VOUCH_TCB_REVOKED;
    return level;
}

static bool sgx_ge(const uint8_t pck[VOUCH_DCAP_TCB_COMPS], const struct vouch__tcb_level *l)
{
    for (size_t i = 0; i < VOUCH_DCAP_TCB_COMPS; i++) {
        if (pck[i] < l->sgx[i])
            return false;
    }
    return true;
}

/* With a module version (TEE_TCB_SVN[1] > 0) the first two components are
 * judged by the module identity, not by the level. */
static bool tdx_ge(const uint8_t svn[VOUCH_DCAP_TCB_COMPS], const struct vouch__tcb_level *l)
{
    for (size_t i = svn[1] > 0 ? 2 : 0; i < VOUCH_DCAP_TCB_COMPS; i++) {
        if (svn[i] < l->tdx[i])
            return false;
    }
    return true;
}

static bool is_configuration_needed(enum vouch_tcb_status s)
{
    return s == VOUCH_TCB_CONFIGURATION_NEEDED || s == VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
           s == VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == VOUCH_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

/* TDRelaunchCheck: the platform already runs a fixed module (TEE_TCB_SVN2)
 * but this TD was launched on the old one. */
VOUCH_NODISCARD static vouch_err
relaunch_check(const struct vouch__tcb_info *ti, const struct vouch__tcb_input *in,
               enum vouch_tcb_status sgx_st, enum vouch_tcb_status tdx_st,
               enum vouch_tcb_status module_st, enum vouch_tcb_status *out, char *detail,
               size_t cap)
{
    const uint8_t *svn2 = in->tee_tcb_svn2;
    const struct vouch__tcb_level *latest = &ti->levels[0];
    bool met = false;

    *out = tdx_st;
    if (in->has_qe_status &&
        (in->qe_status == VOUCH_TCB_OUT_OF_DATE || in->qe_status == VOUCH_TCB_REVOKED ||
         in->qe_status == VOUCH_TCB_NOT_SUPPORTED))
        return VOUCH_OK;
    if (sgx_st != VOUCH_TCB_UP_TO_DATE && sgx_st != VOUCH_TCB_SW_HARDENING_NEEDED &&
        sgx_st != VOUCH_TCB_CONFIGURATION_NEEDED &&
        sgx_st != VOUCH_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
        return VOUCH_OK;
    if (tdx_st != VOUCH_TCB_OUT_OF_DATE && tdx_st != VOUCH_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
        return VOUCH_OK;
    if (module_st != VOUCH_TCB_OUT_OF_DATE)
        return VOUCH_OK;
    if (svn2[1] == 0) {
        met = svn2[0] >= latest->tdx[0] && svn2[2] >= latest->tdx[2];
    } else {
        const struct vouch__module_identity *m2 = vouch__tdx_module_identity_find(ti, svn2[1]);
        if (m2 == NULL) {
            set_detail(detail, cap, "TCB Info has no TDX module identity TDX_%02X for TEE_TCB_SVN2",
                       (unsigned)svn2[1]);
            return VOUCH_ERR_MISMATCH;
        }
        met = svn2[0] >= m2->levels[0].isvsvn && svn2[2] >= latest->tdx[2];
    }
    if (met) {
        *out = is_configuration_needed(sgx_st) || is_configuration_needed(tdx_st)
                   ? VOUCH_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
                   : VOUCH_TCB_TD_RELAUNCH_ADVISED;
    }
    return VOUCH_OK;
}

vouch_err vouch__tcb_evaluate(const struct vouch__tcb_info *ti, const struct vouch__tcb_input *in,
                              struct vouch__tcb_eval *out, char *detail, size_t cap)
{
    vouch_err rc = VOUCH_ERR_INTERNAL;
    const struct vouch__tcb_level *sgx = NULL, *tdx = NULL;
    enum vouch_tcb_status module_st = VOUCH_TCB_UP_TO_DATE, tdx_st = VOUCH_TCB_NONE;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < ti->n_levels; i++) {
        const struct vouch__tcb_level *l = &ti->levels[i];
        if (!sgx_ge(in->pck_comps, l) || in->pck_pcesvn < l->pcesvn)
            continue;
        if (sgx == NULL)
            sgx = l;
        if (!in->tdx)
            break;
        if (tdx_ge(in->tee_tcb_svn, l)) {
            tdx = l;
            break;
        }
    }
    out->sgx_level = sgx;
    if (sgx == NULL || (in->tdx && tdx == NULL)) {
        out->platform_status = VOUCH_TCB_NOT_SUPPORTED;
        out->status = VOUCH_TCB_NOT_SUPPORTED;
        return VOUCH_OK;
    }
    if (!in->tdx) {
        out->level = sgx;
        out->platform_status = sgx->status;
        out->status =
            in->has_qe_status ? vouch__tcb_converge_qe(sgx->status, in->qe_status) : sgx->status;
        return VOUCH_OK;
    }

    out->level = tdx;
    out->platform_status = tdx->status;
    if (!(in->quote_version > 3 && in->tee_tcb_svn[1] == 0)) {
        const struct vouch__module_identity *m =
            vouch__tdx_module_identity_find(ti, in->tee_tcb_svn[1]);
        if (m == NULL) {
            set_detail(detail, cap, "TCB Info has no TDX module identity TDX_%02X",
                       (unsigned)in->tee_tcb_svn[1]);
            return VOUCH_ERR_MISMATCH;
        }
        out->module = m;
        for (size_t i = 0; i < m->n_levels; i++) {
            if (in->tee_tcb_svn[0] >= m->levels[i].isvsvn) {
                out->module_level = &m->levels[i];
                break;
            }
        }
        if (out->module_level == NULL) {
            out->module_status = VOUCH_TCB_NOT_SUPPORTED;
            out->status = VOUCH_TCB_NOT_SUPPORTED;
            return VOUCH_OK;
        }
        module_st = out->module_level->status;
        out->module_status = module_st;
    }
    tdx_st = vouch__tcb_converge_module(tdx->status, module_st);
    if (tdx_st == VOUCH_TCB_REVOKED) {
        out->status = tdx_st;
        return VOUCH_OK;
    }
    if (in->td15) {
        rc = relaunch_check(ti, in, sgx->status, tdx_st, module_st, &tdx_st, detail, cap);
        if (rc != VOUCH_OK)
            return rc;
        out->relaunch_advised = tdx_st == VOUCH_TCB_TD_RELAUNCH_ADVISED ||
                                tdx_st == VOUCH_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
    }
    out->status = in->has_qe_status ? vouch__tcb_converge_qe(tdx_st, in->qe_status) : tdx_st;
    return VOUCH_OK;
}
