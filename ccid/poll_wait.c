/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Polling wait for reader events, cancellable (poll_wait.h). */
#include <time.h>

#include "poll_wait.h"
#include "rv.h"

void vnp_wake_init(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

static void add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

int vnp_poll_wait(pthread_mutex_t *lock, pthread_cond_t *wake, const bool *cancel_flag,
		  unsigned timeout_ms, unsigned poll_ms, vnp_poll_changed_fn changed, void *arg,
		  bool *ret_cancelled)
{
	struct timespec end, next;
	int rv = VNP_E_TIMEOUT;

	clock_gettime(CLOCK_MONOTONIC, &end);
	add_ms(&end, timeout_ms);
	pthread_mutex_lock(lock);
	while (!*cancel_flag) {
		clock_gettime(CLOCK_MONOTONIC, &next);
		if (next.tv_sec > end.tv_sec ||
		    (next.tv_sec == end.tv_sec && next.tv_nsec >= end.tv_nsec))
			break;
		add_ms(&next, poll_ms);
		pthread_cond_timedwait(wake, lock, &next);
		if (*cancel_flag)
			break;
		if (changed(arg)) {
			rv = VNP_OK;
			break;
		}
	}
	*ret_cancelled = *cancel_flag;
	pthread_mutex_unlock(lock);
	return *ret_cancelled ? VNP_OK : rv;
}

void vnp_poll_cancel(pthread_mutex_t *lock, pthread_cond_t *wake, bool *cancel_flag)
{
	pthread_mutex_lock(lock);
	*cancel_flag = true;
	pthread_cond_broadcast(wake);
	pthread_mutex_unlock(lock);
}
