/* aether error space: 0 is success, negative AE_E* codes never collide with
 * errno values (which are positive), and ae_strerror() renders both.
 *
 * Every fallible library call takes an optional `ae_error *` and fills it with
 * the code and a concrete, lower-case message ("expected 768 dimensions, not
 * 384").  Library code never prints; only the programs talk to the user. */
#ifndef AETHER_ERROR_H
#define AETHER_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define AE_OK 0

enum ae_code {
    AE_EINVAL = -30800, /* invalid argument or input (bad flag, NaN, wrong dim) */
    AE_ENOTFOUND,       /* a named thing does not exist */
    AE_ECORRUPT,        /* checksum mismatch, truncated or malformed file */
    AE_ENOTOURS,        /* a file or directory this project did not create */
    AE_EVERSION,        /* a format version this build cannot read */
    AE_ENOSPC,          /* disk full */
    AE_EBUSY,           /* locked by another writer */
    AE_EIO,             /* an operating system call failed */
    AE_ENOMEM,          /* allocation failed or a size budget overflowed */
    AE_ECONFIG,         /* bad configuration file */
    AE_EPROVIDER,       /* an embedding or SIR provider failed */
    AE_EFATAL,          /* a handle that failed past the point of no return; reopen it */
    AE_EEXTERNAL,       /* an external tool (ctags, git) failed */
    AE_ECODE_END
};

#define AE_ERROR_MESSAGE_MAX 512

typedef struct ae_error {
    int code;
    char message[AE_ERROR_MESSAGE_MAX];
} ae_error;

/* Static description of an AE_E* code or a positive errno value. */
const char *ae_strerror(int code);

/* Resets an error to success. */
void ae_error_clear(ae_error *err);

#ifdef __cplusplus
}
#endif
#endif
