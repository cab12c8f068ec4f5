/* Searches from several threads on one "lancedb" VectorStore handle
 * (table_backend.c note 7): every answer -- through the index at the
 * recorded setting and at an explicit one, the exact scan, a filtered search
 * -- is the serial answer, ids and scores bit for bit.  That holds too while
 * another handle commits to the same table rows that cannot enter any of
 * those answers (so the shared handle refreshes under the searches, which
 * must still each answer from one consistent snapshot), and every commit is
 * seen by the next search on the shared handle: a marker row committed by
 * the other handle is found at once, and gone at once after its delete.
 * Run under ThreadSanitizer too (docs/TESTING.md): no data race may be
 * reported. */
#include "test_table_util.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "store/table_index_policy.h"

static const char *P = "hash", *M = "threads";
#define DIM     32
#define ROWS    12000
#define NQ      24
#define K       10
#define THREADS 4
#define ROUNDS  3
#define N_ALLOW 600
#define N_MODES 4
#define COARSE  N_MODES /* a mode of the last check only */

typedef struct answer {
    ae_vs_hit hits[K];
    size_t n;
} answer;

typedef struct shared {
    ae_vector_store *vs;
    float q[NQ][DIM];
    const char **allow; /* sorted ids of the filter */
    answer serial[N_MODES][NQ];
    int writing;        /* phase 2: the other handle commits */
    int stop;           /* phase 2: the writer finished */
    pthread_mutex_t mu; /* guards stop */
} shared;

static ae_vs_search_opts mode_opts(const shared *s, int mode)
{
    ae_vs_search_opts o = {0};
    if (mode == 1) o.nprobe = 40, o.refine_factor = 30;
    if (mode == 2) o.exact = 1;
    if (mode == 3) o.allow_ids = s->allow, o.n_allow = N_ALLOW;
    if (mode == COARSE) o.nprobe = 1, o.refine_factor = 1; /* tells two indexes apart */
    return o;
}

static int search(shared *s, int mode, int q, answer *a, ae_error *err)
{
    ae_vs_search_opts o = mode_opts(s, mode);
    ae_vs_hit *h = NULL;
    size_t n = 0;
    int rc = ae_vs_search(s->vs, s->q[q], DIM, P, M, K, &o, &h, &n, err);
    if (rc == 0) {
        a->n = n;
        memcpy(a->hits, h, n * sizeof *h);
    }
    free(h);
    return rc;
}

typedef struct job {
    shared *s;
    int id;
    size_t compared, differed, failed, searched;
} job;

static void *reader(void *arg)
{
    job *j = arg;
    shared *s = j->s;
    for (int round = 0;; round++) {
        if (!s->writing && round >= ROUNDS) break;
        if (s->writing) {
            pthread_mutex_lock(&s->mu);
            int stop = s->stop;
            pthread_mutex_unlock(&s->mu);
            if (stop) break;
        }
        for (int i = 0; i < NQ * N_MODES; i++) {
            /* each thread walks the queries and modes in its own order */
            int x = (i * 7 + j->id * 13 + round) % (NQ * N_MODES), mode = x % N_MODES,
                q = x / N_MODES;
            answer a;
            ae_error err;
            if (search(s, mode, q, &a, &err) < 0) {
                j->failed++;
                continue;
            }
            j->searched++;
            const answer *w = &s->serial[mode][q];
            j->compared++;
            bool same = a.n == w->n;
            for (size_t r = 0; same && r < a.n; r++)
                same = !strcmp(a.hits[r].symbol_id, w->hits[r].symbol_id) &&
                       memcmp(&a.hits[r].score, &w->hits[r].score, sizeof(float)) == 0;
            if (!same) j->differed++;
        }
    }
    return NULL;
}

/* The lowest score of any serial answer: a row scoring below it against
 * every query enters no answer. */
static float lowest_answer_score(const shared *s)
{
    float low = 1;
    for (int mode = 0; mode < N_MODES; mode++)
        for (int q = 0; q < NQ; q++)
            if (s->serial[mode][q].hits[K - 1].score < low)
                low = s->serial[mode][q].hits[K - 1].score;
    return low;
}

/* n rows "sym-<first+i>" far from every query (cosine below `below`): the
 * next of the vectors tt_vec(91, *next++) that are. */
static tt_batch far_rows(const shared *s, size_t first, size_t n, double below, size_t *next)
{
    tt_batch y = tt_make(P, M, DIM, first, n, 6);
    for (size_t i = 0; i < n; i++) {
        float *v = y.emb + i * DIM;
        for (bool far = false; !far;) {
            tt_vec(91, (*next)++, v, DIM);
            far = true;
            for (int q = 0; q < NQ && far; q++)
                far = tt_cos(v, s->q[q], DIM) < below;
        }
    }
    return y;
}

/* A search on the shared handle finds the row `id` (vector v) first, or
 * (present false) not at all: in the index mode and the exact one. */
static void assert_seen(shared *s, const float *v, const char *id, bool present)
{
    for (int mode = 0; mode < 3; mode += 2) {
        ae_vs_search_opts o = mode_opts(s, mode);
        ae_vs_hit *h = NULL;
        size_t n = 0;
        ae_error err;
        TT_OK(ae_vs_search(s->vs, v, DIM, P, M, K, &o, &h, &n, &err));
        assert_int_equal(n, K);
        if (present) {
            assert_string_equal(h[0].symbol_id, id);
            assert_true(h[0].score > 0.999f);
        }
        for (size_t r = present; r < n; r++)
            assert_string_not_equal(h[r].symbol_id, id);
        free(h);
    }
}

