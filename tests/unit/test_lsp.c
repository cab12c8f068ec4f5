/* aetherd --lsp without a process: the framing (every case fed whole and byte by byte), file
 * URIs, the SymbolKind table row by row, the protocol against a fake backend
 * (tests/fuzz/lsp_fake.h), and the library calls under it (buffer symbols through ctags,
 * workspace-relative paths).  The LSP sources live in aetherd, not libaether, so they are
 * compiled into this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lsp/frame.c"
#include "lsp/server.c"
#include "lsp/uri.c"

#include "fuzz/lsp_fake.h"

/* ---- framing ------------------------------------------------------------ */

/* Runs input through a framer, n bytes per feed; the events as "M:<body>" / "E:<error>". */
static void frame_events(const char *input, size_t len, size_t step, size_t max_body, char *out,
                         size_t cap)
{
    lsp_framer f;
    lsp_framer_init(&f, max_body);
    size_t used = 0;
    out[0] = '\0';
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        assert_int_equal(lsp_framer_feed(&f, input + off, n), 0);
        const char *body;
        size_t blen;
        lsp_frame_event ev;
        while ((ev = lsp_framer_next(&f, &body, &blen)) != LSP_FRAME_NEED_MORE) {
            int w = ev == LSP_FRAME_MESSAGE
                        ? snprintf(out + used, cap - used, "M:%.*s|", (int)blen, body)
                        : snprintf(out + used, cap - used, "E:%s|", f.error);
            assert_true(w > 0 && (size_t)w < cap - used);
            used += (size_t)w;
        }
    }
    lsp_framer_free(&f);
}

static void test_framing(void **state)
{
    (void)state;
    static const struct {
        const char *input, *events;
    } rows[] = {
        {"Content-Length: 2\r\n\r\n{}", "M:{}|"},
        {"Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]", "M:{}|M:[1]|"},
        {"content-length:2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}",
         "M:{}|"},
        {"Content-Length: 2\n\n{}", "M:{}|"},
        {"\r\n\r\nContent-Length: 2\r\n\r\n{}", "M:{}|"},
        {"Content-Length: 0\r\n\r\n", "M:|"},
        {"Content-Type: x\r\n\r\nContent-Length: 1\r\n\r\n1",
         "E:header block without Content-Length: dropped|M:1|"},
        {"Content-Length: 1x\r\n\r\nContent-Length: 1\r\n\r\n1",
         "E:Content-Length '1x' is not a whole number of bytes: header dropped|M:1|"},
        {"Content-Length: -1\r\n\r\n", "E:Content-Length '-1' is not a whole number of bytes: "
                                       "header dropped|"},
        {"Content-Length: 99999999999999999999\r\n\r\n",
         "E:Content-Length '99999999999999999999' is not a whole number of bytes: header "
         "dropped|"},
        {"}junk}Content-Length: 1\r\n\r\n7",
         "E:bytes that are not a header before Content-Length: dropped|M:7|"},
        {"Content-Length: 100\r\n\r\n0123456789Content-Length: 1\r\n\r\n1",
         "E:Content-Length 100 is over the limit of 64 bytes: message dropped|"},
        {"Content-Length: 65\r\n\r\n"
         "01234567890123456789012345678901234567890123456789012345678901234Content-Length: 1\r\n"
         "\r\n1",
         "E:Content-Length 65 is over the limit of 64 bytes: message dropped|M:1|"},
        {"Content-Length: 3\r\n\r\n12", ""},
    };
    char got[1024], bytewise[1024];
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        size_t len = strlen(rows[i].input);
        frame_events(rows[i].input, len, len, 64, got, sizeof got);
        frame_events(rows[i].input, len, 1, 64, bytewise, sizeof bytewise);
        if (strcmp(got, rows[i].events) || strcmp(bytewise, rows[i].events))
            fail_msg("row %zu: %s\n  whole:    %s\n  bytewise: %s\n  wanted:   %s", i,
                     rows[i].input, got, bytewise, rows[i].events);
    }
}

