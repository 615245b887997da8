/* Image module: codec round trips, hostile inputs (truncated, corrupt, empty, oversize headers, text named .jpg),
 * EXIF orientation 1..8 in both byte orders, PNG/JPEG variants made with the codec libraries directly, and the
 * resamplers against naive double-precision references. All images are generated here; the real photos in
 * ../shared/data are decoded when present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jpeglib.h>
#include <png.h>

#include "image/internal.h"
#include "lib/testutil.h"
#include "mfmc/image.h"

/* ---- allocation watch (release build only) ----
 * The oversize-header tests must show that no pixel buffer is even requested. glibc lets a program replace
 * malloc; these forwarders record the largest single request. Sanitizer builds own malloc, so there the
 * check is skipped (the status and timing checks still run). */
#if defined(__SANITIZE_ADDRESS__)
#define WATCH_ALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WATCH_ALLOC 0
#endif
#endif
#ifndef WATCH_ALLOC
#define WATCH_ALLOC 1
#endif

#if WATCH_ALLOC
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static size_t biggest_alloc;
static void note_alloc(size_t n) {
    if (n > biggest_alloc) biggest_alloc = n;
}
void *malloc(size_t n) {
    note_alloc(n);
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    size_t n;
    note_alloc(__builtin_mul_overflow(a, b, &n) ? SIZE_MAX : n);
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    note_alloc(n);
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
#endif

/* ---- helpers ---- */

static uint64_t rng = 88172645463325252ull;
static unsigned urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 32);
}

static char tmpdir[64];

static void make_img(mf_img *img, int w, int h, int c) { assert_int_equal(mf_img_init(img, w, h, c), MF_OK); }

static void fill_random(mf_img *img) {
    size_t n = (size_t)img->w * img->h * img->c;
    for (size_t i = 0; i < n; i++)
        img->data[i] = (uint8_t)urand();
}

/* Smooth content that lossy codecs keep close. */
static void fill_smooth(mf_img *img) {
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++)
            for (int k = 0; k < img->c; k++)
                img->data[((size_t)y * img->w + x) * img->c + k] =
                    (uint8_t)(128 + 100 * sin(0.05 * x * (k + 1) + 0.03 * y) * cos(0.04 * y));
}

static uint8_t *px(const mf_img *img, int x, int y) { return img->data + ((size_t)y * img->w + x) * img->c; }

static double mean_abs_diff(const mf_img *a, const mf_img *b) {
    assert_int_equal(a->w, b->w);
    assert_int_equal(a->h, b->h);
    assert_int_equal(a->c, b->c);
    size_t n = (size_t)a->w * a->h * a->c;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += abs((int)a->data[i] - (int)b->data[i]);
    return s / (double)n;
}

static void assert_same_img(const mf_img *a, const mf_img *b) {
    assert_int_equal(a->w, b->w);
    assert_int_equal(a->h, b->h);
    assert_int_equal(a->c, b->c);
    assert_memory_equal(a->data, b->data, (size_t)a->w * a->h * a->c);
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void tmp_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", tmpdir, name); }

static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Signature + IHDR(w, h, 8-bit RGB) + IEND, CRCs correct: a header-only PNG. */
static size_t png_header_only(uint8_t *b, uint32_t w, uint32_t h) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(b, sig, 8);
    put_be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    put_be32(b + 16, w);
    put_be32(b + 20, h);
    b[24] = 8, b[25] = 2, b[26] = 0, b[27] = 0, b[28] = 0;
    put_be32(b + 29, crc32_png(b + 12, 17));
    put_be32(b + 33, 0);
    memcpy(b + 37, "IEND", 4);
    put_be32(b + 41, crc32_png(b + 37, 4));
    return 45;
}

/* Offset of the first JPEG marker `m` (after SOI), walking segment lengths. */
static size_t jpeg_find_marker(const uint8_t *b, size_t len, uint8_t m) {
    size_t p = 2;
    while (p + 4 <= len && b[p] == 0xff) {
        if (b[p + 1] == m) return p;
        if (b[p + 1] == 0xda) break;
        p += 2 + ((size_t)b[p + 2] << 8 | b[p + 3]);
    }
    fail_msg("marker %02x not found", m);
    return 0;
}

/* ---- libjpeg / libpng writers for variants our encoders do not produce ---- */

/* mode: 0 baseline, 1 progressive, 2 baseline with a restart marker after every MCU row */
static void jpeg_make(const uint8_t *pix, int w, int h, int comps, J_COLOR_SPACE cs, int mode, uint8_t **out,
                      size_t *len) {
    struct jpeg_compress_struct cc;
    struct jpeg_error_mgr jerr;
    cc.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cc);
    unsigned long ul = 0;
    *out = NULL;
    jpeg_mem_dest(&cc, out, &ul);
    cc.image_width = (JDIMENSION)w;
    cc.image_height = (JDIMENSION)h;
    cc.input_components = comps;
    cc.in_color_space = cs;
    jpeg_set_defaults(&cc);
    jpeg_set_quality(&cc, 95, TRUE);
    if (mode == 1) jpeg_simple_progression(&cc);
    if (mode == 2) cc.restart_in_rows = 1;
    jpeg_start_compress(&cc, TRUE);
    while (cc.next_scanline < cc.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + (size_t)cc.next_scanline * w * comps);
        jpeg_write_scanlines(&cc, &row, 1);
    }
    jpeg_finish_compress(&cc);
    jpeg_destroy_compress(&cc);
    *len = ul;
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} membuf;

static void membuf_write(png_structp png, png_bytep p, size_t n) {
    membuf *m = png_get_io_ptr(png);
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->buf = realloc(m->buf, m->cap);
        assert_non_null(m->buf);
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
}
static void membuf_flush(png_structp png) { (void)png; }

/* Packs rows of `bits`-bit samples already laid out by the caller; rows are (w * channels * bits + 7) / 8 bytes. */
static membuf png_make(int w, int h, int ctype, int bits, int interlace, const uint8_t *rows, const png_color *pal,
                       int npal, const png_byte *trans, int ntrans, const png_color_16 *trans_col) {
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop pi = png_create_info_struct(png);
    assert_non_null(pi);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng write failed");
    png_set_write_fn(png, &m, membuf_write, membuf_flush);
    png_set_IHDR(png, pi, (png_uint_32)w, (png_uint_32)h, bits, ctype, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, pi, pal, npal);
    if (trans || trans_col) png_set_tRNS(png, pi, trans, ntrans, trans_col);
    png_write_info(png, pi);
    png_set_interlace_handling(png);
    size_t rb = png_get_rowbytes(png, pi);
    png_bytep *rp = malloc(sizeof(png_bytep) * (size_t)h);
    for (int y = 0; y < h; y++)
        rp[y] = (png_bytep)(rows + (size_t)y * rb);
    png_write_image(png, rp);
    png_write_end(png, pi);
    free(rp);
    png_destroy_write_struct(&png, &pi);
    return m;
}

/* ---- basics ---- */

static void test_init_free(void **state) {
    (void)state;
    mf_img img;
    assert_int_equal(mf_img_init(&img, 0, 5, 3), MF_ERR_ARG);
    assert_null(img.data);
    assert_int_equal(mf_img_init(&img, 5, 5, 2), MF_ERR_ARG);
    assert_int_equal(mf_img_init(&img, 70000, 5, 3), MF_ERR_LIMIT);
    assert_int_equal(mf_img_init(&img, 7, 5, 4), MF_OK);
    assert_int_equal(img.w * img.h * img.c, 140);
    for (int i = 0; i < 140; i++)
        assert_int_equal(img.data[i], 0);
    mf_img_free(&img);
    assert_null(img.data);
    mf_img_free(&img); /* twice is fine */
    mf_img_free(NULL);
}

static void test_format_detect(void **state) {
    (void)state;
    static const uint8_t jpg[] = {0xff, 0xd8, 0xff, 0xe0};
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const uint8_t webp[] = "RIFF\x10\0\0\0WEBPVP8 ";
    assert_int_equal(mf_img_format_detect(jpg, sizeof jpg), MF_IMG_FORMAT_JPEG);
    assert_int_equal(mf_img_format_detect(png, sizeof png), MF_IMG_FORMAT_PNG);
    assert_int_equal(mf_img_format_detect(webp, 16), MF_IMG_FORMAT_WEBP);
    assert_int_equal(mf_img_format_detect(png, 7), MF_IMG_FORMAT_UNKNOWN);
    assert_int_equal(mf_img_format_detect((const uint8_t *)"GIF89a", 6), MF_IMG_FORMAT_UNKNOWN);
    assert_int_equal(mf_img_format_detect(NULL, 0), MF_IMG_FORMAT_UNKNOWN);
}

