/*
 * Logging. One line per event on stderr (or a caller-installed sink), with the
 * level and the source location. Never pass secrets: there is deliberately no
 * printer for key material. Lines are bounded by VOUCH_MAX_LOG_LINE.
 */
#ifndef VOUCH_LOG_H
#define VOUCH_LOG_H

#include <vouch/err.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vouch_log_level {
    VOUCH_LOG_ERROR = 0,
    VOUCH_LOG_WARN = 1,
    VOUCH_LOG_INFO = 2,
    VOUCH_LOG_DEBUG = 3,
};

typedef void (*vouch_log_fn)(enum vouch_log_level level, const char *line, void *arg);

/** Sets the most verbose level that is emitted (default WARN). */
VOUCH_API void vouch_log_set_level(enum vouch_log_level level);
/** Installs @p fn as the sink (NULL restores stderr). Not thread-safe. */
VOUCH_API void vouch_log_set_sink(vouch_log_fn fn, void *arg);

VOUCH_API void vouch__log(enum vouch_log_level level, const char *file, int line, const char *func,
                          const char *fmt, ...) VOUCH_PRINTF(5, 6);

#define vouch_log(level, ...) vouch__log((level), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define vouch_log_error(...)  vouch_log(VOUCH_LOG_ERROR, __VA_ARGS__)
#define vouch_log_warn(...)   vouch_log(VOUCH_LOG_WARN, __VA_ARGS__)
#define vouch_log_info(...)   vouch_log(VOUCH_LOG_INFO, __VA_ARGS__)
#define vouch_log_debug(...)  vouch_log(VOUCH_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
