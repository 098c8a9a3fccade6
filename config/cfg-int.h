/*
 * cfg-int.h — what the files of the config module share. Not for other
 * modules: they see only cfg.h.
 *
 *   cfg_keys.c    the key table; one value's text into a snapshot field
 *   cfg_build.c   the loader's callbacks; presets and cross-field rules
 *   cfg_render.c  key=value rendering, the hash, the Markdown reference
 *   cfg.c         the snapshot's lifetime, the parse pipeline, the errors
 *   cfg_syntax.c  the text forms of values
 *   cfg_yaml.c    the YAML walk (the only file with <yaml.h>)
 *
 * The loader knows YAML and nothing about keys beyond their dotted paths;
 * the table knows keys, types and bounds and nothing about YAML. They meet
 * in a struct cfg_build: the snapshot under construction plus what the file
 * set where, and the error list.
 */
#ifndef ROLLGUARD_CFG_INT_H
#define ROLLGUARD_CFG_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"

#define CFG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Upper bound on the number of keys in the table (checked at compile time). */
#define CFG_KEYS_MAX 96
/* Longest dotted path the loader tracks; longer keys cannot be known ones. */
#define CFG_PATH_MAX 128

/* A position in the file, 1-based; line 0 means none. */
struct cfg_mark {
    unsigned line, column;
};

/* ---- the key table (cfg_keys.c) ---------------------------------------- */

enum cfg_type {
    CFG_T_STRING,
    CFG_T_DURATION, /* uint32_t milliseconds */
    CFG_T_UINT,     /* uint32_t */
    CFG_T_DOUBLE,
    CFG_T_BOOL,
    CFG_T_ENUM,    /* an enum field; names[] index = value */
    CFG_T_ADDRESS, /* "host:port" */
    CFG_T_URL,     /* http:// or https:// with a host */
    CFG_T_PATH,    /* absolute file system path */
};

#define CFG_K_EMPTY 0x01    /* "" is accepted (string types) */
#define CFG_K_MIN_EXCL 0x02 /* min itself is out of range (doubles) */
#define CFG_K_MAX_EXCL 0x04 /* max itself is out of range (doubles) */
#define CFG_K_HOST 0x08     /* address: the host part may not be empty */
#define CFG_K_HTTPS 0x10    /* url: https:// only */
#define CFG_K_LOOPBACK 0x20 /* address: 127.0.0.0/8 or [::1] only */
#define CFG_K_AUTO 0x40     /* integer: `auto` is accepted too, stored as 0 */

struct cfg_key {
    const char *path; /* dotted, exactly as written in the file */
    enum cfg_type type;
    size_t off;               /* into struct cfg */
    double min, max;          /* CFG_T_UINT, CFG_T_DURATION (ms), CFG_T_DOUBLE */
    unsigned flags;           /* CFG_K_* */
    const char *def;          /* the default as the value's text ("" for empty) */
    const char *const *names; /* CFG_T_ENUM: NULL-terminated, index = value */
    int (*check)(const char *s, char *err, size_t errlen); /* strings: extra syntax */
    const char *hint; /* strings: what is accepted, for the reference */
    const char *doc;
};

/*
 * Every key. Its order is the order of the reference and of the hash, and
 * follows config/rollguard.yaml. A key's id is its index.
 */
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_keys_n;

/* What a preset changes: the keys of app.metrics a file leaves out. */
struct cfg_preset_value {
    enum cfg_preset preset;
    const char *path;
    const char *value;
};

extern const struct cfg_preset_value cfg_preset_values[];
extern const size_t cfg_preset_values_n;

/* The two probes, for kind selection, their cross-field rules and the hash. */
#define CFG_PROBES 2

struct cfg_probe_def {
    const char *path; /* the section, e.g. "app.liveness" */
    size_t off;       /* of its struct cfg_probe in struct cfg */
    bool liveness;
};

extern const struct cfg_probe_def cfg_probes[CFG_PROBES];

/* Key k's field in snapshot c. */
static inline void *cfg_key_field(const struct cfg *c, const struct cfg_key *k)
{
    return (char *)c + k->off;
}

/* The field is a malloc'd char * (freed with the snapshot). */
static inline bool cfg_type_is_string(enum cfg_type t)
{
    return t == CFG_T_STRING || t == CFG_T_ADDRESS || t == CFG_T_URL || t == CFG_T_PATH;
}

/* The type's name for the reference ("duration"). */
const char *cfg_type_name(enum cfg_type t);

/* What a key of the type expects, for "expected X, got a mapping". */
const char *cfg_type_wants(enum cfg_type t);

/* The id of the key with exactly this path, or -ENOENT. */
int cfg_key_index(const char *path);

/*
 * Look a dotted path up. Returns the id (>= 0) of a known key or section
 * and sets *is_section; -ENOENT when neither. Ids are distinct among the
 * entries of one mapping, so the loader can use them to find duplicates.
 */
int cfg_key_lookup(const char *path, bool *is_section);

/*
 * Write into out (size bytes) the known key or section closest to path
 * within edit distance 2 (1 for a last name under 6 characters, 0 under
 * 3). Returns false (out untouched) when none is.
 */
bool cfg_key_suggest(const char *path, char *out, size_t size);

/* Key k's bounds as text ("10ms to 10m", "> 0 and < 1") into buf. */
void cfg_key_range_text(const struct cfg_key *k, char *buf, size_t size);

/* Replace the malloc'd string *dst with a copy of s. Returns 0 or -ENOMEM. */
int cfg_set_string(char **dst, const char *s);

/*
 * Parse s (NUL-terminated) as key k's type, check it, store it into c.
 * Returns 0, -ENOMEM, or -EINVAL with the reason in err (without the key).
 */
