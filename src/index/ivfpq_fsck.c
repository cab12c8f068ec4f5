/* Full check of an open IVF-PQ index (what open leaves out for speed).
 *
 * 1. Every section's BLAKE3 is recomputed and compared with the header, which
 *    open already checked against its own checksum and the trailer.
 * 2. Structure: every row id < rows and each row in exactly one list (a
 *    bitmap of rows bits), padding codes in each list's last block are zero,
 *    every float is finite. */
#include "index/ivfpq_internal.h"

#include "util/pagecache.h"
#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int fsck_all(const ae_ivfpq *ix, ae_error *err);

int ae_ivfpq_fsck(const ae_ivfpq *ix, ae_error *err)
{
    AE_RETURN_IF(!ix, err, AE_EINVAL, "no index");
    ae_pc_advise(ix->map, ix->map_bytes, true); /* one pass over the whole file */
    int rc = fsck_all(ix, err);
    ae_pc_advise(ix->map, ix->map_bytes, false);
    return rc;
}

static int fsck_all(const ae_ivfpq *ix, ae_error *err)
{
    for (int s = 0; s < IVFPQ_NSECTIONS; s++) {
        uint8_t hh[IVFPQ_HASH_BYTES];
        ivfpq_hash(ix->map + ix->sec_off[s], (size_t)ix->sec_size[s], hh);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* reach the structural checks */
        continue;
#endif
        AE_RETURN_IF(memcmp(hh, ix->map + IVFPQ_OFF_SECTION_HASHES + IVFPQ_HASH_BYTES * s,
                            IVFPQ_HASH_BYTES) != 0,
                     err, AE_ECORRUPT, "%s: %s section checksum mismatch", ix->path,
                     ivfpq_section_name(s));
    }
    size_t nf = (size_t)ix->nlist * ix->dim;
    for (size_t i = 0; i < nf; i++)
        AE_RETURN_IF(!isfinite(ix->centroids[i]), err, AE_ECORRUPT,
                     "%s: non-finite centroid value at %zu", ix->path, i);
    for (size_t i = 0; i < (size_t)AE_IVFPQ_KSUB * ix->dim; i++)
        AE_RETURN_IF(!isfinite(ix->codebooks[i]), err, AE_ECORRUPT,
                     "%s: non-finite codebook value at %zu", ix->path, i);
    uint8_t *seen = ae_calloc_array((size_t)(ix->rows / 8 + 1), 1);
    AE_RETURN_IF(!seen, err, AE_ENOMEM, "out of memory verifying %llu rows",
                 (unsigned long long)ix->rows);
    int rc = 0;
    for (uint32_t l = 0; l < ix->nlist; l++) {
        for (uint64_t p = ix->list_off[l]; p < ix->list_off[l + 1]; p++) {
            uint32_t r = ix->ids[p];
            if (r >= ix->rows)
                AE_FAIL(err, AE_ECORRUPT, "%s: list %u holds row %u, beyond the %llu rows",
                        ix->path, l, r, (unsigned long long)ix->rows);
            if (seen[r / 8] & (1u << (r % 8)))
                AE_FAIL(err, AE_ECORRUPT, "%s: row %u appears in more than one list entry",
                        ix->path, r);
            seen[r / 8] |= (uint8_t)(1u << (r % 8));
        }
        uint64_t len = ix->list_off[l + 1] - ix->list_off[l];
        if (len % IVFPQ_BLOCK) {
            const uint8_t *blk = ix->codes + (ix->block_off[l + 1] - 1) * ix->m * IVFPQ_BLOCK;
            for (uint32_t j = 0; j < ix->m; j++)
                for (uint64_t i = len % IVFPQ_BLOCK; i < IVFPQ_BLOCK; i++)
                    if (blk[(size_t)j * IVFPQ_BLOCK + i])
                        AE_FAIL(err, AE_ECORRUPT, "%s: list %u: padding codes are not zero",
                                ix->path, l);
        }
    }
cleanup:
    free(seen);
    return rc;
}
