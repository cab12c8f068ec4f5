/* libaether: the symbols of a workspace, listed.
 *
 *   ae_search_filter f = {.language = "python"};
 *   ae_workspace_symbols(ws, &f, AE_SYMBOLS_WITH_SIR, each_symbol, ctx, &err);
 *
 * Rows come in (file_path, start_line, symbol_id) order, one call of fn per symbol;
 * the strings are borrowed for the duration of the call.  fn returning non-zero stops
 * the listing, and that value is returned.  A workspace without a store lists nothing
 * (returns 0).  The listing reads one snapshot: a writer committing meanwhile is not
 * seen half-way. */
#ifndef AETHER_SYMBOLS_H
#define AETHER_SYMBOLS_H

#include <aether/aether.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ae_symbol_row {
    const char *symbol_id, *qualified_name, *file_path, *language, *kind;
    int64_t start_line, end_line; /* 1-based, inclusive; 0 when unknown */
    const char *sir_json;         /* with AE_SYMBOLS_WITH_SIR: the SIR, or NULL (none yet) */
} ae_symbol_row;

typedef int (*ae_symbol_fn)(const ae_symbol_row *row, void *ctx);

enum { AE_SYMBOLS_WITH_SIR = 1 }; /* flags */

/* filter: NULL or any subset of language / path_prefix / kind (as in ae_search_ex). */
int ae_workspace_symbols(ae_workspace *ws, const ae_search_filter *filter, unsigned flags,
                         ae_symbol_fn fn, void *ctx, ae_error *err);

#ifdef __cplusplus
}
#endif
#endif
