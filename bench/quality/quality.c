/* aether-quality: retrieval quality of an indexed workspace on held-out
 * docstring queries.
 *
 *   aether-quality --workspace DIR --queries FILE [--modes
 * lexical,semantic,hybrid]
 *                  [--label NAME] [--json-out FILE] [--per-query FILE]
 * [--no-bm25]
 *                  [--exact] [--nprobe N] [--refine N]
 *
 * DIR is a corpus built by bench/quality/build_corpus.py and indexed with
 * `aetherd --index-once` (its own .aether/config.toml decides the SIR and
 * embedding providers); FILE is its queries.jsonl.  Every query runs in every
 * mode through ae_search(), the call `aetherd --search` makes, with limit 10
 * and the same vector search options (--exact, --nprobe, --refine as in
 * aetherd; none: the index's own).  A plain BM25 over each symbol's source span
 * is computed in the same run as the baseline (the exact definition is in
 * docs/QUALITY.md and below).
 *
 * Answers are matched on (file_path, qualified_name).  Before scoring, every
 * answer is looked up in the store's symbols table; answers that are not there
 * are reported with a count and dropped.
 *
 * Output: a table on stdout, then one line of JSON (prefixed "QUALITY_JSON ")
 * for machines; --json-out also writes that JSON to a file.  --per-query writes
 * one JSON line per query with the answer's rank in every method (0: not in the
 * top 10) and each method's top result, for error analysis.  Exit 0, or 1 with
 * a message on stderr when the run itself cannot be done. */
#include <aether/aether.h>
#include <aether/symbols.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOP_K 10

/* BM25 parameters (Robertson/Sparck Jones, the textbook defaults). */
#define BM25_K1 1.2
#define BM25_B  0.75

/* English function words dropped from documents and queries. */
static const char *const STOP_WORDS[] = {"a",    "an",  "and",  "are",  "as",   "at",   "be",
                                         "by",   "for", "from", "has",  "have", "in",   "is",
                                         "it",   "its", "of",   "on",   "or",   "that", "the",
                                         "this", "to",  "was",  "were", "will", "with", NULL};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("aether-quality: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ string -> id
 * table */

typedef struct strtab {
    char **keys;
    int *vals;
    size_t cap, len;
} strtab;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void strtab_grow(strtab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    char **keys = calloc(cap, sizeof *keys);
    int *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) die("out of memory growing a table to %zu slots", cap);
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        size_t j = hash_bytes(t->keys[i], strlen(t->keys[i])) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = t->keys[i];
        vals[j] = t->vals[i];
    }
    free(t->keys);
    free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->cap = cap;
}

/* Value of key s[0..n), or -1; with add, inserts it with value next (returned).
 */
static int strtab_get(strtab *t, const char *s, size_t n, bool add, int next)
{
    if (add && (t->len + 1) * 2 > t->cap) strtab_grow(t);
    if (!t->cap) return -1;
    size_t j = hash_bytes(s, n) & (t->cap - 1);
    while (t->keys[j]) {
        if (strncmp(t->keys[j], s, n) == 0 && t->keys[j][n] == '\0') return t->vals[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!add) return -1;
    char *k = xmalloc(n + 1);
    memcpy(k, s, n);
    k[n] = '\0';
    t->keys[j] = k;
    t->vals[j] = next;
    t->len++;
    return next;
}

static void strtab_free(strtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------ tokenizer
 */

/* Calls fn for every token of s[0..n): maximal runs of ASCII letters and digits
 * (so `_` and punctuation separate: snake_case splits), split again at
 * camelCase boundaries (a lower-case letter or digit followed by an upper-case
 * one, and the last capital of a run of capitals followed by a lower-case
 * letter: HTTPServer -> HTTP Server), lower-cased; tokens of one character and
 * stop words are dropped. */
typedef void (*token_fn)(const char *tok, size_t n, void *ctx);

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_stop(const char *t, size_t n)
{
    for (size_t i = 0; STOP_WORDS[i]; i++)
        if (strlen(STOP_WORDS[i]) == n && memcmp(STOP_WORDS[i], t, n) == 0) return true;
    return false;
}

static void emit_token(const char *s, size_t n, token_fn fn, void *ctx)
{
    char buf[64];
    if (n < 2 || n >= sizeof buf) return; /* one letter, or not a word (hex blobs ...) */
    for (size_t i = 0; i < n; i++)
        buf[i] = is_upper(s[i]) ? (char)(s[i] - 'A' + 'a') : s[i];
    buf[n] = '\0';
    if (!is_stop(buf, n)) fn(buf, n, ctx);
}

static void tokenize(const char *s, size_t n, token_fn fn, void *ctx)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !is_alnum(s[i]))
            i++;
        size_t start = i;
        while (i < n && is_alnum(s[i]))
            i++;
        size_t w = start;
        for (size_t j = start + 1; j < i; j++) {
            char a = s[j - 1], b = s[j];
            bool cut = ((is_lower(a) || is_digit(a)) && is_upper(b)) ||
                       (is_upper(a) && is_upper(b) && j + 1 < i && is_lower(s[j + 1]));
            if (cut) {
                emit_token(s + w, j - w, fn, ctx);
                w = j;
            }
        }
        if (i > w) emit_token(s + w, i - w, fn, ctx);
    }
}

