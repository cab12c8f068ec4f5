/* SIR batches (ae_sir_provider_generate_batch) against a real loopback server: outcomes belong
 * to their symbol whatever the completion order, N in flight is ~N times faster against a slow
 * model, one symbol's failure stays its own, and a provider failing in a row stops the batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_stub/stub.h"

#include "sir/sir_provider.h"
#include "util/err.h"

#define N_SYMS 16

static stub S;
static ae_symbol SYMS[N_SYMS];
static const ae_symbol *PTRS[N_SYMS];
static char NAMES[N_SYMS][32];

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
    setenv("AE_HTTP_BACKOFF_MS", "10", 1);
    setenv("AE_HTTP_RETRIES", "0", 1);
    for (int i = 0; i < N_SYMS; i++) {
        snprintf(NAMES[i], sizeof NAMES[i], "pkg::sym_%02d", i);
        SYMS[i] = (ae_symbol){.language = "rust",
                              .file_path = "src/lib.rs",
                              .kind = "function",
                              .name = NAMES[i] + 5,
                              .qualified_name = NAMES[i],
                              .signature = "fn f()",
                              .source = "fn f() {}\n",
                              .start_line = i + 1,
                              .end_line = i + 1};
        PTRS[i] = &SYMS[i];
    }
    if (stub_start(&S, 8) < 0) return -1;
    S.chat_echo_name = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)stub_push; /* shared stub helper this file does not script with */
    stub_stop(&S);
    return 0;
}

static int reset(void **state)
{
    stub_reset(&S);
    S.fail_name = NULL;
    S.chat_delay_ms = 0;
    return 0;
}

static ae_sir_provider *open_http(void)
{
    ae_sir_provider_options o = {.provider = "ollama", .model = "m", .endpoint = S.base};
    ae_sir_provider *p = NULL;
    ae_error err = {0};
    if (ae_sir_provider_open_options(&o, &p, &err) != 0) fail_msg("open: %s", err.message);
    return p;
}

static void clear_all(ae_sir_outcome *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ae_sir_clear(&out[i].sir);
}

static double run_batch(ae_sir_provider *p, int conc, ae_sir_outcome *out)
{
    ae_sir_batch_options o = {.concurrency = conc};
    ae_error err = {0};
    double t0 = mono();
    int rc = ae_sir_provider_generate_batch(p, PTRS, N_SYMS, &o, out, &err);
    double t = mono() - t0;
    if (rc != 0) fail_msg("batch (concurrency %d): %s", conc, err.message);
    return t;
}

typedef struct progress_log {
    pthread_t thread;
    size_t calls, last, total;
    bool wrong_thread, backwards;
} progress_log;

static void on_progress(void *ctx, size_t done, size_t total)
{
    progress_log *l = ctx;
    if (!pthread_equal(pthread_self(), l->thread)) l->wrong_thread = true;
    if (done < l->last) l->backwards = true;
    l->calls++;
    l->last = done;
    l->total = total;
}

static void test_outcomes_follow_their_symbols(void **state)
{
    ae_sir_provider *p = open_http();
    S.chat_delay_ms = 5;
    for (int conc = 1; conc <= 8; conc *= 2) {
        ae_sir_outcome out[N_SYMS];
        progress_log log = {.thread = pthread_self()};
        ae_sir_batch_options o = {
            .concurrency = conc, .progress = on_progress, .progress_ctx = &log};
        ae_error err = {0};
        assert_int_equal(ae_sir_provider_generate_batch(p, PTRS, N_SYMS, &o, out, &err), 0);
        /* progress on the calling thread only, never backwards, ending at the total */
        assert_false(log.wrong_thread);
        assert_false(log.backwards);
        assert_true(log.calls >= 2);
        assert_int_equal(log.last, N_SYMS);
        assert_int_equal(log.total, N_SYMS);
        for (int i = 0; i < N_SYMS; i++) {
            char want[64];
            snprintf(want, sizeof want, "Summary of %s", NAMES[i]);
            assert_true(out[i].attempted);
            assert_int_equal(out[i].rc, 0);
            assert_string_equal(out[i].sir.intent, want);
        }
        clear_all(out, N_SYMS);
    }
    ae_sir_provider_close(p);
}

