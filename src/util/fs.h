/* Small file-system helpers used outside the vector table's crash-safe I/O. */
#ifndef AE_UTIL_FS_H
#define AE_UTIL_FS_H

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>

/* Reads a whole file; *out is NUL-terminated, caller frees. */
int ae_read_file(const char *path, char **out, size_t *len, ae_error *err);
/* The one durable write: temp file + fsync + rename + fsync of the
 * directory, so readers see the old file or the new one, and once it
 * returns 0 the new one survives a power cut. */
int ae_write_file_atomic(const char *path, const void *data, size_t len, ae_error *err);
/* The same, but never replaces: if `path` exists (or appears meanwhile) it is
 * kept as it is and 0 returned. */
int ae_write_file_new(const char *path, const void *data, size_t len, ae_error *err);
/* fsync of the directory that holds `path`, so a new entry in it survives a
 * power cut.  0, or -1 with errno. */
int ae_sync_parent(const char *path);

/* Removes path and everything under it (symlinks are removed, not followed);
 * a path that does not exist is not an error. */
int ae_remove_tree(const char *path, ae_error *err);
/* write() until done (EINTR retried); 0, or -1 with errno. */
int ae_write_all(int fd, const void *data, size_t len);
/* mkdir -p; existing directories are fine. */
int ae_mkdirs(const char *path, ae_error *err);
bool ae_path_exists(const char *path);
bool ae_is_dir(const char *path);
/* a + "/" + b, allocated. */
char *ae_path_join(const char *a, const char *b);

#endif
