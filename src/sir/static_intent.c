/* The intent of a symbol without a doc comment: a sentence from its name's words and its kind
 * ("Function that parses config file.", "Constructor for Store.", "Method that checks whether
 * node is leaf.").
 *
 * 1. The name is split into words (snake, kebab, camel, Pascal, acronyms kept upper case).
 * 2. A leading verb of the verbs table becomes third person ("parse" -> "parses"); a verb as
 *    the second or third word is found too ("ae_buf_append" -> "appends buf"); predicates
 *    (is, has, can, should, exists) become "checks whether".
 * 3. Types, contracts and other non-callables get "representing", "describing" or "for". */
#include "sir/static_internal.h"

#include "util/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Splits an identifier into words: snake_case, kebab-case, camelCase, PascalCase and acronyms
 * ("parseHTTPRequest" -> parse HTTP request).  Acronyms keep their case unless the whole name is
 * upper case; other words are lower-cased. */
int static_name_words(const char *name, ae_strlist *words)
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
int static_name_sentence(const ae_symbol *sym, bool has_output, char **out)
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
    bool callable = static_in_list(kind, static_callable_kinds) || !static_is_type_kind(kind);
    if (w.len == 0) {
        /* just the label */
    } else if (strcmp(kind, "constructor") == 0 ||
               (callable && name &&
                (strcmp(name, "constructor") == 0 || strcmp(name, "__init__") == 0 ||
                 strcmp(name, "__new__") == 0 || (parent && strcmp(name, parent) == 0)))) {
        rc = buf_reset_label(&b, "Constructor");
        if (rc == 0) rc = ae_buf_puts(&b, " for ");
        if (rc == 0) rc = parent ? ae_buf_puts(&b, parent) : put_words(&b, &w, 0);
    } else if (static_in_list(kind, static_type_kinds)) {
        rc = ae_buf_puts(&b, " representing ");
        if (rc == 0) rc = put_words(&b, &w, 0);
    } else if (static_in_list(kind, static_contract_kinds)) {
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
    } else if (static_in_list(w0, verbs)) {
        rc = ae_buf_puts(&b, " that ");
        third_person(w0, &b, &rc);
        if (rc == 0 && rest) rc = ae_buf_append(&b, " ", 1);
        if (rc == 0) rc = put_words(&b, &w, 1);
    } else {
        size_t vi = 0;
        for (size_t i = 1; i < w.len && i < 3 && !vi; i++)
            if (static_in_list(w.items[i], verbs) || is_predicate(w.items[i]) ||
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
    *out = static_clean_text(b.data, b.len);
    if (!*out) rc = AE_ENOMEM;
cleanup:
    ae_buf_free(&b);
    ae_strlist_free(&w);
    free(parent);
    return rc;
}
