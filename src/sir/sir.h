/* The SIR record ("Structured Intermediate Representation") of one symbol. */
#ifndef AE_SIR_SIR_H
#define AE_SIR_SIR_H

#include "util/blake3.h"
#include "util/mem.h"

#include <aether/error.h>

typedef struct ae_sir {
    char *intent; /* required, non-blank */
    ae_strlist inputs, outputs, side_effects, dependencies, error_modes;
    double confidence; /* in [0, 1] */
} ae_sir;

void ae_sir_clear(ae_sir *s);

/* Canonical JSON: compact, keys sorted, lists sorted bytewise, confidence in
 * shortest round-trip form ("1.0", "0.75").  *json is allocated, caller frees. */
int ae_sir_canonical_json(const ae_sir *s, char **json, ae_error *err);
/* blake3_hex of the canonical JSON. */
int ae_sir_hash(const ae_sir *s, char out[AE_BLAKE3_HEX_LEN + 1], ae_error *err);
/* Parses and validates a SIR JSON object (unknown keys are an error). */
int ae_sir_from_json(const char *json, ae_sir *out, ae_error *err);

#endif
