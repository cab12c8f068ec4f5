/* Lexical search: ranked full-text matches that keep the reference tool's
 * identifier behaviour.  The reference answers `LIKE %q%` over id,
 * qualified_name, file_path, language and kind, ordered exact name, name
 * prefix, name substring, qualified-name substring, the rest (ties by
 * qualified_name, id).  Here, in order, each phase filling what is left of
 * the limit and skipping ids already taken:
 *
 *   1. exact name or qualified name (case-insensitive)  idx_symbols_lname/lqname
 *   2. name prefix                                      idx_symbols_lname range
 *   3. BM25 over fts_words (meta_fts.h), the query cut by src/text/tokenize
 *      (sub-tokens, whole identifiers, stop words dropped) into an OR query,
 *      field weights AE_FTS_WEIGHTS: sentences and identifiers alike; the
 *      most frequent tokens left out past AE_FTS_MAX_POSTINGS documents
 *   4. substrings, the reference's remaining tiers, from the trigram tables:
 *      name / qualified name (fts_names), then paths (fts_paths), language
 *      and kind values (found by a loose index scan), ids (hex queries only;
 *      a scan of the id index)
 *   5. queries under 3 characters (no trigram exists) or over 256: the
 *      reference's LIKE scan, only when phases 1-3 left room
 *
 * So every row the reference's LIKE matches can still be returned (phase 4/5
 * produce exactly those rows, in the reference's order), an exact name comes
 * first, a prefix before anything else, and the ranked words come before bare
 * substrings.  A store without the index (read-only before a writer migrated
 * it, or the reference tool's own) is answered by the LIKE scan alone. */
#include "search/search.h"

#include "meta/meta_fts.h"
#include "meta/sqlite_err.h"
#include "text/tokenize.h"
#include "util/err.h"
#include "workspace/workspace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUERY_TOKENS AE_SEARCH_MAX_QUERY_TOKENS
/* Documents BM25 may score per query (see match_expr); -DAE_FTS_MAX_POSTINGS=N to measure
 * another budget (docs/QUALITY.md has the trade-off). */
#ifndef AE_FTS_MAX_POSTINGS
#define AE_FTS_MAX_POSTINGS 8192
#endif
/* A trigram phrase is one token per character: queries longer than this
 * (no symbol name is; a 1 MiB query would be a million-token phrase) take
 * the LIKE scan instead. */
#define TRIGRAM_MAX_CHARS 256

typedef struct idset {
    ae_vs_hit *ids; /* symbol_id only */
    size_t n, cap;
} idset;

static bool idset_has(const idset *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->ids[i].symbol_id, id)) return true;
    return false;
}

static bool idset_full(const idset *s)
{
    return s->n >= s->cap;
}

static void idset_add(idset *s, const char *id)
{
    if (!id || idset_full(s) || idset_has(s, id)) return;
    snprintf(s->ids[s->n].symbol_id, sizeof s->ids[s->n].symbol_id, "%s", id);
    s->n++;
}

/* Steps st (column 0: symbol id) into s; finalizes. *rows counts rows seen. */
static int collect(ae_workspace *ws, sqlite3_stmt *st, idset *s, size_t *rows, ae_error *err)
{
    int step;
    size_t seen = 0;
    while (!idset_full(s) && (step = sqlite3_step(st)) == SQLITE_ROW) {
        seen++;
        idset_add(s, (const char *)sqlite3_column_text(st, 0));
    }
    if (idset_full(s)) step = SQLITE_DONE;
    sqlite3_finalize(st);
    if (rows) *rows = seen;
    if (step != SQLITE_DONE) return ae_sqlite_fail(ae_meta_db(ws->meta), err, "lexical search");
    return 0;
}

static void bind_name(sqlite3_stmt *st, const char *name, const char *v, int n)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0) sqlite3_bind_text(st, i, v, n, SQLITE_TRANSIENT);
}

static void bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0) sqlite3_bind_int64(st, i, v);
}

