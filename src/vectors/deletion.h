/* Deletion files: the sorted row numbers deleted from one fragment.
 *
 * Written copy-on-write: a commit that deletes rows from a fragment writes a
 * new file deletions/<fragment id>-<version>-<token>.del holding every deleted
 * row of that fragment so far, and the manifest points at it.  Little-endian:
 *
 *   OFFSET   SIZE  MEANING
 *   0        8     magic "AEDELETE"
 *   8        4     format version (1)
 *   12       4     reserved, 0
 *   16       8     fragment id
 *   24       8     count n
 *   32       4n    row numbers, uint32, strictly ascending
 *   32+4n    32    BLAKE3 of bytes [0, 32+4n)
 */
#ifndef AE_VECTORS_DELETION_H
#define AE_VECTORS_DELETION_H

#include <aether/error.h>
#include <stddef.h>
#include <stdint.h>

#define AE_DELETION_MAGIC   "AEDELETE"
#define AE_DELETION_FORMAT  1
#define AE_DELETION_HEADER  32
#define AE_DELETION_TRAILER 32

/* Encodes rows[0..n) (must be strictly ascending); *out allocated. */
int deletion_encode(uint64_t fragment_id, const uint32_t *rows, size_t n, char **out, size_t *len,
                    ae_error *err);
/* Checks magic, version, checksum, order and every row < nrows; *rows
 * allocated (caller frees).  `name` is used in messages. */
int deletion_decode(const char *data, size_t len, const char *name, uint64_t fragment_id,
                    uint64_t nrows, uint32_t **rows, size_t *n, ae_error *err);
/* Reads and decodes a file. */
int deletion_read(const char *path, uint64_t fragment_id, uint64_t nrows, uint32_t **rows,
                  size_t *n, ae_error *err);

#endif
