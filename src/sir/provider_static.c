/* The static SIR provider: the offline default, a useful record without a model.
 *
 * What is unusual here:
 * 1. It reads code with patterns, not a parser.  Comments are blanked first and string contents
 *    are blanked for identifier scanning, both by the language layer's lexer (src/lang, the
 *    one symbols/span.c reads with).  Offsets are kept, so a match in the blanked copy can
 *    look at the literal text, e.g. the mode string of fopen/open.  It is meant to be honest
 *    rather than complete: a side effect is listed only when a known call is seen.
 * 2. Calls are read as "chains": `a.b.c(` and `a::b::c(` normalise to "a.b.c"; rules match a
 *    chain by whole-segment suffix ("fs.write" matches `std::fs::write(` and `fs.write(`).
 * 3. Everything is deterministic: lists are sorted, dependencies are capped at
 *    STATIC_MAX_DEPENDENCIES (the alphabetically first ones), and invalid UTF-8 from the source
 *    is replaced by '?' so the record always validates.
 * 4. A definition is not a call: names after def/fn/func/function, and (in C, JS/TS, Java, whose
 *    conditions are parenthesised) `name(...) {` are skipped; declaration-only kinds (struct,
 *    enum, trait, interface, type alias) get no body analysis at all.
 * 5. Time is linear in the span: brackets are matched once into a table, lookahead windows are
 *    bounded (STATIC_WINDOW), and at most STATIC_MAX_SOURCE bytes of a span are read. */
#include "sir/provider.h"

#include "lang/lang.h"
#include "sir/sir_internal.h"

#include "util/err.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STATIC_MAX_DEPENDENCIES 32
#define STATIC_MAX_INTENT       200
#define STATIC_CHAIN_MAX        256
#define STATIC_MAX_LIST         64        /* error modes, side effects */
#define STATIC_MAX_SOURCE       (1 << 20) /* bytes of a body read; the rest is ignored */
#define STATIC_TURBOFISH_MAX    256       /* bytes of a `::<...>` looked through */
#define STATIC_WINDOW           4096      /* bytes of a call's arguments or a statement read */
#define STATIC_SIGNATURE_LINES  64        /* lines of a span searched for its signature */
#define STATIC_CONFIDENCE_DOC   0.6
#define STATIC_CONFIDENCE_NAME  0.4

static bool is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == '$';
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

/* ---- output lists ------------------------------------------------------------------------- */

/* Copies s[0..n) with whitespace runs collapsed, trimmed, invalid UTF-8 bytes as '?'. */
static char *clean_text(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i])) {
            space = o > 0;
            continue;
        }
        if (space) out[o++] = ' ';
        space = false;
        out[o++] = s[i];
    }
    out[o] = '\0';
    for (size_t i = 0; out[i];) {
        i += sir_utf8_valid_prefix(out + i);
        if (out[i]) out[i++] = '?';
    }
    return out;
}

/* Appends s (cleaned) unless empty or already present. */
static int push_unique_n(ae_strlist *l, const char *s, size_t n)
{
    char *c = clean_text(s, n);
    if (!c) return AE_ENOMEM;
    if (!c[0]) {
        free(c);
        return 0;
    }
    for (size_t i = 0; i < l->len; i++) {
        if (strcmp(l->items[i], c) == 0) {
            free(c);
            return 0;
        }
    }
    return ae_strlist_push_owned(l, c);
}

static int push_unique(ae_strlist *l, const char *s)
{
    return push_unique_n(l, s, strlen(s));
}

/* ---- the intent --------------------------------------------------------------------------- */

static bool abbreviation_before(const char *buf, size_t len)
{
    static const char *const abbr[] = {"e.g", "i.e", "etc", "vs", "approx", "cf", NULL};
    size_t start = len;
    while (start > 0 && buf[start - 1] != ' ')
        start--;
    char word[16];
    size_t wl = len - start;
    if (wl == 0 || wl >= sizeof word) return false;
    for (size_t i = 0; i < wl; i++)
        word[i] = (char)tolower((unsigned char)buf[start + i]);
    word[wl] = '\0';
    return in_list(word, abbr);
}

