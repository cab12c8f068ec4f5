/* OpenBLAS through dlopen (see blas.h).
 *
 * 1. One pthread_once opens the library and resolves every symbol; a missing
 *    symbol fails the load as a whole, so a wrapper never calls NULL.
 * 2. RTLD_LOCAL: the library's symbols stay out of the global namespace.
 * 3. The handle is never closed (OpenBLAS's threads live until exit), except
 *    once in 4.
 * 4. OpenBLAS picks its kernels for the CPU when it is loaded, from a list of
 *    the CPU models it knows; a model newer than the library (Debian 12's
 *    0.3.21 on an Emerald Rapids Xeon, family 6 model 207) gets its generic
 *    x86-64 kernel, "Prescott" (SSE3): sgemm ran at 9.5 G multiply-adds/s
 *    instead of 50 and the 1M x 768 table-path build took 77.7 s instead of
 *    24.5 s (docs/BENCHMARKS.md, "OpenBLAS on a CPU it does not know").  So
 *    when the library reports the generic kernel on a CPU with AVX2 or
 *    AVX-512, it is closed and opened again with OPENBLAS_CORETYPE, its own
 *    documented switch, set to the kernel the CPU's features allow (the
 *    table below).  A user's own OPENBLAS_CORETYPE is never overridden.
 *    setenv runs once, inside pthread_once; another thread's concurrent
 *    getenv is the one hazard, as for any setenv (the first setenv in a
 *    process frees nothing, so a reader of the old array stays valid). */
#include "util/blas.h"

#include "util/err.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sgemm_fn)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, int, int, int, float,
                         const float *, int, const float *, int, float, float *, int);
typedef void (*ssyrk_fn)(CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, int, int, float, const float *,
                         int, float, float *, int);
typedef void (*lq_fn)(int *, int *, float *, int *, float *, float *, int *, int *);
typedef void (*orglq_fn)(int *, int *, int *, float *, int *, float *, float *, int *, int *);
typedef int (*get_threads_fn)(void);
typedef void (*set_threads_fn)(int);

static struct {
    sgemm_fn sgemm;
    ssyrk_fn ssyrk;
    lq_fn sgelqf;
    orglq_fn sorglq;
    get_threads_fn get_threads;
    set_threads_fn set_threads;
} fns;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_msg[AE_ERROR_MESSAGE_MAX - 64];
static char core_name[32]; /* the kernels the library runs; "" = unknown */
static bool core_forced;   /* chosen by 4., not by the library */

/* 4.: the kernel a CPU's features allow, best first. */
static const struct {
    unsigned needs; /* AE_CPU_* */
    const char *core;
} better_cores[] = {
    {AE_CPU_AVX512, "SkylakeX"},
    {AE_CPU_AVX2_FMA, "Haswell"},
};

const char *ae_blas_better_core(const char *detected, unsigned cpu)
{
    if (!detected || strcmp(detected, AE_BLAS_GENERIC_CORE) != 0) return NULL;
    for (size_t i = 0; i < sizeof better_cores / sizeof better_cores[0]; i++)
        if ((cpu & better_cores[i].needs) == better_cores[i].needs) return better_cores[i].core;
    return NULL;
}

static unsigned cpu_features(void)
{
    unsigned f = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= AE_CPU_AVX2_FMA;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        f |= AE_CPU_AVX512;
    return f;
}

/* The library's own name for its kernels, into core_name ("" if it has no
 * openblas_get_corename: another BLAS under the test switch). */
static void read_core(void *h)
{
    void *p = dlsym(h, "openblas_get_corename");
    char *(*corename)(void);
    memcpy(&corename, &p, sizeof p);
    const char *c = p ? corename() : NULL;
    snprintf(core_name, sizeof core_name, "%s", c ? c : "");
}

static void *open_blas(const char *name)
{
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_msg, sizeof load_msg,
                 "cannot load %s (%s); install OpenBLAS (Debian: "
                 "libopenblas0)",
                 name, why ? why : "unknown reason");
        load_rc = AE_EEXTERNAL;
    }
    return h;
}

static void *sym(void *h, const char *name, bool *ok)
{
    void *p = dlsym(h, name);
    if (!p && *ok) {
        snprintf(load_msg, sizeof load_msg, "%s has no symbol %s", AE_BLAS_SONAME, name);
        *ok = false;
    }
    return p;
}

static void load_once(void)
{
    const char *name = AE_BLAS_SONAME;
#ifdef AE_TESTING
    const char *e = getenv(AE_BLAS_ENV);
    if (e && *e) name = e;
#endif
    void *h = open_blas(name);
    if (!h) return;
    read_core(h);
    const char *better =
        getenv("OPENBLAS_CORETYPE") ? NULL : ae_blas_better_core(core_name, cpu_features());
    if (better) { /* 4. */
        dlclose(h);
        setenv("OPENBLAS_CORETYPE", better, 0);
        h = open_blas(name);
        if (!h) return;
        read_core(h);
        core_forced = true;
    }
    bool ok = true;
    void *p; /* dlsym's object pointer copied into function pointers (C11 has no cast) */
    p = sym(h, "cblas_sgemm", &ok);
    memcpy(&fns.sgemm, &p, sizeof p);
    p = sym(h, "cblas_ssyrk", &ok);
    memcpy(&fns.ssyrk, &p, sizeof p);
    p = sym(h, "sgelqf_", &ok);
    memcpy(&fns.sgelqf, &p, sizeof p);
    p = sym(h, "sorglq_", &ok);
    memcpy(&fns.sorglq, &p, sizeof p);
    p = sym(h, "openblas_get_num_threads", &ok);
    memcpy(&fns.get_threads, &p, sizeof p);
    p = sym(h, "openblas_set_num_threads", &ok);
    memcpy(&fns.set_threads, &p, sizeof p);
    if (!ok) {
        memset(&fns, 0, sizeof fns);
        load_rc = AE_EEXTERNAL;
    }
}

int ae_blas_load(ae_error *err)
{
    pthread_once(&once, load_once);
    if (load_rc < 0) return ae_fail(err, load_rc, "%s", load_msg);
    return 0;
}

const char *ae_blas_core(void)
{
    return core_name;
}

int ae_blas_core_forced(void)
{
    return core_forced;
}

int ae_blas_loaded(void)
{
    return fns.sgemm != NULL;
}

void ae_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c,
              int ldc)
{
    fns.sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ae_ssyrk(CBLAS_ORDER order, CBLAS_UPLO uplo, CBLAS_TRANSPOSE trans, int n, int k, float alpha,
              const float *a, int lda, float beta, float *c, int ldc)
{
    fns.ssyrk(order, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);
}

void ae_sgelqf(int *m, int *n, float *a, int *lda, float *tau, float *work, int *lwork, int *info)
{
    fns.sgelqf(m, n, a, lda, tau, work, lwork, info);
}

void ae_sorglq(int *m, int *n, int *k, float *a, int *lda, float *tau, float *work, int *lwork,
               int *info)
{
    fns.sorglq(m, n, k, a, lda, tau, work, lwork, info);
}

int ae_blas_get_num_threads(void)
{
    return fns.get_threads();
}

void ae_blas_set_num_threads(int n)
{
    fns.set_threads(n);
}
