/* libFuzzer target for a whole vector store on disk: a committed table
 * (built once, in memory, at the first input: 300 rows in three fragments,
 * deletion files, an IVF-PQ index, several retained versions) is written out
 * with the input's damage -- byte flips, truncations, overwritten bytes,
 * deleted files, appended garbage, in any file -- and then used the way the
 * programs use it:
 *   1. check (ae_table_fsck), search through the backend (exact, and with the
 *      index), 2. repair (ae_table_repair), check and search again,
 *   3. upsert, delete, compact (ae_table_optimize), check again.
 * What must hold (abort() otherwise):
 *   - a check that finds nothing means the searches that answer give exactly
 *     the undamaged store's answers (no wrong answer without an error);
 *   - a repair that succeeds leaves a table the check passes, whose rows are
 *     the undamaged ones (every hit scores as it did before the damage);
 *   - writes after a successful repair leave a table the check passes.
 * Errors anywhere are fine; crashes, leaks, hangs and sanitizer reports are
 * bugs.  Work happens under /dev/shm (or /tmp) in a directory per process.
 *
 * Input: up to 12 operations of 5 bytes {file, kind, pos_lo, pos_hi, value};
 * file indexes the store's files (sorted by path), pos is a fraction of the
 * file's length (so every offset is reachable), kind: 0-2 flip (xor value|1),
 * 3 overwrite with value, 4 truncate at pos, 5 delete the file, 6 append
 * value+1 bytes of value, 7 swap two bytes. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <aether/strlist.h>
#include <aether/vector_store.h>

#include "store/table_index_policy.h"
#include "util/fs.h"
#include "vectors/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIM     8
#define NROWS   300
#define NQUERY  2
#define PROV    "fz"
#define MODEL   "m1"
#define MAXFILE 64

typedef struct pfile {
    char rel[160]; /* relative to the table directory */
    uint8_t *bytes;
    size_t len;
} pfile;

static char root[96], vectors[128], tdir[300];
static pfile files[MAXFILE];
static size_t nfiles;
static float queries[NQUERY][DIM];
/* The undamaged store's exact score of every live row, per query. */
static ae_vs_hit truth[NQUERY][NROWS + 8], by_id[NQUERY][NROWS + 8];
static size_t ntruth[NQUERY];
static uint64_t pristine_version; /* the undamaged store's newest version */
static uint64_t newest_version(void);

static void vec_of(int i, int salt, float *v)
{
    for (int d = 0; d < DIM; d++)
        v[d] =
            (float)(((i * 31 + d * 17 + salt * 7) % 23) - 11) / 11.0f + (d == i % DIM ? 1.5f : 0);
}

static int cmp_hit_id(const void *a, const void *b)
{
    return strcmp(((const ae_vs_hit *)a)->symbol_id, ((const ae_vs_hit *)b)->symbol_id);
}

static void die(const char *what, const ae_error *e)
{
    fprintf(stderr, "fuzz_store_corrupt init: %s: %s\n", what, e ? e->message : strerror(errno));
    abort();
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int upsert_range(ae_table *t, int from, int to, int salt, ae_error *e)
{
    static char ids[NROWS + 20][16];
    static float vecs[NROWS + 20][DIM];
    ae_vs_record recs[NROWS];
    int n = 0;
    for (int i = from; i < to; i++, n++) {
        snprintf(ids[n], sizeof ids[n], "id%04d", i);
        vec_of(i, salt, vecs[n]);
        recs[n] = (ae_vs_record){.symbol_id = ids[n],
                                 .sir_hash = salt ? "h1" : "h0",
                                 .provider = PROV,
                                 .model = MODEL,
                                 .embedding = vecs[n],
                                 .dim = DIM,
                                 .updated_at = 1000 + i};
    }
    return ae_table_upsert(t, recs, (size_t)n, e);
}

static void snapshot_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[600], rel[200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        snprintf(rel, sizeof rel, "%s%s", prefix, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            char sub[220];
            snprintf(sub, sizeof sub, "%s/", rel);
            snapshot_files(p, sub);
            continue;
        }
        if (nfiles == MAXFILE) abort();
        pfile *f = &files[nfiles++];
        snprintf(f->rel, sizeof f->rel, "%s", rel);
        FILE *fp = fopen(p, "rb");
        if (!fp) die(p, NULL);
        f->len = (size_t)st.st_size;
        f->bytes = malloc(f->len + 1);
        if (!f->bytes || fread(f->bytes, 1, f->len, fp) != f->len) die(p, NULL);
        fclose(fp);
    }
    closedir(d);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const pfile *)a)->rel, ((const pfile *)b)->rel);
}

