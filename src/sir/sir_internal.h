/* Helpers shared by the files of the SIR module; not part of its interface. */
#ifndef AE_SIR_SIR_INTERNAL_H
#define AE_SIR_SIR_INTERNAL_H

#include <stddef.h>

/* Length of the valid UTF-8 prefix of s (strlen(s) when all of it is valid). */
size_t sir_utf8_valid_prefix(const char *s);

#endif
