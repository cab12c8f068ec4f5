/* In-process search latency: opens a workspace read-only once (as aetherd
 * --search does) and times ae_search() for every query in every mode.
 *
 *   build/bench_search --workspace DIR [--runs N] [--limit K] [--modes m1,m2] Q1 Q2 ...
 *
 * Prints one row per (mode, query) -- the median and the max wall time of N
 * runs after one warm-up, the median CPU time, in ms, and the result count --
 * then one row per mode over all queries (median of the per-query medians).  Only the public API is
 * used, so the same file builds against an older tree to measure a baseline. */
#include <aether/aether.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of this process: on a shared, loaded machine the wall clock also
 * counts time spent waiting for a core. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *modes = "lexical,semantic,hybrid";
    int runs = 5, limit = 20, first_q = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--workspace") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc)
            modes = argv[++i];
        else {
            first_q = i;
            break;
        }
    }
    if (!dir || first_q >= argc || runs < 1 || runs > 1000) {
        fprintf(stderr, "usage: bench_search --workspace DIR [--runs N] [--limit K] "
                        "[--modes lexical,semantic,hybrid] QUERY...\n");
        return 2;
    }
    ae_open_options oo = {.readonly = true};
    ae_workspace *ws;
    ae_error err;
    double t0 = now_ms();
    if (ae_workspace_open(dir, &oo, &ws, &err) < 0) {
        fprintf(stderr, "bench_search: %s\n", err.message);
        return 1;
    }
    printf("open %.2f ms\n", now_ms() - t0);
    printf("%-8s %9s %9s %9s %6s  %s\n", "mode", "p50_ms", "max_ms", "cpu_ms", "n", "query");
    int nq = argc - first_q;
    double *t = calloc((size_t)runs, sizeof *t), *per_q = calloc((size_t)nq, sizeof *per_q);
    double *c = calloc((size_t)runs, sizeof *c), *per_qc = calloc((size_t)nq, sizeof *per_qc);
    char *mcopy = strdup(modes);
    int rc = 0;
    for (char *save = NULL, *m = strtok_r(mcopy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        ae_search_mode mode;
        if (ae_search_mode_parse(m, &mode) < 0) {
            fprintf(stderr, "bench_search: unknown mode %s\n", m);
            rc = 2;
            break;
        }
        for (int q = 0; q < nq; q++) {
            size_t n = 0;
            bool fell_back = false;
            for (int r = -1; r < runs; r++) {
                ae_search_results *res;
                double a = now_ms(), ca = cpu_ms();
                if (ae_search(ws, argv[first_q + q], mode, (size_t)limit, NULL, &res, &err) < 0) {
                    fprintf(stderr, "bench_search: %s: %s\n", argv[first_q + q], err.message);
                    rc = 1;
                    goto done;
                }
                double b = now_ms(), cb = cpu_ms();
                if (r >= 0) {
                    t[r] = b - a;
                    c[r] = cb - ca;
                }
                n = res->n;
                fell_back = res->mode_used != mode;
                ae_search_results_free(res);
            }
            double max = 0;
            for (int r = 0; r < runs; r++)
                if (t[r] > max) max = t[r];
            per_q[q] = median(t, (size_t)runs);
            per_qc[q] = median(c, (size_t)runs);
            printf("%-8s %9.2f %9.2f %9.2f %6zu  %s%s\n", m, per_q[q], max, per_qc[q], n,
                   argv[first_q + q], fell_back ? " (fell back to lexical)" : "");
        }
        printf("%-8s %9.2f %9s %9.2f %6s  (median over %d queries)\n", m, median(per_q, (size_t)nq),
               "", median(per_qc, (size_t)nq), "", nq);
    }
done:
    free(mcopy);
    free(t);
    free(per_q);
    free(c);
    free(per_qc);
    ae_workspace_close(ws);
    return rc;
}
