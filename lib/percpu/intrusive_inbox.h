/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A lock-free, allocation-free hand-off of intrusive nodes from any number
 * of producers to one consumer at a time (a Treiber stack that the consumer
 * empties whole and turns back into FIFO order). Used where an lcore must
 * never block or allocate to pass an object to another thread: remote
 * tasklets, work items. Not installed.
 *
 * A node is in at most one inbox at a time (the caller guarantees it, with
 * a PENDING-style bit); push is one CAS loop, take_all one exchange. There
 * is no ABA problem: nodes are never popped one by one.
 */

#include <atomic>

namespace bh::detail {

template <class T, T *&(*Next)(T &)>
class intrusive_inbox {
public:
	/* Any thread. Returns true if the inbox was empty before. */
	bool push(T &node) noexcept
	{
		T *head = head_.load(std::memory_order_relaxed);
		do
			Next(node) = head;
		while (!head_.compare_exchange_weak(head, &node, std::memory_order_seq_cst,
						    std::memory_order_relaxed));
		return head == nullptr;
	}

	/* The consumer: takes every node, oldest first, linked through Next. */
	T *take_all() noexcept
	{
		T *lifo = head_.exchange(nullptr, std::memory_order_acquire);
		T *fifo = nullptr;
		while (lifo) {
			T *next = Next(*lifo);
			Next(*lifo) = fifo;
			fifo = lifo;
			lifo = next;
		}
		return fifo;
	}

	bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

private:
	std::atomic<T *> head_{nullptr};
};

} // namespace bh::detail
