/* Arrow IPC metadata: build and parse Schema, RecordBatch and Footer.
 *
 * 1. Field ids follow Schema.fbs / Message.fbs / File.fbs; the numbers are
 *    named once below (F_*), next to the table they belong to.
 * 2. A union is two fields: the type tag (u8) at id k and the table at k+1.
 * 3. Writers pad each message so the next thing (a body, a message) starts
 *    aligned: batch bodies at `body_align` so buffers can be mmapped as
 *    float arrays.
 * 4. Readers take a slice and never look outside it; a failed flatbuffer
 *    check turns into AE_ECORRUPT naming the table that was bad. */
#include "vectors/arrow_ipc.h"

#include <string.h>

#include "util/err.h"

/* Message */
enum { F_MSG_VERSION = 0, F_MSG_HEADER_TYPE = 1, F_MSG_HEADER = 2, F_MSG_BODY_LEN = 3 };
/* Schema */
enum { F_SCHEMA_ENDIANNESS = 0, F_SCHEMA_FIELDS = 1, F_SCHEMA_META = 2 };
/* Field */
enum {
    F_FIELD_NAME = 0,
    F_FIELD_NULLABLE = 1,
    F_FIELD_TYPE_TYPE = 2,
    F_FIELD_TYPE = 3,
    F_FIELD_DICTIONARY = 4,
    F_FIELD_CHILDREN = 5
};
/* KeyValue */
enum { F_KV_KEY = 0, F_KV_VALUE = 1 };
/* RecordBatch */
enum { F_RB_LENGTH = 0, F_RB_NODES = 1, F_RB_BUFFERS = 2, F_RB_COMPRESSION = 3 };
/* Footer */
enum {
    F_FOOTER_VERSION = 0,
    F_FOOTER_SCHEMA = 1,
    F_FOOTER_DICTIONARIES = 2,
    F_FOOTER_BATCHES = 3,
    F_FOOTER_META = 4
};
/* Int {bitWidth, is_signed}, FloatingPoint {precision}, FixedSizeList {listSize} */

#define BLOCK_SIZE 24

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int64_t load_i64(const uint8_t *p)
{
    return (int64_t)fb_load_u64(p);
}

/* ---- writing ---------------------------------------------------------- */

static fb_ref build_field(fb_builder *b, const arrow_field *f)
{
    fb_ref children[1];
    size_t nchildren = 0;
    if (f->type == ARROW_TYPE_FIXED_SIZE_LIST && f->child)
        children[nchildren++] = build_field(b, f->child);
    fb_ref kids = fb_ref_vector(b, children, nchildren);
    fb_ref name = fb_string(b, f->name, strlen(f->name));
    fb_table_start(b);
    switch (f->type) {
    case ARROW_TYPE_INT:
        fb_add_i32(b, 0, f->param);
        fb_add_u8(b, 1, 1);
        break;
    case ARROW_TYPE_FLOATING_POINT:
        fb_add_i16(b, 0, (int16_t)f->param);
        break;
    case ARROW_TYPE_FIXED_SIZE_LIST:
        fb_add_i32(b, 0, f->param);
        break;
    default:
        break;
    }
    fb_ref type = fb_table_end(b);
    fb_table_start(b);
    fb_add_ref(b, F_FIELD_NAME, name);
    fb_add_u8(b, F_FIELD_NULLABLE, 0);
    fb_add_u8(b, F_FIELD_TYPE_TYPE, f->type);
    fb_add_ref(b, F_FIELD_TYPE, type);
    fb_add_ref(b, F_FIELD_CHILDREN, kids);
    return fb_table_end(b);
}

static fb_ref build_kvs(fb_builder *b, const arrow_kv *kv, size_t n)
{
    fb_ref refs[8];
    if (n > 8) n = 8;
    for (size_t i = 0; i < n; i++) {
        fb_ref k = fb_string(b, kv[i].key, strlen(kv[i].key));
        fb_ref v = fb_string(b, kv[i].value, strlen(kv[i].value));
        fb_table_start(b);
        fb_add_ref(b, F_KV_KEY, k);
        fb_add_ref(b, F_KV_VALUE, v);
        refs[i] = fb_table_end(b);
    }
    return fb_ref_vector(b, refs, n);
}

