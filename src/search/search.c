/* Search: lexical (lexical.c: FTS5 + the reference's LIKE tiers), semantic
 * (VectorStore, filters as an allowed-id set), hybrid (RRF of the two ranked lists).
 * Notes:
 * 1. Semantic and hybrid never fail because semantic search cannot run: they
 *    fall back to lexical and say why, in the reference tool's exact words.
 * 2. The vector store may hold ids whose symbol is gone (a crash between the
 *    two stores, or a stale table); those are skipped, and the store is asked
 *    for more candidates so skipping does not starve the result. */
#include "search/search.h"

#include "embed/embed.h"
#include "meta/sqlite_err.h"
#include "util/err.h"
#include "workspace/workspace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RRF_K 60.0

const char *ae_search_mode_name(ae_search_mode m)
{
    switch (m) {
    case AE_SEARCH_SEMANTIC:
        return "semantic";
    case AE_SEARCH_HYBRID:
        return "hybrid";
    default:
        return "lexical";
    }
}

int ae_search_mode_parse(const char *s, ae_search_mode *out)
{
    if (!strcmp(s, "lexical"))
        *out = AE_SEARCH_LEXICAL;
    else if (!strcmp(s, "semantic"))
        *out = AE_SEARCH_SEMANTIC;
    else if (!strcmp(s, "hybrid"))
        *out = AE_SEARCH_HYBRID;
    else
        return AE_EINVAL;
    return 0;
}

static void match_clear(ae_match *m)
{
    free(m->symbol_id);
    free(m->qualified_name);
    free(m->file_path);
    free(m->language);
    free(m->kind);
}

void ae_search_results_free(ae_search_results *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++)
        match_clear(&r->matches[i]);
    free(r->matches);
    free(r->fallback_reason);
    free(r);
}

size_t ae_search_clamp_limit(size_t limit)
{
    if (limit < AE_SEARCH_LIMIT_MIN) return AE_SEARCH_LIMIT_MIN;
    if (limit > AE_SEARCH_LIMIT_MAX) return AE_SEARCH_LIMIT_MAX;
    return limit;
}

static int push_match(ae_search_results *r, size_t cap, sqlite3_stmt *st, bool has_score,
                      double score)
{
    if (r->n == cap) return AE_EINVAL;
    ae_match *m = &r->matches[r->n];
    memset(m, 0, sizeof *m);
    const char *cols[5];
    for (int i = 0; i < 5; i++) {
        cols[i] = (const char *)sqlite3_column_text(st, i);
        if (!cols[i]) cols[i] = "";
    }
    m->symbol_id = strdup(cols[0]);
    m->qualified_name = strdup(cols[1]);
    m->file_path = strdup(cols[2]);
    m->language = strdup(cols[3]);
    m->kind = strdup(cols[4]);
    m->has_semantic_score = has_score;
    m->semantic_score = score;
    if (!m->symbol_id || !m->qualified_name || !m->file_path || !m->language || !m->kind) {
        match_clear(m);
        return AE_ENOMEM;
    }
    r->n++;
    return 0;
}

