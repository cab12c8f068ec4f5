/* A minimal FlatBuffers builder and a bounds-checked reader, enough for the
 * Arrow IPC metadata (Message, Schema, Footer).  No schema compiler, no
 * third-party code: the wire format is small and written down here.
 *
 *   buffer   : uoffset (u32) to the root table, then objects.
 *   table    : soffset (i32) at its start; vtable = table - soffset.
 *   vtable   : u16 vtable size, u16 table size, u16 offset of each field
 *              (from the table start; 0 = absent, reader uses the default).
 *   reference: a u32 stored at p points to p + value (always forward).
 *   vector   : u32 count, then elements; string = vector of bytes + NUL.
 * All little-endian.  The builder writes back to front like the reference
 * one, so every reference points forward. */
#ifndef AE_VECTORS_FLATBUF_H
#define AE_VECTORS_FLATBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- builder ---------------------------------------------------------- */

#define FB_MAX_FIELDS 8

typedef uint32_t fb_ref; /* distance of an object from the end of the buffer */

typedef struct fb_builder {
    uint8_t *buf; /* data lives at buf[cap - used, cap) */
    size_t cap, used;
    size_t max_align;
    bool oom; /* sticky: checked once by fb_finish */
    int nfields;
    struct {
        int id;
        uint8_t size;
        bool is_ref;
        uint64_t value; /* scalar bits, or the fb_ref */
    } fields[FB_MAX_FIELDS];
} fb_builder;

void fb_init(fb_builder *b);
void fb_free(fb_builder *b);

fb_ref fb_string(fb_builder *b, const char *s, size_t len);
/* Vector of n structs of elem_size bytes each (already little-endian). */
fb_ref fb_struct_vector(fb_builder *b, const void *elems, size_t n, size_t elem_size, size_t align);
/* Vector of references (tables or strings). */
fb_ref fb_ref_vector(fb_builder *b, const fb_ref *refs, size_t n);

/* Tables: start, add fields (any order), end.  Scalars equal to their schema
 * default may be skipped by the caller; fields are ids 0..FB_MAX_FIELDS-1. */
void fb_table_start(fb_builder *b);
void fb_add_u8(fb_builder *b, int id, uint8_t v);
void fb_add_i16(fb_builder *b, int id, int16_t v);
void fb_add_i32(fb_builder *b, int id, int32_t v);
void fb_add_i64(fb_builder *b, int id, int64_t v);
void fb_add_ref(fb_builder *b, int id, fb_ref r);
fb_ref fb_table_end(fb_builder *b);

/* Writes the root reference.  On success *out points at the finished buffer
 * (owned by b) of *len bytes, a multiple of 8; false if any allocation failed. */
bool fb_finish(fb_builder *b, fb_ref root, const uint8_t **out, size_t *len);

/* ---- reader ----------------------------------------------------------- */

/* A table inside buf[0, len).  Every accessor checks bounds against len and
 * returns false on anything out of range; absent fields give the default. */
typedef struct fb_table {
    const uint8_t *buf;
    size_t len;
    uint32_t pos;    /* table start */
    uint32_t vt;     /* vtable start */
    uint16_t vt_len; /* bytes */
    uint16_t t_len;  /* inline table bytes */
} fb_table;

/* A vector inside buf: count elements starting at pos. */
typedef struct fb_vector {
    const uint8_t *buf;
    size_t len;
    uint32_t pos; /* first element */
    uint32_t count;
} fb_vector;

bool fb_root(const uint8_t *buf, size_t len, fb_table *out);
bool fb_table_at(const uint8_t *buf, size_t len, uint32_t pos, fb_table *out);
bool fb_has(const fb_table *t, int id);
bool fb_get_u8(const fb_table *t, int id, uint8_t def, uint8_t *out);
bool fb_get_i16(const fb_table *t, int id, int16_t def, int16_t *out);
bool fb_get_i32(const fb_table *t, int id, int32_t def, int32_t *out);
bool fb_get_i64(const fb_table *t, int id, int64_t def, int64_t *out);
/* Absent reference fields: *present = false and true is returned. */
bool fb_get_table(const fb_table *t, int id, fb_table *out, bool *present);
bool fb_get_string(const fb_table *t, int id, const char **s, uint32_t *slen, bool *present);
bool fb_get_vector(const fb_table *t, int id, size_t elem_size, fb_vector *out, bool *present);
/* Elements of a vector of references. */
bool fb_vector_table(const fb_vector *v, uint32_t i, fb_table *out);
bool fb_vector_string(const fb_vector *v, uint32_t i, const char **s, uint32_t *slen);

static inline uint32_t fb_load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t fb_load_u64(const uint8_t *p)
{
    return (uint64_t)fb_load_u32(p) | (uint64_t)fb_load_u32(p + 4) << 32;
}

#endif
