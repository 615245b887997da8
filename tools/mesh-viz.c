/* Debugging and measurement aid for src/face/mesh.c (see docs/mesh.md). Built by `make test` (so it keeps
 * compiling) or `make build/rel/tools/mesh-viz`; the models root is $MFMC_MODELS or ./models.
 *   draw IMAGE OUT.png [iris]   annotated picture + OUT.png.faceN.png per face (write to /tmp, never commit them)
 *   dump IMAGE [iris]           detections, scores, pose, expression, selected points
 *   irischeck IMAGE...          iris-model contour vs mesh, both crop orientations, per eye
 *   measure LIST ALL_FACES DET_SCALE PREFILTER PASSES [iris]
 *                               jitter / mirror statistics over the images listed in LIST (one path a line);
 *                               PASSES = min = max passes, env MAXPASS raises the max, TOL scales the tolerances
 *   template LIST [SPREAD]      canonical rigid points for the pose fit (C table on stdout)
 *   fivept LIST                 detector keypoints vs mesh 5 points
 *   time IMAGE [THREADS]        ms per face, mesh and mesh + iris
 * It includes mesh.c to reach its internals; the macros below make its constants adjustable. */
static float g_det_scale = 1.5f, g_prefilter = 2.0f, g_tol = 1.0f;
#define ROI_TOL_SHIFT (0.02f * g_tol)
#define ROI_TOL_SCALE (0.03f * g_tol)
#define ROI_TOL_ANGLE (0.035f * g_tol)
static double g_spread_max = 0.06;
#define DET_SCALE g_det_scale
#define PREFILTER_RATIO g_prefilter
#include "../src/face/mesh.c"

static mf_face_detector_t *g_det;
static mf_face_mesher_t *g_mesh;

static void dot(mf_img *im, float x, float y, int r, uint8_t cr, uint8_t cg, uint8_t cb) {
    int ix = (int)floorf(x), iy = (int)floorf(y);
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            int px = ix + dx, py = iy + dy;
            if (px < 0 || py < 0 || px >= im->w || py >= im->h || dx * dx + dy * dy > r * r) continue;
            uint8_t *p = im->data + ((size_t)py * im->w + px) * 3;
            p[0] = cr, p[1] = cg, p[2] = cb;
        }
}

static void line(mf_img *im, float x0, float y0, float x1, float y1, uint8_t cr, uint8_t cg, uint8_t cb) {
    int n = (int)(fmaxf(fabsf(x1 - x0), fabsf(y1 - y0)) + 1);
    for (int i = 0; i <= n; i++) {
        float t = (float)i / (float)n;
        dot(im, x0 + t * (x1 - x0), y0 + t * (y1 - y0), 0, cr, cg, cb);
    }
}

static int open_all(int iris) {
    const char *models = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    const char *dir = models;
    if (mf_face_detector_create(dir, NULL, &g_det) || mf_face_mesher_create(dir, NULL, iris, &g_mesh)) {
        fprintf(stderr, "%s\n", mf_error_get());
        return -1;
    }
    return 0;
}

/* For each eye and both crop orientations: mean distance (in eye widths) between the iris model's contour
 * groups and the mesh points they replace. The orientation the model was trained on matches. */
static void iris_check(const mf_img *img, const mf_face_box *f, int n) {
    mf_face_mesher_t *mi;
    const char *models = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    const char *dir = models;
    if (mf_face_mesher_create(dir, NULL, 1, &mi)) return;
    for (int i = 0; i < n; i++) {
        mf_face_landmarks lm;
        mf_face_mesher_run(g_mesh, img, &f[i], &lm); /* no iris */
        float ang = mesh_angle(lm.pt);
        for (int e = 0; e < 2; e++)
            for (int flip = 0; flip < 2; flip++) {
                roi r = roi_eye(lm.pt, e, ang);
                r.flip = flip;
                float A[6];
                roi_affine(&r, IRIS_IN, A);
                sample_crop(img, A, IRIS_IN, 1.0f / 255.0f, mf_nn_plan_input(mi->iris_plan, 0, NULL));
                mf_nn_plan_run(mi->iris_plan);
                const float *o = mf_nn_plan_output(mi->iris_plan, mi->out_iris, NULL);
                float w = dist3(lm.pt[e ? 263 : 33], lm.pt[e ? 362 : 133]);
                printf("face %d eye %d flip %d:", i, e, flip);
                for (size_t g = 0; g < sizeof iris_groups / sizeof *iris_groups; g++) {
                    double sum = 0;
                    for (int j = 0; j < iris_groups[g].n; j++) {
                        float x, y;
                        int q = iris_groups[g].first + j;
                        affine_apply(A, o[3 * q], o[3 * q + 1], &x, &y);
                        int mi_ = iris_groups[g].mesh[e][j];
                        sum += hypotf(x - lm.pt[mi_][0], y - lm.pt[mi_][1]);
                    }
                    printf(" %.3f", sum / iris_groups[g].n / w);
                }
                printf("\n");
            }
    }
    mf_face_mesher_free(mi);
}

