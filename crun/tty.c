/* -t: the runtime's end of the container's pty. Our terminal (if stdin is
 * one) goes raw while the container runs, so keys reach the container's
 * line discipline untouched; window size follows ours (SIGWINCH). */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(sizeof(struct termios) <= sizeof(((struct ct_tty *)0)->saved), "termios fits");

void ct_tty_resize(const struct ct_tty *t)
{
	struct winsize ws;
	if (t->master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(t->master, TIOCSWINSZ, &ws);
}

int ct_tty_begin(struct ct_tty *t, int master)
{
	struct termios tio;
	t->master = master;
	t->raw = false;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0) {
		memcpy(t->saved, &tio, sizeof(tio));
		cfmakeraw(&tio);
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &tio) == 0)
			t->raw = true;
	}
	ct_tty_resize(t);
	return 0;
}

void ct_tty_end(struct ct_tty *t)
{
	if (t->raw) {
		struct termios tio;
		memcpy(&tio, t->saved, sizeof(tio));
		tcsetattr(STDIN_FILENO, TCSADRAIN, &tio);
		t->raw = false;
	}
}

/* runc's --console-socket protocol: connect to the AF_UNIX stream socket
 * and send the master as SCM_RIGHTS with its name as the payload */
int ct_console_connect(const char *path, int *fd, struct cl_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return cl_err(err, ENAMETOOLONG, "console socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return cl_err_sys(err, errno, "console socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(s);
		return cl_err_sys(err, e, "connect to console socket %s", path);
	}
	*fd = s;
	return 0;
}

int ct_tty_send_console(const char *path, int master, struct cl_error *err)
{
	int s, r = ct_console_connect(path, &s, err);
	if (r < 0)
		return r;
	r = ct_console_send(s, master, err);
	close(s);
	return r;
}

int ct_console_send(int s, int master, struct cl_error *err)
{
	char name[] = "/dev/ptmx";
	struct iovec iov = { name, sizeof(name) - 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(s, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cl_err_sys(err, errno, "send the terminal to the console socket");
	return 0;
}
