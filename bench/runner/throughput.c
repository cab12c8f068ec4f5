/* aether-bench --store table --query-threads T [--handles shared|own]
 * [--seconds S]: queries per second from T threads on one table, through
 * ae_vs_search as the CLI calls it.
 *
 * 1. The table is the one a previous --store table run left in --dir (this
 *    mode builds nothing).  Each thread answers the query file round-robin,
 *    starting at a different offset, for S seconds (default 10) after 50
 *    warm-up queries; `shared`: every thread searches one ae_vector_store
 *    handle (the default), `own`: each opens its own handle on the same
 *    directory (what two processes do, minus the process).
 * 2. Figures: queries answered, wall seconds, queries/s, and CPU time --
 *    CLOCK_THREAD_CPUTIME_ID per thread and the process's user + sys from
 *    getrusage -- so that qps per CPU-second can be compared on a machine
 *    others load: at 2 threads on 2 idle cores qps doubles and qps per
 *    CPU-second stays; on a loaded machine wall qps cannot double, but qps
 *    per CPU-second still shows whether the threads slow each other down.
 * 3. Every thread checks its first pass over the queries against the answers
 *    of a serial pass made before the threads start (same ids in the same
 *    order): a concurrent search must not return anything else. */
#include "bench.h"

#include <aether/vector_store.h>

#include "util/err.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct worker {
    ae_vector_store *vs; /* shared or own */
    const char *vdir, *model;
    const float *queries;
    size_t nq, k, offset;
    uint32_t dim;
    ae_vs_search_opts so;
    const char (*serial)[AE_SYMBOL_ID_MAX + 1]; /* nq x k ids of the serial pass */
    double seconds;
    pthread_barrier_t *go; /* all threads warm: start the clock */
    /* results */
    size_t done, mismatches;
    double cpu_s;
    int rc;
    char msg[AE_ERROR_MESSAGE_MAX];
} worker;

static double cpu_thread_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_process_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* One query; ids (k slots of 32) filled when not NULL. */
static int one(ae_vector_store *vs, const worker *w, size_t q, char (*ids)[AE_SYMBOL_ID_MAX + 1],
               size_t *nh_out, ae_error *err)
{
    ae_vs_hit *hits = NULL;
    size_t nh = 0;
    AE_TRY(ae_vs_search(vs, w->queries + q * w->dim, w->dim, "bench", w->model, w->k, &w->so, &hits,
                        &nh, err));
    for (size_t i = 0; ids && i < w->k; i++)
        snprintf(ids[i], sizeof ids[i], "%s", i < nh ? hits[i].symbol_id : "");
    free(hits);
    if (nh_out) *nh_out = nh;
    return 0;
}

static void *run(void *arg)
{
    worker *w = arg;
    ae_error err = {0};
    ae_vector_store *own = NULL;
    ae_vector_store *vs = w->vs;
    char(*ids)[AE_SYMBOL_ID_MAX + 1] = ae_calloc_array(w->k, sizeof *ids);
    if (!ids) {
        w->rc = AE_ENOMEM;
        return NULL;
    }
    if (!vs && (w->rc = ae_vs_open_table(w->vdir, &own, &err)) == 0) vs = own;
    for (size_t i = 0; w->rc == 0 && i < 50 && i < w->nq; i++)
        w->rc = one(vs, w, (w->offset + i) % w->nq, NULL, NULL, &err);
    pthread_barrier_wait(w->go); /* reached even after a failure, so nobody waits forever */
    if (w->rc < 0) goto out;
    double c0 = cpu_thread_s(), t0 = bench_now_ms();
    for (size_t i = 0;; i++) {
        size_t q = (w->offset + i) % w->nq;
        bool check = i < w->nq;
        if ((w->rc = one(vs, w, q, check ? ids : NULL, NULL, &err)) < 0) goto out;
        if (check && memcmp(ids, w->serial[q * w->k], w->k * sizeof *ids) != 0) w->mismatches++;
        w->done++;
        if ((i & 15) == 15 && bench_now_ms() - t0 >= w->seconds * 1e3) break;
    }
    w->cpu_s = cpu_thread_s() - c0;
out:
    if (w->rc < 0) snprintf(w->msg, sizeof w->msg, "%s", err.message);
    free(ids);
    ae_vs_close(own);
    return NULL;
}

