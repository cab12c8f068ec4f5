/* aetherd: the command-line front end; the only code that prints.
 * Flags follow the reference tool.  Exit codes: 0 ok, 1 runtime error, 2 usage. */
#include "cli/cli.h"

#include "store/migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: aetherd [--workspace DIR] [--index-once] [--print-sir]\n"
    "               [--search QUERY] [--search-mode lexical|semantic|hybrid]\n"
    "               [--search-limit N] [--output table|json]\n"
    "\n"
    "  --workspace DIR       workspace root (default .); state lives in DIR/.aether/\n"
    "  --index-once          run one incremental indexing pass, then exit\n"
    "  --print-sir           with --index-once: print SIR_STORED lines for each SIR written\n"
    "  --search QUERY        search symbols (after indexing, when both are given)\n"
    "  --search-mode MODE    lexical (default), semantic or hybrid\n"
    "  --search-limit N      number of results, 1..100 (default 20)\n"
    "  --output FORMAT       table (default) or json\n"
    "  --nprobe N            IVF lists to probe in semantic search (default from config)\n"
    "  --refine N            re-rank depth: k * N candidates are re-scored exactly\n"
    "  --exact               semantic search by exact scan, bypassing any index\n"
    "  --search-vector JSON  semantic search with a given query vector, e.g. '[0.1, 0.2]';\n"
    "                        needs --search-provider P and --search-model M\n"
    "\n"
    "vector store (the backend chosen by [embeddings] vector_backend):\n"
    "  --import-embeddings FILE  import JSON lines {symbol_id, sir_hash, provider, model,\n"
    "                            embedding}; bad lines are reported and skipped ('-' = stdin)\n"
    "  --export-embeddings FILE  export every stored embedding as JSON lines ('-' = stdout)\n"
    "  --vector-status       tables with rows, fragments, versions, deleted rows, index state\n"
    "  --optimize            compact the vector tables, drop old versions, rebuild indexes\n"
    "  --verify              check meta.sqlite, every vector table, index recall and that\n"
    "                        every embedding matches a current SIR; exit 1 on any problem\n"
    "  --repair              fix what verify found without loss (orphan files, damaged\n"
    "                        index, missing or orphaned embeddings) and report it\n"
    "  --migrate-vectors     copy legacy sir_embeddings rows into the vector tables (again);\n"
    "                        prints rows per table and any malformed rows\n"
    "  --help, --version\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "aetherd: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'aetherd --help'.\n");
    return EXIT_USAGE;
}

static int parse_count(const char *flag, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) {
        fprintf(stderr, "aetherd: %s expects a whole number, not '%s'\n", flag, s);
        return EXIT_USAGE;
    }
    if (v < min) v = min;
    if (v > max) v = max;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, cli_options *o)
{
    *o = (cli_options){.workspace = ".",
                       .search_mode = AE_SEARCH_LEXICAL,
                       .search_limit = AE_SEARCH_LIMIT_DEFAULT,
                       .output = OUTPUT_TABLE};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* Flags that take a value accept both "--flag value" and "--flag=value". */
        const char *val = NULL;
        char name[64];
        const char *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            val = eq + 1;
            a = name;
        }
#define VALUE()                                                                                    \
    do {                                                                                           \
        if (!val) {                                                                                \
            if (i + 1 >= argc) return usage_error("%s needs a value", a);                          \
            val = argv[++i];                                                                       \
        }                                                                                          \
    } while (0)
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(EXIT_OK);
        } else if (!strcmp(a, "--version")) {
            printf("aetherd %s\n", AE_VERSION);
            exit(EXIT_OK);
        } else if (!strcmp(a, "--workspace")) {
            VALUE();
            o->workspace = val;
        } else if (!strcmp(a, "--index-once")) {
            o->index_once = true;
        } else if (!strcmp(a, "--print-sir")) {
            o->print_sir = true;
        } else if (!strcmp(a, "--search")) {
            VALUE();
            o->search = val;
        } else if (!strcmp(a, "--search-mode")) {
            VALUE();
            if (ae_search_mode_parse(val, &o->search_mode) < 0)
                return usage_error("--search-mode expects lexical, semantic or hybrid, not '%s'",
                                   val);
        } else if (!strcmp(a, "--search-limit")) {
            VALUE();
            if (parse_count(a, val, AE_SEARCH_LIMIT_MIN, AE_SEARCH_LIMIT_MAX, &n))
                return EXIT_USAGE;
            o->search_limit = (size_t)n;
        } else if (!strcmp(a, "--output")) {
            VALUE();
            if (!strcmp(val, "table"))
                o->output = OUTPUT_TABLE;
            else if (!strcmp(val, "json"))
                o->output = OUTPUT_JSON;
            else
                return usage_error("--output expects table or json, not '%s'", val);
        } else if (!strcmp(a, "--nprobe")) {
            VALUE();
            if (parse_count(a, val, 1, 1 << 20, &n)) return EXIT_USAGE;
            o->vs_opts.nprobe = (int)n;
        } else if (!strcmp(a, "--refine")) {
            VALUE();
            if (parse_count(a, val, 1, 1000, &n)) return EXIT_USAGE;
            o->vs_opts.refine_factor = (int)n;
        } else if (!strcmp(a, "--exact")) {
            o->vs_opts.exact = 1;
        } else if (!strcmp(a, "--search-vector")) {
            VALUE();
            o->search_vector = val;
        } else if (!strcmp(a, "--search-provider")) {
            VALUE();
            o->search_provider = val;
        } else if (!strcmp(a, "--search-model")) {
            VALUE();
            o->search_model = val;
        } else if (!strcmp(a, "--import-embeddings")) {
            VALUE();
            o->import_path = val;
        } else if (!strcmp(a, "--export-embeddings")) {
            VALUE();
            o->export_path = val;
        } else if (!strcmp(a, "--vector-status")) {
            o->vector_status = true;
        } else if (!strcmp(a, "--optimize")) {
            o->optimize = true;
        } else if (!strcmp(a, "--verify")) {
            o->verify = true;
        } else if (!strcmp(a, "--repair")) {
            o->repair = true;
        } else if (!strcmp(a, "--migrate-vectors")) {
            o->migrate = true;
        } else {
            return usage_error("unknown argument '%s'", argv[i]);
        }
