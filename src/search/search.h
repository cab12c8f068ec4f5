/* Search internals shared with tests (the public API is in aether/aether.h). */
#ifndef AE_SEARCH_SEARCH_H
#define AE_SEARCH_SEARCH_H

#include <aether/aether.h>

/* Lexical matches into r (r->matches allocated with room for the limit). */
int ae_search_lexical(ae_workspace *ws, const char *query, size_t limit, ae_search_results *r,
                      ae_error *err);
/* RRF of two ranked lists into out (copies the matches). */
int ae_search_fuse_rrf(const ae_search_results *lex, const ae_search_results *sem, size_t limit,
                       ae_search_results *out, ae_error *err);

#endif
