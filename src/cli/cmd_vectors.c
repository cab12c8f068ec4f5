/* Vector commands over include/aether/admin.h: import/export JSONL, vector
 * status, optimize, fsck; and the --search-vector argument parser. */
#include "cli/cli.h"

#include <aether/admin.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_cmd_import(ae_workspace *ws, const cli_options *o)
{
    const char *path = o->import_path;
    FILE *in = !strcmp(path, "-") ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "aetherd: cannot open %s: %m\n", path);
        return EXIT_RUNTIME;
    }
    ae_import_report *rep = calloc(1, sizeof *rep);
    ae_error err;
    int rc = rep ? ae_workspace_import_embeddings(ws, in, rep, &err) : AE_ENOMEM;
    if (in != stdin) fclose(in);
    if (!rep) return EXIT_RUNTIME;
    for (size_t i = 0; i < rep->bad && i < AE_IMPORT_BAD_LINES_KEPT; i++)
        fprintf(stderr, "aetherd: %s:%zu: %s (line skipped)\n", path, rep->bad_lines[i].line,
                rep->bad_lines[i].message);
    if (rep->bad > AE_IMPORT_BAD_LINES_KEPT)
        fprintf(stderr, "aetherd: ... and %zu more bad lines\n",
                rep->bad - AE_IMPORT_BAD_LINES_KEPT);
    if (rc < 0) {
        fprintf(stderr, "aetherd: import into %s failed after %zu rows: %s\n",
                *rep->backend ? rep->backend : "the vector store", rep->imported, err.message);
        free(rep);
        return EXIT_RUNTIME;
    }
    fprintf(stderr,
            "aetherd: imported %zu embeddings into the %s backend (%zu bad lines skipped)\n",
            rep->imported, rep->backend, rep->bad);
    rc = rep->bad ? EXIT_RUNTIME : EXIT_OK;
    free(rep);
    return rc;
}

int cli_cmd_export(ae_workspace *ws, const cli_options *o)
{
    const char *path = o->export_path;
    FILE *out = !strcmp(path, "-") ? stdout : fopen(path, "w");
    if (!out) {
        fprintf(stderr, "aetherd: cannot create %s: %m\n", path);
        return EXIT_RUNTIME;
    }
    ae_export_report rep;
    ae_error err;
    int rc = ae_workspace_export_embeddings(ws, out, &rep, &err);
    if (out != stdout && fclose(out) != 0 && rc == 0) rc = AE_EIO;
    if (rc < 0) {
        fprintf(stderr, "aetherd: export to %s failed: %s\n", path,
                rc == AE_EIO ? "write error" : err.message);
        return EXIT_RUNTIME;
    }
    fprintf(stderr, "aetherd: exported %zu embeddings from the %s backend\n", rep.rows,
            rep.backend);
    return EXIT_OK;
}

static void print_status_json(const ae_vector_status *vst)
{
    json_t *root = json_pack("{s:s, s:s}", "vector_backend", vst->vector_backend, "vectors_dir",
                             vst->vectors_dir);
    json_t *arr = json_array();
    for (size_t i = 0; i < vst->n_tables; i++) {
        const ae_vector_table_info *st = &vst->tables[i];
        json_t *t = json_pack(
            "{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:s}", "name", st->name, "provider",
            st->provider, "model", st->model, "dim", (int)st->dim, "version",
            (json_int_t)st->version, "rows", (json_int_t)st->rows_live, "deleted_rows",
            (json_int_t)st->rows_deleted, "fragments", (json_int_t)st->fragments, "versions",
            (json_int_t)st->versions_retained, "index", st->has_index ? "ivfpq" : "none");
        if (st->has_index) {
            json_object_set_new(t, "index_rows", json_integer((json_int_t)st->index_rows));
            json_object_set_new(t, "unindexed_rows",
                                json_integer((json_int_t)(st->rows_live > st->index_rows
                                                              ? st->rows_live - st->index_rows
                                                              : 0)));
            if (st->index_recall >= 0) {
                json_object_set_new(t, "index_recall", json_real(st->index_recall));
                json_object_set_new(t, "index_recall_k", json_integer(st->index_recall_k));
                json_object_set_new(t, "index_recall_sample",
                                    json_integer(st->index_recall_sample));
                json_object_set_new(t, "index_target_recall", json_real(st->index_target_recall));
                json_object_set_new(t, "index_nprobe", json_integer(st->index_nprobe));
                json_object_set_new(t, "index_refine", json_integer(st->index_refine));
            }
        }
        json_array_append_new(arr, t);
    }
    json_object_set_new(root, "tables", arr);
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) puts(s);
    free(s);
    json_decref(root);
}

