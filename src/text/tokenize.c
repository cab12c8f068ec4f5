/* Sub-token splitter (see tokenize.h for the rules).
 *
 * 1. Boundaries are decided from ASCII classes only, so a cut always falls
 *    next to an ASCII byte and never inside a UTF-8 sequence; bytes >= 0x80
 *    count as lower-case letters (caféBar -> café bar).
 * 2. The stop table is data: sorted, searched with bsearch, tested row by row. */
#include "text/tokenize.h"

#include <stdlib.h>
#include <string.h>

/* Function words of English prose (docstrings, comments, queries). Words that
 * name code ("return", "get", "set", "new", "file") are deliberately absent. */
const char *const ae_tok_stop_words[] = {
    "a",       "about",   "after",  "all",    "also",  "an",   "and",   "any",   "are",
    "as",      "at",      "be",     "been",   "being", "but",  "by",    "can",   "could",
    "do",      "does",    "each",   "either", "for",   "from", "had",   "has",   "have",
    "how",     "however", "i",      "if",     "in",    "into", "is",    "it",    "its",
    "may",     "might",   "must",   "no",     "of",    "on",   "one",   "only",  "or",
    "other",   "our",     "should", "so",     "some",  "such", "than",  "that",  "the",
    "their",   "them",    "then",   "there",  "these", "they", "this",  "those", "to",
    "too",     "us",      "very",   "was",    "we",    "were", "what",  "when",  "where",
    "whether", "which",   "while",  "who",    "will",  "with", "would", "you",   "your",
};
const size_t ae_tok_stop_count = sizeof ae_tok_stop_words / sizeof ae_tok_stop_words[0];

enum { C_SEP, C_UPPER, C_LOWER, C_DIGIT, C_UNDER };

static int cls(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return C_UPPER;
    if ((c >= 'a' && c <= 'z') || c >= 0x80) return C_LOWER;
    if (c >= '0' && c <= '9') return C_DIGIT;
    if (c == '_') return C_UNDER;
    return C_SEP;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

typedef struct {
    const char *w;
    size_t n;
} stop_key;

static int stop_cmp(const void *k, const void *e)
{
    const stop_key *key = k;
    const char *s = *(const char *const *)e;
    size_t sn = strlen(s);
    size_t m = key->n < sn ? key->n : sn;
    int c = memcmp(key->w, s, m);
    if (c) return c;
    return key->n < sn ? -1 : key->n > sn;
}

int ae_tok_is_stop(const char *w, size_t n)
{
    stop_key key = {w, n};
    return bsearch(&key, ae_tok_stop_words, ae_tok_stop_count, sizeof ae_tok_stop_words[0],
                   stop_cmp) != NULL;
}

void ae_tok_init(ae_tok_iter *it, const char *s, size_t len, unsigned flags)
{
    memset(it, 0, sizeof *it);
    it->s = s ? s : "";
    it->len = s ? len : 0;
    it->flags = flags;
}

/* End of the sub-token starting at a (a < we, s[a] != '_'). */
static size_t sub_end(const char *s, size_t a, size_t we)
{
    size_t i = a + 1;
    for (; i < we; i++) {
        int p = cls((unsigned char)s[i - 1]), c = cls((unsigned char)s[i]);
        if (c == C_UNDER) break;
        if ((p == C_DIGIT) != (c == C_DIGIT)) break;
        if (p == C_LOWER && c == C_UPPER) break;
        if (p == C_UPPER && c == C_UPPER && i + 1 < we && cls((unsigned char)s[i + 1]) == C_LOWER)
            break;
    }
    return i;
}

/* Finds the next word; 0 at the end of input. */
static int next_word(ae_tok_iter *it)
{
    const char *s = it->s;
    size_t i = it->pos;
    while (i < it->len && cls((unsigned char)s[i]) == C_SEP)
        i++;
    if (i >= it->len) {
        it->pos = i;
        return 0;
    }
    size_t j = i;
    while (j < it->len && cls((unsigned char)s[j]) != C_SEP)
        j++;
    it->ws = it->sp = i;
    it->we = it->pos = j;
    it->whole_pending = 0;
    if (it->flags & AE_TOK_WHOLE) {
        size_t a = i, b = j;
        while (a < b && s[a] == '_')
            a++;
        while (b > a && s[b - 1] == '_')
            b--;
        /* Whole only if the word has two or more parts. */
        if (a < b && sub_end(s, a, b) < b) {
            it->ws = a;
            it->whole_pending = 1;
        }
    }
    return 1;
}

static int emit(ae_tok_iter *it, size_t a, size_t b, const char **tok, size_t *n)
{
    size_t len = b - a;
    if (len == 0 || len > AE_TOK_MAX) return 0;
    for (size_t k = 0; k < len; k++)
        it->buf[k] = lower(it->s[a + k]);
    it->buf[len] = '\0';
    if ((it->flags & AE_TOK_STOP) && ae_tok_is_stop(it->buf, len)) return 0;
    *tok = it->buf;
    *n = len;
    return 1;
}

int ae_tok_next(ae_tok_iter *it, const char **tok, size_t *n)
{
    for (;;) {
        if (it->whole_pending) {
            it->whole_pending = 0;
            size_t b = it->we;
            while (b > it->ws && it->s[b - 1] == '_')
                b--;
            if (emit(it, it->ws, b, tok, n)) return 1;
            continue;
        }
        while (it->sp < it->we && it->s[it->sp] == '_')
            it->sp++;
        if (it->sp >= it->we) {
            if (!next_word(it)) return 0;
            continue;
        }
        size_t a = it->sp, b = sub_end(it->s, a, it->we);
        it->sp = b;
        if (emit(it, a, b, tok, n)) return 1;
    }
}
