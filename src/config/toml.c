/* A TOML subset parser (see toml.h for what is in and out).
 *
 * What is unusual: it is a single pass over a byte range with explicit bounds
 * (the input need not be NUL-terminated, so the fuzzer can feed raw bytes),
 * and every error names PATH:LINE of the construct that is wrong.  Values are
 * only attached to their table once fully parsed, so any failure can simply
 * free what it holds.  Recursion (arrays in arrays, key paths) is capped at
 * AE_TOML_MAX_DEPTH so hostile input cannot exhaust the stack. */
#include "config/toml.h"

#include "util/err.h"
#include "util/mem.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *p, *end;
    int line;
    const char *path;
    ae_error *err;
    int depth;
} parser;

static int perr(parser *ps, int line, const char *fmt, ...) AE_PRINTF(3, 4);
static int perr(parser *ps, int line, const char *fmt, ...)
{
    char msg[AE_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ae_fail(ps->err, AE_ECONFIG, "%s:%d: %s", ps->path, line, msg);
}

static int oom(parser *ps)
{
    return ae_fail(ps->err, AE_ENOMEM, "%s:%d: out of memory", ps->path, ps->line);
}

/* Describes the byte at the cursor for messages: 'x', end of line, byte 0x01. */
static const char *describe(const parser *ps, char buf[32])
{
    if (ps->p >= ps->end) return "end of file";
    unsigned char c = (unsigned char)*ps->p;
    if (c == '\n' || c == '\r') return "end of line";
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, 32, "'%c'", c);
    else if (c == ' ' || c == '\t')
        snprintf(buf, 32, "whitespace");
    else
        snprintf(buf, 32, "byte 0x%02x", c);
    return buf;
}

static bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_bare(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool starts(const parser *ps, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

static int skip_comment(parser *ps)
{
    if (ps->p >= ps->end || *ps->p != '#') return 0;
    for (ps->p++; ps->p < ps->end && *ps->p != '\n'; ps->p++) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n') continue;
        if (is_control(c)) return perr(ps, ps->line, "control character 0x%02x in comment", c);
    }
    return 0;
}

/* Consumes a newline (\n or \r\n) at the cursor; 1 if there was one. */
static int take_newline(parser *ps)
{
    if (ps->p < ps->end && *ps->p == '\n') {
        ps->p++;
        ps->line++;
        return 1;
    }
    if (starts(ps, "\r\n")) {
        ps->p += 2;
        ps->line++;
        return 1;
    }
    return 0;
}

static int expect_eol(parser *ps, const char *after)
{
    char b[32];
    skip_ws(ps);
    AE_TRY(skip_comment(ps));
    if (ps->p >= ps->end || take_newline(ps)) return 0;
    if (*ps->p == '\r')
        return perr(ps, ps->line, "bare carriage return (lines must end in \\n or \\r\\n)");
    return perr(ps, ps->line, "expected end of line after %s, found %s", after, describe(ps, b));
}

/* Whitespace, comments and newlines, as allowed inside arrays. */
static int skip_blank(parser *ps)
{
    for (;;) {
        skip_ws(ps);
        AE_TRY(skip_comment(ps));
        if (!take_newline(ps)) return 0;
    }
}

/* ---- strings ---------------------------------------------------------- */

static int put_utf8(ae_buf *b, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        s[0] = (char)(0xc0 | (cp >> 6));
        s[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        s[0] = (char)(0xe0 | (cp >> 12));
        s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        s[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        s[0] = (char)(0xf0 | (cp >> 18));
        s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        s[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return ae_buf_append(b, s, n);
}

/* The cursor is just past a backslash. */
static int parse_escape(parser *ps, ae_buf *b)
{
    char d[32];
    if (ps->p >= ps->end) return perr(ps, ps->line, "unterminated string");
    char c = *ps->p++;
    const char *simple = NULL;
    switch (c) {
    case 'b':
        simple = "\b";
        break;
    case 't':
        simple = "\t";
        break;
    case 'n':
        simple = "\n";
        break;
    case 'f':
        simple = "\f";
        break;
    case 'r':
        simple = "\r";
        break;
    case '"':
        simple = "\"";
        break;
    case '\\':
        simple = "\\";
        break;
    case 'u':
    case 'U': {
        int n = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < n; i++) {
            if (ps->p >= ps->end) return perr(ps, ps->line, "unterminated string");
            char h = *ps->p;
            int v = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
            if (v < 0)
                return perr(ps, ps->line, "\\%c escape needs %d hex digits, found %s", c, n,
                            describe(ps, d));
            cp = cp * 16 + (uint32_t)v;
            ps->p++;
        }
        if (cp == 0) return perr(ps, ps->line, "\\u0000 (NUL) is not allowed in strings");
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return perr(ps, ps->line, "\\%c%0*X is not a Unicode scalar value", c, n, (unsigned)cp);
        return put_utf8(b, cp) < 0 ? oom(ps) : 0;
    }
    default:
        ps->p--;
        return perr(ps, ps->line,
                    "invalid escape '\\%s' in string; accepted: \\b \\t \\n \\f \\r \\\" \\\\ "
                    "\\uXXXX \\UXXXXXXXX",
                    describe(ps, d));
    }
    return ae_buf_append(b, simple, 1) < 0 ? oom(ps) : 0;
}

/* Basic ("...") or literal ('...') string on one line; cursor at the quote. */
static int parse_line_string(parser *ps, char **out)
{
    char q = *ps->p++;
    int start = ps->line;
    ae_buf b = {0};
    int rc = 0;
    if (ae_buf_reserve(&b, 1) < 0) return oom(ps);
    b.data[0] = '\0';
    for (;;) {
        if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r')
            AE_FAIL(ps->err, AE_ECONFIG, "%s:%d: unterminated string (missing %c)", ps->path, start,
                    q);
        unsigned char c = (unsigned char)*ps->p;
        if (c == (unsigned char)q) {
            ps->p++;
            break;
        }
        if (q == '"' && c == '\\') {
            ps->p++;
            AE_CHECK(parse_escape(ps, &b));
            continue;
        }
        if (is_control(c))
            AE_FAIL(ps->err, AE_ECONFIG, "%s:%d: control character 0x%02x in string", ps->path,
                    ps->line, c);
        if (ae_buf_append(&b, ps->p, 1) < 0) AE_CHECK(oom(ps));
        ps->p++;
    }
    *out = b.data;
    return 0;
cleanup:
    ae_buf_free(&b);
    return rc;
}

/* """...""" or '''...'''; cursor at the first of three quotes. */
static int parse_multiline_string(parser *ps, char **out)
{
    char q = *ps->p;
    int start = ps->line;
    ae_buf b = {0};
    int rc = 0;
    if (ae_buf_reserve(&b, 1) < 0) return oom(ps);
    b.data[0] = '\0';
    ps->p += 3;
    take_newline(ps); /* a newline right after the opening quotes is trimmed */
    for (;;) {
        if (ps->p >= ps->end)
            AE_FAIL(ps->err, AE_ECONFIG, "%s:%d: unterminated multi-line string (missing %c%c%c)",
                    ps->path, start, q, q, q);
        unsigned char c = (unsigned char)*ps->p;
        if (c == (unsigned char)q && ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q) {
            size_t n = 3;
            while (ps->p + n < ps->end && ps->p[n] == q)
                n++;
            if (n > 5)
                AE_FAIL(ps->err, AE_ECONFIG, "%s:%d: too many quotes closing a multi-line string",
                        ps->path, ps->line);
            if (ae_buf_append(&b, ps->p, n - 3) < 0) AE_CHECK(oom(ps));
            ps->p += n;
            break;
        }
        if (c == '\n' || c == '\r') {
            if (!take_newline(ps))
                AE_FAIL(ps->err, AE_ECONFIG, "%s:%d: bare carriage return in string", ps->path,
                        ps->line);
            if (ae_buf_append(&b, "\n", 1) < 0) AE_CHECK(oom(ps));
            continue;
        }
        if (q == '"' && c == '\\') {
            /* A backslash ending a line eats the newline and following blanks. */
            const char *s = ps->p + 1;
            while (s < ps->end && (*s == ' ' || *s == '\t'))
                s++;
            if (s < ps->end && (*s == '\n' || *s == '\r')) {
                ps->p = s;
                for (;;) {
                    skip_ws(ps);
                    if (ps->p < ps->end && *ps->p == '\r' && !starts(ps, "\r\n"))
                        AE_FAIL(ps->err, AE_ECONFIG, "%s:%d: bare carriage return in string",
                                ps->path, ps->line);
                    if (!take_newline(ps)) break;
                }
                continue;
            }
            ps->p++;
            AE_CHECK(parse_escape(ps, &b));
            continue;
        }
        if (is_control(c))
            AE_FAIL(ps->err, AE_ECONFIG, "%s:%d: control character 0x%02x in string", ps->path,
                    ps->line, c);
        if (ae_buf_append(&b, ps->p, 1) < 0) AE_CHECK(oom(ps));
        ps->p++;
    }
    *out = b.data;
    return 0;
cleanup:
    ae_buf_free(&b);
    return rc;
}

/* ---- keys ------------------------------------------------------------- */

static int parse_simple_key(parser *ps, char **out)
{
    char d[32];
    *out = NULL;
    if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'')) {
        if (starts(ps, "\"\"\"") || starts(ps, "'''"))
            return perr(ps, ps->line, "multi-line strings cannot be keys");
        return parse_line_string(ps, out);
    }
    const char *s = ps->p;
    while (ps->p < ps->end && is_bare((unsigned char)*ps->p))
        ps->p++;
    if (ps->p == s) return perr(ps, ps->line, "expected a key, found %s", describe(ps, d));
    *out = ae_strndup(s, (size_t)(ps->p - s));
    return *out ? 0 : oom(ps);
}

/* a, a.b, "a b".'c' -- the parts go to keys. */
static int parse_key(parser *ps, ae_strlist *keys)
{
    for (;;) {
        char *k;
        AE_TRY(parse_simple_key(ps, &k));
        if (ae_strlist_push_owned(keys, k) < 0) return oom(ps);
        if (keys->len > AE_TOML_MAX_DEPTH)
            return perr(ps, ps->line, "key has more than %d dotted parts", AE_TOML_MAX_DEPTH);
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '.') return 0;
        ps->p++;
        skip_ws(ps);
    }
}