static int search(ae_vector_store *vs, int q, size_t limit, int exact, ae_vs_hit **hits, size_t *n)
{
    ae_vs_search_opts o = {.exact = exact};
    ae_error e;
    return ae_vs_search(vs, queries[q], DIM, PROV, MODEL, limit, &o, hits, n, &e);
}

static void remove_root(void)
{
    rm_tree(root);
}

static void init(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(root, sizeof root, "%s/fuzz_store.%d", base, (int)getpid());
    snprintf(vectors, sizeof vectors, "%s/vectors", root);
    rm_tree(root);
    atexit(remove_root);
    ae_error e;
    ae_table_set_index_min_rows(256);
    ae_table *t = NULL;
    if (ae_table_open(vectors, PROV, MODEL, DIM, 1, NULL, &t, &e) < 0) die("open", &e);
    snprintf(tdir, sizeof tdir, "%s", ae_table_dir(t));
    if (upsert_range(t, 0, 100, 0, &e) < 0 || upsert_range(t, 100, 200, 0, &e) < 0 ||
        upsert_range(t, 200, 300, 0, &e) < 0)
        die("upsert", &e);
    const char *gone[] = {"id0005", "id0150", "id0299"};
    if (ae_table_delete(t, gone, 3, NULL, &e) < 0) die("delete", &e);
    if (upsert_range(t, 40, 45, 1, &e) < 0) die("upsert", &e); /* replaced rows: more deletions */
    ae_table_close(t);
    ae_vector_store *vs = NULL;
    if (ae_vs_open_table(vectors, &vs, &e) < 0 || ae_tables_build_indexes(vs, true, &e) < 0)
        die("index", &e);
    for (int q = 0; q < NQUERY; q++) {
        vec_of(q * 97 + 13, 3, queries[q]);
        ae_vs_hit *h = NULL;
        size_t n = 0;
        if (search(vs, q, NROWS + 8, 1, &h, &n) < 0) die("search", NULL);
        memcpy(truth[q], h, n * sizeof *h);
        memcpy(by_id[q], h, n * sizeof *h);
        qsort(by_id[q], n, sizeof *h, cmp_hit_id);
        ntruth[q] = n;
        free(h);
    }
    ae_vs_close(vs);
    pristine_version = newest_version();
    snapshot_files(tdir, "");
    qsort(files, nfiles, sizeof *files, cmp_file);
}

/* Whether `score` is what query q scores against a vector id held in some
 * version of the store: salt 0, the replaced rows 40..44 (salt 1), or the
 * rows the writes after a repair add (salt 2). */
static bool plausible(int q, const char *id, float score)
{
    int n;
    if (sscanf(id, "id%d", &n) != 1 || n < 0 || n >= NROWS + 5) return false;
    for (int salt = 0; salt < 3; salt++) {
        float v[DIM], dot = 0, nq = 0, nv = 0;
        vec_of(n, salt, v);
        for (int d = 0; d < DIM; d++) {
            dot += queries[q][d] * v[d];
            nq += queries[q][d] * queries[q][d];
            nv += v[d] * v[d];
        }
        if (fabsf(dot / sqrtf(nq * nv) - score) <= 1e-4f) return true;
    }
    return false;
}

/* The undamaged score of id for query q, or NAN if it had no live row. */
static float truth_score(int q, const char *id)
{
    ae_vs_hit key;
    snprintf(key.symbol_id, sizeof key.symbol_id, "%s", id);
    const ae_vs_hit *h = bsearch(&key, by_id[q], ntruth[q], sizeof key, cmp_hit_id);
    return h ? h->score : NAN;
}