int ae_search_resolve(ae_workspace *ws, const ae_vs_hit *hits, size_t n_hits, size_t limit,
                      bool with_scores, ae_search_results *r, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_prepare(ws->meta,
                           "SELECT id, qualified_name, file_path, language, kind FROM symbols "
                           "WHERE id = ?",
                           &st, err));
    int rc = 0;
    for (size_t i = 0; i < n_hits && r->n < limit; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, hits[i].symbol_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) continue;
        if (push_match(r, limit, st, with_scores, hits[i].score) < 0) {
            rc = ae_fail(err, AE_ENOMEM, "out of memory");
            break;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* The ids of the symbols passing f, sorted (the VectorStore's allowed set).
 * One block of fixed slots plus the pointer array; caller frees both. */
static int allowed_ids(ae_workspace *ws, const ae_search_filter *f, char ***ptrs, size_t *n,
                       ae_error *err)
{
    *ptrs = NULL;
    *n = 0;
    sqlite3_stmt *st;
    AE_TRY(ae_filter_prepare(ws->meta, "SELECT s.id FROM symbols s WHERE 1", f, " ORDER BY s.id",
                             &st, err));
    typedef char slot[AE_SYMBOL_ID_MAX + 1];
    slot *ids = NULL;
    size_t cap = 0, len = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (!id || strlen(id) > AE_SYMBOL_ID_MAX) continue; /* no vector can have it */
        if (len == cap) {
            cap = cap ? cap * 2 : 1024;
            slot *p = realloc(ids, cap * sizeof *ids);
            if (!p) AE_FAIL(err, AE_ENOMEM, "out of memory for %zu filter ids", cap);
            ids = p;
        }
        strcpy(ids[len++], id);
    }
    if (step != SQLITE_DONE) {
        rc = ae_sqlite_fail(ae_meta_db(ws->meta), err, "filter");
        goto cleanup;
    }
    char **pp = calloc(len + 1, sizeof *pp);
    if (!pp) AE_FAIL(err, AE_ENOMEM, "out of memory for %zu filter ids", len);
    /* the block rides in front of the pointers: pp[len] owns it */
    for (size_t i = 0; i < len; i++)
        pp[i] = ids[i];
    pp[len] = (char *)ids;
    ids = NULL;
    *ptrs = pp;
    *n = len;
cleanup:
    sqlite3_finalize(st);
    free(ids);
    return rc;
}

static void allowed_free(char **ptrs, size_t n)
{
    if (!ptrs) return;
    free(ptrs[n]);
    free(ptrs);
}

static char *reason_dup(const char *fmt, const char *detail)
{
    char *s = NULL;
    if (asprintf(&s, fmt, detail) < 0) return NULL;
    return s;
}

/* Runs the vector search; on a condition that means "cannot search
 * semantically" sets *reason (allocated) and returns 0.  A filter becomes the
 * store's allowed set: the store takes the top `limit` among those rows. */
static int semantic_with_vector(ae_workspace *ws, const float *q, uint32_t dim,
                                const char *provider, const char *model, size_t limit,
                                const ae_vs_search_opts *opts, const ae_search_filter *filter,
                                ae_search_results *r, char **reason, ae_error *err)
{
    ae_vector_store *vs;
    ae_error e2;
    if (ae_ws_vector_store(ws, &vs, &e2) < 0) {
        ae_ws_notice(ws, "vector store: %s", e2.message);
        *reason = strdup("semantic index not ready for this embedding provider/model");
        return 0;
    }
    /* [search] nprobe / refine_factor apply where the caller passed 0 */
    ae_vs_search_opts o = opts ? *opts : (ae_vs_search_opts){0};
    if (o.nprobe <= 0) o.nprobe = ws->config.search.nprobe;
    if (o.refine_factor <= 0) o.refine_factor = ws->config.search.refine_factor;
    o.allow_ids = NULL;
    o.n_allow = 0;
    r->matches = calloc(limit, sizeof *r->matches);
    if (!r->matches) return ae_fail(err, AE_ENOMEM, "out of memory");
    char **allow = NULL;
    size_t n_allow = 0;
    if (ae_filter_active(filter)) {
        AE_TRY(allowed_ids(ws, filter, &allow, &n_allow, err));
        if (n_allow == 0) { /* nothing passes the filter */
            allowed_free(allow, n_allow);
            return 0;
        }
        o.allow_ids = (const char *const *)allow;
        o.n_allow = n_allow;
    }
    int rc = 0;
    /* Ask for extra candidates; widen while skipped ids starve the result. */
    size_t want = limit + 16;
    for (int round = 0; round < 4; round++) {
        ae_vs_hit *hits = NULL;
        size_t n_hits = 0;
        rc = ae_vs_search(vs, q, dim, provider, model, want, &o, &hits, &n_hits, &e2);
        const char *warning = ae_vs_last_warning(vs); /* e.g. a corrupt index: exact scan */
        if (round == 0 && warning) ae_ws_notice(ws, "%s", warning);
        if (rc == AE_ENOTFOUND || (rc == 0 && n_hits == 0 && !allow)) {
            free(hits);
            *reason = strdup("semantic index not ready for this embedding provider/model");
            rc = 0;
            break;
        }
        if (rc < 0) {
            free(hits);
            *err = e2;
            break;
        }
        for (size_t i = 0; i < r->n; i++)
            match_clear(&r->matches[i]);
        r->n = 0;
        rc = ae_search_resolve(ws, hits, n_hits, limit, true, r, err);
        free(hits);
        if (rc < 0 || r->n == limit || n_hits < want) break;
        want *= 4;
    }
    allowed_free(allow, n_allow);
    return rc;
}

static int semantic(ae_workspace *ws, const char *query, size_t limit,
                    const ae_vs_search_opts *opts, const ae_search_filter *filter,
                    ae_search_results *r, char **reason, ae_error *err)
{
    *reason = NULL;
    if (!ws->meta) {
        *reason = strdup("local store not initialized");
        return 0;
    }
    if (!ws->config.embeddings.enabled) {
        *reason = strdup("embeddings are disabled in .aether/config.toml");
        return 0;
    }
    ae_embedder *em;
    ae_error e2;
    if (ae_ws_embedder(ws, &em, &e2) < 0) {
        *reason = reason_dup("embedding provider error: %s", e2.message);
        return 0;
    }
    uint32_t dim = ae_embedder_dim(em);
    float *q = calloc(dim ? dim : 1, sizeof *q);
    if (!q) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = 0;
    if (ae_embedder_embed(em, &query, 1, q, &e2) < 0) {
        *reason = reason_dup("embedding provider error: %s", e2.message);
        goto cleanup;
    }
    bool zero = true;
    for (uint32_t i = 0; i < dim; i++)
        if (q[i] != 0.0f) zero = false;
    if (zero) {
        *reason = strdup("embedding provider returned an empty query vector");
        goto cleanup;
    }
    rc = semantic_with_vector(ws, q, dim, ae_embedder_provider(em), ae_embedder_model(em), limit,
                              opts, filter, r, reason, err);
cleanup:
    free(q);
    return rc;
}

typedef struct fused {
    ae_match *m;
    double rrf;
} fused;

static int cmp_fused(const void *a, const void *b)
{
    const fused *x = a, *y = b;
    if (x->rrf != y->rrf) return x->rrf > y->rrf ? -1 : 1;
    return strcmp(x->m->symbol_id, y->m->symbol_id);
}

/* Reciprocal Rank Fusion: each list adds 1/(60 + rank), rank from 1. */
int ae_search_fuse_rrf(const ae_search_results *lex, const ae_search_results *sem, size_t limit,
                       ae_search_results *out, ae_error *err)
{
    size_t cap = lex->n + sem->n;
    fused *f = calloc(cap ? cap : 1, sizeof *f);
    if (!f) return ae_fail(err, AE_ENOMEM, "out of memory");
    size_t nf = 0;
    const ae_search_results *lists[2] = {lex, sem};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < lists[l]->n; i++) {
            ae_match *m = &lists[l]->matches[i];
            size_t j = 0;
            while (j < nf && strcmp(f[j].m->symbol_id, m->symbol_id))
                j++;
            if (j == nf)
                f[nf++].m = m;
            else if (m->has_semantic_score)
                f[j].m = m; /* keep the scored copy */
            f[j].rrf += 1.0 / (RRF_K + (double)(i + 1));
        }
    }
    qsort(f, nf, sizeof *f, cmp_fused);
    limit = ae_search_clamp_limit(limit);
    out->matches = calloc(limit, sizeof *out->matches);
    int rc = 0;
    if (!out->matches) AE_FAIL(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < nf && out->n < limit; i++) {
        ae_match *d = &out->matches[out->n], *s = f[i].m;
        d->symbol_id = strdup(s->symbol_id);
        d->qualified_name = strdup(s->qualified_name);
        d->file_path = strdup(s->file_path);
        d->language = strdup(s->language);
        d->kind = strdup(s->kind);
        d->has_semantic_score = s->has_semantic_score;
        d->semantic_score = s->semantic_score;
        out->n++;
        if (!d->symbol_id || !d->qualified_name || !d->file_path || !d->language || !d->kind)
            AE_FAIL(err, AE_ENOMEM, "out of memory");
    }
