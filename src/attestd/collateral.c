/* Intel collateral for the service: a directory of collateral JSON files,
 * parsed and verified once at start-up and looked up by TEE type and FMSPC,
 * and, with --pcs-url, sets fetched from a PCS/PCCS (pcs.c). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <vouch/encoding.h>
#include <vouch/log.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

vouch_err attestd_collateral_load(struct attestd *d)
{
    DIR *dir;
    struct dirent *e;
    vouch_err rc = VOUCH_OK;

    if (!d->cfg.collateral_dir)
        return VOUCH_OK;
    if (!(dir = opendir(d->cfg.collateral_dir))) {
        fprintf(stderr, "vouch-attestd: --collateral %s: %s\n", d->cfg.collateral_dir,
                strerror(errno));
        return VOUCH_ERR_IO;
    }
    while ((e = readdir(dir)) != NULL) {
        struct attestd_collateral *c;
        struct vouch_dcap_platform plat;
        char path[4096], *text = NULL;
        size_t len = 0, nl = strlen(e->d_name);

        if (nl < 6 || strcmp(e->d_name + nl - 5, ".json") != 0)
            continue;
        if (d->n_collateral >= ATTESTD_MAX_COLLATERAL) {
            vouch_log_warn("more than %u collateral files; ignoring the rest",
                           ATTESTD_MAX_COLLATERAL);
            break;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", d->cfg.collateral_dir, e->d_name) >=
            sizeof(path))
            continue;
        c = &d->collateral[d->n_collateral];
        if ((rc = attestd_read_file(path, false, &text, &len)) != VOUCH_OK ||
            (rc = vouch_collateral_parse((const uint8_t *)text, len, &c->coll)) != VOUCH_OK ||
            (rc = vouch_collateral_platform(c->coll, &plat)) != VOUCH_OK) {
            fprintf(stderr, "vouch-attestd: collateral %s: %s\n", path, vouch_strerror(rc));
            vouch_collateral_free(c->coll);
            c->coll = NULL;
            vouch_free(text);
            break;
        }
        vouch_free(text);
        c->tee = plat.tee;
        memcpy(c->fmspc, plat.fmspc, sizeof(c->fmspc));
        snprintf(c->source, sizeof(c->source), "%s", e->d_name);
        d->n_collateral++;
        vouch_log_info("loaded collateral %s", e->d_name);
    }
    closedir(dir);
    return rc;
}

const struct vouch_collateral *attestd_collateral_find(const struct attestd *d,
                                                       enum vouch_evidence_format tee,
                                                       const uint8_t fmspc[6])
{
    const struct vouch_collateral *best = NULL;
    int64_t best_end = 0, now = attestd_now(d);

    /* Several sets may cover one platform (refreshes): prefer one valid now,
     * then the newest. */
    for (size_t i = 0; i < d->n_collateral; i++) {
        const struct attestd_collateral *c = &d->collateral[i];
        struct vouch_dcap_platform p;
        if (c->tee != tee || memcmp(c->fmspc, fmspc, 6) != 0 ||
            vouch_collateral_platform(c->coll, &p) != VOUCH_OK)
            continue;
        if (!best || (p.not_after >= now && best_end < now) ||
            ((p.not_after >= now) == (best_end >= now) && p.not_after > best_end)) {
            best = c->coll;
            best_end = p.not_after;
        }
    }
    return best;
}

vouch_err attestd_collateral_acquire(struct attestd *d, const struct vouch_dcap_platform *plat,
                                     struct attestd_collateral_use *out, char *why, size_t cap)
{
    const struct vouch_collateral *c;
    struct vouch_dcap_platform cp;
    int64_t now = attestd_now(d);
    char fm[13];
    vouch_err rc = VOUCH_ERR_NOT_FOUND;

    memset(out, 0, sizeof(*out));
    if (cap > 0)
        why[0] = 0;
    c = attestd_collateral_find(d, plat->tee, plat->fmspc);
    /* A loaded set outside its window is still the answer without a PCS: the
     * verifier then names the expired item. With a PCS, fetch a current one. */
    if (c && (!d->pcs || (vouch_collateral_platform(c, &cp) == VOUCH_OK && now >= cp.not_before &&
                          now <= cp.not_after))) {
        out->coll = c;
        return VOUCH_OK;
    }
    if (!d->pcs) {
        vouch_hex_encode(plat->fmspc, sizeof(plat->fmspc), fm);
        snprintf(why, cap, "no collateral for %s FMSPC %s", vouch_evidence_format_name(plat->tee),
                 fm);
        return rc;
    }
    rc = attestd_pcs_get_wait(d, plat, now, &out->entry, &out->coll, &out->retry_after_s, why, cap);
    return rc;
}

void attestd_collateral_release(struct attestd_collateral_use *u)
{
    attestd_pcs_entry_unref(u->entry);
    memset(u, 0, sizeof(*u));
}
