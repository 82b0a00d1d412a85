/*
 * Fuzz target: the Intel PCK certificate SGX extension parser (the DER inside
 * the extnValue of OID 1.2.840.113741.1.13.1), and with it the strict DER
 * reader in src/core/der.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "evidence/evidence_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_pck_ext x;

    if (vouch__pck_ext_parse(data, size, &x) != VOUCH_OK)
        return 0;
    /* Accepted: the SGX type is one Intel defines. */
    if (x.sgx_type < 0 || x.sgx_type > 2)
        __builtin_trap();
    return 0;
}