/* Pairs (subject's right, left) and midline points used to compare a mesh with the mesh of the mirrored image. */
static const int sym_pairs[][2] = {{33, 263}, {133, 362}, {159, 386}, {145, 374}, {61, 291}, {234, 454}, {127, 356},
                                   {98, 327}, {70, 300}, {105, 334}, {172, 397}, {1, 1}, {13, 13}, {14, 14},
                                   {10, 10}, {152, 152}, {168, 168}, {2, 2}};
enum { N_SYM = sizeof sym_pairs / sizeof *sym_pairs };

static float iod(const float p[][3]) {
    float c[2][2] = {{0}};
    for (int e = 0; e < 2; e++)
        for (int j = 0; j < 16; j++) c[e][0] += p[eye_contour[e][j]][0] / 16, c[e][1] += p[eye_contour[e][j]][1] / 16;
    return hypotf(c[1][0] - c[0][0], c[1][1] - c[0][1]);
}

/* measure LISTFILE: stability and symmetry statistics over the faces of the listed images (central face only
 * for single-person sets: the best-scored detection). */
static int measure(const char *list, int all_faces) {
    FILE *fl = fopen(list, "r");
    if (!fl) return 1;
    char path[2048];
    double s_jit = 0, s_flip = 0, s_ratio = 0, s_score = 0, s_yaw = 0, s_absyaw = 0, s_pitch = 0, s_fyaw = 0;
    double s_froll = 0;
    int nf_tot = 0, runs = 0, passes = 0;
    static float pts[9][MF_FACE_MESH_POINTS][3];
    while (fgets(path, sizeof path, fl)) {
        path[strcspn(path, "\n")] = 0;
        mf_img img, flip;
        if (mf_img_load(path, NULL, &img, NULL)) continue;
        mf_img_flip(&img, 1, &flip);
        mf_face_box f[32], ff[32];
        int n, nff;
        mf_face_detect(g_det, &img, f, 32, &n);
        mf_face_detect(g_det, &flip, ff, 32, &nff);
        if (!all_faces && n > 1) n = 1;
        for (int i = 0; i < n; i++) {
            mf_face_landmarks lm, lf;
            mf_face_mesher_run(g_mesh, &img, &f[i], &lm);
            runs++, passes += g_mesh->last_passes;
            memcpy(pts[0], lm.pt, sizeof lm.pt);
            /* ratio of the converged crop to the detector box */
            roi r2 = roi_from_mesh(lm.pt);
            s_ratio += r2.side / fmaxf(f[i].w, f[i].h);
            s_score += lm.score;
            s_yaw += lm.yaw, s_absyaw += fabsf(lm.yaw), s_pitch += lm.pitch;
            float d = iod(lm.pt);
            /* perturbed detections */
            double jit = 0;
            for (int k = 0; k < 8; k++) {
                mf_face_box b = f[i];
                float sx = (k & 1) ? 0.06f : -0.06f, sy = (k & 2) ? 0.06f : -0.06f, sc = (k & 4) ? 1.1f : 0.9f;
                b.x += sx * b.w + b.w * (1 - sc) / 2, b.y += sy * b.h + b.h * (1 - sc) / 2, b.w *= sc, b.h *= sc;
                b.roll += ((k % 3) - 1) * 0.1f;
                mf_face_landmarks lp;
                mf_face_mesher_run(g_mesh, &img, &b, &lp);
                runs++, passes += g_mesh->last_passes;
                memcpy(pts[k + 1], lp.pt, sizeof lp.pt);
            }
            for (int q = 0; q < MF_FACE_MESH_POINTS; q++) {
                float mx = 0, my = 0;
                for (int k = 0; k < 9; k++) mx += pts[k][q][0] / 9, my += pts[k][q][1] / 9;
                for (int k = 0; k < 9; k++) jit += hypotf(pts[k][q][0] - mx, pts[k][q][1] - my);
            }
            s_jit += jit / (9.0 * MF_FACE_MESH_POINTS) / d;
            /* mirrored image: the detection nearest the mirrored box centre */
            float cx = img.w - (f[i].x + f[i].w / 2), cy = f[i].y + f[i].h / 2, best = 1e30f;
            int bj = -1;
            for (int j = 0; j < nff; j++) {
                float dd = hypotf(ff[j].x + ff[j].w / 2 - cx, ff[j].y + ff[j].h / 2 - cy);
                if (dd < best) best = dd, bj = j;
            }
            if (bj >= 0) {
                mf_face_mesher_run(g_mesh, &flip, &ff[bj], &lf);
                double fe = 0;
                for (int q = 0; q < N_SYM; q++)
                    for (int side = 0; side < 2; side++) {
                        int a = sym_pairs[q][side], b = sym_pairs[q][1 - side];
                        fe += hypotf(img.w - lf.pt[b][0] - lm.pt[a][0], lf.pt[b][1] - lm.pt[a][1]);
                    }
                s_flip += fe / (2.0 * N_SYM) / d;
                s_fyaw += fabsf(lm.yaw + lf.yaw), s_froll += fabsf(lm.roll + lf.roll);
            }
            nf_tot++;
        }
        mf_img_free(&img);
        mf_img_free(&flip);
    }
    fclose(fl);
    printf("mean passes %.2f\n", (double)passes / runs);
    printf("scale %.2f prefilter %.1f passes %d-%d: faces %d  jitter %.4f  flip %.4f  (IOD)  crop2/det %.3f  score %.3f"
           "  yaw %.2f |yaw| %.2f pitch %.2f  flip |yaw+yaw'| %.2f |roll+roll'| %.2f\n",
           g_det_scale, g_prefilter, g_mesh->min_passes, g_mesh->max_passes, nf_tot, s_jit / nf_tot, s_flip / nf_tot, s_ratio / nf_tot,
           s_score / nf_tot, s_yaw / nf_tot, s_absyaw / nf_tot, s_pitch / nf_tot, s_fyaw / nf_tot, s_froll / nf_tot);
    return 0;
}

