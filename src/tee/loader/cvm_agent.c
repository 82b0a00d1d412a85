/*
 * vouch-enclave-loader: the confidential-VM platform agent (cvm_agent.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vouch/cvm.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/tsm.h>

#include "tee/loader/cvm_agent.h"

struct cvm_agent {
    char *root;
    struct vouch_sim_identity id;
    struct vouch_tsm_entry *next; /* the entry for the next report, or NULL */
};

vouch_err cvm_agent_check_root(const char *root, char *detail, size_t detail_cap)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return VOUCH_OK;
    }
    if (errno == ENOENT) {
        snprintf(detail, detail_cap,
                 "no configfs-tsm at %s: not a confidential VM, or Linux older than 6.7", root);
        return VOUCH_ERR_UNSUPPORTED;
    }
    snprintf(detail, detail_cap, "configfs-tsm %s: %s", root, strerror(errno));
    return VOUCH_ERR_IO;
}

vouch_err cvm_agent_new(const char *root, const struct vouch_sim_identity *id,
                        struct cvm_agent **out)
{
    struct cvm_agent *a = vouch_calloc(1, sizeof *a);
    *out = NULL;
    if (!a)
        return VOUCH_ERR_NOMEM;
    a->root = vouch_strdup(root);
    if (!a->root) {
        vouch_free(a);
        return VOUCH_ERR_NOMEM;
    }
    a->id = *id;
    vouch_err err = vouch_tsm_entry_create(a->root, &a->next);
    if (err != VOUCH_OK)
        vouch_log_warn("enclave agent: cannot make a configfs-tsm entry under %s: %s", a->root,
                       vouch_err_name(err));
    *out = a;
    return VOUCH_OK;
}

vouch_err cvm_agent_report(struct cvm_agent *a, const uint8_t report_data[64], uint8_t **ev_out,
                           size_t *ev_len_out)
{
    struct vouch_tsm_report r;
    uint8_t inblob[VOUCH_TSM_INBLOB_LEN];
    vouch_err err;

    *ev_out = NULL;
    *ev_len_out = 0;
    memset(&r, 0, sizeof r);
    if (!a->next && (err = vouch_tsm_entry_create(a->root, &a->next)) != VOUCH_OK) {
        vouch_log_warn("enclave agent: no configfs-tsm entry under %s: %s", a->root,
                       vouch_err_name(err));
        return err;
    }
    /* The hardware signs this hash of the identity we measured and the
     * enclave's bytes, never the enclave's bytes alone (cvm.h). */
    err = vouch_cvm_bind(&a->id, report_data, inblob);
    if (err == VOUCH_OK)
        err = vouch_tsm_entry_generate(a->next, inblob, &r);
    vouch_tsm_entry_destroy(a->next);
    a->next = NULL;
    /* Ready for the next request; a failure is retried (and reported) then. */
    if (vouch_tsm_entry_create(a->root, &a->next) != VOUCH_OK)
        vouch_log_debug("enclave agent: next configfs-tsm entry deferred");
    if (err != VOUCH_OK) {
        vouch_log_warn("enclave agent: configfs-tsm report failed: %s", vouch_err_name(err));
        goto out;
    }
    err = vouch_cvm_evidence_build(
        r.id.format == VOUCH_EVIDENCE_SNP ? VOUCH_TEE_BACKEND_SNP : VOUCH_TEE_BACKEND_TDX, &a->id,
        report_data, r.outblob, r.outblob_len, r.auxblob, r.auxblob_len, ev_out, ev_len_out);
out:
    vouch_tsm_report_free(&r);
    return err;
}

void cvm_agent_free(struct cvm_agent *a)
{
    if (!a)
        return;
    vouch_tsm_entry_destroy(a->next);
    vouch_free(a->root);
    vouch_free(a);
}
