/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wos_timed.c: calls bounded by a deadline on a helper thread (wos_timed.h).
 * The caller and the thread share the call under its mutex: whichever of
 * them is last (the caller if the call finished in time, else the thread)
 * destroys the call's pool, and with it the mutex.
 */
#include <signal.h>
#include <apr_atomic.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "wos_timed.h"

struct wos_timer {
    volatile apr_uint32_t abandoned;
    apr_uint32_t max_abandoned;
};

struct wos_timed {
    wos_timer *timer;
    apr_pool_t *pool;               /* unmanaged: its own allocator, owned by one side */
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cond;
    wos_timed_fn *fn;
    void *arg;
    apr_status_t status;
    int done;                       /* the thread returned from fn */
    int abandoned;                  /* the caller gave up: the thread cleans up */
};

wos_rv wos_timer_create(apr_pool_t *p, int max_abandoned, wos_timer **out)
{
    wos_timer *t = apr_pcalloc(p, sizeof(*t));

    t->max_abandoned = (apr_uint32_t)(max_abandoned > 0 ? max_abandoned : 1);
    *out = t;
    return WOS_OK;
}

int wos_timer_abandoned(wos_timer *t)
{
    return (int)apr_atomic_read32(&t->abandoned);
}

wos_rv wos_timed_create(wos_timer *t, wos_timed **out)
{
    apr_pool_t *pool;
    wos_timed *c;

    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS)
        return WOS_ECRYPTO;
    c = apr_pcalloc(pool, sizeof(*c));
    c->timer = t;
    c->pool = pool;
    if (apr_thread_mutex_create(&c->mu, APR_THREAD_MUTEX_DEFAULT, pool) != APR_SUCCESS
        || apr_thread_cond_create(&c->cond, pool) != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return WOS_ECRYPTO;
    }
    *out = c;
    return WOS_OK;
}

apr_pool_t *wos_timed_pool(wos_timed *c)
{
    return c->pool;
}

void wos_timed_destroy(wos_timed *c)
{
    apr_pool_destroy(c->pool);
}

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    wos_timed *c = data;
    apr_status_t st = c->fn(c->arg, c->pool);
    int abandoned;

    (void)th;
    apr_thread_mutex_lock(c->mu);
    c->status = st;
    c->done = 1;
    abandoned = c->abandoned;
    apr_thread_cond_signal(c->cond);
    apr_thread_mutex_unlock(c->mu);
    if (abandoned) {
        apr_atomic_dec32(&c->timer->abandoned);
        apr_pool_destroy(c->pool);
    }
    return NULL;
}

/* A detached thread that takes no signal: the server's signals stay with
 * the threads that handle them. */
static apr_status_t start(wos_timed *c)
{
    apr_threadattr_t *attr;
    apr_thread_t *th;
    sigset_t all, old;
    apr_status_t st;

    if ((st = apr_threadattr_create(&attr, c->pool)) != APR_SUCCESS
        || (st = apr_threadattr_detach_set(attr, 1)) != APR_SUCCESS)
        return st;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    st = apr_thread_create(&th, attr, worker, c, c->pool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return st;
}

wos_rv wos_timed_run(wos_timed *c, wos_timed_fn *fn, void *arg, long timeout_ms,
                     apr_status_t *status)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(timeout_ms);
    wos_timer *t = c->timer;

    if (apr_atomic_read32(&t->abandoned) >= t->max_abandoned) {
        wos_timed_destroy(c);
        return WOS_EUNAVAIL;
    }
    c->fn = fn;
    c->arg = arg;
    apr_thread_mutex_lock(c->mu);
    if (start(c) != APR_SUCCESS) {
        apr_thread_mutex_unlock(c->mu);
        wos_timed_destroy(c);
        return WOS_EUNAVAIL;
    }
    while (!c->done) {
        apr_time_t left = deadline - apr_time_now();
        if (left <= 0)
            break;
        apr_thread_cond_timedwait(c->cond, c->mu, left);
    }
    if (!c->done) {
        c->abandoned = 1;
        apr_atomic_inc32(&t->abandoned);
        apr_thread_mutex_unlock(c->mu);
        return WOS_EUNAVAIL;
    }
    *status = c->status;
    apr_thread_mutex_unlock(c->mu);
    return WOS_OK;
}
