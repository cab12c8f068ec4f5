/* Reading a symbol's source text: where it ends, its signature, its doc comment.
 *
 * 1. The language layer's lexer (src/lang, the same one the static SIR provider reads
 *    with) yields code characters and skips comments and string/char literals (a literal
 *    comes back as one '"' so callers see "something"), so braces, colons and semicolons
 *    inside strings or comments never count.  What a language's comments, literals,
 *    attributes and blocks look like is its row in src/lang/lang.c, not a test here.
 * 2. End lines come from ctags when it has them (C, Go, Python); otherwise from brace
 *    matching (a body `{...}` closes it, or a `;` at depth 0, or the end of a line for
 *    constants and aliases) or, for Python, from indentation.
 * 3. A signature stops before the body: the first `{` outside parentheses, a `;`, a Python
 *    header's `:`, a constant's `=` (so a changed value keeps the id), or the `)` closing a
 *    C macro's parameters.  It is capped at SPAN_SIGNATURE_MAX bytes. */
#include "symbols/internal.h"

#include "lang/lang.h"
#include "util/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SPAN_SIGNATURE_MAX    4096
#define SPAN_HEADER_MAX_LINES 64 /* a block symbol whose `{` is further away has none */

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int src_text_init(src_text *s, const char *text, size_t len)
{
    memset(s, 0, sizeof *s);
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' && i + 1 < len) n++;
    s->off = ae_calloc_array(n + 1, sizeof *s->off);
    if (!s->off) return AE_ENOMEM;
    s->text = text;
    s->len = len;
    size_t k = 0;
    s->off[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' && i + 1 < len) s->off[k++] = i + 1;
    s->off[k] = len;
    s->nlines = (int)n;
    return 0;
}

void src_text_free(src_text *s)
{
    if (!s) return;
    free(s->off);
    memset(s, 0, sizeof *s);
}

const char *src_line(const src_text *s, int line, size_t *len)
{
    if (line < 1 || line > s->nlines) {
        *len = 0;
        return "";
    }
    size_t a = s->off[line - 1], b = s->off[line];
    if (b > a && s->text[b - 1] == '\n') b--;
    if (b > a && s->text[b - 1] == '\r') b--;
    *len = b - a;
    return s->text + a;
}

static size_t clamp_col(const src_text *s, int line, size_t col)
{
    size_t n;
    src_line(s, line, &n);
    return col <= n ? col : n;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

size_t span_start_col(const src_text *s, int line, const char *name)
{
    size_t n, k = strlen(name);
    const char *l = src_line(s, line, &n);
    for (size_t i = 0; k && i + k <= n; i++) {
        if (memcmp(l + i, name, k) != 0) continue;
        if ((i > 0 && ident_char(l[i - 1])) || (i + k < n && ident_char(l[i + k]))) continue;
        /* the statement holding the name starts after the last {, } or ; before it */
        size_t col = 0;
        for (size_t j = 0; j < i; j++)
            if (l[j] == '{' || l[j] == '}' || l[j] == ';') col = j + 1;
        while (col < i && isspace((unsigned char)l[col]))
            col++;
        return col;
    }
    return 0;
}

static int line_of(const src_text *s, size_t pos)
{
    int lo = 0, hi = s->nlines - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (s->off[mid] <= pos)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo + 1;
}

/* ---- the lexer (src/lang) ------------------------------------------------------------- */

typedef struct lexer {
    lang_lexer lx;
    const char *t;
    size_t tok;     /* position of the last returned character or literal */
    size_t tok_end; /* one past the end of it */
} lexer;

static void lex_init(lexer *lx, const src_text *s, const lang_info *lang, size_t from, size_t lim)
{
    memset(lx, 0, sizeof *lx);
    lx->t = s->text;
    lang_lexer_init(&lx->lx, lang, s->text, from, lim < s->len ? lim : s->len);
}

/* Next code character, or -1 at the end.  Comments read as nothing (a line comment stops
 * before its newline), literals as '"'. */
static int lex_next(lexer *lx)
{
    lang_token t;
    while (lang_lex(&lx->lx, &t)) {
        lx->tok = t.start;
        lx->tok_end = t.end;
        if (t.kind == LANG_TOK_COMMENT) continue;
        return t.kind == LANG_TOK_STRING ? '"' : (unsigned char)lx->t[t.start];
    }
    lx->tok = lx->tok_end = lx->lx.lim;
    return -1;
}

/* ---- end lines ------------------------------------------------------------------------- */

static bool block_kind(const char *kind)
{
    return !(eq(kind, "constant") || eq(kind, "type_alias") || eq(kind, "variable"));
}

static bool continues_line(int c)
{
    return c == 0 || strchr("=,+-*/|&(<.:?[", c) != NULL;
}

static int end_by_braces(const src_text *s, const lang_info *lang, const char *kind, int start,
                         size_t col)
{
    lexer lx;
    lex_init(&lx, s, lang, s->off[start - 1] + col, s->len);
    bool block = block_kind(kind), seen = false;
    int paren = 0, brace = 0, last = 0, c;
    while ((c = lex_next(&lx)) >= 0) {
        switch (c) {
        case '(':
        case '[':
            paren++;
            break;
        case ')':
        case ']':
            if (paren > 0) paren--;
            break;
        case '{':
            brace++;
            if (paren == 0) seen = true;
            break;
        case '}':
            brace--;
            if (brace < 0) { /* left the enclosing scope: we ended on the line before */
                int l = line_of(s, lx.tok) - 1;
                return l < start ? start : l;
            }
            if (brace == 0 && paren == 0 && seen) return line_of(s, lx.tok);
            break;
        case ';':
            if (brace == 0 && paren == 0) return line_of(s, lx.tok);
            break;
        case '\n': {
            int l = line_of(s, lx.tok);
            if (!seen && paren == 0 && brace == 0 && !block && !continues_line(last)) return l;
            if (!seen && l - start >= SPAN_HEADER_MAX_LINES) return start;
            last = 0;
            break;
        }
        default:
            if (!isspace(c)) last = c;
        }
    }
    return seen ? s->nlines : start;
}

static int indent_of(const char *p, size_t n, bool *blank)
{
    int w = 0;
    size_t i = 0;
    for (; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
        w += p[i] == '\t' ? 8 - (w % 8) : 1;
    *blank = i == n || p[i] == '#' || p[i] == '\r';
    return w;
}

static int end_by_indent(const src_text *s, const lang_info *lang, const char *kind, int start,
                         size_t col)
{
    size_t n;
    bool blank;
    const char *l0 = src_line(s, start, &n);
    int indent0 = indent_of(l0, n, &blank);
    lexer lx;
    lex_init(&lx, s, lang, s->off[start - 1] + col, s->len);
    int depth = 0, last_code = start, c;
    bool header_done = false;
    while ((c = lex_next(&lx)) >= 0) {
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        if (c == '\n') {
            if (depth > 0) continue;
            if (lx.tok > 0 && lx.t[lx.tok - 1] == '\\') continue;
            if (!header_done && !block_kind(kind)) return last_code;
            header_done = true;
            int next = line_of(s, lx.tok) + 1;
            if (next > s->nlines || s->off[next - 1] >= s->len) break;
            const char *ln = src_line(s, next, &n);
            int ind = indent_of(ln, n, &blank);
            if (!blank && ind <= indent0) return last_code;
        } else if (!isspace(c)) {
            last_code = line_of(s, lx.tok_end > 0 ? lx.tok_end - 1 : 0);
        }
    }
    return last_code;
}

int span_end_line(const src_text *s, const char *language, const char *kind, int start, size_t col)
{
    if (start < 1) start = 1;
    if (start > s->nlines) return s->nlines;
    col = clamp_col(s, start, col);
    const lang_info *lang = lang_or_other(language);
    int end = lang->indent_blocks ? end_by_indent(s, lang, kind, start, col)
                                  : end_by_braces(s, lang, kind, start, col);
    if (end < start) end = start;
    if (end > s->nlines) end = s->nlines;
    return end;
}

/* ---- signatures ------------------------------------------------------------------------ */

static bool assignment_at(const char *t, size_t p, size_t lim)
{
    char next = p + 1 < lim ? t[p + 1] : '\0';
    char prev = p > 0 ? t[p - 1] : '\0';
    return next != '=' && next != '>' && !strchr("<>!=+-*/%&|^:", prev ? prev : ' ');
}

/* Where the declaration header stops: offset of the stop character (excluded), or of one
 * past it when `inclusive` (C macro parameters).  *stop_char tells which one, 0 if none. */
static size_t header_stop(const src_text *s, const lang_info *lang, const char *kind, int start,
                          size_t col, int end, int *stop_char)
{
    size_t from = s->off[start - 1] + col, lim = s->off[end];
    lexer lx;
    lex_init(&lx, s, lang, from, lim);
    bool py = lang->indent_blocks; /* a `:` ends the header, braces are data */
    bool constant = eq(kind, "constant");
    bool c_macro = eq(kind, "macro") && lang->family == LANG_FAM_C;
    int paren = 0, brace = 0, c;
    *stop_char = 0;
    while ((c = lex_next(&lx)) >= 0) {
        if (lx.tok - from >= SPAN_SIGNATURE_MAX) return lx.tok;
        if (c == '(' || c == '[') {
            paren++;
        } else if (c == ')' || c == ']') {
            if (paren > 0) paren--;
            if (c_macro && paren == 0) {
                *stop_char = c;
                return lx.tok_end;
            }
        } else if (c == '{') {
            if (!py && paren == 0) {
                *stop_char = c;
                return lx.tok;
            }
            brace++;
        } else if (c == '}') {
            if (brace > 0) brace--;
        } else if (paren == 0 && brace == 0) {
            if ((c == ';' && !py) || (c == ':' && py) ||
                (c == '=' && constant && assignment_at(lx.t, lx.tok, lim))) {
                *stop_char = c;
                return lx.tok;
            }
        }
    }
    return lim;
}

static char *trimmed_copy(const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p))
        p++, n--;
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    return ae_strndup(p, n);
}

char *span_signature(const src_text *s, const char *language, const char *kind, int start,
                     size_t col, int end)
{
    int sc;
    col = clamp_col(s, start, col);
    size_t from = s->off[start - 1] + col;
    size_t stop = header_stop(s, lang_or_other(language), kind, start, col, end, &sc);
    char *sig = trimmed_copy(s->text + from, stop - from);
    if (sig && !sig[0]) {
        free(sig);
        size_t n;
        const char *l = src_line(s, start, &n);
        sig = trimmed_copy(l, n);
    }
    return sig;
}

char *span_source(const src_text *s, int start, int end)
{
    size_t a = s->off[start - 1], b = s->off[end];
    if (b > a && s->text[b - 1] == '\n') b--;
    return ae_strndup(s->text + a, b - a);
}

/* ---- doc comments ---------------------------------------------------------------------- */

/* Appends text with its whitespace runs collapsed to single spaces. */
static int append_words(ae_buf *b, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && isspace((unsigned char)p[i]))
            i++;
        size_t w = i;
        while (i < n && !isspace((unsigned char)p[i]))
            i++;
        if (i > w) {
            if (b->len && ae_buf_append(b, " ", 1) < 0) return AE_ENOMEM;
            if (ae_buf_append(b, p + w, i - w) < 0) return AE_ENOMEM;
        }
    }
    return 0;
}

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && isspace((unsigned char)*p))
        p++;
    return p;
}

