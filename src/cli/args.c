/* aetherd's command line as data: one row per flag (cli_flags[]), one row per
 * mode (cli_modes[]) and the mode pairs that merge (mode_merges[]).  The
 * parser, the --help text and the combination rules are all read from these
 * tables; nothing here knows a flag by name.
 *
 * Rules (docs/ARCHITECTURE.md "aetherd's command line"):
 *   - a flag with a metavar takes a value: "--flag VALUE" or "--flag=VALUE";
 *   - one mode per run: a second, different mode flag is a usage error unless
 *     mode_merges[] has a row for the pair (the reference rejects --search with
 *     --lsp, --index-once or --verify, and --index-once with --lsp or --verify;
 *     aether rejects every other pair too);
 *   - a flag whose row names modes is valid only in those modes;
 *   - the mode's check() runs last.
 * Usage errors exit 2 with one line on stderr. */
#include "cli/cli.h"

#include <aether/watch.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_flag cli_flag;
/* Stores the parsed value; returns 0, EXIT_USAGE after printing why, or -1
 * when the run is done (--help, --version). */
typedef int (*cli_set_fn)(const cli_flag *f, const char *val, cli_options *o);

typedef enum {
    SECTION_MODE,
    SECTION_SEARCH,
    SECTION_INDEX,
    SECTION_WATCH,
    SECTION_VERIFY,
    SECTION_LSP,
    SECTION_GENERAL,
    SECTION_COUNT
} cli_section;

static const char *const section_heading[SECTION_COUNT] = {
    [SECTION_MODE] = "modes (one per run):",
    [SECTION_SEARCH] = "search options (--search, --search-vector):",
    [SECTION_INDEX] = "indexing options (--index-once, watch mode):",
    [SECTION_WATCH] = "watch mode (no mode flag: index, then re-index what changes):",
    [SECTION_VERIFY] = "verification options (--verify):",
    [SECTION_LSP] = "LSP options (--lsp):",
    [SECTION_GENERAL] = "general:",
};

struct cli_flag {
    const char *name;    /* "--search" */
    const char *alias;   /* "-h", or NULL */
    const char *metavar; /* the value's name in --help; NULL: takes no value */
    cli_set_fn set;      /* NULL: only selects its mode */
    size_t field;        /* offsetof(cli_options, ...) the setter writes */
    long min, max;       /* range for whole-number values (clamped, as the reference) */
    cli_mode selects;    /* the mode this flag selects, or CLI_MODE_NONE */
    unsigned modes;      /* CLI_IN() bits of the modes it is valid in; CLI_ANY_MODE */
    cli_section section;
    const char *help; /* lines after the first are indented under it */
};

#define FIELD(f)    offsetof(cli_options, f)
#define AS(T, o, f) ((T *)(void *)((char *)(o) + (f)->field))

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("aetherd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'aetherd --help'.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static int set_string(const cli_flag *f, const char *val, cli_options *o)
{
    *AS(const char *, o, f) = val;
    return 0;
}

static int set_bool(const cli_flag *f, const char *val, cli_options *o)
{
    (void)val;
    *AS(bool, o, f) = true;
    return 0;
}

static int set_int_one(const cli_flag *f, const char *val, cli_options *o)
{
    (void)val;
    *AS(int, o, f) = 1;
    return 0;
}

static int parse_count(const cli_flag *f, const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno)
        return cli_usage_error("%s expects a whole number, not '%s'", f->name, s);
    *out = v < f->min ? f->min : v > f->max ? f->max : v;
    return 0;
}

static int set_int(const cli_flag *f, const char *val, cli_options *o)
{
    long n;
    if (parse_count(f, val, &n)) return EXIT_USAGE;
    *AS(int, o, f) = (int)n;
    return 0;
}

static int set_size(const cli_flag *f, const char *val, cli_options *o)
{
    long n;
    if (parse_count(f, val, &n)) return EXIT_USAGE;
    *AS(size_t, o, f) = (size_t)n;
    return 0;
}

static int set_search_mode(const cli_flag *f, const char *val, cli_options *o)
{
    if (ae_search_mode_parse(val, AS(ae_search_mode, o, f)) < 0)
        return cli_usage_error("%s expects lexical, semantic or hybrid, not '%s'", f->name, val);
    return 0;
}

static int set_output(const cli_flag *f, const char *val, cli_options *o)
{
    if (!strcmp(val, "table"))
        *AS(output_format, o, f) = OUTPUT_TABLE;
    else if (!strcmp(val, "json"))
        *AS(output_format, o, f) = OUTPUT_JSON;
    else
        return cli_usage_error("%s expects table or json, not '%s'", f->name, val);
    return 0;
}

