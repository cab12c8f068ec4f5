/* Exact search and iteration over a table snapshot.
 *
 * 1. Cosine = dot(q, v) * inv_norm(v) * inv_norm(q): the row norms were stored
 *    in the fragment at write time, so a scan is one SIMD dot per row
 *    (ae_dot_many_f32 over blocks of contiguous, mmapped rows).
 * 2. Deleted rows are skipped through the snapshot's bitmap; ties are broken
 *    by symbol_id through the shared top-k (util/topk.h), so results match
 *    the SQLite backend's order exactly.
 * 3. A row's symbol_id is only read when its score can enter the top-k. */
#include "vectors/table_internal.h"

#include "index/distance.h"
#include "util/topk.h"
#include "util/err.h"
#include "util/mem.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK_ROWS = 2048 };

/* Checks the query; *qinv = 1 / |query| (0 for the zero vector). */
static int query_check(const ae_table *t, const float *query, uint32_t dim, double *qinv,
                       ae_error *err)
{
    AE_RETURN_IF(!query, err, AE_EINVAL, "no query vector");
    AE_RETURN_IF(dim != t->dim, err, AE_EINVAL,
                 "vector table %s: expected %" PRIu32 " dimensions, not %" PRIu32, t->name, t->dim,
                 dim);
    double qq = 0;
    for (uint32_t d = 0; d < dim; d++) {
        AE_RETURN_IF(!isfinite(query[d]), err, AE_EINVAL,
                     "query: non-finite value at dimension %" PRIu32, d);
        qq += (double)query[d] * query[d];
    }
    *qinv = qq > 0 ? 1.0 / sqrt(qq) : 0.0;
    return 0;
}