/* LIKE pattern with %, _ and the escape character escaped. */
static char *like_escape(const char *q, const char *prefix, const char *suffix)
{
    size_t n = strlen(q);
    char *out = malloc(2 * n + strlen(prefix) + strlen(suffix) + 1);
    if (!out) return NULL;
    char *p = stpcpy(out, prefix);
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '%' || q[i] == '_' || q[i] == '\\') *p++ = '\\';
        *p++ = q[i];
    }
    strcpy(p, suffix);
    return out;
}

/* An FTS5 string: "q" with " doubled. */
static char *fts_quote(const char *q)
{
    size_t n = strlen(q);
    char *out = malloc(2 * n + 3), *p = out;
    if (!out) return NULL;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '"') *p++ = '"';
        *p++ = q[i];
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) n++;
    return n;
}

static bool all_hex(const char *s)
{
    for (; *s; s++)
        if (!strchr("0123456789abcdefABCDEF", *s)) return false;
    return true;
}

/* --- phase 5 / no index: the reference's LIKE scan --------------------- */

static int like_scan(ae_workspace *ws, const char *query, const ae_search_filter *f, idset *s,
                     ae_error *err)
{
    char *contains = like_escape(query, "%", "%");
    char *prefix = like_escape(query, "", "%");
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (!contains || !prefix) AE_FAIL(err, AE_ENOMEM, "out of memory");
    /* named parameters only: a ?NNN mixed with the filter's :names would
     * share numbers with them */
    AE_CHECK(ae_filter_prepare(
        ws->meta,
        "SELECT s.id FROM symbols s WHERE (s.id LIKE :c ESCAPE '\\' OR s.qualified_name LIKE :c "
        "ESCAPE '\\' OR s.file_path LIKE :c ESCAPE '\\' OR s.language LIKE :c ESCAPE '\\' OR "
        "s.kind LIKE :c ESCAPE '\\')",
        f,
        " ORDER BY CASE "
        "  WHEN lower(COALESCE(s.name, s.qualified_name)) = lower(:q) "
        "    OR lower(s.qualified_name) = lower(:q) THEN 0 "
        "  WHEN COALESCE(s.name, s.qualified_name) LIKE :pre ESCAPE '\\' THEN 1 "
        "  WHEN COALESCE(s.name, s.qualified_name) LIKE :c ESCAPE '\\' THEN 2 "
        "  WHEN s.qualified_name LIKE :c ESCAPE '\\' THEN 3 ELSE 4 END, "
        "s.qualified_name, s.id LIMIT :n",
        &st, err));
    bind_name(st, ":c", contains, -1);
    bind_name(st, ":q", query, -1);
    bind_name(st, ":pre", prefix, -1);
    /* ids already taken come back too: ask for that many more */
    bind_int(st, ":n", (int64_t)(s->cap + s->n));
    rc = collect(ws, st, s, NULL, err);
cleanup:
    free(contains);
    free(prefix);
    return rc;
}

/* --- phases 1 and 2 ------------------------------------------------------ */

static int names_exact_prefix(ae_workspace *ws, const char *query, const ae_search_filter *f,
                              idset *s, ae_error *err)
{
    size_t n = strlen(query);
    char *lq = malloc(n + 2);
    if (!lq) return ae_fail(err, AE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) /* SQLite's lower(): ASCII only */
        lq[i] = query[i] >= 'A' && query[i] <= 'Z' ? (char)(query[i] - 'A' + 'a') : query[i];
    lq[n] = '\0';
    sqlite3_stmt *st;
    int rc = 0;
    AE_CHECK(ae_filter_prepare(ws->meta,
                               "SELECT s.id FROM symbols s WHERE (lower(COALESCE(s.name, "
                               "s.qualified_name)) = :lq OR lower(s.qualified_name) = :lq)",
                               f, " ORDER BY s.qualified_name, s.id LIMIT :n", &st, err));
    bind_name(st, ":lq", lq, (int)n);
    bind_int(st, ":n", (int64_t)s->cap);
    AE_CHECK(collect(ws, st, s, NULL, err));
    if (idset_full(s)) goto cleanup;
    lq[n] = (char)0xff; /* [lq, lq "\xff"): every name starting with lq */
    AE_CHECK(ae_filter_prepare(ws->meta,
                               "SELECT s.id FROM symbols s WHERE lower(COALESCE(s.name, "
                               "s.qualified_name)) >= :lq AND lower(COALESCE(s.name, "
                               "s.qualified_name)) < :lq_end",
                               f, " ORDER BY s.qualified_name, s.id LIMIT :n", &st, err));
    bind_name(st, ":lq", lq, (int)n);
    bind_name(st, ":lq_end", lq, (int)n + 1);
    bind_int(st, ":n", (int64_t)(s->cap + s->n));
    rc = collect(ws, st, s, NULL, err);
cleanup:
    free(lq);
    return rc;
}

