/* `vouch evidence inspect|verify` (PRODUCT.md §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/evidence.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "cli/cli.h"

static const char *const value_opts[] = {"--collateral", "--vcek",   "--crl",
                                         "--at",         "--sim-ca", NULL};

static void print_claims_text(const json_t *claims)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)claims, key, v)
    {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (json_is_string(v))
            printf("  %-22s %s\n", key, json_string_value(v));
        else if (s)
            printf("  %-22s %s\n", key, s);
        free(s);
    }
}

static int cmd_inspect(int argc, char **argv)
{
    const char *path = cli_positional(argc, argv, 3, value_opts);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    enum vouch_evidence_format fmt = VOUCH_EVIDENCE_UNKNOWN;
    json_t *claims = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int ret = VOUCH_EXIT_NO;
    vouch_err rc;

    if (!path) {
        fprintf(stderr, "usage: vouch evidence inspect FILE [--json]\n");
        return VOUCH_EXIT_USAGE;
    }
    if (cli_read_file(path, &buf, &len) != VOUCH_OK)
        return VOUCH_EXIT_USAGE;
    rc = vouch_evidence_inspect(buf, len, &fmt, &claims);
    if (rc != VOUCH_OK) {
        if (as_json) {
            json_t *o = json_pack("{s:s,s:s}", "format", vouch_evidence_format_name(fmt), "error",
                                  vouch_strerror(rc));
            if (o)
                cli_print_json(o);
            json_decref(o);
        } else {
            fprintf(stderr, "vouch: %s: %s\n", path, vouch_strerror(rc));
        }
        goto out;
    }
    if (as_json) {
        json_t *o = json_object();
        if (o) {
            json_object_set_new(o, "format", json_string(vouch_evidence_format_name(fmt)));
            json_object_update(o, claims);
            cli_print_json(o);
        }
        json_decref(o);
    } else {
        printf("format: %s\n", vouch_evidence_format_name(fmt));
        print_claims_text(claims);
    }
    ret = VOUCH_EXIT_OK;
out:
    json_decref(claims);
    vouch_free(buf);
    return ret;
}

static int cmd_verify(int argc, char **argv)
{
    const char *path = cli_positional(argc, argv, 3, value_opts);
    const char *coll_path = cli_opt(argc, argv, 3, "--collateral", 1);
    const char *vcek_path = cli_opt(argc, argv, 3, "--vcek", 1);
    const char *crl_path = cli_opt(argc, argv, 3, "--crl", 1);
    const char *at = cli_opt(argc, argv, 3, "--at", 1);
    const char *sim_ca_path = cli_opt(argc, argv, 3, "--sim-ca", 1);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    struct vouch_verify_opts opts = {0};
    struct vouch_verify_result res = {0};
    uint8_t *buf = NULL, *coll = NULL, *vcek = NULL, *crl = NULL, *sim_ca = NULL;
    size_t len = 0, coll_len = 0, vcek_len = 0, crl_len = 0, sim_ca_len = 0;
    json_t *o = NULL;
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    if (!path) {
        fprintf(stderr, "usage: vouch evidence verify FILE [--collateral F] [--vcek F] [--crl F] "
                        "[--sim-ca F] [--at TIME] [--json]\n");
        return VOUCH_EXIT_USAGE;
    }
    opts.now = vouch_time_now();
    if (at && vouch_time_parse(at, &opts.now) != VOUCH_OK) {
        fprintf(stderr, "vouch: --at: expected Unix seconds or RFC 3339, got '%s'\n", at);
        return VOUCH_EXIT_USAGE;
    }
    if (cli_read_file(path, &buf, &len) != VOUCH_OK ||
        (coll_path && cli_read_file(coll_path, &coll, &coll_len) != VOUCH_OK) ||
        (vcek_path && cli_read_file(vcek_path, &vcek, &vcek_len) != VOUCH_OK) ||
        (crl_path && cli_read_file(crl_path, &crl, &crl_len) != VOUCH_OK) ||
        (sim_ca_path && cli_read_file(sim_ca_path, &sim_ca, &sim_ca_len) != VOUCH_OK))
        goto out;
    opts.sim_ca = sim_ca;
    opts.sim_ca_len = sim_ca_len;
    opts.collateral = coll;
    opts.collateral_len = coll_len;
    opts.vcek = vcek;
    opts.vcek_len = vcek_len;
    opts.snp_crl = crl;
    opts.snp_crl_len = crl_len;

    rc = vouch_evidence_verify(buf, len, &opts, &res);
    /* Exit 0 only for verified evidence whose TCB matched a level that is not
     * Revoked (SNP and sim have no vendor status: verified suffices). */
    ret = (rc == VOUCH_OK && res.verified && res.status != VOUCH_TCB_NOT_SUPPORTED &&
           res.status != VOUCH_TCB_REVOKED &&
           (res.status != VOUCH_TCB_NONE || res.format == VOUCH_EVIDENCE_SNP ||
            res.format == VOUCH_EVIDENCE_SIM))
              ? VOUCH_EXIT_OK
              : VOUCH_EXIT_NO;
    if (as_json) {
        if (vouch_verify_result_json(&res, &o) != VOUCH_OK) {
            fprintf(stderr, "vouch: out of memory\n");
            ret = VOUCH_EXIT_NO;
            goto out;
        }
        cli_print_json(o);
    } else {
        char when[21];
        vouch_time_format(opts.now, when);
        printf("format:             %s\n", vouch_evidence_format_name(res.format));
        printf("evaluated at:       %s\n", when);
        printf("verified:           %s\n", res.verified ? "yes" : "no");
        printf("status:             %s\n", vouch_tcb_status_name(res.status));
        printf("collateral expired: %s%s%s\n", res.collateral_expired ? "yes" : "no",
               res.expired_item[0] ? " — " : "", res.expired_item);
        printf("advisories:        ");
        for (size_t i = 0; i < res.n_advisories; i++)
            printf(" %s", res.advisories[i]);
        printf("%s\n", res.n_advisories ? "" : " none");
        if (!res.verified)
            printf("error:              %s\n", res.error_detail);
        if (res.claims) {
            printf("claims:\n");
            print_claims_text(res.claims);
        }
    }
out:
    json_decref(o);
    vouch_verify_result_free(&res);
    vouch_free(buf);
    vouch_free(coll);
    vouch_free(vcek);
    vouch_free(crl);
    vouch_free(sim_ca);
    return ret;
}

int cli_evidence(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "inspect") == 0)
        return cmd_inspect(argc, argv);
    if (argc >= 3 && strcmp(argv[2], "verify") == 0)
        return cmd_verify(argc, argv);
    fprintf(stderr, "usage: vouch evidence (inspect|verify) FILE ...\n");
    return VOUCH_EXIT_USAGE;
}
