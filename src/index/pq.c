/* Product quantisation: m sub-quantisers x 256 centroids, 8-bit codes.
 *
 * 1. PQ encodes the residual x - c(x) of a normalised row from its coarse
 *    centroid, not the row itself: residuals are smaller and better spread, and
 *    for inner products the ADC table stays per query, not per list, because
 *    q.(c + r) = q.c + sum_j q_j.r_j (see search.c).
 * 2. Each sub-quantiser trains on a strided column slice of the residual
 *    matrix (no copy), on its own thread: the m problems are independent, so
 *    the result does not depend on the thread count.
 * 3. Encoding (ivfpq_encode, in distance.c) does not use BLAS: a
 *    (batch x 16) x (16 x 256) sgemm per sub-quantiser spent most of its time
 *    packing.  A register-blocked kernel over a transposed codebook (16
 *    AVX-512 accumulators = 256 centroids) is ~10x faster, and it rounds like
 *    the scalar loop, so codes are the same on every CPU. */
#include "index/ivfpq_internal.h"

#include "util/blas.h"
#include "util/err.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct pq_job {
    const float *resid;
    size_t n;
    uint32_t dim, m, dsub, iters;
    uint64_t seed;
    float *codebooks;
    uint32_t next; /* next sub-quantiser to train, under lock */
    pthread_mutex_t lock;
    int rc;
    ae_error err;
} pq_job;

static void *train_worker(void *arg)
{
    pq_job *job = arg;
    for (;;) {
        pthread_mutex_lock(&job->lock);
        uint32_t j = job->next++;
        int stop = job->rc < 0;
        pthread_mutex_unlock(&job->lock);
        if (stop || j >= job->m) break;
        ae_error e = {0};
        int rc = ivfpq_kmeans(job->resid + (size_t)j * job->dsub, job->n, job->dsub, job->dim,
                              AE_IVFPQ_KSUB, job->iters, job->seed + j, 1,
                              job->codebooks + (size_t)j * AE_IVFPQ_KSUB * job->dsub, &e);
        if (rc < 0) {
            pthread_mutex_lock(&job->lock);
            if (job->rc == 0) {
                job->rc = rc;
                job->err = e;
            }
            pthread_mutex_unlock(&job->lock);
        }
    }
    return NULL;
}

int ivfpq_train_pq(const float *resid, size_t n, uint32_t dim, uint32_t m, uint32_t iters,
                   uint64_t seed, int threads, float *codebooks, ae_error *err)
{
    AE_RETURN_IF(m == 0 || dim % m, err, AE_EINVAL, "m = %u does not divide dim %u", m, dim);
    AE_RETURN_IF(n < AE_IVFPQ_KSUB, err, AE_EINVAL, "pq training needs at least %u rows, not %zu",
                 AE_IVFPQ_KSUB, n);
    pq_job job = {.resid = resid,
                  .n = n,
                  .dim = dim,
                  .m = m,
                  .dsub = dim / m,
                  .iters = iters,
                  .seed = seed,
                  .codebooks = codebooks};
    pthread_mutex_init(&job.lock, NULL);
    if (threads < 1) threads = 1;
    if ((uint32_t)threads > m) threads = (int)m;
    pthread_t tid[AE_IVFPQ_MAX_THREADS];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[started], NULL, train_worker, &job) != 0) break;
        started++;
    }
    train_worker(&job);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&job.lock);
    if (job.rc < 0) {
        if (err) *err = job.err;
        return job.rc;
    }
    return 0;
}
