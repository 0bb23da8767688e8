// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring UDP in the 6.12 guest, the kernel the daemon will meet: sendmsg
 * and recvmsg through one ring over loopback, checking payloads, lengths,
 * the source address, and a batch in flight at once.
 */
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kselftest_harness.h"

#define BATCH 16

static int udp_bound(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    getsockname(fd, (struct sockaddr *)addr, &len)) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE(uring) {
	struct io_uring ring;
	int tx, rx;
	struct sockaddr_in tx_addr, rx_addr;
};

FIXTURE_SETUP(uring)
{
	ASSERT_EQ(0, io_uring_queue_init(2 * BATCH, &self->ring, 0));
	self->tx = udp_bound(&self->tx_addr);
	self->rx = udp_bound(&self->rx_addr);
	ASSERT_LE(0, self->tx);
	ASSERT_LE(0, self->rx);
}

FIXTURE_TEARDOWN(uring)
{
	close(self->tx);
	close(self->rx);
	io_uring_queue_exit(&self->ring);
}

/* Waits for n completions; res[user_data] gets each result. */
static int reap(struct io_uring *ring, int n, int *res, int max)
{
	struct __kernel_timespec ts = { .tv_sec = 20 };
	struct io_uring_cqe *cqe;

	for (int i = 0; i < n; i++) {
		if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
			return -1;
		if (cqe->user_data >= (unsigned long)max)
			return -1;
		res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

TEST_F(uring, send_recv_one)
{
	char out[] = "xnts io_uring datagram", in[64] = { 0 };
	struct sockaddr_in from = { 0 };
	struct iovec oiov = { out, sizeof(out) }, iiov = { in, sizeof(in) };
	struct msghdr omsg = { .msg_name = &self->rx_addr, .msg_namelen = sizeof(self->rx_addr),
			       .msg_iov = &oiov, .msg_iovlen = 1 };
	struct msghdr imsg = { .msg_name = &from, .msg_namelen = sizeof(from),
			       .msg_iov = &iiov, .msg_iovlen = 1 };
	struct io_uring_sqe *sqe;
	int res[2] = { -1, -1 };

	/* Receive queued first, so it completes only when the datagram arrives. */
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_recvmsg(sqe, self->rx, &imsg, 0);
	sqe->user_data = 0;
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_sendmsg(sqe, self->tx, &omsg, 0);
	sqe->user_data = 1;
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 2, res, 2));
	EXPECT_EQ((int)sizeof(out), res[1]);
	ASSERT_EQ((int)sizeof(out), res[0]);
	EXPECT_EQ(0, memcmp(in, out, sizeof(out)));
	EXPECT_EQ(self->tx_addr.sin_port, from.sin_port);
	EXPECT_EQ(self->tx_addr.sin_addr.s_addr, from.sin_addr.s_addr);
}

TEST_F(uring, batch_in_flight)
{
	unsigned char out[BATCH][48], in[BATCH][64];
	struct iovec oiov[BATCH], iiov[BATCH];
	struct msghdr omsg[BATCH], imsg[BATCH];
	int res[2 * BATCH], seen[BATCH] = { 0 };

	memset(omsg, 0, sizeof(omsg));
	memset(imsg, 0, sizeof(imsg));
	for (int i = 0; i < BATCH; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		ASSERT_NE(NULL, sqe);
		iiov[i] = (struct iovec){ in[i], sizeof(in[i]) };
		imsg[i].msg_iov = &iiov[i];
		imsg[i].msg_iovlen = 1;
		io_uring_prep_recvmsg(sqe, self->rx, &imsg[i], 0);
		sqe->user_data = i;
	}
	ASSERT_EQ(BATCH, io_uring_submit(&self->ring));
	for (int i = 0; i < BATCH; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		ASSERT_NE(NULL, sqe);
		/* Each datagram has its own length and a marker byte. */
		memset(out[i], 0xa0 + i, sizeof(out[i]));
		oiov[i] = (struct iovec){ out[i], 16 + i };
		omsg[i].msg_name = &self->rx_addr;
		omsg[i].msg_namelen = sizeof(self->rx_addr);
		omsg[i].msg_iov = &oiov[i];
		omsg[i].msg_iovlen = 1;
		io_uring_prep_sendmsg(sqe, self->tx, &omsg[i], 0);
		sqe->user_data = BATCH + i;
	}
	ASSERT_EQ(BATCH, io_uring_submit(&self->ring));
	ASSERT_EQ(0, reap(&self->ring, 2 * BATCH, res, 2 * BATCH));
	for (int i = 0; i < BATCH; i++) {
		int n = res[i], id;

		EXPECT_EQ(16 + i, res[BATCH + i]);
		ASSERT_GE(n, 16);
		ASSERT_LT(n, 16 + BATCH);
		id = n - 16;
		EXPECT_EQ(0xa0 + id, in[i][0]);
		EXPECT_EQ(0xa0 + id, in[i][n - 1]);
		seen[id]++;
	}
	for (int i = 0; i < BATCH; i++)
		EXPECT_EQ(1, seen[i]);
}

TEST_HARNESS_MAIN