static fb_ref build_schema(fb_builder *b, const arrow_field *fields, size_t nfields,
                           const arrow_kv *meta, size_t nmeta)
{
    fb_ref refs[16];
    if (nfields > 16) nfields = 16;
    for (size_t i = 0; i < nfields; i++)
        refs[i] = build_field(b, &fields[i]);
    fb_ref fv = fb_ref_vector(b, refs, nfields);
    fb_ref mv = nmeta ? build_kvs(b, meta, nmeta) : 0;
    fb_table_start(b);
    fb_add_ref(b, F_SCHEMA_FIELDS, fv);
    if (nmeta) fb_add_ref(b, F_SCHEMA_META, mv);
    return fb_table_end(b); /* endianness: default Little */
}

static fb_ref build_message(fb_builder *b, uint8_t header_type, fb_ref header, int64_t body_len)
{
    fb_table_start(b);
    fb_add_i16(b, F_MSG_VERSION, ARROW_METADATA_V5);
    fb_add_u8(b, F_MSG_HEADER_TYPE, header_type);
    fb_add_ref(b, F_MSG_HEADER, header);
    fb_add_i64(b, F_MSG_BODY_LEN, body_len);
    return fb_table_end(b);
}

/* Continuation, size, flatbuffer, zero padding up to `align` from file offset `at`. */
static int put_message(ae_buf *out, fb_builder *b, fb_ref root, uint64_t at, size_t align,
                       int32_t *meta_len)
{
    const uint8_t *fb;
    size_t len;
    if (!fb_finish(b, root, &fb, &len)) return AE_ENOMEM;
    size_t total = 8 + len;
    total += (0 - (size_t)(at + total)) & (align - 1);
    if (total > INT32_MAX) return AE_ENOMEM;
    uint8_t head[8];
    put_le(head, 0xFFFFFFFFu, 4);
    put_le(head + 4, (uint32_t)(total - 8), 4);
    size_t start = out->len;
    AE_TRY(ae_buf_reserve(out, total));
    AE_TRY(ae_buf_append(out, head, 8));
    AE_TRY(ae_buf_append(out, fb, len));
    memset(out->data + out->len, 0, total - 8 - len);
    out->len = start + total;
    out->data[out->len] = 0;
    if (meta_len) *meta_len = (int32_t)total;
    return 0;
}

int arrow_put_schema_message(ae_buf *out, const arrow_field *fields, size_t nfields,
                             const arrow_kv *meta, size_t nmeta)
{
    fb_builder b;
    fb_init(&b);
    fb_ref schema = build_schema(&b, fields, nfields, meta, nmeta);
    fb_ref msg = build_message(&b, ARROW_HEADER_SCHEMA, schema, 0);
    int rc = put_message(out, &b, msg, 0, 8, NULL);
    fb_free(&b);
    return rc;
}

int arrow_put_batch_message(ae_buf *out, uint64_t at, size_t body_align, int64_t length,
                            const arrow_node *nodes, size_t nnodes, const arrow_buffer *buffers,
                            size_t nbuffers, int64_t body_len, int32_t *meta_len)
{
    uint8_t tmp[32 * 16];
    if (nnodes > 32 || nbuffers > 32) return AE_EINVAL;
    fb_builder b;
    fb_init(&b);
    for (size_t i = 0; i < nbuffers; i++) {
        put_le(tmp + 16 * i, (uint64_t)buffers[i].offset, 8);
        put_le(tmp + 16 * i + 8, (uint64_t)buffers[i].length, 8);
    }
    fb_ref bv = fb_struct_vector(&b, tmp, nbuffers, 16, 8);
    for (size_t i = 0; i < nnodes; i++) {
        put_le(tmp + 16 * i, (uint64_t)nodes[i].length, 8);
        put_le(tmp + 16 * i + 8, (uint64_t)nodes[i].null_count, 8);
    }
    fb_ref nv = fb_struct_vector(&b, tmp, nnodes, 16, 8);
    fb_table_start(&b);
    fb_add_i64(&b, F_RB_LENGTH, length);
    fb_add_ref(&b, F_RB_NODES, nv);
    fb_add_ref(&b, F_RB_BUFFERS, bv);
    fb_ref rb = fb_table_end(&b);
    fb_ref msg = build_message(&b, ARROW_HEADER_RECORD_BATCH, rb, body_len);
    int rc = put_message(out, &b, msg, at, body_align, meta_len);
    fb_free(&b);
    return rc;
}

