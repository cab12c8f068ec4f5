/* BLAKE3 (default hash mode, 32-byte output) from the specification: portable C
 * with AVX2 / AVX-512 kernels for long inputs.
 * Hashes in this project are lower-case hex of the 32-byte digest, as in the
 * reference tool, so ids are interchangeable with it. */
#ifndef AE_UTIL_BLAKE3_H
#define AE_UTIL_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define AE_BLAKE3_OUT_LEN 32
#define AE_BLAKE3_HEX_LEN 64 /* without the terminating NUL */

typedef struct ae_blake3 {
    uint32_t cv_stack[54 * 8]; /* chaining values of completed subtrees */
    uint8_t cv_stack_len;
    uint32_t key[8];
    uint32_t chunk_cv[8];
    uint64_t chunk_counter;
    uint8_t block[64];
    uint8_t block_len;
    uint8_t blocks_compressed;
    uint8_t flags;
} ae_blake3;

void ae_blake3_init(ae_blake3 *h);
void ae_blake3_update(ae_blake3 *h, const void *data, size_t len);
void ae_blake3_final(const ae_blake3 *h, uint8_t out[AE_BLAKE3_OUT_LEN]);

/* The widest kernel in use: 1 (portable), 8 (AVX2) or 16 (AVX-512) chunks
 * at a time, detected from the CPU on first use.  ae_blake3_force_lanes(max)
 * caps it for the whole process (max <= 0: no cap) and returns the level now
 * in use; tests run every level against the same vectors.  Not for use while
 * another thread hashes. */
int ae_blake3_lanes(void);
int ae_blake3_force_lanes(int max);

/* One-shot: out receives 64 hex digits and a NUL. */
void blake3_hex(const void *data, size_t len, char out[AE_BLAKE3_HEX_LEN + 1]);

#endif
