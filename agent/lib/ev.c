/* epoll + timerfd event loop; see ev.h. Timers live in a binary min-heap; the timerfd is
 * armed for the earliest deadline after every change. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/ev.h"
#include "lib/log.h"

struct fd_watch {
	int fd;
	ev_fd_cb cb;
	void *arg;
	struct fd_watch *next;
};

struct ev_timer {
	struct ev_loop *loop;
	ev_timer_cb cb;
	void *arg;
	uint64_t deadline;
	int heap_idx; /* -1 when not armed */
};

struct ev_loop {
	int epfd;
	int tfd;
	bool stop;
	struct fd_watch *watches;
	struct ev_timer **heap;
	int nheap, capheap;
};

uint64_t ev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ev_now_ms(void)
{
	return ev_now_ns() / 1000000ull;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		log_fatal("ev: out of memory");
	return p;
}

struct ev_loop *ev_loop_new(void)
{
	struct ev_loop *l = calloc(1, sizeof(*l));
	struct epoll_event ee = {.events = EPOLLIN};

	if (!l)
		log_fatal("ev: out of memory");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd < 0 || l->tfd < 0)
		log_fatal("ev: epoll/timerfd: %s", strerror(errno));
	ee.data.ptr = NULL; /* NULL marks the timerfd */
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ee) < 0)
		log_fatal("ev: epoll_ctl timerfd: %s", strerror(errno));
	return l;
}

void ev_loop_free(struct ev_loop *l)
{
	struct fd_watch *w, *n;

	if (!l)
		return;
	for (w = l->watches; w; w = n) {
		n = w->next;
		free(w);
	}
	for (int i = 0; i < l->nheap; i++)
		l->heap[i]->heap_idx = -1;
	free(l->heap);
	close(l->tfd);
	close(l->epfd);
	free(l);
}

void ev_loop_stop(struct ev_loop *l)
{
	l->stop = true;
}

int ev_fd_add(struct ev_loop *l, int fd, uint32_t events, ev_fd_cb cb, void *arg)
{
	struct fd_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ee = {.events = events};

	if (!w)
		log_fatal("ev: out of memory");
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	ee.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		int e = errno;
		free(w);
		return -e;
	}
	w->next = l->watches;
	l->watches = w;
	return 0;
}

static struct fd_watch *find_watch(struct ev_loop *l, int fd, struct fd_watch ***link)
{
	struct fd_watch **pp;

	for (pp = &l->watches; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

int ev_fd_mod(struct ev_loop *l, int fd, uint32_t events)
{
	struct fd_watch *w = find_watch(l, fd, NULL);
	struct epoll_event ee = {.events = events};

	if (!w)
		return -ENOENT;
	ee.data.ptr = w;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) < 0 ? -errno : 0;
}

/* Deleted watches are parked (callback cleared) until the current dispatch round ends, so a
 * callback may delete another fd that is still in this round's event list. */
static struct fd_watch *graveyard;

void ev_fd_del(struct ev_loop *l, int fd)
{
	struct fd_watch **pp, *w = find_watch(l, fd, &pp);

	if (!w)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*pp = w->next;
	w->cb = NULL;
	w->next = graveyard;
	graveyard = w;
}

/* --- timers: min-heap on deadline ------------------------------------------ */

static void heap_swap(struct ev_loop *l, int i, int j)
{
	struct ev_timer *t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->heap[i]->heap_idx = i;
	l->heap[j]->heap_idx = j;
}

static void heap_up(struct ev_loop *l, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (l->heap[p]->deadline <= l->heap[i]->deadline)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct ev_loop *l, int i)
{
	for (;;) {
		int c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c]->deadline < l->heap[m]->deadline)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->deadline < l->heap[m]->deadline)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct ev_loop *l, int i)
{
	l->heap[i]->heap_idx = -1;
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	l->heap[i]->heap_idx = i;
	heap_down(l, i);
	heap_up(l, i);
}

static void rearm_timerfd(struct ev_loop *l)
{
	struct itimerspec its = {0};

	if (l->nheap) {
		uint64_t d = l->heap[0]->deadline;
		its.it_value.tv_sec = (time_t)(d / 1000);
		its.it_value.tv_nsec = (long)(d % 1000) * 1000000;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

struct ev_timer *ev_timer_new(struct ev_loop *l, ev_timer_cb cb, void *arg)
{
	struct ev_timer *t = calloc(1, sizeof(*t));

	if (!t)
		log_fatal("ev: out of memory");
	t->loop = l;
	t->cb = cb;
	t->arg = arg;
	t->heap_idx = -1;
	return t;
}

void ev_timer_arm(struct ev_timer *t, uint64_t after_ms)
{
	struct ev_loop *l = t->loop;

	if (t->heap_idx >= 0)
		heap_remove(l, t->heap_idx);
	t->deadline = ev_now_ms() + after_ms;
	if (l->nheap == l->capheap) {
		l->capheap = l->capheap ? l->capheap * 2 : 16;
		l->heap = xrealloc(l->heap, sizeof(*l->heap) * (size_t)l->capheap);
	}
	t->heap_idx = l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, t->heap_idx);
	rearm_timerfd(l);
}

void ev_timer_stop(struct ev_timer *t)
{
	if (t && t->heap_idx >= 0) {
		heap_remove(t->loop, t->heap_idx);
		rearm_timerfd(t->loop);
	}
}

bool ev_timer_armed(const struct ev_timer *t)
{
	return t->heap_idx >= 0;
}

void ev_timer_free(struct ev_timer *t)
{
	if (!t)
		return;
	ev_timer_stop(t);
	free(t);
}

static void run_timers(struct ev_loop *l)
{
	uint64_t exp, now = ev_now_ms();

	if (read(l->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		log_warn("ev: timerfd read: %s", strerror(errno));
	while (l->nheap && l->heap[0]->deadline <= now) {
		struct ev_timer *t = l->heap[0];
		heap_remove(l, 0);
		t->cb(t, t->arg); /* may re-arm or free t */
	}
	rearm_timerfd(l);
}

int ev_loop_once(struct ev_loop *l, int timeout_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(l->epfd, evs, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct fd_watch *w = evs[i].data.ptr;

		if (!w) {
			run_timers(l);
			continue;
		}
		if (w->cb)
			w->cb(w->fd, evs[i].events, w->arg);
	}
	while (graveyard) {
		struct fd_watch *w = graveyard;
		graveyard = w->next;
		free(w);
	}
	return 0;
}

int ev_loop_run(struct ev_loop *l)
{
	l->stop = false;
	while (!l->stop)
		if (ev_loop_once(l, -1) < 0)
			return -1;
	return 0;
}
