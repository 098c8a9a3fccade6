/*
 * cfg_yaml — the libyaml adapter: YAML bytes -> calls into the key table.
 *
 * Owns the encoding checks (UTF-8, no NUL) and the walk over libyaml's
 * events: it tracks the dotted path through nested block or flow mappings,
 * finds unknown and duplicate keys, and rejects what a config never needs
 * (sequences, aliases, anchors, tags, several documents), each with its
 * 1-based line:column. What a value means is cfg_keys.c's and cfg_build.c's business.
 * The only file that includes <yaml.h>; never allocates beyond libyaml's
 * own parser, never logs.
 */
#include <errno.h>
#include <string.h>

#include <yaml.h>

#include "config/cfg-int.h"
#include "config/utf8.h"

/*
 * Deepest nesting of mappings and sequences accepted. A config needs 5
 * levels; the limit also stops libyaml, whose scanner does work
 * proportional to the depth for every token (quadratic on "[[[[...").
 */
#define CFG_MAX_DEPTH 32

struct walk {
    yaml_parser_t parser;
    struct cfg_build *b;
    const unsigned char *buf;
    size_t len;
    unsigned depth; /* mappings and sequences open */
};

/* ---- encoding ----------------------------------------------------------- */

/* libyaml's line breaks: LF, CR, CR LF, NEL, LS, PS. Bytes of the break, or 0. */
static size_t break_len(const unsigned char *s, size_t n)
{
    if (s[0] == '\n')
        return 1;
    if (s[0] == '\r')
        return n > 1 && s[1] == '\n' ? 2 : 1;
    if (n > 1 && s[0] == 0xc2 && s[1] == 0x85)
        return 2;
    if (n > 2 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
        return 3;
    return 0;
}

/*
 * Walk the bytes as libyaml counts positions (a leading BOM takes no
 * column, a character one column) up to offset `stop` or the first byte
 * that is NUL or not UTF-8. Returns that byte's offset (len if none) and
 * its position in *at.
 */
static size_t scan(const unsigned char *s, size_t len, size_t stop, struct cfg_mark *at)
{
    size_t i = 0;

    at->line = 1;
    at->column = 1;
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
        i = 3;
    while (i < len && i < stop) {
        size_t br = break_len(s + i, len - i), w;

        if (br) {
            i += br;
            at->line++;
            at->column = 1;
            continue;
        }
        if (s[i] == 0)
            return i;
        w = utf8_char_len(s + i, s + len);
        if (w == 0)
            return i;
        i += w;
        at->column++;
    }
    return i;
}

static int check_encoding(struct walk *w)
{
    struct cfg_mark at;
    size_t bad = scan(w->buf, w->len, w->len, &at);

    if (bad == w->len)
        return 0;
    if (w->buf[bad] == 0)
        cfg_build_err(w->b, at, "NUL byte in the file; a config must be UTF-8 text");
    else
        cfg_build_err(w->b, at, "invalid UTF-8 (byte 0x%02x); a config must be UTF-8 text",
                      w->buf[bad]);
    return -EINVAL;
}

/* ---- events ------------------------------------------------------------- */

static struct cfg_mark mark_of(yaml_mark_t m)
{
    struct cfg_mark at = {(unsigned)m.line + 1, (unsigned)m.column + 1};
    return at;
}

/* The next event into *ev (the caller deletes it), or a recorded stop (nothing to delete). */
static int next(struct walk *w, yaml_event_t *ev)
{
    yaml_parser_t *p = &w->parser;
    struct cfg_mark at;

    if (yaml_parser_parse(p, ev)) {
        if (ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT)
            w->depth--;
        if (ev->type != YAML_MAPPING_START_EVENT && ev->type != YAML_SEQUENCE_START_EVENT)
            return 0;
        if (++w->depth <= CFG_MAX_DEPTH)
            return 0;
        cfg_build_err(w->b, mark_of(ev->start_mark), "nested deeper than %d levels", CFG_MAX_DEPTH);
        yaml_event_delete(ev);
        return -EINVAL;
    }
    if (p->error == YAML_MEMORY_ERROR) {
        cfg_build_nomem(w->b);
        return -ENOMEM;
    }
    if (p->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark. */
        scan(w->buf, w->len, p->problem_offset, &at);
        cfg_build_err(w->b, at, "YAML: %s", p->problem ? p->problem : "cannot read");
    } else if (p->context) {
        struct cfg_mark ctx = mark_of(p->context_mark);
        cfg_build_err(w->b, mark_of(p->problem_mark), "YAML syntax error: %s (%s at %u:%u)",
                      p->problem ? p->problem : "?", p->context, ctx.line, ctx.column);
    } else
        cfg_build_err(w->b, mark_of(p->problem_mark), "YAML syntax error: %s",
                      p->problem ? p->problem : "?");
    return -EINVAL;
}

/* Consume the rest of a node whose *_START event was just read. */
static int skip_rest(struct walk *w)
{
    unsigned depth = 1;

    while (depth > 0) {
        yaml_event_t ev;
        int r = next(w, &ev);

        if (r < 0)
            return r;
        if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
            depth--;
        yaml_event_delete(&ev);
    }
    return 0;
}

/* Consume one whole node (the value of a key being ignored). */
static int skip_node(struct walk *w)
{
    yaml_event_t ev;
    int r = next(w, &ev);
    bool nested;

    if (r < 0)
        return r;
    nested = ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT;
    yaml_event_delete(&ev);
    return nested ? skip_rest(w) : 0;
}

/* Anchors and tags are never needed in a config; report them where they are. */
static void check_props(struct walk *w, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    struct cfg_mark at = mark_of(ev->start_mark);
    char shown[48];

    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    default:
        break;
    }
    if (anchor) {
        const char *a = (const char *)anchor;
        cfg_build_err(w->b, at, "anchors (&%s) are not supported",
                      cfg_show(a, strlen(a), shown, sizeof(shown)));
    }
    if (tag) {
        const char *t = (const char *)tag;
        cfg_build_err(w->b, at, "tags (%s) are not supported",
                      cfg_show(t, strlen(t), shown, sizeof(shown)));
    }
}