/* --- phase 3 --------------------------------------------------------------- */

/* The counting rule of ae_search_choose_tokens (search.h): every token's
 * rows are counted side by side, level by level (all of them up to 256, then
 * 512, ...); a token that runs out below the level has its exact count, one
 * still going has more than the level.  Counting stops once some tokens are
 * done and their sum plus the level reaches the budget: every token still
 * going would then be left out whatever its count (the rule leaves out the
 * largest first, each of these is larger than every finished one, and any of
 * them would take the sum past the budget).  Then the rule runs on the counts
 * (a token still going counts level + 1, more than any finished one).  So the
 * kept tokens and their counts are the rule's, at the cost of the kept
 * tokens' rows plus about the level's for each other one: a word in 100K rows
 * costs a few hundred, not 100K. */
#define COUNT_STEP 256
int ae_search_choose_tokens(int n, int64_t budget, ae_row_step step, void *ctx, int64_t *df,
                            bool *keep, ae_error *err)
{
    bool done[MAX_QUERY_TOKENS] = {0};
    if (n < 1 || n > MAX_QUERY_TOKENS)
        return ae_fail(err, AE_EINVAL, "lexical search: %d query tokens (1 to %d)", n,
                       MAX_QUERY_TOKENS);
    for (int i = 0; i < n; i++) {
        keep[i] = true;
        df[i] = n == 1 ? -1 : 0;
    }
    if (n == 1) return 0;
    for (int64_t level = COUNT_STEP;; level += COUNT_STEP) {
        int64_t done_sum = 0;
        int n_done = 0;
        for (int i = 0; i < n; i++) {
            while (!done[i] && df[i] <= level) {
                bool row = false;
                AE_TRY(step(ctx, i, &row, err));
                if (row)
                    df[i]++;
                else
                    done[i] = true;
            }
            if (done[i]) {
                done_sum += df[i];
                n_done++;
            }
        }
        if (n_done == n || (n_done > 0 && done_sum + level >= budget)) break;
    }
    int64_t sum = 0;
    int kept = n;
    for (int i = 0; i < n; i++)
        sum += df[i];
    while (sum > budget && kept > 1) {
        int worst = -1;
        for (int i = 0; i < n; i++)
            if (keep[i] && (worst < 0 || df[i] > df[worst])) worst = i;
        keep[worst] = false;
        kept--;
        sum -= df[worst];
    }
    return 0;
}

/* ae_row_step over one `SELECT rowid ... MATCH "token"` per token. */
typedef struct token_cursors {
    ae_workspace *ws;
    char **tok;
    sqlite3_stmt *st[MAX_QUERY_TOKENS];
} token_cursors;

static int token_step(void *ctx, int i, bool *row, ae_error *err)
{
    token_cursors *c = ctx;
    int s = sqlite3_step(c->st[i]);
    *row = s == SQLITE_ROW;
    if (s == SQLITE_ROW || s == SQLITE_DONE) return 0;
    return ae_sqlite_fail(ae_meta_db(c->ws->meta), err, "lexical search: counting the rows of '%s'",
                          c->tok[i]);
}