static int set_log_format(const cli_flag *f, const char *val, cli_options *o)
{
    if (!strcmp(val, "human"))
        *AS(log_format, o, f) = LOG_HUMAN;
    else if (!strcmp(val, "json"))
        *AS(log_format, o, f) = LOG_JSON;
    else
        return cli_usage_error("%s expects human or json, not '%s'", f->name, val);
    return 0;
}

static int add_verify_command(const cli_flag *f, const char *val, cli_options *o)
{
    if (o->n_verify_commands >= CLI_VERIFY_COMMANDS_MAX)
        return cli_usage_error("%s can be given at most %d times", f->name,
                               CLI_VERIFY_COMMANDS_MAX);
    o->verify_commands[o->n_verify_commands++] = val;
    return 0;
}

static int set_verify_mode(const cli_flag *f, const char *val, cli_options *o)
{
    if (strcmp(val, "host") && strcmp(val, "container") && strcmp(val, "microvm"))
        return cli_usage_error("%s expects host, container or microvm, not '%s'", f->name, val);
    *AS(const char *, o, f) = val;
    return 0;
}

static int show_help(const cli_flag *f, const char *val, cli_options *o)
{
    (void)f, (void)val, (void)o;
    cli_print_help(stdout);
    return -1;
}

static int show_version(const cli_flag *f, const char *val, cli_options *o)
{
    (void)f, (void)val, (void)o;
    printf("aetherd %s\n", AE_VERSION);
    return -1;
}

#define M(x)         CLI_IN(CLI_MODE_##x)
#define SEARCH_MODES (M(SEARCH) | M(SEARCH_VECTOR))
#define REPORT_MODES                                                                               \
    (SEARCH_MODES | M(VECTOR_STATUS) | M(FSCK) | M(REPAIR) | M(MIGRATE) | M(VERIFY))
#define INDEX_MODES    (M(INDEX_ONCE) | M(NONE)) /* indexing: once, or watching */
#define INDEXING_MODES (INDEX_MODES | M(LSP))    /* and --lsp --index */
#define NO_FIELD       0
#define NO_RANGE       0, 0
#define MODE(x)        CLI_MODE_##x, CLI_ANY_MODE
#define OPTION(modes)  CLI_MODE_NONE, (modes)

