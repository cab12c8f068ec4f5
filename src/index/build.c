/* Building an IVF-PQ index: the recipe is ae_ivfpq_build at the bottom.
 *
 * 1. Vectors are normalised on the way in (cosine): the index lives on the
 *    unit sphere, whatever the table stores.  Zero vectors stay zero.
 * 2. Only a bounded, seeded sample is copied into memory for training; the
 *    full pass reads rows through the source in batches on `threads` threads
 *    (each owns a contiguous row range, so the output does not depend on
 *    scheduling or on the thread count) and BLAS runs single-threaded inside
 *    each worker -- for the whole build, k-means included: OpenBLAS's own
 *    threads spin while they wait, which on a loaded machine doubled the
 *    build's CPU (docs/BENCHMARKS.md, "Building the index at 1M x 768").
 * 3. The training sample is freed as soon as training is done.
 * 4. The image is assembled in memory (codes are m bytes per row: 48 MB for
 *    1M x 768 at m = 48) and written once, atomically, by format.c.
 * 5. Memory is planned before it is taken: plan_memory adds up every
 *    allocation of every phase (per-row arrays, training, the encode
 *    batches, the file image) and the build refuses up front, naming the
 *    figures, when the peak exceeds its budget (AE_IVFPQ_DEFAULT_BUILD_BUDGET
 *    unless the caller sets one).  The rows are never copied whole: they are
 *    read through the source, and the passes tell a mapped source which rows
 *    they are done with (ae_vec_source.release), so the resident set holds a
 *    window of the table, not the table (docs/BENCHMARKS.md, the 10M curve). */
#include "index/ivfpq_internal.h"

#include "util/blas.h"
#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A build pass releases the rows behind it every this many bytes of vectors. */
#define RELEASE_BYTES ((size_t)16 << 20)

typedef struct build_plan {
    size_t n;
    uint32_t dim, nlist, m, dsub, iters;
    size_t train;
    uint64_t seed;
    int threads;
    size_t budget; /* bytes (note 5) */
} build_plan;

static uint32_t pick_m(uint32_t dim)
{
    uint32_t want = dim / ae_ivfpq_dim_defaults(dim)->dsub;
    if (want < 1) want = 1;
    uint32_t best = 1;
    for (uint32_t m = 1; m <= dim && m <= AE_IVFPQ_MAX_M; m++) {
        if (dim % m) continue;
        uint32_t dm = m > want ? m - want : want - m;
        uint32_t db = best > want ? best - want : want - best;
        if (dm < db) best = m;
    }
    return best;
}

