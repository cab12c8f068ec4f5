#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const ae_code_names[] = {
    [AE_EINVAL - AE_EINVAL] = "invalid argument",
    [AE_ENOTFOUND - AE_EINVAL] = "not found",
    [AE_ECORRUPT - AE_EINVAL] = "corrupt data",
    [AE_ENOTOURS - AE_EINVAL] = "not created by aether",
    [AE_EVERSION - AE_EINVAL] = "unsupported format version",
    [AE_ENOSPC - AE_EINVAL] = "disk full",
    [AE_EBUSY - AE_EINVAL] = "locked by another writer",
    [AE_EIO - AE_EINVAL] = "input/output error",
    [AE_ENOMEM - AE_EINVAL] = "out of memory",
    [AE_ECONFIG - AE_EINVAL] = "bad configuration",
    [AE_EPROVIDER - AE_EINVAL] = "provider error",
    [AE_EFATAL - AE_EINVAL] = "handle failed during a commit; reopen it",
    [AE_EEXTERNAL - AE_EINVAL] = "external tool failed",
};

const char *ae_strerror(int code)
{
    if (code == AE_OK) return "success";
    if (code >= AE_EINVAL && code < AE_ECODE_END) return ae_code_names[code - AE_EINVAL];
    if (code > 0) return strerror(code);
    return "unknown error";
}

void ae_error_clear(ae_error *err)
{
    if (!err) return;
    err->code = AE_OK;
    err->message[0] = '\0';
}

int ae_fail(ae_error *err, int code, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

int ae_err_prefix(ae_error *err, const char *fmt, ...)
{
    if (!err) return AE_EINVAL;
    char prefix[AE_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t pl = strnlen(prefix, sizeof prefix - 1);
    size_t ml = strnlen(err->message, sizeof err->message - 1);
    if (pl + ml > sizeof err->message - 1) ml = sizeof err->message - 1 - pl;
    memmove(err->message + pl, err->message, ml);
    memcpy(err->message, prefix, pl);
    err->message[pl + ml] = '\0';
    return err->code;
}

int ae_code_from_errno(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return AE_ENOSPC;
    case ENOMEM:
        return AE_ENOMEM;
    case ENOENT:
        return AE_ENOTFOUND;
    case EWOULDBLOCK:
        return AE_EBUSY;
    case EINVAL:
        return AE_EINVAL;
    default:
        return AE_EIO;
    }
}

int ae_vfail_detail(ae_error *err, int code, const char *detail, const char *fmt, va_list ap)
{
    if (!err) return code;
    char head[AE_ERROR_MESSAGE_MAX];
    vsnprintf(head, sizeof head, fmt, ap);
    return ae_fail(err, code, "%s: %s", head, detail);
}

int ae_fail_errno(ae_error *err, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int code = ae_vfail_detail(err, ae_code_from_errno(e), strerror(e), fmt, ap);
    va_end(ap);
    return code;
}
