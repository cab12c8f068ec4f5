/* Deletion files (see deletion.h for the layout).
 *
 * 1. A deletion file is never modified: each commit writes a fresh one, so a
 *    reader holding an older manifest still sees its own deletion set.
 * 2. Decoding rejects any disorder or out-of-range row, so the in-memory
 *    bitmap built from it can be trusted without further checks. */
#include "vectors/deletion.h"

#include "util/blake3.h"
#include "util/bytes.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int deletion_encode(uint64_t fragment_id, const uint32_t *rows, size_t n, char **out, size_t *len,
                    ae_error *err)
{
    *out = NULL;
    size_t body;
    if (!ae_mul_size(n, 4, &body) || body > SIZE_MAX - AE_DELETION_HEADER - AE_DELETION_TRAILER)
        return ae_fail(err, AE_ENOMEM, "deletion file of %zu rows is too large", n);
    size_t total = AE_DELETION_HEADER + body + AE_DELETION_TRAILER;
    uint8_t *p = calloc(1, total);
    if (!p) return ae_fail(err, AE_ENOMEM, "cannot allocate %zu bytes for a deletion file", total);
    memcpy(p, AE_DELETION_MAGIC, 8);
    ae_put_le32(p + 8, AE_DELETION_FORMAT);
    ae_put_le64(p + 16, fragment_id);
    ae_put_le64(p + 24, n);
    for (size_t i = 0; i < n; i++) {
        if (i && rows[i] <= rows[i - 1]) {
            free(p);
            return ae_fail(err, AE_EINVAL, "deletion rows not strictly ascending at %zu", i);
        }
        ae_put_le32(p + AE_DELETION_HEADER + 4 * i, rows[i]);
    }
    ae_blake3 h;
    ae_blake3_init(&h);
    ae_blake3_update(&h, p, AE_DELETION_HEADER + body);
    ae_blake3_final(&h, p + AE_DELETION_HEADER + body);
    *out = (char *)p;
    *len = total;
    return 0;
}

int deletion_decode(const char *data, size_t len, const char *name, uint64_t fragment_id,
                    uint64_t nrows, uint32_t **rows, size_t *n, ae_error *err)
{
    *rows = NULL;
    *n = 0;
    const uint8_t *p = (const uint8_t *)data;
    if (len < AE_DELETION_HEADER + AE_DELETION_TRAILER)
        return ae_fail(err, AE_ECORRUPT, "%s: truncated deletion file (%zu bytes)", name, len);
    if (memcmp(p, AE_DELETION_MAGIC, 8))
        return ae_fail(err, AE_ECORRUPT, "%s: bad deletion file magic", name);
    if (ae_get_le32(p + 8) != AE_DELETION_FORMAT)
        return ae_fail(err, AE_EVERSION, "%s: deletion format %" PRIu32 ", this build reads %d",
                       name, ae_get_le32(p + 8), AE_DELETION_FORMAT);
    uint64_t count = ae_get_le64(p + 24);
    if (count > (len - AE_DELETION_HEADER - AE_DELETION_TRAILER) / 4 ||
        AE_DELETION_HEADER + 4 * count + AE_DELETION_TRAILER != len)
        return ae_fail(err, AE_ECORRUPT, "%s: deletion file is %zu bytes, count %" PRIu64, name,
                       len, count);
    uint8_t digest[AE_BLAKE3_OUT_LEN];
    ae_blake3 h;
    ae_blake3_init(&h);
    ae_blake3_update(&h, p, len - AE_DELETION_TRAILER);
    ae_blake3_final(&h, digest);
    if (memcmp(digest, p + len - AE_DELETION_TRAILER, AE_DELETION_TRAILER))
        return ae_fail(err, AE_ECORRUPT, "%s: deletion file checksum mismatch", name);
    if (ae_get_le32(p + 12) != 0) /* found by fuzz_deletion: reserved means 0 */
        return ae_fail(err, AE_ECORRUPT, "%s: reserved header bytes are not 0", name);
    if (ae_get_le64(p + 16) != fragment_id)
        return ae_fail(err, AE_ECORRUPT,
                       "%s: deletion file is for fragment %" PRIu64 ", not %" PRIu64, name,
                       ae_get_le64(p + 16), fragment_id);
    uint32_t *r = ae_calloc_array(count ? count : 1, sizeof *r);
    if (!r) return ae_fail(err, AE_ENOMEM, "out of memory reading %s", name);
    for (uint64_t i = 0; i < count; i++) {
        r[i] = ae_get_le32(p + AE_DELETION_HEADER + 4 * i);
        if ((i && r[i] <= r[i - 1]) || r[i] >= nrows) {
            uint32_t bad = r[i];
            free(r);
            return ae_fail(err, AE_ECORRUPT,
                           "%s: deleted row %" PRIu32 " at position %" PRIu64
                           " is out of order or not below %" PRIu64,
                           name, bad, i, nrows);
        }
    }
    *rows = r;
    *n = (size_t)count;
    return 0;
}

int deletion_read(const char *path, uint64_t fragment_id, uint64_t nrows, uint32_t **rows,
                  size_t *n, ae_error *err)
{
    char *data = NULL;
    size_t len = 0;
    AE_TRY(ae_read_file(path, &data, &len, err));
    const char *base = strrchr(path, '/');
    int rc = deletion_decode(data, len, base ? base + 1 : path, fragment_id, nrows, rows, n, err);
    free(data);
    return rc;
}