int arrow_put_footer(ae_buf *out, const arrow_field *fields, size_t nfields,
                     const arrow_kv *schema_meta, size_t nschema_meta, const arrow_block *batches,
                     size_t nbatches, const arrow_kv *footer_meta, size_t nfooter_meta)
{
    uint8_t tmp[4 * BLOCK_SIZE];
    if (nbatches > 4) return AE_EINVAL;
    fb_builder b;
    fb_init(&b);
    memset(tmp, 0, sizeof tmp);
    for (size_t i = 0; i < nbatches; i++) {
        put_le(tmp + BLOCK_SIZE * i, (uint64_t)batches[i].offset, 8);
        put_le(tmp + BLOCK_SIZE * i + 8, (uint32_t)batches[i].meta_len, 4);
        put_le(tmp + BLOCK_SIZE * i + 16, (uint64_t)batches[i].body_len, 8);
    }
    fb_ref bv = fb_struct_vector(&b, tmp, nbatches, BLOCK_SIZE, 8);
    fb_ref dv = fb_struct_vector(&b, tmp, 0, BLOCK_SIZE, 8);
    fb_ref schema = build_schema(&b, fields, nfields, schema_meta, nschema_meta);
    fb_ref fm = nfooter_meta ? build_kvs(&b, footer_meta, nfooter_meta) : 0;
    fb_table_start(&b);
    fb_add_i16(&b, F_FOOTER_VERSION, ARROW_METADATA_V5);
    fb_add_ref(&b, F_FOOTER_SCHEMA, schema);
    fb_add_ref(&b, F_FOOTER_DICTIONARIES, dv);
    fb_add_ref(&b, F_FOOTER_BATCHES, bv);
    if (nfooter_meta) fb_add_ref(&b, F_FOOTER_META, fm);
    fb_ref footer = fb_table_end(&b);
    const uint8_t *fb;
    size_t len;
    int rc = 0;
    if (!fb_finish(&b, footer, &fb, &len) || len > INT32_MAX) {
        rc = AE_ENOMEM;
    } else {
        uint8_t trailer[ARROW_TRAILER];
        put_le(trailer, (uint32_t)len, 4);
        memcpy(trailer + 4, ARROW_MAGIC, ARROW_MAGIC_LEN);
        rc = ae_buf_append(out, fb, len);
        if (rc == 0) rc = ae_buf_append(out, trailer, sizeof trailer);
    }
    fb_free(&b);
    return rc;
}

/* ---- reading ---------------------------------------------------------- */

#define CORRUPT(...) ae_fail(err, AE_ECORRUPT, __VA_ARGS__)

int arrow_file_open(const char *path, const uint8_t *base, size_t size, arrow_file *out,
                    ae_error *err)
{
    memset(out, 0, sizeof *out);
    if (size < 8 + ARROW_TRAILER)
        return CORRUPT("%s: %zu bytes is too short for an arrow file", path, size);
    if (memcmp(base, ARROW_MAGIC, ARROW_MAGIC_LEN) != 0)
        return CORRUPT("%s: missing ARROW1 magic at offset 0", path);
    if (memcmp(base + size - ARROW_MAGIC_LEN, ARROW_MAGIC, ARROW_MAGIC_LEN) != 0)
        return CORRUPT("%s: missing ARROW1 magic at the end (truncated?)", path);
    int32_t flen = (int32_t)fb_load_u32(base + size - ARROW_TRAILER);
    if (flen <= 0 || (size_t)flen > size - ARROW_TRAILER - 8)
        return CORRUPT("%s: footer size %d does not fit in %zu bytes", path, flen, size);
    out->base = base;
    out->size = size;
    out->footer_pos = size - ARROW_TRAILER - (size_t)flen;
    out->footer_len = (uint32_t)flen;
    const uint8_t *fb = base + out->footer_pos;
    if (!fb_root(fb, (size_t)flen, &out->footer))
        return CORRUPT("%s: malformed footer at offset %zu", path, out->footer_pos);
    int16_t version;
    bool present, dpresent, ok;
    fb_vector dicts;
    if (!fb_get_i16(&out->footer, F_FOOTER_VERSION, 0, &version))
        return CORRUPT("%s: malformed footer version", path);
    if (version != ARROW_METADATA_V5)
        return CORRUPT("%s: arrow metadata version %d, expected %d (V5)", path, version,
                       ARROW_METADATA_V5);
    if (!fb_get_table(&out->footer, F_FOOTER_SCHEMA, &out->schema, &present) || !present)
        return CORRUPT("%s: footer has no valid schema", path);
    ok = fb_get_vector(&out->footer, F_FOOTER_DICTIONARIES, BLOCK_SIZE, &dicts, &dpresent);
    if (!ok || dicts.count != 0) return CORRUPT("%s: dictionaries are not supported", path);
    if (!fb_get_vector(&out->footer, F_FOOTER_BATCHES, BLOCK_SIZE, &out->batches, &present))
        return CORRUPT("%s: malformed record batch list in footer", path);
    if (!fb_get_vector(&out->footer, F_FOOTER_META, 4, &out->footer_meta, &present))
        return CORRUPT("%s: malformed footer metadata", path);
    if (!fb_get_i16(&out->schema, F_SCHEMA_ENDIANNESS, 0, &out->endianness))
        return CORRUPT("%s: malformed schema endianness", path);
    if (out->endianness != 0) return CORRUPT("%s: big-endian arrow data is not supported", path);
    if (!fb_get_vector(&out->schema, F_SCHEMA_FIELDS, 4, &out->fields, &present) || !present)
        return CORRUPT("%s: schema has no field list", path);
    if (!fb_get_vector(&out->schema, F_SCHEMA_META, 4, &out->schema_meta, &present))
        return CORRUPT("%s: malformed schema metadata", path);
    return 0;
}

