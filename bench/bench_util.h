/*
 * Helpers every benchmark shares: a monotonic clock, nearest-rank
 * percentiles over sorted samples, and the 1-minute load average recorded
 * with each run (on a shared 2-core machine it says how far means can be
 * trusted). Header-only: each bench is one program.
 */
#ifndef VOUCH_BENCH_UTIL_H
#define VOUCH_BENCH_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Sorts @p samples in place. */
static inline void bench_sort(double *samples, size_t n)
{
    qsort(samples, n, sizeof(*samples), bench_cmp_double);
}

/* Nearest-rank percentile of sorted samples (0 for none). */
static inline double bench_percentile(const double *sorted, size_t n, size_t pct)
{
    size_t rank = (n * pct + 99) / 100;

    if (n == 0)
        return 0;
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* The 1-minute load average, or -1 when unknown. */
static inline double bench_load_1m(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l = -1;

    if (!f)
        return -1;
    if (fscanf(f, "%lf", &l) != 1)
        l = -1;
    fclose(f);
    return l;
}

#endif