static void run_readers(shared *s, job *jobs, pthread_t *t)
{
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){.s = s, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, reader, &jobs[i]), 0);
    }
}

static void test_concurrent_searches(void **state)
{
    (void)state;
    char *vdir = tt_tmpdir();
    ae_error err;
    ae_table_set_index_min_rows(256);
    static shared s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    ae_vector_store *w = NULL;
    TT_OK(ae_vs_open_table(vdir, &w, &err));
    tt_batch x = tt_make(P, M, DIM, 0, ROWS, 5);
    TT_OK(ae_vs_upsert(w, x.recs, x.n, &err));
    TT_OK(ae_tables_build_indexes(w, true, &err));
    ae_vs_close(w);
    /* every 20th row is in the filter ("sym-%06zu" sorts like its number) */
    s.allow = calloc(N_ALLOW, sizeof *s.allow);
    for (size_t i = 0; i < N_ALLOW; i++)
        s.allow[i] = x.ids[i * 20];
    for (int q = 0; q < NQ; q++)
        tt_vec(77, (size_t)q, s.q[q], DIM);

    /* 1. serial answers, then the same from THREADS threads on one handle */
    TT_OK(ae_vs_open_table(vdir, &s.vs, &err));
    for (int mode = 0; mode < N_MODES; mode++)
        for (int q = 0; q < NQ; q++) {
            TT_OK(search(&s, mode, q, &s.serial[mode][q], &err));
            assert_int_equal(s.serial[mode][q].n, K);
        }
    /* the modes answer differently somewhere, or the comparison proves little */
    int differs = 0;
    for (int q = 0; q < NQ; q++)
        differs +=
            strcmp(s.serial[0][q].hits[K - 1].symbol_id, s.serial[3][q].hits[K - 1].symbol_id) != 0;
    assert_true(differs > 0);
    static job jobs[THREADS]; /* static: a failed assert leaves the threads running */
    static pthread_t t[THREADS];
    run_readers(&s, jobs, t);
    size_t compared = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failed, 0);
        assert_int_equal(jobs[i].differed, 0);
        compared += jobs[i].compared;
    }
    assert_int_equal(compared, (size_t)THREADS * ROUNDS * NQ * N_MODES);

    /* 2. another handle commits to the table meanwhile: rows that enter no
     * answer, and deletes of some of them, so every search must still give
     * the serial answer (from the old snapshot or a refreshed one, never a
     * mix); and a marker row, the one row near its own query, which the next
     * search on the shared handle must find (and not find after its delete) */
    double below = lowest_answer_score(&s) - 0.05;
    size_t next = 0;
    s.writing = 1;
    run_readers(&s, jobs, t);
    TT_OK(ae_vs_open_table(vdir, &w, &err));
    for (int c = 0; c < 8; c++) {
        tt_batch y = far_rows(&s, ROWS + (size_t)c * 50, 50, below, &next);
        snprintf(y.ids[0], sizeof y.ids[0], "mark-%d", c);
        TT_OK(ae_vs_upsert(w, y.recs, y.n, &err));
        assert_seen(&s, y.emb, y.ids[0], true);
        const char *gone[] = {y.ids[0], y.ids[1 + c]};
        TT_OK(ae_vs_delete(w, gone, 2, &err));
        assert_seen(&s, y.emb, y.ids[0], false);
        tt_free(&y);
    }
    ae_vs_close(w);
    pthread_mutex_lock(&s.mu);
    s.stop = 1;
    pthread_mutex_unlock(&s.mu);
    size_t searched = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failed, 0);
        assert_int_equal(jobs[i].differed, 0);
        searched += jobs[i].searched;
    }
    assert_true(searched > 0);
    /* after the writes and a new index published by the other handle: the
     * shared handle answers as a fresh one does.  Its first search after the
     * publish is an exact one, which refreshes the table but maps no index:
     * the index searches after it must still see that the mapped index is
     * not the one the snapshot names, and map the new one.  (The pause: for
     * a second after a commit every search refreshes, as an mtime that
     * recent is not trusted, so without it the check below proves less.) */
    TT_OK(ae_vs_open_table(vdir, &w, &err));
    TT_OK(ae_tables_build_indexes(w, true, &err));
    ae_vs_close(w);
    struct timespec pause = {1, 200000000L};
    while (nanosleep(&pause, &pause) < 0 && errno == EINTR) {
    }
    answer ex;
    TT_OK(search(&s, 2, 0, &ex, &err));
    ae_vector_store *fresh = NULL;
    TT_OK(ae_vs_open_table(vdir, &fresh, &err));
    for (int i = 0; i < 2 * NQ; i++) {
        int mode = i < NQ ? COARSE : 0, q = i % NQ;
        answer a, b;
        TT_OK(search(&s, mode, q, &a, &err));
        ae_vector_store *keep = s.vs;
        s.vs = fresh;
        TT_OK(search(&s, mode, q, &b, &err));
        s.vs = keep;
        assert_int_equal(a.n, b.n);
        for (size_t r = 0; r < a.n; r++) {
            assert_string_equal(a.hits[r].symbol_id, b.hits[r].symbol_id);
            assert_memory_equal(&a.hits[r].score, &b.hits[r].score, sizeof(float));
        }
    }
    ae_vs_close(fresh);
    print_message("%zu concurrent searches equal to the serial ones; %zu more during 16 commits\n",
                  compared, searched);
    ae_vs_close(s.vs);
    tt_free(&x);
    free(s.allow);
    pthread_mutex_destroy(&s.mu);
    ae_table_set_index_min_rows(0);
    tt_rmrf(vdir);
    free(vdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_searches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
