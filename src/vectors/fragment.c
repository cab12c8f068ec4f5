/* Data fragments: Arrow IPC files written once, read through mmap.
 *
 * 1. One record batch per file, so each column is one contiguous buffer and
 *    ae_fragment_vectors() is a pointer into the map, not a copy.
 * 2. Every buffer starts at a multiple of 64 in the body, and the batch
 *    message is padded so the body starts at a multiple of 64 in the file:
 *    the embedding values are 64-byte aligned in memory (mmap is page
 *    aligned).  Validity buffers are empty: there are no nulls.
 * 3. Open is O(1) in the row count: it checks the footer, schema, batch
 *    metadata and that every buffer is in bounds and big enough, but it
 *    reads no column.  Utf8 offsets are checked on each access instead, and
 *    in full by ae_fragment_verify, which also checks both BLAKE3 digests.
 * 4. The writer streams: header and batch metadata, then each buffer, then
 *    the footer carrying the digest of everything before it.  Memory is
 *    O(n) floats for the inverse norms, not O(file).  Its open, writes,
 *    fsync, close and unlink go through ae_vio (io.h), so the crash and
 *    power-loss tests see each of them as a step of the commit.
 * 5. Every byte goes through one 1 MiB buffer: it is hashed there (in runs
 *    long enough for the wide BLAKE3 kernels) and written from there while
 *    it is still in the cache, and every 8 MiB written the kernel is asked
 *    to start writeback (sync_file_range SYNC_FILE_RANGE_WRITE), so the disk
 *    works while the rest is hashed and the closing fsync finds little left.
 *    That call is a hint, not a step: it makes nothing durable (the fsync
 *    does, as before) and it has no effect on what a crash can leave.
 * Rejected: several batches per file (vectors would no longer be one array);
 * a trailer after "ARROW1" (Arrow readers find the footer from the end). */
#include "vectors/fragment.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/blake3.h"
#include "util/bytes.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/pagecache.h"
#include "vectors/arrow_ipc.h"
#include "vectors/io.h"
#include "vectors/vs_validate.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "fragments map little-endian arrow buffers directly; big-endian hosts are not supported"
#endif

#define ALIGN       64
#define NSTR        4 /* Utf8 columns */
#define NNODES      8
#define NBUFFERS    19
#define KEY_VERSION "aether.format_version"
#define KEY_DIGEST  "aether.body_blake3"

/* node order: 4 strings, embedding, embedding.item, updated_at, _inv_norm */
enum { N_EMB = 4, N_ITEM = 5, N_UPDATED = 6, N_INV = 7 };
/* buffer order: (validity, offsets, data) x 4, embedding validity, item validity, item values,
 * updated_at validity + values, _inv_norm validity + values */
enum { B_ITEMS = 14, B_UPDATED = 16, B_INV = 18 };

static const char *const str_names[NSTR] = {"symbol_id", "sir_hash", "provider", "model"};

struct ae_fragment {
    char *path;
    int fd; /* kept open for ae_fragment_read_row; -1: not kept */
    const uint8_t *map;
    size_t size, footer_pos;
    size_t n;
    uint32_t dim;
    struct {
        const uint8_t *offsets, *data;
        uint64_t data_len;
    } str[NSTR];
    const float *vectors, *inv_norms;
    const uint8_t *updated_at;
    ae_fragment_layout lay;
    bool parsed; /* footer read: body_digest is known (else opened from a layout) */
    uint8_t body_digest[AE_FRAGMENT_CHECKSUM_LEN];
};

static const arrow_field item_field = {"item", ARROW_TYPE_FLOATING_POINT, ARROW_PRECISION_SINGLE,
                                       NULL};

static void schema_fields(arrow_field fields[7], uint32_t dim)
{
    for (int c = 0; c < NSTR; c++)
        fields[c] = (arrow_field){str_names[c], ARROW_TYPE_UTF8, 0, NULL};
    fields[4] = (arrow_field){"embedding", ARROW_TYPE_FIXED_SIZE_LIST, (int32_t)dim, &item_field};
    fields[5] = (arrow_field){"updated_at", ARROW_TYPE_INT, 64, NULL};
    fields[6] = (arrow_field){"_inv_norm", ARROW_TYPE_FLOATING_POINT, ARROW_PRECISION_SINGLE, NULL};
}

static bool from_hex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n) return false;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return true;
}

static int32_t load_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- writing ---------------------------------------------------------- */

typedef struct writer {
    int fd;
    const char *path;
    uint8_t *buf;
    size_t len, cap;
    size_t hashed;         /* bytes of buf already in hash */
    uint64_t pos;          /* bytes put so far */
    uint64_t written;      /* bytes handed to write() so far */
    uint64_t flushed_from; /* start of the range not yet sent to writeback */
    ae_blake3 hash;
    ae_error *err;
} writer;

/* Writeback is started every this many bytes (note 5). */
#define WRITEBACK_BYTES (8u << 20)

