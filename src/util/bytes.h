/* Byte encodings shared by the file formats: little-endian integers (every
 * on-disk integer of the project) and lower-case hex (checksums, ids). */
#ifndef AE_UTIL_BYTES_H
#define AE_UTIL_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* Byte by byte, so they are right on any host; compilers turn them into one
 * load or store on a little-endian one. */
static inline void ae_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void ae_put_le64(uint8_t *p, uint64_t v)
{
    ae_put_le32(p, (uint32_t)v);
    ae_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t ae_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t ae_get_le64(const uint8_t *p)
{
    return (uint64_t)ae_get_le32(p) | ((uint64_t)ae_get_le32(p + 4) << 32);
}

/* out receives 2 * n lower-case hex digits and a NUL (2 * n + 1 bytes). */
void ae_hex_encode(const void *data, size_t n, char *out);

#endif