/* ---- round trips ---- */

static void test_roundtrip_png(void **state) {
    (void)state;
    for (int c = 1; c <= 4; c++) {
        if (c == 2) continue;
        mf_img src, dec;
        make_img(&src, 37, 23, c);
        fill_random(&src);
        if (c == 4)
            for (int i = 0; i < 37 * 23; i++)
                src.data[4 * i + 3] = 255; /* opaque: must survive exactly */
        uint8_t *buf;
        size_t len;
        assert_int_equal(mf_img_encode_png(&src, &buf, &len), MF_OK);
        mf_img_info info;
        assert_int_equal(mf_img_decode(buf, len, NULL, &dec, &info), MF_OK);
        assert_int_equal(info.format, MF_IMG_FORMAT_PNG);
        assert_int_equal(info.orientation, 1);
        assert_int_equal(info.alpha_composited, c == 4);
        assert_int_equal(dec.c, 3);
        assert_int_equal(dec.w, 37);
        assert_int_equal(dec.h, 23);
        for (int i = 0; i < 37 * 23; i++)
            for (int k = 0; k < 3; k++)
                assert_int_equal(dec.data[3 * i + k], src.data[c * i + (c == 1 ? 0 : k)]);
        free(buf);
        mf_img_free(&src);
        mf_img_free(&dec);
    }
}

static void test_alpha_composited_over_white(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 4, 1, 4);
    const uint8_t rgba[16] = {200, 100, 0, 255, 200, 100, 0, 0, 200, 100, 0, 128, 0, 0, 0, 51};
    memcpy(src.data, rgba, 16);
    uint8_t *buf;
    size_t len;
    for (int fmt = 0; fmt < 2; fmt++) {
        if (fmt == 0)
            assert_int_equal(mf_img_encode_png(&src, &buf, &len), MF_OK);
        else
            assert_int_equal(mf_img_encode_webp(&src, MF_IMG_QUALITY_LOSSLESS, &buf, &len), MF_OK);
        mf_img_info info;
        assert_int_equal(mf_img_decode(buf, len, NULL, &dec, &info), MF_OK);
        assert_int_equal(info.alpha_composited, 1);
        const uint8_t want[12] = {200, 100, 0, 255, 255, 255, /* a=128 */ 227, 177, 127, /* black, a=51 */ 204,
                                  204, 204};
        assert_memory_equal(dec.data, want, 12);
        free(buf);
        mf_img_free(&dec);
    }
    mf_img_free(&src);
}

static void test_roundtrip_jpeg(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 64, 48, 3);
    fill_smooth(&src);
    const int qualities[] = {75, 95};
    for (int qi = 0; qi < 2; qi++) {
        uint8_t *buf;
        size_t len;
        assert_int_equal(mf_img_encode_jpeg(&src, qualities[qi], &buf, &len), MF_OK);
        mf_img_info info;
        assert_int_equal(mf_img_decode(buf, len, NULL, &dec, &info), MF_OK);
        assert_int_equal(info.format, MF_IMG_FORMAT_JPEG);
        double d = mean_abs_diff(&src, &dec);
        assert_true(d < (qi ? 1.5 : 3.0));
        free(buf);
        mf_img_free(&dec);
    }
    /* grey and RGBA input */
    mf_img g;
    make_img(&g, 16, 16, 1);
    fill_smooth(&g);
    uint8_t *buf;
    size_t len;
    assert_int_equal(mf_img_encode_jpeg(&g, 90, &buf, &len), MF_OK);
    assert_int_equal(mf_img_decode(buf, len, NULL, &dec, NULL), MF_OK);
    for (int i = 0; i < 256; i++) {
        assert_int_equal(dec.data[3 * i], dec.data[3 * i + 1]);
        assert_true(abs((int)dec.data[3 * i] - (int)g.data[i]) <= 3);
    }
    free(buf);
    mf_img_free(&dec);
    mf_img_free(&g);
    assert_int_equal(mf_img_encode_jpeg(&src, 0, &buf, &len), MF_ERR_ARG);
    assert_null(buf);
    assert_int_equal(mf_img_encode_jpeg(&src, 101, &buf, &len), MF_ERR_ARG);
    mf_img_free(&src);
}

static void test_roundtrip_webp(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 50, 30, 3);
    fill_random(&src);
    uint8_t *buf;
    size_t len;
    assert_int_equal(mf_img_encode_webp(&src, MF_IMG_QUALITY_LOSSLESS, &buf, &len), MF_OK);
    mf_img_info info;
    assert_int_equal(mf_img_decode(buf, len, NULL, &dec, &info), MF_OK);
    assert_int_equal(info.format, MF_IMG_FORMAT_WEBP);
    assert_int_equal(info.alpha_composited, 0);
    assert_same_img(&src, &dec);
    free(buf);
    mf_img_free(&dec);

    fill_smooth(&src);
    assert_int_equal(mf_img_encode_webp(&src, 90, &buf, &len), MF_OK);
    assert_int_equal(mf_img_decode(buf, len, NULL, &dec, NULL), MF_OK);
    assert_true(mean_abs_diff(&src, &dec) < 4.0);
    free(buf);
    mf_img_free(&dec);
    mf_img_free(&src);
}

static void test_save_load(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 40, 24, 3);
    fill_smooth(&src);
    const char *names[] = {"a.png", "b.jpg", "c.JPEG", "d.webp"};
    const mf_img_format fmts[] = {MF_IMG_FORMAT_PNG, MF_IMG_FORMAT_JPEG, MF_IMG_FORMAT_JPEG, MF_IMG_FORMAT_WEBP};
    char path[256];
    for (int i = 0; i < 4; i++) {
        tmp_path(path, sizeof path, names[i]);
        assert_int_equal(mf_img_save(&src, path, 95), MF_OK);
        mf_img_info info;
        assert_int_equal(mf_img_load(path, NULL, &dec, &info), MF_OK);
        assert_int_equal(info.format, fmts[i]);
        assert_true(mean_abs_diff(&src, &dec) < (i == 0 ? 0.001 : 3.0));
        mf_img_free(&dec);
        unlink(path);
    }
    tmp_path(path, sizeof path, "e.gif");
    assert_int_equal(mf_img_save(&src, path, 95), MF_ERR_UNSUPPORTED);
    assert_non_null(strstr(mf_error_get(), "extension"));
    assert_int_equal(mf_img_save(&src, "/nonexistent-dir/x.png", 95), MF_ERR_IO);
    assert_int_equal(mf_img_load("/nonexistent-dir/x.png", NULL, &dec, NULL), MF_ERR_IO);
    assert_null(dec.data);
    mf_img_free(&src);
}

/* ---- EXIF orientation ---- */

/* APP1 segment carrying an IFD0 with a Make tag (as a decoy) and then Orientation. */
static size_t exif_segment(uint8_t *s, int orientation, int little) {
    uint8_t t[64];
    size_t n = 0;
#define W16(v)                                                                                                         \
    (little ? (t[n] = (uint8_t)(v), t[n + 1] = (uint8_t)((v) >> 8))                                                    \
            : (t[n] = (uint8_t)((v) >> 8), t[n + 1] = (uint8_t)(v)),                                                   \
     n += 2)
#define W32(v) (little ? (W16((v)&0xffff), W16((uint32_t)(v) >> 16)) : (W16((uint32_t)(v) >> 16), W16((v)&0xffff)))
    t[n++] = little ? 'I' : 'M';
    t[n++] = little ? 'I' : 'M';
    W16(42);
    W32(8);
    W16(2);              /* two entries */
    W16(0x010f), W16(2); /* Make, ASCII */
    W32(4), memcpy(t + n, "abc", 4), n += 4;
    W16(0x0112), W16(3); /* Orientation, SHORT */
    W32(1), W16(orientation), W16(0);
    W32(0); /* no next IFD */
#undef W16
#undef W32
    size_t seg = 2 + 6 + n;
    s[0] = 0xff, s[1] = 0xe1, s[2] = (uint8_t)(seg >> 8), s[3] = (uint8_t)seg;
    memcpy(s + 4, "Exif\0\0", 6);
    memcpy(s + 10, t, n);
    return 2 + seg;
}

