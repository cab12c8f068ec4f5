/* Search filters as SQL: the conditions present, with named parameters, so
 * every statement that takes a filter binds it the same way and the planner
 * sees plain column comparisons it can answer from an index
 * (idx_symbols_language, idx_symbols_kind, idx_symbols_file). */
#include "search/search.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool set(const char *s)
{
    return s && s[0];
}

bool ae_filter_active(const ae_search_filter *f)
{
    return f && (set(f->language) || set(f->path_prefix) || set(f->kind));
}

const char *ae_filter_sql(const ae_search_filter *f)
{
    static const char *const variants[8] = {
        "",
        " AND s.language = :f_lang",
        " AND s.kind = :f_kind",
        " AND s.language = :f_lang AND s.kind = :f_kind",
        " AND s.file_path >= :f_path AND s.file_path < :f_path_end",
        " AND s.language = :f_lang AND s.file_path >= :f_path AND s.file_path < :f_path_end",
        " AND s.kind = :f_kind AND s.file_path >= :f_path AND s.file_path < :f_path_end",
        (" AND s.language = :f_lang AND s.kind = :f_kind AND s.file_path >= :f_path AND "
         "s.file_path < :f_path_end"),
    };
    if (!f) return variants[0];
    int v = (set(f->language) ? 1 : 0) | (set(f->kind) ? 2 : 0) | (set(f->path_prefix) ? 4 : 0);
    return variants[v];
}

int ae_filter_bind(sqlite3_stmt *st, const ae_search_filter *f, ae_error *err)
{
    if (!ae_filter_active(f)) return 0;
    int i;
    if (set(f->language) && (i = sqlite3_bind_parameter_index(st, ":f_lang")) > 0)
        sqlite3_bind_text(st, i, f->language, -1, SQLITE_TRANSIENT);
    if (set(f->kind) && (i = sqlite3_bind_parameter_index(st, ":f_kind")) > 0)
        sqlite3_bind_text(st, i, f->kind, -1, SQLITE_TRANSIENT);
    if (set(f->path_prefix)) {
        /* prefix range: every path starting with P sorts in [P, P "\xff"):
         * no UTF-8 text holds the byte 0xff */
        size_t n = strlen(f->path_prefix);
        char *end = malloc(n + 2);
        if (!end) return ae_fail(err, AE_ENOMEM, "out of memory");
        memcpy(end, f->path_prefix, n);
        end[n] = (char)0xff;
        end[n + 1] = '\0';
        if ((i = sqlite3_bind_parameter_index(st, ":f_path")) > 0)
            sqlite3_bind_text(st, i, f->path_prefix, -1, SQLITE_TRANSIENT);
        if ((i = sqlite3_bind_parameter_index(st, ":f_path_end")) > 0)
            sqlite3_bind_text(st, i, end, (int)n + 1, SQLITE_TRANSIENT);
        free(end);
    }
    return 0;
}

int ae_filter_prepare(ae_meta *m, const char *head, const ae_search_filter *f, const char *tail,
                      sqlite3_stmt **st, ae_error *err)
{
    char *sql = NULL;
    if (asprintf(&sql, "%s%s%s", head, ae_filter_sql(f), tail ? tail : "") < 0)
        return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = ae_meta_prepare(m, sql, st, err);
    free(sql);
    if (rc < 0) return rc;
    rc = ae_filter_bind(*st, f, err);
    if (rc < 0) {
        sqlite3_finalize(*st);
        *st = NULL;
    }
    return rc;
}
