/* Input checks every VectorStore backend runs before writing or searching, so
 * both backends reject the same inputs with the same messages. */
#ifndef AE_VECTORS_VS_VALIDATE_H
#define AE_VECTORS_VS_VALIDATE_H

#include <aether/vector_store.h>
#include <stdbool.h>

/* Every record, before anything is written: symbol_id non-empty and at most
 * AE_SYMBOL_ID_MAX bytes; sir_hash, provider, model present and non-empty;
 * dim in 1..AE_MAX_DIM; every component finite.  AE_EINVAL naming the row
 * ("NaN at dimension 17 of row 4021 (symbol_id abc...)"). */
int ae_vs_validate_records(const ae_vs_record *recs, size_t n, ae_error *err);

/* A query vector: present, dim in 1..AE_MAX_DIM, finite; provider and model
 * present. */
int ae_vs_validate_query(const float *query, uint32_t dim, const char *provider, const char *model,
                         ae_error *err);

/* The first dimension of v holding a NaN or an infinity, or dim when all are
 * finite.  Branch-free over blocks of the vector (the common case is a clean
 * row), so the ingest path's checks cost little next to the write. */
uint32_t ae_vec_first_nonfinite(const float *v, uint32_t dim);
/* Sum of squares of v in double, over eight partial sums in vectors (the
 * order differs from a left-to-right sum by rounding only: readers compare
 * stored norms with a tolerance, ae_fragment_verify 1e-5). */
double ae_vec_sumsq(const float *v, uint32_t dim);

/* true when opts has no filter or id is in its allowed set (bsearch). */
bool ae_vs_opts_allows(const ae_vs_search_opts *opts, const char *id);
/* AE_EINVAL unless the allowed set is sorted and free of NULLs. */
int ae_vs_validate_allow(const ae_vs_search_opts *opts, ae_error *err);

#endif
