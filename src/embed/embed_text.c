/* What the learned embedder reads of a symbol (embed_text.h).
 *
 * 1. The names (the qualified name twice and the bare name once more, so a
 *    name's sub-tokens weigh three times: names are what an undocumented
 *    symbol has), the signature (parameter names), the file path, and the
 *    SIR's values: intent, inputs, outputs, dependencies, error modes, side
 *    effects.  Not the JSON keys nor the confidence number: every symbol has
 *    those, so they carry no meaning.  The weights were chosen on the dev
 *    split (docs/QUALITY.md): name 1x -> 3x and the path added took MRR@10
 *    from 0.234 to 0.252.
 * 2. Not the code span: measured on the dev split (docs/QUALITY.md), adding
 *    the body's sub-tokens lowered MRR@10 (local variable names dilute the
 *    names and calls that the SIR already lists).
 * 3. A SIR that does not parse is read as plain text, so nothing is lost. */
#include "embed/embed_text.h"

#include "embed/embed_model.h"
#include "util/err.h"

#include <jansson.h>
#include <string.h>

static int put_value(ae_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        AE_TRY(ae_buf_append(b, json_string_value(v), json_string_length(v)));
        return ae_buf_append(b, "\n", 1);
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) AE_TRY(put_value(b, x));
    }
    return 0; /* numbers, booleans, null, objects: nothing to read */
}

static int put_line(ae_buf *b, const char *s)
{
    if (s) AE_TRY(ae_buf_puts(b, s));
    return ae_buf_append(b, "\n", 1);
}

int ae_embed_symbol_text(const char *provider, const ae_embed_symbol *s, ae_buf *out)
{
    out->len = 0;
    if (out->data) out->data[0] = '\0';
    const char *sir_json = s->sir_json ? s->sir_json : "";
    if (!ae_embed_provider_learns(provider)) return ae_buf_puts(out, sir_json);
    /* names count three times, scopes twice (note 1) */
    AE_TRY(put_line(out, s->qualified_name));
    AE_TRY(put_line(out, s->qualified_name));
    AE_TRY(put_line(out, s->name));
    AE_TRY(put_line(out, s->signature));
    AE_TRY(put_line(out, s->file_path));
    json_t *root = json_loads(sir_json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return ae_buf_puts(out, sir_json);
    }
    /* canonical SIR JSON has sorted keys; iterate in that order explicitly */
    static const char *const fields[] = {"intent",       "inputs",      "outputs",
                                         "dependencies", "error_modes", "side_effects"};
    int rc = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && rc == 0; i++)
        rc = put_value(out, json_object_get(root, fields[i]));
    json_decref(root);
    return rc < 0 ? AE_ENOMEM : 0;
}