static int write_all(writer *w, const void *p, size_t n)
{
    const uint8_t *c = p;
    while (n) {
        ssize_t k = ae_vio_cur->write(w->fd, c, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return ae_fail_errno(w->err, errno, "write %s", w->path);
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The bytes of buf not yet hashed enter the hash. */
static void w_hash(writer *w)
{
    ae_blake3_update(&w->hash, w->buf + w->hashed, w->len - w->hashed);
    w->hashed = w->len;
}

/* Note 5: asks the kernel to start writing what it has (no durability: the
 * fsync at the end is what makes the file durable, and the only step). */
static void start_writeback(writer *w, bool all)
{
#ifdef SYNC_FILE_RANGE_WRITE
    uint64_t n = w->written - w->flushed_from;
    if (n == 0 || (!all && n < WRITEBACK_BYTES)) return;
    (void)sync_file_range(w->fd, (off64_t)w->flushed_from, (off64_t)n, SYNC_FILE_RANGE_WRITE);
    w->flushed_from = w->written;
#else
    (void)w;
    (void)all;
#endif
}

static int w_flush(writer *w)
{
    w_hash(w);
    int rc = write_all(w, w->buf, w->len);
    w->written += w->len;
    w->len = w->hashed = 0;
    if (rc == 0) start_writeback(w, false);
    return rc;
}

/* Everything goes through the buffer: it is hashed and written in runs of
 * up to cap bytes, while it is still in the cache (note 5). */
static int w_put(writer *w, const void *p, size_t n)
{
    const uint8_t *c = p;
    w->pos += n;
    while (n) {
        if (w->len == w->cap) AE_TRY(w_flush(w));
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, c, k);
        w->len += k;
        c += k;
        n -= k;
    }
    return 0;
}

static int w_pad_to(writer *w, uint64_t target)
{
    static const uint8_t zeros[ALIGN];
    while (w->pos < target) {
        size_t k = target - w->pos < ALIGN ? (size_t)(target - w->pos) : ALIGN;
        AE_TRY(w_put(w, zeros, k));
    }
    return 0;
}

static uint64_t align_up(uint64_t v)
{
    return (v + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
}

/* Checks everything before a byte is written; fills lens and inv norms. */
static int validate(const ae_fragment_rows *r, uint64_t str_len[NSTR], float *inv, ae_error *err)
{
    const char *const *cols[NSTR] = {r->symbol_ids, r->sir_hashes, r->providers, r->models};
    for (int c = 0; c < NSTR; c++) {
        str_len[c] = 0;
        AE_RETURN_IF(!cols[c], err, AE_EINVAL, "fragment rows: no %s column", str_names[c]);
        for (size_t i = 0; i < r->n; i++) {
            AE_RETURN_IF(!cols[c][i], err, AE_EINVAL, "%s of row %zu is NULL", str_names[c], i);
            str_len[c] += strlen(cols[c][i]);
            AE_RETURN_IF(str_len[c] > INT32_MAX, err, AE_EINVAL,
                         "%s column exceeds 2 GiB at row %zu; write fewer rows per fragment",
                         str_names[c], i);
        }
    }
    for (size_t i = 0; i < r->n; i++) {
        const float *v = r->embedding_rows ? r->embedding_rows[i] : r->embeddings + i * r->dim;
        uint32_t d = ae_vec_first_nonfinite(v, r->dim);
        AE_RETURN_IF(d < r->dim, err, AE_EINVAL, "%s at dimension %u of row %zu",
                     isnan(v[d]) ? "NaN" : "infinity", d, i);
        double ss = ae_vec_sumsq(v, r->dim);
        double in = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        AE_RETURN_IF(in > 3.0e38, err, AE_EINVAL,
                     "row %zu: vector norm %g is too small to normalize in float32", i, sqrt(ss));
        inv[i] = (float)in;
    }
    return 0;
}

int ae_fragment_write(const char *path, const ae_fragment_rows *r, uint64_t *file_size,
                      uint8_t checksum[AE_FRAGMENT_CHECKSUM_LEN], ae_error *err)
{
    return ae_fragment_write_ex(path, r, file_size, checksum, NULL, err);
}

int ae_fragment_write_ex(const char *path, const ae_fragment_rows *r, uint64_t *file_size,
                         uint8_t checksum[AE_FRAGMENT_CHECKSUM_LEN], ae_fragment_layout *layout,
                         ae_error *err)
{
    AE_RETURN_IF(!path || !r, err, AE_EINVAL, "fragment write: no path or rows");
    AE_RETURN_IF(r->n == 0, err, AE_EINVAL, "%s: a fragment needs at least one row", path);
    AE_RETURN_IF(r->n >= AE_FRAGMENT_MAX_ROWS, err, AE_EINVAL,
                 "%s: %zu rows exceed the fragment limit of %zu", path, r->n,
                 AE_FRAGMENT_MAX_ROWS - 1);
    AE_RETURN_IF(r->dim < 1 || r->dim > AE_MAX_DIM, err, AE_EINVAL,
                 "%s: dimension %u is outside 1..%d", path, r->dim, AE_MAX_DIM);
    AE_RETURN_IF((!r->embeddings && !r->embedding_rows) || !r->updated_at, err, AE_EINVAL,
                 "%s: no embeddings or updated_at column", path);

    int rc = 0;
    bool created = false;
    writer w = {.fd = -1, .path = path, .err = err};
    ae_buf head = {0}, tail = {0};
    float *inv = ae_calloc_array(r->n, sizeof *inv);
    uint64_t str_len[NSTR];
    if (!inv) AE_FAIL(err, AE_ENOMEM, "%s: no memory for %zu norms", path, r->n);
    AE_CHECK(validate(r, str_len, inv, err));

    /* body layout */
    uint64_t sizes[NBUFFERS] = {0};
    for (int c = 0; c < NSTR; c++) {
        sizes[3 * c + 1] = 4 * ((uint64_t)r->n + 1);
        sizes[3 * c + 2] = str_len[c];
    }
    sizes[B_ITEMS] = (uint64_t)r->n * r->dim * sizeof(float);
    sizes[B_UPDATED] = (uint64_t)r->n * sizeof(int64_t);
    sizes[B_INV] = (uint64_t)r->n * sizeof(float);
    arrow_buffer bufs[NBUFFERS];
    uint64_t off = 0;
    for (int i = 0; i < NBUFFERS; i++) {
        bufs[i].offset = (int64_t)off;
        bufs[i].length = (int64_t)sizes[i];
        off = align_up(off + sizes[i]);
    }
    uint64_t body_len = off;
    arrow_node nodes[NNODES];
    for (int i = 0; i < NNODES; i++)
        nodes[i] = (arrow_node){(int64_t)r->n, 0};
    nodes[N_ITEM].length = (int64_t)r->n * r->dim;

    /* header + schema message + batch message */
    arrow_field fields[7];
    schema_fields(fields, r->dim);
    const arrow_kv meta[] = {{KEY_VERSION, "1"}};
    int32_t meta_len;
    if (ae_buf_append(&head, "ARROW1\0\0", 8) < 0 ||
        arrow_put_schema_message(&head, fields, 7, meta, 1) < 0)
        AE_FAIL(err, AE_ENOMEM, "%s: no memory for the schema", path);
    arrow_block block = {(int64_t)head.len, 0, (int64_t)body_len};
    if (arrow_put_batch_message(&head, head.len, ALIGN, (int64_t)r->n, nodes, NNODES, bufs,
                                NBUFFERS, (int64_t)body_len, &meta_len) < 0)
        AE_FAIL(err, AE_ENOMEM, "%s: no memory for the batch metadata", path);
    block.meta_len = meta_len;
    uint64_t body_pos = head.len;

    w.cap = 1 << 20;
    w.buf = malloc(w.cap);
    if (!w.buf) AE_FAIL(err, AE_ENOMEM, "%s: no memory for the write buffer", path);
    ae_blake3_init(&w.hash);
    w.fd = ae_vio_cur->open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0) {
        rc = ae_fail_errno(err, errno, "create %s", path);
        goto cleanup;
    }
    created = true;
    AE_CHECK(w_put(&w, head.data, head.len));

    const char *const *cols[NSTR] = {r->symbol_ids, r->sir_hashes, r->providers, r->models};
    for (int c = 0; c < NSTR; c++) {
        AE_CHECK(w_pad_to(&w, body_pos + (uint64_t)bufs[3 * c + 1].offset));
        int32_t o = 0;
        AE_CHECK(w_put(&w, &o, 4));
        for (size_t i = 0; i < r->n; i++) {
            o += (int32_t)strlen(cols[c][i]);
            AE_CHECK(w_put(&w, &o, 4));
        }
        AE_CHECK(w_pad_to(&w, body_pos + (uint64_t)bufs[3 * c + 2].offset));
        for (size_t i = 0; i < r->n; i++)
            AE_CHECK(w_put(&w, cols[c][i], strlen(cols[c][i])));
    }
    AE_CHECK(w_pad_to(&w, body_pos + (uint64_t)bufs[B_ITEMS].offset));
    if (r->embedding_rows) {
        for (size_t i = 0; i < r->n; i++)
            AE_CHECK(w_put(&w, r->embedding_rows[i], (size_t)r->dim * sizeof(float)));
    } else {
        AE_CHECK(w_put(&w, r->embeddings, sizes[B_ITEMS]));
    }
    AE_CHECK(w_pad_to(&w, body_pos + (uint64_t)bufs[B_UPDATED].offset));
    AE_CHECK(w_put(&w, r->updated_at, sizes[B_UPDATED]));
    AE_CHECK(w_pad_to(&w, body_pos + (uint64_t)bufs[B_INV].offset));
    AE_CHECK(w_put(&w, inv, sizes[B_INV]));
    AE_CHECK(w_pad_to(&w, body_pos + body_len));
    static const uint8_t eos[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
    AE_CHECK(w_put(&w, eos, sizeof eos));

    uint8_t digest[AE_BLAKE3_OUT_LEN];
    char hex[2 * AE_BLAKE3_OUT_LEN + 1];
    w_hash(&w);
    ae_blake3_final(&w.hash, digest);
    ae_hex_encode(digest, sizeof digest, hex);
    const arrow_kv fmeta[] = {{KEY_DIGEST, hex}};
    if (arrow_put_footer(&tail, fields, 7, meta, 1, &block, 1, fmeta, 1) < 0)
        AE_FAIL(err, AE_ENOMEM, "%s: no memory for the footer", path);
    AE_CHECK(w_put(&w, tail.data, tail.len));
    AE_CHECK(w_flush(&w));
    if (ae_vio_cur->fsync(w.fd) != 0) {
        rc = ae_fail_errno(err, errno, "fsync %s", path);
        goto cleanup;
    }
    if (ae_vio_cur->close(w.fd) != 0) {
        w.fd = -1;
        rc = ae_fail_errno(err, errno, "close %s", path);
        goto cleanup;
    }
    w.fd = -1;
    if (file_size) *file_size = w.pos;
    if (checksum) ae_blake3_final(&w.hash, checksum);
    if (layout) {
        layout->footer = body_pos + body_len + sizeof eos;
        for (int c = 0; c < NSTR; c++) {
            layout->str_off[c] = body_pos + (uint64_t)bufs[3 * c + 1].offset;
            layout->str_data[c] = body_pos + (uint64_t)bufs[3 * c + 2].offset;
            layout->str_len[c] = sizes[3 * c + 2];
        }
        layout->items = body_pos + (uint64_t)bufs[B_ITEMS].offset;
        layout->updated = body_pos + (uint64_t)bufs[B_UPDATED].offset;
        layout->inv = body_pos + (uint64_t)bufs[B_INV].offset;
    }

cleanup:
    if (w.fd >= 0) ae_vio_cur->close(w.fd);
    if (rc < 0 && created) ae_vio_cur->unlink(path);
    free(w.buf);
    free(inv);
    ae_buf_free(&head);
    ae_buf_free(&tail);
    return rc;
}

/* ---- reading ---------------------------------------------------------- */

static int str_at(const ae_fragment *f, int c, size_t row, const char **s, size_t *len);

#define CORRUPT(...) ae_fail(err, AE_ECORRUPT, __VA_ARGS__)

static int check_schema(const char *path, const arrow_file *af, uint32_t *dim, ae_error *err)
{
    arrow_field expect[7];
    schema_fields(expect, 1);
    if (af->fields.count != 7)
        return CORRUPT("%s: schema has %u fields, a fragment has 7", path, af->fields.count);
    for (uint32_t i = 0; i < 7; i++) {
        fb_table ft;
        arrow_field_view v;
        if (!fb_vector_table(&af->fields, i, &ft))
            return CORRUPT("%s: malformed field %u", path, i);
        AE_TRY(arrow_field_read(path, &ft, &v, err));
        const arrow_field *e = &expect[i];
        if (v.name_len != strlen(e->name) || memcmp(v.name, e->name, v.name_len) != 0)
            return CORRUPT("%s: field %u is '%.*s', expected '%s'", path, i, (int)v.name_len,
                           v.name, e->name);
        bool ok = v.type == e->type && !v.has_dictionary;
        if (e->type == ARROW_TYPE_INT) ok = ok && v.param == 64 && v.is_signed;
        if (e->type == ARROW_TYPE_FLOATING_POINT) ok = ok && v.param == ARROW_PRECISION_SINGLE;
        if (e->type == ARROW_TYPE_FIXED_SIZE_LIST) {
            fb_table ct;
            arrow_field_view cv;
            ok = ok && v.param >= 1 && v.param <= AE_MAX_DIM && v.children.count == 1;
            if (ok && !fb_vector_table(&v.children, 0, &ct))
                return CORRUPT("%s: malformed child of field '%s'", path, e->name);
            if (ok) AE_TRY(arrow_field_read(path, &ct, &cv, err));
            ok = ok && cv.type == ARROW_TYPE_FLOATING_POINT && cv.param == ARROW_PRECISION_SINGLE &&
                 !cv.has_dictionary;
            if (ok) *dim = (uint32_t)v.param;
        } else {
            ok = ok && v.children.count == 0;
        }
        if (!ok)
            return CORRUPT("%s: field '%s' has the wrong type (arrow type %u, parameter %d)", path,
                           e->name, v.type, v.param);
    }
    return 0;
}

static int check_metadata(const char *path, const arrow_file *af, ae_fragment *f, ae_error *err)
{
    const char *v;
    uint32_t vlen;
    int found = arrow_kv_find(path, &af->schema_meta, KEY_VERSION, &v, &vlen, err);
    AE_TRY(found);
    if (!found)
        return ae_fail(err, AE_ENOTOURS, "%s: arrow file without %s is not an aether fragment",
                       path, KEY_VERSION);
    if (!(vlen == 1 && v[0] == '1')) {
        bool digits = vlen > 0 && vlen < 9;
        for (uint32_t i = 0; i < vlen && digits; i++)
            digits = v[i] >= '0' && v[i] <= '9';
        if (digits && (vlen > 1 || v[0] > '1'))
            return ae_fail(err, AE_EVERSION,
                           "%s: fragment format version %.*s is newer than this build reads (%d)",
                           path, (int)vlen, v, AE_FRAGMENT_FORMAT_VERSION);
        return CORRUPT("%s: bad %s '%.*s'", path, KEY_VERSION, (int)(vlen > 16 ? 16 : vlen), v);
    }
    found = arrow_kv_find(path, &af->footer_meta, KEY_DIGEST, &v, &vlen, err);
    AE_TRY(found);
    if (!found || !from_hex(v, vlen, f->body_digest, sizeof f->body_digest))
        return CORRUPT("%s: footer has no valid %s", path, KEY_DIGEST);
    return 0;
}

static int check_batch(const char *path, const arrow_file *af, ae_fragment *f, ae_error *err)
{
    if (af->batches.count != 1)
        return CORRUPT("%s: %u record batches, a fragment has exactly 1", path, af->batches.count);
    arrow_block block;
    arrow_batch b;
    AE_TRY(arrow_file_block(path, af, 0, &block, err));
    AE_TRY(arrow_batch_read(path, af, &block, &b, err));
    if (b.nodes.count != NNODES || b.buffers.count != NBUFFERS)
        return CORRUPT("%s: record batch has %u nodes and %u buffers, expected %d and %d", path,
                       b.nodes.count, b.buffers.count, NNODES, NBUFFERS);
    if ((uint64_t)b.length >= AE_FRAGMENT_MAX_ROWS)
        return CORRUPT("%s: %lld rows exceed the fragment limit", path, (long long)b.length);
    uint64_t n = (uint64_t)b.length, nd = n * f->dim;
    f->n = (size_t)n;
    for (uint32_t i = 0; i < NNODES; i++) {
        arrow_node node = arrow_batch_node(&b, i);
        uint64_t want = i == N_ITEM ? nd : n;
        if (node.length < 0 || (uint64_t)node.length != want || node.null_count != 0)
            return CORRUPT("%s: column node %u has length %lld and %lld nulls, expected %llu and 0",
                           path, i, (long long)node.length, (long long)node.null_count,
                           (unsigned long long)want);
    }
    const uint8_t *body = af->base + b.body_pos;
    uint64_t need[NBUFFERS] = {0};
    for (int c = 0; c < NSTR; c++)
        need[3 * c + 1] = 4 * (n + 1);
    need[B_ITEMS] = 4 * nd;
    need[B_UPDATED] = 8 * n;
    need[B_INV] = 4 * n;
    for (uint32_t i = 0; i < NBUFFERS; i++) {
        arrow_buffer buf = arrow_batch_buffer(&b, i);
        if ((uint64_t)buf.length < need[i])
            return CORRUPT("%s: buffer %u holds %lld bytes, %llu rows need %llu", path, i,
                           (long long)buf.length, (unsigned long long)n,
                           (unsigned long long)need[i]);
    }
    for (int c = 0; c < NSTR; c++) {
        arrow_buffer ob = arrow_batch_buffer(&b, (uint32_t)(3 * c + 1));
        arrow_buffer db = arrow_batch_buffer(&b, (uint32_t)(3 * c + 2));
        f->str[c].offsets = body + ob.offset;
        f->str[c].data = body + db.offset;
        f->str[c].data_len = (uint64_t)db.length;
        int32_t first = load_i32(f->str[c].offsets), last = load_i32(f->str[c].offsets + 4 * n);
        if (first < 0 || last < first || (uint64_t)last > f->str[c].data_len)
            return CORRUPT("%s: %s offsets run from %d to %d over %llu bytes of data", path,
                           str_names[c], first, last, (unsigned long long)f->str[c].data_len);
    }
    uint64_t vpos = b.body_pos + (uint64_t)arrow_batch_buffer(&b, B_ITEMS).offset;
    if (vpos % ALIGN)
        return CORRUPT("%s: embedding values at file offset %llu are not 64-byte aligned", path,
                       (unsigned long long)vpos);
    f->vectors = (const float *)(const void *)(af->base + vpos);
    f->updated_at = body + arrow_batch_buffer(&b, B_UPDATED).offset;
    f->inv_norms = (const float *)(const void *)(body + arrow_batch_buffer(&b, B_INV).offset);
    f->lay.footer = af->footer_pos;
    for (int c = 0; c < NSTR; c++) {
        f->lay.str_off[c] = (uint64_t)(f->str[c].offsets - af->base);
        f->lay.str_data[c] = (uint64_t)(f->str[c].data - af->base);
        f->lay.str_len[c] = f->str[c].data_len;
    }
    f->lay.items = vpos;
    f->lay.updated = (uint64_t)(f->updated_at - af->base);
    f->lay.inv = (uint64_t)((const uint8_t *)f->inv_norms - af->base);
    return 0;
}

/* Footer, schema, metadata and batch of a mapped file (the full O(1) parse). */
static int parse_structure(const char *path, ae_fragment *f, ae_error *err)
{
    arrow_file af;
    AE_TRY(arrow_file_open(path, f->map, f->size, &af, err));
    f->footer_pos = af.footer_pos;
    AE_TRY(check_schema(path, &af, &f->dim, err));
    AE_TRY(check_metadata(path, &af, f, err));
    AE_TRY(check_batch(path, &af, f, err));
    f->parsed = true;
    return 0;
}

/* A region [off, off + len) of a layout lies inside [8, footer). */
static bool region_ok(uint64_t off, uint64_t len, uint64_t footer)
{
    return off >= 8 && off <= footer && len <= footer - off;
}

/* Points f's columns into the map by a layout that was checked. */
static int apply_layout(const char *path, ae_fragment *f, const ae_fragment_layout *l,
                        ae_error *err)
{
    uint64_t n = f->n, nd = n * f->dim;
    if (l->footer > f->size || f->size - l->footer < ARROW_TRAILER)
        return CORRUPT("%s: layout puts the footer at %llu of %zu bytes", path,
                       (unsigned long long)l->footer, f->size);
    bool ok = true;
    for (int c = 0; c < NSTR; c++)
        ok = ok && region_ok(l->str_off[c], 4 * (n + 1), l->footer) &&
             region_ok(l->str_data[c], l->str_len[c], l->footer);
    ok = ok && region_ok(l->items, 4 * nd, l->footer) && region_ok(l->updated, 8 * n, l->footer) &&
         region_ok(l->inv, 4 * n, l->footer) && l->items % ALIGN == 0 && l->inv % 4 == 0;
    if (!ok)
        return CORRUPT("%s: the manifest's layout does not fit %llu rows x %u in %zu bytes", path,
                       (unsigned long long)n, f->dim, f->size);
    for (int c = 0; c < NSTR; c++) {
        f->str[c].offsets = f->map + l->str_off[c];
        f->str[c].data = f->map + l->str_data[c];
        f->str[c].data_len = l->str_len[c];
    }
    f->vectors = (const float *)(const void *)(f->map + l->items);
    f->updated_at = f->map + l->updated;
    f->inv_norms = (const float *)(const void *)(f->map + l->inv);
    f->footer_pos = (size_t)l->footer;
    f->lay = *l;
    return 0;
}

/* Whether a fragment keeps its descriptor fd for explicit reads: only while
 * the process uses under a quarter of its descriptor limit (fds are numbered
 * lowest free first), so a table of many fragments never starves the
 * program of descriptors; without one, reads go through the mapping. */
static bool fd_keep_ok(int fd)
{
    static _Atomic long limit; /* 0: not read yet */
    long l = atomic_load_explicit(&limit, memory_order_relaxed);
    if (!l) {
        struct rlimit rl;
        l = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                ? (long)(rl.rlim_cur / 4)
                : 256;
        atomic_store_explicit(&limit, l, memory_order_relaxed);
    }
    return fd < l;
}

/* Opens and maps path read-only (MADV_RANDOM); expect_size 0 = any size. */
static int map_file(const char *path, uint64_t expect_size, ae_fragment **out, ae_error *err)
{
    *out = NULL;
    int rc = 0;
    ae_fragment *f = calloc(1, sizeof *f);
    if (!f || !(f->path = ae_strdup(path))) {
        free(f);
        return ae_fail(err, AE_ENOMEM, "%s: no memory to open", path);
    }
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = ae_fail_errno(err, errno, "open %s", path);
        goto cleanup;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = ae_fail_errno(err, errno, "stat %s", path);
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) AE_FAIL(err, AE_ECORRUPT, "%s: not a regular file", path);
    if (st.st_size < 8 + ARROW_TRAILER)
        AE_FAIL(err, AE_ECORRUPT, "%s: %lld bytes is too short for a fragment", path,
                (long long)st.st_size);
    if (expect_size && (uint64_t)st.st_size != expect_size)
        AE_FAIL(err, AE_ECORRUPT, "%s: %lld bytes, the manifest says %llu", path,
                (long long)st.st_size, (unsigned long long)expect_size);
    f->size = (size_t)st.st_size;
    void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        rc = ae_fail_errno(err, errno, "mmap %s", path);
        goto cleanup;
    }
    f->map = m;
    ae_pc_advise(m, f->size, false); /* random: see ae_fragment_advise */
    if (fd_keep_ok(fd)) {
        f->fd = fd;
        fd = -1;
    }
    *out = f;
    f = NULL;
cleanup:
    if (fd >= 0) close(fd);
    ae_fragment_close(f);
    return rc;
}

int ae_fragment_open(const char *path, ae_fragment **out, ae_error *err)
{
    *out = NULL;
    ae_fragment *f;
    AE_TRY(map_file(path, 0, &f, err));
    int rc = parse_structure(path, f, err);
    if (rc < 0) {
        ae_fragment_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

int ae_fragment_open_layout(const char *path, size_t rows, uint32_t dim, uint64_t size,
                            const ae_fragment_layout *layout, ae_fragment **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(rows == 0 || rows >= AE_FRAGMENT_MAX_ROWS || dim < 1 || dim > AE_MAX_DIM, err,
                 AE_ECORRUPT, "%s: %zu rows of dimension %u cannot be a fragment", path, rows, dim);
    ae_fragment *f;
    AE_TRY(map_file(path, size, &f, err));
    f->n = rows;
    f->dim = dim;
    int rc = apply_layout(path, f, layout, err);
    if (rc < 0) {
        ae_fragment_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

void ae_fragment_get_layout(const ae_fragment *f, ae_fragment_layout *out)
{
    *out = f->lay;
}

void ae_fragment_advise(const ae_fragment *f, bool sequential)
{
    ae_pc_advise(f->map, f->size, sequential);
}

bool ae_fragment_row_resident(const ae_fragment *f, size_t row)
{
    return row >= f->n || ae_pc_resident(f->vectors + row * f->dim);
}

bool ae_fragment_id_resident(const ae_fragment *f, size_t row)
{
    const char *s;
    size_t len;
    if (row >= f->n || !ae_pc_resident(f->str[0].offsets + 4 * row)) return row >= f->n;
    return str_at(f, 0, row, &s, &len) != 0 || ae_pc_resident(s);
}

void ae_fragment_willneed_rows(const ae_fragment *f, const uint32_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i] >= f->n) continue;
        ae_pc_willneed(f->vectors + (size_t)rows[i] * f->dim, (size_t)f->dim * sizeof(float));
        ae_pc_willneed(f->inv_norms + rows[i], sizeof(float));
    }
}

void ae_fragment_willneed_ids(const ae_fragment *f, const uint32_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i] < f->n) ae_pc_willneed(f->str[0].offsets + 4 * (size_t)rows[i], 8);
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        if (rows[i] < f->n && str_at(f, 0, rows[i], &s, &len) == 0 && len) ae_pc_willneed(s, len);
    }
}

