/* Training the learned embedder from the workspace's own symbols.
 *
 * The recipe (ppmi_trainer_finish):
 *   choose_vocab   tokens in >= min_df symbols, the max_vocab most frequent,
 *                  then sorted bytewise (the file's order); idf per token
 *   count_pairs    document-level co-occurrence: two tokens co-occur once per
 *                  symbol that has both (a symbol's tokens ranked by tf-idf,
 *                  the first max_doc_tokens kept), in a bounded pair table
 *   build_ppmi     PPMI with context-distribution smoothing, as a symmetric CSR
 *   ppmi_svd       top eigenpairs (ppmi_svd.c); token vector = U |lambda|^p
 *   common_dir     the symbols' dominant shared direction, removed at embed time
 *
 * What is unusual:
 * 1. Memory is bounded by parameters, not by the workspace: the pair table
 *    starts at 64K slots and doubles as needed up to pair_budget distinct
 *    pairs (a small workspace never pays for the budget); when it fills, the pairs seen
 *    least are dropped (a raised threshold, like a Misra-Gries sketch), so a
 *    huge workspace loses only its rarest pairs.  Documents keep only their
 *    distinct tokens with counts.  Budgets are in docs/PROVIDERS.md.
 * 2. Deterministic: every order is fixed (documents in the order given,
 *    vocabulary by (df desc, token), pairs visited in table order), the SVD
 *    uses a seeded test matrix, and float sums run in fixed order. */
#include "embed/ppmi_internal.h"

#include "embed/embed_tokens.h"
#include "util/blas.h"
#include "util/err.h"
#include "util/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TERMS_MAX       (1u << 22) /* distinct tokens interned; later new ones are ignored */
#define DOC_TOKENS_MAX  EMBED_DOC_TOKENS_MAX
#define DOC_ENTRIES_MAX (16u << 20) /* (token, tf) entries over all documents */

void ppmi_params_default(ppmi_params *p)
{
    *p = (ppmi_params){
        .dim = 256,
        .hashed = 64,
        .min_df = 2,
        .max_vocab = 32768,
        .max_doc_tokens = 64,
        .power_iters = 1,
        .seed = 0x5eed5eedULL,
        .cds = 0.75f,
        .eig_power = 0.5f,
        .shift = 1.0f,
        .hashed_weight = 0.5f,
        .remove_common = 0,
        .pair_budget = 8u << 20,
    };
}

typedef struct term {
    uint64_t h;
    uint32_t off, len;
    uint32_t df;
    int32_t vocab; /* index in the model, or -1 */
} term;

struct ppmi_trainer {
    ppmi_params p;
    /* interned tokens */
    term *terms;
    uint32_t n_terms, cap_terms;
    uint32_t *tslots; /* term index + 1 */
    uint32_t n_tslots;
    char *arena;
    size_t arena_len, arena_cap;
    /* documents: entries [doc_off[d], doc_off[d+1]) of ent_term / ent_tf */
    uint64_t *doc_off;
    size_t n_docs, cap_docs;
    uint32_t *ent_term;
    uint16_t *ent_tf;
    size_t n_ent, cap_ent;
    /* scratch for one document */
    uint32_t *scratch;
    size_t n_scratch;
    bool finished;
    bool oom;
};

uint64_t ppmi_token_hash(const char *tok, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)tok[i]) * 0x100000001b3ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

int ppmi_trainer_new(const ppmi_params *p, ppmi_trainer **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(p->hashed >= p->dim || p->dim - p->hashed < 2, err, AE_EINVAL,
                 "embedding dim %u leaves no dense dimensions after %u hashed ones", p->dim,
                 p->hashed);
    AE_RETURN_IF(p->max_doc_tokens < 2 || p->max_vocab < 2 || p->pair_budget < 1024, err, AE_EINVAL,
                 "embedding training parameters out of range");
    ppmi_trainer *t = calloc(1, sizeof *t);
    AE_RETURN_IF(!t, err, AE_ENOMEM, "out of memory starting embedding training");
    t->p = *p;
    t->n_tslots = 1u << 16;
    t->tslots = calloc(t->n_tslots, sizeof *t->tslots);
    t->scratch = malloc(DOC_TOKENS_MAX * sizeof *t->scratch);
    t->doc_off = malloc(sizeof *t->doc_off);
    if (!t->tslots || !t->scratch || !t->doc_off) {
        ppmi_trainer_free(t);
        return ae_fail(err, AE_ENOMEM, "out of memory starting embedding training");
    }
    t->doc_off[0] = 0;
    t->cap_docs = 0;
    *out = t;
    return 0;
}

