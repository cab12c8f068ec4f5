#include "util/fs.h"

#include "util/err.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ae_read_file(const char *path, char **out, size_t *len, ae_error *err)
{
    *out = NULL;
    if (len) *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ae_fail_errno(err, errno, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return ae_fail_errno(err, e, "stat %s", path);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *data = malloc(cap);
    if (!data) {
        close(fd);
        return ae_fail(err, AE_ENOMEM, "%s: cannot allocate %zu bytes", path, cap);
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *d = realloc(data, cap * 2);
            if (!d) {
                free(data);
                close(fd);
                return ae_fail(err, AE_ENOMEM, "%s: cannot allocate %zu bytes", path, cap * 2);
            }
            data = d;
            cap *= 2;
        }
        ssize_t r = read(fd, data + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(data);
            close(fd);
            return ae_fail_errno(err, e, "read %s", path);
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    data[n] = '\0';
    *out = data;
    if (len) *len = n;
    return 0;
}

int ae_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int ae_sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        !slash ? ae_strdup(".") : ae_strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!dir) {
        errno = ENOMEM;
        return -1;
    }
    int rc = -1, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        int e = errno;
        close(fd);
        errno = e;
    }
    free(dir);
    return rc;
}

/* Temp file, write, fsync, close, then rename (replace) or link (create
 * only) into place, then fsync the directory: after a power cut readers see
 * the old file or the new one, never a part, and a completed call stays. */
static int write_durable(const char *path, const void *data, size_t len, bool replace,
                         ae_error *err)
{
    char *tmp = ae_asprintf("%s.tmp.%ld", path, (long)getpid());
    if (!tmp) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ae_fail_errno(err, errno, "create %s", tmp);
        goto cleanup;
    }
    if (ae_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        rc = ae_fail_errno(err, errno, "write %s", tmp);
        close(fd);
        goto unlink_tmp;
    }
    if (close(fd) < 0) {
        rc = ae_fail_errno(err, errno, "close %s", tmp);
        goto unlink_tmp;
    }
    if (replace) {
        if (rename(tmp, path) < 0) {
            rc = ae_fail_errno(err, errno, "rename %s", tmp);
            goto unlink_tmp;
        }
    } else {
        /* link() fails with EEXIST instead of replacing a file someone
         * created meanwhile: theirs is kept */
        if (link(tmp, path) < 0 && errno != EEXIST) rc = ae_fail_errno(err, errno, "link %s", path);
        unlink(tmp);
        if (rc < 0) goto cleanup;
    }
    if (ae_sync_parent(path) < 0) rc = ae_fail_errno(err, errno, "fsync the directory of %s", path);
    goto cleanup;
unlink_tmp:
    unlink(tmp);
cleanup:
    free(tmp);
    return rc;
}

int ae_write_file_atomic(const char *path, const void *data, size_t len, ae_error *err)
{
    return write_durable(path, data, len, true, err);
}

int ae_write_file_new(const char *path, const void *data, size_t len, ae_error *err)
{
    return write_durable(path, data, len, false, err);
}

/* Creates one directory; a new one is made durable in its parent. */
static int make_dir(char *p, ae_error *err)
{
    if (mkdir(p, 0755) == 0) {
        (void)ae_sync_parent(p); /* best effort, like the mkdir -p it serves */
        return 0;
    }
    if (errno == EEXIST) return 0;
    return ae_fail_errno(err, errno, "mkdir %s", p);
}

int ae_mkdirs(const char *path, ae_error *err)
{
    char *p = ae_strdup(path);
    if (!p) return ae_fail(err, AE_ENOMEM, "out of memory");
    int rc = 0;
    for (char *s = p + 1; *s && rc == 0; s++) {
        if (*s != '/') continue;
        *s = '\0';
        rc = make_dir(p, err);
        *s = '/';
    }
    if (rc == 0) rc = make_dir(p, err);
    free(p);
    return rc;
}

bool ae_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool ae_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *ae_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    if (la && a[la - 1] == '/') return ae_asprintf("%s%s", a, b);
    return ae_asprintf("%s/%s", a, b);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int ae_remove_tree(const char *path, ae_error *err)
{
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return ae_fail_errno(err, errno, "remove %s", path);
    return 0;
}
