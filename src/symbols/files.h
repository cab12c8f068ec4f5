/* Which files of a workspace are source files we extract symbols from. */
#ifndef AE_SYMBOLS_FILES_H
#define AE_SYMBOLS_FILES_H

#include "util/mem.h"

#include <aether/error.h>

/* Appends to *out the workspace-relative paths ('/' separators, sorted bytewise, no
 * duplicates) of the regular files under root of a supported language.  Inside a git work
 * tree the list comes from `git ls-files --cached --others --exclude-standard` (so
 * .gitignore holds); elsewhere the tree is walked, skipping .git, .aether, node_modules,
 * target, build and build-* directories.  Either way binary files (a NUL byte in the first
 * 8 KiB) and symlinks leading out of root are left out.  Caller frees *out. */
int ae_workspace_list_files(const char *root, ae_strlist *out, ae_error *err);

/* "rust", "typescript", "tsx", "javascript", "jsx", "python", "c", "cpp", "go", "java"
 * by file extension (.h is c); NULL when unsupported.  Static string. */
const char *ae_language_for_path(const char *path);

#endif