/* clang-format off */
static const cli_flag cli_flags[] = {
    /* name, alias, metavar, set, field, min, max, selects, modes, section, help */
    {"--index-once", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(INDEX_ONCE), SECTION_MODE,
     "run one incremental indexing pass, then exit"},
    {"--search", NULL, "QUERY", set_string, FIELD(search), NO_RANGE, MODE(SEARCH), SECTION_MODE,
     "search symbols, then exit"},
    {"--search-vector", NULL, "JSON", set_string, FIELD(search_vector), NO_RANGE,
     MODE(SEARCH_VECTOR), SECTION_MODE,
     "semantic search with a given query vector, e.g. '[0.1, 0.2]'\n"
     "(needs --search-provider P and --search-model M)"},
    {"--import-embeddings", NULL, "FILE", set_string, FIELD(import_path), NO_RANGE, MODE(IMPORT),
     SECTION_MODE,
     "import JSON lines {symbol_id, sir_hash, provider, model,\n"
     "embedding}; bad lines are reported and skipped ('-' = stdin)"},
    {"--export-embeddings", NULL, "FILE", set_string, FIELD(export_path), NO_RANGE, MODE(EXPORT),
     SECTION_MODE, "export every stored embedding as JSON lines ('-' = stdout)"},
    {"--vector-status", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(VECTOR_STATUS), SECTION_MODE,
     "vector tables: rows, fragments, versions, deleted rows, index"},
    {"--optimize", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(OPTIMIZE), SECTION_MODE,
     "compact the vector tables, drop old versions, rebuild indexes"},
    {"--fsck", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(FSCK), SECTION_MODE,
     "check the store: meta.sqlite, every vector table, index recall\n"
     "and that every embedding matches a current SIR; exit 1 on a problem"},
    {"--repair", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(REPAIR), SECTION_MODE,
     "fix what --fsck finds without loss (orphan files, damaged\n"
     "index, missing or orphaned embeddings), report it, check again"},
    {"--migrate-vectors", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(MIGRATE), SECTION_MODE,
     "copy legacy sir_embeddings rows into the vector tables (again);\n"
     "prints rows per table and any malformed rows"},
    {"--verify", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(VERIFY), SECTION_MODE,
     "run the allow-listed check commands of [verify] (docs/VERIFY.md);\n"
     "exit with the last failing command's code"},
    {"--lsp", NULL, NULL, NULL, NO_FIELD, NO_RANGE, MODE(LSP), SECTION_MODE,
     "serve the Language Server Protocol on stdio: hover shows a symbol's\n"
     "SIR; document and workspace symbols (docs/LSP.md)"},

    {"--search-mode", NULL, "MODE", set_search_mode, FIELD(search_mode), NO_RANGE,
     OPTION(M(SEARCH)), SECTION_SEARCH, "lexical (default), semantic or hybrid"},
    {"--search-limit", NULL, "N", set_size, FIELD(search_limit), AE_SEARCH_LIMIT_MIN,
     AE_SEARCH_LIMIT_MAX, OPTION(SEARCH_MODES), SECTION_SEARCH,
     "number of results, 1..100 (default 20)"},
    {"--language", NULL, "L", set_string, FIELD(filter.language), NO_RANGE, OPTION(M(SEARCH)),
     SECTION_SEARCH, "only symbols of language L (e.g. python, c, typescript)"},
    {"--path-prefix", NULL, "P", set_string, FIELD(filter.path_prefix), NO_RANGE,
     OPTION(M(SEARCH)), SECTION_SEARCH,
     "only symbols whose workspace-relative file path starts with P"},
    {"--kind", NULL, "K", set_string, FIELD(filter.kind), NO_RANGE, OPTION(M(SEARCH)),
     SECTION_SEARCH, "only symbols of kind K (function, method, class, struct, ...)"},
    {"--nprobe", NULL, "N", set_int, FIELD(vs_opts.nprobe), 1, 1 << 20, OPTION(SEARCH_MODES),
     SECTION_SEARCH, "IVF lists to probe in semantic search (default from config)"},
    {"--refine", NULL, "N", set_int, FIELD(vs_opts.refine_factor), 1, 1000, OPTION(SEARCH_MODES),
     SECTION_SEARCH, "re-rank depth: k * N candidates are re-scored exactly"},
    {"--exact", NULL, NULL, set_int_one, FIELD(vs_opts.exact), NO_RANGE, OPTION(SEARCH_MODES),
     SECTION_SEARCH, "semantic search by exact scan, bypassing any index"},
    {"--search-provider", NULL, "P", set_string, FIELD(search_provider), NO_RANGE,
     OPTION(M(SEARCH_VECTOR)), SECTION_SEARCH, "provider of the --search-vector embedding"},
    {"--search-model", NULL, "M", set_string, FIELD(search_model), NO_RANGE,
     OPTION(M(SEARCH_VECTOR)), SECTION_SEARCH, "model of the --search-vector embedding"},

    {"--verify-command", NULL, "CMD", add_verify_command, NO_FIELD, NO_RANGE, OPTION(M(VERIFY)),
     SECTION_VERIFY, "run only CMD (repeatable); each must be on the allow-list"},
    {"--verify-mode", NULL, "MODE", set_verify_mode, FIELD(verify_mode), NO_RANGE,
     OPTION(M(VERIFY)), SECTION_VERIFY, "host, container or microvm (default from config)"},
    {"--verify-fallback-host-on-unavailable", NULL, NULL, set_bool, FIELD(verify_fallback_host),
     NO_RANGE, OPTION(M(VERIFY)), SECTION_VERIFY,
     "run on the host when the container or microvm is unavailable"},
    {"--verify-fallback-container-on-unavailable", NULL, NULL, set_bool,
     FIELD(verify_fallback_container), NO_RANGE, OPTION(M(VERIFY)), SECTION_VERIFY,
     "run in a container when the microvm is unavailable"},

    {"--index", NULL, NULL, set_bool, FIELD(lsp_index), NO_RANGE, OPTION(M(LSP)), SECTION_LSP,
     "also index the workspace in the same process (read-write)"},

    {"--print-sir", NULL, NULL, set_bool, FIELD(print_sir), NO_RANGE, OPTION(INDEX_MODES),
     SECTION_INDEX, "print SIR_STORED, SIR_STALE (generation failed) and\n"
     "EMBEDDING_STORED lines as they commit"},
    {"--sir-concurrency", NULL, "N", set_int, FIELD(sir_concurrency),
     AE_WORKSPACE_SIR_CONCURRENCY_MIN, AE_WORKSPACE_SIR_CONCURRENCY_MAX, OPTION(INDEXING_MODES),
     SECTION_INDEX, "SIR generations in flight, 1..64 (default 2)"},
    {"--inference-provider", NULL, "P", set_string, FIELD(inference.provider), NO_RANGE,
     OPTION(INDEXING_MODES), SECTION_INDEX, "override [inference] provider for this run"},
    {"--inference-model", NULL, "M", set_string, FIELD(inference.model), NO_RANGE,
     OPTION(INDEXING_MODES), SECTION_INDEX, "override [inference] model for this run"},
    {"--inference-endpoint", NULL, "URL", set_string, FIELD(inference.endpoint), NO_RANGE,
     OPTION(INDEXING_MODES), SECTION_INDEX, "override [inference] endpoint for this run"},
    {"--inference-api-key-env", NULL, "VAR", set_string, FIELD(inference.api_key_env), NO_RANGE,
     OPTION(INDEXING_MODES), SECTION_INDEX,
     "override [inference] api_key_env (the variable's name) for this run"},
    {"--retrain", NULL, "WHEN", set_string, FIELD(retrain), NO_RANGE, OPTION(INDEX_MODES),
     SECTION_INDEX, "override [embeddings] retrain for this run: auto, never or always\n"
     "(always: train the ppmi model again now)"},

    {"--debounce-ms", NULL, "N", set_int, FIELD(debounce_ms), 1, AE_WATCH_DEBOUNCE_MS_MAX,
     OPTION(M(NONE) | M(LSP)), SECTION_WATCH,
     "process a changed path once no event for it came\n"
     "for N ms (default 300)"},
    {"--print-events", NULL, NULL, set_bool, FIELD(print_events), NO_RANGE, OPTION(M(NONE)),
     SECTION_WATCH, "print one JSON line per file whose symbols changed:\n"
     "{file_path, language, added, removed, updated}"},
    {"--poll-ms", NULL, "N", set_int, FIELD(poll_ms), 50, 3600000, OPTION(M(NONE) | M(LSP)),
     SECTION_WATCH, "watch by a stat scan every N ms instead of inotify\n"
     "(network file systems; used automatically when inotify fails)"},
    {"--log-format", NULL, "FORMAT", set_log_format, FIELD(log_format), NO_RANGE,
     OPTION(M(NONE)), SECTION_WATCH,
     "human (default) or json: one {level, message, fields} object\nper line on stderr"},

    {"--workspace", NULL, "DIR", set_string, FIELD(workspace), NO_RANGE, OPTION(CLI_ANY_MODE),
     SECTION_GENERAL, "workspace root (default .); state lives in DIR/.aether/"},
    {"--output", NULL, "FORMAT", set_output, FIELD(output), NO_RANGE, OPTION(REPORT_MODES),
     SECTION_GENERAL, "table (default) or json"},
    {"--help", "-h", NULL, show_help, NO_FIELD, NO_RANGE, OPTION(CLI_ANY_MODE), SECTION_GENERAL,
     "print this help and exit"},
    {"--version", NULL, NULL, show_version, NO_FIELD, NO_RANGE, OPTION(CLI_ANY_MODE),
     SECTION_GENERAL, "print the version and exit"},
};
/* clang-format on */
#define N_FLAGS (sizeof cli_flags / sizeof cli_flags[0])

