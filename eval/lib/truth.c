#include "truth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ev_truth_parse(const char *line, ev_truth *out) {
    int n, off;
    if (sscanf(line, "%63s %255s %d%n", out->variant, out->file, &n, &off) != 3 || n < 0 || n > EV_TRUTH_MAX_FACES)
        return -1;
    const char *p = line + off;
    out->n = 0;
    for (int i = 0; i < n; i++, out->n++) {
        float *r = out->t[i];
        int used;
        if (sscanf(p, "%f %f %f %f %f %f %f%n", &r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6], &used) != 7) break;
        p += used;
    }
    return 0;
}

int ev_truth_number(const ev_truth *t) {
    const char *s = strrchr(t->file, '/');
    return atoi(s ? s + 1 : t->file);
}
