/* The full-text index (layout in meta_fts.h).  Notes:
 * 1. The text FTS5 indexes is cut in C (src/text/tokenize), not by an FTS5
 *    tokenizer of ours: the tables use only built-in tokenizers, so any
 *    SQLite with FTS5 (the sqlite3 shell, the reference tool) can open,
 *    read and write the database.
 * 2. A symbol upsert rewrites its fts_words row only when one of the indexed
 *    fields changed, and keeps the row's sir column; a SIR write replaces
 *    only the sir column.  Unchanged files cost one point read per symbol.
 * 3. A path leaves fts_paths with the last symbol that had it.
 * 4. The write path's statements are prepared once per connection (a
 *    prepare costs more than the FTS5 work of one row).
 * 5. Ranking: ae_bm25(fts_words, k, counts, weights...) is FTS5's bm25()
 *    (the same IDF, average length and formula, so the same scores to the
 *    bit) that
 *    skips the rows which cannot be among the query's k best: it keeps the k
 *    best scores so far, and a row whose upper bound -- its exact term
 *    frequencies with the document length replaced by a lower bound, the
 *    number of distinct matched positions -- is below the k-th best gets 0
 *    without reading its length from fts_words_docsize (that lookup and the
 *    arithmetic are most of bm25()'s cost per row).  So `ORDER BY ae_bm25(..)
 *    LIMIT k` returns the rows and scores `ORDER BY bm25(..) LIMIT k` does.
 *    `counts` ("48 2142 -1", or NULL) are the rows each phrase matches, when
 *    the caller knows them already; -1 (or a count of counts that is not the
 *    number of phrases) lets it count them as bm25() does, one pass over the
 *    phrase's postings. */
#include "meta/meta_fts.h"

#include "meta/sqlite_err.h"
#include "text/tokenize.h"
#include "util/err.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const fts_schema_sql =
    "CREATE TABLE IF NOT EXISTS fts_doc (rowid INTEGER PRIMARY KEY, symbol_id TEXT NOT NULL "
    "UNIQUE, file_path TEXT NOT NULL DEFAULT '');"
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts_words USING fts5(name, qualified_name, path, sir, "
    "tags, tokenize=\"unicode61 remove_diacritics 2 tokenchars '_'\");"
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts_names USING fts5(name, qualified_name, "
    "tokenize='trigram');"
    "CREATE TABLE IF NOT EXISTS fts_path_doc (rowid INTEGER PRIMARY KEY, path TEXT NOT NULL "
    "UNIQUE);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts_paths USING fts5(path, tokenize='trigram');"
    /* exact and prefix name lookups, filters */
    "CREATE INDEX IF NOT EXISTS idx_symbols_lname ON symbols(lower(COALESCE(name, "
    "qualified_name)));"
    "CREATE INDEX IF NOT EXISTS idx_symbols_lqname ON symbols(lower(qualified_name));"
    "CREATE INDEX IF NOT EXISTS idx_symbols_language ON symbols(language);"
    "CREATE INDEX IF NOT EXISTS idx_symbols_kind ON symbols(kind);";

/* --- text ----------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 2 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->n + n + 2)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return AE_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static int sb_tokens(sbuf *b, const char *s, size_t len, unsigned flags)
{
    ae_tok_iter it;
    ae_tok_init(&it, s, len, flags);
    const char *t;
    size_t n;
    while (ae_tok_next(&it, &t, &n)) {
        if (b->n && sb_put(b, " ", 1) < 0) return AE_ENOMEM;
        if (sb_put(b, t, n) < 0) return AE_ENOMEM;
    }
    return 0;
}

static int sb_done(sbuf *b, char **out, ae_error *err)
{
    if (!b->p && sb_put(b, "", 0) < 0) return ae_fail(err, AE_ENOMEM, "out of memory");
    *out = b->p;
    return 0;
}

int ae_fts_tokens(const char *s, unsigned flags, char **out, ae_error *err)
{
    sbuf b = {0};
    *out = NULL;
    if (s && sb_tokens(&b, s, strlen(s), flags) < 0) {
        free(b.p);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    return sb_done(&b, out, err);
}

/* String values of a JSON text: keys (a string followed by ':') are skipped,
 * an escape becomes a space.  Not a validator: SIR JSON was written by us. */
int ae_fts_sir_text(const char *j, char **out, ae_error *err)
{
    sbuf b = {0}, val = {0};
    *out = NULL;
    int rc = 0;
    for (const char *p = j ? j : ""; *p; p++) {
        if (*p != '"') continue;
        val.n = 0;
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1]) {
                p++;
                if (*p == 'u')
                    for (int k = 0; k < 4 && p[1]; k++)
                        p++;
                if (sb_put(&val, " ", 1) < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
                continue;
            }
            if (sb_put(&val, p, 1) < 0) AE_FAIL(err, AE_ENOMEM, "out of memory");
        }
        if (!*p) break;
        const char *q = p + 1;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q == ':') continue; /* a key */
        if (val.n && sb_tokens(&b, val.p, val.n, AE_TOK_WHOLE | AE_TOK_STOP) < 0)
            AE_FAIL(err, AE_ENOMEM, "out of memory");
    }
    free(val.p);
    return sb_done(&b, out, err);