/* ------------------------------------------------------------------ corpus */

typedef struct symbol {
    char *file_path, *qualified_name, *key; /* key = file_path "\t" qualified_name */
    int start_line, end_line;
    char *sir_text; /* the string values of its SIR JSON, one a line; NULL without
                       a SIR */
} symbol;

typedef struct posting {
    int doc, tf;
} posting;

typedef struct term {
    posting *p;
    size_t n, cap;
} term;

typedef struct bm25 {
    strtab vocab;
    term *terms;
    size_t nterms, cap_terms;
    int *dl; /* tokens per doc */
    size_t ndocs;
    double avgdl;
} bm25;

typedef struct tok_collect {
    bm25 *ix;
    int *ids;
    size_t n, cap;
    bool add; /* false for queries: unknown tokens are skipped */
} tok_collect;

static void collect_token(const char *tok, size_t n, void *ctx)
{
    tok_collect *c = ctx;
    bm25 *ix = c->ix;
    int id = strtab_get(&ix->vocab, tok, n, c->add, (int)ix->nterms);
    if (id < 0) return;
    if ((size_t)id == ix->nterms) {
        if (ix->nterms == ix->cap_terms) {
            ix->cap_terms = ix->cap_terms ? ix->cap_terms * 2 : 4096;
            ix->terms = xrealloc(ix->terms, ix->cap_terms * sizeof *ix->terms);
        }
        memset(&ix->terms[ix->nterms++], 0, sizeof *ix->terms);
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->ids = xrealloc(c->ids, c->cap * sizeof *c->ids);
    }
    c->ids[c->n++] = id;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void bm25_add_doc(bm25 *ix, int doc, const char *text, size_t len, tok_collect *c)
{
    c->n = 0;
    c->add = true;
    tokenize(text, len, collect_token, c);
    ix->dl[doc] = (int)c->n;
    qsort(c->ids, c->n, sizeof *c->ids, cmp_int);
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        while (j < c->n && c->ids[j] == c->ids[i])
            j++;
        term *t = &ix->terms[c->ids[i]];
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 4;
            t->p = xrealloc(t->p, t->cap * sizeof *t->p);
        }
        t->p[t->n++] = (posting){doc, (int)(j - i)};
        i = j;
    }
}

typedef struct scored {
    int doc;
    double score;
} scored;

/* Top TOP_K docs for the query into out (count returned); acc is zeroed scratch
 * of ndocs. */