/* Against a model taking 150 ms per reply, 4 in flight take about a quarter of the time. */
static void test_concurrency_speedup(void **state)
{
    ae_sir_provider *p = open_http();
    S.chat_delay_ms = 150;
    ae_sir_outcome out1[N_SYMS], out4[N_SYMS];
    double t1 = run_batch(p, 1, out1);
    double t4 = run_batch(p, 4, out4);
    print_message("sir batch of %d, 150 ms per reply: concurrency 1 %.3f s, 4 %.3f s (%.2fx)\n",
                  N_SYMS, t1, t4, t1 / t4);
    assert_true(t1 >= N_SYMS * 0.150);
    assert_true(t1 / t4 >= 3.0);
    for (int i = 0; i < N_SYMS; i++)
        assert_string_equal(out1[i].sir.intent, out4[i].sir.intent);
    clear_all(out1, N_SYMS);
    clear_all(out4, N_SYMS);
    ae_sir_provider_close(p);
}

static void test_one_failure_stays_its_own(void **state)
{
    ae_sir_provider *p = open_http();
    S.fail_name = "pkg::sym_03";
    ae_sir_outcome out[N_SYMS];
    ae_sir_batch_options o = {.concurrency = 3};
    ae_error err = {0};
    assert_int_equal(ae_sir_provider_generate_batch(p, PTRS, N_SYMS, &o, out, &err), 0);
    for (int i = 0; i < N_SYMS; i++) {
        assert_true(out[i].attempted);
        if (i == 3) {
            assert_int_equal(out[i].rc, AE_EPROVIDER);
            assert_null(out[i].sir.intent);
            assert_non_null(strstr(out[i].error, "HTTP 500"));
            assert_null(strchr(out[i].error, '\n'));
        } else {
            assert_int_equal(out[i].rc, 0);
        }
    }
    clear_all(out, N_SYMS);
    ae_sir_provider_close(p);
}

static void test_failures_in_a_row_stop(void **state)
{
    ae_sir_provider *p = open_http();
    S.fail_name = "pkg::sym_"; /* every symbol */
    ae_sir_outcome out[N_SYMS];
    ae_sir_batch_options o = {.concurrency = 2};
    ae_error err = {0};
    assert_int_equal(ae_sir_provider_generate_batch(p, PTRS, N_SYMS, &o, out, &err), AE_EPROVIDER);
    assert_non_null(strstr(err.message, "in a row, stopping"));
    assert_non_null(strstr(err.message, "HTTP 500"));
    int attempted = 0;
    for (int i = 0; i < N_SYMS; i++)
        attempted += out[i].attempted;
    /* 5 in a row stop it; the one in flight on the other thread finishes. */
    assert_in_range(attempted, AE_SIR_STOP_AFTER_DEFAULT, AE_SIR_STOP_AFTER_DEFAULT + 1);
    assert_int_equal(stub_count(&S), attempted);
    clear_all(out, N_SYMS);

    /* stop_after < 0: never stop; sym_00..sym_09 fail, 10..15 succeed. */
    stub_reset(&S);
    S.fail_name = "pkg::sym_0";
    o.stop_after = -1;
    assert_int_equal(ae_sir_provider_generate_batch(p, PTRS, N_SYMS, &o, out, &err), 0);
    for (int i = 0; i < N_SYMS; i++) {
        assert_true(out[i].attempted);
        assert_int_equal(out[i].rc, i < 10 ? AE_EPROVIDER : 0);
    }
    clear_all(out, N_SYMS);
    ae_sir_provider_close(p);
}

/* The local generators are pure: any concurrency gives the same records. */
static void test_static_provider_threads(void **state)
{
    ae_sir_provider_options so = {.provider = "static"};
    ae_sir_provider *p;
    ae_error err = {0};
    assert_int_equal(ae_sir_provider_open_options(&so, &p, &err), 0);
    ae_sir_outcome a[N_SYMS], b[N_SYMS];
    run_batch(p, 1, a);
    run_batch(p, 8, b);
    for (int i = 0; i < N_SYMS; i++) {
        char *ja, *jb;
        assert_int_equal(ae_sir_canonical_json(&a[i].sir, &ja, &err), 0);
        assert_int_equal(ae_sir_canonical_json(&b[i].sir, &jb, &err), 0);
        assert_string_equal(ja, jb);
        free(ja);
        free(jb);
    }
    clear_all(a, N_SYMS);
    clear_all(b, N_SYMS);
    ae_sir_batch_options bad = {.concurrency = AE_SIR_CONCURRENCY_MAX + 1};
    assert_int_equal(ae_sir_provider_generate_batch(p, PTRS, N_SYMS, &bad, a, &err), AE_EINVAL);
    assert_non_null(strstr(err.message, "between 1 and 64"));
    ae_sir_provider_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_outcomes_follow_their_symbols, reset),
        cmocka_unit_test_setup(test_concurrency_speedup, reset),
        cmocka_unit_test_setup(test_one_failure_stays_its_own, reset),
        cmocka_unit_test_setup(test_failures_in_a_row_stop, reset),
        cmocka_unit_test_setup(test_static_provider_threads, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
