/* Administration of the native backend's vectors directory (config value
 * "lancedb"; see include/aether/vector_store.h): status, optimize and the
 * store check (`aetherd --fsck`).
 *
 * These open the tables themselves; optimize takes each table's writer lock
 * (AE_EBUSY while another writer, in this process or another, holds it). */
#ifndef AE_STORE_TABLES_ADMIN_H
#define AE_STORE_TABLES_ADMIN_H

#include <aether/error.h>

#include "vectors/table.h"

/* Status of every table in vectors_dir, sorted by name; *out allocated
 * (caller frees), *n may be 0.  A missing directory gives no tables. */
int ae_tables_status(const char *vectors_dir, ae_table_status **out, size_t *n, ae_error *err);

/* Compacts every table and removes old versions (see ae_table_optimize);
 * opts NULL = defaults. */
int ae_tables_optimize(const char *vectors_dir, const ae_table_opts *opts, ae_error *err);

typedef struct ae_tables_fsck_report {
    char name[AE_TABLE_NAME_MAX];
    ae_table_fsck_report report;
} ae_tables_fsck_report;

/* Verifies every table (ae_table_fsck); *out allocated, free with
 * ae_tables_fsck_free.  *problems (optional) = total problems found. */
int ae_tables_fsck(const char *vectors_dir, ae_tables_fsck_report **out, size_t *n,
                   size_t *problems, ae_error *err);
void ae_tables_fsck_free(ae_tables_fsck_report *r, size_t n);

#endif
