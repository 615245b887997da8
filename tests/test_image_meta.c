/* Metadata for the anonymizer's outputs: the ICC profile and EXIF round-trip through all three encoders and
 * decoders, the encoders write nothing else, and mf_img_exif_clean removes the thumbnail (at the end or in the
 * middle of the blob), resets the orientation and survives every truncation. All data is generated here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "image/internal.h"
#include "mfmc/image.h"

/* ---- generated inputs ---- */

static void put16(uint8_t *p, unsigned v, int le) {
    p[le ? 0 : 1] = (uint8_t)v;
    p[le ? 1 : 0] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v, int le) {
    for (int i = 0; i < 4; i++)
        p[le ? i : 3 - i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p, int le) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[le ? i : 3 - i] << (8 * i);
    return v;
}
static void entry(uint8_t *p, unsigned tag, unsigned type, uint32_t count, uint32_t value, int le) {
    put16(p, tag, le);
    put16(p + 2, type, le);
    put32(p + 4, count, le);
    if (type == 3 && count == 1) {
        put32(p + 8, 0, le);
        put16(p + 8, value, le);
    } else {
        put32(p + 8, value, le);
    }
}

static const char MAKE[12] = "TestCamera1";
static const char DATE[20] = "2024:01:02 03:04:05";
static const char THUMB[] = "\xff\xd8THUMBNAIL-SECRET-THUMBNAIL-SECRET-THUMBNAIL-SECRET-THUMBNAIL\xff\xd9";
enum { THUMB_LEN = sizeof THUMB - 1, IFD0_LEN = 2 + 3 * 12 + 4, EXIF_LEN = 2 + 12 + 4, IFD1_LEN = 2 + 3 * 12 + 4 };

typedef struct {
    uint8_t b[512];
    size_t len;
    size_t make, date, thumb, ifd1; /* offsets */
} exif_blob;

/* TIFF stream: IFD0 {Make, Orientation = orient, ExifIFD}, Exif IFD {DateTimeOriginal}, IFD1 {Compression,
 * JPEGInterchangeFormat, -Length} and a JPEG-like thumbnail. thumb_last: thumbnail at the end (the usual
 * layout); otherwise IFD1 and the thumbnail sit between the Exif IFD and the values. */
static void make_exif(exif_blob *x, int le, int orient, int thumb_last) {
    memset(x, 0, sizeof *x);
    size_t ifd0 = 8, exif = ifd0 + IFD0_LEN;
    if (thumb_last) {
        x->make = exif + EXIF_LEN;
        x->date = x->make + sizeof MAKE;
        x->ifd1 = x->date + sizeof DATE;
        x->thumb = x->ifd1 + IFD1_LEN;
        x->len = x->thumb + THUMB_LEN;
    } else {
        x->ifd1 = exif + EXIF_LEN;
        x->thumb = x->ifd1 + IFD1_LEN;
        x->make = x->thumb + THUMB_LEN;
        x->date = x->make + sizeof MAKE;
        x->len = x->date + sizeof DATE;
    }
    uint8_t *b = x->b;
    memcpy(b, le ? "II*\0" : "MM\0*", 4);
    put32(b + 4, (uint32_t)ifd0, le);
    put16(b + ifd0, 3, le);
    entry(b + ifd0 + 2, 0x010F, 2, sizeof MAKE, (uint32_t)x->make, le);
    entry(b + ifd0 + 14, 0x0112, 3, 1, (uint32_t)orient, le);
    entry(b + ifd0 + 26, 0x8769, 4, 1, (uint32_t)exif, le);
    put32(b + ifd0 + 38, (uint32_t)x->ifd1, le);
    put16(b + exif, 1, le);
    entry(b + exif + 2, 0x9003, 2, sizeof DATE, (uint32_t)x->date, le);
    put32(b + exif + 14, 0, le);
    put16(b + x->ifd1, 3, le);
    entry(b + x->ifd1 + 2, 0x0103, 3, 1, 6, le);
    entry(b + x->ifd1 + 14, 0x0201, 4, 1, (uint32_t)x->thumb, le);
    entry(b + x->ifd1 + 26, 0x0202, 4, 1, THUMB_LEN, le);
    put32(b + x->ifd1 + 38, 0, le);
    memcpy(b + x->make, MAKE, sizeof MAKE);
    memcpy(b + x->date, DATE, sizeof DATE);
    memcpy(b + x->thumb, THUMB, THUMB_LEN);
}

/* An ICC profile that libpng accepts for an RGB image: a 132-byte header (size, version 2.1, 'mntr', 'RGB ',
 * 'XYZ ', D50 illuminant, 'acsp') and an empty tag table, then filler. len is a multiple of 4. */
