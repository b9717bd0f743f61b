/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * The framework's rte_log types. Each part logs under its own type, so the
 * usual EAL option sets its level, e.g. --log-level=bh.softirq:debug or
 * --log-level='bh.*:info'. Errors are logged at ERR as one line naming the
 * function and the problem, and the function returns a negative errno.
 */

namespace bh::log {

/** rte_log type ids, valid after static initialisation. */
extern int softirq;   /**< "bh.softirq": the vector, raising, do_softirq */
extern int ksoftirqd; /**< "bh.ksoftirqd" */
extern int context;   /**< "bh.context": bh-disable, sleeping checks */
extern int lcore;     /**< "bh.lcore": lifecycle and the run loop */
extern int tasklet;   /**< "bh.tasklet" */
extern int timer;     /**< "bh.timer" */
extern int workqueue; /**< "bh.workqueue" */
extern int net;       /**< "bh.net": ports, NAPI, Rx modes, Tx */
extern int eal;       /**< "bh.eal": EAL bring-up */

} // namespace bh::log
