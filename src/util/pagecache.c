/* Page-cache hints (pagecache.h).  Every call is advice: a failure changes
 * only how fast the next access is, never what it reads.
 *
 * MADV_WILLNEED reads at most the device's read-ahead window per call on
 * Linux (force_page_cache_ra), so long ranges are asked for in pieces. */
#include "util/pagecache.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define WILLNEED_PIECE ((size_t)2 << 20)

static uintptr_t page_mask(void)
{
    static uintptr_t mask;
    if (!mask) {
        long v = sysconf(_SC_PAGESIZE);
        mask = ~((uintptr_t)(v > 0 ? v : 4096) - 1);
    }
    return mask;
}

void ae_pc_advise(const void *map, size_t len, bool sequential)
{
    if (map && len) (void)madvise((void *)map, len, sequential ? MADV_SEQUENTIAL : MADV_RANDOM);
}

bool ae_pc_resident(const void *p)
{
    unsigned char v = 0;
    if (mincore((void *)((uintptr_t)p & page_mask()), 1, &v) != 0) return true;
    return (v & 1) != 0;
}

void ae_pc_willneed(const void *p, size_t len)
{
    if (!p || !len) return;
    uintptr_t a = (uintptr_t)p & page_mask(), e = (uintptr_t)p + len;
    while (a < e) {
        size_t n = e - a < WILLNEED_PIECE ? e - a : WILLNEED_PIECE;
        (void)madvise((void *)a, n, MADV_WILLNEED);
        a += n;
    }
}

void ae_pc_release(const void *p, size_t len)
{
    if (!p || !len) return;
    uintptr_t mask = page_mask(), a = ((uintptr_t)p + ~mask) & mask,
              e = ((uintptr_t)p + len) & mask;
    if (a < e) (void)madvise((void *)a, e - a, MADV_DONTNEED);
}
