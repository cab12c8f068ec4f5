/* OpenBLAS, loaded when first needed (dlopen), not at program start.
 *
 * Only index builds (k-means, PQ training) and embedding-model training
 * multiply matrices; a search process never does.  Linking OpenBLAS into
 * every process cost each one ~3 ms of CPU at start-up (its relocations and
 * the start of its thread pool: 4.0 ms against 1.25 ms for an empty program,
 * docs/BENCHMARKS.md "Fresh process"), so the library is opened by
 * ae_blas_load at the entry of the code that needs it.
 *
 * ae_blas_load must succeed before any other function here is called; it is
 * thread-safe and cheap after the first call.  The wrappers have the
 * signatures of the CBLAS / LAPACK / OpenBLAS functions they forward to. */
#ifndef AE_UTIL_BLAS_H
#define AE_UTIL_BLAS_H

#include <aether/error.h>

#include <cblas.h>

/* The shared object opened; AE_BLAS_ENV (in test builds only) overrides it,
 * so a test can show the message of a missing library. */
#define AE_BLAS_SONAME "libopenblas.so.0"
#define AE_BLAS_ENV    "AETHER_BLAS_LIBRARY"

/* 0, or AE_EEXTERNAL naming the library and dlerror()'s reason. */
int ae_blas_load(ae_error *err);
/* Whether this process has opened it (tests: a search must not). */
int ae_blas_loaded(void);

/* The kernels OpenBLAS runs after ae_blas_load ("SkylakeX", "Haswell", ...;
 * "" before it or for a library without openblas_get_corename), and whether
 * ae_blas_load chose them because the library fell back to its generic ones
 * on a CPU it does not know (blas.c note 4). */
const char *ae_blas_core(void);
int ae_blas_core_forced(void);

/* blas.c note 4, exposed for its test: the kernel to ask for instead of the
 * one the library detected, or NULL to keep it.  cpu: AE_CPU_* bits. */
#define AE_BLAS_GENERIC_CORE "Prescott" /* OpenBLAS's kernel for a CPU it does not know */
enum { AE_CPU_AVX2_FMA = 1u, AE_CPU_AVX512 = 2u /* F, BW, DQ and VL */ };
const char *ae_blas_better_core(const char *detected, unsigned cpu);

void ae_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c,
              int ldc);
void ae_ssyrk(CBLAS_ORDER order, CBLAS_UPLO uplo, CBLAS_TRANSPOSE trans, int n, int k, float alpha,
              const float *a, int lda, float beta, float *c, int ldc);
/* LAPACK's Householder LQ factorisation and its Q (Fortran calling convention). */
void ae_sgelqf(int *m, int *n, float *a, int *lda, float *tau, float *work, int *lwork, int *info);
void ae_sorglq(int *m, int *n, int *k, float *a, int *lda, float *tau, float *work, int *lwork,
               int *info);
int ae_blas_get_num_threads(void);
void ae_blas_set_num_threads(int n);

#endif
