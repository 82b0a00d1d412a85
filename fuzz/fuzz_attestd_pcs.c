/* Fuzz target: assembling collateral from PCS/PCCS responses (vouch-attestd's
 * attestd_pcs_collateral_json), then parsing the result as collateral. The
 * input is the seven response parts separated by 0xFF bytes: TCB Info body,
 * its issuer chain header, QE identity body, its chain, PCK CRL, its chain,
 * root CA CRL. Missing parts are empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/evidence.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARTS 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[PARTS];
    size_t len[PARTS];
    char *chain[3] = {NULL, NULL, NULL};
    struct attestd_pcs_raw raw;
    struct vouch_collateral *c = NULL;
    char *json = NULL, why[256];
    size_t json_len = 0, k = 0, start = 0;

    for (size_t i = 0; i < PARTS; i++) {
        part[i] = data;
        len[i] = 0;
    }
    for (size_t i = 0; i <= size && k < PARTS; i++) {
        if (i == size || data[i] == 0xFF) {
            part[k] = data + start;
            len[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    /* Header values arrive as NUL-terminated strings. */
    for (size_t i = 0; i < 3; i++) {
        size_t p = 1 + 2 * i;
        if (!(chain[i] = malloc(len[p] + 1)))
            goto out;
        memcpy(chain[i], part[p], len[p]);
        chain[i][len[p]] = 0;
    }
    memset(&raw, 0, sizeof(raw));
    raw.tcb_body = part[0];
    raw.tcb_len = len[0];
    raw.tcb_chain = chain[0];
    raw.qe_body = part[2];
    raw.qe_len = len[2];
    raw.qe_chain = chain[1];
    raw.pck_crl = part[4];
    raw.pck_crl_len = len[4];
    raw.pck_crl_chain = chain[2];
    raw.root_crl = part[6];
    raw.root_crl_len = len[6];
    if (attestd_pcs_collateral_json(&raw, &json, &json_len, why, sizeof(why)) == VOUCH_OK &&
        vouch_collateral_parse((const uint8_t *)json, json_len, &c) == VOUCH_OK)
        vouch_collateral_free(c);
out:
    vouch_free(json);
    for (size_t i = 0; i < 3; i++)
        free(chain[i]);
    return 0;
}
