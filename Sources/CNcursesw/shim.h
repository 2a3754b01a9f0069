// ncursesw for Swift: the wide-character API switched on, and the macros and C globals that
// Swift cannot import (or, under strict concurrency, touch) wrapped in small functions.
#ifndef WSCHAT_CNCURSESW_SHIM_H
#define WSCHAT_CNCURSESW_SHIM_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <langinfo.h>
#include <locale.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <wchar.h>
#include <ncursesw/ncurses.h>

static inline int wschat_lines(void) { return LINES; }
static inline int wschat_cols(void) { return COLS; }
static inline int wschat_colors(void) { return COLORS; }
static inline int wschat_color_pairs(void) { return COLOR_PAIRS; }
static inline WINDOW *wschat_stdscr(void) { return stdscr; }
static inline attr_t wschat_a_normal(void) { return A_NORMAL; }
static inline attr_t wschat_a_bold(void) { return A_BOLD; }
static inline attr_t wschat_a_dim(void) { return A_DIM; }
static inline attr_t wschat_a_italic(void) { return A_ITALIC; }
static inline attr_t wschat_a_underline(void) { return A_UNDERLINE; }
static inline attr_t wschat_a_reverse(void) { return A_REVERSE; }
static inline int wschat_key_code_yes(void) { return KEY_CODE_YES; }
static inline int wschat_err(void) { return ERR; }
static inline int wschat_cchar_max(void) { return CCHARW_MAX; }
static inline mmask_t wschat_mouse_mask(void) {
    return BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED;
}
static inline int wschat_is_click(mmask_t state) { return (state & (BUTTON1_PRESSED | BUTTON1_CLICKED)) != 0; }
static inline int wschat_is_wheel_up(mmask_t state) { return (state & BUTTON4_PRESSED) != 0; }
static inline int wschat_is_wheel_down(mmask_t state) { return (state & BUTTON5_PRESSED) != 0; }
// The user's locale; wide characters need a UTF-8 one, so fall back to C.UTF-8 for the
// character type when the environment names none (a bare CI shell, say).
static inline void wschat_set_locale_from_environment(void) {
    setlocale(LC_ALL, "");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0) setlocale(LC_CTYPE, "C.UTF-8");
}
// The terminal's (libc's) idea of a character's width; wchar.h hides it without _XOPEN_SOURCE.
extern int wcwidth(wchar_t c);
static inline int wschat_wcwidth(wchar_t c) { return wcwidth(c); }

// Leaves the terminal as it was found: bracketed paste and mouse reporting off, curses
// ended. Safe to call twice; called on normal exit and from the crash handlers below.
static inline void wschat_restore_terminal(void) {
    static const char modes_off[] = "\033[?2004l\033[?1000l\033[?1002l\033[?1006l";
    if (!isendwin()) endwin();
    (void)!write(STDOUT_FILENO, modes_off, sizeof modes_off - 1);
}

static inline void wschat_crash_handler(int signal_number) {
    wschat_restore_terminal();
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

// On a crash (a Swift trap is SIGILL or SIGTRAP), restore the terminal, then die as before.
static inline void wschat_install_crash_handlers(void) {
    int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) signal(signals[i], wschat_crash_handler);
}

// A resize must repaint at once, but ncurses only notes SIGWINCH for the next key read,
// and the signal may land on any thread rather than wake the UI thread's poll. So the
// handler ncurses installed is kept and called, and a byte is written to the UI's wake
// pipe (write is async-signal-safe; the pipe must not block). Call after initscr.
// State lives in function-local statics: Swift does not emit a header's file-scope ones.
typedef void (*wschat_signal_handler)(int);
static inline int *wschat_resize_wake_fd(void) {
    static int fd = -1;
    return &fd;
}
static inline wschat_signal_handler *wschat_curses_winch(void) {
    static wschat_signal_handler saved;
    return &saved;
}
static inline void wschat_winch_handler(int signal_number) {
    wschat_signal_handler curses = *wschat_curses_winch();
    if (curses != SIG_DFL && curses != SIG_IGN && curses != SIG_ERR) curses(signal_number);
    char byte = 1;
    if (*wschat_resize_wake_fd() >= 0) (void)!write(*wschat_resize_wake_fd(), &byte, 1);
}
static inline void wschat_wake_on_resize(int fd) {
    *wschat_resize_wake_fd() = fd;
    // glibc's signal() has BSD semantics: the handler stays, interrupted reads restart.
    *wschat_curses_winch() = signal(SIGWINCH, wschat_winch_handler);
}

#endif