/* Pairs of mode flags that make one run (in either order). */
static const cli_mode_merge mode_merges[] = {
    /* --fsck --repair: the repair report includes the check before and after. */
    {CLI_MODE_FSCK, CLI_MODE_REPAIR, CLI_MODE_REPAIR},
};

static const char *mode_flag(cli_mode m)
{
    return cli_modes[m].flag ? cli_modes[m].flag : "(no mode flag)";
}

static const cli_flag *find_flag(const char *name)
{
    for (size_t i = 0; i < N_FLAGS; i++)
        if (!strcmp(name, cli_flags[i].name) ||
            (cli_flags[i].alias && !strcmp(name, cli_flags[i].alias)))
            return &cli_flags[i];
    return NULL;
}

/* The mode for having both a and b, or CLI_MODE_COUNT when they conflict. */
static cli_mode merge_modes(cli_mode a, cli_mode b)
{
    if (a == b || b == CLI_MODE_NONE) return a;
    if (a == CLI_MODE_NONE) return b;
    for (size_t i = 0; i < sizeof mode_merges / sizeof mode_merges[0]; i++) {
        const cli_mode_merge *r = &mode_merges[i];
        if ((r->a == a && r->b == b) || (r->a == b && r->b == a)) return r->result;
    }
    return CLI_MODE_COUNT;
}