/* The plan of a build of n rows x dim (no source needed: plan_memory uses it too). */
static int make_plan_nd(size_t n, uint32_t dim, const ae_ivfpq_params *p, build_plan *pl,
                        ae_error *err)
{
    AE_RETURN_IF(dim < AE_IVFPQ_MIN_DIM || dim > AE_MAX_DIM, err, AE_EINVAL,
                 "dimension %u out of range [%d, %d]", dim, AE_IVFPQ_MIN_DIM, AE_MAX_DIM);
    AE_RETURN_IF(n < AE_IVFPQ_MIN_ROWS, err, AE_EINVAL,
                 "an index needs at least %d rows, not %zu (keep the table exact)",
                 AE_IVFPQ_MIN_ROWS, n);
    AE_RETURN_IF(n > AE_IVFPQ_MAX_ROWS, err, AE_EINVAL, "too many rows: %zu (max %u)", n,
                 AE_IVFPQ_MAX_ROWS);
    ae_ivfpq_params z = {0};
    if (!p) p = &z;
    memset(pl, 0, sizeof *pl);
    pl->n = n;
    pl->dim = dim;
    pl->nlist = p->nlist;
    if (!pl->nlist) {
        double v = AE_IVFPQ_NLIST_PER_SQRT_N * sqrt((double)n);
        pl->nlist = v < 1 ? 1 : v > AE_IVFPQ_MAX_NLIST ? AE_IVFPQ_MAX_NLIST : (uint32_t)lrint(v);
    }
    AE_RETURN_IF(pl->nlist < AE_IVFPQ_MIN_NLIST || pl->nlist > AE_IVFPQ_MAX_NLIST, err, AE_EINVAL,
                 "nlist %u out of range [%d, %d]", pl->nlist, AE_IVFPQ_MIN_NLIST,
                 AE_IVFPQ_MAX_NLIST);
    AE_RETURN_IF(pl->nlist > n, err, AE_EINVAL, "nlist %u exceeds the %zu rows", pl->nlist, n);
    pl->m = p->m ? p->m : pick_m(dim);
    AE_RETURN_IF(pl->m < AE_IVFPQ_MIN_M || pl->m > AE_IVFPQ_MAX_M, err, AE_EINVAL,
                 "m %u out of range [%d, %d]", pl->m, AE_IVFPQ_MIN_M, AE_IVFPQ_MAX_M);
    AE_RETURN_IF(dim % pl->m, err, AE_EINVAL, "m = %u does not divide dimension %u", pl->m, dim);
    pl->dsub = dim / pl->m;
    pl->train = p->train_sample;
    if (!pl->train) {
        size_t t = (size_t)pl->nlist * AE_IVFPQ_DEFAULT_TRAIN_PER_LIST;
        pl->train = t < AE_IVFPQ_DEFAULT_TRAIN_MIN ? AE_IVFPQ_DEFAULT_TRAIN_MIN : t;
        if (pl->train > AE_IVFPQ_MAX_TRAIN_SAMPLE) pl->train = AE_IVFPQ_MAX_TRAIN_SAMPLE;
    }
    if (pl->train > n) pl->train = n;
    AE_RETURN_IF(pl->train < pl->nlist || pl->train < AE_IVFPQ_KSUB, err, AE_EINVAL,
                 "training sample of %zu rows is smaller than nlist %u or %d", pl->train, pl->nlist,
                 AE_IVFPQ_KSUB);
    pl->iters = p->iters ? p->iters : AE_IVFPQ_DEFAULT_ITERS;
    AE_RETURN_IF(pl->iters > AE_IVFPQ_MAX_ITERS, err, AE_EINVAL, "iters %u exceeds %d", pl->iters,
                 AE_IVFPQ_MAX_ITERS);
    pl->seed = p->seed ? p->seed : AE_IVFPQ_DEFAULT_SEED;
    pl->threads = p->threads > 0 ? p->threads : AE_IVFPQ_DEFAULT_THREADS;
    if (pl->threads > AE_IVFPQ_MAX_THREADS) pl->threads = AE_IVFPQ_MAX_THREADS;
    pl->budget = p->mem_budget ? p->mem_budget : AE_IVFPQ_DEFAULT_BUILD_BUDGET;
    if (pl->budget < AE_IVFPQ_MIN_BUILD_BUDGET) pl->budget = AE_IVFPQ_MIN_BUILD_BUDGET;
    return 0;
}

static int make_plan(const ae_vec_source *src, const ae_ivfpq_params *p, build_plan *pl,
                     ae_error *err)
{
    AE_RETURN_IF(!src || !src->row, err, AE_EINVAL, "no vector source");
    return make_plan_nd(src->n, src->dim, p, pl, err);
}

/* Heap of ivfpq_kmeans on n rows x d with k centroids on th threads (kmeans.c). */
static size_t kmeans_bytes(size_t n, uint32_t d, uint32_t k, size_t th)
{
    size_t nw = (n < IVFPQ_BATCH ? n : IVFPQ_BATCH) * th;
    bool direct = k == AE_IVFPQ_KSUB && d <= 64;
    if (direct) nw = 1;
    return n * 4 + nw * k * 4 + (size_t)k * 4 + (size_t)k * d * 8 + (size_t)k * 8 + n * 8 +
           (direct ? n + (size_t)k * d * 4 : 0);
}