void ae_fragment_release_rows(const ae_fragment *f, size_t lo, size_t hi)
{
    if (hi > f->n) hi = f->n;
    if (lo >= hi) return;
    ae_pc_release(f->vectors + lo * f->dim, (hi - lo) * (size_t)f->dim * sizeof(float));
    /* the pass read their norms too (the whole pages inside the range go) */
    ae_pc_release(f->inv_norms + lo, (hi - lo) * sizeof(float));
}

void ae_fragment_close(ae_fragment *f)
{
    if (!f) return;
    if (f->map) munmap((void *)f->map, f->size);
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    free(f);
}

static int verify_parsed(const ae_fragment *f, const uint8_t expected[AE_FRAGMENT_CHECKSUM_LEN],
                         ae_error *err);
static int verify_body(const ae_fragment *f, const uint8_t expected[AE_FRAGMENT_CHECKSUM_LEN],
                       ae_error *err);

int ae_fragment_verify(const ae_fragment *f, const uint8_t expected[AE_FRAGMENT_CHECKSUM_LEN],
                       ae_error *err)
{
    const char *path = f->path;
    if (!f->parsed) {
        /* opened from the manifest's layout: the file's own structure must
         * say the same, and gives the body digest */
        ae_fragment p = {.path = f->path, .map = f->map, .size = f->size};
        AE_TRY(parse_structure(path, &p, err));
        if (p.n != f->n || p.dim != f->dim || memcmp(&p.lay, &f->lay, sizeof p.lay) != 0)
            return CORRUPT("%s: the file's layout (%zu rows x %u) differs from the manifest's "
                           "(%zu rows x %u)",
                           path, p.n, p.dim, f->n, f->dim);
        return verify_parsed(&p, expected, err);
    }
    return verify_parsed(f, expected, err);
}

