/* Tiny test framework shared by the unit and bpf tiers. A case is T_BEGIN .. T_END; checks
 * inside it print where and what failed. The runner counts the PASS/FAIL/SKIP lines:
 *   PASS <case>        FAIL <case>        SKIP <case>: <why> */
#ifndef EDGELB_T_H
#define EDGELB_T_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int t_case_failed, t_any_failed, t_in_case;
static char t_case_name[256];

static inline void t_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void t_begin(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t_case_name, sizeof(t_case_name), fmt, ap);
	va_end(ap);
	t_case_failed = 0;
	t_in_case = 1;
}

static inline void t_check_failed(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void t_check_failed(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("  %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	t_case_failed = 1;
}

static inline void t_end(void)
{
	printf("%s %s\n", t_case_failed ? "FAIL" : "PASS", t_case_name);
	fflush(stdout);
	if (t_case_failed)
		t_any_failed = 1;
	t_in_case = 0;
}

static inline void t_skip(const char *why)
{
	printf("SKIP %s: %s\n", t_case_name, why);
	fflush(stdout);
	t_in_case = 0;
}

#define T_BEGIN(...) t_begin(__VA_ARGS__)
#define T_END()	     t_end()
/* T_EXPECT(cond, "what it checks", ...) */
#define T_EXPECT(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond))                                                                       \
			t_check_failed(__FILE__, __LINE__, __VA_ARGS__);                           \
	} while (0)
/* One-line case: a single check. */
#define T_CASE(cond, ...)                                                                          \
	do {                                                                                       \
		t_begin(__VA_ARGS__);                                                              \
		T_EXPECT(cond, "%s", #cond);                                                       \
		t_end();                                                                           \
	} while (0)

static inline int t_exit(void)
{
	return t_any_failed ? 1 : 0;
}

#endif
