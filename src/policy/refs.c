/*
 * The claim types a policy asks about: every `type == "<literal>"` test in
 * its conditions. A service uses this to check, before evaluation, that the
 * evidence can answer what the policy asks (the TPM service refuses a quote
 * that does not select the PCRs a policy names, rather than letting a rule
 * over an absent claim silently not fire).
 */
#include <vouch/policy.h>

#include "policy/policy_int.h"

vouch_err vouch_policy_claim_types(const struct vouch_policy *p,
                                   vouch_err (*fn)(void *ctx, const char *type, size_t len),
                                   void *ctx)
{
    vouch_err rc = VOUCH_OK;

    if (!p || !fn)
        return VOUCH_ERR_INVAL;
    for (unsigned s = 0; s < VS__COUNT && rc == VOUCH_OK; s++) {
        for (const struct vouch__rule *r = p->sections[s]; r && rc == VOUCH_OK; r = r->next) {
            for (unsigned c = 0; c < r->ncond && rc == VOUCH_OK; c++) {
                const struct vouch__cond *cond = &r->conds[c];
                for (unsigned t = 0; t < cond->ntests && rc == VOUCH_OK; t++) {
                    const struct vouch__test *test = &cond->tests[t];
                    if (test->prop == VP_TYPE && test->op == VO_EQ && test->rhs &&
                        test->rhs->kind == VE_STRING)
                        rc = fn(ctx, test->rhs->s, test->rhs->s_len);
                }
            }
        }
    }
    return rc;
}