static size_t bm25_query(bm25 *ix, const char *q, double *acc, int *touched, tok_collect *c,
                         scored *out)
{
    c->n = 0;
    c->add = false;
    tokenize(q, strlen(q), collect_token, c);
    qsort(c->ids, c->n, sizeof *c->ids, cmp_int);
    size_t nt = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (i && c->ids[i] == c->ids[i - 1]) continue; /* each distinct query term once */
        term *t = &ix->terms[c->ids[i]];
        double N = (double)ix->ndocs, df = (double)t->n;
        double idf = log((N - df + 0.5) / (df + 0.5) + 1.0);
        for (size_t k = 0; k < t->n; k++) {
            int d = t->p[k].doc;
            double tf = t->p[k].tf;
            double norm = BM25_K1 * (1.0 - BM25_B + BM25_B * ix->dl[d] / ix->avgdl);
            if (acc[d] == 0.0) touched[nt++] = d;
            acc[d] += idf * tf * (BM25_K1 + 1.0) / (tf + norm);
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < nt; i++) {
        int d = touched[i];
        scored s = {d, acc[d]};
        acc[d] = 0.0;
        /* insertion into the sorted top list; ties go to the lower doc index */
        size_t pos = n;
        while (pos > 0 && (out[pos - 1].score < s.score ||
                           (out[pos - 1].score == s.score && out[pos - 1].doc > s.doc)))
            pos--;
        if (pos >= TOP_K) continue;
        size_t last = n < TOP_K ? n : TOP_K - 1;
        memmove(&out[pos + 1], &out[pos], (last - pos) * sizeof *out);
        out[pos] = s;
        if (n < TOP_K) n++;
    }
    return n;
}

static void bm25_free(bm25 *ix)
{
    for (size_t i = 0; i < ix->nterms; i++)
        free(ix->terms[i].p);
    free(ix->terms);
    free(ix->dl);
    strtab_free(&ix->vocab);
}

/* Reads a whole file; NULL when it cannot be read. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = xrealloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n < cap ? n : cap - 1] = '\0';
    *len = n;
    return buf;
}

/* Indexes every symbol's source span (lines start..end of its file). */
static size_t build_bm25(bm25 *ix, const char *root, symbol *syms, size_t n)
{
    memset(ix, 0, sizeof *ix);
    ix->ndocs = n;
    ix->dl = calloc(n ? n : 1, sizeof *ix->dl);
    if (!ix->dl) die("out of memory");
    tok_collect c = {.ix = ix};
    const char *cur = NULL;
    char *text = NULL;
    size_t len = 0, unreadable = 0, *lines = NULL, nlines = 0, cap_lines = 0;
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cur || strcmp(cur, syms[i].file_path) != 0) {
            free(text);
            cur = syms[i].file_path;
            size_t pl = strlen(root) + strlen(cur) + 2;
            char *path = xmalloc(pl);
            snprintf(path, pl, "%s/%s", root, cur);
            text = read_all(path, &len);
            free(path);
            if (!text) unreadable++;
            nlines = 0;
            for (size_t k = 0; text && k <= len; k++) {
                if (k == 0 || text[k - 1] == '\n') {
                    if (nlines == cap_lines) {
                        cap_lines = cap_lines ? cap_lines * 2 : 1024;
                        lines = xrealloc(lines, cap_lines * sizeof *lines);
                    }
                    lines[nlines++] = k;
                }
            }
        }
        if (!text) continue;
        int s = syms[i].start_line, e = syms[i].end_line;
        if (s < 1) s = 1;
        if (e < s) e = s;
        if ((size_t)s > nlines) continue;
        size_t from = lines[s - 1];
        size_t to = (size_t)e < nlines ? lines[e] : len;
        bm25_add_doc(ix, (int)i, text + from, to - from, &c);
        total += ix->dl[i];
    }
    free(text);
    free(lines);
    free(c.ids);
    ix->avgdl = n ? (double)total / (double)n : 1.0;
    if (ix->avgdl <= 0) ix->avgdl = 1.0;
    return unreadable;
}

/* Indexes every symbol's SIR text (a symbol without one is an empty document).
 */
static void build_bm25_sir(bm25 *ix, symbol *syms, size_t n)
{
    memset(ix, 0, sizeof *ix);
    ix->ndocs = n;
    ix->dl = calloc(n ? n : 1, sizeof *ix->dl);
    if (!ix->dl) die("out of memory");
    tok_collect c = {.ix = ix};
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = syms[i].sir_text ? syms[i].sir_text : "";
        bm25_add_doc(ix, (int)i, t, strlen(t), &c);
        total += ix->dl[i];
    }
    free(c.ids);
    ix->avgdl = n && total ? (double)total / (double)n : 1.0;
}

