/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The field tags of the shared structures ([L] own lcore, [X] executor),
 * checked where the code relies on them: built only where NDEBUG is unset
 * (debug and sanitizer trees), as the checks are.
 */
#include <thread>

#include "bh_softirq.h"
#include "bh_test.h"
#include "softirq_private.h"
#include "timer_private.h"

namespace bh {
namespace {

using test::test_lcore;

class legends : public test::started_test {};

/* Another lcore's softirqs run by a thread that does not own them: [X]. */
TEST_F(legends, test_legends_running_another_lcores_softirqs_aborts)
{
	test_lcore lc(1);
	const unsigned other = lc.id();
	EXPECT_DEATH(detail::run_softirqs(detail::softirq_state[other], detail::thread_role::lcore, ~0u),
		     "the softirq state \\[X\\] touched from an lcore thread");
}

/* A softirq handler called on a thread that is no lcore: the tasklet lists are [X]. */
TEST_F(legends, test_legends_tasklet_lists_off_their_executor_abort)
{
	EXPECT_DEATH(std::thread([] { softirq_entry(TASKLET_SOFTIRQ).action(softirq_entry(TASKLET_SOFTIRQ)); }).join(),
		     "the tasklet lists \\[X\\] touched from a thread that is no lcore");
}

/* rte_timer's lists and the cached next expiry are [L]. */
TEST_F(legends, test_legends_timer_state_off_its_lcore_aborts)
{
	EXPECT_DEATH(std::thread([] { softirq_entry(TIMER_SOFTIRQ).action(softirq_entry(TIMER_SOFTIRQ)); }).join(),
		     "the lcore's rte_timer lists \\[L\\]");
	test_lcore lc(1);
	const unsigned other = lc.id();
	EXPECT_DEATH(detail::timer_raise(other), "the lcore's next expiry \\[L\\] touched from an lcore thread");
}

} // namespace
} // namespace bh