cleanup:
    free(val.p);
    free(b.p);
    return rc;
}

/* --- statements ----------------------------------------------------------- */

static int fts_fail(ae_meta *m, ae_error *err, const char *what)
{
    return ae_sqlite_fail(ae_meta_db(m), err, "full-text index: %s", what);
}

/* Statements are prepared once per connection and kept (note 4): the
 * cache is keyed by the SQL literal's address, every caller passing a
 * string constant. */
enum { FTS_STMT_MAX = 24 };

typedef struct fts_cache {
    const char *sql[FTS_STMT_MAX];
    sqlite3_stmt *st[FTS_STMT_MAX];
    int n;
    bool rank_registered; /* ae_bm25() on this connection (note 5) */
} fts_cache;

static int cache_of(ae_meta *m, fts_cache **c, ae_error *err)
{
    fts_cache **slot = (fts_cache **)ae_meta_fts_slot(m);
    if (!*slot && !(*slot = calloc(1, sizeof **slot)))
        return ae_fail(err, AE_ENOMEM, "out of memory");
    *c = *slot;
    return 0;
}

static int prep(ae_meta *m, const char *sql, sqlite3_stmt **st, ae_error *err)
{
    fts_cache *c = NULL;
    AE_TRY(cache_of(m, &c, err));
    for (int i = 0; i < c->n; i++)
        if (c->sql[i] == sql) {
            *st = c->st[i];
            sqlite3_reset(*st);
            sqlite3_clear_bindings(*st);
            return 0;
        }
    if (c->n == FTS_STMT_MAX)
        return ae_fail(err, AE_EINVAL, "full-text index: more than %d statements", FTS_STMT_MAX);
    if (sqlite3_prepare_v3(ae_meta_db(m), sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
        SQLITE_OK)
        return fts_fail(m, err, sql);
    c->sql[c->n] = sql;
    c->st[c->n++] = *st;
    return 0;
}

void ae_meta_fts_close(ae_meta *m)
{
    fts_cache **slot = (fts_cache **)ae_meta_fts_slot(m);
    if (!*slot) return;
    for (int i = 0; i < (*slot)->n; i++)
        sqlite3_finalize((*slot)->st[i]);
    free(*slot);
    *slot = NULL;
}

static int step_done(ae_meta *m, sqlite3_stmt *st, ae_error *err, const char *what)
{
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    if (s != SQLITE_DONE && s != SQLITE_ROW) return fts_fail(m, err, what);
    return 0;
}

static void bind(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* The fts_doc rowid of a symbol (created when create is set; 0 = none). */
static int doc_rowid(ae_meta *m, const char *id, const char *path, bool create, int64_t *rowid,
                     char **old_path, ae_error *err)
{
    sqlite3_stmt *st;
    *rowid = 0;
    if (old_path) *old_path = NULL;
    AE_TRY(prep(m, "SELECT rowid, file_path FROM fts_doc WHERE symbol_id = ?", &st, err));
    bind(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *rowid = sqlite3_column_int64(st, 0);
        const char *p = (const char *)sqlite3_column_text(st, 1);
        if (old_path && p && strcmp(p, path ? path : "") != 0 && !(*old_path = strdup(p))) {
            sqlite3_reset(st);
            return ae_fail(err, AE_ENOMEM, "out of memory");
        }
    }
    sqlite3_reset(st);
    if (*rowid || !create) return 0;
    AE_TRY(prep(m, "INSERT INTO fts_doc(symbol_id, file_path) VALUES (?, ?)", &st, err));
    bind(st, 1, id);
    bind(st, 2, path);
    AE_TRY(step_done(m, st, err, "add document"));
    *rowid = sqlite3_last_insert_rowid(ae_meta_db(m));
    return 0;
}

static int path_add(ae_meta *m, const char *path, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(prep(m, "INSERT OR IGNORE INTO fts_path_doc(path) VALUES (?)", &st, err));
    bind(st, 1, path);
    AE_TRY(step_done(m, st, err, "add path"));
    if (sqlite3_changes(ae_meta_db(m)) == 0) return 0;
    AE_TRY(prep(m, "INSERT INTO fts_paths(rowid, path) VALUES (?, ?)", &st, err));
    sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(ae_meta_db(m)));
    bind(st, 2, path);
    return step_done(m, st, err, "index path");
}

/* Drops path from fts_paths when no symbol has it any more (note 3). */
static int path_prune(ae_meta *m, const char *path, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(prep(m, "SELECT 1 FROM symbols WHERE file_path = ? LIMIT 1", &st, err));
    bind(st, 1, path);
    int used = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (used) return 0;
    static const char *const sqls[] = {
        "DELETE FROM fts_paths WHERE rowid = (SELECT rowid FROM fts_path_doc WHERE path = ?1)",
        "DELETE FROM fts_path_doc WHERE path = ?1",
    };
    for (size_t i = 0; i < sizeof sqls / sizeof *sqls; i++) {
        AE_TRY(prep(m, sqls[i], &st, err));
        bind(st, 1, path);
        AE_TRY(step_done(m, st, err, "remove path"));
    }
    return 0;
}

typedef struct doc_text {
    char *name, *qname, *path, *tags;
    const char *trgm_name; /* borrowed: "" when qualified_name contains name */
} doc_text;

static void doc_text_free(doc_text *d)
{
    free(d->name);
    free(d->qname);
    free(d->path);
    free(d->tags);
}

static int doc_text_of(const char *name, const char *qname, const char *path, const char *language,
                       const char *kind, doc_text *d, ae_error *err)
{
    memset(d, 0, sizeof *d);
    sbuf tags = {0};
    const char *nm = name && name[0] ? name : qname;
    int rc = 0;
    AE_CHECK(ae_fts_tokens(nm, AE_TOK_WHOLE, &d->name, err));
    AE_CHECK(ae_fts_tokens(qname, AE_TOK_WHOLE, &d->qname, err));
    AE_CHECK(ae_fts_tokens(path, 0, &d->path, err));
    if (sb_tokens(&tags, language ? language : "", language ? strlen(language) : 0, 0) < 0 ||
        sb_tokens(&tags, kind ? kind : "", kind ? strlen(kind) : 0, 0) < 0) {
        free(tags.p);
        AE_FAIL(err, AE_ENOMEM, "out of memory");
    }
    AE_CHECK(sb_done(&tags, &d->tags, err));
    d->trgm_name = nm && qname && strstr(qname, nm) ? "" : (nm ? nm : "");
    return 0;
cleanup:
    doc_text_free(d);
    return rc;
}

/* Writes the fts_words and fts_names rows of one document (sir kept unless
 * sir_text is given). */
static int doc_write(ae_meta *m, int64_t rowid, const doc_text *d, const char *qname,
                     const char *sir_text, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(prep(m,
                "INSERT OR REPLACE INTO fts_words(rowid, name, qualified_name, path, "
                "sir, tags) VALUES (?1, ?2, ?3, ?4, COALESCE(?5, (SELECT sir FROM "
                "fts_words WHERE rowid = ?1), ''), ?6)",
                &st, err));
    sqlite3_bind_int64(st, 1, rowid);
    bind(st, 2, d->name);
    bind(st, 3, d->qname);
    bind(st, 4, d->path);
    if (sir_text) bind(st, 5, sir_text);
    bind(st, 6, d->tags);
    AE_TRY(step_done(m, st, err, "index words"));
    AE_TRY(prep(m, "INSERT OR REPLACE INTO fts_names(rowid, name, qualified_name) VALUES (?, ?, ?)",
                &st, err));
    sqlite3_bind_int64(st, 1, rowid);
    bind(st, 2, d->trgm_name);
    bind(st, 3, qname);
    return step_done(m, st, err, "index names");
}

/* Note 2: true when the stored row already holds these fields. */
static int doc_same(ae_meta *m, int64_t rowid, const doc_text *d, bool *same, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(prep(m,
                "SELECT name = ?2 AND qualified_name = ?3 AND path = ?4 AND tags = ?5 "
                "FROM fts_words WHERE rowid = ?1",
                &st, err));
    sqlite3_bind_int64(st, 1, rowid);
    bind(st, 2, d->name);
    bind(st, 3, d->qname);
    bind(st, 4, d->path);
    bind(st, 5, d->tags);
    *same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_reset(st);
    return 0;
}

static int symbol_index(ae_meta *m, const char *id, const char *name, const char *qname,
                        const char *path, const char *language, const char *kind,
                        const char *sir_text, ae_error *err)
{
    int64_t rowid;
    char *old_path = NULL;
    doc_text d;
    AE_TRY(doc_rowid(m, id, path, true, &rowid, &old_path, err));
    int rc = doc_text_of(name, qname, path, language, kind, &d, err);
    if (rc < 0) {
        free(old_path);
        return rc;
    }
    bool same = false;
    if (!sir_text) AE_CHECK(doc_same(m, rowid, &d, &same, err));
    if (!same) {
        AE_CHECK(doc_write(m, rowid, &d, qname, sir_text, err));
        AE_CHECK(path_add(m, path, err));
    }
    if (old_path) {
        sqlite3_stmt *st;
        AE_CHECK(prep(m, "UPDATE fts_doc SET file_path = ? WHERE rowid = ?", &st, err));
        bind(st, 1, path);
        sqlite3_bind_int64(st, 2, rowid);
        AE_CHECK(step_done(m, st, err, "move document"));
        AE_CHECK(path_prune(m, old_path, err));
    }
cleanup:
    free(old_path);
    doc_text_free(&d);
    return rc;
}

int ae_meta_fts_symbol(ae_meta *m, const ae_symbol *s, ae_error *err)
{
    return symbol_index(m, s->id, s->name, s->qualified_name, s->file_path, s->language, s->kind,
                        NULL, err);
}

int ae_meta_fts_symbol_delete(ae_meta *m, const char *id, ae_error *err)
{
    int64_t rowid;
    char *path = NULL;
    sqlite3_stmt *st;
    AE_TRY(prep(m, "SELECT rowid, file_path FROM fts_doc WHERE symbol_id = ?", &st, err));
    bind(st, 1, id);
    rowid = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        rowid = sqlite3_column_int64(st, 0);
        const char *p = (const char *)sqlite3_column_text(st, 1);
        path = strdup(p ? p : "");
    }
    sqlite3_reset(st);
    if (!rowid) return 0;
    if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
    static const char *const sqls[] = {
        "DELETE FROM fts_words WHERE rowid = ?",
        "DELETE FROM fts_names WHERE rowid = ?",
        "DELETE FROM fts_doc WHERE rowid = ?",
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof sqls / sizeof *sqls; i++) {
        AE_CHECK(prep(m, sqls[i], &st, err));
        sqlite3_bind_int64(st, 1, rowid);
        AE_CHECK(step_done(m, st, err, "remove document"));
    }
    AE_CHECK(path_prune(m, path, err));
cleanup:
    free(path);
    return rc;
}

