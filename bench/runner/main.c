/* aether-bench: recall and latency of the exact scan and the IVF-PQ index on
 * TEXMEX files, one query at a time on one thread, one JSON object per line.
 *
 *   aether-bench --base B.fvecs --query Q.fvecs --gt G.ivecs [--k 10]
 *                [--index flat|ivfpq] [--nprobe N[,N2,...]] [--refine R[,R2,...]]
 *                [--nlist L] [--m M] [--threads T] [--iters I] [--rebuild] [--dir SCRATCH] [--nq N]
 *                [--store matrix|table|sqlite] [--ingest-only] [--build-budget-mb MB]
 *                [--reindex] [--rss-log FILE]
 *                [--query-threads T [--handles shared|own] [--seconds S]]
 *
 * 1. --store matrix (default): the vector source is the base matrix converted
 *    once to raw float32 in --dir and mmapped, and the index is called
 *    directly -- the index alone.  --store table: the vectors go into a native
 *    vector table and queries through the VectorStore, as the CLI does
 *    (store_bench.c).
 * 2. Latency: 50 warm-up queries, then each query timed alone with
 *    CLOCK_MONOTONIC (and its thread CPU time: cpu_p50_ms); p50/p95/p99 over
 *    the timed queries.  --passes P runs the queries P times and reports the
 *    last pass: from the second on, every page the queries touch is mapped in
 *    this process (the matrix source is mapped MAP_POPULATE, the table's
 *    fragments are not: a first pass through the table pays a minor fault
 *    per newly touched page, as a long-lived reader does only once).
 * 3. cold_first_query_ms: the program re-executes itself (/proc/self/exe) with
 *    --cold-child; the child opens the index and the source, answers query 0
 *    and reports the time from before open to the answer (a fresh process,
 *    with whatever the page cache already holds).  cold_exec_ms is the same
 *    seen from the parent, fork + exec + dynamic loading included. */
#include "bench.h"

#include "store/table_index_policy.h"
#include "util/blas.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct opts {
    const char *base, *query, *gt, *dir, *index, *store;
    size_t k, nq;
    uint32_t nprobe[32], refine[32];
    int n_nprobe, n_refine;
    uint32_t nlist, m;
    int threads, rebuild, passes, paired, ingest_only, reindex;
    const char *rss_log; /* --rss-log FILE (store_bench.c) */
    uint32_t iters;      /* k-means iterations of a --store matrix build (0: default) */
    int query_threads;   /* --store table: throughput mode (throughput.c) */
    const char *handles;
    double seconds;
    /* --cold-child / --cold-store / --cold-bench */
    const char *cold_index, *cold_store, *cold_bench, *evict, *child;
    char **cmd; /* --cmd PROG ARG...: the rest of the command line */
    int runs;
} opts;

