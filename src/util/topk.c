/* Bounded top-k heap (util/heap.h).
 *
 * 1. The heap is ordered so its root is the worst kept hit; a new hit only
 *    costs a comparison unless it beats the root.
 * 2. Scores compare as floats; NaN never arrives (inputs are validated), but
 *    if it did it would rank last rather than poison the heap order.
 * 3. Storage grows geometrically up to `limit`, so a huge limit with few rows
 *    allocates only what is used. */
#include "util/topk.h"

#include "util/err.h"
#include "util/heap.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_raw(float sa, const char *ida, float sb, const char *idb)
{
    int na = isnan(sa), nb = isnan(sb);
    if (na != nb) return na ? 1 : -1;
    if (!na && sa != sb) return sa > sb ? -1 : 1;
    return strncmp(ida, idb, AE_SYMBOL_ID_MAX);
}

int ae_vs_hit_cmp(const ae_vs_hit *a, const ae_vs_hit *b)
{
    return cmp_raw(a->score, a->symbol_id, b->score, b->symbol_id);
}

static int qsort_cmp(const void *a, const void *b)
{
    return ae_vs_hit_cmp(a, b);
}

void ae_topk_init(ae_topk *t, size_t limit)
{
    memset(t, 0, sizeof *t);
    t->limit = limit;
}

/* heap order: parent ranks *after* (is worse than) its children */
static bool worse(const ae_vs_hit *a, const ae_vs_hit *b)
{
    return ae_vs_hit_cmp(a, b) > 0;
}

AE_HEAP_DEFINE(hits, ae_vs_hit, worse)

bool ae_topk_would_keep(const ae_topk *t, float score, const char *symbol_id)
{
    if (t->limit == 0) return false;
    if (t->len < t->limit) return true;
    return cmp_raw(score, symbol_id, t->items[0].score, t->items[0].symbol_id) < 0;
}

static void set_hit(ae_vs_hit *h, const char *symbol_id, float score)
{
    size_t n = strnlen(symbol_id, AE_SYMBOL_ID_MAX);
    memcpy(h->symbol_id, symbol_id, n);
    h->symbol_id[n] = '\0';
    h->score = score;
}

int ae_topk_push(ae_topk *t, const char *symbol_id, float score, ae_error *err)
{
    if (!ae_topk_would_keep(t, score, symbol_id)) return 0;
    if (t->len < t->limit) {
        if (t->len == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 16;
            if (cap > t->limit) cap = t->limit;
            ae_vs_hit *p = ae_realloc_array(t->items, cap, sizeof *p);
            AE_RETURN_IF(!p, err, AE_ENOMEM, "out of memory keeping %zu search hits", cap);
            t->items = p;
            t->cap = cap;
        }
        set_hit(&t->items[t->len], symbol_id, score);
        hits_sift_up(t->items, t->len++);
        return 0;
    }
    set_hit(&t->items[0], symbol_id, score);
    hits_sift_down(t->items, t->len, 0);
    return 0;
}

void ae_topk_finish(ae_topk *t, ae_vs_hit **hits, size_t *n_hits)
{
    if (t->len > 1) qsort(t->items, t->len, sizeof *t->items, qsort_cmp);
    if (t->len == 0) {
        free(t->items);
        t->items = NULL;
    }
    *hits = t->items;
    *n_hits = t->len;
    ae_topk_init(t, t->limit);
}

void ae_topk_free(ae_topk *t)
{
    free(t->items);
    ae_topk_init(t, t->limit);
}
