/* libFuzzer target for the ctags JSON-line parser and the source-text analysis behind it.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *     tests/fuzz/fuzz_ctags_json.c src/symbols/ctags_json.c src/symbols/span.c \
 *     src/util/err.c src/util/mem.c -ljansson -o fuzz_ctags_json
 *   ./fuzz_ctags_json -max_total_time=60 tests/fuzz/corpus/ctags
 *
 * 1. The input is one ctags output line: it must parse to a tag, to "no tag" (0) or to
 *    AE_ECORRUPT/AE_ENOMEM with a message; a tag has name, path, kind and a line >= 1, and
 *    maps to a kind and a qualified name in every language without crashing.
 * 2. The same bytes are then read as a source file: end line, signature, source and doc of a
 *    symbol at every line must stay inside the file (end in [start, nlines]). */
#include "symbols/internal.h"

#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const langs[] = {"rust",   "typescript", "tsx", "javascript", "jsx",
                                    "python", "c",          "cpp", "go",         "java"};
static const char *const kinds[] = {"function", "class", "constant", "type_alias", "macro"};

static void check_tag(const char *data, size_t size)
{
    ctags_tag t;
    ae_error err = {0};
    int rc = ctags_parse_line(data, size, &t, &err);
    if (rc < 0) {
        if ((rc != AE_ECORRUPT && rc != AE_ENOMEM) || err.code != rc || !err.message[0]) abort();
        if (t.name || t.path || t.kind) abort();
        return;
    }
    if (rc == 0) {
        if (t.name) abort();
        return;
    }
    if (rc != 1 || !t.name || !t.name[0] || !t.path || !t.kind || t.line < 1) abort();
    if (t.end != 0 && t.end < t.line) abort();
    for (size_t i = 0; i < sizeof langs / sizeof *langs; i++) {
        const char *k = ctags_normalize_kind(langs[i], &t, t.signature);
        if (k && !k[0]) abort();
        char *q = ctags_qualified_name(langs[i], &t);
        if (q && !strstr(q, t.name)) abort();
        free(q);
    }
    ctags_tag_clear(&t);
}

static void check_spans(const char *data, size_t size)
{
    if (size < 1) return;
    const char *lang = langs[(unsigned char)data[0] % (sizeof langs / sizeof *langs)];
    const char *kind = kinds[(unsigned char)data[size - 1] % (sizeof kinds / sizeof *kinds)];
    src_text s;
    if (src_text_init(&s, data, size) < 0) return;
    int step = s.nlines > 64 ? s.nlines / 64 : 1;
    for (int start = 1; start <= s.nlines; start += step) {
        size_t col = span_start_col(&s, start, "x");
        int end = span_end_line(&s, lang, kind, start, col);
        if (end < start || end > s.nlines) abort();
        char *sig = span_signature(&s, lang, kind, start, col, end);
        char *src = span_source(&s, start, end);
        char *doc = span_doc(&s, lang, kind, start, col, end);
        if (!sig || !src) abort();
        if (strlen(sig) > strlen(src) + 1 && !memchr(data, '\0', size)) abort();
        free(sig);
        free(src);
        free(doc);
    }
    src_text_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_tag((const char *)data, size);
    check_spans((const char *)data, size);
    return 0;
}
