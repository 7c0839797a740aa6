/*
 * harness.h — a minimal test harness for the C client tests (header only; each test program
 * includes it once).
 *
 * A test is a `static void test_name(void)` that checks with the EXPECT macros; `RUN(test_name)`
 * runs it and prints "ok - test_name" or "not ok - test_name" followed by "#   FILE:LINE: …"
 * lines for each failed check. `harness_finish()` prints "# N passed, M failed" and gives the
 * program's exit status. scripts/test-c.sh counts the "ok - " / "not ok - " lines.
 */
#ifndef FMA_TEST_HARNESS_H
#define FMA_TEST_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct harness {
    int passed;
    int failed;
    int current_failures;
};

static struct harness harness;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void harness_fail(const char *file, int line, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    printf("#   %s:%d: ", file, line);
    vprintf(format, args);
    printf("\n");
    va_end(args);
    harness.current_failures++;
}

static int harness_expect(int ok, const char *text, const char *file, int line)
{
    if (!ok) {
        harness_fail(file, line, "expected %s", text);
    }
    return ok;
}

static int harness_expect_int(long long actual, long long expected, const char *actual_text,
                              const char *file, int line)
{
    if (actual != expected) {
        harness_fail(file, line, "expected %s == %lld, got %lld", actual_text, expected, actual);
        return 0;
    }
    return 1;
}

static int harness_expect_str(const char *actual, const char *expected, const char *actual_text,
                              const char *file, int line)
{
    if (actual == NULL || strcmp(actual, expected) != 0) {
        harness_fail(file, line, "expected %s == \"%s\", got \"%s\"", actual_text, expected,
                     actual != NULL ? actual : "(null)");
        return 0;
    }
    return 1;
}

static int harness_expect_contains(const char *actual, const char *part, const char *actual_text,
                                   const char *file, int line)
{
    if (actual == NULL || strstr(actual, part) == NULL) {
        harness_fail(file, line, "expected %s to contain \"%s\", got \"%s\"", actual_text, part,
                     actual != NULL ? actual : "(null)");
        return 0;
    }
    return 1;
}

#define EXPECT(condition) harness_expect((condition) != 0, #condition, __FILE__, __LINE__)
#define EXPECT_INT(actual, expected)                                                           \
    harness_expect_int((long long)(actual), (long long)(expected), #actual, __FILE__, __LINE__)
#define EXPECT_STR(actual, expected)                                                           \
    harness_expect_str((actual), (expected), #actual, __FILE__, __LINE__)
#define EXPECT_CONTAINS(actual, part)                                                          \
    harness_expect_contains((actual), (part), #actual, __FILE__, __LINE__)
#define FAIL(...) harness_fail(__FILE__, __LINE__, __VA_ARGS__)

static void harness_report(const char *name)
{
    if (harness.current_failures == 0) {
        harness.passed++;
        printf("ok - %s\n", name);
    } else {
        harness.failed++;
        printf("not ok - %s\n", name);
    }
    harness.current_failures = 0;
    fflush(stdout);
}

#define RUN(test)                                                                              \
    do {                                                                                       \
        test();                                                                                \
        harness_report(#test);                                                                 \
    } while (0)

static int harness_finish(const char *program)
{
    printf("# %s: %d passed, %d failed\n", program, harness.passed, harness.failed);
    return harness.failed == 0 ? 0 : 1;
}

#endif /* FMA_TEST_HARNESS_H */
