/*
 * vouch-attestd: the attestation service (docs/attestation-service.md).
 *
 *   vouch-attestd --listen ADDR:PORT --data DIR [--issuer URL] [--collateral DIR]
 *                 [--eval-time TIME] [--admin-token-file F] [--insecure-http] ...
 *
 * First start creates DIR (0700), a TLS key and certificate (DIR/tls/), the
 * token-signing key (in the LMDB store) and default policies.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vouch/limits.h>
#include <vouch/log.h>
#include <vouch/mem.h>
#include <vouch/time.h>

#include "attestd/attestd_int.h"

static struct vouch_http_server *g_server;

/* Long-only options (no single-letter form). */
enum {
    OPT_PCS_URL = 0x100,
    OPT_PCS_CA,
    OPT_PCS_API_KEY_FILE,
    OPT_PCS_ROOT_CRL_URL,
    OPT_PCS_BACKOFF_BASE_MS,
    OPT_PCS_TIMEOUT_MS,
    OPT_ADMIN_CLIENT_CA,
    OPT_PCS_WAIT_MS,
    OPT_TPM_AK_ROOTS,
    OPT_TPM_EK_ROOTS,
    OPT_TPM_AK_ALLOW,
    OPT_TPM_EK_ALLOW,
    OPT_TPM_ALLOW_SHA1,
    OPT_SIM_CA,
};

/* A positive millisecond count of at most one hour. */
static bool parse_ms(const char *s, unsigned *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v == 0 || v > 3600000ul)
        return false;
    *out = (unsigned)v;
    return true;
}

static void on_signal(int sig)
{
    (void)sig;
    vouch_http_server_stop(g_server);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vouch-attestd --listen ADDR:PORT --data DIR [options]\n"
               "  --issuer URL            public base URL (default scheme://host:port)\n"
               "  --collateral DIR        Intel collateral JSON files, loaded at start\n"
               "  --pcs-url URL           fetch missing/expired collateral from a PCS/PCCS\n"
               "                          (Intel: https://api.trustedservices.intel.com)\n"
               "  --pcs-ca FILE           CA bundle for an https PCCS with its own CA\n"
               "  --pcs-api-key-file F    PCS subscription key (mode 0600)\n"
               "  --pcs-root-crl-url URL  root CA CRL (default: the PCCS rootcacrl path)\n"
               "  --pcs-backoff-base-ms N first wait after a failed fetch (default 5000)\n"
               "  --pcs-timeout-ms N      per PCS request (default 10000)\n"
               "  --pcs-wait-ms N         longest a request waits for a running fetch before\n"
               "                          503 + Retry-After (default 5000)\n"
               "  --tpm-ak-roots FILE     PEM anchors for TPM AK certificates\n"
               "  --tpm-ek-roots FILE     PEM anchors for TPM EK certificates (ekcred)\n"
               "  --tpm-ak-allow FILE     pre-registered AK Names, hex per line (INSECURE)\n"
               "  --tpm-ek-allow FILE     pre-registered EK Names for ekcred without EK roots\n"
               "  --tpm-allow-sha1        accept SHA-1 PCR banks and quote signatures\n"
               "  --sim-ca FILE           trusted Vouch software TEE CA (enables SimEnclave)\n"
               "  --eval-time TIME        verify at this fixed time (tests only; logged loudly)\n"
               "  --admin-token-file F    bearer token for policy management (mode 0600)\n"
               "  --admin-client-ca FILE  PEM CA: a client certificate it issued also\n"
               "                          authenticates policy management (TLS only)\n"
               "  --insecure-http         plain HTTP instead of TLS\n"
               "  --threads N             worker threads (default: CPUs)\n"
               "  --token-alg ALG         RS256 (default), PS256 or ES256\n"
               "  --token-lifetime SECS   token lifetime (default 28800, as MAA)\n"
               "  --no-draft-policy       refuse draftPolicyForAttestation (unsigned tokens)\n"
               "  --require-signed-policies  refuse unsigned policy uploads (isolated mode)\n"
               "  --port-file F           write the bound port to F (with port 0)\n"
               "  --quiet                 only warnings and errors (no per-request lines)\n"
               "  --verbose               debug logging\n");
}

