/* Debugging aid for src/face/mesh.c (not built by the Makefile):
 *   cc -O2 -D_DEFAULT_SOURCE -Iinclude -Isrc tools/mesh-viz.c -o /tmp/mesh-viz build/rel/libmfmc.a \
 *      $(pkg-config --libs libcjson libjpeg libpng libwebp) -lpthread -lm
 *   /tmp/mesh-viz draw IMAGE OUT.png [iris]   annotated picture (write it to /tmp, never commit it)
 *   /tmp/mesh-viz dump IMAGE [iris]           detections, scores, pose, expression, selected points
 * It includes mesh.c to reach its internals. */
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
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/human", models);
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
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/human", models);
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

int main(int argc, char **argv) {
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
