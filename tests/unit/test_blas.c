/* OpenBLAS loading (util/blas.c note 4): on a CPU the library does not know it
 * falls back to its generic kernel, and ae_blas_load opens it again with the
 * kernel the CPU's features allow; a user's OPENBLAS_CORETYPE is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/blas.h"

typedef struct row {
    const char *what;
    const char *detected;
    unsigned cpu;
    const char *want; /* NULL: keep the detected kernel */
} row;

static const row rows[] = {
    {"generic kernel on an AVX-512 CPU", "Prescott", AE_CPU_AVX512 | AE_CPU_AVX2_FMA, "SkylakeX"},
    {"generic kernel, AVX-512 bit alone", "Prescott", AE_CPU_AVX512, "SkylakeX"},
    {"generic kernel on an AVX2 CPU", "Prescott", AE_CPU_AVX2_FMA, "Haswell"},
    {"generic kernel on an SSE-only CPU: it is the right one", "Prescott", 0, NULL},
    {"a known CPU is left alone", "SkylakeX", AE_CPU_AVX512 | AE_CPU_AVX2_FMA, NULL},
    {"a known older kernel is left alone", "Haswell", AE_CPU_AVX512 | AE_CPU_AVX2_FMA, NULL},
    {"Zen is left alone", "Zen", AE_CPU_AVX2_FMA, NULL},
    {"another BLAS (no core name)", "", AE_CPU_AVX2_FMA, NULL},
    {"no core name at all", NULL, AE_CPU_AVX2_FMA, NULL},
    {"the match is exact, not a prefix", "Prescott2", AE_CPU_AVX2_FMA, NULL},
};

static void test_better_core_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *got = ae_blas_better_core(rows[i].detected, rows[i].cpu);
        if (!rows[i].want ? got != NULL : !got || strcmp(got, rows[i].want) != 0)
            fail_msg("row %zu (%s): got %s, want %s", i, rows[i].what, got ? got : "NULL",
                     rows[i].want ? rows[i].want : "NULL");
    }
}

/* c = a (2 x 3) . b^T (b: 2 x 3), checked by hand. */
static int sgemm_works(void)
{
    const float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, -1, 2, 1, 0};
    float c[4] = {0};
    ae_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2, 2, 3, 1.0f, a, 3, b, 3, 0.0f, c, 2);
    return c[0] == -2 && c[1] == 4 && c[2] == -2 && c[3] == 13;
}

/* Runs fn in a child (ae_blas_load happens once per process); its exit code. */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(fn());
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int load_unset(void)
{
    unsetenv("OPENBLAS_CORETYPE");
    if (ae_blas_load(NULL) != 0) return 10;
    const char *core = ae_blas_core();
    if (!*core) return 11; /* OpenBLAS names its kernels */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        strcmp(core, AE_BLAS_GENERIC_CORE) == 0)
        return 12; /* the generic kernel on a CPU with FMA: note 4 did not act */
    if (ae_blas_core_forced() && !getenv("OPENBLAS_CORETYPE")) return 13;
    return sgemm_works() ? 0 : 14;
}

static void test_load_never_keeps_generic_kernel(void **state)
{
    (void)state;
    assert_int_equal(in_child(load_unset), 0);
}

static int load_user_choice(void)
{
    setenv("OPENBLAS_CORETYPE", "Sandybridge", 1);
    if (ae_blas_load(NULL) != 0) return 10;
    if (strcmp(ae_blas_core(), "Sandybridge") != 0) return 11;
    if (ae_blas_core_forced()) return 12;
    if (strcmp(getenv("OPENBLAS_CORETYPE"), "Sandybridge") != 0) return 13;
    return sgemm_works() ? 0 : 14;
}

static void test_user_coretype_is_kept(void **state)
{
    (void)state;
    assert_int_equal(in_child(load_user_choice), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_better_core_rows),
        cmocka_unit_test(test_load_never_keeps_generic_kernel),
        cmocka_unit_test(test_user_coretype_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
