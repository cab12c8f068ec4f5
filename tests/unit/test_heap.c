/* util/heap.h: the selection (AE_SELECT_DEFINE) against a full sort, on
 * inputs made to trip a quickselect: ties, all-equal keys, sorted and
 * reversed orders, k at both ends; and the bounded heap it stands beside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/heap.h"

typedef struct item {
    float score;
    uint32_t row;
} item;

/* a ranks below b: lower score, or equal score and higher row (a total order
 * when rows are unique, as for the IVF-PQ candidates) */
static bool worse(const item *a, const item *b)
{
    return a->score < b->score || (a->score == b->score && a->row > b->row);
}

AE_HEAP_DEFINE(items, item, worse)
AE_SELECT_DEFINE(items, item, worse)

/* scores only: many elements equal under the order */
typedef struct key {
    int v;
} key;

static bool key_worse(const key *a, const key *b)
{
    return a->v < b->v;
}

AE_SELECT_DEFINE(keys, key, key_worse)

static int cmp_best_first(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    return worse(b, a) ? -1 : worse(a, b) ? 1 : 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* a[0, k) must be the k best of the sorted copy, a[k - 1] the k-th exactly,
 * and a must still hold every element */
static void check_selected(const item *a, const item *sorted, size_t n, size_t k)
{
    assert_memory_equal(&a[k - 1], &sorted[k - 1], sizeof *a);
    item *front = malloc(k * sizeof *front), *all = malloc(n * sizeof *all);
    assert_non_null(front);
    assert_non_null(all);
    memcpy(front, a, k * sizeof *a);
    qsort(front, k, sizeof *front, cmp_best_first);
    assert_memory_equal(front, sorted, k * sizeof *a);
    memcpy(all, a, n * sizeof *a);
    qsort(all, n, sizeof *all, cmp_best_first);
    assert_memory_equal(all, sorted, n * sizeof *a);
    free(front);
    free(all);
}

enum { ORDER_RANDOM, ORDER_BEST_FIRST, ORDER_WORST_FIRST, ORDER_BOTH_ENDS, NORDERS };

static void fill(item *a, size_t n, int order, int distinct_scores)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (item){(float)(next_rand() % (uint32_t)distinct_scores), (uint32_t)i};
    if (order == ORDER_RANDOM) {
        for (size_t i = n; i > 1; i--) {
            size_t j = next_rand() % i;
            item t = a[i - 1];
            a[i - 1] = a[j];
            a[j] = t;
        }
        return;
    }
    qsort(a, n, sizeof *a, cmp_best_first);
    if (order == ORDER_WORST_FIRST)
        for (size_t i = 0; i < n / 2; i++) {
            item t = a[i];
            a[i] = a[n - 1 - i];
            a[n - 1 - i] = t;
        }
    if (order == ORDER_BOTH_ENDS) { /* best at both ends, worst in the middle */
        item *b = malloc(n * sizeof *b);
        assert_non_null(b);
        size_t lo = 0, hi = n;
        for (size_t i = 0; i < n; i++)
            b[i % 2 ? --hi : lo++] = a[i];
        memcpy(a, b, n * sizeof *a);
        free(b);
    }
}

static void test_select_matches_sort(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 16, 33, 64, 200, 432, 1000};
    static const int scores[] = {1, 2, 5, 1000000};
    size_t cases = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        item *a = malloc(n * sizeof *a), *sorted = malloc(n * sizeof *sorted);
        assert_non_null(a);
        assert_non_null(sorted);
        for (int order = 0; order < NORDERS; order++)
            for (size_t di = 0; di < sizeof scores / sizeof *scores; di++) {
                size_t ks[] = {1, 2, n / 2, n > 1 ? n - 1 : 1, n, 1 + next_rand() % n};
                for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                    size_t k = ks[ki] ? ks[ki] : 1;
                    if (k > n) k = n;
                    fill(a, n, order, scores[di]);
                    memcpy(sorted, a, n * sizeof *a);
                    qsort(sorted, n, sizeof *sorted, cmp_best_first);
                    items_select(a, n, k);
                    check_selected(a, sorted, n, k);
                    cases++;
                }
            }
        free(a);
        free(sorted);
    }
    assert_true(cases > 1000);
}

/* Keys equal under the order must neither stall it nor be lost. */
static void test_select_all_equal_and_few_keys(void **state)
{
    (void)state;
    enum { N = 500 };
    key a[N];
    for (int distinct = 1; distinct <= 3; distinct++)
        for (size_t k = 1; k <= N; k += 37) {
            int count[3] = {0};
            for (size_t i = 0; i < N; i++) {
                a[i].v = (int)(next_rand() % (uint32_t)distinct);
                count[a[i].v]++;
            }
            keys_select(a, N, k);
            for (size_t i = 0; i + 1 < k; i++)
                assert_false(key_worse(&a[i], &a[k - 1]));
            for (size_t i = k; i < N; i++)
                assert_false(key_worse(&a[k - 1], &a[i]));
            int after[3] = {0};
            for (size_t i = 0; i < N; i++)
                after[a[i].v]++;
            assert_memory_equal(count, after, sizeof count);
        }
}

/* The property the IVF-PQ pool rests on (index/search.c note 6): cutting a
 * pool of 2k to its k best whenever it fills, and skipping what ranks below
 * the last cut's k-th, keeps exactly the set a bounded heap of k keeps. */
static void test_pool_keeps_the_heaps_set(void **state)
{
    (void)state;
    enum { K = 50, N = 5000 };
    item heap[K], pool[2 * K], thr = {0};
    size_t nh = 0, np = 0;
    bool full = false;
    for (uint32_t i = 0; i < N; i++) {
        item c = {(float)(next_rand() % 300), i};
        if (nh < K) {
            heap[nh] = c;
            items_sift_up(heap, nh++);
        } else if (worse(&heap[0], &c)) {
            heap[0] = c;
            items_sift_down(heap, nh, 0);
        }
        if (full && !worse(&thr, &c)) continue;
        pool[np++] = c;
        if (np == 2 * K) {
            items_select(pool, np, K);
            np = K;
            thr = pool[K - 1];
            full = true;
        }
    }
    if (np > K) {
        items_select(pool, np, K);
        np = K;
    }
    assert_int_equal(np, nh);
    qsort(heap, nh, sizeof *heap, cmp_best_first);
    qsort(pool, np, sizeof *pool, cmp_best_first);
    assert_memory_equal(pool, heap, nh * sizeof *heap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_matches_sort),
        cmocka_unit_test(test_select_all_equal_and_few_keys),
        cmocka_unit_test(test_pool_keeps_the_heaps_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