static int choose_tokens(ae_workspace *ws, char **tok, int n, int64_t *df, bool *keep,
                         ae_error *err)
{
    token_cursors c = {ws, tok, {0}};
    int rc = 0;
    for (int i = 0; n > 1 && i < n; i++) {
        char *phrase = fts_quote(tok[i]);
        if (!phrase) AE_FAIL(err, AE_ENOMEM, "out of memory");
        rc = ae_meta_prepare(ws->meta, "SELECT rowid FROM fts_words WHERE fts_words MATCH ?1",
                             &c.st[i], err);
        if (rc < 0) {
            free(phrase);
            goto cleanup;
        }
        sqlite3_bind_text(c.st[i], 1, phrase, -1, free);
    }
    rc = ae_search_choose_tokens(n, AE_FTS_MAX_POSTINGS, token_step, &c, df, keep, err);
cleanup:
    for (int i = 0; i < n; i++)
        sqlite3_finalize(c.st[i]);
    return rc;
}

static bool plain_ascii(const char *t)
{
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '_')) return false;
    return true;
}

/* `"t1" OR "t2" ...` of the query's tokens (stop words dropped unless that
 * leaves nothing), AND the filter's language/kind as tags phrases (a
 * superset; the join checks them exactly).  *out NULL when no token.
 * *dfs: the phrases' row counts for ae_bm25() ("48 2142 -1", -1: let it
 * count), NULL when a token is not plain ASCII (unicode61 might cut it in
 * two phrases, or fold it into another token's).
 *
 * Cost cap: BM25 is computed for every document matching any token, so the
 * most frequent tokens are left out while the documents of all tokens
 * together exceed AE_FTS_MAX_POSTINGS and another token remains (counted as
 * choose_tokens says): a word in 5% of a 250K-symbol workspace would cost
 * ~10 ms alone and adds little to the ranking (its IDF is the lowest of the
 * query's). */
static int match_expr(ae_workspace *ws, const char *query, const ae_search_filter *f, char **out,
                      char **dfs, ae_error *err)
{
    *out = NULL;
    *dfs = NULL;
    char *toks = NULL;
    AE_TRY(ae_fts_tokens(query, AE_TOK_WHOLE | AE_TOK_STOP, &toks, err));
    if (!toks[0]) {
        free(toks);
        AE_TRY(ae_fts_tokens(query, AE_TOK_WHOLE, &toks, err));
    }
    if (!toks[0]) {
        free(toks);
        return 0;
    }
    char *tok[MAX_QUERY_TOKENS];
    int nt = 0;
    for (char *save = NULL, *t = strtok_r(toks, " ", &save); t && nt < MAX_QUERY_TOKENS;
         t = strtok_r(NULL, " ", &save)) {
        bool dup = false;
        for (int i = 0; i < nt && !dup; i++)
            dup = !strcmp(tok[i], t);
        if (!dup) tok[nt++] = t;
    }
    int64_t df[MAX_QUERY_TOKENS];
    bool keep[MAX_QUERY_TOKENS], ascii = true;
    int rc = choose_tokens(ws, tok, nt, df, keep, err);
    if (rc < 0) {
        free(toks);
        return rc;
    }
    for (int i = 0; i < nt; i++)
        ascii = ascii && plain_ascii(tok[i]);
    /* tokens hold [a-z0-9_] and UTF-8 bytes: no quote inside */
    size_t cap = 3 * strlen(query) + 64 * MAX_QUERY_TOKENS + 256;
    if (f && f->language) cap += 3 * strlen(f->language);
    if (f && f->kind) cap += 3 * strlen(f->kind);
    char *e = malloc(cap), *p = e, *d = ascii ? malloc(24 * (MAX_QUERY_TOKENS + 2) + 1) : NULL,
         *dp = d;
    if (!e || (ascii && !d)) {
        free(e);
        free(d);
        free(toks);
        return ae_fail(err, AE_ENOMEM, "out of memory");
    }
    p += sprintf(p, "(");
    for (int i = 0, w = 0; i < nt; i++) {
        if (!keep[i]) continue;
        p += sprintf(p, "%s\"%s\"", w++ ? " OR " : "", tok[i]);
        if (d) dp += sprintf(dp, "%s%lld", dp == d ? "" : " ", (long long)df[i]);
    }
    p += sprintf(p, ")");
    const char *tags[2] = {f ? f->language : NULL, f ? f->kind : NULL};
    for (int i = 0; i < 2; i++) {
        if (!tags[i] || !tags[i][0]) continue;
        char *tt = NULL;
        if (ae_fts_tokens(tags[i], 0, &tt, err) < 0) {
            free(e);
            free(d);
            free(toks);
            return err->code;
        }
        if (tt[0]) {
            p += sprintf(p, " AND {tags} : \"%s\"", tt);
            if (d) dp += sprintf(dp, " -1");
        }
        free(tt);
    }
    free(toks);
    *out = e;
    *dfs = d;
    return 0;
}

