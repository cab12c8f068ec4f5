/* Writer lock (see lock.h).
 *
 * 1. A blocking flock could wait forever, so we poll LOCK_NB with a short
 *    sleep until the deadline; the timeout is the caller's bound.
 * 2. The pid is written after the lock is held, so a waiter may briefly read
 *    an empty or older pid; the message then says "pid unknown". */
#include "vectors/lock.h"

#include "util/clock.h"
#include "util/err.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static long read_pid(int fd)
{
    char buf[32] = {0};
    ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
    if (r <= 0) return 0;
    return strtol(buf, NULL, 10);
}

int vlock_acquire(const char *table_dir, const char *name, int timeout_ms, int *fd, ae_error *err)
{
    *fd = -1;
    if (timeout_ms < 0) timeout_ms = 0;
    if (timeout_ms > AE_LOCK_MAX_TIMEOUT_MS) timeout_ms = AE_LOCK_MAX_TIMEOUT_MS;
    char *path = ae_asprintf("%s/%s", table_dir, AE_LOCK_FILE);
    if (!path) return ae_fail(err, AE_ENOMEM, "out of memory");
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        int rc = ae_fail_errno(err, errno, "open %s", path);
        free(path);
        return rc;
    }
    free(path);
    long long deadline = ae_mono_ms() + timeout_ms;
    for (;;) {
        if (flock(f, LOCK_EX | LOCK_NB) == 0) break;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int rc = ae_fail_errno(err, errno, "lock vector table %s", name);
            close(f);
            return rc;
        }
        if (ae_mono_ms() >= deadline) {
            long pid = read_pid(f);
            close(f);
            if (pid > 0)
                return ae_fail(err, AE_EBUSY, "vector table %s is locked by pid %ld", name, pid);
            return ae_fail(err, AE_EBUSY,
                           "vector table %s is locked by another writer (pid unknown)", name);
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) < 0 || pwrite(f, buf, (size_t)n, 0) != n) {
        /* the pid is a hint only; holding the lock is what matters */
    }
    *fd = f;
    return 0;
}

void vlock_release(int fd)
{
    if (fd < 0) return;
    flock(fd, LOCK_UN);
    close(fd);
}