int ae_meta_fts_sir(ae_meta *m, const char *id, const char *sir_json, ae_error *err)
{
    int64_t rowid;
    AE_TRY(doc_rowid(m, id, NULL, false, &rowid, NULL, err));
    if (!rowid) return 0; /* no symbol row: nothing to search it by */
    char *text;
    AE_TRY(ae_fts_sir_text(sir_json, &text, err));
    sqlite3_stmt *st;
    int rc = prep(m, "UPDATE fts_words SET sir = ? WHERE rowid = ?", &st, err);
    if (rc == 0) {
        bind(st, 1, text);
        sqlite3_bind_int64(st, 2, rowid);
        rc = step_done(m, st, err, "index sir");
    }
    free(text);
    return rc;
}

/* --- ranking: ae_bm25() (note 5) ------------------------------------------- */

#define BM25_K1          1.2
#define BM25_B           0.75
#define RANK_MAX_COLUMNS 16
/* Beyond this k the heap is not worth keeping: every row is scored. */
#define RANK_MAX_K 65536

typedef struct rank_state {
    int nphrase, ncol, k, nheap;
    double avgdl;
    double w[RANK_MAX_COLUMNS];
    double *idf, *freq, *heap; /* heap: min-heap of the k best scores so far */
    int *inst;                 /* instances per phrase in the current row */
} rank_state;

