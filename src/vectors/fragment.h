/* Data fragments of the native vector table: one Arrow IPC *file* per
 * fragment, written once, then opened read-only through mmap.
 *
 * Columns (one record batch per file, no nulls):
 *   symbol_id Utf8, sir_hash Utf8, provider Utf8, model Utf8,
 *   embedding FixedSizeList<Float32, DIM> (child "item"), updated_at Int64,
 *   _inv_norm Float32 (1/||embedding||, 0 for a zero vector)
 *
 * Checksums.  An Arrow file must end with its footer, so nothing can follow
 * it.  Two digests protect a fragment:
 *   1. the footer's custom_metadata "aether.body_blake3" holds the BLAKE3 of
 *      every byte before the footer (known when the footer is written), so
 *      ae_fragment_verify(f, NULL, ...) checks a fragment on its own;
 *   2. ae_fragment_write returns the BLAKE3 of the whole file and its size;
 *      the manifest stores both per fragment and passes the digest back to
 *      ae_fragment_verify(f, expected, ...), which also covers the footer.
 * The byte layout is in docs/FORMAT.md, "Data fragments (Arrow IPC file)". */
#ifndef AE_VECTORS_FRAGMENT_H
#define AE_VECTORS_FRAGMENT_H

#include <aether/error.h>
#include <aether/vector_store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_FRAGMENT_FORMAT_VERSION 1
#define AE_FRAGMENT_CHECKSUM_LEN   32                /* BLAKE3 digest */
#define AE_FRAGMENT_MAX_ROWS       ((size_t)1 << 31) /* Utf8 offsets are int32 */

/* Borrowed input of one write.  Strings are NUL-terminated UTF-8; each string
 * column's total length must stay below 2 GiB. */
typedef struct ae_fragment_rows {
    size_t n;
    uint32_t dim;
    const char *const *symbol_ids;
    const char *const *sir_hashes;
    const char *const *providers;
    const char *const *models;
    const float *embeddings;   /* n * dim, row-major */
    const int64_t *updated_at; /* ms since epoch */
    /* Optional, instead of embeddings: row i's dim values at embedding_rows[i]
     * (the writer reads them in place; the upsert path passes the caller's
     * records without gathering them first).  NULL: use embeddings. */
    const float *const *embedding_rows;
} ae_fragment_rows;

/* Where the columns a reader uses sit in the file (absolute offsets): what
 * ae_fragment_open learns from the footer and batch metadata.  The manifest
 * keeps a copy per fragment (docs/FORMAT.md, "Fragment layout in the
 * manifest"), so opening a table reads no fragment page at all. */
typedef struct ae_fragment_layout {
    uint64_t footer;      /* F: offset of the footer flatbuffer */
    uint64_t str_off[4];  /* int32 offsets of symbol_id, sir_hash, provider, model */
    uint64_t str_data[4]; /* their UTF-8 bytes */
    uint64_t str_len[4];  /* length of each UTF-8 buffer */
    uint64_t items;       /* embedding values (64-byte aligned) */
    uint64_t updated;     /* updated_at int64 values */
    uint64_t inv;         /* _inv_norm float32 values */
} ae_fragment_layout;
#define AE_FRAGMENT_LAYOUT_WORDS 16 /* the fields above, in order */

/* Writes rows to path (created or truncated; the caller picks a fresh name and
 * publishes it through the manifest), fsyncs the file (not its directory).
 * Input is validated before anything is created: n >= 1, 1 <= dim <= AE_MAX_DIM,
 * non-NULL strings, finite values (AE_EINVAL "NaN at dimension 17 of row 4").
 * On success fills the optional outputs with the file size and the BLAKE3 of
 * the whole file.  On an I/O failure the partial file is removed. */
int ae_fragment_write(const char *path, const ae_fragment_rows *rows, uint64_t *file_size,
                      uint8_t checksum[AE_FRAGMENT_CHECKSUM_LEN], ae_error *err);
/* The same, also filling *layout (optional) with the written file's layout. */
int ae_fragment_write_ex(const char *path, const ae_fragment_rows *rows, uint64_t *file_size,
                         uint8_t checksum[AE_FRAGMENT_CHECKSUM_LEN], ae_fragment_layout *layout,
                         ae_error *err);

typedef struct ae_fragment ae_fragment; /* an mmapped, validated fragment */

/* Maps and validates the structure (magic, footer, schema, batch metadata,
 * every buffer in bounds, row count) in O(1) work: no column is scanned.
 * AE_ECORRUPT "PATH: <what>" on anything malformed, AE_EVERSION for a newer
 * aether.format_version, AE_EIO / AE_ENOTFOUND from the OS. */