static void test_framing_bounds(void **state)
{
    (void)state;
    /* a header block that never ends: one error, its bytes dropped, then resync */
    size_t n = 3 * LSP_MAX_HEADER;
    char *in = malloc(n + 64);
    memset(in, 'a', n);
    strcpy(in + n, "\r\n\r\nContent-Length: 1\r\n\r\n5");
    char got[512];
    frame_events(in, strlen(in), 1000, 64, got, sizeof got);
    assert_string_equal(got, "E:header block longer than 8192 bytes: dropped up to its end|M:5|");
    free(in);
    /* an announced 2^60 bytes: dropped as they come, the buffer never grows */
    lsp_framer f;
    lsp_framer_init(&f, 64);
    const char *h = "Content-Length: 1152921504606846976\r\n\r\n";
    assert_int_equal(lsp_framer_feed(&f, h, strlen(h)), 0);
    const char *body;
    size_t blen;
    assert_int_equal(lsp_framer_next(&f, &body, &blen), LSP_FRAME_ERROR);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(lsp_framer_feed(&f, chunk, sizeof chunk), 0);
        assert_int_equal(lsp_framer_next(&f, &body, &blen), LSP_FRAME_NEED_MORE);
    }
    assert_true(f.cap <= 8192);
    assert_true(lsp_framer_partial(&f));
    lsp_framer_free(&f);
    char hb[64];
    assert_int_equal(lsp_frame_header(hb, sizeof hb, 17), strlen("Content-Length: 17\r\n\r\n"));
    assert_string_equal(hb, "Content-Length: 17\r\n\r\n");
}

/* ---- URIs and kinds ----------------------------------------------------- */

static void test_uris(void **state)
{
    (void)state;
    static const struct {
        const char *uri, *path;
    } rows[] = {
        {"file:///a/b.py", "/a/b.py"},
        {"file:///dir%20with%20space/%C3%BCn%C3%AF.py", "/dir with space/ünï.py"},
        {"FILE:///x", "/x"},
        {"file://localhost/x/y", "/x/y"},
        {"file:///c%3A/x", "/c:/x"},
        {"file://remote/x", NULL},
        {"untitled:Untitled-1", NULL},
        {"file:///a%2", NULL},
        {"file:///a%zz", NULL},
        {"file:///a%00b", NULL},
        {"file:///a?q=1", NULL},
        {"file://", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char *p = lsp_uri_to_path(rows[i].uri);
        if (rows[i].path) {
            assert_non_null(p);
            assert_string_equal(p, rows[i].path);
        } else if (p) {
            fail_msg("%s decoded to %s, wanted a refusal", rows[i].uri, p);
        }
        free(p);
    }
    char *u = lsp_path_to_uri("/dir with space/ünï.py");
    assert_string_equal(u, "file:///dir%20with%20space/%C3%BCn%C3%AF.py");
    char *back = lsp_uri_to_path(u);
    assert_string_equal(back, "/dir with space/ünï.py");
    free(u);
    free(back);
    u = lsp_path_to_uri("/a-b_c.d~/%#?");
    assert_string_equal(u, "file:///a-b_c.d~/%25%23%3F");
    free(u);
}

static void test_symbol_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        int lsp;
    } rows[] = {
        {"function", 12}, {"method", 6},     {"class", 5},  {"struct", 23},     {"union", 23},
        {"enum", 10},     {"interface", 11}, {"trait", 11}, {"type_alias", 26}, {"macro", 12},
        {"constant", 14}, {"module", 13},    {"", 13},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        assert_int_equal(lsp_symbol_kind(rows[i].kind), rows[i].lsp);
    assert_int_equal(lsp_symbol_kind(NULL), 13);
    /* every row of the table is one of ours above */
    assert_int_equal(sizeof symbol_kinds / sizeof *symbol_kinds, 11);
}

/* ---- the protocol ------------------------------------------------------- */

typedef struct sent {
    json_t *msgs[64];
    size_t n;
} sent;

static int capture(void *ctx, const char *body, size_t len)
{
    sent *s = ctx;
    json_error_t e;
    json_t *m = json_loadb(body, len, 0, &e);
    assert_non_null(m);
    assert_true(s->n < 64);
    s->msgs[s->n++] = m;
    return 0;
}

