/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wait_event() / cancel() of the reader backends that poll (vtoken, ccidsock): a condition
 * variable that cancel() signals, woken every poll interval to look for a change. Private to
 * ccid/. */
#ifndef VNP_POLL_WAIT_H
#define VNP_POLL_WAIT_H

#include <pthread.h>
#include <stdbool.h>

/* Initialise c to time out on CLOCK_MONOTONIC. */
void vnp_wake_init(pthread_cond_t *c);

/* Called with lock held: true when the readers differ from what the caller saw first. */
typedef bool (*vnp_poll_changed_fn)(void *arg);

/* Lock lock, then wait on wake every poll_ms until changed(arg) (VNP_OK), *cancel_flag
 * (VNP_OK, *ret_cancelled true) or timeout_ms (VNP_E_TIMEOUT). *ret_cancelled tells
 * whether cancel() was called. */
int vnp_poll_wait(pthread_mutex_t *lock, pthread_cond_t *wake, const bool *cancel_flag,
		  unsigned timeout_ms, unsigned poll_ms, vnp_poll_changed_fn changed, void *arg,
		  bool *ret_cancelled);

/* Set *cancel_flag under lock and wake every waiter. */
void vnp_poll_cancel(pthread_mutex_t *lock, pthread_cond_t *wake, bool *cancel_flag);

#endif