static int verify_parsed(const ae_fragment *f, const uint8_t expected[AE_FRAGMENT_CHECKSUM_LEN],
                         ae_error *err)
{
    ae_fragment_advise(f, true);
    int rc = verify_body(f, expected, err);
    ae_fragment_advise(f, false);
    return rc;
}

static int verify_body(const ae_fragment *f, const uint8_t expected[AE_FRAGMENT_CHECKSUM_LEN],
                       ae_error *err)
{
    const char *path = f->path;
    ae_blake3 h;
    uint8_t d[AE_BLAKE3_OUT_LEN];
    char got[2 * AE_BLAKE3_OUT_LEN + 1], want[2 * AE_BLAKE3_OUT_LEN + 1];
    ae_blake3_init(&h);
    ae_blake3_update(&h, f->map, f->footer_pos);
    ae_blake3_final(&h, d);
    if (memcmp(d, f->body_digest, sizeof d) != 0) {
        ae_hex_encode(d, sizeof d, got);
        ae_hex_encode(f->body_digest, sizeof d, want);
        return CORRUPT("%s: checksum mismatch: data before the footer hashes to %.16s..., footer "
                       "says %.16s...",
                       path, got, want);
    }
    if (expected) {
        ae_blake3_update(&h, f->map + f->footer_pos, f->size - f->footer_pos);
        ae_blake3_final(&h, d);
        if (memcmp(d, expected, sizeof d) != 0) {
            ae_hex_encode(d, sizeof d, got);
            ae_hex_encode(expected, sizeof d, want);
            return CORRUPT("%s: checksum mismatch: file hashes to %.16s..., manifest says %.16s...",
                           path, got, want);
        }
    }
    for (int c = 0; c < NSTR; c++) {
        int32_t prev = load_i32(f->str[c].offsets);
        for (size_t i = 1; i <= f->n; i++) {
            int32_t o = load_i32(f->str[c].offsets + 4 * i);
            if (o < prev || (uint64_t)o > f->str[c].data_len)
                return CORRUPT("%s: %s offset %d of row %zu is out of order or past the data", path,
                               str_names[c], o, i - 1);
            prev = o;
        }
    }
    for (size_t i = 0; i < f->n; i++) {
        const float *v = f->vectors + i * f->dim;
        double ss = 0;
        for (uint32_t k = 0; k < f->dim; k++) {
            if (!isfinite(v[k]))
                return CORRUPT("%s: non-finite value at dimension %u of row %zu", path, k, i);
            ss += (double)v[k] * v[k];
        }
        double in = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        float stored = f->inv_norms[i];
        if (!isfinite(stored) || fabs(stored - in) > 1e-5 * in)
            return CORRUPT("%s: stored inverse norm %g of row %zu, vector gives %g", path,
                           (double)stored, i, in);
    }
    return 0;
}

