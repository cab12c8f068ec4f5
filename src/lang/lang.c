/* The language table: one row per language name, with its family, file extensions,
 * comment/literal syntax and doc-comment conventions.
 *
 * 1. Names are the store's (symbols.language): ctags' parser names lower-cased, "cpp" for
 *    C++.  A row without extensions is a name other tools may hand us (a symbol from another
 *    extractor, a test): it still gets its family and syntax, it is never extracted.
 * 2. An extension belongs to one row (tests/unit/test_lang.c checks it); ".h" is C.
 * 3. Lookups by name ignore case ("Rust" is rust), as the static provider always did. */
#include "lang/lang.h"

#include <string.h>
#include <strings.h>

/* clang-format off */
static const lang_info languages[] = {
    /* name         family          extensions                      syntax               attribute indent */
    {"c",          LANG_FAM_C,    ".c .h",                        &lang_syntax_c,      NULL,  false},
    {"cpp",        LANG_FAM_C,    ".cc .cpp .cxx .hpp .hh .hxx",  &lang_syntax_cpp,    "[[",  false},
    {"c++",        LANG_FAM_C,    NULL,                           &lang_syntax_cpp,    "[[",  false},
    {"objc",       LANG_FAM_C,    NULL,                           &lang_syntax_c,      NULL,  false},
    {"cuda",       LANG_FAM_C,    NULL,                           &lang_syntax_cpp,    "[[",  false},
    {"rust",       LANG_FAM_RUST, ".rs",                          &lang_syntax_rust,   "#[",  false},
    {"go",         LANG_FAM_GO,   ".go",                          &lang_syntax_go,     NULL,  false},
    {"python",     LANG_FAM_PY,   ".py",                          &lang_syntax_python, "@",   true},
    {"typescript", LANG_FAM_JS,   ".ts .mts .cts",                &lang_syntax_js,     "@",   false},
    {"tsx",        LANG_FAM_JS,   ".tsx",                         &lang_syntax_js,     "@",   false},
    {"javascript", LANG_FAM_JS,   ".js .mjs .cjs",                &lang_syntax_js,     "@",   false},
    {"jsx",        LANG_FAM_JS,   ".jsx",                         &lang_syntax_js,     "@",   false},
    {"java",       LANG_FAM_JAVA, ".java",                        &lang_syntax_java,   "@",   false},
    {"csharp",     LANG_FAM_JAVA, NULL,                           &lang_syntax_java,   "[",   false},
    {"c#",         LANG_FAM_JAVA, NULL,                           &lang_syntax_java,   "[",   false},
    {"kotlin",     LANG_FAM_JAVA, NULL,                           &lang_syntax_java,   "@",   false},
    {"scala",      LANG_FAM_JAVA, NULL,                           &lang_syntax_java,   "@",   false},
};
/* clang-format on */

static const lang_info other = {"other", LANG_FAM_OTHER, NULL, &lang_syntax_other, "@", false};

const lang_info *lang_table(size_t *n)
{
    *n = sizeof languages / sizeof languages[0];
    return languages;
}

const lang_info *lang_by_name(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
        if (strcasecmp(name, languages[i].name) == 0) return &languages[i];
    return NULL;
}

const lang_info *lang_or_other(const char *name)
{
    const lang_info *l = lang_by_name(name);
    return l ? l : &other;
}

/* Is ext (".rs") one of the space-separated words of list? */
static bool has_extension(const char *list, const char *ext)
{
    size_t n = strlen(ext);
    for (const char *p = list; p && *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && memcmp(p, ext, n) == 0) return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

const lang_info *lang_for_path(const char *path)
{
    if (!path) return NULL;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return NULL; /* no extension, or a dotfile like ".c" */
    for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
        if (has_extension(languages[i].extensions, dot)) return &languages[i];
    return NULL;
}
