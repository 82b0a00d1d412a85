/*
 * Fuzz target: the TCG event log parser and everything that reads a parsed
 * log (replay of every bank, per-event digest checks, claims, the events as
 * JSON), the path of `vouch tpm replay --json` and of a verified quote's log.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <vouch/json.h>
#include <vouch/mem.h>
#include <vouch/tpm.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_tpm_log log;
    struct vouch_tpm_pcr_bank bank;
    json_t *claims = NULL;
    json_t *events = NULL;
    char *text = NULL;

    if (vouch_tpm_log_parse(data, size, &log) != VOUCH_OK)
        return 0;
    /* A replay extends only PCRs 0-23, whatever the log says. */
    for (size_t i = 0; i < log.n_algs; i++) {
        if (vouch_tpm_log_replay(&log, log.algs[i], &bank) == VOUCH_OK &&
            (bank.mask & ~VOUCH_TPM_ALL_PCRS))
            abort();
    }
    if (vouch_tpm_log_check_digests(&log, 0) != VOUCH_OK)
        goto out;
    if ((claims = json_object()) != NULL) {
        /* Bound as a verified quote would bind them, and unbound. */
        for (size_t i = 0; i < log.n_algs; i++) {
            if (vouch_tpm_log_claims(&log, log.algs[i], VOUCH_TPM_ALL_PCRS, claims) != VOUCH_OK ||
                vouch_tpm_log_claims(&log, log.algs[i], 0x43ffu, claims) != VOUCH_OK)
                break;
        }
        if (vouch_json_dump(claims, 0, &text) == VOUCH_OK)
            vouch_free(text);
        json_decref(claims);
    }
    if (vouch_tpm_log_events_json(&log, &events) == VOUCH_OK) {
        text = NULL;
        if (vouch_json_dump(events, 0, &text) == VOUCH_OK)
            vouch_free(text);
        json_decref(events);
    }
out:
    vouch_tpm_log_free(&log);
    return 0;
}
