/* The text an embedding provider reads for one symbol.
 *
 * Providers that learn from the workspace ("ppmi") read the qualified name,
 * the signature and the SIR's values (embed_text.c says why not the code);
 * every other provider reads the canonical SIR JSON unchanged, as the
 * reference tool does (so "mock" vectors stay interchangeable with it).
 * Training and embedding call this same function, so both see one text. */
#ifndef AE_EMBED_EMBED_TEXT_H
#define AE_EMBED_EMBED_TEXT_H

#include "util/mem.h"

/* Replaces out's contents (always NUL-terminated on success).  NULL fields
 * read as empty.  0 or AE_ENOMEM. */
int ae_embed_symbol_text(const char *provider, const char *qualified_name, const char *signature,
                         const char *sir_json, ae_buf *out);

#endif