typedef double shape[MF_FACE_MESH_POINTS][3];

static void normalise(shape x) {
    double c[3] = {0}, ss = 0;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
        for (int k = 0; k < 3; k++) c[k] += x[i][k] / MF_FACE_MESH_POINTS;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
        for (int k = 0; k < 3; k++) x[i][k] -= c[k], ss += x[i][k] * x[i][k];
    ss = sqrt(ss / MF_FACE_MESH_POINTS);
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
        for (int k = 0; k < 3; k++) x[i][k] /= ss;
}

/* rotates x (centred) onto ref: x <- R x */
static void align_to(shape x, shape ref) {
    double S[3][3] = {{0}}, R[3][3];
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++) S[r][k] += x[i][r] * ref[i][k];
    mf_fit_rotation(S, R);
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        double v[3];
        for (int r = 0; r < 3; r++) v[r] = R[r][0] * x[i][0] + R[r][1] * x[i][1] + R[r][2] * x[i][2];
        memcpy(x[i], v, sizeof v);
    }
}

static const int midline[] = {10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0,
                               11, 12, 13, 14, 15, 16, 17, 18, 200, 199, 175, 152};
/* lids and the first ring, brows: they move with expression */
static const int moving[] = {246, 161, 160, 159, 158, 157, 173, 7, 163, 144, 145, 153, 154, 155,
                             466, 388, 387, 386, 385, 384, 398, 249, 390, 373, 374, 380, 381, 382,
                             247, 30, 29, 27, 28, 56, 190, 130, 25, 110, 24, 23, 22, 26, 112, 243,
                             467, 260, 259, 257, 258, 286, 414, 359, 255, 339, 254, 253, 252, 256, 341, 463,
                             156, 70, 63, 105, 66, 107, 55, 193, 35, 124, 46, 53, 52, 65,
                             383, 300, 293, 334, 296, 336, 285, 417, 265, 353, 276, 283, 282, 295};

