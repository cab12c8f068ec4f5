/* SIR status and history lookups (aether/sir.h) and the per-run indexing settings: SIR
 * concurrency and config overrides (aether.h). */
#include "workspace/workspace.h"

#include "meta/meta_sir.h"
#include "sir/sir_provider.h"
#include "util/err.h"

#include <aether/sir.h>

_Static_assert(AE_SIR_CONCURRENCY_MIN == AE_WORKSPACE_SIR_CONCURRENCY_MIN &&
                   AE_SIR_CONCURRENCY_MAX == AE_WORKSPACE_SIR_CONCURRENCY_MAX &&
                   AE_SIR_CONCURRENCY_DEFAULT == AE_WORKSPACE_SIR_CONCURRENCY_DEFAULT,
               "the public SIR concurrency limits are the provider's");

int ae_workspace_sir_info(ae_workspace *ws, const char *symbol_id, ae_sir_info **out, ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!symbol_id, err, AE_EINVAL, "ae_workspace_sir_info: symbol_id is required");
    AE_RETURN_IF(!ws->meta, err, AE_ENOTFOUND, "local store not initialized");
    AE_TRY(ae_meta_sir_info(ws->meta, symbol_id, out, err));
    AE_RETURN_IF(!*out, err, AE_ENOTFOUND, "no SIR row for symbol_id %s", symbol_id);
    return 0;
}

int ae_workspace_sir_history(ae_workspace *ws, const char *symbol_id, ae_sir_history **out,
                             ae_error *err)
{
    *out = NULL;
    AE_RETURN_IF(!symbol_id, err, AE_EINVAL, "ae_workspace_sir_history: symbol_id is required");
    AE_RETURN_IF(!ws->meta, err, AE_ENOTFOUND, "local store not initialized");
    return ae_meta_sir_history(ws->meta, symbol_id, out, err);
}

int ae_workspace_set_sir_concurrency(ae_workspace *ws, int n, ae_error *err)
{
    AE_RETURN_IF(n < AE_WORKSPACE_SIR_CONCURRENCY_MIN || n > AE_WORKSPACE_SIR_CONCURRENCY_MAX, err,
                 AE_EINVAL, "SIR concurrency must be between %d and %d, not %d",
                 AE_WORKSPACE_SIR_CONCURRENCY_MIN, AE_WORKSPACE_SIR_CONCURRENCY_MAX, n);
    ws->sir_concurrency = n;
    return 0;
}

int ae_workspace_override(ae_workspace *ws, const char *section, const char *key, const char *value,
                          const char *origin, ae_error *err)
{
    return ae_config_override(&ws->config, section, key, value, origin, err);
}