int arrow_field_read(const char *path, const fb_table *field, arrow_field_view *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    bool present, ok = true;
    uint8_t nullable = 0;
    fb_table type;
    ok = ok && fb_get_string(field, F_FIELD_NAME, &out->name, &out->name_len, &present);
    ok = ok && fb_get_u8(field, F_FIELD_NULLABLE, 0, &nullable);
    ok = ok && fb_get_u8(field, F_FIELD_TYPE_TYPE, 0, &out->type);
    ok = ok && fb_get_table(field, F_FIELD_TYPE, &type, &present) && present;
    ok = ok && fb_get_vector(field, F_FIELD_CHILDREN, 4, &out->children, &present);
    if (!ok) return CORRUPT("%s: malformed schema field", path);
    out->nullable = nullable != 0;
    out->has_dictionary = fb_has(field, F_FIELD_DICTIONARY);
    uint8_t is_signed = 0;
    int16_t precision = 0;
    switch (out->type) {
    case ARROW_TYPE_INT:
        ok = fb_get_i32(&type, 0, 0, &out->param) && fb_get_u8(&type, 1, 0, &is_signed);
        out->is_signed = is_signed != 0;
        break;
    case ARROW_TYPE_FLOATING_POINT:
        ok = fb_get_i16(&type, 0, 0, &precision);
        out->param = precision;
        break;
    case ARROW_TYPE_FIXED_SIZE_LIST:
        ok = fb_get_i32(&type, 0, 0, &out->param);
        break;
    default:
        break;
    }
    if (!ok)
        return CORRUPT("%s: malformed type of field '%.*s'", path, (int)out->name_len, out->name);
    return 0;
}

int arrow_kv_find(const char *path, const fb_vector *kvs, const char *key, const char **value,
                  uint32_t *value_len, ae_error *err)
{
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < kvs->count; i++) {
        fb_table kv;
        const char *k;
        uint32_t kl;
        bool present;
        if (!fb_vector_table(kvs, i, &kv) || !fb_get_string(&kv, F_KV_KEY, &k, &kl, &present))
            return CORRUPT("%s: malformed metadata entry %u", path, i);
        if (kl != klen || memcmp(k, key, klen) != 0) continue;
        if (!fb_get_string(&kv, F_KV_VALUE, value, value_len, &present))
            return CORRUPT("%s: malformed metadata value of '%s'", path, key);
        return 1;
    }
    return 0;
}

