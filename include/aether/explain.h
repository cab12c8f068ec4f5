/* libaether: explain a position, a symbol's SIR timeline, and why its SIR changed
 * (reference-contract sections 4 and 6).  Shared by aether_explain / aether_symbol_timeline /
 * aether_why_changed (aether-mcp) and the LSP hover (aetherd --lsp).
 *
 *   ae_position pos = {.line = 12, .column = 5};            1-based
 *   ae_explain_result *x;
 *   ae_workspace_explain(ws, "src/config.py", pos, &x, &err);
 *   ... x->found, x->qualified_name, x->hover_markdown, x->history_hint ...
 *   ae_explain_result_free(x);
 *
 * The pure parts (span picking, position conversion, hover text, field diffs) take plain
 * data, so an editor's unsaved buffer can be explained with symbols extracted from it. */
#ifndef AETHER_EXPLAIN_H
#define AETHER_EXPLAIN_H

#include <aether/aether.h>
#include <aether/strlist.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- positions ---------------------------------------------------------- */

/* A 1-based line and 1-based column; the column counts Unicode characters (code points) of
 * the UTF-8 line, so an agent counts as it reads.  MCP uses these. */
typedef struct ae_position {
    int line, column;
} ae_position;

/* LSP positions are 0-based with columns in UTF-16 code units.  Converts one to an
 * ae_position against the document text (UTF-8, len bytes).  A character offset past the end
 * of its line clamps to the line's end (the LSP rule); one that falls inside a surrogate pair
 * counts as that character.  AE_EINVAL naming the line when it is past the last line. */
int ae_position_from_lsp(const char *text, size_t len, uint32_t line, uint32_t character,
                         ae_position *out, ae_error *err);
/* The reverse: an ae_position to LSP's (0-based line, UTF-16 character).  A column past the
 * line's end clamps to its end.  AE_EINVAL for line/column < 1 or a line past the end. */
int ae_position_to_lsp(const char *text, size_t len, ae_position pos, uint32_t *line,
                       uint32_t *character, ae_error *err);

/* The byte offset in text of an LSP position (the same clamping as ae_position_from_lsp):
 * where an LSP edit range starts or ends.  AE_EINVAL naming the line when it is past the last
 * line. */
int ae_offset_from_lsp(const char *text, size_t len, uint32_t line, uint32_t character,
                       size_t *offset, ae_error *err);

/* ---- the symbol at a position ------------------------------------------- */

/* A symbol's span: from (start_line, start_column) inclusive to (end_line, end_column)
 * exclusive, 1-based.  The store keeps whole lines (start_line..end_line inclusive), which is
 * the span (start_line, 1) .. (end_line + 1, 1); ae_span_of_lines makes it. */
typedef struct ae_symbol_span {
    const char *symbol_id, *qualified_name; /* borrowed */
    int start_line, start_column, end_line, end_column;
} ae_symbol_span;

ae_symbol_span ae_span_of_lines(const char *symbol_id, const char *qualified_name, int start_line,
                                int end_line);

/* The index of the smallest span containing pos, or -1 when none does.  Smallest: fewest
 * lines, then fewest columns on equal lines; a tie goes to the span that starts later (the
 * inner one), then to the longer qualified name, then to the earlier index. */
long ae_span_pick(const ae_symbol_span *spans, size_t n, ae_position pos);

/* ---- hover text (section 4) --------------------------------------------- */

#define AE_HOVER_NO_SIR "AETHER: No SIR yet for this symbol. Run aetherd indexing and try again."

/* The hover Markdown of a symbol: the heading, confidence with 2 decimals, the stale warning
 * (when stale: "> AETHER WARNING: SIR is stale. Last error: <last_error trimmed>", the last
 * sentence left out when last_error is NULL or blank), then Intent, Inputs, Outputs, Side
 * Effects, Dependencies, Error Modes, each list one "- item" line per item (trimmed) or
 * "(none)", blocks separated by one empty line, no trailing newline.  sir_json NULL gives
 * AE_HOVER_NO_SIR, after the warning line (without "> ") and an empty line when stale, as the
 * reference.  AE_ECORRUPT when sir_json is not a SIR object.  *out allocated, caller frees. */
