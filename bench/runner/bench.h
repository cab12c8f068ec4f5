/* aether-bench internals: TEXMEX vector files and the mmapped matrix source. */
#ifndef AE_BENCH_BENCH_H
#define AE_BENCH_BENCH_H

#include "index/ivfpq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A row-major float32 matrix mmapped from <dir>/base.f32, with its inverse
 * norms mmapped from <dir>/base.inv. */
typedef struct bench_matrix {
    const float *x;
    const float *inv;
    size_t n;
    uint32_t dim;
    size_t x_bytes, inv_bytes;
} bench_matrix;

/* Reads a whole .fvecs (or .ivecs: the values are int32) file into memory;
 * at most limit rows when limit > 0.  Caller frees *out. */
/* The first row of an fvecs file, read alone (the cold child's query). */
int bench_read_first_vec(const char *path, float **out, uint32_t *dim, ae_error *err);
int bench_read_vecs(const char *path, size_t limit, void **out, size_t *n, uint32_t *dim,
                    ae_error *err);

/* Converts base.fvecs to <dir>/base.f32 + <dir>/base.inv unless they exist
 * with the right size (streaming, bounded memory). */
int bench_prepare_base(const char *fvecs, const char *dir, ae_error *err);

/* mmaps <dir>/base.f32 and base.inv (populate: MAP_POPULATE, page tables
 * filled up front). */
int bench_matrix_open(const char *dir, uint32_t dim, bool populate, bench_matrix *m, ae_error *err);
void bench_matrix_close(bench_matrix *m);
ae_vec_source bench_matrix_source(bench_matrix *m);

/* --store table|sqlite: ingest through the VectorStore (native table or the
 * legacy SQLite backend), search via ae_vs_search; one JSON line per
 * (nprobe, refine).  paired (--paired, table only): each query also goes
 * through the table's own index file over the mmapped base matrix (the bare
 * index) right before, so both paths are timed under the same load; the
 * line adds bare_p50_ms, bare_cpu_p50_ms and the ratios.  Returns the exit
 * code. */
int bench_store_run(const bench_matrix *mat, const char *dir, const char *store, bool rebuild,
                    const float *queries, size_t nq, const int32_t *gt, uint32_t gk, size_t k,
                    const uint32_t *nprobe, int n_nprobe, const uint32_t *refine, int n_refine,
                    const char *query_path, bool exact, int passes, bool paired);
/* --reindex (with --store table, no --rebuild): the index of the table in
 * --dir is built again before the queries, timed, with the build's peak
 * resident set split into anonymous and file-backed pages (sampled every
 * 50 ms; with --rebuild too); rss_log (--rss-log FILE, or NULL): each of
 * the build's samples appended there as "seconds anon_mb file_mb index_mb table_mb" (the last two:
 * mapped pages of the index files and of the table's other files, from /proc/self/smaps). */
void bench_store_set_options(bool reindex, const char *rss_log);
/* --ingest-only: upserts every row into a fresh store under dir (no index
 * build, no queries); one JSON line with wall and CPU time.  Returns the exit
 * code. */
int bench_store_ingest(const bench_matrix *mat, const char *dir, const char *store);
/* --store table --query-threads T (throughput.c): queries/s and CPU time of
 * T threads on the table in vdir, one shared handle or one each; every
 * thread's first pass checked against a serial pass.  Returns the exit code. */
int bench_store_throughput(const char *vdir, const float *queries, size_t nq, uint32_t dim,
                           size_t k, uint32_t nprobe, uint32_t refine, int threads,
                           bool shared_handle, double seconds);
/* --cold-bench VDIR (cold.c): evict ("fadvise", "drop", "none"), then a
 * fresh --cold-store child (or the program cmd, NULL-terminated argv, when
 * not NULL); one JSON line with medians over `runs`. */
int bench_cold_run(const char *vdir, const char *query, const char *how, int runs, size_t k,
                   uint32_t nprobe, uint32_t refine, const char *child, char *const *cmd);
/* Child of the cold-start measurement for --store table. */
int bench_store_cold_child(const char *vdir, const float *q, uint32_t dim, size_t k,
                           uint32_t nprobe, uint32_t refine);

/* CLOCK_MONOTONIC in milliseconds. */
double bench_now_ms(void);
/* CPU time of the calling thread in milliseconds (CLOCK_THREAD_CPUTIME_ID): a
 * query's cost without the time spent waiting for a core on a loaded machine. */
double bench_cpu_ms(void);
/* Sorts ascending; then bench_pct(sorted, n, 0.5) is the median. */
void bench_sort(double *v, size_t n);
double bench_pct(const double *sorted, size_t n, double p);
/* Cold start: re-executes this program as `aether-bench MODE_FLAG TARGET --dir
 * DIR --query Q --nprobe N --refine R --k K` in a fresh process; *child_ms is
 * the time the child reports (open + first query), *exec_ms the same seen from
 * here (fork + exec + loading included).  -1 when the child failed. */
int bench_run_cold(const char *mode_flag, const char *target, const char *query_path, size_t k,
                   uint32_t nprobe, uint32_t refine, const char *dir, double *child_ms,
                   double *exec_ms);

/* fvecs header: dimension of the first row. */
int bench_fvecs_dim(const char *path, uint32_t *dim, ae_error *err);

#endif
