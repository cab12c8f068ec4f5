/* The body scan: every identifier chain of a symbol's body, its dependencies, and the engine
 * that applies the rule table (static_rules.c) to each chain.
 *
 * 1. Comments and literal contents are blanked by the language layer's lexer (src/lang), so a
 *    call inside a string or a comment is not a call; the `raw` copy keeps literals for rules
 *    that read them (the mode string of fopen/open).
 * 2. Calls are read as "chains": `a.b.c(` and `a::b::c(` normalise to "a.b.c"; a turbofish
 *    `::<...>` between the name and the '(' is looked through.
 * 3. A definition is not a call: names after def/fn/func/function, and (in C, JS/TS, Java, whose
 *    conditions are parenthesised) `name(...) {` are skipped; declaration-only kinds (struct,
 *    enum, trait, interface, type alias) get no body analysis at all.
 * 4. The engine knows no rule: for each chain it tries every row of the family in table order
 *    (match kind, site, conditions, the row's test) and adds the row's text.
 * 5. Time is linear in the span: brackets are matched once into a table, lookahead windows are
 *    bounded (STATIC_WINDOW), and at most STATIC_MAX_SOURCE bytes of a span are read. */
#include "sir/static_internal.h"

#include "util/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Words that are followed by '(' without being calls. */
static const char *const keywords[] = {
    "if",
    "else",
    "elif",
    "elseif",
    "for",
    "foreach",
    "while",
    "do",
    "switch",
    "case",
    "return",
    "sizeof",
    "typeof",
    "alignof",
    "_Alignof",
    "catch",
    "try",
    "except",
    "finally",
    "with",
    "match",
    "loop",
    "yield",
    "await",
    "async",
    "assert",
    "lambda",
    "not",
    "and",
    "or",
    "in",
    "is",
    "fn",
    "func",
    "function",
    "def",
    "class",
    "struct",
    "enum",
    "union",
    "throw",
    "throws",
    "raise",
    "super",
    "this",
    "self",
    "Self",
    "defined",
    "__attribute__",
    "__declspec",
    "_Generic",
    "_Static_assert",
    "static_assert",
    "decltype",
    "noexcept",
    "typeid",
    "operator",
    "where",
    "as",
    "impl",
    "dyn",
    "let",
    "var",
    "const",
    "mut",
    "ref",
    "go",
    "defer",
    "select",
    "Ok",
    "Err",
    "Some",
    "None",
    "unless",
    "until",
    "when",
    "then",
    "instanceof",
    "void",
    "elsif",
    "goto",
    NULL,
};

/* chain == suffix, or chain ends with "." + suffix */
static bool ends_seg(const char *chain, const char *suffix)
{
    size_t cl = strlen(chain), sl = strlen(suffix);
    if (cl < sl || strcmp(chain + cl - sl, suffix) != 0) return false;
    return cl == sl || chain[cl - sl - 1] == '.';
}