/* ---- tables ----------------------------------------------------------- */

static void value_free(ae_toml_value *v)
{
    switch (v->type) {
    case AE_TOML_STRING:
        free(v->u.str);
        break;
    case AE_TOML_ARRAY:
        for (size_t i = 0; i < v->u.array.len; i++)
            value_free(&v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case AE_TOML_TABLE:
        ae_toml_free(v->u.table);
        break;
    default:
        break;
    }
    v->type = AE_TOML_BOOL;
}

void ae_toml_free(ae_toml_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->len; i++) {
        free(t->keys[i]);
        value_free(&t->values[i]);
    }
    free(t->keys);
    free(t->values);
    free(t);
}

static ae_toml_value *table_find(const ae_toml_table *t, const char *key)
{
    for (size_t i = 0; i < t->len; i++)
        if (strcmp(t->keys[i], key) == 0) return &t->values[i];
    return NULL;
}

/* Adds key (copied) with value v (moved in); returns the stored value. */
static ae_toml_value *table_add(ae_toml_table *t, const char *key, const ae_toml_value *v)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        char **keys = ae_realloc_array(t->keys, cap, sizeof *keys);
        if (!keys) return NULL;
        t->keys = keys;
        ae_toml_value *vals = ae_realloc_array(t->values, cap, sizeof *vals);
        if (!vals) return NULL;
        t->values = vals;
        t->cap = cap;
    }
    char *k = ae_strdup(key);
    if (!k) return NULL;
    t->keys[t->len] = k;
    t->values[t->len] = *v;
    return &t->values[t->len++];
}

