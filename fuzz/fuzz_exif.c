/* libFuzzer target for the EXIF (TIFF) parsers: mf_img_exif_clean (thumbnail removal, orientation reset) and
 * mf_img_exif_orientation. Both read untrusted offsets. A cleaned stream must be no longer than the input, read
 * as orientation 1, and clean again to no longer a stream. (Not idempotent in general: in a hostile stream IFD1's
 * ranges can overlap IFD0's, so the first pass zeroes what the second would have read; the first fuzz run found
 * such an input, kept as corpus/exif/overlap-ifd1-ifd0. Well-formed streams are idempotent: test_image_meta.)
 * Build: see docs/image.md (same sources and flags as fuzz_image). Seeds: fuzz/corpus/exif. */
#include "image/internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MF_IMG_MAX_EXIF_BYTES) return 0;
    uint8_t *app1 = malloc(size + 6);
    if (!app1) return 0;
    memcpy(app1, "Exif\0\0", 6);
    memcpy(app1 + 6, data, size);
    int o = mf_img_exif_orientation(app1, size + 6);
    MF_ASSERT(o >= 1 && o <= 8);

    uint8_t *out;
    size_t n;
    int rc = mf_img_exif_clean(data, size, &out, &n);
    if (rc != MF_OK) {
        MF_ASSERT(out == NULL && n == 0 && rc < 0 && mf_error_get()[0] != '\0');
        free(app1);
        return 0;
    }
    MF_ASSERT(n >= 8 && n <= size);
    memcpy(app1 + 6, out, n);
    MF_ASSERT(mf_img_exif_orientation(app1, n + 6) == 1);
    uint8_t *again;
    size_t n2;
    MF_ASSERT(mf_img_exif_clean(out, n, &again, &n2) == MF_OK);
    MF_ASSERT(n2 <= n);
    free(again);
    free(out);
    free(app1);
    return 0;
}