static uint8_t *make_icc(size_t len) {
    uint8_t *p = calloc(1, len);
    assert_non_null(p);
    for (size_t i = 132; i < len; i++)
        p[i] = (uint8_t)(i * 131 + 7);
    put32(p, (uint32_t)len, 0);
    put32(p + 8, 0x02100000u, 0);
    memcpy(p + 12, "mntrRGB XYZ ", 12);
    memcpy(p + 36, "acsp", 4);
    put32(p + 68, 0x0000F6D6u, 0);
    put32(p + 72, 0x00010000u, 0);
    put32(p + 76, 0x0000D32Du, 0);
    put32(p + 128, 0, 0);
    return p;
}

static void make_img(mf_img *img, int w, int h, int c) {
    assert_int_equal(mf_img_init(img, w, h, c), MF_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                img->data[((size_t)y * w + x) * c + k] = (uint8_t)(k == 3 ? 255 - x : x * 9 + y * 5 + k * 40);
}

static int contains(const uint8_t *hay, size_t n, const void *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return 1;
    return 0;
}

/* ---- what the encoders write ---- */

/* JPEG marker segments between SOI and SOS, as a string of names ("APP1 APP2 DQT ..."), into out. */
static void jpeg_segments(const uint8_t *b, size_t n, char *out, size_t cap) {
    out[0] = '\0';
    assert_true(n > 4 && b[0] == 0xff && b[1] == 0xd8);
    for (size_t p = 2; p + 4 <= n;) {
        assert_int_equal(b[p], 0xff);
        unsigned m = b[p + 1], len = (unsigned)b[p + 2] << 8 | b[p + 3];
        char name[16];
        if (m >= 0xe0 && m <= 0xef)
            snprintf(name, sizeof name, "APP%u ", m - 0xe0);
        else if (m == 0xfe)
            snprintf(name, sizeof name, "COM ");
        else
            snprintf(name, sizeof name, "%02x ", m);
        if (!strstr(out, name) || m >= 0xe0) strncat(out, name, cap - strlen(out) - 1);
        if (m == 0xda) break;
        p += 2 + len;
    }
}

/* PNG chunk names in order, as "IHDR iCCP ...", into out. */
static void png_chunks(const uint8_t *b, size_t n, char *out, size_t cap) {
    out[0] = '\0';
    for (size_t p = 8; p + 12 <= n;) {
        uint32_t len = get32(b + p, 0);
        char name[6] = {0};
        memcpy(name, b + p + 4, 4);
        name[4] = ' ';
        if (strcmp(name, "IDAT ") || !strstr(out, "IDAT")) strncat(out, name, cap - strlen(out) - 1);
        p += 12 + (size_t)len;
    }
}

/* WebP chunk names in order, into out. */
static void webp_chunks(const uint8_t *b, size_t n, char *out, size_t cap) {
    out[0] = '\0';
    assert_true(n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4));
    assert_int_equal(get32(b + 4, 1) + 8, n);
    for (size_t p = 12; p + 8 <= n;) {
        uint32_t len = get32(b + p + 4, 1);
        char name[6] = {0};
        memcpy(name, b + p, 4);
        name[4] = ' ';
        strncat(out, name, cap - strlen(out) - 1);
        p += 8 + (size_t)len + (len & 1);
        assert_true(p <= n);
    }
}

/* ---- tests ---- */

typedef struct {
    mf_img_format format;
    int quality, c;
    const char *want; /* block layout with ICC + EXIF */
} enc_case;

