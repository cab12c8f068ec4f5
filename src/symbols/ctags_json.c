/* Reading universal-ctags JSON output and deciding which tags are symbols.
 *
 * 1. Each output line is one JSON object; only `"_type": "tag"` lines are tags.  The parser
 *    is fed untrusted bytes (file names, odd sources) and is fuzzed (tests/fuzz).
 * 2. ctags kind names differ per language ("member" is a Python method but a C field), so
 *    the mapping to our kinds is keyed on (language, kind) and on the scope kind: anything
 *    whose scope is a function is a local and dropped.
 * 3. Scopes arrive with the language's separator ("Foo.Nested", "main.Server", "ns::C");
 *    they are re-joined with "::".  Go's package scope is not part of a qualified name. */
#include "symbols/internal.h"

#include "util/err.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void ctags_tag_clear(ctags_tag *t)
{
    if (!t) return;
    free(t->name);
    free(t->path);
    free(t->kind);
    free(t->scope);
    free(t->scope_kind);
    free(t->signature);
    memset(t, 0, sizeof *t);
}

static int take_string(json_t *obj, const char *key, char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || !json_is_string(v)) return 0;
    /* ctags may emit escaped NULs; a name with one is not something we can key on */
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n) return AE_ECORRUPT;
    *out = ae_strndup(s, n);
    return *out ? 0 : AE_ENOMEM;
}

static int take_line(json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_integer(v)) return AE_ECORRUPT;
    json_int_t n = json_integer_value(v);
    if (n < 1 || n > 100000000) return AE_ECORRUPT;
    *out = (int)n;
    return 0;
}

int ctags_parse_line(const char *line, size_t len, ctags_tag *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len && isspace((unsigned char)line[i]))
        i++;
    if (i == len) return 0;

    json_error_t jerr;
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return ae_fail(err, AE_ECORRUPT, "ctags output: bad json at column %d: %s", jerr.column,
                       jerr.text);
    int rc = 0;
    if (!json_is_object(obj)) {
        rc = ae_fail(err, AE_ECORRUPT, "ctags output: expected a json object");
        goto cleanup;
    }
    json_t *type = json_object_get(obj, "_type");
    if (!type || !json_is_string(type) || strcmp(json_string_value(type), "tag") != 0) {
        rc = 0; /* pseudo tags and future record types */
        goto cleanup;
    }
    if ((rc = take_string(obj, "name", &out->name)) < 0 ||
        (rc = take_string(obj, "path", &out->path)) < 0 ||
        (rc = take_string(obj, "kind", &out->kind)) < 0 ||
        (rc = take_string(obj, "scope", &out->scope)) < 0 ||
        (rc = take_string(obj, "scopeKind", &out->scope_kind)) < 0 ||
        (rc = take_string(obj, "signature", &out->signature)) < 0 ||
        (rc = take_line(obj, "line", &out->line)) < 0 ||
        (rc = take_line(obj, "end", &out->end)) < 0)
        goto bad;
    if (!out->name || !out->path || !out->kind || out->line == 0 || !out->name[0]) {
        rc = AE_ECORRUPT;
        goto bad;
    }
    if (out->end && out->end < out->line) out->end = 0; /* treat nonsense as absent */
    rc = 1;
    goto cleanup;
bad:
    if (rc == AE_ENOMEM)
        ae_fail(err, rc, "ctags output: out of memory");
    else
        ae_fail(err, AE_ECORRUPT,
                "ctags output: tag without name, path, kind or line, or a "
                "field of the wrong type");
    ctags_tag_clear(out);
cleanup:
    json_decref(obj);
    return rc;
}

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool is_brace_c(const char *lang)
{
    return eq(lang, "c") || eq(lang, "cpp");
}

static bool is_js(const char *lang)
{
    return eq(lang, "javascript") || eq(lang, "jsx") || eq(lang, "typescript") || eq(lang, "tsx");
}

/* Scopes whose members are locals, not symbols. */
static bool callable_scope(const char *lang, const char *sk)
{
    if (!sk) return false;
    if (eq(sk, "function") || eq(sk, "func") || eq(sk, "method") || eq(sk, "generator") ||
        eq(sk, "getter") || eq(sk, "setter"))
        return true;
    return eq(lang, "python") && eq(sk, "member");
}