static size_t max2(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* Note 5: every allocation of ae_ivfpq_build, phase by phase. */
static void plan_memory(const build_plan *pl, ae_ivfpq_build_mem *mm)
{
    size_t n = pl->n, d = pl->dim, m = pl->m, k = pl->nlist, t = pl->train;
    memset(mm, 0, sizeof *mm);
    mm->fixed = k * d * 4 + k * 4 + (size_t)AE_IVFPQ_KSUB * d * 4 * 2 +
                (size_t)AE_IVFPQ_KSUB * m * 4 + (k + 1) * 8;
    mm->rows = n * 4 + n * m * 2 + n * 4; /* assign, codes, codes by list, ids */
    /* training: the sample, then (one at a time) the index shuffle of
     * sample_rows, k-means, the residual pass + PQ sample, PQ k-means per thread */
    size_t npq = t < IVFPQ_PQ_TRAIN_ROWS ? t : IVFPQ_PQ_TRAIN_ROWS;
    size_t dsub = d / m, th = (size_t)pl->threads < m ? (size_t)pl->threads : m;
    size_t sample = t * d * 4;
    size_t step = t < n ? n * 8 : 0;
    size_t bt = (size_t)pl->threads;
    step = max2(step, kmeans_bytes(t, pl->dim, pl->nlist, bt));
    step = max2(step, t * 4 + bt * IVFPQ_BATCH * k * 4 + npq * d * 4);
    mm->train = max2(sample + step,
                     npq * d * 4 + th * (kmeans_bytes(npq, (uint32_t)dsub, AE_IVFPQ_KSUB, 1) +
                                         npq * dsub * 4 + (size_t)AE_IVFPQ_KSUB * dsub * 4));
    mm->encode = (size_t)pl->threads * ((size_t)IVFPQ_BATCH * d * 4 + (size_t)IVFPQ_BATCH * k * 4);
    /* the image: header, sections (codes padded to whole blocks per list), hash */
    size_t blocks = n / IVFPQ_BLOCK + k;
    mm->image = IVFPQ_HEADER_BYTES + mm->fixed + n * 4 + blocks * m * IVFPQ_BLOCK +
                IVFPQ_NSECTIONS * 64 + IVFPQ_HASH_BYTES;
    /* the write runs after the codes in row order are freed */
    size_t during = mm->rows + max2(mm->train, mm->encode);
    size_t writing = mm->rows - n * m + mm->image;
    mm->total = mm->fixed + max2(during, writing);
}

int ae_ivfpq_build_memory(size_t n, uint32_t dim, const ae_ivfpq_params *p, ae_ivfpq_build_mem *out,
                          ae_error *err)
{
    build_plan pl;
    AE_TRY(make_plan_nd(n, dim, p, &pl, err));
    plan_memory(&pl, out);
    return 0;
}

static double mib(size_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

static int check_budget(const build_plan *pl, ae_error *err)
{
    ae_ivfpq_build_mem mm;
    plan_memory(pl, &mm);
    AE_RETURN_IF(mm.total > pl->budget, err, AE_ENOMEM,
                 "an index build of %zu rows x %u needs %.0f MiB of memory (per-row codes and ids "
                 "%.0f MiB, training %.0f MiB, file image %.0f MiB), more than its budget of %.0f "
                 "MiB; raise the build memory budget or build with fewer sub-quantisers (m = %u)",
                 pl->n, pl->dim, mib(mm.total), mib(mm.rows), mib(mm.train), mib(mm.image),
                 mib(pl->budget), pl->m);
    return 0;
}
/* Copies row i of src into dst, normalised; AE_EINVAL on a non-finite value. */
static int load_row(const ae_vec_source *src, size_t i, float *dst, ae_error *err)
{
    const float *r = src->row(src->ctx, i);
    AE_RETURN_IF(!r, err, AE_EINVAL, "vector source returned no data for row %zu", i);
    uint32_t d = src->dim;
    for (uint32_t j = 0; j < d; j++)
        AE_RETURN_IF(!isfinite(r[j]), err, AE_EINVAL, "%s at dimension %u of row %zu",
                     isnan(r[j]) ? "NaN" : "infinity", j, i);
    float inv;
    if (src->inv_norm) {
        inv = src->inv_norm(src->ctx, i);
    } else {
        double s = 0;
        for (uint32_t j = 0; j < d; j++)
            s += (double)r[j] * r[j];
        inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
    }
    for (uint32_t j = 0; j < d; j++)
        dst[j] = r[j] * inv;
    return 0;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Phase timing (ae_ivfpq_build_stats): wall and process CPU since the last mark. */
typedef struct phase_clock {
    ae_ivfpq_build_stats *st;
    double wall, cpu;
} phase_clock;

static void phase_start(phase_clock *pc)
{
    pc->wall = clock_s(CLOCK_MONOTONIC);
    pc->cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void phase_end(phase_clock *pc, int phase)
{
    double w = clock_s(CLOCK_MONOTONIC), c = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (pc->st && phase >= 0) {
        pc->st->wall_s[phase] += w - pc->wall;
        pc->st->cpu_s[phase] += c - pc->cpu;
    }
    pc->wall = w;
    pc->cpu = c;
}

const char *ae_ivfpq_phase_name(int phase)
{
    static const char *const names[AE_IVFPQ_NPHASES] = {"sample", "coarse", "pq_train", "load",
                                                        "assign", "encode", "group",    "write"};
    return phase >= 0 && phase < AE_IVFPQ_NPHASES ? names[phase] : NULL;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Step 1: a seeded sample of pl->train distinct rows, normalised, in row order. */
static int sample_rows(const ae_vec_source *src, const build_plan *pl, float **out, ae_error *err)
{
    int rc = 0;
    size_t *idx = NULL;
    float *x = ae_calloc_array(pl->train * pl->dim, sizeof(float));
    if (!x)
        AE_FAIL(err, AE_ENOMEM, "training sample of %zu x %u floats does not fit in memory",
                pl->train, pl->dim);
    if (pl->train == pl->n) {
        for (size_t i = 0; i < pl->n; i++)
            AE_CHECK(load_row(src, i, x + i * pl->dim, err));
    } else {
        idx = ae_calloc_array(pl->n, sizeof *idx);
        if (!idx) AE_FAIL(err, AE_ENOMEM, "out of memory sampling %zu rows", pl->n);
        uint64_t rs = pl->seed ^ 0xA5A5A5A5u;
        for (size_t i = 0; i < pl->n; i++)
            idx[i] = i;
        for (size_t i = 0; i < pl->train; i++) {
            size_t j = i + (size_t)(ivfpq_rand(&rs) % (pl->n - i));
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        qsort(idx, pl->train, sizeof *idx, cmp_size);
        /* the sample is spread over the whole table and every fault maps
         * its cached neighbours too: release behind the (ascending) reads
         * as the pass does, or the resident set grows to the table */
        size_t every = RELEASE_BYTES / ((size_t)pl->dim * sizeof(float)), done_to = 0;
        for (size_t i = 0; i < pl->train; i++) {
            if (src->release && idx[i] - done_to >= every) {
                src->release(src->ctx, done_to, idx[i]);
                done_to = idx[i];
            }
            AE_CHECK(load_row(src, idx[i], x + i * pl->dim, err));
        }
    }
    if (src->release) src->release(src->ctx, 0, pl->n); /* note 5 */
    *out = x;
    x = NULL;
cleanup:
    free(idx);
    free(x);
    return rc;
}

/* x[i] -= c[assign[i]] for n rows. */
static void subtract_centroids(float *x, size_t n, uint32_t d, const float *c,
                               const uint32_t *assign)
{
    for (size_t i = 0; i < n; i++) {
        const float *cc = c + (size_t)assign[i] * d;
        float *r = x + i * d;
        for (uint32_t j = 0; j < d; j++)
            r[j] -= cc[j];
    }
}

/* Steps 2 + 3: coarse centroids, then PQ codebooks on the sample's residuals. */
static int train(const ae_vec_source *src, const build_plan *pl, float *centroids, float *cnorms,
                 float *codebooks, phase_clock *pc, ae_error *err)
{
    int rc = 0;
    float *x = NULL, *work = NULL, *pqx = NULL;
    uint32_t *assign = NULL;

    AE_CHECK(sample_rows(src, pl, &x, err));
    phase_end(pc, AE_IVFPQ_PHASE_SAMPLE);

    AE_CHECK(ivfpq_kmeans(x, pl->train, pl->dim, pl->dim, pl->nlist, pl->iters, pl->seed,
                          pl->threads, centroids, err));
    phase_end(pc, AE_IVFPQ_PHASE_COARSE);

    ivfpq_sqnorms(centroids, pl->nlist, pl->dim, cnorms);
    assign = ae_calloc_array(pl->train, sizeof *assign);
    work = ae_calloc_array((size_t)pl->threads * IVFPQ_BATCH * pl->nlist, sizeof *work);
    size_t npq = pl->train < IVFPQ_PQ_TRAIN_ROWS ? pl->train : IVFPQ_PQ_TRAIN_ROWS;
    pqx = ae_calloc_array(npq * pl->dim, sizeof *pqx);
    if (!assign || !work || !pqx) AE_FAIL(err, AE_ENOMEM, "out of memory training the index");
    ivfpq_assign_mt(x, pl->train, pl->dim, pl->dim, centroids, cnorms, pl->nlist, assign, work,
                    pl->threads);
    subtract_centroids(x, pl->train, pl->dim, centroids, assign);
    /* an evenly strided subset of the (row-ordered) sample */
    for (size_t i = 0; i < npq; i++)
        memcpy(pqx + i * pl->dim, x + (i * pl->train / npq) * pl->dim, pl->dim * sizeof(float));
    free(x);
    x = NULL;
    AE_CHECK(ivfpq_train_pq(pqx, npq, pl->dim, pl->m, pl->iters, pl->seed + 1, pl->threads,
                            codebooks, err));
    phase_end(pc, AE_IVFPQ_PHASE_PQ_TRAIN);

cleanup:
    free(x);
    free(work);
    free(pqx);
    free(assign);
    return rc;
}

typedef struct encode_job {
    const ae_vec_source *src;
    const build_plan *pl;
    const float *centroids, *cnorms, *cbt, *cbnorms;
    uint32_t *assign; /* n */
    uint8_t *codes;   /* n x m */
} encode_job;

typedef struct encode_part {
    encode_job *job;
    size_t lo, hi;
    int rc;
    ae_error err;
    double cpu[3], wall[3]; /* this thread's seconds in load, assign, encode */
} encode_part;

static void *encode_worker(void *arg)
{
    encode_part *part = arg;
    const encode_job *job = part->job;
    const build_plan *pl = job->pl;
    size_t wn = (size_t)IVFPQ_BATCH * pl->nlist;
    float *x = ae_calloc_array((size_t)IVFPQ_BATCH * pl->dim, sizeof *x);
    float *work = ae_calloc_array(wn, sizeof *work);
    if (!x || !work) {
        part->rc = ae_fail(&part->err, AE_ENOMEM, "out of memory encoding rows");
        goto done;
    }
    /* note 5: rows done with are released every RELEASE_BYTES of vectors */
    size_t every = RELEASE_BYTES / ((size_t)pl->dim * sizeof(float)), done_to = part->lo;
    for (size_t b = part->lo; b < part->hi; b += IVFPQ_BATCH) {
        size_t nb = part->hi - b < IVFPQ_BATCH ? part->hi - b : IVFPQ_BATCH;
        if (job->src->release && b - done_to >= every) {
            job->src->release(job->src->ctx, done_to, b);
            done_to = b;
        }
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        for (size_t i = 0; i < nb; i++) {
            part->rc = load_row(job->src, b + i, x + i * pl->dim, &part->err);
            if (part->rc < 0) goto done;
        }
        double w1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        ivfpq_assign(x, nb, pl->dim, pl->dim, job->centroids, job->cnorms, pl->nlist,
                     job->assign + b, work);
        double w2 = clock_s(CLOCK_MONOTONIC), c2 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        subtract_centroids(x, nb, pl->dim, job->centroids, job->assign + b);
        ivfpq_encode(x, nb, pl->dim, pl->dim, pl->m, job->cbt, job->cbnorms,
                     job->codes + b * pl->m);
        double w3 = clock_s(CLOCK_MONOTONIC), c3 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        part->cpu[0] += c1 - c0;
        part->cpu[1] += c2 - c1;
        part->cpu[2] += c3 - c2;
        part->wall[0] += w1 - w0;
        part->wall[1] += w2 - w1;
        part->wall[2] += w3 - w2;
    }
    if (job->src->release) job->src->release(job->src->ctx, done_to, part->hi);
done:
    free(x);
    free(work);
    return NULL;
}

/* Step 4: assign every row to a list and encode its residual. */
static int assign_and_encode(encode_job *job, ae_ivfpq_build_stats *st, ae_error *err)
{
    const build_plan *pl = job->pl;
    int nt = pl->threads;
    if ((size_t)nt > pl->n / IVFPQ_BATCH + 1) nt = (int)(pl->n / IVFPQ_BATCH + 1);
    encode_part parts[AE_IVFPQ_MAX_THREADS];
    pthread_t tid[AE_IVFPQ_MAX_THREADS];
    bool started[AE_IVFPQ_MAX_THREADS] = {0};
    for (int t = 0; t < nt; t++)
        parts[t] = (encode_part){
            .job = job, .lo = pl->n * (size_t)t / nt, .hi = pl->n * (size_t)(t + 1) / nt};
    for (int t = 1; t < nt; t++)
        started[t] = pthread_create(&tid[t], NULL, encode_worker, &parts[t]) == 0;
    encode_worker(&parts[0]);
    for (int t = 1; t < nt; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            encode_worker(&parts[t]); /* could not start a thread: do it here */
    for (int t = 0; st && t < nt; t++) {
        for (int ph = 0; ph < 3; ph++) {
            st->cpu_s[AE_IVFPQ_PHASE_LOAD + ph] += parts[t].cpu[ph];
            if (parts[t].wall[ph] > st->wall_s[AE_IVFPQ_PHASE_LOAD + ph])
                st->wall_s[AE_IVFPQ_PHASE_LOAD + ph] = parts[t].wall[ph];
        }
    }
    for (int t = 0; t < nt; t++) {
        if (parts[t].rc < 0) {
            if (err) *err = parts[t].err;
            return parts[t].rc;
        }
    }
    return 0;
}

/* Step 5: counting sort of the rows by list; codes follow their rows. */
static int group_by_list(const build_plan *pl, const uint32_t *assign, const uint8_t *codes,
                         uint64_t *list_off, uint32_t *ids, uint8_t *codes_sorted, ae_error *err)
{
    uint64_t *fill = ae_calloc_array(pl->nlist, sizeof *fill);
    AE_RETURN_IF(!fill, err, AE_ENOMEM, "out of memory grouping rows");
    memset(list_off, 0, ((size_t)pl->nlist + 1) * sizeof *list_off);
    for (size_t i = 0; i < pl->n; i++)
        list_off[assign[i] + 1]++;
    for (uint32_t l = 0; l < pl->nlist; l++)
        list_off[l + 1] += list_off[l];
    for (size_t i = 0; i < pl->n; i++) {
        uint64_t pos = list_off[assign[i]] + fill[assign[i]]++;
        ids[pos] = (uint32_t)i;
        memcpy(codes_sorted + pos * pl->m, codes + i * pl->m, pl->m);
    }
    free(fill);
    return 0;
}

int ae_ivfpq_build(const ae_vec_source *src, const ae_ivfpq_params *p, const char *path,
                   ae_error *err)
{
    build_plan pl;
    AE_TRY(make_plan(src, p, &pl, err));
    AE_RETURN_IF(!path, err, AE_EINVAL, "no index path");
    AE_TRY(check_budget(&pl, err));
    AE_TRY(ae_blas_load(err));
    ae_ivfpq_build_stats st = {0};
    phase_clock pc = {.st = &st};
    phase_start(&pc);
    double wall0 = pc.wall, cpu0 = pc.cpu;
    /* note 2: our threads, BLAS single-threaded inside them */
    int blas = ae_blas_get_num_threads();
    ae_blas_set_num_threads(1);
    int rc = 0;
    float *centroids = ae_calloc_array((size_t)pl.nlist * pl.dim, sizeof(float));
    float *cnorms = ae_calloc_array(pl.nlist, sizeof(float));
    float *codebooks = ae_calloc_array((size_t)AE_IVFPQ_KSUB * pl.dim, sizeof(float));
    uint32_t *assign = ae_calloc_array(pl.n, sizeof(uint32_t));
    uint8_t *codes = ae_calloc_array(pl.n, pl.m);
    uint8_t *codes_sorted = ae_calloc_array(pl.n, pl.m);
    uint64_t *list_off = ae_calloc_array((size_t)pl.nlist + 1, sizeof(uint64_t));
    uint32_t *ids = ae_calloc_array(pl.n, sizeof(uint32_t));
    float *cbt = ae_calloc_array((size_t)AE_IVFPQ_KSUB * pl.dim, sizeof(float));
    float *cbnorms = ae_calloc_array((size_t)AE_IVFPQ_KSUB * pl.m, sizeof(float));
    if (!centroids || !cnorms || !codebooks || !assign || !codes || !codes_sorted || !list_off ||
        !ids || !cbt || !cbnorms)
        AE_FAIL(err, AE_ENOMEM, "out of memory building an index of %zu rows x %u", pl.n, pl.dim);

    AE_CHECK(train(src, &pl, centroids, cnorms, codebooks, &pc, err));
    ivfpq_pq_prepare(codebooks, pl.dim, pl.m, cbt, cbnorms);
    encode_job job = {.src = src,
                      .pl = &pl,
                      .centroids = centroids,
                      .cnorms = cnorms,
                      .cbt = cbt,
                      .cbnorms = cbnorms,
                      .assign = assign,
                      .codes = codes};
    AE_CHECK(assign_and_encode(&job, &st, err));
    phase_end(&pc, -1); /* the pass's own split is per thread (encode_part.cpu) */

    AE_CHECK(group_by_list(&pl, assign, codes, list_off, ids, codes_sorted, err));
    phase_end(&pc, AE_IVFPQ_PHASE_GROUP);
    free(codes);
    codes = NULL;
    ivfpq_image im = {.dim = pl.dim,
                      .nlist = pl.nlist,
                      .m = pl.m,
                      .rows = pl.n,
                      .seed = pl.seed,
                      .centroids = centroids,
                      .cnorms = cnorms,
                      .codebooks = codebooks,
                      .list_off = list_off,
                      .ids = ids,
                      .codes_rows = codes_sorted};
    AE_CHECK(ivfpq_write(&im, path, err));
    phase_end(&pc, AE_IVFPQ_PHASE_WRITE);
    st.total_wall_s = pc.wall - wall0;
    st.total_cpu_s = pc.cpu - cpu0;
    if (p && p->stats) *p->stats = st;

cleanup:
    ae_blas_set_num_threads(blas);
    free(centroids);
    free(cnorms);
    free(codebooks);
    free(assign);
    free(codes);
    free(codes_sorted);
    free(list_off);
    free(ids);
    free(cbt);
    free(cbnorms);
    return rc;
}