static void report_alias(struct walk *w, const yaml_event_t *ev)
{
    const char *a = (const char *)ev->data.alias.anchor;
    char shown[48];

    cfg_build_err(w->b, mark_of(ev->start_mark), "aliases (*%s) are not supported",
                  cfg_show(a, strlen(a), shown, sizeof(shown)));
}

static const char *node_name(yaml_event_type_t t)
{
    return t == YAML_SEQUENCE_START_EVENT ? "sequence" : "mapping";
}

static bool is_plain_null(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;

    return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
            !strcmp(v, "NULL"));
}

/* ---- the walk ----------------------------------------------------------- */

static int walk_mapping(struct walk *w, const char *prefix);

/* The value of section `path` (its key at key). */
static int walk_section(struct walk *w, const char *path, struct cfg_mark key)
{
    yaml_event_t ev;
    struct cfg_mark at;
    int r = next(w, &ev);

    if (r < 0)
        return r;
    at = mark_of(ev.start_mark);
    switch (ev.type) {
    case YAML_MAPPING_START_EVENT:
        check_props(w, &ev);
        yaml_event_delete(&ev);
        if (cfg_build_section(w->b, path, key) < 0)
            return skip_rest(w);
        return walk_mapping(w, path);
    case YAML_SCALAR_EVENT:
        check_props(w, &ev);
        if (is_plain_null(&ev))
            cfg_build_err(w->b, key,
                          "%s: expected a mapping of keys, got nothing (write {} "
                          "for an empty one)",
                          path);
        else
            cfg_build_err(w->b, at, "%s: expected a mapping of keys, got a value", path);
        break;
    case YAML_SEQUENCE_START_EVENT:
        check_props(w, &ev);
        cfg_build_err(w->b, at, "%s: expected a mapping of keys, got a sequence", path);
        yaml_event_delete(&ev);
        return skip_rest(w);
    case YAML_ALIAS_EVENT:
        report_alias(w, &ev);
        break;
    default:
        break;
    }
    yaml_event_delete(&ev);
    return 0;
}

/* The value of key id (path; its key at key). */
static int walk_leaf(struct walk *w, int id, const char *path, struct cfg_mark key)
{
    yaml_event_t ev;
    struct cfg_mark at;
    int r = next(w, &ev);

    if (r < 0)
        return r;
    at = mark_of(ev.start_mark);
    switch (ev.type) {
    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev.data.scalar.value;

        check_props(w, &ev);
        /* A double-quoted "\0" escape is the only way a NUL gets here. */
        if (strlen(v) != ev.data.scalar.length)
            cfg_build_err(w->b, at, "%s: NUL characters are not allowed", path);
        else
            cfg_build_scalar(w->b, id, v, is_plain_null(&ev), at, key);
        break;
    }
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        check_props(w, &ev);
        cfg_build_wrong_node(w->b, id, node_name(ev.type), at);
        yaml_event_delete(&ev);
        return skip_rest(w);
    case YAML_ALIAS_EVENT:
        report_alias(w, &ev);
        break;
    default:
        break;
    }
    yaml_event_delete(&ev);
    return 0;
}

static void report_unknown(struct walk *w, const char *prefix, const char *key, size_t klen,
                           const char *path, bool fits, struct cfg_mark at)
{
    char shown[64], near[CFG_PATH_MAX];

    if (cfg_build_errs_full(w->b)) { /* only counted: skip the search for a suggestion */
        cfg_build_err(w->b, at, "unknown key");
        return;
    }
    cfg_show(key, klen, shown, sizeof(shown));
    if (memchr(key, '.', klen))
        cfg_build_err(w->b, at, "unknown key \"%s%s%s\" (write nested mappings, not dots)", prefix,
                      *prefix ? "." : "", shown);
    else if (fits && cfg_key_suggest(path, near, sizeof(near)))
        cfg_build_err(w->b, at, "unknown key \"%s%s%s\" (did you mean \"%s\"?)", prefix,
                      *prefix ? "." : "", shown, near);
    else
        cfg_build_err(w->b, at, "unknown key \"%s%s%s\"", prefix, *prefix ? "." : "", shown);
}