static ae_toml_value *table_add_table(ae_toml_table *t, const char *key, int line)
{
    ae_toml_value v = {.type = AE_TOML_TABLE, .line = line};
    v.u.table = calloc(1, sizeof *v.u.table);
    if (!v.u.table) return NULL;
    ae_toml_value *stored = table_add(t, key, &v);
    if (!stored) free(v.u.table);
    return stored;
}

/* ---- values ----------------------------------------------------------- */

/* Checks digits of base with single underscores between digits. */
static bool digits_ok(const char *s, size_t n, int base)
{
    if (n == 0 || s[0] == '_' || s[n - 1] == '_') return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (s[i + 1] == '_') return false;
            continue;
        }
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : 99;
        if (v >= base) return false;
    }
    return true;
}

#define PFAIL(line, ...)                                                                           \
    do {                                                                                           \
        rc = perr(ps, (line), __VA_ARGS__);                                                        \
        goto cleanup;                                                                              \
    } while (0)

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses the already-delimited token tok[0..n) as an integer or float. */
static int parse_number(parser *ps, const char *tok, size_t n, int line, ae_toml_value *v)
{
    int shown = n > 40 ? 40 : (int)n;
    if ((n >= 5 && is_digit(tok[0]) && is_digit(tok[1]) && is_digit(tok[2]) && is_digit(tok[3]) &&
         tok[4] == '-') ||
        (n >= 3 && is_digit(tok[0]) && is_digit(tok[1]) && tok[2] == ':'))
        return perr(ps, line, "dates and times are not supported; write '%.*s' as a string", shown,
                    tok);
    const char *s = tok;
    size_t len = n;
    bool neg = false, sign = false;
    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        sign = true;
        s++;
        len--;
    }
    if (len == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0)) {
        v->type = AE_TOML_FLOAT;
        v->u.f = s[0] == 'i' ? (neg ? -INFINITY : INFINITY) : NAN;
        return 0;
    }
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
        if (sign) return perr(ps, line, "a sign is not allowed on '%.*s'", shown, tok);
        if (!digits_ok(s + 2, len - 2, base))
            return perr(ps, line, "invalid base-%d integer '%.*s'", base, shown, tok);
        uint64_t acc = 0;
        for (size_t i = 2; i < len; i++) {
            if (s[i] == '_') continue;
            int d = is_digit(s[i]) ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10;
            if (acc > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base)
                return perr(ps, line, "integer '%.*s' does not fit in 64 bits", shown, tok);
            acc = acc * (uint64_t)base + (uint64_t)d;
        }
        v->type = AE_TOML_INT;
        v->u.i = (int64_t)acc;
        return 0;
    }
    bool is_float = memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len);
    if (!is_float) {
        if (!digits_ok(s, len, 10)) return perr(ps, line, "invalid number '%.*s'", shown, tok);
        if (s[0] == '0' && len > 1)
            return perr(ps, line, "leading zeros are not allowed in '%.*s'", shown, tok);
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '_') continue;
            uint64_t d = (uint64_t)(s[i] - '0');
            if (acc > (limit - d) / 10)
                return perr(ps, line, "integer '%.*s' does not fit in 64 bits", shown, tok);
            acc = acc * 10 + d;
        }
        v->type = AE_TOML_INT;
        v->u.i = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
        return 0;
    }
    /* float: int-part [. digits] [e|E [sign] digits] */
    size_t i = 0, j;
    while (i < len && (is_digit(s[i]) || s[i] == '_'))
        i++;
    if (!digits_ok(s, i, 10)) return perr(ps, line, "invalid number '%.*s'", shown, tok);
    if (s[0] == '0' && i > 1)
        return perr(ps, line, "leading zeros are not allowed in '%.*s'", shown, tok);
    if (i < len && s[i] == '.') {
        for (j = i + 1; j < len && (is_digit(s[j]) || s[j] == '_'); j++)
            ;
        if (!digits_ok(s + i + 1, j - i - 1, 10))
            return perr(ps, line, "invalid float '%.*s': a '.' needs digits on both sides", shown,
                        tok);
        i = j;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        for (j = i; j < len && (is_digit(s[j]) || s[j] == '_'); j++)
            ;
        if (!digits_ok(s + i, j - i, 10))
            return perr(ps, line, "invalid float '%.*s': bad exponent", shown, tok);
        i = j;
    }
    if (i != len) return perr(ps, line, "invalid number '%.*s'", shown, tok);
    char *clean = malloc(n + 1), *c = clean;
    if (!clean) return oom(ps);
    for (size_t k = 0; k < n; k++)
        if (tok[k] != '_') *c++ = tok[k];
    *c = '\0';
    errno = 0;
    double f = strtod(clean, NULL);
    int e = errno;
    free(clean);
    if (e == ERANGE && isinf(f)) return perr(ps, line, "float '%.*s' is out of range", shown, tok);
    v->type = AE_TOML_FLOAT;
    v->u.f = f;
    return 0;
}