static void test_exif_orientations(void **state) {
    (void)state;
    /* 48x32 stored image, four flat quadrants aligned to 8x8 blocks so JPEG keeps them clean */
    enum { W = 48, H = 32 };
    static const uint8_t colour[4][3] = {{220, 20, 20}, {20, 200, 20}, {20, 20, 220}, {240, 240, 240}};
    enum { TL, TR, BL, BR };
    mf_img src;
    make_img(&src, W, H, 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            memcpy(px(&src, x, y), colour[(y >= H / 2) * 2 + (x >= W / 2)], 3);
    uint8_t *jpg;
    size_t jlen;
    assert_int_equal(mf_img_encode_jpeg(&src, 100, &jpg, &jlen), MF_OK);
    /* Which stored quadrant shows at display TL, TR, BL, BR for each orientation (EXIF 2.3, tag 0x0112). */
    static const int shows[9][4] = {
        {0},
        {TL, TR, BL, BR}, /* 1 */
        {TR, TL, BR, BL}, /* 2 mirror */
        {BR, BL, TR, TL}, /* 3 rotate 180 */
        {BL, BR, TL, TR}, /* 4 flip */
        {TL, BL, TR, BR}, /* 5 transpose */
        {BL, TL, BR, TR}, /* 6 rotate 90 cw */
        {BR, TR, BL, TL}, /* 7 transverse */
        {TR, BR, TL, BL}, /* 8 rotate 90 ccw */
    };
    uint8_t *buf = malloc(jlen + 128);
    for (int little = 0; little <= 1; little++) {
        for (int o = 1; o <= 8; o++) {
            size_t sl = exif_segment(buf + 2, o, little);
            memcpy(buf, jpg, 2);
            memcpy(buf + 2 + sl, jpg + 2, jlen - 2);
            mf_img dec;
            mf_img_info info;
            assert_int_equal(mf_img_decode(buf, jlen + sl, NULL, &dec, &info), MF_OK);
            assert_int_equal(info.orientation, o);
            assert_int_equal(info.stored_w, W);
            assert_int_equal(info.stored_h, H);
            int dw = o >= 5 ? H : W, dh = o >= 5 ? W : H;
            assert_int_equal(dec.w, dw);
            assert_int_equal(dec.h, dh);
            const int probe[4][2] = {
                {dw / 4, dh / 4}, {3 * dw / 4, dh / 4}, {dw / 4, 3 * dh / 4}, {3 * dw / 4, 3 * dh / 4}};
            for (int q = 0; q < 4; q++)
                for (int k = 0; k < 3; k++) {
                    int got = px(&dec, probe[q][0], probe[q][1])[k], want = colour[shows[o][q]][k];
                    if (abs(got - want) > 8)
                        fail_msg("orientation %d (%s): display quadrant %d channel %d is %d, want %d", o,
                                 little ? "II" : "MM", q, k, got, want);
                }
            mf_img_free(&dec);
        }
    }
    free(buf);
    free(jpg);
    mf_img_free(&src);
}

static void test_exif_parser_hostile(void **state) {
    (void)state;
    uint8_t seg[128];
    size_t sl = exif_segment(seg, 6, 1);
    const uint8_t *payload = seg + 4;
    size_t plen = sl - 4;
    assert_int_equal(mf_img_exif_orientation(payload, plen), 6);
    /* Every truncation: never read out of bounds (ASan), never a bogus value. */
    for (size_t n = 0; n < plen; n++) {
        uint8_t *cut = malloc(n ? n : 1); /* exact size so ASan sees any overread */
        memcpy(cut, payload, n);
        int o = mf_img_exif_orientation(cut, n);
        assert_true(o == 1 || (o == 6 && n >= plen - 4));
        free(cut);
    }
    uint8_t bad[128];
    memcpy(bad, payload, plen);
    bad[6 + 4] = 0xf0; /* IFD offset far past the end */
    assert_int_equal(mf_img_exif_orientation(bad, plen), 1);
    memcpy(bad, payload, plen);
    bad[6 + 8] = 0xff, bad[6 + 9] = 0xff; /* 65535 entries: the ones inside the data are still read */
    assert_int_equal(mf_img_exif_orientation(bad, plen), 6);
    bad[6 + 22] = 0x13; /* ...and without an orientation tag the walk stops at the end of the data */
    assert_int_equal(mf_img_exif_orientation(bad, plen), 1);
    memcpy(bad, payload, plen);
    bad[6 + 2 + 8 + 12 + 2] = 1; /* orientation type BYTE: ignored */
    assert_int_equal(mf_img_exif_orientation(bad, plen), 1);
    sl = exif_segment(seg, 9, 0); /* out of range value */
    assert_int_equal(mf_img_exif_orientation(seg + 4, sl - 4), 1);
    assert_int_equal(mf_img_exif_orientation((const uint8_t *)"Exif\0\0XX", 8), 1);
    assert_int_equal(mf_img_exif_orientation(NULL, 0), 1);
}

/* ---- hostile inputs ---- */

static void test_truncated_jpeg(void **state) {
    (void)state;
    static const char *const mode_name[3] = {"baseline", "progressive", "restart-marker"};
    mf_img src, dec;
    make_img(&src, 64, 64, 3);
    fill_smooth(&src);
    for (int mode = 0; mode < 3; mode++) {
        uint8_t *jpg;
        size_t len;
        jpeg_make(src.data, 64, 64, 3, JCS_RGB, mode, &jpg, &len);
        assert_int_equal(mf_img_decode(jpg, len, NULL, &dec, NULL), MF_OK);
        assert_true(mean_abs_diff(&src, &dec) < 2.0);
        mf_img_free(&dec);
        /* Every cut that loses entropy-coded data must fail; libjpeg alone would return grey-filled pixels. */
        for (size_t cut = 1; cut + 2 < len; cut += (cut < 700 ? 1 : 7)) {
            uint8_t *b = malloc(cut);
            memcpy(b, jpg, cut);
            int rc = mf_img_decode(b, cut, NULL, &dec, NULL);
            if (rc != MF_ERR_FORMAT)
                fail_msg("%s JPEG cut to %zu of %zu bytes: status %d, want format error", mode_name[mode], cut, len,
                         rc);
            assert_null(dec.data);
            free(b);
        }
        assert_int_equal(mf_img_decode(jpg, len / 2, NULL, &dec, NULL), MF_ERR_FORMAT);
        assert_non_null(strstr(mf_error_get(), "JPEG"));
        if (mode == 0) print_message("      truncated JPEG: %s\n", mf_error_get());
        /* Only the final EOI marker missing: a single-scan image is complete and accepted; a progressive one
         * cannot be told apart from a cut between scans. */
        assert_int_equal(mf_img_decode(jpg, len - 2, NULL, &dec, NULL), mode == 1 ? MF_ERR_FORMAT : MF_OK);
        mf_img_free(&dec);
        free(jpg);
    }
    mf_img_free(&src);
}

static void test_corrupt_jpeg(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 64, 64, 3);
    fill_smooth(&src);
    uint8_t *jpg;
    size_t len;
    assert_int_equal(mf_img_encode_jpeg(&src, 90, &jpg, &len), MF_OK);
    /* a marker in the middle of the entropy-coded data */
    size_t sos = jpeg_find_marker(jpg, len, 0xda);
    size_t mid = sos + (len - sos) / 2;
    jpg[mid] = 0xff;
    jpg[mid + 1] = 0xd9;
    assert_int_equal(mf_img_decode(jpg, len, NULL, &dec, NULL), MF_ERR_FORMAT);
    assert_null(dec.data);
    /* SOF claims zero width */
    free(jpg);
    assert_int_equal(mf_img_encode_jpeg(&src, 90, &jpg, &len), MF_OK);
    size_t sof = jpeg_find_marker(jpg, len, 0xc0);
    jpg[sof + 7] = 0, jpg[sof + 8] = 0;
    assert_int_equal(mf_img_decode(jpg, len, NULL, &dec, NULL), MF_ERR_FORMAT);
    print_message("      zero-width JPEG: %s\n", mf_error_get());
    free(jpg);
    /* garbage after the SOI */
    uint8_t junk[64] = {0xff, 0xd8, 0xff};
    for (int i = 3; i < 64; i++)
        junk[i] = (uint8_t)(i * 37);
    assert_int_equal(mf_img_decode(junk, sizeof junk, NULL, &dec, NULL), MF_ERR_FORMAT);
    mf_img_free(&src);
}