static void rank_state_free(void *p)
{
    rank_state *r = p;
    if (!r) return;
    free(r->idf);
    free(r->freq);
    free(r->heap);
    free(r->inst);
    free(r);
}

static int count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *user)
{
    (void)api;
    (void)fts;
    (*(sqlite3_int64 *)user)++;
    return SQLITE_OK;
}

/* The per-query state, built at the first row as bm25() builds its own. */
static int rank_state_of(const Fts5ExtensionApi *api, Fts5Context *fts, int nval,
                         sqlite3_value **val, rank_state **out)
{
    rank_state *r = api->xGetAuxdata(fts, 0);
    if (r) {
        *out = r;
        return SQLITE_OK;
    }
    if (!(r = calloc(1, sizeof *r))) return SQLITE_NOMEM;
    r->nphrase = api->xPhraseCount(fts);
    r->ncol = api->xColumnCount(fts);
    int64_t k = nval > 0 ? sqlite3_value_int64(val[0]) : 0;
    r->k = k > 0 && k <= RANK_MAX_K ? (int)k : 0;
    for (int c = 0; c < RANK_MAX_COLUMNS; c++)
        r->w[c] = c + 2 < nval ? sqlite3_value_double(val[c + 2]) : 1.0;
    size_t np = (size_t)(r->nphrase > 0 ? r->nphrase : 1);
    r->idf = calloc(np, sizeof *r->idf);
    r->freq = calloc(np, sizeof *r->freq);
    r->inst = calloc(np, sizeof *r->inst);
    r->heap = r->k ? calloc((size_t)r->k, sizeof *r->heap) : NULL;
    sqlite3_int64 nrow = 0, ntok = 0;
    int rc = SQLITE_OK;
    if (!r->idf || !r->freq || !r->inst || (r->k && !r->heap)) rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK && r->ncol > RANK_MAX_COLUMNS) rc = SQLITE_RANGE;
    if (rc == SQLITE_OK) rc = api->xRowCount(fts, &nrow);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &ntok);
    if (rc == SQLITE_OK) r->avgdl = (double)ntok / (double)nrow;
    /* the caller's row counts: used only if there is one per phrase */
    const char *given = nval > 1 ? (const char *)sqlite3_value_text(val[1]) : NULL;
    int64_t *hits_of = NULL;
    if (rc == SQLITE_OK && given && (hits_of = calloc(np, sizeof *hits_of))) {
        int n = 0;
        char *end;
        for (const char *p = given; n <= r->nphrase; p = end) {
            long long v = strtoll(p, &end, 10);
            if (end == p) break;
            if (n < r->nphrase) hits_of[n] = v;
            n++;
        }
        if (n != r->nphrase) {
            free(hits_of);
            hits_of = NULL;
        }
    }
    for (int i = 0; rc == SQLITE_OK && i < r->nphrase; i++) {
        sqlite3_int64 hits = hits_of ? hits_of[i] : -1;
        if (hits < 0) {
            hits = 0;
            rc = api->xQueryPhrase(fts, i, &hits, count_cb);
        }
        if (rc == SQLITE_OK) {
            double idf = log((nrow - hits + 0.5) / (hits + 0.5));
            r->idf[i] = idf <= 0.0 ? 1e-6 : idf;
        }
    }
    free(hits_of);
    if (rc == SQLITE_OK)
        rc = api->xSetAuxdata(fts, r, rank_state_free);
    else
        rank_state_free(r);
    *out = rc == SQLITE_OK ? r : NULL;
    return rc;
}

