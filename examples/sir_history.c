/* A symbol's SIR status and history through the public headers (aether/sir.h):
 *   ./a.out path/to/repo QUERY
 * Indexes the workspace (with --sir-concurrency 4's library setting), finds the first lexical
 * match for QUERY and prints its SIR row (status, last error) and every recorded version. */
#include <aether/aether.h>
#include <aether/sir.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s WORKSPACE QUERY\n", argv[0]);
        return 2;
    }
    ae_workspace *ws;
    ae_error err;
    if (ae_workspace_open(argv[1], NULL, &ws, &err) < 0) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    int rc = 1;
    ae_search_results *r = NULL;
    ae_sir_info *info = NULL;
    ae_sir_history *h = NULL;
    if (ae_workspace_set_sir_concurrency(ws, 4, &err) < 0 ||
        ae_workspace_index(ws, NULL, NULL, &err) < 0 ||
        ae_search(ws, argv[2], AE_SEARCH_LEXICAL, 1, NULL, &r, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        goto done;
    }
    if (!r->n) {
        fprintf(stderr, "no symbol matches '%s'\n", argv[2]);
        goto done;
    }
    const char *id = r->matches[0].symbol_id;
    if (ae_workspace_sir_info(ws, id, &info, &err) < 0 ||
        ae_workspace_sir_history(ws, id, &h, &err) < 0) {
        fprintf(stderr, "%s\n", err.message);
        goto done;
    }
    printf("%s %s: %s, status %s, last error %s, attempted at %lld, version %lld by %s/%s\n",
           r->matches[0].qualified_name, id, info->has_sir ? "has a SIR" : "no SIR",
           info->sir_status, info->last_error ? info->last_error : "none",
           (long long)info->last_attempt_at, (long long)info->sir_version, info->provider,
           info->model);
    for (size_t i = 0; i < h->n; i++)
        printf("v%lld %s %s/%s at %lld commit %s\n", (long long)h->versions[i].version,
               h->versions[i].sir_hash, h->versions[i].provider, h->versions[i].model,
               (long long)h->versions[i].created_at,
               h->versions[i].commit_hash ? h->versions[i].commit_hash : "null");
    rc = 0;
done:
    ae_sir_history_free(h);
    ae_sir_info_free(info);
    ae_search_results_free(r);
    ae_workspace_close(ws);
    return rc;
}
