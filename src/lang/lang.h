/* The language layer: which languages aether knows, what each one's files are called, and
 * how its comments and literals are written.  Symbols (src/symbols/span.c) and the static SIR
 * provider (src/sir/static_*.c) read code through this one lexer, so they agree on what is
 * code, comment and string.
 *
 * Both tables are data: the languages in lang.c, the lexical rules in lex.c, each tested row
 * by row in tests/unit/test_lang.c. */
#ifndef AE_LANG_LANG_H
#define AE_LANG_LANG_H

#include <stdbool.h>
#include <stddef.h>

/* Languages that read alike for the static SIR provider's rules (calls, keywords, signatures). */
typedef enum lang_family {
    LANG_FAM_OTHER,
    LANG_FAM_C,    /* c, cpp, objc, cuda */
    LANG_FAM_RUST, /* rust */
    LANG_FAM_GO,   /* go */
    LANG_FAM_PY,   /* python */
    LANG_FAM_JS,   /* javascript, jsx, typescript, tsx */
    LANG_FAM_JAVA, /* java, csharp, kotlin, scala */
} lang_family;

/* ---- the lexical rules (rows in lex.c) ------------------------------------------------ */

typedef enum lang_rule_kind {
    LANG_RULE_LINE_COMMENT,     /* open .. the end of the line (the newline is code) */
    LANG_RULE_BLOCK_COMMENT,    /* open .. close */
    LANG_RULE_QUOTED,           /* open .. close: strings, chars, triple quotes, templates */
    LANG_RULE_RAW_HASHES,       /* Rust raw strings: open is the prefix ("r", "br"), then any
                                   number of '#', '"' .. '"' and as many '#' */
    LANG_RULE_RAW_PAREN,        /* C++ raw strings: open is the prefix ("R\""), then a
                                   delimiter of at most 16 bytes, '(' .. ')' delimiter '"' */
    LANG_RULE_CHAR_OR_LIFETIME, /* Rust: 'x' and '\n' are literals, 'a alone is a lifetime */
} lang_rule_kind;

enum {
    LANG_ESCAPES = 1 << 0,    /* a backslash escapes the next byte (also a newline) */
    LANG_MULTILINE = 1 << 1,  /* may cross newlines; otherwise ends, unclosed, before one */
    LANG_NESTS = 1 << 2,      /* block comments nest (Rust) */
    LANG_WORD_START = 1 << 3, /* open must not follow an identifier byte (r"..", R"(..)") */
};

typedef struct lang_rule {
    lang_rule_kind kind;
    const char *open, *close; /* close is unused by LINE_COMMENT and the raw kinds */
    unsigned flags;
} lang_rule;

/* A language's rules, tried in order at each byte; the first that matches wins. */
typedef struct lang_syntax {
    const char *name;
    const lang_rule *rules;
    size_t nrules;
} lang_syntax;

/* Every syntax, for tests: *n entries. */
const lang_syntax *const *lang_syntaxes(size_t *n);
extern const lang_syntax lang_syntax_c, lang_syntax_cpp, lang_syntax_rust, lang_syntax_go,
    lang_syntax_python, lang_syntax_js, lang_syntax_java, lang_syntax_other;

/* One row of the language table. */
typedef struct lang_info {
    const char *name;          /* as the store spells it ("rust", "cpp"), lower case */
    lang_family family;        /* for the static provider's rules */
    const char *extensions;    /* ".cc .cpp ..." of files we extract; NULL: never extracted */
    const lang_syntax *syntax; /* comments and literals */
    const char *attribute;     /* a line starting with this sits between a doc comment and its
                                  item ("#[", "@"); NULL when the language has none */
    bool indent_blocks;        /* blocks are indentation (Python), not braces */
} lang_info;

/* The row for a language name (case-insensitive), or NULL when unknown. */
const lang_info *lang_by_name(const char *name);
/* The row for a name, or the neutral "other" row (C-like comments and strings) when the name
 * is unknown or NULL; never NULL. */
const lang_info *lang_or_other(const char *name);
/* The row of the file's extension ("a/b.rs" -> rust, ".h" is c), NULL when unsupported or
 * when the name has no extension ("Makefile", ".c"). */
const lang_info *lang_for_path(const char *path);
/* The languages, in table order, for tests and listings: *n rows. */
const lang_info *lang_table(size_t *n);

/* ---- lex.c: the comment and literal lexer ---------------------------------------------- */

typedef enum lang_tok_kind {
    LANG_TOK_CODE,    /* one byte of code */
    LANG_TOK_COMMENT, /* a line comment (without its newline) or a block comment */
    LANG_TOK_STRING,  /* a string or char literal, delimiters included */
} lang_tok_kind;

typedef struct lang_token {
    lang_tok_kind kind;
    size_t start, end;     /* the token's bytes [start, end) */
    size_t body, body_end; /* literals: the contents between the delimiters; comments: the
                              text after the opening marker and before the closing one */
    bool closed;           /* a literal or block comment was terminated (false: it ran to a
                              newline it may not cross, or to the limit) */
    const lang_rule *rule; /* the row that matched; NULL for code */
} lang_token;

typedef struct lang_lexer {
    const char *text;
    size_t pos, lim;
    const lang_syntax *syntax;
    bool opens[256]; /* opens[b]: some rule's opening starts with byte b (others are code) */
} lang_lexer;

/* Lexes text[from, lim) as `lang`.  text before `from` is looked at for one byte (a raw
 * string prefix must start a word), so `from` may be any offset of the same text. */
void lang_lexer_init(lang_lexer *lx, const lang_info *lang, const char *text, size_t from,
                     size_t lim);
/* The next token into *tok; false at the limit. */
bool lang_lex(lang_lexer *lx, lang_token *tok);

/* A copy of src[0, n) (NUL-terminated, same length and offsets) where comments are spaces
 * (newlines kept) and, when blank_strings, so are the contents of literals (delimiters kept).
 * NULL when out of memory; the caller frees it. */
char *lang_blank(const lang_info *lang, const char *src, size_t n, bool blank_strings);

/* The language's line comment marker ("//", "#") or NULL. */
const char *lang_line_comment(const lang_info *lang);
/* The language's block comment delimiters ("/" "*", "*" "/"): false when it has none. */
bool lang_block_comment(const lang_info *lang, const char **open, const char **close);

#endif
