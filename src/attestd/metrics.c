/* Prometheus counters: requests by status class, attest outcomes by type, and
 * an attest latency histogram. Lock-free: relaxed atomics, read at render. */
#include <stdio.h>
#include <vouch/buf.h>

#include "attestd/attestd_int.h"

/* Upper bounds of the latency buckets, in microseconds. */
static const unsigned long lat_le_us[ATTESTD_LAT_BUCKETS] = {
    250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

void attestd_metrics_request(struct attestd *d, int status)
{
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 6;
    atomic_fetch_add_explicit(&d->metrics.requests[cls - 1], 1, memory_order_relaxed);
}

void attestd_metrics_attest(struct attestd *d, enum attestd_type t, int outcome, int64_t us)
{
    size_t b = 0;
    if ((unsigned)t >= ATTESTD_TYPE__COUNT)
        return;
    if (outcome == 0)
        atomic_fetch_add_explicit(&d->metrics.attest_ok[t], 1, memory_order_relaxed);
    else if (outcome == 1)
        atomic_fetch_add_explicit(&d->metrics.attest_denied[t], 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&d->metrics.attest_invalid[t], 1, memory_order_relaxed);
    if (us < 0)
        us = 0;
    while (b < ATTESTD_LAT_BUCKETS && (unsigned long)us > lat_le_us[b])
        b++;
    atomic_fetch_add_explicit(&d->metrics.lat_bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->metrics.lat_sum_us, (unsigned long)us, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->metrics.lat_count, 1, memory_order_relaxed);
}

vouch_err attestd_metrics_render(struct attestd *d, struct vouch_buf *out)
{
    static const char *const cls[6] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
    unsigned long cum = 0;
    vouch_err rc = VOUCH_OK;

    rc = vouch_buf_append_str(out, "# HELP vouch_http_requests_total HTTP requests by status "
                                   "class.\n# TYPE vouch_http_requests_total counter\n");
    for (int i = 0; i < 6 && rc == VOUCH_OK; i++)
        rc = vouch_buf_printf(out, "vouch_http_requests_total{class=\"%s\"} %lu\n", cls[i],
                              atomic_load(&d->metrics.requests[i]));
    if (rc == VOUCH_OK)
        rc = vouch_buf_append_str(out, "# HELP vouch_attest_total Attestation requests by TEE "
                                       "type and result.\n# TYPE vouch_attest_total counter\n");
    for (int t = 0; t < ATTESTD_TYPE__COUNT && rc == VOUCH_OK; t++) {
        const char *name = attestd_type_name((enum attestd_type)t);
        rc = vouch_buf_printf(out,
                              "vouch_attest_total{type=\"%s\",result=\"permit\"} %lu\n"
                              "vouch_attest_total{type=\"%s\",result=\"deny\"} %lu\n"
                              "vouch_attest_total{type=\"%s\",result=\"invalid\"} %lu\n",
                              name, atomic_load(&d->metrics.attest_ok[t]), name,
                              atomic_load(&d->metrics.attest_denied[t]), name,
                              atomic_load(&d->metrics.attest_invalid[t]));
    }
    if (rc == VOUCH_OK)
        rc = vouch_buf_append_str(out, "# HELP vouch_attest_duration_seconds Attestation latency.\n"
                                       "# TYPE vouch_attest_duration_seconds histogram\n");
    for (size_t b = 0; b < ATTESTD_LAT_BUCKETS && rc == VOUCH_OK; b++) {
        cum += atomic_load(&d->metrics.lat_bucket[b]);
        rc = vouch_buf_printf(out, "vouch_attest_duration_seconds_bucket{le=\"%g\"} %lu\n",
                              (double)lat_le_us[b] / 1e6, cum);
    }
    if (rc == VOUCH_OK) {
        cum += atomic_load(&d->metrics.lat_bucket[ATTESTD_LAT_BUCKETS]);
        rc = vouch_buf_printf(out,
                              "vouch_attest_duration_seconds_bucket{le=\"+Inf\"} %lu\n"
                              "vouch_attest_duration_seconds_sum %.6f\n"
                              "vouch_attest_duration_seconds_count %lu\n",
                              cum, (double)atomic_load(&d->metrics.lat_sum_us) / 1e6,
                              atomic_load(&d->metrics.lat_count));
    }
    return rc == VOUCH_OK ? VOUCH_OK : VOUCH_ERR_TOO_LARGE;
}