#undef VALUE
    }
    if (o->search && o->search_vector)
        return usage_error("%s", "give either --search or --search-vector, not both");
    if (o->search_vector && (!o->search_provider || !o->search_model))
        return usage_error("%s", "--search-vector needs --search-provider and --search-model");
    if (!o->index_once && !o->search && !o->search_vector && !o->import_path && !o->export_path &&
        !o->vector_status && !o->optimize && !o->verify && !o->migrate && !o->repair)
        return usage_error("%s", "nothing to do: give --index-once and/or --search QUERY");
    if (o->print_sir && !o->index_once) return usage_error("%s", "--print-sir needs --index-once");
    return 0;
}

static void print_sir_line(void *ctx, const char *id, const char *hash, const char *provider)
{
    (void)ctx;
    printf("SIR_STORED symbol_id=%s sir_hash=%s provider=%s\n", id, hash, provider);
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

static int run_index(ae_workspace *ws, const cli_options *o)
{
    ae_index_callbacks cb = {0};
    if (isatty(STDERR_FILENO)) {
        cb.progress = cli_progress;
        ae_migrate_set_progress(migrate_progress, NULL);
    }
    if (o->print_sir) cb.sir_stored = print_sir_line;
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
            "%zu SIRs written, %zu embeddings written, %zu removed, in %.2fs\n",
            st.files_seen, st.files_changed, st.files_removed, st.symbols_total, st.sirs_written,
            st.embeddings_written, st.embeddings_deleted, st.seconds);
    return EXIT_OK;
}

static int run_search(ae_workspace *ws, const cli_options *o)
{
    ae_search_results *r;
    ae_error err;
    if (ae_search(ws, o->search, o->search_mode, o->search_limit, &o->vs_opts, &r, &err) < 0) {
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

static int run_search_vector(ae_workspace *ws, const cli_options *o)
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
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    if (o.migrate) {
        rc = cli_cmd_migrate(o.workspace, o.output == OUTPUT_JSON);
        if (rc != EXIT_OK ||
            (!o.index_once && !o.search && !o.search_vector && !o.import_path && !o.export_path &&
             !o.vector_status && !o.optimize && !o.verify && !o.repair))
            return rc;
    }
    ae_workspace *ws;
    ae_error err;
    ae_open_options oo = {.readonly = !o.index_once && !o.import_path && !o.optimize && !o.repair};
    if (ae_workspace_open(o.workspace, &oo, &ws, &err) < 0) {
        fprintf(stderr, "aetherd: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    size_t nw;
    const char *const *warnings = ae_workspace_warnings(ws, &nw);
    for (size_t i = 0; i < nw; i++)
        fprintf(stderr, "aetherd: warning: %s\n", warnings[i]);
    if (o.import_path) rc = cli_cmd_import(ws, o.import_path);
    if (rc == EXIT_OK && o.index_once) rc = run_index(ws, &o);
    if (rc == EXIT_OK && o.optimize) rc = cli_cmd_optimize(ws);
    if (rc == EXIT_OK && o.search) rc = run_search(ws, &o);
    if (rc == EXIT_OK && o.search_vector) rc = run_search_vector(ws, &o);
    if (rc == EXIT_OK && o.export_path) rc = cli_cmd_export(ws, o.export_path);
    if (rc == EXIT_OK && o.vector_status) rc = cli_cmd_vector_status(ws, o.output);
    if (rc == EXIT_OK && o.repair) rc = cli_cmd_repair(ws, o.output);
    if (rc == EXIT_OK && o.verify) rc = cli_cmd_verify(ws, o.output);
    ae_workspace_close(ws);
    return rc;
}
