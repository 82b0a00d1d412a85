/*
 * Fuzz target: the DCAP quote parser (SGX v3/v4/v5, TDX v4/v5) and the claims
 * built from whatever it accepts. An accepted quote must be self-consistent:
 * its views lie inside the input and its lengths add up, else we trap.
 */
#include <stddef.h>
#include <stdint.h>
#include <vouch/json.h>
#include <vouch/mem.h>

#include "evidence/evidence_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *base, size_t size, const uint8_t *p, size_t len)
{
    if (len == 0)
        return 1;
    return p >= base && (size_t)(p - base) <= size && len <= size - (size_t)(p - base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_dcap_quote q;
    json_t *claims = NULL;
    char *text = NULL;

    if (vouch__dcap_quote_parse(data, size, &q) != VOUCH_OK)
        return 0;
    if (q.quote_len + q.trailing_len != size || q.signed_len >= q.quote_len ||
        !inside(data, q.quote_len, q.cert_data, q.cert_data_len) ||
        !inside(data, q.quote_len, q.qe_auth, q.qe_auth_len))
        __builtin_trap();
    if (!(claims = json_object()))
        return 0;
    if (vouch__dcap_quote_claims(&q, claims) != VOUCH_OK)
        __builtin_trap();
    if (vouch_json_dump(claims, 0, &text) == VOUCH_OK)
        vouch_free(text);
    json_decref(claims);
    return 0;
}
