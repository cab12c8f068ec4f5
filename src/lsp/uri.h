/* file:// URIs (RFC 8089 as LSP clients write them) to paths and back. */
#ifndef AE_LSP_URI_H
#define AE_LSP_URI_H

/* The absolute path of a file URI: scheme "file" (any case), an empty or "localhost"
 * authority, percent-escapes decoded.  NULL for another scheme, a remote host, a bad or NUL
 * escape, a relative path, a query or fragment, or out of memory.  Allocated. */
char *lsp_uri_to_path(const char *uri);
/* "file://" + the path with every byte but A-Z a-z 0-9 - . _ ~ / percent-encoded (upper-case
 * hex, as VS Code writes them).  NULL out of memory.  Allocated. */
char *lsp_path_to_uri(const char *path);

#endif
