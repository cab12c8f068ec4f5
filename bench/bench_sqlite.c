/* bench_sqlite: single-query latency of the legacy SQLite VectorStore backend
 * (brute-force JSON scan), the baseline the native vector table is compared
 * against.
 *
 *   bench_sqlite [--n 1000,10000,100000] [--dim 384,768] [--queries 20]
 *                [--limit 10] [--seed 42] [--dir /tmp]
 *
 * For each (n, dim) it fills a scratch database with n random unit vectors
 * (Gaussian, normalised) in batches of 1000, then times `queries` random unit
 * queries with top-`limit` search, printing one JSON line per config.  The
 * scratch database is deleted afterwards. */
#include <aether/vector_store.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 1000

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_uniform(void)
{
    return ((rng_next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static void random_unit(float *v, uint32_t dim)
{
    double n = 0;
    for (uint32_t j = 0; j < dim; j++) {
        /* Box-Muller */
        double g = sqrt(-2.0 * log(rng_uniform())) * cos(6.283185307179586 * rng_uniform());
        v[j] = (float)g;
        n += g * g;
    }
    n = sqrt(n);
    for (uint32_t j = 0; j < dim; j++)
        v[j] = (float)(v[j] / n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t parse_list(const char *s, long *out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0) return 0;
        out[n++] = v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    return n;
}

static int run(long n, long dim, int queries, int limit, const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bench_sqlite_%ld_%ld_%d.sqlite", dir, n, dim, (int)getpid());
    unlink(path);
    ae_error err;
    ae_vector_store *vs = NULL;
    if (ae_vs_open_sqlite(path, &vs, &err) != 0) {
        fprintf(stderr, "bench_sqlite: %s\n", err.message);
        return 1;
    }
    float *vecs = malloc(sizeof(float) * (size_t)dim * BATCH);
    ae_vs_record *recs = calloc(BATCH, sizeof *recs);
    char(*ids)[AE_SYMBOL_ID_MAX + 1] = calloc(BATCH, sizeof *ids);
    if (!vecs || !recs || !ids) return 1;

    double t0 = now_s();
    for (long done = 0; done < n; done += BATCH) {
        size_t m = (size_t)(n - done < BATCH ? n - done : BATCH);
        for (size_t i = 0; i < m; i++) {
            random_unit(vecs + i * dim, (uint32_t)dim);
            snprintf(ids[i], sizeof ids[i], "%016llx%016llx", (unsigned long long)rng_next(),
                     (unsigned long long)(done + (long)i));
            recs[i] = (ae_vs_record){.symbol_id = ids[i],
                                     .sir_hash = "bench",
                                     .provider = "bench",
                                     .model = "random",
                                     .embedding = vecs + i * dim,
                                     .dim = (uint32_t)dim};
        }
        if (ae_vs_upsert(vs, recs, m, &err) != 0) {
            fprintf(stderr, "bench_sqlite: %s\n", err.message);
            return 1;
        }
    }
    double fill_s = now_s() - t0;

    double *lat = calloc((size_t)queries, sizeof *lat);
    float *q = malloc(sizeof(float) * (size_t)dim);
    for (int k = 0; k < queries; k++) {
        random_unit(q, (uint32_t)dim);
        ae_vs_hit *hits = NULL;
        size_t nh = 0;
        double s = now_s();
        if (ae_vs_search(vs, q, (uint32_t)dim, "bench", "random", (size_t)limit, NULL, &hits, &nh,
                         &err) != 0) {
            fprintf(stderr, "bench_sqlite: %s\n", err.message);
            return 1;
        }
        lat[k] = (now_s() - s) * 1e3;
        free(hits);
    }
    qsort(lat, (size_t)queries, sizeof *lat, cmp_double);
    double median = queries % 2 ? lat[queries / 2] : (lat[queries / 2 - 1] + lat[queries / 2]) / 2;
    size_t p95i = (size_t)ceil(0.95 * queries) - 1;
    struct stat st;
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    printf("{\"backend\":\"sqlite\",\"n\":%ld,\"dim\":%ld,\"queries\":%d,\"limit\":%d,"
           "\"fill_s\":%.2f,\"db_bytes\":%lld,\"median_ms\":%.2f,\"p95_ms\":%.2f,"
           "\"min_ms\":%.2f,\"max_ms\":%.2f}\n",
           n, dim, queries, limit, fill_s, bytes, median, lat[p95i], lat[0], lat[queries - 1]);
    fflush(stdout);

    ae_vs_close(vs);
    unlink(path);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    free(lat);
    free(q);
    free(vecs);
    free(recs);
    free(ids);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_sqlite [--n 1000,10000,100000] [--dim 384,768] [--queries 20] "
                    "[--limit 10] [--seed 42] [--dir /tmp]\n");
}

int main(int argc, char **argv)
{
    long ns[8] = {1000, 10000, 100000}, dims[8] = {384, 768};
    size_t n_ns = 3, n_dims = 2;
    int queries = 20, limit = 10;
    const char *dir = "/tmp";
    rng_state = 42;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--n"))
            n_ns = parse_list(v, ns, 8);
        else if (!strcmp(a, "--dim"))
            n_dims = parse_list(v, dims, 8);
        else if (!strcmp(a, "--queries"))
            queries = atoi(v);
        else if (!strcmp(a, "--limit"))
            limit = atoi(v);
        else if (!strcmp(a, "--seed"))
            rng_state = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--dir"))
            dir = v;
        else {
            usage();
            return 2;
        }
    }
    if (!n_ns || !n_dims || queries <= 0 || limit <= 0) {
        usage();
        return 2;
    }
    for (size_t a = 0; a < n_ns; a++)
        for (size_t b = 0; b < n_dims; b++)
            if (run(ns[a], dims[b], queries, limit, dir) != 0) return 1;
    return 0;
}
