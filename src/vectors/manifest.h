/* Table manifests: one file per committed version, versions/<20 digits>.manifest.
 *
 * A manifest is two JSON lines (jq -s reads it):
 *
 *   LINE  MEANING
 *   1     the body: {"magic":"aether-vector-table","format":1,"version":N,
 *         "provider","model","dim","created_at" (ms),"next_fragment_id",
 *         "fragments":[{"id","file","rows","size","checksum",
 *                       "deletion":null | {"file","count","size","checksum"},
 *                       "layout" (optional): [16 offsets, see fragment.h]}],
 *         "index":null | {"file","size","checksum","covers_version","rows",
 *                         "verified" (optional): {"ino","mtime_ns","ctime_ns"},
 *                         "tuned" (optional): {"target","recall","k","nprobe",
 *                                              "refine","sample"}}}
 *   2     the trailer: {"body_blake3":"<64 hex of line 1's bytes>","body_len":L}
 *
 * A file without a complete trailer, with a wrong length or checksum, or whose
 * body does not parse is corrupt (AE_ECORRUPT) and is never used.  File names
 * in a manifest are relative to the table directory ("data/...").  Checksums
 * are BLAKE3 hex of the whole referenced file. */
#ifndef AE_VECTORS_MANIFEST_H
#define AE_VECTORS_MANIFEST_H

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vectors/fragment.h"

#define AE_MANIFEST_MAGIC   "aether-vector-table"
#define AE_MANIFEST_FORMAT  1
#define AE_CHECKSUM_HEX_LEN 64

typedef struct ae_file_ref {
    char *file; /* relative to the table directory; NULL = absent */
    uint64_t size;
    char checksum[AE_CHECKSUM_HEX_LEN + 1];
} ae_file_ref;

typedef struct ae_manifest_fragment {
    uint64_t id;
    ae_file_ref data;
    uint64_t rows;
    ae_file_ref deletion; /* deletion.file == NULL: no deleted rows */
    uint64_t deleted;
    /* optional "layout" (written since 2026-12): where the columns are, so a
     * reader maps the fragment without reading its footer */
    bool has_layout;
    ae_fragment_layout layout;
} ae_manifest_fragment;

/* The slot an ANN index (IVF-PQ) fills: one more file a commit publishes. */
/* The file identity an index had when its publisher verified it in full
 * (optional "verified"): a reader that finds the same inode, size, mtime and
 * ctime skips the full check on open (docs/FORMAT.md, "Index in the table"). */
typedef struct ae_index_stamp {
    bool set;
    uint64_t ino;
    int64_t mtime_ns, ctime_ns;
} ae_index_stamp;

/* What the build measured of the index it published (optional "tuned"):
 * recall@k of (nprobe, refine) on `sample` of the table's own rows against
 * the exact scan, chosen for `target`. */
typedef struct ae_index_tuned {
    bool set;
    double target, recall;
    uint32_t k, nprobe, refine, sample;
} ae_index_tuned;

typedef struct ae_manifest_index {
    ae_file_ref ref; /* ref.file == NULL: no index */
    uint64_t covers_version;
    uint64_t rows;
    ae_index_stamp stamp;
    ae_index_tuned tuned;
} ae_manifest_index;

typedef struct ae_manifest {
    uint64_t version; /* 0 = the implicit empty table before the first commit */
    char *provider;
    char *model;
    uint32_t dim;
    int64_t created_at; /* ms since epoch */
    uint64_t next_fragment_id;
    ae_manifest_fragment *fragments;
    size_t n_fragments;
    ae_manifest_index index;
} ae_manifest;

/* Serialises m; *out is allocated (caller frees), *len its size. */
int manifest_encode(const ae_manifest *m, char **out, size_t *len, ae_error *err);
/* Parses and checks a manifest's bytes; `name` is used in messages. */
int manifest_decode(const char *data, size_t len, const char *name, ae_manifest *m, ae_error *err);
/* Reads and decodes a file. */
int manifest_read(const char *path, ae_manifest *m, ae_error *err);
/* Deep copy (for building the next version). */
int manifest_copy(const ae_manifest *src, ae_manifest *dst);
void manifest_free(ae_manifest *m);

/* "versions/00000000000000000007.manifest" relative name for version v. */
void manifest_name(uint64_t v, char out[64]);
/* Parses a directory entry name; returns 1 and sets *v if it is a manifest. */
int manifest_parse_name(const char *entry, uint64_t *v);

/* Version numbers found in <table>/versions, sorted ascending (caller frees). */
int manifest_list(const char *table_dir, uint64_t **versions, size_t *n, ae_error *err);

/* BLAKE3 hex of a whole file, read in chunks; *size receives its length. */
int file_checksum(const char *path, char out[AE_CHECKSUM_HEX_LEN + 1], uint64_t *size,
                  ae_error *err);

#endif
