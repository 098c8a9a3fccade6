/*
 * log — the one logging entry point: one structured line per event on
 * stderr, as JSON or as key=value text.
 *
 *     log_event(LOG_LVL_INFO, "config_loaded", LF_S("source", path), LF_U("reloads", n));
 *
 * The level is checked before the fields are evaluated. Only the logging
 * modules (main, daemon, the reload path) call this; pure modules return
 * errors. Secrets never go into a field.
 */
#ifndef ROLLGUARD_LOG_H
#define ROLLGUARD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };
enum log_type { LOG_F_STR, LOG_F_INT, LOG_F_UINT, LOG_F_DBL, LOG_F_BOOL, LOG_F_RAW };

struct log_field {
    const char *key;
    enum log_type type;
    union {
        const char *s; /* STR, and RAW: already valid JSON (an object, say) */
        long long i;
        unsigned long long u;
        double d;
        bool b;
    } v;
};

#define LF_S(k, x) ((struct log_field){.key = (k), .type = LOG_F_STR, .v.s = (x)})
#define LF_I(k, x) ((struct log_field){.key = (k), .type = LOG_F_INT, .v.i = (x)})
#define LF_U(k, x) ((struct log_field){.key = (k), .type = LOG_F_UINT, .v.u = (x)})
#define LF_D(k, x) ((struct log_field){.key = (k), .type = LOG_F_DBL, .v.d = (x)})
#define LF_B(k, x) ((struct log_field){.key = (k), .type = LOG_F_BOOL, .v.b = (x)})
#define LF_RAW(k, x) ((struct log_field){.key = (k), .type = LOG_F_RAW, .v.s = (x)})

extern enum log_level log_level_min;

/* Set the threshold and the format (json when true, key=value text otherwise). */
void log_setup(enum log_level min, bool json);

/* Write one line: ts, level, event, then the fields in order. */
void log_write(enum log_level lvl, const char *event, const struct log_field *f, size_t n);

/* Render one line into buf (size bytes, always NUL-terminated); returns its length. */
size_t log_render(char *buf, size_t size, bool json, const char *ts, enum log_level lvl,
                  const char *event, const struct log_field *f, size_t n);

#define log_event(lvl, event, ...)                                                                 \
    do {                                                                                           \
        if ((lvl) >= log_level_min) {                                                              \
            const struct log_field log_f_[] = {__VA_ARGS__};                                       \
            log_write((lvl), (event), log_f_, sizeof(log_f_) / sizeof(log_f_[0]));                 \
        }                                                                                          \
    } while (0)

const char *log_level_name(enum log_level l);

#endif