static int parse_value(parser *ps, ae_toml_value *v);

static int parse_array(parser *ps, ae_toml_value *v)
{
    char d[32];
    int start = ps->line, rc = 0;
    if (ps->depth >= AE_TOML_MAX_DEPTH)
        return perr(ps, start, "arrays nested deeper than %d", AE_TOML_MAX_DEPTH);
    ps->depth++;
    ps->p++;
    v->type = AE_TOML_ARRAY;
    for (;;) {
        AE_CHECK(skip_blank(ps));
        if (ps->p >= ps->end) PFAIL(start, "unterminated array (missing ']')");
        if (*ps->p == ']') {
            ps->p++;
            break;
        }
        ae_toml_value item;
        AE_CHECK(parse_value(ps, &item));
        if (v->u.array.len == v->u.array.cap) {
            size_t cap = v->u.array.cap ? v->u.array.cap * 2 : 4;
            ae_toml_value *items = ae_realloc_array(v->u.array.items, cap, sizeof *items);
            if (!items) {
                value_free(&item);
                AE_CHECK(oom(ps));
            }
            v->u.array.items = items;
            v->u.array.cap = cap;
        }
        v->u.array.items[v->u.array.len++] = item;
        AE_CHECK(skip_blank(ps));
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            break;
        }
        if (ps->p >= ps->end) PFAIL(start, "unterminated array (missing ']')");
        PFAIL(ps->line, "expected ',' or ']' in the array opened on line %d, found %s", start,
              describe(ps, d));
    }
    ps->depth--;
    return 0;
cleanup:
    ps->depth--;
    value_free(v);
    return rc;
}

static int parse_value(parser *ps, ae_toml_value *v)
{
    char d[32];
    memset(v, 0, sizeof *v);
    v->type = AE_TOML_BOOL;
    v->line = ps->line;
    if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
        return perr(ps, v->line, "expected a value, found %s",
                    ps->p < ps->end && *ps->p == '#' ? "a comment" : describe(ps, d));
    char c = *ps->p;
    if (c == '"' || c == '\'') {
        char *s;
        if (starts(ps, "\"\"\"") || starts(ps, "'''"))
            AE_TRY(parse_multiline_string(ps, &s));
        else
            AE_TRY(parse_line_string(ps, &s));
        v->type = AE_TOML_STRING;
        v->u.str = s;
        return 0;
    }
    if (c == '[') return parse_array(ps, v);
    if (c == '{')
        return perr(ps, v->line,
                    "inline tables ({...}) are not supported; use a [section] with one key per "
                    "line");
    const char *s = ps->p;
    while (ps->p < ps->end &&
           (is_bare((unsigned char)*ps->p) || *ps->p == '+' || *ps->p == '.' || *ps->p == ':'))
        ps->p++;
    size_t n = (size_t)(ps->p - s);
    if (n == 0) return perr(ps, v->line, "expected a value, found %s", describe(ps, d));
    if (n == 4 && memcmp(s, "true", 4) == 0) {
        v->u.b = true;
        return 0;
    }
    if (n == 5 && memcmp(s, "false", 5) == 0) {
        v->u.b = false;
        return 0;
    }
    if (is_digit(s[0]) || s[0] == '+' || s[0] == '-' ||
        (n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0)))
        return parse_number(ps, s, n, v->line, v);
    return perr(ps, v->line, "expected a value, found '%.*s' (strings need quotes)",
                n > 40 ? 40 : (int)n, s);
}

