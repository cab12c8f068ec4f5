/* Internal helpers for the one error path (zstd's RETURN_ERROR_IF idea).
 *
 *   AE_RETURN_IF(n != dim, err, AE_EINVAL, "expected %d dimensions, not %d", dim, n);
 *   AE_TRY(step(x, err));                  -- forward a negative code
 *   AE_CHECK(step(x, err));                -- same, but `goto cleanup` with rc set
 *   AE_FAIL(err, AE_EIO, "...")            -- set rc and `goto cleanup`
 *
 * ae_fail() accepts err == NULL so callers that do not care can pass NULL. */
#ifndef AE_UTIL_ERR_H
#define AE_UTIL_ERR_H

#include <aether/error.h>
#include <stdarg.h>

#if defined(__GNUC__)
#define AE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AE_PRINTF(a, b)
#endif

/* Fills err with code and message; returns code. */
int ae_fail(ae_error *err, int code, const char *fmt, ...) AE_PRINTF(3, 4);
/* Prepends context ("fragment 3.arrow: ") to an existing message; returns err->code. */
int ae_err_prefix(ae_error *err, const char *fmt, ...) AE_PRINTF(2, 3);
/* Maps an errno value to the AE code a caller handles (ENOSPC -> AE_ENOSPC ...). */
int ae_code_from_errno(int e);
/* ae_fail with the errno text appended: "open x: No such file or directory". */
int ae_fail_errno(ae_error *err, int e, const char *fmt, ...) AE_PRINTF(3, 4);
/* ae_fail with "<fmt, ap>: <detail>" (the errno text, a library's message). */
int ae_vfail_detail(ae_error *err, int code, const char *detail, const char *fmt, va_list ap)
    AE_PRINTF(4, 0);

#define AE_RETURN_IF(cond, err, code, ...)                                                         \
    do {                                                                                           \
        if (cond) return ae_fail((err), (code), __VA_ARGS__);                                      \
    } while (0)

#define AE_TRY(expr)                                                                               \
    do {                                                                                           \
        int ae_rc_ = (expr);                                                                       \
        if (ae_rc_ < 0) return ae_rc_;                                                             \
    } while (0)

#define AE_CHECK(expr)                                                                             \
    do {                                                                                           \
        rc = (expr);                                                                               \
        if (rc < 0) goto cleanup;                                                                  \
    } while (0)

#define AE_FAIL(err, code, ...)                                                                    \
    do {                                                                                           \
        rc = ae_fail((err), (code), __VA_ARGS__);                                                  \
        goto cleanup;                                                                              \
    } while (0)

/* Internals that are file-static in release builds but reachable from tests. */
#ifdef AE_TESTING
#define AE_STATIC
#else
#define AE_STATIC static
#endif

#endif
