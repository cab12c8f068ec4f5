/* aether-bench helpers shared by the index runner (main.c) and the store
 * runner (store_bench.c): clock, percentiles, and the fresh-process cold start. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double bench_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_sort(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
}

double bench_pct(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

int bench_run_cold(const char *mode_flag, const char *target, const char *query_path, size_t k,
                   uint32_t nprobe, uint32_t refine, const char *dir, double *child_ms,
                   double *exec_ms)
{
    char nps[16], rfs[16], ks[32];
    snprintf(nps, sizeof nps, "%u", nprobe);
    snprintf(rfs, sizeof rfs, "%u", refine);
    snprintf(ks, sizeof ks, "%zu", k);
    int pfd[2];
    if (pipe(pfd) < 0) return -1;
    double t0 = bench_now_ms();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execl("/proc/self/exe", "aether-bench", mode_flag, target, "--dir", dir, "--query",
              query_path, "--nprobe", nps, "--refine", rfs, "--k", ks, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char buf[128] = {0};
    ssize_t got = read(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    int st;
    waitpid(pid, &st, 0);
    *exec_ms = bench_now_ms() - t0;
    if (got <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    *child_ms = strtod(buf, NULL);
    return 0;
}
