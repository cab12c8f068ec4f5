/* The IVF-PQ defaults that depend on the vectors' dimension, as a table.
 *
 * 1. One row per range of dimensions (the first row whose max_dim >= dim):
 *    the code granularity (dims per sub-quantiser; m = dim / dsub) and the
 *    default re-rank depth (refine_factor) that goes with it.  nprobe and
 *    nlist do not depend on dim (AE_IVFPQ_DEFAULT_NPROBE, sqrt(rows) lists)
 *    and the build's recall measurement (store/table_tune.c) raises nprobe /
 *    refine from these defaults when a table needs more, so the rows here
 *    are floors: the cheapest setting that holds at 1M rows.
 * 2. Each row was measured (docs/BENCHMARKS.md, "The curve to 10M rows at
 *    dim 128", 1M x 128 bare index, nlist 1000, 1,000 queries):
 *      dim <= 128, dsub 4 (m = 32 at 128): refine 20 gives recall@10 0.964 at
 *        nprobe 24 (refine 200: 0.965, the same), 0.21 ms; the former dsub 8
 *        (m = 16) gave 0.922 at refine 20 and needed refine 200 (0.965, 0.82
 *        ms: 2,000 re-ranked rows, 11 ms at 10M).  Twice the code bytes per
 *        row (32 MB per 1M rows) for a tenth of the re-rank.
 *      dim < 256, dsub 8, refine 200: the earlier rule for small vectors
 *        (60K x 64 clustered, tests/unit/test_table_ivf.c), kept above 128.
 *      dim >= 256, dsub 8, refine 20: 1M x 768 (m = 96) gives 0.967 at
 *        nprobe 24 (docs/BENCHMARKS.md "IVF-PQ vs exact vs LanceDB") and the
 *        held-back 384 / 768 / 1024-dim sets hold >= 0.96 (bench/recall/).
 *    Rejected: dsub 2 at dim 128 (m = 64): the scan costs twice dsub 4's per
 *    vector for re-rank depth that dsub 4 already made cheap. */
#include "index/ivfpq.h"

#include <stdint.h>

static const ae_ivfpq_dim_default dim_defaults[] = {
    {128, 4, 20},
    {AE_IVFPQ_SMALL_DIM - 1, AE_IVFPQ_DEFAULT_DSUB, AE_IVFPQ_DEFAULT_REFINE_COARSE},
    {UINT32_MAX, AE_IVFPQ_DEFAULT_DSUB, AE_IVFPQ_DEFAULT_REFINE},
};

const ae_ivfpq_dim_default *ae_ivfpq_dim_defaults(uint32_t dim)
{
    size_t i = 0;
    while (dim_defaults[i].max_dim < dim)
        i++;
    return &dim_defaults[i];
}

uint32_t ae_ivfpq_default_refine(uint32_t dim)
{
    return ae_ivfpq_dim_defaults(dim)->refine;
}

uint32_t ae_ivfpq_default_refine_m(uint32_t dim, uint32_t m)
{
    const ae_ivfpq_dim_default *d = ae_ivfpq_dim_defaults(dim);
    if (m && dim / m <= d->dsub) return d->refine;
    return dim < AE_IVFPQ_SMALL_DIM ? AE_IVFPQ_DEFAULT_REFINE_COARSE : AE_IVFPQ_DEFAULT_REFINE;
}
