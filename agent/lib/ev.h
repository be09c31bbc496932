/* The agent's one event loop: epoll over file descriptors plus one timerfd that drives
 * every software timer (a min-heap by deadline). Single-threaded: callbacks run to completion.
 * Modules register fds and timers here; nothing else calls epoll_wait. */
#ifndef EDGELB_EV_H
#define EDGELB_EV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct ev_loop;
struct ev_timer;

typedef void (*ev_fd_cb)(int fd, uint32_t events, void *arg);
typedef void (*ev_timer_cb)(struct ev_timer *t, void *arg);

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop *l);
/* Runs until ev_loop_stop(); returns 0, or -1 if epoll fails. */
int ev_loop_run(struct ev_loop *l);
void ev_loop_stop(struct ev_loop *l);
/* One pass with a bounded wait (tests drive the loop with this). */
int ev_loop_once(struct ev_loop *l, int timeout_ms);

int ev_fd_add(struct ev_loop *l, int fd, uint32_t events, ev_fd_cb cb, void *arg);
int ev_fd_mod(struct ev_loop *l, int fd, uint32_t events);
void ev_fd_del(struct ev_loop *l, int fd);

struct ev_timer *ev_timer_new(struct ev_loop *l, ev_timer_cb cb, void *arg);
void ev_timer_arm(struct ev_timer *t, uint64_t after_ms); /* (re)arm, one-shot */
void ev_timer_stop(struct ev_timer *t);
bool ev_timer_armed(const struct ev_timer *t);
void ev_timer_free(struct ev_timer *t); /* stops it too; NULL is fine */

uint64_t ev_now_ms(void); /* CLOCK_MONOTONIC */
uint64_t ev_now_ns(void);

#endif