static void sent_clear(sent *s)
{
    for (size_t i = 0; i < s->n; i++)
        json_decref(s->msgs[i]);
    s->n = 0;
}

/* Sends one message body, returns the single message the server sent (borrowed until the
 * next call), or NULL when it sent none. */
static json_t *roundtrip(lsp_server *srv, sent *out, const char *fmt, ...)
{
    char body[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    sent_clear(out);
    assert_int_equal(lsp_handle_message(srv, body, strlen(body)), 0);
    assert_true(out->n <= 1);
    return out->n ? out->msgs[0] : NULL;
}

static int error_code(json_t *m)
{
    return (int)json_integer_value(json_object_get(json_object_get(m, "error"), "code"));
}

static const char *error_message(json_t *m)
{
    return json_string_value(json_object_get(json_object_get(m, "error"), "message"));
}

#define DOC "\"textDocument\":{\"uri\":\"file:///ws/a.py\"}"

static void test_protocol(void **state)
{
    (void)state;
    sent out = {0};
    lsp_server s;
    lsp_server_init(&s, &fake_backend, capture, &out, "t");
    json_t *m = roundtrip(&s, &out,
                          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"textDocument/hover\","
                          "\"params\":{" DOC ",\"position\":{\"line\":0,\"character\":0}}}");
    assert_int_equal(error_code(m), LSP_SERVER_NOT_INITIALIZED);
    assert_null(roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\"}"));
    m = roundtrip(
        &s, &out,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{\"capabilities\":"
        "{\"textDocument\":{\"documentSymbol\":{\"hierarchicalDocumentSymbolSupport\":true}}}}}");
    assert_true(json_is_true(json_object_get(
        json_object_get(json_object_get(m, "result"), "capabilities"), "hoverProvider")));
    assert_int_equal(error_code(roundtrip(&s, &out,
                                          "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
                                          "\"initialize\",\"params\":{}}")),
                     LSP_INVALID_REQUEST);

    /* open a buffer: a function with a nested method, a stale one, one without SIR */
    const char *text = "def top(a):\\n    def inner():\\n        return 1\\n    return a\\n"
                       "\\ndef stale_one():\\n    pass\\ndef no_sir():\\n    pass\\n";
    assert_null(
        roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                  "{\"textDocument\":{\"uri\":\"file:///ws/a.py\",\"version\":1,\"text\":\"%s\"}}}",
                  text));
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/hover\",\"params\":{" DOC
                  ",\"position\":{\"line\":2,\"character\":8}}}");
    json_t *hover = json_object_get(m, "result");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(hover, "contents"), "value")),
        "### top::inner\n\n**Confidence:** 0.50\n\n**Intent**\nFake.\n\n**Inputs**\n- a\n\n"
        "**Outputs**\n(none)\n\n**Side Effects**\n(none)\n\n**Dependencies**\n(none)\n\n"
        "**Error Modes**\n(none)\n\n> AETHER WHY: only one recorded SIR version.");
    json_t *range = json_object_get(hover, "range");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(range, "start"), "line")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(range, "end"), "line")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(range, "end"), "character")), 16);
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"textDocument/hover\",\"params\":{" DOC
                  ",\"position\":{\"line\":6,\"character\":2}}}");
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(m, "result"), "contents"), "value"));
    assert_non_null(strstr(v, "\n\n> AETHER WARNING: SIR is stale. Last error: boom\n\n"));
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"textDocument/hover\",\"params\":{" DOC
                  ",\"position\":{\"line\":8,\"character\":2}}}");
    v = json_string_value(
        json_object_get(json_object_get(json_object_get(m, "result"), "contents"), "value"));
    assert_string_equal(v, AE_HOVER_NO_SIR); /* no history hint without a SIR */

    /* a ranged change: insert two lines at the top; inner moves down by two */
    assert_null(roundtrip(&s, &out,
                          "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{"
                          "\"textDocument\":{\"uri\":\"file:///ws/a.py\",\"version\":2},"
                          "\"contentChanges\":[{\"range\":{\"start\":{\"line\":0,\"character\":0},"
                          "\"end\":{\"line\":0,\"character\":0}},\"text\":\"# x\\n\\n\"}]}}"));
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"textDocument/hover\",\"params\":{" DOC
                  ",\"position\":{\"line\":4,\"character\":8}}}");
    v = json_string_value(
        json_object_get(json_object_get(json_object_get(m, "result"), "contents"), "value"));
    assert_non_null(v);
    assert_true(!strncmp(v, "### top::inner\n", 15));
    /* the new comment line at the top belongs to no symbol */
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"textDocument/hover\",\"params\":{" DOC
                  ",\"position\":{\"line\":0,\"character\":1}}}");
    assert_true(json_is_null(json_object_get(m, "result")));
    /* a bad range: logged, the text unchanged */
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{"
                  "\"textDocument\":{\"uri\":\"file:///ws/a.py\"},\"contentChanges\":[{\"range\":"
                  "{\"start\":{\"line\":900,\"character\":0},\"end\":{\"line\":0,\"character\":0}},"
                  "\"text\":\"\"}]}}");
    assert_string_equal(json_string_value(json_object_get(m, "method")), "window/logMessage");
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(m, "params"), "message")),
               "contentChanges[0].range: line 901 is past the end"));

    /* documentSymbol: the tree */
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"textDocument/documentSymbol\","
                  "\"params\":{" DOC "}}");
    json_t *syms = json_object_get(m, "result");
    assert_int_equal(json_array_size(syms), 3);
    json_t *top = json_array_get(syms, 0);
    assert_string_equal(json_string_value(json_object_get(top, "name")), "top");
    assert_int_equal(json_array_size(json_object_get(top, "children")), 1);
    json_t *sel =
        json_object_get(json_array_get(json_object_get(top, "children"), 0), "selectionRange");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(sel, "start"), "character")), 8);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sel, "end"), "character")),
                     13);

    /* workspace/symbol: located matches, a vanished one skipped, "" nothing */
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"workspace/symbol\","
                  "\"params\":{\"query\":\"A::b\"}}");
    json_t *w = json_array_get(json_object_get(m, "result"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "name")), "b");
    assert_string_equal(json_string_value(json_object_get(w, "containerName")), "A");
    assert_string_equal(json_string_value(json_object_get(json_object_get(w, "location"), "uri")),
                        "file:///ws/disk.py");
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"workspace/symbol\","
                  "\"params\":{\"query\":\"gone\"}}");
    assert_int_equal(json_array_size(json_object_get(m, "result")), 0);
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"workspace/symbol\","
                  "\"params\":{\"query\":\"\"}}");
    assert_int_equal(json_array_size(json_object_get(m, "result")), 0);

    /* a file not open: read from disk; outside the workspace: null */
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"textDocument/hover\",\"params\":{"
                  "\"textDocument\":{\"uri\":\"file:///ws/disk.py\"},\"position\":{\"line\":1,"
                  "\"character\":4}}}");
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(json_object_get(m, "result"), "contents"), "value")),
                           "### on_disk\n"));
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"textDocument/hover\",\"params\":{"
                  "\"textDocument\":{\"uri\":\"file:///elsewhere/x.py\"},\"position\":{\"line\":0,"
                  "\"character\":0}}}");
    assert_true(json_is_null(json_object_get(m, "result")));

    /* errors */
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"textDocument/hover\","
                  "\"params\":{" DOC ",\"position\":{\"line\":1.5,\"character\":0}}}");
    assert_int_equal(error_code(m), LSP_INVALID_PARAMS);
    assert_string_equal(error_message(m), "textDocument/hover: params.position.line must be an "
                                          "integer from 0 to 4294967295, not a number");
    m = roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"nope\"}");
    assert_int_equal(error_code(m), LSP_METHOD_NOT_FOUND);
    m = roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"exit\"}");
    assert_int_equal(error_code(m), LSP_METHOD_NOT_FOUND); /* a notification sent as a request */
    assert_null(roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}"));
    assert_null(roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}"));
    m = roundtrip(&s, &out, "{bad");
    assert_int_equal(error_code(m), LSP_PARSE_ERROR);
    assert_true(json_is_null(json_object_get(m, "id")));

    /* close, shutdown, exit */
    assert_null(roundtrip(&s, &out,
                          "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didClose\","
                          "\"params\":{" DOC "}}"));
    assert_int_equal(s.ndocs, 0);
    assert_int_equal(s.doc_bytes, 0);
    m = roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"shutdown\"}");
    assert_true(json_is_null(json_object_get(m, "result")));
    m = roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"workspace/symbol\","
                  "\"params\":{\"query\":\"x\"}}");
    assert_int_equal(error_code(m), LSP_INVALID_REQUEST);
    int code = -1;
    assert_false(lsp_server_exited(&s, &code));
    assert_int_equal(lsp_server_eof_status(&s), 0);
    assert_null(roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}"));
    assert_true(lsp_server_exited(&s, &code));
    assert_int_equal(code, 0);
    sent_clear(&out);
    lsp_server_free(&s);

    /* exit without shutdown: 1 */
    lsp_server_init(&s, &fake_backend, capture, &out, "t");
    roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    assert_int_equal(lsp_server_eof_status(&s), 1);
    assert_null(roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}"));
    assert_true(lsp_server_exited(&s, &code));
    assert_int_equal(code, 1);
    sent_clear(&out);
    lsp_server_free(&s);
}

