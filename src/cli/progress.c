/* Progress on a terminal: one line rewritten in place on stderr, throttled. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double started, last_draw;
static char phase[16]; /* rates and ETAs are per phase */
static int drawn;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress(void *ctx, const ae_index_progress *p)
{
    (void)ctx;
    double t = now();
    if (!started || strncmp(phase, p->phase, sizeof phase - 1) != 0) {
        started = t;
        snprintf(phase, sizeof phase, "%s", p->phase);
    }
    if (t - last_draw < 0.1 && p->done != p->total) return;
    last_draw = t;
    double rate = t > started ? (double)p->done / (t - started) : 0;
    const char *unit = !strcmp(p->phase, "embed")     ? "embeddings"
                       : !strcmp(p->phase, "migrate") ? "rows"
                       : !strcmp(p->phase, "sir")     ? "SIRs"
                                                      : "files";
    if (p->total && rate > 0 && p->done < p->total)
        fprintf(stderr, "\r\033[K%s: %zu/%zu %s (%.0f/s, %.0f s left)", p->phase, p->done, p->total,
                unit, rate, (double)(p->total - p->done) / rate);
    else if (p->total)
        fprintf(stderr, "\r\033[K%s: %zu/%zu %s (%.0f/s)", p->phase, p->done, p->total, unit, rate);
    else
        fprintf(stderr, "\r\033[K%s...", p->phase);
    drawn = 1;
}

void cli_progress_done(void)
{
    if (drawn) fprintf(stderr, "\r\033[K");
    drawn = 0;
}