/* The entries of a mapping whose MAPPING_START was read; prefix is its path. */
static int walk_mapping(struct walk *w, const char *prefix)
{
    unsigned first_line[CFG_KEYS_MAX] = {0}; /* per key id: where this mapping set it */
    size_t plen = strlen(prefix);

    for (;;) {
        yaml_event_t ev;
        char path[CFG_PATH_MAX];
        struct cfg_mark at;
        const char *key;
        size_t klen;
        bool fits, is_section = false;
        int r = next(w, &ev), id;

        if (r < 0)
            return r;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        at = mark_of(ev.start_mark);
        if (ev.type != YAML_SCALAR_EVENT) {
            if (ev.type == YAML_ALIAS_EVENT)
                report_alias(w, &ev);
            else
                cfg_build_err(w->b, at, "a key must be a plain name, not a %s", node_name(ev.type));
            r = ev.type == YAML_ALIAS_EVENT ? 0 : skip_rest(w);
            yaml_event_delete(&ev);
            if (r == 0)
                r = skip_node(w);
            if (r < 0)
                return r;
            continue;
        }
        check_props(w, &ev);
        key = (const char *)ev.data.scalar.value;
        klen = ev.data.scalar.length;
        fits = plen + 1 + klen < sizeof(path) && strlen(key) == klen;
        if (fits)
            snprintf(path, sizeof(path), "%s%s%s", prefix, plen ? "." : "", key);
        id = fits && !memchr(key, '.', klen) ? cfg_key_lookup(path, &is_section) : -ENOENT;
        if (id < 0) {
            report_unknown(w, prefix, key, klen, path, fits, at);
            yaml_event_delete(&ev);
            r = skip_node(w);
        } else if (first_line[id]) {
            cfg_build_err(w->b, at, "duplicate key \"%s\" (first at line %u)", path,
                          first_line[id]);
            yaml_event_delete(&ev);
            r = skip_node(w);
        } else {
            first_line[id] = at.line;
            yaml_event_delete(&ev);
            r = is_section ? walk_section(w, path, at) : walk_leaf(w, id, path, at);
        }
        if (r < 0)
            return r;
    }
}

/* The root node of one document. */
static int walk_root(struct walk *w)
{
    yaml_event_t ev;
    struct cfg_mark at;
    int r = next(w, &ev);

    if (r < 0)
        return r;
    at = mark_of(ev.start_mark);
    switch (ev.type) {
    case YAML_MAPPING_START_EVENT:
        check_props(w, &ev);
        yaml_event_delete(&ev);
        return walk_mapping(w, "");
    case YAML_SCALAR_EVENT:
        /* `---` alone: an empty document, all defaults. */
        if (ev.data.scalar.length == 0 && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            !ev.data.scalar.anchor && !ev.data.scalar.tag)
            break;
        cfg_build_err(w->b, at, "the top level must be a mapping of keys, like `listen: ...`");
        break;
    case YAML_SEQUENCE_START_EVENT:
        cfg_build_err(w->b, at, "the top level must be a mapping of keys, not a sequence");
        yaml_event_delete(&ev);
        return skip_rest(w);
    case YAML_ALIAS_EVENT:
        report_alias(w, &ev);
        break;
    default:
        break;
    }
    yaml_event_delete(&ev);
    return 0;
}

static int walk_stream(struct walk *w)
{
    unsigned docs = 0;

    for (;;) {
        yaml_event_t ev;
        yaml_event_type_t type;
        struct cfg_mark at;
        int r = next(w, &ev);

        if (r < 0)
            return r;
        type = ev.type;
        at = mark_of(ev.start_mark);
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            return 0;
        if (type != YAML_DOCUMENT_START_EVENT)
            continue; /* STREAM_START, DOCUMENT_END */
        if (++docs > 1) {
            cfg_build_err(w->b, at, "only one YAML document is allowed; this is a second one");
            return -EINVAL;
        }
        r = walk_root(w);
        if (r < 0)
            return r;
    }
}

int cfg_yaml_read(struct cfg_build *b, const char *buf, size_t len)
{
    struct walk w = {.b = b, .buf = (const unsigned char *)buf, .len = len};
    int r;

    r = check_encoding(&w);
    if (r < 0)
        return r;
    if (!yaml_parser_initialize(&w.parser)) {
        cfg_build_nomem(b);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&w.parser, w.buf, len);
    r = walk_stream(&w);
    yaml_parser_delete(&w.parser);
    return r;
}
