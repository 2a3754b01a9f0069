#include "CICUSpoof.h"

#include <unicode/uspoof.h>

wschat_spoof_checker *wschat_spoof_open(void) {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker *checker = uspoof_open(&status);
    if (U_FAILURE(status)) {
        return NULL;
    }
    return (wschat_spoof_checker *)checker;
}

int32_t wschat_spoof_skeleton(
    const wschat_spoof_checker *checker, const char *utf8, int32_t length, char *out, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t written =
        uspoof_getSkeletonUTF8((const USpoofChecker *)checker, 0, utf8, length, out, capacity, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        return written;
    }
    return U_FAILURE(status) ? -1 : written;
}
