/*
 * Fuzz target: Intel collateral. The same bytes go to the whole-collateral
 * parser (JSON, CRLs, PEM chains, PCS envelopes, signature verdicts) and,
 * so the fuzzer need not build a valid collateral first, straight to the TCB
 * Info and QE Identity body parsers and the PEM block splitter. Whatever is
 * accepted must be well formed: levels strictly descending in QVL order,
 * advisory slices inside their pool, and a TCB evaluation over it must give
 * a status and point only into the parsed levels; otherwise we trap.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vouch/evidence.h>

#include "evidence/dcap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int level_cmp(const struct vouch__tcb_level *a, const struct vouch__tcb_level *b)
{
    int c = memcmp(a->sgx, b->sgx, sizeof(a->sgx));

    if (c != 0)
        return c;
    if (a->pcesvn != b->pcesvn)
        return a->pcesvn < b->pcesvn ? -1 : 1;
    return memcmp(a->tdx, b->tdx, sizeof(a->tdx));
}

static void check_adv(const struct vouch__adv_ref *r, size_t n_adv)
{
    if (r->off > n_adv || r->n > n_adv - r->off)
        __builtin_trap();
}

static void check_eval(const struct vouch__tcb_info *ti, const struct vouch__tcb_input *in)
{
    struct vouch__tcb_eval ev;
    char detail[VOUCH_MAX_ERROR_DETAIL];
    vouch_err rc = vouch__tcb_evaluate(ti, in, &ev, detail, sizeof(detail));

    if (rc != VOUCH_OK) {
        if (rc != VOUCH_ERR_MISMATCH)
            __builtin_trap();
        return;
    }
    if (ev.status == VOUCH_TCB_NONE)
        __builtin_trap();
    if (ev.level != NULL && (ev.level < ti->levels || ev.level >= ti->levels + ti->n_levels))
        __builtin_trap();
}

static void check_tcb_info(const struct vouch__tcb_info *ti)
{
    struct vouch__tcb_input in;

    if (ti->n_levels == 0 || ti->n_levels > VOUCH_MAX_TCB_LEVELS)
        __builtin_trap();
    for (size_t i = 0; i < ti->n_levels; i++) {
        check_adv(&ti->levels[i].adv, ti->n_adv);
        if (i > 0 && level_cmp(&ti->levels[i - 1], &ti->levels[i]) <= 0)
            __builtin_trap();
    }
    for (size_t m = 0; m < ti->n_modules; m++) {
        const struct vouch__module_identity *id = &ti->modules[m];
        for (size_t i = 0; i < id->n_levels; i++) {
            check_adv(&id->levels[i].adv, ti->n_adv);
            if (i > 0 && id->levels[i - 1].isvsvn <= id->levels[i].isvsvn)
                __builtin_trap();
        }
    }
    /* A few platforms: the top level's own TCB, everything at maximum, zero. */
    memset(&in, 0, sizeof(in));
    in.tdx = ti->is_tdx;
    in.quote_version = ti->is_tdx ? 5 : 3;
    in.td15 = ti->is_tdx;
    in.has_qe_status = true;
    in.qe_status = VOUCH_TCB_UP_TO_DATE;
    memcpy(in.pck_comps, ti->levels[0].sgx, sizeof(in.pck_comps));
    in.pck_pcesvn = ti->levels[0].pcesvn;
    memcpy(in.tee_tcb_svn, ti->levels[0].tdx, sizeof(in.tee_tcb_svn));
    memcpy(in.tee_tcb_svn2, ti->levels[0].tdx, sizeof(in.tee_tcb_svn2));
    check_eval(ti, &in);
    memset(in.pck_comps, 0xff, sizeof(in.pck_comps));
    memset(in.tee_tcb_svn, 0xff, sizeof(in.tee_tcb_svn));
    in.pck_pcesvn = UINT32_MAX;
    in.tee_tcb_svn[1] = 1;
    in.qe_status = VOUCH_TCB_OUT_OF_DATE;
    check_eval(ti, &in);
    memset(&in.pck_comps, 0, sizeof(in.pck_comps));
    in.pck_pcesvn = 0;
    check_eval(ti, &in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_collateral *c = NULL;
    struct vouch__tcb_info ti;
    struct vouch__qe_identity qi;
    struct vouch__pem_blocks b;

    if (vouch_collateral_parse(data, size, &c) == VOUCH_OK) {
        if (c == NULL)
            __builtin_trap();
        check_tcb_info(&c->tcb_info);
        if (c->verdict == VOUCH_OK && c->root == NULL)
            __builtin_trap();
        vouch_collateral_free(c);
    }
    if (vouch__tcb_info_parse((const char *)data, size, &ti, NULL, 0) == VOUCH_OK) {
        check_tcb_info(&ti);
        vouch__tcb_info_free(&ti);
    }
    if (vouch__qe_identity_parse((const char *)data, size, &qi, NULL, 0) == VOUCH_OK) {
        struct vouch_sgx_report r;
        enum vouch_tcb_status st;
        const struct vouch__qe_level *lvl = NULL;
        memset(&r, 0, sizeof(r));
        r.isvsvn = 0xffff;
        if (qi.n_levels == 0)
            __builtin_trap();
        for (size_t i = 0; i < qi.n_levels; i++)
            check_adv(&qi.levels[i].adv, qi.n_adv);
        if (vouch__qe_identity_check(&qi, &r, &st, &lvl, NULL, 0) == VOUCH_OK &&
            (st == VOUCH_TCB_NONE ||
             (lvl != NULL && (lvl < qi.levels || lvl >= qi.levels + qi.n_levels))))
            __builtin_trap();
        vouch__qe_identity_free(&qi);
    }
    if (vouch__pem_blocks(data, size, 2, &b)) {
        for (size_t i = 0; i < b.n; i++) {
            if (b.len[i] == 0 || b.off[i] + b.len[i] > size)
                __builtin_trap();
        }
        vouch__pem_blocks_free(&b);
    }
    return 0;
}
