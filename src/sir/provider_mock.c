/* The mock SIR provider: the reference tool's placeholder record, byte for byte, so a
 * workspace indexed with the mock has the same sir_hash values in both tools. */
#include "sir/provider.h"

#include "util/err.h"

#include <string.h>

int ae_sir_generate_mock(const ae_symbol *sym, ae_sir *out, ae_error *err)
{
    AE_RETURN_IF(!out, err, AE_EINVAL, "mock sir: no output record");
    memset(out, 0, sizeof *out);
    AE_RETURN_IF(!sym || !sym->qualified_name, err, AE_EINVAL, "mock sir: symbol has no name");
    out->intent = ae_asprintf("Mock summary for %s", sym->qualified_name);
    AE_RETURN_IF(!out->intent, err, AE_ENOMEM, "mock sir: out of memory");
    out->confidence = 1.0;
    return 0;
}
