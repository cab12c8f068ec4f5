/* The two clocks: wall time for what is stored (timestamps in rows and
 * manifests), monotonic time for what is measured (timeouts, durations). */
#ifndef AE_UTIL_CLOCK_H
#define AE_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t ae_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t ae_mono_ms(void);
/* Seconds of CLOCK_MONOTONIC, with the nanoseconds (durations in reports). */
double ae_mono_s(void);

#endif
