/* RFC 3339 / Unix-time conversion without the C library's time zone state. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vouch/time.h>

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t vouch_time_from_civil(int64_t y, unsigned mon, unsigned d, unsigned h, unsigned mi,
                              unsigned s)
{
    int64_t era, yoe, doy, doe, days;

    y -= mon <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (mon > 2 ? (int64_t)mon - 3 : (int64_t)mon + 9) + 2) / 5 + (int64_t)d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;
    return days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)s;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

vouch_err vouch_time_parse_rfc3339(const char *s, size_t len, int64_t *out)
{
    unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
    size_t i = 19;
    int64_t t, sign = 0;

    *out = 0;
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return VOUCH_ERR_PARSE;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
        return VOUCH_ERR_PARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return VOUCH_ERR_PARSE;
    if (s[i] == '.') {
        /* Fractional seconds are accepted and truncated. */
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return VOUCH_ERR_PARSE;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '+' ? 1 : -1;
        if (len - i != 6 || s[i + 3] != ':' || digits(s + i + 1, 2, &oh) ||
            digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return VOUCH_ERR_PARSE;
        i += 6;
    } else {
        return VOUCH_ERR_PARSE;
    }
    if (i != len)
        return VOUCH_ERR_PARSE;
    t = vouch_time_from_civil(y, mo, d, h, mi, sec > 59 ? 59 : sec);
    t -= sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    *out = t;
    return VOUCH_OK;
}

vouch_err vouch_time_parse(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    int64_t v = 0;

    *out = 0;
    if (len == 0)
        return VOUCH_ERR_PARSE;
    if (len <= 12 && strspn(s, "0123456789") == len) {
        for (size_t i = 0; i < len; i++)
            v = v * 10 + (s[i] - '0');
        *out = v;
        return VOUCH_OK;
    }
    return vouch_time_parse_rfc3339(s, len, out);
}

void vouch_time_format(int64_t t, char out[21])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t rem = t - days * 86400;
    /* civil_from_days */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    if (y < 0 || y > 9999) {
        memcpy(out, "0000-00-00T00:00:00Z", 21);
        return;
    }
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 'T';
    out[11] = (char)('0' + rem / 36000);
    out[12] = (char)('0' + rem / 3600 % 10);
    out[13] = ':';
    out[14] = (char)('0' + rem % 3600 / 600);
    out[15] = (char)('0' + rem % 3600 / 60 % 10);
    out[16] = ':';
    out[17] = (char)('0' + rem % 60 / 10);
    out[18] = (char)('0' + rem % 10);
    out[19] = 'Z';
    out[20] = 0;
}

int64_t vouch_time_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec;
}
