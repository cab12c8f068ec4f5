/* Symbol extraction with universal-ctags: one ctags process per batch of files, symbols
 * handed to a callback one file at a time so memory stays bounded by a batch. */
#ifndef AE_SYMBOLS_EXTRACT_H
#define AE_SYMBOLS_EXTRACT_H

#include "symbols/symbol.h"
#include "util/mem.h"

#include <aether/error.h>
#include <stddef.h>

#define AE_SYMBOLS_BATCH_FILES 256 /* files per ctags process */

/* Called once per extracted file, in the order of the file list, including files with 0
 * symbols.  rel_path, language and syms are borrowed for the call only.  A negative return
 * stops extraction and is returned by ae_symbols_extract. */
typedef int (*ae_file_symbols_fn)(const char *rel_path, const char *language, ae_symbol *syms,
                                  size_t n, void *ctx);

/* Extracts symbols from `files` (workspace-relative, as ae_workspace_list_files returns)
 * under `root`.  Files of no supported language, files that vanished or cannot be read are
 * skipped without a callback; a file whose name is not valid UTF-8 gets 0 symbols (ctags
 * leaves such names out of its JSON).  ctags is found on PATH, or taken from $AE_CTAGS.
 * Returns 0; AE_EEXTERNAL naming the command and its status/stderr when ctags is missing or
 * fails; the callback's code when it aborts. */
int ae_symbols_extract(const char *root, const ae_strlist *files, ae_file_symbols_fn fn, void *ctx,
                       ae_error *err);

/* The symbols of one file's text (an editor's unsaved buffer), as ae_symbols_extract would
 * extract them from a file at rel_path holding that text: ctags reads the text on its stdin
 * (interactive mode), the language comes from rel_path.  One callback, also for 0 symbols; no
 * callback when rel_path has no supported language.  Errors as ae_symbols_extract. */
int ae_symbols_extract_text(const char *rel_path, const char *text, size_t len,
                            ae_file_symbols_fn fn, void *ctx, ae_error *err);

/* Fills signature_fingerprint, content_hash and id from language, file_path, kind,
 * qualified_name, signature and source (see symbol.h).  AE_EINVAL if a key field is NULL. */
int ae_symbol_compute_ids(ae_symbol *s);

#endif
