/* Small file-system helpers used outside the vector table's crash-safe I/O. */
#ifndef AE_UTIL_FS_H
#define AE_UTIL_FS_H

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>

/* Reads a whole file; *out is NUL-terminated, caller frees. */
int ae_read_file(const char *path, char **out, size_t *len, ae_error *err);
/* Writes a file via temp + fsync + rename, so readers see old or new. */
int ae_write_file_atomic(const char *path, const void *data, size_t len, ae_error *err);
/* mkdir -p; existing directories are fine. */
int ae_mkdirs(const char *path, ae_error *err);
bool ae_path_exists(const char *path);
bool ae_is_dir(const char *path);
/* a + "/" + b, allocated. */
char *ae_path_join(const char *a, const char *b);

#endif
