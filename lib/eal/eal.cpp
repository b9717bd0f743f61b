/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "bh_eal.h"
#include "bh_lcore.h"
#include "log_private.h"
#include "percpu_private.h"
#include "timer_private.h"

namespace bh {

namespace {

std::string chosen_prefix;
std::string runtime_dir; /* the one DPDK made for chosen_prefix */

/*
 * DPDK leaves its runtime directory behind; remove the one made for the
 * prefix we chose, with what is left in it (the telemetry socket at most).
 * Also run at exit, for a process that leaves through an error path.
 */
void remove_runtime_dir()
{
	if (runtime_dir.empty())
		return;
	if (DIR *d = opendir(runtime_dir.c_str())) {
		while (dirent *e = readdir(d))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlink((runtime_dir + "/" + e->d_name).c_str());
		closedir(d);
	}
	rmdir(runtime_dir.c_str());
	runtime_dir.clear();
}

bool user_has(const std::vector<std::string> &user, std::initializer_list<const char *> names)
{
	return std::any_of(user.begin(), user.end(), [&](const std::string &a) {
		return std::any_of(names.begin(), names.end(), [&](const char *n) {
			const size_t len = strlen(n);
			return a.compare(0, len, n) == 0 && (a.size() == len || a[len] == '=' || n[1] != '-');
		});
	});
}

} // namespace

int eal_init(const eal_options &opts, int argc, char **argv)
{
	if (eal_initialised()) {
		BH_LOG(ERR, log::eal, "eal_init: the EAL is already initialised (use eal_attach)");
		return -EALREADY;
	}
	std::vector<std::string> user;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		user.emplace_back(argv[i]);

	std::vector<std::string> args{argc > 0 ? argv[0] : "bottomhalf"};
	/* Asking for hugepage memory or a hugepage mount means hugepages. */
	const bool huge = opts.hugepages || user_has(user, {"--socket-mem", "--huge-dir"});
	if (!huge && !user_has(user, {"--no-huge"}))
		args.push_back("--no-huge");
	if (!huge && !user_has(user, {"-m"}))
		args.insert(args.end(), {"-m", std::to_string(opts.memory_mb)});
	if (!opts.pci && !user_has(user, {"--no-pci", "-a", "--allow", "-b", "--block"}))
		args.push_back("--no-pci");
	if (!user_has(user, {"--file-prefix", "--in-memory"})) {
		chosen_prefix = opts.file_prefix.empty() ? "bh-" + std::to_string(getpid()) : opts.file_prefix;
		args.insert(args.end(), {"--file-prefix", chosen_prefix});
		/* No multi-process config files: each would leave megabytes in /var/run/dpdk. */
		if (!user_has(user, {"--no-shconf", "--proc-type"}))
			args.push_back("--no-shconf");
	}
	if (!opts.lcores.empty() && !user_has(user, {"-l", "--lcores", "-c"}))
		args.insert(args.end(), {"-l", opts.lcores});
	for (const std::string &v : opts.vdevs)
		args.insert(args.end(), {"--vdev", v});
	args.insert(args.end(), opts.extra.begin(), opts.extra.end());
	const int added = int(args.size()) - 1;
	for (int i = 1; i < argc; i++)
		args.emplace_back(argv[i]);

	std::vector<char *> cargv;
	for (std::string &a : args)
		cargv.push_back(a.data());
	cargv.push_back(nullptr);
	/* The EAL's threads (its lcores too) inherit the mask: none takes a PMD's Rx signal unless it asks. */
	detail::block_io_signals();
	const int rc = rte_eal_init(int(args.size()), cargv.data());
	if (!chosen_prefix.empty()) {
		runtime_dir = rte_eal_get_runtime_dir();
		std::atexit(remove_runtime_dir);
	}
	if (rc < 0) {
		const int err = rte_errno ? rte_errno : EINVAL;
		BH_LOG(ERR, log::eal, "eal_init: rte_eal_init failed: %s", rte_strerror(err));
		return -err;
	}
	return rc - added;
}

int eal_init(const eal_options &opts)
{
	char name[] = "bottomhalf";
	char *argv[] = {name, nullptr};
	return eal_init(opts, 1, argv);
}

bool eal_initialised() noexcept
{
	return rte_lcore_count() > 0;
}

int eal_attach() noexcept
{
	if (!eal_initialised()) {
		BH_LOG(ERR, log::eal, "eal_attach: rte_eal_init() has not been called");
		return -ENODEV;
	}
	return lcore_attach();
}

const std::string &eal_file_prefix() noexcept
{
	return chosen_prefix;
}

int eal_cleanup() noexcept
{
	detail::timer_subsys_finalize();
	const int rc = rte_eal_cleanup();
	remove_runtime_dir();
	return rc;
}

} // namespace bh
