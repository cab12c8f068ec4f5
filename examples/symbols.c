/* The symbols of a workspace from C (include/aether/symbols.h): what an editor's
 * outline or a bench's corpus reader needs, through the public listing call.
 *   cc -Iinclude examples/symbols.c build/libaether.a $(pkg-config --libs sqlite3 jansson
 * libcurl openblas) -lm -lpthread
 *   ./a.out path/to/repo [LANGUAGE [PATH_PREFIX]]
 * Indexes the workspace (incrementally), then prints one line per symbol,
 * "file:start-end kind name sir|-", and a count. */
#include <aether/symbols.h>

#include <stdio.h>

typedef struct counts {
    size_t symbols, with_sir;
} counts;

static int print_row(const ae_symbol_row *r, void *ctx)
{
    counts *c = ctx;
    printf("%s:%lld-%lld %s %s %s\n", r->file_path, (long long)r->start_line,
           (long long)r->end_line, r->kind, r->qualified_name, r->sir_json ? "sir" : "-");
    c->symbols++;
    if (r->sir_json) c->with_sir++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s WORKSPACE [LANGUAGE [PATH_PREFIX]]\n", argv[0]);
        return 2;
    }
    ae_workspace *ws;
    ae_error err;
    if (ae_workspace_open(argv[1], NULL, &ws, &err) < 0) {
        fprintf(stderr, "open: %s (%s)\n", err.message, ae_strerror(err.code));
        return 1;
    }
    int rc = 1;
    ae_index_stats stats;
    if (ae_workspace_index(ws, NULL, &stats, &err) < 0) {
        fprintf(stderr, "index: %s\n", err.message);
        goto done;
    }
    ae_search_filter f = {.language = argc > 2 ? argv[2] : NULL,
                          .path_prefix = argc > 3 ? argv[3] : NULL};
    counts c = {0};
    if (ae_workspace_symbols(ws, &f, AE_SYMBOLS_WITH_SIR, print_row, &c, &err) < 0) {
        fprintf(stderr, "symbols: %s\n", err.message);
        goto done;
    }
    printf("%zu symbols, %zu with a SIR\n", c.symbols, c.with_sir);
    rc = 0;
done:
    ae_workspace_close(ws);
    return rc;
}
