// ncursesw for Swift: the wide-character API switched on, and the macros and C globals that
// Swift cannot import (or, under strict concurrency, touch) wrapped in small functions.
#ifndef WSCHAT_CNCURSESW_SHIM_H
#define WSCHAT_CNCURSESW_SHIM_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncursesw/ncurses.h>

static inline int wschat_lines(void) { return LINES; }
static inline int wschat_cols(void) { return COLS; }
static inline int wschat_colors(void) { return COLORS; }
static inline int wschat_color_pairs(void) { return COLOR_PAIRS; }
static inline WINDOW *wschat_stdscr(void) { return stdscr; }
static inline attr_t wschat_color_pair(int pair) { return (attr_t)COLOR_PAIR(pair); }
static inline int wschat_key_resize(void) { return KEY_RESIZE; }
static inline int wschat_key_mouse(void) { return KEY_MOUSE; }
static inline int wschat_err(void) { return ERR; }
static inline int wschat_key_code_yes(void) { return KEY_CODE_YES; }
static inline void wschat_set_locale_from_environment(void) { setlocale(LC_ALL, ""); }

#endif
