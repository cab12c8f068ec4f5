/* aether-bench --store table|sqlite: the same measurement through the
 * product's own path -- the base vectors are upserted through the VectorStore
 * into a native "lancedb" vector table (Arrow fragments, manifests; the
 * IVF-PQ index built by the backend's rebuild) or into the legacy SQLite
 * backend (JSON rows, brute force), and every query goes through
 * ae_vs_search, exactly as `aetherd --search-vector` does.  Row i is stored
 * as symbol_id "%09zu" so results map back to ground-truth rows. */
#include "bench.h"

#include "store/table_index_policy.h"
#include "vectors/table.h"
#include "util/blas.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define INGEST_BATCH 10000

static void model_name(uint32_t dim, char out[32])
{
    snprintf(out, 32, "bench-%u", dim);
}

/* The store under path: a vectors directory, or a .sqlite file (legacy). */
static bool is_sqlite(const char *path)
{
    size_t n = strlen(path);
    return n > 7 && !strcmp(path + n - 7, ".sqlite");
}

static int open_store(const char *path, ae_vector_store **vs, ae_error *err)
{
    return is_sqlite(path) ? ae_vs_open_sqlite(path, vs, err) : ae_vs_open_table(path, vs, err);
}

/* CPU time (user + sys) of this process, every thread, in seconds. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU time (user + system) of this process so far, in seconds. */
static void cpu_now(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds (user, system) the last ingest() took, for --ingest-only. */
static double ingest_user_s, ingest_sys_s;
/* Peak resident set (VmHWM, MiB) of the last ingest and of the index build
 * that followed it: the peak is reset before each (/proc/self/clear_refs 5). */
static double ingest_hwm_mb = -1, build_hwm_mb = -1;

static void hwm_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static double hwm_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) v = strtod(line + 6, NULL) / 1024.0;
    if (f) fclose(f);
    return v;
}

/* --reindex and --rss-log (bench_store_set_options). */
static bool opt_reindex;
static const char *opt_rss_log;

void bench_store_set_options(bool reindex, const char *rss_log)
{
    opt_reindex = reindex;
    opt_rss_log = rss_log;
}

/* Resident MiB of this process's mappings of files under vdir: the index
 * files (".../index/...") and the rest (the table's fragments), from
 * /proc/self/smaps. */
static void mapped_rss(const char *vdir, double *index_mb, double *table_mb)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[4096];
    int which = -1; /* 0 index, 1 table, -1 another mapping */
    size_t vl = strlen(vdir);
    *index_mb = *table_mb = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *path = strchr(line, '/');
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ')) {
            which = -1;
            if (path && !strncmp(path, vdir, vl)) which = strstr(path, "/index/") ? 0 : 1;
        } else if (which >= 0 && !strncmp(line, "Rss:", 4)) {
            double mb = strtod(line + 4, NULL) / 1024.0;
            if (which == 0)
                *index_mb += mb;
            else
                *table_mb += mb;
        }
    }
    if (f) fclose(f);
}

/* The resident set by kind (/proc/self/status, MiB): RssAnon is the heap and
 * other private memory, RssFile the mapped file pages (the table's fragments,
 * the index). */
static void rss_now(double *anon, double *file)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    *anon = *file = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "RssAnon:", 8)) *anon = strtod(line + 8, NULL) / 1024.0;
        if (!strncmp(line, "RssFile:", 8)) *file = strtod(line + 8, NULL) / 1024.0;
    }
    if (f) fclose(f);
}

/* Samples rss_now every 50 ms on its own thread while a build runs: the peak
 * of each kind and of their sum (VmHWM is the sum's peak, with no split);
 * with --rss-log one sample a second is also written there with the index's
 * and the table's mapped MiB (bench.h).  Its CPU is in the build's CPU
 * figure (RUSAGE_SELF): ~20 us a sample, and the smaps reads of --rss-log. */
typedef struct rss_sampler {
    pthread_t tid;
    pthread_mutex_t mu;
    bool stop, started;
    double t0, anon, file, sum;
    FILE *log;
    const char *vdir;
    unsigned n; /* samples taken */
} rss_sampler;

