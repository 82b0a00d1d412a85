/* Logging: one bounded line per event. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <vouch/limits.h>
#include <vouch/log.h>

static enum vouch_log_level max_level = VOUCH_LOG_WARN;
static vouch_log_fn sink;
static void *sink_arg;

void vouch_log_set_level(enum vouch_log_level level)
{
    max_level = level;
}

void vouch_log_set_sink(vouch_log_fn fn, void *arg)
{
    sink = fn;
    sink_arg = arg;
}

static const char *level_name(enum vouch_log_level l)
{
    switch (l) {
    case VOUCH_LOG_ERROR:
        return "error";
    case VOUCH_LOG_WARN:
        return "warn";
    case VOUCH_LOG_INFO:
        return "info";
    case VOUCH_LOG_DEBUG:
        return "debug";
    }
    return "?";
}

void vouch__log(enum vouch_log_level level, const char *file, int line, const char *func,
                const char *fmt, ...)
{
    char buf[VOUCH_MAX_LOG_LINE];
    const char *base;
    va_list ap;
    int n;

    if (level > max_level)
        return;
    base = strrchr(file, '/');
    base = base ? base + 1 : file;
    n = snprintf(buf, sizeof(buf), "level=%s src=%s:%d fn=%s msg=\"", level_name(level), base, line,
                 func);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    /* Never let remote-controlled text break the line structure. */
    for (char *c = buf + n; *c; c++) {
        if (*c == '\n' || *c == '\r' || *c == '"')
            *c = (*c == '"') ? '\'' : ' ';
    }
    strncat(buf, "\"", sizeof(buf) - strlen(buf) - 1);
    if (sink)
        sink(level, buf, sink_arg);
    else
        fprintf(stderr, "%s\n", buf);
}
