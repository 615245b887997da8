#include "common/json.h"

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 when the bytes there are ill-formed (Unicode
 * Table 3-7). */
static int utf8_seq(const unsigned char *p) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c == 0xE0)
        n = 3, lo = 0xA0;
    else if (c == 0xED)
        n = 3, hi = 0x9F; /* no surrogates */
    else if (c >= 0xE1 && c <= 0xEF)
        n = 3;
    else if (c == 0xF0)
        n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        n = 4;
    else if (c == 0xF4)
        n = 4, hi = 0x8F; /* <= U+10FFFF */
    else
        return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

int app_utf8_valid(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_seq(p);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

void app_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned c = *p;
        int n = utf8_seq(p);
        if (!n) {
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, (size_t)n, f);
        } else if (c == '"' || c == '\\') {
            fputc('\\', f), fputc((int)c, f);
        } else if (c < 0x20) {
            switch (c) {
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default: fprintf(f, "\\u%04x", c);
            }
        } else {
            fputc((int)c, f);
        }
        p += n;
    }
    fputc('"', f);
}

void app_json_hex(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fprintf(f, "%02x", *p);
    fputc('"', f);
}

void app_json_path_field(FILE *f, const char *key, const char *s) {
    fprintf(f, "\"%s\":", key);
    app_json_string(f, s);
    if (!app_utf8_valid(s)) {
        fprintf(f, ",\"%s_hex\":", key);
        app_json_hex(f, s);
    }
}
