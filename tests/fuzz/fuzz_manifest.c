/* libFuzzer target for table manifests (src/vectors/manifest.c): the bytes
 * are decoded as a manifest file.  The first byte picks how:
 *   even: the rest as the whole file (trailer and all);
 *   odd:  the rest as the body line, followed by a trailer with its correct
 *         BLAKE3 and length, so the fuzzer gets past the checksum into the
 *         JSON and field checks.
 * A manifest that decodes must encode again, and that encoding must decode
 * to the same manifest and encode to the same bytes (no field is silently
 * dropped or changed).  Crashes, leaks and sanitizer reports are bugs; error
 * returns are fine.
 *   scripts/fuzz.sh builds it; seeds are tests/fuzz/corpus/manifest/. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/blake3.h"
#include "vectors/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *body = (const char *)data + 1;
    size_t blen = size - 1;
    char *file = NULL;
    size_t flen = 0;
    if (data[0] & 1) {
        char hex[AE_BLAKE3_HEX_LEN + 1];
        blake3_hex(body, blen, hex);
        char trailer[160];
        int tl = snprintf(trailer, sizeof trailer, "\n{\"body_blake3\":\"%s\",\"body_len\":%zu}\n",
                          hex, blen);
        file = malloc(blen + (size_t)tl + 1);
        if (!file) return 0;
        memcpy(file, body, blen);
        memcpy(file + blen, trailer, (size_t)tl);
        flen = blen + (size_t)tl;
    } else {
        file = malloc(blen + 1);
        if (!file) return 0;
        memcpy(file, body, blen);
        flen = blen;
    }
    ae_manifest m;
    ae_error err;
    if (manifest_decode(file, flen, "fuzz.manifest", &m, &err) == 0) {
        char *enc = NULL, *enc2 = NULL;
        size_t elen = 0, elen2 = 0;
        if (manifest_encode(&m, &enc, &elen, &err) != 0) abort(); /* decoded, so encodable */
        ae_manifest m2;
        if (manifest_decode(enc, elen, "re-encoded", &m2, &err) != 0) abort();
        if (m2.version != m.version || m2.dim != m.dim || m2.n_fragments != m.n_fragments ||
            m2.next_fragment_id != m.next_fragment_id || strcmp(m2.provider, m.provider) ||
            strcmp(m2.model, m.model))
            abort();
        if (manifest_encode(&m2, &enc2, &elen2, &err) != 0) abort();
        if (elen2 != elen || memcmp(enc, enc2, elen)) abort(); /* a fixed point */
        ae_manifest copy;
        if (manifest_copy(&m, &copy) == 0) manifest_free(&copy);
        manifest_free(&m2);
        free(enc);
        free(enc2);
        manifest_free(&m);
    }
    free(file);
    return 0;
}
