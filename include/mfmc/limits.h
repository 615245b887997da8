/* mfmc limits: every cap that bounds what untrusted input (images, model files) can make the library allocate
 * or loop over, in one place (the model is SQLite's sqliteLimit.h). Each cap names the unit and why its value.
 * Caps that a caller can tighten at run time (mf_img_limits, mf_nn_plan_opts.max_bytes) have their defaults
 * here; the others are compile-time ceilings. Change a value here and every check and message follows. */
#ifndef MFMC_LIMITS_H
#define MFMC_LIMITS_H

#include <stddef.h>

/* A cap as a string literal, for fixed messages: "more than " MF_LIMIT_STR(MF_IMG_JPEG_MAX_SCANS) " scans". */
#define MF_LIMIT_STR_(x) #x
#define MF_LIMIT_STR(x) MF_LIMIT_STR_(x)

/* ---- images (src/image) ---- */

/* Default decode caps (mf_img_limits fields left 0). 100 megapixels is above any camera sold today; 16384 px
 * per side is libwebp's own maximum; 256 MiB of encoded input is far above any real photo. */
#define MF_IMG_DEFAULT_MAX_PIXELS 100000000u /* 100 megapixels */
#define MF_IMG_DEFAULT_MAX_SIDE 16384
#define MF_IMG_DEFAULT_MAX_BYTES ((size_t)256 << 20) /* 256 MiB */

/* Hard ceiling on a side of any mf_img / mf_imgf, whatever the caps: keeps every index computation of the
 * module inside int/size_t comfortably (65535^2 * 4 < 2^34). */
#define MF_IMG_SIDE_HARD_MAX 65535

/* JPEG: most progressive scans accepted. A file can declare thousands of tiny scans, each re-walking the
 * coefficient buffer; real encoders emit about 10. Same cap as TurboJPEG's "limit scans" option. */
#define MF_IMG_JPEG_MAX_SCANS 500

/* PNG: largest single ancillary chunk libpng may allocate while decoding (text, ICC, ...). */
#define MF_IMG_PNG_MAX_CHUNK_BYTES (8 << 20) /* 8 MiB */

/* Metadata blocks returned by the decoders and accepted by the encoders. ICC: 8 MiB holds any real profile
 * (printer profiles reach a few MB) and fits JPEG's 255 APP2 chunks of 65519 bytes. EXIF: one JPEG APP1
 * segment (65535 - 2 length bytes - 6 for "Exif\0\0"), the most any JPEG can carry. */
#define MF_IMG_MAX_ICC_BYTES ((size_t)8 << 20)
#define MF_IMG_MAX_EXIF_BYTES ((size_t)65527)

#endif
