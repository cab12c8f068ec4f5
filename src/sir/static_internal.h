/* Private to the static SIR provider: its limits, the helpers its files share, the rule
 * table's row type, and the prototypes between its files.
 *
 *   provider_static.c   the recipe (intent, signature, body, sort, validate) and shared helpers
 *   static_doc.c        the first sentence of a doc comment
 *   static_intent.c     a sentence from the name's words and the kind, when there is no doc
 *   static_signature.c  inputs and outputs from the signature
 *   static_body.c       the body scan: chains, dependencies, and the engine applying the rules
 *   static_rules.c      the rules: one row per call, keyword or operator pattern */
#ifndef AE_SIR_STATIC_INTERNAL_H
#define AE_SIR_STATIC_INTERNAL_H

#include "lang/lang.h"
#include "sir/sir.h"
#include "symbols/symbol.h"
#include "util/mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATIC_MAX_DEPENDENCIES 32
#define STATIC_MAX_INTENT       200
#define STATIC_CHAIN_MAX        256
#define STATIC_MAX_LIST         64        /* error modes, side effects */
#define STATIC_MAX_SOURCE       (1 << 20) /* bytes of a body read; the rest is ignored */
#define STATIC_TURBOFISH_MAX    256       /* bytes of a `::<...>` looked through */
#define STATIC_WINDOW           4096      /* bytes of a call's arguments or a statement read */
#define STATIC_SIGNATURE_LINES  64        /* lines of a span searched for its signature */
#define STATIC_CONFIDENCE_DOC   0.6
#define STATIC_CONFIDENCE_NAME  0.4

/* ---- provider_static.c: shared helpers ---------------------------------------------------- */

static inline bool static_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
static inline bool static_ident_char(char c)
{
    return static_ident_start(c) || (c >= '0' && c <= '9');
}
bool static_in_list(const char *s, const char *const *list);
/* Copies s[0..n) with whitespace runs collapsed, trimmed, invalid UTF-8 bytes as '?'. */
char *static_clean_text(const char *s, size_t n);
/* Appends s (cleaned) unless empty or already present. */
int static_push_unique(ae_strlist *l, const char *s);
/* Kinds: types and other non-callables (no inputs/outputs), declaration-only spans (no body),
 * contracts (traits, interfaces), callables. */
bool static_is_type_kind(const char *kind);
bool static_is_declaration_kind(const char *kind);
extern const char *const static_type_kinds[], *const static_contract_kinds[],
                                                  *const static_callable_kinds[];

/* ---- static_doc.c / static_intent.c / static_signature.c ---------------------------------- */

/* The first sentence of a doc comment, whitespace collapsed, at most STATIC_MAX_INTENT bytes;
 * *out NULL (and 0) when the doc is blank, AE_ENOMEM on failure. */
int static_doc_sentence(const char *doc, char **out);
/* Splits an identifier into words (snake, kebab, camel, Pascal, acronyms). */
int static_name_words(const char *name, ae_strlist *words);
/* "Function that parses config file." built from the name's words and the kind. */
int static_name_sentence(const ae_symbol *sym, bool has_output, char **out);
int static_signature(const ae_symbol *sym, lang_family fam, ae_strlist *inputs,
                     ae_strlist *outputs);

/* ---- static_body.c ------------------------------------------------------------------------ */

/* What the rules look at while the body is scanned. */
typedef struct body_ctx {
    const ae_symbol *sym;
    lang_family fam;
    const char *code; /* comments and string contents blanked */
    const char *raw;  /* comments blanked, strings kept; same offsets as code */
    uint32_t *closes; /* closes[i]: index of the bracket closing the one at code[i], or 0 */
    size_t body;      /* where the body starts (past the signature) */
    ae_sir *out;
    ae_strlist deps;
    bool *fired;    /* tests: fired[i] is set when rule row i added something; may be NULL */
    uint32_t *rows; /* the rule rows of this family (and of every family), in table order */
    size_t nrows;
} body_ctx;

/* One mention of an identifier chain in the body (`a.b::c`, normalised to "a.b.c"). */
typedef struct chain_site {
    const char *chain, *last; /* the chain and its last segment */
    size_t start, end;        /* its bytes in code */
    size_t open;              /* the '(' of a call (past a turbofish), else end */
    bool multi;               /* more than one segment */
    bool call;                /* name(...) */
    bool macro;               /* Rust name!(...) */
    bool dot_before;          /* .name: a method of some value, not a free function */
} chain_site;

/* Dependencies, error modes and side effects of the body; fired as in body_ctx. */
int static_body(const ae_symbol *sym, const lang_info *lang, ae_sir *out, bool *fired);