void ppmi_trainer_free(ppmi_trainer *t)
{
    if (!t) return;
    free(t->terms);
    free(t->tslots);
    free(t->arena);
    free(t->doc_off);
    free(t->ent_term);
    free(t->ent_tf);
    free(t->scratch);
    free(t);
}

size_t ppmi_trainer_docs(const ppmi_trainer *t)
{
    return t ? t->n_docs : 0;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = ae_realloc_array(*p, c, elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static bool rehash_terms(ppmi_trainer *t)
{
    uint32_t n = t->n_tslots * 2;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s) return false;
    for (uint32_t i = 0; i < t->n_terms; i++) {
        uint32_t j = (uint32_t)t->terms[i].h & (n - 1);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = i + 1;
    }
    free(t->tslots);
    t->tslots = s;
    t->n_tslots = n;
    return true;
}

/* Interned index of tok, adding it when new; UINT32_MAX when the table is
 * full (TERMS_MAX) or memory ran out (t->oom). */
static uint32_t intern(ppmi_trainer *t, const char *tok, size_t len)
{
    uint64_t h = ppmi_token_hash(tok, len);
    uint32_t mask = t->n_tslots - 1, j = (uint32_t)h & mask;
    while (t->tslots[j]) {
        term *e = &t->terms[t->tslots[j] - 1];
        if (e->h == h && e->len == len && !memcmp(t->arena + e->off, tok, len))
            return t->tslots[j] - 1;
        j = (j + 1) & mask;
    }
    if (t->n_terms >= TERMS_MAX) return UINT32_MAX;
    size_t cap = t->cap_terms;
    if (!grow((void **)&t->terms, &cap, (size_t)t->n_terms + 1, sizeof *t->terms) ||
        !grow((void **)&t->arena, &t->arena_cap, t->arena_len + len + 1, 1)) {
        t->oom = true;
        return UINT32_MAX;
    }
    t->cap_terms = (uint32_t)cap;
    memcpy(t->arena + t->arena_len, tok, len);
    t->arena[t->arena_len + len] = '\0';
    t->terms[t->n_terms] = (term){.h = h, .off = (uint32_t)t->arena_len, .len = (uint32_t)len};
    t->arena_len += len + 1;
    t->tslots[j] = ++t->n_terms;
    if ((uint64_t)t->n_terms * 2 > t->n_tslots && !rehash_terms(t)) t->oom = true;
    return t->n_terms - 1;
}

static int collect(const char *tok, size_t len, void *ctx)
{
    ppmi_trainer *t = ctx;
    if (t->n_scratch >= DOC_TOKENS_MAX) return -1; /* enough of this document */
    uint32_t id = intern(t, tok, len);
    if (id != UINT32_MAX) t->scratch[t->n_scratch++] = id;
    return t->oom ? -1 : 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int ppmi_trainer_add(ppmi_trainer *t, const char *text, size_t len, ae_error *err)
{
    AE_RETURN_IF(t->finished, err, AE_EINVAL, "embedding training already finished");
    if (t->n_ent >= DOC_ENTRIES_MAX) return 0; /* budget spent: later symbols only embed */
    t->n_scratch = 0;
    embed_tokenize(text, len, collect, t);
    AE_RETURN_IF(t->oom, err, AE_ENOMEM, "out of memory interning %u embedding tokens", t->n_terms);
    qsort(t->scratch, t->n_scratch, sizeof *t->scratch, cmp_u32);
    size_t uniq = 0;
    for (size_t i = 0; i < t->n_scratch; i++)
        if (!i || t->scratch[i] != t->scratch[i - 1]) uniq++;
    size_t cap_docs = t->cap_docs;
    if (!grow((void **)&t->doc_off, &cap_docs, t->n_docs + 2, sizeof *t->doc_off) ||
        !grow((void **)&t->ent_term, &t->cap_ent, t->n_ent + uniq, sizeof *t->ent_term))
        return ae_fail(err, AE_ENOMEM, "out of memory after %zu training symbols", t->n_docs);
    t->cap_docs = cap_docs;
    size_t cap_tf = t->cap_ent;
    /* ent_tf tracks ent_term's capacity */
    void *q = ae_realloc_array(t->ent_tf, cap_tf, sizeof *t->ent_tf);
    if (!q) return ae_fail(err, AE_ENOMEM, "out of memory after %zu training symbols", t->n_docs);
    t->ent_tf = q;
    for (size_t i = 0; i < t->n_scratch;) {
        size_t j = i;
        while (j < t->n_scratch && t->scratch[j] == t->scratch[i])
            j++;
        t->ent_term[t->n_ent] = t->scratch[i];
        t->ent_tf[t->n_ent] = (uint16_t)(j - i > 65535 ? 65535 : j - i);
        t->n_ent++;
        t->terms[t->scratch[i]].df++;
        i = j;
    }
    t->doc_off[++t->n_docs] = t->n_ent;
    return 0;
}

/* ---- vocabulary ------------------------------------------------------------------------------ */

static const ppmi_trainer *sort_ctx;

static int cmp_by_df(const void *a, const void *b)
{
    const term *x = &sort_ctx->terms[*(const uint32_t *)a];
    const term *y = &sort_ctx->terms[*(const uint32_t *)b];
    if (x->df != y->df) return x->df > y->df ? -1 : 1;
    return strcmp(sort_ctx->arena + x->off, sort_ctx->arena + y->off);
}

static int cmp_by_token(const void *a, const void *b)
{
    const term *x = &sort_ctx->terms[*(const uint32_t *)a];
    const term *y = &sort_ctx->terms[*(const uint32_t *)b];
    return strcmp(sort_ctx->arena + x->off, sort_ctx->arena + y->off);
}

/* Fills order[0..*n_vocab) with term indices in vocabulary order. */
static int choose_vocab(ppmi_trainer *t, uint32_t **order_out, uint32_t *n_vocab, ae_error *err)
{
    uint32_t *order = ae_calloc_array(t->n_terms ? t->n_terms : 1, sizeof *order);
    AE_RETURN_IF(!order, err, AE_ENOMEM, "out of memory choosing %u tokens", t->n_terms);
    uint32_t n = 0;
    uint32_t min_df = t->p.min_df;
    /* a tiny workspace (tests, a new project) still gets a vocabulary */
    if (t->n_docs < 50) min_df = 1;
    for (uint32_t i = 0; i < t->n_terms; i++) {
        t->terms[i].vocab = -1;
        if (t->terms[i].df >= min_df) order[n++] = i;
    }
    sort_ctx = t;
    qsort(order, n, sizeof *order, cmp_by_df);
    if (n > t->p.max_vocab) n = t->p.max_vocab;
    qsort(order, n, sizeof *order, cmp_by_token);
    sort_ctx = NULL;
    for (uint32_t v = 0; v < n; v++)
        t->terms[order[v]].vocab = (int32_t)v;
    *order_out = order;
    *n_vocab = n;
    return 0;
}

/* ---- co-occurrence --------------------------------------------------------------------------- */

typedef struct pair_table {
    uint64_t *key; /* (a << 32 | b) + 1, a < b; 0 = empty */
    float *val;
    uint64_t cap, used, limit;
    uint64_t cap_max; /* the table grows by doubling up to this, then prunes */
    float floor;      /* pairs counted below this were dropped */
} pair_table;

static uint64_t pair_slot(uint64_t key, uint64_t mask)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ULL;
    return (h ^ (h >> 29)) & mask;
}

#define PAIR_START_SLOTS (1u << 16)

/* Doubles the table (a small workspace never pays for the whole budget);
 * false when memory is short, and the caller prunes instead. */
static bool pair_grow(pair_table *pt)
{
    uint64_t cap = pt->cap * 2, mask = cap - 1;
    uint64_t *key = ae_calloc_array(cap, sizeof *key);
    float *val = ae_calloc_array(cap, sizeof *val);
    if (!key || !val) {
        free(key);
        free(val);
        return false;
    }
    for (uint64_t i = 0; i < pt->cap; i++) {
        if (!pt->key[i]) continue;
        uint64_t j = pair_slot(pt->key[i], mask);
        while (key[j])
            j = (j + 1) & mask;
        key[j] = pt->key[i];
        val[j] = pt->val[i];
    }
    free(pt->key);
    free(pt->val);
    pt->key = key;
    pt->val = val;
    pt->cap = cap;
    return true;
}

/* Drops every pair at or below the next threshold, then reinserts the rest. */
static void pair_prune(pair_table *pt)
{
    float thr = pt->floor < 1.0f ? 1.0f : pt->floor * 2.0f;
    for (;;) {
        uint64_t keep = 0;
        for (uint64_t i = 0; i < pt->cap; i++)
            if (pt->key[i] && pt->val[i] > thr) keep++;
        if (keep <= pt->limit / 2 || thr > 1e30f) break;
        thr *= 2.0f;
    }
    pt->floor = thr;
    /* in-place rehash: collect survivors to the front, clear, reinsert */
    uint64_t n = 0;
    for (uint64_t i = 0; i < pt->cap; i++)
        if (pt->key[i] && pt->val[i] > thr) {
            uint64_t k = pt->key[i];
            float v = pt->val[i];
            pt->key[n] = k;
            pt->val[n] = v;
            n++;
        }
    /* survivors occupy [0, n); move them out of the way by reinserting from the end */
    uint64_t *ks = malloc(n * sizeof *ks);
    float *vs = malloc(n * sizeof *vs);
    if (ks && vs) {
        memcpy(ks, pt->key, n * sizeof *ks);
        memcpy(vs, pt->val, n * sizeof *vs);
    }
    memset(pt->key, 0, pt->cap * sizeof *pt->key);
    pt->used = 0;
    if (!ks || !vs) { /* cannot keep them: the table restarts empty (still bounded) */
        free(ks);
        free(vs);
        return;
    }
    uint64_t mask = pt->cap - 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t j = pair_slot(ks[i], mask);
        while (pt->key[j])
            j = (j + 1) & mask;
        pt->key[j] = ks[i];
        pt->val[j] = vs[i];
        pt->used++;
    }
    free(ks);
    free(vs);
}

