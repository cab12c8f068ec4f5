/* bench_table: the native vector table without an index.  Upserts include
 * the size-tiered tail merges they trigger.
 *
 *   bench_table [DIR] [DIM] [ROWS...]     defaults: a temp dir, 768, 10000 100000
 *
 * For each row count: upsert throughput (batches of 1000 rows, one commit
 * each), the cost of opening the table and answering a first query, exact
 * top-10 search latency (median of 20 queries) before and after optimize. */
#include "vectors/table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 1000, QUERIES = 20 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill(uint64_t seed, float *v, uint32_t dim)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (uint32_t d = 0; d < dim; d++) {
        x ^= x >> 31;
        x *= 0x94d049bb133111ebull;
        x ^= x >> 29;
        v[d] = (float)((double)(x >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double search_median_ms(ae_table *t, uint32_t dim)
{
    float *q = malloc(dim * sizeof *q);
    double ms[QUERIES];
    for (int i = 0; i < QUERIES; i++) {
        fill(1000000007ull + (uint64_t)i, q, dim);
        ae_vs_hit *hits = NULL;
        size_t n = 0;
        ae_error err;
        double t0 = now_s();
        if (ae_table_search(t, q, dim, 10, &hits, &n, &err) < 0) {
            fprintf(stderr, "search: %s\n", err.message);
            exit(1);
        }
        ms[i] = (now_s() - t0) * 1e3;
        free(hits);
    }
    free(q);
    qsort(ms, QUERIES, sizeof *ms, cmp_double);
    return ms[QUERIES / 2];
}

static int run(const char *vdir, uint32_t dim, size_t rows)
{
    ae_error err;
    ae_table *t = NULL;
    char provider[32];
    snprintf(provider, sizeof provider, "bench%zu", rows);
    if (ae_table_open(vdir, provider, "m", dim, 1, NULL, &t, &err) < 0) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    ae_vs_record *recs = calloc(BATCH, sizeof *recs);
    char(*ids)[32] = calloc(BATCH, sizeof *ids);
    float *emb = malloc((size_t)BATCH * dim * sizeof *emb);
    double t0 = now_s();
    for (size_t done = 0; done < rows; done += BATCH) {
        size_t n = rows - done < BATCH ? rows - done : BATCH;
        for (size_t i = 0; i < n; i++) {
            snprintf(ids[i], sizeof ids[i], "sym-%zu", done + i);
            fill(done + i, emb + i * dim, dim);
            recs[i] = (ae_vs_record){ids[i], "h", provider, "m", emb + i * dim, dim, 1};
        }
        if (ae_table_upsert(t, recs, n, &err) < 0) {
            fprintf(stderr, "upsert: %s\n", err.message);
            return 1;
        }
    }
    double ingest = now_s() - t0;
    ae_table_status st;
    ae_table_status_get(t, &st, &err);
    double before = search_median_ms(t, dim);
    t0 = now_s();
    if (ae_table_optimize(t, &err) < 0) {
        fprintf(stderr, "optimize: %s\n", err.message);
        return 1;
    }
    double optimize = now_s() - t0;
    ae_table_close(t);
    t0 = now_s();
    if (ae_table_open(vdir, provider, "m", dim, 0, NULL, &t, &err) < 0) return 1;
    float *q = malloc(dim * sizeof *q);
    fill(42, q, dim);
    ae_vs_hit *hits = NULL;
    size_t nh = 0;
    ae_table_search(t, q, dim, 10, &hits, &nh, &err);
    double first = (now_s() - t0) * 1e3;
    free(hits);
    free(q);
    double after = search_median_ms(t, dim);
    printf("rows %zu dim %u: upsert %.0f rows/s (%zu commits of %d), optimize %.2f s, "
           "open+first query %.1f ms, exact top-10 median %.2f ms (%zu fragments) / %.2f ms "
           "(optimized)\n",
           rows, (unsigned)dim, rows / ingest, (rows + BATCH - 1) / BATCH, BATCH, optimize, first,
           before, st.fragments, after);
    ae_table_close(t);
    free(recs);
    free(ids);
    free(emb);
    return 0;
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/ae-bench-table-XXXXXX";
    const char *vdir = argc > 1 ? argv[1] : mkdtemp(tmpl);
    uint32_t dim = argc > 2 ? (uint32_t)atoi(argv[2]) : 768;
    size_t defaults[] = {10000, 100000};
    int rc = 0;
    if (argc > 3) {
        for (int i = 3; i < argc && !rc; i++)
            rc = run(vdir, dim, (size_t)atol(argv[i]));
    } else {
        for (size_t i = 0; i < 2 && !rc; i++)
            rc = run(vdir, dim, defaults[i]);
    }
    printf("data left in %s\n", vdir);
    return rc;
}
