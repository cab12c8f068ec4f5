/* OpenBLAS's sgemm rate, one thread, for one shape: which kernels the library
 * chose for this CPU and how fast they are (docs/BENCHMARKS.md, "OpenBLAS on
 * a CPU it does not know").  Linked to OpenBLAS directly, so it shows the
 * library's own choice (OPENBLAS_CORETYPE=... to force one).
 *
 *   gcc -std=c11 -O2 bench/blas_sgemm_rate.c -o /tmp/sgemm-rate $(pkg-config --cflags --libs
 * openblas) /tmp/sgemm-rate 128 1024 768      # M N K: (M x K) . (N x K)^T, for 2 s */
#define _POSIX_C_SOURCE 200809L
#include "util/blas.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s M N K\n", argv[0]);
        return 2;
    }
    int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]);
    if (m <= 0 || n <= 0 || k <= 0) {
        fprintf(stderr, "M, N and K must be positive\n");
        return 2;
    }
    ae_error err;
    if (ae_blas_load(&err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ae_blas_set_num_threads(1);
    float *a = malloc(sizeof(float) * (size_t)m * (size_t)k);
    float *b = malloc(sizeof(float) * (size_t)n * (size_t)k);
    float *c = malloc(sizeof(float) * (size_t)m * (size_t)n);
    if (!a || !b || !c) return 1;
    for (size_t i = 0; i < (size_t)m * (size_t)k; i++)
        a[i] = (float)rand() / (float)RAND_MAX;
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++)
        b[i] = (float)rand() / (float)RAND_MAX;
    double t0 = now();
    int runs = 0;
    while (now() - t0 < 2.0) {
        ae_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
        runs++;
    }
    double per = (now() - t0) / runs;
    printf("%s%s: %d x %d x %d: %.2f G multiply-adds/s\n", ae_blas_core(),
           ae_blas_core_forced() ? " (chosen by libaether)" : "", m, n, k,
           (double)m * n * k / per / 1e9);
    free(a);
    free(b);
    free(c);
    return 0;
}