static void test_truncated_and_corrupt_png(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 40, 30, 3);
    fill_random(&src);
    uint8_t *png;
    size_t len;
    assert_int_equal(mf_img_encode_png(&src, &png, &len), MF_OK);
    /* end of the last IDAT chunk (including CRC) */
    size_t p = 8, idat_end = 0;
    while (p + 12 <= len) {
        size_t n = (size_t)png[p] << 24 | png[p + 1] << 16 | png[p + 2] << 8 | png[p + 3];
        if (memcmp(png + p + 4, "IDAT", 4) == 0) idat_end = p + 12 + n;
        p += 12 + n;
    }
    assert_true(idat_end > 0 && idat_end < len);
    for (size_t cut = 1; cut < idat_end; cut += (cut < 100 ? 1 : 13)) {
        uint8_t *b = malloc(cut);
        memcpy(b, png, cut);
        int rc = mf_img_decode(b, cut, NULL, &dec, NULL);
        if (rc != MF_ERR_FORMAT) fail_msg("PNG cut to %zu of %zu bytes: status %d", cut, len, rc);
        free(b);
    }
    assert_int_equal(mf_img_decode(png, len - 10, NULL, &dec, NULL), MF_OK); /* IEND lost: pixels complete */
    mf_img_free(&dec);
    /* one flipped bit in the compressed data: CRC mismatch */
    png[idat_end - 20] ^= 0x10;
    assert_int_equal(mf_img_decode(png, len, NULL, &dec, NULL), MF_ERR_FORMAT);
    assert_non_null(strstr(mf_error_get(), "PNG"));
    print_message("      corrupt PNG: %s\n", mf_error_get());
    assert_null(dec.data);
    free(png);
    mf_img_free(&src);
}

static void test_zero_size_png(void **state) {
    (void)state;
    uint8_t b[64];
    mf_img dec;
    const uint32_t dims[3][2] = {{0, 0}, {0, 10}, {10, 0}};
    for (int i = 0; i < 3; i++) {
        size_t n = png_header_only(b, dims[i][0], dims[i][1]);
        assert_int_equal(mf_img_decode(b, n, NULL, &dec, NULL), MF_ERR_FORMAT);
        assert_non_null(strstr(mf_error_get(), "zero"));
        assert_null(dec.data);
    }
    /* a valid 10x10 header with no IDAT at all */
    size_t n = png_header_only(b, 10, 10);
    assert_int_equal(mf_img_decode(b, n, NULL, &dec, NULL), MF_ERR_FORMAT);
}

static void check_refused_fast(const uint8_t *b, size_t n, const char *what) {
    mf_img dec;
    mf_img_info info;
#if WATCH_ALLOC
    biggest_alloc = 0;
#endif
    double t0 = tu_clock_ms(CLOCK_MONOTONIC) / 1e3;
    int rc = mf_img_decode(b, n, NULL, &dec, &info);
    double dt = tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t0;
    if (rc != MF_ERR_LIMIT) fail_msg("%s: status %d (%s), want limit", what, rc, mf_error_get());
    assert_null(dec.data);
    assert_true(dt < 0.5);
#if WATCH_ALLOC
    if (biggest_alloc > (1u << 20)) fail_msg("%s: allocated %zu bytes before refusing", what, biggest_alloc);
#endif
    print_message("      %s: %s (%.1f ms)\n", what, mf_error_get(), dt * 1e3);
}

static void test_oversize_headers(void **state) {
    (void)state;
    uint8_t b[64];
#if WATCH_ALLOC
    { /* the watch sees pixel buffers of ordinary decodes */
        mf_img im, dec;
        make_img(&im, 64, 64, 3);
        uint8_t *png;
        size_t len;
        assert_int_equal(mf_img_encode_png(&im, &png, &len), MF_OK);
        biggest_alloc = 0;
        assert_int_equal(mf_img_decode(png, len, NULL, &dec, NULL), MF_OK);
        assert_true(biggest_alloc >= 64 * 64 * 3);
        mf_img_free(&dec);
        mf_img_free(&im);
        free(png);
    }
#endif
    size_t n = png_header_only(b, 40000, 40000);
    check_refused_fast(b, n, "PNG 40000x40000");
    n = png_header_only(b, 20000, 100); /* one side over 16384 */
    check_refused_fast(b, n, "PNG 20000x100");
    n = png_header_only(b, 0x7fffffff, 0x7fffffff);
    check_refused_fast(b, n, "PNG 2^31x2^31");

    mf_img src;
    make_img(&src, 16, 16, 3);
    fill_smooth(&src);
    uint8_t *jpg;
    size_t len;
    assert_int_equal(mf_img_encode_jpeg(&src, 80, &jpg, &len), MF_OK);
    size_t sof = jpeg_find_marker(jpg, len, 0xc0);
    jpg[sof + 5] = 40000 >> 8, jpg[sof + 6] = 40000 & 0xff; /* height */
    jpg[sof + 7] = 40000 >> 8, jpg[sof + 8] = 40000 & 0xff; /* width */
    check_refused_fast(jpg, len, "JPEG 40000x40000");
    jpg[sof + 5] = 12000 >> 8, jpg[sof + 6] = 12000 & 0xff;
    jpg[sof + 7] = 12000 >> 8, jpg[sof + 8] = 12000 & 0xff; /* 144 MP: only the pixel cap */
    check_refused_fast(jpg, len, "JPEG 12000x12000");
    free(jpg);

    uint8_t *webp;
    assert_int_equal(mf_img_encode_webp(&src, 80, &webp, &len), MF_OK);
    assert_memory_equal(webp + 12, "VP8 ", 4);
    assert_int_equal(webp[23], 0x9d); /* frame start code at 23..25, then 14-bit width and height */
    webp[26] = 16000 & 0xff, webp[27] = 16000 >> 8;
    webp[28] = 16000 & 0xff, webp[29] = 16000 >> 8;
    check_refused_fast(webp, len, "WebP 16000x16000");
    free(webp);
    mf_img_free(&src);
}

static void test_limits(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 100, 50, 3);
    fill_smooth(&src);
    uint8_t *buf;
    size_t len;
    assert_int_equal(mf_img_encode_png(&src, &buf, &len), MF_OK);
    mf_img_limits lim = {.max_side = 99};
    assert_int_equal(mf_img_decode(buf, len, &lim, &dec, NULL), MF_ERR_LIMIT);
    lim = (mf_img_limits){.max_pixels = 4999};
    assert_int_equal(mf_img_decode(buf, len, &lim, &dec, NULL), MF_ERR_LIMIT);
    lim = (mf_img_limits){.max_pixels = 5000, .max_side = 100};
    assert_int_equal(mf_img_decode(buf, len, &lim, &dec, NULL), MF_OK);
    mf_img_free(&dec);
    lim = (mf_img_limits){.max_bytes = len - 1};
    assert_int_equal(mf_img_decode(buf, len, &lim, &dec, NULL), MF_ERR_LIMIT);
    char path[256];
    tmp_path(path, sizeof path, "lim.png");
    write_file(path, buf, len);
    assert_int_equal(mf_img_load(path, &lim, &dec, NULL), MF_ERR_LIMIT);
    lim.max_bytes = len;
    assert_int_equal(mf_img_load(path, &lim, &dec, NULL), MF_OK);
    mf_img_free(&dec);
    unlink(path);
    free(buf);
    mf_img_free(&src);
}