static void pair_add(pair_table *pt, uint32_t a, uint32_t b, float w)
{
    uint64_t key = (((uint64_t)a << 32) | b) + 1, mask = pt->cap - 1;
    uint64_t j = pair_slot(key, mask);
    while (pt->key[j]) {
        if (pt->key[j] == key) {
            pt->val[j] += w;
            return;
        }
        j = (j + 1) & mask;
    }
    if (pt->used >= pt->limit || pt->used >= pt->cap / 4 * 3) {
        if (pt->used >= pt->limit || pt->cap >= pt->cap_max || !pair_grow(pt)) pair_prune(pt);
        pair_add(pt, a, b, w);
        return;
    }
    pt->key[j] = key;
    pt->val[j] = w;
    pt->used++;
}

typedef struct scored {
    float s;
    uint32_t v;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

static int cmp_scored_v(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}

/* The document's vocabulary tokens, ranked by tf-idf, capped, sorted by index. */
static size_t doc_tokens(const ppmi_trainer *t, size_t d, const float *idf, scored *out, size_t cap)
{
    size_t n = 0;
    for (uint64_t e = t->doc_off[d]; e < t->doc_off[d + 1]; e++) {
        int32_t v = t->terms[t->ent_term[e]].vocab;
        if (v < 0) continue;
        out[n++] = (scored){(1.0f + logf((float)t->ent_tf[e])) * idf[v], (uint32_t)v};
    }
    if (n > cap) {
        qsort(out, n, sizeof *out, cmp_scored);
        n = cap;
    }
    qsort(out, n, sizeof *out, cmp_scored_v);
    return n;
}

static int count_pairs(const ppmi_trainer *t, const float *idf, pair_table *pt, ae_error *err)
{
    uint64_t cap = 1024;
    while (cap < pt->limit + pt->limit / 3)
        cap *= 2;
    pt->cap_max = cap;
    if (cap > PAIR_START_SLOTS) cap = PAIR_START_SLOTS;
    pt->cap = cap;
    pt->key = ae_calloc_array(cap, sizeof *pt->key);
    pt->val = ae_calloc_array(cap, sizeof *pt->val);
    AE_RETURN_IF(!pt->key || !pt->val, err, AE_ENOMEM,
                 "cannot allocate the co-occurrence table (%llu pairs, %llu MiB)",
                 (unsigned long long)cap,
                 (unsigned long long)(cap * (sizeof *pt->key + sizeof *pt->val) >> 20));
    scored *toks = malloc(DOC_TOKENS_MAX * sizeof *toks);
    AE_RETURN_IF(!toks, err, AE_ENOMEM, "out of memory counting co-occurrences");
    for (size_t d = 0; d < t->n_docs; d++) {
        size_t n = doc_tokens(t, d, idf, toks, t->p.max_doc_tokens);
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                pair_add(pt, toks[i].v, toks[j].v, 1.0f);
    }
    free(toks);
    return 0;
}

/* PPMI(a,b) = max(0, log(n_ab * T / (r_a * r_b^cds * Z)) - log(shift)), symmetrised by
 * smoothing both sides: log(n_ab) + log(T) - cds*log(r_a) - cds*log(r_b) + 2 log(Zn) where
 * the context distribution p_c(a) = r_a^cds / sum r^cds. */
static int build_ppmi(const pair_table *pt, uint32_t n_vocab, float cds, float shift, ppmi_csr *out,
                      ae_error *err)
{
    double *r = ae_calloc_array(n_vocab, sizeof *r);
    AE_RETURN_IF(!r, err, AE_ENOMEM, "out of memory building PPMI");
    double total = 0;
    for (uint64_t i = 0; i < pt->cap; i++) {
        if (!pt->key[i]) continue;
        uint64_t k = pt->key[i] - 1;
        uint32_t a = (uint32_t)(k >> 32), b = (uint32_t)k;
        r[a] += pt->val[i];
        r[b] += pt->val[i];
        total += 2.0 * pt->val[i];
    }
    double zc = 0;
    for (uint32_t a = 0; a < n_vocab; a++)
        if (r[a] > 0) zc += pow(r[a], cds);
    /* log p(a) under the smoothed distribution, per token */
    double *lp = ae_calloc_array(n_vocab, sizeof *lp);
    uint64_t *cnt = ae_calloc_array((size_t)n_vocab + 1, sizeof *cnt);
    int rc = 0;
    if (!lp || !cnt) AE_FAIL(err, AE_ENOMEM, "out of memory building PPMI");
    for (uint32_t a = 0; a < n_vocab; a++)
        lp[a] = r[a] > 0 ? cds * log(r[a]) - log(zc) : 0;
    double lshift = log(shift > 0 ? shift : 1.0), ltotal = total > 0 ? log(total) : 0;
    /* pass 1: row counts of positive entries */
    for (uint64_t i = 0; i < pt->cap; i++) {
        if (!pt->key[i]) continue;
        uint64_t k = pt->key[i] - 1;
        uint32_t a = (uint32_t)(k >> 32), b = (uint32_t)k;
        double pmi = log(pt->val[i]) - ltotal - lp[a] - lp[b] - lshift;
        if (pmi > 0) {
            cnt[a + 1]++;
            cnt[b + 1]++;
        }
    }
    for (uint32_t a = 0; a < n_vocab; a++)
        cnt[a + 1] += cnt[a];
    uint64_t nnz = cnt[n_vocab];
    out->n = n_vocab;
    out->row = ae_calloc_array((size_t)n_vocab + 1, sizeof *out->row);
    out->col = ae_calloc_array(nnz ? nnz : 1, sizeof *out->col);
    out->val = ae_calloc_array(nnz ? nnz : 1, sizeof *out->val);
    if (!out->row || !out->col || !out->val)
        AE_FAIL(err, AE_ENOMEM, "cannot allocate the PPMI matrix (%llu entries)",
                (unsigned long long)nnz);
    memcpy(out->row, cnt, ((size_t)n_vocab + 1) * sizeof *cnt);
    for (uint64_t i = 0; i < pt->cap; i++) {
        if (!pt->key[i]) continue;
        uint64_t k = pt->key[i] - 1;
        uint32_t a = (uint32_t)(k >> 32), b = (uint32_t)k;
        double pmi = log(pt->val[i]) - ltotal - lp[a] - lp[b] - lshift;
        if (pmi <= 0) continue;
        out->col[cnt[a]] = b;
        out->val[cnt[a]++] = (float)pmi;
        out->col[cnt[b]] = a;
        out->val[cnt[b]++] = (float)pmi;
    }
    /* rows stay in table order: deterministic, and spmm does not need sorted columns */
cleanup:
    free(r);
    free(lp);
    free(cnt);
    return rc;
}

static void csr_free(ppmi_csr *a)
{
    free(a->row);
    free(a->col);
    free(a->val);
    memset(a, 0, sizeof *a);
}

/* ---- the model ------------------------------------------------------------------------------- */

uint32_t ppmi_slots_for(uint32_t n_vocab)
{
    uint32_t s = 16;
    while (s < 2 * n_vocab)
        s *= 2;
    return s;
}

void ppmi_build_slots(const char *strings, const uint32_t *str_off, uint32_t n_vocab,
                      uint32_t *slots, uint32_t n_slots)
{
    memset(slots, 0, (size_t)n_slots * sizeof *slots);
    for (uint32_t v = 0; v < n_vocab; v++) {
        const char *s = strings + str_off[v];
        uint32_t j = (uint32_t)ppmi_token_hash(s, strlen(s)) & (n_slots - 1);
        while (slots[j])
            j = (j + 1) & (n_slots - 1);
        slots[j] = v + 1;
    }
}

/* Dense part of a document from its stored entries (before common removal). */
static void doc_dense(const ppmi_trainer *t, const ppmi_model *m, size_t d, float *out)
{
    memset(out, 0, m->k * sizeof *out);
    for (uint64_t e = t->doc_off[d]; e < t->doc_off[d + 1]; e++) {
        int32_t v = t->terms[t->ent_term[e]].vocab;
        if (v < 0) continue;
        float w = m->weight[v] * (1.0f + logf((float)t->ent_tf[e]));
        const float *row = m->vecs + (size_t)v * m->k;
        for (uint32_t i = 0; i < m->k; i++)
            out[i] += w * row[i];
    }
    double s = 0;
    for (uint32_t i = 0; i < m->k; i++)
        s += (double)out[i] * out[i];
    if (s > 0) {
        float inv = (float)(1.0 / sqrt(s));
        for (uint32_t i = 0; i < m->k; i++)
            out[i] *= inv;
    }
}

#define COMMON_BATCH 512

/* The top eigenvector of sum_d x_d x_d^T over the documents' dense parts
 * (C accumulated by ssyrk over batches of COMMON_BATCH documents). */
static int common_dir(const ppmi_trainer *t, ppmi_model *m, ae_error *err)
{
    uint32_t k = m->k;
    float *c = ae_calloc_array((size_t)k * k, sizeof *c);
    float *x = ae_calloc_array((size_t)COMMON_BATCH * k, sizeof *x);
    double *v = ae_calloc_array(k, sizeof *v), *w = ae_calloc_array(k, sizeof *w);
    int rc = 0;
    AE_CHECK(ae_blas_load(err));
    if (!c || !x || !v || !w) AE_FAIL(err, AE_ENOMEM, "out of memory in training");
    int threads = ae_blas_get_num_threads();
    if (threads > 1) ae_blas_set_num_threads(1);
    for (size_t d0 = 0; d0 < t->n_docs; d0 += COMMON_BATCH) {
        size_t nb = t->n_docs - d0 < COMMON_BATCH ? t->n_docs - d0 : COMMON_BATCH;
        for (size_t i = 0; i < nb; i++)
            doc_dense(t, m, d0 + i, x + i * k);
        ae_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)k, (int)nb, 1.0f, x, (int)k, 1.0f, c,
                 (int)k);
    }
    if (threads > 1) ae_blas_set_num_threads(threads);
    for (uint32_t i = 0; i < k; i++) /* mirror the upper triangle */
        for (uint32_t j = 0; j < i; j++)
            c[(size_t)i * k + j] = c[(size_t)j * k + i];
    for (uint32_t i = 0; i < k; i++)
        v[i] = 1.0 / sqrt((double)k) * (1.0 + 0.001 * i);
    for (int it = 0; it < 100; it++) {
        double s = 0;
        for (uint32_t i = 0; i < k; i++) {
            double a = 0;
            for (uint32_t j = 0; j < k; j++)
                a += (double)c[(size_t)i * k + j] * v[j];
            w[i] = a;
            s += a * a;
        }
        if (s == 0) break;
        s = sqrt(s);
        for (uint32_t i = 0; i < k; i++)
            v[i] = w[i] / s;
    }
    float *common = (float *)m->common;
    for (uint32_t i = 0; i < k; i++)
        common[i] = (float)v[i];