static void test_document_limits(void **state)
{
    (void)state;
    sent out = {0};
    lsp_server s;
    lsp_server_init(&s, &fake_backend, capture, &out, "t");
    s.max_docs = 2;
    s.max_doc_bytes = 10;
    roundtrip(&s, &out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    for (int i = 0; i < 3; i++)
        roundtrip(&s, &out,
                  "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{"
                  "\"textDocument\":{\"uri\":\"file:///ws/%d.py\",\"text\":\"abc\"}}}",
                  i);
    assert_int_equal(s.ndocs, 2);
    assert_non_null(out.msgs[0]); /* the third was refused with a log message */
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(out.msgs[0], "params"), "message")),
        "not kept"));
    /* a change that would pass the byte limit is refused, the text kept */
    roundtrip(&s, &out,
              "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{"
              "\"textDocument\":{\"uri\":\"file:///ws/0.py\"},\"contentChanges\":[{\"text\":"
              "\"0123456789abc\"}]}}");
    assert_int_equal(s.doc_bytes, 6);
    assert_string_equal(s.docs[0].text, "abc");
    /* the same document opened again replaces itself */
    roundtrip(&s, &out,
              "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{"
              "\"textDocument\":{\"uri\":\"file:///ws/0.py\",\"text\":\"xy\"}}}");
    assert_int_equal(s.ndocs, 2);
    assert_int_equal(s.doc_bytes, 5);
    sent_clear(&out);
    lsp_server_free(&s);
}

