/* The truth file of the privacy set (tests/tools/privacy-set.c, tests/tools/privacy-anon-set.c): one line per
 * picture, tab-separated: variant, file (relative to the set's folder), n_faces, then per face
 * "x y w h roll_deg yaw pitch" (the box and roll in the picture, yaw and pitch of the upright photo). */
#ifndef MF_EV_TRUTH_H
#define MF_EV_TRUTH_H

enum { EV_TRUTH_MAX_FACES = 2000, EV_TRUTH_LINE_MAX = 1 << 17 };

typedef struct {
    char variant[64], file[256];
    int n;                               /* faces read into t (at most EV_TRUTH_MAX_FACES) */
    float t[EV_TRUTH_MAX_FACES][7];      /* x y w h roll yaw pitch */
} ev_truth;

/* Parses one line into *out. Returns 0, or -1 for a line that is not a truth line (then *out is undefined).
 * A face row that does not parse ends the list (out->n faces before it). */
int ev_truth_parse(const char *line, ev_truth *out);

/* The picture's number: the digits after the last '/' of file ("rot90/0042.jpg" -> 42), 0 when there are none. */
int ev_truth_number(const ev_truth *t);

#endif
