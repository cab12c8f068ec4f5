/* libFuzzer target for deletion files (src/vectors/deletion.c).  The first
 * byte picks how the rest becomes a file:
 *   0: as is (magic, header, rows and checksum all from the input);
 *   1: followed by its correct BLAKE3, so the header and row checks are
 *      reached;
 *   2: a valid header (fragment 7, the count from the input's length) + the
 *      input as rows + the correct BLAKE3: the order and range checks.
 * The second byte (and the third, mode 2) give the fragment's row count.  A
 * file that decodes must hold strictly ascending rows below that count, and
 * encode back to exactly the same bytes.  Crashes, leaks and sanitizer
 * reports are bugs; error returns are fine. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/blake3.h"
#include "vectors/deletion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    int mode = data[0] % 3;
    uint64_t nrows = (uint64_t)data[1] | (uint64_t)data[2] << 8;
    const uint8_t *in = data + 3;
    size_t n = size - 3;
    uint64_t frag = mode == 2 ? 7 : 0;
    size_t cap = n + AE_DELETION_HEADER + AE_DELETION_TRAILER;
    uint8_t *file = malloc(cap);
    if (!file) return 0;
    size_t len = 0;
    if (mode == 2) {
        memcpy(file, AE_DELETION_MAGIC, 8);
        memset(file + 8, 0, 8);
        file[8] = AE_DELETION_FORMAT;
        put64(file + 16, frag);
        put64(file + 24, n / 4);
        len = AE_DELETION_HEADER;
        memcpy(file + len, in, n / 4 * 4);
        len += n / 4 * 4;
    } else {
        memcpy(file, in, n);
        len = n;
        if (len >= 24) { /* the fragment id the file claims is the one asked for */
            frag = 0;
            for (int i = 0; i < 8; i++)
                frag |= (uint64_t)in[16 + i] << (8 * i);
        }
    }
    if (mode >= 1) {
        ae_blake3 h;
        ae_blake3_init(&h);
        ae_blake3_update(&h, file, len);
        ae_blake3_final(&h, file + len);
        len += AE_BLAKE3_OUT_LEN;
    }
    uint32_t *rows = NULL;
    size_t nr = 0;
    ae_error err;
    if (deletion_decode((const char *)file, len, "fuzz.del", frag, nrows, &rows, &nr, &err) == 0) {
        for (size_t i = 0; i < nr; i++)
            if (rows[i] >= nrows || (i && rows[i] <= rows[i - 1])) abort();
        char *enc = NULL;
        size_t elen = 0;
        if (deletion_encode(frag, rows, nr, &enc, &elen, &err) != 0) abort();
        if (elen != len || memcmp(enc, file, len)) abort(); /* one encoding per deletion set */
        free(enc);
    }
    free(rows);
    free(file);
    return 0;
}