static int bm25_words(ae_workspace *ws, const char *query, const ae_search_filter *f, idset *s,
                      ae_error *err)
{
    char *m = NULL, *dfs = NULL;
    AE_TRY(match_expr(ws, query, f, &m, &dfs, err));
    if (!m) return 0;
    int rc = 0;
    AE_CHECK(ae_meta_fts_rank_register(ws->meta, err));
    /* The inner query ranks on fts_words alone (no join per match); a
     * filter may reject some of its rows, so it over-fetches, and widens
     * until the filter is satisfied or every match was seen. */
    int64_t inner = (int64_t)(s->cap + s->n) * (ae_filter_active(f) ? 8 : 1);
    for (;;) {
        sqlite3_stmt *st;
        AE_CHECK(ae_filter_prepare(
            ws->meta,
            "SELECT d.symbol_id FROM (SELECT rowid AS r, ae_bm25(fts_words, :inner, "
            ":dfs, " AE_FTS_WEIGHTS
            ") AS score FROM fts_words WHERE fts_words MATCH :m ORDER BY score LIMIT :inner) x "
            "JOIN fts_doc d ON d.rowid = x.r JOIN symbols s ON s.id = d.symbol_id WHERE 1",
            f, " ORDER BY x.score, d.symbol_id", &st, err));
        bind_name(st, ":m", m, -1);
        bind_int(st, ":inner", inner);
        if (dfs) bind_name(st, ":dfs", dfs, -1);
        size_t rows = 0;
        /* a widened round sees the earlier rounds' rows again, first and in
         * the same order: they are skipped as already taken */
        AE_CHECK(collect(ws, st, s, &rows, err));
        if (idset_full(s) || inner < 0 || (!f && (int64_t)rows < inner)) break;
        inner = inner > (1 << 20) ? -1 : inner * 16;
    }
cleanup:
    free(m);
    free(dfs);
    return rc;
}

/* --- phase 4 --------------------------------------------------------------- */