static int parse_list(const char *s, uint32_t *out, int max)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s) return -1;
        out[n++] = (uint32_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: aether-bench --base B.fvecs --query Q.fvecs --gt G.ivecs [--k 10]\n"
            "  [--index flat|ivfpq] [--nprobe N[,N2...]] [--refine R[,R2...]]\n"
            "  [--nlist L] [--m M] [--threads T] [--iters I] [--rebuild] [--dir SCRATCH] [--nq N]\n"
            "  [--store matrix|table|sqlite] [--passes P] [--paired] [--ingest-only]\n"
            "  [--build-budget-mb MB] [--reindex] [--rss-log FILE] (--store table)\n"
            "  [--query-threads T [--handles shared|own] [--seconds S]] (--store table)\n"
            "       aether-bench --cold-bench VDIR --query Q.fvecs [--evict fadvise|drop|none]\n"
            "  [--runs N] [--nprobe N] [--refine R] [--k K] [--child BIN] [--cmd PROG ARG...]\n");
}

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->index = "ivfpq";
    o->dir = "/tmp/aether-bench";
    o->store = "matrix";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--base"))
            o->base = v;
        else if (ARG("--query"))
            o->query = v;
        else if (ARG("--gt"))
            o->gt = v;
        else if (ARG("--dir"))
            o->dir = v;
        else if (ARG("--index"))
            o->index = v;
        else if (ARG("--k"))
            o->k = strtoul(v, NULL, 10);
        else if (ARG("--nq"))
            o->nq = strtoul(v, NULL, 10);
        else if (ARG("--nlist"))
            o->nlist = (uint32_t)strtoul(v, NULL, 10);
        else if (ARG("--m"))
            o->m = (uint32_t)strtoul(v, NULL, 10);
        else if (ARG("--threads"))
            o->threads = atoi(v);
        else if (ARG("--iters"))
            o->iters = (uint32_t)strtoul(v, NULL, 10);
        else if (ARG("--query-threads"))
            o->query_threads = atoi(v);
        else if (ARG("--handles"))
            o->handles = v;
        else if (ARG("--seconds"))
            o->seconds = atof(v);
        else if (ARG("--nprobe")) {
            if ((o->n_nprobe = parse_list(v, o->nprobe, 32)) < 0) return -1;
        } else if (ARG("--refine")) {
            if ((o->n_refine = parse_list(v, o->refine, 32)) < 0) return -1;
        } else if (ARG("--cold-child"))
            o->cold_index = v;
        else if (ARG("--cold-store"))
            o->cold_store = v;
        else if (ARG("--cold-bench"))
            o->cold_bench = v;
        else if (ARG("--evict"))
            o->evict = v;
        else if (ARG("--child"))
            o->child = v;
        else if (ARG("--runs"))
            o->runs = atoi(v);
        else if (ARG("--passes"))
            o->passes = atoi(v);
        else if (ARG("--store"))
            o->store = v;
        else if (strcmp(a, "--rebuild") == 0)
            o->rebuild = 1;
        else if (strcmp(a, "--paired") == 0)
            o->paired = 1;
        else if (strcmp(a, "--ingest-only") == 0)
            o->ingest_only = 1;
        else if (strcmp(a, "--reindex") == 0)
            o->reindex = 1;
        else if (ARG("--rss-log"))
            o->rss_log = v;
        else if (ARG("--build-budget-mb"))
            ae_table_set_index_build_budget((size_t)strtoull(v, NULL, 10) << 20);
        else if (strcmp(a, "--cmd") == 0 && i + 1 < argc) {
            o->cmd = argv + i + 1;
            break;
        } else {
            fprintf(stderr, "aether-bench: unknown or incomplete option %s\n", a);
            return -1;
        }
#undef ARG
    }
    if (!o->n_nprobe) o->nprobe[o->n_nprobe++] = AE_IVFPQ_DEFAULT_NPROBE;
    if (!o->n_refine) o->refine[o->n_refine++] = AE_IVFPQ_DEFAULT_REFINE;
    if (o->cold_index) return o->query && o->dir ? 0 : -1;
    if (o->cold_bench) return o->query || o->cmd ? 0 : -1;
    if (o->cold_store) return o->query ? 0 : -1;
    if (strcmp(o->store, "matrix") != 0 && strcmp(o->store, "table") != 0 &&
        strcmp(o->store, "sqlite") != 0)
        return -1;
    if (!o->base || !o->query || !o->gt || !o->k) return -1;
    if (strcmp(o->index, "flat") != 0 && strcmp(o->index, "ivfpq") != 0) return -1;
    return 0;
}

/* Child of the cold-start measurement: open, one query, print the time. */
static int cold_child(const opts *o)
{
    double t0 = bench_now_ms();
    ae_error err = {0};
    ae_ivfpq *ix = NULL;
    bench_matrix mat;
    if (ae_ivfpq_open(o->cold_index, &ix, &err) < 0) goto fail;
    uint32_t dim = ae_ivfpq_dim(ix);
    if (bench_matrix_open(o->dir, dim, false, &mat, &err) < 0) goto fail;
    float *q = malloc(4 * ((size_t)dim + 1));
    FILE *f = fopen(o->query, "rb");
    if (!q || !f || fread(q, 4, dim + 1, f) != dim + 1) {
        fprintf(stderr, "cold child: cannot read %s\n", o->query);
        return 1;
    }
    fclose(f);
    ae_vec_source src = bench_matrix_source(&mat);
    ae_ivfpq_hit hits[1024];
    size_t nh;
    size_t k = o->k < 1024 ? o->k : 1024;
    if (ae_ivfpq_search(ix, &src, q + 1, k, o->nprobe[0], o->refine[0], NULL, NULL, hits, &nh,
                        &err) < 0)
        goto fail;
    double t1 = bench_now_ms();
    printf("%.3f %llu\n", t1 - t0, nh ? (unsigned long long)hits[0].row : 0ull);
    return 0;
fail:
    fprintf(stderr, "cold child: %s\n", err.message);
    return 1;
}

