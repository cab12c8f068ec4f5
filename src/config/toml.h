/* A small TOML subset parser for .aether/config.toml.
 *
 * Supported: comments, [table] and [a.b] headers, bare / "basic" / 'literal'
 * keys (also dotted: a.b = 1), basic and literal strings (single- and
 * multi-line) with the TOML escapes, integers (decimal, 0x, 0o, 0b,
 * underscores), floats (incl. inf/nan), booleans, arrays (possibly multi-line,
 * nested, trailing comma).  Rejected with a clear message: inline tables,
 * arrays of tables, dates and times.  Duplicate keys and redefined tables are
 * errors.  Every value remembers the 1-based line it starts on; a table
 * remembers the line of its header (or of the first key that created it).
 *
 * Errors are AE_ECONFIG with the message "PATH:LINE: what is wrong". */
#ifndef AE_CONFIG_TOML_H
#define AE_CONFIG_TOML_H

#include <aether/error.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AE_TOML_MAX_DEPTH 64 /* nesting of arrays and tables */

typedef enum ae_toml_type {
    AE_TOML_STRING,
    AE_TOML_INT,
    AE_TOML_FLOAT,
    AE_TOML_BOOL,
    AE_TOML_ARRAY,
    AE_TOML_TABLE,
} ae_toml_type;

typedef struct ae_toml_table ae_toml_table;

typedef struct ae_toml_value {
    ae_toml_type type;
    int line;
    union {
        char *str; /* NUL-terminated UTF-8; \u0000 is rejected */
        int64_t i;
        double f;
        bool b;
        struct {
            struct ae_toml_value *items;
            size_t len, cap;
        } array;
        ae_toml_table *table;
    } u;
} ae_toml_value;

/* Keys in file order. */
struct ae_toml_table {
    char **keys;
    ae_toml_value *values;
    size_t len, cap;
    bool header_defined; /* opened by a [header] (a second header is an error) */
    bool dotted_defined; /* created by a dotted key (cannot be reopened by a header) */
};

/* Parses len bytes of text (need not be NUL-terminated; a NUL byte is an
 * error).  path only names the input in messages (NULL: "<input>").  On
 * success *out is the root table, free it with ae_toml_free. */
int ae_toml_parse(const char *text, size_t len, const char *path, ae_toml_table **out,
                  ae_error *err);
void ae_toml_free(ae_toml_table *t);

/* The value under key in t, or NULL. */
const ae_toml_value *ae_toml_get(const ae_toml_table *t, const char *key);
/* Follows a dotted path of bare keys ("embeddings.dim"), or NULL. */
const ae_toml_value *ae_toml_get_path(const ae_toml_table *t, const char *dotted);
/* "string", "integer", "float", "boolean", "array", "table". */
const char *ae_toml_type_name(ae_toml_type type);

#endif