static int substrings(ae_workspace *ws, const char *query, const ae_search_filter *f, idset *s,
                      ae_error *err)
{
    char *phrase = fts_quote(query);
    char *contains = like_escape(query, "%", "%");
    char *sql = NULL;
    sqlite3_stmt *st;
    int rc = 0;
    if (!phrase || !contains) AE_FAIL(err, AE_ENOMEM, "out of memory");
    /* reference tiers 2 and 3: name, then qualified name */
    AE_CHECK(ae_filter_prepare(ws->meta,
                               "SELECT d.symbol_id FROM fts_names JOIN fts_doc d ON d.rowid = "
                               "fts_names.rowid JOIN symbols s ON s.id = d.symbol_id WHERE "
                               "fts_names MATCH :p",
                               f,
                               " ORDER BY CASE WHEN COALESCE(s.name, s.qualified_name) LIKE :c "
                               "ESCAPE '\\' THEN 2 ELSE 3 END, s.qualified_name, s.id LIMIT :n",
                               &st, err));
    bind_name(st, ":p", phrase, -1);
    bind_name(st, ":c", contains, -1);
    bind_int(st, ":n", (int64_t)(s->cap + s->n));
    AE_CHECK(collect(ws, st, s, NULL, err));
    if (idset_full(s)) goto cleanup;
    /* tier 4: paths, language and kind values, ids (hex queries) */
    const char *fs = ae_filter_sql(f);
    static const char *const values_cte =
        "WITH RECURSIVE langs(x) AS (SELECT MIN(language) FROM symbols UNION ALL SELECT "
        "(SELECT MIN(language) FROM symbols WHERE language > x) FROM langs WHERE x IS NOT "
        "NULL), kinds(x) AS (SELECT MIN(kind) FROM symbols UNION ALL SELECT (SELECT MIN(kind) "
        "FROM symbols WHERE kind > x) FROM kinds WHERE x IS NOT NULL) ";
    if (asprintf(&sql,
                 "%s SELECT s.id, s.qualified_name FROM fts_paths p JOIN fts_path_doc pd ON "
                 "pd.rowid = p.rowid JOIN symbols s ON s.file_path = pd.path WHERE fts_paths "
                 "MATCH :p%s UNION SELECT s.id, s.qualified_name FROM symbols s WHERE "
                 "s.language IN (SELECT x FROM langs WHERE x LIKE :c ESCAPE '\\')%s UNION "
                 "SELECT s.id, s.qualified_name FROM symbols s WHERE s.kind IN (SELECT x FROM "
                 "kinds WHERE x LIKE :c ESCAPE '\\')%s%s%s%s ORDER BY 2, 1 LIMIT :n",
                 values_cte, fs, fs, fs,
                 all_hex(query) ? " UNION SELECT s.id, s.qualified_name FROM symbols s WHERE "
                                  "s.id LIKE :c ESCAPE '\\'"
                                : "",
                 all_hex(query) ? fs : "", "") < 0) {
        sql = NULL;
        AE_FAIL(err, AE_ENOMEM, "out of memory");
    }
    AE_CHECK(ae_meta_prepare(ws->meta, sql, &st, err));
    rc = ae_filter_bind(st, f, err);
    if (rc < 0) {
        sqlite3_finalize(st);
        goto cleanup;
    }
    bind_name(st, ":p", phrase, -1);
    bind_name(st, ":c", contains, -1);
    bind_int(st, ":n", (int64_t)(s->cap + s->n));
    rc = collect(ws, st, s, NULL, err);
cleanup:
    free(sql);
    free(phrase);
    free(contains);
    return rc;
}

int ae_search_lexical_ex(ae_workspace *ws, const char *query, const ae_search_filter *f,
                         size_t limit, ae_search_results *r, ae_error *err)
{
    limit = ae_search_clamp_limit(limit);
    r->matches = calloc(limit, sizeof *r->matches);
    if (!r->matches) return ae_fail(err, AE_ENOMEM, "out of memory");
    if (!ws->meta || !query[0]) return 0;
    idset s = {calloc(limit, sizeof *s.ids), 0, limit};
    if (!s.ids) return ae_fail(err, AE_ENOMEM, "out of memory");
    if (!ae_filter_active(f)) f = NULL;
    bool ready = false;
    int rc = 0;
    AE_CHECK(ae_meta_fts_ready(ws->meta, &ready, err));
    if (!ready) {
        AE_CHECK(like_scan(ws, query, f, &s, err));
    } else {
        AE_CHECK(names_exact_prefix(ws, query, f, &s, err));
        if (!idset_full(&s)) AE_CHECK(bm25_words(ws, query, f, &s, err));
        if (!idset_full(&s)) {
            size_t nc = utf8_chars(query);
            if (nc >= 3 && nc <= TRIGRAM_MAX_CHARS)
                AE_CHECK(substrings(ws, query, f, &s, err));
            else
                AE_CHECK(like_scan(ws, query, f, &s, err));
        }
    }
    rc = ae_search_resolve(ws, s.ids, s.n, limit, false, r, err);
cleanup:
    free(s.ids);
    return rc;
}

int ae_search_lexical(ae_workspace *ws, const char *query, size_t limit, ae_search_results *r,
                      ae_error *err)
{
    return ae_search_lexical_ex(ws, query, NULL, limit, r, err);
}
