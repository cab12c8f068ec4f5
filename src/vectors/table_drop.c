/* Dropping a whole vector table (the table of a model nobody embeds with any more).
 *
 * 1. The writer lock is taken first, so no writer is half-way through a
 *    commit of the table being dropped.
 * 2. One rename makes the drop atomic for everyone else: the directory becomes
 *    ".dropped-<name>", which ae_tables_list skips (names starting with '.'),
 *    so a reader lists either the whole table or nothing.  The parent is
 *    fsynced so the rename survives a power loss.
 * 3. The renamed tree is then removed.  A crash before that leaves a dot
 *    directory; the next drop in the same vectors directory removes it.
 * 4. A reader that already mapped the table's files keeps a valid mapping
 *    (unlinked files live while mapped); it simply finds no table next time. */
#include "vectors/lock.h"
#include "vectors/table.h"

#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DROPPED_PREFIX ".dropped-"

/* Leftovers of drops interrupted by a crash (3.). */
static int remove_leftovers(const char *vectors_dir, ae_error *err)
{
    DIR *d = opendir(vectors_dir);
    if (!d) return errno == ENOENT ? 0 : ae_fail_errno(err, errno, "open %s", vectors_dir);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (strncmp(de->d_name, DROPPED_PREFIX, strlen(DROPPED_PREFIX)) != 0) continue;
        char *p = ae_path_join(vectors_dir, de->d_name);
        rc = p ? ae_remove_tree(p, err) : ae_fail(err, AE_ENOMEM, "out of memory");
        free(p);
    }
    closedir(d);
    return rc;
}

static int fsync_dir(const char *dir, ae_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ae_fail_errno(err, errno, "open %s", dir);
    int rc = fsync(fd) != 0 ? ae_fail_errno(err, errno, "fsync %s", dir) : 0;
    close(fd);
    return rc;
}

int ae_table_drop(const char *vectors_dir, const char *name, ae_error *err)
{
    AE_RETURN_IF(!name || !*name || name[0] == '.' || strchr(name, '/'), err, AE_EINVAL,
                 "'%s' is not a vector table name", name ? name : "");
    char *dir = ae_path_join(vectors_dir, name);
    char *gone_name = ae_asprintf("%s%s", DROPPED_PREFIX, name);
    char *gone = gone_name ? ae_path_join(vectors_dir, gone_name) : NULL;
    int fd = -1, rc = 0;
    if (!dir || !gone) AE_FAIL(err, AE_ENOMEM, "out of memory");
    AE_CHECK(remove_leftovers(vectors_dir, err));
    if (!ae_is_dir(dir)) goto cleanup; /* already gone */
    AE_CHECK(vlock_acquire(dir, name, AE_LOCK_DEFAULT_TIMEOUT_MS, &fd, err));
    if (rename(dir, gone) != 0) {
        rc = ae_fail_errno(err, errno, "rename %s", dir);
        goto cleanup;
    }
    vlock_release(fd);
    fd = -1;
    AE_CHECK(fsync_dir(vectors_dir, err));
    AE_CHECK(ae_remove_tree(gone, err));
cleanup:
    vlock_release(fd);
    free(dir);
    free(gone_name);
    free(gone);
    return rc;
}