/* bm25()'s sum, in its order of operations, for document length d. */
static double rank_sum(const rank_state *r, double d)
{
    double score = 0.0;
    for (int i = 0; i < r->nphrase; i++)
        score += r->idf[i] * ((r->freq[i] * (BM25_K1 + 1.0)) /
                              (r->freq[i] + BM25_K1 * (1 - BM25_B + BM25_B * d / r->avgdl)));
    return score;
}

static void heap_push(rank_state *r, double s)
{
    double *h = r->heap;
    size_t i;
    if (r->nheap < r->k) {
        i = (size_t)r->nheap++;
        while (i > 0 && h[(i - 1) / 2] > s) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = s;
        return;
    }
    if (s <= h[0]) return;
    size_t n = (size_t)r->nheap;
    i = 0;
    for (;;) { /* sift the new root down */
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[c] >= s) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = s;
}

static void rank_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                    sqlite3_value **val)
{
    rank_state *r;
    int rc = rank_state_of(api, fts, nval, val, &r), ninst = 0;
    if (rc == SQLITE_OK) rc = api->xInstCount(fts, &ninst);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    memset(r->freq, 0, (size_t)r->nphrase * sizeof *r->freq);
    memset(r->inst, 0, (size_t)r->nphrase * sizeof *r->inst);
    /* distinct matched positions: a lower bound of the row's length.  FTS5
     * lists instances by position; if it ever did not, the most instances
     * of one phrase (distinct positions too) is the bound instead. */
    int distinct = 0, pc = -1, po = -1, most = 0;
    bool sorted = true;
    for (int i = 0; i < ninst; i++) {
        int ip, ic, io;
        if ((rc = api->xInst(fts, i, &ip, &ic, &io)) != SQLITE_OK) {
            sqlite3_result_error_code(ctx, rc);
            return;
        }
        r->freq[ip] += r->w[ic]; /* ic < ncol <= RANK_MAX_COLUMNS */
        if (++r->inst[ip] > most) most = r->inst[ip];
        if (ic != pc || io != po) {
            if (ic < pc || (ic == pc && io < po)) sorted = false;
            distinct++;
            pc = ic;
            po = io;
        }
    }
    if (r->k && r->nheap == r->k) {
        double bound = rank_sum(r, (double)(sorted ? distinct : most));
        /* 1e-9: room for rounding, so a tie with the k-th best is scored */
        if (bound * (1 + 1e-9) < r->heap[0]) {
            sqlite3_result_double(ctx, 0.0);
            return;
        }
    }
    int ntok = 0;
    if ((rc = api->xColumnSize(fts, -1, &ntok)) != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    double score = rank_sum(r, (double)ntok);
    if (r->k) heap_push(r, score);
    sqlite3_result_double(ctx, -1.0 * score);
}

int ae_meta_fts_rank_register(ae_meta *m, ae_error *err)
{
    fts_cache *c = NULL;
    AE_TRY(cache_of(m, &c, err));
    if (c->rank_registered) return 0;
    sqlite3 *db = ae_meta_db(m);
    fts5_api *api = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return fts_fail(m, err, "the FTS5 API");
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api || api->iVersion < 2)
        return ae_fail(err, AE_EINVAL, "full-text index: this SQLite has no FTS5 API version 2");
    if (api->xCreateFunction(api, "ae_bm25", NULL, rank_fn, NULL) != SQLITE_OK)
        return fts_fail(m, err, "register ae_bm25()");
    c->rank_registered = true;
    return 0;
}

