/* The error space: codes never collide with errno, messages carry context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/err.h"

static void test_codes_are_negative_and_named(void **state)
{
    for (int c = AE_EINVAL; c < AE_ECODE_END; c++) {
        assert_true(c < 0);
        assert_string_not_equal(ae_strerror(c), "unknown error");
    }
    assert_string_equal(ae_strerror(ENOENT), strerror(ENOENT));
    assert_string_equal(ae_strerror(0), "success");
}

static void test_fail_and_prefix(void **state)
{
    ae_error err;
    ae_error_clear(&err);
    int rc = ae_fail(&err, AE_EINVAL, "expected %d dimensions, not %d", 768, 384);
    assert_int_equal(rc, AE_EINVAL);
    assert_int_equal(err.code, AE_EINVAL);
    ae_err_prefix(&err, "row %d: ", 7);
    assert_string_equal(err.message, "row 7: expected 768 dimensions, not 384");
    assert_int_equal(ae_fail(NULL, AE_EIO, "ignored"), AE_EIO);
}

static void test_errno_mapping(void **state)
{
    ae_error err;
    assert_int_equal(ae_fail_errno(&err, ENOSPC, "write %s", "x"), AE_ENOSPC);
    assert_non_null(strstr(err.message, "write x: "));
    assert_int_equal(ae_code_from_errno(EAGAIN), AE_EBUSY);
    assert_int_equal(ae_code_from_errno(EIO), AE_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_are_negative_and_named),
        cmocka_unit_test(test_fail_and_prefix),
        cmocka_unit_test(test_errno_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
