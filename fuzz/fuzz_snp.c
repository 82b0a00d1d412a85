/*
 * Fuzz target: the SEV-SNP report parser and the claims built from whatever
 * it accepts (the same path as `vouch evidence inspect`).
 */
#include <stddef.h>
#include <stdint.h>
#include <vouch/json.h>
#include <vouch/mem.h>

#include "evidence/evidence_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_snp_report r;
    json_t *claims = NULL;
    char *text = NULL;

    if (vouch__snp_report_parse(data, size, &r) != VOUCH_OK)
        return 0;
    if (!(claims = json_object()))
        return 0;
    /* Every accepted report must yield serialisable claims. */
    if (vouch__snp_report_claims(&r, claims) == VOUCH_OK &&
        vouch_json_dump(claims, 0, &text) == VOUCH_OK)
        vouch_free(text);
    json_decref(claims);
    return 0;
}