static void rss_sample(rss_sampler *s)
{
    double a, f;
    rss_now(&a, &f);
    if (a > s->anon) s->anon = a;
    if (f > s->file) s->file = f;
    if (a + f > s->sum) s->sum = a + f;
    /* smaps (every mapping: a thousand fragments at 10M rows) once a second */
    if (s->log && s->n++ % 20 == 0) {
        double ix, tab;
        mapped_rss(s->vdir, &ix, &tab);
        fprintf(s->log, "%.2f %.0f %.0f %.0f %.0f\n", (bench_now_ms() - s->t0) / 1e3, a, f, ix,
                tab);
    }
}

static void *rss_thread(void *arg)
{
    rss_sampler *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
        rss_sample(s);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void rss_start(rss_sampler *s, const char *vdir)
{
    memset(s, 0, sizeof *s);
    s->vdir = vdir;
    pthread_mutex_init(&s->mu, NULL);
    s->t0 = bench_now_ms();
    s->anon = s->file = s->sum = -1;
    if (opt_rss_log) s->log = fopen(opt_rss_log, "a");
    rss_sample(s);
    s->started = pthread_create(&s->tid, NULL, rss_thread, s) == 0;
}

static void rss_stop(rss_sampler *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    if (s->started) pthread_join(s->tid, NULL);
    rss_sample(s);
    if (s->log) fclose(s->log);
    pthread_mutex_destroy(&s->mu);
}

/* Peaks of the last build (MiB; -1: not measured). */
static double build_anon_mb = -1, build_file_mb = -1, build_sum_mb = -1;

/* Minor and major page faults of this process so far. */
static void faults_now(long *minflt, long *majflt)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *minflt = ru.ru_minflt;
    *majflt = ru.ru_majflt;
}

/* Bytes of the index files under the tables of vdir (after a fresh build:
 * the one index). */
static uint64_t index_bytes(const char *vdir)
{
    uint64_t total = 0;
    DIR *d = opendir(vdir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char *ix = ae_asprintf("%s/%s/index", vdir, de->d_name);
        DIR *e = ix ? opendir(ix) : NULL;
        struct dirent *fe;
        while (e && (fe = readdir(e))) {
            struct stat st;
            char *p = fe->d_name[0] == '.' ? NULL : ae_asprintf("%s/%s", ix, fe->d_name);
            if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode)) total += (uint64_t)st.st_size;
            free(p);
        }
        if (e) closedir(e);
        free(ix);
    }
    if (d) closedir(d);
    return total;
}

/* The bench's own copy of the rows (the mmapped base matrix, populated up
 * front) leaves the resident set once upserted, so the build's peak is the
 * store's.  The ingest's peak includes that copy. */
static void drop_source(const bench_matrix *mat, size_t lo, size_t hi)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)(mat->x + lo * mat->dim) + pg - 1) & ~(pg - 1);
    uintptr_t e = (uintptr_t)(mat->x + hi * mat->dim) & ~(pg - 1);
    if (a < e) madvise((void *)a, e - a, MADV_DONTNEED);
}

/* Builds the index of the store vs (under vdir) whatever its state, timed
 * (wall, CPU), with the peak resident set of the build by kind. */
static int build_index(ae_vector_store *vs, const char *vdir, double *build_s, double *cpu,
                       ae_error *err)
{
    rss_sampler rs;
    hwm_reset();
    rss_start(&rs, vdir);
    double t1 = bench_now_ms(), c1 = cpu_s();
    int rc = is_sqlite(vdir) ? 0 : ae_tables_build_indexes(vs, true, err);
    *build_s = (bench_now_ms() - t1) / 1e3;
    *cpu = cpu_s() - c1;
    rss_stop(&rs);
    build_hwm_mb = hwm_mb();
    build_anon_mb = rs.anon;
    build_file_mb = rs.file;
    build_sum_mb = rs.sum;
    return rc;
}

/* Upserts every row of mat into a fresh table under vdir, then builds the
 * index (unless build_s is NULL); the CPU seconds of each phase in cpu[0]
 * (ingest) and cpu[1] (build): on a shared machine they are the figures that
 * do not depend on the load. */