/* "--output needs one of --search, ..." / "--print-sir needs --index-once or watch mode (no
 * mode flag)" / "--debounce-ms needs watch mode (no mode flag)" */
static int wrong_mode(const cli_flag *f)
{
    char list[512];
    size_t len = 0, n = 0;
    list[0] = '\0';
    for (int m = 0; m < CLI_MODE_COUNT; m++) {
        if (!(f->modes & CLI_IN(m)) || !cli_modes[m].run || !cli_modes[m].flag) continue;
        int w = snprintf(list + len, sizeof list - len, "%s%s", n ? ", " : "", cli_modes[m].flag);
        if (w < 0 || (size_t)w >= sizeof list - len) break;
        len += (size_t)w;
        n++;
    }
    bool watch = (f->modes & CLI_IN(CLI_MODE_NONE)) && cli_modes[CLI_MODE_NONE].run;
    return cli_usage_error("%s needs %s%s%s%s", f->name, n > 1 ? "one of " : "", list,
                           watch && n ? " or " : "", watch ? "watch mode (no mode flag)" : "");
}

int cli_parse_args(int argc, char **argv, cli_options *o)
{
    *o = (cli_options){.mode = CLI_MODE_NONE,
                       .workspace = ".",
                       .search_mode = AE_SEARCH_LEXICAL,
                       .search_limit = AE_SEARCH_LIMIT_DEFAULT,
                       .output = OUTPUT_TABLE};
    const cli_flag *seen[N_FLAGS];
    size_t n_seen = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char name[64];
        const char *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            val = eq + 1;
            a = name;
        }
        const cli_flag *f = find_flag(a);
        if (!f) return cli_usage_error("unknown argument '%s'", argv[i]);
        if (f->metavar && !val) {
            if (i + 1 >= argc) return cli_usage_error("%s needs a value", f->name);
            val = argv[++i];
        } else if (!f->metavar && val) {
            return cli_usage_error("%s takes no value", f->name);
        }
        if (f->set) {
            int rc = f->set(f, val, o);
            if (rc) return rc;
        }
        cli_mode m = merge_modes(o->mode, f->selects);
        if (m == CLI_MODE_COUNT)
            return cli_usage_error("%s and %s cannot be combined (one mode per run)",
                                   mode_flag(o->mode), f->name);
        o->mode = m;
        size_t k = 0;
        while (k < n_seen && seen[k] != f)
            k++;
        if (k == n_seen) seen[n_seen++] = f;
    }
    const cli_mode_def *mode = &cli_modes[o->mode];
    if (!mode->run) return cli_usage_error("nothing to do: give a mode such as --index-once");
    for (size_t k = 0; k < n_seen; k++)
        if (seen[k]->modes != CLI_ANY_MODE && !(seen[k]->modes & CLI_IN(o->mode)))
            return wrong_mode(seen[k]);
    return mode->check ? mode->check(o) : 0;
}

/* Prints a help line's continuation lines indented under the first. */
static void print_help_lines(FILE *out, const char *help, int indent)
{
    for (const char *line = help; *line;) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(out, "%.*s\n", len, line);
        if (!nl) break;
        line = nl + 1;
        fprintf(out, "%*s", indent, "");
    }
}

void cli_print_help(FILE *out)
{
    enum { COL = 26 };
    fputs("usage: aetherd [--workspace DIR] [MODE] [OPTIONS]\n"
          "\n"
          "One mode per run (modes cannot be combined, except --fsck --repair).\n"
          "Without a mode flag aetherd watches: it indexes the workspace, then\n"
          "re-indexes what changes until SIGINT or SIGTERM.\n"
          "Values go as '--flag VALUE' or '--flag=VALUE'.  Exit status: 0 ok,\n"
          "1 runtime error or problems found, 2 usage error.\n",
          out);
    for (int s = 0; s < SECTION_COUNT; s++) {
        fprintf(out, "\n%s\n", section_heading[s]);
        for (size_t i = 0; i < N_FLAGS; i++) {
            const cli_flag *f = &cli_flags[i];
            if (f->section != (cli_section)s) continue;
            char left[64];
            snprintf(left, sizeof left, "%s%s%s%s%s", f->alias ? f->alias : "",
                     f->alias ? ", " : "", f->name, f->metavar ? " " : "",
                     f->metavar ? f->metavar : "");
            if (strlen(left) + 3 > COL)
                fprintf(out, "  %s\n%*s", left, COL, "");
            else
                fprintf(out, "  %-*s", COL - 2, left);
            print_help_lines(out, f->help, COL);
        }
    }
}
