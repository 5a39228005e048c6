/* The host side of the guest's serial console: raw mode on a terminal
 * (restored on every exit path), and the escape sequence Ctrl-a x that
 * stops the VM from the keyboard (as kvmtool and QEMU -nographic offer). */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#define CONSOLE_ESC 0x01   /* Ctrl-a */

struct console_esc {
	bool armed;        /* the previous byte was Ctrl-a */
};

/* Pure: copy in[] to out[] (room for 2*n), acting on escapes: Ctrl-a x sets
 * *quit and drops the rest, Ctrl-a Ctrl-a sends one Ctrl-a, Ctrl-a and any
 * other byte sends both. Returns the bytes written to out. */
size_t console_filter(struct console_esc *e, const uint8_t *in, size_t n, uint8_t *out,
		      bool *quit);

struct console_tty {
	int fd;
	bool raw;
	struct termios saved;
};
void console_raw_enter(struct console_tty *t, int fd);
void console_raw_leave(struct console_tty *t);

#endif
