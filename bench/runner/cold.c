/* aether-bench --cold-bench VDIR: the first query of a fresh process with the
 * store's files evicted from the page cache (docs/BENCHMARKS.md, "Cold first
 * query").
 *
 *   aether-bench --cold-bench VDIR --query Q.fvecs [--evict fadvise|drop|none]
 *                [--runs N] [--nprobe N] [--refine R] [--k K] [--child BIN]
 *                [--cmd PROG ARG...]
 *
 * Each run: sync, then evict -- fadvise: posix_fadvise(DONTNEED) of every file
 * under VDIR (the binary and libraries stay cached; the pages still resident
 * afterwards are counted with mincore and reported); drop: echo 3 >
 * /proc/sys/vm/drop_caches (root only; evicts the binary too); none: the warm
 * fresh process -- then a child (this program, --cold-store) opens VDIR and
 * answers query r.  Per run: the child's own time from before the open to the
 * answer, the parent's fork-to-exit time, the child's bytes read from disk
 * (rusage ru_inblock, 512-byte units; it counts mmap faults and read-ahead it
 * caused), its major and minor page faults and its CPU time (user + sys,
 * the whole process: the figure to read on a loaded machine).  --child runs another
 * aether-bench binary as the child (a baseline build, in the same run).  --cmd (the
 * last option: the rest of the command line is the child's argv) runs another
 * program the same way -- another engine's open + first query, e.g. the anchors'
 * coldopen_lancedb.mjs, evicting VDIR = its store -- whose output is either a
 * number (ms, open to answer) or a JSON object with "connect_open_ms" and
 * "first_query_ms" (their sum is taken).  One JSON line: medians and
 * ranges over the runs.  Disk time is noisy on a shared machine; bytes read
 * and fault counts are not. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "bench.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t resident_bytes;

static int evict_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)f;
    if (flag != FTW_F || sb->st_size == 0) return 0;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    void *m = mmap(NULL, (size_t)sb->st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
        size_t pages = ((size_t)sb->st_size + 4095) / 4096;
        unsigned char *v = malloc(pages);
        if (v && mincore(m, (size_t)sb->st_size, v) == 0)
            for (size_t i = 0; i < pages; i++)
                resident_bytes += (v[i] & 1) ? 4096 : 0;
        free(v);
        munmap(m, (size_t)sb->st_size);
    }
    close(fd);
    return 0;
}

/* 0, or -1 when the eviction is not possible (drop_caches without root). */
static int evict(const char *vdir, const char *how)
{
    resident_bytes = 0;
    if (!strcmp(how, "none")) return 0;
    sync();
    if (!strcmp(how, "drop")) {
        FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
        if (!f || fputs("3\n", f) < 0 || fclose(f) != 0) return -1;
    }
    nftw(vdir, evict_one, 16, FTW_PHYS);
    return 0;
}

typedef struct run {
    double child_ms, open_ms, exec_ms, read_kb, majflt, minflt, cpu_ms;
} run;

static const char *child_bin = "/proc/self/exe";
static char *const *child_cmd; /* --cmd: argv of another program, or NULL */

/* The child's "open to answer" figure: a leading number, or the sum of the
 * JSON fields connect_open_ms and first_query_ms (coldopen_lancedb.mjs). */
static double child_time(const char *out)
{
    const char *a = strstr(out, "\"connect_open_ms\":"), *b = strstr(out, "\"first_query_ms\":");
    if (a && b)
        return strtod(a + strlen("\"connect_open_ms\":"), NULL) +
               strtod(b + strlen("\"first_query_ms\":"), NULL);
    return strtod(out, NULL);
}