/* ------------------------------------------------------------------ queries */

typedef struct query {
    char *text, *file_path, *qualified_name, *key;
} query;

static char *make_key(const char *file_path, const char *qname)
{
    size_t n = strlen(file_path) + strlen(qname) + 2;
    char *k = xmalloc(n);
    snprintf(k, n, "%s\t%s", file_path, qname);
    return k;
}

static query *load_queries(const char *path, size_t *nq)
{
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open queries file %s: %s", path, strerror(errno));
    query *q = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t r;
    while ((r = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (r == 0 || strspn(line, " \t\r\n") == (size_t)r) continue;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        const char *t = NULL, *fp = NULL, *qn = NULL;
        if (o && json_is_object(o)) {
            t = json_string_value(json_object_get(o, "query"));
            fp = json_string_value(json_object_get(o, "file_path"));
            qn = json_string_value(json_object_get(o, "qualified_name"));
        }
        if (!t || !fp || !qn)
            die("%s:%zu: expected a JSON object with string fields query, file_path "
                "and "
                "qualified_name%s%s",
                path, lineno, o ? "" : ": ", o ? "" : jerr.text);
        if (n == cap) {
            cap = cap ? cap * 2 : 512;
            q = xrealloc(q, cap * sizeof *q);
        }
        q[n].text = xstrdup(t);
        q[n].file_path = xstrdup(fp);
        q[n].qualified_name = xstrdup(qn);
        q[n].key = make_key(fp, qn);
        n++;
        json_decref(o);
    }
    free(line);
    fclose(f);
    *nq = n;
    return q;
}

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sbuf_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 2 > b->cap) {
        b->cap = (b->n + n + 2) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n++] = '\n';
    b->p[b->n] = '\0';
}

static void json_strings(json_t *v, sbuf *b)
{
    if (json_is_string(v)) {
        sbuf_add(b, json_string_value(v), json_string_length(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_strings(x, b);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) json_strings(x, b);
    }
}

/* Every string value of a SIR's JSON (intent, inputs, dependencies ...), one a
 * line. */
static char *sir_text(const char *sir_json)
{
    if (!sir_json) return NULL;
    json_t *j = json_loads(sir_json, 0, NULL);
    if (!j) return NULL;
    sbuf b = {0};
    json_strings(j, &b);
    json_decref(j);
    return b.p;
}

typedef struct symbol_list {
    symbol *s;
    size_t n, cap;
} symbol_list;

static int add_symbol(const ae_symbol_row *row, void *ctx)
{
    symbol_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->s = xrealloc(l->s, l->cap * sizeof *l->s);
    }
    symbol *s = &l->s[l->n++];
    s->file_path = xstrdup(row->file_path);
    s->qualified_name = xstrdup(row->qualified_name);
    s->key = make_key(s->file_path, s->qualified_name);
    s->start_line = (int)row->start_line;
    s->end_line = (int)row->end_line;
    s->sir_text = sir_text(row->sir_json);
    return 0;
}

/* Every symbol with its SIR, through the public listing call (file, line order). */
static symbol *load_symbols(ae_workspace *ws, size_t *nsyms)
{
    symbol_list l = {0};
    ae_error err;
    if (ae_workspace_symbols(ws, NULL, AE_SYMBOLS_WITH_SIR, add_symbol, &l, &err) < 0)
        die("listing symbols: %s", err.message);
    *nsyms = l.n;
    return l.s;
}

/* ------------------------------------------------------------------ metrics */

typedef struct method {
    const char *name;
    bm25 *ix; /* the BM25 methods' index */
    bool is_mode;
    ae_search_mode mode;
    double mrr, r1, r10;
    size_t fallbacks, errors;
    double *ms;
    int *rank;  /* per query, 0 = not in the top 10 */
    char **top; /* per query: "file_path qualified_name" of the first result, or
                   NULL */
    char first_error[sizeof(((ae_error *)0)->message)];
} method;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void score_rank(method *m, int rank)
{
    if (rank < 1 || rank > TOP_K) return;
    m->mrr += 1.0 / rank;
    if (rank == 1) m->r1 += 1;
    m->r10 += 1;
}

