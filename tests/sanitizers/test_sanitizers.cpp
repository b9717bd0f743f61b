/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPEC section 12: the suite runs under AddressSanitizer, UBSan and
 * ThreadSanitizer. Each case commits one error of the kind its sanitizer
 * exists for, in a death-test child, and expects the sanitizer to stop
 * that child with its report. The sanitizer options come from the test
 * set-up in tests/meson.build, as they do for every other suite, so a case
 * fails if a report would only be printed and the run would carry on.
 */
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <thread>

#include <gtest/gtest.h>

namespace {

/* Keeps the compiler from proving the errors away at build time. */
template <typename T>
T launder(T v)
{
	asm volatile("" : "+r"(v));
	return v;
}

#ifdef BH_CANARY_ADDRESS
TEST(sanitizers, test_sanitizers_asan_stops_a_heap_overflow)
{
	EXPECT_DEATH(
		{
			char *p = launder(new char[8]);
			p[launder(8)] = 1;
			delete[] p;
		},
		"heap-buffer-overflow");
}

TEST(sanitizers, test_sanitizers_asan_stops_a_use_after_free)
{
	EXPECT_DEATH(
		{
			int *p = launder(new int(1));
			delete p;
			*launder(p) = 2;
		},
		"heap-use-after-free");
}

/* Where the leaked block's last pointer lives until it is dropped. */
int *volatile leaked;

TEST(sanitizers, test_sanitizers_lsan_fails_an_exit_that_leaks)
{
	EXPECT_EXIT(
		{
			leaked = new int[64];
			leaked = nullptr;
			exit(0);
		},
		[](int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); },
		"detected memory leaks");
}
#endif

#ifdef BH_CANARY_UNDEFINED
TEST(sanitizers, test_sanitizers_ubsan_stops_a_signed_overflow)
{
	EXPECT_DEATH(
		{
			int x = launder(__INT_MAX__);
			x += launder(1);
			printf("%d\n", x);
		},
		"signed integer overflow");
}

TEST(sanitizers, test_sanitizers_ubsan_stops_a_misaligned_load)
{
	EXPECT_DEATH(
		{
			alignas(8) char buf[16] = {};
			const int *p = reinterpret_cast<const int *>(launder(buf + 1));
			printf("%d\n", *p);
		},
		"misaligned address");
}
#endif

#ifdef BH_CANARY_THREAD
/* Written by two threads with nothing ordering them. */
long raced;

TEST(sanitizers, test_sanitizers_tsan_stops_a_data_race)
{
	EXPECT_DEATH(
		{
			std::thread t([] { raced = launder(1L); });
			raced = launder(2L);
			t.join();
			printf("%ld\n", raced);
		},
		"data race");
}
#endif

} // namespace