static void print_status_table(const ae_vector_status *vst)
{
    printf("vector_backend: %s (%s)\n", vst->vector_backend,
           !strcmp(vst->vector_backend, "lancedb") ? "native vector table"
                                                   : "legacy sir_embeddings");
    printf("table\tprovider\tmodel\tdim\tversion\trows\tdeleted\tfragments\tversions\tindex\n");
    for (size_t i = 0; i < vst->n_tables; i++) {
        const ae_vector_table_info *st = &vst->tables[i];
        char idx[128];
        if (st->has_index && st->index_recall >= 0)
            snprintf(idx, sizeof idx, "ivfpq recall@%u=%.3f nprobe=%u refine=%u",
                     st->index_recall_k, st->index_recall, st->index_nprobe, st->index_refine);
        else
            snprintf(idx, sizeof idx, "%s", st->has_index ? "ivfpq" : "none");
        printf("%s\t%s\t%s\t%u\t%llu\t%llu\t%llu\t%zu\t%zu\t%s\n", st->name, st->provider,
               st->model, st->dim, (unsigned long long)st->version,
               (unsigned long long)st->rows_live, (unsigned long long)st->rows_deleted,
               st->fragments, st->versions_retained, idx);
    }
}

int cli_cmd_vector_status(ae_workspace *ws, const cli_options *o)
{
    ae_vector_status vst;
    ae_error err;
    if (ae_workspace_vector_status(ws, &vst, &err) < 0) {
        fprintf(stderr, "aetherd: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    if (o->output == OUTPUT_JSON)
        print_status_json(&vst);
    else
        print_status_table(&vst);
    ae_vector_status_free(&vst);
    return EXIT_OK;
}

int cli_cmd_optimize(ae_workspace *ws, const cli_options *o)
{
    (void)o;
    ae_error err;
    if (ae_workspace_optimize(ws, &err) < 0) {
        fprintf(stderr, "aetherd: optimize failed: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    ae_vector_status vst;
    const char *dir = ae_workspace_vector_status(ws, &vst, &err) == 0 ? vst.vectors_dir : NULL;
    fprintf(stderr, "aetherd: optimized the vector tables in %s\n", dir ? dir : "the workspace");
    if (dir) ae_vector_status_free(&vst);
    return EXIT_OK;
}

/* SQLite integrity, every vector table, index recall and the cross-store
 * invariants (ae_workspace_fsck); exit 0 only when all hold. */
int cli_cmd_fsck(ae_workspace *ws, const cli_options *o)
{
    ae_fsck_report rep;
    ae_error err;
    if (ae_workspace_fsck(ws, NULL, &rep, &err) < 0) {
        fprintf(stderr, "aetherd: fsck could not run: %s\n", err.message);
        ae_fsck_report_free(&rep);
        return EXIT_RUNTIME;
    }
    if (o->output == OUTPUT_JSON) {
        json_t *root = cli_fsck_json(&rep);
        char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) puts(s);
        free(s);
        json_decref(root);
    } else {
        cli_fsck_print(&rep);
        printf("%s\n", rep.n_problems ? "fsck: problems found" : "fsck: ok");
    }
    int rc = rep.n_problems ? EXIT_RUNTIME : EXIT_OK;
    ae_fsck_report_free(&rep);
    return rc;
}

/* Parses "[0.1, 0.2, ...]" into a float vector. */
int cli_parse_vector(const char *text, float **out, uint32_t *dim)
{
    json_error_t je;
    json_t *a = json_loads(text, 0, &je);
    if (!json_is_array(a) || json_array_size(a) == 0) {
        json_decref(a);
        return -1;
    }
    size_t n = json_array_size(a);
    float *v = malloc(n * sizeof *v);
    if (!v) {
        json_decref(a);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_number(x)) {
            free(v);
            json_decref(a);
            return -1;
        }
        v[i] = (float)json_number_value(x);
    }
    json_decref(a);
    *out = v;
    *dim = (uint32_t)n;
    return 0;
}
