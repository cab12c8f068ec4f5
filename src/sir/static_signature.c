/* A symbol's inputs and outputs from its signature text.
 *
 * 1. Inputs are the parameters after the symbol's name (past generics), split at top-level
 *    commas, defaults dropped, receivers (self, this, &mut self) skipped; Go's "a, b int"
 *    spreads the type over both names.
 * 2. Outputs by family: Go's result list or type, a TypeScript/Kotlin ": T", Rust/Python
 *    "-> T" (up to a Rust `where`), or the words before the name in C and Java with the
 *    modifiers (static, inline, public, ...) and attributes dropped.  "void", "()", "None"
 *    are no output. */
#include "sir/static_internal.h"

#include "util/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Index of the bracket closing the one at s[open], or 0 if it is not closed. */
static size_t match_close(const char *s, size_t open)
{
    int depth = 0;
    for (size_t i = open; s[i]; i++) {
        char c = s[i];
        if (c == '"' || c == '\'' || c == '`') {
            size_t k = i + 1;
            while (s[k] && s[k] != c)
                k += s[k] == '\\' && s[k + 1] ? 2 : 1;
            if (!s[k]) return 0;
            i = k;
        } else if (c == '(' || c == '[' || c == '{' || (c == '<' && s[open] == '<')) {
            depth++;
        } else if (c == ')' || c == ']' || c == '}' ||
                   (c == '>' && s[open] == '<' && s[i - 1] != '-' && s[i - 1] != '=')) {
            if (--depth == 0) return i;
        }
    }
    return 0;
}

/* Finds the parameter list: the '(' after the symbol's name (past generics), else the first
 * '('.  Returns false when there is none. */
static bool find_params(const char *sig, const char *name, size_t *open, size_t *close)
{
    size_t nl = name ? strlen(name) : 0;
    for (const char *p = nl ? strstr(sig, name) : NULL; p; p = strstr(p + 1, name)) {
        size_t at = (size_t)(p - sig);
        if ((at > 0 && static_ident_char(sig[at - 1])) || static_ident_char(sig[at + nl])) continue;
        size_t k = at + nl;
        while (isspace((unsigned char)sig[k]))
            k++;
        if (sig[k] == '<' || sig[k] == '[') {
            size_t e = match_close(sig, k);
            if (!e) continue;
            k = e + 1;
            while (isspace((unsigned char)sig[k]))
                k++;
        }
        if (sig[k] == '(') {
            size_t e = match_close(sig, k);
            if (!e) return false;
            *open = k;
            *close = e;
            return true;
        }
    }
    const char *paren = strchr(sig, '(');
    if (!paren) return false;
    *open = (size_t)(paren - sig);
    *close = match_close(sig, *open);
    return *close != 0;
}

/* Calls fn on each top-level comma-separated piece of s[0..n). */
static int split_top(const char *s, size_t n, int (*fn)(const char *, size_t, void *), void *ctx)
{
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? s[i] : ',';
        if (i < n && (c == '"' || c == '\'' || c == '`')) {
            size_t k = i + 1;
            while (k < n && s[k] != c)
                k += s[k] == '\\' ? 2 : 1;
            i = k < n ? k : n - 1;
        } else if (c == '(' || c == '[' || c == '{' || c == '<') {
            depth++;
        } else if (c == ')' || c == ']' || c == '}' ||
                   (c == '>' && !(i > 0 && (s[i - 1] == '-' || s[i - 1] == '=')))) {
            if (depth > 0) depth--;
        } else if (c == ',' && depth == 0) {
            AE_TRY(fn(s + start, i - start, ctx));
            start = i + 1;
        }
    }
    return 0;
}

static bool is_receiver(const char *p)
{
    static const char *const names[] = {"self", "&self", "&mut self", "mut self", "this",
                                        "cls",  "void",  "*",         "/",        NULL};
    if (static_in_list(p, names)) return true;
    if (p[0] == '&' && strlen(p) > 4 && strcmp(p + strlen(p) - 4, "self") == 0 &&
        !static_ident_char(p[strlen(p) - 5]) && p[strlen(p) - 5] != '_')
        return true; /* &'a self, &'a mut self */
    return strncmp(p, "self:", 5) == 0 || strncmp(p, "self :", 6) == 0 ||
           strncmp(p, "this:", 5) == 0 || strncmp(p, "this :", 6) == 0;
}