static int ingest(const bench_matrix *mat, const char *vdir, double *ingest_s, double *build_s,
                  double cpu[2], ae_error *err)
{
    ae_vector_store *vs = NULL;
    ae_vs_record *recs = ae_calloc_array(INGEST_BATCH, sizeof *recs);
    char(*ids)[16] = ae_calloc_array(INGEST_BATCH, sizeof *ids);
    char model[32];
    model_name(mat->dim, model);
    int rc = 0;
    if (!recs || !ids) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(open_store(vdir, &vs, err));
    double u0, s0, u1, s1;
    hwm_reset();
    cpu_now(&u0, &s0);
    double t0 = bench_now_ms(), c0 = cpu_s();
    for (size_t i = 0; i < mat->n; i += INGEST_BATCH) {
        size_t m = mat->n - i < INGEST_BATCH ? mat->n - i : INGEST_BATCH;
        for (size_t j = 0; j < m; j++) {
            snprintf(ids[j], sizeof ids[j], "%09zu", i + j);
            recs[j] = (ae_vs_record){.symbol_id = ids[j],
                                     .sir_hash = "bench",
                                     .provider = "bench",
                                     .model = model,
                                     .embedding = mat->x + (i + j) * mat->dim,
                                     .dim = mat->dim,
                                     .updated_at = 1};
        }
        AE_CHECK(ae_vs_upsert(vs, recs, m, err));
        if (build_s) drop_source(mat, i, i + m); /* not in --ingest-only: same work as before */
    }
    double t1 = bench_now_ms(), c1 = cpu_s();
    cpu_now(&u1, &s1);
    ingest_user_s = u1 - u0;
    ingest_sys_s = s1 - s0;
    ingest_hwm_mb = hwm_mb();
    cpu[0] = c1 - c0;
    *ingest_s = (t1 - t0) / 1e3;
    if (!build_s) goto cleanup;
    AE_CHECK(build_index(vs, vdir, build_s, &cpu[1], err));
cleanup:
    ae_vs_close(vs);
    free(recs);
    free(ids);
    return rc;
}

static size_t row_of(const ae_vs_hit *h)
{
    return (size_t)strtoull(h->symbol_id, NULL, 10);
}

static double recall_at(const ae_vs_hit *hits, size_t nh, const int32_t *gt, size_t r)
{
    size_t hit = 0;
    for (size_t i = 0; i < nh && i < r; i++)
        for (size_t j = 0; j < r; j++)
            if ((int64_t)row_of(&hits[i]) == gt[j]) {
                hit++;
                break;
            }
    return (double)hit / (double)r;
}

int bench_store_cold_child(const char *vdir, const float *q, uint32_t dim, size_t k,
                           uint32_t nprobe, uint32_t refine)
{
    double t0 = bench_now_ms();
    ae_error err;
    ae_vector_store *vs;
    char model[32];
    model_name(dim, model);
    ae_vs_hit *hits = NULL;
    size_t nh = 0;
    /* nprobe = refine = 0 asks for the exact scan (the parent's flat runs). */
    ae_vs_search_opts so = {
        .nprobe = (int)nprobe, .refine_factor = (int)refine, .exact = nprobe == 0 && refine == 0};
    double t1 = 0;
    if (open_store(vdir, &vs, &err) < 0 || (t1 = bench_now_ms()) < 0 ||
        ae_vs_search(vs, q, dim, "bench", model, k, &so, &hits, &nh, &err) < 0) {
        fprintf(stderr, "cold child: %s\n", err.message);
        return 1;
    }
    double t2 = bench_now_ms();
    /* open to answer, the id found, then the open alone */
    printf("%.3f %s open %.3f\n", t2 - t0, nh ? hits[0].symbol_id : "-", t1 - t0);
    free(hits);
    ae_vs_close(vs);
    return 0;
}

