/* The slice of the Arrow IPC file format aether writes and reads: schema with
 * Utf8 / Int / FloatingPoint / FixedSizeList fields, record batches without
 * nulls or compression, no dictionaries.  Only metadata lives here; column
 * meaning belongs to fragment.c.
 *
 * Encapsulated message (at a Block offset, 8-byte aligned):
 *   OFFSET  SIZE  MEANING
 *   0       4     0xFFFFFFFF continuation marker
 *   4       4     int32 L: flatbuffer Message size incl. padding
 *   8       L     Message flatbuffer, zero-padded
 *   8+L     B     body (buffers), B = Message.bodyLength
 * File: "ARROW1\0\0", schema message, batches, EOS (FFFFFFFF 00000000),
 *   Footer flatbuffer, int32 footer size, "ARROW1". */
#ifndef AE_VECTORS_ARROW_IPC_H
#define AE_VECTORS_ARROW_IPC_H

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/mem.h"
#include "vectors/flatbuf.h"

/* Schema.fbs / Message.fbs enum values */
#define ARROW_METADATA_V5          4
#define ARROW_TYPE_INT             2
#define ARROW_TYPE_FLOATING_POINT  3
#define ARROW_TYPE_UTF8            5
#define ARROW_TYPE_FIXED_SIZE_LIST 16
#define ARROW_PRECISION_SINGLE     1
#define ARROW_HEADER_SCHEMA        1
#define ARROW_HEADER_RECORD_BATCH  3

#define ARROW_MAGIC     "ARROW1"
#define ARROW_MAGIC_LEN 6
#define ARROW_TRAILER   10 /* int32 footer size + "ARROW1" */

/* ---- writing ---------------------------------------------------------- */

typedef struct arrow_field {
    const char *name;
    uint8_t type;  /* ARROW_TYPE_* */
    int32_t param; /* Int: bit width (signed); FloatingPoint: precision; FixedSizeList: size */
    const struct arrow_field *child; /* FixedSizeList only */
} arrow_field;

typedef struct arrow_kv {
    const char *key, *value;
} arrow_kv;

typedef struct arrow_node {
    int64_t length, null_count;
} arrow_node;

typedef struct arrow_buffer {
    int64_t offset, length; /* relative to the body */
} arrow_buffer;

typedef struct arrow_block {
    int64_t offset;   /* of the message's continuation marker */
    int32_t meta_len; /* 8 + L */
    int64_t body_len;
} arrow_block;

/* Appends an encapsulated Schema message. */
int arrow_put_schema_message(ae_buf *out, const arrow_field *fields, size_t nfields,
                             const arrow_kv *meta, size_t nmeta);
/* Appends an encapsulated RecordBatch message (without its body) that starts
 * at file offset `at`, padded so the body starts at a multiple of
 * `body_align` (a power of two >= 8).  *meta_len receives the Block value. */
int arrow_put_batch_message(ae_buf *out, uint64_t at, size_t body_align, int64_t length,
                            const arrow_node *nodes, size_t nnodes, const arrow_buffer *buffers,
                            size_t nbuffers, int64_t body_len, int32_t *meta_len);
/* Appends a Footer flatbuffer followed by the trailer (size + magic). */
int arrow_put_footer(ae_buf *out, const arrow_field *fields, size_t nfields,
                     const arrow_kv *schema_meta, size_t nschema_meta, const arrow_block *batches,
                     size_t nbatches, const arrow_kv *footer_meta, size_t nfooter_meta);

/* ---- reading (every function checks bounds; AE_ECORRUPT "PATH: what") --- */

typedef struct arrow_file {
    const uint8_t *base;
    size_t size;
    size_t footer_pos;
    uint32_t footer_len;
    fb_table footer, schema;
    int16_t endianness;
    fb_vector fields;      /* Field tables */
    fb_vector schema_meta; /* KeyValue tables; count 0 if absent */
    fb_vector footer_meta; /* KeyValue tables; count 0 if absent */
    fb_vector batches;     /* Block structs, 24 bytes each */
} arrow_file;

typedef struct arrow_field_view {
    const char *name;
    uint32_t name_len;
    bool nullable, has_dictionary;
    uint8_t type;
    int32_t param; /* as in arrow_field; Int: bit width */
    bool is_signed;
    fb_vector children;
} arrow_field_view;

typedef struct arrow_batch {
    int64_t length;
    uint64_t body_pos, body_len; /* file offset and size of the body */
    fb_vector nodes, buffers;    /* 16-byte structs */
} arrow_batch;

int arrow_file_open(const char *path, const uint8_t *base, size_t size, arrow_file *out,
                    ae_error *err);
int arrow_field_read(const char *path, const fb_table *field, arrow_field_view *out, ae_error *err);
/* Finds key in a KeyValue vector; 1 found, 0 absent, AE_ECORRUPT. */
int arrow_kv_find(const char *path, const fb_vector *kvs, const char *key, const char **value,
                  uint32_t *value_len, ae_error *err);
/* Block i, checked to lie between the file magic and the footer. */
int arrow_file_block(const char *path, const arrow_file *f, uint32_t i, arrow_block *out,
                     ae_error *err);
/* Parses the RecordBatch message of a block; every Buffer is checked to lie
 * inside the body and be 8-byte aligned. */
int arrow_batch_read(const char *path, const arrow_file *f, const arrow_block *block,
                     arrow_batch *out, ae_error *err);
arrow_node arrow_batch_node(const arrow_batch *b, uint32_t i);     /* i < nodes.count */
arrow_buffer arrow_batch_buffer(const arrow_batch *b, uint32_t i); /* i < buffers.count */

#endif