/* One parameter: whitespace collapsed, default value dropped, receivers skipped. */
static int add_param(const char *s, size_t n, void *ctx)
{
    ae_strlist *l = ctx;
    char *p = static_clean_text(s, n);
    if (!p) return AE_ENOMEM;
    int depth = 0;
    for (size_t i = 0; p[i]; i++) {
        char c = p[i];
        if (c == '(' || c == '[' || c == '{' || c == '<') depth++;
        if ((c == ')' || c == ']' || c == '}' || c == '>') && depth > 0) depth--;
        if (c == '=' && depth == 0 && p[i + 1] != '=' && p[i + 1] != '>' &&
            !(i > 0 && strchr("=!<>", p[i - 1]))) {
            while (i > 0 && p[i - 1] == ' ')
                i--;
            p[i] = '\0';
            break;
        }
    }
    int rc = 0;
    if (p[0] && !is_receiver(p)) {
        for (size_t i = 0; i < l->len; i++)
            if (strcmp(l->items[i], p) == 0) goto done;
        rc = ae_strlist_push_owned(l, p);
        p = NULL;
    }
done:
    free(p);
    return rc;
}

/* Go: "a, b int" names share the type written after the last of them. */
static int go_spread_types(ae_strlist *l)
{
    const char *type = NULL;
    for (size_t i = l->len; i-- > 0;) {
        char *p = l->items[i];
        const char *sp = strchr(p, ' ');
        if (sp) {
            type = sp + 1;
            continue;
        }
        bool ident = static_ident_start(p[0]);
        for (const char *q = p; *q && ident; q++)
            ident = static_ident_char(*q);
        if (type && ident) {
            char *np = ae_asprintf("%s %s", p, type);
            if (!np) return AE_ENOMEM;
            free(p);
            l->items[i] = np;
        }
    }
    return 0;
}

static bool is_no_value(const char *t)
{
    static const char *const none[] = {"void",  "()",   "None",  "none", "undefined",
                                       "never", "Unit", "-> ()", NULL};
    return static_in_list(t, none);
}

static int add_output(ae_strlist *outs, const char *s, size_t n)
{
    char *t = static_clean_text(s, n);
    if (!t) return AE_ENOMEM;
    int rc = 0;
    if (t[0] && !is_no_value(t)) rc = static_push_unique(outs, t);
    free(t);
    return rc;
}

/* Length of s up to the first top-level stop character, or up to " where". */
static size_t until_top(const char *s, const char *stops, bool stop_at_where)
{
    int depth = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c == '(' || c == '[' || c == '<') depth++;
        if ((c == ')' || c == ']' || (c == '>' && i > 0 && s[i - 1] != '-' && s[i - 1] != '=')) &&
            depth > 0)
            depth--;
        if (depth == 0 && strchr(stops, c)) return i;
        if (depth == 0 && c == '=' && s[i + 1] == '>') return i;
        if (stop_at_where && depth == 0 && i > 0 && isspace((unsigned char)s[i - 1]) &&
            strncmp(s + i, "where", 5) == 0 && !static_ident_char(s[i + 5]))
            return i;
    }
    return strlen(s);
}