static bool starts(const char *p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0;
}

/* A decorator or attribute line ("#[derive(..)]", "@cached"). */
static bool attribute_line(const lang_info *lang, const char *p, const char *e)
{
    return lang->attribute && starts(p, e, lang->attribute);
}

/* A line comment that documents what follows: not a shebang "#!", not Rust's inner "//!". */
static bool line_comment(const lang_info *lang, const char *p, const char *e)
{
    const char *m = lang_line_comment(lang);
    if (!m) return false;
    size_t n = strlen(m);
    return starts(p, e, m) && !(e - p > (ptrdiff_t)n && p[n] == '!');
}

static char *comment_above(const src_text *s, const lang_info *lang, int start)
{
    const char *bo = NULL, *bc = NULL;
    bool has_block = lang_block_comment(lang, &bo, &bc);
    size_t bol = has_block ? strlen(bo) : 0, bcl = has_block ? strlen(bc) : 0;
    int l = start - 1;
    size_t n;
    const char *p, *e;
    for (; l >= 1; l--) { /* decorators and attributes sit between a doc and its item */
        p = src_line(s, l, &n);
        e = p + n;
        p = skip_ws(p, e);
        if (!attribute_line(lang, p, e)) break;
    }
    if (l < 1) return NULL;
    p = src_line(s, l, &n);
    e = p + n;
    p = skip_ws(p, e);
    while (e > p && isspace((unsigned char)e[-1]))
        e--;
    ae_buf b = {0};
    int first = l, last = l;
    bool block = false;
    if (line_comment(lang, p, e)) {
        while (first > 1) {
            const char *q0 = src_line(s, first - 1, &n);
            if (!line_comment(lang, skip_ws(q0, q0 + n), q0 + n)) break;
            first--;
        }
    } else if (has_block && (size_t)(e - p) >= bcl && memcmp(e - bcl, bc, bcl) == 0) {
        block = true;
        while (first >= 1) {
            const char *q = src_line(s, first, &n);
            if (memmem(q, n, bo, bol)) break;
            first--;
        }
        if (first < 1 || last - first > 200) return NULL;
        const char *q0 = src_line(s, first, &n);
        const char *o = memmem(q0, n, bo, bol);
        if (skip_ws(q0, o) != o) return NULL; /* a trailing comment of code, not a doc */
    } else {
        return NULL;
    }
    for (int i = first; i <= last; i++) {
        const char *q = src_line(s, i, &n), *qe = q + n;
        q = skip_ws(q, qe);
        if (block) {
            if (i == first) {
                const char *o = memmem(q, (size_t)(qe - q), bo, bol);
                q = o ? o + bol : q;
                while (q < qe && (*q == '*' || *q == '!'))
                    q++;
            } else {
                while (q < qe && *q == '*' && !(q + 1 < qe && q[1] == '/'))
                    q++;
            }
            if (i == last) {
                const char *c = NULL;
                for (const char *x = q; x + bcl <= qe; x++)
                    if (memcmp(x, bc, bcl) == 0) c = x;
                if (c) qe = c;
                while (qe > q && qe[-1] == '*')
                    qe--;
            }
        } else {
            char m = lang_line_comment(lang)[0]; /* "///", "##": every marker byte goes */
            while (q < qe && *q == m)
                q++;
        }
        if (append_words(&b, q, (size_t)(qe - q)) < 0) {
            ae_buf_free(&b);
            return NULL;
        }
    }
    return b.data; /* NULL when nothing was appended */
}

