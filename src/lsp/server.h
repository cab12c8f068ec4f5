/* aetherd --lsp: the protocol layer (docs/LSP.md).
 *
 * lsp_handle_message() is the whole protocol for one message body: it parses the JSON-RPC
 * message, runs the method and sends what is to be sent (a response, log messages) through
 * the send callback.  The stdio loop (lsp_main.c) only frames bytes around it (frame.h), so
 * every protocol case is a unit test or a fuzz input without a process.  What the server
 * knows of the workspace comes through lsp_backend: the real one is libaether
 * (lsp_backend.c), the fuzzer's is a small fake. */
#ifndef AE_LSP_SERVER_H
#define AE_LSP_SERVER_H

#include <aether/aether.h>
#include <aether/explain.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* JSON-RPC 2.0 and LSP error codes. */
#define LSP_PARSE_ERROR            -32700
#define LSP_INVALID_REQUEST        -32600
#define LSP_METHOD_NOT_FOUND       -32601
#define LSP_INVALID_PARAMS         -32602
#define LSP_INTERNAL_ERROR         -32603
#define LSP_SERVER_NOT_INITIALIZED -32002

/* window/logMessage types */
enum { LSP_LOG_ERROR = 1, LSP_LOG_WARNING = 2, LSP_LOG_INFO = 3, LSP_LOG_DEBUG = 4 };

/* What the server asks of the workspace.  Every call returns 0 or a negative AE_E* code with
 * err filled, as libaether does. */
typedef struct lsp_backend {
    void *ctx;
    /* workspace-relative path of an absolute one; an error when it is outside */
    int (*relpath)(void *ctx, const char *abs_path, char **rel, ae_error *err);
    /* the absolute path of a workspace-relative one (allocated; NULL out of memory) */
    char *(*abspath)(void *ctx, const char *rel);
    /* a file's bytes from disk (a document the editor has not opened) */
    int (*read_file)(void *ctx, const char *rel, char **text, size_t *len, ae_error *err);
    int (*symbols)(void *ctx, const char *rel, const char *text, size_t len, ae_doc_symbols **out,
                   ae_error *err);
    int (*explain)(void *ctx, const ae_doc_symbols *syms, ae_position pos, ae_explain_result **out,
                   ae_error *err);
    int (*search)(void *ctx, const char *query, ae_search_mode mode, size_t limit,
                  ae_search_results **out, ae_error *err);
    int (*locate)(void *ctx, const char *symbol_id, char **file_path, int *start_line,
                  int *end_line, ae_error *err);
} lsp_backend;

/* Sends one message body (the caller frames it); a negative return (the client went away)
 * is returned by lsp_handle_message. */
typedef int (*lsp_send_fn)(void *ctx, const char *body, size_t len);

typedef struct lsp_doc {
    char *path; /* absolute, decoded from the URI: the document's key */
    char *uri;  /* as the client sent it */
    char *rel;  /* workspace-relative; NULL when outside the workspace */
    char *text; /* the editor's text */
    size_t len;
    int64_t version;
    ae_doc_symbols *syms; /* extracted from text on first use; NULL after a change */
} lsp_doc;

#define LSP_MAX_DOCS      4096
#define LSP_MAX_DOC_BYTES (512u << 20) /* all open documents together */

typedef struct lsp_server {
    const lsp_backend *be;
    lsp_send_fn send;
    void *send_ctx;
    const char *name, *version; /* serverInfo */
    int state;                  /* private: before initialize, running, shut down */
    bool exited;                /* an exit notification came */
    bool hierarchical_symbols;  /* the client takes DocumentSymbol[] */
    ae_search_mode symbol_mode; /* workspace/symbol (initializationOptions) */
    lsp_doc *docs;
    size_t ndocs, cap_docs, doc_bytes;
    size_t max_docs, max_doc_bytes;
} lsp_server;

void lsp_server_init(lsp_server *s, const lsp_backend *be, lsp_send_fn send, void *send_ctx,
                     const char *version);
void lsp_server_free(lsp_server *s);

/* Handles one message body.  Returns 0; AE_ENOMEM when not even an error response could be
 * built; or the send callback's negative code. */
int lsp_handle_message(lsp_server *s, const char *body, size_t len);
/* Answers a framing error (frame.h) with a ParseError response (id null). */
int lsp_handle_frame_error(lsp_server *s, const char *message);
/* Sends a window/logMessage notification (type LSP_LOG_*). */
int lsp_log(lsp_server *s, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True once exit came; *code is the process exit status the spec asks for: 0 after shutdown,
 * 1 without. */
bool lsp_server_exited(const lsp_server *s, int *code);
/* The status for a client that went away (EOF) without exit: 0 after shutdown, else 1. */
int lsp_server_eof_status(const lsp_server *s);

/* LSP SymbolKind of one of our kinds (function, method, class, ...); Variable (13) for a kind
 * we do not know. */
int lsp_symbol_kind(const char *kind);

#endif