cleanup:
    free(f);
    return rc;
}

static ae_search_results *results_new(ae_search_mode mode)
{
    ae_search_results *r = calloc(1, sizeof *r);
    if (r) r->mode_requested = r->mode_used = mode;
    return r;
}

/* Replaces r's content by a lexical search and records why. */
static int fall_back(ae_workspace *ws, const char *query, const ae_search_filter *filter,
                     size_t limit, ae_search_results *r, char *reason, ae_error *err)
{
    for (size_t i = 0; i < r->n; i++)
        match_clear(&r->matches[i]);
    free(r->matches);
    r->matches = NULL;
    r->n = 0;
    r->mode_used = AE_SEARCH_LEXICAL;
    r->fallback_reason = reason;
    if (!reason) return ae_fail(err, AE_ENOMEM, "out of memory");
    return ae_search_lexical_ex(ws, query, filter, limit, r, err);
}

int ae_search_ex(ae_workspace *ws, const char *query, ae_search_mode mode, size_t limit,
                 const ae_search_options *so, ae_search_results **out, ae_error *err)
{
    *out = NULL;
    ae_strlist_free(&ws->notices);
    limit = ae_search_clamp_limit(limit);
    const ae_vs_search_opts *opts = so ? so->vs : NULL;
    const ae_search_filter *filter = so && ae_filter_active(&so->filter) ? &so->filter : NULL;
    ae_search_results *r = results_new(mode);
    if (!r) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = 0;
    if (mode == AE_SEARCH_LEXICAL) {
        AE_CHECK(ae_search_lexical_ex(ws, query, filter, limit, r, err));
    } else if (!query[0]) {
        r->mode_used = mode; /* an empty query returns nothing, in any mode */
        r->matches = calloc(1, sizeof *r->matches);
    } else if (mode == AE_SEARCH_SEMANTIC) {
        char *reason = NULL;
        AE_CHECK(semantic(ws, query, limit, opts, filter, r, &reason, err));
        if (reason) AE_CHECK(fall_back(ws, query, filter, limit, r, reason, err));
    } else {
        ae_search_results lex = {0}, sem = {0};
        char *reason = NULL;
        rc = semantic(ws, query, limit, opts, filter, &sem, &reason, err);
        if (rc == 0 && !reason) rc = ae_search_lexical_ex(ws, query, filter, limit, &lex, err);
        if (rc == 0 && !reason) rc = ae_search_fuse_rrf(&lex, &sem, limit, r, err);
        for (size_t i = 0; i < lex.n; i++)
            match_clear(&lex.matches[i]);
        for (size_t i = 0; i < sem.n; i++)
            match_clear(&sem.matches[i]);
        free(lex.matches);
        free(sem.matches);
        if (rc < 0) {
            free(reason);
            goto cleanup;
        }
        if (reason) AE_CHECK(fall_back(ws, query, filter, limit, r, reason, err));
    }
    *out = r;
    return 0;
cleanup:
    ae_search_results_free(r);
    return rc;
}

