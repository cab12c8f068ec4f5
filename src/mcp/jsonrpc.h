/* aether-mcp protocol: newline-delimited JSON-RPC 2.0 over stdio, MCP lifecycle.
 *
 * mcp_handle_line() is the whole protocol for one message: it takes a request
 * line and returns the response line (or none for notifications), so tests
 * need no process.  mcp_serve() adds the bounded line reader around it. */
#ifndef AE_MCP_JSONRPC_H
#define AE_MCP_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mcp/tools.h"

/* JSON-RPC 2.0 error codes. */
#define MCP_PARSE_ERROR      -32700
#define MCP_INVALID_REQUEST  -32600
#define MCP_METHOD_NOT_FOUND -32601
#define MCP_INVALID_PARAMS   -32602
#define MCP_INTERNAL_ERROR   -32603

/* Requests longer than this (bytes, without the newline) are answered with
 * -32600 and skipped; the server keeps serving. */
#define MCP_DEFAULT_MAX_LINE (4u << 20)
#define MCP_MIN_MAX_LINE     64u

/* Newest first; the first is offered to clients that ask for an unknown one. */
#define MCP_PROTOCOL_VERSION_LATEST "2025-11-25"

typedef struct mcp_server {
    const mcp_backend *backend; /* borrowed */
    const char *name, *version; /* serverInfo; borrowed */
    bool initialized;           /* an initialize request was answered */
    char protocol_version[16];  /* negotiated */
    size_t max_line;
} mcp_server;

void mcp_server_init(mcp_server *s, const mcp_backend *be, const char *version);

/* Handles one message (a line without its newline; a trailing '\r' is
 * ignored).  *response is the response line without a newline, allocated
 * (caller frees), or NULL when nothing is to be sent (notifications, blank
 * lines, responses from the client).  Returns 0, or AE_ENOMEM when even the
 * error response could not be built. */
int mcp_handle_line(mcp_server *s, const char *line, size_t len, char **response);

/* The error response for a line longer than s->max_line (allocated). */
char *mcp_oversized_response(const mcp_server *s);

/* Reads lines from in until EOF, writes one response line per request to out
 * (flushed after each).  Returns 0 at EOF, or AE_EIO when writing fails (the
 * client went away) or reading fails.  Logs nothing. */
int mcp_serve(mcp_server *s, FILE *in, FILE *out);

#endif
