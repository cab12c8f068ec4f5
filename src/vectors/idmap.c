/* symbol_id -> (fragment, row) for the live rows of a snapshot.
 *
 * 1. Keys are not copied: a slot holds the 64-bit hash and the position, and
 *    a lookup compares the id stored in the (mmapped) fragment, so 1M rows
 *    cost 16 MiB at load factor 1/2 + headroom.
 * 2. Linear probing with backward-shift deletion: no tombstones, so a long
 *    run of upserts never degrades lookups.
 * 3. Built lazily (only writers need it) and updated in place by commits that
 *    only append fragments; compaction rebuilds it. */
#include "vectors/table_internal.h"

#include "util/err.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

uint64_t idmap_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void idmap_free(idmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int resize(idmap *m, size_t cap)
{
    idmap_slot *slots = ae_calloc_array(cap, sizeof *slots);
    if (!slots) return AE_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        slots[i].frag = EMPTY;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].frag == EMPTY) continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].frag != EMPTY)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

static int key_equal(const snapshot *s, const idmap_slot *sl, const char *id, size_t len)
{
    const char *k;
    size_t kl;
    if (ae_fragment_symbol_id(s->frags[sl->frag].frag, sl->row, &k, &kl) < 0) return 0;
    return kl == len && !memcmp(k, id, len);
}

int idmap_find(const idmap *m, const snapshot *s, const char *id, size_t len, uint32_t *frag,
               uint32_t *row)
{
    if (!m->cap) return 0;
    uint64_t h = idmap_hash(id, len);
    for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        const idmap_slot *sl = &m->slots[j];
        if (sl->frag == EMPTY) return 0;
        if (sl->hash == h && key_equal(s, sl, id, len)) {
            *frag = sl->frag;
            *row = sl->row;
            return 1;
        }
    }
}

int idmap_insert(idmap *m, const char *id, size_t len, uint32_t frag, uint32_t row)
{
    if ((m->len + 1) * 2 > m->cap && resize(m, m->cap ? m->cap * 2 : 64) < 0) return AE_ENOMEM;
    uint64_t h = idmap_hash(id, len);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].frag != EMPTY)
        j = (j + 1) & (m->cap - 1);
    m->slots[j] = (idmap_slot){h, frag, row};
    m->len++;
    return 0;
}

void idmap_remove(idmap *m, uint32_t frag, uint32_t row, const char *id, size_t len)
{
    if (!m->cap) return;
    size_t mask = m->cap - 1;
    size_t j = idmap_hash(id, len) & mask;
    for (;; j = (j + 1) & mask) {
        if (m->slots[j].frag == EMPTY) return;
        if (m->slots[j].frag == frag && m->slots[j].row == row) break;
    }
    /* backward shift: pull later members of the probe run into the hole */
    size_t hole = j;
    for (size_t k = (hole + 1) & mask; m->slots[k].frag != EMPTY; k = (k + 1) & mask) {
        size_t home = m->slots[k].hash & mask;
        /* move k into hole unless its home lies cyclically in (hole, k] */
        bool stays = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
        if (stays) continue;
        m->slots[hole] = m->slots[k];
        hole = k;
    }
    m->slots[hole].frag = EMPTY;
    m->len--;
}

static int idmap_fill(idmap *m, const snapshot *s, ae_error *err);

int idmap_build(idmap *m, const snapshot *s, ae_error *err)
{
    idmap_free(m);
    size_t cap = 64;
    while (cap < s->rows_live * 2 + 2)
        cap *= 2;
    if (resize(m, cap) < 0)
        return ae_fail(err, AE_ENOMEM, "out of memory for %zu ids", s->rows_live);
    snapshot_advise(s, 0, true); /* reads every symbol_id */
    int rc = idmap_fill(m, s, err);
    snapshot_advise(s, 0, false);
    return rc;
}

static int idmap_fill(idmap *m, const snapshot *s, ae_error *err)
{
    for (size_t f = 0; f < s->m.n_fragments; f++) {
        const snap_frag *sf = &s->frags[f];
        for (size_t r = 0; r < sf->rows; r++) {
            if (snap_row_deleted(sf, r)) continue;
            const char *id;
            size_t len;
            int rc = ae_fragment_symbol_id(sf->frag, r, &id, &len);
            if (rc < 0)
                return ae_fail(err, rc, "%s: bad symbol_id at row %zu", s->m.fragments[f].data.file,
                               r);
            uint32_t of, orow;
            if (idmap_find(m, s, id, len, &of, &orow)) {
                /* an id live twice cannot come from our commits; keep the newest */
                idmap_remove(m, of, orow, id, len);
            }
            if (idmap_insert(m, id, len, (uint32_t)f, (uint32_t)r) < 0)
                return ae_fail(err, AE_ENOMEM, "out of memory for %zu ids", s->rows_live);
        }
    }
    return 0;
}
