/* Sub-token splitter shared by lexical search (FTS5 index and queries) and the
 * embedders: one definition of "word" so a query and the text it should find
 * are cut the same way.
 *
 * What it does, in order:
 *   1. A word is a maximal run of ASCII letters, digits, '_' and bytes >= 0x80
 *      (UTF-8 sequences stay whole; they are never split or case-folded).
 *      Everything else separates words.
 *   2. A word is cut into sub-tokens at '_', at lower->Upper (getValue ->
 *      get value), before the last capital of a capital run followed by a
 *      lower-case letter (HTTPServer -> http server, XMLHttpRequest -> xml http
 *      request) and between letters and digits (sha256sum -> sha 256 sum).
 *   3. ASCII letters are lower-cased into the iterator's buffer.
 *   4. AE_TOK_STOP drops the words of a small English stop table
 *      (ae_tok_stop_words; "the", "of", "return" is NOT in it: it is code).
 *   5. AE_TOK_WHOLE also yields the whole word, lower-cased with '_' kept and
 *      leading/trailing '_' trimmed, before its parts, when it was cut into
 *      two or more sub-tokens (getValue -> getvalue get value).
 *   6. Tokens longer than AE_TOK_MAX bytes are skipped (hashes, base64 blobs).
 *
 * No allocation: the iterator lives on the caller's stack and the token it
 * yields is borrowed until the next call. */
#ifndef AE_TEXT_TOKENIZE_H
#define AE_TEXT_TOKENIZE_H

#include <stddef.h>

#define AE_TOK_MAX 64

enum {
    AE_TOK_STOP = 1u << 0,  /* drop stop words */
    AE_TOK_WHOLE = 1u << 1, /* also yield the whole word before its parts */
};

typedef struct ae_tok_iter {
    const char *s; /* input, borrowed */
    size_t len;
    size_t pos;    /* next byte of s to look at for a new word */
    size_t ws, we; /* current word [ws, we) */
    size_t sp;     /* next sub-token start inside the current word */
    unsigned flags;
    int whole_pending;
    char buf[AE_TOK_MAX + 1];
} ae_tok_iter;

/* Starts iterating s[0..len). s is borrowed for the iterator's life. */
void ae_tok_init(ae_tok_iter *it, const char *s, size_t len, unsigned flags);
/* Yields the next token: 1 with *tok (NUL-terminated, lower-case, borrowed
 * until the next call) and *n set, 0 at the end. */
int ae_tok_next(ae_tok_iter *it, const char **tok, size_t *n);

/* 1 if the lower-case token w[0..n) is in the stop table. */
int ae_tok_is_stop(const char *w, size_t n);

/* The stop table, sorted (bsearch), exposed for the row-by-row test. */
extern const char *const ae_tok_stop_words[];
extern const size_t ae_tok_stop_count;

#endif
