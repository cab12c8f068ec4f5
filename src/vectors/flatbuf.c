/* FlatBuffers, written small.
 *
 * 1. The builder fills its buffer from the end (like the reference builder),
 *    so an object's handle is its distance from the end: stable while the
 *    buffer grows, and every reference written later points forward.
 * 2. Alignment is counted from the end too; fb_finish pads the front so the
 *    total length is a multiple of the largest alignment used (at least 8).
 * 3. Each table's vtable sits directly before it; no vtable sharing, which
 *    costs a few bytes in a footer and saves a hash table.
 * 4. The reader trusts nothing: every offset is checked in 64-bit arithmetic
 *    against the slice it was given, and loads go through byte copies, so a
 *    fuzzed buffer yields `false`, never a wild or misaligned read. */
#include "vectors/flatbuf.h"

#include <stdlib.h>
#include <string.h>

/* ---- builder ---------------------------------------------------------- */

void fb_init(fb_builder *b)
{
    memset(b, 0, sizeof *b);
    b->max_align = 8;
}

void fb_free(fb_builder *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

static bool reserve(fb_builder *b, size_t n)
{
    if (b->oom) return false;
    if (b->cap - b->used >= n) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->used < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *nb = malloc(cap);
    if (!nb) {
        b->oom = true;
        return false;
    }
    if (b->used) memcpy(nb + cap - b->used, b->buf + b->cap - b->used, b->used);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
    return true;
}

static void push(fb_builder *b, const void *p, size_t n)
{
    if (!n || !reserve(b, n)) return;
    b->used += n;
    memcpy(b->buf + b->cap - b->used, p, n);
}

static void push_zeros(fb_builder *b, size_t n)
{
    if (!n || !reserve(b, n)) return;
    b->used += n;
    memset(b->buf + b->cap - b->used, 0, n);
}

/* Pads so that after `additional` more bytes the write position is aligned. */
static void prep(fb_builder *b, size_t align, size_t additional)
{
    if (align > b->max_align) b->max_align = align;
    size_t padding = (0 - (b->used + additional)) & (align - 1);
    push_zeros(b, padding);
}

static void push_le(fb_builder *b, uint64_t v, size_t size)
{
    uint8_t tmp[8];
    for (size_t i = 0; i < size; i++)
        tmp[i] = (uint8_t)(v >> (8 * i));
    push(b, tmp, size);
}

static void push_ref(fb_builder *b, fb_ref r)
{
    prep(b, 4, 0);
    push_le(b, (uint32_t)(b->used + 4 - r), 4);
}

fb_ref fb_string(fb_builder *b, const char *s, size_t len)
{
    prep(b, 4, len + 1);
    push_zeros(b, 1);
    push(b, s, len);
    push_le(b, (uint32_t)len, 4);
    return (fb_ref)b->used;
}

fb_ref fb_struct_vector(fb_builder *b, const void *elems, size_t n, size_t elem_size, size_t align)
{
    prep(b, 4, n * elem_size);
    prep(b, align, n * elem_size);
    push(b, elems, n * elem_size);
    push_le(b, (uint32_t)n, 4);
    return (fb_ref)b->used;
}

fb_ref fb_ref_vector(fb_builder *b, const fb_ref *refs, size_t n)
{
    prep(b, 4, n * 4);
    for (size_t i = n; i-- > 0;)
        push_ref(b, refs[i]);
    push_le(b, (uint32_t)n, 4);
    return (fb_ref)b->used;
}

void fb_table_start(fb_builder *b)
{
    b->nfields = 0;
}

static void add_field(fb_builder *b, int id, uint8_t size, bool is_ref, uint64_t v)
{
    if (b->nfields >= FB_MAX_FIELDS || id < 0 || id >= FB_MAX_FIELDS) {
        b->oom = true; /* a programming error; surfaces as a failed finish */
        return;
    }
    b->fields[b->nfields].id = id;
    b->fields[b->nfields].size = size;
    b->fields[b->nfields].is_ref = is_ref;
    b->fields[b->nfields].value = v;
    b->nfields++;
}

void fb_add_u8(fb_builder *b, int id, uint8_t v)
{
    add_field(b, id, 1, false, v);
}
void fb_add_i16(fb_builder *b, int id, int16_t v)
{
    add_field(b, id, 2, false, (uint16_t)v);
}
void fb_add_i32(fb_builder *b, int id, int32_t v)
{
    add_field(b, id, 4, false, (uint32_t)v);
}
void fb_add_i64(fb_builder *b, int id, int64_t v)
{
    add_field(b, id, 8, false, (uint64_t)v);
}
void fb_add_ref(fb_builder *b, int id, fb_ref r)
{
    add_field(b, id, 4, true, r);
}

fb_ref fb_table_end(fb_builder *b)
{
    size_t start = b->used;
    size_t field_used[FB_MAX_FIELDS] = {0};
    int max_id = -1;
    /* largest first: no padding between fields */
    for (int size = 8; size >= 1; size /= 2) {
        for (int i = 0; i < b->nfields; i++) {
            if (b->fields[i].size != size) continue;
            if (b->fields[i].is_ref)
                push_ref(b, (fb_ref)b->fields[i].value);
            else {
                prep(b, (size_t)size, 0);
                push_le(b, b->fields[i].value, (size_t)size);
            }
            field_used[b->fields[i].id] = b->used;
            if (b->fields[i].id > max_id) max_id = b->fields[i].id;
        }
    }
    prep(b, 4, 0);
    push_zeros(b, 4); /* soffset, patched below */
    size_t table = b->used;
    uint16_t vt_len = (uint16_t)(4 + 2 * (max_id + 1));
    for (int id = max_id; id >= 0; id--)
        push_le(b, field_used[id] ? (uint16_t)(table - field_used[id]) : 0, 2);
    push_le(b, (uint16_t)(table - start), 2);
    push_le(b, vt_len, 2);
    if (!b->oom) {
        uint8_t *p = b->buf + b->cap - table;
        for (int i = 0; i < 4; i++)
            p[i] = (uint8_t)((uint32_t)vt_len >> (8 * i));
    }
    b->nfields = 0;
    return (fb_ref)table;
}

bool fb_finish(fb_builder *b, fb_ref root, const uint8_t **out, size_t *len)
{
    prep(b, b->max_align, 4);
    push_ref(b, root);
    if (b->oom || b->used > UINT32_MAX) return false;
    *out = b->buf + b->cap - b->used;
    *len = b->used;
    return true;
}

/* ---- reader ----------------------------------------------------------- */

static uint16_t load_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

bool fb_table_at(const uint8_t *buf, size_t len, uint32_t pos, fb_table *out)
{
    if (len < 4 || (uint64_t)pos > len - 4) return false;
    int64_t vt = (int64_t)pos - (int32_t)fb_load_u32(buf + pos);
    if (vt < 0 || (uint64_t)vt + 4 > len) return false;
    uint16_t vt_len = load_u16(buf + vt), t_len = load_u16(buf + vt + 2);
    if (vt_len < 4 || (vt_len & 1) || (uint64_t)vt + vt_len > len) return false;
    if (t_len < 4 || (uint64_t)pos + t_len > len) return false;
    out->buf = buf;
    out->len = len;
    out->pos = pos;
    out->vt = (uint32_t)vt;
    out->vt_len = vt_len;
    out->t_len = t_len;
    return true;
}

bool fb_root(const uint8_t *buf, size_t len, fb_table *out)
{
    if (len < 8 || len > UINT32_MAX) return false;
    return fb_table_at(buf, len, fb_load_u32(buf), out);
}

/* Offset of field id inside the table, 0 if absent; false if it overruns. */
static bool field(const fb_table *t, int id, size_t size, uint16_t *off)
{
    *off = 0;
    if (id < 0) return false;
    size_t slot = 4 + 2 * (size_t)id;
    if (slot + 2 > t->vt_len) return true;
    *off = load_u16(t->buf + t->vt + slot);
    if (*off == 0) return true;
    return *off >= 4 && (size_t)*off + size <= t->t_len;
}

bool fb_has(const fb_table *t, int id)
{
    uint16_t off;
    return field(t, id, 1, &off) && off != 0;
}

#define FB_GETTER(name, type, size)                                                                \
    bool name(const fb_table *t, int id, type def, type *out)                                      \
    {                                                                                              \
        uint16_t off;                                                                              \
        if (!field(t, id, size, &off)) return false;                                               \
        if (!off) {                                                                                \
            *out = def;                                                                            \
            return true;                                                                           \
        }                                                                                          \
        uint64_t v = 0;                                                                            \
        for (size_t i = 0; i < size; i++)                                                          \
            v |= (uint64_t)t->buf[t->pos + off + i] << (8 * i);                                    \
        *out = (type)v;                                                                            \
        return true;                                                                               \
    }
FB_GETTER(fb_get_u8, uint8_t, 1)
FB_GETTER(fb_get_i16, int16_t, 2)
FB_GETTER(fb_get_i32, int32_t, 4)
FB_GETTER(fb_get_i64, int64_t, 8)

/* Follows the reference at absolute position p; target must leave 4 bytes. */
static bool follow(const uint8_t *buf, size_t len, uint64_t p, uint32_t *target)
{
    if (p + 4 > len) return false;
    uint64_t tgt = p + fb_load_u32(buf + p);
    if (tgt + 4 > len) return false;
    *target = (uint32_t)tgt;
    return true;
}

static bool get_ref(const fb_table *t, int id, uint32_t *target, bool *present)
{
    uint16_t off;
    *present = false;
    if (!field(t, id, 4, &off)) return false;
    if (!off) return true;
    *present = true;
    return follow(t->buf, t->len, (uint64_t)t->pos + off, target);
}

bool fb_get_table(const fb_table *t, int id, fb_table *out, bool *present)
{
    uint32_t tgt;
    if (!get_ref(t, id, &tgt, present)) return false;
    return !*present || fb_table_at(t->buf, t->len, tgt, out);
}

static bool vector_at(const uint8_t *buf, size_t len, uint32_t pos, size_t elem_size,
                      fb_vector *out)
{
    uint32_t count = fb_load_u32(buf + pos); /* follow() checked pos + 4 <= len */
    if ((uint64_t)pos + 4 + (uint64_t)count * elem_size > len) return false;
    out->buf = buf;
    out->len = len;
    out->pos = pos + 4;
    out->count = count;
    return true;
}

bool fb_get_vector(const fb_table *t, int id, size_t elem_size, fb_vector *out, bool *present)
{
    uint32_t tgt;
    if (!get_ref(t, id, &tgt, present)) return false;
    if (!*present) {
        memset(out, 0, sizeof *out);
        return true;
    }
    return vector_at(t->buf, t->len, tgt, elem_size, out);
}

bool fb_get_string(const fb_table *t, int id, const char **s, uint32_t *slen, bool *present)
{
    fb_vector v;
    if (!fb_get_vector(t, id, 1, &v, present)) return false;
    *s = *present ? (const char *)v.buf + v.pos : "";
    *slen = *present ? v.count : 0;
    return true;
}

bool fb_vector_table(const fb_vector *v, uint32_t i, fb_table *out)
{
    uint32_t tgt;
    if (i >= v->count || !follow(v->buf, v->len, (uint64_t)v->pos + 4ull * i, &tgt)) return false;
    return fb_table_at(v->buf, v->len, tgt, out);
}

bool fb_vector_string(const fb_vector *v, uint32_t i, const char **s, uint32_t *slen)
{
    uint32_t tgt;
    fb_vector sv;
    if (i >= v->count || !follow(v->buf, v->len, (uint64_t)v->pos + 4ull * i, &tgt)) return false;
    if (!vector_at(v->buf, v->len, tgt, 1, &sv)) return false;
    *s = (const char *)sv.buf + sv.pos;
    *slen = sv.count;
    return true;
}