int arrow_file_block(const char *path, const arrow_file *f, uint32_t i, arrow_block *out,
                     ae_error *err)
{
    if (i >= f->batches.count) return CORRUPT("%s: no record batch %u", path, i);
    const uint8_t *p = f->batches.buf + f->batches.pos + (size_t)BLOCK_SIZE * i;
    out->offset = load_i64(p);
    out->meta_len = (int32_t)fb_load_u32(p + 8);
    out->body_len = load_i64(p + 16);
    if (out->offset < 8 || (out->offset & 7) || out->meta_len < 16 || (out->meta_len & 7) ||
        out->body_len < 0 || (uint64_t)out->offset > f->footer_pos ||
        (uint64_t)out->meta_len > f->footer_pos - (uint64_t)out->offset ||
        (uint64_t)out->body_len > f->footer_pos - (uint64_t)out->offset - (uint64_t)out->meta_len)
        return CORRUPT("%s: record batch %u (offset %lld, metadata %d, body %lld) lies outside "
                       "the data before the footer at %zu",
                       path, i, (long long)out->offset, out->meta_len, (long long)out->body_len,
                       f->footer_pos);
    return 0;
}

int arrow_batch_read(const char *path, const arrow_file *f, const arrow_block *block,
                     arrow_batch *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    const uint8_t *m = f->base + block->offset;
    if (fb_load_u32(m) != 0xFFFFFFFFu)
        return CORRUPT("%s: no message marker at offset %lld", path, (long long)block->offset);
    int32_t len = (int32_t)fb_load_u32(m + 4);
    if (len <= 0 || len > block->meta_len - 8)
        return CORRUPT("%s: message size %d at offset %lld exceeds its block (%d)", path, len,
                       (long long)block->offset, block->meta_len);
    fb_table msg, rb;
    int16_t version;
    uint8_t htype;
    int64_t body_len;
    bool present, ok;
    ok = fb_root(m + 8, (size_t)len, &msg) && fb_get_i16(&msg, F_MSG_VERSION, 0, &version) &&
         fb_get_u8(&msg, F_MSG_HEADER_TYPE, 0, &htype) &&
         fb_get_i64(&msg, F_MSG_BODY_LEN, 0, &body_len);
    if (!ok) return CORRUPT("%s: malformed message at offset %lld", path, (long long)block->offset);
    if (version != ARROW_METADATA_V5 || htype != ARROW_HEADER_RECORD_BATCH)
        return CORRUPT("%s: message at offset %lld is not a V5 record batch (version %d, type %u)",
                       path, (long long)block->offset, version, htype);
    if (body_len != block->body_len)
        return CORRUPT("%s: record batch body is %lld bytes, footer says %lld", path,
                       (long long)body_len, (long long)block->body_len);
    ok = fb_get_table(&msg, F_MSG_HEADER, &rb, &present) && present &&
         fb_get_i64(&rb, F_RB_LENGTH, 0, &out->length) &&
         fb_get_vector(&rb, F_RB_NODES, 16, &out->nodes, &present) &&
         fb_get_vector(&rb, F_RB_BUFFERS, 16, &out->buffers, &present);
    if (!ok)
        return CORRUPT("%s: malformed record batch at offset %lld", path, (long long)block->offset);
    if (fb_has(&rb, F_RB_COMPRESSION))
        return CORRUPT("%s: compressed batches are not supported", path);
    if (out->length < 0) return CORRUPT("%s: negative record batch length", path);
    out->body_pos = (uint64_t)block->offset + (uint64_t)block->meta_len;
    out->body_len = (uint64_t)block->body_len;
    for (uint32_t i = 0; i < out->buffers.count; i++) {
        arrow_buffer b = arrow_batch_buffer(out, i);
        if (b.offset < 0 || b.length < 0 || (b.offset & 7) || (uint64_t)b.offset > out->body_len ||
            (uint64_t)b.length > out->body_len - (uint64_t)b.offset)
            return CORRUPT("%s: buffer %u (offset %lld, length %lld) is outside the %llu-byte "
                           "body or misaligned",
                           path, i, (long long)b.offset, (long long)b.length,
                           (unsigned long long)out->body_len);
    }
    return 0;
}

arrow_node arrow_batch_node(const arrow_batch *b, uint32_t i)
{
    const uint8_t *p = b->nodes.buf + b->nodes.pos + 16 * (size_t)i;
    arrow_node n = {load_i64(p), load_i64(p + 8)};
    return n;
}

arrow_buffer arrow_batch_buffer(const arrow_batch *b, uint32_t i)
{
    const uint8_t *p = b->buffers.buf + b->buffers.pos + 16 * (size_t)i;
    arrow_buffer r = {load_i64(p), load_i64(p + 8)};
    return r;
}