static int one_run(const char *vdir, const char *query, size_t k, uint32_t nprobe, uint32_t refine,
                   run *r)
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
        if (child_cmd)
            execvp(child_cmd[0], child_cmd);
        else
            execl(child_bin, "aether-bench", "--cold-store", vdir, "--query", query, "--nprobe",
                  nps, "--refine", rfs, "--k", ks, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char buf[4096] = {0};
    size_t got = 0;
    for (ssize_t n;
         got < sizeof buf - 1 && (n = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0;)
        got += (size_t)n;
    close(pfd[0]);
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0) return -1;
    r->exec_ms = bench_now_ms() - t0;
    if (got == 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    r->child_ms = child_time(buf);
    const char *op = strstr(buf, " open ");
    r->open_ms = op ? strtod(op + 6, NULL) : -1; /* our child: the open alone */
    r->read_kb = (double)ru.ru_inblock / 2.0;
    r->majflt = (double)ru.ru_majflt;
    r->minflt = (double)ru.ru_minflt;
    r->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return 0;
}

static double med(double *v, int n)
{
    bench_sort(v, (size_t)n);
    return bench_pct(v, (size_t)n, 0.5);
}

int bench_cold_run(const char *vdir, const char *query, const char *how, int runs, size_t k,
                   uint32_t nprobe, uint32_t refine, const char *child, char *const *cmd)
{
    if (child) child_bin = child;
    child_cmd = cmd;
    if (runs < 1) runs = 1;
    double *cm = calloc((size_t)runs, sizeof *cm), *em = calloc((size_t)runs, sizeof *em);
    double *rk = calloc((size_t)runs, sizeof *rk), *mj = calloc((size_t)runs, sizeof *mj);
    double *mn = calloc((size_t)runs, sizeof *mn), *cpu = calloc((size_t)runs, sizeof *cpu);
    double *op = calloc((size_t)runs, sizeof *op);
    double resident_max = 0;
    int rc = 1;
    if (!cm || !em || !rk || !mj || !mn || !cpu || !op) goto done;
    for (int i = 0; i < runs; i++) {
        if (evict(vdir, how) < 0) {
            fprintf(stderr, "aether-bench: cannot evict with '%s' (drop_caches needs root)\n", how);
            goto done;
        }
        if ((double)resident_bytes > resident_max) resident_max = (double)resident_bytes;
        run r;
        if (one_run(vdir, query, k, nprobe, refine, &r) < 0) {
            fprintf(stderr, "aether-bench: cold child failed\n");
            goto done;
        }
        cm[i] = r.child_ms;
        op[i] = r.open_ms;
        em[i] = r.exec_ms;
        rk[i] = r.read_kb;
        mj[i] = r.majflt;
        mn[i] = r.minflt;
        cpu[i] = r.cpu_ms;
    }
    printf("{\"cold\":\"%s\",\"runs\":%d,\"child\":\"%s\",\"nprobe\":%u,\"refine\":%u,", how, runs,
           cmd ? cmd[0] : child_bin, nprobe, refine);
    double lo = cm[0], hi = cm[0];
    for (int i = 0; i < runs; i++) {
        lo = cm[i] < lo ? cm[i] : lo;
        hi = cm[i] > hi ? cm[i] : hi;
    }
    printf(
        "\"first_query_ms_median\":%.2f,\"first_query_ms_min\":%.2f,\"first_query_ms_max\":%.2f,",
        med(cm, runs), lo, hi);
    printf("\"open_ms_median\":%.2f,\"process_cpu_ms_median\":%.2f,", med(op, runs),
           med(cpu, runs));
    printf("\"exec_ms_median\":%.2f,\"read_mb_median\":%.2f,\"majflt_median\":%.0f,"
           "\"minflt_median\":%.0f,\"resident_after_evict_kb\":%.0f}\n",
           med(em, runs), med(rk, runs) / 1024.0, med(mj, runs), med(mn, runs),
           resident_max / 1024.0);
    fflush(stdout);
    rc = 0;
done:
    free(cm);
    free(em);
    free(rk);
    free(mj);
    free(mn);
    free(cpu);
    free(op);
    return rc;
}
