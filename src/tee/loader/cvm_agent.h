/*
 * vouch-enclave-loader, confidential-VM backend: the platform agent's side of
 * REPORT requests (include/vouch/cvm.h for the evidence and its binding,
 * include/vouch/tsm.h for configfs-tsm). The agent holds no secret in this
 * backend; it answers SEAL_KEY with VOUCH_ERR_UNSUPPORTED (see cvm.h).
 *
 * The agent keeps one configfs-tsm entry made ahead of the next report: the
 * first at start-up (before it greets the host), then a new one right after
 * each report. A report never reuses an entry, and the next one is ready when
 * the enclave asks (a test that plays the kernel can fill it in before the
 * ecall). When making the next entry fails, the agent tries again at the next
 * REPORT and passes that error on.
 */
#ifndef VOUCH_TEE_LOADER_CVM_AGENT_H
#define VOUCH_TEE_LOADER_CVM_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <vouch/err.h>
#include <vouch/sim.h>

struct cvm_agent;

/* Checks that @p root is a directory (configfs-tsm is mounted): UNSUPPORTED
 * with a reason in @p detail when it does not exist, IO otherwise. Opens
 * nothing that stays open, so it may run before the enclave is forked. */
vouch_err cvm_agent_check_root(const char *root, char *detail, size_t detail_cap);

/* The agent for @p id's enclave; makes the first entry (best effort). */
vouch_err cvm_agent_new(const char *root, const struct vouch_sim_identity *id,
                        struct cvm_agent **out);

/* Hardware evidence binding @p report_data (cvm.h envelope), *ev_out
 * allocated with vouch_malloc. */
vouch_err cvm_agent_report(struct cvm_agent *a, const uint8_t report_data[64], uint8_t **ev_out,
                           size_t *ev_len_out);

/* Removes the spare entry and frees @p a (accepts NULL). */
void cvm_agent_free(struct cvm_agent *a);

#endif