/* template LIST: canonical rigid points from the best face of each listed image (C table on stdout). */
static int make_template(const char *list) {
    FILE *fl = fopen(list, "r");
    if (!fl) return 1;
    int cap = 1024, n = 0;
    shape *X = malloc(sizeof(shape) * cap), *raw = malloc(sizeof(shape) * cap);
    char path[2048];
    while (fgets(path, sizeof path, fl) && n < cap) {
        path[strcspn(path, "\n")] = 0;
        mf_img img;
        if (mf_img_load(path, NULL, &img, NULL)) continue;
        mf_face_box f[8];
        int nf;
        mf_face_detect(g_det, &img, f, 8, &nf);
        mf_face_landmarks lm;
        if (nf >= 1 && !mf_face_mesher_run(g_mesh, &img, &f[0], &lm) && lm.score > 0.9f) {
            for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
                for (int k = 0; k < 3; k++) X[n][i][k] = raw[n][i][k] = lm.pt[i][k];
            normalise(X[n]);
            n++;
        }
        mf_img_free(&img);
    }
    fclose(fl);
    fprintf(stderr, "%d faces\n", n);
    static shape M;
    memcpy(M, X[0], sizeof M);
    for (int it = 0; it < 10; it++) {
        for (int j = 0; j < n; j++) align_to(X[j], M);
        memset(M, 0, sizeof M);
        for (int j = 0; j < n; j++)
            for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
                for (int k = 0; k < 3; k++) M[i][k] += X[j][i][k] / n;
        normalise(M);
    }
    /* residual spread per point after alignment, in units of the shape's RMS radius */
    static double spread[MF_FACE_MESH_POINTS];
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        double ss = 0;
        for (int j = 0; j < n; j++)
            for (int k = 0; k < 3; k++) ss += (X[j][i][k] - M[i][k]) * (X[j][i][k] - M[i][k]);
        spread[i] = sqrt(ss / n);
    }
    /* symmetry plane: the midline points' plane (normal = least-variance direction) */
    int nm = sizeof midline / sizeof *midline;
    double c[3] = {0}, C[3][3] = {{0}}, w[3], V[3][3];
    for (int j = 0; j < nm; j++)
        for (int k = 0; k < 3; k++) c[k] += M[midline[j]][k] / nm;
    for (int j = 0; j < nm; j++)
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++) C[r][k] += (M[midline[j]][r] - c[r]) * (M[midline[j]][k] - c[k]);
    double Cf[9], Vf[9];
    for (int i = 0; i < 9; i++) Cf[i] = C[i / 3][i % 3];
    mf_sym_eigen(Cf, 3, w, Vf);
    for (int i = 0; i < 9; i++) V[i / 3][i % 3] = Vf[i];
    int mi = 0;
    for (int i = 1; i < 3; i++)
        if (w[i] < w[mi]) mi = i;
    double nx[3] = {V[0][mi], V[1][mi], V[2][mi]};
    if ((M[263][0] - M[33][0]) * nx[0] + (M[263][1] - M[33][1]) * nx[1] + (M[263][2] - M[33][2]) * nx[2] < 0)
        for (int k = 0; k < 3; k++) nx[k] = -nx[k];
    /* frame: x = normal, y = camera y made orthogonal, z = x cross y */
    double ny[3] = {0, 1, 0}, d = nx[1];
    for (int k = 0; k < 3; k++) ny[k] -= d * nx[k];
    double ln = sqrt(ny[0] * ny[0] + ny[1] * ny[1] + ny[2] * ny[2]);
    for (int k = 0; k < 3; k++) ny[k] /= ln;
    double nz[3] = {nx[1] * ny[2] - nx[2] * ny[1], nx[2] * ny[0] - nx[0] * ny[2], nx[0] * ny[1] - nx[1] * ny[0]};
    static shape F; /* M in the plane frame */
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        double v[3] = {M[i][0] - c[0], M[i][1] - c[1], M[i][2] - c[2]};
        F[i][0] = v[0] * nx[0] + v[1] * nx[1] + v[2] * nx[2];
        F[i][1] = v[0] * ny[0] + v[1] * ny[1] + v[2] * ny[2];
        F[i][2] = v[0] * nz[0] + v[1] * nz[1] + v[2] * nz[2];
    }
    /* mirror permutation by nearest neighbour of the reflected points */
    static int perm[MF_FACE_MESH_POINTS];
    double maxd = 0;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        double best = 1e30;
        for (int j = 0; j < MF_FACE_MESH_POINTS; j++) {
            double dx = F[i][0] + F[j][0], dy = F[i][1] - F[j][1], dz = F[i][2] - F[j][2], dd = dx * dx + dy * dy + dz * dz;
            if (dd < best) best = dd, perm[i] = j;
        }
        if (sqrt(best) > maxd) maxd = sqrt(best);
    }
    int bad = 0, fixed = 0;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) bad += perm[perm[i]] != i, fixed += perm[i] == i;
    fprintf(stderr, "mirror permutation: %d not involutive, %d on the midline, worst mismatch %.4f\n", bad, fixed, maxd);
    for (int j = 0; j < nm; j++)
        if (perm[midline[j]] != midline[j]) fprintf(stderr, "  midline %d maps to %d\n", midline[j], perm[midline[j]]);
    static const int chk[][2] = {{33, 263}, {133, 362}, {61, 291}, {159, 386}, {145, 374}, {234, 454}, {98, 327}};
    for (int j = 0; j < 7; j++)
        if (perm[chk[j][0]] != chk[j][1]) fprintf(stderr, "  %d maps to %d, not %d\n", chk[j][0], perm[chk[j][0]], chk[j][1]);
    /* symmetrise */
    static shape T;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        int j = perm[i];
        T[i][0] = 0.5 * (F[i][0] - F[j][0]), T[i][1] = 0.5 * (F[i][1] + F[j][1]), T[i][2] = 0.5 * (F[i][2] + F[j][2]);
    }
    {
        double q[MF_FACE_MESH_POINTS];
        memcpy(q, spread, sizeof q);
        for (int i = 0; i < MF_FACE_MESH_POINTS; i++)
            for (int j = i + 1; j < MF_FACE_MESH_POINTS; j++)
                if (q[j] < q[i]) { double t = q[i]; q[i] = q[j]; q[j] = t; }
        fprintf(stderr, "spread quantiles 10%% %.3f 25%% %.3f 50%% %.3f 75%% %.3f 90%% %.3f; 1 %.3f 33 %.3f 61 %.3f 152 %.3f 234 %.3f 10 %.3f 50 %.3f\n",
                q[46], q[117], q[234], q[351], q[421], spread[1], spread[33], spread[61], spread[152], spread[234], spread[10], spread[50]);
    }
    /* rigid subset: above the nose base, not lids/brows, spread below the median of those */
    static int sel[MF_FACE_MESH_POINTS];
    int ns = 0;
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
        int mv = 0;
        for (size_t j = 0; j < sizeof moving / sizeof *moving; j++) mv |= moving[j] == i;
        if (mv || T[i][1] > T[2][1] + 1e-9) continue;
        int mv2 = 0;
        for (size_t j = 0; j < sizeof moving / sizeof *moving; j++) mv2 |= moving[j] == perm[i];
        if (mv2 || fmax(spread[i], spread[perm[i]]) > g_spread_max) continue;
        sel[ns++] = i;
    }
    /* pitch zero = the mean over the set: fit every face to the rigid subset and rotate the template about x */
    double rc[3] = {0};
    for (int j = 0; j < ns; j++)
        for (int k = 0; k < 3; k++) rc[k] += T[sel[j]][k] / ns;
    for (int pass = 0; pass < 2; pass++) {
        double sy = 0, sp = 0, sr = 0, say = 0;
        for (int f = 0; f < n; f++) {
            mf_face_landmarks lm;
            memset(&lm, 0, sizeof lm);
            double oc[3] = {0};
            for (int j = 0; j < ns; j++)
                for (int k = 0; k < 3; k++) oc[k] += raw[f][sel[j]][k] / ns;
            double S[3][3] = {{0}}, R[3][3];
            for (int j = 0; j < ns; j++)
                for (int r = 0; r < 3; r++)
                    for (int k = 0; k < 3; k++) S[r][k] += (T[sel[j]][r] - rc[r]) * (raw[f][sel[j]][k] - oc[k]);
            mf_fit_rotation(S, R);
            float yw, pt, rl;
            rotation_to_euler(R, &yw, &pt, &rl);
            sy += yw, sp += pt, sr += rl, say += fabsf(yw);
        }
        sy /= n, sp /= n, sr /= n, say /= n;
        fprintf(stderr, "pass %d: mean yaw %.2f |yaw| %.2f pitch %.2f roll %.2f over %d faces, %d rigid points\n", pass, sy,
                say, sp, sr, n, ns);
        if (pass) break;
        /* observed = R T; a template rotated by the mean pitch makes the mean pitch zero. Looking up (pitch > 0)
         * turns the down axis (0,1,0) to (0, cos p, -sin p): rotate T the same way. */
        double a = sp * M_PI / 180, ca = cos(a), sa = sin(a);
        for (int i = 0; i < MF_FACE_MESH_POINTS; i++) {
            double y = T[i][1], z = T[i][2];
            T[i][1] = ca * y + sa * z, T[i][2] = -sa * y + ca * z;
        }
        for (int k = 0; k < 3; k++) rc[k] = 0;
        for (int j = 0; j < ns; j++)
            for (int k = 0; k < 3; k++) rc[k] += T[sel[j]][k] / ns;
    }
    /* C table, centred on the subset, scaled to the mesh's RMS radius 1 */
    printf("    /* BEGIN generated */\n");
    for (int j = 0; j < ns; j++)
        printf("    {%d, %.4ff, %.4ff, %.4ff},%s", sel[j], T[sel[j]][0] - rc[0], T[sel[j]][1] - rc[1], T[sel[j]][2] - rc[2],
               j % 3 == 2 ? "\n" : "");
    printf("\n    /* END generated */\n");
    printf("/* mirror:");
    for (int i = 0; i < MF_FACE_MESH_POINTS; i++) printf(" %d", perm[i]);
    printf(" */\n");
    free(X);
    free(raw);
    return 0;
}