int bench_store_ingest(const bench_matrix *mat, const char *dir, const char *store)
{
    ae_error err = {0};
    char *vdir = !strcmp(store, "sqlite") ? ae_asprintf("%s/bench.sqlite", dir)
                                          : ae_asprintf("%s/table-vectors", dir);
    char *cmd = vdir ? ae_asprintf("rm -rf '%s' '%s-wal' '%s-shm'", vdir, vdir, vdir) : NULL;
    double ingest_s = 0;
    int rc = 1;
    if (!cmd || system(cmd) != 0) goto done;
    double cpu[2] = {0, 0};
    if (ingest(mat, vdir, &ingest_s, NULL, cpu, &err) < 0) {
        fprintf(stderr, "aether-bench: %s\n", err.message);
        goto done;
    }
    printf("{\"store\":\"%s\",\"n\":%zu,\"dim\":%u,\"batch\":%d,\"ingest_s\":%.3f,"
           "\"rows_per_s\":%.0f,\"user_s\":%.3f,\"sys_s\":%.3f,\"cpu_rows_per_s\":%.0f,"
           "\"ingest_hwm_mb\":%.0f}\n",
           store, mat->n, mat->dim, INGEST_BATCH, ingest_s, mat->n / ingest_s, ingest_user_s,
           ingest_sys_s, mat->n / (ingest_user_s + ingest_sys_s), ingest_hwm_mb);
    rc = 0;
done:
    free(cmd);
    free(vdir);
    return rc;
}

