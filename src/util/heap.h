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
 *
 * Where most candidates that arrive enter, a heap pays a sift of log2(k)
 * unpredictable branches for each; a pool pays one store, and a selection
 * each time it fills (index/search.c, note 6):
 *
 *   AE_SELECT_DEFINE(cands, cand, worse)
 *     static void cands_select(cand *a, size_t n, size_t k);      0 < k <= n
 *       rearranges a[0, n) so that a[k - 1] is its k-th best, with a[0, k - 1)
 *       ranking at or above it (in no order) and a[k, n) at or below: a
 *       quickselect (median-of-three pivot) whose partition has no branch
 *       that depends on the data, expected O(n) for distinct elements;
 *       elements equal under `worse` stay correct but cost up to O(n^2)
 *       (the IVF-PQ candidates are distinct: unique rows).
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

#define AE_SELECT_DEFINE(prefix, type, worse)                                                      \
    static inline void prefix##_swap(type *a, size_t i, size_t j)                                  \
    {                                                                                              \
        type t_ = a[i];                                                                            \
        a[i] = a[j];                                                                               \
        a[j] = t_;                                                                                 \
    }                                                                                              \
    static void prefix##_select(type *a, size_t n, size_t k)                                       \
    {                                                                                              \
        size_t lo = 0, end = n, want = k - 1; /* the range is a[lo, end) */                        \
        while (end - lo > 1) {                                                                     \
            size_t last = end - 1, mid = lo + (end - lo) / 2, m;                                   \
            /* the median of the first, middle and last, moved to the end */                       \
            if (worse(&a[lo], &a[mid]))                                                            \
                m = worse(&a[last], &a[lo]) ? lo : worse(&a[last], &a[mid]) ? last : mid;          \
            else                                                                                   \
                m = worse(&a[last], &a[mid]) ? mid : worse(&a[last], &a[lo]) ? last : lo;          \
            prefix##_swap(a, m, last);                                                             \
            type p = a[last];                                                                      \
            /* a[lo, s) rank above p, a[s, i) do not: every step swaps, and s moves                \
             * on by the comparison's value, so no branch depends on the data */                   \
            size_t s = lo;                                                                         \
            for (size_t i = lo; i < last; i++) {                                                   \
                type t_ = a[i];                                                                    \
                size_t up = worse(&p, &t_);                                                        \
                a[i] = a[s];                                                                       \
                a[s] = t_;                                                                         \
                s += up;                                                                           \
            }                                                                                      \
            prefix##_swap(a, s, last);                                                             \
            if (want == s) return;                                                                 \
            if (want < s)                                                                          \
                end = s;                                                                           \
            else                                                                                   \
                lo = s + 1;                                                                        \
        }                                                                                          \
    }

#endif