static void test_not_an_image(void **state) {
    (void)state;
    char path[256];
    mf_img dec;
    tmp_path(path, sizeof path, "notes.jpg");
    const char *text = "This is a text file that someone named .jpg\n";
    write_file(path, text, strlen(text));
    assert_int_equal(mf_img_load(path, NULL, &dec, NULL), MF_ERR_FORMAT);
    assert_null(dec.data);
    assert_non_null(strstr(mf_error_get(), "notes.jpg"));
    assert_non_null(strstr(mf_error_get(), "not a JPEG, PNG or WebP"));
    print_message("      text file: %s\n", mf_error_get());
    unlink(path);

    tmp_path(path, sizeof path, "empty.png");
    write_file(path, "", 0);
    assert_int_equal(mf_img_load(path, NULL, &dec, NULL), MF_ERR_FORMAT);
    assert_non_null(strstr(mf_error_get(), "empty"));
    unlink(path);
    assert_int_equal(mf_img_decode(NULL, 0, NULL, &dec, NULL), MF_ERR_FORMAT);

    static const uint8_t riff[] = "RIFF\x04\0\0\0WEBPVP8 \0\0\0\0";
    assert_int_equal(mf_img_decode(riff, sizeof riff - 1, NULL, &dec, NULL), MF_ERR_FORMAT);
    static const uint8_t png_sig_only[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_int_equal(mf_img_decode(png_sig_only, 8, NULL, &dec, NULL), MF_ERR_FORMAT);
    static const uint8_t soi[3] = {0xff, 0xd8, 0xff};
    assert_int_equal(mf_img_decode(soi, 3, NULL, &dec, NULL), MF_ERR_FORMAT);
}

static void test_truncated_webp(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 64, 40, 3);
    fill_smooth(&src);
    for (int lossless = 0; lossless <= 1; lossless++) {
        uint8_t *buf;
        size_t len;
        assert_int_equal(mf_img_encode_webp(&src, lossless ? MF_IMG_QUALITY_LOSSLESS : 80, &buf, &len), MF_OK);
        for (size_t cut = 1; cut < len; cut += (cut < 64 ? 1 : 5)) {
            int rc = mf_img_decode(buf, cut, NULL, &dec, NULL);
            if (rc != MF_ERR_FORMAT) fail_msg("WebP cut to %zu of %zu: status %d", cut, len, rc);
        }
        free(buf);
    }
    mf_img_free(&src);
}

/* ---- format variants made with the libraries directly ---- */

static void test_png_variants(void **state) {
    (void)state;
    enum { W = 13, H = 11 }; /* odd sizes exercise bit packing and Adam7 passes */
    uint8_t rows[H * W * 8];
    mf_img dec;
    for (int interlace = 0; interlace <= 1; interlace++) {
        int il = interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE;
        /* grey 1-bit */
        memset(rows, 0, sizeof rows);
        int rb = (W + 7) / 8;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                if ((x + y) % 3 == 0) rows[y * rb + x / 8] |= (uint8_t)(0x80 >> (x % 8));
        membuf m = png_make(W, H, PNG_COLOR_TYPE_GRAY, 1, il, rows, NULL, 0, NULL, 0, NULL);
        assert_int_equal(mf_img_decode(m.buf, m.len, NULL, &dec, NULL), MF_OK);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int k = 0; k < 3; k++)
                    assert_int_equal(px(&dec, x, y)[k], (x + y) % 3 == 0 ? 255 : 0);
        mf_img_free(&dec);
        free(m.buf);

        /* RGB 16-bit: v * 257 scales back to v exactly */
        for (int i = 0; i < W * H * 3; i++) {
            unsigned v = (unsigned)(i * 7) & 255;
            rows[2 * i] = (uint8_t)v, rows[2 * i + 1] = (uint8_t)v;
        }
        m = png_make(W, H, PNG_COLOR_TYPE_RGB, 16, il, rows, NULL, 0, NULL, 0, NULL);
        assert_int_equal(mf_img_decode(m.buf, m.len, NULL, &dec, NULL), MF_OK);
        for (int i = 0; i < W * H * 3; i++)
            assert_int_equal(dec.data[i], (i * 7) & 255);
        mf_img_free(&dec);
        free(m.buf);

        /* palette 4-bit with tRNS: index 0 opaque, 1 transparent, 2 half */
        const png_color pal[3] = {{10, 20, 30}, {1, 2, 3}, {0, 0, 200}};
        const png_byte trans[2] = {255, 0}; /* index 2 has no entry: opaque... */
        const png_byte trans3[3] = {255, 0, 128};
        rb = (W + 1) / 2;
        memset(rows, 0, sizeof rows);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                rows[y * rb + x / 2] |= (uint8_t)(((x + y) % 3) << (x % 2 ? 0 : 4));
        for (int t = 0; t < 2; t++) {
            m = png_make(W, H, PNG_COLOR_TYPE_PALETTE, 4, il, rows, pal, 3, t ? trans3 : trans, t ? 3 : 2, NULL);
            mf_img_info info;
            assert_int_equal(mf_img_decode(m.buf, m.len, NULL, &dec, &info), MF_OK);
            assert_int_equal(info.alpha_composited, 1);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int i = (x + y) % 3;
                    uint8_t want[3] = {pal[i].red, pal[i].green, pal[i].blue};
                    if (i == 1) want[0] = want[1] = want[2] = 255;
                    if (i == 2 && t) want[0] = want[1] = 127, want[2] = 227; /* (200*128 + 255*127 + 127) / 255 */
                    assert_memory_equal(px(&dec, x, y), want, 3);
                }
            mf_img_free(&dec);
            free(m.buf);
        }

        /* grey + alpha */
        for (int i = 0; i < W * H; i++)
            rows[2 * i] = (uint8_t)(i * 5), rows[2 * i + 1] = i % 2 ? 255 : 0;
        m = png_make(W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, il, rows, NULL, 0, NULL, 0, NULL);
        assert_int_equal(mf_img_decode(m.buf, m.len, NULL, &dec, NULL), MF_OK);
        for (int i = 0; i < W * H; i++)
            for (int k = 0; k < 3; k++)
                assert_int_equal(dec.data[3 * i + k], i % 2 ? (uint8_t)(i * 5) : 255);
        mf_img_free(&dec);
        free(m.buf);

        /* RGB with a tRNS colour key */
        for (int i = 0; i < W * H; i++)
            rows[3 * i] = (uint8_t)(i % 4), rows[3 * i + 1] = 9, rows[3 * i + 2] = 9;
        png_color_16 key = {.red = 0, .green = 9, .blue = 9};
        m = png_make(W, H, PNG_COLOR_TYPE_RGB, 8, il, rows, NULL, 0, NULL, 0, &key);
        assert_int_equal(mf_img_decode(m.buf, m.len, NULL, &dec, NULL), MF_OK);
        for (int i = 0; i < W * H; i++)
            assert_int_equal(dec.data[3 * i], i % 4 == 0 ? 255 : i % 4);
        mf_img_free(&dec);
        free(m.buf);
    }
}

static void test_jpeg_variants(void **state) {
    (void)state;
    enum { W = 32, H = 16 };
    uint8_t pix[W * H * 4];
    mf_img dec;
    uint8_t *jpg;
    size_t len;
    /* CMYK as Photoshop writes it (inverted, with an Adobe marker): left half red, right half dark blue */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = pix + (y * W + x) * 4;
            const uint8_t red[4] = {255, 0, 0, 255}, blue[4] = {0, 0, 255, 127};
            memcpy(p, x < W / 2 ? red : blue, 4);
        }
    jpeg_make(pix, W, H, 4, JCS_CMYK, 0, &jpg, &len);
    assert_int_equal(mf_img_decode(jpg, len, NULL, &dec, NULL), MF_OK);
    const uint8_t want_l[3] = {255, 0, 0}, want_r[3] = {0, 0, 127};
    for (int k = 0; k < 3; k++) {
        assert_true(abs(px(&dec, 4, 8)[k] - want_l[k]) <= 6);
        assert_true(abs(px(&dec, 27, 8)[k] - want_r[k]) <= 6);
    }
    mf_img_free(&dec);
    free(jpg);
    /* progressive RGB */
    mf_img src;
    make_img(&src, 40, 30, 3);
    fill_smooth(&src);
    jpeg_make(src.data, 40, 30, 3, JCS_RGB, 1, &jpg, &len);
    mf_img_info info;
    assert_int_equal(mf_img_decode(jpg, len, NULL, &dec, &info), MF_OK);
    assert_true(mean_abs_diff(&src, &dec) < 2.0);
    mf_img_free(&dec);
    free(jpg);
    mf_img_free(&src);
}

