/* The first sentence of a doc comment: the static provider's intent when a symbol has one,
 * and what search-quality work reads as a symbol's summary.
 *
 * 1. A sentence ends at '.', '!' or '?' followed by a space or the end, except after the
 *    abbreviations of a small table (e.g., i.e., etc., vs., approx., cf.); a blank line (a
 *    paragraph end) ends it too.  A leading @brief / \\brief / @summary tag is dropped.
 * 2. Whitespace runs become one space; more than STATIC_MAX_INTENT bytes are cut at a word
 *    boundary and marked "..."; invalid UTF-8 becomes '?'. */
#include "sir/static_internal.h"

#include "util/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool abbreviation_before(const char *buf, size_t len)
{
    static const char *const abbr[] = {"e.g", "i.e", "etc", "vs", "approx", "cf", NULL};
    size_t start = len;
    while (start > 0 && buf[start - 1] != ' ')
        start--;
    char word[16];
    size_t wl = len - start;
    if (wl == 0 || wl >= sizeof word) return false;
    for (size_t i = 0; i < wl; i++)
        word[i] = (char)tolower((unsigned char)buf[start + i]);
    word[wl] = '\0';
    return static_in_list(word, abbr);
}

/* Cuts an over-long sentence at a word boundary and marks the cut with "...". */
static void truncate_intent(char *s)
{
    size_t len = strlen(s);
    if (len <= STATIC_MAX_INTENT) return;
    size_t cut = STATIC_MAX_INTENT - 3;
    size_t sp = cut;
    while (sp > 0 && s[sp] != ' ')
        sp--;
    if (sp > cut / 2) {
        cut = sp;
    } else {
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    while (cut > 0 && (s[cut - 1] == ' ' || s[cut - 1] == ','))
        cut--;
    memcpy(s + cut, "...", 4);
}

/* The first sentence of a doc comment, whitespace collapsed, at most STATIC_MAX_INTENT bytes;
 * NULL (and 0) when the doc is blank, AE_ENOMEM on failure. */
int static_doc_sentence(const char *doc, char **out)
{
    *out = NULL;
    if (!doc) return 0;
    while (isspace((unsigned char)*doc))
        doc++;
    static const char *const brief[] = {"@brief", "\\brief", "@summary", NULL};
    for (const char *const *b = brief; *b; b++) {
        size_t bl = strlen(*b);
        if (strncmp(doc, *b, bl) == 0 && isspace((unsigned char)doc[bl])) doc += bl;
    }
    size_t n = strlen(doc);
    char *buf = malloc(n + 1);
    if (!buf) return AE_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = doc[i];
        if (isspace((unsigned char)c)) {
            int newlines = 0;
            while (i < n && isspace((unsigned char)doc[i]))
                newlines += doc[i++] == '\n';
            i--;
            if (newlines >= 2 && o > 0) break; /* paragraph end */
            if (o > 0) buf[o++] = ' ';
            continue;
        }
        buf[o++] = c;
        if ((c == '.' || c == '!' || c == '?') &&
            (i + 1 == n || isspace((unsigned char)doc[i + 1])) &&
            !(c == '.' && abbreviation_before(buf, o - 1)))
            break;
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
    if (o == 0) {
        free(buf);
        return 0;
    }
    truncate_intent(buf);
    char *clean = static_clean_text(buf, strlen(buf));
    free(buf);
    if (!clean) return AE_ENOMEM;
    *out = clean;
    return 0;
}
