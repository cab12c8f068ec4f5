/* Record and query validation shared by the VectorStore backends.
 *
 * 1. The whole batch is checked before a backend writes anything, which is
 *    what makes "one atomic batch" cheap to honour.
 * 2. Messages name the row, the dimension and a prefix of the symbol_id, since
 *    the caller usually has thousands of rows in flight. */
#include "vectors/vs_validate.h"

#include "util/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Whether any of the BLOCK values at v is NaN or infinite (exponent all
 * ones); a constant trip count, so the compiler vectorizes it at -O2. */
enum { BLOCK = 64 };
static bool block_bad(const float *v)
{
    uint32_t bad = 0;
    for (int j = 0; j < BLOCK; j++) {
        uint32_t bits;
        memcpy(&bits, &v[j], sizeof bits);
        bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return bad != 0;
}

uint32_t ae_vec_first_nonfinite(const float *v, uint32_t dim)
{
    uint32_t at = 0;
    for (; at + BLOCK <= dim; at += BLOCK)
        if (block_bad(v + at)) break;
    for (uint32_t j = at; j < dim; j++)
        if (!isfinite(v[j])) return j;
    return dim;
}

double ae_vec_sumsq(const float *v, uint32_t dim)
{
    /* two vectors of four doubles: SSE2 or AVX, whatever the target has */
    typedef float v4f __attribute__((vector_size(16)));
    typedef double v4d __attribute__((vector_size(32)));
    v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
    uint32_t j = 0;
    for (; j + 8 <= dim; j += 8) {
        v4f x0, x1;
        memcpy(&x0, v + j, sizeof x0);
        memcpy(&x1, v + j + 4, sizeof x1);
        v4d d0 = __builtin_convertvector(x0, v4d), d1 = __builtin_convertvector(x1, v4d);
        a0 += d0 * d0;
        a1 += d1 * d1;
    }
    v4d a = a0 + a1;
    double s = (a[0] + a[1]) + (a[2] + a[3]);
    for (; j < dim; j++)
        s += (double)v[j] * v[j];
    return s;
}

static int check_vector(const float *v, uint32_t dim, ae_error *err, const char *what, size_t row,
                        const char *symbol_id)
{
    uint32_t j = ae_vec_first_nonfinite(v, dim);
    if (j < dim) {
        const char *kind = isnan(v[j]) ? "NaN" : "infinity";
        if (symbol_id)
            return ae_fail(err, AE_EINVAL, "%s at dimension %u of %s %zu (symbol_id %.12s%s)", kind,
                           j, what, row, symbol_id, strlen(symbol_id) > 12 ? "..." : "");
        return ae_fail(err, AE_EINVAL, "%s at dimension %u of the %s", kind, j, what);
    }
    return 0;
}

static int missing(const char *s)
{
    return !s || !*s;
}

int ae_vs_validate_records(const ae_vs_record *recs, size_t n, ae_error *err)
{
    AE_RETURN_IF(n && !recs, err, AE_EINVAL, "%zu records passed as NULL", n);
    for (size_t i = 0; i < n; i++) {
        const ae_vs_record *r = &recs[i];
        AE_RETURN_IF(missing(r->symbol_id), err, AE_EINVAL, "empty symbol_id in row %zu", i);
        size_t idlen = strnlen(r->symbol_id, AE_SYMBOL_ID_MAX + 1);
        AE_RETURN_IF(idlen > AE_SYMBOL_ID_MAX, err, AE_EINVAL,
                     "symbol_id of row %zu is longer than %d bytes (%.12s...)", i, AE_SYMBOL_ID_MAX,
                     r->symbol_id);
        AE_RETURN_IF(missing(r->sir_hash), err, AE_EINVAL,
                     "missing sir_hash in row %zu (symbol_id %s)", i, r->symbol_id);
        AE_RETURN_IF(missing(r->provider), err, AE_EINVAL,
                     "missing provider in row %zu (symbol_id %s)", i, r->symbol_id);
        AE_RETURN_IF(missing(r->model), err, AE_EINVAL, "missing model in row %zu (symbol_id %s)",
                     i, r->symbol_id);
        AE_RETURN_IF(r->dim == 0 || r->dim > AE_MAX_DIM, err, AE_EINVAL,
                     "dimension %u of row %zu (symbol_id %s) is outside 1..%d", r->dim, i,
                     r->symbol_id, AE_MAX_DIM);
        AE_RETURN_IF(!r->embedding, err, AE_EINVAL, "missing embedding in row %zu (symbol_id %s)",
                     i, r->symbol_id);
        AE_RETURN_IF(r->updated_at < 0, err, AE_EINVAL,
                     "negative updated_at %lld in row %zu (symbol_id %s)", (long long)r->updated_at,
                     i, r->symbol_id);
        AE_TRY(check_vector(r->embedding, r->dim, err, "row", i, r->symbol_id));
    }
    return 0;
}

int ae_vs_validate_query(const float *query, uint32_t dim, const char *provider, const char *model,
                         ae_error *err)
{
    AE_RETURN_IF(!query, err, AE_EINVAL, "query vector is NULL");
    AE_RETURN_IF(dim == 0 || dim > AE_MAX_DIM, err, AE_EINVAL,
                 "query dimension %u is outside 1..%d", dim, AE_MAX_DIM);
    AE_RETURN_IF(missing(provider) || missing(model), err, AE_EINVAL,
                 "search needs a provider and a model");
    return check_vector(query, dim, err, "query vector", 0, NULL);
}

static int cmp_id(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

bool ae_vs_opts_allows(const ae_vs_search_opts *opts, const char *id)
{
    if (!opts || !opts->allow_ids) return true;
    return bsearch(id, opts->allow_ids, opts->n_allow, sizeof *opts->allow_ids, cmp_id) != NULL;
}

int ae_vs_validate_allow(const ae_vs_search_opts *opts, ae_error *err)
{
    if (!opts || !opts->allow_ids) return 0;
    for (size_t i = 0; i < opts->n_allow; i++) {
        AE_RETURN_IF(!opts->allow_ids[i], err, AE_EINVAL, "filter: allowed id %zu is NULL", i);
        AE_RETURN_IF(i > 0 && strcmp(opts->allow_ids[i - 1], opts->allow_ids[i]) >= 0, err,
                     AE_EINVAL, "filter: allowed ids not sorted and unique at %zu (%s after %s)", i,
                     opts->allow_ids[i], opts->allow_ids[i - 1]);
    }
    return 0;
}
