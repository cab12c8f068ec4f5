/* Positions and spans (include/aether/explain.h).  What is unusual here:
 *
 * 1. Three column units meet: UTF-8 bytes in the text, Unicode characters in ae_position
 *    (MCP), UTF-16 code units in LSP.  A character above U+FFFF is 4 bytes, 1 character and
 *    2 UTF-16 units; invalid UTF-8 bytes count as one character each (U+FFFD, 1 unit).
 * 2. Lines end at "\n"; a "\r" before it belongs to no character (LSP counts "\r\n" as one
 *    line break). */
#include <aether/explain.h>
#include <string.h>

#include "util/err.h"

/* Length in bytes and UTF-16 units of the character at p (n > 0 bytes left). */
static size_t char_len(const unsigned char *p, size_t n, unsigned *utf16)
{
    size_t len = 1;
    *utf16 = 1;
    if (p[0] >= 0xF0 && p[0] <= 0xF4)
        len = 4, *utf16 = 2;
    else if (p[0] >= 0xE0)
        len = 3;
    else if (p[0] >= 0xC2 && p[0] < 0xE0)
        len = 2;
    else
        return 1; /* ASCII, or a stray byte */
    if (len > n) {
        *utf16 = 1;
        return 1;
    }
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) {
            *utf16 = 1;
            return 1;
        }
    return len;
}

/* The bytes of line `line` (0-based): start and length without "\r\n". */
static int find_line(const char *text, size_t len, uint32_t line, const char **start, size_t *n,
                     ae_error *err)
{
    const char *p = text, *end = text + len;
    uint32_t at = 0;
    while (at < line) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return ae_fail(err, AE_EINVAL, "line %lu is past the end of the text (%lu lines)",
                           (unsigned long)line + 1, (unsigned long)at + 1);
        p = nl + 1;
        at++;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (l > 0 && p[l - 1] == '\r') l--;
    *start = p;
    *n = l;
    return 0;
}

int ae_position_from_lsp(const char *text, size_t len, uint32_t line, uint32_t character,
                         ae_position *out, ae_error *err)
{
    const char *p;
    size_t n;
    AE_TRY(find_line(text, len, line, &p, &n, err));
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    uint32_t units = 0;
    int col = 1;
    while (i < n && units < character) {
        unsigned w;
        i += char_len(u + i, n - i, &w);
        units += w;
        col++;
    }
    out->line = (int)line + 1;
    out->column = col;
    return 0;
}

int ae_position_to_lsp(const char *text, size_t len, ae_position pos, uint32_t *line,
                       uint32_t *character, ae_error *err)
{
    AE_RETURN_IF(pos.line < 1 || pos.column < 1, err, AE_EINVAL,
                 "position %d:%d: line and column start at 1", pos.line, pos.column);
    const char *p;
    size_t n;
    AE_TRY(find_line(text, len, (uint32_t)pos.line - 1, &p, &n, err));
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    uint32_t units = 0;
    for (int col = 1; col < pos.column && i < n; col++) {
        unsigned w;
        i += char_len(u + i, n - i, &w);
        units += w;
    }
    *line = (uint32_t)pos.line - 1;
    *character = units;
    return 0;
}

int ae_offset_from_lsp(const char *text, size_t len, uint32_t line, uint32_t character,
                       size_t *offset, ae_error *err)
{
    const char *p;
    size_t n;
    AE_TRY(find_line(text, len, line, &p, &n, err));
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    uint32_t units = 0;
    while (i < n && units < character) {
        unsigned w;
        i += char_len(u + i, n - i, &w);
        units += w;
    }
    *offset = (size_t)(p - text) + i;
    return 0;
}

ae_symbol_span ae_span_of_lines(const char *symbol_id, const char *qualified_name, int start_line,
                                int end_line)
{
    ae_symbol_span s = {symbol_id, qualified_name, start_line, 1, end_line + 1, 1};
    return s;
}

static int pos_cmp(int l1, int c1, int l2, int c2)
{
    if (l1 != l2) return l1 < l2 ? -1 : 1;
    return c1 < c2 ? -1 : c1 > c2;
}

static bool contains(const ae_symbol_span *s, ae_position p)
{
    return pos_cmp(s->start_line, s->start_column, p.line, p.column) <= 0 &&
           pos_cmp(p.line, p.column, s->end_line, s->end_column) < 0;
}

/* Negative when a is the better (smaller, inner) pick. */
static int better(const ae_symbol_span *a, const ae_symbol_span *b)
{
    long la = (long)a->end_line - a->start_line, lb = (long)b->end_line - b->start_line;
    if (la != lb) return la < lb ? -1 : 1;
    long ca = (long)a->end_column - a->start_column, cb = (long)b->end_column - b->start_column;
    if (ca != cb) return ca < cb ? -1 : 1;
    int c = pos_cmp(a->start_line, a->start_column, b->start_line, b->start_column);
    if (c) return -c; /* later start wins */
    size_t qa = a->qualified_name ? strlen(a->qualified_name) : 0;
    size_t qb = b->qualified_name ? strlen(b->qualified_name) : 0;
    if (qa != qb) return qa > qb ? -1 : 1;
    return 0;
}

long ae_span_pick(const ae_symbol_span *spans, size_t n, ae_position pos)
{
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!contains(&spans[i], pos)) continue;
        if (best < 0 || better(&spans[i], &spans[best]) < 0) best = (long)i;
    }
    return best;
}