/* The host part of a URL like https://host:port/..., for the certificate. */
static void url_host(const char *url, char *out, size_t cap)
{
    const char *h = strstr(url, "://");
    size_t n = 0;

    h = h ? h + 3 : url;
    if (*h == '[') {
        h++;
        while (h[n] && h[n] != ']' && n + 1 < cap)
            n++;
    } else {
        while (h[n] && h[n] != ':' && h[n] != '/' && n + 1 < cap)
            n++;
    }
    memcpy(out, h, n);
    out[n] = 0;
}

static bool is_ip(const char *s)
{
    return strspn(s, "0123456789.") == strlen(s) || strchr(s, ':') != NULL;
}

/* First start: a P-256 TLS key and a certificate for localhost, 127.0.0.1,
 * ::1 and the issuer's host, so clients can trust the certificate as it is. */
static vouch_err ensure_tls(struct attestd *d, const char *cert_path, const char *key_path)
{
    struct vouch_pkey *k = NULL;
    struct vouch_cert_spec spec;
    const char *dns[2] = {"localhost", NULL};
    const char *ips[3] = {"127.0.0.1", "::1", NULL};
    char host[256];
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *pem = NULL;
    int64_t now = vouch_time_now();
    vouch_err rc;

    if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
        return VOUCH_OK;
    memset(&spec, 0, sizeof(spec));
    url_host(d->cfg.issuer, host, sizeof(host));
    spec.common_name = host[0] && strlen(host) <= 64 ? host : "localhost";
    spec.dns_names = dns;
    spec.n_dns = 1;
    spec.ip_addrs = ips;
    spec.n_ip = 2;
    if (host[0] && strcmp(host, "localhost") != 0 && strcmp(host, "127.0.0.1") != 0 &&
        strcmp(host, "::1") != 0) {
        if (is_ip(host))
            ips[spec.n_ip++] = host;
        else
            dns[spec.n_dns++] = host;
    }
    spec.not_before = now - 86400;
    spec.not_after = now + 10LL * 365 * 86400;
    spec.server_auth = true;
    if ((rc = vouch_pkey_generate(VOUCH_PKEY_EC_P256, &k)) != VOUCH_OK ||
        (rc = vouch_pkey_self_signed_cert(k, &spec, &der, &der_len)) != VOUCH_OK ||
        (rc = vouch_pkey_cert_pem(der, der_len, &pem)) != VOUCH_OK ||
        (rc = vouch_pkey_save(k, key_path)) != VOUCH_OK ||
        (rc = attestd_write_file_atomic(cert_path, pem, strlen(pem), 0644)) != VOUCH_OK)
        goto out;
    vouch_log_warn("created TLS certificate %s for %s", cert_path, spec.common_name);
out:
    vouch_free(pem);
    vouch_free(der);
    vouch_pkey_free(k);
    return rc;
}

