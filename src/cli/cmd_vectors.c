/* Vector commands: import/export JSONL, vector status, optimize, fsck,
 * search by a given vector. */
#include "cli/cli.h"

#include "store/jsonl.h"
#include "store/lancedb_admin.h"
#include "util/err.h"
#include "verify/verify.h"
#include "workspace/workspace.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_store(ae_workspace *ws, ae_vector_store **vs)
{
    ae_error err;
    if (ae_ws_vector_store(ws, vs, &err) < 0) {
        fprintf(stderr, "aetherd: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

/* Imported vectors replace the symbol's embedding in the active backend (one
 * embedding per symbol, as in the legacy table); record that, so the indexer
 * knows what the backend holds. */
static int record_imported(void *ctx, const ae_vs_record *recs, size_t n, ae_error *err)
{
    ae_workspace *ws = ctx;
    AE_TRY(ae_meta_begin(ws->meta, err));
    for (size_t i = 0; i < n; i++) {
        int rc = ae_meta_embedded_put(ws->meta, ws->backend_name, recs[i].symbol_id,
                                      recs[i].sir_hash, recs[i].provider, recs[i].model, err);
        if (rc < 0) {
            ae_meta_rollback(ws->meta);
            return rc;
        }
    }
    return ae_meta_commit(ws->meta, err);
}

int cli_cmd_import(ae_workspace *ws, const cli_options *o)
{
    const char *path = o->import_path;
    ae_vector_store *vs;
    if (open_store(ws, &vs)) return EXIT_RUNTIME;
    FILE *in = !strcmp(path, "-") ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "aetherd: cannot open %s: %m\n", path);
        return EXIT_RUNTIME;
    }
    ae_jsonl_report *rep = calloc(1, sizeof *rep);
    ae_error err;
    int rc = rep ? ae_jsonl_import(vs, in, record_imported, ws, rep, &err) : AE_ENOMEM;
    if (in != stdin) fclose(in);
    if (!rep) return EXIT_RUNTIME;
    for (size_t i = 0; i < rep->bad && i < AE_JSONL_BAD_LINES_KEPT; i++)
        fprintf(stderr, "aetherd: %s:%zu: %s (line skipped)\n", path, rep->bad_lines[i].line,
                rep->bad_lines[i].message);
    if (rep->bad > AE_JSONL_BAD_LINES_KEPT)
        fprintf(stderr, "aetherd: ... and %zu more bad lines\n",
                rep->bad - AE_JSONL_BAD_LINES_KEPT);
    if (rc < 0) {
        fprintf(stderr, "aetherd: import into %s failed after %zu rows: %s\n", ws->backend_name,
                rep->imported, err.message);
        free(rep);
        return EXIT_RUNTIME;
    }
    fprintf(stderr,
            "aetherd: imported %zu embeddings into the %s backend (%zu bad lines skipped)\n",
            rep->imported, ws->backend_name, rep->bad);
    rc = rep->bad ? EXIT_RUNTIME : EXIT_OK;
    free(rep);
    return rc;
}

int cli_cmd_export(ae_workspace *ws, const cli_options *o)
{
    const char *path = o->export_path;
    ae_vector_store *vs;
    if (open_store(ws, &vs)) return EXIT_RUNTIME;
    FILE *out = !strcmp(path, "-") ? stdout : fopen(path, "w");
    if (!out) {
        fprintf(stderr, "aetherd: cannot create %s: %m\n", path);
        return EXIT_RUNTIME;
    }
    size_t rows = 0;
    ae_error err;
    int rc = ae_jsonl_export(vs, out, &rows, &err);
    if (out != stdout && fclose(out) != 0 && rc == 0) rc = AE_EIO;
    if (rc < 0) {
        fprintf(stderr, "aetherd: export to %s failed: %s\n", path,
                rc == AE_EIO ? "write error" : err.message);
        return EXIT_RUNTIME;
    }
    fprintf(stderr, "aetherd: exported %zu embeddings from the %s backend\n", rows,
            ws->backend_name);
    return EXIT_OK;
}

int cli_cmd_vector_status(ae_workspace *ws, const cli_options *o)
{
    output_format fmt = o->output;
    ae_table_status *st = NULL;
    size_t n = 0;
    ae_error err;
    if (ae_lancedb_status(ws->vectors_dir, &st, &n, &err) < 0) {
        fprintf(stderr, "aetherd: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    const char *active = ws->config.embeddings.vector_backend;
    if (fmt == OUTPUT_JSON) {
        json_t *root =
            json_pack("{s:s, s:s}", "vector_backend", active, "vectors_dir", ws->vectors_dir);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *t = json_pack(
                "{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:s}", "name", st[i].name,
                "provider", st[i].provider, "model", st[i].model, "dim", (int)st[i].dim, "version",
                (json_int_t)st[i].version, "rows", (json_int_t)st[i].rows_live, "deleted_rows",
                (json_int_t)st[i].rows_deleted, "fragments", (json_int_t)st[i].fragments,
                "versions", (json_int_t)st[i].versions_retained, "index",
                st[i].has_index ? "ivfpq" : "none");
            if (st[i].has_index) {
                json_object_set_new(t, "index_rows", json_integer((json_int_t)st[i].index_rows));
                json_object_set_new(
                    t, "unindexed_rows",
                    json_integer((json_int_t)(st[i].rows_live > st[i].index_rows
                                                  ? st[i].rows_live - st[i].index_rows
                                                  : 0)));
            }
            json_array_append_new(arr, t);
        }
        json_object_set_new(root, "tables", arr);
        char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) puts(s);
        free(s);
        json_decref(root);
    } else {
        printf("vector_backend: %s (%s)\n", active,
               !strcmp(active, "lancedb") ? "native vector table" : "legacy sir_embeddings");
        printf("table\tprovider\tmodel\tdim\tversion\trows\tdeleted\tfragments\tversions\tindex\n");
        for (size_t i = 0; i < n; i++)
            printf("%s\t%s\t%s\t%u\t%llu\t%llu\t%llu\t%zu\t%zu\t%s\n", st[i].name, st[i].provider,
                   st[i].model, st[i].dim, (unsigned long long)st[i].version,
                   (unsigned long long)st[i].rows_live, (unsigned long long)st[i].rows_deleted,
                   st[i].fragments, st[i].versions_retained, st[i].has_index ? "ivfpq" : "none");
    }
    free(st);
    return EXIT_OK;
}

int cli_cmd_optimize(ae_workspace *ws, const cli_options *o)
{
    (void)o;
    ae_error err;
    if (ae_lancedb_optimize(ws->vectors_dir, NULL, &err) < 0) {
        fprintf(stderr, "aetherd: optimize failed: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    /* Rebuild the ANN index over the compacted tables where one is due. */
    ae_vector_store *vs;
    if (!strcmp(ws->config.embeddings.vector_backend, "lancedb") && open_store(ws, &vs) == 0 &&
        ae_vs_rebuild_index(vs, &err) < 0) {
        fprintf(stderr, "aetherd: index rebuild failed: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    fprintf(stderr, "aetherd: optimized the vector tables in %s\n", ws->vectors_dir);
    return EXIT_OK;
}

/* SQLite integrity, every vector table, index recall and the cross-store
 * invariants (src/verify/verify.h); exit 0 only when all hold. */
int cli_cmd_fsck(ae_workspace *ws, const cli_options *o)
{
    output_format fmt = o->output;
    ae_ws_verify rep;
    ae_error err;
    if (ae_ws_verify_run(ws, NULL, &rep, &err) < 0) {
        fprintf(stderr, "aetherd: fsck could not run: %s\n", err.message);
        ae_ws_verify_free(&rep);
        return EXIT_RUNTIME;
    }
    if (fmt == OUTPUT_JSON) {
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
    ae_ws_verify_free(&rep);
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
