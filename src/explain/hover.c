/* Hover text, SIR field diffs, the history hint and why-changed (reference-contract sections 4
 * and 6).  What is unusual here:
 *
 * 1. The Markdown is byte-for-byte the reference's: the block table below is its order and
 *    its titles; a list prints "(none)" when empty; blocks are joined by one empty line.
 * 2. Field diffs are over top-level SIR keys only; null, "" and [] count as absent, so a
 *    list that gains its first item is "added" (what a reader means by it).
 * 3. Why-changed never fails for a selector that matches nothing: it answers found false with
 *    a reason (no_history, single_version_only, selector_not_found), as the reference does. */
#include <aether/explain.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

static const struct {
    const char *key, *title;
    bool list;
} hover_blocks[] = {
    {"intent", "Intent", false},
    {"inputs", "Inputs", true},
    {"outputs", "Outputs", true},
    {"side_effects", "Side Effects", true},
    {"dependencies", "Dependencies", true},
    {"error_modes", "Error Modes", true},
};

static int parse_object(const char *json, const char *what, json_t **out, ae_error *err)
{
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return ae_fail(err, AE_ECORRUPT, "%s is not a JSON object%s%s", what, o ? "" : ": ",
                       o ? "" : jerr.text);
    }
    *out = o;
    return 0;
}

int ae_hover_markdown(const char *qualified_name, const char *sir_json, bool stale,
                      const char *last_error, char **out, ae_error *err)
{
    *out = NULL;
    /* The reference's warning: the error trimmed, left out when there is none. */
    char *warning = NULL;
    if (stale) {
        const char *e = last_error ? last_error : "";
        size_t n = strlen(e);
        while (n && isspace((unsigned char)*e))
            e++, n--;
        while (n && isspace((unsigned char)e[n - 1]))
            n--;
        warning = n ? ae_asprintf("AETHER WARNING: SIR is stale. Last error: %.*s", (int)n, e)
                    : ae_strdup("AETHER WARNING: SIR is stale.");
        if (!warning) return ae_fail(err, AE_ENOMEM, "hover text");
    }
    if (!sir_json) {
        /* a stale symbol without a SIR (its first generation failed): the warning, then the
         * no-SIR text, as the reference (without the quote marker) */
        *out = warning ? ae_asprintf("%s\n\n%s", warning, AE_HOVER_NO_SIR)
                       : ae_strdup(AE_HOVER_NO_SIR);
        free(warning);
        return *out ? 0 : ae_fail(err, AE_ENOMEM, "hover text");
    }
    json_t *sir;
    int prc = parse_object(sir_json, "the SIR", &sir, err);
    if (prc < 0) {
        free(warning);
        return prc;
    }
    ae_buf b = {0};
    int rc = 0;
    json_t *conf = json_object_get(sir, "confidence");
    AE_CHECK(ae_buf_printf(&b, "### %s\n\n**Confidence:** %.2f\n\n", qualified_name,
                           json_is_number(conf) ? json_number_value(conf) : 0.0));
    if (warning) AE_CHECK(ae_buf_printf(&b, "> %s\n\n", warning));
    for (size_t i = 0; i < sizeof hover_blocks / sizeof *hover_blocks; i++) {
        json_t *v = json_object_get(sir, hover_blocks[i].key);
        AE_CHECK(ae_buf_printf(&b, "%s**%s**\n", i ? "\n\n" : "", hover_blocks[i].title));
        if (!hover_blocks[i].list) {
            const char *s = json_string_value(v);
            AE_CHECK(ae_buf_puts(&b, s && *s ? s : "(none)"));
            continue;
        }
        size_t printed = 0, k;
        json_t *item;
        json_array_foreach(v, k, item)
        {
            if (!json_is_string(item)) continue;
            /* items trimmed, as the reference */
            const char *t = json_string_value(item);
            size_t n = strlen(t);
            while (n && isspace((unsigned char)*t))
                t++, n--;
            while (n && isspace((unsigned char)t[n - 1]))
                n--;
            AE_CHECK(ae_buf_printf(&b, "%s- %.*s", printed++ ? "\n" : "", (int)n, t));
        }
        if (!printed) AE_CHECK(ae_buf_puts(&b, "(none)"));
    }
    *out = b.data;
    b.data = NULL;
cleanup:
    if (rc < 0) ae_fail(err, rc, "hover text of %s", qualified_name);
    ae_buf_free(&b);
    json_decref(sir);
    free(warning);
    return rc;
}