static void test_roundtrip_icc_exif(void **state) {
    (void)state;
    static const enc_case cases[] = {
        {MF_IMG_FORMAT_JPEG, 90, 3, "APP1 APP2 APP2 APP2 "}, /* ICC over 3 chunks, no JFIF APP0 */
        {MF_IMG_FORMAT_PNG, 0, 3, "IHDR iCCP eXIf IDAT IEND "},
        {MF_IMG_FORMAT_PNG, 0, 4, "IHDR iCCP eXIf IDAT IEND "},
        {MF_IMG_FORMAT_WEBP, 80, 3, "VP8X ICCP VP8  EXIF "},
        {MF_IMG_FORMAT_WEBP, 80, 4, "VP8X ICCP ALPH VP8  EXIF "},
        {MF_IMG_FORMAT_WEBP, MF_IMG_QUALITY_LOSSLESS, 3, "VP8X ICCP VP8L EXIF "},
        {MF_IMG_FORMAT_WEBP, MF_IMG_QUALITY_LOSSLESS, 4, "VP8X ICCP VP8L EXIF "},
    };
    const size_t icc_len = 150000; /* > 2 JPEG APP2 chunks */
    uint8_t *icc = make_icc(icc_len);
    exif_blob x;
    make_exif(&x, 1, 1, 1);
    uint8_t *exif;
    size_t exif_len;
    assert_int_equal(mf_img_exif_clean(x.b, x.len, &exif, &exif_len), MF_OK);
    assert_int_equal(exif_len, x.ifd1);
    exif_len--; /* odd (the date's NUL is dropped): exercises the WebP chunk padding; decoders do not judge IFDs */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const enc_case *t = &cases[i];
        mf_img img, back;
        make_img(&img, 21, 13, t->c);
        for (int variant = 0; variant < 4; variant++) { /* nothing, ICC only, EXIF only, both */
            mf_img_meta in = {0};
            if (variant & 1) in.icc = icc, in.icc_len = icc_len;
            if (variant & 2) in.exif = exif, in.exif_len = exif_len;
            uint8_t *buf;
            size_t len;
            assert_int_equal(mf_img_encode(&img, t->format, t->quality, &in, &buf, &len), MF_OK);
            mf_img_meta out;
            mf_img_info info;
            assert_int_equal(mf_img_decode_meta(buf, len, NULL, &back, &info, &out), MF_OK);
            assert_int_equal(back.w, 21);
            assert_int_equal(back.h, 13);
            assert_int_equal(info.orientation, 1);
            assert_int_equal(out.icc_len, in.icc_len);
            assert_int_equal(out.exif_len, in.exif_len);
            if (in.icc) assert_memory_equal(out.icc, icc, icc_len);
            if (in.exif) assert_memory_equal(out.exif, exif, exif_len);
            if (!in.icc) assert_null(out.icc);
            if (!in.exif) assert_null(out.exif);
            char blocks[256];
            if (variant == 3) {
                if (t->format == MF_IMG_FORMAT_JPEG) jpeg_segments(buf, len, blocks, sizeof blocks);
                if (t->format == MF_IMG_FORMAT_PNG) png_chunks(buf, len, blocks, sizeof blocks);
                if (t->format == MF_IMG_FORMAT_WEBP) webp_chunks(buf, len, blocks, sizeof blocks);
                if (t->format == MF_IMG_FORMAT_JPEG) /* APPn segments first, then the coding tables */
                    assert_int_equal(strncmp(blocks, t->want, strlen(t->want)), 0);
                else
                    assert_string_equal(blocks, t->want);
            }
            /* the same file through the metadata-blind decoder decodes to the same pixels */
            mf_img plain;
            assert_int_equal(mf_img_decode(buf, len, NULL, &plain, NULL), MF_OK);
            assert_memory_equal(plain.data, back.data, (size_t)21 * 13 * 3);
            mf_img_free(&plain);
            mf_img_meta_free(&out);
            assert_null(out.icc);
            mf_img_free(&back);
            free(buf);
        }
        mf_img_free(&img);
    }
    free(exif);
    free(icc);
}

static void test_encoders_write_nothing_else(void **state) {
    (void)state;
    mf_img img;
    make_img(&img, 8, 8, 3);
    uint8_t *buf;
    size_t len;
    char blocks[256];
    mf_img_meta none = {0};
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_JPEG, 80, &none, &buf, &len), MF_OK);
    jpeg_segments(buf, len, blocks, sizeof blocks);
    assert_null(strstr(blocks, "APP1"));
    assert_null(strstr(blocks, "APP2"));
    assert_null(strstr(blocks, "COM"));
    free(buf);
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_PNG, 0, NULL, &buf, &len), MF_OK);
    png_chunks(buf, len, blocks, sizeof blocks);
    assert_string_equal(blocks, "IHDR IDAT IEND ");
    free(buf);
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_WEBP, 80, NULL, &buf, &len), MF_OK);
    webp_chunks(buf, len, blocks, sizeof blocks);
    assert_string_equal(blocks, "VP8  ");
    free(buf);

    /* refusals: unknown format, EXIF that is not TIFF, blocks over the caps, a length without data */
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_UNKNOWN, 80, NULL, &buf, &len), MF_ERR_ARG);
    assert_null(buf);
    assert_int_equal(len, 0);
    uint8_t junk[16] = "Exif\0\0II*\0\x08";
    mf_img_meta bad = {.exif = junk, .exif_len = sizeof junk};
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_JPEG, 80, &bad, &buf, &len), MF_ERR_ARG);
    bad = (mf_img_meta){.exif = junk + 6, .exif_len = MF_IMG_MAX_EXIF_BYTES + 1};
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_PNG, 0, &bad, &buf, &len), MF_ERR_LIMIT);
    bad = (mf_img_meta){.icc = junk, .icc_len = MF_IMG_MAX_ICC_BYTES + 1};
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_WEBP, 80, &bad, &buf, &len), MF_ERR_LIMIT);
    bad = (mf_img_meta){.icc_len = 4};
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_WEBP, 80, &bad, &buf, &len), MF_ERR_ARG);
    assert_null(buf);
    /* EXIF at exactly the cap: JPEG's single APP1 segment holds it */
    uint8_t *big = calloc(1, MF_IMG_MAX_EXIF_BYTES);
    assert_non_null(big);
    memcpy(big, "MM\0*\0\0\0\x08", 8);
    mf_img_meta edge = {.exif = big, .exif_len = MF_IMG_MAX_EXIF_BYTES};
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_JPEG, 80, &edge, &buf, &len), MF_OK);
    mf_img back;
    mf_img_meta out;
    assert_int_equal(mf_img_decode_meta(buf, len, NULL, &back, NULL, &out), MF_OK);
    assert_int_equal(out.exif_len, MF_IMG_MAX_EXIF_BYTES);
    mf_img_meta_free(&out);
    mf_img_free(&back);
    free(buf);
    free(big);
    mf_img_meta_free(NULL);
    mf_img_free(&img);
}

