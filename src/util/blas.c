/* OpenBLAS through dlopen (see blas.h).
 *
 * 1. One pthread_once opens the library and resolves every symbol; a missing
 *    symbol fails the load as a whole, so a wrapper never calls NULL.
 * 2. RTLD_LOCAL: the library's symbols stay out of the global namespace.
 * 3. The handle is never closed (OpenBLAS's threads live until exit). */
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
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_msg, sizeof load_msg,
                 "cannot load %s (%s); install OpenBLAS (Debian: "
                 "libopenblas0)",
                 name, why ? why : "unknown reason");
        load_rc = AE_EEXTERNAL;
        return;
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