cleanup:
    free(c);
    free(x);
    free(v);
    free(w);
    return rc;
}

int ppmi_trainer_finish(ppmi_trainer *t, ppmi_model **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(t->finished, err, AE_EINVAL, "embedding training already finished");
    t->finished = true;
    uint32_t *order = NULL, n_vocab = 0;
    float *idf = NULL, *vecs = NULL, *lambda = NULL;
    pair_table pt = {.limit = t->p.pair_budget};
    ppmi_csr a = {0};
    ppmi_model *m = calloc(1, sizeof *m);
    int rc = 0;
    if (!m) AE_FAIL(err, AE_ENOMEM, "out of memory in training");
    AE_CHECK(choose_vocab(t, &order, &n_vocab, err));
    m->p = t->p;
    m->k = t->p.dim - t->p.hashed;
    m->n_vocab = n_vocab;
    m->n_slots = ppmi_slots_for(n_vocab);
    m->n_docs = t->n_docs;
    m->oov_weight = logf(1.0f + (float)(t->n_docs + 1));
    for (size_t e = 0; e < t->n_ent; e++) {
        m->n_tokens += t->ent_tf[e];
        if (t->terms[t->ent_term[e]].vocab < 0) m->n_oov += t->ent_tf[e];
    }
    size_t strings_len = 0;
    for (uint32_t v = 0; v < n_vocab; v++)
        strings_len += t->terms[order[v]].len + 1;
    AE_CHECK(ppmi_model_layout(m, strings_len, err));
    char *strings = (char *)m->strings;
    uint32_t *str_off = (uint32_t *)m->str_off;
    float *weight = (float *)m->weight;
    size_t so = 0;
    for (uint32_t v = 0; v < n_vocab; v++) {
        const term *e = &t->terms[order[v]];
        str_off[v] = (uint32_t)so;
        memcpy(strings + so, t->arena + e->off, e->len + 1);
        so += e->len + 1;
        weight[v] = logf(1.0f + (float)t->n_docs / (float)e->df);
    }
    ppmi_build_slots(m->strings, m->str_off, n_vocab, (uint32_t *)m->slots, m->n_slots);
    if (n_vocab >= 2) {
        AE_CHECK(count_pairs(t, m->weight, &pt, err));
        AE_CHECK(build_ppmi(&pt, n_vocab, t->p.cds, t->p.shift, &a, err));
        free(pt.key);
        free(pt.val);
        pt.key = NULL;
        pt.val = NULL;
        uint32_t k = m->k < n_vocab ? m->k : n_vocab;
        vecs = ae_calloc_array((size_t)n_vocab * k, sizeof *vecs);
        lambda = ae_calloc_array(k, sizeof *lambda);
        if (!vecs || !lambda) AE_FAIL(err, AE_ENOMEM, "out of memory in training");
        AE_CHECK(ppmi_svd(&a, k, t->p.power_iters, t->p.seed, vecs, lambda, err));
        csr_free(&a);
        float *mv = (float *)m->vecs;
        for (uint32_t v = 0; v < n_vocab; v++) {
            double s = 0;
            for (uint32_t i = 0; i < k; i++) {
                float x = vecs[(size_t)v * k + i] * powf(fabsf(lambda[i]), t->p.eig_power);
                mv[(size_t)v * m->k + i] = x;
                s += (double)x * x;
            }
            if (s > 0) {
                float inv = (float)(1.0 / sqrt(s));
                for (uint32_t i = 0; i < k; i++)
                    mv[(size_t)v * m->k + i] *= inv;
            }
        }
        if (t->p.remove_common) AE_CHECK(common_dir(t, m, err));
    }
    ppmi_model_compute_hash(m);
    *out = m;
    m = NULL;
cleanup:
    free(order);
    free(idf);
    free(vecs);
    free(lambda);
    free(pt.key);
    free(pt.val);
    csr_free(&a);
    ppmi_model_free(m);
    return rc;
}
