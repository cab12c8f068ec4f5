/* k-means for the coarse quantiser and the PQ sub-quantisers.
 *
 * 1. Distances come from one BLAS sgemm per batch of IVFPQ_BATCH rows:
 *    |x - c|^2 = |x|^2 - 2 x.c + |c|^2, and |x|^2 does not change the argmin,
 *    so only -2 x.c + |c|^2 is formed.
 * 2. Rows are read with a stride (ldx), so a sub-quantiser trains on a column
 *    slice of the residual matrix without copying it.
 * 3. Initialisation picks k distinct rows by a seeded partial shuffle; k-means++
 *    was not used: it costs k passes over the sample and, measured on our data,
 *    ten Lloyd iterations from random rows reach the same recall.
 * 4. The per-row kernels (argmin over the distance row, and for the 256
 *    centroids of a sub-quantiser the register-blocked encoder) are in
 *    distance.c with the other SIMD kernels.
 * 5. An empty cluster is re-seeded from the largest one (its centroid nudged
 *    by +-1e-4 relative, the big cluster's by the opposite), so nlist lists
 *    stay usable; everything depends only on the seed and the input.
 * 6. The assignment step runs on `threads` threads of our own, each over a
 *    contiguous range of rows with BLAS single-threaded inside it
 *    (ivfpq_assign_mt).  OpenBLAS's own threads were not used: they
 *    busy-wait between calls, and on a loaded machine a waiting thread burns
 *    a core while the other is descheduled (docs/BENCHMARKS.md, "Building
 *    the index at 1M x 768").  A row's distances do not depend on which
 *    batch it lands in, so the centroids do not depend on the thread count. */
#include "index/ivfpq_internal.h"

#include "util/blas.h"
#include "util/err.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void ivfpq_assign(const float *x, size_t n, uint32_t d, size_t ldx, const float *c,
                  const float *cnorm, uint32_t k, uint32_t *assign, float *work)
{
    for (size_t b = 0; b < n; b += IVFPQ_BATCH) {
        size_t nb = n - b < IVFPQ_BATCH ? n - b : IVFPQ_BATCH;
        /* work (nb x k) = x_b . c^T */
        ae_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)k, (int)d, 1.0f,
                 x + b * ldx, (int)ldx, c, (int)d, 0.0f, work, (int)k);
        for (size_t i = 0; i < nb; i++)
            assign[b + i] = ivfpq_argmin(cnorm, work + i * k, k);
    }
}

typedef struct assign_part {
    const float *x, *c, *cnorm;
    size_t n, ldx;
    uint32_t d, k;
    uint32_t *assign;
    float *work;
} assign_part;

static void *assign_worker(void *arg)
{
    assign_part *a = arg;
    ivfpq_assign(a->x, a->n, a->d, a->ldx, a->c, a->cnorm, a->k, a->assign, a->work);
    return NULL;
}

void ivfpq_assign_mt(const float *x, size_t n, uint32_t d, size_t ldx, const float *c,
                     const float *cnorm, uint32_t k, uint32_t *assign, float *work, int threads)
{
    if (threads > AE_IVFPQ_MAX_THREADS) threads = AE_IVFPQ_MAX_THREADS;
    if (threads > 1 && (size_t)threads > n / IVFPQ_BATCH) threads = (int)(n / IVFPQ_BATCH);
    if (threads <= 1) {
        ivfpq_assign(x, n, d, ldx, c, cnorm, k, assign, work);
        return;
    }
    assign_part parts[AE_IVFPQ_MAX_THREADS];
    pthread_t tid[AE_IVFPQ_MAX_THREADS];
    bool started[AE_IVFPQ_MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++) {
        size_t lo = n * (size_t)t / (size_t)threads, hi = n * (size_t)(t + 1) / (size_t)threads;
        parts[t] = (assign_part){.x = x + lo * ldx,
                                 .c = c,
                                 .cnorm = cnorm,
                                 .n = hi - lo,
                                 .ldx = ldx,
                                 .d = d,
                                 .k = k,
                                 .assign = assign + lo,
                                 .work = work + (size_t)t * IVFPQ_BATCH * k};
    }
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, assign_worker, &parts[t]) == 0;
    assign_worker(&parts[0]);
    for (int t = 1; t < threads; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            assign_worker(&parts[t]); /* could not start a thread: do it here */
}

