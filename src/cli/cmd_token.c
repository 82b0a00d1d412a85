/* `vouch token verify` (PRODUCT.md §3): verifies a JWT from our service or
 * from Azure Attestation against a JWKS and shows header, claims and the
 * reason for a rejection. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vouch/httpc.h>
#include <vouch/json.h>
#include <vouch/limits.h>
#include <vouch/mem.h>
#include <vouch/time.h>
#include <vouch/token.h>

#include "cli/cli.h"

static const char *const value_opts[] = {"--jwks", "--issuer", "--at", "--cacert", NULL};
static const char *const flag_opts[] = {"--json", "--allow-unsigned", NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: vouch token verify TOKEN_FILE (--jwks F | --issuer URL) [--at TIME] "
               "[--json] [--allow-unsigned] [--cacert F]\n"
               "  TOKEN_FILE  a compact JWT, or an attest response {\"token\": ...}\n"
               "  --jwks F    JWKS with the verification keys (an issuer's /certs)\n"
               "  --issuer U  require iss == U exactly; without --jwks, fetch the JWKS from\n"
               "              U/.well-known/openid-configuration's jwks_uri\n"
               "  --cacert F  CA bundle (PEM) for an https issuer with a private CA\n"
               "  --at TIME   evaluation time, Unix seconds or RFC 3339 (default: now)\n"
               "  --allow-unsigned  accept alg \"none\" (draft-policy) tokens\n");
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

/* Every "--" argument must be known and every value option needs a value;
 * exactly one positional argument. A typo must not silently change what is
 * checked. */
static bool args_ok(int argc, char **argv, int from)
{
    int positionals = 0;

    for (int i = from; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (in_list(argv[i], value_opts)) {
                if (i + 1 >= argc)
                    return false;
                i++;
            } else if (!in_list(argv[i], flag_opts)) {
                fprintf(stderr, "vouch: unknown option '%s'\n", argv[i]);
                return false;
            }
            continue;
        }
        positionals++;
    }
    return positionals == 1;
}

/* Trims surrounding whitespace and unwraps an attest response body. On
 * success *tok points into @p buf or into @p doc (which the caller frees). */
static bool token_text(char *buf, size_t len, json_t **doc, const char **tok, size_t *tok_len)
{
    size_t start = 0;
    char jerr[160];

    *doc = NULL;
    while (start < len && isspace((unsigned char)buf[start]))
        start++;
    while (len > start && isspace((unsigned char)buf[len - 1]))
        len--;
    if (len > start && buf[start] == '{') {
        const json_t *t;
        if (vouch_json_parse(buf + start, len - start, doc, jerr, sizeof(jerr)) != VOUCH_OK) {
            fprintf(stderr, "vouch: token file is JSON but does not parse: %s\n", jerr);
            return false;
        }
        t = json_object_get(*doc, "token");
        if (!json_is_string(t)) {
            fprintf(stderr, "vouch: token file is JSON without a \"token\" string\n");
            return false;
        }
        *tok = json_string_value(t);
        *tok_len = json_string_length(t);
        return true;
    }
    *tok = buf + start;
    *tok_len = len - start;
    return true;
}

/* GETs @p url and insists on 200; prints the failure itself. */
static vouch_err http_get(const char *url, const char *cacert, size_t max_body, const char *what,
                          struct vouch_httpc_response *r)
{
    struct vouch_httpc_opts o;
    vouch_err rc;

    vouch_httpc_opts_init(&o);
    o.ca_file = cacert;
    o.max_body = max_body;
    if ((rc = vouch_httpc_get(url, &o, r)) != VOUCH_OK) {
        fprintf(stderr, "vouch: cannot fetch the %s: %s\n", what, r->error_detail);
        return rc;
    }
    if (r->status != 200) {
        fprintf(stderr, "vouch: cannot fetch the %s: GET %s: HTTP %ld\n", what, url, r->status);
        return VOUCH_ERR_IO;
    }
    if (r->body_len == 0) {
        fprintf(stderr, "vouch: cannot fetch the %s: GET %s: empty response\n", what, url);
        return VOUCH_ERR_PARSE;
    }
    return VOUCH_OK;
}

/*
 * OpenID discovery: GET ISSUER/.well-known/openid-configuration, whose
 * "issuer" must be ISSUER exactly (OpenID Connect Discovery §4.3: otherwise
 * one issuer could hand out another's keys), then GET its jwks_uri. An https
 * issuer's jwks_uri must be https too.
 */
