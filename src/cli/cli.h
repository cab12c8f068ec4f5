/* aetherd internals: parsed options and the commands. */
#ifndef AE_CLI_CLI_H
#define AE_CLI_CLI_H

#include <aether/aether.h>
#include <stdbool.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

typedef enum { OUTPUT_TABLE, OUTPUT_JSON } output_format;

typedef struct cli_options {
    const char *workspace;
    bool index_once, print_sir;
    const char *search;
    ae_search_mode search_mode;
    size_t search_limit;
    output_format output;
    const char *search_vector, *search_provider, *search_model;
    ae_vs_search_opts vs_opts;
    const char *import_path, *export_path;
    bool vector_status, optimize, verify, migrate, repair;
} cli_options;

typedef struct ae_workspace ae_workspace;
int cli_cmd_import(ae_workspace *ws, const char *path);
int cli_cmd_export(ae_workspace *ws, const char *path);
int cli_cmd_vector_status(ae_workspace *ws, output_format fmt);
int cli_cmd_optimize(ae_workspace *ws);
int cli_cmd_verify(ae_workspace *ws, output_format fmt);
/* Repairs (ws read-write) and prints what it did and the verify after. */
int cli_cmd_repair(ae_workspace *ws, output_format fmt);
/* Verify report rendering shared by --verify and --repair (cmd_repair.c). */
typedef struct ae_ws_verify ae_ws_verify;
typedef struct json_t json_t;
json_t *cli_verify_json(const ae_ws_verify *r);
void cli_verify_print(const ae_ws_verify *r);
/* Opens the workspace itself (read-write) and prints the migration report. */
int cli_cmd_migrate(const char *workspace, int output_json);
/* "[0.1, 0.2]" -> malloc'd floats; -1 when it is not a non-empty number array. */
int cli_parse_vector(const char *text, float **out, uint32_t *dim);

/* Prints results in the chosen format on stdout. */
void cli_print_results(const ae_search_results *r, output_format fmt);
/* Progress renderer for a terminal; NULL callbacks when stderr is not one. */
void cli_progress(void *ctx, const ae_index_progress *p);
void cli_progress_done(void);

#endif