static void loadavg(char out[64])
{
    FILE *f = fopen("/proc/loadavg", "r");
    out[0] = '\0';
    if (f) {
        if (!fgets(out, 64, f)) out[0] = '\0';
        fclose(f);
    }
    char *nl = strchr(out, '\n');
    if (nl) *nl = '\0';
}

int bench_store_throughput(const char *vdir, const float *queries, size_t nq, uint32_t dim,
                           size_t k, uint32_t nprobe, uint32_t refine, int threads,
                           bool shared_handle, double seconds)
{
    ae_error err = {0};
    char model[32];
    snprintf(model, sizeof model, "bench-%u", dim); /* store_bench.c's name */
    ae_vector_store *vs = NULL;
    worker *ws = ae_calloc_array((size_t)threads, sizeof *ws);
    pthread_t *tid = ae_calloc_array((size_t)threads, sizeof *tid);
    char(*serial)[AE_SYMBOL_ID_MAX + 1] = ae_calloc_array(nq * k, sizeof *serial);
    int rc = 1;
    pthread_barrier_t go;
    bool barrier = false;
    if (!ws || !tid || !serial) goto done;
    if (ae_vs_open_table(vdir, &vs, &err) < 0) goto fail;
    worker proto = {.vdir = vdir,
                    .model = model,
                    .queries = queries,
                    .nq = nq,
                    .k = k,
                    .dim = dim,
                    .so = {.nprobe = (int)nprobe, .refine_factor = (int)refine},
                    .serial = (const char(*)[AE_SYMBOL_ID_MAX + 1]) serial,
                    .seconds = seconds > 0 ? seconds : 10,
                    .go = &go};
    for (size_t q = 0; q < nq; q++)
        if (one(vs, &proto, q, serial + q * k, NULL, &err) < 0) goto fail;
    if (pthread_barrier_init(&go, NULL, (unsigned)threads + 1) != 0) goto done;
    barrier = true;
    for (int i = 0; i < threads; i++) {
        ws[i] = proto;
        ws[i].vs = shared_handle ? vs : NULL;
        ws[i].offset = (size_t)i * nq / (size_t)threads;
        if (pthread_create(&tid[i], NULL, run, &ws[i]) != 0) {
            fprintf(stderr, "aether-bench: cannot start thread %d\n", i);
            exit(1); /* the started ones wait at the barrier */
        }
    }
    char la0[64], la1[64];
    loadavg(la0);
    pthread_barrier_wait(&go);
    double c0 = cpu_process_s(), t0 = bench_now_ms();
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    double wall = (bench_now_ms() - t0) / 1e3, cpu = cpu_process_s() - c0;
    loadavg(la1);
    size_t total = 0, bad = 0;
    double tcpu = 0;
    for (int i = 0; i < threads; i++) {
        if (ws[i].rc < 0) {
            fprintf(stderr, "aether-bench: thread %d: %s\n", i, ws[i].msg);
            goto done;
        }
        total += ws[i].done;
        bad += ws[i].mismatches;
        tcpu += ws[i].cpu_s;
    }
    printf("{\"store\":\"table\",\"mode\":\"throughput\",\"threads\":%d,\"handles\":\"%s\","
           "\"nprobe\":%u,\"refine\":%u,\"k\":%zu,\"queries\":%zu,\"wall_s\":%.3f,\"qps\":%.1f,"
           "\"process_cpu_s\":%.3f,\"threads_cpu_s\":%.3f,\"qps_per_cpu_s\":%.1f,"
           "\"cpu_ms_per_query\":%.4f,\"thread_cpu_s\":[",
           threads, shared_handle ? "shared" : "own", nprobe, refine, k, total, wall,
           (double)total / wall, cpu, tcpu, (double)total / cpu, tcpu * 1e3 / (double)total);
    for (int i = 0; i < threads; i++)
        printf("%s%.3f", i ? "," : "", ws[i].cpu_s);
    printf("],\"thread_queries\":[");
    for (int i = 0; i < threads; i++)
        printf("%s%zu", i ? "," : "", ws[i].done);
    printf("],\"mismatches\":%zu,\"loadavg_before\":\"%s\",\"loadavg_after\":\"%s\"}\n", bad, la0,
           la1);
    fflush(stdout);
    rc = bad ? 1 : 0;
    goto done;
fail:
    fprintf(stderr, "aether-bench: %s\n", err.message);
done:
    if (barrier) pthread_barrier_destroy(&go);
    ae_vs_close(vs);
    free(ws);
    free(tid);
    free(serial);
    return rc;
}