/* The words before the name in a C-family or Java signature, without modifiers. */
static int prefix_return_type(const char *sig, size_t name_at, ae_strlist *outs)
{
    static const char *const modifiers[] = {
        "static",       "inline",    "__inline", "__inline__", "extern", "virtual",
        "explicit",     "public",    "private",  "protected",  "final",  "abstract",
        "synchronized", "native",    "override", "constexpr",  "friend", "_Noreturn",
        "noreturn",     "AE_STATIC", "internal", "sealed",     "async",  "unsafe",
        "default",      "open",      "suspend",  "fun",        "def",    NULL,
    };
    ae_buf b = {0};
    size_t i = 0;
    int rc = 0;
    while (i < name_at && rc == 0) {
        if (isspace((unsigned char)sig[i])) {
            i++;
            continue;
        }
        if (sig[i] == '<' && b.len == 0) { /* Java generic method parameters */
            size_t e = match_close(sig, i);
            if (!e || e >= name_at) break;
            i = e + 1;
            continue;
        }
        size_t start = i;
        if (static_ident_start(sig[i])) {
            while (i < name_at && static_ident_char(sig[i]))
                i++;
        } else {
            i++;
        }
        size_t len = i - start;
        char word[32];
        if (len < sizeof word && static_ident_start(sig[start])) {
            memcpy(word, sig + start, len);
            word[len] = '\0';
            if (static_in_list(word, modifiers)) continue;
            if (strcmp(word, "__attribute__") == 0 || strcmp(word, "__declspec") == 0) {
                while (i < name_at && isspace((unsigned char)sig[i]))
                    i++;
                if (sig[i] == '(') {
                    size_t e = match_close(sig, i);
                    i = e ? e + 1 : name_at;
                }
                continue;
            }
        }
        if (b.len && (static_ident_start(sig[start]) || isspace((unsigned char)sig[start - 1])))
            rc = ae_buf_append(&b, " ", 1);
        if (rc == 0) rc = ae_buf_append(&b, sig + start, len);
    }
    if (rc == 0 && b.len) {
        /* drop a trailing "Class::" qualifier of the name */
        while (b.len >= 2 && b.data[b.len - 1] == ':' && b.data[b.len - 2] == ':') {
            b.len -= 2;
            while (b.len && static_ident_char(b.data[b.len - 1]))
                b.len--;
            while (b.len && b.data[b.len - 1] == ' ')
                b.len--;
            b.data[b.len] = '\0';
        }
        rc = add_output(outs, b.data, b.len);
    }
    ae_buf_free(&b);
    return rc;
}

int static_signature(const ae_symbol *sym, lang_family fam, ae_strlist *inputs, ae_strlist *outputs)
{
    const char *sig = sym->signature;
    if (!sig || !sig[0] || static_is_type_kind(sym->kind)) return 0;
    size_t open, close;
    if (!find_params(sig, sym->name, &open, &close)) return 0;
    AE_TRY(split_top(sig + open + 1, close - open - 1, add_param, inputs));
    if (fam == LANG_FAM_GO) AE_TRY(go_spread_types(inputs));
    if (sym->kind && strcmp(sym->kind, "macro") == 0) return 0;

    const char *rest = sig + close + 1;
    while (isspace((unsigned char)*rest))
        rest++;
    switch (fam) {
    case LANG_FAM_GO: {
        size_t n = until_top(rest, "{", false);
        while (n > 0 && isspace((unsigned char)rest[n - 1]))
            n--;
        if (n >= 2 && rest[0] == '(' && match_close(rest, 0) == n - 1) {
            ae_strlist results = {0};
            int rc = split_top(rest + 1, n - 2, add_param, &results);
            if (rc == 0) rc = go_spread_types(&results);
            for (size_t i = 0; rc == 0 && i < results.len; i++)
                rc = static_push_unique(outputs, results.items[i]);
            ae_strlist_free(&results);
            return rc;
        }
        return add_output(outputs, rest, n);
    }
    case LANG_FAM_JS:
        if (rest[0] == ':') {
            rest++;
            return add_output(outputs, rest, until_top(rest, "{;", false));
        }
        return 0;
    case LANG_FAM_C:
    case LANG_FAM_JAVA: {
        if (rest[0] == ':' && fam == LANG_FAM_JAVA) { /* Kotlin/Scala "fun f(): T" */
            rest++;
            return add_output(outputs, rest, until_top(rest, "{=", false));
        }
        size_t name_at = open;
        while (name_at > 0 && isspace((unsigned char)sig[name_at - 1]))
            name_at--;
        while (name_at > 0 && static_ident_char(sig[name_at - 1]))
            name_at--;
        return prefix_return_type(sig, name_at, outputs);
    }
    default:
        if (strncmp(rest, "->", 2) == 0) {
            rest += 2;
            size_t n = until_top(rest, fam == LANG_FAM_PY ? "{:" : "{;", fam == LANG_FAM_RUST);
            return add_output(outputs, rest, n);
        }
        return 0;
    }
}
