/* One extracted symbol: what the store keeps per symbol and what SIR providers read. */
#ifndef AE_SYMBOLS_SYMBOL_H
#define AE_SYMBOLS_SYMBOL_H

#include "util/blake3.h"

typedef struct ae_symbol {
    char id[AE_BLAKE3_HEX_LEN + 1]; /* blake3_hex(language\npath\nkind\nqualified_name\nsig_fp) */
    char *language;                 /* rust, typescript, tsx, javascript, jsx, python, c, go, ... */
    char *file_path;                /* workspace-relative, '/' separators */
    char *kind;                     /* function, method, class, struct, enum, trait, ... */
    char *name;                     /* the bare name */
    char *qualified_name;           /* enclosing scopes joined with "::", then the name */
    char *signature;                /* declaration text from its start up to the body */
    char *source;                   /* the source span, start_line..end_line inclusive */
    char *doc;                      /* doc comment or docstring, markers stripped; or NULL */
    int start_line, end_line;       /* 1-based, inclusive */
    int end_column; /* of a stored symbol read back: one past the last byte of end_line (what
                       ae_symbol_end_column gave when it was stored), 0 when not known */
    char content_hash[AE_BLAKE3_HEX_LEN + 1];          /* blake3_hex(source) */
    char signature_fingerprint[AE_BLAKE3_HEX_LEN + 1]; /* blake3_hex(signature sans whitespace) */
} ae_symbol;

/* Frees the strings a symbol owns (not the struct) and zeroes it; accepts NULL.
 * ae_symbol_compute_ids() (symbols/extract.h) fills the three hashes. */
void ae_symbol_clear(ae_symbol *s);

/* The 1-based column one past the last byte of a span's last line (trailing line breaks
 * dropped): the end column of a change event's range (reference-contract section 2), also
 * stored with the symbol (symbols.end_column) so a removed symbol reports the range it had. */
int ae_symbol_end_column(const char *source);

#endif
