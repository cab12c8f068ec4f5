/* libaether: verification commands (`aetherd --verify`, `aether_verify`; reference-contract
 * section 5).
 *
 *   ae_verify_request rq = {.fallback_host = -1, .fallback_container = -1};
 *   ae_verify_result *r;
 *   ae_workspace_verify(ws, &rq, &r, &err);      ... r->passed, r->results[i] ...
 *   ae_verify_result_free(r);
 *
 * Only commands on the [verify] allow-list of .aether/config.toml run (none by default); each
 * runs with `sh -lc CMD` in the workspace (host mode) or `RUNTIME run --rm -w WORKDIR -v
 * WORKSPACE:WORKDIR IMAGE sh -lc CMD` (container mode), in its own process group, killed
 * when it exceeds the timeout; each output stream is kept up to a cap.  The run stops at the
 * first failing command. */
#ifndef AETHER_CHECKS_H
#define AETHER_CHECKS_H

#include <aether/aether.h>
#include <aether/strlist.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ae_verify_request {
    const char *const *commands; /* requested; NULL or n_commands 0: the whole allow-list */
    size_t n_commands;
    const char *mode;       /* "host" | "container" | "microvm"; NULL: the config's */
    int fallback_host;      /* 1/0 override the config's fallback_to_host_on_unavailable; -1 */
    int fallback_container; /* same for [verify.microvm] fallback_to_container_on_unavailable */
} ae_verify_request;

typedef struct ae_verify_command {
    char *command;
    bool exited;       /* false: killed by a signal (exit_code is then null in JSON) */
    int exit_code;     /* when exited */
    int signal;        /* when !exited */
    bool timed_out;    /* killed after the timeout */
    char *stdout_text; /* at most the cap; truncated flags below */
    char *stderr_text;
    bool stdout_truncated, stderr_truncated;
    bool passed;
} ae_verify_command;

typedef struct ae_verify_result {
    char *workspace;
    char mode_requested[16], mode_used[16]; /* mode_used "" when nothing ran */
    char *fallback_reason;                  /* NULL without a fallback */
    ae_strlist allowlisted, requested;
    bool passed;
    char *error; /* NULL when every command ran and passed */
    ae_verify_command *results;
    size_t n;
    int timeout_secs;
    size_t max_output_bytes;
} ae_verify_result;

/* Runs the checks.  A refused command, an unavailable mode without fallback, or a failing
 * command is an answer (passed false, error set), not an error code; AE_EINVAL for a bad
 * request mode, AE_EIO when a process cannot be started at all. */
int ae_workspace_verify(ae_workspace *ws, const ae_verify_request *req, ae_verify_result **out,
                        ae_error *err);
void ae_verify_result_free(ae_verify_result *r); /* accepts NULL */
/* The result as the reference's JSON (schema_version 1 ...): allocated, caller frees. */
char *ae_verify_result_json(const ae_verify_result *r);

#ifdef __cplusplus
}
#endif
#endif
