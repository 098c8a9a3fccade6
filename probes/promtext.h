/*
 * promtext — the Prometheus text format 0.0.4 and OpenMetrics 1.0 parser.
 *
 * A one-pass callback parser over a byte buffer. It never copies the input
 * and never allocates per sample: names, label names and label values reach
 * the callback as slices of the buffer (still escaped, with a flag telling
 * whether an escape is inside); the only allocation is one small table of
 * metric family names per parse, which is what the TYPE rules need.
 * Pure: no I/O, no clock, no logging, no locale-dependent output.
 */
#ifndef ROLLGUARD_PROMTEXT_H
#define ROLLGUARD_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMTEXT_MAX_LINE (256 * 1024)  /* bytes in one line, newline excluded */
#define PROMTEXT_MAX_LABELS 64          /* labels in one sample */
#define PROMTEXT_MAX_FAMILIES 65536     /* distinct metric family names in one parse */
#define PROMTEXT_MAX_NUMBER 256         /* bytes in one value or timestamp token */
#define PROMTEXT_MAX_EXEMPLAR_RUNES 128 /* OpenMetrics: exemplar label set, in code points */

enum promtext_format {
    PROMTEXT_AUTO = 0,    /* OpenMetrics when the body ends in "# EOF", else 0.0.4 */
    PROMTEXT_TEXT,        /* text/plain; version=0.0.4 */
    PROMTEXT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* A family's TYPE. UNTYPED is 0.0.4 "untyped", OpenMetrics "unknown", or no TYPE line. */
enum promtext_type {
    PROMTEXT_UNTYPED = 0,
    PROMTEXT_COUNTER,
    PROMTEXT_GAUGE,
    PROMTEXT_HISTOGRAM,
    PROMTEXT_SUMMARY,
    PROMTEXT_GAUGEHISTOGRAM, /* OpenMetrics only */
    PROMTEXT_STATESET,       /* OpenMetrics only */
    PROMTEXT_INFO,           /* OpenMetrics only */
};

/* Which part of its family a sample is: the sample name is family name + suffix. */
enum promtext_suffix {
    PROMTEXT_SFX_NONE = 0,
    PROMTEXT_SFX_TOTAL,   /* _total   (counter) */
    PROMTEXT_SFX_CREATED, /* _created (counter, histogram, summary) */
    PROMTEXT_SFX_BUCKET,  /* _bucket  (histogram, gaugehistogram) */
    PROMTEXT_SFX_COUNT,   /* _count   (histogram, summary) */
    PROMTEXT_SFX_SUM,     /* _sum     (histogram, summary) */
    PROMTEXT_SFX_GCOUNT,  /* _gcount  (gaugehistogram) */
    PROMTEXT_SFX_GSUM,    /* _gsum    (gaugehistogram) */
    PROMTEXT_SFX_INFO,    /* _info    (info) */
};

/* A slice of the input buffer. Not NUL-terminated. */
struct promtext_str {
    const char *p;
    size_t len;
};

/*
 * One label. name and value are the bytes between the delimiters as they
 * appear in the input; when escaped is true the value (or a quoted name)
 * holds backslash escapes: use promtext_unescape or promtext_str_eq.
 */
struct promtext_label {
    struct promtext_str name;
    struct promtext_str value;
    bool name_escaped;
    bool value_escaped;
};

/* One sample line, valid only during the callback. */
struct promtext_sample {
    struct promtext_str name;   /* the full sample name, e.g. foo_bucket */
    bool name_escaped;          /* a quoted name with escapes */
    struct promtext_str family; /* the family it belongs to, e.g. foo */
    enum promtext_type type;    /* the family's TYPE */
    enum promtext_suffix suffix;
    unsigned nlabels;
    const struct promtext_label *labels; /* in input order */
    double value;
    bool has_timestamp;
    int64_t timestamp_ms; /* 0.0.4: as written; OpenMetrics: seconds * 1000, rounded */
    double bound;         /* the parsed le (histogram _bucket) or quantile (summary); else NaN */
    bool has_exemplar;    /* OpenMetrics exemplar present (validated, otherwise skipped) */
    unsigned line;        /* 1-based */
};

enum promtext_meta_kind { PROMTEXT_META_HELP, PROMTEXT_META_TYPE, PROMTEXT_META_UNIT };

/* One HELP, TYPE or UNIT line, valid only during the callback. */
struct promtext_meta {
    enum promtext_meta_kind kind;
    struct promtext_str name;
    bool name_escaped;
    struct promtext_str text; /* HELP: the docstring (raw); UNIT: the unit; TYPE: the keyword */
    bool text_escaped;        /* HELP text holds escapes */
    enum promtext_type type;  /* TYPE: the type; otherwise the family's type so far */
    unsigned line;
};

/*
 * Callbacks return 0 to go on; any other value stops the parse at once and
 * promtext_parse returns that value unchanged (err untouched).
 */
typedef int promtext_sample_fn(const struct promtext_sample *s, void *arg);
typedef int promtext_meta_fn(const struct promtext_meta *m, void *arg);

struct promtext_handler {
    promtext_sample_fn *sample; /* may be NULL */
    promtext_meta_fn *meta;     /* may be NULL */
    void *arg;
};

/* Where and why a parse failed. line and column are 1-based (column in bytes). */
struct promtext_err {
    unsigned line;
    unsigned column;
    char msg[256];
};

/*
 * Parse len bytes of buf (need not be NUL-terminated) in format fmt
 * (AUTO: see promtext_format_detect) and call h for every HELP/TYPE/UNIT
 * line and every sample, in input order. Returns 0 when the whole input was
 * valid, -EINVAL on malformed input (err, when not NULL, gets the position
 * and a message; samples before the error have already been delivered),
 * -ENOMEM when the family table could not grow, or a callback's nonzero
 * return value. The input must outlive the call only.
 */
int promtext_parse(const char *buf, size_t len, enum promtext_format fmt,
                   const struct promtext_handler *h, struct promtext_err *err);

/*
 * The same parse in steps, so that a large page never holds the caller's
 * event loop for long. promtext_parser_new prepares a parse of buf (which,
 * like h and err, must outlive the parser) and returns 0 or -ENOMEM.
 * promtext_parser_step parses on from where the last step stopped, whole
 * lines only, until at least budget bytes were consumed or the input ended;
 * it returns 0 while all is well (promtext_parser_done tells whether the
 * input is finished) or the final result exactly as promtext_parse would
 * (the parser is then done; later steps return the same value).
 */
struct promtext_parser;
int promtext_parser_new(const char *buf, size_t len, enum promtext_format fmt,
                        const struct promtext_handler *h, struct promtext_err *err,
                        struct promtext_parser **ret);
int promtext_parser_step(struct promtext_parser *ps, size_t budget);
/* Whether the whole input has been parsed (or an error ended the parse). */
bool promtext_parser_done(const struct promtext_parser *ps);
/* Frees ps (NULL is fine); returns NULL. */
struct promtext_parser *promtext_parser_free(struct promtext_parser *ps);

/*
 * The format named by an HTTP Content-Type value: application/openmetrics-text
 * -> OPENMETRICS, text/plain -> TEXT, anything else or NULL -> AUTO.
 * Parameters (version, charset) are ignored; the match is case-insensitive.
 */
enum promtext_format promtext_format_from_content_type(const char *content_type);

/* OPENMETRICS when buf's last line is "# EOF" (with or without a final newline), else TEXT. */
enum promtext_format promtext_format_detect(const char *buf, size_t len);

/*
 * Unescape s (escapes \\ \" \n; any other backslash pair is kept as is)
 * into dst, which must hold at least s.len bytes; the result is never longer
 * than the input. Returns the unescaped length (no NUL is written).
 */
size_t promtext_unescape(struct promtext_str s, char *dst);

/* Whether s (unescaped first when escaped) equals the n bytes at plain. No allocation. */
bool promtext_str_eq(struct promtext_str s, bool escaped, const char *plain, size_t n);

/*
 * Parse s as a sample value (Go ParseFloat syntax, decimal only: digits,
 * exponents, NaN, Inf, +Inf, -Inf, Infinity). Returns 0 and *ret, -EINVAL
 * when malformed, -ERANGE when it overflows a double.
 */
int promtext_number(struct promtext_str s, double *ret);

/* The label of s named name (NUL-terminated), or NULL. */
const struct promtext_label *promtext_sample_label(const struct promtext_sample *s,
                                                   const char *name);

/* "counter", "gauge", ...; "untyped" for UNTYPED. */
const char *promtext_type_name(enum promtext_type t);

#endif