int cfg_value_set(struct cfg *c, const struct cfg_key *k, const char *s, char *err, size_t errlen);

/* ---- the error list (cfg.c) --------------------------------------------- */

/* No position: the error is about the whole file. */
#define CFG_NOWHERE ((struct cfg_mark){0, 0})

/* Append one error at a position; past CFG_MAX_ERRORS, count it as dropped. */
void cfg_errs_add(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_errs_vadd(struct cfg_errs *errs, struct cfg_mark at, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* ---- building a snapshot from a file (cfg_build.c) ---------------------- */

struct cfg_build {
    struct cfg *c;
    struct cfg_errs *errs;
    bool nomem;
    bool set[CFG_KEYS_MAX];                                  /* the file gave a value */
    bool bad[CFG_KEYS_MAX];                                  /* ... and it was rejected */
    struct cfg_mark at[CFG_KEYS_MAX];                        /* where the file set it (the key) */
    struct cfg_mark http_at[CFG_PROBES], tcp_at[CFG_PROBES]; /* probe sections opened */
};

/* True once the error list is full, so callers can skip costly messages. */
bool cfg_build_errs_full(const struct cfg_build *b);

/* Record one error at a position (line 0 for none). */
void cfg_build_err(struct cfg_build *b, struct cfg_mark at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record that memory ran out; the parse fails with -ENOMEM. */
void cfg_build_nomem(struct cfg_build *b);

/*
 * A scalar value (NUL-terminated, no NUL inside) for the key with id (from
 * cfg_key_lookup, not a section). null: the scalar is a YAML null (empty,
 * ~ or null, unquoted), which no key accepts. val is the value's position,
 * key the key's. Problems go to the error list.
 */
void cfg_build_scalar(struct cfg_build *b, int id, const char *text, bool null, struct cfg_mark val,
                      struct cfg_mark key);

/*
 * The file gave key id a node that is not a scalar; what is "mapping" or
 * "sequence", at is that node's position.
 */
void cfg_build_wrong_node(struct cfg_build *b, int id, const char *what, struct cfg_mark at);

/*
 * The file opens the mapping of section path (its key at key). Returns 0,
 * or -EINVAL after recording an error when the section must be skipped
 * (e.g. `tcp` after `http` in the same probe).
 */
int cfg_build_section(struct cfg_build *b, const char *path, struct cfg_mark key);

/*
 * After the file: the preset's values for the keys it left out, the probe
 * kinds, the rules across keys. Returns 0 (rule errors are in b) or -ENOMEM.
 */
int cfg_build_finish(struct cfg_build *b);

/* ---- rendering (cfg_render.c) ------------------------------------------- */

/* An output that counts what it needed, fills a buffer and/or feeds a hash. */
struct cfg_out {
    char *buf; /* NULL: count only; else always NUL-terminated, cut at size */
    size_t size, len;
    bool hashing;
    uint64_t fnv; /* FNV-1a over everything written, when hashing */
};

void cfg_out_write(struct cfg_out *o, const char *s, size_t n);
void cfg_out_puts(struct cfg_out *o, const char *s);
void cfg_out_printf(struct cfg_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set c->hash from the key=value lines of every effective value. */
void cfg_hash_render(struct cfg *c);

/* ---- value syntaxes (cfg_syntax.c) ------------------------------------- */

/*
 * Copy len bytes of s into buf (size bytes, NUL-terminated) for quoting in
 * a message: control characters become '?', and a long text is cut at a
 * character boundary and ends in "...". Returns buf.
 */
const char *cfg_show(const char *s, size_t len, char *buf, size_t size);

/* Write ms in canonical form ("1h30m", "1s500ms", "0s") into buf. */
void cfg_duration_render(uint64_t ms, char *buf, size_t size);

/*
 * The checks below take a NUL-terminated, non-empty s and return 0, or
 * -EINVAL with the reason in err (errlen bytes).
 */

/* A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*. */
int cfg_check_label_name(const char *s, char *err, size_t errlen);

/* A Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
int cfg_check_metric_name(const char *s, char *err, size_t errlen);

/*
 * Label matchers: name="value" or name!="value", comma separated, spaces
 * allowed around the parts; values escape only \\ and \". "" or spaces only
 * is an empty list.
 */
int cfg_check_selector(const char *s, char *err, size_t errlen);

/*
 * host:port in len bytes of s. The host is a name, an IPv4 address or an
 * IPv6 address in brackets; it may be empty (all interfaces) unless
 * host_required. The port is 1-65535; it may be left out (with its colon)
 * unless port_required.
 */
int cfg_check_hostport(const char *s, size_t len, bool host_required, bool port_required, char *err,
                       size_t errlen);

/*
 * The host of a host:port that cfg_check_hostport accepted is a loopback
 * address literal: IPv4 127.0.0.0/8 or IPv6 [::1]. Names (even "localhost")
 * and an empty host (all interfaces) are refused.
 */
int cfg_check_loopback(const char *s, size_t len, char *err, size_t errlen);

/*
 * http:// or https:// (https_only: https:// only, any case) with a host, an
 * optional port, no credentials, no spaces or control characters.
 */
int cfg_check_url(const char *s, bool https_only, char *err, size_t errlen);

/* ---- the loader (cfg_yaml.c) -------------------------------------------- */

/*
 * Feed a YAML document (len bytes, not necessarily NUL-terminated) into b:
 * encoding checks, then every key through cfg_build_scalar/_section.
 * Returns 0 when the walk reached the end (semantic errors may still be in
 * b), -EINVAL after a problem that stopped it (recorded in b), -ENOMEM.
 * Implemented in cfg_yaml.c, the only file that includes <yaml.h>.
 */
int cfg_yaml_read(struct cfg_build *b, const char *buf, size_t len);

#endif
