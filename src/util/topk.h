/* Top-k selection shared by the VectorStore backends: keeps the best `limit`
 * hits by score descending, ties broken by symbol_id ascending, in
 * O(n log limit) with a bounded heap whose root is the current worst hit. */
#ifndef AE_UTIL_TOPK_H
#define AE_UTIL_TOPK_H

#include <aether/vector_store.h>
#include <stdbool.h>

typedef struct ae_topk {
    ae_vs_hit *items; /* heap while collecting, sorted after finish */
    size_t len, cap, limit;
} ae_topk;

/* Negative when a ranks before b (higher score, then smaller symbol_id). */
int ae_vs_hit_cmp(const ae_vs_hit *a, const ae_vs_hit *b);

/* No allocation happens until the first push; limit 0 keeps nothing. */
void ae_topk_init(ae_topk *t, size_t limit);
/* Would a hit with this score and id be kept?  Cheap pre-check before copying. */
bool ae_topk_would_keep(const ae_topk *t, float score, const char *symbol_id);
/* Offers a hit; symbol_id is copied (at most AE_SYMBOL_ID_MAX bytes).
 * 0 or AE_ENOMEM. */
int ae_topk_push(ae_topk *t, const char *symbol_id, float score, ae_error *err);
/* Sorts best first and hands the array to the caller (free()); *hits is NULL
 * when nothing was kept.  t is reset. */
void ae_topk_finish(ae_topk *t, ae_vs_hit **hits, size_t *n_hits);
void ae_topk_free(ae_topk *t);

#endif