/* The string that opens a Python block (after its header's `:`, past blank lines and
 * comments, with at most one r/u prefix), words collapsed; NULL when there is none. */
static char *python_docstring(const src_text *s, const lang_info *lang, const char *kind, int start,
                              size_t col, int end)
{
    int sc;
    size_t stop = header_stop(s, lang, kind, start, col, end, &sc);
    if (sc != ':') return NULL;
    lang_lexer lx;
    lang_token tok;
    bool prefix = false;
    lang_lexer_init(&lx, lang, s->text, stop + 1, s->off[end]);
    while (lang_lex(&lx, &tok)) {
        char c = s->text[tok.start];
        if (tok.kind == LANG_TOK_COMMENT ||
            (tok.kind == LANG_TOK_CODE && !prefix && isspace((unsigned char)c)))
            continue;
        if (tok.kind == LANG_TOK_CODE && !prefix && c && strchr("rRuU", c)) {
            prefix = true;
            continue;
        }
        if (tok.kind != LANG_TOK_STRING) return NULL;
        /* a one-line string that a newline cut off is not a docstring */
        if (!tok.closed && tok.body_end < lx.lim && s->text[tok.body_end] == '\n') return NULL;
        ae_buf b = {0};
        if (append_words(&b, s->text + tok.body, tok.body_end - tok.body) < 0) {
            ae_buf_free(&b);
            return NULL;
        }
        return b.data;
    }
    return NULL;
}

char *span_doc(const src_text *s, const char *language, const char *kind, int start, size_t col,
               int end)
{
    col = clamp_col(s, start, col);
    const lang_info *lang = lang_or_other(language);
    if (lang->family == LANG_FAM_PY && block_kind(kind)) {
        char *d = python_docstring(s, lang, kind, start, col, end);
        if (d) return d;
    }
    size_t n;
    const char *l = src_line(s, start, &n);
    if (skip_ws(l, l + col) != l + col) return NULL; /* code before it on its line */
    return comment_above(s, lang, start);
}