int ivfpq_kmeans(const float *x, size_t n, uint32_t d, size_t ldx, uint32_t k, uint32_t iters,
                 uint64_t seed, int threads, float *centroids, ae_error *err)
{
    AE_RETURN_IF(k == 0 || d == 0, err, AE_EINVAL, "k-means needs k > 0 and dim > 0");
    AE_RETURN_IF(n < k, err, AE_EINVAL, "k-means needs at least %u rows, not %zu", k, n);
    int rc = 0;
    if (threads < 1) threads = 1;
    if (threads > AE_IVFPQ_MAX_THREADS) threads = AE_IVFPQ_MAX_THREADS;
    size_t nw = (n < IVFPQ_BATCH ? n : IVFPQ_BATCH) * (size_t)threads;
    if (k == AE_IVFPQ_KSUB && d <= 64) nw = 1;
    uint32_t *assign = ae_calloc_array(n, sizeof *assign);
    float *work = ae_calloc_array(nw * k, sizeof *work);
    float *cnorm = ae_calloc_array(k, sizeof *cnorm);
    double *sum = ae_calloc_array((size_t)k * d, sizeof *sum);
    size_t *count = ae_calloc_array(k, sizeof *count);
    size_t *perm = ae_calloc_array(n, sizeof *perm);
    /* sub-quantisers (256 centroids of a few dimensions): the direct kernel */
    bool direct = k == AE_IVFPQ_KSUB && d <= 64;
    uint8_t *codes = direct ? ae_calloc_array(n, 1) : NULL;
    float *cbt = direct ? ae_calloc_array((size_t)k * d, sizeof *cbt) : NULL;
    if (!assign || !work || !cnorm || !sum || !count || !perm || (direct && (!codes || !cbt)))
        AE_FAIL(err, AE_ENOMEM, "k-means: out of memory for %zu rows x %u centroids", n, k);

    /* k distinct rows: the first k of a seeded partial Fisher-Yates shuffle */
    uint64_t rs = seed;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = 0; i < k; i++) {
        size_t j = i + (size_t)(ivfpq_rand(&rs) % (n - i));
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        memcpy(centroids + (size_t)i * d, x + perm[i] * ldx, d * sizeof(float));
    }

    for (uint32_t it = 0; it < iters; it++) {
        if (direct) {
            ivfpq_pq_prepare(centroids, d, 1, cbt, cnorm);
            ivfpq_encode(x, n, d, ldx, 1, cbt, cnorm, codes);
            for (size_t i = 0; i < n; i++)
                assign[i] = codes[i];
        } else {
            ivfpq_sqnorms(centroids, k, d, cnorm);
            ivfpq_assign_mt(x, n, d, ldx, centroids, cnorm, k, assign, work, threads);
        }
        memset(sum, 0, (size_t)k * d * sizeof *sum);
        memset(count, 0, k * sizeof *count);
        for (size_t i = 0; i < n; i++) {
            double *s = sum + (size_t)assign[i] * d;
            const float *r = x + i * ldx;
            for (uint32_t j = 0; j < d; j++)
                s[j] += r[j];
            count[assign[i]]++;
        }
        for (uint32_t c = 0; c < k; c++) {
            if (!count[c]) continue;
            float *cc = centroids + (size_t)c * d;
            const double *s = sum + (size_t)c * d;
            for (uint32_t j = 0; j < d; j++)
                cc[j] = (float)(s[j] / (double)count[c]);
        }
        /* re-seed empty clusters by splitting the largest */
        for (uint32_t c = 0; c < k; c++) {
            if (count[c]) continue;
            uint32_t big = 0;
            for (uint32_t o = 1; o < k; o++)
                if (count[o] > count[big]) big = o;
            if (count[big] < 2) break;
            float *cc = centroids + (size_t)c * d, *cb = centroids + (size_t)big * d;
            memcpy(cc, cb, d * sizeof(float));
            for (uint32_t j = 0; j < d; j++) {
                float eps = ((ivfpq_rand(&rs) & 1) ? 1e-4f : -1e-4f) * (cb[j] != 0 ? cb[j] : 1e-3f);
                cc[j] += eps;
                cb[j] -= eps;
            }
            count[c] = count[big] / 2;
            count[big] -= count[c];
        }
    }
cleanup:
    free(assign);
    free(work);
    free(cnorm);
    free(sum);
    free(count);
    free(perm);
    free(codes);
    free(cbt);
    return rc;
}