static vouch_err fetch_jwks(const char *issuer, const char *cacert, uint8_t **out, size_t *len)
{
    struct vouch_httpc_response r1 = {0}, r2 = {0};
    json_t *doc = NULL;
    const char *iss = NULL, *jwks_uri = NULL;
    size_t iss_len = 0, uri_len = 0, n = strlen(issuer);
    char *url = NULL, jerr[160];
    vouch_err rc = VOUCH_ERR_NOMEM;

    *out = NULL;
    *len = 0;
    while (n > 0 && issuer[n - 1] == '/')
        n--;
    if (!(url = vouch_malloc(n + sizeof("/.well-known/openid-configuration"))))
        goto out;
    memcpy(url, issuer, n);
    memcpy(url + n, "/.well-known/openid-configuration",
           sizeof("/.well-known/openid-configuration"));
    if ((rc = http_get(url, cacert, VOUCH_MAX_OPENID_CONFIG_SIZE, "OpenID configuration", &r1)) !=
        VOUCH_OK)
        goto out;
    rc = VOUCH_ERR_PARSE;
    if (vouch_json_parse((const char *)r1.body, r1.body_len, &doc, jerr, sizeof(jerr)) !=
            VOUCH_OK ||
        !json_is_object(doc)) {
        fprintf(stderr, "vouch: %s is not a JSON object\n", url);
        goto out;
    }
    if (vouch_json_str(doc, "issuer", &iss, &iss_len) != VOUCH_OK || iss_len != strlen(issuer) ||
        memcmp(iss, issuer, iss_len) != 0) {
        fprintf(stderr, "vouch: %s names issuer \"%.*s\", not \"%s\"\n", url,
                iss ? (int)(iss_len > 200 ? 200 : iss_len) : 0, iss ? iss : "", issuer);
        rc = VOUCH_ERR_MISMATCH;
        goto out;
    }
    if (vouch_json_str(doc, "jwks_uri", &jwks_uri, &uri_len) != VOUCH_OK ||
        strlen(jwks_uri) != uri_len ||
        (strncmp(jwks_uri, "https://", 8) != 0 &&
         (strncmp(issuer, "https://", 8) == 0 || strncmp(jwks_uri, "http://", 7) != 0))) {
        fprintf(stderr, "vouch: %s has no usable jwks_uri (%s)\n", url,
                strncmp(issuer, "https://", 8) == 0 ? "an https issuer needs an https jwks_uri"
                                                    : "it must be an http(s) URL");
        goto out;
    }
    if ((rc = http_get(jwks_uri, cacert, VOUCH_MAX_JWKS_SIZE, "JWKS", &r2)) != VOUCH_OK)
        goto out;
    *out = r2.body;
    *len = r2.body_len;
    r2.body = NULL;
    rc = VOUCH_OK;
out:
    json_decref(doc);
    vouch_free(url);
    vouch_httpc_response_free(&r1);
    vouch_httpc_response_free(&r2);
    return rc;
}

static void print_object_text(const char *title, const json_t *o)
{
    const char *key;
    json_t *v;

    printf("%s:\n", title);
    json_object_foreach((json_t *)o, key, v)
    {
        if (json_is_string(v)) {
            printf("  %-26s %s\n", key, json_string_value(v));
        } else {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("  %-26s %s\n", key, s ? s : "?");
            free(s);
        }
    }
}

static void print_result(const struct vouch_token_result *res, vouch_err rc, bool as_json)
{
    if (as_json) {
        json_t *o = json_object();
        if (!o)
            return;
        json_object_set_new(o, "verified", json_boolean(rc == VOUCH_OK));
        if (rc == VOUCH_OK) {
            json_object_set_new(
                o, "alg", json_string(res->is_unsigned ? "none" : vouch_sig_alg_name(res->alg)));
            json_object_set_new(o, "unsigned", json_boolean(res->is_unsigned));
            if (!res->is_unsigned)
                json_object_set_new(o, "kid", json_string(res->kid));
        } else {
            json_object_set_new(o, "error",
                                json_string(res->reason[0] ? res->reason : vouch_strerror(rc)));
        }
        if (res->header)
            json_object_set(o, "header", res->header);
        if (res->claims)
            json_object_set(o, "claims", res->claims);
        cli_print_json(o);
        json_decref(o);
        return;
    }
    if (res->header)
        print_object_text("header", res->header);
    if (res->claims)
        print_object_text(rc == VOUCH_OK ? "claims" : "claims (NOT verified)", res->claims);
    if (rc != VOUCH_OK)
        printf("result: rejected: %s\n", res->reason[0] ? res->reason : vouch_strerror(rc));
    else if (res->is_unsigned)
        printf("result: accepted UNSIGNED token (alg none): anyone could have made it\n");
    else
        printf("result: verified (alg %s, kid \"%s\")\n", vouch_sig_alg_name(res->alg), res->kid);
}

