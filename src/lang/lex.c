/* The comment and literal lexer: one engine over per-language rule rows.
 *
 * 1. A syntax is an ordered list of rules (line comment, block comment, quoted literal, Rust
 *    raw string, C++ raw string, Rust char-or-lifetime).  At each byte the first rule whose
 *    opening matches wins; a byte no rule claims is code.  Order is meaning: Python's `"""`
 *    comes before `"`, Rust's `r#"` before `"`.
 * 2. Tokens keep offsets into the caller's text, so a caller can look at a literal's contents
 *    (a file mode, a docstring) in the text it came from.
 * 3. Unclosed things end quietly: a single-line literal stops before the newline (which stays
 *    code), anything else at the limit.  Nothing is an error: the input may be any bytes.
 * 4. Not handled, on purpose: JS regular expression literals (telling `/` from a division
 *    needs a parser), `${...}` nesting inside template literals, and the C preprocessor
 *    (`#if 0` regions are read as code; a `#error don't` line ends its char literal at the
 *    newline, so nothing leaks). */
#include "lang/lang.h"

#include "util/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define LANG_RAW_DELIM_MAX 16 /* C++ raw string delimiters are at most 16 bytes */

#define RULES(name, ...)                                                                           \
    static const lang_rule name##_rules[] = {__VA_ARGS__};                                         \
    const lang_syntax lang_syntax_##name = {#name, name##_rules,                                   \
                                            sizeof name##_rules / sizeof name##_rules[0]}

#define LINE(open)                                                                                 \
    {                                                                                              \
        LANG_RULE_LINE_COMMENT, open, NULL, 0                                                      \
    }
#define BLOCK(o, c, flags)                                                                         \
    {                                                                                              \
        LANG_RULE_BLOCK_COMMENT, o, c, flags                                                       \
    }
#define QUOTED(o, c, flags)                                                                        \
    {                                                                                              \
        LANG_RULE_QUOTED, o, c, flags                                                              \
    }

/* clang-format off */
/* C and Objective-C: // and block comments, "..." strings and '.' chars on one line. */
RULES(c,
      LINE("//"),
      BLOCK("/*", "*/", 0),
      QUOTED("\"", "\"", LANG_ESCAPES),
      QUOTED("'", "'", LANG_ESCAPES));

/* C++ and CUDA: C plus raw strings R"delim(...)delim", also with an encoding prefix. */
RULES(cpp,
      LINE("//"),
      BLOCK("/*", "*/", 0),
      {LANG_RULE_RAW_PAREN, "R\"",   NULL, LANG_WORD_START},
      {LANG_RULE_RAW_PAREN, "u8R\"", NULL, LANG_WORD_START},
      {LANG_RULE_RAW_PAREN, "uR\"",  NULL, LANG_WORD_START},
      {LANG_RULE_RAW_PAREN, "UR\"",  NULL, LANG_WORD_START},
      {LANG_RULE_RAW_PAREN, "LR\"",  NULL, LANG_WORD_START},
      QUOTED("\"", "\"", LANG_ESCAPES),
      QUOTED("'", "'", LANG_ESCAPES));

/* Rust: nested block comments, raw strings r#"..."# (byte and C string forms too), strings
 * that cross lines, and 'x' told apart from the lifetime 'a. */
RULES(rust,
      LINE("//"),
      BLOCK("/*", "*/", LANG_NESTS),
      {LANG_RULE_RAW_HASHES, "r",  NULL, LANG_WORD_START},
      {LANG_RULE_RAW_HASHES, "br", NULL, LANG_WORD_START},
      {LANG_RULE_RAW_HASHES, "cr", NULL, LANG_WORD_START},
      QUOTED("\"", "\"", LANG_ESCAPES | LANG_MULTILINE),
      {LANG_RULE_CHAR_OR_LIFETIME, "'", "'", LANG_ESCAPES});

/* Go: raw strings `...` cross lines and have no escapes. */
RULES(go,
      LINE("//"),
      BLOCK("/*", "*/", 0),
      QUOTED("\"", "\"", LANG_ESCAPES),
      QUOTED("'", "'", LANG_ESCAPES),
      QUOTED("`", "`", LANG_MULTILINE));