int ae_search(ae_workspace *ws, const char *query, ae_search_mode mode, size_t limit,
              const ae_vs_search_opts *opts, ae_search_results **out, ae_error *err)
{
    ae_search_options so = {.vs = opts};
    return ae_search_ex(ws, query, mode, limit, &so, out, err);
}

int ae_search_vector(ae_workspace *ws, const float *query, uint32_t dim, const char *provider,
                     const char *model, size_t limit, const ae_vs_search_opts *opts,
                     ae_search_results **out, ae_error *err)
{
    *out = NULL;
    ae_strlist_free(&ws->notices);
    AE_RETURN_IF(!ws->meta, err, AE_ENOTFOUND, "local store not initialized");
    for (uint32_t i = 0; i < dim; i++)
        AE_RETURN_IF(!isfinite(query[i]), err, AE_EINVAL,
                     "query vector: non-finite value at "
                     "dimension %u",
                     i);
    ae_search_results *r = results_new(AE_SEARCH_SEMANTIC);
    if (!r) return ae_fail(err, AE_ENOMEM, "out of memory");
    char *reason = NULL;
    int rc = semantic_with_vector(ws, query, dim, provider, model, ae_search_clamp_limit(limit),
                                  opts, NULL, r, &reason, err);
    if (rc == 0 && reason) {
        rc = ae_fail(err, AE_ENOTFOUND, "%s (provider %s, model %s, dim %u)", reason, provider,
                     model, dim);
        free(reason);
    }
    if (rc < 0) {
        ae_search_results_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