static int cmd_verify(int argc, char **argv)
{
    const char *path = cli_positional(argc, argv, 3, value_opts);
    const char *jwks_path = cli_opt(argc, argv, 3, "--jwks", 1);
    const char *issuer = cli_opt(argc, argv, 3, "--issuer", 1);
    const char *at = cli_opt(argc, argv, 3, "--at", 1);
    const char *cacert = cli_opt(argc, argv, 3, "--cacert", 1);
    bool as_json = cli_opt(argc, argv, 3, "--json", 0) != NULL;
    bool allow_unsigned = cli_opt(argc, argv, 3, "--allow-unsigned", 0) != NULL;
    struct vouch_token_result res = {0};
    struct vouch_token_opts opts;
    struct vouch_jwks *jwks = NULL;
    char err[VOUCH_MAX_ERROR_DETAIL];
    uint8_t *tok_buf = NULL;
    uint8_t *jwks_buf = NULL;
    size_t tok_buf_len = 0;
    size_t jwks_len = 0;
    json_t *tok_doc = NULL;
    const char *tok = NULL;
    size_t tok_len = 0;
    int64_t now;
    int ret = VOUCH_EXIT_USAGE;
    vouch_err rc;

    if (!args_ok(argc, argv, 3) || !path) {
        usage(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (!jwks_path && !issuer) {
        fprintf(stderr, "vouch: token verify needs --jwks F or --issuer URL\n");
        usage(stderr);
        return VOUCH_EXIT_USAGE;
    }
    if (jwks_path && cacert) {
        fprintf(stderr, "vouch: --cacert is for fetching the JWKS (--issuer without --jwks)\n");
        return VOUCH_EXIT_USAGE;
    }
    if (at) {
        if (vouch_time_parse(at, &now) != VOUCH_OK) {
            fprintf(stderr, "vouch: --at '%s' is neither Unix seconds nor RFC 3339\n", at);
            return VOUCH_EXIT_USAGE;
        }
    } else {
        now = vouch_time_now();
    }
    if (jwks_path) {
        if (cli_read_file(jwks_path, &jwks_buf, &jwks_len) != VOUCH_OK)
            goto out;
    } else if (fetch_jwks(issuer, cacert, &jwks_buf, &jwks_len) != VOUCH_OK) {
        goto out;
    }
    rc = vouch_jwks_parse((const char *)jwks_buf, jwks_len, &jwks, err, sizeof(err));
    if (rc != VOUCH_OK) {
        fprintf(stderr, "vouch: %s: %s\n", jwks_path ? jwks_path : "the issuer's JWKS",
                err[0] ? err : vouch_strerror(rc));
        goto out;
    }
    if (cli_read_file(path, &tok_buf, &tok_buf_len) != VOUCH_OK)
        goto out;
    if (!token_text((char *)tok_buf, tok_buf_len, &tok_doc, &tok, &tok_len))
        goto out;
    vouch_token_opts_init(&opts, now);
    opts.issuer = issuer;
    opts.allow_unsigned = allow_unsigned;
    rc = vouch_token_verify(tok, tok_len, jwks, &opts, &res);
    print_result(&res, rc, as_json);
    ret = rc == VOUCH_OK ? VOUCH_EXIT_OK : VOUCH_EXIT_NO;
out:
    vouch_token_result_free(&res);
    json_decref(tok_doc);
    vouch_jwks_free(jwks);
    vouch_free(tok_buf);
    vouch_free(jwks_buf);
    return ret;
}

int cli_token(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "verify") == 0)
        return cmd_verify(argc, argv);
    usage(stderr);
    return VOUCH_EXIT_USAGE;
}
