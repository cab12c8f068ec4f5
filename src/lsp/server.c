/* aetherd --lsp protocol layer (server.h, docs/LSP.md).  What is unusual here:
 *
 * 1. The lifecycle is the spec's, strictly: a request before initialize is answered
 *    ServerNotInitialized (-32002) and a notification dropped (exit excepted); initialize
 *    twice is InvalidRequest; after shutdown every request is InvalidRequest and only exit
 *    counts; exit's status is 0 after shutdown, 1 without.
 * 2. Parameters are checked by type before anything runs: a wrong type is InvalidParams
 *    naming the field and what it was.  Notifications cannot be answered, so a malformed one
 *    is dropped with a window/logMessage that says why.
 * 3. Positions are UTF-16 code units against the text the position refers to: the editor's
 *    buffer for an open document (full or ranged didChange applied), the file on disk
 *    otherwise.  Hover runs the indexer's extractor over that text, so it follows unsaved
 *    edits; the symbols are cached per document until its next change.
 * 4. Documents are keyed by the decoded path, not the URI string, so "file:///a%20b" and
 *    "file:///a b" are one document.  A document outside the workspace is kept (so its
 *    changes apply) but every answer about it is null.
 * 5. Backend failures (ctags missing, a corrupt store) answer the request with null and say
 *    why in a window/logMessage, so the editor keeps working. */
#include "lsp/server.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsp/uri.h"
#include "util/err.h"
#include "util/json_type.h"
#include "util/mem.h"

enum { ST_NEW, ST_RUNNING, ST_SHUTDOWN };

#define MSG_MAX (AE_ERROR_MESSAGE_MAX + 160)

/* ---- kinds (LSP SymbolKind) --------------------------------------------- */

static const struct {
    const char *kind;
    int lsp;
} symbol_kinds[] = {
    {"function", 12},   /* Function */
    {"method", 6},      /* Method */
    {"class", 5},       /* Class */
    {"struct", 23},     /* Struct */
    {"union", 23},      /* Struct */
    {"enum", 10},       /* Enum */
    {"interface", 11},  /* Interface */
    {"trait", 11},      /* Interface */
    {"type_alias", 26}, /* TypeParameter */
    {"macro", 12},      /* Function */
    {"constant", 14},   /* Constant */
};

int lsp_symbol_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof symbol_kinds / sizeof *symbol_kinds; i++)
        if (!strcmp(kind, symbol_kinds[i].kind)) return symbol_kinds[i].lsp;
    return 13; /* Variable */
}

/* ---- messages ----------------------------------------------------------- */

void lsp_server_init(lsp_server *s, const lsp_backend *be, lsp_send_fn send, void *send_ctx,
                     const char *version)
{
    memset(s, 0, sizeof *s);
    s->be = be;
    s->send = send;
    s->send_ctx = send_ctx;
    s->name = "aetherd";
    s->version = version ? version : "dev";
    s->state = ST_NEW;
    s->symbol_mode = AE_SEARCH_LEXICAL;
    s->max_docs = LSP_MAX_DOCS;
    s->max_doc_bytes = LSP_MAX_DOC_BYTES;
}

static void doc_clear(lsp_doc *d)
{
    free(d->path);
    free(d->uri);
    free(d->rel);
    free(d->text);
    ae_doc_symbols_free(d->syms);
    memset(d, 0, sizeof *d);
}

void lsp_server_free(lsp_server *s)
{
    for (size_t i = 0; i < s->ndocs; i++)
        doc_clear(&s->docs[i]);
    free(s->docs);
    s->docs = NULL;
    s->ndocs = s->cap_docs = s->doc_bytes = 0;
}

bool lsp_server_exited(const lsp_server *s, int *code)
{
    if (s->exited) *code = s->state == ST_SHUTDOWN ? 0 : 1;
    return s->exited;
}

int lsp_server_eof_status(const lsp_server *s)
{
    return s->state == ST_SHUTDOWN ? 0 : 1;
}

