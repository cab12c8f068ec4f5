/* LSP base protocol framing: "Content-Length: N\r\n\r\n" + N bytes of JSON (docs/LSP.md).
 *
 * A push parser with no I/O of its own, so the stdio loop, the tests and the fuzzer drive the
 * same code: feed it bytes as they arrive, then take events until it needs more.
 *
 *   lsp_framer f;  lsp_framer_init(&f, LSP_DEFAULT_MAX_BODY);
 *   lsp_framer_feed(&f, buf, n);
 *   while ((ev = lsp_framer_next(&f, &body, &len)) != LSP_FRAME_NEED_MORE) ...
 *
 * Memory stays bounded whatever arrives: a header block is at most LSP_MAX_HEADER bytes, a
 * body at most max_body; a longer one is reported once and its bytes are dropped as they
 * come, never held.  After a bad header the parser resynchronises on the next header block. */
#ifndef AE_LSP_FRAME_H
#define AE_LSP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LSP_MAX_HEADER       8192u       /* bytes of one header block */
#define LSP_DEFAULT_MAX_BODY (64u << 20) /* bytes of one message */
#define LSP_MIN_MAX_BODY     64u

typedef enum lsp_frame_event {
    LSP_FRAME_NEED_MORE, /* nothing complete: feed more bytes */
    LSP_FRAME_MESSAGE,   /* *body / *len: one message body, valid until the next call */
    LSP_FRAME_ERROR,     /* a framing error, described in f->error; parsing goes on */
} lsp_frame_event;

typedef struct lsp_framer {
    char *buf;
    size_t start, len, cap; /* unconsumed bytes are buf[start .. len) */
    size_t max_body;
    int state;            /* private */
    size_t body_len;      /* the body being read */
    uint64_t skip_left;   /* bytes of an oversized body still to drop */
    bool pending_message; /* a header followed junk: the error came first, the body next */
    size_t consume;       /* bytes of the last event to drop on the next call */
    size_t scanned;       /* bytes after start already searched for a header block's end */
    char error[160];
} lsp_framer;

void lsp_framer_init(lsp_framer *f, size_t max_body);
void lsp_framer_free(lsp_framer *f);
/* Appends n bytes; AE_ENOMEM when they cannot be held (the bytes are lost). */
int lsp_framer_feed(lsp_framer *f, const void *data, size_t n);
lsp_frame_event lsp_framer_next(lsp_framer *f, const char **body, size_t *len);
/* True when bytes of an unfinished message are buffered (for an EOF report). */
bool lsp_framer_partial(const lsp_framer *f);

/* "Content-Length: N\r\n\r\n" for a body of n bytes into buf (>= 48 bytes); its length. */
size_t lsp_frame_header(char *buf, size_t cap, size_t n);

#endif
