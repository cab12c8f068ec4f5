/* aetherd: the command-line front end; the only code that prints.
 * Flags follow the reference tool (args.c holds them as a table).  Exit
 * codes: 0 ok, 1 runtime error, 2 usage.
 *
 * main() parses, opens the workspace the way the mode's row asks, and calls
 * the mode's run function: adding a mode is a row in cli_modes[] below. */
#include "cli/cli.h"

#include <aether/admin.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int check_search_vector(const cli_options *o)
{
    if (!o->search_provider || !o->search_model)
        return cli_usage_error("--search-vector needs --search-provider and --search-model");
    return 0;
}

/* One row per mode, indexed by cli_mode.  The CLI_MODE_NONE row is the run
 * without a mode flag: the reference's watch mode. */
const cli_mode_def cli_modes[CLI_MODE_COUNT] = {
    [CLI_MODE_NONE] = {CLI_MODE_NONE, NULL, CLI_OPEN_WRITE, NULL, cli_run_watch},
    [CLI_MODE_INDEX_ONCE] = {CLI_MODE_INDEX_ONCE, "--index-once", CLI_OPEN_WRITE, NULL,
                             cli_run_index_once},
    [CLI_MODE_SEARCH] = {CLI_MODE_SEARCH, "--search", CLI_OPEN_READONLY, NULL, cli_run_search},
    [CLI_MODE_SEARCH_VECTOR] = {CLI_MODE_SEARCH_VECTOR, "--search-vector", CLI_OPEN_READONLY,
                                check_search_vector, cli_run_search_vector},
    [CLI_MODE_IMPORT] = {CLI_MODE_IMPORT, "--import-embeddings", CLI_OPEN_WRITE, NULL,
                         cli_cmd_import},
    [CLI_MODE_EXPORT] = {CLI_MODE_EXPORT, "--export-embeddings", CLI_OPEN_READONLY, NULL,
                         cli_cmd_export},
    [CLI_MODE_VECTOR_STATUS] = {CLI_MODE_VECTOR_STATUS, "--vector-status", CLI_OPEN_READONLY, NULL,
                                cli_cmd_vector_status},
    [CLI_MODE_OPTIMIZE] = {CLI_MODE_OPTIMIZE, "--optimize", CLI_OPEN_WRITE, NULL, cli_cmd_optimize},
    [CLI_MODE_FSCK] = {CLI_MODE_FSCK, "--fsck", CLI_OPEN_READONLY, NULL, cli_cmd_fsck},
    [CLI_MODE_REPAIR] = {CLI_MODE_REPAIR, "--repair", CLI_OPEN_WRITE, NULL, cli_cmd_repair},
    [CLI_MODE_MIGRATE] = {CLI_MODE_MIGRATE, "--migrate-vectors", CLI_OPEN_WRITE, NULL,
                          cli_cmd_migrate},
    [CLI_MODE_VERIFY] = {CLI_MODE_VERIFY, "--verify", CLI_OPEN_READONLY, NULL, cli_cmd_verify},
    [CLI_MODE_LSP] = {CLI_MODE_LSP, "--lsp", CLI_OPEN_NONE, NULL, cli_cmd_lsp},
};

static void print_sir_line(void *ctx, const char *id, const char *hash, const char *provider)
{
    (void)ctx;
    printf("SIR_STORED symbol_id=%s sir_hash=%s provider=%s\n", id, hash, provider);
}

static void print_sir_stale_line(void *ctx, const char *id, const char *error)
{
    (void)ctx;
    printf("SIR_STALE symbol_id=%s error=%s\n", id, error);
}

static void print_embedding_line(void *ctx, const char *id, const char *provider, const char *model)
{
    (void)ctx;
    printf("EMBEDDING_STORED symbol_id=%s provider=%s model=%s\n", id, provider, model);
}

static void show_notices(ae_workspace *ws)
{
    size_t n;
    const char *const *notes = ae_workspace_notices(ws, &n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "aetherd: note: %s\n", notes[i]);
}

