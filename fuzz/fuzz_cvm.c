/*
 * Fuzz target: confidential-VM enclave evidence (include/vouch/cvm.h). The
 * envelope parser, the hardware evidence parsers behind it and the binding
 * check; then full verification with no VCEK or collateral (every path up to
 * the hardware verdict). Seeds (fuzz/corpus/cvm): envelopes around the SNP
 * and TDX test vectors with their report data replaced by the binding hash,
 * and one whose report does not bind it.
 */
#include <stddef.h>
#include <stdint.h>
#include <vouch/cvm.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_cvm_evidence ev;
    struct vouch_verify_opts o = {.now = 1700000000};
    struct vouch_verify_result res;

    (void)vouch_cvm_evidence_detect(data, size);
    if (vouch_cvm_evidence_parse(data, size, &ev) == VOUCH_OK) {
        /* Borrowed views must lie inside the input. */
        if (ev.hw < data || ev.hw + ev.hw_len > data + size)
            __builtin_trap();
        if (ev.aux && (ev.aux < data || ev.aux + ev.aux_len > data + size))
            __builtin_trap();
    }
    vouch_err rc = vouch_cvm_evidence_verify(data, size, &o, &res, &ev);
    /* Nothing here can verify: no VCEK, no collateral. */
    if (rc == VOUCH_OK || res.verified)
        __builtin_trap();
    vouch_verify_result_free(&res);
    return 0;
}
