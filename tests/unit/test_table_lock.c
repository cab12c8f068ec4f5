/* One writer per table: a second writer waits up to its timeout and fails
 * with AE_EBUSY naming the holder's pid; readers never wait; the lock dies
 * with its holder (C6). */
#include "test_table_util.h"

#include "util/fs.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static const char *P = "hash", *M = "hash_v1";

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_second_writer_gets_ebusy_with_pid(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 8, 1, NULL, &t, &err));
    tt_batch a = tt_make(P, M, 8, 0, 10, 1);
    TT_OK(ae_table_upsert(t, a.recs, 5, &err));
    ae_table_close(t);

    int to_parent[2], to_child[2];
    assert_int_equal(pipe(to_parent), 0);
    assert_int_equal(pipe(to_child), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ae_error cerr;
        ae_table *ct = NULL;
        char c = 'x';
        if (ae_table_open(dir, P, M, 8, 0, NULL, &ct, &cerr) == 0 &&
            ae_table_upsert(ct, a.recs + 5, 1, &cerr) == 0)
            c = 'L'; /* holds the lock now, until close */
        if (write(to_parent[1], &c, 1) != 1) _exit(2);
        if (read(to_child[0], &c, 1) != 1) _exit(2);
        ae_table_close(ct);
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(to_parent[0], &c, 1), 1);
    assert_int_equal(c, 'L');

    ae_table_opts o = {.lock_timeout_ms = 300};
    TT_OK(ae_table_open(dir, P, M, 8, 0, &o, &t, &err));
    /* reading never takes the lock: it sees the child's commit */
    TT_OK(ae_table_refresh(t, &err));
    assert_int_equal(ae_table_rows_live(t), 6);
    long long t0 = now_ms();
    assert_int_equal(ae_table_upsert(t, a.recs + 6, 1, &err), AE_EBUSY);
    long long waited = now_ms() - t0;
    assert_true(waited >= 280);
    assert_true(waited < 3000);
    char want[64];
    snprintf(want, sizeof want, "is locked by pid %ld", (long)pid);
    assert_non_null(strstr(err.message, want));
    assert_non_null(strstr(err.message, "vector table d8-hash-hash_v1-"));
    /* deleting ids that are not there needs no lock */
    const char *none[] = {"not-there"};
    TT_OK(ae_table_delete(t, none, 1, NULL, &err));

    /* the child exits: its lock goes with it */
    assert_int_equal(write(to_child[1], "q", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    TT_OK(ae_table_upsert(t, a.recs + 6, 1, &err));
    assert_int_equal(ae_table_rows_live(t), 7);
    ae_table_close(t);
    close(to_parent[0]);
    close(to_parent[1]);
    close(to_child[0]);
    close(to_child[1]);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

static void test_killed_writer_releases_lock(void **state)
{
    ae_error err;
    char *dir = tt_tmpdir();
    tt_batch a = tt_make(P, M, 8, 0, 10, 1);
    int to_parent[2];
    assert_int_equal(pipe(to_parent), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ae_error cerr;
        ae_table *ct = NULL;
        char c = 'x';
        if (ae_table_open(dir, P, M, 8, 1, NULL, &ct, &cerr) == 0 &&
            ae_table_upsert(ct, a.recs, 3, &cerr) == 0)
            c = 'L';
        if (write(to_parent[1], &c, 1) != 1) _exit(2);
        for (;;)
            pause();
    }
    char c = 0;
    assert_int_equal(read(to_parent[0], &c, 1), 1);
    assert_int_equal(c, 'L');
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ae_table_opts o = {.lock_timeout_ms = -1}; /* try once */
    ae_table *t = NULL;
    TT_OK(ae_table_open(dir, P, M, 8, 0, &o, &t, &err));
    TT_OK(ae_table_upsert(t, a.recs + 3, 3, &err));
    assert_int_equal(ae_table_rows_live(t), 6);
    ae_table_close(t);
    close(to_parent[0]);
    close(to_parent[1]);
    tt_free(&a);
    tt_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_writer_gets_ebusy_with_pid),
        cmocka_unit_test(test_killed_writer_releases_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