static bool absent(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

int ae_sir_fields_diff(const char *a_json, const char *b_json, ae_strlist *added,
                       ae_strlist *removed, ae_strlist *modified, ae_error *err)
{
    json_t *a = NULL, *b = NULL;
    int rc = 0;
    AE_CHECK(parse_object(a_json, "the earlier SIR", &a, err));
    AE_CHECK(parse_object(b_json, "the later SIR", &b, err));
    const char *key;
    json_t *v;
    json_object_foreach(b, key, v)
    {
        json_t *old = json_object_get(a, key);
        if (absent(v) && absent(old)) continue;
        if (absent(old))
            AE_CHECK(ae_strlist_push(added, key));
        else if (absent(v))
            AE_CHECK(ae_strlist_push(removed, key));
        else if (!json_equal(old, v))
            AE_CHECK(ae_strlist_push(modified, key));
    }
    json_object_foreach(a, key, v)
    {
        if (!json_object_get(b, key) && !absent(v)) AE_CHECK(ae_strlist_push(removed, key));
    }
    ae_strlist_sort(added);
    ae_strlist_sort(removed);
    ae_strlist_sort(modified);
cleanup:
    if (rc == AE_ENOMEM) ae_fail(err, rc, "SIR field diff");
    json_decref(a);
    json_decref(b);
    return rc;
}

static int join(ae_buf *b, const ae_strlist *l)
{
    if (!l->len) return ae_buf_puts(b, "none");
    for (size_t i = 0; i < l->len; i++)
        AE_TRY(ae_buf_printf(b, "%s%s", i ? "," : "", l->items[i]));
    return 0;
}

int ae_history_hint(const ae_sir_timeline *t, char **out, ae_error *err)
{
    *out = NULL;
    if (!t || t->n == 0) return 0;
    if (t->n == 1) {
        *out = ae_strdup("> AETHER WHY: only one recorded SIR version.");
        return *out ? 0 : ae_fail(err, AE_ENOMEM, "history hint");
    }
    const ae_sir_entry *a = &t->entries[t->n - 2], *b = &t->entries[t->n - 1];
    ae_strlist add = {0}, rem = {0}, mod = {0};
    ae_buf buf = {0};
    int rc = 0;
    AE_CHECK(ae_sir_fields_diff(a->sir_json, b->sir_json, &add, &rem, &mod, err));
    AE_CHECK(ae_buf_printf(&buf, "> AETHER WHY: latest v%lld -> v%lld; added: ",
                           (long long)a->version, (long long)b->version));
    AE_CHECK(join(&buf, &add));
    AE_CHECK(ae_buf_puts(&buf, "; removed: "));
    AE_CHECK(join(&buf, &rem));
    AE_CHECK(ae_buf_puts(&buf, "; modified: "));
    AE_CHECK(join(&buf, &mod));
    AE_CHECK(ae_buf_puts(&buf, "."));
    *out = buf.data;
    buf.data = NULL;
cleanup:
    if (rc == AE_ENOMEM) ae_fail(err, rc, "history hint");
    ae_buf_free(&buf);
    ae_strlist_free(&add);
    ae_strlist_free(&rem);
    ae_strlist_free(&mod);
    return rc;
}

/* ---- timelines ---------------------------------------------------------- */

static void entry_clear(ae_sir_entry *e)
{
    free(e->provider);
    free(e->model);
    free(e->commit_hash);
    free(e->sir_json);
    memset(e, 0, sizeof *e);
}

static int entry_copy(ae_sir_entry *dst, const ae_sir_entry *src, ae_error *err)
{
    *dst = *src;
    dst->provider = ae_strdup(src->provider ? src->provider : "");
    dst->model = ae_strdup(src->model ? src->model : "");
    dst->sir_json = ae_strdup(src->sir_json ? src->sir_json : "{}");
    dst->commit_hash = src->commit_hash ? ae_strdup(src->commit_hash) : NULL;
    if (!dst->provider || !dst->model || !dst->sir_json ||
        (src->commit_hash && !dst->commit_hash)) {
        entry_clear(dst);
        return ae_fail(err, AE_ENOMEM, "copying SIR version %lld", (long long)src->version);
    }
    return 0;
}

void ae_sir_timeline_free(ae_sir_timeline *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++)
        entry_clear(&t->entries[i]);
    free(t->entries);
    free(t);
}

