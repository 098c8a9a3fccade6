/*
 * cfg-int.h — what the key table (cfg.c), the value syntaxes (cfg_syntax.c)
 * and the YAML loader (cfg_yaml.c) share. Not for other modules: they see
 * only cfg.h.
 *
 * The loader knows YAML and nothing about keys beyond their dotted paths;
 * cfg.c knows keys, types and bounds and nothing about YAML. They meet in a
 * struct cfg_build: the snapshot under construction plus what the file set
 * where, and the error list.
 */
#ifndef ROLLGUARD_CFG_INT_H
#define ROLLGUARD_CFG_INT_H

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

/* The snapshot being built from one document (defined in cfg.c). */
struct cfg_build;

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