/* ---- statements ------------------------------------------------------- */

static const char *join_keys(const ae_strlist *keys, size_t n, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && off < size; i++) {
        int w = snprintf(buf + off, size - off, "%s%s", i ? "." : "", keys->items[i]);
        if (w < 0) break;
        off += (size_t)w;
    }
    return buf;
}

static int parse_header(parser *ps, ae_toml_table *root, ae_toml_table **cur)
{
    char d[32], name[160];
    int line = ps->line, rc = 0;
    ae_strlist keys = {0};
    if (starts(ps, "[[")) return perr(ps, line, "arrays of tables ([[...]]) are not supported");
    ps->p++;
    skip_ws(ps);
    AE_CHECK(parse_key(ps, &keys));
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ']')
        PFAIL(line, "expected ']' to close the table header, found %s", describe(ps, d));
    ps->p++;
    ae_toml_table *t = root;
    for (size_t i = 0; i < keys.len; i++) {
        bool last = i + 1 == keys.len;
        ae_toml_value *v = table_find(t, keys.items[i]);
        if (!v) {
            v = table_add_table(t, keys.items[i], line);
            if (!v) AE_CHECK(oom(ps));
            if (last) v->u.table->header_defined = true;
        } else if (v->type != AE_TOML_TABLE) {
            PFAIL(line, "[%s]: key '%s' is already a value of type %s (line %d), not a table",
                  join_keys(&keys, keys.len, name, sizeof name), keys.items[i],
                  ae_toml_type_name(v->type), v->line);
        } else if (last) {
            if (v->u.table->header_defined)
                PFAIL(line, "table [%s] is defined twice (first on line %d)",
                      join_keys(&keys, keys.len, name, sizeof name), v->line);
            if (v->u.table->dotted_defined)
                PFAIL(line, "table [%s] was already created by dotted keys on line %d",
                      join_keys(&keys, keys.len, name, sizeof name), v->line);
            v->u.table->header_defined = true;
            v->line = line;
        }
        t = v->u.table;
    }
    *cur = t;
cleanup:
    ae_strlist_free(&keys);
    return rc;
}

static int parse_keyval(parser *ps, ae_toml_table *cur)
{
    char d[32], name[160];
    int line = ps->line, rc = 0;
    ae_strlist keys = {0};
    ae_toml_value v = {.type = AE_TOML_BOOL};
    AE_CHECK(parse_key(ps, &keys));
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '=')
        PFAIL(line, "expected '=' after key '%s', found %s",
              join_keys(&keys, keys.len, name, sizeof name), describe(ps, d));
    ps->p++;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
        PFAIL(line, "missing value for key '%s'", join_keys(&keys, keys.len, name, sizeof name));
    AE_CHECK(parse_value(ps, &v));
    ae_toml_table *t = cur;
    for (size_t i = 0; i + 1 < keys.len; i++) {
        ae_toml_value *x = table_find(t, keys.items[i]);
        if (!x) {
            x = table_add_table(t, keys.items[i], line);
            if (!x) AE_CHECK(oom(ps));
            x->u.table->dotted_defined = true;
        } else if (x->type != AE_TOML_TABLE) {
            PFAIL(line, "key '%s' is already a value of type %s (line %d), not a table",
                  keys.items[i], ae_toml_type_name(x->type), x->line);
        }
        t = x->u.table;
    }
    const ae_toml_value *old = table_find(t, keys.items[keys.len - 1]);
    if (old)
        PFAIL(line, "duplicate key '%s' (first defined on line %d)",
              join_keys(&keys, keys.len, name, sizeof name), old->line);
    if (!table_add(t, keys.items[keys.len - 1], &v)) AE_CHECK(oom(ps));
    ae_strlist_free(&keys);
    return 0;