/* Reads an identifier chain at s[i] into buf (cap bytes); returns its end, *last_at is the
 * offset of the last segment in buf. */
size_t static_read_chain(const char *s, size_t i, char *buf, size_t cap, size_t *last_at);
size_t static_skip_space(const char *s, size_t i);
/* The raw argument text of the call whose '(' is at open, as [*a, *b). */
void static_call_args(const body_ctx *c, size_t open, size_t *a, size_t *b);

/* ---- static_rules.c: the rule table ------------------------------------------------------- */

typedef enum static_site {
    SITE_CALL,     /* the chain is called: name(...) */
    SITE_MACRO,    /* a Rust macro: name!(...), name![...], name!{...} */
    SITE_NAME,     /* any mention, called or not (type names) */
    SITE_KEYWORD,  /* a one-segment chain read as a statement; the test reads what follows */
    SITE_OPERATOR, /* no chain: the test scans the whole body once (Rust's postfix `?`) */
} static_site;

typedef enum static_match {
    MATCH_CHAIN,           /* the whole chain is the pattern: "os.Exit" */
    MATCH_CHAIN_PREFIX,    /* the chain starts with it: "os.exec" ~ os.execvp */
    MATCH_SUFFIX,          /* the chain ends with it at a segment boundary: "fs.write" ~
                              std::fs::write and fs.write */
    MATCH_LAST,            /* the last segment is it: "unwrap" */
    MATCH_LAST_PREFIX,     /* the last segment starts with it: "Print" ~ fmt.Println */
    MATCH_LAST_PREFIX_CI,  /* the same, ignoring case: "http" ~ HttpGet */
    MATCH_FIRST,           /* the first segment is it and more follow: "requests" */
    MATCH_FIRST_PREFIX_CI, /* the first segment starts with it, ignoring case, and more
                              follow: "http" ~ http.Get, HttpClient.send */
    MATCH_SEGMENT,         /* some segment is it: "TcpStream" */
    MATCH_NONE,            /* SITE_OPERATOR rows */
} static_match;

enum {
    WHEN_BARE = 1 << 0,   /* one segment, not after a '.': a free function */
    WHEN_METHOD = 1 << 1, /* right after a '.': f().unwrap() */
};

/* What a row checks beyond the name; the row's effect when it holds, `otherwise` when not. */
typedef enum static_test {
    TEST_NONE,
    TEST_ARGS_STD_STREAM,  /* an argument names stdout/stderr (fprintf(stderr, ..)) */
    TEST_ARGS_MODE_WRITES, /* a file-mode string argument writes ("w", "a+", "x") */
    TEST_ARGS_OPEN_WRITES, /* an O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/O_APPEND argument */
    TEST_FOLLOWED_BY,      /* keyword then (parentheses and spaces) the whole word `word` */
    TEST_GO_RETURNS_ERROR, /* Go `return ..., err`: the last value returned names an error */
    TEST_NAME_FOLLOWS,     /* keyword, spaces, an identifier: `global x` */
    TEST_SPACE_FOLLOWS,    /* keyword then a space: `assert x`, not `assert(` */
    TEST_ASSIGNED,         /* `= `, not `==`: errno = EINVAL */
    TEST_RAISED_NAME,      /* Python raise: the name raised fills %s; bare `raise`: otherwise */
    TEST_THROWN_TYPE,      /* throw [new] Name: a capitalised last segment fills %s */
    TEST_TRY_OPERATOR,     /* Rust: `?` after a call or a value */
} static_test;

typedef enum static_list { STATIC_SIDE_EFFECT, STATIC_ERROR_MODE } static_list;

typedef struct static_rule {
    lang_family family; /* LANG_FAM_OTHER: every family */
    static_site site;
    static_match match;
    const char *pattern;
    const char *scope; /* NULL, or space-separated first segments one of which must start the
                          chain ("fs fsp fsPromises") */
    unsigned when;     /* WHEN_* */
    static_test test;
    const char *word; /* TEST_FOLLOWED_BY's word */
    static_list list;
    const char *effect;    /* added when the test holds; "%s" is the name a test found */
    const char *otherwise; /* added when it does not; NULL: nothing */
    const char *sample;    /* code that triggers exactly this row (tests/unit/test_sir_rules.c) */
} static_rule;

/* The rows, in the order they are tried; *n of them. */
const static_rule *static_rules(size_t *n);
/* Runs row r's test at a chain site (NULL for SITE_OPERATOR).  Returns 1 when it holds, 0
 * when not; *name receives a name it read (for "%s"), "" when none. */
int static_rule_test(const body_ctx *c, const static_rule *r, const chain_site *at, char *name,
                     size_t cap);

#endif