/* Cuts an over-long sentence at a word boundary and marks the cut with "...". */
static void truncate_intent(char *s)
{
    size_t len = strlen(s);
    if (len <= STATIC_MAX_INTENT) return;
    size_t cut = STATIC_MAX_INTENT - 3;
    size_t sp = cut;
    while (sp > 0 && s[sp] != ' ')
        sp--;
    if (sp > cut / 2) {
        cut = sp;
    } else {
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    while (cut > 0 && (s[cut - 1] == ' ' || s[cut - 1] == ','))
        cut--;
    memcpy(s + cut, "...", 4);
}

/* The first sentence of a doc comment, whitespace collapsed, at most STATIC_MAX_INTENT bytes;
 * NULL (and 0) when the doc is blank, AE_ENOMEM on failure. */
AE_STATIC int static_doc_sentence(const char *doc, char **out)
{
    *out = NULL;
    if (!doc) return 0;
    while (isspace((unsigned char)*doc))
        doc++;
    static const char *const brief[] = {"@brief", "\\brief", "@summary", NULL};
    for (const char *const *b = brief; *b; b++) {
        size_t bl = strlen(*b);
        if (strncmp(doc, *b, bl) == 0 && isspace((unsigned char)doc[bl])) doc += bl;
    }
    size_t n = strlen(doc);
    char *buf = malloc(n + 1);
    if (!buf) return AE_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = doc[i];
        if (isspace((unsigned char)c)) {
            int newlines = 0;
            while (i < n && isspace((unsigned char)doc[i]))
                newlines += doc[i++] == '\n';
            i--;
            if (newlines >= 2 && o > 0) break; /* paragraph end */
            if (o > 0) buf[o++] = ' ';
            continue;
        }
        buf[o++] = c;
        if ((c == '.' || c == '!' || c == '?') &&
            (i + 1 == n || isspace((unsigned char)doc[i + 1])) &&
            !(c == '.' && abbreviation_before(buf, o - 1)))
            break;
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
    if (o == 0) {
        free(buf);
        return 0;
    }
    truncate_intent(buf);
    char *clean = clean_text(buf, strlen(buf));
    free(buf);
    if (!clean) return AE_ENOMEM;
    *out = clean;
    return 0;
}

/* Splits an identifier into words: snake_case, kebab-case, camelCase, PascalCase and acronyms
 * ("parseHTTPRequest" -> parse HTTP request).  Acronyms keep their case unless the whole name is
 * upper case; other words are lower-cased. */
AE_STATIC int static_name_words(const char *name, ae_strlist *words)
{
    bool any_lower = false;
    for (const char *p = name; *p; p++)
        any_lower |= islower((unsigned char)*p) != 0;
    size_t n = strlen(name);
    size_t i = 0;
    while (i < n) {
        if (!isalnum((unsigned char)name[i])) {
            i++;
            continue;
        }
        size_t start = i++;
        while (i < n && isalnum((unsigned char)name[i])) {
            char p = name[i - 1], c = name[i], nx = i + 1 < n ? name[i + 1] : '\0';
            bool up = isupper((unsigned char)c);
            if (up && (islower((unsigned char)p) || isdigit((unsigned char)p))) break;
            if (up && isupper((unsigned char)p) && islower((unsigned char)nx)) break;
            i++;
        }
        size_t len = i - start;
        char *w = ae_strndup(name + start, len);
        if (!w) return AE_ENOMEM;
        bool acronym = len >= 2 && any_lower;
        for (size_t k = 0; k < len && acronym; k++)
            acronym = !islower((unsigned char)w[k]);
        if (!acronym)
            for (size_t k = 0; k < len; k++)
                w[k] = (char)tolower((unsigned char)w[k]);
        AE_TRY(ae_strlist_push_owned(words, w));
    }
    return 0;
}

/* Third person singular of a verb stem ("parse" -> "parses", "apply" -> "applies"). */
static void third_person(const char *verb, ae_buf *b, int *rc)
{
    static const struct {
        const char *stem, *form;
    } irregular[] = {
        {"do", "does"},           {"go", "goes"},
        {"init", "initializes"},  {"alloc", "allocates"},
        {"calc", "calculates"},   {"gen", "generates"},
        {"del", "deletes"},       {"rm", "removes"},
        {"exec", "executes"},     {"eval", "evaluates"},
        {"cmp", "compares"},      {"dup", "duplicates"},
        {"fmt", "formats"},       {"mk", "makes"},
        {"setup", "sets up"},     {"teardown", "tears down"},
        {"cleanup", "cleans up"},
    };
    for (size_t i = 0; i < sizeof irregular / sizeof irregular[0]; i++) {
        if (strcmp(verb, irregular[i].stem) == 0) {
            if (*rc == 0) *rc = ae_buf_puts(b, irregular[i].form);
            return;
        }
    }
    size_t n = strlen(verb);
    char last = verb[n - 1], prev = n > 1 ? verb[n - 2] : '\0';
    if (*rc) return;
    if (last == 'y' && !strchr("aeiou", prev)) {
        *rc = ae_buf_printf(b, "%.*sies", (int)(n - 1), verb);
    } else if (last == 's' || last == 'x' || last == 'z' ||
               (last == 'h' && (prev == 's' || prev == 'c'))) {
        *rc = ae_buf_printf(b, "%ses", verb);
    } else {
        *rc = ae_buf_printf(b, "%ss", verb);
    }
}

static const char *const verbs[] = {
    "accept",     "add",        "aggregate",  "alert",       "align",       "alloc",
    "allocate",   "allow",      "annotate",   "announce",    "append",      "apply",
    "approve",    "archive",    "assert",     "assign",      "attach",      "authenticate",
    "authorize",  "backup",     "batch",      "begin",       "bind",        "block",
    "broadcast",  "build",      "bundle",     "cache",       "calc",        "calculate",
    "call",       "cancel",     "capture",    "cast",        "check",       "chunk",
    "clamp",      "classify",   "clean",      "cleanup",     "clear",       "clone",
    "close",      "cmp",        "coerce",     "collapse",    "collect",     "combine",
    "commit",     "compact",    "compare",    "compile",     "complete",    "compress",
    "compute",    "configure",  "confirm",    "connect",     "consolidate", "construct",
    "consume",    "convert",    "copy",       "count",       "crawl",       "create",
    "debug",      "declare",    "decode",     "decompress",  "decorate",    "decrement",
    "decrypt",    "define",     "del",        "delete",      "deny",        "deploy",
    "dequeue",    "derive",     "describe",   "deserialize", "destroy",     "detach",
    "detect",     "determine",  "diff",       "disable",     "discard",     "disconnect",
    "dispatch",   "display",    "divide",     "do",          "download",    "drain",
    "draw",       "drop",       "dump",       "dup",         "edit",        "embed",
    "emit",       "enable",     "encode",     "encrypt",     "enqueue",     "ensure",
    "enter",      "equal",      "escape",     "estimate",    "eval",        "evaluate",
    "evict",      "exec",       "execute",    "exit",        "expand",      "expire",
    "explain",    "export",     "extend",     "extract",     "fail",        "fetch",
    "fill",       "filter",     "finalize",   "find",        "finish",      "fit",
    "fix",        "flatten",    "flip",       "flush",       "fmt",         "fold",
    "follow",     "force",      "format",     "forward",     "free",        "freeze",
    "fuse",       "gather",     "gen",        "generate",    "get",         "greet",
    "group",      "grow",       "guard",      "handle",      "hash",        "hide",
    "highlight",  "identify",   "ignore",     "import",      "include",     "increment",
    "init",       "initialize", "inject",     "insert",      "inspect",     "install",
    "interpret",  "intersect",  "invalidate", "invoke",      "issue",       "iterate",
    "join",       "keep",       "kick",       "kill",        "label",       "launch",
    "layout",     "leave",      "lex",        "limit",       "link",        "lint",
    "list",       "listen",     "load",       "locate",      "lock",        "log",
    "login",      "logout",     "lookup",     "make",        "manage",      "map",
    "mark",       "match",      "maximize",   "measure",     "merge",       "migrate",
    "minimize",   "mk",         "modify",     "mount",       "move",        "multiply",
    "mutate",     "negate",     "normalize",  "notify",      "observe",     "obtain",
    "offer",      "open",       "order",      "pack",        "package",     "pad",
    "paint",      "parse",      "partition",  "patch",       "pause",       "peek",
    "perform",    "persist",    "pick",       "pin",         "ping",        "pipe",
    "plan",       "play",       "plot",       "poll",        "pop",         "populate",
    "post",       "predict",    "prefetch",   "preload",     "prepare",     "preprocess",
    "preserve",   "prevent",    "print",      "probe",       "process",     "produce",
    "project",    "promote",    "prompt",     "protect",     "provide",     "proxy",
    "prune",      "publish",    "pull",       "push",        "put",         "query",
    "queue",      "quote",      "raise",      "rank",        "reach",       "read",
    "rebase",     "rebuild",    "receive",    "recompute",   "record",      "recover",
    "redact",     "redirect",   "redo",       "reduce",      "refine",      "reflect",
    "refresh",    "register",   "reindex",    "reject",      "relate",      "release",
    "reload",     "remap",      "remove",     "rename",      "render",      "reorder",
    "repair",     "repeat",     "replace",    "replay",      "replicate",   "reply",
    "report",     "request",    "require",    "reserve",     "reset",       "resize",
    "resolve",    "respond",    "restore",    "resume",      "retain",      "retrieve",
    "retry",      "return",     "reverse",    "revert",      "rewrite",     "rm",
    "rollback",   "rotate",     "round",      "route",       "run",         "sample",
    "sanitize",   "save",       "say",        "scale",       "scan",        "schedule",
    "score",      "seal",       "search",     "seed",        "seek",        "select",
    "send",       "serialize",  "serve",      "set",         "setup",       "shard",
    "shift",      "show",       "shrink",     "shuffle",     "shutdown",    "sign",
    "signal",     "simulate",   "skip",       "sleep",       "slice",       "snapshot",
    "solve",      "sort",       "spawn",      "speak",       "specify",     "split",
    "squash",     "stage",      "start",      "stash",       "step",        "stop",
    "store",      "stream",     "strip",      "stub",        "submit",      "subscribe",
    "substitute", "subtract",   "suggest",    "sum",         "summarize",   "supply",
    "suspend",    "swap",       "sync",       "tag",         "teardown",    "test",
    "throttle",   "tick",       "tidy",       "toggle",      "tokenize",    "trace",
    "track",      "train",      "transfer",   "transform",   "translate",   "traverse",
    "trigger",    "trim",       "truncate",   "try",         "unbind",      "unblock",
    "undo",       "unify",      "unlock",     "unmount",     "unpack",      "unregister",
    "unset",      "untar",      "unwrap",     "unzip",       "update",      "upgrade",
    "upload",     "upsert",     "use",        "validate",    "verify",      "view",
    "visit",      "wait",       "wake",       "walk",        "warm",        "warn",
    "watch",      "wire",       "wrap",       "write",       "yield",       "zip",
    NULL,
};

static const char *const type_kinds[] = {
    "class",      "struct",    "enum",  "union",  "typedef", "type",
    "type_alias", "typealias", "alias", "record", "object",  NULL,
};
/* Kinds whose span only declares (fields, variants, method signatures): no body to read. */
static const char *const declaration_kinds[] = {
    "struct", "enum",  "union",     "typedef",  "type",   "type_alias", "typealias",
    "alias",  "trait", "interface", "protocol", "record", NULL,
};
static const char *const contract_kinds[] = {"trait", "interface", "protocol", NULL};
static const char *const callable_kinds[] = {
    "function", "func",   "fn",     "method",     "member",    "prototype", "constructor",
    "macro",    "getter", "setter", "subroutine", "procedure", NULL,
};

static bool is_type_kind(const char *kind)
{
    if (!kind) return false;
    static const char *const others[] = {
        "module", "namespace", "package",    "variable", "var",   "constant",  "const",
        "field",  "property",  "enumerator", "static",   "local", "parameter", NULL};
    return in_list(kind, type_kinds) || in_list(kind, contract_kinds) || in_list(kind, others);
}

/* Appends " " + words [from, to) (nothing when the range is empty). */
static int put_range(ae_buf *b, const ae_strlist *w, size_t from, size_t to)
{
    for (size_t i = from; i < to && i < w->len; i++) {
        AE_TRY(ae_buf_append(b, " ", 1));
        AE_TRY(ae_buf_puts(b, w->items[i]));
    }
    return 0;
}

static int put_words(ae_buf *b, const ae_strlist *w, size_t from)
{
    for (size_t i = from; i < w->len; i++) {
        if (i > from) AE_TRY(ae_buf_append(b, " ", 1));
        AE_TRY(ae_buf_puts(b, w->items[i]));
    }
    return 0;
}

static bool is_predicate(const char *w)
{
    return strcmp(w, "is") == 0 || strcmp(w, "has") == 0 || strcmp(w, "can") == 0 ||
           strcmp(w, "should") == 0;
}

/* A verb after leading words: "ae_buf_append" -> "appends buf", "node_is_leaf" -> "checks
 * whether node is leaf", "ae_path_exists" -> "checks whether path exists".  A short first word
 * of three or more is taken for a namespace prefix ("ae", "np") and left out. */
static int later_verb_phrase(ae_buf *b, const ae_strlist *w, size_t vi)
{
    size_t skip = strlen(w->items[0]) <= 3 && w->len >= 3 ? 1 : 0;
    const char *v = w->items[vi];
    if (strcmp(v, "exists") == 0 || is_predicate(v)) {
        AE_TRY(ae_buf_puts(b, " that checks whether"));
        if (skip < vi) {
            AE_TRY(put_range(b, w, skip, vi));
        } else {
            AE_TRY(ae_buf_puts(b, " it"));
        }
        return put_range(b, w, vi, w->len);
    }
    int rc = ae_buf_puts(b, " that ");
    third_person(v, b, &rc);
    if (rc == 0) rc = put_range(b, w, vi + 1, w->len);
    if (rc == 0) rc = put_range(b, w, skip, vi);
    return rc;
}

/* The segment of a qualified name before the last "::" or '.', or NULL. */
static char *parent_scope(const char *qualified)
{
    if (!qualified) return NULL;
    const char *end = NULL;
    for (const char *p = qualified; *p; p++)
        if ((p[0] == ':' && p[1] == ':') || p[0] == '.') end = p;
    if (!end) return NULL;
    const char *start = end;
    while (start > qualified && start[-1] != ':' && start[-1] != '.')
        start--;
    return start < end ? ae_strndup(start, (size_t)(end - start)) : NULL;
}

static int buf_reset_label(ae_buf *b, const char *label)
{
    b->len = 0;
    return ae_buf_puts(b, label);
}

/* "Function that parses config file." built from the name's words and the kind. */
AE_STATIC int static_name_sentence(const ae_symbol *sym, bool has_output, char **out)
{
    *out = NULL;
    ae_strlist w = {0};
    ae_buf b = {0};
    char *parent = parent_scope(sym->qualified_name);
    const char *kind = sym->kind ? sym->kind : "symbol";
    const char *name = sym->name ? sym->name : sym->qualified_name;
    int rc = static_name_words(name ? name : "", &w);
    if (rc < 0) goto cleanup;

    /* the kind as a capitalised label */
    const char *label = kind;
    if (strcmp(kind, "func") == 0 || strcmp(kind, "fn") == 0 || strcmp(kind, "prototype") == 0)
        label = "function";
    else if (strcmp(kind, "member") == 0)
        label = "method";
    for (const char *p = label; *p && rc == 0; p++) {
        char c = p == label ? (char)toupper((unsigned char)*p) : (*p == '_' ? ' ' : *p);
        rc = ae_buf_append(&b, &c, 1);
    }
    if (rc < 0) goto cleanup;

    const char *w0 = w.len ? w.items[0] : "";
    bool rest = w.len > 1;
    bool callable = in_list(kind, callable_kinds) || !is_type_kind(kind);
    if (w.len == 0) {
        /* just the label */
    } else if (strcmp(kind, "constructor") == 0 ||
               (callable && name &&
                (strcmp(name, "constructor") == 0 || strcmp(name, "__init__") == 0 ||
                 strcmp(name, "__new__") == 0 || (parent && strcmp(name, parent) == 0)))) {
        rc = buf_reset_label(&b, "Constructor");
        if (rc == 0) rc = ae_buf_puts(&b, " for ");
        if (rc == 0) rc = parent ? ae_buf_puts(&b, parent) : put_words(&b, &w, 0);
    } else if (in_list(kind, type_kinds)) {
        rc = ae_buf_puts(&b, " representing ");
        if (rc == 0) rc = put_words(&b, &w, 0);
    } else if (in_list(kind, contract_kinds)) {
        rc = ae_buf_puts(&b, " describing ");
        if (rc == 0) rc = put_words(&b, &w, 0);
    } else if (!callable) {
        rc = ae_buf_puts(&b, " for ");
        if (rc == 0) rc = put_words(&b, &w, 0);
    } else if (strcmp(w0, "new") == 0) {
        rc = ae_buf_puts(&b, " that creates a new ");
        if (rc == 0)
            rc = rest ? put_words(&b, &w, 1) : ae_buf_puts(&b, parent ? parent : "instance");
    } else if (is_predicate(w0)) {
        rc = ae_buf_printf(&b, " that checks whether it %s", w0);
        if (rc == 0 && rest) rc = ae_buf_append(&b, " ", 1);
        if (rc == 0) rc = put_words(&b, &w, 1);
    } else if (rest && (strcmp(w0, "to") == 0 || strcmp(w0, "into") == 0 || strcmp(w0, "as") == 0 ||
                        strcmp(w0, "from") == 0 || strcmp(w0, "on") == 0)) {
        const char *phrase = strcmp(w0, "to") == 0     ? " that converts to "
                             : strcmp(w0, "into") == 0 ? " that converts into "
                             : strcmp(w0, "as") == 0   ? " that views it as "
                             : strcmp(w0, "from") == 0 ? " that builds it from "
                                                       : " that handles ";
        rc = ae_buf_puts(&b, phrase);
        if (rc == 0) rc = put_words(&b, &w, 1);
    } else if (in_list(w0, verbs)) {
        rc = ae_buf_puts(&b, " that ");
        third_person(w0, &b, &rc);
        if (rc == 0 && rest) rc = ae_buf_append(&b, " ", 1);
        if (rc == 0) rc = put_words(&b, &w, 1);
    } else {
        size_t vi = 0;
        for (size_t i = 1; i < w.len && i < 3 && !vi; i++)
            if (in_list(w.items[i], verbs) || is_predicate(w.items[i]) ||
                strcmp(w.items[i], "exists") == 0)
                vi = i;
        if (vi) {
            rc = later_verb_phrase(&b, &w, vi);
        } else {
            rc = ae_buf_puts(&b, has_output ? " that returns " : " for ");
            if (rc == 0) rc = put_words(&b, &w, 0);
        }
    }
    if (rc == 0) rc = ae_buf_append(&b, ".", 1);
    if (rc < 0) goto cleanup;
    *out = clean_text(b.data, b.len);
    if (!*out) rc = AE_ENOMEM;
cleanup:
    ae_buf_free(&b);
    ae_strlist_free(&w);
    free(parent);
    return rc;
}

/* ---- signature: inputs and outputs -------------------------------------------------------- */

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
        if ((at > 0 && is_ident_char(sig[at - 1])) || is_ident_char(sig[at + nl])) continue;
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
    if (in_list(p, names)) return true;
    if (p[0] == '&' && strlen(p) > 4 && strcmp(p + strlen(p) - 4, "self") == 0 &&
        !is_ident_char(p[strlen(p) - 5]) && p[strlen(p) - 5] != '_')
        return true; /* &'a self, &'a mut self */
    return strncmp(p, "self:", 5) == 0 || strncmp(p, "self :", 6) == 0 ||
           strncmp(p, "this:", 5) == 0 || strncmp(p, "this :", 6) == 0;
}