/* ---- why changed -------------------------------------------------------- */

const char *ae_why_mode_name(ae_why_mode m)
{
    switch (m) {
    case AE_WHY_VERSION:
        return "version";
    case AE_WHY_TIMESTAMP:
        return "timestamp";
    case AE_WHY_AUTO:
        break;
    }
    return "auto";
}

static long by_version(const ae_sir_timeline *h, int64_t v)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->entries[i].version == v) return (long)i;
    return -1;
}

/* The latest version written at or before ts. */
static long by_time(const ae_sir_timeline *h, int64_t ts)
{
    long best = -1;
    for (size_t i = 0; i < h->n; i++)
        if (h->entries[i].created_at <= ts &&
            (best < 0 || h->entries[i].created_at >= h->entries[best].created_at))
            best = (long)i;
    return best;
}

static char *intent_of(const char *sir_json)
{
    json_t *o = json_loads(sir_json, 0, NULL);
    const char *s = json_string_value(json_object_get(o, "intent"));
    char *r = ae_strdup(s ? s : "");
    json_decref(o);
    return r;
}

int ae_why_changed_compute(const ae_sir_timeline *h, const ae_why_selector *sel,
                           ae_why_changed **out, ae_error *err)
{
    *out = NULL;
    ae_why_changed *w = calloc(1, sizeof *w);
    if (!w) return ae_fail(err, AE_ENOMEM, "why-changed answer");
    ae_why_mode mode = sel ? sel->mode : AE_WHY_AUTO;
    w->mode = mode;
    int rc = 0;
    long ia = -1, ib = -1;
    if (!h || h->n == 0) {
        w->reason = "no_history";
    } else if (mode == AE_WHY_AUTO) {
        if (h->n == 1)
            w->reason = "single_version_only";
        else
            ia = (long)h->n - 2, ib = (long)h->n - 1;
    } else {
        ia = mode == AE_WHY_VERSION ? by_version(h, sel->from) : by_time(h, sel->from);
        ib = mode == AE_WHY_VERSION ? by_version(h, sel->to) : by_time(h, sel->to);
        if (ia < 0 || ib < 0) {
            w->reason = h->n == 1 ? "single_version_only" : "selector_not_found";
            ia = ib = -1;
        }
    }
    if (ia >= 0) {
        AE_CHECK(entry_copy(&w->from, &h->entries[ia], err));
        AE_CHECK(entry_copy(&w->to, &h->entries[ib], err));
        AE_CHECK(ae_sir_fields_diff(w->from.sir_json, w->to.sir_json, &w->fields_added,
                                    &w->fields_removed, &w->fields_modified, err));
        w->prior_summary = intent_of(w->from.sir_json);
        w->current_summary = intent_of(w->to.sir_json);
        if (!w->prior_summary || !w->current_summary) AE_FAIL(err, AE_ENOMEM, "why-changed");
        w->found = true;
    }
    *out = w;
    return 0;
cleanup:
    ae_why_changed_free(w);
    return rc;
}

void ae_why_changed_free(ae_why_changed *w)
{
    if (!w) return;
    entry_clear(&w->from);
    entry_clear(&w->to);
    free(w->prior_summary);
    free(w->current_summary);
    ae_strlist_free(&w->fields_added);
    ae_strlist_free(&w->fields_removed);
    ae_strlist_free(&w->fields_modified);
    free(w);
}