/* A progressive JPEG with one DC scan and, per component and AC coefficient, a first scan plus `refine`
 * successive-approximation refinements: 1 + 3 * 63 * (1 + refine) scans. */
static void jpeg_many_scans(const mf_img *src, int refine, uint8_t **out, size_t *len) {
    int n = 1 + 3 * 63 * (1 + refine);
    jpeg_scan_info *si = calloc((size_t)n, sizeof *si);
    si[0].comps_in_scan = 3;
    for (int k = 0; k < 3; k++)
        si[0].component_index[k] = k;
    int i = 1;
    for (int c = 0; c < 3; c++)
        for (int s = 1; s <= 63; s++)
            for (int a = refine; a >= 0; a--, i++) {
                si[i].comps_in_scan = 1;
                si[i].component_index[0] = c;
                si[i].Ss = si[i].Se = s;
                si[i].Ah = a == refine ? 0 : a + 1;
                si[i].Al = a;
            }
    struct jpeg_compress_struct cc;
    struct jpeg_error_mgr jerr;
    cc.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cc);
    unsigned long ul = 0;
    *out = NULL;
    jpeg_mem_dest(&cc, out, &ul);
    cc.image_width = (JDIMENSION)src->w;
    cc.image_height = (JDIMENSION)src->h;
    cc.input_components = 3;
    cc.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cc);
    cc.scan_info = si;
    cc.num_scans = n;
    jpeg_start_compress(&cc, TRUE);
    while (cc.next_scanline < cc.image_height) {
        JSAMPROW row = src->data + (size_t)cc.next_scanline * src->w * 3;
        jpeg_write_scanlines(&cc, &row, 1);
    }
    jpeg_finish_compress(&cc);
    jpeg_destroy_compress(&cc);
    free(si);
    *len = ul;
}

static void test_jpeg_scan_cap(void **state) {
    (void)state;
    mf_img src, dec;
    make_img(&src, 16, 16, 3);
    fill_smooth(&src);
    uint8_t *jpg;
    size_t len;
    jpeg_many_scans(&src, 0, &jpg, &len); /* 190 scans: fine */
    assert_int_equal(mf_img_decode(jpg, len, NULL, &dec, NULL), MF_OK);
    assert_true(mean_abs_diff(&src, &dec) < 3.0);
    mf_img_free(&dec);
    free(jpg);
    jpeg_many_scans(&src, 3, &jpg, &len); /* 757 scans: refused */
    assert_int_equal(mf_img_decode(jpg, len, NULL, &dec, NULL), MF_ERR_FORMAT);
    assert_non_null(strstr(mf_error_get(), "scans"));
    assert_null(dec.data);
    free(jpg);
    mf_img_free(&src);
}

/* ---- geometry ---- */

static void test_crop(void **state) {
    (void)state;
    mf_img src, dst;
    make_img(&src, 9, 7, 3);
    fill_random(&src);
    assert_int_equal(mf_img_crop(&src, 2, 3, 5, 4, &dst), MF_OK);
    assert_int_equal(dst.w, 5);
    assert_int_equal(dst.h, 4);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 5; x++)
            assert_memory_equal(px(&dst, x, y), px(&src, x + 2, y + 3), 3);
    mf_img_free(&dst);
    assert_int_equal(mf_img_crop(&src, 0, 0, 9, 7, &dst), MF_OK);
    assert_same_img(&src, &dst);
    mf_img_free(&dst);
    assert_int_equal(mf_img_crop(&src, 5, 0, 5, 1, &dst), MF_ERR_ARG);
    assert_int_equal(mf_img_crop(&src, -1, 0, 2, 2, &dst), MF_ERR_ARG);
    assert_int_equal(mf_img_crop(&src, 0, 0, 0, 2, &dst), MF_ERR_ARG);
    assert_int_equal(mf_img_crop(&src, 1, 1, 0x7fffffff, 2, &dst), MF_ERR_ARG);
    assert_null(dst.data);
    mf_img_free(&src);
}

static void test_rotate_flip(void **state) {
    (void)state;
    for (int c = 1; c <= 4; c++) {
        if (c == 2) continue;
        mf_img src, r, f, t;
        make_img(&src, 70, 45, c); /* larger than one 64x64 tile */
        fill_random(&src);
        assert_int_equal(mf_img_rotate90(&src, 1, &r), MF_OK);
        assert_int_equal(r.w, 45);
        assert_int_equal(r.h, 70);
        for (int y = 0; y < r.h; y++) /* clockwise: dst(x, y) = src(y, h-1-x) */
            for (int x = 0; x < r.w; x++)
                assert_memory_equal(px(&r, x, y), px(&src, y, src.h - 1 - x), (size_t)c);
        mf_img cur = r;
        for (int i = 0; i < 3; i++) {
            assert_int_equal(mf_img_rotate90(&cur, 1, &t), MF_OK);
            mf_img_free(&cur);
            cur = t;
        }
        assert_same_img(&src, &cur);
        mf_img_free(&cur);
        assert_int_equal(mf_img_rotate90(&src, -1, &r), MF_OK);
        assert_int_equal(mf_img_rotate90(&src, 3, &t), MF_OK);
        assert_same_img(&r, &t);
        mf_img_free(&r);
        mf_img_free(&t);
        assert_int_equal(mf_img_flip(&src, 1, &f), MF_OK);
        for (int y = 0; y < f.h; y++)
            for (int x = 0; x < f.w; x++)
                assert_memory_equal(px(&f, x, y), px(&src, src.w - 1 - x, y), (size_t)c);
        assert_int_equal(mf_img_flip(&f, 1, &t), MF_OK);
        assert_same_img(&src, &t);
        mf_img_free(&t);
        mf_img_free(&f);
        assert_int_equal(mf_img_flip(&src, 0, &f), MF_OK);
        for (int y = 0; y < f.h; y++)
            assert_memory_equal(px(&f, 0, y), px(&src, 0, src.h - 1 - y), (size_t)c * 70);
        mf_img_free(&f);
        /* transpose (5) and transverse (7) are their own inverses */
        for (int o = 5; o <= 7; o += 2) {
            assert_int_equal(mf_img_orient(&src, o, &f), MF_OK);
            assert_int_equal(mf_img_orient(&f, o, &t), MF_OK);
            assert_same_img(&src, &t);
            mf_img_free(&f);
            mf_img_free(&t);
        }
        assert_int_equal(mf_img_orient(&src, 0, &f), MF_ERR_ARG);
        assert_int_equal(mf_img_orient(&src, 9, &f), MF_ERR_ARG);
        mf_img_free(&src);
    }
}

/* TF ResizeBilinear(half_pixel_centers=true), in double. */
static double ref_resize(const mf_img *s, int ow, int oh, int x, int y, int k) {
    double iy = (y + 0.5) * s->h / oh - 0.5, ix = (x + 0.5) * s->w / ow - 0.5;
    double fy0 = floor(iy), fx0 = floor(ix);
    int y0 = fy0 < 0 ? 0 : (int)fy0, x0 = fx0 < 0 ? 0 : (int)fx0;
    int y1 = (int)ceil(iy) > s->h - 1 ? s->h - 1 : (int)ceil(iy);
    int x1 = (int)ceil(ix) > s->w - 1 ? s->w - 1 : (int)ceil(ix);
    double fy = iy - fy0, fx = ix - fx0;
    double a = px(s, x0, y0)[k], b = px(s, x1, y0)[k], c = px(s, x0, y1)[k], d = px(s, x1, y1)[k];
    double top = a + (b - a) * fx, bot = c + (d - c) * fx;
    return top + (bot - top) * fy;
}