static void harden_process(void)
{
    struct rlimit rl = {0, 0};
    umask(077);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    (void)setrlimit(RLIMIT_CORE, &rl);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"issuer", required_argument, NULL, 'i'},
        {"collateral", required_argument, NULL, 'c'},
        {"eval-time", required_argument, NULL, 'e'},
        {"admin-token-file", required_argument, NULL, 'a'},
        {"insecure-http", no_argument, NULL, 'k'},
        {"threads", required_argument, NULL, 't'},
        {"token-alg", required_argument, NULL, 'g'},
        {"token-lifetime", required_argument, NULL, 'L'},
        {"no-draft-policy", no_argument, NULL, 'D'},
        {"require-signed-policies", no_argument, NULL, 'S'},
        {"port-file", required_argument, NULL, 'p'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"pcs-url", required_argument, NULL, OPT_PCS_URL},
        {"pcs-ca", required_argument, NULL, OPT_PCS_CA},
        {"pcs-api-key-file", required_argument, NULL, OPT_PCS_API_KEY_FILE},
        {"pcs-root-crl-url", required_argument, NULL, OPT_PCS_ROOT_CRL_URL},
        {"pcs-backoff-base-ms", required_argument, NULL, OPT_PCS_BACKOFF_BASE_MS},
        {"pcs-timeout-ms", required_argument, NULL, OPT_PCS_TIMEOUT_MS},
        {"tpm-ak-roots", required_argument, NULL, OPT_TPM_AK_ROOTS},
        {"tpm-ek-roots", required_argument, NULL, OPT_TPM_EK_ROOTS},
        {"tpm-ak-allow", required_argument, NULL, OPT_TPM_AK_ALLOW},
        {"tpm-ek-allow", required_argument, NULL, OPT_TPM_EK_ALLOW},
        {"tpm-allow-sha1", no_argument, NULL, OPT_TPM_ALLOW_SHA1},
        {"admin-client-ca", required_argument, NULL, OPT_ADMIN_CLIENT_CA},
        {"pcs-wait-ms", required_argument, NULL, OPT_PCS_WAIT_MS},
        {"sim-ca", required_argument, NULL, OPT_SIM_CA},
        {NULL, 0, NULL, 0},
    };
    struct attestd *d = NULL;
    struct vouch_http_server_opts so;
    const char *port_file = NULL;
    char issuer_buf[300], tls_dir[4096], cert_path[4200], key_path[4200];
    int ret = 2, c;

    harden_process();
    /* A service logs one line per request by default. */
    vouch_log_set_level(VOUCH_LOG_INFO);
    if (!(d = vouch_calloc(1, sizeof(*d)))) {
        fprintf(stderr, "vouch-attestd: out of memory\n");
        return 1;
    }
    d->cfg.token_alg = VOUCH_SIG_RS256;
    d->cfg.token_lifetime = VOUCH_TOKEN_DEFAULT_LIFETIME;
    d->cfg.allow_draft_policy = true;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            d->cfg.listen = optarg;
            break;
        case 'd':
            d->cfg.data_dir = optarg;
            break;
        case 'i':
            d->cfg.issuer = optarg;
            break;
        case 'c':
            d->cfg.collateral_dir = optarg;
            break;
        case 'e':
            if (vouch_time_parse(optarg, &d->cfg.eval_time) != VOUCH_OK) {
                fprintf(stderr, "vouch-attestd: --eval-time: bad time '%s'\n", optarg);
                goto out;
            }
            d->cfg.has_eval_time = true;
            break;
        case 'a':
            d->cfg.admin_token_file = optarg;
            break;
        case 'k':
            d->cfg.insecure_http = true;
            break;
        case 't':
            d->cfg.threads = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'g':
            if (vouch_sig_alg_from_name(optarg, &d->cfg.token_alg) != VOUCH_OK) {
                fprintf(stderr, "vouch-attestd: --token-alg: RS256, PS256 or ES256\n");
                goto out;
            }
            break;
        case 'L':
            d->cfg.token_lifetime = strtoll(optarg, NULL, 10);
            if (d->cfg.token_lifetime <= 0 || d->cfg.token_lifetime > 366LL * 86400) {
                fprintf(stderr, "vouch-attestd: --token-lifetime: 1..31622400 seconds\n");
                goto out;
            }
            break;
        case 'D':
            d->cfg.allow_draft_policy = false;
            break;
        case 'S':
            d->cfg.require_signed_policies = true;
            break;
        case 'p':
            port_file = optarg;
            break;
        case 'v':
            vouch_log_set_level(VOUCH_LOG_DEBUG);
            break;
        case 'q':
            vouch_log_set_level(VOUCH_LOG_WARN);
            break;
        case 'h':
            usage(stdout);
            ret = 0;
            goto out;
        case OPT_PCS_URL:
            d->cfg.pcs_url = optarg;
            break;
        case OPT_ADMIN_CLIENT_CA:
            d->cfg.admin_client_ca = optarg;
            break;
        case OPT_PCS_WAIT_MS:
            if (!parse_ms(optarg, &d->cfg.pcs_wait_ms)) {
                fprintf(stderr, "vouch-attestd: --pcs-wait-ms: 1..3600000 milliseconds\n");
                goto out;
            }
            break;
        case OPT_PCS_CA:
            d->cfg.pcs_ca_file = optarg;
            break;
        case OPT_PCS_API_KEY_FILE:
            d->cfg.pcs_api_key_file = optarg;
            break;
        case OPT_PCS_ROOT_CRL_URL:
            d->cfg.pcs_root_crl_url = optarg;
            break;
        case OPT_TPM_AK_ROOTS:
            d->cfg.tpm_ak_roots = optarg;
            break;
        case OPT_TPM_EK_ROOTS:
            d->cfg.tpm_ek_roots = optarg;
            break;
        case OPT_TPM_AK_ALLOW:
            d->cfg.tpm_ak_allow = optarg;
            break;
        case OPT_TPM_EK_ALLOW:
            d->cfg.tpm_ek_allow = optarg;
            break;
        case OPT_TPM_ALLOW_SHA1:
            d->cfg.tpm_allow_sha1 = true;
            break;
        case OPT_SIM_CA:
            d->cfg.sim_ca_file = optarg;
            break;
        case OPT_PCS_BACKOFF_BASE_MS:
        case OPT_PCS_TIMEOUT_MS:
            if (!parse_ms(optarg, c == OPT_PCS_TIMEOUT_MS ? &d->cfg.pcs_timeout_ms
                                                          : &d->cfg.pcs_backoff_base_ms)) {
                fprintf(stderr, "vouch-attestd: --pcs-*-ms: 1..3600000 milliseconds\n");
                goto out;
            }
            break;
        default:
            usage(stderr);
            goto out;
        }
    }
    if (!d->cfg.listen || !d->cfg.data_dir || optind != argc) {
        usage(stderr);
        goto out;
    }
    if (d->cfg.admin_client_ca && d->cfg.insecure_http) {
        fprintf(stderr, "vouch-attestd: --admin-client-ca needs TLS (not --insecure-http)\n");
        goto out;
    }
    ret = 1;
    if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "vouch-attestd: cannot create %s: %s\n", d->cfg.data_dir, strerror(errno));
        goto out;
    }
    if (d->cfg.has_eval_time) {
        char t[21];
        vouch_time_format(d->cfg.eval_time, t);
        vouch_log_warn("EVALUATION TIME IS FIXED at %s (--eval-time): evidence and tokens use "
                       "this time, not the clock. For tests only.",
                       t);
    }
    if (d->cfg.admin_token_file) {
        if (attestd_read_file(d->cfg.admin_token_file, true, &d->admin_token,
                              &d->admin_token_len) != VOUCH_OK) {
            fprintf(stderr, "vouch-attestd: cannot read --admin-token-file %s\n",
                    d->cfg.admin_token_file);
            goto out;
        }
        while (d->admin_token_len > 0 && (d->admin_token[d->admin_token_len - 1] == '\n' ||
                                          d->admin_token[d->admin_token_len - 1] == '\r'))
            d->admin_token[--d->admin_token_len] = 0;
        if (d->admin_token_len < 16) {
            fprintf(stderr, "vouch-attestd: the admin token must be at least 16 characters\n");
            goto out;
        }
    }
    if (d->cfg.sim_ca_file) {
        struct vouch_x509 *probe = NULL;
        char *text = NULL;
        if (attestd_read_file(d->cfg.sim_ca_file, false, &text, &d->sim_ca_len) != VOUCH_OK ||
            vouch_x509_parse((const uint8_t *)text, d->sim_ca_len, &probe) != VOUCH_OK) {
            fprintf(stderr, "vouch-attestd: --sim-ca %s is not a readable certificate\n",
                    d->cfg.sim_ca_file);
            vouch_free(text);
            goto out;
        }
        vouch_x509_free(probe);
        d->sim_ca = (uint8_t *)text;
        vouch_log_warn("SimEnclave is enabled (--sim-ca): software-TEE evidence gives no "
                       "protection from the host it runs on");
    }

    memset(&so, 0, sizeof(so));
    so.listen = d->cfg.listen;
    so.threads = d->cfg.threads;
    so.insecure_http = d->cfg.insecure_http;
    so.handler = attestd_handle;
    so.handler_arg = d;
    snprintf(tls_dir, sizeof(tls_dir), "%s/tls", d->cfg.data_dir);
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tls_dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", tls_dir);
    so.tls_cert = cert_path;
    so.tls_key = key_path;
    so.tls_client_ca = d->cfg.admin_client_ca;

    /* The issuer defaults to the listening address, which needs the port: bind
     * first with a placeholder, then create the keys and certificate. */
    if (!d->cfg.issuer) {
        char host[128];
        const char *colon = strrchr(d->cfg.listen, ':');
        size_t hl = colon ? (size_t)(colon - d->cfg.listen) : 0;
        if (!colon || hl >= sizeof(host) || strcmp(colon + 1, "0") == 0) {
            fprintf(stderr, "vouch-attestd: give --issuer when listening on port 0\n");
            goto out;
        }
        memcpy(host, d->cfg.listen, hl);
        host[hl] = 0;
        if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0)
            snprintf(host, sizeof(host), "localhost");
        snprintf(issuer_buf, sizeof(issuer_buf), "%s://%s:%s",
                 d->cfg.insecure_http ? "http" : "https", host, colon + 1);
        d->cfg.issuer = issuer_buf;
    }
    {
        size_t il = strlen(d->cfg.issuer);
        if (il == 0 || d->cfg.issuer[il - 1] == '/' ||
            (strncmp(d->cfg.issuer, "https://", 8) != 0 &&
             strncmp(d->cfg.issuer, "http://", 7) != 0)) {
            fprintf(stderr, "vouch-attestd: --issuer must be an http(s) URL without a trailing "
                            "slash\n");
            goto out;
        }
    }
    if (!d->cfg.insecure_http) {
        if (mkdir(tls_dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "vouch-attestd: cannot create %s\n", tls_dir);
            goto out;
        }
        if (ensure_tls(d, cert_path, key_path) != VOUCH_OK) {
            fprintf(stderr, "vouch-attestd: cannot create the TLS certificate\n");
            goto out;
        }
    }
    if (attestd_store_open(d->cfg.data_dir, &d->store) != VOUCH_OK ||
        attestd_keys_load(d) != VOUCH_OK || attestd_policies_load(d) != VOUCH_OK ||
        attestd_collateral_load(d) != VOUCH_OK || attestd_pcs_init(d) != VOUCH_OK ||
        attestd_tpm_init(d) != VOUCH_OK) {
        fprintf(stderr, "vouch-attestd: start-up failed (see the log above)\n");
        goto out;
    }
    if (vouch_http_server_create(&so, &g_server) != VOUCH_OK) {
        fprintf(stderr, "vouch-attestd: cannot serve on %s\n", d->cfg.listen);
        goto out;
    }
    if (port_file) {
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%u\n", vouch_http_server_port(g_server));
        if (attestd_write_file_atomic(port_file, buf, (size_t)n, 0644) != VOUCH_OK) {
            fprintf(stderr, "vouch-attestd: cannot write %s\n", port_file);
            goto out;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "vouch-attestd: serving %s on %s (port %u), issuer %s, %zu collateral set(s)\n",
            d->cfg.insecure_http ? "HTTP" : "HTTPS", d->cfg.listen,
            vouch_http_server_port(g_server), d->cfg.issuer, d->n_collateral);
    ret = vouch_http_server_run(g_server) == VOUCH_OK ? 0 : 1;
out:
    vouch_http_server_free(g_server);
    g_server = NULL;
    attestd_pcs_free(d);
    attestd_tpm_free(d);
    for (size_t i = 0; i < d->n_collateral; i++)
        vouch_collateral_free(d->collateral[i].coll);
    for (int t = 0; t < ATTESTD_TYPE__COUNT; t++)
        attestd_policy_unref(d->policy[t]);
    attestd_keys_free(d);
    vouch_free(d->sim_ca);
    attestd_store_close(d->store);
    if (d->admin_token) {
        vouch_wipe(d->admin_token, d->admin_token_len);
        vouch_free(d->admin_token);
    }
    vouch_free(d);
    return ret;
}
