/* The one durable write (util/fs.h): replace and create-only, no temp file
 * left behind, errors that name the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit/test_table_util.h"
#include "util/fs.h"

static char *read_all(const char *path)
{
    char *s = NULL;
    ae_error err;
    assert_int_equal(ae_read_file(path, &s, NULL, &err), 0);
    return s;
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_atomic_replaces(void **state)
{
    (void)state;
    char *dir = tt_tmpdir(), *p = ae_path_join(dir, "f");
    ae_error err;
    TT_OK(ae_write_file_atomic(p, "one", 3, &err));
    TT_OK(ae_write_file_atomic(p, "second", 6, &err));
    char *s = read_all(p);
    assert_string_equal(s, "second");
    free(s);
    assert_int_equal(entries(dir), 1); /* no temp file left */
    tt_rmrf(dir);
    free(dir);
    free(p);
}

static void test_new_keeps_existing(void **state)
{
    (void)state;
    char *dir = tt_tmpdir(), *p = ae_path_join(dir, "f");
    ae_error err;
    TT_OK(ae_write_file_new(p, "mine", 4, &err));
    TT_OK(ae_write_file_new(p, "theirs", 6, &err));
    char *s = read_all(p);
    assert_string_equal(s, "mine");
    free(s);
    assert_int_equal(entries(dir), 1);
    tt_rmrf(dir);
    free(dir);
    free(p);
}

static void test_missing_directory(void **state)
{
    (void)state;
    char *dir = tt_tmpdir(), *p = ae_path_join(dir, "no/such/f");
    ae_error err;
    assert_int_equal(ae_write_file_atomic(p, "x", 1, &err), AE_ENOTFOUND);
    assert_non_null(strstr(err.message, "no/such/f.tmp."));
    assert_int_equal(ae_write_file_new(p, "x", 1, &err), AE_ENOTFOUND);
    tt_rmrf(dir);
    free(dir);
    free(p);
}

/* A bare file name: the directory to fsync is ".". */
static void test_relative_path(void **state)
{
    (void)state;
    char *dir = tt_tmpdir();
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    ae_error err;
    TT_OK(ae_write_file_atomic("rel", "r", 1, &err));
    assert_int_equal(chdir(cwd), 0);
    char *p = ae_path_join(dir, "rel"), *s = read_all(p);
    assert_string_equal(s, "r");
    free(s);
    free(p);
    tt_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_replaces),
        cmocka_unit_test(test_new_keeps_existing),
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_relative_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
