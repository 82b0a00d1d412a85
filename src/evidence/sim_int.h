/*
 * Private to libvouch: sim evidence glue for src/evidence/evidence.c.
 */
#ifndef VOUCH_EVIDENCE_SIM_INT_H
#define VOUCH_EVIDENCE_SIM_INT_H

#include <jansson.h>
#include <vouch/evidence.h>
#include <vouch/sim.h>

/** The report's fields as claims: "version", "backend", "tee" ("sim"),
 *  "mrenclave", "mrsigner" (hex), "product_id", "svn", "debug",
 *  "report_data" (hex), "timestamp", "hardware_rooted" (false). */
VOUCH_NODISCARD vouch_err vouch__sim_claims(const struct vouch_sim_report *r, json_t **out);

/** vouch_evidence_verify for sim evidence: anchors from opts->sim_ca. */
VOUCH_NODISCARD vouch_err vouch__sim_verify(const uint8_t *p, size_t len,
                                            const struct vouch_verify_opts *opts,
                                            struct vouch_verify_result *res);

#endif
