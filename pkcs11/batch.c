/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Coalesced signing (issue 6): the card part of C_Sign runs without the module lock, through
 * a per-token queue. A signer that finds the card free goes to the card at once (a lone
 * request waits for nothing); one that finds it busy queues and sleeps. Whoever finds the
 * card free next takes every queued request for the same key and scheme and sends them as
 * one batch (driver sign_batch: one SIGN BATCH APDU on vntoken), or back to back in one
 * transaction when the driver has no batch command. Each result, error included, goes back
 * to its own caller. So the next batch forms while the card is busy with the current one.
 *
 * Locks: the queue lock (q->mu) is a leaf: held only to look at the queue, never while
 * waiting for another lock. The card I/O runs under the token lock alone (module lock not
 * held); see p11.h for the order. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "p11.h"
#include "log.h"
#include "rv.h"

#define NOT_ANSWERED INT_MIN

struct vnp_batch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool busy;                    /* a thread is at the card */
	struct vnp_sign_req *head, *tail;
	uint64_t card_ops, requests;  /* card operations (batches) and requests served */
};

CK_RV vnp_batch_new(struct vnp_batch **ret)
{
	struct vnp_batch *q = calloc(1, sizeof(*q));

	if (!q)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		free(q);
		return CKR_CANT_LOCK;
	}
	if (pthread_cond_init(&q->cv, NULL) != 0) {
		pthread_mutex_destroy(&q->mu);
		free(q);
		return CKR_CANT_LOCK;
	}
	*ret = q;
	return CKR_OK;
}

void vnp_batch_free(struct vnp_batch *q, bool destroy)
{
	if (!q)
		return;
	if (destroy) {
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
	}
	free(q);
}

void vnp_batch_counts(struct vnp_batch *q, uint64_t *ret_card_ops, uint64_t *ret_requests)
{
	*ret_card_ops = 0;
	*ret_requests = 0;
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	*ret_card_ops = q->card_ops;
	*ret_requests = q->requests;
	pthread_mutex_unlock(&q->mu);
}

static bool same_params(const struct vnp_sign_params *a, const struct vnp_sign_params *b)
{
	return a->scheme == b->scheme && a->pss_hash == b->pss_hash &&
	       a->pss_mgf1_hash == b->pss_mgf1_hash && a->pss_salt_len == b->pss_salt_len;
}

/* May r join a batch led by lead? One key, one scheme; an always-authenticate key never
 * shares its VERIFY. */
static bool joins(const struct vnp_sign_req *lead, const struct vnp_sign_req *r)
{
	return r->key.ref == lead->key.ref && same_params(&r->params, &lead->params) &&
	       !(lead->key.key_flags & VNP_KEY_ALWAYS_AUTH);
}

/* Unlink the head and every queued request that joins it; returns them as a list. q->mu
 * held. */
static struct vnp_sign_req *take_group(struct vnp_batch *q, size_t *ret_n)
{
	struct vnp_sign_req *lead = q->head, *group = NULL, **gt = &group, **pp = &q->head;
	size_t n = 0;

	q->tail = NULL;
	while (*pp) {
		struct vnp_sign_req *r = *pp;

		if (r == lead || joins(lead, r)) {
			*pp = r->next;
			r->next = NULL;
			*gt = r;
			gt = &r->next;
			n++;
		} else {
			q->tail = r;
			pp = &r->next;
		}
	}
	*ret_n = n;
	return group;
}

/* The card part of a group: one driver call when it batches, else the requests back to
 * back in one transaction. Token lock held. */
static void run_group(struct vnp_card *card, struct vnp_sign_req *group, size_t n)
{
	const struct vnp_card_driver *drv = card->drv;
	struct vnp_sign_item *items = NULL;
	struct vnp_sign_req *r;
	size_t i;
	int vrv = VNP_E_NOT_SUPPORTED;

	if (n > 1 && drv->sign_batch)
		items = calloc(n, sizeof(*items));
	if (items) {
		for (r = group, i = 0; r; r = r->next, i++) {
			items[i].in = r->in;
			items[i].in_len = r->in_len;
			items[i].out = r->out;
			items[i].out_len = r->out_len;
			items[i].rv = NOT_ANSWERED;
		}
		vrv = drv->sign_batch(card, &group->key, &group->params, items, n);
		if (vrv != VNP_E_NOT_SUPPORTED)
			for (r = group, i = 0; r; r = r->next, i++) {
				/* an item the driver left alone gets the call's error */
				r->vrv = items[i].rv != NOT_ANSWERED ? items[i].rv
								     : vrv ? vrv : VNP_E_CARD;
				if (r->vrv == VNP_OK)
					r->out_len = items[i].out_len;
			}
		free(items);
	}
	if (vrv == VNP_E_NOT_SUPPORTED) {
		bool began = n > 1 && vnp_card_begin(card) == VNP_OK;

		for (r = group; r; r = r->next)
			r->vrv = drv->sign(card, &r->key, &r->params, r->in, r->in_len, r->out,
					   &r->out_len);
		if (began)
			vnp_card_end(card);
	}
}

void vnp_batch_sign(struct vnp_token *tok, struct vnp_sign_req *req)
{
	struct vnp_batch *q = tok->batch;

	req->next = NULL;
	req->done = false;
	req->reset = false;
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
	while (!req->done) {
		struct vnp_sign_req *group, *r;
		bool reset;
		size_t n;

		if (q->busy) {
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		q->busy = true;
		group = take_group(q, &n);
		q->card_ops++;
		q->requests += n;
		pthread_mutex_unlock(&q->mu);

		if (n > 1)
			vnp_log(VNP_LOG_P11, "%s: %zu signatures in one batch", tok->card.io.who, n);
		vnp_mutex_lock(tok->lock);
		run_group(&tok->card, group, n);
		reset = tok->card.reset_seen;
		tok->card.reset_seen = false;
		vnp_mutex_unlock(tok->lock);

		pthread_mutex_lock(&q->mu);
		for (r = group; r; r = r->next) {
			r->reset = reset;
			r->done = true; /* r may be gone once q->mu is released */
		}
		q->busy = false;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
}