/* ---- the library under it ----------------------------------------------- */

static void test_buffer_symbols(void **state)
{
    (void)state;
    const char *text =
        "class A:\n    def m(self):\n        return 1\n\n\ndef f(x):\n    return x\n";
    ae_doc_symbols *d;
    ae_error err;
    assert_int_equal(ae_buffer_symbols("pkg/a.py", text, strlen(text), &d, &err), 0);
    assert_string_equal(d->language, "python");
    assert_int_equal(d->n, 3);
    assert_string_equal(d->items[0].qualified_name, "A");
    assert_int_equal(d->items[0].parent, -1);
    assert_string_equal(d->items[1].qualified_name, "A::m");
    assert_int_equal(d->items[1].parent, 0);
    assert_int_equal(d->items[1].name_column, 9);
    assert_int_equal(d->items[1].start_line, 2);
    assert_int_equal(d->items[1].end_line, 3);
    assert_string_equal(d->items[2].kind, "function");
    assert_int_equal(d->items[2].parent, -1);
    assert_int_equal(strlen(d->items[2].symbol_id), 64);
    /* the same text under another path: other ids (the path is part of the id) */
    ae_doc_symbols *d2;
    assert_int_equal(ae_buffer_symbols("pkg/b.py", text, strlen(text), &d2, &err), 0);
    assert_string_not_equal(d->items[2].symbol_id, d2->items[2].symbol_id);
    ae_doc_symbols_free(d2);
    ae_doc_symbols_free(d);
    /* no supported language; an empty buffer */
    assert_int_equal(ae_buffer_symbols("notes.txt", "def f(): pass\n", 14, &d, &err), 0);
    assert_null(d->language);
    assert_int_equal(d->n, 0);
    ae_doc_symbols_free(d);
    assert_int_equal(ae_buffer_symbols("x.c", "", 0, &d, &err), 0);
    assert_int_equal(d->n, 0);
    ae_doc_symbols_free(d);
    /* a non-ASCII name column counts code points */
    const char *js = "/* 😀 ü */ function g(a) { return a; }\n";
    assert_int_equal(ae_buffer_symbols("w.js", js, strlen(js), &d, &err), 0);
    assert_int_equal(d->n, 1);
    assert_int_equal(d->items[0].name_column, 20); /* 10 characters of comment, "function " */
    ae_doc_symbols_free(d);
    /* ctags missing: AE_EEXTERNAL naming it */
    setenv("AE_CTAGS", "/nonexistent/ctags", 1);
    assert_true(ae_buffer_symbols("pkg/a.py", text, strlen(text), &d, &err) < 0);
    assert_null(d);
    assert_non_null(strstr(err.message, "/nonexistent/ctags"));
    unsetenv("AE_CTAGS");
}