int ae_fragment_open(const char *path, ae_fragment **out, ae_error *err);
/* Maps a fragment whose layout, row count, dimension and size the caller
 * knows (the manifest): no page of the file is read.  Checks the file size
 * and that every region of the layout lies inside [8, footer), aligned and
 * big enough for `rows` rows of `dim` floats (AE_ECORRUPT otherwise).  The
 * footer, schema and body digest are read by ae_fragment_verify, which also
 * checks that the file's own layout equals this one. */
int ae_fragment_open_layout(const char *path, size_t rows, uint32_t dim, uint64_t size,
                            const ae_fragment_layout *layout, ae_fragment **out, ae_error *err);
/* The layout of an open fragment. */
void ae_fragment_get_layout(const ae_fragment *f, ae_fragment_layout *out);

/* Read-ahead advice.  Fragments are mapped MADV_RANDOM: a query touches a few
 * rows, and this disk's 8 MB read-around would turn each touch into megabytes
 * (docs/BENCHMARKS.md, "Cold first query").  Whole passes (exact scan,
 * iteration, verify, index builds, compaction) switch to sequential first. */
void ae_fragment_advise(const ae_fragment *f, bool sequential);
/* Whether the page holding row's vector is in the page cache (mincore):
 * the cheap probe that decides whether a query prefetches at all. */
bool ae_fragment_row_resident(const ae_fragment *f, size_t row);
/* The same for the pages of row's symbol_id (its offset, then its bytes). */
bool ae_fragment_id_resident(const ae_fragment *f, size_t row);
/* Starts reading (MADV_WILLNEED: asynchronous, all at once) the pages that
 * hold the vectors and inverse norms of these rows, so a cold re-rank waits
 * for one batch of reads instead of one fault after another.  Rows >= nrows
 * are ignored. */
void ae_fragment_willneed_rows(const ae_fragment *f, const uint32_t *rows, size_t n);
/* The same for the symbol_id strings of rows: the offsets first (waited
 * for), then the bytes they point at. */
void ae_fragment_willneed_ids(const ae_fragment *f, const uint32_t *rows, size_t n);
/* The vectors and inverse norms of rows [lo, hi) leave this process's
 * resident set (they stay in the page cache; util/pagecache.h): a build pass
 * behind itself. */
void ae_fragment_release_rows(const ae_fragment *f, size_t lo, size_t hi);

/* Full check, O(file size): the embedded body digest, the whole-file digest
 * against `expected` when not NULL (the manifest's copy), every Utf8 offset,
 * every value finite.  AE_ECORRUPT naming the file and what differs. */
int ae_fragment_verify(const ae_fragment *f, const uint8_t expected[AE_FRAGMENT_CHECKSUM_LEN],
                       ae_error *err);

/* Accepts NULL.  Pointers returned below die with the fragment. */
void ae_fragment_close(ae_fragment *f);

size_t ae_fragment_nrows(const ae_fragment *f);
uint32_t ae_fragment_dim(const ae_fragment *f);
uint64_t ae_fragment_file_size(const ae_fragment *f);
const char *ae_fragment_path(const ae_fragment *f);

/* n * dim floats, contiguous and 64-byte aligned, zero-copy into the map. */
const float *ae_fragment_vectors(const ae_fragment *f);
/* n floats: 1/||v|| (0 for a zero vector), stored at write time. */
const float *ae_fragment_inv_norms(const ae_fragment *f);

/* Copies row's vector (dim floats) and inverse norm, the same bytes as the
 * two pointers above give, by explicit reads of the file (pread), without
 * touching the mapping.  A process that reads only a few hundred rows (one
 * query) pays no page faults for them: mapping a page of a large page-cache
 * folio maps the whole folio (hundreds of pages, and as many to unmap at
 * exit), docs/BENCHMARKS.md, "A fresh process: reading rows, not mapping
 * them".  false: no descriptor kept, or the read failed; the caller reads
 * through the mapping. */
bool ae_fragment_read_row(const ae_fragment *f, size_t row, float *dst, float *inv_norm);

/* Zero-copy string of one row (NOT NUL-terminated).  Offsets are checked per
 * call, so a corrupt offset gives AE_ECORRUPT rather than a wild read;
 * AE_EINVAL for row >= nrows. */
int ae_fragment_symbol_id(const ae_fragment *f, size_t row, const char **s, size_t *len);
int ae_fragment_sir_hash(const ae_fragment *f, size_t row, const char **s, size_t *len);
int ae_fragment_provider(const ae_fragment *f, size_t row, const char **s, size_t *len);
int ae_fragment_model(const ae_fragment *f, size_t row, const char **s, size_t *len);
/* 0 for row >= nrows. */
int64_t ae_fragment_updated_at(const ae_fragment *f, size_t row);

#endif
