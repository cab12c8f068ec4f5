/* The one bounded-heap implementation, for any element type: the heap's root
 * is the worst element kept, so a new candidate costs one comparison unless it
 * beats the root.  Instantiated per type with a static `worse(a, b)` (a ranks
 * below b), so the comparison inlines: the IVF-PQ candidate heap is on the
 * query's hot path (index/search.c), the VectorStore top-k keeps hits by score
 * then symbol_id (store/topk.c).
 *
 *   AE_HEAP_DEFINE(cands, cand, worse)
 *     static void cands_sift_up(cand *h, size_t i);            after h[i] was set
 *     static void cands_sift_down(cand *h, size_t n, size_t i); after h[i] got worse
 */
#ifndef AE_UTIL_HEAP_H
#define AE_UTIL_HEAP_H

#include <stddef.h>

#define AE_HEAP_DEFINE(prefix, type, worse)                                                        \
    static inline void prefix##_sift_up(type *h, size_t i)                                         \
    {                                                                                              \
        while (i > 0) {                                                                            \
            size_t p = (i - 1) / 2;                                                                \
            if (!worse(&h[i], &h[p])) break;                                                       \
            type t_ = h[i];                                                                        \
            h[i] = h[p];                                                                           \
            h[p] = t_;                                                                             \
            i = p;                                                                                 \
        }                                                                                          \
    }                                                                                              \
    static inline void prefix##_sift_down(type *h, size_t n, size_t i)                             \
    {                                                                                              \
        for (;;) {                                                                                 \
            size_t l = 2 * i + 1, r = l + 1, w = i;                                                \
            if (l < n && worse(&h[l], &h[w])) w = l;                                               \
            if (r < n && worse(&h[r], &h[w])) w = r;                                               \
            if (w == i) return;                                                                    \
            type t_ = h[i];                                                                        \
            h[i] = h[w];                                                                           \
            h[w] = t_;                                                                             \
            i = w;                                                                                 \
        }                                                                                          \
    }

#endif
