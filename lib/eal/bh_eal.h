/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * EAL bring-up for apps and tests, and attach mode for applications that
 * initialise the EAL themselves.
 *
 * The defaults make a process that needs no NIC and no hugepages and that
 * can run next to others: --no-huge with a fixed memory size, --no-pci, and
 * a file prefix unique to the process with no shared config files
 * (--no-shconf). Each default yields to the same
 * option given by the user; --socket-mem or --huge-dir ask for hugepages,
 * and -a/--allow or -b/--block for PCI devices.
 */

#include <string>
#include <vector>

namespace bh {

/** What eal_init() adds to the user's EAL arguments. */
struct eal_options {
	bool hugepages = false;   /**< false adds --no-huge and -m memory_mb */
	bool pci = false;         /**< false adds --no-pci */
	unsigned memory_mb = 256; /**< with --no-huge */
	std::string file_prefix;  /**< empty: "bh-<pid>" */
	std::string lcores;       /**< value for -l, if the user gives no -l/--lcores/-c */
	std::vector<std::string> vdevs; /**< each added as --vdev */
	std::vector<std::string> extra; /**< added as they are, before the user's arguments */
};

/**
 * Initialises the EAL (rte_eal_init) with the defaults of @p opts followed
 * by the user's arguments (argv[1..] up to "--", as main() received them).
 * @return the number of user arguments the EAL consumed, counting the
 *   "--" if present (so `argc -= n; argv += n` leaves argv[0] followed by
 *   the application's own options, as with rte_eal_init); or a negative
 *   errno after logging one line: -EALREADY if the EAL is already up, or
 *   the EAL's error otherwise.
 * @context Once per process, from the main thread.
 * @cost rte_eal_init(): memory, devices and threads of the EAL.
 */
int eal_init(const eal_options &opts, int argc, char **argv);

/**
 * eal_init() with no user arguments.
 * @return as eal_init().
 * @context As eal_init().
 * @cost As eal_init().
 */
int eal_init(const eal_options &opts);

/**
 * True once the EAL is initialised, by bh::eal_init or by the application.
 * @context Any thread.
 * @cost A call to rte_lcore_count().
 */
bool eal_initialised() noexcept;

/**
 * Attach mode, for an application that called rte_eal_init() itself: checks
 * that the EAL is up and attaches the calling lcore to the framework
 * (lcore_attach()).
 * @return 0; -ENODEV if the EAL is not initialised or the thread is not
 *   an lcore.
 * @context The main lcore's thread, before bh::start().
 * @cost As lcore_attach().
 */
int eal_attach() noexcept;

/**
 * The file prefix eal_init() chose (empty before, and for an application
 * that initialised the EAL itself).
 * @context Any thread.
 * @cost None.
 */
const std::string &eal_file_prefix() noexcept;

/**
 * Ends the EAL: finalises the timers (from here on every bh timer call, and
 * a timer's or delayed work's destructor, is a no-op that touches only the
 * object, so objects that outlive it end quietly), runs rte_eal_cleanup(),
 * then removes the runtime directory of the prefix eal_init() chose (DPDK
 * leaves it behind). Once, at exit, from the main thread, after bh::stop().
 * An application that initialised the EAL itself ends with this call too,
 * instead of rte_eal_cleanup().
 * @return rte_eal_cleanup()'s result.
 * @context Once, at exit, from the main thread, after bh::stop().
 * @cost rte_eal_cleanup().
 */
int eal_cleanup() noexcept;

} // namespace bh