static void check_clean(const exif_blob *x, int le, int thumb_last) {
    uint8_t *o;
    size_t n;
    assert_int_equal(mf_img_exif_clean(x->b, x->len, &o, &n), MF_OK);
    /* the thumbnail is gone, IFD0 no longer links to IFD1, everything else is where it was */
    assert_false(contains(o, n, "SECRET", 6));
    assert_int_equal(get32(o + 8 + 2 + 3 * 12, le), 0);
    assert_int_equal(n, thumb_last ? x->ifd1 : x->len);
    assert_memory_equal(o + x->make, MAKE, sizeof MAKE);
    assert_memory_equal(o + x->date, DATE, sizeof DATE);
    /* orientation now 1 */
    uint8_t app1[600] = "Exif\0\0";
    memcpy(app1 + 6, o, n);
    assert_int_equal(mf_img_exif_orientation(app1, n + 6), 1);
    /* cleaning is idempotent */
    uint8_t *o2;
    size_t n2;
    assert_int_equal(mf_img_exif_clean(o, n, &o2, &n2), MF_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(o2, o, n);
    free(o2);
    free(o);
}

static void test_exif_clean(void **state) {
    (void)state;
    for (int le = 0; le <= 1; le++)
        for (int last = 0; last <= 1; last++) {
            exif_blob x;
            make_exif(&x, le, 6, last);
            uint8_t app1[600] = "Exif\0\0";
            memcpy(app1 + 6, x.b, x.len);
            assert_int_equal(mf_img_exif_orientation(app1, x.len + 6), 6);
            assert_true(contains(x.b, x.len, "SECRET", 6));
            check_clean(&x, le, last);
        }
    /* refusals */
    uint8_t *o = (uint8_t *)1;
    size_t n = 1;
    assert_int_equal(mf_img_exif_clean(NULL, 0, &o, &n), MF_ERR_FORMAT);
    assert_null(o);
    assert_int_equal(n, 0);
    assert_int_equal(mf_img_exif_clean((const uint8_t *)"Exif\0\0II*\0", 10, &o, &n), MF_ERR_FORMAT);
    assert_int_equal(mf_img_exif_clean((const uint8_t *)"II*\0\xff\0\0\0", 8, &o, &n), MF_ERR_FORMAT);
    /* IFD0 inside the header (offset 4): refused, else clearing its link would rewrite the header */
    assert_int_equal(mf_img_exif_clean((const uint8_t *)"MM\0*\0\0\0\x04\0\0\0\0\0\0\0\0", 16, &o, &n), MF_ERR_FORMAT);
    uint8_t *big = calloc(1, MF_IMG_MAX_EXIF_BYTES + 1);
    assert_non_null(big);
    memcpy(big, "II*\0\x08\0\0\0", 8);
    assert_int_equal(mf_img_exif_clean(big, MF_IMG_MAX_EXIF_BYTES + 1, &o, &n), MF_ERR_LIMIT);
    assert_int_equal(mf_img_exif_clean(big, MF_IMG_MAX_EXIF_BYTES, &o, &n), MF_OK); /* at the cap: an empty IFD0 */
    assert_int_equal(n, 8 + 2 + 4);
    free(o);
    free(big);
}

static void test_exif_clean_hostile(void **state) {
    (void)state;
    exif_blob x;
    make_exif(&x, 0, 3, 1);
    /* every truncation: either refused as FORMAT or cleaned within bounds (ASan watches the reads) */
    for (size_t cut = 0; cut <= x.len; cut++) {
        uint8_t *b = malloc(cut ? cut : 1), *o;
        size_t n;
        memcpy(b, x.b, cut);
        int rc = mf_img_exif_clean(b, cut, &o, &n);
        assert_true(rc == MF_OK || rc == MF_ERR_FORMAT);
        if (rc == MF_OK) {
            assert_true(n <= cut);
            free(o);
        }
        free(b);
    }
    /* IFD1 pointing at IFD0, thumbnail offsets and sizes past the end, huge counts: no crash */
    make_exif(&x, 1, 6, 1);
    put32(x.b + 8 + 38, 8, 1);
    uint8_t *o;
    size_t n;
    assert_int_equal(mf_img_exif_clean(x.b, x.len, &o, &n), MF_OK);
    free(o);
    make_exif(&x, 1, 6, 1);
    entry(x.b + x.ifd1 + 14, 0x0201, 4, 1, 0xfffffff0u, 1);
    entry(x.b + x.ifd1 + 26, 0x0202, 4, 1, 0xffffffffu, 1);
    entry(x.b + 8 + 2, 0x010F, 2, 0xffffffffu, 12, 1);
    assert_int_equal(mf_img_exif_clean(x.b, x.len, &o, &n), MF_OK);
    free(o);
}

/* The anonymizer's path: a sideways JPEG with EXIF (orientation 6, thumbnail) and ICC decodes upright; the
 * cleaned EXIF and the ICC written with the upright pixels decode again without a further turn. */
static void test_upright_output_keeps_icc(void **state) {
    (void)state;
    mf_img img, up, again;
    make_img(&img, 30, 20, 3);
    exif_blob x;
    make_exif(&x, 0, 6, 1);
    uint8_t *icc = make_icc(1000);
    mf_img_meta in = {.icc = icc, .icc_len = 1000, .exif = x.b, .exif_len = x.len};
    uint8_t *buf;
    size_t len;
    assert_int_equal(mf_img_encode(&img, MF_IMG_FORMAT_JPEG, 95, &in, &buf, &len), MF_OK);
    mf_img_meta m;
    mf_img_info info;
    assert_int_equal(mf_img_decode_meta(buf, len, NULL, &up, &info, &m), MF_OK);
    free(buf);
    assert_int_equal(info.orientation, 6);
    assert_int_equal(up.w, 20);
    assert_int_equal(up.h, 30);
    assert_int_equal(m.exif_len, x.len); /* as stored, thumbnail included */
    uint8_t *clean;
    size_t clean_len;
    assert_int_equal(mf_img_exif_clean(m.exif, m.exif_len, &clean, &clean_len), MF_OK);
    mf_img_meta keep = {.icc = m.icc, .icc_len = m.icc_len, .exif = clean, .exif_len = clean_len};
    char path[] = "/tmp/mfmc-meta-XXXXXX.png";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mf_img_save_meta(&up, path, 0, &keep), MF_OK);
    mf_img_meta m2;
    assert_int_equal(mf_img_load_meta(path, NULL, &again, &info, &m2), MF_OK);
    unlink(path);
    assert_int_equal(again.w, 20);
    assert_int_equal(again.h, 30);
    assert_memory_equal(again.data, up.data, (size_t)20 * 30 * 3);
    assert_int_equal(m2.icc_len, 1000);
    assert_memory_equal(m2.icc, icc, 1000);
    assert_int_equal(m2.exif_len, clean_len);
    assert_false(contains(m2.exif, m2.exif_len, "SECRET", 6));
    assert_int_equal(mf_img_format_from_path("a/b.c/x.JPeG"), MF_IMG_FORMAT_JPEG);
    assert_int_equal(mf_img_format_from_path("a.webp/x"), MF_IMG_FORMAT_UNKNOWN);
    mf_img_meta_free(&m2);
    mf_img_meta_free(&m);
    free(clean);
    free(icc);
    mf_img_free(&again);
    mf_img_free(&up);
    mf_img_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_icc_exif),
        cmocka_unit_test(test_encoders_write_nothing_else),
        cmocka_unit_test(test_exif_clean),
        cmocka_unit_test(test_exif_clean_hostile),
        cmocka_unit_test(test_upright_output_keeps_icc),
    };
    return cmocka_run_group_tests_name("image metadata", tests, NULL, NULL);
}