cleanup:
    value_free(&v);
    ae_strlist_free(&keys);
    return rc;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t avail = (size_t)(end - p);
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (avail < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && p[1] < 0xa0) return 0;  /* overlong */
        if (c == 0xed && p[1] >= 0xa0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (avail < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && p[1] < 0x90) return 0;  /* overlong */
        if (c == 0xf4 && p[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* TOML documents must be UTF-8; checking once up front keeps every string
 * handed to JSON encoders and HTTP headers later valid. */
static int check_utf8(parser *ps)
{
    const unsigned char *p = (const unsigned char *)ps->p, *end = (const unsigned char *)ps->end;
    int line = 1;
    while (p < end) {
        if (*p == '\n') line++;
        size_t n = utf8_len(p, end);
        if (n == 0) return perr(ps, line, "invalid UTF-8 (byte 0x%02x)", *p);
        p += n;
    }
    return 0;
}

int ae_toml_parse(const char *text, size_t len, const char *path, ae_toml_table **out,
                  ae_error *err)
{
    parser st = {
        .p = text, .end = text + len, .line = 1, .path = path ? path : "<input>", .err = err};
    parser *ps = &st;
    int rc = 0;
    *out = NULL;
    ae_toml_table *root = calloc(1, sizeof *root);
    if (!root) return oom(ps);
    ae_toml_table *cur = root;
    if (starts(ps, "\xEF\xBB\xBF")) ps->p += 3; /* UTF-8 byte order mark */
    AE_CHECK(check_utf8(ps));
    while (ps->p < ps->end) {
        skip_ws(ps);
        if (ps->p >= ps->end) break;
        char c = *ps->p;
        if (c == '\r' && !starts(ps, "\r\n"))
            PFAIL(ps->line, "bare carriage return (lines must end in \\n or \\r\\n)");
        if (c == '#' || c == '\n' || c == '\r') {
            AE_CHECK(expect_eol(ps, "a comment"));
        } else if (c == '[') {
            AE_CHECK(parse_header(ps, root, &cur));
            AE_CHECK(expect_eol(ps, "the table header"));
        } else {
            AE_CHECK(parse_keyval(ps, cur));
            AE_CHECK(expect_eol(ps, "the value"));
        }
    }
    *out = root;
    return 0;
cleanup:
    ae_toml_free(root);
    return rc;
}

/* ---- lookups ---------------------------------------------------------- */

const ae_toml_value *ae_toml_get(const ae_toml_table *t, const char *key)
{
    return t ? table_find(t, key) : NULL;
}

const ae_toml_value *ae_toml_get_path(const ae_toml_table *t, const char *dotted)
{
    const ae_toml_value *v = NULL;
    const char *s = dotted;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (!t) return NULL;
        v = NULL;
        for (size_t i = 0; i < t->len; i++)
            if (strlen(t->keys[i]) == n && memcmp(t->keys[i], s, n) == 0) v = &t->values[i];
        if (!v || !dot) return v;
        t = v->type == AE_TOML_TABLE ? v->u.table : NULL;
        s = dot + 1;
    }
}

const char *ae_toml_type_name(ae_toml_type type)
{
    switch (type) {
    case AE_TOML_STRING:
        return "string";
    case AE_TOML_INT:
        return "integer";
    case AE_TOML_FLOAT:
        return "float";
    case AE_TOML_BOOL:
        return "boolean";
    case AE_TOML_ARRAY:
        return "array";
    case AE_TOML_TABLE:
        return "table";
    }
    return "unknown";
}
