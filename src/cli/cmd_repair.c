/* Store check and repair reports: the rendering both --fsck and --repair print,
 * and the --repair command itself. */
#include "cli/cli.h"

#include <aether/admin.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static json_t *strlist_json(const ae_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->len; i++)
        json_array_append_new(a, json_string(l->items[i]));
    return a;
}

json_t *cli_fsck_json(const ae_fsck_report *r)
{
    json_t *root = json_pack("{s:b, s:I, s:s}", "ok", r->n_problems == 0, "problem_count",
                             (json_int_t)r->n_problems, "sqlite", r->sqlite_result);
    json_t *tables = json_array();
    for (size_t i = 0; i < r->n_tables; i++) {
        const ae_fsck_table *t = &r->tables[i];
        json_t *probs = json_array();
        for (size_t p = 0; p < t->problems.len; p++)
            json_array_append_new(probs, json_string(t->problems.items[p]));
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:s, s:I, s:f, s:o}", "table", t->name,
            "provider", t->provider, "model", t->model, "dim", (int)t->dim, "latest_version",
            (json_int_t)t->latest_version, "rows", (json_int_t)t->rows_live, "versions_checked",
            (json_int_t)t->versions_checked, "files_checked", (json_int_t)t->files_checked, "index",
            t->has_index ? "ivfpq" : "none", "recall_queries", (json_int_t)t->recall_queries,
            "recall", t->recall, "problems", probs);
        if (t->recorded_recall >= 0)
            json_object_set_new(o, "recorded_recall",
                                json_pack("{s:f, s:i, s:i, s:i}", "recall", t->recorded_recall,
                                          "nprobe", (int)t->recorded_nprobe, "refine",
                                          (int)t->recorded_refine, "sample",
                                          (int)t->recorded_sample));
        json_array_append_new(tables, o);
    }
    json_object_set_new(root, "tables", tables);
    if (r->cross_checked) {
        json_t *c = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "backend", r->backend, "sirs_current",
            (json_int_t)r->sirs_current, "sirs_embedded", (json_int_t)r->sirs_embedded,
            "sirs_pending", (json_int_t)r->sirs_pending, "embedding_state_rows",
            (json_int_t)r->state_rows, "store_rows", (json_int_t)r->store_rows, "prune_pending",
            (json_int_t)r->prune_pending, "problems", (json_int_t)r->cross_problems);
        json_object_set_new(root, "cross_store", c);
    } else {
        json_object_set_new(root, "cross_store", json_null());
    }
    json_object_set_new(root, "problems", strlist_json(&r->problems));
    return root;
}

void cli_fsck_print(const ae_fsck_report *r)
{
    printf("meta.sqlite: %s\n", r->sqlite_result);
    for (size_t i = 0; i < r->n_tables; i++) {
        const ae_fsck_table *t = &r->tables[i];
        printf("table %s: version %llu, %llu rows, %zu versions and %zu files checked: %s\n",
               t->name, (unsigned long long)t->latest_version, (unsigned long long)t->rows_live,
               t->versions_checked, t->files_checked, t->problems.len ? "PROBLEMS" : "ok");
        if (t->has_index)
            printf("  index: recall@%d %.3f over %zu queries (index top-k vs exact scan)\n",
                   AE_FSCK_DEFAULT_K, t->recall, t->recall_queries);
        if (t->has_index && t->recorded_recall >= 0)
            printf("  index: recall@10 %.3f recorded by its build (%u of the table's rows, "
                   "nprobe %u, refine %u)\n",
                   t->recorded_recall, t->recorded_sample, t->recorded_nprobe, t->recorded_refine);
    }
    if (r->cross_checked)
        printf("cross-store (%s backend): %zu current SIRs, %zu embedded, %zu pending embedding, "
               "%zu store rows, %zu embedding_state rows, %zu vectors awaiting prune: %s\n",
               r->backend, r->sirs_current, r->sirs_embedded, r->sirs_pending, r->store_rows,
               r->state_rows, r->prune_pending, r->cross_problems ? "PROBLEMS" : "ok");
    for (size_t i = 0; i < r->problems.len; i++)
        printf("  - %s\n", r->problems.items[i]);
    if (r->n_problems > r->problems.len)
        printf("  ... and %zu more problems\n", r->n_problems - r->problems.len);
}

int cli_cmd_repair(ae_workspace *ws, const cli_options *o)
{
    ae_repair_report rep;
    ae_error err;
    if (ae_workspace_repair(ws, NULL, &rep, &err) < 0) {
        for (size_t i = 0; i < rep.actions.len; i++)
            fprintf(stderr, "aetherd: repair: %s\n", rep.actions.items[i]);
        fprintf(stderr, "aetherd: repair failed: %s\n", err.message);
        ae_repair_report_free(&rep);
        return EXIT_RUNTIME;
    }
    if (o->output == OUTPUT_JSON) {
        json_t *root = json_pack("{s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "ok",
                                 rep.after.n_problems == 0, "actions", strlist_json(&rep.actions),
                                 "orphan_files_removed", (json_int_t)rep.orphan_files_removed,
                                 "indexes_rebuilt", (json_int_t)rep.indexes_rebuilt, "reembedded",
                                 (json_int_t)rep.reembedded, "pruned", (json_int_t)rep.pruned,
                                 "embeddings_written", (json_int_t)rep.embeddings_written, "before",
                                 cli_fsck_json(&rep.before), "after", cli_fsck_json(&rep.after));
        char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) puts(s);
        free(s);
        json_decref(root);
    } else {
        printf("before repair: %zu problems\n", rep.before.n_problems);
        for (size_t i = 0; i < rep.actions.len; i++)
            printf("repair: %s\n", rep.actions.items[i]);
        if (!rep.actions.len) printf("repair: nothing to do\n");
        printf("after repair:\n");
        cli_fsck_print(&rep.after);
        printf("%s\n", rep.after.n_problems ? "repair: problems remain" : "repair: ok");
    }
    int rc = rep.after.n_problems ? EXIT_RUNTIME : EXIT_OK;
    ae_repair_report_free(&rep);
    return rc;
}