/* Python: # comments, triple-quoted strings (docstrings) cross lines; string prefixes
 * (r, b, f, u) are identifier bytes before the quote and read as code. */
RULES(python,
      LINE("#"),
      QUOTED("\"\"\"", "\"\"\"", LANG_ESCAPES | LANG_MULTILINE),
      QUOTED("'''", "'''", LANG_ESCAPES | LANG_MULTILINE),
      QUOTED("\"", "\"", LANG_ESCAPES),
      QUOTED("'", "'", LANG_ESCAPES));

/* JavaScript and TypeScript: template literals `...` cross lines and have escapes. */
RULES(js,
      LINE("//"),
      BLOCK("/*", "*/", 0),
      QUOTED("\"", "\"", LANG_ESCAPES),
      QUOTED("'", "'", LANG_ESCAPES),
      QUOTED("`", "`", LANG_ESCAPES | LANG_MULTILINE));

/* Java, C#, Kotlin, Scala: text blocks / raw strings """...""" cross lines. */
RULES(java,
      LINE("//"),
      BLOCK("/*", "*/", 0),
      QUOTED("\"\"\"", "\"\"\"", LANG_ESCAPES | LANG_MULTILINE),
      QUOTED("\"", "\"", LANG_ESCAPES),
      QUOTED("'", "'", LANG_ESCAPES));

/* A language we have no row for: C-like comments, the common quotes. */
RULES(other,
      LINE("//"),
      BLOCK("/*", "*/", 0),
      QUOTED("\"", "\"", LANG_ESCAPES),
      QUOTED("'", "'", LANG_ESCAPES),
      QUOTED("`", "`", LANG_ESCAPES | LANG_MULTILINE));
/* clang-format on */

const lang_syntax *const *lang_syntaxes(size_t *n)
{
    static const lang_syntax *const all[] = {
        &lang_syntax_c,      &lang_syntax_cpp, &lang_syntax_rust, &lang_syntax_go,
        &lang_syntax_python, &lang_syntax_js,  &lang_syntax_java, &lang_syntax_other,
    };
    *n = sizeof all / sizeof all[0];
    return all;
}

/* ---- matching one rule ------------------------------------------------------------------ */

