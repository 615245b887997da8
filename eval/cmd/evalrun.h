/* mfmc-eval (`mfmc eval`, docs/evaluation.md): shared types of its files.
 *   main.c     options, the face list (LFW pairs, FFHQ, demo photos), the worker threads, the range checks
 *   work.c     one face: analysis, anonymization by each method, judges, embeddings, the cache
 *   figures.c  every figure from the records (accuracy, TAR, re-identification, utility, realism, judges)
 *   report.c   results.json, results.md, index.html with SVG plots, contact sheets */
#ifndef MF_EVALRUN_H
#define MF_EVALRUN_H

#include "judges.h"
#include "mfmc/anon.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>

enum { EV_MAX_REC = 16, EV_NMETHODS = 7, EV_MAX_FACES = 64 };
/* methods: 0 = original (nothing changed), then the anonymizer's */
/* EV_M_STRICT (stop 51): synthetic faces at the strict privacy level (mf_anon_opts.strict); only when named */
enum { EV_M_ORIGINAL = 0, EV_M_SYNTH, EV_M_DONOR, EV_M_BLUR, EV_M_PIXELATE, EV_M_SOLID, EV_M_STRICT };
extern const char *const ev_method_names[EV_NMETHODS];

enum { EV_DS_LFW = 0, EV_DS_FFHQ, EV_DS_DEMO, EV_NDS };
extern const char *const ev_ds_names[EV_NDS];

/* What was measured on one face (the original, or its anonymized version by one method). */
typedef struct {
    int done;     /* record present */
    int found;    /* original: analysis found the face; anonymized: the face was detected again */
    int decision; /* mf_anon_decision (anonymized) */
    int tries;
    float det_score, mesh_score;
    float yaw, pitch, roll, eye_open, mouth_open; /* mesh */
    float age, p_male;                            /* own attribute model (the anonymizer's) */
    ev_judgement j;                               /* independent judges */
    float lap;                                    /* Laplacian variance over cheeks and forehead (mesh points) */
    double ms;                                    /* anonymization wall time */
} ev_rec;

/* One face to measure: a face of a photo; anonymized by every method when `anon`. */
typedef struct {
    int ds;
    char rel[512]; /* path relative to the data folder (demo: models folder) */
    char path[4096];
    int face;  /* -1: the face nearest the image centre; else index in the analysis (demo photos) */
    int anon;  /* anonymized too (LFW: the second image of a pair; FFHQ and demo: all) */
    int sheet; /* crops kept for the contact sheets */
    uint64_t seed;
    ev_rec rec[EV_NMETHODS];
    float *emb[EV_NMETHODS][EV_MAX_REC]; /* NULL until measured */
} ev_item;

typedef struct {
    int a, b, same, fold; /* item indices */
} ev_pair;

/* A recognizer of the run and the limits --check holds it to (main.c, docs/evaluation.md). */
typedef struct {
    const mf_face_recognizer_info *info;
    /* synthetic faces re-identified by verification / identification, on every data set: at most these */
    double reid_verification_max, reid_identification_max;
} ev_recognizer;

typedef struct {
    /* options */
    const char *data, *out, *models, *identity;
    int methods[EV_NMETHODS]; /* selected */
    int threads, pairs_per_fold, ffhq_n, demo, quick, check, progress, sheets;
    uint64_t seed;
    const char *brk; /* hidden test option: "synth-original" or "rec-noise" */
    /* recognizers */
    int nrec;
    ev_recognizer rec[EV_MAX_REC];
    /* faces and pairs */
    ev_item *items;
    int nitems;
    ev_pair *pairs;
    int npairs;
    /* run state */
    pthread_mutex_t mu;
    int next, finished, total_units;
    double t0;
    char anon_rev[64]; /* revision of the anonymizer (cache key of anonymized records) */
    char face_rev[64]; /* revision of what measures: analysis, recognizers, engine, eval code (every key) */
} ev_run;

/* work.c */
typedef struct ev_worker ev_worker;
int ev_worker_create(ev_run *R, mf_face_models_t *models, ev_worker **out);
void ev_worker_free(ev_worker *w);
/* Measures item i (original and every selected method), from the cache where present. */
int ev_worker_item(ev_worker *w, int i);
/* Loads what the cache holds for item i without computing anything (reports of a stopped run). */
void ev_cache_load_item(ev_run *R, int i);

/* figures.c: every figure into a JSON object (owned by the caller) */
cJSON *ev_figures(ev_run *R);
/* report.c */
int ev_report(ev_run *R, cJSON *fig);

/* helpers */
double ev_now_ms(void);
float ev_median(float *v, int n); /* sorts v; NAN when n == 0 */

#endif
