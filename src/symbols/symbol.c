/* Symbol ids: what makes an id stable.
 *
 * 1. The id hashes language, path, kind, qualified name and the signature fingerprint, never
 *    line numbers or the body: moving a symbol or editing its body keeps its id, changing its
 *    signature (beyond whitespace) or renaming it gives a new one.
 * 2. The fingerprint drops ALL whitespace (not just collapses it), so re-wrapping a parameter
 *    list is not a signature change.  Same recipe as the reference tool, so ids match. */
#include "symbols/extract.h"

#include "util/bytes.h"
#include "util/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void ae_symbol_clear(ae_symbol *s)
{
    if (!s) return;
    free(s->language);
    free(s->file_path);
    free(s->kind);
    free(s->name);
    free(s->qualified_name);
    free(s->signature);
    free(s->source);
    free(s->doc);
    memset(s, 0, sizeof *s);
}

int ae_symbol_end_column(const char *source)
{
    if (!source) return 1;
    size_t len = strlen(source);
    while (len && (source[len - 1] == '\n' || source[len - 1] == '\r'))
        len--;
    size_t start = len;
    while (start && source[start - 1] != '\n')
        start--;
    return (int)(len - start) + 1;
}

int ae_symbol_compute_ids(ae_symbol *s)
{
    if (!s || !s->language || !s->file_path || !s->kind || !s->qualified_name) return AE_EINVAL;
    const char *sig = s->signature ? s->signature : "";
    const char *src = s->source ? s->source : "";

    size_t n = strlen(sig);
    char *compact = malloc(n + 1);
    if (!compact) return AE_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)sig[i])) compact[k++] = sig[i];
    blake3_hex(compact, k, s->signature_fingerprint);
    free(compact);

    blake3_hex(src, strlen(src), s->content_hash);

    ae_blake3 h;
    uint8_t out[AE_BLAKE3_OUT_LEN];
    const char *parts[] = {s->language, s->file_path, s->kind, s->qualified_name,
                           s->signature_fingerprint};
    ae_blake3_init(&h);
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        if (i) ae_blake3_update(&h, "\n", 1);
        ae_blake3_update(&h, parts[i], strlen(parts[i]));
    }
    ae_blake3_final(&h, out);
    ae_hex_encode(out, AE_BLAKE3_OUT_LEN, s->id);
    return 0;
}
