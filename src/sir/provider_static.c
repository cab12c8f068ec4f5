/* The static SIR provider: the offline default, a useful record without a model.
 *
 * What is unusual here:
 * 1. It reads code with patterns, not a parser, through the language layer's lexer (src/lang,
 *    the one symbols/span.c reads with).  It is meant to be honest rather than complete: a
 *    side effect or an error mode is listed only when a row of the rule table
 *    (static_rules.c) matches.
 * 2. The record is a recipe of four readings, one file each: the intent from the doc comment
 *    (static_doc.c) or else from the name (static_intent.c), inputs and outputs from the
 *    signature (static_signature.c), dependencies, error modes and side effects from the body
 *    (static_body.c).
 * 3. Everything is deterministic: lists are sorted, dependencies are capped at
 *    STATIC_MAX_DEPENDENCIES (the alphabetically first ones), and invalid UTF-8 from the source
 *    is replaced by '?' so the record always validates. */
#include "sir/provider.h"

#include "sir/sir_internal.h"
#include "sir/static_internal.h"
#include "util/err.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

bool static_in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

/* ---- output lists ------------------------------------------------------------------------- */

/* Copies s[0..n) with whitespace runs collapsed, trimmed, invalid UTF-8 bytes as '?'. */
char *static_clean_text(const char *s, size_t n)
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
    char *c = static_clean_text(s, n);
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

int static_push_unique(ae_strlist *l, const char *s)
{
    return push_unique_n(l, s, strlen(s));
}

/* ---- kinds ----------------------------------------------------------------------------- */

const char *const static_type_kinds[] = {
    "class",      "struct",    "enum",  "union",  "typedef", "type",
    "type_alias", "typealias", "alias", "record", "object",  NULL,
};
/* Kinds whose span only declares (fields, variants, method signatures): no body to read. */
static const char *const static_declaration_kinds[] = {
    "struct", "enum",  "union",     "typedef",  "type",   "type_alias", "typealias",
    "alias",  "trait", "interface", "protocol", "record", NULL,
};
const char *const static_contract_kinds[] = {"trait", "interface", "protocol", NULL};
const char *const static_callable_kinds[] = {
    "function", "func",   "fn",     "method",     "member",    "prototype", "constructor",
    "macro",    "getter", "setter", "subroutine", "procedure", NULL,
};

bool static_is_type_kind(const char *kind)
{
    if (!kind) return false;
    static const char *const others[] = {
        "module", "namespace", "package",    "variable", "var",   "constant",  "const",
        "field",  "property",  "enumerator", "static",   "local", "parameter", NULL};
    return static_in_list(kind, static_type_kinds) || static_in_list(kind, static_contract_kinds) ||
           static_in_list(kind, others);
}

bool static_is_declaration_kind(const char *kind)
{
    return kind && static_in_list(kind, static_declaration_kinds);
}

/* ---- the recipe ------------------------------------------------------------------------ */

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
    if (rc == 0) rc = static_body(sym, lang, out, NULL);
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
