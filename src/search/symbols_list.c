/* include/aether/symbols.h: the symbols of a workspace, through the search filters'
 * SQL (filter.c), so a listing and a filtered search agree on what matches.  One
 * statement is one read transaction: a listing never sees a commit half-way. */
#include <aether/symbols.h>

#include "search/search.h"
#include "meta/sqlite_err.h"
#include "util/err.h"
#include "workspace/workspace.h"

static const char *text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int ae_workspace_symbols(ae_workspace *ws, const ae_search_filter *filter, unsigned flags,
                         ae_symbol_fn fn, void *ctx, ae_error *err)
{
    AE_RETURN_IF(!ws || !fn, err, AE_EINVAL, "listing symbols needs a workspace and a callback");
    AE_RETURN_IF(flags & ~(unsigned)AE_SYMBOLS_WITH_SIR, err, AE_EINVAL,
                 "unknown symbol listing flags 0x%x", flags);
    if (!ws->meta) return 0;
    bool with_sir = flags & AE_SYMBOLS_WITH_SIR;
    const char *head = with_sir ? "SELECT s.id, s.qualified_name, s.file_path, s.language, s.kind, "
                                  "COALESCE(s.start_line, 0), COALESCE(s.end_line, 0), r.sir_json "
                                  "FROM symbols s LEFT JOIN sir r ON r.id = s.id WHERE 1"
                                : "SELECT s.id, s.qualified_name, s.file_path, s.language, s.kind, "
                                  "COALESCE(s.start_line, 0), COALESCE(s.end_line, 0), NULL "
                                  "FROM symbols s WHERE 1";
    sqlite3_stmt *st;
    AE_TRY(ae_filter_prepare(ws->meta, head, filter, " ORDER BY s.file_path, s.start_line, s.id",
                             &st, err));
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ae_symbol_row row = {
            .symbol_id = text(st, 0),
            .qualified_name = text(st, 1),
            .file_path = text(st, 2),
            .language = text(st, 3),
            .kind = text(st, 4),
            .start_line = sqlite3_column_int64(st, 5),
            .end_line = sqlite3_column_int64(st, 6),
            .sir_json = text(st, 7),
        };
        if ((rc = fn(&row, ctx)) != 0) break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ae_sqlite_fail(ae_meta_db(ws->meta), err, "listing symbols");
    sqlite3_finalize(st);
    return rc;
}
