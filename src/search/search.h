/* Search internals shared with tests (the public API is in aether/aether.h). */
#ifndef AE_SEARCH_SEARCH_H
#define AE_SEARCH_SEARCH_H

#include <aether/aether.h>

#include "meta/meta.h"

/* Lexical matches into r (r->matches allocated with room for the limit);
 * see lexical.c for the phases.  f may be NULL. */
int ae_search_lexical_ex(ae_workspace *ws, const char *query, const ae_search_filter *f,
                         size_t limit, ae_search_results *r, ae_error *err);
int ae_search_lexical(ae_workspace *ws, const char *query, size_t limit, ae_search_results *r,
                      ae_error *err);
/* RRF of two ranked lists into out (copies the matches). */
int ae_search_fuse_rrf(const ae_search_results *lex, const ae_search_results *sem, size_t limit,
                       ae_search_results *out, ae_error *err);

size_t ae_search_clamp_limit(size_t limit);
/* Appends the symbols of ids (in order, skipping ids with no symbol row) to
 * r, up to limit; with_scores copies each hit's score. */
int ae_search_resolve(ae_workspace *ws, const ae_vs_hit *ids, size_t n, size_t limit,
                      bool with_scores, ae_search_results *r, ae_error *err);

/* Filters as SQL over `symbols s` (filter.c): " AND s.language = :f_lang ..."
 * for the fields set; bind fills those parameters of a prepared statement. */
bool ae_filter_active(const ae_search_filter *f);
const char *ae_filter_sql(const ae_search_filter *f);
int ae_filter_bind(sqlite3_stmt *st, const ae_search_filter *f, ae_error *err);
/* Prepares head + filter + tail and binds the filter. */
int ae_filter_prepare(ae_meta *m, const char *head, const ae_search_filter *f, const char *tail,
                      sqlite3_stmt **st, ae_error *err);

#endif