int ae_table_search(ae_table *t, const float *query, uint32_t dim, size_t k, ae_vs_hit **hits,
                    size_t *n_hits, ae_error *err)
{
    *hits = NULL;
    *n_hits = 0;
    double qinv;
    AE_TRY(query_check(t, query, dim, &qinv, err));
    if (k == 0 || t->snap->rows_live == 0) return 0;
    float *scores = malloc(BLOCK_ROWS * sizeof *scores);
    if (!scores) return ae_fail(err, AE_ENOMEM, "out of memory");
    ae_topk top;
    ae_topk_init(&top, k);
    int rc = 0;
    char id[AE_SYMBOL_ID_MAX + 1];
    const snapshot *s = t->snap;
    for (size_t f = 0; f < s->m.n_fragments; f++) {
        const snap_frag *sf = &s->frags[f];
        const float *vecs = ae_fragment_vectors(sf->frag);
        const float *inv = ae_fragment_inv_norms(sf->frag);
        /* a fragment not in the page cache is read ahead for the scan, then
         * goes back to random advice (fragment.h) */
        bool cold = !ae_fragment_row_resident(sf->frag, 0);
        if (cold) ae_fragment_advise(sf->frag, true);
        for (size_t b = 0; b < sf->rows; b += BLOCK_ROWS) {
            size_t cnt = sf->rows - b < BLOCK_ROWS ? sf->rows - b : BLOCK_ROWS;
            ae_dot_many_f32(query, vecs + b * dim, cnt, dim, scores);
            for (size_t i = 0; i < cnt; i++) {
                size_t row = b + i;
                if (snap_row_deleted(sf, row)) continue;
                float score = (float)((double)scores[i] * inv[row] * qinv);
                if (top.len == top.limit && score < top.items[0].score) continue;
                const char *s_id;
                size_t len;
                rc = ae_fragment_symbol_id(sf->frag, row, &s_id, &len);
                if (rc < 0) {
                    ae_fail(err, rc, "%s: bad symbol_id at row %zu", s->m.fragments[f].data.file,
                            row);
                    goto cleanup;
                }
                if (len > AE_SYMBOL_ID_MAX) len = AE_SYMBOL_ID_MAX;
                memcpy(id, s_id, len);
                id[len] = '\0';
                if (!ae_topk_would_keep(&top, score, id)) continue;
                AE_CHECK(ae_topk_push(&top, id, score, err));
            }
        }
        if (cold) ae_fragment_advise(sf->frag, false);
    }
    ae_topk_finish(&top, hits, n_hits);
cleanup:
    ae_topk_free(&top);
    free(scores);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int ae_table_ensure_ids(ae_table *t, ae_error *err)
{
    return table_ensure_ids(t, err);
}

bool ae_table_ids_ready(const ae_table *t)
{
    return t->ids_valid;
}

int ae_table_rows_for_ids(ae_table *t, const char *const *ids, size_t n, uint64_t **rows,
                          size_t *n_rows, ae_error *err)
{
    *rows = NULL;
    *n_rows = 0;
    AE_TRY(table_ensure_ids(t, err));
    uint64_t *out = ae_calloc_array(n ? n : 1, sizeof *out);
    if (!out) return ae_fail(err, AE_ENOMEM, "out of memory for %zu allowed rows", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t f, r;
        int rc = idmap_find(&t->ids, t->snap, ids[i], strlen(ids[i]), &f, &r);
        if (rc < 0) {
            free(out);
            return ae_fail(err, rc, "vector table %s: bad symbol_id column", t->name);
        }
        if (rc == 1) out[m++] = t->snap->frags[f].base + r;
    }
    qsort(out, m, sizeof *out, cmp_u64);
    *rows = out;
    *n_rows = m;
    return 0;
}

int ae_table_search_rows(ae_table *t, const float *query, uint32_t dim, size_t k,
                         const uint64_t *rows, size_t n_rows, ae_vs_hit **hits, size_t *n_hits,
                         ae_error *err)
{
    *hits = NULL;
    *n_hits = 0;
    double qinv;
    AE_TRY(query_check(t, query, dim, &qinv, err));
    if (k == 0 || n_rows == 0) return 0;
    ae_topk top;
    ae_topk_init(&top, k);
    int rc = 0;
    char id[AE_SYMBOL_ID_MAX + 1];
    const snapshot *s = t->snap;
    size_t f = 0;
    for (size_t i = 0; i < n_rows; i++) {
        while (f < s->m.n_fragments && rows[i] >= s->frags[f].base + s->frags[f].rows)
            f++;
        if (f == s->m.n_fragments) break; /* rows ascending: none further */
        const snap_frag *sf = &s->frags[f];
        size_t row = (size_t)(rows[i] - sf->base);
        if (snap_row_deleted(sf, row)) continue;
        float dot;
        ae_dot_many_f32(query, ae_fragment_vectors(sf->frag) + row * dim, 1, dim, &dot);
        float score = (float)((double)dot * ae_fragment_inv_norms(sf->frag)[row] * qinv);
        if (top.len == top.limit && score < top.items[0].score) continue;
        const char *s_id;
        size_t len;
        rc = ae_fragment_symbol_id(sf->frag, row, &s_id, &len);
        if (rc < 0) {
            ae_fail(err, rc, "%s: bad symbol_id at row %zu", s->m.fragments[f].data.file, row);
            goto cleanup;
        }
        if (len > AE_SYMBOL_ID_MAX) len = AE_SYMBOL_ID_MAX;
        memcpy(id, s_id, len);
        id[len] = '\0';
        if (!ae_topk_would_keep(&top, score, id)) continue;
        AE_CHECK(ae_topk_push(&top, id, score, err));
    }
    ae_topk_finish(&top, hits, n_hits);
cleanup:
    ae_topk_free(&top);
    return rc;
}

static int copy_str(int (*get)(const ae_fragment *, size_t, const char **, size_t *),
                    const ae_fragment *f, size_t row, ae_buf *b)
{
    const char *s;
    size_t len;
    int rc = get(f, row, &s, &len);
    if (rc < 0) return rc;
    b->len = 0;
    return ae_buf_append(b, s, len) < 0 ? AE_ENOMEM : ae_buf_append(b, "", 0);
}

int ae_table_iterate(ae_table *t, ae_vs_row_fn fn, void *ctx, ae_error *err)
{
    ae_buf id = {0}, hash = {0}, prov = {0}, model = {0};
    int rc = 0;
    const snapshot *s = t->snap;
    snapshot_advise(s, 0, true);
    for (size_t f = 0; f < s->m.n_fragments && rc == 0; f++) {
        const snap_frag *sf = &s->frags[f];
        const float *vecs = ae_fragment_vectors(sf->frag);
        for (size_t r = 0; r < sf->rows; r++) {
            if (snap_row_deleted(sf, r)) continue;
            if ((rc = copy_str(ae_fragment_symbol_id, sf->frag, r, &id)) < 0 ||
                (rc = copy_str(ae_fragment_sir_hash, sf->frag, r, &hash)) < 0 ||
                (rc = copy_str(ae_fragment_provider, sf->frag, r, &prov)) < 0 ||
                (rc = copy_str(ae_fragment_model, sf->frag, r, &model)) < 0) {
                ae_fail(err, rc, "%s: bad string column at row %zu", s->m.fragments[f].data.file,
                        r);
                break;
            }
            ae_vs_record rec = {id.data,
                                hash.data,
                                prov.data,
                                model.data,
                                vecs + r * t->dim,
                                t->dim,
                                ae_fragment_updated_at(sf->frag, r)};
            rc = fn(&rec, ctx);
            if (rc) break;
        }
    }
    if (t->snap == s) snapshot_advise(s, 0, false); /* fn may not write, but be safe */
    ae_buf_free(&id);
    ae_buf_free(&hash);
    ae_buf_free(&prov);
    ae_buf_free(&model);
    return rc;
}
