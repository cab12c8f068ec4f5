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

/* Lexical search's posting budget (lexical.c, docs/SEARCH.md phase 3): of n
 * query tokens, which BM25 scores.  The rule: while the tokens' row counts add
 * up to more than `budget` and more than one token is left, leave out the most
 * frequent (the first of equals).  Rows are counted through step(ctx, i, &row)
 * (the next row of token i: *row false once there is none), but not all of
 * them (see lexical.c): keep[] is the rule's, df[] the exact count of each
 * kept token, and of a left-out one a lower bound.  One token is kept without
 * counting (df -1). */
#define AE_SEARCH_MAX_QUERY_TOKENS 32
typedef int (*ae_row_step)(void *ctx, int i, bool *row, ae_error *err);
int ae_search_choose_tokens(int n, int64_t budget, ae_row_step step, void *ctx, int64_t *df,
                            bool *keep, ae_error *err);
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
