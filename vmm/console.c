/* Console helpers: see console.h. */
#include <unistd.h>

#include "console.h"

size_t console_filter(struct console_esc *e, const uint8_t *in, size_t n, uint8_t *out,
		      bool *quit)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		if (e->armed) {
			e->armed = false;
			if (c == 'x') {
				*quit = true;
				return o;
			}
			if (c != CONSOLE_ESC)
				out[o++] = CONSOLE_ESC;
			out[o++] = c;
		} else if (c == CONSOLE_ESC) {
			e->armed = true;
		} else {
			out[o++] = c;
		}
	}
	return o;
}

void console_raw_enter(struct console_tty *t, int fd)
{
	t->fd = fd;
	t->raw = false;
	if (fd < 0 || !isatty(fd) || tcgetattr(fd, &t->saved) < 0)
		return;
	struct termios raw = t->saved;
	/* the guest's line discipline does echo, editing and signals */
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSANOW, &raw) == 0)
		t->raw = true;
}

void console_raw_leave(struct console_tty *t)
{
	if (t->raw)
		tcsetattr(t->fd, TCSANOW, &t->saved);
	t->raw = false;
}
