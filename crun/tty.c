/* -t: the runtime's end of the container's pty. Our terminal (if stdin is
 * one) goes raw while the container runs, so keys reach the container's
 * line discipline untouched; window size follows ours (SIGWINCH). */
#include <string.h>
#include <sys/ioctl.h>
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