static void test_relpath(void **state)
{
    (void)state;
    char dir[] = "/tmp/ae-lsp-relXXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[64], link[64];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(link, sizeof link, "%s-link", dir);
    assert_int_equal(symlink(dir, link), 0);
    ae_open_options oo = {.readonly = true};
    ae_workspace *ws;
    ae_error err;
    assert_int_equal(ae_workspace_open(dir, &oo, &ws, &err), 0);
    char *rel, in[128];
    static const struct {
        const char *suffix, *rel;
    } rows[] = {
        {"/a.py", "a.py"},
        {"//sub/./b.py", "sub/b.py"},
        {"/sub/../c.py", "c.py"},
        {"/sub/x/../../d", "d"},
        {"", NULL},
        {"/..", NULL},
        {"/../x", NULL},
        {"x/y", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        snprintf(in, sizeof in, "%s%s", dir, rows[i].suffix);
        int rc = ae_workspace_relpath(ws, in, &rel, &err);
        if (rows[i].rel) {
            assert_int_equal(rc, 0);
            assert_string_equal(rel, rows[i].rel);
            free(rel);
        } else {
            assert_int_equal(rc, AE_EINVAL);
            assert_non_null(strstr(err.message, "outside the workspace"));
        }
    }
    /* through the symlink to the root */
    snprintf(in, sizeof in, "%s/sub/e.py", link);
    assert_int_equal(ae_workspace_relpath(ws, in, &rel, &err), 0);
    assert_string_equal(rel, "sub/e.py");
    free(rel);
    assert_int_equal(ae_workspace_relpath(ws, "rel/x", &rel, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "not an absolute path"));
    assert_int_equal(ae_workspace_relpath(ws, "/etc/passwd", &rel, &err), AE_EINVAL);
    /* no store: a symbol has no location */
    char *file;
    int a, b;
    assert_int_equal(ae_workspace_symbol_location(ws, "x", &file, &a, &b, &err), AE_ENOTFOUND);
    ae_workspace_close(ws);
    unlink(link);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),        cmocka_unit_test(test_framing_bounds),
        cmocka_unit_test(test_uris),           cmocka_unit_test(test_symbol_kinds),
        cmocka_unit_test(test_protocol),       cmocka_unit_test(test_document_limits),
        cmocka_unit_test(test_buffer_symbols), cmocka_unit_test(test_relpath),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
