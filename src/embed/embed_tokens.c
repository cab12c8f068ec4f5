/* Sub-tokens for the learned embedder, over the shared splitter (src/text).
 *
 * 1. Splitting, lower-casing and the English stop table are src/text's
 *    (AE_TOK_STOP), so lexical search and the embedder cut words alike.
 * 2. The embedder also drops digit runs, one-byte tokens and tokens longer
 *    than EMBED_TOKEN_MAX: they are ids, loop variables and blobs, and they
 *    would fill the vocabulary.  (The SIR's JSON keys never reach here:
 *    embed_text.c reads the values only.) */
#include "embed/embed_tokens.h"

#include "text/tokenize.h"

int embed_tokenize(const char *s, size_t n, embed_token_fn fn, void *ctx)
{
    ae_tok_iter it;
    ae_tok_init(&it, s, n, AE_TOK_STOP);
    const char *tok;
    size_t len;
    while (ae_tok_next(&it, &tok, &len)) {
        if (len < 2 || len > EMBED_TOKEN_MAX) continue;
        if (tok[0] >= '0' && tok[0] <= '9') continue; /* sub-tokens never mix digits and letters */
        int rc = fn(tok, len, ctx);
        if (rc < 0) return rc;
    }
    return 0;
}