size_t ae_fragment_nrows(const ae_fragment *f)
{
    return f->n;
}
uint32_t ae_fragment_dim(const ae_fragment *f)
{
    return f->dim;
}
uint64_t ae_fragment_file_size(const ae_fragment *f)
{
    return f->size;
}
const char *ae_fragment_path(const ae_fragment *f)
{
    return f->path;
}
const float *ae_fragment_vectors(const ae_fragment *f)
{
    return f->vectors;
}
const float *ae_fragment_inv_norms(const ae_fragment *f)
{
    return f->inv_norms;
}

/* Full reads only; EINTR retried.  Any other failure: false (the caller
 * reads through the mapping instead). */
static bool pread_all(int fd, void *dst, size_t len, off_t off)
{
    uint8_t *p = dst;
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return true;
}

bool ae_fragment_read_row(const ae_fragment *f, size_t row, float *dst, float *inv_norm)
{
    if (f->fd < 0 || row >= f->n) return false;
    size_t vec_bytes = (size_t)f->dim * sizeof(float);
    off_t vec_off = (off_t)((const uint8_t *)f->vectors - f->map) + (off_t)(row * vec_bytes);
    off_t inv_off = (off_t)((const uint8_t *)f->inv_norms - f->map) + (off_t)(row * sizeof(float));
    return pread_all(f->fd, dst, vec_bytes, vec_off) &&
           pread_all(f->fd, inv_norm, sizeof *inv_norm, inv_off);
}