static void migrate_progress(void *ctx, size_t done, size_t total)
{
    ae_index_progress p = {.phase = "migrate", .done = done, .total = total};
    cli_progress(ctx, &p);
}

int cli_run_index_once(ae_workspace *ws, const cli_options *o)
{
    int setup = cli_index_setup(ws, o);
    if (setup) return setup;
    ae_index_callbacks cb = {0};
    if (isatty(STDERR_FILENO)) {
        cb.progress = cli_progress;
        ae_migrate_set_progress(migrate_progress, NULL);
    }
    if (o->print_sir) {
        cb.sir_stored = print_sir_line;
        cb.sir_stale = print_sir_stale_line;
        cb.embedding_stored = print_embedding_line;
    }
    ae_index_stats st;
    ae_error err;
    int rc = ae_workspace_index(ws, &cb, &st, &err);
    cli_progress_done();
    fflush(stdout);
    show_notices(ws);
    if (rc < 0) {
        fprintf(stderr, "aetherd: indexing failed: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    fprintf(stderr,
            "aetherd: indexed %zu files (%zu changed, %zu removed): %zu symbols, "
            "%zu SIRs written (%zu failed), %zu embeddings written, %zu removed, in %.2fs\n",
            st.files_seen, st.files_changed, st.files_removed, st.symbols_total, st.sirs_written,
            st.sirs_failed, st.embeddings_written, st.embeddings_deleted, st.seconds);
    return EXIT_OK;
}

int cli_run_search(ae_workspace *ws, const cli_options *o)
{
    ae_search_results *r;
    ae_error err;
    ae_search_options so = {.vs = &o->vs_opts, .filter = o->filter};
    if (ae_search_ex(ws, o->search, o->search_mode, o->search_limit, &so, &r, &err) < 0) {
        show_notices(ws);
        fprintf(stderr, "aetherd: search failed: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    show_notices(ws);
    if (r->fallback_reason)
        fprintf(stderr, "aetherd: %s search fell back to lexical: %s\n",
                ae_search_mode_name(r->mode_requested), r->fallback_reason);
    cli_print_results(r, o->output);
    ae_search_results_free(r);
    return EXIT_OK;
}

int cli_run_search_vector(ae_workspace *ws, const cli_options *o)
{
    float *q;
    uint32_t dim;
    if (cli_parse_vector(o->search_vector, &q, &dim) < 0) {
        fprintf(stderr, "aetherd: --search-vector expects a JSON array of numbers\n");
        return EXIT_USAGE;
    }
    ae_search_results *r;
    ae_error err;
    int rc = ae_search_vector(ws, q, dim, o->search_provider, o->search_model, o->search_limit,
                              &o->vs_opts, &r, &err);
    free(q);
    show_notices(ws);
    if (rc < 0) {
        fprintf(stderr, "aetherd: search failed: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    cli_print_results(r, o->output);
    ae_search_results_free(r);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    cli_options o;
    int rc = cli_parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    const cli_mode_def *mode = &cli_modes[o.mode];
    if (mode->open == CLI_OPEN_NONE) return mode->run(NULL, &o);
    ae_workspace *ws;
    ae_error err;
    ae_open_options oo = {.readonly = mode->open == CLI_OPEN_READONLY};
    if (ae_workspace_open(o.workspace, &oo, &ws, &err) < 0) {
        fprintf(stderr, "aetherd: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    size_t nw;
    const char *const *warnings = ae_workspace_warnings(ws, &nw);
    for (size_t i = 0; i < nw; i++)
        fprintf(stderr, "aetherd: warning: %s\n", warnings[i]);
    rc = mode->run(ws, &o);
    /* Indexing and search show the notices in place (before their summary);
     * every other mode shows what opening the store did (a backend sync)
     * after its output. */
    if (o.mode != CLI_MODE_INDEX_ONCE && o.mode != CLI_MODE_SEARCH &&
        o.mode != CLI_MODE_SEARCH_VECTOR)
        show_notices(ws);
    ae_workspace_close(ws);
    return rc;
}