/* Serialises, frees and sends msg. */
static int send_msg(lsp_server *s, json_t *msg)
{
    if (!msg) return AE_ENOMEM;
    char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(msg);
    if (!text) return AE_ENOMEM;
    int rc = s->send(s->send_ctx, text, strlen(text));
    free(text);
    return rc < 0 ? rc : 0;
}

/* id borrowed (NULL: JSON null). */
static int send_error(lsp_server *s, json_t *id, int code, const char *message)
{
    return send_msg(s, json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
                                 id ? id : json_null(), "error", "code", code, "message", message));
}

/* result stolen. */
static int send_result(lsp_server *s, json_t *id, json_t *result)
{
    if (!result) return send_error(s, id, LSP_INTERNAL_ERROR, "out of memory");
    return send_msg(s, json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

int lsp_log(lsp_server *s, int type, const char *fmt, ...)
{
    char text[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return send_msg(s, json_pack("{s:s, s:s, s:{s:i, s:s}}", "jsonrpc", "2.0", "method",
                                 "window/logMessage", "params", "type", type, "message", text));
}

int lsp_handle_frame_error(lsp_server *s, const char *message)
{
    return send_error(s, NULL, LSP_PARSE_ERROR, message);
}

/* ---- parameters --------------------------------------------------------- */

/* A failed check: the code and message of the error response. */
typedef struct lsp_fail {
    int code;
    char msg[MSG_MAX];
} lsp_fail;

static bool bad(lsp_fail *f, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(lsp_fail *f, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    f->code = code;
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    return false;
}

static bool get_object(json_t *parent, const char *key, const char *where, json_t **out,
                       lsp_fail *f)
{
    json_t *v = parent ? json_object_get(parent, key) : NULL;
    if (!json_is_object(v))
        return bad(f, LSP_INVALID_PARAMS, "%s.%s must be an object, not %s", where, key,
                   ae_json_type_name(v));
    *out = v;
    return true;
}

static bool get_string(json_t *parent, const char *key, const char *where, const char **out,
                       size_t *len, lsp_fail *f)
{
    json_t *v = json_object_get(parent, key);
    if (!json_is_string(v))
        return bad(f, LSP_INVALID_PARAMS, "%s.%s must be a string, not %s", where, key,
                   ae_json_type_name(v));
    *out = json_string_value(v);
    if (len) *len = json_string_length(v);
    return true;
}

static bool get_uint(json_t *parent, const char *key, const char *where, uint32_t *out, lsp_fail *f)
{
    json_t *v = json_object_get(parent, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)UINT32_MAX)
        return bad(f, LSP_INVALID_PARAMS, "%s.%s must be an integer from 0 to %u, not %s", where,
                   key, UINT32_MAX, ae_json_type_name(v));
    *out = (uint32_t)json_integer_value(v);
    return true;
}

/* params.textDocument.uri -> the decoded absolute path (NULL for a URI that is not a local
 * file: such documents get null answers). */
static bool get_document(json_t *params, const char *method, json_t **doc, const char **uri,
                         char **path, lsp_fail *f)
{
    char where[96];
    snprintf(where, sizeof where, "%s: params", method);
    if (!json_is_object(params))
        return bad(f, LSP_INVALID_PARAMS, "%s must be an object, not %s", where,
                   ae_json_type_name(params));
    if (!get_object(params, "textDocument", where, doc, f)) return false;
    snprintf(where, sizeof where, "%s: params.textDocument", method);
    if (!get_string(*doc, "uri", where, uri, NULL, f)) return false;
    *path = lsp_uri_to_path(*uri);
    return true;
}

static bool get_position(json_t *params, const char *method, uint32_t *line, uint32_t *character,
                         lsp_fail *f)
{
    char where[96];
    snprintf(where, sizeof where, "%s: params", method);
    json_t *pos;
    if (!get_object(params, "position", where, &pos, f)) return false;
    snprintf(where, sizeof where, "%s: params.position", method);
    return get_uint(pos, "line", where, line, f) && get_uint(pos, "character", where, character, f);
}

/* ---- documents ---------------------------------------------------------- */

static lsp_doc *find_doc(lsp_server *s, const char *path)
{
    for (size_t i = 0; path && i < s->ndocs; i++)
        if (!strcmp(s->docs[i].path, path)) return &s->docs[i];
    return NULL;
}

static void drop_doc(lsp_server *s, lsp_doc *d)
{
    s->doc_bytes -= d->len;
    doc_clear(d);
    size_t i = (size_t)(d - s->docs);
    memmove(&s->docs[i], &s->docs[i + 1], (s->ndocs - i - 1) * sizeof *s->docs);
    s->ndocs--;
}

/* Workspace-relative path of an absolute one, or NULL when outside (or out of memory). */
static char *rel_of(lsp_server *s, const char *path)
{
    char *rel = NULL;
    ae_error err;
    if (!path || s->be->relpath(s->be->ctx, path, &rel, &err) < 0) return NULL;
    return rel;
}

static int did_open(lsp_server *s, json_t *params)
{
    lsp_fail f;
    json_t *td;
    const char *uri, *text;
    char *path = NULL;
    size_t len;
    if (!get_document(params, "textDocument/didOpen", &td, &uri, &path, &f) ||
        !get_string(td, "text", "textDocument/didOpen: params.textDocument", &text, &len, &f)) {
        free(path);
        return lsp_log(s, LSP_LOG_WARNING, "%s: ignored", f.msg);
    }
    if (!path) return 0; /* not a local file: nothing we can say about it */
    json_t *ver = json_object_get(td, "version");
    lsp_doc *d = find_doc(s, path);
    if (d) drop_doc(s, d);
    if (s->ndocs >= s->max_docs || len > s->max_doc_bytes - s->doc_bytes) {
        free(path);
        return lsp_log(s, LSP_LOG_WARNING,
                       "textDocument/didOpen: %s not kept (over %zu documents or %zu bytes "
                       "open): answers about it come from the file on disk",
                       uri, s->max_docs, s->max_doc_bytes);
    }
    if (s->ndocs == s->cap_docs) {
        size_t cap = s->cap_docs ? s->cap_docs * 2 : 8;
        lsp_doc *docs = ae_realloc_array(s->docs, cap, sizeof *docs);
        if (!docs) {
            free(path);
            return AE_ENOMEM;
        }
        s->docs = docs;
        s->cap_docs = cap;
    }
    d = &s->docs[s->ndocs];
    memset(d, 0, sizeof *d);
    d->path = path;
    d->uri = ae_strdup(uri);
    d->rel = rel_of(s, path);
    d->text = malloc(len + 1);
    if (!d->uri || !d->text) {
        doc_clear(d);
        return AE_ENOMEM;
    }
    memcpy(d->text, text, len);
    d->text[len] = '\0';
    d->len = len;
    d->version = json_is_integer(ver) ? json_integer_value(ver) : 0;
    s->doc_bytes += len;
    s->ndocs++;
    return 0;
}

/* Applies one contentChanges entry to d: the whole text, or a range of it. */
static bool apply_change(lsp_server *s, lsp_doc *d, json_t *change, size_t i, lsp_fail *f)
{
    char where[96];
    snprintf(where, sizeof where, "textDocument/didChange: params.contentChanges[%zu]", i);
    if (!json_is_object(change))
        return bad(f, LSP_INVALID_PARAMS, "%s must be an object, not %s", where,
                   ae_json_type_name(change));
    const char *text;
    size_t len;
    if (!get_string(change, "text", where, &text, &len, f)) return false;
    json_t *range = json_object_get(change, "range");
    size_t from = 0, to = d->len;
    if (range) {
        json_t *start, *end;
        uint32_t sl, sc, el, ec;
        char rw[128];
        snprintf(rw, sizeof rw, "%s.range", where);
        if (!get_object(change, "range", where, &range, f) ||
            !get_object(range, "start", rw, &start, f) || !get_object(range, "end", rw, &end, f))
            return false;
        snprintf(rw, sizeof rw, "%s.range.start", where);
        if (!get_uint(start, "line", rw, &sl, f) || !get_uint(start, "character", rw, &sc, f))
            return false;
        snprintf(rw, sizeof rw, "%s.range.end", where);
        if (!get_uint(end, "line", rw, &el, f) || !get_uint(end, "character", rw, &ec, f))
            return false;
        ae_error err;
        if (ae_offset_from_lsp(d->text, d->len, sl, sc, &from, &err) < 0 ||
            ae_offset_from_lsp(d->text, d->len, el, ec, &to, &err) < 0)
            return bad(f, LSP_INVALID_PARAMS, "%s.range: %s", where, err.message);
        if (to < from) return bad(f, LSP_INVALID_PARAMS, "%s.range ends before it starts", where);
    }
    size_t nlen = d->len - (to - from) + len;
    if (nlen > d->len && nlen - d->len > s->max_doc_bytes - s->doc_bytes)
        return bad(f, LSP_INVALID_PARAMS, "%s: the documents would exceed %zu bytes", where,
                   s->max_doc_bytes);
    char *t = malloc(nlen + 1);
    if (!t) return bad(f, AE_ENOMEM, "out of memory");
    memcpy(t, d->text, from);
    memcpy(t + from, text, len);
    memcpy(t + from + len, d->text + to, d->len - to);
    t[nlen] = '\0';
    s->doc_bytes = s->doc_bytes - d->len + nlen;
    free(d->text);
    d->text = t;
    d->len = nlen;
    ae_doc_symbols_free(d->syms);
    d->syms = NULL;
    return true;
}

static int did_change(lsp_server *s, json_t *params)
{
    lsp_fail f;
    json_t *td;
    const char *uri;
    char *path = NULL;
    if (!get_document(params, "textDocument/didChange", &td, &uri, &path, &f))
        return lsp_log(s, LSP_LOG_WARNING, "%s: ignored", f.msg);
    lsp_doc *d = find_doc(s, path);
    free(path);
    json_t *changes = json_object_get(params, "contentChanges");
    if (!json_is_array(changes))
        return lsp_log(s, LSP_LOG_WARNING,
                       "textDocument/didChange: params.contentChanges must be an array, not %s: "
                       "ignored",
                       ae_json_type_name(changes));
    if (!d)
        return lsp_log(s, LSP_LOG_WARNING, "textDocument/didChange: %s is not open: ignored", uri);
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        if (apply_change(s, d, c, i, &f)) continue;
        if (f.code == AE_ENOMEM) return AE_ENOMEM;
        return lsp_log(s, LSP_LOG_WARNING, "%s: this and later changes ignored", f.msg);
    }
    json_t *ver = json_object_get(td, "version");
    if (json_is_integer(ver)) d->version = json_integer_value(ver);
    return 0;
}

static int did_close(lsp_server *s, json_t *params)
{
    lsp_fail f;
    json_t *td;
    const char *uri;
    char *path = NULL;
    if (!get_document(params, "textDocument/didClose", &td, &uri, &path, &f))
        return lsp_log(s, LSP_LOG_WARNING, "%s: ignored", f.msg);
    lsp_doc *d = find_doc(s, path);
    free(path);
    if (d) drop_doc(s, d);
    return 0;
}

/* The text and symbols of a document: the open buffer, else the file on disk (the owned_
 * fields, freed by view_free).  view_of returns 1 with the view set, 0 when there is nothing
 * to say (outside the workspace, unreadable, the extractor failed: logged), <0 when sending
 * the log failed. */
typedef struct doc_view {
    const char *rel, *text;
    size_t len;
    const ae_doc_symbols *syms;
    char *owned_rel, *owned_text;
    ae_doc_symbols *owned_syms;
} doc_view;

static void view_free(doc_view *v)
{
    free(v->owned_rel);
    free(v->owned_text);
    ae_doc_symbols_free(v->owned_syms);
}

static int view_of(lsp_server *s, const char *method, const char *path, doc_view *v)
{
    memset(v, 0, sizeof *v);
    if (!path) return 0;
    ae_error err;
    lsp_doc *d = find_doc(s, path);
    if (d) {
        if (!d->rel) return 0;
        v->rel = d->rel;
        v->text = d->text;
        v->len = d->len;
        if (!d->syms && s->be->symbols(s->be->ctx, d->rel, d->text, d->len, &d->syms, &err) < 0) {
            int rc =
                lsp_log(s, LSP_LOG_ERROR, "%s: symbols of %s: %s", method, d->rel, err.message);
            return rc < 0 ? rc : 0;
        }
        v->syms = d->syms;
        return 1;
    }
    v->owned_rel = rel_of(s, path);
    if (!v->owned_rel) return 0;
    v->rel = v->owned_rel;
    if (s->be->read_file(s->be->ctx, v->rel, &v->owned_text, &v->len, &err) < 0) {
        view_free(v);
        return 0; /* not there (yet): nothing to say */
    }
    v->text = v->owned_text;
    if (s->be->symbols(s->be->ctx, v->rel, v->text, v->len, &v->owned_syms, &err) < 0) {
        int rc = lsp_log(s, LSP_LOG_ERROR, "%s: symbols of %s: %s", method, v->rel, err.message);
        view_free(v);
        return rc < 0 ? rc : 0;
    }
    v->syms = v->owned_syms;
    return 1;
}

/* ---- ranges ------------------------------------------------------------- */

static json_t *position(uint32_t line, uint32_t character)
{
    return json_pack("{s:I, s:I}", "line", (json_int_t)line, "character", (json_int_t)character);
}

/* LSP position of a 1-based (line, column in code points) of text; past the end: its end. */
static json_t *text_position(const char *text, size_t len, int line, int column)
{
    uint32_t l, c;
    ae_error err;
    ae_position p = {line, column};
    if (ae_position_to_lsp(text, len, p, &l, &c, &err) < 0) return position((uint32_t)line - 1, 0);
    return position(l, c);
}

/* Whole lines start..end (1-based, inclusive) of text. */
static json_t *lines_range(const char *text, size_t len, int start, int end)
{
    return json_pack("{s:o, s:o}", "start", position((uint32_t)start - 1, 0), "end",
                     text_position(text, len, end, INT_MAX));
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static json_t *name_range(const char *text, size_t len, const ae_doc_symbol *d)
{
    size_t n = utf8_chars(d->name);
    int end = d->name_column + (n > INT_MAX / 2 ? 0 : (int)n);
    return json_pack("{s:o, s:o}", "start", text_position(text, len, d->start_line, d->name_column),
                     "end", text_position(text, len, d->start_line, end));
}

/* ---- requests ----------------------------------------------------------- */

typedef json_t *(*request_fn)(lsp_server *s, json_t *params, lsp_fail *f);

static bool client_flag(json_t *caps, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(json_object_get(json_object_get(caps, a), b), c);
    return json_is_true(v);
}

static json_t *req_initialize(lsp_server *s, json_t *params, lsp_fail *f)
{
    if (s->state != ST_NEW) {
        bad(f, LSP_INVALID_REQUEST, "initialize: the server is already initialized");
        return NULL;
    }
    if (params && !json_is_object(params)) {
        bad(f, LSP_INVALID_PARAMS, "initialize: params must be an object, not %s",
            ae_json_type_name(params));
        return NULL;
    }
    json_t *caps = params ? json_object_get(params, "capabilities") : NULL;
    s->hierarchical_symbols =
        client_flag(caps, "textDocument", "documentSymbol", "hierarchicalDocumentSymbolSupport");
    json_t *opts = params ? json_object_get(params, "initializationOptions") : NULL;
    json_t *mode = json_is_object(opts) ? json_object_get(opts, "workspaceSymbolMode") : NULL;
    if (mode && (!json_is_string(mode) ||
                 ae_search_mode_parse(json_string_value(mode), &s->symbol_mode) < 0)) {
        bad(f, LSP_INVALID_PARAMS,
            "initialize: initializationOptions.workspaceSymbolMode must be \"lexical\", "
            "\"semantic\" or \"hybrid\"");
        return NULL;
    }
    s->state = ST_RUNNING;
    return json_pack("{s:{s:s, s:{s:b, s:i}, s:b, s:b, s:b}, s:{s:s, s:s}}", "capabilities",
                     "positionEncoding", "utf-16", "textDocumentSync", "openClose", 1, "change",
                     1, /* TextDocumentSyncKind.Full */
                     "hoverProvider", 1, "documentSymbolProvider", 1, "workspaceSymbolProvider", 1,
                     "serverInfo", "name", s->name, "version", s->version);
}

static json_t *req_shutdown(lsp_server *s, json_t *params, lsp_fail *f)
{
    (void)params, (void)f;
    s->state = ST_SHUTDOWN;
    return json_null();
}

static json_t *req_hover(lsp_server *s, json_t *params, lsp_fail *f)
{
    static const char method[] = "textDocument/hover";
    json_t *td;
    const char *uri;
    char *path = NULL;
    uint32_t line, character;
    if (!get_document(params, method, &td, &uri, &path, f) ||
        !get_position(params, method, &line, &character, f)) {
        free(path);
        return NULL;
    }
    doc_view v;
    int rc = view_of(s, method, path, &v);
    free(path);
    if (rc <= 0) return json_null();
    ae_position pos;
    ae_error err;
    ae_explain_result *x = NULL;
    json_t *out = json_null();
    if (ae_position_from_lsp(v.text, v.len, line, character, &pos, &err) < 0) goto done;
    if (s->be->explain(s->be->ctx, v.syms, pos, &x, &err) < 0) {
        lsp_log(s, LSP_LOG_ERROR, "%s: %s:%d:%d: %s", method, v.rel, pos.line, pos.column,
                err.message);
        goto done;
    }
    char *md = ae_explain_hover_text(x);
    if (md) {
        out = json_pack("{s:{s:s, s:s}, s:o}", "contents", "kind", "markdown", "value", md, "range",
                        lines_range(v.text, v.len, x->start_line, x->end_line));
        free(md);
    }
done:
    ae_explain_result_free(x);
    view_free(&v);
    return out;
}

static json_t *req_document_symbol(lsp_server *s, json_t *params, lsp_fail *f)
{
    static const char method[] = "textDocument/documentSymbol";
    json_t *td;
    const char *uri;
    char *path = NULL;
    if (!get_document(params, method, &td, &uri, &path, f)) return NULL;
    doc_view v;
    int rc = view_of(s, method, path, &v);
    free(path);
    if (rc <= 0) return json_null();
    const ae_doc_symbols *syms = v.syms;
    json_t *out = json_array();
    json_t **nodes = syms->n ? ae_calloc_array(syms->n, sizeof *nodes) : NULL;
    if (!out || (syms->n && !nodes)) goto oom;
    for (size_t i = 0; i < syms->n; i++) {
        const ae_doc_symbol *d = &syms->items[i];
        json_t *range = lines_range(v.text, v.len, d->start_line, d->end_line);
        json_t *n;
        if (s->hierarchical_symbols) {
            n = json_pack("{s:s, s:s, s:i, s:o, s:o, s:[]}", "name", d->name, "detail",
                          d->qualified_name, "kind", lsp_symbol_kind(d->kind), "range", range,
                          "selectionRange", name_range(v.text, v.len, d), "children");
        } else {
            n = json_pack("{s:s, s:i, s:{s:s, s:o}}", "name", d->name, "kind",
                          lsp_symbol_kind(d->kind), "location", "uri", uri, "range", range);
            if (n && d->parent >= 0)
                json_object_set_new(n, "containerName",
                                    json_string(syms->items[d->parent].qualified_name));
        }
        if (!n) goto oom;
        nodes[i] = n;
        json_t *into = out;
        if (s->hierarchical_symbols && d->parent >= 0)
            into = json_object_get(nodes[d->parent], "children");
        if (json_array_append_new(into, n) < 0) goto oom;
    }
    free(nodes);
    view_free(&v);
    return out;
oom:
    free(nodes);
    json_decref(out);
    view_free(&v);
    bad(f, LSP_INTERNAL_ERROR, "%s: out of memory", method);
    return NULL;
}

static json_t *req_workspace_symbol(lsp_server *s, json_t *params, lsp_fail *f)
{
    static const char method[] = "workspace/symbol";
    const char *query;
    if (!json_is_object(params)) {
        bad(f, LSP_INVALID_PARAMS, "%s: params must be an object, not %s", method,
            ae_json_type_name(params));
        return NULL;
    }
    if (!get_string(params, "query", "workspace/symbol: params", &query, NULL, f)) return NULL;
    json_t *out = json_array();
    if (!out || !*query) return out;
    ae_search_results *r = NULL;
    ae_error err;
    if (s->be->search(s->be->ctx, query, s->symbol_mode, AE_SEARCH_LIMIT_MAX, &r, &err) < 0) {
        lsp_log(s, LSP_LOG_ERROR, "%s: search for '%s': %s", method, query, err.message);
        return out;
    }
    for (size_t i = 0; i < r->n; i++) {
        const ae_match *m = &r->matches[i];
        char *file = NULL;
        int start, end;
        if (s->be->locate(s->be->ctx, m->symbol_id, &file, &start, &end, &err) < 0) continue;
        char *abs = s->be->abspath(s->be->ctx, file);
        char *uri = abs ? lsp_path_to_uri(abs) : NULL;
        lsp_doc *d = abs ? find_doc(s, abs) : NULL;
        const char *q = m->qualified_name, *sep = NULL;
        for (const char *p = strstr(q, "::"); p; p = strstr(p + 2, "::"))
            sep = p;
        json_t *range = d ? lines_range(d->text, d->len, start, end)
                          : json_pack("{s:o, s:o}", "start", position((uint32_t)start - 1, 0),
                                      "end", position((uint32_t)end, 0));
        json_t *n =
            uri ? json_pack("{s:s, s:i, s:{s:s, s:o}}", "name", sep ? sep + 2 : q, "kind",
                            lsp_symbol_kind(m->kind), "location", "uri", uri, "range", range)
                : NULL;
        if (n && sep) json_object_set_new(n, "containerName", json_stringn(q, (size_t)(sep - q)));
        free(file);
        free(abs);
        free(uri);
        if (!n || json_array_append_new(out, n) < 0) {
            if (!uri) json_decref(range);
            ae_search_results_free(r);
            json_decref(out);
            bad(f, LSP_INTERNAL_ERROR, "%s: out of memory", method);
            return NULL;
        }
    }
    ae_search_results_free(r);
    return out;
}

/* ---- dispatch ----------------------------------------------------------- */

typedef int (*notify_fn)(lsp_server *s, json_t *params);

static int note_exit(lsp_server *s, json_t *params)
{
    (void)params;
    s->exited = true;
    return 0;
}

static int note_ignore(lsp_server *s, json_t *params)
{
    (void)s, (void)params;
    return 0;
}

static const struct {
    const char *method;
    request_fn request; /* one of request / notify */
    notify_fn notify;
} methods[] = {
    {"initialize", req_initialize, NULL},
    {"shutdown", req_shutdown, NULL},
    {"textDocument/hover", req_hover, NULL},
    {"textDocument/documentSymbol", req_document_symbol, NULL},
    {"workspace/symbol", req_workspace_symbol, NULL},
    {"initialized", NULL, note_ignore},
    {"exit", NULL, note_exit},
    {"textDocument/didOpen", NULL, did_open},
    {"textDocument/didChange", NULL, did_change},
    {"textDocument/didClose", NULL, did_close},
};

static int handle_request(lsp_server *s, json_t *id, const char *method, json_t *params)
{
    lsp_fail f = {0};
    request_fn fn = NULL;
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (!strcmp(method, methods[i].method)) fn = methods[i].request;
    if (!fn) {
        /* a known notification sent as a request is still not a request we serve */
        char msg[160];
        snprintf(msg, sizeof msg, "method not found: %.100s", method);
        return send_error(s, id, LSP_METHOD_NOT_FOUND, msg);
    }
    if (s->state == ST_NEW && fn != req_initialize)
        return send_error(s, id, LSP_SERVER_NOT_INITIALIZED,
                          "the server is not initialized: send initialize first");
    if (s->state == ST_SHUTDOWN)
        return send_error(s, id, LSP_INVALID_REQUEST,
                          "the server is shutting down: only exit is accepted");
    json_t *result = fn(s, params, &f);
    if (!result) {
        if (f.code == AE_ENOMEM || !f.code)
            return send_error(s, id, LSP_INTERNAL_ERROR, "out of memory");
        return send_error(s, id, f.code, f.msg);
    }
    return send_result(s, id, result);
}

static int handle_notification(lsp_server *s, const char *method, json_t *params)
{
    notify_fn fn = NULL;
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (!strcmp(method, methods[i].method)) fn = methods[i].notify;
    if (!fn) return 0; /* unknown notifications ($/cancelRequest, ...) are ignored */
    if (fn != note_exit && s->state != ST_RUNNING) return 0;
    return fn(s, params);
}

int lsp_handle_message(lsp_server *s, const char *body, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    char text[JSON_ERROR_TEXT_LENGTH + 64];
    if (!msg) {
        snprintf(text, sizeof text, "parse error at line %d, column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return send_error(s, NULL, LSP_PARSE_ERROR, text);
    }
    int rc = 0;
    if (!json_is_object(msg)) {
        snprintf(text, sizeof text, "a message must be a JSON object, not %s",
                 ae_json_type_name(msg));
        rc = send_error(s, NULL, LSP_INVALID_REQUEST, text);
        goto done;
    }
    json_t *id = json_object_get(msg, "id");
    json_t *method = json_object_get(msg, "method");
    json_t *version = json_object_get(msg, "jsonrpc");
    json_t *params = json_object_get(msg, "params");
    bool id_ok = json_is_string(id) || json_is_integer(id);
    if (!method && (json_object_get(msg, "result") || json_object_get(msg, "error")))
        goto done; /* a response: we send no requests, so nothing waits for it */
    if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) {
        if (id || !json_is_string(method))
            rc = send_error(s, id_ok ? id : NULL, LSP_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
        goto done;
    }
    if (!json_is_string(method)) {
        rc = send_error(s, id_ok ? id : NULL, LSP_INVALID_REQUEST,
                        method ? "method must be a string" : "method is missing");
        goto done;
    }
    if (!id) {
        rc = handle_notification(s, json_string_value(method), params);
        goto done;
    }
    if (!id_ok) {
        snprintf(text, sizeof text, "id must be a string or an integer, not %s",
                 ae_json_type_name(id));
        rc = send_error(s, NULL, LSP_INVALID_REQUEST, text);
        goto done;
    }
    rc = handle_request(s, id, json_string_value(method), params);
done:
    json_decref(msg);
    return rc;
}