static int str_at(const ae_fragment *f, int c, size_t row, const char **s, size_t *len)
{
    if (row >= f->n) return AE_EINVAL;
    int32_t o0 = load_i32(f->str[c].offsets + 4 * row);
    int32_t o1 = load_i32(f->str[c].offsets + 4 * (row + 1));
    if (o0 < 0 || o1 < o0 || (uint64_t)o1 > f->str[c].data_len) return AE_ECORRUPT;
    *s = (const char *)f->str[c].data + o0;
    *len = (size_t)(o1 - o0);
    return 0;
}

int ae_fragment_symbol_id(const ae_fragment *f, size_t row, const char **s, size_t *len)
{
    return str_at(f, 0, row, s, len);
}
int ae_fragment_sir_hash(const ae_fragment *f, size_t row, const char **s, size_t *len)
{
    return str_at(f, 1, row, s, len);
}
int ae_fragment_provider(const ae_fragment *f, size_t row, const char **s, size_t *len)
{
    return str_at(f, 2, row, s, len);
}
int ae_fragment_model(const ae_fragment *f, size_t row, const char **s, size_t *len)
{
    return str_at(f, 3, row, s, len);
}

int64_t ae_fragment_updated_at(const ae_fragment *f, size_t row)
{
    if (row >= f->n) return 0;
    int64_t v;
    memcpy(&v, f->updated_at + 8 * row, sizeof v);
    return v;
}
