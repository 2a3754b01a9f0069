// ICU's spoof checker (Unicode TS #39 confusable skeletons) behind two plain C functions.
// ICU's own headers stay inside spoof.c: Swift's Foundation carries a copy of ICU whose
// module defines the same C types, and the two cannot meet in one Swift module.
#ifndef WSCHAT_CICUSPOOF_H
#define WSCHAT_CICUSPOOF_H

#include <stdint.h>

typedef struct wschat_spoof_checker wschat_spoof_checker;

/// A new spoof checker, or NULL when ICU could not make one.
wschat_spoof_checker *wschat_spoof_open(void);

/// Writes the TS #39 skeleton of the UTF-8 text into `out`; returns its length in bytes, or -1
/// when ICU failed. A length above `capacity` means `out` was too small: call again.
int32_t wschat_spoof_skeleton(
    const wschat_spoof_checker *checker, const char *utf8, int32_t length, char *out, int32_t capacity);

#endif
