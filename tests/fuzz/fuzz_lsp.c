/* libFuzzer: LSP framing and dispatch (src/lsp/frame.c + server.c) over the fake backend of
 * lsp_fake.h.  The input is fed to one framer in chunks whose sizes come from the input's
 * first byte (so split headers and bodies are explored), every event goes to one server, and
 * when the first byte is odd an initialize message comes first so the methods behind the
 * lifecycle are reached.  Any response is fine; a crash, a leak or unbounded growth is a bug. */
#include "lsp/frame.c"
#include "lsp/server.c"
#include "lsp/uri.c"

#include <stdint.h>

#include "fuzz/lsp_fake.h"

static int discard(void *ctx, const char *body, size_t len)
{
    (void)ctx;
    /* every message the server sends must be JSON */
    json_error_t e;
    json_t *m = json_loadb(body, len, 0, &e);
    if (!m) __builtin_trap();
    json_decref(m);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    size_t step = (size_t)(data[0] % 64) + 1;
    bool init = data[0] & 1;
    data++, size--;
    lsp_server s;
    lsp_server_init(&s, &fake_backend, discard, NULL, "fuzz");
    s.max_docs = 8;
    s.max_doc_bytes = 1 << 16;
    if (init) {
        static const char msg[] =
            "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
            "\"params\":{\"capabilities\":{\"textDocument\":{"
            "\"documentSymbol\":{\"hierarchicalDocumentSymbolSupport\":true}}}}}";
        lsp_handle_message(&s, msg, sizeof msg - 1);
    }
    lsp_framer f;
    lsp_framer_init(&f, 1 << 16);
    int code;
    for (size_t off = 0; off < size && !lsp_server_exited(&s, &code); off += step) {
        size_t n = size - off < step ? size - off : step;
        if (lsp_framer_feed(&f, data + off, n) < 0) break;
        const char *body;
        size_t len;
        lsp_frame_event ev;
        while ((ev = lsp_framer_next(&f, &body, &len)) != LSP_FRAME_NEED_MORE) {
            if (ev == LSP_FRAME_MESSAGE)
                lsp_handle_message(&s, body, len);
            else
                lsp_handle_frame_error(&s, f.error);
        }
        if (f.cap > (1u << 17) + 4096 + 64) __builtin_trap(); /* bounded by body + header + chunk */
    }
    lsp_framer_free(&f);
    lsp_server_free(&s);
    return 0;
}