static bool word_byte(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

static bool at(const lang_lexer *lx, size_t p, const char *lit, size_t n)
{
    return p <= lx->lim && lx->lim - p >= n && memcmp(lx->text + p, lit, n) == 0;
}

static void finish(lang_token *tok, lang_tok_kind kind, size_t start, size_t body, size_t body_end,
                   size_t end, bool closed)
{
    tok->kind = kind;
    tok->start = start;
    tok->body = body;
    tok->body_end = body_end;
    tok->end = end;
    tok->closed = closed;
}

/* Scans a literal's contents from q for `close`; fills tok. */
static void scan_quoted(const lang_lexer *lx, size_t start, size_t q, const char *close,
                        unsigned flags, lang_token *tok)
{
    size_t cl = strlen(close);
    const char *t = lx->text;
    while (q < lx->lim) {
        if ((flags & LANG_ESCAPES) && t[q] == '\\') {
            q += 2;
            continue;
        }
        if (at(lx, q, close, cl)) {
            finish(tok, LANG_TOK_STRING, start, 0, q, q + cl, true);
            return;
        }
        if (t[q] == '\n' && !(flags & LANG_MULTILINE)) {
            finish(tok, LANG_TOK_STRING, start, 0, q, q, false);
            return;
        }
        q++;
    }
    finish(tok, LANG_TOK_STRING, start, 0, lx->lim, lx->lim, false);
}

static bool match_block(const lang_lexer *lx, const lang_rule *r, size_t p, lang_token *tok)
{
    size_t ol = strlen(r->open), cl = strlen(r->close);
    int depth = 1;
    for (size_t q = p + ol; q < lx->lim;) {
        if ((r->flags & LANG_NESTS) && at(lx, q, r->open, ol)) {
            depth++;
            q += ol;
        } else if (at(lx, q, r->close, cl)) {
            if (--depth == 0) {
                finish(tok, LANG_TOK_COMMENT, p, p + ol, q, q + cl, true);
                return true;
            }
            q += cl;
        } else {
            q++;
        }
    }
    finish(tok, LANG_TOK_COMMENT, p, p + ol, lx->lim, lx->lim, false);
    return true;
}

static bool match_raw_hashes(const lang_lexer *lx, const lang_rule *r, size_t p, lang_token *tok)
{
    const char *t = lx->text;
    size_t k = p + strlen(r->open), hashes = 0;
    while (k < lx->lim && t[k] == '#')
        hashes++, k++;
    if (k >= lx->lim || t[k] != '"') return false;
    for (size_t q = k + 1; q < lx->lim; q++) {
        if (t[q] != '"') continue;
        size_t h = 0;
        while (h < hashes && q + 1 + h < lx->lim && t[q + 1 + h] == '#')
            h++;
        if (h == hashes) {
            finish(tok, LANG_TOK_STRING, p, k + 1, q, q + 1 + hashes, true);
            return true;
        }
    }
    finish(tok, LANG_TOK_STRING, p, k + 1, lx->lim, lx->lim, false);
    return true;
}

static bool match_raw_paren(const lang_lexer *lx, const lang_rule *r, size_t p, lang_token *tok)
{
    const char *t = lx->text;
    size_t d = p + strlen(r->open), k = d;
    while (k < lx->lim && k - d <= LANG_RAW_DELIM_MAX && t[k] != '(') {
        if (isspace((unsigned char)t[k]) || t[k] == ')' || t[k] == '\\' || t[k] == '"')
            return false;
        k++;
    }
    if (k >= lx->lim || t[k] != '(' || k - d > LANG_RAW_DELIM_MAX) return false;
    size_t dl = k - d;
    for (size_t q = k + 1; q < lx->lim; q++) {
        if (t[q] == ')' && at(lx, q + 1, t + d, dl) && at(lx, q + 1 + dl, "\"", 1)) {
            finish(tok, LANG_TOK_STRING, p, k + 1, q, q + dl + 2, true);
            return true;
        }
    }
    finish(tok, LANG_TOK_STRING, p, k + 1, lx->lim, lx->lim, false);
    return true;
}

/* 'x' (one UTF-8 character) or an escape '\...' is a literal; otherwise the quote is code
 * (a lifetime or a loop label such as 'a or 'outer). */
static bool match_char_or_lifetime(const lang_lexer *lx, const lang_rule *r, size_t p,
                                   lang_token *tok)
{
    const char *t = lx->text;
    if (p + 1 >= lx->lim) return false;
    if (t[p + 1] == '\\') {
        scan_quoted(lx, p, p + 1, r->close, r->flags, tok);
        tok->body = p + 1;
        return true;
    }
    if (t[p + 1] == '\'') return false;
    size_t cl = 1;
    while (p + 1 + cl < lx->lim && ((unsigned char)t[p + 1 + cl] & 0xC0) == 0x80)
        cl++;
    if (p + 1 + cl >= lx->lim || t[p + 1 + cl] != '\'') return false;
    finish(tok, LANG_TOK_STRING, p, p + 1, p + 1 + cl, p + 2 + cl, true);
    return true;
}

static bool match_rule(const lang_lexer *lx, const lang_rule *r, size_t p, lang_token *tok)
{
    size_t ol = strlen(r->open);
    if (!at(lx, p, r->open, ol)) return false;
    if ((r->flags & LANG_WORD_START) && p > 0 && word_byte(lx->text[p - 1])) return false;
    switch (r->kind) {
    case LANG_RULE_LINE_COMMENT: {
        const char *nl = memchr(lx->text + p + ol, '\n', lx->lim - p - ol);
        size_t e = nl ? (size_t)(nl - lx->text) : lx->lim;
        finish(tok, LANG_TOK_COMMENT, p, p + ol, e, e, true);
        return true;
    }
    case LANG_RULE_BLOCK_COMMENT:
        return match_block(lx, r, p, tok);
    case LANG_RULE_QUOTED:
        scan_quoted(lx, p, p + ol, r->close, r->flags, tok);
        tok->body = p + ol;
        return true;
    case LANG_RULE_RAW_HASHES:
        return match_raw_hashes(lx, r, p, tok);
    case LANG_RULE_RAW_PAREN:
        return match_raw_paren(lx, r, p, tok);
    case LANG_RULE_CHAR_OR_LIFETIME:
        return match_char_or_lifetime(lx, r, p, tok);
    }
    return false;
}

/* ---- the lexer -------------------------------------------------------------------------- */

void lang_lexer_init(lang_lexer *lx, const lang_info *lang, const char *text, size_t from,
                     size_t lim)
{
    lx->text = text;
    lx->pos = from < lim ? from : lim;
    lx->lim = lim;
    lx->syntax = (lang ? lang : lang_or_other(NULL))->syntax;
    memset(lx->opens, 0, sizeof lx->opens);
    for (size_t i = 0; i < lx->syntax->nrules; i++)
        lx->opens[(unsigned char)lx->syntax->rules[i].open[0]] = true;
}

/* The next token; with `runs`, a code token spans every byte up to the next possible opening
 * (the blanker copies code through, so it needs no byte-by-byte stops). */
static bool next_token(lang_lexer *lx, lang_token *tok, bool runs)
{
    size_t p = lx->pos;
    if (p >= lx->lim) {
        finish(tok, LANG_TOK_CODE, lx->lim, lx->lim, lx->lim, lx->lim, true);
        tok->rule = NULL;
        return false;
    }
    const lang_syntax *syn = lx->syntax;
    for (size_t i = 0; lx->opens[(unsigned char)lx->text[p]] && i < syn->nrules; i++) {
        if (match_rule(lx, &syn->rules[i], p, tok)) {
            tok->rule = &syn->rules[i];
            if (tok->end > lx->lim) tok->end = lx->lim; /* an escape at the limit */
            if (tok->body_end > tok->end) tok->body_end = tok->end;
            lx->pos = tok->end > p ? tok->end : p + 1;
            return true;
        }
    }
    size_t e = p + 1;
    while (runs && e < lx->lim && !lx->opens[(unsigned char)lx->text[e]])
        e++;
    finish(tok, LANG_TOK_CODE, p, p, e, e, true);
    tok->rule = NULL;
    lx->pos = e;
    return true;
}

bool lang_lex(lang_lexer *lx, lang_token *tok)
{
    return next_token(lx, tok, false);
}

static void blank_range(char *out, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (out[i] != '\n') out[i] = ' ';
}

char *lang_blank(const lang_info *lang, const char *src, size_t n, bool blank_strings)
{
    char *out = ae_strndup(src, n);
    if (!out) return NULL;
    lang_lexer lx;
    lang_token tok;
    lang_lexer_init(&lx, lang, src, 0, n);
    while (next_token(&lx, &tok, true)) {
        if (tok.kind == LANG_TOK_COMMENT)
            blank_range(out, tok.start, tok.end);
        else if (tok.kind == LANG_TOK_STRING && blank_strings)
            blank_range(out, tok.body, tok.body_end);
    }
    return out;
}

/* ---- what span.c's doc comment reader needs ---------------------------------------------- */

static const lang_rule *first_rule(const lang_info *lang, lang_rule_kind kind)
{
    const lang_syntax *syn = (lang ? lang : lang_or_other(NULL))->syntax;
    for (size_t i = 0; i < syn->nrules; i++)
        if (syn->rules[i].kind == kind) return &syn->rules[i];
    return NULL;
}

const char *lang_line_comment(const lang_info *lang)
{
    const lang_rule *r = first_rule(lang, LANG_RULE_LINE_COMMENT);
    return r ? r->open : NULL;
}

bool lang_block_comment(const lang_info *lang, const char **open, const char **close)
{
    const lang_rule *r = first_rule(lang, LANG_RULE_BLOCK_COMMENT);
    if (!r) return false;
    *open = r->open;
    *close = r->close;
    return true;
}