static bool all_upper(const char *s)
{
    bool letter = false;
    for (; *s; s++) {
        if (islower((unsigned char)*s)) return false;
        if (isupper((unsigned char)*s)) letter = true;
    }
    return letter;
}

/* A JS/TS `const f = (...) => ...` or `= function` / `= async function`. */
static bool decl_is_function(const char *decl)
{
    if (!decl) return false;
    const char *eqs = strchr(decl, '=');
    if (!eqs || eqs[1] == '=' || eqs[1] == '>') return false;
    return strstr(eqs, "=>") != NULL || strstr(eqs, "function") != NULL;
}

/* Top-level: no scope, or Go's package, or a module/namespace. */
static bool module_level(const ctags_tag *t)
{
    const char *sk = t->scope_kind;
    return !t->scope || !sk || eq(sk, "package") || eq(sk, "module") || eq(sk, "namespace");
}

const char *ctags_normalize_kind(const char *lang, const ctags_tag *t, const char *decl)
{
    const char *k = t->kind, *sk = t->scope_kind;
    if (!k || callable_scope(lang, sk)) return NULL;
    if (strncmp(t->name, "__anon", 6) == 0) return NULL; /* ctags' names for anonymous types */

    if (eq(k, "function") || eq(k, "func") || eq(k, "generator")) {
        if (eq(lang, "go") && t->scope && !eq(sk, "package")) return "method";
        if (eq(lang, "cpp") && (eq(sk, "class") || eq(sk, "struct"))) return "method";
        return "function";
    }
    if (eq(k, "method") || eq(k, "methodSpec")) return "method";
    if (eq(k, "member")) return eq(lang, "python") ? "method" : NULL;
    if (eq(k, "class")) return "class";
    if (eq(k, "struct")) return "struct";
    if (eq(k, "union")) return "union";
    if (eq(k, "enum")) return "enum";
    if (eq(k, "interface")) return eq(lang, "rust") ? "trait" : "interface";
    if (eq(k, "typedef") || eq(k, "alias") || eq(k, "talias") || eq(k, "type")) {
        return eq(lang, "python") ? NULL : "type_alias";
    }
    if (eq(k, "macro")) {
        if (is_brace_c(lang)) return t->signature ? "macro" : NULL; /* only #define f(...) */
        return "macro";
    }
    if (eq(k, "constant") || eq(k, "const") || eq(k, "variable") || eq(k, "var")) {
        if (!module_level(t)) return NULL;
        if (is_js(lang)) {
            if (decl_is_function(decl)) return "function";
            return eq(k, "constant") ? "constant" : NULL;
        }
        if (eq(lang, "go")) return eq(k, "const") ? "constant" : NULL;
        if (eq(lang, "rust")) return "constant"; /* const and static items */
        if (eq(lang, "python")) return all_upper(t->name) ? "constant" : NULL;
        return NULL; /* C/C++ globals, Java fields */
    }
    return NULL; /* fields, enumerators, properties, modules, packages, imports, labels */
}

char *ctags_qualified_name(const char *lang, const ctags_tag *t)
{
    ae_buf b = {0};
    const char *scope = t->scope;
    if (scope && eq(lang, "go")) {
        /* "main.Server" -> "Server"; a package scope itself contributes nothing */
        if (eq(t->scope_kind, "package")) {
            scope = NULL;
        } else {
            const char *dot = strchr(scope, '.');
            scope = dot ? dot + 1 : scope;
        }
    }
    if (scope && eq(lang, "java") && eq(t->scope_kind, "package")) scope = NULL;
    if (scope && *scope) {
        const char *sep = (eq(lang, "rust") || eq(lang, "cpp")) ? "::" : ".";
        size_t seplen = strlen(sep);
        for (const char *p = scope; *p;) {
            const char *q = strstr(p, sep);
            size_t n = q ? (size_t)(q - p) : strlen(p);
            if (n && (ae_buf_append(&b, p, n) < 0 || ae_buf_puts(&b, "::") < 0)) goto oom;
            if (!q) break;
            p = q + seplen;
        }
    }
    if (ae_buf_puts(&b, t->name) < 0) goto oom;
    return b.data;
oom:
    ae_buf_free(&b);
    return NULL;
}