static void test_resize_to_float(void **state) {
    (void)state;
    const int sizes[][4] = {{100, 80, 32, 24}, {17, 13, 64, 50}, {1, 1, 5, 3}, {640, 480, 128, 128},
                            {31, 29, 31, 29},  {1000, 3, 7, 9},  {5, 5, 1, 1}, {600, 20, 513, 1}};
    for (int c = 1; c <= 4; c++) {
        if (c == 2) continue;
        for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
            mf_img s;
            make_img(&s, sizes[t][0], sizes[t][1], c);
            fill_random(&s);
            int ow = sizes[t][2], oh = sizes[t][3];
            size_t n = (size_t)ow * oh * c;
            float *out = malloc(n * sizeof *out);
            const float scale = 1.0f / 127.5f, bias = -1.0f;
            mf_img_resize_to_float(&s, ow, oh, scale, bias, out);
            double maxerr = 0;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    for (int k = 0; k < c; k++) {
                        double want = ref_resize(&s, ow, oh, x, y, k) * scale + bias;
                        double e = fabs(out[((size_t)y * ow + x) * c + k] - want);
                        if (e > maxerr) maxerr = e;
                    }
            if (maxerr > 1e-4) fail_msg("resize %dx%d -> %dx%d c=%d: max error %g", s.w, s.h, ow, oh, c, maxerr);
            if (s.w == ow && s.h == oh) /* same size is a plain conversion */
                for (size_t i = 0; i < n; i++)
                    assert_true(out[i] == s.data[i] * scale + bias);
            free(out);
            mf_img_free(&s);
        }
    }
}

/* cv2.warpAffine(WARP_INVERSE_MAP, BORDER_CONSTANT) semantics, in double. */
static double ref_warp(const mf_img *s, const float *m, int x, int y, int k, double scale, double bias, double border) {
    double sx = (double)m[0] * x + (double)m[1] * y + m[2], sy = (double)m[3] * x + (double)m[4] * y + m[5];
    if (sx < -2 || sy < -2 || sx > s->w + 1 || sy > s->h + 1) return border;
    int x0 = (int)floor(sx), y0 = (int)floor(sy);
    double fx = sx - x0, fy = sy - y0, v[2][2];
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int xx = x0 + i, yy = y0 + j;
            v[j][i] = xx >= 0 && yy >= 0 && xx < s->w && yy < s->h ? px(s, xx, yy)[k] * scale + bias : border;
        }
    return (v[0][0] * (1 - fx) + v[0][1] * fx) * (1 - fy) + (v[1][0] * (1 - fx) + v[1][1] * fx) * fy;
}

static void test_warp_identity(void **state) {
    (void)state;
    for (int c = 1; c <= 4; c++) {
        if (c == 2) continue;
        mf_img s;
        make_img(&s, 23, 19, c);
        fill_random(&s);
        const float id[6] = {1, 0, 0, 0, 1, 0};
        size_t n = (size_t)23 * 19 * c;
        float *out = malloc(n * sizeof *out);
        mf_img_warp_to_float(&s, id, 23, 19, 1.0f, 0.0f, -7.0f, out);
        for (size_t i = 0; i < n; i++)
            assert_true(out[i] == (float)s.data[i]);
        /* integer translation = crop, with border outside */
        const float tr[6] = {1, 0, 5, 0, 1, 3};
        mf_img_warp_to_float(&s, tr, 23, 19, 2.0f, 1.0f, -7.0f, out);
        for (int y = 0; y < 19; y++)
            for (int x = 0; x < 23; x++)
                for (int k = 0; k < c; k++) {
                    float want = x + 5 < 23 && y + 3 < 19 ? px(&s, x + 5, y + 3)[k] * 2.0f + 1.0f : -7.0f;
                    assert_true(out[((size_t)y * 23 + x) * c + k] == want);
                }
        free(out);
        mf_img_free(&s);
    }
}

static void test_warp_vs_reference(void **state) {
    (void)state;
    mf_img s;
    make_img(&s, 61, 47, 3);
    fill_random(&s);
    const int ow = 50, oh = 40;
    float *out = malloc((size_t)ow * oh * 3 * sizeof *out);
    for (int t = 0; t < 40; t++) {
        double ang = (urand() % 6283) / 1000.0, sc = 0.3 + (urand() % 3000) / 1000.0;
        float m[6] = {(float)(sc * cos(ang)), (float)(-sc * sin(ang)), (float)((int)(urand() % 120) - 30) + 0.37f,
                      (float)(sc * sin(ang)), (float)(sc * cos(ang)),  (float)((int)(urand() % 100) - 25) - 0.81f};
        if (t == 0) m[0] = m[4] = 1, m[1] = m[3] = 0, m[2] = 0.5f, m[5] = -0.25f; /* half-pixel shifts */
        if (t == 1) m[0] = m[4] = 1e30f;                                          /* absurd: all border */
        mf_img_warp_to_float(&s, m, ow, oh, 1.0f / 255, 0.0f, 0.5f, out);
        double maxerr = 0;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                for (int k = 0; k < 3; k++) {
                    double e = fabs(out[((size_t)y * ow + x) * 3 + k] - ref_warp(&s, m, x, y, k, 1.0 / 255, 0, 0.5));
                    if (e > maxerr) maxerr = e;
                }
        if (maxerr > 1e-4) fail_msg("warp case %d: max error %g", t, maxerr);
    }
    /* NaN in the matrix: border everywhere, no UB */
    const float nanm[6] = {NAN, 0, 0, 0, 1, 0};
    mf_img_warp_to_float(&s, nanm, ow, oh, 1, 0, 3.0f, out);
    for (int i = 0; i < ow * oh * 3; i++)
        assert_true(out[i] == 3.0f);
    free(out);
    mf_img_free(&s);
}

/* The warp's float expressions written out one channel at a time (image/resample.c's scalar loop): the channel
 * lanes of its c = 3 path must give the same bits. */
static float warp_want(const mf_img *s, const float m[6], int x, int y, int k, float scale, float bias, float border) {
    const double sx = (double)m[0] * x + ((double)m[1] * y + m[2]), sy = (double)m[3] * x + ((double)m[4] * y + m[5]);
    if (!(sx > -1.0 && sx < (double)s->w && sy > -1.0 && sy < (double)s->h)) return border;
    const int x0 = (int)(sx + 1.0) - 1, y0 = (int)(sy + 1.0) - 1;
    const float fx = (float)(sx - x0), fy = (float)(sy - y0);
    float v[2][2];
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int xx = x0 + i, yy = y0 + j;
            v[j][i] = xx >= 0 && yy >= 0 && xx < s->w && yy < s->h ? (float)px(s, xx, yy)[k] : NAN;
        }
    if (x0 >= 0 && y0 >= 0 && x0 + 1 < s->w && y0 + 1 < s->h) {
        const float top = v[0][0] + (v[0][1] - v[0][0]) * fx, bot = v[1][0] + (v[1][1] - v[1][0]) * fx;
        return (top + (bot - top) * fy) * scale + bias;
    }
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) v[j][i] = isnan(v[j][i]) ? border : v[j][i] * scale + bias;
    const float top = v[0][0] + (v[0][1] - v[0][0]) * fx, bot = v[1][0] + (v[1][1] - v[1][0]) * fx;
    return top + (bot - top) * fy;
}

static void test_warp_bitexact(void **state) {
    (void)state;
    for (int c = 1; c <= 4; c++) {
        if (c == 2) continue;
        mf_img s;
        make_img(&s, 37, 29, c);
        fill_random(&s);
        const int ow = 31, oh = 23;
        size_t n = (size_t)ow * oh * c;
        float *out = malloc(n * sizeof *out);
        for (int t = 0; t < 60; t++) {
            double ang = (urand() % 6283) / 1000.0, sc = 0.2 + (urand() % 2000) / 1000.0;
            float m[6] = {(float)(sc * cos(ang)), (float)(-sc * sin(ang)), (float)((int)(urand() % 60) - 15) + 0.29f,
                          (float)(sc * sin(ang)), (float)(sc * cos(ang)), (float)((int)(urand() % 50) - 12) - 0.63f};
            /* case 0: the last output pixel reads the image's last 2x2 block (no byte past the image is read) */
            if (t == 0) m[0] = m[4] = 1, m[1] = m[3] = 0, m[2] = 37 - 1.5f - (ow - 1), m[5] = 29 - 1.5f - (oh - 1);
            float scale = t % 2 ? 2.0f / 255 : 1.0f, bias = t % 2 ? -1.0f : 0.0f;
            mf_img_warp_to_float(&s, m, ow, oh, scale, bias, 0.5f, out);
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    for (int k = 0; k < c; k++) {
                        float want = warp_want(&s, m, x, y, k, scale, bias, 0.5f), got = out[((size_t)y * ow + x) * c + k];
                        if (memcmp(&want, &got, sizeof got) != 0)
                            fail_msg("c %d case %d pixel %d,%d channel %d: %.9g, want %.9g", c, t, x, y, k, got, want);
                    }
        }
        free(out);
        mf_img_free(&s);
    }
}

