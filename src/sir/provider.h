/* SIR providers: turn one extracted symbol into a SIR record.
 *
 * Every provider fills a zeroed *out (the caller frees it with ae_sir_clear, also after a
 * failure) and returns 0 or a negative AE_E* code with a message.  The symbol is borrowed. */
#ifndef AE_SIR_PROVIDER_H
#define AE_SIR_PROVIDER_H

#include "sir/sir.h"
#include "symbols/symbol.h"

#include <aether/error.h>

/* Exactly the reference tool's mock: intent "Mock summary for <qualified_name>", every list
 * empty, confidence 1.0. */
int ae_sir_generate_mock(const ae_symbol *sym, ae_sir *out, ae_error *err);

/* The offline default: a deterministic record read from the symbol's doc comment, signature and
 * body without a model (intent from the doc's first sentence or the name's words; inputs and
 * outputs from the signature; called identifiers; error and side-effect patterns).
 * confidence is 0.6 with a doc comment, 0.4 without. */
int ae_sir_generate_static(const ae_symbol *sym, ae_sir *out, ae_error *err);

#endif
