/* test_commit_crash: for every I/O step N of a commit and of a compaction, a
 * forked child aborts at step N (AE_FAULT "commit:N" / "compact:N"); the
 * parent reopens the table and finds exactly the old version or exactly the
 * new one, verify finds nothing wrong, and the next commit works (C2, C3, C5,
 * C7 in src/vectors/commit.c).  Then ENOSPC at every step: AE_ENOSPC, the
 * previous version intact, no orphans, and the handle still usable -- or,
 * past the point of no return, AE_EFATAL until reopened (C4). */
#include "test_table_util.h"

#include "util/fs.h"
#include "util/mem.h"
#include "vectors/io.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

static const char *P = "hash", *M = "hash_v1";
enum { DIM = 8 };

typedef struct fp {
    ae_buf text;
} fp;

static int add_row(const ae_vs_record *rec, void *ctx)
{
    ae_strlist *l = ctx;
    char *s = ae_asprintf("%s %s %.6f", rec->symbol_id, rec->sir_hash, rec->embedding[0]);
    return ae_strlist_push_owned(l, s);
}

/* The table's content as one sorted string, via a fresh handle. */
static char *fingerprint(const char *dir, uint64_t *version)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, DIM, 0, NULL, &t, &err));
    ae_strlist rows = {0};
    TT_OK(ae_table_iterate(t, add_row, &rows, &err));
    ae_strlist_sort(&rows);
    ae_buf b = {0};
    ae_table_status st;
    TT_OK(ae_table_status_get(t, &st, &err));
    /* compaction keeps the rows: the layout tells old from new */
    ae_buf_printf(&b, "version %llu, %zu fragments, %llu deleted\n", (unsigned long long)st.version,
                  st.fragments, (unsigned long long)st.rows_deleted);
    for (size_t i = 0; i < rows.len; i++) {
        ae_buf_puts(&b, rows.items[i]);
        ae_buf_puts(&b, "\n");
    }
    ae_buf_puts(&b, "");
    if (version) *version = ae_table_version(t);
    ae_strlist_free(&rows);
    ae_table_close(t);
    return b.data;
}

static void assert_verify_clean(const char *vdir)
{
    ae_error err;
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(P, M, DIM, name);
    char *dir = ae_path_join(vdir, name);
    ae_table_fsck_report rep;
    TT_OK(ae_table_fsck(dir, &rep, &err));
    for (size_t i = 0; i < rep.n_problems; i++)
        print_error("problem: %s\n", rep.problems[i].message);
    assert_int_equal(rep.n_problems, 0);
    assert_true(rep.versions_checked >= 1);
    ae_table_fsck_report_free(&rep);
    free(dir);
}

static size_t count_files(const char *vdir, const char *sub)
{
    char name[AE_TABLE_NAME_MAX];
    ae_table_name(P, M, DIM, name);
    char *dir = ae_asprintf("%s/%s/%s", vdir, name, sub);
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' || strncmp(de->d_name, ".tmp", 4) == 0) n++;
    if (d) closedir(d);
    free(dir);
    return n;
}

/* Version 1: 20 rows; version 2: 3 deleted.  */
static void make_base(const char *vdir)
{
    ae_error err;
    ae_table *t = NULL;
    TT_OK(ae_table_open(vdir, P, M, DIM, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, DIM, 0, 20, 1);
    TT_OK(ae_table_upsert(t, a.recs, a.n, &err));
    const char *del[] = {"sym-000002", "sym-000011", "sym-000019"};
    TT_OK(ae_table_delete(t, del, 3, NULL, &err));
    ae_table_close(t);
    tt_free(&a);
}

/* The change under test, one commit: replaces 5 rows of a fragment that
 * already has deletions (so a new deletion file) and adds 5 (a new
 * fragment) -- every kind of file a commit writes. */
static int do_change(const char *vdir, int compact, ae_error *err)
{
    ae_table *t = NULL;
    ae_table_opts o = {.retention_ms = -1, .keep_versions = 1};
    int rc = ae_table_open(vdir, P, M, DIM, 0, &o, &t, err);
    if (rc < 0) return rc;
    if (compact) {
        rc = ae_table_optimize(t, err);
    } else {
        tt_batch b = tt_make(P, M, DIM, 15, 10, 2);
        rc = ae_table_upsert(t, b.recs, b.n, err);
        tt_free(&b);
    }
    ae_table_close(t);
    return rc;
}

static void crash_loop(int compact)
{
    char *dir = tt_tmpdir();
    char *vdir = ae_path_join(dir, "vectors");
    /* the expected old and new states, computed once without faults */
    make_base(vdir);
    char *old_fp = fingerprint(vdir, NULL);
    ae_error err;
    TT_OK(do_change(vdir, compact, &err));
    char *new_fp = fingerprint(vdir, NULL);
    assert_string_not_equal(old_fp, new_fp);
    int finished = 0, crashes = 0, saw_new = 0, saw_old = 0;
    for (unsigned n = 1; n < 200 && !finished; n++) {
        tt_rmrf(vdir);
        make_base(vdir);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char spec[32];
            snprintf(spec, sizeof spec, "%s:%u", compact ? "compact" : "commit", n);
            ae_vio_set_fault(spec);
            ae_error cerr;
            _exit(do_change(vdir, compact, &cerr) == 0 ? 0 : 3);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) {
            assert_int_equal(WEXITSTATUS(status), 0);
            finished = 1;
        } else {
            assert_true(WIFSIGNALED(status));
            assert_int_equal(WTERMSIG(status), SIGABRT);
            crashes++;
        }
        char *got = fingerprint(vdir, NULL);
        if (!strcmp(got, new_fp))
            saw_new++;
        else if (!strcmp(got, old_fp))
            saw_old++;
        else
            fail_msg("after a crash at step %u the table is neither old nor new:\n%s", n, got);
        free(got);
        assert_verify_clean(vdir);
        /* the next writer commits and cleans the orphans up */
        ae_table *t = NULL;
        ae_table_opts o = {.retention_ms = -1, .keep_versions = 1};
        TT_OK(ae_table_open(vdir, P, M, DIM, 0, &o, &t, &err));
        tt_batch c = tt_make(P, M, DIM, 500, 1, 9);
        TT_OK(ae_table_upsert(t, c.recs, 1, &err));
        TT_OK(ae_table_cleanup(t, NULL, &err));
        ae_table_close(t);
        tt_free(&c);
        assert_verify_clean(vdir);
        assert_int_equal(count_files(vdir, "versions"), 1);
    }
    print_message("%s: %d crash points, %d left the old version, %d the new one\n",
                  compact ? "compaction" : "commit", crashes, saw_old, saw_new);
    assert_true(finished);
    assert_true(crashes >= (compact ? 6 : 10)); /* every step was reached */
    assert_true(saw_old > 0 && saw_new > 0);
    free(old_fp);
    free(new_fp);
    tt_rmrf(dir);
    free(vdir);
    free(dir);
}

