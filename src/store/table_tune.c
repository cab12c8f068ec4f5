/* Measured recall of a new index (table_tune.h).
 *
 * 1. Queries: AE_TABLE_TUNE_SAMPLE live rows drawn with a fixed seed (the
 *    same table gives the same sample); each row is a query and is left out
 *    of its own answers, so the figure is about neighbours, not self-matches.
 * 2. Ground truth: one blocked pass over every live row, the dot products of
 *    all sampled queries with a block of rows by one sgemm (the build already
 *    opened OpenBLAS), times the stored inverse norms: the exact scan's
 *    cosine ranking, ties by row.
 * 3. Settings: the static defaults first, then costlier ones in order of the
 *    bytes a query reads (probed codes + re-ranked rows); the first whose
 *    recall minus two standard errors (over the per-query recalls) reaches
 *    the target is kept.  Cheaper-than-default settings are never chosen, so
 *    a table never gets less recall than the defaults would give it.
 * 4. The exact pass runs on the build's threads (AE_IVFPQ_DEFAULT_THREADS),
 *    each over a contiguous range of rows with its own top-k lists, merged
 *    at the end; a row's dot products do not depend on which block it lands
 *    in, so the lists do not depend on the thread count (test_table_tune:
 *    1 and 3 threads record the same figure).  1M x 768: 2.3 s of the
 *    table-path build on one thread. */
#include "store/table_tune.h"

#include "util/blas.h"
#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 2048

typedef struct best {
    float score;
    uint64_t row;
} best;

/* Keeps the k best of a query (sorted best first, ties: lower row first). */
static void keep(best *b, size_t k, size_t *n, float score, uint64_t row)
{
    size_t i = *n < k ? (*n)++ : k;
    if (i == k) {
        const best *w = &b[k - 1];
        if (score < w->score || (score == w->score && row > w->row)) return;
        i = k - 1;
    }
    while (i > 0 && (b[i - 1].score < score || (b[i - 1].score == score && b[i - 1].row > row))) {
        b[i] = b[i - 1];
        i--;
    }
    b[i] = (best){score, row};
}

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct setting {
    uint32_t nprobe, refine;
    double cost;
} setting;

static int cmp_cost(const void *a, const void *b)
{
    const setting *x = a, *y = b;
    return x->cost < y->cost ? -1 : x->cost > y->cost;
}

/* One thread's share of the exact pass (note 4): rows [lo, hi), its own
 * top-k lists and scratch. */
typedef struct truth_part {
    ae_table *t;
    const ae_vec_source *src;
    const float *q;
    const uint64_t *self;
    size_t s, lo, hi;
    best *truth; /* s x AE_TABLE_TUNE_K */
    size_t *nt;  /* s */
    int rc;
} truth_part;

static void *truth_worker(void *arg)
{
    truth_part *p = arg;
    const ae_vec_source *src = p->src;
    uint32_t dim = src->dim;
    size_t s = p->s;
    float *x = ae_calloc_array((size_t)BLOCK * dim, sizeof *x);
    float *dots = ae_calloc_array((size_t)BLOCK * s, sizeof *dots);
    uint64_t *rows = ae_calloc_array(BLOCK, sizeof *rows);
    float *inv = ae_calloc_array(BLOCK, sizeof *inv);
    p->rc = x && dots && rows && inv ? 0 : AE_ENOMEM;
    /* rows behind the pass leave the resident set (ae_vec_source.release)
     * every 16 MB of vectors a thread, as the build's passes do */
    size_t every = ((size_t)16 << 20) / ((size_t)dim * sizeof(float)), done_to = p->lo;
    for (size_t i = p->lo; p->rc == 0 && i < p->hi;) {
        if (src->release && i - done_to >= every) {
            src->release(src->ctx, done_to, i);
            done_to = i;
        }
        size_t b = 0;
        for (; i < p->hi && b < BLOCK; i++) {
            if (!ae_table_row_live(p->t, i)) continue;
            const float *v = src->row(src->ctx, i);
            if (!v) continue;
            memcpy(x + b * dim, v, dim * sizeof(float));
            rows[b] = i;
            inv[b] = src->inv_norm(src->ctx, i);
            b++;
        }
        if (!b) continue;
        ae_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s, (int)b, (int)dim, 1.0f, p->q,
                 (int)dim, x, (int)dim, 0.0f, dots, (int)b);
        for (size_t qi = 0; qi < s; qi++)
            for (size_t j = 0; j < b; j++)
                if (rows[j] != p->self[qi])
                    keep(p->truth + qi * AE_TABLE_TUNE_K, AE_TABLE_TUNE_K, &p->nt[qi],
                         dots[qi * b + j] * inv[j], rows[j]);
    }
    if (src->release && p->rc == 0) src->release(src->ctx, done_to, p->hi);
    free(x);
    free(dots);
    free(rows);
    free(inv);
    return NULL;
}