/* One parameter: whitespace collapsed, default value dropped, receivers skipped. */
static int add_param(const char *s, size_t n, void *ctx)
{
    ae_strlist *l = ctx;
    char *p = clean_text(s, n);
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
        bool ident = is_ident_start(p[0]);
        for (const char *q = p; *q && ident; q++)
            ident = is_ident_char(*q);
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
    return in_list(t, none);
}

static int add_output(ae_strlist *outs, const char *s, size_t n)
{
    char *t = clean_text(s, n);
    if (!t) return AE_ENOMEM;
    int rc = 0;
    if (t[0] && !is_no_value(t)) rc = push_unique(outs, t);
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
            strncmp(s + i, "where", 5) == 0 && !is_ident_char(s[i + 5]))
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
        if (is_ident_start(sig[i])) {
            while (i < name_at && is_ident_char(sig[i]))
                i++;
        } else {
            i++;
        }
        size_t len = i - start;
        char word[32];
        if (len < sizeof word && is_ident_start(sig[start])) {
            memcpy(word, sig + start, len);
            word[len] = '\0';
            if (in_list(word, modifiers)) continue;
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
        if (b.len && (is_ident_start(sig[start]) || isspace((unsigned char)sig[start - 1])))
            rc = ae_buf_append(&b, " ", 1);
        if (rc == 0) rc = ae_buf_append(&b, sig + start, len);
    }
    if (rc == 0 && b.len) {
        /* drop a trailing "Class::" qualifier of the name */
        while (b.len >= 2 && b.data[b.len - 1] == ':' && b.data[b.len - 2] == ':') {
            b.len -= 2;
            while (b.len && is_ident_char(b.data[b.len - 1]))
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

AE_STATIC int static_signature(const ae_symbol *sym, lang_family fam, ae_strlist *inputs,
                               ae_strlist *outputs)
{
    const char *sig = sym->signature;
    if (!sig || !sig[0] || is_type_kind(sym->kind)) return 0;
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
                rc = push_unique(outputs, results.items[i]);
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
        while (name_at > 0 && is_ident_char(sig[name_at - 1]))
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

/* ---- body: dependencies, error modes, side effects ---------------------------------------- */

typedef struct body_ctx {
    const ae_symbol *sym;
    lang_family fam;
    const char *code; /* comments and string contents blanked */
    const char *raw;  /* comments blanked, strings kept; same offsets as code */
    uint32_t *closes; /* closes[i]: index of the bracket closing the one at code[i], or 0 */
    ae_sir *out;
    ae_strlist deps;
} body_ctx;

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

static size_t skip_space(const char *s, size_t i)
{
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    return i;
}

/* Reads an identifier chain (a.b::c) at s[i] into buf; returns its end. */
static size_t read_chain(const char *s, size_t i, char *buf, size_t cap, size_t *last_at)
{
    size_t o = 0;
    *last_at = 0;
    for (;;) {
        *last_at = o;
        while (is_ident_char(s[i])) {
            if (o + 1 < cap) buf[o++] = s[i];
            i++;
        }
        if (s[i] == '.' && is_ident_start(s[i + 1])) {
            i += 1;
        } else if (s[i] == ':' && s[i + 1] == ':' && is_ident_start(s[i + 2])) {
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
static void call_args(const body_ctx *c, size_t open, size_t *a, size_t *b)
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

static bool args_contain(const body_ctx *c, size_t open, const char *const *words)
{
    size_t a, b;
    call_args(c, open, &a, &b);
    for (; *words; words++) {
        size_t wl = strlen(*words);
        for (size_t i = a; i + wl <= b; i++)
            if (strncmp(c->code + i, *words, wl) == 0 && !is_ident_char(c->code[i + wl]) &&
                (i == 0 || !is_ident_char(c->code[i - 1])))
                return true;
    }
    return false;
}

/* 1 if the call has a file-mode string literal that writes ("w", "a+", "x"), 0 if it has a
 * read-only one or none. */
static int mode_writes(const body_ctx *c, size_t open)
{
    size_t a, b;
    call_args(c, open, &a, &b);
    for (size_t i = a; i < b; i++) {
        char q = c->raw[i];
        if (q != '"' && q != '\'') continue;
        size_t k = i + 1;
        while (k < b && c->raw[k] != q)
            k++;
        size_t len = k - i - 1;
        if (len >= 1 && len <= 4 && strspn(c->raw + i + 1, "rwabxtU+") >= len &&
            strcspn(c->raw + i + 1, "wax+") < len)
            return 1;
        i = k;
    }
    return 0;
}

static int effect(body_ctx *c, const char *what)
{
    if (c->out->side_effects.len >= STATIC_MAX_LIST) return 0;
    return push_unique(&c->out->side_effects, what);
}

static int error_mode(body_ctx *c, const char *what)
{
    if (c->out->error_modes.len >= STATIC_MAX_LIST) return 0;
    return push_unique(&c->out->error_modes, what);
}

/* Go: "return ..., err" / "return fmt.Errorf(...)": the last returned value names an error. */
static bool go_returns_error(const body_ctx *c, size_t i)
{
    const char *s = c->code;
    size_t end = i;
    int depth = 0;
    size_t last_comma = i;
    for (; s[end] && end - i < STATIC_WINDOW; end++) {
        char ch = s[end];
        if (ch == '(' || ch == '[' || ch == '{') depth++;
        if (ch == ')' || ch == ']' || ch == '}') {
            if (depth == 0) break;
            depth--;
        }
        if (depth == 0 && (ch == '\n' || ch == ';')) break;
        if (depth == 0 && ch == ',') last_comma = end + 1;
    }
    size_t k = skip_space(s, last_comma);
    if (!is_ident_start(s[k])) return false;
    char chain[STATIC_CHAIN_MAX];
    size_t last_at;
    read_chain(s, k, chain, sizeof chain, &last_at);
    for (char *p = chain; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return strstr(chain, "err") != NULL;
}

static int rule_keyword(body_ctx *c, const char *chain, size_t k)
{
    const char *s = c->code;
    lang_family fam = c->fam;
    char buf[STATIC_CHAIN_MAX];
    size_t last_at;
    size_t j = skip_space(s, k);
    if (strcmp(chain, "return") == 0) {
        if (fam == LANG_FAM_GO && go_returns_error(c, k)) return error_mode(c, "returns error");
        if (fam == LANG_FAM_C) {
            while (s[j] == '(' || s[j] == ' ')
                j++;
            if (starts(s + j, "-1") && !isdigit((unsigned char)s[j + 2]))
                return error_mode(c, "returns -1 on error");
            if (starts(s + j, "NULL") && !is_ident_char(s[j + 4]))
                return error_mode(c, "returns NULL on error");
            if (starts(s + j, "nullptr") && !is_ident_char(s[j + 7]))
                return error_mode(c, "returns nullptr on error");
        }
    } else if (strcmp(chain, "raise") == 0 && fam == LANG_FAM_PY) {
        if (!is_ident_start(s[j])) return error_mode(c, "re-raises exceptions");
        read_chain(s, j, buf, sizeof buf, &last_at);
        char *m = ae_asprintf("raises %s", buf);
        int rc = m ? error_mode(c, m) : AE_ENOMEM;
        free(m);
        return rc;
    } else if (strcmp(chain, "throw") == 0 &&
               (fam == LANG_FAM_JS || fam == LANG_FAM_JAVA || fam == LANG_FAM_C)) {
        if (starts(s + j, "new") && !is_ident_char(s[j + 3])) j = skip_space(s, j + 3);
        if (!is_ident_start(s[j])) return error_mode(c, "throws");
        read_chain(s, j, buf, sizeof buf, &last_at);
        if (!isupper((unsigned char)buf[last_at])) return error_mode(c, "throws");
        char *m = ae_asprintf("throws %s", buf);
        int rc = m ? error_mode(c, m) : AE_ENOMEM;
        free(m);
        return rc;
    } else if (fam == LANG_FAM_PY &&
               (strcmp(chain, "global") == 0 || strcmp(chain, "nonlocal") == 0) && j > k &&
               is_ident_start(s[j])) {
        return effect(c, "mutates global state");
    } else if (fam == LANG_FAM_PY && strcmp(chain, "assert") == 0 && j > k) {
        return error_mode(c, "raises AssertionError");
    } else if (fam == LANG_FAM_C && strcmp(chain, "errno") == 0 && s[j] == '=' && s[j + 1] != '=') {
        return error_mode(c, "sets errno");
    }
    return 0;
}

static bool is_network(const char *chain, const char *last, bool call)
{
    static const char *const modules[] = {"reqwest",  "hyper", "urllib",    "urllib2", "urllib3",
                                          "requests", "httpx", "aiohttp",   "axios",   "socket",
                                          "grpc",     "net",   "websocket", NULL};
    static const char *const types[] = {
        "TcpStream", "TcpListener",  "UdpSocket",     "XMLHttpRequest",    "WebSocket",
        "Socket",    "ServerSocket", "URLConnection", "HttpURLConnection", NULL};
    static const char *const calls[] = {"fetch",  "socket",   "getaddrinfo", "gethostbyname",
                                        "sendto", "recvfrom", "urlopen",     NULL};
    char seg[STATIC_CHAIN_MAX];
    size_t n = strcspn(chain, ".");
    if (n >= sizeof seg) return false;
    memcpy(seg, chain, n);
    seg[n] = '\0';
    bool multi = chain[n] == '.';
    if (multi && in_list(seg, modules)) return true;
    if (multi && strncasecmp(seg, "http", 4) == 0) return true;
    if (call &&
        (in_list(last, calls) || starts(last, "curl_") || strncasecmp(last, "http", 4) == 0))
        return true;
    for (const char *p = chain; *p;) {
        size_t l = strcspn(p, ".");
        if (l < sizeof seg) {
            memcpy(seg, p, l);
            seg[l] = '\0';
            if (in_list(seg, types)) return true;
        }
        p += l + (p[l] == '.');
    }
    return false;
}

static int rule_call(body_ctx *c, const char *chain, const char *last, size_t k, bool call,
                     bool macro, bool dot_before)
{
    lang_family fam = c->fam;
    bool multi = strchr(chain, '.') != NULL;
    static const char *const std_streams[] = {"stdout", "stderr", "Stdout", "Stderr", NULL};
    int rc = 0;
#define EFFECT(s)                                                                                  \
    do {                                                                                           \
        if ((rc = effect(c, s)) < 0) return rc;                                                    \
    } while (0)
#define ERRMODE(s)                                                                                 \
    do {                                                                                           \
        if ((rc = error_mode(c, s)) < 0) return rc;                                                \
    } while (0)

    if (is_network(chain, last, call)) EFFECT("network");

    switch (fam) {
    case LANG_FAM_C: {
        static const char *const prints[] = {"printf",  "puts",   "putchar",
                                             "vprintf", "perror", NULL};
        static const char *const fwrites[] = {"fprintf",  "fputs",  "fputc", "putc",
                                              "vfprintf", "fwrite", NULL};
        static const char *const writes[] = {"write", "pwrite",   "rename",    "unlink",   "remove",
                                             "mkdir", "rmdir",    "ftruncate", "truncate", "creat",
                                             "fsync", "renameat", "unlinkat",  NULL};
        static const char *const reads[] = {"fread",   "fgets",   "getline", "read", "pread",
                                            "opendir", "readdir", "stat",    NULL};
        static const char *const spawns[] = {
            "fork",  "vfork",  "system", "popen",       "execv",        "execve", "execvp",
            "execl", "execlp", "execle", "posix_spawn", "posix_spawnp", NULL};
        static const char *const open_write[] = {"O_WRONLY", "O_RDWR",   "O_CREAT",
                                                 "O_TRUNC",  "O_APPEND", NULL};
        if (!call || multi || dot_before) break;
        if (in_list(last, prints)) EFFECT("prints output");
        if (in_list(last, fwrites))
            EFFECT(args_contain(c, k, std_streams) ? "prints output" : "writes files");
        if (in_list(last, writes)) EFFECT("writes files");
        if (in_list(last, reads)) EFFECT("reads files");
        if (strcmp(last, "fopen") == 0 || strcmp(last, "freopen") == 0 ||
            strcmp(last, "fdopen") == 0)
            EFFECT(mode_writes(c, k) ? "writes files" : "reads files");
        if (strcmp(last, "open") == 0 || strcmp(last, "openat") == 0)
            EFFECT(args_contain(c, k, open_write) ? "writes files" : "reads files");
        if (in_list(last, spawns)) EFFECT("spawns processes");
        if (strcmp(last, "exit") == 0 || strcmp(last, "_exit") == 0 || strcmp(last, "_Exit") == 0)
            EFFECT("exits process");
        if (strcmp(last, "getenv") == 0 || strcmp(last, "secure_getenv") == 0)
            EFFECT("reads environment");
        if (strcmp(last, "setenv") == 0 || strcmp(last, "putenv") == 0)
            EFFECT("mutates global state");
        if (strcmp(last, "abort") == 0) ERRMODE("aborts");
        if (strcmp(last, "assert") == 0) ERRMODE("aborts on failed assertion");
        break;
    }
    case LANG_FAM_RUST: {
        static const char *const prints[] = {"println", "print", "eprintln", "eprint", "dbg", NULL};
        static const char *const panics[] = {"panic",  "unreachable", "todo",      "unimplemented",
                                             "assert", "assert_eq",   "assert_ne", NULL};
        static const char *const fs_writes[] = {"fs.write",
                                                "File.create",
                                                "fs.create_dir",
                                                "fs.create_dir_all",
                                                "fs.remove_file",
                                                "fs.remove_dir",
                                                "fs.remove_dir_all",
                                                "fs.rename",
                                                "fs.copy",
                                                "OpenOptions.new",
                                                NULL};
        static const char *const fs_reads[] = {"fs.read",     "fs.read_to_string", "File.open",
                                               "fs.read_dir", "fs.metadata",       NULL};
        if (macro && in_list(last, prints)) EFFECT("prints output");
        if (macro && in_list(last, panics)) ERRMODE("panics");
        if (macro && strcmp(last, "bail") == 0) ERRMODE("returns Err");
        if (call && strcmp(chain, "Err") == 0) ERRMODE("returns Err");
        if (call && dot_before && (strcmp(last, "unwrap") == 0 || strcmp(last, "expect") == 0))
            ERRMODE("panics");
        if (!call) break;
        for (const char *const *p = fs_writes; *p; p++)
            if (ends_seg(chain, *p)) EFFECT("writes files");
        for (const char *const *p = fs_reads; *p; p++)
            if (ends_seg(chain, *p)) EFFECT("reads files");
        if (dot_before && (strcmp(last, "write_all") == 0 || strcmp(last, "sync_all") == 0))
            EFFECT("writes files");
        if (ends_seg(chain, "Command.new")) EFFECT("spawns processes");
        if (ends_seg(chain, "process.exit")) EFFECT("exits process");
        if (ends_seg(chain, "env.var") || ends_seg(chain, "env.var_os") ||
            ends_seg(chain, "env.vars"))
            EFFECT("reads environment");
        if (ends_seg(chain, "env.set_var")) EFFECT("mutates global state");
        break;
    }
    case LANG_FAM_GO: {
        static const char *const writes[] = {
            "os.Create",    "os.WriteFile", "ioutil.WriteFile", "os.OpenFile", "os.Remove",
            "os.RemoveAll", "os.Rename",    "os.Mkdir",         "os.MkdirAll", NULL};
        static const char *const reads[] = {"os.Open",    "os.ReadFile",    "ioutil.ReadFile",
                                            "os.ReadDir", "ioutil.ReadDir", NULL};
        if (!call) break;
        if (strcmp(chain, "errors.New") == 0 || strcmp(chain, "fmt.Errorf") == 0)
            ERRMODE("returns error");
        if (strcmp(chain, "panic") == 0) ERRMODE("panics");
        if (first_seg(chain, "fmt") && starts(last, "Print")) EFFECT("prints output");
        if (first_seg(chain, "fmt") && starts(last, "Fprint") && args_contain(c, k, std_streams))
            EFFECT("prints output");
        if (first_seg(chain, "log") && starts(last, "Print")) EFFECT("prints output");
        if (strcmp(chain, "println") == 0 || strcmp(chain, "print") == 0) EFFECT("prints output");
        if (first_seg(chain, "log") && starts(last, "Fatal")) EFFECT("exits process");
        if (strcmp(chain, "os.Exit") == 0) EFFECT("exits process");
        if (in_list(chain, writes)) EFFECT("writes files");
        if (in_list(chain, reads)) EFFECT("reads files");
        if (strcmp(chain, "exec.Command") == 0 || strcmp(chain, "exec.CommandContext") == 0 ||
            strcmp(chain, "os.StartProcess") == 0)
            EFFECT("spawns processes");
        if (strcmp(chain, "os.Getenv") == 0 || strcmp(chain, "os.LookupEnv") == 0)
            EFFECT("reads environment");
        if (strcmp(chain, "os.Setenv") == 0) EFFECT("mutates global state");
        break;
    }
    case LANG_FAM_PY: {
        static const char *const writes[] = {"os.remove",   "os.unlink", "os.rename", "os.replace",
                                             "os.makedirs", "os.mkdir",  "os.rmdir",  "json.dump",
                                             "pickle.dump", NULL};
        if (!call) break;
        if (strcmp(chain, "print") == 0 || strcmp(chain, "sys.stdout.write") == 0 ||
            strcmp(chain, "sys.stderr.write") == 0 || strcmp(chain, "pprint") == 0)
            EFFECT("prints output");
        if ((strcmp(chain, "open") == 0 || strcmp(chain, "io.open") == 0 ||
             (dot_before && strcmp(last, "open") == 0)))
            EFFECT(mode_writes(c, k) ? "writes files" : "reads files");
        if (dot_before && (strcmp(last, "write_text") == 0 || strcmp(last, "write_bytes") == 0))
            EFFECT("writes files");
        if (dot_before && (strcmp(last, "read_text") == 0 || strcmp(last, "read_bytes") == 0))
            EFFECT("reads files");
        if (in_list(chain, writes) || first_seg(chain, "shutil")) EFFECT("writes files");
        if (first_seg(chain, "subprocess") || strcmp(chain, "os.system") == 0 ||
            strcmp(chain, "os.popen") == 0 || starts(chain, "os.exec") || starts(chain, "os.spawn"))
            EFFECT("spawns processes");
        if (strcmp(chain, "sys.exit") == 0 || strcmp(chain, "os._exit") == 0 ||
            strcmp(chain, "exit") == 0 || strcmp(chain, "quit") == 0)
            EFFECT("exits process");
        if (strcmp(chain, "os.getenv") == 0 || strcmp(chain, "os.environ.get") == 0)
            EFFECT("reads environment");
        break;
    }
    case LANG_FAM_JS: {
        static const char *const fs_writes[] = {
            "writeFile", "writeFileSync", "appendFile", "appendFileSync", "createWriteStream",
            "mkdir",     "mkdirSync",     "unlink",     "unlinkSync",     "rm",
            "rmSync",    "rename",        "renameSync", "write",          "writeSync",
            "copyFile",  "copyFileSync",  NULL};
        static const char *const fs_reads[] = {
            "readFile",    "readFileSync", "createReadStream", "readdir",
            "readdirSync", "read",         "readSync",         NULL};
        static const char *const spawns[] = {"spawn",    "spawnSync",    "exec", "execSync",
                                             "execFile", "execFileSync", "fork", NULL};
        bool fs =
            first_seg(chain, "fs") || first_seg(chain, "fsp") || first_seg(chain, "fsPromises");
        if (!call) break;
        if (first_seg(chain, "console") || strcmp(chain, "process.stdout.write") == 0 ||
            strcmp(chain, "process.stderr.write") == 0)
            EFFECT("prints output");
        if (fs && in_list(last, fs_writes)) EFFECT("writes files");
        if (fs && in_list(last, fs_reads)) EFFECT("reads files");
        if ((first_seg(chain, "child_process") || first_seg(chain, "cp") ||
             first_seg(chain, "childProcess") || (!multi && !dot_before)) &&
            in_list(last, spawns) && !(strcmp(last, "exec") == 0 && !multi))
            EFFECT("spawns processes");
        if (strcmp(chain, "process.exit") == 0) EFFECT("exits process");
        if (strcmp(chain, "Promise.reject") == 0) ERRMODE("rejects promise");
        break;
    }
    case LANG_FAM_JAVA: {
        static const char *const writes[] = {
            "FileWriter",   "FileOutputStream",        "Files.write", "Files.writeString",
            "Files.delete", "Files.createDirectories", "Files.move",  NULL};
        static const char *const reads[] = {"FileReader",
                                            "FileInputStream",
                                            "Files.readAllBytes",
                                            "Files.readString",
                                            "Files.readAllLines",
                                            "Files.lines",
                                            NULL};
        if (!call) break;
        if (starts(chain, "System.out.print") || starts(chain, "System.err.print") ||
            strcmp(chain, "println") == 0)
            EFFECT("prints output");
        for (const char *const *p = writes; *p; p++)
            if (ends_seg(chain, *p)) EFFECT("writes files");
        for (const char *const *p = reads; *p; p++)
            if (ends_seg(chain, *p)) EFFECT("reads files");
        if (strcmp(last, "ProcessBuilder") == 0 || ends_seg(chain, "getRuntime.exec"))
            EFFECT("spawns processes");
        if (strcmp(chain, "System.exit") == 0 || strcmp(chain, "exitProcess") == 0)
            EFFECT("exits process");
        if (strcmp(chain, "System.getenv") == 0) EFFECT("reads environment");
        break;
    }
    default:
        break;
    }
#undef EFFECT
#undef ERRMODE
    return rc;
}

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
        while (w > 0 && is_ident_char(s[w - 1]))
            w--;
        char word[16];
        if (p - w > 0 && p - w < sizeof word) {
            memcpy(word, s + w, p - w);
            word[p - w] = '\0';
            if (in_list(word, def_words)) return true;
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

/* Rust's `?` operator after a call or a value: errors are propagated to the caller. */
static bool rust_question_mark(const char *code, size_t from)
{
    for (size_t i = from; code[i]; i++) {
        if (code[i] != '?' || i == 0) continue;
        char p = code[i - 1], n = code[i + 1];
        if ((p == ')' || p == ']' || is_ident_char(p) || p == '?') &&
            (n == ';' || n == ',' || n == ')' || n == '.' || n == '?' || n == '\0' ||
             isspace((unsigned char)n) || n == '}'))
            return true;
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

AE_STATIC int static_body(const ae_symbol *sym, const lang_info *lang, ae_sir *out)
{
    lang_family fam = lang->family;
    if (!sym->source || !sym->source[0]) return 0;
    if (sym->kind && in_list(sym->kind, declaration_kinds)) return 0;
    body_ctx c = {.sym = sym, .fam = fam, .out = out};
    char *src = ae_strndup(sym->source, strnlen(sym->source, STATIC_MAX_SOURCE));
    size_t n = src ? strlen(src) : 0;
    char *code = src ? lang_blank(lang, src, n, true) : NULL;
    char *raw = src ? lang_blank(lang, src, n, false) : NULL;
    int rc = 0;
    if (!code || !raw || !(c.closes = bracket_table(code, n)))
        AE_FAIL(NULL, AE_ENOMEM, "out of memory");
    c.code = code;
    c.raw = raw;
    size_t body = body_offset(src, sym->signature);
    const char *own = sym->name ? sym->name : "";
    for (size_t i = body; i < n;) {
        if (!is_ident_start(code[i]) || (i > 0 && is_ident_char(code[i - 1]))) {
            i++;
            continue;
        }
        char chain[STATIC_CHAIN_MAX];
        size_t last_at;
        size_t start = i;
        size_t end = read_chain(code, i, chain, sizeof chain, &last_at);
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
        if (call && last[0] && !in_list(last, keywords) && strcmp(last, own) != 0 &&
            !is_definition(&c, start, k))
            AE_CHECK(ae_strlist_push(&c.deps, last)); /* duplicates go after sorting */
        if (!strchr(chain, '.')) AE_CHECK(rule_keyword(&c, chain, end));
        AE_CHECK(rule_call(&c, chain, last, k, call, macro, dot_before));
        i = end > start ? end : start + 1;
    }
    if (fam == LANG_FAM_RUST && rust_question_mark(code, body))
        AE_CHECK(error_mode(&c, "propagates errors with ?"));
    ae_strlist_sort(&c.deps);
    for (size_t d = 0; d < c.deps.len; d++) {
        bool dup = d > 0 && strcmp(c.deps.items[d], c.deps.items[d - 1]) == 0;
        if (!dup && out->dependencies.len < STATIC_MAX_DEPENDENCIES)
            AE_CHECK(push_unique(&out->dependencies, c.deps.items[d]));
    }
cleanup:
    ae_strlist_free(&c.deps);
    free(c.closes);
    free(src);
    free(code);
    free(raw);
    return rc;
}

int ae_sir_generate_static(const ae_symbol *sym, ae_sir *out, ae_error *err)
{
    AE_RETURN_IF(!out, err, AE_EINVAL, "static sir: no output record");
    memset(out, 0, sizeof *out);
    AE_RETURN_IF(!sym || (!sym->name && !sym->qualified_name), err, AE_EINVAL,
                 "static sir: symbol has no name");
    const lang_info *lang = lang_or_other(sym->language);
    lang_family fam = lang->family;
    int rc = static_doc_sentence(sym->doc, &out->intent);
    if (rc == 0) rc = static_signature(sym, fam, &out->inputs, &out->outputs);
    if (rc == 0) rc = static_body(sym, lang, out);
    out->confidence = out->intent ? STATIC_CONFIDENCE_DOC : STATIC_CONFIDENCE_NAME;
    if (rc == 0 && !out->intent) rc = static_name_sentence(sym, out->outputs.len > 0, &out->intent);
    if (rc < 0) {
        ae_sir_clear(out);
        return ae_fail(err, AE_ENOMEM, "static sir %s: out of memory",
                       sym->qualified_name ? sym->qualified_name : sym->name);
    }
    ae_strlist_sort(&out->inputs);
    ae_strlist_sort(&out->outputs);
    ae_strlist_sort(&out->error_modes);
    ae_strlist_sort(&out->side_effects);
    rc = ae_sir_validate(out, err);
    if (rc < 0) ae_sir_clear(out);
    return rc;
}