int ae_hover_markdown(const char *qualified_name, const char *sir_json, bool stale,
                      const char *last_error, char **out, ae_error *err);

/* ---- history ------------------------------------------------------------ */

typedef struct ae_sir_entry {
    int64_t version; /* 1, 2, ... */
    char sir_hash[65];
    char *provider, *model;
    int64_t created_at; /* as stored in sir_history: unix milliseconds */
    char *commit_hash;  /* git HEAD when written; NULL outside git */
    char *sir_json;
} ae_sir_entry;

typedef struct ae_sir_timeline {
    ae_sir_entry *entries; /* oldest first */
    size_t n;
    size_t total; /* versions recorded (n <= total) */
} ae_sir_timeline;

#define AE_TIMELINE_LIMIT_DEFAULT 20
#define AE_TIMELINE_LIMIT_MIN     1
#define AE_TIMELINE_LIMIT_MAX     1000

/* The last `limit` recorded versions of a symbol (clamped to 1..1000), oldest first; n = 0 when
 * there are none (an empty id, an unknown one, or no store yet).  Free with
 * ae_sir_timeline_free. */
int ae_workspace_sir_timeline(ae_workspace *ws, const char *symbol_id, size_t limit,
                              ae_sir_timeline **out, ae_error *err);
void ae_sir_timeline_free(ae_sir_timeline *t); /* accepts NULL */

/* Top-level SIR fields that appear, disappear or change from a to b (JSON objects), each list
 * sorted bytewise.  A field holding null, "" or [] counts as absent, so "side_effects: [] ->
 * [\"writes x\"]" is added, not modified.  AE_ECORRUPT when either is not a JSON object. */
int ae_sir_fields_diff(const char *a_json, const char *b_json, ae_strlist *added,
                       ae_strlist *removed, ae_strlist *modified, ae_error *err);

/* The one-line hint after an LSP hover: "> AETHER WHY: only one recorded SIR version." or
 * "> AETHER WHY: latest vA -> vB; added: f1,f2; removed: none; modified: intent.".
 * *out NULL when there is no history.  *out allocated, caller frees. */
int ae_history_hint(const ae_sir_timeline *t, char **out, ae_error *err);

typedef enum ae_why_mode {
    AE_WHY_AUTO,      /* the latest two versions */
    AE_WHY_VERSION,   /* from/to are version numbers */
    AE_WHY_TIMESTAMP, /* from/to are created_at values: the latest version at or before each */
} ae_why_mode;

const char *ae_why_mode_name(ae_why_mode m); /* "auto" | "version" | "timestamp" */

typedef struct ae_why_selector {
    ae_why_mode mode;
    int64_t from, to;
} ae_why_selector;

typedef struct ae_why_changed {
    bool found;         /* both ends were resolved */
    const char *reason; /* NULL, "no_history", "single_version_only", "selector_not_found" */
    ae_why_mode mode;
    ae_sir_entry from, to;                 /* valid when found (zeroed otherwise) */
    char *prior_summary, *current_summary; /* the intents; NULL when not found */
    ae_strlist fields_added, fields_removed, fields_modified;
} ae_why_changed;

/* Computes the answer over a full history (n = total). */
int ae_why_changed_compute(const ae_sir_timeline *history, const ae_why_selector *sel,
                           ae_why_changed **out, ae_error *err);
/* Loads the symbol's whole history and computes. */
int ae_workspace_why_changed(ae_workspace *ws, const char *symbol_id, const ae_why_selector *sel,
                             ae_why_changed **out, ae_error *err);
void ae_why_changed_free(ae_why_changed *w); /* accepts NULL */

/* ---- explain a position ------------------------------------------------- */

