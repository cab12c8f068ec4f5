/* Helpers shared by the files of the SIR module; not part of its interface. */
#ifndef AE_SIR_SIR_INTERNAL_H
#define AE_SIR_SIR_INTERNAL_H

#include "sir/sir_provider.h"

#include <stddef.h>

/* Length of the valid UTF-8 prefix of s (strlen(s) when all of it is valid). */
size_t sir_utf8_valid_prefix(const char *s);

/* provider_http.c: the HTTP generators behind ae_sir_provider (sir_provider.c). */
typedef struct sir_http sir_http;
int sir_http_open(const ae_sir_provider_options *o, sir_http **out, ae_error *err);
int sir_http_generate(sir_http *h, const ae_symbol *sym, ae_sir *out, ae_error *err);
void sir_http_close(sir_http *h);

#endif
