/* Using libaether from C with nothing but the public headers:
 *   cc -Iinclude examples/search.c build/libaether.a $(pkg-config --libs sqlite3 jansson libcurl
 * openblas) -lm -lpthread
 *   ./a.out path/to/repo "parse config"
 * Indexes the workspace (incrementally) and prints a hybrid search. */
#include <aether/aether.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WORKSPACE QUERY\n", argv[0]);
        return 2;
    }
    ae_workspace *ws;
    ae_error err;
    if (ae_workspace_open(argv[1], NULL, &ws, &err) < 0) {
        fprintf(stderr, "open: %s (%s)\n", err.message, ae_strerror(err.code));
        return 1;
    }
    ae_index_stats stats;
    if (ae_workspace_index(ws, NULL, &stats, &err) < 0) {
        fprintf(stderr, "index: %s\n", err.message);
        ae_workspace_close(ws);
        return 1;
    }
    printf("%zu symbols (%zu files changed)\n", stats.symbols_total, stats.files_changed);
    ae_search_results *r;
    if (ae_search(ws, argv[2], AE_SEARCH_HYBRID, 5, NULL, &r, &err) < 0) {
        fprintf(stderr, "search: %s\n", err.message);
        ae_workspace_close(ws);
        return 1;
    }
    printf("mode %s%s%s\n", ae_search_mode_name(r->mode_used),
           r->fallback_reason ? ", fell back: " : "", r->fallback_reason ? r->fallback_reason : "");
    for (size_t i = 0; i < r->n; i++)
        printf("%s\t%s\t%s\n", r->matches[i].qualified_name, r->matches[i].file_path,
               r->matches[i].kind);
    ae_search_results_free(r);
    ae_workspace_close(ws);
    return 0;
}