int bench_store_run(const bench_matrix *mat, const char *dir, const char *store, bool rebuild,
                    const float *queries, size_t nq, const int32_t *gt, uint32_t gk, size_t k,
                    const uint32_t *nprobe, int n_nprobe, const uint32_t *refine, int n_refine,
                    const char *query_path, bool exact, int passes, bool paired)
{
    ae_error err = {0};
    bool legacy = !strcmp(store, "sqlite");
    if (legacy) exact = true; /* the legacy backend has no index */
    char *vdir =
        legacy ? ae_asprintf("%s/bench.sqlite", dir) : ae_asprintf("%s/table-vectors", dir);
    double ingest_s = 0, build_s = 0, cpu[2] = {0, 0}, *lat = ae_calloc_array(nq, sizeof *lat);
    double *qcpu = ae_calloc_array(nq, sizeof *qcpu);
    /* --paired: the bare index on the same file, timed query by query beside the table path */
    double *blat = ae_calloc_array(nq, sizeof *blat), *bcpu = ae_calloc_array(nq, sizeof *bcpu);
    ae_ivfpq *bix = NULL;
    ae_ivfpq_hit bh[64];
    ae_vec_source bsrc = bench_matrix_source((bench_matrix *)mat);
    ae_vector_store *vs = NULL;
    int rc = 1;
    char model[32];
    model_name(mat->dim, model);
    if (!vdir || !lat || !qcpu || !blat || !bcpu) goto done;
    if (paired && (legacy || exact || k > 64)) {
        fprintf(stderr, "aether-bench: --paired needs --store table, the index and k <= 64\n");
        goto done;
    }
    if (rebuild || !ae_path_exists(vdir)) {
        if (ae_path_exists(vdir)) {
            char *cmd = ae_asprintf("rm -rf '%s' '%s-wal' '%s-shm'", vdir, vdir, vdir);
            if (!cmd || system(cmd) != 0) {
                free(cmd);
                goto done;
            }
            free(cmd);
        }
        if (ingest(mat, vdir, &ingest_s, &build_s, cpu, &err) < 0) goto fail;
        fprintf(stderr,
                "aether-bench: %s: %zu rows upserted in %.1f s (%.0f rows/s, %.1f s CPU), index "
                "in %.1f s (%.1f s CPU)\n",
                store, mat->n, ingest_s, mat->n / ingest_s, cpu[0], build_s, cpu[1]);
    }
    if (opt_reindex && !legacy && ingest_s == 0) {
        /* --reindex: the index of the table a run left in --dir, built again
         * (the bench's populated copy of the rows leaves the resident set
         * first, as the ingest's drop_source does batch by batch) */
        drop_source(mat, 0, mat->n);
        if (open_store(vdir, &vs, &err) < 0 || build_index(vs, vdir, &build_s, &cpu[1], &err) < 0)
            goto fail;
        ae_vs_close(vs);
        vs = NULL;
        ingest_s = -1; /* the build figures go out with the first line */
        fprintf(stderr, "aether-bench: %s: index rebuilt in %.1f s (%.1f s CPU)\n", store, build_s,
                cpu[1]);
    }
    if (open_store(vdir, &vs, &err) < 0) goto fail;
    char state[160] = "legacy JSON scan";
    if (!legacy && ae_table_index_state(vdir, "bench", model, state, sizeof state, &err) < 0)
        goto fail;
    if (paired) {
        ae_table *t = NULL;
        if (ae_table_open(vdir, "bench", model, mat->dim, 0, NULL, &t, &err) < 0) goto fail;
        char *ip = ae_table_index_path(t, NULL, NULL);
        ae_table_close(t);
        int orc = ip ? ae_ivfpq_open(ip, &bix, &err) : ae_fail(&err, AE_ENOTFOUND, "no index");
        free(ip);
        if (orc < 0) goto fail;
        if (ae_ivfpq_rows_covered(bix) != mat->n) {
            fprintf(stderr, "aether-bench: --paired: the index covers %zu rows, the base has %zu\n",
                    ae_ivfpq_rows_covered(bix), mat->n);
            goto done;
        }
    }
    size_t warm = nq < 50 ? nq : 50;
    for (int a = 0; a < (exact ? 1 : n_nprobe); a++) {
        for (int b = 0; b < (exact ? 1 : n_refine); b++) {
            ae_vs_search_opts so = {
                .nprobe = (int)nprobe[a], .refine_factor = (int)refine[b], .exact = exact};
            double r10 = 0, r10sq = 0, br10 = 0;
            size_t top1_same = 0;
            /* the timed pass's page faults and the mapped files' resident
             * MiB before the warm-up and after the timed pass (first-touch
             * faults: whose pages a pass maps for the first time) */
            long mf0 = 0, jf0 = 0, mf1 = 0, jf1 = 0;
            double ix_rss0, tab_rss0, ix_rss1, tab_rss1;
            mapped_rss(vdir, &ix_rss0, &tab_rss0);
            for (int pass = 0; pass <= passes; pass++) {
                size_t end = pass == 0 ? warm : nq;
                if (pass == passes) faults_now(&mf0, &jf0);
                for (size_t q = 0; q < end; q++) {
                    ae_vs_hit *hits = NULL;
                    size_t nh = 0, bnh = 0;
                    if (paired) { /* the same query through the index alone, just before */
                        double c0 = bench_cpu_ms(), t0 = bench_now_ms();
                        int r = ae_ivfpq_search(bix, &bsrc, queries + q * mat->dim, k, nprobe[a],
                                                refine[b], NULL, NULL, bh, &bnh, &err);
                        double t1 = bench_now_ms(), c1 = bench_cpu_ms();
                        if (r < 0) goto fail;
                        if (pass == passes) {
                            blat[q] = t1 - t0;
                            bcpu[q] = c1 - c0;
                            for (size_t i = 0; i < bnh && i < 10; i++)
                                for (size_t j = 0; j < 10; j++)
                                    if ((int64_t)bh[i].row == gt[q * gk + j]) {
                                        br10 += 0.1;
                                        break;
                                    }
                        }
                    }
                    double c0 = bench_cpu_ms(), t0 = bench_now_ms();
                    int r = ae_vs_search(vs, queries + q * mat->dim, mat->dim, "bench", model, k,
                                         &so, &hits, &nh, &err);
                    double t1 = bench_now_ms(), c1 = bench_cpu_ms();
                    if (r < 0) goto fail;
                    if (pass == passes) {
                        lat[q] = t1 - t0;
                        qcpu[q] = c1 - c0;
                        double rq = recall_at(hits, nh, gt + q * gk, 10);
                        r10 += rq;
                        r10sq += rq * rq;
                        if (paired && nh && bnh && row_of(&hits[0]) == bh[0].row) top1_same++;
                    }
                    free(hits);
                }
            }
            faults_now(&mf1, &jf1);
            mapped_rss(vdir, &ix_rss1, &tab_rss1);
            bench_sort(lat, nq);
            bench_sort(qcpu, nq);
            double cold = -1, cold_exec = -1;
            if (bench_run_cold("--cold-store", vdir, query_path, k, exact ? 0 : nprobe[a],
                               exact ? 0 : refine[b], dir, &cold, &cold_exec) < 0)
                fprintf(stderr, "aether-bench: cold-start child failed\n");
            printf("{\"store\":\"%s\",\"index\":\"%s\",\"n\":%zu,\"dim\":%u,", store,
                   exact ? "flat" : "ivfpq", mat->n, mat->dim);
            if (exact)
                printf("\"nprobe\":null,\"refine\":null,");
            else
                printf("\"nprobe\":%u,\"refine\":%u,", nprobe[a], refine[b]);
            printf("\"k\":%zu,\"nq\":%zu,\"passes\":%d,\"ingest_s\":%.2f,\"build_s\":%.2f,\"ingest_"
                   "cpu_s\":%.2f,"
                   "\"build_cpu_s\":%.2f,\"recall10\":%.4f,",
                   k, nq, passes, ingest_s, build_s, cpu[0], cpu[1], r10 / nq);
            printf("\"p50_ms\":%.4f,\"p95_ms\":%.4f,\"p99_ms\":%.4f,\"cpu_p50_ms\":%.4f,",
                   bench_pct(lat, nq, 0.5), bench_pct(lat, nq, 0.95), bench_pct(lat, nq, 0.99),
                   bench_pct(qcpu, nq, 0.5));
            if (paired) {
                bench_sort(blat, nq);
                bench_sort(bcpu, nq);
                printf("\"bare_recall10\":%.4f,\"bare_p50_ms\":%.4f,\"bare_cpu_p50_ms\":%.4f,"
                       "\"top1_same\":%zu,\"p50_ratio\":%.3f,\"cpu_p50_ratio\":%.3f,",
                       br10 / nq, bench_pct(blat, nq, 0.5), bench_pct(bcpu, nq, 0.5), top1_same,
                       bench_pct(lat, nq, 0.5) / bench_pct(blat, nq, 0.5),
                       bench_pct(qcpu, nq, 0.5) / bench_pct(bcpu, nq, 0.5));
            }
            printf("\"cold_first_query_ms\":%.2f,\"cold_exec_ms\":%.2f,", cold, cold_exec);
            /* the per-query recall's standard deviation: the tuner's margin
             * is two standard errors of its 128-query mean (table_tune.c) */
            double rm = r10 / nq, rv = r10sq / nq - rm * rm;
            printf("\"recall10_sd\":%.4f,", rv > 0 ? sqrt(rv) : 0.0);
            printf("\"minflt_per_q\":%.1f,\"majflt_per_q\":%.2f,\"index_rss_mb\":[%.1f,%.1f],"
                   "\"table_rss_mb\":[%.1f,%.1f],",
                   (double)(mf1 - mf0) / nq, (double)(jf1 - jf0) / nq, ix_rss0, ix_rss1, tab_rss0,
                   tab_rss1);
            if (ingest_s > 0) printf("\"ingest_hwm_mb\":%.0f,", ingest_hwm_mb);
            if (ingest_s != 0)
                printf("\"build_hwm_mb\":%.0f,\"build_peak_anon_mb\":%.0f,"
                       "\"build_peak_file_mb\":%.0f,\"build_peak_rss_mb\":%.0f,",
                       build_hwm_mb, build_anon_mb, build_file_mb, build_sum_mb);
            printf("\"index_bytes\":%llu,\"peak_rss_mb\":%.0f,",
                   (unsigned long long)index_bytes(vdir), hwm_mb());
            printf("\"blas_core\":\"%s\",\"index_state\":\"%s\"}\n", ae_blas_core(), state);
            fflush(stdout);
            ingest_s = build_s = cpu[0] = cpu[1] = 0;
        }
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "aether-bench: %s\n", err.message);
done:
    ae_vs_close(vs);
    free(vdir);
    free(lat);
    free(qcpu);
    free(blat);
    free(bcpu);
    ae_ivfpq_close(bix);
    return rc;
}
