/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Intrusive lists of the objects the framework queues (tasklets, NAPI
 * contexts, work items): each object is its own node, so queueing
 * allocates nothing and has no capacity to overflow. Not installed.
 *
 * intrusive_inbox: a lock-free, allocation-free hand-off from any number
 * of producers to one consumer at a time (a Treiber stack that the consumer
 * empties whole and turns back into FIFO order). Used where a thread must
 * never block or allocate to pass an object to an lcore or a worker. A node
 * is in at most one inbox at a time (the caller guarantees it, with a
 * PENDING-style bit); push is one CAS loop, drain a load and, if the inbox
 * is not empty, one exchange. There is no ABA problem: nodes are never
 * popped one by one.
 *
 * intrusive_fifo: the consumer's own FIFO (one owner, no atomics), which
 * an inbox drains into.
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

	/*
	 * The consumer: takes every node and hands each to @p f, oldest first.
	 * @p f may reuse the node's link. Returns how many there were.
	 */
	template <class F>
	unsigned drain(F &&f) noexcept
	{
		/*
		 * An empty inbox costs a load, not a locked exchange: a push the
		 * consumer must see came before the raise that runs it, so it is
		 * visible here.
		 */
		if (!head_.load(std::memory_order_relaxed))
			return 0;
		T *lifo = head_.exchange(nullptr, std::memory_order_acquire);
		T *fifo = nullptr;
		while (lifo) {
			T *next = Next(*lifo);
			Next(*lifo) = fifo;
			fifo = lifo;
			lifo = next;
		}
		unsigned n = 0;
		for (; fifo; n++) {
			T *next = Next(*fifo);
			f(*fifo);
			fifo = next;
		}
		return n;
	}

	bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

private:
	std::atomic<T *> head_{nullptr};
};

template <class T, T *&(*Next)(T &)>
class intrusive_fifo {
public:
	intrusive_fifo() = default;
	intrusive_fifo(const intrusive_fifo &) = delete; /* tail_ points into it */
	intrusive_fifo &operator=(const intrusive_fifo &) = delete;

	void append(T &node) noexcept
	{
		Next(node) = nullptr;
		*tail_ = &node;
		tail_ = &Next(node);
	}

	/* Moves everything from @p inbox to the tail, oldest first; returns how many. */
	unsigned splice(intrusive_inbox<T, Next> &inbox) noexcept
	{
		return inbox.drain([this](T &node) { append(node); });
	}

	/* Empties the FIFO and returns its nodes, linked through Next, oldest first. */
	T *take_all() noexcept
	{
		T *head = head_;
		head_ = nullptr;
		tail_ = &head_;
		return head;
	}

	bool empty() const noexcept { return head_ == nullptr; }
	/* The oldest node (linked through Next to the others), nullptr if empty. */
	T *front() const noexcept { return head_; }

private:
	T *head_ = nullptr;
	T **tail_ = &head_;
};

} // namespace bh::detail
