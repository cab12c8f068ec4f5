/* The text an embedding provider reads for one symbol.
 *
 * Providers that learn from the workspace ("ppmi") read the names, the
 * signature, the file path and the SIR's values (embed_text.c says why not
 * the code);
 * every other provider reads the canonical SIR JSON unchanged, as the
 * reference tool does (so "mock" vectors stay interchangeable with it).
 * Training and embedding call this same function, so both see one text. */
#ifndef AE_EMBED_EMBED_TEXT_H
#define AE_EMBED_EMBED_TEXT_H

#include "util/mem.h"

/* Replaces out's contents (always NUL-terminated on success).  NULL fields
 * read as empty.  0 or AE_ENOMEM. */
typedef struct ae_embed_symbol {
    const char *name, *qualified_name, *signature, *file_path, *sir_json;
} ae_embed_symbol;

int ae_embed_symbol_text(const char *provider, const ae_embed_symbol *s, ae_buf *out);

#endif