/* Exact top-k (self excluded) of every sampled query: notes 2 and 4. */
static int exact_truth(ae_table *t, const ae_vec_source *src, const float *q, const uint64_t *self,
                       size_t s, int threads, best *truth, size_t *nt, ae_error *err)
{
    AE_TRY(ae_blas_load(err));
    if (threads < 1) threads = 1;
    if (threads > AE_IVFPQ_MAX_THREADS) threads = AE_IVFPQ_MAX_THREADS;
    if ((size_t)threads > src->n / (4 * BLOCK) + 1) threads = (int)(src->n / (4 * BLOCK) + 1);
    truth_part parts[AE_IVFPQ_MAX_THREADS];
    pthread_t tid[AE_IVFPQ_MAX_THREADS];
    bool started[AE_IVFPQ_MAX_THREADS] = {0};
    int rc = 0;
    for (int i = 0; i < threads; i++) {
        parts[i] =
            (truth_part){.t = t,
                         .src = src,
                         .q = q,
                         .self = self,
                         .s = s,
                         .lo = src->n * (size_t)i / (size_t)threads,
                         .hi = src->n * (size_t)(i + 1) / (size_t)threads,
                         .truth = i ? ae_calloc_array(s * AE_TABLE_TUNE_K, sizeof(best)) : truth,
                         .nt = i ? ae_calloc_array(s, sizeof(size_t)) : nt};
        if (!parts[i].truth || !parts[i].nt) rc = AE_ENOMEM;
    }
    /* our threads, BLAS single-threaded inside them (index/build.c note 2) */
    int blas = ae_blas_get_num_threads();
    ae_blas_set_num_threads(1);
    for (int i = 1; rc == 0 && i < threads; i++)
        started[i] = pthread_create(&tid[i], NULL, truth_worker, &parts[i]) == 0;
    if (rc == 0) truth_worker(&parts[0]);
    for (int i = 1; rc == 0 && i < threads; i++)
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            truth_worker(&parts[i]); /* could not start a thread: do it here */
    ae_blas_set_num_threads(blas);
    /* the parts' lists into part 0's: keep's order is total (score, then
     * row), so the merged top-k is the one pass's over every row */
    for (int i = 1; i < threads; i++) {
        if (rc == 0 && parts[i].rc < 0) rc = parts[i].rc;
        for (size_t qi = 0; rc == 0 && qi < s; qi++)
            for (size_t j = 0; j < parts[i].nt[qi]; j++) {
                const best *b = &parts[i].truth[qi * AE_TABLE_TUNE_K + j];
                keep(truth + qi * AE_TABLE_TUNE_K, AE_TABLE_TUNE_K, &nt[qi], b->score, b->row);
            }
        free(parts[i].truth);
        free(parts[i].nt);
    }
    if (rc == 0 && parts[0].rc < 0) rc = parts[0].rc;
    if (rc < 0) return ae_fail(err, rc, "out of memory measuring recall");
    return 0;
}

/* Mean recall@k of one setting and its standard error. */
static int measure(ae_table *t, const ae_ivfpq *ix, const ae_vec_source *src, const float *q,
                   const uint64_t *self, size_t s, const best *truth, const size_t *nt,
                   const setting *st, double *mean, double *se, ae_error *err)
{
    ae_ivfpq_hit h[AE_TABLE_TUNE_K + 1];
    double sum = 0, sq = 0;
    for (size_t qi = 0; qi < s; qi++) {
        size_t nh = 0;
        AE_TRY(ae_ivfpq_search(ix, src, q + qi * src->dim, AE_TABLE_TUNE_K + 1, st->nprobe,
                               st->refine, ae_table_row_live, t, h, &nh, err));
        /* the re-ranked rows leave the resident set after every query
         * (ae_vec_source.release): every 8 queries, fault-around let the
         * mapped set grow to the whole cached table (5.36 GB VmHWM at 10M) */
        if (src->release) src->release(src->ctx, 0, src->n);
        size_t found = 0, seen = 0;
        for (size_t i = 0; i < nh && seen < AE_TABLE_TUNE_K; i++) {
            if (h[i].row == self[qi]) continue;
            seen++;
            for (size_t j = 0; j < nt[qi]; j++)
                if (truth[qi * AE_TABLE_TUNE_K + j].row == h[i].row) {
                    found++;
                    break;
                }
        }
        double r = nt[qi] ? (double)found / (double)nt[qi] : 1.0;
        sum += r;
        sq += r * r;
    }
    *mean = sum / (double)s;
    double var = sq / (double)s - *mean * *mean;
    *se = var > 0 ? sqrt(var / (double)s) : 0;
    return 0;
}

