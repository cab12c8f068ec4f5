/* aetherd --migrate-vectors: runs (or re-runs, ignoring the marker) the
 * sqlite -> lancedb migration of a workspace and prints rows per table and
 * the malformed rows by id.  Progress on stderr: rows, rate and ETA redrawn in
 * place on a terminal; one summary line otherwise.  The report goes to stdout
 * (tab-separated lines, or one JSON object with --output json). */
#include "cli/cli.h"

#include <aether/admin.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct tty_progress {
    double start, last;
    int drawn;
} tty_progress;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw(void *ctx, size_t done, size_t total)
{
    tty_progress *p = ctx;
    double t = mono();
    if (t - p->last < 0.1 && done != total) return;
    p->last = t;
    double rate = t > p->start ? (double)done / (t - p->start) : 0;
    double eta = rate > 0 && total > done ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r\033[Kmigrate: %zu/%zu rows (%.0f rows/s, ETA %.0fs)", done, total, rate,
            eta);
    p->drawn = 1;
}

static void print_json(const ae_migrate_report *r)
{
    json_t *o = json_object(), *tables = json_array(), *bad = json_array();
    for (size_t i = 0; i < r->n_tables; i++) {
        const ae_migrate_table *t = &r->tables[i];
        char name[AE_ADMIN_NAME_MAX];
        ae_vector_table_name(t->provider, t->model, t->dim, name);
        json_array_append_new(tables, json_pack("{s:s, s:s, s:s, s:I, s:I}", "table", name,
                                                "provider", t->provider, "model", t->model, "dim",
                                                (json_int_t)t->dim, "rows", (json_int_t)t->rows));
    }
    for (size_t i = 0; i < r->n_bad; i++)
        json_array_append_new(bad, json_pack("{s:s, s:s}", "symbol_id", r->bad[i].symbol_id,
                                             "reason", r->bad[i].reason));
    json_object_set_new(o, "from", json_string("sqlite"));
    json_object_set_new(o, "to", json_string("lancedb"));
    json_object_set_new(o, "rows_read", json_integer((json_int_t)r->rows_read));
    json_object_set_new(o, "rows_migrated", json_integer((json_int_t)r->rows_migrated));
    json_object_set_new(o, "rows_malformed", json_integer((json_int_t)r->rows_malformed));
    json_object_set_new(o, "rows_newer_kept", json_integer((json_int_t)r->rows_newer));
    json_object_set_new(o, "rows_pruned", json_integer((json_int_t)r->rows_pruned));
    json_object_set_new(o, "tables", tables);
    json_object_set_new(o, "malformed", bad);
    json_object_set_new(o, "marker_written", json_boolean(r->marker_written));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) puts(s);
    free(s);
    json_decref(o);
}

static void print_table(const ae_migrate_report *r)
{
    printf("table\tprovider\tmodel\tdim\trows\n");
    for (size_t i = 0; i < r->n_tables; i++) {
        const ae_migrate_table *t = &r->tables[i];
        char name[AE_ADMIN_NAME_MAX];
        ae_vector_table_name(t->provider, t->model, t->dim, name);
        printf("%s\t%s\t%s\t%u\t%zu\n", name, t->provider, t->model, t->dim, t->rows);
    }
    for (size_t i = 0; i < r->n_bad; i++)
        printf("malformed\t%s\t%s\n", *r->bad[i].symbol_id ? r->bad[i].symbol_id : "(empty)",
               r->bad[i].reason);
    if (r->rows_malformed > r->n_bad)
        printf("malformed\t...\tand %zu more\n", r->rows_malformed - r->n_bad);
}

int cli_cmd_migrate(ae_workspace *ws, const cli_options *opt)
{
    ae_error err;
    tty_progress tp = {.start = mono()};
    ae_migrate_opts o = {0};
    if (isatty(STDERR_FILENO)) {
        o.progress = draw;
        o.progress_ctx = &tp;
    }
    ae_migrate_report rep = {0};
    int rc = ae_workspace_migrate_vectors(ws, &o, &rep, &err);
    if (tp.drawn) fprintf(stderr, "\r\033[K");
    if (rc < 0) {
        fprintf(stderr, "aetherd: migration failed: %s\n", err.message);
        ae_migrate_report_free(&rep);
        return EXIT_RUNTIME;
    }
    double rate = rep.seconds > 0 ? (double)rep.rows_migrated / rep.seconds : 0;
    fprintf(stderr,
            "aetherd: migrated %zu of %zu legacy rows into %zu tables in %.2fs (%.0f rows/s); "
            "%zu malformed skipped, %zu kept newer in lancedb, %zu orphans pruned\n",
            rep.rows_migrated, rep.rows_read, rep.n_tables, rep.seconds, rate, rep.rows_malformed,
            rep.rows_newer, rep.rows_pruned);
    if (opt->output == OUTPUT_JSON)
        print_json(&rep);
    else
        print_table(&rep);
    ae_migrate_report_free(&rep);
    return EXIT_OK;
}
