/* The recall an index build measures of its own index (docs/FORMAT.md,
 * "Measured recall").  Private to src/store/table_*.c. */
#ifndef AE_STORE_TABLE_TUNE_H
#define AE_STORE_TABLE_TUNE_H

#include <aether/error.h>

#include "index/ivfpq.h"
#include "vectors/table.h"

/* Queries sampled from the table's own live rows (leave-one-out: a row's own
 * entry is left out of both lists). */
#define AE_TABLE_TUNE_SAMPLE   128
#define AE_TABLE_TUNE_MIN_ROWS 1000 /* smaller tables: nothing measured */
#define AE_TABLE_TUNE_K        10

/* Measures recall@10 of ix over the table's rows against the exact scan,
 * first at the static defaults (AE_IVFPQ_DEFAULT_NPROBE, the dim's default
 * refine), then at costlier settings until the measured recall minus two
 * standard errors reaches `target`; fills *out with the setting chosen and
 * its measured recall (or the best setting tried when none reaches it).
 * Never picks a setting cheaper than the defaults.  out->set stays false for
 * tables under AE_TABLE_TUNE_MIN_ROWS live rows. */
int ae_table_tune_index(ae_table *t, const ae_ivfpq *ix, double target, ae_index_tuned *out,
                        ae_error *err);
/* The same with the exact pass on `threads` threads (the above: the build's
 * default); the result does not depend on it. */
int ae_table_tune_index_mt(ae_table *t, const ae_ivfpq *ix, double target, int threads,
                           ae_index_tuned *out, ae_error *err);

#endif
