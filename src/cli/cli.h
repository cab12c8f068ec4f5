/* aetherd internals: the flag and mode tables (args.c), parsed options and
 * the commands.  Adding a flag is adding a row to cli_flags[]; adding a mode
 * is an enum value here, a row in cli_modes[] (args.c) and its run function. */
#ifndef AE_CLI_CLI_H
#define AE_CLI_CLI_H

#include <aether/admin.h>
#include <aether/aether.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

typedef enum { OUTPUT_TABLE, OUTPUT_JSON } output_format;
typedef enum { LOG_HUMAN, LOG_JSON } log_format;

/* One mode per run.  CLI_MODE_NONE is the run without a mode flag: the
 * reference's watch mode (cmd_watch.c). */
typedef enum cli_mode {
    CLI_MODE_NONE,
    CLI_MODE_INDEX_ONCE,
    CLI_MODE_SEARCH,
    CLI_MODE_SEARCH_VECTOR,
    CLI_MODE_IMPORT,
    CLI_MODE_EXPORT,
    CLI_MODE_VECTOR_STATUS,
    CLI_MODE_OPTIMIZE,
    CLI_MODE_FSCK,
    CLI_MODE_REPAIR,
    CLI_MODE_MIGRATE,
    CLI_MODE_VERIFY,
    CLI_MODE_LSP,
    CLI_MODE_COUNT
} cli_mode;

/* Bit for a mode in cli_flag.modes. */
#define CLI_IN(m)    (1u << (m))
#define CLI_ANY_MODE 0u

typedef struct cli_options {
    cli_mode mode;
    const char *workspace;
    bool print_sir;
    const char *search;
    ae_search_mode search_mode;
    size_t search_limit;
    output_format output;
    const char *search_vector, *search_provider, *search_model;
    ae_vs_search_opts vs_opts;
    ae_search_filter filter; /* --language, --path-prefix, --kind */
    const char *import_path, *export_path;
    int sir_concurrency; /* 0: the library's default */
    struct {
        const char *provider, *model, *endpoint, *api_key_env; /* NULL: from the config */
    } inference;
    const char *retrain; /* --retrain: [embeddings] retrain for this run */
    /* --verify: --verify-command (repeatable), --verify-mode, the fallback flags. */
#define CLI_VERIFY_COMMANDS_MAX 64
    const char *verify_commands[CLI_VERIFY_COMMANDS_MAX];
    size_t n_verify_commands;
    const char *verify_mode;
    bool verify_fallback_host, verify_fallback_container;
    /* watch mode */
    bool print_events;
    int debounce_ms; /* 0: the library's default */
    int poll_ms;     /* > 0: poll instead of inotify */
    log_format log_format;
    bool lsp_index; /* --lsp --index */
} cli_options;

/* How a workspace is opened for a mode before its run function is called. */
typedef enum { CLI_OPEN_NONE, CLI_OPEN_READONLY, CLI_OPEN_WRITE } cli_open;

typedef struct cli_mode_def {
    cli_mode mode;
    const char *flag; /* the flag that selects it, for messages; NULL: no flag */
    cli_open open;
    /* Extra checks once all flags are parsed: prints the message and returns
     * EXIT_USAGE, or returns 0.  NULL: none. */
    int (*check)(const cli_options *o);
    /* ws is NULL for CLI_OPEN_NONE.  NULL run: "nothing to do" (usage). */
    int (*run)(ae_workspace *ws, const cli_options *o);
} cli_mode_def;

/* Two mode flags given together: rejected unless a row here merges them. */
typedef struct cli_mode_merge {
    cli_mode a, b, result;
} cli_mode_merge;

extern const cli_mode_def cli_modes[CLI_MODE_COUNT];

/* Parses argv into *o (all strings borrowed from argv).  Returns 0, EXIT_USAGE
 * after printing the reason on stderr, or -1 when --help/--version printed
 * and the run is done (exit 0). */
int cli_parse_args(int argc, char **argv, cli_options *o);
/* The --help text, generated from the flag table. */
void cli_print_help(FILE *out);
/* "aetherd: <message>\nTry 'aetherd --help'." on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Applies the indexing flags (--sir-concurrency, --inference-*) to an open workspace
 * (index_opts.c); prints the error naming the flag and returns EXIT_USAGE, or 0. */
int cli_index_setup(ae_workspace *ws, const cli_options *o);

/* One log record on stderr (log.c): human "aetherd: [warning: ]message", or with
 * --log-format json one object {"level","message","fields"} per line.  A field has either a
 * string value or a number (decimal text). */
typedef struct cli_log_field {
    const char *key, *str, *number;
} cli_log_field;
void cli_log(log_format fmt, const char *level, const char *message, const cli_log_field *f,
             size_t n);

/* Mode run functions (cmd_*.c, main.c). */
int cli_run_watch(ae_workspace *ws, const cli_options *o);
int cli_run_index_once(ae_workspace *ws, const cli_options *o);
int cli_run_search(ae_workspace *ws, const cli_options *o);
int cli_run_search_vector(ae_workspace *ws, const cli_options *o);
int cli_cmd_import(ae_workspace *ws, const cli_options *o);
int cli_cmd_export(ae_workspace *ws, const cli_options *o);
int cli_cmd_vector_status(ae_workspace *ws, const cli_options *o);
int cli_cmd_optimize(ae_workspace *ws, const cli_options *o);
int cli_cmd_fsck(ae_workspace *ws, const cli_options *o);
/* Repairs (ws read-write) and prints what it did and the check after. */
int cli_cmd_repair(ae_workspace *ws, const cli_options *o);
/* Migrates (ws read-write, ae_workspace_migrate_vectors) and prints the report. */
int cli_cmd_migrate(ae_workspace *ws, const cli_options *o);
/* Runs the [verify] check commands (include/aether/checks.h); exit code of the last failing
 * command (1 if none had one), 0 when all passed. */
int cli_cmd_verify(ae_workspace *ws, const cli_options *o);
/* Serves LSP on stdio (src/lsp); opens the workspace itself (ws is NULL): read-write only with
 * --index.  Exit status as the LSP spec: 0 after shutdown and exit, else 1. */
int cli_cmd_lsp(ae_workspace *ws, const cli_options *o);

/* Store-check report rendering shared by --fsck and --repair (cmd_repair.c). */
typedef struct json_t json_t;
json_t *cli_fsck_json(const ae_fsck_report *r);
void cli_fsck_print(const ae_fsck_report *r);
/* "[0.1, 0.2]" -> malloc'd floats; -1 when it is not a non-empty number array. */
int cli_parse_vector(const char *text, float **out, uint32_t *dim);

/* Prints results in the chosen format on stdout. */
void cli_print_results(const ae_search_results *r, output_format fmt);
/* Progress renderer for a terminal; NULL callbacks when stderr is not one. */
void cli_progress(void *ctx, const ae_index_progress *p);
void cli_progress_done(void);

#endif