/* Paired bootstrap over the queries: BOOT_N resamples (with replacement, a
 * fixed seed) give a 95% interval for each method's MRR@10 and for its ratio to
 * the first method's (the BM25 baseline) on the same resampled queries. */
#define BOOT_N    2000
#define BOOT_SEED 16

static uint64_t boot_state;

static uint64_t boot_next(void)
{
    uint64_t z = (boot_state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct interval {
    double lo, hi;
} interval;

/* mrr_ci[m] and ratio_ci[m] for every method (ratio_ci[0] is 1..1). */
static void bootstrap(method *ms, size_t nm, size_t nq, interval *mrr_ci, interval *ratio_ci)
{
    double *mrr = xmalloc(nm * BOOT_N * sizeof *mrr), *ratio = xmalloc(nm * BOOT_N * sizeof *ratio);
    double *sum = xmalloc(nm * sizeof *sum);
    boot_state = BOOT_SEED;
    for (size_t b = 0; b < BOOT_N; b++) {
        memset(sum, 0, nm * sizeof *sum);
        for (size_t k = 0; k < nq; k++) {
            size_t i = (size_t)(boot_next() % nq);
            for (size_t m = 0; m < nm; m++)
                if (ms[m].rank[i]) sum[m] += 1.0 / ms[m].rank[i];
        }
        for (size_t m = 0; m < nm; m++) {
            mrr[m * BOOT_N + b] = sum[m] / (double)nq;
            ratio[m * BOOT_N + b] = sum[0] > 0 ? sum[m] / sum[0] : 0;
        }
    }
    for (size_t m = 0; m < nm; m++) {
        mrr_ci[m].lo = percentile(mrr + m * BOOT_N, BOOT_N, 0.025);
        mrr_ci[m].hi = percentile(mrr + m * BOOT_N, BOOT_N, 0.975);
        ratio_ci[m].lo = percentile(ratio + m * BOOT_N, BOOT_N, 0.025);
        ratio_ci[m].hi = percentile(ratio + m * BOOT_N, BOOT_N, 0.975);
    }
    free(mrr);
    free(ratio);
    free(sum);
}

static void usage(void)
{
    fputs("usage: aether-quality --workspace DIR --queries FILE [--modes "
          "lexical,semantic,hybrid]\n"
          "                      [--label NAME] [--json-out FILE] [--per-query "
          "FILE] [--no-bm25]\n"
          "                      [--exact] [--nprobe N] [--refine N]\n",
          stderr);
    exit(2);
}

/* The seed recorded by build_corpus.py in manifest.json beside the queries, or
 * -1. */
static long manifest_seed(const char *queries_path)
{
    const char *slash = strrchr(queries_path, '/');
    size_t dn = slash ? (size_t)(slash - queries_path) : 1;
    char *p = xmalloc(dn + 32);
    snprintf(p, dn + 32, "%.*s/manifest.json", (int)dn, slash ? queries_path : ".");
    json_t *m = json_load_file(p, 0, NULL);
    free(p);
    long seed = -1;
    if (m && json_is_integer(json_object_get(m, "seed")))
        seed = (long)json_integer_value(json_object_get(m, "seed"));
    json_decref(m);
    return seed;
}

int main(int argc, char **argv)
{
    const char *wsdir = NULL, *qpath = NULL, *modes = "lexical,semantic,hybrid", *label = "";
    const char *json_out = NULL, *per_query = NULL;
    bool want_bm25 = true;
    ae_vs_search_opts vso = {0}; /* the CLI's defaults */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--workspace") == 0 && has)
            wsdir = argv[++i];
        else if (strcmp(a, "--queries") == 0 && has)
            qpath = argv[++i];
        else if (strcmp(a, "--modes") == 0 && has)
            modes = argv[++i];
        else if (strcmp(a, "--label") == 0 && has)
            label = argv[++i];
        else if (strcmp(a, "--json-out") == 0 && has)
            json_out = argv[++i];
        else if (strcmp(a, "--per-query") == 0 && has)
            per_query = argv[++i];
        else if (strcmp(a, "--no-bm25") == 0)
            want_bm25 = false;
        else if (strcmp(a, "--exact") == 0)
            vso.exact = 1;
        else if ((strcmp(a, "--nprobe") == 0 || strcmp(a, "--refine") == 0) && has) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 1 || v > (1 << 20))
                die("%s: expected a positive integer, got '%s'", a, argv[i]);
            *(a[2] == 'n' ? &vso.nprobe : &vso.refine_factor) = (int)v;
        } else
            usage();
    }
    if (!wsdir || !qpath) usage();

    size_t nq_all = 0;
    query *qs = load_queries(qpath, &nq_all);
    if (!nq_all) die("%s: no queries", qpath);

    ae_workspace *ws = NULL;
    ae_error err;
    ae_open_options oo = {.readonly = true};
    if (ae_workspace_open(wsdir, &oo, &ws, &err) < 0)
        die("open workspace %s: %s", wsdir, err.message);
    ae_status st;
    if (ae_workspace_status(ws, &st, &err) < 0) die("status of %s: %s", wsdir, err.message);
    if (!st.store_present || st.symbol_count == 0)
        die("%s has no index: run aetherd --workspace %s --index-once first", wsdir, wsdir);

    size_t nsyms = 0;
    symbol *syms = load_symbols(ws, &nsyms);
    strtab keys = {0};
    for (size_t i = 0; i < nsyms; i++)
        strtab_get(&keys, syms[i].key, strlen(syms[i].key), true, (int)i);

    /* Every answer must be a symbol of the store; missing ones are reported and
     * dropped. */
    size_t nq = 0, missing = 0;
    for (size_t i = 0; i < nq_all; i++) {
        if (strtab_get(&keys, qs[i].key, strlen(qs[i].key), false, 0) < 0) {
            if (missing < 10)
                fprintf(stderr, "aether-quality: answer not in the store, dropped: %s %s\n",
                        qs[i].file_path, qs[i].qualified_name);
            missing++;
            free(qs[i].text);
            free(qs[i].file_path);
            free(qs[i].qualified_name);
            free(qs[i].key);
            continue;
        }
        qs[nq++] = qs[i];
    }
    if (!nq) die("none of the %zu answers is a symbol of %s", nq_all, wsdir);

    method ms[5];
    size_t nm = 0;
    bm25 ix = {0}, ix_sir = {0};
    if (want_bm25) {
        ms[nm++] = (method){.name = "bm25-baseline", .ix = &ix};
        ms[nm++] = (method){.name = "bm25-sir", .ix = &ix_sir};
    }
    char *mlist = xstrdup(modes);
    for (char *save = NULL, *tok = strtok_r(mlist, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        ae_search_mode mode;
        if (ae_search_mode_parse(tok, &mode) < 0)
            die("--modes: unknown mode '%s' (lexical, semantic, hybrid)", tok);
        if (nm == sizeof ms / sizeof *ms) die("--modes: at most three modes");
        ms[nm++] = (method){.name = ae_search_mode_name(mode), .is_mode = true, .mode = mode};
    }
    free(mlist);
    for (size_t m = 0; m < nm; m++) {
        ms[m].ms = calloc(nq, sizeof(double));
        ms[m].rank = calloc(nq, sizeof(int));
        ms[m].top = calloc(nq, sizeof(char *));
        if (!ms[m].ms || !ms[m].rank || !ms[m].top) die("out of memory");
    }

    double t0 = now_s();
    size_t unreadable = 0;
    double bm25_build_s = 0;
    if (want_bm25) {
        unreadable = build_bm25(&ix, ae_workspace_root(ws), syms, nsyms);
        build_bm25_sir(&ix_sir, syms, nsyms);
        bm25_build_s = now_s() - t0;
    }

    double *acc = calloc(nsyms ? nsyms : 1, sizeof *acc);
    int *touched = calloc(nsyms ? nsyms : 1, sizeof *touched);
    tok_collect qc = {0};
    if (!acc || !touched) die("out of memory");
    for (size_t m = 0; m < nm; m++) {
        method *me = &ms[m];
        for (size_t i = 0; i < nq; i++) {
            int rank = 0;
            double ts = now_s();
            if (!me->is_mode) {
                scored top[TOP_K];
                qc.ix = me->ix;
                size_t n = bm25_query(me->ix, qs[i].text, acc, touched, &qc, top);
                me->ms[i] = (now_s() - ts) * 1e3;
                for (size_t k = 0; k < n && !rank; k++)
                    if (strcmp(syms[top[k].doc].key, qs[i].key) == 0) rank = (int)k + 1;
                if (n) me->top[i] = xstrdup(syms[top[0].doc].key);
            } else {
                ae_search_results *r = NULL;
                if (ae_search(ws, qs[i].text, me->mode, TOP_K, &vso, &r, &err) < 0) {
                    if (!me->errors++)
                        snprintf(me->first_error, sizeof me->first_error, "%s", err.message);
                    me->ms[i] = (now_s() - ts) * 1e3;
                    continue;
                }
                me->ms[i] = (now_s() - ts) * 1e3;
                if (r->mode_used != me->mode) me->fallbacks++;
                if (r->n)
                    me->top[i] = make_key(r->matches[0].file_path, r->matches[0].qualified_name);
                for (size_t k = 0; k < r->n && k < TOP_K && !rank; k++)
                    if (strcmp(r->matches[k].file_path, qs[i].file_path) == 0 &&
                        strcmp(r->matches[k].qualified_name, qs[i].qualified_name) == 0)
                        rank = (int)k + 1;
                ae_search_results_free(r);
            }
            me->rank[i] = rank;
            score_rank(me, rank);
        }
    }
    free(acc);
    free(touched);
    free(qc.ids);

    if (per_query) {
        FILE *f = fopen(per_query, "w");
        if (!f) die("cannot write %s: %s", per_query, strerror(errno));
        for (size_t i = 0; i < nq; i++) {
            json_t *ranks = json_object(), *tops = json_object();
            for (size_t m = 0; m < nm; m++) {
                json_object_set_new(ranks, ms[m].name, json_integer(ms[m].rank[i]));
                json_object_set_new(tops, ms[m].name,
                                    ms[m].top[i] ? json_string(ms[m].top[i]) : json_null());
            }
            json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "query", qs[i].text, "file_path",
                                  qs[i].file_path, "qualified_name", qs[i].qualified_name, "rank",
                                  ranks, "top1", tops);
            char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (!line || fprintf(f, "%s\n", line) < 0) die("cannot write %s", per_query);
            free(line);
            json_decref(o);
        }
        if (fclose(f) != 0) die("cannot write %s: %s", per_query, strerror(errno));
    }

    long seed = manifest_seed(qpath);
    const char *prov = st.embedding_provider ? st.embedding_provider : "?";
    const char *model = st.embedding_model && *st.embedding_model ? st.embedding_model : "default";
    printf("retrieval quality%s%s: %zu queries (%zu answers missing from the "
           "store, dropped), "
           "%zu symbols, seed %ld\n",
           *label ? " of " : "", label, nq, missing, nsyms, seed);
    printf("embeddings: %s (model %s, %s: %s%s); top %d; BM25 k1 %.1f b %.2f "
           "over source spans"
           " (bm25-baseline) and over SIR text (bm25-sir)\n",
           st.embeddings_enabled ? prov : "disabled", model, st.vector_backend, st.index_state,
           vso.exact ? ", searched exactly" : "", TOP_K, BM25_K1, BM25_B);
    if (unreadable) printf("warning: %zu source files could not be read for BM25\n", unreadable);
    interval *mrr_ci = xmalloc(nm * sizeof *mrr_ci), *ratio_ci = xmalloc(nm * sizeof *ratio_ci);
    bootstrap(ms, nm, nq, mrr_ci, ratio_ci);
    printf("95%% intervals: paired bootstrap over the queries, %d resamples, "
           "seed %d\n",
           BOOT_N, BOOT_SEED);
    printf("%-14s %7s %13s %7s %7s %9s %13s %9s %9s\n", "method", "MRR@10", "95% CI", "R@1", "R@10",
           "vs BM25", "95% CI", "p50 ms", "p95 ms");
    double base = want_bm25 ? ms[0].mrr / (double)nq : 0;
    json_t *jm = json_object();
    for (size_t m = 0; m < nm; m++) {
        method *me = &ms[m];
        double mrr = me->mrr / (double)nq, r1 = me->r1 / (double)nq, r10 = me->r10 / (double)nq;
        double p50 = percentile(me->ms, nq, 0.5), p95 = percentile(me->ms, nq, 0.95);
        char ratio[32] = "-", rci[32] = "-", mci[32];
        if (want_bm25 && base > 0) {
            snprintf(ratio, sizeof ratio, "%.2fx", mrr / base);
            snprintf(rci, sizeof rci, "%.2f-%.2f", ratio_ci[m].lo, ratio_ci[m].hi);
        }
        snprintf(mci, sizeof mci, "%.3f-%.3f", mrr_ci[m].lo, mrr_ci[m].hi);
        printf("%-14s %7.3f %13s %7.3f %7.3f %9s %13s %9.3f %9.3f", me->name, mrr, mci, r1, r10,
               ratio, rci, p50, p95);
        if (me->fallbacks) printf("  (%zu fell back to lexical)", me->fallbacks);
        if (me->errors) printf("  (%zu errors: %s)", me->errors, me->first_error);
        printf("\n");
        json_t *jr = json_pack("{s:f, s:[f,f], s:f, s:f, s:I, s:I, s:f, s:f}", "mrr10", mrr,
                               "mrr10_ci95", mrr_ci[m].lo, mrr_ci[m].hi, "r1", r1, "r10", r10,
                               "fallbacks", (json_int_t)me->fallbacks, "errors",
                               (json_int_t)me->errors, "p50_ms", p50, "p95_ms", p95);
        if (want_bm25 && base > 0) {
            json_object_set_new(jr, "vs_bm25", json_real(mrr / base));
            json_object_set_new(jr, "vs_bm25_ci95",
                                json_pack("[f,f]", ratio_ci[m].lo, ratio_ci[m].hi));
        }
        json_object_set_new(jm, me->name, jr);
        free(me->ms);
        free(me->rank);
        for (size_t i = 0; i < nq; i++)
            free(me->top[i]);
        free(me->top);
    }
    free(mrr_ci);
    free(ratio_ci);
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:b, s:f, s:o}",
                          "bench", "quality", "label", label, "queries", (json_int_t)nq,
                          "queries_missing", (json_int_t)missing, "symbols", (json_int_t)nsyms,
                          "seed", (json_int_t)seed, "k", (json_int_t)TOP_K, "embedding_provider",
                          st.embeddings_enabled ? prov : "disabled", "embedding_model", model,
                          "vector_backend", st.vector_backend, "index_state", st.index_state,
                          "exact", vso.exact != 0, "bm25_build_s", bm25_build_s, "methods", jm);
    char *js = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("QUALITY_JSON %s\n", js);
    if (json_out) {
        FILE *f = fopen(json_out, "w");
        if (!f || fprintf(f, "%s\n", js) < 0 || fclose(f) != 0)
            die("cannot write %s: %s", json_out, strerror(errno));
    }
    free(js);
    json_decref(j);

    if (want_bm25) {
        bm25_free(&ix);
        bm25_free(&ix_sir);
    }
    for (size_t i = 0; i < nq; i++) {
        free(qs[i].text);
        free(qs[i].file_path);
        free(qs[i].qualified_name);
        free(qs[i].key);
    }
    free(qs);
    for (size_t i = 0; i < nsyms; i++) {
        free(syms[i].file_path);
        free(syms[i].qualified_name);
        free(syms[i].key);
        free(syms[i].sir_text);
    }
    free(syms);
    strtab_free(&keys);
    ae_workspace_close(ws);
    return 0;
}