static void write_damaged(const uint8_t *data, size_t size)
{
    rm_tree(tdir);
    static uint8_t *buf[MAXFILE];
    static size_t len[MAXFILE];
    static bool gone[MAXFILE];
    for (size_t i = 0; i < nfiles; i++) {
        free(buf[i]);
        buf[i] = malloc(files[i].len + 256);
        if (!buf[i]) abort();
        memcpy(buf[i], files[i].bytes, files[i].len);
        len[i] = files[i].len;
        gone[i] = false;
    }
    for (size_t op = 0; op + 5 <= size && op < 12 * 5; op += 5) {
        size_t f = data[op] % nfiles;
        uint8_t kind = data[op + 1] & 7, val = data[op + 4];
        size_t pos = len[f] ? (size_t)(((uint32_t)data[op + 2] | (uint32_t)data[op + 3] << 8) *
                                           (uint64_t)len[f] >>
                                       16)
                            : 0;
        switch (kind) {
        case 0:
        case 1:
        case 2:
            if (len[f]) buf[f][pos] ^= (uint8_t)(val | 1);
            break;
        case 3:
            if (len[f]) buf[f][pos] = val;
            break;
        case 4:
            len[f] = pos;
            break;
        case 5:
            gone[f] = true;
            break;
        case 6:
            if (len[f] + val + 1u <= files[f].len + 256) {
                memset(buf[f] + len[f], val, (size_t)val + 1);
                len[f] += (size_t)val + 1;
            }
            break;
        default:
            if (len[f] > 1) {
                size_t o = (pos + 1 + val) % len[f];
                uint8_t c = buf[f][pos];
                buf[f][pos] = buf[f][o];
                buf[f][o] = c;
            }
        }
    }
    static const char *const subs[] = {"", "/data", "/deletions", "/versions", "/index"};
    for (size_t s = 0; s < 5; s++) {
        char d[400];
        snprintf(d, sizeof d, "%s%s", tdir, subs[s]);
        mkdir(vectors, 0755);
        mkdir(d, 0755);
    }
    for (size_t i = 0; i < nfiles; i++) {
        if (gone[i]) continue;
        char p[500];
        snprintf(p, sizeof p, "%s/%s", tdir, files[i].rel);
        FILE *fp = fopen(p, "wb");
        if (!fp) abort();
        if (len[i] && fwrite(buf[i], 1, len[i], fp) != len[i]) abort();
        fclose(fp);
    }
}

static uint64_t newest_version(void)
{
    ae_table *t = NULL;
    ae_error e;
    if (ae_table_open_dir(tdir, NULL, &t, &e) < 0) return 0;
    uint64_t v = ae_table_version(t);
    ae_table_close(t);
    return v;
}

static size_t table_problems(void)
{
    ae_table_fsck_report r;
    ae_error e;
    if (ae_table_fsck(tdir, &r, &e) < 0) return SIZE_MAX; /* could not run: not clean */
    size_t n = r.n_problems;
    ae_table_fsck_report_free(&r);
    return n;
}

/* Every hit of every query scores as in the undamaged store; with `exact`
 * (and `all`: the whole undamaged answer is required) the lists are equal. */
static void check_answers(bool all)
{
    ae_vector_store *vs = NULL;
    ae_error e;
    if (ae_vs_open_table(vectors, &vs, &e) < 0) return;
    for (int q = 0; q < NQUERY; q++) {
        for (int exact = 1; exact >= 0; exact--) {
            ae_vs_hit *h = NULL;
            size_t n = 0;
            size_t limit = exact ? NROWS + 8 : 10;
            if (search(vs, q, limit, exact, &h, &n) < 0) continue; /* an error is an answer */
            if (all && exact && n != ntruth[q]) abort();
            for (size_t i = 0; i < n; i++) {
                if (!plausible(q, h[i].symbol_id, h[i].score)) abort(); /* a wrong row */
                if (!all) continue;
                float want = truth_score(q, h[i].symbol_id);
                if (isnan(want) || fabsf(want - h[i].score) > 1e-4f) abort();
                if (exact && strcmp(h[i].symbol_id, truth[q][i].symbol_id)) abort();
            }
            free(h);
        }
    }
    ae_vs_close(vs);
}

static void writes_after_repair(void)
{
    ae_table *t = NULL;
    ae_error e;
    ae_table_opts o = {.lock_timeout_ms = -1};
    if (ae_table_open_dir(tdir, &o, &t, &e) < 0) return;
    bool ok = upsert_range(t, 300, 305, 2, &e) == 0;
    const char *del[] = {"id0010", "id0301"};
    ok = ok && ae_table_delete(t, del, 2, NULL, &e) == 0;
    ok = ok && ae_table_optimize(t, &e) == 0;
    ae_table_close(t);
    if (ok && table_problems() != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!nfiles) init();
    write_damaged(data, size);
    /* 1. the damaged store as found */
    /* A clean check of the undamaged newest version must give exactly the
     * undamaged answers; a clean check of an older one (the newest manifest
     * deleted: a store as it was before that commit) answers from it.  A
     * check that finds damage has no oracle: bytes flipped inside a
     * fragment's vectors pass the O(1) checks of open, so search serves them
     * until --fsck (the full BLAKE3) names the file (docs/RELIABILITY.md). */
    if (table_problems() == 0) check_answers(newest_version() == pristine_version);
    /* 2. repair, then it must check clean and hold only undamaged rows */
    ae_strlist actions = {0};
    ae_table_repair_report rep = {.actions = &actions};
    ae_error e;
    int rc = ae_table_repair(tdir, &rep, &e);
    ae_strlist_free(&actions);
    if (rc == 0) {
        if (table_problems() != 0) abort();
        check_answers(false);
        /* 3. and take writes */
        writes_after_repair();
    }
    return 0;
}