/* fivept LIST: mesh 5 points expressed in the detection's eye frame (origin = detector mouth keypoint for the
 * mouth corners, eye keypoints for the eyes; unit = detector eye distance), and the mean |difference| of
 * mf_face_box_5pt against mf_face_landmarks_5pt. */
static int fivept(const char *list) {
    FILE *fl = fopen(list, "r");
    if (!fl) return 1;
    char path[2048];
    double su[5] = {0}, sv[5] = {0}, err[5] = {0};
    int n = 0;
    while (fgets(path, sizeof path, fl)) {
        path[strcspn(path, "\n")] = 0;
        mf_img img;
        if (mf_img_load(path, NULL, &img, NULL)) continue;
        mf_face_box f[8];
        int nf;
        mf_face_detect(g_det, &img, f, 8, &nf);
        mf_face_landmarks lm;
        if (nf >= 1 && !mf_face_mesher_run(g_mesh, &img, &f[0], &lm)) {
            float p5[5][2], b5[5][2];
            mf_face_landmarks_5pt(&lm, p5);
            mf_face_box_5pt(&f[0], b5);
            float ex = f[0].kp[1][0] - f[0].kp[0][0], ey = f[0].kp[1][1] - f[0].kp[0][1], d = hypotf(ex, ey);
            float ux = ex / d, uy = ey / d;
            static const int org[5] = {0, 1, 2, 3, 3};
            for (int k = 0; k < 5; k++) {
                float dx = p5[k][0] - f[0].kp[org[k]][0], dy = p5[k][1] - f[0].kp[org[k]][1];
                su[k] += (dx * ux + dy * uy) / d, sv[k] += (-dx * uy + dy * ux) / d;
                err[k] += hypotf(p5[k][0] - b5[k][0], p5[k][1] - b5[k][1]) / d;
            }
            n++;
        }
        mf_img_free(&img);
    }
    fclose(fl);
    for (int k = 0; k < 5; k++)
        printf("point %d: mesh - detector keypoint = (%.4f, %.4f) eye distances; |box_5pt - mesh 5pt| %.4f\n", k, su[k] / n,
               sv[k] / n, err[k] / n);
    return 0;
}

