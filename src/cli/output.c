/* Result rendering: the tab-separated table and the one-line JSON envelope. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Tabs and newlines inside a field would break the table: print them as spaces. */
static void put_field(const char *s)
{
    for (; *s; s++)
        putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

static void print_table(const ae_search_results *r)
{
    printf("symbol_id\tqualified_name\tfile_path\tlanguage\tkind\n");
    for (size_t i = 0; i < r->n; i++) {
        const ae_match *m = &r->matches[i];
        const char *fields[] = {m->symbol_id, m->qualified_name, m->file_path, m->language,
                                m->kind};
        for (int f = 0; f < 5; f++) {
            if (f) putchar('\t');
            put_field(fields[f]);
        }
        putchar('\n');
    }
}

static void print_json(const ae_search_results *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "mode_requested",
                        json_string(ae_search_mode_name(r->mode_requested)));
    json_object_set_new(root, "mode_used", json_string(ae_search_mode_name(r->mode_used)));
    json_object_set_new(root, "fallback_reason",
                        r->fallback_reason ? json_string(r->fallback_reason) : json_null());
    json_t *arr = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const ae_match *m = &r->matches[i];
        json_t *o = json_object();
        json_object_set_new(o, "symbol_id", json_string(m->symbol_id));
        json_object_set_new(o, "qualified_name", json_string(m->qualified_name));
        json_object_set_new(o, "file_path", json_string(m->file_path));
        json_object_set_new(o, "language", json_string(m->language));
        json_object_set_new(o, "kind", json_string(m->kind));
        json_object_set_new(o, "semantic_score",
                            m->has_semantic_score ? json_real(m->semantic_score) : json_null());
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "matches", arr);
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    if (s) puts(s);
    free(s);
    json_decref(root);
}

void cli_print_results(const ae_search_results *r, output_format fmt)
{
    if (fmt == OUTPUT_JSON)
        print_json(r);
    else
        print_table(r);
    fflush(stdout);
}