static void test_warp_rotation_matches_rotate90(void **state) {
    (void)state;
    mf_img s, r;
    make_img(&s, 30, 20, 3);
    fill_random(&s);
    assert_int_equal(mf_img_rotate90(&s, 1, &r), MF_OK);
    /* clockwise: dst(x, y) = src(y, h-1-x) */
    const float m[6] = {0, 1, 0, -1, 0, (float)(s.h - 1)};
    float *out = malloc((size_t)r.w * r.h * 3 * sizeof *out);
    mf_img_warp_to_float(&s, m, r.w, r.h, 1, 0, 0, out);
    for (int i = 0; i < r.w * r.h * 3; i++)
        assert_true(out[i] == (float)r.data[i]);
    free(out);
    mf_img_free(&r);
    mf_img_free(&s);
}

static void test_resize_u8(void **state) {
    (void)state;
    mf_img s, d;
    make_img(&s, 40, 30, 3);
    fill_random(&s);
    assert_int_equal(mf_img_resize(&s, 40, 30, &d), MF_OK);
    assert_same_img(&s, &d);
    mf_img_free(&d);
    /* 2x down: exact mean of 2x2 blocks, rounded half up */
    assert_int_equal(mf_img_resize(&s, 20, 15, &d), MF_OK);
    for (int y = 0; y < 15; y++)
        for (int x = 0; x < 20; x++)
            for (int k = 0; k < 3; k++) {
                int sum = px(&s, 2 * x, 2 * y)[k] + px(&s, 2 * x + 1, 2 * y)[k] + px(&s, 2 * x, 2 * y + 1)[k] +
                          px(&s, 2 * x + 1, 2 * y + 1)[k];
                assert_int_equal(px(&d, x, y)[k], (sum + 2) / 4);
            }
    mf_img_free(&d);
    /* non-integer shrink against area averaging in double */
    assert_int_equal(mf_img_resize(&s, 13, 7, &d), MF_OK);
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 13; x++)
            for (int k = 0; k < 3; k++) {
                double rx = 40.0 / 13, ry = 30.0 / 7, acc = 0;
                for (int j = 0; j < 30; j++)
                    for (int i = 0; i < 40; i++) {
                        double ox = fmin(i + 1, (x + 1) * rx) - fmax(i, x * rx);
                        double oy = fmin(j + 1, (y + 1) * ry) - fmax(j, y * ry);
                        if (ox > 0 && oy > 0) acc += ox * oy * px(&s, i, j)[k];
                    }
                acc /= rx * ry;
                assert_true(fabs(px(&d, x, y)[k] - acc) <= 0.51);
            }
    mf_img_free(&d);
    /* growing: bilinear, half-pixel centres */
    assert_int_equal(mf_img_resize(&s, 97, 71, &d), MF_OK);
    for (int y = 0; y < 71; y++)
        for (int x = 0; x < 97; x++)
            for (int k = 0; k < 3; k++) {
                double iy = fmin(fmax((y + 0.5) * 30 / 71 - 0.5, 0), 29),
                       ix = fmin(fmax((x + 0.5) * 40 / 97 - 0.5, 0), 39);
                int x0 = (int)ix, y0 = (int)iy, x1 = x0 + 1 < 40 ? x0 + 1 : x0, y1 = y0 + 1 < 30 ? y0 + 1 : y0;
                double fx = ix - x0, fy = iy - y0;
                double v = (px(&s, x0, y0)[k] * (1 - fx) + px(&s, x1, y0)[k] * fx) * (1 - fy) +
                           (px(&s, x0, y1)[k] * (1 - fx) + px(&s, x1, y1)[k] * fx) * fy;
                assert_true(fabs(px(&d, x, y)[k] - v) <= 0.51);
            }
    mf_img_free(&d);
    /* grey and RGBA take the same paths */
    for (int c = 1; c <= 4; c += 3) {
        mf_img g;
        make_img(&g, 8, 6, c);
        fill_random(&g);
        assert_int_equal(mf_img_resize(&g, 4, 3, &d), MF_OK);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                for (int k = 0; k < c; k++) {
                    int sum = px(&g, 2 * x, 2 * y)[k] + px(&g, 2 * x + 1, 2 * y)[k] + px(&g, 2 * x, 2 * y + 1)[k] +
                              px(&g, 2 * x + 1, 2 * y + 1)[k];
                    assert_int_equal(px(&d, x, y)[k], (sum + 2) / 4);
                }
        mf_img_free(&d);
        mf_img_free(&g);
    }
    /* mixed: shrink one axis, grow the other; 1x1 output */
    assert_int_equal(mf_img_resize(&s, 7, 100, &d), MF_OK);
    mf_img_free(&d);
    assert_int_equal(mf_img_resize(&s, 1, 1, &d), MF_OK);
    mf_img_free(&d);
    assert_int_equal(mf_img_resize(&s, 0, 10, &d), MF_ERR_ARG);
    mf_img_free(&s);
}

/* ---- real photos ---- */

static void test_real_photos(void **state) {
    (void)state;
    glob_t g;
    if (glob("../shared/data/lfw/*/*.jpg", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        print_message("      ../shared/data/lfw not found (run from the repo root with shared data beside it)\n");
        skip();
    }
    size_t n = 0;
    double t0 = tu_clock_ms(CLOCK_MONOTONIC) / 1e3;
    for (size_t i = 0; i < g.gl_pathc && n < 25; i += g.gl_pathc / 25 + 1, n++) {
        mf_img img;
        mf_img_info info;
        int rc = mf_img_load(g.gl_pathv[i], NULL, &img, &info);
        if (rc != MF_OK) fail_msg("%s: %s", g.gl_pathv[i], mf_error_get());
        assert_int_equal(img.w, 250);
        assert_int_equal(img.h, 250);
        assert_int_equal(img.c, 3);
        float *t = malloc(128 * 128 * 3 * sizeof *t);
        mf_img_resize_to_float(&img, 128, 128, 1 / 127.5f, -1, t);
        free(t);
        mf_img_free(&img);
    }
    print_message("      decoded %zu LFW photos in %.1f ms\n", n, (tu_clock_ms(CLOCK_MONOTONIC) / 1e3 - t0) * 1e3);
    globfree(&g);
    if (glob("../shared/data/ffhq/*.jpg", 0, NULL, &g) == 0 && g.gl_pathc > 0) {
        mf_img img;
        assert_int_equal(mf_img_load(g.gl_pathv[0], NULL, &img, NULL), MF_OK);
        assert_int_equal(img.w, 512);
        mf_img_free(&img);
    }
    globfree(&g);
}

static int group_setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mfmc_test_image_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    return rmdir(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_free),
        cmocka_unit_test(test_format_detect),
        cmocka_unit_test(test_roundtrip_png),
        cmocka_unit_test(test_alpha_composited_over_white),
        cmocka_unit_test(test_roundtrip_jpeg),
        cmocka_unit_test(test_roundtrip_webp),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_exif_orientations),
        cmocka_unit_test(test_exif_parser_hostile),
        cmocka_unit_test(test_truncated_jpeg),
        cmocka_unit_test(test_corrupt_jpeg),
        cmocka_unit_test(test_truncated_and_corrupt_png),
        cmocka_unit_test(test_zero_size_png),
        cmocka_unit_test(test_oversize_headers),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_not_an_image),
        cmocka_unit_test(test_truncated_webp),
        cmocka_unit_test(test_png_variants),
        cmocka_unit_test(test_jpeg_variants),
        cmocka_unit_test(test_jpeg_scan_cap),
        cmocka_unit_test(test_crop),
        cmocka_unit_test(test_rotate_flip),
        cmocka_unit_test(test_resize_to_float),
        cmocka_unit_test(test_warp_identity),
        cmocka_unit_test(test_warp_vs_reference),
        cmocka_unit_test(test_warp_bitexact),
        cmocka_unit_test(test_warp_rotation_matches_rotate90),
        cmocka_unit_test(test_resize_u8),
        cmocka_unit_test(test_real_photos),
    };
    return cmocka_run_group_tests_name("image", tests, group_setup, group_teardown);
}