typedef struct ae_explain_result {
    bool found;      /* a stored symbol spans the position */
    char *file_path; /* workspace-relative, as given after normalizing */
    ae_position position;
    char symbol_id[65]; /* "" when !found */
    char *qualified_name;
    int start_line, end_line;
    bool has_sir;
    char *sir_json;          /* NULL without a SIR */
    char sir_status[8];      /* "fresh" | "stale"; "" without a SIR row */
    char *last_error;        /* NULL unless stale */
    int64_t last_attempt_at; /* unix seconds; 0 when unknown */
    char *hover_markdown;    /* section 4, without the history hint; NULL when !found */
    char *history_hint;      /* ae_history_hint of the symbol; NULL without history */
} ae_explain_result;

/* The symbol of file_path (workspace-relative, "./x" or an absolute path under the root) at
 * pos.  Not finding one is found false, not an error; AE_EINVAL when line or column < 1. */
int ae_workspace_explain(ae_workspace *ws, const char *file_path, ae_position pos,
                         ae_explain_result **out, ae_error *err);
/* The same answer for a symbol already picked (an LSP buffer's span): SIR, status, hover and
 * hint of symbol_id under qualified_name. */
int ae_workspace_explain_symbol(ae_workspace *ws, const char *symbol_id, const char *qualified_name,
                                ae_explain_result **out, ae_error *err);
void ae_explain_result_free(ae_explain_result *x); /* accepts NULL */

/* The LSP hover text of an answer: hover_markdown, then, when the symbol has a SIR and a
 * history, an empty line and history_hint (as the reference).  NULL when !found or out of
 * memory.  Allocated, caller frees. */
char *ae_explain_hover_text(const ae_explain_result *x);

/* ---- an editor's buffer ------------------------------------------------- */

/* One symbol of a buffer, as the indexer would extract it from a file holding that text (so
 * symbol_id matches the stored symbol while its signature is unchanged). */
typedef struct ae_doc_symbol {
    char symbol_id[65];
    char *name, *qualified_name, *kind; /* kind: function, method, class, struct, ... */
    int start_line, end_line;           /* 1-based, inclusive */
    int name_column; /* 1-based column (code points) of the name on start_line; 1 if unseen */
    long parent;     /* index of the smallest symbol whose lines enclose this one's; -1 */
} ae_doc_symbol;

typedef struct ae_doc_symbols {
    char *file_path;      /* workspace-relative, as given */
    const char *language; /* NULL when the path has no supported language (n = 0) */
    ae_doc_symbol *items; /* by start line */
    size_t n;
} ae_doc_symbols;

/* The symbols of `text` (UTF-8, len bytes) as the content of workspace-relative file_path:
 * universal-ctags reads the text on its stdin, nothing is written to disk.  A path of no
 * supported language gives n = 0.  AE_EEXTERNAL when ctags fails.  Free with
 * ae_doc_symbols_free. */
int ae_buffer_symbols(const char *file_path, const char *text, size_t len, ae_doc_symbols **out,
                      ae_error *err);
void ae_doc_symbols_free(ae_doc_symbols *s); /* accepts NULL */

/* ae_workspace_explain over a buffer's symbols instead of the stored ones: the smallest span
 * containing pos wins (ae_span_pick over whole lines); its SIR, status, hover and hint come
 * from the store by symbol_id.  found false when no symbol spans pos. */
int ae_workspace_explain_buffer(ae_workspace *ws, const ae_doc_symbols *syms, ae_position pos,
                                ae_explain_result **out, ae_error *err);

/* The workspace-relative path ('/' separators, "." and empty components dropped, ".." resolved)
 * of an absolute path under the workspace root; a path through a symlink counts when its real
 * directory is under the root.  AE_EINVAL naming the path when it is not absolute, is the root
 * itself or lies outside the workspace.  *out allocated, caller frees. */
int ae_workspace_relpath(const ae_workspace *ws, const char *abs_path, char **out, ae_error *err);

/* Where a stored symbol is: its workspace-relative file and lines (1-based, inclusive).
 * AE_ENOTFOUND when the store has no such symbol (or no store).  *file_path allocated. */
int ae_workspace_symbol_location(ae_workspace *ws, const char *symbol_id, char **file_path,
                                 int *start_line, int *end_line, ae_error *err);

#ifdef __cplusplus
}
#endif
#endif
