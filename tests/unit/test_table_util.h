/* Shared helpers of the tests/unit/test_table_*.c programs (header-only). */
#ifndef AE_TEST_TABLE_UTIL_H
#define AE_TEST_TABLE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define _XOPEN_SOURCE_EXTENDED 1
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aether/vector_store.h"
#include "store/table_index_policy.h"
#include "vectors/table.h"

static int tt_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static inline void tt_rmrf(const char *dir)
{
    nftw(dir, tt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *tt_tmpdir(void)
{
    char tmpl[] = "/tmp/ae-table-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

/* Deterministic pseudo-random vector for (seed, i). */
static inline void tt_vec(uint32_t seed, size_t i, float *v, uint32_t dim)
{
    uint64_t x = (uint64_t)seed * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull + 1;
    for (uint32_t d = 0; d < dim; d++) {
        x ^= x >> 31;
        x *= 0x94d049bb133111ebull;
        x ^= x >> 29;
        v[d] = (float)((double)(x >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
    }
}

typedef struct tt_batch {
    ae_vs_record *recs;
    char (*ids)[65];
    char (*hashes)[65];
    float *emb;
    size_t n;
} tt_batch;

/* n records "sym-<first+i>" with vectors tt_vec(seed, first+i). */
static inline tt_batch tt_make(const char *provider, const char *model, uint32_t dim, size_t first,
                               size_t n, uint32_t seed)
{
    tt_batch b = {0};
    b.n = n;
    b.recs = calloc(n + 1, sizeof *b.recs);
    b.ids = calloc(n + 1, sizeof *b.ids);
    b.hashes = calloc(n + 1, sizeof *b.hashes);
    b.emb = calloc((n + 1) * dim, sizeof(float));
    for (size_t i = 0; i < n; i++) {
        snprintf(b.ids[i], 65, "sym-%06zu", first + i);
        snprintf(b.hashes[i], 65, "hash-%u-%zu", seed, first + i);
        tt_vec(seed, first + i, b.emb + i * dim, dim);
        b.recs[i] = (ae_vs_record){b.ids[i],        b.hashes[i], provider,         model,
                                   b.emb + i * dim, dim,         1000 + (int64_t)i};
    }
    return b;
}

static inline void tt_free(tt_batch *b)
{
    free(b->recs);
    free(b->ids);
    free(b->hashes);
    free(b->emb);
    memset(b, 0, sizeof *b);
}

static inline double tt_cos(const float *a, const float *b, uint32_t dim)
{
    double ab = 0, aa = 0, bb = 0;
    for (uint32_t d = 0; d < dim; d++) {
        ab += (double)a[d] * b[d];
        aa += (double)a[d] * a[d];
        bb += (double)b[d] * b[d];
    }
    return aa == 0 || bb == 0 ? 0 : ab / sqrt(aa * bb);
}

#define TT_OK(expr)                                                                                \
    do {                                                                                           \
        ae_error_clear(&err);                                                                      \
        int tt_rc_ = (expr);                                                                       \
        if (tt_rc_ != 0) fail_msg("%s -> %d: %s", #expr, tt_rc_, err.message);                     \
    } while (0)

/* `batches` batches of `per` rows (tt_make with `seed`, ids from 0) upserted
 * into vs, then every table's index built. */
static inline void tt_fill_indexed(ae_vector_store *vs, const char *provider, const char *model,
                                   uint32_t dim, int batches, size_t per, uint32_t seed)
{
    ae_error err;
    for (int b = 0; b < batches; b++) {
        tt_batch x = tt_make(provider, model, dim, (size_t)b * per, per, seed);
        TT_OK(ae_vs_upsert(vs, x.recs, x.n, &err));
        tt_free(&x);
    }
    TT_OK(ae_tables_build_indexes(vs, true, &err));
}

/* A search without nprobe / refine answers what one at the recorded setting
 * (nprobe, refine) answers: the symbol ids of the top 10, in order. */
static inline void tt_assert_default_is(ae_vector_store *vs, const char *provider,
                                        const char *model, const float *q, uint32_t dim,
                                        uint32_t nprobe, uint32_t refine)
{
    ae_error err;
    ae_vs_hit *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    ae_vs_search_opts dflt = {0}, expl = {.nprobe = (int)nprobe, .refine_factor = (int)refine};
    TT_OK(ae_vs_search(vs, q, dim, provider, model, 10, &dflt, &a, &na, &err));
    TT_OK(ae_vs_search(vs, q, dim, provider, model, 10, &expl, &b, &nb, &err));
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i].symbol_id, b[i].symbol_id);
    free(a);
    free(b);
}

#endif
