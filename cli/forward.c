/*
 * forward.c: a plain TCP relay on one thread with poll(2) (forward.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "forward.h"

#define MAX_PAIRS 64

struct cli_forward {
	int             lfd;
	int             wake[2];        /* a byte on wake[1] stops the thread */
	struct addrinfo *target;
	int             fds[MAX_PAIRS][2];  /* client, target; -1 = free */
	pthread_t       thread;
};

static void close_pair(struct cli_forward *f, int i)
{
	for (int j = 0; j < 2; j++) {
		if (f->fds[i][j] >= 0)
			close(f->fds[i][j]);
		f->fds[i][j] = -1;
	}
}

static void accept_one(struct cli_forward *f)
{
	int c = accept(f->lfd, NULL, NULL), t, i;

	if (c < 0)
		return;
	for (i = 0; i < MAX_PAIRS && f->fds[i][0] >= 0; i++)
		;
	t = socket(f->target->ai_family, SOCK_STREAM, 0);
	if (i == MAX_PAIRS || t < 0 || connect(t, f->target->ai_addr, f->target->ai_addrlen) != 0) {
		close(c);
		if (t >= 0)
			close(t);
		return;
	}
	f->fds[i][0] = c;
	f->fds[i][1] = t;
}

/* Copy what is readable on one side to the other; 0, or -1 to close. */
static int relay(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

static void *run(void *arg)
{
	struct cli_forward *f = arg;

	for (;;) {
		struct pollfd p[2 + 2 * MAX_PAIRS];
		int n = 0, map[2 * MAX_PAIRS];

		p[n++] = (struct pollfd){ .fd = f->wake[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = f->lfd, .events = POLLIN };
		for (int i = 0; i < MAX_PAIRS; i++)
			for (int j = 0; f->fds[i][0] >= 0 && j < 2; j++) {
				map[n - 2] = i * 2 + j;
				p[n++] = (struct pollfd){ .fd = f->fds[i][j], .events = POLLIN };
			}
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			return NULL;
		if (p[0].revents)
			return NULL;
		if (p[1].revents & POLLIN)
			accept_one(f);
		for (int k = 2; k < n; k++) {
			int i = map[k - 2] / 2, j = map[k - 2] % 2;
			if (!p[k].revents || f->fds[i][0] < 0)
				continue;
			if (relay(f->fds[i][j], f->fds[i][1 - j]) != 0)
				close_pair(f, i);
		}
	}
}

int cli_forward_start(struct cli_forward **out, int port, const char *target,
                      char *errstr, size_t cap)
{
	struct cli_forward *f = calloc(1, sizeof(*f));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	char host[256];
	const char *colon;
	size_t hl;
	int one = 1, gai;

	*out = NULL;
	if (!f) {
		snprintf(errstr, cap, "out of memory");
		return -1;
	}
	f->lfd = f->wake[0] = f->wake[1] = -1;
	for (int i = 0; i < MAX_PAIRS; i++)
		f->fds[i][0] = f->fds[i][1] = -1;
	hl = strcspn(target, ",");
	for (colon = target + hl; colon > target && *colon != ':'; colon--)
		;
	if (*colon != ':' || (size_t)(colon - target) >= sizeof(host)) {
		snprintf(errstr, cap, "bad target address '%s'", target);
		goto fail;
	}
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = 0;
	{
		char portstr[16];
		snprintf(portstr, sizeof(portstr), "%.*s", (int)(hl - (size_t)(colon + 1 - target)),
		         colon + 1);
		if ((gai = getaddrinfo(host, portstr, &hints, &f->target)) != 0) {
			snprintf(errstr, cap, "%s: %s", target, gai_strerror(gai));
			goto fail;
		}
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(f->lfd, 64) != 0 ||
	    pipe(f->wake) != 0) {
		snprintf(errstr, cap, "127.0.0.1:%d: %s", port, strerror(errno));
		goto fail;
	}
	if (pthread_create(&f->thread, NULL, run, f) != 0) {
		snprintf(errstr, cap, "cannot start a thread");
		goto fail;
	}
	*out = f;
	return 0;
fail:
	if (f->lfd >= 0)
		close(f->lfd);
	if (f->wake[0] >= 0) {
		close(f->wake[0]);
		close(f->wake[1]);
	}
	if (f->target)
		freeaddrinfo(f->target);
	free(f);
	return -1;
}

void cli_forward_stop(struct cli_forward *f)
{
	if (!f)
		return;
	if (write(f->wake[1], "x", 1) == 1)
		pthread_join(f->thread, NULL);
	for (int i = 0; i < MAX_PAIRS; i++)
		close_pair(f, i);
	close(f->lfd);
	close(f->wake[0]);
	close(f->wake[1]);
	freeaddrinfo(f->target);
	free(f);
}
