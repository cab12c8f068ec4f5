/* Administration of the "lancedb" backend's vectors directory, for the CLI
 * (`aetherd --verify`, status, optimize).  "lancedb" is our own C
 * implementation of the Lance design, not the LanceDB library.
 *
 * These open the tables themselves; optimize takes each table's writer lock
 * (AE_EBUSY while another writer, in this process or another, holds it). */
#ifndef AE_STORE_LANCEDB_ADMIN_H
#define AE_STORE_LANCEDB_ADMIN_H

#include <aether/error.h>

#include "vectors/table.h"

/* Status of every table in vectors_dir, sorted by name; *out allocated
 * (caller frees), *n may be 0.  A missing directory gives no tables. */
int ae_lancedb_status(const char *vectors_dir, ae_table_status **out, size_t *n, ae_error *err);

/* Compacts every table and removes old versions (see ae_table_optimize);
 * opts NULL = defaults. */
int ae_lancedb_optimize(const char *vectors_dir, const ae_table_opts *opts, ae_error *err);

typedef struct ae_lancedb_table_report {
    char name[AE_TABLE_NAME_MAX];
    ae_verify_report report;
} ae_lancedb_table_report;

/* Verifies every table (ae_table_verify); *out allocated, free with
 * ae_lancedb_verify_free.  *problems (optional) = total problems found. */
int ae_lancedb_verify(const char *vectors_dir, ae_lancedb_table_report **out, size_t *n,
                      size_t *problems, ae_error *err);
void ae_lancedb_verify_free(ae_lancedb_table_report *r, size_t n);

#endif