/* --- schema ---------------------------------------------------------------- */

int ae_meta_fts_ready(ae_meta *m, bool *ready, ae_error *err)
{
    sqlite3_stmt *st;
    *ready = false;
    if (sqlite3_prepare_v2(ae_meta_db(m),
                           "SELECT value FROM aether_c_meta WHERE key = 'fts_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return 0; /* no aether_c_meta: a reference-tool store */
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        *ready = v && !strcmp(v, AE_FTS_VERSION);
    }
    sqlite3_finalize(st);
    (void)err;
    return 0;
}

/* One pass over the rows already there (a store from before the index). */
static int backfill(ae_meta *m, ae_error *err)
{
    sqlite3_stmt *st;
    AE_TRY(ae_meta_exec(m,
                        "DELETE FROM fts_words; DELETE FROM fts_names; DELETE FROM fts_doc;"
                        "DELETE FROM fts_paths; DELETE FROM fts_path_doc;",
                        err));
    AE_TRY(ae_meta_prepare(m,
                           "SELECT s.id, s.name, s.qualified_name, s.file_path, s.language, "
                           "s.kind, r.sir_json FROM symbols s LEFT JOIN sir r ON r.id = s.id",
                           &st, err));
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c[7];
        for (int i = 0; i < 7; i++)
            c[i] = (const char *)sqlite3_column_text(st, i);
        char *sir_text;
        AE_CHECK(ae_fts_sir_text(c[6], &sir_text, err));
        rc = symbol_index(m, c[0], c[1], c[2], c[3], c[4], c[5], sir_text, err);
        free(sir_text);
        if (rc < 0) goto cleanup;
    }
    if (step != SQLITE_DONE) rc = fts_fail(m, err, "read symbols");
cleanup:
    sqlite3_finalize(st);
    return rc;
}

int ae_meta_fts_migrate(ae_meta *m, ae_error *err)
{
    AE_TRY(ae_meta_exec(m, fts_schema_sql, err));
    bool ready;
    AE_TRY(ae_meta_fts_ready(m, &ready, err));
    if (ready) return 0;
    AE_TRY(ae_meta_exec(m, "SAVEPOINT fts_backfill", err));
    int rc = backfill(m, err);
    if (rc == 0)
        rc = ae_meta_exec(m,
                          "INSERT OR REPLACE INTO aether_c_meta(key, value) VALUES "
                          "('fts_version', '" AE_FTS_VERSION "'); RELEASE fts_backfill",
                          err);
    if (rc < 0) {
        sqlite3_exec(ae_meta_db(m), "ROLLBACK TO fts_backfill; RELEASE fts_backfill", NULL, NULL,
                     NULL);
        return ae_err_prefix(err, "building the full-text index: ");
    }
    return 0;
}