static double recall_at(const ae_ivfpq_hit *hits, size_t nh, const int32_t *gt, size_t r)
{
    size_t hit = 0;
    for (size_t i = 0; i < nh && i < r; i++)
        for (size_t j = 0; j < r; j++)
            if ((int64_t)hits[i].row == gt[j]) {
                hit++;
                break;
            }
    return (double)hit / (double)r;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) < 0) {
        usage();
        return 2;
    }
    if (o.cold_index) return cold_child(&o);
    if (o.cold_bench)
        return bench_cold_run(o.cold_bench, o.query, o.evict ? o.evict : "fadvise",
                              o.runs ? o.runs : 5, o.k, o.nprobe[0], o.refine[0], o.child, o.cmd);
    if (o.cold_store) {
        float *q1 = NULL;
        uint32_t d1;
        ae_error e1;
        if (bench_read_first_vec(o.query, &q1, &d1, &e1) < 0) {
            fprintf(stderr, "cold child: %s\n", e1.message);
            return 1;
        }
        int r1 = bench_store_cold_child(o.cold_store, q1, d1, o.k, o.nprobe[0], o.refine[0]);
        free(q1);
        return r1;
    }

    ae_error err = {0};
    int rc = 1;
    float *queries = NULL;
    int32_t *gt = NULL;
    ae_ivfpq *ix = NULL;
    ae_ivfpq_hit *hits = NULL;
    double *lat = NULL, *cpu = NULL;
    char *index_path = NULL;
    bench_matrix mat = {0};
    size_t nq, ngt;
    uint32_t dim, qdim, gk;
    if (bench_prepare_base(o.base, o.dir, &err) < 0 || bench_fvecs_dim(o.base, &dim, &err) < 0 ||
        bench_matrix_open(o.dir, dim, true, &mat, &err) < 0 ||
        bench_read_vecs(o.query, o.nq, (void **)&queries, &nq, &qdim, &err) < 0 ||
        bench_read_vecs(o.gt, o.nq, (void **)&gt, &ngt, &gk, &err) < 0)
        goto fail;
    if (qdim != dim || ngt < nq || gk < (o.k < 100 ? 10 : 100)) {
        fprintf(stderr, "aether-bench: queries (%u) / ground truth (%zu x %u) do not match\n", qdim,
                ngt, gk);
        goto done;
    }
    if (o.query_threads > 0) {
        /* the table a --store table run left in --dir (store_bench.c's path) */
        char *vdir = ae_asprintf("%s/table-vectors", o.dir);
        bool shared = !o.handles || strcmp(o.handles, "own") != 0;
        rc = !vdir || strcmp(o.store, "table") != 0 || !ae_path_exists(vdir)
                 ? (fprintf(stderr, "aether-bench: --query-threads needs --store table and a "
                                    "table in --dir (run once without it)\n"),
                    2)
                 : bench_store_throughput(vdir, queries, nq, dim, o.k, o.nprobe[0], o.refine[0],
                                          o.query_threads, shared, o.seconds);
        free(vdir);
        goto done;
    }
    if (o.ingest_only && strcmp(o.store, "matrix") != 0) {
        rc = bench_store_ingest(&mat, o.dir, o.store);
        goto done;
    }
    if (strcmp(o.store, "matrix") != 0) {
        bench_store_set_options(o.reindex && !o.rebuild, o.rss_log);
        rc = bench_store_run(&mat, o.dir, o.store, o.rebuild, queries, nq, gt, gk, o.k, o.nprobe,
                             o.n_nprobe, o.refine, o.n_refine, o.query, !strcmp(o.index, "flat"),
                             o.passes > 0 ? o.passes : 1, o.paired);
        goto done;
    }
    ae_vec_source src = bench_matrix_source(&mat);
    double build_s = 0;
    bool flat = strcmp(o.index, "flat") == 0;
    if (!flat) {
        index_path = ae_asprintf("%s/ivfpq-nlist%u-m%u.idx", o.dir, o.nlist, o.m);
        if (!index_path) goto done;
        if (o.rebuild || !ae_path_exists(index_path)) {
            ae_ivfpq_build_stats st;
            ae_ivfpq_params p = {
                .nlist = o.nlist, .m = o.m, .iters = o.iters, .threads = o.threads, .stats = &st};
            double t0 = bench_now_ms();
            if (ae_ivfpq_build(&src, &p, index_path, &err) < 0) goto fail;
            build_s = (bench_now_ms() - t0) / 1e3;
            fprintf(stderr,
                    "aether-bench: built %s in %.1f s (%.1f s CPU); phases wall/CPU s:", index_path,
                    build_s, st.total_cpu_s);
            for (int ph = 0; ph < AE_IVFPQ_NPHASES; ph++)
                fprintf(stderr, " %s %.2f/%.2f", ae_ivfpq_phase_name(ph), st.wall_s[ph],
                        st.cpu_s[ph]);
            fprintf(stderr, "\n");
        }
        if (ae_ivfpq_open(index_path, &ix, &err) < 0) goto fail;
    }
    hits = ae_calloc_array(o.k, sizeof *hits);
    lat = ae_calloc_array(nq, sizeof *lat);
    cpu = ae_calloc_array(nq, sizeof *cpu);
    if (!hits || !lat || !cpu) goto done;
    size_t warm = nq < 50 ? nq : 50;
    int passes = o.passes > 0 ? o.passes : 1;
    for (int a = 0; a < (flat ? 1 : o.n_nprobe); a++) {
        for (int b = 0; b < (flat ? 1 : o.n_refine); b++) {
            uint32_t np = o.nprobe[a], rf = o.refine[b];
            double r10 = 0, r100 = 0;
            for (int pass = 0; pass <= passes; pass++) {
                size_t end = pass == 0 ? warm : nq;
                for (size_t q = 0; q < end; q++) {
                    const float *qv = queries + q * dim;
                    size_t nh;
                    double c0 = bench_cpu_ms(), t0 = bench_now_ms();
                    int r = flat ? ae_ivfpq_search_exact(&src, qv, o.k, 0, src.n, NULL, NULL, hits,
                                                         &nh, &err)
                                 : ae_ivfpq_search(ix, &src, qv, o.k, np, rf, NULL, NULL, hits, &nh,
                                                   &err);
                    double t1 = bench_now_ms(), c1 = bench_cpu_ms();
                    if (r < 0) goto fail;
                    if (pass == passes) {
                        lat[q] = t1 - t0;
                        cpu[q] = c1 - c0;
                        r10 += recall_at(hits, nh, gt + q * gk, 10);
                        if (o.k >= 100) r100 += recall_at(hits, nh, gt + q * gk, 100);
                    }
                }
            }
            bench_sort(lat, nq);
            bench_sort(cpu, nq);
            double cold = -1, cold_exec = -1;
            if (!flat && bench_run_cold("--cold-child", index_path, o.query, o.k, np, rf, o.dir,
                                        &cold, &cold_exec) < 0)
                fprintf(stderr, "aether-bench: cold-start child failed\n");
            printf("{\"index\":\"%s\",\"n\":%zu,\"dim\":%u,", o.index, src.n, dim);
            if (!flat)
                printf("\"nlist\":%u,\"m\":%u,\"nprobe\":%u,\"refine\":%u,", ae_ivfpq_nlist(ix),
                       ae_ivfpq_m(ix), np, rf);
            else
                printf("\"nprobe\":null,\"refine\":null,");
            printf("\"k\":%zu,\"nq\":%zu,\"passes\":%d,\"build_s\":%.2f,\"recall10\":%.4f,", o.k,
                   nq, passes, build_s, r10 / nq);
            if (o.k >= 100) printf("\"recall100\":%.4f,", r100 / nq);
            printf("\"p50_ms\":%.4f,\"p95_ms\":%.4f,\"p99_ms\":%.4f,\"cpu_p50_ms\":%.4f,",
                   bench_pct(lat, nq, 0.5), bench_pct(lat, nq, 0.95), bench_pct(lat, nq, 0.99),
                   bench_pct(cpu, nq, 0.5));
            if (!flat)
                printf("\"cold_first_query_ms\":%.2f,\"cold_exec_ms\":%.2f,\"index_bytes\":%zu,",
                       cold, cold_exec, ae_ivfpq_file_bytes(ix));
            printf("\"blas_core\":\"%s\",\"peak_rss_mb\":%.1f}\n", ae_blas_core(), peak_rss_mb());
            fflush(stdout);
            build_s = 0;
        }
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "aether-bench: %s\n", err.message);
done:
    ae_ivfpq_close(ix);
    bench_matrix_close(&mat);
    free(queries);
    free(gt);
    free(hits);
    free(lat);
    free(cpu);
    free(index_path);
    return rc;
}