#include <time.h>
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* time IMAGE THREADS: ms per face for the mesh (all passes) and for the iris refinement */
static int timing(const char *path, int threads) {
    const char *models = getenv("MFMC_MODELS") ? getenv("MFMC_MODELS") : "models";
    const char *dir = models;
    mf_nn_pool_t *pool = NULL;
    if (threads > 1) mf_nn_pool_create(threads, &pool);
    mf_face_mesher_t *a, *b;
    if (mf_face_detector_create(dir, NULL, &g_det) || mf_face_mesher_create(dir, pool, 0, &a) ||
        mf_face_mesher_create(dir, pool, 1, &b))
        return 1;
    mf_img img;
    if (mf_img_load(path, NULL, &img, NULL)) return 1;
    mf_face_box f[32];
    int n;
    mf_face_detect(g_det, &img, f, 32, &n);
    mf_face_landmarks lm;
    for (int pass = 0; pass < 2; pass++) {
        mf_face_mesher_t *m = pass ? b : a;
        for (int i = 0; i < n; i++) mf_face_mesher_run(m, &img, &f[i], &lm); /* warm up */
        double t0 = now_ms();
        int reps = 20;
        for (int r = 0; r < reps; r++)
            for (int i = 0; i < n; i++) mf_face_mesher_run(m, &img, &f[i], &lm);
        printf("%s, %d thread(s): %.2f ms per face (%d faces)\n", pass ? "mesh + iris" : "mesh", threads,
               (now_ms() - t0) / (reps * n), n);
        if (pass) continue;
        /* parts: crop sampling and one network run */
        t0 = now_ms();
        for (int r = 0; r < reps; r++)
            for (int i = 0; i < n; i++) {
                roi q = roi_from_det(&f[i]);
                float A[6];
                roi_affine(&q, MESH_IN, A);
                sample_crop(&img, A, MESH_IN, 1.0f / 255.0f, mf_nn_plan_input(m->mesh_plan, 0, NULL));
            }
        double tc = (now_ms() - t0) / (reps * n);
        t0 = now_ms();
        for (int r = 0; r < reps * n; r++) mf_nn_plan_run(m->mesh_plan);
        printf("  crop %.2f ms, facemesh network %.2f ms\n", tc, (now_ms() - t0) / (reps * n));
    }
    mf_img_free(&img);
    mf_face_mesher_free(a);
    mf_face_mesher_free(b);
    mf_nn_pool_free(pool);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "time") == 0) return timing(argv[2], argc > 3 ? atoi(argv[3]) : 1);
    if (argc >= 3 && strcmp(argv[1], "fivept") == 0) {
        if (open_all(0)) return 1;
        return fivept(argv[2]);
    }
    if (argc >= 3 && strcmp(argv[1], "template") == 0) {
        if (open_all(0)) return 1;
        if (argc > 3) g_spread_max = atof(argv[3]);
        return make_template(argv[2]);
    }
    if (argc >= 3 && strcmp(argv[1], "measure") == 0) {
        /* measure LIST ALL_FACES SCALE PREFILTER PASSES [iris] */
        if (argc > 4) g_det_scale = (float)atof(argv[4]);
        if (argc > 5) g_prefilter = (float)atof(argv[5]);
        if (open_all(argc > 7 && strcmp(argv[7], "iris") == 0)) return 1;
        if (argc > 6) g_mesh->min_passes = atoi(argv[6]), g_mesh->max_passes = atoi(argv[6]);
        if (getenv("MAXPASS")) g_mesh->max_passes = atoi(getenv("MAXPASS"));
        if (getenv("TOL")) g_tol = (float)atof(getenv("TOL"));
        return measure(argv[2], argc > 3 && atoi(argv[3]));
    }
    if (argc >= 3 && strcmp(argv[1], "irischeck") == 0) {
        if (open_all(0)) return 1;
        for (int a = 2; a < argc; a++) {
            mf_img im;
            if (mf_img_load(argv[a], NULL, &im, NULL)) continue;
            mf_face_box fb[32];
            int nf;
            mf_face_detect(g_det, &im, fb, 32, &nf);
            iris_check(&im, fb, nf);
            mf_img_free(&im);
        }
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: mesh-viz draw IMAGE OUT.png [iris] | dump IMAGE [iris]\n");
        return 2;
    }
    int draw = strcmp(argv[1], "draw") == 0;
    int iris = argc > (draw ? 4 : 3) && strcmp(argv[draw ? 4 : 3], "iris") == 0;
    if (open_all(iris)) return 1;
    mf_img img;
    if (mf_img_load(argv[2], NULL, &img, NULL)) {
        fprintf(stderr, "%s\n", mf_error_get());
        return 1;
    }
    mf_face_box f[32];
    int n;
    mf_face_detect(g_det, &img, f, 32, &n);
    int r = img.w > 1000 ? 2 : 1;
    for (int i = 0; i < n; i++) {
        mf_face_landmarks lm;
        if (mf_face_mesher_run(g_mesh, &img, &f[i], &lm)) {
            fprintf(stderr, "%s\n", mf_error_get());
            return 1;
        }
        float p5[5][2];
        mf_face_landmarks_5pt(&lm, p5);
        printf("face %d det %.0f,%.0f %.0fx%.0f roll %.1f | score %.3f yaw %.1f pitch %.1f roll %.1f eyes %.2f %.2f "
               "mouth %.2f\n",
               i, f[i].x, f[i].y, f[i].w, f[i].h, f[i].roll * 57.29578f, lm.score, lm.yaw, lm.pitch, lm.roll,
               lm.eye_open[0], lm.eye_open[1], lm.mouth_open);
        if (!draw) {
            static const int sel[] = {1, 33, 133, 263, 362, 61, 291, 13, 14, 159, 145, 386, 374, 10, 152, 234, 454};
            for (size_t k = 0; k < sizeof sel / sizeof *sel; k++)
                printf("   %3d: %7.1f %7.1f %7.1f\n", sel[k], lm.pt[sel[k]][0], lm.pt[sel[k]][1], lm.pt[sel[k]][2]);
            continue;
        }
        for (int k = 0; k < MF_FACE_MESH_POINTS; k++) dot(&img, lm.pt[k][0], lm.pt[k][1], r - 1, 255, 255, 255);
        for (int e = 0; e < 2; e++)
            for (int j = 0; j < 16; j++)
                dot(&img, lm.pt[eye_contour[e][j]][0], lm.pt[eye_contour[e][j]][1], r, e ? 0 : 255, e ? 255 : 0, 0);
        if (lm.has_iris)
            for (int e = 0; e < 2; e++)
                for (int j = 0; j < 5; j++) dot(&img, lm.iris[e][j][0], lm.iris[e][j][1], r, 0, 200, 255);
        for (int k = 0; k < 5; k++) dot(&img, p5[k][0], p5[k][1], r + 2, 255, 255 * (k & 1), 0);
        line(&img, lm.box.x, lm.box.y, lm.box.x + lm.box.w, lm.box.y, 255, 255, 0);
        line(&img, lm.box.x, lm.box.y + lm.box.h, lm.box.x + lm.box.w, lm.box.y + lm.box.h, 255, 255, 0);
        line(&img, lm.box.x, lm.box.y, lm.box.x, lm.box.y + lm.box.h, 255, 255, 0);
        line(&img, lm.box.x + lm.box.w, lm.box.y, lm.box.x + lm.box.w, lm.box.y + lm.box.h, 255, 255, 0);
    }
    if (draw && mf_img_save(&img, argv[3], 90)) fprintf(stderr, "%s\n", mf_error_get());
    /* one enlarged picture per face next to OUT: OUT.faceN.png */
    for (int i = 0; draw && i < n; i++) {
        float s = 1.4f * fmaxf(f[i].w, f[i].h), cx = f[i].x + f[i].w / 2, cy = f[i].y + f[i].h / 2;
        int x0 = (int)fmaxf(0, cx - s / 2), y0 = (int)fmaxf(0, cy - s / 2);
        int x1 = (int)fminf((float)img.w, cx + s / 2), y1 = (int)fminf((float)img.h, cy + s / 2);
        mf_img c, z;
        if (mf_img_crop(&img, x0, y0, x1 - x0, y1 - y0, &c)) continue;
        float zf = 600.0f / (float)(x1 - x0);
        if (!mf_img_resize(&c, (int)((x1 - x0) * zf), (int)((y1 - y0) * zf), &z)) {
            char p[1100];
            snprintf(p, sizeof p, "%s.face%d.png", argv[3], i);
            mf_img_save(&z, p, 90);
            mf_img_free(&z);
        }
        mf_img_free(&c);
    }
    mf_img_free(&img);
    mf_face_mesher_free(g_mesh);
    mf_face_detector_free(g_det);
    return 0;
}
