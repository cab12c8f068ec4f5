/* The vector table's I/O table and its fault layer.
 *
 * 1. The default table is POSIX wrapped in a counter: each call inside a phase
 *    is one numbered step, and the configured fault fires before step N runs.
 * 2. "commit:N" / "compact:N" call abort() to model a crash (the parent of a
 *    forked test child then reopens the table); "enospc:N" / "eio:N" model a
 *    failing disk and return -1 with errno set, touching nothing.
 * 3. The spec comes from ae_vio_set_fault() (unit tests); test builds
 *    (AE_TESTING) also read AE_FAULT once, for the CLI and fault shell tests.
 *    A release build never looks at the environment: a host program that
 *    happens to have AE_FAULT set is not aborted.
 * 4. The fault spec and the phase counter are process-global: the steps
 *    of one commit are counted wherever its I/O happens (fragment writer,
 *    manifest, directories), and one process has one writer per table. */
#include "vectors/io.h"

#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum fault_kind { FAULT_NONE, FAULT_ABORT, FAULT_ENOSPC, FAULT_EIO };

static struct {
    int parsed;
    enum fault_kind kind;
    char phase[16]; /* for FAULT_ABORT: the phase it applies to */
    unsigned at;
} fault;

static struct {
    int depth;
    char name[16];
    unsigned steps;
} phase;

static int parse_fault(const char *spec)
{
    fault.kind = FAULT_NONE;
    fault.parsed = 1;
    if (!spec || !*spec) return 0;
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof fault.phase) return AE_EINVAL;
    char *end;
    unsigned long n = strtoul(colon + 1, &end, 10);
    if (*end || n == 0 || n > 1000000) return AE_EINVAL;
    size_t len = (size_t)(colon - spec);
    if (len == 6 && !strncmp(spec, "enospc", 6)) {
        fault.kind = FAULT_ENOSPC;
    } else if (len == 3 && !strncmp(spec, "eio", 3)) {
        fault.kind = FAULT_EIO;
    } else {
        fault.kind = FAULT_ABORT;
        memcpy(fault.phase, spec, len);
        fault.phase[len] = '\0';
    }
    fault.at = (unsigned)n;
    return 0;
}

int ae_vio_set_fault(const char *spec)
{
    int rc = parse_fault(spec);
    if (rc < 0) fault.kind = FAULT_NONE;
    return rc;
}

void vio_phase_begin(const char *name)
{
    if (phase.depth++ > 0) return;
    size_t n = strlen(name);
    if (n >= sizeof phase.name) n = sizeof phase.name - 1;
    memcpy(phase.name, name, n);
    phase.name[n] = '\0';
    phase.steps = 0;
}

void vio_phase_end(void)
{
    if (phase.depth > 0 && --phase.depth == 0) phase.name[0] = '\0';
}

unsigned vio_steps(void)
{
    return phase.steps;
}

/* Counts one step; returns -1 with errno set when the fault fires. */
static int step(void)
{
#ifdef AE_TESTING
    if (!fault.parsed) parse_fault(getenv("AE_FAULT"));
#endif
    if (phase.depth == 0) return 0;
    phase.steps++;
    if (fault.kind == FAULT_NONE || phase.steps != fault.at) return 0;
    switch (fault.kind) {
    case FAULT_ABORT:
        if (!strcmp(fault.phase, phase.name)) abort();
        return 0;
    case FAULT_ENOSPC:
        errno = ENOSPC;
        return -1;
    case FAULT_EIO:
        errno = EIO;
        return -1;
    default:
        return 0;
    }
}

static int f_open(const char *path, int flags, mode_t mode)
{
    if (step() < 0) return -1;
    return open(path, flags | O_CLOEXEC, mode);
}

static ssize_t f_write(int fd, const void *buf, size_t n)
{
    if (step() < 0) return -1;
    return write(fd, buf, n);
}

static int f_fsync(int fd)
{
    if (step() < 0) return -1;
    return fsync(fd);
}

static int f_close(int fd)
{
    return close(fd); /* not a step: close cannot lose data that fsync kept */
}

static int f_rename(const char *from, const char *to)
{
    if (step() < 0) return -1;
    return rename(from, to);
}

static int f_link(const char *from, const char *to)
{
    if (step() < 0) return -1;
    return link(from, to);
}

static int f_unlink(const char *path)
{
    if (step() < 0) return -1;
    return unlink(path);
}

static int f_mkdir(const char *path, mode_t mode)
{
    if (step() < 0) return -1;
    return mkdir(path, mode);
}

static const ae_vio vio_default = {
    f_open, f_write, f_fsync, f_close, f_rename, f_link, f_unlink, f_mkdir,
};

const ae_vio *ae_vio_cur = &vio_default;

const ae_vio *ae_vio_install(const ae_vio *io)
{
    const ae_vio *prev = ae_vio_cur;
    ae_vio_cur = io ? io : &vio_default;
    return prev;
}

int vio_external(const char *what, ae_error *err)
{
    if (step() < 0) return ae_fail_errno(err, errno, "%s", what);
    return 0;
}

int vio_write_file(const char *path, const void *data, size_t len, ae_error *err)
{
    int fd = ae_vio_cur->open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return ae_fail_errno(err, errno, "create %s", path);
    const char *p = data;
    size_t left = len;
    while (left) {
        /* at most 64 MiB per call, so a big fragment is several steps */
        size_t chunk = left > ((size_t)64 << 20) ? ((size_t)64 << 20) : left;
        ssize_t w = ae_vio_cur->write(fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            ae_vio_cur->close(fd);
            return ae_fail_errno(err, e, "write %s", path);
        }
        p += w;
        left -= (size_t)w;
    }
    if (ae_vio_cur->fsync(fd) < 0) {
        int e = errno;
        ae_vio_cur->close(fd);
        return ae_fail_errno(err, e, "fsync %s", path);
    }
    if (ae_vio_cur->close(fd) < 0) return ae_fail_errno(err, errno, "close %s", path);
    return 0;
}

int vio_fsync_dir(const char *dir, ae_error *err)
{
    int fd = ae_vio_cur->open(dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) return ae_fail_errno(err, errno, "open directory %s", dir);
    if (ae_vio_cur->fsync(fd) < 0) {
        int e = errno;
        ae_vio_cur->close(fd);
        return ae_fail_errno(err, e, "fsync directory %s", dir);
    }
    ae_vio_cur->close(fd);
    return 0;
}

int vio_link(const char *from, const char *to, ae_error *err)
{
    if (ae_vio_cur->link(from, to) < 0) return ae_fail_errno(err, errno, "link %s", to);
    return 0;
}

int vio_rename(const char *from, const char *to, ae_error *err)
{
    if (ae_vio_cur->rename(from, to) < 0) return ae_fail_errno(err, errno, "rename %s", from);
    return 0;
}

int vio_unlink(const char *path, ae_error *err)
{
    if (ae_vio_cur->unlink(path) < 0 && errno != ENOENT)
        return ae_fail_errno(err, errno, "unlink %s", path);
    return 0;
}

int vio_mkdir(const char *path, ae_error *err)
{
    if (ae_vio_cur->mkdir(path, 0755) < 0 && errno != EEXIST)
        return ae_fail_errno(err, errno, "mkdir %s", path);
    return 0;
}
