/* Page-cache hints for mmapped, read-only files (see docs/BENCHMARKS.md,
 * "Cold first query").
 *
 * A query touches a few scattered pages of large mapped files.  With the
 * default read-around, each page fault on a file not in the page cache reads
 * the disk's whole read-ahead window (8 MB on the CI machine) and the faults
 * come one after another.  So maps are advised MADV_RANDOM, and the pages a
 * query will touch are requested first, all at once (MADV_WILLNEED starts
 * the reads and returns), when a cheap probe (mincore of one page) says they
 * are not resident.  Warm, the probe is the only cost. */
#ifndef AE_UTIL_PAGECACHE_H
#define AE_UTIL_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>

/* madvise of the whole map: sequential (read ahead) or random (no read-around). */
void ae_pc_advise(const void *map, size_t len, bool sequential);
/* Is the page holding p resident?  (true when mincore fails: no hint then.) */
bool ae_pc_resident(const void *p);
/* Starts asynchronous reads of the pages of [p, p + len); a no-op on error. */
void ae_pc_willneed(const void *p, size_t len);
/* Drops the whole pages inside [p, p + len) of a read-only file mapping from
 * this process's resident set (MADV_DONTNEED): they stay in the page cache,
 * and the next access maps them again, same bytes (the file is immutable). */
void ae_pc_release(const void *p, size_t len);

#endif