static void test_commit_crash_every_step(void **state)
{
    crash_loop(0);
}

static void test_compaction_crash_every_step(void **state)
{
    crash_loop(1);
}

static void test_enospc_every_step(void **state)
{
    char *dir = tt_tmpdir();
    char *vdir = ae_path_join(dir, "vectors");
    ae_error err;
    int finished = 0, failed_clean = 0, failed_fatal = 0;
    for (unsigned n = 1; n < 200 && !finished; n++) {
        tt_rmrf(vdir);
        make_base(vdir);
        uint64_t v0;
        char *old_fp = fingerprint(vdir, &v0);
        size_t data0 = count_files(vdir, "data"), del0 = count_files(vdir, "deletions");
        ae_table *t = NULL;
        TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
        tt_batch b = tt_make(P, M, DIM, 15, 10, 2);
        char spec[32];
        snprintf(spec, sizeof spec, "enospc:%u", n);
        /* lock first, so the steps counted are the commit's */
        const char *none[] = {"none"};
        TT_OK(ae_table_delete(t, none, 1, NULL, &err));
        ae_vio_set_fault(spec);
        ae_error_clear(&err);
        int rc = ae_table_upsert(t, b.recs, b.n, &err);
        ae_vio_set_fault(NULL);
        uint64_t v1;
        char *got = fingerprint(vdir, &v1);
        if (rc == 0) {
            /* a failed unlink of the temp manifest is harmless; past the
             * last step the fault never fired */
            finished = vio_steps() < n;
            assert_int_equal(v1, v0 + 1);
        } else if (v1 == v0) {
            /* failed before publishing: old version, no orphans, still usable */
            assert_int_equal(rc, AE_ENOSPC);
            assert_string_equal(got, old_fp);
            assert_int_equal(count_files(vdir, "data"), data0);
            assert_int_equal(count_files(vdir, "deletions"), del0);
            assert_int_equal(count_files(vdir, "versions"), 2);
            TT_OK(ae_table_upsert(t, b.recs, b.n, &err));
            failed_clean++;
        } else {
            /* published, then failed: the handle refuses writes until reopened */
            assert_int_equal(rc, AE_ENOSPC);
            assert_int_equal(v1, v0 + 1);
            assert_int_equal(ae_table_upsert(t, b.recs, b.n, &err), AE_EFATAL);
            assert_non_null(strstr(err.message, "reopen"));
            ae_table_close(t);
            t = NULL;
            TT_OK(ae_table_open(vdir, P, M, DIM, 0, NULL, &t, &err));
            TT_OK(ae_table_upsert(t, b.recs, b.n, &err));
            failed_fatal++;
        }
        assert_verify_clean(vdir);
        free(got);
        free(old_fp);
        ae_table_close(t);
        tt_free(&b);
    }
    print_message("enospc: %d clean failures, %d past the point of no return\n", failed_clean,
                  failed_fatal);
    assert_true(finished);
    assert_true(failed_clean >= 8);
    assert_true(failed_fatal >= 1);
    tt_rmrf(dir);
    free(vdir);
    free(dir);
}

static void test_fault_spec_parsing(void **state)
{
    assert_int_equal(ae_vio_set_fault("commit:3"), 0);
    assert_int_equal(ae_vio_set_fault("eio:1"), 0);
    assert_int_equal(ae_vio_set_fault("commit"), AE_EINVAL);
    assert_int_equal(ae_vio_set_fault("commit:0"), AE_EINVAL);
    assert_int_equal(ae_vio_set_fault(":4"), AE_EINVAL);
    assert_int_equal(ae_vio_set_fault("commit:x"), AE_EINVAL);
    assert_int_equal(ae_vio_set_fault(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_spec_parsing),
        cmocka_unit_test(test_commit_crash_every_step),
        cmocka_unit_test(test_compaction_crash_every_step),
        cmocka_unit_test(test_enospc_every_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
