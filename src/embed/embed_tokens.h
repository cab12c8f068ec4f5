/* Sub-tokens for the learned embedder (private to src/embed/).
 *
 * The shared splitter (src/text/tokenize.h: snake_case, camelCase, acronym and
 * digit cuts, lower-case, English stop words) minus digit runs, one-byte
 * tokens and tokens longer than EMBED_TOKEN_MAX bytes. */
#ifndef AE_EMBED_TOKENS_H
#define AE_EMBED_TOKENS_H

#include <stddef.h>

#define EMBED_TOKEN_MAX 32

/* Bumped whenever the tokens change (here or in src/text): a model records the
 * version it was trained with, and a model of another version is retrained. */
#define EMBED_TOKENIZER_VERSION 1

/* Tokens of one text that training and embedding read (the rest is ignored). */
#define EMBED_DOC_TOKENS_MAX 4096

/* Called once per token in text order; tok is NUL-terminated, lower-case,
 * borrowed for the call.  A negative return stops the walk and is returned. */
typedef int (*embed_token_fn)(const char *tok, size_t len, void *ctx);

/* Walks s[0..n).  Returns 0 or the first negative callback result. */
int embed_tokenize(const char *s, size_t n, embed_token_fn fn, void *ctx);

#endif