/* chain starts with the segment seg and has more segments */
static bool first_seg(const char *chain, const char *seg)
{
    size_t sl = strlen(seg);
    return strncmp(chain, seg, sl) == 0 && chain[sl] == '.';
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t static_skip_space(const char *s, size_t i)
{
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    return i;
}

/* Reads an identifier chain (a.b::c) at s[i] into buf; returns its end. */
size_t static_read_chain(const char *s, size_t i, char *buf, size_t cap, size_t *last_at)
{
    size_t o = 0;
    *last_at = 0;
    for (;;) {
        *last_at = o;
        while (static_ident_char(s[i])) {
            if (o + 1 < cap) buf[o++] = s[i];
            i++;
        }
        if (s[i] == '.' && static_ident_start(s[i + 1])) {
            i += 1;
        } else if (s[i] == ':' && s[i + 1] == ':' && static_ident_start(s[i + 2])) {
            i += 2;
        } else {
            break;
        }
        if (o + 1 < cap) buf[o++] = '.';
    }
    buf[o] = '\0';
    if (*last_at > o) *last_at = o;
    return i;
}

/* The raw argument text of the call whose '(' is at open, as [*a, *b). */
void static_call_args(const body_ctx *c, size_t open, size_t *a, size_t *b)
{
    size_t e = c->closes[open];
    *a = open + 1;
    if (!e) {
        size_t len = strnlen(c->raw + open, STATIC_WINDOW);
        const char *nl = memchr(c->raw + open, '\n', len);
        e = nl ? (size_t)(nl - c->raw) : open + len;
    }
    *b = e < open + STATIC_WINDOW ? e : open + STATIC_WINDOW;
}

/* ---- the rule engine ------------------------------------------------------------------- */

/* The chain's first segment is one of the space-separated words of scope. */
static bool in_scope(const char *chain, const char *scope)
{
    for (const char *p = scope; *p;) {
        size_t w = strcspn(p, " ");
        if (strncmp(chain, p, w) == 0 && chain[w] == '.') return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

static bool some_segment(const char *chain, const char *seg)
{
    size_t sl = strlen(seg);
    for (const char *p = chain; *p;) {
        size_t l = strcspn(p, ".");
        if (l == sl && strncmp(p, seg, l) == 0) return true;
        p += l + (p[l] == '.');
    }
    return false;
}

static bool matches(const static_rule *r, const chain_site *at)
{
    const char *chain = at->chain, *last = at->last, *pat = r->pattern;
    switch (r->match) {
    case MATCH_CHAIN:
        return chain[0] == pat[0] && strcmp(chain, pat) == 0;
    case MATCH_CHAIN_PREFIX:
        return starts(chain, pat);
    case MATCH_SUFFIX:
        return ends_seg(chain, pat);
    case MATCH_LAST:
        return last[0] == pat[0] && strcmp(last, pat) == 0;
    case MATCH_LAST_PREFIX:
        return starts(last, pat);
    case MATCH_LAST_PREFIX_CI:
        return strncasecmp(last, pat, strlen(pat)) == 0;
    case MATCH_FIRST:
        return first_seg(chain, pat);
    case MATCH_FIRST_PREFIX_CI:
        return at->multi && strncasecmp(chain, pat, strlen(pat)) == 0;
    case MATCH_SEGMENT:
        return some_segment(chain, pat);
    case MATCH_NONE:
        return false;
    }
    return false;
}

/* Does row r apply to this chain (before its test)? */
static bool applies(const static_rule *r, const chain_site *at)
{
    bool multi = at->multi;
    switch (r->site) {
    case SITE_CALL:
        if (!at->call) return false;
        break;
    case SITE_MACRO:
        if (!at->macro) return false;
        break;
    case SITE_NAME:
        break;
    case SITE_KEYWORD:
        if (multi) return false;
        break;
    case SITE_OPERATOR:
        return false;
    }
    if ((r->when & WHEN_BARE) && (multi || at->dot_before)) return false;
    if ((r->when & WHEN_METHOD) && !at->dot_before) return false;
    if (r->scope && !in_scope(at->chain, r->scope)) return false;
    return matches(r, at);
}

/* Runs row i's test and adds its text (the effect, or `otherwise`) to its list. */
static int apply(body_ctx *c, size_t i, const static_rule *r, const chain_site *at)
{
    char name[STATIC_CHAIN_MAX];
    const char *text = static_rule_test(c, r, at, name, sizeof name) ? r->effect : r->otherwise;
    if (!text) return 0;
    if (c->fired) c->fired[i] = true;
    ae_strlist *l = r->list == STATIC_ERROR_MODE ? &c->out->error_modes : &c->out->side_effects;
    if (l->len >= STATIC_MAX_LIST) return 0;
    const char *hole = strstr(text, "%s");
    if (!hole) return static_push_unique(l, text);
    char *m = ae_asprintf("%.*s%s%s", (int)(hole - text), text, name, hole + 2);
    int rc = m ? static_push_unique(l, m) : AE_ENOMEM;
    free(m);
    return rc;
}

/* The rows that can apply in the body's family, once per body, so a chain tries only them. */
static int family_rows(body_ctx *c)
{
    size_t n;
    const static_rule *rules = static_rules(&n);
    c->rows = ae_calloc_array(n ? n : 1, sizeof *c->rows);
    if (!c->rows) return AE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (rules[i].family == LANG_FAM_OTHER || rules[i].family == c->fam)
            c->rows[c->nrows++] = (uint32_t)i;
    return 0;
}

static int apply_rules(body_ctx *c, const chain_site *at)
{
    size_t n;
    const static_rule *rules = static_rules(&n);
    for (size_t k = 0; k < c->nrows; k++) {
        const static_rule *r = &rules[c->rows[k]];
        if (applies(r, at)) AE_TRY(apply(c, c->rows[k], r, at));
    }
    return 0;
}

static int apply_operators(body_ctx *c)
{
    size_t n;
    const static_rule *rules = static_rules(&n);
    for (size_t k = 0; k < c->nrows; k++) {
        const static_rule *r = &rules[c->rows[k]];
        if (r->site == SITE_OPERATOR) AE_TRY(apply(c, c->rows[k], r, NULL));
    }
    return 0;
}

/* ---- the scan ---------------------------------------------------------------------------- */

/* A name followed by '(' that defines rather than calls: after def/fn/func/function, or (in
 * brace languages whose conditions are parenthesised) a parameter list followed by a body. */
static bool is_definition(const body_ctx *c, size_t start, size_t open)
{
    static const char *const def_words[] = {"def", "fn", "func", "function", "fun", "sub", NULL};
    const char *s = c->code;
    size_t p = start;
    while (p > 0 && (s[p - 1] == ' ' || s[p - 1] == '\t'))
        p--;
    if (p < start) {
        size_t w = p;
        while (w > 0 && static_ident_char(s[w - 1]))
            w--;
        char word[16];
        if (p - w > 0 && p - w < sizeof word) {
            memcpy(word, s + w, p - w);
            word[p - w] = '\0';
            if (static_in_list(word, def_words)) return true;
        }
    }
    if (c->fam != LANG_FAM_C && c->fam != LANG_FAM_JS && c->fam != LANG_FAM_JAVA) return false;
    size_t close = c->closes[open];
    if (!close) return false;
    size_t k = close + 1;
    while (isspace((unsigned char)s[k]))
        k++;
    if (s[k] == '{') return true;
    if (c->fam == LANG_FAM_C) return false;
    /* ": ReturnType {" (TypeScript) or "throws X {" (Java) */
    if (s[k] != ':' && !starts(s + k, "throws")) return false;
    for (size_t stop = k + STATIC_WINDOW; s[k] && s[k] != '\n' && k < stop; k++) {
        if (s[k] == '{') return true;
        if (s[k] == ';' || s[k] == '=' || s[k] == ')' || s[k] == ',') return false;
    }
    return false;
}

/* Where the body starts: just past the signature text (matched ignoring whitespace, at the start
 * of some line, so attributes and decorators above it are skipped), else 0. */
static size_t body_offset(const char *src, const char *sig)
{
    if (!sig || !sig[0]) return 0;
    size_t line = 0;
    for (int tries = 0; tries < STATIC_SIGNATURE_LINES; tries++) {
        size_t i = line;
        const char *q = sig;
        while (*q) {
            if (isspace((unsigned char)*q)) {
                q++;
                continue;
            }
            while (isspace((unsigned char)src[i]))
                i++;
            if (src[i] != *q) break;
            i++;
            q++;
        }
        if (!*q) return i;
        const char *nl = strchr(src + line, '\n');
        if (!nl) return 0;
        line = (size_t)(nl - src) + 1;
    }
    return 0;
}

/* Matching brackets of the blanked code in one pass (any of ()[]{}), so argument lists are found
 * in linear time whatever the input. */
static uint32_t *bracket_table(const char *code, size_t n)
{
    uint32_t *closes = ae_calloc_array(n + 1, sizeof *closes);
    uint32_t *stack = ae_calloc_array(n + 1, sizeof *stack);
    if (!closes || !stack) {
        free(closes);
        free(stack);
        return NULL;
    }
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (ch == '(' || ch == '[' || ch == '{') {
            stack[depth++] = (uint32_t)i;
        } else if ((ch == ')' || ch == ']' || ch == '}') && depth > 0) {
            closes[stack[--depth]] = (uint32_t)i;
        }
    }
    free(stack);
    return closes;
}

/* The end of a turbofish `::<...>` starting at code[lt] (the '<'), or 0. */
static size_t turbofish_end(const char *code, size_t lt)
{
    int depth = 0;
    for (size_t i = lt; code[i] && i - lt < STATIC_TURBOFISH_MAX; i++) {
        if (code[i] == '<') depth++;
        if (code[i] == '>' && --depth == 0) return i;
    }
    return 0;
}

int static_body(const ae_symbol *sym, const lang_info *lang, ae_sir *out, bool *fired)
{
    lang_family fam = lang->family;
    if (!sym->source || !sym->source[0]) return 0;
    if (static_is_declaration_kind(sym->kind)) return 0;
    body_ctx c = {.sym = sym, .fam = fam, .out = out, .fired = fired};
    char *src = ae_strndup(sym->source, strnlen(sym->source, STATIC_MAX_SOURCE));
    size_t n = src ? strlen(src) : 0;
    char *code = src ? lang_blank(lang, src, n, true) : NULL;
    char *raw = src ? lang_blank(lang, src, n, false) : NULL;
    int rc = 0;
    if (!code || !raw || !(c.closes = bracket_table(code, n)) || family_rows(&c) < 0)
        AE_FAIL(NULL, AE_ENOMEM, "out of memory");
    c.code = code;
    c.raw = raw;
    size_t body = c.body = body_offset(src, sym->signature);
    const char *own = sym->name ? sym->name : "";
    for (size_t i = body; i < n;) {
        if (!static_ident_start(code[i]) || (i > 0 && static_ident_char(code[i - 1]))) {
            i++;
            continue;
        }
        char chain[STATIC_CHAIN_MAX];
        size_t last_at;
        size_t start = i;
        size_t end = static_read_chain(code, i, chain, sizeof chain, &last_at);
        const char *last = chain + last_at;
        size_t k = end;
        if (code[k] == ':' && code[k + 1] == ':' && code[k + 2] == '<') {
            size_t e = turbofish_end(code, k + 2);
            if (e) k = e + 1;
        }
        bool call = code[k] == '(';
        bool macro = fam == LANG_FAM_RUST && code[k] == '!' && code[k + 1] != '\0' &&
                     strchr("([{", code[k + 1]);
        bool dot_before = start > 0 && code[start - 1] == '.';
        if (call && last[0] && !static_in_list(last, keywords) && strcmp(last, own) != 0 &&
            !is_definition(&c, start, k))
            AE_CHECK(ae_strlist_push(&c.deps, last)); /* duplicates go after sorting */
        chain_site at = {.chain = chain,
                         .last = last,
                         .start = start,
                         .end = end,
                         .open = k,
                         .multi = strchr(chain, '.') != NULL,
                         .call = call,
                         .macro = macro,
                         .dot_before = dot_before};
        AE_CHECK(apply_rules(&c, &at));
        i = end > start ? end : start + 1;
    }
    AE_CHECK(apply_operators(&c));
    ae_strlist_sort(&c.deps);
    for (size_t d = 0; d < c.deps.len; d++) {
        bool dup = d > 0 && strcmp(c.deps.items[d], c.deps.items[d - 1]) == 0;
        if (!dup && out->dependencies.len < STATIC_MAX_DEPENDENCIES)
            AE_CHECK(static_push_unique(&out->dependencies, c.deps.items[d]));
    }
cleanup:
    ae_strlist_free(&c.deps);
    free(c.rows);
    free(c.closes);
    free(src);
    free(code);
    free(raw);
    return rc;
}
