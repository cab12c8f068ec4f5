/* aetherd --verify: the check commands of [verify] (include/aether/checks.h).  Prints each
 * command's output as it was captured (stdout to stdout, stderr to stderr) with a "$ CMD"
 * line before it, or the reference's JSON with --output json. */
#include <aether/checks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_cmd_verify(ae_workspace *ws, const cli_options *o)
{
    ae_verify_request rq = {o->verify_commands, o->n_verify_commands, o->verify_mode,
                            o->verify_fallback_host ? 1 : -1,
                            o->verify_fallback_container ? 1 : -1};
    ae_verify_result *r = NULL;
    ae_error err;
    if (ae_workspace_verify(ws, &rq, &r, &err) < 0) {
        fprintf(stderr, "aetherd: --verify: %s\n", err.message);
        return EXIT_RUNTIME;
    }
    int code = EXIT_OK;
    if (o->output == OUTPUT_JSON) {
        char *json = ae_verify_result_json(r);
        if (json) printf("%s\n", json);
        free(json);
    } else {
        if (r->fallback_reason)
            fprintf(stderr, "aetherd: note: running in %s mode: %s\n", r->mode_used,
                    r->fallback_reason);
        for (size_t i = 0; i < r->n; i++) {
            const ae_verify_command *c = &r->results[i];
            printf("$ %s\n", c->command);
            fputs(c->stdout_text, stdout);
            if (c->stdout_truncated) printf("\n[stdout cut at %zu bytes]\n", r->max_output_bytes);
            fflush(stdout);
            fputs(c->stderr_text, stderr);
            if (c->stderr_truncated)
                fprintf(stderr, "\n[stderr cut at %zu bytes]\n", r->max_output_bytes);
            if (c->exited)
                printf("[%s: exit %d]\n", c->passed ? "passed" : "failed", c->exit_code);
            else
                printf("[failed: %s signal %d]\n",
                       c->timed_out ? "timed out, killed by" : "killed by", c->signal);
        }
        if (r->error) fprintf(stderr, "aetherd: --verify: %s\n", r->error);
    }
    if (!r->passed) {
        code = EXIT_RUNTIME;
        for (size_t i = 0; i < r->n; i++)
            if (!r->results[i].passed && r->results[i].exited && r->results[i].exit_code != 0)
                code = r->results[i].exit_code;
    }
    ae_verify_result_free(r);
    return code;
}