int ae_table_tune_index(ae_table *t, const ae_ivfpq *ix, double target, ae_index_tuned *out,
                        ae_error *err)
{
    return ae_table_tune_index_mt(t, ix, target, AE_IVFPQ_DEFAULT_THREADS, out, err);
}

int ae_table_tune_index_mt(ae_table *t, const ae_ivfpq *ix, double target, int threads,
                           ae_index_tuned *out, ae_error *err)
{
    memset(out, 0, sizeof *out);
    size_t live = ae_table_rows_live(t);
    if (live < AE_TABLE_TUNE_MIN_ROWS) return 0;
    ae_vec_source src;
    ae_table_vec_source(t, &src);
    size_t s = AE_TABLE_TUNE_SAMPLE;
    uint32_t dim = src.dim;
    float *q = ae_calloc_array(s * dim, sizeof *q);
    uint64_t *self = ae_calloc_array(s, sizeof *self);
    best *truth = ae_calloc_array(s * AE_TABLE_TUNE_K, sizeof *truth);
    size_t *nt = ae_calloc_array(s, sizeof *nt);
    int rc = 0;
    if (!q || !self || !truth || !nt) AE_FAIL(err, AE_ENOMEM, "out of memory measuring recall");
    uint64_t seed = 0x7e57ab1eull ^ live;
    for (size_t i = 0; i < s;) {
        uint64_t r = mix(&seed) % src.n;
        if (!ae_table_row_live(t, r)) continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = self[j] == r;
        if (dup) continue;
        self[i] = r;
        memcpy(q + i * dim, src.row(src.ctx, r), dim * sizeof(float));
        i++;
    }
    /* the sampled rows are copied: their pages (and the fault-around's
     * neighbours) leave the resident set (ae_vec_source.release) */
    if (src.release) src.release(src.ctx, 0, src.n);
    AE_CHECK(exact_truth(t, &src, q, self, s, threads, truth, nt, err));

    /* note 3: the defaults, then costlier settings by bytes read */
    uint32_t np0 = AE_IVFPQ_DEFAULT_NPROBE, rf0 = ae_ivfpq_default_refine_m(dim, ae_ivfpq_m(ix));
    static const uint32_t nps[] = {24, 32, 48, 64, 96, 128, 192, 256};
    static const uint32_t rfm[] = {1, 2, 4};
    setting grid[sizeof nps / sizeof *nps * 3];
    size_t ng = 0;
    double per_list = (double)ae_ivfpq_rows_covered(ix) / ae_ivfpq_nlist(ix);
    for (size_t a = 0; a < sizeof nps / sizeof *nps; a++)
        for (size_t b = 0; b < 3; b++) {
            uint32_t np = nps[a] > ae_ivfpq_nlist(ix) ? ae_ivfpq_nlist(ix) : nps[a];
            if (np < np0 && np < ae_ivfpq_nlist(ix)) continue;
            setting st = {np, rf0 * rfm[b], 0};
            st.cost = (double)st.nprobe * per_list * ae_ivfpq_m(ix) +
                      (double)AE_TABLE_TUNE_K * st.refine * dim * 4.0;
            bool dup = false;
            for (size_t j = 0; j < ng && !dup; j++)
                dup = grid[j].nprobe == st.nprobe && grid[j].refine == st.refine;
            if (!dup) grid[ng++] = st;
        }
    qsort(grid, ng, sizeof *grid, cmp_cost);
    double best_recall = -1;
    for (size_t g = 0; g < ng; g++) {
        double mean, se;
        AE_CHECK(measure(t, ix, &src, q, self, s, truth, nt, &grid[g], &mean, &se, err));
        if (mean > best_recall) {
            best_recall = mean;
            *out = (ae_index_tuned){true,           target,         mean,       AE_TABLE_TUNE_K,
                                    grid[g].nprobe, grid[g].refine, (uint32_t)s};
        }
        if (mean - 2 * se >= target) {
            *out = (ae_index_tuned){true,           target,         mean,       AE_TABLE_TUNE_K,
                                    grid[g].nprobe, grid[g].refine, (uint32_t)s};
            break;
        }
        if (grid[g].nprobe >= ae_ivfpq_nlist(ix) && grid[g].refine >= 4 * rf0) break;
    }
cleanup:
    free(q);
    free(self);
    free(truth);
    free(nt);
    return rc;
}
